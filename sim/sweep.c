// SPDX-License-Identifier: MIT
/* `vipi sim --sweep` (placeholder while the sweep is written). */
#include <errno.h>

#include "sim.h"

int sim_sweep(const struct sim_sweep_opts *o)
{
	return -ENOSYS;
}
