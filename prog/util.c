// SPDX-License-Identifier: MIT
/*
 * Number and hex parsing for the command line, and the error helpers every
 * subcommand uses. Parsing is strict on purpose: a typo in a register value
 * must be a usage error, never a silently different IPI.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int util_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	int d;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	} else if (s[0] == '0' && s[1]) {
		/* "010" would be octal to strtoul: refuse the ambiguity */
		return -EINVAL;
	}
	for (; *s; s++) {
		d = hex_digit(*s);
		if (d < 0 || (unsigned int)d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - (unsigned int)d) / base)
			return -ERANGE;
		v = v * base + (unsigned int)d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int util_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;
	int ret = util_parse_u64(s, UINT32_MAX, &v);

	if (!ret)
		*out = (uint32_t)v;
	return ret;
}

int util_parse_mem_arg(const char *s, uint64_t *gpa, uint8_t **bytes,
		       size_t *len)
{
	const char *colon = strchr(s, ':');
	char num[32];
	size_t n, i;
	uint8_t *b;
	int ret;

	if (!colon || (size_t)(colon - s) >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, (size_t)(colon - s));
	num[colon - s] = '\0';
	ret = util_parse_u64(num, UINT64_MAX, gpa);
	if (ret)
		return ret;
	s = colon + 1;
	n = strlen(s);
	if (n == 0 || n % 2)
		return -EINVAL;
	b = malloc(n / 2);
	if (!b)
		return -ENOMEM;
	for (i = 0; i < n / 2; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -EINVAL;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*bytes = b;
	*len = n / 2;
	return 0;
}

void util_hex_bytes(const void *buf, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

const char *util_errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case E2BIG:
		return "E2BIG";
	case ENOMEM:
		return "ENOMEM";
	case EFAULT:
		return "EFAULT";
	case EINVAL:
		return "EINVAL";
	case ENOSPC:
		return "ENOSPC";
	case ERANGE:
		return "ERANGE";
	case ENOSYS:
		return "ENOSYS";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	default:
		return "E?";
	}
}

int util_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;

	/* one line: what is wrong, and where the usage is (the full text
	 * only on --help, where it is asked for) */
	(void)usage;
	fprintf(stderr, "vipi %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (usage: vipi %s --help)\n", cmd);
	return VIPI_EXIT_USAGE;
}

int util_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vipi %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return VIPI_EXIT_FAIL;
}

bool util_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

const char *util_getopt_problem(char **argv, const char *optstring,
				const struct option *longopts, char *buf,
				size_t len)
{
	const char *a = optind > 0 ? argv[optind - 1] : NULL;

	if (optopt && optopt < 256 && (!a || a[0] != '-' || a[1] != '-')) {
		/* a short option: in optstring it takes a value, which is
		 * missing; elsewhere it is unknown */
		const char *p = strchr(optstring, optopt);

		if (p && p[1] == ':')
			snprintf(buf, len, "-%c needs a value", optopt);
		else
			snprintf(buf, len, "unknown option '-%c'", optopt);
		return buf;
	}
	if (a && a[0] == '-' && a[1] == '-') {
		size_t n = strcspn(a + 2, "=");

		for (const struct option *o = longopts; o && o->name; o++) {
			if (strlen(o->name) == n &&
			    !strncmp(o->name, a + 2, n)) {
				snprintf(buf, len, "%s %s", a,
					 o->has_arg == no_argument ?
						 "takes no value" :
						 "needs a value");
				return buf;
			}
		}
		snprintf(buf, len, "unknown option '%.*s'", (int)n + 2, a);
		return buf;
	}
	snprintf(buf, len, "unknown option '%s'", a ? a : "?");
	return buf;
}
