// SPDX-License-Identifier: MIT
/* TAP producer used by every C test program; see tap.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static unsigned int tap_count, tap_failed, tap_planned;
static bool tap_lazy;

void tap_plan(unsigned int n)
{
	tap_planned = n;
	printf("1..%u\n", n);
	fflush(stdout);
}

void tap_plan_lazy(void)
{
	tap_lazy = true;
}

__attribute__((format(printf, 2, 0))) static bool
tap_vreport(bool cond, const char *fmt, va_list ap)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(cond, fmt, ap);
	va_end(ap);
	return cond;
}

bool tap_is_u64(uint64_t got, uint64_t want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vreport(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		tap_diag("got 0x%" PRIx64 " (%" PRIu64 "), want 0x%" PRIx64
			 " (%" PRIu64 ")",
			 got, got, want, want);
	return r;
}

bool tap_is_i64(int64_t got, int64_t want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vreport(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		tap_diag("got %" PRId64 ", want %" PRId64, got, want);
	return r;
}

bool tap_is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vreport(got && want && !strcmp(got, want), fmt, ap);
	va_end(ap);
	if (!r)
		tap_diag("got '%s', want '%s'", got ? got : "(null)",
			 want ? want : "(null)");
	return r;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tap_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("ok %u - ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

void tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

void tap_bail(const char *why)
{
	printf("Bail out! %s\n", why);
	exit(255);
}

int tap_done(void)
{
	bool plan_ok = true;

	if (tap_lazy) {
		printf("1..%u\n", tap_count);
	} else if (tap_planned != tap_count) {
		tap_diag("planned %u tests but ran %u", tap_planned, tap_count);
		plan_ok = false;
	}
	fflush(stdout);
	return tap_failed || !plan_ok ? 1 : 0;
}

static void tap_field_note(struct tap_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tap_field_note(struct tap_fields *f, const char *fmt, ...)
{
	size_t used = strlen(f->why);
	va_list ap;

	f->bad++;
	if (used + 2 >= sizeof(f->why))
		return;
	if (used)
		f->why[used++] = '\n';
	va_start(ap, fmt);
	vsnprintf(f->why + used, sizeof(f->why) - used, fmt, ap);
	va_end(ap);
}

bool tap_field_u64(struct tap_fields *f, const char *field, uint64_t got,
		   uint64_t want)
{
	if (got == want)
		return true;
	tap_field_note(f,
		       "%s: got 0x%" PRIx64 " (%" PRIu64 "), want 0x%" PRIx64
		       " (%" PRIu64 ")",
		       field, got, got, want, want);
	return false;
}

bool tap_field_i64(struct tap_fields *f, const char *field, int64_t got,
		   int64_t want)
{
	if (got == want)
		return true;
	tap_field_note(f, "%s: got %" PRId64 ", want %" PRId64, field, got,
		       want);
	return false;
}

bool tap_field_str(struct tap_fields *f, const char *field, const char *got,
		   const char *want)
{
	if (got && want && !strcmp(got, want))
		return true;
	tap_field_note(f, "%s: got '%s', want '%s'", field,
		       got ? got : "(null)", want ? want : "(null)");
	return false;
}

bool tap_fields_ok(struct tap_fields *f, const char *fmt, ...)
{
	va_list ap;
	bool r;
	char *line, *next;

	va_start(ap, fmt);
	r = tap_vreport(f->bad == 0, fmt, ap);
	va_end(ap);
	for (line = f->why; !r && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		tap_diag("%s", line);
	}
	f->bad = 0;
	f->why[0] = 0;
	return r;
}

uint64_t tap_seed(void)
{
	static uint64_t seed;
	const char *env;

	if (seed)
		return seed;
	env = getenv("VIPI_TEST_SEED");
	seed = env ? strtoull(env, NULL, 0) : 0x5eed5eedull;
	if (!seed)
		seed = 1;
	tap_diag("seed 0x%" PRIx64 " (set VIPI_TEST_SEED to repeat another)",
		 seed);
	return seed;
}

uint64_t tap_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t tap_rand_below(uint64_t *state, uint64_t n)
{
	return n ? tap_rand(state) % n : 0;
}
