/* SPDX-License-Identifier: MIT */
/*
 * The tests' one operation recorder: a struct vipi_emit whose op() keeps a
 * copy of every operation an encoder emits, so a test can check each
 * operation's fields after the encoder returns.
 *
 *	struct oprec r = { 0 };
 *	struct vipi_emit e = oprec_emit(&r);
 *
 *	n = vipi_encode_...(&gt, &set, &send, &e);
 *	... r.n operations in r.ops[0 .. r.n - 1] ...
 *	oprec_free(&r);
 *
 * An operation's memory input (op->mem, mem_len bytes) lives in the
 * emitter's buffer, which the next operation reuses: the recorder copies it,
 * and the recorded op's mem points at the copy (NULL when there was none),
 * valid until oprec_reset() or oprec_free().
 */
#ifndef VIPI_TESTS_OPREC_H
#define VIPI_TESTS_OPREC_H

#include <stdint.h>

#include <vipi/encode.h>

struct oprec {
	struct vipi_op *ops;
	uint32_t n, cap;
	/* fail_rc != 0: operation fail_at and every later one return
	 * fail_rc without being recorded (zero-initialised: never) */
	uint32_t fail_at;
	int fail_rc;
	void **mem; /* the copies of ops[i].mem */
};

/* The emitter callback: ctx is a struct oprec. */
int oprec_op(void *ctx, const struct vipi_op *op);

/* An emitter that records into r (no memory buffer: set buf, buf_gpa and
 * buf_size for the methods that pass input in memory). */
struct vipi_emit oprec_emit(struct oprec *r);

/* Recorded operation i, or an all-zero one (kind 0, no memory) when fewer
 * than i + 1 were recorded, so a check of its fields fails instead of
 * reading past the end. */
const struct vipi_op *oprec_at(const struct oprec *r, uint32_t i);

/* Forget the recorded operations (a planned failure stays). */
void oprec_reset(struct oprec *r);

/* From operation index on (0 is the first after a reset), op() returns
 * rc; rc 0 plans no failure. */
void oprec_fail_at(struct oprec *r, uint32_t index, int rc);

/* Free what the recorder holds; r is as zero-initialised afterwards. */
void oprec_free(struct oprec *r);

#endif /* VIPI_TESTS_OPREC_H */
