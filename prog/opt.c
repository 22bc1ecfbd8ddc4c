// SPDX-License-Identifier: MIT
/*
 * The option scan of `vipi run` and `vipi bench` (opt.h): getopt_long()
 * in order ("+"), quiet (opterr = 0), with "--" given back to the caller.
 */
#include <stdio.h>
#include <string.h>

#include "opt.h"
#include "util.h"

void opt_scan_init(struct opt_scan *s, int argc, char **argv,
		   const char *shortopts, const struct option *longopts)
{
	s->argc = argc;
	s->argv = argv;
	s->shortopts = shortopts;
	s->longopts = longopts;
	snprintf(s->optstring, sizeof(s->optstring), "+%s", shortopts);
	s->problem[0] = '\0';
	optind = 0; /* a full reset: another command may have scanned */
	opterr = 0;
}

int opt_scan_next(struct opt_scan *s)
{
	int at = optind ? optind : 1; /* where getopt looks next */
	int opt =
		getopt_long(s->argc, s->argv, s->optstring, s->longopts, NULL);

	if (opt == '?') {
		util_getopt_problem(s->argv, s->shortopts, s->longopts,
				    s->problem, sizeof(s->problem));
	} else if (opt == -1 && optind == at + 1 && at < s->argc &&
		   !strcmp(s->argv[at], "--")) {
		/* getopt took "--" as the end of the options: it is an
		 * operand here, which the caller refuses as one */
		optind = at;
	}
	return opt;
}
