"""Fault: careclockd cannot see the other sender's process (issue 19, item 10).

The unit sets ProtectProc=invisible: careclockd sees only its own user's
processes in /proc. A `careclock deliveries run` from another account's cron
claims rows (state sending) and is sending them when careclockd starts and
recovers what dead senders left. Before, the outbox asked /proc/PID/stat
whether the claimer ran, found nothing, and handed the live sender's rows
back to pending; careclockd then sent them too: the duplicates the outbox
exists to prevent. Now a sender holds a liveness mark (an OFD lock on a byte
of DATABASE-senders) that the kernel answers about whatever /proc shows.

Reproduced here as the unit would: careclockd runs as nobody, in a mount
namespace of its own with /proc mounted hidepid=invisible (unshare -m, then
setpriv); the sender runs as root, so another user, against a mail sink that
takes 1.5 s per message. The test checks first that careclockd's side
cannot see the sender's /proc entry. Skipped, saying why, where unshare or
the mount is refused (needs root)."""
import os
import signal
import sqlite3
import subprocess
import time
import unittest

import faultlib
from daemon_harness import CLI, Council, Daemon, wait_until
from test_delivery import Server

NOW_UTC = "2026-12-29T09:00:00"    # Tue 29 Dec 2026 09:00 in London: SGO reports due Mon 28 Dec are late
NOBODY = 65534
HIDDEN = ["unshare", "-m", "--propagation", "private", "sh", "-c",
          'mount -t proc -o hidepid=invisible proc /proc && exec setpriv --reuid=%d --regid=%d --clear-groups "$@"'
          % (NOBODY, NOBODY), "careclockd"]


def give_to(path, uid):
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, uid)
        for name in files:
            os.chown(os.path.join(root, name), uid, uid)


@unittest.skipUnless(os.geteuid() == 0, "needs root: another user, a mount namespace and a /proc mount")
class HiddenSender(faultlib.FaultTest):
    def _set_up(self):
        self.daemon = self.sender = self.sink = None
        probe = subprocess.run(HIDDEN[:-1] + ["probe", "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest("cannot mount a private /proc with hidepid=invisible here: %s" % probe.stderr.strip())
        self.council = c = Council()
        self.mail_dir = os.path.join(c.dir, "mail")
        os.mkdir(self.mail_dir)
        self.sink = Server("mailsink.py", self.mail_dir, "--delay", "1.5")
        self.conf = c.write_config(
            "[notify]\nwindow = 08:00-18:00\ndigest = no\n[smtp]\nurl = smtp://127.0.0.1:%d\n"
            "from = careclock@council.example\ntls = none\n" % self.sink.port)
        for i in range(1, 4):
            child = "H%d" % i
            c.cli("child", "add", child, "--dob", "2012-04-01", "--team", "T1", "--worker", "W1")
            c.cli("event", "add", child, "sgo_notice", "2026-10-05", today="2026-10-05")
        give_to(c.dir, NOBODY)  # careclockd, as nobody, writes the database; root may anyway
        os.chmod(self.mail_dir, 0o777)

    def tearDown(self):
        if getattr(self, "daemon", None):
            self.daemon.stop(signal.SIGKILL)
        if getattr(self, "sender", None) and self.sender.poll() is None:
            self.sender.kill()
            self.sender.communicate()
        if getattr(self, "sink", None):
            self.sink.stop()
        if getattr(self, "council", None):
            self.council.cleanup()

    def mails(self):
        return [n for n in os.listdir(self.mail_dir) if n.endswith(".eml")]

    def states(self):
        return faultlib.count(self.council.db, "SELECT group_concat(state) FROM (SELECT state FROM deliveries "
                                               "WHERE channel = 'email' ORDER BY state)") or ""

    def test_a_live_sender_of_another_user_keeps_its_rows(self):
        c = self.council
        self.sender = subprocess.Popen([CLI, "--db", c.db, "--config", self.conf, "--now", NOW_UTC, "deliveries",
                                        "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertTrue(wait_until(lambda: self.mails(), timeout=30), "the sender sent nothing")
        sending = faultlib.count(c.db, "SELECT count(*) FROM deliveries WHERE state = 'sending'")
        self.assertGreater(sending, 1, "the sender is not mid-batch")
        # careclockd's side of the sandbox does not see the sender.
        seen = subprocess.run(HIDDEN[:-1] + ["probe", "test", "-e", "/proc/%d/stat" % self.sender.pid])
        self.assertNotEqual(seen.returncode, 0, "/proc shows the sender to careclockd's side")
        self.daemon = d = Daemon(c, now=NOW_UTC, config=self.conf, prefix=HIDDEN)
        self.assertTrue(d.wait_notify("READY=1"), d.stderr_lines)
        # Its first delivery cycle (recovery first) runs 0.1 s after READY; it logs only what it did.
        self.assertTrue(d.wait_log("every child planned", timeout=20), d.stderr_lines)
        time.sleep(1.0)
        self.assertIsNone(self.sender.poll(), "the sender finished before careclockd looked: no test")
        recovered = [l for l in d.stderr_lines if "recovered" in l and " 0 recovered" not in l]
        self.assertEqual(recovered, [], "careclockd handed a live sender's rows back")
        interrupted = faultlib.count(c.db, "SELECT count(*) FROM deliveries WHERE last_error LIKE 'interrupted%'")
        self.assertEqual(interrupted, 0)
        out, err = self.sender.communicate(timeout=60)
        self.assertEqual(self.sender.returncode, 0, err)
        self.assertTrue(wait_until(lambda: set(self.states().split(",")) == {"sent"}, timeout=30), self.states())
        time.sleep(2)  # anything careclockd would send twice would have reached the sink by now
        ids = []
        for name in self.mails():
            with open(os.path.join(self.mail_dir, name), errors="replace") as f:
                ids += [l.split(":", 1)[1].strip() for l in f if l.lower().startswith("message-id:")]
        self.assertEqual(len(ids), len(set(ids)), "a message went twice: %s" % sorted(ids))
        self.assertEqual(d.stop(), 0)
        print("\nsender as root, careclockd as nobody under hidepid=invisible: %d rows sending when careclockd "
              "started, none handed back; %d messages received, each once" % (sending, len(ids)))


if __name__ == "__main__":
    unittest.main()
