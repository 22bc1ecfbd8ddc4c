#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `vipi decode` against the command-line contract (docs/cli.md, issue 2):
# every source's documented examples, the architectural error names, exit
# 0 for a guest error and 2 for misuse, and the JSON shape (parsed by
# python3: sorted targets, count, delivery attributes, or error + ret).
set -u
VIPI=${VIPI:-$(cd "$(dirname "$0")/.." && pwd)/vipi}
# one interpreter start for the whole file (pyenv shims are slow)
PY=$(python3 -c 'import sys; print(sys.executable)') || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
k=0

# Each case leaves its kind, description, condition, exit status and
# output in $tmp/N.*; one python3 run judges them all at the end.
record() {
	k=$((k + 1))
	printf '%s' "$1" >"$tmp/$k.kind"
	printf '%s' "$2" >"$tmp/$k.desc"
	printf '%s' "$3" >"$tmp/$k.cond"
}

# dec DESCRIPTION CONDITION ARGS...: exit 0 and the JSON satisfies
# CONDITION (a python expression over d)
dec() {
	record json "$1" "$2"
	shift 2
	printf '%s' "vipi decode --json $*" >"$tmp/$k.cmd"
	"$VIPI" decode --json "$@" >"$tmp/$k.out" 2>"$tmp/$k.err"
	echo $? >"$tmp/$k.rc"
}

# misuse DESCRIPTION ARGS...: exit 2, a usage message, nothing on stdout
misuse() {
	record misuse "misuse: $1" ""
	shift
	printf '%s' "vipi decode $*" >"$tmp/$k.cmd"
	"$VIPI" decode "$@" >"$tmp/$k.out" 2>"$tmp/$k.err"
	echo $? >"$tmp/$k.rc"
}

# shell DESCRIPTION STATUS: a check done in the shell
shell() {
	record shell "$1" ""
	printf '' >"$tmp/$k.cmd"
	: >"$tmp/$k.out"
	: >"$tmp/$k.err"
	echo "$2" >"$tmp/$k.rc"
}

X8="--topology x86:dense:8"

# x2APIC ICR (SDM 10.12.9)
dec "x2apic physical unicast" \
	'd["targets"] == [3] and d["vector"] == 48 and d["mode"] == "fixed" and d["source"] == "x2apic"' \
	$X8 x2apic 0x300000030
dec "x2apic physical broadcast 0xffffffff reaches all" \
	'd["targets"] == list(range(8))' $X8 x2apic 0xffffffff00000030
dec "x2apic shorthand all-but-self" \
	'd["targets"] == list(range(1, 8))' $X8 x2apic 0xc0030
dec "x2apic shorthand all-including-self" \
	'd["targets"] == list(range(8))' $X8 x2apic 0x80030
dec "x2apic shorthand self from --sender 5" \
	'd["targets"] == [5] and d["sender"] == 5' $X8 --sender 5 x2apic 0x40030
dec "x2apic logical cluster 0, members 1 and 3" \
	'd["targets"] == [1, 3]' $X8 x2apic 0x0000000a00000830
dec "x2apic NMI" 'd["mode"] == "nmi" and d["targets"] == [3]' \
	$X8 x2apic 0x300000400
dec "x2apic level-triggered INIT assert" \
	'd["mode"] == "init" and d["trigger"] == "level" and d["level"] == 1' \
	$X8 x2apic 0x20000c500
dec "x2apic reserved bit 12 is #GP" \
	'd["error"] == "GP" and d["ret"] == 0' $X8 x2apic 0x1030
dec "x2apic fixed vector 15 is a send-illegal-vector error" \
	'd["error"] == "APIC_ESR_SEND_ILLEGAL_VECTOR"' $X8 x2apic 0x30000000f
dec "x2apic destination with no vCPU: no targets, no error" \
	'd["targets"] == []' $X8 x2apic 0x6400000030
dec "decimal values are accepted" 'd["targets"] == [3]' \
	$X8 x2apic 12884901936
dec "x2apic-self" 'd["targets"] == [2] and d["source"] == "x2apic-self"' \
	$X8 --sender 2 x2apic-self 0x30
dec "x2apic-self reserved bits are #GP" 'd["error"] == "GP"' \
	$X8 x2apic-self 0x130

# xAPIC ICR (SDM 10.6.1) with DFR/LDR defaults
dec "xapic physical" 'd["targets"] == [5]' $X8 xapic 0x30 0x05000000
dec "xapic physical 0xff broadcast" 'd["targets"] == list(range(8))' \
	$X8 xapic 0x30 0xff000000
dec "xapic flat logical: default LDR bit n for vCPU n" \
	'd["targets"] == [1, 3]' $X8 xapic 0x830 0x0a000000
dec "xapic cluster logical: cluster 0, members 0 and 1" \
	'd["targets"] == [0, 1]' $X8 --dfr cluster xapic 0x830 0x03000000
dec "xapic --ldr overrides one vCPU's logical ID" \
	'd["targets"] == [5, 7]' $X8 --ldr 5=0x80 xapic 0x830 0x80000000

# KVM_HC_SEND_IPI (Documentation/virt/kvm/x86/hypercalls.rst)
X200="--topology x86:dense:200"
dec "kvm-pv bitmap window from APIC ID 1" \
	'd["targets"] == [1, 2, 3, 70] and d["ret"] == 4' \
	$X200 kvm-pv 0x7 0x20 1 0x30
dec "kvm-pv destination-mode bit is KVM_EINVAL (-22)" \
	'd["error"] == "KVM_EINVAL" and d["ret"] == -22' \
	$X200 kvm-pv 0x7 0x20 1 0x830
dec "kvm-pv from CPL 3 is KVM_EPERM (-1)" \
	'd["error"] == "KVM_EPERM" and d["ret"] == -1' \
	$X200 --cpl 3 kvm-pv 0x7 0 1 0x30
dec "kvm-pv without the PV feature is KVM_ENOSYS (-1000)" \
	'd["error"] == "KVM_ENOSYS" and d["ret"] == -1000' \
	$X200 --no-pv kvm-pv 0x7 0 1 0x30
dec "kvm-pv 32-bit guest: 64-bit window, a1 is IDs 32..63" \
	'd["targets"] == [1, 2, 3, 38]' $X200 --32bit kvm-pv 0x7 0x20 1 0x30
dec "kvm-pv window at 0xffffffff never wraps to low APIC IDs" \
	'0 not in d.get("targets", []) and 1 not in d.get("targets", [])' \
	$X200 kvm-pv 0x6 0 0xffffffff 0x30
dec "kvm-pv NMI" 'd["mode"] == "nmi" and d["targets"] == [1]' \
	$X200 kvm-pv 1 0 1 0x400

# Hyper-V (TLFS HvCallSendSyntheticClusterIpi[Ex])
dec "hv-ipi fast form, VPs 1 and 2" \
	'd["targets"] == [1, 2] and d["source"] == "hv-ipi" and d["ret"] == 0' \
	$X200 hv-ipi 0x30 0x6
dec "hv-ipi vector below 0x10 is INVALID_HYPERCALL_INPUT" \
	'd["error"] == "HV_STATUS_INVALID_HYPERCALL_INPUT" and d["ret"] == 3' \
	$X200 hv-ipi 0x5 0x6
dec "hv-ipi from CPL 3 is #UD" 'd["error"] == "UD"' \
	$X200 --cpl 3 hv-ipi 0x30 0x6
dec "hv-ipi-ex sparse banks 0, 1, 2" \
	'd["targets"] == [1, 2, 3, 70, 150] and d["source"] == "hv-ipi-ex"' \
	$X200 hv-ipi-ex 0x30 0 0x7 0xe 0x40 0x400000
dec "hv-ipi-ex sparse with an empty bank" \
	'd["targets"] == [129]' $X200 hv-ipi-ex 0x30 0 0x5 0 0x2
dec "hv-ipi-ex format ALL" 'd["targets"] == list(range(200))' \
	$X200 hv-ipi-ex 0x30 1 0
dec "hv-ipi-ex fewer banks than the valid mask says" \
	'd["error"] == "HV_STATUS_INVALID_HYPERCALL_INPUT"' \
	$X200 hv-ipi-ex 0x30 0 0x3 0x1
dec "hv-ipi-ex unknown format is INVALID_PARAMETER" \
	'd["error"] == "HV_STATUS_INVALID_PARAMETER" and d["ret"] == 5' \
	$X200 hv-ipi-ex 0x30 2 0
dec "hv-raw XMM fast EX" 'd["targets"] == [1, 2, 3, 70, 150]' \
	$X200 hv-raw 0x70015 0x30 0 --xmm 0x7,0xe,0x40,0x400000
dec "hv-raw EX input from --mem" 'd["targets"] == [1, 2, 3, 70, 150]' \
	$X200 hv-raw 0x60015 0x100000 0 --mem 0x100000:3000000000000000000000000000000007000000000000000e0000000000000040000000000000000000400000000000
dec "hv-raw input outside guest RAM is an error, not a read" \
	'"error" in d' $X200 hv-raw 0x30015 0x200000 0
dec "hv-raw unknown call code is INVALID_HYPERCALL_CODE" \
	'd["error"] == "HV_STATUS_INVALID_HYPERCALL_CODE" and d["ret"] == 2' \
	$X200 hv-raw 0x99 0 0

# GICv3 SGI registers (IHI 0069)
A64="--topology arm64:kvm:64"
dec "gicv3 sgi1r Aff1=2, TargetList 0xff00" \
	'd["targets"] == list(range(40, 48)) and d["vector"] == 1 and d["group"] == 1' \
	$A64 gicv3 sgi1r 0x102ff00
dec "gicv3 sgi1r IRM: all but self" \
	'd["targets"] == list(range(64)) [:3] + list(range(4, 64))' \
	$A64 --sender 3 gicv3 sgi1r 0x10000000000
dec "gicv3 asgi1r is group 1 alias (group 2)" \
	'd["group"] == 2 and d["source"] == "gicv3-asgi1r"' \
	$A64 gicv3 asgi1r 0x10000010001
dec "gicv3 sgi0r is group 0" \
	'd["group"] == 0 and d["targets"] == list(range(1, 64))' \
	$A64 gicv3 sgi0r 0x10001000001
RSS="--topology arm64:mpidr:0-31"
dec "gicv3 RS=1 reaches Aff0 16" 'd["targets"] == [16]' \
	$RSS gicv3 sgi1r 0x100000000001
dec "gicv3 --no-rss ignores RS, as KVM and QEMU do" 'd["targets"] == [0]' \
	$RSS --no-rss gicv3 sgi1r 0x100000000001
dec "gicv3 RS past the last Aff0 reaches nobody" 'd["targets"] == []' \
	$RSS gicv3 sgi1r 0xf00000000001

# vipi's ABI (docs/abi.md)
dec "vipi SEND_IPI, blocks form" \
	'd["targets"] == [1] and d["ret"] == 1 and d["source"] == "vipi"' \
	$X8 vipi 0xc6005601 0x10030 0x1 0x1
dec "vipi SEND_IPI ALL with TLB flush" \
	'd["targets"] == list(range(8)) and d["flags"] == ["tlb_flush"] and d["ret"] == 8' \
	$X8 vipi 0xc6005601 0x31030 0 0 0 0
dec "vipi vector below 16 is VIPI_EINVAL" \
	'd["error"] == "VIPI_EINVAL" and d["ret"] == -22' \
	$X8 vipi 0xc6005601 0x1 0x1 0x1
dec "vipi from user mode is VIPI_EPERM" \
	'd["error"] == "VIPI_EPERM" and d["ret"] == -1' \
	$X8 --cpl 3 vipi 0xc6005601 0x10030 0x1 0x1
dec "vipi unknown function is VIPI_ENOSYS" 'd["error"] == "VIPI_ENOSYS"' \
	$X8 vipi 0x1234

# Misuse: exit 2 with a usage message
misuse "no topology" x2apic 1
misuse "no source" $X8
misuse "unknown source" $X8 bogus 1
misuse "bad number" $X8 x2apic 0xzz
misuse "octal-looking number" $X8 x2apic 010
misuse "negative number" $X8 x2apic -1
misuse "number above 64 bits" $X8 x2apic 0x10000000000000000
misuse "missing value" $X8 kvm-pv 1 2 3
misuse "too many values" $X8 x2apic 1 2
misuse "bad topology" --topology x86:nope:3 x2apic 1
misuse "sender outside the topology" $X8 --sender 8 x2apic 1
misuse "x86 source on an arm64 topology" $A64 x2apic 1
misuse "arm64 source on an x86 topology" $X8 gicv3 sgi1r 1
misuse "unknown SGI register" $A64 gicv3 sgi2r 1
misuse "unknown option" $X8 --frobnicate x2apic 1
misuse "--cpl above 3" $X8 --cpl 4 kvm-pv 1 0 0 0x30
misuse "--dfr neither flat nor cluster" $X8 --dfr logical xapic 0x830
misuse "ICR_LO above 32 bits" $X8 xapic 0x100000000
misuse "hv-ipi vector above 32 bits" $X8 hv-ipi 0x100000000 1
misuse "--mem without hex bytes" $X8 --mem 0x1000:xyz vipi 1

# The readable form and --help
out=$("$VIPI" decode $X8 x2apic 0x300000030)
[ $? = 0 ] && [[ "$out" == *"1 target [3]"* ]]
shell "readable line without --json" $?
out=$("$VIPI" decode $X8 x2apic 0x1030)
[ $? = 0 ] && [[ "$out" == *"error GP"* ]]
shell "readable error line, exit 0" $?
"$VIPI" decode --help | grep -q '^usage: vipi decode'
shell "--help prints the usage on stdout, exit 0" $?

"$PY" - "$tmp" "$k" <<'PYEOF'
import json, sys

tmp, count = sys.argv[1], int(sys.argv[2])
failed = 0


def read(i, ext):
    with open("%s/%d.%s" % (tmp, i, ext)) as f:
        return f.read()


def shape(d):
    """The keys every answer has (docs/cli.md)."""
    if "error" in d:
        return set(d) == {"source", "sender", "error", "ret"} and \
            isinstance(d["ret"], int)
    t = d["targets"]
    return t == sorted(set(t)) and d["count"] == len(t) and \
        all(k in d for k in ("source", "sender", "vector", "mode", "level",
                             "trigger", "group", "flags", "ret"))


for i in range(1, count + 1):
    kind, desc, cond = read(i, "kind"), read(i, "desc"), read(i, "cond")
    rc, out, err = int(read(i, "rc")), read(i, "out"), read(i, "err")
    if kind == "json":
        try:
            d = json.loads(out)
            good = rc == 0 and shape(d) and bool(eval(cond))
        except Exception as e:
            good = False
            err += "\n" + repr(e)
    elif kind == "misuse":
        good = rc == 2 and out == "" and "usage:" in err
    else:
        good = rc == 0
    print("%sok %d - %s" % ("" if good else "not ", i, desc))
    if not good:
        failed += 1
        print("# rc=%d: %s" % (rc, read(i, "cmd")))
        for line in (out + err).splitlines():
            print("# " + line)
print("1..%d" % count)
sys.exit(1 if failed else 0)
PYEOF
