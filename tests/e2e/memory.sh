#!/bin/sh
# qemu.memory = "auto" (the default) gives a kernel the memory its initrd
# needs to unpack. The initrd here is the test guest's behind a zstd cpio
# segment holding a 128 MiB file: 256 MiB cannot unpack it ("Initramfs
# unpacking failed: write error", then a panic some 50 lines later), auto
# reads the segment's size and boots it. The failure's report (issue 18,
# item 3) shows the unpacking line, not only the panic's last lines, and
# names the whole console's log. Runs no network (-n none), so needs no
# root.
. "$(dirname "$0")/lib.sh"

need_guests "memory auto" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"
if ! command -v zstd >/dev/null; then
	skip "memory auto: no zstd here (apt-get install zstd)"
	exit 0
fi

# cpio_hdr NAME SIZE: a newc header of a regular file, its name padded.
cpio_hdr() {
	_ns=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
	    1 33188 0 0 1 0 "$2" 0 0 0 0 "$_ns" 0
	printf '%s\000' "$1"
	_pad=$(((4 - (110 + _ns) % 4) % 4))
	[ "$_pad" -eq 0 ] || head -c "$_pad" /dev/zero
}

n=$((128 * 1024 * 1024))
{
	cpio_hdr big "$n"
	head -c "$n" /dev/zero
	cpio_hdr 'TRAILER!!!' 0
} | zstd -q -1 --stream-size=$((116 + n + 124)) >"$TESTDIR/big.zst"
cat "$TESTDIR/big.zst" "$GUESTS/initrd.gz" >"$TESTDIR/initrd"

# boot OUT ARGS...: the guest with that initrd until it is ready; the
# console in OUT, qrun's own lines in OUT.err.
boot() {
	_o=$1
	shift
	timeout 120 "$QRUN" -v -n none -o qemu.accel=tcg --initrd \
	    "$TESTDIR/initrd" --timeout 90 --expect QRUN-GUEST-READY "$@" \
	    "$GUESTS/vmlinuz" >"$_o" 2>"$_o.err"
}
LOGS=$XDG_STATE_HOME/qrun/logs

boot "$TESTDIR/auto"
rc=$?
mib=$(sed -n 's/.* -m \([0-9]*\) .*/\1/p' "$TESTDIR/auto.err" | head -n 1)
if [ "$rc" -eq 0 ] && [ "${mib:-0}" -gt 256 ]; then
	ok "memory auto: a 128 MiB initrd file unpacks and boots (-m $mib)"
else
	fail "memory auto: exit $rc, -m ${mib:-?}: $(tail -n 5 "$TESTDIR/auto.err")"
fi
check "a batch run that went well keeps no console log" \
    [ -z "$(ls "$LOGS" 2>/dev/null)" ]

# What auto replaced: 256 MiB fails to unpack it.
boot "$TESTDIR/fixed" -m 256
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'Initramfs unpacking failed' "$TESTDIR/fixed"; then
	ok "memory 256: the same initrd cannot unpack (exit 1)"
else
	fail "memory 256: exit $rc: $(grep -i -m 3 'initramfs\|panic' "$TESTDIR/fixed")"
fi
# The report: the unpacking line (the first sign of trouble, far above
# the panic) after the lines before it, then the panic's last lines.
# before: the report's lines from its first header to the unpacking line.
before=$(awk '/^qrun: first sign of trouble, line [0-9]* of the serial console:$/ {
	on = 1; next } on && /^\| .*Initramfs unpacking failed: write error$/ {
	print n; exit } on && /^\| / { n++ }' "$TESTDIR/fixed.err")
if [ "${before:-0}" -eq 5 ]; then
	ok "report: shows the unpacking line, with what came before it"
else
	fail "report: the unpacking line"; sed 's/^/#   /' "$TESTDIR/fixed.err"
fi
check "report: then the last lines, down to the panic" \
    grep -q '^| .*Kernel panic - not syncing' "$TESTDIR/fixed.err"
check "report: ends with the reason" sh -c "tail -n 1 '$TESTDIR/fixed.err' |
    grep -q '^qrun: guest failed: /Kernel panic/ matched$'"
log=$(sed -n 's/^qrun: the whole console: //p' "$TESTDIR/fixed.err")
if [ -n "$log" ] && [ "$(dirname "$log")" = "$LOGS" ] && cmp -s "$log" \
    "$TESTDIR/fixed"; then
	ok "report: names the whole console's log, kept in $LOGS"
else
	fail "report: the whole console's log (${log:-no path})"
fi
check "the log is the developer's alone (0600)" \
    [ "$(stat -c %a "${log:-/nonexistent}" 2>/dev/null)" = 600 ]

check "check and show print qemu.memory = auto" sh -c \
    "'$QRUN' check -n none | grep -q '^qemu.memory = auto'"
