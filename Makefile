# vipi: the library (libvipi), the command (vipi), tests, fuzzers.
#
#   make            build everything into $(O)
#   make check      build, then run every test through prove (TAP)
#   make fuzz       build the libFuzzer targets (clang)
#   make install    PREFIX=/usr/local (DESTDIR honoured)
#   V=1             show the commands; WERROR=0 to not stop on warnings
#   O=DIR           build folder (default: build)
#   ARCH=arm64      cross-build for aarch64 (CROSS_COMPILE=aarch64-linux-gnu-);
#                   any target but x86-64 leaves out the VMM and the guest
#   make check-arm64  cross-build into $(O)/arm64 (tests/arm64.t runs it
#                   under qemu-aarch64; `make check` does both)

# `make` alone builds `all`, whatever the included fragments define first
.DEFAULT_GOAL := all

O ?= build
PREFIX ?= /usr/local
DESTDIR ?=
# ARCH=arm64 on another machine means Debian's cross compiler; CROSS_COMPILE
# names the prefix of CC and AR where they are not given
ifneq ($(filter arm64 aarch64,$(ARCH)),)
ifneq ($(shell uname -m),aarch64)
CROSS_COMPILE ?= aarch64-linux-gnu-
endif
endif
ifneq ($(CROSS_COMPILE),)
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif
endif
CC ?= gcc
FUZZ_CC ?= clang
AR ?= ar
WERROR ?= 1

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wvla -Wformat=2 -Wno-unused-parameter \
	-Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT ?= -O2
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) -Iinclude \
	-MMD -MP
ALL_CFLAGS := $(BASE_CFLAGS) -fPIC $(CFLAGS)
LDLIBS := -lpthread -lm

# Freestanding flags: the guest payload's (no libc, no SSE, no red zone)
FREE_CFLAGS := -std=c11 -g -O2 $(WARN) -Iinclude -DVIPI_FREESTANDING \
	-ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
	-mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mno-popcnt \
	-fno-stack-protector -fno-asynchronous-unwind-tables -MMD -MP

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer

LIB_SRCS := $(sort $(wildcard lib/*.c lib/*/*.c))
# What the guest links: the encoders and the set type
FREE_SRCS := $(sort lib/cpuset.c $(wildcard lib/encode/*.c))
TOOL_SRCS := $(sort $(wildcard tools/*.c vmm/*.c sim/*.c))
TEST_SRCS := $(sort $(wildcard tests/test-*.c))
TEST_SCRIPTS := $(sort $(wildcard tests/*.t))
TEST_HELPERS := $(sort $(wildcard tests/lib/*.c))
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz-*.c))
HEADERS := $(sort $(wildcard include/vipi/*.h))

# The architecture gate. vmm/ (the VMM on x86 KVM), guest/ (the x86-64
# guest it boots) and the tests and fuzzers built from them are x86-64
# only. For any other target (an arm64 machine, ARCH=arm64, a cross CC)
# `make` builds the library, vipi (tools/arch/no-vmm.c stands in for `run`
# and the KVM sweep) and the other tests, and says what it left out.
TARGET_MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)
VIPI_X86 := $(if $(filter x86_64-%,$(TARGET_MACHINE)),1,0)
ifneq ($(filter arm64 aarch64,$(ARCH)),)
ifeq ($(filter aarch64-%,$(TARGET_MACHINE)),)
$(error ARCH=$(ARCH) but CC ($(CC)) builds for '$(TARGET_MACHINE)': use CROSS_COMPILE=aarch64-linux-gnu- or an aarch64 CC)
endif
endif
ifeq ($(VIPI_X86),0)
# tests/*.t that boot the guest, drive the VMM or build the x86 Linux driver
VMM_SCRIPTS := $(filter tests/kvm-%.t tests/kernel-boot.t tests/pc-devices.t \
	tests/cli-bench-linux.t tests/cli-errors.t tests/linux-driver.t, \
	$(TEST_SCRIPTS))
VMM_TESTS := $(shell grep -l '^\#include "\.\./vmm/' $(TEST_SRCS) /dev/null)
VMM_FUZZ := $(shell grep -l '^\#include "\.\./vmm/' $(FUZZ_SRCS) /dev/null)
TOOL_SRCS := $(sort $(wildcard tools/*.c sim/*.c) tools/arch/no-vmm.c)
TEST_SRCS := $(filter-out $(VMM_TESTS),$(TEST_SRCS))
TEST_SCRIPTS := $(filter-out $(VMM_SCRIPTS),$(TEST_SCRIPTS))
FUZZ_SRCS := $(filter-out $(VMM_FUZZ),$(FUZZ_SRCS))
FREE_SRCS :=
ifeq ($(MAKELEVEL),0)
$(info vipi: building for $(or $(TARGET_MACHINE),an unknown target) \
	(CC=$(CC)): the library, vipi without `run` and the KVM sweep, the tests)
$(info vipi: left out (x86-64 only): vmm/ guest/ \
	$(notdir $(VMM_TESTS) $(VMM_FUZZ) $(VMM_SCRIPTS)))
endif
endif

# The shared program layer and the vipi binary's main, on every target
# (docs/architecture.md)
TOOL_SRCS := $(sort $(TOOL_SRCS) $(wildcard prog/*.c main/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(O)/asan/%.o)
TSAN_LIB_OBJS := $(LIB_SRCS:%.c=$(O)/tsan/%.o)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(O)/fuzz/%.o)
FREE_OBJS := $(FREE_SRCS:%.c=$(O)/free/%.o)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(O)/%.o)
HELPER_OBJS := $(TEST_HELPERS:%.c=$(O)/%.o)
SAN_HELPER_OBJS := $(TEST_HELPERS:%.c=$(O)/asan/%.o)

# Concurrency tests also run under ThreadSanitizer
TSAN_TEST_SRCS := tests/test-deliver.c tests/test-xapic-race.c
TSAN_HELPER_OBJS := $(TEST_HELPERS:%.c=$(O)/tsan/%.o)
TESTS := $(TEST_SRCS:tests/%.c=$(O)/t/%)
TSAN_TESTS := $(TSAN_TEST_SRCS:tests/%.c=$(O)/t/tsan-%)
SAN_TESTS := $(TEST_SRCS:tests/%.c=$(O)/t/asan-%)
SCRIPT_TESTS := $(TEST_SCRIPTS:tests/%.t=$(O)/t/%.t)
FUZZERS := $(FUZZ_SRCS:fuzz/%.c=$(O)/fuzz/%)

LIBA := $(O)/libvipi.a
LIBSO := $(O)/libvipi.so
# libvipi.so's ABI version (not the package's VIPI_VERSION_*): soname
# libvipi.so.$(SO_MAJOR), installed as libvipi.so.$(SO_VERSION)
SO_MAJOR := 1
SO_VERSION := $(SO_MAJOR).0.0
VIPI := $(O)/vipi
# the VMM and tools under ASan+UBSan: tests/kvm-asan.t runs hostile guests
SAN_TOOL_OBJS := $(TOOL_SRCS:%.c=$(O)/asan/%.o)
SAN_VIPI := $(O)/asan/vipi

ifeq ($(VIPI_X86),1)
-include guest/guest.mk
endif

# A change of compiler or flags (CC=, CFLAGS=, OPT=, WERROR=, ...) rebuilds
# what they compile: every object depends on a stamp of them, rewritten
# only when they differ from the last build's (taken here, after
# guest.mk, and not per target)
FLAGS_STAMP := $(O)/flags.stamp
FLAGS_NOW := $(CC) $(FUZZ_CC) | $(ALL_CFLAGS) | $(FREE_CFLAGS) | \
	$(GUEST_CFLAGS) | $(SAN_FLAGS) | $(TSAN_FLAGS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(subst ','\'',$(FLAGS_NOW))' | cmp -s - $@ || \
		echo '$(subst ','\'',$(FLAGS_NOW))' >$@
$(LIB_OBJS) $(SAN_LIB_OBJS) $(TSAN_LIB_OBJS) $(FUZZ_LIB_OBJS) $(FREE_OBJS) \
	$(TOOL_OBJS) $(SAN_TOOL_OBJS) $(HELPER_OBJS) $(SAN_HELPER_OBJS) \
	$(TSAN_HELPER_OBJS) $(TEST_SRCS:%.c=$(O)/%.o) \
	$(TEST_SRCS:%.c=$(O)/asan/%.o) $(TSAN_TEST_SRCS:%.c=$(O)/tsan/%.o) \
	$(FUZZ_SRCS:%.c=$(O)/fuzz/%.o) $(O)/fuzz/vmm/x86-insn.o \
	$(GUEST_OBJS) $(GUEST_BLOB): $(FLAGS_STAMP)

all: $(LIBA) $(LIBSO) $(VIPI) $(FREE_OBJS) $(TESTS) $(SAN_TESTS) $(TSAN_TESTS) \
	$(SCRIPT_TESTS) $(GUEST_ALL) $(O)/vipi.pc $(SAN_VIPI)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS) -c $< -o $@

$(O)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC-TSAN,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) $(CFLAGS) -c $< -o $@

$(O)/free/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC-FREE,$@)
	$(Q)$(CC) $(FREE_CFLAGS) -c $< -o $@

$(O)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=undefined -c $< -o $@

$(LIBA): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# lib/ is hidden but for what include/vipi/vipi.h declares (lib/export.h);
# tests/exports.t checks that libvipi.so exports exactly that
$(LIB_OBJS): ALL_CFLAGS += -fvisibility=hidden -include lib/export.h
$(LIB_OBJS): lib/export.h
# lib/'s own headers (lib/*.h, lib/x86/*.h) are for lib/ alone: everything
# else compiles with -Iinclude only (docs/architecture.md, tests/layers.t)
$(LIB_OBJS): ALL_CFLAGS += -Ilib
$(SAN_LIB_OBJS) $(TSAN_LIB_OBJS) $(FUZZ_LIB_OBJS): BASE_CFLAGS += -Ilib
$(FREE_OBJS): FREE_CFLAGS += -Ilib

$(LIBSO): $(LIB_OBJS) lib/libvipi.map
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libvipi.so.$(SO_MAJOR) \
		-Wl,--version-script=lib/libvipi.map -Wl,-z,defs \
		-o $@ $(LIB_OBJS) $(LDLIBS)

$(VIPI): $(TOOL_OBJS) $(LIBA) $(GUEST_BLOBS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(TOOL_OBJS) $(GUEST_LINK) $(LIBA) $(LDLIBS)

$(SAN_VIPI): $(SAN_TOOL_OBJS) $(SAN_LIB_OBJS) $(GUEST_BLOBS)
	$(call msg,LD-SAN,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -o $@ $(SAN_TOOL_OBJS) \
		$(GUEST_LINK) $(SAN_LIB_OBJS) $(LDLIBS)

$(O)/t/test-%: $(O)/tests/test-%.o $(HELPER_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(HELPER_OBJS) $(LIBA) $(LDLIBS)

$(O)/t/asan-test-%: $(O)/asan/tests/test-%.o $(SAN_HELPER_OBJS) $(SAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,LD-SAN,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/t/tsan-test-%: $(O)/tsan/tests/test-%.o $(TSAN_HELPER_OBJS) $(TSAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,LD-TSAN,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/t/%.t: tests/%.t
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

$(O)/fuzz/fuzz-%: $(O)/fuzz/fuzz/fuzz-%.o $(FUZZ_LIB_OBJS)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# fuzz-insn also links the VMM's instruction decoder (pure: no KVM)
$(O)/fuzz/fuzz-insn: $(O)/fuzz/vmm/x86-insn.o

# vipi.pc names PREFIX: the stamp changes when PREFIX does, so
# `make install PREFIX=/other` regenerates it (DESTDIR stays out of it)
$(O)/vipi.pc.prefix: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' >$@
FORCE:

$(O)/vipi.pc: vipi.pc.in Makefile $(O)/vipi.pc.prefix
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' \
		-e 's|@VERSION@|$(shell sed -n 's/^\#define VIPI_VERSION_MAJOR //p' include/vipi/vipi.h).$(shell sed -n 's/^\#define VIPI_VERSION_MINOR //p' include/vipi/vipi.h)|g' $< > $@

fuzz: $(FUZZERS)

# What builds on any target without a sanitizer runtime: the library, vipi
# and the unit tests (a cross build's set: check-arm64)
base: $(LIBA) $(LIBSO) $(VIPI) $(TESTS) $(SCRIPT_TESTS) $(O)/vipi.pc
san-tests: $(SAN_TESTS)

# arm64 on this machine: `base` and the unit tests under ASan+UBSan
# (gcc-aarch64-linux-gnu brings their runtimes) cross-built into
# $(O)/arm64 with Debian's cross compiler where it is installed (.ci/run
# installs it);
# tests/arm64.t runs it under qemu-aarch64 with the cross sysroot, or
# skips with the reason where either is missing
ARM64_CROSS ?= aarch64-linux-gnu-
ARM64_SYSROOT ?= /usr/aarch64-linux-gnu
QEMU_AARCH64 ?= qemu-aarch64
ARM64_O := $(O)/arm64
check-arm64:
ifeq ($(VIPI_X86),1)
	$(Q)if command -v $(ARM64_CROSS)gcc >/dev/null 2>&1; then \
		echo "  ARM64    $(ARM64_O): library, vipi, unit tests" \
		     "($(ARM64_CROSS)gcc; vmm/ and guest/ left out)"; \
		$(MAKE) --no-print-directory O=$(ARM64_O) ARCH=arm64 \
			CROSS_COMPILE=$(ARM64_CROSS) CC=$(ARM64_CROSS)gcc \
			AR=$(ARM64_CROSS)ar base san-tests; \
	else \
		echo "  ARM64    skipped: no $(ARM64_CROSS)gcc" \
		     "(Debian: gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"; \
	fi
else
	@echo "  ARM64    not a cross build: this build is for $(TARGET_MACHINE)"
endif

# The other compiler: the README says gcc or clang, so a gcc build's
# `make check` also builds `base` (the library, vipi with the guest, the
# unit tests) with clang into $(O)/cc2, and a clang build's with gcc
CC2 := $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null | head -1)),gcc,clang)
check-cc2:
ifeq ($(VIPI_X86),1)
	$(Q)if command -v $(CC2) >/dev/null 2>&1; then \
		echo "  CC2      $(O)/cc2: library, vipi, guest, unit tests ($(CC2))"; \
		$(MAKE) --no-print-directory O=$(O)/cc2 CC=$(CC2) base; \
	else \
		echo "  CC2      skipped: no $(CC2)"; \
	fi
else
	@echo "  CC2      not on a cross build: the x86 build's check builds both"
endif

# Every test stream goes through prove. The environment tells the scripts
# where the build is.
PROVE ?= prove
PROVE_FLAGS ?= -j2
# a cross build's programs run on their own machine, or under qemu-user
# through an x86 build's check (tests/arm64.t)
ifneq ($(filter check,$(MAKECMDGOALS)),)
ifeq ($(filter $(shell uname -m)-%,$(TARGET_MACHINE)),)
$(error make check runs the tests on this machine, but CC builds for $(TARGET_MACHINE): run the x86 build's make check (tests/arm64.t runs the arm64 build under qemu-aarch64), or make check on that machine)
endif
endif
check: all fuzz check-arm64 check-cc2
	$(Q)./scripts/format-check
	$(Q)VIPI_BUILD=$(abspath $(O)) VIPI=$(abspath $(VIPI)) \
		VIPI_ARM64_BUILD=$(abspath $(ARM64_O)) \
		VIPI_ARM64_SYSROOT=$(ARM64_SYSROOT) \
		VIPI_QEMU_AARCH64=$(QEMU_AARCH64) \
		VIPI_ASAN=$(abspath $(SAN_VIPI)) \
		VIPI_FUZZ_DIR=$(abspath $(O)/fuzz) VIPI_SRC=$(CURDIR) \
		$(PROVE) $(PROVE_FLAGS) --exec '' $(TESTS) $(SAN_TESTS) $(TSAN_TESTS) \
		$(SCRIPT_TESTS)

format:
	$(Q)clang-format -i $(shell git ls-files '*.c' '*.h')

install: $(LIBA) $(LIBSO) $(VIPI) $(O)/vipi.pc
	install -d $(DESTDIR)$(PREFIX)/include/vipi $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/bin
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/vipi/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/libvipi.so.$(SO_VERSION)
	ln -sf libvipi.so.$(SO_VERSION) $(DESTDIR)$(PREFIX)/lib/libvipi.so.$(SO_MAJOR)
	ln -sf libvipi.so.$(SO_MAJOR) $(DESTDIR)$(PREFIX)/lib/libvipi.so
	install -m 644 $(O)/vipi.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(VIPI) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(O)

.PHONY: all base san-tests check check-arm64 check-cc2 fuzz format install clean FORCE
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
