"""Fault: the disk holding the plan database fills up while careclockd
writes (a log file grew, a backup landed on the same volume).

The database lives on a small tmpfs mounted for the test (root only; without
mount permission the test runs the daemon under RLIMIT_FSIZE instead, with
SIGXFSZ ignored, so writes past the limit fail with EFBIG as a full disk's
fail with ENOSPC). A filler file leaves too little room for the first full
recompute: it fails with SQLite's "database or disk is full", logged at
error level, and the daemon keeps running and answering; the database
passes PRAGMA integrity_check; a command-line write fails with the same
clear reason. Its readiness says so (issue 19, item 5): READY=1 comes with
STATUS=degraded and the reason, not "0 overdue, 0 due soon"; /healthz answers
503 with the reason; /metrics counts the failures. Once space returns the
daemon recovers by itself: the clocks appear and equal a from-scratch
recompute, STATUS= gives the counts and /healthz 200."""
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import faultlib
from daemon_harness import CLI, Daemon, wait_until

NOW = "2026-11-30T10:00:00"
TODAY = "2026-11-30"
CHILDREN = 3000


class SmallDisk:
    """A council whose database sits on a filesystem of size_mb."""

    def __init__(self, size_mb):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.mount = os.path.join(self.dir, "disk")
        os.mkdir(self.mount)
        self.mounted = False
        self.fsize = None
        if os.geteuid() == 0:
            p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % size_mb, "careclock-faults",
                                self.mount], capture_output=True, text=True)
            self.mounted = p.returncode == 0
        self.db = os.path.join(self.mount, "plan.db")

    def cli(self, *args, today=TODAY, check=True):
        p = subprocess.run([CLI, "--db", self.db, "--today", today] + list(args), capture_output=True, text=True,
                           preexec_fn=self.limit)
        if check and p.returncode != 0:
            raise AssertionError("careclock %s: %s" % (" ".join(args), p.stderr))
        return p

    def limit(self):
        if self.fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.fsize, self.fsize))

    def fill(self, leave_bytes):
        """Leave about leave_bytes free: on tmpfs with a filler file, else
        by limiting the size any file may grow to."""
        if self.mounted:
            st = os.statvfs(self.mount)
            free = st.f_bavail * st.f_frsize
            with open(os.path.join(self.mount, "filler"), "wb") as f:
                chunk = b"\0" * (1 << 20)
                left = free - leave_bytes
                while left > 0:
                    n = min(left, len(chunk))
                    try:
                        f.write(chunk[:n])
                        f.flush()
                    except OSError:
                        break
                    left -= n
        else:
            self.fsize = max(os.path.getsize(self.db), os.path.getsize(self.db + "-wal")
                             if os.path.exists(self.db + "-wal") else 0) + leave_bytes

    def free_space(self):
        if self.mounted:
            os.unlink(os.path.join(self.mount, "filler"))
        self.fsize = None

    def cleanup(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.mount], capture_output=True)
        self.tmp.cleanup()


class DiskFull(faultlib.FaultTest):
    def _set_up(self):
        self.disk = SmallDisk(64)
        d = self.disk
        d.cli("init")
        d.cli("staff", "add", "W1", "--name", "Wendy Worker", "--email", "w1@council.example", "--role", "worker")
        d.cli("staff", "add", "TM1", "--name", "Tom Manager", "--email", "tm1@council.example", "--role",
              "team_manager")
        d.cli("team", "add", "T1", "--name", "East", "--manager", "TM1")
        faultlib.add_children(d.db, CHILDREN)
        self.daemon = None

    def tearDown(self):
        if getattr(self, "daemon", None):
            self.daemon.stop(signal.SIGKILL)
        if getattr(self, "disk", None):
            self.disk.cleanup()

    def start(self):
        # The harness's Council interface: a directory and a database path.
        council = type("C", (), {"dir": self.disk.dir, "db": self.disk.db})()
        if self.disk.mounted:
            self.daemon = Daemon(council, now=NOW)
        else:
            # RLIMIT_FSIZE for the daemon: SIGXFSZ ignored, so writes fail with EFBIG.
            limit = self.disk.fsize
            self.daemon = Daemon(council, now=NOW, extra=())
            self.daemon.proc.kill()
            self.daemon.proc.wait()
            self.daemon.sock.close()
            self.daemon = _LimitedDaemon(council, NOW, limit)
        return self.daemon

    def test_full_disk_clear_error_no_corruption_recovery_when_space_returns(self):
        d = self.disk
        d.fill(64 * 1024)
        daemon = self.start()
        self.assertTrue(daemon.wait_notify("READY=1", timeout=120), "\n".join(daemon.stderr_lines))
        self.assertTrue(daemon.wait_log("recompute failed", timeout=60), "\n".join(daemon.stderr_lines))
        failed = faultlib.lines_with(daemon.stderr_lines, "recompute failed")
        self.assertTrue(any("disk is full" in l or "too large" in l.lower() or "I/O" in l for l in failed), failed)
        self.assertTrue(failed[0].startswith("<3>"), failed[0])  # an error: a person must act
        self.assertIsNone(daemon.proc.poll(), "the daemon died")
        daemon.drain_notify()
        ready = [m for m in daemon.messages if "READY=1" in m]
        self.assertTrue(ready and "STATUS=degraded" in ready[0], daemon.messages)
        self.assertTrue("full" in ready[0] or "large" in ready[0].lower(), ready[0])
        self.assertNotIn("0 overdue", ready[0])
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(daemon.admin_url("/healthz"), timeout=20)
        self.assertEqual(caught.exception.code, 503)
        health = caught.exception.read().decode()
        self.assertIn("no computation has succeeded since start", health)
        self.assertTrue("full" in health or "large" in health.lower(), health)
        with urllib.request.urlopen(daemon.admin_url("/metrics"), timeout=20) as r:
            metrics = r.read().decode()
        failures = int(re.search(r"^careclock_recompute_failures_total (\d+)$", metrics, re.M).group(1))
        self.assertGreaterEqual(failures, 1)
        self.assertIn("\ncareclock_healthy 0\n", metrics)
        self.assertEqual(faultlib.integrity(d.db), [("ok",)])
        self.assertEqual(faultlib.count(d.db, "SELECT count(*) FROM clocks"), 0)
        # A write from the command line meanwhile: refused, with the reason, nothing half-written.
        p = d.cli("event", "add", "F000001", "visit", "2026-11-20", check=False)
        events_before = faultlib.count(d.db, "SELECT count(*) FROM events")
        if p.returncode != 0:
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertTrue("full" in p.stderr or "large" in p.stderr.lower() or "I/O" in p.stderr, p.stderr)
        # Space returns: the daemon recovers on its own.
        d.free_space()
        freed = time.monotonic()
        self.assertTrue(wait_until(lambda: faultlib.lines_with(daemon.stderr_lines, "full recompute:"), timeout=120),
                        "\n".join(daemon.stderr_lines))
        recovered = time.monotonic() - freed
        self.assertTrue(wait_until(lambda: daemon.drain_notify() or
                                   any("overdue" in m and "degraded" not in m for m in daemon.messages), timeout=30),
                        daemon.messages)
        with urllib.request.urlopen(daemon.admin_url("/healthz"), timeout=20) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(daemon.stop(), 0)
        self.assertEqual(faultlib.integrity(d.db), [("ok",)])
        self.assertEqual(faultlib.count(d.db, "SELECT count(*) FROM events"), events_before)
        got = faultlib.clocks(d.db)
        want = faultlib.from_scratch(d.db, TODAY, d.dir)
        self.assertEqual(got, want)
        print("\n%s; %d failed recomputes logged while full, e.g.\n  %s\nREADY: %s\n/healthz: 503 %s"
              "CLI write while full: exit %d %s\n"
              "recovered %.1f s after space returned: %d clock rows, equal to a from-scratch recompute"
              % ("tmpfs" if d.mounted else "RLIMIT_FSIZE", len(failed), failed[0], ready[0].replace("\n", " | "),
                 health, p.returncode, p.stderr.strip(), recovered, len(got)))


class _LimitedDaemon(Daemon):
    """careclockd under RLIMIT_FSIZE (the fallback when mount is refused)."""

    def __init__(self, council, now, limit):
        import socket
        import threading
        self.council = council
        self.notify_path = os.path.join(council.dir, "notify.sock")
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.notify_path)
        self.sock.settimeout(0.2)
        self.messages, self.stderr_lines = [], []
        from daemon_harness import DAEMON

        def limit_fn():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        self.proc = subprocess.Popen([DAEMON, "--foreground", "--db", council.db, "--listen", "127.0.0.1:0",
                                      "--admin-listen", "127.0.0.1:0", "--now",
                                      now], stderr=subprocess.PIPE, text=True, preexec_fn=limit_fn,
                                     env=dict(os.environ, NOTIFY_SOCKET=self.notify_path))
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()


if __name__ == "__main__":
    unittest.main()
