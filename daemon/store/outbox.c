/* The outbox. See include/careclock/outbox.h and docs/delivery.md.
 *
 * Design notes:
 *  - Exactly once into the table: the planner's keys are the table's
 *    unique key and every insert is INSERT OR IGNORE, so planning again
 *    (every cycle, after a restart, after a recompute) adds nothing twice.
 *  - At most one message in flight per row: claim marks rows sending inside
 *    BEGIN IMMEDIATE, so two processes (careclockd and a cron run of
 *    `careclock deliveries run`) never claim the same row; rows are only
 *    handed back by recover, and only when the claimer (pid and process
 *    start time, so a reused pid does not count) is no longer running.
 *  - A message keeps its identity: the first claim writes batch (the id of
 *    its first row) and message_id on every row of it; later claims of
 *    those rows keep both, so a retry or a resend after a crash carries the
 *    same Message-ID / webhook-id and the same items (less any cancelled).
 *  - Timestamps are UTC text, which sorts as time: "ready now" is
 *    next_attempt_at <= now on the partial index deliveries_ready.
 */
#include "careclock/outbox.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "careclock/time.h"
#include "util/grow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RETRY_AFTER_CAP (12 * 3600)

static int webhook_disabled(sqlite3 *db, const char *name, char *since, size_t len);
#define CLAIM_ROWS_PER_MESSAGE 50

/* ---- small helpers -------------------------------------------------------- */

static int db_err(sqlite3 *db, char *err, size_t errlen)
{
    cc_set_err(err, errlen, "database: %s", cc_store_db_errmsg(db, NULL));
    return CC_EDB;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *text)
{
    if (text == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : CC_EDB;
}

/* A planner's write: 0, CC_EBUSY when the write lock could not be had
 * (planning reads in a deferred transaction, so a write may find that
 * another process wrote meanwhile), or CC_EDB. */
static int write_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : (rc & 0xff) == SQLITE_BUSY ? CC_EBUSY : CC_EDB;
}

static cc_date_t parse_date(const char *text)
{
    cc_date_t d;
    return text && cc_date_parse(text, &d) == 0 ? d : CC_DATE_NONE;
}

/* ---- plan ----------------------------------------------------------------- */

/* Every planning statement works on a range of child ids, [?lo, ?hi): a
 * slice of the council, or one child. hi is bound as an empty blob for "to
 * the end" (every text sorts before every blob), and lo as '' for "from
 * the start". The unary + (and CROSS JOIN, which fixes the join order)
 * keep SQLite on the child-id keys (the clocks' primary key, the outbox's
 * unique key) rather than the status indexes, whose scans would cover the
 * whole council for every slice. */
static const char PLAN_CLOCKS_SQL[] =
    "SELECT c.child_id, c.rule_id, c.seq, c.status, c.due_date, ch.team_id, ch.worker_id, w.email, ch.iro_id, "
    "i.email, t.manager_id, tm.email, t.service_manager_id, sm.email, t.webhook "
    "FROM clocks c JOIN children ch ON ch.id = c.child_id "
    "LEFT JOIN staff w ON w.id = ch.worker_id LEFT JOIN staff i ON i.id = ch.iro_id "
    "LEFT JOIN teams t ON t.id = ch.team_id LEFT JOIN staff tm ON tm.id = t.manager_id "
    "LEFT JOIN staff sm ON sm.id = t.service_manager_id "
    "WHERE c.child_id >= ?2 AND c.child_id < ?3 AND +c.status IN ('open', 'due_soon', 'overdue') "
    "AND +c.due_date IS NOT NULL AND +c.due_date <= ?1 "
    "ORDER BY c.child_id, c.rule_id, c.seq";

static const char PLAN_ESCALATED_SQL[] =
    "SELECT DISTINCT d.child_id, d.rule_id, d.seq, d.recipient, d.channel, d.role, c.status, "
    "CASE d.channel WHEN 'email' THEN s.email ELSE t.webhook END "
    "FROM deliveries d CROSS JOIN clocks c ON c.child_id = d.child_id AND c.rule_id = d.rule_id AND c.seq = d.seq "
    "LEFT JOIN staff s ON d.channel = 'email' AND s.id = d.recipient "
    "LEFT JOIN teams t ON d.channel = 'webhook' AND t.id = substr(d.recipient, 6) "
    "WHERE d.child_id >= ?1 AND d.child_id < ?2 AND +d.state = 'sent' AND +d.kind = 'escalation' "
    "AND +c.status IN ('met', 'met_late', 'cancelled') "
    "AND NOT EXISTS (SELECT 1 FROM deliveries m WHERE m.child_id = d.child_id AND m.rule_id = d.rule_id "
    "AND m.seq = d.seq AND m.stage = 'met' AND m.recipient = d.recipient AND m.channel = d.channel) "
    "ORDER BY d.child_id, d.rule_id, d.seq, d.recipient, d.channel";

static const char PLAN_EXISTS_SQL[] =
    "SELECT 1 FROM deliveries WHERE child_id = ?1 AND rule_id = ?2 AND seq = ?3 AND stage = ?4 AND recipient = ?5 "
    "AND channel = ?6";

static const char PLAN_INSERT_SQL[] =
    "INSERT OR IGNORE INTO deliveries (child_id, rule_id, seq, stage, recipient, channel, role, kind, address, "
    "due_date, stage_date, due_at, immediate, state, next_attempt_at, last_error, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)";

#define PLAN_CANCEL_WHERE                                                                                      \
    "WHERE child_id >= ?2 AND child_id < ?3 AND +state IN ('pending', 'retrying') AND kind != 'met' "             \
    "AND NOT EXISTS (SELECT 1 FROM clocks c WHERE "                                                               \
    "c.child_id = deliveries.child_id AND c.rule_id = deliveries.rule_id AND c.seq = deliveries.seq AND "         \
    "c.status IN ('open', 'due_soon', 'overdue'))"

/* ?1 is unused (bound for the shape shared with PLAN_CANCEL_SQL). */
static const char PLAN_CANCEL_ANY_SQL[] = "SELECT ?1, 1 FROM deliveries " PLAN_CANCEL_WHERE " LIMIT 1";

static const char PLAN_CANCEL_SQL[] =
    "UPDATE deliveries SET state = 'cancelled', claimed_by = NULL, updated_at = ?1, next_attempt_at = NULL, "
    "last_error = 'not sent: the clock is ' || coalesce((SELECT c.status FROM clocks c WHERE c.child_id = "
    "deliveries.child_id AND c.rule_id = deliveries.rule_id AND c.seq = deliveries.seq), 'gone') || ' now' "
    PLAN_CANCEL_WHERE;

/* The end of the next slice: the first child id after max_children of them
 * from ?1 (none: the slice runs to the end). */
static const char PLAN_SLICE_END_SQL[] = "SELECT id FROM children WHERE id >= ?1 ORDER BY id LIMIT 1 OFFSET ?2";

static const char PLAN_QUEUE_MARK_SQL[] = "SELECT coalesce(max(id), 0) FROM plan_queue";
static const char PLAN_QUEUE_ANY_SQL[] = "SELECT 1 FROM plan_queue LIMIT 1";
static const char PLAN_QUEUE_FIRST_SQL[] = "SELECT coalesce(min(id), 0) FROM plan_queue";
static const char PLAN_QUEUE_READ_SQL[] = "SELECT id, child_id FROM plan_queue ORDER BY id LIMIT ?1";
static const char PLAN_QUEUE_DONE_SQL[] = "DELETE FROM plan_queue WHERE id <= ?1";

const char *cc_outbox_plan_sql(size_t i)
{
    static const char *const all[] = {PLAN_CLOCKS_SQL,     PLAN_ESCALATED_SQL, PLAN_EXISTS_SQL,
                                      PLAN_CANCEL_ANY_SQL, PLAN_CANCEL_SQL,    PLAN_SLICE_END_SQL};
    return i < sizeof(all) / sizeof(all[0]) ? all[i] : NULL;
}

typedef struct {
    sqlite3 *db;
    const cc_env_t *env;
    cc_local_time_t local;
    char horizon[CC_DATE_STRLEN];
    sqlite3_stmt *active, *escalated, *exists, *insert, *cancel_any, *cancel;
    cc_plan_t plan;
    const char *now;
    cc_outbox_plan_stats_t *stats;
} planner_t;

/* A range of child ids [lo, hi); hi NULL: to the end. */
typedef struct {
    const char *lo, *hi;
} range_t;

static void bind_range(sqlite3_stmt *st, int i, range_t r)
{
    bind_text(st, i, r.lo);
    if (r.hi == NULL)
        sqlite3_bind_zeroblob(st, i + 1, 0);
    else
        bind_text(st, i + 1, r.hi);
}

/* A delivery's unique key (child, rule, seq, stage, recipient, channel) as
 * parameters 1 to 6: the same in the lookup and in the insert. */
static void bind_key(sqlite3_stmt *st, const char *child_id, const char *rule_id, int seq, const cc_planned_t *d)
{
    bind_text(st, 1, child_id);
    bind_text(st, 2, rule_id);
    sqlite3_bind_int(st, 3, seq);
    bind_text(st, 4, d->stage);
    bind_text(st, 5, d->recipient);
    bind_text(st, 6, cc_channel_name(d->channel));
}

static int enqueue(planner_t *p, const char *child_id, const char *rule_id, int seq, cc_date_t due)
{
    char due_s[CC_DATE_STRLEN], stage_s[CC_DATE_STRLEN], due_at[32];
    const cc_plan_t *plan = &p->plan;
    for (size_t i = 0; i < plan->len; i++) {
        const cc_planned_t *d = &plan->items[i];
        int undeliverable = d->undeliverable[0] != '\0';
        /* Planned before (nearly always, once a council's first plan is
         * made): a read, so a plan with nothing new never takes the write
         * lock. */
        sqlite3_stmt *ex = p->exists;
        sqlite3_reset(ex);
        bind_key(ex, child_id, rule_id, seq, d);
        int found = sqlite3_step(ex);
        sqlite3_reset(ex);
        if (found != SQLITE_ROW && found != SQLITE_DONE)
            return CC_EDB;
        p->stats->planned++;
        if (found == SQLITE_ROW)
            continue;
        sqlite3_stmt *st = p->insert;
        cc_time_format_utc(cc_time_from_local(d->due_at), due_at, sizeof(due_at));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        bind_key(st, child_id, rule_id, seq, d);
        bind_text(st, 7, cc_role_name(d->role));
        bind_text(st, 8, cc_notice_kind_name(d->kind));
        bind_text(st, 9, d->address);
        bind_text(st, 10, due == CC_DATE_NONE ? NULL : cc_date_format(due, due_s));
        bind_text(st, 11, cc_date_format(d->stage_date, stage_s));
        bind_text(st, 12, due_at);
        sqlite3_bind_int(st, 13, d->immediate);
        bind_text(st, 14, undeliverable ? "undeliverable" : "pending");
        bind_text(st, 15, undeliverable ? NULL : due_at);
        bind_text(st, 16, undeliverable ? d->undeliverable : NULL);
        bind_text(st, 17, p->now);
        int rc = write_done(st);
        if (rc != 0)
            return rc;
        if (sqlite3_changes(p->db) > 0) {
            p->stats->enqueued++;
            p->stats->undeliverable += (size_t)undeliverable;
        }
    }
    return 0;
}

/* The latest horizon of a due date whose stages may have come by today:
 * today plus the longest lead of any stage, with a week to spare. */
static cc_date_t plan_horizon(const cc_env_t *env, cc_date_t today)
{
    int lead = 0;
    for (size_t i = 0; i < cc_ruleset_count(env->rules); i++) {
        const cc_rule_t *r = cc_ruleset_rule(env->rules, i);
        for (int j = 0; j < r->nstages; j++)
            if (-r->stages[j].offset.n > lead)
                lead = -r->stages[j].offset.n;
    }
    cc_date_t horizon = today + 2 * lead;
    if (cc_calendar_add_working_days(env->cal, today, lead, &horizon) != 0 && horizon < today)
        horizon = today + 2 * lead;
    return horizon + 7;
}

/* The open clocks of the range whose stages may have come. */
static int plan_active(planner_t *p, range_t r)
{
    sqlite3_stmt *st = p->active;
    int rc = 0, step;
    sqlite3_reset(st);
    bind_text(st, 1, p->horizon);
    bind_range(st, 2, r);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        cc_planner_clock_t clock = {0};
        clock.child_id = col(st, 0);
        clock.rule_id = col(st, 1);
        clock.seq = sqlite3_column_int(st, 2);
        int status = cc_status_parse(col(st, 3));
        clock.status = status < 0 ? CC_STATUS_DATA_ERROR : (cc_status_t)status;
        clock.due = parse_date(col(st, 4));
        clock.team_id = col(st, 5);
        clock.parties[CC_ROLE_WORKER] = (cc_planner_party_t){col(st, 6), col(st, 7)};
        clock.parties[CC_ROLE_IRO] = (cc_planner_party_t){col(st, 8), col(st, 9)};
        clock.parties[CC_ROLE_TEAM_MANAGER] = (cc_planner_party_t){col(st, 10), col(st, 11)};
        clock.parties[CC_ROLE_SERVICE_MANAGER] = (cc_planner_party_t){col(st, 12), col(st, 13)};
        clock.parties[CC_ROLE_TEAM_WEBHOOK] = (cc_planner_party_t){col(st, 5), col(st, 14)};
        const cc_rule_t *rule = clock.rule_id ? cc_ruleset_find(p->env->rules, clock.rule_id) : NULL;
        p->stats->clocks++;
        if (rule == NULL)
            continue;
        cc_plan_reset(&p->plan);
        if ((rc = cc_planner_plan(rule, &clock, p->env->cal, &p->env->planner, p->local, &p->plan)) != 0 ||
            (rc = enqueue(p, clock.child_id, clock.rule_id, clock.seq, clock.due)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(st);
    return rc;
}

/* The escalations sent for one closed clock, gathered row by row. */
typedef struct {
    char *child_id, *rule_id;
    int seq;
    cc_status_t status;
    cc_planner_sent_t *sent;
    size_t n, cap;
} closed_t;

static void closed_clear(closed_t *c)
{
    free(c->child_id);
    free(c->rule_id);
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->sent[i].recipient);
        free((char *)c->sent[i].address);
    }
    c->child_id = c->rule_id = NULL;
    c->n = 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int closed_flush(planner_t *p, closed_t *c)
{
    if (c->child_id == NULL || c->n == 0)
        return 0;
    cc_planner_clock_t clock = {.child_id = c->child_id, .rule_id = c->rule_id, .seq = c->seq, .status = c->status,
                               .due = CC_DATE_NONE, .escalated = c->sent, .nescalated = c->n};
    cc_plan_reset(&p->plan);
    p->stats->clocks++;
    int rc = cc_planner_plan(cc_ruleset_find(p->env->rules, c->rule_id), &clock, p->env->cal, &p->env->planner,
                            p->local, &p->plan);
    return rc ? rc : enqueue(p, c->child_id, c->rule_id, c->seq, CC_DATE_NONE);
}

/* The closed clocks of the range whose escalations were sent and whose
 * "now met" notices are not planned yet. */
static int plan_closed(planner_t *p, range_t r)
{
    closed_t c = {0};
    sqlite3_stmt *st = p->escalated;
    int rc = 0, step;
    sqlite3_reset(st);
    bind_range(st, 1, r);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *child = col(st, 0), *rule = col(st, 1);
        int seq = sqlite3_column_int(st, 2);
        if (c.child_id == NULL || strcmp(c.child_id, child ? child : "") != 0 ||
            strcmp(c.rule_id, rule ? rule : "") != 0 || c.seq != seq) {
            if ((rc = closed_flush(p, &c)) != 0)
                break;
            closed_clear(&c);
            c.child_id = strdup(child ? child : "");
            c.rule_id = strdup(rule ? rule : "");
            c.seq = seq;
            int status = cc_status_parse(col(st, 6));
            c.status = status < 0 ? CC_STATUS_MET : (cc_status_t)status;
        }
        if (cc__grow(&c.sent, &c.cap, c.n + 1, sizeof(*c.sent), 4) != 0) {
            rc = CC_ENOMEM;
            break;
        }
        int channel = cc_channel_parse(col(st, 4)), role = cc_role_parse(col(st, 5));
        cc_planner_sent_t *s = &c.sent[c.n++];
        s->recipient = dup_or_null(col(st, 3));
        s->channel = channel < 0 ? CC_CHANNEL_EMAIL : (cc_channel_t)channel;
        s->role = role < 0 ? CC_ROLE_TEAM_MANAGER : (cc_role_t)role;
        s->address = dup_or_null(col(st, 7));
        if (c.child_id == NULL || c.rule_id == NULL || s->recipient == NULL) {
            rc = CC_ENOMEM;
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(st);
    if (rc == 0)
        rc = closed_flush(p, &c);
    closed_clear(&c);
    free(c.sent);
    return rc;
}

/* Everything the planner does for a range of children: their open clocks,
 * their closed escalated ones, and the pending rows of clocks closed since. */
static int plan_range(planner_t *p, range_t r)
{
    int rc;
    if ((rc = plan_active(p, r)) != 0 || (rc = plan_closed(p, r)) != 0)
        return rc;
    sqlite3_reset(p->cancel_any);
    bind_text(p->cancel_any, 1, p->now);
    bind_range(p->cancel_any, 2, r);
    int any = sqlite3_step(p->cancel_any);
    sqlite3_reset(p->cancel_any);
    if (any == SQLITE_DONE)
        return 0;
    if (any != SQLITE_ROW)
        return CC_EDB;
    sqlite3_reset(p->cancel);
    bind_text(p->cancel, 1, p->now);
    bind_range(p->cancel, 2, r);
    if ((rc = write_done(p->cancel)) != 0)
        return rc;
    p->stats->cancelled += (size_t)sqlite3_changes(p->db);
    return 0;
}

/* Open a planning transaction: its statements and the day's horizon. The
 * transaction is deferred: it reads until the first new row, and only then
 * takes the write lock (failing with SQLITE_BUSY when another process
 * committed since it began: the step is simply tried again). A plan that
 * finds nothing new, as most do, never blocks another writer. No audit
 * actor: the outbox and the plan queue are not audited. */
static int planner_begin(planner_t *p, cc_store_t *store, const cc_env_t *env, time_t now, char *stamp,
                         size_t stamplen, cc_outbox_plan_stats_t *stats)
{
    memset(p, 0, sizeof(*p));
    p->db = cc_store_db(store);
    p->env = env;
    p->now = cc_time_format_utc(now, stamp, stamplen);
    p->stats = stats;
    p->local = cc_time_local(now);
    cc_date_format(plan_horizon(env, p->local.date), p->horizon);
    cc_plan_init(&p->plan);
    if (sqlite3_exec(p->db, "BEGIN DEFERRED", NULL, NULL, NULL) != SQLITE_OK)
        return CC_EDB;
    p->active = prepare(p->db, PLAN_CLOCKS_SQL);
    p->escalated = prepare(p->db, PLAN_ESCALATED_SQL);
    p->exists = prepare(p->db, PLAN_EXISTS_SQL);
    p->insert = prepare(p->db, PLAN_INSERT_SQL);
    p->cancel_any = prepare(p->db, PLAN_CANCEL_ANY_SQL);
    p->cancel = prepare(p->db, PLAN_CANCEL_SQL);
    return p->active && p->escalated && p->exists && p->insert && p->cancel_any && p->cancel ? 0 : CC_EDB;
}

/* Close the planning transaction: commit when rc is 0, else roll back and
 * describe rc in err. Returns rc, or the commit's failure; CC_EBUSY when
 * the write lock could not be had (held by another process, or taken and
 * committed since this transaction began): the same step can be tried
 * again at once. */
static int planner_end(planner_t *p, int rc, char *err, size_t errlen)
{
    int busy = rc == CC_EBUSY;
    if (rc == CC_EDB || rc == CC_EBUSY) {
        db_err(p->db, err, errlen);
        rc = CC_EDB;
    } else if (rc == CC_ENOMEM) {
        cc_set_err(err, errlen, "out of memory");
    }
    sqlite3_finalize(p->active);
    sqlite3_finalize(p->escalated);
    sqlite3_finalize(p->exists);
    sqlite3_finalize(p->insert);
    sqlite3_finalize(p->cancel_any);
    sqlite3_finalize(p->cancel);
    cc_plan_free(&p->plan);
    if (rc == 0) {
        if (sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
            return 0;
        rc = CC_EDB;
        busy = (sqlite3_errcode(p->db) & 0xff) == SQLITE_BUSY;
        db_err(p->db, err, errlen);
    }
    if (!sqlite3_get_autocommit(p->db))
        sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
    return busy ? CC_EBUSY : rc;
}

void cc_outbox_plan_stats_add(cc_outbox_plan_stats_t *sum, const cc_outbox_plan_stats_t *s)
{
    if (sum == NULL)
        return;
    sum->clocks += s->clocks;
    sum->planned += s->planned;
    sum->enqueued += s->enqueued;
    sum->undeliverable += s->undeliverable;
    sum->cancelled += s->cancelled;
    sum->children += s->children;
}

/* Delete the plan queue's rows up to id upto (planned): 0, CC_EBUSY or
 * CC_EDB, as write_done. */
static int queue_done(sqlite3 *db, int64_t upto)
{
    sqlite3_stmt *st = prepare(db, PLAN_QUEUE_DONE_SQL);
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_int64(st, 1, upto);
    int rc = write_done(st);
    sqlite3_finalize(st);
    return rc;
}

static int query_int64(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = prepare(db, sql);
    int step = st ? sqlite3_step(st) : SQLITE_ERROR;
    *out = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : CC_EDB;
}

void cc_outbox_full_init(cc_outbox_full_t *full)
{
    memset(full, 0, sizeof(*full));
}

void cc_outbox_full_free(cc_outbox_full_t *full)
{
    free(full->next);
    memset(full, 0, sizeof(*full));
}

int cc_outbox_plan_slice(cc_store_t *store, const cc_env_t *env, time_t now, cc_outbox_full_t *full,
                         size_t max_children, cc_outbox_plan_stats_t *stats, char *err, size_t errlen)
{
    planner_t p;
    char stamp[32];
    cc_outbox_plan_stats_t got = {0};
    char *end = NULL;
    int64_t mark = full->mark;
    int rc = planner_begin(&p, store, env, now, stamp, sizeof(stamp), &got);
    if (rc == 0 && !full->started)
        rc = query_int64(p.db, PLAN_QUEUE_MARK_SQL, &mark);
    if (rc == 0) {
        sqlite3_stmt *st = prepare(p.db, PLAN_SLICE_END_SQL);
        int step = SQLITE_ERROR;
        if (st != NULL) {
            bind_text(st, 1, full->next ? full->next : "");
            sqlite3_bind_int64(st, 2, (sqlite3_int64)(max_children ? max_children : 1));
            step = sqlite3_step(st);
            if (step == SQLITE_ROW && (end = strdup(col(st, 0) ? col(st, 0) : "")) == NULL)
                rc = CC_ENOMEM;
        }
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = CC_EDB;
        sqlite3_finalize(st);
    }
    if (rc == 0)
        rc = plan_range(&p, (range_t){full->next ? full->next : "", end});
    int64_t queued = 0;
    if (rc == 0 && end == NULL && mark > 0)
        rc = query_int64(p.db, PLAN_QUEUE_FIRST_SQL, &queued);
    if (rc == 0 && end == NULL && queued > 0 && queued <= mark) {
        /* The last slice: the queued children up to the mark were queued
         * before the first slice began, so every slice has seen them. */
        rc = queue_done(p.db, mark);
    }
    rc = planner_end(&p, rc, err, errlen);
    if (rc != 0) {
        free(end);
        return rc;
    }
    cc_outbox_plan_stats_add(stats, &got); /* a step's figures count once it is committed */
    full->started = 1;
    full->mark = mark;
    free(full->next);
    full->next = end;
    full->done = end == NULL;
    return 0;
}

/* The queue's next rows (at most limit), as sorted distinct child ids. */
typedef struct {
    char **ids;
    size_t n, cap;
    int64_t last;
    size_t rows;
} queued_t;

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int queue_read(sqlite3 *db, size_t limit, queued_t *q)
{
    sqlite3_stmt *st = prepare(db, PLAN_QUEUE_READ_SQL);
    int step = SQLITE_ERROR, rc = 0;
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        q->last = sqlite3_column_int64(st, 0);
        q->rows++;
        const char *id = col(st, 1);
        if (id == NULL)
            continue;
        if (cc__grow(&q->ids, &q->cap, q->n + 1, sizeof(*q->ids), 16) != 0 || (q->ids[q->n] = strdup(id)) == NULL) {
            rc = CC_ENOMEM;
            break;
        }
        q->n++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    if (rc != 0)
        return rc;
    qsort(q->ids, q->n, sizeof(*q->ids), compare_str);
    size_t kept = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (kept > 0 && strcmp(q->ids[kept - 1], q->ids[i]) == 0)
            free(q->ids[i]);
        else
            q->ids[kept++] = q->ids[i];
    }
    q->n = kept;
    return 0;
}

int cc_outbox_plan_queued(cc_store_t *store, const cc_env_t *env, time_t now, size_t max_children, int *more,
                          cc_outbox_plan_stats_t *stats, char *err, size_t errlen)
{
    planner_t p;
    char stamp[32];
    cc_outbox_plan_stats_t step = {0};
    queued_t q = {0};
    int64_t any = 0;
    *more = 0;
    /* Most cycles find the queue empty: a read, not a write transaction. */
    if (query_int64(cc_store_db(store), PLAN_QUEUE_ANY_SQL, &any) != 0)
        return db_err(cc_store_db(store), err, errlen);
    if (!any)
        return 0;
    size_t limit = max_children ? max_children : 1;
    int rc = planner_begin(&p, store, env, now, stamp, sizeof(stamp), &step);
    if (rc == 0)
        rc = queue_read(p.db, limit, &q);
    for (size_t i = 0; rc == 0 && i < q.n; i++) {
        /* One child: [id, id "\x01"): ids hold no control characters
         * (nor could a C string hold the "\0" between). */
        size_t len = strlen(q.ids[i]);
        char *hi = malloc(len + 2);
        if (hi == NULL) {
            rc = CC_ENOMEM;
            break;
        }
        memcpy(hi, q.ids[i], len);
        hi[len] = '\x01';
        hi[len + 1] = '\0';
        rc = plan_range(&p, (range_t){q.ids[i], hi});
        free(hi);
    }
    if (rc == 0 && q.rows > 0)
        rc = queue_done(p.db, q.last);
    rc = planner_end(&p, rc, err, errlen);
    if (rc == 0) {
        *more = q.rows >= limit;
        step.children = q.n;
        cc_outbox_plan_stats_add(stats, &step);
    }
    cc_store_free_ids(q.ids, q.n);
    return rc;
}

/* Steps refused as busy, in all, before cc_outbox_plan gives up. */
#define PLAN_BUSY_TRIES 50

int cc_outbox_plan(cc_store_t *store, const cc_env_t *env, time_t now, cc_outbox_plan_stats_t *stats, char *err,
                   size_t errlen)
{
    cc_outbox_full_t full;
    int rc = 0, more = 1, busy = 0;
    cc_outbox_full_init(&full);
    while ((rc == 0 || (rc == CC_EBUSY && ++busy < PLAN_BUSY_TRIES)) && !full.done)
        rc = cc_outbox_plan_slice(store, env, now, &full, CC_OUTBOX_SLICE_CHILDREN, stats, err, errlen);
    cc_outbox_full_free(&full);
    while ((rc == 0 || (rc == CC_EBUSY && ++busy < PLAN_BUSY_TRIES)) && more)
        rc = cc_outbox_plan_queued(store, env, now, CC_OUTBOX_SLICE_CHILDREN, &more, stats, err, errlen);
    return rc;
}

/* ---- claim ---------------------------------------------------------------- */

static char *keep(cc_outbox_claim_t *c, const char *s, int *oom)
{
    if (s == NULL)
        return NULL;
    if (cc__grow(&c->strings, &c->capstrings, c->nstrings + 1, sizeof(*c->strings), 64) != 0) {
        *oom = 1;
        return NULL;
    }
    char *copy = strdup(s);
    if (copy == NULL) {
        *oom = 1;
        return NULL;
    }
    c->strings[c->nstrings++] = copy;
    return copy;
}

void cc_outbox_claim_free(cc_outbox_claim_t *claim)
{
    if (claim == NULL)
        return;
    for (size_t i = 0; i < claim->n; i++)
        free(claim->messages[i].items);
    free(claim->messages);
    for (size_t i = 0; i < claim->nstrings; i++)
        free(claim->strings[i]);
    free(claim->strings);
    memset(claim, 0, sizeof(*claim));
}

typedef struct {
    int64_t id, batch;
    char *recipient;
    int channel, immediate;
    int taken;
} ready_t;

typedef struct {
    int64_t *ids;
    size_t n, cap;
    int64_t batch;            /* 0 when new */
    const char *recipient;    /* borrowed from a ready_t */
    int channel;
} group_t;

static int group_add(group_t *g, int64_t id)
{
    if (cc__grow(&g->ids, &g->cap, g->n + 1, sizeof(*g->ids), 8) != 0)
        return CC_ENOMEM;
    g->ids[g->n++] = id;
    return 0;
}

static const char META_INSTANCE_SQL[] = "SELECT value FROM meta WHERE key = 'outbox_instance'";
static const char READY_SQL[] =
    "SELECT id, batch, recipient, channel, immediate FROM deliveries WHERE state IN ('pending', 'retrying') AND "
    "next_attempt_at <= ?1 ORDER BY id LIMIT ?2";
static const char BATCH_ROWS_SQL[] =
    "SELECT id FROM deliveries WHERE batch = ?1 AND state IN ('pending', 'retrying') AND next_attempt_at <= ?2 "
    "ORDER BY id";
static const char BATCH_ID_SQL[] = "SELECT message_id FROM deliveries WHERE batch = ?1 AND message_id IS NOT NULL "
                                   "LIMIT 1";
static const char STAFF_SQL[] = "SELECT name, email FROM staff WHERE id = ?1";
static const char TEAM_SQL[] = "SELECT name, webhook FROM teams WHERE id = ?1";
static const char MARK_SENDING_SQL[] =
    "UPDATE deliveries SET state = 'sending', batch = ?2, message_id = coalesce(message_id, ?3), claimed_by = ?4, "
    "attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ?5), address = ?6, updated_at = ?5 "
    "WHERE id = ?1";
static const char MARK_FINAL_SQL[] =
    "UPDATE deliveries SET state = ?2, last_error = ?3, next_attempt_at = NULL, claimed_by = NULL, updated_at = ?4 "
    "WHERE id = ?1";
static const char ITEM_SQL[] =
    "SELECT d.id, d.kind, d.stage, d.role, d.child_id, d.rule_id, d.seq, d.attempts, d.first_attempt_at, "
    "c.title, c.source, coalesce(c.due_date, d.due_date), c.status, c.met_on, c.flags, c.reason, ch.initials, "
    "ch.full_name, ch.team_id, t.name, w.name, d.message_id "
    "FROM deliveries d LEFT JOIN clocks c ON c.child_id = d.child_id AND c.rule_id = d.rule_id AND c.seq = d.seq "
    "LEFT JOIN children ch ON ch.id = d.child_id LEFT JOIN teams t ON t.id = ch.team_id "
    "LEFT JOIN staff w ON w.id = ch.worker_id WHERE d.id = ?1";

typedef struct {
    sqlite3 *db;
    const cc_env_t *env;
    cc_outbox_claim_t *out;
    const char *now;
    time_t now_t;
    const char *claimer;
    char instance[64];
    sqlite3_stmt *staff, *team, *mark, *final, *item, *batch_id;
} claimer_t;

/* Record every row of g in a final state (undeliverable or failed). */
static int finalise(claimer_t *c, const group_t *g, const char *state, const char *reason)
{
    for (size_t i = 0; i < g->n; i++) {
        sqlite3_stmt *st = c->final;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, g->ids[i]);
        bind_text(st, 2, state);
        bind_text(st, 3, reason);
        bind_text(st, 4, c->now);
        if (step_done(st) != 0)
            return CC_EDB;
    }
    c->out->skipped += g->n;
    return 0;
}

/* Where a group goes now: its address and the recipient's name, or why it
 * cannot go (*state and reason set). Returns 0 or CC_EDB. */
static int resolve_group(claimer_t *c, const group_t *g, char *address, size_t alen, char *name, size_t nlen,
                         const char **state, char *reason, size_t rlen, cc_webhook_format_t *format)
{
    *state = NULL;
    address[0] = name[0] = '\0';
    int webhook = g->channel == CC_CHANNEL_WEBHOOK;
    const char *key = webhook ? (strncmp(g->recipient, "team:", 5) == 0 ? g->recipient + 5 : "") : g->recipient;
    sqlite3_stmt *st = webhook ? c->team : c->staff;
    sqlite3_reset(st);
    bind_text(st, 1, key);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(name, nlen, "%s", col(st, 0) ? col(st, 0) : "");
        snprintf(address, alen, "%s", col(st, 1) ? col(st, 1) : "");
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return CC_EDB;
    if (webhook) {
        const cc_webhook_config_t *w = address[0] ? cc_config_webhook(&c->env->config, address) : NULL;
        if (step != SQLITE_ROW)
            snprintf(reason, rlen, "team %.80s does not exist now", key);
        else if (address[0] == '\0')
            snprintf(reason, rlen, "team %.80s has no webhook now", key);
        else if (w == NULL)
            snprintf(reason, rlen, "team %.80s names webhook \"%.120s\", which the configuration does not define",
                     key, address);
        if (step != SQLITE_ROW || w == NULL) {
            *state = "undeliverable";
            return 0;
        }
        *format = w->format;
        char since[256];
        int disabled = webhook_disabled(c->db, address, since, sizeof(since));
        if (disabled < 0)
            return CC_EDB;
        if (disabled) {
            snprintf(reason, rlen,
                     "webhook %.100s is disabled (%.160s); `careclock deliveries enable-webhook %.100s` enables it",
                     address, since, address);
            *state = "failed";
        }
        return 0;
    }
    if (step != SQLITE_ROW)
        snprintf(reason, rlen, "staff %.80s does not exist now", key);
    else if (address[0] == '\0')
        snprintf(reason, rlen, "staff %.80s has no email address now", key);
    else if (!cc_email_valid(address))
        snprintf(reason, rlen, "staff %.80s has an email address that is not valid (a line break, space or angle "
                               "bracket in it)",
                 key);
    else if (c->env->planner.email_unavailable != NULL)
        snprintf(reason, rlen, "%s", c->env->planner.email_unavailable);
    else
        return 0;
    *state = "undeliverable";
    return 0;
}

/* Load the content of one claimed row into item. */
static int load_item(claimer_t *c, int64_t id, cc_message_item_t *item, cc_outbox_message_t *m, int *oom)
{
    sqlite3_stmt *st = c->item;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return CC_EDB;
    }
    cc_outbox_claim_t *o = c->out;
    memset(item, 0, sizeof(*item));
    item->delivery_id = sqlite3_column_int64(st, 0);
    int kind = cc_notice_kind_parse(col(st, 1)), role = cc_role_parse(col(st, 3));
    item->kind = kind < 0 ? CC_NOTICE_REMINDER : (cc_notice_kind_t)kind;
    item->stage = keep(o, col(st, 2), oom);
    item->role = role < 0 ? CC_ROLE_WORKER : (cc_role_t)role;
    item->child_id = keep(o, col(st, 4), oom);
    item->rule_id = keep(o, col(st, 5), oom);
    item->seq = sqlite3_column_int(st, 6);
    int attempts = sqlite3_column_int(st, 7);
    if (attempts > m->attempts)
        m->attempts = attempts;
    time_t first = cc_time_parse_utc(col(st, 8));
    if (first != (time_t)-1 && (m->first_attempt_at == 0 || first < m->first_attempt_at))
        m->first_attempt_at = first;
    item->title = keep(o, col(st, 9), oom);
    item->source = keep(o, col(st, 10), oom);
    item->due = parse_date(col(st, 11));
    if (col(st, 12) == NULL) {
        item->status = CC_STATUS_CANCELLED;
        item->reason = "the clock no longer exists";
    } else {
        int status = cc_status_parse(col(st, 12));
        item->status = status < 0 ? CC_STATUS_DATA_ERROR : (cc_status_t)status;
        item->reason = keep(o, col(st, 15), oom);
    }
    item->met_on = parse_date(col(st, 13));
    item->projected = (sqlite3_column_int(st, 14) & CC_CLOCK_PROJECTED) != 0;
    item->initials = keep(o, col(st, 16), oom);
    item->full_name = keep(o, col(st, 17), oom);
    item->team_id = keep(o, col(st, 18), oom);
    item->team_name = keep(o, col(st, 19), oom);
    item->worker_name = keep(o, col(st, 20), oom);
    if (m->msg.message_id == NULL)
        m->msg.message_id = keep(o, col(st, 21), oom);
    sqlite3_reset(st);
    return 0;
}

/* Claim one group as one message (or record why it cannot go). */
static int claim_group(claimer_t *c, const group_t *g)
{
    char address[512], name[512], reason[512], msgid[256];
    const char *state = NULL;
    cc_webhook_format_t format = CC_WEBHOOK_GENERIC;
    int oom = 0, rc;
    if ((rc = resolve_group(c, g, address, sizeof(address), name, sizeof(name), &state, reason, sizeof(reason),
                            &format)) != 0)
        return rc;
    if (state != NULL)
        return finalise(c, g, state, reason);
    int64_t batch = g->batch;
    msgid[0] = '\0';
    if (batch == 0) {
        batch = g->ids[0];
        for (size_t i = 1; i < g->n; i++)
            if (g->ids[i] < batch)
                batch = g->ids[i];
    } else {
        sqlite3_reset(c->batch_id);
        sqlite3_bind_int64(c->batch_id, 1, batch);
        if (sqlite3_step(c->batch_id) == SQLITE_ROW && col(c->batch_id, 0))
            snprintf(msgid, sizeof(msgid), "%s", col(c->batch_id, 0));
        sqlite3_reset(c->batch_id);
    }
    if (msgid[0] == '\0')
        cc_message_id(msgid, sizeof(msgid), (cc_channel_t)g->channel, c->instance, batch, c->env->config.smtp_from);
    for (size_t i = 0; i < g->n; i++) {
        sqlite3_stmt *st = c->mark;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, g->ids[i]);
        sqlite3_bind_int64(st, 2, batch);
        bind_text(st, 3, msgid);
        bind_text(st, 4, c->claimer);
        bind_text(st, 5, c->now);
        bind_text(st, 6, address);
        if (step_done(st) != 0)
            return CC_EDB;
    }
    cc_outbox_claim_t *o = c->out;
    cc_outbox_message_t *m = &o->messages[o->n];
    memset(m, 0, sizeof(*m));
    m->items = calloc(g->n, sizeof(*m->items));
    if (m->items == NULL)
        return CC_ENOMEM;
    o->n++;
    m->format = format;
    m->msg.batch = batch;
    m->msg.channel = (cc_channel_t)g->channel;
    m->msg.recipient = keep(o, g->recipient, &oom);
    m->msg.recipient_name = keep(o, name, &oom);
    m->msg.address = keep(o, address, &oom);
    m->msg.items = m->items;
    m->msg.nitems = g->n;
    for (size_t i = 0; i < g->n && rc == 0; i++)
        rc = load_item(c, g->ids[i], &m->items[i], m, &oom);
    if (m->msg.message_id == NULL)
        m->msg.message_id = keep(o, msgid, &oom);
    return rc ? rc : oom ? CC_ENOMEM : 0;
}

static int load_instance(claimer_t *c)
{
    sqlite3_stmt *st = prepare(c->db, META_INSTANCE_SQL);
    if (st == NULL)
        return CC_EDB;
    snprintf(c->instance, sizeof(c->instance), "0");
    if (sqlite3_step(st) == SQLITE_ROW && col(st, 0))
        snprintf(c->instance, sizeof(c->instance), "%s", col(st, 0));
    sqlite3_finalize(st);
    return 0;
}

/* Read the ready rows (at most limit) into *rows. */
static int read_ready(claimer_t *c, size_t limit, ready_t **rows, size_t *n)
{
    size_t cap = 0;
    int step, rc = 0;
    sqlite3_stmt *st = prepare(c->db, READY_SQL);
    *rows = NULL;
    *n = 0;
    if (st == NULL)
        return CC_EDB;
    bind_text(st, 1, c->now);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (cc__grow(rows, &cap, *n + 1, sizeof(**rows), 64) != 0) {
            rc = CC_ENOMEM;
            break;
        }
        ready_t *r = &(*rows)[(*n)++];
        memset(r, 0, sizeof(*r));
        r->id = sqlite3_column_int64(st, 0);
        r->batch = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
        r->recipient = strdup(col(st, 2) ? col(st, 2) : "");
        int ch = cc_channel_parse(col(st, 3));
        r->channel = ch < 0 ? CC_CHANNEL_EMAIL : ch;
        r->immediate = sqlite3_column_int(st, 4);
        if (r->recipient == NULL) {
            rc = CC_ENOMEM;
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

static int batch_rows(claimer_t *c, int64_t batch, group_t *g)
{
    sqlite3_stmt *st = prepare(c->db, BATCH_ROWS_SQL);
    int step, rc = 0;
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_int64(st, 1, batch);
    bind_text(st, 2, c->now);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = group_add(g, sqlite3_column_int64(st, 0));
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

static int claim_all(claimer_t *c, size_t max_messages)
{
    ready_t *rows = NULL;
    size_t nrows = 0, limit = max_messages * CLAIM_ROWS_PER_MESSAGE;
    group_t g = {0};
    int rc = read_ready(c, limit, &rows, &nrows), digest = c->env->config.digest;
    if (rc == 0 && nrows == limit)
        c->out->more = 1;
    if (rc == 0 && (c->out->messages = calloc(max_messages ? max_messages : 1, sizeof(cc_outbox_message_t))) == NULL)
        rc = CC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < nrows; i++) {
        ready_t *r = &rows[i];
        if (r->taken)
            continue;
        if (c->out->n >= max_messages) {
            c->out->more = 1;
            break;
        }
        g.n = 0;
        g.batch = r->batch;
        g.recipient = r->recipient;
        g.channel = r->channel;
        if (r->batch != 0) {
            /* A message formed before: all of its ready rows again. */
            for (size_t j = i; j < nrows; j++)
                if (rows[j].batch == r->batch)
                    rows[j].taken = 1;
            rc = batch_rows(c, r->batch, &g);
        } else {
            for (size_t j = i; rc == 0 && j < nrows && g.n < CC_OUTBOX_DIGEST_MAX; j++) {
                ready_t *o = &rows[j];
                if (o->taken || o->batch != 0)
                    continue;
                if (j != i && (!digest || r->immediate || o->immediate || o->channel != r->channel ||
                               strcmp(o->recipient, r->recipient) != 0))
                    continue;
                o->taken = 1;
                rc = group_add(&g, o->id);
            }
        }
        if (rc == 0 && g.n > 0)
            rc = claim_group(c, &g);
    }
    for (size_t i = 0; i < nrows; i++)
        free(rows[i].recipient);
    free(rows);
    free(g.ids);
    return rc;
}

int cc_outbox_claim(cc_store_t *store, const cc_env_t *env, time_t now, const char *claimer, size_t max_messages,
                    cc_outbox_claim_t *out, char *err, size_t errlen)
{
    sqlite3 *db = cc_store_db(store);
    char stamp[32];
    claimer_t c = {.db = db, .env = env, .out = out, .now = cc_time_format_utc(now, stamp, sizeof(stamp)), .now_t = now,
                   .claimer = claimer};
    int rc;
    memset(out, 0, sizeof(*out));
    if (max_messages == 0)
        return 0;
    if (cc_store_begin(store) != 0)
        return db_err(db, err, errlen);
    c.staff = prepare(db, STAFF_SQL);
    c.team = prepare(db, TEAM_SQL);
    c.mark = prepare(db, MARK_SENDING_SQL);
    c.final = prepare(db, MARK_FINAL_SQL);
    c.item = prepare(db, ITEM_SQL);
    c.batch_id = prepare(db, BATCH_ID_SQL);
    if (!c.staff || !c.team || !c.mark || !c.final || !c.item || !c.batch_id)
        rc = CC_EDB;
    else if ((rc = load_instance(&c)) == 0)
        rc = claim_all(&c, max_messages);
    sqlite3_finalize(c.staff);
    sqlite3_finalize(c.team);
    sqlite3_finalize(c.mark);
    sqlite3_finalize(c.final);
    sqlite3_finalize(c.item);
    sqlite3_finalize(c.batch_id);
    if (rc == 0 && (rc = cc_store_commit(store)) == 0)
        return 0;
    if (rc == CC_ENOMEM)
        cc_set_err(err, errlen, "out of memory");
    else
        db_err(db, err, errlen);
    cc_store_rollback(store);
    cc_outbox_claim_free(out);
    return rc;
}

/* ---- record --------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

int cc_outbox_backoff(int attempts, int64_t key, long *delay)
{
    static const long schedule[CC_OUTBOX_MAX_ATTEMPTS - 1] = {60,    300,   1800,  7200,  21600, 43200,
                                                              43200, 43200, 43200, 43200, 43200};
    if (attempts < 1)
        attempts = 1;
    if (attempts > CC_OUTBOX_MAX_ATTEMPTS - 1)
        return CC_ERANGE;
    long base = schedule[attempts - 1];
    /* Jitter of -20% .. +20%, the same for the same message and attempt, so
     * that messages failing together do not all come back together. */
    uint64_t r = splitmix64((uint64_t)key * 1000003u + (uint64_t)attempts);
    double frac = ((double)(r % 40001) / 100000.0) - 0.2;
    *delay = base + (long)((double)base * frac);
    return 0;
}

static const char RECORD_SQL[] =
    "UPDATE deliveries SET state = ?2, last_error = ?3, next_attempt_at = ?4, sent_at = ?5, claimed_by = NULL, "
    "updated_at = ?6 WHERE id = ?1 AND state = 'sending'";

int cc_outbox_record(cc_store_t *store, const cc_outbox_message_t *m, cc_outcome_t outcome, const char *error,
                     long retry_after, time_t now, const char **state_out)
{
    sqlite3 *db = cc_store_db(store);
    char stamp[32], next[32], reason[768];
    const char *state = "sent", *last_error = NULL, *next_at = NULL, *sent_at = NULL;
    cc_time_format_utc(now, stamp, sizeof(stamp));
    switch (outcome) {
    case CC_OUTCOME_SENT:
        sent_at = stamp;
        break;
    case CC_OUTCOME_RETRY: {
        long delay = 0;
        if (cc_outbox_backoff(m->attempts, m->msg.batch, &delay) != 0) {
            state = "failed";
            snprintf(reason, sizeof(reason), "gave up after %d attempts: %s", m->attempts, error ? error : "");
            last_error = reason;
            break;
        }
        if (retry_after > delay)
            delay = retry_after > RETRY_AFTER_CAP ? RETRY_AFTER_CAP : retry_after;
        state = "retrying";
        last_error = error;
        next_at = cc_time_format_utc(now + delay, next, sizeof(next));
        break;
    }
    case CC_OUTCOME_FAILED:
        state = "failed";
        last_error = error;
        break;
    default:
        state = "undeliverable";
        last_error = error;
        break;
    }
    sqlite3_stmt *st = NULL;
    int rc = cc_store_begin(store);
    if (rc != 0)
        return CC_EDB;
    if ((st = prepare(db, RECORD_SQL)) == NULL)
        rc = CC_EDB;
    for (size_t i = 0; rc == 0 && i < m->msg.nitems; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, m->msg.items[i].delivery_id);
        bind_text(st, 2, state);
        bind_text(st, 3, last_error);
        bind_text(st, 4, next_at);
        bind_text(st, 5, sent_at);
        bind_text(st, 6, stamp);
        rc = step_done(st);
    }
    sqlite3_finalize(st);
    if (rc == 0 && (rc = cc_store_commit(store)) == 0) {
        if (state_out)
            *state_out = state;
        return 0;
    }
    cc_store_rollback(store);
    return CC_EDB;
}

/* ---- recover -------------------------------------------------------------- */

/* Field 22 of /proc/PID/stat: the process's start time in clock ticks
 * since boot; 0 when it cannot be read (no such process). */
static unsigned long long start_time(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    /* After ") " come fields 3, 4, ...: field 22 is the 20th. */
    p++;
    unsigned long long value = 0;
    for (int field = 3; field <= 22 && p; field++) {
        while (*p == ' ')
            p++;
        if (field == 22)
            value = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
    }
    return value;
}

char *cc_outbox_claimer(char *buf, size_t len)
{
    long pid = (long)getpid();
    snprintf(buf, len, "%ld:%llu", pid, start_time(pid));
    return buf;
}

/* 1 if the process that wrote claimer is still running. */
static int claimer_alive(const char *claimer)
{
    long pid;
    unsigned long long started;
    if (claimer == NULL || sscanf(claimer, "%ld:%llu", &pid, &started) != 2 || pid <= 0)
        return 0;
    unsigned long long now_started = start_time(pid);
    if (now_started == 0)
        return 0;
    return started == 0 || now_started == started;
}

int cc_outbox_recover(cc_store_t *store, time_t now, size_t *recovered)
{
    sqlite3 *db = cc_store_db(store);
    char stamp[32];
    char **dead = NULL;
    size_t ndead = 0, cap = 0, total = 0;
    int rc = 0, step;
    if (recovered)
        *recovered = 0;
    if (cc_store_begin(store) != 0)
        return CC_EDB;
    sqlite3_stmt *who = prepare(db, "SELECT DISTINCT coalesce(claimed_by, '') FROM deliveries WHERE state = 'sending'");
    sqlite3_stmt *reset = prepare(db, "UPDATE deliveries SET state = 'pending', claimed_by = NULL, updated_at = ?2, "
                                      "last_error = 'interrupted: the process sending it stopped' "
                                      "WHERE state = 'sending' AND coalesce(claimed_by, '') = ?1");
    if (who == NULL || reset == NULL)
        rc = CC_EDB;
    while (rc == 0 && (step = sqlite3_step(who)) == SQLITE_ROW) {
        const char *claimer = col(who, 0);
        if (claimer_alive(claimer))
            continue;
        if (cc__grow(&dead, &cap, ndead + 1, sizeof(*dead), 4) != 0 || (dead[ndead] = strdup(claimer)) == NULL)
            rc = CC_ENOMEM;
        else
            ndead++;
    }
    if (who != NULL)
        sqlite3_reset(who);
    cc_time_format_utc(now, stamp, sizeof(stamp));
    for (size_t i = 0; rc == 0 && i < ndead; i++) {
        sqlite3_reset(reset);
        bind_text(reset, 1, dead[i]);
        bind_text(reset, 2, stamp);
        rc = step_done(reset);
        total += (size_t)sqlite3_changes(db);
    }
    sqlite3_finalize(who);
    sqlite3_finalize(reset);
    for (size_t i = 0; i < ndead; i++)
        free(dead[i]);
    free(dead);
    if (rc == 0 && (rc = cc_store_commit(store)) == 0) {
        if (recovered)
            *recovered = total;
        return 0;
    }
    cc_store_rollback(store);
    return rc;
}

/* ---- prune ---------------------------------------------------------------- */

/* Every row of a clock instance goes, or none: the instance is closed (or
 * gone), none of its rows can still be sent, and none changed since the
 * cutoff. Then nothing is planned for it again: the planner plans only
 * open clocks, and "now met" notices only for closed ones with sent
 * escalations still in the table. updated_at is UTC text, so a date
 * "YYYY-MM-DD" as the cutoff means "before that day began (UTC)". */
static const char PRUNE_SQL[] =
    "DELETE FROM deliveries WHERE (child_id, rule_id, seq) IN ("
    "SELECT d.child_id, d.rule_id, d.seq FROM deliveries d LEFT JOIN clocks c ON c.child_id = d.child_id AND "
    "c.rule_id = d.rule_id AND c.seq = d.seq "
    "WHERE c.status IS NULL OR c.status IN ('met', 'met_late', 'cancelled') "
    "GROUP BY d.child_id, d.rule_id, d.seq "
    "HAVING max(d.updated_at) < ?1 AND sum(d.state IN ('pending', 'retrying', 'sending')) = 0)";

int cc_outbox_prune(cc_store_t *store, cc_date_t before, size_t *deleted, char *err, size_t errlen)
{
    sqlite3 *db = cc_store_db(store);
    char day[CC_DATE_STRLEN];
    int rc;
    if (deleted)
        *deleted = 0;
    if (cc_store_begin(store) != 0)
        return db_err(db, err, errlen);
    sqlite3_stmt *st = prepare(db, PRUNE_SQL);
    if (st == NULL) {
        rc = CC_EDB;
    } else {
        bind_text(st, 1, cc_date_format(before, day));
        rc = step_done(st);
        if (rc == 0 && deleted)
            *deleted = (size_t)sqlite3_changes(db);
        sqlite3_finalize(st);
    }
    if (rc == 0 && (rc = cc_store_commit(store)) == 0)
        return 0;
    db_err(db, err, errlen);
    cc_store_rollback(store);
    return CC_EDB;
}

/* ---- retry by hand, webhook endpoints --------------------------------------- */

int cc_outbox_retry(cc_store_t *store, int64_t id, time_t now, char *err, size_t errlen)
{
    sqlite3 *db = cc_store_db(store);
    char stamp[32];
    int rc = cc_store_begin(store);
    if (rc != 0)
        return db_err(db, err, errlen);
    sqlite3_stmt *st = prepare(db, "SELECT state, batch, recipient FROM deliveries WHERE id = ?1");
    sqlite3_stmt *up = NULL;
    if (st == NULL) {
        rc = CC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        cc_set_err(err, errlen, "delivery %lld does not exist", (long long)id);
        rc = CC_ENOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = CC_EDB;
        goto out;
    }
    const char *state = col(st, 0);
    int64_t batch = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
    if (strcmp(state, "undeliverable") == 0 && strcmp(col(st, 2), CC_NOTIFY_NOBODY) == 0) {
        cc_set_err(err, errlen,
                "delivery %lld has no recipient (nobody holds the role); allocate someone and careclock plans "
                "the stage for them",
                (long long)id);
        rc = CC_ESTATE;
        goto out;
    }
    if (strcmp(state, "failed") != 0 && strcmp(state, "undeliverable") != 0) {
        cc_set_err(err, errlen, "delivery %lld is %s; only failed or undeliverable deliveries can be retried",
                (long long)id, state);
        rc = CC_ESTATE;
        goto out;
    }
    /* A failed message goes again whole, with its ids; an undeliverable row
     * is resolved again at its next claim. */
    up = prepare(db, "UPDATE deliveries SET state = 'pending', attempts = 0, first_attempt_at = NULL, "
                     "next_attempt_at = ?3, last_error = NULL, claimed_by = NULL, updated_at = ?3 "
                     "WHERE id = ?1 OR (?2 != 0 AND batch = ?2 AND state = 'failed')");
    if (up == NULL) {
        rc = CC_EDB;
        goto out;
    }
    sqlite3_bind_int64(up, 1, id);
    sqlite3_bind_int64(up, 2, strcmp(state, "failed") == 0 ? batch : 0);
    bind_text(up, 3, cc_time_format_utc(now, stamp, sizeof(stamp)));
    rc = step_done(up);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    if (rc == 0 && (rc = cc_store_commit(store)) == 0)
        return 0;
    if (rc == CC_EDB)
        db_err(db, err, errlen);
    cc_store_rollback(store);
    return rc;
}

int cc_outbox_webhook_disable(cc_store_t *store, const char *name, const char *reason, time_t now)
{
    char stamp[32];
    sqlite3_stmt *st = prepare(cc_store_db(store),
                               "INSERT INTO webhook_endpoints (name, disabled_at, disabled_reason) VALUES (?1, ?2, ?3) "
                               "ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, "
                               "disabled_reason = excluded.disabled_reason");
    if (st == NULL)
        return CC_EDB;
    bind_text(st, 1, name);
    bind_text(st, 2, cc_time_format_utc(now, stamp, sizeof(stamp)));
    bind_text(st, 3, reason);
    int rc = step_done(st);
    sqlite3_finalize(st);
    return rc;
}

int cc_outbox_webhook_enable(cc_store_t *store, const char *name)
{
    sqlite3 *db = cc_store_db(store);
    sqlite3_stmt *st = prepare(db, "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL "
                                   "WHERE name = ?1 AND disabled_at IS NOT NULL");
    if (st == NULL)
        return CC_EDB;
    bind_text(st, 1, name);
    int rc = step_done(st);
    sqlite3_finalize(st);
    if (rc == 0 && sqlite3_changes(db) == 0)
        return CC_ENOTFOUND;
    return rc;
}

static int webhook_disabled(sqlite3 *db, const char *name, char *since, size_t len)
{
    sqlite3_stmt *st = prepare(db, "SELECT disabled_at, disabled_reason FROM webhook_endpoints "
                                   "WHERE name = ?1 AND disabled_at IS NOT NULL");
    if (st == NULL)
        return CC_EDB;
    bind_text(st, 1, name);
    int step = sqlite3_step(st), found = step == SQLITE_ROW;
    if (found && since != NULL)
        snprintf(since, len, "since %s: %s", col(st, 0), col(st, 1) ? col(st, 1) : "");
    sqlite3_finalize(st);
    return found ? 1 : step == SQLITE_DONE ? 0 : CC_EDB;
}

int cc_outbox_webhook_disabled(cc_store_t *store, const char *name, char *since, size_t len)
{
    return webhook_disabled(cc_store_db(store), name, since, len);
}
