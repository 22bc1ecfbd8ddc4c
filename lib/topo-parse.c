// SPDX-License-Identifier: MIT
/*
 * The topology text format (docs/topology.md): "ARCH:KIND:ARGS", parsed
 * into APIC ID or MPIDR arrays and handed to vipi_topo_create_*(), and the
 * canonical spelling printed back by vipi_topo_format().
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <vipi/topo.h>

#include "compat.h"
#include "numparse.h"
#include "topo-internal.h"

/* Growable array of u64 values built from a LIST. */
struct id_list {
	uint64_t *v;
	uint32_t nr, cap;
};

static int list_push(struct id_list *l, uint64_t v)
{
	if (l->nr == VIPI_MAX_VCPUS)
		return -E2BIG;
	if (l->nr == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		uint64_t *p = realloc(l->v, (size_t)cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->nr++] = v;
	return 0;
}

/* "A,B-C,..." of values <= max into l. */
static int parse_id_list(const char *p, uint64_t max, struct id_list *l,
			 const char *what, char *err, size_t errlen)
{
	uint64_t a, b, v;
	int r;

	if (!*p) {
		topo_err(err, errlen, "empty %s list", what);
		return -EINVAL;
	}
	for (;;) {
		const char *at = p;

		r = vipi_parse_u64(&p, max, &a);
		b = a;
		if (!r && *p == '-') {
			p++;
			r = vipi_parse_u64(&p, max, &b);
		}
		if (r) {
			topo_err(err, errlen, "bad %s at '%s'%s", what, at,
				 r == -ERANGE ? " (too large)" : "");
			return -EINVAL;
		}
		if (b < a) {
			topo_err(err, errlen, "empty %s range at '%s'", what,
				 at);
			return -EINVAL;
		}
		if (b - a >= VIPI_MAX_VCPUS) {
			topo_err(err, errlen, "more than %u vCPUs at '%s'",
				 VIPI_MAX_VCPUS, at);
			return -EINVAL;
		}
		for (v = a;; v++) {
			r = list_push(l, v);
			if (r) {
				topo_err(err, errlen,
					 r == -E2BIG ? "more than %u vCPUs" :
						       "out of memory (%u)",
					 VIPI_MAX_VCPUS);
				return r == -E2BIG ? -EINVAL : r;
			}
			if (v == b)
				break;
		}
		if (!*p)
			return 0;
		if (*p != ',') {
			topo_err(err, errlen, "expected ',' at '%s'", p);
			return -EINVAL;
		}
		p++;
	}
}

/* "N[:M[:K...]]": exactly want numbers (or between min and max of them). */
static int parse_fields(const char *p, uint64_t *f, unsigned int min_n,
			unsigned int max_n, unsigned int *got, char *err,
			size_t errlen, const char *spec)
{
	unsigned int n = 0;

	for (;;) {
		if (n == max_n || vipi_parse_u64(&p, UINT32_MAX, &f[n])) {
			topo_err(err, errlen, "bad numbers in '%s'", spec);
			return -EINVAL;
		}
		n++;
		if (!*p)
			break;
		if (*p != ':') {
			topo_err(err, errlen, "expected ':' at '%s' in '%s'", p,
				 spec);
			return -EINVAL;
		}
		p++;
	}
	if (n < min_n) {
		topo_err(err, errlen, "too few numbers in '%s'", spec);
		return -EINVAL;
	}
	*got = n;
	return 0;
}

static int check_count(uint64_t n, char *err, size_t errlen)
{
	if (!n || n > VIPI_MAX_VCPUS) {
		topo_err(err, errlen, "%" PRIu64 " vCPUs: 1 to %u allowed", n,
			 VIPI_MAX_VCPUS);
		return -EINVAL;
	}
	return 0;
}

static unsigned int bits_for(uint64_t n)
{
	unsigned int b = 0;

	while ((1ull << b) < n)
		b++;
	return b;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int parse_x86(const char *kind, const char *args, struct id_list *l,
		     const char *spec, char *err, size_t errlen)
{
	uint64_t f[4], i, n, s, c, th;
	unsigned int got, tb, cb;
	int r;

	if (!strcmp(kind, "ids"))
		return parse_id_list(args, UINT32_MAX - 1, l, "APIC ID", err,
				     errlen);
	if (!strcmp(kind, "dense") || !strcmp(kind, "stride")) {
		bool dense = kind[0] == 'd';

		r = parse_fields(args, f, dense ? 1 : 2, dense ? 1 : 3, &got,
				 err, errlen, spec);
		if (r || (r = check_count(f[0], err, errlen)))
			return r;
		s = dense ? 1 : f[1];
		c = !dense && got == 3 ? f[2] : 0;
		if (!s || c + (f[0] - 1) * s >= UINT32_MAX) {
			topo_err(
				err, errlen,
				"'%s': stride must be >= 1 and IDs below 0xffffffff",
				spec);
			return -EINVAL;
		}
		for (i = 0; i < f[0]; i++)
			if ((r = list_push(l, c + i * s)))
				return r;
		return 0;
	}
	if (!strcmp(kind, "pkg")) {
		r = parse_fields(args, f, 3, 3, &got, err, errlen, spec);
		if (r)
			return r;
		if (f[0] > VIPI_MAX_VCPUS || f[1] > VIPI_MAX_VCPUS ||
		    f[2] > VIPI_MAX_VCPUS) {
			topo_err(err, errlen, "'%s': more than %u vCPUs", spec,
				 VIPI_MAX_VCPUS);
			return -EINVAL;
		}
		n = f[0] * f[1] * f[2];
		if (!n) {
			topo_err(err, errlen, "'%s': counts must be >= 1",
				 spec);
			return -EINVAL;
		}
		if ((r = check_count(n, err, errlen)))
			return r;
		/* SDM 8.9: SMT and core fields are each rounded up to a
		 * power of two, so IDs have holes when counts are not */
		tb = bits_for(f[2]);
		cb = bits_for(f[1]);
		if (((f[0] - 1) << (cb + tb)) >= UINT32_MAX) {
			topo_err(err, errlen, "'%s': APIC IDs exceed 32 bits",
				 spec);
			return -EINVAL;
		}
		for (s = 0; s < f[0]; s++)
			for (c = 0; c < f[1]; c++)
				for (th = 0; th < f[2]; th++)
					if ((r = list_push(l,
							   (s << (cb + tb)) |
								   (c << tb) |
								   th)))
						return r;
		return 0;
	}
	if (!strcmp(kind, "sparse")) {
		uint64_t seed;
		struct id_map probe;

		r = parse_fields(args, f, 2, 2, &got, err, errlen, spec);
		if (r || (r = check_count(f[0], err, errlen)))
			return r;
		/* distinct random 32-bit IDs: draw, then drop repeats with
		 * a temporary map */
		seed = f[1];
		for (i = 0; i < f[0]; i++) {
			uint32_t id = (uint32_t)splitmix(&seed);

			if (id == UINT32_MAX) {
				i--;
				continue;
			}
			if ((r = list_push(l, id)))
				return r;
		}
		for (;;) {
			uint32_t *keys = malloc((size_t)l->nr * 4), dup = 0;

			if (!keys)
				return -ENOMEM;
			for (i = 0; i < l->nr; i++)
				keys[i] = (uint32_t)l->v[i];
			if (id_map_build(&probe, keys, l->nr, UINT32_MAX)) {
				free(keys);
				return -ENOMEM;
			}
			for (i = 0; i < l->nr; i++)
				if (id_map_find(&probe, keys[i]) !=
				    (int32_t)i) {
					uint32_t id;

					do
						id = (uint32_t)splitmix(&seed);
					while (id == UINT32_MAX);
					l->v[i] = id;
					dup++;
				}
			id_map_free(&probe);
			free(keys);
			if (!dup)
				return 0;
		}
	}
	topo_err(
		err, errlen,
		"unknown x86 topology kind '%s' (dense, ids, stride, pkg, sparse)",
		kind);
	return -EINVAL;
}

static int parse_arm64(const char *kind, const char *args, struct id_list *l,
		       const char *spec, char *err, size_t errlen)
{
	uint64_t f[4], i, n, c;
	unsigned int got, k;
	int r;

	if (!strcmp(kind, "mpidr"))
		return parse_id_list(args, VIPI_MPIDR_AFF_MASK, l, "MPIDR", err,
				     errlen);
	if (!strcmp(kind, "kvm")) {
		r = parse_fields(args, f, 1, 1, &got, err, errlen, spec);
		if (r || (r = check_count(f[0], err, errlen)))
			return r;
		/* KVM's reset MPIDR: Aff0 = id[3:0], Aff1 = id[11:4],
		 * Aff2 = id[19:12] */
		for (i = 0; i < f[0]; i++)
			if ((r = list_push(l, VIPI_MPIDR(0, (i >> 12) & 0xff,
							 (i >> 4) & 0xff,
							 i & 0xf))))
				return r;
		return 0;
	}
	if (!strcmp(kind, "cluster")) {
		r = parse_fields(args, f, 2, 2, &got, err, errlen, spec);
		if (r || (r = check_count(f[0], err, errlen)))
			return r;
		if (!f[1] || f[1] > 256) {
			topo_err(err, errlen,
				 "'%s': cluster width is 1 to 256 (Aff0)",
				 spec);
			return -EINVAL;
		}
		for (i = 0; i < f[0]; i++) {
			c = i / f[1];
			if ((r = list_push(l,
					   VIPI_MPIDR(c >> 16, (c >> 8) & 0xff,
						      c & 0xff, i % f[1]))))
				return r;
		}
		return 0;
	}
	if (!strcmp(kind, "aff")) {
		uint64_t sz[4] = { 1, 1, 1, 1 }, a[4];

		r = parse_fields(args, f, 3, 4, &got, err, errlen, spec);
		if (r)
			return r;
		/* sizes are given from the highest level down to Aff0 */
		for (k = 0; k < got; k++)
			sz[got - 1 - k] = f[k];
		n = 1;
		for (k = 0; k < 4; k++) {
			if (!sz[k] || sz[k] > 256) {
				topo_err(
					err, errlen,
					"'%s': each level has 1 to 256 members",
					spec);
				return -EINVAL;
			}
			n *= sz[k];
		}
		if ((r = check_count(n, err, errlen)))
			return r;
		for (i = 0; i < n; i++) {
			c = i;
			for (k = 0; k < 4; k++) {
				a[k] = c % sz[k];
				c /= sz[k];
			}
			if ((r = list_push(l,
					   VIPI_MPIDR(a[3], a[2], a[1], a[0]))))
				return r;
		}
		return 0;
	}
	topo_err(err, errlen,
		 "unknown arm64 topology kind '%s' (kvm, mpidr, cluster, aff)",
		 kind);
	return -EINVAL;
}

int vipi_topo_parse(const char *spec, struct vipi_topo **out, char *err,
		    size_t errlen)
{
	char arch[16], kind[16];
	const char *p, *q, *args;
	struct id_list l = { 0 };
	uint32_t *ids, i;
	size_t len;
	int r;

	if (!spec || !out)
		return -EINVAL;
	p = strchr(spec, ':');
	q = p ? strchr(p + 1, ':') : NULL;
	if (!p || !q || (size_t)(p - spec) >= sizeof(arch) ||
	    (size_t)(q - p - 1) >= sizeof(kind)) {
		topo_err(
			err, errlen,
			"bad topology '%s': expected ARCH:KIND:ARGS, e.g. x86:dense:64 or arm64:kvm:512",
			spec);
		return -EINVAL;
	}
	len = (size_t)(p - spec);
	memcpy(arch, spec, len);
	arch[len] = '\0';
	len = (size_t)(q - p - 1);
	memcpy(kind, p + 1, len);
	kind[len] = '\0';
	args = q + 1;

	if (!strcmp(arch, "x86")) {
		r = parse_x86(kind, args, &l, spec, err, errlen);
		if (!r) {
			ids = malloc((size_t)l.nr * sizeof(*ids));
			if (!ids) {
				free(l.v);
				return -ENOMEM;
			}
			for (i = 0; i < l.nr; i++)
				ids[i] = (uint32_t)l.v[i];
			r = vipi_topo_create_x86(ids, l.nr, out, err, errlen);
			free(ids);
		}
	} else if (!strcmp(arch, "arm64")) {
		r = parse_arm64(kind, args, &l, spec, err, errlen);
		if (!r)
			r = vipi_topo_create_arm64(l.v, l.nr, out, err, errlen);
	} else {
		topo_err(err, errlen, "unknown architecture '%s' (x86, arm64)",
			 arch);
		r = -EINVAL;
	}
	free(l.v);
	return r;
}

/* Append with snprintf semantics: pos counts what the text needs. */
static size_t append(char *buf, size_t len, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t len, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(pos < len ? buf + pos : NULL, pos < len ? len - pos : 0,
		      fmt, ap);
	va_end(ap);
	return pos + (n > 0 ? (size_t)n : 0);
}

size_t vipi_topo_format(const struct vipi_topo *t, char *buf, size_t len)
{
	bool x86 = t->arch == VIPI_ARCH_X86, same = true;
	size_t pos;
	uint32_t i, j;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < t->nr && same; i++) {
		if (x86)
			same = t->apic_ids[i] == i;
		else
			same = t->mpidrs[i] == VIPI_MPIDR(0, (i >> 12) & 0xff,
							  (i >> 4) & 0xff,
							  i & 0xf);
	}
	if (same)
		return append(buf, len, 0, "%s:%u",
			      x86 ? "x86:dense" : "arm64:kvm", t->nr);
	pos = append(buf, len, 0, "%s", x86 ? "x86:ids:" : "arm64:mpidr:");
	for (i = 0; i < t->nr; i = j + 1) {
		uint64_t a = x86 ? t->apic_ids[i] : t->mpidrs[i];

		/* a run of consecutive values is printed as a range */
		for (j = i; j + 1 < t->nr; j++) {
			uint64_t nx = x86 ? t->apic_ids[j + 1] :
					    t->mpidrs[j + 1];

			if (nx != a + (j + 1 - i))
				break;
		}
		pos = append(buf, len, pos, x86 ? "%s%" PRIu64 : "%s0x%" PRIx64,
			     i ? "," : "", a);
		if (j > i)
			pos = append(buf, len, pos,
				     x86 ? "-%" PRIu64 : "-0x%" PRIx64,
				     a + (j - i));
	}
	return pos;
}
