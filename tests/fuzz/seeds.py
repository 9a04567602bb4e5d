#!/usr/bin/python3
"""Write the seed corpora of careclock's fuzz targets into
tests/fuzz/corpus/<target>/ (committed). Seeds are small, valid examples of
each input in the targets' encoding (fields separated by NUL bytes, see
fuzz_common.h), plus a few hostile ones, so that the fuzzers start from
the shapes real input has. Run again after changing a target's encoding:

    python3 tests/fuzz/seeds.py            (from the top of the tree)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
SHARED = os.path.join(ROOT, "..", "shared", "data", "ssda903-synthetic")


def num(n):
    """A number field as fz_num reads it: up to four bytes, big-endian,
    with no NUL byte (a NUL would end the field)."""
    out = b""
    for shift in (24, 16, 8, 0):
        b = (n >> shift) & 255
        if out or b:
            out += bytes([b or 1])
    return out or b"\x01"


def fields(*parts):
    return b"\0".join(p if isinstance(p, bytes) else str(p).encode() for p in parts)


def write(target, seeds):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for old in os.listdir(d):
        if old.startswith("seed-"):
            os.unlink(os.path.join(d, old))
    for i, data in enumerate(seeds):
        with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
            f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def lines(path, n):
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().split(b"\n")[:n]) + b"\n"
    except OSError:
        return b""


HOSTILE = [b"Alice\r\nEND:VEVENT\r\nBEGIN:VEVENT", b"Bcc: everyone@example.org", b"A,B;C\\D\"E'",
           "Zoë Brontë Łukasz Ωμέγα 山田".encode(), b"\xff\xfe invalid \xc3", b"\x01\x02\x7f ctl", b"=?UTF-8?B?=?=",
           "emoji \U0001F600".encode(), b"x" * 300]

# ---- dates and offsets ----
write("date", [fields(b"2026-11-02", num(3)), fields(b"29/02/2024", num(6)), fields(b"2023-02-29"),
               fields(b"31/08/2025", num(36503)), fields(b"2399-12-31", num(1)), fields(b"1800-01-01", num(70000)),
               fields(b"24/12/2026")])
write("offset", [fields(b"+10wd", b"2026-11-02", num(1)), fields(b"-3wd", b"2026-12-07"), fields(b"+12w", b"2026-01-05"),
                 fields(b"+3m", b"2025-11-30"), fields(b"+84d", b"21/11/2026"), fields(b"+0wd", b"2026-12-26"),
                 fields(b"+36500wd", b"2026-01-01"), fields(b"10wd", b"2026-11-02", num(1))])

# ---- configuration and rules ----
conf = read("config/careclock.conf")
write("config", [conf,
                 b"[careclock]\nprivacy = full\ntimezone = Europe/London\n[http]\nlisten = [::1]:8787\n"
                 b"public_url = https://careclock.council.example\nmax_connections = 64\ntimeout = 5\n"
                 b"[smtp]\nurl = smtps://mail.example:465\nfrom = cc@council.example\ntls = required\n"
                 b"username = careclock\npassword_file = /run/credentials/x/smtp\n"
                 b"[notify]\nwindow = 07:30-19:00\ndigest = no\n"
                 b"[webhook:east]\nurl = https://hooks.example/east\nformat = teams\nsecret_file = east.secret\n"
                 b"[careclockd]\npoll_interval_ms = 100\nshutdown_grace = 5\n",
                 b"[smtp]\npassword = hunter2\n", b"[webhook:]\nurl = http://x\n", b"[http]\nlisten = 127.0.0.1:99999\n",
                 b"[careclock]\nrules = a.rules, b.rules c.rules\n" + b"x" * 250 + b"\n"])
rules = [b"\0" + read("config/rules/england.rules")]
fixtures = os.path.join(ROOT, "tests", "fixtures", "rules")
for name in sorted(os.listdir(fixtures)):
    rules.append(b"\1" + read(os.path.join("tests", "fixtures", "rules", name)))
rules.append(b"\1[review]\ndue = care_plan#2\n[care_plan]\napplies = age=0-17, placement=A5\n"
             b"due_if = emergency=yes +5wd\nthen = +1d, +1m\nstages = -36500wd worker now\n")
write("rules", rules)

# ---- SSDA903 CSV and import ----
header, episodes, reviews = (lines(os.path.join(SHARED, n), k) for n, k in
                             (("header.csv", 12), ("episodes.csv", 30), ("reviews.csv", 20)))
small_h = b"CHILD,SEX,DOB\n1001,1,01/04/2012\n1002,2,29/02/2016\n"
small_e = (b"CHILD,DECOM,RNE,LS,PLACE,DEC,REC\n1001,05/01/2026,S,C2,U1,03/02/2026,X1\n"
           b"1001,03/02/2026,P,C2,\"A5\",,\n1002,10/03/2025,S,V2,K2,11/04/2025,E11\n1002,11/04/2025,S,V2,K2,,\n")
small_r = b"CHILD,DOB,REVIEW\n1001,01/04/2012,10/02/2026\n1001,01/04/2012,10/02/2026\n1002,29/02/2016,01/01/2030\n"
write("csv", [episodes or small_e, small_h, b"\xef\xbb\xbfa,\"b\"\"c\",\"d\ne\"\r\n\r\nf\rg,h", b"\"unclosed,x\n",
              b"\"ab\"c,d\n", b"=1+2,@SUM(A1),-3,+4,\t5\n"])
write("import", [fields(header or small_h, episodes or small_e, reviews or small_r, num(1)),
                 fields(small_h, small_e, small_r, num(200)),
                 fields(small_h, b"CHILD,DECOM,RNE,PLACE,DEC,REC\n1001,05/01/2026,S,\"A5\"\"\",,\n", b"", num(1)),
                 fields(b"CHILD,SEX,DOB\n1001,1,32/01/2012\n,1,01/01/2000\n" + b"9" * 70 + b",1,01/01/2000\n",
                        small_e, small_r)])

# ---- events (engine conditions on attributes) ----
def ev(t, day, attrs=b""):
    return [num(t), num(day), attrs]

write("events", [fields(num(3000), *ev(1, 10), *ev(3, 12, b'{"emergency":"yes"}'), *ev(4, 20), *ev(6, 30),
                        *ev(12, 40, b'{"long_term":"yes"}'), *ev(13, 60), *ev(2, 400)),
                 fields(num(100), *ev(1, 5), *ev(3, 5, b'{"emergency":"yes","emergency":"no"}'),
                        *ev(3, 9, b'{"\\u0065mergency":"yes"}'), *ev(6, 30, b"not json")),
                 fields(num(4000), *ev(1, 1), *ev(2, 1), *ev(1, 1), *ev(26, 3, b'[1,2]'), *ev(3, 2, b'{"emergency":1}'))])

# ---- messages: email and webhook ----
def message(shape, *items, from_=b"careclock@council.example", url=b"https://careclock.council.example",
            mid=b"<cc-abc-17@council.example>", rcpt=b"W1", name=b"Wendy Worker", addr=b"w1@council.example"):
    parts = [num(shape), from_, url, mid, rcpt, name, addr]
    for it in items:
        parts += it
    return parts


def item(k, stage=b"-5wd", child=b"C1", initials=b"A.B.", full=b"Alice Brown", rule=b"sgo_report",
         title=b"Special guardianship report", source=b"local guidance", reason=b"", worker=b"Wendy Worker",
         team=b"T1", team_name=b"East"):
    return [num(k), stage, child, initials, full, rule, title, source, reason, worker, team, team_name]


msgs = [message(0, item(2 << 5 | 60 << 14)),
        message(1 << 9, item(1 | 2 << 2 | 2 << 5), item(2 | 3 << 5 | 1 << 21, stage=b"met")),
        message(2 << 9, item(5, child=HOSTILE[0], initials=HOSTILE[1], title=HOSTILE[3]),
                name="Zoë Brontë".encode()),
        message(0, item(0, title=b"x" * 1200), name=b'Quote " and \\ backslash'),
        message(0, item(0), name=b"Bad\r\nBcc: x@example.org"),
        message(0, item(0, child=b"C" + b"9" * 120, title=HOSTILE[4]), addr=b"not an address")]
write("email", [fields(*m) for m in msgs])
write("webhook", [fields(*m, b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", b'{"a":1}') for m in msgs] +
      [fields(*msgs[0], b"  whsec_AAAA  ", b""), fields(*msgs[0], b"whsec_", b""), fields(*msgs[0], b"whsec_!!!!")])

# ---- ICS ----
def clock(k, child=b"C1001", initials=b"A.B.", full=b"Alice Brown", rule=b"care_plan", title=b"Care plan",
          source=b"CPPCR 2010 reg 4(2)", start_event=b"placement_start", reason=b"", worker=b"Wendy Worker",
          updated=b"2026-11-17T06:00:00Z"):
    return [num(k), child, initials, full, rule, title, source, start_event, reason, worker, updated]


ics = [fields(num(60), b"careclock: East", b"Europe/London", b"", *clock(2 | 3 << 9 | 60 << 12),
              *clock(1 | 3 << 9 | 70 << 12, rule=b"review", title=b"LAC review")),
       fields(num(60 | 2 << 8), b"careclock: " + HOSTILE[0], b"", b"https://x.example/feeds/t.ics",
              *clock(3 | 3 << 9 | 10 << 12 | 1 << 19, child=HOSTILE[0], initials=HOSTILE[2], full=HOSTILE[3],
                     title=HOSTILE[4], source=HOSTILE[5], worker=HOSTILE[7]),
              *clock(5 | 3 << 9, reason=b"the child left care", child=b"C,1;2", rule=b"r/u l")),
       fields(num(0), b"", b"", b"", *clock(0, child=b"", rule=b"")),
       fields(num(5 << 8), b"n", b"", b"", *clock(6 | 1 << 9, updated=b"garbage"), *clock(4 | 2 << 9, full=b"x" * 400))]
write("ics", ics)

# ---- feed server: tokens and requests ----
tok = b"0123456789abcdef" * 4
write("feed_token", [fields(tok), fields(tok.upper()), fields(tok[:-1]), fields(tok + b"0"), fields(b"", num(1)),
                     fields(b"g", num(1 | 5 << 2)), fields(b"a", num(3 | 63 << 2)), fields(b"../../etc/passwd")])
write("http", [fields(b"GET", b"/feeds/" + tok + b".ics", b'"abc"', b"Sun, 06 Nov 1994 08:49:37 GMT"),
               fields(b"HEAD", b"/healthz", b'W/"x", *', b"Thu, 01 Jan 1970 00:00:00 GMT"),
               fields(b"POST", b"/feeds/x.ics", b"", b""), fields(b"GET", b"/metrics", b'"unclosed', b"Mon, 32 Foo 99"),
               fields(b"GET", b"/feeds/a/b.ics", b",,,", b"Sat, 31 Dec 2199 23:59:60 GMT"),
               fields(b"GET", b"/feeds/" + b"a" * 257 + b".ics", b"", b""), fields(b"GET", b"/feeds/.ics", b"", b"")])
print("seeds written under", CORPUS)
