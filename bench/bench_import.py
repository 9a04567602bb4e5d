#!/usr/bin/python3
"""Benchmark: careclock import ssda903 on a generated extract of N children.

    bench_import.py --careclock build/careclock --children 100000 --seed 903 \
        --workdir build/bench/import [--runs 2] [--today 2026-11-22]

Generates the files (gen_ssda903.py, deterministic), then times, each on the
real binary and a real database file:
  1. the first import into a fresh database (best of --runs, each fresh);
  2. a second import of the same files (must write nothing);
  3. the first `careclock clocks` after it (the engine evaluating every child:
     not the import's target, reported because the data must not choke it);
  4. `careclock report timeliness --format csv`.
Prints the figures and the verdict against the target (import under 30 s for
100,000 children). Exits non-zero only when something is wrong (a failed
command, a second import that wrote, a data_error), never on a timing.
"""
import argparse
import os
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_SECONDS = 30.0


def run(cmd, quiet=True):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write("bench_import: %s failed (%d)\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
        sys.exit(1)
    return elapsed, p.stdout


def counts(db):
    con = sqlite3.connect(db)
    try:
        return tuple(con.execute("SELECT (SELECT count(*) FROM children), (SELECT count(*) FROM events), "
                                 "(SELECT count(*) FROM audit), (SELECT coalesce(max(id), 0) FROM changes)")
                     .fetchone())
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--careclock", required=True)
    ap.add_argument("--children", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=903)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--today", default="2026-11-22")
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    bin_ = os.path.abspath(args.careclock)
    extract = os.path.join(args.workdir, "ssda903-%d-seed%d" % (args.children, args.seed))
    db = os.path.join(args.workdir, "plan.db")
    os.makedirs(args.workdir, exist_ok=True)

    t, out = run([sys.executable, os.path.join(HERE, "gen_ssda903.py"), "--children", str(args.children),
                  "--seed", str(args.seed), extract])
    print(out.strip() + " (%.1f s)" % t)
    sizes = sum(os.path.getsize(os.path.join(extract, f)) for f in os.listdir(extract))
    print("bench_import: extract %.1f MB" % (sizes / 1e6))

    cc = [bin_, "--db", db, "--today", args.today]
    firsts = []
    summary = ""
    for i in range(args.runs):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        run(cc + ["init"])
        t, summary = run(cc + ["import", "ssda903", extract])
        firsts.append(t)
        print("bench_import: first import, run %d: %.2f s" % (i + 1, t))
    for line in summary.splitlines():
        if line.startswith(("  children", "  episodes", "  reviews", "  events")):
            print("bench_import: " + line.strip())
    before = counts(db)
    t_again, again = run(cc + ["import", "ssda903", extract])
    after = counts(db)
    if "events    0 inserted, 0 updated, 0 deleted" not in again or before != after:
        sys.stderr.write("bench_import: the second import wrote something: %s -> %s\n%s" % (before, after, again))
        sys.exit(1)
    print("bench_import: second import of the same files: %.2f s, wrote nothing (children, events, audit, "
          "change queue unchanged: %s)" % (t_again, after))
    t_clocks, errors = run(cc + ["clocks", "--status", "data_error", "--format", "csv"])
    n_errors = len(errors.strip().splitlines()) - 1
    con = sqlite3.connect(db)
    n_clocks = con.execute("SELECT count(*) FROM clocks").fetchone()[0]
    con.close()
    print("bench_import: first clocks after the import (every child evaluated): %.2f s, %d clocks, %d data_error"
          % (t_clocks, n_clocks, n_errors))
    if n_errors != 0:
        sys.exit(1)
    t_report, report = run(cc + ["report", "timeliness", "--format", "csv"])
    print("bench_import: report timeliness --format csv: %.2f s, %d rows" % (t_report,
                                                                           len(report.splitlines()) - 1))
    best = min(firsts)
    print("import of %d children: best of %d %.2f s (target < %.0f s for 100,000): %s"
          % (args.children, args.runs, best, TARGET_SECONDS,
             "met" if best < TARGET_SECONDS * args.children / 100000 else "NOT met"))


if __name__ == "__main__":
    main()
