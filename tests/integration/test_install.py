"""Installing careclock (issue 21): the man pages build from their scdoc
sources and pass `man --warnings`, and document every command, option and
configuration key the programs have; `make install` puts every file in place
(the unit's Documentation= names an installed man page) and `make uninstall`
takes them away again but the configuration; the bash completion offers the
commands, options, rule ids from the loaded rules and staff and team ids
from the database."""
import os
import re
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# The real build directory (tests/run.sh); the binaries through the log wrapper.
REAL_BUILD = os.environ.get("CARECLOCK_REAL_BUILD", os.path.join(ROOT, "build"))
BUILD = os.path.join(ROOT, os.environ.get("CARECLOCK_BUILD", "build"))
CLI = os.path.join(BUILD, "careclock")
DAEMON = os.path.join(BUILD, "careclockd")
PAGES = ["careclock.1", "careclockd.8", "careclock.conf.5", "careclock-rules.5"]


def make_env():
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}


def page_text(name):
    """The page as man renders it, with its warnings."""
    p = subprocess.run(["man", "--warnings", "-l", os.path.join(REAL_BUILD, "man", name)],
                       env=dict(os.environ, MANWIDTH="100"), capture_output=True, text=True)
    # grotty's overstriking (bold, underline) out of the text, and its hyphenation at line ends
    p.stdout = re.sub(r"-\n\s+", "-", re.sub(r"\u2010\n\s+", "", re.sub(".\x08", "", p.stdout)))
    return p


class ManPages(unittest.TestCase):
    def test_pages_render_without_warnings(self):
        for name in PAGES:
            with self.subTest(page=name):
                p = page_text(name)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stderr, "")
                self.assertIn("NAME", p.stdout)
                self.assertNotIn("@", re.sub(r"\S+@\S+", "", p.stdout), "a path left unsubstituted")

    def test_careclock_1_documents_every_command_and_option(self):
        text = page_text("careclock.1").stdout
        usage = subprocess.run([CLI, "--help"], capture_output=True, text=True).stdout
        commands = set(re.findall(r"(?m)^  ([a-z]+) ", usage))
        self.assertGreater(len(commands), 15)
        for command in commands:
            self.assertRegex(text, r"\b%s\b" % command)
        for option in set(re.findall(r"--[a-z-]+", usage)):
            self.assertIn(option, text)
        for sub in ("deliveries test", "deliveries prune", "config check", "config show", "rules list"):
            self.assertIn(sub, text)

    def test_careclockd_8_documents_every_option(self):
        text = page_text("careclockd.8").stdout
        usage = subprocess.run([DAEMON, "--help"], capture_output=True, text=True).stdout
        for option in set(re.findall(r"--[a-z-]+", usage)):
            self.assertIn(option, text)

    def test_careclock_conf_5_documents_every_key(self):
        text = page_text("careclock.conf.5").stdout
        shown = subprocess.run([CLI, "--config", "/dev/null", "config", "show"], capture_output=True,
                               text=True).stdout
        keys = set(re.findall(r"(?m)^;? ?([a-z_]+) =", shown))
        sections = set(re.findall(r"(?m)^\[([a-z]+)\]", shown))
        self.assertGreater(len(keys), 20)
        for key in keys:
            self.assertRegex(text, r"\b%s\b" % key)
        for section in sections:
            self.assertIn("[%s]" % section, text)

    def test_careclock_rules_5_documents_every_rule_key(self):
        text = page_text("careclock-rules.5").stdout
        with open(os.path.join(ROOT, "config", "rules", "england.rules")) as f:
            keys = set(re.findall(r"(?m)^([a-z_]+) =", f.read()))
        for key in keys:
            self.assertIn(key, text)


class Install(unittest.TestCase):
    def make(self, *args):
        return subprocess.run(["make", "-s", "BUILD=" + REAL_BUILD] + list(args), cwd=ROOT, env=make_env(),
                              capture_output=True, text=True, timeout=300)

    def test_install_then_uninstall(self):
        with tempfile.TemporaryDirectory() as dest:
            p = self.make("install", "DESTDIR=" + dest, "PREFIX=/usr/local")
            self.assertEqual(p.returncode, 0, p.stderr)
            files = set()
            for top, _, names in os.walk(dest):
                for n in names:
                    files.add(os.path.relpath(os.path.join(top, n), dest))
            for f in ("usr/local/bin/careclock", "usr/local/sbin/careclockd", "etc/careclock/careclock.conf",
                      "usr/local/share/man/man1/careclock.1", "usr/local/share/man/man8/careclockd.8",
                      "usr/local/share/man/man5/careclock.conf.5", "usr/local/share/man/man5/careclock-rules.5",
                      "usr/local/share/bash-completion/completions/careclock",
                      "usr/local/lib/systemd/system/careclockd.service",
                      "usr/local/lib/systemd/system/careclock-backup.timer",
                      "usr/local/lib/systemd/system/careclock-prune.timer",
                      "usr/local/lib/sysusers.d/careclock.conf", "usr/local/lib/tmpfiles.d/careclock.conf",
                      "usr/local/share/careclock/rules/england.rules", "usr/local/share/doc/careclock/README.md"):
                self.assertIn(f, files)
            with open(os.path.join(dest, "usr/local/lib/systemd/system/careclockd.service")) as f:
                unit = f.read()
            # Documentation= names installed man pages; Exec lines name installed programs
            for page in re.findall(r"man:([a-z.-]+)\((\d)\)", unit):
                self.assertIn("usr/local/share/man/man%s/%s.%s" % (page[1], page[0], page[1]), files)
            self.assertIn("Documentation=man:careclockd(8)", unit)
            for exe in re.findall(r"(?m)^Exec\w*=(/usr/local/\S+)", unit):
                self.assertIn(exe.lstrip("/"), files)
            self.assertIn("/usr/local/share/careclock/rules/england.rules",
                          open(os.path.join(dest, "etc/careclock/careclock.conf")).read())
            p = self.make("uninstall", "DESTDIR=" + dest, "PREFIX=/usr/local")
            self.assertEqual(p.returncode, 0, p.stderr)
            left = set()
            for top, _, names in os.walk(dest):
                for n in names:
                    left.add(os.path.relpath(os.path.join(top, n), dest))
            self.assertEqual(left, {"etc/careclock/careclock.conf"})
            self.assertIn("kept", p.stdout)


class Completion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.db = os.path.join(cls.tmp.name, "plan.db")
        for args in (["init"], ["staff", "add", "W1", "--name", "W", "--email", "w@x.example", "--role", "worker"],
                     ["staff", "add", "TM1", "--name", "M", "--email", "m@x.example", "--role", "team_manager"],
                     ["team", "add", "T1", "--name", "East", "--manager", "TM1"]):
            subprocess.run([CLI, "--db", cls.db] + args, check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def complete(self, line):
        """COMPREPLY for the line (its last word is being completed)."""
        words = line.split(" ")
        script = ('source %s/completions/careclock\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_careclock\n'
                  'printf "%%s\\n" "${COMPREPLY[@]}"\n' % (ROOT, " ".join("'%s'" % w for w in words), len(words) - 1))
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
        self.assertEqual(p.stderr, "")
        return sorted(w for w in p.stdout.split("\n") if w)

    def test_commands_and_subcommands(self):
        self.assertEqual(self.complete(CLI + " de"), ["deliveries"])
        self.assertEqual(self.complete(CLI + " config "), ["check", "path", "show"])
        self.assertIn("test", self.complete(CLI + " deliveries "))
        self.assertEqual(self.complete(CLI + " --ver"), ["--version"])
        self.assertIn("--status", self.complete(CLI + " clocks --"))

    def test_rule_ids_from_the_loaded_rules(self):
        self.assertEqual(self.complete(CLI + " --db %s explain C1 care" % self.db), ["care_plan"])
        self.assertIn("review_minutes", self.complete(CLI + " report timeliness --clock review"))

    def test_staff_and_team_ids_from_the_database(self):
        self.assertEqual(self.complete(CLI + " --db %s child add C9 --worker " % self.db), ["TM1", "W1"])
        self.assertEqual(self.complete(CLI + " --db %s clocks --team " % self.db), ["T1"])

    def test_a_database_that_cannot_be_read_completes_nothing(self):
        self.assertEqual(self.complete(CLI + " --db /nonexistent.db clocks --team "), [])


if __name__ == "__main__":
    unittest.main()
