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
#   make check-fresh         make run and make check in a fresh Debian 12 chroot
#   make check-dkms          the Debian package, built by DKMS in the emulated host
#   make run                 the demonstration on the emulated POWER9 host
#   make lint                checkpatch on every source file
#   make bench               benchmarks (not tests)
#   make kselftest           the kselftests installed (build/kselftest/install)
#   make kselftest-run       run_kselftest.sh -c spapr_tce in a lab guest
#                            (MACHINE=pseries, KERNEL=6.12 by default)
#
# Installing on a POWER host (native build):
#   make install KDIR=...    modules into /lib/modules/<release>/updates,
#                            depmod, and /etc/modprobe.d/spapr-tce.conf
#   make uninstall KDIR=...  all of that removed again
#   make deb                 the spapr-tce-dkms Debian package (build/deb/)

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
# Their headers need a newer sparse than Debian's 0.6.4 (the only one in
# Debian 12 and 13), in two places; each define below hands sparse alone
# (CF, never the compiler) the plain C it can parse, and the compiler
# still builds and checks the original:
#  - compiler_types.h defines USE_TYPEOF_UNQUAL whenever __CHECKER__ is
#    set, so READ_ONCE() and everything below it use __typeof_unqual__,
#    which 0.6.4 does not know ("Expected ; at end of declaration"). Read
#    as __typeof__: sparse then keeps qualifiers the kernel drops, which
#    could give a false finding (we would see it), not hide a real one.
#  - MODULE_INFO() (moduleparam.h) opens with static_assert(sizeof(info)
#    - 1 == __builtin_strlen(info)), which 0.6.4 does not fold into a
#    constant: "error: bad constant expression" on every MODULE_* line, and
#    after its first error in a file sparse prints no more warnings there,
#    so the file went unchecked. For the checker __builtin_strlen(s) is
#    sizeof(s) - 1, exact for the string literals MODULE_INFO passes; gcc
#    still makes the embedded-NUL check.
# Documentation/kernels-7.rst shows a __user dereference caught with them
# (and missed without) in a file with MODULE_* lines.
ifneq ($(filter 7 7-%,$(KERNEL)),)
INROOT	:= bash $(TOP)/scripts/in-buildroot.sh
KCF	:= CF="-D__typeof_unqual__=__typeof__ '-D__builtin_strlen(s)=(sizeof(s)-1)' $(CF)"
endif

SRC_DIRS := include realmode kvm_tce vfio_spapr
KMAKE = $(INROOT) $(MAKE) -C $(KDIR) M=$(OBJ) $(KARCH) W=$(W) C=$(C) $(KCF) \
	$(if $(filter 1,$(WERROR)),SPAPR_TCE_WERROR=y)

.PHONY: all modules provision fetch check run lint bench clean distclean \
	host-tests check-fresh check-dkms check-debug install uninstall deb kselftest kselftest-run

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

# The Debian package installed and built by DKMS inside the emulated
# POWER9 host; slow (a native compiler under TCG). 6.1 by default;
# DKMS_KERNELS='6.1 6.12' runs both; DKMS_UPGRADE=1 adds the
# kernel-upgrade case to the first kernel's boot (a second native build).
# Both with the upgrade: 94 min (README).
DKMS_KERNELS ?= 6.1
check-dkms:
	@MACHINES=powernv9+dkms EXTRA_CELLS= bash scripts/check.sh \
		--filter '^(host/deb/|powernv9\+dkms/($(subst $(eval) ,|,$(subst .,\.,$(DKMS_KERNELS))))/)'

# The debug-kernel lane alone (Documentation/debug-kernel.rst): the whole
# suite and the allocation-failure sweep on the KASAN/lockdep/kmemleak
# kernel, on its radix machines; hours under TCG, so not in make check.
check-debug:
	@KERNELS=6.12-debug EXTRA_CELLS= bash scripts/check.sh $(if $(T),--filter '$(T)')

run:
	@bash scripts/run-demo.sh

# The README's commands from a bare Debian 12 (minbase) chroot; slow.
check-fresh:
	@bash scripts/check-fresh.sh $(CHECK_FRESH_ARGS)

lint:
	@bash scripts/lint.sh

bench:
	@bash scripts/bench.sh

kselftest:
	@bash scripts/build-kselftests.sh

kselftest-run:
	@bash scripts/run-kselftests.sh --machine $(or $(MACHINE),pseries) \
		--kernel $(if $(filter command line,$(origin KERNEL)),$(KERNEL),6.12)

# The release of the kernel in KDIR, and where its modules live
# (INSTALL_MOD_PATH and DESTDIR prefix both, for staging).
KRELEASE = $(shell sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODPROBE_CONF := $(DESTDIR)/etc/modprobe.d/spapr-tce.conf
SPAPR_MODULES := spapr_realmode vfio_spapr kvm_tce

# Unsigned, as the README says (the distribution's key is not ours to
# use); the kernel headers carry no System.map, so depmod runs here.
install: modules
	+$(KMAKE) INSTALL_MOD_DIR=updates CONFIG_MODULE_SIG_ALL= modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)
	install -D -m 644 scripts/install/spapr-tce.conf $(MODPROBE_CONF)

uninstall:
	@test -n "$(KRELEASE)" || { echo "uninstall: no kernel release in $(KDIR)" >&2; exit 1; }
	rm -f $(foreach m,$(SPAPR_MODULES),$(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)/updates/*/$(m).ko*)
	rm -f $(MODPROBE_CONF)
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)

deb:
	@bash scripts/make-deb.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/host $(BUILD)/lab

distclean:
	rm -rf $(BUILD)
