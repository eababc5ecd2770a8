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

need_root "dry-run"

# A lab as bridged-lab.conf expects it: br0 with its uplink (a veth here)
# and the uplink's MAC, holding 10.10.0.5/16, whose network the dry run
# reads (the guest's prefix, so ip= for kernels).
netns_make LAB
in_ns "$LAB" ip link add eth1 type veth peer name lab0
in_ns "$LAB" ip link add br0 address 02:00:00:0a:0a:05 type bridge
in_ns "$LAB" ip link set eth1 master br0
in_ns "$LAB" ip addr add 10.10.0.5/16 dev br0
for l in lab0 eth1 br0; do in_ns "$LAB" ip link set "$l" up; done

# dry PROFILE: the normalized dry-run output of profiles/PROFILE.conf.
dry() {
	in_ns "$LAB" "$QRUN" --dry-run -p "$TOP/profiles/$1.conf" \
	    -o qemu.accel=tcg -o net.mac=52:54:00:12:34:56 "$IMG" 2>&1 |
	    sed -e "s|$IMG|IMAGE|g" -e "s|(owner $(id -un))|(owner USER)|"
}

for p in local-tap user-mode bridged-lab test slow-link kunit; do
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

# A bridged run's argv (qrun -v, QEMU replaced by true) is the dry run's,
# but for what only makes sense with qrun holding the other end (qrun(1)
# --dry-run): the tap, an open fd there, its name in the pasteable form;
# qrun's QMP socket pair, there only.
lab=$(snap_stable "$LAB")
real=$(in_ns "$LAB" "$QRUN" -v -p "$TOP/profiles/bridged-lab.conf" \
    -o qemu.accel=tcg -o qemu.binary=true -o net.mac=52:54:00:12:34:56 \
    "$IMG" 2>&1 | sed -n 's/^qrun: running //p' |
    sed -e 's/tap,id=n0,fd=[0-9]*/tap,id=n0,ifname=tap10,script=no,downscript=no/' \
    -e 's/ -chardev socket,id=qmp0,fd=[0-9]* -mon chardev=qmp0,mode=control//' \
    -e 's/^true /qemu-system-x86_64 /')
dryl=$(in_ns "$LAB" "$QRUN" --dry-run -p "$TOP/profiles/bridged-lab.conf" \
    -o qemu.accel=tcg -o net.mac=52:54:00:12:34:56 "$IMG" | tail -n 1)
check "dry-run bridged: the real run's argv, ip= included" \
    sh -c '[ -n "$1" ] && [ "$1" = "$2" ] && case $1 in *ip=10.10.0.50::*) ;; *) false ;; esac' \
    sh "$real" "$dryl"
check "dry-run bridged: the lab namespace as before after the real run" \
    same_as "$LAB" "$lab"


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
