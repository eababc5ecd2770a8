#!/bin/sh
# Batch mode (issue 6): exit codes, timeout precision, expect/fail
# patterns, the last serial lines and the reason on failure, no reboot
# loop after a Linux panic, the serial log, bad input -> 125.
# No network: every run uses -n none.
. "$(dirname "$0")/lib.sh"

MB=$GUESTS/mbtest.elf
need_guests "batch" "$MB"
B="$QRUN -q -n none -o qemu.accel=tcg"
O=$TESTDIR/out E=$TESTDIR/err

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# run CMD...: runs it with stdin from /dev/null, stdout in $O, stderr in
# $E; sets rc and ms (elapsed milliseconds).
run() {
	_t0=$(now_ms)
	"$@" </dev/null >"$O" 2>"$E"
	rc=$?
	ms=$(($(now_ms) - _t0))
}

# want RC DESC [grep-pattern-in-stderr...]
want() {
	_w=$1 _d=$2; shift 2
	if [ "$rc" -ne "$_w" ]; then
		fail "$_d (exit $rc, want $_w)"; sed 's/^/#   /' "$E"; return
	fi
	for _p in "$@"; do
		if ! grep -q -e "$_p" "$E"; then
			fail "$_d (stderr lacks '$_p')"; sed 's/^/#   /' "$E"
			return
		fi
	done
	ok "$_d (${ms} ms)"
}

run $B --success-code 5 -o 'qemu.append=lines=2 exit=5' "$MB"
want 0 "debug-exit success code -> 0"

run $B --success-code 5 -o 'qemu.append=exit=6' "$MB"
want 1 "other debug-exit code -> 1, code printed" \
    'debug-exit code 6, not 5' '^| mbtest: exit 6'

run $B --success-code 0 -o 'qemu.append=exit=0' "$MB"
want 0 "success code 0 ((0<<1)|1 = QEMU status 1) -> 0"

run $B --success-code 1 -o 'qemu.append=exit=0' "$MB"
want 1 "success code 1, guest wrote 0 -> 1" 'debug-exit code 0, not 1'

run $B --success-code 200 -o 'qemu.append=exit=200' "$MB"
want 0 "success code 200: status (200<<1|1)&255 -> 0"

run $B --success-code 200 -o 'qemu.append=exit=201' "$MB"
want 1 "success code 200, guest wrote 201 -> 1" 'code 73 or 201, not 200'

run $B --success-code 0 "$MB" -- -no-such-option
want 1 "success code 0 and a QEMU error (status 1 too) -> 1, not 0" \
    'before the guest printed anything: a QEMU error'

run $B --timeout 2 --expect 'NEVER PRINTED' -o 'qemu.append=lines=30 hang' "$MB"
want 124 "hang -> 124" \
    '^qrun: timeout after 2 s waiting for /NEVER PRINTED/$' \
    '^| mbtest: line 30$' '^| mbtest: hanging'
if [ "$rc" -eq 124 ]; then
	# 20 tail lines: line 12 .. line 30 and "hanging".
	n=$(grep -c '^| ' "$E")
	if [ "$n" -eq 20 ] && grep -q '^| mbtest: line 12$' "$E" &&
	    ! grep -q '^| mbtest: line 11$' "$E"; then
		ok "timeout prints exactly the last 20 serial lines"
	else
		fail "timeout tail: $n lines"; sed 's/^/#   /' "$E"
	fi
	if [ "$ms" -ge 2000 ] && [ "$ms" -le 3000 ]; then
		ok "timeout 2 s took $ms ms (within 1 s)"
	else
		fail "timeout 2 s took $ms ms"
	fi
fi

run $B --timeout 1 -o 'qemu.append=hang' "$MB"
want 124 "timeout without expect -> 124, plain reason" \
    '^qrun: timeout after 1 s$'

run $B --expect 'mbtest: done' "$MB"
want 0 "--expect marker -> 0 (stdin not a terminal: /dev/null)"

run $B --expect 'mbtest: d.ne' --timeout 20 -o 'qemu.append=lines=3' "$MB"
want 0 "--expect (ERE) with --timeout -> 0"
check "--expect stops the run at once (exit $rc, ${ms} ms, want 0 in < 10 s)" \
    test "$rc" -eq 0 -a "$ms" -lt 10000

run $B -o 'qemu.append=say=BOOM hang' --fail BOOM --timeout 20 "$MB"
want 1 "--fail marker -> 1 with the reason" '^qrun: guest failed: /BOOM/ matched'

run timeout 20 $B -o 'qemu.append=say=BOOM hang' --fail BOOM "$MB"
want 1 "--fail alone turns batch mode on -> 1" '/BOOM/ matched'

run $B --timeout 10 -o 'qemu.append=lines=2 panic' "$MB"
want 1 "mbtest panic: default test.fail catches it -> 1" \
    '/Kernel panic/ matched' '^| Kernel panic - not syncing: mbtest$'

run $B --timeout 10 -o 'qemu.append=say=A say=B' --expect 'mbtest: done' \
    --serial-log "$TESTDIR/serial.log" "$MB"
want 0 "--serial-log with --expect -> 0"
if grep -q 'mbtest: hello' "$TESTDIR/serial.log" &&
    grep -q 'mbtest: done' "$TESTDIR/serial.log" &&
    grep -q '^B' "$TESTDIR/serial.log"; then
	ok "--serial-log holds the console"
else
	fail "--serial-log holds the console"; sed 's/^/#   /' "$TESTDIR/serial.log"
fi
if grep -q 'mbtest: done' "$O"; then
	ok "console also passed through to stdout"
else
	fail "console also passed through to stdout"
fi

# Exit status of QEMU itself (DESIGN 7), with stand-ins for QEMU.
printf '#!/bin/sh\nexit 0\n' >"$TESTDIR/q0"
printf '#!/bin/sh\nexit 3\n' >"$TESTDIR/q3"
printf '#!/bin/sh\nkill -SEGV $$\n' >"$TESTDIR/qsig"
chmod +x "$TESTDIR/q0" "$TESTDIR/q3" "$TESTDIR/qsig"
: >"$TESTDIR/qnoexec"
run $B --timeout 5 -o "qemu.binary=$TESTDIR/q0" "$MB"
want 0 "batch with only --timeout, QEMU exits 0 -> 0"
run $B --timeout 5 -o "qemu.binary=$TESTDIR/q3" "$MB"
want 1 "QEMU exits 3 -> 1" 'QEMU exited with status 3'
run $B --timeout 5 -o "qemu.binary=$TESTDIR/qsig" "$MB"
want 139 "QEMU killed by SIGSEGV -> 128+11" 'killed by signal 11'
run $B --timeout 5 --expect X -o "qemu.binary=$TESTDIR/q0" "$MB"
want 1 "QEMU exits 0 before --expect matched -> 1" 'before /X/ matched'
run $B -o "qemu.binary=$TESTDIR/nonexistent-qemu" "$MB"
want 127 "QEMU not found -> 127" 'not found'
run $B -o "qemu.binary=$TESTDIR/qnoexec" "$MB"
want 126 "QEMU not executable -> 126"

# Bad input: 125 and one clear line, before anything runs.
run $B --expect '(' "$MB"
want 125 "bad --expect regex -> 125" '^qrun: --expect: bad regex'
run $B --fail 'a[' "$MB"
want 125 "bad --fail regex -> 125" '^qrun: --fail: bad regex'
run $B --timeout -1 "$MB"
want 125 "negative timeout -> 125" '^qrun: --timeout: must be'
run $B --timeout 2x "$MB"
want 125 "non-numeric timeout -> 125" '--timeout'
run $B --success-code 256 "$MB"
want 125 "success code 256 -> 125" '^qrun: --success-code: must be between 0 and 255'
run $B --success-code -2 "$MB"
want 125 "success code -2 -> 125" '--success-code'
run $B --serial-log "$TESTDIR/missing/dir/log" "$MB"
want 125 "serial log in a missing directory -> 125" \
    "^qrun: --serial-log: directory $TESTDIR/missing/dir does not exist"

# The Linux guest: a panic ends the run quickly, with or without the
# default fail pattern (-no-reboot and panic=-1), no reboot loop.
if [ -f "$GUESTS/vmlinuz" ] && [ -f "$GUESTS/initrd.gz" ]; then
	L="--initrd $GUESTS/initrd.gz"
	run $B $L --dry-run --timeout 60 "$GUESTS/vmlinuz"
	if grep -q -- '-no-reboot' "$O" && grep -q 'panic=-1' "$O"; then
		ok "batch kernel boot gets -no-reboot and panic=-1"
	else
		fail "batch kernel boot gets -no-reboot and panic=-1"; cat "$O"
	fi
	run $B $L -o 'qemu.append=console=ttyS0 qrun.panic' --timeout 60 \
	    --expect 'NEVER PRINTED' "$GUESTS/vmlinuz"
	want 1 "Linux panic -> 1 (default test.fail), whole panic line in the tail" \
	    '/Kernel panic/ matched' \
	    '^| .*Kernel panic - not syncing: sysrq triggered crash$' \
	    '^| .*Call Trace:$'
	[ "$rc" -eq 1 ] && if [ "$ms" -lt 30000 ]; then
		ok "Linux panic ends the run in $ms ms (timeout 60 s)"
	else
		fail "Linux panic took $ms ms"
	fi
	run $B $L -o 'qemu.append=console=ttyS0 qrun.panic' -o 'test.fail=' \
	    --timeout 60 --expect 'NEVER PRINTED' "$GUESTS/vmlinuz"
	want 1 "Linux panic without a fail pattern -> 1, no reboot loop" \
	    'before /NEVER PRINTED/ matched'
	[ "$rc" -eq 1 ] && if [ "$ms" -lt 30000 ] &&
	    [ "$(grep -c 'Linux version' "$O")" -eq 1 ]; then
		ok "booted once, QEMU ended by -no-reboot in $ms ms"
	else
		fail "reboot loop? $ms ms, $(grep -c 'Linux version' "$O") boots"
	fi
else
	skip "Linux guest panic: no Linux test guest (make guests)"
fi
exit 0
