"""Fault: a mail server that accepts connections and never answers (a relay
hung, a firewall that accepts and drops), and a webhook receiver that
answers too slowly (a Teams workflow having a bad day), while another
webhook endpoint is healthy.

The healthy endpoint gets its messages at once: careclock sends by lanes
(one for SMTP, one per endpoint), so a stuck lane holds up only itself.
The stuck email times out (libcurl's connect phase, which for SMTP includes
the server's greeting: 15 s) and the slow webhook times out (15 s); both are
recorded as retrying with the reason. Started again at a later time, with
the servers fixed, careclockd retries them and they are delivered with the
same Message-ID and webhook-id as the attempts that timed out."""
import json
import os
import signal
import socket
import sqlite3
import threading
import time
import unittest
import urllib.request

import faultlib
from daemon_harness import Council, Daemon, wait_until
from test_delivery import Server

NOW = "2026-12-29T09:00:00"       # Tue 29 Dec 2026: SGO reports due Mon 28 Dec are one working day late
LATER = "2026-12-29T09:10:00"     # after the first retry's backoff (about a minute)


class BlackHole:
    """Accepts TCP connections on 127.0.0.1 and never writes a byte."""

    def __init__(self, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(c)

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)
        for c in self.accepted:
            c.close()


class StuckServers(faultlib.FaultTest):
    def _set_up(self):
        self.servers, self.daemons = [], []
        self.council = Council()
        self.dir = self.council.dir
        self.mail_dir = os.path.join(self.dir, "mail")
        self.slow_dir = os.path.join(self.dir, "slow")
        self.fast_dir = os.path.join(self.dir, "fast")
        self.hole = BlackHole()
        self.slow = self.server("hooksink.py", self.slow_dir, "--delay", "20")
        self.fast = self.server("hooksink.py", self.fast_dir)
        # West's manager has no email address (undeliverable, not stuck): only two emails wait on the
        # stuck server, 15 s each, one after the other in the SMTP lane.
        self.council.cli("staff", "add", "TM2", "--name", "Tina Manager", "--email", "tm2@council.example",
                         "--role", "team_manager")
        con = sqlite3.connect(self.council.db)
        with con:
            con.execute("UPDATE staff SET email = NULL WHERE id = 'TM2'")
        con.close()
        self.council.cli("team", "set", "T1", "--webhook", "slow")
        self.council.cli("team", "add", "T2", "--name", "West", "--manager", "TM2", "--webhook", "fast")
        for child, team in (("S1", "T1"), ("S2", "T2")):
            self.council.cli("child", "add", child, "--dob", "2012-04-01", "--team", team, "--worker", "W1")
            self.council.cli("event", "add", child, "sgo_notice", "2026-10-05", today="2026-10-05")

    def tearDown(self):
        for d in getattr(self, "daemons", []):
            d.stop(signal.SIGKILL)
        for s in getattr(self, "servers", []):
            s.stop()
        if getattr(self, "hole", None):
            self.hole.stop()
        if getattr(self, "council", None):
            self.council.cleanup()

    def server(self, script, directory, *args):
        s = Server(script, directory, *args)
        self.servers.append(s)
        return s

    def config(self, smtp_port):
        return self.council.write_config(
            "[notify]\nwindow = 08:00-18:00\ndigest = yes\n[smtp]\nurl = smtp://127.0.0.1:%d\n"
            "from = careclock@council.example\ntls = none\n"
            "[webhook:slow]\nurl = http://127.0.0.1:%d/hooks/slow\nformat = generic\n"
            "[webhook:fast]\nurl = http://127.0.0.1:%d/hooks/fast\nformat = generic\n"
            % (smtp_port, self.slow.port, self.fast.port))

    def deliveries(self):
        return json.loads(self.council.cli("deliveries", "--format", "json", today=None).stdout)

    def hooks(self, directory):
        path = os.path.join(directory, "requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def mails(self):
        if not os.path.isdir(self.mail_dir):
            return []
        return [n for n in os.listdir(self.mail_dir) if n.endswith(".eml")]

    def by(self, rows, channel, address=None):
        return [r for r in rows if r["channel"] == channel and (address is None or r.get("address") == address)]

    def test_stuck_smtp_and_slow_webhook_time_out_and_retry_others_go_out(self):
        d = Daemon(self.council, now=NOW, config=self.config(self.hole.port))
        self.daemons.append(d)
        self.assertTrue(d.wait_notify("READY=1"), "\n".join(d.stderr_lines))
        started = time.monotonic()
        # The healthy endpoint is not held up by the stuck ones.
        self.assertTrue(wait_until(lambda: self.hooks(self.fast_dir), timeout=10), "\n".join(d.stderr_lines))
        fast_after = time.monotonic() - started
        self.assertTrue(self.hole.accepted, "careclock never connected to the stuck mail server")
        # The stuck ones time out and are recorded as retrying, with the reason.
        def settled():
            rows = self.deliveries()
            return rows and all(r["state"] in ("sent", "retrying", "undeliverable") for r in rows) and rows
        rows = wait_until(settled, timeout=90)
        self.assertTrue(rows, "\n".join(d.stderr_lines))
        settled_after = time.monotonic() - started
        emails = [r for r in rows if r["channel"] == "email" and r["state"] != "undeliverable"]
        hooks = [r for r in rows if r["channel"] == "webhook"]
        self.assertTrue(emails and all(r["state"] == "retrying" for r in emails), emails)
        for r in emails:
            self.assertIn("timed out", r["last_error"] or "", r)
        slow = [r for r in hooks if r["state"] == "retrying"]
        fast = [r for r in hooks if r["state"] == "sent"]
        self.assertEqual(len(slow), 1, hooks)
        self.assertEqual(len(fast), 1, hooks)
        self.assertIn("timed out", slow[0]["last_error"] or "", slow[0])
        self.assertIsNone(d.proc.poll())
        with urllib.request.urlopen(d.admin_url("/healthz"), timeout=10) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(d.stop(), 0)
        first_ids = {r["id"]: r["message_id"] for r in rows if r["state"] == "retrying"}

        # The servers are fixed; careclockd runs again after the backoff.
        port = self.hole.port
        self.hole.stop()
        self.server("mailsink.py", self.mail_dir, "--port", str(port))
        slow_port = self.slow.port
        self.slow.stop()
        self.servers.remove(self.slow)
        self.slow = self.server("hooksink.py", self.slow_dir, "--port", str(slow_port))
        d2 = Daemon(self.council, now=LATER, config=self.config(port))
        self.daemons.append(d2)
        self.assertTrue(d2.wait_notify("READY=1"), "\n".join(d2.stderr_lines))
        self.assertTrue(wait_until(lambda: {r["state"] for r in self.deliveries()} == {"sent", "undeliverable"},
                                   timeout=60), "\n".join(d2.stderr_lines))
        self.assertEqual(d2.stop(), 0)
        rows = self.deliveries()
        for r in rows:
            if r["id"] in first_ids:
                self.assertEqual(r["message_id"], first_ids[r["id"]])
                self.assertGreaterEqual(r["attempts"], 2)
        self.assertEqual(len(self.mails()), len({r["message_id"] for r in rows if r["channel"] == "email" and
                                                 r["state"] == "sent"}))
        slow_ids = [h["webhook_id"] for h in self.hooks(self.slow_dir)]
        # The timed-out request may have reached the slow receiver (it answered after we gave up): the
        # retry carries the same webhook-id, so it can tell.
        self.assertTrue(slow_ids and len(set(slow_ids)) == 1, slow_ids)
        self.assertIn(slow_ids[0], first_ids.values())
        print("\nfast endpoint served after %.1f s; stuck SMTP and slow webhook recorded retrying after %.1f s "
              "(%s | %s); retried at %s with the same ids: all sent" %
              (fast_after, settled_after, emails[0]["last_error"], slow[0]["last_error"], LATER))


if __name__ == "__main__":
    unittest.main()
