#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every option of `vipi run`, `vipi bench` and `vipi bench linux`
# (docs/cli.md, docs/linux.md, `--help`):
# accepted as `--opt VALUE` and `--opt=VALUE` (flags bare), and refused
# with exit 2 and one literal line when its value is missing or bad, when
# a flag is given a value, and for unknown options and operands.
#
# No case needs /dev/kvm: VIPI_KVM_DEVICE names a missing device, so a
# `vipi run` whose options are all accepted stops at opening it (exit 1,
# one line), and `vipi bench` exits 4 and writes its configuration to
# DIR/bench.json, which shows what each option set. `vipi bench linux`
# stops at the same missing device (exit 1, one line); its hidden
# `--parse FILE...` prints the configuration the options before it set.
set -u
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
export LC_ALL=C
VIPI=${VIPI:-$(cd "$(dirname "$0")/.." && pwd)/vipi}
PY=$(python3 -c 'import sys; print(sys.executable)') || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VIPI_KVM_DEVICE=$tmp/no-kvm
echo "1..196"

# expect NAME STATUS 'STDOUT' 'STDERR' ARGS...: `vipi ARGS` exits STATUS
# with exactly that stdout and stderr (each empty or one line)
expect() {
	local name=$1 want=$2 out=$3 err=$4 rc
	shift 4
	"$VIPI" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ -n "$out" ]; then printf '%s\n' "$out"; fi >"$tmp/want-out"
	if [ -n "$err" ]; then printf '%s\n' "$err"; fi >"$tmp/want-err"
	[ $rc = "$want" ] && cmp -s "$tmp/out" "$tmp/want-out" &&
		cmp -s "$tmp/err" "$tmp/want-err"
	ok_rc $? "$name: vipi $*"
	if [ $rc != "$want" ] || ! cmp -s "$tmp/out" "$tmp/want-out" ||
		! cmp -s "$tmp/err" "$tmp/want-err"; then
		echo "# exit $rc (wanted $want); stdout:"
		head -3 "$tmp/out" | sed 's/^/#   /'
		echo "# stderr:"
		head -3 "$tmp/err" | sed 's/^/#   /'
		echo "# wanted: $err"
	fi
}

# misuse 'MESSAGE' ARGS...: exit 2, "vipi CMD: MESSAGE (usage: ...)"
misuse() {
	local msg=$1 cmd=$2
	shift
	expect misuse 2 "" "vipi $cmd: $msg (usage: vipi $cmd --help)" "$@"
}

# --- vipi run -------------------------------------------------------
NOKVM="vipi run: $tmp/no-kvm does not exist: load kvm_intel or kvm_amd, or run on a host with virtualization enabled"
M='x2apic-phys x2apic-cluster x2apic-allbutself x2apic-all x2apic-self xapic-phys kvm-pv-linux kvm-pv hv-linux hv vipi'

# accepted ARGS...: every option read, the run stops at the missing device
accepted() {
	expect accepted 1 "" "$NOKVM" run "$@"
}

# a Multiboot v1 image with the a.out kludge (Multiboot spec 3.1.3):
# enough for --kernel to be read and accepted; it never runs here
"$PY" -c '
import struct, sys
magic, flags = 0x1BADB002, 0x10000
hdr = struct.pack("<8I", magic, flags, (-(magic + flags)) & 0xffffffff,
                  0x100000, 0x100000, 0, 0, 0x100020)
open(sys.argv[1], "wb").write(hdr + b"\xf4" * 64)' "$tmp/mb.bin"
echo initrd >"$tmp/initrd"

# --vcpus N
accepted --vcpus 2
accepted --vcpus=2
misuse "--vcpus 3 but --topology 'x86:dense:4' has 4 vCPUs" \
	run --vcpus=3 --topology x86:dense:4
misuse "--vcpus 3 but --topology 'x86:dense:4' has 4 vCPUs" \
	run --vcpus 5 --vcpus=3 --topology x86:dense:4
misuse "--vcpus needs a value" run --vcpus
misuse "--vcpus 'x': a count from 1 (vipi's guest: at most 1024)" \
	run --vcpus=x
misuse "--vcpus '010': a count from 1 (vipi's guest: at most 1024)" \
	run --vcpus 010
# --topology TOPO
accepted --topology x86:dense:2
accepted --topology=x86:stride:2:4
misuse "--topology 'arm64:kvm:4': the VMM runs x86 guests; give an x86 topology" \
	run --topology=arm64:kvm:4
misuse "--topology needs a value" run --topology
# --irqchip kernel|user
accepted --irqchip user --method vipi
accepted --irqchip=user --method=vipi
expect "--irqchip=kernel: a skip" 4 "" \
	"vipi run: skip: vipi: the in-kernel LAPIC mode has no vipi ABI (vipi's engine serves it); use --irqchip user" \
	run --irqchip=kernel --method=vipi
misuse "--irqchip 'both': user or kernel" run --irqchip=both
misuse "--irqchip needs a value" run --irqchip
# --method METHOD
accepted --method x2apic-cluster
accepted --method=kvm-pv
misuse "--method 'nope': not one of $M" run --method=nope
misuse "--method needs a value" run --method
# --workload W
accepted --workload multicast --vcpus 2
accepted --workload=storm --vcpus=2
misuse "--workload pingpong needs 2 or more vCPUs (vCPU 0 sends to the others)" \
	run --workload=pingpong
misuse "--workload 'multicst': not one of boot pingpong multicast broadcast shootdown storm badinput emulate lapic" \
	run --workload=multicst
misuse "--workload needs a value" run --workload
# --targets CPULIST
accepted --targets 1 --workload multicast --vcpus 2
accepted --targets=1-3 --workload=multicast --vcpus=4
misuse "--targets '7': not a CPU list within 0-3" \
	run --targets=7 --workload multicast --vcpus 4
misuse "--targets needs a value" run --targets
# --ops K
accepted --ops 5 --workload multicast --vcpus 2
accepted --ops=5 --workload=emulate
misuse "--ops '0': a count from 1 (default: pingpong 100, storm 10, the others 50)" \
	run --ops=0 --workload multicast --vcpus 2
misuse "--ops: --workload boot has no operation count (pingpong, multicast, broadcast, shootdown, storm, emulate do)" \
	run --ops=5
misuse "--ops needs a value" run --ops
# --fanout N|off
accepted --fanout 3 --irqchip user
accepted --fanout=off --irqchip=user
misuse "--fanout 'x': a count or off" run --fanout=x
misuse "--fanout needs a value" run --fanout
# --mem MIB
accepted --mem 32
accepted --mem=3072
misuse "--mem 4000: vipi's guest takes at most 3072 MiB" run --mem=4000
misuse "--mem '15': MiB, 16-3072 (--kernel: 16-65536)" run --mem=15
misuse "--mem needs a value" run --mem
# --timeout S
accepted --timeout 5
accepted --timeout=5
misuse "--timeout '0': seconds" run --timeout=0
misuse "--timeout needs a value" run --timeout
# --kernel FILE, --append CMDLINE, --initrd FILE
accepted --kernel "$tmp/mb.bin"
accepted --kernel="$tmp/mb.bin" --mem=4000
expect "--kernel: a file that is not there" 2 "" \
	"vipi run: --kernel $tmp/none: cannot open: No such file or directory" \
	run --kernel="$tmp/none"
misuse "--kernel needs a value" run --kernel
accepted --kernel "$tmp/mb.bin" --append "a b=c"
accepted --kernel "$tmp/mb.bin" --append="a b=c"
misuse "--append needs --kernel" run --append=x
misuse "--append needs a value" run --append
accepted --kernel "$tmp/mb.bin" --initrd "$tmp/initrd"
accepted --kernel "$tmp/mb.bin" --initrd="$tmp/initrd"
misuse "--initrd needs --kernel" run --initrd="$tmp/initrd"
expect "--initrd: a file that is not there" 2 "" \
	"vipi run: --initrd $tmp/none: cannot open: No such file or directory" \
	run --kernel "$tmp/mb.bin" --initrd="$tmp/none"
misuse "--initrd needs a value" run --initrd
misuse "--workload is an option of vipi's own guest; with --kernel the kernel runs what it runs" \
	run --kernel="$tmp/mb.bin" --workload=multicast
# flags: --xapic --hyperv --testdev --pv-eoi --json -v/--verbose
accepted --xapic --method xapic-phys
misuse "--method x2apic-phys sends through the x2APIC; with --xapic use --method xapic-phys" \
	run --xapic --method=x2apic-phys
misuse "--xapic=1 takes no value" run --xapic=1
accepted --hyperv
misuse "--method kvm-pv with --hyperv: the Hyper-V leaves replace KVM's, so there is no KVM_HC_SEND_IPI" \
	run --hyperv --method=kvm-pv
misuse "--hyperv=1 takes no value" run --hyperv=1
accepted --testdev --workload lapic --vcpus 4
misuse "--workload lapic needs --testdev (its I/O APIC pins are driven through ports 0x2000+n)" \
	run --workload=lapic --vcpus=4
misuse "--testdev=1 takes no value" run --testdev=1
accepted --pv-eoi --irqchip user
expect "--pv-eoi in kernel mode: a skip" 4 "" \
	"vipi run: skip: --pv-eoi: the in-kernel LAPIC mode has no vipi ABI; use --irqchip user" \
	run --pv-eoi
misuse "--pv-eoi is an option of vipi's own guest; with --kernel the kernel runs what it runs" \
	run --kernel "$tmp/mb.bin" --pv-eoi
misuse "--pv-eoi=1 takes no value" run --pv-eoi=1
accepted --json
expect "--json: the skip as JSON" 4 \
	'{"status":"skip","reason":"--pv-eoi: the in-kernel LAPIC mode has no vipi ABI; use --irqchip user","irqchip":"kernel","method":"x2apic-phys","workload":"boot","vcpus":1}' \
	"vipi run: skip: --pv-eoi: the in-kernel LAPIC mode has no vipi ABI; use --irqchip user" \
	run --pv-eoi --json
misuse "--json=1 takes no value" run --json=1
accepted -v
accepted --verbose
misuse "--verbose=1 takes no value" run --verbose=1
# what is not an option: unknown ones, operands, "--"
misuse "unknown option '--frob'" run --frob
misuse "unknown option '--frob'" run --vcpus 2 --frob=1
misuse "unknown option '-x'" run -x
misuse "unknown option 'foo'" run foo
misuse "unknown option 'foo'" run foo --vcpus=x
misuse "unknown option '--'" run --
misuse "unknown option '--'" run --vcpus 2 -- --json

# --- vipi bench -----------------------------------------------------
# bench_in DIR NAME 'PYTHON CHECK OF d' ARGS...: no KVM, so exit 4, and
# DIR/bench.json passes the check (c: its "config")
bench_in() {
	local dir=$1 name=$2 check=$3 rc
	shift 3
	rm -rf "$dir"
	"$VIPI" bench --no-lib "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	[ $rc = 4 ] && "$PY" -c "
import json, sys
d = json.load(open(sys.argv[1]))
c = d['config']
sys.exit(0 if ($check) else 1)" "$dir/bench.json"
	ok_rc $? "bench $name: vipi bench --no-lib $*"
	[ $rc = 4 ] || { echo "# exit $rc"; head -3 "$tmp/err" | sed 's/^/#   /'; }
}

# bench NAME CHECK ARGS...: the same into $tmp/b
bench() {
	local name=$1 check=$2
	shift 2
	bench_in "$tmp/b" "$name" "$check" --out "$tmp/b" "$@"
}

# --out DIR, -o DIR
bench_in "$tmp/o1" "--out DIR" 'd["complete"]' --out "$tmp/o1"
bench_in "$tmp/o2" "--out=DIR" 'd["complete"]' --out="$tmp/o2"
bench_in "$tmp/o3" "-o DIR" 'd["complete"]' -o "$tmp/o3"
misuse "--out needs a value" bench --out
misuse "-o needs a value" bench -o
# --vcpus N
bench "--vcpus N" 'c["vcpus"] == 8 and c["topology"] == "x86:dense:8"' \
	--vcpus 8
bench "--vcpus=N" 'c["vcpus"] == 8' --vcpus=8
misuse "--vcpus '1': 2 to 1024 (vipi's guest)" bench --vcpus=1
misuse "--vcpus needs a value" bench --vcpus
# --topology TOPO
bench "--topology TOPO" 'c["topology"] == "x86:dense:6" and c["vcpus"] == 6 and "sparse_topology" not in c' \
	--topology x86:dense:6
bench "--topology=TOPO" 'c["topology"] == "x86:stride:4:3"' \
	--topology=x86:stride:4:3
misuse "--topology 'arm64:kvm:4': the VMM runs x86 guests; give an x86 topology" \
	bench --topology=arm64:kvm:4
misuse "--topology needs a value" bench --topology
# --methods LIST
bench "--methods LIST" 'c["methods"] == ["vipi", "hv"]' --methods vipi,hv
bench "--methods=LIST" 'c["methods"] == ["kvm-pv"]' --methods=kvm-pv
misuse "--methods: 'nope' is not one of $M" bench --methods=vipi,nope
misuse "--methods ',': a comma-separated list of up to 16 methods" \
	bench --methods=,
misuse "--methods needs a value" bench --methods
# --workloads LIST
bench "--workloads LIST" 'c["workloads"] == ["storm", "broadcast"]' \
	--workloads storm,broadcast
bench "--workloads=LIST" 'c["workloads"] == ["shootdown"]' \
	--workloads=shootdown
misuse "--workloads: 'boot' is not one of multicast pingpong broadcast shootdown storm" \
	bench --workloads=boot
misuse "--workloads needs a value" bench --workloads
# --sizes LIST (one method, one mode, dense only: one case per size)
ONE="--methods x2apic-phys --modes user --workloads multicast --no-sparse --vcpus 8"
bench "--sizes LIST" 'd["cases_planned"] == 3' $ONE --sizes 1,2,max
bench "--sizes=LIST" 'd["cases_planned"] == 2' $ONE --sizes=2,N-1
misuse "--sizes '0': counts from 1 or 'max'" bench --sizes=0
misuse "--sizes: 8 targets, but 8 vCPUs have at most 7 besides the sender" \
	bench --vcpus 8 --sizes=8
misuse "--sizes needs a value" bench --sizes
# --modes LIST
bench "--modes LIST" 'd["cases_planned"] == 1' \
	--modes kernel --methods x2apic-phys --workloads pingpong --no-sparse
bench "--modes=LIST" 'd["cases_planned"] == 2' \
	--modes=kernel,user --methods x2apic-phys --workloads pingpong --no-sparse
misuse "--modes 'usr': user, kernel or user,kernel" bench --modes=usr
misuse "--modes needs a value" bench --modes
# --ops K
bench "--ops K" 'c["ops"] == 7 and c["pingpong_ops"] == 35' --ops 7
bench "--ops=K" 'c["ops"] == 7' --ops=7
misuse "--ops '100001': a count from 1 to 100000 (default 20; 4 with --quick)" \
	bench --ops=100001
misuse "--ops needs a value" bench --ops
# --repeat R
bench "--repeat R" 'c["repeat"] == 2' --repeat 2
bench "--repeat=R" 'c["repeat"] == 99' --repeat=99
misuse "--repeat '100': a count from 1 to 99 (default 3; 1 with --quick)" \
	bench --repeat=100
misuse "--repeat needs a value" bench --repeat
# --timeout S (per run: not in bench.json)
bench "--timeout S" 'd["complete"]' --timeout 5
bench "--timeout=S" 'd["complete"]' --timeout=5
misuse "--timeout '0': seconds, from 1" bench --timeout=0
misuse "--timeout needs a value" bench --timeout
# flags: --quick/-q, --no-lib, --no-sparse
bench "defaults" 'c["vcpus"] == 64 and c["ops"] == 20 and c["repeat"] == 3 and not c["quick"] and c["sparse_topology"] == "x86:stride:64:62" and d["lib"] is None'
bench "--quick" 'c["quick"] and c["vcpus"] == 16 and c["ops"] == 4 and c["repeat"] == 1' \
	--quick
bench "-q" 'c["quick"] and c["vcpus"] == 16' -q
bench "--quick with --vcpus" 'c["quick"] and c["vcpus"] == 8' --vcpus 8 -q
bench "--no-sparse" '"sparse_topology" not in c' --no-sparse
misuse "--quick=1 takes no value" bench --quick=1
misuse "--no-lib=1 takes no value" bench --no-lib=1
misuse "--no-sparse=1 takes no value" bench --no-sparse=1
# what is not an option
misuse "unknown option '--frob'" bench --frob
misuse "unknown option '--frob'" bench --frob=1
misuse "unknown option '-x'" bench -x
misuse "unknown benchmark 'frob' (the sweep takes options; 'bench lib', 'bench linux')" \
	bench --quick frob
misuse "unknown option '--'" bench -- --quick

# --- vipi bench linux ---------------------------------------------------
NODEV="vipi bench linux: $tmp/no-kvm: No such file or directory: every case boots a kernel"
SRC=${VIPI_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
LOG=$SRC/tests/data/bench-linux/vipi-user-4-nmi.log

# bl_misuse 'MESSAGE' ARGS...: exit 2, one line
bl_misuse() {
	local msg=$1
	shift
	expect misuse 2 "" \
		"vipi bench linux: $msg (usage: vipi bench linux --help)" \
		bench linux "$@"
}

# bl_accepted ARGS...: every option read (a kernel file given), the
# bench stops at the missing device
bl_accepted() {
	expect accepted 1 "" "$NODEV" bench linux --kernel "$tmp/mb.bin" "$@"
}

# bl_config NAME 'PYTHON CHECK OF c' ARGS...: `ARGS --parse LOG` exits 0
# and its "config" passes the check
bl_config() {
	local name=$1 check=$2 rc
	shift 2
	"$VIPI" bench linux "$@" --parse "$LOG" >"$tmp/out" 2>"$tmp/err" \
		</dev/null
	rc=$?
	[ $rc = 0 ] && "$PY" -c "
import json, sys
c = json.load(open(sys.argv[1]))['config']
sys.exit(0 if ($check) else 1)" "$tmp/out"
	ok_rc $? "bench linux $name: vipi bench linux $* --parse LOG"
	[ $rc = 0 ] || { echo "# exit $rc"; head -3 "$tmp/err" | sed 's/^/#   /'; }
}

# --vcpus N|LIST
bl_accepted --vcpus 8
bl_accepted --vcpus=2,4,200
bl_config "--vcpus N" 'c["max_vcpus"] == 8' --vcpus 8
bl_config "--vcpus=LIST" 'c["max_vcpus"] == 200' --vcpus=2,4,200
bl_misuse "--vcpus '1': N (2..N) or a list of up to 16 counts and ranges, each 2-256" \
	--vcpus=1
bl_misuse "--vcpus '2,257': N (2..N) or a list of up to 16 counts and ranges, each 2-256" \
	--vcpus 2,257
bl_misuse "--vcpus needs a value" --vcpus
# --kernel FILE
expect accepted 1 "" "$NODEV" bench linux --kernel="$tmp/mb.bin"
bl_config "--kernel FILE" "c['kernel'] == '$tmp/mb.bin'" --kernel "$tmp/mb.bin"
bl_config "--kernel=FILE" "c['kernel'] == '$tmp/mb.bin'" --kernel="$tmp/mb.bin"
expect "--kernel: a file that is not there" 1 "" \
	"vipi bench linux: --kernel $tmp/none: No such file or directory" \
	bench linux --kernel="$tmp/none"
bl_misuse "--kernel needs a value" --kernel
# --out DIR, -o DIR
bl_accepted --out "$tmp/bl"
bl_accepted --out="$tmp/bl"
bl_accepted -o "$tmp/bl"
bl_misuse "--out needs a value" --out
bl_misuse "-o needs a value" -o
# --paths LIST
bl_accepted --paths vipi,kernel
bl_accepted --paths=x2apic-phys,x2apic-cluster,hv
bl_misuse "--paths: unknown path 'x2apic-flat'" --paths=vipi,x2apic-flat
bl_misuse "--paths needs a value" --paths
# --layouts LIST
bl_accepted --layouts dense,stride:8
bl_accepted --layouts=sparse15:7,sparse:3
bl_misuse "--layouts: unknown layout 'zigzag' (dense, stride:S, sparse15:SEED, sparse:SEED)" \
	--layouts=dense,zigzag
bl_misuse "--layouts needs a value" --layouts
# --ops K
bl_accepted --ops 7
bl_accepted --ops=100000
bl_misuse "--ops '0': 1-100000" --ops=0
bl_misuse "--ops '100001': 1-100000" --ops 100001
bl_misuse "--ops needs a value" --ops
# --timeout S
bl_config "--timeout S" 'c["timeout_s"] == 5' --timeout 5
bl_config "--timeout=S" 'c["timeout_s"] == 7' --timeout=7
bl_config "the default timeout" 'c["timeout_s"] == 600'
bl_misuse "--timeout '0'" --timeout=0
bl_misuse "--timeout 'x'" --timeout x
bl_misuse "--timeout needs a value" --timeout
# --append ARGS
bl_config "--append ARGS" 'c["append"] == "a b=c"' --append "a b=c"
bl_config "--append=ARGS" 'c["append"] == "a b=c"' --append="a b=c"
bl_misuse "--append needs a value" --append
# flags: --quick/-q, combined short options, unique prefixes
bl_config "--quick" 'c["quick"]' --quick
bl_config "-q" 'c["quick"]' -q
bl_config "no --quick" 'not c["quick"]'
bl_misuse "--quick=1 takes no value" --quick=1
bl_accepted -qo "$tmp/bl"
bl_config "a unique prefix" 'c["timeout_s"] == 9 and c["quick"]' --time=9 --qu
# --parse FILE...: every operand after it is a console
expect "--parse: the operands are files" 1 "" \
	"vipi bench linux: cannot read --quick: No such file or directory" \
	bench linux --parse "$LOG" --quick
bl_misuse "--parse=1 takes no value" --parse=1
# what is not an option
bl_misuse "unknown option '--frob'" --frob
bl_misuse "unknown option '--frob'" --ops 5 --frob=1
bl_misuse "unknown option '-x'" -x
bl_misuse "unknown option 'foo'" foo
bl_misuse "unknown option 'foo'" foo --ops=x
bl_misuse "unknown option '--'" -- --quick

[ $n = 196 ] || echo "# ran $n tests, planned 196"
[ $fail = 0 ]
