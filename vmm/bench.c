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
#include "../prog/jread.h"
#include "../prog/json.h"
#include "../prog/machine.h"
#include "../prog/opt.h"
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

/*
 * The figures of one `vipi run --json` object (prog/jread.h): each of
 * bench_keys[] that is a number, exits_source and the reason. False when
 * out is not one JSON object (the run died before it wrote one).
 */
static bool case_read_json(struct bench_case *c, const char *out)
{
	struct jv *d = jv_parse(out, NULL, 0);
	const char *s;

	if (d && d->type != JV_OBJ) {
		jv_free(d);
		d = NULL;
	}
	for (int k = 0; k < BV_NR; k++) {
		const struct jv *x = d ? jv_get(d, bench_keys[k]) : NULL;

		c->have[k] = x && x->type == JV_NUM;
		if (x)
			c->v[k] = c->have[k] ? x->num : 0;
	}
	s = d ? jv_str(d, "exits_source", NULL) : NULL;
	if (s)
		snprintf(c->exits_source, sizeof(c->exits_source), "%s", s);
	s = d ? jv_str(d, "reason", NULL) : NULL;
	if (s)
		snprintf(c->reason, sizeof(c->reason), "%s", s);
	jv_free(d);
	return s != NULL;
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
 * Start `vipi run` (this binary) with stdout into a pipe and stderr
 * appended to the log: the child's pid and the pipe's read end in *fd,
 * or -1 with the reason in c.
 */
static pid_t case_spawn(struct bench_case *c, char **argv, int log_fd, int *fd)
{
	int pfd[2];
	pid_t pid;

	if (pipe(pfd)) {
		snprintf(c->reason, sizeof(c->reason), "pipe: %s",
			 strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(c->reason, sizeof(c->reason), "fork: %s",
			 strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
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
	*fd = pfd[0];
	return pid;
}

/*
 * Read the child's stdout into out (len bytes, NUL-terminated) until it
 * exits; past deadline or on SIGINT/SIGTERM it is killed. 0 with its
 * wait status and usage, or -1 with the reason in c.
 */
static int case_wait(struct bench_case *c, pid_t pid, int fd, uint64_t deadline,
		     char *out, size_t len, int *status, struct rusage *ru)
{
	size_t got = 0;
	pid_t w;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	memset(ru, 0, sizeof(*ru));
	for (;;) {
		ssize_t r = read(fd, out + got, len - 1 - got);
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		if (r > 0) {
			got += (size_t)r;
			if (got < len - 1)
				continue;
		}
		w = wait4(pid, status, WNOHANG, ru);
		if (w == pid)
			break;
		if (w < 0) {
			snprintf(c->reason, sizeof(c->reason), "wait: %s",
				 strerror(errno));
			return -1;
		}
		if (mono_ns() > deadline || bench_interrupted) {
			kill(pid, SIGKILL);
			wait4(pid, status, 0, ru);
			break;
		}
		if (r <= 0)
			nanosleep(&ts, NULL);
	}
	for (;;) {
		ssize_t r = read(fd, out + got, len - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	out[got] = '\0';
	return 0;
}

/* What the child said: its figures and a status from its exit. */
static void case_result(struct bench_case *c, int status, const char *out)
{
	c->rc = WIFEXITED(status) ?
			WEXITSTATUS(status) :
			-(WIFSIGNALED(status) ? WTERMSIG(status) : 1);
	if (!case_read_json(c, out))
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
 * One case in a child process: stdout (the JSON line) through a pipe,
 * stderr (guest console, diagnostics) appended to DIR/bench.log. A child
 * that outlives its timeout plus a grace period is killed.
 */
static void case_run(struct bench_case *c, const struct bench_cfg *cfg,
		     int log_fd)
{
	char bufs[3][32], out[8192];
	char *argv[24];
	int fd, status = 0, r;
	struct rusage ru;
	uint64_t t0 = mono_ns();
	pid_t pid;
	unsigned int argc = case_argv(c, cfg, argv, bufs);

	if (log_fd >= 0) {
		dprintf(log_fd, "==");
		for (unsigned int i = 0; i < argc; i++)
			dprintf(log_fd, " %s", argv[i]);
		dprintf(log_fd, "\n");
	}
	snprintf(c->status, sizeof(c->status), "error");
	pid = case_spawn(c, argv, log_fd, &fd);
	if (pid < 0)
		return;
	r = case_wait(c, pid, fd,
		      t0 + ((uint64_t)cfg->timeout_s + 30) * 1000000000ull, out,
		      sizeof(out), &status, &ru);
	close(fd);
	if (r)
		return;
	c->wall_s = (double)(mono_ns() - t0) / 1e9;
	c->run_cpu_ms = ts_ms(&ru.ru_utime) + ts_ms(&ru.ru_stime);
	case_result(c, status, out);
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

/* One sweep: its configuration, layouts, cases and what it found. */
struct bench_run {
	struct bench_cfg cfg;
	struct bench_machine m;
	char dense[96], sparse_buf[96];
	const char *sparse; /* the sparse layout, or NULL */
	uint32_t nr, max_id; /* of the dense layout */
	const char *dev; /* the KVM device probed */
	int kvm_r; /* 0: usable; else kvm_why says why not */
	char kvm_why[256];
	struct bench_case *cases;
	unsigned int n, planned, failed;
	struct bench_cmp cmp[8];
	unsigned int ncmp;
	const char *lib; /* "bench-lib.json" once written */
	char lib_path[4096];
	int log_fd;
	uint64_t t0;
};

/* "kvm": whether the sweep could run at all, and why not */
static void write_kvm_json(struct json *j, const struct bench_run *b)
{
	json_key(j, "kvm");
	json_object_begin(j);
	json_kv_str(j, "device", b->dev);
	json_kv_bool(j, "usable", !b->kvm_r);
	if (b->kvm_r) {
		json_kv_str(j, "reason", b->kvm_why);
		json_kv_u64(j, "cases_not_run", b->planned);
	}
	json_object_end(j);
}

static void write_config_json(struct json *j, const struct bench_run *b)
{
	const struct bench_cfg *cfg = &b->cfg;

	json_key(j, "config");
	json_object_begin(j);
	json_kv_u64(j, "vcpus", cfg->vcpus);
	json_kv_str(j, "topology", b->dense);
	if (b->sparse)
		json_kv_str(j, "sparse_topology", b->sparse);
	json_kv_u64(j, "ops", cfg->ops);
	json_kv_u64(j, "pingpong_ops", cfg->ops * 5);
	json_kv_u64(j, "repeat", cfg->repeat);
	json_kv_bool(j, "quick", cfg->quick);
	json_key(j, "methods");
	json_array_begin(j);
	for (unsigned int i = 0; i < cfg->nr_methods; i++)
		json_str(j, cfg->methods[i]);
	json_array_end(j);
	json_key(j, "workloads");
	json_array_begin(j);
	for (unsigned int i = 0; i < cfg->nr_workloads; i++)
		json_str(j, cfg->workloads[i]);
	json_array_end(j);
	json_object_end(j);
}

static bool cmp_met(const struct bench_cmp *c)
{
	return c->at_most ? c->value <= c->goal : c->value >= c->goal;
}

static void write_cmp_json(struct json *j, const struct bench_run *b)
{
	json_key(j, "comparisons");
	json_array_begin(j);
	for (unsigned int i = 0; i < b->ncmp; i++) {
		const struct bench_cmp *c = &b->cmp[i];

		json_object_begin(j);
		json_kv_str(j, "name", c->name);
		json_kv_bool(j, "present", c->present);
		if (c->present) {
			json_kv_double(j, "value", c->value, 3);
			json_kv_double(j, "goal", c->goal, 2);
			json_kv_str(j, "goal_is",
				    c->at_most ? "at_most" : "at_least");
			json_kv_bool(j, "met", cmp_met(c));
		}
		json_kv_str(j, "note", c->note);
		json_object_end(j);
	}
	json_array_end(j);
}

/* DIR/bench.json with the first n cases; complete: the sweep ended */
static int write_json(const char *path, const struct bench_run *b,
		      unsigned int n, bool complete)
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
	bench_machine_write(&j, &b->m);
	write_kvm_json(&j, b);
	json_kv_u64(&j, "cases_planned", b->planned);
	write_config_json(&j, b);
	json_key(&j, "cases");
	json_array_begin(&j);
	for (unsigned int i = 0; i < n; i++)
		write_case_json(&j, &b->cases[i]);
	json_array_end(&j);
	write_cmp_json(&j, b);
	if (b->lib)
		json_kv_str(&j, "lib", b->lib);
	else {
		json_key(&j, "lib");
		json_null(&j);
	}
	json_kv_double(&j, "total_s", (double)(mono_ns() - b->t0) / 1e9, 1);
	json_object_end(&j);
	json_finish(&j);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

/* What the command line says besides cfg. */
struct bench_args {
	bool have_vcpus, have_ops;
	const char *sizes; /* --sizes, else NULL (the default) */
};

enum bench_opt {
	BENCH_OPT_VCPUS = 256,
	BENCH_OPT_TOPOLOGY,
	BENCH_OPT_METHODS,
	BENCH_OPT_WORKLOADS,
	BENCH_OPT_SIZES,
	BENCH_OPT_MODES,
	BENCH_OPT_OPS,
	BENCH_OPT_REPEAT,
	BENCH_OPT_TIMEOUT,
	BENCH_OPT_NO_LIB,
	BENCH_OPT_NO_SPARSE,
};

static const struct option bench_options[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "quick", no_argument, NULL, 'q' },
	{ "vcpus", required_argument, NULL, BENCH_OPT_VCPUS },
	{ "topology", required_argument, NULL, BENCH_OPT_TOPOLOGY },
	{ "methods", required_argument, NULL, BENCH_OPT_METHODS },
	{ "workloads", required_argument, NULL, BENCH_OPT_WORKLOADS },
	{ "sizes", required_argument, NULL, BENCH_OPT_SIZES },
	{ "modes", required_argument, NULL, BENCH_OPT_MODES },
	{ "ops", required_argument, NULL, BENCH_OPT_OPS },
	{ "repeat", required_argument, NULL, BENCH_OPT_REPEAT },
	{ "timeout", required_argument, NULL, BENCH_OPT_TIMEOUT },
	{ "no-lib", no_argument, NULL, BENCH_OPT_NO_LIB },
	{ "no-sparse", no_argument, NULL, BENCH_OPT_NO_SPARSE },
	{ NULL, 0, NULL, 0 },
};

#define BENCH_USAGE(...) util_usage_error("bench", bench_usage, __VA_ARGS__)

/* --methods or --workloads: the list, then its names; 0 or usage */
static int bench_parse_list(struct bench_cfg *cfg, int opt, const char *v)
{
	bool methods = opt == BENCH_OPT_METHODS;
	char why[256];

	if (methods ? split_list(v, cfg->methods, &cfg->nr_methods, 0) :
		      split_list(v, cfg->workloads, &cfg->nr_workloads, 1))
		return BENCH_USAGE(
			"--%s '%s': a comma-separated list of up to %u %s",
			methods ? "methods" : "workloads", v, BENCH_MAX_LIST,
			methods ? "methods" : "workloads");
	if (methods ? check_methods(cfg, why, sizeof(why)) :
		      check_workloads(cfg, why, sizeof(why)))
		return BENCH_USAGE("%s", why);
	return 0;
}

/* The options whose value is a count; 0 or the usage status. */
static int bench_parse_count(struct bench_cfg *cfg, struct bench_args *ba,
			     int opt, const char *v)
{
	switch (opt) {
	case BENCH_OPT_VCPUS:
		if (util_parse_u32(v, &cfg->vcpus) || cfg->vcpus < 2 ||
		    cfg->vcpus > VIPI_GUEST_MAX_CPUS)
			return BENCH_USAGE(
				"--vcpus '%s': 2 to %u (vipi's guest)", v,
				VIPI_GUEST_MAX_CPUS);
		ba->have_vcpus = true;
		return 0;
	case BENCH_OPT_OPS:
		if (util_parse_u32(v, &cfg->ops) || !cfg->ops ||
		    cfg->ops > 100000)
			return BENCH_USAGE(
				"--ops '%s': a count from 1 to 100000 (default 20; 4 with --quick)",
				v);
		ba->have_ops = true;
		return 0;
	case BENCH_OPT_REPEAT:
		if (util_parse_u32(v, &cfg->repeat) || !cfg->repeat ||
		    cfg->repeat > 99)
			return BENCH_USAGE(
				"--repeat '%s': a count from 1 to 99 (default 3; 1 with --quick)",
				v);
		return 0;
	case BENCH_OPT_TIMEOUT:
		if (util_parse_u32(v, &cfg->timeout_s) || !cfg->timeout_s)
			return BENCH_USAGE("--timeout '%s': seconds, from 1",
					   v);
		return 0;
	default:
		return BENCH_USAGE("option %d has no parser", opt);
	}
}

/* One option; 0 or the usage status. */
static int bench_parse_option(struct bench_cfg *cfg, struct bench_args *ba,
			      int opt, const char *v)
{
	switch (opt) {
	case 'q':
		cfg->quick = true;
		return 0;
	case BENCH_OPT_NO_LIB:
		cfg->no_lib = true;
		return 0;
	case BENCH_OPT_NO_SPARSE:
		cfg->no_sparse = true;
		return 0;
	case 'o':
		cfg->dir = v;
		return 0;
	case BENCH_OPT_TOPOLOGY:
		cfg->topology = v;
		return 0;
	case BENCH_OPT_SIZES:
		ba->sizes = v;
		return 0;
	case BENCH_OPT_METHODS:
	case BENCH_OPT_WORKLOADS:
		return bench_parse_list(cfg, opt, v);
	case BENCH_OPT_MODES:
		if (parse_modes(v, cfg->modes))
			return BENCH_USAGE(
				"--modes '%s': user, kernel or user,kernel", v);
		return 0;
	default:
		return bench_parse_count(cfg, ba, opt, v);
	}
}

/*
 * The options, in order (getopt_long, opt.h), then the defaults that
 * depend on --quick. No operands: `bench lib` and `bench linux` are
 * dispatched before this.
 */
static int parse_bench_args(int argc, char **argv, struct bench_cfg *cfg)
{
	struct bench_args ba = { 0 };
	struct opt_scan s;
	int opt, r;

	opt_scan_init(&s, argc, argv, "o:q", bench_options);
	while ((opt = opt_scan_next(&s)) != -1) {
		if (opt == '?')
			return BENCH_USAGE("%s", s.problem);
		r = bench_parse_option(cfg, &ba, opt, optarg);
		if (r)
			return r;
	}
	if (optind < argc && argv[optind][0] != '-')
		return BENCH_USAGE(
			"unknown benchmark '%s' (the sweep takes options; 'bench lib', 'bench linux')",
			argv[optind]);
	if (optind < argc)
		return BENCH_USAGE("unknown option '%s'", argv[optind]);
	if (!ba.have_vcpus)
		cfg->vcpus = cfg->quick ? 16 : 64;
	if (!ba.have_ops)
		cfg->ops = cfg->quick ? 4 : 20;
	if (!cfg->repeat)
		cfg->repeat = cfg->quick ? 1 : 3;
	cfg->sizes_given = ba.sizes != NULL;
	if (!ba.sizes)
		ba.sizes = cfg->quick ? "1,max" : "1,8,max";
	if (parse_sizes(ba.sizes, cfg))
		return BENCH_USAGE("--sizes '%s': counts from 1 or 'max'",
				   ba.sizes);
	return 0;
}

static void bench_defaults(struct bench_cfg *cfg)
{
	static const char *const def_methods[] = {
		"x2apic-phys",	"x2apic-cluster", "xapic-phys",
		"kvm-pv-linux", "kvm-pv",	  "hv",
		"vipi",
	};

	memset(cfg, 0, sizeof(*cfg));
	cfg->dir = "vipi-out";
	cfg->modes[0] = cfg->modes[1] = true;
	cfg->timeout_s = 120;
	for (unsigned int i = 0; i < ARRAY_SIZE(def_methods); i++)
		cfg->methods[cfg->nr_methods++] = def_methods[i];
	cfg->workloads[0] = "multicast";
	cfg->workloads[1] = "pingpong";
	cfg->nr_workloads = 2;
}

/*
 * The dense layout (or the user's) and the set sizes it can have; 0 or
 * the usage status.
 */
static int bench_plan_layout(struct bench_run *b)
{
	struct bench_cfg *cfg = &b->cfg;
	struct vipi_topo *topo = NULL;
	char err[160];
	unsigned int k = 0;
	bool x86;

	if (cfg->topology)
		snprintf(b->dense, sizeof(b->dense), "%s", cfg->topology);
	else
		snprintf(b->dense, sizeof(b->dense), "x86:dense:%u",
			 cfg->vcpus);
	if (vipi_topo_parse(b->dense, &topo, err, sizeof(err)))
		return BENCH_USAGE("--topology '%s': %s", b->dense, err);
	b->nr = vipi_topo_nr_vcpus(topo);
	b->max_id = vipi_topo_max_apic_id(topo);
	x86 = vipi_topo_arch(topo) == VIPI_ARCH_X86;
	vipi_topo_destroy(topo);
	if (!x86)
		return BENCH_USAGE(
			"--topology '%s': the VMM runs x86 guests; give an x86 topology",
			b->dense);
	if (b->nr < 2 || b->nr > VIPI_GUEST_MAX_CPUS)
		return BENCH_USAGE(
			"--topology '%s': %u vCPUs; the sweep takes 2 to %u",
			b->dense, b->nr, VIPI_GUEST_MAX_CPUS);
	cfg->vcpus = b->nr;
	for (unsigned int i = 0; i < cfg->nr_sizes; i++) {
		/* a set the VM cannot have: misuse when asked for, left out
		 * of the defaults ("max" is N-1 anyway) */
		if (cfg->sizes[i] > b->nr - 1 && cfg->sizes_given)
			return BENCH_USAGE(
				"--sizes: %u targets, but %u vCPUs have at most %u besides the sender",
				cfg->sizes[i], b->nr, b->nr - 1);
		if (cfg->sizes[i] <= b->nr - 1)
			cfg->sizes[k++] = cfg->sizes[i];
	}
	cfg->nr_sizes = k;
	return 0;
}

/*
 * KVM: usable by this user, and big enough (the device can be overridden,
 * VIPI_KVM_DEVICE, so that tests see a host without); then the sparse
 * layout, whose APIC-ID span makes KVM PV's 128-ID window
 * (KVM_HC_SEND_IPI, Linux Documentation/virt/kvm/x86/hypercalls.rst)
 * need several calls. 0 or the usage status.
 */
static int bench_probe_kvm(struct bench_run *b)
{
	int max_vcpus = 0;

	b->dev = getenv("VIPI_KVM_DEVICE");
	if (!b->dev || !*b->dev)
		b->dev = "/dev/kvm";
	b->kvm_r =
		kvm_probe(b->dev, &max_vcpus, b->kvm_why, sizeof(b->kvm_why));
	if (!b->kvm_r && max_vcpus > 0 && b->nr > (uint32_t)max_vcpus)
		return BENCH_USAGE(
			"%u vCPUs: this host's KVM allows at most %d (KVM_CAP_MAX_VCPUS)",
			b->nr, max_vcpus);
	if (!b->cfg.topology && !b->cfg.no_sparse) {
		/* the span stays below 4096: the in-kernel LAPIC's vCPU-id
		 * limit here (KVM_CAP_MAX_VCPU_ID) */
		uint32_t stride = 4000 / b->nr;

		if (stride >= 2) {
			snprintf(b->sparse_buf, sizeof(b->sparse_buf),
				 "x86:stride:%u:%u", b->nr, stride);
			b->sparse = b->sparse_buf;
		}
	}
	return 0;
}

/*
 * The output folder, the machine, the log and the cases; then the table's
 * header, or without KVM the banner (no sweep, said loudly; the library
 * benchmark still runs). 0 or the failure status.
 */
static int bench_prepare(struct bench_run *b)
{
	const struct bench_cfg *cfg = &b->cfg;
	struct sigaction sa;
	char path[4096];

	if (mkdir(cfg->dir, 0755) && errno != EEXIST)
		return util_fail("bench", "cannot create %s: %s", cfg->dir,
				 strerror(errno));
	bench_machine_probe(&b->m);
	snprintf(path, sizeof(path), "%s/bench.log", cfg->dir);
	b->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	b->n = build_cases(cfg, b->cases, b->dense, b->sparse, b->nr,
			   b->max_id);
	b->planned = b->n;
	if (b->kvm_r) {
		fprintf(stderr,
			"vipi bench: KVM cannot be used: %s\n"
			"vipi bench: the KVM sweep (%u cases) does not run%s\n",
			b->kvm_why, b->n,
			cfg->no_lib ? "" : "; the library benchmark does");
		b->n = 0;
	} else {
		print_header(&b->m, cfg, b->dense, b->sparse);
	}
	fflush(stdout);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bench_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

/*
 * Case i of the sweep: a method a mode cannot serve is probed once, then
 * reported as unsupported for the rest of the sweep, never faked.
 */
static void bench_case_run(struct bench_run *b, unsigned int i)
{
	struct bench_case *c = &b->cases[i];
	const struct bench_case *prior = NULL;

	for (unsigned int j = 0; j < i; j++)
		if (b->cases[j].user == c->user &&
		    !strcmp(b->cases[j].method, c->method) &&
		    !strcmp(b->cases[j].status, "unsupported"))
			prior = &b->cases[j];
	if (prior) {
		snprintf(c->status, sizeof(c->status), "unsupported");
		snprintf(c->reason, sizeof(c->reason), "%s", prior->reason);
		c->rc = VMM_EXIT_SKIP;
	} else if (!case_check(c)) {
		case_repeat(c, &b->cfg, b->log_fd);
	}
}

/*
 * Every case in order, with progress on stderr (case K of N, and from
 * the cases so far an estimate of what is left), its line of the table,
 * and DIR/bench.json after each: an interruption or a crash keeps every
 * case that finished. A signal ends the sweep; the cases not started are
 * left out.
 */
static void bench_sweep(struct bench_run *b)
{
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/bench.json", b->cfg.dir);
	for (unsigned int i = 0; i < b->n; i++) {
		struct bench_case *c = &b->cases[i];
		double spent = (double)(mono_ns() - b->t0) / 1e9;

		if (bench_interrupted) {
			b->n = i;
			break;
		}
		fprintf(stderr, "vipi bench: case %u of %u", i + 1, b->n);
		if (i)
			fprintf(stderr, ", about %.0f s left",
				spent / i * (b->n - i));
		fprintf(stderr, "\n");
		bench_case_run(b, i);
		fprintf(stderr,
			"[%u/%u] %s %s %s %s targets %u: %s%s%s (%.1f s)\n",
			i + 1, b->n, mode_name(c), c->method, c->workload,
			c->label, c->targets, c->status,
			strcmp(c->status, "pass") ? ": " : "",
			strcmp(c->status, "pass") ? c->reason : "", c->wall_s);
		print_row(c);
		fflush(stdout);
		if (!strcmp(c->status, "fail") || !strcmp(c->status, "error"))
			b->failed++;
		b->ncmp = comparisons(b->cases, i + 1, b->nr, b->sparse != NULL,
				      b->cmp);
		r = write_json(path, b, i + 1, false);
		if (r)
			fprintf(stderr, "vipi bench: cannot write %s: %s\n",
				path, strerror(-r));
	}
}

/* The figures the issue asks for, under the table. */
static void print_comparisons(const struct bench_run *b)
{
	if (b->ncmp)
		printf("\nComparisons (this run):\n");
	for (unsigned int i = 0; i < b->ncmp; i++) {
		const struct bench_cmp *c = &b->cmp[i];

		if (c->present)
			printf("  %-70s %8.3f (goal %s %.2f: %s) %s\n", c->name,
			       c->value, c->at_most ? "<=" : ">=", c->goal,
			       cmp_met(c) ? "met" : "NOT met", c->note);
		else
			printf("  %-70s %8s %s\n", c->name, "-", c->note);
	}
}

/* `vipi bench lib` into DIR/bench-lib.json, unless --no-lib or stopped */
static void bench_run_lib(struct bench_run *b)
{
	int r;

	if (b->cfg.no_lib || bench_interrupted)
		return;
	snprintf(b->lib_path, sizeof(b->lib_path), "%s/bench-lib.json",
		 b->cfg.dir);
	fprintf(stderr, "vipi bench: library benchmark (bench lib)%s\n",
		b->cfg.quick ? " --quick" : "");
	printf("\n");
	fflush(stdout);
	r = bench_lib_run(b->lib_path, b->cfg.quick, true);
	if (r)
		fprintf(stderr, "vipi bench: cannot write %s: %s\n",
			b->lib_path, strerror(-r));
	else
		b->lib = "bench-lib.json";
}

/*
 * The final DIR/bench.json, DIR/bench.svg (the chart `vipi report` draws
 * of the same file, prog/report-bench.c) and the summary line; the exit
 * status of the sweep.
 */
static int bench_finish(struct bench_run *b)
{
	const char *dir = b->cfg.dir;
	char path[4096], json_path[4096];
	int r;

	snprintf(json_path, sizeof(json_path), "%s/bench.json", dir);
	r = write_json(json_path, b, b->n, !bench_interrupted);
	if (r)
		return util_fail("bench", "cannot write %s: %s", json_path,
				 strerror(-r));
	snprintf(path, sizeof(path), "%s/bench.svg", dir);
	if (b->kvm_r) {
		/* no plot of nothing, and none left from an earlier run */
		unlink(path);
		printf("\nvipi bench: NO KVM RESULTS: %s; the reason is in %s/bench.json%s%s\n",
		       b->kvm_why, dir,
		       b->lib ? ", the library benchmark in " : "",
		       b->lib ? b->lib_path : "");
		fprintf(stderr, "vipi bench: KVM cannot be used: %s\n",
			b->kvm_why);
		return VMM_EXIT_SKIP;
	}
	r = report_bench_svg_file(json_path, path);
	if (r == -ENODATA)
		unlink(path); /* no case has a value to draw */
	else if (r)
		return util_fail("bench", "cannot write %s: %s", path,
				 strerror(-r));
	printf("\nvipi bench: %u cases, %u failed, %.0f s; %s/bench.json%s%s%s%s%s, log %s/bench.log\n",
	       b->n, b->failed, (double)(mono_ns() - b->t0) / 1e9, dir,
	       r ? "" : ", ", r ? "" : dir, r ? "" : "/bench.svg",
	       b->lib ? ", " : "", b->lib ? b->lib_path : "", dir);
	if (bench_interrupted)
		return 128 + (int)bench_interrupted;
	return b->failed ? VIPI_EXIT_FAIL : VIPI_EXIT_OK;
}

int cmd_bench_kvm(int argc, char **argv)
{
	static struct bench_case cases[BENCH_MAX_CASES];
	static struct bench_run b;
	int r;

	if (argc > 1 && !strcmp(argv[1], "linux"))
		return cmd_bench_linux(argc - 1, argv + 1);
	if (util_wants_help(argc, argv)) {
		fputs(bench_usage, stdout);
		return VIPI_EXIT_OK;
	}
	memset(&b, 0, sizeof(b));
	b.t0 = mono_ns();
	b.cases = cases;
	bench_defaults(&b.cfg);
	r = parse_bench_args(argc, argv, &b.cfg);
	if (!r)
		r = bench_plan_layout(&b);
	if (!r)
		r = bench_probe_kvm(&b);
	if (!r)
		r = bench_prepare(&b);
	if (r)
		return r;
	bench_sweep(&b);
	if (bench_interrupted)
		fprintf(stderr,
			"vipi bench: interrupted (signal %d) after %u of %u cases: writing what finished\n",
			(int)bench_interrupted, b.n, b.planned);
	if (b.log_fd >= 0)
		close(b.log_fd);
	b.ncmp = b.kvm_r ? 0 :
			   comparisons(b.cases, b.n, b.nr, b.sparse != NULL,
				       b.cmp);
	print_comparisons(&b);
	bench_run_lib(&b);
	return bench_finish(&b);
}
