"""careclockd against a real database, driven by the real CLI as another
process: readiness on a NOTIFY_SOCKET the test owns, commits by others
followed, statuses moving with the calendar, reload, and a clean stop."""
import json
import os
import signal
import sqlite3
import subprocess
import unittest

from daemon_harness import CLI, DAEMON, ROOT, Council, Daemon, wait_until


def cached(council, child="C1"):
    p = council.cli("clocks", "--cached", "--child", child, "--format", "json")
    return {(c["clock"], c["seq"]): c for c in json.loads(p.stdout)}


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.council = Council()
        self.council.cli("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1")
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop(signal.SIGKILL)
        self.council.cleanup()

    def start(self, **kw):
        d = Daemon(self.council, **kw)
        self.daemons.append(d)
        self.assertTrue(d.wait_notify("READY=1"), "no READY=1; log:\n" + "\n".join(d.stderr_lines))
        return d

    def test_ready_arrives_on_the_notify_socket_with_status(self):
        d = self.start(now="2026-11-10T09:00:00")
        self.assertTrue(any("READY=1" in m and "STATUS=" in m for m in d.messages), d.messages)
        self.assertTrue(d.wait_log("<6>ready:"))
        self.assertEqual(d.stop(), 0)
        self.assertTrue(any("STOPPING=1" in m for m in d.messages), d.messages)

    def test_commits_by_another_process_reach_the_clocks_table(self):
        self.start(now="2026-11-10T09:00:00")
        self.council.cli("event", "add", "C1", "looked_after_start", "2026-11-02", today="2026-11-10")
        self.council.cli("event", "add", "C1", "placement_start", "2026-11-02", today="2026-11-10")
        # --cached reads the table as the daemon wrote it: no recompute by the CLI.
        clocks = wait_until(lambda: cached(self.council).get(("care_plan", 1)))
        self.assertIsNotNone(clocks, "the daemon did not write the care plan clock")
        table = cached(self.council)
        self.assertEqual(table[("care_plan", 1)]["due"], "2026-11-16")
        self.assertEqual(table[("care_plan", 1)]["status"], "due_soon")
        self.assertEqual(table[("pep", 1)]["status"], "overdue")
        # A raw SQL write, as the council's integration would make it.
        con = sqlite3.connect(self.council.db)
        with con:
            con.execute("INSERT INTO events (child_id, type, date, source) VALUES "
                        "('C1', 'care_plan_completed', '2026-11-09', 'lcs')")
        con.close()
        self.assertTrue(wait_until(lambda: cached(self.council)[("care_plan", 1)]["status"] == "met"))

    def test_statuses_move_at_midnight_with_no_event(self):
        self.council.cli("event", "add", "C1", "looked_after_start", "2026-11-02", today="2026-11-10")
        self.council.cli("event", "add", "C1", "placement_start", "2026-11-02", today="2026-11-10")
        # Care plan due Mon 16 Nov: due soon that day, overdue from Tuesday.
        d = self.start(now="2026-11-16T23:59:57")
        self.assertEqual(cached(self.council)[("care_plan", 1)]["status"], "due_soon")
        self.assertTrue(wait_until(lambda: cached(self.council)[("care_plan", 1)]["status"] == "overdue",
                                   timeout=30), "\n".join(d.stderr_lines))
        self.assertTrue(d.wait_log("the day is now 2026-11-17"))

    def test_sighup_with_a_broken_configuration_keeps_the_old_one(self):
        good = "[careclock]\nprivacy = initials\n"
        conf = self.council.write_config(good)
        d = self.start(config=conf, now="2026-11-10T09:00:00")
        self.council.write_config("[careclock]\nprivacy = everything\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("reload refused"))
        self.assertTrue(any("careclock.conf:2: privacy" in l for l in d.stderr_lines), d.stderr_lines)
        self.assertIsNone(d.proc.poll())
        # Still working: a new event is followed.
        self.council.cli("event", "add", "C1", "looked_after_start", "2026-11-02", today="2026-11-10")
        self.assertTrue(wait_until(lambda: ("review", 1) in cached(self.council)))
        self.assertEqual(d.stop(), 0)

    def test_sighup_reload_applies_new_rules(self):
        england = os.path.join(ROOT, "config", "rules", "england.rules")
        override = self.council.write_config("[care_plan]\ndue = +5wd\n", "council.rules")
        conf = self.council.write_config("[careclock]\nrules = %s\n" % os.path.abspath(england))
        self.council.cli("event", "add", "C1", "looked_after_start", "2026-11-02", today="2026-11-10")
        self.council.cli("event", "add", "C1", "placement_start", "2026-11-02", today="2026-11-10")
        d = self.start(config=conf, now="2026-11-10T09:00:00")
        self.assertEqual(cached(self.council)[("care_plan", 1)]["due"], "2026-11-16")
        self.council.write_config("[careclock]\nrules = %s, %s\n" % (os.path.abspath(england), override))
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: cached(self.council)[("care_plan", 1)]["due"] == "2026-11-09"))
        self.assertTrue(d.wait_notify("RELOADING=1"))

    def test_sigterm_and_sigint_exit_zero(self):
        d = self.start(now="2026-11-10T09:00:00")
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertTrue(any("stopped cleanly" in l for l in d.stderr_lines))
        d2 = self.start(now="2026-11-10T09:00:00")
        self.assertEqual(d2.stop(signal.SIGINT), 0)

    def test_watchdog_pings_when_asked(self):
        d = self.start(now="2026-11-10T09:00:00", env={"WATCHDOG_USEC": "400000"})
        self.assertTrue(d.wait_notify("WATCHDOG=1", timeout=10), d.messages)

    def test_logs_carry_references_not_names(self):
        self.council.cli("child", "add", "C2", "--dob", "2014-01-01", "--team", "T1", "--worker", "W1",
                         "--name", "Zebedee Quantock")
        d = self.start(now="2026-11-10T09:00:00")
        self.council.cli("event", "add", "C2", "looked_after_start", "2026-11-02", today="2026-11-10")
        self.assertTrue(wait_until(lambda: ("review", 1) in cached(self.council, "C2")))
        d.stop()
        self.assertFalse(any("Zebedee" in l or "Quantock" in l for l in d.stderr_lines))

    def test_every_log_line_has_a_priority_prefix(self):
        d = self.start(now="2026-11-10T09:00:00")
        d.stop()
        self.assertTrue(d.stderr_lines)
        for line in d.stderr_lines:
            self.assertRegex(line, r"^<[0-7]>")


class CheckConfig(unittest.TestCase):
    def test_valid_and_invalid(self):
        council = Council()
        try:
            good = council.write_config("[careclock]\ndivision = scotland\n[notify]\nwindow = 09:00-17:00\n")
            # The database and the address the service would use: the
            # pre-flight check looks at both.
            p = subprocess.run([DAEMON, "--check-config", "--config", good, "--db", council.db,
                                "--listen", "127.0.0.1:0"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("is valid", p.stdout)
            bad = council.write_config("[careclock]\n\n[notify]\nwindow = 18:00-08:00\n", "bad.conf")
            p = subprocess.run([DAEMON, "--check-config", "--config", bad], capture_output=True, text=True)
            self.assertEqual(p.returncode, 2)
            self.assertIn("bad.conf:4: window", p.stderr)
            secret = council.write_config("[smtp]\npassword = hunter2\n", "secret.conf")
            p = subprocess.run([DAEMON, "--check-config", "--config", secret], capture_output=True, text=True)
            self.assertEqual(p.returncode, 2)
            self.assertIn("password_file", p.stderr)
            self.assertNotIn("hunter2", p.stderr)
        finally:
            council.cleanup()

    def test_bad_now_is_refused(self):
        p = subprocess.run([DAEMON, "--now", "2026-02-30T09:00:00"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("2026-02-30T09:00:00", p.stderr)


if __name__ == "__main__":
    unittest.main()
