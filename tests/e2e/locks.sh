#!/bin/sh
# Tap locks (issue 4): a second qrun on a busy tap exits 125 naming the
# holder and leaves the first unharmed; eight qruns on eight taps run in
# parallel in one namespace and leave nothing behind.
. "$(dirname "$0")/lib.sh"
need_root "locks"

MB=$GUESTS/mbtest.elf
need_guests "locks" "$MB"
Q="$QRUN -n tap -o qemu.accel=tcg"

addr_of() { in_ns "$1" ip -o -4 addr show dev "$2" 2>/dev/null | awk '{print $4}'; }

# 1. Two qruns on tap1 at once.
netns_make ns
before=$(snapshot "$ns")
# The background child execs ip, which execs qrun: $! is qrun's pid.
ip netns exec "$ns" $Q -t tap1 --timeout 5 -o 'qemu.append=hang' "$MB" \
    </dev/null >"$TESTDIR/a.out" 2>"$TESTDIR/a.err" &
a=$!
bg_track "$a"
if wait_cmd 20 grep -qs 'mbtest: hanging' "$TESTDIR/a.out"; then
	avm=$(pgrep -P "$a" -f qemu-system | head -n 1)	# not its dnsmasq
	in_ns "$ns" $Q -t tap1 --success-code 0 -o 'qemu.append=exit=0' "$MB" \
	    </dev/null >"$TESTDIR/b.out" 2>"$TESTDIR/b.err"
	rc=$?
	if [ "$rc" -eq 125 ] &&
	    grep -q "^qrun: tap1: in use by qrun pid $a\$" "$TESTDIR/b.err"; then
		ok "second qrun on tap1 exits 125 naming pid $a"
	else
		fail "second qrun on tap1: exit $rc, want 125 naming pid $a"
		sed 's/^/#   /' "$TESTDIR/b.err"
	fi
	if kill -0 "$a" 2>/dev/null && [ -n "$avm" ] && kill -0 "$avm" &&
	    [ "$(addr_of "$ns" tap1)" = 172.21.0.1/16 ] &&
	    "$QRUN" status | grep -q "^$a .*tap1"; then
		ok "first qrun unharmed: running, QEMU up, tap1 addressed"
	else
		fail "first qrun harmed by the second"
	fi
	if grep -q 'mbtest: hello' "$TESTDIR/b.out"; then
		fail "second qrun started a guest anyway"
	fi
	{ wait "$a"; rc=$?; } 2>/dev/null
	if [ "$rc" -eq 124 ]; then
		ok "first qrun ends normally (its timeout, 124)"
	else
		fail "first qrun: exit $rc, want 124"; sed 's/^/#   /' "$TESTDIR/a.err"
	fi
else
	fail "first qrun on tap1 did not start"; sed 's/^/#   /' "$TESTDIR/a.err"
fi
if [ "$(snapshot "$ns")" = "$before" ]; then
	ok "two qruns on tap1: namespace as before"
else
	fail "two qruns on tap1: namespace as before"
fi

# 2. Eight qruns on tap0..tap7 in parallel in one namespace.
netns_make ns
before=$(snapshot "$ns")
pids=""
for i in 0 1 2 3 4 5 6 7; do
	ip netns exec "$ns" $Q -t "tap$i" --timeout 8 -o 'qemu.append=hang' \
	    "$MB" </dev/null >"$TESTDIR/p$i.out" 2>"$TESTDIR/p$i.err" &
	pids="$pids $!"
	bg_track "$!"
done
all_hang() {
	for _i in 0 1 2 3 4 5 6 7; do
		grep -qs 'mbtest: hanging' "$TESTDIR/p$_i.out" || return 1
	done
}
if wait_cmd 8 all_hang; then
	good=0
	for i in 0 1 2 3 4 5 6 7; do
		[ "$(addr_of "$ns" "tap$i")" = "172.2$i.0.1/16" ] &&
		    good=$((good + 1))
	done
	n=$("$QRUN" status | grep -c ' tap[0-7] ')
	if [ "$good" -eq 8 ] && [ "$n" -eq 8 ]; then
		ok "eight qruns at once: eight guests, tap0..tap7 addressed, status lists 8"
	else
		fail "eight qruns at once: $good taps addressed, status lists $n"
	fi
else
	fail "eight qruns at once: not all guests came up"
fi
i=0 bad=""
for p in $pids; do
	{ wait "$p"; rc=$?; } 2>/dev/null
	[ "$rc" -eq 124 ] || bad="$bad tap$i:$rc"
	i=$((i + 1))
done
if [ -z "$bad" ]; then
	ok "eight qruns: all exit 124 at their timeout"
else
	fail "eight qruns: unexpected exits$bad"
	cat "$TESTDIR"/p*.err | sed 's/^/#   /'
fi
if [ "$(snapshot "$ns")" = "$before" ]; then
	ok "eight qruns: namespace as before"
else
	fail "eight qruns: namespace as before"; snapshot "$ns" | sed 's/^/#   /'
fi
check "eight qruns: no journal left in $(qrun_state)" no_journal
exit 0
