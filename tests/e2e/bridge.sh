#!/bin/sh
# Bridged mode and lab bridges (issue 5). A "lab" namespace (a lab host,
# 10.10.0.1/16) is cabled by a veth pair to a "host" namespace whose end
# is eth1 with 10.10.0.5/16 and a gateway route. `qrun bridge create br0
# --uplink eth1` must move the address and route to br0; Linux guests on
# tap10/tap11 join br0 and answer the lab host; bad setups fail with 125
# and change nothing; `bridge delete` and `cleanup` after SIGKILL give the
# namespace back exactly as it was.
. "$(dirname "$0")/lib.sh"
need_root "bridge"
need_guests "bridge" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

# The host namespace's links, addresses and routes. The bridge's and
# ports' running timers (gc_timer 12.34 ...) are not state: cut them.
snap() {
	{ snapshot "$HOST"; in_ns "$HOST" ip route; } |
	    sed -e 's/[a-z_]*_timer *[0-9.]*//g'
}

# replies NS ADDR: how many of 3 pings NS -> ADDR were answered.
replies() {
	n=$(in_ns "$1" ping -c 3 -W 2 "$2" 2>&1 |
	    sed -n 's/.* \([0-9]*\) received.*/\1/p')
	echo "${n:-0}"
}

# guest TAP ADDR NAME: boot a Linux guest bridged on br0 in the host
# namespace; its pid in $qpid, its output in $TESTDIR/NAME.{out,err,log}.
guest() {
	ip netns exec "$HOST" "$QRUN" -n bridge -b br0 -t "$1" \
	    -o net.guest_addr="$2" -o qemu.accel=tcg \
	    --serial-log "$TESTDIR/$3.log" --initrd "$GUESTS/initrd.gz" \
	    "$GUESTS/vmlinuz" >"$TESTDIR/$3.out" 2>"$TESTDIR/$3.err" \
	    </dev/null &
	qpid=$!
	bg_track "$qpid"
}

stop() {
	kill -TERM "$1" 2>/dev/null
	{ wait "$1"; } 2>/dev/null
}

# pings NS ADDR: one ping answered.
pings() {
	in_ns "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1
}

# IPv6 is off in the test namespaces: its link-local addresses and DAD
# flags come and go with timing and would make snapshots flaky.
netns_make LAB
netns_make HOST
for ns in "$LAB" "$HOST"; do
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$LAB" link add veth0 type veth peer name eth1 netns "$HOST"
in_ns "$HOST" sysctl -qw net.ipv6.conf.eth1.disable_ipv6=1
in_ns "$LAB" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
in_ns "$LAB" ip addr add 10.10.0.1/16 dev veth0
in_ns "$LAB" ip link set veth0 up
in_ns "$HOST" ip addr add 10.10.0.5/16 dev eth1
in_ns "$HOST" ip link set eth1 up
in_ns "$HOST" ip route add 10.20.0.0/16 via 10.10.0.254
in_ns "$HOST" ip route add default via 10.10.0.1
# wait for the carrier, so the snapshot is the settled state
for i in 1 2 3 4 5 6 7 8 9 10; do
	in_ns "$HOST" ip link show eth1 | grep -q 'state UP' && break
	sleep 0.2
done
in_ns "$HOST" ping -c 1 -W 2 10.10.0.1 >/dev/null 2>&1
pristine=$(snap)

# --- bridge create ----------------------------------------------------
expect_rc 0 "bridge create br0 --uplink eth1" \
    in_ns "$HOST" "$QRUN" bridge create br0 --uplink eth1
check "create: 10.10.0.5/16 is on br0" \
    sh -c "ip -n '$HOST' -4 -o addr show dev br0 | grep -q ' 10.10.0.5/16 '"
check "create: eth1 has no IPv4 address left" \
    sh -c "! ip -n '$HOST' -4 -o addr show dev eth1 | grep -q inet"
check "create: eth1 is a port of br0" \
    sh -c "ip -n '$HOST' link show eth1 | grep -q 'master br0'"
check "create: route 10.20.0.0/16 via 10.10.0.254 moved to br0" \
    sh -c "ip -n '$HOST' route show 10.20.0.0/16 | grep -q 'via 10.10.0.254 dev br0'"
check "create: default route moved to br0" \
    sh -c "ip -n '$HOST' route show default | grep -q 'via 10.10.0.1 dev br0'"
check "create: host namespace still pings the lab host" \
    pings "$HOST" 10.10.0.1
check "create: br0 has STP off and forward delay 0" \
    sh -c "ip -n '$HOST' -d link show br0 | grep -q 'forward_delay 0 .*stp_state 0'"
list=$(in_ns "$HOST" "$QRUN" bridge list 2>&1)
case $list in
*br0*10.10.0.5/16*eth1*) ok "bridge list shows br0, its address, eth1" ;;
*) fail "bridge list shows br0, its address, eth1 ($list)" ;;
esac
bridged=$(snap)

# --- one guest on tap10 -----------------------------------------------
guest tap10 10.10.0.50 g1
if wait_line "$TESTDIR/g1.log" QRUN-GUEST-READY 60; then
	ok "tap10: guest ready"
else
	fail "tap10: guest ready ($(tail -n 3 "$TESTDIR/g1.err"))"
fi
case $(cat "$TESTDIR/g1.err") in
*"tap10 on br0 -> guest 10.10.0.50/16 gw none"*) ok "tap10: hint line" ;;
*) fail "tap10: hint line ($(cat "$TESTDIR/g1.err"))" ;;
esac
check "tap10: guest got ip=10.10.0.50 with the bridge's prefix" \
    grep -q 'ip=10.10.0.50::' "$TESTDIR/g1.log"
check "tap10: port of br0, no address" sh -c "ip -n '$HOST' link show tap10 |
    grep -q 'master br0' && ! ip -n '$HOST' -4 -o addr show dev tap10 | grep -q inet"
n=$(replies "$LAB" 10.10.0.50)
check "tap10: lab host pings the guest, 3 of 3 (got $n)" [ "$n" -eq 3 ]
n=$(replies "$HOST" 10.10.0.50)
check "tap10: host namespace pings the guest, 3 of 3 (got $n)" [ "$n" -eq 3 ]
list=$(in_ns "$HOST" "$QRUN" bridge list 2>&1)
case $list in
*"tap10(qrun pid $qpid)"*) ok "bridge list names the run on tap10" ;;
*) fail "bridge list names the run on tap10 ($list)" ;;
esac
stop "$qpid"
check "tap10: gone after exit" sh -c "! ip -n '$HOST' link show tap10 2>/dev/null"
after=$(snap)
if [ "$after" = "$bridged" ]; then
	ok "tap10: br0 and eth1 as before the run"
else
	fail "tap10: br0 and eth1 as before the run"
	printf '%s\n' "$bridged" >"$TESTDIR/a"; printf '%s\n' "$after" >"$TESTDIR/b"
	diff "$TESTDIR/a" "$TESTDIR/b" | sed 's/^/# /'
fi

# --- two guests at once -----------------------------------------------
guest tap10 10.10.0.50 g2
p1=$qpid
guest tap11 10.10.0.51 g3
p2=$qpid
wait_line "$TESTDIR/g2.log" QRUN-GUEST-READY 60 &&
    wait_line "$TESTDIR/g3.log" QRUN-GUEST-READY 60
check "two guests: both ready" [ $? -eq 0 ]
n=$(replies "$LAB" 10.10.0.50)
m=$(replies "$LAB" 10.10.0.51)
check "two guests: lab host reaches 10.10.0.50, 3 of 3 (got $n)" [ "$n" -eq 3 ]
check "two guests: lab host reaches 10.10.0.51, 3 of 3 (got $m)" [ "$m" -eq 3 ]
mac1=$(in_ns "$LAB" ip neigh show 10.10.0.50 | sed -n 's/.*lladdr \([^ ]*\).*/\1/p')
mac2=$(in_ns "$LAB" ip neigh show 10.10.0.51 | sed -n 's/.*lladdr \([^ ]*\).*/\1/p')
check "two guests: distinct MACs ($mac1, $mac2)" \
    test -n "$mac1" -a -n "$mac2" -a "$mac1" != "$mac2"
expect_rc 125 "bridge delete refused while runs use br0" \
    in_ns "$HOST" "$QRUN" bridge delete br0 2>"$TESTDIR/del.err"
stop "$p1"
stop "$p2"
check "two guests: br0 and eth1 as before" [ "$(snap)" = "$bridged" ]

# --- refusals: 125, nothing changed -------------------------------------
# run_fail DESC REGEX ARGS...: qrun ARGS exits 125, says REGEX, changes nothing.
run_fail() {
	_d=$1 _re=$2; shift 2
	_before=$(snap)
	in_ns "$HOST" "$QRUN" -o qemu.accel=tcg "$@" --initrd \
	    "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" >/dev/null 2>"$TESTDIR/f.err" </dev/null
	_rc=$?
	if [ "$_rc" -ne 125 ]; then
		fail "$_d (exit $_rc, want 125)"
	elif ! grep -Eq "$_re" "$TESTDIR/f.err"; then
		fail "$_d (message: $(cat "$TESTDIR/f.err"))"
	elif [ "$(snap)" != "$_before" ]; then
		fail "$_d (the namespace changed)"
	else
		ok "$_d"
	fi
}
run_fail "missing bridge: 125 with the admin command" \
    'br9: no such bridge.*sudo qrun bridge create br9 --uplink' \
    -n bridge -b br9 -t tap10 -o net.guest_addr=10.10.0.50
in_ns "$HOST" ip tuntap add tap12 mode tap
in_ns "$HOST" ip addr add 192.168.77.1/24 dev tap12
run_fail "tap with an address: 125 naming it" \
    'tap12: has 192.168.77.1/24' \
    -n bridge -b br0 -t tap12 -o net.guest_addr=10.10.0.52
in_ns "$HOST" ip link del tap12
run_fail "guest address outside the lab network: 125" \
    '10.99.0.50 is outside every network of br0 \(10.10.0.0/16\)' \
    -n bridge -b br0 -t tap10 -o net.guest_addr=10.99.0.50

# --- SIGKILL in the middle of a run, then qrun cleanup -----------------
guest tap10 10.10.0.50 g4
if wait_line "$TESTDIR/g4.log" QRUN-GUEST-READY 60; then
	qemu=$(pgrep -P "$qpid")
	kill -KILL "$qpid"
	{ wait "$qpid"; } 2>/dev/null
	[ -n "$qemu" ] && kill -KILL $qemu 2>/dev/null
	sleep 0.3
	check "SIGKILL: tap10 left behind on br0" \
	    sh -c "ip -n '$HOST' link show tap10 | grep -q 'master br0'"
	expect_rc 0 "SIGKILL: qrun cleanup" in_ns "$HOST" "$QRUN" cleanup
	check "SIGKILL: after cleanup br0 and eth1 as before the run" \
	    [ "$(snap)" = "$bridged" ]
else
	fail "SIGKILL: guest ready ($(tail -n 3 "$TESTDIR/g4.err"))"
fi

# --- bridge delete ----------------------------------------------------
expect_rc 0 "bridge delete br0" in_ns "$HOST" "$QRUN" bridge delete br0
check "delete: eth1 has 10.10.0.5/16 again" \
    sh -c "ip -n '$HOST' -4 -o addr show dev eth1 | grep -q ' 10.10.0.5/16 '"
check "delete: host namespace pings the lab host" \
    pings "$HOST" 10.10.0.1
final=$(snap)
if [ "$final" = "$pristine" ]; then
	ok "delete: namespace state equals the state before bridge create"
else
	fail "delete: namespace state equals the state before bridge create"
	printf '%s\n' "$pristine" >"$TESTDIR/a"; printf '%s\n' "$final" >"$TESTDIR/b"
	diff "$TESTDIR/a" "$TESTDIR/b" | sed 's/^/# /'
fi

# --- a crash in the middle of bridge create, then qrun cleanup ---------
# build/nlfail.so kills qrun (SIGKILL) just before a chosen request: here
# the create's last step, taking eth1's address away; its routes are on
# br0 already. The journal it wrote is replayed by qrun cleanup.
SO=$TOP/build/nlfail.so
RTM_DELLINK=17 RTM_DELADDR=21
killed_at() {
	_k=$1
	shift
	in_ns "$HOST" env LD_PRELOAD="$SO" NLFAIL_KILL="$_k" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$QRUN" "$@" >"$TESTDIR/killed" 2>&1
}
killed_at $RTM_DELADDR bridge create br0 --uplink eth1
check "crash in bridge create: killed before its last step (exit $?)" \
    sh -c "ip -n '$HOST' -4 -o addr show dev eth1 | grep -q 10.10.0.5/16 &&
    ip -n '$HOST' route show default | grep -q 'dev br0'"
expect_rc 0 "crash in bridge create: qrun cleanup" \
    in_ns "$HOST" "$QRUN" cleanup
final=$(snap)
check "crash in bridge create: state before bridge create again" \
    [ "$final" = "$pristine" ]

# --- a crash right at the end of bridge delete, then qrun cleanup ------
# Killed as the bridge itself is deleted (the delete goes on without
# qrun): the replayed journal must make br0 again, with its old ifindex,
# eth1, the address and the routes.
in_ns "$HOST" "$QRUN" bridge create br0 --uplink eth1 >/dev/null
brx=$(ip -n "$HOST" -o link show br0 | cut -d: -f1)
killed_at $RTM_DELLINK bridge delete br0
wait_cmd 5 sh -c "! ip -n '$HOST' link show br0 >/dev/null 2>&1"
check "crash in bridge delete: killed as br0 went" \
    sh -c "! ip -n '$HOST' link show br0 >/dev/null 2>&1"
expect_rc 0 "crash in bridge delete: qrun cleanup" \
    in_ns "$HOST" "$QRUN" cleanup
check "crash in bridge delete: br0 back with eth1, 10.10.0.5/16, routes" \
    sh -c "ip -n '$HOST' link show eth1 | grep -q 'master br0' &&
    ip -n '$HOST' -4 -o addr show dev br0 | grep -q ' 10.10.0.5/16 ' &&
    ! ip -n '$HOST' -4 -o addr show dev eth1 | grep -q inet &&
    ip -n '$HOST' route show default | grep -q 'dev br0' &&
    ip -n '$HOST' route show 10.20.0.0/16 | grep -q 'dev br0'"
check "crash in bridge delete: br0 made again with its ifindex $brx" \
    [ "$(ip -n "$HOST" -o link show br0 | cut -d: -f1)" = "$brx" ]
check "crash in bridge delete: host namespace pings the lab host" \
    pings "$HOST" 10.10.0.1
expect_rc 0 "bridge delete after the replay" \
    in_ns "$HOST" "$QRUN" bridge delete br0
check "bridge delete after the replay: state before bridge create" \
    [ "$(snap)" = "$pristine" ]

# --- what a move cannot carry over as it was ---------------------------
# The kernel drops every route through an interface when its last address
# goes, so a route qrun cannot move (multipath, another table) makes
# bridge create refuse, with the host untouched. An address that is a
# DHCP lease is moved, permanent on the bridge, and qrun says so.
netns_make LEASE
in_ns "$LEASE" ip link add up0 type veth peer name up0p
in_ns "$LEASE" sysctl -qw net.ipv6.conf.up0.disable_ipv6=1
in_ns "$LEASE" ip addr add 10.30.0.5/16 dev up0 valid_lft 3600 preferred_lft 3600
in_ns "$LEASE" ip link set up0p up
in_ns "$LEASE" ip link set up0 up
# up0p's link-local address is tentative for a second or two: a snapshot
# taken meanwhile differs from a later one whatever qrun does
wait_cmd 10 sh -c "! ip netns exec '$LEASE' ip addr | grep -q tentative"
lease_snap() {
	{ snapshot "$LEASE"; in_ns "$LEASE" ip -4 route show table all; } |
	    sed -e 's/[a-z_]*_timer *[0-9.]*//g' -e 's/valid_lft.*//'
}
refuse_move() {	# NAME EXPECTED-STDERR-LINE
	before=$(lease_snap)
	in_ns "$LEASE" "$QRUN" bridge create brl --uplink up0 >/dev/null \
	    2>"$TESTDIR/lease.err"
	rc=$?
	check "$1: bridge create refused, 125 (got $rc)" [ $rc -eq 125 ]
	check "$1: says which route would be lost" \
	    grep -qxF "$2" "$TESTDIR/lease.err"
	check "$1: one line" [ "$(wc -l < "$TESTDIR/lease.err")" -eq 1 ]
	check "$1: host untouched" [ "$(lease_snap)" = "$before" ]
}
in_ns "$LEASE" ip route add 10.99.0.0/16 nexthop via 10.30.0.1 dev up0 \
    nexthop via 10.30.0.2 dev up0
refuse_move "multipath route through the uplink" \
    "qrun: up0: route 10.99.0.0/16 (multipath) cannot be moved to brl and would be lost; remove it first (1 such route)"
in_ns "$LEASE" ip route del 10.99.0.0/16
in_ns "$LEASE" ip route add default via 10.30.0.1 dev up0 table 100
refuse_move "route of another table through the uplink" \
    "qrun: up0: route 0.0.0.0/0 (table 100) cannot be moved to brl and would be lost; remove it first (1 such route)"
in_ns "$LEASE" ip route del default table 100

in_ns "$LEASE" "$QRUN" bridge create brl --uplink up0 >/dev/null 2>"$TESTDIR/lease.err"
rc=$?
check "lease uplink: bridge create exits 0 (got $rc)" [ $rc -eq 0 ]
check "lease uplink: says the lease is permanent on the bridge now" \
    grep -q '^qrun: up0: 10.30.0.5/16 was a lease ([0-9]* s left) and is permanent on brl now; run the DHCP client on brl$' "$TESTDIR/lease.err"
check "lease uplink: the address is on brl, forever" \
    sh -c "ip -n '$LEASE' -4 addr show dev brl | grep -A1 ' 10.30.0.5/16 ' | grep -q 'valid_lft forever'"
in_ns "$LEASE" ip route add 10.98.0.0/16 nexthop via 10.30.0.1 dev brl \
    nexthop via 10.30.0.2 dev brl
before=$(lease_snap)
in_ns "$LEASE" "$QRUN" bridge delete brl >/dev/null 2>"$TESTDIR/lease.err"
rc=$?
check "multipath route through the bridge: bridge delete refused, 125 (got $rc)" [ $rc -eq 125 ]
check "multipath route through the bridge: says which route would be lost" \
    grep -qxF "qrun: brl: route 10.98.0.0/16 (multipath) cannot be moved to up0 and would be lost; remove it first (1 such route)" "$TESTDIR/lease.err"
check "multipath route through the bridge: host untouched" [ "$(lease_snap)" = "$before" ]
in_ns "$LEASE" ip route del 10.98.0.0/16
expect_rc 0 "lease uplink: bridge delete" in_ns "$LEASE" "$QRUN" bridge delete brl
check "lease uplink: after delete, up0 has 10.30.0.5/16 again" \
    sh -c "ip -n '$LEASE' -4 -o addr show dev up0 | grep -q ' 10.30.0.5/16 '"
