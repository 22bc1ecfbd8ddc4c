# The freestanding x86-64 guest (guest/): built with the top Makefile's
# FREE_CFLAGS, linked with guest/guest.ld and the freestanding libvipi
# objects (encoders, cpuset), flattened to guest.bin and embedded into the
# vipi binary by guest/blob.S.

GUEST_C := $(sort $(wildcard guest/*.c))
GUEST_OBJS := $(GUEST_C:%.c=$(O)/g/%.o) $(O)/g/guest/head.o
# gcc turns copy and fill loops back into memset/memcpy calls unless told
# not to; clang has no such flag (the calls it may make go to guest/lib.c's
# rep stos / rep movs)
GUEST_NO_LOOP_CALLS := $(shell $(CC) -Werror \
	-fno-tree-loop-distribute-patterns -x c -c /dev/null -o /dev/null \
	2>/dev/null && echo -fno-tree-loop-distribute-patterns)
# clang warns when an interrupt handler calls a function: with
# -mgeneral-regs-only no callee touches the x87/SSE state the handler does
# not save, and the handler saves the general registers itself
GUEST_ISR_CALLS := $(shell $(CC) -Werror -Wno-interrupt-service-routine \
	-x c -c /dev/null -o /dev/null 2>/dev/null && \
	$(CC) --version 2>/dev/null | grep -q clang && \
	echo -Wno-interrupt-service-routine)
GUEST_CFLAGS := $(FREE_CFLAGS) -mgeneral-regs-only -fno-common \
	$(GUEST_NO_LOOP_CALLS) $(GUEST_ISR_CALLS)
# -static links a non-PIE executable either way; gcc is told so (a PIE
# default), clang would warn that -no-pie is unused with -static
GUEST_NO_PIE := $(if $(GUEST_ISR_CALLS),,-no-pie)
GUEST_ELF := $(O)/guest/guest.elf
GUEST_BIN := $(O)/guest/guest.bin
GUEST_BLOB := $(O)/guest/blob.o

GUEST_ALL := $(GUEST_ELF) $(GUEST_BIN)
GUEST_BLOBS := $(GUEST_BLOB)
GUEST_LINK := $(GUEST_BLOB)

$(O)/g/guest/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC-GUEST,$@)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(O)/g/guest/%.o: guest/%.S
	@mkdir -p $(dir $@)
	$(call msg,AS-GUEST,$@)
	$(Q)$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(GUEST_ELF): $(GUEST_OBJS) $(FREE_OBJS) guest/guest.ld
	@mkdir -p $(dir $@)
	$(call msg,LD-GUEST,$@)
	$(Q)$(CC) -nostdlib -static $(GUEST_NO_PIE) -Wl,-T,guest/guest.ld \
		-Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ $(GUEST_OBJS) \
		$(FREE_OBJS)

$(GUEST_BIN): $(GUEST_ELF)
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy -O binary $< $@

$(GUEST_BLOB): guest/blob.S $(GUEST_BIN)
	@mkdir -p $(dir $@)
	$(call msg,AS,$@)
	$(Q)$(CC) -c -DGUEST_BIN='"$(abspath $(GUEST_BIN))"' $< -o $@
