"""careclock clocks / explain / rules check, driven as a user would, on a
temporary database: the acceptance scenario of the engine issue, filters and
formats, data_error isolation, and bad input."""
import csv
import io
import json
import os
import sqlite3
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"), "careclock")


class Council(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "plan.db")
        self.ok("init")
        self.ok("staff", "add", "W1", "--name", "Wendy Worker", "--email", "w1@council.example", "--role", "worker")
        self.ok("staff", "add", "TM1", "--name", "Tom Manager", "--email", "tm1@council.example", "--role",
                "team_manager")
        self.ok("team", "add", "T1", "--name", "East", "--manager", "TM1")
        self.ok("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1", "--initials", "AB",
                "--name", "Alice Brown")

    def tearDown(self):
        self.tmp.cleanup()

    def run_cc(self, *args, today="2026-11-30"):
        cmd = [BIN, "--db", self.db] + (["--today", today] if today else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True)

    def ok(self, *args, today="2026-11-30"):
        p = self.run_cc(*args, today=today)
        self.assertEqual(p.returncode, 0, "%s: %s" % (args, p.stderr))
        return p.stdout

    def clocks(self, today, *extra):
        return json.loads(self.ok("clocks", "--child", "C1", "--format", "json", *extra, today=today))

    @staticmethod
    def find(clocks, clock, seq=1):
        for c in clocks:
            if c["clock"] == clock and c["seq"] == seq:
                return c
        return None

    def test_acceptance_scenario(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02")
        clocks = self.clocks("2026-11-10")
        care = self.find(clocks, "care_plan")
        self.assertEqual((care["due"], care["status"]), ("2026-11-16", "due_soon"))
        review = self.find(clocks, "review")
        self.assertEqual((review["due"], review["status"]), ("2026-11-30", "open"))
        pep = self.find(clocks, "pep")
        self.assertEqual((pep["due"], pep["status"]), ("2026-11-02", "overdue"))
        for c in clocks:
            for key in ("child", "clock", "seq", "title", "start", "due", "status", "met_on", "worker", "team",
                        "source"):
                self.assertIn(key, c)
            self.assertEqual((c["worker"], c["team"]), ("W1", "T1"))
            self.assertTrue(c["source"])
        self.assertIsNone(care["met_on"])

        self.ok("event", "add", "C1", "review_held", "2026-11-27", today="2026-11-27")
        clocks = self.clocks("2026-11-27")
        self.assertEqual(self.find(clocks, "review", 2)["due"], "2027-02-27")
        self.assertEqual(self.find(clocks, "review_minutes", 1)["due"], "2026-12-04")
        self.assertEqual(self.find(clocks, "review", 1)["status"], "met")
        self.assertEqual(self.find(clocks, "review", 1)["met_on"], "2026-11-27")

    def test_explain_tells_the_story_in_plain_words(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02")
        text = self.ok("explain", "C1", "care_plan", today="2026-11-10")
        self.assertIn("Care plan", text)
        self.assertIn("placement start on Mon 2 Nov 2026", text)
        self.assertIn("10 working days after", text)
        self.assertIn("skip 2026-11-07 Saturday", text)
        self.assertIn("= Mon 16 Nov 2026 (2026-11-16)", text)
        self.assertIn("CPPCR 2010 reg 4(2)", text)
        self.assertIn("due soon", text)
        # a bank holiday named in the steps
        self.ok("event", "add", "C1", "review_held", "2026-12-18", today="2026-12-18")
        text = self.ok("explain", "C1", "review_minutes", today="2026-12-18")
        self.assertIn("skip 2026-12-25 Christmas Day", text)
        self.assertIn("skip 2026-12-28 Boxing Day (substitute day)", text)

    def test_statuses_move_with_today(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02")
        self.assertEqual(self.find(self.clocks("2026-11-05"), "care_plan")["status"], "open")
        self.assertEqual(self.find(self.clocks("2026-11-16"), "care_plan")["status"], "due_soon")
        self.assertEqual(self.find(self.clocks("2026-11-17"), "care_plan")["status"], "overdue")
        self.ok("event", "add", "C1", "care_plan_completed", "2026-11-17", today="2026-11-17")
        self.assertEqual(self.find(self.clocks("2026-11-17"), "care_plan")["status"], "met_late")

    def test_left_care_before_due_is_cancelled(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02")
        self.ok("event", "add", "C1", "looked_after_end", "2026-11-06", today="2026-11-06")
        self.assertEqual(self.find(self.clocks("2026-11-20"), "care_plan")["status"], "cancelled")

    def test_data_error_isolated_to_one_child(self):
        self.ok("child", "add", "C2", "--dob", "2012-01-01", "--team", "T1", "--worker", "W1")
        for child in ("C1", "C2"):
            self.ok("event", "add", child, "looked_after_start", "2026-11-02")
        con = sqlite3.connect(self.db)
        with con:
            con.execute("INSERT INTO events (child_id, type, date, source) VALUES ('C2', 'visit', '2026-02-30', 'x')")
            con.execute("INSERT INTO events (child_id, type, date, source) VALUES ('C2', 'mystery', '2026-11-03', 'x')")
        con.close()
        out = json.loads(self.ok("clocks", "--status", "data_error", "--format", "json"))
        self.assertEqual(len(out), 1)
        self.assertEqual(out[0]["child"], "C2")
        self.assertIn("2026-02-30", out[0]["reason"])
        c1 = json.loads(self.ok("clocks", "--child", "C1", "--format", "json"))
        self.assertTrue(any(c["clock"] == "review" for c in c1))
        self.assertFalse(any(c["status"] == "data_error" for c in c1))

    def test_csv_opens_as_a_table(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02")
        out = self.ok("clocks", "--format", "csv")
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0][:8], ["child", "clock", "seq", "title", "start", "due", "status", "met_on"])
        self.assertTrue(all(len(r) == len(rows[0]) for r in rows))
        raw = subprocess.run([BIN, "--db", self.db, "--today", "2026-11-30", "clocks", "--format", "csv"],
                             capture_output=True).stdout
        self.assertTrue(raw.endswith(b"\r\n") and raw.count(b"\r\n") == len(rows))
        self.assertGreater(len(rows), 3)

    def test_table_lists_overdue_first_and_names_no_child(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02")
        out = self.ok("clocks", today="2026-11-20")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("child"))
        self.assertIn("overdue", lines[1])
        self.assertNotIn("Alice", out)

    def test_filters(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C1", "placement_start", "2026-11-02")
        out = json.loads(self.ok("clocks", "--status", "overdue", "--format", "json", today="2026-11-20"))
        self.assertTrue(out and all(c["status"] == "overdue" for c in out))
        self.assertEqual(json.loads(self.ok("clocks", "--worker", "W1", "--format", "json"))[0]["worker"], "W1")
        self.assertTrue(json.loads(self.ok("clocks", "--team", "T1", "--format", "json")))

    def test_filters_select_exactly_their_rows(self):
        """Each filter and each combination of them lists exactly the rows of
        the unfiltered listing that match, in the same order (the WHERE
        clause is built from the filters given, README "The careclock command")."""
        self.ok("staff", "add", "W2", "--name", "Will Worker", "--email", "w2@council.example", "--role", "worker")
        self.ok("team", "add", "T2", "--name", "West", "--manager", "TM1")
        self.ok("child", "add", "C2", "--dob", "2012-06-01", "--team", "T1", "--worker", "W2")
        self.ok("child", "add", "C3", "--dob", "2013-06-01", "--team", "T2", "--worker", "W1")
        self.ok("child", "add", "C4", "--dob", "2014-06-01", "--team", "T2", "--worker", "W2")
        for child, day in (("C1", "2026-11-02"), ("C2", "2026-09-01"), ("C3", "2026-11-18"), ("C4", "2026-10-05")):
            self.ok("event", "add", child, "looked_after_start", day, today=day)
            self.ok("event", "add", child, "placement_start", day, today=day)
        self.ok("event", "add", "C2", "looked_after_end", "2026-10-20", today="2026-10-20")
        self.ok("event", "add", "C4", "care_plan_completed", "2026-10-09", today="2026-10-09")
        self.ok("event", "add", "C4", "pep_completed", "2026-10-30", today="2026-10-30")
        con = sqlite3.connect(self.db)
        with con:
            con.execute("INSERT INTO children (id, dob, team_id, worker_id) VALUES ('C5', '2011-01-01', 'T2', 'W2')")
            con.execute("INSERT INTO events (child_id, type, date, source) VALUES ('C5', 'visit', '2026-02-30', 'x')")
        con.close()
        today = "2026-11-20"
        every = list(csv.reader(io.StringIO(self.ok("clocks", "--format", "csv", today=today))))
        head, rows = every[0], every[1:]
        self.assertEqual(head[6:10], ["status", "met_on", "worker", "team"])
        self.assertEqual({r[6] for r in rows}, {"open", "due_soon", "overdue", "met", "met_late", "cancelled",
                                                "data_error"})
        self.assertEqual({r[0] for r in rows}, {"C1", "C2", "C3", "C4", "C5"})
        cases = [
            {}, {"child": "C3"}, {"team": "T1"}, {"team": "T2"}, {"worker": "W2"}, {"status": "overdue"},
            {"status": "met,met_late,cancelled"}, {"status": "open,due_soon,overdue,met,met_late,cancelled,data_error"},
            {"child": "C4", "status": "met"}, {"team": "T2", "worker": "W2"}, {"team": "T2", "worker": "W2",
                                                                              "status": "data_error,overdue"},
            {"child": "C1", "team": "T1", "worker": "W1", "status": "due_soon,overdue"},
            {"child": "C1", "team": "T2"}, {"worker": "W1", "status": "cancelled"},
        ]
        for case in cases:
            args = []
            for key in ("child", "team", "worker", "status"):
                if key in case:
                    args += ["--" + key, case[key]]
            want = [r for r in rows
                    if r[0] == case.get("child", r[0]) and r[9] == case.get("team", r[9])
                    and r[8] == case.get("worker", r[8]) and r[6] in case.get("status", r[6]).split(",")]
            got = list(csv.reader(io.StringIO(self.ok("clocks", "--format", "csv", *args, today=today))))
            self.assertEqual(got, [head] + want, case)
            # the table and JSON list the same rows
            table = self.ok("clocks", "--cached", *args, today=today).splitlines()
            self.assertEqual([line.split()[:3] for line in table[1:-1]], [r[:3] for r in want], case)
            self.assertEqual(table[-1], "(%d clock%s)" % (len(want), "" if len(want) == 1 else "s"), case)
            listed = json.loads(self.ok("clocks", "--cached", "--format", "json", *args, today=today))
            self.assertEqual([[c["child"], c["clock"], str(c["seq"])] for c in listed], [r[:3] for r in want], case)
        self.assertEqual(len(rows), sum(len([r for r in rows if r[0] == c]) for c in ("C1", "C2", "C3", "C4", "C5")))

    def test_cached_lists_without_recomputing(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.assertEqual(json.loads(self.ok("clocks", "--cached", "--format", "json")), [])
        self.ok("clocks")
        self.assertTrue(json.loads(self.ok("clocks", "--cached", "--format", "json")))

    def test_unchanged_recompute_writes_nothing(self):
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        self.ok("clocks")
        con = sqlite3.connect(self.db)
        before = con.execute("SELECT rule_id, seq, updated_at FROM clocks ORDER BY 1, 2").fetchall()
        con.close()
        self.ok("clocks")
        con = sqlite3.connect(self.db)
        after = con.execute("SELECT rule_id, seq, updated_at FROM clocks ORDER BY 1, 2").fetchall()
        con.close()
        self.assertEqual(before, after)

    def test_bad_input_exits_2(self):
        cases = [
            (("clocks", "--child", "NOPE"), "NOPE"),
            (("clocks", "--team", "T9"), "T9"),
            (("clocks", "--status", "late"), "late"),
            (("clocks", "--format", "xml"), "xml"),
            (("explain", "C1", "care_plans"), "care_plans"),
            (("explain", "NOPE", "care_plan"), "NOPE"),
            (("explain", "C1", "care_plan", "x"), "SEQ"),
        ]
        for args, word in cases:
            p = self.run_cc(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(word, p.stderr, args)

    def test_missing_database_is_not_created(self):
        db = os.path.join(self.tmp.name, "absent.db")
        p = subprocess.run([BIN, "--db", db, "clocks"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("init", p.stderr)
        self.assertFalse(os.path.exists(db))


class StatutoryModel(Council):
    """Issue 15 through the real binary: each test names its source."""

    def test_planned_admission_plans_prepared_the_day_before(self):
        """CPPCR 2010 reg 4(2): the care plan is prepared before the first
        placement (or, if not practicable, within 10 working days); the local
        guidance (../shared/seeds/004 s3.1) says the same of the PEP."""
        for event, day in (("care_plan_completed", "2026-10-30"), ("pep_completed", "2026-10-30"),
                           ("looked_after_start", "2026-11-02"), ("placement_start", "2026-11-02")):
            self.ok("event", "add", "C1", event, day, today="2026-11-10")
        clocks = self.clocks("2026-11-10")
        for clock in ("care_plan", "pep"):
            c = self.find(clocks, clock)
            self.assertEqual((c["status"], c["met_on"]), ("met", "2026-10-30"), clock)
        text = self.ok("explain", "C1", "care_plan", today="2026-11-10")
        self.assertIn("prepared before the placement", text)

    def test_long_term_placement_visits_six_weekly_in_the_first_year(self):
        """CPPCR 2010 reg 28(2)(b): at most six weeks apart for the first year
        of any placement, even one intended to last until 18."""
        self.ok("event", "add", "C1", "looked_after_start", "2025-01-06", today="2025-01-11")
        self.ok("event", "add", "C1", "placement_start", "2025-01-06", "long_term=yes", today="2025-01-11")
        self.ok("event", "add", "C1", "visit", "2025-01-10", today="2025-01-11")
        self.assertEqual(self.find(self.clocks("2025-01-11"), "visit", 2)["due"], "2025-02-21")

    def test_child_protection_plan_lifecycle(self):
        """Working Together to Safeguard Children 2023: the ICPC within 15
        working days of the strategy discussion that initiated section 47
        enquiries; core groups and review conferences only while a plan
        lasts."""
        self.ok("event", "add", "C1", "strategy_discussion", "2026-11-02", today="2026-11-02")
        self.assertIsNone(self.find(self.clocks("2026-11-02"), "icpc"))
        self.ok("event", "add", "C1", "strategy_discussion", "2026-11-03", "s47=yes", today="2026-11-03")
        self.assertEqual(self.find(self.clocks("2026-11-03"), "icpc")["due"], "2026-11-24")
        self.ok("event", "add", "C1", "icpc_held", "2026-11-23", "outcome=no_plan", today="2026-11-23")
        clocks = self.clocks("2026-11-23")
        self.assertEqual(self.find(clocks, "icpc")["status"], "met")
        self.assertIsNone(self.find(clocks, "core_group"))
        self.assertIsNone(self.find(clocks, "cp_review"))
        text = self.ok("explain", "C1", "cp_review", today="2026-11-23")
        self.assertIn("no plan", text)
        # A later plan, then its end.
        self.ok("event", "add", "C1", "strategy_discussion", "2027-01-04", "s47=yes", today="2027-01-04")
        self.ok("event", "add", "C1", "icpc_held", "2027-01-20", "outcome=plan", today="2027-01-20")
        self.ok("event", "add", "C1", "cp_plan_end", "2027-03-01", today="2027-03-01")
        review = self.find(self.clocks("2027-03-02"), "cp_review")
        self.assertEqual((review["due"], review["status"]), ("2027-04-20", "cancelled"))
        text = self.ok("explain", "C1", "cp_review", today="2027-03-02")
        self.assertIn("ended with the plan on 2027-03-01", text)

    def test_attributes_not_an_object_of_strings_are_a_data_error(self):
        """Bad data is a data error, never a silent default: {"emergency":true}
        made the PEP fall due on the placement day."""
        self.ok("event", "add", "C1", "looked_after_start", "2026-11-02")
        con = sqlite3.connect(self.db)
        with con:
            con.execute("INSERT INTO events (child_id, type, date, attributes, source) "
                        "VALUES ('C1', 'placement_start', '2026-11-02', '{\"emergency\":true}', 'sync')")
        con.close()
        out = self.clocks("2026-11-10")
        self.assertEqual([c["status"] for c in out], ["data_error"])
        self.assertIn("attributes", out[0]["reason"])
        self.assertIn("emergency", out[0]["reason"])

    def test_event_add_builds_an_object_of_strings(self):
        p = self.run_cc("event", "add", "C1", "placement_start", "2026-11-02", "emergency=yes", "emergency=no")
        self.assertEqual(p.returncode, 2)
        self.assertIn("twice", p.stderr)
        self.ok("event", "add", "C1", "placement_start", "2026-11-02", "emergency=yes")
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("SELECT attributes FROM events").fetchone()[0], '{"emergency":"yes"}')
        con.close()

    def test_calc_refuses_answers_outside_the_countable_years(self):
        """Month and week arithmetic is bounded: 1900-2199, never a wrapped
        year (calc 2026-12-07 +9999m printed year 0359)."""
        p = self.run_cc("calc", "2026-12-07", "+9999m", today=None)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        self.assertIn("outside 1900-2199", p.stderr)
        p = self.run_cc("calc", "2026-12-07", *(["+999m"] * 10), today=None)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")

    def test_rules_check_refuses_offsets_that_cannot_be_meant(self):
        path = os.path.join(self.tmp.name, "council.rules")
        with open(path, "w") as f:
            f.write("[care_plan]\ndue = +9999m\n")
        p = subprocess.run([BIN, "rules", "check", os.path.join(ROOT, "config", "rules", "england.rules"), path],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn(path + ":2:", p.stderr)
        self.assertIn("+9999m", p.stderr)


class RulesCheck(unittest.TestCase):
    def test_default_rules_pass(self):
        p = subprocess.run([BIN, "rules", "check", os.path.join(ROOT, "config", "rules", "england.rules")],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("36 rules", p.stdout)

    def test_errors_name_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".rules", delete=False) as f:
            f.write("[care_plan]\ndue = +10x\nmet_by = nothing_like_this\n")
            path = f.name
        try:
            p = subprocess.run([BIN, "rules", "check", os.path.join(ROOT, "config", "rules", "england.rules"), path],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 2)
            self.assertIn(path + ":2:", p.stderr)
            self.assertIn(path + ":3:", p.stderr)
            self.assertIn("+10x", p.stderr)
            self.assertIn("nothing_like_this", p.stderr)
        finally:
            os.unlink(path)

    def test_override_file_changes_one_rule(self):
        tmp = tempfile.TemporaryDirectory()
        try:
            override = os.path.join(tmp.name, "council.rules")
            with open(override, "w") as f:
                f.write("[care_plan]\ndue = +5wd\n")
            conf = os.path.join(tmp.name, "careclock.conf")
            with open(conf, "w") as f:
                f.write("[careclock]\nrules = %s, %s\n" % (os.path.join(ROOT, "config", "rules", "england.rules"),
                                                          override))
            db = os.path.join(tmp.name, "p.db")
            base = [BIN, "--db", db, "--config", conf, "--today", "2026-11-10"]
            for args in (["init"],
                         ["staff", "add", "W1", "--name", "W", "--email", "w@x.example", "--role", "worker"],
                         ["staff", "add", "M1", "--name", "M", "--email", "m@x.example", "--role", "team_manager"],
                         ["team", "add", "T1", "--name", "T", "--manager", "M1"],
                         ["child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1"],
                         ["event", "add", "C1", "looked_after_start", "2026-11-02"],
                         ["event", "add", "C1", "placement_start", "2026-11-02"]):
                p = subprocess.run(base + args, capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, p.stderr)
            out = json.loads(subprocess.run(base + ["clocks", "--format", "json"], capture_output=True,
                                            text=True).stdout)
            due = {c["clock"]: c["due"] for c in out}
            self.assertEqual(due["care_plan"], "2026-11-09")
            self.assertEqual(due["review"], "2026-11-30")
        finally:
            tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
