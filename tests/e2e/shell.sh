#!/bin/sh
# The shell (qrun -i) driven through a FIFO, so the test can act between
# commands: boot the Linux guest on tap1 in a namespace, wait for its ready
# line, ping it, reboot (under TCG a new QEMU on the same network), ping
# again, set qemu.memory and reboot (now through QMP: same QEMU pid,
# "guest reset", the memory it booted with), boot again (a new QEMU with
# 384 MiB), quit (namespace as before). Then bad input over a plain pipe.
. "$(dirname "$0")/lib.sh"
need_root "shell"
need_guests "shell" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

out=$TESTDIR/out
fifo=$TESTDIR/in

# until N REGEX SECS: wait until $out has N lines matching REGEX.
until_n() {
	_end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt "$_end" ]; do
		[ "$(grep -Ec "$2" "$out" 2>/dev/null)" -ge "$1" ] && return 0
		kill -0 "$spid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
say() { printf '%s\n' "$*" >&3; }
pings() {
	for _i in 1 2 3 4 5; do
		in_ns "$NS" ping -c 1 -W 2 "$guest" >/dev/null 2>&1 && return 0
	done
	return 1
}
# The Nth "guest: ..." line of status.
status_line() { grep -E '^guest: ' "$out" | sed -n "${1}p"; }
mem_line() { grep -E '^memory: ' "$out" | sed -n "${1}p"; }

netns_make NS
before=$(snapshot "$NS")
mkfifo "$fifo"
in_ns "$NS" "$QRUN" -i -n tap -t tap1 -o qemu.accel=tcg \
    --initrd "$GUESTS/initrd.gz" "$GUESTS/vmlinuz" <"$fifo" >"$out" 2>&1 &
spid=$!
bg_track "$spid"
exec 3>"$fifo"

say boot
say "wait QRUN-GUEST-READY 90"
say status
if until_n 1 '^guest: ' 120 && ! grep -q 'wait: ' "$out"; then
	ok "shell: boot, wait for the ready line"
else
	fail "shell: boot, wait for the ready line"
fi
pid1=$(sed -n 's/^QEMU pid \([0-9]*\):.*/\1/p' "$out" | head -n 1)
guest=$(sed -n 's/.*guest \([0-9.]*\).*/\1/p' "$out" | head -n 1)
case $(status_line 1) in
*"pid $pid1,"*) ok "shell: status names QEMU pid $pid1" ;;
*) fail "shell: status names QEMU pid $pid1 ($(status_line 1))" ;;
esac
check "shell: host pings the guest ($guest)" pings

say "ready ping 90"
say "run sh -c 'wget -q -O - http://\$QRUN_GUEST_IP/; echo RUN-DONE'"
until_n 1 '^RUN-DONE' 120
check "shell: ready ping says the guest is ready" \
    grep -Eq "^qrun: guest $guest ready after [0-9]+\.[0-9] s \(ping\)\$" "$out"
# The guest booted (seconds under TCG) and answered pings long before the
# command: the time is counted from the command, not from boot.
check "shell: ready counts from the command ($(grep -o 'ready after [0-9.]* s' "$out"))" \
    grep -Eq "^qrun: guest $guest ready after [01]\.[0-9] s \(ping\)\$" "$out"
check "shell: run wget against \$QRUN_GUEST_IP prints the guest's page" \
    grep -q 'qrun test guest' "$out"

# Under TCG, with the settings it booted with, reboot starts a new QEMU
# on the same network (faster than a reset: qrun(1), reboot).
say reboot
say "wait QRUN-GUEST-READY 90"
say status
until_n 2 '^guest: ' 120
pid2=$(sed -n 's/^QEMU pid \([0-9]*\):.*/\1/p' "$out" | sed -n 2p)
case $(status_line 2) in
"guest: running, QEMU pid $pid1,"*) fail "shell: reboot under TCG: a new QEMU (still pid $pid1)" ;;
"guest: running, QEMU pid ${pid2:-none},"*) ok "shell: reboot under TCG: a new QEMU (pid $pid2)" ;;
*) fail "shell: reboot under TCG: a new QEMU (status: $(status_line 2))" ;;
esac
check "shell: reboot says why it restarts QEMU" \
    grep -q '^TCG: restarting QEMU (faster than a reset)$' "$out"
check "shell: ready again after the reboot" \
    [ "$(grep -c 'wait: ' "$out")" -eq 0 ]
check "shell: host pings the guest after the reboot" pings

# After set, a reboot keeps the settings the guest booted with: a reset
# of the running QEMU (same pid, "guest reset"), still its memory.
say "set qemu.memory 384"
say reboot
say "wait QRUN-GUEST-READY 90"
say status
until_n 3 '^guest: ' 120
case $(status_line 3) in
"guest: running, QEMU pid ${pid2:-none},"*) ok "shell: reboot after set keeps QEMU pid $pid2" ;;
*) fail "shell: reboot after set keeps QEMU pid $pid2 (status: $(status_line 3))" ;;
esac
check "shell: reboot after set prints 'guest reset'" grep -q '^qrun: guest reset$' "$out"
check "shell: reboot after set keeps the booted memory ($(mem_line 3))" \
    [ "$(mem_line 3 | cut -d , -f 1)" = "$(mem_line 1 | cut -d , -f 1)" ]
check "shell: ready again after the reset" \
    [ "$(grep -c 'wait: ' "$out")" -eq 0 ]
check "shell: host pings the guest after the reset" pings

say boot
say "wait QRUN-GUEST-READY 90"
say status
until_n 4 '^guest: ' 120
case $(mem_line 4) in
*"memory: 384 MiB"*) ok "shell: boot after set qemu.memory 384 has 384 MiB" ;;
*) fail "shell: boot after set qemu.memory 384 has 384 MiB ($(mem_line 4))" ;;
esac
case $(status_line 4) in
*"pid $pid2,"*) fail "shell: boot restarted QEMU (same pid $pid2)" ;;
*"guest: running"*) ok "shell: boot restarted QEMU" ;;
*) fail "shell: boot restarted QEMU ($(status_line 4))" ;;
esac
n=$(grep -c '^qrun: tap1 ' "$out")
check "shell: one network setup for all boots ($n hint lines, want 1)" [ "$n" -eq 1 ]

say quit
exec 3>&-
wait "$spid"
rc=$?
check "shell: quit exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "shell: namespace as before after quit" [ "$before" = "$(snapshot "$NS")" ]
check "shell: no QEMU left" ns_empty "$NS"
check "shell: QMP socket dir removed" sh -c "! ls -d '$(qrun_state)'/qmp-* 2>/dev/null"
if [ -n "${SHELL_DEBUG:-}" ]; then cat "$out"; fi

# Bad input: the shell says why, keeps going, and the exit status is that
# of the last failing command.
bad=$TESTDIR/bad
printf '%s\n' rebot xyzzy 'set qemu.memry 1' 'unset qemu.memry' \
    'show qemu.memry' 'show net.nope' 'set qemu.memory abc' reboot \
    'boot /nonexistent/vmlinuz' ready 'wait never 1' status |
    "$QRUN" -i -n none -o qemu.accel=tcg >"$bad" 2>&1
rc=$?
# the same words as the command line's (util.c's str_nearest)
check "shell: unknown command suggests the closest" \
    grep -q '^qrun: rebot: unknown command; did you mean reboot?' "$bad"
check "shell: nothing close, no suggestion" \
    grep -q '^qrun: xyzzy: unknown command (help lists them)$' "$bad"
want=$("$QRUN" check -n none -o qemu.memry=1 2>&1 | sed -n 's/^qrun: -o //p')
check "shell: set of an unknown key: the validator's message ($want)" \
    grep -q "^qrun: set: $want\$" "$bad"
check "shell: unset of an unknown key suggests as set does" \
    grep -q "^qrun: unset: $want\$" "$bad"
check "shell: show of an unknown key suggests as set does" \
    grep -q "^qrun: show: $want\$" "$bad"
check "shell: show of a key nothing like any: no suggestion" \
    grep -q "^qrun: show: net.nope: unknown key\$" "$bad"
want=$("$QRUN" check -n none -o qemu.memory=abc 2>&1 | sed -n 's/^qrun: -o //p')
check "shell: set of a bad value: the validator's message ($want)" \
    grep -q "^qrun: set: $want\$" "$bad"
check "shell: reboot with no guest" \
    grep -q '^qrun: reboot: no guest running' "$bad"
check "shell: boot of a missing image" \
    grep -q '^qrun: /nonexistent/vmlinuz: no such file' "$bad"
check "shell: kept running after errors" grep -q '^guest: none' "$bad"
check "shell: wait with no guest fails, exit status 1 (got $rc)" \
    [ "$rc" -eq 1 ]
check "shell: ready with no guest" \
    grep -q '^qrun: ready: no guest running' "$bad"

# ready and run against a guest with no network: a serial probe that
# times out, a missing command, a command exiting 3 (the last failure:
# the shell's status). The guest keeps running across them. Each command
# goes in once the shell has answered the one before, waited for with a
# deadline: the guest's console runs on meanwhile (under load too).
out=$TESTDIR/nonet
mkfifo "$TESTDIR/in2"
"$QRUN" -i -n none -o qemu.accel=tcg --initrd "$GUESTS/initrd.gz" \
    <"$TESTDIR/in2" >"$out" 2>&1 &
spid=$!
bg_track "$spid"
exec 3>"$TESTDIR/in2"
say "boot $GUESTS/vmlinuz"
check "shell: boot with no network" until_n 1 '^QEMU pid [0-9]+: ' 30
say 'ready serial:never-printed 2'
check "shell: ready timeout says so, on a line of its own" until_n 1 \
    '^qrun: ready: timeout after 2 s waiting for the guest [(]serial:never-printed[)]$' 30
say 'run no-such-command-qrun'
check "shell: run of a missing command" until_n 1 \
    '^qrun: run: no-such-command-qrun: command not found$' 30
say "run sh -c 'echo QRUN_TAP=\${QRUN_TAP-unset}; exit 3'"
check "shell: run's command ran (net none: no QRUN_TAP), on a line of its own" \
    until_n 1 '^QRUN_TAP=unset$' 30
say status
check "shell: guest still running after run" until_n 1 '^guest: running' 30
exec 3>&-
wait "$spid"
rc=$?
check "shell: run sh -c 'exit 3' makes the shell exit 3 (got $rc)" [ "$rc" -eq 3 ]
if [ -n "${SHELL_DEBUG:-}" ]; then cat "$out"; fi

# A console line the guest does not end (a prompt, a terminal's escape
# sequences) while the shell or a run command speaks: their lines still
# start on lines of their own. A stand-in for QEMU writes one, a second
# after it starts, while run's command waits two seconds to print.
out=$TESTDIR/partial
printf '#!/bin/sh\nsleep 1\nprintf "login: \\033[6n"\nexec sleep 30\n' \
    >"$TESTDIR/qpartial"
chmod +x "$TESTDIR/qpartial"
printf '%s\n' "boot $GUESTS/vmlinuz" "run sh -c 'sleep 2; echo run-says-hello'" \
    'wait never-printed 1' status |
    "$QRUN" -i -n none -o qemu.binary="$TESTDIR/qpartial" >"$out" 2>&1
check "shell: the guest's unended line is shown" grep -q '^login: ' "$out"
check "shell: run's output after it, on a line of its own" \
    grep -q '^run-says-hello$' "$out"
check "shell: wait's timeout after it, on a line of its own" \
    grep -q '^qrun: wait: timeout after 1 s waiting for /never-printed/$' "$out"
check "shell: status after it, on a line of its own" \
    grep -q '^guest: running' "$out"
if [ -n "${SHELL_DEBUG:-}" ]; then cat -A "$out"; fi
printf 'help\n' | "$QRUN" shell -n none >"$bad" 2>&1
rc=$?
check "shell: 'qrun shell' reads commands: help lists reboot" grep -q 'reboot' "$bad"
check "shell: 'qrun shell': EOF quits, exit 0 (got $rc)" [ "$rc" -eq 0 ]
