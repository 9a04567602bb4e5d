"""Integration tests for `careclock calc`: the real binary, the shipped
holiday calendars, exact stdout, exit statuses and stderr messages.

Exit statuses (daemon/cli/cli.h): 0 ok, 1 system failure, 2 bad
argument or input, 3 an answer computed outside the holiday calendar's
covered years (2018-2028).
"""

import os
import subprocess
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("CARECLOCK_BUILD", "build")
BINARY = os.path.join(REPO, BUILD, "careclock")


def calc(*args):
    """Run `careclock calc ARGS...`; return (exit status, stdout, stderr)."""
    proc = subprocess.run(
        [BINARY, "calc", *args],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=30,
    )
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


COUNCIL_ICS = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Example Council//closures//EN\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:closure-20261110@example.gov.uk\r\n"
    "DTSTAMP:20260101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20261110\r\n"
    "SUMMARY:Council closure day\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


class CalcTestCase(unittest.TestCase):
    def assert_answer(self, args, expected, status=0):
        rc, out, err = calc(*args)
        self.assertEqual(out, expected + "\n", f"stdout of calc {args} (stderr: {err!r})")
        self.assertEqual(rc, status, f"exit status of calc {args} (stderr: {err!r})")
        return err

    def assert_usage_error(self, args, quoted):
        """Exit 2, nothing on stdout, a message on stderr quoting `quoted`."""
        rc, out, err = calc(*args)
        self.assertEqual(rc, 2, f"exit status of calc {args} (stderr: {err!r})")
        self.assertEqual(out, "", f"stdout of calc {args}")
        self.assertTrue(err.strip(), f"no message on stderr for calc {args}")
        if quoted is not None:
            self.assertIn(f'"{quoted}"', err, f"stderr of calc {args} does not quote the input")
        return err


class TestExamples(CalcTestCase):
    """Every example prints exactly the date and a newline; stderr is empty."""

    def check(self, date, offset, expected):
        rc, out, err = calc(date, offset)
        self.assertEqual(out, expected + "\n")
        self.assertEqual(err, "")
        self.assertEqual(rc, 0)

    def test_mon_2_nov_2026_plus_10wd(self):
        self.check("2026-11-02", "+10wd", "2026-11-16")

    def test_sat_21_nov_2026_plus_10wd(self):
        self.check("2026-11-21", "+10wd", "2026-12-04")

    def test_thu_24_dec_2026_plus_10wd(self):
        self.check("2026-12-24", "+10wd", "2027-01-12")

    def test_31_aug_2025_plus_3m(self):
        self.check("2025-08-31", "+3m", "2025-11-30")

    def test_30_nov_2025_plus_3m(self):
        self.check("2025-11-30", "+3m", "2026-02-28")

    def test_mon_7_dec_2026_minus_3wd(self):
        self.check("2026-12-07", "-3wd", "2026-12-02")

    def test_mon_5_jan_2026_plus_12w(self):
        self.check("2026-01-05", "+12w", "2026-03-30")

    def test_fri_16_sep_2022_plus_1wd_state_funeral(self):
        self.check("2022-09-16", "+1wd", "2022-09-20")

    def test_one_off_holidays(self):
        self.check("2020-05-06", "+5wd", "2020-05-14")  # VE day, Fri 8 May 2020
        self.check("2022-05-27", "+10wd", "2022-06-14")  # 2 and 3 June 2022
        self.check("2023-05-05", "+1wd", "2023-05-09")  # coronation, Mon 8 May 2023

    def test_leap_day(self):
        self.check("2024-02-28", "+1wd", "2024-02-29")

    def test_zero_and_negative_from_weekend(self):
        self.check("2026-11-21", "+0wd", "2026-11-20")
        self.check("2026-11-22", "-3wd", "2026-11-18")


class TestExplain(CalcTestCase):
    def test_explain_christmas_2026(self):
        rc, out, err = calc("2026-12-24", "+10wd", "--explain")
        self.assertEqual(rc, 0)
        self.assertEqual(out, "2027-01-12\n")
        lines = err.splitlines()
        self.assertGreater(len(lines), 3)
        self.assertTrue(any("2026-12-28 Boxing Day (substitute day)" in line for line in lines), err)
        self.assertTrue(any("2026-12-25 Christmas Day" in line for line in lines), err)
        self.assertTrue(any("2027-01-01 New Year\u2019s Day" in line for line in lines), err)
        # The answer is named in the explanation too.
        self.assertIn("2027-01-12", err)
        # Working days are not listed as skipped.
        self.assertFalse(any("2026-12-29" in line for line in lines), err)

    def test_explain_option_before_arguments(self):
        rc, out, err = calc("--explain", "2026-12-24", "+10wd")
        self.assertEqual((rc, out), (0, "2027-01-12\n"))
        self.assertIn("2026-12-28 Boxing Day (substitute day)", err)


class TestChainAndBetween(CalcTestCase):
    def test_chain_left_to_right(self):
        # 2026-11-02 +10wd = 2026-11-16; +3m = 2027-02-16.
        self.assert_answer(["2026-11-02", "+10wd", "+3m"], "2027-02-16")

    def test_chain_order_matters(self):
        # 31 Jan +1m = 28 Feb, +1m = 28 Mar; but +2m at once = 31 Mar.
        self.assert_answer(["2026-01-31", "+1m", "+1m"], "2026-03-28")
        self.assert_answer(["2026-01-31", "+2m"], "2026-03-31")
        # +3m then -3wd: 2026-12-07 +3m = 2027-03-07 (Sun) -3wd = Wed 2027-03-03.
        self.assert_answer(["2026-12-07", "+3m", "-3wd"], "2027-03-03")
        # -3wd then +3m: 2026-12-02 +3m = 2027-03-02.
        self.assert_answer(["2026-12-07", "-3wd", "+3m"], "2027-03-02")

    def test_between(self):
        self.assert_answer(["--between", "2026-11-02", "2026-11-16"], "10")

    def test_between_reversed_and_same_day(self):
        self.assert_answer(["--between", "2026-11-16", "2026-11-02"], "-10")
        self.assert_answer(["--between", "2026-11-02", "2026-11-02"], "0")
        self.assert_answer(["--between", "2026-12-24", "2027-01-12"], "10")

    def test_between_uk_dates(self):
        self.assert_answer(["--between", "02/11/2026", "16/11/2026"], "10")


class TestBadInput(CalcTestCase):
    def test_date_29_feb_2023(self):
        self.assert_usage_error(["2023-02-29", "+10wd"], "2023-02-29")

    def test_date_month_13(self):
        self.assert_usage_error(["2026-13-01", "+10wd"], "2026-13-01")

    def test_date_31_april_uk_form(self):
        self.assert_usage_error(["31/04/2026", "+10wd"], "31/04/2026")

    def test_date_empty_string(self):
        self.assert_usage_error(["", "+10wd"], "")

    def test_date_trailing_characters(self):
        self.assert_usage_error(["2026-11-02x", "+10wd"], "2026-11-02x")

    def test_offset_bad_unit(self):
        self.assert_usage_error(["2026-11-02", "+10x"], "+10x")

    def test_offset_without_sign(self):
        self.assert_usage_error(["2026-11-02", "10wd"], "10wd")

    def test_missing_offset(self):
        err = self.assert_usage_error(["2026-11-02"], None)
        self.assertIn("offset", err)

    def test_no_arguments(self):
        self.assert_usage_error([], None)

    def test_unknown_option(self):
        self.assert_usage_error(["2026-11-02", "+10wd", "--frobnicate"], "--frobnicate")

    def test_unknown_division(self):
        self.assert_usage_error(["2026-11-02", "+10wd", "--division", "wales"], "wales")

    def test_between_bad_second_date(self):
        self.assert_usage_error(["--between", "2026-11-02", "2026-02-30"], "2026-02-30")

    def test_between_needs_two_dates(self):
        self.assert_usage_error(["--between", "2026-11-02"], None)


class TestCoverage(CalcTestCase):
    def test_past_2028_prints_date_exits_3_and_warns(self):
        # Wed 20 Dec 2028 + 10 wd: Christmas 2028 is known; 1 Jan 2029 is not
        # and only weekends are skipped there.
        err = self.assert_answer(["2028-12-20", "+10wd"], "2029-01-05", status=3)
        self.assertIn("2018-2028", err)
        self.assertIn("warning", err)

    def test_start_before_2018_exits_3(self):
        err = self.assert_answer(["2017-12-22", "+1wd"], "2017-12-25", status=3)
        self.assertIn("2018-2028", err)

    def test_last_covered_day_is_fine(self):
        rc, out, err = calc("2028-12-27", "+2wd")
        self.assertEqual((rc, out, err), (0, "2028-12-29\n", ""))


class TestFormsAndCalendars(CalcTestCase):
    def test_uk_date_form_accepted(self):
        self.assert_answer(["02/11/2026", "+10wd"], "2026-11-16")
        self.assert_answer(["24/12/2026", "+10wd"], "2027-01-12")

    def test_council_holidays_file_moves_answer(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "extra.ics")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(COUNCIL_ICS)
            # Without the file: Mon 16 Nov. With Tue 10 Nov closed: Tue 17 Nov.
            self.assert_answer(["2026-11-02", "+10wd"], "2026-11-16")
            self.assert_answer(["2026-11-02", "+10wd", "--holidays", path], "2026-11-17")
            self.assert_answer(["--between", "2026-11-02", "2026-11-16", "--holidays", path], "9")

    def test_missing_holidays_file(self):
        rc, out, err = calc("2026-11-02", "+10wd", "--holidays", "/nonexistent/extra.ics")
        self.assertNotEqual(rc, 0)
        self.assertEqual(out, "")
        self.assertIn("/nonexistent/extra.ics", err)

    def test_division_scotland_st_andrews_day(self):
        # St Andrew's Day, Mon 30 Nov 2026, is a bank holiday in Scotland only.
        self.assert_answer(["2026-11-23", "+10wd"], "2026-12-07")
        self.assert_answer(["2026-11-23", "+10wd", "--division", "scotland"], "2026-12-08")
        self.assert_answer(["2026-11-27", "+1wd", "--division", "scotland"], "2026-12-01")
        self.assert_answer(["2026-11-27", "+1wd", "--division", "england-and-wales"], "2026-11-30")

    def test_division_northern_ireland(self):
        self.assert_answer(["2026-03-16", "+1wd", "--division", "northern-ireland"], "2026-03-18")


if __name__ == "__main__":
    unittest.main()
