"""careclock import ssda903 and careclock report timeliness, driven as a user
would on temporary databases with SSDA903 files the tests write themselves:
bad rows (each with its exact FILE:LINE:COLUMN message, database unchanged),
--skip-bad-rows, idempotency, a newer extract, clocks worked out by hand,
report totals and CSV shape; and the synthetic extract in ../shared when it
is there."""
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"), "careclock")
SHARED = os.environ.get("CARECLOCK_SHARED", "../shared")
if not os.path.isabs(SHARED):
    SHARED = os.path.normpath(os.path.join(ROOT, SHARED))
SYNTHETIC = os.path.join(SHARED, "data", "ssda903-synthetic")

TODAY = "2026-11-30"
HEADER_COLS = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODE_COLS = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
REVIEW_COLS = "CHILD,DOB,REVIEW,REVIEW_CODE"


def header_row(child, dob):
    return "%s,1,%s,WBRI,A123456789012,," % (child, dob)


def episode_row(child, decom, rne, place, dec="", rec=""):
    return "%s,%s,%s,C2,N1,%s,PR1,%s,%s,,AB1 2CD,EF3 4GH,1234567" % (child, decom, rne, place, dec, rec)


# A placement's attributes as the import writes them from episode_row.
PLACED = '{"place":"%s","provider":"PR1","legal_status":"C2"}'


def review_row(child, dob, date):
    return "%s,%s,%s,PN1" % (child, dob, date)


# The base extract. A1: became looked after on Mon 2 Nov 2026 (the domain
# page's example date), one review. A2: a whole period of care in 2025 with a
# placement change (X1) and an end of care (E11), three reviews. A3: first
# episode in the files is a legal status change (L), so careclock takes it
# as the start of care and warns. A4: reviews but no episodes.
HEADER = [header_row("A1", "02/03/2015"), header_row("A2", "10/10/2010"), header_row("A3", "01/01/2012"),
          header_row("A4", "05/05/2009")]
EPISODES = [
    episode_row("A1", "02/11/2026", "S", "U1"),
    episode_row("A2", "01/04/2025", "S", "U1", "01/06/2025", "X1"),
    episode_row("A2", "01/06/2025", "P", "U3", "15/01/2026", "E11"),
    episode_row("A3", "02/09/2024", "L", "K2"),
]
REVIEWS = [
    review_row("A1", "02/03/2015", "27/11/2026"),
    review_row("A2", "10/10/2010", "29/04/2025"),
    review_row("A2", "10/10/2010", "05/08/2025"),
    review_row("A4", "05/05/2009", "10/10/2025"),
]


def dump(db):
    """Every table's rows, in a stable order, for before/after comparison."""
    con = sqlite3.connect(db)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


class ImportCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "plan.db")
        self.ok("init")

    def tearDown(self):
        self.tmp.cleanup()

    def run_cc(self, *args, today=TODAY):
        cmd = [BIN, "--db", self.db] + (["--today", today] if today else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True)

    def ok(self, *args, today=TODAY):
        p = self.run_cc(*args, today=today)
        self.assertEqual(p.returncode, 0, "%s: %s%s" % (args, p.stdout, p.stderr))
        return p.stdout

    def write(self, name, cols, rows, newline="\n", subdir="extract"):
        d = os.path.join(self.dir, subdir)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name)
        with open(path, "w", newline="", encoding="utf-8") as f:
            f.write(newline.join([cols] + list(rows)) + newline)
        return path

    def extract(self, header=HEADER, episodes=EPISODES, reviews=REVIEWS, subdir="extract"):
        """Write the three files with names that say nothing of their kind
        (they are recognised by their first row); return their paths."""
        return (self.write("a.csv", HEADER_COLS, header, subdir=subdir),
                self.write("b.csv", EPISODE_COLS, episodes, subdir=subdir),
                self.write("c.txt", REVIEW_COLS, reviews, subdir=subdir))

    def events(self, child):
        con = sqlite3.connect(self.db)
        try:
            return con.execute("SELECT type, date, attributes, source, source_key FROM events WHERE child_id = ? "
                               "ORDER BY date, type", (child,)).fetchall()
        finally:
            con.close()

    def scalar(self, sql, *params):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(sql, params).fetchone()[0]
        finally:
            con.close()

    def clocks(self, child):
        out = json.loads(self.ok("clocks", "--child", child, "--format", "json"))
        return {(c["clock"], c["seq"]): c for c in out}


class TestImport(ImportCase):
    def test_import_maps_episodes_and_reviews_to_events(self):
        paths = self.extract()
        out = self.ok("import", "ssda903", *paths)
        self.assertIn("children  4 read: 4 imported, 0 updated (date of birth), 0 unchanged, 0 bad rows skipped", out)
        self.assertIn("episodes  4 read: 4 imported, 0 updated, 0 unchanged, 0 with no event of their own", out)
        self.assertIn("reviews   4 read: 4 imported, 0 updated, 0 unchanged, 0 duplicates", out)
        self.assertIn("events    11 inserted, 0 updated, 0 deleted", out)
        self.assertIn('4 new children are in team "unallocated" (created) with no worker', out)
        self.assertRegex(out, r"\n +1  first_episode_not_s  %s:5\n" % paths[1])
        self.assertRegex(out, r"\n +1  reviews_without_episodes  %s:5\n" % paths[2])
        self.assertEqual(self.events("A2"), [
            # LS and PLACE_PROVIDER (issue 16): the legal status decides the
            # regime (903 guide), kept as the events' attributes.
            ("looked_after_start", "2025-04-01", '{"legal_status":"C2"}', "ssda903",
             "903:A2:episode:2025-04-01:start"),
            ("placement_start", "2025-04-01", PLACED % "U1", "ssda903", "903:A2:episode:2025-04-01:placement"),
            ("review_held", "2025-04-29", "{}", "ssda903", "903:A2:review:2025-04-29"),
            ("placement_start", "2025-06-01", PLACED % "U3", "ssda903", "903:A2:episode:2025-06-01:placement"),
            ("review_held", "2025-08-05", "{}", "ssda903", "903:A2:review:2025-08-05"),
            ("looked_after_end", "2026-01-15", '{"rec":"E11"}', "ssda903", "903:A2:episode:2025-06-01:end"),
        ])
        # An L episode starts care (first in the files) but no placement.
        self.assertEqual([e[0] for e in self.events("A3")], ["looked_after_start"])
        con = sqlite3.connect(self.db)
        rows = con.execute("SELECT id, dob, team_id, worker_id, initials FROM children ORDER BY id").fetchall()
        team = con.execute("SELECT id, manager_id FROM teams").fetchall()
        con.close()
        self.assertEqual(rows[0], ("A1", "2015-03-02", "unallocated", None, None))
        self.assertEqual(len(rows), 4)
        self.assertEqual(team, [("unallocated", None)])

    def test_clocks_worked_out_by_hand(self):
        self.ok("import", "ssda903", *self.extract())
        a1 = self.clocks("A1")
        # Mon 2 Nov 2026 + 10 working days = Mon 16 Nov (care plan), + 20 = Mon 30 Nov (first review);
        # the review held Fri 27 Nov meets it; the second is due 3 months after it was held.
        self.assertEqual((a1[("care_plan", 1)]["due"], a1[("care_plan", 1)]["status"]), ("2026-11-16", "overdue"))
        self.assertEqual((a1[("review", 1)]["due"], a1[("review", 1)]["status"], a1[("review", 1)]["met_on"]),
                         ("2026-11-30", "met", "2026-11-27"))
        self.assertEqual((a1[("review", 2)]["due"], a1[("review", 2)]["status"]), ("2027-02-27", "open"))
        self.assertEqual(a1[("review_minutes", 1)]["due"], "2026-12-04")
        self.assertEqual(a1[("pep", 1)]["due"], "2026-11-02")  # age 11 at placement: PEP at placement
        self.assertEqual(a1[("visit", 1)]["due"], "2026-11-09")  # a week after the placement
        self.assertEqual(a1[("permanence_plan", 1)]["due"], "2027-02-27")  # by the second review
        # A2: Tue 1 Apr 2025 + 20 working days, skipping Good Friday and Easter Monday = Thu 1 May;
        # held 29 Apr (on time); the second due 29 Jul, held 5 Aug (late); the third, due 5 Feb 2026,
        # is cancelled because care ended on 15 Jan 2026 (REC E11).
        a2 = self.clocks("A2")
        self.assertEqual([(a2[("review", n)]["due"], a2[("review", n)]["status"]) for n in (1, 2, 3)],
                         [("2025-05-01", "met"), ("2025-07-29", "met_late"), ("2026-02-05", "cancelled")])
        self.assertEqual(a2[("review", 2)]["met_on"], "2025-08-05")
        # Only one care plan per period of care: the placement change on 1 Jun starts none.
        self.assertEqual([k for k in a2 if k[0] == "care_plan"], [("care_plan", 1)])
        self.assertEqual(a2[("care_plan", 1)]["due"], "2025-04-15")
        # A3 (L episode taken as the start): first review 20 working days after 2 Sep 2024.
        self.assertEqual(self.clocks("A3")[("review", 1)]["due"], "2024-09-30")
        # Nothing in the imported data is beyond the engine.
        self.assertEqual(json.loads(self.ok("clocks", "--status", "data_error", "--format", "json")), [])

    def test_second_import_changes_nothing(self):
        paths = self.extract()
        self.ok("import", "ssda903", *paths)
        before = dump(self.db)
        out = self.ok("import", "ssda903", *paths)
        self.assertEqual(dump(self.db), before)
        self.assertIn("children  4 read: 0 imported, 0 updated (date of birth), 4 unchanged", out)
        self.assertIn("episodes  4 read: 0 imported, 0 updated, 4 unchanged", out)
        self.assertIn("reviews   4 read: 0 imported, 0 updated, 4 unchanged", out)
        self.assertIn("events    0 inserted, 0 updated, 0 deleted", out)
        self.assertNotIn("new children", out)
        # Also after the clocks were computed (the change queue drained).
        self.ok("clocks")
        before = dump(self.db)
        self.ok("import", "ssda903", os.path.dirname(paths[0]))
        self.assertEqual(dump(self.db), before)

    def test_newer_extract_updates_what_changed(self):
        # The first extract also holds an older period of care of A5 (2023),
        # which the newer annual extract leaves out: it must survive.
        header = HEADER + [header_row("A5", "01/02/2013")]
        episodes = EPISODES + [episode_row("A5", "01/03/2023", "S", "U1", "01/09/2023", "E3"),
                               episode_row("A5", "01/05/2025", "S", "U2")]
        reviews = REVIEWS + [review_row("A5", "01/02/2013", "20/03/2023"), review_row("A5", "01/02/2013", "20/05/2025")]
        self.ok("import", "ssda903", *self.extract(header, episodes, reviews))
        self.ok("event", "add", "A2", "visit", "2025-04-05")  # recorded by hand: never touched
        ids = dict(sqlite3.connect(self.db).execute("SELECT source_key, id FROM events WHERE source_key IS NOT NULL"))
        # The newer extract: A1's date of birth corrected; A2's end of care one
        # week later, its second placement's type corrected, the review of
        # 5 Aug withdrawn and one on 6 Aug instead; A5 only from 2025.
        header2 = [header_row("A1", "03/03/2015")] + HEADER[1:] + [header_row("A5", "01/02/2013")]
        episodes2 = [EPISODES[0], EPISODES[1], episode_row("A2", "01/06/2025", "P", "U4", "22/01/2026", "E11"),
                     EPISODES[3], episode_row("A5", "01/05/2025", "S", "U2")]
        reviews2 = [REVIEWS[0], REVIEWS[1], review_row("A2", "10/10/2010", "06/08/2025"), REVIEWS[3],
                    review_row("A5", "01/02/2013", "20/05/2025")]
        out = self.ok("import", "ssda903", *self.extract(header2, episodes2, reviews2, subdir="newer"))
        self.assertIn("children  5 read: 0 imported, 1 updated (date of birth), 4 unchanged", out)
        self.assertIn("episodes  5 read: 0 imported, 1 updated, 4 unchanged", out)
        self.assertIn("reviews   5 read: 1 imported, 0 updated, 4 unchanged", out)
        self.assertIn("events    1 inserted, 2 updated, 1 deleted", out)
        self.assertEqual(self.scalar("SELECT dob FROM children WHERE id = 'A1'"), "2015-03-03")
        a2 = self.events("A2")
        self.assertIn(("looked_after_end", "2026-01-22", '{"rec":"E11"}', "ssda903", "903:A2:episode:2025-06-01:end"),
                      a2)
        self.assertIn(("placement_start", "2025-06-01", PLACED % "U4", "ssda903",
                       "903:A2:episode:2025-06-01:placement"), a2)
        self.assertIn(("review_held", "2025-08-06", "{}", "ssda903", "903:A2:review:2025-08-06"), a2)
        self.assertNotIn("903:A2:review:2025-08-05", [e[4] for e in a2])
        self.assertIn(("visit", "2025-04-05", "{}", "cli", None), a2)
        # Updated in place: the same event ids, and the audit has the old rows.
        new_ids = dict(sqlite3.connect(self.db).execute("SELECT source_key, id FROM events WHERE source_key "
                                                        "IS NOT NULL"))
        self.assertEqual(new_ids["903:A2:episode:2025-06-01:end"], ids["903:A2:episode:2025-06-01:end"])
        audit = sqlite3.connect(self.db).execute("SELECT action, row_id, actor FROM audit WHERE table_name = "
                                                 "'events' ORDER BY id").fetchall()
        self.assertEqual(sorted(a[0] for a in audit), ["delete", "update", "update"])
        self.assertTrue(all(a[2].startswith("cli:") for a in audit))
        # A5's 2023 period is before the newer extract's span for A5: kept.
        self.assertEqual([e[4] for e in self.events("A5")][:4],
                         ["903:A5:episode:2023-03-01:start", "903:A5:episode:2023-03-01:placement",
                          "903:A5:review:2023-03-20", "903:A5:episode:2023-03-01:end"])

    def test_dry_run_writes_nothing(self):
        before = dump(self.db)
        out = self.ok("import", "ssda903", "--dry-run", *self.extract())
        self.assertIn("SSDA903 import (dry run: nothing was written):", out)
        self.assertIn("events    11 inserted", out)
        self.assertEqual(dump(self.db), before)

    def test_directory_and_files_recognised_by_first_row(self):
        paths = self.extract()
        d = os.path.dirname(paths[0])
        with open(os.path.join(d, "notes.txt"), "w") as f:
            f.write("not a 903 file\n")
        with open(os.path.join(d, "uasc.csv"), "w") as f:
            f.write("CHILD,SEX,DOB,DUC\nA1,1,02/03/2015,01/01/2030\n")
        out = self.ok("import", "ssda903", d)
        self.assertIn("left alone: %s" % os.path.join(d, "notes.txt"), out)
        self.assertIn("left alone: %s" % os.path.join(d, "uasc.csv"), out)
        self.assertIn("file      %s: header, 4 rows" % paths[0], out)
        self.assertIn("file      %s: reviews, 4 rows" % paths[2], out)
        # Named explicitly, a file that is not a 903 table is an error.
        p = self.run_cc("import", "ssda903", paths[0], os.path.join(d, "notes.txt"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("notes.txt:1: not an SSDA903 header, episodes or reviews file", p.stderr)

    def test_crlf_bom_quotes_and_spaces(self):
        header = ['"A1",1," 02/03/2015 ",WBRI,"X, Y",,']
        hd = self.write("h.csv", "\ufeff" + HEADER_COLS, header, newline="\r\n")
        ep = self.write("e.csv", EPISODE_COLS, [episode_row("A1", "02/11/2026", "S", '"U1"')], newline="\r\n")
        self.ok("import", "ssda903", hd, ep)
        self.assertEqual(self.events("A1")[1][2], PLACED % "U1")
        self.assertEqual(self.scalar("SELECT dob FROM children WHERE id = 'A1'"), "2015-03-02")


    def test_crlf_extract_names_the_real_line(self):
        """Every council's extract is CRLF: a bad row on line 59 was reported
        as line 117 (tests/fixtures/ssda903-crlf, committed with its CRs)."""
        fixture = os.path.join(ROOT, "tests", "fixtures", "ssda903-crlf")
        with open(os.path.join(fixture, "episodes.csv"), "rb") as f:
            raw = f.read()
        self.assertEqual(raw.count(b"\r\n"), raw.count(b"\n"))  # the fixture really is CRLF
        path = os.path.join(fixture, "episodes.csv")
        p = self.run_cc("import", "ssda903", os.path.join(fixture, "header.csv"), path)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn('careclock import: %s:59:2: DECOM "31/09/2025" is not a valid date' % path, p.stderr)
        self.assertIn("1 bad row; nothing was imported", p.stderr)
        out = self.ok("import", "ssda903", "--skip-bad-rows", os.path.join(fixture, "header.csv"), path)
        self.assertIn("  skipped %s:59:2: " % path, out)

    def test_nul_byte_in_a_field_is_refused(self):
        """A NUL byte silently truncated a field ("77\\0" + "99" imported as
        child 77): refused, naming file, line and column, nothing written."""
        d = os.path.join(self.dir, "nul")
        os.makedirs(d)
        path = os.path.join(d, "header.csv")
        with open(path, "wb") as f:
            f.write(("%s\r\n%s\r\n" % (HEADER_COLS, header_row("A1", "02/03/2015"))).encode())
            f.write(b"77\x0099,1,01/01/2015,WBRI,A123456789012,,\r\n")
        before = dump(self.db)
        for extra in ([], ["--skip-bad-rows"]):
            p = self.run_cc("import", "ssda903", path, *extra)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn("careclock import: %s:3:1: " % path, p.stderr)
            self.assertIn("NUL", p.stderr)
            self.assertEqual(dump(self.db), before)

    def test_reimport_without_a_reviews_file_keeps_the_reviews(self):
        """An import deletes only the kinds of event whose file was among its
        inputs, and says what it deleted (re-importing header and episodes
        deleted every imported review, exit 0, "warnings: none")."""
        paths = self.extract()
        self.ok("import", "ssda903", *paths)
        reviews = self.scalar("SELECT count(*) FROM events WHERE type = 'review_held'")
        self.assertEqual(reviews, 4)
        out = self.ok("import", "ssda903", paths[0], paths[1])
        self.assertEqual(self.scalar("SELECT count(*) FROM events WHERE type = 'review_held'"), 4)
        self.assertIn("events    0 inserted, 0 updated, 0 deleted", out)
        self.assertIn("reviews: no reviews file among the inputs, so no imported review was deleted", out)
        # And without the episodes file, no episode's events go either.
        out = self.ok("import", "ssda903", paths[0], paths[2])
        self.assertEqual(self.scalar("SELECT count(*) FROM events"), 11)
        self.assertIn("episodes: no episodes file among the inputs, so no imported episode event was deleted", out)
        # A reviews file without the review of 5 Aug 2025: that one goes, and the summary says so.
        reviews = [r for r in REVIEWS if "05/08/2025" not in r]
        out = self.ok("import", "ssda903", *self.extract(reviews=reviews, subdir="newer"))
        self.assertIn("deleted   0 episode events, 1 review (no longer in the newer files)", out)
        self.assertEqual(self.scalar("SELECT count(*) FROM events WHERE type = 'review_held'"), 3)

    def test_usage_errors(self):
        paths = self.extract()
        for args, needle in [
            (("import",), "needs a format (ssda903)"),
            (("import", "csv", paths[0]), 'unknown format "csv"'),
            (("import", "ssda903"), "give the SSDA903 files"),
            (("import", "ssda903", "--frobnicate", paths[0]), 'unknown option "--frobnicate"'),
            (("import", "ssda903", os.path.join(self.dir, "missing.csv")), "missing.csv: No such file"),
            (("import", "ssda903", paths[1], paths[2]), "no SSDA903 header file among the files"),
        ]:
            with self.subTest(args=args):
                p = self.run_cc(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(needle, p.stderr)
        p = self.run_cc("import", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("--skip-bad-rows", p.stdout)
        os.remove(self.db)
        p = self.run_cc("import", "ssda903", *paths)
        self.assertEqual(p.returncode, 2)
        self.assertIn("there is no database at %s (--db)" % self.db, p.stderr)
        self.assertIn("careclock init", p.stderr)


class TestBadRows(ImportCase):
    """Each bad row stops the import with FILE:LINE:COLUMN and the reason,
    exit 2, and the database as it was."""

    CASES = [
        # (which file, row to add to it, line, column, message)
        ("episodes", episode_row("A1", "31/02/2026", "P", "U2"), 6, 2,
         'DECOM "31/02/2026" is not a valid date (expected dd/mm/yyyy, a day that exists)'),
        ("episodes", episode_row("A1", "2026-11-20", "P", "U2"), 6, 2,
         'DECOM "2026-11-20" is not a valid date (expected dd/mm/yyyy, a day that exists)'),
        ("episodes", episode_row("A1", "20/11/2026", "P", "U2").rsplit(",", 1)[0], 6, 13,
         "expected 13 columns, as in the first row, but the row has 12"),
        ("episodes", episode_row("A1", "20/11/2026", "P", "U2") + ",extra", 6, 14,
         "expected 13 columns, as in the first row, but the row has 14"),
        ("episodes", episode_row("Z9", "20/11/2026", "S", "U2"), 6, 1, 'child "Z9" is not in the header file'),
        ("reviews", review_row("Z9", "01/01/2010", "20/11/2026"), 6, 1, 'child "Z9" is not in the header file'),
        ("episodes", episode_row("A3", "01/10/2025", "S", "U2", "01/09/2025", "E3"), 6, 8,
         'DEC "01/09/2025" is before DECOM "01/10/2025"'),
        ("episodes", episode_row("A3", "01/10/2025", "Q", "U2"), 6, 3,
         'RNE "Q" is not one of S, L, P, B, T, U (the reason for a new episode)'),
        ("episodes", episode_row("A3", "01/10/2025", "P", "U2", "05/10/2025", ""), 6, 9,
         "REC is empty but DEC is given (why the episode ended: X1 if care continues)"),
        ("episodes", episode_row("A3", "01/10/2025", "P", "U2", "5/10/2025", "X1"), 6, 8,
         'DEC "5/10/2025" is not a valid date (expected dd/mm/yyyy, a day that exists)'),
        ("episodes", episode_row("A2", "01/04/2025", "P", "U2"), 6, 2,
         'child "A2" already has an episode starting on 2025-04-01 ({episodes}:3): one episode per DECOM'),
        ("episodes", episode_row("A3", "01/10/2025", "P", "U" * 33), 6, 6,
         'PLACE "%s" is not a placement code (at most 32 characters, printable ASCII)' % ("U" * 33)),
        # Not ASCII: the code would go into the event's attributes JSON (found by tests/fuzz/fuzz_import.c,
        # where invalid UTF-8 made attributes that no JSON reader accepts).
        ("episodes", episode_row("A3", "01/10/2025", "P", "U\u00e9"), 6, 6,
         'PLACE "U\u00e9" is not a placement code (at most 32 characters, printable ASCII)'),
        ("episodes", episode_row("A4", "01/01/2000", "S", "U2"), 6, 2,
         'DECOM "01/01/2000" is before the child\'s DOB (2009-05-05)'),
        ("reviews", review_row("A2", "10/10/2010", "32/01/2026"), 6, 3,
         'REVIEW "32/01/2026" is not a valid date (expected dd/mm/yyyy, a day that exists)'),
        ("reviews", review_row("A2", "10/10/2010", ""), 6, 3, "REVIEW is empty"),
        ("reviews", review_row("A2", "10/10/2010", "01/01/2009"), 6, 3,
         'REVIEW "01/01/2009" is before the child\'s DOB (2010-10-10)'),
        ("header", header_row("A9", "30/02/2015"), 6, 3,
         'DOB "30/02/2015" is not a valid date (expected dd/mm/yyyy, a day that exists)'),
        ("header", header_row("A9", "01/01/2027"), 6, 3, 'DOB "01/01/2027" is after today (2026-11-30)'),
        ("header", header_row("A1", "02/03/2015"), 6, 1, 'child "A1" appears twice in the header (first at '),
        ("header", header_row("", "02/03/2015"), 6, 1, "CHILD is empty"),
        ("header", header_row("X" * 65, "02/03/2015"), 6, 1,
         'CHILD "%s" is not a valid id (at most 64 characters, no control characters, UTF-8)' % ("X" * 65)),
    ]

    def test_each_bad_row(self):
        self.ok("import", "ssda903", *self.extract(subdir="first"))
        before = dump(self.db)
        for kind, row, line, column, message in self.CASES:
            with self.subTest(kind=kind, row=row):
                files = {"header": list(HEADER), "episodes": list(EPISODES), "reviews": list(REVIEWS)}
                files[kind].append(row)
                # A change elsewhere that must not be written either.
                files["reviews"].append(review_row("A1", "02/03/2015", "28/11/2026"))
                paths = dict(zip(("header", "episodes", "reviews"),
                                 self.extract(files["header"], files["episodes"], files["reviews"])))
                p = self.run_cc("import", "ssda903", *paths.values())
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                expected = "careclock import: %s:%d:%d: %s" % (paths[kind], line, column,
                                                                message.format(**paths))
                self.assertIn(expected, p.stderr)
                self.assertIn("1 bad row; nothing was imported", p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertEqual(dump(self.db), before)

    def test_a_bad_header_row_explains_the_rows_of_that_child(self):
        header = [header_row("A1", "2015-03-02")] + HEADER[1:]
        paths = self.extract(header=header)
        p = self.run_cc("import", "ssda903", *paths)
        self.assertEqual(p.returncode, 2)
        self.assertIn("careclock import: %s:2:3: DOB \"2015-03-02\" is not a valid date" % paths[0], p.stderr)
        self.assertIn("careclock import: %s:2:1: child \"A1\" is not imported: its header row (%s:2) is bad"
                      % (paths[1], paths[0]), p.stderr)
        self.assertIn("careclock import: %s:2:1: child \"A1\" is not imported" % paths[2], p.stderr)
        self.assertIn("3 bad rows; nothing was imported", p.stderr)

    def test_unclosed_quote_is_not_a_row_to_skip(self):
        episodes = EPISODES[:2] + ['A2,"01/06/2025,P,C2,N1,U3,PR1,,,,,,1'] + EPISODES[3:]
        paths = self.extract(episodes=episodes)
        before = dump(self.db)
        for extra in ([], ["--skip-bad-rows"]):
            p = self.run_cc("import", "ssda903", *(paths + tuple(extra)))
            self.assertEqual(p.returncode, 2)
            self.assertIn("careclock import: %s:4:2: a quoted field is never closed" % paths[1], p.stderr)
            self.assertEqual(dump(self.db), before)

    def test_skip_bad_rows_imports_the_good_rows_and_lists_the_bad(self):
        episodes = EPISODES + [episode_row("A1", "31/02/2026", "P", "U2"), episode_row("Z9", "01/01/2026", "S", "U2")]
        reviews = REVIEWS + [review_row("A2", "10/10/2010", "01/13/2025")]
        paths = self.extract(episodes=episodes, reviews=reviews)
        out = self.ok("import", "ssda903", "--skip-bad-rows", *paths)
        self.assertIn("bad rows skipped (3):\n", out)
        self.assertIn('  skipped %s:6:2: DECOM "31/02/2026" is not a valid date' % paths[1], out)
        self.assertIn('  skipped %s:7:1: child "Z9" is not in the header file' % paths[1], out)
        self.assertIn('  skipped %s:6:3: REVIEW "01/13/2025" is not a valid date' % paths[2], out)
        self.assertIn("episodes  6 read: 4 imported, 0 updated, 0 unchanged, 0 with no event of their own "
                      "(legal status changes within a period of care), 0 dated after today, 2 bad rows skipped",
                      out)
        self.assertIn("reviews   5 read: 4 imported, 0 updated, 0 unchanged, 0 duplicates, 0 dated after today, "
                      "1 bad row skipped", out)
        self.assertEqual(self.scalar("SELECT count(*) FROM events"), 11)

    def test_a_child_with_a_skipped_row_loses_nothing(self):
        self.ok("import", "ssda903", *self.extract())
        # A newer extract without A2's review of 5 Aug, but with a bad row of
        # A2: none of A2's imported events is taken as gone.
        reviews = [r for r in REVIEWS if "05/08/2025" not in r] + [review_row("A2", "10/10/2010", "01/13/2025")]
        out = self.ok("import", "ssda903", "--skip-bad-rows", *self.extract(reviews=reviews, subdir="newer"))
        self.assertIn("events    0 inserted, 0 updated, 0 deleted", out)
        self.assertEqual(self.scalar("SELECT count(*) FROM events"), 11)
        # Once the row is corrected, the review no longer in the extract goes.
        reviews = [r for r in REVIEWS if "05/08/2025" not in r]
        out = self.ok("import", "ssda903", *self.extract(reviews=reviews, subdir="corrected"))
        self.assertIn("events    0 inserted, 0 updated, 1 deleted", out)
        self.assertEqual(self.scalar("SELECT count(*) FROM events"), 10)


class TestWarnings(ImportCase):
    def test_messy_histories(self):
        header = [header_row(c, "01/01/2010") for c in ("M1", "M2", "M3", "M4", "M5", "M6")]
        episodes = [
            # M1: an end of care and a new S episode the same day: continuous care.
            episode_row("M1", "01/01/2025", "S", "U1", "01/03/2025", "E3"),
            episode_row("M1", "01/03/2025", "S", "U2"),
            # M2: overlapping episodes (the second starts before the first ended).
            episode_row("M2", "01/01/2025", "S", "U1", "01/06/2025", "E3"),
            episode_row("M2", "01/04/2025", "S", "U2"),
            # M3: REC without DEC; an S inside a continuing period; a gap after X1.
            episode_row("M3", "01/01/2025", "S", "U1", "01/02/2025", "X1"),
            episode_row("M3", "01/03/2025", "S", "U2", "", "E4A"),
            # M4: a new period not starting with S; an end after today; an episode after today.
            episode_row("M4", "01/01/2024", "S", "U1", "01/02/2024", "E3"),
            episode_row("M4", "01/01/2025", "P", "U2", "01/01/2027", "E3"),
            episode_row("M4", "01/02/2027", "S", "U2"),
            # M5: an open episode followed by another (file order reversed, sorted by DECOM).
            episode_row("M5", "01/06/2025", "P", "U2"),
            episode_row("M5", "01/01/2025", "S", "U1"),
        ]
        reviews = [
            review_row("M1", "01/01/2010", "20/01/2025"), review_row("M1", "01/01/2010", "20/01/2025"),
            review_row("M1", "02/01/2010", "21/01/2025"), review_row("M1", "01/01/2010", "01/01/2030"),
            review_row("M4", "01/01/2010", "01/06/2024"), review_row("M6", "01/01/2010", "01/06/2024"),
        ]
        out = self.ok("import", "ssda903", *self.extract(header, episodes, reviews))
        counts = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0].isdigit() and parts[2].count(":") >= 1:
                counts[parts[1]] = int(parts[0])
        self.assertEqual(counts, {
            "new_period_not_s": 1, "s_within_period": 1, "overlapping_episodes": 1, "gap_after_x1": 1,
            "open_episode_followed": 1, "ended_and_restarted_same_day": 1, "rec_without_dec": 1,
            "dec_after_today": 1, "decom_after_today": 1, "review_after_today": 1, "duplicate_review": 1,
            "review_dob_differs": 1, "reviews_without_episodes": 1, "review_outside_care": 1})
        # M1 and M2: one period, no end recorded.
        self.assertEqual([e[0] for e in self.events("M1") if e[0].startswith("looked_after")], ["looked_after_start"])
        self.assertEqual([e[0] for e in self.events("M2") if e[0].startswith("looked_after")], ["looked_after_start"])
        # M4: two periods; the end after today is not recorded; the 2027 episode not imported.
        self.assertEqual([(e[0], e[1]) for e in self.events("M4") if e[0].startswith("looked_after")],
                         [("looked_after_start", "2024-01-01"), ("looked_after_end", "2024-02-01"),
                          ("looked_after_start", "2025-01-01")])
        self.assertEqual(json.loads(self.ok("clocks", "--status", "data_error", "--format", "json")), [])


class TestReport(ImportCase):
    def setUp(self):
        super().setUp()
        self.ok("import", "ssda903", *self.extract())
        self.ok("staff", "add", "W1", "--name", "Wendy Worker", "--email", "w1@council.example", "--role", "worker")
        self.ok("staff", "add", "TM1", "--name", "Tom Manager", "--email", "tm1@council.example", "--role",
                "team_manager")
        self.ok("team", "add", "EAST", "--name", "East", "--manager", "TM1")
        self.ok("team", "add", "WEST", "--name", "=HYPERLINK(\"http://x.example\")", "--manager", "TM1")
        self.ok("child", "set", "A1", "--team", "EAST", "--worker", "W1")
        self.ok("child", "set", "A2", "--team", "WEST", "--worker", "W1")

    def report(self, *args):
        return self.ok("report", "timeliness", *args)

    def test_totals_add_up_and_match_the_clocks(self):
        data = json.loads(self.report("--format", "json"))
        self.assertEqual(data["to"], TODAY)
        self.assertIsNone(data["from"])
        clocks = json.loads(self.ok("clocks", "--format", "json"))
        names = {"met": "on_time", "met_late": "late", "overdue": "overdue", "open": "not_yet_due",
                 "due_soon": "not_yet_due", "cancelled": "cancelled"}
        for clock in data["clocks"]:
            total = clock["total"]
            for key in ("due", "on_time", "late", "overdue", "not_yet_due", "cancelled"):
                self.assertEqual(sum(t[key] for t in clock["teams"]), total[key], (clock["clock"], key))
            self.assertEqual(total["due"], total["on_time"] + total["late"] + total["overdue"] + total["not_yet_due"])
            for team in clock["teams"]:
                expect = {}
                for c in clocks:
                    if c["clock"] == clock["clock"] and c["team"] == team["team"] and c["due"] <= TODAY:
                        expect[names[c["status"]]] = expect.get(names[c["status"]], 0) + 1
                for key in ("on_time", "late", "overdue", "not_yet_due", "cancelled"):
                    self.assertEqual(team[key], expect.get(key, 0), (clock["clock"], team["team"], key))
        review = next(c for c in data["clocks"] if c["clock"] == "review")
        by_team = {t["team"]: t for t in review["teams"]}
        # WEST (A2): review 1 met, 2 met late; review 3 (due 2026-02-05) cancelled.
        self.assertEqual((by_team["WEST"]["on_time"], by_team["WEST"]["late"], by_team["WEST"]["cancelled"]), (1, 1, 1))
        self.assertEqual(by_team["WEST"]["on_time_percent"], 50.0)
        # EAST (A1): review 1 due today, met on 27 Nov: on time. unallocated (A3): overdue since 2024.
        self.assertEqual(by_team["EAST"]["on_time"], 1)
        self.assertEqual(by_team["unallocated"]["overdue"], 1)
        self.assertEqual(review["total"]["on_time_percent"], 50.0)  # 2 / (2 + 1 + 1)
        self.assertEqual(data["clocks"][0]["clock"], "care_plan")  # rule order, not alphabetical

    def test_period_and_filters(self):
        data = json.loads(self.report("--from", "2025-04-01", "--to", "2025-12-31", "--clock", "review",
                                      "--format", "json"))
        self.assertEqual([c["clock"] for c in data["clocks"]], ["review"])
        self.assertEqual(data["clocks"][0]["total"]["due"], 2)  # A2's reviews due 1 May and 29 Jul 2025
        data = json.loads(self.report("--team", "EAST", "--format", "json", "--to", "2027-03-01"))
        self.assertEqual({t["team"] for c in data["clocks"] for t in c["teams"]}, {"EAST"})
        review = next(c for c in data["clocks"] if c["clock"] == "review")
        self.assertEqual(review["total"]["not_yet_due"], 1)  # review 2 due 2027-02-27
        for args, needle in [(("--team", "NOPE"), 'team "NOPE" does not exist'),
                             (("--clock", "nope"), 'no clock "nope"; the clocks are: care_plan'),
                             (("--from", "2026-02-30"), '--from "2026-02-30" is not a valid date'),
                             (("--from", "2026-02-01", "--to", "2026-01-01"), "--from 2026-02-01 is after --to"),
                             (("--format", "xml"), '--format "xml" is not table, csv or json'),
                             (("--bogus",), 'unknown option "--bogus"')]:
            with self.subTest(args=args):
                p = self.run_cc("report", "timeliness", *args)
                self.assertEqual(p.returncode, 2)
                self.assertIn(needle, p.stderr)
        p = self.run_cc("report", "lateness")
        self.assertEqual(p.returncode, 2)
        self.assertIn('unknown report "lateness"', p.stderr)

    def test_csv_opens_in_a_spreadsheet(self):
        raw = subprocess.run([BIN, "--db", self.db, "--today", TODAY, "report", "timeliness", "--format", "csv"],
                             capture_output=True).stdout
        self.assertTrue(raw.endswith(b"\r\n"))
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))
        rows = list(csv.reader(io.StringIO(raw.decode(), newline="")))
        self.assertEqual(rows[0], ["scope", "clock", "title", "team", "team_name", "from", "to", "due", "on_time",
                                   "late", "overdue", "not_yet_due", "on_time_percent", "cancelled",
                                   "late_within_extension", "excepted", "meeting_events", "meeting_event_sources"])
        self.assertTrue(all(len(r) == len(rows[0]) for r in rows))
        body = [dict(zip(rows[0], r)) for r in rows[1:]]
        seen = set()
        for r in body:
            key = (r["scope"], r["clock"], r["team"])
            self.assertNotIn(key, seen)  # one row per team and clock
            seen.add(key)
        for clock in {r["clock"] for r in body}:
            teams = [r for r in body if r["clock"] == clock and r["scope"] == "team"]
            total = [r for r in body if r["clock"] == clock and r["scope"] == "total"]
            self.assertEqual(len(total), 1)
            for key in ("due", "on_time", "late", "overdue", "not_yet_due", "cancelled"):
                self.assertEqual(sum(int(t[key]) for t in teams), int(total[0][key]))
        # A team name that a spreadsheet would run as a formula is defused.
        self.assertIn(b",\"'=HYPERLINK(\"\"http://x.example\"\")\",", raw)
        review_west = next(r for r in body if r["clock"] == "review" and r["team"] == "WEST")
        self.assertEqual(review_west["on_time_percent"], "50.0")

    def test_detail_lists_the_rows_behind_every_figure(self):
        raw = self.report("--format", "csv", "--detail")
        rows = list(csv.DictReader(io.StringIO(raw, newline="")))
        summary = json.loads(self.report("--format", "json"))
        for clock in summary["clocks"]:
            for team in clock["teams"]:
                mine = [r for r in rows if r["clock"] == clock["clock"] and r["team"] == team["team"]]
                for key in ("on_time", "late", "overdue", "not_yet_due", "cancelled"):
                    self.assertEqual(sum(1 for r in mine if r["counted_as"] == key), team[key])
        late = next(r for r in rows if r["clock"] == "review" and r["counted_as"] == "late")
        # 7 calendar days; 5 working days (30, 31 July, 1, 4, 5 August 2025), counted as explain counts them.
        self.assertEqual((late["child"], late["due"], late["met_on"], late["days_late"], late["working_days_late"]),
                         ("A2", "2025-07-29", "2025-08-05", "7", "5"))
        table = self.report("--detail", "--clock", "review")
        self.assertIn("on time % = met on time / (met on time + met late + overdue)", table)
        self.assertIn("A2           #2   started 2025-04-29  due 2025-07-29  met_late   met 2025-08-05  late "
                      "(7 days late, 5 working days)", table)
        data = json.loads(self.report("--detail", "--format", "json", "--clock", "review"))
        west = next(t for t in data["clocks"][0]["teams"] if t["team"] == "WEST")
        self.assertEqual([r["counted_as"] for r in west["rows"]], ["on_time", "late", "cancelled"])

    def test_data_errors_are_reported_not_counted(self):
        con = sqlite3.connect(self.db)
        with con:
            con.execute("INSERT INTO events (child_id, type, date, source) VALUES ('A3', 'mystery', '2025-01-01', 'x')")
        con.close()
        p = self.run_cc("report", "timeliness", "--format", "csv")
        self.assertEqual(p.returncode, 0)
        self.assertIn("1 child whose data cannot be evaluated is not counted", p.stderr)
        self.assertIn("Not counted: 1 child whose data cannot be evaluated", self.report())


@unittest.skipUnless(os.path.isdir(SYNTHETIC), "the synthetic SSDA903 extract is not at %s (set CARECLOCK_SHARED)"
                     % SYNTHETIC)
class TestSyntheticExtract(ImportCase):
    summary = ""

    @classmethod
    def tearDownClass(cls):
        # Printed after the test's "... ok" line, which tests/run.sh counts.
        sys.stdout.write("\nThe synthetic extract (%s), first import:\n%s\n" % (SYNTHETIC, cls.summary))

    def test_import_the_synthetic_extract_twice(self):
        with open(os.path.join(SYNTHETIC, "header.csv"), newline="") as f:
            children = sum(1 for _ in csv.reader(f)) - 1
        with open(os.path.join(SYNTHETIC, "episodes.csv"), newline="") as f:
            episodes = sum(1 for _ in csv.reader(f)) - 1
        with open(os.path.join(SYNTHETIC, "reviews.csv"), newline="") as f:
            reviews = sum(1 for _ in csv.reader(f)) - 1
        out = self.ok("import", "ssda903", SYNTHETIC, today="2026-11-22")
        TestSyntheticExtract.summary = out
        self.assertIn("children  %d read: %d imported, 0 updated (date of birth), 0 unchanged, 0 bad rows skipped"
                      % (children, children), out)
        self.assertIn("episodes  %d read:" % episodes, out)
        self.assertIn("reviews   %d read:" % reviews, out)
        self.assertEqual(self.scalar("SELECT count(*) FROM children"), children)
        self.assertEqual(self.scalar("SELECT count(*) FROM children WHERE team_id = 'unallocated'"), children)
        n_reviews = self.scalar("SELECT count(*) FROM events WHERE type = 'review_held'")
        self.assertIn("reviews   %d read: %d imported" % (reviews, n_reviews), out)
        # The engine copes with all of it.
        clocks = json.loads(self.ok("clocks", "--status", "data_error", "--format", "json", today="2026-11-22"))
        self.assertEqual(clocks, [])
        before = dump(self.db)
        again = self.ok("import", "ssda903", SYNTHETIC, today="2026-11-22")
        self.assertIn("events    0 inserted, 0 updated, 0 deleted", again)
        self.assertEqual(dump(self.db), before)
        raw = subprocess.run([BIN, "--db", self.db, "--today", "2026-11-22", "report", "timeliness", "--format",
                              "csv"], capture_output=True).stdout
        rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
        review = next(r for r in rows if r["clock"] == "review" and r["scope"] == "total")
        self.assertEqual(int(review["on_time"]) + int(review["late"]) + int(review["overdue"]) +
                         int(review["not_yet_due"]), int(review["due"]))


if __name__ == "__main__":
    unittest.main()
