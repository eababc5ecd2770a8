#!/bin/sh
# --capture (issue 4): the Linux guest on tap1 records its traffic with
# QEMU's filter-dump; after 3 pings from the namespace the pcap holds the
# 3 echo requests to 172.21.0.2, readable by tcpdump.
. "$(dirname "$0")/lib.sh"
need_root "capture"

need_guests "capture" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"
if ! command -v tcpdump >/dev/null || ! command -v ping >/dev/null; then
	skip "capture: needs tcpdump and ping"
	exit 0
fi


PCAP=$TESTDIR/guest.pcap
netns_make ns
before=$(snapshot "$ns")
# The background child execs ip, which execs qrun: $! is qrun's pid.
ip netns exec "$ns" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
    --initrd "$GUESTS/initrd.gz" --capture "$PCAP" "$GUESTS/vmlinuz" \
    </dev/null >"$TESTDIR/out" 2>"$TESTDIR/err" &
q=$!
bg_track "$q"
if ! wait_cmd 60 grep -qs 'QRUN-GUEST-READY' "$TESTDIR/out"; then
	fail "capture: the guest did not come up"
	tail -n 20 "$TESTDIR/out" "$TESTDIR/err" | sed 's/^/#   /'
	exit 0
fi
if in_ns "$ns" ping -c 3 -i 0.3 -W 3 172.21.0.2 >"$TESTDIR/ping" 2>&1; then
	ok "capture: guest answers 3 pings on tap1"
else
	fail "capture: ping 172.21.0.2"; sed 's/^/#   /' "$TESTDIR/ping"
fi
kill -TERM "$q"
{ wait "$q"; rc=$?; } 2>/dev/null
[ "$rc" -eq 143 ] || fail "capture: qrun stopped with SIGTERM: exit $rc, want 143"

if [ -s "$PCAP" ] && tcpdump -r "$PCAP" -n icmp >"$TESTDIR/dump" 2>"$TESTDIR/tcpdump.err"
then
	n=$(grep -c '172\.21\.0\.1 > 172\.21\.0\.2: ICMP echo request' "$TESTDIR/dump")
	m=$(grep -c '172\.21\.0\.2 > 172\.21\.0\.1: ICMP echo reply' "$TESTDIR/dump")
	if [ "$n" -eq 3 ]; then
		ok "capture: pcap holds the 3 echo requests to 172.21.0.2 ($m replies)"
	else
		fail "capture: $n echo requests in the pcap, want 3"
		sed 's/^/#   /' "$TESTDIR/dump"
		# QEMU 7.2's filter-dump keeps the virtio-net header of a
		# vnet_hdr tap in front of each frame (fixed in QEMU 8.0).
		if tcpdump -r "$PCAP" -n -x 2>/dev/null | grep -q 'ethertype Unknown'
		then
			echo "# the frames start with a virtio-net header: the tap" \
			    "queue was opened with IFF_VNET_HDR"
		fi
	fi
else
	fail "capture: tcpdump cannot read $PCAP"
	sed 's/^/#   /' "$TESTDIR/tcpdump.err"
fi
if [ "$(snapshot "$ns")" = "$before" ]; then
	ok "capture: namespace as before"
else
	fail "capture: namespace as before"; snapshot "$ns" | sed 's/^/#   /'
fi
exit 0
