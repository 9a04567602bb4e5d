"""Fault: another process holds the plan database's write lock (BEGIN
IMMEDIATE) for 10 seconds, as a council's integration might during a long
import, just after committing a change careclockd must process.

careclockd's connection waits up to its busy timeout (5 s) for the lock,
then the recompute fails, is logged as a warning saying it will retry, and
is retried on the next poll; once the lock is released the change is
processed and its clock appears. The daemon stays up throughout and the
feed server answers (late, while the loop waits on the lock)."""
import signal
import sqlite3
import time
import unittest
import urllib.request

import faultlib
from daemon_harness import Council, Daemon, wait_until

NOW = "2026-11-30T10:00:00"
HOLD = 10.0


class WriteLockHeld(unittest.TestCase):
    def setUp(self):
        self.council = Council()
        self.council.cli("child", "add", "C1", "--dob", "2012-04-01", "--team", "T1", "--worker", "W1")
        self.council.cli("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.stop(signal.SIGKILL)
        self.council.cleanup()

    def care_plan_clocks(self):
        return faultlib.count(self.council.db, "SELECT count(*) FROM clocks WHERE child_id = 'C1' AND "
                                               "rule_id = 'care_plan'")

    def test_lock_held_10s_daemon_waits_logs_retries_and_carries_on(self):
        d = self.daemon = Daemon(self.council, now=NOW)
        self.assertTrue(d.wait_notify("READY=1"), "\n".join(d.stderr_lines))
        self.assertEqual(self.care_plan_clocks(), 0)
        # Freeze the daemon so that it cannot process the commit before the
        # lock is taken: the order is then certain, not a race.
        d.proc.send_signal(signal.SIGSTOP)
        con = sqlite3.connect(self.council.db, isolation_level=None, timeout=30)
        con.execute("INSERT INTO events (child_id, type, date, source) VALUES ('C1', 'placement_start', "
                    "'2026-11-02', 'integration')")
        con.execute("BEGIN IMMEDIATE")
        locked_at = time.monotonic()
        d.proc.send_signal(signal.SIGCONT)
        # A well-behaved client while the lock is held: answered, if late.
        t0 = time.monotonic()
        with urllib.request.urlopen(d.url("/healthz"), timeout=30) as r:
            self.assertEqual(r.status, 200)
        healthz_wait = time.monotonic() - t0
        time.sleep(max(0.0, HOLD - (time.monotonic() - locked_at)))
        self.assertEqual(self.care_plan_clocks(), 0, "a clock was written while the lock was held")
        con.execute("ROLLBACK")
        released_at = time.monotonic()
        con.close()
        self.assertTrue(wait_until(lambda: self.care_plan_clocks() == 1, timeout=15), "\n".join(d.stderr_lines))
        caught_up = time.monotonic() - released_at
        failures = faultlib.lines_with(d.stderr_lines, "recompute failed after", "database is locked", "will retry")
        self.assertTrue(failures, "\n".join(d.stderr_lines))
        for line in failures:
            self.assertTrue(line.startswith("<4>"), line)  # a warning: it is retried, nothing is lost
        self.assertIsNone(d.proc.poll(), "the daemon died")
        with urllib.request.urlopen(d.url("/healthz"), timeout=10) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(d.stop(), 0)
        print("\nlock held %.1f s: %d failed recomputes logged, healthz answered in %.2f s during the lock, "
              "clock written %.2f s after the release" % (HOLD, len(failures), healthz_wait, caught_up))
        for line in failures:
            print("  " + line)


if __name__ == "__main__":
    unittest.main()
