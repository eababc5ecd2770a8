#!/bin/sh
# Privileges (qrun(1) Privileges, issue 8): a developer running a copy of
# qrun that carries the file capability cap_net_admin may use exactly the
# taps and bridges /etc/qrun/access.conf grants, QEMU runs without any
# capability, planted journals are never acted on, QRUN_* overrides are
# ignored when elevated, and a journal write failure undoes what was done.
#
# Test users are created here and removed at exit. The real /etc is never
# written: inside "ip netns exec" (a private mount namespace) a read-only
# overlay puts the test's qrun/access.conf over /etc, and a tmpfs over /run
# keeps /run/qrun private.
. "$(dirname "$0")/lib.sh"

need_root "priv"
for c in setcap setpriv useradd userdel; do
	if ! command -v $c >/dev/null; then
		skip "priv: $c missing"
		exit 0
	fi
done

U1=qrp$$a
U2=qrp$$b
priv_cleanup() {
	_cleanup
	userdel "$U1" 2>/dev/null
	userdel "$U2" 2>/dev/null
}
trap priv_cleanup EXIT
useradd -M -N -s /usr/sbin/nologin "$U1" && useradd -M -N -s /usr/sbin/nologin "$U2" || {
	fail "priv: cannot create test users"
	exit 0
}
UID1=$(id -u "$U1")
GID1=$(id -g "$U1")

# Everything the test users read or run is copied into W, a directory they
# can reach wherever the checkout (or TMPDIR) lives.
shared_dir W
mkdir -p "$W/bin" "$W/low/qrun" "$W/run1" "$W/evil" "$W/evilcfg" "$W/tiny"
cp "$QRUN" "$W/bin/qrun"
cp "$GUESTS/mbtest.elf" "$W/mbtest.elf"
chmod 755 "$W" "$W/bin"
chmod 644 "$W/mbtest.elf"
if ! setcap cap_net_admin+ep "$W/bin/qrun" 2>/dev/null ||
    ! getcap "$W/bin/qrun" | grep -q cap_net_admin; then
	skip "priv: setcap does not work on $W"
	exit 0
fi
chown "$U1" "$W/run1" "$W/evil" "$W/evilcfg"
chmod 700 "$W/run1"
cat >"$W/low/qrun/access.conf" <<EOF
allow = (
  { user = "$U1"; taps = [ "tap3", "tap4", "vq*" ]; bridges = [ "br3" ];
    switches = [ "qbr3" ]; }
);
EOF
printf 'qemu: { memory = 77; };\n' >"$W/evilcfg/qrun.conf"
chown "$U1" "$W/evilcfg/qrun.conf"

# as.sh LOWER USER|- CMD...: /etc overlay, private /run, then become USER.
cat >"$W/as.sh" <<'EOF'
low=$1 user=$2; shift 2
mount -t overlay -o lowerdir="$low":/etc none /etc || exit 3
mount -t tmpfs -o mode=755 none /run || exit 3
[ "$user" = - ] && exec "$@"
exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups "$@"
EOF

netns_make NS
in_ns "$NS" ip tuntap add tap4 mode tap user "$U2"
in_ns "$NS" ip link add vq0 type veth peer name vq1
in_ns "$NS" ip addr add 10.9.9.1/24 dev vq0
in_ns "$NS" ip link set vq0 up
in_ns "$NS" ip link add br3 type bridge
# a set MAC, as qrun bridge create gives: else the bridge takes its port's
in_ns "$NS" ip link set br3 address 02:00:00:00:00:03
in_ns "$NS" ip link add br9 type bridge

# The namespace's links and addresses; the kernel recomputes a bridge's
# tso_max_* when a port comes and goes.
snap() {
	snapshot "$NS" | sed 's/ tso_max_[a-z]* [0-9]*//g'
}

# qrun with the capability, as U1, with hostile QRUN_* overrides.
u1() {
	in_ns "$NS" sh "$W/as.sh" "$W/low" "$U1" env -i PATH="$PATH" \
	    XDG_RUNTIME_DIR="$W/run1" QRUN_STATE_DIR="$W/evil" \
	    QRUN_CONFIG_DIR="$W/evilcfg" QRUN_SYSCONF_DIR="$W/evilcfg" \
	    "$W/bin/qrun" "$@"
}
TCG="-o qemu.accel=tcg"
MB="$W/mbtest.elf"

# refused CASE WANT ARGS...: exit 125, WANT on stderr, nothing changed.
refused() {
	_c=$1 _w=$2; shift 2
	_before=$(snap)
	u1 "$@" $TCG --success-code 0 --timeout 20 "$MB" -- -append exit=0 \
	    >"$TESTDIR/out" 2>&1
	_rc=$?
	_after=$(snap)
	if [ "$_rc" -ne 125 ]; then
		fail "$_c (exit $_rc, want 125)"; cat "$TESTDIR/out"
	elif ! grep -q "$_w" "$TESTDIR/out"; then
		fail "$_c (no '$_w' in: $(cat "$TESTDIR/out"))"
	elif [ "$_before" != "$_after" ]; then
		fail "$_c (the namespace changed)"
	else
		ok "$_c: $(grep 'qrun:' "$TESTDIR/out" | tail -1)"
	fi
}

# --- the grant works ----------------------------------------------------
before=$(snap)
expect_rc 0 "capability user boots on granted tap3" \
    u1 -q -n tap -t tap3 $TCG --success-code 0 --timeout 30 "$MB" -- \
    -append 'say=hi exit=0'
check "tap3 made by the run is gone again" \
    [ "$before" = "$(snap)" ]

expect_rc 0 "capability user boots tap3 on granted bridge br3" \
    u1 -q -n bridge -t tap3 -b br3 $TCG --success-code 0 --timeout 30 \
    "$MB" -- -append exit=0
check "tap3 released and gone again, br3 as before" \
    [ "$before" = "$(snap)" ]

u1 -q -n switch -t tap3 $TCG --success-code 0 --timeout 30 "$MB" -- \
    -append exit=0 >"$TESTDIR/sw.out" 2>&1
rc=$?
check "capability user boots on granted switch qbr3 (switches) (exit $rc: $(grep qrun: "$TESTDIR/sw.out"))" \
    [ "$rc" -eq 0 ]
after=$(snap)
check "qbr3 and qtap3-1 gone again" [ "$before" = "$after" ]
[ "$before" = "$after" ] || { printf '%s\n' "$before" >"$TESTDIR/b";
    printf '%s\n' "$after" >"$TESTDIR/a"; diff "$TESTDIR/b" "$TESTDIR/a" | sed 's/^/# /'; }
check "the switch's policy rule gone again" \
    sh -c "! ip -n '$NS' rule | grep -q qbr3"
refused "switch qbr4 not granted (taps = tap4 does not grant it)" \
    "qtap4-1: switch qbr4 not granted to $U1" -n switch -t tap4

# --- QEMU runs as the user without capabilities -------------------------
u1 -q -n tap -t tap3 $TCG --timeout 60 "$MB" -- -append hang \
    >/dev/null 2>&1 &
qpid=$!
bg_track $qpid
qemu=""
for _ in $(seq 100); do
	qemu=$(pgrep -u "$UID1" -f qemu-system | head -1)
	[ -n "$qemu" ] && break
	sleep 0.1
done
if [ -z "$qemu" ]; then
	fail "QEMU of the capability user did not start"
else
	st=/proc/$qemu/status
	check "QEMU CapEff/CapPrm are 0" \
	    grep -q '^CapEff:[[:space:]]*0000000000000000$' "$st"
	check "QEMU CapPrm is 0" \
	    grep -q '^CapPrm:[[:space:]]*0000000000000000$' "$st"
	check "QEMU has no-new-privs" grep -q '^NoNewPrivs:[[:space:]]*1$' "$st"
	check "QEMU runs as uid $UID1" \
	    grep -q "^Uid:[[:space:]]*$UID1[[:space:]]*$UID1[[:space:]]*$UID1[[:space:]]*$UID1\$" "$st"
	check "QEMU runs as gid $GID1" \
	    grep -q "^Gid:[[:space:]]*$GID1[[:space:]]*$GID1[[:space:]]*$GID1[[:space:]]*$GID1\$" "$st"
fi
# $qpid is the subshell of u1; qrun itself runs as U1
kill -TERM $(pgrep -u "$UID1" -x qrun) 2>/dev/null
wait $qpid
check "qrun killed while QEMU ran: tap3 is gone" \
    [ "$before" = "$(snap)" ]

# --- everything not granted is refused, nothing changes -----------------
refused "tap4 of another user" "owned by uid" -n tap -t tap4
refused "tap5 not granted" "tap5: not granted to $U1 by /etc/qrun/access.conf" \
    -n tap -t tap5
refused "lo is not granted" "lo: not granted" -n tap -t lo \
    -o net.host_addr=10.7.0.1/24 -o net.guest_addr=10.7.0.2
refused "granted veth vq0 is not a tap" "vq0: exists and is not a tap" \
    -n tap -t vq0 -o net.host_addr=10.8.0.1/24 -o net.guest_addr=10.8.0.2
refused "bridge br9 not granted" "br9: bridge not granted" \
    -n bridge -t tap3 -b br9

# --- a forged journal makes qrun do nothing the user could not -----------
# A real run of U1's killed with SIGKILL leaves a genuine journal in U1's
# own state dir ($XDG_RUNTIME_DIR/qrun), which U1 may edit: records
# appended there would, undone, delete another user's tap, a bridge,
# take an address and the link of a granted veth away, put an address
# and a default route back. A capability-enabled cleanup undoes none.
forged=$(snap)
u1 -q -n tap -t tap3 $TCG --timeout 60 "$MB" -- -append hang \
    >/dev/null 2>&1 &
fpid=$!
bg_track $fpid
wait_cmd 20 sh -c "ls '$W/run1/qrun/'run-*.journal >/dev/null 2>&1 &&
    pgrep -u '$UID1' -f qemu-system >/dev/null"
kill -9 $(pgrep -u "$UID1" -x qrun) 2>/dev/null
wait $fpid 2>/dev/null
ix() { ip -n "$NS" -o link show "$1" | cut -d: -f1; }
fj=$(ls "$W/run1/qrun/"run-*.journal 2>/dev/null | head -1)
if [ -z "$fj" ]; then
	fail "forged journal: the killed run left no journal to edit"
else
	{
		echo "tap-create tap4@$(ix tap4)"
		echo "bridge-create br3@$(ix br3)"
		echo "addr-add vq0@$(ix vq0) 10.9.9.1/24"
		echo "link-up vq0@$(ix vq0)"
		echo "addr-del vq0@$(ix vq0) 10.9.8.1/24"
		echo "route-del vq0@$(ix vq0) 0.0.0.0/0 10.9.9.254 0 4"
	} >>"$fj"
	u1 cleanup >"$TESTDIR/out" 2>&1
	check "forged journal: cleanup refuses all six forged records" \
	    grep -q "undid 1 leftover run; skipped 6 records" "$TESTDIR/out"
	check "forged journal: tap4, br3, vq0's address and link untouched" \
	    [ "$(snap)" = "$forged" ]
	check "forged journal: no default route was added" \
	    [ -z "$(ip -n "$NS" route show default)" ]
	check "forged journal: the genuine part undone (tap3 gone)" \
	    sh -c "! ip -n '$NS' link show tap3 >/dev/null 2>&1"
fi

# --- QRUN_* overrides are ignored when elevated -------------------------
check "QRUN_STATE_DIR ignored: nothing in it" [ -z "$(ls -A "$W/evil")" ]
check "state went to XDG_RUNTIME_DIR/qrun" \
    sh -c "ls '$W/run1/qrun/'tap3@*.lock >/dev/null"
u1 check -n user >"$TESTDIR/out" 2>&1
if grep -q '^qemu.memory = auto' "$TESTDIR/out"; then
	ok "QRUN_CONFIG_DIR ignored (qemu.memory stays auto)"
else
	fail "QRUN_CONFIG_DIR ignored: $(grep memory "$TESTDIR/out")"
fi

# --- planted journals are never acted on --------------------------------
plant() {	# DIR: a dead run's journal that would set lo and vq0 down
	cat >"$1/run-999999.journal" <<EOF
qrun-journal 1 pid 999999 uid $2 start 1
tap-create tap4
addr-add vq0 10.9.9.1/24
link-up vq0
link-up lo
EOF
	chown "$3" "$1/run-999999.journal"
	chmod 600 "$1/run-999999.journal"
}
plant "$W/run1/qrun" "$UID1" "$U1"
plant "$W/evil" "$UID1" "$U1"
before=$(snap)
expect_rc 0 "capability user boots with planted journals around" \
    u1 -q -n tap -t tap3 $TCG --success-code 0 --timeout 30 "$MB" -- \
    -append exit=0
check "journal naming lo, a veth, another's tap: nothing undone" \
    [ "$before" = "$(snap)" ]
# root on behalf of a user (sudo): the user-writable QRUN_STATE_DIR is
# ignored, /run/qrun (private tmpfs here) is used.
expect_rc 0 "sudo-style run ignores QRUN_STATE_DIR" \
    in_ns "$NS" sh "$W/as.sh" "$W/low" - env SUDO_UID="$UID1" \
    SUDO_GID="$GID1" QRUN_STATE_DIR="$W/evil" "$QRUN" -q -n tap -t tap3 \
    $TCG --success-code 0 --timeout 30 "$MB" -- -append exit=0
check "planted journal in QRUN_STATE_DIR untouched, lo still up" \
    [ -f "$W/evil/run-999999.journal" -a "$before" = "$(snap)" ]

# --- ENOSPC writing the journal: what was done is undone ----------------
# build/nlfail.so makes the journal's write of the record after
# tap-create, "addr-add", fail as a full disk would (the journal's own
# unit test fills a real tmpfs).
before=$(snap)
in_ns "$NS" env LD_PRELOAD="$TOP/build/nlfail.so" JFAIL_PREFIX="addr-add " \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$QRUN" -n tap -t tap3 -o qemu.accel=tcg --success-code 0 --timeout 30 \
    "$MB" -- -append exit=0 >"$TESTDIR/out" 2>&1
rc=$?
if [ "$rc" -eq 125 ] && grep -q "cannot write the journal: No space" "$TESTDIR/out" &&
    [ "$before" = "$(snap)" ]; then
	ok "ENOSPC on the journal after tap-create: tap undone, exit 125"
else
	fail "ENOSPC on the journal (exit $rc): $(cat "$TESTDIR/out")"
fi

# --- root on behalf of a user opens --serial-log as that user -----------
echo keep >"$W/rootonly"
chmod 600 "$W/rootonly"
expect_rc 125 "sudo-style --serial-log to a root-only file is refused" \
    env SUDO_UID="$UID1" SUDO_GID="$GID1" "$QRUN" -q -n none $TCG \
    --success-code 0 --timeout 20 --serial-log "$W/rootonly" "$MB" \
    -- -append exit=0
check "the root-only file is untouched" \
    [ "$(cat "$W/rootonly")" = keep ]

# --- root on behalf of a user reads profiles with the user's rights ------
# A root-owned 0600 file (think /etc/shadow) in a directory anyone may
# enter: the user cannot read it, so neither may qrun on their behalf.
shared_dir pub
printf 'qemu: { memory = 300; };\n' >"$pub/secret.conf"
chmod 600 "$pub/secret.conf"
env SUDO_UID="$UID1" SUDO_GID="$GID1" "$QRUN" -n none --dry-run \
    -p "$pub/secret.conf" "$MB" >"$TESTDIR/out" 2>&1
rc=$?
if [ "$rc" -eq 125 ] && grep -q "secret.conf: cannot read: Permission denied" \
    "$TESTDIR/out"; then
	ok "sudo-style -p of a root-only profile: not read (exit 125)"
else
	fail "sudo-style -p of a root-only profile (exit $rc): $(cat "$TESTDIR/out")"
fi
chmod 644 "$pub/secret.conf"
check "the same profile, readable by the user: used" sh -c \
    "env SUDO_UID=$UID1 SUDO_GID=$GID1 '$QRUN' -n none --dry-run \
    -p '$pub/secret.conf' '$MB' | grep -q -- '-m 300'"

# --- profiles that would hang are refused at once, read as the user ----
# A FIFO as the profile or included (it would wait for a writer forever),
# and an include of a root-only file: the user's rights reach includes too.
pub=$(mktemp -d /tmp/qrun-pub.XXXXXX)
chmod 755 "$pub"
mkfifo "$pub/fifo.conf"
printf '@include "fifo.conf"\n' >"$pub/inc-fifo.conf"
printf 'qemu: { memory = 300; };\n' >"$pub/root.inc"
chmod 600 "$pub/root.inc"
printf '\n@include "root.inc"\n' >"$pub/inc-root.conf"
chown "$U1" "$pub" "$pub/fifo.conf" "$pub/inc-fifo.conf" "$pub/inc-root.conf"
for c in "fifo.conf:$pub/fifo.conf: not a regular file" \
    "inc-fifo.conf:$pub/inc-fifo.conf:1: @include \"fifo.conf\": not a regular file" \
    "inc-root.conf:$pub/inc-root.conf:2: @include \"root.inc\": cannot read: Permission denied"; do
	f=${c%%:*}
	want=${c#*:}
	timeout 20 env SUDO_UID="$UID1" SUDO_GID="$GID1" "$QRUN" -n none \
	    --dry-run -p "$pub/$f" "$MB" >"$TESTDIR/out" 2>&1
	rc=$?
	if [ "$rc" -eq 125 ] && grep -qF "qrun: $want" "$TESTDIR/out"; then
		ok "sudo-style -p $f: refused at once (exit 125)"
	else
		fail "sudo-style -p $f (exit $rc, 124 = hung): $(cat "$TESTDIR/out")"
	fi
done
rm -rf "$pub"

# --- doctor sees the capability and the access list ---------------------
u1 doctor >"$TESTDIR/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^ok    caps .*cap_net_admin=ep' "$TESTDIR/out" &&
    grep -q '^ok    access .*access.conf: root-owned, parses' "$TESTDIR/out"; then
	ok "doctor: capability and access list ok"
else
	fail "doctor (exit $rc): $(cat "$TESTDIR/out")"
fi
chmod 666 "$W/low/qrun/access.conf"
u1 doctor >"$TESTDIR/out" 2>&1
rc=$?
if [ "$rc" -eq 125 ] && grep -q '^FAIL  access .*writable by group or others' "$TESTDIR/out"; then
	ok "doctor: a world-writable access list is FAIL"
else
	fail "doctor, writable list (exit $rc): $(cat "$TESTDIR/out")"
fi
refused "a world-writable access list grants nothing" \
    "refused: writable by group or others" -n tap -t tap3
chmod 644 "$W/low/qrun/access.conf"
