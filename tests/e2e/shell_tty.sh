#!/bin/sh
# The shell on a real terminal (tmux): the prompt, tab completion, guest
# output arriving while a half-typed command is on the line, history, and
# Ctrl-C at the prompt (clears the line, the guest keeps running), and
# console (typing into the guest's shell, Ctrl-] detaches).
. "$(dirname "$0")/lib.sh"
if ! command -v tmux >/dev/null 2>&1; then
	skip "shell tty: no tmux"
	exit 0
fi
need_guests "shell tty" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

sock=qrun-tty-$$
T() { tmux -L "$sock" "$@"; }
pane() { T capture-pane -p | grep -v '^$'; }
last() { pane | tail -n 1; }
# until_pane REGEX SECS: until the pane shows REGEX.
until_pane() {
	_end=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt "$_end" ]; do
		pane | grep -Eq "$1" && return 0
		sleep 0.2
	done
	return 1
}
count() { pane | grep -Ec "$1"; }
# until_last LINE SECS [SESSION]: until the pane's last line is LINE.
# Every look at the pane waits, with a deadline, for what it expects:
# under load the terminal may lag the keys by more than any fixed sleep.
until_last() {
	_end=$(($(date +%s) + $2))
	while :; do
		_l=$(T capture-pane -p ${3:+-t "$3"} | grep -v '^$' | tail -n 1)
		[ "$_l" = "$1" ] && return 0
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}
# until_quiet SECS: until the pane's output (pane.log) has not grown for
# a second: the guest has finished printing and the line is redrawn.
until_quiet() {
	_end=$(($(date +%s) + $1))
	_s=-1
	while [ "$(date +%s)" -lt "$_end" ]; do
		_n=$(wc -c <"$TESTDIR/pane.log")
		[ "$_n" = "$_s" ] && return 0
		_s=$_n
		sleep 1
	done
	return 1
}
# check_last DESC LINE [SESSION]: ok when the last line becomes LINE
# within 10 s; the FAIL line shows what it was instead.
check_last() {
	if until_last "$2" 10 ${3:-}; then
		ok "$1"
	else
		fail "$1 ($(T capture-pane -p ${3:+-t "$3"} | grep -v '^$' | tail -n 1))"
	fi
}
cleanup_tmux() { T kill-server 2>/dev/null; }
trap 'cleanup_tmux; _cleanup' EXIT

export XDG_STATE_HOME="$TESTDIR/xdg"
mkdir -p "$QRUN_CONFIG_DIR"
echo 'qemu: { cpus = 1; };' > "$QRUN_CONFIG_DIR/mylab.conf"
T new-session -d -x 160 -y 50 "env QRUN_STATE_DIR='$QRUN_STATE_DIR' \
    QRUN_CONFIG_DIR='$QRUN_CONFIG_DIR' XDG_STATE_HOME='$XDG_STATE_HOME' \
    '$QRUN' -i -n user -o qemu.accel=tcg --initrd '$GUESTS/initrd.gz' \
    '$GUESTS/vmlinuz' 2>&1; echo QRUN-EXIT=\$?; sleep 60"
T pipe-pane -o "cat >>'$TESTDIR/pane.log'"
if until_pane '^qrun>$' 10; then ok "shell tty: prompt"
else fail "shell tty: prompt ($(last))"; fi

T send-keys 'reb' Tab
check_last "shell tty: reb<TAB> completes to reboot" "qrun> reboot"
T send-keys C-u 'profile myl' Tab
check_last "shell tty: profile myl<TAB> completes a profile name" \
    "qrun> profile mylab"
T send-keys C-u 'boot' Enter
until_pane 'QRUN-GUEST-READY' 60
# Half-typed command, then the guest prints a whole boot again: type it
# once the reboot is under way (under TCG a new QEMU), look once the
# second boot is complete and the line has been redrawn under it.
T send-keys 'reboot' Enter
until_pane '^(qrun: guest reset|TCG: restarting QEMU)' 10
T send-keys 'sta'
wait_cmd 60 sh -c "[ \$(grep -ac QRUN-GUEST-READY '$TESTDIR/pane.log') -ge 2 ]"
until_quiet 30
check_last "shell tty: guest output keeps the half-typed line" "qrun> sta"
T send-keys Enter
check "shell tty: sta<Enter> runs status" until_pane '^guest: running' 10
T send-keys Up
check_last "shell tty: Up recalls the last command" "qrun> sta"
T send-keys C-c
check_last "shell tty: Ctrl-C clears the line" "qrun>"
n=$(count '^guest: running')
T send-keys 'status' Enter
check "shell tty: guest still running after Ctrl-C" \
    wait_cmd 10 sh -c "[ \$(tmux -L '$sock' capture-pane -p | grep -c '^guest: running') -gt $n ]"
# console: a real attach; keys go to the guest's shell, Ctrl-] detaches.
T send-keys 'console' Enter
until_pane '^console attached' 5
T send-keys Enter
T send-keys 'echo hi-from-''console' Enter
if until_pane '^hi-from-console' 15; then
	ok "shell tty: console attach: the guest's shell echoes typed input"
else
	fail "shell tty: console attach: the guest's shell echoes typed input ($(last))"
fi
T send-keys 'C-]'
until_pane '^console detached' 5
check_last "shell tty: Ctrl-] detaches, the prompt returns" "qrun>"
T send-keys 'quit' Enter
until_pane 'QRUN-EXIT=' 20
if pane | grep -q 'QRUN-EXIT=0'; then ok "shell tty: quit exits 0"
else fail "shell tty: quit exits 0 ($(pane | grep QRUN-EXIT))"; fi
check "shell tty: history file written" \
    grep -qx reboot "$XDG_STATE_HOME/qrun/history"

# In a terminal each mistake is shown as it happens; quit still exits 0
# (qrun(1): only a script's failing commands set the exit status).
# pane_s SESSION: that session's pane, without empty lines.
pane_s() { T capture-pane -p -t "$1" | grep -v '^$'; }
until_pane_s() {
	_end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt "$_end" ]; do
		pane_s "$1" | grep -Eq "$2" && return 0
		sleep 0.2
	done
	return 1
}
T new-session -d -s typo -x 120 -y 20 "env QRUN_STATE_DIR='$QRUN_STATE_DIR' \
    QRUN_CONFIG_DIR='$QRUN_CONFIG_DIR' XDG_STATE_HOME='$XDG_STATE_HOME' \
    '$QRUN' -i -n none 2>&1; echo QRUN-EXIT=\$?; sleep 30"
until_pane_s typo '^qrun>' 10
T send-keys -t typo 'set qemu.memroy 1' Enter
until_pane_s typo 'unknown key' 10
T send-keys -t typo 'stauts' Enter
until_pane_s typo 'did you mean status' 10
T send-keys -t typo 'quit' Enter
if until_pane_s typo 'QRUN-EXIT=' 10 &&
    pane_s typo | grep -q 'unknown key' &&
    pane_s typo | grep -q 'QRUN-EXIT=0'; then
	ok "shell tty: mistakes shown, then quit exits 0"
else
	fail "shell tty: mistakes shown, then quit exits 0 ($(pane_s typo |
	    grep -E 'QRUN-EXIT|unknown key|did you mean' | tr '\n' ' '))"
fi

# Root acting for a developer (sudo): the history goes to the developer's
# home from the password database, written with their rights; a history
# path that points at a file of root's is not written through.
HUSER="qrh$$"
shared_dir HOMED	# removed by _cleanup, also if the script dies early
if useradd -M -N -d "$HOMED" -s /bin/sh "$HUSER" 2>/dev/null; then
	trap 'cleanup_tmux; userdel "$HUSER" 2>/dev/null; _cleanup' EXIT
	HUID=$(id -u "$HUSER") HGID=$(id -g "$HUSER")
	chown "$HUID:$HGID" "$HOMED"
	HIST=$HOMED/.local/state/qrun/history
	# sudo_shell NAME: a shell as root for the developer; types status
	# and quit; waits for its exit.
	sudo_shell() {
		T new-session -d -s "$1" -x 120 -y 20 "env -u XDG_STATE_HOME \
		    SUDO_UID=$HUID SUDO_GID=$HGID SUDO_USER=$HUSER HOME=/root \
		    '$QRUN' -i -n user 2>&1; echo QRUN-EXIT=\$?; sleep 30"
		_end=$(($(date +%s) + 10))
		until T capture-pane -p -t "$1" | grep -q '^qrun>'; do
			[ "$(date +%s)" -lt "$_end" ] || break
			sleep 0.2
		done
		T send-keys -t "$1" 'status' Enter 'quit' Enter
		_end=$(($(date +%s) + 10))
		until T capture-pane -p -t "$1" | grep -q 'QRUN-EXIT='; do
			[ "$(date +%s)" -lt "$_end" ] || break
			sleep 0.2
		done
		T capture-pane -p -t "$1" | grep -o 'QRUN-EXIT=[0-9]*'
	}
	out=$(sudo_shell sudo1)
	check "shell tty, sudo: quit exits 0 ($out)" [ "$out" = QRUN-EXIT=0 ]
	check "shell tty, sudo: history in the developer's home" \
	    grep -qx status "$HIST"
	check "shell tty, sudo: the history file is the developer's, 0600" \
	    [ "$(stat -c '%u %a' "$HIST" 2>/dev/null)" = "$HUID 600" ]
	# The developer points the history at a file only root may write.
	VICTIM=$TESTDIR/root-only
	echo root-data > "$VICTIM"
	chmod 600 "$VICTIM"
	rm -f "$HIST"
	ln -s "$VICTIM" "$HIST"
	out=$(sudo_shell sudo2)
	check "shell tty, sudo: symlinked history: quit exits 0 ($out)" \
	    [ "$out" = QRUN-EXIT=0 ]
	check "shell tty, sudo: a root-only file behind the history is untouched" \
	    [ "$(cat "$VICTIM"; stat -c %u "$VICTIM")" = "root-data
0" ]
	# Completion reads the developer's profiles with their rights too:
	# their own names complete, a directory only root may read does not
	# (in a directory anyone may enter: only its own 0700 keeps them out).
	rm -f "$HIST"
	mkdir -p "$HOMED/.config/qrun"
	: > "$HOMED/.config/qrun/userlab.conf"
	chown -R "$HUID:$HGID" "$HOMED/.config"
	shared_dir PUB
	mkdir -m 700 "$PUB/rootonly"
	: > "$PUB/rootonly/secretlab.conf"
	T new-session -d -s sudo3 -x 120 -y 20 "env SUDO_UID=$HUID \
	    SUDO_GID=$HGID SUDO_USER=$HUSER '$QRUN' -i -n user 2>&1; sleep 30"
	until_last "qrun>" 10 sudo3
	T send-keys -t sudo3 'profile user' Tab
	check_last "shell tty, sudo: the developer's profile names complete" \
	    "qrun> profile userlab" sudo3
	# The Z typed after Tab shows that Tab was handled: "secZ" when
	# nothing was completed.
	T send-keys -t sudo3 C-u "profile $PUB/rootonly/sec" Tab Z
	check_last "shell tty, sudo: a root-only directory lists nothing" \
	    "qrun> profile $PUB/rootonly/secZ" sudo3
	T send-keys -t sudo3 C-u 'quit' Enter
else
	skip "shell tty, sudo: cannot add a test user"
fi
