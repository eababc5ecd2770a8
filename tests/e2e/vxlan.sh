#!/bin/sh
# Multi-host labs over VXLAN (issue 17). Two namespaces joined by a veth
# "underlay" (u0: 10.99.0.1/24 and 10.99.0.2/24) play two hosts; each
# gets a lab bridge from `qrun bridge create labbr --vxlan 42 --remote
# <the other>`: its VXLAN port vx42 and the bridge have the underlay's
# MTU minus 50, a full-size ping crosses without fragmentation, a Linux
# guest on each host pings the other guest; bad options exit 125 with
# one line and change nothing; `bridge delete`, and `cleanup` after a
# crash on the way in or out, leave both namespaces as they were
# (links, addresses, routes, `bridge fdb`).
. "$(dirname "$0")/lib.sh"
need_root "vxlan"
need_guests "vxlan" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

# snap NS: links, addresses, routes and the permanent forwarding
# entries of NS (learned ones come and go with traffic), sorted.
snap() {
	{ snapshot "$1"; in_ns "$1" ip route;
	    in_ns "$1" bridge fdb show | grep permanent | sort; } |
	    sed -e 's/[a-z_]*_timer *[0-9.]*//g'
}

# same NS BEFORE DESC: ok when snap NS equals BEFORE, else the diff.
same() {
	_now=$(snap "$1")
	if [ "$_now" = "$2" ]; then
		ok "$3"
	else
		fail "$3"
		printf '%s\n' "$2" >"$TESTDIR/a"
		printf '%s\n' "$_now" >"$TESTDIR/b"
		diff "$TESTDIR/a" "$TESTDIR/b" | sed 's/^/# /'
	fi
}

underlay_make
pa=$(snap "$HA")
pb=$(snap "$HB")

# --- refusals: one line, 125, nothing changed ---------------------------
# refuse DESC LINE ARGS...: qrun bridge create ARGS in HA exits 125 with
# exactly LINE and changes nothing.
refuse() {
	_d=$1 _l=$2
	shift 2
	in_ns "$HA" "$QRUN" bridge create labbr "$@" >/dev/null \
	    2>"$TESTDIR/r.err"
	_rc=$?
	if [ "$_rc" -ne 125 ]; then
		fail "$_d (exit $_rc, want 125)"
	elif [ "$(cat "$TESTDIR/r.err")" != "$_l" ]; then
		fail "$_d (said: $(cat "$TESTDIR/r.err"))"
	elif [ "$(snap "$HA")" != "$pa" ]; then
		fail "$_d (the namespace changed)"
	else
		ok "$_d"
	fi
}
refuse "VNI 0 refused" \
    "qrun: --vxlan 0: the VNI must be a number from 1 to 16777215" \
    --vxlan 0 --remote 10.99.0.2
refuse "VNI 2^24 refused" \
    "qrun: --vxlan 16777216: the VNI must be a number from 1 to 16777215" \
    --vxlan 16777216 --remote 10.99.0.2
refuse "a remote that is no address refused" \
    "qrun: --remote hostb: not an IPv4 or IPv6 address" \
    --vxlan 42 --remote hostb
refuse "a multicast remote refused" \
    "qrun: --remote 239.1.1.1: is a multicast address, not another host's" \
    --vxlan 42 --remote 239.1.1.1
refuse "this host as its own remote refused" \
    "qrun: --remote 10.99.0.1: is this host's own address" \
    --vxlan 42 --remote 10.99.0.1
refuse "a remote without a route refused" \
    "qrun: --remote 10.98.0.2: no route to it; give the underlay with --dev" \
    --vxlan 42 --remote 10.98.0.2
refuse "a missing --dev refused" \
    "qrun: --dev eth9: no such interface" \
    --vxlan 42 --remote 10.99.0.2 --dev eth9
refuse "--remote without --vxlan refused" \
    "qrun: --remote, --dev and --local go with --vxlan" \
    --remote 10.99.0.2
refuse "--vxlan without --remote refused" \
    "qrun: --vxlan needs --remote ADDR[,ADDR...]: the other hosts" \
    --vxlan 42
in_ns "$HA" ip link set u0 mtu 1300
pa_small=$(snap "$HA")
pa_keep=$pa
pa=$pa_small
refuse "an underlay MTU leaving less than 1280 refused" \
    "qrun: u0: its MTU 1300 leaves 1250 for the bridge over VXLAN, below IPv6's minimum 1280" \
    --vxlan 42 --remote 10.99.0.2
in_ns "$HA" ip link set u0 mtu 100
pa=$(snap "$HA")
refuse "an underlay MTU leaving less than 68 refused" \
    "qrun: u0: its MTU 100 leaves 50 for the bridge over VXLAN, below IPv4's minimum 68" \
    --vxlan 42 --remote 10.99.0.2
in_ns "$HA" ip link set u0 mtu 1500
pa=$pa_keep

# --- create on both hosts -----------------------------------------------
expect_rc 0 "host A: bridge create labbr --vxlan 42 --remote 10.99.0.2" \
    in_ns "$HA" "$QRUN" bridge create labbr --vxlan 42 --remote 10.99.0.2 \
    --addr 10.50.0.1/24
expect_rc 0 "host B: bridge create labbr --vxlan 42 --remote 10.99.0.1" \
    in_ns "$HB" "$QRUN" bridge create labbr --vxlan 42 --remote 10.99.0.1 \
    --addr 10.50.0.2/24
for h in A:"$HA":10.99.0.2 B:"$HB":10.99.0.1; do
	n=${h%%:*} ns=${h#*:} ns=${ns%:*} rem=${h##*:}
	check "host $n: vx42 is VXLAN 42 on UDP 4789, learning, MTU 1450, on labbr" \
	    sh -c "ip -n '$ns' -d link show vx42 | grep -q 'mtu 1450 .*master labbr' &&
	    ip -n '$ns' -d link show vx42 | grep -q 'vxlan id 42 .*dstport 4789' &&
	    ! ip -n '$ns' -d link show vx42 | grep -q nolearning"
	check "host $n: labbr has MTU 1450 (u0's 1500 - 50)" \
	    sh -c "ip -n '$ns' link show labbr | grep -q 'mtu 1450 '"
	check "host $n: one all-zeros forwarding entry to $rem" \
	    sh -c "bridge -n '$ns' fdb show dev vx42 | grep -qx '00:00:00:00:00:00 dst $rem self permanent'"
done
list=$(in_ns "$HA" "$QRUN" bridge list 2>&1)
case $list in
*labbr*10.50.0.1/24*"vx42(vxlan 42 to 10.99.0.2)"*)
	ok "bridge list shows the VXLAN port and its remote" ;;
*) fail "bridge list shows the VXLAN port and its remote ($list)" ;;
esac
check "full-size ping across (1450 bytes, DF)" \
    in_ns "$HA" ping -c 2 -W 2 -M do -s 1422 10.50.0.2
check "one byte more does not leave (MTU 1450)" \
    sh -c "! ip netns exec '$HA' ping -c 1 -W 1 -M do -s 1423 10.50.0.2 >/dev/null 2>&1"
created_a=$(snap "$HA")

# --- a guest on each host -------------------------------------------------
# guest NS TAP ADDR NAME: a bridged test guest on labbr, its console's
# input the FIFO $TESTDIR/NAME.in (held open on fd 7 or 8), its output
# $TESTDIR/NAME.out; pid in $qpid. (The MAC comes from the tap and the
# user: one user's guests on two hosts need two taps.)
guest() {
	_ns=$1 _tap=$2 _addr=$3 _name=$4
	mkfifo "$TESTDIR/$_name.in"
	ip netns exec "$_ns" "$QRUN" -n bridge -b labbr -t "$_tap" \
	    -o net.guest_addr="$_addr" -o qemu.accel=tcg \
	    --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" \
	    <"$TESTDIR/$_name.in" >"$TESTDIR/$_name.out" \
	    2>"$TESTDIR/$_name.err" &
	qpid=$!
	bg_track "$qpid"
}
guest "$HA" tap10 10.50.0.11 ga
pa_q=$qpid
exec 7>"$TESTDIR/ga.in"
guest "$HB" tap11 10.50.0.12 gb
pb_q=$qpid
exec 8>"$TESTDIR/gb.in"
if wait_line "$TESTDIR/ga.out" QRUN-GUEST-READY 120 &&
    wait_line "$TESTDIR/gb.out" QRUN-GUEST-READY 120; then
	ok "both guests ready"
else
	fail "both guests ready ($(tail -n 2 "$TESTDIR/ga.err" "$TESTDIR/gb.err"))"
fi
# on_guest FD NAME TAG CMD: run CMD on the console of guest NAME (fd FD
# holds its input open), then wait for the line "TAG=$?" it ends with.
on_guest() {
	echo "$4; echo \"$3=\$?\"" >&"$1"
	wait_line "$TESTDIR/$2.out" "^$3=" 60
}
# guest_said NAME LINE DESC: ok when the guest's console has LINE.
guest_said() {
	if tr -d '\r' <"$TESTDIR/$1.out" | grep -qx "$2"; then
		ok "$3"
	else
		fail "$3"
		tail -n 12 "$TESTDIR/$1.out" | sed 's/^/# /'
	fi
}
sleep 1
on_guest 7 ga MTU 'cat /sys/class/net/eth0/mtu | grep -qx 1450'
guest_said ga "MTU=0" "guest A has the bridge's MTU 1450 (host_mtu)"
on_guest 7 ga PINGB 'ping -c 3 -W 2 -s 1422 10.50.0.12'
guest_said ga "PINGB=0" "guest A pings guest B across the hosts, full size"
on_guest 8 gb PINGA 'ping -c 3 -W 2 10.50.0.11'
guest_said gb "PINGA=0" "guest B pings guest A"
check "host B pings guest A full size (1450 bytes, DF)" \
    in_ns "$HB" ping -c 2 -W 2 -M do -s 1422 10.50.0.11
exec 7>&- 8>&-
for p in "$pa_q" "$pb_q"; do
	kill -TERM "$p" 2>/dev/null
	{ wait "$p"; } 2>/dev/null
done
same "$HA" "$created_a" "host A: labbr as before the guest's run"

# --- delete -----------------------------------------------------------
expect_rc 0 "host A: bridge delete labbr" in_ns "$HA" "$QRUN" bridge delete labbr
expect_rc 0 "host B: bridge delete labbr" in_ns "$HB" "$QRUN" bridge delete labbr
same "$HA" "$pa" "host A: as before bridge create (links, addresses, routes, fdb)"
same "$HB" "$pb" "host B: as before bridge create (links, addresses, routes, fdb)"

# --- crashes, then qrun cleanup -----------------------------------------
# build/nlfail.so kills qrun (SIGKILL) just before a chosen request.
SO=$TOP/build/nlfail.so
RTM_DELLINK=17 RTM_NEWNEIGH=28
killed_at() {
	_k=$1
	shift
	in_ns "$HA" env LD_PRELOAD="$SO" NLFAIL_KILL="$_k" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$QRUN" "$@" >"$TESTDIR/killed" 2>&1
}
killed_at $RTM_NEWNEIGH bridge create labbr --vxlan 42 --remote 10.99.0.2
check "crash in create: vx42 made, its remote not yet" \
    sh -c "ip -n '$HA' link show vx42 >/dev/null 2>&1 &&
    ! bridge -n '$HA' fdb show dev vx42 | grep -q 10.99.0.2"
expect_rc 0 "crash in create: qrun cleanup" in_ns "$HA" "$QRUN" cleanup
same "$HA" "$pa" "crash in create: as before after cleanup"

in_ns "$HA" "$QRUN" bridge create labbr --vxlan 42 --remote 10.99.0.2 \
    --addr 10.50.0.1/24 >/dev/null 2>&1
vxi=$(ip -n "$HA" -o link show vx42 | cut -d: -f1)
# Killed as vx42 is deleted (the deletion goes on without qrun): labbr
# is left without its address and port; the journal says how to make
# them again.
killed_at $RTM_DELLINK bridge delete labbr
wait_cmd 5 sh -c "! ip -n '$HA' link show vx42 >/dev/null 2>&1"
check "crash in delete: killed as vx42 went, labbr left without its address" \
    sh -c "! ip -n '$HA' link show vx42 >/dev/null 2>&1 &&
    ip -n '$HA' link show labbr >/dev/null 2>&1 &&
    ! ip -n '$HA' -4 -o addr show dev labbr | grep -q inet"
expect_rc 0 "crash in delete: qrun cleanup" in_ns "$HA" "$QRUN" cleanup
check "crash in delete: vx42 back with its ifindex $vxi" \
    [ "$(ip -n "$HA" -o link show vx42 | cut -d: -f1)" = "$vxi" ]
check "crash in delete: vx42 on labbr with its remote and MTU 1450, labbr its address" \
    sh -c "ip -n '$HA' -4 -o addr show dev labbr | grep -q ' 10.50.0.1/24 ' &&
    ip -n '$HA' -d link show vx42 | grep -q 'mtu 1450 .*master labbr' &&
    bridge -n '$HA' fdb show dev vx42 | grep -qx '00:00:00:00:00:00 dst 10.99.0.2 self permanent'"
in_ns "$HB" "$QRUN" bridge create labbr --vxlan 42 --remote 10.99.0.1 \
    --addr 10.50.0.2/24 >/dev/null 2>&1
check "crash in delete: the lab works again (full-size ping)" \
    in_ns "$HA" ping -c 2 -W 2 -M do -s 1422 10.50.0.2
expect_rc 0 "bridge delete after the replay" \
    in_ns "$HA" "$QRUN" bridge delete labbr
in_ns "$HB" "$QRUN" bridge delete labbr >/dev/null 2>&1
same "$HA" "$pa" "after the replay and delete: host A as before"
same "$HB" "$pb" "after the replay and delete: host B as before"
check "no journal left" sh -c "! ls '$QRUN_STATE_DIR'/*.journal 2>/dev/null"
