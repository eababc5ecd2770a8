#!/bin/sh
# User-mode (slirp) networking: the Linux guest boots with a forward to its
# HTTP server, a client in the test's namespace fetches the page through
# the forward, SIGTERM stops qrun (128+15) and QEMU with it; bad forwards
# are refused with one line and 125, before anything runs.
. "$(dirname "$0")/lib.sh"
need_root "user mode"

netns_make NS
before=$(snapshot "$NS")
log=$TESTDIR/serial.log
ip netns exec "$NS" "$QRUN" -n user -o net.forwards=tcp:18080:80 -o qemu.accel=tcg \
    --serial-log "$log" --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" \
    >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null &
qpid=$!
bg_track "$qpid"
if wait_line "$log" QRUN-GUEST-READY 60; then
	ok "user mode: guest ready"
else
	fail "user mode: guest ready (no marker in 60 s)"
fi
page=$(in_ns "$NS" timeout 20 wget -q -T 10 -O - http://127.0.0.1:18080/ 2>&1)
case $page in
*"qrun test guest"*) ok "user mode: page fetched through the forward" ;;
*) fail "user mode: page fetched through the forward (got: $page)" ;;
esac
qemu=$(pgrep -P "$qpid" -f qemu-system | head -n 1)
kill -TERM "$qpid"
wait "$qpid" 2>/dev/null
rc=$?
if [ "$rc" -eq 143 ]; then ok "user mode: SIGTERM -> 143"
else fail "user mode: SIGTERM -> 143 (exit $rc)"; fi
if [ -n "$qemu" ] && ! kill -0 "$qemu" 2>/dev/null; then
	ok "user mode: QEMU gone after SIGTERM"
else
	fail "user mode: QEMU gone after SIGTERM (pid '${qemu}')"
fi
check "user mode: namespace unchanged" [ "$before" = "$(snapshot "$NS")" ]

# Bad forwards: 125, one clear line naming net.forwards, nothing runs.
badfwd() {
	_d=$1; shift
	in_ns "$NS" "$QRUN" -n user -o qemu.accel=tcg \
	    -o qemu.binary=/nonexistent/qemu "$@" "$GUESTS/mbtest.elf" \
	    >"$TESTDIR/bout" 2>"$TESTDIR/berr"
	_rc=$?
	_n=$(wc -l <"$TESTDIR/berr")
	if [ "$_rc" -eq 125 ] && [ "$_n" -eq 1 ] &&
	    grep -q 'net.forwards' "$TESTDIR/berr"; then
		ok "user mode: $_d -> 125, one line"
	else
		fail "user mode: $_d (exit $_rc, $_n lines: $(cat "$TESTDIR/berr"))"
	fi
}
badfwd "udp forward from port 0 (only tcp picks)" -o net.forwards=udp:0:53
badfwd "forward to guest port 0" -o net.forwards=tcp:2222:0
badfwd "forward to port 70000" -o net.forwards=tcp:70000:80
badfwd "duplicate host port" -o 'net.forwards=["tcp:2222:22","tcp:2222:80"]'
badfwd "empty forward" -o 'net.forwards=[""]'
check "user mode: namespace unchanged after bad forwards" \
    [ "$before" = "$(snapshot "$NS")" ]
