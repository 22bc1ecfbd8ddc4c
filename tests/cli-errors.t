#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Misuse is caught before anything boots (docs/cli.md "Exit status"):
# `vipi run` and `vipi bench` check methods, workloads, vCPU counts,
# targets and mode/method combinations before a VM exists, and every
# command answers misuse with exit 2 and ONE line on stderr that names the
# problem and points at --help, nothing on stdout. `vipi bench` without a
# usable KVM device (VIPI_KVM_DEVICE points it at a missing one, so this
# holds on a machine with KVM too) exits 4 with a banner and writes why to
# bench.json. No case here needs /dev/kvm.
set -u
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
export LC_ALL=C
VIPI=${VIPI:-$(cd "$(dirname "$0")/.." && pwd)/vipi}
PY=$(python3 -c 'import sys; print(sys.executable)') || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..56"

# misuse STATUS 'STDERR LINE' ARGS...: `vipi ARGS` exits STATUS, prints
# nothing on stdout and exactly that one line on stderr
misuse() {
	local want=$1 line=$2 rc
	shift 2
	"$VIPI" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	printf '%s\n' "$line" >"$tmp/want"
	[ $rc = "$want" ] && [ ! -s "$tmp/out" ] && cmp -s "$tmp/err" "$tmp/want"
	ok_rc $? "vipi $*: exit $want, one line"
	if [ $rc != "$want" ] || [ -s "$tmp/out" ] ||
		! cmp -s "$tmp/err" "$tmp/want"; then
		echo "# exit $rc; stdout:"
		head -5 "$tmp/out" | sed 's/^/#   /'
		echo "# stderr:"
		head -5 "$tmp/err" | sed 's/^/#   /'
		echo "# wanted: $line"
	fi
}

U='(usage: vipi run --help)'
M='x2apic-phys x2apic-cluster x2apic-allbutself x2apic-all x2apic-self xapic-phys kvm-pv-linux kvm-pv hv-linux hv vipi'

# vipi run: methods, workloads, vCPUs, targets, modes
misuse 2 "vipi run: --method 'nope': not one of $M $U" \
	run --method nope
misuse 2 "vipi run: --workload 'multicst': not one of boot pingpong multicast broadcast shootdown storm badinput emulate lapic $U" \
	run --workload multicst
misuse 2 "vipi run: 2000 vCPUs: vipi's guest runs at most 1024 (--kernel: the host's limit) $U" \
	run --vcpus 2000
misuse 2 "vipi run: --vcpus '0': a count from 1 (vipi's guest: at most 1024) $U" \
	run --vcpus 0
misuse 2 "vipi run: --vcpus 3 but --topology 'x86:dense:4' has 4 vCPUs $U" \
	run --vcpus 3 --topology x86:dense:4
misuse 2 "vipi run: --topology 'arm64:kvm:4': the VMM runs x86 guests; give an x86 topology $U" \
	run --topology arm64:kvm:4
misuse 2 "vipi run: --targets '7': not a CPU list within 0-3 $U" \
	run --vcpus 4 --workload multicast --targets 7
misuse 2 "vipi run: --targets '0': vCPU 0 sends; name another vCPU $U" \
	run --vcpus 4 --workload pingpong --targets 0
misuse 2 "vipi run: --targets: --workload boot does not take a set (pingpong, multicast, shootdown, storm do) $U" \
	run --vcpus 4 --targets 1
misuse 2 "vipi run: --ops '0': a count from 1 (default: pingpong 100, storm 10, the others 50) $U" \
	run --vcpus 2 --workload multicast --ops 0
misuse 2 "vipi run: --ops: --workload boot has no operation count (pingpong, multicast, broadcast, shootdown, storm, emulate do) $U" \
	run --vcpus 2 --ops 5
misuse 2 "vipi run: --workload pingpong needs 2 or more vCPUs (vCPU 0 sends to the others) $U" \
	run --workload pingpong
misuse 2 "vipi run: --workload lapic needs --testdev (its I/O APIC pins are driven through ports 0x2000+n) $U" \
	run --vcpus 4 --workload lapic
misuse 2 "vipi run: --workload lapic needs 2 to 8 vCPUs (has 9) $U" \
	run --vcpus 9 --workload lapic --testdev
misuse 2 "vipi run: --method xapic-phys needs --xapic (the guest's APIC in xAPIC mode) $U" \
	run --vcpus 2 --workload multicast --method xapic-phys
misuse 2 "vipi run: --method x2apic-phys sends through the x2APIC; with --xapic use --method xapic-phys $U" \
	run --vcpus 2 --workload multicast --method x2apic-phys --xapic
misuse 2 "vipi run: --xapic: APIC ID 299 does not fit xAPIC's 8 bits (at most 254) $U" \
	run --vcpus 300 --workload multicast --xapic
misuse 2 "vipi run: --method kvm-pv with --hyperv: the Hyper-V leaves replace KVM's, so there is no KVM_HC_SEND_IPI $U" \
	run --vcpus 2 --workload multicast --method kvm-pv --hyperv
misuse 2 "vipi run: --irqchip 'both': user or kernel $U" run --irqchip both
misuse 2 "vipi run: unknown option '--frob' $U" run --frob
misuse 2 "vipi run: --vcpus needs a value $U" run --vcpus
misuse 2 "vipi run: --workload is an option of vipi's own guest; with --kernel the kernel runs what it runs $U" \
	run --kernel /nonexistent --workload multicast

# a method the in-kernel LAPIC cannot serve: skipped (4) before any VM,
# with the verdict a guest would give
"$VIPI" run --vcpus 2 --irqchip kernel --workload multicast --method vipi \
	--json >"$tmp/out" 2>"$tmp/err"
rc=$?
cat >"$tmp/want" <<'EOF'
{"status":"skip","reason":"vipi: the in-kernel LAPIC mode has no vipi ABI (vipi's engine serves it); use --irqchip user","irqchip":"kernel","method":"vipi","workload":"multicast","vcpus":2}
EOF
[ $rc = 4 ] && cmp -s "$tmp/out" "$tmp/want" &&
	[ "$(cat "$tmp/err")" = "vipi run: skip: vipi: the in-kernel LAPIC mode has no vipi ABI (vipi's engine serves it); use --irqchip user" ]
ok_rc $? "run --irqchip kernel --method vipi: exit 4, the skip JSON and one line, no VM"
"$VIPI" run --vcpus 2 --irqchip kernel --workload multicast --method hv \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 4 ] && [ ! -s "$tmp/out" ] &&
	[ "$(cat "$tmp/err")" = "vipi run: skip: hv: the in-kernel LAPIC mode has no Hyper-V hypercalls (vipi's engine serves them); use --irqchip user" ]
ok_rc $? "run --irqchip kernel --method hv: exit 4, one line, no VM"

# vipi bench: the same checks for the whole sweep, before any case runs
U='(usage: vipi bench --help)'
misuse 2 "vipi bench: --methods: 'nope' is not one of $M $U" \
	bench --methods x2apic-phys,nope
misuse 2 "vipi bench: --methods: 'gicv3' is not one of $M $U" \
	bench --methods gicv3
misuse 2 "vipi bench: --workloads: 'pingpog' is not one of multicast pingpong broadcast shootdown storm $U" \
	bench --workloads multicast,pingpog
misuse 2 "vipi bench: --vcpus '2000': 2 to 1024 (vipi's guest) $U" \
	bench --vcpus 2000
misuse 2 "vipi bench: --topology 'x86:dense:2000': 2000 vCPUs; the sweep takes 2 to 1024 $U" \
	bench --topology x86:dense:2000
misuse 2 "vipi bench: --topology 'arm64:kvm:4': the VMM runs x86 guests; give an x86 topology $U" \
	bench --topology arm64:kvm:4
misuse 2 "vipi bench: --ops '0': a count from 1 to 100000 (default 20; 4 with --quick) $U" \
	bench --ops 0
misuse 2 "vipi bench: --modes 'usr': user, kernel or user,kernel $U" \
	bench --modes usr
misuse 2 "vipi bench: --sizes: 40 targets, but 16 vCPUs have at most 15 besides the sender $U" \
	bench --vcpus 16 --sizes 40
misuse 2 "vipi bench: unknown option '--frob' $U" bench --frob
misuse 2 "vipi bench: --out needs a value $U" bench --out
misuse 2 "vipi bench: unknown benchmark 'frobnicate' (the sweep takes options; 'bench lib', 'bench linux') $U" \
	bench frobnicate

# the other commands: one line too
misuse 2 "vipi: unknown command 'frob' (commands: vipi help)" frob
misuse 2 "vipi encode: unknown option '--frob' (usage: vipi encode --help)" \
	encode --frob
misuse 2 "vipi decode: --topology needs a value (usage: vipi decode --help)" \
	decode --topology
misuse 2 "vipi bench lib: unknown option '-x' (usage: vipi bench lib --help)" \
	bench lib -x
misuse 2 "vipi encode: bad CPU list '010' (usage: vipi encode --help)" \
	encode -t x86:dense:16 x2apic-phys 010
misuse 2 "vipi topo: bad APIC ID at '08' (usage: vipi topo --help)" \
	topo -t x86:ids:0,08
misuse 2 "vipi sim: unknown option '--frob' (usage: vipi sim --help)" \
	sim --frob
misuse 2 "vipi sim: --method needs a value (usage: vipi sim --help)" \
	sim --method
misuse 2 "vipi report: unknown option '--frob' (usage: vipi report --help)" \
	report --frob
misuse 2 "vipi report: -o needs a value (usage: vipi report --help)" \
	report -o
"$VIPI" topo -t x86:dense:4 >"$tmp/out" 2>&1 && grep -q '4 vCPUs' "$tmp/out"
ok_rc $? "topo takes -t/--topology like every command"

# --help: the full usage, with the defaults, on stdout
"$VIPI" run --help >"$tmp/out" 2>"$tmp/err" &&
	grep -q 'default x2apic-phys;' "$tmp/out" &&
	grep -q 'boot (default)' "$tmp/out" &&
	grep -q 'kernel: KVM.s in-kernel LAPIC (default)' "$tmp/out" &&
	grep -q '(default 300)' "$tmp/out" && [ ! -s "$tmp/err" ]
ok_rc $? "run --help shows the defaults (method, workload, irqchip, timeout)"
"$VIPI" bench --help >"$tmp/out" 2>"$tmp/err" &&
	grep -q '(default 64; 16 with --quick)' "$tmp/out" &&
	grep -q 'VIPI_KVM_DEVICE' "$tmp/out" && [ ! -s "$tmp/err" ]
ok_rc $? "bench --help shows the defaults and the device override"

# vipi bench where KVM cannot be used: exit 4, a banner, the reason in
# bench.json, no empty plot
dev=$tmp/no-kvm
why="$dev: No such file or directory (load kvm_intel or kvm_amd, on a host with virtualization enabled)"
: >"$tmp/stale.svg"
mkdir -p "$tmp/out-dir" && cp "$tmp/stale.svg" "$tmp/out-dir/bench.svg"
VIPI_KVM_DEVICE=$dev "$VIPI" bench --quick --no-lib --out "$tmp/out-dir" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
ok_rc $([ $rc = 4 ] && echo 0 || echo 1) "bench without KVM: exit 4 (got $rc)"
cat >"$tmp/want" <<EOF
vipi bench: KVM cannot be used: $why
vipi bench: the KVM sweep (54 cases) does not run
vipi bench: KVM cannot be used: $why
EOF
cmp -s "$tmp/err" "$tmp/want"
ok_rc $? "bench without KVM: the banner on stderr, before and after"
[ "$(grep -c . "$tmp/out")" = 1 ] &&
	grep -qxF "vipi bench: NO KVM RESULTS: $why; the reason is in $tmp/out-dir/bench.json" "$tmp/out"
ok_rc $? "bench without KVM: stdout says NO KVM RESULTS, no empty table"
"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
k = d["kvm"]
ok = k == {"device": sys.argv[2], "usable": False, "reason": sys.argv[3],
           "cases_not_run": 54} and d["cases"] == []
sys.exit(0 if ok else 1)' "$tmp/out-dir/bench.json" "$dev" "$why"
ok_rc $? "bench.json: kvm.usable false, the reason, 54 cases not run, no cases"
[ ! -e "$tmp/out-dir/bench.svg" ]
ok_rc $? "bench without KVM: no bench.svg (a stale one is removed)"
VIPI_KVM_DEVICE=/dev/null "$VIPI" bench --quick --no-lib --out "$tmp/out-dir" \
	>/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 4 ] && grep -qxF "vipi bench: KVM cannot be used: /dev/null: not a KVM device (KVM_GET_API_VERSION: Inappropriate ioctl for device)" "$tmp/err"
ok_rc $? "bench with a device that is not KVM: exit 4 and why"

# a user who cannot open the device (a root-only file here, as an
# unprivileged user): needs root and setpriv, else skipped
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	n=$((n + 1))
	echo "ok $n # skip needs root and setpriv to run as another user"
else
	as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	chmod 755 "$tmp" && mkdir -m 777 "$tmp/nobody"
	: >"$tmp/root-only" && chmod 600 "$tmp/root-only"
	if ! $as_nobody "$VIPI" --version >/dev/null 2>&1; then
		n=$((n + 1))
		echo "ok $n # skip $VIPI cannot be run as uid 65534"
	else
		VIPI_KVM_DEVICE=$tmp/root-only $as_nobody "$VIPI" bench --quick \
			--no-lib --out "$tmp/nobody/out" >/dev/null 2>"$tmp/err"
		rc=$?
		[ $rc = 4 ] && grep -qxF "vipi bench: KVM cannot be used: $tmp/root-only: Permission denied (add your user to the 'kvm' group, or run as root)" "$tmp/err" &&
			grep -qE '"usable": ?false' "$tmp/nobody/out/bench.json"
		ok_rc $? "bench by a user who cannot open the device: exit 4, what to do, bench.json"
	fi
fi

[ $n = 56 ] || echo "# ran $n tests, planned 56"
[ $fail = 0 ]
