#!/bin/sh
# --snapshot / qemu.snapshot (issue 19): disk images are opened with the
# guest's writes thrown away. The Linux test guest writes to a raw and a
# qcow2 disk (virtio, after the image); with --snapshot both files are
# byte-identical afterwards, without it the raw one changed (the guest
# does write). --dry-run shows -snapshot for a disk image. No network.
. "$(dirname "$0")/lib.sh"

need_guests "snapshot" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"
if ! command -v qemu-img >/dev/null; then
	skip "snapshot: no qemu-img (apt-get install qemu-utils)"
	exit 0
fi
O=$TESTDIR/out E=$TESTDIR/err

# The guest's /mnt/qrun-init: write to both disks, say so, power off.
mkdir -p "$TESTDIR/extra/mnt"
cat >"$TESTDIR/extra/mnt/qrun-init" <<'EOF'
#!/bin/sh
n=0
for d in /dev/vda /dev/vdb; do
	echo qrun-was-here | dd of=$d bs=512 seek=8 conv=notrunc 2>/dev/null &&
	    n=$((n + 1))
done
sync
echo "qrun-snapshot: wrote $n"
poweroff -f
EOF
chmod 0755 "$TESTDIR/extra/mnt/qrun-init"
INITRD=$TESTDIR/initrd.gz
cp "$GUESTS/initrd.gz" "$INITRD"
(cd "$TESTDIR/extra" && find mnt | cpio -o -H newc -R 0:0 --quiet) |
    gzip >>"$INITRD"

RAW=$TESTDIR/disk.raw QCOW=$TESTDIR/disk.qcow2
head -c 1048576 /dev/urandom >"$RAW"
qemu-img create -q -f qcow2 "$QCOW" 1M

# boot [OPTION...]: the guest with both disks, until it wrote (or not).
boot() {
	$QRUN -q -n none -o qemu.accel=tcg --initrd "$INITRD" \
	    --timeout 120 --expect 'qrun-snapshot: wrote [0-9]' "$@" \
	    "$GUESTS/vmlinuz" -- \
	    -drive "file=$RAW,format=raw,if=virtio" \
	    -drive "file=$QCOW,format=qcow2,if=virtio" \
	    </dev/null >"$O" 2>"$E"
	rc=$?
}

raw0=$(sha256sum <"$RAW") qcow0=$(sha256sum <"$QCOW")
boot --snapshot
check "--snapshot: the guest ran and wrote both disks" [ "$rc" -eq 0 ]
check "--snapshot: it wrote both" grep -q 'qrun-snapshot: wrote 2' "$O"
check "--snapshot: the raw image is byte-identical" \
    [ "$(sha256sum <"$RAW")" = "$raw0" ]
check "--snapshot: the qcow2 image is byte-identical" \
    [ "$(sha256sum <"$QCOW")" = "$qcow0" ]

boot -o qemu.snapshot=true
check "qemu.snapshot = true: the guest ran" [ "$rc" -eq 0 ]
check "qemu.snapshot = true: the raw image is byte-identical" \
    [ "$(sha256sum <"$RAW")" = "$raw0" ]

# Without it the same guest changes the files: the checks above can fail.
boot
check "no --snapshot: the guest ran" [ "$rc" -eq 0 ]
check "no --snapshot: the raw image changed" \
    [ "$(sha256sum <"$RAW")" != "$raw0" ]
check "no --snapshot: the qcow2 image changed" \
    [ "$(sha256sum <"$QCOW")" != "$qcow0" ]

# The image qrun boots itself: -snapshot on its command line.
$QRUN --dry-run -n none --snapshot "$RAW" >"$O" 2>"$E"
check "--dry-run --snapshot of a raw image: -snapshot" \
    grep -q -- "-drive file=$RAW,format=raw .*-snapshot" "$O"
$QRUN --dry-run -n none "$QCOW" >"$O" 2>"$E"
check "--dry-run of a qcow2 image without it: no -snapshot" \
    sh -c "! grep -q -- -snapshot '$O'"
