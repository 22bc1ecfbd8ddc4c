#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Results that survive (docs/cli.md "Progress and interruptions"):
# `vipi sim --sweep` prints one progress line per point on stderr and
# leaves stdout as it was; `vipi bench` rewrites bench.json after every
# case with "complete": false until the end, and SIGTERM keeps the cases
# that finished, marks the one under way "interrupted" and exits 128+15.
# The sim and no-KVM checks need no /dev/kvm; the interruption needs it
# and skips with a reason without.
set -u
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
export LC_ALL=C
VIPI=${VIPI:-$(cd "$(dirname "$0")/.." && pwd)/vipi}
PY=$(python3 -c 'import sys; print(sys.executable)') || exit 1
tmp=$(mktemp -d)
bench_pid=
trap '[ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
echo "1..16"

# --- sim --sweep: 16 points (4 layouts x 4 distributions, 16 vCPUs) ---
"$VIPI" sim --sweep --quick --no-timing --max-vcpus 16 --out "$tmp/sim" \
	>"$tmp/sim.out" 2>"$tmp/sim.err"
ok_rc $? "sim --sweep --max-vcpus 16 exits 0"
"$PY" - "$tmp/sim.err" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 16, lines
assert lines[0] == "vipi sim --sweep: point 1 of 16", lines[0]
for k, l in enumerate(lines[1:], 2):
    assert re.fullmatch(r"vipi sim --sweep: point %d of 16, about \d+ s left"
                        % k, l), l
EOF
ok_rc $? "sim --sweep: stderr is 'point K of 16', K = 1..16, an estimate from the second"
! grep -q 'point' "$tmp/sim.out" &&
	head -1 "$tmp/sim.out" | grep -q '^vipi sim --sweep --quick: exits per multicast'
ok_rc $? "sim --sweep: stdout has the tables, no progress lines"

# --- bench without KVM: the file is final, "complete": true ---
VIPI_KVM_DEVICE="$tmp/no-kvm" "$VIPI" bench --quick --no-lib \
	--out "$tmp/nokvm" >/dev/null 2>"$tmp/nokvm.err"
ok_rc $(($? != 4)) "bench without KVM exits 4"
"$PY" - "$tmp/nokvm/bench.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["complete"] is True, d["complete"]
assert d["cases"] == [], d["cases"]
assert d["cases_planned"] == d["kvm"]["cases_not_run"] > 0, d
EOF
ok_rc $? "bench without KVM: complete true, cases_planned = kvm.cases_not_run"
! ls "$tmp/nokvm" | grep -q '\.tmp$'
ok_rc $? "bench without KVM: no temporary file left"
! grep -q '^vipi bench: case ' "$tmp/nokvm.err"
ok_rc $? "bench without KVM: no progress lines (nothing runs)"

# --- bench on KVM: a full quick run, then one stopped by SIGTERM ---
if ! "$PY" -c 'import os, sys; os.close(os.open("/dev/kvm", os.O_RDWR))' \
	2>/dev/null; then
	for i in $(seq 9); do skip "/dev/kvm cannot be opened by this user"; done
	exit 0
fi
"$VIPI" bench --quick --no-lib --methods x2apic-phys --no-sparse \
	--modes user --out "$tmp/full" >/dev/null 2>"$tmp/full.err"
ok_rc $? "bench --quick (x2apic-phys, user) exits 0"
"$PY" - "$tmp/full/bench.json" "$tmp/full.err" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d["complete"] is True
assert len(d["cases"]) == d["cases_planned"] > 0, d["cases_planned"]
assert "interrupted_by_signal" not in d
prog = [l for l in open(sys.argv[2]).read().splitlines()
        if l.startswith("vipi bench: case ")]
N = d["cases_planned"]
assert len(prog) == N, prog
assert prog[0] == "vipi bench: case 1 of %d" % N, prog[0]
for k, l in enumerate(prog[1:], 2):
    assert re.fullmatch(r"vipi bench: case %d of %d, about \d+ s left"
                        % (k, N), l), l
EOF
ok_rc $? "bench: complete true, every planned case, 'case K of N' lines"

"$VIPI" bench --no-lib --sizes max --methods x2apic-phys,vipi \
	--out "$tmp/int" >"$tmp/int.out" 2>"$tmp/int.err" &
bench_pid=$!
# wait for the first case in bench.json (the file says complete: false)
for i in $(seq 600); do
	grep -q '"method"' "$tmp/int/bench.json" 2>/dev/null && break
	sleep 0.2
done
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["complete"] is False and len(d["cases"]) < d["cases_planned"]' \
	"$tmp/int/bench.json"
ok_rc $? "bench: while running, bench.json holds the finished cases, complete false"
kill -TERM "$bench_pid"
wait "$bench_pid"
rc=$?
bench_pid=
ok_rc $((rc != 143)) "bench: SIGTERM exits 128+15 (got $rc)"
"$PY" - "$tmp/int/bench.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["complete"] is False
assert d["interrupted_by_signal"] == 15
c = d["cases"]
assert 0 < len(c) < d["cases_planned"], (len(c), d["cases_planned"])
st = [x["status"] for x in c]
assert all(s in ("pass", "unsupported") for s in st[:-1]), st
assert st[-1] in ("pass", "unsupported", "interrupted"), st[-1]
EOF
ok_rc $? "bench: after SIGTERM, bench.json keeps the finished cases, the last may be interrupted"
grep -q '^vipi bench: interrupted (signal 15) after [0-9]* of [0-9]* cases: writing what finished$' \
	"$tmp/int.err"
ok_rc $? "bench: after SIGTERM, one line says so on stderr"
grep -q '^vipi bench: [0-9]* cases, 0 failed' "$tmp/int.out"
ok_rc $? "bench: after SIGTERM, the table and summary on stdout"
! ls "$tmp/int" | grep -q '\.tmp$'
ok_rc $? "bench: after SIGTERM, no temporary file left"
[ -s "$tmp/int/bench.svg" ]
ok_rc $? "bench: after SIGTERM, bench.svg drawn from the finished cases (multicast to N-1 first)"
