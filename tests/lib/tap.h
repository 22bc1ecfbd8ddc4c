/* SPDX-License-Identifier: MIT */
/*
 * A small TAP producer for the test programs (one stream per program,
 * run by prove). ok()/is() report one test point each; skip_all() ends the
 * stream with a reason, as kselftest does when something is missing.
 */
#ifndef VIPI_TESTS_TAP_H
#define VIPI_TESTS_TAP_H

#include <stdbool.h>
#include <stdint.h>

void tap_plan(unsigned int n);
void tap_plan_lazy(void); /* print the plan at tap_done() */
/* Report one point; returns cond so callers can add diagnostics. */
bool tap_ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool tap_is_u64(uint64_t got, uint64_t want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool tap_is_i64(int64_t got, int64_t want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool tap_is_str(const char *got, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_skip(const char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void tap_skip_all(const char *why);
__attribute__((noreturn)) void tap_bail(const char *why);
/*
 * Print the lazy plan if any; exit status 0 when every point passed and,
 * with a fixed plan, exactly the planned number of points ran.
 */
int tap_done(void);

/*
 * One test point over several fields, naming each field that differed:
 *
 *	struct tap_fields f = TAP_FIELDS_INIT;
 *	field_i64(&f, rc, 0);
 *	field_u64(&f, ipi.status, VIPI_OK);
 *	field_str(&f, got_list, "0-3");
 *	fields_ok(&f, "x2APIC ICR: %s", name);
 *
 * fields_ok() reports one point; on failure it prints "FIELD: got X, want
 * Y" for every field that differed (the field is the expression's text).
 */
struct tap_fields {
	unsigned int bad;
	char why[1024];
};
#define TAP_FIELDS_INIT   \
	{                 \
		0,        \
		{         \
			0 \
		}         \
	}
bool tap_field_u64(struct tap_fields *f, const char *field, uint64_t got,
		   uint64_t want);
bool tap_field_i64(struct tap_fields *f, const char *field, int64_t got,
		   int64_t want);
bool tap_field_str(struct tap_fields *f, const char *field, const char *got,
		   const char *want);
bool tap_fields_ok(struct tap_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Seeded xorshift PRNG for property tests; the seed is printed once. */
uint64_t tap_seed(void); /* from VIPI_TEST_SEED or a fixed default */
uint64_t tap_rand(uint64_t *state);
/* uniform in [0, n) */
uint64_t tap_rand_below(uint64_t *state, uint64_t n);

#define ok(cond, ...) tap_ok((cond), __VA_ARGS__)
#define is_u64(g, w, ...) tap_is_u64((g), (w), __VA_ARGS__)
#define is_i64(g, w, ...) tap_is_i64((g), (w), __VA_ARGS__)
#define is_str(g, w, ...) tap_is_str((g), (w), __VA_ARGS__)
#define field_u64(f, g, w) tap_field_u64((f), #g, (g), (w))
#define field_i64(f, g, w) tap_field_i64((f), #g, (g), (w))
#define field_str(f, g, w) tap_field_str((f), #g, (g), (w))
#define fields_ok(f, ...) tap_fields_ok((f), __VA_ARGS__)

#endif
