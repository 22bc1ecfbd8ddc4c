#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `vipi bench` reads what each `vipi run --json` child printed (docs/vmm.md
# has both JSON shapes) into its cases: the per-op figures, the counts,
# exits_source and the reason, for a passing run and for one that fails
# with a reason of its own (a --timeout of 1 s against 500000 ping-pongs);
# a case the mode cannot serve is settled without a child. Needs /dev/kvm,
# skips without.
set -u
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
export LC_ALL=C
VIPI=${VIPI:-$(cd "$(dirname "$0")/.." && pwd)/vipi}
PY=$(python3 -c 'import sys; print(sys.executable)') || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..8"

if ! "$PY" -c 'import os; os.close(os.open("/dev/kvm", os.O_RDWR))' \
	2>/dev/null; then
	for i in $(seq 8); do
		n=$((n + 1))
		echo "ok $n # skip /dev/kvm cannot be opened by this user"
	done
	exit 0
fi

# case CHECK: the python CHECK holds for bench.json's cases (c) in DIR
cases() {
	"$PY" -c "
import json, sys
c = json.load(open(sys.argv[1]))['cases']
sys.exit(0 if ($2) else 1)" "$1/bench.json"
}

"$VIPI" bench --quick --no-lib --no-sparse --methods x2apic-phys,vipi \
	--workloads pingpong --out "$tmp/ok" >/dev/null 2>"$tmp/ok.err"
ok_rc $? "bench: 2 methods x 2 modes of pingpong exit 0"
cases "$tmp/ok" '[(x["irqchip"], x["method"], x["status"]) for x in c] == [
    ("user", "x2apic-phys", "pass"), ("user", "vipi", "pass"),
    ("kernel", "x2apic-phys", "pass"), ("kernel", "vipi", "unsupported")]'
ok_rc $? "bench: the cases in order: user x2apic-phys, vipi pass; kernel vipi unsupported"
cases "$tmp/ok" 'all(x["reason"] == "guest passed: %s 20 ops" % x["method"] and
    x["exit_code"] == 0 and x["runs"] == 1 for x in c[:3])'
ok_rc $? "bench: a passing case has its run's reason ('guest passed: METHOD 20 ops') and exit 0"
cases "$tmp/ok" '[x["exits_source"] for x in c] ==
    ["vmm", "vmm", "kvm-binary-stats", ""]'
ok_rc $? "bench: exits_source from each run (vmm, kvm-binary-stats), none without a run"
cases "$tmp/ok" 'all(x["ops"] == 20 and x["expected"] > 0 and
    x["delivered"] == x["expected"] and x["lost"] == 0 and
    x["duplicated"] == 0 and x["sender_exits_per_op"] >= 1 and
    x["exits_per_op"] >= x["sender_exits_per_op"] and
    x["guest_ns_per_op"] > 0 and x["host_cpu_ns_per_op"] > 0 for x in c[:3])'
ok_rc $? "bench: a passing case has its run's figures (ops 20, delivered = expected, none lost)"
cases "$tmp/ok" 'c[3]["reason"].startswith("vipi: the in-kernel LAPIC mode has no vipi ABI") and
    c[3]["exit_code"] == 4 and c[3]["sender_exits_per_op"] is None'
ok_rc $? "bench: the unsupported case has run_check's reason, exit 4 and no figures"

"$VIPI" bench --quick --no-lib --no-sparse --methods x2apic-phys \
	--modes user --workloads pingpong --ops 100000 --timeout 1 \
	--out "$tmp/fail" >/dev/null 2>"$tmp/fail.err"
ok_rc $(($? != 1)) "bench: a case whose run fails: exit 1"
cases "$tmp/fail" 'len(c) == 1 and c[0]["status"] == "fail" and
    c[0]["exit_code"] == 1 and
    c[0]["reason"] == "the guest did not finish within 1 s (--timeout)" and
    c[0]["exits_source"] == "vmm" and c[0]["runs"] == 0 and c[0]["ops"] == 0'
ok_rc $? "bench: the failed case has the run's own reason and exits_source, its 0 ops, no passing runs"
