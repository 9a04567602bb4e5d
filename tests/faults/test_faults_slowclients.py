"""Fault: slow and idle clients by the thousand against careclockd's feed
server with its default [http] limits (issue 19, item 1).

Before: 600 connections each sending one byte a second held a well-behaved
feed request for 99.8 s, and 2,000 idle connections for 29.3 s: the
connection timeout is an inactivity timeout, so a dripping client held its
slot for as long as it liked, and beyond max_connections new clients queued
in the kernel behind the flood.

Now a request must arrive whole within request_timeout (10 s) of the
connection opening; at about 7/8 of max_connections (448 of 512) the
connection that has waited longest for its request is closed to make room;
and one address may hold at most max_connections_per_client (64). The
attackers here connect from 200 loopback addresses (127.0.0.2 upwards) so the
per-address limit does not do all the work, then from one. Each phase runs a
few seconds with the attackers reconnecting two seconds after they are closed,
and times a well-behaved request from 127.0.0.1 every half second. The bound
asserted is the one docs/reliability.md states: every request answered 200
within 2 s (measured: tens of milliseconds). tests/faults/slowload.py runs the
same attack by hand against any careclockd."""
import re
import resource
import signal
import time
import unittest
import urllib.request

import faultlib
import slowload
from daemon_harness import Council, Daemon

BOUND_S = 2.0       # docs/reliability.md, "Slow clients": the bound a well-behaved request holds
PHASE_S = 4         # seconds each attack runs while a good client is timed


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


class SlowClients(faultlib.FaultTest):
    def _set_up(self):
        self.daemon = None
        if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 4096:
            self.skipTest("2,600 client sockets need RLIMIT_NOFILE of 4096 or more (ulimit -Hn)")
        self.council = c = Council()
        c.cli("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1", "--initials", "AB")
        c.cli("event", "add", "C1", "looked_after_start", "2026-11-02", today="2026-11-10")
        c.cli("event", "add", "C1", "placement_start", "2026-11-02", today="2026-11-10")
        path = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", c.cli("feed", "add", "--team", "T1").stdout).group(1)
        # The default [http] limits: no configuration file.
        self.daemon = Daemon(c, now="2026-11-10T09:00:00")
        self.assertTrue(self.daemon.wait_notify("READY=1"), self.daemon.stderr_lines)
        self.port = self.daemon.port()
        self.url = self.daemon.url(path)

    def tearDown(self):
        if getattr(self, "daemon", None):
            self.daemon.stop(signal.SIGTERM)
        if getattr(self, "council", None):
            self.council.cleanup()

    def metrics(self):
        with urllib.request.urlopen(self.daemon.admin_url("/metrics"), timeout=10) as r:
            return r.read().decode()

    def under(self, attack):
        """Good requests timed while attack runs: (results, attack connections open at the end)."""
        attack.start()
        try:
            time.sleep(1.0)  # the attack in place
            results = slowload.measure(self.url, PHASE_S, timeout=60)
            open_now = attack.open_now()
        finally:
            attack.stop()
        return results, open_now

    def check(self, what, results):
        statuses = {s for s, _ in results}
        worst = max(t for _, t in results)
        self.assertEqual(statuses, {200}, "%s: %s" % (what, results))
        self.assertLess(worst, BOUND_S, "%s: %s" % (what, results))
        return worst

    def test_slow_and_idle_clients_leave_room_for_a_good_one(self):
        before = self.metrics()
        drip, drip_open = self.under(slowload.Attack(self.port, drip=600, reconnect_after=2.0))
        idle, idle_open = self.under(slowload.Attack(self.port, idle=2000, reconnect_after=2.0))
        both, _ = self.under(slowload.Attack(self.port, drip=600, idle=2000, reconnect_after=2.0))
        after = self.metrics()
        worst = [self.check("600 dripping", drip), self.check("2000 idle", idle),
                 self.check("600 dripping and 2000 idle", both)]
        evicted = metric(after, 'careclock_http_closed_total{reason="evicted"}')
        self.assertGreater(evicted, metric(before, 'careclock_http_closed_total{reason="evicted"}'))
        # One address may not hold more than max_connections_per_client (64).
        one = slowload.Attack(self.port, idle=1000, addresses=1, reconnect_after=2.0).start()
        try:
            time.sleep(1.5)
            held = metric(self.metrics(), "careclock_http_connections")
            single = slowload.measure(self.url, 2, timeout=60)
        finally:
            one.stop()
        self.assertLessEqual(held, 64 + 4, "connections from one address")  # + the metrics request itself
        worst.append(self.check("1000 idle from one address", single))
        self.assertIsNone(self.daemon.proc.poll())
        print("\ndefault limits; a good feed request every 0.5 s for %d s under each attack (attackers reconnect "
              "2 s after being closed), worst latency: 600 dripping %.3f s, 2000 idle %.3f s, both %.3f s, 1000 "
              "idle from one address %.3f s (held %d connections); closed by the server: %d to make room, %d past "
              "request_timeout; attack connections open at the end of each phase: %d, %d"
              % (PHASE_S, worst[0], worst[1], worst[2], worst[3], held, evicted,
                 metric(after, 'careclock_http_closed_total{reason="deadline"}'), drip_open, idle_open))


if __name__ == "__main__":
    unittest.main()
