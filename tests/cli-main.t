#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The `vipi` command itself (docs/cli.md): subcommand dispatch, help and
# version, exit 2 for misuse, `vipi topo`, and one smoke run of `vipi
# bench lib --quick` whose JSON must parse and show vipi's ABI at one exit
# for every set (the numbers themselves are not checked: a benchmark is
# not a test).
set -u
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
VIPI=${VIPI:-$(cd "$(dirname "$0")/.." && pwd)/vipi}
PY=$(python3 -c 'import sys; print(sys.executable)') || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# status EXPECTED DESCRIPTION ARGS...: the exit status of `vipi ARGS`
status() {
	local want=$1 desc=$2 rc
	shift 2
	"$VIPI" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ok_rc $([ $rc = "$want" ] && echo 0 || echo 1) "$desc (exit $want)"
	[ $rc = "$want" ] || sed 's/^/# /' "$tmp/out" "$tmp/err"
}

status 2 "no command"
grep -q '^usage: vipi' "$tmp/err"
ok_rc $? "no command prints the usage on stderr"
status 2 "unknown command" frobnicate
status 0 "help" help
for cmd in encode decode topo bench; do
	grep -q "^  $cmd " "$tmp/out"
	ok_rc $? "help lists $cmd"
done
status 0 "--help" --help
status 0 "help for one command" help decode
grep -q '^usage: vipi decode' "$tmp/out"
ok_rc $? "help decode prints decode's usage"
status 2 "help for an unknown command" help frobnicate
status 0 "--version" --version
grep -Eq '^vipi [0-9]+\.[0-9]+$' "$tmp/out"
ok_rc $? "--version prints 'vipi MAJOR.MINOR'"
for cmd in encode decode topo "bench lib" bench; do
	status 0 "$cmd --help" $cmd --help
done

# vipi topo
status 0 "topo" topo x86:pkg:2:24:2
grep -q '96 vCPUs' "$tmp/out"
ok_rc $? "topo counts the vCPUs"
"$VIPI" topo --json --all arm64:kvm:20 >"$tmp/topo.json"
"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = d["arch"] == "arm64" and d["vcpus"] == 20 and len(d["mpidrs"]) == 20 \
    and d["mpidrs"][17] == "0x101" and d["ids_complete"] and \
    d["needs_rss"] is False and d["bytes"] > 0 and d["max_probes"] >= 1
sys.exit(0 if ok else 1)' "$tmp/topo.json"
ok_rc $? "topo --json --all: arch, count, KVM's MPIDR layout"
status 2 "topo with a bad topology" topo x86:dense:0
status 2 "topo without a topology" topo

# vipi bench lib: runs, writes JSON, vipi's ABI costs one exit per set
status 2 "bench lib with an unknown option" bench lib --frobnicate
status 2 "bench with an unknown benchmark" bench frobnicate
status 0 "bench lib --quick" bench lib --quick --out "$tmp/bench.json"
"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
cases = d["cases"]
vipi = [c for c in cases if c["decoder"] == "vipi"]
names = {c["decoder"] for c in cases}
ok = {"x2apic-phys", "x2apic-cluster", "kvm-pv", "hv-ipi-ex", "gicv3-sgi1r",
      "vipi"} <= names and \
    {"linear-mpidr-scan", "membership-walk"} <= {c["impl"] for c in cases} \
    and all(c["calls"] == 1 for c in vipi) and \
    max(c["vcpus"] for c in vipi) == 262144 and \
    d["machine"]["nproc"] >= 1 and d["machine"]["cpu_model"] and \
    all(c["ns_per_call"] > 0 for c in cases) and len(d["ratios"]) >= 3 \
    and d["memory"] and not d["skipped"]
sys.exit(0 if ok else 1)' "$tmp/bench.json"
ok_rc $? "bench lib JSON: every decoder, both baselines, vipi at 1 exit up to 262144 vCPUs"
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["machine"]
sys.exit(0 if m["cpu_model"] and m["cpu"] == m["cpu_model"] else 1)' "$tmp/bench.json"
ok_rc $? "bench lib JSON: machine.cpu_model as in bench.json, and cpu (one more release) the same"
# (exit 4 where KVM cannot be used: the library benchmark still runs)
(cd "$tmp" && "$VIPI" bench --quick --out bench-dir >/dev/null 2>&1)
[ -s "$tmp/bench-dir/bench-lib.json" ]
ok_rc $? "bench --out DIR writes DIR/bench-lib.json"

echo "1..$n"
[ $fail = 0 ]
