# careclock: the one entry point. See README.md.
#   make            build build/careclock (and build/careclockd once it exists)
#   make test       build and run every test (unit, then integration)
#   make deps       install the Debian packages building and testing need (tools/deps.sh;
#                   tools/deps.sh --runtime lists what a server needs)
#   make bench      run the benchmarks and print their figures
#   make install    PREFIX=/usr/local DESTDIR= (bin, sbin, /etc/careclock, share/careclock, man pages,
#                   bash completion, the systemd units and timers, sysusers and tmpfiles)
#   make uninstall  the same PREFIX and DESTDIR: removes what install put there but the configuration
#   make man        the man pages (scdoc) into build/man
#   make deb        the Debian package (debhelper) into build/deb, checked by lintian
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
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DATADIR ?= $(PREFIX)/share/careclock
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/careclock
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
BUILD   ?= build
PYTHON  ?= /usr/bin/python3
SHARED  ?= ../shared

PKGS    := sqlite3 libical jansson inih libuv libcurl libmicrohttpd libcrypto libsystemd zlib
TEST_PKGS := cmocka

# pkg-config name -> the Debian package that provides it, for the message
# when one is missing (make deps installs them all).
PKG_DEBIAN := sqlite3:libsqlite3-dev libical:libical-dev jansson:libjansson-dev inih:libinih-dev libuv:libuv1-dev \
              libcurl:libcurl4-openssl-dev libmicrohttpd:libmicrohttpd-dev libcrypto:libssl-dev \
              libsystemd:libsystemd-dev zlib:zlib1g-dev cmocka:libcmocka-dev

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 -Iinclude -Idaemon $(PKG_CFLAGS) \
           -DCC_DATADIR='"$(DATADIR)"' -DCC_SYSCONFDIR='"$(SYSCONFDIR)/careclock"' \
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

.PHONY: all pkgcheck layers test unit integration deps bench install uninstall man deb clean demo holidays \
        check-holidays valgrind fuzz fuzz-build fuzz-smoke fuzz-run faults

all: $(BUILD)/careclock $(BUILD)/careclockd $(if $(wildcard $(GOVUK)),web-assets)

# GOV.UK Frontend (the dashboard's styles, images and fonts), pinned in
# web/package.json and web/package-lock.json and fetched from the npm
# registry by make deps (npm ci); copied into config/web/ beside
# careclock.css, where careclockd finds them in the source tree and from
# where make install installs them (docs/dashboard.md).
GOVUK := web/node_modules/govuk-frontend/dist/govuk
WEB_ASSETS := config/web/govuk-frontend.min.css

.PHONY: web-assets
web-assets: $(WEB_ASSETS)

$(WEB_ASSETS): $(GOVUK)/govuk-frontend.min.css
	rm -rf config/web/fonts config/web/images
	cp -R $(GOVUK)/assets/fonts $(GOVUK)/assets/images config/web/
	cp $(GOVUK)/govuk-frontend.min.css $@

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
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

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

test: all man $(UNIT_BINS)
	BUILD=$(BUILD) PYTHON=$(PYTHON) SHARED=$(SHARED) tests/run.sh

unit: $(UNIT_BINS)
	BUILD=$(BUILD) PYTHON=$(PYTHON) tests/run.sh unit

integration: all man
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

# The paths the installed files name (man pages, units, the configuration).
SUBST = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
            -e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' -e 's|@UNITDIR@|$(UNITDIR)|g' \
            -e 's|@DOCDIR@|$(DOCDIR)|g'
UNIT_SUBST = sed -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/usr/local/bin|$(BINDIR)|g' \
                 -e 's|/usr/local/share/careclock|$(DATADIR)|g' -e 's|/etc/careclock|$(SYSCONFDIR)/careclock|g'
UNITS := careclockd.service careclock-backup.service careclock-backup.timer careclock-prune.service \
         careclock-prune.timer

# Man pages: scdoc sources in man/, built into $(BUILD)/man.
MAN_SRCS  := $(wildcard man/*.scd)
MAN_PAGES := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))

man: $(MAN_PAGES)

$(BUILD)/man/%: man/%.scd VERSION
	@command -v scdoc >/dev/null || { echo "scdoc is missing (Debian package scdoc; make deps installs it)" >&2; \
	    exit 1; }
	@mkdir -p $(dir $@)
	$(SUBST) $< | scdoc > $@.tmp && mv $@.tmp $@

# The files install puts under $(DESTDIR), one a line, for uninstall.
INSTALLED = $(BINDIR)/careclock $(SBINDIR)/careclockd \
            $(patsubst config/%,$(DATADIR)/%,$(wildcard config/holidays/*.ics config/rules/*.rules)) \
            $(patsubst config/%,$(DATADIR)/%,$(wildcard config/web/*.css config/web/*.txt config/web/fonts/* \
                                                        config/web/images/*)) \
            $(foreach m,$(notdir $(MAN_PAGES)),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(m)) \
            $(BASHCOMPDIR)/careclock $(BASHCOMPDIR)/careclockd $(addprefix $(UNITDIR)/,$(UNITS)) \
            $(SYSUSERSDIR)/careclock.conf $(TMPFILESDIR)/careclock.conf \
            $(DOCDIR)/README.md $(patsubst docs/%,$(DOCDIR)/docs/%,$(wildcard docs/*.md))

install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/holidays $(DESTDIR)$(DATADIR)/rules \
	    $(DESTDIR)$(SYSCONFDIR)/careclock $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)/docs
	install -m 0755 $(BUILD)/careclock $(DESTDIR)$(BINDIR)/careclock
	install -m 0755 $(BUILD)/careclockd $(DESTDIR)$(SBINDIR)/careclockd
	install -m 0644 config/holidays/*.ics $(DESTDIR)$(DATADIR)/holidays/
	install -m 0644 config/rules/*.rules $(DESTDIR)$(DATADIR)/rules/
	install -d $(DESTDIR)$(DATADIR)/web/fonts $(DESTDIR)$(DATADIR)/web/images
	install -m 0644 config/web/careclock.css config/web/LICENSE-govuk-frontend.txt $(DESTDIR)$(DATADIR)/web/
	if [ -f $(WEB_ASSETS) ]; then \
	    install -m 0644 $(WEB_ASSETS) $(DESTDIR)$(DATADIR)/web/ && \
	    install -m 0644 config/web/fonts/* $(DESTDIR)$(DATADIR)/web/fonts/ && \
	    install -m 0644 config/web/images/* $(DESTDIR)$(DATADIR)/web/images/; \
	else echo "make install: GOV.UK Frontend is missing (run make deps): the dashboard will be unstyled" >&2; fi
	for m in $(notdir $(MAN_PAGES)); do \
	    install -m 0644 $(BUILD)/man/$$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m || exit 1; done
	install -m 0644 completions/careclock $(DESTDIR)$(BASHCOMPDIR)/careclock
	ln -sf careclock $(DESTDIR)$(BASHCOMPDIR)/careclockd
	for u in $(UNITS); do $(UNIT_SUBST) systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 0644 systemd/careclock.sysusers $(DESTDIR)$(SYSUSERSDIR)/careclock.conf
	install -m 0644 systemd/careclock.tmpfiles $(DESTDIR)$(TMPFILESDIR)/careclock.conf
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	test -e $(DESTDIR)$(SYSCONFDIR)/careclock/careclock.conf || \
	    { $(UNIT_SUBST) config/careclock.conf > $(DESTDIR)$(SYSCONFDIR)/careclock/careclock.conf && \
	      chmod 0644 $(DESTDIR)$(SYSCONFDIR)/careclock/careclock.conf; }

# Everything install put there, and the directories it made when empty.
# The configuration ($(SYSCONFDIR)/careclock) and the data (/var/lib/careclock,
# /var/backups/careclock) stay: remove them by hand once they are not needed.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DATADIR)/web/fonts $(DESTDIR)$(DATADIR)/web/images $(DESTDIR)$(DATADIR)/web \
	    $(DESTDIR)$(DATADIR)/holidays $(DESTDIR)$(DATADIR)/rules $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) 2>/dev/null
	@echo "uninstall: kept $(DESTDIR)$(SYSCONFDIR)/careclock (the configuration) and the data in /var/lib/careclock"
	@echo "  and /var/backups/careclock; first stop the units: systemctl disable --now careclockd.service \\"
	@echo "  careclock-backup.timer careclock-prune.timer"

# The Debian package, built by debhelper from a copy of the sources in
# build/deb/src (kept between runs, so a second build compiles only what
# changed), then checked by lintian: any error fails. The .deb and
# lintian's report land in build/deb.
DEB_DIR    := build/deb
DEB_SRC    := $(DEB_DIR)/src/careclock
DEB_FILES  := Makefile VERSION README.md daemon include config systemd man completions debian docs
DEB_ARCH   := $(shell dpkg --print-architecture 2>/dev/null)
DEB        := $(DEB_DIR)/careclock_$(VERSION)_$(DEB_ARCH).deb
DEB_INPUTS := $(shell find $(DEB_FILES) ! -type d 2>/dev/null)

deb: $(DEB)

# Rebuilt only when a file it is made from changed: the tests reuse it.
$(DEB): $(DEB_INPUTS)
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
	    { echo "dpkg-buildpackage or debhelper is missing (make deps installs them)" >&2; exit 1; }
	mkdir -p $(DEB_SRC)
	tar -cf - $(DEB_FILES) | tar -xf - -C $(DEB_SRC)
	rm -f $(DEB_SRC)/debian/debhelper-build-stamp
	cd $(DEB_SRC) && dpkg-buildpackage -b -uc -us --no-pre-clean -j2 >../../build.log 2>&1 || \
	    { tail -n 30 $(CURDIR)/$(DEB_DIR)/build.log; exit 1; }
	mkdir -p $(DEB_DIR)/unchecked
	mv $(DEB_DIR)/src/careclock_$(VERSION)_$(DEB_ARCH).deb $(DEB_DIR)/unchecked/
	rm -f $(DEB_DIR)/src/careclock_$(VERSION)_* $(DEB_DIR)/src/careclock-dbgsym_*.deb
	@if command -v lintian >/dev/null; then \
	    lintian --fail-on error $(DEB_DIR)/unchecked/$(notdir $@) > $(DEB_DIR)/lintian.txt 2>&1; rc=$$?; \
	    cat $(DEB_DIR)/lintian.txt; \
	    [ $$rc -eq 0 ] || { echo "lintian found errors: $(DEB_DIR)/lintian.txt" >&2; exit 1; }; \
	else echo "lintian is missing: the package is not checked (make deps installs it)" >&2; fi
	mv $(DEB_DIR)/unchecked/$(notdir $@) $@
	@echo "$@"

clean:
	rm -rf build
