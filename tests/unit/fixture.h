/* The unit tests' shared fixture: a temporary directory, plan databases in
 * it, and SQL helpers that fail the test on any error (real SQLite files,
 * no mocks). Include it after <cmocka.h>. Every helper is static inline:
 * each test binary is one translation unit and uses what it needs.
 */
#ifndef CARECLOCK_TEST_FIXTURE_H
#define CARECLOCK_TEST_FIXTURE_H

#include "careclock/date.h"
#include "careclock/store.h"

#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A new directory $TMPDIR/careclock-NAME-XXXXXX (/tmp when TMPDIR is not
 * set) into dir. 0, or -1 when it cannot be made. */
static inline int fixture_tempdir(char *dir, size_t len, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/careclock-%s-XXXXXX", tmp ? tmp : "/tmp", name);
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static inline int fixture_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything in it. */
static inline void fixture_rmtree(const char *dir)
{
    nftw(dir, fixture_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The plan database at path, opened (created and migrated when new); the
 * test fails when it cannot be. */
static inline cc_store_t *fixture_open(const char *path)
{
    char err[512];
    cc_store_t *s = NULL;
    if (cc_store_open(path, &s, err, sizeof(err)) != 0)
        fail_msg("cc_store_open %s: %s", path, err);
    return s;
}

/* The common fixture: a temporary directory and a plan database in it
 * (path; store is NULL until the test or its setup opens it). */
typedef struct {
    char dir[PATH_MAX];
    char path[PATH_MAX + 16]; /* dir/plan.db */
    cc_store_t *store;
    char err[512];
} fixture_db_t;

/* A new fixture_db_t with its directory made ($TMPDIR/careclock-NAME-...);
 * NULL when it cannot be. */
static inline fixture_db_t *fixture_db_new(const char *name)
{
    fixture_db_t *f = calloc(1, sizeof(*f));
    if (f == NULL || fixture_tempdir(f->dir, sizeof(f->dir), name) != 0) {
        free(f);
        return NULL;
    }
    snprintf(f->path, sizeof(f->path), "%s/plan.db", f->dir);
    return f;
}

/* A cmocka teardown for a fixture_db_t in *state: the store closed, the
 * directory removed. */
static inline int fixture_db_teardown(void **state)
{
    fixture_db_t *f = *state;
    cc_store_close(f->store);
    fixture_rmtree(f->dir);
    free(f);
    return 0;
}

/* Run sql (any number of statements, no parameters) on the store's
 * connection, as another system would. */
static inline void exec_sql(cc_store_t *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(cc_store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* The first column of the one row sql returns, as an integer; param (NULL
 * for none) is bound to ?1. */
static inline int64_t query_int_with(cc_store_t *s, const char *sql, const char *param)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(cc_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    if (param != NULL)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline int64_t query_int(cc_store_t *s, const char *sql)
{
    return query_int_with(s, sql, NULL);
}

/* The first column of the one row sql returns, as text ("(null)" for
 * NULL), in a buffer that the next call overwrites. */
static inline const char *query_text(cc_store_t *s, const char *sql)
{
    static char buf[2048];
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(cc_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    snprintf(buf, sizeof(buf), "%s", t ? t : "(null)");
    sqlite3_finalize(st);
    return buf;
}

/* SQLite's plan for sql (EXPLAIN QUERY PLAN, parameters unbound), one
 * step a line, into plan (len bytes); returns plan. */
static inline const char *query_plan(cc_store_t *s, const char *sql, char *plan, size_t len)
{
    char explain[4096];
    sqlite3_stmt *st;
    size_t used = 0;
    snprintf(explain, sizeof(explain), "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(sqlite3_prepare_v2(cc_store_db(s), explain, -1, &st, NULL), SQLITE_OK);
    plan[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW && used < len)
        used += (size_t)snprintf(plan + used, len - used, "%s\n", (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    return plan;
}

/* A date written "YYYY-MM-DD"; the test fails when it does not parse. */
static inline cc_date_t iso(const char *s)
{
    cc_date_t d;
    assert_int_equal(cc_date_parse_iso(s, &d), 0);
    return d;
}


/* Migration 10's objects (decisions, event_counts and its triggers; the
 * view's agreed_due goes with the view below). */
#define UNDO_MIGRATION_10                                                                                         \
    "DROP TABLE decisions; DROP TRIGGER events_count_insert; DROP TRIGGER events_count_delete; "                 \
    "DROP TRIGGER events_count_update; DROP TABLE event_counts; "

/* A file of schema 8 is this schema without migration 10's and 9's objects
 * (the decisions; the compact clocks: docs/schema.md): the clocks table as
 * it was, the digests without their windows. Older versions' tests undo it
 * first. */
#define UNDO_MIGRATION_9                                                                                          \
    UNDO_MIGRATION_10 "DROP VIEW clocks; DROP TABLE clock_rows; DROP TABLE clock_rules; "                                           \
    "CREATE TABLE clocks (child_id TEXT NOT NULL, rule_id TEXT NOT NULL, seq INTEGER NOT NULL, title TEXT NOT "   \
    "NULL, start_date TEXT, due_date TEXT, status TEXT NOT NULL, met_on TEXT, start_event_id INTEGER, "           \
    "met_event_id INTEGER, reason TEXT, flags INTEGER NOT NULL DEFAULT 0, source TEXT, updated_at TEXT NOT NULL, " \
    "sequence INTEGER NOT NULL DEFAULT 0, instance TEXT NOT NULL, left_care_on TEXT, "                            \
    "PRIMARY KEY (child_id, rule_id, instance)) WITHOUT ROWID; "                                                  \
    "CREATE INDEX clocks_by_status ON clocks(status, due_date); DROP TRIGGER digests_plan_update; "             \
    "ALTER TABLE clock_digests DROP COLUMN valid_from; ALTER TABLE clock_digests DROP COLUMN valid_until; "       \
    "CREATE TRIGGER digests_plan_update AFTER UPDATE ON clock_digests BEGIN DELETE FROM plan_queue WHERE "         \
    "child_id IN (SELECT NEW.child_id); INSERT INTO plan_queue (child_id) SELECT NEW.child_id; END; "

#endif
