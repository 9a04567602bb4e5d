"""What an IT lead meets first (issue 21): --version and -V on both programs,
help for every command, the one default configuration path, `careclock
config show`, and the pre-flight check of `careclockd --check-config` and
`careclock config check`: one test per configuration that would fail later,
each asserting that it is refused and that the message names the fix."""
import getpass
import json
import os
import re
import shutil
import socket
import sqlite3
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"))
CLI = os.path.join(BUILD, "careclock")
DAEMON = os.path.join(BUILD, "careclockd")
DEFAULT_CONFIG = "/etc/careclock/careclock.conf"


def env_without(*names):
    return {k: v for k, v in os.environ.items() if k not in names}


def run(args, cwd=None, env=None):
    return subprocess.run(args, cwd=cwd, env=env if env is not None else env_without("CARECLOCK_DB",
                                                                                         "CARECLOCK_CONFIG"),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


class Version(unittest.TestCase):
    def test_version_comes_from_the_version_file(self):
        with open(os.path.join(ROOT, "VERSION")) as f:
            version = f.read().strip()
        self.assertRegex(version, r"^\d+\.\d+\.\d+")
        for prog in (CLI, DAEMON):
            p = run([prog, "--version"])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, "%s %s\n" % (os.path.basename(prog), version))

    def test_dash_v_names_each_library_with_its_version(self):
        for prog in (CLI, DAEMON):
            p = run([prog, "-V"])
            self.assertEqual(p.returncode, 0, p.stderr)
            for lib in ("SQLite", "libuv", "libcurl", "libical", "libmicrohttpd"):
                self.assertRegex(p.stdout, r"(?m)^  %s \d+\.\d+(\.\d+)?" % lib, lib)
            # The running SQLite, as Python's sqlite3 module (linked to the
            # same Debian libsqlite3) reports it.
            self.assertIn("SQLite %s\n" % sqlite3.sqlite_version, p.stdout)

    def test_the_debian_changelog_carries_the_same_version(self):
        with open(os.path.join(ROOT, "VERSION")) as f:
            version = f.read().strip()
        with open(os.path.join(ROOT, "debian", "changelog")) as f:
            first = f.readline()
        self.assertRegex(first, r"^careclock \(%s(-\d+)?\) " % re.escape(version))


# Every command and subcommand: `--help` prints its usage on stdout and exits 0.
COMMANDS = [
    "calc", "init", "staff", "staff add", "staff list", "team", "team add", "team set", "team list", "child",
    "child add", "child set", "event", "event add", "event list", "event delete", "clocks", "explain", "rules",
    "rules check", "rules list", "feed", "feed add", "feed list", "feed revoke", "ics", "import", "import ssda903",
    "report", "report timeliness", "deliveries", "deliveries run", "deliveries retry", "deliveries prune",
    "deliveries webhooks", "deliveries enable-webhook", "deliveries test", "config", "config check",
    "config show", "config path", "backup",
]


class Help(unittest.TestCase):
    def test_every_subcommand_help_exits_0(self):
        with tempfile.TemporaryDirectory() as tmp:
            missing = os.path.join(tmp, "absent.db")
            for command in COMMANDS:
                with self.subTest(command=command):
                    p = run([CLI, "--db", missing] + command.split() + ["--help"], cwd=tmp)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertIn("usage: careclock " + command.split()[0], p.stdout)
                    self.assertEqual(p.stderr, "")
            self.assertFalse(os.path.exists(missing), "--help created a database")
            self.assertEqual(os.listdir(tmp), [])

    def test_help_forms(self):
        for args in (["-h"], ["--help"], ["help"]):
            p = run([CLI] + args)
            self.assertEqual(p.returncode, 0, args)
            self.assertIn("usage: careclock", p.stdout)
            self.assertIn("config check", p.stdout)
        p = run([CLI, "help", "deliveries", "prune"])
        self.assertEqual(p.returncode, 0)
        self.assertIn("--retention", p.stdout)
        p = run([CLI, "help", "clocks"])
        self.assertEqual(p.returncode, 0)
        self.assertIn("--status", p.stdout)
        p = run([CLI, "help", "frobnicate"])
        self.assertEqual(p.returncode, 2)
        self.assertIn('unknown command "frobnicate"', p.stderr)
        p = run([CLI])
        self.assertEqual(p.returncode, 2)
        for args in (["-h"], ["--help"]):
            p = run([DAEMON] + args)
            self.assertEqual(p.returncode, 0)
            self.assertIn("--check-config", p.stdout)


class Council(unittest.TestCase):
    """A temporary directory with a configuration file writer."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="careclock-op-")
        self.dir = self.tmp.name
        self.db = os.path.join(self.dir, "plan.db")

    def tearDown(self):
        self.tmp.cleanup()

    def conf(self, text, name="careclock.conf"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def secret(self, name="smtp-password", text="correct horse\n", mode=0o600):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path


class DefaultConfiguration(Council):
    @unittest.skipIf(os.path.exists(DEFAULT_CONFIG), DEFAULT_CONFIG + " exists on this machine")
    def test_a_missing_default_file_means_built_in_defaults_and_says_so(self):
        p = run([CLI, "config", "path"])
        self.assertEqual(p.stdout, DEFAULT_CONFIG + " (does not exist: built-in defaults)\n")
        p = run([CLI, "config", "show"])
        self.assertEqual(p.returncode, 0)
        self.assertIn(DEFAULT_CONFIG + " does not exist: these are the built-in defaults", p.stdout)
        self.assertIn("database = /var/lib/careclock/careclock.db", p.stdout)
        p = run([DAEMON, "--check-config", "--db", self.db, "--listen", "127.0.0.1:0"])
        self.assertIn(DEFAULT_CONFIG + " does not exist: checking the built-in defaults", p.stdout)

    def test_environment_and_option_override_the_default_in_that_order(self):
        a = self.conf("[careclock]\ndivision = scotland\n", "a.conf")
        b = self.conf("[careclock]\ndivision = northern-ireland\n", "b.conf")
        env = dict(env_without("CARECLOCK_DB"), CARECLOCK_CONFIG=a)
        p = run([CLI, "config", "path"], env=env)
        self.assertEqual(p.stdout, a + " ($CARECLOCK_CONFIG)\n")
        p = run([CLI, "config", "show"], env=env)
        self.assertIn("division = scotland\n", p.stdout)
        p = run([CLI, "--config", b, "config", "show"], env=env)
        self.assertIn("division = northern-ireland\n", p.stdout)
        p = run([DAEMON, "--check-config", "--db", self.db, "--listen", "127.0.0.1:0"], env=env)
        self.assertIn("checking %s ($CARECLOCK_CONFIG)" % a, p.stdout)

    def test_a_named_file_that_is_missing_is_an_error_not_defaults(self):
        missing = os.path.join(self.dir, "nope.conf")
        for args in ([CLI, "--config", missing, "config", "check"], [DAEMON, "--check-config", "--config", missing]):
            p = run(args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(missing + ": cannot read the configuration file: No such file or directory", p.stderr)

    def test_no_stray_database_in_the_current_directory(self):
        """Without --db, careclock names the configured database and where
        that name came from, and creates nothing where it stands."""
        conf = self.conf("[careclock]\ndatabase = %s\n" % os.path.join(self.dir, "state", "plan.db"))
        work = os.path.join(self.dir, "work")
        os.mkdir(work)
        p = run([CLI, "--config", conf, "clocks"], cwd=work)
        self.assertEqual(p.returncode, 2)
        self.assertIn("there is no database at %s/state/plan.db ([careclock] database, %s:2)" % (self.dir, conf),
                      p.stderr)
        self.assertIn("careclockd creates it", p.stderr)
        p = run([CLI, "--config", conf, "init"], cwd=work)
        self.assertEqual(p.returncode, 2)
        self.assertIn("the directory %s/state does not exist" % self.dir, p.stderr)
        self.assertEqual(os.listdir(work), [])
        os.mkdir(os.path.join(self.dir, "state"))
        p = run([CLI, "--config", conf, "init"], cwd=work)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "state", "plan.db")))
        self.assertEqual(os.listdir(work), [])

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_root_does_not_create_the_database_in_the_service_users_directory(self):
        state = os.path.join(self.dir, "state")
        os.mkdir(state)
        os.chown(state, 65534, 65534)  # nobody: standing in for the careclock user
        p = run([CLI, "--db", os.path.join(state, "careclock.db"), "init"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("not creating %s/careclock.db as root" % state, p.stderr)
        self.assertIn("runuser -u nobody -- careclock init", p.stderr)
        self.assertEqual(os.listdir(state), [])


class Show(Council):
    def test_show_marks_defaults_and_elides_secrets(self):
        pw = self.secret()
        conf = self.conf(
            "[careclock]\ndatabase = plan.db\n"
            "[smtp]\nurl = smtp://careclock@mail.council.example:587\nfrom = cc@council.example\n"
            "username = careclock\npassword_file = %s\n"
            "[webhook:east]\nurl = https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX?x=1\n"
            "format = slack\n" % pw)
        p = run([CLI, "--config", conf, "config", "show"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("database = %s\n" % self.db, p.stdout)
        self.assertRegex(p.stdout, r"\ntimezone = Europe/London +; default\n")
        self.assertIn("url = smtp://careclock@mail.council.example:587\n", p.stdout)
        self.assertIn("password_file = %s\n" % pw, p.stdout)
        self.assertIn("[webhook:east]\nurl = https://hooks.slack.com/...(elided)\n", p.stdout)
        for secret in ("hunter2", "XXXXSECRETXXXX", "correct horse"):
            self.assertNotIn(secret, p.stdout + p.stderr)
        p = run([CLI, "--config", conf, "config", "show", "--changed"])
        self.assertNotIn("timezone", p.stdout)
        self.assertIn("from = cc@council.example", p.stdout)
        # A password written into the URL is refused (issue 19), without being shown.
        inline = self.conf("[smtp]\nurl = smtp://careclock:hunter2@mail.council.example:587\n"
                           "from = cc@council.example\n", "inline.conf")
        p = run([CLI, "--config", inline, "config", "show"])
        self.assertEqual(p.returncode, 2, p.stdout)
        self.assertIn("password_file", p.stderr)
        self.assertNotIn("hunter2", p.stdout + p.stderr)

    def test_show_output_reads_back_as_the_same_configuration(self):
        conf = self.conf("[careclock]\ndivision = scotland\nprivacy = reference\n[notify]\nwindow = 09:30-17:00\n"
                         "digest = no\ndelivery_retention_days = 400\n[careclockd]\nuser = %s\n" % getpass.getuser())
        first = run([CLI, "--config", conf, "config", "show"]).stdout
        again = self.conf(first, "again.conf")
        second = run([CLI, "--config", again, "config", "show", "--changed"])
        self.assertEqual(second.returncode, 0, second.stderr)
        body = lambda text: [l.split(";")[0].rstrip() for l in text.splitlines() if l and not l.startswith(";")]
        self.assertEqual(body(first), body(second.stdout))


class PreFlight(Council):
    """One bad configuration per test: `careclock config check` and
    `careclockd --check-config` both refuse it (exit 2) and name the fix."""

    def check(self, text, *extra, db=None):
        conf = self.conf(text)
        base = "[careclock]\n" not in text
        if base:
            with open(conf, "a") as f:
                f.write("[careclock]\ndatabase = %s\n" % (db or self.db))
        with open(conf, "a") as f:
            if "[careclockd]" not in text:
                f.write("[careclockd]\nuser = %s\n" % getpass.getuser())
            if "[http]" not in text:
                f.write("[http]\nlisten = 127.0.0.1:0\n")
        cli = run([CLI, "--config", conf, "config", "check"] + list(extra))
        daemon = run([DAEMON, "--check-config", "--config", conf])
        if not extra:
            self.assertEqual(cli.returncode, daemon.returncode, cli.stderr + daemon.stderr)
            self.assertEqual(cli.stderr.replace("careclock config check", "careclockd"), daemon.stderr)
        return cli

    def refused(self, text, *fragments, extra=()):
        p = self.check(text, *extra)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        problems = [l for l in p.stderr.splitlines() if l.startswith("  problem: ")]
        self.assertTrue(problems, p.stderr)
        for fragment in fragments:
            self.assertIn(fragment, p.stderr)
        return p

    def test_a_good_configuration_passes(self):
        pw = self.secret()
        p = self.check("[smtp]\nurl = smtp://mail.council.example:587\nfrom = cc@council.example\n"
                       "username = cc\npassword_file = %s\n" % pw)
        self.assertEqual(p.returncode, 0, p.stderr)
        rules = run([CLI, "--config", "/dev/null", "rules", "list"]).stdout.count("\n")
        self.assertIn("is valid: %d rules" % rules, p.stdout)
        self.assertIn("checking as the service user %s (%s/careclock.conf:" % (getpass.getuser(), self.dir), p.stdout)
        self.assertIn(": [careclockd] user)", p.stdout)

    def test_missing_password_file(self):
        missing = os.path.join(self.dir, "nope")
        self.refused("[smtp]\nurl = smtp://mail.council.example:587\nfrom = cc@council.example\n"
                     "username = cc\npassword_file = %s\n" % missing,
                     "careclock.conf:5: [smtp] password_file: %s does not exist: write the secret into it" % missing)

    def test_password_file_unreadable_by_the_service_user(self):
        os.chmod(self.dir, 0o777)
        pw = self.secret(mode=0o600)
        # nobody cannot read a file only its owner (us) may read.
        p = self.refused("[smtp]\nurl = smtp://mail.council.example:587\nfrom = cc@council.example\n"
                         "username = cc\npassword_file = %s\n" % pw,
                         "is not readable by nobody", "chgrp nobody %s && chmod 0640 %s" % (pw, pw),
                         extra=("--user", "nobody"))
        self.assertIn("checking as the service user nobody (--user)", p.stdout)

    def test_secret_file_that_is_a_directory(self):
        d = os.path.join(self.dir, "secrets")
        os.mkdir(d)
        self.refused("[webhook:east]\nurl = https://hooks.example/x\nsecret_file = %s\n" % d,
                     "[webhook:east] secret_file: %s is a directory: name the file that holds the secret" % d)

    def test_empty_secret_file(self):
        pw = self.secret(text="")
        self.refused("[smtp]\nurl = smtp://mail.council.example:587\nfrom = cc@council.example\nusername = cc\n"
                     "password_file = %s\n" % pw, "%s is empty: write the secret into it" % pw)

    def test_smtp_url_without_from(self):
        self.refused("[smtp]\nurl = smtp://mail.council.example:587\n",
                     "[smtp] url: url is set but from is not: add from = ")

    def test_tls_none_to_a_remote_relay(self):
        self.refused("[smtp]\nurl = smtp://mail.council.example:25\nfrom = cc@council.example\ntls = none\n",
                     "[smtp] tls: tls = none sends the password and the children's details unencrypted to "
                     "mail.council.example", "use tls = required")

    def test_tls_none_to_loopback_is_fine(self):
        for url in ("smtp://127.0.0.1:25", "smtp://localhost:2525", "smtp://[::1]:25"):
            p = self.check("[smtp]\nurl = %s\nfrom = cc@council.example\ntls = none\n" % url)
            self.assertEqual(p.returncode, 0, url + p.stderr)

    def test_username_without_password_file(self):
        self.refused("[smtp]\nurl = smtp://mail.council.example:587\nfrom = cc@council.example\nusername = cc\n",
                     "username is set but password_file is not: add password_file")

    def test_duplicated_key(self):
        p = self.refused("[smtp]\nurl = smtp://a.example:587\nfrom = cc@council.example\n\n[notify]\n"
                         "window = 08:00-18:00\ndigest = yes\nwindow = 09:00-17:00\n",
                         "careclock.conf:8: window: set twice in [notify] (first at line 6): keep one of them")
        self.assertIn("the configuration is refused", p.stderr)

    def test_rules_may_be_given_on_several_lines(self):
        rules = os.path.join(ROOT, "config", "rules", "england.rules")
        override = self.conf("[care_plan]\ndue = +5wd\n", "council.rules")
        p = self.check("[careclock]\ndatabase = %s\nrules = %s\nrules = %s\n" % (self.db, rules, override))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_a_directory_as_the_configuration(self):
        for args in ([CLI, "--config", self.dir, "config", "check"], [DAEMON, "--check-config", "--config", self.dir]):
            p = run(args)
            self.assertEqual(p.returncode, 2)
            self.assertIn("%s is a directory, not a configuration file: name the file (%s/careclock.conf)"
                          % (self.dir, self.dir), p.stderr)

    def test_a_directory_as_the_database(self):
        self.refused("[careclock]\ndatabase = %s\n" % self.dir,
                     "%s is a directory: name the database file (%s/careclock.db)" % (self.dir, self.dir))

    def test_a_directory_as_a_rules_file(self):
        p = self.refused("[careclock]\ndatabase = %s\nrules = %s\n" % (self.db, self.dir), self.dir)
        self.assertIn("the configuration is refused", p.stderr)
        # and careclockd itself does not start on it with no rules
        p = run([DAEMON, "--db", self.db, "--listen", "127.0.0.1:0", "--config", self.conf(
            "[careclock]\nrules = %s\n" % self.dir, "rules.conf")])
        self.assertEqual(p.returncode, 1)
        self.assertIn(self.dir, p.stderr)

    def test_unreachable_secret_names_the_directory(self):
        os.chmod(self.dir, 0o711)
        inner = os.path.join(self.dir, "private")
        os.mkdir(inner, 0o700)
        pw = os.path.join(inner, "pw")
        with open(pw, "w") as f:
            f.write("x\n")
        os.chmod(pw, 0o644)
        self.refused("[smtp]\nurl = smtp://mail.council.example:587\nfrom = cc@council.example\nusername = cc\n"
                     "password_file = %s\n" % pw, "nobody cannot reach %s: the directory %s (owner" % (pw, inner),
                     "chgrp nobody DIRECTORY && chmod g+x DIRECTORY", extra=("--user", "nobody"))

    def test_database_directory_missing(self):
        where = os.path.join(self.dir, "state", "careclock.db")
        self.refused("[careclock]\ndatabase = %s\n" % where,
                     "the database directory %s/state does not exist" % self.dir, "mkdir -m 0750 %s/state" % self.dir)

    def test_database_directory_not_writable_by_the_service_user(self):
        os.chmod(self.dir, 0o755)
        self.refused("[careclock]\ndatabase = %s\n" % self.db,
                     "%s is not writable (no file can be created in it) by nobody" % self.dir,
                     "chown nobody: %s" % self.dir, extra=("--user", "nobody"))

    def test_database_file_not_writable_by_the_service_user(self):
        os.chmod(self.dir, 0o777)
        run([CLI, "--db", self.db, "init"])
        self.refused("[careclock]\ndatabase = %s\n" % self.db,
                     "%s is not readable and writable by nobody (owner %s" % (self.db, getpass.getuser()),
                     "chown nobody: %s and its -wal and -shm" % self.db, extra=("--user", "nobody"))

    def test_service_user_that_does_not_exist(self):
        self.refused("[careclockd]\nuser = careclock-no-such-user\n[careclock]\ndatabase = %s\n" % self.db,
                     "the service user careclock-no-such-user", "does not exist: systemd-sysusers creates")

    def test_listen_address_in_use(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        try:
            port = s.getsockname()[1]
            self.refused("[http]\nlisten = 127.0.0.1:%d\n" % port,
                         "[http] listen 127.0.0.1:%d: the address is in use by another program" % port,
                         "choose another port in [http] listen")
        finally:
            s.close()

    def test_listen_on_a_privileged_port_as_a_user(self):
        if os.geteuid() == 0:
            self.skipTest("root may bind any port")
        self.refused("[http]\nlisten = 127.0.0.1:80\n", "ports below 1024")

    def test_listen_on_an_address_this_machine_lacks(self):
        self.refused("[http]\nlisten = 192.0.2.7:8787\n", "is not one of this machine's")

    def test_credential_not_provided_by_the_unit(self):
        """A password_file under /run/credentials/careclockd.service/ exists
        only while the service runs: the check reads the unit's
        LoadCredential= instead."""
        cred = "/run/credentials/careclockd.service/smtp-password-test"
        smtp = ("[smtp]\nurl = smtp://mail.council.example:587\nfrom = cc@council.example\nusername = cc\n"
                "password_file = %s\n" % cred)
        unit = self.conf("[Service]\nUser=%s\n" % getpass.getuser(), "careclockd.service")
        self.refused(smtp, "has no LoadCredential=smtp-password-test:... to provide it",
                     "add LoadCredential=smtp-password-test:/etc/careclock/credentials/smtp-password-test",
                     extra=("--unit", unit))
        source = self.secret("source")
        unit = self.conf("[Service]\nUser=%s\nLoadCredential=smtp-password-test:%s\n" % (getpass.getuser(), source),
                         "careclockd.service")
        p = self.check(smtp, "--unit", unit)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("comes from LoadCredential=smtp-password-test:%s (present" % source, p.stdout)
        os.unlink(source)
        self.refused(smtp, "and %s: No such file or directory: write the secret there" % source,
                     extra=("--unit", unit))

    def test_service_user_from_the_unit(self):
        unit = self.conf("[Unit]\nDescription=x\n[Service]\nUser=nobody\n", "careclockd.service")
        conf = self.conf("[careclock]\ndatabase = %s\n[http]\nlisten = 127.0.0.1:0\n" % self.db, "u.conf")
        p = run([CLI, "--config", conf, "config", "check", "--unit", unit])
        self.assertIn("checking as the service user nobody (User= in %s)" % unit, p.stdout)

    def test_every_problem_is_listed_at_once(self):
        p = self.refused("[smtp]\nurl = smtp://mail.council.example:25\ntls = none\n[careclock]\n"
                         "database = /nonexistent-dir/careclock.db\n")
        # no from, tls = none to a remote relay, no database directory
        self.assertIn("careclock config check: 3 problems: careclockd would fail", p.stderr)


if __name__ == "__main__":
    unittest.main()


class DaemonVersion(unittest.TestCase):
    def test_start_up_line_and_build_info_metric_carry_the_version(self):
        import urllib.request
        from daemon_harness import Council as HarnessCouncil, Daemon
        with open(os.path.join(ROOT, "VERSION")) as f:
            version = f.read().strip()
        council = HarnessCouncil()
        daemon = Daemon(council, now="2026-11-30T09:00:00")
        try:
            self.assertTrue(daemon.wait_notify("READY=1"), "\n".join(daemon.stderr_lines))
            starting = [l for l in daemon.stderr_lines if "starting:" in l]
            self.assertEqual(len(starting), 1, daemon.stderr_lines)
            self.assertIn("careclockd starting: version %s, configuration " % version, starting[0])
            with urllib.request.urlopen(daemon.admin_url("/metrics"), timeout=10) as r:
                metrics = r.read().decode()
            self.assertIn('\ncareclock_build_info{version="%s"} 1\n' % version, metrics)
            self.assertIn("# TYPE careclock_build_info gauge", metrics)
        finally:
            daemon.stop()
            council.cleanup()


class Listings(Council):
    def test_staff_and_team_list_ids_first(self):
        db = ["--db", self.db]
        for args in (["init"],
                     ["staff", "add", "TM1", "--name", "Tom Manager", "--email", "tm@x.example", "--role",
                      "team_manager"],
                     ["staff", "add", "W1", "--name", "Wendy Worker", "--email", "w@x.example", "--role", "worker",
                      "--manager", "TM1"],
                     ["team", "add", "T1", "--name", "East", "--manager", "TM1"]):
            p = run([CLI] + db + args)
            self.assertEqual(p.returncode, 0, p.stderr)
        p = run([CLI] + db + ["staff", "list"])
        self.assertEqual(p.stdout, "TM1\tteam_manager\tTom Manager\ttm@x.example\t\n"
                                   "W1\tworker\tWendy Worker\tw@x.example\tTM1\n")
        p = run([CLI] + db + ["team", "list"])
        self.assertEqual(p.stdout, "T1\tEast\tTM1\t\t\n")
        p = run([CLI, "--db", os.path.join(self.dir, "absent.db"), "staff", "list"])
        self.assertEqual(p.returncode, 2)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "absent.db")))
