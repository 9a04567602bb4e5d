"""Helpers for careclock's fault tests (tests/faults, `make faults`): a plan
database of many children written with SQL (as a council's integration
writes it), the clocks table as comparable rows, SQLite's own integrity
check, a from-scratch recompute of a copy with the real CLI, and FaultTest,
the test case whose set-up never leaves a process behind.

The fault tests drive the real careclockd (tests/integration/daemon_harness.py),
real SQLite files, and the real SMTP and webhook sinks of the integration tests
(mailsink.py, hooksink.py). Everything listens on 127.0.0.1 and stops by itself."""
import datetime
import os
import random
import shutil
import sqlite3
import subprocess
import unittest

from daemon_harness import CLI



class FaultTest(unittest.TestCase):
    """A test case set up by _set_up(). Whatever _set_up started (daemons,
    sinks) is stopped by tearDown even if it fails half-way: unittest runs
    tearDown only after a setUp that succeeded."""

    def setUp(self):
        try:
            self._set_up()
        except BaseException:
            self.tearDown()
            raise

    def _set_up(self):
        raise NotImplementedError("a FaultTest sets itself up in _set_up")


def add_children(db, n, start="2024-01-08", seed=9, team="T1", worker="W1"):
    """n children with a period of care each, a placement, reviews, visits
    and a few closed episodes, in one transaction. Returns the ids."""
    rng = random.Random(seed)
    base = datetime.date.fromisoformat(start)
    children, events = [], []
    for k in range(n):
        cid = "F%06d" % k
        dob = datetime.date(2008 + k % 15, 1 + k % 12, 1 + k % 28)
        children.append((cid, "X.Y.", dob.isoformat(), team, worker))
        s = base + datetime.timedelta(days=rng.randrange(0, 900))
        events.append((cid, "looked_after_start", s.isoformat(), "{}"))
        events.append((cid, "placement_start", s.isoformat(), '{"emergency":"yes"}' if k % 3 == 0 else "{}"))
        if k % 5:
            events.append((cid, "care_plan_completed", (s + datetime.timedelta(days=4 + k % 10)).isoformat(), "{}"))
        r = s + datetime.timedelta(days=25 + k % 9)
        for _ in range(k % 4):
            events.append((cid, "review_held", r.isoformat(), "{}"))
            r += datetime.timedelta(days=100 + k % 40)
        if k % 2:
            events.append((cid, "visit", (s + datetime.timedelta(days=6)).isoformat(), "{}"))
        if k % 13 == 0:
            events.append((cid, "looked_after_end", (s + datetime.timedelta(days=300)).isoformat(), "{}"))
    con = sqlite3.connect(db, timeout=30)
    with con:
        con.executemany("INSERT INTO children (id, initials, dob, team_id, worker_id) VALUES (?, ?, ?, ?, ?)",
                        children)
        con.executemany("INSERT INTO events (child_id, type, date, attributes, source) VALUES (?, ?, ?, ?, 'faults')",
                        events)
    con.close()
    return [c[0] for c in children]


CLOCK_COLUMNS = ("child_id, rule_id, seq, title, start_date, due_date, status, met_on, start_event_id, "
                 "met_event_id, reason, flags, source")


def clocks(db):
    """The clocks table as sorted rows, without when each row was written."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return con.execute("SELECT %s FROM clocks ORDER BY 1, 2, 3" % CLOCK_COLUMNS).fetchall()
    finally:
        con.close()


def first_computation_state(db):
    """(clock rows committed, indexes noted as owed in meta): how far a first
    computation, which commits as it goes, has got."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        rows = con.execute("SELECT count(*) FROM clocks").fetchone()[0]
        owed = con.execute("SELECT count(*) FROM meta WHERE key LIKE 'owed_index:%'").fetchone()[0]
        return rows, owed
    finally:
        con.close()


def integrity(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()


def copy_db(db, dest):
    """A consistent copy (SQLite's backup API: the WAL's committed pages
    included), for a from-scratch recompute."""
    src = sqlite3.connect(db, timeout=30)
    dst = sqlite3.connect(dest)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return dest


def from_scratch(db, today, workdir):
    """The clocks a fresh `careclock clocks` computes for today on a copy
    of db whose clocks table and digests are emptied first."""
    copy = copy_db(db, os.path.join(workdir, "scratch-%s.db" % today))
    con = sqlite3.connect(copy)
    with con:
        con.execute("DELETE FROM clocks")
        for table in ("clock_digests", "changes"):
            try:
                con.execute("DELETE FROM %s" % table)
            except sqlite3.OperationalError:
                pass
        # Without these the CLI recomputes every child from nothing.
        con.execute("DELETE FROM meta WHERE key IN ('clocks_as_of', 'rules_fingerprint')")
    con.close()
    p = subprocess.run([CLI, "--db", copy, "--today", today, "clocks", "--format", "csv"], capture_output=True,
                       text=True)
    if p.returncode not in (0, 3):
        raise AssertionError("careclock clocks on the copy: %s" % p.stderr)
    rows = clocks(copy)
    os.unlink(copy)
    return rows


def count(db, sql, params=()):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def lines_with(lines, *needles):
    return [l for l in lines if all(n in l for n in needles)]


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
