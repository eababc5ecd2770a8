#!/bin/sh
# --ready and --run (issue 9): wait for the Linux test guest (ping,
# tcp:PORT, user-mode forwards), run a host command against it as the
# developer, and map every way it can end to qrun's exit status. Each case
# boots in its own namespace and checks that nothing is left behind.
. "$(dirname "$0")/lib.sh"

need_root "ready"
need_guests "ready" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

KERNEL="$GUESTS/vmlinuz"
INITRD="$GUESTS/initrd.gz"
TAPARGS="-n tap -t tap1 -o qemu.accel=tcg"

# boot NS OUT ARGS...: qrun in NS, stdout to OUT, stderr to OUT.err.
boot() {
	_ns=$1 _out=$2
	shift 2
	ip netns exec "$_ns" "$QRUN" "$@" >"$_out" 2>"$_out.err"
}

# left_clean NS BEFORE [sudo]: nothing of the run may survive it: no
# qemu, no tap, no journal where qrun keeps them (qrun_state).
left_clean() {
	_ns=$1 _before=$2
	ns_empty "$_ns" &&
	    [ "$(snapshot "$_ns")" = "$_before" ] &&
	    no_journal ${3:-}
}

netns_make NS
BEFORE=$(snapshot "$NS")

# ping, then a client through sh -c
boot "$NS" "$TESTDIR/ping" $TAPARGS --timeout 60 --ready ping \
    --initrd "$INITRD" "$KERNEL" \
    --run sh -c 'wget -q -O - http://$QRUN_GUEST_IP/'
rc=$?
if [ $rc -eq 0 ] && grep -q "qrun test guest" "$TESTDIR/ping" &&
    grep -q "qrun: guest 172.21.0.2 ready after [0-9.]* s (ping)" \
    "$TESTDIR/ping.err"; then
	ok "--ready ping --run wget: the guest's page, exit 0"
else
	fail "--ready ping --run wget (exit $rc)"
	tail -5 "$TESTDIR/ping.err"
fi
check "--ready ping --run: namespace as before" left_clean "$NS" "$BEFORE"
grep -o "ready after [0-9.]* s" "$TESTDIR/ping.err" | sed 's/^/# boot-to-/'

# the QRUN_* environment
boot "$NS" "$TESTDIR/env" $TAPARGS --timeout 60 --ready tcp:80 \
    --initrd "$INITRD" "$KERNEL" --run sh -c \
    'echo "env $QRUN_GUEST_IP $QRUN_HOST_IP $QRUN_TAP $QRUN_MAC"'
# (the guest's console shares stdout: no ^ anchors)
if grep -Eq "env 172.21.0.2 172.21.0.1 tap1 52:54:00(:[0-9a-f]{2}){3}$" \
    "$TESTDIR/env" && grep -q "ready after .* (tcp:80)" "$TESTDIR/env.err"
then
	ok "--ready tcp:80: QRUN_GUEST_IP, QRUN_HOST_IP, QRUN_TAP, QRUN_MAC"
else
	fail "--ready tcp:80 environment"
	grep "env " "$TESTDIR/env"
fi

# nothing listens on 81: timeout, the last console lines, nothing left
expect_rc 124 "--ready tcp:81 --timeout 15: exit 124" \
    boot "$NS" "$TESTDIR/t81" $TAPARGS --timeout 15 --ready tcp:81 \
    --initrd "$INITRD" "$KERNEL"
check "--ready tcp:81: last serial lines and the reason" \
    grep -q "last lines of the serial" "$TESTDIR/t81.err"
check "--ready tcp:81: namespace as before" left_clean "$NS" "$BEFORE"

expect_rc 3 "--run sh -c 'exit 3': exit 3" \
    boot "$NS" "$TESTDIR/x3" $TAPARGS --timeout 60 --ready ping \
    --initrd "$INITRD" "$KERNEL" --run sh -c 'exit 3'
check "--run exit 3: namespace as before" left_clean "$NS" "$BEFORE"

expect_rc 127 "--run /nonexistent: exit 127" \
    boot "$NS" "$TESTDIR/nx" $TAPARGS --timeout 60 \
    --initrd "$INITRD" "$KERNEL" --run /nonexistent
check "--run /nonexistent: says so" \
    grep -q "/nonexistent: command not found" "$TESTDIR/nx.err"
check "--run /nonexistent: namespace as before" left_clean "$NS" "$BEFORE"

# the guest powers off while the command runs
start=$(date +%s)
expect_rc 1 "guest powers off during --run: exit 1" \
    boot "$NS" "$TESTDIR/off" $TAPARGS --timeout 60 --ready tcp:80 \
    --initrd "$INITRD" "$KERNEL" --run sh -c \
    'wget -q -O- http://$QRUN_GUEST_IP/cgi-bin/poweroff; sleep 30'
took=$(($(date +%s) - start))
check "guest powers off: the reason" grep -q \
    "guest exited (status 0) while sh was running" "$TESTDIR/off.err"
check "guest powers off: the command was stopped (${took} s)" \
    [ "$took" -lt 25 ]
check "guest powers off: namespace as before" left_clean "$NS" "$BEFORE"

# as root for a developer (sudo): uid and no capabilities. QEMU runs as
# the developer: it boots copies of the guests (user_copy), which the
# developer can read wherever the checkout lives.
TUSER="qrt$$"
if ! user_copy; then
	fail "under sudo: cannot copy the guests"
elif useradd -M -N -s /bin/sh "$TUSER" 2>/dev/null; then
	trap 'userdel "$TUSER" 2>/dev/null; _cleanup' EXIT
	TUID=$(id -u "$TUSER") TGID=$(id -g "$TUSER")
	SUDO_UID=$TUID SUDO_GID=$TGID SUDO_USER=$TUSER \
	    boot "$NS" "$TESTDIR/sudo" $TAPARGS --timeout 60 --ready ping \
	    --initrd "$UGUESTS/initrd.gz" "$UGUESTS/vmlinuz" --run sh -c \
	    'grep -E "^(Uid|CapEff)" /proc/self/status'
	rc=$?
	if [ $rc -eq 0 ] &&
	    grep -Eq "Uid:[[:space:]]+$TUID[[:space:]]+$TUID[[:space:]]" \
	    "$TESTDIR/sudo" &&
	    grep -Eq "CapEff:[[:space:]]+0+$" "$TESTDIR/sudo"; then
		ok "under sudo: the command runs as uid $TUID with CapEff 0"
	else
		fail "under sudo: uid/caps of the command (exit $rc)"
		grep -E "(Uid|CapEff):" "$TESTDIR/sudo"
	fi
	check "under sudo: namespace as before, no journal left" \
	    left_clean "$NS" "$BEFORE" sudo
	# root's PATH holds a directory the developer may not enter: a
	# missing command is still "command not found" (127), for --run and
	# the shell's run, not "Permission denied"
	mkdir -m 0700 "$TESTDIR/rootonly"
	PATH="$TESTDIR/rootonly:$PATH" SUDO_UID=$TUID SUDO_GID=$TGID \
	    SUDO_USER=$TUSER boot "$NS" "$TESTDIR/sudonx" -n none -o \
	    qemu.accel=tcg --timeout 60 --initrd "$UGUESTS/initrd.gz" \
	    "$UGUESTS/vmlinuz" --run no-such-command-qrun
	rc=$?
	if [ $rc -eq 127 ] && grep -q "^qrun: no-such-command-qrun: command not found$" \
	    "$TESTDIR/sudonx.err"; then
		ok "under sudo: --run of a missing command: not found, exit 127"
	else
		fail "under sudo: --run of a missing command (exit $rc): $(grep qrun: "$TESTDIR/sudonx.err" | tail -n 1)"
	fi
	printf '%s\n' "boot $UGUESTS/vmlinuz" 'run no-such-command-qrun' |
	    PATH="$TESTDIR/rootonly:$PATH" SUDO_UID=$TUID SUDO_GID=$TGID \
	    SUDO_USER=$TUSER "$QRUN" -i -n none -o qemu.accel=tcg \
	    --initrd "$UGUESTS/initrd.gz" >"$TESTDIR/sudosh" 2>&1
	rc=$?
	if [ $rc -eq 127 ] && grep -q "^qrun: run: no-such-command-qrun: command not found$" \
	    "$TESTDIR/sudosh"; then
		ok "under sudo: the shell's run of a missing command: not found, 127"
	else
		fail "under sudo: the shell's run of a missing command (exit $rc): $(grep qrun: "$TESTDIR/sudosh" | tail -n 1)"
	fi
	userdel "$TUSER" 2>/dev/null
else
	skip "under sudo: cannot add a test user"
fi

# user mode: tcp:80 is the forwarded host port
netns_make UNS
boot "$UNS" "$TESTDIR/user" -n user -o qemu.accel=tcg \
    -o net.forwards=tcp:18080:80 --timeout 60 --ready tcp:80 \
    --initrd "$INITRD" "$KERNEL" --run sh -c \
    'echo "port $QRUN_PORT_80"; wget -q -O- http://127.0.0.1:$QRUN_PORT_80/'
rc=$?
if [ $rc -eq 0 ] && grep -q "port 18080$" "$TESTDIR/user" &&
    grep -q "qrun test guest" "$TESTDIR/user"; then
	ok "user mode --ready tcp:80: QRUN_PORT_80=18080 and the page"
else
	fail "user mode --ready tcp:80 (exit $rc)"
	tail -3 "$TESTDIR/user.err"
fi
grep -o "ready after .*" "$TESTDIR/user.err" | sed 's/^/# user mode: /'

expect_rc 125 "user mode --ready ping: refused at plan time" \
    boot "$UNS" "$TESTDIR/uping" -n user -o qemu.accel=tcg --ready ping \
    --initrd "$INITRD" "$KERNEL"
expect_rc 125 "user mode --ready tcp:22 without a forward: 125" \
    boot "$UNS" "$TESTDIR/u22" -n user -o qemu.accel=tcg \
    -o net.forwards=tcp:18080:80 --ready tcp:22 \
    --initrd "$INITRD" "$KERNEL"
check "user mode: no qemu left" ns_empty "$UNS"

# ready is success without --run and --expect
expect_rc 0 "--ready ping alone: exit 0 once ready" \
    boot "$NS" "$TESTDIR/alone" $TAPARGS --timeout 60 --ready ping \
    --initrd "$INITRD" "$KERNEL"
check "--ready ping alone: namespace as before" left_clean "$NS" "$BEFORE"

# serial:REGEX needs no network at all
boot "$NS" "$TESTDIR/ser" -n none -o qemu.accel=tcg --timeout 60 \
    --ready 'serial:QRUN-GUEST-READY' --initrd "$INITRD" "$KERNEL"
rc=$?
if [ $rc -eq 0 ] && grep -q "guest ready after .* (serial:QRUN-GUEST-READY)" \
    "$TESTDIR/ser.err"; then
	ok "-n none --ready serial:REGEX: ready, exit 0"
else
	fail "-n none --ready serial:REGEX (exit $rc)"
fi
