/* SPDX-License-Identifier: MIT */
/*
 * Forced into every lib/ object by the Makefile (-include lib/export.h),
 * which also compiles lib/ with -fvisibility=hidden: what the public
 * headers (include/vipi/vipi.h) declare keeps default visibility, every
 * other function and object of lib/ (internal headers such as
 * lib/x86/icr.h, lib/topo-internal.h) is hidden and stays out of
 * libvipi.so's dynamic symbol table. lib/libvipi.map then names the
 * version node. tests/exports.t checks the result against the headers.
 */
#ifndef VIPI_LIB_EXPORT_H
#define VIPI_LIB_EXPORT_H

#pragma GCC visibility push(default)
#include <vipi/vipi.h>
#pragma GCC visibility pop

#endif
