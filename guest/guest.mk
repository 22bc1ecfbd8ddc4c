# The freestanding x86-64 guest (guest/): built with the top Makefile's
# FREE_CFLAGS, linked with guest/guest.ld and the freestanding libvipi
# objects (encoders, cpuset), flattened to guest.bin and embedded into the
# vipi binary by guest/blob.S.

GUEST_C := $(sort $(wildcard guest/*.c))
GUEST_OBJS := $(GUEST_C:%.c=$(O)/g/%.o) $(O)/g/guest/head.o
GUEST_CFLAGS := $(FREE_CFLAGS) -mgeneral-regs-only -fno-common \
	-fno-tree-loop-distribute-patterns
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
	$(Q)$(CC) -nostdlib -static -no-pie -Wl,-T,guest/guest.ld \
		-Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ $(GUEST_OBJS) \
		$(FREE_OBJS)

$(GUEST_BIN): $(GUEST_ELF)
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy -O binary $< $@

$(GUEST_BLOB): guest/blob.S $(GUEST_BIN)
	@mkdir -p $(dir $@)
	$(call msg,AS,$@)
	$(Q)$(CC) -c -DGUEST_BIN='"$(abspath $(GUEST_BIN))"' $< -o $@
