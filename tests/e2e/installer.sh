#!/bin/sh
# An unmodified DHCP guest that is not ours (DESIGN.md section 9): Debian
# 12's netboot installer (package debian-installer-12-netboot-amd64),
# booted on tap1 with no network boot argument at all (net.kernel_ip =
# false: no ip=). Its netcfg asks DHCP and gets qrun's static lease, so
# --ready ping at the hinted 172.21.0.2 succeeds. priority=critical with
# the language and keymap preseeded on the command line lets it run
# through netcfg without asking; it then stops at a prompt (it cannot
# reach a mirror) with its network up. The namespace is as before.
. "$(dirname "$0")/lib.sh"
need_root "installer"
D=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
if [ ! -r "$D/linux" ] || [ ! -r "$D/initrd.gz" ]; then
	skip "installer: $D/linux missing (apt-get install debian-installer-12-netboot-amd64; scripts/deps does)"
	exit 0
fi
[ -x /usr/sbin/dnsmasq ] || { skip "installer: needs dnsmasq-base"; exit 0; }

netns_make NS
before=$(snap_stable "$NS")
t0=$(date +%s)
in_ns "$NS" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg -o qemu.memory=1024 \
    -o net.kernel_ip=false \
    -o 'qemu.append=console=ttyS0 priority=critical locale=en_US.UTF-8 keymap=us' \
    -v --serial-log "$TESTDIR/serial" --timeout 400 --ready ping \
    --initrd "$D/initrd.gz" "$D/linux" >"$TESTDIR/out" 2>&1 </dev/null
rc=$?
t1=$(date +%s)
if [ "$rc" -eq 0 ] && grep -aq 'qrun: guest 172.21.0.2 ready after .* (ping)' "$TESTDIR/out"; then
	ok "installer: Debian's netboot installer took 172.21.0.2 by DHCP ($((t1 - t0)) s)"
else
	fail "installer: exit $rc after $((t1 - t0)) s: $(grep -a 'qrun:\|netcfg\|DHCP' "$TESTDIR/out" | tail -n 5 | tr '\n' ' ')"
fi
cmd=$(grep -a '^qrun: running ' "$TESTDIR/out")
case $cmd in
*"-append 'console=ttyS0 priority=critical locale=en_US.UTF-8 keymap=us panic=-1'"*) ok "installer: its command line has no ip= (qrun added only batch mode's panic=-1)" ;;
*) fail "installer: its command line: $cmd" ;;
esac
check "installer: the namespace as before" same_as "$NS" "$before"
check "installer: no dnsmasq left" sh -c "[ -z \"\$(ip netns pids '$NS')\" ]"
