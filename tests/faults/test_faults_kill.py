"""Fault: careclockd killed with SIGKILL (a crash, the OOM killer, a power
cut as far as the process can tell), then started again.

- During the full recompute of a large plan database (40,000 children written
  with SQL), three times: early, as its first transaction is written, and
  once part of it is committed: after the restart the clocks table equals a
  from-scratch recompute of a copy with `careclock clocks`, and SQLite's
  integrity check passes.
- During delivery batches, three times over, with email and webhook messages
  in flight: after the last restart every notice has been delivered, and
  the only repeats are messages that were on the wire at a kill, each with
  the same Message-ID / webhook-id as the first time."""
import json
import os
import signal
import time
import unittest

import faultlib
from daemon_harness import Council, Daemon, wait_until
from test_delivery import Server

CHILDREN = int(os.environ.get("CARECLOCK_FAULT_CHILDREN", "40000"))
NOW = "2026-11-30T10:00:00"
TODAY = "2026-11-30"


class KillDuringRecompute(faultlib.FaultTest):
    def _set_up(self):
        self.council = Council()
        faultlib.add_children(self.council.db, CHILDREN)
        self.daemons = []

    def tearDown(self):
        for d in getattr(self, "daemons", []):
            d.stop(signal.SIGKILL)
        if getattr(self, "council", None):
            self.council.cleanup()

    def start(self):
        d = Daemon(self.council, now=NOW)
        self.daemons.append(d)
        return d

    def test_sigkill_mid_full_recompute_then_restart_is_consistent(self):
        d = self.start()
        self.assertTrue(d.wait_log("careclockd starting", timeout=30), "\n".join(d.stderr_lines))
        # The recompute starts right after that line and takes a few seconds
        # for 40,000 children (about 1.1 s for 20,000 on the 2-CPU machine of
        # docs/reliability.md): kill it half a second in.
        time.sleep(0.5)
        mid = not faultlib.lines_with(d.stderr_lines, "full recompute:")
        d.stop(signal.SIGKILL)
        wal = os.path.getsize(self.council.db + "-wal") if os.path.exists(self.council.db + "-wal") else 0
        self.assertTrue(mid, "the full recompute finished before the kill; raise CARECLOCK_FAULT_CHILDREN")
        self.assertEqual(faultlib.integrity(self.council.db), [("ok",)])
        # Again, this time while the transaction is being written: the moment the WAL starts to grow.
        d = self.start()
        self.assertTrue(d.wait_log("careclockd starting", timeout=30), "\n".join(d.stderr_lines))
        wal_path = self.council.db + "-wal"
        base = os.path.getsize(wal_path) if os.path.exists(wal_path) else 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not faultlib.lines_with(d.stderr_lines, "full recompute:"):
            if os.path.exists(wal_path) and os.path.getsize(wal_path) > base + 256 * 1024:
                break
            time.sleep(0.002)
        writing = not faultlib.lines_with(d.stderr_lines, "full recompute:")
        d.stop(signal.SIGKILL)
        wal2 = os.path.getsize(wal_path) if os.path.exists(wal_path) else 0
        self.assertEqual(faultlib.integrity(self.council.db), [("ok",)])
        # A third time once part of the first computation is committed (it
        # commits every 250,000 rows): the children done so far stay, with
        # the note that clocks_by_status is owed; the next start finishes.
        d = self.start()
        self.assertTrue(d.wait_log("careclockd starting", timeout=30), "\n".join(d.stderr_lines))
        partial = (0, 0)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not faultlib.lines_with(d.stderr_lines, "full recompute:"):
            partial = faultlib.first_computation_state(self.council.db)
            if partial[0] > 0:
                break
            time.sleep(0.005)
        d.stop(signal.SIGKILL)
        self.assertGreater(partial[0], 0, "no part of the first computation was committed before it ended")
        self.assertEqual(faultlib.first_computation_state(self.council.db)[1], 1)
        self.assertEqual(faultlib.integrity(self.council.db), [("ok",)])
        d2 = self.start()
        self.assertTrue(d2.wait_notify("READY=1", timeout=300), "\n".join(d2.stderr_lines))
        self.assertTrue(faultlib.lines_with(d2.stderr_lines, "full recompute:", "%d children" % CHILDREN),
                        "\n".join(d2.stderr_lines))
        # After READY the first delivery cycle plans every stage of every
        # clock of 40,000 children in one synchronous step (about 10 s here,
        # longer on a loaded CI machine), and SIGTERM is handled when it
        # ends: a known limit (docs/reliability.md), so allow for it here.
        self.assertEqual(d2.stop(timeout=180), 0)
        self.assertEqual(faultlib.integrity(self.council.db), [("ok",)])
        got = faultlib.clocks(self.council.db)
        want = faultlib.from_scratch(self.council.db, TODAY, self.council.dir)
        self.assertGreater(len(want), CHILDREN)
        self.assertEqual(len(got), len(want))
        self.assertEqual(got, want)
        full = faultlib.lines_with(d2.stderr_lines, "full recompute:")[0]
        print("\nkilled 0.5 s into the first full recompute of %d children (WAL %d KB), then %s (WAL %d KB); "
              "then once %d clock rows were committed (the index owed); integrity_check ok after each; after the "
              "restart: %d clock rows, equal to a from-scratch recompute of a copy\n  %s"
              % (CHILDREN, wal // 1024, "again while its commit was being written" if writing
                 else "again (the second run finished first)", wal2 // 1024, partial[0], len(got), full))


class KillDuringDeliveries(faultlib.FaultTest):
    """12 children whose SGO reports were due on Mon 28 Dec 2026: on Tue 29
    Dec each child's worker is reminded (-1wd, caught up) and the team
    manager escalated (+1wd) by email, and the team's channel gets the
    manager's copy by webhook: 24 emails and 12 webhooks, one message each
    (digest = no). Both sinks take 0.3 s to answer, so a kill always finds
    something in flight."""

    NOW = "2026-12-29T09:00:00"
    KILLS = 3

    def _set_up(self):
        self.council = Council()
        self.dir = self.council.dir
        self.mail_dir = os.path.join(self.dir, "mail")
        self.hook_dir = os.path.join(self.dir, "hooks")
        self.smtp = Server("mailsink.py", self.mail_dir, "--delay", "0.3")
        self.hook = Server("hooksink.py", self.hook_dir, "--delay", "0.3")
        self.daemons = []
        self.conf = self.council.write_config(
            "[notify]\nwindow = 08:00-18:00\ndigest = no\n[smtp]\nurl = smtp://127.0.0.1:%d\n"
            "from = careclock@council.example\ntls = none\n[webhook:east]\nurl = http://127.0.0.1:%d/hooks/east\n"
            "format = generic\n" % (self.smtp.port, self.hook.port))
        self.council.cli("team", "set", "T1", "--webhook", "east")
        for i in range(1, 13):
            child = "K%02d" % i
            self.council.cli("child", "add", child, "--dob", "2012-04-01", "--team", "T1", "--worker", "W1")
            self.council.cli("event", "add", child, "sgo_notice", "2026-10-05", today="2026-10-05")

    def tearDown(self):
        for d in getattr(self, "daemons", []):
            d.stop(signal.SIGKILL)
        for name in ("smtp", "hook"):
            if getattr(self, name, None):
                getattr(self, name).stop()
        if getattr(self, "council", None):
            self.council.cleanup()

    def deliveries(self):
        return json.loads(self.council.cli("deliveries", "--format", "json", today=None).stdout)

    def received(self):
        ids = []
        if os.path.isdir(self.mail_dir):
            for name in sorted(os.listdir(self.mail_dir)):
                if name.endswith(".eml"):
                    with open(os.path.join(self.mail_dir, name), "rb") as f:
                        for line in f.read().split(b"\r\n"):
                            if line.lower().startswith(b"message-id:"):
                                ids.append(line.split(b":", 1)[1].strip().decode())
                                break
        path = os.path.join(self.hook_dir, "requests.jsonl")
        if os.path.exists(path):
            with open(path) as f:
                ids += [json.loads(l)["webhook_id"] for l in f if l.strip()]
        return ids

    def start(self):
        d = Daemon(self.council, now=self.NOW, config=self.conf)
        self.daemons.append(d)
        self.assertTrue(d.wait_notify("READY=1"), "\n".join(d.stderr_lines))
        return d

    def test_three_kills_mid_batch_every_notice_delivered_repeats_only_in_flight(self):
        in_flight, claimed = [], []
        for k in range(self.KILLS):
            d = self.start()
            before = len(self.received())
            self.assertTrue(wait_until(lambda: len(self.received()) >= before + 3, timeout=60),
                            "\n".join(d.stderr_lines))
            d.stop(signal.SIGKILL)
            time.sleep(0.5)  # a request the sink was still answering is recorded by now
            sending = {r["message_id"] for r in self.deliveries() if r["state"] == "sending"}
            self.assertTrue(sending, "kill %d found nothing claimed" % (k + 1))
            claimed.append(len(sending))
            # Claimed rows are "sending" until their outcome is recorded; the
            # ones a sink has already received are those on the wire at the
            # kill: at most one per lane (one SMTP connection, one request
            # per endpoint).
            on_wire = sending & set(self.received())
            self.assertLessEqual(len(on_wire), 2, on_wire)
            in_flight.append(on_wire)
            self.assertEqual(faultlib.integrity(self.council.db), [("ok",)])
        d = self.start()
        self.assertTrue(wait_until(lambda: {r["state"] for r in self.deliveries()} == {"sent"}, timeout=120),
                        "\n".join(d.stderr_lines))
        self.assertEqual(d.stop(), 0)
        rows = self.deliveries()
        self.assertEqual(len(rows), 36)
        got = self.received()
        self.assertEqual(set(got), {r["message_id"] for r in rows})
        was_in_flight = set().union(*in_flight)
        for mid in set(got):
            n = got.count(mid)
            if n > 1:
                self.assertIn(mid, was_in_flight, "%s repeated without having been in flight" % mid)
                self.assertLessEqual(n, 1 + sum(mid in s for s in in_flight))
        repeats = len(got) - len(set(got))
        self.assertLessEqual(repeats, sum(len(s) for s in in_flight))
        print("\n%d kills mid-batch: %s claimed rows at each kill, of them received by a sink but not yet "
              "recorded: %s; in the end all 36 sent, %d messages received, %d repeated (each with its first id)"
              % (self.KILLS, "/".join(str(n) for n in claimed), "/".join(str(len(s)) for s in in_flight), len(got),
                 repeats))


if __name__ == "__main__":
    unittest.main()
