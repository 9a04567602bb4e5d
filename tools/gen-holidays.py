#!/usr/bin/env python3
"""Make config/holidays/<division>.ics from GOV.UK's bank-holidays.json.

Reproducible: the output depends only on the input file (no clock reads,
fixed DTSTAMP, UIDs derived from division and date, events sorted by date),
so running it again yields the same bytes.

usage: gen-holidays.py BANK-HOLIDAYS.json OUTDIR
"""
import json
import sys

DIVISIONS = ("england-and-wales", "scotland", "northern-ireland")
NAMES = {
    "england-and-wales": "England and Wales",
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
}


def escape(text):
    return (text.replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\n", "\\n"))


def fold(line):
    """Fold a content line at 75 octets without splitting a UTF-8 sequence."""
    raw = line.encode("utf-8")
    out = []
    first = True
    while raw:
        limit = 75 if first else 74
        cut = min(limit, len(raw))
        while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:
            cut -= 1
        out.append((b"" if first else b" ") + raw[:cut])
        raw = raw[cut:]
        first = False
    return b"\r\n".join(out) + b"\r\n"


def render(division, events):
    years = sorted({int(e["date"][:4]) for e in events})
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//careclock//bank holidays from GOV.UK//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Bank holidays: " + NAMES[division],
        "X-CARECLOCK-DIVISION:" + division,
        "X-CARECLOCK-COVERS:%d-%d" % (years[0], years[-1]),
    ]
    for e in sorted(events, key=lambda e: e["date"]):
        day = e["date"].replace("-", "")
        summary = e["title"]
        if e["notes"]:
            summary += " (" + e["notes"].lower() + ")"
        lines += [
            "BEGIN:VEVENT",
            "UID:%s-%s@careclock.bank-holidays" % (day, division),
            "DTSTAMP:20260101T000000Z",
            "DTSTART;VALUE=DATE:" + day,
            "SUMMARY:" + escape(summary),
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return b"".join(fold(l) for l in lines)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        data = json.load(f)
    for division in DIVISIONS:
        events = data[division]["events"]
        with open("%s/%s.ics" % (argv[2], division), "wb") as f:
            f.write(render(division, events))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
