/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the vipi subcommands: strict number parsing (decimal or
 * 0x-hex, the whole string or nothing), hex byte strings, and the usage
 * error convention (message on stderr, exit status 2).
 */
#ifndef VIPI_PROG_UTIL_H
#define VIPI_PROG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Where the tools put guest memory inputs (Hyper-V EX input, vipi ABI
 * descriptors): one 64 KiB page-aligned buffer at this guest-physical
 * address, the same for `vipi encode` and `vipi decode` so their output
 * and input match.
 */
#define TOOL_GUEST_BUF_GPA 0x100000ull
#define TOOL_GUEST_BUF_SIZE 65536u

/* Exit statuses of every subcommand (docs/cli.md "Exit status"). */
#define VIPI_EXIT_OK 0
#define VIPI_EXIT_FAIL 1
#define VIPI_EXIT_USAGE 2

/*
 * Parse "123" or "0x7b" (also "0X7B"), nothing else: no sign, no spaces,
 * no trailing text, no octal. 0, -EINVAL (syntax) or -ERANGE (above max).
 */
int util_parse_u64(const char *s, uint64_t max, uint64_t *out);
int util_parse_u32(const char *s, uint32_t *out);

/*
 * Parse "GPA:HEX" (HEX an even number of hex digits, no 0x) into *gpa and a
 * malloc'd byte buffer. 0, -EINVAL or -ENOMEM.
 */
int util_parse_mem_arg(const char *s, uint64_t *gpa, uint8_t **bytes,
		       size_t *len);

/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
void util_hex_bytes(const void *buf, size_t len, char *out);

/* "ERANGE" for 34, ... ("E?" for numbers it does not know). */
const char *util_errno_name(int err);

/*
 * Print one line, "vipi CMD: <message> (usage: vipi CMD --help)", to
 * stderr; returns VIPI_EXIT_USAGE so callers can `return
 * util_usage_error(...)`. usage is not printed (--help prints it).
 */
int util_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "vipi CMD: <message>" on stderr; returns VIPI_EXIT_FAIL. */
int util_fail(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * After getopt_long() returned '?' (with opterr = 0): what was wrong, in
 * buf: "unknown option '--frob'", "--topology needs a value", "-t needs a
 * value". Returns buf.
 */
struct option;
const char *util_getopt_problem(char **argv, const char *optstring,
				const struct option *longopts, char *buf,
				size_t len);

/* True when argv holds -h or --help before any "--". */
bool util_wants_help(int argc, char **argv);

#endif
