/* Unit tests for the outbox (daemon/store/outbox_plan.c, outbox_claim.c,
 * outbox.c; its clocks statements in clocks.c) against a real SQLite file: migration 3
 * from a version 2 database, enqueueing exactly once, claiming into
 * messages (digest or not), recording outcomes, the backoff schedule,
 * recovery of rows left by a dead process, cancellation when a clock
 * closes, planning the council in slices and the plan queue (its
 * triggers), retry by hand, addresses resolved again at claim, and
 * webhooks disabled by a 410. Clock rows are written by hand, as the engine would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/date.h"
#include "careclock/env.h"
#include "careclock/error.h"
#include "careclock/outbox.h"
#include "careclock/process.h"
#include "careclock/store.h"
#include "fixture.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char dir[PATH_MAX];
    char db[PATH_MAX + 16];
    char conf[PATH_MAX + 16];
    cc_store_t *store;
    cc_env_t env;
    char err[512];
} fixture_t;

static time_t local(const char *text)
{
    struct tm tm = {0};
    sscanf(text, "%d-%d-%dT%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    setenv("TZ", "Europe/London", 1);
    tzset();
    if (fixture_tempdir(f->dir, sizeof(f->dir), "outbox") != 0)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/plan.db", f->dir);
    snprintf(f->conf, sizeof(f->conf), "%s/careclock.conf", f->dir);
    FILE *c = fopen(f->conf, "w");
    if (c == NULL)
        return -1;
    fprintf(c,
            "[careclock]\nrules = %s/config/rules/england.rules\nholiday_dir = %s/config/holidays\n"
            "[smtp]\nurl = smtp://127.0.0.1:1\nfrom = careclock@council.example\ntls = none\n"
            "[webhook:east]\nurl = http://127.0.0.1:1/hook\n",
            CC_SOURCE_DIR, CC_SOURCE_DIR);
    fclose(c);
    if (cc_env_load(&f->env, f->conf, f->err, sizeof(f->err)) != 0 ||
        cc_store_open(f->db, &f->store, f->err, sizeof(f->err)) != 0) {
        fprintf(stderr, "setup: %s\n", f->err);
        return -1;
    }
    exec_sql(f->store,
             "INSERT INTO staff (id, name, email, role) VALUES ('W1', 'Wendy Worker', 'w1@council.example', 'worker'),"
             " ('TM1', 'Tom Manager', 'tm1@council.example', 'team_manager'),"
             " ('SM1', 'Sam Service', 'sm1@council.example', 'service_manager');"
             "INSERT INTO teams (id, name, manager_id, service_manager_id, webhook) VALUES "
             " ('T1', 'East', 'TM1', 'SM1', NULL);"
             "INSERT INTO children (id, initials, dob, team_id, worker_id) VALUES "
             " ('C1', 'A.B.', '2012-04-01', 'T1', 'W1'), ('C2', 'C.D.', '2012-04-01', 'T1', 'W1');");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cc_store_close(f->store);
    cc_env_free(&f->env);
    fixture_rmtree(f->dir);
    free(f);
    return 0;
}

/* An SGO report clock due Mon 28 Dec 2026 for child, written on db. */
static void clock_row_on(sqlite3 *db, const char *child, const char *status)
{
    char sql[1024];
    /* clocks is a view (its triggers write clock_rows): no upsert. */
    snprintf(sql, sizeof(sql),
             "UPDATE clocks SET status = '%s' WHERE child_id = '%s' AND rule_id = 'sgo_report' AND instance = '1.1'; "
             "INSERT INTO clocks (child_id, rule_id, seq, title, start_date, due_date, status, source, updated_at, "
             "instance) SELECT '%s', 'sgo_report', 1, 'Special guardianship report', '2026-10-05', '2026-12-28', "
             "'%s', 'local guidance', '2026-10-05T00:00:00Z', '1.1' WHERE NOT EXISTS (SELECT 1 FROM clocks WHERE "
             "child_id = '%s' AND rule_id = 'sgo_report' AND instance = '1.1')",
             status, child, child, status, child);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static void clock_row(fixture_t *f, const char *child, const char *status)
{
    clock_row_on(cc_store_db(f->store), child, status);
}

static cc_outbox_plan_stats_t plan_at(fixture_t *f, const char *when)
{
    cc_outbox_plan_stats_t stats = {0};
    if (cc_outbox_plan(f->store, &f->env, local(when), &stats, f->err, sizeof(f->err)) != 0)
        fail_msg("plan: %s", f->err);
    return stats;
}

static void claim_at(fixture_t *f, const char *when, const char *claimer, cc_outbox_claim_t *out)
{
    if (cc_outbox_claim(f->store, &f->env, local(when), claimer, 50, out, f->err, sizeof(f->err)) != 0)
        fail_msg("claim: %s", f->err);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_migration_from_version_2(void **state)
{
    fixture_t *f = *state;
    int created, from, to;
    /* A version 2 file is this schema without migration 3's objects (and
     * migrations 4 to 7's, which the reopen also applies). */
    exec_sql(f->store, UNDO_MIGRATION_9 "DROP TRIGGER children_assign_insert; DROP TRIGGER children_assign_update; DROP TABLE assignments; DROP TABLE web_signin; DROP TABLE web_sessions; DROP TABLE web_audit; ALTER TABLE audit_actor DROP COLUMN since; "
             "DROP TRIGGER children_plan_update; DROP TRIGGER teams_plan_update; DROP TRIGGER staff_plan_update; DROP TABLE plan_queue; DROP INDEX children_by_iro; DROP TABLE deliveries; DROP TABLE webhook_endpoints; "
                       "DELETE FROM meta WHERE key = 'outbox_instance'; DROP TABLE clock_digests; "
                       "DROP INDEX events_by_child; CREATE INDEX events_by_child ON events(child_id, date); "
                       "PRAGMA user_version = 2;");
    cc_store_close(f->store);
    assert_int_equal(cc_store_open(f->db, &f->store, f->err, sizeof(f->err)), 0);
    cc_store_open_info(f->store, &created, &from, &to);
    assert_int_equal(from, 2);
    assert_int_equal(to, CC_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(f->store, "PRAGMA user_version"), CC_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM sqlite_schema WHERE name IN ('deliveries', "
                                         "'webhook_endpoints', 'deliveries_ready', 'deliveries_by_batch')"),
                     4);
    assert_int_equal(query_int(f->store, "SELECT length(value) FROM meta WHERE key = 'outbox_instance'"), 12);
    /* The rest of the data is untouched. */
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM children"), 2);
}

static void test_enqueued_exactly_once(void **state)
{
    fixture_t *f = *state;
    clock_row(f, "C1", "overdue");
    cc_outbox_plan_stats_t s = plan_at(f, "2027-01-05T09:00");
    assert_int_equal(s.enqueued, 3); /* -1wd worker, +1wd team manager, +5wd service manager */
    assert_int_equal(s.undeliverable, 0);
    s = plan_at(f, "2027-01-05T09:30");
    assert_int_equal(s.planned, 3);
    assert_int_equal(s.enqueued, 0);
    /* Across a restart. */
    cc_store_close(f->store);
    assert_int_equal(cc_store_open(f->db, &f->store, f->err, sizeof(f->err)), 0);
    s = plan_at(f, "2027-01-06T09:00");
    assert_int_equal(s.enqueued, 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries"), 3);
    assert_string_equal(query_text(f->store, "SELECT group_concat(stage || ':' || recipient || ':' || kind, ' ') "
                                             "FROM (SELECT * FROM deliveries ORDER BY stage)"),
                        "+1wd:TM1:escalation +5wd:SM1:escalation -1wd:W1:reminder");
    assert_string_equal(query_text(f->store, "SELECT due_at FROM deliveries WHERE stage = '+5wd'"),
                        "2027-01-05T09:00:00Z");
    assert_string_equal(query_text(f->store, "SELECT next_attempt_at FROM deliveries WHERE stage = '+5wd'"),
                        "2027-01-05T09:00:00Z");
}

static void test_claim_makes_a_digest_and_marks_sending(void **state)
{
    fixture_t *f = *state;
    cc_outbox_claim_t c;
    clock_row(f, "C1", "due_soon");
    clock_row(f, "C2", "due_soon");
    plan_at(f, "2026-12-11T07:00");
    assert_string_equal(query_text(f->store, "SELECT group_concat(DISTINCT due_at) FROM deliveries"),
                        "2026-12-11T08:00:00Z");
    claim_at(f, "2026-12-11T07:59", "1:1", &c);
    assert_int_equal(c.n, 0);
    cc_outbox_claim_free(&c);
    claim_at(f, "2026-12-11T08:00", "1:1", &c);
    assert_int_equal(c.n, 1);
    cc_outbox_message_t *m = &c.messages[0];
    assert_int_equal(m->msg.nitems, 2);
    assert_int_equal(m->msg.channel, CC_CHANNEL_EMAIL);
    assert_string_equal(m->msg.address, "w1@council.example");
    assert_string_equal(m->msg.recipient_name, "Wendy Worker");
    assert_int_equal(m->attempts, 1);
    int64_t batch = m->msg.batch;
    char expect[2200]; /* room for any query_text() */
    snprintf(expect, sizeof(expect), "<cc-%s-%lld-",
             query_text(f->store, "SELECT value FROM meta WHERE key = 'outbox_instance'"), (long long)batch);
    /* then 12 hex digits chosen at random, and the domain */
    assert_int_equal(strncmp(m->msg.message_id, expect, strlen(expect)), 0);
    assert_int_equal(strspn(m->msg.message_id + strlen(expect), "0123456789abcdef"), 12);
    assert_string_equal(m->msg.message_id + strlen(expect) + 12, "@council.example>");
    assert_string_equal(m->items[0].title, "Special guardianship report");
    assert_int_equal(m->items[0].status, CC_STATUS_DUE_SOON);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE state = 'sending' AND "
                                         "claimed_by = '1:1' AND attempts = 1"),
                     2);
    /* Claimed rows are not claimed again. */
    cc_outbox_claim_t again;
    claim_at(f, "2026-12-11T08:01", "2:2", &again);
    assert_int_equal(again.n, 0);
    cc_outbox_claim_free(&again);
    const char *state_written = NULL;
    assert_int_equal(cc_outbox_record(f->store, m, CC_OUTCOME_SENT, NULL, -1, local("2026-12-11T08:00"),
                                      &state_written),
                     0);
    assert_string_equal(state_written, "sent");
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE state = 'sent' AND sent_at = "
                                         "'2026-12-11T08:00:00Z' AND claimed_by IS NULL"),
                     2);
    cc_outbox_claim_free(&c);
}

static void test_without_digest_one_message_per_row(void **state)
{
    fixture_t *f = *state;
    cc_outbox_claim_t c;
    f->env.config.digest = 0;
    clock_row(f, "C1", "due_soon");
    clock_row(f, "C2", "due_soon");
    plan_at(f, "2026-12-11T09:00");
    claim_at(f, "2026-12-11T09:00", "1:1", &c);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.messages[0].msg.nitems, 1);
    assert_string_not_equal(c.messages[0].msg.message_id, c.messages[1].msg.message_id);
    cc_outbox_claim_free(&c);
}

static void test_backoff_schedule(void **state)
{
    (void)state;
    static const long base[] = {60, 300, 1800, 7200, 21600, 43200, 43200, 43200, 43200, 43200, 43200};
    long total = 0;
    for (int a = 1; a <= 11; a++) {
        long d = 0, again = 0;
        assert_int_equal(cc_outbox_backoff(a, 42, &d), 0);
        assert_true(d >= base[a - 1] * 8 / 10 && d <= base[a - 1] * 12 / 10);
        cc_outbox_backoff(a, 42, &again);
        assert_int_equal(d, again); /* the same for the same message and attempt */
        total += d;
    }
    long d;
    assert_int_equal(cc_outbox_backoff(CC_OUTBOX_MAX_ATTEMPTS, 42, &d), CC_ERANGE);
    /* About 3 days of 12-hourly retries after the first 8.6 hours. */
    assert_true(total > 3 * 86400 && total < 5 * 86400);
    /* Jitter spreads messages that failed together. */
    long a1, a2;
    cc_outbox_backoff(1, 1, &a1);
    cc_outbox_backoff(1, 2, &a2);
    assert_int_not_equal(a1, a2);
}

static void test_retrying_keeps_the_message_and_gives_up_in_the_end(void **state)
{
    fixture_t *f = *state;
    cc_outbox_claim_t c;
    clock_row(f, "C1", "due_soon");
    plan_at(f, "2026-12-11T09:00");
    claim_at(f, "2026-12-11T09:00", "1:1", &c);
    char first_id[128];
    snprintf(first_id, sizeof(first_id), "%s", c.messages[0].msg.message_id);
    const char *st = NULL;
    assert_int_equal(cc_outbox_record(f->store, &c.messages[0], CC_OUTCOME_RETRY, "the endpoint answered 500", -1,
                                      local("2026-12-11T09:00"), &st),
                     0);
    assert_string_equal(st, "retrying");
    assert_string_equal(query_text(f->store, "SELECT last_error FROM deliveries"), "the endpoint answered 500");
    cc_outbox_claim_free(&c);
    claim_at(f, "2026-12-11T09:00", "1:1", &c);
    assert_int_equal(c.n, 0);
    cc_outbox_claim_free(&c);
    claim_at(f, "2026-12-11T09:02", "1:1", &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.messages[0].msg.message_id, first_id);
    assert_int_equal(c.messages[0].attempts, 2);
    /* Retry-After longer than the backoff wins, up to 12 hours. */
    cc_outbox_record(f->store, &c.messages[0], CC_OUTCOME_RETRY, "429", 7200, local("2026-12-11T09:02"), &st);
    assert_string_equal(query_text(f->store, "SELECT next_attempt_at FROM deliveries"), "2026-12-11T11:02:00Z");
    cc_outbox_claim_free(&c);
    /* The last attempt fails for good. */
    exec_sql(f->store, "UPDATE deliveries SET attempts = 11, next_attempt_at = '2026-12-11T00:00:00Z'");
    claim_at(f, "2026-12-11T12:00", "1:1", &c);
    assert_int_equal(c.messages[0].attempts, 12);
    cc_outbox_record(f->store, &c.messages[0], CC_OUTCOME_RETRY, "timeout", -1, local("2026-12-11T12:00"), &st);
    assert_string_equal(st, "failed");
    assert_string_equal(query_text(f->store, "SELECT last_error FROM deliveries"),
                        "gave up after 12 attempts: timeout");
    cc_outbox_claim_free(&c);
}

static void test_recover_hands_back_only_what_dead_processes_held(void **state)
{
    fixture_t *f = *state;
    cc_outbox_claim_t c;
    char me[64];
    size_t n = 99;
    clock_row(f, "C1", "overdue");
    plan_at(f, "2026-12-29T09:00"); /* W1 -1wd, TM1 +1wd */
    f->env.config.digest = 0;
    cc_outbox_claimer(f->store, me, sizeof(me));
    claim_at(f, "2026-12-29T09:00", me, &c);
    assert_int_equal(c.n, 2);
    /* One message was claimed by a process long gone. */
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE deliveries SET claimed_by = '999999999:12' WHERE id = %lld",
             (long long)c.messages[0].items[0].delivery_id);
    exec_sql(f->store, sql);
    assert_int_equal(cc_outbox_recover(f->store, local("2026-12-29T09:05"), &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE state = 'pending'"), 1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE state = 'sending'"), 1);
    /* It goes again as the same message. */
    cc_outbox_claim_t again;
    claim_at(f, "2026-12-29T09:05", me, &again);
    assert_int_equal(again.n, 1);
    assert_string_equal(again.messages[0].msg.message_id, c.messages[0].msg.message_id);
    assert_int_equal(again.messages[0].attempts, 2);
    cc_outbox_claim_free(&again);
    cc_outbox_claim_free(&c);
}

/* A claimer's liveness is its mark in DATABASE-senders, whatever /proc shows
 * (issue 19, item 10): rows are handed back once the mark is no longer
 * held, never while it is, whoever holds it. */
static void test_recover_reads_liveness_marks(void **state)
{
    fixture_t *f = *state;
    cc_outbox_claim_t c;
    char me[64], sql[256], path[PATH_MAX + 32];
    size_t n = 99;
    clock_row(f, "C1", "overdue");
    plan_at(f, "2026-12-29T09:00");
    f->env.config.digest = 0;
    cc_outbox_claimer(f->store, me, sizeof(me));
    assert_memory_equal(me, "lk:", 3);
    claim_at(f, "2026-12-29T09:00", me, &c);
    assert_int_equal(c.n, 2);
    /* The second message's sender is another process, alive: it holds its
     * mark through a descriptor of its own (here, the test's). */
    snprintf(path, sizeof(path), "%s-senders", f->db);
    int other = cc_process_mark(path, f->db, 0x1234);
    assert_true(other >= 0);
    snprintf(sql, sizeof(sql), "UPDATE deliveries SET claimed_by = 'lk:0000000000001234' WHERE id = %lld",
             (long long)c.messages[1].items[0].delivery_id);
    exec_sql(f->store, sql);
    assert_int_equal(cc_outbox_recover(f->store, local("2026-12-29T09:05"), &n), 0);
    assert_int_equal(n, 0); /* this process's and the other's: both alive */
    close(other);           /* the other sender ends */
    assert_int_equal(cc_outbox_recover(f->store, local("2026-12-29T09:06"), &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE state = 'pending'"), 1);
    /* A mark nobody ever held: dead too. */
    snprintf(sql, sizeof(sql), "UPDATE deliveries SET claimed_by = 'lk:00000000000abcde' WHERE id = %lld",
             (long long)c.messages[0].items[0].delivery_id);
    exec_sql(f->store, sql);
    assert_int_equal(cc_outbox_recover(f->store, local("2026-12-29T09:07"), &n), 0);
    assert_int_equal(n, 1);
    cc_outbox_claim_free(&c);
}

static void test_closing_a_clock_cancels_what_is_pending(void **state)
{
    fixture_t *f = *state;
    clock_row(f, "C1", "due_soon");
    clock_row(f, "C2", "due_soon");
    plan_at(f, "2026-12-24T07:00");
    clock_row(f, "C1", "met");
    cc_outbox_plan_stats_t s = plan_at(f, "2026-12-24T08:30");
    assert_int_equal(s.cancelled, 1);
    assert_string_equal(query_text(f->store, "SELECT state || ': ' || last_error FROM deliveries WHERE child_id = "
                                             "'C1'"),
                        "cancelled: not sent: the clock is met now");
    assert_string_equal(query_text(f->store, "SELECT state FROM deliveries WHERE child_id = 'C2'"), "pending");
}

/* Issue 15 item 7: the outbox keys a delivery by the clock's instance, not
 * its seq. Here the SGO report clock (instance 1.1) was escalated; then an
 * earlier SGO notice is recorded, whose clock (instance 9.1, met) takes
 * number 1 and moves this one to 2. Nothing is planned again for the
 * escalated clock, and no "now met" goes to the managers escalated about
 * it: it is still overdue (the issue: "Now met, on Sat 1 Feb 2025" for a
 * review still overdue, and every stage sent again). */
static void test_a_renumbered_clock_is_not_planned_again(void **state)
{
    fixture_t *f = *state;
    clock_row(f, "C1", "overdue");
    cc_outbox_plan_stats_t s = plan_at(f, "2027-01-05T09:00");
    assert_int_equal(s.enqueued, 3);
    exec_sql(f->store, "UPDATE deliveries SET state = 'sent';"
                       "UPDATE clocks SET seq = 2 WHERE child_id = 'C1';"
                       "INSERT INTO clocks (child_id, rule_id, seq, title, start_date, due_date, status, met_on, "
                       "source, updated_at, instance) VALUES ('C1', 'sgo_report', 1, 'Special guardianship report', "
                       "'2026-01-05', '2026-03-30', 'met', '2026-03-20', 'local guidance', '2027-01-05T00:00:00Z', "
                       "'9.1')");
    s = plan_at(f, "2027-01-06T09:00");
    assert_int_equal(s.enqueued, 0);
    assert_string_equal(query_text(f->store, "SELECT group_concat(DISTINCT instance) FROM deliveries"), "1.1");
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE kind = 'met'"), 0);
}

/* Issue 15 item 6: a clock the end of care closed (left_care_on, written by
 * the engine) takes no reminder or escalation from that day, and what is
 * pending for it is cancelled with the reason; an end dated after today
 * (recorded ahead) changes nothing yet. The looked-after duties end with
 * the episode: Children Act 1989 s22, CPPCR 2010 reg 2. */
static void test_leaving_care_cancels_what_is_pending_with_the_reason(void **state)
{
    fixture_t *f = *state;
    clock_row(f, "C1", "overdue");
    clock_row(f, "C2", "overdue");
    plan_at(f, "2027-01-05T07:00"); /* before the window: pending for 08:00 */
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE state = 'pending'"), 6);
    exec_sql(f->store, "UPDATE clocks SET left_care_on = '2027-01-04' WHERE child_id = 'C1';"
                       "UPDATE clocks SET left_care_on = '2027-01-06' WHERE child_id = 'C2'");
    cc_outbox_plan_stats_t s = plan_at(f, "2027-01-05T07:30");
    assert_int_equal(s.cancelled, 3);
    assert_int_equal(s.enqueued, 0);
    assert_string_equal(query_text(f->store, "SELECT group_concat(DISTINCT state || ': ' || last_error) FROM "
                                             "deliveries WHERE child_id = 'C1'"),
                        "cancelled: not sent: the child left care on 2027-01-04");
    assert_string_equal(query_text(f->store, "SELECT group_concat(DISTINCT state) FROM deliveries WHERE child_id = "
                                             "'C2'"),
                        "pending");
    /* From the day C2 leaves, its own are cancelled too, and nothing is planned. */
    s = plan_at(f, "2027-01-06T07:30");
    assert_int_equal(s.cancelled, 3);
    assert_int_equal(s.enqueued, 0);
}

/* ---- planning in slices, and the plan queue ---------------------------------- */

static cc_outbox_plan_stats_t plan_queued_at(fixture_t *f, const char *when, size_t max, int *more)
{
    cc_outbox_plan_stats_t stats = {0};
    if (cc_outbox_plan_queued(f->store, &f->env, local(when), max, 0, more, &stats, f->err, sizeof(f->err)) != 0)
        fail_msg("plan queued: %s", f->err);
    return stats;
}

static const char QUEUE_SQL[] = "SELECT coalesce(group_concat(child_id, ','), '') FROM "
                                "(SELECT child_id FROM plan_queue ORDER BY id)";

/* The whole council planned one child per slice plans what one plan
 * does, and the slices' ranges leave no gap: pending rows of children that
 * are gone (ids before the first child and after the last) are cancelled. */
static void test_slices_cover_the_whole_council(void **state)
{
    fixture_t *f = *state;
    exec_sql(f->store, "INSERT INTO children (id, initials, dob, team_id, worker_id) VALUES "
                       " ('C3', 'E.F.', '2012-04-01', 'T1', 'W1'), ('C4', 'G.H.', '2012-04-01', 'T1', 'W1');"
                       "INSERT INTO deliveries (child_id, rule_id, seq, stage, recipient, channel, role, kind, "
                       "stage_date, due_at, next_attempt_at, instance) VALUES "
                       " ('A0', 'sgo_report', 1, '-1wd', 'W1', 'email', 'worker', 'reminder', '2026-12-24', "
                       "  '2026-12-24T09:00:00Z', '2026-12-24T09:00:00Z', '1.1'),"
                       " ('Z9', 'sgo_report', 1, '-1wd', 'W1', 'email', 'worker', 'reminder', '2026-12-24', "
                       "  '2026-12-24T09:00:00Z', '2026-12-24T09:00:00Z', '1.1');");
    clock_row(f, "C1", "overdue");
    clock_row(f, "C2", "overdue");
    clock_row(f, "C4", "overdue");
    cc_outbox_full_t full;
    cc_outbox_plan_stats_t s = {0};
    int slices = 0;
    cc_outbox_full_init(&full);
    while (!full.done) {
        assert_int_equal(cc_outbox_plan_slice(f->store, &f->env, local("2027-01-05T09:00"), &full, 1, &s, f->err,
                                              sizeof(f->err)),
                         0);
        slices++;
    }
    cc_outbox_full_free(&full);
    assert_int_equal(slices, 4); /* [start, C2) [C2, C3) [C3, C4) [C4, end) */
    assert_int_equal(s.clocks, 3);
    assert_int_equal(s.enqueued, 9);
    assert_int_equal(s.cancelled, 2);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE child_id IN ('A0', 'Z9') AND "
                                         "state = 'cancelled'"),
                     2);
    /* Planned once more as a whole: nothing new, nothing missed. */
    s = plan_at(f, "2027-01-05T09:30");
    assert_int_equal(s.planned, 9);
    assert_int_equal(s.enqueued, 0);
}

/* Between whole-council plans only the queued children are planned; the
 * queue is filled by the evaluator's digest writes and emptied by the plan. */
static void test_queued_children_alone_are_planned(void **state)
{
    fixture_t *f = *state;
    int more = 1;
    clock_row(f, "C1", "overdue");
    clock_row(f, "C2", "due_soon");
    plan_at(f, "2026-12-24T07:00");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "");
    /* The queue is empty: nothing is read beyond the check. */
    cc_outbox_plan_stats_t s = plan_queued_at(f, "2026-12-24T07:05", 16, &more);
    assert_int_equal(more, 0);
    assert_int_equal(s.clocks, 0);
    /* C2's clock is met; C1's overdue clock is untouched. The evaluator
     * writes C2's rows and its digest, which queues C2. */
    clock_row(f, "C2", "met");
    exec_sql(f->store, "INSERT INTO clock_digests (child_id, digest) VALUES ('C2', 7)");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C2");
    s = plan_queued_at(f, "2026-12-24T08:00", 16, &more);
    assert_int_equal(more, 0);
    assert_int_equal(s.children, 1);
    assert_int_equal(s.clocks, 0); /* C2 has no open clock; C1's was not read */
    assert_int_equal(s.cancelled, 1);
    assert_string_equal(query_text(f->store, "SELECT state FROM deliveries WHERE child_id = 'C2'"), "cancelled");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "");
    /* In batches: more is set while rows remain. */
    exec_sql(f->store, "UPDATE clock_digests SET digest = 8 WHERE child_id = 'C2';"
                       "INSERT INTO clock_digests (child_id, digest) VALUES ('C1', 9);");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C2,C1");
    s = plan_queued_at(f, "2026-12-24T08:05", 1, &more);
    assert_int_equal(more, 1);
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C1");
    s = plan_queued_at(f, "2026-12-24T08:05", 1, &more);
    assert_int_equal(s.clocks, 1);
    assert_string_equal(query_text(f->store, QUEUE_SQL), "");
}

/* Who a child's reminders go to changes without its clocks changing: its
 * worker, IRO or team, its team's managers or webhook, a member of staff's
 * email. Each queues exactly the children it concerns, once each; a child
 * queued again moves to the end. */
static void test_people_changes_queue_their_children(void **state)
{
    fixture_t *f = *state;
    exec_sql(f->store, "INSERT INTO staff (id, name, email, role) VALUES ('W2', 'Will', 'w2@council.example', "
                       "'worker'), ('I1', 'Ida', 'i1@council.example', 'iro');"
                       "INSERT INTO teams (id, name) VALUES ('T2', 'West');"
                       "INSERT INTO children (id, initials, dob, team_id, worker_id, iro_id) VALUES "
                       " ('C3', 'E.F.', '2012-04-01', 'T2', 'W2', 'I1');");
    exec_sql(f->store, "DELETE FROM plan_queue");
    exec_sql(f->store, "UPDATE children SET worker_id = 'W2' WHERE id = 'C1'");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C1");
    exec_sql(f->store, "UPDATE children SET initials = 'X.Y.' WHERE id = 'C2'"); /* not who: not queued */
    exec_sql(f->store, "UPDATE staff SET name = 'Wendy W.' WHERE id = 'W1'");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C1");
    exec_sql(f->store, "UPDATE staff SET email = 'i1@new.example' WHERE id = 'I1'");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C1,C3");
    exec_sql(f->store, "UPDATE teams SET manager_id = 'W2' WHERE id = 'T1'");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C3,C1,C2");
    exec_sql(f->store, "UPDATE staff SET email = 'sm1@new.example' WHERE id = 'SM1'"); /* T1's service manager */
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C3,C1,C2");
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM plan_queue"), 3);
    exec_sql(f->store, "UPDATE teams SET webhook = 'east' WHERE id = 'T2'");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C1,C2,C3");
}

/* A whole-council plan deletes the queue rows that were there when it
 * began (every slice saw their changes), not those queued while it ran. */
static void test_whole_plan_keeps_what_was_queued_while_it_ran(void **state)
{
    fixture_t *f = *state;
    clock_row(f, "C1", "overdue");
    clock_row(f, "C2", "overdue");
    exec_sql(f->store, "INSERT INTO clock_digests (child_id, digest) VALUES ('C1', 1), ('C2', 2)");
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C1,C2");
    cc_outbox_full_t full;
    cc_outbox_full_init(&full);
    assert_int_equal(cc_outbox_plan_slice(f->store, &f->env, local("2027-01-05T09:00"), &full, 1, NULL, f->err,
                                          sizeof(f->err)),
                     0);
    assert_false(full.done);
    /* C1 (planned by the first slice) changes again while the plan runs. */
    exec_sql(f->store, "UPDATE clock_digests SET digest = 3 WHERE child_id = 'C1'");
    while (!full.done)
        assert_int_equal(cc_outbox_plan_slice(f->store, &f->env, local("2027-01-05T09:00"), &full, 1, NULL, f->err,
                                              sizeof(f->err)),
                         0);
    cc_outbox_full_free(&full);
    assert_string_equal(query_text(f->store, QUEUE_SQL), "C1");
}

/* Planning reads until it finds something new: a plan with nothing new
 * succeeds while another process holds the write lock (a council's bulk
 * sync, say), and one with something new says busy (to be tried again)
 * rather than waiting or failing. */
static void test_nothing_new_needs_no_write_lock(void **state)
{
    fixture_t *f = *state;
    sqlite3 *other = NULL;
    clock_row(f, "C1", "overdue");
    plan_at(f, "2027-01-05T09:00");
    sqlite3_busy_timeout(cc_store_db(f->store), 0);
    assert_int_equal(sqlite3_open(f->db, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    cc_outbox_plan_stats_t s = {0};
    assert_int_equal(cc_outbox_plan(f->store, &f->env, local("2027-01-05T09:30"), &s, f->err, sizeof(f->err)), 0);
    assert_int_equal(s.planned, 3);
    assert_int_equal(s.enqueued, 0);
    /* Something new: C2's clock. */
    clock_row_on(other, "C2", "overdue"); /* by another connection */
    assert_int_equal(sqlite3_exec(other, "COMMIT; BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    cc_outbox_full_t full;
    cc_outbox_full_init(&full);
    memset(&s, 0, sizeof(s));
    assert_int_equal(cc_outbox_plan_slice(f->store, &f->env, local("2027-01-05T09:30"), &full, 100, &s, f->err,
                                          sizeof(f->err)),
                     CC_EBUSY);
    assert_false(full.started); /* unchanged: the same slice goes again */
    assert_int_equal(s.enqueued, 0);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(cc_outbox_plan_slice(f->store, &f->env, local("2027-01-05T09:30"), &full, 100, &s, f->err,
                                          sizeof(f->err)),
                     0);
    assert_true(full.done);
    assert_int_equal(s.enqueued, 3);
    cc_outbox_full_free(&full);
    sqlite3_close(other);
}

/* Every planning statement is served from the child-id keys: a slice or a
 * queued child reads its own rows, never a status index or a scan of the
 * council's clocks or outbox (which made a whole plan of 10,000 children
 * take minutes before CROSS JOIN and the unary + were added). */
static void test_planning_reads_by_child(void **state)
{
    fixture_t *f = *state;
    const char *sql;
    for (size_t i = 0; (sql = cc_outbox_plan_sql(i)) != NULL; i++) {
        char plan[4096];
        query_plan(f->store, sql, plan, sizeof(plan));
        if (strstr(plan, "clocks_by_status") || strstr(plan, "deliveries_by_state") ||
            strstr(plan, "deliveries_ready") || strstr(plan, "SCAN c\n") || strstr(plan, "SCAN d\n") ||
            strstr(plan, "SCAN clocks") || strstr(plan, "SCAN deliveries") || strstr(plan, "SCAN children"))
            fail_msg("statement %zu is not served by child id:\n%s\n%s", i, sql, plan);
        /* The first table is reached by its child-id range, or by the key. */
        if (!strstr(plan, "(child_id>? AND child_id<?)") &&
            !strstr(plan, "(child_id=? AND rule_id=? AND instance=? AND stage=? AND recipient=? AND channel=?)") &&
            !strstr(plan, "(id>?)"))
            fail_msg("statement %zu reads no child-id range or key:\n%s\n%s", i, sql, plan);
    }
}

/* Pruning takes every record of a closed (or gone) clock whose records
 * are all final and older than the cutoff, and nothing else; a plan
 * afterwards does not bring any of them back. */
static void test_prune_takes_only_closed_final_old_records(void **state)
{
    fixture_t *f = *state;
    size_t deleted = 0;
    cc_date_t before;
    exec_sql(f->store, "INSERT INTO children (id, initials, dob, team_id, worker_id) VALUES "
                       " ('C3', 'E.F.', '2012-04-01', 'T1', 'W1'), ('C4', 'G.H.', '2012-04-01', 'T1', 'W1');");
    clock_row(f, "C1", "overdue");
    clock_row(f, "C2", "overdue");
    clock_row(f, "C3", "overdue");
    clock_row(f, "C4", "overdue");
    plan_at(f, "2027-01-05T09:00");
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries"), 12);
    /* C1: met, every record sent long ago: pruned. C2: met, one record
     * still pending: kept. C3: met, but a record changed on the cutoff day:
     * kept. C4: still overdue: kept. C9: a child gone, its records sent:
     * pruned. */
    exec_sql(f->store, "UPDATE clocks SET status = 'met' WHERE child_id IN ('C1', 'C2', 'C3');"
                       "UPDATE deliveries SET state = 'sent', updated_at = '2027-01-06T10:00:00Z';"
                       "UPDATE deliveries SET state = 'pending' WHERE child_id = 'C2' AND stage = '+5wd';"
                       "UPDATE deliveries SET updated_at = '2027-02-01T00:00:00Z' WHERE child_id = 'C3' AND "
                       "stage = '-1wd';"
                       "INSERT INTO deliveries (child_id, rule_id, seq, stage, recipient, channel, role, kind, "
                       "stage_date, due_at, state, updated_at, instance) VALUES ('C9', 'sgo_report', 1, '-1wd', 'W1', "
                       "'email', 'worker', 'reminder', '2027-01-04', '2027-01-04T09:00:00Z', 'sent', "
                       "'2027-01-04T09:00:00Z', '1.1');");
    assert_int_equal(cc_date_parse("2027-02-01", &before), 0);
    assert_int_equal(cc_outbox_prune(f->store, before, &deleted, f->err, sizeof(f->err)), 0);
    assert_int_equal(deleted, 4);
    assert_string_equal(query_text(f->store, "SELECT group_concat(child_id || ':' || n, ' ') FROM (SELECT child_id, "
                                             "count(*) AS n FROM deliveries GROUP BY child_id ORDER BY child_id)"),
                        "C2:3 C3:3 C4:3");
    /* The met clocks' escalations are gone with them: no "now met" notice
     * is planned for C1, and nothing of it comes back. */
    cc_outbox_plan_stats_t s = plan_at(f, "2027-02-02T09:00");
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE child_id IN ('C1', 'C9')"), 0);
    /* C2 and C3 keep theirs: "now met" to each sent escalation (C2: the
     * team manager's; C3: the team and service managers'). */
    assert_int_equal(s.enqueued, 3);
}

static void test_retry_by_hand(void **state)
{
    fixture_t *f = *state;
    cc_outbox_claim_t c;
    clock_row(f, "C1", "due_soon");
    clock_row(f, "C2", "due_soon");
    plan_at(f, "2026-12-11T09:00");
    claim_at(f, "2026-12-11T09:00", "1:1", &c);
    cc_outbox_record(f->store, &c.messages[0], CC_OUTCOME_FAILED, "550 no such mailbox", -1,
                     local("2026-12-11T09:00"), NULL);
    int64_t second = c.messages[0].items[1].delivery_id;
    assert_int_equal(cc_outbox_retry(f->store, second, local("2026-12-11T10:00"), f->err, sizeof(f->err)), 0);
    /* The whole message is requeued, keeping its batch and id. */
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE state = 'pending' AND attempts = 0 "
                                         "AND batch IS NOT NULL AND message_id IS NOT NULL"),
                     2);
    assert_int_equal(cc_outbox_retry(f->store, second, local("2026-12-11T10:00"), f->err, sizeof(f->err)),
                     CC_ESTATE);
    assert_non_null(strstr(f->err, "is pending"));
    assert_int_equal(cc_outbox_retry(f->store, 9999, local("2026-12-11T10:00"), f->err, sizeof(f->err)),
                     CC_ENOTFOUND);
    cc_outbox_claim_free(&c);
}

static void test_addresses_are_resolved_again_at_claim(void **state)
{
    fixture_t *f = *state;
    cc_outbox_claim_t c;
    clock_row(f, "C1", "due_soon");
    plan_at(f, "2026-12-11T07:00");
    exec_sql(f->store, "UPDATE staff SET email = NULL WHERE id = 'W1'");
    claim_at(f, "2026-12-11T08:00", "1:1", &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.skipped, 1);
    assert_string_equal(query_text(f->store, "SELECT state || ': ' || last_error FROM deliveries"),
                        "undeliverable: staff W1 has no email address now");
    cc_outbox_claim_free(&c);
}

static void test_disabled_webhook_fails_without_sending(void **state)
{
    fixture_t *f = *state;
    cc_outbox_claim_t c;
    char since[256];
    exec_sql(f->store, "UPDATE teams SET webhook = 'east'");
    clock_row(f, "C1", "overdue");
    plan_at(f, "2026-12-29T09:00");
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries WHERE channel = 'webhook' AND "
                                         "recipient = 'team:T1' AND role = 'team_manager'"),
                     1);
    assert_int_equal(cc_outbox_webhook_disable(f->store, "east", "410 Gone", local("2026-12-29T09:00")), 0);
    assert_int_equal(cc_outbox_webhook_disabled(f->store, "east", since, sizeof(since)), 1);
    assert_non_null(strstr(since, "410 Gone"));
    claim_at(f, "2026-12-29T09:00", "1:1", &c);
    assert_int_equal(c.n, 2); /* the two emails */
    assert_int_equal(c.skipped, 1);
    assert_non_null(strstr(query_text(f->store, "SELECT last_error FROM deliveries WHERE channel = 'webhook'"),
                           "webhook east is disabled"));
    cc_outbox_claim_free(&c);
    assert_int_equal(cc_outbox_webhook_enable(f->store, "east"), 0);
    assert_int_equal(cc_outbox_webhook_enable(f->store, "east"), CC_ENOTFOUND);
    assert_int_equal(cc_outbox_webhook_disabled(f->store, "east", NULL, 0), 0);
}

int main(void)
{
    setenv("TZ", "Europe/London", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migration_from_version_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enqueued_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_makes_a_digest_and_marks_sending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_digest_one_message_per_row, setup, teardown),
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test_setup_teardown(test_retrying_keeps_the_message_and_gives_up_in_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_hands_back_only_what_dead_processes_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_reads_liveness_marks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closing_a_clock_cancels_what_is_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_renumbered_clock_is_not_planned_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaving_care_cancels_what_is_pending_with_the_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slices_cover_the_whole_council, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_children_alone_are_planned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_people_changes_queue_their_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_plan_keeps_what_was_queued_while_it_ran, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_new_needs_no_write_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_planning_reads_by_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_takes_only_closed_final_old_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_addresses_are_resolved_again_at_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_webhook_fails_without_sending, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
