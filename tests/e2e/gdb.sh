#!/bin/sh
# --gdb, --gdb-wait (issue 19): QEMU's gdb stub on 127.0.0.1 only, on a
# socket qrun bound (a free port when none is given), the gdb command
# line printed, the port in status --json; --gdb-wait holds the guest
# until gdb continues it, and Debian's gdb reads its registers; a batch
# timeout keeps counting while it waits; a busy port: 125, one line,
# nothing left. No network: -n none.
. "$(dirname "$0")/lib.sh"
need_guests "gdb" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"
if ! command -v gdb >/dev/null; then
	skip "gdb: no gdb (apt-get install gdb)"
	exit 0
fi
G="-n none -o qemu.accel=tcg --initrd $GUESTS/initrd.gz"
LOG=$TESTDIR/serial.log E=$TESTDIR/err

"$QRUN" $G --gdb --gdb-wait --timeout 300 --serial-log "$LOG" \
    "$GUESTS/vmlinuz" </dev/null >/dev/null 2>"$E" &
q=$!
bg_track "$q"
wait_line "$E" "target remote" 30 || true
port=$(sed -n "s/.*target remote 127\.0\.0\.1:\([0-9]*\)'.*/\1/p" "$E")
check "--gdb: the gdb line printed, with a port ($port)" [ -n "$port" ]
check "--gdb: the vmlinux hint" grep -q "^qrun: gdb: gdb vmlinux -ex" "$E"
check "--gdb: listening on 127.0.0.1 only" sh -c \
    "ss -Hltn | grep -q ' 127\.0\.0\.1:$port ' && ! ss -Hltn | grep -Eq ' (0\.0\.0\.0|\*|\[::\]):$port '"
"$QRUN" status --json >"$TESTDIR/status"
check "status --json: the port" grep -q "\"gdb-port\":$port" "$TESTDIR/status"
sleep 2
check "--gdb-wait: the guest has not run (the console is empty)" \
    [ ! -s "$LOG" ]

# A busy port: the one this run holds.
"$QRUN" $G --gdb "$port" --timeout 30 "$GUESTS/vmlinuz" </dev/null \
    >/dev/null 2>"$TESTDIR/busy"
rc=$?
check "a busy gdb port -> 125" [ "$rc" -eq 125 ]
check "a busy port: one line" [ "$(wc -l <"$TESTDIR/busy")" -eq 1 ]
check "a busy port: says so" grep -q "port $port on 127.0.0.1 is in use" \
    "$TESTDIR/busy"

timeout 60 gdb -batch -nx -ex "target remote 127.0.0.1:$port" \
    -ex 'info registers rip' >"$TESTDIR/gdb" 2>&1
check "gdb reads the held guest's registers (rip)" \
    grep -Eq '^rip +0x[0-9a-f]+' "$TESTDIR/gdb"
# gdb -batch detaches at its end: the guest goes on.
check "after gdb let it go, the guest boots" \
    wait_line "$LOG" QRUN-GUEST-READY 90
kill -TERM "$q"
wait "$q" 2>/dev/null
check "--gdb: no journal left" no_journal

# A batch timeout keeps counting while the guest waits for gdb.
t0=$(date +%s)
"$QRUN" $G --gdb-wait --timeout 3 "$GUESTS/vmlinuz" </dev/null \
    >/dev/null 2>"$TESTDIR/wait"
rc=$? t1=$(date +%s)
check "--gdb-wait --timeout 3 with no gdb -> 124" [ "$rc" -eq 124 ]
check "--gdb-wait --timeout 3 took $((t1 - t0)) s" [ $((t1 - t0)) -le 8 ]

# --dry-run: the pasteable form on the port asked for, -S with wait.
"$QRUN" --dry-run -n none --gdb 1234 --gdb-wait "$GUESTS/vmlinuz" \
    >"$TESTDIR/dry" 2>&1
check "--dry-run --gdb 1234 --gdb-wait: -gdb tcp:127.0.0.1:1234 -S" \
    grep -q -- '-gdb tcp:127\.0\.0\.1:1234 -S' "$TESTDIR/dry"
