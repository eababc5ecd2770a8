# bench/ready.sh - sourced by bench/run: readiness (issue 9).
# Boots the Linux guest on tap1 with --ready ping and --run date, NSLOW
# times.  Boot-to-ready: from just before qrun starts to the moment the
# --run command runs (date's own clock).  Ready delay: from the first ICMP
# echo reply the host kernel sees (tcpdump -i any in the namespace, host
# clock; QEMU 7.2's filter-dump stamps packets with the guest's virtual
# clock plus a start time in whole seconds, useless at this scale) to that
# same moment.  Skips loudly when --ready is missing or does not work.

ready_run() {	# ready_run I: one boot; prints "T0 STAMP REPLY RC"
	ip netns exec "$NS0" tcpdump -i any --immediate-mode -tt -n -l -c 1 \
	    'icmp[icmptype] == icmp-echoreply' > "$TMP/r$1.dump" 2>"$TMP/r$1.tderr" &
	tdpid=$!
	sleep 0.5	# tcpdump listening
	t0=$(date +%s.%N)
	ip netns exec "$NS0" "$QRUN" -n tap -t tap1 -o qemu.accel=tcg \
	    --timeout 60 --ready ping ${READY_ARGS:-} \
	    --initrd "$G/initrd.gz" "$G/vmlinuz" --run date +%s.%N \
	    < /dev/null > "$TMP/r$1.out" 2> "$TMP/r$1.err"
	rc=$?
	sleep 0.2
	kill "$tdpid" 2>/dev/null
	wait "$tdpid" 2>/dev/null
	# date's line may follow the guest's prompt on the console's line
	stamp=$(tr -d '\r' < "$TMP/r$1.out" | grep -Eo '[0-9]{10}\.[0-9]{9}' | tail -1)
	reply=$(head -1 "$TMP/r$1.dump" | cut -d' ' -f1)
	echo "$t0 ${stamp:--} ${reply:--} $rc"
}

if skipping ready; then
	:
elif ! "$QRUN" help 2>&1 | grep -q -- '--ready' ||
    ! "$QRUN" help 2>&1 | grep -q -- '--run'; then
	say "SKIPPED: readiness (--ready/--run not in qrun help yet)"
	note "ready: boot-to-ready ms (issue 9)" "missing" "report" "SKIP"
	note "ready: echo reply -> ready ms" "missing" "< 100 ms" "SKIP"
else
	say "readiness: $NSLOW boots of the Linux guest with --ready ping"
	: > "$TMP/ready"
	i=0
	while [ $i -lt "$NSLOW" ]; do
		ready_run $i >> "$TMP/ready"
		i=$((i + 1))
	done
	if awk '$2 == "-" || $4 != 0 { bad = 1 } END { exit !bad }' "$TMP/ready"; then
		say "SKIPPED: readiness runs did not work (t0 stamp reply rc):"
		sed 's/^/    /' "$TMP/ready" >&2
		tail -3 "$TMP/r0.err" | sed 's/^/    /' >&2
		note "ready: boot-to-ready ms (issue 9)" "broken" "report" "SKIP"
	else
		b2r=$(awk '{ print ($2 - $1) * 1000 }' "$TMP/ready" | sort -n |
		    awk '{ v[NR] = $1 } END { printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
		note "ready: boot-to-ready ms (issue 9)" "$b2r" "report" "-"
		if awk '$3 == "-" { bad = 1 } END { exit !bad }' "$TMP/ready"; then
			say "no echo reply in some captures: ready delay not measured"
			note "ready: echo reply -> ready ms" "n/a" "< 100 ms" "SKIP"
		else
			d=$(awk '{ print ($2 - $3) * 1000 }' "$TMP/ready" | sort -n |
			    awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
			v=$(awk -v d="$d" 'BEGIN { print (d < 100) ? "PASS" : "MISS" }')
			note "ready: echo reply -> ready ms" "$d" "< 100 ms" "$v"
		fi
	fi
fi

# DHCP vs ip= (net.dhcp): the same boot to ready, the guest asking DHCP
# (net.kernel_ip = false) or told ip=, interleaved, NSLOW each.
if skipping ready || skipping dhcp; then
	:
else
	say "DHCP vs ip=: $NSLOW interleaved boots each, --ready ping"
	: > "$TMP/rdhcp"
	: > "$TMP/rip"
	i=0
	while [ $i -lt "$NSLOW" ]; do
		READY_ARGS= ready_run ip$i >> "$TMP/rip"
		READY_ARGS="-o net.kernel_ip=false" ready_run dh$i >> "$TMP/rdhcp"
		i=$((i + 1))
	done
	medb2r() {
		awk '$2 != "-" && $4 == 0 { print ($2 - $1) * 1000 }' "$1" | sort -n |
		    awk '{ v[NR] = $1 } END { if (NR) printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "-" }'
	}
	bi=$(medb2r "$TMP/rip") bd=$(medb2r "$TMP/rdhcp")
	if [ "$bi" = - ] || [ "$bd" = - ]; then
		say "SKIPPED: DHCP or ip= boots did not get ready"
		note "ready: DHCP / ip= boot-to-ready" "broken" "<= 1.2x" "SKIP"
	else
		row "ready: DHCP / ip= boot-to-ready (ms)" "$bd" "$bi" 1.2
	fi
fi
