/* The outbox, planning: what the planner (core/planner.c) makes of the
 * clocks, enqueued exactly once. See include/careclock/outbox.h and
 * docs/delivery.md, "Planning".
 *
 * Design notes:
 *  - Exactly once into the table: the planner's keys are the table's
 *    unique key and every insert is INSERT OR IGNORE, so planning again
 *    (every cycle, after a restart, after a recompute) adds nothing twice.
 *  - Every statement works on a range of child ids (a slice of the council,
 *    or one queued child), kept on the child-id keys: the statements that
 *    read clocks are clocks.c's (cc__clocks_sql), which says why each is
 *    written as it is; the unit tests check their plans (cc_outbox_plan_sql).
 *  - A planning transaction is deferred: it reads until the first new row
 *    and only then takes the write lock, so a plan with nothing new never
 *    blocks another writer (CC_EBUSY when another process wrote meanwhile:
 *    the step is tried again).
 */
#include "careclock/outbox.h"
#include "careclock/error.h"
#include "careclock/time.h"
#include "store/internal.h"
#include "util/grow.h"

#include <stdlib.h>
#include <string.h>

/* A planner's write: 0, CC_EBUSY when the write lock could not be had
 * (planning reads in a deferred transaction, so a write may find that
 * another process wrote meanwhile), or CC_EDB. */
static int write_done(sqlite3_stmt *st)
{
    int rc = cc__store_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : (rc & 0xff) == SQLITE_BUSY ? CC_EBUSY : CC_EDB;
}

/* ---- plan ----------------------------------------------------------------- */

static const char PLAN_EXISTS_SQL[] =
    "SELECT 1 FROM deliveries WHERE child_id = ?1 AND rule_id = ?2 AND instance = ?3 AND stage = ?4 AND "
    "recipient = ?5 AND channel = ?6";

/* seq (?18) is the clock's number when planned, for display only. */
static const char PLAN_INSERT_SQL[] =
    "INSERT OR IGNORE INTO deliveries (child_id, rule_id, instance, stage, recipient, channel, role, kind, address, "
    "due_date, stage_date, due_at, immediate, state, next_attempt_at, last_error, created_at, updated_at, seq) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18)";

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
    switch (i) {
    case 0: return cc__clocks_sql(CC__CLOCKS_PLAN_OPEN);
    case 1: return cc__clocks_sql(CC__CLOCKS_PLAN_CLOSED);
    case 2: return PLAN_EXISTS_SQL;
    case 3: return cc__clocks_sql(CC__CLOCKS_PLAN_CANCEL_ANY);
    case 4: return cc__clocks_sql(CC__CLOCKS_PLAN_CANCEL);
    case 5: return PLAN_SLICE_END_SQL;
    default: return NULL;
    }
}

typedef struct {
    sqlite3 *db;
    const cc_env_t *env;
    cc_local_time_t local;
    char horizon[CC_DATE_STRLEN];
    char today[CC_DATE_STRLEN]; /* the local date: a child who left care on or before it is not chased */
    sqlite3_stmt *active, *escalated, *exists, *insert, *cancel_any, *cancel;
    cc_plan_t plan;
    const char *now;
    time_t now_t;
    long settle_s;  /* hold new rows this long after now (0: none) */
    cc_outbox_plan_stats_t *stats;
    cc_outbox_dry_fn dry;  /* a dry run: new rows go to dry(dry_arg, ...), nothing is written */
    void *dry_arg;
    cc_outbox_dry_row_t dry_row; /* the clock being planned, for dry */
} planner_t;

/* A range of child ids [lo, hi); hi NULL: to the end. */
typedef struct {
    const char *lo, *hi;
} range_t;

static void bind_range(sqlite3_stmt *st, int i, range_t r)
{
    cc__store_bind_text(st, i, r.lo);
    if (r.hi == NULL)
        sqlite3_bind_zeroblob(st, i + 1, 0);
    else
        cc__store_bind_text(st, i + 1, r.hi);
}

/* A delivery's unique key (child, rule, instance, stage, recipient,
 * channel) as parameters 1 to 6: the same in the lookup and in the insert.
 * The instance, not seq: history recorded before a clock renumbers it,
 * and must neither send its stages again nor give its escalations to
 * another instance (docs/delivery.md, "Once per stage"). */
static void bind_key(sqlite3_stmt *st, const char *child_id, const char *rule_id, const char *instance,
                     const cc_planned_t *d)
{
    cc__store_bind_text(st, 1, child_id);
    cc__store_bind_text(st, 2, rule_id);
    cc__store_bind_text(st, 3, instance);
    cc__store_bind_text(st, 4, d->stage);
    cc__store_bind_text(st, 5, d->recipient);
    cc__store_bind_text(st, 6, cc_channel_name(d->channel));
}

static int enqueue(planner_t *p, const char *child_id, const char *rule_id, const char *instance, int seq,
                   cc_date_t due)
{
    assert(!sqlite3_get_autocommit(p->db)); /* in the planning transaction */
    assert(instance != NULL);
    char due_s[CC_DATE_STRLEN], stage_s[CC_DATE_STRLEN], due_at[32], settled[32];
    const cc_plan_t *plan = &p->plan;
    for (size_t i = 0; i < plan->len; i++) {
        const cc_planned_t *d = &plan->items[i];
        int undeliverable = d->undeliverable[0] != '\0';
        /* Planned before (nearly always, once a council's first plan is
         * made): a read, so a plan with nothing new never takes the write
         * lock. */
        sqlite3_stmt *ex = p->exists;
        sqlite3_reset(ex);
        bind_key(ex, child_id, rule_id, instance, d);
        int found = cc__store_step(ex);
        sqlite3_reset(ex);
        if (found != SQLITE_ROW && found != SQLITE_DONE)
            return CC_EDB;
        p->stats->planned++;
        if (found == SQLITE_ROW)
            continue;
        if (p->dry != NULL) {
            p->dry_row.planned = d;
            p->stats->enqueued++;
            p->stats->undeliverable += (size_t)undeliverable;
            int rc = p->dry(p->dry_arg, &p->dry_row);
            if (rc != 0)
                return rc;
            continue;
        }
        sqlite3_stmt *st = p->insert;
        time_t at = cc_time_from_local(d->due_at);
        cc_time_format_utc(at, due_at, sizeof(due_at));
        /* A change in the day (the plan queue): wait the settling time, so
         * that the rest of a burst joins the same digest. */
        const char *first_try = due_at;
        if (p->settle_s > 0 && !d->immediate && at < p->now_t + p->settle_s)
            first_try = cc_time_format_utc(p->now_t + p->settle_s, settled, sizeof(settled));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        bind_key(st, child_id, rule_id, instance, d);
        cc__store_bind_text(st, 7, cc_role_name(d->role));
        cc__store_bind_text(st, 8, cc_notice_kind_name(d->kind));
        cc__store_bind_text(st, 9, d->address);
        cc__store_bind_text(st, 10, due == CC_DATE_NONE ? NULL : cc_date_format(due, due_s));
        cc__store_bind_text(st, 11, cc_date_format(d->stage_date, stage_s));
        cc__store_bind_text(st, 12, due_at);
        sqlite3_bind_int(st, 13, d->immediate);
        cc__store_bind_text(st, 14, undeliverable ? "undeliverable" : "pending");
        cc__store_bind_text(st, 15, undeliverable ? NULL : first_try);
        cc__store_bind_text(st, 16, undeliverable ? d->undeliverable : NULL);
        cc__store_bind_text(st, 17, p->now);
        sqlite3_bind_int(st, 18, seq);
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

/* The acknowledgements in force of one clock, "STAFF UNTIL,STAFF UNTIL"
 * (PLAN_OPEN's last column), into held (at most CC_PLANNER_MAX_HOLDS; the
 * strings copied into buf). Returns how many. */
static size_t parse_holds(const char *text, char *buf, size_t len, cc_planner_hold_t *held)
{
    size_t n = 0;
    if (text == NULL)
        return 0;
    snprintf(buf, len, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < CC_PLANNER_MAX_HOLDS;
         tok = strtok_r(NULL, ",", &save)) {
        char *space = strrchr(tok, ' ');
        if (space == NULL)
            continue;
        *space = '\0';
        cc_date_t until = cc__store_date(space + 1);
        if (until != CC_DATE_NONE)
            held[n++] = (cc_planner_hold_t){tok, until};
    }
    return n;
}

/* The open clocks of the range whose stages may have come. */
static int plan_active(planner_t *p, range_t r)
{
    sqlite3_stmt *st = p->active;
    int rc = 0, step;
    cc_planner_hold_t held[CC_PLANNER_MAX_HOLDS];
    char holds[CC_PLANNER_MAX_HOLDS * (CC_STORE_ID_MAX + 16)];
    sqlite3_reset(st);
    cc__store_bind_text(st, 1, p->horizon);
    bind_range(st, 2, r);
    cc__store_bind_text(st, 4, p->today);
    while ((step = cc__store_step(st)) == SQLITE_ROW) {
        cc_planner_clock_t clock = {0};
        clock.child_id = cc__store_col(st, 0);
        clock.rule_id = cc__store_col(st, 1);
        clock.seq = sqlite3_column_int(st, 2);
        int status = cc_status_parse(cc__store_col(st, 3));
        clock.status = status < 0 ? CC_STATUS_DATA_ERROR : (cc_status_t)status;
        clock.due = cc__store_date(cc__store_col(st, 4));
        clock.team_id = cc__store_col(st, 5);
        clock.parties[CC_ROLE_WORKER] = (cc_planner_party_t){cc__store_col(st, 6), cc__store_col(st, 7)};
        clock.parties[CC_ROLE_IRO] = (cc_planner_party_t){cc__store_col(st, 8), cc__store_col(st, 9)};
        clock.parties[CC_ROLE_TEAM_MANAGER] = (cc_planner_party_t){cc__store_col(st, 10), cc__store_col(st, 11)};
        clock.parties[CC_ROLE_SERVICE_MANAGER] = (cc_planner_party_t){cc__store_col(st, 12), cc__store_col(st, 13)};
        clock.parties[CC_ROLE_TEAM_WEBHOOK] = (cc_planner_party_t){cc__store_col(st, 5), cc__store_col(st, 14)};
        const char *instance = cc__store_col(st, 15);
        clock.left_on = cc__store_date(cc__store_col(st, 16));
        clock.left_care = clock.left_on != CC_DATE_NONE;
        clock.agreed = cc__store_date(cc__store_col(st, 17));
        clock.held = held;
        clock.nheld = parse_holds(cc__store_col(st, 18), holds, sizeof(holds), held);
        const cc_rule_t *rule = clock.rule_id ? cc_ruleset_find(p->env->rules, clock.rule_id) : NULL;
        p->stats->clocks++;
        /* A data error has no rule: the planner tells its worker and team
         * manager about the child (never silent). */
        if ((rule == NULL && clock.status != CC_STATUS_DATA_ERROR) || instance == NULL)
            continue;
        if (cc_planner_skipped_since(&p->env->planner, &clock)) {
            p->stats->before_since++;
            continue;
        }
        cc_plan_reset(&p->plan);
        p->dry_row = (cc_outbox_dry_row_t){.child_id = clock.child_id, .rule_id = clock.rule_id,
                                           .instance = instance, .seq = clock.seq, .due = clock.due,
                                           .agreed = clock.agreed, .status = cc__store_col(st, 3)};
        if ((rc = cc_planner_plan(rule, &clock, p->env->cal, &p->env->planner, p->local, &p->plan)) != 0 ||
            (rc = enqueue(p, clock.child_id, clock.rule_id, instance, clock.seq, clock.due)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_reset(st);
    return rc;
}

/* The escalations sent for one closed clock, gathered row by row. */
typedef struct {
    char *child_id, *rule_id, *instance;
    int seq;              /* the clock's, for display */
    cc_status_t status;
    cc_planner_sent_t *sent;
    size_t n, cap;
} closed_t;

static void closed_clear(closed_t *c)
{
    free(c->child_id);
    free(c->rule_id);
    free(c->instance);
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->sent[i].recipient);
        free((char *)c->sent[i].address);
    }
    c->child_id = c->rule_id = c->instance = NULL;
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
                               .due = CC_DATE_NONE, .agreed = CC_DATE_NONE, .escalated = c->sent,
                               .nescalated = c->n};
    cc_plan_reset(&p->plan);
    p->stats->clocks++;
    p->dry_row = (cc_outbox_dry_row_t){.child_id = c->child_id, .rule_id = c->rule_id, .instance = c->instance,
                                       .seq = c->seq, .due = CC_DATE_NONE, .agreed = CC_DATE_NONE,
                                       .status = cc_status_name(c->status)};
    int rc = cc_planner_plan(cc_ruleset_find(p->env->rules, c->rule_id), &clock, p->env->cal, &p->env->planner,
                            p->local, &p->plan);
    return rc ? rc : enqueue(p, c->child_id, c->rule_id, c->instance, c->seq, CC_DATE_NONE);
}

/* The closed clocks of the range whose escalations were sent and whose
 * "now met" notices are not planned yet. */
static int plan_closed(planner_t *p, range_t r)
{
    closed_t c = {0};
    sqlite3_stmt *st = p->escalated;
    p->dry_row = (cc_outbox_dry_row_t){0};
    int rc = 0, step;
    sqlite3_reset(st);
    bind_range(st, 1, r);
    while ((step = cc__store_step(st)) == SQLITE_ROW) {
        const char *child = cc__store_col(st, 0), *rule = cc__store_col(st, 1), *instance = cc__store_col(st, 2);
        if (c.child_id == NULL || strcmp(c.child_id, child ? child : "") != 0 ||
            strcmp(c.rule_id, rule ? rule : "") != 0 || strcmp(c.instance, instance ? instance : "") != 0) {
            if ((rc = closed_flush(p, &c)) != 0)
                break;
            closed_clear(&c);
            c.child_id = strdup(child ? child : "");
            c.rule_id = strdup(rule ? rule : "");
            c.instance = strdup(instance ? instance : "");
            c.seq = sqlite3_column_int(st, 8);
            int status = cc_status_parse(cc__store_col(st, 6));
            c.status = status < 0 ? CC_STATUS_MET : (cc_status_t)status;
        }
        if (cc__grow(&c.sent, &c.cap, c.n + 1, sizeof(*c.sent), 4) != 0) {
            rc = CC_ENOMEM;
            break;
        }
        int channel = cc_channel_parse(cc__store_col(st, 4)), role = cc_role_parse(cc__store_col(st, 5));
        cc_planner_sent_t *s = &c.sent[c.n++];
        s->recipient = dup_or_null(cc__store_col(st, 3));
        s->channel = channel < 0 ? CC_CHANNEL_EMAIL : (cc_channel_t)channel;
        s->role = role < 0 ? CC_ROLE_TEAM_MANAGER : (cc_role_t)role;
        s->address = dup_or_null(cc__store_col(st, 7));
        if (c.child_id == NULL || c.rule_id == NULL || c.instance == NULL || s->recipient == NULL) {
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
    assert(!sqlite3_get_autocommit(p->db)); /* in the planning transaction */
    int rc;
    if ((rc = plan_active(p, r)) != 0 || (rc = plan_closed(p, r)) != 0 || p->dry != NULL)
        return rc;
    sqlite3_reset(p->cancel_any);
    cc__store_bind_text(p->cancel_any, 1, p->now);
    bind_range(p->cancel_any, 2, r);
    cc__store_bind_text(p->cancel_any, 4, p->today);
    int any = cc__store_step(p->cancel_any);
    sqlite3_reset(p->cancel_any);
    if (any == SQLITE_DONE)
        return 0;
    if (any != SQLITE_ROW)
        return CC_EDB;
    sqlite3_reset(p->cancel);
    cc__store_bind_text(p->cancel, 1, p->now);
    bind_range(p->cancel, 2, r);
    cc__store_bind_text(p->cancel, 4, p->today);
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
    p->now_t = now;
    p->stats = stats;
    p->local = cc_time_local(now);
    cc_date_format(plan_horizon(env, p->local.date), p->horizon);
    cc_date_format(p->local.date, p->today);
    cc_plan_init(&p->plan);
    if (cc__store_exec_db(p->db, "BEGIN DEFERRED") != SQLITE_OK)
        return CC_EDB;
    p->active = cc__store_prepare(p->db, cc__clocks_sql(CC__CLOCKS_PLAN_OPEN));
    p->escalated = cc__store_prepare(p->db, cc__clocks_sql(CC__CLOCKS_PLAN_CLOSED));
    p->exists = cc__store_prepare(p->db, PLAN_EXISTS_SQL);
    p->insert = cc__store_prepare(p->db, PLAN_INSERT_SQL);
    p->cancel_any = cc__store_prepare(p->db, cc__clocks_sql(CC__CLOCKS_PLAN_CANCEL_ANY));
    p->cancel = cc__store_prepare(p->db, cc__clocks_sql(CC__CLOCKS_PLAN_CANCEL));
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
        cc__store_db_err(p->db, err, errlen);
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
        if (cc__store_exec_db(p->db, "COMMIT") == SQLITE_OK)
            return 0;
        rc = CC_EDB;
        busy = (sqlite3_errcode(p->db) & 0xff) == SQLITE_BUSY;
        cc__store_db_err(p->db, err, errlen);
    }
    if (!sqlite3_get_autocommit(p->db))
        cc__store_exec_db(p->db, "ROLLBACK");
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
    sum->before_since += s->before_since;
}

/* Delete the plan queue's rows up to id upto (planned): 0, CC_EBUSY or
 * CC_EDB, as write_done. */
static int queue_done(sqlite3 *db, int64_t upto)
{
    sqlite3_stmt *st = cc__store_prepare(db, PLAN_QUEUE_DONE_SQL);
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_int64(st, 1, upto);
    int rc = write_done(st);
    sqlite3_finalize(st);
    return rc;
}

static int query_int64(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = cc__store_prepare(db, sql);
    int step = st ? cc__store_step(st) : SQLITE_ERROR;
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
    assert(store != NULL && env != NULL && full != NULL);
    planner_t p;
    char stamp[32];
    cc_outbox_plan_stats_t got = {0};
    char *end = NULL;
    int64_t mark = full->mark;
    int rc = planner_begin(&p, store, env, now, stamp, sizeof(stamp), &got);
    if (rc == 0 && !full->started)
        rc = query_int64(p.db, PLAN_QUEUE_MARK_SQL, &mark);
    if (rc == 0) {
        sqlite3_stmt *st = cc__store_prepare(p.db, PLAN_SLICE_END_SQL);
        int step = SQLITE_ERROR;
        if (st != NULL) {
            cc__store_bind_text(st, 1, full->next ? full->next : "");
            sqlite3_bind_int64(st, 2, (sqlite3_int64)(max_children ? max_children : 1));
            step = cc__store_step(st);
            if (step == SQLITE_ROW && (end = strdup(cc__store_col(st, 0) ? cc__store_col(st, 0) : "")) == NULL)
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
    sqlite3_stmt *st = cc__store_prepare(db, PLAN_QUEUE_READ_SQL);
    int step = SQLITE_ERROR, rc = 0;
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    while ((step = cc__store_step(st)) == SQLITE_ROW) {
        q->last = sqlite3_column_int64(st, 0);
        q->rows++;
        const char *id = cc__store_col(st, 1);
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

int cc_outbox_plan_queued(cc_store_t *store, const cc_env_t *env, time_t now, size_t max_children, long settle_s,
                          int *more, cc_outbox_plan_stats_t *stats, char *err, size_t errlen)
{
    assert(store != NULL && env != NULL && more != NULL);
    planner_t p;
    char stamp[32];
    cc_outbox_plan_stats_t step = {0};
    queued_t q = {0};
    int64_t any = 0;
    *more = 0;
    /* Most cycles find the queue empty: a read, not a write transaction. */
    if (query_int64(cc_store_db(store), PLAN_QUEUE_ANY_SQL, &any) != 0)
        return cc__store_db_err(cc_store_db(store), err, errlen);
    if (!any)
        return 0;
    size_t limit = max_children ? max_children : 1;
    int rc = planner_begin(&p, store, env, now, stamp, sizeof(stamp), &step);
    p.settle_s = settle_s;
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
    assert(store != NULL && env != NULL);
    cc_outbox_full_t full;
    int rc = 0, more = 1, busy = 0;
    cc_outbox_full_init(&full);
    while ((rc == 0 || (rc == CC_EBUSY && ++busy < PLAN_BUSY_TRIES)) && !full.done)
        rc = cc_outbox_plan_slice(store, env, now, &full, CC_OUTBOX_SLICE_CHILDREN, stats, err, errlen);
    cc_outbox_full_free(&full);
    while ((rc == 0 || (rc == CC_EBUSY && ++busy < PLAN_BUSY_TRIES)) && more)
        rc = cc_outbox_plan_queued(store, env, now, CC_OUTBOX_SLICE_CHILDREN, 0, &more, stats, err, errlen);
    return rc;
}


int cc_outbox_plan_dry(cc_store_t *store, const cc_env_t *env, time_t now, cc_outbox_dry_fn fn, void *arg,
                       cc_outbox_plan_stats_t *stats, char *err, size_t errlen)
{
    assert(store != NULL && env != NULL && fn != NULL);
    planner_t p;
    char stamp[32];
    cc_outbox_plan_stats_t got = {0};
    int rc = planner_begin(&p, store, env, now, stamp, sizeof(stamp), &got);
    p.dry = fn;
    p.dry_arg = arg;
    if (rc == 0)
        rc = plan_range(&p, (range_t){"", NULL});
    /* Nothing was written: end the read as a failed step would. */
    int failed = rc != 0 ? rc : CC_EINVAL;
    rc = rc != 0 ? planner_end(&p, failed, err, errlen) : (planner_end(&p, failed, NULL, 0), 0);
    if (rc == 0)
        cc_outbox_plan_stats_add(stats, &got);
    return rc;
}
