/* The change queue. See include/careclock/changes.h.
 *
 * Design note: ids only grow (AUTOINCREMENT, one writer at a time), so the
 * rows up to the maximum read by take are all committed and stay put until
 * an ack: no transaction is needed between take's two queries, and rows
 * queued after take (higher ids) survive the ack.
 */
#include "careclock/changes.h"
#include "careclock/error.h"
#include "store/internal.h"

static const char CHANGES_MAX_SQL[] = "SELECT coalesce(max(id), 0) FROM changes";
static const char CHANGES_IDS_SQL[] = "SELECT DISTINCT child_id FROM changes WHERE id <= ?1 ORDER BY child_id";
static const char CHANGES_ACK_SQL[] = "DELETE FROM changes WHERE id <= ?1";

int cc_store_changes_take(cc_store_t *s, int64_t *upto, char ***child_ids, size_t *n)
{
    assert(s != NULL && upto != NULL && child_ids != NULL && n != NULL);
    *upto = 0;
    *child_ids = NULL;
    *n = 0;
    sqlite3_stmt *st = cc__store_stmt(s, CHANGES_MAX_SQL);
    if (st == NULL)
        return CC_EDB;
    int rc = cc__store_step(st);
    int64_t max = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return CC_EDB;
    if (max == 0)
        return 0;
    st = cc__store_stmt(s, CHANGES_IDS_SQL);
    if (st == NULL || sqlite3_bind_int64(st, 1, max) != SQLITE_OK)
        return CC_EDB;
    if ((rc = cc__store_collect_ids(st, child_ids, n)) != 0)
        return rc;
    *upto = max;
    return 0;
}

int cc_store_changes_ack(cc_store_t *s, int64_t upto)
{
    assert(s != NULL && upto >= 0);
    sqlite3_stmt *st = cc__store_stmt(s, CHANGES_ACK_SQL);
    if (st == NULL || sqlite3_bind_int64(st, 1, upto) != SQLITE_OK)
        return CC_EDB;
    return cc__store_run(st);
}

int cc__store_changes_clear(cc_store_t *s)
{
    assert(s != NULL && cc__store_in_transaction(s));
    /* Without a WHERE clause SQLite truncates instead of deleting row by
     * row (a bulk load may have queued millions). */
    return cc__store_exec(s, "DELETE FROM changes");
}
