"""Reminders and escalations end to end: `careclock deliveries run --now T` (the
delivery cycle careclockd runs on its timer) against real servers on loopback:
an SMTP server (aiosmtpd, tests/integration/mailsink.py) and a webhook receiver
that checks Standard Webhooks signatures with Python's own HMAC
(tests/integration/hooksink.py).

The clock under test is the special guardianship report: an sgo_notice on
Mon 5 Oct 2026 makes it due 12 weeks later, Mon 28 Dec 2026, a bank holiday
(Boxing Day, substitute day). Its stages (config/rules/england.rules), worked
out on the England and Wales calendar and checked with `careclock calc`:
  -10wd worker           Fri 11 Dec 2026
  -5wd  worker           Fri 18 Dec 2026
  -1wd  worker           Thu 24 Dec 2026
  +1wd  team manager     Tue 29 Dec 2026 (Mon 28 Dec is day 0 and not a working day)
  +5wd  service manager  Tue 5 Jan 2027  (Fri 1 Jan is New Year's Day)
The sending window is 08:00-18:00 on working days, Europe/London (GMT in
winter, so local time = UTC in these dates)."""
import email
import email.policy
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"), "careclock")
PYTHON = "/usr/bin/python3"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

SGO_NOTICE = "2026-10-05"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A sink started as a subprocess; it prints "PORT n" once it listens."""

    def __init__(self, script, directory, *args):
        self.directory = directory
        self.proc = subprocess.Popen([PYTHON, os.path.join(HERE, script), "--dir", directory] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError("%s did not start: %s %s" % (script, line, self.proc.stderr.read()))
        self.port = int(line.split()[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class DeliveryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "plan.db")
        self.conf = os.path.join(self.dir, "careclock.conf")
        self.servers = []
        with open(os.path.join(self.dir, "smtp-password"), "w") as f:
            f.write("correct horse\n")
        with open(os.path.join(self.dir, "webhook-secret"), "w") as f:
            f.write(SECRET + "\n")
        self.mail_dir = os.path.join(self.dir, "mail")
        self.hook_dir = os.path.join(self.dir, "hooks")

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.tmp.cleanup()

    # ---- servers and configuration ----

    def mail_server(self, *args, port=None):
        extra = ["--user", "careclock", "--password", "correct horse"] + list(args)
        if port:
            extra += ["--port", str(port)]
        s = Server("mailsink.py", self.mail_dir, *extra)
        self.servers.append(s)
        return s

    def hook_server(self, *args):
        s = Server("hooksink.py", self.hook_dir, "--secret", SECRET, *args)
        self.servers.append(s)
        return s

    def configure(self, smtp_port=None, hook_port=None, hook_format="generic", digest="yes", privacy="initials",
                  extra="", tls="none"):
        lines = ["[careclock]", "privacy = %s" % privacy, "[notify]", "window = 08:00-18:00", "digest = %s" % digest]
        if smtp_port:
            lines += ["[smtp]", "url = smtp://127.0.0.1:%d" % smtp_port, "from = careclock@council.example",
                      "tls = %s" % tls, "username = careclock", "password_file = smtp-password"]
        if hook_port:
            lines += ["[webhook:east]", "url = http://127.0.0.1:%d/hooks/east" % hook_port,
                      "format = %s" % hook_format, "secret_file = webhook-secret"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)

    # ---- careclock ----

    def run_cc(self, *args, today=SGO_NOTICE):
        cmd = [BIN, "--db", self.db, "--config", self.conf] + (["--today", today] if today else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True)

    def ok(self, *args, today=SGO_NOTICE):
        p = self.run_cc(*args, today=today)
        self.assertEqual(p.returncode, 0, "%s: %s" % (args, p.stderr))
        return p.stdout

    def deliver(self, now, status=0):
        """deliveries run at now; status 1 when a message is left to retry or
        failed (issue 18: the run says so in its exit status and on stderr)."""
        p = self.run_cc("deliveries", "run", "--now", now, today=None)
        self.assertEqual(p.returncode, status, "deliveries run --now %s: %s %s" % (now, p.stdout, p.stderr))
        if status == 1:
            self.assertRegex(p.stderr, r"\d+ messages? left to retry, \d+ failed")
        return p.stdout

    def deliveries(self, *args):
        return json.loads(self.ok("deliveries", "--format", "json", *args, today=None))

    def sql(self, statement, params=()):
        con = sqlite3.connect(self.db)
        try:
            with con:
                return con.execute(statement, params).fetchall()
        finally:
            con.close()

    def council(self, webhook=False, children=("C1",), worker="W1"):
        self.ok("init")
        self.ok("staff", "add", "W1", "--name", "Wendy Worker", "--email", "w1@council.example", "--role", "worker")
        self.ok("staff", "add", "W2", "--name", "Will Worker", "--email", "w2@council.example", "--role", "worker")
        self.ok("staff", "add", "TM1", "--name", "Tom Manager", "--email", "tm1@council.example", "--role",
                "team_manager")
        self.ok("staff", "add", "SM1", "--name", "Sam Service", "--email", "sm1@council.example", "--role",
                "service_manager")
        team = ["team", "add", "T1", "--name", "Children in care east", "--manager", "TM1", "--service-manager",
                "SM1"]
        self.ok(*(team + (["--webhook", "east"] if webhook else [])))
        for child in children:
            self.add_child(child, worker)

    def add_child(self, child, worker="W1", team="T1", notice=SGO_NOTICE):
        self.ok("child", "add", child, "--dob", "2012-04-01", "--team", team, "--worker", worker, "--initials",
                "A.B.", "--name", "Alice Brown")
        self.ok("event", "add", child, "sgo_notice", notice, today=notice)

    # ---- what arrived ----

    def mails(self):
        out = []
        if not os.path.isdir(self.mail_dir):
            return out
        for name in sorted(os.listdir(self.mail_dir)):
            if not name.endswith(".eml"):
                continue
            with open(os.path.join(self.mail_dir, name), "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            with open(os.path.join(self.mail_dir, name[:-4] + ".json")) as f:
                meta = json.load(f)
            out.append((msg, meta))
        return out

    def hooks(self):
        path = os.path.join(self.hook_dir, "requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]

    @staticmethod
    def text_of(msg):
        return msg.get_body(preferencelist=("plain",)).get_content()

    def recipients(self):
        return [meta["rcpt_tos"][0] for _, meta in self.mails()]

    # ---- the tests ----

    def test_reminders_and_both_escalations_on_the_right_working_days(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council()
        expected = [  # (local time, new recipients, stage)
            ("2026-12-10T09:00", [], None),
            ("2026-12-11T09:00", ["w1@council.example"], "-10wd"),
            ("2026-12-17T09:00", [], None),
            ("2026-12-18T09:00", ["w1@council.example"], "-5wd"),
            ("2026-12-23T09:00", [], None),
            ("2026-12-24T09:00", ["w1@council.example"], "-1wd"),
            ("2026-12-28T09:00", [], None),  # bank holiday: the window is closed, and +1wd is tomorrow
            ("2026-12-29T09:00", ["tm1@council.example"], "+1wd"),
            ("2027-01-04T09:00", [], None),
            ("2027-01-05T09:00", ["sm1@council.example"], "+5wd"),
        ]
        seen = 0
        for now, new, stage in expected:
            self.deliver(now)
            got = self.recipients()
            self.assertEqual(got[seen:], new, "at %s" % now)
            seen = len(got)
            if stage:
                rows = [d for d in self.deliveries() if d["stage"] == stage]
                self.assertEqual(len(rows), 1, now)
                self.assertEqual(rows[0]["state"], "sent")
                self.assertEqual(rows[0]["stage_date"], now[:10])
        mails = self.mails()
        subjects = [m["Subject"] for m, _ in mails]
        # The subject names the team and the item (issue 18).
        self.assertEqual(subjects[0], "Children in care east: Special guardianship report for C1 (A.B.) is due in 9 "
                                      "working days (Mon 28 Dec 2026)")  # 14-18, 21-24 Dec
        self.assertEqual(subjects[3], "Children in care east: Special guardianship report for C1 (A.B.) is OVERDUE by "
                                      "1 working day")
        body = self.text_of(mails[3][0])
        # What the item is now, not which stage brought it.
        self.assertIn("OVERDUE by 1 working day, escalated to you today", body)
        self.assertNotIn("after the due date", body)
        self.assertIn("held by Wendy Worker, Children in care east", body)
        self.assertIn("SGO report within 12 weeks", body)  # the rule's source
        self.assertNotIn("Alice", body)  # privacy = initials
        self.assertIn("OVERDUE by 5 working days", self.text_of(mails[4][0]))
        kinds = {d["stage"]: d["kind"] for d in self.deliveries()}
        self.assertEqual(kinds, {"-10wd": "reminder", "-5wd": "reminder", "-1wd": "reminder", "+1wd": "escalation",
                                 "+5wd": "escalation"})
        # Every message of the run went down one authenticated connection per run.
        self.assertTrue(all(meta["authenticated"] for _, meta in mails))
        # Running again at the same time sends nothing twice.
        self.deliver("2027-01-05T09:30")
        self.assertEqual(len(self.mails()), 5)

    def test_nothing_outside_the_window_then_one_digest_per_recipient_at_the_opening(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council(children=("C1", "C2", "C3"))
        self.add_child("C4", worker="W2")
        for now in ("2026-12-11T18:30", "2026-12-12T10:00", "2026-12-13T23:59", "2026-12-14T07:59"):
            out = self.deliver(now)
            self.assertIn("outside the sending window", out, now)
            self.assertEqual(self.mails(), [], now)
        pending = self.deliveries("--status", "pending")
        self.assertEqual(len(pending), 4)
        # Held from Friday evening to Monday's opening (GMT: local = UTC).
        self.assertEqual({d["due_at"] for d in pending}, {"2026-12-14T08:00:00Z"})
        out = self.deliver("2026-12-14T08:00")
        self.assertIn("sent 2 messages (4 items)", out)
        mails = self.mails()
        self.assertEqual(sorted(self.recipients()), ["w1@council.example", "w2@council.example"])
        # Both messages went down one SMTP connection (one client port).
        self.assertEqual(len({meta["peer"][1] for _, meta in mails}), 1)
        w1 = next(m for m, meta in mails if meta["rcpt_tos"] == ["w1@council.example"])
        self.assertEqual(w1["Subject"], "Children in care east: 3 due soon for 3 children; most urgent: Special "
                                        "guardianship report for C1 (A.B.), due in 8 working days")
        text = self.text_of(w1)
        for child in ("C1 (A.B.)", "C2 (A.B.)", "C3 (A.B.)"):
            self.assertIn(child, text)
        self.assertNotIn("C4", text)
        # One message: the rows share it, and its Message-ID.
        rows = [d for d in self.deliveries() if d["recipient"] == "W1"]
        self.assertEqual(len({d["message_id"] for d in rows}), 1)
        self.assertEqual(w1["Message-ID"], rows[0]["message_id"])

    def test_overdue_first_in_a_digest(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council(children=("C1",))
        # C2's report is due Fri 11 Dec: overdue on Mon 14 Dec; C1's -10wd reminder is Fri 11 Dec too.
        self.add_child("C2", notice="2026-09-18")
        self.deliver("2026-12-14T09:00")
        (msg, meta), = [(m, x) for m, x in self.mails() if x["rcpt_tos"] == ["w1@council.example"]]
        text = self.text_of(msg)
        self.assertLess(text.index("C2 (A.B.)"), text.index("C1 (A.B.)"))
        self.assertIn("1 overdue", msg["Subject"])

    def test_now_met_notice_to_those_escalated_and_completion_stops_later_stages(self):
        smtp = self.mail_server()
        hook = self.hook_server()
        self.configure(smtp_port=smtp.port, hook_port=hook.port)
        self.council(webhook=True)
        self.deliver("2026-12-29T09:00")  # catch-up: the worker's -1wd reminder, the manager's +1wd escalation
        self.assertEqual(sorted(self.recipients()), ["tm1@council.example", "w1@council.example"])
        self.assertEqual(len(self.hooks()), 1)  # the team's channel sees what its manager is sent
        self.ok("event", "add", "C1", "sgo_report_filed", "2026-12-30", today="2026-12-30")
        self.deliver("2026-12-30T10:00")
        new = self.mails()[2:]
        self.assertEqual([x["rcpt_tos"] for _, x in new], [["tm1@council.example"]])
        self.assertEqual(new[0][0]["Subject"], "Children in care east: Special guardianship report for C1 (A.B.) is now "
                                               "met")
        self.assertIn("now met, on Wed 30 Dec 2026 (2 working days after the due date)",
                      self.text_of(new[0][0]).replace("Now met", "now met"))
        met_hook = json.loads(self.hooks()[1]["body"])
        self.assertEqual(met_hook["type"], "careclock.met")
        self.assertEqual(met_hook["items"][0]["status"], "met_late")
        # The service manager's +5wd stage never comes: the clock is met.
        self.deliver("2027-01-05T09:00")
        self.assertEqual(len(self.mails()), 3)
        self.assertEqual(len(self.hooks()), 2)
        # Once only.
        self.deliver("2027-01-06T09:00")
        self.assertEqual(len(self.mails()), 3)

    def test_prune_removes_the_records_of_closed_clocks_only_and_nothing_is_sent_again(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council(children=("C1", "C2"))
        self.deliver("2026-12-29T09:00")  # both children: the worker's reminder, the manager's escalation
        self.ok("event", "add", "C1", "sgo_report_filed", "2026-12-30", today="2026-12-30")
        self.deliver("2026-12-30T10:00")  # C1's "now met" notice to the manager
        sent = len(self.mails())
        self.assertEqual(sent, 3)  # a digest to the worker, one to the manager, then C1's "now met"
        # Bad input: named, nothing done.
        p = self.run_cc("deliveries", "prune", "--before", "2027-02-30", today="2027-03-01")
        self.assertEqual(p.returncode, 2)
        self.assertIn('--before "2027-02-30" is not a date', p.stderr)
        p = self.run_cc("deliveries", "prune", "--before", "2027-03-02", today="2027-03-01")
        self.assertEqual(p.returncode, 2)
        self.assertIn("after today (2027-03-01)", p.stderr)
        # Before the records were written: nothing.
        out = self.ok("deliveries", "prune", "--before", "2026-12-29", today="2027-03-01")
        self.assertIn("pruned 0 delivery records", out)
        out = self.ok("deliveries", "prune", "--before", "2027-03-01", today="2027-03-01")
        self.assertIn("pruned 3 delivery records", out)  # C1's reminder, escalation and "now met"
        left = self.deliveries()
        self.assertEqual(sorted({r["child"] for r in left}), ["C2"])
        # C2's clock is still open: its records stay, and C1's are not planned or sent again.
        self.deliver("2027-01-05T09:00")
        self.assertEqual(sorted({r["child"] for r in self.deliveries()}), ["C2"])
        self.assertEqual(len(self.mails()), sent + 1)  # only C2's service manager stage (+5wd)

    def test_pending_deliveries_of_a_met_clock_are_cancelled(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council()
        self.deliver("2026-12-24T07:00")  # planned, held for the 08:00 opening
        (row,) = self.deliveries("--status", "pending")
        self.assertEqual(row["stage"], "-1wd")
        self.ok("event", "add", "C1", "sgo_report_filed", "2026-12-24", today="2026-12-24")
        self.deliver("2026-12-24T09:00")
        self.assertEqual(self.mails(), [])
        (row,) = self.deliveries()
        self.assertEqual(row["state"], "cancelled")
        self.assertIn("met", row["last_error"])

    def test_webhook_500_then_200_gets_the_notice_once_with_the_same_webhook_id(self):
        hook = self.hook_server("--script", "500,200")
        self.configure(hook_port=hook.port)
        self.council(webhook=True)
        self.sql("UPDATE staff SET email = NULL WHERE id = 'TM1'")
        self.deliver("2026-12-29T09:00", status=1)
        (row,) = [d for d in self.deliveries() if d["channel"] == "webhook"]
        self.assertEqual(row["state"], "retrying")
        self.assertIn("500", row["last_error"])
        # Backoff: about a minute (jitter +-20%).
        self.assertGreaterEqual(row["next_attempt_at"], "2026-12-29T09:00:48Z")
        self.assertLessEqual(row["next_attempt_at"], "2026-12-29T09:01:12Z")
        self.deliver("2026-12-29T09:00:30")  # not yet
        self.assertEqual(len(self.hooks()), 1)
        self.deliver("2026-12-29T09:02")
        (row,) = [d for d in self.deliveries() if d["channel"] == "webhook"]
        self.assertEqual((row["state"], row["attempts"]), ("sent", 2))
        reqs = self.hooks()
        self.assertEqual([r["status"] for r in reqs], [500, 200])
        self.assertEqual(reqs[0]["webhook_id"], reqs[1]["webhook_id"])
        self.assertEqual(reqs[1]["webhook_id"], row["message_id"])
        self.assertEqual(reqs[1]["idempotency_key"], row["message_id"])
        self.assertTrue(all(r["signature_valid"] and r["timestamp_fresh"] for r in reqs))
        self.assertEqual(reqs[1]["path"], "/hooks/east")
        self.assertEqual(reqs[1]["content_type"], "application/json")
        payload = json.loads(reqs[1]["body"])
        self.assertEqual(payload["type"], "careclock.escalation")
        item = payload["items"][0]
        self.assertEqual(item["child"], {"reference": "C1", "initials": "A.B.", "url": None})  # no public_url
        self.assertEqual(item["clock"]["id"], "sgo_report")
        self.assertEqual((item["due_date"], item["status"], item["working_days_late"]), ("2026-12-28", "overdue", 1))
        self.assertEqual(item["stage"], {"offset": "+1wd", "kind": "escalation", "role": "team_manager",
                                         "date": "2026-12-29"})  # when it first reached its recipient
        self.assertEqual(item["worker"], "Wendy Worker")
        self.assertNotIn("Alice", reqs[1]["body"])
        # The manager without an email address is listed, not lost.
        (undeliverable,) = [d for d in self.deliveries("--status", "undeliverable") if d["role"] == "team_manager"]
        self.assertEqual(undeliverable["recipient"], "TM1")
        self.assertIn("no email address", undeliverable["last_error"])

    def test_webhook_429_honours_retry_after_and_4xx_fails(self):
        hook = self.hook_server("--script", "429,400", "--retry-after", "600")
        self.configure(hook_port=hook.port)
        self.council(webhook=True)
        self.deliver("2026-12-29T09:00", status=1)
        (row,) = [d for d in self.deliveries() if d["channel"] == "webhook"]
        self.assertEqual(row["state"], "retrying")
        self.assertEqual(row["next_attempt_at"], "2026-12-29T09:10:00Z")
        self.deliver("2026-12-29T09:05")
        self.assertEqual(len(self.hooks()), 1)
        self.deliver("2026-12-29T09:10", status=1)
        (row,) = [d for d in self.deliveries() if d["channel"] == "webhook"]
        self.assertEqual(row["state"], "failed")
        self.assertIn("400", row["last_error"])
        # Requeued by hand, it goes again as the same message.
        first_id = row["message_id"]
        self.ok("deliveries", "retry", str(row["id"]), today=None)
        self.deliver("2026-12-29T09:11")
        (row,) = [d for d in self.deliveries() if d["channel"] == "webhook"]
        self.assertEqual((row["state"], row["message_id"]), ("sent", first_id))
        self.assertEqual(self.hooks()[-1]["webhook_id"], first_id)

    def test_webhook_410_disables_the_endpoint_loudly(self):
        hook = self.hook_server("--script", "410")
        self.configure(hook_port=hook.port)
        self.council(webhook=True)
        p = self.run_cc("deliveries", "run", "--now", "2026-12-29T09:00", today=None)
        self.assertEqual(p.returncode, 1, p.stderr)  # a message failed: the run says so
        self.assertIn("0 messages left to retry, 1 failed", p.stderr)
        self.assertIn("WEBHOOK east DISABLED", p.stderr)
        (row,) = [d for d in self.deliveries() if d["channel"] == "webhook"]
        self.assertEqual(row["state"], "failed")
        self.assertIn("410", row["last_error"])
        self.assertIn("DISABLED", self.ok("deliveries", "webhooks", today=None))
        # The next escalation to it fails without a request.
        self.deliver("2027-01-05T09:00")
        self.assertEqual(len(self.hooks()), 1)
        self.ok("deliveries", "enable-webhook", "east", today=None)
        self.assertIn("enabled", self.ok("deliveries", "webhooks", today=None))

    def payload(self, fmt):
        hook = self.hook_server()
        self.configure(hook_port=hook.port, hook_format=fmt,
                       extra="[http]\npublic_url = https://careclock.council.example\n")
        self.council(webhook=True)
        self.deliver("2026-12-29T09:00")
        (req,) = self.hooks()
        self.assertTrue(req["signature_valid"])
        self.assertNotIn("Alice", req["body"])
        return json.loads(req["body"])

    def test_teams_payload_is_an_adaptive_card_message(self):
        body = self.payload("teams")
        self.assertEqual(body["type"], "message")
        att = body["attachments"][0]
        self.assertEqual(att["contentType"], "application/vnd.microsoft.card.adaptive")
        card = att["content"]
        self.assertEqual((card["type"], card["version"]), ("AdaptiveCard", "1.4"))
        text = json.dumps(card)
        self.assertIn("C1 (A.B.)", text)
        self.assertIn("OVERDUE by 1 working day", text)
        self.assertEqual(card["actions"][0]["url"], "https://careclock.council.example")

    def test_slack_payload_is_text(self):
        body = self.payload("slack")
        self.assertEqual(list(body), ["text"])
        self.assertIn("*C1 (A.B.)*", body["text"])
        self.assertIn("OVERDUE by 1 working day", body["text"])
        self.assertIn("<https://careclock.council.example|Open careclock>", body["text"])

    def test_smtp_server_down_for_a_while_gets_everything_when_it_returns(self):
        port = free_port()
        self.configure(smtp_port=port)
        self.council(children=("C1", "C2"))
        self.add_child("C3", worker="W2")
        self.deliver("2026-12-11T09:00", status=1)
        rows = self.deliveries()
        self.assertEqual({d["state"] for d in rows}, {"retrying"})
        self.assertTrue(all("onnect" in d["last_error"] for d in rows), rows)
        self.deliver("2026-12-11T09:02", status=1)  # still down: second attempt, about 5 minutes next
        self.assertEqual({d["attempts"] for d in self.deliveries()}, {2})
        self.mail_server(port=port)
        self.deliver("2026-12-11T09:05")  # not yet due again
        self.assertEqual(self.mails(), [])
        self.deliver("2026-12-11T09:10")
        self.assertEqual(sorted(self.recipients()), ["w1@council.example", "w2@council.example"])
        self.assertEqual({d["state"] for d in self.deliveries()}, {"sent"})

    def test_killed_mid_batch_and_rerun_delivers_everything_repeating_only_the_one_in_flight(self):
        smtp = self.mail_server("--delay", "0.4")
        self.configure(smtp_port=smtp.port, digest="no")
        self.council(children=["C%d" % i for i in range(1, 11)])
        cmd = [BIN, "--db", self.db, "--config", self.conf, "deliveries", "run", "--now", "2026-12-11T09:00"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while len([n for n in os.listdir(self.mail_dir) if n.endswith(".eml")]) < 3 and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        states = [d["state"] for d in self.deliveries()]
        self.assertIn("sending", states)
        self.assertIn("sent", states)
        in_flight = {d["message_id"] for d in self.deliveries("--status", "sending")}
        p = self.run_cc("deliveries", "run", "--now", "2026-12-11T09:01", today=None)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("same message ids", p.stderr)
        rows = self.deliveries()
        self.assertEqual(len(rows), 10)
        self.assertEqual({d["state"] for d in rows}, {"sent"})
        received = [m["Message-ID"] for m, _ in self.mails()]
        self.assertEqual(set(received), {d["message_id"] for d in rows})
        repeats = [mid for mid in set(received) if received.count(mid) > 1]
        self.assertLessEqual(len(repeats), 1, received)
        for mid in repeats:
            self.assertEqual(received.count(mid), 2)
            self.assertIn(mid, in_flight)

    def test_header_injection_is_refused_and_others_still_get_theirs(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council()
        self.add_child("C2", worker="W2")
        # Another system writes a name with a line break into the database.
        self.sql("UPDATE staff SET name = ? WHERE id = 'W1'", ("Wendy\r\nBcc: thief@example.org",))
        self.sql("UPDATE staff SET email = ? WHERE id = 'W2'", ("w2@council.example\r\nBcc: thief@example.org",))
        self.add_child("C3", worker="W1")
        self.deliver("2026-12-11T09:00", status=1)
        self.assertEqual(self.mails(), [])
        w1 = [d for d in self.deliveries() if d["recipient"] == "W1"]
        self.assertEqual({d["state"] for d in w1}, {"failed"})
        self.assertIn("header injection refused", w1[0]["last_error"])
        (w2,) = [d for d in self.deliveries() if d["recipient"] == "W2"]
        self.assertEqual(w2["state"], "undeliverable")
        self.assertIn("not valid", w2["last_error"])
        listed = self.ok("deliveries", "--status", "failed,undeliverable", today=None)
        self.assertIn("header injection refused", listed)
        self.assertNotIn("\r", listed)

    def test_undeliverable_recipients_are_listed_and_never_stop_the_rest(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council()
        self.ok("team", "add", "T2", "--name", "West", "--manager", "TM1")
        self.add_child("C2", worker="W2", team="T2")
        self.deliver("2027-01-05T09:00")
        rows = self.deliveries("--status", "undeliverable")
        self.assertEqual([(d["child"], d["role"], d["recipient"]) for d in rows],
                         [("C2", "service_manager", "(none)")])
        self.assertIn("team T2 has no service manager", rows[0]["last_error"])
        self.assertIn("sm1@council.example", self.recipients())
        self.assertIn("tm1@council.example", self.recipients())
        p = self.run_cc("deliveries", "retry", str(rows[0]["id"]), today=None)
        self.assertEqual(p.returncode, 2)
        self.assertIn("nobody holds the role", p.stderr)
        text = self.ok("deliveries", "--status", "undeliverable", today=None)
        self.assertIn("team T2 has no service manager", text)
        csv_text = self.ok("deliveries", "--format", "csv", today=None)
        self.assertTrue(csv_text.startswith("id,state,child,clock,seq,stage,stage_date,kind,role,recipient,channel,"))

    def test_tls_required_refuses_a_server_without_starttls(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port, tls="required")
        self.council()
        self.deliver("2026-12-11T09:00", status=1)
        (row,) = self.deliveries()
        self.assertEqual(row["state"], "retrying")
        self.assertIn("STARTTLS", row["last_error"])
        self.assertEqual(self.mails(), [])

    def test_smtp_rejection_fails_for_good_and_retry_requeues_the_same_message(self):
        smtp = self.mail_server("--reject-rcpt", "w1@council.example")
        self.configure(smtp_port=smtp.port)
        self.council()
        self.deliver("2026-12-11T09:00", status=1)
        (row,) = self.deliveries()
        self.assertEqual(row["state"], "failed")
        self.assertIn("550", row["last_error"])
        smtp.stop()
        self.servers.remove(smtp)
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.ok("deliveries", "retry", str(row["id"]), today=None)
        self.assertEqual(self.deliveries()[0]["state"], "pending")
        self.deliver("2026-12-11T09:30")
        (again,) = self.deliveries()
        self.assertEqual(again["state"], "sent")
        (msg, _), = self.mails()
        self.assertEqual(msg["Message-ID"], row["message_id"])

    def test_email_is_well_formed_and_non_ascii_subjects_are_encoded(self):
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port, privacy="full")
        self.council()
        self.sql("UPDATE children SET full_name = 'Zoë Brontë' WHERE id = 'C1'")
        self.sql("UPDATE staff SET name = 'Wendy Ó Worker' WHERE id = 'W1'")
        self.deliver("2026-12-11T09:00")
        (msg, meta), = self.mails()
        with open(os.path.join(self.mail_dir, "000001.eml"), "rb") as f:
            raw = f.read()
        self.assertTrue(all(b < 128 for b in raw), "the message is 7-bit")
        self.assertIn(b"Subject: =?UTF-8?B?", raw)
        self.assertEqual(msg["Subject"], "Children in care east: Special guardianship report for C1 Zoë Brontë is due "
                                         "in 9 working days (Mon 28 Dec 2026)")
        # RFC 2047: no line of the Subject longer than 76 characters.
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        subject_lines = head.split("\r\nSubject: ", 1)[1].split("\r\n")
        folded = [subject_lines[0]] + [l for l in subject_lines[1:] if l.startswith(" ")][:10]
        self.assertLessEqual(len("Subject: " + folded[0]), 76)
        self.assertTrue(all(len(l) <= 76 for l in folded), folded)
        self.assertEqual(msg["To"].addresses[0].display_name, "Wendy Ó Worker")
        self.assertEqual(msg["To"].addresses[0].addr_spec, "w1@council.example")
        self.assertEqual(msg["From"].addresses[0].addr_spec, "careclock@council.example")
        self.assertEqual(msg["Date"].datetime.isoformat(), "2026-12-11T09:00:00+00:00")
        self.assertRegex(msg["Message-ID"], r"^<cc-[0-9a-f]{12}-\d+-[0-9a-f]{12}@council\.example>$")
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        self.assertEqual([p.get_content_type() for p in msg.iter_parts()], ["text/plain", "text/html"])
        self.assertIn("Zoë Brontë", self.text_of(msg))
        self.assertIn(">C1 Zoë Brontë</h3>", msg.get_body(preferencelist=("html",)).get_content())
        self.assertEqual(meta["mail_from"], "careclock@council.example")


if __name__ == "__main__":
    unittest.main()
