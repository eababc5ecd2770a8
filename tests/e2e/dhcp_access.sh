#!/bin/sh
# Who may start the tap's dnsmasq (net.dhcp; qrun(1) Privileges). A copy
# of qrun with cap_net_admin,cap_net_bind_service,cap_net_raw starts it
# for a tap the access list grants, as the developer, with those three
# capabilities and nothing it could be made to read (a sealed memfd);
# it is gone when the run ends. With cap_net_admin alone, and for a
# developer without privileges on an admin-made tap, a default net.dhcp
# is skipped with a note and the run goes on; net.dhcp set explicitly is
# refused with one line, 125, nothing changed.
#
# Test users are created here and removed at exit; as in priv.sh an
# overlay puts the test's access.conf over /etc inside the namespace.
. "$(dirname "$0")/lib.sh"

need_root "dhcp_access"
need_guests "dhcp_access" "$GUESTS/mbtest.elf"
for c in setcap getcap setpriv useradd userdel; do
	command -v $c >/dev/null || { skip "dhcp_access: $c missing"; exit 0; }
done
[ -x /usr/sbin/dnsmasq ] || { skip "dhcp_access: needs dnsmasq-base"; exit 0; }

U1=qrd$$a
acc_cleanup() {
	_cleanup
	userdel "$U1" 2>/dev/null
}
trap acc_cleanup EXIT
useradd -M -N -s /usr/sbin/nologin "$U1" || { fail "dhcp_access: cannot create a test user"; exit 0; }

shared_dir W
mkdir -p "$W/bin" "$W/low/qrun" "$W/run1"
cp "$QRUN" "$W/bin/qrun3"
cp "$QRUN" "$W/bin/qrun1"
cp "$QRUN" "$W/bin/qrun0"
cp "$GUESTS/mbtest.elf" "$W/mbtest.elf"
chmod 755 "$W" "$W/bin"
chmod 644 "$W/mbtest.elf"
chown "$U1" "$W/run1"
chmod 700 "$W/run1"
if ! setcap cap_net_admin,cap_net_bind_service,cap_net_raw+ep "$W/bin/qrun3" 2>/dev/null ||
    ! setcap cap_net_admin+ep "$W/bin/qrun1" 2>/dev/null; then
	skip "dhcp_access: setcap does not work on $W"
	exit 0
fi
cat >"$W/low/qrun/access.conf" <<EOF
allow = ( { user = "$U1"; taps = [ "tap4" ]; } );
EOF
# QEMU's stand-in: what dnsmasq runs as and with, then exit 0.
cat >"$W/fake" <<'EOF'
#!/bin/sh
for p in $(pgrep -x dnsmasq); do
	echo "$(ps -o user= -p "$p") $(grep CapAmb /proc/$p/status)"
done >"$RUNDIR/seen"
exit 0
EOF
chmod 755 "$W/fake"
sed -i "s|\$RUNDIR|$W/run1|" "$W/fake"

cat >"$W/as.sh" <<'EOF'
low=$1 user=$2; shift 2
mount -t overlay -o lowerdir="$low":/etc none /etc || exit 3
mount -t tmpfs -o mode=755 none /run || exit 3
exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups "$@"
EOF

netns_make NS
# u1 QRUN ARGS...: that copy of qrun as U1.
u1() {
	_q=$1; shift
	in_ns "$NS" sh "$W/as.sh" "$W/low" "$U1" env -i PATH="$PATH" \
	    XDG_RUNTIME_DIR="$W/run1" "$W/bin/$_q" -n tap -t tap4 \
	    -o qemu.binary="$W/fake" -o qemu.accel=tcg "$@" "$W/mbtest.elf" \
	    >"$TESTDIR/out" 2>"$TESTDIR/err" </dev/null
}
no_dnsmasq() {
	! ip netns pids "$NS" | xargs -r ps -o comm= -p 2>/dev/null | grep -q dnsmasq
}
before=$(snap_stable "$NS")

# --- the three capabilities: dnsmasq for the granted tap --------------
rm -f "$W/run1/seen"
u1 qrun3
rc=$?
check "caps: the run succeeds (exit $rc: $(cat "$TESTDIR/err" | tr '\n' ' '))" [ "$rc" -eq 0 ]
seen=$(cat "$W/run1/seen" 2>/dev/null)
# CapAmb 0x3400: cap_net_bind_service (10), cap_net_admin (12), cap_net_raw (13)
check "caps: dnsmasq ran as $U1 with exactly those ambient caps ($seen)" \
    [ "$seen" = "$U1 CapAmb:	0000000000003400" ]
check "caps: no note about DHCP" sh -c "! grep -q 'no DHCP' '$TESTDIR/err'"
check "caps: no dnsmasq afterwards" no_dnsmasq
check "caps: no dnsmasq file left" sh -c "! ls '$W/run1/qrun' | grep -q dnsmasq"
check "caps: the namespace as before" same_as "$NS" "$before"

# --- cap_net_admin alone: a note, or 125 when asked for ---------------
u1 qrun1
rc=$?
check "cap_net_admin alone: runs (exit $rc) with a note" sh -c "[ $rc -eq 0 ] &&
    grep -q '^qrun[0-9]: note: tap4: no DHCP or DNS for the guest: dnsmasq needs cap_net_bind_service and cap_net_raw' '$TESTDIR/err'"
u1 qrun1 -o net.dhcp=true
rc=$?
check "cap_net_admin alone, net.dhcp set: 125, one line ($(cat "$TESTDIR/err"))" \
    sh -c "[ $rc -eq 125 ] && [ \$(wc -l <'$TESTDIR/err') -eq 1 ]"
check "... nothing changed" same_as "$NS" "$before"

# --- no privileges, an admin-made tap ---------------------------------
in_ns "$NS" ip tuntap add tap4 mode tap user "$U1"
in_ns "$NS" ip addr add 172.24.0.1/16 dev tap4
in_ns "$NS" ip addr add fd00:172:24::1/64 dev tap4 nodad
in_ns "$NS" ip link set tap4 up
before=$(snap_stable "$NS")
u1 qrun0
rc=$?
check "no privileges: runs (exit $rc: $(cat "$TESTDIR/err" | tr "\n" " ")) with a note naming sudo" sh -c "[ $rc -eq 0 ] &&
    grep -q '^qrun[0-9]: note: tap4: no DHCP or DNS for the guest: dnsmasq needs privileges.*sudo' '$TESTDIR/err'"
u1 qrun0 -o net.dns=true
rc=$?
check "no privileges, net.dns set: 125, one line ($(cat "$TESTDIR/err"))" \
    sh -c "[ $rc -eq 125 ] && [ \$(wc -l <'$TESTDIR/err') -eq 1 ]"
check "... the tap as before" same_as "$NS" "$before"
check "no privileges: no dnsmasq" no_dnsmasq
exit 0
