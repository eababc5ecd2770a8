#!/bin/sh
# The host's own Debian kernel and initramfs-tools initrd boot on tap1 and
# answer ping, as a newcomer would run them: default memory, and only what
# initramfs-tools needs to bring its network up. root=/dev/nfs makes it
# take its nfs path (scripts/nfs: configure_networking runs ipconfig on
# qrun's ip=, then nfsmount retries for 180 s while the guest answers).
# No net.ifnames=0, no memory setting, no ip= by hand: udev renames the
# NIC to ens3, so this needs ip= without a device; the old ip=...:eth0:off
# waits for an eth0 that never comes.
. "$(dirname "$0")/lib.sh"

need_root "distro kernel on tap1"

KERNEL="" INITRD=""
for k in $(ls /boot/vmlinuz-* 2>/dev/null | sort -V); do
	v=${k#/boot/vmlinuz-}
	[ -r "/boot/initrd.img-$v" ] || continue
	KERNEL=$k INITRD=/boot/initrd.img-$v
done
if [ -z "$KERNEL" ]; then
	skip "distro: no /boot/vmlinuz-* with its initrd.img-* (apt-get install linux-image-cloud-amd64)"
	exit 0
fi
if ! command -v lsinitramfs >/dev/null ||
    ! lsinitramfs "$INITRD" 2>/dev/null | grep -qx 'scripts/nfs'; then
	skip "distro: $INITRD is not an initramfs-tools initrd with scripts/nfs"
	exit 0
fi

cat >"$TESTDIR/distro.conf" <<EOF
qemu: { accel = "tcg"; append = "console=ttyS0 root=/dev/nfs"; };
net: { mode = "tap"; tap = "tap1"; };
test: { ready = "ping"; timeout = 60; };
EOF

netns_make NS
t0=$(date +%s)
in_ns "$NS" "$QRUN" -v -p "$TESTDIR/distro.conf" --initrd "$INITRD" \
    "$KERNEL" >"$TESTDIR/out" 2>&1
rc=$?
t1=$(date +%s)
cmd=$(grep -a '^qrun: running ' "$TESTDIR/out")
if [ "$rc" -eq 0 ] && grep -aq 'guest 172.21.0.2 ready after .*(ping)' \
    "$TESTDIR/out"; then
	ok "distro: $(basename "$KERNEL") + its initrd answer ping on tap1 ($((t1 - t0)) s)"
else
	fail "distro: exit $rc after $((t1 - t0)) s: $(grep -a \
	    'IP-Config\|renamed\|qrun:\|Kernel panic\|Initramfs' "$TESTDIR/out")"
fi
case $cmd in
*" -m 256 "*"-append 'console=ttyS0 root=/dev/nfs ip=172.21.0.2::172.21.0.1:255.255.0.0:::off panic=-1'"*)
	ok "distro: default memory, ip= without a device, nothing else added" ;;
*)	fail "distro: command line: $cmd" ;;
esac
check "distro: tap1 gone afterwards" sh -c "! ip -n '$NS' link show tap1 \
    >/dev/null 2>&1"

# What qrun appended before: the device eth0. The guest never comes up.
in_ns "$NS" "$QRUN" -p "$TESTDIR/distro.conf" -o net.kernel_ip=false \
    -o 'qemu.append=console=ttyS0 root=/dev/nfs ip=172.21.0.2::172.21.0.1:255.255.0.0::eth0:off' \
    --timeout 20 --initrd "$INITRD" "$KERNEL" >"$TESTDIR/eth0" 2>&1
rc=$?
check "distro: with ip=...:eth0:off it is not ready in 20 s (exit $rc, want 124)" \
    [ "$rc" -eq 124 ]
