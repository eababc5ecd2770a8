#!/bin/sh
# --ktap and --junit (issue 19): the guest's KTAP report read from the
# console, its counts and failures printed, the exit status (1 on a
# failure, 0 all passed, 124 cut by --timeout naming the last test
# reached), the JUnit file read back by python's XML parser; a complete
# report ends the run; --junit where the developer may not write: 125,
# nothing made. First through a stand-in QEMU that prints a console,
# then the Linux test guest running a script that prints the report
# (its /mnt/qrun-init, put into the initrd here; share.sh ships it over
# --share). No network: -n none.
. "$(dirname "$0")/lib.sh"

MB=$GUESTS/mbtest.elf
need_guests "ktap" "$MB"
CHECK=$TOP/tests/golden/ktap/junit-check.py
O=$TESTDIR/out E=$TESTDIR/err

# The report of the tests: nested suites, a skip, an xfail, one failure,
# a test outside any suite; kernel lines in between.
cat >"$TESTDIR/report1" <<'EOF'
KTAP version 1
1..3
    KTAP version 1
    # Subtest: net-core
    1..3
    ok 1 dev_addr_lists
    ok 2 skb_frag # SKIP no frags here
[    2.000000] random: crng init done
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
EOF
# All passing.
cat >"$TESTDIR/report2" <<'EOF'
TAP version 13
1..2
ok 1 first
ok 2 second
EOF
# Cut: the second suite never finishes.
cat >"$TESTDIR/report3" <<'EOF'
KTAP version 1
1..2
    KTAP version 1
    # Subtest: quick
    1..1
    ok 1 quick_case
ok 1 quick
    KTAP version 1
    # Subtest: slow
    1..2
    ok 1 slow_first
EOF

# run CMD...: stdout in $O, stderr in $E, exit status in rc.
run() {
	"$@" </dev/null >"$O" 2>"$E"
	rc=$?
}

# junit FILE WANT: junit-check.py's totals of FILE are WANT.
junit() {
	_j=$(python3 "$CHECK" "$1" 2>&1)
	if [ "$_j" = "$2" ]; then
		ok "$3: JUnit parses: $_j"
	else
		fail "$3: JUnit: '$_j', want '$2'"
	fi
}

# --- a stand-in QEMU printing the console --------------------------------
FAKE=$TESTDIR/qemu-cat
cat >"$FAKE" <<'EOF'
#!/bin/sh
cat "$KTAP_CONSOLE"
[ -n "$KTAP_HANG" ] && exec sleep "$KTAP_HANG"
exit 0
EOF
chmod 0755 "$FAKE"
F="$QRUN -q -n none -o qemu.accel=tcg -o qemu.binary=$FAKE"

KTAP_CONSOLE=$TESTDIR/report1 run $F --ktap --junit "$TESTDIR/j1.xml" "$MB"
check "stand-in: a failure -> exit 1" [ "$rc" -eq 1 ]
check "stand-in: counts 3 passed, 1 failed, 2 skipped" \
    grep -qx '3 passed, 1 failed, 2 skipped' "$O"
check "stand-in: the failure named with its diagnostic" sh -c \
    "grep -A1 -x 'FAIL net-core.gso_segment' '$O' | grep -q 'got 3\$'"
junit "$TESTDIR/j1.xml" 'suites=3 tests=6 failures=1 skipped=2' stand-in

KTAP_CONSOLE=$TESTDIR/report2 run $F --junit "$TESTDIR/j2.xml" "$MB"
check "stand-in: all passed (TAP 13, --junit alone) -> 0" [ "$rc" -eq 0 ]
check "stand-in: 2 passed" grep -qx '2 passed, 0 failed, 0 skipped' "$O"
junit "$TESTDIR/j2.xml" 'suites=1 tests=2 failures=0 skipped=0' "all passed"

KTAP_CONSOLE=/dev/null run $F --ktap "$MB"
check "stand-in: no report at all -> 1" [ "$rc" -eq 1 ]
check "stand-in: no report says so" \
    grep -qx 'no KTAP or TAP report on the console' "$O"

t0=$(date +%s)
KTAP_CONSOLE=$TESTDIR/report2 KTAP_HANG=60 run $F --ktap --timeout 30 "$MB"
t1=$(date +%s)
check "stand-in: a complete report -> 0" [ "$rc" -eq 0 ]
check "stand-in: a complete report ends the run ($((t1 - t0)) s)" \
    [ $((t1 - t0)) -lt 10 ]

KTAP_CONSOLE=$TESTDIR/report3 KTAP_HANG=60 run $F --ktap --timeout 2 \
    --junit "$TESTDIR/j3.xml" "$MB"
check "stand-in: cut by --timeout -> 124" [ "$rc" -eq 124 ]
check "stand-in: cut: the last test reached named" \
    grep -qx 'report cut short; last test reached: slow.slow_first' "$O"
check "stand-in: cut: timeout said" grep -q '^qrun: timeout after 2 s' "$E"
check "stand-in: cut: the test never run counted failed" \
    grep -qx '2 passed, 1 failed, 0 skipped' "$O"
junit "$TESTDIR/j3.xml" 'suites=2 tests=3 failures=1 skipped=0' "cut"

# A run that never got to the guest leaves no JUnit file it made.
run $QRUN -q -n none -o qemu.binary=/nonexistent/qemu --ktap \
    --junit "$TESTDIR/never.xml" "$MB"
check "QEMU not found -> 127" [ "$rc" -eq 127 ]
check "QEMU not found: no JUnit file left" [ ! -e "$TESTDIR/never.xml" ]

# --junit where the developer may not write: as root for nobody (sudo).
mkdir -m 0755 "$TESTDIR/rootonly"
chmod 0711 "$TESTDIR"
KTAP_CONSOLE=$TESTDIR/report2 run env SUDO_UID="$(id -u nobody)" \
    SUDO_GID="$(id -g nobody)" SUDO_USER=nobody $F \
    --junit "$TESTDIR/rootonly/j.xml" "$MB"
if [ "$(id -u)" -ne 0 ]; then
	skip "--junit unwritable: needs root to act for nobody"
else
	check "--junit in a directory nobody may not write -> 125" \
	    [ "$rc" -eq 125 ]
	check "--junit unwritable: one line" [ "$(wc -l <"$E")" -eq 1 ]
	check "--junit unwritable: naming the file" grep -q "rootonly/j.xml" "$E"
	check "--junit unwritable: nothing made" \
	    [ -z "$(ls -A "$TESTDIR/rootonly")" ]
fi
chmod 0700 "$TESTDIR"

# --- the Linux test guest: its /mnt/qrun-init prints the report -----------
need_guests "ktap guest" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"
# guest_report N OUT: the test guest with a qrun-init printing report N,
# then powering off (report 3: hanging instead).
guest_report() {
	_d=$TESTDIR/extra$1
	mkdir -p "$_d/mnt"
	{
		echo '#!/bin/sh'
		echo "cat <<'EOF'"
		cat "$TESTDIR/report$1"
		echo 'EOF'
		if [ "$1" = 3 ]; then echo 'sleep 600'; else echo 'poweroff -f'; fi
	} >"$_d/mnt/qrun-init"
	chmod 0755 "$_d/mnt/qrun-init"
	cp "$GUESTS/initrd.gz" "$2"
	(cd "$_d" && find mnt | cpio -o -H newc -R 0:0 --quiet) | gzip >>"$2"
}
G="$QRUN -q -n none -o qemu.accel=tcg $GUESTS/vmlinuz"

guest_report 1 "$TESTDIR/i1.gz"
run $G --initrd "$TESTDIR/i1.gz" --ktap --timeout 120 \
    --junit "$TESTDIR/g1.xml"
check "guest: a failure -> exit 1" [ "$rc" -eq 1 ]
check "guest: counts 3 passed, 1 failed, 2 skipped" \
    grep -qx '3 passed, 1 failed, 2 skipped' "$O"
junit "$TESTDIR/g1.xml" 'suites=3 tests=6 failures=1 skipped=2' guest

guest_report 2 "$TESTDIR/i2.gz"
run $G --initrd "$TESTDIR/i2.gz" --ktap --timeout 120
check "guest: all passed -> 0" [ "$rc" -eq 0 ]
check "guest: 2 passed" grep -qx '2 passed, 0 failed, 0 skipped' "$O"

guest_report 3 "$TESTDIR/i3.gz"
run $G --initrd "$TESTDIR/i3.gz" --ktap --timeout 25
check "guest: cut by --timeout -> 124" [ "$rc" -eq 124 ]
check "guest: cut: the last test reached named" \
    grep -qx 'report cut short; last test reached: slow.slow_first' "$O"
