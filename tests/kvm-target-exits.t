#!/bin/sh
# SPDX-License-Identifier: MIT
# The receiving side's exits in `vipi run --json` (docs/vmm.md "Exits on
# the receiving side"): target_ipis, target_exits_per_ipi and
# target_exits_by_cause in both interrupt-controller modes, and vipi's PV
# EOI (docs/abi.md 13: --pv-eoi) taking the EOI exit away. 4 vCPUs, so
# that make check stays short; skips without /dev/kvm.
# Each line of the table: expected exit status | arguments | JSON checks.
VIPI=${VIPI:-build/vipi}
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
kvm_require "$VIPI"

OK='"lost":0,"duplicated":0'
ERR=/tmp/kvm-target-exits.$$.err

run_case() { kvm_json_case "$@"; }

while IFS='|' read -r want args check; do
	case $want in '' | '#'*) continue ;; esac
	run_case "$want" "$args" "$check"
done <<EOF_CASES
# user mode: the VMM sees every exit; one EOI exit per IPI (x2APIC MSR
# 0x80b, xAPIC register 0xb0), none retired lazily
0|--vcpus 4 --irqchip user --workload multicast --ops 10|"target_ipis":30, "eoi":1.000, "lazy_eois":0 $OK
0|--vcpus 4 --irqchip user --workload multicast --method xapic-phys --xapic --ops 10|"target_ipis":30, "eoi":1.000, "lazy_eois":0 $OK
0|--vcpus 2 --irqchip user --workload pingpong --ops 20|"target_ipis":20, "eoi":1.000, $OK
# kernel mode: KVM's statistics; the EOI is KVM's own and not visible
0|--vcpus 4 --irqchip kernel --workload multicast --ops 10|"target_ipis":30, "eoi":null, $OK
# a workload that does not count the targets' IPIs reports none
0|--vcpus 4 --irqchip user --workload storm --ops 2|$OK
# --pv-eoi: every EOI skipped and retired by the host, none written (a
# target settles at its next exit, the HLT, which may come after the loop:
# lazy_eois is not a literal here)
0|--vcpus 4 --irqchip user --workload multicast --ops 10 --pv-eoi|"target_ipis":30, "eoi":0.000, $OK
0|--vcpus 4 --irqchip user --workload multicast --method xapic-phys --xapic --ops 10 --pv-eoi|"target_ipis":30, "eoi":0.000, $OK
0|--vcpus 4 --irqchip user --workload broadcast --method x2apic-allbutself --ops 10 --pv-eoi|"target_ipis":30, "eoi":0.000, $OK
0|--vcpus 2 --irqchip user --workload pingpong --ops 20 --pv-eoi|"target_ipis":20, "eoi":0.000, $OK
# the new path under the storm, a PV TLB shootdown, the LAPIC checks (whose
# own EOI writes ignore the word) and the hostile matrix's bad registrations
0|--vcpus 4 --irqchip user --workload storm --ops 10 --pv-eoi|"eoi":0, $OK
0|--vcpus 4 --irqchip user --workload shootdown --method vipi --ops 10 --pv-eoi|$OK
0|--vcpus 4 --irqchip user --workload lapic --testdev --pv-eoi|"status":"pass"
0|--vcpus 4 --irqchip user --workload badinput --pv-eoi|"VIPI_EINVAL":15, "VIPI_EFAULT":7, $OK
# the in-kernel LAPIC has no vipi ABI
4|--vcpus 4 --irqchip kernel --workload multicast --pv-eoi|"status":"skip"
EOF_CASES

# the same PV EOI paths in the VMM built with ASan + UBSan (make check)
if [ -x "${VIPI_ASAN:-}" ]; then
	while IFS='|' read -r args; do
		case $args in '' | '#'*) continue ;; esac
		n=$((n + 1))
		out=$(ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
			UBSAN_OPTIONS=halt_on_error=1 \
			timeout -k 5 300 "$VIPI_ASAN" run $args --json \
			--timeout 240 2>$ERR)
		rc=$?
		if [ "$rc" -ne 0 ] || grep -q 'Sanitizer\|runtime error:' $ERR; then
			echo "not ok $n - asan run $args: exit $rc"
			sed 's/^/# /' $ERR | head -30
			fail=$((fail + 1))
		else
			case $out in
			*"$OK"*) echo "ok $n - asan run $args" ;;
			*)
				echo "not ok $n - asan run $args: lost or duplicated"
				fail=$((fail + 1))
				;;
			esac
		fi
	done <<EOF_ASAN
--vcpus 4 --irqchip user --workload storm --ops 5 --pv-eoi
--vcpus 4 --irqchip user --workload badinput --pv-eoi
--vcpus 8 --irqchip user --workload multicast --ops 5 --pv-eoi
EOF_ASAN
fi

# the storm line: no target fields
n=$((n + 1))
out=$(timeout -k 5 300 $VIPI run --vcpus 4 --irqchip user --workload storm --ops 2 --json 2>/dev/null)
case $out in
*target_exits*) echo "not ok $n - storm: target_exits reported" ; fail=$((fail + 1)) ;;
*) echo "ok $n - storm: no target_exits fields" ;;
esac
rm -f $ERR
echo "1..$n"
[ "$fail" -eq 0 ]
