#!/bin/sh
# make -j8 over eight batch runs on one switch profile (issue 17): all
# pass, each on its own slot with its own address, and the namespace is
# as before afterwards (no qbr1, no qtap, no rule, no slot index); --run
# gets QRUN_SWITCH, QRUN_SLOT and the slot's addresses.
# The slot index is a SysV semaphore set, and those are per IPC namespace,
# not per network namespace: the script runs in an IPC namespace of its
# own, so the sets it counts are its own, whatever other suites run here.
if [ -z "${QRUN_TEST_IPCNS:-}" ]; then
	export QRUN_TEST_IPCNS=1
	exec unshare --ipc sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need_root "switch_batch"
need_guests "switch_batch" "$GUESTS/mbtest.elf"

netns_make NS
in_ns "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
snap() { { snapshot "$NS"; in_ns "$NS" ip route; in_ns "$NS" ip rule; }; }
before=$(snap)
sem_before=$(ipcs -s | wc -l)
mkdir -p "$TESTDIR/make"
t0=$(date +%s%N)
in_ns "$NS" make -s -j8 -f "$TOP/tests/e2e/Makefile.switch" QRUN="$QRUN" \
    GUESTS="$GUESTS" PROFILE="$TOP/profiles/switch.conf" OUT="$TESTDIR/make" \
    </dev/null >"$TESTDIR/make.log" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" -eq 0 ]; then
	ok "make -j8: eight batch runs on qbr1 pass ($ms ms)"
else
	fail "make -j8: exit $rc"
	sed 's/^/#   /' "$TESTDIR/make.log" "$TESTDIR"/make/*.out
fi
slots=$(sed -n 's/^qrun: qtap1-\([0-9]*\) on qbr1 .* slot \1 -> guest 172\.21\.0\.\([0-9]*\) .*/\1:\2/p' \
    "$TESTDIR"/make/r*.out | sort -u)
n=$(printf '%s\n' "$slots" | grep -c .)
check "make -j8: eight distinct slots (got $n: $(echo $slots))" [ "$n" -eq 8 ]
bad=$(printf '%s\n' "$slots" | awk -F: '$2 != $1 + 1' | head -1)
check "make -j8: each guest is 172.21.0.(slot+1)" [ -z "$bad" ]
addrs=$(printf '%s\n' "$slots" | cut -d: -f2 | sort -u | grep -c .)
check "make -j8: eight distinct addresses (got $addrs)" [ "$addrs" -eq 8 ]
check "make -j8: namespace as before (no qbr1, qtap, rule)" [ "$before" = "$(snap)" ]
check "make -j8: no slot index left" [ "$(ipcs -s | wc -l)" -eq "$sem_before" ]
check "make -j8: no journal left" sh -c "! ls '$(qrun_state)'/run-*.journal >/dev/null 2>&1"

# --run's environment says the slot: QRUN_SWITCH, QRUN_SLOT and the
# slot's addresses (net.slot forces slot 7).
out=$(in_ns "$NS" "$QRUN" -n switch -t tap1 -o net.slot=7 -o qemu.accel=tcg \
    --ready 'serial:mbtest: hello' -o 'qemu.append=hang' "$GUESTS/mbtest.elf" \
    --run sh -c 'echo "env $QRUN_SWITCH $QRUN_SLOT $QRUN_TAP $QRUN_GUEST_IP $QRUN_HOST_IP"' \
    </dev/null 2>&1)
case $out in
*"env qbr1 7 qtap1-7 172.21.0.8 172.21.0.1"*) ok "--run: QRUN_SWITCH, QRUN_SLOT and the slot's addresses" ;;
*) fail "--run: QRUN_SWITCH, QRUN_SLOT and the slot's addresses ($out)" ;;
esac
check "--run on a switch: namespace as before" [ "$before" = "$(snap)" ]
