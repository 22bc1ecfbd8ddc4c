/* SPDX-License-Identifier: MIT */
/*
 * Guest-side encoders: from a set of guest CPUs to the exact sequence of
 * trapping operations (MSR writes, MMIO writes, hypercalls, system
 * register writes) one IPI method costs. Each operation is handed to an
 * emit callback as soon as it is built: inside a guest the callback
 * performs it (wrmsr, vmcall, ...), in tools it records it, in the
 * simulator it feeds the host decoder.
 *
 * This header and lib/encode/ compile freestanding (no libc): the guest
 * payload links them.
 */
#ifndef VIPI_ENCODE_H
#define VIPI_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vipi/cpuset.h>

/* What the guest knows of each of its CPUs (index = guest CPU number). */
struct vipi_guest_cpu {
	uint32_t apic_id; /* x86 */
	uint32_t vp_index; /* Hyper-V VP index = vipi ABI index */
	uint64_t mpidr; /* arm64, affinity fields */
};

struct vipi_guest_topo {
	const struct vipi_guest_cpu *cpus;
	uint32_t nr_cpus;
	bool arm64; /* MPIDRs are meaningful, APIC IDs are not */
	bool gic_rss; /* the GIC supports the SGI range selector */
};

enum vipi_op_kind {
	VIPI_OP_WRMSR, /* reg = MSR index, val = 64-bit value */
	VIPI_OP_MMIO_WRITE32, /* reg = offset from the APIC base, val */
	VIPI_OP_KVM_HYPERCALL, /* args[0..4] = RAX, RBX, RCX, RDX, RSI */
	VIPI_OP_HV_HYPERCALL, /* args[0..2] = RCX, RDX, R8; xmm if XMM fast */
	VIPI_OP_SYSREG_WRITE, /* reg = enum vipi_gic_sgi_reg, val */
	VIPI_OP_VIPI_CALL, /* args[0] = fn, args[1..5] = a0..a4 */
	VIPI_OP_NR_KINDS /* not a kind: how many there are */
};

/* Which fields of struct vipi_op an operation kind uses. */
enum vipi_op_fields {
	VIPI_OP_FIELDS_REG_VAL, /* reg (an MSR index or MMIO offset), val */
	VIPI_OP_FIELDS_SYSREG_VAL, /* reg (enum vipi_gic_sgi_reg), val */
	VIPI_OP_FIELDS_ARGS, /* args[0..nr_args-1]: a call's registers */
};

/*
 * What an operation kind is: the one table of the kinds, which the host
 * decoder (vipi_decode_op), the guest's emitter and the tools' printer
 * all index by kind. A new kind is a line of the enum above and of this
 * table (lib/encode/op.c); each of those three has an array of handlers
 * sized VIPI_OP_NR_KINDS that must gain one (docs/architecture.md).
 */
struct vipi_op_kind_info {
	const char *name; /* vipi_op_kind_name(): "wrmsr", "mmio-write32" */
	enum vipi_op_fields fields;
	unsigned int nr_args; /* FIELDS_ARGS: the args[] the call has */
	const char *const *arg_names; /* FIELDS_ARGS: in args[] order */
	bool xmm; /* may carry Hyper-V XMM fast input (xmm_fast, xmm[]) */
};

/* The kind's entry of the table; NULL for a value that is no kind. */
const struct vipi_op_kind_info *vipi_op_kind_info(enum vipi_op_kind kind);

/* The kind's name ("wrmsr", "kvm-hypercall"); "unknown" for no kind. */
const char *vipi_op_kind_name(enum vipi_op_kind kind);

/* One trapping guest operation. */
struct vipi_op {
	enum vipi_op_kind kind;
	uint32_t reg;
	uint64_t val;
	uint64_t args[6];
	uint32_t nr_args;
	bool xmm_fast; /* Hyper-V XMM fast: xmm[] holds the extra input */
	uint64_t xmm[12];
	/* Memory input the host reads, already written at mem (a pointer
	 * into the emitter's buffer) and guest-physical address mem_gpa. */
	const void *mem;
	uint64_t mem_gpa;
	uint32_t mem_len;
};

/*
 * The emitter. op() performs or records one operation and returns 0, or a
 * negative errno that aborts the encoding and is returned by the encoder.
 * A method that passes input in memory writes it into buf (buf_size
 * bytes, guest-physical buf_gpa) before it calls op(); the buffer is
 * reused by the next operation, so op() must consume it at once.
 */
struct vipi_emit {
	int (*op)(void *ctx, const struct vipi_op *op);
	void *ctx;
	void *buf;
	uint64_t buf_gpa;
	uint32_t buf_size;
};

/* What to send. */
struct vipi_send {
	uint8_t vector; /* x86 vector, GICv3 SGI INTID */
	uint8_t mode; /* enum vipi_dm (fixed, NMI, ...) */
	uint32_t flags; /* VIPI_SEND_TLB_FLUSH */
	uint32_t self; /* the sending guest CPU */
};

#define VIPI_SEND_TLB_FLUSH (1u << 0)

/*
 * An encoder returns the number of exits it cost (= operations emitted,
 * every operation traps), or a negative errno: -EINVAL (a CPU in the set
 * is not in the topology, or a value the method cannot carry), -ERANGE
 * (the method cannot address a target: Hyper-V past VP 4095, GICv3 Aff0
 * above 15 without RSS, ...), -EOPNOTSUPP (the method cannot send this
 * mode), -ENOSPC (the emitter's buffer is too small), or what op() said.
 */
typedef int (*vipi_encode_fn)(const struct vipi_guest_topo *gt,
			      const struct vipi_cpuset *set,
			      const struct vipi_send *send,
			      const struct vipi_emit *emit);

/* x2APIC */
int vipi_encode_x2apic_phys(const struct vipi_guest_topo *gt,
			    const struct vipi_cpuset *set,
			    const struct vipi_send *send,
			    const struct vipi_emit *emit);
int vipi_encode_x2apic_cluster(const struct vipi_guest_topo *gt,
			       const struct vipi_cpuset *set,
			       const struct vipi_send *send,
			       const struct vipi_emit *emit);
/* Shorthands: the set must be exactly what the shorthand reaches. */
int vipi_encode_x2apic_allbutself(const struct vipi_guest_topo *gt,
				  const struct vipi_cpuset *set,
				  const struct vipi_send *send,
				  const struct vipi_emit *emit);
int vipi_encode_x2apic_all(const struct vipi_guest_topo *gt,
			   const struct vipi_cpuset *set,
			   const struct vipi_send *send,
			   const struct vipi_emit *emit);
int vipi_encode_x2apic_self(const struct vipi_guest_topo *gt,
			    const struct vipi_cpuset *set,
			    const struct vipi_send *send,
			    const struct vipi_emit *emit);
/* xAPIC physical: ICR_HI then ICR_LO per target (two MMIO exits) */
int vipi_encode_xapic_phys(const struct vipi_guest_topo *gt,
			   const struct vipi_cpuset *set,
			   const struct vipi_send *send,
			   const struct vipi_emit *emit);
/* KVM_HC_SEND_IPI: Linux's packing, and an optimal packing */
int vipi_encode_kvm_pv_linux(const struct vipi_guest_topo *gt,
			     const struct vipi_cpuset *set,
			     const struct vipi_send *send,
			     const struct vipi_emit *emit);
int vipi_encode_kvm_pv(const struct vipi_guest_topo *gt,
		       const struct vipi_cpuset *set,
		       const struct vipi_send *send,
		       const struct vipi_emit *emit);
/* Hyper-V: Linux's choices (fast if all VPs < 64, else EX with a dense
 * bank prefix), and the best (fast, XMM fast or sparse EX) */
int vipi_encode_hv_linux(const struct vipi_guest_topo *gt,
			 const struct vipi_cpuset *set,
			 const struct vipi_send *send,
			 const struct vipi_emit *emit);
int vipi_encode_hv(const struct vipi_guest_topo *gt,
		   const struct vipi_cpuset *set, const struct vipi_send *send,
		   const struct vipi_emit *emit);
/* GICv3 as Linux's gic_ipi_send_mask(): one ICC_SGI1R_EL1 write per run
 * of consecutive CPUs in one Aff3.Aff2.Aff1 (+RS) group */
int vipi_encode_gicv3(const struct vipi_guest_topo *gt,
		      const struct vipi_cpuset *set,
		      const struct vipi_send *send,
		      const struct vipi_emit *emit);
/*
 * GICv3: exactly one write per distinct Aff3.Aff2.Aff1+RS group, in MPIDR
 * order (fewer than vipi_encode_gicv3 when CPU order and MPIDR order
 * differ; the same count when they agree)
 */
int vipi_encode_gicv3_grouped(const struct vipi_guest_topo *gt,
			      const struct vipi_cpuset *set,
			      const struct vipi_send *send,
			      const struct vipi_emit *emit);
/* GICv3 IRM=1: the set must be all but self */
int vipi_encode_gicv3_irm(const struct vipi_guest_topo *gt,
			  const struct vipi_cpuset *set,
			  const struct vipi_send *send,
			  const struct vipi_emit *emit);
/* vipi's ABI (docs/abi.md): always one call */
int vipi_encode_vipi(const struct vipi_guest_topo *gt,
		     const struct vipi_cpuset *set,
		     const struct vipi_send *send,
		     const struct vipi_emit *emit);

#endif
