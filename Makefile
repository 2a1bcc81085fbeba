# SPDX-License-Identifier: GPL-2.0
#
# Cross-build from x86 against a stock Debian ppc64el kernel:
#   make                 modules for KERNEL=6.1 (default)
#   make KERNEL=6.12     modules for Debian's 6.12
#   make KERNEL=7        modules for Debian 13's newest 7.x (4K pages);
#                        KERNEL=7-64k for its 64K-page flavour. Built in
#                        the trixie build root (scripts/in-buildroot.sh):
#                        7.x's kbuild and compiler are Debian 13's.
# Native build on a POWER host (no cross compiler, no download):
#   make KDIR=/lib/modules/$(uname -r)/build
#
#   make check [T=pattern]   host unit tests + in-VM selftests, all machines
#   make run                 the demonstration on the emulated POWER9 host
#   make lint                checkpatch on every source file
#   make bench               benchmarks (not tests)

KERNEL	?= 6.1
KERNELS	?= 6.1 6.12
TOP	:= $(CURDIR)
BUILD	?= $(TOP)/build
W	?= 1
C	?= 0
WERROR	?= 0

ifeq ($(origin KDIR),undefined)
KDIR	:= $(BUILD)/kernels/$(KERNEL)/kdir
OBJ	:= $(BUILD)/obj/$(KERNEL)
KARCH	:= ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu-
FETCH	:= fetch
else
OBJ	:= $(BUILD)/obj/native
KARCH	:=
FETCH	:=
endif

# Debian 13's kernels: the module build runs inside the trixie build root.
# Debian's sparse (0.6.4) cannot parse __typeof_unqual__, which 7.x's
# headers use everywhere: read as __typeof__ for the checker only, so C=1/2
# still checks our code (it then trips only on 7.x's MODULE_* macros).
ifneq ($(filter 7 7-%,$(KERNEL)),)
INROOT	:= bash $(TOP)/scripts/in-buildroot.sh
KCF	:= CF="-D__typeof_unqual__=__typeof__ $(CF)"
endif

SRC_DIRS := include realmode kvm_tce vfio_spapr
KMAKE = $(INROOT) $(MAKE) -C $(KDIR) M=$(OBJ) $(KARCH) W=$(W) C=$(C) $(KCF) \
	$(if $(filter 1,$(WERROR)),SPAPR_TCE_WERROR=y)

.PHONY: all modules provision fetch check run lint bench clean distclean \
	host-tests

all: modules

provision:
	@bash scripts/provision-host.sh

fetch: provision
	@bash scripts/fetch-kernel.sh $(KERNEL)

# Objects go to build/obj/<kernel>, a tree of links to the sources, so
# the source tree stays clean and both kernels can be built side by side.
modules: $(FETCH)
	@mkdir -p $(OBJ)
	@cp -rsf $(TOP)/Kbuild $(addprefix $(TOP)/,$(SRC_DIRS)) $(OBJ)/
	@find -L $(OBJ) -type l -delete 2>/dev/null || true
	@test -z "$(FETCH)" || cat $(BUILD)/kernels/$(KERNEL)/versions.txt
	+$(KMAKE) modules

host-tests:
	@$(MAKE) -s -C tools/testing/selftests/spapr_tce/host BUILD=$(BUILD)/host run

check:
	@bash scripts/check.sh $(if $(T),--filter '$(T)')

run:
	@bash scripts/run-demo.sh

lint:
	@bash scripts/lint.sh

bench:
	@bash scripts/bench.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/host $(BUILD)/lab

distclean:
	rm -rf $(BUILD)
