#!/usr/bin/env perl
# SPDX-License-Identifier: MIT
#
# Every link in the tree's documentation resolves inside the tree: each
# Markdown link [text](target) of README.md, docs/*.md, linux/README.md
# and every other tracked .md names a file or folder of the repository
# (relative to the page, the #anchor dropped; web links are not followed),
# and every file the docs and the sources' comments cite by its path
# (docs/vmm.md, vmm/bench.c, prog/util.h: a top folder of the tree, then a
# file name with an extension) exists. Nothing points outside the repo:
# an absolute path or a link that climbs out of it fails. One test per
# file that cites anything.
use strict;
use warnings;
use lib(($ENV{VIPI_SRC} // ".") . "/tests/lib");
use TreePath qw(norm);

my $src = $ENV{VIPI_SRC} or die "VIPI_SRC is set by make check\n";
chdir $src or die "$src: $!\n";

my @files = grep { -f $_ } split /\n/, `git ls-files 2>/dev/null`;
die "doc-links.t: no git checkout at $src\n" unless @files;
my @docs = grep { /\.md$/ } @files;
my @srcs = grep { /\.(c|h|S)$/ } @files;

# the tree's top folders (a cited path starts with one of them)
my %top = map { (m{^([^/]+)/}) ? ($1 => 1) : () } @files;
my $top = join('|', map { quotemeta } sort keys %top);

# paths as prose cites them: top/.../name.ext, no globs or brace lists
sub cited {
	my ($text) = @_;
	my @p;
	while ($text =~ m~(?<![\w./{*-])((?:$top)/[\w./-]*\w\.(?:c|h|S|md|t|sh|mk|ld|in|map|py))(?![\w{*])~g) {
		# Linux's own tree (include/uapi/linux/kvm_para.h) is not ours
		push @p, $1 unless $1 =~ m{^include/(uapi|linux|asm)/};
	}
	return @p;
}

my @results;
for my $f (@docs) {
	open(my $fh, '<', $f) or die "$f: $!\n";
	my $text = do { local $/; <$fh> };
	close($fh);
	(my $dir = $f) =~ s{[^/]*$}{};
	my (@bad, $count);
	# fenced code blocks are commands, not links
	(my $prose = $text) =~ s/^```.*?^```//msg;
	while ($prose =~ /\]\(([^)\s]+)\)/g) {
		my $t = $1;
		next if $t =~ m{^(https?|mailto):} || $t =~ /^#/;
		$count++;
		$t =~ s/#.*//;
		my $r = $t =~ m{^/} ? undef : norm("$dir$t");
		push @bad, "link ($1) leaves the repository" unless defined $r;
		push @bad, "link ($t) names no file of the repository"
			if defined $r && !-e $r;
	}
	for my $p (cited($prose)) {
		$count++;
		push @bad, "cites $p, which is not in the repository" unless -e $p;
	}
	while ($prose =~ m{(?<![\w.])(/(?:work|home|tmp|usr/src)/[\w./-]*\.md)\b}g) {
		$count++;
		push @bad, "cites $1 by an absolute path";
	}
	push @results, [ $f, $count, \@bad ] if $count;
}
for my $f (@srcs) {
	open(my $fh, '<', $f) or die "$f: $!\n";
	my $text = do { local $/; <$fh> };
	close($fh);
	my (@bad, $count);
	# comments only: the code's own strings are what the program prints
	my $comments = '';
	$comments .= "$1\n" while $text =~ m{(/\*.*?\*/|//[^\n]*)}gs;
	for my $p (cited($comments)) {
		$count++;
		push @bad, "cites $p, which is not in the repository" unless -e $p;
	}
	while ($comments =~ m{(?<![\w.])(/(?:work|home)/[\w./-]*\.md)\b}g) {
		$count++;
		push @bad, "cites $1 by an absolute path";
	}
	push @results, [ $f, $count, \@bad ] if $count;
}

print "1..", scalar(@results), "\n";
my ($n, $failed) = (0, 0);
for my $r (@results) {
	my ($f, $count, $bad) = @$r;
	$n++;
	if (@$bad) {
		$failed++;
		print "not ok $n - $f: its $count links and cited paths resolve\n";
		print "# $_\n" for @$bad;
	} else {
		print "ok $n - $f: its $count links and cited paths resolve\n";
	}
}
exit($failed ? 1 : 0);
