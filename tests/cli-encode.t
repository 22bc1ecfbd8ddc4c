#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `vipi encode` against the command-line contract (docs/cli.md, issue 2):
# the exits and raw values of every contract method, "error" with exit 0
# when a method cannot address a set, exit 2 for misuse; then round trips:
# each operation `vipi encode` prints, fed back to `vipi decode` as raw
# values, gives back the CPU list; and `--verify` over random sets for
# every method in the table.
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

# enc DESCRIPTION CONDITION ARGS...: exit 0 and the JSON satisfies
# CONDITION (a python expression over d; ops(d) lists the op values)
enc() {
	record json "$1" "$2"
	shift 2
	printf '%s' "vipi encode --json $*" >"$tmp/$k.cmd"
	"$VIPI" encode --json "$@" >"$tmp/$k.out" 2>"$tmp/$k.err"
	echo $? >"$tmp/$k.rc"
}

# misuse DESCRIPTION ARGS...: exit 2, a usage message, nothing on stdout
misuse() {
	record misuse "misuse: $1" ""
	shift
	printf '%s' "vipi encode $*" >"$tmp/$k.cmd"
	"$VIPI" encode "$@" >"$tmp/$k.out" 2>"$tmp/$k.err"
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
X64="--topology x86:dense:64"

# The contract methods, with the values a guest writes
enc "x2apic-phys: one ICR write per target" \
	'd["exits"] == 3 and vals(d) == ["0x100000030", "0x200000030", "0x300000030"] and all(o["kind"] == "wrmsr" and o["reg"] == "0x830" for o in d["ops"])' \
	$X8 x2apic-phys 1-3
enc "x2apic-cluster: one write for a whole cluster" \
	'd["exits"] == 1 and vals(d) == ["0xffff00000830"]' \
	$X64 x2apic-cluster 0-15
enc "x2apic-cluster: one write per cluster" 'd["exits"] == 4' \
	$X64 x2apic-cluster 0,16,32,48
enc "x2apic-phys NMI" 'vals(d) == ["0x100000400"] and d["mode"] == "nmi"' \
	$X8 --nmi x2apic-phys 1
enc "kvm-pv-linux: APIC IDs 1, 128, 0 cost two calls (Linux's window)" \
	'd["exits"] == 2 and [o["rdx"] for o in d["ops"]] == ["0x1", "0x0"] and all(o["rax"] == "0xa" for o in d["ops"])' \
	--topology x86:ids:1,128,0 kvm-pv-linux 0-2
enc "kvm-pv: 256 dense IDs in two 128-ID windows" 'd["exits"] == 2' \
	--topology x86:dense:256 kvm-pv 0-255
enc "kvm-pv: RSI carries the ICR low word" \
		'd["ops"][0]["rsi"] == "0x40" and d["ops"][0]["rbx"] == "0x3" and d["ops"][0]["rdx"] == "0x1"'  \
	$X8 --vector 0x40 kvm-pv 1,2
enc "hv-linux: VPs below 64 use the fast call" \
	'd["exits"] == 1 and d["ops"][0]["rcx"] == "0x1000b" and d["ops"][0]["r8"] == "0x6" and not d["ops"][0]["xmm_fast"]' \
	--topology x86:dense:100 hv-linux 1,2
enc "hv-linux: VP 4095 sends a dense prefix of 64 banks in memory" \
	'd["exits"] == 1 and d["ops"][0]["rcx"] == "0x800015" and d["ops"][0]["mem"]["len"] == 536 and d["ops"][0]["mem"]["gpa"] == "0x100000"' \
	--topology x86:dense:4096 hv-linux 4095
enc "hv: VP 4095 in one XMM fast call with one bank" \
	'd["exits"] == 1 and d["ops"][0]["xmm_fast"] and len(d["ops"][0]["xmm"]) == 12' \
	--topology x86:dense:4096 hv 4095
enc "gicv3: one SGI1R write per run of a cluster" \
	'd["exits"] == 3 and all(o["kind"] == "sysreg_write" and o["reg"] == "sgi1r" for o in d["ops"])' \
	--topology arm64:kvm:64 gicv3 1-3,17,40-47
enc "gicv3: Aff0 above 15 with the range selector" \
	'd["exits"] == 1 and vals(d) == ["0x100001000010"]' \
	--topology arm64:mpidr:0-31 gicv3 20
enc "vipi: 262,143 targets in one exit" \
	'd["exits"] == 1 and d["ops"][0]["kind"] == "vipi_call" and d["count"] == 262143' \
	--topology x86:dense:262144 vipi 1-262143
enc "vipi: a sparse set of 262,144 vCPUs in one exit, descriptor in memory" \
	'd["exits"] == 1 and "mem" in d["ops"][0]' \
	--topology x86:dense:262144 vipi 1,1000,5000,100000,200000,262143
enc "vipi on arm64: one exit" 'd["exits"] == 1' \
	--topology arm64:kvm:512 vipi 0-511
enc "empty CPU list: no exits" 'd["exits"] == 0 and d["ops"] == []' \
	$X8 x2apic-phys ''
enc "--verify decodes every op back to the set" \
	'd["verified"] is True' --topology x86:dense:300 --verify kvm-pv-linux 0,130,299

# A method that cannot address the set: "error", exit 0
enc "hv past VP 4095 is ERANGE" \
	'd["error"] == "ERANGE" and "message" in d and "ops" not in d' \
	--topology x86:dense:5000 hv 4500
enc "gicv3 Aff0 above 15 without the range selector is ERANGE" \
	'd["error"] == "ERANGE"' --topology arm64:mpidr:0-31 --no-rss gicv3 20
enc "hv cannot send an NMI: EOPNOTSUPP" 'd["error"] == "EOPNOTSUPP"' \
	$X8 --nmi hv 1-3
enc "a shorthand with a set it does not reach: EINVAL" \
	'd["error"] == "EINVAL"' $X8 x2apic-all 1-3

# Misuse: exit 2 with a usage message
misuse "no topology" x2apic-phys 1
misuse "unknown method" $X8 x2apic-telepathy 1
misuse "no CPU list" $X8 x2apic-phys
misuse "CPU beyond the topology" $X8 x2apic-phys 8
misuse "bad CPU list" $X8 x2apic-phys 1-
misuse "reversed range" $X8 x2apic-phys 5-1
misuse "arm64 method on an x86 topology" $X8 gicv3 1
misuse "x86 method on an arm64 topology" --topology arm64:kvm:8 kvm-pv 1
misuse "--vector above 255" $X8 --vector 256 x2apic-phys 1
misuse "unknown --mode" $X8 --mode loud x2apic-phys 1
misuse "sender outside the topology" $X8 --sender 9 x2apic-phys 1
misuse "bad topology" --topology x86:dense:0 x2apic-phys 1

# --list, the readable form and --help
out=$("$VIPI" encode --list)
rc=$?
for m in x2apic-phys x2apic-cluster kvm-pv-linux kvm-pv hv-linux hv gicv3 vipi; do
	grep -q "^$m " <<<"$out" || rc=1
done
shell "--list names every contract method" $rc
out=$("$VIPI" encode $X8 x2apic-phys 1-3)
[ $? = 0 ] && [[ "$out" == "x2apic-phys: 3 exits for 3 targets"* ]]
shell "readable output without --json" $?
"$VIPI" encode --help | grep -q '^usage: vipi encode'
shell "--help prints the usage on stdout, exit 0" $?

"$PY" - "$tmp" "$k" "$VIPI" <<'PYEOF'
import json, random, subprocess, sys

tmp, count, vipi = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = failed = 0


def report(good, desc, diag=""):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if good else "not ", n, desc))
    if not good:
        failed += 1
        for line in diag.splitlines():
            print("# " + line)


def read(i, ext):
    with open("%s/%d.%s" % (tmp, i, ext)) as f:
        return f.read()


def vals(d):
    return [o["val"] for o in d["ops"]]


def shape(d):
    """The keys every answer has (docs/cli.md)."""
    common = all(k in d for k in ("method", "topology", "sender", "vector",
                                  "mode", "count"))
    if "error" in d:
        return common and "exits" not in d
    return common and d["exits"] == len(d["ops"]) and \
        all("kind" in o for o in d["ops"])


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
    report(good, desc, "rc=%d: %s\n%s%s" % (rc, read(i, "cmd"), out, err))


def run(args):
    p = subprocess.run([vipi] + args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def parse_list(s):
    cpus = set()
    for part in filter(None, s.split(",")):
        a, _, b = part.partition("-")
        cpus.update(range(int(a, 0), int(b or a, 0) + 1))
    return cpus


def decode_args(op, hi):
    """The `vipi decode` arguments for one op; None for ICR_HI writes."""
    k = op["kind"]
    mem = ["--mem", "%s:%s" % (op["mem"]["gpa"], op["mem"]["hex"])] \
        if "mem" in op else []
    if k == "wrmsr":
        src = "x2apic" if op["reg"] == "0x830" else "x2apic-self"
        return [src, op["val"]]
    if k == "mmio_write32":
        return None if op["reg"] == "0x310" else ["xapic", op["val"], hi]
    if k == "kvm_hypercall":
        return ["kvm-pv", op["rbx"], op["rcx"], op["rdx"], op["rsi"]]
    if k == "hv_hypercall":
        xmm = ["--xmm", ",".join(op["xmm"])] if op["xmm_fast"] else []
        return ["hv-raw", op["rcx"], op["rdx"], op["r8"]] + xmm + mem
    if k == "sysreg_write":
        return ["gicv3", op["reg"], op["val"]]
    if k == "vipi_call":
        return ["vipi", op["fn"]] + [op["a%d" % j] for j in range(5)] + mem
    raise ValueError(k)


def round_trip(method, topo, cpus, sender=0):
    base = ["--json", "--topology", topo, "--sender", str(sender)]
    desc = "round trip %s %s on %s" % (method, cpus, topo)
    rc, out, err = run(["encode"] + base + [method, cpus])
    if rc:
        return report(False, desc, "encode rc=%d %s" % (rc, err))
    enc = json.loads(out)
    got, hi, diag = set(), "0x0", ""
    for op in enc.get("ops", []):
        if op["kind"] == "mmio_write32" and op["reg"] == "0x310":
            hi = op["val"]
        args = decode_args(op, hi)
        if args is None:
            continue
        rc, out, err = run(["decode"] + base + args)
        d = json.loads(out) if rc == 0 else {"error": err}
        if "error" in d:
            diag += "decode %s: %s\n" % (" ".join(args), d["error"])
            continue
        got.update(d["targets"])
    want = parse_list(cpus)
    report("error" not in enc and got == want and not diag, desc,
           diag + "encode: %s\ngot %s" % (enc, sorted(got)))


# Every op printed by encode, fed to decode as raw values
round_trip("x2apic-phys", "x86:dense:64", "1-3,17,40")
round_trip("x2apic-cluster", "x86:dense:64", "1-3,17,40-47,63")
round_trip("xapic-phys", "x86:dense:16", "1,5,7")
round_trip("kvm-pv-linux", "x86:ids:1,128,0", "0-2")
round_trip("kvm-pv-linux", "x86:stride:64:3", "0-5,40-63", sender=2)
round_trip("kvm-pv", "x86:dense:300", "0,130,299")
round_trip("kvm-pv", "x86:sparse:40:7", "1,2,30-39")
round_trip("hv-linux", "x86:dense:100", "1,2")
round_trip("hv-linux", "x86:dense:300", "1,100,299")
round_trip("hv", "x86:dense:300", "1,100,299")
round_trip("hv", "x86:dense:4096", "0-4095")
round_trip("gicv3", "arm64:kvm:64", "1-3,17,40-47")
round_trip("gicv3", "arm64:mpidr:0-31", "0,16-20,31")
round_trip("vipi", "x86:dense:64", "1-3,17,40")
round_trip("vipi", "x86:dense:262144", "1,1000,5000,100000,200000,262143")
round_trip("vipi", "arm64:kvm:512", "3,100-130,511")

# --verify over random sets, every method in the table
rng = random.Random(20260522)
rc, out, err = run(["encode", "--list"])
methods = [(l.split()[0], l.split()[1]) for l in out.splitlines()]
report(rc == 0 and len(methods) >= 8, "--list prints the method table")
topos = {"x86": ["x86:dense:96", "x86:pkg:2:24:2", "x86:stride:80:5"],
         "arm64": ["arm64:kvm:96", "arm64:mpidr:0-47,0x100-0x10f"]}
nr_vcpus = {t: json.loads(run(["topo", "--json", t])[1])["vcpus"]
            for ts in topos.values() for t in ts}
for name, arch in methods:
    for topo in topos["x86" if arch.startswith("x86") else "arm64"]:
        nr = nr_vcpus[topo]
        sender = rng.randrange(nr)
        if name in ("x2apic-all",):
            cpus = "0-%d" % (nr - 1)
        elif name in ("x2apic-allbutself", "gicv3-irm"):
            cpus = ",".join(str(c) for c in range(nr) if c != sender)
        elif name == "x2apic-self":
            cpus = str(sender)
        elif name == "xapic-phys" and "stride" in topo:
            continue  # APIC IDs past 0xfe have no xAPIC physical name
        else:
            cpus = ",".join(str(c) for c in
                            sorted(rng.sample(range(nr), rng.randrange(1, nr))))
        args = ["encode", "--json", "--verify", "--topology", topo,
                "--sender", str(sender), name, cpus]
        rc, out, err = run(args)
        try:
            d = json.loads(out)
            good = rc == 0 and d.get("verified") is True
        except ValueError:
            good = False
        report(good, "--verify %s on %s, %d CPUs" % (name, topo,
                                                      len(parse_list(cpus))),
                              "vipi %s\nrc=%d %s%s" % (" ".join(args), rc, out[:400],
                                         "\n".join(err.splitlines()[:3])))

print("1..%d" % n)
sys.exit(1 if failed else 0)
PYEOF
