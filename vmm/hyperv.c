// SPDX-License-Identifier: MIT
/*
 * Hyper-V enlightenments for `vipi run --hyperv` (docs/hyperv.md): the
 * CPUID leaves a stock guest reads to choose Hyper-V's PV IPIs and remote
 * TLB flushes (TLFS "Feature and Interface Discovery"), the synthetic
 * MSRs it touches on the way (TLFS "Synthetic MSRs"; Linux 6.1
 * ms_hyperv_init_platform(), hyperv_init(), hv_cpu_init()), and the
 * delivery of a decoded flush (lib/x86/hyperv.c decodes it): a flush has
 * no guest vector; every target flushes before it next enters the guest,
 * and the sender waits for the running ones.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <vipi/hyperv.h>
#include <vipi/x86.h>

#include "hyperv.h"
#include "vmm.h"

/* the highest CPUID leaf offered (include/vipi/hyperv.h has the leaves) */
#define HV_LEAF_MAX VIPI_HV_CPUID_HW_FEATURES
#define HV_NR_LEAVES (HV_LEAF_MAX - VIPI_HV_CPUID_VENDOR + 1)
#define HV_INTERFACE_HV1 0x31237648u /* "Hv#1" */

/* 0x40000003 EAX: HV_PARTITION_PRIVILEGE_MASK bits 31:0 */
#define HV_PRIV_TIME_REF_COUNT (1u << 1)
#define HV_PRIV_HYPERCALL_MSRS (1u << 5)
#define HV_PRIV_VP_INDEX (1u << 6)
#define HV_PRIV_FREQUENCY_MSRS (1u << 11)
#define HV_PRIV_TSC_INVARIANT (1u << 15)
/* 0x40000003 EDX */
#define HV_FEAT_XMM_INPUT (1u << 4)
#define HV_FEAT_FREQUENCY_MSRS (1u << 8)
/* 0x40000004 EAX: implementation recommendations */
#define HV_HINT_REMOTE_TLB_FLUSH (1u << 2)
#define HV_HINT_CLUSTER_IPI (1u << 10)
#define HV_HINT_EX_PROCESSOR_MASKS (1u << 11)
#define HV_SPINLOCK_NEVER_NOTIFY 0xffffffffu

/* HV_X64_MSR_HYPERCALL: enable 0, locked 1, RsvdP 11:2, GPA 63:12 */
#define HV_HYPERCALL_ENABLE (1ull << 0)
#define HV_HYPERCALL_LOCKED (1ull << 1)
#define HV_HYPERCALL_GPA_MASK (~0xfffull)
/* HV_X64_MSR_VP_ASSIST_PAGE: enable 0, RsvdP 11:1, GPA 63:12 */
#define HV_VP_ASSIST_ENABLE (1ull << 0)
#define HV_TSC_INVARIANT_EXPOSE (1ull << 0)

/*
 * The LAPIC timer's input clock, what HV_X64_MSR_APIC_FREQUENCY reports:
 * vipi_lapic_config.timer_hz 0 means 1 GHz (include/vipi/lapic.h), and
 * the engine leaves it 0. Change both together.
 */
#define HV_APIC_TIMER_HZ 1000000000ull

struct hv_vcpu {
	uint64_t vp_assist; /* HV_X64_MSR_VP_ASSIST_PAGE as written */
	uint32_t *wait; /* flush: kicked targets still to confirm */
	uint64_t *snap; /* their VMM_CNT_FLUSH before the mark */
};

struct hv_vm {
	pthread_mutex_t lock; /* the partition-wide MSRs */
	uint64_t guest_os_id;
	uint64_t hypercall;
	uint64_t tsc_invariant;
	uint64_t tsc_hz; /* 0: unknown, frequency MSRs not offered */
	uint64_t ref_base_ns; /* TIME_REF_COUNT 0 */
	struct hv_vcpu *vcpu;
};

static uint64_t hv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int hv_alloc(struct vm *vm, struct vcpu *v)
{
	struct hv_vm *hv;
	int khz;

	if (vm->hv)
		return 0;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->vcpu = calloc(vm->nr, sizeof(*hv->vcpu));
	if (!hv->vcpu) {
		free(hv);
		return -ENOMEM;
	}
	pthread_mutex_init(&hv->lock, NULL);
	/* api.rst KVM_GET_TSC_KHZ: the rate the guest's TSC counts at */
	khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	hv->tsc_hz = khz > 0 ? (uint64_t)khz * 1000 : 0;
	hv->ref_base_ns = hv_now_ns();
	vm->hv = hv;
	return 0;
}

void hv_destroy(struct vm *vm)
{
	struct hv_vm *hv = vm->hv;

	if (!hv)
		return;
	for (uint32_t i = 0; i < vm->nr; i++) {
		free(hv->vcpu[i].wait);
		free(hv->vcpu[i].snap);
	}
	free(hv->vcpu);
	pthread_mutex_destroy(&hv->lock);
	free(hv);
	vm->hv = NULL;
}

static void hv_fill_leaf(const struct hv_vm *hv, uint32_t leaf,
			 struct kvm_cpuid_entry2 *e)
{
	*e = (struct kvm_cpuid_entry2){ .function = leaf };
	switch (leaf) {
	case VIPI_HV_CPUID_VENDOR:
		/* TLFS: EAX the highest leaf, at least 0x40000005 */
		e->eax = HV_LEAF_MAX;
		memcpy(&e->ebx, "Micr", 4);
		memcpy(&e->ecx, "osof", 4);
		memcpy(&e->edx, "t Hv", 4);
		break;
	case VIPI_HV_CPUID_INTERFACE:
		e->eax = HV_INTERFACE_HV1;
		break;
	case VIPI_HV_CPUID_VERSION:
		e->eax = 1; /* build number */
		e->ebx = 1u << 16; /* version 1.0 */
		break;
	case VIPI_HV_CPUID_FEATURES:
		/*
		 * Linux refuses Hyper-V without HYPERCALL and VP_INDEX
		 * (ms_hyperv_platform()). TSC_INVARIANT: the guest TSC is
		 * KVM's, constant-rate, never migrated; Linux then keeps the
		 * TSC as its clocksource. TIME_REF_COUNT is served but not
		 * offered (docs/hyperv.md: Linux would read time by exit).
		 */
		e->eax = HV_PRIV_HYPERCALL_MSRS | HV_PRIV_VP_INDEX |
			 HV_PRIV_TSC_INVARIANT;
		e->edx = HV_FEAT_XMM_INPUT;
		if (hv->tsc_hz) {
			e->eax |= HV_PRIV_FREQUENCY_MSRS;
			e->edx |= HV_FEAT_FREQUENCY_MSRS;
		}
		break;
	case VIPI_HV_CPUID_HINTS:
		/* what Linux's hv_apic_init() and hyperv_setup_mmu_ops()
		 * test; no APIC-access hint: the x2APIC MSRs serve it */
		e->eax = HV_HINT_REMOTE_TLB_FLUSH | HV_HINT_CLUSTER_IPI |
			 HV_HINT_EX_PROCESSOR_MASKS;
		e->ebx = HV_SPINLOCK_NEVER_NOTIFY;
		break;
	case VIPI_HV_CPUID_LIMITS:
		e->eax = VIPI_HV_MAX_VPS; /* what an HV_VP_SET can name */
		break;
	default:
		break; /* 0x40000006: no hardware features in use */
	}
}

int hv_cpuid_patch(struct vm *vm, struct vcpu *v, struct kvm_cpuid2 **cp)
{
	struct kvm_cpuid2 *c = *cp, *n;
	uint32_t i, out = 0;
	int r;

	/* every vCPU comes here once, before any runs: allocate here, not
	 * from the MSR paths that vCPU threads run at once */
	r = hv_alloc(vm, v);
	if (r || !vm->opt.hyperv)
		return r;
	n = calloc(1, sizeof(*n) + (c->nent + HV_NR_LEAVES + 2) *
					   sizeof(n->entries[0]));
	if (!n)
		return -ENOMEM;
	/* drop KVM's hypervisor leaves (its signature too); vipi's own at
	 * VIPI_CPUID_BASE_DEFAULT (kernel_cpuid) stay */
	for (i = 0; i < c->nent; i++) {
		uint32_t f = c->entries[i].function;

		if (f >= VIPI_HV_CPUID_VENDOR &&
		    f <= VIPI_CPUID_HYPERVISOR_LAST)
			continue;
		n->entries[out++] = c->entries[i];
	}
	for (i = 0; i < HV_NR_LEAVES; i++)
		hv_fill_leaf(vm->hv, VIPI_HV_CPUID_VENDOR + i,
			     &n->entries[out++]);
	/*
	 * The user-mode engine's IOAPIC and MSIs take the 15-bit
	 * destination (engine.c), as with KVM's MSI_EXT_DEST_ID: say so the
	 * way Linux on Hyper-V reads it, so it takes APIC IDs above 255.
	 */
	if (vm->opt.irqchip == VIPI_IRQCHIP_USER) {
		n->entries[out++] = (struct kvm_cpuid_entry2){
			.function = VIPI_HV_CPUID_VS_INTERFACE,
			.eax = VIPI_HV_VS_SIGNATURE,
		};
		n->entries[out++] = (struct kvm_cpuid_entry2){
			.function = VIPI_HV_CPUID_VS_PROPERTIES,
			.eax = VIPI_HV_VS_EXTENDED_IOAPIC_RTE,
		};
	}
	n->nent = out;
	free(c);
	*cp = n;
	return 0;
}

uint32_t hv_host_features(const struct vm *vm)
{
	return VIPI_HOST_HV_IPI | (vm->opt.hyperv ? VIPI_HOST_HV_FLUSH : 0);
}

bool hv_msr_owned(const struct vm *vm, uint32_t msr)
{
	switch (msr) {
	case VIPI_HV_MSR_GUEST_OS_ID:
	case VIPI_HV_MSR_HYPERCALL:
	case VIPI_HV_MSR_VP_INDEX:
		return true;
	case VIPI_HV_MSR_TIME_REF_COUNT:
	case VIPI_HV_MSR_TSC_FREQUENCY:
	case VIPI_HV_MSR_APIC_FREQUENCY:
	case VIPI_HV_MSR_VP_ASSIST_PAGE:
	case VIPI_HV_MSR_TSC_INVARIANT_CONTROL:
		return vm->opt.hyperv;
	default:
		return false;
	}
}

void hv_msr_filter_range(const struct vm *vm,
			 struct kvm_msr_filter_range *range)
{
	/* bits clear: deny, i.e. exit to user space; a range must name
	 * whole bytes of its bitmap */
	static uint8_t deny[HV_MSR_FILTER_COUNT / 8];

	*range = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.nmsrs = vm->opt.hyperv ? HV_MSR_FILTER_COUNT : 3,
		.base = HV_MSR_FILTER_BASE,
		.bitmap = deny,
	};
}

/*
 * TLFS "Hypercall Page": the hypervisor overlays the page at the GPA with
 * its own code; ours is `out %al, $0xe5; ret`, the Hyper-V doorbell
 * (engine_doorbell), the rest int3.
 */
static int hv_write_page(struct vm *vm, uint64_t gpa)
{
	static const uint8_t body[] = { 0xe6, VIPI_PORT_HV_DOORBELL, 0xc3 };
	uint8_t *page = gpa_to_hva(vm, gpa, 4096);

	if (!page)
		return -EPERM;
	memset(page, 0xcc, 4096);
	memcpy(page, body, sizeof(body));
	return 0;
}

/* Allocated by hv_cpuid_patch(), with or without --hyperv. */
static struct hv_vm *hv_state(struct vcpu *v)
{
	return v->vm->hv;
}

static int hv_wr_hypercall(struct vcpu *v, struct hv_vm *hv, uint64_t val)
{
	int r = 0;

	if (hv->hypercall & HV_HYPERCALL_LOCKED)
		return 0; /* TLFS: a locked MSR ignores writes */
	/* TLFS: no hypercall page before a guest OS ID is registered */
	if ((val & HV_HYPERCALL_ENABLE) && !hv->guest_os_id)
		val &= ~(HV_HYPERCALL_ENABLE | HV_HYPERCALL_LOCKED);
	if (val & HV_HYPERCALL_ENABLE)
		r = hv_write_page(v->vm, val & HV_HYPERCALL_GPA_MASK);
	if (!r)
		hv->hypercall = val &
				(HV_HYPERCALL_GPA_MASK | HV_HYPERCALL_ENABLE |
				 HV_HYPERCALL_LOCKED);
	return r;
}

int hv_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct hv_vm *hv = hv_state(v);
	int r = 0;

	if (!hv || !hv_msr_owned(v->vm, msr))
		return -EPERM;
	pthread_mutex_lock(&hv->lock);
	switch (msr) {
	case VIPI_HV_MSR_GUEST_OS_ID:
		hv->guest_os_id = val;
		/* clearing the ID disables the hypercall page (as KVM) */
		if (!val)
			hv->hypercall &= ~HV_HYPERCALL_ENABLE;
		break;
	case VIPI_HV_MSR_HYPERCALL:
		r = hv_wr_hypercall(v, hv, val);
		break;
	case VIPI_HV_MSR_VP_ASSIST_PAGE:
		/* accepted and kept: nothing is offered that uses it, but
		 * Linux's hv_cpu_init() writes it on every CPU */
		hv->vcpu[v->idx].vp_assist =
			val & (HV_HYPERCALL_GPA_MASK | HV_VP_ASSIST_ENABLE);
		break;
	case VIPI_HV_MSR_TSC_INVARIANT_CONTROL:
		if (val & ~HV_TSC_INVARIANT_EXPOSE)
			r = -EPERM;
		else
			hv->tsc_invariant = val;
		break;
	default:
		r = -EPERM; /* VP index, counters, frequencies: read-only */
		break;
	}
	pthread_mutex_unlock(&hv->lock);
	return r;
}

int hv_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct hv_vm *hv = hv_state(v);
	int r = 0;

	*val = 0;
	if (!hv || !hv_msr_owned(v->vm, msr))
		return -EPERM;
	pthread_mutex_lock(&hv->lock);
	switch (msr) {
	case VIPI_HV_MSR_GUEST_OS_ID:
		*val = hv->guest_os_id;
		break;
	case VIPI_HV_MSR_HYPERCALL:
		*val = hv->hypercall;
		break;
	case VIPI_HV_MSR_VP_INDEX:
		*val = v->idx; /* VP index = vCPU index (docs/hyperv.md) */
		break;
	case VIPI_HV_MSR_TIME_REF_COUNT:
		/* TLFS: 100 ns units since the partition was created */
		*val = (hv_now_ns() - hv->ref_base_ns) / 100;
		break;
	case VIPI_HV_MSR_TSC_FREQUENCY:
		*val = hv->tsc_hz;
		r = hv->tsc_hz ? 0 : -EPERM;
		break;
	case VIPI_HV_MSR_APIC_FREQUENCY:
		*val = HV_APIC_TIMER_HZ;
		r = hv->tsc_hz ? 0 : -EPERM;
		break;
	case VIPI_HV_MSR_VP_ASSIST_PAGE:
		*val = hv->vcpu[v->idx].vp_assist;
		break;
	case VIPI_HV_MSR_TSC_INVARIANT_CONTROL:
		*val = hv->tsc_invariant;
		break;
	default:
		r = -EPERM;
		break;
	}
	pthread_mutex_unlock(&hv->lock);
	return r;
}

/*
 * Mark target t and tell whether it must be waited for. The mark is
 * published before the state is read, the target publishes IN_GUEST
 * before it takes the mark (vipi_pi_enter_guest(), both sequentially
 * consistent): a target read as not in guest mode will see the mark and
 * flush before it runs guest code; one read in guest mode is kicked.
 */
static bool hv_mark(struct vcpu *t)
{
	atomic_store(&t->pi->flush_tlb, 1);
	return atomic_load(&t->pi->state) == VIPI_VCPU_IN_GUEST;
}

/*
 * Has kicked target t flushed since snap, or will it before it runs
 * guest code (out of guest mode with the mark still set)? State first,
 * then the mark: a target that took the mark had published IN_GUEST.
 */
static bool hv_flushed(struct vcpu *t, uint64_t snap)
{
	if (atomic_load(&t->exits[VMM_CNT_FLUSH]) != snap)
		return true;
	return atomic_load(&t->pi->state) != VIPI_VCPU_IN_GUEST &&
	       atomic_load(&t->pi->flush_tlb);
}

static int hv_flush_wait(struct vcpu *v, struct hv_vcpu *me, uint32_t n)
{
	struct vm *vm = v->vm;
	uint64_t start = hv_now_ns(), rekick = start + HV_FLUSH_REKICK_NS;
	const struct timespec pause = { 0, 20000 };

	while (n) {
		uint64_t now;

		for (uint32_t i = 0; i < n;) {
			if (hv_flushed(&vm->vcpus[me->wait[i]], me->snap[i])) {
				me->wait[i] = me->wait[n - 1];
				me->snap[i] = me->snap[--n];
			} else {
				i++;
			}
		}
		if (!n)
			break;
		if (atomic_load(&vm->done))
			return -ECANCELED;
		now = hv_now_ns();
		if (now - start > HV_FLUSH_TIMEOUT_NS) {
			vm_finish(
				vm, VIPI_EXIT_FAIL,
				"vCPU %u: Hyper-V flush: vCPU %u did not flush within %llu s",
				v->idx, me->wait[0],
				HV_FLUSH_TIMEOUT_NS / 1000000000ull);
			return -ETIMEDOUT;
		}
		if (now >= rekick) {
			/* a kick that found the target between checks */
			for (uint32_t i = 0; i < n; i++)
				vcpu_kick(&vm->vcpus[me->wait[i]]);
			rekick = now + HV_FLUSH_REKICK_NS;
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

int hv_flush_deliver(struct vcpu *v, const struct vipi_ipi *ipi,
		     struct vipi_deliver_stats *st)
{
	struct vm *vm = v->vm;
	struct hv_vcpu *me;
	uint32_t n = 0;
	int32_t cpu;

	memset(st, 0, sizeof(*st));
	if (ipi->status != VIPI_OK || !(ipi->flags & VIPI_IPI_TLB_FLUSH) ||
	    !hv_state(v))
		return -EINVAL;
	me = &vm->hv->vcpu[v->idx];
	if (!me->wait) {
		me->wait = calloc(vm->nr, sizeof(*me->wait));
		me->snap = calloc(vm->nr, sizeof(*me->snap));
		if (!me->wait || !me->snap)
			return -ENOMEM;
	}
	vipi_cpuset_for_each(cpu, ipi->targets) {
		struct vcpu *t;
		uint64_t snap;

		if ((uint32_t)cpu >= vm->nr)
			return -EINVAL;
		t = &vm->vcpus[cpu];
		/* before the mark: any later flush drops what the guest
		 * changed before this call */
		snap = atomic_load(&t->exits[VMM_CNT_FLUSH]);
		st->delivered++;
		if (!hv_mark(t)) {
			st->deferred++;
			continue;
		}
		st->kicks++;
		vcpu_kick(t);
		me->wait[n] = (uint32_t)cpu;
		me->snap[n++] = snap;
	}
	atomic_fetch_add(&v->exits[VMM_CNT_DELIVERED], st->delivered);
	atomic_fetch_add(&v->exits[VMM_CNT_KICK], st->kicks);
	atomic_fetch_add(&v->exits[VMM_CNT_DEFERRED], st->deferred);
	return hv_flush_wait(v, me, n);
}
