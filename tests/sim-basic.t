#!/bin/bash
# SPDX-License-Identifier: MIT
# vipi sim and vipi report: the simulator's exit counts for fixed sets given
# as traces are the counts each method's rule gives; a seed repeats a
# run byte for byte; traces round-trip; unsupported methods say so; vipi's
# ABI is one exit at 262,144 vCPUs; the TLB-flush comparison adds up; the
# sweep and the report write their files.
set -u
VIPI=${VIPI:?set VIPI to the vipi binary}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# 1. exits per op for fixed sets, counted by hand from each method's rule
# (docs/abi.md, docs/sim.md, vipi encode --list) and the layout's IDs
# (docs/topology.md): x86:dense has APIC ID = vCPU, x86:stride:N:S has
# APIC ID S*i, arm64:kvm has Aff0 = i[3:0] and Aff1 = i[11:4],
# arm64:cluster:N:W has Aff0 = i mod W and Aff1 = i / W. The sender is
# vCPU 0 (the trace's default). Never compared with vipi encode, which
# runs the same encoder.
while read -r topo method list want why; do
	printf '0: %s\n' "$list" > "$T/one.trace"
	"$VIPI" sim -t "$topo" -m "$method" -S "trace:$T/one.trace" --no-timing --json > "$T/s.json"
	got=$(jget "$T/s.json" 'd["exits_per_op"]')
	[ "$(python3 -c "print(float('$got') == float('$want'))")" = True ]
	ok $? "$method on $topo, set $list: $got exits, want $want ($why)"
done <<'LIST'
x86:dense:64 x2apic-phys 1-9,33 10 one ICR write per target: 9 + 1
x86:dense:64 x2apic-cluster 1-9,33,40-47 2 one per 16-ID cluster: 1-9 in 0-15, 33 and 40-47 in 32-47
x86:stride:80:2 x2apic-cluster 1-79 10 APIC IDs 2..158: clusters 0-15 .. 144-159
x86:dense:64 xapic-phys 5,6 4 ICR_HI and ICR_LO per target: 2 x 2
x86:dense:1024 kvm-pv-linux 1,200,129,700-705 3 Linux's windows from the lowest ID: 1-128 {1}, 129-256 {129,200}, 700-827 {700-705}
x86:dense:1024 kvm-pv 1,200,129,700-705 3 1 and 129 are 128 apart so need two windows, 700-705 a third
x86:dense:1024 kvm-pv 1-128 1 128 IDs: one window 1-128
x86:dense:1024 kvm-pv 0-128 2 129 IDs: 0-127 and 128
x86:stride:80:2 kvm-pv 1-79 2 APIC IDs 2..158: windows 2-129 and 130-257
x86:dense:256 hv-linux 3,70,200 1 one SEND_IPI_EX: 200 is past 64, banks 0-3 (Linux sends the dense prefix)
x86:dense:256 hv 3,70,200 1 one SEND_IPI_EX with sparse banks 0, 1 and 3
x86:dense:256 hv 3,5 1 VP numbers below 64: one fast SEND_IPI
arm64:kvm:512 gicv3 1-40,511 4 one write per run of a 16-CPU cluster: 1-15, 16-31, 32-40, 511
arm64:cluster:256:64 gicv3 1-70,200 6 cluster 0 Aff0 1-63 in four RS ranges, 64-70 one, 200 one
arm64:cluster:256:64 gicv3-grouped 1-70,200 6 Aff1+RS groups: 0.0-3 four, 1.0 one, 3.0 one
x86:dense:4096 vipi 1,4095,77-99 1 vipi's ABI: any set in one call
LIST

# 2. the same seed gives the same report, another seed another
args=(-t x86:pkg:4:20:2 -m kvm-pv-linux -S random:0.2 -c 50 --no-timing --json)
"$VIPI" sim "${args[@]}" --seed 7 > "$T/a.json"
"$VIPI" sim "${args[@]}" --seed 7 > "$T/b.json"
"$VIPI" sim "${args[@]}" --seed 8 > "$T/c.json"
cmp -s "$T/a.json" "$T/b.json"; ok $? "seed 7 twice: byte-identical JSON"
! cmp -s "$T/a.json" "$T/c.json"; ok $? "seed 8 differs from seed 7"
for d in single node:16 allbutself mm:24 wake:10; do
	"$VIPI" sim -t arm64:kvm:300 -m gicv3 -S $d -c 20 --seed 3 --no-timing --json > "$T/a.json"
	"$VIPI" sim -t arm64:kvm:300 -m gicv3 -S $d -c 20 --seed 3 --no-timing --json > "$T/b.json"
	cmp -s "$T/a.json" "$T/b.json"; ok $? "distribution $d repeats for a seed"
done

# -s is still --seed in vipi sim (deprecated: it will mean --sender as in
# encode and decode), with one note on stderr; --seed says nothing
"$VIPI" sim "${args[@]}" --seed 7 > "$T/seed.json"
"$VIPI" sim "${args[@]}" -s 7 > "$T/s.json" 2> "$T/s.err"
cmp -s "$T/seed.json" "$T/s.json"; ok $? "-s 7 is --seed 7: byte-identical JSON"
[ "$(cat "$T/s.err")" = "vipi sim: -s is --seed here; use --seed (-s will mean --sender as in encode)" ]
ok $? "-s prints its one-line deprecation note on stderr"
"$VIPI" sim "${args[@]}" --seed 7 > /dev/null 2> "$T/s.err"
[ ! -s "$T/s.err" ]; ok $? "--seed prints no note"
"$VIPI" sim "${args[@]}" -s x > /dev/null 2> "$T/s.err"
[ $? = 2 ] && [ "$(wc -l < "$T/s.err")" = 1 ]; ok $? "-s with a bad value: exit 2, one line on stderr"

# 3. traces round-trip: the sets of a run, replayed, give the same sets
"$VIPI" sim -t x86:sparse:500:3 -m hv -S mm:40 -c 30 --seed 5 --no-timing --json --dump-sets "$T/t1" > "$T/r1.json"
"$VIPI" sim -t x86:sparse:500:3 -m hv -S "trace:$T/t1" --no-timing --json --dump-sets "$T/t2" > "$T/r2.json"
cmp -s "$T/t1" "$T/t2"; ok $? "a trace replayed dumps the same trace"
[ "$(wc -l < "$T/t1")" = 30 ]; ok $? "the trace has one line per set"
python3 - "$T/r1.json" "$T/r2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for k in ("sets", "seed"):
    a.pop(k); b.pop(k)
sys.exit(0 if a == b else 1)
PY
ok $? "replaying the trace gives the same results"
printf '# a comment\n\n3: 0-3,17\n 9 : 5 # trailing\n1,2\n' > "$T/t3"
"$VIPI" sim -t x86:dense:32 -m x2apic-phys -S "trace:$T/t3" --no-timing --json --dump-sets "$T/t4" > /dev/null
printf '3: 0-3,17\n9: 5\n0: 1-2\n' | cmp -s - "$T/t4"; ok $? "trace format: comments, blank lines, optional sender"
printf '0: 1-40\n' > "$T/t5"
"$VIPI" sim -t x86:dense:32 -m vipi -S "trace:$T/t5" --json > /dev/null 2>&1
[ $? = 1 ]; ok $? "a trace set outside the VM fails"

# 4. unsupported, with the reason
"$VIPI" sim -t x86:dense:8192 -m hv -S single --json > "$T/u.json"
[ "$(jget "$T/u.json" 'd["unsupported"] and "4095" in d["reason"]')" = True ]; ok $? "Hyper-V at 8192 vCPUs: unsupported, reason"
"$VIPI" sim -t arm64:cluster:128:64 -m gicv3 -S single --no-rss --json > "$T/u.json"
[ "$(jget "$T/u.json" 'd["unsupported"] and "range selector" in d["reason"]')" = True ]; ok $? "GICv3 without RS past Aff0 15: unsupported"
"$VIPI" sim -t arm64:cluster:128:64 -m gicv3 -S node:64 --no-timing --json > "$T/u.json"
[ "$(jget "$T/u.json" 'd["unsupported"] == False and d["exits_per_op"] == 4')" = True ]; ok $? "GICv3 with RS: a 64-wide cluster in 4 writes"
"$VIPI" sim -t x86:dense:1024 -m xapic-phys -S single --json > "$T/u.json"
[ "$(jget "$T/u.json" 'd["unsupported"]')" = True ]; ok $? "xAPIC past APIC ID 255: unsupported"
"$VIPI" sim -t arm64:kvm:64 -m x2apic-phys -S single --json > "$T/u.json"
[ "$(jget "$T/u.json" 'd["unsupported"] and "arm64" in d["reason"]')" = True ]; ok $? "an x86 method on arm64: unsupported"

# 5. vipi: one exit at 262,144 vCPUs
for d in allbutself random:0.05 single; do
	"$VIPI" sim -t x86:dense:262144 -m vipi -S $d -c 2 --json > "$T/v.json"
	[ "$(jget "$T/v.json" 'd["exits_per_op"] == 1 and d["max_exits_per_op"] == 1 and d["host_ns_per_target"] > 0')" = True ]
	ok $? "vipi, 262144 vCPUs, $d: exactly 1 exit"
done

# 6. PV TLB shootdown under overcommit
"$VIPI" sim -t x86:dense:1024 -m vipi -S mm:64 -c 40 --overcommit 2 --halted 0.2 --no-timing --json > "$T/o.json"
python3 - "$T/o.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["tlb_flush_compare"]
w, f = c["without_flag"], c["with_flag"]
ok = (w["delivered"] == 40 * 64 and f["deferred"] == w["targets_not_running"]
      and f["delivered"] + f["deferred"] == w["delivered"]
      and f["wakes"] == 0 and c["wakes_avoided"] == w["wakes"] > 0
      and f["kicks"] == w["kicks"] and abs(c["preempted"] - 0.5) < 1e-9)
sys.exit(0 if ok else 1)
PY
ok $? "TLB flush: not-running targets deferred, no wakes, running ones still kicked"

# 7. sweep and report
"$VIPI" sim --sweep --quick --no-timing --max-vcpus 64 --out "$T/sw" > "$T/sw.txt"
ok $? "sim --sweep --quick runs"
python3 - "$T/sw/sim.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["results"]
labels = {x["label"] for x in r}
ok = ({"vipi", "hv", "kvm-pv", "gicv3", "gicv3/no-rss", "xapic-phys"} <= labels
      and all(x["exits_per_op"] == 1 for x in r if x["label"] == "vipi")
      and any(x["unsupported"] and x["label"] == "gicv3/no-rss" for x in r)
      and all("reason" in x for x in r if x["unsupported"]))
sys.exit(0 if ok else 1)
PY
ok $? "sweep JSON: every method, vipi 1 exit, unsupported rows with reasons"
"$VIPI" report --in "$T/sw/sim.json" --out "$T/rep" > /dev/null
ok $? "report runs"
[ -s "$T/rep/report.md" ] && ls "$T/rep"/exits-*.svg > /dev/null 2>&1 && grep -q '<text' "$T/rep/exits-x86-dense-single.svg"
ok $? "report.md and SVG plots written"
python3 -c "import xml.dom.minidom,glob,sys; [xml.dom.minidom.parse(f) for f in glob.glob(sys.argv[1] + '/*.svg')]" "$T/rep"
ok $? "the SVGs are well-formed XML"

echo "1..$n"
exit $fail
