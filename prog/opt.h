/* SPDX-License-Identifier: MIT */
/*
 * getopt_long() the way `vipi run` and `vipi bench` read their options:
 * strictly in order (the first operand ends the options, no permutation:
 * these commands take no operands, so it is an error the caller words),
 * every problem worded by util_getopt_problem() in the one-line usage
 * error convention, never by getopt itself, and a "--" left in argv like
 * any other operand, as these commands have nothing to put after it.
 */
#ifndef VIPI_PROG_OPT_H
#define VIPI_PROG_OPT_H

#include <getopt.h>

struct opt_scan {
	int argc;
	char **argv;
	const char *shortopts; /* getopt's, without a leading '+' or ':' */
	const struct option *longopts;
	char optstring[40];
	char problem[160]; /* after '?': "unknown option '--frob'", ... */
};

/* Start a scan of argv[1..argc-1] (resets getopt's state). */
void opt_scan_init(struct opt_scan *s, int argc, char **argv,
		   const char *shortopts, const struct option *longopts);

/*
 * The next option: its val (a value in optarg), '?' with what is wrong
 * in s->problem, or -1 when the options end: then optind is the index of
 * the first operand (a "--" included), or argc when there is none.
 */
int opt_scan_next(struct opt_scan *s);

#endif
