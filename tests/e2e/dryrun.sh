#!/bin/sh
# --dry-run prints the plan and the exact, shell-quoted QEMU command for
# each example profile (golden files in tests/golden/dryrun, the image
# path and user name normalized), and the printed command runs when
# pasted: user mode starts QEMU, local tap mode boots on a tap made first.
# GOLDEN_UPDATE=1 rewrites the golden files.
. "$(dirname "$0")/lib.sh"

GOLD=$TOP/tests/golden/dryrun
IMG=$GUESTS/vmlinuz
MB=$GUESTS/mbtest.elf

# As root the golden dry runs run in an empty namespace of their own: the
# plan does not depend on the host's taps, and a dry run that changed
# something would not change the root namespace.
G=""
[ "$(id -u)" -eq 0 ] && netns_make GNS && G="ip netns exec $GNS"

# dry PROFILE: the normalized dry-run output of profiles/PROFILE.conf.
dry() {
	$G "$QRUN" --dry-run -p "$TOP/profiles/$1.conf" -o qemu.accel=tcg \
	    -o net.mac=52:54:00:12:34:56 "$IMG" 2>&1 |
	    sed -e "s|$IMG|IMAGE|g" -e "s|(owner $(id -un))|(owner USER)|"
}

for p in local-tap user-mode bridged-lab test; do
	dry "$p" >"$TESTDIR/$p.out"
	if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$TESTDIR/$p.out" "$GOLD/$p.out"
	fi
	if cmp -s "$TESTDIR/$p.out" "$GOLD/$p.out"; then
		ok "dry-run $p.conf: matches golden"
	else
		fail "dry-run $p.conf: differs from golden: $(diff \
		    "$GOLD/$p.out" "$TESTDIR/$p.out" | tr '\n' ' ')"
	fi
done

need_root "dry-run commands pasted"

# The last line of a dry run is the command; run it as a shell would.
# The dry runs themselves run in NS too, so that "changed nothing" looks
# where they would change something: NS's links and addresses, and the
# state dir (no lock, no journal).
netns_make NS
state() { snapshot "$NS"; ls -A "$(qrun_state)" 2>/dev/null; }
before=$(state)
cmd=$(in_ns "$NS" "$QRUN" --dry-run -p "$TOP/profiles/user-mode.conf" \
    -o qemu.accel=tcg -o qemu.append=hang "$MB" | tail -n 1)
check "dry-run user-mode: changed nothing" [ "$before" = "$(state)" ]
in_ns "$NS" sh -c "timeout 5 $cmd" >"$TESTDIR/out" 2>&1 </dev/null
rc=$?
check "dry-run user-mode: pasted command runs QEMU (exit $rc, want 124)" \
    [ "$rc" -eq 124 ]

cmd=$(in_ns "$NS" "$QRUN" --dry-run -p "$TOP/profiles/local-tap.conf" \
    -o qemu.accel=tcg -o 'qemu.append=exit=5' "$MB" \
    -- -device isa-debug-exit,iobase=0xf4,iosize=0x04 | tail -n 1)
check "dry-run local-tap: changed nothing" [ "$before" = "$(state)" ]
in_ns "$NS" "$QRUN" tap create tap1 --owner root --addr 172.21.0.1/16 \
    >"$TESTDIR/out" 2>&1
in_ns "$NS" sh -c "timeout 30 $cmd" >"$TESTDIR/out" 2>&1 </dev/null
rc=$?
check "dry-run local-tap: pasted command boots on tap1 (exit $rc, want 11)" \
    [ "$rc" -eq 11 ]
