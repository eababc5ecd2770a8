#!/bin/bash
# bench/shell.sh NS - the shell's numbers for make bench (issue 7), in the
# namespace NS that bench/run made: time from "boot" and from "reboot" to
# the Linux guest's ready line (median of RUNS each, interleaved in one
# shell), and the shell's own latency for "status" (median of 50).
# Prints "cold_ms reboot_ms status_ms".
set -u
NS=$1 RUNS=${2:-5}
TOP=$(cd "$(dirname "$0")/.." && pwd)
G=$TOP/.cache/guests
tmp=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null; kill "$spid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkfifo "$tmp/in"
ip netns exec "$NS" "$TOP/qrun" -i -q -n tap -t tap1 -o qemu.accel=tcg \
    --initrd "$G/initrd.gz" "$G/vmlinuz" <"$tmp/in" >"$tmp/out" 2>&1 &
spid=$!
exec 3>"$tmp/in"
ms() { echo $(($(date +%s%N) / 1000000)); }
# Send a command followed by a marker, return when the marker is echoed.
seq=0
run() {
	seq=$((seq + 1))
	printf '%s\nshow qemu.cpus\n' "$1" >&3
	until [ "$(grep -c '^qemu.cpus' "$tmp/out")" -ge "$seq" ]; do
		kill -0 "$spid" 2>/dev/null || return 1
		sleep 0.005
	done
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
cold=() reb=()
for _ in $(seq "$RUNS"); do
	t=$(ms); run "boot
wait QRUN-GUEST-READY 120" || exit 1; cold+=($(($(ms) - t)))
	t=$(ms); run "reboot
wait QRUN-GUEST-READY 120" || exit 1; reb+=($(($(ms) - t)))
done
# status: 50 round trips of "status" + marker, minus 50 of the marker alone
t=$(ms); for _ in $(seq 50); do run "status" || exit 1; done; a=$(($(ms) - t))
t=$(ms); for _ in $(seq 50); do run "" || exit 1; done; b=$(($(ms) - t))
printf 'quit\n' >&3
echo "$(printf '%s\n' "${cold[@]}" | median) $(printf '%s\n' "${reb[@]}" | median) $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", (a - b) / 50}')"
