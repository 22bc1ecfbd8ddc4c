// SPDX-License-Identifier: MIT
/*
 * `vipi bench`: the project's main job. A sweep of `vipi run` cases (each
 * in a child process, so one guest failure or hang cannot take the sweep
 * down) over methods, both interrupt-controller modes, multicast set sizes,
 * a sparse APIC-ID layout where KVM PV's 128-ID window needs several calls,
 * and ping-pong. A progress line per case goes to stderr, a table to
 * stdout, and DIR/bench.json, DIR/bench.svg (sender exits and sender time
 * per op by method and mode, drawn from bench.json by the report's code,
 * prog/report-bench.c) and DIR/bench-lib.json (`vipi bench lib`) to the
 * output folder. docs/vmm.md documents the JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../prog/bench-lib.h"
#include "cmds.h"
#include "../prog/json.h"
#include "../prog/machine.h"
#include "../prog/util.h"
#include "../prog/report.h"
#include "vmm.h"

static const char bench_usage[] =
	"usage: vipi bench [--out DIR] [--vcpus N] [--topology TOPO]\n"
	"                  [--methods LIST] [--workloads LIST] [--sizes LIST]\n"
	"                  [--modes LIST] [--ops K] [--repeat R] [--quick]\n"
	"                  [--no-lib] [--no-sparse] [--timeout S]\n"
	"       vipi bench lib [--out FILE.json] [--quick]\n"
	"       vipi bench linux [--vcpus N] [--kernel FILE] [--out DIR] [--quick]\n"
	"\n"
	"The main job: `vipi run` cases on /dev/kvm over methods, both\n"
	"irqchip modes, multicast set sizes, a sparse APIC-ID layout and\n"
	"ping-pong; a table on stdout, DIR/bench.json, DIR/bench.svg and\n"
	"DIR/bench-lib.json (the library benchmark). DIR defaults to\n"
	"./vipi-out.\n"
	"\n"
	"  --vcpus N         VM size, 2-1024 (default 64; 16 with --quick)\n"
	"  --topology TOPO   APIC-ID layout (docs/topology.md; default dense)\n"
	"  --methods LIST    comma-separated `vipi encode` names (default\n"
	"                    x2apic-phys,x2apic-cluster,xapic-phys,\n"
	"                    kvm-pv-linux,kvm-pv,hv,vipi)\n"
	"  --workloads LIST  multicast,pingpong (default), broadcast,\n"
	"                    shootdown, storm\n"
	"  --sizes LIST      multicast set sizes; 'max' is N-1 (default\n"
	"                    1,8,max; 1,max with --quick)\n"
	"  --modes LIST      user,kernel (default both)\n"
	"  --ops K           operations per run (default 20; 4 with --quick)\n"
	"  --repeat R        runs per case, medians reported (default 3;\n"
	"                    1 with --quick)\n"
	"  --no-sparse       leave out the sparse APIC-ID layout\n"
	"  --no-lib          do not run `vipi bench lib`\n"
	"  --timeout S       seconds per run (default 120)\n"
	"  --out DIR         the output folder (default ./vipi-out)\n"
	"  --quick           a smoke run, well under a minute\n"
	"\n"
	"Exit 0 when every case ran (passed or unsupported), 1 when one\n"
	"failed, 2 usage, 4 when KVM cannot be used: then the sweep does not\n"
	"run, DIR/bench.json says why and the library benchmark still runs.\n"
	"bench.json is rewritten after every case (\"complete\": false until\n"
	"the end); Ctrl-C or SIGTERM keeps the finished cases, writes\n"
	"bench.json, the table and the plot, and exits 128+signal.\n"
	"VIPI_KVM_DEVICE=PATH: the device probed instead of /dev/kvm.\n";

#define BENCH_MAX_LIST 16
#define BENCH_MAX_CASES 512

enum bench_val {
	BV_SENDER_EXITS,
	BV_EXITS,
	BV_GUEST_NS,
	BV_SENDER_NS,
	BV_HOST_CPU_NS,
	BV_DELIVERED,
	BV_EXPECTED,
	BV_LOST,
	BV_DUPLICATED,
	BV_OPS,
	BV_WALL,
	BV_NR
};

/* run --json keys, in enum bench_val order */
static const char *const bench_keys[BV_NR] = {
	"sender_exits_per_op",
	"exits_per_op",
	"guest_ns_per_op",
	"sender_ns_per_op",
	"host_cpu_ns_per_op",
	"delivered",
	"expected",
	"lost",
	"duplicated",
	"ops",
	"wall_s",
};

struct bench_case {
	bool user;
	const char *method;
	const char *workload;
	const char *label; /* "dense" / "sparse" / the user's */
	char topo[96];
	uint32_t vcpus;
	uint32_t targets; /* 0: the workload's default */
	bool xapic;
	/* results */
	int rc; /* child exit status, or -signal */
	char status[16]; /* pass fail skip unsupported error */
	char reason[200];
	char exits_source[24];
	bool have[BV_NR];
	double v[BV_NR];
	double run_cpu_ms; /* the whole child: boot and all */
	uint32_t runs; /* passing runs the medians are over */
	double wall_s;
};

struct bench_cfg {
	const char *dir;
	uint32_t vcpus;
	const char *topology;
	const char *methods[BENCH_MAX_LIST];
	unsigned int nr_methods;
	const char *workloads[BENCH_MAX_LIST];
	unsigned int nr_workloads;
	uint32_t sizes[BENCH_MAX_LIST]; /* 0 = max (N-1) */
	unsigned int nr_sizes;
	bool modes[2]; /* [0] user, [1] kernel */
	uint32_t ops;
	uint32_t repeat; /* runs per case; the table shows medians */
	uint32_t timeout_s;
	bool quick, no_lib, no_sparse;
	bool sizes_given; /* --sizes: a size the VM cannot have is misuse */
};

static char *list_buf[3];

/* "a,b,c" into at most BENCH_MAX_LIST pointers into a private copy. */
static int split_list(const char *s, const char **out, unsigned int *n,
		      unsigned int slot)
{
	char *copy, *tok, *save = NULL;

	free(list_buf[slot]);
	copy = strdup(s);
	list_buf[slot] = copy;
	if (!copy)
		return -ENOMEM;
	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n >= BENCH_MAX_LIST)
			return -E2BIG;
		out[(*n)++] = tok;
	}
	return *n ? 0 : -EINVAL;
}

/* The workloads a sweep runs (vipi run's others are tests, not figures) */
static const char *const bench_workloads[] = {
	"multicast", "pingpong", "broadcast", "shootdown", "storm",
};

/* "--methods LIST": each an x86 method of vipi_methods[] */
static int check_methods(const struct bench_cfg *c, char *why, size_t len)
{
	for (unsigned int i = 0; i < c->nr_methods; i++) {
		const struct vipi_method *m = vipi_method_find(c->methods[i]);
		size_t n;

		if (m && (m->arch & VIPI_ARCH_X86))
			continue;
		n = (size_t)snprintf(why, len, "--methods: '%s' is not one of",
				     c->methods[i]);
		for (const struct vipi_method *const *p = vipi_methods; *p; p++)
			if (((*p)->arch & VIPI_ARCH_X86) && n < len)
				n += (size_t)snprintf(why + n, len - n, " %s",
						      (*p)->name);
		return -EINVAL;
	}
	return 0;
}

static int check_workloads(const struct bench_cfg *c, char *why, size_t len)
{
	for (unsigned int i = 0; i < c->nr_workloads; i++) {
		unsigned int k;

		for (k = 0; k < ARRAY_SIZE(bench_workloads); k++)
			if (!strcmp(c->workloads[i], bench_workloads[k]))
				break;
		if (k == ARRAY_SIZE(bench_workloads)) {
			snprintf(
				why, len,
				"--workloads: '%s' is not one of multicast pingpong broadcast shootdown storm",
				c->workloads[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* The options that take a value (the rest are flags or unknown). */
static bool bench_takes_value(const char *a)
{
	static const char *const opts[] = {
		"--out",     "-o",	    "--vcpus",	 "--topology",
		"--methods", "--workloads", "--sizes",	 "--modes",
		"--ops",     "--repeat",    "--timeout",
	};

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (!strcmp(a, opts[i]))
			return true;
	return false;
}

static int parse_sizes(const char *s, struct bench_cfg *c)
{
	const char *tok[BENCH_MAX_LIST];
	unsigned int n, i;
	int r = split_list(s, tok, &n, 2);

	if (r)
		return r;
	for (i = 0; i < n; i++) {
		if (!strcmp(tok[i], "max") || !strcmp(tok[i], "N-1")) {
			c->sizes[i] = 0;
		} else if (util_parse_u32(tok[i], &c->sizes[i]) ||
			   !c->sizes[i]) {
			return -EINVAL;
		}
	}
	c->nr_sizes = n;
	return 0;
}

/* "user", "kernel", "user,kernel" (either order), nothing else */
static int parse_modes(const char *s, bool modes[2])
{
	char buf[32], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	modes[0] = modes[1] = false;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "user"))
			modes[0] = true;
		else if (!strcmp(tok, "kernel"))
			modes[1] = true;
		else
			return -EINVAL;
	}
	return modes[0] || modes[1] ? 0 : -EINVAL;
}

static bool is_multicast_like(const char *w)
{
	return !strcmp(w, "multicast") || !strcmp(w, "shootdown");
}

/* The number after "key": in one line of JSON; false when absent. */
static bool json_num(const char *s, const char *key, double *out)
{
	char pat[64];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(s, pat);
	if (!p)
		return false;
	p += strlen(pat);
	*out = strtod(p, &end);
	return end != p;
}

static bool json_strval(const char *s, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(s, pat);
	if (!p || !len)
		return false;
	for (p += strlen(pat); *p && *p != '"' && n + 1 < len; p++) {
		if (*p == '\\' && p[1])
			p++;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return true;
}

static double ts_ms(const struct timeval *t)
{
	return (double)t->tv_sec * 1e3 + (double)t->tv_usec / 1e3;
}

/* SIGINT / SIGTERM: stop the case under way, keep what finished */
static volatile sig_atomic_t bench_interrupted;

static void bench_on_signal(int sig)
{
	bench_interrupted = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Build the argument vector of one `vipi run`. */
static unsigned int case_argv(const struct bench_case *c,
			      const struct bench_cfg *cfg, char **argv,
			      char bufs[][32])
{
	unsigned int n = 0;

	argv[n++] = "vipi";
	argv[n++] = "run";
	argv[n++] = "--topology";
	argv[n++] = (char *)c->topo;
	argv[n++] = "--irqchip";
	argv[n++] = c->user ? "user" : "kernel";
	argv[n++] = "--method";
	argv[n++] = (char *)c->method;
	argv[n++] = "--workload";
	argv[n++] = (char *)c->workload;
	if (c->targets) {
		snprintf(bufs[0], 32, c->targets == 1 ? "1" : "1-%u",
			 c->targets);
		argv[n++] = "--targets";
		argv[n++] = bufs[0];
	}
	snprintf(bufs[1], 32, "%u",
		 !strcmp(c->workload, "pingpong") ? cfg->ops * 5 : cfg->ops);
	argv[n++] = "--ops";
	argv[n++] = bufs[1];
	snprintf(bufs[2], 32, "%u", cfg->timeout_s);
	argv[n++] = "--timeout";
	argv[n++] = bufs[2];
	if (c->xapic)
		argv[n++] = "--xapic";
	argv[n++] = "--json";
	argv[n] = NULL;
	return n;
}

/*
 * One case in a child process: stdout (the JSON line) through a pipe,
 * stderr (guest console, diagnostics) appended to DIR/bench.log. A child
 * that outlives its timeout plus a grace period is killed.
 */
static void case_run(struct bench_case *c, const struct bench_cfg *cfg,
		     int log_fd)
{
	char bufs[3][32], out[8192];
	char *argv[24];
	int pfd[2], status = 0;
	size_t got = 0;
	struct rusage ru;
	uint64_t t0 = mono_ns(), deadline;
	pid_t pid, w;
	unsigned int argc = case_argv(c, cfg, argv, bufs);

	if (log_fd >= 0) {
		dprintf(log_fd, "==");
		for (unsigned int i = 0; i < argc; i++)
			dprintf(log_fd, " %s", argv[i]);
		dprintf(log_fd, "\n");
	}
	snprintf(c->status, sizeof(c->status), "error");
	if (pipe(pfd)) {
		snprintf(c->reason, sizeof(c->reason), "pipe: %s",
			 strerror(errno));
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(c->reason, sizeof(c->reason), "fork: %s",
			 strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (!pid) {
		dup2(pfd[1], STDOUT_FILENO);
		if (log_fd >= 0)
			dup2(log_fd, STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	deadline = t0 + ((uint64_t)cfg->timeout_s + 30) * 1000000000ull;
	memset(&ru, 0, sizeof(ru));
	for (;;) {
		ssize_t r = read(pfd[0], out + got, sizeof(out) - 1 - got);
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		if (r > 0) {
			got += (size_t)r;
			if (got < sizeof(out) - 1)
				continue;
		}
		w = wait4(pid, &status, WNOHANG, &ru);
		if (w == pid)
			break;
		if (w < 0) {
			snprintf(c->reason, sizeof(c->reason), "wait: %s",
				 strerror(errno));
			close(pfd[0]);
			return;
		}
		if (mono_ns() > deadline || bench_interrupted) {
			kill(pid, SIGKILL);
			wait4(pid, &status, 0, &ru);
			break;
		}
		if (r <= 0)
			nanosleep(&ts, NULL);
	}
	for (;;) {
		ssize_t r = read(pfd[0], out + got, sizeof(out) - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pfd[0]);
	out[got] = '\0';
	c->wall_s = (double)(mono_ns() - t0) / 1e9;
	c->run_cpu_ms = ts_ms(&ru.ru_utime) + ts_ms(&ru.ru_stime);
	c->rc = WIFEXITED(status) ?
			WEXITSTATUS(status) :
			-(WIFSIGNALED(status) ? WTERMSIG(status) : 1);
	for (int k = 0; k < BV_NR; k++)
		c->have[k] = json_num(out, bench_keys[k], &c->v[k]);
	json_strval(out, "exits_source", c->exits_source,
		    sizeof(c->exits_source));
	if (!json_strval(out, "reason", c->reason, sizeof(c->reason)))
		snprintf(c->reason, sizeof(c->reason),
			 c->rc < 0 ? "killed by signal %d (timeout?)" :
				     "no JSON from vipi run (exit %d)",
			 c->rc < 0 ? -c->rc : c->rc);
	if (c->rc == 0)
		snprintf(c->status, sizeof(c->status), "pass");
	else if (c->rc == VMM_EXIT_SKIP)
		snprintf(c->status, sizeof(c->status), "unsupported");
	else
		snprintf(c->status, sizeof(c->status), "fail");
}

/*
 * What `vipi run` would refuse or skip before booting (run_check()),
 * settled here without a child: true when c is settled (unsupported, or
 * an error that is a bug of the sweep).
 */
static bool case_check(struct bench_case *c)
{
	struct vm_options o;
	struct vipi_topo *t;
	char targets[32], why[256] = "";
	int r;

	memset(&o, 0, sizeof(o));
	o.irqchip = c->user ? VIPI_IRQCHIP_USER : VIPI_IRQCHIP_KERNEL;
	o.method = c->method;
	o.xapic = c->xapic;
	if (run_workload_find(c->workload, &o.workload))
		return false;
	if (c->targets) {
		snprintf(targets, sizeof(targets),
			 c->targets == 1 ? "1" : "1-%u", c->targets);
		o.targets = targets;
	}
	if (vipi_topo_parse(c->topo, &t, NULL, 0))
		return false;
	r = run_check(&o, t, why, sizeof(why));
	vipi_topo_destroy(t);
	if (!r)
		return false;
	snprintf(c->status, sizeof(c->status), "%s",
		 r == -EOPNOTSUPP ? "unsupported" : "error");
	snprintf(c->reason, sizeof(c->reason), "%s", why);
	c->rc = r == -EOPNOTSUPP ? VMM_EXIT_SKIP : VIPI_EXIT_USAGE;
	return true;
}

/*
 * Can this user run VMs? Open the KVM device as `vipi run` will, check
 * its API and ask its vCPU limit: 0 and *max_vcpus, or -errno and the
 * reason, with what to do about it, in why.
 */
static int kvm_probe(const char *dev, int *max_vcpus, char *why, size_t len)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC), api, e;

	if (fd < 0) {
		e = errno;
		snprintf(
			why, len, "%s: %s%s", dev, strerror(e),
			e == ENOENT ?
				" (load kvm_intel or kvm_amd, on a host with virtualization enabled)" :
			e == EACCES || e == EPERM ?
				" (add your user to the 'kvm' group, or run as root)" :
				"");
		return -e;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api < 0) {
		e = errno;
		snprintf(why, len,
			 "%s: not a KVM device (KVM_GET_API_VERSION: %s)", dev,
			 strerror(e));
		close(fd);
		return -ENOTTY;
	}
	if (api != KVM_API_VERSION) {
		snprintf(why, len, "%s: KVM API version %d, vipi needs %d", dev,
			 api, KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	*max_vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (*max_vcpus <= 0)
		*max_vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	close(fd);
	return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Run a case cfg->repeat times; each figure is the median over the runs
 * (64 vCPU threads on 2 cores make single runs noisy). A run that fails
 * or is unsupported ends the case with that run's status and reason.
 */
static void case_repeat(struct bench_case *c, const struct bench_cfg *cfg,
			int log_fd)
{
	static struct bench_case runs[99];
	double vals[99];
	uint32_t n = cfg->repeat, ok = 0, i;
	double wall = 0;

	for (i = 0; i < n; i++) {
		runs[i] = *c;
		case_run(&runs[i], cfg, log_fd);
		wall += runs[i].wall_s;
		if (bench_interrupted) {
			/* the runs so far are not a full case: none kept */
			*c = runs[i];
			c->wall_s = wall;
			c->runs = 0;
			for (int k = 0; k < BV_NR; k++)
				c->have[k] = false;
			snprintf(c->status, sizeof(c->status), "interrupted");
			snprintf(c->reason, sizeof(c->reason),
				 "stopped by signal %d in run %u of %u",
				 (int)bench_interrupted, i + 1, n);
			return;
		}
		if (strcmp(runs[i].status, "pass")) {
			*c = runs[i];
			c->wall_s = wall;
			return;
		}
		ok++;
	}
	*c = runs[0];
	for (int k = 0; k < BV_NR; k++) {
		uint32_t m = 0;

		for (i = 0; i < ok; i++)
			if (runs[i].have[k])
				vals[m++] = runs[i].v[k];
		if (!m)
			continue;
		qsort(vals, m, sizeof(vals[0]), cmp_dbl);
		c->v[k] = m & 1 ? vals[m / 2] :
				  (vals[m / 2 - 1] + vals[m / 2]) / 2;
		c->have[k] = true;
	}
	/* counts are summed over the runs, not medians: each must be 0 */
	c->v[BV_LOST] = c->v[BV_DUPLICATED] = 0;
	for (i = 0; i < ok; i++) {
		c->v[BV_LOST] += runs[i].v[BV_LOST];
		c->v[BV_DUPLICATED] += runs[i].v[BV_DUPLICATED];
	}
	for (i = 0; i < ok; i++)
		vals[i] = runs[i].run_cpu_ms;
	qsort(vals, ok, sizeof(vals[0]), cmp_dbl);
	c->run_cpu_ms = vals[ok / 2];
	c->wall_s = wall;
	c->runs = ok;
}

static void case_add(struct bench_case *cases, unsigned int *n, bool user,
		     const char *method, const char *wl, const char *label,
		     const char *topo, uint32_t vcpus, uint32_t targets)
{
	struct bench_case *c;

	if (*n >= BENCH_MAX_CASES)
		return;
	c = &cases[(*n)++];
	memset(c, 0, sizeof(*c));
	c->user = user;
	c->method = method;
	c->workload = wl;
	c->label = label;
	snprintf(c->topo, sizeof(c->topo), "%s", topo);
	c->vcpus = vcpus;
	c->targets = targets;
	c->xapic = !strncmp(method, "xapic", 5);
}

/* The sweep, in the order it runs: mode, layout, method, workload, size. */
static unsigned int build_cases(const struct bench_cfg *cfg,
				struct bench_case *cases, const char *dense,
				const char *sparse, uint32_t nr,
				uint32_t max_id)
{
	unsigned int n = 0;

	for (int m = 0; m < 2; m++) {
		if (!cfg->modes[m])
			continue;
		for (int l = 0; l < 2; l++) {
			const char *topo = l ? sparse : dense;

			if (!topo)
				continue;
			for (unsigned int i = 0; i < cfg->nr_methods; i++) {
				const char *me = cfg->methods[i];

				/* xAPIC IDs are 8 bits (SDM 10.4.6) */
				if (!strncmp(me, "xapic", 5) &&
				    (l || max_id > 254))
					continue;
				for (unsigned int w = 0; w < cfg->nr_workloads;
				     w++) {
					const char *wl = cfg->workloads[w];

					if (l && !is_multicast_like(wl))
						continue;
					if (!is_multicast_like(wl)) {
						case_add(cases, &n, !m, me, wl,
							 l ? "sparse" : "dense",
							 topo, nr, 0);
						continue;
					}
					for (unsigned int s = 0;
					     s < cfg->nr_sizes; s++) {
						uint32_t k = cfg->sizes[s];

						if (l && k)
							continue; /* N-1 only */
						if (!k || k > nr - 1)
							k = nr - 1;
						case_add(cases, &n, !m, me, wl,
							 l ? "sparse" : "dense",
							 topo, nr, k);
					}
				}
			}
		}
	}
	return n;
}

static const char *mode_name(const struct bench_case *c)
{
	return c->user ? "user" : "kernel";
}

static void fmt_val(char *buf, size_t len, const struct bench_case *c,
		    enum bench_val k, double scale, int decimals)
{
	if (!c->have[k] || strcmp(c->status, "pass"))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", decimals, c->v[k] * scale);
}

static void print_header(const struct bench_machine *m,
			 const struct bench_cfg *cfg, const char *dense,
			 const char *sparse)
{
	printf("vipi bench: %s, %ld CPUs, KVM %s (%s), %s\n", m->cpu, m->nproc,
	       m->kvm_backend, m->nested, m->kernel);
	printf("VM: %u vCPUs, layouts dense=%s%s%s, %u ops per run (pingpong %u), medians of %u runs\n",
	       cfg->vcpus, dense, sparse ? " sparse=" : "",
	       sparse ? sparse : "", cfg->ops, cfg->ops * 5, cfg->repeat);
	printf("%-6s %-14s %-9s %-6s %4s %9s %8s %10s %10s %9s %4s %4s %s\n",
	       "mode", "method", "workload", "layout", "tgts", "snd-ex/op",
	       "exits/op", "guest-us/op", "sender-us/op", "host-ms/op", "lost",
	       "dup", "status");
}

static void print_row(const struct bench_case *c)
{
	char se[16], ex[16], gu[16], su[16], hc[16], lo[16], du[16];

	fmt_val(se, sizeof(se), c, BV_SENDER_EXITS, 1, 2);
	fmt_val(ex, sizeof(ex), c, BV_EXITS, 1, 1);
	fmt_val(gu, sizeof(gu), c, BV_GUEST_NS, 1e-3, 0);
	fmt_val(su, sizeof(su), c, BV_SENDER_NS, 1e-3, 0);
	fmt_val(hc, sizeof(hc), c, BV_HOST_CPU_NS, 1e-6, 2);
	fmt_val(lo, sizeof(lo), c, BV_LOST, 1, 0);
	fmt_val(du, sizeof(du), c, BV_DUPLICATED, 1, 0);
	printf("%-6s %-14s %-9s %-6s %4u %9s %8s %11s %12s %10s %4s %4s %s\n",
	       mode_name(c), c->method, c->workload, c->label, c->targets, se,
	       ex, gu, su, hc, lo, du, c->status);
}

static const struct bench_case *find_case(const struct bench_case *cases,
					  unsigned int n, bool user,
					  const char *method, const char *label,
					  uint32_t targets)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct bench_case *c = &cases[i];

		if (c->user == user && !strcmp(c->method, method) &&
		    !strcmp(c->label, label) &&
		    !strcmp(c->workload, "multicast") &&
		    c->targets == targets && !strcmp(c->status, "pass"))
			return c;
	}
	return NULL;
}

struct bench_cmp {
	char name[160];
	bool present;
	double value, goal;
	bool at_most;
	char note[160];
};

/*
 * The figures the issue asks for, from this run: multicast to N-1 on the
 * dense layout (sender exits, sender time against the in-kernel x2APIC
 * path) and the sparse layout (vipi against KVM PV's windowed calls).
 */
static unsigned int comparisons(const struct bench_case *cases, unsigned int n,
				uint32_t nr, bool sparse, struct bench_cmp *out)
{
	const struct bench_case *a, *b;
	unsigned int k = 0;

	a = find_case(cases, n, true, "vipi", "dense", nr - 1);
	b = find_case(cases, n, true, "x2apic-phys", "dense", nr - 1);
	snprintf(out[k].name, sizeof(out[k].name),
		 "multicast to %u: sender exits/op, user vipi", nr - 1);
	out[k].present = a;
	out[k].value = a ? a->v[BV_SENDER_EXITS] : 0;
	out[k].goal = 1;
	out[k].at_most = true;
	if (b)
		snprintf(out[k].note, sizeof(out[k].note),
			 "user x2apic-phys: %.0f", b->v[BV_SENDER_EXITS]);
	k++;
	b = find_case(cases, n, false, "x2apic-phys", "dense", nr - 1);
	snprintf(out[k].name, sizeof(out[k].name),
		 "multicast to %u: sender time, user vipi / kernel x2apic-phys",
		 nr - 1);
	out[k].present = a && b && b->v[BV_SENDER_NS] > 0;
	out[k].value =
		out[k].present ? a->v[BV_SENDER_NS] / b->v[BV_SENDER_NS] : 0;
	out[k].goal = 0.5;
	out[k].at_most = true;
	if (out[k].present)
		snprintf(out[k].note, sizeof(out[k].note), "%.0f us vs %.0f us",
			 a->v[BV_SENDER_NS] / 1e3, b->v[BV_SENDER_NS] / 1e3);
	k++;
	snprintf(
		out[k].name, sizeof(out[k].name),
		"multicast to %u: guest time/op, user vipi / kernel x2apic-phys",
		nr - 1);
	out[k].present = a && b && b->v[BV_GUEST_NS] > 0;
	out[k].value = out[k].present ? a->v[BV_GUEST_NS] / b->v[BV_GUEST_NS] :
					0;
	out[k].goal = 1;
	out[k].at_most = true;
	k++;
	if (!sparse)
		return k;
	a = find_case(cases, n, true, "vipi", "sparse", nr - 1);
	for (int i = 0; i < 2; i++) {
		const char *pv = i ? "kvm-pv" : "kvm-pv-linux";

		b = find_case(cases, n, true, pv, "sparse", nr - 1);
		snprintf(
			out[k].name, sizeof(out[k].name),
			"sparse multicast to %u: guest time/op, user vipi / user %s",
			nr - 1, pv);
		out[k].present = a && b && b->v[BV_GUEST_NS] > 0;
		out[k].value = out[k].present ?
				       a->v[BV_GUEST_NS] / b->v[BV_GUEST_NS] :
				       0;
		out[k].goal = 1;
		out[k].at_most = true;
		if (out[k].present)
			snprintf(out[k].note, sizeof(out[k].note),
				 "sender exits/op %.0f vs %.0f",
				 a->v[BV_SENDER_EXITS], b->v[BV_SENDER_EXITS]);
		k++;
	}
	b = find_case(cases, n, false, "kvm-pv", "sparse", nr - 1);
	snprintf(out[k].name, sizeof(out[k].name),
		 "sparse multicast to %u: user vipi vs kernel kvm-pv", nr - 1);
	out[k].present = false;
	snprintf(out[k].note, sizeof(out[k].note), "%s",
		 b ? "measured" :
		     "kernel kvm-pv is unsupported on this host (see table)");
	k++;
	return k;
}

static void write_case_json(struct json *j, const struct bench_case *c)
{
	json_object_begin(j);
	json_kv_str(j, "irqchip", mode_name(c));
	json_kv_str(j, "method", c->method);
	json_kv_str(j, "workload", c->workload);
	json_kv_str(j, "layout", c->label);
	json_kv_str(j, "topology", c->topo);
	json_kv_u64(j, "vcpus", c->vcpus);
	json_kv_u64(j, "targets", c->targets);
	json_kv_str(j, "status", c->status);
	json_kv_str(j, "reason", c->reason);
	json_kv_i64(j, "exit_code", c->rc);
	json_kv_str(j, "exits_source", c->exits_source);
	for (int k = 0; k < BV_NR; k++) {
		if (k == BV_WALL)
			continue;
		if (c->have[k])
			json_kv_double(j, bench_keys[k], c->v[k], 3);
		else {
			json_key(j, bench_keys[k]);
			json_null(j);
		}
	}
	json_kv_double(j, "run_cpu_ms", c->run_cpu_ms, 1);
	json_kv_u64(j, "runs", c->runs);
	json_kv_double(j, "wall_s", c->wall_s, 3);
	json_object_end(j);
}

static int write_json(const char *path, const struct bench_machine *m,
		      const struct bench_cfg *cfg, const char *dense,
		      const char *sparse, const struct bench_case *cases,
		      unsigned int n, const struct bench_cmp *cmp,
		      unsigned int ncmp, double total_s, const char *lib,
		      const char *kvm_dev, const char *kvm_reason,
		      unsigned int planned, bool complete)
{
	char tmp[4200];
	FILE *f;
	struct json j;

	/* through a temporary file: bench.json is whole or absent */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	json_init(&j, f, true);
	json_object_begin(&j);
	json_kv_str(&j, "schema", "vipi-bench/1");
	/* false while the sweep runs and after an interruption */
	json_kv_bool(&j, "complete", complete);
	if (bench_interrupted)
		json_kv_i64(&j, "interrupted_by_signal", bench_interrupted);
	bench_machine_write(&j, m);
	/* whether the sweep could run at all, and why not */
	json_key(&j, "kvm");
	json_object_begin(&j);
	json_kv_str(&j, "device", kvm_dev);
	json_kv_bool(&j, "usable", !kvm_reason);
	if (kvm_reason) {
		json_kv_str(&j, "reason", kvm_reason);
		json_kv_u64(&j, "cases_not_run", planned);
	}
	json_object_end(&j);
	json_kv_u64(&j, "cases_planned", planned);
	json_key(&j, "config");
	json_object_begin(&j);
	json_kv_u64(&j, "vcpus", cfg->vcpus);
	json_kv_str(&j, "topology", dense);
	if (sparse)
		json_kv_str(&j, "sparse_topology", sparse);
	json_kv_u64(&j, "ops", cfg->ops);
	json_kv_u64(&j, "pingpong_ops", cfg->ops * 5);
	json_kv_u64(&j, "repeat", cfg->repeat);
	json_kv_bool(&j, "quick", cfg->quick);
	json_key(&j, "methods");
	json_array_begin(&j);
	for (unsigned int i = 0; i < cfg->nr_methods; i++)
		json_str(&j, cfg->methods[i]);
	json_array_end(&j);
	json_key(&j, "workloads");
	json_array_begin(&j);
	for (unsigned int i = 0; i < cfg->nr_workloads; i++)
		json_str(&j, cfg->workloads[i]);
	json_array_end(&j);
	json_object_end(&j);
	json_key(&j, "cases");
	json_array_begin(&j);
	for (unsigned int i = 0; i < n; i++)
		write_case_json(&j, &cases[i]);
	json_array_end(&j);
	json_key(&j, "comparisons");
	json_array_begin(&j);
	for (unsigned int i = 0; i < ncmp; i++) {
		json_object_begin(&j);
		json_kv_str(&j, "name", cmp[i].name);
		json_kv_bool(&j, "present", cmp[i].present);
		if (cmp[i].present) {
			json_kv_double(&j, "value", cmp[i].value, 3);
			json_kv_double(&j, "goal", cmp[i].goal, 2);
			json_kv_str(&j, "goal_is",
				    cmp[i].at_most ? "at_most" : "at_least");
			json_kv_bool(&j, "met",
				     cmp[i].at_most ?
					     cmp[i].value <= cmp[i].goal :
					     cmp[i].value >= cmp[i].goal);
		}
		json_kv_str(&j, "note", cmp[i].note);
		json_object_end(&j);
	}
	json_array_end(&j);
	if (lib)
		json_kv_str(&j, "lib", lib);
	else {
		json_key(&j, "lib");
		json_null(&j);
	}
	json_kv_double(&j, "total_s", total_s, 1);
	json_object_end(&j);
	json_finish(&j);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

static int parse_bench_args(int argc, char **argv, struct bench_cfg *cfg)
{
	bool have_vcpus = false, have_sizes = false, have_ops = false;
	const char *sizes = NULL;
	char why[256];
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (!strcmp(a, "--quick") || !strcmp(a, "-q")) {
			cfg->quick = true;
			takes = false;
		} else if (!strcmp(a, "--no-lib")) {
			cfg->no_lib = true;
			takes = false;
		} else if (!strcmp(a, "--no-sparse")) {
			cfg->no_sparse = true;
			takes = false;
		} else if (a[0] != '-') {
			return util_usage_error(
				"bench", bench_usage,
				"unknown benchmark '%s' (the sweep takes options; 'bench lib', 'bench linux')",
				a);
		} else if (!bench_takes_value(a)) {
			return util_usage_error("bench", bench_usage,
						"unknown option '%s'", a);
		} else if (!v) {
			return util_usage_error("bench", bench_usage,
						"%s needs a value", a);
		} else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
			cfg->dir = v;
		} else if (!strcmp(a, "--vcpus")) {
			if (util_parse_u32(v, &cfg->vcpus) || cfg->vcpus < 2 ||
			    cfg->vcpus > VIPI_GUEST_MAX_CPUS)
				return util_usage_error(
					"bench", bench_usage,
					"--vcpus '%s': 2 to %u (vipi's guest)",
					v, VIPI_GUEST_MAX_CPUS);
			have_vcpus = true;
		} else if (!strcmp(a, "--topology")) {
			cfg->topology = v;
		} else if (!strcmp(a, "--methods")) {
			r = split_list(v, cfg->methods, &cfg->nr_methods, 0);
			if (r)
				return util_usage_error(
					"bench", bench_usage,
					"--methods '%s': a comma-separated list of up to %u methods",
					v, BENCH_MAX_LIST);
			if (check_methods(cfg, why, sizeof(why)))
				return util_usage_error("bench", bench_usage,
							"%s", why);
		} else if (!strcmp(a, "--workloads")) {
			r = split_list(v, cfg->workloads, &cfg->nr_workloads,
				       1);
			if (r)
				return util_usage_error(
					"bench", bench_usage,
					"--workloads '%s': a comma-separated list of up to %u workloads",
					v, BENCH_MAX_LIST);
			if (check_workloads(cfg, why, sizeof(why)))
				return util_usage_error("bench", bench_usage,
							"%s", why);
		} else if (!strcmp(a, "--sizes")) {
			sizes = v;
			have_sizes = true;
		} else if (!strcmp(a, "--modes")) {
			if (parse_modes(v, cfg->modes))
				return util_usage_error(
					"bench", bench_usage,
					"--modes '%s': user, kernel or user,kernel",
					v);
		} else if (!strcmp(a, "--ops")) {
			if (util_parse_u32(v, &cfg->ops) || !cfg->ops ||
			    cfg->ops > 100000)
				return util_usage_error(
					"bench", bench_usage,
					"--ops '%s': a count from 1 to 100000 (default 20; 4 with --quick)",
					v);
			have_ops = true;
		} else if (!strcmp(a, "--repeat")) {
			if (util_parse_u32(v, &cfg->repeat) || !cfg->repeat ||
			    cfg->repeat > 99)
				return util_usage_error(
					"bench", bench_usage,
					"--repeat '%s': a count from 1 to 99 (default 3; 1 with --quick)",
					v);
		} else if (!strcmp(a, "--timeout")) {
			if (util_parse_u32(v, &cfg->timeout_s) ||
			    !cfg->timeout_s)
				return util_usage_error(
					"bench", bench_usage,
					"--timeout '%s': seconds, from 1", v);
		} else {
			return util_usage_error("bench", bench_usage,
						"unknown option '%s'", a);
		}
		if (takes)
			i++;
	}
	if (!have_vcpus)
		cfg->vcpus = cfg->quick ? 16 : 64;
	if (!have_ops)
		cfg->ops = cfg->quick ? 4 : 20;
	if (!cfg->repeat)
		cfg->repeat = cfg->quick ? 1 : 3;
	if (!sizes)
		sizes = cfg->quick ? "1,max" : "1,8,max";
	if (parse_sizes(sizes, cfg))
		return util_usage_error("bench", bench_usage,
					"--sizes '%s': counts from 1 or 'max'",
					sizes);
	cfg->sizes_given = have_sizes;
	return 0;
}

int cmd_bench_kvm(int argc, char **argv)
{
	static struct bench_case cases[BENCH_MAX_CASES];
	static const char *const def_methods[] = {
		"x2apic-phys",	"x2apic-cluster", "xapic-phys",
		"kvm-pv-linux", "kvm-pv",	  "hv",
		"vipi",
	};
	struct bench_cfg cfg;
	struct bench_machine m;
	struct bench_cmp cmp[8];
	struct vipi_topo *topo = NULL;
	char dense[96], sparse_buf[96], path[4096], lib_path[4096], err[160];
	char kvm_why[256] = "";
	const char *sparse = NULL, *lib = NULL, *dev;
	uint32_t nr, max_id;
	unsigned int n, ncmp, failed = 0, planned = 0, k;
	uint64_t t0 = mono_ns();
	int log_fd, r, kvm_r, max_vcpus = 0;

	if (argc > 1 && !strcmp(argv[1], "linux"))
		return cmd_bench_linux(argc - 1, argv + 1);
	if (util_wants_help(argc, argv)) {
		fputs(bench_usage, stdout);
		return VIPI_EXIT_OK;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = "vipi-out";
	cfg.modes[0] = cfg.modes[1] = true;
	cfg.timeout_s = 120;
	for (unsigned int i = 0; i < ARRAY_SIZE(def_methods); i++)
		cfg.methods[cfg.nr_methods++] = def_methods[i];
	cfg.workloads[0] = "multicast";
	cfg.workloads[1] = "pingpong";
	cfg.nr_workloads = 2;
	r = parse_bench_args(argc, argv, &cfg);
	if (r)
		return r;

	/* the dense layout (or the user's), and a sparse one whose APIC-ID
	 * span makes KVM PV's 128-ID window (KVM_HC_SEND_IPI, Linux
	 * Documentation/virt/kvm/x86/hypercalls.rst) need several calls */
	if (cfg.topology)
		snprintf(dense, sizeof(dense), "%s", cfg.topology);
	else
		snprintf(dense, sizeof(dense), "x86:dense:%u", cfg.vcpus);
	if (vipi_topo_parse(dense, &topo, err, sizeof(err)))
		return util_usage_error("bench", bench_usage,
					"--topology '%s': %s", dense, err);
	nr = vipi_topo_nr_vcpus(topo);
	max_id = vipi_topo_max_apic_id(topo);
	r = vipi_topo_arch(topo) == VIPI_ARCH_X86;
	vipi_topo_destroy(topo);
	if (!r)
		return util_usage_error(
			"bench", bench_usage,
			"--topology '%s': the VMM runs x86 guests; give an x86 topology",
			dense);
	if (nr < 2 || nr > VIPI_GUEST_MAX_CPUS)
		return util_usage_error(
			"bench", bench_usage,
			"--topology '%s': %u vCPUs; the sweep takes 2 to %u",
			dense, nr, VIPI_GUEST_MAX_CPUS);
	cfg.vcpus = nr;
	k = 0;
	for (unsigned int i = 0; i < cfg.nr_sizes; i++) {
		/* a set the VM cannot have: misuse when asked for, left out
		 * of the defaults ("max" is N-1 anyway) */
		if (cfg.sizes[i] > nr - 1 && cfg.sizes_given)
			return util_usage_error(
				"bench", bench_usage,
				"--sizes: %u targets, but %u vCPUs have at most %u besides the sender",
				cfg.sizes[i], nr, nr - 1);
		if (cfg.sizes[i] <= nr - 1)
			cfg.sizes[k++] = cfg.sizes[i];
	}
	cfg.nr_sizes = k;
	/* KVM: usable by this user, and big enough; the device can be
	 * overridden (VIPI_KVM_DEVICE) so that tests see a host without */
	dev = getenv("VIPI_KVM_DEVICE");
	if (!dev || !*dev)
		dev = "/dev/kvm";
	kvm_r = kvm_probe(dev, &max_vcpus, kvm_why, sizeof(kvm_why));
	if (!kvm_r && max_vcpus > 0 && nr > (uint32_t)max_vcpus)
		return util_usage_error(
			"bench", bench_usage,
			"%u vCPUs: this host's KVM allows at most %d (KVM_CAP_MAX_VCPUS)",
			nr, max_vcpus);
	if (!cfg.topology && !cfg.no_sparse) {
		/* the span stays below 4096: the in-kernel LAPIC's vCPU-id
		 * limit here (KVM_CAP_MAX_VCPU_ID) */
		uint32_t stride = 4000 / nr;

		if (stride >= 2) {
			snprintf(sparse_buf, sizeof(sparse_buf),
				 "x86:stride:%u:%u", nr, stride);
			sparse = sparse_buf;
		}
	}
	if (mkdir(cfg.dir, 0755) && errno != EEXIST)
		return util_fail("bench", "cannot create %s: %s", cfg.dir,
				 strerror(errno));
	bench_machine_probe(&m);
	snprintf(path, sizeof(path), "%s/bench.log", cfg.dir);
	log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	n = build_cases(&cfg, cases, dense, sparse, nr, max_id);
	planned = n;
	if (kvm_r) {
		/* no sweep without KVM, said loudly; the library benchmark
		 * still runs */
		fprintf(stderr,
			"vipi bench: KVM cannot be used: %s\n"
			"vipi bench: the KVM sweep (%u cases) does not run%s\n",
			kvm_why, n,
			cfg.no_lib ? "" : "; the library benchmark does");
		n = 0;
	} else {
		print_header(&m, &cfg, dense, sparse);
	}
	fflush(stdout);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = bench_on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	snprintf(path, sizeof(path), "%s/bench.json", cfg.dir);
	for (unsigned int i = 0; i < n; i++) {
		struct bench_case *c = &cases[i];
		const struct bench_case *prior = NULL;
		double spent = (double)(mono_ns() - t0) / 1e9;

		if (bench_interrupted) {
			n = i; /* the cases not started are left out */
			break;
		}
		/* progress: case K of N, and from the cases so far an
		 * estimate of what is left */
		fprintf(stderr, "vipi bench: case %u of %u", i + 1, n);
		if (i)
			fprintf(stderr, ", about %.0f s left",
				spent / i * (n - i));
		fprintf(stderr, "\n");
		/* a method a mode cannot serve is probed once, then reported
		 * as unsupported for the rest of the sweep, never faked */
		for (unsigned int j = 0; j < i; j++)
			if (cases[j].user == c->user &&
			    !strcmp(cases[j].method, c->method) &&
			    !strcmp(cases[j].status, "unsupported"))
				prior = &cases[j];
		if (prior) {
			snprintf(c->status, sizeof(c->status), "unsupported");
			snprintf(c->reason, sizeof(c->reason), "%s",
				 prior->reason);
			c->rc = VMM_EXIT_SKIP;
		} else if (!case_check(c)) {
			case_repeat(c, &cfg, log_fd);
		}
		fprintf(stderr,
			"[%u/%u] %s %s %s %s targets %u: %s%s%s (%.1f s)\n",
			i + 1, n, mode_name(c), c->method, c->workload,
			c->label, c->targets, c->status,
			strcmp(c->status, "pass") ? ": " : "",
			strcmp(c->status, "pass") ? c->reason : "", c->wall_s);
		print_row(c);
		fflush(stdout);
		if (!strcmp(c->status, "fail") || !strcmp(c->status, "error"))
			failed++;
		/* DIR/bench.json after every case: an interruption or a
		 * crash keeps every case that finished */
		ncmp = comparisons(cases, i + 1, nr, sparse != NULL, cmp);
		r = write_json(path, &m, &cfg, dense, sparse, cases, i + 1, cmp,
			       ncmp, (double)(mono_ns() - t0) / 1e9, NULL, dev,
			       NULL, planned, false);
		if (r)
			fprintf(stderr, "vipi bench: cannot write %s: %s\n",
				path, strerror(-r));
	}
	if (bench_interrupted)
		fprintf(stderr,
			"vipi bench: interrupted (signal %d) after %u of %u cases: writing what finished\n",
			(int)bench_interrupted, n, planned);
	if (log_fd >= 0)
		close(log_fd);
	ncmp = kvm_r ? 0 : comparisons(cases, n, nr, sparse != NULL, cmp);
	if (ncmp)
		printf("\nComparisons (this run):\n");
	for (unsigned int i = 0; i < ncmp; i++) {
		if (cmp[i].present)
			printf("  %-70s %8.3f (goal %s %.2f: %s) %s\n",
			       cmp[i].name, cmp[i].value,
			       cmp[i].at_most ? "<=" : ">=", cmp[i].goal,
			       (cmp[i].at_most ? cmp[i].value <= cmp[i].goal :
						 cmp[i].value >= cmp[i].goal) ?
				       "met" :
				       "NOT met",
			       cmp[i].note);
		else
			printf("  %-70s %8s %s\n", cmp[i].name, "-",
			       cmp[i].note);
	}
	if (!cfg.no_lib && !bench_interrupted) {
		snprintf(lib_path, sizeof(lib_path), "%s/bench-lib.json",
			 cfg.dir);
		fprintf(stderr, "vipi bench: library benchmark (bench lib)%s\n",
			cfg.quick ? " --quick" : "");
		printf("\n");
		fflush(stdout);
		r = bench_lib_run(lib_path, cfg.quick, true);
		if (r)
			fprintf(stderr, "vipi bench: cannot write %s: %s\n",
				lib_path, strerror(-r));
		else
			lib = "bench-lib.json";
	}
	snprintf(path, sizeof(path), "%s/bench.json", cfg.dir);
	r = write_json(path, &m, &cfg, dense, sparse, cases, n, cmp, ncmp,
		       (double)(mono_ns() - t0) / 1e9, lib, dev,
		       kvm_r ? kvm_why : NULL, planned, !bench_interrupted);
	if (r)
		return util_fail("bench", "cannot write %s: %s", path,
				 strerror(-r));
	snprintf(path, sizeof(path), "%s/bench.svg", cfg.dir);
	if (kvm_r) {
		/* no plot of nothing, and none left from an earlier run */
		unlink(path);
		printf("\nvipi bench: NO KVM RESULTS: %s; the reason is in %s/bench.json%s%s\n",
		       kvm_why, cfg.dir,
		       lib ? ", the library benchmark in " : "",
		       lib ? lib_path : "");
		fprintf(stderr, "vipi bench: KVM cannot be used: %s\n",
			kvm_why);
		return VMM_EXIT_SKIP;
	}
	/* the chart `vipi report` draws of the same file (prog/report-bench.c) */
	{
		char json_path[4096];

		snprintf(json_path, sizeof(json_path), "%s/bench.json",
			 cfg.dir);
		r = report_bench_svg_file(json_path, path);
	}
	if (r == -ENODATA)
		unlink(path); /* no case has a value to draw */
	else if (r)
		return util_fail("bench", "cannot write %s: %s", path,
				 strerror(-r));
	printf("\nvipi bench: %u cases, %u failed, %.0f s; %s/bench.json%s%s%s%s%s, log %s/bench.log\n",
	       n, failed, (double)(mono_ns() - t0) / 1e9, cfg.dir,
	       r ? "" : ", ", r ? "" : cfg.dir, r ? "" : "/bench.svg",
	       lib ? ", " : "", lib ? lib_path : "", cfg.dir);
	if (bench_interrupted)
		return 128 + (int)bench_interrupted;
	return failed ? VIPI_EXIT_FAIL : VIPI_EXIT_OK;
}
