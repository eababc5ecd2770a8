# qrun - a QEMU launcher for kernel, hypervisor and network developers.
# make [V=1] [WERROR=0] [SANITIZE=1] [VALGRIND=1] [STATIC_LIBS=1]
#      [PREFIX=/usr/local] [DESTDIR=]
# make install CAPS=1: qrun gets the file capability cap_net_admin+ep
# make deb: the Debian package, built in build/deb/ (see below)
# make check, demo and bench need root: run by a user, they build what
# needs no root as that user, then run the rest through sudo.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/qrun
SYSCONFDIR ?= /etc

# The version has one source, the newest entry of debian/changelog: the
# package and "qrun --version" can never disagree.
VERSION	:= $(shell head -n 1 debian/changelog 2>/dev/null | tr -d '()' | cut -d ' ' -f 2)
ifeq ($(VERSION),)
$(error cannot read the version from debian/changelog)
endif

CC	?= cc
PKG_CONFIG ?= pkg-config
PKGS	:= libnl-route-3.0 libnl-3.0 libconfig json-c
CFLAGS	?= -O2 -g
WARN	:= -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	   -Wpointer-arith -Wcast-qual -Wformat=2
WERROR	?= 1
ifeq ($(WERROR),1)
WARN	+= -Werror
endif
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# Shared libraries by default, as Debian's policy asks: a security fix in
# libconfig (which parses the profiles users write, for a binary that may
# hold cap_net_admin), libnl or json-c reaches an installed qrun with the
# library's own update. STATIC_LIBS=1 links libnl, libconfig, json-c and
# libcap from their Debian .a files (readline stays shared): the dynamic
# loader's symbol lookups in libnl are most of a warm run's instructions;
# make bench measures both (README, Performance).
STATIC_LIBS ?= 0
LIBS_SHARED = $(PKG_LIBS) -lreadline -lcap
LIBS_STATIC = -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs --static $(PKGS) libcap \
	      2>/dev/null | sed 's/-lpthread//g') -Wl,-Bdynamic -lpthread -lreadline
# libnftables (net.nat) is opened with dlopen() by the runs that use NAT:
# its header at build time (libnftables-dev), libnftables.so.1 at run
# time, no link flag, so no other run pays for loading it and its five
# libraries.
NFT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libnftables 2>/dev/null)
ALL_CFLAGS  = -std=gnu11 -D_GNU_SOURCE -DQRUN_VERSION=\"$(VERSION)\" $(WARN) \
	      $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) $(NFT_CFLAGS) -Ilauncher
LIBS	    = $(if $(filter 1,$(STATIC_LIBS)),$(LIBS_STATIC),$(LIBS_SHARED))

V	?= 0
ifeq ($(V),1)
Q	:=
else
Q	:= @
endif

B	:= build
SRCS	:= $(wildcard launcher/*.c)
OBJS	:= $(SRCS:launcher/%.c=$(B)/%.o)
LIBOBJS	:= $(filter-out $(B)/main.o $(B)/cmd_%.o $(B)/shell_%.o,$(OBJS))
TSRCS	:= $(wildcard tests/unit/*.c)
TOBJS	:= $(TSRCS:tests/unit/%.c=$(B)/t_%.o)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

.PHONY: all deps check unit e2e guests demo bench fuzz install uninstall deb clean

all: qrun

qrun: $(OBJS) $(B)/.link
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

# make bench times both ways of linking the same objects.
$(B)/qrun-shared $(B)/qrun-static: $(B)/qrun-%: $(OBJS) $(B)/.link
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS_$(if $(filter static,$*),STATIC,SHARED))

# Objects are rebuilt when the flags change, so "make check SANITIZE=1"
# after a plain "make" really gets instrumented objects; binaries are
# linked again when the libraries change (STATIC_LIBS=1).
FLAGS_NOW := $(CC) $(ALL_CFLAGS) $(LDFLAGS)
LINK_NOW := $(CC) $(LDFLAGS) $(LIBS)
$(shell mkdir -p $(B) && (echo '$(FLAGS_NOW)' | cmp -s - $(B)/.flags || \
	echo '$(FLAGS_NOW)' > $(B)/.flags) && (echo '$(LINK_NOW)' | \
	cmp -s - $(B)/.link || echo '$(LINK_NOW)' > $(B)/.link))

$(B)/%.o: launcher/%.c $(wildcard launcher/*.h) $(B)/.flags | $(B)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/t_%.o: tests/unit/%.c launcher/qrun.h launcher/cmd.h $(B)/suites.h $(B)/.flags | $(B)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -I$(B) $(shell $(PKG_CONFIG) --cflags check) -c -o $@ $<

# Every suite function "NAME_suite(void)" (name at the start of a line, as
# in BSD style) in tests/unit becomes part of the runner.
$(B)/suites.h: $(TSRCS) | $(B)
	$(Q)sed -n 's/^\([a-z0-9_]*\)_suite(void)$$/SUITE(\1)/p' $(TSRCS) > $@.tmp && mv $@.tmp $@

$(B)/unit: $(LIBOBJS) $(TOBJS) $(B)/.link
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(TOBJS) $(LIBOBJS) $(LIBS) $(CHECK_LIBS)

# bench/run's slot take/release benchmark: slot.c as qrun links it.
$(B)/slotbench: bench/slots.c $(LIBOBJS) $(B)/.link
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ bench/slots.c $(LIBOBJS) $(LIBS)

$(B):
	$(Q)mkdir -p $@

# What needs root (reading /boot's kernel for the test guests, network
# namespaces, taps) runs directly as root, and through sudo for a user
# (scripts/as-root); everything else is built as whoever runs make.
AS_ROOT	:= $(if $(filter 0,$(shell id -u)),,sh scripts/as-root)

deps:
	sh scripts/deps

unit: $(B)/unit

guests:
	$(Q)$(AS_ROOT) sh scripts/build-guests

# Fault injection for tests/e2e/faults.sh (LD_PRELOAD; never in qrun).
$(B)/nlfail.so: tests/fault/nlfail.c | $(B)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -shared -fPIC -O2 -Wall -Wextra -o $@ $< -ldl

# Unit and end-to-end tests; the last line is "N passed, N failed[, N skipped]".
# The suite runs as root acting for nobody, as CI runs it, whoever starts
# it: the tests of qrun acting for a developer make their own users and
# set SUDO_UID themselves, so sudo's own variables are dropped.
TEST_ENV := env -u SUDO_UID -u SUDO_GID -u SUDO_USER -u SUDO_COMMAND
check: qrun $(B)/unit $(B)/nlfail.so guests
	$(Q)$(AS_ROOT) $(TEST_ENV) VALGRIND=$(VALGRIND) sh tests/run

e2e: qrun $(B)/nlfail.so guests
	$(Q)$(AS_ROOT) $(TEST_ENV) UNIT=no sh tests/run

demo: qrun guests
	$(Q)$(AS_ROOT) sh scripts/demo

bench: qrun $(B)/qrun-shared $(B)/qrun-static $(B)/slotbench guests
	$(Q)$(AS_ROOT) sh bench/run

fuzz:
	$(Q)sh tests/fuzz/run

# The example profiles go to $(DOCDIR)/examples and to where "qrun -p NAME"
# looks, $(SYSCONFDIR)/qrun/profiles, never over an edited one.
install: qrun
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSCONFDIR)/qrun/profiles \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 qrun $(DESTDIR)$(BINDIR)/qrun
ifeq ($(CAPS),1)
	setcap cap_net_admin+ep $(DESTDIR)$(BINDIR)/qrun
endif
	install -m 0644 man/qrun.1 $(DESTDIR)$(MANDIR)/man1/qrun.1
	install -m 0644 man/qrun.conf.5 $(DESTDIR)$(MANDIR)/man5/qrun.conf.5
	install -m 0644 profiles/*.conf $(DESTDIR)$(DOCDIR)/examples/
	for f in profiles/*.conf; do \
		t=$(DESTDIR)$(SYSCONFDIR)/qrun/profiles/$${f#profiles/}; \
		[ -e "$$t" ] || install -m 0644 "$$f" "$$t"; \
	done
	install -m 0644 scripts/qrun.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/qrun

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/qrun $(DESTDIR)$(MANDIR)/man1/qrun.1 \
		$(DESTDIR)$(MANDIR)/man5/qrun.conf.5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/qrun
	rm -rf $(DESTDIR)$(DOCDIR)/examples
	# profiles in $(SYSCONFDIR)/qrun are configuration: left in place

# make deb: "dpkg-buildpackage -b -us -uc" on a copy of this tree (as it
# is, committed or not, less build products) in $(DEBDIR), so neither the
# tree nor ./qrun change; the package is $(DEBDIR)/qrun_VERSION_ARCH.deb.
# DEB_BUILD_OPTIONS=nocheck skips the unit tests of the package build.
DEBDIR	?= $(B)/deb
deb:
	$(Q)rm -rf $(DEBDIR)/qrun-$(VERSION) $(DEBDIR)/qrun_* $(DEBDIR)/qrun-dbgsym_* \
		$(DEBDIR)/build.log
	$(Q)mkdir -p $(DEBDIR)/qrun-$(VERSION)
	$(Q)tar -cf - --anchored --exclude=./.git --exclude=./.cache \
		--exclude=./$(B) --exclude=./qrun . | tar -xf - -C $(DEBDIR)/qrun-$(VERSION)
	@echo "  DEB     $(DEBDIR) (log: $(DEBDIR)/build.log)"
	$(Q)cd $(DEBDIR)/qrun-$(VERSION) && dpkg-buildpackage -b -us -uc -Jauto \
		$(if $(filter nocheck,$(DEB_BUILD_OPTIONS)),-Pnocheck) \
		>../build.log 2>&1 || { tail -n 30 ../build.log; exit 1; }
	@echo "deb: $(DEBDIR)/qrun_$(VERSION)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb"

clean:
	rm -rf $(B) qrun
