// SPDX-License-Identifier: MIT
/*
 * Destination-set workloads for `vipi sim`: the shapes guests really send
 * (one target, random sets of a density, a NUMA node, all but self, the
 * CPUs an address space ran on for a TLB shootdown, wake-up batches) and
 * replay of recorded sets from a trace file (docs/sim.md "Trace format").
 * Every set comes from a seeded generator, so a seed repeats a run.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* Node size for mm:K (the CPUs an address space runs on stay near). */
#define SIM_MM_NODE 64u

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > VIPI_MAX_VCPUS)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (*s && isspace((unsigned char)*s))
		memmove(s, s + 1, strlen(s));
}

/* One line of a trace: "LIST" or "SENDER: LIST"; comments after '#'. */
static int trace_line(char *line, struct sim_trace_line *tl, char *err,
		      size_t errlen, uint32_t lineno)
{
	char *hash = strchr(line, '#'), *colon, *p;
	uint64_t sender = 0;

	if (hash)
		*hash = '\0';
	trim(line);
	if (!*line)
		return 1; /* nothing on this line */
	colon = strchr(line, ':');
	if (colon) {
		*colon = '\0';
		trim(line);
		errno = 0;
		sender = strtoull(line, &p, 0);
		if (!*line || *p || errno || sender >= VIPI_MAX_VCPUS) {
			snprintf(err, errlen, "trace line %u: bad sender '%s'",
				 lineno, line);
			return -EINVAL;
		}
		line = colon + 1;
		trim(line);
	}
	/* the list is checked against the VM when it is used */
	for (p = line; *p; p++) {
		if (!isxdigit((unsigned char)*p) && *p != ',' && *p != '-' &&
		    *p != 'x' && *p != 'X') {
			snprintf(err, errlen,
				 "trace line %u: '%c' in the CPU list", lineno,
				 *p);
			return -EINVAL;
		}
	}
	tl->sender = (uint32_t)sender;
	tl->list = strdup(line);
	return tl->list ? 0 : -ENOMEM;
}

static int trace_load(const char *path, struct sim_dist *d, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	uint32_t lineno = 0, alloc = 0;
	int ret = 0;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (d->nr_lines == alloc) {
			uint32_t na = alloc ? 2 * alloc : 64;
			struct sim_trace_line *v =
				realloc(d->lines, na * sizeof(*v));

			if (!v) {
				ret = -ENOMEM;
				break;
			}
			d->lines = v;
			alloc = na;
		}
		ret = trace_line(line, &d->lines[d->nr_lines], err, errlen,
				 lineno);
		if (ret < 0)
			break;
		if (ret == 0)
			d->nr_lines++;
		ret = 0;
	}
	free(line);
	fclose(f);
	if (!ret && !d->nr_lines) {
		snprintf(err, errlen, "%s: no sets in the trace", path);
		ret = -EINVAL;
	}
	return ret;
}

int sim_dist_parse(const char *spec, struct sim_dist *d, char *err,
		   size_t errlen)
{
	const char *arg = strchr(spec, ':');
	char *end;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", spec);
	if (!strcmp(spec, "single")) {
		d->kind = SIM_DIST_SINGLE;
		return 0;
	}
	if (!strcmp(spec, "allbutself")) {
		d->kind = SIM_DIST_ALLBUTSELF;
		return 0;
	}
	if (!arg)
		goto bad;
	arg++;
	if (!strncmp(spec, "random:", 7)) {
		d->kind = SIM_DIST_RANDOM;
		errno = 0;
		d->density = strtod(arg, &end);
		if (errno || end == arg || *end || !(d->density > 0) ||
		    d->density > 1) {
			snprintf(err, errlen,
				 "random:DENSITY needs 0 < DENSITY <= 1, not "
				 "'%s'",
				 arg);
			return -EINVAL;
		}
		return 0;
	}
	if (!strncmp(spec, "node:", 5) || !strncmp(spec, "mm:", 3) ||
	    !strncmp(spec, "wake:", 5)) {
		d->kind = spec[0] == 'n' ? SIM_DIST_NODE :
			  spec[0] == 'm' ? SIM_DIST_MM :
					   SIM_DIST_WAKE;
		if (parse_u32(arg, &d->k)) {
			snprintf(err, errlen,
				 "'%s': the size must be 1..262144", spec);
			return -EINVAL;
		}
		return 0;
	}
	if (!strncmp(spec, "trace:", 6)) {
		int ret;

		d->kind = SIM_DIST_TRACE;
		ret = trace_load(arg, d, err, errlen);
		if (ret)
			sim_dist_free(d);
		return ret;
	}
bad:
	snprintf(err, errlen,
		 "unknown set distribution '%s' (single, random:DENSITY, "
		 "allbutself, node:SIZE, mm:K, wake:K, trace:FILE)",
		 spec);
	return -EINVAL;
}

void sim_dist_free(struct sim_dist *d)
{
	uint32_t i;

	for (i = 0; i < d->nr_lines; i++)
		free(d->lines[i].list);
	free(d->lines);
	d->lines = NULL;
	d->nr_lines = 0;
}

uint32_t sim_dist_default_count(const struct sim_dist *d)
{
	return d->kind == SIM_DIST_TRACE ? d->nr_lines : 100;
}

/*
 * Add k distinct members of the universe {base + i*1 : i < u} minus
 * `exclude` (which may lie outside it): rejection while the set is at most
 * half full, otherwise fill and remove, so the work stays O(u) at worst.
 */
static int pick_distinct(struct vipi_cpuset *s, uint32_t base, uint32_t u,
			 uint32_t k, uint32_t exclude, uint64_t *rng)
{
	bool ex_in = exclude >= base && exclude - base < u;
	uint32_t avail = u - (ex_in ? 1 : 0), have = 0;
	int ret;

	if (k > avail)
		k = avail;
	if (2ull * k <= avail) {
		while (have < k) {
			uint32_t c = base + sim_below(rng, u);

			if (c == exclude || vipi_cpuset_test(s, c))
				continue;
			ret = vipi_cpuset_add(s, c);
			if (ret)
				return ret;
			have++;
		}
		return 0;
	}
	ret = vipi_cpuset_add_range(s, base, u);
	if (ret)
		return ret;
	if (ex_in)
		vipi_cpuset_del(s, exclude);
	have = avail;
	while (have > k) {
		uint32_t c = base + sim_below(rng, u);

		if (c == exclude || !vipi_cpuset_test(s, c))
			continue;
		vipi_cpuset_del(s, c);
		have--;
	}
	return 0;
}

static int gen_mm(const struct sim_dist *d, uint32_t n, uint64_t *rng,
		  struct vipi_cpuset *set, uint32_t *sender)
{
	uint32_t g = n < SIM_MM_NODE ? n : SIM_MM_NODE;
	uint32_t nr_nodes = n / g, m, i, k = d->k, chosen[64], have = 0;
	uint32_t cap;
	int ret;

	/* enough nodes that the K CPUs fill at most half of them */
	m = (2 * (uint64_t)k + g - 1) / g;
	if (m < 1)
		m = 1;
	if (m > nr_nodes)
		m = nr_nodes;
	if (m > 64)
		m = 64;
	while (have < m) {
		uint32_t node = sim_below(rng, nr_nodes);

		for (i = 0; i < have && chosen[i] != node; i++)
			;
		if (i == have)
			chosen[have++] = node;
	}
	cap = m * g;
	*sender = chosen[0] * g + sim_below(rng, g);
	if (k > cap - 1)
		k = cap - 1;
	/* K CPUs over the chosen nodes: spread the count node by node */
	for (i = 0; i < m; i++) {
		uint32_t share = k / m + (i < k % m ? 1 : 0);

		ret = pick_distinct(set, chosen[i] * g, g, share, *sender, rng);
		if (ret)
			return ret;
	}
	return 0;
}

int sim_dist_next(const struct sim_dist *d, uint32_t idx, uint32_t n,
		  uint64_t *rng, struct vipi_cpuset *set, uint32_t *sender,
		  char *err, size_t errlen)
{
	uint32_t i, size, node;
	int ret = 0;

	vipi_cpuset_clear(set);
	if (d->kind != SIM_DIST_TRACE)
		*sender = sim_below(rng, n);
	switch (d->kind) {
	case SIM_DIST_SINGLE:
		i = n > 1 ? sim_below(rng, n - 1) : 0;
		if (n > 1 && i >= *sender)
			i++; /* anyone but the sender */
		return vipi_cpuset_add(set, i);
	case SIM_DIST_RANDOM:
		for (i = 0; i < n && !ret; i++)
			if (i != *sender &&
			    (double)(sim_rand(rng) >> 11) * 0x1.0p-53 <
				    d->density)
				ret = vipi_cpuset_add(set, i);
		if (!ret && !vipi_cpuset_weight(set) && n > 1)
			ret = pick_distinct(set, 0, n, 1, *sender, rng);
		return ret;
	case SIM_DIST_ALLBUTSELF:
		ret = vipi_cpuset_add_range(set, 0, n);
		if (!ret)
			ret = vipi_cpuset_del(set, *sender);
		return ret;
	case SIM_DIST_NODE:
		size = d->k < n ? d->k : n;
		node = sim_below(rng, n / size);
		ret = vipi_cpuset_add_range(set, node * size, size);
		if (!ret && vipi_cpuset_weight(set) > 1)
			ret = vipi_cpuset_del(set, *sender);
		return ret;
	case SIM_DIST_MM:
		return gen_mm(d, n, rng, set, sender);
	case SIM_DIST_WAKE:
		return pick_distinct(set, 0, n, d->k, *sender, rng);
	case SIM_DIST_TRACE: {
		const struct sim_trace_line *tl = &d->lines[idx % d->nr_lines];

		*sender = tl->sender;
		if (tl->sender >= n) {
			snprintf(err, errlen,
				 "trace set %u: sender %u is not a vCPU of "
				 "this %u-vCPU VM",
				 idx % d->nr_lines + 1, tl->sender, n);
			return -ERANGE;
		}
		ret = vipi_cpuset_parse(set, tl->list);
		if (ret)
			snprintf(err, errlen,
				 "trace set %u: '%s' is not a CPU list of this "
				 "%u-vCPU VM",
				 idx % d->nr_lines + 1, tl->list, n);
		return ret;
	}
	}
	return -EINVAL;
}

int sim_trace_write(FILE *f, uint32_t sender, const struct vipi_cpuset *set)
{
	size_t len = vipi_cpuset_format(set, NULL, 0);
	char *buf = malloc(len + 1);

	if (!buf)
		return -ENOMEM;
	vipi_cpuset_format(set, buf, len + 1);
	fprintf(f, "%u: %s\n", sender, buf);
	free(buf);
	return 0;
}
