#!/bin/sh
# --share (issue 19): a host directory in the Linux test guest over
# virtiofs, served by a virtiofsd qrun starts, journals and stops. The
# guest runs the share's qrun-init: a KTAP report (counts, exit status,
# JUnit, --timeout naming the last test reached), writes (rw: they land;
# :ro: they fail, the directory unchanged), as a developer under sudo
# (their files, their rights; a directory they may not read: 125,
# nothing left) and unprivileged (its own virtiofsd in a user namespace;
# with supplementary groups refused, pointing to sudo or :9p). kill -9 of qrun leaves no virtiofsd after qrun cleanup
# or the next run. :9p: QEMU's arguments only (the test kernel has no
# 9p). No network: -n none.
. "$(dirname "$0")/lib.sh"
need_root "share"
need_guests "share" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"
if [ ! -x /usr/lib/qemu/virtiofsd ]; then
	skip "share: no /usr/lib/qemu/virtiofsd (qemu-system-common)"
	exit 0
fi
CHECK=$TOP/tests/golden/ktap/junit-check.py
O=$TESTDIR/out E=$TESTDIR/err
G="-n none -o qemu.accel=tcg --initrd $GUESTS/initrd.gz"

# run CMD...: stdout in $O, stderr in $E, exit status in rc.
run() {
	"$@" </dev/null >"$O" 2>"$E"
	rc=$?
}

# share_dir DIR BODY: DIR with a qrun-init running BODY (sh), then off.
share_dir() {
	mkdir -p "$1"
	{ echo '#!/bin/sh'; echo "$2"; echo 'poweroff -f'; } >"$1/qrun-init"
	chmod 0755 "$1/qrun-init"
}

# no_virtiofsd: no virtiofsd process left at all (a zombie is none).
no_virtiofsd() {
	! pgrep -r RSDT -x virtiofsd >/dev/null
}

# dead PID: no such process, or only its zombie (whoever inherited it
# after qrun died reaps it when it will).
dead() {
	[ ! -e "/proc/$1/stat" ] ||
	    [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat")" = Z ]
}

# --- KTAP through the share ----------------------------------------------
share_dir "$TESTDIR/k1" 'cat <<EOF
KTAP version 1
1..3
    KTAP version 1
    # Subtest: net-core
    1..3
    ok 1 dev_addr_lists
    ok 2 skb_frag # SKIP no frags here
    # gso_segment: expected 2 segments, got 3
    not ok 3 gso_segment
not ok 1 net-core
    KTAP version 1
    # Subtest: route
    1..2
    ok 1 fib_lookup
    not ok 2 mpath_hash # XFAIL known bug
ok 2 route
ok 3 standalone
EOF'
run "$QRUN" $G --share "$TESTDIR/k1" --ktap --junit "$TESTDIR/k1.xml" \
    --timeout 120 "$GUESTS/vmlinuz"
check "share: the guest ran qrun-init: a failure -> 1" [ "$rc" -eq 1 ]
check "share: 3 passed, 1 failed, 2 skipped" \
    grep -qx '3 passed, 1 failed, 2 skipped' "$O"
check "share: the failure and its diagnostic" sh -c \
    "grep -A1 -x 'FAIL net-core.gso_segment' '$O' | grep -q 'got 3\$'"
j=$(python3 "$CHECK" "$TESTDIR/k1.xml" 2>&1)
check "share: JUnit: 3 suites, 6 cases, 1 failure, 2 skipped ($j)" \
    [ "$j" = 'suites=3 tests=6 failures=1 skipped=2' ]
check "share: the hint gives the mount command" \
    grep -q 'guest: mount -t virtiofs qrun0 /mnt' "$E"
check "share: no virtiofsd left" no_virtiofsd
check "share: no journal left" no_journal

share_dir "$TESTDIR/k2" 'printf "TAP version 14\n1..2\nok 1 a\nok 2 b\n"'
run "$QRUN" $G --share "$TESTDIR/k2" --ktap --timeout 120 "$GUESTS/vmlinuz"
check "share: all passing -> 0" [ "$rc" -eq 0 ]
check "share: 2 passed" grep -qx '2 passed, 0 failed, 0 skipped' "$O"

share_dir "$TESTDIR/k3" 'printf "KTAP version 1\n1..2\nok 1 first\n"
printf "    KTAP version 1\n    # Subtest: slow\n    1..2\n    ok 1 slow_one\n"
sleep 600'
run "$QRUN" $G --share "$TESTDIR/k3" --ktap --timeout 25 "$GUESTS/vmlinuz"
check "share: a report cut by --timeout -> 124" [ "$rc" -eq 124 ]
check "share: cut: the last test reached named" \
    grep -qx 'report cut short; last test reached: slow.slow_one' "$O"
check "share: cut: no virtiofsd left" no_virtiofsd

# --- writes: rw, :ro ------------------------------------------------------
WR='if (echo guest >/mnt/new) 2>/dev/null; then echo "WRITE: ok"; else echo "WRITE: refused"; fi
if (echo guest >>/mnt/old) 2>/dev/null; then echo "APPEND: ok"; else echo "APPEND: refused"; fi'
share_dir "$TESTDIR/w" "$WR"
echo host >"$TESTDIR/w/old"
before=$(cd "$TESTDIR/w" && ls -l --time-style=+%s%N . && cat old)
run "$QRUN" $G --share "$TESTDIR/w:ro" --timeout 120 --expect 'APPEND: (ok|refused)' \
    "$GUESTS/vmlinuz"
check ":ro: the run succeeded" [ "$rc" -eq 0 ]
check ":ro: the guest's new file refused" grep -q 'WRITE: refused' "$O"
check ":ro: the guest's append refused" grep -q 'APPEND: refused' "$O"
check ":ro: the host directory unchanged" \
    [ "$(cd "$TESTDIR/w" && ls -l --time-style=+%s%N . && cat old)" = "$before" ]
check ":ro: the hint says read-only" grep -q '(read-only) -> guest' "$E"
run "$QRUN" $G --share "$TESTDIR/w" --timeout 120 --expect 'APPEND: (ok|refused)' \
    "$GUESTS/vmlinuz"
check "rw: the guest's write landed" grep -qx guest "$TESTDIR/w/new"
check "rw: the guest's append landed" \
    [ "$(cat "$TESTDIR/w/old")" = "$(printf 'host\nguest')" ]

# --- bad input: 125, one line, nothing left -------------------------------
run "$QRUN" $G --share "$TESTDIR/nonexistent" "$GUESTS/vmlinuz"
check "a share that does not exist -> 125" [ "$rc" -eq 125 ]
check "does not exist: one line" [ "$(wc -l <"$E")" -eq 1 ]
check "does not exist: says so" grep -q 'nonexistent: no such directory' "$E"
check "does not exist: no journal" no_journal
run "$QRUN" $G --share "$TESTDIR/k1/qrun-init" "$GUESTS/vmlinuz"
check "a file, not a directory -> 125" [ "$rc" -eq 125 ]
run "$QRUN" $G --share "$TESTDIR/k1" --share "$TESTDIR/k2:qrun0" \
    "$GUESTS/vmlinuz"
check "a tag twice -> 125" [ "$rc" -eq 125 ]

# --- under sudo: the developer's rights ----------------------------------
user_copy
shared_dir SD
NB=$(id -u nobody) NG=$(id -g nobody)
share_dir "$SD/mine" "$WR"
chown -R "$NB:$NG" "$SD/mine"
mkdir -m 0700 "$SD/rootonly"
sudo_qrun() {
	run env SUDO_UID="$NB" SUDO_GID="$NG" SUDO_USER=nobody "$UQRUN" \
	    -n none -o qemu.accel=tcg --initrd "$UGUESTS/initrd.gz" "$@" \
	    "$UGUESTS/vmlinuz"
}
sudo_qrun --share "$SD/mine" --timeout 120 --expect 'APPEND: (ok|refused)'
check "sudo: the guest writes the developer's directory" [ "$rc" -eq 0 ]
check "sudo: the new file is the developer's" \
    [ "$(stat -c %u "$SD/mine/new" 2>/dev/null)" = "$NB" ]
sudo_qrun --share "$SD/rootonly" --timeout 60
check "sudo: a directory the developer may not read -> 125" [ "$rc" -eq 125 ]
check "sudo: may not read: one line" [ "$(wc -l <"$E")" -eq 1 ]
check "sudo: may not read: says who" grep -q 'nobody may not read it' "$E"
check "sudo: may not read: no journal" no_journal sudo
check "sudo: may not read: no virtiofsd" no_virtiofsd

# --- unprivileged: the developer's own virtiofsd in a user namespace -----
mkdir -m 0700 "$SD/rt"
chown "$NB:$NG" "$SD/rt"
rm -f "$SD/mine/new"
# unpriv GROUPS...: qrun as nobody with no capabilities.
unpriv() {
	_g=$1
	shift
	run setpriv --reuid="$NB" --regid="$NG" $_g env HOME="$SD" \
	    QRUN_CONFIG_DIR="$SD/config" QRUN_STATE_DIR="$SD/rt/qrun" \
	    QRUN_CACHE_DIR="$SD/rt/cache" XDG_RUNTIME_DIR="$SD/rt" "$UQRUN" -n none -o qemu.accel=tcg \
	    --initrd "$UGUESTS/initrd.gz" "$@" "$UGUESTS/vmlinuz"
}
unpriv --clear-groups --share "$SD/mine" --timeout 120 \
    --expect 'APPEND: (ok|refused)'
check "unprivileged: the guest writes the developer's directory" \
    [ "$rc" -eq 0 ]
check "unprivileged: the new file is the developer's" \
    [ "$(stat -c %u "$SD/mine/new" 2>/dev/null)" = "$NB" ]
unpriv --groups=100 --share "$SD/mine" --timeout 60
check "unprivileged with supplementary groups: virtiofs refused -> 125" \
    [ "$rc" -eq 125 ]
check "unprivileged with supplementary groups: says use sudo or :9p" \
    grep -q 'run qrun as root (sudo), or share it over 9p' "$E"

# --- kill -9: the journal stops the virtiofsd a dead run left -------------
# killed SEC: qrun with a share in the background, its virtiofsd stopped
# (SIGSTOP: it cannot end by itself when QEMU goes), then qrun killed -9.
# Sets vpid.
killed() {
	share_dir "$TESTDIR/kill" 'echo SHARED-READY; sleep 600'
	rm -f "$TESTDIR/kill.log"
	"$QRUN" $G --share "$TESTDIR/kill" --timeout 300 \
	    --serial-log "$TESTDIR/kill.log" "$GUESTS/vmlinuz" \
	    </dev/null >/dev/null 2>&1 &
	_q=$!
	bg_track "$_q"
	wait_line "$TESTDIR/kill.log" SHARED-READY 60 || true
	vpid=$(pgrep -r RSD -x virtiofsd | head -n 1)
	[ -n "$vpid" ] && kill -STOP "$vpid"
	kill -9 "$_q"
	wait "$_q" 2>/dev/null
}
killed
check "kill -9: its virtiofsd is still there (stopped)" \
    sh -c "[ -n '$vpid' ] && kill -0 '$vpid'"
run "$QRUN" cleanup
check "kill -9, then qrun cleanup: that virtiofsd is gone" dead "$vpid"
check "kill -9, cleanup: no journal" no_journal
killed
check "kill -9 again: its virtiofsd is still there" [ -n "$vpid" ]
run "$QRUN" $G --share "$TESTDIR/k2" --ktap --timeout 120 "$GUESTS/vmlinuz"
check "kill -9, then the next share run: that virtiofsd is gone" \
    dead "$vpid"
check "the next run said it undid the dead run" \
    grep -q 'undid the leftovers of 1 dead run' "$E"
check "kill -9, next run: no virtiofsd, no journal left" no_virtiofsd

# --- :9p: QEMU serves it (argv only: the test kernel has no 9p) ----------
run "$QRUN" --dry-run -n none --share "$TESTDIR/w:ro:9p" "$GUESTS/vmlinuz"
check ":9p: QEMU's local fsdev, read-only" grep -q -- \
    "-fsdev local,id=fs0,path=$TESTDIR/w,security_model=none,readonly=on" "$O"
check ":9p: the virtio-9p device with tag qrun0" \
    grep -q -- '-device virtio-9p-pci,fsdev=fs0,mount_tag=qrun0' "$O"
check ":9p: no shared memory backend (no virtiofsd)" \
    sh -c "! grep -q memory-backend-memfd '$O'"
skip ":9p in the guest: the Debian cloud kernel has no 9p modules"
