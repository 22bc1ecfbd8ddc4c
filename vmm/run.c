// SPDX-License-Identifier: MIT
/*
 * `vipi run`: boot the freestanding guest on /dev/kvm with N vCPUs, run
 * one IPI workload with one method under the in-kernel LAPIC
 * (--irqchip=kernel) or vipi's engine (--irqchip=user), and report what
 * the guest measured and checked. The exit status is the guest's verdict:
 * 0 passed, 1 failed (or the VMM stopped it), 2 usage, 4 skipped (a
 * method this host cannot serve), as kselftest does.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "../prog/json.h"
#include "../prog/opt.h"
#include "../prog/util.h"
#include "kernel.h"
#include "vmm.h"

static const char run_usage[] =
	"usage: vipi run [--vcpus N] [--topology TOPO] [--irqchip kernel|user]\n"
	"                [--method METHOD] [--workload WORKLOAD] [--targets CPULIST]\n"
	"                [--ops K] [--xapic] [--hyperv] [--testdev] [--fanout N|off]\n"
	"                [--pv-eoi] [--mem MIB] [--timeout S] [--json] [-v]\n"
	"       vipi run --kernel FILE [--append CMDLINE] [--initrd FILE]\n"
	"                [--vcpus N] [--topology TOPO] [--irqchip kernel|user]\n"
	"                [--xapic] [--hyperv] [--testdev] [--mem MIB] [--timeout S]\n"
	"\n"
	"Boots vipi's guest on /dev/kvm and runs one IPI workload, or boots\n"
	"--kernel FILE. Exit 0 passed, 1 failed, 2 usage, 4 skipped (a method\n"
	"this mode or host cannot serve). docs/vmm.md has the details.\n"
	"\n"
	"  --vcpus N          vCPUs, 1-1024 (default: the topology's, else 1)\n"
	"  --topology TOPO    x86 APIC-ID layout (docs/topology.md; default\n"
	"                     x86:dense:N)\n"
	"  --irqchip MODE     kernel: KVM's in-kernel LAPIC (default); user:\n"
	"                     vipi's engine\n"
	"  --method METHOD    how the guest sends (default x2apic-phys;\n"
	"                     xapic-phys with --xapic); METHOD is one of\n";

static const char run_usage_tail[] =
	"  --workload W       boot (default), pingpong, multicast, broadcast,\n"
	"                     shootdown, storm, badinput, emulate, lapic\n"
	"                     (lapic: --testdev, 2-8 vCPUs)\n"
	"  --targets CPULIST  the IPIs' targets for pingpong, multicast,\n"
	"                     shootdown, storm (default: every vCPU but 0)\n"
	"  --ops K            operations, from 1 (default: pingpong 100, storm\n"
	"                     10, the others 50)\n"
	"  --xapic            the guest stays in xAPIC mode: --method\n"
	"                     xapic-phys, APIC IDs up to 254 (--kernel: no\n"
	"                     x2APIC in CPUID)\n"
	"  --hyperv           Hyper-V CPUID leaves, synthetic MSRs, PV IPIs and\n"
	"                     remote TLB flushes instead of KVM's leaves\n"
	"                     (docs/hyperv.md)\n"
	"  --testdev          kvm-unit-tests' test device: IRQ lines at ports\n"
	"                     0x2000+n\n"
	"  --fanout N|off     user mode: kicks a sender does itself per IPI\n"
	"                     before it hands the rest to the kicker thread\n"
	"                     (default 2)\n"
	"  --pv-eoi           user mode: the guest registers vipi's PV EOI (ABI\n"
	"                     1.1) and skips EOI writes the host marks free\n"
	"  --mem MIB          guest RAM, 16-3072 (default 64 + 1 per 16 vCPUs;\n"
	"                     --kernel: 512, up to 65536)\n"
	"  --timeout S        seconds before the run is stopped as failed\n"
	"                     (default 300)\n"
	"  --json             one JSON object on stdout\n"
	"  -v, --verbose      guest and VMM progress on stderr\n"
	"  --kernel FILE      a Multiboot v1 image or a Linux bzImage instead of\n"
	"                     vipi's guest; its exit status is the verdict\n"
	"                     (docs/vmm.md \"Booting other kernels\")\n";

/* What vipi's guest can send with: the x86 entries of vipi_methods[]. */
static const struct vipi_method *guest_method(const char *name)
{
	const struct vipi_method *m = vipi_method_find(name);

	return m && (m->arch & VIPI_ARCH_X86) ? m : NULL;
}

/* The x86 method names, wrapped to the usage's second column. */
static void print_method_names(FILE *f)
{
	unsigned int col = 0;

	for (const struct vipi_method *const *m = vipi_methods; *m; m++) {
		if (!((*m)->arch & VIPI_ARCH_X86))
			continue;
		if (col && col + strlen((*m)->name) > 50) {
			fputs(",\n", f);
			col = 0;
		} else if (col) {
			fputs(", ", f);
			col += 2;
		}
		if (!col)
			fputs("                     ", f);
		fputs((*m)->name, f);
		col += (unsigned int)strlen((*m)->name) + 1;
	}
	fputc('\n', f);
}

static void run_help(void)
{
	fputs(run_usage, stdout);
	print_method_names(stdout);
	fputs(run_usage_tail, stdout);
}

static const char *const workload_names[] = {
	[VIPI_WL_BOOT] = "boot",	   [VIPI_WL_PINGPONG] = "pingpong",
	[VIPI_WL_MULTICAST] = "multicast", [VIPI_WL_BROADCAST] = "broadcast",
	[VIPI_WL_SHOOTDOWN] = "shootdown", [VIPI_WL_STORM] = "storm",
	[VIPI_WL_BADINPUT] = "badinput",   [VIPI_WL_EMULATE] = "emulate",
	[VIPI_WL_LAPIC] = "lapic",
};

int run_workload_find(const char *s, enum vipi_workload *w)
{
	for (size_t i = 0; i < ARRAY_SIZE(workload_names); i++) {
		if (!strcmp(s, workload_names[i])) {
			*w = (enum vipi_workload)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The topology of --topology, or x86:dense:N; misuse is one line, exit 2 */
static int build_topology(struct vm *vm, uint32_t nr, bool have_nr)
{
	char err[160] = "";
	int r;

	if (vm->opt.topology) {
		r = vipi_topo_parse(vm->opt.topology, &vm->topo, err,
				    sizeof(err));
		if (r)
			return util_usage_error("run", run_usage,
						"--topology '%s': %s",
						vm->opt.topology, err);
		if (vipi_topo_arch(vm->topo) != VIPI_ARCH_X86)
			r = util_usage_error(
				"run", run_usage,
				"--topology '%s': the VMM runs x86 guests; give an x86 topology",
				vm->opt.topology);
		else if (have_nr && nr != vipi_topo_nr_vcpus(vm->topo))
			r = util_usage_error(
				"run", run_usage,
				"--vcpus %u but --topology '%s' has %u vCPUs",
				nr, vm->opt.topology,
				vipi_topo_nr_vcpus(vm->topo));
		if (r) {
			vipi_topo_destroy(vm->topo);
			vm->topo = NULL;
			return r;
		}
	} else {
		uint32_t *ids = calloc(nr, sizeof(*ids));

		if (!ids)
			return util_fail("run", "out of memory");
		for (uint32_t i = 0; i < nr; i++)
			ids[i] = i;
		r = vipi_topo_create_x86(ids, nr, &vm->topo, err, sizeof(err));
		free(ids);
		if (r)
			return util_usage_error("run", run_usage,
						"--vcpus %u: %s", nr, err);
	}
	vm->nr = vipi_topo_nr_vcpus(vm->topo);
	return 0;
}

static bool workload_takes_targets(enum vipi_workload w)
{
	return w == VIPI_WL_PINGPONG || w == VIPI_WL_MULTICAST ||
	       w == VIPI_WL_SHOOTDOWN || w == VIPI_WL_STORM;
}

/* --method: one of the x86 methods of vipi_methods[] */
static int run_check_method(const char *m, char *why, size_t len)
{
	char names[256] = "";
	size_t n = 0;

	if (guest_method(m))
		return 0;
	for (const struct vipi_method *const *p = vipi_methods; *p; p++)
		if (((*p)->arch & VIPI_ARCH_X86) && n < sizeof(names))
			n += (size_t)snprintf(names + n, sizeof(names) - n,
					      "%s%s", n ? " " : "", (*p)->name);
	snprintf(why, len, "--method '%s': not one of %s", m, names);
	return -EINVAL;
}

/* The method against the guest's APIC mode and the CPUID leaves. */
static int run_check_apic_mode(const struct vm_options *o,
			       const struct vipi_topo *t, char *why, size_t len)
{
	const char *m = o->method;
	bool xapic_m = !strcmp(m, "xapic-phys");

	if (xapic_m && !o->xapic) {
		snprintf(
			why, len,
			"--method xapic-phys needs --xapic (the guest's APIC in xAPIC mode)");
		return -EINVAL;
	}
	if (!xapic_m && o->xapic) {
		snprintf(
			why, len,
			"--method %s sends through the x2APIC; with --xapic use --method xapic-phys",
			m);
		return -EINVAL;
	}
	if (o->xapic && vipi_topo_max_apic_id(t) > 254) {
		snprintf(
			why, len,
			"--xapic: APIC ID %u does not fit xAPIC's 8 bits (at most 254)",
			vipi_topo_max_apic_id(t));
		return -EINVAL;
	}
	if (o->hyperv && !strncmp(m, "kvm-pv", 6)) {
		snprintf(
			why, len,
			"--method %s with --hyperv: the Hyper-V leaves replace KVM's, so there is no KVM_HC_SEND_IPI",
			m);
		return -EINVAL;
	}
	return 0;
}

/* --targets: a workload that takes a set, a CPU list, not vCPU 0 alone */
static int run_check_targets(const struct vm_options *o, uint32_t nr, char *why,
			     size_t len)
{
	struct vipi_cpuset s;
	int r;

	if (!o->targets)
		return 0;
	if (!workload_takes_targets(o->workload)) {
		snprintf(
			why, len,
			"--targets: --workload %s does not take a set (pingpong, multicast, shootdown, storm do)",
			workload_names[o->workload]);
		return -EINVAL;
	}
	r = vipi_cpuset_init(&s, nr);
	if (r) {
		snprintf(why, len, "--targets: %s", strerror(-r));
		return r;
	}
	r = vipi_cpuset_parse(&s, o->targets);
	if (r)
		snprintf(why, len, "--targets '%s': not a CPU list within 0-%u",
			 o->targets, nr - 1);
	else if (o->workload != VIPI_WL_STORM && vipi_cpuset_next(&s, 0) < 0)
		snprintf(why, len,
			 "--targets '%s': vCPU 0 sends; name another vCPU",
			 o->targets);
	vipi_cpuset_destroy(&s);
	return why[0] ? -EINVAL : 0;
}

/* --ops, and the vCPUs and devices the workload needs */
static int run_check_workload(const struct vm_options *o, uint32_t nr,
			      char *why, size_t len)
{
	const char *wl = workload_names[o->workload];

	if (o->ops &&
	    (o->workload == VIPI_WL_BOOT || o->workload == VIPI_WL_BADINPUT ||
	     o->workload == VIPI_WL_LAPIC)) {
		snprintf(
			why, len,
			"--ops: --workload %s has no operation count (pingpong, multicast, broadcast, shootdown, storm, emulate do)",
			wl);
		return -EINVAL;
	}
	switch (o->workload) {
	case VIPI_WL_PINGPONG:
	case VIPI_WL_MULTICAST:
	case VIPI_WL_SHOOTDOWN:
	case VIPI_WL_BROADCAST:
		if (nr < 2) {
			snprintf(
				why, len,
				"--workload %s needs 2 or more vCPUs (vCPU 0 sends to the others)",
				wl);
			return -EINVAL;
		}
		break;
	case VIPI_WL_LAPIC:
		if (nr < 2 || nr > 8) {
			snprintf(why, len,
				 "--workload lapic needs 2 to 8 vCPUs (has %u)",
				 nr);
			return -EINVAL;
		}
		if (!o->testdev) {
			snprintf(
				why, len,
				"--workload lapic needs --testdev (its I/O APIC pins are driven through ports 0x2000+n)");
			return -EINVAL;
		}
		break;
	default:
		break;
	}
	return 0;
}

/*
 * What the in-kernel LAPIC cannot serve (-EOPNOTSUPP: a skip, not
 * misuse): vipi's PV EOI, and the methods the guest would skip at once,
 * decided here, no VM needed.
 */
static int run_check_irqchip(const struct vm_options *o, char *why, size_t len)
{
	const char *m = o->method;

	if (o->irqchip == VIPI_IRQCHIP_USER)
		return 0;
	if (o->pv_eoi) {
		snprintf(
			why, len,
			"--pv-eoi: the in-kernel LAPIC mode has no vipi ABI; use --irqchip user");
		return -EOPNOTSUPP;
	}
	if (!strncmp(m, "hv", 2) || !strcmp(m, "vipi")) {
		snprintf(
			why, len,
			"%s: the in-kernel LAPIC mode has no %s; use --irqchip user",
			m,
			strcmp(m, "vipi") ?
				"Hyper-V hypercalls (vipi's engine serves them)" :
				"vipi ABI (vipi's engine serves it)");
		return -EOPNOTSUPP;
	}
	return 0;
}

int run_check(const struct vm_options *o, const struct vipi_topo *t, char *why,
	      size_t len)
{
	uint32_t nr = vipi_topo_nr_vcpus(t);
	int r;

	if (o->kernel)
		return 0; /* the kernel runs what it runs */
	r = run_check_method(o->method, why, len);
	if (r)
		return r;
	if (nr > VIPI_GUEST_MAX_CPUS) {
		snprintf(
			why, len,
			"%u vCPUs: vipi's guest runs at most %u (--kernel: the host's limit)",
			nr, VIPI_GUEST_MAX_CPUS);
		return -EINVAL;
	}
	r = run_check_apic_mode(o, t, why, len);
	if (!r)
		r = run_check_targets(o, nr, why, len);
	if (!r)
		r = run_check_workload(o, nr, why, len);
	if (!r)
		r = run_check_irqchip(o, why, len);
	return r;
}

/*
 * The host's limits, from /dev/kvm before any VM exists: vCPUs
 * (KVM_CAP_MAX_VCPUS) and, for the in-kernel LAPIC, APIC IDs
 * (KVM_CAP_MAX_VCPU_ID: its x2APIC ID is the vCPU id).
 */
static int run_check_host(struct vm *vm)
{
	int max = kvm_check_cap(vm, KVM_CAP_MAX_VCPUS);
	int max_id = kvm_check_cap(vm, KVM_CAP_MAX_VCPU_ID);
	uint32_t top = vipi_topo_max_apic_id(vm->topo);

	if (!max)
		max = kvm_check_cap(vm, KVM_CAP_NR_VCPUS);
	if (max > 0 && vm->nr > (uint32_t)max)
		return util_usage_error(
			"run", run_usage,
			"%u vCPUs: this host's KVM allows at most %d (KVM_CAP_MAX_VCPUS)",
			vm->nr, max);
	if (!max_id)
		max_id = max;
	if (vm->opt.irqchip == VIPI_IRQCHIP_KERNEL && max_id > 0 &&
	    top >= (uint32_t)max_id)
		return util_usage_error(
			"run", run_usage,
			"APIC ID %u: the in-kernel LAPIC takes IDs below %d here (KVM_CAP_MAX_VCPU_ID); use --irqchip user",
			top, max_id);
	return 0;
}

static double per_op(uint64_t v, uint64_t ops)
{
	return ops ? (double)v / (double)ops : 0.0;
}

/* Whole-run exit counters by what the guest did, every vCPU summed. */
static const struct {
	const char *name;
	enum vmm_exit k;
} exit_keys[] = {
	{ "x2apic_icr", VMM_SRC_X2APIC_ICR },
	{ "self_ipi", VMM_SRC_SELF_IPI },
	{ "xapic_icr", VMM_SRC_XAPIC_ICR },
	{ "eoi", VMM_SRC_EOI },
	{ "apic_other", VMM_SRC_APIC },
	{ "ioapic", VMM_SRC_IOAPIC },
	{ "kvm_hypercall", VMM_SRC_KVM_HC },
	{ "hv_hypercall", VMM_SRC_HV_HC },
	{ "vipi", VMM_SRC_VIPI },
	{ "hv_msr", VMM_SRC_HV_MSR },
	{ "pio", VMM_EXIT_IO },
	{ "mmio", VMM_EXIT_MMIO },
	{ "rdmsr", VMM_EXIT_RDMSR },
	{ "wrmsr", VMM_EXIT_WRMSR },
	{ "hlt", VMM_EXIT_HLT },
	{ "irq_window", VMM_EXIT_IRQ_WINDOW },
	{ "kick", VMM_EXIT_INTR },
	{ "other", VMM_EXIT_OTHER },
};

static uint64_t sum_counter(struct vm *vm, enum vmm_exit k)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < vm->nr; i++)
		n += atomic_load(&vm->vcpus[i].exits[k]);
	return n;
}

/*
 * "exits": exits to the VMM by source over the whole run (pio, mmio,
 * rdmsr, wrmsr are by KVM exit reason and overlap the sources; in kernel
 * mode KVM handles the APIC itself, so only the sources it leaves to user
 * space appear), and "interrupts": what the engine did with them.
 */
static void report_counters(struct vm *vm, struct json *j)
{
	json_key(j, "exits");
	json_object_begin(j);
	for (size_t i = 0; i < sizeof(exit_keys) / sizeof(exit_keys[0]); i++)
		json_kv_u64(j, exit_keys[i].name,
			    sum_counter(vm, exit_keys[i].k));
	json_object_end(j);
	json_key(j, "interrupts");
	json_object_begin(j);
	json_kv_u64(j, "ipis_delivered", sum_counter(vm, VMM_CNT_DELIVERED));
	json_kv_u64(j, "kicks", sum_counter(vm, VMM_CNT_KICK));
	json_kv_u64(j, "wakes", sum_counter(vm, VMM_CNT_WAKE));
	json_kv_u64(j, "injected", sum_counter(vm, VMM_CNT_INJECT));
	json_kv_u64(j, "lapic_timer", sum_counter(vm, VMM_CNT_TIMER));
	/* PV TLB shootdowns: targets deferred, deferred flushes done */
	json_kv_u64(j, "tlb_deferred", sum_counter(vm, VMM_CNT_DEFERRED));
	json_kv_u64(j, "tlb_flushes", sum_counter(vm, VMM_CNT_FLUSH));
	json_object_end(j);
	json_kv_i64(j, "exit_status", vm->status);
}

/*
 * The receiving side (docs/vmm.md "Exits on the receiving side"): exits
 * of vCPUs 1.. over the loop per IPI their handlers ran, by cause; a
 * cause this mode cannot see is null. Only for workloads whose guest
 * counts the targets' IPIs (pingpong, multicast, broadcast, shootdown).
 */
static void report_targets(struct vm *vm, struct json *j)
{
	static const char *const names[VMM_CAUSE_NR] = {
		[VMM_CAUSE_KICK] = "kick",   [VMM_CAUSE_WINDOW] = "window",
		[VMM_CAUSE_EOI] = "eoi",     [VMM_CAUSE_HLT] = "hlt",
		[VMM_CAUSE_OTHER] = "other",
	};
	uint64_t ipis = vm->res.args[VIPI_RES_TARGET_IPIS], all = 0;

	if (!ipis)
		return;
	for (int c = 0; c < VMM_CAUSE_NR; c++)
		all += vm->res.target_exits[c];
	json_kv_u64(j, "target_ipis", ipis);
	json_kv_double(j, "target_exits_per_ipi", per_op(all, ipis), 3);
	json_key(j, "target_exits_by_cause");
	json_object_begin(j);
	for (int c = 0; c < VMM_CAUSE_NR; c++) {
		json_key(j, names[c]);
		if (vm->res.target_seen[c])
			json_double(j, per_op(vm->res.target_exits[c], ipis),
				    3);
		else
			json_null(j);
	}
	json_object_end(j);
	if (vm->opt.irqchip == VIPI_IRQCHIP_USER)
		json_kv_u64(j, "lazy_eois", vm->res.cnt[VMM_CNT_LAZY_EOI]);
}

/* What report() prints, from the guest's results and the VMM's counts. */
struct run_figures {
	bool user;
	const char *status; /* pass, exit (--kernel), skip, fail */
	uint64_t ops, sends, total;
	double send_ns; /* the sender's time in the encoder and its exits */
};

static void run_figures(struct vm *vm, struct run_figures *f)
{
	const uint64_t *a = vm->res.args;
	bool storm = vm->opt.workload == VIPI_WL_STORM;

	f->user = vm->opt.irqchip == VIPI_IRQCHIP_USER;
	f->ops = a[VIPI_RES_OPS];
	/*
	 * Sender exits: with the engine, the VMM counted the exits that sent
	 * an IPI; in-kernel, every trapping operation the guest's encoder
	 * emitted is one exit handled by KVM, so the guest's count is it.
	 */
	f->sends = f->user ? (storm ? vm->res.all_send_exits :
				      vm->res.sender_exits) :
			     a[VIPI_RES_SENDS];
	f->total = f->user ? vm->res.total_exits : vm->res.kernel_exits;
	/* --kernel: the guest's own exit status is the verdict (e.g.
	 * isa-debug-exit), not vipi's pass/fail convention */
	f->status = vm->status == VIPI_EXIT_OK	? "pass" :
		    vm->opt.kernel		? "exit" :
		    vm->status == VMM_EXIT_SKIP ? "skip" :
						  "fail";
	/* in ns by the TSC rate measured against the host clock over the
	 * whole loop */
	f->send_ns = a[VIPI_RES_CYCLES] ? (double)a[VIPI_RES_SEND_CYCLES] *
						  (double)a[VIPI_RES_NS] /
						  (double)a[VIPI_RES_CYCLES] :
					  0.0;
}

/* The per-operation figures of the JSON, sender exits to TLB flushes. */
static void report_per_op(struct vm *vm, const struct run_figures *f,
			  struct json *j)
{
	const uint64_t *a = vm->res.args, *c = vm->res.cnt;
	uint64_t ops = f->ops;

	json_kv_double(j, "sender_exits_per_op", per_op(f->sends, ops), 3);
	json_kv_double(j, "exits_per_op", per_op(f->total, ops), 3);
	json_kv_str(j, "exits_source", f->user ? "vmm" : "kvm-binary-stats");
	report_targets(vm, j);
	json_kv_double(j, "guest_sends_per_op", per_op(a[VIPI_RES_SENDS], ops),
		       3);
	json_kv_double(j, "guest_ns_per_op", per_op(a[VIPI_RES_NS], ops), 1);
	json_kv_double(j, "guest_cycles_per_op",
		       per_op(a[VIPI_RES_CYCLES], ops), 1);
	json_kv_double(j, "sender_ns_per_op", f->send_ns / (ops ? ops : 1), 1);
	json_kv_double(j, "host_cpu_ns_per_op",
		       per_op(vm->res.host_cpu_ns, ops), 1);
	if (!f->user)
		return;
	json_kv_double(j, "kicks_per_op", per_op(c[VMM_CNT_KICK], ops), 3);
	json_kv_double(j, "wakes_per_op", per_op(c[VMM_CNT_WAKE], ops), 3);
	json_kv_double(j, "fanned_per_op", per_op(c[VMM_CNT_FANNED], ops), 3);
	json_kv_u64(j, "coalesced", c[VMM_CNT_COALESCED]);
	json_kv_u64(j, "deferred", c[VMM_CNT_DEFERRED]);
	json_kv_u64(j, "tlb_flushes", c[VMM_CNT_FLUSH]);
}

/* "guest_errors": the architectural errors the guest was answered, by name */
static void report_guest_errors(struct vm *vm, struct json *j)
{
	json_key(j, "guest_errors");
	json_object_begin(j);
	for (unsigned int st = 0; st < VIPI_STATUS_COUNT; st++)
		if (atomic_load(&vm->guest_errors[st]))
			json_kv_u64(j, vipi_status_name((enum vipi_status)st),
				    atomic_load(&vm->guest_errors[st]));
	json_object_end(j);
	json_kv_u64(j, "guest_error_lines_suppressed", vm->errlog_suppressed);
}

/* --json: the run as one object on stdout (docs/vmm.md has the keys) */
static void report_json(struct vm *vm, const struct run_figures *f)
{
	const uint64_t *a = vm->res.args;
	char topo[256];
	struct json j;

	vipi_topo_format(vm->topo, topo, sizeof(topo));
	json_init(&j, stdout, false);
	json_object_begin(&j);
	json_kv_str(&j, "status", f->status);
	json_kv_str(&j, "reason", vm->why);
	json_kv_str(&j, "irqchip", f->user ? "user" : "kernel");
	json_kv_str(&j, "method", vm->opt.method);
	json_kv_str(&j, "workload", workload_names[vm->opt.workload]);
	json_kv_u64(&j, "vcpus", vm->nr);
	json_kv_str(&j, "topology", topo);
	json_kv_u64(&j, "ops", f->ops);
	report_per_op(vm, f, &j);
	json_kv_u64(&j, "delivered", a[VIPI_RES_DELIVERED]);
	json_kv_u64(&j, "expected", a[VIPI_RES_EXPECTED]);
	json_kv_u64(&j, "lost", a[VIPI_RES_LOST]);
	json_kv_u64(&j, "duplicated", a[VIPI_RES_DUPLICATED]);
	report_guest_errors(vm, &j);
	json_key(&j, "emulation_fixups");
	emul_report_json(vm, &j);
	report_counters(vm, &j);
	json_kv_double(&j, "wall_s", (double)(now_ns() - vm->start_ns) / 1e9,
		       3);
	json_object_end(&j);
	json_finish(&j);
}

/* Without --json: one line of figures, when the guest sent results. */
static void report_line(struct vm *vm, const struct run_figures *f)
{
	const uint64_t *a = vm->res.args;
	uint64_t ops = f->ops;

	printf("vipi run: %s %s %s, %u vCPUs: %llu ops, %.2f sender exits/op, %.2f exits/op (%s), %.0f ns/op (send %.0f ns), delivered %llu/%llu, lost %llu, duplicated %llu\n",
	       f->user ? "user" : "kernel", vm->opt.method,
	       workload_names[vm->opt.workload], vm->nr,
	       (unsigned long long)ops, per_op(f->sends, ops),
	       per_op(f->total, ops), f->user ? "vmm" : "kvm stats",
	       per_op(a[VIPI_RES_NS], ops), f->send_ns / (ops ? ops : 1),
	       (unsigned long long)a[VIPI_RES_DELIVERED],
	       (unsigned long long)a[VIPI_RES_EXPECTED],
	       (unsigned long long)a[VIPI_RES_LOST],
	       (unsigned long long)a[VIPI_RES_DUPLICATED]);
}

static void report(struct vm *vm)
{
	struct run_figures f;
	char errs[512];

	run_figures(vm, &f);
	if (vm->opt.json)
		report_json(vm, &f);
	else if (vm->res.have)
		report_line(vm, &f);
	if (vm->status != VIPI_EXIT_OK || !vm->opt.json)
		fprintf(vm->status == VIPI_EXIT_OK ? stdout : stderr,
			"vipi run: %s: %s\n", f.status, vm->why);
	vm_guest_error_summary(vm, errs, sizeof(errs));
	if (errs[0])
		fprintf(stderr,
			"vipi run: guest errors answered: %s (%llu log lines suppressed)\n",
			errs, (unsigned long long)vm->errlog_suppressed);
	emul_summary(vm, errs, sizeof(errs));
	if (errs[0])
		fprintf(vm->opt.json ? stderr : stdout,
			"vipi run: instructions completed for KVM: %s\n", errs);
}

/*
 * A method the mode cannot serve, known before any VM exists: the verdict
 * a guest would have given (skip), with the reason, and exit 4.
 */
static int report_skip(struct vm *vm, const char *why)
{
	if (vm->opt.json) {
		struct json j;

		json_init(&j, stdout, false);
		json_object_begin(&j);
		json_kv_str(&j, "status", "skip");
		json_kv_str(&j, "reason", why);
		json_kv_str(&j, "irqchip",
			    vm->opt.irqchip == VIPI_IRQCHIP_USER ? "user" :
								   "kernel");
		json_kv_str(&j, "method", vm->opt.method);
		json_kv_str(&j, "workload", workload_names[vm->opt.workload]);
		json_kv_u64(&j, "vcpus", vm->nr);
		json_object_end(&j);
		json_finish(&j);
	}
	fprintf(stderr, "vipi run: skip: %s\n", why);
	return VMM_EXIT_SKIP;
}

/*
 * On a timeout, or on SIGUSR2 (`kill -USR2 PID` while a guest seems
 * stuck): where each vCPU is, for the person debugging it. The engine's
 * fields are read racily from this thread: a snapshot, not a state.
 */
static volatile sig_atomic_t dump_asked;

static void on_sigusr2(int sig)
{
	(void)sig;
	dump_asked = 1;
}

/* the vCPUs a dump shows (a 256-vCPU dump would bury the rest) */
#define DUMP_MAX_VCPUS 64u

static void dump_engine(struct vm *vm)
{
	uint64_t now = now_ns();

	for (uint32_t i = 0; i < vm->nr && i < DUMP_MAX_VCPUS; i++) {
		struct vcpu *v = &vm->vcpus[i];

		fprintf(stderr,
			"  vCPU %u: state %u notify %u pir %llx:%llx irr %llx:%llx isr %llx:%llx io %llu msr %llu hlt %llu intr %llu win %llu\n",
			i, v->pi ? atomic_load(&v->pi->state) : 0,
			v->pi ? atomic_load(&v->pi->notify) : 0,
			(unsigned long long)(v->pi ? atomic_load(
							     &v->pi->pir[3]) :
						     0),
			(unsigned long long)(v->pi ? atomic_load(
							     &v->pi->pir[2]) :
						     0),
			(unsigned long long)v->lapic.irr[3],
			(unsigned long long)v->lapic.irr[2],
			(unsigned long long)v->lapic.isr[3],
			(unsigned long long)v->lapic.isr[2],
			(unsigned long long)atomic_load(&v->exits[VMM_EXIT_IO]),
			(unsigned long long)atomic_load(
				&v->exits[VMM_EXIT_WRMSR]),
			(unsigned long long)atomic_load(
				&v->exits[VMM_EXIT_HLT]),
			(unsigned long long)atomic_load(
				&v->exits[VMM_EXIT_INTR]),
			(unsigned long long)atomic_load(
				&v->exits[VMM_EXIT_IRQ_WINDOW]));
		if (vm->opt.irqchip == VIPI_IRQCHIP_USER && v->run)
			fprintf(stderr,
				"           tpr %#x lvt-timer %#x timer in %lld us (tsc-deadline %#llx) if %u timer fires %llu\n",
				v->lapic.tpr,
				v->lapic.lvt[VIPI_LAPIC_LVT_TIMER],
				v->lapic.t_deadline_ns == UINT64_MAX ?
					-1LL :
					(long long)(v->lapic.t_deadline_ns -
						    now) /
						1000,
				(unsigned long long)v->lapic.tsc_deadline,
				v->run->if_flag,
				(unsigned long long)v->lapic.stats.timer_fires);
	}
	if (vm->nr > DUMP_MAX_VCPUS)
		fprintf(stderr, "  (vCPUs %u-%u left out)\n", DUMP_MAX_VCPUS,
			vm->nr - 1);
	/* and where each is: its thread prints its registers at the kick */
	for (uint32_t i = 0; i < vm->nr && i < DUMP_MAX_VCPUS; i++) {
		atomic_store(&vm->vcpus[i].dump_regs, 1);
		vcpu_kick(&vm->vcpus[i]);
	}
}

/*
 * A long run says how it goes, once a minute on stderr: the time spent
 * against --timeout (all that bounds what is left: the guest decides when
 * it is done), the exits so far and how many vCPUs are halted.
 */
static void progress(struct vm *vm, uint64_t t0)
{
	uint64_t exits = 0;
	uint32_t halted = 0;

	for (uint32_t i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];

		for (int k = 0; k < VMM_EXIT_NR; k++)
			exits += atomic_load(&v->exits[k]);
		halted += v->pi &&
			  atomic_load(&v->pi->state) == VIPI_VCPU_HALTED;
	}
	fprintf(stderr,
		"vipi run: progress: %llu s of at most %u (--timeout), %llu exits, %u of %u vCPUs halted\n",
		(unsigned long long)((now_ns() - t0) / 1000000000ull),
		vm->opt.timeout_s, (unsigned long long)exits, halted, vm->nr);
}

static int wait_done(struct vm *vm)
{
	uint64_t t0 = now_ns(), next = t0 + 60 * 1000000000ull;
	uint64_t deadline = t0 + (uint64_t)vm->opt.timeout_s * 1000000000ull;

	signal(SIGUSR2, on_sigusr2);
	while (!atomic_load(&vm->done)) {
		if (now_ns() > next) {
			next += 60 * 1000000000ull;
			progress(vm, t0);
		}
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		if (dump_asked) {
			dump_asked = 0;
			fprintf(stderr, "vipi run: SIGUSR2: engine state\n");
			dump_engine(vm);
		}
		if (now_ns() > deadline) {
			dump_engine(vm);
			vm_finish(
				vm, VIPI_EXIT_FAIL,
				"the guest did not finish within %u s (--timeout)",
				vm->opt.timeout_s);
			break;
		}
		nanosleep(&ts, NULL);
		for (uint32_t i = 0; i < vm->nr; i++) {
			struct vcpu *v = &vm->vcpus[i];
			uint64_t d = atomic_load(&v->probe_deadline_ns);

			if (d && now_ns() > d) {
				atomic_store(&v->probe_deadline_ns, 0);
				atomic_store(&v->probe_expired, 1);
				vcpu_kick(v);
			}
		}
	}
	for (uint32_t i = 0; i < vm->nr; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	return vm->status;
}

/* What the command line says besides vm->opt. */
struct run_args {
	uint32_t nr; /* --vcpus, else 1 */
	bool have_nr;
	uint64_t mib; /* --mem, else 0 (the default of the mode) */
	const char *guest_only; /* an option of vipi's own guest */
};

enum run_opt {
	RUN_OPT_VCPUS = 256,
	RUN_OPT_TOPOLOGY,
	RUN_OPT_IRQCHIP,
	RUN_OPT_METHOD,
	RUN_OPT_WORKLOAD,
	RUN_OPT_TARGETS,
	RUN_OPT_KERNEL,
	RUN_OPT_APPEND,
	RUN_OPT_INITRD,
	RUN_OPT_OPS,
	RUN_OPT_MEM,
	RUN_OPT_FANOUT,
	RUN_OPT_TIMEOUT,
	RUN_OPT_JSON,
	RUN_OPT_HYPERV,
	RUN_OPT_TESTDEV,
	RUN_OPT_PV_EOI,
	RUN_OPT_XAPIC,
};

static const struct option run_options[] = {
	{ "vcpus", required_argument, NULL, RUN_OPT_VCPUS },
	{ "topology", required_argument, NULL, RUN_OPT_TOPOLOGY },
	{ "irqchip", required_argument, NULL, RUN_OPT_IRQCHIP },
	{ "method", required_argument, NULL, RUN_OPT_METHOD },
	{ "workload", required_argument, NULL, RUN_OPT_WORKLOAD },
	{ "targets", required_argument, NULL, RUN_OPT_TARGETS },
	{ "kernel", required_argument, NULL, RUN_OPT_KERNEL },
	{ "append", required_argument, NULL, RUN_OPT_APPEND },
	{ "initrd", required_argument, NULL, RUN_OPT_INITRD },
	{ "ops", required_argument, NULL, RUN_OPT_OPS },
	{ "mem", required_argument, NULL, RUN_OPT_MEM },
	{ "fanout", required_argument, NULL, RUN_OPT_FANOUT },
	{ "timeout", required_argument, NULL, RUN_OPT_TIMEOUT },
	{ "json", no_argument, NULL, RUN_OPT_JSON },
	{ "hyperv", no_argument, NULL, RUN_OPT_HYPERV },
	{ "testdev", no_argument, NULL, RUN_OPT_TESTDEV },
	{ "pv-eoi", no_argument, NULL, RUN_OPT_PV_EOI },
	{ "xapic", no_argument, NULL, RUN_OPT_XAPIC },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

#define RUN_USAGE(...) util_usage_error("run", run_usage, __VA_ARGS__)

static void run_defaults(struct vm_options *o, struct run_args *ra)
{
	o->irqchip = VIPI_IRQCHIP_KERNEL;
	o->method = NULL; /* x2apic-phys, or xapic-phys with --xapic */
	o->workload = VIPI_WL_BOOT;
	o->ops = 0;
	o->timeout_s = 300;
	o->fanout = 2;
	ra->nr = 1;
	ra->have_nr = false;
	ra->mib = 0;
	ra->guest_only = NULL;
}

/* A flag: true when opt is one (and it is set). */
static bool run_parse_flag(struct vm_options *o, struct run_args *ra, int opt)
{
	switch (opt) {
	case RUN_OPT_JSON:
		o->json = true;
		return true;
	case RUN_OPT_HYPERV:
		o->hyperv = true;
		return true;
	case RUN_OPT_TESTDEV:
		o->testdev = true;
		return true;
	case RUN_OPT_PV_EOI:
		o->pv_eoi = true;
		ra->guest_only = "--pv-eoi";
		return true;
	case RUN_OPT_XAPIC:
		/* vipi's guest: stay in xAPIC mode; --kernel: no x2APIC in
		 * CPUID */
		o->xapic = true;
		return true;
	case 'v':
		o->verbose = true;
		return true;
	default:
		return false;
	}
}

/* The options whose value is a name or a count; 0 or the usage status. */
static int run_parse_choice(struct vm_options *o, struct run_args *ra, int opt,
			    const char *v)
{
	switch (opt) {
	case RUN_OPT_IRQCHIP:
		if (!strcmp(v, "user"))
			o->irqchip = VIPI_IRQCHIP_USER;
		else if (!strcmp(v, "kernel"))
			o->irqchip = VIPI_IRQCHIP_KERNEL;
		else
			return RUN_USAGE("--irqchip '%s': user or kernel", v);
		return 0;
	case RUN_OPT_WORKLOAD:
		if (run_workload_find(v, &o->workload))
			return RUN_USAGE(
				"--workload '%s': not one of boot pingpong multicast broadcast shootdown storm badinput emulate lapic",
				v);
		ra->guest_only = "--workload";
		return 0;
	case RUN_OPT_VCPUS:
		if (util_parse_u32(v, &ra->nr) || ra->nr == 0)
			return RUN_USAGE(
				"--vcpus '%s': a count from 1 (vipi's guest: at most %u)",
				v, VIPI_GUEST_MAX_CPUS);
		ra->have_nr = true;
		return 0;
	case RUN_OPT_OPS:
		ra->guest_only = "--ops";
		if (util_parse_u32(v, &o->ops) || !o->ops)
			return RUN_USAGE(
				"--ops '%s': a count from 1 (default: pingpong 100, storm 10, the others 50)",
				v);
		return 0;
	case RUN_OPT_MEM:
		if (util_parse_u64(v, KERNEL_MAX_MEM_MIB, &ra->mib) ||
		    ra->mib < 16)
			return RUN_USAGE(
				"--mem '%s': MiB, 16-3072 (--kernel: 16-%llu)",
				v, KERNEL_MAX_MEM_MIB);
		return 0;
	case RUN_OPT_FANOUT:
		if (!strcmp(v, "off"))
			o->fanout = UINT32_MAX;
		else if (util_parse_u32(v, &o->fanout) ||
			 o->fanout == UINT32_MAX)
			return RUN_USAGE("--fanout '%s': a count or off", v);
		return 0;
	case RUN_OPT_TIMEOUT:
		if (util_parse_u32(v, &o->timeout_s) || !o->timeout_s)
			return RUN_USAGE("--timeout '%s': seconds", v);
		return 0;
	default:
		return RUN_USAGE("option %d has no parser", opt);
	}
}

/* An option with a value; 0 or the usage status. */
static int run_parse_value(struct vm_options *o, struct run_args *ra, int opt,
			   const char *v)
{
	switch (opt) {
	case RUN_OPT_TOPOLOGY:
		o->topology = v;
		return 0;
	case RUN_OPT_METHOD:
		o->method = v;
		ra->guest_only = "--method";
		return 0;
	case RUN_OPT_TARGETS:
		o->targets = v;
		ra->guest_only = "--targets";
		return 0;
	case RUN_OPT_KERNEL:
		o->kernel = v;
		return 0;
	case RUN_OPT_APPEND:
		o->append = v;
		return 0;
	case RUN_OPT_INITRD:
		o->initrd = v;
		return 0;
	default:
		return run_parse_choice(o, ra, opt, v);
	}
}

/* What only the whole command line can say: 0 or the usage status. */
static int run_args_finish(struct vm_options *o, const struct run_args *ra)
{
	if (!o->method)
		o->method = o->xapic ? "xapic-phys" : "x2apic-phys";
	if (o->kernel && ra->guest_only)
		return RUN_USAGE(
			"%s is an option of vipi's own guest; with --kernel the kernel runs what it runs",
			ra->guest_only);
	if (!o->kernel && (o->append || o->initrd))
		return RUN_USAGE("%s needs --kernel",
				 o->append ? "--append" : "--initrd");
	if (!o->kernel && ra->mib > 3072)
		return RUN_USAGE(
			"--mem %llu: vipi's guest takes at most 3072 MiB",
			(unsigned long long)ra->mib);
	o->mem_size = ra->mib << 20;
	return 0;
}

/*
 * The options, in order (getopt_long, opt.h): --opt VALUE or
 * --opt=VALUE, a later one overriding an earlier; no operands.
 */
static int parse_args(struct vm *vm, int argc, char **argv, struct run_args *ra)
{
	struct vm_options *o = &vm->opt;
	struct opt_scan s;
	int opt, r;

	run_defaults(o, ra);
	opt_scan_init(&s, argc, argv, "v", run_options);
	while ((opt = opt_scan_next(&s)) != -1) {
		if (opt == '?')
			return RUN_USAGE("%s", s.problem);
		if (run_parse_flag(o, ra, opt))
			continue;
		r = run_parse_value(o, ra, opt, optarg);
		if (r)
			return r;
	}
	if (optind < argc)
		return RUN_USAGE("unknown option '%s'", argv[optind]);
	return run_args_finish(o, ra);
}

/*
 * Build the VM the options ask for, run it and report: the exit status.
 * The KVM objects are released here whatever happened.
 */
static int run_vm(struct vm *vm)
{
	int r, status = VIPI_EXIT_FAIL;

	engine_kick_signal_init();
	r = kvm_open(vm);
	if (r)
		goto out; /* kvm_open said why, in one line */
	if (run_check_host(vm)) {
		status = VIPI_EXIT_USAGE;
		goto out;
	}
	r = kvm_create_vm(vm);
	if (!r)
		r = vm->opt.kernel ? kernel_setup_memory(vm) :
				     x86_setup_memory(vm);
	if (!r)
		r = kvm_create_vcpus(vm);
	if (!r)
		r = vm->opt.kernel ? kernel_setup_bsp(vm, &vm->vcpus[0]) :
				     x86_setup_bsp(vm, &vm->vcpus[0]);
	if (!r)
		r = engine_init(vm);
	if (!r)
		r = pc_init(vm);
	if (r) {
		fprintf(stderr, "vipi run: cannot set up the VM: %s\n",
			strerror(-r));
		goto out;
	}
	if (vm->opt.verbose)
		fprintf(stderr, "vipi run: VM ready in %.1f ms\n",
			(double)(now_ns() - vm->start_ns) / 1e6);
	r = vcpu_start_all(vm);
	if (!r) {
		r = engine_start(vm);
		if (r)
			vm_finish(vm, VIPI_EXIT_FAIL,
				  "cannot start the kicker thread: %s",
				  strerror(-r));
	}
	status = wait_done(vm);
	report(vm);
out:
	pc_stop(vm);
	engine_stop(vm);
	kvm_destroy(vm);
	kernel_free(vm);
	if (vm->topo)
		vipi_topo_destroy(vm->topo);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct vm vm;
	struct run_args ra;
	char why[256] = "";
	int r;

	if (util_wants_help(argc, argv)) {
		run_help();
		return VIPI_EXIT_OK;
	}
	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = -1;
	pthread_mutex_init(&vm.lock, NULL);
	pthread_mutex_init(&vm.errlog_lock, NULL);
	r = parse_args(&vm, argc, argv, &ra);
	if (r)
		return r;
	r = build_topology(&vm, ra.nr, ra.have_nr);
	if (r)
		return r;
	r = run_check(&vm.opt, vm.topo, why, sizeof(why));
	if (r) {
		vipi_topo_destroy(vm.topo);
		if (r == -EOPNOTSUPP)
			return report_skip(&vm, why);
		return util_usage_error("run", run_usage, "%s", why);
	}
	vm.mem_size = vm.opt.mem_size;
	if (!vm.mem_size)
		vm.mem_size =
			vm.opt.kernel ?
				KERNEL_DEFAULT_MEM :
				(64ull << 20) + (uint64_t)vm.nr * (64ull << 10);
	vm.start_ns = now_ns();
	if (vm.opt.kernel) {
		/* the files are checked before any KVM object exists */
		r = kernel_prepare(&vm);
		if (r) {
			if (r != -ENOEXEC)
				fprintf(stderr, "vipi run: --kernel: %s\n",
					strerror(-r));
			kernel_free(&vm);
			vipi_topo_destroy(vm.topo);
			return r == -ENOEXEC ? VIPI_EXIT_USAGE : VIPI_EXIT_FAIL;
		}
	}
	return run_vm(&vm);
}
