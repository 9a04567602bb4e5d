/* careclock report timeliness: refresh the clocks as `clocks` does, then
 * the figures per clock and team (daemon/store/report.c). */
#include "cli/cli.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/people.h"
#include "careclock/report.h"

#include <stdio.h>
#include <string.h>

static const char REPORT_USAGE[] =
    "usage: careclock report timeliness [--from DATE] [--to DATE] [--team ID] [--clock ID]\n"
    "                                   [--by month|quarter|year] [--worker]\n"
    "                                   [--format table|csv|json] [--detail]\n"
    "  clocks whose due date falls in [--from, --to] (default: from the earliest, to today), per clock\n"
    "  and team: due, met on time, met late, still overdue, not yet due, cancelled (reported apart),\n"
    "  and on time % = met on time / (met on time + met late + overdue), to one decimal place.\n"
    "  A clock counts for the team and worker who held the child on its due date (--team too).\n"
    "  --by       one set of figures per month, quarter or year (April to March: 2026-27 Q1 is\n"
    "             April to June 2026)\n"
    "  --worker   one set of figures per worker within each team\n"
    "  --detail   the clock instances behind every figure (with --format csv: one row per instance),\n"
    "             days late in calendar days and in working days\n"
    "  Exit 3, with a warning, when the period reaches outside the holiday calendar's years.\n";

int cc_cli_report(cc_cli_t *cli, int argc, char **argv)
{
    cc_report_opts_t o = {.from = CC_DATE_NONE, .to = cli->today};
    const char *format = "table";
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    cc_report_t report;
    cc_buf_t text;
    int status, rc;
    memset(&report, 0, sizeof(report));
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(REPORT_USAGE, stdout);
        return CC_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "timeliness") != 0) {
        if (argc < 2)
            fprintf(stderr, "careclock report: needs a report name (timeliness)\n");
        else
            fprintf(stderr, "careclock report: unknown report \"%s\" (the one report is timeliness)\n", argv[1]);
        fputs(REPORT_USAGE, stderr);
        return CC_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(REPORT_USAGE, stdout);
            return CC_EXIT_OK;
        }
        if (strcmp(a, "--detail") == 0) {
            o.detail = 1;
            continue;
        }
        if (strcmp(a, "--worker") == 0) {
            o.by_worker = 1;
            continue;
        }
        int known = strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0 || strcmp(a, "--team") == 0 ||
                    strcmp(a, "--clock") == 0 || strcmp(a, "--format") == 0 || strcmp(a, "--by") == 0;
        if (!known || i + 1 >= argc) {
            fprintf(stderr, "careclock report timeliness: %s \"%s\"\n", known ? "missing value for" : "unknown option",
                    a);
            fputs(REPORT_USAGE, stderr);
            return CC_EXIT_USAGE;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) {
            cc_date_t d;
            if (cc_date_parse(v, &d) != 0) {
                fprintf(stderr,
                        "careclock report timeliness: %s \"%s\" is not a valid date (expected YYYY-MM-DD or "
                        "DD/MM/YYYY, a day that exists)\n",
                        a, v);
                return CC_EXIT_USAGE;
            }
            if (a[2] == 'f')
                o.from = d;
            else
                o.to = d;
        } else if (strcmp(a, "--team") == 0) {
            o.team = v;
        } else if (strcmp(a, "--clock") == 0) {
            o.clock = v;
        } else if (strcmp(a, "--by") == 0) {
            int by = cc_report_by_parse(v);
            if (by < 0) {
                fprintf(stderr, "careclock report timeliness: --by \"%s\" is not month, quarter or year\n", v);
                return CC_EXIT_USAGE;
            }
            o.by = (cc_report_by_t)by;
        } else {
            if (strcmp(v, "table") && strcmp(v, "csv") && strcmp(v, "json")) {
                fprintf(stderr, "careclock report timeliness: --format \"%s\" is not table, csv or json\n", v);
                return CC_EXIT_USAGE;
            }
            format = v;
        }
    }
    if (o.from != CC_DATE_NONE && o.from > o.to) {
        char a[CC_DATE_STRLEN], b[CC_DATE_STRLEN];
        fprintf(stderr, "careclock report timeliness: --from %s is after --to %s\n", cc_date_format(o.from, a),
                cc_date_format(o.to, b));
        return CC_EXIT_USAGE;
    }
    if ((status = cc_cli_env_load(cli, &env)) != 0)
        return status;
    cc_buf_init(&text);
    if (o.clock != NULL && cc_cli_find_clock(&env, "report timeliness", o.clock) == NULL) {
        status = CC_EXIT_USAGE;
        goto out;
    }
    if ((status = cc_cli_open_db(cli, &store)) != 0)
        goto out;
    if (o.team != NULL) {
        rc = cc_store_team_exists(store, o.team);
        if (rc != 1) {
            if (rc == 0)
                fprintf(stderr, "careclock report timeliness: team \"%s\" does not exist\n", o.team);
            else
                fprintf(stderr, "careclock report timeliness: database error\n");
            status = rc == 0 ? CC_EXIT_USAGE : CC_EXIT_FAIL;
            goto out;
        }
    }
    if ((status = cc_cli_refresh(cli, &env, store)) != 0)
        goto out;
    rc = cc_report_build(store, env.rules, env.cal, &o, cli->today, &report);
    if (rc == 0)
        rc = strcmp(format, "csv") == 0    ? cc_report_csv(&report, &text)
             : strcmp(format, "json") == 0 ? cc_report_json(&report, &text)
                                           : cc_report_table(&report, &text);
    if (rc != 0) {
        fprintf(stderr, "careclock report timeliness: %s (%s)\n", cc_strerror(rc),
                cc_store_errmsg(store, NULL));
        status = CC_EXIT_FAIL;
        goto out;
    }
    fwrite(text.data ? text.data : "", 1, text.len, stdout);
    /* The period's first day is --from, else the earliest due date counted. */
    cc_date_t first = o.from != CC_DATE_NONE ? o.from : report.earliest_due;
    if ((first != CC_DATE_NONE && !cc_calendar_covers(env.cal, first)) || !cc_calendar_covers(env.cal, o.to)) {
        int y1, y2;
        char a[CC_DATE_STRLEN], b[CC_DATE_STRLEN];
        cc_calendar_coverage(env.cal, &y1, &y2);
        fprintf(stderr,
                "careclock report timeliness: warning: the period %s to %s reaches outside %d-%d, the years the "
                "holiday calendar covers; working days there skip weekends only, so due dates and statuses there "
                "may be wrong\n",
                first != CC_DATE_NONE ? cc_date_format(first, a) : "(none)", cc_date_format(o.to, b), y1, y2);
        status = CC_EXIT_UNCOVERED;
    }
    if (report.data_errors > 0 && strcmp(format, "table") != 0)
        fprintf(stderr,
                "careclock report timeliness: warning: %zu child%s whose data cannot be evaluated %s not counted "
                "(careclock clocks --status data_error)\n",
                report.data_errors, report.data_errors == 1 ? "" : "ren", report.data_errors == 1 ? "is" : "are");
out:
    cc_report_free(&report);
    cc_buf_free(&text);
    cc_store_close(store);
    cc_cli_env_free(&env);
    return status;
}
