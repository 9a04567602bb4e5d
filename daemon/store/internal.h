/* The store layer's shared internals: the statement cache, the write
 * transaction every cc_store_*_add/set/delete runs in, the checks of ids
 * and text, the quoting of values in messages, the meta table. Internal:
 * included only by the .c files of daemon/store/ (see store.c).
 *
 * The store's assertions stay in every build: NDEBUG is undefined here,
 * before <assert.h>, so a release build that defines it still checks the
 * preconditions the store's contracts state.
 */
#ifndef CARECLOCK_STORE_INTERNAL_H
#define CARECLOCK_STORE_INTERNAL_H

#include "careclock/engine.h"
#include "careclock/store.h"

#undef NDEBUG
#include <assert.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* ---- statements (store.c) ---- */

/* The store's cached statement for sql, reset and with its bindings
 * cleared; NULL when it does not prepare. The cache is keyed by the
 * address of sql, so sql is a string with static storage (an element of a
 * module's SQL[] table or a static array). Reset it after use (cc__store_run
 * and cc__store_exists do), so that no statement keeps a read transaction
 * open between calls. */
sqlite3_stmt *cc__store_stmt(cc_store_t *s, const char *sql);

/* Bind text, or NULL when text is NULL. SQLite's result code. */
int cc__store_bind_text(sqlite3_stmt *st, int i, const char *text);

/* Run a statement that returns no rows (or ignore them), then reset it.
 * 0 or CC_EDB. */
int cc__store_run(sqlite3_stmt *st);

/* 1 if the cached statement sql, bound to key as ?1, returns a row; 0;
 * CC_EDB. */
int cc__store_exists(cc_store_t *s, const char *sql, const char *key);

/* Run sql (no parameters, no rows) on the store's connection: 0 or CC_EDB. */
int cc__store_exec(cc_store_t *s, const char *sql);

/* ---- why it failed (store.c): every step, prepare and exec of the store
 * goes through these, so that cc_store_errmsg() can say what happened even
 * after a ROLLBACK or a reset has cleared the connection's message. ---- */

/* sqlite3_step(), keeping the connection's error when it fails. */
int cc__store_step(sqlite3_stmt *st);

/* sqlite3_exec(db, sql) without callback, keeping the error: SQLite's code. */
int cc__store_exec_db(sqlite3 *db, const char *sql);

/* Keep db's current error (if it has one) for this thread. */
void cc__store_keep_error(sqlite3 *db);

/* Keep (code, why) as this thread's last error: for an error raised on
 * another thread's connection (the reader of a full recompute), noted by
 * the thread that reports it. */
void cc__store_note_error(int code, const char *why);

/* Keep fd open until the store closes (then close it; an earlier one is
 * closed now). */
void cc__store_hold_fd(cc_store_t *s, int fd);

/* The connection's busy timeout (ms): a second connection of the same work
 * (the reader thread) waits no longer than the store's own. */
int cc__store_busy_ms(const cc_store_t *s);

/* The integer a PRAGMA (or any one-row query without parameters) returns,
 * on the connection db. 0 or CC_EDB. */
int cc__store_pragma_int(sqlite3 *db, const char *sql, int64_t *value);

/* "database: <why>" into err; returns CC_EDB. */
int cc__store_db_fail(cc_store_t *s, char *err, size_t errlen);

/* The same for a connection: "database: <why>" into err; CC_EDB. */
int cc__store_db_err(sqlite3 *db, char *err, size_t errlen);

/* A statement of the caller's (not cached): prepared on db, NULL when it
 * does not prepare. The caller finalizes it. */
sqlite3_stmt *cc__store_prepare(sqlite3 *db, const char *sql);

/* Column i of the current row as text; NULL for NULL. */
const char *cc__store_col(sqlite3_stmt *st, int i);

/* Step a statement that returns no rows once, then reset it: 0 when it
 * is done, else CC_EDB. */
int cc__store_step_done(sqlite3_stmt *st);

/* A stored date ("YYYY-MM-DD"), or CC_DATE_NONE when text is NULL or does
 * not parse (another system may have written it). */
cc_date_t cc__store_date(const char *text);

/* 1 when the connection is inside a transaction. */
int cc__store_in_transaction(cc_store_t *s);

/* Collect column 0 of every row of st (already bound) as strings into a
 * new array (free with cc_store_free_ids); NULL values are skipped. st is
 * reset. 0, CC_EDB or CC_ENOMEM. */
int cc__store_collect_ids(sqlite3_stmt *st, char ***ids, size_t *n);

/* ---- writes (store.c) ---- */

/* Start a write: a BEGIN IMMEDIATE transaction of its own when none is
 * open (*own = 1; the audit actor is written in it), else a savepoint
 * inside the caller's. 0 or CC_EDB with err. */
int cc__store_write_begin(cc_store_t *s, int *own, char *err, size_t errlen);

/* Finish a write begun by cc__store_write_begin: keep it when rc is 0,
 * else undo it. Returns rc, or CC_EDB when keeping it failed. */
int cc__store_write_end(cc_store_t *s, int own, int rc, char *err, size_t errlen);

/* ---- checks and messages (store.c) ---- */

/* Quote a value for a message: "text", control characters escaped, long
 * values shortened. Returns buf (len >= 8). */
const char *cc__store_quote(const char *value, char *buf, size_t len);

/* A quoted value in a temporary buffer that lives until the end of the
 * enclosing full expression (a cc_set_err call). */
#define CC__Q(v) cc__store_quote((v), (char[160]){0}, 160)

/* An id: non-empty, at most CC_STORE_ID_MAX bytes, no control characters,
 * no surrounding spaces. 0 or CC_EINVAL with err naming field. */
int cc__store_check_id(const char *field, const char *id, char *err, size_t errlen);

/* Free text (names, initials, notes): no control characters; required
 * text must not be empty. 0 or CC_EINVAL with err naming field. */
int cc__store_check_text(const char *field, const char *text, int required, char *err, size_t errlen);

/* An existence check of one table: 1, 0 or CC_EDB (cc_store_child_exists
 * and its kind). */
typedef int (*cc__store_exists_fn)(cc_store_t *s, const char *id);

/* A reference that must name an existing row: its shape, then that it
 * exists. "what" names the field in messages ("manager", "team"). 0,
 * CC_EINVAL, CC_ENOTFOUND or CC_EDB, with err. */
int cc__store_check_ref(cc_store_t *s, cc__store_exists_fn exists, const char *what, const char *id, char *err,
                        size_t errlen);

/* A new row's id: well formed and not taken. 0, CC_EINVAL, CC_EEXIST or
 * CC_EDB, with err. */
int cc__store_check_new_id(cc_store_t *s, cc__store_exists_fn exists, const char *what, const char *id, char *err,
                           size_t errlen);

/* ---- the clocks table's statements for the outbox (clocks.c) ---- */

/* The statements that read the clocks table for the outbox, which
 * prepares and steps them itself (inside its own transactions). clocks.c
 * states each one's parameters and columns. */
typedef enum {
    CC__CLOCKS_PLAN_OPEN,       /* open clocks of a range of children, with their people */
    CC__CLOCKS_PLAN_CLOSED,     /* sent escalations of closed clocks, "now met" not planned */
    CC__CLOCKS_PLAN_CANCEL_ANY, /* is there a pending row of a closed clock? */
    CC__CLOCKS_PLAN_CANCEL,     /* cancel those rows */
    CC__CLOCKS_CLAIM_ITEM,      /* one claimed delivery with its clock, child and people */
    CC__CLOCKS_PRUNE,           /* delete the records of closed clocks, all final and old */
    CC__CLOCKS_NSQL
} cc__clocks_sql_t;

const char *cc__clocks_sql(cc__clocks_sql_t which);

/* ---- the outbox (outbox.c) ---- */

/* 1 if webhook endpoint name is disabled (since receives "since <time>:
 * <reason>" when not NULL), 0 if not, CC_EDB. */
int cc__outbox_webhook_disabled(sqlite3 *db, const char *name, char *since, size_t len);

/* The statement that hands a clock instance's deliveries to another
 * instance: ?1 child, ?2 rule, ?3 the old instance, ?4 the new one. The
 * evaluation prepares and steps it in its write-back, in the same
 * transaction as the clock rows (the carry-over of migration 8's
 * provisional instances, evaluate.c). */
const char *cc__outbox_rekey_sql(void);

/* Hold (until a date) or let go (until CC_DATE_NONE) the notices of one
 * clock instance waiting for recipient (pending or retrying): held, their
 * next attempt is the start of the day after until (local time); let go,
 * now. An acknowledgement (decisions.c), in the caller's transaction. 0
 * or CC_EDB with err. */
int cc__outbox_hold(cc_store_t *s, const char *child_id, const char *rule_id, const char *instance,
                    const char *recipient, cc_date_t until, char *err, size_t errlen);

/* ---- the change queue (changes.c) ---- */

/* Delete the whole change queue, in the caller's transaction: for a full
 * recompute, which evaluates every child. 0 or CC_EDB. */
int cc__store_changes_clear(cc_store_t *s);

/* ---- schema (schema.c) ---- */

/* Check that the open connection db (path, for messages) holds a careclock
 * database (or an empty file) of a schema version this build knows;
 * *version receives its PRAGMA user_version. 0, CC_EDB (not a careclock
 * database, or SQLite failed) or CC_ESTATE (a newer schema), with err. */
int cc__schema_check(cc_store_t *s, const char *path, int *version, char *err, size_t errlen);

/* Apply the numbered migrations after from_version, each in its own
 * transaction; *to_version receives the version now. 0 or CC_EDB with
 * err. */
int cc__schema_migrate(cc_store_t *s, const char *path, int from_version, int *to_version, char *err,
                       size_t errlen);

/* Before migrating the database at path from from_version: a copy beside
 * it, PATH.pre-migration-YYYYMMDDTHHMMSSZ-vN, through the online backup
 * API (backup.h: mode 0600, one file), keeping the newest
 * CC_STORE_MIGRATION_BACKUPS such copies. *backup_path receives the copy's
 * name (the caller frees it). 0; or the backup's error (CC_EIO, CC_EDB,
 * CC_EBUSY, CC_EEXIST when something not a copy takes its name, CC_ENOMEM)
 * with err saying that nothing was migrated: no copy, no migration. */
int cc__schema_backup(cc_store_t *s, const char *path, int from_version, char **backup_path, char *err,
                      size_t errlen);

/* ---- the meta table (meta.c) ----
 * Keys: clocks_as_of and rules_fingerprint (the evaluation), owed_index:*
 * (the first computation, first.c), outbox_instance (migration 3, the
 * outbox's message ids). Each function takes the connection it runs on:
 * the evaluation writes through the store's, inside its transaction. */

/* The value of key into out (len bytes; "" when absent): 1 when found, 0
 * when not, CC_EDB. */
int cc__meta_get(sqlite3 *db, const char *key, char *out, size_t len);

/* Set key to value (insert or replace). 0 or CC_EDB. */
int cc__meta_set(sqlite3 *db, const char *key, const char *value);

/* 1 when a key begins with prefix, 0 when none does, CC_EDB. */
int cc__meta_any(sqlite3 *db, const char *prefix);

/* Call fn(arg, key without the prefix, value) for every key that begins
 * with prefix, in key order, until fn returns nonzero (returned). 0,
 * CC_EDB or fn's value. */
int cc__meta_each(sqlite3 *db, const char *prefix, int (*fn)(void *arg, const char *name, const char *value),
                  void *arg);

/* Delete every key that begins with prefix. 0 or CC_EDB. */
int cc__meta_delete(sqlite3 *db, const char *prefix);


/* ---- the compact clocks (migration 9; docs/schema.md, "clocks") ---- */

/* clock_rows.status: a number per status, in the listing's order of
 * urgency (overdue, data error, at risk, due soon, open, met late, met,
 * cancelled, excepted: 0 to 8), so that clocks_by_status (status, due_day,
 * child_id, rule, seq) is the listing's order.
 * Stored: a code changes meaning only in a migration that rewrites every
 * row (migration 10 made room for at_risk and excepted), and
 * CC__STATUS_NAME_SQL and the clocks view name them. */
int cc__status_code(cc_status_t status);
/* The status a stored code stands for; -1 for a code that is none. */
int cc__status_of_code(int64_t code);

/* SQL naming the status whose code is the expression x (as the clocks
 * view does). */
#define CC__STATUS_NAME_SQL(x)                                                                                    \
    "CASE " x " WHEN 0 THEN 'overdue' WHEN 1 THEN 'data_error' WHEN 2 THEN 'at_risk' WHEN 3 THEN 'due_soon' "      \
    "WHEN 4 THEN 'open' WHEN 5 THEN 'met_late' WHEN 6 THEN 'met' WHEN 7 THEN 'cancelled' WHEN 8 THEN 'excepted' END"
/* SQL for the 'YYYY-MM-DD' of the day number x (NULL for NULL). */
#define CC__DATE_SQL(x) "date(" x " + 2440587.5)"

/* "YYYY-MM-DD" of day (as cc_date_format() writes it, without printf). */
void cc__day_text(cc_date_t day, char out[CC_DATE_STRLEN]);

/* Column col as a day number: CC_DATE_NONE for NULL. */
cc_date_t cc__col_day(sqlite3_stmt *st, int col);

/* Bind day to parameter i: NULL for CC_DATE_NONE. */
void cc__bind_day(sqlite3_stmt *st, int i, cc_date_t day);

#endif
