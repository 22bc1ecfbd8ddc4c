#!/bin/bash
# SPDX-License-Identifier: MIT
# The PC devices and firmware tables on real KVM: a Multiboot test kernel
# (tests/kernels/pc.c) probes fw_cfg, CMOS, the UART (scratch, Linux's
# loopback probe, FIFO), the PM timer and the 8254's channel 2 timed
# against it (the ratio of the two clocks must be 3.000 within 3%), then
# exits through isa-debug-exit (status 85) or powers off through ACPI S5
# (status 0), in both irqchip modes; vipi's own guest still reads the
# MADT with the new entry types. Skips without /dev/kvm or a compiler.
VIPI=${VIPI:-build/vipi}
SRC=${VIPI_SRC:-.}
K=$SRC/tests/kernels

echo "1..15"
n=0
fail=0
tmp=$(mktemp -d /tmp/pc-devices.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	fail=$((fail + 1))
}

why=
if [ ! -e /dev/kvm ]; then
	why="/dev/kvm is missing"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	why="no permission to open /dev/kvm"
elif [ ! -x "$VIPI" ]; then
	why="$VIPI not built"
fi
COMMON="-ffreestanding -nostdinc -nostdlib -O2 -Wall -mno-sse -mno-mmx
	-mno-80387 -fno-stack-protector -fno-asynchronous-unwind-tables"
NOWARN=
if ld --help 2>/dev/null | grep -q no-warn-rwx-segments; then
	NOWARN=--no-warn-rwx-segments
fi
if [ -z "$why" ] && { ! gcc -m32 $COMMON -fno-pic -fno-pie \
	-c "$K/mb-head.S" -o "$tmp/h.o" 2>"$tmp/build.err" ||
	! gcc -m32 $COMMON -fno-pic -fno-pie -c "$K/pc.c" -o "$tmp/pc.o" \
		2>>"$tmp/build.err" ||
	! ld -m elf_i386 $NOWARN -T "$K/mb.ld" -o "$tmp/pc.elf" "$tmp/h.o" \
		"$tmp/pc.o" 2>>"$tmp/build.err"; }; then
	why="cannot build the test kernel: $(head -1 "$tmp/build.err")"
fi
if [ -n "$why" ]; then
	while [ $n -lt 15 ]; do
		n=$((n + 1))
		echo "ok $n # skip $why"
	done
	exit 0
fi

# run NAME WANT-STATUS ARGS...: leaves the output in $tmp/out
run() {
	local name=$1 want=$2
	shift 2
	timeout -k 5 150 "$VIPI" run "$@" --timeout 120 >"$tmp/out" \
		2>"$tmp/err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		notok "$name: exit $rc, want $want"
		sed 's/^/# /' "$tmp/out" "$tmp/err" | tail -15
		return 1
	fi
	ok "$name: exit $rc"
}

# has NAME LINE...: each line in $tmp/out exactly, no "pc: FAIL"
has() {
	local name=$1 l miss=
	shift
	for l in "$@"; do
		grep -qxF -- "$l" "$tmp/out" || miss="$miss [$l]"
	done
	if grep -q "^pc: FAIL" "$tmp/out"; then
		miss="$miss $(grep '^pc: FAIL' "$tmp/out" | tr '\n' ' ')"
	fi
	if [ -n "$miss" ]; then
		notok "$name: missing$miss"
		sed 's/^/# /' "$tmp/out" | tail -30
	else
		ok "$name"
	fi
}

CHECKS=("pc: ok fw_cfg signature QEMU" "pc: ok CMOS status D VRT"
	"pc: ok CMOS century 0x20" "pc: ok UART scratch register"
	"pc: ok UART loopback MSR 0x90" "pc: ok UART loopback byte"
	"pc: ok UART IIR FIFO bits" "pc: ok PIT OUT2 low while counting"
	"pc: ok PM timer moves forward"
	"pc: ok PIT rate 1.193182 MHz (+-3%)"
	"pc: ok PIT OUT2 high after terminal count")

for mode in kernel user; do
	run "$mode: devices kernel, isa-debug-exit 0x2a" 85 --kernel \
		"$tmp/pc.elf" --vcpus 2 --irqchip $mode
	has "$mode: every device check" "${CHECKS[@]}" \
		"pc: fw_cfg nb_cpus 2"
	grep '^pc: PM/PIT' "$tmp/out" | sed 's/^/# /'
	run "$mode: ACPI S5 power-off" 0 --kernel "$tmp/pc.elf" \
		--append poweroff --irqchip $mode
	has "$mode: S5 after the checks" "pc: poweroff" \
		"pc: fw_cfg nb_cpus 1"
	run "$mode: vipi's guest reads the new MADT" 0 --vcpus 3 \
		--irqchip $mode --workload broadcast --ops 5
	if grep -q "guest passed" "$tmp/out"; then
		ok "$mode: vipi's guest passed with 3 CPUs"
	else
		notok "$mode: vipi's guest passed with 3 CPUs"
	fi
done
if grep -q "guest reset\|powered off" "$tmp/err" "$tmp/out"; then
	notok "no reset message for vipi's guest"
else
	ok "no reset message for vipi's guest"
fi
run "verbose run" 85 --kernel "$tmp/pc.elf" -v --irqchip kernel
if grep -q "accesses to ports with no device" "$tmp/err"; then
	ok "-v reports the count of accesses to no device"
else
	notok "-v reports the count of accesses to no device"
fi
[ $fail -eq 0 ]
