"""A load generator of slow and idle clients for careclockd's feed server
(issue 19, item 1), on loopback only, and a well-behaved client timed while it
runs. Used by tests/faults/test_faults_slowclients.py; also runs by itself to
measure any careclockd (docs/reliability.md, "Slow clients"):

    python3 tests/faults/slowload.py --port 8787 --path /feeds/<token>.ics \\
        --drip 600 --idle 2000 --seconds 30

Attackers connect from 127.0.0.2 upwards (--addresses of them; all of
127.0.0.0/8 is loopback on Linux), the well-behaved client from 127.0.0.1, so
a per-address limit can tell them apart as it would on the internet. A
dripping client sends a request one byte a second that never ends; an idle
one connects and sends nothing. Either, when the server closes it, connects
again at once: the pressure stays whatever the server does."""
import argparse
import errno
import resource
import selectors
import socket
import threading
import time
import urllib.request


class Attack:
    """drip + idle connections, kept open (reopened when closed) by one
    thread with a selector, until stop()."""

    def __init__(self, port, drip=0, idle=0, addresses=200, first_address=2, reconnect_after=0.0):
        """reconnect_after: seconds a closed client waits before it connects
        again (0: at once, as an attacker would; the CI test waits a second
        so as not to spend the machine's CPU on the churn)."""
        self.port = port
        self.reconnect_after = reconnect_after
        self.later = []          # (when, kind, index): clients to reconnect
        self.addresses = ["127.0.0.%d" % (first_address + i % addresses) for i in range(max(addresses, 1))]
        self.want = [("drip", i) for i in range(drip)] + [("idle", i) for i in range(idle)]
        self.request = (b"GET /feeds/" + b"0" * 64 + b".ics HTTP/1.1\r\nHost: careclock\r\nUser-Agent: slow\r\n"
                        b"X-Padding: " + b"a" * 4000)
        self.sel = selectors.DefaultSelector()
        self.socks = {}          # socket -> [kind, index, bytes sent, connected]
        self.stopping = threading.Event()
        self.opened = self.closed_by_server = self.refused = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = len(self.want) + 512
        if soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
        self.thread.start()
        return self

    def open(self, kind, index):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.bind((self.addresses[index % len(self.addresses)], 0))
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        except OSError as e:
            s.close()
            if e.errno not in (errno.EADDRNOTAVAIL, errno.ECONNREFUSED, errno.EAGAIN):
                raise
            self.refused += 1
            return
        self.socks[s] = [kind, index, 0, False]
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
        self.opened += 1

    def drop(self, s):
        kind, index = self.socks.pop(s)[:2]
        self.sel.unregister(s)
        s.close()
        return kind, index

    def run(self):
        for kind, index in self.want:
            self.open(kind, index)
        last_drip = time.monotonic()
        while not self.stopping.is_set():
            for key, events in self.sel.select(0.1):
                s = key.fileobj
                state = self.socks.get(s)
                if state is None:
                    continue
                if events & selectors.EVENT_WRITE and not state[3]:
                    state[3] = True  # connected
                    self.sel.modify(s, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        # Closed by the server (or refused): connect again.
                        self.closed_by_server += 1
                        kind, index = self.drop(s)
                        if self.reconnect_after > 0:
                            self.later.append((time.monotonic() + self.reconnect_after, kind, index))
                        else:
                            self.open(kind, index)
            now = time.monotonic()
            if self.later and self.later[0][0] <= now:
                due = [x for x in self.later if x[0] <= now]
                self.later = [x for x in self.later if x[0] > now]
                for _, kind, index in due:
                    self.open(kind, index)
            if now - last_drip >= 1.0:
                last_drip = now
                for s, state in list(self.socks.items()):
                    if state[0] == "drip" and state[3] and state[2] < len(self.request):
                        try:
                            state[2] += s.send(self.request[state[2]:state[2] + 1])
                        except (BlockingIOError, OSError):
                            pass
        for s in list(self.socks):
            self.drop(s)
        self.sel.close()

    def open_now(self):
        return len(self.socks)

    def stop(self):
        self.stopping.set()
        self.thread.join(30)


def timed_fetch(url, timeout):
    """One well-behaved request from 127.0.0.1: (status or an error's name, seconds)."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            r.read()
            return r.status, time.monotonic() - t0
    except Exception as e:  # noqa: BLE001 - a timeout or a reset is a measurement here
        return type(e).__name__, time.monotonic() - t0


def measure(url, seconds, every=0.5, timeout=120):
    """Fetch url every `every` seconds for `seconds`: [(status, seconds)]."""
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        out.append(timed_fetch(url, timeout))
        time.sleep(every)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True, help="a feed's path, /feeds/<token>.ics")
    ap.add_argument("--drip", type=int, default=0)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--addresses", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--reconnect-after", type=float, default=0.0)
    a = ap.parse_args()
    attack = Attack(a.port, a.drip, a.idle, a.addresses, reconnect_after=a.reconnect_after).start()
    time.sleep(2)
    results = measure("http://127.0.0.1:%d%s" % (a.port, a.path), a.seconds, timeout=a.timeout)
    attack.stop()
    times = sorted(t for _, t in results)
    print("%d requests: statuses %s; latency max %.3f s, median %.3f s; attack connections opened %d, closed by "
          "the server %d" % (len(results), sorted({str(s) for s, _ in results}), times[-1], times[len(times) // 2],
                             attack.opened, attack.closed_by_server))


if __name__ == "__main__":
    main()
