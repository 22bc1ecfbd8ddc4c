// SPDX-License-Identifier: MIT
/*
 * Embedding libvipi: what a VMM does with one IPI. Parse the VM's
 * topology, decode the x2APIC ICR write a guest made (WRMSR to MSR 0x830),
 * deliver the interrupt into the targets' posted-interrupt descriptors
 * (kicking or waking the vCPUs that need it), and take the vector on a
 * target's side as its vCPU thread would before it enters the guest.
 *
 *   cc -std=c11 embed.c $(pkg-config --cflags --libs vipi) -o embed
 */
#include <stdio.h>
#include <vipi/vipi.h>

static void kick(void *opaque, uint32_t vcpu)
{
	(void)opaque;
	printf("kick vCPU %u (running guest code: force an exit)\n", vcpu);
}

static void wake(void *opaque, uint32_t vcpu)
{
	(void)opaque;
	printf("wake vCPU %u (halted)\n", vcpu);
}

static const struct vipi_kick_ops kick_ops = { kick, wake };

int main(void)
{
	struct vipi_topo *topo;
	struct vipi_host host = { 0 };
	struct vipi_cpuset targets;
	struct vipi_ipi ipi = { .targets = &targets };
	struct vipi_delivery d;
	struct vipi_deliver_stats st = { 0 };
	uint64_t irr[4] = { 0 }, tmr[4];
	uint32_t sipi;
	char err[128];
	const char *sep = " ";
	int32_t c;
	/*
	 * The guest's ICR: x2APIC logical mode (bit 11), fixed, vector 0x40,
	 * destination cluster 0x12 with bits 12 and 13: APIC IDs 300, 301
	 */
	uint64_t icr = 0x123000ull << 32 | 1u << 11 | 0x40;

	if (vipi_topo_parse("x86:ids:0,8,300,301", &topo, err, sizeof(err))) {
		fprintf(stderr, "topology: %s\n", err);
		return 1;
	}
	host.topo = topo;
	if (vipi_cpuset_init(&targets, vipi_topo_nr_vcpus(topo)) ||
	    vipi_delivery_init(&d, vipi_topo_nr_vcpus(topo), &kick_ops, NULL))
		return 1;

	/* vCPU 0 wrote the ICR: the architecture's answer, or its error */
	if (vipi_decode_x2apic_icr(&host, 0, icr, &ipi) || ipi.status)
		return 1;
	printf("ICR 0x%llx from vCPU 0: %s vector 0x%x to",
	       (unsigned long long)icr, vipi_dm_name(ipi.mode), ipi.vector);
	vipi_cpuset_for_each(c, &targets) {
		printf("%svCPU %d (APIC ID %u)", sep, c,
		       vipi_topo_apic_id(topo, (uint32_t)c));
		sep = ", ";
	}
	printf("\n");

	/* vCPU 2 runs guest code, vCPU 3 is halted */
	vipi_pi_set_state(&d.pi[2], VIPI_VCPU_IN_GUEST);
	vipi_pi_set_state(&d.pi[3], VIPI_VCPU_HALTED);
	if (vipi_deliver(&d, &ipi, &st))
		return 1;
	printf("delivered %u: %u kick, %u wake\n", st.delivered, st.kicks,
	       st.wakes);

	/* vCPU 2's thread, back in the VMM: take what is pending */
	vipi_pi_set_state(&d.pi[2], VIPI_VCPU_IN_VMM);
	vipi_delivery_take(&d, 2, irr, tmr, &sipi);
	printf("vCPU 2 takes: irr[1] = 0x%llx (vector 0x40)\n",
	       (unsigned long long)irr[1]);

	vipi_delivery_destroy(&d);
	vipi_cpuset_destroy(&targets);
	vipi_topo_destroy(topo);
	return 0;
}
