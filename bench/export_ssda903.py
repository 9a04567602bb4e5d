#!/usr/bin/python3
"""Write the SSDA903 extract of a careclock plan database's children: the
header, episodes and reviews CSV files in the return's layout (the columns
`careclock import ssda903` reads, docs/import.md; dates dd/mm/yyyy, CRLF),
for the pandas peer of the scale benchmark (bench/peer_review_pandas.py),
which then works on the same children as careclock.

Each episode of care (looked_after_start up to looked_after_end) is one
episode row (RNE S; DEC and REC E11 when it ended); each review_held is a
review row. Other events have no place in the 903. Deterministic.

usage: export_ssda903.py --db PATH OUTDIR
"""
import argparse
import csv
import os
import sqlite3
import time


def dmy(iso):
    return "%s/%s/%s" % (iso[8:10], iso[5:7], iso[0:4])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("outdir")
    a = ap.parse_args()
    t0 = time.monotonic()
    os.makedirs(a.outdir, exist_ok=True)
    con = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True)
    dobs = dict(con.execute("SELECT id, dob FROM children"))
    n_ep = n_rev = 0
    with open(os.path.join(a.outdir, "header.csv"), "w", newline="") as h, \
            open(os.path.join(a.outdir, "episodes.csv"), "w", newline="") as e, \
            open(os.path.join(a.outdir, "reviews.csv"), "w", newline="") as r:
        hw, ew, rw = (csv.writer(f, lineterminator="\r\n") for f in (h, e, r))
        hw.writerow(["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"])
        ew.writerow(["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                     "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"])
        rw.writerow(["CHILD", "DOB", "REVIEW", "REVIEW_CODE"])
        for i, (child, dob) in enumerate(sorted(dobs.items())):
            hw.writerow([child, "12"[i % 2], dmy(dob), "WBRI", "", "", ""])

        def flush(child, rows):
            nonlocal n_ep, n_rev
            start = None
            for kind, date in rows:
                if kind == "looked_after_start" and start is None:
                    start = date
                elif kind == "looked_after_end" and start is not None:
                    ew.writerow([child, dmy(start), "S", "C2", "N1", "U1", "PR1", dmy(date), "E11", "", "", "", ""])
                    n_ep += 1
                    start = None
                elif kind == "review_held":
                    rw.writerow([child, dmy(dobs[child]), dmy(date), "PN1"])
                    n_rev += 1
            if start is not None:
                ew.writerow([child, dmy(start), "S", "C2", "N1", "U1", "PR1", "", "", "", "", "", ""])
                n_ep += 1

        current, rows = None, []
        # On one day a start comes before an end and a review, as the engine
        # orders them.
        for child, kind, date in con.execute(
                "SELECT child_id, type, date FROM events WHERE type IN ('looked_after_start', 'looked_after_end', "
                "'review_held') ORDER BY child_id, date, CASE type WHEN 'looked_after_start' THEN 0 "
                "WHEN 'review_held' THEN 1 ELSE 2 END, id"):
            if child != current:
                if current in dobs:
                    flush(current, rows)
                current, rows = child, []
            rows.append((kind, date))
        if current in dobs:
            flush(current, rows)
    con.close()
    print("export_ssda903: %d children, %d episodes, %d reviews in %s (%.1f s)"
          % (len(dobs), n_ep, n_rev, a.outdir, time.monotonic() - t0))


if __name__ == "__main__":
    main()
