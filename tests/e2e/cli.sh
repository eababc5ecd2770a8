#!/bin/sh
# The command line (issue 15, issue 18 item 9). Each command takes only
# its own options: any other is one line naming the option and the
# command, then the command's usage, exit 125, and nothing changes. Every
# form accepted before still is. A typo of a command, a long option or a
# profile key names what it most likely meant. The bash completion offers
# each command its own options, the same as "qrun help COMMAND".
. "$(dirname "$0")/lib.sh"
need_root "cli"

netns_make NS
before=$(snapshot "$NS")
out=$TESTDIR/out
err=$TESTDIR/err
IMG=$TESTDIR/disk.img		# a raw disk image: boots in a dry run
truncate -s 1M "$IMG"

run() {
	in_ns "$NS" "$QRUN" "$@" >"$out" 2>"$err" </dev/null
}

# refused DESC CMD LINE ARGS...: exit 125, nothing on stdout, the
# namespace unchanged, and on stderr "qrun: LINE" then "usage: qrun CMD
# ..."; with CMD "-", that one line only.
refused() {
	_d=$1 _c=$2 _l=$3
	shift 3
	run "$@"
	_rc=$?
	if [ "$_rc" -eq 125 ] && [ ! -s "$out" ] &&
	    [ "$(sed -n 1p "$err")" = "qrun: $_l" ] &&
	    if [ "$_c" = - ]; then [ "$(wc -l <"$err")" -eq 1 ]; else
	    sed -n 2p "$err" | grep -q "^usage: qrun $_c\( \|\$\)"; fi &&
	    [ "$(snapshot "$NS")" = "$before" ]; then
		ok "$_d"
	else
		fail "$_d (exit $_rc: $(cat "$out" "$err"))"
	fi
}

# oneline DESC LINE ARGS...: refused with the one line "qrun: LINE".
oneline() {
	_o=$1
	shift
	refused "$_o" - "$@"
}

# accepted DESC REGEX ARGS...: exit 0, the output has a line matching REGEX.
accepted() {
	_d=$1 _w=$2
	shift 2
	run "$@"
	_rc=$?
	if [ "$_rc" -eq 0 ] && { [ -z "$_w" ] ||
	    cat "$out" "$err" | grep -Eq -- "$_w"; }; then
		ok "$_d"
	else
		fail "$_d (exit $_rc: $(cat "$out" "$err"))"
	fi
}

# --- options of other commands: refused with the command's usage --------
refused "boot --uplink" boot "boot: --uplink: not an option of boot" \
    boot --uplink eth1 "$IMG"
refused "--uplink, boot by default" boot \
    "boot: --uplink: not an option of boot" --uplink eth1 "$IMG"
refused "boot -i" boot "boot: -i: not an option of boot" boot -i "$IMG"
refused "status --owner" status "status: --owner: not an option of status" \
    status --owner x
refused "status -p (a short option)" status \
    "status: -p: not an option of status" status -p x
refused "check --dry-run (check changes nothing anyway)" check \
    "check: --dry-run: not an option of check" check --dry-run
refused "check --run" check "check: --run: not an option of check" \
    check --run ls
refused "tap list --json" "tap list" \
    "tap list: --json: not an option of tap list" tap list --json
refused "tap --json (tap is tap list)" "tap list" \
    "tap list: --json: not an option of tap list" tap --json
refused "tap delete --addr" "tap delete" \
    "tap delete: --addr: not an option of tap delete" \
    tap delete tap1 --addr 172.21.0.1/16
refused "tap create --uplink: no tap made" "tap create" \
    "tap create: --uplink: not an option of tap create" \
    tap create tap1 --owner root --uplink eth0
refused "bridge create --owner: no bridge made" "bridge create" \
    "bridge create: --owner: not an option of bridge create" \
    bridge create br0 --owner x
refused "bridge create --group (an abbreviation)" "bridge create" \
    "bridge create: --gr: not an option of bridge create" \
    bridge create br0 --gr x
refused "bridge list --uplink" "bridge list" \
    "bridge list: --uplink: not an option of bridge list" \
    bridge list --uplink eth0
refused "shell --dry-run" shell "shell: --dry-run: not an option of shell" \
    shell --dry-run
refused "qrun -i --timeout (a batch option)" shell \
    "shell: --timeout: not an option of shell" -i --timeout 5
refused "doctor -n" doctor "doctor: -n: not an option of doctor" doctor -n tap
refused "cleanup --json" cleanup "cleanup: --json: not an option of cleanup" \
    cleanup --json
refused "help --json" help "help: --json: not an option of help" help --json
refused "status with an argument" status "status: foo: unexpected argument" \
    status foo
refused "tap list with an argument" "tap list" \
    "tap list: tap1: unexpected argument" tap list tap1
refused "QEMU arguments for status" status \
    "status: --: takes no QEMU arguments" status -- -m 512
refused "an unknown short option" boot "-x: unknown option" -x "$IMG"
refused "an unknown long option, nothing like any" boot \
    "--frobnicate: unknown option" --frobnicate "$IMG"
refused "an ambiguous abbreviation" boot \
    "--t: ambiguous option (--tap, --timeout)" --t x "$IMG"

# --- did you mean --------------------------------------------------------
oneline "a command typo" \
    "stauts: no such command or file; did you mean status?" stauts
oneline "a command typo, options around it" \
    "chek: no such command or file; did you mean check?" -n none chek -q
oneline "a long option typo: one line" \
    "--timout: unknown option; did you mean --timeout?" \
    --timout 5 -n none --dry-run "$IMG"
oneline "a long option typo of status's own" \
    "--jsno: unknown option; did you mean --json?" status --jsno
oneline "an -o key typo" \
    "-o qemu.memroy: unknown key; did you mean qemu.memory?" \
    -o qemu.memroy=5 -n none --dry-run "$IMG"
printf 'qemu: {\n  memroy = 512;\n};\n' >"$TESTDIR/typo.conf"
oneline "a profile key typo: FILE:LINE" \
    "$TESTDIR/typo.conf:2: qemu.memroy: unknown key; did you mean qemu.memory?" \
    check -p "$TESTDIR/typo.conf"
oneline "help of a typo" "help stauts: no such command; did you mean status?" \
    help stauts
oneline "an ambiguous command prefix" "s: ambiguous command (status, shell)" s
oneline "an option without its argument" "-p: expected PROFILE" check -p
oneline "a flag with a value" "--json: takes no value" status --json=yes
oneline "a path is never taken for a typo" "./stauts: no such file" ./stauts
oneline "a word far from any command is an image" \
    "vmlinuz-9: no such file" -n none vmlinuz-9
cp "$IMG" "$TESTDIR/stauts"
(cd "$TESTDIR" && "$QRUN" -n none --dry-run stauts >"$out" 2>&1)
check "a file named like a typo is booted (exit $?)" \
    grep -q '^# image: stauts (raw disk)' "$out"

# --- every form accepted before -------------------------------------------
accepted "IMAGE then options" '^# image: ' "$IMG" --dry-run -n none
accepted "options then IMAGE" '^# image: ' --dry-run -n none "$IMG"
accepted "boot IMAGE, options around" '^# image: ' -n none boot "$IMG" \
    --dry-run
accepted "-- hands the rest to QEMU" ' -m 512 -display none$' \
    -n none --dry-run "$IMG" -- -m 512 -display none
accepted "--run takes the rest of the line, its own options too" \
    '^# image: ' -n none --dry-run "$IMG" --run sh -c 'exit 0' --uplink
accepted "-p PROFILE check" '^profile ok' \
    -p "$TOP/profiles/user-mode.conf" check
accepted "check -p PROFILE" '^profile ok' \
    check -p "$TOP/profiles/user-mode.conf"
accepted "check with key and batch options" \
    '^test\.timeout = 5.*# --timeout' check -n none -m 300 --timeout 5
accepted "a unique command prefix (chec)" '^profile ok' chec -n none
accepted "status --json" '^\[' status --json
accepted "stat (prefix) -q" '^PID ' stat -q
accepted "tap list" '^TAP ' tap list
accepted "tap (list by default)" '^TAP ' tap -v
accepted "bridge list" '.' bridge list
accepted "qrun -i (shell)" '' -i -n none
accepted "qrun shell" '' shell -n none -o qemu.accel=tcg
accepted "qrun -i after the options, with QEMU arguments" '' \
    -n none -i -- -m 512
accepted "qrun sh (prefix)" '' sh -n none
run doctor -p "$TOP/profiles/user-mode.conf" -o qemu.accel=tcg
check "doctor -p -o: runs its checks" grep -Eq '^[0-9]+ problems?, ' "$out"
accepted "help" '^usage: qrun \[OPTIONS\] IMAGE' help
accepted "-h" '^usage: qrun \[OPTIONS\] IMAGE' -h
accepted "help boot" '^usage: qrun boot \[-p PROFILE\]' help boot
accepted "boot -h: boot's help" '^usage: qrun boot ' boot -h
accepted "help tap create" '^usage: qrun tap create --owner USER' \
    help tap create
accepted "-V" '^qrun [0-9]' -V
check "nothing above changed the namespace" [ "$(snapshot "$NS")" = "$before" ]

# --- the bash completion offers what each command takes -------------------
# comp_opts CMD [VERB]: the options the completion offers, sorted.
comp_opts() {
	bash -c '. "$1"; _qrun_opts "$2" "$3"' sh \
	    "$TOP/scripts/qrun.bash-completion" "$1" "${2:-}" |
	    tr ' \t' '\n\n' | grep . | sort
}
# help_opts CMD [VERB]: the options "qrun help" lists, with the globals.
help_opts() {
	{
		"$QRUN" help "$@" | sed -n \
		    -e 's/^  \(-[a-zA-Z]\), \(--[a-z-]*\).*/\1\n\2/p' \
		    -e 's/^      \(--[a-z-]*\).*/\1/p'
		"$QRUN" help | sed -n \
		    's/^  \(-[qvVh]\), \(--[a-z-]*\).*/\1\n\2/p'
	} | sort
}
for c in boot shell check doctor status cleanup help "tap create" \
    "tap delete" "tap list" "bridge create" "bridge delete" "bridge list"; do
	# shellcheck disable=SC2086
	if [ "$(comp_opts $c)" = "$(help_opts $c)" ]; then
		ok "completion of $c: the options of qrun help $c"
	else
		# shellcheck disable=SC2086
		fail "completion of $c differs from qrun help $c: $(comp_opts $c |
		    tr '\n' ' ') / $(help_opts $c | tr '\n' ' ')"
	fi
done
want=$({ help_opts boot; echo -i; echo --interactive; } | sort)
check "completion with no command: boot's options and -i" \
    [ "$(comp_opts '')" = "$want" ]
comp_line() {
	bash -c '. "$1"; COMP_LINE=$2; COMP_POINT=${#2}; read -ra COMP_WORDS <<<"$2"
	    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _qrun; echo "${COMPREPLY[*]}"' \
	    sh "$TOP/scripts/qrun.bash-completion" "$1"
}
check "completion: qrun status --<TAB> is status's" \
    [ "$(comp_line 'qrun stat --')" = "--json --quiet --verbose --version --help" ]
check "completion: qrun -p x tap create t --<TAB> is tap create's" \
    [ "$(comp_line 'qrun -p x tap create t --')" = \
    "--owner --group --addr --quiet --verbose --version --help" ]
