#!/bin/sh
# net.queues and net.vhost (issue 17). A guest with net.queues = 2 gets a
# multiqueue tap, two open queues (fds=A:B) and a virtio NIC with mq=on;
# it sees two queue pairs and answers ping, under TCG; the namespace is
# as before after it. A tap that is not multiqueue is refused for it;
# the dry run says queues= and vhost=on. vhost-net needs /dev/vhost-net
# (and, for net.vhost auto, KVM): where this host has neither, net.vhost
# on is refused with one line and the vhost boot is skipped, loudly.
. "$(dirname "$0")/lib.sh"
need_root "queues"
need_guests "queues" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

netns_make NS
in_ns "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
before=$(snapshot "$NS")

# --- the dry run -----------------------------------------------------------
dry=$(in_ns "$NS" "$QRUN" --dry-run -n tap -t tap1 -o qemu.accel=tcg \
    -o net.mac=52:54:00:12:34:56 -o net.queues=4 -o net.vhost=on \
    "$GUESTS/vmlinuz" | tail -n 1)
case $dry in
*"-netdev tap,id=n0,ifname=tap1,script=no,downscript=no,queues=4,vhost=on -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,mq=on,vectors=10 "*)
	ok "dry run: queues=4, vhost=on, mq=on with 10 vectors" ;;
*) fail "dry run: queues=4, vhost=on, mq=on with 10 vectors ($dry)" ;;
esac

# --- refusals ------------------------------------------------------------
# refuse DESC LINE ARGS...: a run with ARGS exits 125 saying LINE (its
# last line), the namespace unchanged.
refuse() {
	_d=$1 _l=$2
	shift 2
	_b=$(snapshot "$NS")
	in_ns "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg "$@" \
	    --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" </dev/null \
	    >"$TESTDIR/r.out" 2>&1
	_rc=$?
	if [ "$_rc" -ne 125 ]; then
		fail "$_d (exit $_rc, want 125)"
	elif [ "$(tail -n 1 "$TESTDIR/r.out")" != "$_l" ]; then
		fail "$_d (said: $(cat "$TESTDIR/r.out"))"
	elif [ "$(snapshot "$NS")" != "$_b" ]; then
		fail "$_d (the namespace changed)"
	else
		ok "$_d"
	fi
}
refuse "17 queues refused" "qrun: -o net.queues: must be between 1 and 16" \
    -o net.queues=17
refuse "queues in user mode refused" \
    "qrun: -o net.queues: net.queues: 2 queues need a tap (net.mode tap or bridge) and a virtio-net model, not user and virtio-net-pci" \
    -n user -o net.queues=2
in_ns "$NS" "$QRUN" tap create tap1 --owner root --addr 172.21.0.1/16 \
    >/dev/null 2>&1
refuse "a tap that is not multiqueue refused for 2 queues" \
    "qrun: tap1: is not a multiqueue tap, and net.queues is 2; delete it (qrun tap delete tap1) for qrun to make one, or set net.queues = 1" \
    -o net.queues=2
in_ns "$NS" "$QRUN" tap delete tap1 >/dev/null 2>&1

# --- a guest with two queues ----------------------------------------------
mkfifo "$TESTDIR/g.in"
ip netns exec "$NS" "$QRUN" -v -n tap -t tap1 -o qemu.accel=tcg -o qemu.cpus=2 \
    -o net.queues=2 --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" \
    <"$TESTDIR/g.in" >"$TESTDIR/g.out" 2>"$TESTDIR/g.err" &
gpid=$!
bg_track "$gpid"
exec 7>"$TESTDIR/g.in"
if wait_line "$TESTDIR/g.out" QRUN-GUEST-READY 150; then
	ok "queues 2: guest ready"
else
	fail "queues 2: guest ready ($(tail -n 3 "$TESTDIR/g.err"))"
fi
check "queues 2: tap1 is a multiqueue tap with 2 queues attached" \
    sh -c "ip -n '$NS' -d link show tap1 | grep -q 'multi_queue numqueues 2 '"
check "queues 2: QEMU got two queue fds and a virtio NIC with mq=on" \
    sh -c "grep '^qrun: running ' '$TESTDIR/g.err' |
    grep -q -- '-netdev tap,id=n0,fds=[0-9]*:[0-9]* -device virtio-net-pci,netdev=n0,mac=[0-9a-f:]*,mq=on,vectors=6 '"
echo 'ls /sys/class/net/eth0/queues | tr "\n" " "; echo; echo QUEUES-DONE' >&7
wait_line "$TESTDIR/g.out" '^QUEUES-DONE' 30
check "queues 2: the guest has two queue pairs" \
    sh -c "tr -d '\r' <'$TESTDIR/g.out' | grep -qx 'rx-0 rx-1 tx-0 tx-1 '"
n=$(in_ns "$NS" ping -c 3 -W 2 172.21.0.2 2>&1 |
    sed -n 's/.* \([0-9]*\) received.*/\1/p')
check "queues 2: the host pings the guest, 3 of 3 (got ${n:-0})" \
    [ "${n:-0}" -eq 3 ]
exec 7>&-
kill -TERM "$gpid" 2>/dev/null
{ wait "$gpid"; } 2>/dev/null
check "queues 2: the namespace as before after the run" \
    same_as "$NS" "$before"

# --- vhost-net --------------------------------------------------------------
vhost_ok=no
[ -c /dev/vhost-net ] && [ -e /dev/kvm ] && vhost_ok=yes
if [ $vhost_ok = no ]; then
	if [ ! -c /dev/vhost-net ]; then
		refuse "vhost on without /dev/vhost-net refused" \
		    "qrun: net.vhost: /dev/vhost-net: No such file or directory" \
		    -o net.vhost=on
	fi
	skip "vhost: this host has no /dev/vhost-net or no KVM; vhost boots untested here"
	exit 0
fi
ip netns exec "$NS" "$QRUN" -v -n tap -t tap1 -o qemu.accel=kvm -o qemu.cpus=2 \
    -o net.queues=2 -o net.vhost=auto --serial-log "$TESTDIR/v.log" \
    --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" </dev/null \
    >"$TESTDIR/v.out" 2>&1 &
vpid=$!
bg_track "$vpid"
wait_line "$TESTDIR/v.log" QRUN-GUEST-READY 120
check "vhost auto under KVM: vhost=on with two vhostfds" \
    grep -q 'fds=[0-9]*:[0-9]*,vhost=on,vhostfds=[0-9]*:[0-9]* ' \
    "$TESTDIR/v.out"
check "vhost: the host pings the guest" \
    in_ns "$NS" ping -c 3 -W 2 172.21.0.2
kill -TERM "$vpid" 2>/dev/null
{ wait "$vpid"; } 2>/dev/null
check "vhost: the namespace as before after the run" same_as "$NS" "$before"
