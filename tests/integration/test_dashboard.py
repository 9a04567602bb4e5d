"""The web dashboard (issue 20) against the real careclockd on loopback.

- Signing in by a link e-mailed through careclock's own mail channel (a real
  SMTP server, aiosmtpd) and by the proxy's identity header; the header from
  an address that is not a proxy's is refused, logged and audited.
- Each role sees exactly what it may and gets 403 for the rest, on a direct
  URL, for every page and the CSV download.
- A POST without its CSRF token, or from another site, is refused.
- Decisions (issue 17) through the dashboard: the forms to extend, except
  and acknowledge a clock are offered only to the roles its rule allows
  (config/rules/england.rules: extend_by, except_by), and the server checks
  again (403); a team manager extends an assessment in Chromium and the next
  digest follows the agreed date while the statutory due date stays shown.
- The timeliness page's figures and its CSV equal `careclock report
  timeliness --format csv` for the same period; clocks count for whoever
  held the child on the due date.
- A real Chromium (Debian's chromium and chromium-driver, driven by
  python3-selenium, headless) signs in both ways, opens every page, has
  axe-core (the pinned npm package) check each for WCAG 2.2 A/AA, and takes
  screenshots into build/test-logs/<run>/screenshots (docs/dashboard.md
  describes them). One browser for the whole module. If Chromium cannot
  start, the tests fail: they never skip.

Dates: the daemon runs with --now 2026-11-30T10:00 (a Monday) and the CLI
with --today 2026-11-30, so nothing depends on the real date."""
import csv
import email
import email.policy
import html.parser
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from daemon_harness import BUILD, CLI, Daemon, wait_until
from test_delivery import Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TODAY = "2026-11-30"
NOW = "2026-11-30T10:00:00"
AXE = os.path.join(ROOT, "web", "node_modules", "axe-core", "axe.min.js")
LOGS = os.environ.get("CARECLOCK_TEST_LOGS", os.path.join(ROOT, "build", "test-logs", "dashboard"))
SHOTS = os.path.join(LOGS, "screenshots")

STAFF = [("W1", "Wendy Worker", "worker"), ("W2", "Walter Worker", "worker"), ("TM1", "Tom Manager", "team_manager"),
         ("TM2", "Tara Manager", "team_manager"), ("SM1", "Sam Service", "service_manager"),
         ("IRO1", "Ida Reviewing", "iro"), ("V1", "Vera Viewer", "viewer"), ("X1", "Xavier Newstarter", "worker")]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Council:
    """Two teams under one service manager; four children, one of whom moved
    from West to East on 1 September, one whose data is in error."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "plan.db")
        self.cli("init")
        for sid, name, role in STAFF:
            self.cli("staff", "add", sid, "--name", name, "--email", "%s@council.example" % sid.lower(), "--role",
                     role)
        self.cli("team", "add", "T1", "--name", "East", "--manager", "TM1", "--service-manager", "SM1")
        self.cli("team", "add", "T2", "--name", "West", "--manager", "TM2", "--service-manager", "SM1")
        self.cli("child", "add", "C1", "--dob", "2015-01-01", "--team", "T1", "--worker", "W1", "--iro", "IRO1",
                 "--initials", "A.B.", today="2026-03-01")
        self.cli("child", "add", "C2", "--dob", "2013-06-01", "--team", "T2", "--worker", "W2", "--initials", "C.D.",
                 today="2026-03-01")
        self.cli("child", "add", "C3", "--dob", "2012-05-05", "--team", "T2", "--worker", "W2", "--iro", "IRO1",
                 "--initials", "E.F.", today="2026-03-01")
        self.cli("child", "add", "C4", "--dob", "2014-02-02", "--team", "T1", "--worker", "W2", "--initials", "G.H.",
                 today="2026-03-01")
        # C1: in care since March; care plan on time, first review late, visits.
        for args in [("C1", "looked_after_start", "2026-03-02"), ("C1", "placement_start", "2026-03-02"),
                     ("C1", "care_plan_completed", "2026-03-10"), ("C1", "review_held", "2026-04-15"),
                     ("C1", "visit", "2026-03-06"), ("C1", "pep_completed", "2026-03-05"),
                     # C2: in care since April, with West; moved to East on 1 September (below).
                     ("C2", "looked_after_start", "2026-04-01"), ("C2", "placement_start", "2026-04-01"),
                     ("C2", "care_plan_completed", "2026-04-30"), ("C2", "review_held", "2026-04-28"),
                     ("C2", "visit", "2026-04-05"), ("C2", "visit", "2026-10-01"),
                     # C3: placed a month ago: care plan overdue, first review due soon.
                     ("C3", "looked_after_start", "2026-11-04"), ("C3", "placement_start", "2026-11-04")]:
            self.cli("event", "add", *args)
        self.cli("child", "set", "C2", "--team", "T1", "--worker", "W1", "--from", "2026-09-01")
        con = sqlite3.connect(self.db)
        with con:  # a date no engine can read: C4's data is in error
            con.execute("INSERT INTO events (child_id, type, date, source) VALUES ('C4', 'visit', '31/02/2026', 'mis')")
        con.close()

    def cli(self, *args, today=TODAY, check=True):
        when = ["--today", today] if today else []
        p = subprocess.run([CLI, "--db", self.db] + when + list(args), capture_output=True, text=True)
        if check and p.returncode not in (0, 3):
            raise AssertionError("careclock %s: %s" % (" ".join(args), p.stderr))
        return p

    def cli_bytes(self, *args, today=TODAY):
        """stdout as bytes (a CSV's CRLF kept)."""
        p = subprocess.run([CLI, "--db", self.db, "--today", today] + list(args), capture_output=True)
        if p.returncode not in (0, 3):
            raise AssertionError("careclock %s: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def query(self, sql, *args):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()


class Client:
    """HTTP/1.1 to the daemon with a cookie jar of its own (optionally from
    another loopback address, as a client the proxy is not)."""

    def __init__(self, port, source="127.0.0.1"):
        self.port, self.source, self.cookies = port, source, {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(self.source, 0))
        h = {"Host": "127.0.0.1:%d" % self.port}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if body is not None:
            body = urllib.parse.urlencode(body)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        for value in r.headers.get_all("Set-Cookie") or []:
            name, rest = value.split("=", 1)
            val = rest.split(";", 1)[0]
            if "Max-Age=0" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val
        conn.close()
        return r.status, r.headers, data.decode("utf-8", "replace")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body=body, **kw)


def csrf_of(page):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    return m.group(1) if m else None


class World:
    """One council, one SMTP sink, three daemons: sign-in by e-mail (the
    browser's), by proxy, and by e-mail behind an https:// public URL."""

    @classmethod
    def setUpClass(cls):
        cls.council = Council()
        cls.mail_dir = os.path.join(cls.council.dir, "mail")
        cls.smtp = Server("mailsink.py", cls.mail_dir)
        cls.port = free_port()
        smtp = "[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = careclock@council.example\ntls = none\n" % cls.smtp.port
        quiet = "[notify]\nwindow = 23:58-23:59\n"  # no reminders during the test: only sign-in mail
        email_conf = cls.council.write("email.conf", "[http]\npublic_url = http://127.0.0.1:%d\n[web]\nauth = email\n"
                                       % cls.port + smtp + quiet)
        proxy_conf = cls.council.write("proxy.conf", "[web]\nauth = proxy\nproxy_addresses = 127.0.0.1\n"
                                       "proxy_signout_url = https://sso.council.example/logout\n" + quiet)
        tls_conf = cls.council.write("tls.conf", "[http]\npublic_url = https://careclock.council.example\n"
                                     "[web]\nauth = email\n" + smtp + quiet)
        cls.daemons = []
        cls.email = cls.start(email_conf, "127.0.0.1:%d" % cls.port)
        cls.proxy = cls.start(proxy_conf, "127.0.0.1:0")
        cls.tls = cls.start(tls_conf, "127.0.0.1:0")
        cls.sessions = {}

    @classmethod
    def start(cls, conf, listen):
        d = Daemon(cls.council, now=NOW, config=conf, extra=("--listen", listen))
        cls.daemons.append(d)
        if not d.wait_notify("READY=1"):
            raise AssertionError("careclockd did not start:\n" + "\n".join(d.stderr_lines))
        return d

    @classmethod
    def tearDownClass(cls):
        for d in cls.daemons:
            d.stop()
        cls.smtp.stop()
        cls.council.tmp.cleanup()

    # ---- helpers -------------------------------------------------------------

    def mails_to(self, address):
        out = []
        if os.path.isdir(self.mail_dir):
            for name in sorted(os.listdir(self.mail_dir)):
                if name.endswith(".json"):
                    with open(os.path.join(self.mail_dir, name)) as f:
                        meta = json.load(f)
                    if address in meta["rcpt_tos"]:
                        with open(os.path.join(self.mail_dir, name[:-5] + ".eml"), "rb") as f:
                            out.append(f.read().decode())
        return out

    def link_for(self, address, before):
        """The sign-in link of the next mail to address after `before` mails."""
        self.assertTrue(wait_until(lambda: len(self.mails_to(address)) > before, timeout=20),
                        "no sign-in mail to %s" % address)
        mail = self.mails_to(address)[before]
        self.assertIn("Subject: Sign in to careclock", mail)
        m = re.search(r"(https?://\S+)/sign-in/([0-9a-f]{64})", mail)
        self.assertIsNotNone(m, mail)
        return m.group(1), m.group(2)

    def sign_in(self, staff, daemon=None):
        """A client signed in as staff by the e-mailed link, over HTTP."""
        daemon = daemon or self.email
        if daemon is self.email and staff in self.sessions:
            return self.sessions[staff]
        c = Client(daemon.port())
        address = "%s@council.example" % staff.lower()
        before = len(self.mails_to(address))
        status, _, page = c.get("/sign-in")
        self.assertEqual(status, 200)
        status, _, page = c.post("/sign-in", {"csrf": csrf_of(page), "email": address.upper(), "next": ""})
        self.assertEqual(status, 200, page)
        self.assertIn("Check your e-mail", page)
        _, token = self.link_for(address, before)
        status, _, page = c.get("/sign-in/" + token)
        self.assertEqual(status, 200)
        status, headers, _ = c.post("/sign-in/" + token, {"csrf": csrf_of(page)})
        self.assertEqual(status, 303)
        self.assertIn("cc_session", c.cookies)
        if daemon is self.email:
            self.sessions[staff] = c
        return c


class Dashboard(World, unittest.TestCase):
    """Over HTTP: signing in, who sees what, forms, the figures."""

    # ---- signing in ------------------------------------------------------------

    def test_sign_in_by_email_link_sets_a_strict_session_cookie(self):
        c = Client(self.email.port())
        status, headers, _ = c.get("/")
        self.assertEqual((status, headers["Location"]), (303, "/sign-in"))
        status, headers, page = c.get("/sign-in")
        self.assertIn("HttpOnly", headers["Set-Cookie"])
        before = len(self.mails_to("w1@council.example"))
        c.post("/sign-in", {"csrf": csrf_of(page), "email": "w1@council.example", "next": "/children/C1"})
        base, token = self.link_for("w1@council.example", before)
        self.assertEqual(base, "http://127.0.0.1:%d" % self.port)  # [http] public_url, never the Host header
        status, _, page = c.get("/sign-in/" + token)
        self.assertIn("Sign in to careclock", page)
        status, headers, _ = c.post("/sign-in/" + token, {"csrf": csrf_of(page)})
        self.assertEqual((status, headers["Location"]), (303, "/children/C1"))  # back where the e-mail pointed
        cookie = [v for v in headers.get_all("Set-Cookie") if v.startswith("cc_session=")][0]
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=36000"):
            self.assertIn(attribute, cookie)
        self.assertNotIn("Secure", cookie)  # plain http:// public URL
        self.assertEqual(c.get("/children/C1")[0], 200)
        # The link works once; only its hash is stored.
        other = Client(self.email.port())
        _, _, page = other.get("/sign-in/" + token)
        status, _, page = other.post("/sign-in/" + token, {"csrf": csrf_of(page)})
        self.assertEqual(status, 403)
        self.assertIn("This sign-in link does not work", page)
        self.assertEqual(self.council.query("SELECT count(*) FROM web_signin WHERE token_hash = ?", token), [(0,)])
        self.assertEqual(self.council.query("SELECT count(*) FROM web_sessions WHERE token_hash = ?",
                                            c.cookies["cc_session"]), [(0,)])
        self.assertTrue(self.council.query("SELECT 1 FROM web_audit WHERE action = 'signin' AND outcome = 'used'"))
        # Signing out ends the session at once.
        status, _, page = c.get("/my-work")
        status, headers, _ = c.post("/sign-out", {"csrf": csrf_of(page)})
        self.assertEqual((status, headers["Location"]), (303, "/sign-in?signed-out=1"))
        c.cookies["cc_session"] = re.search(r"cc_session=([0-9a-f]+)", cookie).group(1)
        status, headers, _ = c.get("/my-work")
        self.assertEqual((status, headers["Location"]), (303, "/sign-in?next=%2Fmy-work"))

    def test_an_unknown_address_gets_the_same_answer_and_no_mail(self):
        c = Client(self.email.port())
        _, _, page = c.get("/sign-in")
        before = len(os.listdir(self.mail_dir)) if os.path.isdir(self.mail_dir) else 0
        status, _, answer = c.post("/sign-in", {"csrf": csrf_of(page), "email": "nobody@elsewhere.example"})
        self.assertEqual(status, 200)
        self.assertIn("If <strong>nobody@elsewhere.example</strong> is the address careclock has for you", answer)
        time.sleep(0.5)
        after = len(os.listdir(self.mail_dir)) if os.path.isdir(self.mail_dir) else 0
        self.assertEqual(before, after)
        self.assertTrue(self.council.query("SELECT 1 FROM web_audit WHERE action = 'signin_request' AND "
                                           "outcome = 'unknown_address'"))
        status, _, answer = c.post("/sign-in", {"csrf": csrf_of(page), "email": "not an address"})
        self.assertEqual(status, 400)
        self.assertIn("Enter an e-mail address in the correct format", answer)

    def test_secure_cookie_behind_an_https_public_url(self):
        c = self.sign_in("TM2", daemon=self.tls)
        self.assertTrue(c.cookies["cc_session"])
        # The cookie carried Secure: checked on the answer itself.
        c2 = Client(self.tls.port())
        address = "tm2@council.example"
        before = len(self.mails_to(address))
        _, _, page = c2.get("/sign-in")
        c2.post("/sign-in", {"csrf": csrf_of(page), "email": address})
        base, token = self.link_for(address, before)
        self.assertEqual(base, "https://careclock.council.example")
        _, _, page = c2.get("/sign-in/" + token)
        _, headers, _ = c2.post("/sign-in/" + token, {"csrf": csrf_of(page)})
        cookie = [v for v in headers.get_all("Set-Cookie") if v.startswith("cc_session=")][0]
        self.assertIn("; Secure", cookie)

    def test_proxy_header_signs_in_only_from_a_proxy_address(self):
        port = self.proxy.port()
        ok = Client(port)
        status, _, page = ok.get("/my-work", headers={"X-Remote-Email": "TM1@council.example"})
        self.assertEqual(status, 200)
        self.assertIn("Signed in as <strong>Tom Manager</strong>", page)
        self.assertIn('href="https://sso.council.example/logout">Sign out</a>', page)
        self.assertEqual(ok.get("/teams/T1", headers={"X-Remote-Email": "tm1@council.example"})[0], 200)
        self.assertEqual(ok.get("/teams/T2", headers={"X-Remote-Email": "tm1@council.example"})[0], 403)
        # No header: not signed in (the proxy signs people in, careclock does not).
        self.assertEqual(ok.get("/my-work")[0], 403)
        # Someone careclock does not know.
        status, _, page = ok.get("/my-work", headers={"X-Remote-Email": "stranger@council.example"})
        self.assertEqual(status, 403)
        self.assertIn("careclock does not know you", page)
        # The same header from an address that is not the proxy's: refused, logged, audited.
        for daemon in (self.proxy, self.email):
            rogue = Client(daemon.port(), source="127.0.0.2")
            status, _, page = rogue.get("/my-work", headers={"X-Remote-Email": "sm1@council.example"})
            self.assertEqual(status, 403)
            self.assertIn("did not come through the council&#39;s sign-on", page)
            self.assertTrue(daemon.wait_log("carried the identity header X-Remote-Email but is not from a "
                                            "configured proxy"))
        self.assertGreaterEqual(self.council.query("SELECT count(*) FROM web_audit WHERE action = 'proxy_header' AND "
                                                   "outcome = 'refused' AND client = '127.0.0.2'")[0][0], 2)

    def test_a_post_without_its_csrf_token_is_refused(self):
        c = self.sign_in("TM1")
        status, _, page = c.get("/my-work")
        token = csrf_of(page)
        self.assertEqual(c.post("/sign-out", {})[0], 403)
        self.assertEqual(c.post("/sign-out", {"csrf": "0" * 64})[0], 403)
        self.assertEqual(c.post("/sign-out", {"csrf": token}, headers={"Origin": "https://evil.example"})[0], 403)
        # Still signed in: nothing was done.
        self.assertEqual(c.get("/my-work")[0], 200)
        anon = Client(self.email.port())
        self.assertEqual(anon.post("/sign-in", {"email": "w1@council.example"})[0], 403)
        self.assertTrue(self.council.query("SELECT 1 FROM web_audit WHERE action = 'post' AND outcome = 'refused' "
                                           "AND staff_id = 'TM1'"))

    # ---- decisions ---------------------------------------------------------------------

    def decision_rows(self):
        return self.council.query("SELECT kind, child_id, rule_id, by_staff, via, actor FROM decisions ORDER BY id")

    def clock_form(self, page, kind, rule):
        """The hidden fields of the page's form of kind about rule's clock, or None."""
        for m in re.finditer(r'<form method="post" novalidate action="([^"]+)">(.*?)</form>', page, re.S):
            fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', m.group(2)))
            if fields.get("kind") == kind and fields.get("clock") == rule:
                return m.group(1), fields
        return None

    def test_decision_forms_only_for_the_roles_the_rule_allows_and_403_on_a_direct_post(self):
        """config/rules/england.rules: the review may not be extended by anyone
        (extend_by = none: CPPCR 2010 reg 33 sets its dates), the health
        assessment's exceptions are the team manager's or service manager's
        (except_by); a worker gets no such form, and a POST made by hand
        with a valid token is refused 403 and audited; a viewer gets no form
        at all and is refused too."""
        before = self.decision_rows()
        w1 = self.sign_in("W1")
        status, _, page = w1.get("/children/C1")
        self.assertEqual(status, 200)
        self.assertNotIn('name="kind" value="extend"', page)
        self.assertNotIn('name="kind" value="except"', page)
        token = csrf_of(page)
        m = re.search(r'id="clock-review-1"', page)
        self.assertIsNotNone(m)
        instance = self.council.query("SELECT instance FROM clocks WHERE child_id = 'C1' AND rule_id = 'review' "
                                      "AND seq = 2")
        self.assertTrue(instance)
        for form in ({"kind": "extend", "clock": "review", "instance": instance[0][0], "seq": "2",
                      "to": "2027-06-01", "reason": "by hand"},
                     {"kind": "except", "clock": "health_assessment", "instance": "x.1", "seq": "1",
                      "code": "declined"}):
            status, _, refused = w1.post("/children/C1/decisions", dict(form, csrf=token))
            self.assertEqual(status, 403, refused[:300])
            self.assertIn("You cannot take this decision", refused)
        self.assertEqual(self.decision_rows(), before)
        self.assertTrue(self.council.query("SELECT 1 FROM web_audit WHERE action = 'decision' AND outcome = "
                                           "'refused' AND staff_id = 'W1'"))
        self.assertTrue(self.email.wait_log("dashboard: W1 may not extend C1/review/"))
        # The team manager of C1's team is offered the health assessment's exception,
        # not the permanence plan's extension ...
        _, _, page = self.sign_in("TM1").get("/children/C1")
        self.assertIsNotNone(self.clock_form(page, "except", "health_assessment"))
        self.assertIsNone(self.clock_form(page, "extend", "review"))
        self.assertIsNone(self.clock_form(page, "extend", "permanence_plan"))
        # ... which is the IRO's to agree (seeds/001 standard 8: "the IRO must
        # inform the Service Manager and agree a timescale"; extend_by = iro,
        # service_manager), and C1's service manager's.
        _, _, page = self.sign_in("IRO1").get("/children/C1")
        self.assertIsNotNone(self.clock_form(page, "extend", "permanence_plan"))
        self.assertIsNone(self.clock_form(page, "except", "health_assessment"))
        _, _, page = self.sign_in("SM1").get("/children/C1")
        self.assertIsNotNone(self.clock_form(page, "extend", "permanence_plan"))
        # A viewer: no form at all, and a POST is refused.
        v1 = self.sign_in("V1")
        _, _, page = v1.get("/children/C1")
        self.assertNotIn("/decisions\"", page)
        status, _, _ = v1.post("/children/C1/decisions", {"csrf": csrf_of(page), "kind": "ack", "clock": "review",
                                                          "instance": instance[0][0], "until": "2026-12-10"})
        self.assertEqual(status, 403)
        # Not theirs to see at all: the same 403 as the page.
        self.assertEqual(w1.post("/children/C3/decisions", {"csrf": token, "kind": "ack"})[0], 403)
        self.assertEqual(self.decision_rows(), before)

    def test_a_worker_acknowledges_a_clock_post_redirect_get_with_a_banner(self):
        """Issue 17 item 3: a recipient of a clock's stages holds their own for
        a time, at most 92 days (CC_DECISION_ACK_MAX_DAYS). W1 gets the
        review's -1wd reminder, so is offered the form; a longer hold comes
        back naming the field; a good one is recorded (via web, actor
        web:W1) and the browser is sent back to the page, which says so."""
        w1 = self.sign_in("W1")
        _, _, page = w1.get("/children/C1")
        action, fields = self.clock_form(page, "ack", "review")
        before = self.decision_rows()
        status, _, sent_back = w1.post(action, dict(fields, until="2027-06-30", note="on leave"))
        self.assertEqual(status, 400)
        self.assertIn('<a href="#clock-review-%s-ack-until">' % fields["seq"], sent_back)
        self.assertIn("92", sent_back)
        self.assertEqual(self.decision_rows(), before)
        status, headers, _ = w1.post(action, dict(fields, until="2026-12-10", note="on leave"))
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/children/C1?decided=ack")
        self.assertEqual(self.decision_rows()[len(before):], [("ack", "C1", "review", "W1", "web", "web:W1")])
        self.assertEqual(self.council.query("SELECT until, reason, by_role FROM decisions ORDER BY id DESC LIMIT 1"),
                         [("2026-12-10", "on leave", "worker")])
        status, _, page = w1.get(headers["Location"])
        self.assertEqual(status, 200)
        self.assertIn("govuk-notification-banner--success", page)
        self.assertIn("Your acknowledgement is recorded", page)
        self.assertIn("Acknowledgement: held until <time datetime=\"2026-12-10\">", page)
        self.assertTrue(self.email.wait_log("dashboard: W1 recorded decision"))

    def test_a_decision_post_without_its_csrf_token_is_refused(self):
        c = self.sign_in("TM1")
        _, _, page = c.get("/children/C1")
        action, fields = self.clock_form(page, "except", "health_assessment")
        self.assertEqual(action, "/children/C1/decisions")
        before = self.decision_rows()
        form = dict(fields, code="declined")
        del form["csrf"]
        self.assertEqual(c.post(action, form)[0], 403)
        self.assertEqual(c.post(action, dict(form, csrf="0" * 64))[0], 403)
        self.assertEqual(c.post(action, dict(form, csrf=fields["csrf"]), headers={"Origin": "https://evil.example"})[0],
                         403)
        self.assertEqual(self.decision_rows(), before)

    def test_a_decision_form_sent_back_names_the_field_in_an_error_summary(self):
        """GOV.UK's error summary: "There is a problem", a link to the field,
        the field's own message; nothing recorded."""
        c = self.sign_in("TM1")
        _, _, page = c.get("/children/C1")
        action, fields = self.clock_form(page, "except", "health_assessment")
        before = self.decision_rows()
        status, _, page = c.post(action, dict(fields, code="", note="kept as typed"))
        self.assertEqual(status, 400)
        self.assertIn("<title>Error: Child C1", page)
        self.assertIn("There is a problem", page)
        # The field's id: its clock's section id (the rule id escaped as an
        # HTML id, "_" as "_5f"), the form and the field.
        anchor = "clock-health_5fassessment-%s-except-code" % fields["seq"]
        self.assertIn('<a href="#%s">Choose the reason for the exception</a>' % anchor, page)
        self.assertIn('id="%s-error"' % anchor, page)
        self.assertIn("kept as typed", page)
        # A reason the rule does not list: cc_decisions_add's own words.
        status, _, page = c.post(action, dict(fields, code="too_busy"))
        self.assertEqual(status, 400)
        self.assertIn("too_busy", page)
        self.assertEqual(self.decision_rows(), before)

    # ---- who sees what -------------------------------------------------------------

    PAGES = ["/my-work", "/children/C1", "/children/C2", "/children/C3", "/children/C4", "/teams/T1", "/teams/T2",
             "/service", "/timeliness", "/timeliness?team=T1", "/timeliness?team=T2", "/timeliness.csv?team=T1",
             "/timeliness.csv?team=T2", "/timeliness.csv?team=*"]
    # What each may see (the rest: 403). W1 holds C1 and C2 (since September);
    # W2 holds C3 and C4; IRO1 reviews C1 and C3; TM1 manages East (C1, C2,
    # C4), TM2 West (C3); SM1 both; V1 everything; X1 nothing.
    ALLOWED = {
        "W1": {"/my-work", "/children/C1", "/children/C2"},
        "W2": {"/my-work", "/children/C3", "/children/C4"},
        "IRO1": {"/my-work", "/children/C1", "/children/C3"},
        "TM1": {"/my-work", "/children/C1", "/children/C2", "/children/C4", "/teams/T1", "/timeliness",
                "/timeliness?team=T1", "/timeliness.csv?team=T1", "/timeliness.csv?team=*"},
        "TM2": {"/my-work", "/children/C3", "/teams/T2", "/timeliness", "/timeliness?team=T2",
                "/timeliness.csv?team=T2", "/timeliness.csv?team=*"},
        "SM1": set(PAGES),
        "V1": set(PAGES),
        "X1": {"/my-work"},
    }

    def test_each_role_sees_exactly_what_it_may(self):
        for staff, allowed in sorted(self.ALLOWED.items()):
            c = self.sign_in(staff)
            for path in self.PAGES:
                with self.subTest(staff=staff, path=path):
                    status, _, page = c.get(path)
                    self.assertEqual(status, 200 if path in allowed else 403, page[:300])
        # Not signed in: every page leads to the sign-in page, and back.
        anon = Client(self.email.port())
        for path in self.PAGES:
            status, headers, _ = anon.get(path)
            self.assertEqual(status, 303, path)
            self.assertTrue(headers["Location"].startswith("/sign-in?next=%2F"), headers["Location"])
        # A page that does not exist is 404 to anyone; a child that does not
        # exist is 404 to a viewer and 403 to others (no telling who exists).
        self.assertEqual(anon.get("/nothing-here")[0], 404)
        self.assertEqual(self.sign_in("V1").get("/children/NOPE")[0], 404)
        self.assertEqual(self.sign_in("W1").get("/children/NOPE")[0], 403)
        self.assertTrue(self.email.wait_log("dashboard: GET /children/C3 refused to W1 (child)"))

    def test_my_work_shows_each_their_own(self):
        _, _, page = self.sign_in("W2").get("/my-work")
        self.assertIn("C3 (E.F.)", page)
        self.assertIn("C4 (G.H.)", page)
        self.assertNotIn("C1 (A.B.)", page)
        # The data-error child first, with why.
        self.assertLess(page.index("C4 (G.H.)"), page.index("C3 (E.F.)"))
        self.assertIn("Cannot be computed", page)
        _, _, page = self.sign_in("TM1").get("/my-work")
        self.assertIn("East: Wendy Worker (W1)", page)
        self.assertIn("East: Walter Worker (W2)", page)
        self.assertNotIn("C3 (E.F.)", page)
        _, _, page = self.sign_in("IRO1").get("/my-work")
        self.assertIn("Children you review", page)
        self.assertIn("C3 (E.F.)", page)
        _, _, page = self.sign_in("X1").get("/my-work")
        self.assertIn("Nothing needs action", page)
        _, _, page = self.sign_in("SM1").get("/my-work")
        self.assertIn("Your teams", page)

    def test_child_page_explains_each_clock_as_explain_does(self):
        status, _, page = self.sign_in("W1").get("/children/C1")
        self.assertEqual(status, 200)
        explained = self.council.cli("explain", "C1", "review", "1").stdout
        first_line = explained.splitlines()[0]
        self.assertIn(html_escape(first_line), page)
        self.assertIn('id="clock-review-1"', page)
        self.assertIn("Reminders and escalations", page)

    # ---- timeliness ---------------------------------------------------------------------

    def test_timeliness_page_and_csv_equal_the_cli_report(self):
        c = self.sign_in("SM1")
        self.wait_fresh(c)
        cases = [({"from": "2026-04-01", "to": TODAY, "by": "month", "team": "T1"},
                  ["--from", "2026-04-01", "--to", TODAY, "--by", "month", "--team", "T1"]),
                 ({"from": "2026-01-01", "to": TODAY, "by": "quarter", "team": "*", "worker": "1"},
                  ["--from", "2026-01-01", "--to", TODAY, "--by", "quarter", "--worker"]),
                 ({"from": "2026-04-01", "to": "2027-03-31", "by": "year", "team": "T2", "clock": "review"},
                  ["--from", "2026-04-01", "--to", "2027-03-31", "--by", "year", "--team", "T2", "--clock",
                   "review"]),
                 ({"from": "2026-03-01", "to": TODAY, "by": "none", "team": "*"},
                  ["--from", "2026-03-01", "--to", TODAY])]
        # Every team together: the CLI's totals are the page's figures.
        status, _, page = c.get("/timeliness?" + urllib.parse.urlencode({"from": "2026-03-01", "to": TODAY,
                                                                          "by": "month", "team": ""}))
        self.assertEqual(status, 200)
        cli = self.council.cli_bytes("report", "timeliness", "--format", "csv", "--from", "2026-03-01", "--to", TODAY,
                                     "--by", "month").decode()
        totals = {r[:2] + r[4:11] for r in csv_figures(cli, True, False) if r[-1] == "total"}
        shown = {r[:2] + r[4:11] for r in page_figures(page)}
        self.assertEqual(shown, totals)
        for params, args in cases:
            with self.subTest(params=params):
                query = urllib.parse.urlencode(params)
                status, headers, body = c.get("/timeliness.csv?" + query)
                self.assertEqual(status, 200)
                self.assertEqual(headers["Content-Type"], "text/csv; charset=utf-8")
                self.assertIn("attachment;", headers["Content-Disposition"])
                self.assertTrue(body.startswith("\ufeff"))  # so that Excel reads UTF-8
                cli = self.council.cli_bytes("report", "timeliness", "--format", "csv", *args).decode()
                self.assertEqual(body[1:], cli)  # the very bytes, CRLF and all
                self.assertGreater(len(cli.splitlines()), 2)
                # The page shows the same figures (every row it shows is a CSV row).
                status, _, page = c.get("/timeliness?" + query)
                self.assertEqual(status, 200)
                shown = page_figures(page)
                rows = csv_figures(cli, params.get("by", "none") != "none", "worker" in params)
                self.assertTrue(shown)
                for row in shown:
                    self.assertIn(row, rows)
                # ... and every team (or worker) row of the CSV.
                self.assertEqual({r for r in rows if r[-1] != "total"}, {r for r in shown if r[-1] != "total"})

    def test_clocks_count_for_who_held_the_child_on_the_due_date(self):
        """C2 was West's (W2) until 1 September, then East's (W1): its care plan
        and first review, due in April, count for West and W2; its clocks due
        since September for East and W1; the page's CSV says the same."""
        detail = self.council.cli_bytes("report", "timeliness", "--format", "csv", "--detail", "--worker", "--to",
                                        "2027-03-31").decode()
        rows = [r for r in csv.DictReader(io.StringIO(detail)) if r["child"] == "C2"]
        self.assertTrue(rows)
        for r in rows:
            expect = ("T2", "W2") if r["due"] < "2026-09-01" else ("T1", "W1")
            self.assertEqual((r["team"], r["worker"]), expect, r)
        self.assertTrue(any(r["due"] < "2026-09-01" for r in rows) and any(r["due"] >= "2026-09-01" for r in rows))
        c = self.sign_in("TM2")
        self.wait_fresh(c)
        status, _, body = c.get("/timeliness.csv?team=T2&from=2026-04-01&to=2026-08-31&clock=care_plan&by=none")
        self.assertEqual(status, 200)
        row = next(r for r in csv.DictReader(io.StringIO(body[1:])) if r["scope"] == "team")
        self.assertEqual((row["team"], row["due"]), ("T2", "1"))  # C2's plan, due in April: West's then

    def test_cli_report_divides_by_reporting_year_and_warns_outside_the_calendar(self):
        out = self.council.cli("report", "timeliness", "--by", "year", "--from", "2026-04-01", "--to", TODAY,
                               "--format", "json")
        self.assertEqual(out.returncode, 0)
        data = json.loads(out.stdout)
        self.assertEqual({p["period"] for c in data["clocks"] for p in c["periods"]}, {"2026-27"})
        self.assertNotRegex(out.stdout, r"\d\.\d{3,}")  # percentages to one decimal
        # 2017-18 lies outside the holiday calendar (2018-2028): exit 3 with the warning, every time.
        for _ in range(2):
            p = self.council.cli("report", "timeliness", "--from", "2017-04-01", "--to", "2018-03-31", check=False)
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertIn("reaches outside 2018-2028", p.stderr)

    def wait_fresh(self, client):
        """Until the figures are built from the data as it is now."""
        self.assertTrue(wait_until(lambda: "being updated" not in client.get("/timeliness")[2], timeout=30))


def html_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace(
        "'", "&#39;")


class _Tables(html.parser.HTMLParser):
    """The "Every figure" tables of the timeliness page: caption, rows of cells."""

    def __init__(self):
        super().__init__()
        self.tables, self.cell, self.in_every = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and self.in_every:
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption" and self.tables and self.in_every:
            self.cell = ""
        elif tag == "tr" and self.tables and self.in_every:
            # A total row is marked so (class cc-total); its kind goes last.
            self.tables[-1]["rows"].append([])
            self.tables[-1].setdefault("totals", []).append("cc-total" in (dict(attrs).get("class") or ""))
        elif tag in ("td", "th") and self.tables and self.in_every:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "caption" and self.cell is not None and self.tables:
            self.tables[-1]["caption"] = self.cell.strip()
            self.cell = None
        elif tag in ("td", "th") and self.cell is not None and self.tables:
            self.tables[-1]["rows"][-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if "Every figure" in data:
            self.in_every = True
        if self.cell is not None:
            self.cell += data


def page_figures(page):
    """(clock, period, team name, worker, due, on time, late, overdue, not yet
    due, percent, cancelled, kind) for every row of the page's tables."""
    p = _Tables()
    p.feed(page)
    out = set()
    for t in p.tables:
        clock = re.search(r"\(([^()]*)\)$", t["caption"]).group(1)
        head, rows, totals = t["rows"][0], t["rows"][1:], t["totals"][1:]
        by = head[0] == "Period"
        worker = "Worker" in head
        for r, total in zip(rows, totals):
            period = r[0] if by else ""
            rest = r[1:] if by else r
            team = rest[0]
            who = rest[1] if worker else ""
            nums = rest[2:] if worker else rest[1:]
            pct = nums[5].rstrip("%").replace("no figure", "")
            kind = "total" if total else "group"
            out.add((clock, period, team, who) + tuple(nums[:5]) + (pct, nums[6], kind))
    return out


def csv_figures(text, by, worker):
    out = set()
    for r in csv.DictReader(io.StringIO(text)):
        total = r["scope"] == "total"
        team = "All teams" if total else (r["team_name"] or r["team"] or "(no team)")
        who = ""
        if worker and not total:
            who = r["worker_name"] or r["worker"] or "(no worker)"
        out.add((r["clock"], r.get("period", "") if by else "", team, who, r["due"], r["on_time"], r["late"],
                 r["overdue"], r["not_yet_due"], r["on_time_percent"], r["cancelled"], "total" if total else "group"))
    return out


# ---- the browser ------------------------------------------------------------------------

def start_browser():
    """Debian's Chromium, headless, as the brief asks; any failure to start is
    a test failure (CI installs it with make deps)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="careclock-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                "--window-size=1280,1000", "--lang=en-GB"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    driver.set_page_load_timeout(30)
    return driver, profile


class Browser(World, unittest.TestCase):
    """Chromium signs in both ways and reads every page; axe-core finds no
    serious or critical WCAG 2.2 A/AA violation on any; screenshots kept."""

    @classmethod
    def setUpClass(cls):
        World.setUpClass.__func__(cls)
        with open(AXE) as f:  # the pinned npm package (make deps)
            cls.axe = f.read()
        cls.driver, cls.profile = start_browser()
        os.makedirs(SHOTS, exist_ok=True)
        cls.checked = []

    @classmethod
    def tearDownClass(cls):
        try:
            cls.driver.quit()
        finally:
            shutil.rmtree(cls.profile, ignore_errors=True)
            World.tearDownClass.__func__(cls)

    def run_axe(self):
        self.driver.execute_script(self.axe)
        return json.loads(self.driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
            "'wcag22aa']}}).then(function (r) { done(JSON.stringify(r.violations.map(function (v) {"
            "return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) {"
            "return n.target.join(' '); })}; }))); }, function (e) { done(JSON.stringify([{id: 'axe-error', "
            "impact: 'critical', help: String(e), nodes: []}])); });"))

    def axe_check(self, name):
        """Keep a screenshot; run axe-core for WCAG 2.2 A and AA: no serious
        or critical violation."""
        d = self.driver
        height = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(1280, max(600, min(height + 40, 6000)))
        d.save_screenshot(os.path.join(SHOTS, name + ".png"))
        d.set_window_size(1280, 1000)
        bad = [v for v in self.run_axe() if v["impact"] in ("serious", "critical")]
        self.assertEqual(bad, [], "%s: %s" % (name, json.dumps(bad, indent=1)))
        self.checked.append(name)
        # The GDS Transport font is never fetched (careclock is not on GOV.UK).
        fonts = d.execute_script("return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
                                 ".filter(function (n) { return n.indexOf('/assets/fonts/') >= 0; });")
        self.assertEqual(fonts, [], name)
        # The styles loaded (a page without them would pass axe trivially).
        self.assertTrue(d.execute_script("return getComputedStyle(document.querySelector('main')).paddingTop !== '0px'"),
                        name + ": GOV.UK Frontend's styles are not applied")

    def wait_for(self, condition, what):
        """Until condition(driver) holds (a click's navigation has landed)."""
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(self.driver, 30).until(condition, message=what)

    def click(self, selector, then, what):
        """Click and wait until the next page says then."""
        from selenium.webdriver.common.by import By
        self.driver.find_element(By.CSS_SELECTOR, selector).click()
        self.wait_for(lambda d: then in d.page_source, what)

    def test_browser_sign_in_by_email_link_then_every_page(self):
        d = self.driver
        from selenium.webdriver.common.by import By
        base = "http://127.0.0.1:%d" % self.email.port()
        d.delete_all_cookies()
        # The e-mail's link to a child's page, followed while signed out.
        d.get(base + "/children/C1")
        self.assertIn("/sign-in?next=%2Fchildren%2FC1", d.current_url)
        self.axe_check("01-sign-in")
        d.find_element(By.ID, "email").send_keys("nonsense")
        self.click("form button", "There is a problem", "the error summary")
        self.axe_check("02-sign-in-error")
        address = "tm1@council.example"
        before = len(self.mails_to(address))
        field = d.find_element(By.ID, "email")
        field.clear()
        field.send_keys(address)
        self.click("form button", "Check your e-mail", "the page after asking for a link")
        self.axe_check("03-check-your-email")
        link_base, token = self.link_for(address, before)
        d.get(link_base + "/sign-in/" + token)
        self.axe_check("04-sign-in-link")
        d.find_element(By.CSS_SELECTOR, "form button").click()
        self.wait_for(lambda drv: drv.current_url.endswith("/children/C1"), "back at the child's page")
        self.assertIn("How the due date was worked out", d.page_source)
        self.axe_check("05-child")
        for name, path in [("06-my-work-team-manager", "/my-work"), ("07-team", "/teams/T1"),
                           ("08-timeliness", "/timeliness?by=month&team=T1&worker=1"),
                           ("09-timeliness-error", "/timeliness?from=2026-13-01"), ("10-forbidden", "/teams/T2"),
                           ("11-not-found", "/nothing-here")]:
            d.get(base + path)
            self.axe_check(name)
        d.get(base + "/teams/T2")
        self.assertIn("You cannot see this page", d.page_source)
        # Signing out through the button.
        d.get(base + "/my-work")
        self.click("button.cc-signout", "You have signed out", "the page after signing out")
        self.axe_check("12-signed-out")

    def browser_sign_in(self, staff):
        """Chromium signed in as staff by the e-mailed link."""
        from selenium.webdriver.common.by import By
        d = self.driver
        base = "http://127.0.0.1:%d" % self.email.port()
        d.delete_all_cookies()
        d.get(base + "/sign-in")
        address = "%s@council.example" % staff.lower()
        before = len(self.mails_to(address))
        d.find_element(By.ID, "email").send_keys(address)
        self.click("form button", "Check your e-mail", "the page after asking for a link")
        link_base, token = self.link_for(address, before)
        d.get(link_base + "/sign-in/" + token)
        d.find_element(By.CSS_SELECTOR, "form button").click()
        self.wait_for(lambda drv: drv.current_url.endswith("/my-work"), "signed in")
        return base

    def test_team_manager_extends_a_clock_and_the_next_digest_follows_the_new_date(self):
        """Working Together to Safeguard Children 2023: an assessment within 45
        working days of the referral; where it runs past them the reasons are
        recorded, and the team manager agrees the new date (england.rules:
        extend_by = team_manager, service_manager). C5, referred on Mon 2 Nov
        2026 (the decision on the referral made the next day), is due on Thu
        7 Jan 2027: 45 working days on, past Christmas Day, the Boxing Day
        substitute (Mon 28 Dec) and New Year's Day (bank holidays of England
        and Wales). Tom, its team manager, agrees Mon 15 Feb 2027 in
        Chromium. Reminders follow the agreed date: nothing at the statutory
        -10wd (Wed 16 Dec 2026); Wendy's -10wd reminder on Mon 1 Feb 2027, 10
        working days before the agreed date, in that morning's digest. The
        statutory due date stays on the page."""
        from selenium.webdriver.common.by import By
        c = self.council
        c.cli("child", "add", "C5", "--dob", "2016-06-06", "--team", "T1", "--worker", "W1", "--initials", "I.J.")
        c.cli("event", "add", "C5", "referral", "2026-11-02")
        c.cli("event", "add", "C5", "referral_decision", "2026-11-03", "outcome=assessment")
        [(due,)] = c.query("SELECT due_date FROM clocks WHERE child_id = 'C5' AND rule_id = 'assessment'")
        self.assertEqual(due, "2027-01-07")
        base = self.browser_sign_in("TM1")
        d = self.driver
        d.get(base + "/children/C5")
        card = d.find_element(By.ID, "clock-assessment-1")
        card.find_element(By.XPATH, ".//summary[contains(., 'Agree an extension')]").click()
        self.axe_check("30-child-decision-forms")
        # 31 February: sent back, the error summary names the field.
        card = d.find_element(By.ID, "clock-assessment-1")
        card.find_element(By.ID, "clock-assessment-1-extend-to").send_keys("2027-02-31")
        card.find_element(By.ID, "clock-assessment-1-extend-reason").send_keys(
            "Parent in hospital; the child was seen on 20 November and the home visit is rebooked")
        card.find_element(By.XPATH, ".//button[contains(., 'Agree the extension')]").click()
        self.wait_for(lambda drv: "There is a problem" in drv.page_source, "the error summary")
        self.assertIn('href="#clock-assessment-1-extend-to"', d.page_source)
        self.axe_check("31-decision-error")
        field = d.find_element(By.ID, "clock-assessment-1-extend-to")
        field.clear()
        field.send_keys("2027-02-15")
        d.find_element(By.XPATH, "//div[@id='clock-assessment-1']//button[contains(., 'Agree the extension')]").click()
        self.wait_for(lambda drv: "The extension is recorded" in drv.page_source, "the success banner")
        self.assertTrue(d.current_url.endswith("/children/C5?decided=extend"), d.current_url)
        card = d.find_element(By.ID, "clock-assessment-1")
        self.assertIn("open, extended to Mon 15 Feb 2027", card.text)
        self.assertIn("Thu 7 Jan 2027", card.text)          # the statutory due date is still shown
        table = d.find_element(By.ID, "decisions").find_element(By.XPATH, "following-sibling::table[1]")
        self.assertIn("Extension to Mon 15 Feb 2027", table.text)
        self.assertIn("Tom Manager (TM1), team manager", table.text)
        self.assertIn("the dashboard", table.text)
        self.axe_check("32-extension-recorded")
        self.assertEqual(c.query("SELECT kind, agreed_due, by_staff, by_role, via, actor FROM decisions "
                                 "WHERE child_id = 'C5'"),
                         [("extend", "2027-02-15", "TM1", "team_manager", "web", "web:TM1")])
        self.assertTrue(c.query("SELECT 1 FROM web_audit WHERE action = 'decision' AND outcome = 'recorded' AND "
                                "staff_id = 'TM1' AND target LIKE 'C5/assessment/%'"))
        # The digests, run as careclockd's timer runs them, at an injected time.
        conf = c.write("digest.conf", "[notify]\nwindow = 08:00-18:00\ndigest = yes\n[smtp]\nurl = "
                       "smtp://127.0.0.1:%d\nfrom = careclock@council.example\ntls = none\n" % self.smtp.port)

        def run(now):
            p = subprocess.run([CLI, "--db", c.db, "--config", conf, "deliveries", "run", "--now", now],
                               capture_output=True, text=True)
            self.assertIn(p.returncode, (0, 1), p.stderr)
            rows = json.loads(subprocess.run([CLI, "--db", c.db, "deliveries", "--child", "C5", "--format", "json"],
                                             capture_output=True, text=True, check=True).stdout)
            return [(r["recipient"], r["stage"], r["stage_date"]) for r in rows if r["clock"] == "assessment"]

        def about_c5(address):
            return [m for m in self.mails_to(address) if "C5 (I.J.)" in m]

        self.assertEqual(run("2026-12-16T09:00"), [])          # the statutory -10wd: nothing
        self.assertEqual(run("2027-01-08T09:00"), [])          # the statutory +1wd: no escalation
        self.assertEqual(about_c5("w1@council.example") + about_c5("tm1@council.example"), [])
        # Wendy's digest of Mon 1 Feb 2027 (her other children's items too) has C5's reminder.
        self.assertEqual(run("2027-02-01T09:00"), [("W1", "-10wd@2027-02-15", "2027-02-01")])
        self.assertTrue(wait_until(lambda: about_c5("w1@council.example"), timeout=20))
        [digest] = about_c5("w1@council.example")
        text = email.message_from_string(digest, policy=email.policy.default).get_body(
            preferencelist=("plain",)).get_content()
        self.assertIn("Due in 10 working days (extended by agreement to Mon 15 Feb 2027; statutory due date Thu 7 "
                      "Jan 2027): Assessment", " ".join(text.split()), text)
        # Withdrawn: the row stays, a withdrawal is added, the clock is back on its statutory date.
        d.get(base + "/children/C5")
        d.find_element(By.XPATH, "//summary[contains(., 'Withdraw decision')]").click()
        [(did,)] = c.query("SELECT id FROM decisions WHERE child_id = 'C5'")
        d.find_element(By.ID, "decision-%d-reason" % did).send_keys("Agreed in error: the visit took place")
        d.find_element(By.XPATH, "//button[contains(., 'Withdraw it')]").click()
        self.wait_for(lambda drv: "The decision is withdrawn" in drv.page_source, "the banner after withdrawing")
        self.assertNotIn("extended to", d.find_element(By.ID, "clock-assessment-1").text)
        self.axe_check("33-decision-withdrawn")
        self.assertEqual(c.query("SELECT kind, withdraws, by_staff, via FROM decisions WHERE child_id = 'C5' "
                                 "ORDER BY id"),
                         [("extend", None, "TM1", "web"), ("withdraw", did, "TM1", "web")])

    def test_axe_finds_what_it_should(self):
        """The check can fail: an image without a text alternative and a
        field without a label, added to a careclock page, are reported."""
        d = self.driver
        d.get("http://127.0.0.1:%d/sign-in" % self.email.port())
        d.execute_script("var i = document.createElement('img'); i.src = '/assets/images/favicon.svg';"
                         "document.querySelector('main').appendChild(i);"
                         "var f = document.createElement('input'); f.type = 'text';"
                         "document.querySelector('main').appendChild(f);")
        found = {v["id"] for v in self.run_axe() if v["impact"] in ("serious", "critical")}
        self.assertTrue({"image-alt", "label"} <= found, found)

    def test_browser_sign_in_through_the_proxy(self):
        d = self.driver
        base = "http://127.0.0.1:%d" % self.proxy.port()
        d.delete_all_cookies()
        d.execute_cdp_cmd("Network.enable", {})
        try:
            d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"X-Remote-Email": "sm1@council.example"}})
            d.get(base + "/")
            self.assertTrue(d.current_url.endswith("/my-work"), d.current_url)
            self.assertIn("Sam Service", d.page_source)
            self.axe_check("20-my-work-service-manager")
            d.get(base + "/service")
            self.axe_check("21-service")
            d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"X-Remote-Email": "w2@council.example"}})
            d.get(base + "/my-work")
            self.assertIn("Walter Worker", d.page_source)
            self.axe_check("22-my-work-worker")
            d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"X-Remote-Email": "v1@council.example"}})
            d.get(base + "/timeliness?team=*&by=quarter")
            self.axe_check("23-timeliness-viewer")
            d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
            d.get(base + "/my-work")
            self.assertIn("You are not signed in to careclock", d.page_source)
            self.axe_check("24-proxy-not-signed-in")
        finally:
            d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


if __name__ == "__main__":
    unittest.main()
