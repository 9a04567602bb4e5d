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

if [ "$what" = all ] || [ "$what" = unit ]; then
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log" 2>&1
        rc=$?
        cat "$log"
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
        PYTHONPATH=tests/integration:tests/faults CARECLOCK_BUILD="$BUILD" CARECLOCK_SHARED="$SHARED" "$PYTHON" -m unittest -v "$t" >"$log" 2>&1
        rc=$?
        cat "$log"
        ok=$(grep -c -E ' \.\.\. (ok|skipped.*)$' "$log")
        bad=$(grep -c -E ' \.\.\. (FAIL|ERROR)$' "$log")
        if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
        passed=$((passed + ok))
        failed=$((failed + bad))
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
