#!/bin/sh
# careclock's Debian packages, in three lists:
#   tools/deps.sh             install what building and testing need (make deps), only those missing
#   tools/deps.sh --bench     the same, and what the benchmarks need (make bench)
#   tools/deps.sh --runtime   print what a server running careclock needs, one a line (nothing installed);
#                             the Debian package depends on these, and libc6 (make deb)
#   tools/deps.sh --list      print the build and test list, one a line
# A quick no-op when everything is present.
set -eu

# What careclockd and careclock run with: the libraries they link, systemd
# (the unit, sysusers, tmpfiles and timers) and the time zone data.
RUNTIME="libsqlite3-0 libical3 libjansson4 libinih1 libuv1 libcurl4 libmicrohttpd12 libssl3 libsystemd0 zlib1g
systemd tzdata"

# Building: the compiler and the libraries' headers; scdoc for the man pages;
# debhelper and dpkg-dev for make deb.
BUILD="gcc make pkg-config libc6-dev
libsqlite3-dev libical-dev libjansson-dev libinih-dev libuv1-dev libcurl4-openssl-dev libmicrohttpd-dev
libssl-dev libsystemd-dev zlib1g-dev scdoc dpkg-dev debhelper"

# Testing (make test, and CI's sanitizer, valgrind, fuzz and fault runs):
# cmocka, the real servers the integration tests talk to (aiosmtpd), the
# feed checkers (python3-icalendar, python3-vobject, khal), Chromium for the
# HTML messages and (with python3-selenium) the dashboard, man for the man pages, lintian for the package, iproute2 for
# the package test's private network, clang for the fuzzers, valgrind.
TEST="libcmocka-dev sqlite3 tzdata curl python3 python3-aiosmtpd python3-icalendar python3-vobject khal chromium
chromium-driver python3-selenium man-db lintian iproute2 valgrind clang libclang-rt-14-dev"

# Benchmarks only (make bench): the comparison scripts and the HTTP load tools.
BENCH="python3-numpy python3-pandas wrk nginx-light"

case "${1:-}" in
    --runtime)
        printf '%s\n' $RUNTIME
        exit 0
        ;;
    --list)
        printf '%s\n' $BUILD $TEST
        exit 0
        ;;
    --bench) PACKAGES="$BUILD $TEST $BENCH" ;;
    "") PACKAGES="$BUILD $TEST" ;;
    *)
        echo "usage: tools/deps.sh [--bench | --runtime | --list]" >&2
        exit 2
        ;;
esac

# npm fetches the dashboard's pinned web packages (web/package-lock.json, at
# the end). Any npm will do: a machine with Node.js from elsewhere has one;
# otherwise Debian's.
if [ -n "${PACKAGES:-}" ] && ! command -v npm >/dev/null 2>&1; then
    PACKAGES="$PACKAGES npm"
fi
missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
# The Teams card check (tests/integration/cardcheck.js): Microsoft's
# Adaptive Cards parser and markdown-it, from the npm registry, when npm is
# there (node and npm come with the machine).
cards="$(dirname "$0")/../tests/integration/cards"
if command -v npm >/dev/null 2>&1 && [ -f "$cards/package-lock.json" ] && [ ! -d "$cards/node_modules/adaptivecards" ]; then
    echo "deps: npm ci in tests/integration/cards"
    (cd "$cards" && npm ci --no-audit --no-fund --silent)
fi
if [ -z "$missing" ]; then
    echo "deps: all present"
else
    echo "deps: installing$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# The web packages pinned in web/package-lock.json (GOV.UK Frontend, and
# axe-core for the browser tests), from the npm registry: again only when
# the lock file changed since the last install.
cd "$(dirname "$0")/../web"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: npm ci (web/package-lock.json)"
    npm ci --no-audit --no-fund
fi
cd ..
make -s web-assets
