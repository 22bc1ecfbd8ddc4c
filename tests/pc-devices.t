#!/bin/bash
# SPDX-License-Identifier: MIT
# The PC devices and firmware tables on real KVM: a Multiboot test kernel
# (tests/kernels/pc.c) probes fw_cfg, CMOS, the UART (scratch, Linux's
# loopback probe, FIFO), the PM timer and the 8254's channel 2 timed
# against it (the median of 5 runs of the two clocks' ratio must be 3.000
# within 3%: a loaded host may stall the guest in one or two), then
# exits through isa-debug-exit (status 85) or powers off through ACPI S5
# (status 0), in both irqchip modes; vipi's own guest still reads the
# MADT with the new entry types. Skips without /dev/kvm or a compiler.
VIPI=${VIPI:-build/vipi}
SRC=${VIPI_SRC:-.}
K=$SRC/tests/kernels
. "$SRC/tests/lib/kvm.sh" || exit 1

echo "1..15"
tmp=$(mktemp -d /tmp/pc-devices.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

why=$(kvm_skip_reason "$VIPI")
if [ -z "$why" ] && ! err=$(build_mb_kernel "$K/pc.c" "$tmp/pc.elf"); then
	why="cannot build the test kernel: $err"
fi
if [ -n "$why" ]; then
	skip_to 15 "$why"
	exit 0
fi

# run NAME WANT-STATUS ARGS...: leaves the output in $tmp/out
run() {
	local name=$1 want=$2
	shift 2
	vipi_run_status "$name" "$want" 120 "$@"
}

# has NAME LINE...: each line in $tmp/out exactly, no "pc: FAIL"
HAS_LINES_FAIL="^pc: FAIL"
has() { has_lines "$@"; }

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
