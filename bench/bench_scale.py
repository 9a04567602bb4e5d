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


def cpu_seconds(pid):
    """(user, system) CPU seconds of pid so far, from /proc/PID/stat; (nan,
    nan) when it cannot be read."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick
    except (OSError, IndexError, ValueError):
        return float("nan"), float("nan")


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


def clock_storage(db):
    """Bytes of the pages that hold the clocks (SQLite's dbstat): the clocks
    table of schema 8 and its index, or schema 9's clock_rows, clock_rules
    and clocks_by_status (issue 22); the digests are counted apart."""
    con = __import__("sqlite3").connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ('clocks', 'clock_rows', "
                           "'clock_rules', 'clocks_by_status')").fetchone()[0]
    finally:
        con.close()


def timed_out(cmd, out_path):
    """Wall seconds, user and system CPU seconds of cmd writing its output to
    out_path (a file on the same disk as the database, as an analyst's export
    is), and the file's size in bytes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(out_path, "wb") as out:
        subprocess.run(cmd, check=True, stdout=out, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    size = os.path.getsize(out_path)
    os.unlink(out_path)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime, size


def listing(build, r, work, db, today, sqlite_shell=True, all_formats=True):
    """`careclock clocks --cached` of every clock, CSV (best of 2), JSON and
    the table; and the sqlite3 shell writing the same rows as CSV
    (`sqlite3 -csv DB 'SELECT * FROM clocks'`, the view in schema 9) and,
    in schema 9, the stored rows alone (`SELECT * FROM clock_rows`: no day
    turned into a date, no rule named), the floor for reading them."""
    cli = os.path.join(build, "careclock")
    out = os.path.join(work, "listing.out")
    base = [cli, "--db", db, "--today", today, "clocks", "--cached", "--format"]
    runs = [timed_out(base + ["csv"], out) for _ in range(2 if all_formats else 1)]
    r["list_csv_s"], r["list_csv_user_s"], r["list_csv_sys_s"], r["list_csv_bytes"] = min(runs)
    r["list_json_s"] = timed_out(base + ["json"], out)[0] if all_formats else float("nan")
    r["list_table_s"] = timed_out(base + ["table"], out)[0] if all_formats else float("nan")
    print("  listing (clocks --cached): CSV %.2f s (user %.2f, system %.2f; %d MB), JSON %.2f s, table %.2f s"
          % (r["list_csv_s"], r["list_csv_user_s"], r["list_csv_sys_s"], r["list_csv_bytes"] / 1e6,
             r["list_json_s"], r["list_table_s"]), flush=True)
    if sqlite_shell:
        r["sqlite_csv_s"], _, r["sqlite_csv_sys_s"], _ = timed_out(["sqlite3", "-csv", db, "SELECT * FROM clocks"],
                                                                   out)
        r["sqlite_rows_s"] = timed_out(["sqlite3", "-csv", db, "SELECT * FROM clock_rows"], out)[0]
        print("  sqlite3 -csv: SELECT * FROM clocks %.2f s (system %.2f); SELECT * FROM clock_rows %.2f s"
              % (r["sqlite_csv_s"], r["sqlite_csv_sys_s"], r["sqlite_rows_s"]), flush=True)


def measure_before(a, n):
    """The same council with the careclock before issue 22 (--before: a build
    of schema 8, whose bench/bench_eval is built too): the first
    computation, the bytes it wrote and the clocks' pages, the listing, the
    unchanged and the next working day's full recompute. The before column
    of the before/after table."""
    b = argparse.Namespace(**vars(a))
    b.build = a.before
    r = {"n": n}
    work = os.path.join(a.workdir, "before%d" % n)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    db = os.path.join(work, "plan.db")
    print("scale: before (%s)" % a.before, flush=True)
    generate(b, r, n, work, db)
    cold_start(b, r, work, db, os.path.join(work, "careclockd.log"), settle=False)
    r["db_bytes"] = db_bytes(db)
    r["clock_bytes"] = clock_storage(db)
    # CSV once only (the other formats took as long and the table twice as
    # long: its query ran twice; RESULTS.md has them by hand).
    listing(a.before, r, work, db, a.today, sqlite_shell=False, all_formats=False)
    r["sqlite_csv_s"] = timed_out(["sqlite3", "-csv", db, "SELECT * FROM clocks"], os.path.join(work, "s.out"))[0]
    ev = sh([os.path.join(a.before, "bench", "bench_eval"), "--db", db, "--today", a.today, "--runs", "2"]).stdout
    r["full_s"] = min(float(x) for x in re.findall(r"seconds=([0-9.]+)", ev))
    r["full_children"] = int(re.findall(r"children=(\d+)", ev)[-1])
    ev2 = sh([os.path.join(a.before, "bench", "bench_eval"), "--db", db, "--today", next_working_day(a.today),
              "--runs", "1"]).stdout
    r["daily_s"] = float(re.search(r"seconds=([0-9.]+)", ev2).group(1))
    r["daily_children"] = int(re.search(r"children=(\d+)", ev2).group(1))
    r["daily_written"] = int(re.search(r"written=(\d+)", ev2).group(1))
    r["daily_children"] = int(re.search(r"children=(\d+)", ev2).group(1))
    print("  before: clocks' pages %d MB, database %d MB; unchanged recompute %.3f s, next working day %.3f s"
          % (r["clock_bytes"] / 1e6, r["db_bytes"] / 1e6, r["full_s"], r["daily_s"]), flush=True)
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return r


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
            r["first_user_s"], r["first_sys_s"] = cpu_seconds(proc.pid)  # ... and its CPU
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
    r["full_children"] = int(re.findall(r"children=(\d+)", ev)[-1])
    nwd = next_working_day(a.today)
    ev2 = sh([os.path.join(a.build, "bench", "bench_eval"), "--db", db, "--today", nwd, "--runs", "1"]).stdout
    r["daily_s"] = float(re.search(r"seconds=([0-9.]+)", ev2).group(1))
    r["daily_written"] = int(re.search(r"written=(\d+)", ev2).group(1))
    r["daily_children"] = int(re.search(r"children=(\d+)", ev2).group(1))
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
    listing(a.build, r, work, db, a.today)
    r["db_bytes"] = db_bytes(db)
    r["clock_bytes"] = clock_storage(db)
    print("  database: %.1f MB on disk (with -wal, -shm); the clocks' pages %.1f MB" % (r["db_bytes"] / 1e6,
                                                                                   r["clock_bytes"] / 1e6), flush=True)

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
    ("children it evaluated (those whose clocks may have moved; issue 22)", "full_children", "{:,}", None),
    ("first computation alone (from the cold start's log)", "first_s", "{:.2f} s", "t"),
    ("clocks computed and written per second, first computation", "first_rate", "{:,.0f}", None),
    ("bytes the first computation wrote (careclockd's `wchar` at READY)", "first_mb", "{:,.0f} MB", "t"),
    ("... per clock", "first_per_clock", "{:,.0f} B", None),
    ("the machine alone writing as many bytes (`dd bs=1M conv=fdatasync`)", "dd_s", "{:.2f} s", "t"),
    ("... of which the kernel's CPU (system time)", "dd_sys_s", "{:.2f} s", "t"),
    ("daily recompute (next working day: statuses move)", "daily_s", "{:.3f} s", "t"),
    ("rows rewritten by the daily recompute", "daily_written", "{:,}", None),
    ("children it evaluated", "daily_children", "{:,}", None),
    ("commit-to-visible latency at 100 writes/s, median", "lat_median_ms", "{:.1f} ms", "t"),
    ("commit-to-visible latency at 100 writes/s, p99", "lat_p99_ms", "{:.1f} ms", "t"),
    ("the daemon's recompute of the written children, p99 (its log)", "recompute_p99_ms", "{:.0f} ms", "t"),
    ("the writer's longest wait for the write lock", "lock_wait_ms", "{:.0f} ms", "t"),
    ("largest team's feed (`careclock ics --team`)", "team_feed_s", "{:.3f} s", "t"),
    ("service manager's feed (`careclock ics --staff`)", "service_feed_s", "{:.3f} s", "t"),
    ("events in the service manager's feed", "service_feed_events", "{:,}", None),
    ("careclockd peak RSS (VmHWM)", "rss_mib", "{:.0f} MiB", "t"),
    ("listing every clock, CSV (`careclock clocks --cached --format csv > FILE`, best of 2)", "list_csv_s",
     "{:.2f} s", "t"),
    ("... rows a second", "list_rate", "{:,.0f}", None),
    ("the same rows by the sqlite3 shell (`sqlite3 -csv DB 'SELECT * FROM clocks'`)", "sqlite_csv_s", "{:.2f} s",
     "t"),
    ("the stored rows alone by the sqlite3 shell (`SELECT * FROM clock_rows`: days as numbers, rules unnamed)",
     "sqlite_rows_s", "{:.2f} s", "t"),
    ("listing every clock, JSON", "list_json_s", "{:.2f} s", "t"),
    ("listing every clock, the table", "list_table_s", "{:.2f} s", "t"),
    ("the clocks' pages per clock (table, index and rules; `dbstat`)", "clock_per_clock", "{:,.0f} B", None),
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
        r["first_per_clock"] = r["first_wchar"] / r["clocks"] if r["clocks"] else 0
        if "list_csv_s" in r:
            r["list_rate"] = r["clocks"] / r["list_csv_s"]
            r["clock_per_clock"] = r["clock_bytes"] / r["clocks"] if r["clocks"] else 0
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


def first_verdict(r):
    """Whether the first computation approaches dd (within twice its time);
    where not, the measured reason: where careclockd's time went by READY."""
    if r["first_s"] <= 2 * r["dd_s"]:
        return "met"
    user, system = r.get("first_user_s", float("nan")), r.get("first_sys_s", float("nan"))
    return ("**not met** (x{:.1f} of dd): CPU-bound, not I/O-bound: {:.1f} s user CPU and {:.1f} s system by "
            "READY against dd's {:.2f} s; the profile (SQLite's inserts and index sort) is in RESULTS.md"
            .format(r["first_s"] / r["dd_s"], user, system, r["dd_s"]))


def before_after(before, after):
    """Issue 22's table: each figure before (--before) and after, at the
    same N, with the machine's own limit (dd) and the target."""
    b, n = before, after
    for r in (b, n):
        r["first_per_clock"] = r["first_wchar"] / r["clocks"]
        r["clock_per_clock"] = r["clock_bytes"] / r["clocks"]
        r["db_per_clock"] = r["db_bytes"] / r["clocks"]
        r["list_rate"] = r["clocks"] / r["list_csv_s"]

    def verdict(ok):
        return "met" if ok else "**not met**"

    rows = [
        ("the clocks' pages per clock (`dbstat`: table, index, rules)", "{:,.0f} B".format(b["clock_per_clock"]),
         "{:,.0f} B".format(n["clock_per_clock"]), "a row's own values, per-rule text once",
         verdict(n["clock_per_clock"] < b["clock_per_clock"] / 2)),
        ("bytes written per clock by the first computation (`wchar`)", "{:,.0f} B".format(b["first_per_clock"]),
         "{:,.0f} B".format(n["first_per_clock"]), "fewer", verdict(n["first_per_clock"] < b["first_per_clock"])),
        ("first computation (careclockd to READY's log)", "{:.2f} s".format(b["first_s"]),
         "{:.2f} s".format(n["first_s"]), "approach dd", first_verdict(n)),
        ("... careclockd's CPU by READY: user / system", "{:.1f} / {:.1f} s".format(b.get("first_user_s", float("nan")),
         b.get("first_sys_s", float("nan"))), "{:.1f} / {:.1f} s".format(n.get("first_user_s", float("nan")),
         n.get("first_sys_s", float("nan"))), "", ""),
        ("dd writing the same bytes (`bs=1M conv=fdatasync`)", "{:.2f} s".format(b["dd_s"]),
         "{:.2f} s".format(n["dd_s"]), "", ""),
        ("... first computation / dd", "x{:.1f}".format(b["first_s"] / b["dd_s"]),
         "x{:.1f}".format(n["first_s"] / n["dd_s"]), "", ""),
        ("listing, CSV (`careclock clocks --cached --format csv`)", "{:.2f} s".format(b["list_csv_s"]),
         "{:.2f} s".format(n["list_csv_s"]), "", ""),
        ("... rows a second", "{:,.0f}".format(b["list_rate"]), "{:,.0f}".format(n["list_rate"]), ">= 1,000,000",
         verdict(n["list_rate"] >= 1e6)),
        ("`sqlite3 -csv DB 'SELECT * FROM clocks'`, the same rows", "{:.2f} s".format(b["sqlite_csv_s"]),
         "{:.2f} s".format(n["sqlite_csv_s"]), "careclock faster",
         verdict(n["list_csv_s"] < n["sqlite_csv_s"] and n["list_csv_s"] < b["sqlite_csv_s"])),
        ("listing, JSON", "", "{:.2f} s".format(n["list_json_s"]), "", ""),
        ("listing, the table", "", "{:.2f} s".format(n["list_table_s"]), "", ""),
        ("full recompute, nothing changed", "{:.3f} s".format(b["full_s"]), "{:.3f} s".format(n["full_s"]), "< 1 s",
         verdict(n["full_s"] < 1.0)),
        ("next working day's recompute (statuses move)", "{:.3f} s".format(b["daily_s"]),
         "{:.3f} s".format(n["daily_s"]), "in proportion to what moves", ""),
        ("... children evaluated / rows rewritten", "{:,} / {:,}".format(b["daily_children"], b["daily_written"]),
         "{:,} / {:,}".format(n["daily_children"], n["daily_written"]), "", ""),
        ("database on disk (with -wal)", "{:,.0f} MB".format(b["db_bytes"] / 1e6),
         "{:,.0f} MB".format(n["db_bytes"] / 1e6), "", ""),
        ("... per clock", "{:,.0f} B".format(b["db_per_clock"]), "{:,.0f} B".format(n["db_per_clock"]), "", ""),
        ("peer: pandas, the review clock alone", "", "{:.2f} s".format(n["peer_s"]), "careclock first",
         verdict(n["full_s"] < n["peer_s"])),
    ]
    lines = ["| N = {:,} | before | after | target | |".format(n["n"]), "| --- | --- | --- | --- | --- |"]
    lines += ["| %s |" % " | ".join(row) for row in rows]
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
    ap.add_argument("--before-label", default="", help="what --before is (a commit), for the table")
    ap.add_argument("--before", default="", help="a build directory of the careclock before issue 22 (schema 8, "
                    "its bench/bench_eval built): the largest N measured with it too, for the before/after table")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.before_label = a.before_label or a.before
    a.workdir = os.path.abspath(a.workdir or os.path.join(a.build, "bench", "scale"))
    os.makedirs(a.workdir, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    load = machine()
    if a.before:
        a.before = os.path.abspath(a.before)
    results = [measure(a, int(n)) for n in a.children.split(",")]
    before = measure_before(a, results[-1]["n"]) if a.before else None
    beyond = [measure_first(a, int(n)) for n in a.first_only.split(",") if n.strip()]
    head = sh(["git", "-C", HERE, "rev-parse", "--short", "HEAD"]).stdout.strip() if shutil.which("git") else "?"
    dirty = sh(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"]).stdout.strip() != "" \
        if shutil.which("git") else False
    tab = table(results)
    if beyond:
        tab += ("\n\nBeyond the table, the same run: the first computation alone (nothing else is measured at these "
                "sizes), with the largest N above for comparison:\n\n" + table([results[-1]] + beyond, FIRST_ROWS))
    if before is not None:
        tab = ("Before and after issue 22 at N = {:,} (before: careclock at {}, schema 8; the same council, seed "
               "and day):\n\n"
               .format(before["n"], a.before_label) + before_after(before, results[-1]) + "\n\n" + tab)
    print()
    print(tab)
    took = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    text = ("Measured by `make bench` (target `scale`) on %s, HEAD %s%s; the whole target took %.0f s.\n\n"
            "Machine: %s.\n\n"
            "Commands: `bench_scale.py --build %s --children %s%s --seed %d --today %s --rate %g --seconds %g "
            "--runs %d` (from bench/Makefile; each step's own command is in its docstring).\n\n%s"
            % (started.strftime("%Y-%m-%d %H:%M UTC"), head, " (with uncommitted changes)" if dirty else "", took,
               load, "build", a.children, (" --first-only " + a.first_only if a.first_only else "") +
               (" --before build-of-" + a.before_label if a.before else ""), a.seed, a.today, a.rate, a.seconds, a.runs, tab))
    if not a.no_results:
        write_results(a.results, text)
        print("\nscale: table written to %s" % a.results)
    bad = [r["n"] for r in results if r["lat_missing"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
