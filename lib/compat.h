/* SPDX-License-Identifier: MIT */
/*
 * What library code needs from the C library, for hosted and freestanding
 * builds alike: errno values (Linux's numbers) and a few string helpers.
 */
#ifndef VIPI_LIB_COMPAT_H
#define VIPI_LIB_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#if defined(VIPI_FREESTANDING)
#define EPERM 1
#define ENOENT 2
#define E2BIG 7
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define EOPNOTSUPP 95
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
#else
#include <errno.h>
#include <string.h>
#endif

#define VIPI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VIPI_BIT64(n) (1ull << (n))
/* bits h..l set (h >= l, h <= 63) */
#define VIPI_GENMASK64(h, l) ((~0ull >> (63 - (h))) & (~0ull << (l)))

#endif
