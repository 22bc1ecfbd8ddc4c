# SPDX-License-Identifier: MIT
# Paths inside the source tree, for the Perl test scripts that read it
# (tests/doc-links.t, tests/layers.t):
#
#	use lib "$ENV{VIPI_SRC}/tests/lib";
#	use TreePath qw(norm);
package TreePath;

use strict;
use warnings;
use Exporter qw(import);

our @EXPORT_OK = qw(norm);

# Collapse a/./b/../c to a/c; undef when it climbs out of the tree
sub norm {
	my @out;
	for my $part (split m{/}, $_[0]) {
		next if $part eq '' || $part eq '.';
		if ($part eq '..') {
			return undef unless @out;
			pop @out;
		} else {
			push @out, $part;
		}
	}
	return join('/', @out);
}

1;
