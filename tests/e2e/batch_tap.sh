#!/bin/sh
# Batch mode with taps (issue 6): a timed-out batch run still removes its
# tap; four batch runs under make -j4 on tap0..tap3 in one namespace
# (tests/e2e/Makefile.parallel) all end as expected and leave nothing.
. "$(dirname "$0")/lib.sh"
need_root "batch_tap"

MB=$GUESTS/mbtest.elf
need_guests "batch_tap" "$MB"

# 1. Timeout in tap mode.
netns_make ns
before=$(snapshot "$ns")
t0=$(date +%s%N)
in_ns "$ns" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg --timeout 2 \
    --expect 'NEVER PRINTED' -o 'qemu.append=hang' "$MB" \
    </dev/null >"$TESTDIR/out" 2>"$TESTDIR/err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" -eq 124 ] &&
    grep -q '^qrun: timeout after 2 s waiting for /NEVER PRINTED/$' "$TESTDIR/err"
then
	ok "tap-mode batch run times out: 124 after $ms ms"
else
	fail "tap-mode batch run: exit $rc, want 124"; sed 's/^/#   /' "$TESTDIR/err"
fi
if [ "$(snapshot "$ns")" = "$before" ]; then
	ok "timed-out tap run removed its tap (namespace as before)"
else
	fail "timed-out tap run left something"; snapshot "$ns" | sed 's/^/#   /'
fi

# 2. make -j4 on tap0..tap3.
netns_make ns
before=$(snapshot "$ns")
mkdir -p "$TESTDIR/make"
t0=$(date +%s%N)
in_ns "$ns" make -s -j4 -f "$TOP/tests/e2e/Makefile.parallel" \
    QRUN="$QRUN" GUESTS="$GUESTS" OUT="$TESTDIR/make" \
    </dev/null >"$TESTDIR/make.log" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
got=$(for t in t0 t1 t2 t3; do printf '%s ' "$(cat "$TESTDIR/make/$t.rc" 2>/dev/null)"; done)
if [ "$rc" -eq 0 ] && [ "$got" = "0 1 0 1 " ]; then
	ok "make -j4: four batch runs on tap0..tap3 exit 0 1 0 1 ($ms ms)"
else
	fail "make -j4: make exit $rc, runs exit '$got', want '0 1 0 1 '"
	sed 's/^/#   /' "$TESTDIR/make.log" "$TESTDIR"/make/*.out
fi
if grep -q 'debug-exit code 9, not 0' "$TESTDIR/make/t1.out" &&
    grep -q '/BOOM/ matched' "$TESTDIR/make/t3.out"; then
	ok "make -j4: the failing runs say why"
else
	fail "make -j4: the failing runs say why"
fi
# Run tN asked for tapN: its hint must name tapN with tapN's address, so
# four hints are four different taps.
taps=$(for i in 0 1 2 3; do
	sed -n "s|^qrun: \(tap$i\) 172\.2$i\.0\.1/16 ->.*|\1|p" "$TESTDIR/make/t$i.out"
done | sort -u | tr '\n' ' ')
check "make -j4: each run had its own tap ($taps)" \
    [ "$taps" = "tap0 tap1 tap2 tap3 " ]
check "make -j4: namespace as before" [ "$(snapshot "$ns")" = "$before" ]
check "make -j4: no process left" ns_empty "$ns"
check "make -j4: no journal left in $(qrun_state)" no_journal
exit 0
