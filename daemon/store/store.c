/* The plan database (SQLite). docs/schema.md is the reference for the
 * schema; this file holds the migrations that build it and the few writes
 * the CLI makes.
 *
 * Design notes:
 *  - Prepared statements are cached per store (an enum indexes SQL[]) and
 *    reset after every use, so that no statement keeps a read transaction
 *    open between calls.
 *  - A write runs in its own BEGIN IMMEDIATE transaction (taking the write
 *    lock before reading, so the checks it makes still hold when it writes),
 *    or in a savepoint of the caller's transaction. Checks run before the
 *    first write; any failure rolls back to where the call started.
 *  - The audit author travels in the one-row table audit_actor, written at
 *    the start of a write transaction and deleted before its commit: other
 *    connections never see it, and the audit triggers read it.
 *  - A new file is created with open(O_EXCL, 0600) before SQLite sees it;
 *    SQLite creates the -wal and -shm files with the database file's mode,
 *    so no process-wide umask change is needed.
 */
#include "careclock/store.h"
#include "careclock/email.h"
#include "careclock/error.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- schema ------------------------------------------------------------ */

/* Migration 1: the first schema. Each migration runs in one transaction
 * that also sets user_version; never edit a migration once released: add
 * the next one. */
static const char MIGRATION_1[] =
    "PRAGMA application_id = 1128483915;\n" /* CC_STORE_APPLICATION_ID */
    "CREATE TABLE staff (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  email TEXT,\n"
    "  role TEXT NOT NULL CHECK (role IN ('worker','team_manager','service_manager','iro')),\n"
    "  manager_id TEXT REFERENCES staff(id)\n"
    ");\n"
    "CREATE TABLE teams (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  manager_id TEXT REFERENCES staff(id),\n"
    "  service_manager_id TEXT REFERENCES staff(id),\n"
    "  webhook TEXT\n"
    ");\n"
    "CREATE TABLE children (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  initials TEXT,\n"
    "  full_name TEXT,\n"
    "  dob TEXT NOT NULL,\n"
    "  team_id TEXT REFERENCES teams(id),\n"
    "  worker_id TEXT REFERENCES staff(id),\n"
    "  iro_id TEXT REFERENCES staff(id)\n"
    ");\n"
    "CREATE INDEX children_by_team ON children(team_id);\n"
    "CREATE INDEX children_by_worker ON children(worker_id);\n"
    "CREATE TABLE events (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  child_id TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,\n"
    "  type TEXT NOT NULL,\n"
    "  date TEXT NOT NULL,\n"
    "  attributes TEXT NOT NULL DEFAULT '{}',\n"
    "  recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),\n"
    "  source TEXT NOT NULL DEFAULT 'cli',\n"
    "  source_key TEXT UNIQUE,\n"
    "  note TEXT\n"
    ");\n"
    "CREATE INDEX events_by_child ON events(child_id, date);\n"
    "CREATE TABLE clocks (\n"
    "  child_id TEXT NOT NULL,\n"
    "  rule_id TEXT NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  title TEXT NOT NULL,\n"
    "  start_date TEXT,\n"
    "  due_date TEXT,\n"
    "  status TEXT NOT NULL,\n"
    "  met_on TEXT,\n"
    "  start_event_id INTEGER,\n"
    "  met_event_id INTEGER,\n"
    "  reason TEXT,\n"
    "  flags INTEGER NOT NULL DEFAULT 0,\n"
    "  source TEXT,\n"
    "  updated_at TEXT NOT NULL,\n"
    "  PRIMARY KEY (child_id, rule_id, seq)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX clocks_by_status ON clocks(status, due_date);\n"
    "CREATE TABLE audit (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),\n"
    "  actor TEXT,\n"
    "  action TEXT NOT NULL,\n"
    "  table_name TEXT NOT NULL,\n"
    "  row_id TEXT NOT NULL,\n"
    "  old_value TEXT,\n"
    "  new_value TEXT\n"
    ");\n"
    "CREATE INDEX audit_by_row ON audit(table_name, row_id);\n"
    "CREATE TABLE changes (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  child_id TEXT NOT NULL,\n"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))\n"
    ");\n"
    "CREATE TABLE meta (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  value TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE audit_actor (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  actor TEXT\n"
    ");\n"
    /* The change queue: every write to events or children, whoever makes it. */
    "CREATE TRIGGER events_queue_insert AFTER INSERT ON events BEGIN\n"
    "  INSERT INTO changes(child_id) VALUES (NEW.child_id);\n"
    "END;\n"
    "CREATE TRIGGER events_queue_update AFTER UPDATE ON events BEGIN\n"
    "  INSERT INTO changes(child_id) VALUES (NEW.child_id);\n"
    "  INSERT INTO changes(child_id) SELECT OLD.child_id WHERE OLD.child_id IS NOT NEW.child_id;\n"
    "END;\n"
    "CREATE TRIGGER events_queue_delete AFTER DELETE ON events BEGIN\n"
    "  INSERT INTO changes(child_id) VALUES (OLD.child_id);\n"
    "END;\n"
    "CREATE TRIGGER children_queue_insert AFTER INSERT ON children BEGIN\n"
    "  INSERT INTO changes(child_id) VALUES (NEW.id);\n"
    "END;\n"
    "CREATE TRIGGER children_queue_update AFTER UPDATE ON children BEGIN\n"
    "  INSERT INTO changes(child_id) VALUES (NEW.id);\n"
    "  INSERT INTO changes(child_id) SELECT OLD.id WHERE OLD.id IS NOT NEW.id;\n"
    "END;\n"
    "CREATE TRIGGER children_queue_delete AFTER DELETE ON children BEGIN\n"
    "  INSERT INTO changes(child_id) VALUES (OLD.id);\n"
    "END;\n"
    /* The audit trail: updates and deletes of the tables people maintain. */
    "CREATE TRIGGER events_audit_update AFTER UPDATE ON events BEGIN\n"
    "  INSERT INTO audit(actor, action, table_name, row_id, old_value, new_value) VALUES (\n"
    "    (SELECT actor FROM audit_actor WHERE id = 1), 'update', 'events', OLD.id,\n"
    "    json_object('id', OLD.id, 'child_id', OLD.child_id, 'type', OLD.type, 'date', OLD.date,\n"
    "      'attributes', OLD.attributes, 'recorded_at', OLD.recorded_at, 'source', OLD.source,\n"
    "      'source_key', OLD.source_key, 'note', OLD.note),\n"
    "    json_object('id', NEW.id, 'child_id', NEW.child_id, 'type', NEW.type, 'date', NEW.date,\n"
    "      'attributes', NEW.attributes, 'recorded_at', NEW.recorded_at, 'source', NEW.source,\n"
    "      'source_key', NEW.source_key, 'note', NEW.note));\n"
    "END;\n"
    "CREATE TRIGGER events_audit_delete AFTER DELETE ON events BEGIN\n"
    "  INSERT INTO audit(actor, action, table_name, row_id, old_value, new_value) VALUES (\n"
    "    (SELECT actor FROM audit_actor WHERE id = 1), 'delete', 'events', OLD.id,\n"
    "    json_object('id', OLD.id, 'child_id', OLD.child_id, 'type', OLD.type, 'date', OLD.date,\n"
    "      'attributes', OLD.attributes, 'recorded_at', OLD.recorded_at, 'source', OLD.source,\n"
    "      'source_key', OLD.source_key, 'note', OLD.note),\n"
    "    NULL);\n"
    "END;\n"
    "CREATE TRIGGER children_audit_update AFTER UPDATE ON children BEGIN\n"
    "  INSERT INTO audit(actor, action, table_name, row_id, old_value, new_value) VALUES (\n"
    "    (SELECT actor FROM audit_actor WHERE id = 1), 'update', 'children', OLD.id,\n"
    "    json_object('id', OLD.id, 'initials', OLD.initials, 'full_name', OLD.full_name, 'dob', OLD.dob,\n"
    "      'team_id', OLD.team_id, 'worker_id', OLD.worker_id, 'iro_id', OLD.iro_id),\n"
    "    json_object('id', NEW.id, 'initials', NEW.initials, 'full_name', NEW.full_name, 'dob', NEW.dob,\n"
    "      'team_id', NEW.team_id, 'worker_id', NEW.worker_id, 'iro_id', NEW.iro_id));\n"
    "END;\n"
    "CREATE TRIGGER children_audit_delete AFTER DELETE ON children BEGIN\n"
    "  INSERT INTO audit(actor, action, table_name, row_id, old_value, new_value) VALUES (\n"
    "    (SELECT actor FROM audit_actor WHERE id = 1), 'delete', 'children', OLD.id,\n"
    "    json_object('id', OLD.id, 'initials', OLD.initials, 'full_name', OLD.full_name, 'dob', OLD.dob,\n"
    "      'team_id', OLD.team_id, 'worker_id', OLD.worker_id, 'iro_id', OLD.iro_id),\n"
    "    NULL);\n"
    "END;\n"
    "CREATE TRIGGER staff_audit_update AFTER UPDATE ON staff BEGIN\n"
    "  INSERT INTO audit(actor, action, table_name, row_id, old_value, new_value) VALUES (\n"
    "    (SELECT actor FROM audit_actor WHERE id = 1), 'update', 'staff', OLD.id,\n"
    "    json_object('id', OLD.id, 'name', OLD.name, 'email', OLD.email, 'role', OLD.role,\n"
    "      'manager_id', OLD.manager_id),\n"
    "    json_object('id', NEW.id, 'name', NEW.name, 'email', NEW.email, 'role', NEW.role,\n"
    "      'manager_id', NEW.manager_id));\n"
    "END;\n"
    "CREATE TRIGGER staff_audit_delete AFTER DELETE ON staff BEGIN\n"
    "  INSERT INTO audit(actor, action, table_name, row_id, old_value, new_value) VALUES (\n"
    "    (SELECT actor FROM audit_actor WHERE id = 1), 'delete', 'staff', OLD.id,\n"
    "    json_object('id', OLD.id, 'name', OLD.name, 'email', OLD.email, 'role', OLD.role,\n"
    "      'manager_id', OLD.manager_id),\n"
    "    NULL);\n"
    "END;\n"
    "CREATE TRIGGER teams_audit_update AFTER UPDATE ON teams BEGIN\n"
    "  INSERT INTO audit(actor, action, table_name, row_id, old_value, new_value) VALUES (\n"
    "    (SELECT actor FROM audit_actor WHERE id = 1), 'update', 'teams', OLD.id,\n"
    "    json_object('id', OLD.id, 'name', OLD.name, 'manager_id', OLD.manager_id,\n"
    "      'service_manager_id', OLD.service_manager_id, 'webhook', OLD.webhook),\n"
    "    json_object('id', NEW.id, 'name', NEW.name, 'manager_id', NEW.manager_id,\n"
    "      'service_manager_id', NEW.service_manager_id, 'webhook', NEW.webhook));\n"
    "END;\n"
    "CREATE TRIGGER teams_audit_delete AFTER DELETE ON teams BEGIN\n"
    "  INSERT INTO audit(actor, action, table_name, row_id, old_value, new_value) VALUES (\n"
    "    (SELECT actor FROM audit_actor WHERE id = 1), 'delete', 'teams', OLD.id,\n"
    "    json_object('id', OLD.id, 'name', OLD.name, 'manager_id', OLD.manager_id,\n"
    "      'service_manager_id', OLD.service_manager_id, 'webhook', OLD.webhook),\n"
    "    NULL);\n"
    "END;\n";

/* Migration 2: calendar feeds. clocks.sequence is the iCalendar SEQUENCE of
 * a clock instance, raised by the evaluator whenever its due date or status
 * changes; feeds hold subscription tokens as SHA-256 hashes only. */
static const char MIGRATION_2[] =
    "ALTER TABLE clocks ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;\n"
    "CREATE TABLE feeds (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('team','staff')),\n"
    "  target_id TEXT NOT NULL,\n"
    "  token_hash TEXT NOT NULL UNIQUE,\n"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),\n"
    "  revoked_at TEXT,\n"
    "  last_access_at TEXT,\n"
    "  access_count INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX feeds_by_target ON feeds(kind, target_id);\n";

/* Migration 3: the outbox of reminders and escalations (docs/delivery.md).
 * One row per (clock instance, stage, recipient, channel), enqueued once by
 * its unique key; next_attempt_at is when the row may next be claimed (its
 * due_at at first, then the retry time), so "what is ready now" is one range
 * scan of the partial index. batch groups the rows sent as one message (a
 * digest): the id of its first row, fixed when first claimed, so a retry
 * resends the same message with the same Message-ID / webhook-id.
 * webhook_endpoints records endpoints disabled by a 410 Gone. The meta row
 * outbox_instance makes message ids unique to this database. */
static const char MIGRATION_3[] =
    "CREATE TABLE deliveries (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  child_id TEXT NOT NULL,\n"
    "  rule_id TEXT NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  stage TEXT NOT NULL,\n"
    "  recipient TEXT NOT NULL,\n"
    "  channel TEXT NOT NULL CHECK (channel IN ('email','webhook')),\n"
    "  role TEXT NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('reminder','escalation','met')),\n"
    "  address TEXT,\n"
    "  due_date TEXT,\n"
    "  stage_date TEXT NOT NULL,\n"
    "  due_at TEXT NOT NULL,\n"
    "  immediate INTEGER NOT NULL DEFAULT 0,\n"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN\n"
    "    ('pending','sending','sent','retrying','failed','undeliverable','cancelled')),\n"
    "  batch INTEGER,\n"
    "  message_id TEXT,\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  next_attempt_at TEXT,\n"
    "  first_attempt_at TEXT,\n"
    "  last_error TEXT,\n"
    "  claimed_by TEXT,\n"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),\n"
    "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),\n"
    "  sent_at TEXT,\n"
    "  UNIQUE (child_id, rule_id, seq, stage, recipient, channel)\n"
    ");\n"
    "CREATE INDEX deliveries_ready ON deliveries(next_attempt_at) WHERE state IN ('pending','retrying');\n"
    "CREATE INDEX deliveries_by_state ON deliveries(state);\n"
    "CREATE INDEX deliveries_by_batch ON deliveries(batch) WHERE batch IS NOT NULL;\n"
    "CREATE TABLE webhook_endpoints (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  disabled_at TEXT,\n"
    "  disabled_reason TEXT\n"
    ");\n"
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('outbox_instance', lower(hex(randomblob(6))));\n";

/* Migration 4: for a full recompute that reads little and writes only what
 * changed (docs/schema.md).
 *  - events_by_child also holds type and attributes, so reading every
 *    child's events is one pass over the index in child order, with no
 *    lookup of each row in the table (whose order is the order events were
 *    recorded in, spread across children). Same name, same leading columns.
 *  - clock_digests: the evaluator's note of what it last wrote for each
 *    child, a 64-bit digest of the child's clock rows. A full recompute
 *    compares the engine's fresh result with it and reads or writes the
 *    child's rows only when they differ. Every child with clocks has a row
 *    (0 = unknown: compare the rows), which also lets a full recompute find
 *    the clocks of deleted children without scanning the clocks table. */
static const char MIGRATION_4[] =
    "DROP INDEX events_by_child;\n"
    "CREATE INDEX events_by_child ON events(child_id, date, type, attributes);\n"
    "CREATE TABLE clock_digests (\n"
    "  child_id TEXT PRIMARY KEY,\n"
    "  digest INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO clock_digests (child_id, digest) SELECT DISTINCT child_id, 0 FROM clocks;\n";

/* Migration 5: the plan queue (docs/delivery.md, "Planning"). The
 * delivery planner plans the whole council at start, on a new day and
 * after a reload; between those it plans only the children queued here,
 * by whichever process made the change: a child whose clock rows were
 * written (its digest row changes with them), a child given another
 * worker, IRO or team, the children of a team whose managers or webhook
 * changed, and those of a member of staff whose email changed. One row per
 * child: a child queued again moves to the end with a new id
 * (AUTOINCREMENT: ids never come back), so a plan that began before the
 * change never deletes it as done. */
#define PLAN_QUEUE_CHILDREN(set)                                                                                      \
    "  DELETE FROM plan_queue WHERE child_id IN (" set ");\n"                                                          \
    "  INSERT INTO plan_queue (child_id) " set ";\n"
static const char MIGRATION_5[] =
    "CREATE TABLE plan_queue (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  child_id TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX plan_queue_by_child ON plan_queue(child_id);\n"
    /* Whose children: a staff feed and staff_plan_update look children up
     * by worker, IRO or team (children_by_worker, children_by_team). */
    "CREATE INDEX children_by_iro ON children(iro_id);\n"
    "CREATE TRIGGER digests_plan_insert AFTER INSERT ON clock_digests BEGIN\n"
    PLAN_QUEUE_CHILDREN("SELECT NEW.child_id")
    "END;\n"
    "CREATE TRIGGER digests_plan_update AFTER UPDATE ON clock_digests BEGIN\n"
    PLAN_QUEUE_CHILDREN("SELECT NEW.child_id")
    "END;\n"
    "CREATE TRIGGER digests_plan_delete AFTER DELETE ON clock_digests BEGIN\n"
    PLAN_QUEUE_CHILDREN("SELECT OLD.child_id")
    "END;\n"
    "CREATE TRIGGER children_plan_update AFTER UPDATE OF team_id, worker_id, iro_id ON children BEGIN\n"
    PLAN_QUEUE_CHILDREN("SELECT NEW.id")
    "END;\n"
    "CREATE TRIGGER teams_plan_update AFTER UPDATE OF manager_id, service_manager_id, webhook ON teams BEGIN\n"
    PLAN_QUEUE_CHILDREN("SELECT id FROM children WHERE team_id = NEW.id")
    "END;\n"
    "CREATE TRIGGER staff_plan_update AFTER UPDATE OF email ON staff BEGIN\n"
    PLAN_QUEUE_CHILDREN("SELECT id FROM children WHERE worker_id = NEW.id OR iro_id = NEW.id OR team_id IN "
                        "(SELECT id FROM teams WHERE manager_id = NEW.id OR service_manager_id = NEW.id)")
    "END;\n";

/* MIGRATIONS[v] takes a database from version v-1 to v. */
static const char *const MIGRATIONS[CC_STORE_SCHEMA_VERSION + 1] = {NULL,        MIGRATION_1, MIGRATION_2,
                                                                     MIGRATION_3, MIGRATION_4, MIGRATION_5};

_Static_assert(CC_STORE_APPLICATION_ID == 1128483915, "MIGRATION_1 spells out CC_STORE_APPLICATION_ID");

/* ---- statements -------------------------------------------------------- */

enum {
    ST_STAFF_EXISTS,
    ST_TEAM_EXISTS,
    ST_CHILD_EXISTS,
    ST_STAFF_INSERT,
    ST_TEAM_INSERT,
    ST_TEAM_UPDATE,
    ST_CHILD_INSERT,
    ST_CHILD_UPDATE,
    ST_SOURCE_KEY_EXISTS,
    ST_EPISODE_EVENTS,
    ST_EVENT_INSERT,
    ST_EVENT_LIST,
    ST_EVENT_GET,
    ST_EVENT_DELETE,
    ST_CHANGES_MAX,
    ST_CHANGES_IDS,
    ST_CHANGES_ACK,
    ST_CHILD_IDS,
    ST_ACTOR_SET,
    ST_ACTOR_CLEAR,
    ST_COUNT
};

#define EVENT_COLUMNS "id, child_id, type, date, attributes, recorded_at, source, source_key, note"

static const char *const SQL[ST_COUNT] = {
    [ST_STAFF_EXISTS] = "SELECT 1 FROM staff WHERE id = ?1",
    [ST_TEAM_EXISTS] = "SELECT 1 FROM teams WHERE id = ?1",
    [ST_CHILD_EXISTS] = "SELECT 1 FROM children WHERE id = ?1",
    [ST_STAFF_INSERT] = "INSERT INTO staff (id, name, email, role, manager_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_TEAM_INSERT] = "INSERT INTO teams (id, name, manager_id, service_manager_id, webhook) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_TEAM_UPDATE] = "UPDATE teams SET name = coalesce(?2, name), "
                       "manager_id = CASE WHEN ?3 IS NULL THEN manager_id ELSE nullif(?3, '') END, "
                       "service_manager_id = CASE WHEN ?4 IS NULL THEN service_manager_id ELSE nullif(?4, '') END, "
                       "webhook = CASE WHEN ?5 IS NULL THEN webhook ELSE nullif(?5, '') END "
                       "WHERE id = ?1",
    [ST_CHILD_INSERT] = "INSERT INTO children (id, initials, full_name, dob, team_id, worker_id, iro_id) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_CHILD_UPDATE] = "UPDATE children SET team_id = coalesce(?2, team_id), worker_id = coalesce(?3, worker_id), "
                        "iro_id = CASE WHEN ?4 IS NULL THEN iro_id ELSE nullif(?4, '') END WHERE id = ?1",
    [ST_SOURCE_KEY_EXISTS] = "SELECT 1 FROM events WHERE source_key = ?1",
    [ST_EPISODE_EVENTS] = "SELECT type, date FROM events WHERE child_id = ?1 "
                          "AND type IN ('looked_after_start', 'looked_after_end')",
    [ST_EVENT_INSERT] = "INSERT INTO events (child_id, type, date, attributes, source, source_key, note) "
                        "VALUES (?1, ?2, ?3, coalesce(?4, '{}'), coalesce(?5, 'cli'), ?6, ?7)",
    [ST_EVENT_LIST] = "SELECT " EVENT_COLUMNS " FROM events WHERE child_id = ?1 ORDER BY date, id",
    [ST_EVENT_GET] = "SELECT " EVENT_COLUMNS " FROM events WHERE id = ?1",
    [ST_EVENT_DELETE] = "DELETE FROM events WHERE id = ?1",
    [ST_CHANGES_MAX] = "SELECT coalesce(max(id), 0) FROM changes",
    [ST_CHANGES_IDS] = "SELECT DISTINCT child_id FROM changes WHERE id <= ?1 ORDER BY child_id",
    [ST_CHANGES_ACK] = "DELETE FROM changes WHERE id <= ?1",
    [ST_CHILD_IDS] = "SELECT id FROM children ORDER BY id",
    [ST_ACTOR_SET] = "INSERT OR REPLACE INTO audit_actor (id, actor) VALUES (1, ?1)",
    [ST_ACTOR_CLEAR] = "DELETE FROM audit_actor",
};

struct cc_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char *actor;
    int created, from_version, to_version;
};

/* ---- why a statement failed --------------------------------------------- */

/* SQLite's error message lives on the connection and is cleared by the next
 * statement, so by the time a failed transaction has been rolled back and
 * its statements reset, sqlite3_errmsg() says "not an error" and a log line
 * could not say the disk was full. SQLite's error log (SQLITE_CONFIG_LOG)
 * reports most errors as they happen (a statement that aborts), and
 * keep_error() the rest before a ROLLBACK clears them (a COMMIT that could
 * not write); the last one is kept per thread for cc_store_errmsg().
 * Diagnostics only: nothing decides on it. */
static _Thread_local struct {
    int code;
    char why[256];
} last_error;

static void error_log(void *arg, int code, const char *message)
{
    (void)arg;
    int primary = code & 0xff;
    /* Notices, warnings and schema reloads are not failures. */
    if (primary == SQLITE_NOTICE || primary == SQLITE_WARNING || primary == SQLITE_SCHEMA || primary == SQLITE_OK)
        return;
    last_error.code = code;
    snprintf(last_error.why, sizeof(last_error.why), "%s", message ? message : sqlite3_errstr(code));
}

/* Keep the connection's current error, if it has one, before a statement
 * (ROLLBACK) clears it. */
static void keep_error(sqlite3 *db)
{
    int code = sqlite3_extended_errcode(db);
    if (code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE)
        error_log(NULL, code, sqlite3_errmsg(db));
}

static pthread_once_t error_log_once = PTHREAD_ONCE_INIT;

static void error_log_install(void)
{
    /* Only possible before SQLite initialises; if something initialised it
     * first, messages simply fall back to sqlite3_errmsg(). */
    sqlite3_config(SQLITE_CONFIG_LOG, error_log, NULL);
}

const char *cc_store_db_errmsg(sqlite3 *db, int *code)
{
    int now = sqlite3_extended_errcode(db);
    if (now == SQLITE_OK && last_error.code != SQLITE_OK) {
        if (code != NULL)
            *code = last_error.code;
        return last_error.why;
    }
    if (code != NULL)
        *code = now;
    return sqlite3_errmsg(db);
}

const char *cc_store_errmsg(cc_store_t *s, int *code)
{
    return cc_store_db_errmsg(s->db, code);
}

/* ---- small helpers ----------------------------------------------------- */

static int db_fail(cc_store_t *s, char *err, size_t errlen)
{
    cc_set_err(err, errlen, "database: %s", cc_store_errmsg(s, NULL));
    return CC_EDB;
}

/* Quote a value for a message: "text", control characters escaped, long
 * values shortened. Returns buf. */
static const char *quote(const char *value, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 8)
        return "";
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)value; p != NULL && *p != '\0'; p++) {
        if (o + 8 >= len) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (*p == '\r') {
            buf[o++] = '\\';
            buf[o++] = 'r';
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p);
        } else if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

#define Q(v) quote((v), (char[160]){0}, 160)

static int has_control(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* An id: non-empty, at most CC_STORE_ID_MAX bytes, no control characters,
 * no surrounding spaces. */
static int check_id(const char *field, const char *id, char *err, size_t errlen)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0) {
        cc_set_err(err, errlen, "%s is empty", field);
        return CC_EINVAL;
    }
    if (n > CC_STORE_ID_MAX || has_control(id) || id[0] == ' ' || id[n - 1] == ' ') {
        cc_set_err(err, errlen,
                "%s %s is not a valid id (at most %d characters, no control characters or surrounding spaces)",
                field, Q(id), CC_STORE_ID_MAX);
        return CC_EINVAL;
    }
    return 0;
}

/* Free text (names, initials, notes): no control characters; required
 * text must not be empty. */
static int check_text(const char *field, const char *text, int required, char *err, size_t errlen)
{
    if (text == NULL || text[0] == '\0') {
        if (!required)
            return 0;
        cc_set_err(err, errlen, "%s is empty", field);
        return CC_EINVAL;
    }
    if (has_control(text)) {
        cc_set_err(err, errlen, "%s %s contains a control character (a line break or tab, for example)", field,
                Q(text));
        return CC_EINVAL;
    }
    return 0;
}

static sqlite3_stmt *stmt(cc_store_t *s, int which)
{
    if (s->st[which] == NULL) {
        if (sqlite3_prepare_v3(s->db, SQL[which], -1, SQLITE_PREPARE_PERSISTENT, &s->st[which], NULL) != SQLITE_OK)
            return NULL;
    } else {
        sqlite3_reset(s->st[which]);
        sqlite3_clear_bindings(s->st[which]);
    }
    return s->st[which];
}

static int bind_text(sqlite3_stmt *st, int i, const char *text)
{
    return text ? sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* Run a statement that returns no rows (or ignore them). 0 or CC_EDB. */
static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : CC_EDB;
}

/* 1 if the statement, bound to one text, returns a row; 0; CC_EDB. */
static int exists(cc_store_t *s, int which, const char *key)
{
    sqlite3_stmt *st = stmt(s, which);
    if (st == NULL || bind_text(st, 1, key) != SQLITE_OK)
        return CC_EDB;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : CC_EDB;
}

int cc_store_staff_exists(cc_store_t *s, const char *id)
{
    return exists(s, ST_STAFF_EXISTS, id);
}

int cc_store_team_exists(cc_store_t *s, const char *id)
{
    return exists(s, ST_TEAM_EXISTS, id);
}

int cc_store_child_exists(cc_store_t *s, const char *id)
{
    return exists(s, ST_CHILD_EXISTS, id);
}

/* A reference that must name an existing row: check its shape, then that
 * it exists. "what" names the field in messages ("manager", "team"). */
static int check_ref(cc_store_t *s, int which, const char *what, const char *id, char *err, size_t errlen)
{
    int rc = check_id(what, id, err, errlen);
    if (rc != 0)
        return rc;
    rc = exists(s, which, id);
    if (rc < 0)
        return db_fail(s, err, errlen);
    if (rc == 0) {
        cc_set_err(err, errlen, "%s %s does not exist", what, Q(id));
        return CC_ENOTFOUND;
    }
    return 0;
}

/* A new row's id: well formed and not taken. */
static int check_new_id(cc_store_t *s, int which, const char *what, const char *id, char *err, size_t errlen)
{
    int rc = check_id(what, id, err, errlen);
    if (rc != 0)
        return rc;
    rc = exists(s, which, id);
    if (rc < 0)
        return db_fail(s, err, errlen);
    if (rc == 1) {
        cc_set_err(err, errlen, "%s %s already exists", what, Q(id));
        return CC_EEXIST;
    }
    return 0;
}

/* ---- transactions ------------------------------------------------------ */

static int exec(cc_store_t *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : CC_EDB;
}

static int actor_set(cc_store_t *s)
{
    if (s->actor == NULL)
        return 0;
    sqlite3_stmt *st = stmt(s, ST_ACTOR_SET);
    if (st == NULL || bind_text(st, 1, s->actor) != SQLITE_OK)
        return CC_EDB;
    return run(st);
}

static int actor_clear(cc_store_t *s)
{
    if (s->actor == NULL)
        return 0;
    sqlite3_stmt *st = stmt(s, ST_ACTOR_CLEAR);
    return st ? run(st) : CC_EDB;
}

/* Start a write: a transaction of our own when none is open (*own = 1),
 * else a savepoint inside the caller's. */
static int write_begin(cc_store_t *s, int *own, char *err, size_t errlen)
{
    *own = sqlite3_get_autocommit(s->db);
    if (exec(s, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT cc_write") != 0)
        return db_fail(s, err, errlen);
    if (*own && actor_set(s) != 0) {
        int rc = db_fail(s, err, errlen);
        exec(s, "ROLLBACK");
        return rc;
    }
    return 0;
}

/* Finish a write begun by write_begin: keep it when rc is 0, else undo it.
 * Returns rc, or CC_EDB when keeping it failed. */
static int write_end(cc_store_t *s, int own, int rc, char *err, size_t errlen)
{
    if (rc == 0) {
        if (own && actor_clear(s) != 0)
            rc = db_fail(s, err, errlen);
        else if (exec(s, own ? "COMMIT" : "RELEASE cc_write") != 0)
            rc = db_fail(s, err, errlen);
        else
            return 0;
    }
    if (own) {
        if (!sqlite3_get_autocommit(s->db))
            exec(s, "ROLLBACK");
    } else {
        exec(s, "ROLLBACK TO cc_write");
        exec(s, "RELEASE cc_write");
    }
    return rc;
}

int cc_store_begin(cc_store_t *s)
{
    last_error.code = SQLITE_OK; /* a new transaction: earlier failures are not its own */
    if (exec(s, "BEGIN IMMEDIATE") != 0)
        return CC_EDB;
    if (actor_set(s) != 0) {
        exec(s, "ROLLBACK");
        return CC_EDB;
    }
    return 0;
}

int cc_store_commit(cc_store_t *s)
{
    if (actor_clear(s) != 0 || exec(s, "COMMIT") != 0) {
        /* The ROLLBACK clears SQLite's message: keep why the commit failed
         * (a full disk fails here, when the WAL cannot grow). */
        keep_error(s->db);
        if (!sqlite3_get_autocommit(s->db))
            exec(s, "ROLLBACK");
        return CC_EDB;
    }
    return 0;
}

int cc_store_rollback(cc_store_t *s)
{
    if (sqlite3_get_autocommit(s->db))
        return 0;
    keep_error(s->db);
    return exec(s, "ROLLBACK");
}

int cc_store_set_actor(cc_store_t *s, const char *actor)
{
    char *copy = NULL;
    if (actor != NULL && (copy = strdup(actor)) == NULL)
        return CC_ENOMEM;
    free(s->actor);
    s->actor = copy;
    return 0;
}

/* ---- open, migrate, close ---------------------------------------------- */

static int pragma_int(cc_store_t *s, const char *sql, int *value)
{
    sqlite3_stmt *st = NULL;
    int rc = CC_EDB;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *value = sqlite3_column_int(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int migrate(cc_store_t *s, const char *path, char *err, size_t errlen)
{
    int version = 0;
    for (int v = s->from_version + 1; v <= CC_STORE_SCHEMA_VERSION; v++) {
        char sql[64];
        if (exec(s, "BEGIN IMMEDIATE") != 0)
            goto fail;
        /* Another process may have migrated while we waited for the lock. */
        if (pragma_int(s, "PRAGMA user_version", &version) != 0)
            goto fail;
        if (version >= v) {
            if (exec(s, "COMMIT") != 0)
                goto fail;
            continue;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
        if (exec(s, MIGRATIONS[v]) != 0 || exec(s, sql) != 0 || exec(s, "COMMIT") != 0)
            goto fail;
    }
    if (pragma_int(s, "PRAGMA user_version", &s->to_version) != 0)
        goto fail;
    return 0;
fail:
    cc_set_err(err, errlen, "%s: migrating the schema to version %d failed: %s", path, CC_STORE_SCHEMA_VERSION,
            cc_store_errmsg(s, NULL));
    if (!sqlite3_get_autocommit(s->db))
        exec(s, "ROLLBACK");
    return CC_EDB;
}

static int store_open(const char *path, int create, cc_store_t **out, char *err, size_t errlen)
{
    cc_store_t *s = NULL;
    int rc = CC_EDB, memory = strcmp(path, ":memory:") == 0;
    int created = 0, app_id = 0, objects = 0;
    struct stat sb;
    *out = NULL;

    if (!memory && stat(path, &sb) != 0) {
        if (errno != ENOENT) {
            cc_set_err(err, errlen, "%s: %s", path, strerror(errno));
            return CC_EIO;
        }
        if (!create) {
            cc_set_err(err, errlen, "database \"%s\" does not exist", path);
            return CC_ENOTFOUND;
        }
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            created = 1;
            close(fd);
        } else if (errno != EEXIST) {
            cc_set_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return CC_EIO;
        }
    }
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        cc_set_err(err, errlen, "out of memory");
        return CC_ENOMEM;
    }
    s->created = created;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (memory ? SQLITE_OPEN_CREATE : 0);
    pthread_once(&error_log_once, error_log_install);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        cc_set_err(err, errlen, "%s: %s", path, s->db ? cc_store_errmsg(s, NULL) : "cannot open");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    if (exec(s, "PRAGMA busy_timeout = 5000") != 0 || exec(s, "PRAGMA foreign_keys = ON") != 0 ||
        pragma_int(s, "PRAGMA user_version", &s->from_version) != 0 ||
        pragma_int(s, "PRAGMA application_id", &app_id) != 0 ||
        pragma_int(s, "SELECT count(*) FROM sqlite_schema", &objects) != 0) {
        cc_set_err(err, errlen, "%s: %s", path, cc_store_errmsg(s, NULL));
        goto fail;
    }
    if ((app_id != 0 && app_id != CC_STORE_APPLICATION_ID) || (s->from_version == 0 && objects > 0)) {
        cc_set_err(err, errlen, "%s is an SQLite database but not a careclock one; refusing to touch it", path);
        goto fail;
    }
    if (s->from_version > CC_STORE_SCHEMA_VERSION) {
        cc_set_err(err, errlen,
                "%s has schema version %d, newer than this careclock understands (%d); upgrade careclock", path,
                s->from_version, CC_STORE_SCHEMA_VERSION);
        rc = CC_ESTATE;
        goto fail;
    }
    if (!memory) {
        sqlite3_stmt *st = NULL;
        const unsigned char *mode = NULL;
        if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            mode = sqlite3_column_text(st, 0);
        int wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
        sqlite3_finalize(st);
        if (!wal) {
            cc_set_err(err, errlen, "%s: cannot switch to WAL journal mode: %s", path, cc_store_errmsg(s, NULL));
            goto fail;
        }
    }
    /* After a large transaction (the first computation of a council's
     * clocks writes its whole clocks table through the WAL) the WAL file is
     * cut back to this size once checkpointed, instead of keeping its
     * largest size on disk for good. */
    if (exec(s, "PRAGMA synchronous = NORMAL") != 0 || exec(s, "PRAGMA journal_size_limit = 67108864") != 0) {
        cc_set_err(err, errlen, "%s: %s", path, cc_store_errmsg(s, NULL));
        goto fail;
    }
    if ((rc = migrate(s, path, err, errlen)) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    cc_store_close(s);
    return rc;
}

int cc_store_open(const char *path, cc_store_t **out, char *err, size_t errlen)
{
    return store_open(path, 1, out, err, errlen);
}

int cc_store_open_existing(const char *path, cc_store_t **out, char *err, size_t errlen)
{
    return store_open(path, 0, out, err, errlen);
}

void cc_store_open_info(const cc_store_t *s, int *created, int *from_version, int *to_version)
{
    if (created)
        *created = s->created;
    if (from_version)
        *from_version = s->from_version;
    if (to_version)
        *to_version = s->to_version;
}

void cc_store_close(cc_store_t *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close_v2(s->db); /* a statement another module leaked delays, not blocks, the close */
    free(s->actor);
    free(s);
}

sqlite3 *cc_store_db(cc_store_t *s)
{
    return s->db;
}

/* ---- validation shared with the CLI ------------------------------------ */

int cc_store_role_valid(const char *role)
{
    static const char *const roles[] = {"worker", "team_manager", "service_manager", "iro"};
    for (size_t i = 0; role != NULL && i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(role, roles[i]) == 0)
            return 1;
    return 0;
}

/* ---- staff, teams, children -------------------------------------------- */

int cc_store_staff_add(cc_store_t *s, const cc_store_staff_t *staff, char *err, size_t errlen)
{
    int own, rc = write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = check_new_id(s, ST_STAFF_EXISTS, "staff id", staff->id, err, errlen)) != 0 ||
        (rc = check_text("name", staff->name, 1, err, errlen)) != 0)
        goto out;
    if (!cc_store_role_valid(staff->role)) {
        cc_set_err(err, errlen, "role %s is not one of %s", Q(staff->role ? staff->role : ""), CC_STORE_ROLES);
        rc = CC_EINVAL;
        goto out;
    }
    if (staff->email != NULL && !cc_email_valid(staff->email)) {
        cc_set_err(err, errlen, "email %s is not an address careclock can send to (one \"@\" with text either side; ASCII "
                   "only; no spaces, line breaks, quotes, brackets, commas, semicolons or backslashes; "
                   "at most 254 characters)",
                Q(staff->email));
        rc = CC_EINVAL;
        goto out;
    }
    if (staff->manager_id != NULL &&
        (rc = check_ref(s, ST_STAFF_EXISTS, "manager", staff->manager_id, err, errlen)) != 0)
        goto out;
    sqlite3_stmt *st = stmt(s, ST_STAFF_INSERT);
    if (st == NULL || bind_text(st, 1, staff->id) || bind_text(st, 2, staff->name) ||
        bind_text(st, 3, staff->email) || bind_text(st, 4, staff->role) || bind_text(st, 5, staff->manager_id) ||
        run(st) != 0)
        rc = db_fail(s, err, errlen);
out:
    return write_end(s, own, rc, err, errlen);
}

/* The staff references of a team, each optional. allow_empty: "" clears. */
static int check_team_refs(cc_store_t *s, const cc_store_team_t *team, int allow_empty, char *err, size_t errlen)
{
    int rc = 0;
    if (team->manager_id != NULL && !(allow_empty && team->manager_id[0] == '\0'))
        rc = check_ref(s, ST_STAFF_EXISTS, "manager", team->manager_id, err, errlen);
    if (rc == 0 && team->service_manager_id != NULL && !(allow_empty && team->service_manager_id[0] == '\0'))
        rc = check_ref(s, ST_STAFF_EXISTS, "service manager", team->service_manager_id, err, errlen);
    if (rc == 0 && team->webhook != NULL)
        rc = check_text("webhook", team->webhook, !allow_empty, err, errlen);
    return rc;
}

static int bind_team(sqlite3_stmt *st, const cc_store_team_t *team)
{
    return bind_text(st, 1, team->id) || bind_text(st, 2, team->name) || bind_text(st, 3, team->manager_id) ||
           bind_text(st, 4, team->service_manager_id) || bind_text(st, 5, team->webhook);
}

int cc_store_team_add(cc_store_t *s, const cc_store_team_t *team, char *err, size_t errlen)
{
    int own, rc = write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = check_new_id(s, ST_TEAM_EXISTS, "team id", team->id, err, errlen)) != 0 ||
        (rc = check_text("name", team->name, 1, err, errlen)) != 0 ||
        (rc = check_team_refs(s, team, 0, err, errlen)) != 0)
        goto out;
    sqlite3_stmt *st = stmt(s, ST_TEAM_INSERT);
    if (st == NULL || bind_team(st, team) || run(st) != 0)
        rc = db_fail(s, err, errlen);
out:
    return write_end(s, own, rc, err, errlen);
}

int cc_store_team_set(cc_store_t *s, const cc_store_team_t *team, char *err, size_t errlen)
{
    int own, rc = write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = check_ref(s, ST_TEAM_EXISTS, "team", team->id, err, errlen)) != 0 ||
        (team->name != NULL && (rc = check_text("name", team->name, 1, err, errlen)) != 0) ||
        (rc = check_team_refs(s, team, 1, err, errlen)) != 0)
        goto out;
    if (team->name == NULL && team->manager_id == NULL && team->service_manager_id == NULL &&
        team->webhook == NULL) {
        cc_set_err(err, errlen, "nothing to change for team %s", Q(team->id));
        rc = CC_EINVAL;
        goto out;
    }
    sqlite3_stmt *st = stmt(s, ST_TEAM_UPDATE);
    if (st == NULL || bind_team(st, team) || run(st) != 0)
        rc = db_fail(s, err, errlen);
out:
    return write_end(s, own, rc, err, errlen);
}

int cc_store_child_add(cc_store_t *s, const cc_store_child_t *child, char *err, size_t errlen)
{
    char dob[CC_DATE_STRLEN];
    int own, rc = write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = check_new_id(s, ST_CHILD_EXISTS, "child id", child->id, err, errlen)) != 0 ||
        (rc = check_text("initials", child->initials, 0, err, errlen)) != 0 ||
        (rc = check_text("name", child->full_name, 0, err, errlen)) != 0 ||
        (child->team_id && (rc = check_ref(s, ST_TEAM_EXISTS, "team", child->team_id, err, errlen)) != 0) ||
        (child->worker_id && (rc = check_ref(s, ST_STAFF_EXISTS, "worker", child->worker_id, err, errlen)) != 0) ||
        (child->iro_id && (rc = check_ref(s, ST_STAFF_EXISTS, "iro", child->iro_id, err, errlen)) != 0))
        goto out;
    cc_date_format(child->dob, dob);
    sqlite3_stmt *st = stmt(s, ST_CHILD_INSERT);
    if (st == NULL || bind_text(st, 1, child->id) || bind_text(st, 2, child->initials) ||
        bind_text(st, 3, child->full_name) || bind_text(st, 4, dob) || bind_text(st, 5, child->team_id) ||
        bind_text(st, 6, child->worker_id) || bind_text(st, 7, child->iro_id) || run(st) != 0)
        rc = db_fail(s, err, errlen);
out:
    return write_end(s, own, rc, err, errlen);
}

int cc_store_child_set(cc_store_t *s, const char *id, const char *team_id, const char *worker_id,
                       const char *iro_id, char *err, size_t errlen)
{
    int own, rc = write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = check_ref(s, ST_CHILD_EXISTS, "child", id, err, errlen)) != 0 ||
        (team_id && (rc = check_ref(s, ST_TEAM_EXISTS, "team", team_id, err, errlen)) != 0) ||
        (worker_id && (rc = check_ref(s, ST_STAFF_EXISTS, "worker", worker_id, err, errlen)) != 0) ||
        (iro_id && iro_id[0] != '\0' && (rc = check_ref(s, ST_STAFF_EXISTS, "iro", iro_id, err, errlen)) != 0))
        goto out;
    if (team_id == NULL && worker_id == NULL && iro_id == NULL) {
        cc_set_err(err, errlen, "nothing to change for child %s", Q(id));
        rc = CC_EINVAL;
        goto out;
    }
    sqlite3_stmt *st = stmt(s, ST_CHILD_UPDATE);
    if (st == NULL || bind_text(st, 1, id) || bind_text(st, 2, team_id) || bind_text(st, 3, worker_id) ||
        bind_text(st, 4, iro_id) || run(st) != 0)
        rc = db_fail(s, err, errlen);
out:
    return write_end(s, own, rc, err, errlen);
}

/* ---- events ------------------------------------------------------------ */

/* A looked_after_end on date must close an open episode: the latest
 * looked_after_start on or before date, with no end after that start up to
 * date. Stored dates another system wrote that do not parse are ignored
 * here (the engine reports them). An end on the very day of the start it
 * follows counts as belonging to the episode before, so a same-day return
 * to care is not refused. Two passes over the child's few episode events:
 * the starts, then the ends after the chosen start. */
static int check_episode_end(cc_store_t *s, const char *child_id, cc_date_t date, char *err, size_t errlen)
{
    cc_date_t start = CC_DATE_NONE, later_start = CC_DATE_NONE, ended = CC_DATE_NONE;
    int rc = SQLITE_DONE;
    sqlite3_stmt *st = stmt(s, ST_EPISODE_EVENTS);
    if (st == NULL || bind_text(st, 1, child_id) != SQLITE_OK)
        return db_fail(s, err, errlen);
    for (int pass = 0; pass < 2 && rc == SQLITE_DONE; pass++) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *type = (const char *)sqlite3_column_text(st, 0);
            const char *text = (const char *)sqlite3_column_text(st, 1);
            cc_date_t d;
            if (type == NULL || text == NULL || cc_date_parse(text, &d) != 0)
                continue;
            int is_start = strcmp(type, "looked_after_start") == 0;
            if (pass == 0 && is_start && d <= date && (start == CC_DATE_NONE || d > start))
                start = d;
            if (pass == 0 && is_start && d > date && (later_start == CC_DATE_NONE || d < later_start))
                later_start = d;
            if (pass == 1 && !is_start && d > start && d <= date && (ended == CC_DATE_NONE || d < ended))
                ended = d;
        }
        sqlite3_reset(st);
        if (start == CC_DATE_NONE)
            break;
    }
    if (rc != SQLITE_DONE)
        return db_fail(s, err, errlen);
    char iso[CC_DATE_STRLEN], first[CC_DATE_STRLEN], other[CC_DATE_STRLEN];
    cc_date_format(date, iso);
    if (start == CC_DATE_NONE) {
        if (later_start != CC_DATE_NONE)
            cc_set_err(err, errlen,
                    "looked_after_end date \"%s\" is before the start of the episode of care it would close "
                    "(looked_after_start on %s)",
                    iso, cc_date_format(later_start, other));
        else
            cc_set_err(err, errlen, "looked_after_end date \"%s\": child %s has no looked_after_start on or before it",
                    iso, Q(child_id));
        return CC_ESTATE;
    }
    if (ended != CC_DATE_NONE) {
        cc_set_err(err, errlen,
                "looked_after_end date \"%s\": the episode of care that started on %s already ended on %s", iso,
                cc_date_format(start, first), cc_date_format(ended, other));
        return CC_ESTATE;
    }
    return 0;
}

int cc_store_event_add(cc_store_t *s, const cc_store_event_in_t *ev, int64_t *id, char *err, size_t errlen)
{
    char date[CC_DATE_STRLEN];
    int own, rc = write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = check_ref(s, ST_CHILD_EXISTS, "child", ev->child_id, err, errlen)) != 0 ||
        (rc = check_text("type", ev->type, 1, err, errlen)) != 0 ||
        (rc = check_text("source", ev->source, 0, err, errlen)) != 0 ||
        (rc = check_text("note", ev->note, 0, err, errlen)) != 0)
        goto out;
    if (ev->source_key != NULL) {
        if ((rc = check_text("source_key", ev->source_key, 1, err, errlen)) != 0)
            goto out;
        if ((rc = exists(s, ST_SOURCE_KEY_EXISTS, ev->source_key)) != 0) {
            if (rc < 0) {
                rc = db_fail(s, err, errlen);
            } else {
                cc_set_err(err, errlen, "source_key %s already exists", Q(ev->source_key));
                rc = CC_EEXIST;
            }
            goto out;
        }
    }
    if (strcmp(ev->type, "looked_after_end") == 0 &&
        (rc = check_episode_end(s, ev->child_id, ev->date, err, errlen)) != 0)
        goto out;
    cc_date_format(ev->date, date);
    sqlite3_stmt *st = stmt(s, ST_EVENT_INSERT);
    if (st == NULL || bind_text(st, 1, ev->child_id) || bind_text(st, 2, ev->type) || bind_text(st, 3, date) ||
        bind_text(st, 4, ev->attributes) || bind_text(st, 5, ev->source) || bind_text(st, 6, ev->source_key) ||
        bind_text(st, 7, ev->note) || run(st) != 0) {
        rc = db_fail(s, err, errlen);
        goto out;
    }
    if (id != NULL)
        *id = sqlite3_last_insert_rowid(s->db);
out:
    return write_end(s, own, rc, err, errlen);
}

static char *column_dup(sqlite3_stmt *st, int col, int *oom)
{
    const unsigned char *text = sqlite3_column_text(st, col);
    if (text == NULL)
        return NULL;
    char *copy = strdup((const char *)text);
    if (copy == NULL)
        *oom = 1;
    return copy;
}

void cc_store_event_clear(cc_store_event_t *ev)
{
    if (ev == NULL)
        return;
    free(ev->child_id);
    free(ev->type);
    free(ev->date);
    free(ev->attributes);
    free(ev->recorded_at);
    free(ev->source);
    free(ev->source_key);
    free(ev->note);
    memset(ev, 0, sizeof(*ev));
}

/* Copy the current row of an EVENT_COLUMNS query. 0 or CC_ENOMEM. */
static int event_from_row(sqlite3_stmt *st, cc_store_event_t *ev)
{
    int oom = 0;
    ev->id = sqlite3_column_int64(st, 0);
    ev->child_id = column_dup(st, 1, &oom);
    ev->type = column_dup(st, 2, &oom);
    ev->date = column_dup(st, 3, &oom);
    ev->attributes = column_dup(st, 4, &oom);
    ev->recorded_at = column_dup(st, 5, &oom);
    ev->source = column_dup(st, 6, &oom);
    ev->source_key = column_dup(st, 7, &oom);
    ev->note = column_dup(st, 8, &oom);
    if (oom) {
        cc_store_event_clear(ev);
        return CC_ENOMEM;
    }
    return 0;
}

void cc_store_events_free(cc_store_events_t *events)
{
    if (events == NULL)
        return;
    for (size_t i = 0; i < events->len; i++)
        cc_store_event_clear(&events->items[i]);
    free(events->items);
    events->items = NULL;
    events->len = 0;
}

int cc_store_event_list(cc_store_t *s, const char *child_id, cc_store_events_t *out, char *err, size_t errlen)
{
    size_t cap = 0;
    int rc;
    out->items = NULL;
    out->len = 0;
    if ((rc = check_ref(s, ST_CHILD_EXISTS, "child", child_id, err, errlen)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, ST_EVENT_LIST);
    if (st == NULL || bind_text(st, 1, child_id) != SQLITE_OK)
        return db_fail(s, err, errlen);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            cc_store_event_t *items = realloc(out->items, ncap * sizeof(*items));
            if (items == NULL)
                goto oom;
            out->items = items;
            cap = ncap;
        }
        if (event_from_row(st, &out->items[out->len]) != 0)
            goto oom;
        out->len++;
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(s, err, errlen);
        sqlite3_reset(st);
        cc_store_events_free(out);
        return rc;
    }
    sqlite3_reset(st);
    return 0;
oom:
    sqlite3_reset(st);
    cc_store_events_free(out);
    cc_set_err(err, errlen, "out of memory");
    return CC_ENOMEM;
}

int cc_store_event_delete(cc_store_t *s, int64_t id, cc_store_event_t *deleted, char *err, size_t errlen)
{
    cc_store_event_t row = {0};
    int own, rc = write_begin(s, &own, err, errlen);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, ST_EVENT_GET);
    if (st == NULL || sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        rc = db_fail(s, err, errlen);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = event_from_row(st, &row);
        if (rc != 0)
            cc_set_err(err, errlen, "out of memory");
    } else if (rc == SQLITE_DONE) {
        cc_set_err(err, errlen, "event %lld does not exist", (long long)id);
        rc = CC_ENOTFOUND;
    } else {
        rc = db_fail(s, err, errlen);
    }
    sqlite3_reset(st);
    if (rc != 0)
        goto out;
    st = stmt(s, ST_EVENT_DELETE);
    if (st == NULL || sqlite3_bind_int64(st, 1, id) != SQLITE_OK || run(st) != 0)
        rc = db_fail(s, err, errlen);
out:
    rc = write_end(s, own, rc, err, errlen);
    if (rc == 0 && deleted != NULL)
        *deleted = row;
    else
        cc_store_event_clear(&row);
    return rc;
}

/* ---- change queue and id lists ----------------------------------------- */

void cc_store_free_ids(char **ids, size_t n)
{
    if (ids == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

/* Collect column 0 of every row of st (already bound) as strings. */
static int collect_ids(sqlite3_stmt *st, char ***ids, size_t *n)
{
    char **list = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 0);
        if (text == NULL)
            continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(list, ncap * sizeof(*grown));
            if (grown == NULL)
                goto oom;
            list = grown;
            cap = ncap;
        }
        if ((list[len] = strdup((const char *)text)) == NULL)
            goto oom;
        len++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        cc_store_free_ids(list, len);
        return CC_EDB;
    }
    *ids = list;
    *n = len;
    return 0;
oom:
    sqlite3_reset(st);
    cc_store_free_ids(list, len);
    return CC_ENOMEM;
}

int cc_store_changes_take(cc_store_t *s, int64_t *upto, char ***child_ids, size_t *n)
{
    *upto = 0;
    *child_ids = NULL;
    *n = 0;
    /* Ids only grow (AUTOINCREMENT, one writer at a time), so the rows up
     * to the maximum read here are all committed and stay put until an ack:
     * no transaction is needed between the two queries. */
    sqlite3_stmt *st = stmt(s, ST_CHANGES_MAX);
    if (st == NULL)
        return CC_EDB;
    int rc = sqlite3_step(st);
    int64_t max = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return CC_EDB;
    if (max == 0)
        return 0;
    st = stmt(s, ST_CHANGES_IDS);
    if (st == NULL || sqlite3_bind_int64(st, 1, max) != SQLITE_OK)
        return CC_EDB;
    if ((rc = collect_ids(st, child_ids, n)) != 0)
        return rc;
    *upto = max;
    return 0;
}

int cc_store_changes_ack(cc_store_t *s, int64_t upto)
{
    sqlite3_stmt *st = stmt(s, ST_CHANGES_ACK);
    if (st == NULL || sqlite3_bind_int64(st, 1, upto) != SQLITE_OK)
        return CC_EDB;
    return run(st);
}

int cc_store_child_ids(cc_store_t *s, char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = stmt(s, ST_CHILD_IDS);
    if (st == NULL)
        return CC_EDB;
    return collect_ids(st, ids, n);
}
