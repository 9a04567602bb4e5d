#!/usr/bin/python3
"""Commit-to-visible-clock latency of careclockd under a steady write stream.

Starts careclockd on a plan database (--db: an existing one, such as
gen_plan.py makes; otherwise it builds one of --children children, each
looked after with a placement), waits until the daemon is idle after READY
(its first full recompute and first delivery cycle done), then commits one
review_held event per write, each in its own transaction, at a steady rate
from this process (another process to the daemon), for children spread over
the whole council. A poller (its own connection) watches for the
review-minutes clock that each event starts (clocks.start_event_id = the new
event's id). Latency = first seen - commit returned. Prints median, p90, p99
and max, the writer's longest wait for the write lock (which the daemon holds
while it works), and the daemon's peak resident memory (VmHWM).

usage: bench_latency.py --build DIR [--db PATH | --children N] [--rate R] [--seconds S] [--today YYYY-MM-DD]
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


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def wait_idle(pid, limit=300.0, window=1.0, busy=0.05):
    """Wait until the process used under busy of a CPU over window seconds."""
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        a = cpu_ticks(pid)
        time.sleep(window)
        if (cpu_ticks(pid) - a) / hz < busy * window:
            return time.monotonic() - t0
    return time.monotonic() - t0


def start_daemon(daemon, db, today, log, workdir):
    """Start careclockd; return (process, seconds to READY, notify socket)."""
    notify = os.path.join(workdir, "notify-%d.sock" % time.monotonic_ns())
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify)
    sock.settimeout(1.0)
    # --admin-listen only where the daemon has it (issue 19): the scale
    # benchmark also starts an older careclockd (its before/after table).
    usage = subprocess.run([daemon, "--help"], capture_output=True, text=True)
    admin = ["--admin-listen", "off"] if "--admin-listen" in usage.stdout + usage.stderr else []
    started = time.monotonic()
    proc = subprocess.Popen([daemon, "--db", db, "--listen", "127.0.0.1:0"] + admin + ["--now",
                             today + "T10:00:00"],
                            stderr=log, env=dict(os.environ, NOTIFY_SOCKET=notify))
    while True:
        try:
            if b"READY=1" in sock.recv(4096):
                break
        except socket.timeout:
            if proc.poll() is not None:
                raise RuntimeError("careclockd exited (status %d) before READY; its log: %s"
                                   % (proc.returncode, getattr(log, "name", "?")))
            if time.monotonic() - started > 1800:
                proc.terminate()
                raise RuntimeError("careclockd not READY after 1800 s")
    ready = time.monotonic() - started

    def drain():  # keep reading sd_notify messages, as systemd would
        sock.settimeout(None)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
    threading.Thread(target=drain, daemon=True).start()
    return proc, ready, sock


def stream(db, children, rate, seconds, day):
    """Commit review_held events at rate for seconds; return latencies (ms)
    and the number never seen."""
    total = int(rate * seconds)
    commits = {}   # event id -> (child, commit time)
    seen = {}
    done = threading.Event()
    last_commit = [time.monotonic()]

    def poll():
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
        while True:
            pending = [(eid, c) for eid, (c, _) in list(commits.items()) if eid not in seen]
            now = time.monotonic()
            for eid, child in pending:
                if con.execute("SELECT 1 FROM clocks WHERE child_id = ? AND rule_id = 'review_minutes' AND "
                               "start_event_id = ?", (child, eid)).fetchone():
                    seen[eid] = now
            if done.is_set() and (not pending or time.monotonic() - last_commit[0] > 10):
                break
            time.sleep(0.002)
        con.close()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    # A writer as patient as need be: how long it waits for the write lock
    # (held by the daemon while it works) is measured, not a failure.
    con = sqlite3.connect(db, timeout=600, isolation_level=None)
    interval = 1.0 / rate
    next_at = time.monotonic()
    stride = 7919  # a prime: consecutive writes land far apart in the council
    waits = []
    try:
        for k in range(total):
            child = children[(k * stride) % len(children)]
            t_lock = time.monotonic()
            con.execute("BEGIN IMMEDIATE")
            waits.append(time.monotonic() - t_lock)
            cur = con.execute("INSERT INTO events (child_id, type, date, source) VALUES (?, 'review_held', ?, "
                              "'bench')", (child, day))
            eid = cur.lastrowid
            con.execute("COMMIT")
            commits[eid] = (child, time.monotonic())
            last_commit[0] = time.monotonic()
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    finally:
        done.set()
        poller.join()
        con.close()
    lat = sorted((seen[e] - t) * 1000.0 for e, (_, t) in commits.items() if e in seen)
    return lat, len(commits) - len(lat), max(waits) * 1000.0 if waits else 0.0


def run(build, db, rate=100.0, seconds=20.0, today="2026-11-20", log_path=None, workdir=None):
    """The whole measurement on db; returns a dict of figures."""
    daemon = os.path.join(build, "careclockd")
    workdir = workdir or os.path.dirname(os.path.abspath(db))
    log = open(log_path or os.path.join(workdir, "daemon.log"), "a")
    proc, ready, sock = start_daemon(daemon, db, today, log, workdir)
    settle = wait_idle(proc.pid)
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    children = [r[0] for r in con.execute("SELECT id FROM children ORDER BY id")]
    con.close()
    day = (__import__("datetime").date.fromisoformat(today) - __import__("datetime").timedelta(days=1)).isoformat()
    try:
        cpu0 = cpu_ticks(proc.pid)
        t0 = time.monotonic()
        lat, missing, lock_wait = stream(db, children, rate, seconds, day)
        wall = time.monotonic() - t0
        cpu = (cpu_ticks(proc.pid) - cpu0) / os.sysconf("SC_CLK_TCK")
        hwm = status_kb(proc.pid, "VmHWM")
    finally:  # never leave a daemon behind
        proc.terminate()
        rc = proc.wait(timeout=120)
        sock.close()
        log.close()
    out = {"ready_s": ready, "settle_s": settle, "writes": int(rate * seconds), "seen": len(lat),
           "missing": missing, "rc": rc, "vmhwm_kb": hwm, "daemon_cpu_share": cpu / wall if wall else 0,
           "lock_wait_max_ms": lock_wait}
    if lat:
        q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
        out.update(median_ms=statistics.median(lat), p90_ms=q[89], p99_ms=q[98], max_ms=lat[-1])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--db", help="an existing plan database (used in place)")
    ap.add_argument("--children", type=int, default=1000, help="without --db: build a database of N children")
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--today", default="2026-11-20")
    a = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = a.db
    if db is None:
        db = os.path.join(tmp.name, "bench.db")
        t0 = time.monotonic()
        build_database(os.path.join(a.build, "careclock"), db, a.children)
        print("database: %d children built in %.1f s" % (a.children, time.monotonic() - t0))
    r = run(a.build, db, a.rate, a.seconds, a.today, os.environ.get("BENCH_DAEMON_LOG"), tmp.name)
    print("careclockd: READY after %.2f s (full recompute included), idle %.1f s later" % (r["ready_s"], r["settle_s"]))
    if not r["seen"]:
        print("no clock became visible", file=sys.stderr)
        return 1
    print("writes: %d committed at %.0f/s for %.0f s; clocks seen: %d; never seen: %d; daemon exit %d; "
          "daemon CPU %.0f%% of one core; peak RSS (VmHWM) %d KiB"
          % (r["writes"], a.rate, a.seconds, r["seen"], r["missing"], r["rc"], 100 * r["daemon_cpu_share"],
             r["vmhwm_kb"]))
    print("commit-to-visible latency (ms): median %.1f  p90 %.1f  p99 %.1f  max %.1f; the writer's longest wait "
          "for the write lock: %.0f ms" % (r["median_ms"], r["p90_ms"], r["p99_ms"], r["max_ms"], r["lock_wait_max_ms"]))
    return 1 if r["missing"] or r["rc"] != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
