#!/usr/bin/python3
"""Commit-to-visible-clock latency of careclockd under a steady write stream.

Builds a plan database of N children (each looked after, with a placement),
starts careclockd on it, then commits one review_held event per write, each
for a different child, at a steady rate from this process (another process
to the daemon). A poller (its own connection) notes when the review-minutes
clock that the event creates appears in the clocks table. Latency = first
seen - commit returned. Prints median, p90, p99 and max.

usage: bench_latency.py --build DIR [--children N] [--rate R] [--seconds S]
"""
import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def build_database(cli, db, n):
    subprocess.run([cli, "--db", db, "init"], check=True, capture_output=True)
    con = sqlite3.connect(db)
    with con:
        con.execute("INSERT INTO staff (id, name, email, role) VALUES ('TM1', 'Manager', 'tm@x.example', "
                    "'team_manager')")
        con.execute("INSERT INTO teams (id, name, manager_id) VALUES ('T1', 'Team', 'TM1')")
        workers = max(1, n // 25)
        con.executemany("INSERT INTO staff (id, name, email, role, manager_id) VALUES (?, ?, ?, 'worker', 'TM1')",
                        [("W%d" % w, "Worker %d" % w, "w%d@x.example" % w) for w in range(workers)])
        con.executemany("INSERT INTO children (id, dob, team_id, worker_id) VALUES (?, ?, 'T1', ?)",
                        [("C%06d" % i, "2014-%02d-%02d" % (1 + i % 12, 1 + i % 28), "W%d" % (i % workers))
                         for i in range(n)])
        rows = []
        for i in range(n):
            start = "2026-%02d-%02d" % (1 + i % 10, 1 + i % 28)
            rows.append(("C%06d" % i, "looked_after_start", start))
            rows.append(("C%06d" % i, "placement_start", start))
        con.executemany("INSERT INTO events (child_id, type, date) VALUES (?, ?, ?)", rows)
    con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--children", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    a = ap.parse_args()
    cli = os.path.join(a.build, "careclock")
    daemon = os.path.join(a.build, "careclockd")
    tmp = tempfile.TemporaryDirectory()
    db = os.path.join(tmp.name, "bench.db")
    t0 = time.monotonic()
    build_database(cli, db, a.children)
    print("database: %d children built in %.1f s" % (a.children, time.monotonic() - t0))

    notify = os.path.join(tmp.name, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify)
    sock.settimeout(120)
    log = open(os.environ.get("BENCH_DAEMON_LOG", os.path.join(tmp.name, "daemon.log")), "w")
    started = time.monotonic()
    proc = subprocess.Popen([daemon, "--db", db, "--listen", "127.0.0.1:0", "--now", "2026-11-20T10:00:00"],
                            stderr=log,
                            env=dict(os.environ, NOTIFY_SOCKET=notify))
    while b"READY=1" not in sock.recv(4096):
        pass

    def drain():  # keep reading sd_notify messages, as systemd would
        sock.settimeout(None)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
    threading.Thread(target=drain, daemon=True).start()
    print("careclockd: READY after %.2f s (full recompute included)" % (time.monotonic() - started))

    total = int(a.rate * a.seconds)
    commits = {}
    seen = {}
    done = threading.Event()

    def poll():
        con = sqlite3.connect(db, timeout=30)
        while not done.is_set() or len(seen) < len(commits):
            now = time.monotonic()
            for (child,) in con.execute("SELECT child_id FROM clocks WHERE rule_id = 'review_minutes'"):
                if child not in seen:
                    seen[child] = now
            if done.is_set() and time.monotonic() - last_commit[0] > 10:
                break
            time.sleep(0.002)
        con.close()

    last_commit = [time.monotonic()]
    poller = threading.Thread(target=poll)
    poller.start()
    con = sqlite3.connect(db, timeout=30, isolation_level=None)
    interval = 1.0 / a.rate
    next_at = time.monotonic()
    for k in range(total):
        child = "C%06d" % (k % a.children)
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO events (child_id, type, date, source) VALUES (?, 'review_held', '2026-11-19', "
                    "'bench')", (child,))
        con.execute("COMMIT")
        commits.setdefault(child, time.monotonic())
        last_commit[0] = time.monotonic()
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    done.set()
    poller.join()
    con.close()
    proc.terminate()
    rc = proc.wait(timeout=60)
    log.close()

    lat = sorted((seen[c] - t) * 1000.0 for c, t in commits.items() if c in seen)
    missing = len(commits) - len(lat)
    if not lat:
        print("no clock became visible", file=sys.stderr)
        return 1
    q = statistics.quantiles(lat, n=100)
    print("writes: %d committed at %.0f/s for %.0f s; clocks seen: %d; never seen: %d; daemon exit %d"
          % (len(commits), a.rate, a.seconds, len(lat), missing, rc))
    print("commit-to-visible latency (ms): median %.1f  p90 %.1f  p99 %.1f  max %.1f"
          % (statistics.median(lat), q[89], q[98], lat[-1]))
    return 1 if missing or rc != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
