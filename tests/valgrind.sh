#!/bin/bash
# Run every unit test binary in $BUILD/tests under valgrind memcheck,
# VALGRIND_JOBS (the number of CPUs) at a time. Any memory error or leak
# (definite, indirect or possible) fails the binary: --error-exitcode with
# --errors-for-leak-kinds. Suppressions, for third-party libraries only and
# each with the reason, are in tests/valgrind.supp. Each report is kept in
# $BUILD/valgrind/<test>.log. Ends with "N passed, N failed" (binaries).
set -u
BUILD=${BUILD:-build}
SUPP="$(cd "$(dirname "$0")" && pwd)/valgrind.supp"
LOGS="$BUILD/valgrind"
JOBS=${VALGRIND_JOBS:-$(nproc)}
mkdir -p "$LOGS"
rm -f "$LOGS"/*.result

one() {
    local t=$1 name log start rc secs errors
    name=$(basename "$t")
    log="$LOGS/$name.log"
    start=$(date +%s)
    CMOCKA_MESSAGE_OUTPUT=stdout valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible \
        --num-callers=30 --suppressions="$SUPP" "$t" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    echo "$secs" >"$LOGS/$name.secs"
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "valgrind $name: clean (${secs} s)" >"$LOGS/$name.result"
    else
        {
            echo "valgrind $name: FAILED, exit $rc, ${errors:-?} errors (${secs} s); the report is in $log"
            grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|Argument|[0-9,]+ bytes in)' \
                "$log" | head -10
        } >"$LOGS/$name.result"
    fi
}

# Slowest first (by the last run's time, when there was one), so that the
# long ones overlap the rest.
tests=$(for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    printf '%s %s\n' "$(cat "$LOGS/$(basename "$t").secs" 2>/dev/null || echo 0)" "$t"
done | sort -rn -s -k1,1 | cut -d' ' -f2)
running=0
for t in $tests; do
    one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
passed=0
failed=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    r="$LOGS/$(basename "$t").result"
    cat "$r"
    if grep -q ': clean (' "$r"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
