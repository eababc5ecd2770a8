#!/bin/sh
# Developer switches (net.mode "switch", issue 17): three Linux guests of
# developer 1 on qbr1 take slots 1, 2, 3 (qtap1-K, 172.21.0.K+1), reach
# each other and the host; developer 2's guest on qbr2 cannot reach them
# (nor they it) although the namespace forwards; kill -9 of one run
# leaves the others running, and `qrun cleanup`, or the next run that
# takes the slot, removes only the dead run's tap; after the last run
# the namespace (links, addresses, routes, rules) is as before and no
# slot index is left.
# The slot index is a SysV semaphore set, and those are per IPC namespace,
# not per network namespace: the script runs in an IPC namespace of its
# own, so the sets it counts are its own, whatever other suites run here.
if [ -z "${QRUN_TEST_IPCNS:-}" ]; then
	export QRUN_TEST_IPCNS=1
	exec unshare --ipc sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need_root "switch"
need_guests "switch" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

# links, addresses, routes and policy rules of the namespace
snap() {
	{ snap_stable "$NS"; in_ns "$NS" ip route; in_ns "$NS" ip rule; } |
	    sed -e 's/[a-z_]*_timer *[0-9.]*//g'
}

# guest NAME TAP [ARGS...]: a Linux guest on the switch of TAP; its qrun
# pid in $qpid, its files $TESTDIR/NAME.{out,err,log}.
guest() {
	switch_guest "$@"
}

# hinted NAME: wait until the run has its slot (its hint is out), so the
# next run's is the next one
hinted() {
	switch_hinted "$1" 30
}

ready() {
	if wait_line "$TESTDIR/$1.log" QRUN-GUEST-READY 90; then
		ok "$1: guest ready"
	else
		fail "$1: guest ready ($(tail -n 3 "$TESTDIR/$1.err"))"
	fi
}

# from GUEST_ADDR TO_ADDR: does the guest at GUEST_ADDR get a reply?
from() {
	GUEST_IP=$1 guest_do "$NS" "ping=$2"
}

stop() {
	kill -TERM "$1" 2>/dev/null
	{ wait "$1"; } 2>/dev/null
}

netns_make NS
in_ns "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
# the host routes: isolation must not rest on forwarding being off
in_ns "$NS" sysctl -qw net.ipv4.ip_forward=1
INITRD=$TESTDIR/initrd.gz
guest_initrd "$INITRD"
before=$(snap)
sem_before=$(ipcs -s | wc -l)

guest g1 tap1; p1=$qpid
hinted g1
guest g2 tap1; p2=$qpid
hinted g2
guest g3 tap1; p3=$qpid
guest d2 tap2; pd=$qpid
ready g1
ready g2
ready g3
ready d2
for k in 1 2 3; do
	case $(cat "$TESTDIR/g$k.err") in
	*"qtap1-$k on qbr1 172.21.0.1/16 slot $k -> guest 172.21.0.$((k + 1)) "*)
		ok "g$k: hint names slot $k and its address" ;;
	*) fail "g$k: hint names slot $k and its address ($(cat "$TESTDIR/g$k.err"))" ;;
	esac
	check "g$k: ip=172.21.0.$((k + 1)) from qrun" \
	    grep -q "ip=172.21.0.$((k + 1))::172.21.0.1:" "$TESTDIR/g$k.log"
done
check "three ports on qbr1, one on qbr2" sh -c "
    [ \$(ip -n '$NS' -o link show master qbr1 | wc -l) -eq 3 ] &&
    [ \$(ip -n '$NS' -o link show master qbr2 | wc -l) -eq 1 ]"
macs=$(ip -n "$NS" -o link show master qbr1 | sed -n 's/.*ether \([^ ]*\).*/\1/p' | sort -u | wc -l)
check "three distinct port MACs on qbr1 (got $macs)" [ "$macs" -eq 3 ]
for a in 2 3 4; do
	for b in 1 2 3 4; do
		[ "$a" = "$b" ] && continue
		r=$(from "172.21.0.$a" "172.21.0.$b")
		check "172.21.0.$a pings 172.21.0.$b ($r)" [ "$r" = reply ]
	done
done
check "host pings every guest on qbr1" sh -c "
    for a in 2 3 4; do ip netns exec '$NS' ping -c 1 -W 2 172.21.0.\$a >/dev/null || exit 1; done"
r=$(GUEST_IP=172.22.0.2 guest_do "$NS" ping=172.22.0.1)
check "developer 2's guest pings its host 172.22.0.1 ($r)" [ "$r" = reply ]
r=$(from 172.22.0.2 172.21.0.2)
check "developer 2's guest cannot reach 172.21.0.2 ($r)" [ "$r" = "no reply" ]
r=$(from 172.21.0.2 172.22.0.2)
check "developer 1's guest cannot reach 172.22.0.2 ($r)" [ "$r" = "no reply" ]
js=$(in_ns "$NS" "$QRUN" status --json 2>&1 | tr -d ' \n\t')
case $js in
*'"switch":"qbr1","slot":"2"'*) ok "status --json: switch and slot" ;;
*) fail "status --json: switch and slot ($js)" ;;
esac

st=$(in_ns "$NS" "$QRUN" status 2>&1)
case $st in
*"SWITCH"*"qbr1     1     qtap1-1         172.21.0.2      $p1"*"qbr1     2     qtap1-2         172.21.0.3      $p2"*"qbr1     3     qtap1-3         172.21.0.4      $p3"*"qbr2     1     qtap2-1         172.22.0.2      $pd"*)
	ok "status lists the switches, their slots and holders" ;;
*) fail "status lists the switches, their slots and holders ($st)" ;;
esac
tl=$(in_ns "$NS" "$QRUN" tap list 2>&1)
case $tl in
*"qtap1-2"*"SWITCH"*"qbr1     2     qtap1-2         172.21.0.3      $p2"*)
	ok "tap list shows the slot taps and who holds each slot" ;;
*) fail "tap list shows the slot taps and who holds each slot ($tl)" ;;
esac

# --- kill -9 of g2: the others go on; cleanup removes only its tap ---
kill -KILL "$p2"
{ wait "$p2"; } 2>/dev/null
sleep 1
check "kill -9: qtap1-2 is left, g1 and g3 still run" sh -c "
    ip -n '$NS' link show qtap1-2 >/dev/null 2>&1 &&
    kill -0 $p1 && kill -0 $p3"
expect_rc 0 "cleanup after kill -9" in_ns "$NS" "$QRUN" cleanup
check "cleanup removed qtap1-2 only" sh -c "
    ! ip -n '$NS' link show qtap1-2 >/dev/null 2>&1 &&
    ip -n '$NS' link show qtap1-1 >/dev/null && ip -n '$NS' link show qtap1-3 >/dev/null &&
    ip -n '$NS' link show qbr1 >/dev/null"
r=$(from 172.21.0.4 172.21.0.2)
check "after cleanup 172.21.0.4 still pings 172.21.0.2 ($r)" [ "$r" = reply ]

# --- the next run takes the free slot 2; kill -9; the next one again --
guest g4 tap1; p4=$qpid
ready g4
check "g4 took the first free slot, 2" grep -q 'qtap1-2 on qbr1 .* slot 2 ' "$TESTDIR/g4.err"
kill -KILL "$p4"
{ wait "$p4"; } 2>/dev/null
guest g5 tap1; p5=$qpid
ready g5
check "g5 took slot 2 and undid g4's leftovers" sh -c "
    grep -q 'slot 2 ' '$TESTDIR/g5.err' && grep -q 'undid the leftovers of 1 dead run' '$TESTDIR/g5.err'"
r=$(from 172.21.0.3 172.21.0.2)
check "g5 (172.21.0.3) pings g1 ($r)" [ "$r" = reply ]

for p in "$p5" "$p3" "$pd"; do stop "$p"; done
check "qbr1 stays while g1 runs" sh -c "ip -n '$NS' link show qbr1 >/dev/null"
stop "$p1"
if same_as "$NS" "$(snap_stable "$NS")" && [ "$before" = "$(snap)" ]; then
	ok "after the last run: namespace as before (links, addresses, routes, rules)"
else
	fail "after the last run: namespace as before"
	printf '%s\n' "$before" >"$TESTDIR/b"; snap >"$TESTDIR/a"
	diff "$TESTDIR/b" "$TESTDIR/a" | sed 's/^/# /'
fi
check "no slot index (semaphore set) left" [ "$(ipcs -s | wc -l)" -eq "$sem_before" ]
check "no journal left" sh -c "! ls '$(qrun_state)'/run-*.journal >/dev/null 2>&1"
