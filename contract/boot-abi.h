/* SPDX-License-Identifier: MIT */
/*
 * The contract between the vipi VMM and its freestanding guest: where
 * things live in guest-physical memory, the I/O ports of the console, the
 * structured guest-to-host channel ("ucall", in the spirit of the KVM
 * selftests' ucall) and the PV doorbells, and the boot parameters the VMM
 * leaves for the guest. Included by both sides (vmm/, hosted, and guest/,
 * freestanding), so it lives in neither: contract/ includes nothing of
 * the tree, fixed-size types only (docs/architecture.md).
 */
#ifndef VIPI_CONTRACT_BOOT_ABI_H
#define VIPI_CONTRACT_BOOT_ABI_H

#include <stdint.h>

/* Guest-physical layout */
#define VIPI_BOOT_PARAMS_GPA 0x7000ull /* struct vipi_boot_params */
#define VIPI_TRAMP_GPA 0x8000ull /* AP trampoline: SIPI vector 0x08 */
#define VIPI_PT_GPA 0x10000ull /* identity page tables, 6 pages */
#define VIPI_PT_PAGES 6
#define VIPI_HV_HYPERCALL_GPA 0x18000ull /* Hyper-V hypercall page */
#define VIPI_ACPI_GPA 0xe0000ull /* RSDP, XSDT, MADT (BIOS area) */
#define VIPI_ACPI_END 0x100000ull
#define VIPI_GUEST_LOAD_GPA 0x100000ull /* the guest image */
#define VIPI_APIC_MMIO_GPA 0xfee00000ull /* xAPIC registers (SDM 10.4.1) */
#define VIPI_STACK_SIZE 0x4000ull /* per-CPU stack, aligned to its size */

/* I/O ports */
#define VIPI_PORT_SERIAL 0x3f8 /* COM1 THR: console bytes */
#define VIPI_PORT_UCALL 0x510 /* outl: GPA of a struct vipi_ucall */
/*
 * PV doorbells, one-byte ports so that `out %al, $imm8` leaves every
 * argument register intact; the VMM reads the registers (KVM_CAP_SYNC_REGS)
 * and writes the return value into RAX.
 */
#define VIPI_PORT_HV_DOORBELL 0xe5 /* the Hyper-V hypercall page's body */
#define VIPI_PORT_KVM_DOORBELL 0xe6 /* KVM_HC_* registers, --irqchip=user */
/* vipi's ABI has its own port doorbell: VIPI_ABI_PORT (docs/abi.md 3.1) */

#define VIPI_GUEST_MAX_CPUS 1024u

enum vipi_ucall_cmd {
	VIPI_UCALL_PRINT = 1, /* msg */
	VIPI_UCALL_PASS, /* the guest's checks passed */
	VIPI_UCALL_FAIL, /* msg, file:line */
	VIPI_UCALL_SKIP, /* msg: a method this host cannot serve */
	VIPI_UCALL_ASSERT, /* msg (the expression), file:line, args */
	VIPI_UCALL_CLOCK, /* host fills args[0] with CLOCK_MONOTONIC ns */
	VIPI_UCALL_RESULT, /* args: enum vipi_result_arg */
	VIPI_UCALL_PROBE, /* args[0] = enum vipi_probe; host answers args[1] */
};

/* VIPI_UCALL_RESULT argument slots */
enum vipi_result_arg {
	VIPI_RES_OPS,
	VIPI_RES_SENDS, /* trapping operations the sender's encoder emitted */
	VIPI_RES_CYCLES, /* TSC cycles of the measured loop */
	VIPI_RES_NS, /* host clock over the measured loop */
	VIPI_RES_DELIVERED,
	VIPI_RES_EXPECTED,
	VIPI_RES_LOST,
	VIPI_RES_DUPLICATED,
	VIPI_RES_SEND_CYCLES, /* TSC cycles inside the encoder + its exits */
	/* IPI handler runs on the vCPUs other than the sender (vCPU 0) over
	 * the loop: target_exits_per_ipi's denominator (docs/vmm.md) */
	VIPI_RES_TARGET_IPIS,
	VIPI_RES_NR
};

enum vipi_probe {
	VIPI_PROBE_EXITS_BEGIN = 1, /* VMM: snapshot exit counters */
	VIPI_PROBE_EXITS_END, /* VMM: counters since BEGIN */
	/*
	 * The next instruction is a vmcall/vmmcall probe: should KVM fail to
	 * run it (KVM_EXIT_INTERNAL_ERROR), the VMM skips it and returns
	 * VIPI_PROBE_HC_FAILED in RAX instead of stopping the VM.
	 */
	VIPI_PROBE_HYPERCALL,
};

#define VIPI_PROBE_HC_FAILED 0x7669706964656164ull

struct vipi_ucall {
	uint32_t cmd;
	uint32_t line;
	uint32_t cpu;
	uint32_t pad;
	uint64_t args[VIPI_RES_NR];
	char file[48];
	char msg[192];
};

#define VIPI_BOOT_MAGIC 0x746f6f6269706976ull /* "vipiboot" */

enum vipi_workload {
	VIPI_WL_BOOT, /* bring every CPU up, check in, done */
	VIPI_WL_PINGPONG,
	VIPI_WL_MULTICAST,
	VIPI_WL_BROADCAST,
	VIPI_WL_SHOOTDOWN,
	VIPI_WL_STORM,
	VIPI_WL_BADINPUT, /* garbage in: check the architectural errors */
	VIPI_WL_EMULATE, /* instructions the VMM completes (guest/emulate.c) */
	VIPI_WL_LAPIC, /* LAPIC timer, TPR, nesting, I/O APIC (guest/lapic.c) */
};

enum vipi_irqchip_mode {
	VIPI_IRQCHIP_KERNEL,
	VIPI_IRQCHIP_USER,
};

/* Left by the VMM at VIPI_BOOT_PARAMS_GPA; absent magic means defaults. */
struct vipi_boot_params {
	uint64_t magic;
	uint32_t version;
	uint32_t workload; /* enum vipi_workload */
	uint32_t irqchip; /* enum vipi_irqchip_mode */
	uint32_t xapic; /* 1: stay in xAPIC mode (MMIO) */
	uint32_t ops;
	uint32_t verbose;
	uint64_t mem_size;
	char method[32]; /* vipi encode's names */
	/* guest CPU indices (MADT order) the workload targets; 0 = default */
	uint32_t has_targets;
	uint32_t pad;
	uint64_t targets[VIPI_GUEST_MAX_CPUS / 64];
	/* 1: register vipi's PV EOI (docs/abi.md 13) on every CPU */
	uint32_t pv_eoi;
	uint32_t pad2;
};

#endif
