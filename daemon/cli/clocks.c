/* careclock clocks | explain | rules check: reading the statutory clocks. */
#include "careclock/buf.h"
#include "cli/cli.h"
#include "careclock/clocks.h"
#include "careclock/csv.h"
#include "careclock/decisions.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"
#include "careclock/people.h"
#include "careclock/rulefiles.h"
#include "careclock/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STATUS_FILTER CC_CLOCKS_STATUS_FILTER_MAX

/* ---- output ---- */

enum { COL_CHILD, COL_CLOCK, COL_SEQ, COL_TITLE, COL_START, COL_DUE, COL_STATUS, COL_MET, COL_WORKER, COL_TEAM,
       COL_SOURCE, COL_REASON, COL_INSTANCE, COL_LEFT_CARE, COL_AGREED, NCOLS };
static const char *const col_names[NCOLS] = {"child",  "clock", "seq",    "title",  "start",  "due",
                                             "status", "met_on", "worker", "team",  "source", "reason",
                                             "instance", "left_care_on", "agreed_due"};

static const char *or_empty(const char *t)
{
    return t ? t : "";
}

typedef struct {
    const char *child, *team, *worker;
    const char *statuses[MAX_STATUS_FILTER];
    size_t nstatuses;
    const char *format;
    int cached;
} list_opts_t;

/* A listed row as its columns (NULL for NULL), to the printer arg. */
static int print_row(void *arg, const cc_clock_row_t *r)
{
    char seq[16];
    snprintf(seq, sizeof(seq), "%d", r->seq);
    const char *v[NCOLS] = {[COL_CHILD] = r->child_id,    [COL_CLOCK] = r->rule_id,  [COL_SEQ] = seq,
                            [COL_TITLE] = r->title,       [COL_START] = r->start_date, [COL_DUE] = r->due_date,
                            [COL_STATUS] = r->status,     [COL_MET] = r->met_on,     [COL_WORKER] = r->worker_id,
                            [COL_TEAM] = r->team_id,      [COL_SOURCE] = r->source,  [COL_REASON] = r->reason,
                            [COL_INSTANCE] = r->instance, [COL_LEFT_CARE] = r->left_care_on,
                            [COL_AGREED] = r->agreed_due};
    return cc_cli_print(arg, v);
}

/* Every listed row through row(arg, columns): one read of the clocks, each
 * row printed as it comes. */
static int each_row(cc_store_t *store, const cc_clocks_filter_t *f, int (*row)(void *, const char *const *),
                    void *arg)
{
    cc_cli_printer_t p = {row, arg};
    return cc_clocks_list(store, f, print_row, &p);
}

/* The table, streamed: the columns are as wide as their widest value in
 * the first TABLE_PROBE rows (held until then), and the rows after them
 * are printed as they come (a wider value there runs over its column).
 * A listing of up to TABLE_PROBE rows is as wide as a second pass would
 * make it. */
static const int shown[] = {COL_CHILD, COL_CLOCK, COL_SEQ, COL_DUE, COL_STATUS, COL_MET, COL_START, COL_WORKER,
                            COL_TEAM, COL_TITLE};
#define NSHOWN (sizeof(shown) / sizeof(shown[0]))
#define TABLE_PROBE 1000

_Static_assert(NCOLS <= CC_CLI_COLS_MAX, "the table has room for every column");

typedef struct {
    cc_cli_out_t *o;
    int width[NCOLS];
    long rows;
    cc_buf_t held;   /* the first rows: NSHOWN values each, each ending in NUL */
    int fixed;       /* the widths are set and the held rows printed */
} table_t;

static void table_line(table_t *t, const char *const values[NSHOWN])
{
    static const char spaces[] = "                                                                ";
    for (size_t i = 0; i < NSHOWN; i++) {
        size_t len = strlen(values[i]);
        cc_cli_out_write(t->o, values[i], len);
        if (i + 1 == NSHOWN)
            break;
        for (int pad = t->width[shown[i]] - (int)len; pad > 0; pad -= (int)sizeof(spaces) - 1)
            cc_cli_out_write(t->o, spaces, pad < (int)sizeof(spaces) - 1 ? (size_t)pad : sizeof(spaces) - 1);
        cc_cli_out_write(t->o, "  ", 2);
    }
    cc_cli_out_write(t->o, "\n", 1);
}

/* Print the head and the rows held, with the widths found. */
static void table_fix(table_t *t)
{
    const char *v[NSHOWN];
    for (size_t i = 0; i < NSHOWN; i++)
        v[i] = col_names[shown[i]];
    table_line(t, v);
    const char *p = cc_buf_str(&t->held), *end = p + t->held.len;
    while (p < end) {
        for (size_t i = 0; i < NSHOWN; i++) {
            v[i] = p;
            p += strlen(p) + 1;
        }
        table_line(t, v);
    }
    cc_buf_free(&t->held);
    t->fixed = 1;
}

/* "open, extended to 2027-01-15": the status of a clock with an extension
 * in force (issue 17: the statutory due date stays in its column). */
static void status_words(const char *const v[NCOLS], char *buf, size_t len)
{
    if (v[COL_AGREED] != NULL)
        snprintf(buf, len, "%s, extended to %s", or_empty(v[COL_STATUS]), v[COL_AGREED]);
    else
        snprintf(buf, len, "%s", or_empty(v[COL_STATUS]));
}

static int table_row(void *arg, const char *const v[NCOLS])
{
    table_t *t = arg;
    const char *values[NSHOWN];
    char status[64];
    for (size_t i = 0; i < NSHOWN; i++) {
        values[i] = or_empty(v[shown[i]]);
        if (shown[i] == COL_TITLE && strcmp(or_empty(v[COL_STATUS]), "data_error") == 0)
            values[i] = or_empty(v[COL_REASON]);
        if (shown[i] == COL_STATUS && v[COL_AGREED] != NULL) {
            status_words(v, status, sizeof(status));
            values[i] = status;
        }
    }
    t->rows++;
    if (t->fixed) {
        table_line(t, values);
        return 0;
    }
    for (size_t i = 0; i < NSHOWN; i++) {
        int w = (int)strlen(values[i]);
        if (w > t->width[shown[i]])
            t->width[shown[i]] = w;
        cc_buf_append(&t->held, values[i], strlen(values[i]) + 1);
    }
    if (t->held.failed)
        return CC_ENOMEM;
    if (t->rows == TABLE_PROBE)
        table_fix(t);
    return 0;
}

static int print_table(cc_store_t *store, const cc_clocks_filter_t *f, cc_cli_out_t *o)
{
    table_t t = {.o = o};
    cc_buf_init(&t.held);
    for (size_t i = 0; i < NSHOWN; i++)
        t.width[shown[i]] = shown[i] == COL_TITLE ? 0 : (int)strlen(col_names[shown[i]]);
    int rc = each_row(store, f, table_row, &t);
    if (rc == 0 && !t.fixed)
        table_fix(&t);
    cc_buf_free(&t.held);
    if (rc == 0) {
        char tail[64];
        snprintf(tail, sizeof(tail), "(%ld clock%s)\n", t.rows, t.rows == 1 ? "" : "s");
        cc_cli_out_puts(o, tail);
    }
    return rc;
}

static int csv_row(void *arg, const char *const v[NCOLS])
{
    cc_cli_out_csv_line(arg, v, NCOLS);
    return 0;
}

static int print_csv(cc_store_t *store, const cc_clocks_filter_t *f, cc_cli_out_t *o)
{
    cc_cli_out_csv_line(o, col_names, NCOLS);
    return each_row(store, f, csv_row, o);
}

/* JSON, streamed in the layout json_dumps(JSON_INDENT(2)) gave the whole
 * array: one object per row, seq a number, and the decisions about the
 * clock (issue 17 item 9: who, in which capacity, when, why, from which
 * interface), each an object on a line. */
typedef struct {
    cc_cli_out_t *o;
    long rows;
    cc_store_t *store;
    int any;              /* the database holds decisions: look them up */
    cc_decisions_t list;
} json_list_t;

static int json_row(void *arg, const char *const v[NCOLS])
{
    json_list_t *j = arg;
    cc_cli_out_puts(j->o, j->rows++ == 0 ? "[\n  {\n" : ",\n  {\n");
    for (int c = 0; c < NCOLS; c++) {
        cc_cli_out_puts(j->o, "    \"");
        cc_cli_out_puts(j->o, col_names[c]);
        cc_cli_out_puts(j->o, "\": ");
        if (c == COL_SEQ && v[c] != NULL) {
            char n[24];
            snprintf(n, sizeof(n), "%lld", strtoll(v[c], NULL, 10));
            cc_cli_out_puts(j->o, n);
        } else {
            cc_cli_out_json_string(j->o, v[c]);
        }
        cc_cli_out_puts(j->o, ",\n");
    }
    cc_cli_out_puts(j->o, "    \"decisions\": [");
    if (j->any && v[COL_CHILD] && v[COL_CLOCK] && v[COL_INSTANCE]) {
        int rc = cc_decisions_of_clock(j->store, v[COL_CHILD], v[COL_CLOCK], v[COL_INSTANCE], &j->list);
        if (rc != 0)
            return rc;
        for (size_t i = 0; i < j->list.n; i++) {
            json_t *d = cc_cli_decision_json(&j->list.items[i], j->list.items, j->list.n);
            char *text = d != NULL ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            json_decref(d);
            if (text == NULL)
                return CC_ENOMEM;
            cc_cli_out_puts(j->o, i == 0 ? "\n      " : ",\n      ");
            cc_cli_out_puts(j->o, text);
            free(text);
        }
        if (j->list.n > 0)
            cc_cli_out_puts(j->o, "\n    ");
    }
    cc_cli_out_puts(j->o, "]\n  }");
    return 0;
}

static int print_json(cc_store_t *store, const cc_clocks_filter_t *f, cc_cli_out_t *o)
{
    json_list_t j = {.o = o, .store = store, .any = cc_decisions_any(store) > 0};
    cc_decisions_init(&j.list);
    int rc = each_row(store, f, json_row, &j);
    cc_decisions_free(&j.list);
    cc_cli_out_puts(o, j.rows > 0 ? "\n]\n" : "[]\n");
    return rc;
}

static void clocks_usage(FILE *out)
{
    fputs("usage: careclock clocks [--child ID] [--team ID] [--worker ID] [--status S[,S...]]\n"
          "                        [--format table|json|csv] [--cached]\n"
          "  S: open, due_soon, overdue, at_risk, met, met_late, cancelled, excepted, data_error\n"
          "  an extension in force shows as \"open, extended to DATE\" (due stays the statutory date);\n"
          "  --format json lists each clock's decisions (who, role, when, why, via)\n"
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
                            "careclock clocks: --status \"%s\" is not one of open, due_soon, overdue, at_risk, met, "
                            "met_late, cancelled, excepted, data_error\n",
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

/* The store's filter for the options of o. */
static void list_filter(const list_opts_t *o, cc_clocks_filter_t *f)
{
    memset(f, 0, sizeof(*f));
    f->child_id = o->child;
    f->team_id = o->team;
    f->worker_id = o->worker;
    for (size_t i = 0; i < o->nstatuses; i++)
        f->statuses[f->nstatuses++] = (cc_status_t)cc_status_parse(o->statuses[i]);
}

int cc_cli_clocks(cc_cli_t *cli, int argc, char **argv)
{
    list_opts_t o;
    char statuses[256];
    cc_cli_env_t env;
    cc_clocks_filter_t filter;
    cc_store_t *store = NULL;
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
    list_filter(&o, &filter);
    cc_cli_out_t *out = malloc(sizeof(*out));
    if (out == NULL) {
        fprintf(stderr, "careclock clocks: out of memory\n");
        status = CC_EXIT_FAIL;
        goto out;
    }
    cc_cli_out_init(out, stdout);
    int rc = strcmp(o.format, "json") == 0  ? print_json(store, &filter, out)
             : strcmp(o.format, "csv") == 0 ? print_csv(store, &filter, out)
                                            : print_table(store, &filter, out);
    int wrc = cc_cli_out_flush(out);
    free(out);
    if (rc == 0 && wrc != 0) {
        fprintf(stderr, "careclock clocks: writing the listing failed\n");
        status = CC_EXIT_FAIL;
    }
    if (rc != 0) {
        fprintf(stderr, "careclock clocks: %s\n", rc == CC_EDB ? cc_store_errmsg(store, NULL) : cc_strerror(rc));
        status = CC_EXIT_FAIL;
    }
out:
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
    /* SEQ, the number the listing shows, or the instance ("812.2"), which
     * history recorded before the clock does not change. */
    const char *instance = NULL;
    cc_clocks_init(&clocks);
    cc_buf_init(&text);
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: careclock explain CHILD_ID CLOCK [SEQ | INSTANCE]\n"
               "  how the due date of a child's clock was derived: the starting event, each step, each holiday\n"
               "  skipped, the rule and its source, and why the status is what it is. SEQ picks one of a repeating\n"
               "  clock's instances (1 is the first); default: the open one, else the last. INSTANCE (EVENT.N, the\n"
               "  clocks listing's instance) names one whatever history was recorded before it\n");
        return CC_EXIT_OK;
    }
    if (argc == 4 && strchr(argv[3], '.') != NULL)
        instance = argv[3];
    if (argc < 3 || argc > 4 ||
        (argc == 4 && instance == NULL && (sscanf(argv[3], "%d%c", &seq, &tail) != 1 || seq < 1))) {
        fprintf(stderr, "usage: careclock explain CHILD_ID CLOCK [SEQ | INSTANCE]\n%s",
                argc == 4 ? "  SEQ is a number from 1; INSTANCE is EVENT.N, as the clocks listing's instance\n" : "");
        return CC_EXIT_USAGE;
    }
    status = cc_cli_env_load(cli, &env);
    if (status != 0)
        return status;
    const char *child_id = argv[1], *clock_id = argv[2];
    const cc_rule_t *rule = strcmp(clock_id, CC_DATA_ERROR_RULE) == 0 ? NULL
                                                                     : cc_cli_find_clock(&env, "explain", clock_id);
    if (rule == NULL && strcmp(clock_id, CC_DATA_ERROR_RULE) != 0) {
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
            char key[CC_CLOCK_KEY_MAX];
            count++;
            if (instance != NULL) {
                cc_clock_key(c, key, sizeof(key));
                if (strcmp(key, instance) == 0)
                    found = (long)i;
            } else if (seq == 0 ? found < 0 || c->status != CC_STATUS_MET : c->seq == seq) {
                found = (long)i;
            }
        }
    }
    if (found < 0 && count == 0 && rule != NULL) {
        /* Starting events that started nothing: say why (no plan at the
         * conference, a child looked after from 15, ...). */
        rc = cc_engine_explain_none_on(env.rules, env.cal, cli->today, &child.child, child.events, child.nevents,
                                       rule, &text);
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
        else if (instance != NULL)
            fprintf(stderr, "careclock explain: child %s has %d %s clock(s); none is instance %s\n", child_id,
                    count, clock_id, instance);
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

static void rules_usage(FILE *out)
{
    fputs("usage: careclock rules check FILE...\n"
          "       careclock rules list\n"
          "  check   validates rule files, loaded in order as careclock would (later files override); each\n"
          "          error as FILE:LINE\n"
          "  list    the rules the configuration loads: id, then title, tab-separated\n",
          out);
}

/* careclock rules list: the loaded rules (shell completion reads the ids). */
static int rules_list(cc_cli_t *cli)
{
    cc_cli_env_t env;
    int rc = cc_cli_env_load(cli, &env);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < cc_ruleset_count(env.rules); i++) {
        const cc_rule_t *r = cc_ruleset_rule(env.rules, i);
        printf("%s\t%s\n", r->id, r->title ? r->title : "");
    }
    cc_cli_env_free(&env);
    return CC_EXIT_OK;
}

int cc_cli_rules(cc_cli_t *cli, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            rules_usage(stdout);
            return CC_EXIT_OK;
        }
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return rules_list(cli);
    if (argc < 3 || strcmp(argv[1], "check") != 0) {
        rules_usage(stderr);
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
