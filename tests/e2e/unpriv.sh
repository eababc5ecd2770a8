#!/bin/sh
# Privileges (qrun(1) Privileges): an unprivileged user (made by this
# test) boots on a tap root created for them and leaves it as it was;
# without a tap qrun exits 125 printing the admin command, which works
# when run; under sudo (SUDO_UID/SUDO_GID) QEMU runs as the user with no
# capabilities. The user runs copies of qrun and the guests (user_copy):
# the checkout may be in a home only root can enter.
. "$(dirname "$0")/lib.sh"
need_root "unprivileged user"
need_guests "unprivileged user" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz" \
    "$GUESTS/mbtest.elf"
command -v useradd >/dev/null && command -v setpriv >/dev/null ||
    { skip "unprivileged user: needs useradd and setpriv"; exit 0; }

U=qrunt$$
useradd -M -r -s /usr/sbin/nologin "$U" || { fail "useradd $U"; exit 0; }
_unpriv_cleanup() {
	pkill -9 -U "$U" 2>/dev/null	# only this test's user
	userdel "$U" 2>/dev/null
}
trap '_unpriv_cleanup; _cleanup' EXIT
UID_=$(id -u "$U") GID_=$(id -g "$U")
user_copy || { fail "unprivileged user: cannot copy qrun and the guests"; exit 0; }
shared_dir UDIR
mkdir -p "$UDIR/state" "$UDIR/config"
chown -R "$U:" "$UDIR"

# as_user NS CMD...: CMD as the test user inside NS, in a private mount
# namespace whose /dev/net/tun is 0666 (the host's may be 0600). Every
# step execs, so $! of a backgrounded as_user is CMD's pid.
as_user() {
	_ns=$1; shift
	exec ip netns exec "$_ns" unshare -m sh -c '
	    mount -t tmpfs -o mode=0755 none /dev/net &&
	    mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun || exit 2
	    u=$0 g=$1 h=$2; shift 2
	    exec setpriv --reuid "$u" --regid "$g" --clear-groups \
		env -i PATH=/usr/bin:/bin HOME="$h" \
		QRUN_STATE_DIR="$h/state" QRUN_CONFIG_DIR="$h/config" "$@"' \
	    "$UID_" "$GID_" "$UDIR" "$@"
}

# boot_user NS DESC: the user's qrun boots the Linux guest on tap1, NS
# pings it, SIGTERM ends it.
boot_user() {
	_ns=$1 _bd=$2
	rm -f "$UDIR/serial.log"
	(as_user "$_ns" "$UQRUN" -n tap -t tap1 -o qemu.accel=tcg \
	    --serial-log "$UDIR/serial.log" --initrd "$UGUESTS/initrd.gz" \
	    "$UGUESTS/vmlinuz") >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null &
	_p=$!
	bg_track "$_p"
	if wait_line "$UDIR/serial.log" QRUN-GUEST-READY 60; then
		_n=$(in_ns "$_ns" ping -c 3 -W 2 172.21.0.2 2>&1 |
		    sed -n 's/.* \([0-9]*\) received.*/\1/p')
		check "$_bd: guest reachable (${_n:-0} of 3 replies)" \
		    [ "${_n:-0}" -eq 3 ]
	else
		fail "$_bd: guest ready ($(tail -n 3 "$TESTDIR/err" | tr '\n' ' '))"
	fi
	kill -TERM "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	_rc=$?
	check "$_bd: SIGTERM -> 143 (exit $_rc)" [ "$_rc" -eq 143 ]
}

# 1. Root made tap1 for the user: the user's qrun uses it, leaves it.
netns_make NS
in_ns "$NS" "$QRUN" tap create tap1 --owner "$U" \
    --addr 172.21.0.1/16,fd00:172:21::1/64
before=$(snap_stable "$NS")
boot_user "$NS" "user on root-made tap1"
check "user on root-made tap1: tap left as it was" same_as "$NS" "$before"

# 2. No tap: 125 and the admin command; that command works when run.
netns_make NS2
before=$(snap_stable "$NS2")
(as_user "$NS2" "$UQRUN" -n tap -t tap1 -o qemu.accel=tcg \
    "$UGUESTS/mbtest.elf") >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null
rc=$?
hint=$(sed -n 's/.*\(sudo qrun tap create .*\)/\1/p' "$TESTDIR/err")
if [ "$rc" -eq 125 ] && grep -q "sudo qrun tap create tap1 --owner $U" \
    "$TESTDIR/err"; then
	ok "user without tap: 125 and the admin command"
else
	fail "user without tap: 125 and the admin command (exit $rc: $(cat "$TESTDIR/err"))"
fi
check "user without tap: namespace unchanged" same_as "$NS2" "$before"
cmd=${hint#sudo }
case $cmd in
"qrun tap create "*)
	# Run the printed command as root in the namespace, word by word.
	# shellcheck disable=SC2086
	set -- ${cmd#qrun }
	if in_ns "$NS2" "$QRUN" "$@" >"$TESTDIR/out" 2>&1; then
		ok "user without tap: printed admin command works ($cmd)"
	else
		fail "user without tap: printed admin command works ($(cat "$TESTDIR/out"))"
	fi
	boot_user "$NS2" "user after the admin command"
	;;
*)	fail "user without tap: no admin command printed" ;;
esac

# 3. Under sudo: network set up as root, QEMU runs as the user, no caps;
# the locks and the journal go to /run/qrun (this script's private one).
netns_make NS3
before=$(snap_stable "$NS3")
ip netns exec "$NS3" env SUDO_UID="$UID_" SUDO_GID="$GID_" SUDO_USER="$U" \
    "$QRUN" -n tap -t tap1 -o qemu.accel=tcg --timeout 60 \
    -o qemu.append=hang "$UGUESTS/mbtest.elf" >"$TESTDIR/out" \
    2>"$TESTDIR/err" </dev/null &
p=$!
bg_track "$p"
qemu="" end=$(($(date +%s) + 20))
while [ -z "$qemu" ] && [ "$(date +%s)" -lt "$end" ]; do
	qemu=$(pgrep -P "$p" -f qemu-system | head -n 1)
	[ -n "$qemu" ] || sleep 0.1
done
sleep 0.5	# past the exec
st=$(cat "/proc/$qemu/status" 2>/dev/null)
uid=$(echo "$st" | awk '/^Uid:/ { print $2 $3 $4 $5 }')
cap=$(echo "$st" | awk '/^CapEff:/ { print $2 }')
check "sudo: QEMU runs as the user (Uid $uid)" \
    [ "$uid" = "$UID_$UID_$UID_$UID_" ]
check "sudo: QEMU has no capabilities (CapEff $cap)" \
    [ "$cap" = 0000000000000000 ]
kill -TERM "$p" 2>/dev/null
wait "$p" 2>/dev/null
rc=$?
check "sudo: SIGTERM -> 143 (exit $rc)" [ "$rc" -eq 143 ]
check "sudo: namespace as before" same_as "$NS3" "$before"
check "sudo: no journal left in $(qrun_state sudo)" no_journal sudo
