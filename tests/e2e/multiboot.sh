#!/bin/sh
# The multiboot test kernel and qrun's exit statuses (qrun(1) EXIT STATUS):
# success code -> 0, another debug-exit code -> 1, QEMU missing -> 127,
# not executable -> 126, bad images -> 125, QEMU failing -> 1.
. "$(dirname "$0")/lib.sh"

MB=$GUESTS/mbtest.elf
err=$TESTDIR/err

# run DESC WANT_RC WANT_TEXT ARGS...: qrun -n none ARGS, exit status WANT_RC
# and (unless empty) WANT_TEXT on stderr.
run() {
	_d=$1 _want=$2 _text=$3; shift 3
	timeout 60 "$QRUN" -n none -o qemu.accel=tcg "$@" >"$TESTDIR/out" \
	    2>"$err" </dev/null
	_rc=$?
	if [ "$_rc" -ne "$_want" ]; then
		fail "$_d (exit $_rc, want $_want: $(tail -n 3 "$err" | tr '\n' ' '))"
	elif [ -n "$_text" ] && ! grep -q -- "$_text" "$err"; then
		fail "$_d (no \"$_text\" in: $(tail -n 3 "$err" | tr '\n' ' '))"
	else
		ok "$_d"
	fi
}

run "multiboot: success code 3 -> 0" 0 "" \
    --success-code 3 -o 'qemu.append=exit=3' "$MB"
run "multiboot: debug-exit 4, success 3 -> 1" 1 "debug-exit code 4" \
    --success-code 3 -o 'qemu.append=exit=4' "$MB"
run "multiboot: QEMU missing -> 127" 127 "not found" \
    -o qemu.binary=/nonexistent/qemu "$MB"
printf '#!/bin/sh\nexit 0\n' >"$TESTDIR/noexec"
chmod 0644 "$TESTDIR/noexec"
run "multiboot: QEMU not executable -> 126" 126 "Permission denied" \
    -o "qemu.binary=$TESTDIR/noexec" "$MB"
run "image: missing -> 125" 125 "no such file" "$TESTDIR/nothere.elf"
: >"$TESTDIR/empty"
run "image: empty -> 125" 125 "empty" "$TESTDIR/empty"
mkdir "$TESTDIR/dir"
run "image: directory -> 125" 125 "Is a directory" "$TESTDIR/dir"
printf 'just some text, not a kernel\n' >"$TESTDIR/notes.txt"
run "image: unknown type -> 125" 125 "unknown image type" "$TESTDIR/notes.txt"
run "multiboot: QEMU fails (bad option) -> 1" 1 "status 1" \
    "$MB" -- -bogus-option
