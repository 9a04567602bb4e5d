"""Issue 16 through the binary: an SSDA903 extract written for careclock
(tests/fixtures/ssda903-regimes: a series of short breaks, a child placed for
adoption, a secure placement and a 16-year-old entrant) imported with
`careclock import ssda903`, then `careclock clocks` must give exactly the
clocks the regulations give these children and nothing else; `explain` says
which regime applies and why; the import's summary says which clocks the
extract cannot meet.

Every expected date was worked out by hand (../shared/docs/domain.md,
"Counting"; England and Wales bank holidays: Good Friday 18 Apr, Easter
Monday 21 Apr, 5 May, 26 May, 25 Aug 2025). Codes are the DfE SSDA903
guide's (LS V3 short breaks, C2 care order, E1 placement order, V2 s20;
PLACE U6 foster, A5 placed for adoption, K1 secure children's home, H5
semi-independent)."""
import json
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"), "careclock")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "ssda903-regimes")
TODAY = "2025-09-01"

# (child, clock, seq): (start, due, status, met_on), with the source.
EXPECTED = {
    # SB1: three stays under LS V3 are one series of short breaks. CPPCR reg
    # 48(3): reviewed within 3 months of the first placement (Mon 6 Jan + 3m
    # = Sun 6 Apr; held Tue 1 Apr), then at most 6 months (Wed 1 Oct); the
    # series has not lapsed (last stay ended Wed 5 Mar: lapses Fri 5 Sep).
    # No care plan (short_break_care_plan ships switched off), LAC review,
    # permanence, PEP, health, placement plan or reg 28(2) visit clocks
    # (regs 5, 7, 9, 28(2) do not apply, reg 48(3)).
    ("SB1", "short_break_review", 1): ("2025-01-06", "2025-04-06", "met", "2025-04-01"),
    ("SB1", "short_break_review", 2): ("2025-04-01", "2025-10-01", "open", None),
    # The IRO's review chairs it: minutes in 5 wd (local audit standard,
    # seeds/002) Tue 8 Apr; report in 20 wd (seeds/004) Thu 1 May (Good
    # Friday and Easter Monday skipped).
    ("SB1", "review_minutes", 1): ("2025-04-01", "2025-04-08", "overdue", None),
    ("SB1", "iro_report", 1): ("2025-04-01", "2025-05-01", "overdue", None),

    # AD1: looked after (C2) in foster care from Mon 6 Jan 2025, aged 2.
    # CPPCR reg 4(2): care plan +10 wd Mon 20 Jan; reg 9: placement plan +5 wd
    # Mon 13 Jan; reg 28(2)(a): visit within 1 week, Mon 13 Jan; health
    # assessment +20 wd Mon 3 Feb (statutory guidance 2015). No PEP: aged 2
    # (education guidance 2018: from 3).
    ("AD1", "care_plan", 1): ("2025-01-06", "2025-01-20", "overdue", None),
    ("AD1", "placement_plan", 1): ("2025-01-06", "2025-01-13", "overdue", None),
    ("AD1", "visit", 1): ("2025-01-06", "2025-01-13", "overdue", None),
    ("AD1", "health_assessment", 1): ("2025-01-06", "2025-02-03", "overdue", None),
    # CPPCR reg 33: first review +20 wd Mon 3 Feb, held Fri 31 Jan; the
    # second (+3m, Wed 30 Apr) and the permanence plan due then give way when
    # the child is placed for adoption on Mon 7 Apr (CPPCR reg 3).
    ("AD1", "review", 1): ("2025-01-06", "2025-02-03", "met", "2025-01-31"),
    ("AD1", "review", 2): ("2025-01-31", "2025-04-30", "cancelled", None),
    ("AD1", "permanence_plan", 1): ("2025-01-06", "2025-04-30", "cancelled", None),
    # AAR 2005 reg 36(1): placement order (E1) Mon 3 Mar: review within 3
    # months, Tue 3 Jun; placed before it.
    ("AD1", "adoption_authority_review", 1): ("2025-03-03", "2025-06-03", "cancelled", None),
    # AAR 2005 reg 36(3): placed Mon 7 Apr: 4 weeks, Mon 5 May (held Fri 2
    # May); 3 months after, Sat 2 Aug (held Fri 1 Aug); 6 months, Sun 1 Feb
    # 2026. Reg 36(4)(a): a visit within a week, Mon 14 Apr (the 903 has no
    # visits: overdue, and the first review decides the frequency after).
    ("AD1", "adoption_review", 1): ("2025-04-07", "2025-05-05", "met", "2025-05-02"),
    ("AD1", "adoption_review", 2): ("2025-05-02", "2025-08-02", "met", "2025-08-01"),
    ("AD1", "adoption_review", 3): ("2025-08-01", "2026-02-01", "open", None),
    ("AD1", "adoption_visit", 1): ("2025-04-07", "2025-04-14", "overdue", None),
    # Minutes (+5 wd) and IRO reports (+20 wd) of the three reviews: Fri 7
    # Feb, Fri 28 Feb; Mon 12 May (5 May skipped), Tue 3 Jun (5 and 26 May
    # skipped); Fri 8 Aug, Mon 1 Sep (25 Aug skipped).
    ("AD1", "review_minutes", 1): ("2025-01-31", "2025-02-07", "overdue", None),
    ("AD1", "review_minutes", 2): ("2025-05-02", "2025-05-12", "overdue", None),
    ("AD1", "review_minutes", 3): ("2025-08-01", "2025-08-08", "overdue", None),
    ("AD1", "iro_report", 1): ("2025-01-31", "2025-02-28", "overdue", None),
    ("AD1", "iro_report", 2): ("2025-05-02", "2025-06-03", "overdue", None),
    ("AD1", "iro_report", 3): ("2025-08-01", "2025-09-01", "due_soon", None),

    # SE1: aged 14, looked after (C2) in a secure children's home (K1) from
    # Mon 3 Mar 2025. SAR 1991 reg 10(1): 72 hours without a court's
    # authority; the 903 has no hour, so from the start of the day: they end
    # at 00:00 Thu 6 Mar, Wed 5 Mar the last day. Reg 15: review within a
    # month, Thu 3 Apr.
    ("SE1", "secure_authority", 1): ("2025-03-03", "2025-03-05", "overdue", None),
    ("SE1", "secure_review", 1): ("2025-03-03", "2025-04-03", "overdue", None),
    # ... and the looked-after clocks: care plan Mon 17 Mar, placement plan
    # and visit Mon 10 Mar, PEP at placement (aged 14), health and first
    # review +20 wd Mon 31 Mar, permanence plan at the second review,
    # projected from the first's due date (+3m, Mon 30 Jun).
    ("SE1", "care_plan", 1): ("2025-03-03", "2025-03-17", "overdue", None),
    ("SE1", "placement_plan", 1): ("2025-03-03", "2025-03-10", "overdue", None),
    ("SE1", "visit", 1): ("2025-03-03", "2025-03-10", "overdue", None),
    ("SE1", "pep", 1): ("2025-03-03", "2025-03-03", "overdue", None),
    ("SE1", "health_assessment", 1): ("2025-03-03", "2025-03-31", "overdue", None),
    ("SE1", "review", 1): ("2025-03-03", "2025-03-31", "overdue", None),
    ("SE1", "permanence_plan", 1): ("2025-03-03", "2025-06-30", "overdue", None),

    # YP1: 16 when care began (s20, V2) on Mon 3 Feb 2025. CPPCR reg 40: an
    # eligible child after 13 weeks, Mon 5 May; reg 42(1): needs assessment
    # within 3 months, Tue 5 Aug; reg 43: the pathway plan (careclock holds it
    # to the same 3 months). No permanence plan from 15 (seeds/003 s1.1).
    ("YP1", "needs_assessment", 1): ("2025-05-05", "2025-08-05", "overdue", None),
    ("YP1", "pathway_plan", 1): ("2025-05-05", "2025-08-05", "overdue", None),
    ("YP1", "care_plan", 1): ("2025-02-03", "2025-02-17", "overdue", None),
    ("YP1", "placement_plan", 1): ("2025-02-03", "2025-02-10", "overdue", None),
    ("YP1", "visit", 1): ("2025-02-03", "2025-02-10", "overdue", None),
    ("YP1", "pep", 1): ("2025-02-03", "2025-02-03", "overdue", None),
    ("YP1", "health_assessment", 1): ("2025-02-03", "2025-03-03", "overdue", None),
    # CPPCR reg 33: +20 wd Mon 3 Mar, held Tue 25 Feb; then +3m Sun 25 May.
    ("YP1", "review", 1): ("2025-02-03", "2025-03-03", "met", "2025-02-25"),
    ("YP1", "review", 2): ("2025-02-25", "2025-05-25", "overdue", None),
    ("YP1", "review_minutes", 1): ("2025-02-25", "2025-03-04", "overdue", None),
    ("YP1", "iro_report", 1): ("2025-02-25", "2025-03-25", "overdue", None),
}


class RegimesFromAn903Extract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.db = os.path.join(cls.tmp.name, "plan.db")
        cls.ok("init")
        cls.summary = cls.ok("import", "ssda903", FIXTURE)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def run_cc(cls, *args):
        return subprocess.run([BIN, "--db", cls.db, "--today", TODAY] + list(args), capture_output=True, text=True)

    @classmethod
    def ok(cls, *args):
        p = cls.run_cc(*args)
        if p.returncode != 0:
            raise AssertionError("%s: %s%s" % (args, p.stdout, p.stderr))
        return p.stdout

    def test_exactly_the_expected_clocks_and_nothing_else(self):
        got = {}
        for c in json.loads(self.ok("clocks", "--format", "json")):
            got[(c["child"], c["clock"], c["seq"])] = (c["start"], c["due"], c["status"], c.get("met_on"))
        unexpected = sorted(set(got) - set(EXPECTED))
        missing = sorted(set(EXPECTED) - set(got))
        self.assertEqual(unexpected, [], "clocks the regulations do not give these children")
        self.assertEqual(missing, [], "clocks missing")
        for key, want in EXPECTED.items():
            self.assertEqual(got[key], want, key)

    def test_import_records_legal_status_placements_and_authority(self):
        # The 903's LS and PLACE_PROVIDER become attributes; the E1 row (RNE
        # L) a legal status change and the authority to place.
        events = self.ok("event", "list", "AD1")
        self.assertIn("legal_status_change", events)
        self.assertIn("authority_to_place", events)
        self.assertIn('"place":"A5"', events)
        self.assertIn('"legal_status":"E1"', events)

    def test_summary_says_which_clocks_the_extract_cannot_meet(self):
        s = self.summary
        self.assertIn("clocks the extract cannot meet", s)
        for clock in ("care_plan", "placement_plan", "pep", "visit", "health_assessment", "adoption_visit",
                      "secure_authority", "secure_review", "needs_assessment", "pathway_plan"):
            self.assertRegex(s, r"\b%s\b" % clock)
        # Met by the 903's reviews: not in that list.
        listed = s.split("clocks the extract cannot meet", 1)[1].split("regimes the extract cannot tell", 1)[0]
        for clock in ("short_break_review", "adoption_review", "pathway_plan_review"):
            self.assertNotRegex(listed, r"\b%s\b" % clock)
        self.assertIn("reg24=yes", s)
        # A short-break review between stays is no review outside care
        # (CPPCR reg 48).
        self.assertNotIn("review_outside_care", s)

    def test_explain_says_which_regime_and_why(self):
        out = self.ok("explain", "SB1", "short_break_review", "1")
        self.assertIn("Regime: Short breaks (CPPCR 2010 reg 48; 903 guide LS V3, V4). It applies because on "
                      "Mon 6 Jan 2025 legal status is V3 or V4 (V3)", out)
        self.assertIn("the first of a series", out)
        out = self.ok("explain", "AD1", "adoption_review", "1")
        self.assertIn("Regime: Placed for adoption", out)
        self.assertIn("place is A3, A4, A5 or A6 (A5)", out)
        out = self.ok("explain", "AD1", "review", "2")
        self.assertIn("placed for adoption, where the adoption reviews replace it", out)
        out = self.ok("explain", "SE1", "secure_authority")
        self.assertIn("72 hours after the start, at 00:00 on Mon 3 Mar 2025 (the starting event records no "
                      "time=HH:MM", out)
        out = self.ok("explain", "YP1", "needs_assessment")
        self.assertIn("Regime: Eligible child, care leaver (CPPCR 2010 Part 7, regs 40-42). It applies because on "
                      "Mon 5 May 2025 the child had been looked after for 13 weeks in all since turning 14", out)
        # Why a short-break child has no LAC review, and a 16-year-old no
        # permanence plan.
        out = self.ok("explain", "SB1", "review")
        self.assertIn('its legal status was "V3" on that day, and this clock starts only when legal status is not '
                      'V3 or V4', out)
        out = self.ok("explain", "YP1", "permanence_plan")
        self.assertIn("the child was 16 on that day, and this clock starts only under 15", out)

    def test_reimport_writes_nothing(self):
        out = self.ok("import", "ssda903", FIXTURE)
        self.assertIn("events    0 inserted, 0 updated, 0 deleted", out)


class RegimesFromTheCommandLine(unittest.TestCase):
    """The attributes the regimes turn on, recorded with `event add`."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "plan.db")
        for args in (["init"], ["staff", "add", "m", "--name", "M", "--email", "m@example.org", "--role",
                                "team_manager"],
                     ["team", "add", "t", "--name", "T", "--manager", "m"],
                     ["staff", "add", "w", "--name", "W", "--email", "w@example.org", "--role", "worker"],
                     ["child", "add", "C1", "--dob", "2012-05-10", "--team", "t", "--worker", "w"]):
            self.cc(*args)

    def tearDown(self):
        self.tmp.cleanup()

    def cc(self, *args, code=0):
        p = subprocess.run([BIN, "--db", self.db, "--today", "2025-06-10"] + list(args), capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, code, "%s: %s%s" % (args, p.stdout, p.stderr))
        return p

    def test_connected_person_on_temporary_approval(self):
        # CPPCR reg 24(2): 16 weeks (Mon 3 Mar + 16w = Mon 23 Jun); reg 25(2):
        # extended once by 8 weeks (Mon 18 Aug); reg 28(4): weekly visits.
        self.cc("event", "add", "C1", "looked_after_start", "2025-03-03", "legal_status=C2")
        self.cc("event", "add", "C1", "placement_start", "2025-03-03", "place=U1", "reg24=yes")
        clocks = {(c["clock"], c["seq"]): c for c in json.loads(self.cc("clocks", "--format", "json").stdout)}
        self.assertEqual((clocks[("temporary_approval", 1)]["due"], clocks[("temporary_approval", 1)]["status"]),
                         ("2025-06-23", "due_soon"))
        self.assertEqual(clocks[("visit_connected_person", 1)]["due"], "2025-03-10")
        self.assertNotIn(("visit", 1), clocks)
        self.cc("event", "add", "C1", "approval_extended", "2025-06-02")
        clocks = {(c["clock"], c["seq"]): c for c in json.loads(self.cc("clocks", "--format", "json").stdout)}
        self.assertEqual(clocks[("temporary_approval", 1)]["due"], "2025-08-18")
        out = self.cc("explain", "C1", "temporary_approval").stdout
        self.assertIn("Regime: Connected person with temporary approval (CPPCR 2010 regs 24-25). It applies because "
                      "on Mon 3 Mar 2025 reg24 is yes", out)

    def test_codes_that_would_pick_the_wrong_regime_are_refused(self):
        p = self.cc("event", "add", "C1", "looked_after_start", "2025-03-03", "legal_status=V5", code=2)
        self.assertIn("legal_status=V5: not an SSDA903 legal status", p.stderr)
        p = self.cc("event", "add", "C1", "placement_start", "2025-03-03", "place=K1", "time=9:30", code=2)
        self.assertIn("time=9:30: a time of day, HH:MM", p.stderr)
        p = self.cc("event", "add", "C1", "placement_start", "2025-03-03", "reg24=true", code=2)
        self.assertIn("reg24=true: yes or no", p.stderr)


if __name__ == "__main__":
    unittest.main()
