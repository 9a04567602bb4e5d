"""Fault: errors that must say what happened (issue 19, item 6).

Before, "database error (not an error)" was logged where SQLite's message had
been cleared before anyone read it:

- the CLI while another process holds the write lock: a day's full
  recompute could not begin (SQLITE_BUSY, which SQLite's error log does not
  report, and the statements reset afterwards cleared it); the CLI now says
  "database is locked";
- careclockd's full recompute when the error was raised on its reader
  thread (the connection that reads every child and event while the loop's
  thread evaluates): the message stayed in that thread, and its code too,
  so a busy reader was taken for a hard failure and backed off from (1 s,
  2 s, 4 s ...) instead of retried each second. An index page of the
  events, corrupted on disk, fails the reader thread alone: the log now
  names "database disk image is malformed", and so does /healthz.

A reader thread that is busy could not be made here: its connection shares
its process's file locks with the connection holding the write transaction,
so another process cannot lock it out alone (docs/reliability.md says so).
The busy code travels by the path the corruption's does: the reader notes
its connection's code and message together, and careclockd decides on the
code."""
import os
import signal
import sqlite3
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import faultlib
from daemon_harness import CLI, Council, Daemon, wait_until

NOW = "2026-11-30T10:00:00"
TODAY = "2026-11-30"


class ErrorsSayWhatHappened(faultlib.FaultTest):
    def _set_up(self):
        self.daemon = None
        self.council = c = Council()
        faultlib.add_children(c.db, 3000)
        c.cli("clocks", today=TODAY)  # computed: careclockd's start is then a full recompute with a reader thread

    def tearDown(self):
        if getattr(self, "daemon", None):
            self.daemon.stop(signal.SIGKILL)
        if getattr(self, "council", None):
            self.council.cleanup()

    def test_the_cli_under_another_writers_lock_says_locked(self):
        con = sqlite3.connect(self.council.db, isolation_level=None, timeout=30)
        con.execute("BEGIN IMMEDIATE")
        try:
            # A new day: a full recompute, which must take the write lock (the CLI waits 5 s).
            p = subprocess.run([CLI, "--db", self.council.db, "--today", "2026-12-01", "clocks"], capture_output=True,
                               text=True)
        finally:
            con.execute("ROLLBACK")
            con.close()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("database is locked", p.stderr)
        self.assertNotIn("not an error", p.stderr)
        print("\nthe CLI with the lock held elsewhere: %s" % p.stderr.strip())

    def test_an_error_on_the_reader_thread_reaches_the_log(self):
        db = self.council.db
        con = sqlite3.connect(db)
        # Every child's stored clocks made unknown (issue 22: a full recompute
        # otherwise evaluates only the children whose window has passed, and
        # on the same day none has), so that careclockd's start reads every
        # child's events on the reader thread; then the WAL folded in.
        con.execute("UPDATE clock_digests SET valid_from = NULL, valid_until = NULL")
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # The last leaf of the index the reader scans (events_by_child, covering its query), in b-tree order:
        # the reader thread reaches it well after its first batch.
        page = con.execute("SELECT pageno FROM dbstat WHERE name = 'events_by_child' AND pagetype = 'leaf' "
                           "ORDER BY path DESC LIMIT 1").fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
        con.close()
        self.assertFalse(os.path.exists(db + "-wal") and os.path.getsize(db + "-wal") > 0)
        with open(db, "r+b") as f:
            f.seek((page - 1) * size)
            f.write(b"\xff" * size)
        self.daemon = d = Daemon(self.council, now=NOW)
        self.assertTrue(d.wait_log("recompute failed"), d.stderr_lines)
        failed = faultlib.lines_with(d.stderr_lines, "recompute failed")[0]
        self.assertIn("database disk image is malformed", failed)
        self.assertNotIn("not an error", "\n".join(d.stderr_lines))
        self.assertTrue(failed.startswith("<3>"), failed)
        self.assertTrue(d.wait_notify("READY=1"), d.stderr_lines)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(d.admin_url("/healthz"), timeout=10)
        health = caught.exception.read().decode()
        self.assertIn("malformed", health)
        print("\nan index page corrupted under the reader thread: %s\n/healthz: %s" % (failed, health.strip()))


if __name__ == "__main__":
    unittest.main()
