#!/bin/sh
# netem links (issue 17): net.netem impairs both directions of a guest's
# link, the tap's egress with a netem root qdisc and its ingress through
# an ifb device qrun makes (ifb-tap1). With `delay 100ms` the host's ping
# RTT to the guest rises by at least 200 ms and comes back to normal
# after `set net.netem ""` in the shell; `loss 100%` stops the replies;
# after exit, and after a crash undone by the next run or `qrun cleanup`,
# the namespace's links, addresses, routes and qdiscs are as before.
# Where the kernel has no netem qdisc, a run says so (exit 125, nothing
# changed) and the timing tests skip, loudly; the crash tests run
# either way (qrun is killed before its first netem qdisc).
. "$(dirname "$0")/lib.sh"
need_root "netem"
need_guests "netem" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz" "$GUESTS/mbtest.elf"

MB=$GUESTS/mbtest.elf
GUEST=172.21.0.2

# snap: links, addresses, routes and qdiscs of the namespace.
snap() {
	{ snapshot "$NS"; in_ns "$NS" ip route; in_ns "$NS" tc qdisc show; }
}
# same BEFORE DESC: ok when snap equals BEFORE (3 s for the carrier).
same() {
	_end=$(($(date +%s) + 3))
	while [ "$(snap)" != "$1" ] && [ "$(date +%s)" -lt "$_end" ]; do
		sleep 0.1
	done
	if [ "$(snap)" = "$1" ]; then
		ok "$2"
	else
		fail "$2"
		printf '%s\n' "$1" >"$TESTDIR/a"
		snap >"$TESTDIR/b"
		diff "$TESTDIR/a" "$TESTDIR/b" | sed 's/^/# /'
	fi
}
# rtt N: the average RTT (ms, integer) of N pings to the guest, or
# "none" when none was answered.
rtt() {
	in_ns "$NS" ping -c "$1" -i 0.3 -W 3 "$GUEST" 2>/dev/null |
	    sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9]*\).*|\1|p' | grep . || echo none
}
# a mbtest batch run on tap1 (it replays a dead run's journal first)
mbrun() {
	in_ns "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg --timeout 30 \
	    --success-code 0 -o 'qemu.append=lines=3 exit=0' "$@" "$MB" \
	    </dev/null >"$TESTDIR/mb.out" 2>&1
}

netns_make NS
in_ns "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
pristine=$(snap)
# tap1 made by an admin, so it outlives the runs: what they add to it
# (qdiscs, a filter) must be taken off again, not go with the tap.
in_ns "$NS" "$QRUN" tap create tap1 --owner root --addr 172.21.0.1/16 \
    >/dev/null 2>&1
before=$(snap)

# Does this kernel have netem? (A tap of the test's own, gone after.)
in_ns "$NS" ip tuntap add nprobe mode tap
in_ns "$NS" tc qdisc add dev nprobe root netem delay 1ms 2>/dev/null
have_netem=$?
in_ns "$NS" ip link del nprobe

if [ "$have_netem" -ne 0 ]; then
	mbrun -o net.netem='delay 100ms'
	rc=$?
	check "no netem in this kernel: a netem run exits 125 (got $rc)" \
	    [ "$rc" -eq 125 ]
	check "no netem in this kernel: says so, naming the module" \
	    grep -qx 'qrun: ifb-tap1: cannot add a netem qdisc: this kernel has no netem (CONFIG_NET_SCH_NETEM, module sch_netem)' \
	    "$TESTDIR/mb.out"
	same "$before" "no netem in this kernel: nothing changed"
fi

# --- a crash with the ifb, the ingress qdisc and the filter made ---------
# build/nlfail.so kills qrun (SIGKILL) just before its 2nd new qdisc (the
# 1st is tap1's ingress; the 2nd, the ifb's netem).
SO=$TOP/build/nlfail.so
RTM_NEWQDISC=36
crash() {
	in_ns "$NS" env LD_PRELOAD="$SO" NLFAIL_KILL=$RTM_NEWQDISC:2 \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$QRUN" -n tap -t tap1 -o qemu.accel=tcg --timeout 30 \
	    -o net.netem='delay 100ms' "$MB" </dev/null >"$TESTDIR/crash" 2>&1
	check "crash: killed with ifb-tap1, tap1's ingress qdisc and filter made" \
	    sh -c "ip -n '$NS' link show ifb-tap1 >/dev/null 2>&1 &&
	    tc -n '$NS' qdisc show dev tap1 ingress | grep -q ingress &&
	    tc -n '$NS' filter show dev tap1 ingress | grep -q 'Egress Redirect to device ifb-tap1'"
}
crash
expect_rc 0 "crash: the next run on tap1 undoes it and runs" mbrun
check "crash: the next run said so" \
    grep -q '^qrun: undid the leftovers of 1 dead run$' "$TESTDIR/mb.out"
same "$before" "crash, next run: no ifb, no qdisc, no filter left"
crash
expect_rc 0 "crash: qrun cleanup" in_ns "$NS" "$QRUN" cleanup
same "$before" "crash, cleanup: no ifb, no qdisc, no filter left"

if [ "$have_netem" -ne 0 ]; then
	# The shell's live change reaches the kernel, which refuses it:
	# one line, the setting and the network unchanged.
	printf '%s\n' boot 'set net.netem delay 100ms' 'set net.netem ""' \
	    'show net.netem' quit | in_ns "$NS" "$QRUN" -i -n tap -t tap1 \
	    -o qemu.accel=tcg -o qemu.append=hang "$MB" >"$TESTDIR/sh.out" 2>&1
	check "no netem, shell: set net.netem is refused by the kernel, live" \
	    grep -qx 'qrun: ifb-tap1: cannot add a netem qdisc: this kernel has no netem (CONFIG_NET_SCH_NETEM, module sch_netem)' \
	    "$TESTDIR/sh.out"
	check "no netem, shell: set net.netem \"\" applies at once" \
	    grep -qx 'net.netem =  (now, on the running network)' "$TESTDIR/sh.out"
	same "$before" "no netem, shell: quit leaves tap1 as before"
	skip "netem: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): delay, loss and live changes untested here"
	in_ns "$NS" "$QRUN" tap delete tap1 >/dev/null 2>&1
	same "$pristine" "tap1 deleted: the namespace as at the start"
	exit 0
fi

# --- the shell: delay, off, loss, on again, live -------------------------
out=$TESTDIR/sh.out
fifo=$TESTDIR/sh.in
mkfifo "$fifo"
ip netns exec "$NS" "$QRUN" -i -n tap -t tap1 -o qemu.accel=tcg \
    -o net.netem='delay 100ms' --initrd "$GUESTS/initrd.gz" \
    "$GUESTS/vmlinuz" <"$fifo" >"$out" 2>&1 &
spid=$!
bg_track "$spid"
exec 3>"$fifo"
say() { printf '%s\n' "$*" >&3; }
say boot
say "wait QRUN-GUEST-READY 120"
say "ready ping 60"
wait_line "$out" '^qrun: guest .* ready after' 150
base=$(rtt 5)
check "delay 100ms: tap1 has a netem root qdisc, delay 100ms" \
    sh -c "tc -n '$NS' qdisc show dev tap1 root | grep -q 'netem .*delay 100ms'"
check "delay 100ms: ifb-tap1 has one too, and tap1's ingress goes there" \
    sh -c "tc -n '$NS' qdisc show dev ifb-tap1 root | grep -q 'netem .*delay 100ms' &&
    tc -n '$NS' filter show dev tap1 ingress | grep -q 'Egress Redirect to device ifb-tap1'"
case $base in
none) fail "delay 100ms: the guest answers" ;;
*) check "delay 100ms: RTT $base ms, at least 200 (both directions)" \
    [ "$base" -ge 200 ] ;;
esac
say 'set net.netem ""'
wait_line "$out" '^net.netem = .*now, on the running network' 10
fast=$(rtt 5)
check "set net.netem \"\": RTT $fast ms, below 100 again" \
    sh -c "[ '$fast' != none ] && [ '$fast' -lt 100 ]"
check "set net.netem \"\": no netem qdisc, no ifb left" \
    sh -c "! tc -n '$NS' qdisc show dev tap1 | grep -q netem &&
    ! ip -n '$NS' link show ifb-tap1 >/dev/null 2>&1"
say 'set net.netem loss 100%'
sleep 1
lost=$(rtt 3)
check "set net.netem loss 100%: no reply ($lost)" [ "$lost" = none ]
say 'set net.netem delay 100ms'
sleep 1
again=$(rtt 5)
check "set net.netem delay 100ms: RTT $again ms again at least 200" \
    sh -c "[ '$again' != none ] && [ '$again' -ge 200 ]"
say quit
{ wait "$spid"; } 2>/dev/null
exec 3>&-
same "$before" "shell quit: no netem qdisc, no ifb, tap1 as before"

# --- kill -9 of a running netem guest, then cleanup ----------------------
ip netns exec "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
    -o net.netem='delay 20ms loss 1%' --serial-log "$TESTDIR/k.log" \
    --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" </dev/null \
    >"$TESTDIR/k.out" 2>&1 &
kpid=$!
bg_track "$kpid"
if wait_line "$TESTDIR/k.log" QRUN-GUEST-READY 120; then
	qemu=$(pgrep -P "$kpid")
	kill -KILL "$kpid"
	{ wait "$kpid"; } 2>/dev/null
	[ -n "$qemu" ] && kill -KILL $qemu 2>/dev/null
	check "kill -9: ifb-tap1 left behind" \
	    sh -c "ip -n '$NS' link show ifb-tap1 >/dev/null 2>&1"
	expect_rc 0 "kill -9: qrun cleanup" in_ns "$NS" "$QRUN" cleanup
	same "$before" "kill -9, cleanup: no ifb, no qdisc left"
else
	fail "kill -9: guest ready ($(tail -n 3 "$TESTDIR/k.out"))"
fi
in_ns "$NS" "$QRUN" tap delete tap1 >/dev/null 2>&1
same "$pristine" "tap1 deleted: the namespace as at the start"
