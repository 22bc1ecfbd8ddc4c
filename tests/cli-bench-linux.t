#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# `vipi bench linux --parse` (vmm/bench-linux.c) on consoles and run JSON
# of real boots of linux/build-kernel.sh's kernel with vipi_bench=1
# (tests/data/bench-linux/, the benchmark's lines cut out of the logs of
# the runs in docs/linux.md "Measured"): no KVM needed. The expected
# values are the lines' own numbers and the derivation rules of
# docs/linux.md "vipi bench linux".
use strict;
use warnings;
use JSON::PP;

my $src = $ENV{VIPI_SRC} // '.';
my $vipi = $ENV{VIPI} // "$src/vipi";
my $d = "$src/tests/data/bench-linux";
my ($n, $failed) = (0, 0);

print "1..91\n";

sub ok {
	my ($c, $name) = @_;
	$n++;
	print(($c ? "ok" : "not ok") . " $n - $name\n");
	$failed++ unless $c;
}

sub is {
	my ($got, $want, $name) = @_;
	my $g = defined $got ? $got : 'null';
	my $w = defined $want ? $want : 'null';
	ok($g eq $w, $name);
	print "# got '$g', want '$w'\n" unless $g eq $w;
}

my @files = map { "$d/$_" } qw(x2apic-phys-user-4.log vipi-user-4.log
    hv-user-2.log truncated-user-2.log x2apic-phys-kernel-2.log);
my $out = `"$vipi" bench linux --parse @files`;
is($? >> 8, 0, 'bench linux --parse exits 0');
my $doc = eval { decode_json($out) };
ok($doc, 'its output is one JSON document');
$doc //= { runs => [], cases => [] };
is($doc->{schema}, 'vipi-bench-linux/1', 'schema vipi-bench-linux/1');
is(scalar @{ $doc->{runs} }, 5, 'one run per console');

my @r = @{ $doc->{runs} };
is(join(',', map { "$_->{path}/$_->{irqchip}/$_->{vcpus}" } @r),
    'x2apic-phys/user/4,vipi/user/4,hv/user/2,x2apic-phys/user/2,x2apic-phys/kernel/2',
    'runs: path from the console (vipi_ipi=1, Hyper-V detected), irqchip from the JSON, vCPUs from cpus=');
is($r[0]{apic_routing}, 'physical x2apic',
    'the routing of "Switched APIC routing to physical x2apic."');
is($r[0]{exits}{x2apic_icr}, 538, 'whole-run exits.x2apic_icr from the JSON');
is($r[1]{exits}{vipi}, 435, 'whole-run exits.vipi from the JSON');
is($r[2]{exits}{hv_hypercall}, 202, 'whole-run exits.hv_hypercall from the JSON');
is($r[3]{status}, 'fail', 'a console without "vipi_bench: done" fails the run');

# the case of (run index, test, state)
sub case {
	my ($ri, $test, $state) = @_;
	my $r = $r[$ri];
	for my $c (@{ $doc->{cases} }) {
		return $c if $c->{path} eq $r->{path} &&
		    $c->{irqchip} eq $r->{irqchip} &&
		    $c->{vcpus} == $r->{vcpus} && defined $c->{test} &&
		    $c->{test} eq $test && $c->{state} eq $state;
	}
	return {};
}

my $per_run = sub {
	my $ri = shift;
	scalar grep { $_->{path} eq $r[$ri]{path} &&
	    $_->{vcpus} == $r[$ri]{vcpus} } @{ $doc->{cases} };
};
is($per_run->(0), 16, '4 vCPUs: 8 tests idle + 8 busy (sizes 1, 2, 3)');
is($per_run->(2), 8, '2 vCPUs: 4 tests idle + 4 busy (size 1)');

my $c = case(0, 'unicast', 'idle');
is($c->{guest_ns_per_op}, 1665797, 'unicast idle: ns_per_op=1665797');
is($c->{targets}, 1, 'unicast: targets=1');
is($c->{sender_exits_per_op}, 1, 'x2apic unicast: one ICR write');
is($c->{status}, 'pass', 'x2apic unicast: pass');

$c = case(0, 'many:2', 'idle');
is($c->{guest_ns_per_op}, 3883876, 'test=many targets=2 is many:2');
is($c->{sender_exits_per_op}, 2, 'x2apic many:2 of 4: one ICR write per target');
$c = case(0, 'many:3', 'busy');
is($c->{guest_ns_per_op}, 24993715, 'many:3 busy: ns_per_op=24993715');
is($c->{sender_exits_per_op}, 1, 'x2apic many:3 of 4 (all but self): one shorthand ICR write');
$c = case(0, 'shootdown', 'idle');
is($c->{guest_ns_per_op}, 2005705, 'test=tlb is shootdown (first size: 1)');
ok(scalar(($c->{sender_exits_how} // '') =~ /x2apic_icr 538 >= 420 predicted/),
    'x2apic cross-check: (20 + 1 warm-up) ops x 20 predicted writes per op over both suites = 420 <= 538 in the run');

$c = case(1, 'many:3', 'idle');
is($c->{guest_ns_per_op}, 5771825, 'vipi many:3 idle: ns_per_op=5771825');
is($c->{sender_exits_per_op}, 1.25, 'vipi: calls=25 over ops=20 is 1.25');
is($c->{driver}{calls}, 25, 'vipi: the driver counters are kept (calls=25)');
$c = case(1, 'shootdown', 'busy');
is($c->{targets}, 1, 'vipi shootdown busy: first size 1');
$c = (grep { $_->{path} eq 'vipi' && ($_->{test} // '') eq 'shootdown' &&
    $_->{state} eq 'busy' && $_->{targets} == 3 } @{ $doc->{cases} })[0] // {};
is($c->{sender_exits_per_op}, 1.05, 'vipi shootdown busy 3: calls=21 (1 resend) / 20');
is($c->{driver}{tlb_resends}, 1, 'vipi: tlb_resends=1');

ok(scalar(($c->{sender_exits_how} // '') =~ /run total vipi 435 >= /),
    'vipi cross-check: the tests\' calls are within the run\'s exits.vipi 435');

$c = case(2, 'shootdown', 'busy');
is($c->{guest_ns_per_op}, 1024259, 'hv shootdown busy: ns_per_op=1024259');
is($c->{sender_exits_per_op}, 1, 'hv: one hypercall per op');

$c = case(3, 'many:1', 'idle');
is($c->{status}, 'fail', 'truncated run: its parsed cases fail');
is($c->{guest_ns_per_op}, 1417828, 'a failed boot\'s case keeps the time its line printed');
is($c->{sender_exits_per_op}, undef, 'a failed boot\'s case has sender_exits_per_op null (no cross-check)');

$c = case(4, 'many:1', 'idle');
is($c->{guest_ns_per_op}, 2480448, 'kernel mode many:1 idle: ns_per_op=2480448');
is($c->{sender_exits_per_op}, 1, 'kernel mode x2apic: one ICR write');
ok(scalar(($c->{sender_exits_how} // '') =~ /not cross-checked/),
    'kernel mode: not cross-checked (ICR writes do not reach the VMM)');
is($r[4]{status}, 'pass', 'kernel mode: the driver is off by itself (vipi_ipi=0 without vipi.ipi=0)');
is($r[4]{exits}{x2apic_icr}, 0, 'kernel mode: exits.x2apic_icr 0 in the VMM');

# Boots of the second series (cpu=N apicid=X lines, strided, tlbcheck):
# a stride:4 layout, the dense boot whose halting check stalled, and 4
# sparse 15-bit IDs (docs/linux.md "vipi bench linux", "The
# stale-translation check"). exits_by_method comes from `vipi encode` on
# the guest's own IDs; the literal counts below follow from the IDs by
# hand: one ICR per target; a cluster per distinct ID >> 4; a KVM window
# per group of IDs within 128 of the lowest; one Hyper-V or vipi call.
@files = map { "$d/$_" } qw(vipi-user-4-stride4.log
    vipi-user-4-halt-stall.log vipi-user-4-sparse15.log);
$out = `"$vipi" bench linux --parse @files`;
is($? >> 8, 0, 'second series: bench linux --parse exits 0');
$doc = eval { decode_json($out) } // { runs => [], cases => [] };
@r = @{ $doc->{runs} };
# the case of (run index, test, state) by the case's own run index
sub rcase {
	my ($ri, $test, $state) = @_;
	for my $c (@{ $doc->{cases} }) {
		return $c if ($c->{run} // -1) == $ri && defined $c->{test} &&
		    $c->{test} eq $test && $c->{state} eq $state;
	}
	return {};
}
is(join(',', @{ $r[0]{apic_ids} // [] }), '0x0,0x4,0x8,0xc',
    'stride:4: the guest\'s own map from its cpu= lines');
is(join(',', @{ $r[2]{apic_ids} // [] }), '0x3f75,0x4f2e,0x17f,0x6dc2',
    'sparse15: the 15-bit IDs as Linux numbered its CPUs');
$c = rcase(0, 'strided:2', 'idle');
is($c->{targets}, 2, 'stride:4, sender 3: every other of CPUs 0-2 is {0, 2}');
is($c->{driver}{blocks}, 10, 'strided set: one BLOCKS call per op (10 ops)');
is($c->{exits_by_method}{'x2apic-phys'}, 2, 'strided {0x0, 0x8}: 2 ICR writes');
is($c->{exits_by_method}{'x2apic-cluster'}, 1, 'strided {0x0, 0x8}: one cluster');
is($c->{exits_by_method}{'kvm-pv'}, 1, 'strided {0x0, 0x8}: one 128-ID window');
is($c->{exits_by_method}{vipi}, 1, 'strided: vipi 1');
$c = rcase(2, 'many:3', 'idle');
is($c->{exits_by_method}{'x2apic-phys'}, 3, 'sparse15 many:3 {0x3f75, 0x17f, 0x6dc2}: 3 ICR writes');
is($c->{exits_by_method}{'x2apic-cluster'}, 3, 'sparse15 many:3: 3 clusters (0x3f7, 0x17, 0x6dc)');
is($c->{exits_by_method}{'kvm-pv-linux'}, 3, 'sparse15 many:3: 3 KVM windows as Linux packs them');
is($c->{exits_by_method}{'kvm-pv'}, 3, 'sparse15 many:3: 3 KVM windows at best');
is($c->{exits_by_method}{'hv-linux'}, 1, 'sparse15 many:3: one Hyper-V call (VP indices)');
is($c->{exits_by_method}{vipi}, 1, 'sparse15 many:3: one vipi call');
is($c->{sender_exits_per_op}, 1, 'sparse15 many:3 measured: 2 vipi calls over 2 ops');
is($c->{driver}{allbutself}, 2, 'sparse15 many:3 (all but self): the ALL_BUT_SELF form');
$c = rcase(0, 'tlbcheck', 'halt');
is($c->{status}, 'pass', 'tlbcheck halt, stride:4: pass');
is($c->{tlbcheck}{checked_reads}, 120, 'tlbcheck: 3 readers x 20 rounds x 2 phases = 120 checked reads');
is($c->{tlbcheck}{rounds_asked}, 20, 'tlbcheck: "rounds=20 of 20" read as rounds and rounds_asked');
is($c->{sender_exits_per_op}, undef, 'tlbcheck: no sender exits per op (not an IPI test)');
$c = rcase(1, 'tlbcheck', 'halt');
is($c->{status}, 'fail', 'tlbcheck that stalled (CPU1 did not confirm): fail');
ok(scalar(($c->{reason} // '') =~ /stalled=1/), 'and the reason says stalled=1');
is($c->{tlbcheck}{checked_reads}, 2, 'the stalled check: 2 checked reads');
is($r[1]{status}, 'pass', 'the boot itself passed: the failure is the case\'s');
$c = rcase(1, 'tlbcheck', 'busy');
is($c->{status}, 'pass', 'the same boot\'s busy check: pass');

# vipi.forms=desc (patch 0004): every set of the benchmark through the
# descriptor in guest memory at 4 vCPUs, which would need 193 otherwise
$out = `"$vipi" bench linux --parse $d/vipi-user-4-forms-desc.log`;
$doc = eval { decode_json($out) } // { runs => [], cases => [] };
@r = @{ $doc->{runs} };
is($r[0]{status}, 'pass', 'vipi.forms=desc: the boot passes');
$c = rcase(0, 'many:3', 'idle');
is($c->{driver}{desc}, 5, 'vipi.forms=desc: many:3 in 5 DESC calls (5 ops)');
is($c->{driver}{allbutself}, 0, 'vipi.forms=desc: no ALL_BUT_SELF');
is($c->{sender_exits_per_op}, 1, 'vipi.forms=desc: one exit per op');
$c = rcase(0, 'tlbcheck', 'halt');
is($c->{status}, 'pass', 'vipi.forms=desc: the halting stale-translation check passes');

# vipi_bench_tlbplant=1 (patch 0003) plants a missing remote flush: the
# same kernel under QEMU's TCG, whose vCPUs keep translations until
# flushed, read the freed page (docs/linux.md "Showing that it can fail").
# The run is not a vipi run (no JSON, xAPIC flat), so only the check's
# cases matter here.
$out = `"$vipi" bench linux --parse $d/qemu-tcg-4-plant.log`;
$doc = eval { decode_json($out) } // { runs => [], cases => [] };
$c = rcase(0, 'tlbcheck', 'busy');
is($c->{status}, 'fail', 'planted missing flush, busy readers: fail');
is($c->{tlbcheck}{stale}, 8873587, 'and stale=8873587 from its line');
is($c->{tlbcheck}{planted} ? 1 : 0, 1, '"plant=1" is read as planted');
$c = rcase(0, 'tlbcheck', 'halt');
is($c->{status}, 'fail', 'planted missing flush, halting readers: fail');
ok(scalar(($c->{reason} // '') =~ /stale=595 /), 'and the reason says stale=595');
# the checks of the second series had no plant= key
$out = `"$vipi" bench linux --parse $d/vipi-user-4-stride4.log`;
$doc = eval { decode_json($out) } // { runs => [], cases => [] };
$c = rcase(0, 'tlbcheck', 'halt');
is(defined $c->{tlbcheck}{planted} && !$c->{tlbcheck}{planted} ? 1 : 0, 1,
    'a line without plant= is not planted');

# patch 0006: NMIs to every other CPU through the driver (vipi-user-4-nmi,
# a real boot), and the same console with its busy receipt line edited to
# one NMI lost (vipi-user-4-nmi-lost: the failure rule, docs/linux.md)
$out = `"$vipi" bench linux --parse $d/vipi-user-4-nmi.log`;
$doc = eval { decode_json($out) } // { runs => [], cases => [] };
$c = rcase(0, 'nmi', 'idle');
is($c->{status}, 'pass', 'nmi idle: 15 of 15 counted: pass');
is($c->{nmi}{received}, 15, 'nmi: "nmis=15" read as received');
is($c->{nmi}{sent}, 15, 'nmi: "of 15" read as sent (5 ops x 3 targets)');
is($c->{driver}{allbutself}, 5, 'nmi to all 3 others: the ALL_BUT_SELF form');
is($c->{sender_exits_per_op}, 1, 'nmi: one vipi call per op');
is($c->{exits_by_method}{'x2apic-phys'}, 3, 'nmi {0x0, 0x1, 0x2} by x2APIC: 3 ICR writes');
is($c->{exits_by_method}{'hv-linux'}, undef,
    'nmi by Hyper-V as Linux sends it: none (HVCALL_SEND_IPI takes no NMI)');
$out = `"$vipi" bench linux --parse $d/vipi-user-4-nmi-lost.log`;
$doc = eval { decode_json($out) } // { runs => [], cases => [] };
$c = rcase(0, 'nmi', 'busy');
is($c->{status}, 'fail', 'nmi with one lost: fail');
ok(scalar(($c->{reason} // '') =~ /14 counted, 1 lost, of 15 sent/),
    'and the reason gives counted, lost and sent');

# the same test on the Hyper-V path (a real boot): Linux's hv_apic.c
# sends no vector below 0x10 by hypercall, so NMIs go through the x2APIC,
# one ICR write per target; the run's x2apic_icr (50) covers the 36 of
# its two nmi tests (6 ops with the warm-up x 3 targets each)
$out = `"$vipi" bench linux --parse $d/hv-user-4-nmi.log`;
$doc = eval { decode_json($out) } // { runs => [], cases => [] };
$c = rcase(0, 'nmi', 'idle');
is($c->{sender_exits_per_op}, 3, 'hv path nmi to 3: 3 ICR writes per op');
ok(scalar(($c->{sender_exits_how} // '') =~ /falls back to the x2APIC/),
    'and says the Hyper-V path falls back for NMIs');
is($doc->{runs}[0]{exits}{x2apic_icr}, 50, 'hv run: exits.x2apic_icr 50 from the JSON');

system(qq{"$vipi" bench linux --paths x2apic-flat >/dev/null 2>&1});
is($? >> 8, 2, 'an unknown path is a usage error (exit 2)');
my $err = `"$vipi" bench linux --kernel /nonexistent/bzImage 2>&1 >/dev/null`;
is($? >> 8, 1, 'a missing --kernel fails (exit 1)');
ok(scalar($err =~ m{--kernel /nonexistent/bzImage: No such file}),
    'and says which file');

exit($failed ? 1 : 0);
