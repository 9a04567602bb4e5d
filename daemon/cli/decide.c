/* careclock clock extend | except | ack | inform | withdraw | decisions:
 * recording decisions about a clock (issue 17; docs/engine.md,
 * "Decisions"). The command parses, names the clock by its identity and
 * hands the decision to the store (decisions.h), which checks it against
 * the rules and the clock as it stands and writes it in one transaction;
 * then the clocks are recomputed so that a listing shows it at once.
 *
 * Design note: the clocks table is brought up to date (cc_cli_refresh)
 * before the decision is checked, so that "the clock is met" is judged on
 * today's events, not on yesterday's rows.
 */
#include "careclock/clocks.h"
#include "careclock/decisions.h"
#include "careclock/error.h"
#include "careclock/people.h"
#include "careclock/time.h"
#include "cli/cli.h"

#include <assert.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXTEND_USAGE "clock extend CHILD CLOCK [SEQ|INSTANCE] --to DATE --by STAFF --reason TEXT [--with STAFF] [--on DATE]"
#define EXCEPT_USAGE "clock except CHILD CLOCK [SEQ|INSTANCE] --reason CODE --by STAFF [--note TEXT] [--on DATE]"
#define ACK_USAGE "clock ack CHILD CLOCK [SEQ|INSTANCE] --until DATE --by STAFF [--note TEXT] [--on DATE]"
#define INFORM_USAGE "clock inform CHILD CLOCK [SEQ|INSTANCE] --to STAFF --by STAFF [--note TEXT] [--on DATE]"
#define WITHDRAW_USAGE "clock withdraw DECISION_ID --by STAFF --reason TEXT [--on DATE]"
#define LIST_USAGE "clock decisions CHILD [CLOCK] [--format table|json]"

static void usage(FILE *out)
{
    fputs("usage: careclock " EXTEND_USAGE "\n"
          "       careclock " EXCEPT_USAGE "\n"
          "       careclock " ACK_USAGE "\n"
          "       careclock " INFORM_USAGE "\n"
          "       careclock " WITHDRAW_USAGE "\n"
          "       careclock " LIST_USAGE "\n"
          "  extend    agree a date later than the statutory due date: reminders and escalations follow it, the\n"
          "            due date and the statutory figures stay (the rule's extend_by says who may)\n"
          "  except    the clock need not be met, for a reason the rule lists (except_reasons; except_by says\n"
          "            who may): no reminders, status excepted, counted apart in reports\n"
          "  ack       a recipient of the clock's stages holds their own next ones until DATE (at most 92 days)\n"
          "  inform    record who informed whom (the IRO informing the service manager)\n"
          "  withdraw  undo a decision (the one who took it, or a role that may take its kind)\n"
          "  decisions list a child's decisions, withdrawn ones too\n"
          "  SEQ is the clocks listing's seq, INSTANCE its instance (EVENT.N); default: the clock's open instance.\n"
          "  --on DATE is the day it was decided (default today). Every decision is kept, with who, when, why and\n"
          "  from which interface; careclock explain tells them.\n",
          out);
}

/* ---- arguments ------------------------------------------------------------ */

#define MAX_WORDS 3

typedef struct {
    const char *name;
    const char *value;
} opt_t;

typedef struct {
    const char *cmd;
    const char *words[MAX_WORDS];
    size_t nwords;
    opt_t opts[8];
    size_t nopts;
} args_t;

/* Parse argv (after the subcommand) into words and the options named in
 * names (NULL-terminated). 0, 1 for --help (printed), or CC_EXIT_USAGE. */
static int parse(const char *cmd, const char *use, int argc, char **argv, const char *const *names, args_t *a)
{
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    for (size_t i = 0; names[i] != NULL && i < sizeof(a->opts) / sizeof(a->opts[0]); i++)
        a->opts[a->nopts++].name = names[i];
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            printf("usage: careclock %s\n", use);
            return 1;
        }
        if (strncmp(s, "--", 2) == 0) {
            opt_t *o = NULL;
            for (size_t k = 0; k < a->nopts; k++)
                if (strcmp(a->opts[k].name, s) == 0)
                    o = &a->opts[k];
            if (o == NULL || i + 1 >= argc) {
                cc_cli_errorf(cmd, o == NULL ? "unknown option \"%s\"" : "missing value for %s", s);
                fprintf(stderr, "usage: careclock %s\n", use);
                return CC_EXIT_USAGE;
            }
            if (o->value != NULL) {
                cc_cli_errorf(cmd, "%s given twice (\"%s\" and \"%s\")", s, o->value, argv[i + 1]);
                return CC_EXIT_USAGE;
            }
            o->value = argv[++i];
            continue;
        }
        if (a->nwords >= MAX_WORDS) {
            cc_cli_errorf(cmd, "unexpected argument \"%s\"", s);
            fprintf(stderr, "usage: careclock %s\n", use);
            return CC_EXIT_USAGE;
        }
        a->words[a->nwords++] = s;
    }
    return 0;
}

static const char *opt(const args_t *a, const char *name)
{
    for (size_t k = 0; k < a->nopts; k++)
        if (strcmp(a->opts[k].name, name) == 0)
            return a->opts[k].value;
    return NULL;
}

/* A required option: its value, or NULL after saying it is missing. */
static const char *need(const args_t *a, const char *name, const char *use)
{
    const char *v = opt(a, name);
    if (v == NULL || v[0] == '\0') {
        cc_cli_errorf(a->cmd, "%s is required", name);
        fprintf(stderr, "usage: careclock %s\n", use);
    }
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A date option: CC_DATE_NONE when absent (*rc 0) or bad (*rc CC_EXIT_USAGE, said). */
static cc_date_t date_opt(const args_t *a, const char *name, int *rc)
{
    cc_date_t d = CC_DATE_NONE;
    const char *v = opt(a, name);
    if (v != NULL && cc_date_parse(v, &d) != 0) {
        cc_cli_errorf(a->cmd, "%s \"%s\" is not a valid date (expected YYYY-MM-DD or DD/MM/YYYY, a day that exists)", name,
               v);
        *rc = CC_EXIT_USAGE;
        return CC_DATE_NONE;
    }
    return d;
}

static int exit_for(int rc)
{
    return rc == 0 ? CC_EXIT_OK : (rc == CC_EINVAL || rc == CC_ENOTFOUND) ? CC_EXIT_USAGE : CC_EXIT_FAIL;
}

/* ---- naming the clock --------------------------------------------------- */

typedef struct {
    const char *rule_id;
    int want_seq;          /* 0: the open one */
    char instance[CC_CLOCK_KEY_MAX];
    int found_seq, count, any_active;
    char last[CC_CLOCK_KEY_MAX];
} pick_t;

static int active_status(const char *status)
{
    int s = cc_status_parse(status ? status : "");
    return s == CC_STATUS_OPEN || s == CC_STATUS_DUE_SOON || s == CC_STATUS_OVERDUE || s == CC_STATUS_AT_RISK;
}

static int pick_row(void *arg, const cc_clock_row_t *r)
{
    pick_t *p = arg;
    if (r->rule_id == NULL || strcmp(r->rule_id, p->rule_id) != 0 || r->instance == NULL)
        return 0;
    p->count++;
    if (p->want_seq > 0) {
        if (r->seq == p->want_seq)
            snprintf(p->instance, sizeof(p->instance), "%s", r->instance);
        return 0;
    }
    /* The open one: the earliest still owed (the listing is most urgent first). */
    if (active_status(r->status) && !p->any_active) {
        p->any_active = 1;
        snprintf(p->instance, sizeof(p->instance), "%s", r->instance);
    }
    if (r->seq >= p->found_seq) {
        p->found_seq = r->seq;
        snprintf(p->last, sizeof(p->last), "%s", r->instance);
    }
    return 0;
}

/* The instance the words CHILD CLOCK [SEQ|INSTANCE] name, into instance.
 * 0, or an exit status after saying why. */
static int name_clock(cc_store_t *store, const char *cmd, const args_t *a, char *instance, size_t len)
{
    const char *child = a->words[0], *rule_id = a->words[1], *which = a->nwords > 2 ? a->words[2] : NULL;
    if (which != NULL && strchr(which, '.') != NULL) {
        snprintf(instance, len, "%s", which);
        return 0;
    }
    pick_t p;
    memset(&p, 0, sizeof(p));
    p.rule_id = rule_id;
    if (which != NULL) {
        char tail;
        if (sscanf(which, "%d%c", &p.want_seq, &tail) != 1 || p.want_seq < 1) {
            cc_cli_errorf(cmd, "\"%s\" is neither a SEQ (a number from 1) nor an INSTANCE (EVENT.N, the clocks listing's "
                        "instance)",
                   which);
            return CC_EXIT_USAGE;
        }
    }
    cc_clocks_filter_t f;
    memset(&f, 0, sizeof(f));
    f.child_id = child;
    if (cc_clocks_list(store, &f, pick_row, &p) != 0) {
        cc_cli_errorf(cmd, "%s", cc_store_errmsg(store, NULL));
        return CC_EXIT_FAIL;
    }
    if (p.count == 0) {
        cc_cli_errorf(cmd, "child %s has no %s clock (nothing has started it)", child, rule_id);
        return CC_EXIT_USAGE;
    }
    if (p.instance[0] == '\0' && p.want_seq > 0) {
        cc_cli_errorf(cmd, "child %s has %d %s clock(s); there is no number %d", child, p.count, rule_id, p.want_seq);
        return CC_EXIT_USAGE;
    }
    snprintf(instance, len, "%s", p.instance[0] ? p.instance : p.last);
    return 0;
}

/* ---- recording ---------------------------------------------------------- */

/* Open, refresh, record d (its instance named from a's words unless
 * withdraw), refresh again, print the id. */
static int record(cc_cli_t *cli, const args_t *a, cc_decision_t *d)
{
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    char instance[CC_CLOCK_KEY_MAX], err[1024], actor[96], at[32];
    int64_t id = 0;
    int rc = cc_cli_env_load(cli, &env);
    if (rc != 0)
        return rc;
    if ((rc = cc_cli_open_db(cli, &store)) != 0)
        goto out;
    cc_cli_set_actor(store);
    if (d->kind != CC_DECISION_WITHDRAW) {
        if (cc_cli_find_clock(&env, a->cmd, d->rule_id) == NULL) {
            rc = CC_EXIT_USAGE;
            goto out;
        }
        int exists = cc_store_child_exists(store, d->child_id);
        if (exists <= 0) {
            if (exists == 0)
                cc_cli_errorf(a->cmd, "child \"%s\" does not exist", d->child_id);
            else
                cc_cli_errorf(a->cmd, "%s", cc_store_errmsg(store, NULL));
            rc = exists == 0 ? CC_EXIT_USAGE : CC_EXIT_FAIL;
            goto out;
        }
    }
    if ((rc = cc_cli_refresh(cli, &env, store)) != 0)
        goto out;
    cc_decisions_t one;
    cc_decisions_init(&one);
    if (d->kind == CC_DECISION_WITHDRAW) {
        /* The clock is the withdrawn decision's. */
        int r = cc_decisions_get(store, d->withdraws, &one);
        if (r == 0 && one.n == 0) {
            cc_cli_errorf(a->cmd, "decision %lld does not exist", (long long)d->withdraws);
            rc = CC_EXIT_USAGE;
        } else if (r != 0) {
            cc_cli_errorf(a->cmd, "%s", cc_store_errmsg(store, NULL));
            rc = CC_EXIT_FAIL;
        } else {
            d->child_id = one.items[0].child_id;
            d->rule_id = one.items[0].rule_id;
            d->instance = one.items[0].instance;
        }
    } else if ((rc = name_clock(store, a->cmd, a, instance, sizeof(instance))) == 0) {
        d->instance = instance;
    }
    if (rc == 0) {
        d->via = "cli";
        d->actor = cc_cli_actor(actor, sizeof(actor));
        d->at = cc_time_format_utc(cli->now, at, sizeof(at));
        if (d->on == CC_DATE_NONE)
            d->on = cli->today;
        int r = cc_decisions_add(store, env.rules, d, cli->today, &id, err, sizeof(err));
        if (r != 0) {
            cc_cli_errorf(a->cmd, "%s", err);
            rc = exit_for(r);
        } else {
            printf("%lld\n", (long long)id);
            fflush(stdout);
            rc = cc_cli_refresh(cli, &env, store);
        }
    }
    cc_decisions_free(&one);
out:
    cc_store_close(store);
    cc_cli_env_free(&env);
    return rc;
}

/* The words CHILD CLOCK [SEQ|INSTANCE] into d. */
static int clock_words(const args_t *a, const char *use, cc_decision_t *d)
{
    if (a->nwords < 2) {
        cc_cli_errorf(a->cmd, "needs CHILD and CLOCK");
        fprintf(stderr, "usage: careclock %s\n", use);
        return CC_EXIT_USAGE;
    }
    d->child_id = a->words[0];
    d->rule_id = a->words[1];
    return 0;
}

static int decide(cc_cli_t *cli, cc_decision_kind_t kind, int argc, char **argv)
{
    static const char *const extend_opts[] = {"--to", "--by", "--reason", "--with", "--on", NULL};
    static const char *const except_opts[] = {"--reason", "--by", "--note", "--on", NULL};
    static const char *const ack_opts[] = {"--until", "--by", "--note", "--on", NULL};
    static const char *const inform_opts[] = {"--to", "--by", "--note", "--on", NULL};
    static const char *const withdraw_opts[] = {"--by", "--reason", "--on", NULL};
    const char *const *names = kind == CC_DECISION_EXTEND   ? extend_opts
                               : kind == CC_DECISION_EXCEPT ? except_opts
                               : kind == CC_DECISION_ACK    ? ack_opts
                               : kind == CC_DECISION_INFORM ? inform_opts
                                                            : withdraw_opts;
    const char *use = kind == CC_DECISION_EXTEND   ? EXTEND_USAGE
                      : kind == CC_DECISION_EXCEPT ? EXCEPT_USAGE
                      : kind == CC_DECISION_ACK    ? ACK_USAGE
                      : kind == CC_DECISION_INFORM ? INFORM_USAGE
                                                   : WITHDRAW_USAGE;
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "clock %s", cc_decision_kind_name(kind));
    args_t a;
    int rc = parse(cmd, use, argc, argv, names, &a);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    a.cmd = cmd;
    cc_decision_t d;
    memset(&d, 0, sizeof(d));
    d.kind = kind;
    d.date = CC_DATE_NONE;
    if ((d.by = need(&a, "--by", use)) == NULL)
        return CC_EXIT_USAGE;
    d.on = date_opt(&a, "--on", &rc);
    if (rc != 0)
        return rc;
    switch (kind) {
    case CC_DECISION_EXTEND:
        if ((rc = clock_words(&a, use, &d)) != 0 || need(&a, "--to", use) == NULL ||
            (d.reason = need(&a, "--reason", use)) == NULL)
            return CC_EXIT_USAGE;
        d.date = date_opt(&a, "--to", &rc);
        d.party = opt(&a, "--with");
        break;
    case CC_DECISION_EXCEPT:
        if ((rc = clock_words(&a, use, &d)) != 0 || (d.code = need(&a, "--reason", use)) == NULL)
            return CC_EXIT_USAGE;
        d.reason = opt(&a, "--note");
        break;
    case CC_DECISION_ACK:
        if ((rc = clock_words(&a, use, &d)) != 0 || need(&a, "--until", use) == NULL)
            return CC_EXIT_USAGE;
        d.date = date_opt(&a, "--until", &rc);
        d.reason = opt(&a, "--note");
        break;
    case CC_DECISION_INFORM:
        if ((rc = clock_words(&a, use, &d)) != 0 || (d.party = need(&a, "--to", use)) == NULL)
            return CC_EXIT_USAGE;
        d.reason = opt(&a, "--note");
        break;
    case CC_DECISION_WITHDRAW: {
        char tail;
        long long n = 0;
        if (a.nwords != 1 || sscanf(a.words[0], "%lld%c", &n, &tail) != 1 || n < 1) {
            cc_cli_errorf(cmd, a.nwords == 1 ? "\"%s\" is not a decision id (a number from 1)" : "needs one DECISION_ID%s",
                   a.nwords == 1 ? a.words[0] : "");
            fprintf(stderr, "usage: careclock %s\n", use);
            return CC_EXIT_USAGE;
        }
        d.withdraws = n;
        if ((d.reason = need(&a, "--reason", use)) == NULL)
            return CC_EXIT_USAGE;
        break;
    }
    }
    if (rc != 0)
        return rc;
    return record(cli, &a, &d);
}

/* ---- listing -------------------------------------------------------------- */

static void set_date(json_t *o, const char *key, cc_date_t d)
{
    char buf[CC_DATE_STRLEN];
    json_object_set_new(o, key, d == CC_DATE_NONE ? json_null() : json_string(cc_date_format(d, buf)));
}

static void set_text(json_t *o, const char *key, const char *text)
{
    json_object_set_new(o, key, text ? json_string(text) : json_null());
}

json_t *cc_cli_decision_json(const cc_decision_t *d, const cc_decision_t *list, size_t n)
{
    assert(d != NULL);
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "id", json_integer(d->id));
    set_text(o, "kind", cc_decision_kind_name(d->kind));
    set_text(o, "clock", d->rule_id);
    set_text(o, "instance", d->instance);
    switch (d->kind) {
    case CC_DECISION_EXTEND:
        set_date(o, "agreed_due", d->date);
        set_text(o, "agreed_with", d->party);
        break;
    case CC_DECISION_EXCEPT: set_text(o, "reason_code", d->code); break;
    case CC_DECISION_ACK: set_date(o, "until", d->date); break;
    case CC_DECISION_INFORM: set_text(o, "informed", d->party); break;
    case CC_DECISION_WITHDRAW: json_object_set_new(o, "withdraws", json_integer(d->withdraws)); break;
    }
    set_text(o, d->kind == CC_DECISION_EXTEND || d->kind == CC_DECISION_WITHDRAW ? "reason" : "note", d->reason);
    set_text(o, "by", d->by);
    set_text(o, "role", d->by_role);
    set_date(o, "on", d->on);
    set_text(o, "at", d->at);
    set_text(o, "via", d->via);
    set_text(o, "actor", d->actor);
    json_t *by = json_null();
    for (size_t k = 0; list != NULL && k < n; k++)
        if (list[k].kind == CC_DECISION_WITHDRAW && list[k].withdraws == d->id) {
            json_decref(by);
            by = json_integer(list[k].id);
        }
    if (d->kind != CC_DECISION_WITHDRAW)
        json_object_set_new(o, "withdrawn_by", by);
    else
        json_decref(by);
    return o;
}

/* A decision's line: "12  extend  permanence_plan 301.1  2027-01-15 ... by IRO1 (iro) on 2026-12-01". */
static void print_line(const cc_decision_t *d, const cc_decision_t *list, size_t n)
{
    char a[CC_DATE_STRLEN], b[CC_DATE_STRLEN];
    printf("%-5lld %-8s %s %s  ", (long long)d->id, cc_decision_kind_name(d->kind), d->rule_id ? d->rule_id : "",
           d->instance ? d->instance : "");
    switch (d->kind) {
    case CC_DECISION_EXTEND: printf("to %s", cc_date_format(d->date, a)); break;
    case CC_DECISION_EXCEPT: printf("reason %s", d->code ? d->code : ""); break;
    case CC_DECISION_ACK: printf("until %s", cc_date_format(d->date, a)); break;
    case CC_DECISION_INFORM: printf("informed %s", d->party ? d->party : ""); break;
    case CC_DECISION_WITHDRAW: printf("withdraws %lld", (long long)d->withdraws); break;
    }
    printf("  by %s (%s) on %s via %s", d->by ? d->by : "", d->by_role ? d->by_role : "",
           cc_date_format(d->on, b), d->via ? d->via : "");
    for (size_t k = 0; k < n; k++)
        if (list[k].kind == CC_DECISION_WITHDRAW && list[k].withdraws == d->id)
            printf("  [withdrawn by %lld]", (long long)list[k].id);
    if (d->reason != NULL) {
        /* Free text on a terminal: control characters shown as '?'. */
        fputs("  \"", stdout);
        for (const unsigned char *p = (const unsigned char *)d->reason; *p; p++)
            fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stdout);
        fputc('"', stdout);
    }
    fputc('\n', stdout);
}

static int list_decisions(cc_cli_t *cli, int argc, char **argv)
{
    static const char *const names[] = {"--format", NULL};
    args_t a;
    int rc = parse("clock decisions", LIST_USAGE, argc, argv, names, &a);
    if (rc != 0)
        return rc == 1 ? CC_EXIT_OK : rc;
    const char *format = opt(&a, "--format") ? opt(&a, "--format") : "table";
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
        cc_cli_errorf(a.cmd, "--format \"%s\" is not table or json", format);
        return CC_EXIT_USAGE;
    }
    if (a.nwords < 1 || a.nwords > 2) {
        cc_cli_errorf(a.cmd, "needs CHILD [CLOCK]");
        fprintf(stderr, "usage: careclock %s\n", LIST_USAGE);
        return CC_EXIT_USAGE;
    }
    cc_store_t *store = NULL;
    cc_decisions_t list;
    cc_decisions_init(&list);
    if ((rc = cc_cli_open_db(cli, &store)) != 0)
        return rc;
    int exists = cc_store_child_exists(store, a.words[0]);
    if (exists <= 0) {
        if (exists == 0)
            cc_cli_errorf(a.cmd, "child \"%s\" does not exist", a.words[0]);
        else
            cc_cli_errorf(a.cmd, "%s", cc_store_errmsg(store, NULL));
        rc = exists == 0 ? CC_EXIT_USAGE : CC_EXIT_FAIL;
        goto out;
    }
    if (cc_decisions_of_child(store, a.words[0], &list) != 0) {
        cc_cli_errorf(a.cmd, "%s", cc_store_errmsg(store, NULL));
        rc = CC_EXIT_FAIL;
        goto out;
    }
    json_t *arr = strcmp(format, "json") == 0 ? json_array() : NULL;
    size_t shown = 0;
    for (size_t i = 0; i < list.n; i++) {
        const cc_decision_t *d = &list.items[i];
        if (a.nwords == 2 && (d->rule_id == NULL || strcmp(d->rule_id, a.words[1]) != 0))
            continue;
        shown++;
        if (arr != NULL)
            json_array_append_new(arr, cc_cli_decision_json(d, list.items, list.n));
        else
            print_line(d, list.items, list.n);
    }
    if (arr != NULL) {
        char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text != NULL)
            printf("%s\n", text);
        free(text);
        json_decref(arr);
    } else {
        printf("(%zu decision%s)\n", shown, shown == 1 ? "" : "s");
    }
out:
    cc_decisions_free(&list);
    cc_store_close(store);
    return rc;
}

int cc_cli_clock(cc_cli_t *cli, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "decisions") == 0)
        return list_decisions(cli, argc - 2, argv + 2);
    int kind = cc_decision_kind_parse(sub);
    if (kind >= 0)
        return decide(cli, (cc_decision_kind_t)kind, argc - 2, argv + 2);
    int help = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0;
    if (!help)
        cc_cli_errorf("clock", argc < 2 ? "needs a subcommand%s" : "unknown subcommand \"%s\"", argc < 2 ? "" : sub);
    usage(help ? stdout : stderr);
    return help ? CC_EXIT_OK : CC_EXIT_USAGE;
}
