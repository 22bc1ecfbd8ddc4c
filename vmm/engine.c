// SPDX-License-Identifier: MIT
/* stub */
#include "vmm.h"
int engine_init(struct vm *vm)
{
	return 0;
}
int engine_rdmsr(struct vcpu *vcpu)
{
	vcpu->run->msr.error = 1;
	return 0;
}
int engine_wrmsr(struct vcpu *vcpu)
{
	vcpu->run->msr.error = 1;
	return 0;
}
int engine_mmio(struct vcpu *vcpu)
{
	return 0;
}
int engine_doorbell(struct vcpu *vcpu, uint16_t port)
{
	return 0;
}
int engine_pre_run(struct vcpu *vcpu)
{
	return 0;
}
int engine_halt(struct vcpu *vcpu)
{
	return 0;
}
void engine_wake_all(struct vm *vm)
{
}
