#!/bin/sh
# Fault injection: a netlink request that fails half-way through setting
# up the network (build/nlfail.so, LD_PRELOAD, makes the first request of
# one type fail as if the kernel refused it). Whatever qrun had already
# done is undone, qrun exits 125 naming what failed, no journal is left.
. "$(dirname "$0")/lib.sh"
need_root "faults"
SO=$TOP/build/nlfail.so
if [ ! -f "$SO" ]; then
	skip "faults: $SO missing (make build/nlfail.so)"
	exit 0
fi
RTM_NEWLINK=16 RTM_NEWADDR=20

# fault TYPE ERRNO DESC WANT: a tap1 run whose first TYPE request fails.
fault() {
	netns_make NS
	before=$(snapshot "$NS")
	# (an ASan build wants its runtime first; the shim only wraps libc)
	in_ns "$NS" env LD_PRELOAD="$SO" NLFAIL_TYPE="$1" NLFAIL_ERRNO="$2" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$QRUN" -n tap -t tap1 -o qemu.accel=tcg -o qemu.binary=/bin/true \
	    "$GUESTS/mbtest.elf" >"$TESTDIR/out" 2>&1
	rc=$?
	check "$3: exit 125 (got $rc)" [ "$rc" -eq 125 ]
	check "$3: says '$4'" grep -q "$4" "$TESTDIR/out"
	check "$3: the tap qrun created is gone, namespace as before" \
	    [ "$before" = "$(snapshot "$NS")" ]
	check "$3: no journal left in $(qrun_state)" no_journal
}

# 5 = EIO
fault $RTM_NEWADDR 5 "address add fails after tap create" \
    "tap1: cannot add 172.21.0.1/16: Input/output error"
fault $RTM_NEWLINK 5 "link up fails after tap create and address" \
    "tap1: cannot set up: Input/output error"
