// SPDX-License-Identifier: MIT
/*
 * vipi_decode_msi() against the Intel SDM Vol. 3A 10.11 message address
 * (Figure 10-24) and data (Figure 10-25) formats, plus the two widened
 * destination forms (KVM_CAP_X2APIC_API's upper address, the 15-bit
 * extended destination ID): a table of address/data pairs with literal
 * expected outcomes, one row per rule.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "lib/tap.h"
#include "lib/x86-harness.h"

/* vCPUs 0-3: IDs 0-3, flat logical LDR bit v; then 0x1ff, 0x7ffe, 0x12345678 */
static const uint32_t ids[] = { 0, 1, 2, 3, 0x1ff, 0x7ffe, 0x12345678 };
#define NR (sizeof(ids) / sizeof(ids[0]))

#define X2 VIPI_HOST_MSI_X2APIC
#define EXT VIPI_HOST_MSI_EXT_DEST
#define ANY 0xff /* mode / trigger / level not checked */

static const struct msi_case {
	const char *name;
	uint32_t features;
	uint64_t addr;
	uint32_t data;
	enum vipi_status status;
	const char *targets;
	uint8_t mode, trigger, level;
} cases[] = {
	{ "fixed, physical destination 2 (address 19:12)", 0, 0xfee02000,
	  0x0030, VIPI_OK, "2", VIPI_DM_FIXED, 0, 0 },
	{ "physical destination 0xff is a broadcast", 0, 0xfeeff000, 0x0031,
	  VIPI_OK, "0-6", VIPI_DM_FIXED, 0, 0 },
	{ "physical destination 4 names nobody", 0, 0xfee04000, 0x0031, VIPI_OK,
	  "", VIPI_DM_FIXED, 0, 0 },
	{ "DM (bit 2) logical 0x03: flat LDR bits 0, 1", 0, 0xfee03004, 0x0032,
	  VIPI_OK, "0-1", VIPI_DM_FIXED, 0, 0 },
	{ "logical 0xff is a broadcast", 0, 0xfeeff004, 0x0032, VIPI_OK, "0-6",
	  VIPI_DM_FIXED, 0, 0 },
	{ "RH = 1, DM = 1: lowest priority within the logical group", 0,
	  0xfee0300c, 0x0033, VIPI_OK, "0-1", VIPI_DM_LOWEST, 0, 0 },
	{ "RH = 1, DM = 0: the one physical target", 0, 0xfee02008, 0x0033,
	  VIPI_OK, "2", VIPI_DM_LOWEST, 0, 0 },
	{ "RH = 1 leaves NMI an NMI", 0, 0xfee02008, 0x0400, VIPI_OK, "2",
	  VIPI_DM_NMI, 0, 1 },
	{ "data mode 001b: lowest priority", 0, 0xfee0f004, 0x0134, VIPI_OK,
	  "0-3", VIPI_DM_LOWEST, 0, 0 },
	{ "trigger level (15) with level assert (14)", 0, 0xfee01000, 0xc035,
	  VIPI_OK, "1", VIPI_DM_FIXED, 1, 1 },
	{ "trigger level with level de-assert: nobody", 0, 0xfee01000, 0x8035,
	  VIPI_OK, "", VIPI_DM_FIXED, 1, 0 },
	{ "edge with level bit 0 is sent (don't care)", 0, 0xfee01000, 0x0035,
	  VIPI_OK, "1", VIPI_DM_FIXED, 0, 0 },
	{ "SMI", 0, 0xfee03000, 0x0200, VIPI_OK, "3", VIPI_DM_SMI, 0, 1 },
	{ "NMI", 0, 0xfee03000, 0x0400, VIPI_OK, "3", VIPI_DM_NMI, 0, 1 },
	{ "NMI with trigger level is an edge", 0, 0xfee03000, 0x8400, VIPI_OK,
	  "3", VIPI_DM_NMI, 0, 1 },
	{ "INIT", 0, 0xfee03000, 0x0500, VIPI_OK, "3", VIPI_DM_INIT, 0, 1 },
	{ "ExtINT", 0, 0xfee00000, 0x0700, VIPI_OK, "0", VIPI_DM_EXTINT, 0, 1 },
	{ "reserved mode 011b: nobody", 0, 0xfee00000, 0x0330, VIPI_OK, "", 3,
	  ANY, ANY },
	{ "reserved mode 110b: nobody", 0, 0xfee00000, 0x0630, VIPI_OK, "", 6,
	  ANY, ANY },
	{ "fixed vector 15: receive illegal vector", 0, 0xfee00000, 0x000f,
	  VIPI_ERR_APIC_RECV_ILLEGAL_VECTOR, "", VIPI_DM_FIXED, ANY, ANY },
	{ "lowest vector 0: receive illegal vector", 0, 0xfee00000, 0x0100,
	  VIPI_ERR_APIC_RECV_ILLEGAL_VECTOR, "", VIPI_DM_LOWEST, ANY, ANY },
	{ "fixed vector 16 is legal", 0, 0xfee00000, 0x0010, VIPI_OK, "0",
	  VIPI_DM_FIXED, 0, 0 },
	{ "data bits 31:16 are ignored", 0, 0xfee02000, 0xabcd0030, VIPI_OK,
	  "2", VIPI_DM_FIXED, 0, 0 },
	{ "address bits 11:4 and 1:0 are ignored", 0, 0xfee02ff3, 0x0030,
	  VIPI_OK, "2", VIPI_DM_FIXED, 0, 0 },
	{ "address 0xfed02000 is not an interrupt: invalid", 0, 0xfed02000,
	  0x0030, VIPI_ERR_MSI_INVALID, "", ANY, ANY, ANY },
	{ "address 0xfef00000: invalid", 0, 0xfef00000, 0x0030,
	  VIPI_ERR_MSI_INVALID, "", ANY, ANY, ANY },
	{ "address 0: invalid", 0, 0, 0x0030, VIPI_ERR_MSI_INVALID, "", ANY,
	  ANY, ANY },
	{ "upper address without the x2APIC format: invalid", 0, 0x1fee02000ull,
	  0x0030, VIPI_ERR_MSI_INVALID, "", ANY, ANY, ANY },
	{ "x2APIC format: upper address 0x12345600 | 0x78 = ID 0x12345678", X2,
	  0x12345600fee78000ull, 0x0030, VIPI_OK, "6", VIPI_DM_FIXED, 0, 0 },
	{ "x2APIC format: upper address bits 7:0 set: invalid", X2,
	  0x12345601fee78000ull, 0x0030, VIPI_ERR_MSI_INVALID, "", ANY, ANY,
	  ANY },
	{ "x2APIC format: upper address 0 keeps 0xff a broadcast", X2,
	  0xfeeff000, 0x0030, VIPI_OK, "0-6", VIPI_DM_FIXED, 0, 0 },
	{ "x2APIC format: 0xffffffff is a broadcast", X2, 0xffffff00feeff000ull,
	  0x0030, VIPI_OK, "0-6", VIPI_DM_FIXED, 0, 0 },
	{ "x2APIC format: 0x1ff (upper 0x100, low 0xff) is ID 0x1ff", X2,
	  0x00000100feeff000ull, 0x0030, VIPI_OK, "4", VIPI_DM_FIXED, 0, 0 },
	{ "ext dest: 0xff | (address 11:5 = 1) << 8 is ID 0x1ff", EXT,
	  0xfeeff020, 0x0030, VIPI_OK, "4", VIPI_DM_FIXED, 0, 0 },
	{ "ext dest: 0xfe | 0x7f << 8 is ID 0x7ffe", EXT, 0xfeefefe0, 0x0030,
	  VIPI_OK, "5", VIPI_DM_FIXED, 0, 0 },
	{ "ext dest off: address 11:5 ignored, 0xfe names nobody", 0,
	  0xfeefefe0, 0x0030, VIPI_OK, "", VIPI_DM_FIXED, 0, 0 },
	{ "ext dest: bits 11:5 zero keep 0xff a broadcast", EXT, 0xfeeff000,
	  0x0030, VIPI_OK, "0-6", VIPI_DM_FIXED, 0, 0 },
};

static void test_cases(void)
{
	struct x86h_decoded d;
	struct x86h_vm vm;
	uint32_t v;
	size_t i;

	if (!x86h_vm_init(&vm, ids, NR))
		tap_bail("topology");
	if (vipi_xapic_create(vm.topo, &vm.host.xapic))
		tap_bail("xapic");
	for (v = 0; v < 4; v++)
		vipi_xapic_set_ldr(vm.host.xapic, v, (1u << v) << 24);
	x86h_dec_init(&d, NR);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct msi_case *c = &cases[i];
		bool good;

		vm.host.features = c->features;
		vipi_cpuset_add(&d.set, 6); /* dirty: must be cleared */
		d.rc = vipi_decode_msi(&vm.host, c->addr, c->data, &d.ipi);
		good = d.rc == 0 && d.ipi.status == c->status &&
		       d.ipi.source == VIPI_SRC_MSI && d.ipi.ret == 0 &&
		       !strcmp(x86h_set_list(&d.set), c->targets);
		if (c->mode != ANY)
			good = good && d.ipi.mode == c->mode &&
			       d.ipi.vector == (uint8_t)c->data;
		if (c->trigger != ANY)
			good = good && d.ipi.trigger == c->trigger &&
			       d.ipi.level == c->level;
		if (!ok(good, "MSI: %s", c->name))
			tap_diag("rc %d status %s mode %u vector 0x%x trigger "
				 "%u level %u targets '%s' want '%s'",
				 d.rc, vipi_status_name(d.ipi.status),
				 d.ipi.mode, d.ipi.vector, d.ipi.trigger,
				 d.ipi.level, x86h_set_list(&d.set),
				 c->targets);
	}
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

static void test_misuse(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct x86h_decoded d, small;
	struct x86h_vm vm;

	if (!x86h_vm_init(&vm, ids, NR))
		tap_bail("topology");
	x86h_dec_init(&d, NR);
	x86h_dec_init(&small, NR - 1);
	is_i64(vipi_decode_msi(NULL, 0xfee00000, 0x30, &d.ipi), -EINVAL,
	       "MSI: NULL host: -EINVAL");
	is_i64(vipi_decode_msi(&vm.host, 0xfee00000, 0x30, NULL), -EINVAL,
	       "MSI: NULL ipi: -EINVAL");
	is_i64(vipi_decode_msi(&vm.host, 0xfee00000, 0x30, &small.ipi), -EINVAL,
	       "MSI: a target set smaller than the VM: -EINVAL");
	d.rc = vipi_decode_msi(&vm.host, 0xfee01004, 0x30, &d.ipi);
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, vipi_cpuset_weight(&d.set), 0);
	fields_ok(&f, "MSI: logical without xAPIC state reaches nobody");
	is_str(vipi_status_name(VIPI_ERR_MSI_INVALID), "MSI_INVALID",
	       "status name MSI_INVALID");
	is_str(vipi_source_name(VIPI_SRC_MSI), "msi", "source name msi");
	is_str(vipi_source_name(VIPI_SRC_IOAPIC), "ioapic",
	       "source name ioapic");
	vipi_cpuset_destroy(&small.set);
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

int main(void)
{
	tap_plan((unsigned int)ARRAY_SIZE(cases) + 7);
	test_cases();
	test_misuse();
	return tap_done();
}
