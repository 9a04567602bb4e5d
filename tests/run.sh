#!/bin/sh
# Run careclock's tests and print one closing line: "N passed, N failed".
#   tests/run.sh [unit|integration|faults]   (default: unit and integration)
# Unit tests are cmocka binaries in $BUILD/tests; integration tests are
# Python unittest modules in tests/integration driving the real binaries;
# fault tests (make faults) are Python modules in tests/faults.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
SHARED=${SHARED:-../shared}
what=${1:-all}
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Every test's output is kept in $LOGS, and the integration and fault tests
# run careclock and careclockd through tests/logwrap.sh, which also appends
# their stderr (the log lines) to $LOGS/stderr.log and notes the full names
# given to `careclock child add|set --name`, so that tests/check_logs.py can
# show that no child's name, feed token or secret reaches a log
# (docs/security.md). The wrapper execs the real binary: same process.
# The tests give careclock its configuration (--config), or mean the
# built-in defaults: an empty file stands in for the default path, so that
# a careclock installed on this machine (/etc/careclock/careclock.conf)
# changes nothing. Tests of the default path itself unset it.
CARECLOCK_CONFIG=/dev/null
export CARECLOCK_CONFIG

LOGS="$BUILD/test-logs/$what"
rm -rf "$LOGS"
mkdir -p "$LOGS/bin"
CARECLOCK_TEST_LOGS=$(cd "$LOGS" && pwd)
CARECLOCK_REAL_BUILD=$(cd "$BUILD" && pwd)
export CARECLOCK_TEST_LOGS CARECLOCK_REAL_BUILD
ln -s "$(pwd)/tests/logwrap.sh" "$LOGS/bin/careclock"
ln -s "$(pwd)/tests/logwrap.sh" "$LOGS/bin/careclockd"
keep() { cp "$log" "$LOGS/$1.log"; }

if [ "$what" = all ] || [ "$what" = unit ]; then
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log" 2>&1
        rc=$?
        cat "$log"
        keep "$(basename "$t")"
        ok=$(grep -c '^\[       OK \]' "$log")
        bad=$(grep '^\[  FAILED  \] [a-z]' "$log" | sort -u | wc -l)
        if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
        passed=$((passed + ok))
        failed=$((failed + bad))
    done
fi

if [ "$what" = all ] || [ "$what" = integration ] || [ "$what" = faults ]; then
    dir=tests/integration
    [ "$what" = faults ] && dir=tests/faults
    for t in "$dir"/test_*.py; do
        [ -f "$t" ] || continue
        PYTHONPATH=tests/integration:tests/faults CARECLOCK_BUILD="$CARECLOCK_TEST_LOGS/bin" \
            CARECLOCK_SHARED="$SHARED" "$PYTHON" -m unittest -v "$t" >"$log" 2>&1
        rc=$?
        cat "$log"
        keep "$(basename "$t" .py)"
        # From unittest's summary ("Ran N tests", "FAILED (failures=F, errors=E)"):
        # a test that prints puts its "ok" on a line of its own.
        ran=$(sed -n 's/^Ran \([0-9]*\) tests* in .*/\1/p' "$log" | tail -n 1)
        f=$(sed -n 's/^FAILED (.*failures=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
        e=$(sed -n 's/^FAILED (.*errors=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
        bad=$(( ${f:-0} + ${e:-0} ))
        ok=$(( ${ran:-0} - bad ))
        if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
        passed=$((passed + ok))
        failed=$((failed + bad))
    done
fi

if [ "$what" != unit ]; then
    # The logs of the whole run: no child's full name, feed token or secret.
    if "$PYTHON" tests/check_logs.py "$LOGS" >"$log" 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    cat "$log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
