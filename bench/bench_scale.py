#!/usr/bin/python3
"""The scale benchmark (issue 8): careclock for N children, N = 1,000,
10,000, 100,000 by default, each from a generated plan database
(gen_plan.py, deterministic from the seed). For each N:

  - generate the database (not timed as careclock's work);
  - cold start: careclockd on the new database to READY, which includes the
    first full recompute, computing and writing every clock; its peak
    resident memory (VmHWM) once idle (after its first delivery cycle); the
    bytes it wrote by READY, and the machine alone writing as many (dd), the
    kernel's and the disk's share of that growth;
  - restart: careclockd again to READY (a full recompute of every clock,
    nothing changed), then commit-to-visible latency while another process
    commits 100 review_held events a second (bench_latency.py), and the
    daemon's peak RSS over the whole run;
  - the full recompute alone (bench_eval, in process): unchanged, best of
    --runs, and the next working day (statuses move), with clocks per
    second;
  - rendering the largest team's feed and a service manager's feed (the
    whole service at 1,000 children: ten teams, 2,000 children, beyond):
    `careclock ics`, best of 3;
  - the database's size on disk (with its -wal), after all that;
  - the peer: the same children's SSDA903 extract (export_ssda903.py), and
    peer_review_pandas.py computing the review clock alone; its instances are
    compared with careclock's review clocks, one by one.

Prints the figures and a table of them with the growth from each N to the
next, and writes that table, the machine and the commands into
bench/RESULTS.md between the markers <!-- scale:begin --> and
<!-- scale:end --> (--results; --no-results leaves the file alone).

With --first-only N,..., it then generates those larger councils too and
measures only their first computation (with its bytes and the machine's
own cost of writing them), in a second table.

usage: bench_scale.py --build DIR [--children 1000,10000,100000] [--first-only 200000] [--seed S]
                      [--today D] [--workdir DIR] [--rate R] [--seconds S] [--runs N]
                      [--results FILE | --no-results]
"""
import argparse
import csv
import datetime
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_latency  # noqa: E402

PY = sys.executable


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def timed(cmd, runs=1, **kw):
    """Best wall time of runs runs of cmd, and the last run's stdout."""
    best, out = None, ""
    for _ in range(runs):
        t0 = time.monotonic()
        r = subprocess.run(cmd, check=True, capture_output=True, **kw)
        dt = time.monotonic() - t0
        best = dt if best is None or dt < best else best
        out = r.stdout
    return best, out


def db_bytes(db):
    return sum(os.path.getsize(db + s) for s in ("", "-wal", "-shm") if os.path.exists(db + s))


def next_working_day(day):
    d = datetime.date.fromisoformat(day) + datetime.timedelta(days=1)
    while d.weekday() >= 5:
        d += datetime.timedelta(days=1)
    return d.isoformat()


def log_line(path, prefix):
    """The last line of the daemon log containing prefix."""
    found = None
    with open(path, errors="replace") as f:
        for line in f:
            if prefix in line:
                found = line.strip()
    return found


def io_field(pid, name):
    """A field of /proc/PID/io (bytes), 0 when it cannot be read."""
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == name:
                    return int(value)
    except OSError:
        pass
    return 0


def machine_writes(work, nbytes):
    """The machine's own cost of writing nbytes to a new file in work, as
    careclock's first computation writes through the page cache: `dd
    bs=1M conv=fdatasync`; (wall seconds, system CPU seconds). What the
    kernel and the disk cost for that many bytes, with no SQLite and no
    careclock: the floor under the first computation's growth."""
    path = os.path.join(work, "dd.out")
    mib = max(1, nbytes // (1 << 20))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime
    t0 = time.monotonic()
    sh(["dd", "if=/dev/zero", "of=" + path, "bs=1M", "count=%d" % mib, "conv=fdatasync", "status=none"])
    wall = time.monotonic() - t0
    sys_s = resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime - before
    os.unlink(path)
    return wall, sys_s


def generate(a, r, n, work, db):
    print("scale: N=%d: generating" % n, flush=True)
    t0 = time.monotonic()
    out = sh([PY, os.path.join(HERE, "gen_plan.py"), "--cli", os.path.join(a.build, "careclock"), "--db", db,
              "--children", str(n), "--seed", str(a.seed), "--today", a.today]).stdout
    r["gen_s"] = time.monotonic() - t0
    r["events"] = int(re.search(r"(\d+) events", out).group(1))
    print("  " + out.strip(), flush=True)


def cold_start(a, r, work, db, log_path, settle):
    """careclockd on the new database to READY: the first computation writes
    every clock. Then (settle) its peak RSS once idle; then the machine
    alone writing as many bytes as it wrote by READY."""
    with open(log_path, "a") as log:
        proc, ready, sock = bench_latency.start_daemon(os.path.join(a.build, "careclockd"), db, a.today, log, work)
        try:
            r["first_wchar"] = io_field(proc.pid, "wchar")  # at READY: the first computation's bytes
            idle = bench_latency.wait_idle(proc.pid) if settle else 0.0
            r["cold_rss_kb"] = bench_latency.status_kb(proc.pid, "VmHWM")
        finally:  # never leave a daemon behind
            proc.terminate()
            proc.wait(timeout=300)
            sock.close()
    r["cold_ready_s"] = ready
    line = log_line(log_path, "full recompute:")
    m = re.search(r"(\d+) clocks, (\d+) rows written.* in (\d+) ms", line or "")
    r["clocks"] = int(m.group(1)) if m else 0
    r["first_s"] = int(m.group(3)) / 1000.0 if m else float("nan")
    print("  cold start: READY after %.2f s (first computation %.2f s, %d clocks written), idle %.1f s later, "
          "VmHWM %d KiB" % (ready, r["first_s"], r["clocks"], idle, r["cold_rss_kb"]), flush=True)
    r["dd_s"], r["dd_sys_s"] = machine_writes(work, r["first_wchar"])
    print("  the machine alone writing the first computation's %d MB (dd, 1 MiB blocks, fdatasync at the end): "
          "%.2f s (system CPU %.2f s)" % (r["first_wchar"] / 1e6, r["dd_s"], r["dd_sys_s"]), flush=True)


def measure_first(a, n):
    """Only the first computation (and the machine's writes) for N children:
    how it grows beyond the largest N of the whole table."""
    r = {"n": n}
    work = os.path.join(a.workdir, "first%d" % n)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    db = os.path.join(work, "plan.db")
    generate(a, r, n, work, db)
    cold_start(a, r, work, db, os.path.join(work, "careclockd.log"), settle=False)
    r["db_bytes"] = db_bytes(db)  # after the first computation only (the table's N: after everything)
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return r


def measure(a, n):
    r = {"n": n}
    work = os.path.join(a.workdir, "n%d" % n)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    db = os.path.join(work, "plan.db")
    cli = os.path.join(a.build, "careclock")
    log_path = os.path.join(work, "careclockd.log")
    generate(a, r, n, work, db)

    cold_start(a, r, work, db, log_path, settle=True)

    # Restart, then the write stream.
    lat = bench_latency.run(a.build, db, a.rate, a.seconds, a.today, log_path, work)
    # The daemon's own recomputes during the stream (its log): how long the
    # work of making the clocks visible takes, apart from waiting its turn.
    rec = []
    with open(log_path, errors="replace") as f:
        for line in f:
            m2 = re.search(r"\brecompute: (\d+) children.* in (\d+) ms", line)
            if m2 and "full recompute" not in line:
                rec.append(int(m2.group(2)))
    rec.sort()
    r["recompute_p99_ms"] = rec[min(len(rec) - 1, int(len(rec) * 0.99))] if rec else float("nan")
    r["recomputes"] = len(rec)
    r.update(restart_ready_s=lat["ready_s"], lat_median_ms=lat.get("median_ms", float("nan")),
             lat_p99_ms=lat.get("p99_ms", float("nan")), lat_max_ms=lat.get("max_ms", float("nan")),
             lat_missing=lat["missing"], lock_wait_ms=lat["lock_wait_max_ms"],
             rss_kb=max(lat["vmhwm_kb"], r["cold_rss_kb"]),
             daemon_cpu=lat["daemon_cpu_share"])
    print("  restart: READY after %.2f s; %d writes at %.0f/s: commit-to-visible median %.1f ms, p99 %.1f ms, "
          "max %.1f ms, %d never seen; the writer waited up to %.0f ms for the write lock; daemon CPU %.0f%%; "
          "VmHWM %d KiB; %d recomputes, p99 %.0f ms each"
          % (lat["ready_s"], lat["writes"], a.rate, r["lat_median_ms"], r["lat_p99_ms"], r["lat_max_ms"],
             lat["missing"], r["lock_wait_ms"], 100 * lat["daemon_cpu_share"], lat["vmhwm_kb"], r["recomputes"],
             r["recompute_p99_ms"]), flush=True)

    # The full recompute alone, in process.
    ev = sh([os.path.join(a.build, "bench", "bench_eval"), "--db", db, "--today", a.today,
             "--runs", str(a.runs)]).stdout
    secs = [float(x) for x in re.findall(r"seconds=([0-9.]+)", ev)]
    r["full_s"] = min(secs)
    nwd = next_working_day(a.today)
    ev2 = sh([os.path.join(a.build, "bench", "bench_eval"), "--db", db, "--today", nwd, "--runs", "1"]).stdout
    r["daily_s"] = float(re.search(r"seconds=([0-9.]+)", ev2).group(1))
    r["daily_written"] = int(re.search(r"written=(\d+)", ev2).group(1))
    print("  full recompute, unchanged: best of %d %.3f s (%s); next working day (%s): %.3f s, %d rows written"
          % (a.runs, r["full_s"], ", ".join("%.3f" % s for s in secs), nwd, r["daily_s"], r["daily_written"]),
          flush=True)
    # Put the day back, so the feeds below are as of today.
    sh([os.path.join(a.build, "bench", "bench_eval"), "--db", db, "--today", a.today, "--runs", "1"])

    # Feeds.
    con = __import__("sqlite3").connect("file:%s?mode=ro" % db, uri=True)
    team = con.execute("SELECT team_id FROM children GROUP BY team_id ORDER BY count(*) DESC, team_id LIMIT 1"
                       ).fetchone()[0]
    sm, sm_children = con.execute(
        "SELECT t.service_manager_id, count(*) FROM children c JOIN teams t ON t.id = c.team_id "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
    con.close()
    for key, args in (("team", ["--team", team]), ("service", ["--staff", sm])):
        best, body = timed([cli, "--db", db, "--today", a.today, "ics"] + args, runs=3)
        r[key + "_feed_s"] = best
        r[key + "_feed_events"] = body.count(b"BEGIN:VEVENT")
        r[key + "_feed_bytes"] = len(body)
    r["sm_children"] = sm_children
    print("  feeds: team %s %d events %d bytes in %.3f s; service manager %s (%d children) %d events %d bytes in "
          "%.3f s" % (team, r["team_feed_events"], r["team_feed_bytes"], r["team_feed_s"], sm, sm_children,
                      r["service_feed_events"], r["service_feed_bytes"], r["service_feed_s"]), flush=True)
    r["db_bytes"] = db_bytes(db)
    print("  database: %.1f MB on disk (with -wal, -shm)" % (r["db_bytes"] / 1e6), flush=True)

    # The peer.
    extract = os.path.join(work, "ssda903")
    print("  " + sh([PY, os.path.join(HERE, "export_ssda903.py"), "--db", db, extract]).stdout.strip(), flush=True)
    peer_csv = os.path.join(work, "peer_review.csv")
    t0 = time.monotonic()
    out = sh(["/usr/bin/python3", os.path.join(HERE, "peer_review_pandas.py"), "--holidays",
              os.path.join(HERE, "..", "config", "holidays", "england-and-wales.ics"), "--today", a.today,
              "--out", peer_csv, extract]).stdout
    r["peer_s"] = time.monotonic() - t0
    print("  " + out.strip().replace("\n", "\n  "), flush=True)
    peer = {}
    with open(peer_csv) as f:
        for row in csv.reader(f):
            if row[0] != "CHILD":
                peer[(row[0], int(row[1]))] = tuple(row[2:])
    con = __import__("sqlite3").connect("file:%s?mode=ro" % db, uri=True)
    ours = {(c, s): (st, du, mo or "", status) for c, s, st, du, mo, status in con.execute(
        "SELECT child_id, seq, start_date, due_date, met_on, status FROM clocks WHERE rule_id = 'review'")}
    con.close()
    r["peer_instances"] = len(peer)
    r["peer_differ"] = sum(1 for k in set(peer) | set(ours) if peer.get(k) != ours.get(k))
    print("  peer: %.2f s for the review clock alone (%d instances; %d differ from careclock's review clocks); "
          "careclock's full recompute of every rule: %.3f s" % (r["peer_s"], r["peer_instances"],
                                                                r["peer_differ"], r["full_s"]), flush=True)
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return r


ROWS = [
    # label, key, format, unit for growth
    ("events in the plan database", "events", "{:,}", None),
    ("clock instances", "clocks", "{:,}", None),
    ("cold start of careclockd to READY (first computation: every clock computed and written)", "cold_ready_s",
     "{:.2f} s", "t"),
    ("restart of careclockd to READY (full recompute, nothing changed)", "restart_ready_s", "{:.2f} s", "t"),
    ("full recompute alone, unchanged (best of runs)", "full_s", "{:.3f} s", "t"),
    ("clocks evaluated per second, unchanged", "full_rate", "{:,.0f}", None),
    ("first computation alone (from the cold start's log)", "first_s", "{:.2f} s", "t"),
    ("clocks computed and written per second, first computation", "first_rate", "{:,.0f}", None),
    ("bytes the first computation wrote (careclockd's `wchar` at READY)", "first_mb", "{:,.0f} MB", "t"),
    ("the machine alone writing as many bytes (`dd bs=1M conv=fdatasync`)", "dd_s", "{:.2f} s", "t"),
    ("... of which the kernel's CPU (system time)", "dd_sys_s", "{:.2f} s", "t"),
    ("daily recompute (next working day: statuses move)", "daily_s", "{:.3f} s", "t"),
    ("rows rewritten by the daily recompute", "daily_written", "{:,}", None),
    ("commit-to-visible latency at 100 writes/s, median", "lat_median_ms", "{:.1f} ms", "t"),
    ("commit-to-visible latency at 100 writes/s, p99", "lat_p99_ms", "{:.1f} ms", "t"),
    ("the daemon's recompute of the written children, p99 (its log)", "recompute_p99_ms", "{:.0f} ms", "t"),
    ("the writer's longest wait for the write lock", "lock_wait_ms", "{:.0f} ms", "t"),
    ("largest team's feed (`careclock ics --team`)", "team_feed_s", "{:.3f} s", "t"),
    ("service manager's feed (`careclock ics --staff`)", "service_feed_s", "{:.3f} s", "t"),
    ("events in the service manager's feed", "service_feed_events", "{:,}", None),
    ("careclockd peak RSS (VmHWM)", "rss_mib", "{:.0f} MiB", "t"),
    ("database on disk (with -wal)", "db_mb", "{:.0f} MB", "t"),
    ("peer: pandas, review clock alone, from the SSDA903 extract", "peer_s", "{:.2f} s", "t"),
    ("peer's review instances differing from careclock's", "peer_differ", "{:,}", None),
]


# The second table (--first-only): the main table's rows about the first
# computation, with the same labels and formats.
FIRST_KEYS = ("events", "clocks", "first_s", "first_rate", "first_mb", "dd_s", "dd_sys_s")
FIRST_ROWS = [row for row in ROWS if row[1] in FIRST_KEYS]


def table(results, rows=None):
    for r in results:
        r["full_rate"] = r["clocks"] / r["full_s"] if r.get("full_s") else 0
        r["first_rate"] = r["clocks"] / r["first_s"] if r["first_s"] else 0
        r["first_mb"] = r["first_wchar"] / 1e6
        r["rss_mib"] = r.get("rss_kb", 0) / 1024.0
        r["db_mb"] = r["db_bytes"] / 1e6
    head = "| | " + " | ".join("N = {:,}".format(r["n"]) for r in results)
    growth = []
    for i in range(1, len(results)):
        growth.append("{:,} to {:,} (x{:g})".format(results[i - 1]["n"], results[i]["n"],
                                                    results[i]["n"] / results[i - 1]["n"]))
    head += "".join(" | growth " + g for g in growth) + " |"
    lines = [head, "|" + " --- |" * (1 + len(results) + len(growth))]
    for label, key, fmt, unit in rows or ROWS:
        cells = [fmt.format(r[key]) for r in results]
        for i in range(1, len(results)):
            prev, cur = results[i - 1][key], results[i][key]
            cells.append("x{:.1f}".format(cur / prev) if prev else "")
        lines.append("| " + label + " | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine():
    cpu = "unknown CPU"
    try:
        for line in sh(["lscpu"]).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    mem = ""
    with open("/proc/meminfo") as f:
        mem = "%.0f GiB" % (int(f.readline().split()[1]) / 1048576)
    sqlite = sh(["sqlite3", "--version"]).stdout.split()[0] if shutil.which("sqlite3") else "?"
    try:
        debian = open("/etc/debian_version").read().strip()
    except OSError:
        debian = "?"
    return ("%s, %d vCPUs (`nproc`), %s, Debian %s, kernel %s, SQLite %s, Python %s (generator, latency "
            "client), /usr/bin/python3 for the pandas peer; load average before the run: %s"
            % (cpu, os.cpu_count(), mem, debian, platform.release(), sqlite, platform.python_version(),
               " ".join(open("/proc/loadavg").read().split()[:3])))


def write_results(path, text):
    begin, end = "<!-- scale:begin -->", "<!-- scale:end -->"
    with open(path) as f:
        doc = f.read()
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + begin + "\n" + text + "\n" + doc[doc.index(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + begin + "\n" + text + "\n" + end + "\n"
    with open(path, "w") as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--children", default="1000,10000,100000")
    ap.add_argument("--seed", type=int, default=903)
    ap.add_argument("--today", default="2026-11-20")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--first-only", default="", help="N,... measured for the first computation alone, beyond "
                    "--children (empty: none)")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--no-results", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep each N's database and files")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.workdir = os.path.abspath(a.workdir or os.path.join(a.build, "bench", "scale"))
    os.makedirs(a.workdir, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    load = machine()
    results = [measure(a, int(n)) for n in a.children.split(",")]
    beyond = [measure_first(a, int(n)) for n in a.first_only.split(",") if n.strip()]
    head = sh(["git", "-C", HERE, "rev-parse", "--short", "HEAD"]).stdout.strip() if shutil.which("git") else "?"
    dirty = sh(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"]).stdout.strip() != "" \
        if shutil.which("git") else False
    tab = table(results)
    if beyond:
        tab += ("\n\nBeyond the table, the same run: the first computation alone (nothing else is measured at these "
                "sizes), with the largest N above for comparison:\n\n" + table([results[-1]] + beyond, FIRST_ROWS))
    print()
    print(tab)
    took = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    text = ("Measured by `make bench` (target `scale`) on %s, HEAD %s%s; the whole target took %.0f s.\n\n"
            "Machine: %s.\n\n"
            "Commands: `bench_scale.py --build %s --children %s%s --seed %d --today %s --rate %g --seconds %g "
            "--runs %d` (from bench/Makefile; each step's own command is in its docstring).\n\n%s"
            % (started.strftime("%Y-%m-%d %H:%M UTC"), head, " (with uncommitted changes)" if dirty else "", took,
               load, "build", a.children, " --first-only " + a.first_only if a.first_only else "", a.seed, a.today,
               a.rate, a.seconds, a.runs, tab))
    if not a.no_results:
        write_results(a.results, text)
        print("\nscale: table written to %s" % a.results)
    bad = [r["n"] for r in results if r["lat_missing"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
