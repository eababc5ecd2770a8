#!/bin/sh
# IPv6 on a local tap link (DESIGN.md section 9): tap1 carries
# fd00:172:21::1/64, the hint, status --json and --run name the guest's
# SLAAC address, and that address is the one Linux derives from the MAC
# (the guest's kernel gives its NIC the link-local address with the same
# interface identifier; configured with the hinted address, the guest
# answers there and reaches the host). Pre-made taps: the address added
# and removed, another global IPv6 address refused, link-local ignored.
# Bad host_addr6 values: one line, 125, nothing changed.
. "$(dirname "$0")/lib.sh"
need_root "ipv6"
need_guests "ipv6" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz" "$GUESTS/mbtest.elf"

INITRD=$TESTDIR/initrd.gz
guest_initrd "$INITRD"
# QEMU's stand-in for runs that need no guest: stays until killed.
FAKE=$TESTDIR/fakeqemu
printf '#!/bin/sh\nexec sleep 60\n' >"$FAKE"
chmod 755 "$FAKE"
MAC=52:54:00:12:34:56
G6=fd00:172:21:0:5054:ff:fe12:3456
LL6=fe80::5054:ff:fe12:3456

# routes NS: the routes of both families (the kernel's link-local
# ones aside); state NS: links, addresses and routes.
routes() {
	in_ns "$1" ip route
	in_ns "$1" ip -6 route | grep -v '^fe80::/64 '
}
state() {
	snapshot "$1"
	routes "$1"
}

# ping6_ok NS ADDR: one echo reply from ADDR.
ping6_ok() {
	in_ns "$1" ping -6 -c 1 -W 1 "$2" >/dev/null 2>&1
}

# fake NS OUT ARGS...: a run with the stand-in; --run's output in OUT.
fake() {
	_ns=$1 _out=$2
	shift 2
	in_ns "$_ns" "$QRUN" -n tap -o qemu.accel=tcg -o qemu.binary="$FAKE" \
	    -o net.mac=$MAC "$@" >"$_out" 2>"$TESTDIR/err" </dev/null
}

# --- a Linux guest on tap1 -------------------------------------------
netns_make NS
before=$(state "$NS")
log=$TESTDIR/serial.log
ip netns exec "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
    -o net.mac=$MAC --serial-log "$log" --initrd "$INITRD" \
    "$GUESTS/vmlinuz" >"$TESTDIR/out" 2>"$TESTDIR/err1" </dev/null &
qpid=$!
bg_track "$qpid"
if wait_line "$log" QRUN-GUEST-READY 60; then
	ok "tap1: guest ready"
else
	fail "tap1: guest ready ($(tail -n 3 "$TESTDIR/err1"))"
fi
check "hint ends in guest6 $G6" \
    grep -q "^qrun: tap1 172.21.0.1/16 -> .* mac $MAC guest6 $G6\$" \
    "$TESTDIR/err1"
check "tap1 carries fd00:172:21::1/64" sh -c "ip netns exec '$NS' \
    ip -6 addr show dev tap1 | grep -q 'inet6 fd00:172:21::1/64 scope global'"
js=$(in_ns "$NS" "$QRUN" status --json 2>&1 | tr -d ' \n\t')
case $js in
*'"host6":"fd00:172:21::1/64","guest6":"'$G6'"'*) ok "status --json: host6, guest6" ;;
*) fail "status --json: host6, guest6 ($js)" ;;
esac
# (the host's own link-local address on tap1 is tentative for a second)
check "the guest's kernel derived $LL6 from the MAC, as qrun did" \
    wait_cmd 10 ping6_ok "$NS" "$LL6%tap1"
guest_net=$(in_ns "$NS" wget -q -T 20 -O - http://172.21.0.2/cgi-bin/net)
case $guest_net in
*"inet6 $LL6/64"*) ok "the guest lists $LL6 on its NIC" ;;
*) fail "the guest lists $LL6 on its NIC ($guest_net)" ;;
esac
check "guest takes $G6/64" [ "$(guest_do "$NS" "ip6=$G6/64")" = done ]
check "the guest answers at $G6" \
    wait_cmd 10 ping6_ok "$NS" "$G6"
check "the guest reaches fd00:172:21::1" \
    [ "$(guest_do "$NS" ping=fd00:172:21::1)" = reply ]
kill -TERM "$qpid"
wait "$qpid"
rc=$?
check "SIGTERM -> 143 (exit $rc)" [ "$rc" -eq 143 ]
check "namespace as before (links, addresses, routes)" \
    [ "$before" = "$(state "$NS")" ]

# --- --run's environment; net.ipv6 = false ------------------------------
fake "$NS" "$TESTDIR/env" -t tap1 "$GUESTS/mbtest.elf" \
    --run sh -c 'echo "$QRUN_GUEST_IP6 $QRUN_HOST_IP6"'
check "--run: QRUN_GUEST_IP6, QRUN_HOST_IP6" \
    [ "$(cat "$TESTDIR/env")" = "$G6 fd00:172:21::1" ]
fake "$NS" "$TESTDIR/off" -t tap1 -o net.ipv6=false "$GUESTS/mbtest.elf" \
    --run sh -c 'ip -6 addr show dev tap1 scope global; echo "[$QRUN_GUEST_IP6]"'
check "net.ipv6 = false: no IPv6 address, no QRUN_GUEST_IP6" \
    [ "$(cat "$TESTDIR/off")" = "[]" ]
check "net.ipv6 = false: no guest6 in the hint" \
    sh -c "! grep -q guest6 '$TESTDIR/err'"
check "namespace as before after both" [ "$before" = "$(state "$NS")" ]

# --- pre-made taps --------------------------------------------------------
netns_make NS2
# up, as tap create leaves it: taking a link down drops its IPv6
# addresses, and qrun leaves the state of a tap it did not make alone
in_ns "$NS2" sh -e -c 'ip tuntap add tap1 mode tap user 0
    ip addr add 172.21.0.1/16 dev tap1; ip link set tap1 up'
before=$(routes "$NS2")
stable=$(snap_stable "$NS2")
fake "$NS2" "$TESTDIR/pre" -t tap1 "$GUESTS/mbtest.elf" \
    --run ip -6 -o addr show dev tap1 scope global
check "pre-made tap without host_addr6: gets fd00:172:21::1/64" \
    grep -q 'inet6 fd00:172:21::1/64' "$TESTDIR/pre"
check "pre-made tap: as before after the run (no IPv6 address left)" \
    same_as "$NS2" "$stable"
check "pre-made tap: routes as before" [ "$before" = "$(routes "$NS2")" ]

# refused NS DESC WANT ARGS...: exit 125, one line naming WANT, NS unchanged.
refused() {
	_ns=$1 _d=$2 _w=$3
	shift 3
	_b=$(state "$_ns")
	fake "$_ns" "$TESTDIR/out" "$@" "$GUESTS/mbtest.elf"
	_rc=$?
	if [ "$_rc" -ne 125 ]; then
		fail "$_d (exit $_rc, want 125: $(cat "$TESTDIR/err"))"
	elif [ "$(wc -l <"$TESTDIR/err")" -ne 1 ] ||
	    ! grep -qF -- "$_w" "$TESTDIR/err"; then
		fail "$_d (want one line with '$_w': $(cat "$TESTDIR/err"))"
	elif [ "$_b" != "$(state "$_ns")" ]; then
		fail "$_d (the namespace changed)"
	else
		ok "$_d: $(cat "$TESTDIR/err")"
	fi
}

in_ns "$NS2" ip addr add fd00:99::1/64 dev tap1
refused "$NS2" "pre-made tap with another IPv6 address: refused" \
    "tap1: has fd00:99::1/64, not the planned fd00:172:21::1/64" -t tap1
in_ns "$NS2" ip addr del fd00:99::1/64 dev tap1
in_ns "$NS2" ip addr add fe80::1/64 dev tap1
stable=$(snap_stable "$NS2")
fake "$NS2" "$TESTDIR/ll" -t tap1 "$GUESTS/mbtest.elf" --run true
rc=$?
check "pre-made tap with a link-local address: used (exit $rc)" [ "$rc" -eq 0 ]
check "... and left with it" sh -c "ip netns exec '$NS2' ip addr show \
    dev tap1 | grep -q 'inet6 fe80::1/64'"
check "... and as before otherwise" same_as "$NS2" "$stable"

# --- bad input ------------------------------------------------------------
netns_make NS3
in_ns "$NS3" sh -e -c 'ip link add v0 type veth peer name v1
    ip link set v0 up; ip -6 addr add fd00:172::1/40 dev v0 nodad'
refused "$NS3" "host_addr6 not a /64" \
    "-o net.host_addr6: prefix must be /64" -t tap1 \
    -o net.host_addr6=fd00:172:21::1/48
refused "$NS3" "host_addr6 not unique local" \
    "-o net.host_addr6: must be a unique local address (fc00::/7)" -t tap1 \
    -o net.host_addr6=2001:db8:21::1/64
refused "$NS3" "host_addr6 overlapping a route on v0" \
    "tap1: fd00:172:21::/64 overlaps a route on v0" -t tap1
refused "$NS3" "guest_addr6 outside the /64" \
    "net.guest_addr6: fd00:172:22::5 is not a free host address" -t tap1 \
    -o net.guest_addr6=fd00:172:22::5

# --- the admin command gives both families --------------------------------
netns_make NS4
check "tap create --addr 172.22.0.1/16,fd00:172:22::1/64" \
    in_ns "$NS4" "$QRUN" tap create tap2 --owner root \
    --addr 172.22.0.1/16,fd00:172:22::1/64
check "tap2 carries both" sh -c "ip netns exec '$NS4' ip addr show dev tap2 |
    grep -q 'inet 172.22.0.1/16' && ip netns exec '$NS4' ip addr show \
    dev tap2 | grep -q 'inet6 fd00:172:22::1/64'"
expect_rc 125 "tap create --addr with two IPv4 addresses: refused" \
    in_ns "$NS4" "$QRUN" tap create tap3 --owner root \
    --addr 172.23.0.1/16,172.24.0.1/16 2>/dev/null
