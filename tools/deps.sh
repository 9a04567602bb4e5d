#!/bin/sh
# Install the Debian packages careclock's build, tests and benchmarks need,
# only those missing. A quick no-op when everything is present.
set -eu
PACKAGES="gcc make pkg-config libc6-dev
libsqlite3-dev libical-dev libjansson-dev libinih-dev libcmocka-dev
libuv1-dev libcurl4-openssl-dev libmicrohttpd-dev libssl-dev libsystemd-dev
sqlite3 tzdata valgrind curl python3 python3-numpy python3-pandas python3-aiosmtpd python3-icalendar khal
wrk nginx-light
clang libclang-rt-14-dev"
missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
if [ -z "$missing" ]; then
    echo "deps: all present"
    exit 0
fi
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
