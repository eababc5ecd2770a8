# bench/switch.sh - sourced by bench/run: developer switches (issue 17).
#
# Slot take and release (bench/slots.c, slot.c as linked into qrun): the
# mean cost with 200 slots of the switch held vs none (and vs 1), target
# <= 1.1x: finding the first free slot must not grow with the held ones.
#
# Density: 32 batch runs of the multiboot test kernel (QEMU real, TCG) at
# once on one switch in a namespace of their own: all must pass and leave
# nothing (links, addresses, rules, journals, slot index). A run's setup
# is the time from its start to QEMU's exec (a wrapper named as
# qemu.binary stamps it, then runs QEMU); p50 and p95 of the 32 against a
# single run joining a switch another run holds (target p95 <= 2x). The
# The same 32 with QEMU a 2 s sleep show the launcher's own share. The
# switch's first run (it makes qbr1) and last run (it removes it) are
# timed apart, by sequential runs on an idle switch: setup, and teardown
# (QEMU's exit to qrun's).

NSW=qrbenchsw-$$
sw_ns() { ip netns exec "$NSW" "$@"; }
sw_snap() { sw_ns sh -c 'ip -d link; ip addr; ip route; ip rule'; }

# sw_run ID [ARGS]: one batch run on switch 1, stamped into $SWD/ID.*;
# QEMU is $SWQ (the stamping wrapper, or one that only sleeps)
sw_run() {
	_id=$1
	shift
	date +%s%N >"$SWD/$_id.t0"
	BENCH_ID=$_id BENCH_STAMPS=$SWD ip netns exec "$NSW" "$QRUN" -n switch \
	    -t tap1 -o qemu.accel=tcg -o qemu.binary="$SWQ" --timeout 120 \
	    --success-code 0 -o 'qemu.append=lines=3 exit=0' "$@" "$MB" \
	    </dev/null >"$SWD/$_id.out" 2>&1
	echo $? >"$SWD/$_id.rc"
	date +%s%N >"$SWD/$_id.t1"
}

# sw_ms ID A B: (B - A) of run ID in ms
sw_ms() {
	awk -v a="$(cat "$SWD/$1.$2")" -v b="$(cat "$SWD/$1.$3")" \
	    'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'
}

# sw_pct P FILE: the P-th percentile (nearest rank) of the numbers in FILE
sw_pct() {
	sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END {
		i = int((p / 100) * NR + 0.999); if (i < 1) i = 1; print v[i] }'
}

sw_bench() {
	SWD=$TMP/switch
	mkdir -p "$SWD"
	cat >"$SWD/qemu" <<'WRAP'
#!/bin/sh
date +%s%N >"$BENCH_STAMPS/$BENCH_ID.q0"
qemu-system-x86_64 "$@"
rc=$?
date +%s%N >"$BENCH_STAMPS/$BENCH_ID.q1"
exit $rc
WRAP
	printf '#!/bin/sh\ndate +%%s%%N >"$BENCH_STAMPS/$BENCH_ID.q0"\nsleep 2\n' \
	    >"$SWD/qemu-sleep"
	chmod 0755 "$SWD/qemu" "$SWD/qemu-sleep"
	SWQ=$SWD/qemu
	ip netns add "$NSW" || return 1
	sw_ns ip link set lo up
	sw_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1
	before=$(sw_snap)
	sems=$(ipcs -s | wc -l)

	# the launcher alone: 32 at once, QEMU a 2 s sleep (no guest: their
	# exit status is not looked at), so only qrun competes for the CPUs
	SWQ=$SWD/qemu-sleep
	for i in $(seq 1 32); do sw_run "l$i" & done
	wait
	: >"$SWD/launch"
	for i in $(seq 1 32); do sw_ms "l$i" t0 q0 >>"$SWD/launch"; done
	SWQ=$SWD/qemu

	# slots: 200 held vs none, vs 1
	if set -- $("$TOP/build/slotbench" -n 1000 -r 15 -H 200 "$SWD") &&
	    [ "$1" = slots ]; then
		say "slots: take+release us: none $2, 1 held $3, 200 held $4"
		row "switch: slot take+release, 200 held / none" "$4" "$2" 1.1
		row "  (200 held / 1 held)" "$4" "$3" 1.1
	else
		note "switch: slot take+release" "broken" "<= 1.1x" "SKIP"
	fi

	# the first and the last run: alone on an idle switch
	: >"$SWD/first" ; : >"$SWD/last"
	for i in 1 2 3 4 5; do
		sw_run "f$i"
		sw_ms "f$i" t0 q0 >>"$SWD/first"
		sw_ms "f$i" q1 t1 >>"$SWD/last"
	done
	# a single run joining a switch another run holds
	ip netns exec "$NSW" "$QRUN" -n switch -t tap1 -o qemu.accel=tcg --timeout 300 \
	    -o 'qemu.append=hang' "$MB" </dev/null >/dev/null 2>&1 &
	BGPID=$!
	sleep 1
	: >"$SWD/single" ; : >"$SWD/leave"
	for i in 1 2 3 4 5; do
		sw_run "s$i"
		sw_ms "s$i" t0 q0 >>"$SWD/single"
		sw_ms "s$i" q1 t1 >>"$SWD/leave"
	done
	kill -TERM "$BGPID"; wait "$BGPID" 2>/dev/null; BGPID=

	# 32 at once
	say "switch density: 32 batch runs of mbtest at once on qbr1 (TCG)"
	for i in $(seq 1 32); do sw_run "d$i" & done
	wait
	: >"$SWD/dens"
	fails=0
	for i in $(seq 1 32); do
		[ "$(cat "$SWD/d$i.rc")" = 0 ] || fails=$((fails + 1))
		sw_ms "d$i" t0 q0 >>"$SWD/dens"
	done
	slots=$(sed -n 's/^qrun: qtap1-[0-9]* on qbr1 .* slot \([0-9]*\) .*/\1/p' \
	    "$SWD"/d*.out | sort -u | wc -l)
	leaks=0
	[ "$before" = "$(sw_snap)" ] || leaks=$((leaks + 1))
	ls "$QRUN_STATE_DIR"/run-*.journal >/dev/null 2>&1 && leaks=$((leaks + 1))
	[ "$(ipcs -s | wc -l)" = "$sems" ] || leaks=$((leaks + 1))
	ip netns del "$NSW"
	single=$(sw_pct 50 "$SWD/single")
	note "switch density: runs passed of 32" "$((32 - fails))" "32" \
	    "$([ $fails = 0 ] && echo PASS || echo MISS)"
	note "  distinct slots, leaks" "$slots, $leaks" "32, 0" \
	    "$([ "$slots" = 32 ] && [ $leaks = 0 ] && echo PASS || echo MISS)"
	note "  single run setup (joins), ms" "$single" "-" "-"
	row "  setup p50 of 32 / single" "$(sw_pct 50 "$SWD/dens")" "$single" -
	row "  setup p95 of 32 / single" "$(sw_pct 95 "$SWD/dens")" "$single" 2
	row "  (launcher alone: p50 of 32 / single)" "$(sw_pct 50 "$SWD/launch")" "$single" -
	row "  (launcher alone: p95 of 32 / single)" "$(sw_pct 95 "$SWD/launch")" "$single" 2
	row "  first run setup (makes qbr1) / single" "$(sw_pct 50 "$SWD/first")" "$single" -
	row "  last run teardown (removes qbr1) / other" "$(sw_pct 50 "$SWD/last")" "$(sw_pct 50 "$SWD/leave")" -
}

if ! skipping switch; then
	sw_bench
fi
