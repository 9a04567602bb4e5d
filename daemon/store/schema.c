/* The schema of the plan database: every numbered migration, and the
 * PRAGMA user_version that says which of them a file has. docs/schema.md
 * documents what they build.
 *
 * Design notes:
 *  - Migration v takes a file from version v-1 to v, in one transaction
 *    that also sets user_version; a migration is never edited once
 *    released: the next one is added (and CC_STORE_SCHEMA_VERSION raised,
 *    which the _Static_assert below holds in step with MIGRATIONS[]).
 *  - Several processes may open an old file at once: each migration
 *    re-reads user_version under the write lock and skips what another
 *    process applied meanwhile.
 *  - A file with tables but no careclock version, or another application
 *    id, is refused untouched: a mistyped --db cannot damage another
 *    system's database.
 */
#include "store/internal.h"
#include "careclock/backup.h"
#include "careclock/error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- the migrations ---------------------------------------------------- */

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

/* Migration 6: delivery ids never come back (issue 18). deliveries.id had
 * no AUTOINCREMENT, so SQLite gave a new row the largest id left plus one:
 * after `deliveries prune` removed the newest rows their ids, and the
 * batch numbers in Message-IDs and webhook-ids, were used again (Gmail
 * drops a repeated Message-ID; Standard Webhooks receivers discard a
 * repeated webhook-id). SQLite cannot add AUTOINCREMENT to a table, so the
 * table is made again, rows and indexes as they were; its sequence starts
 * above every id and batch still recorded. (Ids pruned before this
 * migration above those cannot be known; message ids made from now on
 * also carry a random part chosen at their first claim, which keeps them
 * apart from any made before, and from those made again after a restore
 * of an older copy.) */
static const char MIGRATION_6[] =
    "CREATE TABLE deliveries_v6 (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
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
    "INSERT INTO deliveries_v6 (id, child_id, rule_id, seq, stage, recipient, channel, role, kind, address, "
    "due_date, stage_date, due_at, immediate, state, batch, message_id, attempts, next_attempt_at, "
    "first_attempt_at, last_error, claimed_by, created_at, updated_at, sent_at)\n"
    "  SELECT id, child_id, rule_id, seq, stage, recipient, channel, role, kind, address, due_date, stage_date, "
    "due_at, immediate, state, batch, message_id, attempts, next_attempt_at, first_attempt_at, last_error, "
    "claimed_by, created_at, updated_at, sent_at FROM deliveries;\n"
    "DROP TABLE deliveries;\n"
    "ALTER TABLE deliveries_v6 RENAME TO deliveries;\n"
    "CREATE INDEX deliveries_ready ON deliveries(next_attempt_at) WHERE state IN ('pending','retrying');\n"
    "CREATE INDEX deliveries_by_state ON deliveries(state);\n"
    "CREATE INDEX deliveries_by_batch ON deliveries(batch) WHERE batch IS NOT NULL;\n"
    "DELETE FROM sqlite_sequence WHERE name = 'deliveries';\n"
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'deliveries', max(coalesce(max(id), 0), coalesce(max(batch), 0)) "
    "FROM deliveries;\n";

/* Migration 7: the web dashboard (docs/dashboard.md).
 *  - staff.role may be 'viewer' (performance teams, auditors: everything,
 *    read-only). SQLite cannot alter a CHECK constraint; its documented
 *    procedure for changing one (https://www.sqlite.org/lang_altertable.html,
 *    "Making Other Kinds Of Table Schema Changes") edits the table's text
 *    in sqlite_schema under writable_schema: every existing row satisfies
 *    the wider constraint, so nothing else changes. The CREATE TABLEs below
 *    raise the schema cookie, so connections already open reload the
 *    schema; and the migration fails (a NOT NULL violation) if the edit
 *    did not take, rather than leave the constraint as it was.
 *  - assignments: who held each child from which day (team, worker, IRO),
 *    kept by triggers on children for every writer; the timeliness report
 *    credits a clock to the team and worker who held the child on its due
 *    date. A writer says from which day a change holds in audit_actor's new
 *    column "since" (careclock's CLI: --today, or child set --from), else
 *    the UTC date. Existing children start with one row, from today.
 *  - web_signin: one-time sign-in links (SHA-256 of the token only),
 *    web_sessions: signed-in browsers (SHA-256 of the cookie only),
 *    web_audit: every decision taken through the dashboard. */
static const char MIGRATION_7[] =
    "PRAGMA writable_schema = ON;\n"
    "UPDATE sqlite_schema SET sql = replace(sql, '''service_manager'',''iro'')', "
    "'''service_manager'',''iro'',''viewer'')') WHERE type = 'table' AND name = 'staff';\n"
    "PRAGMA writable_schema = RESET;\n"
    "PRAGMA writable_schema = OFF;\n"
    "INSERT INTO meta (key, value) SELECT 'migration_7_check', NULL WHERE NOT EXISTS "
    "(SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'staff' AND instr(sql, '''viewer''') > 0);\n"
    "ALTER TABLE audit_actor ADD COLUMN since TEXT;\n"
    "CREATE TABLE assignments (\n"
    "  child_id TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,\n"
    "  since TEXT NOT NULL,\n"
    "  team_id TEXT,\n"
    "  worker_id TEXT,\n"
    "  iro_id TEXT,\n"
    "  recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),\n"
    "  PRIMARY KEY (child_id, since)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX assignments_by_team ON assignments(team_id, child_id);\n"
    "CREATE INDEX assignments_by_worker ON assignments(worker_id, child_id);\n"
    "INSERT INTO assignments (child_id, since, team_id, worker_id, iro_id) "
    "SELECT id, date('now'), team_id, worker_id, iro_id FROM children;\n"
    "CREATE TRIGGER children_assign_insert AFTER INSERT ON children BEGIN\n"
    "  INSERT OR REPLACE INTO assignments (child_id, since, team_id, worker_id, iro_id) VALUES (NEW.id,\n"
    "    coalesce((SELECT since FROM audit_actor WHERE id = 1), date('now')), NEW.team_id, NEW.worker_id,\n"
    "    NEW.iro_id);\n"
    "END;\n"
    "CREATE TRIGGER children_assign_update AFTER UPDATE OF team_id, worker_id, iro_id ON children\n"
    "WHEN NEW.team_id IS NOT OLD.team_id OR NEW.worker_id IS NOT OLD.worker_id OR NEW.iro_id IS NOT OLD.iro_id\n"
    "BEGIN\n"
    "  INSERT OR REPLACE INTO assignments (child_id, since, team_id, worker_id, iro_id) VALUES (NEW.id,\n"
    "    coalesce((SELECT since FROM audit_actor WHERE id = 1), date('now')), NEW.team_id, NEW.worker_id,\n"
    "    NEW.iro_id);\n"
    "END;\n"
    "CREATE TABLE web_signin (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  token_hash TEXT NOT NULL UNIQUE,\n"
    "  staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,\n"
    "  created_at TEXT NOT NULL,\n"
    "  expires_at TEXT NOT NULL,\n"
    "  used_at TEXT,\n"
    "  next_path TEXT,\n"
    "  client TEXT\n"
    ");\n"
    "CREATE INDEX web_signin_by_staff ON web_signin(staff_id, created_at);\n"
    "CREATE TABLE web_sessions (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  token_hash TEXT NOT NULL UNIQUE,\n"
    "  staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,\n"
    "  created_at TEXT NOT NULL,\n"
    "  last_seen_at TEXT NOT NULL,\n"
    "  expires_at TEXT NOT NULL,\n"
    "  ended_at TEXT,\n"
    "  ended_why TEXT,\n"
    "  client TEXT\n"
    ");\n"
    "CREATE TABLE web_audit (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  at TEXT NOT NULL,\n"
    "  staff_id TEXT,\n"
    "  action TEXT NOT NULL,\n"
    "  target TEXT,\n"
    "  outcome TEXT NOT NULL,\n"
    "  detail TEXT,\n"
    "  client TEXT,\n"
    "  via TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX web_audit_by_staff ON web_audit(staff_id, at);\n";

/* Migration 8: a clock instance's identity (docs/engine.md, "Identity";
 * docs/schema.md, "clocks" and "deliveries"). seq is a position by start
 * date, which history recorded later before an instance moves; the
 * instance column is the event its chain began with and its place in the
 * chain ("812.2"), and the clocks' primary key and the outbox's unique key
 * use it instead of seq, which stays for display. left_care_on is the day
 * the child left care when that closed the clock unmet (no reminders after
 * it). Both tables are rebuilt (a key cannot be changed in place), every
 * column and row kept, ids too (so batches and Message-IDs stay), and the
 * outbox's id sequence (migration 6) carried over: ids never come back.
 *
 * SQL cannot run the engine, so the rows take the provisional instance
 * "#SEQ", on both sides: until the first evaluation after this migration
 * deliveries join their clocks exactly as they did by seq, and nothing is
 * planned twice. That evaluation (forced: clocks_as_of goes, every
 * digest is unknown; committing as it goes while the note instances_owed
 * stays) maps each child's provisional rows to their
 * instances and re-keys their deliveries in the same transaction
 * (evaluate.c, rekey_provisional). */
static const char MIGRATION_8[] =
    "CREATE TABLE clocks_8 (\n"
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
    "  sequence INTEGER NOT NULL DEFAULT 0,\n"
    "  instance TEXT NOT NULL,\n"
    "  left_care_on TEXT,\n"
    "  PRIMARY KEY (child_id, rule_id, instance)\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO clocks_8 (child_id, rule_id, seq, title, start_date, due_date, status, met_on, start_event_id,\n"
    "  met_event_id, reason, flags, source, updated_at, sequence, instance)\n"
    "SELECT child_id, rule_id, seq, title, start_date, due_date, status, met_on, start_event_id, met_event_id,\n"
    "  reason, flags, source, updated_at, sequence, '#' || seq FROM clocks;\n"
    "DROP TABLE clocks;\n"
    "ALTER TABLE clocks_8 RENAME TO clocks;\n"
    "CREATE INDEX clocks_by_status ON clocks(status, due_date);\n"
    "CREATE TABLE deliveries_8 (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
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
    "  instance TEXT NOT NULL,\n"
    "  UNIQUE (child_id, rule_id, instance, stage, recipient, channel)\n"
    ");\n"
    "INSERT INTO deliveries_8 (id, child_id, rule_id, seq, stage, recipient, channel, role, kind, address, due_date,\n"
    "  stage_date, due_at, immediate, state, batch, message_id, attempts, next_attempt_at, first_attempt_at,\n"
    "  last_error, claimed_by, created_at, updated_at, sent_at, instance)\n"
    "SELECT id, child_id, rule_id, seq, stage, recipient, channel, role, kind, address, due_date, stage_date, due_at,\n"
    "  immediate, state, batch, message_id, attempts, next_attempt_at, first_attempt_at, last_error, claimed_by,\n"
    "  created_at, updated_at, sent_at, '#' || seq FROM deliveries;\n"
    /* The sequence goes on from migration 6's (or above every id and batch
     * kept, whichever is higher); the DROP takes the old table's row. */
    "DELETE FROM sqlite_sequence WHERE name = 'deliveries_8';\n"
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'deliveries_8', max(coalesce((SELECT seq FROM sqlite_sequence "
    "WHERE name = 'deliveries'), 0), coalesce(max(id), 0), coalesce(max(batch), 0)) FROM deliveries;\n"
    "DROP TABLE deliveries;\n"
    "ALTER TABLE deliveries_8 RENAME TO deliveries;\n"
    "CREATE INDEX deliveries_ready ON deliveries(next_attempt_at) WHERE state IN ('pending','retrying');\n"
    "CREATE INDEX deliveries_by_state ON deliveries(state);\n"
    "CREATE INDEX deliveries_by_batch ON deliveries(batch) WHERE batch IS NOT NULL;\n"
    /* The next refresh recomputes every child, whatever the day, and
     * compares every child's rows (digest 0: unknown), so that each meets
     * its provisional rows. */
    "DELETE FROM meta WHERE key = 'clocks_as_of';\n"
    "UPDATE clock_digests SET digest = 0;\n"
    /* ... committing as it goes (first.c): the note CC__INSTANCES_OWED. */
    "INSERT OR REPLACE INTO meta (key, value) VALUES ('instances_owed', '1');\n";

/* Migration 9: compact clocks (issue 22; docs/schema.md, "clocks").
 * Each clock instance is one row of clock_rows holding only what is its
 * own: identity, rule (a number), seq, status (a number, in the listing's
 * order of urgency, so clocks_by_status gives the listing's order),
 * dates as day numbers (days since 1970-01-01), the event ids, flags,
 * reason, updated (Unix seconds) and sequence. A rule's id, title and
 * source are kept once, in clock_rules. clocks is now a view with the
 * columns and values of the table it replaces (other systems' reports
 * read it as before); INSTEAD OF triggers let a write to it (a test's
 * fixture, a repair by hand) land in clock_rows.
 *
 * Nothing is lost: a row whose title or source differs from its rule's
 * (edited by hand) keeps its own in clock_rows.title and .source, NULL
 * otherwise ('' for a source that was NULL where the rule has one). The
 * rule's title and source are those most of its rows have (careclock
 * writes every row of a rule with the same). Rule numbers are
 * given in order of rule id, as the listing sorted them; a rule first seen
 * later takes the next number.
 *
 * clock_digests gains the window in which the child's stored clocks hold
 * with nothing recorded (valid_from, valid_until, day numbers: the engine's
 * next_change), so that a full recompute evaluates only the children whose
 * data changed or whose window has passed; NULL: evaluate. Its plan
 * trigger now queues a child only when the digest changes, not the window. */
#define DAY_OF(x) "CAST(julianday(" x ") - 2440587.5 AS INTEGER)"
#define DATE_OF(x) "date(" x " + 2440587.5)"
#define STATUS_CODE_9(x)                                                                                            \
    "CASE " x " WHEN 'overdue' THEN 0 WHEN 'data_error' THEN 1 WHEN 'due_soon' THEN 2 WHEN 'open' THEN 3 "        \
    "WHEN 'met_late' THEN 4 WHEN 'met' THEN 5 WHEN 'cancelled' THEN 6 END"
#define STATUS_NAME_9(x)                                                                                            \
    "CASE " x " WHEN 0 THEN 'overdue' WHEN 1 THEN 'data_error' WHEN 2 THEN 'due_soon' WHEN 3 THEN 'open' "        \
    "WHEN 4 THEN 'met_late' WHEN 5 THEN 'met' WHEN 6 THEN 'cancelled' END"
#define SECONDS_OF(x) "CAST(strftime('%s', " x ") AS INTEGER)"
/* The title and source a row keeps of its own (r: its rule's row). */
#define OWN_TITLE(t) "CASE WHEN " t " IS r.title THEN NULL ELSE " t " END"
#define OWN_SOURCE(s) "CASE WHEN " s " IS r.source THEN NULL WHEN " s " IS NULL THEN '' ELSE " s " END"
#define ROW_COLUMNS                                                                                               \
    "child_id, rule, instance, seq, status, start_day, due_day, met_day, start_event_id, met_event_id, flags, "   \
    "reason, left_care_day, updated, sequence, title, source"
#define ROW_VALUES_WITH(n, status_code)                                                                           \
    n ".child_id, r.code, " n ".instance, " n ".seq, " status_code(n ".status") ", " DAY_OF(n ".start_date") ", "  \
    DAY_OF(n ".due_date") ", " DAY_OF(n ".met_date") ", " n ".start_event_id, " n ".met_event_id, "               \
    "coalesce(" n ".flags, 0), " n ".reason, " DAY_OF(n ".left_care_on") ", "                                      \
    "coalesce(" SECONDS_OF(n ".updated_at") ", " SECONDS_OF("'now'") "), coalesce(" n ".sequence, 0), "           \
    OWN_TITLE(n ".title") ", " OWN_SOURCE(n ".source")
static const char MIGRATION_9[] =
    "CREATE TABLE clock_rules (\n"
    "  code INTEGER PRIMARY KEY,\n"
    "  rule_id TEXT NOT NULL UNIQUE,\n"
    "  title TEXT NOT NULL,\n"
    "  source TEXT\n"
    ");\n"
    "INSERT INTO clock_rules (rule_id, title, source) SELECT rule_id, title, source FROM (SELECT rule_id, title, "
    "source, max(n) FROM (SELECT rule_id, title, source, count(*) AS n FROM clocks GROUP BY rule_id, title, source) "
    "GROUP BY rule_id) ORDER BY rule_id;\n"
    "CREATE TABLE clock_rows (\n"
    "  child_id TEXT NOT NULL,\n"
    "  rule INTEGER NOT NULL,\n"
    "  instance TEXT NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  status INTEGER NOT NULL,\n"
    "  start_day INTEGER,\n"
    "  due_day INTEGER,\n"
    "  met_day INTEGER,\n"
    "  start_event_id INTEGER,\n"
    "  met_event_id INTEGER,\n"
    "  flags INTEGER NOT NULL DEFAULT 0,\n"
    "  reason TEXT,\n"
    "  left_care_day INTEGER,\n"
    "  updated INTEGER NOT NULL,\n"
    "  sequence INTEGER NOT NULL DEFAULT 0,\n"
    "  title TEXT,\n"
    "  source TEXT,\n"
    "  PRIMARY KEY (child_id, rule, instance)\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO clock_rows (" ROW_COLUMNS ") SELECT " ROW_VALUES_WITH("o", STATUS_CODE_9) " FROM "
    "(SELECT *, met_on AS met_date FROM clocks) o JOIN clock_rules r ON r.rule_id = o.rule_id "
    "ORDER BY o.child_id, r.code, o.instance;\n"
    /* The conversion must keep every row: a status it cannot name fails
     * the NOT NULL above, and the count is checked here (a NOT NULL
     * violation, and the migration rolls back, if not). */
    "INSERT INTO meta (key, value) SELECT 'migration_9_rows', NULL WHERE "
    "(SELECT count(*) FROM clocks) != (SELECT count(*) FROM clock_rows);\n"
    "DROP TABLE clocks;\n"
    "CREATE INDEX clocks_by_status ON clock_rows(status, due_day, child_id, rule, seq, start_day, met_day, left_care_day, reason, title, source);\n"
    "CREATE VIEW clocks AS SELECT c.child_id AS child_id, r.rule_id AS rule_id, c.seq AS seq, "
    "coalesce(c.title, r.title) AS title, " DATE_OF("c.start_day") " AS start_date, "
    DATE_OF("c.due_day") " AS due_date, " STATUS_NAME_9("c.status") " AS status, " DATE_OF("c.met_day")
    " AS met_on, c.start_event_id AS start_event_id, c.met_event_id AS met_event_id, c.reason AS reason, "
    "c.flags AS flags, CASE WHEN c.source IS NULL THEN r.source ELSE nullif(c.source, '') END AS source, "
    "strftime('%Y-%m-%dT%H:%M:%SZ', c.updated, 'unixepoch') AS updated_at, c.sequence AS sequence, "
    "c.instance AS instance, " DATE_OF("c.left_care_day") " AS left_care_on "
    "FROM clock_rows c JOIN clock_rules r ON r.code = c.rule;\n"
    "CREATE TRIGGER clocks_insert INSTEAD OF INSERT ON clocks BEGIN\n"
    "  INSERT OR IGNORE INTO clock_rules (rule_id, title, source) VALUES (NEW.rule_id, NEW.title, NEW.source);\n"
    "  INSERT INTO clock_rows (" ROW_COLUMNS ") SELECT " ROW_VALUES_WITH("n", STATUS_CODE_9) " FROM "
    "(SELECT NEW.child_id AS child_id, NEW.instance AS instance, NEW.seq AS seq, NEW.status AS status, "
    "NEW.start_date AS start_date, NEW.due_date AS due_date, NEW.met_on AS met_date, "
    "NEW.start_event_id AS start_event_id, NEW.met_event_id AS met_event_id, NEW.flags AS flags, "
    "NEW.reason AS reason, NEW.left_care_on AS left_care_on, NEW.updated_at AS updated_at, "
    "NEW.sequence AS sequence, NEW.title AS title, NEW.source AS source) n "
    "JOIN clock_rules r ON r.rule_id = NEW.rule_id;\n"
    "END;\n"
    "CREATE TRIGGER clocks_update INSTEAD OF UPDATE ON clocks BEGIN\n"
    "  INSERT OR IGNORE INTO clock_rules (rule_id, title, source) VALUES (NEW.rule_id, NEW.title, NEW.source);\n"
    "  DELETE FROM clock_rows WHERE child_id = OLD.child_id AND instance = OLD.instance AND "
    "rule = (SELECT code FROM clock_rules WHERE rule_id = OLD.rule_id);\n"
    "  INSERT INTO clock_rows (" ROW_COLUMNS ") SELECT " ROW_VALUES_WITH("n", STATUS_CODE_9) " FROM "
    "(SELECT NEW.child_id AS child_id, NEW.instance AS instance, NEW.seq AS seq, NEW.status AS status, "
    "NEW.start_date AS start_date, NEW.due_date AS due_date, NEW.met_on AS met_date, "
    "NEW.start_event_id AS start_event_id, NEW.met_event_id AS met_event_id, NEW.flags AS flags, "
    "NEW.reason AS reason, NEW.left_care_on AS left_care_on, NEW.updated_at AS updated_at, "
    "NEW.sequence AS sequence, NEW.title AS title, NEW.source AS source) n "
    "JOIN clock_rules r ON r.rule_id = NEW.rule_id;\n"
    "END;\n"
    "CREATE TRIGGER clocks_delete INSTEAD OF DELETE ON clocks BEGIN\n"
    "  DELETE FROM clock_rows WHERE child_id = OLD.child_id AND instance = OLD.instance AND "
    "rule = (SELECT code FROM clock_rules WHERE rule_id = OLD.rule_id);\n"
    "END;\n"
    "ALTER TABLE clock_digests ADD COLUMN valid_from INTEGER;\n"
    "ALTER TABLE clock_digests ADD COLUMN valid_until INTEGER;\n"
    "DROP TRIGGER digests_plan_update;\n"
    "CREATE TRIGGER digests_plan_update AFTER UPDATE OF digest ON clock_digests "
    "WHEN NEW.digest IS NOT OLD.digest BEGIN\n"
    PLAN_QUEUE_CHILDREN("SELECT NEW.child_id")
    "END;\n"
    /* The owed index (first.c) is an index of clock_rows now. */
    "UPDATE meta SET value = 'CREATE INDEX clocks_by_status ON clock_rows(status, due_day, child_id, rule, seq, start_day, met_day, left_care_day, reason, title, source)' "
    "WHERE key = 'owed_index:clocks_by_status';\n";

/* Migration 10: decisions about a clock (issue 17; docs/engine.md,
 * "Decisions"; docs/schema.md, "decisions").
 *  - decisions: one row per decision (extend, except, ack, inform,
 *    withdraw), naming its clock by identity (child, rule, instance), with
 *    who took it and in which capacity, the day, when it was recorded, why,
 *    and from which interface. Rows are only added: a BEFORE UPDATE trigger
 *    refuses changes; a decision is undone by a withdraw row naming it.
 *    A new row queues the child for recomputation (changes) and planning
 *    (plan_queue: an acknowledgement changes no clock row).
 *  - clock_rows.agreed_day (the clocks view's agreed_due): the agreed date
 *    of the extension in force, which the planner, feeds and report read
 *    with the row (NULL: none). The view and its triggers are made again
 *    with the column.
 *  - Two statuses, at_risk and excepted: the stored codes stay in the
 *    listing's order of urgency (overdue, data_error, at_risk, due_soon,
 *    open, met_late, met, cancelled, excepted), so the codes from due_soon
 *    on move up one, and clocks_by_status is made again (covering
 *    agreed_day too: the listing reads it).
 *  - event_counts: how many events of each type each source has recorded,
 *    kept by triggers for every writer, so that the timeliness report can
 *    say "no data recorded" for a clock whose meeting events no source has
 *    ever recorded (the SSDA903 return carries no care plan, PEP or visit
 *    dates) without counting the events table. */
/* The stored status codes from migration 10 on (clocks.c's STATUS_CODE). */
#define STATUS_CODE_10(x)                                                                                         \
    "CASE " x " WHEN 'overdue' THEN 0 WHEN 'data_error' THEN 1 WHEN 'at_risk' THEN 2 WHEN 'due_soon' THEN 3 "      \
    "WHEN 'open' THEN 4 WHEN 'met_late' THEN 5 WHEN 'met' THEN 6 WHEN 'cancelled' THEN 7 WHEN 'excepted' THEN 8 END"
#define STATUS_NAME_10(x)                                                                                         \
    "CASE " x " WHEN 0 THEN 'overdue' WHEN 1 THEN 'data_error' WHEN 2 THEN 'at_risk' WHEN 3 THEN 'due_soon' "      \
    "WHEN 4 THEN 'open' WHEN 5 THEN 'met_late' WHEN 6 THEN 'met' WHEN 7 THEN 'cancelled' WHEN 8 THEN 'excepted' END"
#define CLOCKS_BY_STATUS_10                                                                                        \
    "status, due_day, child_id, rule, seq, start_day, met_day, left_care_day, reason, title, source, agreed_day"
/* A write to the view, as the row its triggers convert. */
#define NEW_ROW_10                                                                                                \
    "(SELECT NEW.child_id AS child_id, NEW.instance AS instance, NEW.seq AS seq, NEW.status AS status, "           \
    "NEW.start_date AS start_date, NEW.due_date AS due_date, NEW.met_on AS met_date, "                             \
    "NEW.start_event_id AS start_event_id, NEW.met_event_id AS met_event_id, NEW.flags AS flags, "                \
    "NEW.reason AS reason, NEW.left_care_on AS left_care_on, NEW.updated_at AS updated_at, "                       \
    "NEW.sequence AS sequence, NEW.title AS title, NEW.source AS source, NEW.agreed_due AS agreed_due) n"
static const char MIGRATION_10[] =
    "CREATE TABLE decisions (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  child_id TEXT NOT NULL,\n"
    "  rule_id TEXT NOT NULL,\n"
    "  instance TEXT NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('extend','except','ack','inform','withdraw')),\n"
    "  agreed_due TEXT,\n"
    "  until TEXT,\n"
    "  reason_code TEXT,\n"
    "  party TEXT,\n"
    "  reason TEXT,\n"
    "  withdraws INTEGER REFERENCES decisions(id),\n"
    "  by_staff TEXT NOT NULL,\n"
    "  by_role TEXT NOT NULL,\n"
    "  decided_on TEXT NOT NULL,\n"
    "  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),\n"
    "  via TEXT NOT NULL,\n"
    "  actor TEXT\n"
    ");\n"
    "CREATE INDEX decisions_by_clock ON decisions(child_id, rule_id, instance);\n"
    "CREATE INDEX decisions_by_withdrawn ON decisions(withdraws) WHERE withdraws IS NOT NULL;\n"
    "CREATE TRIGGER decisions_only_added BEFORE UPDATE ON decisions BEGIN\n"
    "  SELECT RAISE(ABORT, 'decisions are only added: withdraw one with a new decision');\n"
    "END;\n"
    "CREATE TRIGGER decisions_queue_insert AFTER INSERT ON decisions BEGIN\n"
    "  INSERT INTO changes(child_id) VALUES (NEW.child_id);\n"
    PLAN_QUEUE_CHILDREN("SELECT NEW.child_id")
    "END;\n"
    "CREATE TABLE event_counts (\n"
    "  type TEXT NOT NULL,\n"
    "  source TEXT NOT NULL,\n"
    "  n INTEGER NOT NULL,\n"
    "  PRIMARY KEY (type, source)\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO event_counts (type, source, n) SELECT type, source, count(*) FROM events GROUP BY type, source;\n"
    "CREATE TRIGGER events_count_insert AFTER INSERT ON events BEGIN\n"
    "  INSERT INTO event_counts (type, source, n) VALUES (NEW.type, NEW.source, 1)\n"
    "    ON CONFLICT (type, source) DO UPDATE SET n = n + 1;\n"
    "END;\n"
    "CREATE TRIGGER events_count_delete AFTER DELETE ON events BEGIN\n"
    "  UPDATE event_counts SET n = n - 1 WHERE type = OLD.type AND source = OLD.source;\n"
    "END;\n"
    "CREATE TRIGGER events_count_update AFTER UPDATE OF type, source ON events\n"
    "WHEN OLD.type IS NOT NEW.type OR OLD.source IS NOT NEW.source BEGIN\n"
    "  UPDATE event_counts SET n = n - 1 WHERE type = OLD.type AND source = OLD.source;\n"
    "  INSERT INTO event_counts (type, source, n) VALUES (NEW.type, NEW.source, 1)\n"
    "    ON CONFLICT (type, source) DO UPDATE SET n = n + 1;\n"
    "END;\n"
    "DROP INDEX IF EXISTS clocks_by_status;\n"
    "ALTER TABLE clock_rows ADD COLUMN agreed_day INTEGER;\n"
    "UPDATE clock_rows SET status = status + 1 WHERE status >= 2;\n"
    "CREATE INDEX clocks_by_status ON clock_rows(" CLOCKS_BY_STATUS_10 ");\n"
    "UPDATE meta SET value = 'CREATE INDEX clocks_by_status ON clock_rows(" CLOCKS_BY_STATUS_10 ")' "
    "WHERE key = 'owed_index:clocks_by_status';\n"
    "DROP VIEW clocks;\n"
    "CREATE VIEW clocks AS SELECT c.child_id AS child_id, r.rule_id AS rule_id, c.seq AS seq, "
    "coalesce(c.title, r.title) AS title, " DATE_OF("c.start_day") " AS start_date, "
    DATE_OF("c.due_day") " AS due_date, " STATUS_NAME_10("c.status") " AS status, " DATE_OF("c.met_day")
    " AS met_on, c.start_event_id AS start_event_id, c.met_event_id AS met_event_id, c.reason AS reason, "
    "c.flags AS flags, CASE WHEN c.source IS NULL THEN r.source ELSE nullif(c.source, '') END AS source, "
    "strftime('%Y-%m-%dT%H:%M:%SZ', c.updated, 'unixepoch') AS updated_at, c.sequence AS sequence, "
    "c.instance AS instance, " DATE_OF("c.left_care_day") " AS left_care_on, " DATE_OF("c.agreed_day")
    " AS agreed_due FROM clock_rows c JOIN clock_rules r ON r.code = c.rule;\n"
    "CREATE TRIGGER clocks_insert INSTEAD OF INSERT ON clocks BEGIN\n"
    "  INSERT OR IGNORE INTO clock_rules (rule_id, title, source) VALUES (NEW.rule_id, NEW.title, NEW.source);\n"
    "  INSERT INTO clock_rows (" ROW_COLUMNS ", agreed_day) SELECT " ROW_VALUES_WITH("n", STATUS_CODE_10) ", "
    DAY_OF("n.agreed_due") " FROM " NEW_ROW_10 " JOIN clock_rules r ON r.rule_id = NEW.rule_id;\n"
    "END;\n"
    "CREATE TRIGGER clocks_update INSTEAD OF UPDATE ON clocks BEGIN\n"
    "  INSERT OR IGNORE INTO clock_rules (rule_id, title, source) VALUES (NEW.rule_id, NEW.title, NEW.source);\n"
    "  DELETE FROM clock_rows WHERE child_id = OLD.child_id AND instance = OLD.instance AND "
    "rule = (SELECT code FROM clock_rules WHERE rule_id = OLD.rule_id);\n"
    "  INSERT INTO clock_rows (" ROW_COLUMNS ", agreed_day) SELECT " ROW_VALUES_WITH("n", STATUS_CODE_10) ", "
    DAY_OF("n.agreed_due") " FROM " NEW_ROW_10 " JOIN clock_rules r ON r.rule_id = NEW.rule_id;\n"
    "END;\n"
    "CREATE TRIGGER clocks_delete INSTEAD OF DELETE ON clocks BEGIN\n"
    "  DELETE FROM clock_rows WHERE child_id = OLD.child_id AND instance = OLD.instance AND "
    "rule = (SELECT code FROM clock_rules WHERE rule_id = OLD.rule_id);\n"
    "END;\n"
    /* Every child is evaluated once more (the digests' windows are
     * forgotten) and its rows compared: their at_risk statuses and agreed
     * dates (none yet). */
    "UPDATE clock_digests SET valid_from = NULL, valid_until = NULL;\n"
    "DELETE FROM meta WHERE key = 'clocks_as_of';\n";

/* MIGRATIONS[v] takes a database from version v-1 to v. */
static const char *const MIGRATIONS[] = {NULL,        MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4,
                                         MIGRATION_5, MIGRATION_6, MIGRATION_7, MIGRATION_8, MIGRATION_9,
                                         MIGRATION_10};

_Static_assert(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0]) == CC_STORE_SCHEMA_VERSION + 1,
               "one migration per schema version: add MIGRATION_N and raise CC_STORE_SCHEMA_VERSION together");

_Static_assert(CC_STORE_APPLICATION_ID == 1128483915, "MIGRATION_1 spells out CC_STORE_APPLICATION_ID");

int cc__schema_check(cc_store_t *s, const char *path, int *version, char *err, size_t errlen)
{
    sqlite3 *db = cc_store_db(s);
    int64_t user_version = 0, app_id = 0, objects = 0;
    if (cc__store_pragma_int(db, "PRAGMA user_version", &user_version) != 0 ||
        cc__store_pragma_int(db, "PRAGMA application_id", &app_id) != 0 ||
        cc__store_pragma_int(db, "SELECT count(*) FROM sqlite_schema", &objects) != 0) {
        cc_set_err(err, errlen, "%s: %s", path, cc_store_errmsg(s, NULL));
        return CC_EDB;
    }
    *version = (int)user_version;
    if ((app_id != 0 && app_id != CC_STORE_APPLICATION_ID) || (user_version == 0 && objects > 0)) {
        cc_set_err(err, errlen, "%s is an SQLite database but not a careclock one; refusing to touch it", path);
        return CC_EDB;
    }
    if (user_version > CC_STORE_SCHEMA_VERSION) {
        cc_set_err(err, errlen,
                "%s has schema version %d, newer than this careclock understands (%d); upgrade careclock", path,
                (int)user_version, CC_STORE_SCHEMA_VERSION);
        return CC_ESTATE;
    }
    return 0;
}

int cc__schema_migrate(cc_store_t *s, const char *path, int from_version, int *to_version, char *err,
                       size_t errlen)
{
    sqlite3 *db = cc_store_db(s);
    int64_t version = 0;
    assert(from_version >= 0 && from_version <= CC_STORE_SCHEMA_VERSION);
    assert(!cc__store_in_transaction(s));
    for (int v = from_version + 1; v <= CC_STORE_SCHEMA_VERSION; v++) {
        char sql[64];
        if (cc__store_exec(s, "BEGIN IMMEDIATE") != 0)
            goto fail;
        /* Another process may have migrated while we waited for the lock. */
        if (cc__store_pragma_int(db, "PRAGMA user_version", &version) != 0)
            goto fail;
        if (version >= v) {
            if (cc__store_exec(s, "COMMIT") != 0)
                goto fail;
            continue;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
        if (cc__store_exec(s, MIGRATIONS[v]) != 0 || cc__store_exec(s, sql) != 0 || cc__store_exec(s, "COMMIT") != 0)
            goto fail;
    }
    if (cc__store_pragma_int(db, "PRAGMA user_version", &version) != 0)
        goto fail;
    *to_version = (int)version;
    return 0;
fail:
    cc_set_err(err, errlen, "%s: migrating the schema to version %d failed: %s", path, CC_STORE_SCHEMA_VERSION,
            cc_store_errmsg(s, NULL));
    if (cc__store_in_transaction(s))
        cc__store_exec(s, "ROLLBACK");
    return CC_EDB;
}

int cc__schema_backup(cc_store_t *s, const char *path, int from_version, char **backup_path, char *err,
                      size_t errlen)
{
    char dir[PATH_MAX], prefix[PATH_MAX], dest[PATH_MAX + 64], why[512], suffix[32];
    struct stat st;
    assert(s != NULL && path != NULL && backup_path != NULL);
    *backup_path = NULL;
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1, slash ? path : ".");
    snprintf(prefix, sizeof(prefix), "%s.pre-migration-", slash ? slash + 1 : path);
    snprintf(suffix, sizeof(suffix), "-v%d", from_version);
    cc_backup_name(dir, prefix, suffix, (long long)time(NULL), dest, sizeof(dest));
    int rc = cc_backup_connection(cc_store_db(s), dest, NULL, why, sizeof(why));
    if (rc == CC_EEXIST && lstat(dest, &st) == 0 && S_ISREG(st.st_mode))
        rc = 0; /* two opens in one second: the copy of this moment is there */
    if (rc != 0) {
        cc_set_err(err, errlen,
                   "%s: not migrating the schema from version %d to %d without a backup, and the backup failed: "
                   "%s (free space or fix the directory's permissions; nothing was changed)",
                   path, from_version, CC_STORE_SCHEMA_VERSION, why);
        return rc;
    }
    if ((*backup_path = strdup(dest)) == NULL) {
        cc_set_err(err, errlen, "out of memory");
        return CC_ENOMEM;
    }
    cc_backup_rotate(dir, prefix, "", CC_STORE_MIGRATION_BACKUPS, NULL, why, sizeof(why));
    return 0;
}
