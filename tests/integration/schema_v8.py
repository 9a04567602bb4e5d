"""A careclock database as schema 8 had it, made from one of today's (issue
17's migration 10 and issue 22's migration 9 undone): the clocks table as migration 8 left it, filled
with every row and column the clocks view gives, clock_rows and clock_rules
gone, clock_digests without its windows. Tests of older schemas start
here; tests/unit/fixture.h's UNDO_MIGRATION_9 does the same in C."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

with open(os.path.join(ROOT, "include", "careclock", "store.h")) as _f:
    # The schema version this build writes (CC_STORE_SCHEMA_VERSION).
    CURRENT = int(re.search(r"#define CC_STORE_SCHEMA_VERSION (\d+)", _f.read()).group(1))

CLOCKS_V8 = """CREATE TABLE clocks (child_id TEXT NOT NULL, rule_id TEXT NOT NULL, seq INTEGER NOT NULL,
  title TEXT NOT NULL, start_date TEXT, due_date TEXT, status TEXT NOT NULL, met_on TEXT, start_event_id INTEGER,
  met_event_id INTEGER, reason TEXT, flags INTEGER NOT NULL DEFAULT 0, source TEXT, updated_at TEXT NOT NULL,
  sequence INTEGER NOT NULL DEFAULT 0, instance TEXT NOT NULL, left_care_on TEXT,
  PRIMARY KEY (child_id, rule_id, instance)) WITHOUT ROWID;
CREATE INDEX clocks_by_status ON clocks(status, due_date);"""

# The clocks' columns in schema 8 (the view has these first, then
# agreed_due since schema 10).
V8_COLUMNS = ("child_id, rule_id, seq, title, start_date, due_date, status, met_on, start_event_id, met_event_id, "
              "reason, flags, source, updated_at, sequence, instance, left_care_on")

# Migration 10's objects (issue 17: decisions, event_counts); the view's
# agreed_due and the renumbered status codes go with clock_rows below.
UNDO_10 = """DROP TABLE decisions; DROP TRIGGER events_count_insert; DROP TRIGGER events_count_delete;
DROP TRIGGER events_count_update; DROP TABLE event_counts;
"""

UNDO_9 = UNDO_10 + """CREATE TEMP TABLE clocks_saved AS SELECT """ + V8_COLUMNS + """ FROM clocks;
DROP VIEW clocks; DROP TABLE clock_rows; DROP TABLE clock_rules;
DROP TRIGGER digests_plan_update;
ALTER TABLE clock_digests DROP COLUMN valid_from; ALTER TABLE clock_digests DROP COLUMN valid_until;
CREATE TRIGGER digests_plan_update AFTER UPDATE ON clock_digests BEGIN
  DELETE FROM plan_queue WHERE child_id IN (SELECT NEW.child_id);
  INSERT INTO plan_queue (child_id) SELECT NEW.child_id;
END;
""" + CLOCKS_V8 + """;
INSERT INTO clocks SELECT * FROM temp.clocks_saved; DROP TABLE temp.clocks_saved;
DELETE FROM meta WHERE key = 'evaluated_by';
PRAGMA user_version = 8;"""


def to_schema_8(con):
    """Undo migrations 10 and 9 on the open connection con, in one
    transaction."""
    con.executescript("BEGIN; " + UNDO_9 + " COMMIT;")
