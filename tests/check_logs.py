#!/usr/bin/python3
"""Search the logs of a whole test run for personal data and secrets.

    tests/check_logs.py LOGDIR          (tests/run.sh runs it last)

LOGDIR is what tests/run.sh keeps: stderr.log, every line careclock and
careclockd wrote to stderr during the run (their log lines: what the
journal would hold), child-names.txt, every full name a test gave a child
with `careclock child add|set --name`, and each test's own output. Logs
carry children's reference numbers only (../shared/docs/domain.md), so:

- no child's full name may appear in stderr.log or a test's output: the
  names from child-names.txt and those the tests write with SQL, which
  bypass the command line (listed below);
- no feed token (64 hex digits) and no test secret (the SMTP password, the
  webhook signing secrets) may appear in stderr.log.

Exit 0 and one line saying what was searched; else 1 and every hit."""
import os
import re
import sys

# Full names the tests write straight into the database with SQL.
SQL_NAMES = ["Zoë Brontë", "Alice\r\nEND:VEVENT\r\nBEGIN:VEVENT"]
# Secrets the tests configure (tests/integration/test_delivery.py and others).
SECRETS = ["correct horse", "hunter2", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
TOKEN = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def variants(name):
    """The name as written, and as a log line shows it (line breaks become spaces)."""
    out = {name}
    flat = name.replace("\r", " ").replace("\n", " ")
    out.add(flat)
    return {v for v in out if len(v.strip()) >= 3}


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    logdir = sys.argv[1]
    stderr_path = os.path.join(logdir, "stderr.log")
    try:
        with open(stderr_path, encoding="utf-8", errors="replace") as f:
            stderr = f.read()
    except FileNotFoundError:
        stderr = ""
    names = set(SQL_NAMES)
    names_path = os.path.join(logdir, "child-names.txt")
    if os.path.exists(names_path):
        with open(names_path, encoding="utf-8", errors="replace") as f:
            names.update(l.rstrip("\n") for l in f if l.strip())
    outputs = {}
    for entry in sorted(os.listdir(logdir)):
        if entry.endswith(".log") and entry != "stderr.log":
            with open(os.path.join(logdir, entry), encoding="utf-8", errors="replace") as f:
                outputs[entry] = f.read()
    hits = []
    for name in sorted(names):
        for v in variants(name):
            for source, text in [("stderr.log", stderr)] + sorted(outputs.items()):
                at = text.find(v)
                if at >= 0:
                    line = text[text.rfind("\n", 0, at) + 1:text.find("\n", at)]
                    hits.append("%s: a child's full name %r: %s" % (source, name, line[:200]))
    for secret in SECRETS:
        if secret in stderr:
            hits.append("stderr.log: a secret used by the tests (%s...)" % secret[:4])
    for m in TOKEN.finditer(stderr):
        line = stderr[stderr.rfind("\n", 0, m.start()) + 1:stderr.find("\n", m.start())]
        hits.append("stderr.log: 64 hex digits, a feed token or its hash: %s" % line[:200])
    lines = stderr.count("\n")
    if hits:
        print("check_logs: FAILED: personal data or secrets in the logs of this run (%s):" % logdir)
        for h in hits:
            print("  " + h)
        return 1
    print("check_logs: %d log lines (%d KB) from careclock and careclockd and %d test outputs searched for %d "
          "children's full names, feed tokens and %d test secrets: none found"
          % (lines, len(stderr.encode()) // 1024, len(outputs), len(names), len(SECRETS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
