#!/usr/bin/python3
"""Generate a realistic careclock plan database for N children, directly
through SQLite (the schema made by `careclock init`), deterministic from a
seed. Teams of 8 workers with about 25 children each, a team manager per
team, a service manager per 10 teams, IROs (one per 70 children); each child
has one or two episodes of care (up to five years back) with placements
(30% emergency), care plans (20% late), PEPs (80%), reviews held on time or
late (the 20 working days, 3 months, 6 months rhythm with slippage), review
minutes, IRO reports (70%), permanence plans, health assessments (60%) and
statutory visits every 30-50 days (some missed); 15% of children have a
child-protection history (referral, decision, assessment, strategy
discussion, ICPC, core groups, CP review), 5% a special guardianship one
(notice, report, court filing, report to managers). About 43 events and 45
clocks per child: a council's database after some years, histories kept.

Events are written in date order across children, as a council records
them day by day, so the events table's order is not the children's.

usage: gen_plan.py --cli build/careclock --db PATH --children N [--seed S] [--today YYYY-MM-DD]
"""
import argparse
import datetime as dt
import random
import sqlite3
import subprocess
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--children", type=int, required=True)
    ap.add_argument("--seed", type=int, default=903)
    ap.add_argument("--today", default="2026-11-20")
    a = ap.parse_args()
    t0 = time.monotonic()
    rng = random.Random(a.seed)
    rnd = rng.random

    def ri(lo, hi):  # uniform integer in [lo, hi], cheaper than randint
        return lo + int(rnd() * (hi - lo + 1))

    today = dt.date.fromisoformat(a.today).toordinal()
    iso = {}

    def d(day):
        s = iso.get(day)
        if s is None:
            s = iso[day] = dt.date.fromordinal(day).isoformat()
        return s

    subprocess.run([a.cli, "--db", a.db, "init"], check=True, capture_output=True)
    con = sqlite3.connect(a.db)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")  # the generator's own connection: 256 MiB
    n = a.children
    workers = max(1, (n + 24) // 25)
    teams = max(1, (workers + 7) // 8)
    staff, team_rows, children, events = [], [], [], []
    for s in range((teams + 9) // 10):
        staff.append(("SM%d" % s, "Service Manager %d" % s, "sm%d@council.example" % s, "service_manager", None))
    for t in range(teams):
        staff.append(("TM%d" % t, "Team Manager %d" % t, "tm%d@council.example" % t, "team_manager", "SM%d" % (t // 10)))
        team_rows.append(("T%d" % t, "Team %d" % t, "TM%d" % t, "SM%d" % (t // 10)))
    for w in range(workers):
        staff.append(("W%d" % w, "Worker %d" % w, "w%d@council.example" % w, "worker", "TM%d" % (w // 8)))
    iros = max(1, n // 70)
    for i in range(iros):
        staff.append(("IRO%d" % i, "IRO %d" % i, "iro%d@council.example" % i, "iro", None))

    future_ok = ("review_scheduled", "court_filing_scheduled")
    append = events.append

    def add(child, kind, day, attrs="{}"):
        if day <= today or kind in future_ok:
            append((day, child, kind, attrs))

    letters = "ABCDEFGHJKLMNPRSTW"
    for c in range(n):
        cid = "C%07d" % c
        w = c % workers
        age_days = ri(0, 17 * 365)
        dob = today - age_days
        initials = letters[ri(0, 17)] + "." + letters[ri(0, 17)] + "."
        children.append((cid, initials, d(dob), "T%d" % (w // 8), "W%d" % w, "IRO%d" % (c % iros)))
        start = max(dob, today - ri(1, min(age_days + 1, 5 * 365)))
        episodes = 2 if rnd() < 0.1 else 1
        for e in range(episodes):
            add(cid, "looked_after_start", start)
            add(cid, "placement_start", start, '{"emergency":"yes"}' if rnd() < 0.3 else '{"emergency":"no"}')
            late = rnd() < 0.2
            add(cid, "care_plan_completed", start + ri(1, 25 if late else 12))
            if rnd() < 0.8:
                add(cid, "pep_completed", start + ri(0, 20))
            add(cid, "visit", start + ri(2, 9))
            # Reviews: first about 20 working days, then 3 months, then 6.
            r = start + ri(20, 40 if rnd() < 0.2 else 28)
            gap = 91
            visit = start
            while r <= today:
                add(cid, "review_held", r)
                add(cid, "review_minutes_sent", r + ri(2, 12))
                if rnd() < 0.7:
                    add(cid, "iro_report_issued", r + ri(10, 35))
                if gap == 91 and rnd() < 0.75:
                    add(cid, "permanence_plan_agreed", r + ri(30, 120))
                if rnd() < 0.6:
                    add(cid, "health_assessment", r - ri(0, 10))
                while visit + 42 < min(r, today):
                    visit += ri(30, 50)
                    add(cid, "visit", visit)
                r += gap + ri(-5, 25)
                gap = 182
            add(cid, "review_scheduled", r)
            if r - today < 30:
                add(cid, "review_report_sent", r - ri(1, 6))
            if e + 1 < episodes:
                end = start + ri(60, 400)
                if end >= today:
                    break
                add(cid, "looked_after_end", end)
                start = end + ri(30, 300)
                if start >= today:
                    break
        if rnd() < 0.15:  # child protection
            ref = today - ri(5, 700)
            add(cid, "referral", ref)
            add(cid, "referral_decision", ref + ri(0, 3))
            add(cid, "assessment_completed", ref + ri(20, 80))
            sd = ref + ri(1, 10)
            add(cid, "strategy_discussion", sd)
            icpc = sd + ri(10, 30)
            add(cid, "icpc_held", icpc)
            add(cid, "core_group_held", icpc + ri(5, 20))
            add(cid, "core_group_minutes_sent", icpc + ri(10, 30))
            add(cid, "cp_review_held", icpc + ri(80, 100))
        if rnd() < 0.05:  # special guardianship
            notice = today - ri(10, 200)
            add(cid, "sgo_notice", notice)
            if rnd() < 0.7:
                add(cid, "sgo_report_filed", notice + ri(50, 100))
            filing = notice + ri(60, 120)
            add(cid, "court_filing_scheduled", filing)
            add(cid, "report_to_managers", filing - ri(3, 10))
    # Recorded day by day: in date order across children (stable, so one
    # child's events of one day keep their order).
    events.sort(key=lambda ev: ev[0])
    t_gen = time.monotonic() - t0
    # A bulk load, as an ETL job would do it: the events table's own index
    # (events_by_child) is made after the rows, from its schema text, instead
    # of taking 4 million inserts in random places.
    indexes = con.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' "
                          "AND sql IS NOT NULL").fetchall()
    with con:
        for name, _ in indexes:
            con.execute('DROP INDEX "%s"' % name.replace('"', '""'))
        con.executemany("INSERT INTO staff (id, name, email, role, manager_id) VALUES (?, ?, ?, ?, ?)", staff)
        con.executemany("INSERT INTO teams (id, name, manager_id, service_manager_id) VALUES (?, ?, ?, ?)",
                        team_rows)
        con.executemany("INSERT INTO children (id, initials, dob, team_id, worker_id, iro_id) VALUES "
                        "(?, ?, ?, ?, ?, ?)", children)
        con.executemany("INSERT INTO events (child_id, type, date, attributes, source) VALUES (?, ?, ?, ?, 'gen')",
                        ((ev[1], ev[2], d(ev[0]), ev[3]) for ev in events))
        for _, sql in indexes:
            con.execute(sql)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    print("gen_plan: %d children, %d events, %d teams, %d staff (seed %d, today %s) in %.1f s (%.1f s generating)"
          % (n, len(events), teams, len(staff), a.seed, a.today, time.monotonic() - t0, t_gen))


if __name__ == "__main__":
    main()
