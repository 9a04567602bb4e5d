"""A clock's identity survives a late-recorded history, and nobody is chased
after the child leaves care (issue 15, items 7 and 6), through the real
binaries against a real SMTP server (aiosmtpd, tests/integration/mailsink.py).

Item 7, the issue's scenario: careclock is used from the CLI for a child's
current episode of care, its reminders and escalations go out, and then an
earlier episode is recorded (by hand, or by importing an older SSDA903
history). That renumbered every later instance, and the outbox keyed its
deliveries by that number: the team and service managers were sent "Now met,
on Sat 1 Feb 2025" for a review that is still overdue (the earlier episode's
review took its number), and every stage of the real review was sent again
with new Message-IDs. Now each instance is known by the event its series
began with and its place in the series, which history recorded before it
cannot change.

The review clock (config/rules/england.rules; CPPCR 2010 reg 33(1): the first
review within 20 working days of becoming looked after): looked after from
Mon 3 Mar 2025, due Mon 31 Mar 2025; its stages -10wd IRO (Mon 17 Mar), -5wd
worker (Mon 24 Mar), -1wd worker (Fri 28 Mar), +1wd team manager (Tue 1 Apr),
+5wd service manager (Mon 7 Apr). The earlier episode: looked after from Mon 2
Dec 2024, a review held on Sat 1 Feb 2025, left care on Fri 14 Feb 2025.

Item 6: the looked-after duties end with the episode (Children Act 1989 s22:
a child looked after; CPPCR 2010 reg 2 and the duties it defines are to such
a child): a care plan missed before the child left stays overdue (honest
figures), but nobody is reminded or escalated about it afterwards, and a
pending escalation is cancelled "the child left care on DATE". Clocks not
tied to an episode of care (child protection) are unaffected."""
import email
import email.policy
import json
import os
import sqlite3
import subprocess
import tempfile
import unittest

from schema_v8 import CURRENT, UNDO_9
from test_delivery import Server

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"))
BIN = os.path.join(BUILD, "careclock")

CURRENT_START = "2025-03-03"
EARLIER_START, EARLIER_REVIEW, EARLIER_END = "2024-12-02", "2025-02-01", "2025-02-14"

# The schema before migration 8 (version 7): clocks keyed and deliveries
# unique by seq. Column for column as migrations 1 to 7 left them.
CLOCKS_V7 = """CREATE TABLE clocks (
  child_id TEXT NOT NULL, rule_id TEXT NOT NULL, seq INTEGER NOT NULL, title TEXT NOT NULL, start_date TEXT,
  due_date TEXT, status TEXT NOT NULL, met_on TEXT, start_event_id INTEGER, met_event_id INTEGER, reason TEXT,
  flags INTEGER NOT NULL DEFAULT 0, source TEXT, updated_at TEXT NOT NULL, sequence INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (child_id, rule_id, seq)) WITHOUT ROWID"""
DELIVERIES_V7 = """CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, child_id TEXT NOT NULL, rule_id TEXT NOT NULL, seq INTEGER NOT NULL, stage TEXT NOT NULL,
  recipient TEXT NOT NULL, channel TEXT NOT NULL CHECK (channel IN ('email','webhook')), role TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('reminder','escalation','met')), address TEXT, due_date TEXT,
  stage_date TEXT NOT NULL, due_at TEXT NOT NULL, immediate INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
    ('pending','sending','sent','retrying','failed','undeliverable','cancelled')),
  batch INTEGER, message_id TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT, first_attempt_at TEXT,
  last_error TEXT, claimed_by TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  sent_at TEXT, UNIQUE (child_id, rule_id, seq, stage, recipient, channel))"""
CLOCK_COLS = ("child_id, rule_id, seq, title, start_date, due_date, status, met_on, start_event_id, met_event_id, "
              "reason, flags, source, updated_at, sequence")
DELIVERY_COLS = ("id, child_id, rule_id, seq, stage, recipient, channel, role, kind, address, due_date, stage_date, "
                 "due_at, immediate, state, batch, message_id, attempts, next_attempt_at, first_attempt_at, "
                 "last_error, claimed_by, created_at, updated_at, sent_at")


class Council(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "plan.db")
        self.conf = os.path.join(self.dir, "careclock.conf")
        self.mail_dir = os.path.join(self.dir, "mail")
        self.smtp = Server("mailsink.py", self.mail_dir)
        with open(self.conf, "w") as f:
            f.write("[notify]\nwindow = 08:00-18:00\ndigest = yes\n[smtp]\nurl = smtp://127.0.0.1:%d\n"
                    "from = careclock@council.example\ntls = none\n" % self.smtp.port)
        self.ok("init")
        for sid, name, role in (("W1", "Wendy Worker", "worker"), ("IRO1", "Indira Reviewing", "iro"),
                                ("TM1", "Tom Manager", "team_manager"), ("SM1", "Sam Service", "service_manager")):
            self.ok("staff", "add", sid, "--name", name, "--email", sid.lower() + "@council.example", "--role", role)
        self.ok("team", "add", "T1", "--name", "East", "--manager", "TM1", "--service-manager", "SM1")

    def tearDown(self):
        self.smtp.stop()
        self.tmp.cleanup()

    def run_cc(self, *args, today=None, binary=BIN):
        cmd = [binary, "--db", self.db, "--config", self.conf] + (["--today", today] if today else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True)

    def ok(self, *args, today=None):
        p = self.run_cc(*args, today=today)
        self.assertEqual(p.returncode, 0, "%s: %s" % (args, p.stderr))
        return p.stdout

    def deliver(self, now):
        return self.ok("deliveries", "run", "--now", now)

    def deliveries(self):
        return json.loads(self.ok("deliveries", "--format", "json"))

    def clocks(self, child, today):
        return json.loads(self.ok("clocks", "--child", child, "--format", "json", today=today))

    def sql(self, statement, params=()):
        con = sqlite3.connect(self.db)
        try:
            with con:
                return con.execute(statement, params).fetchall()
        finally:
            con.close()

    def mails(self):
        out = []
        if os.path.isdir(self.mail_dir):
            for name in sorted(os.listdir(self.mail_dir)):
                if name.endswith(".eml"):
                    with open(os.path.join(self.mail_dir, name), "rb") as f:
                        msg = email.message_from_binary_file(f, policy=email.policy.default)
                    out.append((msg["To"].addresses[0].addr_spec, msg["Subject"], msg["Message-ID"],
                                msg.get_body(preferencelist=("plain",)).get_content()))
        return out

    def child_in_care_from_cli(self, child="C1"):
        """A child looked after from Mon 3 Mar 2025, recorded with the CLI, and
        every stage of its first review sent: on Mon 7 Apr 2025 the review is
        overdue (due Mon 31 Mar), the service manager's +5wd stage has come."""
        self.ok("child", "add", child, "--dob", "2015-04-01", "--team", "T1", "--worker", "W1", "--iro", "IRO1",
                "--initials", "A.B.")
        self.ok("event", "add", child, "looked_after_start", CURRENT_START, today=CURRENT_START)
        for now in ("2025-03-17T09:00", "2025-03-24T09:00", "2025-03-28T09:00", "2025-04-01T09:00",
                    "2025-04-07T09:00"):
            self.deliver(now)
        review = [d for d in self.deliveries() if d["clock"] == "review"]
        self.assertEqual(sorted((d["stage"], d["recipient"]) for d in review),
                         [("+1wd", "TM1"), ("+5wd", "SM1"), ("-10wd", "IRO1"), ("-1wd", "W1"), ("-5wd", "W1")])
        self.assertEqual({d["state"] for d in review}, {"sent"})

    def assert_nothing_sent_again(self, before_rows, before_mails, quiet=True):
        """Every row sent before is still there, sent once, with its id and
        Message-ID (the same Message-ID: the message is the same message);
        none of their clock instances has a row more (no stage sent again);
        no "now met" for anything. quiet: no message at all went out since;
        else the messages since are about other clocks only (below)."""
        after = {d["id"]: d for d in self.deliveries()}
        for row in before_rows:
            self.assertIn(row["id"], after)
            self.assertEqual((after[row["id"]]["state"], after[row["id"]]["message_id"]),
                             (row["state"], row["message_id"]), row)
        before_ids = {row["id"] for row in before_rows}
        their_instances = {(after[i]["clock"], after[i]["instance"]) for i in before_ids}
        again = [d for d in after.values() if d["id"] not in before_ids and (d["clock"], d["instance"]) in
                 their_instances]
        self.assertEqual(again, [], "a clock already reminded got rows again")
        self.assertEqual([d for d in after.values() if d["kind"] == "met"], [])
        mails = self.mails()
        self.assertEqual(mails[:len(before_mails)], before_mails)
        if quiet:
            self.assertEqual(mails, before_mails)
        for to, subject, _, body in mails[len(before_mails):]:
            # Messages about other clocks may follow; never the LAC review,
            # and never "now met" or "no longer needed".
            self.assertNotIn("LAC review", body, to)
            self.assertNotIn("Now met", subject)
            self.assertNotIn("No longer needed", subject)
            self.assertNotIn("Sat 1 Feb 2025", body)

    def assert_current_review_still_overdue(self, instance, today="2025-04-09"):
        reviews = [c for c in self.clocks("C1", today) if c["clock"] == "review"]
        current = [c for c in reviews if c["start"] == CURRENT_START]
        self.assertEqual(len(current), 1, reviews)
        self.assertEqual((current[0]["status"], current[0]["due"], current[0]["instance"]),
                         ("overdue", "2025-03-31", instance))
        return reviews


class LateHistory(Council):
    """Issue 15 item 7: the scenario, by hand and by an SSDA903 import."""

    def current_review_instance(self):
        (las,), = self.sql("SELECT id FROM events WHERE child_id = 'C1' AND type = 'looked_after_start'")
        return "%d.1" % las

    def test_an_earlier_episode_recorded_by_hand_moves_no_delivery(self):
        self.child_in_care_from_cli()
        instance = self.current_review_instance()
        before_rows, before_mails = self.deliveries(), self.mails()
        self.assertEqual({d["instance"] for d in before_rows if d["clock"] == "review"}, {instance})
        # The earlier episode, recorded on Tue 8 Apr 2025.
        self.ok("event", "add", "C1", "looked_after_start", EARLIER_START, today="2025-04-08")
        self.ok("event", "add", "C1", "review_held", EARLIER_REVIEW, today="2025-04-08")
        self.ok("event", "add", "C1", "looked_after_end", EARLIER_END, today="2025-04-08")
        reviews = self.assert_current_review_still_overdue(instance, today="2025-04-08")
        # The earlier review took number 1; the current one is number 2 now, its identity unchanged.
        self.assertEqual(sorted((c["seq"], c["start"], c["status"]) for c in reviews),
                         [(1, EARLIER_START, "met_late"), (2, EARLIER_REVIEW, "cancelled"),
                          (3, CURRENT_START, "overdue")])
        self.deliver("2025-04-08T09:00")
        self.deliver("2025-04-09T09:00")
        # Nothing at all: the earlier episode's clocks (its review's minutes
        # and IRO report too) were closed by its end of care, so no reminder
        # or escalation goes out about history recorded late (issue 15 item 6).
        self.assert_nothing_sent_again(before_rows, before_mails, quiet=True)
        # explain takes the number shown now, or the instance, for the same clock
        by_seq = self.ok("explain", "C1", "review", "3", today="2025-04-09")
        by_key = self.ok("explain", "C1", "review", instance, today="2025-04-09")
        self.assertEqual(by_seq, by_key)
        self.assertIn("number 3 for child C1", by_seq)
        self.assertIn("Instance: %s" % instance, by_seq)
        p = self.run_cc("explain", "C1", "review", "999.1", today="2025-04-09")
        self.assertEqual(p.returncode, 2)
        self.assertIn("none is instance 999.1", p.stderr)

    def test_an_older_ssda903_history_imported_after_cli_use_moves_no_delivery(self):
        self.child_in_care_from_cli()
        instance = self.current_review_instance()
        before_rows, before_mails = self.deliveries(), self.mails()
        extract = os.path.join(self.dir, "903")
        os.mkdir(extract)
        files = {
            "header.csv": ["CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB", "C1,1,01/04/2015,WBRI,A123456789012,,"],
            "episodes.csv": ["CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
                             "PL_POST,URN",
                             "C1,02/12/2024,S,C2,N1,U1,PR1,14/02/2025,E11,,AB1 2CD,EF3 4GH,1234567"],
            "reviews.csv": ["CHILD,DOB,REVIEW,REVIEW_CODE", "C1,01/04/2015,01/02/2025,PN1"],
        }
        for name, lines in files.items():
            with open(os.path.join(extract, name), "w", newline="") as f:
                f.write("\r\n".join(lines) + "\r\n")
        self.ok("import", "ssda903", extract, today="2025-04-08")
        self.assertEqual(self.sql("SELECT count(*) FROM events WHERE child_id = 'C1' AND source = 'ssda903'"), [(4,)])
        self.assert_current_review_still_overdue(instance, today="2025-04-08")
        self.deliver("2025-04-08T09:00")
        self.deliver("2025-04-09T09:00")
        self.assert_nothing_sent_again(before_rows, before_mails, quiet=True)


class Upgrade(Council):
    """Issue 15 item 7: a database of schema 7 with sent deliveries, keyed by
    seq, upgraded by migration 8: nothing is sent twice, by `careclock
    deliveries run` or by careclockd, and the rows end up keyed by the
    instances (the first evaluation after the upgrade maps them)."""

    def to_schema_7(self):
        """The database as schema 7 had it (migration 9 undone first, schema_v8):
        clocks and deliveries keyed by seq
        (every row and id kept, as a schema 7 careclock would have written
        them), user_version 7."""
        con = sqlite3.connect(self.db)
        try:
            con.executescript(
                "BEGIN;" + UNDO_9 +
                "ALTER TABLE clocks RENAME TO clocks_8; %s; INSERT INTO clocks (%s) SELECT %s FROM clocks_8;"
                "DROP TABLE clocks_8; CREATE INDEX clocks_by_status ON clocks(status, due_date);"
                "ALTER TABLE deliveries RENAME TO deliveries_8; %s; INSERT INTO deliveries (%s) SELECT %s FROM "
                "deliveries_8; DROP TABLE deliveries_8;"
                "CREATE INDEX deliveries_ready ON deliveries(next_attempt_at) WHERE state IN ('pending','retrying');"
                "CREATE INDEX deliveries_by_state ON deliveries(state);"
                "CREATE INDEX deliveries_by_batch ON deliveries(batch) WHERE batch IS NOT NULL;"
                "PRAGMA user_version = 7; COMMIT;"
                % (CLOCKS_V7, CLOCK_COLS, CLOCK_COLS, DELIVERIES_V7, DELIVERY_COLS, DELIVERY_COLS))
        finally:
            con.close()
        self.assertEqual(self.sql("PRAGMA user_version"), [(7,)])
        self.assertNotIn("instance", [r[1] for r in self.sql("PRAGMA table_info(deliveries)")])

    def test_upgraded_database_sends_nothing_twice(self):
        self.child_in_care_from_cli()
        before_rows, before_mails = self.deliveries(), self.mails()
        self.to_schema_7()
        self.deliver("2025-04-08T09:00")  # opens (migrates), evaluates, plans, sends what is due
        self.assertEqual(self.sql("PRAGMA user_version"), [(CURRENT,)])
        self.assert_nothing_sent_again(before_rows, before_mails)
        # Every row carried over to the instance its clock has now: none left provisional.
        instances = dict(self.sql("SELECT rule_id || ':' || seq, instance FROM clocks WHERE child_id = 'C1'"))
        for d in self.deliveries():
            self.assertEqual(d["instance"], instances["%s:%d" % (d["clock"], d["seq"])], d)
        self.assertEqual(self.sql("SELECT count(*) FROM deliveries WHERE instance LIKE '#%'"), [(0,)])
        # careclockd on the upgraded database: its whole-council plan adds nothing.
        from daemon_harness import Daemon, wait_until

        class Here:
            dir, db = self.dir, self.db
        d = Daemon(Here, now="2025-04-09T09:00:00", config=self.conf)
        try:
            self.assertTrue(d.wait_log("deliveries: every child planned"), "\n".join(d.stderr_lines))
            (planned,) = [line for line in d.stderr_lines if "every child planned" in line]
            self.assertIn(" 0 new deliveries", planned)
            wait_until(lambda: False, timeout=1)  # a cycle's sending, had anything been planned
        finally:
            self.assertEqual(d.stop(), 0, "\n".join(d.stderr_lines))
        self.assert_nothing_sent_again(before_rows, before_mails)

    def test_history_recorded_before_the_first_evaluation_after_the_upgrade(self):
        """The hard case: another system records the earlier episode into the
        schema 7 database (its triggers queue the child), then the upgrade.
        The first evaluation renumbers the reviews and maps the old rows by
        the event that started each clock, not by the number it had."""
        self.child_in_care_from_cli()
        before_rows, before_mails = self.deliveries(), self.mails()
        instance = "%d.1" % self.sql("SELECT id FROM events WHERE type = 'looked_after_start'")[0][0]
        self.to_schema_7()
        self.sql("INSERT INTO events (child_id, type, date, source) VALUES ('C1', 'looked_after_start', ?, 'mis'), "
                 "('C1', 'review_held', ?, 'mis'), ('C1', 'looked_after_end', ?, 'mis')",
                 (EARLIER_START, EARLIER_REVIEW, EARLIER_END))
        self.deliver("2025-04-08T09:00")
        self.deliver("2025-04-09T09:00")
        self.assert_nothing_sent_again(before_rows, before_mails, quiet=True)
        self.assert_current_review_still_overdue(instance)
        self.assertEqual({d["instance"] for d in self.deliveries() if d["clock"] == "review"}, {instance})


class AfterLeavingCare(Council):
    """Issue 15 item 6. The care plan (CPPCR 2010 reg 4(2); within 10
    working days of the placement): placed Mon 2 Nov 2026, due Mon 16 Nov;
    +1wd team manager Tue 17 Nov, +5wd service manager Mon 23 Nov 2026. The
    child leaves care on Wed 18 Nov, after the due date: the care plan stays
    overdue, but the looked-after duties ended with the episode (Children Act
    1989 s22; CPPCR 2010 reg 2)."""

    def placed(self, child="C1"):
        self.ok("child", "add", child, "--dob", "2015-04-01", "--team", "T1", "--worker", "W1", "--initials", "A.B.")
        self.ok("event", "add", child, "looked_after_start", "2026-11-02", today="2026-11-02")
        self.ok("event", "add", child, "placement_start", "2026-11-02", today="2026-11-02")
        self.deliver("2026-11-17T09:00")  # the team manager's escalation about the care plan goes
        self.assertIn(("+1wd", "TM1", "sent"), [(d["stage"], d["recipient"], d["state"]) for d in self.deliveries()
                                                if d["clock"] == "care_plan"])

    def test_no_escalation_a_week_after_the_child_left(self):
        self.placed()
        self.ok("event", "add", "C1", "looked_after_end", "2026-11-18", today="2026-11-18")
        before = len(self.mails())
        self.deliver("2026-11-23T09:00")
        self.deliver("2026-11-25T09:00")
        self.assertEqual(self.mails()[before:], [])
        self.assertEqual([d for d in self.deliveries() if d["clock"] == "care_plan" and d["recipient"] == "SM1"], [])
        # Honest figures: still overdue, and the day the child left is recorded with it.
        (care,) = [c for c in self.clocks("C1", "2026-11-25") if c["clock"] == "care_plan"]
        self.assertEqual((care["status"], care["left_care_on"]), ("overdue", "2026-11-18"))
        text = self.ok("explain", "C1", "care_plan", today="2026-11-25")
        self.assertIn("OVERDUE", text)
        self.assertIn("the child left care on 2026-11-18: no reminders", text)

    def test_a_pending_escalation_is_cancelled_with_the_reason(self):
        self.placed()
        self.deliver("2026-11-23T07:00")  # planned before the window opens: pending for 08:00
        (pending,) = [d for d in self.deliveries() if d["recipient"] == "SM1" and d["clock"] == "care_plan"]
        self.assertEqual((pending["stage"], pending["state"]), ("+5wd", "pending"))
        # The end of care, recorded late (on the Monday, before the window opens).
        self.ok("event", "add", "C1", "looked_after_end", "2026-11-18", today="2026-11-23")
        self.deliver("2026-11-23T09:00")
        (row,) = [d for d in self.deliveries() if d["id"] == pending["id"]]
        self.assertEqual(row["state"], "cancelled")
        self.assertEqual(row["last_error"], "not sent: the child left care on 2026-11-18")
        self.assertNotIn("Care plan", "".join(m[3] for m in self.mails() if m[0] == "sm1@council.example"))

    def test_child_protection_is_not_tied_to_the_episode(self):
        """An ICPC (Working Together 2023: 15 working days from the strategy
        discussion that initiated s47 enquiries) for a child who was looked
        after: the duty does not end with care, so its escalations go on."""
        self.placed()
        self.ok("event", "add", "C1", "strategy_discussion", "2026-11-03", "s47=yes", today="2026-11-03")
        self.ok("event", "add", "C1", "looked_after_end", "2026-11-18", today="2026-11-18")
        (icpc,) = [c for c in self.clocks("C1", "2026-11-25") if c["clock"] == "icpc"]
        self.assertEqual((icpc["due"], icpc["status"], icpc["left_care_on"]), ("2026-11-24", "overdue", None))
        self.deliver("2026-11-25T09:00")  # +1wd: team manager (now) and service manager
        sent = {(d["clock"], d["stage"], d["recipient"]) for d in self.deliveries() if d["state"] == "sent"}
        self.assertIn(("icpc", "+1wd", "TM1"), sent)
        self.assertIn(("icpc", "+1wd", "SM1"), sent)
        self.assertNotIn("care_plan", {c for c, s, r in sent if s == "+5wd"})


if __name__ == "__main__":
    unittest.main()
