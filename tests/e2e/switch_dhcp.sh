#!/bin/sh
# net.dhcp on a developer switch: the first run that holds qbr1 starts
# ONE dnsmasq on it (into the switch's shared journal), serving every
# slot a static lease. Two guests booted with net.kernel_ip = false get
# their slot addresses (172.21.0.2, .3) by DHCP, ping each other and the
# host, and resolve each other's guestK.qrun. kill -9 of the FIRST run
# (the one that started dnsmasq) while the second holds the switch: the
# same dnsmasq keeps serving (a third guest, in the freed slot 1, gets
# 172.21.0.2 by DHCP). After the last run: no dnsmasq, no state files,
# the namespace (links, addresses, routes, rules) as before. The same
# when the first run ends normally (QEMU a stand-in): its dnsmasq stays
# for the second, whose end stops it; and when both are killed with
# SIGKILL, `qrun cleanup` stops it. With IPv6 (another namespace) the
# lease of slot 2 is the MAC and SLAAC address its run's hint names.
. "$(dirname "$0")/lib.sh"
need_root "switch_dhcp"
need_guests "switch_dhcp" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"
[ -x /usr/sbin/dnsmasq ] ||
    { skip "switch_dhcp: needs /usr/sbin/dnsmasq (dnsmasq-base)"; exit 0; }

ST=$QRUN_STATE_DIR
FAKE=$TESTDIR/fakeqemu		# QEMU's stand-in: stays until killed
printf '#!/bin/sh\nexec sleep 120\n' >"$FAKE"
chmod 755 "$FAKE"
INITRD=$TESTDIR/initrd.gz
guest_initrd "$INITRD"

snap() {
	{ snap_stable "$NS"; in_ns "$NS" ip route; in_ns "$NS" ip rule; } |
	    sed -e 's/[a-z_]*_timer *[0-9.]*//g'
}
# what the state dir holds besides locks (and a switch's slot index key)
state_files() {
	ls "$ST" | grep -v '\.lock$\|\.share$\|\.slots$'
}
# the pids of the dnsmasqs running in NS
dnsmasq_pids() {
	ip netns pids "$NS" | xargs -r ps -o pid=,comm= -p 2>/dev/null |
	    awk '$2 == "dnsmasq" { print $1 }' | tr '\n' ' '
}
no_dnsmasq() { [ -z "$(dnsmasq_pids)" ]; }

# guest NAME: a DHCP guest on switch 1, its qrun pid in $qpid
guest() {
	switch_guest "$1" tap1 -o net.kernel_ip=false
}
hinted() {
	switch_hinted "$1" 60
}
# leased NAME ADDR: the guest reports ADDR, got by DHCP
leased() {
	if wait_line "$TESTDIR/$1.log" \
	    "QRUN-GUEST-READY ip=$(echo "$2" | sed 's/\./\\./g')([^0-9]|\$)" 150
	then
		ok "$1: got $2 by DHCP"
	else
		fail "$1: got $2 by DHCP ($(grep -a 'READY\|dhcp' "$TESTDIR/$1.log"; tail -n 2 "$TESTDIR/$1.err"))"
	fi
}
from() { GUEST_IP=$1 guest_do "$NS" "ping=$2"; }
stop() {
	kill -TERM "$1" 2>/dev/null
	{ wait "$1"; } 2>/dev/null
}

netns_make NS
in_ns "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
before=$(snap)
files_before=$(state_files)

guest g1; p1=$qpid
hinted g1
guest g2; p2=$qpid
leased g1 172.21.0.2
leased g2 172.21.0.3
check "no ip= from qrun" sh -c "! grep -aq 'ip=172\.21\.0\.[23]::' '$TESTDIR/g1.log' '$TESTDIR/g2.log'"
d=$(dnsmasq_pids)
check "one dnsmasq serves the switch ($d)" [ "$(echo $d | wc -w)" -eq 1 ]
check "its files are the switch's, in the state dir" sh -c \
    "ls '$ST' | grep -q '^qbr1@[0-9]*\.dnsmasq\.conf\$'"
r=$(from 172.21.0.2 172.21.0.3)
check "172.21.0.2 pings 172.21.0.3 ($r)" [ "$r" = reply ]
r=$(from 172.21.0.3 172.21.0.2)
check "172.21.0.3 pings 172.21.0.2 ($r)" [ "$r" = reply ]
r=$(from 172.21.0.3 172.21.0.1)
check "172.21.0.3 pings the host ($r)" [ "$r" = reply ]
check "the host pings both guests" sh -c "
    ip netns exec '$NS' ping -c 1 -W 3 172.21.0.2 >/dev/null &&
    ip netns exec '$NS' ping -c 1 -W 3 172.21.0.3 >/dev/null"
r=$(GUEST_IP=172.21.0.2 guest_do "$NS" lookup=guest2.qrun | tr '\n' ' ')
check "g1 resolves guest2.qrun ($r)" [ "$r" = "172.21.0.3 " ]

# --- kill -9 of the first run, which started dnsmasq ------------------
kill -KILL "$p1"
{ wait "$p1"; } 2>/dev/null
sleep 1
check "kill -9 of the first run: the same dnsmasq runs on ($(dnsmasq_pids))" \
    [ "$(dnsmasq_pids)" = "$d" ]
r=$(from 172.21.0.3 172.21.0.1)
check "g2 still pings the host ($r)" [ "$r" = reply ]
guest g3; p3=$qpid
leased g3 172.21.0.2
check "g3 took the freed slot 1" grep -q 'qtap1-1 on qbr1 .* slot 1 ' "$TESTDIR/g3.err"
check "still one dnsmasq, the same ($(dnsmasq_pids))" [ "$(dnsmasq_pids)" = "$d" ]
r=$(from 172.21.0.2 172.21.0.3)
check "g3 pings g2 ($r)" [ "$r" = reply ]

stop "$p3"
check "dnsmasq stays while g2 runs" [ "$(dnsmasq_pids)" = "$d" ]
stop "$p2"
check "after the last run: no dnsmasq left" wait_cmd 3 no_dnsmasq
check "after the last run: no state files left ($(state_files | tr '\n' ' '))" \
    [ "$(state_files)" = "$files_before" ]
if same_as "$NS" "$(snap_stable "$NS")" && [ "$before" = "$(snap)" ]; then
	ok "after the last run: namespace as before (links, addresses, routes, rules)"
else
	fail "after the last run: namespace as before"
	printf '%s\n' "$before" >"$TESTDIR/b"; snap >"$TESTDIR/a"
	diff "$TESTDIR/b" "$TESTDIR/a" | sed 's/^/# /'
fi

# --- the first run ends normally while a second holds the switch ------
fake() {
	ip netns exec "$NS" "$QRUN" -n switch -t tap1 -o qemu.binary="$FAKE" \
	    -o net.kernel_ip=false "$GUESTS/vmlinuz" >"$TESTDIR/$1.out" \
	    2>"$TESTDIR/$1.err" </dev/null &
	qpid=$!
	bg_track "$qpid"
}
fake f1; q1=$qpid
hinted f1
fake f2; q2=$qpid
hinted f2
d=$(dnsmasq_pids)
check "stand-ins: one dnsmasq ($d)" [ "$(echo $d | wc -w)" -eq 1 ]
stop "$q1"
check "the first run ended: its dnsmasq stays for the second ($(dnsmasq_pids))" \
    [ "$(dnsmasq_pids)" = "$d" ]
stop "$q2"
check "after the second: no dnsmasq left" wait_cmd 3 no_dnsmasq
check "after the second: no state files left ($(state_files | tr '\n' ' '))" \
    [ "$(state_files)" = "$files_before" ]
check "after the second: namespace as before" [ "$before" = "$(snap)" ]

# --- both runs killed with SIGKILL: cleanup stops the switch's dnsmasq --
fake f3; q3=$qpid
hinted f3
fake f4; q4=$qpid
hinted f4
d=$(dnsmasq_pids)
kill -KILL "$q3" "$q4"
{ wait "$q3"; wait "$q4"; } 2>/dev/null
sleep 1
check "both killed: the switch's dnsmasq is left ($d)" sh -c \
    "[ -n '$d' ] && [ '$(dnsmasq_pids)' = '$d' ]"
expect_rc 0 "cleanup after both were killed" in_ns "$NS" "$QRUN" cleanup
check "after cleanup: no dnsmasq left" wait_cmd 3 no_dnsmasq
check "after cleanup: no state files left ($(state_files | tr '\n' ' '))" \
    [ "$(state_files)" = "$files_before" ]
check "after cleanup: namespace as before" [ "$before" = "$(snap)" ]

# --- IPv6: slot 2's lease is its hint's MAC, IPv4 and SLAAC address ---
netns_make NS6
before6=$(snap_stable "$NS6")
ip netns exec "$NS6" "$QRUN" -n switch -t tap1 -o qemu.binary="$FAKE" \
    -o net.slot=2 -o net.kernel_ip=false "$GUESTS/vmlinuz" \
    >"$TESTDIR/f6.out" 2>"$TESTDIR/f6.err" </dev/null &
q6=$!
bg_track "$q6"
hinted f6
mac=$(sed -n 's/.* mac \([0-9a-f:]*\).*/\1/p' "$TESTDIR/f6.err")
g6=$(sed -n 's/.* guest6 \([0-9a-f:]*\).*/\1/p' "$TESTDIR/f6.err")
conf=$(cat "$ST"/qbr1@*.dnsmasq.conf 2>/dev/null)
case $conf in
*"dhcp-host=$mac,172.21.0.3,[$g6],"*"host-record=guest2.qrun,172.21.0.3,$g6"* |\
*"host-record=guest2.qrun,172.21.0.3,$g6"*"dhcp-host=$mac,172.21.0.3,[$g6],"*)
	if [ -n "$mac" ] && [ -n "$g6" ]; then
		ok "slot 2's lease: $mac -> 172.21.0.3 and $g6, guest2.qrun"
	else
		fail "slot 2's lease: no mac or guest6 in the hint ($(cat "$TESTDIR/f6.err"))"
	fi ;;
*) fail "slot 2's lease: $mac -> 172.21.0.3 and $g6 ($(cat "$TESTDIR/f6.err"))" ;;
esac
stop "$q6"
check "IPv6: no dnsmasq left" sh -c "! ip netns pids '$NS6' | xargs -r ps -o comm= -p | grep -q dnsmasq"
check "IPv6: no state files left ($(state_files | tr '\n' ' '))" \
    [ "$(state_files)" = "$files_before" ]
check "IPv6: namespace as before" same_as "$NS6" "$before6"
