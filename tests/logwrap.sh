#!/bin/bash
# Test wrapper for careclock and careclockd (tests/run.sh links
# $CARECLOCK_TEST_LOGS/bin/careclock and .../careclockd here). It appends the
# program's stderr (its log lines) to $CARECLOCK_TEST_LOGS/stderr.log, notes
# any child's full name given with `careclock child add|set --name` in
# $CARECLOCK_TEST_LOGS/child-names.txt, and execs the real binary from
# $CARECLOCK_REAL_BUILD: the same process, so signals and exit statuses are
# the program's own. tests/check_logs.py then searches the logs for names.
prog=$(basename "$0")
prev=
child=
for a in "$@"; do
    [ "$a" = child ] && child=1
    if [ -n "$child" ] && [ "$prev" = --name ]; then
        printf '%s\n' "$a" >>"$CARECLOCK_TEST_LOGS/child-names.txt"
    fi
    prev=$a
done
exec 2> >(exec tee -a "$CARECLOCK_TEST_LOGS/stderr.log" >&2)
exec "$CARECLOCK_REAL_BUILD/$prog" "$@"
