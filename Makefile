# careclock: the one entry point. See README.md.
#   make            build build/careclock (and build/careclockd once it exists)
#   make test       build and run every test (unit, then integration)
#   make deps       install the Debian packages the build, tests and benchmarks need
#   make bench      run the benchmarks and print their figures
#   make install    PREFIX=/usr/local DESTDIR= (bin, /etc/careclock, share/careclock)
#   make demo       the README's first Quick start command
#   make holidays   regenerate config/holidays/*.ics from ../shared/data/bank-holidays.json
#   make SANITIZE=1 test   the whole suite built with ASan and UBSan (build/sanitize)
#   make valgrind   every unit test binary under valgrind memcheck
#   make fuzz       the libFuzzer targets (clang, build/fuzz); make fuzz-smoke runs each briefly
#   make faults     fault tests against the real daemon, SQLite, SMTP and HTTP (docs/reliability.md)

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD   ?= build
PYTHON  ?= /usr/bin/python3
SHARED  ?= ../shared

PKGS    := sqlite3 libical jansson inih libuv libcurl libmicrohttpd libcrypto libsystemd
TEST_PKGS := cmocka

# pkg-config name -> the Debian package that provides it, for the message
# when one is missing (make deps installs them all).
PKG_DEBIAN := sqlite3:libsqlite3-dev libical:libical-dev jansson:libjansson-dev inih:libinih-dev libuv:libuv1-dev \
              libcurl:libcurl4-openssl-dev libmicrohttpd:libmicrohttpd-dev libcrypto:libssl-dev \
              libsystemd:libsystemd-dev cmocka:libcmocka-dev

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 -Iinclude -Idaemon $(PKG_CFLAGS) \
           -DCC_DATADIR='"$(PREFIX)/share/careclock"' -DCC_SYSCONFDIR='"$(SYSCONFDIR)/careclock"' \
           -DCC_LOCALSTATEDIR='"$(LOCALSTATEDIR)"' -DCC_UNITDIR='"$(UNITDIR)"'
DEPFLAGS = -MMD -MP
LDLIBS  += $(PKG_LIBS) -lm

ifeq ($(SANITIZE),1)
BUILD   := build/sanitize
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# FUZZ=1: the library built by clang for libFuzzer (coverage instrumentation,
# ASan, UBSan), into build/fuzz. Used by the fuzz targets below.
ifeq ($(FUZZ),1)
BUILD   := build/fuzz
CC      := clang
CFLAGS  += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# The layers, lowest first (docs/architecture.md). The library is every
# layer below the two programs; cli/ is careclock, daemon/ is careclockd.
LIB_LAYERS := util core config store notify http
LIB_SRCS  := $(foreach d,$(LIB_LAYERS),$(wildcard daemon/$(d)/*.c))
LIB_OBJS  := $(patsubst daemon/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB       := $(BUILD)/libcareclock.a
CLI_OBJS  := $(patsubst daemon/%.c,$(BUILD)/obj/%.o,$(wildcard daemon/cli/*.c))
DAEMON_OBJS := $(patsubst daemon/%.c,$(BUILD)/obj/%.o,$(wildcard daemon/daemon/*.c))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzzers/%,$(FUZZ_SRCS))
ALL_OBJS  := $(LIB_OBJS) $(CLI_OBJS) $(DAEMON_OBJS)

.PHONY: all pkgcheck layers test unit integration deps bench install clean demo holidays check-holidays valgrind fuzz fuzz-build \
        fuzz-smoke fuzz-run faults

all: $(BUILD)/careclock $(BUILD)/careclockd

# Every library pkg-config knows, or the build stops here naming what is
# missing and the Debian package to install (instead of a wall of errors).
pkgcheck:
	@missing=""; for p in $(PKGS) $(TEST_PKGS); do pkg-config --exists $$p || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    for m in $$missing; do for pair in $(PKG_DEBIAN); do \
	        [ "$${pair%%:*}" = "$$m" ] && echo "missing library: $$m (Debian package $${pair#*:}; make deps installs it)" >&2; \
	    done; done; exit 1; fi

$(BUILD)/obj/%.o: daemon/%.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/careclock: $(CLI_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/careclockd: $(DAEMON_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(DEPFLAGS) $(TEST_CFLAGS) -DCC_SOURCE_DIR='"$(CURDIR)"' $(LDFLAGS) -o $@ $< $(LIB) $(TEST_LIBS) $(LDLIBS)

$(BUILD)/fuzzers/%: tests/fuzz/%.c $(LIB) | $(BUILD)/fuzzers
	$(CC) $(CFLAGS) $(DEPFLAGS) -DCC_SOURCE_DIR='"$(CURDIR)"' -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests $(BUILD)/fuzzers:
	mkdir -p $@

# The release, from the VERSION file: compiled into util/version.c only.
VERSION := $(shell cat VERSION)
$(BUILD)/obj/util/version.o: CFLAGS += -DCC_VERSION='"$(VERSION)"'
$(BUILD)/obj/util/version.o: VERSION

-include $(ALL_OBJS:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_BINS:=.d)

test: all $(UNIT_BINS)
	BUILD=$(BUILD) PYTHON=$(PYTHON) SHARED=$(SHARED) tests/run.sh

unit: $(UNIT_BINS)
	BUILD=$(BUILD) PYTHON=$(PYTHON) tests/run.sh unit

integration: all
	BUILD=$(BUILD) PYTHON=$(PYTHON) SHARED=$(SHARED) tests/run.sh integration

# Every unit test binary under valgrind memcheck: any error or leak fails
# (tests/valgrind.sh; suppressions, for third-party libraries only, in
# tests/valgrind.supp). Uses the ordinary build, not the sanitizer one.
valgrind: $(UNIT_BINS)
	BUILD=$(BUILD) tests/valgrind.sh

# libFuzzer targets (tests/fuzz/fuzz_*.c), one per parser or renderer that
# takes outside input; seed corpora in tests/fuzz/corpus/<target>/.
fuzz:
	$(MAKE) FUZZ=1 fuzz-build

fuzz-build: $(FUZZ_BINS)

# Each target for FUZZ_SECONDS (25) on its committed corpus, plus every
# committed crash input replayed (tests/fuzz/regressions/<target>/).
fuzz-smoke: fuzz
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),25) tests/fuzz/run.sh smoke

# A long run of one target: make fuzz-run TARGET=date FUZZ_SECONDS=600
fuzz-run: fuzz
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600) tests/fuzz/run.sh long $(TARGET)

# Fault tests (tests/faults): SIGKILL, a locked database, a full disk, stuck
# mail and webhook servers, hostile HTTP clients. docs/reliability.md.
faults: all
	BUILD=$(BUILD) PYTHON=$(PYTHON) SHARED=$(SHARED) tests/run.sh faults

deps:
	tools/deps.sh

bench: all
	$(MAKE) -C bench BUILD=$(abspath $(BUILD)) PYTHON=$(PYTHON)

holidays:
	$(PYTHON) tools/gen-holidays.py $(SHARED)/data/bank-holidays.json config/holidays

demo: all
	tools/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/careclock/holidays \
	    $(DESTDIR)$(PREFIX)/share/careclock/rules $(DESTDIR)$(SYSCONFDIR)/careclock
	install -m 0755 $(BUILD)/careclock $(DESTDIR)$(PREFIX)/bin/careclock
	install -m 0755 $(BUILD)/careclockd $(DESTDIR)$(PREFIX)/bin/careclockd
	install -m 0644 config/holidays/*.ics $(DESTDIR)$(PREFIX)/share/careclock/holidays/
	install -m 0644 config/rules/*.rules $(DESTDIR)$(PREFIX)/share/careclock/rules/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d \
	    $(DESTDIR)$(PREFIX)/lib/tmpfiles.d
	sed 's|/usr/local|$(PREFIX)|g; s|/etc/careclock|$(SYSCONFDIR)/careclock|g' systemd/careclockd.service \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/system/careclockd.service
	install -m 0644 systemd/careclock.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/careclock.conf
	install -m 0644 systemd/careclock.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/careclock.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/careclock/careclock.conf || \
	    sed 's|/usr/local|$(PREFIX)|g' config/careclock.conf > $(DESTDIR)$(SYSCONFDIR)/careclock/careclock.conf

clean:
	rm -rf build
