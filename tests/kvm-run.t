#!/bin/sh
# SPDX-License-Identifier: MIT
# `vipi run` on real KVM: boot (INIT-SIPI-SIPI), every method in both
# interrupt-controller modes, APIC IDs above 255 and sparse layouts, the
# storm with zero lost and zero duplicated IPIs, bad guest input, and the
# errors a person can act on. One TAP stream; skips without /dev/kvm.
# Each line of the table: expected exit status | arguments | JSON checks.
VIPI=${VIPI:-build/vipi}
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
kvm_require "$VIPI"

OK='"lost":0,"duplicated":0'

run_case() { kvm_json_case "$@"; }

while IFS='|' read -r want args check; do
	case $want in '' | '#'*) continue ;; esac
	run_case "$want" "$args" "$check"
done <<EOF_CASES
# boot: every AP through INIT-SIPI-SIPI, counted
0|--vcpus 2 --irqchip kernel --workload boot|"delivered":1,
0|--vcpus 2 --irqchip user --workload boot|"delivered":1,
0|--vcpus 4 --irqchip kernel --workload boot|"delivered":3,
0|--vcpus 4 --irqchip user --workload boot|"delivered":3,
# unicast round trips
0|--vcpus 2 --irqchip kernel --workload pingpong --ops 20|"delivered":40, $OK
0|--vcpus 2 --irqchip user --workload pingpong --ops 20|"delivered":40, $OK
# every method, user mode (vipi's engine), 4 vCPUs
0|--vcpus 4 --irqchip user --workload multicast --method x2apic-phys --ops 10|"sender_exits_per_op":3.000 $OK
0|--vcpus 4 --irqchip user --workload multicast --method x2apic-cluster --ops 10|"sender_exits_per_op":1.000 $OK
0|--vcpus 4 --irqchip user --workload broadcast --method x2apic-allbutself --ops 10|"sender_exits_per_op":1.000 $OK
0|--vcpus 4 --irqchip user --workload multicast --method xapic-phys --xapic --ops 10|"sender_exits_per_op":6.000 $OK
0|--vcpus 4 --irqchip user --workload multicast --method kvm-pv --ops 10|"sender_exits_per_op":1.000 $OK
0|--vcpus 4 --irqchip user --workload multicast --method kvm-pv-linux --ops 10|"sender_exits_per_op":1.000 $OK
0|--vcpus 4 --irqchip user --workload multicast --method hv --ops 10|"sender_exits_per_op":1.000 $OK
0|--vcpus 4 --irqchip user --workload multicast --method hv-linux --ops 10|"sender_exits_per_op":1.000 $OK
0|--vcpus 4 --irqchip user --workload multicast --method vipi --ops 10|"sender_exits_per_op":1.000 $OK
0|--vcpus 4 --irqchip user --workload multicast --method vipi --targets 1,3 --ops 10|"delivered":20, $OK
# kernel mode (the in-kernel LAPIC): what it serves, and what it cannot
0|--vcpus 4 --irqchip kernel --workload multicast --method x2apic-phys --ops 10|"sender_exits_per_op":3.000 $OK
0|--vcpus 4 --irqchip kernel --workload multicast --method x2apic-cluster --ops 10|"sender_exits_per_op":1.000 $OK
0|--vcpus 4 --irqchip kernel --workload broadcast --method x2apic-allbutself --ops 10|$OK
0|--vcpus 4 --irqchip kernel --workload multicast --method xapic-phys --xapic --ops 10|$OK
4|--vcpus 2 --irqchip kernel --workload multicast --method kvm-pv --ops 1|"status":"skip" unsupported
4|--vcpus 2 --irqchip kernel --workload multicast --method hv --ops 1|"status":"skip"
4|--vcpus 2 --irqchip kernel --workload multicast --method vipi --ops 1|"status":"skip"
# shootdown (half the targets busy) and the storm: zero lost, zero duplicated
0|--vcpus 4 --irqchip user --workload shootdown --method vipi --ops 5|"delivered":15, $OK
0|--vcpus 4 --irqchip kernel --workload shootdown --ops 5|"delivered":15, $OK
0|--vcpus 4 --irqchip user --workload storm --method vipi --ops 10|"delivered":120, $OK
0|--vcpus 4 --irqchip kernel --workload storm --ops 10|"delivered":120, $OK
# APIC IDs above 255, sparse and strided layouts
0|--topology x86:ids:0,1,2,300,301,1000,4000,4095 --irqchip kernel --workload broadcast --ops 3|"delivered":21, $OK
0|--topology x86:ids:0,1,2,300,301,1000,4000,4095 --irqchip user --workload broadcast --method x2apic-cluster --ops 3|"delivered":21, $OK
0|--topology x86:sparse:8:7 --irqchip user --workload multicast --method vipi --ops 3|"delivered":21, $OK
0|--topology x86:stride:16:3 --irqchip user --workload storm --method kvm-pv --ops 3|$OK
# vipi's descriptor form from the guest: each sender's set spans 4 blocks
0|--vcpus 320 --irqchip user --workload storm --method vipi --targets 0,70,140,210,280 --ops 2|"sender_exits_per_op":1.000 "delivered":40, $OK
# bad guest input gets the architectural or ABI error (guest/hostile.c:
# every row checked in the guest, every error counted by the VMM) while
# the other vCPUs run a storm among themselves, counted; then an NMI
# flood, then a multicast every other vCPU must take exactly once
0|--vcpus 2 --irqchip user --workload badinput|"delivered":102, "GP":44, "APIC_ESR_SEND_ILLEGAL_VECTOR":1, "KVM_EPERM":2, "KVM_ENOSYS":2, "HV_STATUS_INVALID_HYPERCALL_INPUT":5, "VIPI_EFAULT":7, "UD":1} $OK
0|--vcpus 2 --irqchip kernel --workload badinput|"delivered":9, $OK
0|--vcpus 4 --irqchip kernel --workload badinput|"delivered":73, $OK
0|--vcpus 64 --irqchip user --workload badinput --method vipi|"delivered":39286, $OK
0|--vcpus 64 --irqchip kernel --workload badinput|"delivered":39193, $OK
# 64 vCPUs, multicast to 63: one sender exit with vipi, 63 with x2APIC
0|--vcpus 64 --irqchip user --workload multicast --method vipi --ops 2|"sender_exits_per_op":1.000 $OK
0|--vcpus 64 --irqchip user --workload multicast --method x2apic-phys --ops 2|"sender_exits_per_op":63.000 $OK
0|--vcpus 64 --irqchip kernel --workload multicast --method x2apic-phys --ops 2|"sender_exits_per_op":63.000 $OK
# 64 vCPUs, every method in user mode, exact counts; fan-out off / all
0|--vcpus 64 --irqchip user --workload multicast --method x2apic-cluster --ops 1|"sender_exits_per_op":4.000 "delivered":63, $OK
0|--vcpus 64 --irqchip user --workload multicast --method xapic-phys --xapic --ops 1|"sender_exits_per_op":126.000 "delivered":63, $OK
0|--vcpus 64 --irqchip user --workload multicast --method kvm-pv --ops 1|"sender_exits_per_op":1.000 "delivered":63, $OK
0|--vcpus 64 --irqchip user --workload multicast --method kvm-pv-linux --ops 1|"sender_exits_per_op":1.000 "delivered":63, $OK
0|--vcpus 64 --irqchip user --workload multicast --method hv --ops 1|"sender_exits_per_op":1.000 "delivered":63, $OK
0|--vcpus 64 --irqchip user --workload multicast --method hv-linux --ops 1|"delivered":63, $OK
0|--vcpus 64 --irqchip user --workload multicast --method vipi --ops 2 --fanout off|"fanned_per_op":0.000 "delivered":126, $OK
0|--vcpus 64 --irqchip user --workload multicast --method vipi --ops 2 --fanout 0|"delivered":126, $OK
0|--vcpus 64 --irqchip user --workload shootdown --method vipi --ops 2|"delivered":126, $OK
# 256 vCPUs, every method in user mode (xAPIC IDs stop at 254)
0|--vcpus 256 --irqchip user --workload broadcast --method vipi --ops 1|"delivered":255, $OK
0|--vcpus 256 --irqchip user --workload broadcast --method x2apic-phys --ops 1|"sender_exits_per_op":255.000 "delivered":255, $OK
0|--vcpus 256 --irqchip user --workload broadcast --method x2apic-cluster --ops 1|"sender_exits_per_op":16.000 "delivered":255, $OK
0|--vcpus 256 --irqchip user --workload broadcast --method kvm-pv --ops 1|"sender_exits_per_op":2.000 "delivered":255, $OK
0|--vcpus 256 --irqchip user --workload broadcast --method kvm-pv-linux --ops 1|"delivered":255, $OK
0|--vcpus 256 --irqchip user --workload broadcast --method hv --ops 1|"sender_exits_per_op":1.000 "delivered":255, $OK
0|--vcpus 256 --irqchip user --workload broadcast --method hv-linux --ops 1|"delivered":255, $OK
0|--vcpus 256 --irqchip kernel --workload boot|"delivered":255,
# errors a person can act on
# (misuse, found before a VM exists: exit 2, docs/cli.md)
2|--vcpus 100000 --irqchip kernel --workload boot|runs at most 1024
2|--topology x86:sparse:4:7 --irqchip kernel --workload boot|(KVM_CAP_MAX_VCPU_ID); use --irqchip user
2|--vcpus 0 --workload boot|
EOF_CASES

# a hostile guest cannot flood the VMM's log: 89 guest errors, at most 10
# lines per second of run, the rest counted as suppressed
n=$((n + 1))
out=$(timeout -k 5 300 $VIPI run --vcpus 2 --irqchip user --workload badinput --json 2>/tmp/kvm-run.$$.err)
lines=$(grep -c 'guest error: vCPU' /tmp/kvm-run.$$.err)
wall=$(echo "$out" | sed -n 's/.*"wall_s":\([0-9]*\).*/\1/p')
supp=$(echo "$out" | sed -n 's/.*"guest_error_lines_suppressed":\([0-9]*\).*/\1/p')
if [ -n "$wall" ] && [ -n "$supp" ] && [ "$lines" -le $((10 * (wall + 1))) ] &&
	[ "$supp" -gt 0 ] && [ $((lines + supp)) -eq 89 ] &&
	grep -q 'guest errors answered: 44 GP' /tmp/kvm-run.$$.err; then
	echo "ok $n - guest errors: $lines log lines, $supp suppressed, 89 counted"
else
	echo "not ok $n - guest error log: $lines lines, suppressed '$supp', wall '$wall'"
	sed 's/^/# /' /tmp/kvm-run.$$.err | tail -5
	fail=$((fail + 1))
fi

# the host's maximum vCPU count (1024 here), once: about 7 s
# (VIPI_KVM_QUICK=1 leaves it out)
if [ -z "$VIPI_KVM_QUICK" ]; then
	run_case 0 "--vcpus 1024 --irqchip user --workload boot" '"delivered":1023,'
fi
rm -f /tmp/kvm-run.$$.err
echo "1..$n"
[ "$fail" -eq 0 ]
