#!/bin/sh
# A developer switch spanning two hosts over VXLAN (net.vxlan, issue 17).
# Two namespaces joined by a veth "underlay" (10.99.0.1/24, 10.99.0.2/24)
# play two hosts; on each a Linux guest runs on switch 1 with net.vxlan =
# { vni = 42; remotes = [ the other ]; } (slot 1 on A, slot 2 on B): the
# first run on each host gives qbr1 the port vx42, qbr1 and the qtap get
# the underlay's MTU minus 50 (1450), the guests ping each other across
# the hosts, and after the runs both namespaces are as before.
. "$(dirname "$0")/lib.sh"
need_root "switch_vxlan"
need_guests "switch_vxlan" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

snap() {
	{ snapshot "$1"; in_ns "$1" ip route; in_ns "$1" ip rule;
	    in_ns "$1" bridge fdb show | grep permanent | sort; } |
	    sed -e 's/[a-z_]*_timer *[0-9.]*//g'
}

underlay_make
pa=$(snap "$HA")
pb=$(snap "$HB")
INITRD=$TESTDIR/initrd.gz
guest_initrd "$INITRD"

# guest NS NAME REMOTE SLOT
guest() {
	ip netns exec "$1" "$QRUN" -n switch -t tap1 -o qemu.accel=tcg \
    -o "qemu.append=console=ttyS0 no_timer_check" \
	    -o net.vxlan.vni=42 -o "net.vxlan.remotes=[\"$3\"]" \
	    -o net.slot="$4" --serial-log "$TESTDIR/$2.log" \
	    --initrd "$INITRD" "$GUESTS/vmlinuz" \
	    >"$TESTDIR/$2.out" 2>"$TESTDIR/$2.err" </dev/null &
	qpid=$!
	bg_track "$qpid"
}

dry=$(in_ns "$HA" "$QRUN" -n switch -t tap1 -o qemu.accel=tcg -o net.vxlan.vni=42 \
    -o 'net.vxlan.remotes=["10.99.0.2"]' --dry-run "$GUESTS/vmlinuz" 2>&1)
case $dry in
*"host_mtu=1450"*) ok "dry run: the guest is told the switch's MTU (host_mtu=1450)" ;;
*) fail "dry run: the guest is told the switch's MTU ($dry)" ;;
esac
check "dry run changed nothing" [ "$(snap "$HA")" = "$pa" ]
guest "$HA" ga 10.99.0.2 1; pA=$qpid
guest "$HB" gb 10.99.0.1 2; pB=$qpid
for g in ga gb; do
	if wait_line "$TESTDIR/$g.log" QRUN-GUEST-READY 90; then
		ok "$g: guest ready"
	else
		fail "$g: guest ready ($(tail -n 3 "$TESTDIR/$g.err"))"
	fi
done
check "A: vx42 is a port of qbr1, qbr1 and qtap1-1 have MTU 1450" sh -c "
    ip -n '$HA' -d link show vx42 | grep -q 'master qbr1' &&
    ip -n '$HA' link show qbr1 | grep -q 'mtu 1450 ' &&
    ip -n '$HA' link show qtap1-1 | grep -q 'mtu 1450 '"
check "B: vx42 on qbr1 to 10.99.0.1, qtap1-2 has MTU 1450" sh -c "
    ip -n '$HB' -d link show vx42 | grep -q 'master qbr1' &&
    bridge -n '$HB' fdb show dev vx42 | grep -q 'dst 10.99.0.1' &&
    ip -n '$HB' link show qtap1-2 | grep -q 'mtu 1450 '"
r=$(GUEST_IP=172.21.0.2 guest_do "$HA" ping=172.21.0.3)
check "guest on A pings the guest on B over VXLAN ($r)" [ "$r" = reply ]
r=$(GUEST_IP=172.21.0.3 guest_do "$HB" ping=172.21.0.2)
check "guest on B pings the guest on A over VXLAN ($r)" [ "$r" = reply ]
for p in "$pA" "$pB"; do kill -TERM "$p" 2>/dev/null; done
for p in "$pA" "$pB"; do wait "$p" 2>/dev/null; done
check "A: namespace as before (no qbr1, vx42, rule)" [ "$(snap "$HA")" = "$pa" ]
check "B: namespace as before" [ "$(snap "$HB")" = "$pb" ]
