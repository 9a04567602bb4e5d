/* careclock deliveries: the outbox from the command line.
 *   careclock deliveries [--status S[,S...]] [--child ID] [--format table|json|csv]
 *   careclock deliveries run [--now YYYY-MM-DDTHH:MM[:SS]] [--max-messages N] [--max-time SECONDS]
 *   careclock deliveries plan [--dry-run] [--now YYYY-MM-DDTHH:MM[:SS]]
 *   careclock deliveries retry ID
 *   careclock deliveries webhooks
 *   careclock deliveries enable-webhook NAME
 *   careclock deliveries prune --before YYYY-MM-DD | --retention
 *   careclock deliveries test --to ADDRESS | --webhook NAME   (daemon/cli/testsend.c)
 * `run` is the same delivery cycle careclockd runs on its timer (deliver.h),
 * once, on a private loop: for cron and for tests. */
#include "cli/cli.h"
#include "careclock/csv.h"
#include "careclock/deliver.h"
#include "careclock/error.h"
#include "careclock/outbox.h"
#include "careclock/payload.h"
#include "careclock/time.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATES "pending, sending, sent, retrying, failed, undeliverable, cancelled"

static void usage(FILE *out)
{
    fputs("usage: careclock deliveries [--status S[,S...]] [--child ID] [--format table|json|csv]\n"
          "       careclock deliveries run [--now YYYY-MM-DDTHH:MM] [--max-messages N] [--max-time SECONDS]\n"
          "       careclock deliveries plan [--dry-run] [--now YYYY-MM-DDTHH:MM]\n"
          "       careclock deliveries retry ID\n"
          "       careclock deliveries webhooks\n"
          "       careclock deliveries enable-webhook NAME\n"
          "       careclock deliveries prune --before YYYY-MM-DD | --retention\n"
          "       careclock deliveries test --to ADDRESS | --webhook NAME\n"
          "  S: " STATES "\n"
          "  run             plan from the clocks, enqueue, send what is ready (inside the sending window),\n"
          "                  record the outcomes, and exit: the cycle careclockd runs on its timer; exits 1\n"
          "                  when a message was left to retry or failed (the counts on stderr)\n"
          "  --max-time S    give up after S seconds in all (default 300): messages in flight are recorded\n"
          "                  as retrying and go again later with the same ids\n"
          "  plan            plan from the clocks and enqueue, sending nothing; --dry-run: write nothing and\n"
          "                  print what would be sent, per recipient (try [notify] since before going live)\n"
          "  --now T         the local time to run at, in [careclock] timezone (tests and demonstrations);\n"
          "                  default: the instant of careclock --now (UTC), else now\n"
          "  retry ID        requeue a failed delivery (its whole message, same ids) or an undeliverable one\n"
          "  webhooks        the configured webhook endpoints and whether a 410 disabled them\n"
          "  prune           delete the delivery records of clocks closed (or gone) whose every record is final\n"
          "                  and was last changed before the date (UTC); the date may not be after today.\n"
          "                  --retention: the date [notify] delivery_retention_days before today\n"
          "  test            send one clearly marked test message through the configured channel and report\n"
          "                  exactly what the server answered, and what to change when it refused\n",
          out);
}

static int valid_state(const char *s)
{
    static const char *const states[] = {"pending", "sending", "sent", "retrying", "failed", "undeliverable",
                                         "cancelled"};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(s, states[i]) == 0)
            return 1;
    return 0;
}

/* ---- listing ------------------------------------------------------------- */

enum { C_ID, C_STATE, C_CHILD, C_CLOCK, C_SEQ, C_STAGE, C_STAGE_DATE, C_KIND, C_ROLE, C_RECIPIENT, C_CHANNEL, C_ADDRESS, C_DUE,
       C_DUE_AT, C_ATTEMPTS, C_NEXT, C_SENT, C_MESSAGE_ID, C_ERROR, C_INSTANCE, NCOLS };
static const char *const names[NCOLS] = {"id",        "state",   "child",   "clock",  "seq",     "stage",
                                         "stage_date", "kind",      "role",    "recipient", "channel", "address", "due_date",
                                         "due_at",    "attempts", "next_attempt_at", "sent_at", "message_id",
                                         "last_error", "instance"};

static const char *text(const char *t)
{
    return t ? t : "";
}

/* One line per value in a table: no line breaks another system may have
 * left in a value. */
static void table_value(FILE *out, const char *s, int width)
{
    int n = 0;
    for (; *s; s++, n++)
        fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
    for (; n < width; n++)
        fputc(' ', out);
}

/* A listed row as its columns (NULL for NULL), to the printer arg. */
static int print_row(void *arg, const cc_outbox_row_t *r)
{
    char id[24], seq[16], attempts[16];
    snprintf(id, sizeof(id), "%lld", (long long)r->id);
    snprintf(seq, sizeof(seq), "%d", r->seq);
    snprintf(attempts, sizeof(attempts), "%d", r->attempts);
    const char *v[NCOLS] = {id,          r->state,   r->child_id, r->rule_id,  seq,
                            r->stage,    r->stage_date, r->kind,  r->role,     r->recipient,
                            r->channel,  r->address, r->due_date, r->due_at,   attempts,
                            r->next_attempt_at, r->sent_at, r->message_id, r->last_error, r->instance};
    return cc_cli_print(arg, v);
}

/* Every listed row through row(arg, columns). */
static int each_row(cc_store_t *store, const cc_outbox_filter_t *f, int (*row)(void *, const char *const *),
                    void *arg)
{
    cc_cli_printer_t p = {row, arg};
    return cc_outbox_list(store, f, print_row, &p);
}

static int json_row(void *arg, const char *const v[NCOLS])
{
    json_array_append_new(arg, cc_cli_json_row(names, v, NCOLS, 1u << C_ID | 1u << C_SEQ | 1u << C_ATTEMPTS));
    return 0;
}

static int csv_row(void *arg, const char *const v[NCOLS])
{
    cc_cli_csv_line(arg, v, NCOLS);
    return 0;
}

static const int shown[] = {C_ID, C_STATE, C_CHILD, C_CLOCK, C_SEQ, C_STAGE, C_KIND, C_RECIPIENT,
                            C_CHANNEL, C_DUE_AT, C_ATTEMPTS, C_SENT, C_ERROR};
#define NSHOWN (sizeof(shown) / sizeof(shown[0]))

_Static_assert(NCOLS <= CC_CLI_COLS_MAX, "the table has room for every column");

/* One line of the table: values (NULL as "") in their columns. */
static void table_line(const cc_cli_table_t *t, const char *const v[NCOLS])
{
    for (size_t i = 0; i < NSHOWN; i++) {
        table_value(t->out, text(v[shown[i]]), i + 1 < NSHOWN ? t->width[shown[i]] : 0);
        fputs(i + 1 < NSHOWN ? "  " : "\n", t->out);
    }
}

static int table_print(void *arg, const char *const v[NCOLS])
{
    table_line(arg, v);
    return 0;
}

static int list(cc_store_t *store, const cc_outbox_filter_t *f, const char *format)
{
    int rc;
    if (strcmp(format, "json") == 0) {
        json_t *arr = json_array();
        rc = each_row(store, f, json_row, arr);
        char *dump = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (dump)
            printf("%s\n", dump);
        free(dump);
        json_decref(arr);
    } else if (strcmp(format, "csv") == 0) {
        cc_cli_csv_line(stdout, names, NCOLS);
        rc = each_row(store, f, csv_row, stdout);
    } else {
        cc_cli_table_t t;
        cc_cli_table_init(&t, stdout, shown, NSHOWN, names);
        if ((rc = each_row(store, f, cc_cli_table_measure, &t)) != 0)
            return rc;
        table_line(&t, names);
        rc = each_row(store, f, table_print, &t);
        printf("(%d deliver%s)\n", t.rows, t.rows == 1 ? "y" : "ies");
    }
    return rc;
}

static int cmd_list(cc_cli_t *cli, int argc, char **argv)
{
    cc_outbox_filter_t filter = {0};
    const char *format = "table";
    char buf[256];
    cc_store_t *store = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return CC_EXIT_OK;
        }
        if (i + 1 >= argc || (strcmp(a, "--status") && strcmp(a, "--format") && strcmp(a, "--child"))) {
            fprintf(stderr, "careclock deliveries: %s \"%s\"\n",
                    i + 1 >= argc && a[0] == '-' ? "missing value for" : "unknown option or subcommand", a);
            usage(stderr);
            return CC_EXIT_USAGE;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--child") == 0) {
            filter.child_id = v;
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "table") && strcmp(v, "json") && strcmp(v, "csv")) {
                fprintf(stderr, "careclock deliveries: --format \"%s\" is not table, json or csv\n", v);
                return CC_EXIT_USAGE;
            }
            format = v;
        } else {
            snprintf(buf, sizeof(buf), "%s", v);
            filter.nstates = 0;
            for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (!valid_state(tok)) {
                    fprintf(stderr, "careclock deliveries: --status \"%s\" is not one of " STATES "\n", tok);
                    return CC_EXIT_USAGE;
                }
                if (filter.nstates < CC_OUTBOX_STATES_MAX)
                    filter.states[filter.nstates++] = tok;
            }
        }
    }
    int rc = cc_cli_open_db(cli, &store);
    if (rc != 0)
        return rc;
    rc = list(store, &filter, format);
    if (rc != 0)
        fprintf(stderr, "careclock deliveries: %s\n", cc_store_errmsg(store, NULL));
    cc_store_close(store);
    return rc == 0 ? CC_EXIT_OK : CC_EXIT_FAIL;
}

/* ---- run ----------------------------------------------------------------- */

/* The go-live line: how many open clocks [notify] since kept quiet. */
static void print_since(const cc_cli_env_t *env, const cc_outbox_plan_stats_t *plan)
{
    char day[CC_DATE_STRLEN];
    if (plan->before_since == 0 || env->config.notify_since == CC_DATE_NONE)
        return;
    printf("not reminded: %zu open clock%s due before [notify] since = %s (go-live): they stay in the clocks, "
           "feeds and reports\n",
           plan->before_since, plan->before_since == 1 ? "" : "s", cc_date_format(env->config.notify_since, day));
}

/* ---- plan, and its dry run --------------------------------------------------- */

/* One delivery a dry run found, its strings its own. */
typedef struct {
    char *recipient, *address, *child, *rule, *stage, *undeliverable, *status;
    int seq;
    cc_channel_t channel;
    cc_notice_kind_t kind;
    cc_date_t due, agreed, stage_date;
    cc_local_time_t due_at;
} dry_item_t;

typedef struct {
    dry_item_t *items;
    size_t n, cap;
    int oom;
} dry_list_t;

static char *dup_text(const char *s, int *oom)
{
    char *copy = strdup(s ? s : "");
    if (copy == NULL)
        *oom = 1;
    return copy;
}

static int dry_collect(void *arg, const cc_outbox_dry_row_t *row)
{
    dry_list_t *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        dry_item_t *grown = realloc(l->items, cap * sizeof(*grown));
        if (grown == NULL)
            return CC_ENOMEM;
        l->items = grown;
        l->cap = cap;
    }
    const cc_planned_t *p = row->planned;
    dry_item_t *it = &l->items[l->n++];
    memset(it, 0, sizeof(*it));
    it->recipient = dup_text(p->recipient, &l->oom);
    it->address = dup_text(p->address, &l->oom);
    it->child = dup_text(row->child_id, &l->oom);
    it->rule = dup_text(row->rule_id, &l->oom);
    it->stage = dup_text(p->stage, &l->oom);
    it->undeliverable = dup_text(p->undeliverable, &l->oom);
    it->status = dup_text(row->status, &l->oom);
    it->seq = row->seq;
    it->channel = p->channel;
    it->kind = p->kind;
    it->due = row->due;
    it->agreed = row->agreed;
    it->stage_date = p->stage_date;
    it->due_at = p->due_at;
    return l->oom ? CC_ENOMEM : 0;
}

static void dry_free(dry_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        dry_item_t *it = &l->items[i];
        free(it->recipient);
        free(it->address);
        free(it->child);
        free(it->rule);
        free(it->stage);
        free(it->undeliverable);
        free(it->status);
    }
    free(l->items);
}

static int dry_cmp(const void *a, const void *b)
{
    const dry_item_t *x = a, *y = b;
    int c = strcmp(x->recipient, y->recipient);
    if (c == 0 && x->channel != y->channel)
        c = x->channel < y->channel ? -1 : 1;
    if (c == 0)
        c = strcmp(x->child, y->child);
    if (c == 0)
        c = strcmp(x->rule, y->rule);
    if (c == 0)
        c = (x->seq > y->seq) - (x->seq < y->seq);
    return c != 0 ? c : strcmp(x->stage, y->stage);
}

/* Per recipient: who, how many of each kind, then one line per delivery. */
static void dry_print(dry_list_t *l, cc_local_time_t local)
{
    char day[64], d2[64];
    size_t recipients = 0;
    if (l->n > 1)
        qsort(l->items, l->n, sizeof(*l->items), dry_cmp);
    for (size_t i = 0; i < l->n; i++)
        recipients += i == 0 || strcmp(l->items[i].recipient, l->items[i - 1].recipient) != 0 ||
                      l->items[i].channel != l->items[i - 1].channel;
    printf("dry run at %s %02d:%02d: nothing written; %zu deliver%s would be planned for %zu recipient%s\n",
           cc_date_format_human(local.date, day, sizeof(day)), local.minute / 60, local.minute % 60, l->n,
           l->n == 1 ? "y" : "ies", recipients, recipients == 1 ? "" : "s");
    for (size_t i = 0; i < l->n;) {
        size_t j = i, kinds[3] = {0, 0, 0};
        while (j < l->n && strcmp(l->items[j].recipient, l->items[i].recipient) == 0 &&
               l->items[j].channel == l->items[i].channel)
            kinds[l->items[j++].kind]++;
        const dry_item_t *first = &l->items[i];
        printf("%s (%s%s%s): %zu (%zu reminder%s, %zu escalation%s, %zu \"now met\")\n", first->recipient,
               cc_channel_name(first->channel), first->address[0] ? " " : "", first->address, j - i, kinds[0],
               kinds[0] == 1 ? "" : "s", kinds[1], kinds[1] == 1 ? "" : "s", kinds[2]);
        for (size_t k = i; k < j; k++) {
            const dry_item_t *it = &l->items[k];
            printf("  %s %s %d (%s): %s %s", it->child, it->rule, it->seq, it->status, cc_notice_kind_name(it->kind),
                   it->stage);
            if (it->due != CC_DATE_NONE)
                printf(", due %s", cc_date_format_human(it->due, day, sizeof(day)));
            if (it->agreed != CC_DATE_NONE && it->agreed > it->due)
                printf(", extended to %s", cc_date_format_human(it->agreed, day, sizeof(day)));
            printf(", may go %s %02d:%02d", cc_date_format_human(it->due_at.date, d2, sizeof(d2)),
                   it->due_at.minute / 60, it->due_at.minute % 60);
            if (it->undeliverable[0])
                printf(" - undeliverable: %s", it->undeliverable);
            printf("\n");
        }
        i = j;
    }
}

/* What deliveries plan and run begin with: the environment into *env, the
 * instant (--now, else the CLI's) into *now and the day in the
 * configured zone into cli->today, the database into *store. 0, or the
 * exit status with the reason told under "careclock deliveries CMD" and
 * nothing left open. */
static int open_at(cc_cli_t *cli, const char *cmd, const char *now_text, cc_cli_env_t *env, cc_store_t **store,
                   time_t *now)
{
    int rc = cc_cli_env_load(cli, env);
    if (rc != 0)
        return rc;
    *now = cli->now;
    if (now_text != NULL && cc_time_parse_wall(now_text, 0, now) != 0) {
        fprintf(stderr, "careclock deliveries %s: --now \"%s\" is not a local time YYYY-MM-DDTHH:MM\n", cmd, now_text);
        cc_cli_env_free(env);
        return CC_EXIT_USAGE;
    }
    if ((rc = cc_cli_open_db(cli, store)) != 0) {
        cc_cli_env_free(env);
        return rc;
    }
    cli->today = cc_time_local(*now).date;
    return 0;
}

static int cmd_plan(cc_cli_t *cli, int argc, char **argv)
{
    const char *now_text = NULL;
    int dry = 0;
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    char err[512], day[64];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0) {
            dry = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--now") == 0) {
            now_text = argv[++i];
        } else {
            fprintf(stderr, "careclock deliveries plan: unknown option or missing value \"%s\"\n", argv[i]);
            usage(stderr);
            return CC_EXIT_USAGE;
        }
    }
    time_t now;
    int rc = open_at(cli, "plan", now_text, &env, &store, &now);
    if (rc != 0)
        return rc;
    cc_local_time_t local = cc_time_local(now);
    if ((rc = cc_cli_refresh(cli, &env, store)) != 0)
        goto out;
    cc_outbox_plan_stats_t stats = {0};
    int failed;
    if (dry) {
        dry_list_t list = {0};
        failed = cc_outbox_plan_dry(store, &env, now, dry_collect, &list, &stats, err, sizeof(err));
        if (failed == CC_ENOMEM)
            snprintf(err, sizeof(err), "out of memory");
        if (failed == 0)
            dry_print(&list, local);
        dry_free(&list);
    } else {
        failed = cc_outbox_plan(store, &env, now, &stats, err, sizeof(err));
        if (failed == 0)
            printf("planned at %s %02d:%02d: %zu new (%zu undeliverable), cancelled %zu; nothing sent\n",
                   cc_date_format_human(local.date, day, sizeof(day)), local.minute / 60, local.minute % 60,
                   stats.enqueued, stats.undeliverable, stats.cancelled);
    }
    if (failed != 0) {
        fprintf(stderr, "careclock deliveries plan: %s\n", err);
        rc = CC_EXIT_FAIL;
        goto out;
    }
    print_since(&env, &stats);
out:
    cc_store_close(store);
    cc_cli_env_free(&env);
    return rc;
}

static int cmd_run(cc_cli_t *cli, int argc, char **argv)
{
    const char *now_text = NULL;
    long max_messages = 200, max_time = 300;
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    char err[512], day[64];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return CC_EXIT_OK;
        }
        if (i + 1 < argc && strcmp(a, "--now") == 0) {
            now_text = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--max-messages") == 0) {
            char *end;
            max_messages = strtol(argv[++i], &end, 10);
            if (*end != '\0' || max_messages < 1 || max_messages > 100000) {
                fprintf(stderr, "careclock deliveries run: --max-messages \"%s\" is not a number from 1 to 100000\n",
                        argv[i]);
                return CC_EXIT_USAGE;
            }
        } else if (i + 1 < argc && strcmp(a, "--max-time") == 0) {
            char *end;
            max_time = strtol(argv[++i], &end, 10);
            if (*end != '\0' || max_time < 1 || max_time > 86400) {
                fprintf(stderr, "careclock deliveries run: --max-time \"%s\" is not a number of seconds from 1 to 86400\n",
                        argv[i]);
                return CC_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "careclock deliveries run: unknown option or missing value \"%s\"\n", a);
            usage(stderr);
            return CC_EXIT_USAGE;
        }
    }
    time_t now;
    int rc = open_at(cli, "run", now_text, &env, &store, &now);
    if (rc != 0)
        return rc;
    cc_local_time_t local = cc_time_local(now);
    if ((rc = cc_cli_refresh(cli, &env, store)) != 0)
        goto out;
    cc_deliverer_options_t options;
    cc_deliver_stats_t stats;
    cc_deliverer_options_default(&options);
    options.max_messages = (size_t)max_messages;
    options.max_run_ms = (uint64_t)max_time * 1000;
    options.settle_seconds = 0; /* one pass plans and sends: its batch is gathered already */
    int failed = cc_deliver_once(store, &env, now, &options, 1000, &stats, err, sizeof(err));
    printf("deliveries at %s %02d:%02d: planned %zu new (%zu undeliverable), cancelled %zu", 
           cc_date_format_human(local.date, day, sizeof(day)), local.minute / 60, local.minute % 60,
           stats.plan.enqueued, stats.plan.undeliverable, stats.plan.cancelled);
    if (stats.recovered)
        printf(", recovered %zu interrupted", stats.recovered);
    printf("\n");
    print_since(&env, &stats.plan);
    if (!stats.window_open) {
        cc_local_time_t next = cc_planner_next_opening(env.cal, &env.planner, local);
        printf("outside the sending window (working days %02d:%02d-%02d:%02d): nothing sent; next opening %s "
               "%02d:%02d\n",
               env.config.window_start_minute / 60, env.config.window_start_minute % 60,
               env.config.window_end_minute / 60, env.config.window_end_minute % 60,
               cc_date_format_human(next.date, day, sizeof(day)), next.minute / 60, next.minute % 60);
    } else {
        printf("sent %zu message%s (%zu item%s), %zu to retry, %zu failed; %zu undeliverable at sending\n",
               stats.sent, stats.sent == 1 ? "" : "s", stats.items, stats.items == 1 ? "" : "s", stats.retrying,
               stats.failed, stats.skipped);
    }
    if (stats.gave_up)
        fprintf(stderr, "careclock deliveries run: gave up after %ld s (--max-time): what was in flight goes again "
                        "later, with the same ids\n",
                max_time);
    if (failed != 0) {
        fprintf(stderr, "careclock deliveries run: %s\n", err);
        rc = CC_EXIT_FAIL;
    } else if (stats.retrying > 0 || stats.failed > 0) {
        /* cron mails what a job prints and notices its status: a run that
         * left messages unsent says so in both. */
        fprintf(stderr,
                "careclock deliveries run: %zu message%s left to retry, %zu failed; see careclock deliveries "
                "--status retrying,failed\n",
                stats.retrying, stats.retrying == 1 ? "" : "s", stats.failed);
        rc = CC_EXIT_FAIL;
    }
out:
    cc_store_close(store);
    cc_cli_env_free(&env);
    return rc;
}

/* ---- retry, webhooks -------------------------------------------------------- */

static int cmd_retry(cc_cli_t *cli, int argc, char **argv)
{
    char err[512], *end;
    cc_store_t *store = NULL;
    if (argc != 3) {
        fprintf(stderr, "careclock deliveries retry: needs one delivery id\n");
        usage(stderr);
        return CC_EXIT_USAGE;
    }
    long long id = strtoll(argv[2], &end, 10);
    if (*end != '\0' || id <= 0) {
        fprintf(stderr, "careclock deliveries retry: \"%s\" is not a delivery id\n", argv[2]);
        return CC_EXIT_USAGE;
    }
    int rc = cc_cli_open_db(cli, &store);
    if (rc != 0)
        return rc;
    rc = cc_outbox_retry(store, id, cli->now, err, sizeof(err));
    cc_store_close(store);
    if (rc == 0) {
        printf("delivery %lld requeued: it goes at the next delivery cycle inside the sending window\n", id);
        return CC_EXIT_OK;
    }
    fprintf(stderr, "careclock deliveries retry: %s\n", err);
    return rc == CC_ENOTFOUND || rc == CC_ESTATE ? CC_EXIT_USAGE : CC_EXIT_FAIL;
}

static int cmd_webhooks(cc_cli_t *cli, int argc, char **argv)
{
    cc_cli_env_t env;
    cc_store_t *store = NULL;
    char since[512];
    (void)argv;
    if (argc != 2) {
        usage(stderr);
        return CC_EXIT_USAGE;
    }
    int rc = cc_cli_env_load(cli, &env);
    if (rc != 0)
        return rc;
    if ((rc = cc_cli_open_db(cli, &store)) != 0) {
        cc_cli_env_free(&env);
        return rc;
    }
    for (size_t i = 0; i < env.config.nwebhooks; i++) {
        const cc_webhook_config_t *w = &env.config.webhooks[i];
        int disabled = cc_outbox_webhook_disabled(store, w->name, since, sizeof(since));
        printf("%s  %s  %s  %s%s\n", w->name, cc_payload_format_name(w->format),
               w->secret_file ? "signed" : "unsigned", disabled > 0 ? "DISABLED " : "enabled",
               disabled > 0 ? since : "");
    }
    if (env.config.nwebhooks == 0)
        printf("(no [webhook:NAME] sections in the configuration)\n");
    cc_store_close(store);
    cc_cli_env_free(&env);
    return CC_EXIT_OK;
}

static int cmd_enable(cc_cli_t *cli, int argc, char **argv)
{
    cc_store_t *store = NULL;
    if (argc != 3) {
        fprintf(stderr, "careclock deliveries enable-webhook: needs the webhook's name\n");
        return CC_EXIT_USAGE;
    }
    int rc = cc_cli_open_db(cli, &store);
    if (rc != 0)
        return rc;
    rc = cc_outbox_webhook_enable(store, argv[2]);
    cc_store_close(store);
    if (rc == 0) {
        printf("webhook %s enabled: failed deliveries to it can be requeued with careclock deliveries retry ID\n",
               argv[2]);
        return CC_EXIT_OK;
    }
    if (rc == CC_ENOTFOUND) {
        fprintf(stderr, "careclock deliveries enable-webhook: webhook \"%s\" is not disabled\n", argv[2]);
        return CC_EXIT_USAGE;
    }
    fprintf(stderr, "careclock deliveries enable-webhook: %s\n", cc_strerror(rc));
    return CC_EXIT_FAIL;
}

/* ---- prune ------------------------------------------------------------------- */

static int cmd_prune(cc_cli_t *cli, int argc, char **argv)
{
    char err[512], day[CC_DATE_STRLEN], today[CC_DATE_STRLEN];
    cc_date_t before;
    size_t deleted = 0;
    cc_store_t *store = NULL;
    if (argc == 3 && strcmp(argv[2], "--retention") == 0) {
        /* The council's retention period, from the configuration (the
         * careclock-prune.timer runs this). */
        cc_cli_env_t env;
        int rc = cc_cli_env_load(cli, &env);
        if (rc != 0)
            return rc;
        int days = env.config.delivery_retention_days;
        cc_cli_env_free(&env);
        if (days <= 0) {
            printf("careclock deliveries prune: [notify] delivery_retention_days is not set in %s: nothing "
                   "pruned (set the council's retention period for delivery records there)\n",
                   cli->config_path ? cli->config_path : "the configuration");
            return CC_EXIT_OK;
        }
        before = cli->today - days;
    } else if (argc == 4 && strcmp(argv[2], "--before") == 0) {
        if (cc_date_parse(argv[3], &before) != 0) {
            fprintf(stderr, "careclock deliveries prune: --before \"%s\" is not a date (YYYY-MM-DD or DD/MM/YYYY)\n",
                    argv[3]);
            return CC_EXIT_USAGE;
        }
    } else {
        fprintf(stderr, "careclock deliveries prune: needs --before YYYY-MM-DD or --retention\n");
        usage(stderr);
        return CC_EXIT_USAGE;
    }
    if (before > cli->today) {
        fprintf(stderr, "careclock deliveries prune: --before %s is after today (%s)\n", cc_date_format(before, day),
                cc_date_format(cli->today, today));
        return CC_EXIT_USAGE;
    }
    int rc = cc_cli_open_db(cli, &store);
    if (rc != 0)
        return rc;
    rc = cc_outbox_prune(store, before, &deleted, err, sizeof(err));
    cc_store_close(store);
    if (rc != 0) {
        fprintf(stderr, "careclock deliveries prune: %s\n", err);
        return CC_EXIT_FAIL;
    }
    printf("pruned %zu delivery record%s of closed clocks, all final and last changed before %s\n", deleted,
           deleted == 1 ? "" : "s", cc_date_format(before, day));
    return CC_EXIT_OK;
}

int cc_cli_deliveries(cc_cli_t *cli, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CC_EXIT_OK;
        }
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "plan") == 0)
        return cmd_plan(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "retry") == 0)
        return cmd_retry(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "webhooks") == 0)
        return cmd_webhooks(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "enable-webhook") == 0)
        return cmd_enable(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "prune") == 0)
        return cmd_prune(cli, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "test") == 0)
        return cc_cli_deliveries_test(cli, argc, argv);
    return cmd_list(cli, argc, argv);
}
