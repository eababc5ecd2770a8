# Sourced by every end-to-end test: reporting, private network namespaces,
# snapshots of a namespace's network state, and where things are.
#
#   ok DESC | fail DESC | skip DESC   report one test ("ok - DESC" ...)
#   check DESC CMD...                 ok when CMD succeeds, else fail
#   expect_rc N DESC CMD...           ok when CMD exits N
#   netns_make VAR                    make a namespace, its name in $VAR;
#                                     removed at exit, also on failure
#   in_ns NS CMD...                   run CMD inside NS
#   snapshot NS                       `ip -d link` + `ip addr` of NS
#   ns_empty NS                       no process left in NS (2 s grace)
#   snap_stable NS, same_as NS BEFORE snapshot without link-local v6, and
#                                     equality allowing 3 s for carrier
#   wait_cmd SEC CMD...               poll CMD until it succeeds
#   wait_line FILE REGEX SEC          until FILE has a matching line
#   need_root DESC                    skip (and exit 0) when not root
#   qrun_state [sudo]                 the state dir qrun run as root uses
#                                     (sudo: for a developer, SUDO_UID)
#   no_journal [sudo]                 no run-*.journal in that dir
#   shared_dir VAR                    a 0755 dir under /tmp another user
#                                     can reach; removed at exit
#   user_copy                         qrun and the guests copied there:
#                                     $UQRUN, $UGUESTS, for other users
#
# As root every script runs in a private mount namespace with its own
# tmpfs on /run/qrun: qrun acting for a developer (SUDO_UID) ignores
# QRUN_STATE_DIR and keeps its locks and journals there, and they must
# neither land in the host's /run/qrun nor mix with a parallel suite's.
#   guest_initrd OUT, guest_do NS ACT the test guest with /cgi-bin/do, and
#                                     asking it to act (see below)
#
# Each test is a shell script that prints one line per test case and exits
# 0 unless it broke itself; tests/run counts the lines.

if [ "$(id -u)" -eq 0 ] && [ -z "${QRUN_E2E_RUNDIR:-}" ]; then
	# /run/qrun must exist to be mounted on: an empty directory, as
	# qrun as root makes it. It is never removed (a parallel suite may
	# have its tmpfs on it). Only the mount holding /run/qrun is made
	# private here: /run/netns stays shared with the host, so the
	# namespaces made here are as visible as without this.
	export QRUN_E2E_RUNDIR=private
	mkdir -p /run/qrun &&
	    unshare -m --propagation unchanged true 2>/dev/null &&
	    exec unshare -m --propagation unchanged sh -c '
	    m=$(findmnt -n -o TARGET -T /run/qrun) &&
	    mount --make-private "$m" &&
	    mount -t tmpfs -o mode=0700 qrun-e2e /run/qrun ||
	    { echo "FAIL - $1: cannot mount a private /run/qrun"; exit 1; }
	    exec sh "$@"' sh "$0" "$@"
	echo "# no private /run/qrun (unshare -m failed): runs for a developer use the host's"
fi

TOP=$(cd "$(dirname "$0")/../.." && pwd)
QRUN=${QRUN:-$TOP/qrun}
GUESTS=${GUESTS:-$TOP/.cache/guests}
TESTDIR=$(mktemp -d "${TMPDIR:-/tmp}/qrun-e2e.XXXXXX")
_NSES=""
_PIDS=""
_DIRS=""

ok()   { echo "ok - $*"; }
fail() { echo "FAIL - $*"; }
skip() { echo "skip - $*"; }

check() {
	_d=$1; shift
	if "$@"; then ok "$_d"; else fail "$_d"; fi
}

expect_rc() {
	_n=$1 _d=$2; shift 2
	"$@"
	_rc=$?
	if [ "$_rc" -eq "$_n" ]; then ok "$_d"; else fail "$_d (exit $_rc, want $_n)"; fi
}

# need_guests NAME FILE...: skip the script (loudly, counted) unless the
# test guests it boots are built.
need_guests() {
	_n=$1
	shift
	for _f in "$@"; do
		[ -r "$_f" ] && continue
		skip "$_n: no test guests (make guests)"
		exit 0
	done
}

# qrun_state [sudo]: where qrun, run as root by this script, keeps its
# locks and journals. Acting for a developer (SUDO_UID set and not 0: a
# run the test gives SUDO_UID, "sudo", or the whole suite under sudo) it
# ignores QRUN_STATE_DIR and uses /run/qrun (this script's private one);
# otherwise QRUN_STATE_DIR.
qrun_state() {
	_su=${SUDO_UID:-0}
	[ "${1:-}" = sudo ] && _su=1
	if [ "$(id -u)" -eq 0 ] && [ "$_su" != 0 ]; then
		echo /run/qrun
	else
		echo "$QRUN_STATE_DIR"
	fi
}

# no_journal [sudo]: no run's journal in qrun_state's directory.
no_journal() {
	[ -z "$(ls "$(qrun_state "$@")"/run-*.journal 2>/dev/null)" ]
}

# shared_dir VAR: a new directory (0755) in /tmp, which another user can
# reach wherever the checkout lives; its path goes into $VAR, and it is
# removed at exit, also when the script dies early.
shared_dir() {
	_d=$(mktemp -d /tmp/qrun-e2e-shared.XXXXXX) || return 1
	_DIRS="$_DIRS $_d"
	chmod 0755 "$_d"
	eval "$1=\$_d"
}

# user_copy: what another user must read or run, copied where they can:
# the checkout (and its .cache) may be in a 0700 home such as /root.
# Sets UQRUN (the qrun binary) and UGUESTS (the test guests).
user_copy() {
	shared_dir _uc || return 1
	mkdir "$_uc/guests"
	cp "$QRUN" "$_uc/qrun" || return 1
	cp "$GUESTS"/* "$_uc/guests/" 2>/dev/null	# need_guests says which
	chmod -R a+rX "$_uc"
	UQRUN=$_uc/qrun UGUESTS=$_uc/guests
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "$1: needs root"
		exit 0
	fi
}

_cleanup() {
	for _p in $_PIDS; do kill -9 "$_p" 2>/dev/null; done
	for _ns in $_NSES; do
		# Kill whatever still runs in the namespace, then remove it.
		for _p in $(ip netns pids "$_ns" 2>/dev/null); do kill -9 "$_p" 2>/dev/null; done
		ip netns del "$_ns" 2>/dev/null
	done
	rm -rf "$TESTDIR" $_DIRS
}
trap _cleanup EXIT
trap 'exit 130' INT TERM HUP

_nscount=0

# Make a namespace with lo up; its name goes into the variable named $1.
netns_make() {
	_nscount=$((_nscount + 1))
	_ns="qrun-t$$-$_nscount"
	ip netns add "$_ns" || return 1
	_NSES="$_NSES $_ns"
	ip netns exec "$_ns" ip link set lo up
	eval "$1=\$_ns"
}

in_ns() {
	_ns=$1; shift
	ip netns exec "$_ns" "$@"
}

# Background a command and remember it so it is killed at exit.
bg_track() {
	_PIDS="$_PIDS $1"
}

# wait_cmd SEC CMD...: poll CMD every 0.1 s for up to SEC seconds.
wait_cmd() {
	_n=$(($1 * 10)); shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# wait_line FILE REGEX SEC: until FILE has a line matching REGEX.
wait_line() {
	_end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt "$_end" ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# snap_stable NS: snapshot without IPv6 link-local addresses, which the
# kernel adds to a tap when it first gets carrier (QEMU attached) and keeps:
# its autoconfiguration, not a change qrun made. For taps that outlive a run.
snap_stable() {
	snapshot "$1" | sed -e '/inet6 fe80::/{N;d;}'
}

# same_as NS BEFORE: snap_stable of NS equals BEFORE within 3 s (the kernel
# reports a tap's carrier loss through linkwatch, up to 1 s late).
same_as() {
	_end=$(($(date +%s) + 3))
	while [ "$2" != "$(snap_stable "$1")" ]; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}

# No process left in namespace $1. qrun returns as soon as a tap it
# deleted is out of the namespace; the kernel's own freeing finishes in a
# detached "qrun-del" child for up to ~20 ms more, so allow it 2 s.
ns_empty() {
	for _i in $(seq 40); do
		[ -z "$(ip netns pids "$1")" ] && return 0
		sleep 0.05
	done
	return 1
}

# A bridge's running timers (gc_timer 12.34 ...) are not state: cut.
snapshot() {
	ip netns exec "$1" sh -c 'ip -d link; ip addr' |
	    sed -e 's/ qlen [0-9]*//' -e 's/[a-z_]*_timer *[0-9.]*//g'
}

# Fresh state dir per test script, so journals and locks never mix; the
# kvm probe's cache there too, never in the caller's home.
export QRUN_STATE_DIR="$TESTDIR/state"
export QRUN_CONFIG_DIR="$TESTDIR/config"
export QRUN_CACHE_DIR="$TESTDIR/cache"
# The shell's history and the console logs of failed batch runs: never
# the home of whoever runs the tests.
export XDG_STATE_HOME="$TESTDIR/xdg"
mkdir -p "$QRUN_STATE_DIR" "$QRUN_CONFIG_DIR"

# guest_initrd OUT: the test guest's initrd plus a second archive (the
# kernel unpacks both) holding /www/cgi-bin/do, so a test can have the
# guest act over HTTP: GET /cgi-bin/do?ip6=A/P | gw6=A | ping=A |
# get=ADDR,PORT,PATH (the body of an HTTP GET, by busybox nc: the static
# busybox's wget crashes in the guest) | lookup=NAME (the addresses
# nslookup finds, one a line) | resolv (its /etc/resolv.conf). The shared
# guests stay as they are.
guest_initrd() {
	_d=$TESTDIR/guest-extra
	mkdir -p "$_d/www/cgi-bin"
	cat >"$_d/www/cgi-bin/do" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
q=$(httpd -d "$QUERY_STRING")
case $q in
ip6=*) ip -6 addr replace "${q#ip6=}" dev eth0 && echo done ;;
gw6=*) ip -6 route add default via "${q#gw6=}" dev eth0 && echo done ;;
get=*)	v=${q#get=}
	a=${v%%,*} v=${v#*,}
	printf 'GET %s HTTP/1.0\r\n\r\n' "${v#*,}" |
	    nc -w 5 "$a" "${v%%,*}" 2>/dev/null | tr -d '\r' |
	    sed '1,/^$/d' | grep . || echo "get failed" ;;
ping=*) ping -c 1 -W 3 "${q#ping=}" >/dev/null 2>&1 && echo reply ||
	echo "no reply" ;;
lookup=*) nslookup "${q#lookup=}" 2>&1 | sed -n 's/^Address[^:]*: *//p' |
	grep -v ':53$' ;;
resolv) cat /etc/resolv.conf ;;
esac
CGI
	chmod 0755 "$_d/www/cgi-bin/do"
	cp "$GUESTS/initrd.gz" "$1"
	(cd "$_d" && find www | cpio -o -H newc -R 0:0 --quiet) | gzip >>"$1"
}

# guest_do NS ACTION: the guest's answer to /cgi-bin/do?ACTION, asked
# from namespace NS (its IPv4 address 172.21.0.2 unless GUEST_IP says).
guest_do() {
	in_ns "$1" wget -q -T 20 -O - "http://${GUEST_IP:-172.21.0.2}/cgi-bin/do?$2" 2>&1
}

# underlay_make: "two hosts" for VXLAN tests: namespaces $HA and $HB (IPv6
# off) joined by veth u0, 10.99.0.1/24 and 10.99.0.2/24, up (carrier on
# both ends, so snapshots see the settled state) and reaching each other.
underlay_make() {
	netns_make HA
	netns_make HB
	for ns in "$HA" "$HB"; do
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		    net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$HA" link add u0 type veth peer name u0 netns "$HB"
	in_ns "$HA" ip addr add 10.99.0.1/24 dev u0
	in_ns "$HB" ip addr add 10.99.0.2/24 dev u0
	for ns in "$HA" "$HB"; do
		in_ns "$ns" sysctl -qw net.ipv6.conf.u0.disable_ipv6=1
		in_ns "$ns" ip link set u0 up
	done
	for ns in "$HA" "$HB"; do
		wait_cmd 5 sh -c "ip -n '$ns' link show u0 | grep -q 'state UP'"
	done
	wait_cmd 5 in_ns "$HA" ping -c 1 -W 1 10.99.0.2 >/dev/null 2>&1
}

# switch_guest NAME TAP [ARGS...]: the Linux guest on the switch of TAP in
# $NS (TCG, $INITRD), its qrun pid in $qpid, its files
# $TESTDIR/NAME.{out,err,log}.
switch_guest() {
	_n=$1 _t=$2
	shift 2
	ip netns exec "$NS" "$QRUN" -n switch -t "$_t" -o qemu.accel=tcg \
	    -o "qemu.append=console=ttyS0 no_timer_check" \
	    --serial-log "$TESTDIR/$_n.log" --initrd "$INITRD" "$@" \
	    "$GUESTS/vmlinuz" >"$TESTDIR/$_n.out" 2>"$TESTDIR/$_n.err" \
	    </dev/null &
	qpid=$!
	bg_track "$qpid"
}

# switch_hinted NAME SEC: wait until the run has its slot (its hint is out)
switch_hinted() {
	wait_line "$TESTDIR/$1.err" '^qrun: qtap' "$2" ||
	    fail "$1: no hint in $2 s ($(cat "$TESTDIR/$1.err"))"
}
