"""Integration tests for the administrative commands: `careclock init`,
`staff add`, `team add|set`, `child add|set`, `event add|list|delete`.

Each test gets its own temporary directory and database (--db). Every bad
input must exit 2 with a message naming the field and the value, and leave
the database exactly as it was: the tests compare a dump of every table
(through Python's sqlite3 module) before and after.
"""

import os
import pwd
import sqlite3
import stat
import subprocess
import tempfile
import unittest

from schema_v8 import CURRENT

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("CARECLOCK_BUILD", "build")
BINARY = os.path.join(REPO, BUILD, "careclock")
TODAY = "2026-11-10"


class AdminTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="careclock-admin-")
        self.dir = self._tmp.name
        self.db = os.path.join(self.dir, "plan.db")

    def tearDown(self):
        self._tmp.cleanup()

    def run_cc(self, *args, today=TODAY):
        """Run careclock with this test's database; (status, stdout, stderr)."""
        env = {k: v for k, v in os.environ.items() if k != "CARECLOCK_DB"}
        cmd = [BINARY, "--db", self.db]
        if today is not None:
            cmd += ["--today", today]
        proc = subprocess.run(
            cmd + list(args),
            cwd=self.dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=30,
        )
        return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")

    def ok(self, *args, **kw):
        rc, out, err = self.run_cc(*args, **kw)
        self.assertEqual(rc, 0, f"careclock {' '.join(args)} failed: {err}")
        return out

    def query(self, sql, params=()):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def execute(self, sql, params=()):
        con = sqlite3.connect(self.db)
        try:
            con.execute(sql, params)
            con.commit()
        finally:
            con.close()

    def dump(self):
        """Every row of every table, and the schema version."""
        con = sqlite3.connect(self.db)
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            result = {"user_version": con.execute("PRAGMA user_version").fetchone()[0]}
            for t in tables:
                result[t] = sorted(repr(row) for row in con.execute(f'SELECT * FROM "{t}"'))
            return result
        finally:
            con.close()

    def assert_refused(self, args, *phrases, status=2):
        """Exit `status`, nothing on stdout, every phrase on stderr, the database unchanged."""
        before = self.dump()
        rc, out, err = self.run_cc(*args)
        self.assertEqual(rc, status, f"exit status of {args} (stderr: {err!r})")
        self.assertEqual(out, "", f"stdout of {args}")
        for phrase in phrases:
            self.assertIn(phrase, err, f"stderr of {args}")
        self.assertEqual(self.dump(), before, f"{args} changed the database")
        return err

    def office(self):
        """init, a team manager, an IRO, two workers, team T1, child C1."""
        self.ok("init")
        self.ok("staff", "add", "M1", "--name", "Mina Manager", "--email", "m1@council.example", "--role", "team_manager")
        self.ok("staff", "add", "S1", "--name", "Sam Service", "--email", "s1@council.example", "--role", "service_manager")
        self.ok("staff", "add", "I1", "--name", "Ira Iro", "--email", "i1@council.example", "--role", "iro")
        self.ok("staff", "add", "W1", "--name", "Wes Worker", "--email", "w1@council.example", "--role", "worker",
                "--manager", "M1")
        self.ok("staff", "add", "W2", "--name", "Wren Worker", "--email", "w2@council.example", "--role", "worker")
        self.ok("team", "add", "T1", "--name", "Team One", "--manager", "M1", "--service-manager", "S1")
        self.ok("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1", "--iro", "I1",
                "--initials", "AB")


class InitTest(AdminTestCase):
    def test_init_creates_a_private_database_at_the_current_version(self):
        out = self.ok("init")
        self.assertIn("created", out)
        self.assertIn("schema version %d" % CURRENT, out)
        self.assertEqual(stat.S_IMODE(os.stat(self.db).st_mode), 0o600)
        self.assertEqual(self.query("PRAGMA user_version"), [(CURRENT,)])
        self.assertEqual(self.query("PRAGMA journal_mode"), [("wal",)])
        names = {r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in ("staff", "teams", "children", "events", "clock_rows", "clock_rules", "audit", "changes"):
            self.assertIn(table, names)
        # clocks is a view of clock_rows and clock_rules (docs/schema.md)
        self.assertEqual(self.query("SELECT type FROM sqlite_master WHERE name = 'clocks'"), [("view",)])

    def test_init_again_does_nothing(self):
        self.ok("init")
        before = self.dump()
        out = self.ok("init")
        self.assertIn("nothing to do", out)
        self.assertEqual(self.dump(), before)

    def test_init_refuses_a_newer_schema(self):
        self.ok("init")
        con = sqlite3.connect(self.db)
        con.execute("PRAGMA user_version = 99")
        con.commit()
        con.close()
        self.assert_refused(["init"], "schema version 99", "newer", status=1)

    def test_init_refuses_a_database_that_is_not_careclocks(self):
        con = sqlite3.connect(self.db)
        con.execute("CREATE TABLE payroll (id INTEGER)")
        con.commit()
        con.close()
        self.assert_refused(["init"], "not a careclock", status=1)

    def test_other_commands_do_not_create_a_database(self):
        cases = [
            ["staff", "add", "W1", "--name", "W", "--email", "w@x.example", "--role", "worker"],
            ["team", "add", "T1", "--name", "T", "--manager", "M1"],
            ["child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1"],
            ["event", "list", "C1"],
            ["event", "delete", "1"],
        ]
        for args in cases:
            rc, out, err = self.run_cc(*args)
            self.assertEqual(rc, 2, args)
            self.assertIn("create it with careclock init", err)
            self.assertIn(self.db, err)
            self.assertFalse(os.path.exists(self.db), args)


class StaffTest(AdminTestCase):
    def test_staff_add(self):
        self.office()
        rows = self.query("SELECT id, name, email, role, manager_id FROM staff WHERE id = 'W1'")
        self.assertEqual(rows, [("W1", "Wes Worker", "w1@council.example", "worker", "M1")])
        self.assertEqual(self.query("SELECT count(*) FROM staff"), [(5,)])

    def test_staff_add_refusals(self):
        self.office()
        base = ["staff", "add", "W9", "--name", "New", "--email", "n@council.example", "--role", "worker"]
        self.assert_refused(["staff", "add", "W1", "--name", "Again", "--email", "x@council.example", "--role", "worker"],
                            'staff id "W1" already exists')
        self.assert_refused(base[:-1] + ["boss"], '--role "boss"', "worker, team_manager, service_manager, iro")
        self.assert_refused(base + ["--manager", "M9"], 'manager "M9" does not exist')
        for email, shown in (("nobody.example", '"nobody.example"'), ("a b@council.example", '"a b@council.example"'),
                             ("a@council.example\r\nBcc: x@y", r'"a@council.example\r\nBcc: x@y"'),
                             ("a@council.example\n", r'"a@council.example\n"')):
            args = base[:6] + [email] + base[7:]
            self.assert_refused(args, "email " + shown)
        self.assert_refused(["staff", "add", "W9", "--email", "n@council.example", "--role", "worker"],
                            "--name is required")

    def test_staff_add_refuses_what_the_planner_could_not_send_to(self):
        """What is stored is deliverable: the addresses the delivery planner
        marks undeliverable (RFC 5321 4.5.3.1.3's 254-octet limit, non-ASCII
        without SMTPUTF8, angle brackets, commas, semicolons, quotes) are
        refused when recorded, with nothing written."""
        self.office()
        base = ["staff", "add", "W9", "--name", "New", "--email", "n@council.example", "--role", "worker"]
        long = "a" * 243 + "@council.example"  # 259 octets
        for email in ("zo\u00eb@council.example", "<w9@council.example>", "w9,x@council.example",
                      "w9;x@council.example", '"w9"@council.example', "w9\\x@council.example", long):
            with self.subTest(email=email):
                self.assert_refused(base[:6] + [email] + base[7:], "is not an address careclock can send to")
        self.ok(*(base[:6] + ["a" * 238 + "@council.example"] + base[7:]))  # 254 octets: accepted
        self.assert_refused(base + ["--colour", "blue"], 'unknown option "--colour"')
        self.assert_refused(["staff", "add", "--name", "x", "--email", "n@x.example", "--role", "worker"],
                            "missing arguments")
        self.assert_refused(["staff", "remove", "W1"], 'unknown subcommand "remove"')


class TeamTest(AdminTestCase):
    def test_team_add_and_set(self):
        self.office()
        self.ok("team", "add", "T2", "--name", "Team Two", "--manager", "M1", "--webhook", "teams-t2")
        self.assertEqual(self.query("SELECT id, name, manager_id, service_manager_id, webhook FROM teams WHERE id = 'T2'"),
                         [("T2", "Team Two", "M1", None, "teams-t2")])
        self.ok("team", "set", "T1", "--webhook", "teams-t1")
        self.assertEqual(self.query("SELECT webhook, manager_id FROM teams WHERE id = 'T1'"), [("teams-t1", "M1")])
        audit = self.query("SELECT action, table_name, row_id, json_extract(new_value, '$.webhook') FROM audit")
        self.assertEqual(audit, [("update", "teams", "T1", "teams-t1")])
        self.ok("team", "set", "T1", "--webhook", "")
        self.assertEqual(self.query("SELECT webhook FROM teams WHERE id = 'T1'"), [(None,)])

    def test_team_refusals(self):
        self.office()
        self.assert_refused(["team", "add", "T1", "--name", "Again", "--manager", "M1"], 'team id "T1" already exists')
        self.assert_refused(["team", "add", "T2", "--name", "Two", "--manager", "M9"], 'manager "M9" does not exist')
        self.assert_refused(["team", "add", "T2", "--name", "Two", "--manager", "M1", "--service-manager", "S9"],
                            'service manager "S9" does not exist')
        self.assert_refused(["team", "add", "T2", "--name", "Two"], "--manager is required")
        self.assert_refused(["team", "set", "T9", "--webhook", "x"], 'team "T9" does not exist')
        self.assert_refused(["team", "set", "T1"], "nothing to change")
        self.assert_refused(["team", "set", "T1", "--manager", "Z1"], 'manager "Z1" does not exist')


class ChildTest(AdminTestCase):
    def test_child_add(self):
        self.office()
        self.ok("child", "add", "C2", "--dob", "02/03/2021", "--team", "T1", "--worker", "W2", "--name", "Casey Example")
        rows = self.query("SELECT id, initials, full_name, dob, team_id, worker_id, iro_id FROM children ORDER BY id")
        self.assertEqual(rows, [("C1", "AB", None, "2015-03-02", "T1", "W1", "I1"),
                                ("C2", None, "Casey Example", "2021-03-02", "T1", "W2", None)])
        # The change queue saw both children.
        self.assertEqual(self.query("SELECT DISTINCT child_id FROM changes ORDER BY 1"), [("C1",), ("C2",)])

    def test_child_add_refusals(self):
        self.office()
        base = ["child", "add", "C2", "--dob", "2016-01-01", "--team", "T1", "--worker", "W1"]
        self.assert_refused(["child", "add", "C1"] + base[3:], 'child id "C1" already exists')
        self.assert_refused(base[:6] + ["T9"] + base[7:], 'team "T9" does not exist')
        self.assert_refused(base[:8] + ["W9"], 'worker "W9" does not exist')
        self.assert_refused(base + ["--iro", "I9"], 'iro "I9" does not exist')
        self.assert_refused(["child", "add", "C2", "--dob", "2023-02-29", "--team", "T1", "--worker", "W1"],
                            '--dob "2023-02-29" is not a valid date')
        self.assert_refused(["child", "add", "C2", "--dob", "2026-11-11", "--team", "T1", "--worker", "W1"],
                            '--dob "2026-11-11" is after today (2026-11-10)')
        self.assert_refused(["child", "add", "C2", "--team", "T1", "--worker", "W1"], "--dob is required")

    def test_child_set(self):
        self.office()
        self.ok("child", "set", "C1", "--worker", "W2")
        self.assertEqual(self.query("SELECT worker_id, team_id, iro_id FROM children"), [("W2", "T1", "I1")])
        user = pwd.getpwuid(os.geteuid()).pw_name
        audit = self.query("SELECT actor, action, json_extract(old_value, '$.worker_id'), "
                           "json_extract(new_value, '$.worker_id') FROM audit")
        self.assertEqual(audit, [("cli:" + user, "update", "W1", "W2")])
        self.assertEqual(self.query("SELECT count(*) FROM audit_actor"), [(0,)])
        self.ok("child", "set", "C1", "--iro", "")
        self.assertEqual(self.query("SELECT iro_id FROM children"), [(None,)])

    def test_child_set_refusals(self):
        self.office()
        self.assert_refused(["child", "set", "C9", "--worker", "W2"], 'child "C9" does not exist')
        self.assert_refused(["child", "set", "C1", "--worker", "W9"], 'worker "W9" does not exist')
        self.assert_refused(["child", "set", "C1", "--team", "T9"], 'team "T9" does not exist')
        self.assert_refused(["child", "set", "C1"], "nothing to change")
        self.assert_refused(["child", "set", "C1", "--dob", "2015-01-01"], 'unknown option "--dob"')


class EventTest(AdminTestCase):
    def test_event_add_prints_the_id(self):
        self.office()
        self.assertEqual(self.ok("event", "add", "C1", "looked_after_start", "2026-11-02"), "1\n")
        self.assertEqual(self.ok("event", "add", "C1", "placement_start", "02/11/2026", "emergency=yes",
                                 "long_term=no", "--note", "with foster carers"), "2\n")
        rows = self.query("SELECT id, child_id, type, date, attributes, source, note FROM events ORDER BY id")
        self.assertEqual(rows[0], (1, "C1", "looked_after_start", "2026-11-02", "{}", "cli", None))
        self.assertEqual(rows[1][:4], (2, "C1", "placement_start", "2026-11-02"))
        self.assertEqual(self.query("SELECT json_extract(attributes, '$.emergency'), "
                                    "json_extract(attributes, '$.long_term') FROM events WHERE id = 2"),
                         [("yes", "no")])
        self.assertEqual(rows[1][5:], ("cli", "with foster carers"))
        # Something scheduled may be in the future.
        self.assertEqual(self.ok("event", "add", "C1", "review_scheduled", "2026-11-30"), "3\n")
        # Something that happened may be today.
        self.assertEqual(self.ok("event", "add", "C1", "visit", TODAY), "4\n")

    def test_event_add_refusals(self):
        self.office()
        self.ok("event", "add", "C1", "looked_after_start", "2026-01-05")
        self.ok("event", "add", "C1", "looked_after_end", "2026-03-01")
        self.ok("event", "add", "C1", "looked_after_start", "2026-06-01")
        self.assert_refused(["event", "add", "C9", "visit", "2026-11-02"], 'child "C9" does not exist')
        self.assert_refused(["event", "add", "C1", "visit", "2026-02-30"], 'date "2026-02-30" is not a valid date')
        err = self.assert_refused(["event", "add", "C1", "review_happened", "2026-11-02"],
                                  'event type "review_happened" is not known')
        self.assertIn("review_held", err)
        self.assertIn("looked_after_start", err)
        self.assert_refused(["event", "add", "C1", "review_held", "2026-11-11"],
                            'date "2026-11-11" is after today (2026-11-10)')
        self.assert_refused(["event", "add", "C1", "looked_after_end", "2025-12-31"],
                            'looked_after_end date "2025-12-31"', "before the start", "2026-01-05")
        self.assert_refused(["event", "add", "C1", "looked_after_end", "2026-05-01"],
                            'looked_after_end date "2026-05-01"', "already ended on 2026-03-01")
        self.assert_refused(["event", "add", "C1", "placement_start", "2026-11-02", "emergency"],
                            'attribute "emergency" is not of the form key=value')
        self.assert_refused(["event", "add", "C1", "placement_start", "2026-11-02", "emergency=yes", "emergency=no"],
                            'attribute "emergency" is given twice')
        self.assert_refused(["event", "add", "C1", "placement_start", "2026-11-02", "=yes"], 'attribute "=yes"')
        self.assert_refused(["event", "add", "C1", "visit"], "missing arguments")

    def test_end_with_no_start(self):
        self.office()
        self.assert_refused(["event", "add", "C1", "looked_after_end", "2026-11-02"],
                            'looked_after_end date "2026-11-02"', 'child "C1" has no looked_after_start')
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "looked_after_end", "2026-11-09")

    def test_event_list(self):
        self.office()
        self.ok("event", "add", "C1", "review_held", "2026-11-09")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02", "emergency=no")
        out = self.ok("event", "list", "C1")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "TYPE", "DATE", "ATTRIBUTES", "SOURCE", "RECORDED_AT", "NOTE"])
        self.assertEqual(len(lines), 3)
        # Ordered by date; columns aligned under the header.
        self.assertEqual(lines[1].split()[:5], ["2", "placement_start", "2026-11-02", '{"emergency":"no"}', "cli"])
        self.assertEqual(lines[2].split()[:5], ["1", "review_held", "2026-11-09", "{}", "cli"])
        self.assertEqual(lines[1].index("2026-11-02"), lines[0].index("DATE"))
        self.assertEqual(lines[2].index("cli"), lines[0].index("SOURCE"))
        self.ok("child", "add", "C2", "--dob", "2016-01-01", "--team", "T1", "--worker", "W1")
        self.assertIn("no events", self.ok("event", "list", "C2"))
        self.assert_refused(["event", "list", "C9"], 'child "C9" does not exist')

    def test_event_delete_keeps_the_row_in_the_audit(self):
        self.office()
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02", "emergency=yes")
        self.execute("DELETE FROM changes")
        out = self.ok("event", "delete", "2")
        self.assertIn("deleted event 2", out)
        self.assertEqual(self.query("SELECT id FROM events"), [(1,)])
        user = pwd.getpwuid(os.geteuid()).pw_name
        audit = self.query("SELECT actor, action, table_name, row_id, json_extract(old_value, '$.type'), "
                           "json_extract(old_value, '$.attributes'), new_value FROM audit")
        self.assertEqual(audit, [("cli:" + user, "delete", "events", "2", "placement_start", '{"emergency":"yes"}',
                                  None)])
        self.assertEqual(self.query("SELECT child_id FROM changes"), [("C1",)])

    def test_event_delete_refusals(self):
        self.office()
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.assert_refused(["event", "delete", "7"], "event 7 does not exist")
        self.assert_refused(["event", "delete", "abc"], 'event id "abc" is not a positive whole number')
        self.assert_refused(["event", "delete", "-1"], 'event id "-1" is not a positive whole number')
        self.assert_refused(["event", "delete", "1x"], 'event id "1x"')


class UsageTest(AdminTestCase):
    def test_help_and_unknown_subcommands(self):
        self.ok("init")
        for cmd, sub in (("staff", "add"), ("team", "add"), ("team", "set"), ("child", "add"), ("child", "set"),
                         ("event", "add"), ("event", "list"), ("event", "delete")):
            out = self.ok(cmd, sub, "--help")
            self.assertIn(f"usage: careclock {cmd} {sub}", out)
        for cmd in ("staff", "team", "child", "event"):
            self.assertIn("usage:", self.ok(cmd, "--help"))
            self.assert_refused([cmd, "frobnicate"], 'unknown subcommand "frobnicate"')
            self.assert_refused([cmd], "needs a subcommand")
        self.assert_refused(["init", "extra"], "too many arguments")


class SequenceTest(AdminTestCase):
    def test_a_bad_command_between_good_ones_changes_nothing(self):
        """The database after good, bad, good equals the database after good, good."""
        self.office()
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.assert_refused(["event", "add", "C1", "bogus", "2026-11-02"], 'event type "bogus"')
        self.ok("event", "add", "C1", "placement_start", "2026-11-02")
        self.assertEqual(self.query("SELECT id, type FROM events ORDER BY id"),
                         [(1, "looked_after_start"), (2, "placement_start")])


if __name__ == "__main__":
    unittest.main()
