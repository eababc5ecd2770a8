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
#
# Each test is a shell script that prints one line per test case and exits
# 0 unless it broke itself; tests/run counts the lines.

TOP=$(cd "$(dirname "$0")/../.." && pwd)
QRUN=${QRUN:-$TOP/qrun}
GUESTS=${GUESTS:-$TOP/.cache/guests}
TESTDIR=$(mktemp -d "${TMPDIR:-/tmp}/qrun-e2e.XXXXXX")
_NSES=""
_PIDS=""

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
	rm -rf "$TESTDIR"
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

snapshot() {
	ip netns exec "$1" sh -c 'ip -d link; ip addr' |
	    sed -e 's/ qlen [0-9]*//'
}

# Fresh state dir per test script, so journals and locks never mix; the
# kvm probe's cache there too, never in the caller's home.
export QRUN_STATE_DIR="$TESTDIR/state"
export QRUN_CONFIG_DIR="$TESTDIR/config"
export QRUN_CACHE_DIR="$TESTDIR/cache"
mkdir -p "$QRUN_STATE_DIR" "$QRUN_CONFIG_DIR"
