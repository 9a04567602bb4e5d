"""One owner per table (issue 14; daemon/store/store.c's design notes): the
store layer is the only place SQL runs, and daemon/store/clocks.c the only
module besides the evaluation that writes them (evaluate.c, first.c) and the
schema (schema.c) whose SQL names the clocks (since schema 9 the view
clocks and its tables clock_rows and clock_rules). A plain reading of the
sources, as `grep -lE` would do it; each test fails naming the file."""
import glob
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# SQL that names the clocks, as the issue's own check spells it (and the
# tables under the view, issue 22).
CLOCKS_SQL = re.compile(r"\b(FROM|JOIN|INTO|UPDATE|TABLE|ON|EXISTS)\s+(clocks|clock_rows|clock_rules)\b")
# What running SQL or reaching the connection looks like in C.
RUNS_SQL = re.compile(r"\b(cc_store_db|sqlite3_\w+)\s*\(")


def sources(pattern):
    return sorted(glob.glob(os.path.join(ROOT, "daemon", pattern)))


def rel(path):
    return os.path.relpath(path, os.path.join(ROOT, "daemon"))


class Owners(unittest.TestCase):
    def test_only_clocks_module_names_the_clocks_table(self):
        naming = {rel(p) for p in sources("*/*.c") if CLOCKS_SQL.search(open(p).read())}
        self.assertEqual(naming, {"store/clocks.c", "store/evaluate.c", "store/first.c", "store/schema.c"})

    def test_programs_and_http_run_no_sql(self):
        """cli/, daemon/ and http/ (the feed server and the dashboard) go
        through the store's functions: no connection, no statement of their
        own."""
        offending = []
        for path in sources("cli/*.[ch]") + sources("daemon/*.[ch]") + sources("http/*.[ch]"):
            for n, line in enumerate(open(path), 1):
                if RUNS_SQL.search(line):
                    offending.append("%s:%d: %s" % (rel(path), n, line.strip()))
        self.assertEqual(offending, [])


if __name__ == "__main__":
    unittest.main()
