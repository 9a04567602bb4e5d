"""Compact clocks (issue 22, migration 9) lose nothing: a council's clocks
listed (CSV, JSON and the table) and explained the same before and after the
migration, every column of every row the same through the clocks view, with
a row edited by hand (its own title, a source taken away) kept as it was.

The council is bench/gen_plan.py's (80 generated children, seed 903: every
default rule, met, late, open, overdue and cancelled clocks). It is
evaluated by this careclock, then turned back into a file of schema 8 (the
clocks table as migration 8 left it, filled from the view, every column;
clock_digests without its windows), and opened again, which migrates it."""
import json
import os
import sqlite3
import subprocess
import tempfile
import unittest

from schema_v8 import CURRENT, V8_COLUMNS, to_schema_8

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"))
BIN = os.path.join(BUILD, "careclock")
TODAY = "2026-11-20"

def cli(db, *args):
    r = subprocess.run([BIN, "--db", db, "--today", TODAY] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("careclock %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def rows(db):
    con = sqlite3.connect(db)
    try:
        # The columns a schema 8 file has (the view adds agreed_due since 10).
        return con.execute("SELECT " + V8_COLUMNS + " FROM clocks ORDER BY child_id, rule_id, instance").fetchall()
    finally:
        con.close()


class CompactClocksTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "plan.db")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "gen_plan.py"), "--cli", BIN, "--db", self.db,
                        "--children", "80", "--seed", "903", "--today", TODAY], check=True, capture_output=True)

    def tearDown(self):
        self.tmp.cleanup()

    def listings(self, db):
        return {fmt: cli(db, "clocks", "--cached", "--format", fmt) for fmt in ("csv", "json", "table")}

    def test_migration_9_loses_nothing(self):
        # Rows a schema 8 careclock could have written: no meeting booked, so
        # no clock is at_risk (issue 17's status, schema 10, from a booking
        # after the due date: the rules' scheduled_by).
        con = sqlite3.connect(self.db)
        con.execute("DELETE FROM events WHERE type IN ('review_scheduled', 'court_filing_scheduled')")
        con.commit()
        con.close()
        cli(self.db, "clocks", "--format", "csv")  # the first computation
        con = sqlite3.connect(self.db)
        # A row edited by hand keeps its own title, and a source taken away.
        con.execute("UPDATE clocks SET title = 'Edited, by hand' WHERE rowid IN (SELECT rowid FROM clocks LIMIT 0) "
                    "OR (child_id, rule_id, instance) IN (SELECT child_id, rule_id, instance FROM clocks "
                    "WHERE rule_id = 'review' ORDER BY child_id LIMIT 1)")
        con.execute("UPDATE clocks SET source = NULL WHERE (child_id, rule_id, instance) IN (SELECT child_id, "
                    "rule_id, instance FROM clocks WHERE rule_id = 'visit' ORDER BY child_id LIMIT 1)")
        con.commit()
        con.close()
        before = rows(self.db)
        self.assertGreater(len(before), 2000)
        self.assertEqual(sum(1 for r in before if r[3] == "Edited, by hand"), 1)
        self.assertEqual(sum(1 for r in before if r[1] == "visit" and r[12] is None), 1)
        statuses = {r[6] for r in before}
        self.assertTrue({"open", "overdue", "met", "met_late"} <= statuses, statuses)
        self.assertFalse({"at_risk", "excepted"} & statuses, statuses)
        listed = self.listings(self.db)
        ids = [(r[0], r[1], r[15]) for r in before[::23]]
        explained = {k: cli(self.db, "explain", *k) for k in ids}

        # Back to schema 8: the clocks table, every column as the view gives it.
        con = sqlite3.connect(self.db)
        to_schema_8(con)
        self.assertEqual(con.execute("SELECT type FROM sqlite_schema WHERE name = 'clocks'").fetchone()[0], "table")
        con.close()
        self.assertEqual(rows(self.db), before)

        # Opened by this careclock: migrated, then listed and explained.
        after_listed = self.listings(self.db)
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], CURRENT)
        self.assertEqual(con.execute("SELECT type FROM sqlite_schema WHERE name = 'clocks'").fetchone()[0], "view")
        # Titles and sources once per rule; only the edited row has its own.
        self.assertEqual(con.execute("SELECT count(*) FROM clock_rows WHERE title IS NOT NULL OR source IS NOT NULL"
                                     ).fetchone()[0], 2)
        con.close()
        self.assertEqual(rows(self.db), before)
        for fmt in ("csv", "json", "table"):
            self.assertEqual(after_listed[fmt], listed[fmt], fmt)
        self.assertEqual(len(json.loads(after_listed["json"])), len(before))
        for k in ids:
            self.assertEqual(cli(self.db, "explain", *k), explained[k], k)
        # And the next recompute rewrites nothing: the digests written before
        # the migration still match the rows (an upgrade does not rewrite a
        # council's clocks), so even the rows edited by hand stay as they are.
        cli(self.db, "clocks", "--format", "csv")
        self.assertEqual(rows(self.db), before)


if __name__ == "__main__":
    unittest.main()
