// SPDX-License-Identifier: MIT
/* The operation recorder (oprec.h). */
#include <stdlib.h>
#include <string.h>

#include "oprec.h"
#include "tap.h"

int oprec_op(void *ctx, const struct vipi_op *op)
{
	struct oprec *r = ctx;
	void *copy = NULL;

	if (r->fail_rc && r->n >= r->fail_at)
		return r->fail_rc;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->ops = realloc(r->ops, r->cap * sizeof(*r->ops));
		r->mem = realloc(r->mem, r->cap * sizeof(*r->mem));
		if (!r->ops || !r->mem)
			tap_bail("out of memory");
	}
	if (op->mem && op->mem_len) {
		copy = malloc(op->mem_len);
		if (!copy)
			tap_bail("out of memory");
		memcpy(copy, op->mem, op->mem_len);
	}
	r->ops[r->n] = *op;
	r->ops[r->n].mem = copy;
	r->mem[r->n] = copy;
	r->n++;
	return 0;
}

struct vipi_emit oprec_emit(struct oprec *r)
{
	struct vipi_emit e = { .op = oprec_op, .ctx = r };

	return e;
}

const struct vipi_op *oprec_at(const struct oprec *r, uint32_t i)
{
	static const struct vipi_op none;

	return i < r->n ? &r->ops[i] : &none;
}

void oprec_reset(struct oprec *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		free(r->mem[i]);
	r->n = 0;
}

void oprec_fail_at(struct oprec *r, uint32_t index, int rc)
{
	r->fail_at = index;
	r->fail_rc = rc;
}

void oprec_free(struct oprec *r)
{
	oprec_reset(r);
	free(r->ops);
	free(r->mem);
	memset(r, 0, sizeof(*r));
}
