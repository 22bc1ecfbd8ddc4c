#!/usr/bin/env perl
# SPDX-License-Identifier: MIT
#
# The plots of `vipi report` (and so of `vipi bench`, whose bench.svg is
# the report's bench-kvm.svg of the same bench.json) are checked the way a
# person would look at them, by geometry read back from each SVG's own
# element coordinates: every shape and text inside the canvas, no two text
# labels overlapping (a label's box estimated from its font size and
# character count: 0.62 em per character, 0.8 em above the baseline and
# 0.2 em below, 10% wider in bold), legends outside the data frames, tick
# labels compact ("1.2k", never "1.2e+03") on 1-2-5 steps or decades.
# Each SVG is rendered to PNG with rsvg-convert (Debian's librsvg2-bin;
# those checks skip without it) at the size the SVG declares. The input is
# fixture JSON in tests/data/plots/ (from real runs on a nested-KVM host),
# so no KVM is needed.
use strict;
use warnings;
use File::Temp qw(tempdir);

my $src = $ENV{VIPI_SRC} or die "VIPI_SRC is set by make check\n";
my $vipi = $ENV{VIPI} or die "VIPI is set by make check\n";
my $data = "$src/tests/data/plots";
my $tmp = tempdir(CLEANUP => 1);
my @svgs = qw(
	exits-x86-dense-single exits-x86-dense-allbutself
	exits-x86-sparse-single exits-x86-sparse-allbutself
	ns-x86-dense-single ns-x86-dense-allbutself
	ns-x86-sparse-single ns-x86-sparse-allbutself
	bench-lib-1-last bench-lib-all-but-self
	bench-kvm bench-kvm-exits bench-kvm-time
);
my $per_svg = 6;
my $n = 0;
my $failed = 0;

print "1..", 13 + $per_svg * @svgs, "\n";

sub ok {
	my ($cond, $name, @diag) = @_;
	$n++;
	print $cond ? "" : "not ", "ok $n - $name\n";
	unless ($cond) {
		$failed++;
		print "# $_\n" for @diag;
	}
	return $cond;
}

sub skip {
	my ($name, $why) = @_;
	$n++;
	print "ok $n - $name # skip $why\n";
}

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return undef;
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

# ---- reading an SVG back ----

sub attrs {
	my ($s) = @_;
	my %a;
	$a{$1} = $3 while $s =~ /([\w:-]+)=(["'])(.*?)\2/g;
	return \%a;
}

sub unxml {
	my ($s) = @_;
	$s =~ s/&lt;/</g;
	$s =~ s/&gt;/>/g;
	$s =~ s/&amp;/&/g;
	utf8::decode($s); # count characters, not bytes ("µs")
	return $s;
}

# [x0, y0, x1, y1] of a text element
sub text_box {
	my ($at, $s) = @_;
	my $fs = $at->{'font-size'} // 16;
	my $w = 0.62 * $fs * length($s);
	$w *= 1.1 if ($at->{'font-weight'} // '') eq 'bold';
	my ($x, $y) = ($at->{x}, $at->{y});
	my $anchor = $at->{'text-anchor'} // 'start';
	my $x0 = $anchor eq 'middle' ? $x - $w / 2 :
		 $anchor eq 'end' ? $x - $w : $x;
	my @b = ($x0, $y - 0.8 * $fs, $x0 + $w, $y + 0.2 * $fs);
	my $tf = $at->{transform} // '';
	if ($tf =~ /^\s*rotate\(\s*(-?[\d.]+)[\s,]+(-?[\d.]+)[\s,]+(-?[\d.]+)\s*\)\s*$/) {
		my ($r, $cx, $cy) = ($1 * atan2(1, 1) / 45, $2, $3);
		my ($c, $sn) = (cos($r), sin($r));
		# the box around the rotated corners
		my @p = map {
			my ($dx, $dy) = ($_->[0] - $cx, $_->[1] - $cy);
			[ $cx + $dx * $c - $dy * $sn, $cy + $dx * $sn + $dy * $c ]
		} ([ $b[0], $b[1] ], [ $b[2], $b[1] ], [ $b[0], $b[3] ],
		   [ $b[2], $b[3] ]);
		@b = ((sort { $a <=> $b } map { $_->[0] } @p)[0],
		      (sort { $a <=> $b } map { $_->[1] } @p)[0],
		      (sort { $b <=> $a } map { $_->[0] } @p)[0],
		      (sort { $b <=> $a } map { $_->[1] } @p)[0]);
	} elsif ($tf ne '') {
		return undef; # a transform this test does not read: a failure
	}
	return \@b;
}

sub min { $_[0] < $_[1] ? $_[0] : $_[1] }
sub max { $_[0] > $_[1] ? $_[0] : $_[1] }

sub overlap {
	my ($p, $q) = @_;
	return min($p->[2], $q->[2]) - max($p->[0], $q->[0]) > 0.5 &&
	       min($p->[3], $q->[3]) - max($p->[1], $q->[1]) > 0.5;
}

sub parse_svg {
	my ($s) = @_;
	my %svg = (texts => [], shapes => [], frames => []);
	$s =~ /<svg([^>]*)>/ or return undef;
	my $root = attrs($1);
	($svg{w}, $svg{h}) = ($root->{width}, $root->{height});
	while ($s =~ /<text([^>]*)>(.*?)<\/text>/gs) {
		my ($a, $t) = (attrs($1), unxml($2));
		push @{ $svg{texts} },
			{ a => $a, s => $t, box => text_box($a, $t) };
	}
	while ($s =~ /<(rect|line|circle|polyline|polygon)\b([^>]*)>/g) {
		my ($el, $a) = ($1, attrs($2));
		my @pts;
		if ($el eq 'rect') {
			@pts = ([ $a->{x} // 0, $a->{y} // 0 ],
				[ ($a->{x} // 0) + $a->{width},
				  ($a->{y} // 0) + $a->{height} ]);
			push @{ $svg{frames} }, [ map { @$_ } @pts ]
				if ($a->{class} // '') eq 'frame';
		} elsif ($el eq 'line') {
			@pts = ([ $a->{x1}, $a->{y1} ], [ $a->{x2}, $a->{y2} ]);
		} elsif ($el eq 'circle') {
			@pts = ([ $a->{cx} - $a->{r}, $a->{cy} - $a->{r} ],
				[ $a->{cx} + $a->{r}, $a->{cy} + $a->{r} ]);
		} else {
			@pts = map { [ split /,/ ] } split ' ', $a->{points};
		}
		push @{ $svg{shapes} }, { el => $el, a => $a, pts => \@pts };
	}
	return \%svg;
}

sub inside {
	my ($svg, $x, $y) = @_;
	return $x >= -0.01 && $y >= -0.01 && $x <= $svg->{w} + 0.01 &&
	       $y <= $svg->{h} + 0.01;
}

# "1.2k" -> 1200; undef when not a compact number
sub tick_value {
	my ($s) = @_;
	return undef unless $s =~ /^(-?\d+(?:\.\d+)?)([kMG]?)$/;
	return $1 * { '' => 1, k => 1e3, M => 1e6, G => 1e9 }->{$2};
}

sub is125 {
	my ($v) = @_;
	return 1 if $v == 0;
	my $e = 10**(int(log(abs($v)) / log(10) + 100 + 1e-9) - 100);
	my $m = abs($v) / $e;
	return scalar grep { abs($m - $_) < 1e-6 } 1, 2, 5;
}

# ---- the checks of one SVG ----

sub png_size {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or return ();
	read($fh, my $b, 24) == 24 or return ();
	close $fh;
	return () unless substr($b, 0, 8) eq "\x89PNG\r\n\x1a\n" &&
			 substr($b, 12, 4) eq 'IHDR';
	return unpack('NN', substr($b, 16, 8));
}

my $rsvg = `command -v rsvg-convert 2>/dev/null`;
chomp $rsvg;

sub check_svg {
	my ($name, $path) = @_;
	my $text = slurp($path);
	my $svg = defined $text ? parse_svg($text) : undef;

	unless ($svg) {
		ok(0, "$name: $_", "no SVG at $path")
			for 1 .. $per_svg;
		return;
	}
	if (!$rsvg) {
		skip("$name: rendered to PNG",
		     "rsvg-convert not installed (Debian: librsvg2-bin)");
	} else {
		my $png = "$tmp/$name.png";
		my $rc = system($rsvg, '-o', $png, $path);
		my ($w, $h) = png_size($png);
		ok($rc == 0 && defined $w && $w == $svg->{w} &&
			   $h == $svg->{h},
		   "$name: rsvg-convert renders a $svg->{w}x$svg->{h} PNG",
		   "exit $rc, PNG " . (defined $w ? "${w}x$h" : "missing"));
	}

	my @out;
	for my $sh (@{ $svg->{shapes} }) {
		for my $p (@{ $sh->{pts} }) {
			push @out, "$sh->{el} at ($p->[0], $p->[1])"
				unless inside($svg, @$p);
		}
	}
	ok(!@out, "$name: every shape inside the $svg->{w}x$svg->{h} canvas",
	   @out[0 .. min($#out, 4)]);

	@out = ();
	for my $t (@{ $svg->{texts} }) {
		my $b = $t->{box};
		if (!$b) {
			push @out, "'$t->{s}': transform '$t->{a}{transform}'";
			next;
		}
		push @out, sprintf("'%s' at (%.0f,%.0f)-(%.0f,%.0f)",
				   $t->{s}, @$b)
			unless inside($svg, $b->[0], $b->[1]) &&
			       inside($svg, $b->[2], $b->[3]);
	}
	ok(!@out, "$name: every text inside the canvas",
	   @out[0 .. min($#out, 4)]);

	@out = ();
	my @t = @{ $svg->{texts} };
	for my $i (0 .. $#t) {
		for my $j ($i + 1 .. $#t) {
			push @out, "'$t[$i]{s}' and '$t[$j]{s}'"
				if $t[$i]{box} && $t[$j]{box} &&
				   overlap($t[$i]{box}, $t[$j]{box});
		}
	}
	ok(!@out, "$name: no two text labels overlap (" . scalar(@t) .
		   " labels)",
	   @out[0 .. min($#out, 4)]);

	@out = ();
	my @legend = grep { ($_->{a}{class} // '') eq 'legend' } @t;
	for my $l (@legend) {
		push @out, "legend '$l->{s}' inside a data frame"
			if !$l->{box} || grep { overlap($l->{box}, $_) } @{ $svg->{frames} };
	}
	ok(@legend && @{ $svg->{frames} } && !@out,
	   "$name: the legend lies outside the data area",
	   @legend ? @out[0 .. min($#out, 4)] : "no legend");

	# tick labels: compact, and 1-2-5 values or an even 1-2-5 step
	@out = ();
	my %axes;
	for my $x (grep { ($_->{a}{class} // '') =~ /^tick / } @t) {
		my ($kind) = $x->{a}{class} =~ /^tick (\w)/;
		my $v = tick_value($x->{s});
		if (!defined $v || length($x->{s}) > 5) {
			push @out, "tick label '$x->{s}' is not compact";
			next;
		}
		# which frame (panel) the label belongs to
		my $f = 0;
		for my $k (0 .. $#{ $svg->{frames} }) {
			my $fr = $svg->{frames}[$k];
			$f = $k if $kind eq 'y' ?
				(!($x->{a}{y} < $fr->[1] - 2 || $x->{a}{y} > $fr->[3] + 6)) :
				($x->{a}{x} >= $fr->[0] - 1 && $x->{a}{x} <= $fr->[2] + 1);
		}
		push @{ $axes{"$kind$f"} }, $v;
	}
	for my $axis (sort keys %axes) {
		my @v = sort { $a <=> $b } @{ $axes{$axis} };
		my $all125 = !grep { !is125($_) } @v;
		my $even = @v >= 2 && is125($v[1] - $v[0]);
		for my $i (2 .. $#v) {
			$even = 0 if abs(($v[$i] - $v[$i - 1]) - ($v[1] - $v[0])) >
				     1e-6 * abs($v[1] - $v[0]);
		}
		push @out, "axis $axis: ticks @v are not on 1-2-5 steps"
			unless @v >= 2 && ($all125 || $even);
	}
	ok(%axes && !@out,
	   "$name: tick labels compact, 1-2-5 steps (" .
		   join(', ', map { "$_: " . join(' ', @{ $axes{$_} }) }
			sort keys %axes) . ")",
	   @out[0 .. min($#out, 4)]);
}

# ---- the report of the fixtures ----

my $out = "$tmp/report";
my $log = `'$vipi' report --in '$data/sim.json' --in '$data/bench-lib.json' --in '$data/bench.json' --out '$out' 2>&1`;
ok($? == 0, "vipi report of the fixtures exits 0", split /\n/, $log);

opendir(my $dh, $out);
my @got = sort grep { /\.svg$/ } readdir($dh);
closedir $dh;
my @want = sort map { "$_.svg" } @svgs;
ok("@got" eq "@want", "the report draws the " . @want . " expected plots",
   "got: @got");

my $md = slurp("$out/report.md") // '';
my ($kvm) = $md =~ /(## KVM benchmark.*)/s;
$kvm //= '';
ok($kvm =~ /### Headline: multicast to 15 vCPUs, dense layout.*### Every case/s,
   "report.md's KVM section starts with the headline, before every case");
# literal values of tests/data/plots/bench.json (medians, ns -> us)
ok(index($kvm, "| vipi | user | 1 | 31 | 816 | 1193 |") >= 0,
   "headline: user vipi sends a multicast to 15 in 1 exit, 816 us");
ok(index($kvm, "| x2apic-phys | user | 15 | 45 | 1107 | 1153 |") >= 0 &&
	   index($kvm, "| x2apic-phys | kernel | 15 | 19 | 860 | 930 |") >= 0,
   "headline: x2apic-phys takes 15 sender exits, user and kernel");

# the CPU model: bench.json's machine.cpu_model, or "cpu" as bench-lib.json
# called it before (still written for one release, docs/cli.md)
ok(index($kvm, "`vipi bench` on Intel(R) Xeon(R) Processor, 2 CPUs") >= 0,
   "report: the machine's cpu_model");
{
	my $old = slurp("$data/bench.json") // '';
	$old =~ s/"cpu_model"/"cpu"/;
	open(my $fh, '>', "$tmp/bench-cpu.json") or die;
	print $fh $old;
	close $fh;
	my $o = `'$vipi' report --in '$tmp/bench-cpu.json' --out '$tmp/rep-cpu' 2>&1`;
	my $m = slurp("$tmp/rep-cpu/report.md") // '';
	ok($? == 0 &&
		   index($m, "`vipi bench` on Intel(R) Xeon(R) Processor, 2 CPUs") >= 0,
	   "report: a machine with \"cpu\" and no \"cpu_model\" names the CPU too",
	   $o);
}

my $bench = parse_svg(slurp("$out/bench-kvm.svg") // '<svg>');
my @groups = map { $_->{s} }
	grep { ($_->{a}{class} // '') eq 'group' } @{ $bench->{texts} };
my @bold = map { $_->{s} }
	grep { ($_->{a}{class} // '') eq 'group' &&
	       ($_->{a}{'font-weight'} // '') eq 'bold' } @{ $bench->{texts} };
ok(@groups >= 4 && $groups[0] eq 'dense vipi' &&
	   $groups[1] eq 'dense x2apic-phys' &&
	   "@bold" eq 'dense vipi dense x2apic-phys dense vipi dense x2apic-phys',
   "bench-kvm.svg: the headline bars (dense vipi, dense x2apic-phys) first, in bold",
   "groups: @groups", "bold: @bold");
my @vt = map { $_->{s} } grep { ($_->{a}{class} // '') eq 'tick v' &&
				$_->{a}{x} > $bench->{w} / 2 } @{ $bench->{texts} };
ok("@vt" eq "500 1k 2k 5k 10k",
   "bench-kvm.svg: the sender-time panel is log scale, 1-2-5 ticks 500..10k",
   "ticks: @vt");

$log = `'$vipi' report --in '$data/bench-nokvm.json' --out '$tmp/nokvm' 2>&1`;
my $nokvm = slurp("$tmp/nokvm/report.md") // '';
ok($? == 0 && $nokvm =~ /\*\*No KVM results\*\*: \/nonexistent\/kvm: No such file/ &&
	   $nokvm =~ /54 cases not run/ && !-e "$tmp/nokvm/bench-kvm.svg",
   "a bench.json without KVM: the reason in report.md, no empty plot",
   split /\n/, $log);

# series with equal values stay visible: x86 dense, one target per
# multicast, where eight methods take exactly 1 exit at every size
my $eq = parse_svg(slurp("$out/exits-x86-dense-single.svg") // '<svg>');
my @lines = grep { $_->{el} eq 'polyline' } @{ $eq->{shapes} };
my %pts = map { ($_->{a}{points} => 1) } @lines;
my %style = map { ("$_->{a}{stroke} $_->{a}{'stroke-dasharray'}" => 1) }
	@lines;
ok(@lines >= 8 && keys(%pts) == @lines,
   "exits-x86-dense-single.svg: " . @lines .
	   " series, no two drawn on the same pixels");
ok(@lines >= 8 && keys(%style) == @lines,
   "exits-x86-dense-single.svg: every series has its own colour and dash");

my @ratio;
for my $f (@svgs) {
	my $s = parse_svg(slurp("$out/$f.svg") // '<svg>') or next;
	push @ratio, "$f: '$_->{s}'"
		for grep { ($_->{a}{class} // '') eq 'legend' && $_->{s} =~ m{ / } }
		@{ $s->{texts} };
}
ok(!@ratio, "no legend entry reads like a ratio (\"a / b\")", @ratio);

check_svg($_, "$out/$_.svg") for @svgs;
exit($failed ? 1 : 0);
