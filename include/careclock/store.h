/* The plan database: SQLite in WAL mode, the contract with the council's
 * other systems. docs/schema.md documents every table, column and trigger.
 *
 * A store is one connection. Opening applies the numbered migrations
 * (PRAGMA user_version) the file lacks, each in its own transaction, and
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

#include "careclock/date.h"
#include "careclock/engine.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this build writes and understands. */
#define CC_STORE_SCHEMA_VERSION 5

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

/* Close the connection and finalize cached statements; NULL is fine. */
void cc_store_close(cc_store_t *s);

/* The underlying connection, for readers (clocks, evaluation). The store
 * keeps ownership; do not close it. */
sqlite3 *cc_store_db(cc_store_t *s);

/* Explicit transactions spanning several calls: BEGIN IMMEDIATE / COMMIT /
 * ROLLBACK. Writes made through the store functions inside one become
 * savepoints of it. Return 0 or CC_EDB. */
int cc_store_begin(cc_store_t *s);
int cc_store_commit(cc_store_t *s);
int cc_store_rollback(cc_store_t *s);

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

/* Existence checks: 1 if present, 0 if not, CC_EDB on failure. */
int cc_store_staff_exists(cc_store_t *s, const char *id);
int cc_store_team_exists(cc_store_t *s, const char *id);
int cc_store_child_exists(cc_store_t *s, const char *id);

/* Staff roles as stored. */
#define CC_STORE_ROLES "worker, team_manager, service_manager, iro"

/* 1 if role is one of CC_STORE_ROLES. */
int cc_store_role_valid(const char *role);

typedef struct {
    const char *id;         /* required */
    const char *name;       /* required, non-empty */
    const char *email;      /* NULL for none */
    const char *role;       /* worker | team_manager | service_manager | iro */
    const char *manager_id; /* NULL for none; must exist */
} cc_store_staff_t;

int cc_store_staff_add(cc_store_t *s, const cc_store_staff_t *staff, char *err, size_t errlen);

typedef struct {
    const char *id;                 /* required */
    const char *name;               /* required, non-empty */
    const char *manager_id;         /* NULL for none; must exist */
    const char *service_manager_id; /* NULL for none; must exist */
    const char *webhook;            /* NULL for none: a webhook name from the configuration */
} cc_store_team_t;

int cc_store_team_add(cc_store_t *s, const cc_store_team_t *team, char *err, size_t errlen);

/* Change a team. Fields left NULL (other than id) are unchanged; name must
 * not be empty; an empty webhook, manager_id or service_manager_id clears
 * it. CC_ENOTFOUND if the team does not exist. */
int cc_store_team_set(cc_store_t *s, const cc_store_team_t *team, char *err, size_t errlen);

typedef struct {
    const char *id;        /* required: the council's reference */
    const char *initials;  /* NULL for none */
    const char *full_name; /* NULL for none */
    cc_date_t dob;         /* required */
    const char *team_id;   /* NULL for none; must exist */
    const char *worker_id; /* NULL for none; must exist */
    const char *iro_id;    /* NULL for none; must exist */
} cc_store_child_t;

/* Add a child. The caller has checked dob against today. */
int cc_store_child_add(cc_store_t *s, const cc_store_child_t *child, char *err, size_t errlen);

/* Change a child's team, worker or IRO. NULL leaves a field unchanged; an
 * empty iro_id clears the IRO (team and worker cannot be cleared).
 * CC_EINVAL if nothing would change; CC_ENOTFOUND for an unknown child or
 * reference. */
int cc_store_child_set(cc_store_t *s, const char *id, const char *team_id, const char *worker_id,
                       const char *iro_id, char *err, size_t errlen);

typedef struct {
    const char *child_id;   /* must exist */
    const char *type;       /* the caller has checked it against the rules */
    cc_date_t date;         /* stored as YYYY-MM-DD */
    const char *attributes; /* a JSON object's text; NULL for {} */
    const char *source;     /* NULL for "cli" */
    const char *source_key; /* NULL for none; unique when given */
    const char *note;       /* NULL for none */
} cc_store_event_in_t;

/* Add an event and set *id (may be NULL) to its id. A looked_after_end is
 * refused (CC_ESTATE) when no looked_after_start of that child is on or
 * before its date, when it is dated before the start of the episode it
 * would close, or when that episode has already ended. */
int cc_store_event_add(cc_store_t *s, const cc_store_event_in_t *ev, int64_t *id, char *err, size_t errlen);

/* One stored event, every field as the database holds it (text that
 * another system wrote is not validated). NULL columns are NULL. */
typedef struct {
    int64_t id;
    char *child_id, *type, *date, *attributes, *recorded_at, *source, *source_key, *note;
} cc_store_event_t;

typedef struct {
    cc_store_event_t *items;
    size_t len;
} cc_store_events_t;

/* A child's events ordered by date, then id, into *out (which the caller
 * frees with cc_store_events_free). CC_ENOTFOUND if the child does not
 * exist. */
int cc_store_event_list(cc_store_t *s, const char *child_id, cc_store_events_t *out, char *err, size_t errlen);
void cc_store_events_free(cc_store_events_t *events);

/* Delete an event; the audit table keeps the row as JSON. If deleted is
 * not NULL it receives a copy of the row (free its strings with
 * cc_store_event_clear). CC_ENOTFOUND if there is no such event. */
int cc_store_event_delete(cc_store_t *s, int64_t id, cc_store_event_t *deleted, char *err, size_t errlen);
void cc_store_event_clear(cc_store_event_t *ev);

/* The change queue. take: the distinct child ids (sorted) in `changes` up
 * to its highest id, which is written to *upto (0 when the queue is empty).
 * The caller frees the list with cc_store_free_ids, recomputes those
 * children, then calls ack(upto), which deletes the rows with id <= upto.
 * Rows added after take have higher ids and survive the ack. */
int cc_store_changes_take(cc_store_t *s, int64_t *upto, char ***child_ids, size_t *n);
int cc_store_changes_ack(cc_store_t *s, int64_t upto);

/* Every child id, sorted. Free with cc_store_free_ids. */
int cc_store_child_ids(cc_store_t *s, char ***ids, size_t *n);

/* Free each string and the array; NULL is fine. */
void cc_store_free_ids(char **ids, size_t n);

#endif
