/* Unit tests for the store's connection and table modules (daemon/store/
 * store.c, schema.c, people.c, events.c, changes.c) against a real SQLite
 * file in a temporary directory: creation mode, migrations, the change
 * queue, the audit triggers, failed writes leaving nothing behind, and the
 * queue API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/error.h"
#include "careclock/changes.h"
#include "careclock/events.h"
#include "careclock/people.h"
#include "careclock/store.h"
#include "fixture.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef fixture_db_t fixture_t;

/* The database is opened by each test (some open it twice). */
static int setup(void **state)
{
    *state = fixture_db_new("store");
    return *state != NULL ? 0 : -1;
}

static cc_store_t *open_store(fixture_t *f)
{
    return f->store = fixture_open(f->path);
}

/* Every row of every table, as text: equal dumps mean an unchanged database. */
static void dump(cc_store_t *s, cc_buf_t *out)
{
    sqlite3 *db = cc_store_db(s);
    sqlite3_stmt *tables, *rows;
    cc_buf_reset(out);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1,
                                        &tables, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char sql[256];
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY 1", name);
        cc_buf_printf(out, "[%s]\n", name);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &rows, NULL), SQLITE_OK);
        while (sqlite3_step(rows) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(rows); c++) {
                const unsigned char *t = sqlite3_column_text(rows, c);
                cc_buf_printf(out, "%s|", t ? (const char *)t : "NULL");
            }
            cc_buf_puts(out, "\n");
        }
        sqlite3_finalize(rows);
    }
    sqlite3_finalize(tables);
}

/* A small office: two workers, a manager, an IRO, team T1, child C1. */
static void populate(fixture_t *f)
{
    cc_store_t *s = f->store;
    const cc_store_staff_t staff[] = {
        {"M1", "Mina Manager", "m1@council.example", "team_manager", NULL},
        {"W1", "Wes Worker", "w1@council.example", "worker", "M1"},
        {"W2", "Wren Worker", "w2@council.example", "worker", "M1"},
        {"I1", "Ira Iro", "i1@council.example", "iro", NULL},
    };
    for (size_t i = 0; i < sizeof(staff) / sizeof(staff[0]); i++)
        if (cc_store_staff_add(s, &staff[i], f->err, sizeof(f->err)) != 0)
            fail_msg("staff add %s: %s", staff[i].id, f->err);
    cc_store_team_t team = {"T1", "Team One", "M1", NULL, "team-one"};
    if (cc_store_team_add(s, &team, f->err, sizeof(f->err)) != 0)
        fail_msg("team add: %s", f->err);
    cc_store_child_t child = {"C1", "AB", NULL, iso("2015-03-02"), "T1", "W1", "I1"};
    if (cc_store_child_add(s, &child, f->err, sizeof(f->err)) != 0)
        fail_msg("child add: %s", f->err);
}

static int64_t add_event(fixture_t *f, const char *child, const char *type, const char *date)
{
    int64_t id = 0;
    cc_store_event_in_t ev = {.child_id = child, .type = type, .date = iso(date)};
    if (cc_store_event_add(f->store, &ev, &id, f->err, sizeof(f->err)) != 0)
        fail_msg("event add %s %s: %s", type, date, f->err);
    return id;
}

/* Take the queue, check it holds exactly the expected ids, ack it. */
static void expect_changes(cc_store_t *s, const char *const *expected, size_t nexpected)
{
    int64_t upto;
    char **ids;
    size_t n;
    assert_int_equal(cc_store_changes_take(s, &upto, &ids, &n), 0);
    assert_int_equal(n, nexpected);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ids[i], expected[i]);
    if (n > 0)
        assert_true(upto > 0);
    cc_store_free_ids(ids, n);
    assert_int_equal(cc_store_changes_ack(s, upto), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM changes"), 0);
}

static mode_t file_mode(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_mode & 0777;
}

static void test_new_file_is_private(void **state)
{
    fixture_t *f = *state;
    mode_t old = umask(022);
    open_store(f);
    populate(f); /* a write, so the -wal and -shm files exist */
    umask(old);
    char side[PATH_MAX + 32];
    assert_int_equal(file_mode(f->path), 0600);
    snprintf(side, sizeof(side), "%s-wal", f->path);
    assert_int_equal(file_mode(side), 0600);
    snprintf(side, sizeof(side), "%s-shm", f->path);
    assert_int_equal(file_mode(side), 0600);
    int created, from, to;
    cc_store_open_info(f->store, &created, &from, &to);
    assert_int_equal(created, 1);
    assert_int_equal(from, 0);
    assert_int_equal(to, CC_STORE_SCHEMA_VERSION);
}

static void test_schema_version_and_pragmas(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    assert_int_equal(query_int(s, "PRAGMA user_version"), CC_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(s, "PRAGMA application_id"), CC_STORE_APPLICATION_ID);
    assert_int_equal(query_int(s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(s, "PRAGMA busy_timeout"), 5000);
    assert_int_equal(query_int(s, "PRAGMA synchronous"), 1); /* NORMAL */
    assert_int_equal(query_int(s, "PRAGMA journal_size_limit"), 67108864);
    assert_string_equal(query_text(s, "PRAGMA journal_mode"), "wal");
    const char *tables[] = {"staff",   "teams",       "children", "events", "clock_rows", "clock_rules",
                            "audit",   "changes",     "audit_actor", "meta", "feeds"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
                 tables[i]);
        assert_int_equal(query_int(s, sql), 1);
    }
}

static void test_reopen_is_a_no_op(void **state)
{
    fixture_t *f = *state;
    cc_buf_t before, after;
    cc_buf_init(&before);
    cc_buf_init(&after);
    open_store(f);
    populate(f);
    int64_t objects = query_int(f->store, "SELECT count(*) FROM sqlite_schema");
    dump(f->store, &before);
    cc_store_close(f->store);
    f->store = NULL;
    open_store(f);
    int created, from, to;
    cc_store_open_info(f->store, &created, &from, &to);
    assert_int_equal(created, 0);
    assert_int_equal(from, CC_STORE_SCHEMA_VERSION);
    assert_int_equal(to, CC_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(f->store, "SELECT count(*) FROM sqlite_schema"), objects);
    dump(f->store, &after);
    assert_string_equal(cc_buf_str(&before), cc_buf_str(&after));
    cc_buf_free(&before);
    cc_buf_free(&after);
}

static void test_refuses_newer_and_foreign_databases(void **state)
{
    fixture_t *f = *state;
    sqlite3 *db;
    cc_store_t *s = NULL;
    open_store(f);
    cc_store_close(f->store);
    f->store = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(cc_store_open(f->path, &s, f->err, sizeof(f->err)), CC_ESTATE);
    assert_null(s);
    assert_non_null(strstr(f->err, "schema version 99"));

    char other[PATH_MAX + 16];
    snprintf(other, sizeof(other), "%s/other.db", f->dir);
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(cc_store_open(other, &s, f->err, sizeof(f->err)), CC_EDB);
    assert_non_null(strstr(f->err, "not a careclock one"));
}

/* Migration 7 from a version 6 file (issue 20): every child gets its
 * allocation as the first row of its history; staff may be viewers (the
 * CHECK widened in place, still refusing other roles); later changes to a
 * child's team, worker or IRO add rows from the day the writer says. */
static void test_migration_7_from_version_6(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    populate(f);
    exec_sql(s, UNDO_MIGRATION_9 "DROP TRIGGER children_assign_insert; DROP TRIGGER children_assign_update; DROP TABLE assignments; "
                "DROP TABLE web_signin; DROP TABLE web_sessions; DROP TABLE web_audit; "
                "ALTER TABLE audit_actor DROP COLUMN since; PRAGMA writable_schema = ON; "
                "UPDATE sqlite_schema SET sql = replace(sql, ',''viewer''', '') WHERE name = 'staff'; "
                "PRAGMA writable_schema = RESET; PRAGMA writable_schema = OFF; PRAGMA user_version = 6;");
    assert_int_equal(query_int(s, "SELECT instr(sql, 'viewer') FROM sqlite_schema WHERE name = 'staff'"), 0);
    cc_store_close(f->store);
    f->store = NULL;
    s = open_store(f);
    int created, from, to;
    cc_store_open_info(s, &created, &from, &to);
    assert_int_equal(from, 6);
    assert_int_equal(to, CC_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(s, "SELECT count(*) FROM assignments"), query_int(s, "SELECT count(*) FROM children"));
    assert_int_equal(query_int(s, "SELECT count(*) FROM assignments a JOIN children c ON c.id = a.child_id AND "
                                  "a.team_id IS c.team_id AND a.worker_id IS c.worker_id AND a.iro_id IS c.iro_id"),
                     query_int(s, "SELECT count(*) FROM children"));
    exec_sql(s, "INSERT INTO staff (id, name, role) VALUES ('V1', 'Perf', 'viewer')");
    assert_int_not_equal(sqlite3_exec(cc_store_db(s), "INSERT INTO staff (id, name, role) VALUES ('X1', 'X', 'boss')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_string_equal(query_text(s, "PRAGMA integrity_check"), "ok");
    /* A reassignment through the store, holding from the day given. */
    char err[256];
    cc_store_set_since(s, iso("2026-02-01"));
    assert_int_equal(cc_store_child_set(s, "C1", NULL, "W2", NULL, err, sizeof(err)), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM assignments WHERE child_id = 'C1' AND since = '2026-02-01' "
                                  "AND worker_id = 'W2'"),
                     1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM audit_actor"), 0); /* the day travels only inside the write */
}

/* Migration 4 from a version 3 file: events_by_child becomes covering (the
 * same name and leading columns), and clock_digests gets one row with
 * digest 0 ("unknown") for every child that has clocks. */
static void test_migration_4_from_version_3(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    populate(f);
    add_event(f, "C1", "looked_after_start", "2026-11-02");
    exec_sql(s, UNDO_MIGRATION_9);
    exec_sql(s, "INSERT INTO clocks (child_id, rule_id, seq, title, status, updated_at, instance) VALUES "
           "('C1', 'care_plan', 1, 'Care plan', 'open', '2026-11-02T00:00:00Z', '1.1'), "
           "('C1', 'review', 1, 'Review', 'open', '2026-11-02T00:00:00Z', '1.1'), "
           "('C9', 'review', 1, 'Review', 'open', '2026-11-02T00:00:00Z', '1.1')");
    /* A version 3 file is this schema without migration 4's objects (and
     * migrations 5, 6 and 7's, which the reopen also applies). */
    exec_sql(s, "DROP TRIGGER children_assign_insert; DROP TRIGGER children_assign_update; DROP TABLE assignments; DROP TABLE web_signin; DROP TABLE web_sessions; DROP TABLE web_audit; ALTER TABLE audit_actor DROP COLUMN since; "
             "DROP TRIGGER children_plan_update; DROP TRIGGER teams_plan_update; DROP TRIGGER staff_plan_update; DROP TABLE plan_queue; DROP INDEX children_by_iro; DROP TABLE clock_digests; DROP INDEX events_by_child; "
           "CREATE INDEX events_by_child ON events(child_id, date); PRAGMA user_version = 3;");
    cc_store_close(f->store);
    f->store = NULL;
    s = open_store(f);
    int created, from, to;
    cc_store_open_info(s, &created, &from, &to);
    assert_int_equal(from, 3);
    assert_int_equal(to, CC_STORE_SCHEMA_VERSION);
    assert_string_equal(query_text(s, "SELECT group_concat(name, ',') FROM pragma_index_info('events_by_child')"),
                        "child_id,date,type,attributes");
    assert_int_equal(query_int(s, "SELECT count(*) FROM clock_digests"), 2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM clock_digests WHERE digest = 0 AND child_id IN ('C1', 'C9')"),
                     2);
    /* Nothing else moved. */
    assert_int_equal(query_int(s, "SELECT count(*) FROM clocks"), 3);
    assert_int_equal(query_int(s, "SELECT count(*) FROM events"), 1);
    /* The evaluator's read of every event uses the index alone. */
    sqlite3_stmt *plan;
    int covering = 0;
    assert_int_equal(sqlite3_prepare_v2(cc_store_db(s),
                                        "EXPLAIN QUERY PLAN SELECT child_id, id, type, date, attributes FROM events "
                                        "ORDER BY child_id",
                                        -1, &plan, NULL),
                     SQLITE_OK);
    while (sqlite3_step(plan) == SQLITE_ROW)
        covering |= strstr((const char *)sqlite3_column_text(plan, 3), "COVERING INDEX events_by_child") != NULL;
    sqlite3_finalize(plan);
    assert_true(covering);
}

/* The clocks and deliveries tables as schema 7 had them (migrations 1 to
 * 7): keyed, and unique, by seq; delivery ids AUTOINCREMENT (migration 6). */
#define CLOCKS_V7                                                                                              \
    "CREATE TABLE clocks (child_id TEXT NOT NULL, rule_id TEXT NOT NULL, seq INTEGER NOT NULL, title TEXT "      \
    "NOT NULL, start_date TEXT, due_date TEXT, status TEXT NOT NULL, met_on TEXT, start_event_id INTEGER, "       \
    "met_event_id INTEGER, reason TEXT, flags INTEGER NOT NULL DEFAULT 0, source TEXT, updated_at TEXT NOT "    \
    "NULL, sequence INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (child_id, rule_id, seq)) WITHOUT ROWID;"           \
    "CREATE INDEX clocks_by_status ON clocks(status, due_date);"
#define DELIVERIES_V7                                                                                          \
    "CREATE TABLE deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, child_id TEXT NOT NULL, rule_id TEXT NOT "   \
    "NULL, seq "                                                                                               \
    "INTEGER NOT NULL, stage TEXT NOT NULL, recipient TEXT NOT NULL, channel TEXT NOT NULL CHECK (channel IN "  \
    "('email','webhook')), role TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('reminder','escalation',"    \
    "'met')), address TEXT, due_date TEXT, stage_date TEXT NOT NULL, due_at TEXT NOT NULL, immediate INTEGER " \
    "NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sending','sent',"   \
    "'retrying','failed','undeliverable','cancelled')), batch INTEGER, message_id TEXT, attempts INTEGER NOT " \
    "NULL DEFAULT 0, next_attempt_at TEXT, first_attempt_at TEXT, last_error TEXT, claimed_by TEXT, "          \
    "created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), updated_at TEXT NOT NULL "       \
    "DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), sent_at TEXT, UNIQUE (child_id, rule_id, seq, stage, "    \
    "recipient, channel));"                                                                                    \
    "CREATE INDEX deliveries_ready ON deliveries(next_attempt_at) WHERE state IN ('pending','retrying');"       \
    "CREATE INDEX deliveries_by_state ON deliveries(state);"                                                    \
    "CREATE INDEX deliveries_by_batch ON deliveries(batch) WHERE batch IS NOT NULL;"

/* Migration 8 from a version 7 file (issue 15 item 7): clocks keyed by
 * (child, rule, instance) and deliveries unique by it, every row and id
 * kept (batches and Message-IDs with them) and the id sequence too (ids
 * never come back, migration 6), each row's instance the provisional
 * "#SEQ" on both sides (so that they join as they did until the first
 * evaluation maps them), and that evaluation forced: no clocks_as_of,
 * every digest unknown, the note that it commits as it goes. */
static void test_migration_8_from_version_7(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    populate(f);
    exec_sql(s, UNDO_MIGRATION_9 "DROP TABLE clocks; DROP TABLE deliveries;" CLOCKS_V7 DELIVERIES_V7
                "INSERT INTO clocks (child_id, rule_id, seq, title, status, due_date, updated_at, sequence) VALUES "
                "('C1', 'review', 1, 'LAC review', 'overdue', '2025-03-31', '2025-04-01T00:00:00Z', 2), "
                "('C1', 'review', 2, 'LAC review', 'open', '2025-06-30', '2025-04-01T00:00:00Z', 0), "
                "('C2', 'data', 1, 'Child''s data cannot be evaluated', 'data_error', NULL, 'x', 0);"
                "INSERT INTO deliveries (id, child_id, rule_id, seq, stage, recipient, channel, role, kind, "
                "stage_date, due_at, state, batch, message_id) VALUES "
                "(7, 'C1', 'review', 1, '+1wd', 'TM1', 'email', 'team_manager', 'escalation', '2025-04-01', "
                "'2025-04-01T08:00:00Z', 'sent', 7, '<cc-abc-7@x.example>'), "
                "(9, 'C1', 'review', 1, '+5wd', 'SM1', 'email', 'service_manager', 'escalation', '2025-04-07', "
                "'2025-04-07T08:00:00Z', 'pending', NULL, NULL);"
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clocks_as_of', '2025-04-07');"
                "INSERT INTO clock_digests (child_id, digest) VALUES ('C1', 12345), ('C2', 678);"
                /* rows up to 40 were pruned: their ids must not come back */
                "UPDATE sqlite_sequence SET seq = 40 WHERE name = 'deliveries';"
                "PRAGMA user_version = 7;");
    cc_store_close(f->store);
    f->store = NULL;
    s = open_store(f);
    int created, from, to;
    cc_store_open_info(s, &created, &from, &to);
    assert_int_equal(from, 7);
    assert_int_equal(to, CC_STORE_SCHEMA_VERSION);
    assert_string_equal(query_text(s, "SELECT group_concat(rule_id || ' ' || seq || ' ' || instance || ' ' || "
                                      "sequence, ', ') FROM (SELECT * FROM clocks ORDER BY child_id, rule_id, seq)"),
                        "review 1 #1 2, review 2 #2 0, data 1 #1 0");
    assert_string_equal(query_text(s, "SELECT group_concat(name, ',') FROM (SELECT name FROM "
                                      "pragma_table_info('clock_rows') WHERE pk > 0 ORDER BY pk)"),
                        "child_id,rule,instance");
    assert_string_equal(query_text(s, "SELECT group_concat(id || ' ' || instance || ' ' || state || ' ' || "
                                      "coalesce(message_id, '-'), ', ') FROM (SELECT * FROM deliveries ORDER BY id)"),
                        "7 #1 sent <cc-abc-7@x.example>, 9 #1 pending -");
    /* The unique key is the instance's. */
    assert_string_equal(query_text(s, "SELECT group_concat(name, ',') FROM pragma_index_info((SELECT name FROM "
                                      "pragma_index_list('deliveries') WHERE \"unique\" AND origin = 'u'))"),
                        "child_id,rule_id,instance,stage,recipient,channel");
    assert_int_equal(query_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                                  "('clocks_by_status', 'deliveries_ready', 'deliveries_by_state', "
                                  "'deliveries_by_batch')"),
                     4);
    assert_int_equal(query_int(s, "SELECT count(*) FROM meta WHERE key = 'clocks_as_of'"), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM meta WHERE key = 'instances_owed'"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM clock_digests WHERE digest <> 0"), 0);
    /* A second delivery for the same stage of the same instance is refused;
     * of another instance (a clock renumbered since), it is not. */
    assert_int_not_equal(sqlite3_exec(cc_store_db(s),
                                      "INSERT INTO deliveries (child_id, rule_id, seq, instance, stage, recipient, "
                                      "channel, role, kind, stage_date, due_at) VALUES ('C1', 'review', 1, '#1', "
                                      "'+1wd', 'TM1', 'email', 'team_manager', 'escalation', 'd', 'd')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    exec_sql(s, "INSERT INTO deliveries (child_id, rule_id, seq, instance, stage, recipient, channel, role, kind, "
                "stage_date, due_at) VALUES ('C1', 'review', 1, '20.1', '+1wd', 'TM1', 'email', 'team_manager', "
                "'escalation', 'd', 'd')");
    assert_int_equal(query_int(s, "SELECT max(id) FROM deliveries"), 41);
}

static void test_open_existing_does_not_create(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = NULL;
    struct stat sb;
    assert_int_equal(cc_store_open_existing(f->path, &s, f->err, sizeof(f->err)), CC_ENOTFOUND);
    assert_null(s);
    assert_int_not_equal(stat(f->path, &sb), 0);
    open_store(f);
    cc_store_close(f->store);
    f->store = NULL;
    assert_int_equal(cc_store_open_existing(f->path, &f->store, f->err, sizeof(f->err)), 0);
}

static void test_change_queue_from_any_writer(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    populate(f);
    const char *c1[] = {"C1"}, *c2[] = {"C2"}, *both[] = {"C1", "C2"};
    expect_changes(s, c1, 1); /* the child insert */

    int64_t id = add_event(f, "C1", "looked_after_start", "2026-11-02");
    expect_changes(s, c1, 1);

    /* Another system writing with plain SQL. */
    exec_sql(s, "INSERT INTO children (id, dob, team_id, worker_id) VALUES ('C2', '2019-01-01', 'T1', 'W1')");
    expect_changes(s, c2, 1);
    exec_sql(s, "INSERT INTO events (child_id, type, date, source) VALUES ('C2', 'referral', '2026-10-01', 'mis')");
    expect_changes(s, c2, 1);
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE events SET child_id = 'C2' WHERE id = %lld", (long long)id);
    exec_sql(s, sql);
    expect_changes(s, both, 2);
    exec_sql(s, "UPDATE events SET note = 'moved' WHERE child_id = 'C2' AND type = 'referral'");
    expect_changes(s, c2, 1);
    exec_sql(s, "DELETE FROM events WHERE type = 'referral'");
    expect_changes(s, c2, 1);
    exec_sql(s, "UPDATE children SET dob = '2019-01-02' WHERE id = 'C1'");
    expect_changes(s, c1, 1);
    /* Deleting a child cascades to its events, and both are queued. */
    exec_sql(s, "DELETE FROM children WHERE id = 'C2'");
    expect_changes(s, c2, 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM events WHERE child_id = 'C2'"), 0);
}

static void test_audit_keeps_deleted_and_updated_rows(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    populate(f);
    assert_int_equal(cc_store_set_actor(s, "cli:tester"), 0);
    cc_store_event_in_t ev = {.child_id = "C1", .type = "placement_start", .date = iso("2026-11-02"),
                              .attributes = "{\"emergency\":\"yes\"}", .note = "first placement"};
    int64_t id;
    assert_int_equal(cc_store_event_add(s, &ev, &id, f->err, sizeof(f->err)), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM audit"), 0); /* inserts are not audited */

    cc_store_event_t deleted;
    assert_int_equal(cc_store_event_delete(s, id, &deleted, f->err, sizeof(f->err)), 0);
    assert_int_equal(deleted.id, id);
    assert_string_equal(deleted.type, "placement_start");
    assert_string_equal(deleted.date, "2026-11-02");
    cc_store_event_clear(&deleted);
    assert_int_equal(query_int(s, "SELECT count(*) FROM events"), 0);
    assert_string_equal(query_text(s, "SELECT action || ' ' || table_name || ' ' || row_id || ' ' || actor "
                                      "FROM audit"),
                        "delete events 1 cli:tester");
    assert_string_equal(query_text(s, "SELECT json_extract(old_value, '$.type') || ' ' || "
                                      "json_extract(old_value, '$.date') || ' ' || "
                                      "json_extract(old_value, '$.note') || ' ' || "
                                      "json_extract(json_extract(old_value, '$.attributes'), '$.emergency') "
                                      "FROM audit"),
                        "placement_start 2026-11-02 first placement yes");
    assert_int_equal(query_int(s, "SELECT count(*) FROM audit WHERE new_value IS NULL"), 1);
    /* The actor never outlives the write that used it. */
    assert_int_equal(query_int(s, "SELECT count(*) FROM audit_actor"), 0);

    /* A write by another system is audited too, with no actor. */
    exec_sql(s, "UPDATE children SET worker_id = 'W2' WHERE id = 'C1'");
    assert_string_equal(query_text(s, "SELECT coalesce(actor, 'none') || ' ' || "
                                      "json_extract(old_value, '$.worker_id') || ' ' || "
                                      "json_extract(new_value, '$.worker_id') FROM audit "
                                      "WHERE table_name = 'children'"),
                        "none W1 W2");
    /* ... and one that names itself through audit_actor. */
    exec_sql(s, "BEGIN; INSERT INTO audit_actor (id, actor) VALUES (1, 'mis-sync'); "
           "DELETE FROM children WHERE id = 'C1'; DELETE FROM audit_actor; COMMIT");
    assert_string_equal(query_text(s, "SELECT actor FROM audit WHERE table_name = 'children' "
                                      "AND action = 'delete'"),
                        "mis-sync");
}

/* Each failing write: its code, a phrase of its message, nothing written. */
static void expect_refused(fixture_t *f, int got, int code, const char *phrase, const cc_buf_t *before)
{
    cc_buf_t after;
    cc_buf_init(&after);
    if (got != code)
        fail_msg("expected %d, got %d (%s)", code, got, f->err);
    if (strstr(f->err, phrase) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", f->err, phrase);
    dump(f->store, &after);
    assert_string_equal(cc_buf_str(before), cc_buf_str(&after));
    cc_buf_free(&after);
    f->err[0] = '\0';
}

static void test_failed_writes_leave_nothing(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    char *err = f->err;
    size_t el = sizeof(f->err);
    cc_buf_t before;
    cc_buf_init(&before);
    populate(f);
    add_event(f, "C1", "looked_after_start", "2026-01-05");
    add_event(f, "C1", "looked_after_end", "2026-03-01");
    add_event(f, "C1", "looked_after_start", "2026-06-01");
    cc_store_event_in_t keyed = {.child_id = "C1", .type = "visit", .date = iso("2026-06-08"), .source_key = "k1"};
    assert_int_equal(cc_store_event_add(s, &keyed, NULL, err, el), 0);
    dump(s, &before);

    cc_store_staff_t st = {"W1", "Dup", "d@x.example", "worker", NULL};
    expect_refused(f, cc_store_staff_add(s, &st, err, el), CC_EEXIST, "staff id \"W1\" already exists", &before);
    st = (cc_store_staff_t){"W9", "New", "n@x.example", "boss", NULL};
    expect_refused(f, cc_store_staff_add(s, &st, err, el), CC_EINVAL, "role \"boss\" is not one of", &before);
    st = (cc_store_staff_t){"W9", "New", "n@x.example", "worker", "M9"};
    expect_refused(f, cc_store_staff_add(s, &st, err, el), CC_ENOTFOUND, "manager \"M9\" does not exist", &before);
    const char *bad_emails[] = {"no-at.example", "a b@x.example", "a@x.example\r\nBcc: y@z", "a@x\n", "@x", "a@"};
    for (size_t i = 0; i < sizeof(bad_emails) / sizeof(bad_emails[0]); i++) {
        st = (cc_store_staff_t){"W9", "New", bad_emails[i], "worker", NULL};
        expect_refused(f, cc_store_staff_add(s, &st, err, el), CC_EINVAL, "email \"", &before);
    }
    st = (cc_store_staff_t){"W9", "", "n@x.example", "worker", NULL};
    expect_refused(f, cc_store_staff_add(s, &st, err, el), CC_EINVAL, "name is empty", &before);
    st = (cc_store_staff_t){"", "New", "n@x.example", "worker", NULL};
    expect_refused(f, cc_store_staff_add(s, &st, err, el), CC_EINVAL, "staff id is empty", &before);

    cc_store_team_t team = {"T1", "Again", "M1", NULL, NULL};
    expect_refused(f, cc_store_team_add(s, &team, err, el), CC_EEXIST, "team id \"T1\" already exists", &before);
    team = (cc_store_team_t){"T2", "Two", "M9", NULL, NULL};
    expect_refused(f, cc_store_team_add(s, &team, err, el), CC_ENOTFOUND, "manager \"M9\" does not exist", &before);
    team = (cc_store_team_t){"T2", "Two", "M1", "S9", NULL};
    expect_refused(f, cc_store_team_add(s, &team, err, el), CC_ENOTFOUND, "service manager \"S9\" does not exist",
                   &before);
    team = (cc_store_team_t){.id = "T9", .webhook = "x"};
    expect_refused(f, cc_store_team_set(s, &team, err, el), CC_ENOTFOUND, "team \"T9\" does not exist", &before);
    team = (cc_store_team_t){.id = "T1"};
    expect_refused(f, cc_store_team_set(s, &team, err, el), CC_EINVAL, "nothing to change", &before);

    cc_store_child_t child = {"C1", NULL, NULL, iso("2016-01-01"), "T1", "W1", NULL};
    expect_refused(f, cc_store_child_add(s, &child, err, el), CC_EEXIST, "child id \"C1\" already exists",
                   &before);
    child = (cc_store_child_t){"C2", NULL, NULL, iso("2016-01-01"), "T9", "W1", NULL};
    expect_refused(f, cc_store_child_add(s, &child, err, el), CC_ENOTFOUND, "team \"T9\" does not exist", &before);
    child = (cc_store_child_t){"C2", NULL, NULL, iso("2016-01-01"), "T1", "W9", NULL};
    expect_refused(f, cc_store_child_add(s, &child, err, el), CC_ENOTFOUND, "worker \"W9\" does not exist",
                   &before);
    child = (cc_store_child_t){"C2", NULL, NULL, iso("2016-01-01"), "T1", "W1", "I9"};
    expect_refused(f, cc_store_child_add(s, &child, err, el), CC_ENOTFOUND, "iro \"I9\" does not exist", &before);
    child = (cc_store_child_t){"C2", "A\nB", NULL, iso("2016-01-01"), "T1", "W1", NULL};
    expect_refused(f, cc_store_child_add(s, &child, err, el), CC_EINVAL,
                   "initials: character 2 is a control character (U+000A", &before);
    expect_refused(f, cc_store_child_set(s, "C9", "T1", NULL, NULL, err, el), CC_ENOTFOUND,
                   "child \"C9\" does not exist", &before);
    expect_refused(f, cc_store_child_set(s, "C1", NULL, "W9", NULL, err, el), CC_ENOTFOUND,
                   "worker \"W9\" does not exist", &before);
    expect_refused(f, cc_store_child_set(s, "C1", NULL, NULL, NULL, err, el), CC_EINVAL, "nothing to change",
                   &before);

    cc_store_event_in_t ev = {.child_id = "C9", .type = "visit", .date = iso("2026-06-01")};
    expect_refused(f, cc_store_event_add(s, &ev, NULL, err, el), CC_ENOTFOUND, "child \"C9\" does not exist",
                   &before);
    ev = (cc_store_event_in_t){.child_id = "C1", .type = "visit", .date = iso("2026-06-09"), .source_key = "k1"};
    expect_refused(f, cc_store_event_add(s, &ev, NULL, err, el), CC_EEXIST, "source_key \"k1\" already exists",
                   &before);
    /* Ends: before any start; before the start of the open episode; of an
     * episode that already ended. */
    ev = (cc_store_event_in_t){.child_id = "C1", .type = "looked_after_end", .date = iso("2025-12-31")};
    expect_refused(f, cc_store_event_add(s, &ev, NULL, err, el), CC_ESTATE,
                   "is before the start of the episode of care it would close (looked_after_start on 2026-01-05)",
                   &before);
    ev.date = iso("2026-05-01");
    expect_refused(f, cc_store_event_add(s, &ev, NULL, err, el), CC_ESTATE,
                   "the episode of care that started on 2026-01-05 already ended on 2026-03-01", &before);
    ev.date = iso("2026-03-01");
    expect_refused(f, cc_store_event_add(s, &ev, NULL, err, el), CC_ESTATE, "already ended on 2026-03-01",
                   &before);
    expect_refused(f, cc_store_event_delete(s, 999, NULL, err, el), CC_ENOTFOUND, "event 999 does not exist",
                   &before);

    /* An end of the open episode is accepted. */
    ev.date = iso("2026-07-01");
    assert_int_equal(cc_store_event_add(s, &ev, NULL, err, el), 0);
    cc_buf_free(&before);
}

static void test_end_needs_a_start(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    populate(f);
    cc_store_event_in_t ev = {.child_id = "C1", .type = "looked_after_end", .date = iso("2026-06-01")};
    assert_int_equal(cc_store_event_add(s, &ev, NULL, f->err, sizeof(f->err)), CC_ESTATE);
    assert_non_null(strstr(f->err, "child \"C1\" has no looked_after_start on or before it"));
    /* A start on the same day is enough. */
    add_event(f, "C1", "looked_after_start", "2026-06-01");
    assert_int_equal(cc_store_event_add(s, &ev, NULL, f->err, sizeof(f->err)), 0);
}

static void test_changes_take_and_ack(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    int64_t upto;
    char **ids;
    size_t n;
    assert_int_equal(cc_store_changes_take(s, &upto, &ids, &n), 0);
    assert_int_equal(upto, 0);
    assert_int_equal(n, 0);
    assert_null(ids);
    populate(f);
    add_event(f, "C1", "referral", "2026-10-01");
    add_event(f, "C1", "visit", "2026-10-02");
    assert_int_equal(cc_store_changes_take(s, &upto, &ids, &n), 0);
    assert_int_equal(n, 1); /* distinct */
    assert_string_equal(ids[0], "C1");
    assert_int_equal(upto, 3);
    cc_store_free_ids(ids, n);
    /* A change that arrives between take and ack survives the ack. */
    exec_sql(s, "INSERT INTO children (id, dob) VALUES ('C0', '2020-01-01')");
    assert_int_equal(cc_store_changes_ack(s, upto), 0);
    assert_int_equal(cc_store_changes_take(s, &upto, &ids, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "C0");
    assert_int_equal(upto, 4);
    cc_store_free_ids(ids, n);
    assert_int_equal(cc_store_changes_ack(s, upto), 0);
    /* Ids keep growing after the queue empties (AUTOINCREMENT). */
    add_event(f, "C0", "referral", "2026-10-01");
    assert_int_equal(cc_store_changes_take(s, &upto, &ids, &n), 0);
    assert_int_equal(upto, 5);
    cc_store_free_ids(ids, n);
}

static void test_child_ids_sorted(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    char **ids;
    size_t n;
    assert_int_equal(cc_store_child_ids(s, &ids, &n), 0);
    assert_int_equal(n, 0);
    cc_store_free_ids(ids, n);
    populate(f);
    exec_sql(s, "INSERT INTO children (id, dob) VALUES ('B7', '2020-01-01'), ('C0', '2020-01-01')");
    assert_int_equal(cc_store_child_ids(s, &ids, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "B7");
    assert_string_equal(ids[1], "C0");
    assert_string_equal(ids[2], "C1");
    cc_store_free_ids(ids, n);
}

static void test_event_list_and_sets(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    populate(f);
    add_event(f, "C1", "review_held", "2026-11-27");
    cc_store_event_in_t ev = {.child_id = "C1", .type = "placement_start", .date = iso("2026-11-02"),
                              .attributes = "{\"emergency\":\"no\"}", .source = "import", .source_key = "903:1"};
    assert_int_equal(cc_store_event_add(s, &ev, NULL, f->err, sizeof(f->err)), 0);
    cc_store_events_t list;
    assert_int_equal(cc_store_event_list(s, "C1", &list, f->err, sizeof(f->err)), 0);
    assert_int_equal(list.len, 2);
    assert_string_equal(list.items[0].type, "placement_start"); /* by date */
    assert_string_equal(list.items[0].attributes, "{\"emergency\":\"no\"}");
    assert_string_equal(list.items[0].source, "import");
    assert_string_equal(list.items[0].source_key, "903:1");
    assert_null(list.items[0].note);
    assert_string_equal(list.items[1].type, "review_held");
    assert_string_equal(list.items[1].attributes, "{}");
    assert_string_equal(list.items[1].source, "cli");
    assert_int_equal(strlen(list.items[1].recorded_at), 20);
    cc_store_events_free(&list);
    assert_int_equal(cc_store_event_list(s, "C9", &list, f->err, sizeof(f->err)), CC_ENOTFOUND);

    assert_int_equal(cc_store_child_set(s, "C1", NULL, "W2", "", f->err, sizeof(f->err)), 0);
    assert_string_equal(query_text(s, "SELECT worker_id || ' ' || team_id || ' ' || coalesce(iro_id, 'none') "
                                      "FROM children"),
                        "W2 T1 none");
    cc_store_team_t team = {.id = "T1", .webhook = "teams-general"};
    assert_int_equal(cc_store_team_set(s, &team, f->err, sizeof(f->err)), 0);
    assert_string_equal(query_text(s, "SELECT webhook || ' ' || manager_id FROM teams"), "teams-general M1");
    team.webhook = "";
    assert_int_equal(cc_store_team_set(s, &team, f->err, sizeof(f->err)), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM teams WHERE webhook IS NULL"), 1);
}

static void test_writes_nest_in_a_caller_transaction(void **state)
{
    fixture_t *f = *state;
    cc_store_t *s = open_store(f);
    populate(f);
    assert_int_equal(cc_store_begin(s), 0);
    cc_store_staff_t st = {"W3", "Third", NULL, "worker", NULL};
    assert_int_equal(cc_store_staff_add(s, &st, f->err, sizeof(f->err)), 0);
    /* A failed call inside undoes only itself. */
    assert_int_equal(cc_store_staff_add(s, &st, f->err, sizeof(f->err)), CC_EEXIST);
    cc_store_staff_t st4 = {"W4", "Fourth", NULL, "worker", "W3"};
    assert_int_equal(cc_store_staff_add(s, &st4, f->err, sizeof(f->err)), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM staff"), 6);
    assert_int_equal(cc_store_rollback(s), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM staff"), 4);
    assert_int_equal(cc_store_begin(s), 0);
    assert_int_equal(cc_store_staff_add(s, &st, f->err, sizeof(f->err)), 0);
    assert_int_equal(cc_store_commit(s), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM staff"), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file_is_private, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_schema_version_and_pragmas, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_is_a_no_op, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer_and_foreign_databases, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_migration_4_from_version_3, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_migration_7_from_version_6, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_migration_8_from_version_7, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_open_existing_does_not_create, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_change_queue_from_any_writer, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_audit_keeps_deleted_and_updated_rows, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_failed_writes_leave_nothing, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_end_needs_a_start, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_changes_take_and_ack, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_child_ids_sorted, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_event_list_and_sets, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_writes_nest_in_a_caller_transaction, setup, fixture_db_teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
