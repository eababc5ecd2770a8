#!/bin/sh
# Several NICs (net.extra, issue 17): a Linux guest with its main NIC on
# tap1 and one more on tap2 gets two netdevs, two MACs and two hint
# lines; both host sides are configured (tap1 172.21.0.1/16, tap2
# 172.22.0.1/16), the guest's two NICs carry the hinted MACs, and once
# the guest puts the second NIC's address on eth1 the host reaches the
# guest over each tap. Bad groups are refused with FILE:LINE. A run with
# a user-mode NIC and two on one switch takes two slots.
. "$(dirname "$0")/lib.sh"
need_root "extra"
need_guests "extra" "$GUESTS/vmlinuz" "$GUESTS/initrd.gz"

# The test guest plus /cgi-bin/nic: eth1's MAC, or with ?up its address.
INITRD=$TESTDIR/initrd.gz
mkdir -p "$TESTDIR/x/www/cgi-bin"
cat >"$TESTDIR/x/www/cgi-bin/nic" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
case $QUERY_STRING in
up) ip addr add 172.22.0.2/16 dev eth1 && ip link set eth1 up && echo done ;;
*) cat /sys/class/net/eth0/address /sys/class/net/eth1/address ;;
esac
CGI
chmod 0755 "$TESTDIR/x/www/cgi-bin/nic"
cp "$GUESTS/initrd.gz" "$INITRD"
(cd "$TESTDIR/x" && find www | cpio -o -H newc -R 0:0 --quiet) | gzip >>"$INITRD"

cat >"$TESTDIR/two.conf" <<'CONF'
net: {
  mode = "tap";
  tap = "tap1";
  extra = ( { mode = "tap"; tap = "tap2"; } );
};
CONF

netns_make NS
in_ns "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
before=$(snapshot "$NS")
ip netns exec "$NS" "$QRUN" -p "$TESTDIR/two.conf" -o qemu.accel=tcg \
    -o "qemu.append=console=ttyS0 no_timer_check" \
    --serial-log "$TESTDIR/g.log" --initrd "$INITRD" "$GUESTS/vmlinuz" \
    >"$TESTDIR/g.out" 2>"$TESTDIR/g.err" </dev/null &
qpid=$!
bg_track "$qpid"
if wait_line "$TESTDIR/g.log" QRUN-GUEST-READY 90; then
	ok "two NICs: guest ready"
else
	fail "two NICs: guest ready ($(tail -n 3 "$TESTDIR/g.err"))"
fi
m1=$(sed -n 's/^qrun: tap1 172\.21\.0\.1\/16 -> guest 172\.21\.0\.2 .* mac \([0-9a-f:]*\).*/\1/p' "$TESTDIR/g.err")
m2=$(sed -n 's/^qrun: tap2 172\.22\.0\.1\/16 -> guest 172\.22\.0\.2 .* mac \([0-9a-f:]*\).*/\1/p' "$TESTDIR/g.err")
check "two NICs: two hint lines, two MACs ($m1 $m2)" \
    sh -c "[ -n '$m1' ] && [ -n '$m2' ] && [ '$m1' != '$m2' ]"
check "two NICs: tap1 and tap2 carry their host addresses" sh -c "
    ip -n '$NS' -4 -o addr show dev tap1 | grep -q ' 172.21.0.1/16 ' &&
    ip -n '$NS' -4 -o addr show dev tap2 | grep -q ' 172.22.0.1/16 '"
macs=$(in_ns "$NS" wget -q -T 20 -O - http://172.21.0.2/cgi-bin/nic 2>&1 | tr '\n' ' ')
check "two NICs: the guest's eth0 and eth1 have the hinted MACs ($macs)" \
    [ "$macs" = "$m1 $m2 " ]
r=$(in_ns "$NS" wget -q -T 20 -O - "http://172.21.0.2/cgi-bin/nic?up" 2>&1)
check "two NICs: the guest configures eth1 ($r)" [ "$r" = done ]
check "two NICs: the host reaches the guest over tap1 and over tap2" sh -c "
    ip netns exec '$NS' ping -c 1 -W 3 172.21.0.2 >/dev/null &&
    ip netns exec '$NS' ping -c 1 -W 3 172.22.0.2 >/dev/null &&
    ip netns exec '$NS' ip neigh show 172.22.0.2 | grep -q 'dev tap2 lladdr $m2'"
kill -TERM "$qpid"
wait "$qpid" 2>/dev/null
check "two NICs: namespace as before" [ "$before" = "$(snapshot "$NS")" ]

printf 'net: {\n  extra = ( { mode = "tap"; tap = "tap 2"; },\n    { nope = 1; }, 5 );\n};\n' \
    >"$TESTDIR/bad.conf"
out=$("$QRUN" check -p "$TESTDIR/bad.conf" 2>&1)
rc=$?
case $out in
*"bad.conf:2: net.extra[1].tap: name contains whitespace"*"bad.conf:3: net.extra[2].nope: not a key of a NIC"*"bad.conf:3: net.extra[3]: expected a group"*)
	check "bad net.extra: every problem with FILE:LINE, exit 125 ($rc)" [ "$rc" -eq 125 ] ;;
*) fail "bad net.extra: every problem with FILE:LINE ($out)" ;;
esac
printf 'net: { tap = "tap1"; mode = "tap"; extra = ( { mode = "tap"; tap = "tap1"; } ); };\n' \
    >"$TESTDIR/dup.conf"
out=$("$QRUN" check -p "$TESTDIR/dup.conf" 2>&1)
case $out in
*"net.extra[1]: tap tap1 is NIC 1's already"*) ok "net.extra: one tap twice is refused" ;;
*) fail "net.extra: one tap twice is refused ($out)" ;;
esac

# A user-mode main NIC and two more on switch 2: each extra NIC takes its
# own slot (qtap2-1, qtap2-2), three hint lines, the run passes, and the
# namespace is as before.
printf 'net: { mode = "user";\n  extra = ( { mode = "switch"; tap = "tap2"; },\n    { mode = "switch"; tap = "tap2"; } ); };\n' \
    >"$TESTDIR/sw.conf"
before=$(snapshot "$NS")
in_ns "$NS" "$QRUN" -p "$TESTDIR/sw.conf" -o qemu.accel=tcg --timeout 60 \
    --success-code 0 -o 'qemu.append=lines=1 exit=0' "$GUESTS/mbtest.elf" \
    </dev/null >"$TESTDIR/sw.out" 2>&1
rc=$?
check "user + two switch NICs: the run passes (exit $rc)" [ "$rc" -eq 0 ]
n=$(grep -c -e '^qrun: user-mode network' \
    -e '^qrun: qtap2-1 on qbr2 172.22.0.1/16 slot 1 -> guest 172.22.0.2 ' \
    -e '^qrun: qtap2-2 on qbr2 172.22.0.1/16 slot 2 -> guest 172.22.0.3 ' "$TESTDIR/sw.out")
check "user + two switch NICs: three hint lines, two slots (got $n)" [ "$n" -eq 3 ]
check "user + two switch NICs: namespace as before" [ "$before" = "$(snapshot "$NS")" ]
