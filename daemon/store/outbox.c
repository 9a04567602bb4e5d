/* The outbox: recording outcomes, recovery, retry by hand, pruning, the
 * webhook endpoints' state, the listing and counts. Planning is
 * outbox_plan.c, claiming outbox_claim.c. See include/careclock/outbox.h
 * and docs/delivery.md.
 *
 * Design notes:
 *  - An outcome is recorded for the rows still sending in its message, in
 *    one transaction: a row cancelled or recovered meanwhile is not
 *    overwritten.
 *  - Rows are handed back (recover) only when the claimer is no longer
 *    running: never while a sender may still be at work on them. A sender
 *    shows it runs by a liveness mark (util/process.c): an OFD lock on a
 *    byte of DATABASE-senders, the byte its claimer id "lk:<16 hex digits>"
 *    names, held by the store while it is open; the kernel drops it when
 *    the process ends. Every process that can open the database can ask,
 *    whatever it can see of the others: before (issue 19), the claimer was
 *    "pid:start-time", looked up in /proc, and careclockd under
 *    ProtectProc=invisible saw a live `careclock deliveries run` of another
 *    account as dead and handed its rows back while it sent them. That form
 *    is still read (rows claimed before an upgrade) and still written where
 *    no mark can be held (an in-memory database, a file that cannot be
 *    made); a mark that cannot be asked about counts as alive.
 *  - Retries back off exponentially with jitter derived from the message,
 *    so messages failing together do not all come back together.
 */
#include "careclock/outbox.h"
#include "careclock/error.h"
#include "careclock/time.h"
#include "careclock/process.h"
#include "store/internal.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define RETRY_AFTER_CAP (12 * 3600)

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
    assert(delay != NULL);
    static const long schedule[] = {60, 300, 1800, 7200, 21600, 43200, 43200, 43200, 43200, 43200, 43200};
    _Static_assert(sizeof(schedule) / sizeof(schedule[0]) == CC_OUTBOX_MAX_ATTEMPTS - 1,
                   "a delay after every attempt but the last");
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
    assert(store != NULL && m != NULL);
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
    if ((st = cc__store_prepare(db, RECORD_SQL)) == NULL)
        rc = CC_EDB;
    for (size_t i = 0; rc == 0 && i < m->msg.nitems; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, m->msg.items[i].delivery_id);
        cc__store_bind_text(st, 2, state);
        cc__store_bind_text(st, 3, last_error);
        cc__store_bind_text(st, 4, next_at);
        cc__store_bind_text(st, 5, sent_at);
        cc__store_bind_text(st, 6, stamp);
        rc = cc__store_step_done(st);
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

static const char SENDING_CLAIMERS_SQL[] =
    "SELECT DISTINCT coalesce(claimed_by, '') FROM deliveries WHERE state = 'sending'";
static const char RECOVER_SQL[] =
    "UPDATE deliveries SET state = 'pending', claimed_by = NULL, updated_at = ?2, "
    "last_error = 'interrupted: the process sending it stopped' "
    "WHERE state = 'sending' AND coalesce(claimed_by, '') = ?1";

/* The liveness marks' file: the database's path and "-senders"; 0, or -1
 * for a database without a file. */
static int marks_path(cc_store_t *store, char *path, size_t len)
{
    const char *db = sqlite3_db_filename(cc_store_db(store), "main");
    if (db == NULL || db[0] == '\0' || snprintf(path, len, "%s-senders", db) >= (int)len)
        return -1;
    return 0;
}

char *cc_outbox_claimer(cc_store_t *store, char *buf, size_t len)
{
    assert(store != NULL && buf != NULL && len > 0);
    char path[4200];
    uint64_t id;
    int fd = -1;
    if (marks_path(store, path, sizeof(path)) == 0 && getrandom(&id, sizeof(id), 0) == (ssize_t)sizeof(id) &&
        (fd = cc_process_mark(path, sqlite3_db_filename(cc_store_db(store), "main"), id)) >= 0) {
        cc__store_hold_fd(store, fd);
        snprintf(buf, len, "lk:%016llx", (unsigned long long)id);
        return buf;
    }
    long pid = (long)getpid();
    snprintf(buf, len, "%ld:%llu", pid, cc_process_start_time(pid));
    return buf;
}

/* 1 if the process that wrote claimer is still running (or it cannot be
 * told: then it is not handed back). */
static int claimer_alive(cc_store_t *store, const char *claimer)
{
    long pid;
    unsigned long long started, id;
    char path[4200];
    if (claimer != NULL && sscanf(claimer, "lk:%16llx", &id) == 1)
        return marks_path(store, path, sizeof(path)) != 0 || cc_process_marked(path, (uint64_t)id) != 0;
    if (claimer == NULL || sscanf(claimer, "%ld:%llu", &pid, &started) != 2)
        return 0;
    return cc_process_alive(pid, started);
}

int cc_outbox_recover(cc_store_t *store, time_t now, size_t *recovered)
{
    assert(store != NULL);
    sqlite3 *db = cc_store_db(store);
    char stamp[32];
    char **dead = NULL;
    size_t ndead = 0, cap = 0, total = 0;
    int rc = 0, step;
    if (recovered)
        *recovered = 0;
    if (cc_store_begin(store) != 0)
        return CC_EDB;
    sqlite3_stmt *who = cc__store_prepare(db, SENDING_CLAIMERS_SQL);
    sqlite3_stmt *reset = cc__store_prepare(db, RECOVER_SQL);
    if (who == NULL || reset == NULL)
        rc = CC_EDB;
    while (rc == 0 && (step = cc__store_step(who)) == SQLITE_ROW) {
        const char *claimer = cc__store_col(who, 0);
        if (claimer_alive(store, claimer))
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
        cc__store_bind_text(reset, 1, dead[i]);
        cc__store_bind_text(reset, 2, stamp);
        rc = cc__store_step_done(reset);
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

int cc_outbox_prune(cc_store_t *store, cc_date_t before, size_t *deleted, char *err, size_t errlen)
{
    assert(store != NULL);
    sqlite3 *db = cc_store_db(store);
    char day[CC_DATE_STRLEN];
    int rc;
    if (deleted)
        *deleted = 0;
    if (cc_store_begin(store) != 0)
        return cc__store_db_err(db, err, errlen);
    sqlite3_stmt *st = cc__store_prepare(db, cc__clocks_sql(CC__CLOCKS_PRUNE));
    if (st == NULL) {
        rc = CC_EDB;
    } else {
        cc__store_bind_text(st, 1, cc_date_format(before, day));
        rc = cc__store_step_done(st);
        if (rc == 0 && deleted)
            *deleted = (size_t)sqlite3_changes(db);
        sqlite3_finalize(st);
    }
    if (rc == 0 && (rc = cc_store_commit(store)) == 0)
        return 0;
    cc__store_db_err(db, err, errlen);
    cc_store_rollback(store);
    return CC_EDB;
}

/* ---- retry by hand, webhook endpoints --------------------------------------- */

static const char RETRY_GET_SQL[] = "SELECT state, batch, recipient FROM deliveries WHERE id = ?1";
/* A failed message goes again whole, with its ids; an undeliverable row
 * is resolved again at its next claim. */
static const char RETRY_SQL[] = "UPDATE deliveries SET state = 'pending', attempts = 0, first_attempt_at = NULL, "
                                "next_attempt_at = ?3, last_error = NULL, claimed_by = NULL, updated_at = ?3 "
                                "WHERE id = ?1 OR (?2 != 0 AND batch = ?2 AND state = 'failed')";
static const char WEBHOOK_DISABLE_SQL[] =
    "INSERT INTO webhook_endpoints (name, disabled_at, disabled_reason) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason";
static const char WEBHOOK_ENABLE_SQL[] = "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL "
                                         "WHERE name = ?1 AND disabled_at IS NOT NULL";
static const char WEBHOOK_DISABLED_SQL[] = "SELECT disabled_at, disabled_reason FROM webhook_endpoints "
                                           "WHERE name = ?1 AND disabled_at IS NOT NULL";

int cc_outbox_retry(cc_store_t *store, int64_t id, time_t now, char *err, size_t errlen)
{
    assert(store != NULL);
    sqlite3 *db = cc_store_db(store);
    char stamp[32];
    int rc = cc_store_begin(store);
    if (rc != 0)
        return cc__store_db_err(db, err, errlen);
    sqlite3_stmt *st = cc__store_prepare(db, RETRY_GET_SQL);
    sqlite3_stmt *up = NULL;
    if (st == NULL) {
        rc = CC_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    int step = cc__store_step(st);
    if (step == SQLITE_DONE) {
        cc_set_err(err, errlen, "delivery %lld does not exist", (long long)id);
        rc = CC_ENOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = CC_EDB;
        goto out;
    }
    const char *state = cc__store_col(st, 0);
    int64_t batch = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
    if (strcmp(state, "undeliverable") == 0 && strcmp(cc__store_col(st, 2), CC_NOTIFY_NOBODY) == 0) {
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
    up = cc__store_prepare(db, RETRY_SQL);
    if (up == NULL) {
        rc = CC_EDB;
        goto out;
    }
    sqlite3_bind_int64(up, 1, id);
    sqlite3_bind_int64(up, 2, strcmp(state, "failed") == 0 ? batch : 0);
    cc__store_bind_text(up, 3, cc_time_format_utc(now, stamp, sizeof(stamp)));
    rc = cc__store_step_done(up);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    if (rc == 0 && (rc = cc_store_commit(store)) == 0)
        return 0;
    if (rc == CC_EDB)
        cc__store_db_err(db, err, errlen);
    cc_store_rollback(store);
    return rc;
}

int cc_outbox_webhook_disable(cc_store_t *store, const char *name, const char *reason, time_t now)
{
    assert(store != NULL && name != NULL);
    char stamp[32];
    sqlite3_stmt *st = cc__store_prepare(cc_store_db(store), WEBHOOK_DISABLE_SQL);
    if (st == NULL)
        return CC_EDB;
    cc__store_bind_text(st, 1, name);
    cc__store_bind_text(st, 2, cc_time_format_utc(now, stamp, sizeof(stamp)));
    cc__store_bind_text(st, 3, reason);
    int rc = cc__store_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

int cc_outbox_webhook_enable(cc_store_t *store, const char *name)
{
    assert(store != NULL && name != NULL);
    sqlite3 *db = cc_store_db(store);
    sqlite3_stmt *st = cc__store_prepare(db, WEBHOOK_ENABLE_SQL);
    if (st == NULL)
        return CC_EDB;
    cc__store_bind_text(st, 1, name);
    int rc = cc__store_step_done(st);
    sqlite3_finalize(st);
    if (rc == 0 && sqlite3_changes(db) == 0)
        return CC_ENOTFOUND;
    return rc;
}

int cc__outbox_webhook_disabled(sqlite3 *db, const char *name, char *since, size_t len)
{
    sqlite3_stmt *st = cc__store_prepare(db, WEBHOOK_DISABLED_SQL);
    if (st == NULL)
        return CC_EDB;
    cc__store_bind_text(st, 1, name);
    int step = cc__store_step(st), found = step == SQLITE_ROW;
    if (found && since != NULL)
        snprintf(since, len, "since %s: %s", cc__store_col(st, 0), cc__store_col(st, 1) ? cc__store_col(st, 1) : "");
    sqlite3_finalize(st);
    return found ? 1 : step == SQLITE_DONE ? 0 : CC_EDB;
}

int cc_outbox_webhook_disabled(cc_store_t *store, const char *name, char *since, size_t len)
{
    assert(store != NULL && name != NULL);
    return cc__outbox_webhook_disabled(cc_store_db(store), name, since, len);
}

/* ---- the instances' carry-over ---------------------------------------------- */

/* Through the unique key's leading columns (child_id, rule_id, instance). */
static const char REKEY_SQL[] =
    "UPDATE deliveries SET instance = ?4 WHERE child_id = ?1 AND rule_id = ?2 AND instance = ?3";

/* Hold the waiting notices of one clock for one recipient until ?5
 * (UTC), or let them go at ?5 (now): only those whose next attempt is
 * later (a hold never brings one forward). */
static const char HOLD_SQL[] =
    "UPDATE deliveries SET next_attempt_at = ?5, updated_at = ?6 WHERE child_id = ?1 AND rule_id = ?2 AND "
    "instance = ?3 AND recipient = ?4 AND state IN ('pending', 'retrying') AND kind != 'met' AND "
    "(?7 OR next_attempt_at > ?5)";

int cc__outbox_hold(cc_store_t *s, const char *child_id, const char *rule_id, const char *instance,
                    const char *recipient, cc_date_t until, char *err, size_t errlen)
{
    assert(s != NULL && child_id != NULL && rule_id != NULL && instance != NULL);
    char at[32], now[32];
    if (recipient == NULL || recipient[0] == '\0')
        return 0;
    time_t t = time(NULL);
    cc_time_format_utc(t, now, sizeof(now));
    if (until == CC_DATE_NONE)
        snprintf(at, sizeof(at), "%s", now);
    else
        cc_time_format_utc(cc_time_from_local((cc_local_time_t){.date = until + 1, .minute = 0}), at, sizeof(at));
    sqlite3_stmt *st = cc__store_stmt(s, HOLD_SQL);
    if (st == NULL)
        return cc__store_db_fail(s, err, errlen);
    cc__store_bind_text(st, 1, child_id);
    cc__store_bind_text(st, 2, rule_id);
    cc__store_bind_text(st, 3, instance);
    cc__store_bind_text(st, 4, recipient);
    cc__store_bind_text(st, 5, at);
    cc__store_bind_text(st, 6, now);
    sqlite3_bind_int(st, 7, until != CC_DATE_NONE);
    return cc__store_run(st) == 0 ? 0 : cc__store_db_fail(s, err, errlen);
}

const char *cc__outbox_rekey_sql(void)
{
    return REKEY_SQL;
}

/* ---- the listing and the counts ------------------------------------------ */

static const char LIST_SQL[] =
    "SELECT id, state, child_id, rule_id, seq, stage, stage_date, kind, role, recipient, channel, address, due_date, "
    "due_at, attempts, next_attempt_at, sent_at, message_id, last_error, instance FROM deliveries "
    "WHERE (?1 IS NULL OR state IN (?1, ?2, ?3, ?4, ?5, ?6, ?7)) AND (?8 IS NULL OR child_id = ?8) ORDER BY id";

_Static_assert(CC_OUTBOX_STATES_MAX == 7, "LIST_SQL has one parameter per state, ?1 to ?7");

static const char COUNT_BY_STATE_SQL[] = "SELECT state, COUNT(*) FROM deliveries GROUP BY state ORDER BY 1";

/* One child's deliveries (the unique key's prefix), newest first. */
static const char CHILD_SQL[] =
    "SELECT id, state, child_id, rule_id, seq, stage, stage_date, kind, role, recipient, channel, address, due_date, "
    "due_at, attempts, next_attempt_at, sent_at, message_id, last_error, instance FROM deliveries WHERE child_id = ?1 "
    "ORDER BY id DESC";

/* Each row of st (LIST_SQL's or CHILD_SQL's columns) to fn(arg, row)
 * until it returns nonzero; st finalized. 0, CC_EDB or fn's value. */
static int list_rows(sqlite3_stmt *st, cc_outbox_row_fn fn, void *arg)
{
    int step = SQLITE_DONE, rc = 0;
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW) {
        cc_outbox_row_t r = {
            .id = sqlite3_column_int64(st, 0),     .state = cc__store_col(st, 1),
            .child_id = cc__store_col(st, 2),      .rule_id = cc__store_col(st, 3),
            .seq = sqlite3_column_int(st, 4),      .stage = cc__store_col(st, 5),
            .stage_date = cc__store_col(st, 6),    .kind = cc__store_col(st, 7),
            .role = cc__store_col(st, 8),          .recipient = cc__store_col(st, 9),
            .channel = cc__store_col(st, 10),      .address = cc__store_col(st, 11),
            .due_date = cc__store_col(st, 12),     .due_at = cc__store_col(st, 13),
            .attempts = sqlite3_column_int(st, 14), .next_attempt_at = cc__store_col(st, 15),
            .sent_at = cc__store_col(st, 16),      .message_id = cc__store_col(st, 17),
            .last_error = cc__store_col(st, 18),   .instance = cc__store_col(st, 19)};
        rc = fn(arg, &r);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

int cc_outbox_list(cc_store_t *store, const cc_outbox_filter_t *f, cc_outbox_row_fn fn, void *arg)
{
    assert(store != NULL && f != NULL && fn != NULL && f->nstates <= CC_OUTBOX_STATES_MAX);
    sqlite3_stmt *st = cc__store_prepare(cc_store_db(store), LIST_SQL);
    if (st == NULL)
        return CC_EDB;
    for (size_t i = 0; i < f->nstates; i++)
        sqlite3_bind_text(st, (int)i + 1, f->states[i], -1, SQLITE_STATIC);
    if (f->child_id)
        sqlite3_bind_text(st, 8, f->child_id, -1, SQLITE_STATIC);
    return list_rows(st, fn, arg);
}

int cc_outbox_of_child(cc_store_t *store, const char *child_id, cc_outbox_row_fn fn, void *arg)
{
    assert(store != NULL && child_id != NULL && fn != NULL);
    sqlite3_stmt *st = cc__store_prepare(cc_store_db(store), CHILD_SQL);
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_text(st, 1, child_id, -1, SQLITE_STATIC);
    return list_rows(st, fn, arg);
}

int cc_outbox_count_by_state(cc_store_t *store, cc_store_count_fn fn, void *arg)
{
    assert(store != NULL && fn != NULL);
    sqlite3_stmt *st = cc__store_prepare(cc_store_db(store), COUNT_BY_STATE_SQL);
    int step, rc = 0;
    if (st == NULL)
        return CC_EDB;
    while (rc == 0 && (step = cc__store_step(st)) == SQLITE_ROW)
        rc = fn(arg, cc__store_col(st, 0), NULL, sqlite3_column_int64(st, 1));
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}
