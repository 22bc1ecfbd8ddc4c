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

#include "cmds.h"
#include "../prog/json.h"
#include "../prog/machine.h"
#include "../prog/opt.h"
#include "../prog/util.h"
#include "vmm.h"

static const char bl_usage[] =
	"usage: vipi bench linux [--vcpus N|LIST] [--kernel FILE] [--out DIR]\n"
	"                        [--paths LIST] [--layouts LIST] [--ops K]\n"
	"                        [--timeout S] [--append ARGS] [--quick]\n"
	"\n"
	"Boots the kernel of linux/build-kernel.sh with vipi_bench=1 once per\n"
	"path and vCPU count (2..N) and reports the guest's own IPI timings:\n"
	"a table on stdout, DIR/linux.json and DIR/linux.svg (DIR defaults to\n"
	"./vipi-out; each boot's console is kept as DIR/linux-*.log).\n"
	"\n"
	"  --vcpus N      vCPU counts 2..N (default 2,4: the host has 2 cores),\n"
	"                 or a list of counts and ranges: 2,4,200 or 4-4\n"
	"                 (at most 16 counts, each up to 256)\n"
	"  --kernel FILE  bzImage (default: the newest\n"
	"                 /work/peer/lnx*/build/arch/x86/boot/bzImage)\n"
	"  --paths LIST   x2apic-phys,x2apic-cluster,hv,vipi,kernel (default\n"
	"                 all; kernel = x2apic-phys with --irqchip kernel)\n"
	"  --layouts LIST APIC-ID layouts, each booted (default dense):\n"
	"                 dense, stride:S, sparse15:SEED (random IDs below\n"
	"                 32768, Linux 6.1's limit), sparse:SEED (32-bit)\n"
	"  --ops K        operations per test (default 20; 5 with --quick)\n"
	"  --timeout S    per boot (default 600)\n"
	"  --append ARGS  more kernel command line\n"
	"  --quick        2 vCPUs, 5 ops, x2apic-phys, vipi and kernel\n"
	"\n"
	"VIPI_KVM_DEVICE=PATH: the device checked (and opened by each boot)\n"
	"instead of /dev/kvm.\n";

#define BL_CMDLINE                                                        \
	"console=ttyS0 noxsave clearcpuid=ssse3,invpcid mitigations=off " \
	"tsc=reliable highres=off nohz=off panic=-1"
#define BL_MAX_RUNS 64
#define BL_MAX_CASES 1024
#define BL_MAX_CPUS 256 /* linux/vipi.config's NR_CPUS */
#define BL_NR_ENC 6
#define BL_KERNEL_GLOB "/work/peer/lnx*/build/arch/x86/boot/bzImage"

/*
 * The methods whose sender exits `vipi encode` counts on each case's set
 * (the guest's own CPU -> APIC ID map): measured paths cross-checked, the
 * others (a KVM-style 128-ID window, cluster mode) predicted.
 */
static const char *const bl_enc_methods[BL_NR_ENC] = {
	"x2apic-phys", "x2apic-cluster", "kvm-pv-linux",
	"kvm-pv",      "hv-linux",	 "vipi",
};

/* One boot: a path in one irqchip mode with n vCPUs. */
struct bl_run {
	const char *path; /* x2apic-phys x2apic-cluster hv vipi */
	bool user;
	bool hyperv;
	bool vipi_on; /* the driver is expected on */
	bool run; /* false: unsupported, never booted */
	uint32_t vcpus;
	char layout[32]; /* dense, stride:S, sparse15:SEED, sparse:SEED */
	char topo[4096]; /* its --topology for this vCPU count */
	/* the guest's "cpu=N apicid=X" lines; sender from the header */
	uint32_t apicid[BL_MAX_CPUS];
	uint32_t nr_map;
	int sender;
	unsigned int skipped_ids; /* "skipped apicid that is too big" */
	bool refused; /* vipi run refused it before a VM (exit 2) */
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
	char test[24]; /* unicast many:K strided:K broadcast shootdown tlbcheck */
	char state[8];
	uint32_t targets, ops;
	double ns;
	uint64_t calls, fallbacks, resends, deferred, interrupted;
	uint64_t form[5]; /* the driver's calls by form */
	uint64_t all_calls; /* every CPU's calls (0: an older kernel) */
	int64_t enc[BL_NR_ENC]; /* vipi encode's exits; -1 unknown */
	/* tlbcheck: the stale-translation check's own counts */
	bool tlbcheck;
	uint64_t tc_readers, tc_rounds, tc_of, tc_reads, tc_stale, tc_faults,
		tc_stalled, tc_flushes;
	uint64_t tc_plant; /* plant=1: the planted missing flush */
	/* nmi: the "nmis=R lost=L of N" line (NMIs counted by the targets) */
	bool have_nmi;
	uint64_t nmi_recv, nmi_lost, nmi_of;
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
	uint32_t vcpu_list[16]; /* --vcpus LIST; 0 entries: 2..vcpus */
	unsigned int nr_vcpu_list;
	const char *layouts;
	uint32_t ops;
	uint32_t timeout_s;
	bool quick;
	bool want[5]; /* x2apic-phys x2apic-cluster hv vipi kernel */
};

static const char *const bl_path_names[5] = {
	"x2apic-phys", "x2apic-cluster", "hv", "vipi", "kernel",
};

/* SIGINT / SIGTERM: stop the boot under way, keep what finished */
static volatile sig_atomic_t bl_interrupted;

static void bl_on_signal(int sig)
{
	bl_interrupted = sig;
}

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
	for (unsigned int k = 0; k < BL_NR_ENC; k++)
		c->enc[k] = -1;
	return c;
}

/*
 * "test=nmi state=S nmis=R lost=L of N", after the nmi test's own line:
 * R NMIs counted by the targets, L not counted within 1 s, N sent.
 */
static void bl_parse_nmis(const char *b, unsigned int ri)
{
	char st[8] = "";
	const char *p;

	bl_kv_word(b, "state", st, sizeof(st));
	for (unsigned int i = nr_cases; i-- > 0;) {
		struct bl_case *c = &cases[i];

		if (c->run != ri)
			break;
		if (strcmp(c->test, "nmi") || strcmp(c->state, st) ||
		    c->have_nmi)
			continue;
		c->have_nmi = bl_kv_u64(b, "nmis", &c->nmi_recv) &&
			      bl_kv_u64(b, "lost", &c->nmi_lost) &&
			      (p = strstr(b, " of ")) &&
			      (c->nmi_of = strtoull(p + 4, NULL, 10)) > 0;
		if (!c->have_nmi) {
			snprintf(c->status, sizeof(c->status), "error");
			snprintf(c->reason, sizeof(c->reason),
				 "malformed nmis line");
		} else if (c->nmi_lost || c->nmi_recv != c->nmi_of) {
			snprintf(c->status, sizeof(c->status), "fail");
			snprintf(c->reason, sizeof(c->reason),
				 "NMIs: %llu counted, %llu lost, of %llu sent",
				 (unsigned long long)c->nmi_recv,
				 (unsigned long long)c->nmi_lost,
				 (unsigned long long)c->nmi_of);
		}
		return;
	}
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
	r->sender = -1;
	r->nr_map = 0;
	r->skipped_ids = 0;
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
		if (strstr(buf, "skipped apicid that is too big") ||
		    strstr(buf, "native_cpu_up: bad cpu")) {
			r->skipped_ids++;
			continue;
		}
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
			if (bl_kv_u64(b, "sender", &v) && v < BL_MAX_CPUS)
				r->sender = (int)v;
			if (a && e && e > a)
				snprintf(r->apic, sizeof(r->apic), "%.*s",
					 (int)(e - a - 6), a + 6);
		} else if (!strncmp(b, "cpu=", 4)) {
			uint64_t cpu;
			const char *a = strstr(b, " apicid=");
			char *end;
			unsigned long long id;

			/* in CPU order: "cpu=N apicid=0xX" (hex from %#x) */
			if (!bl_kv_u64(b, "cpu", &cpu) || !a ||
			    cpu != r->nr_map || cpu >= BL_MAX_CPUS)
				continue;
			errno = 0;
			id = strtoull(a + 8, &end, 0);
			if (end == a + 8 || errno || id > UINT32_MAX)
				continue;
			r->apicid[r->nr_map++] = (uint32_t)id;
		} else if (!strncmp(b, "tlbcheck mode=", 14)) {
			struct bl_case *c = bl_new_case(ri);
			char mode[8] = "";
			uint64_t err = 1, ns = 0;

			if (!c)
				continue;
			c->tlbcheck = true;
			bl_kv_word(b, "mode", mode, sizeof(mode));
			snprintf(c->test, sizeof(c->test), "tlbcheck");
			snprintf(c->state, sizeof(c->state), "%s", mode);
			bl_kv_u64(b, "readers", &c->tc_readers);
			bl_kv_u64(b, "rounds", &c->tc_rounds);
			/* "rounds=R of N" */
			if ((p = strstr(b, " rounds=")) &&
			    (p = strstr(p, " of ")))
				c->tc_of = strtoull(p + 4, NULL, 10);
			bl_kv_u64(b, "reads", &c->tc_reads);
			bl_kv_u64(b, "stale", &c->tc_stale);
			bl_kv_u64(b, "faults", &c->tc_faults);
			bl_kv_u64(b, "stalled", &c->tc_stalled);
			bl_kv_u64(b, "tlb_flushes", &c->tc_flushes);
			bl_kv_u64(b, "plant", &c->tc_plant);
			bl_kv_u64(b, "interrupted", &c->interrupted);
			bl_kv_u64(b, "deferred", &c->deferred);
			bl_kv_u64(b, "tlb_resends", &c->resends);
			bl_kv_u64(b, "fallbacks", &c->fallbacks);
			bl_kv_u64(b, "ns", &ns);
			c->targets = (uint32_t)c->tc_readers;
			c->ops = (uint32_t)c->tc_rounds;
			c->ns = c->tc_rounds ? (double)ns / c->tc_rounds : 0;
			/* err= is printed as a signed number: "err=0" only */
			if (!bl_kv_u64(b, "err", &err))
				err = 1;
			/* every reader checks once per phase, two per round */
			if (strcmp(mode, "busy") && strcmp(mode, "halt")) {
				snprintf(c->status, sizeof(c->status), "error");
				snprintf(c->reason, sizeof(c->reason),
					 "malformed tlbcheck line");
			} else if (c->tc_stale || c->tc_faults ||
				   c->tc_stalled || err || !c->tc_rounds ||
				   c->tc_rounds != c->tc_of ||
				   c->tc_reads !=
					   2 * c->tc_rounds * c->tc_readers) {
				snprintf(c->status, sizeof(c->status), "fail");
				snprintf(
					c->reason, sizeof(c->reason),
					"stale=%llu faults=%llu stalled=%llu err=%s rounds %llu of %llu, %llu checked reads of %llu",
					(unsigned long long)c->tc_stale,
					(unsigned long long)c->tc_faults,
					(unsigned long long)c->tc_stalled,
					err ? "set" : "0",
					(unsigned long long)c->tc_rounds,
					(unsigned long long)c->tc_of,
					(unsigned long long)c->tc_reads,
					(unsigned long long)(2 * c->tc_rounds *
							     c->tc_readers));
			}
		} else if (!strncmp(b, "test=nmi ", 9) && strstr(b, " nmis=")) {
			bl_parse_nmis(b, ri);
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
			bl_kv_u64(b, "all_calls", &c->all_calls);
			bl_kv_u64(b, "blocks", &c->form[0]);
			bl_kv_u64(b, "range", &c->form[1]);
			bl_kv_u64(b, "desc", &c->form[2]);
			bl_kv_u64(b, "all", &c->form[3]);
			bl_kv_u64(b, "allbutself", &c->form[4]);
			if (!strcmp(t, "many") || !strcmp(t, "strided"))
				snprintf(c->test, sizeof(c->test), "%s:%u", t,
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
	if (r->skipped_ids &&
	    (r->hdr_cpus < 0 || (uint32_t)r->hdr_cpus != r->vcpus)) {
		snprintf(
			why, len,
			"Linux refused %u CPUs by APIC ID (\"native_cpu_up: bad cpu\": above 255 without MSI extended destination IDs; \"skipped apicid\": 32768 and above)",
			r->skipped_ids);
		return false;
	}
	if (r->hdr_cpus < 0) {
		snprintf(why, len, "no vipi_bench header on the console");
		return false;
	}
	if ((uint32_t)r->hdr_cpus != r->vcpus) {
		snprintf(
			why, len, "the guest has %d CPUs online, not %u%s",
			r->hdr_cpus, r->vcpus,
			r->skipped_ids ?
				": Linux refused CPUs by APIC ID (\"skipped apicid\" or \"bad cpu\")" :
				"");
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
 * one call; hyperv_flush_tlb_multi flushes in one). The nmi test calls
 * apic->send_IPI_mask(): x2APIC physical writes the ICR once per target
 * (no shorthand there), and so does the Hyper-V path, which sends no
 * NMIs by hypercall (vectors below 0x10) and falls back to the x2APIC.
 * The whole run's VMM exit counter bounds the sum of the predictions
 * (+1 warm-up op each).
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
		if (c->tlbcheck) {
			snprintf(
				c->sender_how, sizeof(c->sender_how),
				"not an IPI test: the stale-translation check");
			continue;
		}
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
		if ((x2 || hv) && !strcmp(c->test, "nmi")) {
			c->sender = c->targets;
			c->have_sender = true;
			if (x2)
				predicted += c->sender * (c->ops + 1);
			snprintf(
				c->sender_how, sizeof(c->sender_how), "%s",
				x2 ? "one ICR write per target (apic->send_IPI_mask)" :
				     "one ICR write per target (Linux's Hyper-V path falls back to the x2APIC for NMIs); not cross-checked (ICR writes, not hypercalls)");
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

		if (c->run != ri || !c->have_sender ||
		    (hv && !strcmp(c->test, "nmi")))
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

/*
 * The CPUs a test sent to, as vipi_bench.c picks them: the first K CPUs
 * other than the sender (unicast, many, shootdown, broadcast), or every
 * other one of them (strided). Returns how many, -1 if it cannot tell.
 */
static int bl_case_cpus(const struct bl_run *r, const struct bl_case *c,
			char *buf, size_t len)
{
	bool strided = !strncmp(c->test, "strided:", 8);
	struct vipi_cpuset set;
	int n = 0, others = 0;

	buf[0] = '\0';
	if (r->sender < 0 || r->nr_map != r->vcpus || c->tlbcheck ||
	    vipi_cpuset_init(&set, r->nr_map))
		return -1;
	for (uint32_t cpu = 0; cpu < r->nr_map; cpu++) {
		if ((int)cpu == r->sender)
			continue;
		if (strided ? (others++ & 1) : (uint32_t)n == c->targets)
			continue;
		if (vipi_cpuset_add(&set, cpu)) {
			n = -1;
			break;
		}
		n++;
	}
	if (n >= 0 && vipi_cpuset_format(&set, buf, len) >= len)
		n = -1;
	vipi_cpuset_destroy(&set);
	return n;
}

/* "exits":N of `vipi encode --json` for method on cpus; -1 on error */
static int64_t bl_encode_one(const char *topo, int sender, const char *method,
			     bool nmi, const char *cpus)
{
	char *cmd, line[512];
	size_t len = strlen(topo) + strlen(cpus) + 128;
	int64_t exits = -1;
	const char *p;
	FILE *f;

	char self[64];
	int sl;

	/*
	 * This very binary, through /proc/PID/exe (the shell popen() runs
	 * would see itself in /proc/self/exe): it works even when the file
	 * was replaced on disk during a long run (a rebuild), where the path
	 * readlink() gives would run another build or nothing.
	 */
	sl = snprintf(self, sizeof(self), "/proc/%ld/exe", (long)getpid());
	if (sl <= 0 || (size_t)sl >= sizeof(self))
		return -1;
	len += (size_t)sl;
	cmd = malloc(len);
	if (!cmd)
		return -1;
	snprintf(cmd, len, "'%s' encode --json -t %s -s %d%s %s %s 2>/dev/null",
		 self, topo, sender, nmi ? " --nmi" : "", method, cpus);
	f = popen(cmd, "r");
	free(cmd);
	if (!f)
		return -1;
	/* the first 512 bytes hold "exits" (before the "ops" array) */
	if (fgets(line, sizeof(line), f) && (p = strstr(line, "\"exits\":")))
		exits = strtoll(p + 8, NULL, 10);
	while (fgets(line, sizeof(line), f))
		;
	if (pclose(f))
		exits = -1;
	return exits;
}

/*
 * Each test's set in the guest's own APIC IDs through `vipi encode`: the
 * exits every method would need for it (docs/linux.md).
 */
static void bl_encode(unsigned int ri)
{
	struct bl_run *r = &runs[ri];
	char topo[4096], cpus[2048];
	size_t l;

	if (r->nr_map != r->vcpus || r->sender < 0)
		return;
	l = (size_t)snprintf(topo, sizeof(topo), "x86:ids:");
	for (uint32_t i = 0; i < r->nr_map && l < sizeof(topo); i++)
		l += (size_t)snprintf(topo + l, sizeof(topo) - l, "%s%#x",
				      i ? "," : "", r->apicid[i]);
	if (l >= sizeof(topo))
		return;
	for (unsigned int i = 0; i < nr_cases; i++) {
		struct bl_case *c = &cases[i];

		if (c->run != ri || !c->test[0] || c->tlbcheck ||
		    bl_case_cpus(r, c, cpus, sizeof(cpus)) != (int)c->targets ||
		    !c->targets)
			continue;
		for (unsigned int k = 0; k < BL_NR_ENC; k++)
			c->enc[k] = bl_encode_one(topo, r->sender,
						  bl_enc_methods[k],
						  !strcmp(c->test, "nmi"),
						  cpus);
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
	if (r->rc == 2 && console && !strncmp(console, "vipi run: ", 10)) {
		/* refused before a VM existed (run_check): the host's limit */
		snprintf(why, sizeof(why), "%.*s", (int)strcspn(console, "\n"),
			 console);
		r->refused = true;
		ok = false;
	}
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

		if (!c->status[0] && !strcmp(c->test, "nmi") && !c->have_nmi) {
			snprintf(c->status, sizeof(c->status), "fail");
			snprintf(
				c->reason, sizeof(c->reason),
				"no \"nmis=\" line: the NMIs' receipt is unknown");
		}
		if (c->status[0])
			continue;
		if (ok) {
			snprintf(c->status, sizeof(c->status), "pass");
		} else {
			snprintf(c->status, sizeof(c->status), "%s",
				 r->skipped_ids || r->refused ? "unsupported" :
								"fail");
			snprintf(c->reason, sizeof(c->reason), "%s", why);
		}
	}
	snprintf(r->status, sizeof(r->status),
		 ok			      ? "pass" :
		 r->skipped_ids || r->refused ? "unsupported" :
						"fail");
	if (!ok)
		snprintf(r->reason, sizeof(r->reason), "%s", why);
	if (first == nr_cases) {
		struct bl_case *c = bl_new_case(ri);

		if (c) {
			snprintf(c->status, sizeof(c->status),
				 r->skipped_ids || r->refused ? "unsupported" :
				 r->rc < 0 || !console	      ? "error" :
								"fail");
			snprintf(c->reason, sizeof(c->reason),
				 "no benchmark lines: %s", why);
		}
	}
	bl_derive(ri);
	bl_encode(ri);
}

/*
 * The --topology of a layout for n vCPUs (docs/linux.md): dense, stride:S,
 * sparse:SEED (32-bit IDs, vipi topo's generator) or sparse15:SEED
 * (distinct pseudo-random IDs below 32768, Linux 6.1's MAX_LOCAL_APIC:
 * acpi_register_lapic() skips larger ones). 0, or -EINVAL.
 */
static int bl_layout_topo(const char *layout, uint32_t n, char *buf, size_t len)
{
	uint32_t v;
	char *end;

	if (!strcmp(layout, "dense")) {
		snprintf(buf, len, "x86:dense:%u", n);
		return 0;
	}
	if (!strncmp(layout, "stride:", 7)) {
		if (util_parse_u32(layout + 7, &v) || v < 1 || v > 4096)
			return -EINVAL;
		snprintf(buf, len, "x86:stride:%u:%u", n, v);
		return 0;
	}
	if (!strncmp(layout, "sparse:", 7)) {
		if (util_parse_u32(layout + 7, &v))
			return -EINVAL;
		snprintf(buf, len, "x86:sparse:%u:%u", n, v);
		return 0;
	}
	if (!strncmp(layout, "sparse15:", 9)) {
		uint64_t x;
		uint32_t ids[BL_MAX_CPUS], got = 0;
		size_t l;

		errno = 0;
		x = strtoull(layout + 9, &end, 0);
		if (end == layout + 9 || *end || errno || n > BL_MAX_CPUS)
			return -EINVAL;
		x = x * 0x9e3779b97f4a7c15ull + 1; /* never 0 for xorshift */
		l = (size_t)snprintf(buf, len, "x86:ids:");
		while (got < n) {
			uint32_t id, k;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			id = (uint32_t)(x >> 40) & 0x7fff;
			for (k = 0; k < got && ids[k] != id; k++)
				;
			if (k < got)
				continue;
			ids[got++] = id;
			l += (size_t)snprintf(buf + l, len > l ? len - l : 0,
					      "%s%#x", got > 1 ? "," : "", id);
		}
		return l < len ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* layout NULL: a console parsed by --parse (the map says the IDs) */
static unsigned int bl_add_run(const char *path, bool user, bool hyperv,
			       bool vipi_on, uint32_t vcpus, const char *layout)
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
	snprintf(r->layout, sizeof(r->layout), "%s", layout ? layout : "-");
	if (!layout || bl_layout_topo(layout, vcpus, r->topo, sizeof(r->topo)))
		r->topo[0] = '\0';
	return nr_runs++;
}

/* progress over the boots of one `vipi bench linux` */
static unsigned int bl_planned, bl_done_boots;
static uint64_t bl_t0;
static int bl_save(const struct bl_cfg *cfg, uint64_t t0, bool complete);

static void bl_boot_one(unsigned int ri, const struct bl_cfg *cfg);

/*
 * One boot, with a progress line (k of N, and an estimate of what is
 * left from the boots so far) and DIR/linux.json rewritten after it, so
 * an interruption or a crash keeps every boot that finished.
 */
static void bl_boot(unsigned int ri, const struct bl_cfg *cfg)
{
	double spent = (double)(bl_now_ns() - bl_t0) / 1e9;

	if (bl_interrupted) {
		/* not booted: drop the run bl_add_run() just made */
		if (ri + 1 == nr_runs)
			nr_runs--;
		return;
	}
	fprintf(stderr, "vipi bench linux: boot %u of %u", bl_done_boots + 1,
		bl_planned);
	if (bl_done_boots)
		fprintf(stderr, ", about %.0f s left",
			spent / bl_done_boots * (bl_planned - bl_done_boots));
	fprintf(stderr, "\n");
	bl_boot_one(ri, cfg);
	if (bl_interrupted) {
		struct bl_run *r = &runs[ri];

		snprintf(r->status, sizeof(r->status), "interrupted");
		snprintf(r->reason, sizeof(r->reason),
			 "stopped by signal %d after %.0f s",
			 (int)bl_interrupted, r->wall_s);
		for (unsigned int i = 0; i < nr_cases; i++)
			if (cases[i].run == ri) {
				snprintf(cases[i].status,
					 sizeof(cases[i].status),
					 "interrupted");
				snprintf(cases[i].reason,
					 sizeof(cases[i].reason), "%s",
					 r->reason);
			}
	}
	bl_done_boots++;
	bl_save(cfg, bl_t0, false);
}

/* One boot as a child `vipi run`, stdout and stderr to files. */
static void bl_boot_one(unsigned int ri, const struct bl_cfg *cfg)
{
	struct bl_run *r = &runs[ri];
	char vc[16], tmo[16], mem[16], cmdline[1024], tag[48];
	char *argv[28];
	unsigned int n = 0;
	uint64_t t0 = bl_now_ns(), deadline;
	int status = 0;
	pid_t pid;

	snprintf(vc, sizeof(vc), "%u", r->vcpus);
	/* 128 MiB, and 1 MiB more per vCPU for Linux's per-CPU areas */
	snprintf(mem, sizeof(mem), "%u", 128 + r->vcpus);
	if (strcmp(r->layout, "dense"))
		snprintf(tag, sizeof(tag), "-%s", r->layout);
	else
		tag[0] = '\0';
	for (char *t = tag; *t; t++)
		if (*t == ':')
			*t = '_';
	snprintf(tmo, sizeof(tmo), "%u", cfg->timeout_s);
	snprintf(cmdline, sizeof(cmdline),
		 "%s vipi_bench=1 vipi_bench_ops=%u%s%s%s", BL_CMDLINE,
		 cfg->ops,
		 r->vipi_on || !r->user ? "" : " vipi.ipi=0 vipi.tlb=0",
		 cfg->append ? " " : "", cfg->append ? cfg->append : "");
	snprintf(r->log, sizeof(r->log), "%s/linux-%s-%s-%u%s.log", cfg->dir,
		 r->path, r->user ? "user" : "kernel", r->vcpus, tag);
	snprintf(r->json, sizeof(r->json), "%s/linux-%s-%s-%u%s.json", cfg->dir,
		 r->path, r->user ? "user" : "kernel", r->vcpus, tag);
	argv[n++] = "vipi";
	argv[n++] = "run";
	argv[n++] = "--kernel";
	argv[n++] = (char *)cfg->kernel;
	argv[n++] = "--irqchip";
	argv[n++] = r->user ? "user" : "kernel";
	argv[n++] = "--vcpus";
	argv[n++] = vc;
	argv[n++] = "--topology";
	argv[n++] = r->topo;
	argv[n++] = "--mem";
	argv[n++] = mem;
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
		if (bl_now_ns() > deadline || bl_interrupted) {
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
		} else if (r->rc < 0 && bl_interrupted) {
			snprintf(
				r->reason, sizeof(r->reason),
				"interrupted (signal %d): the boot was stopped",
				(int)bl_interrupted);
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
	bool any_enc = false;

	printf("%-11s %-6s %5s %-11s %-13s %-4s %7s %10s %8s  %s\n", "path",
	       "irqchip", "vcpus", "layout", "test", "state", "targets",
	       "us/op", "exits/op", "status");
	for (unsigned int i = 0; i < nr_cases; i++) {
		const struct bl_case *c = &cases[i];
		const struct bl_run *r = &runs[c->run];
		char ns[32], ex[32];

		any_enc |= c->enc[0] >= 0;
		bl_fmt_ns(ns, sizeof(ns), c);
		if (c->have_sender)
			snprintf(ex, sizeof(ex), "%.2f", c->sender);
		else
			snprintf(ex, sizeof(ex), c->tlbcheck ? "-" : "null");
		printf("%-11s %-6s %5u %-11s %-13s %-4s %7u %10s %8s  %s%s%s\n",
		       r->path, r->user ? "user" : "kernel", r->vcpus,
		       r->layout, c->test[0] ? c->test : "-",
		       c->state[0] ? c->state : "-", c->targets, ns, ex,
		       c->status, strcmp(c->status, "pass") ? ": " : "",
		       strcmp(c->status, "pass") ? c->reason : "");
	}
	if (!any_enc)
		return;
	/* once per set: the first passing case of each (vcpus, layout, test) */
	printf("\nSender exits per operation on the same sets, from `vipi encode` with the guest's APIC IDs:\n");
	printf("%5s %-11s %-13s %7s", "vcpus", "layout", "test", "targets");
	for (unsigned int k = 0; k < BL_NR_ENC; k++)
		printf(" %14s", bl_enc_methods[k]);
	printf("\n");
	for (unsigned int i = 0; i < nr_cases; i++) {
		const struct bl_case *c = &cases[i];
		const struct bl_run *r = &runs[c->run];
		bool dup = false;

		if (c->enc[0] < 0 || strcmp(c->state, "idle"))
			continue;
		for (unsigned int p = 0; p < i && !dup; p++)
			dup = cases[p].enc[0] >= 0 &&
			      runs[cases[p].run].vcpus == r->vcpus &&
			      !strcmp(runs[cases[p].run].layout, r->layout) &&
			      !strcmp(cases[p].test, c->test) &&
			      cases[p].targets == c->targets &&
			      !strcmp(cases[p].state, c->state);
		if (dup)
			continue;
		printf("%5u %-11s %-13s %7u", r->vcpus, r->layout, c->test,
		       c->targets);
		/* -1: the method cannot send this set (hv-linux: an NMI) */
		for (unsigned int k = 0; k < BL_NR_ENC; k++)
			if (c->enc[k] < 0)
				printf(" %14s", "-");
			else
				printf(" %14lld", (long long)c->enc[k]);
		printf("\n");
	}
}

static void bl_write_json(FILE *f, const struct bl_cfg *cfg, bool parse,
			  double total_s, bool complete)
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
	/* false while boots are still to come, or after an interruption */
	json_kv_bool(&j, "complete", complete);
	json_object_end(&j);
	json_key(&j, "runs");
	json_array_begin(&j);
	for (unsigned int i = 0; i < nr_runs; i++) {
		const struct bl_run *r = &runs[i];

		json_object_begin(&j);
		json_kv_str(&j, "path", r->path);
		json_kv_str(&j, "irqchip", r->user ? "user" : "kernel");
		json_kv_u64(&j, "vcpus", r->vcpus);
		json_kv_str(&j, "layout", r->layout);
		json_kv_str(&j, "topology", r->topo);
		json_key(&j, "apic_ids");
		if (r->nr_map) {
			json_array_begin(&j);
			for (uint32_t k = 0; k < r->nr_map; k++)
				json_hex(&j, r->apicid[k]);
			json_array_end(&j);
		} else {
			json_null(&j);
		}
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
		json_kv_str(&j, "layout", r->layout);
		json_kv_u64(&j, "run", c->run); /* index into runs[] */
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
		if (c->test[0] && !c->tlbcheck) {
			/* vipi encode on the same set: exits per method */
			json_key(&j, "exits_by_method");
			if (c->enc[0] < 0) {
				json_null(&j);
			} else {
				json_object_begin(&j);
				for (unsigned int k = 0; k < BL_NR_ENC; k++) {
					json_key(&j, bl_enc_methods[k]);
					if (c->enc[k] < 0)
						json_null(&j);
					else
						json_i64(&j, c->enc[k]);
				}
				json_object_end(&j);
			}
		}
		if (c->tlbcheck) {
			json_key(&j, "tlbcheck");
			json_object_begin(&j);
			json_kv_u64(&j, "readers", c->tc_readers);
			json_kv_u64(&j, "rounds", c->tc_rounds);
			json_kv_u64(&j, "rounds_asked", c->tc_of);
			json_kv_u64(&j, "checked_reads", c->tc_reads);
			json_kv_u64(&j, "stale", c->tc_stale);
			json_kv_u64(&j, "faults", c->tc_faults);
			json_kv_bool(&j, "stalled", c->tc_stalled);
			json_kv_u64(&j, "flush_calls", c->tc_flushes);
			json_kv_bool(&j, "planted", c->tc_plant);
			json_object_end(&j);
		}
		if (c->have_nmi) {
			json_key(&j, "nmi");
			json_object_begin(&j);
			json_kv_u64(&j, "sent", c->nmi_of);
			json_kv_u64(&j, "received", c->nmi_recv);
			json_kv_u64(&j, "lost", c->nmi_lost);
			json_object_end(&j);
		}
		if (r->vipi_on && c->test[0]) {
			json_key(&j, "driver");
			json_object_begin(&j);
			json_kv_u64(&j, "calls", c->calls);
			json_kv_u64(&j, "all_calls", c->all_calls);
			json_kv_u64(&j, "blocks", c->form[0]);
			json_kv_u64(&j, "range", c->form[1]);
			json_kv_u64(&j, "desc", c->form[2]);
			json_kv_u64(&j, "all", c->form[3]);
			json_kv_u64(&j, "allbutself", c->form[4]);
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
/* --vcpus N (2..N), or a list of counts and ranges: 2,4,200 or 4-4 */
static int bl_parse_vcpus(const char *v, struct bl_cfg *cfg)
{
	char copy[256], *tok, *save = NULL;

	cfg->nr_vcpu_list = 0;
	if (!strchr(v, ',') && !strchr(v, '-'))
		return util_parse_u32(v, &cfg->vcpus) || cfg->vcpus < 2 ||
				       cfg->vcpus > BL_MAX_CPUS ?
			       -EINVAL :
			       0;
	if (strlen(v) >= sizeof(copy))
		return -EINVAL;
	snprintf(copy, sizeof(copy), "%s", v);
	cfg->vcpus = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint32_t lo, hi;

		if (dash)
			*dash = '\0';
		if (util_parse_u32(tok, &lo) ||
		    (dash ? util_parse_u32(dash + 1, &hi) : (hi = lo, 0)) ||
		    lo < 2 || hi < lo || hi > BL_MAX_CPUS)
			return -EINVAL;
		for (uint32_t n = lo; n <= hi; n++) {
			if (cfg->nr_vcpu_list == 16)
				return -EINVAL;
			cfg->vcpu_list[cfg->nr_vcpu_list++] = n;
		}
		if (hi > cfg->vcpus)
			cfg->vcpus = hi;
	}
	return 0;
}

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
			h && strstr(h, "vipi_ipi=1"), (uint32_t)v, NULL);
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
	bl_write_json(stdout, cfg, true, 0, true);
	return VIPI_EXIT_OK;
}

/* DIR/linux.json through a temporary file: whole or absent, never torn */
static int bl_save(const struct bl_cfg *cfg, uint64_t t0, bool complete)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/linux.json", cfg->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	bl_write_json(f, cfg, false, (double)(bl_now_ns() - t0) / 1e9,
		      complete);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

enum {
	BL_OPT_VCPUS = 256,
	BL_OPT_KERNEL,
	BL_OPT_PATHS,
	BL_OPT_LAYOUTS,
	BL_OPT_OPS,
	BL_OPT_TIMEOUT,
	BL_OPT_APPEND,
	BL_OPT_PARSE,
};

static const struct option bl_options[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "quick", no_argument, NULL, 'q' },
	{ "vcpus", required_argument, NULL, BL_OPT_VCPUS },
	{ "kernel", required_argument, NULL, BL_OPT_KERNEL },
	{ "paths", required_argument, NULL, BL_OPT_PATHS },
	{ "layouts", required_argument, NULL, BL_OPT_LAYOUTS },
	{ "ops", required_argument, NULL, BL_OPT_OPS },
	{ "timeout", required_argument, NULL, BL_OPT_TIMEOUT },
	{ "append", required_argument, NULL, BL_OPT_APPEND },
	/* hidden (tests): the operands after it are saved consoles */
	{ "parse", no_argument, NULL, BL_OPT_PARSE },
	{ NULL, 0, NULL, 0 },
};

#define BL_USAGE(...) util_usage_error("bench linux", bl_usage, __VA_ARGS__)

/* What the options leave besides struct bl_cfg. */
struct bl_args {
	const char *paths;
	bool have_vcpus, have_ops;
	int parse_at; /* --parse: argv's index of its first FILE; else 0 */
};

/* One option; 0 or the usage status. */
static int bl_parse_option(struct bl_cfg *cfg, struct bl_args *ba, int opt,
			   const char *v)
{
	switch (opt) {
	case 'q':
		cfg->quick = true;
		return 0;
	case 'o':
		cfg->dir = v;
		return 0;
	case BL_OPT_KERNEL:
		cfg->kernel = v;
		return 0;
	case BL_OPT_APPEND:
		cfg->append = v;
		return 0;
	case BL_OPT_PATHS:
		ba->paths = v;
		return 0;
	case BL_OPT_LAYOUTS:
		cfg->layouts = v;
		return 0;
	case BL_OPT_VCPUS:
		if (bl_parse_vcpus(v, cfg))
			return BL_USAGE(
				"--vcpus '%s': N (2..N) or a list of up to 16 counts and ranges, each 2-%u",
				v, BL_MAX_CPUS);
		ba->have_vcpus = true;
		return 0;
	case BL_OPT_OPS:
		if (util_parse_u32(v, &cfg->ops) || !cfg->ops ||
		    cfg->ops > 100000)
			return BL_USAGE("--ops '%s': 1-100000", v);
		ba->have_ops = true;
		return 0;
	case BL_OPT_TIMEOUT:
		if (util_parse_u32(v, &cfg->timeout_s) || !cfg->timeout_s)
			return BL_USAGE("--timeout '%s'", v);
		return 0;
	default:
		return BL_USAGE("option %d has no parser", opt);
	}
}

/* --layouts: every layout known (tried on 2 vCPUs); 0 or usage */
static int bl_check_layouts(const struct bl_cfg *cfg)
{
	char copy[256], *tok, *save = NULL, topo[4096];

	if (strlen(cfg->layouts) >= sizeof(copy))
		return BL_USAGE("--layouts: too long");
	snprintf(copy, sizeof(copy), "%s", cfg->layouts);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (bl_layout_topo(tok, 2, topo, sizeof(topo)))
			return BL_USAGE(
				"--layouts: unknown layout '%s' (dense, stride:S, sparse15:SEED, sparse:SEED)",
				tok);
	return 0;
}

/* --paths: cfg->want[] from the names; 0 or usage */
static int bl_parse_paths(struct bl_cfg *cfg, const char *paths)
{
	char copy[256], *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", paths);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int k;

		for (k = 0; k < 5 && strcmp(tok, bl_path_names[k]); k++)
			;
		if (k == 5)
			return BL_USAGE("--paths: unknown path '%s'", tok);
		cfg->want[k] = true;
	}
	return 0;
}

/*
 * The options, in order (getopt_long, opt.h), up to --parse (its FILEs
 * are the rest: ba->parse_at) or the end, then the defaults that depend
 * on --quick and the --layouts and --paths checks. No operands.
 */
static int bl_parse_args(int argc, char **argv, struct bl_cfg *cfg,
			 struct bl_args *ba)
{
	struct opt_scan s;
	int opt, r;

	opt_scan_init(&s, argc, argv, "o:q", bl_options);
	while ((opt = opt_scan_next(&s)) != -1) {
		if (opt == '?')
			return BL_USAGE("%s", s.problem);
		if (opt == BL_OPT_PARSE) {
			ba->parse_at = optind;
			return 0;
		}
		r = bl_parse_option(cfg, ba, opt, optarg);
		if (r)
			return r;
	}
	if (optind < argc)
		return BL_USAGE("unknown option '%s'", argv[optind]);
	if (!ba->have_ops)
		cfg->ops = cfg->quick ? 5 : 20;
	if (!ba->have_vcpus)
		cfg->vcpus = cfg->quick ? 2 : 4;
	if (!cfg->layouts)
		cfg->layouts = "dense";
	r = bl_check_layouts(cfg);
	if (r)
		return r;
	if (!ba->paths)
		ba->paths = cfg->quick ?
				    "x2apic-phys,vipi,kernel" :
				    "x2apic-phys,x2apic-cluster,hv,vipi,kernel";
	return bl_parse_paths(cfg, ba->paths);
}

int cmd_bench_linux(int argc, char **argv)
{
	struct bl_cfg cfg;
	struct bl_args ba = { 0 };
	char kbuf[4096], path[4096], machine[256];
	const char *dev = getenv("VIPI_KVM_DEVICE");
	uint64_t t0 = bl_now_ns();
	unsigned int failed = 0, booted = 0, unsupported = 0;
	int r;

	if (util_wants_help(argc, argv)) {
		fputs(bl_usage, stdout);
		return VIPI_EXIT_OK;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = "vipi-out";
	cfg.timeout_s = 600;
	nr_runs = nr_cases = 0;
	r = bl_parse_args(argc, argv, &cfg, &ba);
	if (r)
		return r;
	if (ba.parse_at) {
		cfg.ops = 0;
		return bl_parse_mode(argc, argv, ba.parse_at, &cfg);
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
	/* VIPI_KVM_DEVICE=PATH: as vipi run, its children, opens it */
	if (!dev || !*dev)
		dev = "/dev/kvm";
	if (access(dev, R_OK | W_OK))
		return util_fail("bench linux",
				 "%s: %s: every case boots a kernel", dev,
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
	if (!cfg.nr_vcpu_list) {
		for (uint32_t n = 2; n <= cfg.vcpus && cfg.nr_vcpu_list < 16;
		     n++) {
			if (!cfg.quick && !ba.have_vcpus && n == 3)
				continue; /* default: 2 and 4 */
			cfg.vcpu_list[cfg.nr_vcpu_list++] = n;
		}
	}
	{
		struct sigaction sa;
		unsigned int nl = 1;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = bl_on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		for (const char *p = cfg.layouts; *p; p++)
			nl += *p == ',';
		bl_planned =
			cfg.nr_vcpu_list * nl *
			(cfg.want[0] + cfg.want[2] + cfg.want[3] + cfg.want[4]);
		bl_t0 = t0;
	}
	for (unsigned int vi = 0; vi < cfg.nr_vcpu_list && !bl_interrupted;
	     vi++) {
		uint32_t n = cfg.vcpu_list[vi];
		char copy[256], *lay, *save = NULL;

		snprintf(copy, sizeof(copy), "%s", cfg.layouts);
		for (lay = strtok_r(copy, ",", &save); lay && !bl_interrupted;
		     lay = strtok_r(NULL, ",", &save)) {
			unsigned int first = nr_runs;

			if (cfg.want[0])
				bl_boot(bl_add_run("x2apic-phys", true, false,
						   false, n, lay),
					&cfg);
			if (cfg.want[1])
				bl_cluster_unsupported(
					bl_add_run("x2apic-cluster", true,
						   false, false, n, lay));
			if (cfg.want[2])
				bl_boot(bl_add_run("hv", true, true, false, n,
						   lay),
					&cfg);
			if (cfg.want[3])
				bl_boot(bl_add_run("vipi", true, false, true, n,
						   lay),
					&cfg);
			if (cfg.want[4])
				bl_boot(bl_add_run("x2apic-phys", false, false,
						   false, n, lay),
					&cfg);
			for (unsigned int i = first; i < nr_runs; i++)
				fprintf(stderr,
					"  %s %s %u %s: %s%s%s (%.0f s)\n",
					runs[i].path,
					runs[i].user ? "user" : "kernel", n,
					lay, runs[i].status,
					strcmp(runs[i].status, "pass") ? ": " :
									 "",
					strcmp(runs[i].status, "pass") ?
						runs[i].reason :
						"",
					runs[i].wall_s);
		}
	}
	if (bl_interrupted)
		fprintf(stderr,
			"vipi bench linux: interrupted (signal %d) after %u of %u boots: writing what finished\n",
			(int)bl_interrupted, bl_done_boots, bl_planned);
	for (unsigned int i = 0; i < nr_runs; i++)
		if (!strcmp(runs[i].status, "fail") ||
		    !strcmp(runs[i].status, "error"))
			failed++;
	/* a failed check in a boot that passed (tlbcheck: a stale read) */
	for (unsigned int i = 0; i < nr_cases; i++)
		if (!strcmp(cases[i].status, "fail") &&
		    !strcmp(runs[cases[i].run].status, "pass"))
			failed++;
	printf("\n");
	bl_print_table();
	r = bl_save(&cfg, t0, !bl_interrupted);
	if (r)
		return util_fail("bench linux",
				 "cannot write %s/linux.json: %s", cfg.dir,
				 strerror(-r));
	snprintf(path, sizeof(path), "%s/linux.svg", cfg.dir);
	r = bl_write_svg(path, machine);
	if (r)
		return util_fail("bench linux", "cannot write %s: %s", path,
				 strerror(-r));
	for (unsigned int i = 0; i < nr_runs; i++) {
		booted += runs[i].run;
		unsupported += !strcmp(runs[i].status, "unsupported");
	}
	printf("\nvipi bench linux: %u boots, %u failed, %u unsupported, %.0f s; %s/linux.json, %s/linux.svg\n",
	       booted, failed, unsupported, (double)(bl_now_ns() - t0) / 1e9,
	       cfg.dir, cfg.dir);
	if (bl_interrupted)
		return 128 + (int)bl_interrupted;
	return failed ? VIPI_EXIT_FAIL : VIPI_EXIT_OK;
}
