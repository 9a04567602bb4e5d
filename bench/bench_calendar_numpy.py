#!/usr/bin/python3
"""Check bench_calendar's answers against numpy.busday_offset and time it.

Reads the pairs and careclock's answers written by bench_calendar (see the
format in bench_calendar.c), builds the same holiday list from the division's
ICS file, times numpy.busday_offset(dates, n, roll='backward', holidays=...)
over all pairs (best of --runs), checks that numpy and careclock agree on
every pair, and prints ns per operation for both and the ratio.

Run with Debian's /usr/bin/python3 and python3-numpy; needs nothing else.
Exits 1 on any disagreement.
"""

import argparse
import re
import sys
import time

import numpy as np

MAGIC = b"CCBCAL01"


def read_pairs(path):
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != MAGIC:
        sys.exit(f"{path}: not a bench_calendar output file")
    count, best_ns, uncovered = np.frombuffer(blob, dtype="<u8", count=3, offset=8)
    count = int(count)
    arrays = np.frombuffer(blob, dtype="<i4", offset=32)
    if arrays.size != 3 * count:
        sys.exit(f"{path}: expected {3 * count} int32 values, found {arrays.size}")
    dates, ns, results = (arrays[k * count:(k + 1) * count] for k in range(3))
    return count, int(best_ns), int(uncovered), dates, ns, results


def read_holidays(path):
    """Every all-day DTSTART (up to an exclusive DTEND, if any) in the ICS."""
    days = []
    start = None
    date_re = re.compile(r"^(DTSTART|DTEND)(;[^:]*)?:(\d{4})(\d{2})(\d{2})$")
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\r\n")
            if line == "BEGIN:VEVENT":
                start = end = None
            elif line == "END:VEVENT":
                if start is None:
                    sys.exit(f"{path}: VEVENT without DTSTART")
                stop = end if end is not None and end > start else start + np.timedelta64(1, "D")
                days.extend(np.arange(start, stop, dtype="datetime64[D]"))
                start = None
            else:
                m = date_re.match(line)
                if m:
                    if "VALUE=DATE" not in (m.group(2) or ""):
                        sys.exit(f"{path}: {m.group(1)} is not an all-day date: {line}")
                    day = np.datetime64(f"{m.group(3)}-{m.group(4)}-{m.group(5)}", "D")
                    if m.group(1) == "DTSTART":
                        start = day
                    else:
                        end = day
    return np.unique(np.array(days, dtype="datetime64[D]"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", help="file written by bench_calendar --out")
    ap.add_argument("ics", help="the division's holiday ICS file")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    count, c_best_ns, uncovered, dates, ns, c_results = read_pairs(args.pairs)
    holidays = read_holidays(args.ics)
    print(f"numpy {np.__version__} (Python {sys.version.split()[0]}, {sys.executable}): "
          f"{holidays.size} holidays {holidays[0]}..{holidays[-1]}")

    # Conversions outside the timed region: numpy gets the input types it
    # works in natively, as careclock gets int32 day counts.
    d64 = dates.astype(np.int64).view("datetime64[D]")
    n64 = ns.astype(np.int64)

    best = None
    np_results = None
    for r in range(1, args.runs + 1):
        t0 = time.perf_counter_ns()
        np_results = np.busday_offset(d64, n64, roll="backward", holidays=holidays)
        dt = time.perf_counter_ns() - t0
        print(f"numpy: run {r}: {dt / 1e9:.3f} s, {dt / count:.2f} ns/op")
        best = dt if best is None else min(best, dt)

    got = np_results.view(np.int64)
    bad = np.flatnonzero(got != c_results.astype(np.int64))
    if bad.size:
        print(f"MISMATCH: careclock and numpy disagree on {bad.size} of {count} pairs; first ones:")
        for i in bad[:10]:
            d = np.datetime64(int(dates[i]), "D")
            c = np.datetime64(int(c_results[i]), "D")
            print(f"  {d} +{ns[i]}: careclock {c}, numpy {np_results[i]}")
        return 1
    print(f"check: careclock and numpy agree on all {count} pairs "
          f"({uncovered} answers past the covered years, weekends-only in both)")

    c_op = c_best_ns / count
    np_op = best / count
    print(f"careclock cc_calendar_add_working_days: {c_op:8.2f} ns/op")
    print(f"numpy.busday_offset (vectorised):       {np_op:8.2f} ns/op")
    print(f"ratio numpy/careclock: {np_op / c_op:.1f}x (target >= 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
