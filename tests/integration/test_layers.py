"""The layering check (tools/check-layers.py, docs/architecture.md): the
repository passes it, and a copy of the sources with an upward include, a
sideways include between the two programs, an I/O library or a file or clock
read planted in the core fails it, naming the file, the line and the reason."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "tools", "check-layers.py")


def run_check(root):
    return subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True)


class Layers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="careclock-layers-")
        for sub in ("daemon", "include", "tools"):
            shutil.copytree(os.path.join(ROOT, sub), os.path.join(self.tmp, sub))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def plant(self, rel, text, after_line=None):
        """Insert text into the copy's rel after the last #include (or at
        after_line); returns the 1-based line number it landed on."""
        path = os.path.join(self.tmp, rel)
        with open(path) as f:
            lines = f.read().split("\n")
        if after_line is None:
            after_line = max(i for i, l in enumerate(lines) if l.startswith("#include")) + 1
        lines.insert(after_line, text)
        with open(path, "w") as f:
            f.write("\n".join(lines))
        return after_line + 1

    def assert_refused(self, rel, line, reason):
        p = run_check(self.tmp)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("%s:%d: " % (rel, line), p.stdout)
        self.assertRegex(p.stdout, reason)

    def test_the_repository_passes(self):
        p = run_check(ROOT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_the_unchanged_copy_passes(self):
        self.assertEqual(run_check(self.tmp).returncode, 0)

    def test_core_including_the_store_is_refused(self):
        line = self.plant("daemon/core/date.c", '#include "careclock/store.h"')
        self.assert_refused("daemon/core/date.c", line, r"from store/, a layer above core/")

    def test_util_including_the_core_is_refused(self):
        line = self.plant("daemon/util/buf.c", '#include "careclock/engine.h"')
        self.assert_refused("daemon/util/buf.c", line, r"from core/, a layer above util/")

    def test_a_public_header_including_upward_is_refused(self):
        line = self.plant("include/careclock/date.h", '#include "careclock/http.h"', after_line=3)
        self.assert_refused("include/careclock/date.h", line, r"from http/, a layer above core/")

    def test_store_including_notify_is_refused(self):
        line = self.plant("daemon/store/store.c", '#include "careclock/sender.h"')
        self.assert_refused("daemon/store/store.c", line, r"from notify/, a layer above store/")

    def test_the_daemon_including_the_cli_is_refused(self):
        line = self.plant("daemon/daemon/daemon.c", '#include "cli/cli.h"')
        self.assert_refused("daemon/daemon/daemon.c", line, r"from cli/, a layer beside daemon/")

    def test_an_include_without_its_folder_is_refused(self):
        line = self.plant("daemon/store/outbox.c", '#include "grow.h"')
        self.assert_refused("daemon/store/outbox.c", line, r"without its folder")

    def test_io_library_in_the_core_is_refused(self):
        for header in ("sqlite3.h", "uv.h", "curl/curl.h", "microhttpd.h", "systemd/sd-daemon.h"):
            with self.subTest(header=header):
                self.tearDown()
                self.setUp()
                line = self.plant("daemon/core/engine.c", "#include <%s>" % header)
                self.assert_refused("daemon/core/engine.c", line, r"the core is pure")

    def test_io_library_above_the_core_is_allowed(self):
        self.plant("daemon/store/report.c", "#include <sqlite3.h>")
        self.assertEqual(run_check(self.tmp).returncode, 0)

    def test_a_file_or_clock_read_in_the_core_is_refused(self):
        for call in ("FILE *f = fopen(path, \"r\");", "time_t now = time(NULL);", "const char *tz = getenv(\"TZ\");"):
            with self.subTest(call=call):
                self.tearDown()
                self.setUp()
                line = self.plant("daemon/core/offset.c", "static void planted(const char *path) { %s (void)path; }"
                                  % call)
                self.assert_refused("daemon/core/offset.c", line, r"the core reads no files, environment or clock")

    def test_a_call_named_in_a_comment_or_string_is_not_a_call(self):
        self.plant("daemon/core/offset.c", '/* never fopen() here */ static const char planted[] = "time(NULL)";')
        p = run_check(self.tmp)
        self.assertEqual(p.returncode, 0, p.stdout)

    def test_a_stray_folder_is_refused(self):
        os.mkdir(os.path.join(self.tmp, "daemon", "misc"))
        p = run_check(self.tmp)
        self.assertEqual(p.returncode, 1)
        self.assertIn("daemon/misc: not in a layer's folder", p.stdout)


if __name__ == "__main__":
    unittest.main()
