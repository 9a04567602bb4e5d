/* careclock calc: date arithmetic on the council's working-day calendar. */
#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "cli/cli.h"
#include "careclock/error.h"
#include "careclock/offset.h"
#include "careclock/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALC_MAX_ITEMS 64

static void calc_usage(FILE *out)
{
    fputs("usage: careclock calc DATE OFFSET [OFFSET ...] [--division D] [--holidays FILE.ics ...] [--explain]\n"
          "       careclock calc --between DATE1 DATE2 [--division D] [--holidays FILE.ics ...]\n"
          "  DATE    YYYY-MM-DD or DD/MM/YYYY\n"
          "  OFFSET  +Nwd -Nwd (working days), +Nd (days), +Nw (weeks), +Nm (months), or negatives\n"
          "  D       england-and-wales (default), scotland or northern-ireland\n",
          out);
}

static void warn_uncovered(const cc_calendar_t *cal)
{
    int first, last;
    cc_calendar_coverage(cal, &first, &last);
    if (first == 0)
        fprintf(stderr, "careclock calc: warning: the holiday calendar covers no years; "
                        "only weekends were skipped\n");
    else
        fprintf(stderr,
                "careclock calc: warning: the answer reaches outside %d-%d, the years the holiday calendar "
                "covers; only weekends were skipped there\n",
                first, last);
}

static int parse_date_arg(const char *what, const char *text, cc_date_t *out)
{
    if (cc_date_parse(text, out) == 0)
        return 0;
    fprintf(stderr, "careclock calc: %s \"%s\" is not a valid date (expected YYYY-MM-DD or DD/MM/YYYY)\n", what,
            text);
    return CC_EINVAL;
}

int cc_cli_calc(cc_cli_t *cli, int argc, char **argv)
{
    const char *division = "england-and-wales";
    const char *extra[CALC_MAX_ITEMS];
    const char *words[CALC_MAX_ITEMS];
    size_t nextra = 0, nwords = 0;
    int explain = 0, between = 0, status = CC_EXIT_OK;
    cc_calendar_t *cal = NULL;
    cc_buf_t text;
    char err[512], dir[PATH_MAX];
    (void)cli;
    cc_buf_init(&text);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            calc_usage(stdout);
            return CC_EXIT_OK;
        } else if (strcmp(a, "--explain") == 0) {
            explain = 1;
        } else if (strcmp(a, "--between") == 0) {
            between = 1;
        } else if (strcmp(a, "--division") == 0 || strcmp(a, "--holidays") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "careclock calc: %s needs a value\n", a);
                return CC_EXIT_USAGE;
            }
            if (a[2] == 'd')
                division = argv[++i];
            else if (nextra < CALC_MAX_ITEMS)
                extra[nextra++] = argv[++i];
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "careclock calc: unknown option \"%s\"\n", a);
            calc_usage(stderr);
            return CC_EXIT_USAGE;
        } else if (nwords < CALC_MAX_ITEMS) {
            words[nwords++] = a;
        } else {
            fprintf(stderr, "careclock calc: too many arguments (at most %d)\n", CALC_MAX_ITEMS);
            return CC_EXIT_USAGE;
        }
    }
    if (between ? nwords != 2 : nwords < 2) {
        fprintf(stderr, "careclock calc: %s\n", between ? "--between needs exactly two dates"
                                                        : "needs a date and at least one offset");
        calc_usage(stderr);
        return CC_EXIT_USAGE;
    }

    /* Validate every argument before loading anything. */
    cc_date_t start, second = 0;
    cc_offset_t offsets[CALC_MAX_ITEMS];
    if (parse_date_arg(between ? "DATE1" : "DATE", words[0], &start) != 0)
        return CC_EXIT_USAGE;
    if (between && parse_date_arg("DATE2", words[1], &second) != 0)
        return CC_EXIT_USAGE;
    for (size_t i = 1; !between && i < nwords; i++) {
        if (cc_offset_parse(words[i], 1, &offsets[i]) != 0) {
            fprintf(stderr,
                    "careclock calc: offset \"%s\" is not valid (expected +Nwd, -Nwd, +Nd, +Nw or +Nm, "
                    "N at most %d)\n",
                    words[i], CC_OFFSET_MAX);
            return CC_EXIT_USAGE;
        }
    }

    cc_paths_datadir(dir, sizeof(dir));
    char holiday_dir[PATH_MAX + 16];
    snprintf(holiday_dir, sizeof(holiday_dir), "%s/holidays", dir);
    int rc = cc_holidays_open(holiday_dir, division, extra, nextra, &cal, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "careclock calc: %s\n", err);
        return rc == CC_EINVAL ? CC_EXIT_USAGE : CC_EXIT_FAIL;
    }

    int uncovered = !cc_calendar_covers(cal, start);
    if (between) {
        int count = 0;
        rc = cc_calendar_working_days_between(cal, start, second, &count);
        if (rc == 0 || rc == CC_EUNCOVERED) {
            uncovered |= rc == CC_EUNCOVERED;
            printf("%d\n", count);
        }
    } else {
        cc_date_t d = start;
        char iso[CC_DATE_STRLEN], human[32], off[24];
        if (explain)
            cc_buf_printf(&text, "start: %s (%s)\n", cc_date_format_human(d, human, sizeof(human)),
                          cc_date_format(d, iso));
        for (size_t i = 1; i < nwords; i++) {
            cc_date_t next;
            if (explain) {
                cc_buf_printf(&text, "step %zu: %s\n", i, cc_offset_format(offsets[i], off, sizeof(off)));
                rc = cc_offset_explain(cal, d, offsets[i], "  ", &text, &next);
            } else {
                rc = cc_offset_apply(cal, d, offsets[i], &next);
            }
            if (rc != 0 && rc != CC_EUNCOVERED)
                break;
            uncovered |= rc == CC_EUNCOVERED || !cc_calendar_covers(cal, next);
            d = next;
            rc = 0;
        }
        if (rc == 0)
            printf("%s\n", cc_date_format(d, iso));
    }
    if (rc != 0 && rc != CC_EUNCOVERED) {
        fprintf(stderr, "careclock calc: the answer falls outside %d-%d, the years careclock can count\n",
                CC_CALENDAR_FIRST_YEAR, CC_CALENDAR_LAST_YEAR);
        status = CC_EXIT_USAGE;
        goto out;
    }
    if (explain)
        fputs(cc_buf_str(&text), stderr);
    if (uncovered) {
        warn_uncovered(cal);
        status = CC_EXIT_UNCOVERED;
    }
out:
    cc_buf_free(&text);
    cc_calendar_free(cal);
    return status;
}
