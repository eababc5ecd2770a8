#!/bin/sh
# Local tap mode, the heart of qrun (qrun(1) Network life cycle): the Linux guest
# on tap1 in a private namespace answers pings from 172.21.0.1, sees the
# host as 172.21.0.1, status reports it, and after SIGTERM the namespace
# is exactly as before. tap0/tap11 get their lab addresses; --dry-run
# changes nothing.
. "$(dirname "$0")/lib.sh"
need_root "tap local"

# stop PID: SIGTERM, then the exit status of PID in $rc.
stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rc=$?
}

netns_make NS
before=$(snapshot "$NS")
log=$TESTDIR/serial.log
# `ip netns exec` execs qrun, so $! is qrun's pid.
ip netns exec "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
    --serial-log "$log" --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" \
    >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null &
qpid=$!
bg_track "$qpid"
if wait_line "$log" QRUN-GUEST-READY 60; then
	ok "tap1: guest ready"
else
	fail "tap1: guest ready (no marker in 60 s: $(tail -n 3 "$TESTDIR/err"))"
fi
n=$(in_ns "$NS" ping -c 3 -W 2 172.21.0.2 2>&1 |
    sed -n 's/.* \([0-9]*\) received.*/\1/p')
check "tap1: ping 172.21.0.2, 3 of 3 replies (got ${n:-0})" [ "${n:-0}" -eq 3 ]
check "tap1: neighbour 172.21.0.2 on tap1" \
    sh -c "ip netns exec '$NS' ip neigh show 172.21.0.2 | grep -q 'dev tap1'"
arp=$(in_ns "$NS" timeout 20 wget -q -T 10 -O - \
    http://172.21.0.2/cgi-bin/arp 2>&1)
case $arp in
*172.21.0.1[!0-9]*) ok "tap1: guest sees 172.21.0.1 as source" ;;
*) fail "tap1: guest sees 172.21.0.1 as source (arp: $arp)" ;;
esac
hint=$(grep '^qrun: tap1 ' "$TESTDIR/err")
case $hint in
*"tap1 172.21.0.1/16 -> guest 172.21.0.2 "*) ok "tap1: hint line" ;;
*) fail "tap1: hint line ($(cat "$TESTDIR/err"))" ;;
esac
js=$(in_ns "$NS" "$QRUN" status --json 2>&1 | tr -d ' \n\t')
case $js in
*'"tap":"tap1"'*'"guest":"172.21.0.2"'*) ok "tap1: status --json" ;;
*) fail "tap1: status --json ($js)" ;;
esac
stop "$qpid"
check "tap1: SIGTERM -> 143 (exit $rc)" [ "$rc" -eq 143 ]
check "tap1: namespace as before after exit" [ "$before" = "$(snapshot "$NS")" ]

# tapN's lab address, seen in the namespace while the guest runs.
tap_addr() {
	_tap=$1 _want=$2
	netns_make _NS
	_before=$(snapshot "$_NS")
	ip netns exec "$_NS" "$QRUN" -n tap -t "$_tap" -o qemu.accel=tcg \
	    --timeout 60 -o 'qemu.append=hang' "$GUESTS/mbtest.elf" \
	    >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null &
	_p=$!
	bg_track "$_p"
	_end=$(($(date +%s) + 20)) _got=""
	while [ "$(date +%s)" -lt "$_end" ] && [ -z "$_got" ]; do
		_got=$(ip netns exec "$_NS" ip -o -4 addr show dev "$_tap" \
		    2>/dev/null | grep -o "inet $_want ")
		[ -n "$_got" ] || sleep 0.2
	done
	stop "$_p"
	check "$_tap: gets $_want" [ -n "$_got" ]
	check "$_tap: hint names $_want" grep -q "$_tap $_want -> guest" \
	    "$TESTDIR/err"
	check "$_tap: namespace as before (exit $rc)" \
	    [ "$_before" = "$(snapshot "$_NS")" ]
}
tap_addr tap0 172.20.0.1/16
tap_addr tap11 172.31.0.1/16

out=$(in_ns "$NS" "$QRUN" --dry-run -n tap -t tap1 -o qemu.accel=tcg \
    --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" 2>&1)
rc=$?
case $out in
*ifname=tap1,script=no,downscript=no*) ok "dry-run tap1: prints the command" ;;
*) fail "dry-run tap1: prints the command (exit $rc: $out)" ;;
esac
check "dry-run tap1: namespace unchanged" [ "$before" = "$(snapshot "$NS")" ]

# QEMU missing: 127, and the tap qrun made for it is gone again.
in_ns "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
    -o qemu.binary=/nonexistent/qemu "$GUESTS/mbtest.elf" \
    >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null
rc=$?
check "tap1, QEMU missing: 127 (exit $rc)" [ "$rc" -eq 127 ]
check "tap1, QEMU missing: namespace as before" \
    [ "$before" = "$(snapshot "$NS")" ]
