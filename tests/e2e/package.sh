#!/bin/sh
# The Debian package: make deb builds qrun_VERSION_ARCH.deb (the version
# of debian/changelog) without leaving anything in the tree that git sees;
# it holds the binary, both man pages, bash completion, the example
# profiles (also as conffiles in /etc/qrun/profiles) and the tmpfiles.d
# entry, depends on the shared libraries dh_shlibdeps found, and lintian
# finds no error or warning in it. Installed with dpkg into a throwaway
# root (maintainer scripts run outside a chroot, with DPKG_ROOT), the
# installed qrun prints the package's version, finds the installed
# profile, and its man pages format without a warning; it has no file
# capability unless dpkg-statoverride lists it (qrun(1), Privileges).
. "$(dirname "$0")/lib.sh"

need_root "package"
for t in dpkg-buildpackage dh lintian man dpkg-parsechangelog; do
	if ! command -v "$t" >/dev/null 2>&1; then
		skip "package: $t missing (scripts/deps installs it)"
		exit 0
	fi
done

VERSION=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
ARCH=$(dpkg-architecture -q DEB_HOST_ARCH)
DEBDIR=$TESTDIR/deb
DEB=$DEBDIR/qrun_${VERSION}_$ARCH.deb
SRC=$DEBDIR/qrun-$VERSION

# ------------------------------------------------------------- build
# git answers for this tree (a checkout, git installed, owner accepted).
GIT=no
git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1 && GIT=yes
gitst() { [ $GIT = no ] || git -C "$TOP" status --porcelain; }
before=$(gitst)
# A make of its own: not the jobserver of a make check around this.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL DEB_BUILD_OPTIONS=nocheck \
    make -s -C "$TOP" deb DEBDIR="$DEBDIR" >"$TESTDIR/make.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -f "$DEB" ]; then
	cat "$TESTDIR/make.out"
	fail "make deb: no $(basename "$DEB") (exit $rc)"
	exit 0
fi
ok "make deb: $(basename "$DEB") (version of debian/changelog)"
check "make deb: names the package it built" \
    grep -qx "deb: $DEB" "$TESTDIR/make.out"
if [ $GIT = yes ]; then
	check "make deb: git status of the tree unchanged" [ "$before" = "$(gitst)" ]
else
	skip "make deb: git status: git does not answer for $TOP"
fi

# What dpkg-buildpackage leaves in a tree (as in the copy it ran in) is
# all ignored by git, for a build run in the tree itself.
if [ $GIT = yes ]; then
	(cd "$TOP" && find . -path ./.git -prune -o -path ./.cache -prune -o ! -type d -print) |
	    sort >"$TESTDIR/tree"
	notign=$( (cd "$SRC" && find . ! -type d -print) | sort | comm -23 - "$TESTDIR/tree" |
	    sed 's|^\./||' | git -C "$TOP" check-ignore --no-index --stdin -nv |
	    sed -n 's/^::\t//p' | tr '\n' ' ')
	check "in-tree dpkg-buildpackage: every product git-ignored${notign:+ (not: $notign)}" \
	    [ -z "$notign" ]
else
	skip "in-tree build products: git does not answer for $TOP"
fi

# ---------------------------------------------------------- contents
dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }' >"$TESTDIR/contents"
echo "# contents of $(basename "$DEB"):"
sed 's/^/#   /' "$TESTDIR/contents"
want="./usr/bin/qrun ./usr/share/man/man1/qrun.1.gz
    ./usr/share/man/man5/qrun.conf.5.gz
    ./usr/share/bash-completion/completions/qrun
    ./usr/lib/tmpfiles.d/qrun.conf ./usr/share/doc/qrun/copyright
    ./usr/share/doc/qrun/changelog.gz"
for f in "$TOP"/profiles/*.conf; do
	n=$(basename "$f")
	want="$want ./usr/share/doc/qrun/examples/$n ./etc/qrun/profiles/$n"
done
missing=""
for p in $want; do
	grep -q " $p\$" "$TESTDIR/contents" || missing="$missing $p"
done
check "contents: binary, man pages, completion, examples, profiles, tmpfiles.d${missing:+ (missing:$missing)}" \
    [ -z "$missing" ]
check "contents: qrun is root-owned 0755, no setuid" \
    grep -q '^-rwxr-xr-x root/root ./usr/bin/qrun$' "$TESTDIR/contents"

ctl() { dpkg-deb -f "$DEB" "$1"; }
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles >"$TESTDIR/conffiles" 2>/dev/null
missing=""
for f in "$TOP"/profiles/*.conf; do
	grep -qx "/etc/qrun/profiles/$(basename "$f")" "$TESTDIR/conffiles" ||
	    missing="$missing $(basename "$f")"
done
check "conffiles: every /etc/qrun/profiles file${missing:+ (not:$missing)}" \
    [ -z "$missing" ]
check "control: version $VERSION" [ "$(ctl Version)" = "$VERSION" ]
deps=$(ctl Depends)
echo "# Depends: $deps"
echo "# Recommends: $(ctl Recommends)"
missing=""
for l in libconfig9 libnl-3-200 libnl-route-3-200 libjson-c5 libcap2 \
    libreadline8 libc6 qemu-system-x86; do
	case ", $deps," in *", $l "* | *", $l,"*) ;; *) missing="$missing $l" ;; esac
done
check "control: Depends has the shared libraries and QEMU${missing:+ (missing:$missing)}" \
    [ -z "$missing" ]
# dnsmasq serves net.dhcp; libnftables1 is dlopen()ed for net.nat, which
# dh_shlibdeps cannot see
check "control: Recommends dnsmasq-base, libnftables1" \
    [ "$(ctl Recommends)" = "dnsmasq-base, libnftables1" ]
check "binary: linked with the shared libconfig and libnl" \
    sh -c "dpkg-deb --fsys-tarfile '$DEB' | tar -xOf - ./usr/bin/qrun >'$TESTDIR/qrun.bin' &&
	readelf -d '$TESTDIR/qrun.bin' | grep -q 'NEEDED.*libconfig.so' &&
	readelf -d '$TESTDIR/qrun.bin' | grep -q 'NEEDED.*libnl-route-3.so'"

# ----------------------------------------------------------- lintian
lintian "$DEB" >"$TESTDIR/lintian" 2>&1
echo "# lintian: $(grep -c . "$TESTDIR/lintian") lines"
sed 's/^/#   /' "$TESTDIR/lintian"
check "lintian: no error, no warning" \
    sh -c "! grep -Eq '^[EW]: ' '$TESTDIR/lintian'"

# ----------------------------------------------------------- install
# dpkg into a throwaway root: its own database; the dependencies are the
# host's (not in that database, hence --force-depends); maintainer
# scripts run here with DPKG_ROOT set instead of in a chroot, which the
# throwaway root could not run (it has no shell).
R=$TESTDIR/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
: >"$R/var/lib/dpkg/status"
rdpkg() {
	dpkg --root="$R" --force-script-chrootless --force-depends \
	    --log=/dev/null "$@" >>"$TESTDIR/dpkg.out" 2>&1
}
if ! rdpkg -i "$DEB"; then
	cat "$TESTDIR/dpkg.out"
	skip "dpkg --root: cannot install here; the files of dpkg -x only"
	R=$TESTDIR/x
	dpkg -x "$DEB" "$R"
	INSTALLED=no
else
	ok "dpkg --root -i: installed"
	INSTALLED=yes
fi

# The installed qrun, as root for nobody else (sudo's variables would make
# it ignore QRUN_SYSCONF_DIR) and reading no profile of the host.
iqrun() {
	env -u SUDO_UID -u SUDO_GID -u SUDO_USER QRUN_SYSCONF_DIR="$R/etc/qrun" \
	    "$R/usr/bin/qrun" "$@"
}
v=$(iqrun --version 2>&1)
check "installed qrun --version: qrun $VERSION (got: $v)" [ "$v" = "qrun $VERSION" ]
iqrun check -p local-tap >"$TESTDIR/check.out" 2>&1
rc=$?
check "installed qrun check -p local-tap: exit 0 (got $rc)" [ $rc -eq 0 ]
check "installed qrun check -p local-tap: the installed profile, tap1" \
    sh -c "grep -q '^net.tap = tap1.*# $R/etc/qrun/profiles/local-tap.conf:' '$TESTDIR/check.out'"
for m in man1/qrun.1 man5/qrun.conf.5; do
	MANWIDTH=80 man --warnings -l "$R/usr/share/man/$m.gz" \
	    >"$TESTDIR/man.out" 2>"$TESTDIR/man.err"
	rc=$?
	title=$(basename "$m" | sed 's/\.\([0-9]\)$/(\1)/' | tr a-z A-Z)
	check "man -l $m: exit 0 (got $rc)" [ $rc -eq 0 ]
	check "man -l $m: no warning$(head -c 200 "$TESTDIR/man.err" | tr '\n' ' ')" \
	    [ ! -s "$TESTDIR/man.err" ]
	check "man -l $m: is $title" grep -q "^$title " "$TESTDIR/man.out"
done

[ $INSTALLED = yes ] || exit 0

if command -v systemd-tmpfiles >/dev/null 2>&1; then
	check "postinst: tmpfiles.d made /run/qrun, root's, mode 0700" \
	    [ "$(stat -c '%U %a' "$R/run/qrun" 2>&1)" = "root 700" ]
else
	skip "postinst: no systemd-tmpfiles here to make /run/qrun"
fi
check "dpkg-query: conffiles registered" \
    sh -c "dpkg-query --admindir='$R/var/lib/dpkg' -W -f='\${Conffiles}' qrun |
	grep -q '/etc/qrun/profiles/local-tap.conf '"

# The file capability: none by default; an administrator's statoverride
# makes an upgrade grant it again; none once that is removed.
caps() { getcap "$R/usr/bin/qrun" | sed 's/.* //'; }
check "no file capability after install" [ -z "$(caps)" ]
dpkg-statoverride --root="$R" --add root root 0750 /usr/bin/qrun
rdpkg -i "$DEB"
check "statoverride + upgrade: cap_net_admin=ep again (got: $(caps))" \
    [ "$(caps)" = cap_net_admin=ep ]
check "statoverride + upgrade: mode 0750 kept" \
    [ "$(stat -c %a "$R/usr/bin/qrun")" = 750 ]
dpkg-statoverride --root="$R" --remove /usr/bin/qrun
rdpkg -i "$DEB"
check "statoverride removed + upgrade: no capability (got: $(caps))" [ -z "$(caps)" ]

# An edited conffile survives an upgrade; purge removes them all.
echo "# edited" >>"$R/etc/qrun/profiles/local-tap.conf"
rdpkg -i "$DEB"
check "upgrade: an edited profile is kept" \
    grep -qx '# edited' "$R/etc/qrun/profiles/local-tap.conf"
rdpkg --purge qrun
left=$(cd "$R" && find etc usr -type f 2>/dev/null | tr '\n' ' ')
check "purge: no file of the package left${left:+ (left: $left)}" [ -z "$left" ]
