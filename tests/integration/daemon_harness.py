"""Shared helpers for tests that run careclockd: a temporary council
database made with the real CLI, a NOTIFY_SOCKET the test owns, and a
daemon process with its stderr (the journal lines) captured."""
import os
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"))
CLI = os.path.join(BUILD, "careclock")
DAEMON = os.path.join(BUILD, "careclockd")
# The binaries themselves, not tests/logwrap.sh: for a process run as another
# user, who cannot append to the test logs (its stderr is still captured).
REAL_BUILD = os.path.abspath(os.environ.get("CARECLOCK_REAL_BUILD", BUILD))
REAL_CLI = os.path.join(REAL_BUILD, "careclock")
REAL_DAEMON = os.path.join(REAL_BUILD, "careclockd")


class Council:
    """A temporary directory holding a plan database with one team."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "plan.db")
        self.cli("init")
        self.cli("staff", "add", "W1", "--name", "Wendy Worker", "--email", "w1@council.example", "--role", "worker")
        self.cli("staff", "add", "TM1", "--name", "Tom Manager", "--email", "tm1@council.example", "--role",
                 "team_manager")
        self.cli("team", "add", "T1", "--name", "East", "--manager", "TM1")

    def cli(self, *args, today="2026-11-30", check=True):
        when = ["--today", today] if today else []
        p = subprocess.run([CLI, "--db", self.db] + when + list(args), capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError("careclock %s: %s" % (" ".join(args), p.stderr))
        return p

    def write_config(self, text, name="careclock.conf"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def cleanup(self):
        self.tmp.cleanup()


class Daemon:
    """careclockd on the council's database, with a notify socket."""

    def __init__(self, council, now=None, config=None, extra=(), env=None, user=None, listen="127.0.0.1:0",
                 admin_listen="127.0.0.1:0", preexec_fn=None, prefix=()):
        """user: a uid to run as (the real binary, see REAL_DAEMON); the
        council's files must then be its to write. prefix: a command that
        runs careclockd (for example unshare and setpriv: the real binary
        too)."""
        self.council = council
        self.notify_path = os.path.join(council.dir, "notify.sock")
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.notify_path)
        if user is not None or prefix:
            os.chmod(self.notify_path, 0o666)
        self.sock.settimeout(0.2)
        self.messages = []
        self.stderr_lines = []
        args = list(prefix) + [DAEMON if user is None and not prefix else REAL_DAEMON, "--foreground", "--db",
                               council.db]
        if listen:
            args += ["--listen", listen]
        if admin_listen:
            args += ["--admin-listen", admin_listen]
        if config:
            args += ["--config", config]
        if now:
            args += ["--now", now]
        args += list(extra)
        environ = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        if env:
            environ.update(env)
        ids = {} if user is None else {"user": user, "group": user, "extra_groups": []}
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=environ, preexec_fn=preexec_fn,
                                     **ids)
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def drain_notify(self):
        if self.sock.fileno() < 0:
            return
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                return

    def wait_notify(self, needle, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain_notify()
            if any(needle in m for m in self.messages):
                return True
            if self.proc.poll() is not None:
                return False
        return False

    def wait_log(self, needle, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in l for l in self.stderr_lines):
                return True
            time.sleep(0.05)
        return False

    def port(self):
        """The feed server's port, from its start-up log line."""
        self.wait_log("feed server listening")
        for line in self.stderr_lines:
            if "feed server listening" in line:
                return int(line.rsplit("(port ", 1)[1].rstrip(")"))
        raise AssertionError("no feed server line in the log")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port(), path)

    def admin_port(self):
        """The port /healthz and /metrics are served on ([http] admin_listen)."""
        self.wait_log("admin server (/healthz, /metrics)")
        for line in self.stderr_lines:
            if "admin server (/healthz, /metrics)" in line:
                return int(line.rsplit("(port ", 1)[1].split(")")[0])
        raise AssertionError("no admin server line in the log")

    def admin_url(self, path):
        return "http://127.0.0.1:%d%s" % (self.admin_port(), path)

    def stop(self, sig=15, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(timeout=5)
        if self.proc.stderr and not self.proc.stderr.closed:
            self.proc.stderr.close()
        if self.sock.fileno() >= 0:
            self.drain_notify()
            self.sock.close()
        return rc


def wait_until(predicate, timeout=20, interval=0.05):
    """Poll predicate until it is true or timeout passes (no timing claims)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
