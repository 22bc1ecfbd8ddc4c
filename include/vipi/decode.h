/* SPDX-License-Identifier: MIT */
/*
 * Host-side decoders: each takes the values exactly as a guest produced
 * them (a register, an MSR value, hypercall registers, guest memory) plus
 * the sending vCPU, and resolves them to a target set and delivery
 * attributes, or to the error the architecture or ABI defines.
 *
 * Every decoder works in time proportional to the number of targets (the
 * ALL / ALL-BUT-SELF / IRM forms fill the set a word at a time), validates
 * everything before it changes anything, and never reads guest memory
 * outside the ranges the ABI allows.
 *
 * Return value of every vipi_decode_*(): 0 when the guest's input was
 * handled (the architectural outcome, success or fault, is in ipi->status),
 * or a negative errno for misuse by the embedder (NULL pointers, a sender
 * that is not a vCPU, a target set too small for the VM, pool exhaustion).
 */
#ifndef VIPI_DECODE_H
#define VIPI_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vipi/cpuset.h>
#include <vipi/topo.h>

/* The architectural or ABI outcome of one guest operation. */
enum vipi_status {
	VIPI_OK = 0,
	/* x86 APIC */
	VIPI_ERR_GP, /* #GP on the MSR write (reserved bits, bad MSR) */
	VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR, /* ESR bit 5: vector < 16 */
	/* KVM_HC_SEND_IPI (Documentation/virt/kvm/x86/hypercalls.rst) */
	VIPI_ERR_KVM_EPERM, /* CPL > 0: RAX = -1 */
	VIPI_ERR_KVM_EINVAL, /* -22 */
	VIPI_ERR_KVM_ENOSYS, /* PV IPI not enabled: -1000 */
	/* Hyper-V TLFS status codes, returned in RAX */
	VIPI_ERR_HV_INVALID_HYPERCALL_CODE, /* 0x0002 */
	VIPI_ERR_HV_INVALID_HYPERCALL_INPUT, /* 0x0003 */
	VIPI_ERR_HV_INVALID_ALIGNMENT, /* 0x0004 */
	VIPI_ERR_HV_INVALID_PARAMETER, /* 0x0005 */
	VIPI_ERR_HV_ACCESS_DENIED, /* 0x0006 */
	/* vipi's own ABI (docs/abi.md): negative errno in the return register */
	VIPI_ERR_VIPI_EPERM,
	VIPI_ERR_VIPI_EINVAL,
	VIPI_ERR_VIPI_EFAULT,
	VIPI_ERR_VIPI_E2BIG,
	VIPI_ERR_VIPI_ENOSYS,
	/* x86: #UD (Hyper-V hypercall from CPL > 0: TLFS, KVM) */
	VIPI_ERR_UD,
	/* an access to the xAPIC page while the local APIC does not decode
	 * it (disabled or in x2APIC mode): not the APIC's (lapic.h) */
	VIPI_ERR_NOT_APIC,
	/* MSI: the address is not an interrupt message (not 0xfeexxxxx) */
	VIPI_ERR_MSI_INVALID,
	/* ESR bit 6: a received fixed/lowest message with vector < 16 */
	VIPI_ERR_APIC_RECV_ILLEGAL_VECTOR,
	VIPI_STATUS_COUNT
};

/* "GP", "KVM_EINVAL", "HV_STATUS_INVALID_HYPERCALL_INPUT", "VIPI_EINVAL" */
const char *vipi_status_name(enum vipi_status st);

/* Where the IPI came from. */
enum vipi_source {
	VIPI_SRC_X2APIC_ICR,
	VIPI_SRC_X2APIC_SELF_IPI,
	VIPI_SRC_XAPIC_ICR,
	VIPI_SRC_KVM_PV,
	VIPI_SRC_HV_IPI,
	VIPI_SRC_HV_IPI_EX,
	VIPI_SRC_GICV3_SGI1R,
	VIPI_SRC_GICV3_ASGI1R,
	VIPI_SRC_GICV3_SGI0R,
	VIPI_SRC_VIPI,
	VIPI_SRC_IOAPIC, /* an IOAPIC redirection entry (vipi/ioapic.h) */
	VIPI_SRC_MSI, /* a message-signalled interrupt write */
	/* Hyper-V remote TLB flushes: ...VirtualAddressSpace/List (0x2, 0x3)
	 * and their Ex forms (0x13, 0x14); ipi->flags has VIPI_IPI_TLB_FLUSH */
	VIPI_SRC_HV_FLUSH,
	VIPI_SRC_HV_FLUSH_EX,
};

const char *vipi_source_name(enum vipi_source src);

/* x86 delivery modes, ICR bits 10:8 */
enum vipi_dm {
	VIPI_DM_FIXED = 0,
	VIPI_DM_LOWEST = 1,
	VIPI_DM_SMI = 2,
	VIPI_DM_NMI = 4,
	VIPI_DM_INIT = 5,
	VIPI_DM_SIPI = 6,
	/* IOAPIC / MSI only: 8259-compatible external interrupt (111b) */
	VIPI_DM_EXTINT = 7,
};

const char *vipi_dm_name(unsigned int dm);

/* ipi->flags */
/*
 * vipi ABI: PV TLB-shootdown request; Hyper-V flush calls: a flush with no
 * guest vector (ipi->vector 0), which the VMM delivers itself
 * (docs/hyperv.md "Flush delivery"), not through vipi_deliver()
 */
#define VIPI_IPI_TLB_FLUSH (1u << 0)
#define VIPI_IPI_INIT_DEASSERT (1u << 1) /* xAPIC INIT level de-assert */

/* One decoded IPI. The caller owns targets (sized for the VM's vCPUs). */
struct vipi_ipi {
	enum vipi_status status;
	enum vipi_source source;
	uint8_t vector; /* x86 vector; GICv3: SGI INTID 0..15 */
	uint8_t mode; /* enum vipi_dm; GICv3: VIPI_DM_FIXED */
	uint8_t level; /* x86 ICR bit 14 */
	uint8_t trigger; /* x86 ICR bit 15: 0 edge, 1 level */
	uint8_t group; /* GICv3: 0 (SGI0R), 1 (SGI1R), 2 (ASGI1R) */
	uint32_t flags;
	struct vipi_cpuset *targets;
	/*
	 * What the guest sees in its return register when the source defines
	 * one (KVM PV: count or -errno; Hyper-V: the status; vipi: count or
	 * -errno), computed as if every target accepted the interrupt. A VMM
	 * that counts real acceptances recomputes it with vipi_ipi_ret().
	 */
	int64_t ret;
};

/* The return-register value for an IPI delivered to `delivered` vCPUs. */
int64_t vipi_ipi_ret(const struct vipi_ipi *ipi, uint32_t delivered);

/*
 * Guest-physical memory, as the embedder maps it. read() copies len bytes
 * at gpa into buf and returns 0, or -EFAULT when any byte of
 * [gpa, gpa + len) is not guest RAM (including wrap-around).
 */
struct vipi_guest_mem {
	int (*read)(void *opaque, uint64_t gpa, void *buf, size_t len);
	void *opaque;
};

/* A ready accessor for one flat RAM range: opaque = struct vipi_flat_mem */
struct vipi_flat_mem {
	const void *hva;
	uint64_t gpa;
	uint64_t size;
};
int vipi_flat_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len);

/*
 * xAPIC logical state the guest programs (LDR, DFR), per vCPU.
 *
 * Threads: the setters below (each vCPU's from its own thread, or any
 * thread) and decodes on any threads may run at once, with no lock of
 * the embedder's. A decode sees every write that returned before it
 * began; a write during the decode may or may not be seen, per vCPU.
 * Decoders never take a lock except to rebuild an index after a change
 * (once, O(vCPUs)). create and destroy are not concurrent with anything.
 */
struct vipi_xapic;
int vipi_xapic_create(const struct vipi_topo *t, struct vipi_xapic **out);
void vipi_xapic_destroy(struct vipi_xapic *x);
/* Register values as written to LDR (0xd0) and DFR (0xe0). 0 or -EINVAL. */
int vipi_xapic_set_ldr(struct vipi_xapic *x, uint32_t vcpu, uint32_t ldr);
int vipi_xapic_set_dfr(struct vipi_xapic *x, uint32_t vcpu, uint32_t dfr);
/*
 * The vCPU entered (on) or left x2APIC mode: it is then matched against
 * its x2APIC logical ID, and an 8-bit logical destination (IOAPIC, MSI,
 * xAPIC ICR) reaches it as cluster 0, member bits 7:0. 0 or -EINVAL.
 */
int vipi_xapic_set_x2apic_mode(struct vipi_xapic *x, uint32_t vcpu, bool on);
/*
 * The vCPU's physical xAPIC ID (ID register bits 31:24, writable in
 * xAPIC mode as on Intel and KVM; SDM 10.4.6): 8-bit physical
 * destinations then match it instead of the topology's APIC ID, aliases
 * included (two vCPUs with one ID both accept). The topology's IDs stay
 * the fast path until some vCPU's ID differs from its own; after a
 * change, the next decode rebuilds the index in O(vCPUs). 0 or -EINVAL.
 */
int vipi_xapic_set_id(struct vipi_xapic *x, uint32_t vcpu, uint32_t id);
uint32_t vipi_xapic_get_ldr(const struct vipi_xapic *x, uint32_t vcpu);
uint32_t vipi_xapic_get_dfr(const struct vipi_xapic *x, uint32_t vcpu);

/* struct vipi_host features */
#define VIPI_HOST_KVM_PV_IPI (1u << 0) /* KVM_FEATURE_PV_SEND_IPI offered */
#define VIPI_HOST_HV_IPI (1u << 1) /* Hyper-V SEND_IPI(_EX) offered */
#define VIPI_HOST_GIC_RSS (1u << 2) /* GICv3 range selector supported */
#define VIPI_HOST_VIPI_ABI (1u << 3) /* vipi's ABI offered */
#define VIPI_HOST_HV_FLUSH (1u << 6) /* Hyper-V remote TLB flush calls */
/*
 * MSI address formats (not in VIPI_HOST_ALL_FEATURES: they change how an
 * address reads, they offer no ABI): destination bits 31:8 in address
 * bits 63:40 (KVM_CAP_X2APIC_API's format), and the 15-bit "extended
 * destination ID" in address bits 11:5 (KVM_FEATURE_MSI_EXT_DEST_ID).
 */
#define VIPI_HOST_MSI_X2APIC (1u << 4)
#define VIPI_HOST_MSI_EXT_DEST (1u << 5)
#define VIPI_HOST_ALL_FEATURES                                         \
	(VIPI_HOST_KVM_PV_IPI | VIPI_HOST_HV_IPI | VIPI_HOST_GIC_RSS | \
	 VIPI_HOST_VIPI_ABI | VIPI_HOST_HV_FLUSH)

/* What a decoder needs to know about the VM. */
struct vipi_host {
	const struct vipi_topo *topo;
	struct vipi_xapic *xapic; /* NULL: xAPIC logical matches nobody */
	struct vipi_guest_mem mem; /* read NULL: memory inputs fault */
	uint32_t features;
};

/* x2APIC: a wrmsr of `icr` to MSR 0x830 (SDM 10.12.9) */
int vipi_decode_x2apic_icr(const struct vipi_host *h, uint32_t sender,
			   uint64_t icr, struct vipi_ipi *ipi);
/* x2APIC: a wrmsr of `value` to the SELF IPI MSR 0x83f (SDM 10.12.11) */
int vipi_decode_x2apic_self_ipi(const struct vipi_host *h, uint32_t sender,
				uint64_t value, struct vipi_ipi *ipi);
/* xAPIC: a write of ICR_LO (0x300) with ICR_HI (0x310) as last written */
int vipi_decode_xapic_icr(const struct vipi_host *h, uint32_t sender,
			  uint32_t icr_lo, uint32_t icr_hi,
			  struct vipi_ipi *ipi);

/*
 * A message-signalled interrupt (SDM 10.11): a write of data (bits 31:0
 * used) to address (bits 31:0 the guest-physical address, 63:32 the upper
 * address as the device holds it). Address 0xfeexxxxx: destination 19:12,
 * RH 3, DM 2; h->features VIPI_HOST_MSI_X2APIC / _EXT_DEST widen the
 * destination. Data: vector 7:0, mode 10:8, level 14, trigger 15. Any
 * other address: VIPI_ERR_MSI_INVALID. ipi->source is VIPI_SRC_MSI.
 */
int vipi_decode_msi(const struct vipi_host *h, uint64_t address, uint32_t data,
		    struct vipi_ipi *ipi);

/* KVM_HC_SEND_IPI: the hypercall registers as the guest left them */
struct vipi_kvm_hc {
	uint64_t nr; /* RAX: must be KVM_HC_SEND_IPI (10) */
	uint64_t a0, a1, a2, a3; /* RBX, RCX, RDX, RSI */
	uint8_t cpl;
	bool op_64_bit; /* false: 32-bit guest, arguments are truncated */
};
int vipi_decode_kvm_pv(const struct vipi_host *h, uint32_t sender,
		       const struct vipi_kvm_hc *hc, struct vipi_ipi *ipi);

/* Hyper-V hypercall registers (TLFS "Hypercall Interface") */
struct vipi_hv_hc {
	uint64_t control; /* RCX */
	uint64_t in; /* RDX: input GPA, or first input (fast) */
	uint64_t out; /* R8: output GPA, or second input (fast) */
	uint64_t xmm[12]; /* XMM0..XMM5 as low/high qwords (XMM fast) */
	uint8_t cpl;
};
/*
 * HvCallSendSyntheticClusterIpi(Ex) and, with VIPI_HOST_HV_FLUSH, the four
 * HvCallFlushVirtualAddress{Space,List}(Ex) calls, every form; other codes
 * fail. A flush's targets are the VPs to flush; for the List calls
 * ipi->ret also carries the reps completed (bits 43:32), which
 * vipi_ipi_ret() does not (docs/hyperv.md).
 */
int vipi_decode_hv(const struct vipi_host *h, uint32_t sender,
		   const struct vipi_hv_hc *hc, struct vipi_ipi *ipi);

/* GICv3 SGI generation registers */
enum vipi_gic_sgi_reg {
	VIPI_GIC_SGI1R, /* ICC_SGI1R_EL1 */
	VIPI_GIC_ASGI1R, /* ICC_ASGI1R_EL1 */
	VIPI_GIC_SGI0R, /* ICC_SGI0R_EL1 */
};
int vipi_decode_gicv3_sgi(const struct vipi_host *h, uint32_t sender,
			  enum vipi_gic_sgi_reg reg, uint64_t value,
			  struct vipi_ipi *ipi);

/* vipi's own ABI (docs/abi.md): function number and argument registers */
struct vipi_abi_call {
	uint64_t fn;
	uint64_t a[5];
	uint8_t cpl; /* 0: guest kernel (x86 CPL0, arm64 EL1); else user mode */
	/*
	 * x86: the caller is in 64-bit mode; false: any other mode, where no
	 * function exists (-ENOSYS, docs/abi.md 3.1). As in struct
	 * vipi_kvm_hc, a zeroed field is the 32-bit caller: set it to true
	 * for a 64-bit guest. arm64 ignores it.
	 */
	bool op_64_bit;
};
int vipi_decode_vipi(const struct vipi_host *h, uint32_t sender,
		     const struct vipi_abi_call *call, struct vipi_ipi *ipi);

#endif
