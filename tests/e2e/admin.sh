#!/bin/sh
# qrun tap create|delete|list, the admin's replacement for tap_create, and
# the command line's own bad input: each refusal is one clear line, exit
# 125, and leaves the namespace as it was.
. "$(dirname "$0")/lib.sh"
need_root "admin"

netns_make NS
initial=$(snapshot "$NS")
before=$initial
out=$TESTDIR/out

# refused DESC WANT ARGS...: exit 125, one "qrun: " line containing WANT,
# namespace unchanged.
refused() {
	_d=$1 _w=$2
	shift 2
	in_ns "$NS" "$QRUN" "$@" >"$out" 2>&1
	_rc=$?
	if [ "$_rc" -eq 125 ] && [ "$(wc -l <"$out")" -eq 1 ] &&
	    grep -q "^qrun: .*$_w" "$out" &&
	    [ "$(snapshot "$NS")" = "$before" ]; then
		ok "$_d"
	else
		fail "$_d (exit $_rc: $(cat "$out"))"
	fi
}

refused "tap create without --owner" "--owner USER is required" \
    tap create tap1
refused "tap create for an unknown user" "no such user" \
    tap create tap1 --owner no-such-user-qrun
refused "tap create with a bad --addr" "--addr 172.21.0.1: must be" \
    tap create tap1 --owner root --addr 172.21.0.1
refused "tap create with a bad name" "name too long" \
    tap create abcdefghijklmnopq --owner root
refused "tap delete of a missing tap" "tap9: no such tap" tap delete tap9
refused "tap create for an unknown group" "--group no-such-group-qrun: no such group" \
    tap create tap1 --owner root --group no-such-group-qrun
refused "tap frobnicate" "use create, delete or list" tap frobnicate tap1
refused "an unknown -o key" "-o net.tapp: unknown key" \
    -o net.tapp=x --dry-run "$GUESTS/mbtest.elf"
refused "help for no such command" "help zz: no such command" help zz
refused "no image" "no image given" -n none

# create, list, use as is, delete
check "tap create tap1 --owner nobody --addr 172.21.0.1/16" \
    in_ns "$NS" "$QRUN" tap create tap1 --owner nobody --addr 172.21.0.1/16
nobody=$(id -u nobody)
in_ns "$NS" "$QRUN" tap list >"$out" 2>&1
check "tap list: tap1, owner nobody, no group (-), up, 172.21.0.1/16" grep -Eq \
    "^tap1 +nobody +- +up +172\.21\.0\.1/16" "$out"
before=$(snapshot "$NS")
check "tap create again: nothing to do (exit 0)" \
    in_ns "$NS" "$QRUN" tap create tap1 --owner nobody --addr 172.21.0.1/16
check "tap create again: namespace unchanged" [ "$(snapshot "$NS")" = "$before" ]
refused "tap create of another user's tap" "owned by uid $nobody" \
    tap create tap1 --owner root
# --group: TUNSETGROUP, so the group's members may open the tap too
ngid=$(getent group nogroup | cut -d: -f3)
check "tap create tap2 --owner nobody --group nogroup" \
    in_ns "$NS" "$QRUN" tap create tap2 --owner nobody --group nogroup
check "tap2 carries group nogroup (ip -d link)" sh -c \
    "ip netns exec '$NS' ip -d link show tap2 | grep -q 'user nobody group nogroup'"
in_ns "$NS" "$QRUN" tap list >"$out" 2>&1
check "tap list: tap2, owner nobody, group nogroup (names)" grep -Eq \
    "^tap2 +nobody +nogroup +" "$out"
before=$(snapshot "$NS")
refused "tap create of tap2 with another group" "tap2: exists, group $ngid" \
    tap create tap2 --owner nobody --group root
check "tap delete tap2" in_ns "$NS" "$QRUN" tap delete tap2
in_ns "$NS" ip link add v0 type veth peer name v1
before=$(snapshot "$NS")
refused "tap delete of a veth" "v0: not a tap" tap delete v0
check "tap delete tap1" in_ns "$NS" "$QRUN" tap delete tap1
in_ns "$NS" ip link del v0
check "namespace as before tap create" [ "$(snapshot "$NS")" = "$initial" ]
