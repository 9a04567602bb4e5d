#!/bin/sh
# make demo: a demo council (three teams, workers, managers, an IRO and 48
# children whose histories put clocks in every status), its clocks and one
# explanation, then careclockd running in the foreground on it. Dates are
# relative to today, so the picture is always live.
# The demo database is build/demo/careclock.db; it is made afresh each run.
set -eu
BUILD=${1:-build}
CC_BIN="$BUILD/careclock"
DIR="$BUILD/demo"
DB="$DIR/careclock.db"
mkdir -p "$DIR"
rm -f "$DB" "$DB-wal" "$DB-shm"
TODAY=$(TZ=Europe/London date +%F)
cc() { "$CC_BIN" --db "$DB" --today "$TODAY" "$@"; }
ago() { date -d "$TODAY - $1 days" +%F; }

cc init >/dev/null
cc staff add SM1 --name "Sam Service-Manager" --email sm1@council.example --role service_manager >/dev/null
cc staff add IRO1 --name "Indira Reviewing" --email iro1@council.example --role iro >/dev/null
cc staff add V1 --name "Val Performance" --email v1@council.example --role viewer >/dev/null
for t in 1 2 3; do
    cc staff add TM$t --name "Team Manager $t" --email tm$t@council.example --role team_manager --manager SM1 >/dev/null
    cc team add T$t --name "Children in care team $t" --manager TM$t --service-manager SM1 >/dev/null
    for w in 1 2; do
        cc staff add W$t$w --name "Worker $t$w" --email w$t$w@council.example --role worker --manager TM$t >/dev/null
    done
done

# Each child: reference, initials, age band, and a history pattern (0-7).
i=0
for pattern in 0 1 2 3 4 5 6 7; do
    for k in 1 2 3 4 5 6; do
        i=$((i + 1))
        ref=$(printf "DEMO%03d" "$i")
        team=$(( (i % 3) + 1 ))
        worker="W$team$(( (i % 2) + 1 ))"
        age=$(( 2 + (i * 7) % 14 ))
        dob=$(date -d "$TODAY - $age years - $((i * 11)) days" +%F)
        initials=$(printf "%s.%s." "$(echo ABCDEFGHJKLMNPRSTW | cut -c$(( (i % 18) + 1 )))" \
                                   "$(echo ABCDEFGHJKLMNPRSTW | cut -c$(( ((i * 5) % 18) + 1 )))")
        cc child add "$ref" --dob "$dob" --team "T$team" --worker "$worker" --iro IRO1 --initials "$initials" >/dev/null
        case $pattern in
        0) start=$(ago $((2 + k))) ;;             # just placed: clocks open
        1) start=$(ago $((8 + k))) ;;             # care plan due soon
        2) start=$(ago $((25 + 3 * k))) ;;        # care plan overdue
        3) start=$(ago $((40 + 5 * k))) ;;        # plans done on time, first review held on time
        4) start=$(ago $((60 + 7 * k))) ;;        # first review held late, plan late
        5) start=$(ago $((200 + 10 * k))) ;;      # long-term: reviews, permanence plan
        6) start=$(ago $((20 + k))) ;;            # left care before the care plan was due
        7) start=$(ago $((10 + k))) ;;            # emergency placement
        esac
        cc event add "$ref" looked_after_start "$start" >/dev/null
        if [ "$pattern" = 7 ]; then
            cc event add "$ref" placement_start "$start" emergency=yes >/dev/null
        else
            cc event add "$ref" placement_start "$start" >/dev/null
        fi
        plus() { date -d "$start + $1 days" +%F; }
        case $pattern in
        3)  cc event add "$ref" care_plan_completed "$(plus 5)" >/dev/null
            cc event add "$ref" pep_completed "$start" >/dev/null
            cc event add "$ref" visit "$(plus 4)" >/dev/null
            cc event add "$ref" review_held "$(plus 25)" >/dev/null
            cc event add "$ref" health_assessment "$(plus 20)" >/dev/null ;;
        4)  cc event add "$ref" care_plan_completed "$(plus 20)" >/dev/null
            cc event add "$ref" review_held "$(plus 40)" >/dev/null
            cc event add "$ref" review_minutes_sent "$(plus 50)" >/dev/null ;;
        5)  cc event add "$ref" care_plan_completed "$(plus 7)" >/dev/null
            cc event add "$ref" pep_completed "$(plus 1)" >/dev/null
            cc event add "$ref" review_held "$(plus 27)" >/dev/null
            cc event add "$ref" review_minutes_sent "$(plus 30)" >/dev/null
            cc event add "$ref" review_held "$(plus 115)" >/dev/null
            [ $((k % 2)) = 0 ] && cc event add "$ref" permanence_plan_agreed "$(plus 100)" >/dev/null
            [ $((k % 2)) = 1 ] && cc event add "$ref" permanence_plan_agreed "$(plus 130)" >/dev/null
            cc event add "$ref" visit "$(plus 6)" >/dev/null ;;
        6)  cc event add "$ref" looked_after_end "$(plus 3)" >/dev/null ;;
        esac
    done
done
# A row written by another system that the engine cannot use: that child shows
# data_error, and nobody else's clocks stop.
sqlite3 "$DB" "INSERT INTO events (child_id, type, date, source) VALUES ('DEMO048', 'visit', '31/02/2026', 'lcs-sync')"

echo "careclock demo: $i children in three teams, today $TODAY"
echo "database: $DB"
echo
echo "== Clocks overdue or due soon (careclock --db $DB clocks --status overdue,due_soon,data_error) =="
cc clocks --status overdue,due_soon,data_error | head -n 25
echo "   ..."
echo
echo "== Count by status =="
sqlite3 "$DB" "SELECT status, COUNT(*) FROM clocks GROUP BY status ORDER BY 2 DESC" | tr '|' ' '
echo
echo "== careclock explain DEMO001 care_plan =="
cc explain DEMO001 care_plan
echo
FEED=$(cc feed add --team T1 | grep -o 'http[^ ]*\.ics' | head -n 1)
echo "== Calendar feed of team T1 =="
echo "careclockd serves it at: $FEED"
echo "Subscribe to it from a calendar application on this machine, or: curl -s $FEED | head -n 20"
echo
# careclockd's configuration for the demo: defaults, with reminders written
# as files (the file channel) instead of being emailed.
OUTBOX="$DIR/outbox-files"
rm -rf "$OUTBOX"
cat > "$DIR/careclock.conf" <<EOF
[notify]
window = 08:00-18:00
file_channel = outbox-files
EOF
# Reminders go out on working days 08:00-18:00. Outside that, start the
# daemon's clock at 10:00 on the next working day so that they are seen.
NOW_ARGS=""
HOUR=$(TZ=Europe/London date +%H)
NEXT=$TODAY
if [ "$("$CC_BIN" calc "$TODAY" +0wd)" != "$TODAY" ] || [ "$HOUR" -ge 18 ]; then
    NEXT=$("$CC_BIN" calc "$TODAY" +1wd)
fi
if [ "$NEXT" != "$TODAY" ] || [ "$HOUR" -lt 8 ]; then
    NOW_ARGS="--now ${NEXT}T10:00:00"
fi

echo "== careclockd =="
echo "The daemon now runs in the foreground on the demo database (Ctrl-C stops it)."
[ -n "$NOW_ARGS" ] && echo "It is outside the sending window now, so its clock starts at $NEXT 10:00 ($NOW_ARGS)."
echo "Reminders and escalations are written as files (the file channel) into $OUTBOX:"
echo "  ls $OUTBOX; $CC_BIN --db $DB deliveries"
echo "In another shell, record something and watch the clocks follow within a second:"
echo "  $CC_BIN --db $DB event add DEMO001 care_plan_completed $TODAY"
echo "  $CC_BIN --db $DB clocks --cached --child DEMO001      # the table as careclockd wrote it"
echo "  $CC_BIN --db $DB explain DEMO020 review 2"
echo "The dashboard: open http://127.0.0.1:8787/ in a browser on this machine and sign in as tm1@council.example"
echo "(a team manager), sm1@council.example (service manager), iro1@council.example, w11@council.example (a worker)"
echo "or v1@council.example (viewer, everything read-only). The sign-in e-mail is a file in $OUTBOX too:"
echo "  grep -h '/sign-in/' $OUTBOX/signin-*.eml | tail -n 1"
echo "Its log lines (journal priorities <6> info, <4> warning, <3> error) follow."
echo
[ "${DEMO_NO_DAEMON:-0}" = 1 ] && exit 0
# shellcheck disable=SC2086
exec "$BUILD/careclockd" --config "$DIR/careclock.conf" --db "$DB" $NOW_ARGS
