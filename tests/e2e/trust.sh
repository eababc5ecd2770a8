#!/bin/sh
# Trust (issue 14): qrun undoes only what it made, in any number of
# network namespaces sharing one state dir; a tap someone else made under
# the same name is never touched; host addresses follow one set of rules;
# a policy rule that steers the guest's network elsewhere stops the run;
# a tap qrun did not make is left exactly as found, carrier included.
. "$(dirname "$0")/lib.sh"
need_root "trust"

MB=$GUESTS/mbtest.elf
need_guests "trust" "$MB"
SO=$TOP/build/nlfail.so
Q="$QRUN -n tap -o qemu.accel=tcg"

# journals: how many journals the state dir holds
journals() { ls "$(qrun_state)"/run-*.journal 2>/dev/null | wc -l; }

# hang NS TAP OUT: a run on TAP in NS that hangs until killed, in the
# background; its pid (qrun's: ip netns exec execs it) in $hpid once the
# guest is up.
hang() {
	ip netns exec "$1" $Q -t "$2" -o qemu.append=hang "$MB" \
	    </dev/null >"$3" 2>&1 &
	hpid=$!
	bg_track "$hpid"
	wait_line "$3" 'mbtest: hanging' 20
}

# crash NS TAP: a run on TAP in NS killed with SIGKILL while its guest
# runs (QEMU dies with it: PR_SET_PDEATHSIG).
crash() {
	hang "$1" "$2" "$TESTDIR/crash.out" || return 1
	kill -9 "$hpid"
	wait "$hpid" 2>/dev/null
	return 0
}

# batch NS ARGS...: a short run that exits 0 (mbtest exit=0).
batch() {
	_ns=$1
	shift
	in_ns "$_ns" timeout 60 $Q --success-code 0 -o 'qemu.append=exit=0' \
	    "$@" "$MB" </dev/null >"$TESTDIR/batch.out" 2>&1
}

# --- two namespaces with a tap1 each, a crash in one -----------------------
netns_make A
netns_make B
a0=$(snap_stable "$A")
# (up once, as a tap in use is: a link's first up gives it a qdisc)
in_ns "$B" sh -e -c 'ip tuntap add tap1 mode tap; ip link set tap1 up
    ip link set tap1 down'
b0=$(snap_stable "$B")
check "A: a run on tap1 killed with SIGKILL" crash "$A" tap1
check "A: its tap1 and address are left over" \
    sh -c "ip -n '$A' -4 -o addr show dev tap1 | grep -q 172.21.0.1/16"
in_ns "$B" "$QRUN" cleanup >"$TESTDIR/out" 2>&1
check "B: cleanup reports A's leftover and leaves it" \
    grep -q "left 1 of other network namespaces" "$TESTDIR/out"
check "B: its own tap1 untouched by the cleanup" same_as "$B" "$b0"
check "B: A's journal still there" [ "$(journals)" -eq 1 ]
check "B: a run on B's tap1 (exit 0)" batch "$B" -t tap1
check "B: its tap1 as it was after the run" same_as "$B" "$b0"
check "A: its leftover still there after B's run" \
    sh -c "ip -n '$A' link show tap1 >/dev/null 2>&1"
in_ns "$A" "$QRUN" cleanup >"$TESTDIR/out" 2>&1
check "A: cleanup there undoes it" grep -q "undid 1 leftover run" \
    "$TESTDIR/out"
check "A: as it began" same_as "$A" "$a0"
check "no journal left" [ "$(journals)" -eq 0 ]

# --- a crash, then someone makes tap1 again: theirs stays ------------------
netns_make C
check "C: a run on tap1 killed with SIGKILL" crash "$C" tap1
in_ns "$C" ip link del tap1
in_ns "$C" sh -e -c 'ip tuntap add tap1 mode tap; ip link set tap1 up
    ip link set tap1 down'
c0=$(snap_stable "$C")
in_ns "$C" "$QRUN" cleanup >"$TESTDIR/out" 2>&1
check "C: the crashed run's journal is replayed" \
    grep -q "undid 1 leftover run" "$TESTDIR/out"
check "C: the tap1 made after the crash is not deleted" same_as "$C" "$c0"

# --- the same tap name in four namespaces at once ------------------------
pids=""
for i in 1 2 3 4; do
	netns_make P
	eval "P$i=\$P"
	ip netns exec "$P" $Q -t tap7 --success-code 0 -o 'qemu.append=exit=0' \
	    "$MB" </dev/null >"$TESTDIR/par$i.out" 2>&1 &
	pids="$pids $!"
done
n=0
for p in $pids; do
	wait "$p" && n=$((n + 1))
done
check "tap7 in four namespaces at once: all four ran ($n of 4)" [ "$n" -eq 4 ]

# --- a tap qrun did not make: left as found, no carrier ------------------
netns_make D
in_ns "$D" sh -e -c 'ip tuntap add tap1 mode tap user 0
    ip addr add 172.21.0.1/16 dev tap1; ip link set tap1 up'
d0=$(snap_stable "$D")
check "D: a run on the pre-made tap1 (exit 0)" batch "$D" -t tap1
check "D: right after exit, a link dump says NO-CARRIER" \
    sh -c "ip -n '$D' -o link | grep 'tap1:' | grep -q NO-CARRIER"
check "D: right after exit, exactly as found (no grace)" \
    [ "$(snap_stable "$D")" = "$d0" ]

# --- a policy rule that sends the guest's network elsewhere --------------
netns_make E
in_ns "$E" sh -e -c 'ip link add v0 type veth peer name v1
    ip addr add 10.88.0.1/24 dev v0; ip link set v0 up; ip link set v1 up
    ip route add 172.21.0.0/16 dev v0 table 100
    ip rule add to 172.21.0.0/16 table 100 pref 1000'
e0=$(snap_stable "$E")
batch "$E" -t tap1
rc=$?
check "E: a rule steering 172.21/16 elsewhere: exit 125 (got $rc)" \
    [ "$rc" -eq 125 ]
check "E: the message names the rule" grep -q \
    "qrun: tap1: traffic to the guest 172.21.0.2 goes out v0, not tap1: policy rule 'to 172.21.0.0/16 lookup 100' (priority 1000)" \
    "$TESTDIR/batch.out"
check "E: namespace as before" same_as "$E" "$e0"

# --- host addresses: every refused kind, one line each ------------------
netns_make F
in_ns "$F" sh -e -c 'ip link add v0 type veth peer name v1
    ip addr add 10.88.0.1/24 dev v0; ip link set v0 up; ip link set v1 up
    ip route add default via 10.88.0.254'
f0=$(snap_stable "$F")
# refuse DESC TEXT ARGS...: exit 125, one line with TEXT, F unchanged.
refuse() {
	_d=$1 _t=$2
	shift 2
	in_ns "$F" "$QRUN" "$@" >"$TESTDIR/out" 2>&1
	_rc=$?
	if [ "$_rc" -eq 125 ] && [ "$(wc -l <"$TESTDIR/out")" -eq 1 ] &&
	    grep -q -- "$_t" "$TESTDIR/out" && same_as "$F" "$f0"; then
		ok "$_d"
	else
		fail "$_d (exit $_rc: $(cat "$TESTDIR/out"))"
	fi
}
R="-n tap -o qemu.accel=tcg -t tap3 --success-code 0 -o qemu.append=exit=0"
refuse "host_addr loopback" "net.host_addr: is a loopback address" \
    $R -o net.host_addr=127.0.0.2/8 "$MB"
refuse "host_addr multicast" "net.host_addr: is a multicast address" \
    $R -o net.host_addr=224.0.0.1/4 "$MB"
refuse "host_addr link-local" "net.host_addr: is a link-local address" \
    $R -o net.host_addr=169.254.7.1/16 "$MB"
refuse "host_addr broadcast" "net.host_addr: is the broadcast address" \
    $R -o net.host_addr=172.23.255.255/16 "$MB"
refuse "host_addr overlapping v0's route" \
    "tap3: 10.88.0.0/16 overlaps a route on v0" \
    $R -o net.host_addr=10.88.0.5/16 "$MB"
refuse "host_addr 8.8.8.1/24 (public, routed by the default route)" \
    "tap3: 8.8.8.0/24 is not a private network, and the host sends its traffic out v0 now" \
    $R -o net.host_addr=8.8.8.1/24 "$MB"
refuse "host_addr 128.0.0.1/1 (half the internet)" \
    "tap3: 128.0.0.0/1 is not a private network" \
    $R -o net.host_addr=128.0.0.1/1 "$MB"
refuse "tap create --addr, public and routed" \
    "tap2: 8.8.8.0/24 is not a private network" \
    tap create tap2 --owner root --addr 8.8.8.1/24
refuse "tap create --addr, loopback" "tap2: 127.0.0.5/8 is a loopback address" \
    tap create tap2 --owner root --addr 127.0.0.5/8
refuse "bridge create --addr, overlapping" \
    "brx: 10.88.0.0/20 overlaps a route on v0" \
    bridge create brx --addr 10.88.0.9/20
check "a private, free host_addr is fine (exit 0)" \
    batch "$F" -t tap3 -o net.host_addr=172.23.0.1/16
check "F: as before" same_as "$F" "$f0"

# --- a kill -9 storm in two namespaces at once, cleanup from a third ------
# 15 runs on tap1 in each of G and H, every one killed with SIGKILL at a
# random point: just before one of its netlink changes (build/nlfail.so:
# address, link up, or - teardown, sent by qrun's delete child - the
# tap's delete), or after 0 to 1.2 s, in setup, while its guest runs or
# while it undoes (its --timeout is 1 s). Each namespace also holds a tap
# and a bridge qrun has nothing to do with. Then a last crash in each,
# "qrun cleanup" from a third namespace (must touch nothing), and one in
# each: every namespace ends as it began, no journal, no process left.
rnd() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
storm_one() {
	_r=$(rnd)
	if [ $((_r % 3)) -eq 0 ]; then
		ip netns exec "$1" env LD_PRELOAD="$SO" NLFAIL_KILL="0:$((_r % 4 + 1))" \
		    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		    $Q -t tap1 --success-code 0 -o 'qemu.append=exit=0' "$MB" \
		    </dev/null >/dev/null 2>&1
		return
	fi
	ip netns exec "$1" $Q -t tap1 --timeout 1 -o qemu.append=hang "$MB" \
	    </dev/null >/dev/null 2>&1 &
	_p=$!
	sleep "$((_r % 1200 / 1000)).$(printf %03d $((_r % 1000)))"
	kill -9 "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
}
storm() {
	for _i in $(seq 15); do storm_one "$1"; done
}
netns_make G
netns_make H
netns_make K
for ns in "$G" "$H"; do
	in_ns "$ns" sh -e -c 'ip tuntap add tap9 mode tap; ip link set tap9 up
	    ip addr add 10.99.0.1/24 dev tap9; ip link add brz type bridge
	    ip link set brz address 02:00:00:00:00:09'
done
g0=$(snap_stable "$G")
h0=$(snap_stable "$H")
k0=$(snap_stable "$K")
storm "$G" &
sg=$!
storm "$H"
wait "$sg"
check "storm: a last run in G killed with SIGKILL" crash "$G" tap1
check "storm: a last run in H killed with SIGKILL" crash "$H" tap1
# settled: the killed runs' QEMUs gone, the taps' carrier loss reported
ns_empty "$G"
ns_empty "$H"
in_ns "$G" ip link show tap1 >/dev/null
in_ns "$H" ip link show tap1 >/dev/null
gl=$(snap_stable "$G")
hl=$(snap_stable "$H")
in_ns "$K" "$QRUN" cleanup >"$TESTDIR/out" 2>&1
left=$(sed -n 's/.*; left \([0-9]*\) of other network namespaces.*/\1/p' \
    "$TESTDIR/out")
check "storm: cleanup from a third namespace leaves the leftovers (${left:-0})" \
    [ "${left:-0}" -ge 2 ]
check "storm: ... and touches nothing in G" same_as "$G" "$gl"
check "storm: ... nor in H" same_as "$H" "$hl"
check "storm: ... nor in its own" same_as "$K" "$k0"
in_ns "$G" "$QRUN" cleanup >/dev/null 2>&1
in_ns "$H" "$QRUN" cleanup >/dev/null 2>&1
check "storm: G as it began (its tap9 and brz untouched)" same_as "$G" "$g0"
check "storm: H as it began (its tap9 and brz untouched)" same_as "$H" "$h0"
check "storm: no journal left" [ "$(journals)" -eq 0 ]
check "storm: no process left in G or H" sh -c \
    "[ -z \"\$(ip netns pids '$G')\$(ip netns pids '$H')\" ] ||
    { sleep 2; [ -z \"\$(ip netns pids '$G')\$(ip netns pids '$H')\" ]; }"
