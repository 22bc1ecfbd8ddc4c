#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# libvipi on arm64: `make check-arm64` cross-builds the library, the vipi
# command and the unit tests for aarch64 into $VIPI_ARM64_BUILD (the
# Makefile's architecture gate leaves out vmm/ and guest/, which are
# x86-64 only), and this script runs them under qemu-user with the cross
# sysroot: every unit test, plain and under ASan+UBSan, then the script
# tests of the tools that are not the VMM's (encode, decode, topo, sim,
# report, bench lib, the exported symbols) with VIPI pointing at the
# aarch64 vipi. Each program
# is one test here, its own TAP indented under it. Skips with the reason
# where the cross build or qemu-aarch64 is missing, and on an aarch64
# machine (where `make check` runs the same tests directly).
use strict;
use warnings;
use File::Temp qw(tempdir);
use TAP::Parser;

my $build = $ENV{VIPI_ARM64_BUILD} // '';
my $sysroot = $ENV{VIPI_ARM64_SYSROOT} // '/usr/aarch64-linux-gnu';
my $qemu_name = $ENV{VIPI_QEMU_AARCH64} // 'qemu-aarch64';
my $src = $ENV{VIPI_SRC} // '';

# the script tests run against the aarch64 vipi: the tools that are not
# the VMM's (install.t builds with the host's cc and pkg-config, fuzz.t
# needs clang's libFuzzer for the target: both left out)
my @scripts = qw(cli-main.t cli-decode.t cli-encode.t sim-basic.t plots.t
	exports.t);

sub skip_all { print "1..0 # SKIP $_[0]\n"; exit 0; }

sub which {
	my ($name) = @_;
	return -x $name ? $name : undef if $name =~ m{/};
	for (split /:/, $ENV{PATH} // '') {
		return "$_/$name" if -x "$_/$name";
	}
	return undef;
}

chomp(my $host = `uname -m`);
skip_all("an aarch64 machine: make check runs the unit tests natively")
	if $host eq 'aarch64';
skip_all('no arm64 cross build (make check-arm64 needs aarch64-linux-gnu-gcc:'
	 . ' Debian gcc-aarch64-linux-gnu libc6-dev-arm64-cross)')
	unless $build ne '' && -x "$build/vipi";
my $qemu = which($qemu_name);
skip_all("no $qemu_name (Debian qemu-user)") unless $qemu;
skip_all("no aarch64 sysroot at $sysroot (Debian libc6-dev-arm64-cross)")
	unless -e "$sysroot/lib/ld-linux-aarch64.so.1";
die "VIPI_SRC is set by make check\n" unless $src ne '';

my @units = sort glob("$build/t/test-*");
# the same under ASan+UBSan; LeakSanitizer cannot stop the threads of a
# process under qemu-user (it fails as under ptrace), so leaks are left
# to the x86 ASan runs
my @san = sort glob("$build/t/asan-test-*");
my $n = 0;
my $failed = 0;

print '1..', 4 + @units + @san + @scripts, "\n";

sub ok {
	my ($pass, $desc, @diag) = @_;
	$n++;
	print $pass ? "ok $n - $desc\n" : "not ok $n - $desc\n";
	print map { "# $_\n" } map { split /\n/ } @diag unless $pass;
	$failed++ unless $pass;
	return $pass;
}

# ELF e_machine of a file: 183 is EM_AARCH64, 62 EM_X86_64
sub elf_machine {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or return -1;
	read($fh, my $hdr, 20) == 20 or return -1;
	return -1 unless substr($hdr, 0, 4) eq "\x7fELF";
	return unpack('v', substr($hdr, 18, 2));
}

# 1-2: the cross build is aarch64 and the gate left the VMM out
my @elves = ("$build/vipi", "$build/libvipi.so", @units);
my @not = grep { elf_machine($_) != 183 } @elves;
ok(!@not, 'vipi, libvipi.so and ' . scalar(@units)
   . ' unit tests are aarch64 ELF (EM_AARCH64)', map { "not aarch64: $_" } @not);
my @x86 = grep { -e "$build/$_" } qw(guest vmm t/test-pc t/test-x86-insn);
ok(!@x86, 'the architecture gate left out guest/, vmm/ and the VMM\'s tests',
   map { "built anyway: $build/$_" } @x86);

my $dir = tempdir(CLEANUP => 1);
my $vipi = "$dir/vipi";
open(my $w, '>', $vipi) or die "$vipi: $!\n";
print $w "#!/bin/sh\nexec '$qemu' -L '$sysroot' '$build/vipi' \"\$@\"\n";
close($w);
chmod(0755, $vipi);

# 3-4: the commands the gate replaced say why, and bench still runs the
# library benchmark
my $out = `'$vipi' run --vcpus 2 2>&1`;
ok($? >> 8 == 1 && $out =~ /^vipi run: the VMM is x86-64 only and this vipi is built for aarch64/,
   'vipi run on aarch64: exit 1, "the VMM is x86-64 only"', "exit " . ($? >> 8) . ": $out");
$out = `cd '$dir' && '$vipi' bench --quick --out bench 2>&1`;
ok($? == 0 && -s "$dir/bench/bench-lib.json" && $out =~ /KVM sweep is x86-64 only/,
   'vipi bench on aarch64: the library benchmark, with a note', "exit " . ($? >> 8) . ": $out");

# one program's TAP, indented under one test of ours: it passes when the
# program's plan was met, nothing failed and it exited 0
sub run_tap {
	my ($name, $cmd, $how, %env) = @_;
	local @ENV{keys %env} = values %env;
	my $t0 = time;
	my $p = TAP::Parser->new({ exec => $cmd, merge => 1 });
	my ($lines, $bad) = ('', '');
	while (my $r = $p->next) {
		$lines .= "    " . $r->as_string . "\n";
		$bad .= $r->as_string . "\n" if $r->is_test && !$r->is_ok;
	}
	my $secs = time - $t0;
	my $pass = !$p->has_problems && $p->tests_run > 0;
	print $lines;
	my @why;
	push @why, "exit " . ($p->exit // '?') if $p->exit;
	push @why, 'planned ' . ($p->tests_planned // 'none') . ', ran '
	      . $p->tests_run unless $p->is_good_plan;
	push @why, $bad if $bad ne '';
	my $what = $p->skip_all ? 'skipped: ' . $p->skip_all
		 : $p->passed . ' of ' . $p->tests_run . ' passed';
	ok($pass || defined $p->skip_all,
	   "$name $how: $what (${secs}s)", @why);
}

for my $t (@units) {
	(my $name = $t) =~ s{.*/}{};
	run_tap($name, [ $qemu, '-L', $sysroot, $t ], 'under qemu-aarch64');
}
for my $t (@san) {
	(my $name = $t) =~ s{.*/}{};
	my $opts = join(':', grep { $_ ne '' } $ENV{ASAN_OPTIONS} // '',
			'detect_leaks=0');
	run_tap($name, [ $qemu, '-L', $sysroot, $t ],
		'under qemu-aarch64 (no leak check)', ASAN_OPTIONS => $opts);
}
for my $s (@scripts) {
	my $path = "$src/tests/$s";
	unless (-f $path) {
		ok(1, "$s # SKIP not in this tree");
		next;
	}
	open(my $fh, '<', $path) or die "$path: $!\n";
	my $interp = <$fh> =~ /perl/ ? 'perl' : 'bash';
	close($fh);
	run_tap($s, [ $interp, $path ], 'with the aarch64 build',
		VIPI => $vipi, VIPI_BUILD => $build, VIPI_SRC => $src);
}
exit($failed ? 1 : 0);
