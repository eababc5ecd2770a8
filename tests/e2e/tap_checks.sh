#!/bin/sh
# The checks before any change (qrun(1) Network life cycle, issue 4): a
# pre-addressed tap is used and left as it is; a tap of another uid, a
# bridge port, a tap with another address, an overlapping route on another
# interface, a tap without a default address and a non-tap named like a
# tap are refused with 125 and leave the namespace untouched.
. "$(dirname "$0")/lib.sh"
need_root "tap checks"

MB=$GUESTS/mbtest.elf

# refused DESC NS TEXT ARGS...: qrun in NS exits 125, stderr has TEXT,
# the namespace is unchanged.
refused() {
	_d=$1 _ns=$2 _text=$3; shift 3
	_b=$(snapshot "$_ns")
	in_ns "$_ns" timeout 60 "$QRUN" -o qemu.accel=tcg --success-code 0 \
	    -o 'qemu.append=exit=0' "$@" "$MB" >"$TESTDIR/out" \
	    2>"$TESTDIR/err" </dev/null
	_rc=$?
	if [ "$_rc" -ne 125 ]; then
		fail "$_d (exit $_rc, want 125: $(tr '\n' ' ' <"$TESTDIR/err"))"
	elif ! grep -q -- "$_text" "$TESTDIR/err"; then
		fail "$_d (no \"$_text\" in: $(tr '\n' ' ' <"$TESTDIR/err"))"
	elif [ "$_b" != "$(snapshot "$_ns")" ]; then
		fail "$_d (namespace changed)"
	else
		ok "$_d"
	fi
}

# Pre-existing, pre-addressed tap: used, left exactly as it was.
netns_make NS
in_ns "$NS" sh -e -c 'ip tuntap add tap1 mode tap user 0
    ip addr add 172.21.0.1/16 dev tap1; ip link set tap1 up'
before=$(snap_stable "$NS")
in_ns "$NS" timeout 60 "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
    --success-code 0 -o 'qemu.append=exit=0' "$MB" >"$TESTDIR/out" \
    2>"$TESTDIR/err" </dev/null
rc=$?
check "pre-addressed tap1: boots (exit $rc)" [ "$rc" -eq 0 ]
check "pre-addressed tap1: left exactly as it was" \
    same_as "$NS" "$before"
# The same tap, down: qrun may set it up but must restore it.
in_ns "$NS" ip link set tap1 down
before=$(snap_stable "$NS")
in_ns "$NS" timeout 60 "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
    --success-code 0 -o 'qemu.append=exit=0' "$MB" >"$TESTDIR/out" \
    2>"$TESTDIR/err" </dev/null
rc=$?
check "pre-addressed tap1, down: boots (exit $rc)" [ "$rc" -eq 0 ]
check "pre-addressed tap1, down: left down as it was" \
    same_as "$NS" "$before"

netns_make NS2
in_ns "$NS2" ip tuntap add tap1 mode tap user 1001
refused "tap of uid 1001: refused" "$NS2" "owned by uid 1001, not you" \
    -n tap -t tap1

netns_make NS3
in_ns "$NS3" sh -e -c 'ip link add br0 type bridge; ip tuntap add tap1 mode tap user 0
    ip link set tap1 master br0'
refused "bridge port in local mode: refused" "$NS3" "bridge port" -n tap -t tap1

netns_make NS4
in_ns "$NS4" sh -e -c 'ip tuntap add tap1 mode tap user 0
    ip addr add 10.9.8.7/24 dev tap1'
refused "tap with another address: refused" "$NS4" "10.9.8.7/24" -n tap -t tap1

netns_make NS5
in_ns "$NS5" sh -e -c 'ip link add v0 type veth peer name v1
    ip addr add 172.21.5.1/24 dev v0; ip link set v0 up'
refused "route 172.21.5.0/24 on v0: refused, names v0" "$NS5" "on v0" \
    -n tap -t tap1
in_ns "$NS5" sh -e -c 'ip route add 172.21.0.0/16 dev v0'
refused "route 172.21.0.0/16 on v0: refused, names v0" "$NS5" "on v0" \
    -n tap -t tap1
in_ns "$NS5" ip tuntap add tap1 mode tap user 0
refused "tap1 pre-made, route on v0: refused" "$NS5" "on v0" -n tap -t tap1

# A tap that already carries its address and is up: qrun adds nothing, so
# it only checks that traffic for the guest goes out the tap.
netns_make NS7
in_ns "$NS7" sh -e -c 'ip tuntap add tap1 mode tap user 0
    ip addr add 172.21.0.1/16 dev tap1; ip link set tap1 up
    ip link add v0 type veth peer name v1; ip link set v0 up
    ip route add 172.21.0.0/24 dev v0'
refused "addressed tap1, guest 172.21.0.2 routed out v0: refused, names v0" \
    "$NS7" "goes out v0, not tap1" -n tap -t tap1
in_ns "$NS7" sh -e -c 'ip route del 172.21.0.0/24 dev v0
    ip route add 172.21.5.0/24 dev v0'
before=$(snap_stable "$NS7")
in_ns "$NS7" timeout 60 "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
    --success-code 0 -o 'qemu.append=exit=0' "$MB" >"$TESTDIR/out" \
    2>"$TESTDIR/err" </dev/null
rc=$?
check "addressed tap1, route elsewhere in its /16 but not to the guest: boots (exit $rc)" \
    [ "$rc" -eq 0 ]
check "addressed tap1: left as it was" same_as "$NS7" "$before"

netns_make NS6
refused "tap12 without addresses: names net.tap" "$NS6" "net.tap" \
    -n tap -t tap12
refused "devtap without addresses: names net.tap" "$NS6" "net.tap" \
    -n tap -t devtap
in_ns "$NS6" sh -e -c 'ip link add tap3 type veth peer name v3'
refused "veth named tap3: refused" "$NS6" "not a tap" -n tap -t tap3
