#!/bin/bash
# SPDX-License-Identifier: MIT
# vipi sim and vipi report: the simulator's exit counts equal the encoders'
# own (vipi encode --json) for fixed sets given as traces; a seed repeats a
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

# 1. exits per op = the encoder's exit count, for fixed sets
while read -r topo method list; do
	printf '0: %s\n' "$list" > "$T/one.trace"
	"$VIPI" sim -t "$topo" -m "$method" -S "trace:$T/one.trace" --no-timing --json > "$T/s.json"
	"$VIPI" encode --json -t "$topo" --sender 0 "$method" "$list" > "$T/e.json"
	got=$(jget "$T/s.json" 'd["exits_per_op"]')
	want=$(jget "$T/e.json" 'd["exits"]')
	[ "$(python3 -c "print(float('$got') == float('$want'))")" = True ]
	ok $? "$method on $topo, set $list: sim $got exits = encode $want"
done <<'LIST'
x86:dense:64 x2apic-phys 1-9,33
x86:dense:64 x2apic-cluster 1-9,33,40-47
x86:dense:1024 kvm-pv-linux 1,200,129,700-705
x86:dense:1024 kvm-pv 1,200,129,700-705
x86:stride:80:2 kvm-pv 1-79
x86:dense:256 hv-linux 3,70,200
x86:dense:256 hv 3,70,200
x86:dense:64 xapic-phys 5,6
arm64:kvm:512 gicv3 1-40,511
arm64:cluster:256:64 gicv3-grouped 1-70,200
x86:dense:4096 vipi 1,4095,77-99
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
