/* The plan database: SQLite in WAL mode, the contract with the council's
 * other systems. docs/schema.md documents every table, column and trigger.
 *
 * This header is the connection: open, close, transactions, why a
 * statement failed. Each table family has its module and header, the only
 * place its SQL lives: people.h (staff, teams, children), events.h,
 * changes.h (the change queue), clocks.h (every read of the clocks table),
 * evaluate.h (writing the clocks), outbox.h (deliveries, the plan queue,
 * webhook endpoints), feeds.h, import_db.h. The schema and its numbered
 * migrations are daemon/store/schema.c.
 *
 * A store is one connection. Opening applies the numbered migrations
 * (PRAGMA user_version) the file lacks, each in its own transaction, after
 * copying the database beside itself (cc_store_backup_path), and
 * refuses a file whose schema is newer than this build knows. A new file is
 * created with mode 0600; SQLite gives its -wal and -shm files the same mode.
 *
 * Writes: every cc_store_*_add/set/delete function validates its input,
 * then writes, inside one transaction (its own BEGIN IMMEDIATE, or a
 * savepoint when the caller already holds one from cc_store_begin()). On any
 * error nothing is written and err holds a message naming the field and the
 * value ("team \"T9\" does not exist"). Return values: 0, or CC_EINVAL (a
 * malformed field), CC_ENOTFOUND (a reference to something that does not
 * exist), CC_EEXIST (a duplicate id), CC_ESTATE (the write contradicts the
 * data, such as an end of care before its start), CC_ENOMEM, CC_EDB.
 *
 * No SQL is ever built from caller text: every statement is a prepared
 * statement with bound parameters, cached in the store.
 */
#ifndef CARECLOCK_STORE_H
#define CARECLOCK_STORE_H

#include "careclock/engine.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this build writes and understands. */
#define CC_STORE_SCHEMA_VERSION 10

/* PRAGMA application_id of a careclock database ("CCLK"). */
#define CC_STORE_APPLICATION_ID 0x43434c4b

/* Longest id (staff, team, child) accepted, in bytes. */
#define CC_STORE_ID_MAX CC_ID_MAX

typedef struct cc_store cc_store_t;

/* Open path, creating it (mode 0600) when it does not exist, and migrate
 * it to CC_STORE_SCHEMA_VERSION. On error returns CC_EDB (SQLite failed, or
 * the file is not a careclock database), CC_EIO (the file could not be
 * created), CC_ESTATE (its schema is newer than this build) or CC_ENOMEM,
 * with the reason in err; *out is then NULL. */
int cc_store_open(const char *path, cc_store_t **out, char *err, size_t errlen);

/* As cc_store_open(), but never creates the file: CC_ENOTFOUND when path
 * does not exist. For commands that must not conjure an empty database. */
int cc_store_open_existing(const char *path, cc_store_t **out, char *err, size_t errlen);

/* What opening did: *created 1 if the file was new; the schema version
 * found and the version now. Any pointer may be NULL. */
void cc_store_open_info(const cc_store_t *s, int *created, int *from_version, int *to_version);

/* How many copies taken before a migration are kept beside the database. */
#define CC_STORE_MIGRATION_BACKUPS 3

/* The copy opening took before migrating the schema (PATH.pre-migration-
 * YYYYMMDDTHHMMSSZ-vN beside the database, the newest
 * CC_STORE_MIGRATION_BACKUPS kept; opening refuses to migrate when it
 * cannot make one), or NULL when nothing was migrated. */
const char *cc_store_backup_path(const cc_store_t *s);

/* Close the connection and finalize cached statements; NULL is fine. */
void cc_store_close(cc_store_t *s);

/* The underlying connection, for the store layer's own modules
 * (daemon/store/) and white-box tests. The programs (cli/, daemon/) never
 * call it: they go through the store's functions. The store keeps
 * ownership; do not close it. */
sqlite3 *cc_store_db(cc_store_t *s);

/* How long (ms) this connection waits for another connection's write lock
 * before a statement fails with SQLITE_BUSY (5000 after opening). 0 or
 * CC_EDB. */
int cc_store_set_busy_timeout(cc_store_t *s, int ms);

/* PRAGMA data_version into *version: a number that changes when another
 * connection commits to the file (not when this one does). A cheap poll,
 * through a cached statement. 0 or CC_EDB. */
int cc_store_data_version(cc_store_t *s, int64_t *version);

/* A row of counts (the metrics): key and subkey (NULL when the count has
 * one key) and the count. A nonzero return stops the rows and is returned
 * by the function that called it. */
typedef int (*cc_store_count_fn)(void *arg, const char *key, const char *subkey, int64_t n);

/* Explicit transactions spanning several calls: BEGIN IMMEDIATE / COMMIT /
 * ROLLBACK. Writes made through the store functions inside one become
 * savepoints of it. Return 0 or CC_EDB. */
int cc_store_begin(cc_store_t *s);
int cc_store_commit(cc_store_t *s);
int cc_store_rollback(cc_store_t *s);

/* A read transaction (BEGIN DEFERRED, its snapshot taken at once): the
 * reads that follow see the database as it was then, whatever others
 * commit meanwhile; writers are not held up (WAL). End it with
 * cc_store_end_read. 0 or CC_EDB. */
int cc_store_begin_read(cc_store_t *s);
int cc_store_end_read(cc_store_t *s);

/* Why the last failed statement failed, for messages and logs:
 * sqlite3_errmsg(), unless the failed transaction has since been rolled back
 * and its statements reset, when SQLite's own message reads "not an error":
 * then the last error SQLite reported on this thread since the last
 * cc_store_begin() ("database or disk is full"). *code (may be NULL)
 * receives the matching extended result code (SQLITE_FULL, SQLITE_BUSY...).
 * The string is valid until the next statement. */
const char *cc_store_errmsg(cc_store_t *s, int *code);

/* The same for a connection the store layer holds directly (a module's own
 * reader connection). Every message about a failed statement goes through
 * one of these two, never sqlite3_errmsg() alone. */
const char *cc_store_db_errmsg(sqlite3 *db, int *code);

/* Record actor (for example "cli:alice") as the author of the audit rows
 * that this connection's writes produce; NULL clears it. The store copies
 * the string. See docs/schema.md, audit_actor. Returns 0 or CC_ENOMEM. */
int cc_store_set_actor(cc_store_t *s, const char *actor);

/* The day this connection's writes take effect from, for the assignment
 * history (audit_actor.since, docs/schema.md "assignments"): a child's new
 * team, worker or IRO is recorded as held from this day. CC_DATE_NONE (the
 * default): the UTC date when the write happens. */
void cc_store_set_since(cc_store_t *s, cc_date_t day);

/* Every child id, sorted, and the change queue's ids are lists of strings:
 * free each string and the array; NULL is fine. */
void cc_store_free_ids(char **ids, size_t n);

#endif
