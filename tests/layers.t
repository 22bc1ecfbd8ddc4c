#!/usr/bin/env perl
# SPDX-License-Identifier: MIT
#
# The layering rule of docs/architecture.md, checked on the #include lines
# of every C, header and assembly file in the tree: an include may point
# into the file's own layer or into a layer the table below allows, and
# nowhere else. A quoted include is resolved the way the compiler does it
# (the including file's folder first, then -Iinclude; -Ilib for lib/ alone);
# an angle include that names a file in include/ or lib/ is checked the
# same way (anything else is a system header). One test per layer, plus
# one that every folder with sources belongs to a layer, so a new folder
# cannot go unchecked.
use strict;
use warnings;
use File::Find;
use File::Spec;
use lib(($ENV{VIPI_SRC} // ".") . "/tests/lib");
use TreePath qw(norm);

my $src = $ENV{VIPI_SRC} or die "VIPI_SRC is set by make check\n";
chdir $src or die "$src: $!\n";

# Layers by folder (the longest prefix wins), in the order of
# docs/architecture.md's table
my @layers = (
	[ public => 'include/vipi/' ],
	[ lib => 'lib/' ],
	[ prog => 'prog/' ],
	[ contract => 'contract/' ],
	[ tools => 'tools/' ],
	[ sim => 'sim/' ],
	[ vmm => 'vmm/' ],
	[ main => 'main/' ],
	[ guest => 'guest/' ],
	[ tests => 'tests/' ],
	[ fuzz => 'fuzz/' ],
	[ examples => 'examples/' ],
);

# What each layer may include besides itself: the literal table
my %may = (
	public => [],
	lib => [qw(public)],
	prog => [qw(public)],
	contract => [],
	tools => [qw(public prog)],
	sim => [qw(public prog)],
	vmm => [qw(public prog contract)],
	main => [qw(public prog)],
	guest => [qw(public contract)],
	# unit tests of the VMM's pure parts include its .c files
	tests => [qw(public prog contract vmm)],
	# fuzz-insn links the VMM's decoder; the reference models of tests/lib
	fuzz => [qw(public tests vmm)],
	examples => [qw(public)],
);

# Single files a layer may include although their layer is not in its row:
# each program folder's entry points, for the command table and for the
# stand-in that replaces the VMM's commands where the VMM is not built
my @file_edges = (
	[ 'main/' => 'tools/cmds.h' ],
	[ 'main/' => 'sim/cmds.h' ],
	[ 'main/' => 'vmm/cmds.h' ],
	[ 'tools/arch/' => 'vmm/cmds.h' ],
);

sub layer_of {
	my ($path) = @_;
	my ($best, $len) = (undef, -1);
	for my $l (@layers) {
		my ($name, $prefix) = @$l;
		if (substr($path, 0, length $prefix) eq $prefix &&
		    length $prefix > $len) {
			($best, $len) = ($name, length $prefix);
		}
	}
	return $best;
}

my @files;
find({ no_chdir => 1, wanted => sub {
	my $p = $File::Find::name;
	$p =~ s{^\./}{};
	if (-d $_ && ($p =~ m{^(\.git|build|linux)$} || $p =~ m{^\.} &&
		      $p ne '.')) {
		$File::Find::prune = 1;
		return;
	}
	push @files, $p if -f $_ && $p =~ /\.(c|h|S)$/;
} }, '.');
@files = sort @files;

my (%bad, %checked, @homeless);
for my $f (@files) {
	my $from = layer_of($f);
	unless (defined $from) {
		push @homeless, $f;
		next;
	}
	$checked{$from}++;
	(my $dir = $f) =~ s{[^/]*$}{};
	my @search = ($dir, 'include/');
	push @search, 'lib/' if $from eq 'lib';
	open(my $fh, '<', $f) or die "$f: $!\n";
	while (my $line = <$fh>) {
		next unless $line =~ /^\s*#\s*include\s*([<"])([^">]+)[">]/;
		my ($kind, $name) = ($1, $2);
		my $target;
		if ($kind eq '"') {
			for my $d (@search) {
				my $t = norm("$d$name");
				if (defined $t && -f $t) {
					$target = $t;
					last;
				}
			}
			unless (defined $target) {
				push @{ $bad{$from} },
					"$f:$.: \"$name\" is not a file of the tree";
				next;
			}
		} else {
			for my $d ('include/', 'lib/') {
				my $t = norm("$d$name");
				if (defined $t && -f $t) {
					$target = $t;
					last;
				}
			}
			next unless defined $target; # a system header
		}
		my $to = layer_of($target);
		my $why;
		if ($from eq $to) {
			# lib/'s headers through -Ilib, from lib/ only
			next;
		} elsif (!defined $to) {
			$why = "$target is in no layer";
		} elsif (grep { $_ eq $to } @{ $may{$from} }) {
			next;
		} elsif (grep { substr($f, 0, length $_->[0]) eq $_->[0] &&
				$target eq $_->[1] } @file_edges) {
			next;
		} else {
			$why = "$from may not include $to ($target)";
		}
		push @{ $bad{$from} }, "$f:$.: $why";
	}
	close($fh);
}

my $n = 0;
my $failed = 0;
print "1..", scalar(@layers) + 1, "\n";
$n++;
if (@homeless) {
	$failed++;
	print "not ok $n - every source file is in a layer\n";
	print "# $_: in no layer (add its folder to tests/layers.t and " .
	      "docs/architecture.md)\n" for @homeless;
} else {
	print "ok $n - every source file is in a layer\n";
}
for my $l (@layers) {
	my $name = $l->[0];
	my $count = $checked{$name} // 0;
	$n++;
	my $allowed = join(', ', @{ $may{$name} }) || 'nothing';
	if ($bad{$name}) {
		$failed++;
		print "not ok $n - $name ($l->[1], $count files) includes " .
		      "only itself and $allowed\n";
		print "# $_\n" for @{ $bad{$name} };
	} else {
		print "ok $n - $name ($l->[1], $count files) includes only " .
		      "itself and $allowed\n";
	}
}
exit($failed ? 1 : 0);
