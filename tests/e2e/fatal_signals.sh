#!/bin/sh
# Every signal whose default action is to end a process (issue 14 item 3)
# ends qrun in the undo SIGTERM gets: the tap and its address are gone,
# QEMU is stopped, no journal is left, and qrun dies of that very signal
# (exit status 128+N). For a boot and for the shell (qrun -i reading a
# FIFO: not a terminal, so SIGINT too), each signal number in turn, each
# in a fresh namespace, with QEMU replaced by a stand-in that waits.
# Signals 32 and 33 are the C library's own (SIGRTMIN is 34): not sent.
# Then SIGPIPE from qrun's own write: its reader went away, the run goes
# on and ends with its own status.
. "$(dirname "$0")/lib.sh"
need_root "fatal signals"

MB=$GUESTS/mbtest.elf
need_guests "fatal signals" "$MB"

FAKE=$TESTDIR/fake-qemu
printf '#!/bin/sh\necho fake-qemu-up\nexec sleep 600\n' >"$FAKE"
chmod +x "$FAKE"
Q="$QRUN -n tap -t tap1 -o qemu.binary=$FAKE"
OUT=$TESTDIR/out ERR=$TESTDIR/err

# Default action "terminate" or "core" (signal(7)), catchable.
SIGS="1 2 3 4 5 6 7 8 10 11 12 13 14 15 16 24 25 26 27 29 30 31"
n=34
while [ $n -le 64 ]; do SIGS="$SIGS $n"; n=$((n + 1)); done

# until_up PID: the stand-in printed its line (so QEMU runs), qrun alive.
until_up() {
	_i=0
	while [ $_i -lt 300 ]; do
		grep -qs fake-qemu-up "$OUT" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.02
		_i=$((_i + 1))
	done
	return 1
}

# gone_within SEC PID: PID ends within SEC seconds.
gone_within() {
	_i=$(($1 * 50))
	while [ $_i -gt 0 ]; do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.02
		_i=$((_i - 1))
	done
	return 1
}

# one MODE N: start qrun (boot or shell) in a fresh namespace, send
# signal N, check the exit status and the namespace; sets bad on failure.
one() {
	netns_make ns
	before=$(snapshot "$ns")
	rm -f "$OUT" "$ERR" "$TESTDIR/in"
	if [ "$1" = boot ]; then
		ip netns exec "$ns" $Q "$MB" </dev/null >"$OUT" 2>"$ERR" &
		qpid=$!
	else
		mkfifo "$TESTDIR/in"
		ip netns exec "$ns" $Q -i "$MB" <"$TESTDIR/in" >"$OUT" 2>"$ERR" &
		qpid=$!
		exec 3>"$TESTDIR/in"
		echo boot >&3
	fi
	bg_track "$qpid"
	why=""
	if until_up "$qpid"; then
		kill -"$2" "$qpid"
		gone_within 10 "$qpid" || { why="still running"; kill -9 "$qpid"; }
		{ wait "$qpid"; rc=$?; } 2>/dev/null
		[ "$rc" -eq $((128 + $2)) ] ||
		    why="$why${why:+; }exit $rc, want $((128 + $2))"
	else
		why="QEMU did not start: $(tail -n 1 "$ERR")"
	fi
	[ "$1" = shell ] && exec 3>&-
	if [ "$(snapshot "$ns")" != "$before" ]; then
		why="$why${why:+; }namespace changed"
		in_ns "$ns" "$QRUN" cleanup >/dev/null 2>&1
	fi
	ns_empty "$ns" || why="$why${why:+; }processes left"
	if ls "$QRUN_STATE_DIR"/run-*.journal >/dev/null 2>&1; then
		why="$why${why:+; }journal left"
		"$QRUN" cleanup >/dev/null 2>&1
	fi
	ip netns del "$ns"
	[ -z "$why" ] || { bad="$bad $2"; echo "#   $1 signal $2: $why"; }
}

for mode in boot shell; do
	bad=""
	for s in $SIGS; do
		one $mode "$s"
	done
	if [ -z "$bad" ]; then
		ok "$mode: each of $(echo $SIGS | wc -w) terminating signals:" \
		    "tap undone, exit 128+N"
	else
		fail "$mode: not undone or wrong status for signals$bad"
	fi
done

# SIGPIPE from qrun's own write to stdout: the reader is gone, the batch
# run goes on to its own end (--expect matched: 0).
netns_make ns
before=$(snapshot "$ns")
rc=$( { in_ns "$ns" $QRUN -n tap -t tap1 -o qemu.accel=tcg \
    --expect 'mbtest: done' -o 'qemu.append=lines=400' "$MB" \
    </dev/null 2>"$ERR"; echo $? >"$TESTDIR/rc"; } | head -c 1 >/dev/null
    cat "$TESTDIR/rc")
check "stdout closed by its reader: the run goes on, exit 0 (got $rc)" \
    [ "$rc" = 0 ]
check "stdout closed by its reader: namespace as before" \
    [ "$(snapshot "$ns")" = "$before" ]
exit 0
