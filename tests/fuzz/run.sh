#!/bin/bash
# Run careclock's libFuzzer targets (built by `make fuzz` into build/fuzz/fuzzers).
#
#   tests/fuzz/run.sh smoke            every target: replay its committed crash inputs
#                                      (tests/fuzz/regressions/<target>/), then fuzz it for
#                                      FUZZ_SECONDS (25) from its committed corpus; FUZZ_JOBS
#                                      (the number of CPUs) targets at a time. For CI.
#   tests/fuzz/run.sh long TARGET...   fuzz each named target (default: all) for FUZZ_SECONDS
#                                      (600), keeping what it finds in build/fuzz/work/<target>
#                                      and crashes in build/fuzz/artifacts/<target>.
#   tests/fuzz/run.sh merge TARGET...  add the inputs of build/fuzz/work/<target> that reach new
#                                      coverage to the committed corpus (tests/fuzz/corpus/).
#
# Prints one line per target (runs, runs/s, coverage, corpus size, result) and
# ends with "N passed, N failed". A crash, a sanitizer report, a broken invariant,
# a leak, an input slower than 10 s or more than 2 GB of memory fails the target.
set -u
cd "$(dirname "$0")/../.."
BIN=build/fuzz/fuzzers
WORK=build/fuzz/work
ARTIFACTS=build/fuzz/artifacts
LOGS=build/fuzz/logs
mode=${1:-smoke}
shift || true
SECONDS_EACH=${FUZZ_SECONDS:-$([ "$mode" = long ] && echo 600 || echo 25)}
JOBS=${FUZZ_JOBS:-$(nproc)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for b in "$BIN"/fuzz_*; do
        [ -x "$b" ] && targets+=("${b##*/fuzz_}")
    done
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "no fuzz targets in $BIN: run make fuzz" >&2
    exit 1
fi
mkdir -p "$LOGS"

# One target: replay, then fuzz. Writes its summary to $LOGS/<t>.result.
run_one() {
    local t=$1 bin="$BIN/fuzz_$1" corpus="tests/fuzz/corpus/$1" reg="tests/fuzz/regressions/$1"
    local log="$LOGS/$t.$mode.log" result="PASS" tmp work
    : >"$log"
    if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
        if ! "$bin" -runs=1 "$reg"/* >>"$log" 2>&1; then
            result="FAIL (a committed crash input crashes again: $reg)"
        fi
    fi
    if [ "$mode" = long ]; then
        work="$WORK/$t"
        mkdir -p "$work" "$ARTIFACTS/$t"
        tmp=""
    else
        tmp=$(mktemp -d)
        work="$tmp"
    fi
    local art="${ARTIFACTS}/$t/"
    [ "$mode" = long ] || art="$work/"
    if [ "$result" = PASS ]; then
        if ! "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$art" "$work" "$corpus" >>"$log" 2>&1; then
            result="FAIL (see $log)"
            for c in "$art"crash-* "$art"leak-* "$art"timeout-* "$art"oom-*; do
                [ -e "$c" ] || continue
                mkdir -p "$LOGS/$t.crashes"
                cp "$c" "$LOGS/$t.crashes/"
                result="FAIL: $(basename "$c") kept in $LOGS/$t.crashes (see $log)"
            done
        fi
    fi
    local runs rate cov corp
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(grep -a -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
    printf '%-12s %10s runs %7s/s  cov %6s  corpus %-10s %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" \
        "${corp:-?}" "$result" >"$LOGS/$t.result"
    [ -n "$tmp" ] && rm -rf "$tmp"
    return 0
}

if [ "$mode" = merge ]; then
    for t in "${targets[@]}"; do
        [ -d "$WORK/$t" ] || { echo "$t: nothing in $WORK/$t"; continue; }
        before=$(ls "tests/fuzz/corpus/$t" | wc -l)
        "$BIN/fuzz_$t" -merge=1 "tests/fuzz/corpus/$t" "$WORK/$t" >"$LOGS/$t.merge.log" 2>&1
        echo "$t: corpus $before -> $(ls "tests/fuzz/corpus/$t" | wc -l) files"
    done
    exit 0
fi

case "$mode" in smoke|long) ;; *) echo "usage: $0 smoke | long [TARGET...] | merge [TARGET...]" >&2; exit 2 ;; esac
echo "fuzz $mode: ${#targets[@]} targets, ${SECONDS_EACH} s each, $JOBS at a time"
running=0
for t in "${targets[@]}"; do
    if [ ! -x "$BIN/fuzz_$t" ]; then
        printf '%-12s %s\n' "$t" "FAIL (no binary $BIN/fuzz_$t)" >"$LOGS/$t.result"
        continue
    fi
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
passed=0
failed=0
for t in "${targets[@]}"; do
    cat "$LOGS/$t.result"
    if grep -q ' PASS$' "$LOGS/$t.result"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
