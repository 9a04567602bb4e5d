#!/bin/sh
# Reminders in the demo: run one delivery cycle on the demo database with the
# file channel ([notify] file_channel), so that every email and webhook
# careclock would send is written as a file a newcomer can open.
#   tools/demo_deliveries.sh BUILD_DIR DB
# The cycle runs at 10:00 today, or on the next weekday when today is a
# weekend, so that it is inside the sending window whatever the time now.
set -eu
BUILD=${1:-build}
DB=${2:-$BUILD/demo/careclock.db}
DIR=$(dirname "$DB")
OUT="$DIR/outbox-files"
CONF="$DIR/deliveries.conf"
rm -rf "$OUT"
cat > "$CONF" <<EOF
[notify]
window = 08:00-18:00
digest = yes
file_channel = outbox-files
EOF
day=$(TZ=Europe/London date +%F)
case $(TZ=Europe/London date +%u) in
6) day=$(date -d "$day + 2 days" +%F) ;;
7) day=$(date -d "$day + 1 day" +%F) ;;
esac
"$BUILD/careclock" --db "$DB" --config "$CONF" deliveries run --now "${day}T10:00" 2>/dev/null
echo
echo "== Reminders and escalations written to $OUT (the file channel) =="
ls "$OUT" | head -n 8
first=$(ls "$OUT"/*.eml 2>/dev/null | head -n 1 || true)
if [ -n "$first" ]; then
    echo
    echo "== The first one, $first =="
    sed -n '1,/^$/p' "$first" | grep -E '^(Date|From|To|Subject|Message-ID):'
    echo
    echo "Try: $BUILD/careclock --db $DB deliveries --format table"
fi
