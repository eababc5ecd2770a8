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

# Default action "terminate" or "core" (signal(7)), catchable.
SIGS="1 2 3 4 5 6 7 8 10 11 12 13 14 15 16 24 25 26 27 29 30 31"
n=34
while [ $n -le 64 ]; do SIGS="$SIGS $n"; n=$((n + 1)); done

# until_up PID OUT: the stand-in printed its line (QEMU runs), qrun alive.
until_up() {
	_i=0
	while [ $_i -lt 300 ]; do
		grep -qs fake-qemu-up "$2" && return 0
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

# one MODE NS TAP N: start qrun (boot or shell) on TAP in NS, send signal
# N, check the exit status and that NS is as it was; prints why not.
one() {
	_d=$TESTDIR/$1 _ns=$2
	_q="$QRUN -n tap -t $3 -o qemu.binary=$FAKE"
	set -- "$1" "$2" "$4"
	rm -f "$_d.out" "$_d.err" "$_d.in"
	if [ "$1" = boot ]; then
		ip netns exec "$_ns" $_q "$MB" </dev/null >"$_d.out" 2>"$_d.err" &
		_pid=$!
	else
		mkfifo "$_d.in"
		ip netns exec "$_ns" $_q -i "$MB" <"$_d.in" >"$_d.out" \
		    2>"$_d.err" &
		_pid=$!
		exec 3>"$_d.in"
		echo boot >&3
	fi
	_why=""
	if until_up "$_pid" "$_d.out"; then
		kill -"$3" "$_pid"
		gone_within 10 "$_pid" || { _why="still running"; kill -9 "$_pid"; }
		{ wait "$_pid"; _rc=$?; } 2>/dev/null
		[ "$_rc" -eq $((128 + $3)) ] ||
		    _why="$_why${_why:+; }exit $_rc, want $((128 + $3))"
	else
		_why="QEMU did not start: $(tail -n 1 "$_d.err")"
		kill -9 "$_pid" 2>/dev/null
	fi
	[ "$1" = shell ] && exec 3>&-
	if [ "$(snapshot "$_ns")" != "$_before" ]; then
		_why="$_why${_why:+; }namespace changed"
		in_ns "$_ns" "$QRUN" cleanup >/dev/null 2>&1
	fi
	if ! ns_empty "$_ns"; then
		_why="$_why${_why:+; }processes left"
		for _p in $(ip netns pids "$_ns"); do kill -9 "$_p"; done
	fi
	[ -z "$_why" ] || echo "$1 signal $3: $_why"
}

# sweep MODE NS TAP: every signal in turn; a line for each that failed.
sweep() {
	_before=$(snapshot "$2")
	for _s in $SIGS; do
		one "$1" "$2" "$3" "$_s"
	done >"$TESTDIR/$1.bad"
}

# A boot on tap1 and the shell on tap2 at once, each in its namespace.
netns_make nb
netns_make nsh
sweep boot "$nb" tap1 &
b=$!
sweep shell "$nsh" tap2 &
s=$!
bg_track "$b $s"
wait "$b" "$s"
for mode in boot shell; do
	if [ ! -s "$TESTDIR/$mode.bad" ]; then
		ok "$mode: each of $(echo $SIGS | wc -w) terminating signals:" \
		    "tap undone, exit 128+N"
	else
		fail "$mode: not undone, or a wrong status, for:"
		sed 's/^/#   /' "$TESTDIR/$mode.bad"
	fi
done
if ls "$QRUN_STATE_DIR"/run-*.journal >/dev/null 2>&1; then
	fail "a journal was left behind"
	"$QRUN" cleanup >/dev/null 2>&1
fi

# SIGPIPE from qrun's own write to stdout: the reader is gone, the batch
# run goes on to its own end (--expect matched: 0).
netns_make ns
before=$(snapshot "$ns")
rc=$( { in_ns "$ns" $QRUN -n tap -t tap1 -o qemu.accel=tcg \
    --expect 'mbtest: done' -o 'qemu.append=lines=400' "$MB" \
    </dev/null 2>"$TESTDIR/err"; echo $? >"$TESTDIR/rc"; } | head -c 1 >/dev/null
    cat "$TESTDIR/rc")
check "stdout closed by its reader: the run goes on, exit 0 (got $rc)" \
    [ "$rc" = 0 ]
check "stdout closed by its reader: namespace as before" \
    [ "$(snapshot "$ns")" = "$before" ]
exit 0
