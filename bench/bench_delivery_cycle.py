#!/usr/bin/python3
"""The whole delivery cycle, end to end: `careclock deliveries run` (plan from
the clocks table, enqueue, claim, render, send over SMTP, record each outcome
in its own transaction) on a generated council whose N children each have one
reminder due, against a local SMTP server (tests/integration/mailsink.py).

    bench_delivery_cycle.py --careclock BIN --smtp-port PORT --children N --workers W --digest yes|no

Children, staff and events are written with sqlite3 directly (the CLI would take
minutes for thousands of rows); the clocks are computed by careclock itself
before the timed run. Prints one line: wall time of the run, messages, items,
messages per second."""
import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--careclock", required=True)
    ap.add_argument("--smtp-port", type=int, required=True)
    ap.add_argument("--children", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=20)
    ap.add_argument("--digest", default="no")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "plan.db")
        conf = os.path.join(tmp, "careclock.conf")
        with open(conf, "w") as f:
            f.write("[notify]\ndigest = %s\n[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = careclock@council.example\n"
                    "tls = none\n" % (args.digest, args.smtp_port))
        cc = [args.careclock, "--db", db, "--config", conf]
        subprocess.run(cc + ["init"], check=True, capture_output=True)
        con = sqlite3.connect(db)
        with con:
            con.execute("INSERT INTO staff VALUES ('TM1', 'Tom Manager', 'tm1@council.example', 'team_manager', NULL)")
            con.execute("INSERT INTO teams VALUES ('T1', 'East', 'TM1', NULL, NULL)")
            con.executemany("INSERT INTO staff VALUES (?, ?, ?, 'worker', 'TM1')",
                            [("W%d" % w, "Worker %d" % w, "w%d@council.example" % w) for w in range(args.workers)])
            con.executemany("INSERT INTO children (id, initials, dob, team_id, worker_id) VALUES (?, 'A.B.', "
                            "'2012-04-01', 'T1', ?)",
                            [("C%05d" % i, "W%d" % (i % args.workers)) for i in range(args.children)])
            con.executemany("INSERT INTO events (child_id, type, date) VALUES (?, 'sgo_notice', '2026-10-05')",
                            [("C%05d" % i,) for i in range(args.children)])
        con.close()
        subprocess.run(cc + ["--today", "2026-12-11", "clocks", "--cached"], check=True, capture_output=True)
        subprocess.run(cc + ["--today", "2026-12-11", "clocks", "--status", "due_soon"], check=True,
                       capture_output=True)
        t0 = time.monotonic()
        p = subprocess.run(cc + ["deliveries", "run", "--now", "2026-12-11T09:00", "--max-messages", "500"],
                           capture_output=True, text=True)
        elapsed = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit("deliveries run failed: %s %s" % (p.stdout, p.stderr))
        con = sqlite3.connect(db)
        sent_rows, messages = con.execute(
            "SELECT count(*), count(DISTINCT batch) FROM deliveries WHERE state = 'sent'").fetchone()
        con.close()
        print("cycle   digest=%-3s children=%d rows sent=%d messages=%d seconds=%.2f rate=%.0f msg/s (%.0f rows/s); "
              "includes refreshing %d clocks, planning and one transaction per message"
              % (args.digest, args.children, sent_rows, messages, elapsed, messages / elapsed, sent_rows / elapsed,
                 args.children))


if __name__ == "__main__":
    main()
