#!/bin/sh
# Opt-in NAT (net.nat, DESIGN.md section 9). The outside world is an
# "upstream" namespace behind a veth, with a web server that says whom it
# sees; the host namespace's default routes point at it. Without NAT the
# guest cannot reach it; with NAT it can, over IPv4 and IPv6, and the
# server sees the host's address. The nftables table inet qrun and the
# forwarding switches are shared: a second run joins, the first one
# leaves, the guest still gets out; after the last one the ruleset and
# both sysctls are as before. kill -9 is undone by the next run, by
# cleanup, or by a NAT run on another tap; runs of two state dirs leave
# each other's NAT alone. Refused with 125 and no change: no default route, and, for a
# capability-enabled qrun, NAT not granted or forwarding off.
. "$(dirname "$0")/lib.sh"
need_root "nat"
need_guests "nat" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz" "$GUESTS/mbtest.elf"
for c in nft busybox; do
	command -v $c >/dev/null || { skip "nat: needs $c"; exit 0; }
done

INITRD=$TESTDIR/initrd.gz
guest_initrd "$INITRD"
FAKE=$TESTDIR/fakeqemu		# QEMU's stand-in: stays until killed
printf '#!/bin/sh\nexec sleep 120\n' >"$FAKE"
chmod 755 "$FAKE"
G6=fd00:172:21:0:5054:ff:fe12:3456
V4URL=10.99.0.1,8000,/cgi-bin/peer
V6URL=fd99::1,8000,/cgi-bin/peer

# The host namespace NS, and UP beyond wan0 -- up0 with a web server.
netns_make NS
netns_make UP
in_ns "$NS" ip link add wan0 type veth peer name up0 netns "$UP"
in_ns "$NS" sh -e -c 'ip addr add 10.99.0.2/24 dev wan0
    ip -6 addr add fd99::2/64 dev wan0 nodad; ip link set wan0 up
    ip route add default via 10.99.0.1; ip -6 route add default via fd99::1'
in_ns "$UP" sh -e -c 'ip addr add 10.99.0.1/24 dev up0
    ip -6 addr add fd99::1/64 dev up0 nodad; ip link set up0 up'
mkdir -p "$TESTDIR/up/cgi-bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "peer $REMOTE_ADDR"\n' \
    >"$TESTDIR/up/cgi-bin/peer"
chmod 755 "$TESTDIR/up/cgi-bin/peer"
in_ns "$UP" busybox httpd -f -p 8000 -h "$TESTDIR/up" &
bg_track $!

# state NS: links, addresses, routes, the ruleset, the forwarding sysctls.
state() {
	snapshot "$1"
	in_ns "$1" sh -c 'ip route; ip -6 route | grep -v "^fe80::/64 "
	    nft list ruleset; cat /proc/sys/net/ipv4/ip_forward \
	    /proc/sys/net/ipv6/conf/all/forwarding'
}
# state_is NS BEFORE: state NS is BEFORE (else the difference, shown).
state_is() {
	state "$1" >"$TESTDIR/state.now"
	echo "$2" >"$TESTDIR/state.before"
	diff "$TESTDIR/state.before" "$TESTDIR/state.now"
}
has_table() {
	in_ns "$1" nft list table inet qrun >/dev/null 2>&1
}
# settled: the veth's carrier up, its link-local addresses past DAD
settled() {
	! in_ns "$1" ip addr | grep -q -e tentative -e NO-CARRIER
}
wait_cmd 10 settled "$NS" && wait_cmd 10 settled "$UP"
before=$(state "$NS")
up_before=$(state "$UP")

# boot NAME TAP ARGS...: the Linux guest on TAP in NS, its qrun's pid in
# $qpid; the guest's IPv6 address and default route set over HTTP.
boot() {
	_n=$1 _t=$2
	shift 2
	: >"$TESTDIR/$_n.log"
	ip netns exec "$NS" "$QRUN" -n tap -t "$_t" -o qemu.accel=tcg \
	    -o net.mac=52:54:00:12:34:56 --serial-log "$TESTDIR/$_n.log" \
	    --initrd "$INITRD" "$@" "$GUESTS/vmlinuz" \
	    >"$TESTDIR/$_n.out" 2>"$TESTDIR/$_n.err" </dev/null &
	qpid=$!
	bg_track $qpid
	# (the guest's address is usable once its DAD is done: it answers)
	if wait_line "$TESTDIR/$_n.log" QRUN-GUEST-READY 60 &&
	    [ "$(guest_do "$NS" "ip6=$G6/64")" = done ] &&
	    [ "$(guest_do "$NS" gw6=fd00:172:21::1)" = done ] &&
	    wait_cmd 20 in_ns "$NS" ping -6 -c 1 -W 1 "$G6" >/dev/null; then
		ok "$_n: guest ready, $G6 and its default route set"
	else
		fail "$_n: guest ready ($(tail -n 3 "$TESTDIR/$_n.err"))"
	fi
}

# stop PID: SIGTERM, the exit status in $rc.
stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rc=$?
}

# fake NS TAP ARGS...: a NAT run with the stand-in, in the background
# (its pid in $fpid; in state dir $STATE when set).
fake() {
	_ns=$1 _t=$2
	shift 2
	QRUN_STATE_DIR=${STATE:-$QRUN_STATE_DIR} \
	    ip netns exec "$_ns" "$QRUN" -n tap -t "$_t" -o net.nat=true \
	    -o qemu.accel=tcg -o qemu.binary="$FAKE" "$@" "$GUESTS/mbtest.elf" \
	    >/dev/null 2>"$TESTDIR/fake.err" </dev/null &
	fpid=$!
	bg_track $fpid
}

# --- without NAT the upstream cannot be reached ------------------------
boot plain tap1
check "no NAT: the guest cannot reach 10.99.0.1" \
    [ "$(guest_do "$NS" "get=$V4URL")" = "get failed" ]
check "no NAT: the guest cannot reach fd99::1" \
    [ "$(guest_do "$NS" "get=$V6URL")" = "get failed" ]
stop $qpid
check "no NAT: the namespace as before" state_is "$NS" "$before"

# --- a NAT run joins one that made the table; the maker leaves ---------
fake "$NS" tap2
check "first NAT run: table inet qrun made" wait_cmd 10 has_table "$NS"
boot nat tap1 -o net.nat=true
got=$(guest_do "$NS" "get=$V4URL")
case $got in
*"10.99.0.2]") ok "NAT: the guest reaches 10.99.0.1, seen as 10.99.0.2" ;;
*) fail "NAT: the guest reaches 10.99.0.1, seen as 10.99.0.2 ($got)" ;;
esac
got=$(guest_do "$NS" "get=$V6URL")
check "NAT: the guest reaches fd99::1, seen as fd99::2 ($got)" \
    [ "$got" = "peer [fd99::2]" ]
check "NAT: forwarding on in both families" [ "$(in_ns "$NS" cat \
    /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding |
    tr -d '\n')" = 11 ]
stop $fpid
check "the run that made the table left: exit 143 ($rc)" [ "$rc" -eq 143 ]
got=$(guest_do "$NS" "get=$V4URL")
case $got in
*"10.99.0.2]") ok "the other run still forwards" ;;
*) fail "the other run still forwards ($got)" ;;
esac
check "... and its chains are all that is left" sh -c "ip netns exec \
    '$NS' nft list table inet qrun | grep chain | grep -vc tap1- | grep -qx 0"
stop $qpid
check "the last NAT run left: exit 143 ($rc)" [ "$rc" -eq 143 ]
check "after the last run: ruleset, sysctls, links, routes as before" \
    state_is "$NS" "$before"
check "the upstream namespace as before" state_is "$UP" "$up_before"

# --- kill -9, then cleanup, the next run on the tap, a NAT run elsewhere --
for next in cleanup run nat-tap2; do
	fake "$NS" tap1
	wait_cmd 10 has_table "$NS"
	kill -KILL $fpid
	wait $fpid 2>/dev/null
	check "kill -9 ($next): table left behind for now" has_table "$NS"
	case $next in
	cleanup) in_ns "$NS" "$QRUN" cleanup >/dev/null ;;
	run)	in_ns "$NS" "$QRUN" -n tap -t tap1 -o qemu.binary=true \
		    -o qemu.accel=tcg "$GUESTS/mbtest.elf" >/dev/null 2>&1 ;;
	*)	in_ns "$NS" "$QRUN" -n tap -t tap2 -o net.nat=true \
		    -o qemu.binary=true -o qemu.accel=tcg "$GUESTS/mbtest.elf" \
		    >/dev/null 2>&1 ;;
	esac
	check "kill -9, then $next: no table, sysctls, links, routes as before" \
	    state_is "$NS" "$before"
done

# --- two state dirs (root's and a capability user's count apart) --------
# The last run of one state dir leaves the table to a run of the other,
# which removes it when it ends.
STATE=$TESTDIR/stateB fake "$NS" tap2
bpid=$fpid
wait_cmd 10 has_table "$NS"
STATE=$TESTDIR/stateC fake "$NS" tap3
wait_cmd 10 sh -c "ip netns exec '$NS' nft list table inet qrun | grep -q tap3-"
unset STATE
stop $bpid
check "two state dirs: the other's table and chains stay" sh -c "ip netns \
    exec '$NS' nft list table inet qrun | grep -q 'chain nat4-tap3-'"
check "two state dirs: forwarding stays on for it" [ "$(in_ns "$NS" cat \
    /proc/sys/net/ipv4/ip_forward)" = 1 ]
stop $fpid
check "two state dirs: the last run removes the table" \
    sh -c "! ip netns exec '$NS' nft list table inet qrun >/dev/null 2>&1"
in_ns "$NS" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward
    echo 0 >/proc/sys/net/ipv6/conf/all/forwarding'
check "two state dirs: otherwise as before (forwarding switched back by hand)" \
    state_is "$NS" "$before"

# refused NS DESC WANT ARGS...: 125, one line naming WANT, NS unchanged.
refused() {
	_ns=$1 _d=$2 _w=$3
	shift 3
	_b=$(state "$_ns")
	in_ns "$_ns" "$QRUN" "$@" >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null
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

netns_make LONE
refused "$LONE" "NAT without a default route" \
    "tap1: net.nat: no default route in this network namespace" \
    -n tap -t tap1 -o net.nat=true -o qemu.binary=true "$GUESTS/mbtest.elf"

# --- a capability-enabled qrun (as tests/e2e/priv.sh installs one) -------
U=qrn$$
if ! command -v setcap >/dev/null || ! command -v setpriv >/dev/null ||
    ! useradd -M -N -s /usr/sbin/nologin "$U" 2>/dev/null; then
	skip "nat: capability cases need setcap, setpriv and useradd"
	exit 0
fi
trap '_cleanup; userdel "$U" 2>/dev/null' EXIT
chmod 755 "$TESTDIR"
W=$TESTDIR/w
mkdir -p "$W/bin" "$W/low/qrun" "$W/run"
cp "$QRUN" "$W/bin/qrun"
cp "$GUESTS/mbtest.elf" "$W/mbtest.elf"
chmod 755 "$W" "$W/bin"
chmod 644 "$W/mbtest.elf"
chown "$U" "$W/run"
if ! setcap cap_net_admin+ep "$W/bin/qrun" 2>/dev/null; then
	skip "nat: setcap does not work on $W"
	exit 0
fi
cat >"$W/low/qrun/access.conf" <<EOF
allow = (
  { user = "$U"; taps = [ "tap3", "tap4" ]; },
  { user = "$U"; taps = [ "tap3" ]; nat = true; }
);
EOF
cat >"$W/as.sh" <<'EOF'
mount -t overlay -o lowerdir="$1":/etc none /etc || exit 3
mount -t tmpfs -o mode=755 none /run || exit 3
user=$2
shift 2
exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups "$@"
EOF
# cap ARGS...: the capability copy as $U in NS, its messages on stderr.
cap() {
	in_ns "$NS" sh "$W/as.sh" "$W/low" "$U" env -i PATH="$PATH" \
	    XDG_RUNTIME_DIR="$W/run" "$W/bin/qrun" -n tap -o qemu.accel=tcg \
	    -o net.nat=true "$@"
}
MB="--timeout 20 $W/mbtest.elf"
refused_cap() {
	_d=$1 _w=$2
	shift 2
	_b=$(state "$NS")
	# shellcheck disable=SC2086
	cap "$@" $MB >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null
	_rc=$?
	if [ "$_rc" -eq 125 ] && [ "$(wc -l <"$TESTDIR/err")" -eq 1 ] &&
	    grep -qF -- "$_w" "$TESTDIR/err" &&
	    [ "$_b" = "$(state "$NS")" ]; then
		ok "$_d: $(cat "$TESTDIR/err")"
	else
		fail "$_d (exit $_rc, want 125, one line '$_w', no change: $(cat "$TESTDIR/err"))"
	fi
}
refused_cap "capability: NAT on a tap granted without nat = true" \
    "tap4: NAT not granted to $U by /etc/qrun/access.conf (nat = true)" -t tap4
refused_cap "capability: NAT while forwarding is off" \
    "tap3: net.nat: IPv4 forwarding is off" -t tap3
in_ns "$NS" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward
    echo 1 >/proc/sys/net/ipv6/conf/all/forwarding'
before=$(state "$NS")
cap -t tap3 --timeout 30 "$W/mbtest.elf" -- -append hang \
    >/dev/null 2>"$TESTDIR/err" </dev/null &
cpid=$!
bg_track $cpid
check "capability, granted, forwarding on: table made" \
    wait_cmd 20 has_table "$NS"
kill -TERM $(pgrep -u "$(id -u "$U")" -x qrun) 2>/dev/null
wait $cpid
check "capability run ended: ruleset, sysctls (still on), links as before" \
    state_is "$NS" "$before"
