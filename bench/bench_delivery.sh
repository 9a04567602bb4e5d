#!/bin/sh
# Delivery rate: start the local SMTP server (aiosmtpd) and webhook receiver
# (http.server) used by the integration tests, in --no-save mode, then run
# bench_delivery against each with connection reuse on and off.
# Then the whole cycle, `careclock deliveries run`, on a generated council
# (bench_delivery_cycle.py), digest off and on.
#   bench_delivery.sh BENCH_BINARY PYTHON MESSAGES WORKDIR CARECLOCK CHILDREN
set -eu
BIN=$1
PYTHON=$2
N=$3
WORK=$4
CARECLOCK=$5
CHILDREN=$6
HERE=$(cd "$(dirname "$0")" && pwd)
SINKS="$HERE/../tests/integration"
mkdir -p "$WORK"
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' > "$WORK/secret"

"$PYTHON" "$SINKS/mailsink.py" --dir "$WORK/mail" --no-save > "$WORK/mail.port" &
MAIL_PID=$!
"$PYTHON" "$SINKS/hooksink.py" --dir "$WORK/hooks" --no-save > "$WORK/hook.port" &
HOOK_PID=$!
trap 'kill $MAIL_PID $HOOK_PID 2>/dev/null; wait $MAIL_PID $HOOK_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for f in mail hook; do
    i=0
    while ! grep -q PORT "$WORK/$f.port" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: $f sink did not start" >&2; exit 1; }
        sleep 0.1
    done
done
MAIL_PORT=$(awk '{print $2}' "$WORK/mail.port")
HOOK_PORT=$(awk '{print $2}' "$WORK/hook.port")

echo "delivery: $N messages per run; SMTP: aiosmtpd on 127.0.0.1:$MAIL_PORT; webhooks: http.server on 127.0.0.1:$HOOK_PORT"
for reuse in 1 0; do
    "$BIN" --channel email --url "smtp://127.0.0.1:$MAIL_PORT" --messages "$N" --reuse $reuse
done
for reuse in 1 0; do
    "$BIN" --channel webhook --url "http://127.0.0.1:$HOOK_PORT/hook" --messages "$N" --reuse $reuse \
        --secret-file "$WORK/secret"
done
for digest in no yes; do
    "$PYTHON" "$HERE/bench_delivery_cycle.py" --careclock "$CARECLOCK" --smtp-port "$MAIL_PORT" \
        --children "$CHILDREN" --digest $digest
done
