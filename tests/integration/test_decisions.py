"""Decisions about a clock (issue 17), against a real plan database, the real
careclock and the real careclockd: agreed extensions, exceptions,
acknowledgements, the IRO's step, reviews booked too late, go-live ([notify]
since), data coverage in the timeliness report, and children whose data is
in error.

Dates, worked out on the England and Wales calendar with `careclock calc`:
  assessment: referral Tue 1 Sep 2026, due +45wd Tue 3 Nov 2026; its stages
    -10wd worker Tue 20 Oct, +1wd team manager Wed 4 Nov, +5wd service
    manager Tue 10 Nov; agreed to Tue 1 Dec 2026, -10wd is Tue 17 Nov.
  health assessment and first review: looked_after_start Thu 1 Oct 2026, due
    +20wd Thu 29 Oct 2026; health stages -10wd worker Thu 15 Oct, -1wd
    worker Wed 28 Oct, +1wd team manager Fri 30 Oct, +5wd service manager
    Thu 5 Nov.
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import tempfile
import unittest

from daemon_harness import Council, Daemon, wait_until
from test_delivery import Server

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"), "careclock")


class DecisionCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "plan.db")
        self.conf = os.path.join(self.dir, "careclock.conf")
        self.configure()

    def tearDown(self):
        self.tmp.cleanup()

    def configure(self, extra=""):
        with open(self.conf, "w") as f:
            f.write("[notify]\nwindow = 08:00-18:00\ndigest = yes\n" + extra)

    def run_cc(self, *args, today=None):
        cmd = [BIN, "--db", self.db, "--config", self.conf] + (["--today", today] if today else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True)

    def ok(self, *args, today=None):
        p = self.run_cc(*args, today=today)
        self.assertEqual(p.returncode, 0, "%s: %s" % (args, p.stderr))
        return p.stdout

    def refused(self, args, *words, today=None):
        """The command exits 2 and its message names each of words."""
        p = self.run_cc(*args, today=today)
        self.assertEqual(p.returncode, 2, "%s: %s %s" % (args, p.stdout, p.stderr))
        for w in words:
            self.assertIn(w, p.stderr)
        return p.stderr

    def council(self):
        self.ok("init")
        for sid, name, role in (("W1", "Wendy Worker", "worker"), ("TM1", "Tom Manager", "team_manager"),
                                ("SM1", "Sam Service", "service_manager"), ("IRO1", "Ivy Reviewing", "iro")):
            self.ok("staff", "add", sid, "--name", name, "--email", "%s@council.example" % sid.lower(), "--role",
                    role)
        self.ok("team", "add", "T1", "--name", "East", "--manager", "TM1", "--service-manager", "SM1")

    def child(self, cid="C1", dob="2015-01-01"):
        self.ok("child", "add", cid, "--dob", dob, "--team", "T1", "--worker", "W1", "--initials", "A.B.", "--iro",
                "IRO1")

    def event(self, cid, etype, date, today=None, *attrs):
        return int(self.ok("event", "add", cid, etype, date, *attrs, today=today or date))

    def clock(self, cid, rule, today, seq=1):
        rows = json.loads(self.ok("clocks", "--child", cid, "--format", "json", today=today))
        for r in rows:
            if r["clock"] == rule and r["seq"] == seq:
                return r
        self.fail("no %s clock %d for %s in %s" % (rule, seq, cid, rows))

    def plan(self, now):
        return self.ok("deliveries", "plan", "--now", now)

    def deliveries(self, rule=None):
        rows = json.loads(self.ok("deliveries", "--format", "json"))
        return [r for r in rows if rule is None or r["clock"] == rule]

    def decisions(self, cid):
        return json.loads(self.ok("clock", "decisions", cid, "--format", "json"))


class Extension(DecisionCase):
    def setUp(self):
        super().setUp()
        self.council()
        self.child()
        self.event("C1", "referral", "2026-09-01")

    def test_an_extension_moves_the_reminders_and_not_the_statutory_figure(self):
        """Working Together 2023: an assessment within 45 working days of the
        referral; where it runs past them the reasons are recorded. The team
        manager agrees a later date (rules: extend_by = team_manager,
        service_manager): reminders and escalations follow it, the due date and
        the statutory figure (met late) do not move; the report shows it apart,
        late within an agreed extension."""
        out = self.ok("clock", "extend", "C1", "assessment", "--to", "2026-12-01", "--by", "TM1", "--reason",
                      "parent in hospital; child seen, home visit rebooked", today="2026-10-01")
        self.assertRegex(out, r"^\d+\n$")
        c = self.clock("C1", "assessment", "2026-10-01")
        self.assertEqual(c["due"], "2026-11-03")          # the statutory date is kept
        self.assertEqual(c["agreed_due"], "2026-12-01")
        self.assertIn("open, extended to 2026-12-01", self.ok("clocks", "--child", "C1", today="2026-10-01"))
        feed = self.ok("ics", "--team", "T1", today="2026-10-01").replace("\r\n ", "")
        self.assertIn("Extended by agreement to Tue 1 Dec 2026", feed)
        self.assertIn("DTSTART;VALUE=DATE:20261103", feed)   # the event stays on the statutory date
        # Nothing at the statutory -10wd, +1wd or +5wd ...
        for now in ("2026-10-20T09:00", "2026-11-04T09:00", "2026-11-10T09:00"):
            self.plan(now)
            self.assertEqual(self.deliveries("assessment"), [], now)
        # ... the worker's -10wd comes 10 working days before the agreed date.
        self.plan("2026-11-17T09:00")
        rows = self.deliveries("assessment")
        self.assertEqual([(r["recipient"], r["stage"], r["stage_date"]) for r in rows],
                         [("W1", "-10wd@2026-12-01", "2026-11-17")])
        # Met on 20 Nov: after the statutory date, by the agreed one.
        self.event("C1", "assessment_completed", "2026-11-20")
        c = self.clock("C1", "assessment", "2026-11-20")
        self.assertEqual(c["status"], "met_late")
        report = json.loads(self.ok("report", "timeliness", "--clock", "assessment", "--format", "json",
                                    today="2026-11-20"))
        total = report["clocks"][0]["total"]
        self.assertEqual((total["on_time"], total["late"], total["late_within_extension"]), (0, 1, 1))
        self.assertEqual(total["on_time_percent"], 0.0)
        csv = self.ok("report", "timeliness", "--clock", "assessment", "--format", "csv", today="2026-11-20")
        head, row = csv.splitlines()[0].split(","), csv.splitlines()[-1].split(",")
        self.assertEqual(row[head.index("late")], "1")
        self.assertEqual(row[head.index("late_within_extension")], "1")

    def test_who_may_agree_and_bad_values_are_refused_naming_them(self):
        self.refused(["clock", "extend", "C1", "assessment", "--to", "2026-12-01", "--by", "W1", "--reason", "x"],
                     "W1", "team manager", today="2026-10-01")
        self.refused(["clock", "extend", "C1", "assessment", "--to", "2026-13-01", "--by", "TM1", "--reason", "x"],
                     "2026-13-01", today="2026-10-01")
        self.refused(["clock", "extend", "C1", "assessment", "--to", "2026-11-02", "--by", "TM1", "--reason", "x"],
                     "2026-11-03", today="2026-10-01")
        self.refused(["clock", "extend", "C1", "assessment", "--to", "2026-12-01", "--by", "NOBODY", "--reason",
                      "x"], "NOBODY", today="2026-10-01")
        self.refused(["clock", "extend", "C9", "assessment", "--to", "2026-12-01", "--by", "TM1", "--reason", "x"],
                     "C9", today="2026-10-01")
        self.refused(["clock", "extend", "C1", "assessment", "--to", "2026-12-01", "--by", "TM1"], "--reason",
                     today="2026-10-01")
        self.refused(["clock", "frobnicate", "C1"], "frobnicate")
        # nothing half written
        self.assertEqual(self.decisions("C1"), [])

    def test_withdrawn_extension_restores_the_statutory_chasing(self):
        did = self.ok("clock", "extend", "C1", "assessment", "--to", "2026-12-01", "--by", "TM1", "--reason",
                      "agreed at supervision", today="2026-10-01").strip()
        self.refused(["clock", "withdraw", did, "--by", "W1", "--reason", "x"], "W1", today="2026-10-02")
        self.ok("clock", "withdraw", did, "--by", "TM1", "--reason", "entered in error", today="2026-10-02")
        self.assertIsNone(self.clock("C1", "assessment", "2026-10-02")["agreed_due"])
        self.plan("2026-10-20T09:00")
        self.assertEqual([(r["recipient"], r["stage"]) for r in self.deliveries("assessment")], [("W1", "-10wd")])
        listed = self.decisions("C1")
        self.assertEqual([d["kind"] for d in listed], ["extend", "withdraw"])
        self.assertEqual(listed[0]["withdrawn_by"], listed[1]["id"])
        # every decision audited: who, in which capacity, when, why, via
        self.assertEqual((listed[0]["by"], listed[0]["role"], listed[0]["on"], listed[0]["via"]),
                         ("TM1", "team_manager", "2026-10-01", "cli"))
        self.assertTrue(listed[0]["actor"].startswith("cli:"))
        self.assertEqual(listed[1]["reason"], "entered in error")
        text = self.ok("explain", "C1", "assessment", today="2026-10-02")
        self.assertIn("TM1 (team manager) agreed an extension to Tue 1 Dec 2026", text)
        self.assertIn("Withdrawn", text)


class Exception_(DecisionCase):
    def setUp(self):
        super().setUp()
        self.council()
        self.child()
        self.event("C1", "looked_after_start", "2026-10-01")

    def test_an_exception_stops_the_reminders_and_is_reversible(self):
        """Promoting the health and wellbeing of looked-after children
        (statutory guidance 2015): a young person of sufficient understanding
        may decline the health assessment. The team manager records it
        (rules: except_reasons = declined, ...; except_by = team_manager,
        service_manager): status excepted, no reminders, counted apart."""
        self.refused(["clock", "except", "C1", "health_assessment", "--reason", "refused", "--by", "TM1"],
                     '"refused"', "declined", today="2026-10-05")
        self.refused(["clock", "except", "C1", "health_assessment", "--reason", "declined", "--by", "W1"], "W1",
                     today="2026-10-05")
        self.refused(["clock", "except", "C1", "review", "--reason", "declined", "--by", "TM1"], "nobody may",
                     today="2026-10-05")
        did = self.ok("clock", "except", "C1", "health_assessment", "--reason", "declined", "--by", "TM1", "--note",
                      "YP declined at the LAC medical appointment", today="2026-10-05").strip()
        self.assertEqual(self.clock("C1", "health_assessment", "2026-10-05")["status"], "excepted")
        for now in ("2026-10-15T09:00", "2026-10-28T09:00", "2026-10-30T09:00", "2026-11-05T09:00"):
            self.plan(now)
            self.assertEqual(self.deliveries("health_assessment"), [], now)
        self.assertNotEqual(self.deliveries("review"), [])  # the other clocks go on
        report = json.loads(self.ok("report", "timeliness", "--clock", "health_assessment", "--format", "json",
                                    today="2026-11-05"))
        total = report["clocks"][0]["total"]
        self.assertEqual((total["excepted"], total["due"], total["overdue"]), (1, 0, 0))
        self.assertIn("excepted", self.ok("explain", "C1", "health_assessment", today="2026-11-05"))
        self.ok("clock", "withdraw", did, "--by", "TM1", "--reason", "YP now consents", today="2026-11-05")
        self.assertEqual(self.clock("C1", "health_assessment", "2026-11-05")["status"], "overdue")
        self.plan("2026-11-05T10:00")
        self.assertEqual({(r["recipient"], r["stage"]) for r in self.deliveries("health_assessment")},
                         {("W1", "-1wd"), ("TM1", "+1wd"), ("SM1", "+5wd")})


class Acknowledgement(DecisionCase):
    def test_an_acknowledgement_holds_one_persons_stages_only(self):
        """The team manager acknowledges the overdue assessment until Thu 12
        Nov: their +1wd (Wed 4 Nov) waits until then; the service manager's
        +5wd (Tue 10 Nov) goes as before."""
        self.council()
        self.child()
        self.event("C1", "referral", "2026-09-01")
        self.refused(["clock", "ack", "C1", "assessment", "--until", "2027-06-01", "--by", "TM1"], "92 days",
                     today="2026-11-03")
        self.ok("clock", "ack", "C1", "assessment", "--until", "2026-11-12", "--by", "TM1", "--note",
                "on it: visit booked", today="2026-11-03")
        self.plan("2026-11-04T09:00")
        self.assertEqual([r for r in self.deliveries("assessment") if r["recipient"] == "TM1"], [])
        self.plan("2026-11-10T09:00")
        self.assertEqual([(r["recipient"], r["stage"]) for r in self.deliveries("assessment")
                          if r["recipient"] == "SM1"], [("SM1", "+5wd")])
        self.assertEqual([r for r in self.deliveries("assessment") if r["recipient"] == "TM1"], [])
        self.plan("2026-11-13T09:00")
        self.assertEqual([(r["recipient"], r["stage"]) for r in self.deliveries("assessment")
                          if r["recipient"] == "TM1"], [("TM1", "+1wd")])
        self.assertIn("acknowledged", self.ok("explain", "C1", "assessment", today="2026-11-13"))


class IroStep(DecisionCase):
    def test_the_permanence_plans_first_escalation_goes_to_the_iro_who_records_the_decision(self):
        """seeds/001 standard 8: "Every child should have a plan for permanence
        by the time of the second review. Where this is not the case, the IRO
        must inform the Service Manager and agree a timescale for the
        completion of this Plan." The first escalation (+1wd, Wed 29 Apr) goes
        to the child's IRO; the IRO records informing the service manager and
        the timescale agreed with them; the service manager's +2wd (Thu 30
        Apr) then waits for the agreed date."""
        self.council()
        self.child()
        self.event("C1", "looked_after_start", "2026-01-05")
        self.event("C1", "review_held", "2026-01-30")
        self.event("C1", "review_held", "2026-04-28")
        c = self.clock("C1", "permanence_plan", "2026-04-28")
        self.assertEqual(c["due"], "2026-04-28")   # the second review's date
        self.plan("2026-04-29T09:00")
        self.assertEqual([(r["recipient"], r["stage"], r["kind"]) for r in self.deliveries("permanence_plan")
                          if r["kind"] == "escalation"], [("IRO1", "+1wd", "escalation")])
        self.refused(["clock", "extend", "C1", "permanence_plan", "--to", "2026-06-30", "--by", "W1", "--reason",
                      "x"], "W1", "IRO", today="2026-04-29")
        self.ok("clock", "inform", "C1", "permanence_plan", "--to", "SM1", "--by", "IRO1", "--note",
                "no permanence plan at the second review", today="2026-04-29")
        self.ok("clock", "extend", "C1", "permanence_plan", "--to", "2026-06-30", "--by", "IRO1", "--with", "SM1",
                "--reason", "parallel plan being assessed; agreed with the service manager", today="2026-04-29")
        self.plan("2026-04-30T09:00")
        self.assertEqual([r for r in self.deliveries("permanence_plan") if r["recipient"] == "SM1"], [])
        text = self.ok("explain", "C1", "permanence_plan", today="2026-04-30")
        self.assertIn("IRO1 (IRO) informed SM1", text)
        self.assertIn("agreed an extension to Tue 30 Jun 2026", text)
        listed = self.decisions("C1")
        self.assertEqual([(d["kind"], d["role"]) for d in listed], [("inform", "iro"), ("extend", "iro")])
        self.assertEqual(listed[0]["informed"], "SM1")
        self.assertEqual(listed[1]["agreed_with"], "SM1")


class ScheduledTooLate(DecisionCase):
    def test_a_review_booked_after_its_due_date_is_at_risk_the_day_it_is_recorded(self):
        """CPPCR 2010 reg 33(1): the first review within 20 working days of
        becoming looked after (Thu 29 Oct 2026 for a start on 1 Oct). A review
        booked on 5 Oct for 5 Nov will be late: at_risk at once, and the
        worker and team manager hear of it now, not after it is overdue."""
        self.council()
        self.child()
        self.event("C1", "looked_after_start", "2026-10-01")
        self.assertEqual(self.clock("C1", "review", "2026-10-05")["status"], "open")
        self.event("C1", "review_scheduled", "2026-11-05", today="2026-10-05")
        c = self.clock("C1", "review", "2026-10-05")
        self.assertEqual(c["status"], "at_risk")
        self.assertIn("2026-11-05", c["reason"])
        self.plan("2026-10-05T09:00")
        self.assertEqual(sorted((r["recipient"], r["stage"]) for r in self.deliveries("review")
                                if r["stage"] == "at_risk"), [("TM1", "at_risk"), ("W1", "at_risk")])
        self.assertIn("AT RISK", self.ok("explain", "C1", "review", today="2026-10-05"))


# An SSDA903 return with old history: OLD1 looked after since 2015, reviews
# then; NEW1 from 20 Nov 2026. Codes: the DfE SSDA903 guide.
HEADER = ["CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB", "OLD1,1,01/03/2010,WBRI,A100000000101,,",
          "NEW1,2,01/06/2016,WBRI,A100000000102,,"]
EPISODES = ["CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN",
            "OLD1,01/04/2015,S,C2,N1,U1,PR1,,,,AB1 2CD,EF3 4GH,1000001",
            "NEW1,20/11/2026,S,C2,N1,U1,PR1,,,,AB1 2CD,EF3 4GH,1000002"]
REVIEWS = ["CHILD,DOB,REVIEW,REVIEW_CODE", "OLD1,01/03/2010,28/04/2015,PN1", "OLD1,01/03/2010,20/07/2015,PN1"]


class GoLive(DecisionCase):
    def import_903(self):
        paths = []
        for name, rows in (("header.csv", HEADER), ("episodes.csv", EPISODES), ("reviews.csv", REVIEWS)):
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write("\n".join(rows) + "\n")
            paths.append(path)
        self.ok("import", "ssda903", *paths, today="2026-11-30")

    def test_since_stops_the_flood_after_an_import(self):
        """[notify] since: clocks chased to a date before go-live are never
        reminded or escalated (they stay in the clocks and reports); the
        first plan after the import says how many it skipped. OLD1's care
        plan, reviews and visits have been overdue since 2015: nothing."""
        self.configure("since = 2026-11-01\n")
        self.ok("init")
        self.import_903()
        old = [c for c in json.loads(self.ok("clocks", "--child", "OLD1", "--format", "json", today="2026-11-30"))
               if c["status"] == "overdue"]
        self.assertTrue(old)   # they stay in the clocks
        dry = self.ok("deliveries", "plan", "--dry-run", "--now", "2026-11-30T09:00")
        self.assertIn("not reminded", dry)
        self.assertNotIn("OLD1", dry)
        self.assertEqual(self.deliveries(), [])   # a dry run writes nothing
        out = self.plan("2026-11-30T09:00")
        skipped = int(re.search(r"not reminded: (\d+) open clocks? due before \[notify\] since = 2026-11-01",
                                out).group(1))
        self.assertEqual(skipped, len(old))
        rows = self.deliveries()
        self.assertEqual([r for r in rows if r["child"] == "OLD1"], [])
        self.assertTrue([r for r in rows if r["child"] == "NEW1"])   # NEW1's clocks are chased
        self.assertIn("since", self.ok("config", "show"))

    def test_without_since_the_same_import_plans_the_old_history(self):
        self.ok("init")
        self.import_903()
        self.plan("2026-11-30T09:00")
        self.assertTrue([r for r in self.deliveries() if r["child"] == "OLD1"])

    def test_the_report_says_no_data_recorded_for_what_the_903_cannot_carry(self):
        """The SSDA903 return carries episodes and reviews, not care plan,
        PEP or visit dates: the care plan's figures are "no data recorded",
        not 0.0% on time; the review's name its meeting events and source."""
        self.ok("init")
        self.import_903()
        # (exit 3: OLD1's history reaches before the holiday calendar's years)
        p = self.run_cc("report", "timeliness", "--format", "json", today="2026-11-30")
        self.assertEqual(p.returncode, 3, p.stderr)
        report = json.loads(p.stdout)
        by = {c["clock"]: c for c in report["clocks"]}
        self.assertEqual(by["care_plan"]["data"], "no data recorded")
        self.assertEqual(by["care_plan"]["meeting_events"], 0)
        self.assertIsNone(by["care_plan"]["total"]["on_time_percent"])   # not 0.0
        self.assertEqual(by["review"]["data"], "recorded")
        self.assertEqual(by["review"]["meeting_events"], 2)
        self.assertEqual(by["review"]["meeting_event_sources"], "ssda903 2")
        table = self.run_cc("report", "timeliness", "--clock", "care_plan", today="2026-11-30").stdout
        self.assertIn("no data recorded", table)
        self.assertNotIn(" 0.0 ", table)
        csv = self.run_cc("report", "timeliness", "--clock", "care_plan", "--format", "csv", today="2026-11-30").stdout
        lines = csv.splitlines()
        head = lines[0].split(",")
        for line in lines[1:]:
            cells = line.split(",")
            self.assertEqual(cells[head.index("on_time_percent")], "no data recorded")
            self.assertEqual(cells[head.index("meeting_events")], "0")


class DataErrorNeverSilent(unittest.TestCase):
    """Issue 17 item 8, with the real careclockd: a child whose data is in
    error is in the digests of its worker and team manager ("this child's
    deadlines cannot be computed: REASON") and an event on today's date in
    the team's and the worker's feeds."""

    def setUp(self):
        self.council = Council()
        self.mail_dir = os.path.join(self.council.dir, "mail")
        self.smtp = Server("mailsink.py", self.mail_dir)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.stop(signal.SIGKILL)
        self.smtp.stop()
        self.council.cleanup()

    def mails_to(self, addr):
        import email
        import email.policy
        out = []
        if os.path.isdir(self.mail_dir):
            for name in sorted(os.listdir(self.mail_dir)):
                if name.endswith(".eml"):
                    with open(os.path.join(self.mail_dir, name), "rb") as f:
                        m = email.message_from_binary_file(f, policy=email.policy.default)
                    if m["To"].addresses[0].addr_spec == addr:
                        out.append(m.get_body(preferencelist=("plain",)).get_content())
        return out

    def test_worker_and_manager_hear_daily_and_the_feeds_show_it_today(self):
        c = self.council
        c.cli("child", "add", "C9", "--dob", "2015-01-01", "--team", "T1", "--worker", "W1", "--initials", "E.F.")
        # Another system wrote attributes that are not a JSON object of strings.
        con = sqlite3.connect(c.db)
        with con:
            con.execute("INSERT INTO events (child_id, type, date, attributes, source) VALUES "
                        "('C9', 'looked_after_start', '2026-11-02', '{\"emergency\":true}', 'lcs')")
        con.close()
        team_feed = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", c.cli("feed", "add", "--team", "T1").stdout).group(1)
        staff_feed = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", c.cli("feed", "add", "--staff", "W1").stdout).group(1)
        conf = c.write_config("[notify]\nwindow = 08:00-18:00\ndigest = yes\nsettle = 1\n[smtp]\n"
                              "url = smtp://127.0.0.1:%d\nfrom = careclock@council.example\ntls = none\n"
                              % self.smtp.port)
        self.daemon = Daemon(c, now="2026-11-30T09:00:00", config=conf)
        self.assertTrue(self.daemon.wait_notify("READY=1"), "\n".join(self.daemon.stderr_lines))
        for addr in ("w1@council.example", "tm1@council.example"):
            self.assertTrue(wait_until(lambda: self.mails_to(addr), timeout=30),
                            "%s: %s" % (addr, "\n".join(self.daemon.stderr_lines)))
            body = self.mails_to(addr)[0]
            self.assertIn("this child's deadlines cannot be computed", body.lower())
            self.assertIn("C9", body)
            self.assertIn('attributes {"emergency":true} are not a JSON object of strings', body)
            self.assertNotIn("due an unknown date", body)
        for path in (team_feed, staff_feed):
            p = subprocess.run(["curl", "-s", self.daemon.url(path)], capture_output=True)
            text = p.stdout.decode().replace("\r\n ", "")
            self.assertIn("SUMMARY:DATA ERROR: C9 (E.F.): deadlines cannot be computed", text)
            self.assertIn("DTSTART;VALUE=DATE:20261130", text)
        self.assertEqual(self.daemon.stop(), 0)
        self.daemon = None


class GoLiveDaemon(unittest.TestCase):
    def test_careclockd_keeps_history_before_since_quiet_and_says_so(self):
        """[notify] since with the real careclockd: a referral of 2025 (its
        assessment overdue since March 2025, Working Together 2023: 45
        working days) plans nothing; the whole-council plan logs how many
        clocks go-live kept quiet."""
        c = Council()
        try:
            c.cli("child", "add", "C1", "--dob", "2015-01-01", "--team", "T1", "--worker", "W1")
            c.cli("event", "add", "C1", "referral", "2025-01-06", today="2025-01-06")
            conf = c.write_config("[notify]\nwindow = 08:00-18:00\nsince = 2026-11-01\nsettle = 1\n")
            d = Daemon(c, now="2026-11-30T09:00:00", config=conf)
            try:
                self.assertTrue(d.wait_notify("READY=1"), "\n".join(d.stderr_lines))
                self.assertTrue(d.wait_log("due before [notify] since = 2026-11-01 not reminded or escalated"),
                                "\n".join(d.stderr_lines))
                rows = json.loads(c.cli("deliveries", "--format", "json", today=None).stdout)
                self.assertEqual(rows, [])
                self.assertEqual(d.stop(), 0)
            finally:
                d.stop(signal.SIGKILL)
        finally:
            c.cleanup()


if __name__ == "__main__":
    unittest.main()
