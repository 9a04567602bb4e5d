"""careclock backup (issue 21): SQLite's online backup API gives a copy that
is consistent while careclockd and another system write: every copy passes
PRAGMA integrity_check and holds every row committed before the backup
began, and its rows are those of one moment (the events a writer commits one
at a time form an unbroken prefix of the writer's sequence). The copy is
created mode 0600, a single file (rollback journal, no -wal), never over an
existing file; with a directory and --keep N the oldest copies go."""
import os
import sqlite3
import stat
import subprocess
import threading
import time
import unittest

from daemon_harness import CLI, Council, Daemon
from schema_v8 import UNDO_9


class Backup(unittest.TestCase):
    def setUp(self):
        self.council = Council()
        self.db = self.council.db
        for i in range(1, 41):
            self.council.cli("child", "add", "C%02d" % i, "--dob", "2014-05-01", "--team", "T1", "--worker", "W1")

    def tearDown(self):
        self.council.cleanup()

    def backup(self, *args):
        return subprocess.run([CLI, "--db", self.db, "backup"] + list(args), capture_output=True, text=True,
                              timeout=60)

    def test_backup_while_careclockd_and_another_writer_write(self):
        daemon = Daemon(self.council, now="2026-11-30T09:00:00")
        committed = []          # event ids, in commit order
        stop = threading.Event()
        errors = []

        def writer():
            # Another system writing the plan database: one event per
            # transaction, each queueing its child for careclockd, which
            # recomputes and writes that child's clocks.
            con = sqlite3.connect(self.db, timeout=30)
            try:
                n = 0
                while not stop.is_set():
                    n += 1
                    child = "C%02d" % (n % 40 + 1)
                    cur = con.execute("INSERT INTO events (child_id, type, date, source) VALUES (?, ?, ?, 'test')",
                                      (child, "looked_after_start" if n % 2 else "placement_start",
                                       "2026-%02d-%02d" % (n % 11 + 1, n % 27 + 1)))
                    con.commit()
                    committed.append(cur.lastrowid)
            except Exception as e:  # surfaced below
                errors.append(e)
            finally:
                con.close()

        try:
            self.assertTrue(daemon.wait_notify("READY=1"), "\n".join(daemon.stderr_lines))
            thread = threading.Thread(target=writer)
            thread.start()
            copies = []
            time.sleep(0.3)
            for k in range(5):
                before = list(committed)          # committed before this backup began
                dest = os.path.join(self.council.dir, "copy-%d.db" % k)
                p = self.backup(dest)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("backed up %s to %s" % (self.db, dest), p.stdout)
                copies.append((dest, before))
                time.sleep(0.2)
            stop.set()
            thread.join()
            self.assertEqual(errors, [])
            self.assertGreater(len(committed), 20, "the writer hardly wrote")
            order = {event_id: i for i, event_id in enumerate(committed)}
            for dest, before in copies:
                with self.subTest(copy=os.path.basename(dest)):
                    self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o600)
                    self.assertFalse(os.path.exists(dest + "-wal"))
                    con = sqlite3.connect("file:%s?mode=ro" % dest, uri=True)
                    try:
                        self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
                        self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], "delete")
                        self.assertEqual(con.execute("PRAGMA foreign_key_check").fetchall(), [])
                        got = {r[0] for r in con.execute("SELECT id FROM events WHERE source = 'test'")}
                        self.assertEqual(con.execute("SELECT COUNT(*) FROM children").fetchone()[0], 40)
                    finally:
                        con.close()
                    # every row committed before the backup began is in it
                    self.assertTrue(set(before) <= got, sorted(set(before) - got)[:5])
                    # and it is one moment of the writer: an unbroken prefix of its commits
                    self.assertTrue(got <= set(committed))
                    positions = sorted(order[i] for i in got)
                    self.assertEqual(positions, list(range(len(positions))))
        finally:
            stop.set()
            daemon.stop()

    def test_never_overwrites_and_refuses_a_missing_database(self):
        dest = os.path.join(self.council.dir, "copy.db")
        with open(dest, "w") as f:
            f.write("precious")
        p = self.backup(dest)
        self.assertEqual(p.returncode, 2)
        self.assertIn("%s exists: careclock never overwrites a file" % dest, p.stderr)
        with open(dest) as f:
            self.assertEqual(f.read(), "precious")
        missing = os.path.join(self.council.dir, "absent.db")
        p = subprocess.run([CLI, "--db", missing, "backup", os.path.join(self.council.dir, "x.db")],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("there is no database at %s" % missing, p.stderr)
        self.assertFalse(os.path.exists(missing))

    def test_a_directory_with_keep_rotates(self):
        backups = os.path.join(self.council.dir, "backups")
        os.mkdir(backups)
        # three older copies by name (the time is in the name), and a file of someone else's
        for stamp in ("20250101T000000Z", "20250102T000000Z", "20250103T000000Z"):
            with open(os.path.join(backups, "careclock-%s.db" % stamp), "w") as f:
                f.write("old")
        with open(os.path.join(backups, "notes.txt"), "w") as f:
            f.write("keep me")
        p = self.backup(backups, "--keep", "2")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("deleted the 2 oldest backups", p.stdout)
        names = sorted(os.listdir(backups))
        self.assertEqual(len(names), 3, names)
        self.assertEqual(names[0], "careclock-20250103T000000Z.db")
        self.assertRegex(names[1], r"^careclock-\d{8}T\d{6}Z\.db$")
        self.assertEqual(names[2], "notes.txt")
        con = sqlite3.connect(os.path.join(backups, names[1]))
        try:
            self.assertEqual(con.execute("SELECT COUNT(*) FROM staff").fetchone()[0], 2)
        finally:
            con.close()
        p = self.backup(os.path.join(self.council.dir, "file.db"), "--keep", "2")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--keep needs DEST to be a directory", p.stderr)


if __name__ == "__main__":
    unittest.main()


# A version 3 database is today's schema without migration 9's (schema_v8),
# 4's, 5's and 7's objects (as tests/unit/test_store.c's migration test makes one; 6 remade
# deliveries, which a version 3 file also has).
TO_VERSION_3 = (UNDO_9 + "DROP TRIGGER children_assign_insert; DROP TRIGGER children_assign_update; DROP TABLE assignments; "
                "DROP TABLE web_signin; DROP TABLE web_sessions; DROP TABLE web_audit; "
                "ALTER TABLE audit_actor DROP COLUMN since; "
                "DROP TRIGGER children_plan_update; DROP TRIGGER teams_plan_update; DROP TRIGGER staff_plan_update; "
                "DROP TABLE plan_queue; DROP INDEX children_by_iro; DROP TABLE clock_digests; "
                "DROP INDEX events_by_child; CREATE INDEX events_by_child ON events(child_id, date); "
                "PRAGMA user_version = 3;")


class BeforeMigrating(unittest.TestCase):
    """Opening a database of an older schema copies it beside itself before
    migrating: PATH.pre-migration-YYYYMMDDTHHMMSSZ-vN, mode 0600, the newest
    3 kept; the copy is the old database, whole."""

    def setUp(self):
        self.council = Council()
        self.db = self.council.db
        self.council.cli("child", "add", "C1", "--dob", "2014-05-01", "--team", "T1", "--worker", "W1")

    def tearDown(self):
        self.council.cleanup()

    def downgrade(self):
        con = sqlite3.connect(self.db)
        con.executescript("BEGIN; " + TO_VERSION_3 + " COMMIT;")
        con.close()

    def copies(self):
        return sorted(n for n in os.listdir(self.council.dir) if n.startswith("plan.db.pre-migration-"))

    def test_init_backs_up_then_migrates(self):
        self.downgrade()
        p = self.council.cli("init")
        [copy] = self.copies()
        self.assertRegex(copy, r"^plan\.db\.pre-migration-\d{8}T\d{6}Z-v3$")
        path = os.path.join(self.council.dir, copy)
        self.assertIn("migrated the schema from version 3 to", p.stdout)
        self.assertIn("the database as it was is in %s" % path, p.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
            self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 3)
            self.assertEqual(con.execute("SELECT id FROM children").fetchall(), [("C1",)])
            self.assertIsNone(con.execute("SELECT name FROM sqlite_master WHERE name = 'plan_queue'").fetchone())
        finally:
            con.close()
        # the database itself is migrated
        con = sqlite3.connect(self.db)
        self.assertGreater(con.execute("PRAGMA user_version").fetchone()[0], 3)
        con.close()
        # nothing to migrate, nothing copied
        self.council.cli("init")
        self.assertEqual(len(self.copies()), 1)

    def test_the_newest_three_are_kept(self):
        # three older copies, by the time in their names (copies are named to the second)
        for stamp in ("20250101T000000Z", "20250102T000000Z", "20250103T000000Z"):
            with open(os.path.join(self.council.dir, "plan.db.pre-migration-%s-v2" % stamp), "w") as f:
                f.write("an older copy")
        self.downgrade()
        self.council.cli("clocks")  # any command opening the database migrates it
        copies = self.copies()
        self.assertEqual(len(copies), 3, copies)
        self.assertEqual(copies[:2], ["plan.db.pre-migration-20250102T000000Z-v2",
                                      "plan.db.pre-migration-20250103T000000Z-v2"])
        self.assertRegex(copies[2], r"-v3$")

    def test_careclockd_says_where_the_copy_went(self):
        self.downgrade()
        daemon = Daemon(self.council, now="2026-11-30T09:00:00")
        try:
            self.assertTrue(daemon.wait_notify("READY=1"), "\n".join(daemon.stderr_lines))
            [copy] = self.copies()
            line = [l for l in daemon.stderr_lines if "migrated" in l]
            self.assertEqual(len(line), 1, daemon.stderr_lines)
            self.assertIn("from schema version 3 to", line[0])
            self.assertIn(os.path.join(self.council.dir, copy), line[0])
            self.assertIn("the newest 3 such copies are kept", line[0])
        finally:
            daemon.stop()

    def test_no_backup_no_migration(self):
        """Where the copy would go is taken (by a directory, for the next
        minute's names): nothing is migrated."""
        self.downgrade()
        now = time.time()
        for t in range(int(now) - 1, int(now) + 60):
            os.mkdir(os.path.join(self.council.dir, "plan.db.pre-migration-%s-v3"
                                  % time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))))
        p = self.council.cli("init", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("not migrating the schema from version 3", p.stderr)
        self.assertIn("without a backup, and the backup failed", p.stderr)
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 3)
        con.close()
