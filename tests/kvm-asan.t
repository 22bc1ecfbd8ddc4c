#!/bin/sh
# SPDX-License-Identifier: MIT
# The VMM itself under AddressSanitizer + UndefinedBehaviorSanitizer
# (build/asan/vipi) against hostile and busy guests on real KVM: the
# hostile-guest matrix in both modes, every decoder's doorbell and MSR
# path, xAPIC MMIO, a storm and a TLB-flush shootdown. Any sanitizer
# report fails the case (UBSan is built not to recover, ASan halts).
# Skips without /dev/kvm.
VIPI=${VIPI_ASAN:-build/asan/vipi}
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
kvm_require "$VIPI"
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

err=$(mktemp)
trap 'rm -f "$err"' EXIT

while IFS='|' read -r args check; do
	case $args in '' | '#'*) continue ;; esac
	n=$((n + 1))
	out=$(timeout -k 5 300 "$VIPI" run $args --json --timeout 240 2>"$err")
	rc=$?
	if [ "$rc" -ne 0 ] || grep -q 'Sanitizer\|runtime error:' "$err"; then
		echo "not ok $n - asan vipi run $args: exit $rc"
		grep -A12 'Sanitizer\|runtime error:' "$err" | head -30 |
			sed 's/^/# /'
		echo "$out" | sed 's/^/# /'
		fail=$((fail + 1))
		continue
	fi
	case $out in
	*"$check"*) echo "ok $n - asan vipi run $args" ;;
	*)
		echo "not ok $n - asan vipi run $args: output lacks $check"
		echo "$out" | sed 's/^/# /'
		fail=$((fail + 1))
		;;
	esac
done <<EOF_CASES
--vcpus 4 --irqchip user --workload badinput|"lost":0,"duplicated":0
--vcpus 4 --irqchip user --workload badinput --method hv|"lost":0,"duplicated":0
--vcpus 4 --irqchip kernel --workload badinput|"lost":0,"duplicated":0
--vcpus 16 --irqchip user --workload storm --method vipi --ops 3|"lost":0,"duplicated":0
--vcpus 8 --irqchip user --workload multicast --method kvm-pv --ops 3|"lost":0,"duplicated":0
--vcpus 8 --irqchip user --workload multicast --method hv-linux --ops 3|"lost":0,"duplicated":0
--vcpus 8 --irqchip user --workload multicast --method xapic-phys --xapic --ops 3|"lost":0,"duplicated":0
--vcpus 8 --irqchip user --workload shootdown --method vipi --ops 3|"lost":0,"duplicated":0
--topology x86:sparse:8:7 --irqchip user --workload multicast --method x2apic-phys --ops 3|"lost":0,"duplicated":0
EOF_CASES
echo "1..$n"
[ "$fail" -eq 0 ]
