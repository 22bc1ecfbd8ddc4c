// SPDX-License-Identifier: MIT
/*
 * `vipi bench linux`: boots the kernel of linux/build-kernel.sh with its
 * boot-time IPI benchmark (vipi_bench=1, docs/linux.md) once per path,
 * irqchip mode and vCPU count, each boot a child `vipi run --kernel` as
 * `vipi bench` runs its cases, and turns the console's "vipi_bench: test="
 * lines into cases: a table on stdout, DIR/linux.json and DIR/linux.svg.
 * `--parse FILE.log...` (hidden, for tests) parses saved consoles only.
 */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tools/cmds.h"
#include "../tools/json.h"
#include "../tools/util.h"
#include "vmm.h"

static const char bl_usage[] =
	"usage: vipi bench linux [--vcpus N] [--kernel FILE] [--out DIR]\n"
	"                        [--paths LIST] [--ops K] [--timeout S]\n"
	"                        [--append ARGS] [--quick]\n"
	"\n"
	"Boots the kernel of linux/build-kernel.sh with vipi_bench=1 once per\n"
	"path and vCPU count (2..N) and reports the guest's own IPI timings:\n"
	"a table on stdout, DIR/linux.json and DIR/linux.svg (DIR defaults to\n"
	"./vipi-out; each boot's console is kept as DIR/linux-*.log).\n"
	"\n"
	"  --vcpus N      vCPU counts 2..N (default 2,4: the host has 2 cores)\n"
	"  --kernel FILE  bzImage (default: the newest\n"
	"                 /work/peer/lnx*/build/arch/x86/boot/bzImage)\n"
	"  --paths LIST   x2apic-phys,x2apic-cluster,hv,vipi,kernel (default\n"
	"                 all; kernel = x2apic-phys with --irqchip kernel)\n"
	"  --ops K        operations per test (default 20; 5 with --quick)\n"
	"  --timeout S    per boot (default 600)\n"
	"  --append ARGS  more kernel command line\n"
	"  --quick        2 vCPUs, 5 ops, x2apic-phys, vipi and kernel\n";

#define BL_CMDLINE                                                        \
	"console=ttyS0 noxsave clearcpuid=ssse3,invpcid mitigations=off " \
	"tsc=reliable highres=off nohz=off panic=-1"
#define BL_MAX_RUNS 64
#define BL_MAX_CASES 1024
#define BL_KERNEL_GLOB "/work/peer/lnx*/build/arch/x86/boot/bzImage"

/* One boot: a path in one irqchip mode with n vCPUs. */
struct bl_run {
	const char *path; /* x2apic-phys x2apic-cluster hv vipi */
	bool user;
	bool hyperv;
	bool vipi_on; /* the driver is expected on */
	bool run; /* false: unsupported, never booted */
	uint32_t vcpus;
	char log[4096];
	char json[4096];
	/* results */
	char status[16];
	char reason[240];
	int rc;
	double wall_s;
	char apic[48]; /* the benchmark header's apic= */
	char routing[64]; /* "Switched APIC routing to ..." */
	int hdr_cpus, hdr_ipi, hdr_tlb; /* -1: no header */
	bool done;
	bool have_exits;
	double icr, vipi, hv; /* whole-run exits */
};

struct bl_case {
	unsigned int run;
	char test[24]; /* unicast many:K broadcast shootdown */
	char state[8];
	uint32_t targets, ops;
	double ns;
	uint64_t calls, fallbacks, resends, deferred, interrupted;
	bool have_sender;
	double sender;
	char sender_how[200]; /* how derived, or why null */
	char status[16];
	char reason[240];
};

struct bl_cfg {
	const char *dir;
	const char *kernel;
	const char *append;
	uint32_t vcpus;
	uint32_t ops;
	uint32_t timeout_s;
	bool quick;
	bool want[5]; /* x2apic-phys x2apic-cluster hv vipi kernel */
};

static const char *const bl_path_names[5] = {
	"x2apic-phys", "x2apic-cluster", "hv", "vipi", "kernel",
};

static struct bl_run runs[BL_MAX_RUNS];
static struct bl_case cases[BL_MAX_CASES];
static unsigned int nr_runs, nr_cases;

static uint64_t bl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char *bl_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 65536, n = 0;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - 1 - n, f);

		n += r;
		if (n < cap - 1)
			break;
		cap *= 2;
		char *nb = realloc(buf, cap);

		if (!nb) {
			free(buf);
			buf = NULL;
		} else {
			buf = nb;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* "key=NUMBER" among the space-separated words of line; false if absent */
static bool bl_kv_u64(const char *line, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			char *end;

			errno = 0;
			*out = strtoull(p + kl + 1, &end, 10);
			return end != p + kl + 1 && !errno;
		}
		p += kl;
	}
	return false;
}

static bool bl_kv_word(const char *line, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key), n = 0;
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			for (p += kl + 1; *p && *p != ' ' && n + 1 < len; p++)
				buf[n++] = *p;
			buf[n] = '\0';
			return n > 0;
		}
		p += kl;
	}
	return false;
}

/* A number after "key": inside the "exits" object of run --json */
static bool bl_exit(const char *js, const char *key, double *out)
{
	const char *e = strstr(js, "\"exits\":{"), *p, *end;
	char pat[48];

	if (!e)
		return false;
	end = strchr(e, '}');
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(e, pat);
	if (!p || (end && p > end))
		return false;
	*out = strtod(p + strlen(pat), NULL);
	return true;
}

static struct bl_case *bl_new_case(unsigned int run)
{
	struct bl_case *c;

	if (nr_cases >= BL_MAX_CASES)
		return NULL;
	c = &cases[nr_cases++];
	memset(c, 0, sizeof(*c));
	c->run = run;
	return c;
}

/*
 * The console of one boot: the benchmark header and test lines, "done",
 * and the APIC routing Linux chose. Adds one case per test line.
 */
static void bl_parse_console(const char *text, unsigned int ri)
{
	struct bl_run *r = &runs[ri];
	const char *line = text;

	r->hdr_cpus = r->hdr_ipi = r->hdr_tlb = -1;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512];
		const char *b, *p;

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl ? nl + 1 : NULL;
		buf[strcspn(buf, "\r")] = '\0';
		if ((p = strstr(buf, "Switched APIC routing to "))) {
			snprintf(r->routing, sizeof(r->routing), "%s",
				 p + strlen("Switched APIC routing to "));
			r->routing[strcspn(r->routing, ".")] = '\0';
			continue;
		}
		b = strstr(buf, "vipi_bench: ");
		if (!b)
			continue;
		b += strlen("vipi_bench: ");
		if (!strcmp(b, "done")) {
			r->done = true;
		} else if (!strncmp(b, "cpus=", 5)) {
			uint64_t v;
			const char *a = strstr(b, " apic="),
				   *e = strstr(b, " vipi_ipi=");

			if (bl_kv_u64(b, "cpus", &v))
				r->hdr_cpus = (int)v;
			if (bl_kv_u64(b, "vipi_ipi", &v))
				r->hdr_ipi = (int)v;
			if (bl_kv_u64(b, "vipi_tlb", &v))
				r->hdr_tlb = (int)v;
			if (a && e && e > a)
				snprintf(r->apic, sizeof(r->apic), "%.*s",
					 (int)(e - a - 6), a + 6);
		} else if (!strncmp(b, "test=", 5)) {
			struct bl_case *c = bl_new_case(ri);
			char t[16] = "", st[8] = "";
			uint64_t v;

			if (!c)
				continue;
			bl_kv_word(b, "test", t, sizeof(t));
			bl_kv_word(b, "state", st, sizeof(st));
			snprintf(c->state, sizeof(c->state), "%s", st);
			if (bl_kv_u64(b, "targets", &v))
				c->targets = (uint32_t)v;
			if (bl_kv_u64(b, "ops", &v))
				c->ops = (uint32_t)v;
			if (bl_kv_u64(b, "ns_per_op", &v))
				c->ns = (double)v;
			bl_kv_u64(b, "calls", &c->calls);
			bl_kv_u64(b, "fallbacks", &c->fallbacks);
			bl_kv_u64(b, "tlb_resends", &c->resends);
			bl_kv_u64(b, "deferred", &c->deferred);
			bl_kv_u64(b, "interrupted", &c->interrupted);
			if (!strcmp(t, "many"))
				snprintf(c->test, sizeof(c->test), "many:%u",
					 c->targets);
			else if (!strcmp(t, "tlb"))
				snprintf(c->test, sizeof(c->test), "shootdown");
			else
				snprintf(c->test, sizeof(c->test), "%s", t);
			if (!c->ops || !t[0] || !st[0] ||
			    !bl_kv_u64(b, "ns_per_op", &v)) {
				snprintf(c->status, sizeof(c->status), "error");
				snprintf(c->reason, sizeof(c->reason),
					 "malformed benchmark line");
			}
		}
	}
}

/* Does this run's console say it is the path it was meant to be? */
static bool bl_check_run(struct bl_run *r, char *why, size_t len)
{
	if (r->hdr_cpus < 0) {
		snprintf(why, len, "no vipi_bench header on the console");
		return false;
	}
	if ((uint32_t)r->hdr_cpus != r->vcpus) {
		snprintf(why, len, "the guest has %d CPUs online, not %u",
			 r->hdr_cpus, r->vcpus);
		return false;
	}
	if (r->hdr_ipi != (int)r->vipi_on || r->hdr_tlb != (int)r->vipi_on) {
		snprintf(why, len,
			 "driver state vipi_ipi=%d vipi_tlb=%d, expected %d",
			 r->hdr_ipi, r->hdr_tlb, r->vipi_on);
		return false;
	}
	if (strcmp(r->apic, "physical x2apic")) {
		snprintf(why, len, "APIC driver '%s', not physical x2apic",
			 r->apic);
		return false;
	}
	return true;
}

/*
 * Sender exits per op. vipi: the driver's SEND_IPI calls over the test
 * (one doorbell exit each) per op, unless some sends fell back. x2APIC
 * physical: one ICR write per target, one for Linux's ALL-BUT-SELF
 * shorthand when the set is every other CPU (smp_call_function_many
 * uses it then). Hyper-V: one hypercall per op (hv_apic.c sends a set in
 * one call; hyperv_flush_tlb_multi flushes in one). The whole run's VMM
 * exit counter bounds the sum of the predictions (+1 warm-up op each).
 */
static void bl_derive(unsigned int ri)
{
	struct bl_run *r = &runs[ri];
	double predicted = 0, counted = 0;
	bool x2 = !strcmp(r->path, "x2apic-phys"), hv = !strcmp(r->path, "hv");
	const char *counter = r->vipi_on ? "vipi" :
			      x2	 ? "x2apic_icr" :
					   "hv_hypercall";

	for (unsigned int i = 0; i < nr_cases; i++) {
		struct bl_case *c = &cases[i];
		double per;

		if (c->run != ri)
			continue;
		if (strcmp(c->status, "pass")) {
			if (!c->sender_how[0])
				snprintf(c->sender_how, sizeof(c->sender_how),
					 "not derived: the case did not pass");
			continue;
		}
		if (r->vipi_on) {
			if (c->fallbacks) {
				snprintf(
					c->sender_how, sizeof(c->sender_how),
					"%llu sends fell back to the previous method, whose exits are not counted per test",
					(unsigned long long)c->fallbacks);
				continue;
			}
			c->sender = (double)c->calls / c->ops;
			c->have_sender = true;
			predicted +=
				(double)c->calls; /* the warm-up: unknown */
			snprintf(
				c->sender_how, sizeof(c->sender_how),
				"driver calls / ops (one doorbell exit per call)");
			continue;
		}
		if (x2) {
			bool abs = c->targets >= 2 &&
				   c->targets + 1 == r->vcpus;

			per = c->targets <= 1 || abs ? 1 : c->targets;
			snprintf(
				c->sender_how, sizeof(c->sender_how), "%s",
				c->targets <= 1 ? "one ICR write" :
				abs ? "one ICR write (ALL-BUT-SELF shorthand)" :
				      "one ICR write per target");
		} else if (hv) {
			per = 1;
			snprintf(
				c->sender_how, sizeof(c->sender_how),
				"one hypercall per op (Linux hv_apic.c, hyperv_flush_tlb_multi)");
		} else {
			snprintf(c->sender_how, sizeof(c->sender_how),
				 "no derivation for path %s", r->path);
			continue;
		}
		c->sender = per;
		c->have_sender = true;
		predicted += per * (c->ops + 1);
	}
	if (!r->vipi_on && !x2 && !hv)
		return;
	counted = r->vipi_on ? r->vipi : x2 ? r->icr : r->hv;
	for (unsigned int i = 0; i < nr_cases; i++) {
		struct bl_case *c = &cases[i];
		size_t l;

		if (c->run != ri || !c->have_sender)
			continue;
		l = strlen(c->sender_how);
		if (!r->have_exits) {
			snprintf(c->sender_how + l, sizeof(c->sender_how) - l,
				 "; not cross-checked (no VMM JSON)");
		} else if (!r->user) {
			snprintf(
				c->sender_how + l, sizeof(c->sender_how) - l,
				"; not cross-checked (the in-kernel LAPIC takes ICR writes without a VMM exit)");
		} else if (counted < predicted) {
			c->have_sender = false;
			snprintf(
				c->sender_how, sizeof(c->sender_how),
				"the run's exits.%s %.0f is below the %.0f this derivation predicts",
				counter, counted, predicted);
		} else {
			snprintf(c->sender_how + l, sizeof(c->sender_how) - l,
				 "; run total %s %.0f >= %.0f predicted",
				 counter, counted, predicted);
		}
	}
}

/* Everything about one boot once its console (and JSON) are in. */
static void bl_finish_run(unsigned int ri, const char *console, const char *js)
{
	struct bl_run *r = &runs[ri];
	unsigned int first = nr_cases;
	char why[200];
	bool ok;

	r->have_exits = js && bl_exit(js, "x2apic_icr", &r->icr);
	if (r->have_exits) {
		bl_exit(js, "vipi", &r->vipi);
		bl_exit(js, "hv_hypercall", &r->hv);
	}
	bl_parse_console(console ? console : "", ri);
	ok = bl_check_run(r, why, sizeof(why));
	if (!r->done && ok) {
		snprintf(why, sizeof(why), "no \"vipi_bench: done\"%s%s",
			 r->reason[0] ? ": " : "", r->reason);
		ok = false;
	}
	if (ok && r->rc) {
		snprintf(why, sizeof(why), "vipi run exit %d: %s", r->rc,
			 r->reason);
		ok = false;
	}
	for (unsigned int i = first; i < nr_cases; i++) {
		struct bl_case *c = &cases[i];

		if (c->status[0])
			continue;
		if (ok) {
			snprintf(c->status, sizeof(c->status), "pass");
		} else {
			snprintf(c->status, sizeof(c->status), "fail");
			snprintf(c->reason, sizeof(c->reason), "%s", why);
		}
	}
	snprintf(r->status, sizeof(r->status), ok ? "pass" : "fail");
	if (!ok)
		snprintf(r->reason, sizeof(r->reason), "%s", why);
	if (first == nr_cases) {
		struct bl_case *c = bl_new_case(ri);

		if (c) {
			snprintf(c->status, sizeof(c->status),
				 r->rc < 0 || !console ? "error" : "fail");
			snprintf(c->reason, sizeof(c->reason),
				 "no benchmark lines: %s", why);
		}
	}
	bl_derive(ri);
}

static unsigned int bl_add_run(const char *path, bool user, bool hyperv,
			       bool vipi_on, uint32_t vcpus)
{
	struct bl_run *r;

	if (nr_runs >= BL_MAX_RUNS)
		return nr_runs - 1;
	r = &runs[nr_runs];
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->user = user;
	r->hyperv = hyperv;
	r->vipi_on = vipi_on;
	r->run = true;
	r->vcpus = vcpus;
	return nr_runs++;
}

/* One boot as a child `vipi run`, stdout and stderr to files. */
static void bl_boot(unsigned int ri, const struct bl_cfg *cfg)
{
	struct bl_run *r = &runs[ri];
	char vc[16], tmo[16], cmdline[1024];
	char *argv[24];
	unsigned int n = 0;
	uint64_t t0 = bl_now_ns(), deadline;
	int status = 0;
	pid_t pid;

	snprintf(vc, sizeof(vc), "%u", r->vcpus);
	snprintf(tmo, sizeof(tmo), "%u", cfg->timeout_s);
	snprintf(cmdline, sizeof(cmdline),
		 "%s vipi_bench=1 vipi_bench_ops=%u%s%s%s", BL_CMDLINE,
		 cfg->ops,
		 r->vipi_on || !r->user ? "" : " vipi.ipi=0 vipi.tlb=0",
		 cfg->append ? " " : "", cfg->append ? cfg->append : "");
	snprintf(r->log, sizeof(r->log), "%s/linux-%s-%s-%u.log", cfg->dir,
		 r->path, r->user ? "user" : "kernel", r->vcpus);
	snprintf(r->json, sizeof(r->json), "%s/linux-%s-%s-%u.json", cfg->dir,
		 r->path, r->user ? "user" : "kernel", r->vcpus);
	argv[n++] = "vipi";
	argv[n++] = "run";
	argv[n++] = "--kernel";
	argv[n++] = (char *)cfg->kernel;
	argv[n++] = "--irqchip";
	argv[n++] = r->user ? "user" : "kernel";
	argv[n++] = "--vcpus";
	argv[n++] = vc;
	argv[n++] = "--mem";
	argv[n++] = "128";
	argv[n++] = "--timeout";
	argv[n++] = tmo;
	argv[n++] = "--json";
	argv[n++] = "--append";
	argv[n++] = cmdline;
	if (r->hyperv)
		argv[n++] = "--hyperv";
	argv[n] = NULL;
	fprintf(stderr, "vipi bench linux: %s %s %u vCPUs: vipi run ...",
		r->path, r->user ? "user" : "kernel", r->vcpus);
	for (unsigned int i = 2; i < n; i++)
		fprintf(stderr,
			strcmp(argv[i - 1], "--append") ? " %s" : " '%s'",
			argv[i]);
	fprintf(stderr, "\n");
	fflush(NULL);
	snprintf(r->status, sizeof(r->status), "error");
	pid = fork();
	if (pid < 0) {
		snprintf(r->reason, sizeof(r->reason), "fork: %s",
			 strerror(errno));
		r->rc = -1;
		bl_finish_run(ri, NULL, NULL);
		return;
	}
	if (!pid) {
		if (!freopen(r->json, "w", stdout) ||
		    !freopen(r->log, "w", stderr))
			_exit(127);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	deadline = t0 + ((uint64_t)cfg->timeout_s + 30) * 1000000000ull;
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0) {
			status = -1;
			break;
		}
		if (bl_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		nanosleep(&ts, NULL);
	}
	r->wall_s = (double)(bl_now_ns() - t0) / 1e9;
	r->rc = status < 0 ? -1 :
		WIFEXITED(status) ?
			     WEXITSTATUS(status) :
			     -(WIFSIGNALED(status) ? WTERMSIG(status) : 1);
	{
		char *console = bl_read_file(r->log);
		char *js = bl_read_file(r->json);
		const char *p = js ? strstr(js, "\"reason\":\"") : NULL;

		if (p) {
			p += strlen("\"reason\":\"");
			snprintf(r->reason, sizeof(r->reason), "%.*s",
				 (int)strcspn(p, "\""), p);
		} else if (r->rc < 0) {
			snprintf(r->reason, sizeof(r->reason),
				 "killed by signal %d (timeout %u s + 30?)",
				 -r->rc, cfg->timeout_s);
		} else {
			snprintf(r->reason, sizeof(r->reason),
				 "no JSON from vipi run (exit %d)", r->rc);
		}
		bl_finish_run(ri, console, js);
		free(console);
		free(js);
	}
}

/* x2apic-cluster: Linux 6.1 cannot be made to use it here. */
static void bl_cluster_unsupported(unsigned int ri)
{
	struct bl_run *r = &runs[ri];
	const char *seen = NULL;
	struct bl_case *c;

	r->run = false;
	for (unsigned int i = 0; i < nr_runs; i++)
		if (runs[i].run && runs[i].routing[0] && runs[i].user &&
		    runs[i].vcpus == r->vcpus &&
		    !strcmp(runs[i].path, "x2apic-phys"))
			seen = runs[i].routing;
	snprintf(r->status, sizeof(r->status), "unsupported");
	snprintf(
		r->reason, sizeof(r->reason),
		"Linux 6.1 forces physical x2APIC without interrupt remapping (try_to_enable_x2apic sets x2apic_phys; the VMM emulates no IOMMU) and has no option for cluster mode; console of x2apic-phys here: \"Switched APIC routing to %s\"",
		seen ? seen : "(not booted)");
	c = bl_new_case(ri);
	if (c) {
		snprintf(c->status, sizeof(c->status), "unsupported");
		snprintf(c->reason, sizeof(c->reason), "%s", r->reason);
		snprintf(c->sender_how, sizeof(c->sender_how), "not run");
	}
}

static const char *bl_find_kernel(char *buf, size_t len)
{
	glob_t g;
	time_t best = 0;

	buf[0] = '\0';
	if (glob(BL_KERNEL_GLOB, 0, NULL, &g))
		return NULL;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;

		if (!stat(g.gl_pathv[i], &st) && st.st_mtime >= best) {
			best = st.st_mtime;
			snprintf(buf, len, "%s", g.gl_pathv[i]);
		}
	}
	globfree(&g);
	return buf[0] ? buf : NULL;
}

static void bl_fmt_ns(char *buf, size_t len, const struct bl_case *c)
{
	if (strcmp(c->status, "pass"))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", c->ns / 1e3);
}

static void bl_print_table(void)
{
	printf("%-15s %-7s %5s %-10s %-5s %7s %10s %8s  %s\n", "path",
	       "irqchip", "vcpus", "test", "state", "targets", "us/op",
	       "exits/op", "status");
	for (unsigned int i = 0; i < nr_cases; i++) {
		const struct bl_case *c = &cases[i];
		const struct bl_run *r = &runs[c->run];
		char ns[32], ex[32];

		bl_fmt_ns(ns, sizeof(ns), c);
		if (c->have_sender)
			snprintf(ex, sizeof(ex), "%.2f", c->sender);
		else
			snprintf(ex, sizeof(ex), "null");
		printf("%-15s %-7s %5u %-10s %-5s %7u %10s %8s  %s%s%s\n",
		       r->path, r->user ? "user" : "kernel", r->vcpus,
		       c->test[0] ? c->test : "-", c->state[0] ? c->state : "-",
		       c->targets, ns, ex, c->status,
		       strcmp(c->status, "pass") ? ": " : "",
		       strcmp(c->status, "pass") ? c->reason : "");
	}
}

static void bl_write_json(FILE *f, const struct bl_cfg *cfg, bool parse,
			  double total_s)
{
	struct json j;

	json_init(&j, f, true);
	json_object_begin(&j);
	json_kv_str(&j, "schema", "vipi-bench-linux/1");
	if (parse) {
		json_key(&j, "machine");
		json_null(&j);
	} else {
		bench_machine_json(&j, NULL, 0);
	}
	json_key(&j, "config");
	json_object_begin(&j);
	if (cfg->kernel)
		json_kv_str(&j, "kernel", cfg->kernel);
	else {
		json_key(&j, "kernel");
		json_null(&j);
	}
	json_kv_str(&j, "cmdline", BL_CMDLINE);
	if (cfg->append)
		json_kv_str(&j, "append", cfg->append);
	json_kv_u64(&j, "max_vcpus", cfg->vcpus);
	json_kv_u64(&j, "ops", cfg->ops);
	json_kv_u64(&j, "mem_mib", 128);
	json_kv_u64(&j, "timeout_s", cfg->timeout_s);
	json_kv_bool(&j, "quick", cfg->quick);
	json_kv_bool(&j, "parse_only", parse);
	json_object_end(&j);
	json_key(&j, "runs");
	json_array_begin(&j);
	for (unsigned int i = 0; i < nr_runs; i++) {
		const struct bl_run *r = &runs[i];

		json_object_begin(&j);
		json_kv_str(&j, "path", r->path);
		json_kv_str(&j, "irqchip", r->user ? "user" : "kernel");
		json_kv_u64(&j, "vcpus", r->vcpus);
		json_kv_bool(&j, "hyperv", r->hyperv);
		json_kv_bool(&j, "booted", r->run);
		json_kv_str(&j, "status", r->status);
		json_kv_str(&j, "reason", r->reason);
		json_kv_i64(&j, "exit_code", r->rc);
		json_kv_str(&j, "apic", r->apic);
		json_kv_str(&j, "apic_routing", r->routing);
		json_kv_str(&j, "console", r->log);
		if (r->have_exits) {
			json_key(&j, "exits");
			json_object_begin(&j);
			json_kv_double(&j, "x2apic_icr", r->icr, 0);
			json_kv_double(&j, "vipi", r->vipi, 0);
			json_kv_double(&j, "hv_hypercall", r->hv, 0);
			json_object_end(&j);
		} else {
			json_key(&j, "exits");
			json_null(&j);
		}
		json_kv_double(&j, "wall_s", r->wall_s, 1);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "cases");
	json_array_begin(&j);
	for (unsigned int i = 0; i < nr_cases; i++) {
		const struct bl_case *c = &cases[i];
		const struct bl_run *r = &runs[c->run];

		json_object_begin(&j);
		json_kv_str(&j, "path", r->path);
		json_kv_str(&j, "irqchip", r->user ? "user" : "kernel");
		json_kv_u64(&j, "vcpus", r->vcpus);
		if (c->test[0]) {
			json_kv_str(&j, "test", c->test);
			json_kv_str(&j, "state", c->state);
			json_kv_u64(&j, "targets", c->targets);
			json_kv_u64(&j, "ops", c->ops);
		} else {
			json_key(&j, "test");
			json_null(&j);
		}
		if (c->test[0] && strcmp(c->status, "error"))
			json_kv_double(&j, "guest_ns_per_op", c->ns, 0);
		else {
			json_key(&j, "guest_ns_per_op");
			json_null(&j);
		}
		if (c->have_sender)
			json_kv_double(&j, "sender_exits_per_op", c->sender, 3);
		else {
			json_key(&j, "sender_exits_per_op");
			json_null(&j);
		}
		json_kv_str(&j, "sender_exits_how", c->sender_how);
		if (r->vipi_on && c->test[0]) {
			json_key(&j, "driver");
			json_object_begin(&j);
			json_kv_u64(&j, "calls", c->calls);
			json_kv_u64(&j, "interrupted", c->interrupted);
			json_kv_u64(&j, "deferred", c->deferred);
			json_kv_u64(&j, "fallbacks", c->fallbacks);
			json_kv_u64(&j, "tlb_resends", c->resends);
			json_object_end(&j);
		}
		json_kv_str(&j, "status", c->status);
		json_kv_str(&j, "reason", c->reason);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_kv_double(&j, "total_s", total_s, 1);
	json_object_end(&j);
	json_finish(&j);
}

/*
 * DIR/linux.svg: one panel per (vCPU count, state); in each, a group per
 * test and one bar per path and mode, guest time per op in microseconds.
 */
#define BL_PANEL_W 900
#define BL_PANEL_H 220
#define BL_PANEL_GAP 90

static const char *const bl_colors[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
};

static void bl_series_name(const struct bl_run *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", r->path, r->user ? "user" : "kernel");
}

static int bl_write_svg(const char *path, const char *machine)
{
	char series[8][40], tests[32][24];
	unsigned int ns = 0, nt, npanel = 0;
	uint32_t vc[16];
	unsigned int nvc = 0;
	FILE *f;

	for (unsigned int i = 0; i < nr_runs; i++) {
		char s[40];
		unsigned int k;

		bl_series_name(&runs[i], s, sizeof(s));
		for (k = 0; k < ns && strcmp(series[k], s); k++)
			;
		if (k == ns && ns < ARRAY_SIZE(series))
			snprintf(series[ns++], sizeof(series[0]), "%s", s);
		for (k = 0; k < nvc && vc[k] != runs[i].vcpus; k++)
			;
		if (k == nvc && nvc < ARRAY_SIZE(vc))
			vc[nvc++] = runs[i].vcpus;
	}
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif'>\n"
		"<rect width='100%%' height='100%%' fill='white'/>\n"
		"<text x='%d' y='22' font-size='16' text-anchor='middle'>vipi bench linux: guest time per operation (vipi_bench), by test and path</text>\n"
		"<text x='%d' y='40' font-size='11' text-anchor='middle'>",
		BL_PANEL_W + 120,
		80 + (int)(nvc * 2) * (BL_PANEL_H + BL_PANEL_GAP),
		(BL_PANEL_W + 120) / 2, (BL_PANEL_W + 120) / 2);
	for (const char *p = machine; *p; p++) {
		if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "</text>\n");
	for (unsigned int si = 0; si < ns; si++)
		fprintf(f,
			"<rect x='%u' y='52' width='12' height='12' fill='%s'/><text x='%u' y='62' font-size='12'>%s</text>\n",
			90 + si * 170, bl_colors[si % ARRAY_SIZE(bl_colors)],
			106 + si * 170, series[si]);
	for (unsigned int vi = 0; vi < nvc; vi++) {
		for (int busy = 0; busy < 2; busy++) {
			const char *state = busy ? "busy" : "idle";
			int y0 = 80 +
				 (int)npanel * (BL_PANEL_H + BL_PANEL_GAP) +
				 BL_PANEL_H + 20;
			int x0 = 80;
			double max = 0, gw;

			npanel++;
			nt = 0;
			for (unsigned int i = 0; i < nr_cases; i++) {
				const struct bl_case *c = &cases[i];
				unsigned int k;

				if (runs[c->run].vcpus != vc[vi] ||
				    strcmp(c->state, state) ||
				    strcmp(c->status, "pass"))
					continue;
				if (c->ns > max)
					max = c->ns;
				for (k = 0; k < nt && strcmp(tests[k], c->test);
				     k++)
					;
				if (k == nt && nt < ARRAY_SIZE(tests))
					snprintf(tests[nt++], sizeof(tests[0]),
						 "%s", c->test);
			}
			max = max > 0 ? max * 1.15 / 1e3 : 1;
			fprintf(f,
				"<text x='%d' y='%d' font-size='13'>%u vCPUs, %s targets (us per op)</text>\n"
				"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='black'/>"
				"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='black'/>\n",
				x0, y0 - BL_PANEL_H - 6, vc[vi], state, x0,
				y0 - BL_PANEL_H, x0, y0, x0, y0,
				x0 + BL_PANEL_W, y0);
			for (int t = 0; t <= 4; t++) {
				int y = y0 - BL_PANEL_H * t / 4;

				fprintf(f,
					"<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#ddd'/><text x='%d' y='%d' font-size='10' text-anchor='end'>%.4g</text>\n",
					x0, y, x0 + BL_PANEL_W, y, x0 - 4,
					y + 3, max * t / 4);
			}
			if (!nt) {
				fprintf(f,
					"<text x='%d' y='%d' font-size='11'>no passing cases</text>\n",
					x0 + 10, y0 - 10);
				continue;
			}
			gw = (double)BL_PANEL_W / nt;
			for (unsigned int ti = 0; ti < nt; ti++) {
				double bw = gw * 0.8 / (ns ? ns : 1);

				fprintf(f,
					"<text x='%.1f' y='%d' font-size='11' text-anchor='middle'>%s</text>\n",
					x0 + gw * ti + gw / 2, y0 + 14,
					tests[ti]);
				for (unsigned int i = 0; i < nr_cases; i++) {
					const struct bl_case *c = &cases[i];
					char s[40];
					unsigned int si;
					double h, bx;

					if (runs[c->run].vcpus != vc[vi] ||
					    strcmp(c->state, state) ||
					    strcmp(c->status, "pass") ||
					    strcmp(c->test, tests[ti]))
						continue;
					bl_series_name(&runs[c->run], s,
						       sizeof(s));
					for (si = 0;
					     si < ns && strcmp(series[si], s);
					     si++)
						;
					h = c->ns / 1e3 / max * BL_PANEL_H;
					bx = x0 + gw * ti + gw * 0.1 + bw * si;
					fprintf(f,
						"<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/><text x='%.1f' y='%.1f' font-size='8' text-anchor='middle'>%.0f</text>\n",
						bx, y0 - h, bw * 0.9, h,
						bl_colors[si %
							  ARRAY_SIZE(bl_colors)],
						bx + bw * 0.45, y0 - h - 2,
						c->ns / 1e3);
				}
			}
		}
	}
	fprintf(f, "</svg>\n");
	if (fclose(f))
		return -errno;
	return 0;
}

/* --parse FILE.log...: path from the console, mode from FILE.json */
static int bl_parse_mode(int argc, char **argv, int first,
			 const struct bl_cfg *cfg)
{
	for (int i = first; i < argc; i++) {
		char *console = bl_read_file(argv[i]), *js = NULL;
		char jpath[4096];
		size_t l = strlen(argv[i]);
		unsigned int ri;
		struct bl_run *r;
		uint64_t v = 0;
		const char *h;

		if (!console)
			return util_fail("bench linux", "cannot read %s: %s",
					 argv[i], strerror(errno));
		if (l > 4 && !strcmp(argv[i] + l - 4, ".log")) {
			snprintf(jpath, sizeof(jpath), "%.*s.json",
				 (int)(l - 4), argv[i]);
			js = bl_read_file(jpath);
		}
		h = strstr(console, "vipi_bench: cpus=");
		if (h)
			bl_kv_u64(h + 12, "cpus", &v);
		ri = bl_add_run(
			"x2apic-phys",
			!js || !strstr(js, "\"irqchip\":\"kernel\""),
			strstr(console,
			       "Hypervisor detected: Microsoft Hyper-V") !=
				NULL,
			h && strstr(h, "vipi_ipi=1"), (uint32_t)v);
		r = &runs[ri];
		if (r->vipi_on)
			r->path = "vipi";
		else if (r->hyperv)
			r->path = "hv";
		snprintf(r->log, sizeof(r->log), "%s", argv[i]);
		bl_finish_run(ri, console, js);
		free(console);
		free(js);
	}
	bl_write_json(stdout, cfg, true, 0);
	return VIPI_EXIT_OK;
}

int cmd_bench_linux(int argc, char **argv)
{
	struct bl_cfg cfg;
	char kbuf[4096], path[4096], machine[256];
	const char *paths = NULL;
	bool have_vcpus = false, have_ops = false;
	uint64_t t0 = bl_now_ns();
	unsigned int failed = 0, booted = 0;
	FILE *f;
	int r;

	if (util_wants_help(argc, argv)) {
		fputs(bl_usage, stdout);
		return VIPI_EXIT_OK;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = "vipi-out";
	cfg.timeout_s = 600;
	nr_runs = nr_cases = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--parse")) {
			cfg.ops = 0;
			return bl_parse_mode(argc, argv, i + 1, &cfg);
		}
		if (!strcmp(a, "--quick") || !strcmp(a, "-q")) {
			cfg.quick = true;
			continue;
		}
		if (!v)
			return util_usage_error(
				"bench linux", bl_usage,
				"%s needs a value (or unknown option)", a);
		if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
			cfg.dir = v;
		} else if (!strcmp(a, "--kernel")) {
			cfg.kernel = v;
		} else if (!strcmp(a, "--append")) {
			cfg.append = v;
		} else if (!strcmp(a, "--paths")) {
			paths = v;
		} else if (!strcmp(a, "--vcpus")) {
			if (util_parse_u32(v, &cfg.vcpus) || cfg.vcpus < 2 ||
			    cfg.vcpus > 64)
				return util_usage_error("bench linux", bl_usage,
							"--vcpus '%s': 2-64",
							v);
			have_vcpus = true;
		} else if (!strcmp(a, "--ops")) {
			if (util_parse_u32(v, &cfg.ops) || !cfg.ops ||
			    cfg.ops > 100000)
				return util_usage_error("bench linux", bl_usage,
							"--ops '%s': 1-100000",
							v);
			have_ops = true;
		} else if (!strcmp(a, "--timeout")) {
			if (util_parse_u32(v, &cfg.timeout_s) || !cfg.timeout_s)
				return util_usage_error("bench linux", bl_usage,
							"--timeout '%s'", v);
		} else {
			return util_usage_error("bench linux", bl_usage,
						"unknown option '%s'", a);
		}
		i++;
	}
	if (!have_ops)
		cfg.ops = cfg.quick ? 5 : 20;
	if (!have_vcpus)
		cfg.vcpus = cfg.quick ? 2 : 4;
	if (!paths)
		paths = cfg.quick ? "x2apic-phys,vipi,kernel" :
				    "x2apic-phys,x2apic-cluster,hv,vipi,kernel";
	{
		char copy[256], *tok, *save = NULL;

		snprintf(copy, sizeof(copy), "%s", paths);
		for (tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			unsigned int k;

			for (k = 0; k < 5 && strcmp(tok, bl_path_names[k]); k++)
				;
			if (k == 5)
				return util_usage_error(
					"bench linux", bl_usage,
					"--paths: unknown path '%s'", tok);
			cfg.want[k] = true;
		}
	}
	if (!cfg.kernel) {
		cfg.kernel = bl_find_kernel(kbuf, sizeof(kbuf));
		if (!cfg.kernel)
			return util_fail(
				"bench linux",
				"no kernel: none of %s exists; build one with linux/build-kernel.sh [DIR] (docs/linux.md) or pass --kernel FILE",
				BL_KERNEL_GLOB);
	}
	if (access(cfg.kernel, R_OK))
		return util_fail("bench linux", "--kernel %s: %s", cfg.kernel,
				 strerror(errno));
	if (access("/dev/kvm", R_OK | W_OK))
		return util_fail("bench linux",
				 "/dev/kvm: %s: every case boots a kernel",
				 strerror(errno));
	if (mkdir(cfg.dir, 0755) && errno != EEXIST)
		return util_fail("bench linux", "cannot create %s: %s", cfg.dir,
				 strerror(errno));
	{
		/* the summary line only; linux.json writes the object again */
		FILE *nul = fopen("/dev/null", "w");
		struct json j;

		machine[0] = '\0';
		if (nul) {
			json_init(&j, nul, false);
			json_object_begin(&j);
			bench_machine_json(&j, machine, sizeof(machine));
			json_object_end(&j);
			fclose(nul);
		}
	}
	printf("vipi bench linux: %s\nkernel %s, %u ops per test, vCPUs 2..%u\n",
	       machine, cfg.kernel, cfg.ops, cfg.vcpus);
	if (sysconf(_SC_NPROCESSORS_ONLN) < (long)cfg.vcpus)
		printf("note: %ld host CPUs for up to %u vCPUs: busy tests with more vCPUs than host CPUs measure host scheduling\n",
		       sysconf(_SC_NPROCESSORS_ONLN), cfg.vcpus);
	fflush(stdout);
	for (uint32_t n = 2; n <= cfg.vcpus; n++) {
		if (!cfg.quick && !have_vcpus && n == 3)
			continue; /* default: 2 and 4 */
		if (cfg.want[0])
			bl_boot(bl_add_run("x2apic-phys", true, false, false,
					   n),
				&cfg);
		if (cfg.want[1])
			bl_cluster_unsupported(bl_add_run(
				"x2apic-cluster", true, false, false, n));
		if (cfg.want[2])
			bl_boot(bl_add_run("hv", true, true, false, n), &cfg);
		if (cfg.want[3])
			bl_boot(bl_add_run("vipi", true, false, true, n), &cfg);
		if (cfg.want[4])
			bl_boot(bl_add_run("x2apic-phys", false, false, false,
					   n),
				&cfg);
		for (unsigned int i = 0; i < nr_runs; i++)
			if (runs[i].vcpus == n)
				fprintf(stderr, "  %s %s %u: %s%s%s (%.0f s)\n",
					runs[i].path,
					runs[i].user ? "user" : "kernel", n,
					runs[i].status,
					strcmp(runs[i].status, "pass") ? ": " :
									 "",
					strcmp(runs[i].status, "pass") ?
						runs[i].reason :
						"",
					runs[i].wall_s);
	}
	for (unsigned int i = 0; i < nr_runs; i++)
		if (!strcmp(runs[i].status, "fail") ||
		    !strcmp(runs[i].status, "error"))
			failed++;
	printf("\n");
	bl_print_table();
	snprintf(path, sizeof(path), "%s/linux.json", cfg.dir);
	f = fopen(path, "w");
	if (!f)
		return util_fail("bench linux", "cannot write %s: %s", path,
				 strerror(errno));
	bl_write_json(f, &cfg, false, (double)(bl_now_ns() - t0) / 1e9);
	if (fclose(f))
		return util_fail("bench linux", "cannot write %s", path);
	snprintf(path, sizeof(path), "%s/linux.svg", cfg.dir);
	r = bl_write_svg(path, machine);
	if (r)
		return util_fail("bench linux", "cannot write %s: %s", path,
				 strerror(-r));
	for (unsigned int i = 0; i < nr_runs; i++)
		booted += runs[i].run;
	printf("\nvipi bench linux: %u boots, %u failed, %u unsupported, %.0f s; %s/linux.json, %s/linux.svg\n",
	       booted, failed, nr_runs - booted,
	       (double)(bl_now_ns() - t0) / 1e9, cfg.dir, cfg.dir);
	return failed ? VIPI_EXIT_FAIL : VIPI_EXIT_OK;
}
