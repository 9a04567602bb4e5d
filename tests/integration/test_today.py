"""Today is one date for the whole system: `careclock` (without --today)
and careclockd both take it in the configured [careclock] timezone
(issue 14, item 2: the CLI used to take it in Europe/London whatever the
configuration said). The instant is injected: careclock --now (UTC),
careclockd --now (local time in the zone), so nothing depends on the real
date."""
import datetime
import os
import re
import signal
import sqlite3
import subprocess
import unittest
from zoneinfo import ZoneInfo

from daemon_harness import CLI, Council, Daemon

UTC = datetime.timezone.utc
LONDON = ZoneInfo("Europe/London")

# Instants at which the zone's date and London's differ, one on each side.
CASES = [
    # 13:30 UTC: 14:30 BST on 15 June in London, 01:30 NZST on 16 June in Auckland.
    ("Pacific/Auckland", datetime.datetime(2026, 6, 15, 13, 30, tzinfo=UTC)),
    # 03:00 UTC: 04:00 BST on 16 June in London, 20:00 PDT on 15 June in Los Angeles.
    ("America/Los_Angeles", datetime.datetime(2026, 6, 16, 3, 0, tzinfo=UTC)),
]


def clocks_as_of(db):
    """The day the clocks table was last computed for (meta clocks_as_of),
    which `careclock clocks` and careclockd's computation both write."""
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'clocks_as_of'").fetchone()
        return row[0] if row else None
    finally:
        con.close()


class TodayTest(unittest.TestCase):
    def setUp(self):
        self.council = Council()
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop(signal.SIGKILL)
        self.council.cleanup()

    def careclock(self, conf, *args):
        return subprocess.run([CLI, "--db", self.council.db, "--config", conf] + list(args), capture_output=True,
                              text=True)

    def cli_today(self, conf, *when):
        """Today as the CLI takes it: what it computes the clocks for, and
        what it checks dates against (prune refuses a date after today,
        naming today)."""
        con = sqlite3.connect(self.council.db)
        with con:
            con.execute("DELETE FROM meta WHERE key = 'clocks_as_of'")
        con.close()
        p = self.careclock(conf, *when, "clocks")
        self.assertEqual(p.returncode, 0, p.stderr)
        computed_for = clocks_as_of(self.council.db)
        p = self.careclock(conf, *when, "deliveries", "prune", "--before", "2399-12-31")
        self.assertEqual(p.returncode, 2, p.stderr)
        m = re.search(r"is after today \((\d{4}-\d{2}-\d{2})\)", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        self.assertEqual(m.group(1), computed_for)
        return computed_for

    def daemon_today(self, conf, local):
        con = sqlite3.connect(self.council.db)
        with con:
            con.execute("DELETE FROM meta WHERE key = 'clocks_as_of'")
        con.close()
        d = Daemon(self.council, now=local.strftime("%Y-%m-%dT%H:%M:%S"), config=conf)
        self.daemons.append(d)
        self.assertTrue(d.wait_notify("READY=1"), "no READY=1; log:\n" + "\n".join(d.stderr_lines))
        started = [l for l in d.stderr_lines if "careclockd starting:" in l]
        self.assertEqual(len(started), 1, d.stderr_lines)
        m = re.search(r"today (\d{4}-\d{2}-\d{2})", started[0])
        self.assertIsNotNone(m, started[0])
        self.assertEqual(d.stop(), 0)
        self.assertEqual(clocks_as_of(self.council.db), m.group(1))
        return m.group(1)

    def test_cli_and_daemon_agree_on_today_outside_london(self):
        for zone, instant in CASES:
            with self.subTest(zone=zone):
                local = instant.astimezone(ZoneInfo(zone))
                expected = local.date().isoformat()
                london = instant.astimezone(LONDON).date().isoformat()
                self.assertNotEqual(expected, london)  # the case is one that tells them apart
                conf = self.council.write_config("[careclock]\ntimezone = %s\n" % zone, name="%s.conf" %
                                                 zone.replace("/", "-"))
                cli = self.cli_today(conf, "--now", instant.strftime("%Y-%m-%dT%H:%M"))
                daemon = self.daemon_today(conf, local.replace(tzinfo=None))
                self.assertEqual(cli, expected)
                self.assertEqual(daemon, expected)
                self.assertNotEqual(cli, london)

    def test_today_overrides_now(self):
        zone, instant = CASES[0]
        conf = self.council.write_config("[careclock]\ntimezone = %s\n" % zone)
        self.assertEqual(self.cli_today(conf, "--now", instant.strftime("%Y-%m-%dT%H:%M:%SZ"), "--today",
                                        "2026-01-05"), "2026-01-05")

    def test_without_a_configuration_today_is_londons(self):
        # The built-in default zone is Europe/London.
        instant = CASES[0][1]
        p = subprocess.run([CLI, "--db", self.council.db, "--now", instant.strftime("%Y-%m-%dT%H:%M"), "deliveries",
                            "prune", "--before", "2399-12-31"], capture_output=True, text=True)
        self.assertIn("is after today (%s)" % instant.astimezone(LONDON).date().isoformat(), p.stderr)

    def test_a_bad_now_is_refused(self):
        for bad in ("2026-02-30T09:00", "2026-06-15", "yesterday", "2026-06-15T09:00+01:00"):
            with self.subTest(now=bad):
                p = subprocess.run([CLI, "--db", self.council.db, "--now", bad, "clocks"], capture_output=True,
                                   text=True)
                self.assertEqual(p.returncode, 2)
                self.assertIn('--now "%s" is not a UTC time' % bad, p.stderr)

    def test_an_unknown_zone_is_named(self):
        conf = self.council.write_config("[careclock]\ntimezone = Europe/Atlantis\n")
        p = self.careclock(conf, "clocks")
        self.assertEqual(p.returncode, 2)
        self.assertIn('"Europe/Atlantis" is not a time zone this machine knows', p.stderr)


if __name__ == "__main__":
    unittest.main()
