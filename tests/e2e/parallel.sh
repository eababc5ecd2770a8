#!/bin/sh
# Parallel runs without collisions (issue 17): eight user-mode runs with
# the forward "tcp:0:80" at once: qrun picks eight distinct free host
# ports, says each in the hint, status --json and QRUN_PORT_80, and each
# port reaches its own guest; four batch runs with net.tap "auto" take
# four distinct taps.
. "$(dirname "$0")/lib.sh"
need_root "parallel"
need_guests "parallel" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

# The test guest plus /cgi-bin/id: its kernel command line, which names
# the run (qrun_id=N).
INITRD=$TESTDIR/initrd.gz
mkdir -p "$TESTDIR/extra/www/cgi-bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\ncat /proc/cmdline\n' \
    >"$TESTDIR/extra/www/cgi-bin/id"
chmod 0755 "$TESTDIR/extra/www/cgi-bin/id"
cp "$GUESTS/initrd.gz" "$INITRD"
(cd "$TESTDIR/extra" && find www | cpio -o -H newc -R 0:0 --quiet) | gzip >>"$INITRD"

netns_make NS
before=$(snapshot "$NS")
pids=""
for i in 1 2 3 4 5 6 7 8; do
	ip netns exec "$NS" "$QRUN" -n user -o net.forwards=tcp:0:80 \
	    -o qemu.accel=tcg -o "qemu.append=console=ttyS0 no_timer_check qrun_id=$i" \
	    --serial-log "$TESTDIR/u$i.log" --initrd "$INITRD" "$GUESTS/vmlinuz" \
	    --run sh -c 'echo "QRUN_PORT_80=$QRUN_PORT_80"; sleep 600' \
	    >"$TESTDIR/u$i.out" 2>"$TESTDIR/u$i.err" </dev/null &
	bg_track $!
	pids="$pids $!"
done
ports=""
for i in 1 2 3 4 5 6 7 8; do
	if ! wait_line "$TESTDIR/u$i.out" '^QRUN_PORT_80=' 300; then
		fail "u$i: ready with QRUN_PORT_80 ($(tail -n 2 "$TESTDIR/u$i.err"))"
		continue
	fi
	# eight TCG guests at once on a loaded host: be patient
	if ! wait_line "$TESTDIR/u$i.log" QRUN-GUEST-READY 300; then
		fail "u$i: guest ready in 300 s"
		tail -n 15 "$TESTDIR/u$i.log" | sed 's/^/#   /'
	fi
	p=$(sed -n 's/^QRUN_PORT_80=//p' "$TESTDIR/u$i.out")
	ports="$ports $p"
	check "u$i: the hint names port $p" \
	    grep -q "tcp 127.0.0.1:$p -> guest 80" "$TESTDIR/u$i.err"
	id=$(in_ns "$NS" timeout 20 wget -q -T 10 -O - "http://127.0.0.1:$p/cgi-bin/id" 2>&1)
	case $id in
	*"qrun_id=$i"*) ok "u$i: port $p reaches its own guest" ;;
	*) fail "u$i: port $p reaches its own guest (got: $id)" ;;
	esac
done
n=$(echo $ports | tr ' ' '\n' | grep -c '^[0-9][0-9]*$')
d=$(echo $ports | tr ' ' '\n' | grep . | sort -u | wc -l)
check "eight distinct host ports ($ports)" [ "$n$d" = 88 ]
js=$(in_ns "$NS" "$QRUN" status --json 2>&1 | tr -d ' \n\t')
set -- $ports
case $js in
*"\"port-80\":\"$1\""*) ok "status --json: port-80 of a run" ;;
*) fail "status --json: port-80 of a run ($js)" ;;
esac
for p in $pids; do kill -TERM "$p" 2>/dev/null; done
for p in $pids; do wait "$p" 2>/dev/null; done
check "namespace unchanged after eight user-mode runs" [ "$before" = "$(snapshot "$NS")" ]

# net.tap "auto" in parallel: four batch runs of the multiboot kernel take
# four distinct taps (the first free of tap0..tap11, tapN's addresses),
# all pass, and the namespace is as before.
netns_make NT
in_ns "$NT" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
before=$(snapshot "$NT")
pids=""
for i in 1 2 3 4; do
	ip netns exec "$NT" "$QRUN" -n tap -t auto -o qemu.accel=tcg \
	    --timeout 60 --success-code 0 -o 'qemu.append=lines=3 exit=0' \
	    "$GUESTS/mbtest.elf" >"$TESTDIR/a$i.out" 2>&1 </dev/null &
	bg_track $!
	pids="$pids $!"
done
rcs=""
for p in $pids; do wait "$p"; rcs="$rcs$?"; done
check "tap auto: four parallel batch runs pass (exits $rcs)" [ "$rcs" = 0000 ]
taps=$(sed -n 's/^qrun: \(tap[0-9]*\) 172\.\([0-9]*\)\.0\.1\/16 -> guest 172\.\2\.0\.2 .*/\1/p' \
    "$TESTDIR"/a*.out | sort -u | tr '\n' ' ')
check "tap auto: four distinct taps with their lab addresses ($taps)" \
    [ "$taps" = "tap0 tap1 tap2 tap3 " ]
check "tap auto: namespace as before" [ "$before" = "$(snapshot "$NT")" ]
expect_rc 125 "tap auto: with net.host_addr set is refused" \
    in_ns "$NT" "$QRUN" -n tap -t auto -o net.host_addr=10.9.0.1/24 \
    --dry-run "$GUESTS/mbtest.elf"
