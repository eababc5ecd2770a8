#!/bin/sh
# Life cycle under signals (issue 4): QEMU killed, qrun killed (QEMU dies
# too, the leftover tap goes with the next run or "qrun cleanup"),
# SIGHUP/SIGTERM/SIGINT to qrun. Each case runs in its own namespace and
# compares the namespace's network state before and after.
. "$(dirname "$0")/lib.sh"
need_root "signals"

MB=$GUESTS/mbtest.elf
need_guests "signals" "$MB"
Q="$QRUN -n tap -t tap1 -o qemu.accel=tcg"

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
has_tap() { in_ns "$1" ip link show "$2" >/dev/null 2>&1; }

# start NS: qrun on tap1 with a hanging mbtest in the background; sets
# qpid (qrun itself: the background child execs ip, which execs qrun)
# and vpid (QEMU, qrun's child).
start() {
	rm -f "$TESTDIR/out" "$TESTDIR/err"
	ip netns exec "$1" $Q -o 'qemu.append=hang' "$MB" </dev/null \
	    >"$TESTDIR/out" 2>"$TESTDIR/err" &
	qpid=$!
	bg_track "$qpid"
	vpid=""
	if ! wait_cmd 20 grep -qs 'mbtest: hanging' "$TESTDIR/out"; then
		echo "# guest did not start:"; sed 's/^/#   /' "$TESTDIR/err"
		return 1
	fi
	if [ "$(cat "/proc/$qpid/comm")" != qrun ]; then
		echo "# pid $qpid is not qrun"; sed "s/^/#   /" "$TESTDIR/err"
		return 1
	fi
	vpid=$(pgrep -P "$qpid" -f qemu-system | head -n 1)	# not its dnsmasq
	[ -n "$vpid" ]
}

# same NS BEFORE DESC: the namespace is as it was before.
same() {
	if [ "$(snapshot "$1")" = "$2" ]; then
		ok "$3"
	else
		fail "$3"; snapshot "$1" | sed 's/^/#   /'
	fi
}

# 1. QEMU killed: qrun cleans up and reports 128+9.
netns_make ns
before=$(snapshot "$ns")
if start "$ns"; then
	kill -9 "$vpid"
	{ wait "$qpid"; rc=$?; } 2>/dev/null
	if [ "$rc" -eq 137 ] && grep -q 'killed by signal 9' "$TESTDIR/err"
	then
		ok "QEMU killed with SIGKILL -> qrun exits 137"
	else
		fail "QEMU killed with SIGKILL -> exit $rc, want 137"
		sed 's/^/#   /' "$TESTDIR/err"
	fi
	same "$ns" "$before" "QEMU killed: namespace as before"
else
	fail "QEMU killed with SIGKILL: qrun did not start QEMU"
fi

# 2. qrun killed: QEMU dies too (PR_SET_PDEATHSIG); tap1 left over; the
# next run on tap1 (2a) or qrun cleanup (2b) removes it.
for how in next cleanup; do
	netns_make ns
	before=$(snapshot "$ns")
	if ! start "$ns"; then
		fail "qrun killed ($how): qrun did not start QEMU"
		continue
	fi
	kill -9 "$qpid"
	wait "$qpid" 2>/dev/null
	if wait_cmd 5 dead "$vpid"; then
		ok "qrun killed with SIGKILL -> QEMU dies too ($how)"
	else
		fail "qrun killed with SIGKILL -> QEMU $vpid still running"
		kill -9 "$vpid" 2>/dev/null
	fi
	if has_tap "$ns" tap1; then
		ok "qrun killed: tap1 left over ($how)"
	else
		fail "qrun killed: tap1 already gone? ($how)"
	fi
	if [ "$how" = next ]; then
		in_ns "$ns" $Q --success-code 0 -o 'qemu.append=exit=0' "$MB" \
		    </dev/null >/dev/null 2>"$TESTDIR/err"
		rc=$?
		if [ "$rc" -eq 0 ] && grep -q 'undid the leftovers of 1 dead run' \
		    "$TESTDIR/err"; then
			ok "next qrun on tap1 undoes the leftover and runs (exit 0)"
		else
			fail "next qrun on tap1: exit $rc"
			sed 's/^/#   /' "$TESTDIR/err"
		fi
	else
		in_ns "$ns" "$QRUN" cleanup >"$TESTDIR/err" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ] && grep -q 'undid 1 leftover run' "$TESTDIR/err"
		then
			ok "qrun cleanup after a killed qrun"
		else
			fail "qrun cleanup after a killed qrun: exit $rc"
			sed 's/^/#   /' "$TESTDIR/err"
		fi
	fi
	same "$ns" "$before" "qrun killed, then $how: namespace as before"
	check "qrun killed, then $how: no journal left in $(qrun_state)" \
	    no_journal
done

# 3. SIGHUP (terminal closed), SIGTERM, SIGINT to qrun: QEMU stopped,
# cleanup done, qrun dies of that very signal.
for sig in HUP TERM INT; do
	netns_make ns
	before=$(snapshot "$ns")
	case $sig in HUP) n=1 ;; INT) n=2 ;; TERM) n=15 ;; esac
	if ! start "$ns"; then
		fail "SIG$sig: qrun did not start QEMU"
		continue
	fi
	t0=$(date +%s%N)
	kill -"$sig" "$qpid"
	{ wait "$qpid"; rc=$?; } 2>/dev/null
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" -eq $((128 + n)) ]; then
		ok "SIG$sig to qrun -> dies of SIG$sig (exit $rc, ${ms} ms)"
	else
		fail "SIG$sig to qrun -> exit $rc, want $((128 + n))"
		sed 's/^/#   /' "$TESTDIR/err"
	fi
	if dead "$vpid"; then
		ok "SIG$sig: QEMU stopped"
	else
		fail "SIG$sig: QEMU $vpid still running"; kill -9 "$vpid"
	fi
	same "$ns" "$before" "SIG$sig: namespace as before"
	check "SIG$sig: no journal left in $(qrun_state)" no_journal
done
exit 0
