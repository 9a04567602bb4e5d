#!/usr/bin/python3
"""Write SSDA903-shaped files (header.csv, episodes.csv, reviews.csv) for N
made-up children with realistic histories, for benchmarking the import.

    gen_ssda903.py --children 100000 --seed 903 --end 2026-03-31 OUTDIR

Deterministic: the same arguments give the same bytes. Python standard
library only. Histories: one period of care for most children, a second for
some (returning to care); each period opens with an RNE S episode and
continues with placement changes (P, T, U), legal status changes (L) and
both (B), joined by REC X1; a period ends with an E code, or stays open at
the end of the extract. Reviews follow the statutory rhythm (20 working days,
then 3 months, then every 6 months) with realistic slippage. About 5% of
children entered care before the extract's window, so their first episode
in the files is not S, as in a real annual return.
"""
import argparse
import csv
import datetime
import os
import random

PLACES = ["U1", "U2", "U3", "U4", "U5", "U6", "Q1", "Q2", "R1", "R2", "K2", "H5", "P1", "P2", "S1", "T0", "A3",
          "A4", "A5", "A6", "Z1"]
ENDS = ["E2", "E3", "E4A", "E4B", "E5", "E6", "E7", "E8", "E9", "E11", "E12", "E13", "E14", "E15", "E16", "E17",
        "E41", "E45", "E46", "E47", "E48"]
ETHNIC = ["WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH",
          "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"]
LS = ["C1", "C2", "V2", "V3", "V4", "E1", "L1", "L2", "L3", "J1", "J2", "J3", "D1"]
CIN = ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"]


def fmt(d):
    return d.strftime("%d/%m/%Y")


def add_months(d, months):
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    last = (datetime.date(y + (m == 12), m % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return datetime.date(y, m, min(d.day, last))


def add_working_days(d, n):
    while n > 0:
        d += datetime.timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def postcode(rng):
    letters = "ABCDEFGHJKLMNPRSTUWYZ"
    return "%s%s%d %d%s%s" % (rng.choice(letters), rng.choice(letters), rng.randint(1, 29), rng.randint(1, 9),
                              rng.choice(letters), rng.choice(letters))


def reviews_for(rng, start, end, stop):
    """Review dates for a period of care from start to end (None: open)."""
    out = []
    last = end if end is not None else stop
    due = add_working_days(start, 20)
    held = None
    while True:
        slip = rng.random()
        if slip < 0.70:
            when = due - datetime.timedelta(days=rng.randint(0, 10))
        elif slip < 0.95:
            when = due + datetime.timedelta(days=rng.randint(1, 40))
        else:
            when = due + datetime.timedelta(days=rng.randint(41, 150))
        if when <= start:
            when = start + datetime.timedelta(days=1)
        if when > last:
            break
        out.append(when)
        held = when
        due = add_months(held, 3 if len(out) == 1 else 6)
    return out


def child_history(rng, child, dob, window_start, stop):
    """(episodes, reviews) of one child: rows without the CHILD column."""
    episodes, reviews = [], []
    periods = 1 if rng.random() < 0.85 else 2
    age_at_start_days = rng.randint(0, max(1, (stop - dob).days - 30))
    start = max(dob + datetime.timedelta(days=age_at_start_days), window_start)
    before_window = rng.random() < 0.05
    for p in range(periods):
        if start >= stop:
            break
        d = start
        n_changes = min(int(rng.expovariate(0.6)), 8)
        first = True
        period_end = None
        for k in range(n_changes + 1):
            rne = "S" if first else rng.choice(["P", "P", "P", "L", "T", "B", "U"])
            if first and before_window and p == 0:
                rne = rng.choice(["P", "L", "T"])
            first = False
            length = int(rng.expovariate(1 / 240.0)) + 7
            dec = d + datetime.timedelta(days=length)
            last_episode = k == n_changes
            if dec >= stop:
                dec, rec = None, ""
            elif last_episode:
                rec = rng.choice(ENDS)
            else:
                rec = "X1"
            place = rng.choice(PLACES)
            episodes.append([fmt(d), rne, rng.choice(LS), rng.choice(CIN), place, "PR%d" % rng.randint(0, 5),
                             fmt(dec) if dec else "", rec, "CHANGE" if rec == "X1" else "",
                             postcode(rng), postcode(rng), str(rng.randint(1000000, 9999999))])
            if dec is None:
                break
            if rec != "X1":
                period_end = dec
                break
            d = dec
        else:
            pass
        reviews.extend(reviews_for(rng, start, period_end, stop))
        if period_end is None:
            break
        start = period_end + datetime.timedelta(days=rng.randint(30, 900))
    return episodes, reviews


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--children", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=903)
    ap.add_argument("--start", default="2016-04-01", help="first day of the extract's history (ISO)")
    ap.add_argument("--end", default="2026-03-31", help="last day of the extract (ISO)")
    ap.add_argument("outdir")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    window_start = datetime.date.fromisoformat(args.start)
    stop = datetime.date.fromisoformat(args.end)
    os.makedirs(args.outdir, exist_ok=True)
    counts = [0, 0, 0]
    with open(os.path.join(args.outdir, "header.csv"), "w", newline="") as h, \
            open(os.path.join(args.outdir, "episodes.csv"), "w", newline="") as e, \
            open(os.path.join(args.outdir, "reviews.csv"), "w", newline="") as r:
        hw, ew, rw = csv.writer(h, lineterminator="\r\n"), csv.writer(e, lineterminator="\r\n"), \
            csv.writer(r, lineterminator="\r\n")
        hw.writerow(["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"])
        ew.writerow(["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                     "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"])
        rw.writerow(["CHILD", "DOB", "REVIEW", "REVIEW_CODE"])
        for i in range(args.children):
            child = str(100000 + i * 7)
            dob = stop - datetime.timedelta(days=rng.randint(30, 18 * 365))
            hw.writerow([child, rng.choice("12"), fmt(dob), rng.choice(ETHNIC),
                         "%s%012d" % (rng.choice("ABCDEFGHJKLMNPQRTUVWXYZ"), rng.randint(0, 10**12 - 1)), "", ""])
            counts[0] += 1
            episodes, reviews = child_history(rng, child, dob, window_start, stop)
            for ep in episodes:
                ew.writerow([child] + ep)
            for day in reviews:
                rw.writerow([child, fmt(dob), fmt(day), "PN%d" % rng.randint(0, 7)])
            counts[1] += len(episodes)
            counts[2] += len(reviews)
    print("gen_ssda903: %d children, %d episodes, %d reviews (seed %d) in %s" %
          (counts[0], counts[1], counts[2], args.seed, args.outdir))


if __name__ == "__main__":
    main()
