#!/usr/bin/python3
"""The web dashboard at council scale and beyond (issue 20; bench/RESULTS.md,
"Dashboard").

A generated council of N children (gen_plan.py, deterministic from the
seed), one of whose teams is made to hold TEAM children; careclockd on it
with [web] auth = proxy (a viewer, and the big team's manager, named by the
X-Remote-Email header from loopback). It measures:

  - the figures' build (off the loop), from careclockd's /metrics;
  - each page's time, request to last byte, best and median of RUNS, for:
    the big team's page (TEAM children), its manager's My work, the
    timeliness page of the whole council (every team together, by month,
    this reporting year) and of every team apart, its CSV, a child's page;
  - the loop while those pages are asked for without pause by LOAD
    clients: /healthz and a feed's 304 (If-None-Match) latency, median, p99
    and max, against the same with nothing else running; they must stay in
    milliseconds.

usage: bench_dashboard.py --build build [--children 100000] [--team 2000]
       [--seed 903] [--today 2026-11-20] [--runs 7] [--load 4]
       [--seconds 20] [--workdir DIR] [--keep]
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path, headers=None, timeout=120):
    """(status, body bytes, seconds from request to the last byte)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.monotonic()
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    dt = time.monotonic() - t0
    etag = r.getheader("ETag")
    conn.close()
    return r.status, body, dt, etag


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--children", type=int, default=100000)
    ap.add_argument("--team", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=903)
    ap.add_argument("--today", default="2026-11-20")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--load", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    work = a.workdir or os.path.join(build, "bench", "dashboard")
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "plan-%d.db" % a.children)
    cli = os.path.join(build, "careclock")
    if not os.path.exists(db):
        print("dashboard: generating %d children" % a.children, flush=True)
        t0 = time.monotonic()
        sh([sys.executable, os.path.join(HERE, "gen_plan.py"), "--cli", cli, "--db", db, "--children",
            str(a.children), "--seed", str(a.seed), "--today", a.today])
        # One team holds TEAM children (its manager's pages): the first
        # teams merged into it, with their workers, as a reorganisation
        # would; and a viewer.
        con = sqlite3.connect(db)
        with con:
            team = con.execute("SELECT min(id) FROM teams").fetchone()[0]
            merged, held = [], 0
            for (tid, n) in con.execute("SELECT team_id, count(*) FROM children GROUP BY team_id ORDER BY team_id"):
                if held >= a.team:
                    break
                merged.append(tid)
                held += n
            con.executemany("UPDATE children SET team_id = ? WHERE team_id = ?", [(team, t) for t in merged])
            con.execute("INSERT INTO staff (id, name, email, role) VALUES ('BENCHV', 'Bench Viewer', "
                        "'viewer@bench.example', 'viewer')")
        con.close()
        print("dashboard: generated in %.0f s" % (time.monotonic() - t0), flush=True)
    con = sqlite3.connect(db)
    team = con.execute("SELECT min(id) FROM teams").fetchone()[0]
    tm_email = con.execute("SELECT s.email FROM teams t JOIN staff s ON s.id = t.manager_id WHERE t.id = ?",
                           (team,)).fetchone()[0]
    held = con.execute("SELECT count(*) FROM children WHERE team_id = ?", (team,)).fetchone()[0]
    child = con.execute("SELECT id FROM children WHERE team_id = ? ORDER BY id LIMIT 1", (team,)).fetchone()[0]
    con.close()
    feed = sh([cli, "--db", db, "--today", a.today, "feed", "add", "--team", team]).stdout.strip()
    token_path = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", feed).group(1)
    port, admin = free_port(), free_port()  # /healthz and /metrics are on [http] admin_listen
    conf = os.path.join(work, "careclock.conf")
    with open(conf, "w") as f:
        f.write("[web]\nauth = proxy\nproxy_addresses = 127.0.0.1\n[notify]\nwindow = 23:58-23:59\n")
    log_path = os.path.join(work, "careclockd.log")
    log = open(log_path, "w")
    now = a.today + "T10:00:00"
    t0 = time.monotonic()
    d = subprocess.Popen([os.path.join(build, "careclockd"), "--db", db, "--config", conf, "--listen",
                          "127.0.0.1:%d" % port, "--admin-listen", "127.0.0.1:%d" % admin, "--now", now], stderr=log)
    try:
        viewer = {"X-Remote-Email": "viewer@bench.example"}
        manager = {"X-Remote-Email": tm_email}
        # Ready, and the figures built (the team page waits for them).
        deadline = time.monotonic() + 900
        while True:
            try:
                status, _, _, _ = get(admin, "/healthz", timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or d.poll() is not None:
                raise SystemExit("careclockd did not start; see %s" % log_path)
            time.sleep(0.2)
        ready = time.monotonic() - t0
        # The daemon's own start-up work first: the first plan of every
        # child's reminders runs on the loop in slices of about 20 ms; the
        # loop is measured once it is done, so that what is measured is the
        # dashboard's effect on it.
        while "every child planned" not in open(log_path, errors="replace").read():
            if time.monotonic() > deadline or d.poll() is not None:
                raise SystemExit("careclockd did not plan; see %s" % log_path)
            time.sleep(0.5)
        status, _, first, _ = get(port, "/teams/%s" % team, headers=manager, timeout=900)
        metrics = get(admin, "/metrics")[1].decode()
        build_s = float(re.search(r"careclock_dashboard_figures_build_seconds ([0-9.]+)", metrics).group(1))
        insts = None
        print("dashboard: %d children; careclockd ready in %.1f s; figures built in %.2f s (off the loop); first "
              "team page %.2f s (waiting for them)" % (a.children, ready, build_s, first), flush=True)
        pages = [("team page (%d children)" % held, "/teams/%s" % team, manager),
                 ("My work, that team's manager", "/my-work", manager),
                 ("timeliness, every team together, by month", "/timeliness", viewer),
                 ("timeliness, each team apart, by month", "/timeliness?team=*&by=month", viewer),
                 ("timeliness CSV, each team, by month", "/timeliness.csv?team=*&by=month", viewer),
                 ("timeliness, each team and worker, by quarter",
                  "/timeliness?team=*&by=quarter&worker=1&from=2026-04-01", viewer),
                 ("child page", "/children/%s" % child, manager)]
        results = []
        for name, path, hdr in pages:
            times, size = [], 0
            for _ in range(a.runs):
                status, body, dt, _ = get(port, path, headers=hdr)
                if status != 200:
                    raise SystemExit("%s: %d" % (path, status))
                times.append(dt)
                size = len(body)
            results.append((name, min(times), statistics.median(times), size))
            print("dashboard: %-46s best %6.3f s  median %6.3f s  %8.1f KB" % (name, min(times),
                                                                                statistics.median(times),
                                                                                size / 1024), flush=True)
        # The loop: /healthz and a feed's 304, idle and while the big pages are asked for.
        _, _, _, etag = get(port, token_path)

        def probe(seconds):
            h, f = [], []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                h.append(get(admin, "/healthz")[2] * 1000)
                status, _, dt, _ = get(port, token_path, headers={"If-None-Match": etag})
                if status != 304:
                    raise SystemExit("feed: %d, not 304" % status)
                f.append(dt * 1000)
                time.sleep(0.01)
            return h, f

        idle_h, idle_f = probe(min(5.0, a.seconds))
        stop = threading.Event()
        served = [0]

        def hammer(path, hdr):
            while not stop.is_set():
                get(port, path, headers=hdr)
                served[0] += 1

        heavy = [("/timeliness?team=*&by=month", viewer), ("/teams/%s" % team, manager), ("/my-work", manager),
                 ("/timeliness.csv?team=*&by=month", viewer)]
        threads = [threading.Thread(target=hammer, args=heavy[i % len(heavy)], daemon=True) for i in range(a.load)]
        for t in threads:
            t.start()
        busy_h, busy_f = probe(a.seconds)
        stop.set()
        for t in threads:
            t.join()
        for label, hs, fs in (("idle", idle_h, idle_f), ("busy (%d clients on the big pages, %d pages served)"
                                                          % (a.load, served[0]), busy_h, busy_f)):
            print("dashboard: loop %s: /healthz median %.1f ms p99 %.1f ms max %.1f ms; feed 304 median %.1f ms "
                  "p99 %.1f ms max %.1f ms (%d probes)"
                  % (label, statistics.median(hs), pct(hs, 99), max(hs), statistics.median(fs), pct(fs, 99), max(fs),
                     len(hs)), flush=True)
        print("dashboard: careclockd peak RSS %.0f MiB" % (rss_kib(d.pid) / 1024.0), flush=True)
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(60)
        except subprocess.TimeoutExpired:
            d.kill()
        log.close()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
