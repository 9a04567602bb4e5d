/* The meta table: one value per key (docs/schema.md, "meta"). See the meta
 * section of daemon/store/internal.h for the keys and who writes them.
 *
 * Design note: a family of keys shares a prefix ("owed_index:NAME"); the
 * prefix functions read and delete the range [prefix, prefix with its last
 * byte raised by one), which the primary key serves as one range scan.
 */
#include "careclock/error.h"
#include "store/internal.h"

#include <stdio.h>
#include <string.h>

static const char GET_SQL[] = "SELECT value FROM meta WHERE key = ?1";
static const char SET_SQL[] =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
static const char ANY_SQL[] = "SELECT 1 FROM meta WHERE key >= ?1 AND key < ?2 LIMIT 1";
static const char EACH_SQL[] = "SELECT substr(key, ?3), value FROM meta WHERE key >= ?1 AND key < ?2 ORDER BY key";
static const char DELETE_SQL[] = "DELETE FROM meta WHERE key >= ?1 AND key < ?2";

/* The longest prefix: a family's name and its separator. */
#define PREFIX_MAX 64

/* Prepare sql on db and bind the range of keys that begin with prefix as
 * ?1 and ?2 (end receives the range's end: prefix, last byte + 1). */
static sqlite3_stmt *prepare_range(sqlite3 *db, const char *sql, const char *prefix, char end[PREFIX_MAX])
{
    size_t n = strlen(prefix);
    assert(n > 0 && n < PREFIX_MAX && (unsigned char)prefix[n - 1] < 0xff);
    memcpy(end, prefix, n + 1);
    end[n - 1]++;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
    return st;
}

int cc__meta_get(sqlite3 *db, const char *key, char *out, size_t len)
{
    assert(db != NULL && key != NULL && out != NULL && len > 0);
    sqlite3_stmt *st = NULL;
    int found = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, GET_SQL, -1, &st, NULL) != SQLITE_OK)
        return CC_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (cc__store_step(st) == SQLITE_ROW) {
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

int cc__meta_set(sqlite3 *db, const char *key, const char *value)
{
    assert(db != NULL && key != NULL && value != NULL);
    sqlite3_stmt *st = NULL;
    int rc = CC_EDB;
    if (sqlite3_prepare_v2(db, SET_SQL, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        rc = cc__store_step(st) == SQLITE_DONE ? 0 : CC_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Step the range statement sql once over the keys that begin with prefix:
 * SQLite's result (SQLITE_ROW, SQLITE_DONE, an error). */
static int range_once(sqlite3 *db, const char *sql, const char *prefix)
{
    char end[PREFIX_MAX];
    sqlite3_stmt *st = prepare_range(db, sql, prefix, end);
    int step = st != NULL ? cc__store_step(st) : SQLITE_ERROR;
    sqlite3_finalize(st);
    return step;
}

int cc__meta_any(sqlite3 *db, const char *prefix)
{
    int step = range_once(db, ANY_SQL, prefix);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : CC_EDB;
}

int cc__meta_each(sqlite3 *db, const char *prefix, int (*fn)(void *arg, const char *name, const char *value),
                  void *arg)
{
    char end[PREFIX_MAX];
    int rc = 0, step;
    sqlite3_stmt *st = prepare_range(db, EACH_SQL, prefix, end);
    if (st == NULL)
        return CC_EDB;
    sqlite3_bind_int(st, 3, (int)strlen(prefix) + 1);
    while ((step = cc__store_step(st)) == SQLITE_ROW)
        if ((rc = fn(arg, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1))) != 0)
            break;
    if (rc == 0 && step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(st);
    return rc;
}

int cc__meta_delete(sqlite3 *db, const char *prefix)
{
    return range_once(db, DELETE_SQL, prefix) == SQLITE_DONE ? 0 : CC_EDB;
}
