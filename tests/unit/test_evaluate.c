/* Unit tests for the evaluation (daemon/store/evaluate.c, reader.c, first.c)
 * against real SQLite files in a temporary directory, with the default
 * England rules and calendar: the full recompute (streamed, with its reader
 * thread) writes the same rows as the child-by-child path and as the
 * caller's-transaction path; an unchanged recompute writes nothing; the
 * first computation into an empty table keeps clocks_by_status; the clocks
 * of deleted children go; a day change writes only what moved, and the
 * result equals a fresh computation on that day. The first computation
 * commits as it goes: its rows equal one transaction's; cut short, it leaves
 * a note that the next refresh honours; others writing between its
 * transactions are taken in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/date.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"
#include "careclock/rulefiles.h"
#include "careclock/rules.h"
#include "careclock/store.h"
#include "fixture.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLIDAY_DIR CC_SOURCE_DIR "/config/holidays"
#define ENGLAND_RULES CC_SOURCE_DIR "/config/rules/england.rules"

static cc_ruleset_t *g_rs;
static cc_calendar_t *g_cal;

typedef struct {
    char dir[PATH_MAX];
    char path[PATH_MAX + 16];
    char path2[PATH_MAX + 16];
    cc_store_t *store, *store2, *store3;
} fixture_t;

static int group_setup(void **state)
{
    char err[512];
    const char *files[] = {ENGLAND_RULES};
    (void)state;
    if (cc_rulefiles_load(files, 1, &g_rs, err, sizeof(err)) != 0 ||
        cc_holidays_open(HOLIDAY_DIR, "england-and-wales", NULL, 0, &g_cal, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cc_ruleset_free(g_rs);
    cc_calendar_free(g_cal);
    return 0;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL || fixture_tempdir(f->dir, sizeof(f->dir), "eval") != 0)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/a.db", f->dir);
    snprintf(f->path2, sizeof(f->path2), "%s/b.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cc_store_close(f->store);
    cc_store_close(f->store2);
    cc_store_close(f->store3);
    cc_evaluate_set_commit_rows(0);
    fixture_rmtree(f->dir);
    free(f);
    return 0;
}

/* A small council of n children with varied histories, written as another
 * system would (plain SQL, events in date order across children, as they
 * are recorded), so the table's order is not the children's. Child k:
 * looked after from a date that depends on k, a placement (emergency for
 * every 3rd), a care plan (for 4 in 5), visits and reviews (most), review
 * minutes (every 3rd), every 7th a child-protection referral, every 11th
 * left care; every 50th has an event whose date does not parse
 * (data_error). */
typedef struct {
    cc_date_t date;
    int child;
    const char *type, *attrs;
} gen_event_t;

static int gen_cmp(const void *a, const void *b)
{
    const gen_event_t *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->child - y->child;
}

static void add_event(sqlite3_stmt *event, int child, const char *type, const char *date, const char *attrs)
{
    char id[16];
    snprintf(id, sizeof(id), "C%05d", child);
    sqlite3_bind_text(event, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(event, 2, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(event, 3, date, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(event, 4, attrs, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(event), SQLITE_DONE);
    sqlite3_reset(event);
}

static void populate(cc_store_t *s, int n)
{
    char id[16], dob[16], d[CC_DATE_STRLEN];
    size_t cap = (size_t)n * 64, len = 0;
    sqlite3_stmt *child, *event;
    gen_event_t *ev = calloc(cap, sizeof(*ev));
    assert_non_null(ev);
    exec_sql(s, "BEGIN");
    exec_sql(s, "INSERT INTO staff (id, name, email, role) VALUES ('M1', 'Mina', 'm1@x.example', 'team_manager'), "
           "('W1', 'Wes', 'w1@x.example', 'worker')");
    exec_sql(s, "INSERT INTO teams (id, name, manager_id) VALUES ('T1', 'Team', 'M1')");
    /* Prepared once: a few hundred thousand rows in all, run under valgrind too. */
    assert_int_equal(sqlite3_prepare_v2(cc_store_db(s),
                                        "INSERT INTO children (id, dob, team_id, worker_id) VALUES (?1, ?2, 'T1', "
                                        "'W1')",
                                        -1, &child, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(cc_store_db(s),
                                        "INSERT INTO events (child_id, type, date, attributes) VALUES (?1, ?2, ?3, ?4)",
                                        -1, &event, NULL),
                     SQLITE_OK);
    for (int k = 0; k < n; k++) {
        snprintf(id, sizeof(id), "C%05d", k);
        snprintf(dob, sizeof(dob), "%04d-%02d-%02d", 2008 + k % 15, 1 + k % 12, 1 + k % 28);
        sqlite3_bind_text(child, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(child, 2, dob, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(child), SQLITE_DONE);
        sqlite3_reset(child);
        cc_date_t start = iso("2024-01-08") + (k * 37) % 900;
        cc_date_t end = k % 11 == 0 ? start + 200 + k % 50 : iso("2026-11-20");
        ev[len++] = (gen_event_t){start, k, "looked_after_start", "{}"};
        ev[len++] = (gen_event_t){start, k, "placement_start", k % 3 == 0 ? "{\"emergency\":\"yes\"}" : "{}"};
        if (k % 5 != 0)
            ev[len++] = (gen_event_t){start + 5 + k % 12, k, "care_plan_completed", "{}"};
        for (cc_date_t v = start + 4 + k % 5; v < end && k % 4 != 0 && len < cap - 8; v += 38 + k % 9)
            ev[len++] = (gen_event_t){v, k, "visit", "{}"};
        for (cc_date_t r = start + 26 + k % 10; r < end && k % 6 != 1 && len < cap - 8; r += 110 + k % 30) {
            ev[len++] = (gen_event_t){r, k, "review_held", "{}"};
            if (k % 3 == 0)
                ev[len++] = (gen_event_t){r + 3 + k % 5, k, "review_minutes_sent", "{}"};
        }
        if (k % 11 == 0)
            ev[len++] = (gen_event_t){end, k, "looked_after_end", "{}"};
        if (k % 7 == 0)
            ev[len++] = (gen_event_t){iso("2026-06-01") + k % 90, k, "referral", "{}"};
    }
    qsort(ev, len, sizeof(*ev), gen_cmp);
    for (size_t i = 0; i < len; i++)
        add_event(event, ev[i].child, ev[i].type, cc_date_format(ev[i].date, d), ev[i].attrs);
    for (int k = 0; k < n; k += 50)
        add_event(event, k, "visit", "2025-02-30", "{}");
    sqlite3_finalize(child);
    sqlite3_finalize(event);
    exec_sql(s, "COMMIT");
    free(ev);
}

/* The clocks table as text, without updated_at and sequence (when). */
static char *dump(cc_store_t *s)
{
    cc_buf_t b;
    sqlite3_stmt *st;
    cc_buf_init(&b);
    assert_int_equal(sqlite3_prepare_v2(cc_store_db(s),
                                        "SELECT child_id, rule_id, seq, title, start_date, due_date, status, met_on, "
                                        "start_event_id, met_event_id, reason, flags, source, instance, left_care_on "
                                        "FROM clocks ORDER BY 1, 2, 3",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < 15; c++) {
            const char *t = (const char *)sqlite3_column_text(st, c);
            cc_buf_printf(&b, "%s|", t ? t : "NULL");
        }
        cc_buf_puts(&b, "\n");
    }
    sqlite3_finalize(st);
    char *out = strdup(cc_buf_str(&b));
    cc_buf_free(&b);
    return out;
}

/* The two databases hold the same clocks, row for row (dump()). */
static void assert_same_clocks(cc_store_t *a, cc_store_t *b)
{
    char *da = dump(a), *db = dump(b);
    assert_string_equal(da, db);
    free(da);
    free(db);
}

/* A full recompute of every child, as after a change of rules: each call
 * names other rules (a new fingerprint). */
static cc_eval_stats_t all(cc_store_t *s, const char *day, const char *now)
{
    static unsigned calls;
    char fp[32];
    cc_eval_stats_t st = {0};
    snprintf(fp, sizeof(fp), "fp%u", ++calls);
    assert_int_equal(cc_evaluate_all(s, g_rs, g_cal, iso(day), fp, now, &st), 0);
    assert_true(st.every);
    return st;
}

/* A full recompute with the rules unchanged (careclockd's start and
 * midnight): only the children whose clocks may have moved. */
static cc_eval_stats_t due(cc_store_t *s, const char *day, const char *now)
{
    cc_eval_stats_t st = {0};
    assert_int_equal(cc_evaluate_all(s, g_rs, g_cal, iso(day), "fp-same", now, &st), 0);
    return st;
}

/* ---- tests ---- */

static void test_unchanged_recompute_writes_nothing(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    populate(f->store, 300);
    cc_eval_stats_t first = all(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    assert_int_equal(first.children, 300);
    assert_true(first.clocks > 1000);
    assert_int_equal(first.written, first.clocks);
    assert_int_equal(first.data_errors, 6);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks"), (int64_t)first.clocks);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clock_digests WHERE digest <> 0"), 300);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM changes"), 0);
    char *before = dump(f->store);
    cc_eval_stats_t again = all(f->store, "2026-11-20", "2026-11-20T09:00:00Z");
    assert_int_equal(again.children, 300);
    assert_int_equal(again.clocks, first.clocks);
    assert_int_equal(again.written, 0);
    assert_int_equal(again.deleted, 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE updated_at = '2026-11-20T09:00:00Z'"), 0);
    char *after = dump(f->store);
    assert_string_equal(before, after);
    free(after);
    /* The same rules again (careclockd's restart): nothing has moved, no
     * child is evaluated, nothing is written. */
    due(f->store, "2026-11-20", "2026-11-20T10:00:00Z");
    cc_eval_stats_t restart = due(f->store, "2026-11-20", "2026-11-20T11:00:00Z");
    assert_false(restart.every);
    assert_int_equal(restart.children, 0);
    assert_int_equal(restart.written, 0);
    after = dump(f->store);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* A full recompute with the same rules evaluates only the children whose
 * clocks may have moved (a status, a starts_when threshold, a series'
 * lapse: the engine's next_change) or whose data changed, and leaves the
 * table exactly as evaluating every child does: day by day over two
 * months, after a day gone back, and across jumps of a year, with an event
 * recorded on the way. */
static void test_only_children_due_are_evaluated(void **state)
{
    fixture_t *f = *state;
    char day[CC_DATE_STRLEN], now[32];
    f->store = fixture_open(f->path);
    f->store2 = fixture_open(f->path2);
    populate(f->store, 300);
    populate(f->store2, 300);
    due(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    all(f->store2, "2026-11-20", "2026-11-20T08:00:00Z");
    size_t evaluated = 0, every = 0;
    int at = 0;
    for (int i = 0; i < 66; i++) {
        at += i < 60 ? 1 : i == 60 ? -3 : i % 2 ? 365 : 200;
        cc_date_format(iso("2026-11-20") + at, day);
        snprintf(now, sizeof(now), "%sT00:00:01Z", day);
        if (i == 10) {
            exec_sql(f->store, "INSERT INTO events (child_id, type, date) VALUES ('C00010', 'review_held', '2026-11-29')");
            exec_sql(f->store2, "INSERT INTO events (child_id, type, date) VALUES ('C00010', 'review_held', '2026-11-29')");
        }
        cc_eval_stats_t a = due(f->store, day, now);
        cc_eval_stats_t b = all(f->store2, day, now);
        assert_false(a.every);
        evaluated += a.children;
        every += b.children;
        assert_same_clocks(f->store, f->store2);
    }
    /* Far fewer than every child each day. */
    assert_true(evaluated * 4 < every);
}

/* The first computation into an empty table (indexes dropped and made
 * again) gives the rows the row-by-row path gives, and keeps the index. */
static void test_first_computation_matches_row_by_row(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    f->store2 = fixture_open(f->path2);
    /* More children than the reader's ring of batches holds at once. */
    populate(f->store, 1300);
    populate(f->store2, 1300);
    /* b: one stale row, so the table is not empty and every child is
     * compared and written row by row. */
    exec_sql(f->store2, "INSERT INTO clocks (child_id, rule_id, seq, title, status, updated_at, instance) VALUES "
                   "('C00001', 'stale', 1, 'Stale', 'open', '2026-01-01T00:00:00Z', '1.1')");
    cc_eval_stats_t a = all(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    cc_eval_stats_t b = all(f->store2, "2026-11-20", "2026-11-20T08:00:00Z");
    assert_int_equal(a.clocks, b.clocks);
    assert_int_equal(b.deleted, 1);
    assert_same_clocks(f->store, f->store2);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = "
                                         "'clocks_by_status' AND sql = 'CREATE INDEX clocks_by_status ON "
                                         "clock_rows(status, due_day, child_id, rule, seq, start_day, met_day, left_care_day, reason, title, source, agreed_day)'"),
                     1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clock_rows INDEXED BY clocks_by_status WHERE status = 0"),
                     query_int(f->store, "SELECT count(*) FROM clock_rows NOT INDEXED WHERE status = 0"));
}

/* Inside the caller's transaction the evaluation reads on the caller's
 * connection, so it sees the caller's uncommitted events; its result equals
 * the threaded read's. */
static void test_caller_transaction_sees_its_own_events(void **state)
{
    fixture_t *f = *state;
    cc_eval_stats_t st = {0};
    f->store = fixture_open(f->path);
    f->store2 = fixture_open(f->path2);
    populate(f->store, 700);
    populate(f->store2, 700);
    assert_int_equal(cc_store_begin(f->store), 0);
    exec_sql(f->store, "INSERT INTO events (child_id, type, date) VALUES ('C00003', 'referral', '2026-11-19')");
    assert_int_equal(cc_evaluate_all(f->store, g_rs, g_cal, iso("2026-11-20"), "fp", "2026-11-20T08:00:00Z", &st), 0);
    assert_int_equal(cc_store_commit(f->store), 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id = 'C00003' AND rule_id = "
                                         "'referral_decision' AND start_date = '2026-11-19'"),
                     1);
    exec_sql(f->store2, "INSERT INTO events (child_id, type, date) VALUES ('C00003', 'referral', '2026-11-19')");
    all(f->store2, "2026-11-20", "2026-11-20T08:00:00Z");
    assert_same_clocks(f->store, f->store2);
}

/* An in-memory database (no file for a second connection) works too. */
static void test_in_memory(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(":memory:");
    f->store2 = fixture_open(f->path2);
    populate(f->store, 300);
    populate(f->store2, 300);
    all(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    all(f->store2, "2026-11-20", "2026-11-20T08:00:00Z");
    assert_same_clocks(f->store, f->store2);
}

static void test_deleted_children_lose_their_clocks(void **state)
{
    fixture_t *f = *state;
    cc_eval_stats_t st = {0};
    f->store = fixture_open(f->path);
    populate(f->store, 300);
    all(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    int64_t c2 = query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id = 'C00002'");
    int64_t last = query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id = 'C00299'");
    assert_true(c2 > 0 && last > 0);
    /* Deleted by another system: the full recompute finds them by their
     * digests (one in the middle, one after every remaining child). */
    exec_sql(f->store, "DELETE FROM children WHERE id IN ('C00002', 'C00299')");
    st = all(f->store, "2026-11-20", "2026-11-20T09:00:00Z");
    assert_int_equal(st.children, 298);
    assert_int_equal(st.deleted, c2 + last);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id IN ('C00002', 'C00299')"), 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clock_digests WHERE child_id IN ('C00002', 'C00299')"),
                     0);
    /* Through the change queue. */
    int64_t c5 = query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id = 'C00005'");
    exec_sql(f->store, "DELETE FROM children WHERE id = 'C00005'");
    memset(&st, 0, sizeof(st));
    assert_int_equal(cc_evaluate_changes(f->store, g_rs, g_cal, iso("2026-11-20"), "2026-11-20T10:00:00Z", &st), 0);
    assert_int_equal(st.deleted, c5);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id = 'C00005'"), 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clock_digests WHERE child_id = 'C00005'"), 0);
}

/* A day later only the clocks whose status moved are written, and the
 * table equals one computed on that day from nothing. The change queue's
 * path (a changed child) agrees too. */
static void test_day_change_and_queue_agree_with_fresh(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    f->store2 = fixture_open(f->path2);
    populate(f->store, 300);
    populate(f->store2, 300);
    cc_eval_stats_t first = all(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    cc_eval_stats_t later = all(f->store, "2026-12-21", "2026-12-21T08:00:00Z");
    assert_true(later.written > 0);
    assert_true(later.written < first.written / 4);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE updated_at = '2026-12-21T08:00:00Z'"),
                     (int64_t)later.written);
    exec_sql(f->store, "INSERT INTO events (child_id, type, date) VALUES ('C00010', 'review_held', '2026-12-18')");
    exec_sql(f->store2, "INSERT INTO events (child_id, type, date) VALUES ('C00010', 'review_held', '2026-12-18')");
    cc_eval_stats_t st = {0};
    assert_int_equal(cc_evaluate_changes(f->store, g_rs, g_cal, iso("2026-12-21"), "2026-12-21T09:00:00Z", &st), 0);
    assert_int_equal(st.children, 1);
    assert_true(st.written > 0);
    all(f->store2, "2026-12-21", "2026-12-21T08:00:00Z");
    assert_same_clocks(f->store, f->store2);
}

/* Events of a child that does not exist (written with foreign keys off)
 * are passed over, and the children around them are evaluated as usual. */
static void test_orphan_events_are_skipped(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    f->store2 = fixture_open(f->path2);
    populate(f->store, 300);
    populate(f->store2, 300);
    exec_sql(f->store, "PRAGMA foreign_keys = OFF");
    exec_sql(f->store, "INSERT INTO events (child_id, type, date) VALUES ('C00000x', 'visit', '2026-01-05'), "
                  "('A', 'visit', '2026-01-05'), ('ZZZ', 'review_held', '2026-01-05')");
    exec_sql(f->store, "PRAGMA foreign_keys = ON");
    cc_eval_stats_t a = all(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    cc_eval_stats_t b = all(f->store2, "2026-11-20", "2026-11-20T08:00:00Z");
    assert_int_equal(a.children, 300);
    assert_int_equal(a.clocks, b.clocks);
    assert_same_clocks(f->store, f->store2);
}

/* A digest reset (0, as migration 4 writes) makes the next full recompute
 * compare that child's rows, and put right what differs. */
static void test_unknown_digest_compares_rows(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    populate(f->store, 300);
    due(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    char *before = dump(f->store);
    exec_sql(f->store, "UPDATE clocks SET title = 'Tampered' WHERE child_id = 'C00005' AND rule_id = 'visit' AND seq = 1");
    /* (The row keeps a title of its own, its rule's title is untouched.) */
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE title = 'Tampered'"), 1);
    exec_sql(f->store, "UPDATE clock_digests SET digest = 0 WHERE child_id = 'C00005'");
    cc_eval_stats_t st = due(f->store, "2026-11-20", "2026-11-20T09:00:00Z");
    assert_int_equal(st.children, 1);
    assert_int_equal(st.written, 1);
    char *after = dump(f->store);
    assert_string_equal(before, after);
    assert_int_not_equal(query_int(f->store, "SELECT digest FROM clock_digests WHERE child_id = 'C00005'"), 0);
    free(before);
    free(after);
}

/* ---- identity (issue 15 item 7) ---- */

/* One child, C1, looked after from Mon 3 Mar 2025 (event 10), recorded
 * first; evaluated on Tue 8 Apr 2025. */
static void current_episode(cc_store_t *s)
{
    exec_sql(s, "INSERT INTO children (id, dob) VALUES ('C1', '2015-04-01');"
                "INSERT INTO events (id, child_id, type, date) VALUES (10, 'C1', 'looked_after_start', '2025-03-03')");
}

/* ... and the earlier episode, recorded afterwards (events 20 to 22): looked
 * after Mon 2 Dec 2024, a review held Sat 1 Feb 2025, left Fri 14 Feb. */
static void earlier_episode(cc_store_t *s)
{
    exec_sql(s, "INSERT INTO events (id, child_id, type, date) VALUES (20, 'C1', 'looked_after_start', '2024-12-02'),"
                " (21, 'C1', 'review_held', '2025-02-01'), (22, 'C1', 'looked_after_end', '2025-02-14')");
}

/* A clock renumbered by history recorded before it stays the same row:
 * its instance, and its iCalendar SEQUENCE (its due date and status did not
 * change), while seq follows the new order. */
static void test_renumbered_clock_keeps_its_row(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    current_episode(f->store);
    all(f->store, "2025-04-08", "2025-04-08T08:00:00Z");
    exec_sql(f->store, "UPDATE clocks SET sequence = 4 WHERE rule_id = 'review'");
    assert_string_equal(query_text(f->store, "SELECT instance || ' ' || seq || ' ' || status FROM clocks "
                                             "WHERE rule_id = 'review'"),
                        "10.1 1 overdue");
    earlier_episode(f->store);
    cc_eval_stats_t st = {0};
    assert_int_equal(cc_evaluate_changes(f->store, g_rs, g_cal, iso("2025-04-08"), "2025-04-08T09:00:00Z", &st), 0);
    assert_string_equal(query_text(f->store, "SELECT group_concat(instance || ' ' || seq || ' ' || status || ' ' || "
                                             "sequence, ', ') FROM (SELECT * FROM clocks WHERE rule_id = 'review' "
                                             "ORDER BY seq)"),
                        "20.1 1 met_late 0, 20.2 2 cancelled 0, 10.1 3 overdue 4");
    /* (child, rule, seq) is still unique once written. */
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM (SELECT 1 FROM clocks GROUP BY child_id, rule_id, seq "
                                         "HAVING count(*) > 1)"),
                     0);
}

/* Rows of schema 7 (migration 8 gives them the provisional instance "#SEQ",
 * and their deliveries the same) hand their deliveries to the instance each
 * is now, in the first write-back of the child: matched by the event that
 * started the clock and its start date, not by seq, which history recorded
 * before the upgrade's first evaluation has moved; then by the event alone
 * (a start date corrected since). A row whose clock is gone keeps its
 * deliveries as they were (those of a clock that no longer exists). */
static void test_schema_7_rows_hand_their_deliveries_on(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    current_episode(f->store);
    exec_sql(f->store, "INSERT INTO events (id, child_id, type, date) VALUES (11, 'C1', 'placement_start', "
                       "'2025-03-03'), (12, 'C1', 'sgo_notice', '2025-03-04'), (13, 'C1', 'referral', '2025-03-05')");
    all(f->store, "2025-04-08", "2025-04-08T08:00:00Z");
    /* As migration 8 leaves a schema 7 database: every row provisional, on
     * both sides, digests unknown, no clocks_as_of, the note that the full
     * recompute commits as it goes (here every few rows). */
    exec_sql(f->store, "UPDATE clocks SET instance = '#' || seq; UPDATE clock_digests SET digest = 0;"
                       "DELETE FROM meta WHERE key = 'clocks_as_of';"
                       "INSERT INTO meta (key, value) VALUES ('instances_owed', '1');"
                       "INSERT INTO deliveries (child_id, rule_id, seq, instance, stage, recipient, channel, role, "
                       "kind, stage_date, due_at, state) SELECT child_id, rule_id, seq, instance, '+1wd', 'TM1', "
                       "'email', 'team_manager', 'escalation', '2025-04-01', '2025-04-01T08:00:00Z', 'sent' "
                       "FROM clocks");
    /* Before the first evaluation: the earlier episode (renumbering every
     * review), the SGO notice's date corrected, the referral deleted. */
    earlier_episode(f->store);
    exec_sql(f->store, "UPDATE events SET date = '2025-03-07' WHERE id = 12; DELETE FROM events WHERE id = 13");
    /* More children than a batch (after C1 in id order), so that the
     * recompute commits between batches. */
    exec_sql(f->store, "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 300) "
                       "INSERT INTO children (id, dob) SELECT printf('D%03d', k), '2015-04-01' FROM n;"
                       "INSERT INTO events (child_id, type, date) SELECT id, 'looked_after_start', '2025-03-03' "
                       "FROM children WHERE id LIKE 'D%'");
    cc_evaluate_set_commit_rows(5);
    cc_eval_stats_t st = {0};
    assert_int_equal(cc_evaluate_refresh(f->store, g_rs, g_cal, iso("2025-04-08"), "fp", "2025-04-08T09:00:00Z", &st),
                     0);
    assert_true(st.commits >= 1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM meta WHERE key = 'instances_owed'"), 0);
    assert_string_equal(query_text(f->store, "SELECT group_concat(rule_id || ' ' || seq || ' ' || instance, ', ') "
                                             "FROM (SELECT * FROM deliveries WHERE rule_id IN ('assessment', "
                                             "'care_plan', 'health_assessment', 'referral_decision', 'review', "
                                             "'sgo_report', 'visit') ORDER BY rule_id, seq)"),
                        "assessment 1 #1, care_plan 1 10.1, health_assessment 1 10.1, referral_decision 1 #1, "
                        "review 1 10.1, sgo_report 1 12.1, visit 1 11.1");
    /* Every clock that is still there took its deliveries. */
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM clocks c "
                                         "WHERE c.child_id = d.child_id AND c.rule_id = d.rule_id AND "
                                         "c.instance = d.instance) AND d.rule_id NOT IN ('assessment', "
                                         "'referral_decision', 'chronology')"),
                     0);
    /* The review whose deliveries they are is number 3 now. */
    assert_int_equal(query_int(f->store, "SELECT seq FROM clocks WHERE rule_id = 'review' AND instance = '10.1'"), 3);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE instance LIKE '#%'"), 0);
}

/* An emptied clocks table (by hand) is filled again: its digests no longer
 * describe any row. */
static void test_emptied_table_is_filled_again(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    populate(f->store, 300);
    cc_eval_stats_t first = all(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    char *before = dump(f->store);
    exec_sql(f->store, "DELETE FROM clocks");
    cc_eval_stats_t again = all(f->store, "2026-11-20", "2026-11-20T09:00:00Z");
    assert_int_equal(again.written, first.written);
    char *after = dump(f->store);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* Children in the tests of a first computation that commits as it goes:
 * more than two of the reader's batches of 256, so that it commits twice
 * before its last transaction; C00599 is the last. */
#define BATCHED 600

static int64_t status_index_count(cc_store_t *s)
{
    return query_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'clocks_by_status' AND "
                        "sql = 'CREATE INDEX clocks_by_status ON clock_rows(status, due_day, child_id, rule, seq, start_day, met_day, left_care_day, reason, title, source, agreed_day)'");
}

static int64_t owed_count(cc_store_t *s)
{
    return query_int(s, "SELECT count(*) FROM meta WHERE key LIKE 'owed_index:%'");
}

/* Every row is what a computation from nothing gives: with the digests
 * gone, a full recompute compares every row, and finds nothing to write. */
static void assert_rows_fresh(cc_store_t *s)
{
    exec_sql(s, "DELETE FROM clock_digests");
    cc_eval_stats_t check = all(s, "2026-11-20", "2026-11-20T10:00:00Z");
    assert_int_equal(check.written, 0);
    assert_int_equal(check.deleted, 0);
}

/* The first computation, committed as often as it can (after each batch of
 * 256 children read), writes the rows one
 * transaction writes, and ends with the index made and nothing owed. */
static void test_first_computation_commits_as_it_goes(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    f->store2 = fixture_open(f->path2);
    populate(f->store, BATCHED);
    populate(f->store2, BATCHED);
    cc_evaluate_set_commit_rows(1); /* after every batch of children read */
    cc_eval_stats_t a = all(f->store, "2026-11-20", "2026-11-20T08:00:00Z");
    assert_true(a.commits >= 2);
    assert_int_equal(a.children, BATCHED);
    assert_int_equal(a.written, a.clocks);
    /* b: in the caller's transaction, so in one. */
    cc_eval_stats_t b = {0};
    assert_int_equal(cc_store_begin(f->store2), 0);
    assert_int_equal(cc_evaluate_all(f->store2, g_rs, g_cal, iso("2026-11-20"), "fp", "2026-11-20T08:00:00Z", &b), 0);
    assert_int_equal(cc_store_commit(f->store2), 0);
    assert_int_equal(b.commits, 0);
    assert_int_equal(a.clocks, b.clocks);
    assert_same_clocks(f->store, f->store2);
    assert_int_equal(status_index_count(f->store), 1);
    assert_int_equal(owed_count(f->store), 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clock_digests"), BATCHED);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM changes"), 0);
}

/* What a commit hook of the test does between the first computation's
 * transactions, on other connections to the same file. */
typedef struct {
    fixture_t *f;
    int commits;
    int mode;             /* HOOK_CUT or HOOK_WRITE */
} hook_t;

enum { HOOK_CUT, HOOK_WRITE };

static int after_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    hook_t *h = arg;
    (void)name;
    (void)pages;
    if (h->commits++ != 0)
        return SQLITE_OK;
    if (h->mode == HOOK_CUT) {
        /* Another writer holds the lock and ours will not wait: the next
         * transaction cannot begin. */
        assert_int_equal(cc_store_begin(h->f->store2), 0);
        sqlite3_busy_timeout(db, 0);
        return SQLITE_OK;
    }
    /* A review for the last child, evaluated by another process before the
     * first computation reaches that child; then its minutes and a referral
     * for a child done already, only queued. */
    cc_eval_stats_t st = {0};
    exec_sql(h->f->store2, "INSERT INTO events (child_id, type, date) VALUES ('C00599', 'review_held', '2026-11-02')");
    assert_int_equal(cc_evaluate_changes(h->f->store2, g_rs, g_cal, iso("2026-11-20"), "2026-11-20T08:30:00Z", &st),
                     0);
    assert_true(st.written > 0);
    /* Then the minutes, only queued: the child's rows written just now are
     * no longer what its events give. */
    exec_sql(h->f->store2, "INSERT INTO events (child_id, type, date) VALUES ('C00599', 'review_minutes_sent', "
                      "'2026-11-05')");
    exec_sql(h->f->store2, "INSERT INTO events (child_id, type, date) VALUES ('C00003', 'referral', '2026-11-18')");
    return SQLITE_OK;
}

/* A first computation cut short (the next transaction could not begin)
 * leaves the children done so far, the index owed and noted; the next
 * refresh, even on the same day, finishes the job. */
static void test_cut_short_first_computation_is_finished(void **state)
{
    fixture_t *f = *state;
    cc_eval_stats_t st = {0};
    hook_t h = {f, 0, HOOK_CUT};
    f->store = fixture_open(f->path);
    f->store3 = fixture_open(f->path2);
    populate(f->store, BATCHED);
    populate(f->store3, BATCHED);
    f->store2 = fixture_open(f->path);
    cc_evaluate_set_commit_rows(2000);
    sqlite3_wal_hook(cc_store_db(f->store), after_commit, &h);
    assert_int_equal(cc_evaluate_all(f->store, g_rs, g_cal, iso("2026-11-20"), "fp", "2026-11-20T08:00:00Z", &st),
                     CC_EDB);
    sqlite3_wal_hook(cc_store_db(f->store), NULL, NULL);
    assert_int_equal(cc_store_rollback(f->store2), 0);
    sqlite3_busy_timeout(cc_store_db(f->store), 5000);
    int64_t done = query_int(f->store, "SELECT count(*) FROM clocks");
    assert_true(done >= 2000);
    assert_true(done < (int64_t)st.clocks + 1);
    assert_true(query_int(f->store, "SELECT count(DISTINCT child_id) FROM clocks") < BATCHED);
    assert_int_equal(status_index_count(f->store), 0);
    assert_int_equal(owed_count(f->store), 1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM meta WHERE key = 'owed_index:clocks_by_status' AND "
                                         "value = 'CREATE INDEX clocks_by_status ON clock_rows(status, due_day, child_id, rule, seq, start_day, met_day, left_care_day, reason, title, source, agreed_day)'"),
                     1);
    /* Even with the day recorded as today, the note means a full recompute. */
    exec_sql(f->store, "INSERT INTO meta (key, value) VALUES ('clocks_as_of', '2026-11-20'), ('rules_fingerprint', 'fp') "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    cc_eval_stats_t again = {0};
    assert_int_equal(cc_evaluate_refresh(f->store, g_rs, g_cal, iso("2026-11-20"), "fp", "2026-11-20T09:00:00Z",
                                         &again),
                     0);
    assert_int_equal(again.children, BATCHED);
    assert_true(again.commits >= 1); /* the rest, too, committed as it went */
    assert_int_equal(status_index_count(f->store), 1);
    assert_int_equal(owed_count(f->store), 0);
    all(f->store3, "2026-11-20", "2026-11-20T08:00:00Z");
    assert_same_clocks(f->store, f->store3);
}

/* A note in meta whose text is not one CREATE INDEX statement is never
 * run; it is settled with the others, and the evaluation goes on. */
static void test_owed_note_that_is_not_an_index_is_not_run(void **state)
{
    fixture_t *f = *state;
    f->store = fixture_open(f->path);
    populate(f->store, 50);
    exec_sql(f->store, "INSERT INTO meta (key, value) VALUES "
                  "('owed_index:a', 'CREATE TRIGGER t AFTER INSERT ON clocks BEGIN DELETE FROM children; END'), "
                  "('owed_index:b', 'CREATE INDEX b ON children(dob); DROP TABLE events'), "
                  "('owed_index:c', 'CREATE TABLE c (x) -- INDEX')");
    cc_eval_stats_t st = {0};
    assert_int_equal(cc_evaluate_refresh(f->store, g_rs, g_cal, iso("2026-11-20"), "fp", "2026-11-20T08:00:00Z", &st),
                     0);
    assert_int_equal(st.children, 50);
    assert_int_equal(owed_count(f->store), 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM sqlite_schema WHERE name IN ('t', 'b', 'c')"), 0);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = "
                                         "'events'"),
                     1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM children"), 50);
    assert_int_equal(status_index_count(f->store), 1);
}

/* Another process writing between the first computation's transactions:
 * its clocks for a child not yet reached, which that child's newer events
 * change, are compared, not inserted again (which would break the primary
 * key), and its queued change for a child already done is evaluated before
 * the end. */
static void test_writes_between_first_transactions_are_taken_in(void **state)
{
    fixture_t *f = *state;
    cc_eval_stats_t st = {0};
    hook_t h = {f, 0, HOOK_WRITE};
    f->store = fixture_open(f->path);
    populate(f->store, BATCHED);
    f->store2 = fixture_open(f->path);
    cc_evaluate_set_commit_rows(2000);
    sqlite3_wal_hook(cc_store_db(f->store), after_commit, &h);
    assert_int_equal(cc_evaluate_all(f->store, g_rs, g_cal, iso("2026-11-20"), "fp", "2026-11-20T08:00:00Z", &st),
                     0);
    sqlite3_wal_hook(cc_store_db(f->store), NULL, NULL);
    assert_true(h.commits >= 3);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id = 'C00599' AND rule_id = "
                                         "'review_minutes' AND start_date = '2026-11-02'"),
                     1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id = 'C00599' AND rule_id = "
                                         "'review_minutes' AND met_on = '2026-11-05'"),
                     1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM clocks WHERE child_id = 'C00003' AND rule_id = "
                                         "'referral_decision' AND start_date = '2026-11-18'"),
                     1);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM changes"), 0);
    assert_int_equal(status_index_count(f->store), 1);
    assert_int_equal(owed_count(f->store), 0);
    assert_rows_fresh(f->store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unchanged_recompute_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_children_due_are_evaluated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_computation_matches_row_by_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_transaction_sees_its_own_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_children_lose_their_clocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_change_and_queue_agree_with_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_events_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_digest_compares_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renumbered_clock_keeps_its_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_7_rows_hand_their_deliveries_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emptied_table_is_filled_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_computation_commits_as_it_goes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_short_first_computation_is_finished, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_between_first_transactions_are_taken_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owed_note_that_is_not_an_index_is_not_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
