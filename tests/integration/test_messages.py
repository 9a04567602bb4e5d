"""Issue 18, "messages people act on": each failure the issue lists, through
`careclock deliveries run` and careclockd against aiosmtpd
(tests/integration/mailsink.py) and a webhook receiver
(tests/integration/hooksink.py) on loopback.

The clock used is the special guardianship report (config/rules/
england.rules: due 12 weeks after the sgo_notice, local guidance; stages
-10wd, -5wd, -1wd to the worker, +1wd to the team manager, +5wd to the service
manager). An sgo_notice on Mon 5 Oct 2026 makes it due Mon 28 Dec 2026;
Tue 29 Dec is +1wd (28 Dec is a bank holiday), checked with `careclock calc`
in test_delivery.py."""
import email
import email.policy
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import unittest

import test_delivery
from daemon_harness import Council, Daemon, wait_until
from test_delivery import Server, SGO_NOTICE

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = shutil.which("node")
CARDS = os.path.join(HERE, "cards", "node_modules", "adaptivecards")


def insert_children(db, n, team="T1", worker="W1", notice=SGO_NOTICE, prefix="C"):
    """n children with an sgo_notice each, written in one transaction as the
    council's case system would."""
    con = sqlite3.connect(db)
    with con:
        for i in range(1, n + 1):
            child = "%s%d" % (prefix, i)
            con.execute("INSERT INTO children (id, initials, dob, team_id, worker_id) VALUES (?, 'A.B.', "
                        "'2012-04-01', ?, ?)", (child, team, worker))
            con.execute("INSERT INTO events (child_id, type, date) VALUES (?, 'sgo_notice', ?)", (child, notice))
    con.close()


class Messages(test_delivery.DeliveryTest):
    def strict(self, name):
        """The message as Python's strict policy reads it: no defects."""
        with open(os.path.join(self.mail_dir, name), "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.strict)
        self.assertEqual([d for part in msg.walk() for d in part.defects], [])
        return raw, msg

    def test_a_managers_digest_reads_in_ten_seconds(self):
        # 40 overdue items for 14 children: "careclock: 40 overdue (14
        # children)", a wall of items each with the regulation, "Reminder 1
        # working day before the due date" on items months late, one link to
        # a 404. Now: the team and the worst item in the subject; counts, by
        # worker, the five most urgent and what to do first; each child's
        # page; the source once.
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port, extra="[http]\npublic_url = https://careclock.council.example\n")
        self.council(children=())
        insert_children(self.db, 8, worker="W1", notice="2026-09-07")  # due Mon 30 Nov: long overdue
        insert_children(self.db, 6, worker="W2", prefix="D")
        self.deliver("2027-01-05T09:00")
        (msg, meta), = [(m, x) for m, x in self.mails() if x["rcpt_tos"] == ["tm1@council.example"]]
        subject = msg["Subject"]
        self.assertTrue(subject.startswith("Children in care east: 14 overdue for 14 children; most urgent: "), subject)
        self.assertIn("OVERDUE by 23 working days", subject)  # 30 Nov to 5 Jan, without 25 and 28 Dec, 1 Jan
        text = self.text_of(msg)
        head = text.split("What to do:")[0]
        self.assertIn("Children in care east, as of Tue 5 Jan 2027: 14 overdue, for 14 children.", head)
        self.assertIn("By worker:\n  Wendy Worker: 8 overdue\n  Will Worker: 6 overdue\n", head)
        self.assertIn("Most urgent:\n  1. C1 (A.B.), Special guardianship report: OVERDUE by 23 working days", head)
        self.assertEqual(head.count("\n  5. "), 1)
        self.assertNotIn("\n  6. ", head)
        self.assertIn("https://careclock.council.example/children/C1\n", text)
        self.assertIn("https://careclock.council.example/children/D6\n", text)
        self.assertEqual(text.count("SGO report within 12 weeks"), 1)  # the source, once
        self.assertIn("escalated to you today", text)
        self.assertNotIn("before the due date", text)
        self.strict(sorted(n for n in os.listdir(self.mail_dir) if n.endswith(".eml"))[
            [x["rcpt_tos"] for _, x in self.mails()].index(["tm1@council.example"])])

    def test_the_html_digest_renders_in_headless_chromium(self):
        # The HTML part as a person sees it: Debian's chromium renders it
        # (docs/delivery.md describes the screenshots); the page it makes
        # holds the summary, the list by child and the links.
        chromium = shutil.which("chromium")
        if chromium is None:
            self.skipTest("chromium is not installed (make deps installs it)")
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port, extra="[http]\npublic_url = https://careclock.council.example\n")
        self.council(children=())
        insert_children(self.db, 7, worker="W1", notice="2026-09-07")
        self.deliver("2027-01-05T09:00")
        (msg, _), = [(m, x) for m, x in self.mails() if x["rcpt_tos"] == ["tm1@council.example"]]
        page = os.path.join(self.dir, "digest.html")
        with open(page, "w") as f:
            f.write(msg.get_body(preferencelist=("html",)).get_content())
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + os.path.join(self.dir, "chromium"), "--window-size=800,1400"]
        shot = os.path.join(self.dir, "digest.png")
        subprocess.run(args + ["--screenshot=" + shot, "file://" + page], capture_output=True, timeout=120)
        with open(shot, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(png), 20000)  # a page of text, not a blank one
        dom = subprocess.run(args + ["--dump-dom", "file://" + page], capture_output=True, text=True,
                             timeout=120).stdout
        self.assertIn("<h1", dom)
        self.assertIn("Most urgent", dom)
        self.assertIn('href="https://careclock.council.example/children/C1"', dom)
        self.assertIn('id="source-1"', dom)

    def test_the_link_in_every_message_answers_a_page(self):
        # The one link pointed at a page that answered 404: the feed server's
        # root and /children/<ref> now answer a page: the dashboard's (issue
        # 20), which leads someone not signed in to its sign-in page and back
        # (tests/integration/test_dashboard.py signs in and follows them).
        c = Council()
        try:
            d = Daemon(c, now="2026-11-10T09:00:00")
            try:
                self.assertTrue(d.wait_notify("READY=1"))
                for path, where in (("/", "/sign-in"), ("/children/C1", "/sign-in?next=%2Fchildren%2FC1"),
                                    ("/children/%3Cscript%3E", "/sign-in?next=%2Fchildren%2F%3Cscript%3E")):
                    p = subprocess.run(["curl", "-s", "-D", "-", d.url(path)], capture_output=True)
                    head, _, body = p.stdout.partition(b"\r\n\r\n")
                    self.assertIn(b" 303 ", head.split(b"\r\n")[0], path)
                    self.assertIn(("Location: %s\r\n" % where).encode(), head)
                    p = subprocess.run(["curl", "-s", "-L", "-D", "-", d.url(path)], capture_output=True)
                    self.assertIn(b"HTTP/1.1 200 OK", p.stdout)
                    self.assertIn(b"text/html; charset=utf-8", p.stdout)
                    self.assertIn(b"Sign in to careclock", p.stdout)
                    self.assertNotIn(b"<script>", p.stdout)
            finally:
                d.stop()
        finally:
            c.cleanup()

    def test_one_item_per_clock_when_stages_fall_on_one_day(self):
        # A worker who is also the team's manager gets the clock's worker
        # stage and the manager's escalation in one digest: once, as what it
        # is now (the planner's own weekend case is test_planner.c).
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council()
        self.sql("UPDATE children SET worker_id = 'TM1' WHERE id = 'C1'")
        self.deliver("2026-12-29T09:00")
        (msg, _), = self.mails()
        text = self.text_of(msg)
        self.assertEqual(text.count("Special guardianship report, due Mon 28 Dec 2026"), 1, text)
        self.assertEqual(len([r for r in self.deliveries() if r["recipient"] == "TM1"]), 2)  # both recorded

    def test_ids_are_never_reused_after_prune_or_restore(self):
        # deliveries.id had no AUTOINCREMENT: after a prune removed the newest
        # rows, their ids (and the batch numbers in Message-IDs) came back.
        smtp = self.mail_server()
        self.configure(smtp_port=smtp.port)
        self.council()
        self.deliver("2026-12-29T09:00")
        self.ok("event", "add", "C1", "sgo_report_filed", "2026-12-30", today="2026-12-30")
        self.deliver("2026-12-30T10:00")
        first = self.deliveries()
        first_ids = {r["id"] for r in first}
        first_msgids = {r["message_id"] for r in first}
        backup = self.db + ".copy"
        shutil.copyfile(self.db, backup)
        self.assertIn("pruned %d" % len(first), self.ok("deliveries", "prune", "--before", "2027-03-01",
                                                        today="2027-03-01"))
        self.assertEqual(self.deliveries(), [])
        self.add_child("C2", notice="2026-10-19")  # due Mon 11 Jan 2027: -10wd is Mon 28 Dec... sent on 29 Dec
        self.deliver("2027-01-05T09:00")
        second = self.deliveries()
        self.assertTrue(second)
        self.assertFalse({r["id"] for r in second} & first_ids, (second, first_ids))
        self.assertGreater(min(r["id"] for r in second), max(first_ids))
        self.assertFalse({r["message_id"] for r in second} & first_msgids)
        # An older copy restored: the same batch numbers come round, the
        # Message-IDs do not (their random part).
        shutil.copyfile(backup, self.db)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                os.unlink(self.db + suffix)
        self.add_child("C3", notice="2026-10-19")
        before = len(self.mails())
        self.deliver("2027-01-05T09:30")
        received = [m["Message-ID"] for m, _ in self.mails()]
        self.assertGreater(len(received), before)
        self.assertEqual(len(received), len(set(received)), received)

    def test_encoded_words_within_76_characters_and_ehlo_names_the_host_fully(self):
        # Encoded-word lines reached 79 characters and split inside words;
        # EHLO sent the short host name, which reject_non_fqdn_helo_hostname
        # relays answer with 504.
        smtp = self.mail_server("--require-fqdn-helo")
        self.configure(smtp_port=smtp.port, privacy="full")
        self.council()
        self.sql("UPDATE children SET full_name = 'Zoë Brontë-Łukasiewicz Ó Súilleabháin' WHERE id = 'C1'")
        self.sql("UPDATE teams SET name = 'Gwasanaethau Plant Gorllewin' WHERE id = 'T1'")
        self.deliver("2026-12-11T09:00")
        (msg, meta), = self.mails()
        self.assertIn(".", meta["helo"])
        raw, _ = self.strict("000001.eml")
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")
        for line in head:
            if "=?UTF-8?" in line:
                self.assertLessEqual(len(line), 76, line)
        words = [email.header.decode_header(w)[0][0].decode() for line in head for w in line.split()
                 if w.startswith("=?UTF-8?B?")]
        self.assertGreater(len(words), 1)
        subject_words = []
        in_subject = False
        for line in head:
            if line.startswith("Subject: "):
                in_subject = True
            elif not line.startswith(" "):
                in_subject = False
            if in_subject:
                subject_words += [email.header.decode_header(w)[0][0].decode() for w in line.split()
                                  if w.startswith("=?UTF-8?B?")]
        self.assertEqual("".join(subject_words), msg["Subject"])
        for w in subject_words[:-1]:
            self.assertTrue(w.endswith(" "), subject_words)  # split between words
        # [smtp] helo names it outright.
        self.configure(smtp_port=smtp.port, extra="[smtp]\nhelo = relay-client.council.example\n")
        with open(self.conf) as f:
            text = f.read().replace("\n[smtp]\nhelo", "\nhelo")
        with open(self.conf, "w") as f:
            f.write(text)
        self.add_child("C2", notice="2026-10-05")
        self.deliver("2026-12-11T09:30")
        self.assertEqual(self.mails()[-1][1]["helo"], "relay-client.council.example")

    def test_a_stuck_server_is_given_up_in_bounded_time_and_the_run_exits_non_zero(self):
        # One run against an SMTP server that hangs after AUTH was still
        # retrying after 15 minutes: 60 s per message, one after another.
        smtp = self.mail_server("--hang-after-auth")
        self.configure(smtp_port=smtp.port, digest="no", extra="[smtp]\ntimeout = 2\n")
        with open(self.conf) as f:
            text = f.read().replace("\n[smtp]\ntimeout", "\ntimeout")
        with open(self.conf, "w") as f:
            f.write(text)
        self.council(children=["C%d" % i for i in range(1, 7)])
        t0 = time.monotonic()
        p = self.run_cc("deliveries", "run", "--now", "2026-12-11T09:00", today=None)
        took = time.monotonic() - t0
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("6 messages left to retry, 0 failed", p.stderr)
        self.assertLess(took, 20)  # one timeout, then the rest at once (not 6 x 2 s in turn... nor 6 x 60 s)
        rows = self.deliveries()
        self.assertEqual({r["state"] for r in rows}, {"retrying"})
        self.assertEqual(sum("not tried" in r["last_error"] for r in rows), 5, rows)
        # And a bound on the whole run, whatever the per-message timeout.
        self.configure(smtp_port=smtp.port, digest="no")
        t0 = time.monotonic()
        p = self.run_cc("deliveries", "run", "--now", "2026-12-11T09:10", "--max-time", "3", today=None)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("gave up after 3 s", p.stderr)
        self.assertLess(time.monotonic() - t0, 15)

    def team_burst(self, fmt, n=200):
        hook = self.hook_server()
        self.configure(hook_port=hook.port, hook_format=fmt,
                       extra="[http]\npublic_url = https://careclock.council.example\n")
        self.council(webhook=True, children=())
        self.sql("UPDATE staff SET email = NULL WHERE id IN ('TM1', 'SM1')")
        # A worker whose name another system wrote as a markdown link.
        self.sql("UPDATE staff SET name = '[x](http://evil.example) *bold* <@here>' WHERE id = 'W1'")
        insert_children(self.db, n)
        self.deliver("2026-12-29T09:00")
        (req,) = self.hooks()
        return req

    def test_a_teams_card_for_200_overdue_items_is_under_the_limit_and_parses(self):
        # 60 overdue children made a 157 KB card; Teams refuses about 28 KB
        # ("The message size limit is 28 KB", Microsoft Learn, "Create an
        # Incoming Webhook"), and careclock recorded it as failed for good.
        req = self.team_burst("teams")
        body = req["body"].encode("utf-8")
        self.assertLessEqual(len(body), 27000)
        self.assertGreater(len(body), 20000)  # it is filled, not emptied
        card = json.loads(body)["attachments"][0]["content"]
        text = json.dumps(card)
        self.assertIn("more items for", text)
        self.assertIn("open careclock for the whole list", text)
        self.assertIn("\\\\[x\\\\](http://evil.example)", text)  # escaped in the JSON text
        if NODE is None:
            self.skipTest("node is not installed")
        self.assertTrue(os.path.isdir(CARDS), "run make deps: it installs tests/integration/cards")
        path = os.path.join(self.dir, "card.json")
        with open(path, "wb") as f:
            f.write(body)
        p = subprocess.run([NODE, os.path.join(HERE, "cardcheck.js"), path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["events"], [])  # Microsoft's parser: no warning, no error
        self.assertGreater(out["texts"], 100)
        self.assertNotIn("http://evil.example", out["links"])

    def test_a_slack_text_for_200_overdue_items_is_under_its_limit(self):
        # Slack truncates text past 40,000 characters and asks for 4,000.
        req = self.team_burst("slack")
        text = json.loads(req["body"])["text"]
        self.assertLessEqual(len(text), 4000)
        self.assertIn("more items for", text)
        self.assertIn("&lt;@here&gt;", text)  # no mention, no link from a name
        self.assertNotIn("<@here>", text)


# test_delivery.py runs its own tests; only the helpers are shared.
for _name in dir(test_delivery.DeliveryTest):
    if _name.startswith("test_") and _name not in Messages.__dict__:
        setattr(Messages, _name, None)


class Burst(unittest.TestCase):
    """careclockd: 40 children added within 10 seconds gave 40 e-mails to one
    worker. With [notify] settle, what a burst plans waits, and the claim takes
    the recipient's rows due within the settling time together."""

    def test_a_burst_of_children_is_one_digest(self):
        c = Council()
        mail_dir = os.path.join(c.dir, "mail")
        smtp = Server("mailsink.py", mail_dir)
        d = None
        try:
            conf = c.write_config("[notify]\nwindow = 08:00-18:00\nsettle = 6\n[smtp]\nurl = smtp://127.0.0.1:%d\n"
                                  "from = careclock@council.example\ntls = none\n" % smtp.port)
            d = Daemon(c, now="2026-12-11T09:00:00", config=conf)
            self.assertTrue(d.wait_notify("READY=1"))
            self.assertTrue(d.wait_log("deliveries: every child planned"))
            for i in range(1, 13):
                c.cli("child", "add", "B%d" % i, "--dob", "2012-04-01", "--team", "T1", "--worker", "W1")
                c.cli("event", "add", "B%d" % i, "sgo_notice", SGO_NOTICE, today=SGO_NOTICE)
            eml = lambda: sorted(n for n in os.listdir(mail_dir) if n.endswith(".eml")) if os.path.isdir(mail_dir) \
                else []
            self.assertTrue(wait_until(lambda: eml(), timeout=40), "\n".join(d.stderr_lines))
            time.sleep(8)  # anything else would have come by now
            names = eml()
            self.assertEqual(len(names), 1, "\n".join(d.stderr_lines))
            with open(os.path.join(mail_dir, names[0]), "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            body = msg.get_body(preferencelist=("plain",)).get_content()
            for i in range(1, 13):
                self.assertIn("\nB%d: held by" % i, body)
        finally:
            if d is not None:
                d.stop(signal.SIGTERM)
            smtp.stop()
            c.cleanup()


if __name__ == "__main__":
    unittest.main()
