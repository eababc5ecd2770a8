#!/bin/sh
# net.dhcp and net.dns (DESIGN.md section 9): the tap's own dnsmasq. The
# test guest booted with net.kernel_ip = false (no ip=: it asks DHCP and
# takes the SLAAC address) gets 172.21.0.2, answers ping and ping -6 at
# the hinted IPv6 address (--ready ping6 sees it too), resolves host.qrun and guest.qrun, and a
# second boot gets the same addresses. Each run leaves the namespace as
# it was: no dnsmasq, no state-dir files. kill -9 of qrun at random
# points (with NAT on) leaves nothing after the next run or cleanup. Bad
# input, one line and 125 with nothing changed: dnsmasq missing with
# net.dhcp set (a default one is skipped with a note), another DHCP
# server bound to the tap, another server on DNS's port at the host
# address, dnsmasq's own startup error, net.dns without net.dhcp; dnsmasq dying during the run ends it with 125.
. "$(dirname "$0")/lib.sh"
need_root "dhcp"
need_guests "dhcp" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"
[ -x /usr/sbin/dnsmasq ] || { skip "dhcp: needs /usr/sbin/dnsmasq (dnsmasq-base)"; exit 0; }

INITRD=$TESTDIR/initrd.gz
guest_initrd "$INITRD"
FAKE=$TESTDIR/fakeqemu		# QEMU's stand-in: stays until killed
printf '#!/bin/sh\nexec sleep 120\n' >"$FAKE"
chmod 755 "$FAKE"
MAC=52:54:00:12:34:56
G6=fd00:172:21:0:5054:ff:fe12:3456
ST=$QRUN_STATE_DIR

# state NS: links, addresses and routes of both families (the kernel's
# link-local ones aside: snap_stable).
state() {
	snap_stable "$1"
	in_ns "$1" ip route
	in_ns "$1" ip -6 route | grep -v '^fe80::/64 '
}
# no_dnsmasq NS: no dnsmasq runs in NS (2 s grace).
no_dnsmasq() {
	for _i in $(seq 20); do
		ip netns pids "$1" | xargs -r ps -o comm= -p 2>/dev/null |
		    grep -q dnsmasq || return 0
		sleep 0.1
	done
	return 1
}
# state_files: what the state dir holds besides locks.
state_files() {
	ls "$ST" | grep -v '\.lock$\|\.share$'
}
dnsmasq_pid() {
	ip netns pids "$1" | xargs -r ps -o pid=,comm= -p 2>/dev/null |
	    awk '$2 == "dnsmasq" { print $1 }'
}

netns_make NS
before=$(state "$NS")

# boot N: the DHCP guest in the background, its serial log in log.N.
boot() {
	ip netns exec "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg -o net.mac=$MAC \
	    -o net.kernel_ip=false --serial-log "$TESTDIR/log.$1" \
	    --initrd "$INITRD" "$GUESTS/vmlinuz" >"$TESTDIR/out.$1" \
	    2>"$TESTDIR/err.$1" </dev/null &
	qpid=$!
	bg_track "$qpid"
}
ping6_ok() { in_ns "$NS" ping -6 -c 1 -W 1 "$G6" >/dev/null 2>&1; }

for n in 1 2; do
	boot $n
	if wait_line "$TESTDIR/log.$n" 'QRUN-GUEST-READY ip=172\.21\.0\.2([^0-9]|$)' 90; then
		ok "boot $n: the guest got 172.21.0.2 by DHCP"
	else
		fail "boot $n: the guest got 172.21.0.2 by DHCP ($(grep -a 'READY\|dhcp' "$TESTDIR/log.$n"; tail -n 2 "$TESTDIR/err.$n"))"
	fi
	check "boot $n: it answers ping" in_ns "$NS" ping -c 1 -W 3 172.21.0.2
	check "boot $n: it answers ping -6 at $G6 (SLAAC)" wait_cmd 15 ping6_ok
	if [ $n = 1 ]; then
		r=$(guest_do "$NS" lookup=host.qrun | sort | tr '\n' ' ')
		check "the guest resolves host.qrun (A, AAAA: $r)" \
		    [ "$r" = "172.21.0.1 fd00:172:21::1 " ]
		r=$(guest_do "$NS" lookup=guest.qrun | sort | tr '\n' ' ')
		check "the guest resolves guest.qrun ($r)" \
		    [ "$r" = "172.21.0.2 $G6 " ]
		r=$(guest_do "$NS" resolv)
		check "its DNS server is the host ($r)" \
		    [ "$r" = "nameserver 172.21.0.1" ]
		r=$(in_ns "$NS" ps -o user=,args= -p "$(dnsmasq_pid "$NS")")
		case $r in
		dnsmasq*--conf-file=$ST/tap1@*.dnsmasq.conf*) ok "dnsmasq runs as its user, with qrun's file only" ;;
		*) fail "dnsmasq runs as its user, with qrun's file only ($r)" ;;
		esac
		check "its files are in the state dir" sh -c \
		    "ls '$ST' | grep -q '^tap1@[0-9]*\.dnsmasq\.leases\$'"
	fi
	kill "$qpid"
	wait "$qpid"
	check "boot $n: no dnsmasq left" no_dnsmasq "$NS"
	check "boot $n: no file left in the state dir ($(state_files | tr '\n' ' '))" \
	    [ -z "$(state_files)" ]
	check "boot $n: the namespace is as before" [ "$(state "$NS")" = "$before" ]
done

# --- --ready ping6: ICMPv6 echo to guest6 ------------------------------
in_ns "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg -o net.mac=$MAC \
    -o net.kernel_ip=false --ready ping6 --timeout 60 --initrd "$INITRD" \
    "$GUESTS/vmlinuz" >"$TESTDIR/out.p6" 2>&1 </dev/null
rc=$?
check "--ready ping6: ready at $G6 (exit $rc)" sh -c "[ $rc -eq 0 ] &&
    grep -aq 'qrun: guest $G6 ready after .* s (ping6)' '$TESTDIR/out.p6'"
check "--ready ping6: the namespace as before" [ "$(state "$NS")" = "$before" ]
expect_rc 125 "--ready ping6 without IPv6 on the link" in_ns "$NS" "$QRUN" \
    -n tap -t tap1 -o net.ipv6=false -o qemu.binary=/bin/true \
    --ready ping6 "$GUESTS/vmlinuz" 2>/dev/null
expect_rc 125 "--ready ping6 in user mode" "$QRUN" -n user \
    -o qemu.binary=/bin/true --ready ping6 "$GUESTS/vmlinuz" 2>/dev/null

# --- kill -9 at random points, NAT on --------------------------------
in_ns "$NS" sh -e -c 'ip link add wan0 type veth peer name wan1
    ip link set wan1 up; ip link set wan0 up
    ip addr add 10.98.0.2/24 dev wan0; ip route add default via 10.98.0.1'
before=$(state "$NS")
echo "$before" >"$TESTDIR/before.k"
nft_before=$(in_ns "$NS" nft list ruleset)
for i in 1 2 3 4 5 6; do
	ip netns exec "$NS" "$QRUN" -n tap -t tap1 -o qemu.binary="$FAKE" \
	    -o net.nat=true "$GUESTS/vmlinuz" >/dev/null 2>&1 </dev/null &
	qpid=$!
	sleep "0.0$(shuf -i 0-9 -n 1)$(shuf -i 0-9 -n 1)"
	kill -9 "$qpid"
	wait "$qpid" 2>/dev/null
	[ $((i % 2)) = 0 ] && in_ns "$NS" "$QRUN" cleanup >/dev/null 2>&1
done
in_ns "$NS" "$QRUN" -n tap -t tap1 -o qemu.binary=/bin/true -o net.nat=true \
    "$GUESTS/vmlinuz" >/dev/null 2>&1 </dev/null
in_ns "$NS" "$QRUN" cleanup >/dev/null 2>&1
check "kill -9: no dnsmasq left" no_dnsmasq "$NS"
check "kill -9: nothing left in the state dir ($(state_files | tr '\n' ' '))" \
    [ -z "$(state_files)" ]
after=$(state "$NS")
check "kill -9: no address, link or route left ($(echo "$after" | diff - \
    "$TESTDIR/before.k" 2>/dev/null | tr '\n' ' '))" [ "$after" = "$before" ]
check "kill -9: the ruleset is as before" \
    [ "$(in_ns "$NS" nft list ruleset)" = "$nft_before" ]
in_ns "$NS" ip link del wan0
before=$(state "$NS")

# --- dnsmasq dies during the run: the run ends, 125 ------------------
ip netns exec "$NS" "$QRUN" -n tap -t tap1 -o qemu.binary="$FAKE" \
    "$GUESTS/vmlinuz" >/dev/null 2>"$TESTDIR/err.die" </dev/null &
qpid=$!
bg_track "$qpid"
wait_cmd 10 sh -c "[ -n \"\$(ip netns pids '$NS' | xargs -r ps -o comm= -p | grep dnsmasq)\" ]"
kill -9 "$(dnsmasq_pid "$NS")"
wait "$qpid"
rc=$?
check "dnsmasq killed: the run ends with 125 (got $rc)" [ "$rc" -eq 125 ]
check "dnsmasq killed: one line says so" grep -q \
    '^qrun: tap1: dnsmasq killed by signal 9: .*; the run ends$' "$TESTDIR/err.die"
check "dnsmasq killed: nothing left" [ "$(state "$NS")" = "$before" ]
check "dnsmasq killed: no file left" [ -z "$(state_files)" ]

# --- bad input -------------------------------------------------------
# bad DESC ARGS...: qrun ARGS exits 125 with one line, nothing changed.
bad() {
	_d=$1; shift
	in_ns "$NS" "$@" >"$TESTDIR/bad.out" 2>"$TESTDIR/bad.err" </dev/null
	_rc=$?
	if [ "$_rc" -eq 125 ] && [ "$(wc -l <"$TESTDIR/bad.err")" -eq 1 ] &&
	    [ "$(state "$NS")" = "$before" ] && [ -z "$(state_files)" ] &&
	    no_dnsmasq "$NS"; then
		ok "$_d: $(cat "$TESTDIR/bad.err")"
	else
		fail "$_d: exit $_rc: $(cat "$TESTDIR/bad.err")"
	fi
}
RUN="$QRUN -n tap -t tap1 -o qemu.binary=/bin/true"
bad "dnsmasq missing, net.dhcp set" env QRUN_DNSMASQ=/nonexistent/dnsmasq \
    $RUN -o net.dhcp=true "$GUESTS/vmlinuz"
check "it names the package" grep -q 'dnsmasq-base' "$TESTDIR/bad.err"
bad "net.dns without net.dhcp" $RUN -o net.dhcp=false -o net.dns=true \
    "$GUESTS/vmlinuz"
# dnsmasq's own startup error, as it says it
printf '#!/bin/sh\necho "dnsmasq: failed to bind DHCP server socket: Address in use" >&2\nexit 2\n' \
    >"$TESTDIR/baddnsmasq"
chmod 755 "$TESTDIR/baddnsmasq"
bad "dnsmasq fails to start" env QRUN_DNSMASQ="$TESTDIR/baddnsmasq" \
    $RUN "$GUESTS/vmlinuz"
check "its own words, once" grep -q \
    '^qrun: tap1: dnsmasq exited with status 2: failed to bind DHCP server socket: Address in use$' \
    "$TESTDIR/bad.err"

# A default net.dhcp without dnsmasq: a note, and the run goes on.
in_ns "$NS" env QRUN_DNSMASQ=/nonexistent/dnsmasq $RUN "$GUESTS/vmlinuz" \
    >/dev/null 2>"$TESTDIR/note.err" </dev/null
rc=$?
check "dnsmasq missing, net.dhcp default: runs (exit $rc) with a note" sh -c \
    "[ $rc -eq 0 ] && grep -q '^qrun: note: tap1: no DHCP or DNS for the guest: .*dnsmasq-base' '$TESTDIR/note.err'"

# Another DHCP server bound to tap1 first (the test's own dnsmasq).
in_ns "$NS" sh -e -c 'ip tuntap add tap1 mode tap; ip link set tap1 up
    ip addr add 172.21.0.1/16 dev tap1'
before=$(state "$NS")
ip netns exec "$NS" /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null \
    --no-resolv --no-hosts --port=0 --interface=tap1 --bind-interfaces \
    --dhcp-range=172.21.0.10,172.21.0.20 --pid-file= \
    --dhcp-leasefile="$TESTDIR/other.leases" --log-facility=- \
    >/dev/null 2>&1 &
opid=$!
bg_track "$opid"
wait_cmd 5 sh -c "ip netns exec '$NS' ss -uln | grep -q '%tap1:67 '"
in_ns "$NS" $RUN "$GUESTS/vmlinuz" >/dev/null 2>"$TESTDIR/bad.err" </dev/null
rc=$?
if [ "$rc" -eq 125 ] && [ "$(wc -l <"$TESTDIR/bad.err")" -eq 1 ] &&
    grep -q 'another DHCP server' "$TESTDIR/bad.err" &&
    [ "$(state "$NS")" = "$before" ] && [ -z "$(state_files)" ]; then
	ok "another DHCP server on tap1: $(cat "$TESTDIR/bad.err")"
else
	fail "another DHCP server on tap1: exit $rc: $(cat "$TESTDIR/bad.err")"
fi
check "the other DHCP server still runs" kill -0 "$opid"
kill "$opid"
wait "$opid" 2>/dev/null

# Another server holding DNS at the host address: dnsmasq says so and
# exits (were it only to warn, qrun's DNS query would find it out).
ip netns exec "$NS" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("172.21.0.1", 53)); time.sleep(60)' >/dev/null 2>&1 &
spid=$!
bg_track "$spid"
wait_cmd 10 sh -c "ip netns exec '$NS' ss -uln | grep -q '172.21.0.1:53 '"
in_ns "$NS" $RUN "$GUESTS/vmlinuz" >/dev/null 2>"$TESTDIR/bad.err" </dev/null
rc=$?
if [ "$rc" -eq 125 ] && [ "$(wc -l <"$TESTDIR/bad.err")" -eq 1 ] &&
    grep -q 'dnsmasq exited with status 2: failed to create listening socket for 172.21.0.1: Address already in use$\|dnsmasq does not answer DNS at 172.21.0.1' \
    "$TESTDIR/bad.err" &&
    [ "$(state "$NS")" = "$before" ] && [ -z "$(state_files)" ] &&
    no_dnsmasq "$NS"; then
	ok "port 53 taken at the host address: $(cat "$TESTDIR/bad.err")"
else
	fail "port 53 taken at the host address: exit $rc: $(cat "$TESTDIR/bad.err")"
fi
kill "$spid"
wait "$spid" 2>/dev/null
in_ns "$NS" ip link del tap1
exit 0
