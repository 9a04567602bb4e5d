/* careclock clocks | explain | rules check: reading the statutory clocks. */
#include "careclock/buf.h"
#include "cli/cli.h"
#include "careclock/csv.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"
#include "careclock/people.h"
#include "careclock/rulefiles.h"
#include "careclock/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STATUS_FILTER CC_STATUS_COUNT

/* ---- output ---- */

enum { COL_CHILD, COL_CLOCK, COL_SEQ, COL_TITLE, COL_START, COL_DUE, COL_STATUS, COL_MET, COL_WORKER, COL_TEAM,
       COL_SOURCE, COL_REASON, NCOLS };
static const char *const col_names[NCOLS] = {"child", "clock", "seq", "title", "start", "due", "status", "met_on",
                                             "worker", "team", "source", "reason"};

static const char *col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

/* The listing is built from fixed fragments: the WHERE clause holds the
 * condition of each filter given, and only those, each with its own
 * parameter number (values are always bound, never written into the SQL).
 * One statement for every case, "(?1 IS NULL OR c.child_id = ?1) AND ...",
 * could use no index: every listing read all the clocks of the council, 18 s
 * a pass for --child at 100,000 children. Now --child reads the child's
 * clocks through the primary key, --team and --worker go through
 * children_by_team and children_by_worker, and --status alone through
 * clocks_by_status. The ORDER BY ends with the primary key, so the order of
 * the rows does not depend on the plan. */
#define STATUS_PARAM 4 /* --status S1,S2,... binds ?4, ?5, ... */

enum { F_CHILD, F_TEAM, F_WORKER, F_STATUS, NFILTERS };

static const char *const list_select =
    "SELECT c.child_id, c.rule_id, c.seq, c.title, c.start_date, c.due_date, c.status, c.met_on, ch.worker_id, "
    "ch.team_id, c.source, c.reason FROM clocks c JOIN children ch ON ch.id = c.child_id";
static const char *const list_where[NFILTERS] = {
    [F_CHILD] = "c.child_id = ?1",
    [F_TEAM] = "ch.team_id = ?2",
    [F_WORKER] = "ch.worker_id = ?3",
    [F_STATUS] = "c.status IN (?4, ?5, ?6, ?7, ?8, ?9, ?10)",
};
static const char *const list_order =
    " ORDER BY CASE c.status WHEN 'overdue' THEN 0 WHEN 'data_error' THEN 1 WHEN 'due_soon' THEN 2 WHEN 'open' "
    "THEN 3 WHEN 'met_late' THEN 4 WHEN 'met' THEN 5 ELSE 6 END, c.due_date, c.child_id, c.rule_id, c.seq";

_Static_assert(MAX_STATUS_FILTER == 7, "list_where[F_STATUS] has one parameter per status, ?4 to ?10");

typedef struct {
    const char *child, *team, *worker;
    const char *statuses[MAX_STATUS_FILTER];
    size_t nstatuses;
    const char *format;
    int cached;
} list_opts_t;

static int print_table(sqlite3_stmt *st, FILE *out)
{
    /* Two passes: widths, then rows. */
    static const int shown[] = {COL_CHILD, COL_CLOCK, COL_SEQ, COL_DUE, COL_STATUS, COL_MET, COL_START, COL_WORKER,
                                COL_TEAM, COL_TITLE};
    size_t nshown = sizeof(shown) / sizeof(shown[0]);
    int width[NCOLS] = {0};
    int step, rows = 0;
    for (size_t i = 0; i < nshown; i++)
        width[shown[i]] = (int)strlen(col_names[shown[i]]);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        for (size_t i = 0; i < nshown; i++) {
            int w = (int)strlen(col(st, shown[i]));
            if (w > width[shown[i]])
                width[shown[i]] = w;
        }
    }
    if (step != SQLITE_DONE)
        return CC_EDB;
    sqlite3_reset(st);
    for (size_t i = 0; i < nshown; i++)
        fprintf(out, "%-*s%s", shown[i] == COL_TITLE ? 0 : width[shown[i]], col_names[shown[i]],
                i + 1 < nshown ? "  " : "\n");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        for (size_t i = 0; i < nshown; i++) {
            const char *v = col(st, shown[i]);
            if (shown[i] == COL_TITLE && strcmp(col(st, COL_STATUS), "data_error") == 0)
                v = col(st, COL_REASON);
            fprintf(out, "%-*s%s", shown[i] == COL_TITLE ? 0 : width[shown[i]], v, i + 1 < nshown ? "  " : "\n");
        }
    }
    fprintf(out, "(%d clock%s)\n", rows, rows == 1 ? "" : "s");
    return step == SQLITE_DONE ? 0 : CC_EDB;
}

static int print_csv(sqlite3_stmt *st, FILE *out)
{
    int step;
    for (int i = 0; i < NCOLS; i++) {
        cc_csv_fput(out, col_names[i]);
        fputs(i + 1 < NCOLS ? "," : "\r\n", out);
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        for (int i = 0; i < NCOLS; i++) {
            cc_csv_fput(out, col(st, i));
            fputs(i + 1 < NCOLS ? "," : "\r\n", out);
        }
    return step == SQLITE_DONE ? 0 : CC_EDB;
}

static int print_json(sqlite3_stmt *st, FILE *out)
{
    json_t *arr = json_array();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < NCOLS; i++) {
            if (i == COL_SEQ)
                json_object_set_new(o, col_names[i], json_integer(sqlite3_column_int(st, i)));
            else if (sqlite3_column_type(st, i) == SQLITE_NULL)
                json_object_set_new(o, col_names[i], json_null());
            else
                json_object_set_new(o, col_names[i], json_string(col(st, i)));
        }
        json_array_append_new(arr, o);
    }
    char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text != NULL) {
        fputs(text, out);
        fputc('\n', out);
    }
    free(text);
    json_decref(arr);
    return step == SQLITE_DONE && text != NULL ? 0 : CC_EDB;
}

static void clocks_usage(FILE *out)
{
    fputs("usage: careclock clocks [--child ID] [--team ID] [--worker ID] [--status S[,S...]]\n"
          "                        [--format table|json|csv] [--cached]\n"
          "  S: open, due_soon, overdue, met, met_late, cancelled, data_error\n"
          "  --cached  list the clocks table as it stands (as the daemon wrote it), without recomputing\n",
          out);
}

static int parse_list_opts(int argc, char **argv, list_opts_t *o, char *statuses_buf, size_t buflen)
{
    memset(o, 0, sizeof(*o));
    o->format = "table";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            clocks_usage(stdout);
            return -1;
        }
        if (strcmp(a, "--cached") == 0) {
            o->cached = 1;
            continue;
        }
        if (i + 1 >= argc || (strcmp(a, "--child") && strcmp(a, "--team") && strcmp(a, "--worker") &&
                              strcmp(a, "--status") && strcmp(a, "--format"))) {
            fprintf(stderr, "careclock clocks: %s \"%s\"\n", i + 1 >= argc ? "missing value for" : "unknown option",
                    a);
            clocks_usage(stderr);
            return CC_EXIT_USAGE;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--child") == 0)
            o->child = v;
        else if (strcmp(a, "--team") == 0)
            o->team = v;
        else if (strcmp(a, "--worker") == 0)
            o->worker = v;
        else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "table") && strcmp(v, "json") && strcmp(v, "csv")) {
                fprintf(stderr, "careclock clocks: --format \"%s\" is not table, json or csv\n", v);
                return CC_EXIT_USAGE;
            }
            o->format = v;
        } else {
            snprintf(statuses_buf, buflen, "%s", v);
            o->nstatuses = 0;
            for (char *save = NULL, *tok = strtok_r(statuses_buf, ",", &save); tok;
                 tok = strtok_r(NULL, ",", &save)) {
                if (cc_status_parse(tok) < 0) {
                    fprintf(stderr,
                            "careclock clocks: --status \"%s\" is not one of open, due_soon, overdue, met, "
                            "met_late, cancelled, data_error\n",
                            tok);
                    return CC_EXIT_USAGE;
                }
                if (o->nstatuses < MAX_STATUS_FILTER)
                    o->statuses[o->nstatuses++] = tok;
            }
        }
    }
    return 0;
}

/* An id given as a filter must exist: a typo must not look like "no clocks". */
static int check_exists(cc_store_t *store, const char *what, const char *id, int (*exists)(cc_store_t *, const char *))
{
    if (id == NULL)
        return 0;
    int r = exists(store, id);
    if (r == 1)
        return 0;
    if (r == 0)
        fprintf(stderr, "careclock clocks: %s \"%s\" does not exist\n", what, id);
    else
        fprintf(stderr, "careclock clocks: database error\n");
    return r == 0 ? CC_EXIT_USAGE : CC_EXIT_FAIL;
}

/* Prepare the listing for the filters of o, with their values bound.
 * Returns 0, or an exit status after saying why on stderr. */
static int prepare_list(cc_store_t *store, const list_opts_t *o, sqlite3_stmt **st)
{
    const int given[NFILTERS] = {o->child != NULL, o->team != NULL, o->worker != NULL, o->nstatuses > 0};
    cc_buf_t sql;
    int rc, nwhere = 0;
    cc_buf_init(&sql);
    rc = cc_buf_puts(&sql, list_select);
    for (int i = 0; rc == 0 && i < NFILTERS; i++)
        if (given[i] && (rc = cc_buf_puts(&sql, nwhere++ == 0 ? " WHERE " : " AND ")) == 0)
            rc = cc_buf_puts(&sql, list_where[i]);
    if (rc == 0)
        rc = cc_buf_puts(&sql, list_order);
    if (rc != 0) {
        fprintf(stderr, "careclock clocks: %s\n", cc_strerror(rc));
        cc_buf_free(&sql);
        return CC_EXIT_FAIL;
    }
    rc = sqlite3_prepare_v2(cc_store_db(store), cc_buf_str(&sql), -1, st, NULL);
    cc_buf_free(&sql);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "careclock clocks: %s\n", cc_store_errmsg(store, NULL));
        return CC_EXIT_FAIL;
    }
    /* Each parameter is bound only when its fragment is in the statement. */
    if (o->child)
        sqlite3_bind_text(*st, 1, o->child, -1, SQLITE_STATIC);
    if (o->team)
        sqlite3_bind_text(*st, 2, o->team, -1, SQLITE_STATIC);
    if (o->worker)
        sqlite3_bind_text(*st, 3, o->worker, -1, SQLITE_STATIC);
    for (size_t i = 0; i < o->nstatuses; i++)
        sqlite3_bind_text(*st, STATUS_PARAM + (int)i, o->statuses[i], -1, SQLITE_STATIC);
    return 0;
}

int cc_cli_clocks(cc_cli_t *cli, int argc, char **argv)
{
    list_opts_t o;
    char statuses[256];
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    sqlite3_stmt *st = NULL;
    int status = parse_list_opts(argc, argv, &o, statuses, sizeof(statuses));
    if (status != 0)
        return status < 0 ? CC_EXIT_OK : status;
    status = cc_cli_env_load(cli, &env);
    if (status != 0)
        return status;
    status = cc_cli_open_db(cli, &store);
    if (status != 0)
        goto out;
    if ((status = check_exists(store, "child", o.child, cc_store_child_exists)) != 0 ||
        (status = check_exists(store, "team", o.team, cc_store_team_exists)) != 0 ||
        (status = check_exists(store, "staff member", o.worker, cc_store_staff_exists)) != 0)
        goto out;
    if (!o.cached && (status = cc_cli_refresh(cli, &env, store)) != 0)
        goto out;
    if ((status = prepare_list(store, &o, &st)) != 0)
        goto out;
    int rc = strcmp(o.format, "json") == 0  ? print_json(st, stdout)
             : strcmp(o.format, "csv") == 0 ? print_csv(st, stdout)
                                            : print_table(st, stdout);
    if (rc != 0) {
        fprintf(stderr, "careclock clocks: %s\n", cc_store_errmsg(store, NULL));
        status = CC_EXIT_FAIL;
    }
out:
    sqlite3_finalize(st);
    cc_store_close(store);
    cc_cli_env_free(&env);
    return status;
}

int cc_cli_explain(cc_cli_t *cli, int argc, char **argv)
{
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    cc_eval_child_t child = {0};
    cc_clocks_t clocks;
    cc_buf_t text;
    int seq = 0, status;
    char tail;
    cc_clocks_init(&clocks);
    cc_buf_init(&text);
    if (argc < 3 || argc > 4 || (argc == 4 && (sscanf(argv[3], "%d%c", &seq, &tail) != 1 || seq < 1))) {
        fprintf(stderr, "usage: careclock explain CHILD_ID CLOCK [SEQ]\n%s", argc == 4 ? "  SEQ is a number from 1\n" : "");
        return CC_EXIT_USAGE;
    }
    status = cc_cli_env_load(cli, &env);
    if (status != 0)
        return status;
    const char *child_id = argv[1], *clock_id = argv[2];
    const cc_rule_t *rule = cc_ruleset_find(env.rules, clock_id);
    if (rule == NULL && strcmp(clock_id, CC_DATA_ERROR_RULE) != 0) {
        fprintf(stderr, "careclock explain: no clock \"%s\"; the clocks are:", clock_id);
        for (size_t i = 0; i < cc_ruleset_count(env.rules); i++)
            fprintf(stderr, " %s", cc_ruleset_rule(env.rules, i)->id);
        fputc('\n', stderr);
        status = CC_EXIT_USAGE;
        goto out;
    }
    if ((status = cc_cli_open_db(cli, &store)) != 0)
        goto out;
    int rc = cc_evaluate_load_child(store, env.rules, child_id, &child);
    if (rc != 0) {
        fprintf(stderr, "careclock explain: %s\n", rc == CC_ENOTFOUND ? "no such child" : cc_strerror(rc));
        if (rc == CC_ENOTFOUND)
            fprintf(stderr, "careclock explain: child \"%s\" does not exist\n", child_id);
        status = rc == CC_ENOTFOUND ? CC_EXIT_USAGE : CC_EXIT_FAIL;
        goto out;
    }
    rc = cc_engine_run(env.rules, env.cal, cli->today, &child.child, child.events, child.nevents, &clocks);
    if (rc != 0) {
        fprintf(stderr, "careclock explain: %s\n", cc_strerror(rc));
        status = CC_EXIT_FAIL;
        goto out;
    }
    long found = -1;
    int count = 0;
    for (size_t i = 0; i < clocks.len; i++) {
        const cc_clock_t *c = &clocks.items[i];
        if (c->status == CC_STATUS_DATA_ERROR) {
            found = (long)i;
            break;
        }
        if (cc_ruleset_rule(env.rules, (size_t)c->rule) == rule) {
            count++;
            if (seq == 0 ? found < 0 || c->status != CC_STATUS_MET : c->seq == seq)
                found = (long)i;
        }
    }
    if (found < 0 && count == 0 && rule != NULL) {
        /* Starting events that started nothing: say why (no plan at the
         * conference, a child looked after from 15, ...). */
        rc = cc_engine_explain_none(env.rules, env.cal, &child.child, child.events, child.nevents, rule, &text);
        if (rc == 0) {
            fputs(cc_buf_str(&text), stdout);
            status = CC_EXIT_OK;
            goto out;
        }
        if (rc != CC_ENOTFOUND) {
            fprintf(stderr, "careclock explain: %s\n", cc_strerror(rc));
            status = CC_EXIT_FAIL;
            goto out;
        }
    }
    if (found < 0) {
        if (count == 0)
            fprintf(stderr, "careclock explain: child %s has no %s clock (nothing has started it)\n", child_id,
                    clock_id);
        else
            fprintf(stderr, "careclock explain: child %s has %d %s clock(s); there is no number %d\n", child_id,
                    count, clock_id, seq);
        status = CC_EXIT_USAGE;
        goto out;
    }
    rc = cc_engine_explain(env.rules, env.cal, cli->today, &child.child, child.events, child.nevents, &clocks,
                           (size_t)found, &text);
    fputs(cc_buf_str(&text), stdout);
    status = rc == 0 ? CC_EXIT_OK : CC_EXIT_FAIL;
out:
    cc_buf_free(&text);
    cc_clocks_free(&clocks);
    cc_evaluate_child_free(&child);
    cc_store_close(store);
    cc_cli_env_free(&env);
    return status;
}

int cc_cli_rules(cc_cli_t *cli, int argc, char **argv)
{
    (void)cli;
    if (argc < 3 || strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "usage: careclock rules check FILE...\n"
                        "  validates rule files, loaded in order as careclock would (later files override)\n");
        return CC_EXIT_USAGE;
    }
    cc_buf_t report;
    cc_buf_init(&report);
    int errors = cc_rulefiles_check((const char *const *)argv + 2, (size_t)argc - 2, &report);
    if (errors > 0) {
        fputs(cc_buf_str(&report), stderr);
        fprintf(stderr, "careclock rules check: %d error%s\n", errors, errors == 1 ? "" : "s");
    } else {
        char err[256];
        cc_ruleset_t *rs = NULL;
        cc_rulefiles_load((const char *const *)argv + 2, (size_t)argc - 2, &rs, err, sizeof(err));
        printf("%zu rules, %zu event types: OK\n", rs ? cc_ruleset_count(rs) : 0, rs ? cc_ruleset_type_count(rs) : 0);
        cc_ruleset_free(rs);
    }
    cc_buf_free(&report);
    return errors > 0 ? CC_EXIT_USAGE : CC_EXIT_OK;
}
