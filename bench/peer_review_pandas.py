#!/usr/bin/python3
"""The peer of the scale benchmark: what a council's performance team would
write instead of careclock, in pandas (Debian python3-pandas). It reads an
SSDA903 extract (header, episodes, reviews CSV files) and computes the LAC
review clock alone (CPPCR 2010 reg 33: the first review within 20 working
days of the start of a period of care, the second within 3 months of the
first, then every 6 months; England and Wales bank holidays), as careclock's
rule does: each review held meets the open instance and starts the next; an
instance still open when the period of care ends is cancelled when it was
not yet due, and stays overdue when it was. Vectorised: numpy.busday_offset
for working days, pandas' vectorised month offsets, merge_asof to place the
reviews in their periods of care. Writes one row per instance (child, seq,
start, due, met_on, status) to --out.

usage: peer_review_pandas.py --holidays ICS --today YYYY-MM-DD --out CSV DIR
"""
import argparse
import os
import re
import time

T0 = time.monotonic()

import numpy as np  # noqa: E402  (timed: a script pays for its imports)
import pandas as pd  # noqa: E402


def read_holidays(path):
    days = []
    date_re = re.compile(r"^DTSTART;VALUE=DATE:(\d{4})(\d{2})(\d{2})$")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = date_re.match(line.rstrip("\r\n"))
            if m:
                days.append("%s-%s-%s" % m.groups())
    return np.array(sorted(set(days)), dtype="datetime64[D]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--holidays", required=True)
    ap.add_argument("--today", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("dir")
    a = ap.parse_args()
    hol = read_holidays(a.holidays)
    today = np.datetime64(a.today, "D")
    t_read = time.monotonic()
    dmy = "%d/%m/%Y"
    eps = pd.read_csv(os.path.join(a.dir, "episodes.csv"), usecols=["CHILD", "DECOM", "DEC", "REC"],
                      dtype=str, keep_default_na=False)
    rev = pd.read_csv(os.path.join(a.dir, "reviews.csv"), usecols=["CHILD", "REVIEW"], dtype=str)
    pd.read_csv(os.path.join(a.dir, "header.csv"), usecols=["CHILD", "DOB"], dtype=str)  # the children
    eps["DECOM"] = pd.to_datetime(eps["DECOM"], format=dmy)
    eps["DEC"] = pd.to_datetime(eps["DEC"].replace("", None), format=dmy)
    rev["REVIEW"] = pd.to_datetime(rev["REVIEW"], format=dmy)
    t_compute = time.monotonic()

    # Periods of care: consecutive episodes joined by REC X1.
    eps = eps.sort_values(["CHILD", "DECOM"], kind="stable").reset_index(drop=True)
    prev_rec = eps.groupby("CHILD")["REC"].shift()
    eps["period"] = (prev_rec.isna() | (prev_rec != "X1")).cumsum()
    per = eps.groupby("period").agg(CHILD=("CHILD", "first"), start=("DECOM", "first"), end=("DEC", "last"),
                                    rec=("REC", "last"))
    per.loc[per["rec"].isin(["", "X1"]), "end"] = pd.NaT
    per = per.reset_index()

    # Each review in the period of care it falls in (reviews outside care
    # meet nothing). Two reviews recorded on one day are two reviews, as in
    # careclock's events.
    rev = rev.sort_values("REVIEW", kind="stable")
    placed = pd.merge_asof(rev, per.sort_values("start")[["CHILD", "period", "start", "end"]],
                           left_on="REVIEW", right_on="start", by="CHILD", direction="backward")
    placed = placed[placed["period"].notna() & (placed["end"].isna() | (placed["REVIEW"] <= placed["end"]))]
    placed = placed.sort_values(["period", "REVIEW"], kind="stable")
    placed["k"] = placed.groupby("period").cumcount()

    # Instance 1 of each period: 20 working days from its start.
    first = per[["CHILD", "period", "start", "end"]].copy()
    first["seq_in_period"] = 0
    first["due"] = pd.to_datetime(np.busday_offset(first["start"].values.astype("datetime64[D]"), 20,
                                                   roll="backward", holidays=hol))
    # Instance k + 2 starts when review k + 1 is held: 3 months after the
    # first review, 6 months after each later one.
    nxt = placed[["CHILD", "period", "REVIEW", "k", "end"]].rename(columns={"REVIEW": "start"})
    nxt["seq_in_period"] = nxt["k"] + 1
    nxt["due"] = nxt["start"] + pd.DateOffset(months=6)
    first_review = nxt["k"] == 0
    nxt.loc[first_review, "due"] = nxt.loc[first_review, "start"] + pd.DateOffset(months=3)
    inst = pd.concat([first, nxt.drop(columns="k")], ignore_index=True)
    # Met by the review with the same number in the period.
    met = placed[["period", "k", "REVIEW"]].rename(columns={"k": "seq_in_period", "REVIEW": "met_on"})
    inst = inst.merge(met, on=["period", "seq_in_period"], how="left")

    due = inst["due"].values.astype("datetime64[D]")
    warn_from = np.busday_offset(due, -10, roll="forward", holidays=hol)
    status = np.select(
        [inst["met_on"].notna() & (inst["met_on"] <= inst["due"]),
         inst["met_on"].notna(),
         inst["end"].notna() & (inst["due"] >= inst["end"]),
         due < today,
         warn_from <= today],
        ["met", "met_late", "cancelled", "overdue", "due_soon"], default="open")
    inst["status"] = status
    inst = inst.sort_values(["CHILD", "start", "seq_in_period"], kind="stable")
    inst["seq"] = inst.groupby("CHILD").cumcount() + 1
    t_write = time.monotonic()
    out = inst[["CHILD", "seq", "start", "due", "met_on", "status"]]
    out.to_csv(a.out, index=False, date_format="%Y-%m-%d")
    t_end = time.monotonic()
    counts = inst["status"].value_counts().to_dict()
    print("peer: pandas %s, numpy %s: %d children's review clock: %d instances (%s)"
          % (pd.__version__, np.__version__, inst["CHILD"].nunique(), len(inst),
             ", ".join("%s %d" % (k, counts[k]) for k in sorted(counts))))
    print("peer: seconds total=%.2f imports=%.2f read=%.2f compute=%.2f write=%.2f"
          % (t_end - T0, t_read - T0, t_compute - t_read, t_write - t_compute, t_end - t_write))


if __name__ == "__main__":
    main()
