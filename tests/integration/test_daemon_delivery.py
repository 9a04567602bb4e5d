"""careclockd delivering reminders on its own loop, against a real SMTP
server (aiosmtpd) on loopback: reminders arrive with no command run; a
write while it runs (a child added, a child given another worker) is planned
for that child alone, without a whole-council plan; and a
careclockd killed with SIGKILL mid-batch and started again delivers every
notice, repeating at most the one in flight, with the same Message-ID."""
import email
import email.policy
import json
import os
import signal
import subprocess
import unittest

from daemon_harness import Council, Daemon, wait_until
from test_delivery import Server

NOW = "2026-12-11T09:00:00"   # inside the window, 10 working days before the SGO reports are due
NOTICE = "2026-10-05"


class DaemonDelivery(unittest.TestCase):
    def setUp(self):
        self.council = Council()
        self.dir = self.council.dir
        self.mail_dir = os.path.join(self.dir, "mail")
        self.servers, self.daemons = [], []

    def tearDown(self):
        for d in self.daemons:
            d.stop(signal.SIGKILL)
        for s in self.servers:
            s.stop()
        self.council.cleanup()

    def configure(self, port, digest, settle=1):
        return self.council.write_config(
            "[notify]\nwindow = 08:00-18:00\ndigest = %s\nsettle = %d\n[smtp]\nurl = smtp://127.0.0.1:%d\n"
            "from = careclock@council.example\ntls = none\n" % (digest, settle, port))

    def children(self, n):
        for i in range(1, n + 1):
            child = "C%d" % i
            self.council.cli("child", "add", child, "--dob", "2012-04-01", "--team", "T1", "--worker", "W1")
            self.council.cli("event", "add", child, "sgo_notice", NOTICE, today=NOTICE)

    def mails(self):
        out = []
        if os.path.isdir(self.mail_dir):
            for name in sorted(os.listdir(self.mail_dir)):
                if name.endswith(".eml"):
                    with open(os.path.join(self.mail_dir, name), "rb") as f:
                        out.append(email.message_from_binary_file(f, policy=email.policy.default))
        return out

    def deliveries(self):
        p = self.council.cli("deliveries", "--format", "json", today=None)
        return json.loads(p.stdout)

    def start(self, conf):
        d = Daemon(self.council, now=NOW, config=conf)
        self.daemons.append(d)
        self.assertTrue(d.wait_notify("READY=1"), "\n".join(d.stderr_lines))
        return d

    def test_reminders_arrive_with_no_command_run(self):
        smtp = Server("mailsink.py", self.mail_dir)
        self.servers.append(smtp)
        conf = self.configure(smtp.port, "yes")
        self.children(2)
        d = self.start(conf)
        self.assertTrue(wait_until(lambda: len(self.mails()) >= 1, timeout=30), "\n".join(d.stderr_lines))
        msg = self.mails()[0]
        self.assertEqual(msg["To"].addresses[0].addr_spec, "w1@council.example")
        body = msg.get_body(preferencelist=("plain",)).get_content()
        self.assertIn("C1", body)
        self.assertIn("C2", body)  # one digest for the worker, both children
        self.assertTrue(d.wait_log("deliveries:"))
        self.assertEqual(d.stop(), 0)

    def test_a_write_while_running_is_planned_for_that_child_alone(self):
        # Between whole-council plans (start, a new day, a reload), careclockd
        # plans only the children queued by the database's triggers: a child
        # added with its event, then a child given another worker.
        smtp = Server("mailsink.py", self.mail_dir)
        self.servers.append(smtp)
        conf = self.configure(smtp.port, "yes")
        self.council.cli("staff", "add", "W2", "--name", "Will Worker", "--email", "w2@council.example", "--role",
                         "worker")
        d = self.start(conf)
        self.assertTrue(d.wait_log("deliveries: every child planned"), "\n".join(d.stderr_lines))
        self.children(1)
        self.assertTrue(wait_until(lambda: len(self.mails()) >= 1, timeout=30), "\n".join(d.stderr_lines))
        self.assertEqual(self.mails()[0]["To"].addresses[0].addr_spec, "w1@council.example")
        self.council.cli("child", "set", "C1", "--worker", "W2")
        self.assertTrue(wait_until(lambda: len(self.mails()) >= 2, timeout=30), "\n".join(d.stderr_lines))
        self.assertEqual(self.mails()[1]["To"].addresses[0].addr_spec, "w2@council.example")
        self.assertIn("C1", self.mails()[1].get_body(preferencelist=("plain",)).get_content())
        # The whole council was planned once, at start; never after a write.
        self.assertEqual(sum("every child planned" in line for line in d.stderr_lines), 1, "\n".join(d.stderr_lines))
        self.assertEqual(d.stop(), 0)

    def test_sigkill_mid_batch_then_restart_delivers_everything_once(self):
        smtp = Server("mailsink.py", self.mail_dir, "--delay", "0.4")
        self.servers.append(smtp)
        conf = self.configure(smtp.port, "no")
        self.children(10)
        d = self.start(conf)
        self.assertTrue(wait_until(lambda: len(self.mails()) >= 3, timeout=30), "\n".join(d.stderr_lines))
        d.stop(signal.SIGKILL)
        in_flight = {r["message_id"] for r in self.deliveries() if r["state"] == "sending"}
        self.assertTrue(in_flight, "a message should have been in flight when the daemon was killed")
        d2 = self.start(conf)
        self.assertTrue(wait_until(lambda: {r["state"] for r in self.deliveries()} == {"sent"}, timeout=60),
                        "\n".join(d2.stderr_lines))
        rows = self.deliveries()
        self.assertEqual(len(rows), 10)
        received = [m["Message-ID"] for m in self.mails()]
        self.assertEqual(set(received), {r["message_id"] for r in rows})
        repeats = [mid for mid in set(received) if received.count(mid) > 1]
        self.assertLessEqual(len(repeats), 1, received)
        for mid in repeats:
            self.assertEqual(received.count(mid), 2)
            self.assertIn(mid, in_flight)
        self.assertEqual(d2.stop(), 0)


if __name__ == "__main__":
    unittest.main()
