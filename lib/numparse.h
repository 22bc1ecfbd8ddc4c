/* SPDX-License-Identifier: MIT */
/*
 * The one number syntax of every text vipi reads (CPU lists, topology
 * specs): decimal or 0x-hex, no sign, no spaces. Freestanding-safe.
 */
#ifndef VIPI_LIB_NUMPARSE_H
#define VIPI_LIB_NUMPARSE_H

#include <stdint.h>

#include "compat.h"

/*
 * Parse a number at *p no larger than max; on success advance *p past it.
 * 0, -EINVAL (no digits, or a decimal with a leading zero: "010") or
 * -ERANGE (above max).
 */
static inline int vipi_parse_u64(const char **p, uint64_t max, uint64_t *out)
{
	const char *c = *p;
	uint64_t v = 0;
	unsigned int base = 10, d, digits = 0;

	if (c[0] == '0' && (c[1] == 'x' || c[1] == 'X')) {
		base = 16;
		c += 2;
	} else if (c[0] == '0' && c[1] >= '0' && c[1] <= '9') {
		return -EINVAL; /* "010": octal elsewhere, refused as prog/ does */
	}
	for (;; c++, digits++) {
		if (*c >= '0' && *c <= '9')
			d = (unsigned int)(*c - '0');
		else if (base == 16 && *c >= 'a' && *c <= 'f')
			d = (unsigned int)(*c - 'a' + 10);
		else if (base == 16 && *c >= 'A' && *c <= 'F')
			d = (unsigned int)(*c - 'A' + 10);
		else
			break;
		if (d > max || v > (max - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (!digits)
		return -EINVAL;
	*p = c;
	*out = v;
	return 0;
}

#endif
