"""Fault: slow and hostile clients against careclockd's feed server, which
serves calendar feeds behind the council's reverse proxy ([http] listen on
loopback by default). Everything here runs on 127.0.0.1, with bounded counts
and durations, and stops by itself.

- Slow clients (slowloris): 100 connections sending their request one byte a
  second; a well-behaved client's feed requests are answered as usual.
- A flood: 1,500 connections that connect and send nothing, more than
  [http] max_connections (128 here). From about 7/8 of the limit each new
  connection closes the one that has waited longest for its request, so a
  well-behaved client arriving behind the flood is answered at once (before
  issue 19 it queued until the connections ahead of it timed out: 22 s);
  every idle connection is closed by the server and the daemon's open
  descriptors return to where they were.
The hostile clients connect from 127.0.0.2 upwards, the well-behaved one from
127.0.0.1, as on the internet they come from other addresses than the client
they crowd out ([http] max_connections_per_client holds one address to 64;
tests/faults/test_faults_slowclients.py has the thousands, and one address).
- Oversized requests: a request line of 100 KB and a header block of 100 KB
  are refused (414 / 431, or the connection closed) without reaching
  careclock's code, and the server goes on answering.
- Garbage bytes instead of HTTP: 400 or closed, nothing else."""
import os
import re
import resource
import selectors
import signal
import socket
import threading
import time
import unittest
import urllib.request

from daemon_harness import Council, Daemon

MAX_CONNECTIONS = 128
TIMEOUT = 2


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class HostileClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            cls._set_up_class()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _set_up_class(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        cls.council = c = Council()
        c.cli("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1", "--initials", "AB")
        c.cli("event", "add", "C1", "looked_after_start", "2026-11-02", today="2026-11-10")
        c.cli("event", "add", "C1", "placement_start", "2026-11-02", today="2026-11-10")
        out = c.cli("feed", "add", "--team", "T1").stdout
        cls.path = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", out).group(1)
        conf = c.write_config("[http]\nmax_connections = %d\ntimeout = %d\n" % (MAX_CONNECTIONS, TIMEOUT))
        cls.daemon = Daemon(c, now="2026-11-10T09:00:00", config=conf)
        assert cls.daemon.wait_notify("READY=1"), cls.daemon.stderr_lines
        cls.port = cls.daemon.port()
        cls.url = cls.daemon.url(cls.path)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "daemon", None):
            cls.daemon.stop(signal.SIGTERM)
        if getattr(cls, "council", None):
            cls.council.cleanup()

    def fetch(self, timeout=30):
        """One well-behaved feed request: (status, seconds)."""
        t0 = time.monotonic()
        with urllib.request.urlopen(self.url, timeout=timeout) as r:
            body = r.read()
            self.assertIn(b"BEGIN:VCALENDAR", body)
            return r.status, time.monotonic() - t0

    def connect(self, hostile=0):
        """A connection from 127.0.0.1, or for hostile > 0 from one of 50 other loopback addresses."""
        source = ("127.0.0.%d" % (2 + hostile % 50), 0) if hostile else None
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=source)
        return s

    def raw(self, data, timeout=10):
        """Send data on a new connection; the status line answered, or None when closed without one."""
        s = self.connect()
        s.settimeout(timeout)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            reply = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            reply = b""
        s.close()
        return reply.split(b"\r\n", 1)[0].decode("latin-1") or None

    def test_1_slow_clients_do_not_hold_up_a_good_one(self):
        request = ("GET %s HTTP/1.1\r\nHost: careclock\r\nUser-Agent: slow\r\n\r\n" % self.path).encode()
        socks = [self.connect(hostile=i + 1) for i in range(100)]
        stop = threading.Event()

        def drip():
            i = 0
            while not stop.is_set() and i < len(request):
                for s in socks:
                    try:
                        s.send(request[i:i + 1])
                    except OSError:
                        pass
                i += 1
                stop.wait(1.0)
        t = threading.Thread(target=drip, daemon=True)
        t.start()
        try:
            times = []
            for _ in range(10):
                status, secs = self.fetch()
                self.assertEqual(status, 200)
                times.append(secs)
                time.sleep(0.5)
            self.assertLess(max(times), 2.0, times)
        finally:
            stop.set()
            t.join(5)
            for s in socks:
                s.close()
        print("\n100 one-byte-a-second clients: 10 good requests answered in %.3f s at most" % max(times))

    def test_2_flood_beyond_max_connections(self):
        base = open_fds(self.daemon.proc.pid)
        flood = []
        for i in range(1500):
            s = socket.socket()
            s.setblocking(False)
            s.bind(("127.0.0.%d" % (2 + i % 50), 0))
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            flood.append(s)
        time.sleep(0.5)
        self.assertLessEqual(open_fds(self.daemon.proc.pid) - base, MAX_CONNECTIONS + 8)
        status, queued = self.fetch(timeout=120)
        self.assertEqual(status, 200)
        # Room is made for it: the bound of docs/reliability.md ("Slow clients"), not 1,500 / 128 x 2 s.
        self.assertLess(queued, 2.0, queued)
        # The server closes every idle connection: each sees end of file.
        deadline = time.monotonic() + 120
        sel = selectors.DefaultSelector()
        for s in flood:
            sel.register(s, selectors.EVENT_READ)
        open_ones = len(flood)
        while open_ones and time.monotonic() < deadline:
            for key, _ in sel.select(1.0):
                try:
                    data = key.fileobj.recv(1)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    data = b""
                if data == b"":
                    sel.unregister(key.fileobj)
                    open_ones -= 1
        sel.close()
        closed_by_server = len(flood) - open_ones
        for s in flood:
            s.close()
        status, after = self.fetch()
        self.assertEqual(status, 200)
        self.assertLess(after, 2.0)
        time.sleep(1)
        self.assertLessEqual(open_fds(self.daemon.proc.pid), base + 2)
        self.assertEqual(closed_by_server, len(flood))
        print("\n1500 idle connections, max_connections %d, timeout %d s: a good request arriving behind them was "
              "answered in %.3f s, then in %.3f s once they were gone; all %d closed by the server; descriptors "
              "back to %d" % (MAX_CONNECTIONS, TIMEOUT, queued, after, closed_by_server,
                              open_fds(self.daemon.proc.pid)))

    def test_3_oversized_and_garbage_requests_are_refused(self):
        line = self.raw(b"GET /feeds/" + b"a" * 100000 + b".ics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(line is None or " 414 " in line or " 431 " in line or " 400 " in line, line)
        header = self.raw(("GET %s HTTP/1.1\r\nHost: x\r\nX-Big: " % self.path).encode() + b"b" * 100000 +
                          b"\r\n\r\n")
        self.assertTrue(header is None or " 431 " in header or " 413 " in header or " 400 " in header, header)
        garbage = self.raw(bytes(range(256)) * 8)
        self.assertTrue(garbage is None or " 400 " in garbage, garbage)
        status, secs = self.fetch()
        self.assertEqual(status, 200)
        self.assertLess(secs, 2.0)
        self.assertIsNone(self.daemon.proc.poll())
        print("\n100 KB request line: %s; 100 KB header: %s; 2 KB of binary: %s; a good request after: %.3f s"
              % (line or "closed", header or "closed", garbage or "closed", secs))


if __name__ == "__main__":
    unittest.main()
