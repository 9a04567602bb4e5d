#!/bin/sh
# Run every unit test binary in $BUILD/tests under valgrind memcheck.
# Any memory error or leak (definite, indirect or possible) fails the
# binary: --error-exitcode with --errors-for-leak-kinds. Suppressions, for
# third-party libraries only and each with the reason, are in
# tests/valgrind.supp. Ends with "N passed, N failed" (binaries).
set -u
BUILD=${BUILD:-build}
SUPP="$(dirname "$0")/valgrind.supp"
LOGS="$BUILD/valgrind"
mkdir -p "$LOGS"
passed=0
failed=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    log="$LOGS/$name.log"
    start=$(date +%s)
    CMOCKA_MESSAGE_OUTPUT=stdout valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible \
        --track-fds=no --num-callers=30 --suppressions="$SUPP" "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "valgrind $name: clean (${secs} s)"
        passed=$((passed + 1))
    else
        echo "valgrind $name: FAILED, exit $rc, ${errors:-?} errors (${secs} s); the report is in $log"
        grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|Argument|[0-9,]+ bytes in)' \
            "$log" | head -10
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
