// SPDX-License-Identifier: MIT
/*
 * vipi_deliver()'s software pipeline over the targets (lib/deliver.c
 * prefetches a target's descriptor some targets before it posts to it, and
 * posts the last ones when the set ends): whatever the set's size and
 * shape, every target is posted exactly once, in ascending order, with the
 * kick rules of include/vipi/deliver.h, and nothing else is touched. The
 * sets are cut where a pipeline can go wrong: one target, a set that ends
 * before the pipeline fills, one that fills it exactly or by one more,
 * targets in the last (partial) block and at the top of a VIPI_MAX_VCPUS
 * VM, one target per block, every vCPU. The expected figures come from
 * the set and the vCPU states the test chose, never from the library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/deliver.h>
#include <vipi/topo.h>

#include "lib/tap.h"

#define VEC 0x61 /* pir[1] bit 33 */

/* What the kick callbacks saw, in call order. */
struct seen {
	uint32_t *order;
	uint32_t n, cap;
	uint32_t kicks, wakes;
	bool ascending;
};

static void seen_add(struct seen *s, uint32_t vcpu)
{
	if (s->n && s->order[s->n - 1] >= vcpu)
		s->ascending = false;
	if (s->n < s->cap)
		s->order[s->n] = vcpu;
	s->n++;
}

static void seen_kick(void *opaque, uint32_t vcpu)
{
	struct seen *s = opaque;

	s->kicks++;
	seen_add(s, vcpu);
}

static void seen_wake(void *opaque, uint32_t vcpu)
{
	struct seen *s = opaque;

	s->wakes++;
	seen_add(s, vcpu);
}

static const struct vipi_kick_ops seen_ops = { seen_kick, seen_wake };

/* The state the test gives vCPU v: a mix that exercises every kick rule. */
static enum vipi_vcpu_state state_of(uint32_t v)
{
	static const enum vipi_vcpu_state pat[4] = {
		VIPI_VCPU_IN_GUEST,
		VIPI_VCPU_HALTED,
		VIPI_VCPU_IN_VMM,
		VIPI_VCPU_PREEMPTED,
	};

	return pat[(v * 7 + (v >> 6)) & 3];
}

struct vm {
	struct vipi_delivery d;
	struct seen seen;
	uint32_t nr;
};

static void vm_init(struct vm *vm, uint32_t nr)
{
	uint32_t v;

	memset(vm, 0, sizeof(*vm));
	vm->nr = nr;
	vm->seen.cap = nr;
	vm->seen.order = calloc(nr, sizeof(uint32_t));
	if (!vm->seen.order ||
	    vipi_delivery_init(&vm->d, nr, &seen_ops, &vm->seen))
		tap_bail("delivery init");
	for (v = 0; v < nr; v++)
		vipi_pi_set_state(&vm->d.pi[v], state_of(v));
}

static void vm_fini(struct vm *vm)
{
	vipi_delivery_destroy(&vm->d);
	free(vm->seen.order);
}

static void seen_reset(struct seen *s)
{
	s->n = 0;
	s->kicks = 0;
	s->wakes = 0;
	s->ascending = true;
}

/*
 * Send a fixed edge IPI with vector VEC to set and check everything the
 * pipeline could get wrong; one test point per case. Then take from every
 * vCPU, so the next case starts clean.
 */
static void check_fixed(struct vm *vm, struct vipi_cpuset *set,
			const char *name)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_ipi ipi = { .targets = set, .vector = VEC };
	struct vipi_deliver_stats st;
	uint32_t want = 0, guest = 0, halted = 0, bad = 0, v, k = 0;
	int r;

	for (v = 0; v < vm->nr; v++) {
		if (!vipi_cpuset_test(set, v))
			continue;
		want++;
		guest += state_of(v) == VIPI_VCPU_IN_GUEST;
		halted += state_of(v) == VIPI_VCPU_HALTED;
	}
	seen_reset(&vm->seen);
	r = vipi_deliver(&vm->d, &ipi, &st);
	for (v = 0; v < vm->nr; v++) {
		struct vipi_pi *pi = &vm->d.pi[v];
		bool in = vipi_cpuset_test(set, v);
		uint64_t irr[4] = { 0 }, tmr[4];
		uint32_t ev;

		/* a kicked or woken vCPU appears in the callbacks' order */
		if (in && (state_of(v) == VIPI_VCPU_IN_GUEST ||
			   state_of(v) == VIPI_VCPU_HALTED)) {
			if (k >= vm->seen.n || vm->seen.order[k] != v)
				bad++;
			k++;
		}
		if (atomic_load(&pi->notify) != in)
			bad++;
		ev = vipi_delivery_take(&vm->d, v, irr, tmr, NULL);
		if (ev || tmr[0] | tmr[1] | tmr[2] | tmr[3])
			bad++;
		if (irr[0] || irr[2] || irr[3] ||
		    irr[1] != (in ? 1ull << (VEC & 63) : 0))
			bad++;
	}
	field_i64(&f, r, 0);
	field_u64(&f, st.delivered, want);
	field_u64(&f, st.kicks, guest);
	field_u64(&f, st.wakes, halted);
	field_u64(&f, st.coalesced, 0);
	field_u64(&f, st.deferred, 0);
	field_u64(&f, vm->seen.kicks, guest);
	field_u64(&f, vm->seen.wakes, halted);
	field_u64(&f, vm->seen.ascending, 1);
	field_u64(&f, k, vm->seen.n);
	field_u64(&f, bad, 0);
	fields_ok(
		&f,
		"%s: %u targets posted once each, in order (%u kicks, %u wakes)",
		name, want, guest, halted);
	if (bad || st.delivered != want)
		tap_diag("r %d delivered %u kicks %u wakes %u coalesced %u, "
			 "%u wrong descriptors",
			 r, st.delivered, st.kicks, st.wakes, st.coalesced,
			 bad);
}

static void set_list(struct vipi_cpuset *set, const char *list)
{
	vipi_cpuset_clear(set);
	if (vipi_cpuset_parse(set, list))
		tap_bail(list);
}

/* Sets of a 1000-vCPU VM: its last block (960..999) is partial. */
static void test_shapes(void)
{
	static const struct {
		const char *list, *name;
	} cases[] = {
		{ "5", "one target in the first block" },
		{ "999", "one target, the VM's last vCPU" },
		{ "960-969", "a set that ends before the pipeline fills" },
		{ "600-615", "as many targets as the pipeline holds" },
		{ "600-616", "one more than the pipeline holds" },
		{ "0,64,128,192,256,320,384,448,512,576,640,704,768,832,896,"
		  "960,999",
		  "one target per block, 17 blocks" },
		{ "3,70-75,400,512-530,700,961-999",
		  "runs and singles, ending in the partial last block" },
		{ "0-998", "all but the last vCPU" },
		{ "0-999", "every vCPU" },
	};
	struct vipi_cpuset set;
	struct vm vm;
	unsigned int i;

	vm_init(&vm, 1000);
	vipi_cpuset_init(&set, 1000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_list(&set, cases[i].list);
		check_fixed(&vm, &set, cases[i].name);
	}
	/* sizes 1..40 at a stride that crosses a block every few targets */
	{
		uint32_t n, t, fails = 0;

		for (n = 1; n <= 40; n++) {
			struct vipi_deliver_stats st;
			struct vipi_ipi ipi = { .targets = &set,
						.vector = VEC };
			uint64_t irr[4], tmr[4];
			uint32_t got = 0;

			vipi_cpuset_clear(&set);
			for (t = 0; t < n; t++)
				vipi_cpuset_add(&set, 11 + t * 23);
			vipi_deliver(&vm.d, &ipi, &st);
			for (t = 0; t < 1000; t++) {
				memset(irr, 0, sizeof(irr));
				vipi_delivery_take(&vm.d, t, irr, tmr, NULL);
				if (irr[1] >> (VEC & 63) & 1)
					got += vipi_cpuset_test(&set, t) ? 1 :
									   1000;
			}
			if (st.delivered != n || got != n)
				fails++;
		}
		is_u64(fails, 0,
		       "sets of 1..40 targets across blocks: each reached once");
	}
	vipi_cpuset_destroy(&set);
	vm_fini(&vm);
}

/* The largest VM: targets in its last block and scattered sparsely. */
static void test_max_vm(void)
{
	struct vipi_cpuset set;
	uint64_t rng = tap_seed();
	struct vm vm;
	uint32_t i;

	vm_init(&vm, VIPI_MAX_VCPUS);
	vipi_cpuset_init(&set, VIPI_MAX_VCPUS);
	set_list(&set, "262143");
	check_fixed(&vm, &set, "262144 vCPUs: the last vCPU alone");
	set_list(&set, "262080-262143");
	check_fixed(&vm, &set, "262144 vCPUs: the whole last block");
	set_list(&set, "0,131072,262140-262143");
	check_fixed(&vm, &set, "262144 vCPUs: first, middle and last four");
	vipi_cpuset_clear(&set);
	for (i = 0; i < 2600; i++)
		vipi_cpuset_add(&set,
				(uint32_t)tap_rand_below(&rng, VIPI_MAX_VCPUS));
	check_fixed(&vm, &set, "262144 vCPUs: ~1% random");
	vipi_cpuset_destroy(&set);
	vm_fini(&vm);
}

/* The other modes go through the same pipeline with their own posting. */
static void test_modes(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset set;
	struct vipi_ipi ipi = { .targets = &set };
	struct vipi_deliver_stats st;
	uint32_t v, bad, want_def = 0, want_del = 0;
	struct vm vm;

	vm_init(&vm, 1000);
	vipi_cpuset_init(&set, 1000);
	set_list(&set, "1-20,500,900-999");

	/* level-triggered: a level mark with every PIR bit */
	ipi.mode = VIPI_DM_FIXED;
	ipi.vector = 0xc5; /* word 3, bit 5 */
	ipi.trigger = 1;
	vipi_deliver(&vm.d, &ipi, &st);
	for (bad = 0, v = 0; v < 1000; v++) {
		uint64_t irr[4] = { 0 }, tmr[4];
		uint64_t w = vipi_cpuset_test(&set, v) ? 1ull << 5 : 0;

		vipi_delivery_take(&vm.d, v, irr, tmr, NULL);
		bad += irr[3] != w || tmr[3] != w || irr[0] | irr[1] | irr[2] ||
		       tmr[0] | tmr[1] | tmr[2];
	}
	field_u64(&f, bad, 0);
	field_u64(&f, st.delivered, 121);
	fields_ok(&f,
		  "level IPI to 121 targets: PIR bit and level mark on each");

	/* NMI, then SIPI: latched events, the SIPI vector with its flag */
	ipi.trigger = 0;
	ipi.mode = VIPI_DM_NMI;
	vipi_deliver(&vm.d, &ipi, &st);
	ipi.mode = VIPI_DM_SIPI;
	ipi.vector = 0x9a;
	vipi_deliver(&vm.d, &ipi, &st);
	for (bad = 0, v = 0; v < 1000; v++) {
		uint64_t irr[4] = { 0 }, tmr[4];
		uint32_t sv = 0, ev;
		bool in = vipi_cpuset_test(&set, v);

		ev = vipi_delivery_take(&vm.d, v, irr, tmr, &sv);
		bad += ev != (in ? VIPI_PI_NMI | VIPI_PI_SIPI : 0u) ||
		       (in && sv != 0x9a) || irr[0] | irr[1] | irr[2] | irr[3];
	}
	field_u64(&f, bad, 0);
	field_u64(&f, st.delivered, 121);
	fields_ok(
		&f,
		"NMI and SIPI to 121 targets: both latched, SIPI vector 0x9a");

	/* PV TLB flush: only vCPUs in guest mode are interrupted */
	ipi.mode = VIPI_DM_FIXED;
	ipi.vector = VEC;
	ipi.flags = VIPI_IPI_TLB_FLUSH;
	vipi_deliver(&vm.d, &ipi, &st);
	for (bad = 0, v = 0; v < 1000; v++) {
		uint64_t irr[4] = { 0 }, tmr[4];
		bool in = vipi_cpuset_test(&set, v);
		bool run = state_of(v) == VIPI_VCPU_IN_GUEST;
		bool flush = atomic_load(&vm.d.pi[v].flush_tlb) != 0;

		want_def += in && !run;
		want_del += in && run;
		vipi_delivery_take(&vm.d, v, irr, tmr, NULL);
		bad += flush != in || irr[1] != (in && run ? 1ull << 33 : 0);
		atomic_store(&vm.d.pi[v].flush_tlb, 0);
	}
	field_u64(&f, bad, 0);
	field_u64(&f, st.deferred, want_def);
	field_u64(&f, st.delivered, want_del);
	fields_ok(&f, "TLB flush: %u running targets interrupted, %u deferred",
		  want_del, want_def);

	/* ExtINT is not posted; with the flush flag only marks are left */
	ipi.mode = VIPI_DM_EXTINT;
	ipi.flags = 0;
	vipi_deliver(&vm.d, &ipi, &st);
	field_u64(&f, st.delivered, 0);
	field_u64(&f, st.deferred, 0);
	field_u64(&f, vipi_pi_pending(&vm.d.pi[1]), 0);
	fields_ok(&f, "ExtINT: nothing posted");
	ipi.flags = VIPI_IPI_TLB_FLUSH;
	vipi_deliver(&vm.d, &ipi, &st);
	for (bad = 0, v = 0; v < 1000; v++) {
		bool in = vipi_cpuset_test(&set, v);

		bad += vipi_pi_pending(&vm.d.pi[v]) ||
		       (atomic_load(&vm.d.pi[v].flush_tlb) != 0) != in;
	}
	field_u64(&f, bad, 0);
	field_u64(&f, st.delivered, 0);
	field_u64(&f, st.deferred, want_def);
	fields_ok(
		&f,
		"ExtINT with TLB flush: marks on targets, %u deferred, no post",
		want_def);

	/* a second send while notified coalesces on every target */
	for (v = 0; v < 1000; v++)
		atomic_store(&vm.d.pi[v].flush_tlb, 0);
	ipi.mode = VIPI_DM_FIXED;
	ipi.flags = 0;
	vipi_deliver(&vm.d, &ipi, &st);
	vipi_deliver(&vm.d, &ipi, &st);
	field_u64(&f, st.delivered, 121);
	field_u64(&f, st.coalesced, 121);
	field_u64(&f, st.kicks, 0);
	field_u64(&f, st.wakes, 0);
	fields_ok(&f, "second send before any take: 121 coalesced, no kick");

	/* a target outside the VM: refused before anything is posted */
	vipi_cpuset_destroy(&set);
	vm_fini(&vm);
	vm_init(&vm, 1000);
	vipi_cpuset_init(&set, 2000);
	set_list(&set, "0-40,1000");
	field_i64(&f, vipi_deliver(&vm.d, &ipi, &st), -EINVAL);
	field_u64(&f, st.delivered, 0);
	field_u64(&f, vipi_pi_pending(&vm.d.pi[0]), 0);
	field_u64(&f, vipi_pi_pending(&vm.d.pi[40]), 0);
	fields_ok(&f, "a target above the VM: -EINVAL, nothing posted");
	vipi_cpuset_destroy(&set);
	vm_fini(&vm);
}

/*
 * Descriptor arrays of 2 MiB and more are allocated apart (2 MiB aligned,
 * huge-page advice): the first and the last descriptor of such a VM work.
 */
static void test_sizes(void)
{
	static const uint32_t sizes[] = { 32767, 32768, 32769, 65536 };
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct vipi_cpuset set;
		char list[32];
		struct vm vm;

		vm_init(&vm, sizes[i]);
		vipi_cpuset_init(&set, sizes[i]);
		snprintf(list, sizeof(list), "0,%u", sizes[i] - 1);
		set_list(&set, list);
		check_fixed(&vm, &set, list);
		vipi_cpuset_destroy(&set);
		vm_fini(&vm);
	}
}

int main(void)
{
	tap_plan(25);
	test_shapes();
	test_max_vm();
	test_modes();
	test_sizes();
	return tap_done();
}
