/* A full recompute, streamed, and the first computation into an empty
 * clocks table: cc_evaluate_all. See evaluate.h and evaluation.h.
 *
 * Design notes:
 *  - Every child comes from the reader (reader.c) in id order; the stored
 *    digests are read in the same order on this connection and merged in,
 *    so a child whose clocks did not change costs no read of its rows.
 *  - The first computation (an empty clocks table) inserts without
 *    looking, with the table's secondary indexes dropped and owed (a note
 *    in meta), committing every so many rows in its own transactions; the
 *    last transaction makes the indexes again and settles the notes. A
 *    computation cut short leaves the notes, and the next refresh finishes
 *    it.
 */
#include "store/evaluation.h"
#include "careclock/error.h"
#include "careclock/version.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digests of children that no longer exist, collected during the pass and
 * handled after it (never while the digest read is open ahead of them). */
typedef struct {
    char **ids;
    size_t n, cap;
} orphans_t;

static int add_orphan(orphans_t *o, const char *id)
{
    if (cc__grow(&o->ids, &o->cap, o->n + 1, sizeof(char *), 16) != 0)
        return CC_ENOMEM;
    if ((o->ids[o->n] = strdup(id ? id : "")) == NULL)
        return CC_ENOMEM;
    o->n++;
    return 0;
}

/* The merge of the children (by id) with clock_digests (digests, stepped
 * by id, *step its last result): the digests before id are of children
 * gone (orphans, added to o), the one of id is read into *stored (left as
 * it is when there is none). 0, CC_EDB or CC_ENOMEM. */
static int digest_of(sqlite3_stmt *digests, int *step, const char *id, orphans_t *o, cc__stored_t *stored)
{
    int rc = 0, cmp;
    while (rc == 0 && *step == SQLITE_ROW && (cmp = cc__compare_id(digests, 0, id)) <= 0) {
        if (cmp == 0)
            cc__stored_read(digests, 1, stored);
        else
            rc = add_orphan(o, (const char *)sqlite3_column_text(digests, 0));
        *step = cc__store_step(digests);
    }
    if (rc == 0 && *step != SQLITE_ROW && *step != SQLITE_DONE)
        rc = CC_EDB;
    return rc;
}

/* Start (or resume after the child `after`) the read of the stored
 * digests, in child order, on the writer's connection. */
static int digests_start(sqlite3 *db, const char *after, sqlite3_stmt **st, int *step)
{
    const char *sql = after != NULL ? "SELECT child_id, digest, valid_from, valid_until FROM clock_digests "
                                      "WHERE child_id > ?1 ORDER BY child_id"
                                    : "SELECT child_id, digest, valid_from, valid_until FROM clock_digests "
                                      "ORDER BY child_id";
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return CC_EDB;
    if (after != NULL)
        sqlite3_bind_text(*st, 1, after, -1, SQLITE_TRANSIENT);
    *step = cc__store_step(*st);
    return *step == SQLITE_ROW || *step == SQLITE_DONE ? 0 : CC_EDB;
}

/* Commit what the first computation has written so far and go on in a new
 * transaction, from the child after `last` (a copy: the batch it points
 * into is refilled), the reads (children, events, digests) ended and begun
 * again so that no snapshot is held across the commit and the WAL can be
 * checkpointed and reused. Between the two transactions other connections
 * may commit: if one did (its events are in the change queue, which
 * cc__eval_drain() reads at the end; it may have written clocks), the rest
 * is written by comparing rows instead of inserting blind. */
static int commit_and_go_on(cc__eval_t *x, cc__reader_t *r, const char *last, sqlite3_stmt **digests, int *dg_step)
{
    /* Only a first computation in its own transactions commits as it goes,
     * and its reads are on this connection (no reader thread). */
    assert(x->commit_rows > 0 && !r->threaded && cc__store_in_transaction(x->store));
    char *after = strdup(last);
    int64_t version = 0;
    int rc = after != NULL ? 0 : CC_ENOMEM;
    cc__reader_pause(r);
    sqlite3_finalize(*digests);
    *digests = NULL;
    if (rc == 0)
        rc = cc_store_commit(x->store);
    if (rc == 0)
        rc = cc_store_begin(x->store);
    if (rc == 0)
        rc = cc__store_pragma_int(x->db, "PRAGMA data_version", &version);
    if (rc == 0) {
        x->stats->commits++;
        if (version != x->data_version)
            x->bulk = 0;
        x->data_version = version;
        rc = cc__reader_start(r, after);
    }
    if (rc == 0)
        rc = digests_start(x->db, after, digests, dg_step);
    free(after);
    return rc;
}

/* Every child through the engine. The stored digests are read in the same
 * order (on this connection: this thread writes them) and merged in. With
 * x->commit_rows set (a first computation, in its own transactions), the
 * reads are on this connection and the work is committed every
 * x->commit_rows rows (commit_and_go_on). */
static int evaluate_stream(cc__eval_t *x, int may_thread)
{
    cc__reader_t r;
    orphans_t orphans = {0};
    sqlite3_stmt *digests = NULL;
    int rc, dg_step = SQLITE_DONE, last = 0;
    size_t committed = x->stats->written;
    if ((rc = cc__reader_open(&r, x->db, may_thread && x->commit_rows == 0, cc__store_busy_ms(x->store))) != 0)
        return rc;
    if (x->commit_rows > 0 && (rc = cc__store_pragma_int(x->db, "PRAGMA data_version", &x->data_version)) != 0)
        goto out;
    if ((rc = digests_start(x->db, NULL, &digests, &dg_step)) != 0)
        goto out;
    while (rc == 0 && !last) {
        cc__batch_t *b;
        rc = cc__reader_next(&r, &b);
        if (rc == 0)
            cc__batch_decode(b, &x->types);
        for (size_t k = 0; rc == 0 && k < b->nkids; k++) {
            const char *id = b->strings + b->kids[k].id;
            cc__stored_t stored = CC__STORED_UNKNOWN;
            rc = digest_of(digests, &dg_step, id, &orphans, &stored);
            if (rc == 0)
                rc = cc__eval_loaded(x, b, k, &stored);
        }
        last = b->last;
        cc__reader_release(&r);
        if (rc == 0 && !last && x->commit_rows > 0 && x->stats->written - committed >= x->commit_rows &&
            b->nkids > 0) {
            rc = commit_and_go_on(x, &r, b->strings + b->kids[b->nkids - 1].id, &digests, &dg_step);
            committed = x->stats->written;
        }
    }
    while (rc == 0 && dg_step == SQLITE_ROW) {
        rc = add_orphan(&orphans, (const char *)sqlite3_column_text(digests, 0));
        dg_step = cc__store_step(digests);
    }
    if (rc == 0 && dg_step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(digests);
    digests = NULL;
    for (size_t i = 0; rc == 0 && i < orphans.n; i++)
        rc = cc__eval_forget(x, orphans.ids[i]);
out:
    sqlite3_finalize(digests);
    cc__reader_close(&r);
    cc_store_free_ids(orphans.ids, orphans.n);
    return rc;
}

/* ---- only the children that need it ---- */

/* The children whose stored clocks may not hold today: no digest (never
 * evaluated, or unknown), or a window [valid_from, valid_until) that does
 * not hold today (a status moves, a threshold is reached: the engine's
 * next_change). Children and digests are merged in id order (two ordered
 * reads of their keys, no event read); the digests of children that no
 * longer exist go. Then those children are evaluated, one by one; those
 * whose data changed are in the change queue, which the caller drains. */
static int evaluate_due(cc__eval_t *x)
{
    sqlite3_stmt *kids = NULL, *digests = NULL;
    char **due = NULL;
    size_t ndue = 0, capdue = 0;
    orphans_t orphans = {0};
    int rc = CC_EDB, kid_step, dg_step;
    if ((kids = cc__store_prepare(x->db, "SELECT id FROM children ORDER BY id")) == NULL ||
        digests_start(x->db, NULL, &digests, &dg_step) != 0)
        goto out;
    rc = 0;
    while (rc == 0 && (kid_step = cc__store_step(kids)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(kids, 0);
        cc__stored_t stored = CC__STORED_UNKNOWN;
        if (id == NULL)
            continue;
        rc = digest_of(digests, &dg_step, id, &orphans, &stored);
        if (rc == 0 && !cc__stored_holds(&stored, x->today)) {
            if (cc__grow(&due, &capdue, ndue + 1, sizeof(char *), 64) != 0 || (due[ndue] = strdup(id)) == NULL)
                rc = CC_ENOMEM;
            else
                ndue++;
        }
    }
    if (rc == 0 && kid_step != SQLITE_DONE)
        rc = CC_EDB;
    while (rc == 0 && dg_step == SQLITE_ROW) {
        rc = add_orphan(&orphans, (const char *)sqlite3_column_text(digests, 0));
        dg_step = cc__store_step(digests);
    }
    if (rc == 0 && dg_step != SQLITE_DONE)
        rc = CC_EDB;
    sqlite3_finalize(kids);
    sqlite3_finalize(digests);
    kids = digests = NULL;
    for (size_t i = 0; rc == 0 && i < orphans.n; i++)
        rc = cc__eval_forget(x, orphans.ids[i]);
    if (rc == 0)
        rc = cc__eval_list(x, due, ndue);
out:
    sqlite3_finalize(kids);
    sqlite3_finalize(digests);
    cc_store_free_ids(due, ndue);
    cc_store_free_ids(orphans.ids, orphans.n);
    return rc;
}

/* The meta note of the careclock that last evaluated every child: another
 * (an upgrade, whose engine may count otherwise) evaluates every child
 * once, not only those due. */
#define EVALUATED_BY "evaluated_by"

/* ---- the first computation: an empty clocks table ---- */

/* Filling an empty clocks table: inserting millions of rows into
 * clocks_by_status (ordered by status and due date, so every insert lands
 * somewhere else in it) costs more than the rows themselves, and one
 * transaction of millions of rows costs more per row than several smaller
 * ones (a WAL of gigabytes, never reused; bench/RESULTS.md, "Scale"). So
 * when the table is empty, its secondary indexes are dropped, the rows
 * inserted in key order over several transactions, and the indexes created
 * again from their own schema text (a sort) in the last one. Each index
 * dropped is owed: a meta row OWED_INDEX + its name holds its CREATE text,
 * written in the transaction that drops it and deleted in the one that
 * makes it again, so an evaluation cut short (a crash, a full disk) leaves
 * a note that the next full recompute honours (indexes_repair), and
 * cc_evaluate_refresh() sees it as a reason for one. Until then queries
 * on clocks are right, only slower. */
#define OWED_INDEX "owed_index:"

/* *bulk is 1 when the table was empty and its indexes are now owed. */
static int bulk_begin(sqlite3 *db, int *bulk)
{
    sqlite3_stmt *st = NULL;
    int rc = CC_EDB, step;
    *bulk = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM clock_rows LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return CC_EDB;
    step = cc__store_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (step == SQLITE_ROW)
        return 0;
    if (step != SQLITE_DONE)
        return CC_EDB;
    /* No rows, so no digest of them can stand (the rows were deleted by
     * hand, say): every child is written. */
    if (cc__store_exec_db(db, "DELETE FROM clock_digests") != SQLITE_OK)
        return CC_EDB;
    if (sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'clock_rows' "
                               "AND sql IS NOT NULL ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return CC_EDB;
    char **names = NULL;
    size_t nnames = 0, capnames = 0;
    while ((step = cc__store_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0), *sql = (const char *)sqlite3_column_text(st, 1);
        if (name == NULL || sql == NULL)
            continue;
        char key[256];
        if (snprintf(key, sizeof(key), "%s%s", OWED_INDEX, name) >= (int)sizeof(key))
            continue; /* a name this long is kept, not dropped */
        if (cc__meta_set(db, key, sql) != 0)
            goto out;
        if (cc__grow(&names, &capnames, nnames + 1, sizeof(char *), 4) != 0 ||
            (names[nnames] = strdup(name)) == NULL) {
            rc = CC_ENOMEM;
            goto out;
        }
        nnames++;
    }
    if (step != SQLITE_DONE)
        goto out;
    sqlite3_finalize(st);
    st = NULL;
    for (size_t i = 0; i < nnames; i++) {
        /* The name came from the schema; quote it as an identifier. */
        char *drop = sqlite3_mprintf("DROP INDEX \"%w\"", names[i]);
        int ok = drop != NULL && cc__store_exec_db(db, drop) == SQLITE_OK;
        sqlite3_free(drop);
        if (!ok)
            goto out;
    }
    *bulk = 1;
    rc = 0;
out:
    sqlite3_finalize(st);
    cc_store_free_ids(names, nnames);
    return rc;
}

int cc__eval_indexes_owed(sqlite3 *db)
{
    return cc__meta_any(db, OWED_INDEX);
}

/* 1 when sql is one CREATE INDEX statement as SQLite stores it in
 * sqlite_schema ("CREATE INDEX" or "CREATE UNIQUE INDEX", nothing after
 * the statement) and st holds it, prepared. */
static int prepare_create_index(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    const char *tail = NULL;
    *st = NULL;
    if (sql == NULL ||
        (strncmp(sql, "CREATE INDEX ", 13) != 0 && strncmp(sql, "CREATE UNIQUE INDEX ", 20) != 0) ||
        sqlite3_prepare_v2(db, sql, -1, st, &tail) != SQLITE_OK || *st == NULL)
        return 0;
    return tail == NULL || tail[strspn(tail, " \t\r\n;")] == '\0';
}

static int repair_one(void *arg, const char *name, const char *sql)
{
    sqlite3_stmt *exists = arg;
    sqlite3_reset(exists);
    sqlite3_bind_text(exists, 1, name, -1, SQLITE_TRANSIENT);
    int found = cc__store_step(exists);
    sqlite3_reset(exists);
    if (found == SQLITE_ROW)
        return 0;
    if (found != SQLITE_DONE)
        return CC_EDB;
    sqlite3_stmt *st = NULL;
    int ok = !prepare_create_index(sqlite3_db_handle(exists), sql, &st) || cc__store_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok ? 0 : CC_EDB;
}

/* Create every owed index that does not exist (another full recompute may
 * have made it already) and settle the notes. Each text is the CREATE
 * INDEX statement SQLite stored for it, copied by bulk_begin; meta is
 * writable by others, so it is run only if it is one statement and a
 * CREATE INDEX (prepare_create_index): anything else is never run, and its
 * note is deleted with the others (a stray note must not stop every
 * recompute). */
static int indexes_repair(sqlite3 *db)
{
    sqlite3_stmt *exists = cc__store_prepare(db, "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1");
    if (exists == NULL)
        return CC_EDB;
    int rc = cc__meta_each(db, OWED_INDEX, repair_one, exists);
    sqlite3_finalize(exists);
    if (rc == 0)
        rc = cc__meta_delete(db, OWED_INDEX);
    return rc;
}

/* Rows the first computation writes per transaction (commit_and_go_on):
 * about 50 MB of WAL, under the 64 MiB it is cut back to. */
#define DEFAULT_COMMIT_ROWS 250000
static size_t g_commit_rows = DEFAULT_COMMIT_ROWS;

void cc_evaluate_set_commit_rows(size_t rows)
{
    g_commit_rows = rows > 0 ? rows : DEFAULT_COMMIT_ROWS;
}

/* The page cache for a full recompute, in KiB: enough for the leaf pages
 * that the clocks_by_status index is written at (one per status and due
 * date) to stay in memory instead of being written out and read back
 * mid-transaction. Restored to the connection's own setting afterwards. */
#define FULL_CACHE_KIB 65536

static void set_cache_size(sqlite3 *db, int64_t value)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = %lld", (long long)value);
    cc__store_exec_db(db, sql);
}

int cc_evaluate_all(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                    const char *fingerprint, const char *now_utc, cc_eval_stats_t *stats)
{
    cc__eval_t x;
    char day[CC_DATE_STRLEN];
    int64_t cache = 0;
    int own, rc = cc__eval_init(&x, store, rs, cal, today, now_utc, stats);
    if (rc != 0)
        return rc;
    int restore_cache = cc__store_pragma_int(x.db, "PRAGMA cache_size", &cache) == 0 &&
                        (cache < 0 ? -cache : cache * 4) < FULL_CACHE_KIB;
    if (restore_cache)
        set_cache_size(x.db, -FULL_CACHE_KIB);
    rc = cc__eval_begin(store, &own);
    if (rc != 0)
        goto out;
    rc = bulk_begin(x.db, &x.bulk);
    if (rc == 0)
        rc = cc__eval_rules_sync(&x);
    /* In its own transactions, a first computation (or the rest of one cut
     * short, its indexes still owed), and the first after migration 8 (which
     * rewrites every row, each child's with its deliveries re-keyed in the
     * same transaction: consistent at every commit), commit as they go. */
    int owed = rc == 0 ? cc__eval_indexes_owed(x.db) : 0;
    int upgrade = rc == 0 && owed >= 0 ? cc__meta_any(x.db, CC__INSTANCES_OWED) : 0;
    if (owed < 0 || upgrade < 0)
        rc = owed < 0 ? owed : upgrade;
    else if (own && (x.bulk || owed || upgrade))
        x.commit_rows = g_commit_rows;
    /* Every child is evaluated when the rules, the engine or the table are
     * new (or a first computation or migration 8 left work owed); else only
     * the children whose clocks may have moved (evaluate_due), which is all
     * a new day or a restart needs: the rest hold (docs/schema.md, "The
     * full recompute"). */
    char fp[32], by[64];
    int have_fp = rc == 0 ? cc__meta_get(x.db, "rules_fingerprint", fp, sizeof(fp)) : 0;
    int have_by = rc == 0 && have_fp >= 0 ? cc__meta_get(x.db, EVALUATED_BY, by, sizeof(by)) : 0;
    if (have_fp < 0 || have_by < 0)
        rc = CC_EDB;
    int every = x.bulk || owed || upgrade || fingerprint == NULL || have_fp != 1 || strcmp(fp, fingerprint) != 0 ||
                have_by != 1 || strcmp(by, cc_version()) != 0;
    x.stats->every = every;
    /* Every child is evaluated, so the whole queue is consumed. Inside our
     * transaction nobody else can add to it, so this is "up to its highest
     * id" (a truncation: a bulk load may have queued millions). */
    if (rc == 0 && every)
        rc = cc__store_changes_clear(store);
    if (rc == 0)
        rc = every ? evaluate_stream(&x, own) : evaluate_due(&x);
    /* What others queued between our transactions (none when there was
     * only one), then the indexes the first computation owes. */
    x.bulk = 0;
    if (rc == 0)
        rc = cc__eval_drain(&x);
    if (rc == 0)
        rc = indexes_repair(x.db);
    if (rc == 0 && upgrade)
        rc = cc__meta_delete(x.db, CC__INSTANCES_OWED); /* every child's rows are the engine's now */
    if (rc == 0)
        rc = cc__meta_set(x.db, "clocks_as_of", cc_date_format(today, day));
    if (rc == 0 && fingerprint != NULL)
        rc = cc__meta_set(x.db, "rules_fingerprint", fingerprint);
    if (rc == 0)
        rc = cc__meta_set(x.db, EVALUATED_BY, cc_version());
    rc = cc__eval_end(store, own, rc);
out:
    if (restore_cache)
        set_cache_size(x.db, cache);
    cc__eval_free(&x);
    return rc;
}

