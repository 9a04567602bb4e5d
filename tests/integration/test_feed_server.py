"""The feed server inside careclockd, over real HTTP with curl on loopback:
200 with the calendar, ETag and caching headers, 304 on If-None-Match, 404
for unknown and revoked tokens (at once), 405 for other methods, HEAD,
/healthz and /metrics (on the admin listener); the body parses with python3-icalendar."""
import re
import signal
import subprocess
import unittest

from daemon_harness import Council, Daemon, wait_until

try:
    import icalendar
except ImportError:  # Debian's python3-icalendar; make deps installs it
    icalendar = None


def curl(*args):
    p = subprocess.run(["curl", "-s", "-S", "-D", "-", "--max-time", "10"] + list(args), capture_output=True)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers, body


class FeedServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.council = Council()
        c = cls.council
        c.cli("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1", "--initials", "AB",
              "--name", "Alice Brown")
        c.cli("event", "add", "C1", "looked_after_start", "2026-11-02", today="2026-11-10")
        c.cli("event", "add", "C1", "placement_start", "2026-11-02", today="2026-11-10")
        out = c.cli("feed", "add", "--team", "T1").stdout
        cls.feed_url_path = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", out).group(1)
        cls.daemon = Daemon(c, now="2026-11-10T09:00:00")
        assert cls.daemon.wait_notify("READY=1"), cls.daemon.stderr_lines
        cls.url = cls.daemon.url(cls.feed_url_path)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop(signal.SIGTERM)
        cls.council.cleanup()

    def test_200_with_calendar_and_cache_headers(self):
        status, h, body = curl(self.url)
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "text/calendar; charset=utf-8")
        self.assertRegex(h["etag"], r'^"[0-9a-f]{64}"$')
        self.assertIn("last-modified", h)
        self.assertEqual(h["cache-control"], "private")
        self.assertIn(b"BEGIN:VCALENDAR", body)
        self.assertIn(b"Care plan due: C1 (AB)", body)
        self.assertNotIn(b"Alice", body)

    @unittest.skipIf(icalendar is None, "python3-icalendar not installed")
    def test_body_parses_cleanly_with_python_icalendar(self):
        _, _, body = curl(self.url)
        cal = icalendar.Calendar.from_ical(body)
        for component in cal.walk():
            self.assertEqual(getattr(component, "errors", []), [], component.name)
        self.assertTrue([c for c in cal.walk("VEVENT")])

    def test_304_on_if_none_match(self):
        _, h, _ = curl(self.url)
        status, h2, body = curl("-H", "If-None-Match: " + h["etag"], self.url)
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")
        self.assertEqual(h2["etag"], h["etag"])

    def test_head_has_headers_and_no_body(self):
        status, h, body = curl("-I", self.url)
        self.assertEqual(status, 200)
        self.assertEqual(body.strip(), b"")  # curl -I ends its header block with an extra CRLF
        _, h_get, _ = curl(self.url)
        self.assertEqual(h["etag"], h_get["etag"])

    def test_other_methods_405(self):
        for method in ("POST", "PUT", "DELETE"):
            status, h, _ = curl("-X", method, self.url)
            self.assertEqual(status, 405, method)
            self.assertIn("GET", h.get("allow", ""))

    def test_unknown_token_404(self):
        status, _, _ = curl(self.daemon.url("/feeds/" + "0" * 64 + ".ics"))
        self.assertEqual(status, 404)
        status, _, _ = curl(self.daemon.url("/feeds/short.ics"))
        self.assertEqual(status, 404)
        status, _, _ = curl(self.daemon.url("/nothing-here"))
        self.assertEqual(status, 404)

    def test_feed_follows_a_new_event(self):
        _, h, _ = curl(self.url)
        self.council.cli("event", "add", "C1", "care_plan_completed", "2026-11-09", today="2026-11-10")
        changed = wait_until(lambda: curl(self.url)[1].get("etag") != h["etag"])
        self.assertTrue(changed)
        self.assertIn(b"Done: Care plan", curl(self.url)[2])

    def test_healthz_and_metrics(self):
        status, _, body = curl(self.daemon.admin_url("/healthz"))
        self.assertEqual(status, 200)
        status, h, body = curl(self.daemon.admin_url("/metrics"))
        self.assertEqual(status, 200)
        self.assertTrue(h["content-type"].startswith("text/plain"))
        self.assertIn(b'careclock_clocks{rule="care_plan",status=', body)
        self.assertIn(b"careclock_recompute_seconds", body)
        self.assertIn(b"careclock_last_reload_timestamp_seconds", body)


class Revocation(unittest.TestCase):
    def test_revoked_token_fails_at_once(self):
        c = Council()
        try:
            c.cli("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1")
            out = c.cli("feed", "add", "--staff", "W1").stdout
            path = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", out).group(1)
            d = Daemon(c, now="2026-11-10T09:00:00")
            try:
                self.assertTrue(d.wait_notify("READY=1"))
                url = d.url(path)
                self.assertEqual(curl(url)[0], 200)
                feed_id = c.cli("feed", "list", "--format", "json").stdout
                import json
                fid = json.loads(feed_id)[0]["id"]
                c.cli("feed", "revoke", str(fid))
                # Issue 18: a revoked URL answers, at once, a valid calendar
                # with no events, so that subscribed devices drop the events
                # they hold (they keep them when a subscription answers an
                # error); an unknown token is still 404.
                status, h, body = curl(url)
                self.assertEqual(status, 200)
                self.assertIn(b"X-WR-CALNAME:careclock: this subscription was revoked", body)
                self.assertNotIn(b"BEGIN:VEVENT", body)
                if icalendar is not None:
                    self.assertEqual(list(icalendar.Calendar.from_ical(body).walk("VEVENT")), [])
                self.assertEqual(curl(d.url("/feeds/" + "1" * 64 + ".ics"))[0], 404)
            finally:
                d.stop()
        finally:
            c.cleanup()


if __name__ == "__main__":
    unittest.main()


try:
    import vobject
except ImportError:  # Debian's python3-vobject; make deps installs it
    vobject = None


class FreshFeeds(unittest.TestCase):
    """Issue 18: the daemon kept serving a team's old feed after `child set
    --team/--worker` (the ETag did not change) until some clock row changed;
    Last-Modified did not move with the body; a 304 carried Content-Length;
    X-WR-CALNAME lost everything after a comma in python-vobject."""

    def setUp(self):
        self.c = Council()
        c = self.c
        c.cli("staff", "add", "W2", "--name", "Will Worker", "--email", "w2@council.example", "--role", "worker")
        c.cli("team", "set", "T1", "--name", "Smith, Jones; East")
        c.cli("child", "add", "C1", "--dob", "2015-03-02", "--team", "T1", "--worker", "W1", "--initials", "AB")
        c.cli("event", "add", "C1", "looked_after_start", "2026-10-01", today="2026-11-10")
        c.cli("event", "add", "C1", "placement_start", "2026-10-01", today="2026-11-10")
        out = c.cli("feed", "add", "--team", "T1").stdout
        self.path = re.search(r"(/feeds/[0-9a-f]{64}\.ics)", out).group(1)
        self.d = Daemon(c, now="2026-11-20T09:00:00")
        assert self.d.wait_notify("READY=1"), self.d.stderr_lines
        self.url = self.d.url(self.path)

    def tearDown(self):
        self.d.stop()
        self.c.cleanup()

    def test_a_reassignment_is_served_at_once_and_read_by_real_clients(self):
        status, h, body = curl(self.url)
        self.assertEqual(status, 200)
        self.assertIn(b"Worker: Wendy Worker", body)
        self.c.cli("child", "set", "C1", "--worker", "W2")
        status, h2, body2 = curl("-H", "If-None-Match: " + h["etag"], "-H",
                                 "If-Modified-Since: " + h["last-modified"], self.url)
        self.assertEqual(status, 200)  # not 304: the feed changed
        self.assertNotEqual(h2["etag"], h["etag"])
        # Last-Modified is when the body changed: later than before
        import email.utils
        self.assertGreater(email.utils.parsedate_to_datetime(h2["last-modified"]),
                           email.utils.parsedate_to_datetime(h["last-modified"]))
        # A client validating by date alone also gets the new body.
        self.assertEqual(curl("-H", "If-Modified-Since: " + h["last-modified"], self.url)[0], 200)
        if icalendar is not None:
            cal = icalendar.Calendar.from_ical(body2)
            descs = [str(e["DESCRIPTION"]) for e in cal.walk("VEVENT")]
            self.assertTrue(descs and all("Will Worker" in d for d in descs if "Worker:" in d))
        if vobject is None:
            self.skipTest("python3-vobject not installed")
        cal = vobject.readOne(body2.decode("utf-8"))
        self.assertEqual(cal.contents["x-wr-calname"][0].value, "careclock: Smith Jones East")
        workers = [e.description.value for e in cal.vevent_list if "Worker:" in e.description.value]
        self.assertTrue(workers)
        self.assertTrue(all("Will Worker" in w for w in workers), workers)
        # Overdue clocks are also on today, one event per child.
        today = [e for e in cal.vevent_list if e.uid.value == "C1-overdue-today-0@careclock"]
        self.assertEqual(len(today), 1)
        self.assertEqual(str(today[0].dtstart.value), "2026-11-20")

    def test_304_has_no_content_length_and_gzip_has_its_own_etag(self):
        _, h, body = curl(self.url)
        status, h304, body304 = curl("-H", "If-None-Match: " + h["etag"], self.url)
        self.assertEqual(status, 304)
        self.assertNotIn("content-length", h304)
        self.assertEqual(body304, b"")
        status, hz, gz = curl("-H", "Accept-Encoding: gzip", self.url)
        self.assertEqual((status, hz.get("content-encoding")), (200, "gzip"))
        self.assertIn("Accept-Encoding", hz.get("vary", ""))
        self.assertNotEqual(hz["etag"], h["etag"])
        import gzip
        self.assertEqual(gzip.decompress(gz), body)
        self.assertEqual(curl("-H", "Accept-Encoding: gzip", "-H", "If-None-Match: " + hz["etag"], self.url)[0], 304)
        # the plain ETag does not validate the gzip body
        self.assertEqual(curl("-H", "Accept-Encoding: gzip", "-H", "If-None-Match: " + h["etag"], self.url)[0], 200)
