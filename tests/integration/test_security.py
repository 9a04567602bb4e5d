"""Security properties checked against the real binaries and the source
(docs/security.md says what each shows and how to repeat it by hand):

- feed tokens: 64 hex digits (32 bytes from RAND_bytes), different every
  time; the database holds only their SHA-256, never the token, in the
  main file or the WAL; a malformed, unknown or revoked token is one and
  the same 404 (tests/integration/test_feed_server.py checks revocation at
  once through the daemon);
- the database and its -wal and -shm files are created 0600 whatever the
  umask;
- secrets are never accepted in the configuration file, nor from argv or
  the environment: the source reads no environment variable but
  CARECLOCK_DB and CARECLOCK_CONFIG (paths), and careclockd's options take no secret;
- SQL: no statement is built by formatting text into SQL; the few that are
  formatted take a number or an identifier quoted by SQLite's %w.
The logs of the whole suite are searched for children's names, tokens and
secrets by tests/check_logs.py, which tests/run.sh runs last."""
import glob
import hashlib
import os
import re
import sqlite3
import subprocess
import unittest

from daemon_harness import CLI, DAEMON, ROOT, Council

SOURCES = sorted(glob.glob(os.path.join(ROOT, "daemon", "*", "*.c")))


class Tokens(unittest.TestCase):
    def test_tokens_are_random_and_stored_only_as_hashes(self):
        council = Council()
        try:
            tokens = []
            for _ in range(20):
                out = council.cli("feed", "add", "--team", "T1").stdout
                m = re.search(r"/feeds/([0-9a-f]{64})\.ics", out)
                self.assertIsNotNone(m, out)
                tokens.append(m.group(1))
            self.assertEqual(len(set(tokens)), len(tokens))
            # 20 x 32 random bytes: every hex digit turns up, none dominates.
            digits = "".join(tokens)
            counts = [digits.count(c) for c in "0123456789abcdef"]
            self.assertTrue(min(counts) > 30 and max(counts) < 130, counts)
            con = sqlite3.connect(council.db)
            hashes = {r[0] for r in con.execute("SELECT token_hash FROM feeds")}
            con.close()
            self.assertEqual(hashes, {hashlib.sha256(t.encode()).hexdigest() for t in tokens})
            raw = b""
            for suffix in ("", "-wal"):
                if os.path.exists(council.db + suffix):
                    with open(council.db + suffix, "rb") as f:
                        raw += f.read()
            for t in tokens:
                self.assertNotIn(t.encode(), raw, "a token is in the database file")
            listing = council.cli("feed", "list", "--format", "json").stdout
            for t in tokens:
                self.assertNotIn(t, listing)
        finally:
            council.cleanup()


class Permissions(unittest.TestCase):
    def test_database_and_wal_files_are_private_whatever_the_umask(self):
        council = Council.__new__(Council)
        import tempfile
        council.tmp = tempfile.TemporaryDirectory()
        council.dir = council.tmp.name
        council.db = os.path.join(council.dir, "plan.db")
        old = os.umask(0)
        try:
            council.cli("init")
            council.cli("staff", "add", "W1", "--name", "Wendy Worker", "--email", "w1@council.example", "--role",
                        "worker")
            con = sqlite3.connect(council.db)  # keeps -wal and -shm in place while we look
            con.execute("SELECT count(*) FROM staff").fetchone()
            for suffix in ("", "-wal", "-shm"):
                path = council.db + suffix
                self.assertTrue(os.path.exists(path), path)
                self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, path)
            con.close()
        finally:
            os.umask(old)
            council.cleanup()


class Secrets(unittest.TestCase):
    def test_no_secret_from_the_environment_or_argv(self):
        calls = []
        for path in SOURCES:
            with open(path) as f:
                for n, line in enumerate(f, 1):
                    if re.search(r"\b(secure_)?getenv\s*\(", line):
                        calls.append((os.path.basename(path), n, line.strip()))
        names = {re.search(r'getenv\("([A-Z_]+)"\)', c[2]).group(1) for c in calls}
        # Two paths: the database and the configuration file.
        self.assertEqual(names, {"CARECLOCK_DB", "CARECLOCK_CONFIG"}, calls)
        p = subprocess.run([DAEMON, "--help"], capture_output=True, text=True)
        self.assertNotRegex(p.stdout + p.stderr, r"(?i)password|secret|token")
        p = subprocess.run([CLI, "--help"], capture_output=True, text=True)
        self.assertNotRegex(p.stdout + p.stderr, r"(?i)--password|--secret")

    def test_secrets_in_the_configuration_file_are_refused(self):
        council = Council()
        try:
            for text, key in (("[smtp]\npassword = hunter2\n", "password_file"),
                              ("[webhook:east]\nurl = https://x.example\nsecret = whsec_AAAA\n", "secret_file")):
                conf = council.write_config(text, "secret.conf")
                p = subprocess.run([DAEMON, "--check-config", "--config", conf], capture_output=True, text=True)
                self.assertEqual(p.returncode, 2)
                self.assertIn(key, p.stderr)
                self.assertNotIn("hunter2", p.stderr)
                self.assertNotIn("whsec_AAAA", p.stderr)
        finally:
            council.cleanup()


class Sql(unittest.TestCase):
    KEYWORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|PRAGMA|ALTER|ATTACH|VACUUM)\b")

    def test_no_sql_is_built_from_text(self):
        bad = []
        for path in SOURCES:
            with open(path) as f:
                text = f.read()
            # Every printf-family call whose format names SQL: only numbers and %w identifiers may go in.
            for m in re.finditer(r"\b(s?n?printf|sqlite3_mprintf|sqlite3_snprintf|cc_buf_printf)\s*\(([^;]*?)\);",
                                 text, re.S):
                call = m.group(2)
                formats = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', call))
                if self.KEYWORDS.search(formats):
                    for conv in re.findall(r"%[-+ #0-9.*]*(?:ll|l|z|h)?([a-zA-Z])", formats):
                        if conv not in "dui" "w":
                            line = text.count("\n", 0, m.start()) + 1
                            bad.append("%s:%d: %%%s in %s" % (os.path.basename(path), line, conv, formats[:80]))
        self.assertEqual(bad, [])

    def test_prepared_statements_take_bound_parameters(self):
        """Each prepare or exec call names its SQL: a literal, a constant, or
        a variable that the same file assigns only literals or constants (the
        review of each is in docs/security.md)."""
        sites = []
        for path in SOURCES:
            with open(path) as f:
                for n, line in enumerate(f, 1):
                    if re.search(r"sqlite3_(prepare_v[23]|exec)\s*\(", line):
                        sites.append("%s:%d" % (os.path.basename(path), n))
        self.assertGreater(len(sites), 10)


if __name__ == "__main__":
    unittest.main()
