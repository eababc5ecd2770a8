#!/bin/sh
# qemu.accel = "kvm:tcg" picks KVM only when a guest ran under it: the
# probe runs the profile's QEMU with -accel kvm on a tiny multiboot kernel
# (no file: a memfd) and its answer is cached per boot and QEMU binary.
# On this host KVM cannot run guests, so kvm:tcg must choose TCG, and the
# second run must take the cached answer. Stand-in QEMUs (scripts) play a
# host where KVM works and one where the guest hangs; under sudo the
# probe runs as the developer and caches in their home.
. "$(dirname "$0")/lib.sh"

need_guests "accel" "$GUESTS/mbtest.elf"
MB=$GUESTS/mbtest.elf
CACHE=$QRUN_CACHE_DIR/kvm
dry() { "$QRUN" --dry-run -n none -o qemu.accel=kvm:tcg "$@" "$MB" 2>&1; }

# --- the real QEMU on this host -----------------------------------------
mkdir -p "$TESTDIR/tmp"
t0=$(date +%s%N)
TMPDIR=$TESTDIR/tmp dry >"$TESTDIR/first"
t1=$(date +%s%N)
line=$(grep '^# accel:' "$TESTDIR/first")
if tail -n 1 "$TESTDIR/first" | grep -q -- ' -accel tcg ' &&
    echo "$line" | grep -q 'using tcg (probe: [0-9]* ms)'; then
	ok "kvm:tcg on this host: tcg, probed ($(echo "$line" |
	    sed 's/.*(probe: \([0-9]*\) ms).*/\1/') ms)"
else
	fail "kvm:tcg on this host: $(cat "$TESTDIR/first")"
fi
check "probe: miss cost bounded (< 5 s, took $(((t1 - t0) / 1000000)) ms)" \
    [ $(((t1 - t0) / 1000000)) -lt 5000 ]
qemu=$(command -v qemu-system-x86_64)
check "cache: one line for $qemu, this boot" grep -q "^qrun-kvm 1	$(cat \
    /proc/sys/kernel/random/boot_id)	.*	$qemu	" "$CACHE"
check "probe: no file left in TMPDIR" [ -z "$(ls -A "$TESTDIR/tmp")" ]
cp "$CACHE" "$TESTDIR/cache1"
t0=$(date +%s%N)
dry >"$TESTDIR/second"
t1=$(date +%s%N)
if grep -q '^# accel: .*using tcg (cached' "$TESTDIR/second" &&
    tail -n 1 "$TESTDIR/second" | grep -q -- ' -accel tcg '; then
	ok "second run: the cached answer ($(((t1 - t0) / 1000000)) ms)"
else
	fail "second run: $(head -n 1 "$TESTDIR/second")"
fi
check "second run: cache unchanged" cmp -s "$CACHE" "$TESTDIR/cache1"
timeout 60 "$QRUN" -v -n none -o qemu.accel=kvm:tcg --success-code 0 \
    -o qemu.append=exit=0 "$MB" >"$TESTDIR/run" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'kvm:tcg: .*using tcg (cached' \
    "$TESTDIR/run" && grep -q 'running .* -accel tcg ' "$TESTDIR/run"; then
	ok "a real run (-v): kvm:tcg -> tcg from the cache, guest ran"
else
	fail "a real run (exit $rc): $(cat "$TESTDIR/run")"
fi
out=$("$QRUN" doctor 2>&1)
if echo "$out" | grep -q '^[a-z]*  *kvm .*: using tcg (cached'; then
	ok "doctor: the same decision ($(echo "$out" | grep ' kvm '))"
else
	fail "doctor: $out"
fi

# --- only kvm:tcg probes; a broken cache is a miss ----------------------
rm -rf "$QRUN_CACHE_DIR"
"$QRUN" --dry-run -n none -o qemu.accel=tcg "$MB" >/dev/null 2>&1
check "qemu.accel = tcg: no probe, no cache" [ ! -e "$QRUN_CACHE_DIR" ]
mkdir -p "$QRUN_CACHE_DIR"
printf 'qrun-kvm 1\tgarbage\tkvm\n\033[2J\nqrun-kvm 1' >"$CACHE"
dry >"$TESTDIR/forged"
if grep -q '^# accel: .*(probe: ' "$TESTDIR/forged" &&
    ! grep -q garbage "$CACHE" && grep -q "	$qemu	" "$CACHE"; then
	ok "a garbled cache: probed again and rewritten"
else
	fail "a garbled cache: $(cat "$TESTDIR/forged") / $(cat -v "$CACHE")"
fi

# --- stand-in QEMUs: KVM works; the guest hangs -------------------------
PUB=$(mktemp -d /tmp/qrun-accel.XXXXXX)
HOMED=$(mktemp -d /tmp/qrun-home.XXXXXX)
HUSER="qra$$"
trap 'userdel "$HUSER" 2>/dev/null; rm -rf "$PUB" "$HOMED"; _cleanup' EXIT
chmod 755 "$PUB"
# kvm-ok: the probe's guest "runs" when QEMU gets -accel kvm, no network,
# the kernel on fd 3 (multiboot magic 1badb002), as uid WANT_UID if set.
cat >"$PUB/qemu-ok" <<EOF
#!/bin/sh
echo "\$*" >>"$PUB/args.\$(id -u)" 2>/dev/null
[ -z "\${WANT_UID:-}" ] || [ "\$(id -u)" = "\$WANT_UID" ] || exit 1
magic=\$(od -An -tx4 -N4 /proc/self/fd/3 | tr -d ' ')
case " \$* " in
*" -accel kvm "*" -nic none "*" -kernel /proc/self/fd/3 "*)
	[ "\$magic" = 1badb002 ] && exit 85 ;;
esac
exit 1
EOF
cat >"$PUB/qemu-hang" <<EOF
#!/bin/sh
sleep 60 &
echo \$! >"$PUB/hang.pid"
wait
EOF
chmod 755 "$PUB/qemu-ok" "$PUB/qemu-hang"

dry -o qemu.binary="$PUB/qemu-ok" >"$TESTDIR/ok"
if tail -n 1 "$TESTDIR/ok" | grep -q -- ' -accel kvm ' &&
    grep -q '^# accel: kvm:tcg: guests run under KVM here: using kvm' \
    "$TESTDIR/ok"; then
	ok "KVM that runs the probe: kvm:tcg picks kvm"
else
	fail "KVM that runs the probe: $(cat "$TESTDIR/ok") / $(cat "$PUB"/args.*)"
fi
t0=$(date +%s%N)
dry -o qemu.binary="$PUB/qemu-hang" >"$TESTDIR/hang"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
said='/dev/kvm opens but guests do not run under it here: using tcg'
if tail -n 1 "$TESTDIR/hang" | grep -q -- ' -accel tcg ' &&
    grep -q "^# accel: kvm:tcg: $said" "$TESTDIR/hang"; then
	ok "a guest that hangs under KVM: tcg"
else
	fail "a guest that hangs under KVM: $(cat "$TESTDIR/hang")"
fi
check "a hang costs the deadline, no more (3 s; took $ms ms)" \
    [ "$ms" -ge 2900 -a "$ms" -lt 5000 ]
# (killed: gone, or a zombie left to a PID 1 that does not reap)
check "a hang: the probe's whole process group is killed" \
    sh -c "ps -o stat= -p \$(cat '$PUB/hang.pid') | grep -qv '^Z'; [ \$? -ne 0 ]"
t0=$(date +%s%N)
dry -o qemu.binary="$PUB/qemu-hang" >"$TESTDIR/hang2"
t1=$(date +%s%N)
check "a hang, second run: cached ($(((t1 - t0) / 1000000)) ms)" \
    grep -q 'using tcg (cached' "$TESTDIR/hang2"

# --- under sudo: the developer's QEMU rights and cache ------------------
if ! useradd -M -N -d "$HOMED" -s /bin/sh "$HUSER" 2>/dev/null; then
	skip "accel under sudo: cannot create a test user"
	exit 0
fi
HUID=$(id -u "$HUSER") HGID=$(id -g "$HUSER")
chown "$HUID:$HGID" "$HOMED"
sudo_dry() {
	env SUDO_UID="$HUID" SUDO_GID="$HGID" SUDO_USER="$HUSER" HOME=/root \
	    QRUN_CACHE_DIR="$TESTDIR/evil" WANT_UID="$HUID" "$QRUN" \
	    --dry-run -n none -o qemu.accel=kvm:tcg \
	    -o qemu.binary="$PUB/qemu-ok" "$MB" 2>&1
}
sudo_dry >"$TESTDIR/sudo"
if tail -n 1 "$TESTDIR/sudo" | grep -q -- ' -accel kvm '; then
	ok "sudo: the probe runs QEMU as the developer (uid $HUID)"
else
	fail "sudo: $(cat "$TESTDIR/sudo")"
fi
check "sudo: the answer cached in the developer's home, theirs, 0600" \
    [ "$(stat -c '%u %a' "$HOMED/.cache/qrun/kvm" 2>/dev/null)" = "$HUID 600" ]
check "sudo: QRUN_CACHE_DIR ignored" [ ! -e "$TESTDIR/evil" ]
# The developer points the cache at a file only root may write.
echo root-data >"$TESTDIR/root-only"
chmod 600 "$TESTDIR/root-only"
rm -f "$HOMED/.cache/qrun/kvm"
ln -s "$TESTDIR/root-only" "$HOMED/.cache/qrun/kvm"
sudo_dry >"$TESTDIR/sudo2"
check "sudo: a cache symlinked to root's file: not written through" \
    [ "$(cat "$TESTDIR/root-only")" = root-data ]
if tail -n 1 "$TESTDIR/sudo2" | grep -q -- ' -accel kvm '; then
	ok "sudo: ... and the run goes on (probed, kvm)"
else
	fail "sudo: ... and the run goes on: $(cat "$TESTDIR/sudo2")"
fi
