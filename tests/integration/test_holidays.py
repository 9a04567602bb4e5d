"""The shipped holiday calendars are exactly what tools/gen-holidays.py makes
from the official GOV.UK list, and making them again yields the same bytes."""
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, os.environ.get("CARECLOCK_SHARED", "../shared"))
JSON = os.path.join(SHARED, "data", "bank-holidays.json")
DIVISIONS = ("england-and-wales", "scotland", "northern-ireland")


@unittest.skipUnless(os.path.exists(JSON), "../shared/data/bank-holidays.json not present")
class HolidayGeneration(unittest.TestCase):
    def generate(self, outdir):
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen-holidays.py"), JSON, outdir], check=True)
        return {d: open(os.path.join(outdir, d + ".ics"), "rb").read() for d in DIVISIONS}

    def test_committed_files_match_the_official_list(self):
        with tempfile.TemporaryDirectory() as tmp:
            made = self.generate(tmp)
        for d in DIVISIONS:
            with open(os.path.join(ROOT, "config", "holidays", d + ".ics"), "rb") as f:
                self.assertEqual(f.read(), made[d], d)

    def test_generation_is_reproducible(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            self.assertEqual(self.generate(a), self.generate(b))

    def test_every_official_date_is_in_the_calendar(self):
        import json
        data = json.load(open(JSON, encoding="utf-8"))
        for d in DIVISIONS:
            text = open(os.path.join(ROOT, "config", "holidays", d + ".ics"), encoding="utf-8").read()
            for ev in data[d]["events"]:
                self.assertIn("DTSTART;VALUE=DATE:" + ev["date"].replace("-", ""), text)
            self.assertIn("X-CARECLOCK-COVERS:2018-2028", text)


if __name__ == "__main__":
    unittest.main()
