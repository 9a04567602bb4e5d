"""Calendar feeds through the careclock command: feed add/list/revoke (the
token shown once, only its hash stored), careclock ics parsed with
python3-icalendar (every component's error list walked), UIDs stable across
recomputes, SEQUENCE rising on change, privacy levels, hostile text, the
golden files of the renderer's unit tests, and khal importing a feed when
khal is installed."""
import glob
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import icalendar

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"), "careclock")
GOLDEN = os.path.join(ROOT, "tests", "fixtures", "ics")
URL_RE = re.compile(r"^(http://127\.0\.0\.1:8787|https://careclock\.council\.example)/feeds/([0-9a-f]{64})\.ics$")


def parse_clean(testcase, data):
    """Parse iCalendar bytes; fail on any component's parse errors."""
    cal = icalendar.Calendar.from_ical(data)
    for component in cal.walk():
        testcase.assertEqual(component.errors, [], "%s: %s" % (component.name, component.errors))
    testcase.assertEqual(cal.name, "VCALENDAR")
    testcase.assertNotIn("METHOD", cal)
    for line in data.split(b"\r\n"):
        testcase.assertLessEqual(len(line), 75, line)
    return cal


def events(cal):
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


class Feeds(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "plan.db")
        self.config = None
        self.ok("init")
        self.ok("staff", "add", "W1", "--name", "Wendy Worker", "--email", "w1@council.example", "--role", "worker")
        self.ok("staff", "add", "W2", "--name", "Will Worker", "--email", "w2@council.example", "--role", "worker")
        self.ok("staff", "add", "IRO1", "--name", "Indira Reviewing", "--email", "iro@council.example", "--role",
                "iro")
        self.ok("staff", "add", "TM1", "--name", "Tom Manager", "--email", "tm1@council.example", "--role",
                "team_manager")
        self.ok("staff", "add", "SM1", "--name", "Sam Service", "--email", "sm1@council.example", "--role",
                "service_manager")
        self.ok("team", "add", "T1", "--name", "East", "--manager", "TM1", "--service-manager", "SM1")
        self.ok("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1", "--iro", "IRO1",
                "--initials", "A.B.", "--name", "Alice Brown")
        self.ok("child", "add", "C2", "--dob", "2012-06-01", "--team", "T1", "--worker", "W2", "--initials", "C.D.")
        for child in ("C1", "C2"):
            self.ok("event", "add", child, "looked_after_start", "2026-11-02", today="2026-11-10")
            self.ok("event", "add", child, "placement_start", "2026-11-02", today="2026-11-10")

    def tearDown(self):
        self.tmp.cleanup()

    def write_config(self, text):
        self.config = os.path.join(self.tmp.name, "careclock.conf")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)

    def run_cc(self, *args, today="2026-11-10", binary=False):
        cmd = [BIN, "--db", self.db] + (["--config", self.config] if self.config else [])
        cmd += (["--today", today] if today else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=not binary)

    def ok(self, *args, today="2026-11-10", binary=False):
        p = self.run_cc(*args, today=today, binary=binary)
        self.assertEqual(p.returncode, 0, "%s: %s" % (args, p.stderr))
        return p.stdout

    def ics(self, *args, today="2026-11-10"):
        return self.ok("ics", *args, today=today, binary=True)

    def uid(self, child, clock, seq=1, encoded=None):
        """The UID of a clock instance: child, clock and the instance's
        identity (the event its series began with, and its place), which
        the clocks table holds (issue 15 item 7)."""
        con = sqlite3.connect(self.db)
        try:
            (instance,), = con.execute("SELECT instance FROM clocks WHERE child_id = ? AND rule_id = ? AND seq = ?",
                                       (child, clock, seq)).fetchall()
        finally:
            con.close()
        return "%s-%s-%s@careclock" % (encoded or child, clock, instance)

    # ---- feed add / list / revoke ----

    def test_add_shows_token_once_and_stores_only_its_hash(self):
        p = self.run_cc("feed", "add", "--team", "T1")
        self.assertEqual(p.returncode, 0, p.stderr)
        url = p.stdout.strip()
        m = URL_RE.match(url)
        self.assertIsNotNone(m, url)
        token = m.group(2)
        self.assertNotIn(token, p.stderr)
        self.assertIn("feed 1 (team T1)", p.stderr)
        con = sqlite3.connect(self.db)
        rows = con.execute("SELECT id, kind, target_id, token_hash, revoked_at FROM feeds").fetchall()
        con.close()
        self.assertEqual(rows, [(1, "team", "T1", hashlib.sha256(token.encode()).hexdigest(), None)])
        # the token is nowhere in the database files
        for path in glob.glob(self.db + "*"):
            with open(path, "rb") as f:
                self.assertNotIn(token.encode(), f.read(), path)
        # a second feed gets a different token
        url2 = self.ok("feed", "add", "--staff", "IRO1").strip()
        self.assertNotEqual(URL_RE.match(url2).group(2), token)
        # list: never a token or its hash
        listing = self.ok("feed", "list")
        self.assertNotIn(token, listing)
        self.assertNotIn(rows[0][3], listing)
        self.assertIn("team   T1", listing)
        self.assertIn("staff  IRO1", listing)
        self.assertIn("(2 feeds)", listing)

    def test_list_revoke(self):
        self.ok("feed", "add", "--team", "T1")
        self.ok("feed", "add", "--staff", "W1")
        import json
        feeds = json.loads(self.ok("feed", "list", "--format", "json"))
        self.assertEqual([(f["id"], f["kind"], f["target"], f["revoked_at"], f["last_access_at"], f["access_count"])
                          for f in feeds],
                         [(1, "team", "T1", None, None, 0), (2, "staff", "W1", None, None, 0)])
        self.assertEqual(self.ok("feed", "revoke", "1"), "feed 1 revoked\n")
        feeds = json.loads(self.ok("feed", "list", "--format", "json"))
        self.assertRegex(feeds[0]["revoked_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsNone(feeds[1]["revoked_at"])
        self.assertIn("revoked 20", self.ok("feed", "list"))
        p = self.run_cc("feed", "revoke", "1")
        self.assertEqual(p.returncode, 2)
        self.assertIn("revoked already", p.stderr)
        p = self.run_cc("feed", "revoke", "7")
        self.assertEqual(p.returncode, 2)
        self.assertIn("feed 7 does not exist", p.stderr)

    def test_bad_input(self):
        for args, message in [
            (("feed", "add", "--team", "T9"), 'team "T9" does not exist'),
            (("feed", "add", "--staff", "X"), 'staff member "X" does not exist'),
            (("feed", "add"), "--team ID or --staff ID is required"),
            (("feed", "add", "--team", "T1", "--staff", "W1"), "give one of --team or --staff"),
            (("feed", "add", "--team"), "missing value"),
            (("feed", "revoke", "abc"), "usage"),
            (("feed", "frobnicate"), "usage"),
            (("ics", "--team", "T9"), 'team "T9" does not exist'),
            (("ics",), "--team ID or --staff ID is required"),
        ]:
            p = self.run_cc(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(message, p.stderr, args)
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("SELECT count(*) FROM feeds").fetchone()[0], 0)
        con.close()

    def test_public_url_from_configuration(self):
        self.write_config("[http]\npublic_url = https://careclock.council.example/\n")
        url = self.ok("feed", "add", "--team", "T1").strip()
        self.assertTrue(URL_RE.match(url), url)
        self.assertTrue(url.startswith("https://careclock.council.example/feeds/"), url)

    # ---- careclock ics ----

    def test_ics_parses_and_shows_the_team(self):
        data = self.ics("--team", "T1")
        cal = parse_clean(self, data)
        self.assertEqual(str(cal["X-WR-CALNAME"]), "careclock: East")
        self.assertEqual(str(cal["X-WR-TIMEZONE"]), "Europe/London")
        self.assertIn(b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n", data)
        self.assertIn(b"\r\nX-PUBLISHED-TTL:PT1H\r\n", data)
        evs = events(cal)
        # per episode: the instance is the episode's looked_after_start (event 1 for C1, 3 for C2), first of its series
        self.assertEqual(self.uid("C1", "care_plan"), "C1-care_plan-1.1@careclock")
        self.assertEqual(self.uid("C2", "care_plan"), "C2-care_plan-3.1@careclock")
        self.assertIn("C1-care_plan-1.1@careclock", evs)
        self.assertIn("C2-care_plan-3.1@careclock", evs)
        care = evs["C1-care_plan-1.1@careclock"]
        self.assertEqual(str(care["SUMMARY"]), "Care plan due: C1 (A.B.)")
        self.assertEqual(care["DTSTART"].dt.isoformat(), "2026-11-16")
        self.assertEqual(care["DTEND"].dt.isoformat(), "2026-11-17")
        self.assertEqual(str(care["CATEGORIES"].to_ical(), "utf-8"), "care_plan")
        self.assertIn("Worker: Wendy Worker", str(care["DESCRIPTION"]))
        self.assertIn("Started by: placement start on Mon 2 Nov 2026", str(care["DESCRIPTION"]))
        self.assertIn("CPPCR 2010 reg 4(2)", str(care["DESCRIPTION"]))
        # UIDs sorted, no full name by default
        uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
        self.assertEqual(uids, sorted(uids))
        self.assertNotIn(b"Alice", data)

    def test_staff_feeds_by_role(self):
        def children(staff):
            return sorted({str(e["UID"]).split("-")[0] for e in parse_clean(self, self.ics("--staff", staff))
                           .walk("VEVENT")})
        self.assertEqual(children("W1"), ["C1"])
        self.assertEqual(children("W2"), ["C2"])
        self.assertEqual(children("IRO1"), ["C1"])
        self.assertEqual(children("TM1"), ["C1", "C2"])
        self.assertEqual(children("SM1"), ["C1", "C2"])
        cal = parse_clean(self, self.ics("--staff", "IRO1"))
        self.assertEqual(str(cal["X-WR-CALNAME"]), "careclock: Indira Reviewing")

    def test_same_state_same_bytes_uids_stable_sequence_rises(self):
        first = self.ics("--team", "T1")
        self.assertEqual(self.ics("--team", "T1"), first)  # nothing changed: identical bytes
        before = events(parse_clean(self, first))
        # an unrelated change to another child recomputes, changing none of C1's events
        self.ok("event", "add", "C2", "pep_completed", "2026-11-05")
        after = events(parse_clean(self, self.ics("--team", "T1")))
        for uid, ev in before.items():
            if uid.startswith("C1-"):
                self.assertIn(uid, after)
                self.assertEqual(ev.to_ical(), after[uid].to_ical(), uid)
        # meeting C1's care plan: same UID, status done, SEQUENCE up by one, newer DTSTAMP
        self.ok("event", "add", "C1", "care_plan_completed", "2026-11-09")
        met = events(parse_clean(self, self.ics("--team", "T1")))
        uid = self.uid("C1", "care_plan")
        self.assertEqual(int(met[uid]["SEQUENCE"]), int(before[uid]["SEQUENCE"]) + 1)
        self.assertEqual(str(met[uid]["SUMMARY"]), "Done: Care plan due: C1 (A.B.)")
        self.assertGreaterEqual(met[uid]["DTSTAMP"].dt, before[uid]["DTSTAMP"].dt)
        self.assertEqual(met[uid]["LAST-MODIFIED"].dt, met[uid]["DTSTAMP"].dt)
        # the day moves on: overdue clocks say so, UIDs unchanged
        later = events(parse_clean(self, self.ics("--team", "T1", today="2026-11-20")))
        self.assertEqual(set(later), set(met))
        uid2 = self.uid("C2", "care_plan")
        self.assertEqual(str(later[uid2]["SUMMARY"]), "OVERDUE: Care plan due: C2 (C.D.)")
        self.assertGreater(int(later[uid2]["SEQUENCE"]), int(met[uid2]["SEQUENCE"]))
        # met clocks stay 30 days after they were met, then leave
        self.assertIn(uid, events(parse_clean(self, self.ics("--team", "T1", today="2026-12-09"))))
        self.assertNotIn(uid, events(parse_clean(self, self.ics("--team", "T1", today="2026-12-10"))))

    def test_cancelled_clocks(self):
        self.ok("event", "add", "C2", "looked_after_end", "2026-11-06")
        cal = parse_clean(self, self.ics("--team", "T1"))
        # Issue 18: a cancelled clock leaves the feed at once (nothing is
        # owed; "Cancelled" events only cluttered the week), so subscribed
        # clients delete the event at their next refresh.
        self.assertFalse([e for e in cal.walk("VEVENT") if str(e.get("STATUS", "")) == "CANCELLED"])
        self.assertFalse([e for e in cal.walk("VEVENT") if str(e["SUMMARY"]).startswith("Cancelled: ")])

    def test_privacy_levels(self):
        self.write_config("[careclock]\nprivacy = reference\n")
        data = self.ics("--team", "T1")
        parse_clean(self, data)
        self.assertNotIn(b"A.B.", data)
        self.assertNotIn(b"Alice", data)
        self.assertIn(b"SUMMARY:Care plan due: C1\r\n", data)
        self.write_config("[careclock]\nprivacy = full\n")
        evs = events(parse_clean(self, self.ics("--team", "T1")))
        self.assertEqual(str(evs[self.uid("C1", "care_plan")]["SUMMARY"]), "Care plan due: C1 (Alice Brown)")
        # no full name recorded: initials
        self.assertEqual(str(evs[self.uid("C2", "care_plan")]["SUMMARY"]), "Care plan due: C2 (C.D.)")

    def test_hostile_text(self):
        self.write_config("[careclock]\nprivacy = full\n")
        hostile_name = "Zoë Ó'Brien-Łukasiewicz, Jr.; \\\"the\\\" 3rd 日本語 " + "é" * 40
        self.ok("staff", "add", "W3", "--name", "Siân, Ní; Bhriain \\ W", "--email", "w3@council.example", "--role",
                "worker")
        self.ok("child", "add", "C,3;\\x", "--dob", "2014-01-01", "--team", "T1", "--worker", "W3", "--initials",
                "Z.Ó.", "--name", hostile_name)
        self.ok("event", "add", "C,3;\\x", "looked_after_start", "2026-11-02")
        self.ok("event", "add", "C,3;\\x", "placement_start", "2026-11-02")
        # another system writes a line break and a would-be property into a name
        con = sqlite3.connect(self.db)
        with con:
            con.execute("UPDATE teams SET name = ? WHERE id = 'T1'", ("East,\r\nX-INJECTED:1; \\ Gorllewin",))
            con.execute("UPDATE children SET full_name = ? WHERE id = 'C1'", ("Alice\r\nEND:VEVENT\r\nBEGIN:VEVENT",))
        con.close()
        data = self.ics("--team", "T1")
        cal = parse_clean(self, data)
        self.assertNotIn(b"\r\nX-INJECTED", data)
        self.assertEqual(data.count(b"BEGIN:VEVENT\r\n"), len(cal.walk("VEVENT")))
        # X- properties lose , ; and \ (python-vobject cut the name at a comma)
        self.assertEqual(str(cal["X-WR-CALNAME"]), "careclock: East  X-INJECTED:1  Gorllewin")
        evs = events(cal)
        uid = self.uid("C,3;\\x", "care_plan", encoded="C%2c3%3b%5cx")
        self.assertIn(uid, evs)
        self.assertEqual(str(evs[uid]["SUMMARY"]), "Care plan due: C,3;\\x (%s)" % hostile_name)
        self.assertIn("Worker: Siân, Ní; Bhriain \\ W", str(evs[uid]["DESCRIPTION"]))
        self.assertEqual(str(evs[self.uid("C1", "care_plan")]["SUMMARY"]),
                         "Care plan due: C1 (Alice  END:VEVENT  BEGIN:VEVENT)")

    def test_golden_files_parse(self):
        files = sorted(glob.glob(os.path.join(GOLDEN, "*.ics")))
        self.assertGreaterEqual(len(files), 5)
        for path in files:
            with open(path, "rb") as f:
                parse_clean(self, f.read())

    @unittest.skipUnless(shutil.which("khal"), "khal is not installed (tools/deps.sh installs it)")
    def test_khal_imports_the_feed(self):
        data = self.ics("--team", "T1")
        home = os.path.join(self.tmp.name, "khal")
        caldir = os.path.join(home, "calendar")
        os.makedirs(caldir)
        conf = os.path.join(home, "config")
        with open(conf, "w") as f:
            f.write("[calendars]\n[[careclock]]\npath = %s\ntype = calendar\n"
                    "[locale]\ntimeformat = %%H:%%M\ndateformat = %%Y-%%m-%%d\nlongdateformat = %%Y-%%m-%%d\n"
                    "datetimeformat = %%Y-%%m-%%d %%H:%%M\nlongdatetimeformat = %%Y-%%m-%%d %%H:%%M\n"
                    "local_timezone = Europe/London\ndefault_timezone = Europe/London\n" % caldir)
        feed = os.path.join(home, "feed.ics")
        with open(feed, "wb") as f:
            f.write(data)
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(home, "data"), XDG_CONFIG_HOME=home)
        p = subprocess.run(["khal", "-c", conf, "import", "--batch", "-a", "careclock", feed],
                           capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run(["khal", "-c", conf, "list", "--format", "{title}", "2026-11-16", "1d"],
                           capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Care plan due: C1 (A.B.)", p.stdout)
        self.assertEqual(len(os.listdir(caldir)), len(parse_clean(self, data).walk("VEVENT")))


if __name__ == "__main__":
    unittest.main()
