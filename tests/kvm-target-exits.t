#!/bin/sh
# SPDX-License-Identifier: MIT
# The receiving side's exits in `vipi run --json` (docs/vmm.md "Exits on
# the receiving side"): target_ipis, target_exits_per_ipi and
# target_exits_by_cause in both interrupt-controller modes, and vipi's PV
# EOI (docs/abi.md 13: --pv-eoi) taking the EOI exit away. 4 vCPUs, so
# that make check stays short; skips without /dev/kvm.
# Each line of the table: expected exit status | arguments | JSON checks.
VIPI=${VIPI:-build/vipi}
if [ ! -e /dev/kvm ]; then
	echo "1..0 # SKIP /dev/kvm is missing"
	exit 0
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "1..0 # SKIP no permission to open /dev/kvm"
	exit 0
fi
if [ ! -x "$VIPI" ]; then
	echo "1..0 # SKIP $VIPI not built"
	exit 0
fi

n=0
fail=0
OK='"lost":0,"duplicated":0'
ERR=/tmp/kvm-target-exits.$$.err

run_case() {
	want=$1
	args=$2
	check=$3
	n=$((n + 1))
	out=$(timeout -k 5 300 $VIPI run $args --json --timeout 240 2>$ERR)
	rc=$?
	out="$out $(cat $ERR)"
	if [ "$rc" -ne "$want" ]; then
		echo "not ok $n - run $args: exit $rc, want $want"
		echo "$out" | sed "s/^/# /"
		fail=$((fail + 1))
		return
	fi
	for c in $check; do
		case $out in
		*"$c"*) ;;
		*)
			echo "not ok $n - run $args: output lacks $c"
			echo "$out" | sed "s/^/# /"
			fail=$((fail + 1))
			return
			;;
		esac
	done
	echo "ok $n - run $args (exit $rc)"
}

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
EOF_CASES

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
