#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Allocation-failure sweep (bin/fail_nth): every ioctl of our containers
# (v1 and v2), KVM's TCE table and its KVM-VFIO link, and the load of each
# of our three modules, with its 1st, 2nd, ... allocation failed in turn
# until it passes through them all; after each failure a clean error and
# nothing left behind. Needs the debug kernel's fail-nth
# (CONFIG_FAULT_INJECTION): on a stock kernel the sweep SKIPs, saying so.
# The boot's closing kmemleak scan (run-selftests) checks that the
# failures leaked nothing.
# lab-test-timeout: 1500
# It leaves our modules loaded and edu bound to vfio-pci through our
# container; the tests that load them afresh (realmode-core,
# smoke-modules, vfio-enable) must come before it:
# lab-test-order: last
. "$(dirname "$0")/lib.sh"
TOOL=$(dirname "$0")/bin/fail_nth
if [ ! -e /proc/thread-self/fail-nth ]; then
	tap_plan 1
	tap_skip allocation_failure_sweep \
		"no /proc/thread-self/fail-nth: $LAB_KERNEL has no CONFIG_FAULT_INJECTION (the debug kernel has)"
	exit 0
fi
# fail_nth loads and unloads our modules itself, from their files.
if [ -z "${SPAPR_TCE_MODULES:-}" ]; then
	tap_plan 1
	tap_skip allocation_failure_sweep "set SPAPR_TCE_MODULES: fail_nth loads our .ko files itself"
	exit 0
fi
# FAIL_NTH_CASE=REGEX runs only the paths it matches (by hand, to replay).
sel=${FAIL_NTH_CASE:-.}
n=$("$TOOL" --case "$sel" --list | wc -l)

edu=$(edu_device) || { tap_plan 1; tap_fail find_edu_device "no 1234:11e8 on the PCI bus"; exit 1; }
modprobe vfio-pci
modprobe kvm_hv 2>/dev/null
loaded vfio_iommu_spapr_tce && rmmod vfio_iommu_spapr_tce
{ loaded spapr_realmode || mod_insmod spapr_realmode; } &&
	if loaded vfio_spapr; then
		echo 1 >/sys/module/vfio_spapr/parameters/container
	else
		mod_insmod vfio_spapr
	fi
[ -e /dev/kvm ] && ! loaded kvm_tce && mod_insmod kvm_tce
if ! loaded vfio_spapr || ! bind_vfio_pci "$edu"; then
	tap_plan 1
	tap_fail bind_edu_to_vfio_pci_with_our_container "$(dmesg | grep -m1 vfio)"
	exit 1
fi
group=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")

# GFP_KERNEL allocations too (the default injects only into those that
# cannot sleep), order-0 pages too, and no stack dump per failure.
for d in /sys/kernel/debug/failslab /sys/kernel/debug/fail_page_alloc; do
	echo N >"$d/ignore-gfp-wait"
	echo 0 >"$d/verbose"
done
echo N >/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem
echo 0 >/sys/kernel/debug/fail_page_alloc/min-order

# sym_range FIRST [LAST]: "0xSTART 0xEND", from FIRST's address to the
# end of LAST (the next address kallsyms lists); nothing when kallsyms
# hides addresses.
sym_range() {
	sort /proc/kallsyms | awk -v f="$1" -v l="${2:-$1}" '
		$3 == f && !s { s = $1 }
		$3 == l { t = $1; next }
		t && $1 != t { if (s !~ /^0+$/) print "0x" s, "0x" $1; exit }'
}

# Two stock bugs of pseries' window code (arch/powerpc/platforms/pseries/
# iommu.c) are kept out of the sweep (Documentation/debug-kernel.rst,
# "Stock bugs the sweep met"): copy_property() drops a failed allocation
# silently and spapr_tce_create_table() then dereferences NULL (oops,
# dma_win_init_mutex held); and any failed allocation while a DDW is made
# puts the device on the failed-DDW list, which refuses every later
# window of it, the default one too, until reboot. Allocations made under
# that code (one address range: copy_property up to the end of
# spapr_tce_create_table) are neither failed nor counted; every other one
# still is, and powernv's window code is swept whole.
reject_stock_bugs() {
	set -- $(sym_range copy_property spapr_tce_create_table)
	[ $# -eq 2 ] || return 1
	for d in /sys/kernel/debug/failslab /sys/kernel/debug/fail_page_alloc; do
		[ -e "$d/reject-start" ] || return 1
		echo "$1" >"$d/reject-start" && echo "$2" >"$d/reject-end" || return 1
	done
	echo "# allocations under pseries' window code ($1-$2) are not failed: stock bugs"
}

# Two more, met by the module loads alone, both in the notifiers a load
# calls as the module comes (MODULE_STATE_COMING, through
# blocking_notifier_call_chain_robust()): tracing's
# (kernel/trace/trace_events.c), where an allocation failed while a
# module's trace events get their tracefs directory (event_create_dir ->
# event_define_fields) raises WARN_ON_ONCE and the error path drops an
# event file's last reference twice (two refcount WARNs); and jump
# label's (kernel/jump_label.c), whose failed allocation of a module's
# static-key entry is a WARN by design ("Failed to allocate memory:
# jump_label may not work properly"), and whose clean-up then WARNs once
# per key it never linked. Only root's module load reaches them, so the
# module loads alone keep the allocations of those notifiers out
# (fail_nth --load-reject); the rest of each load, our init included, is
# swept.
load_reject=$(sym_range blocking_notifier_call_chain_robust | tr ' ' :)

klog_mark
tap_plan $((n + 2))
echo "# $LAB_MACHINE $LAB_KERNEL, group $group"
[ -n "$load_reject" ] &&
	echo "# module loads: allocations of the MODULE_STATE_COMING notifiers ($load_reject) are not failed: stock bugs"
if grep -q ' spapr_tce_create_table$' /proc/kallsyms && ! reject_stock_bugs; then
	echo "# no stack-trace filter (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER):" \
		"pseries' window code may oops or black-list the device (stock bugs)"
fi
# Streamed, not included afterwards: a path takes minutes on the debug
# kernel, and a hung one must show where it stopped. Its cases are the
# first of this test, so its numbering is ours.
"$TOOL" --group "$group" --dev "$edu" --case "$sel" ${load_reject:+--load-reject "$load_reject"} \
	2>&1 | tee /tmp/fail_nth.tap
TAP_N=$(grep -c '^ok \|^not ok ' /tmp/fail_nth.tap)
TAP_FAILED=$(grep -c '^not ok ' /tmp/fail_nth.tap)
# The module paths leave the modules as their last load did: all three
# back, serving containers, for the tests after this one.
for m in spapr_realmode vfio_spapr kvm_tce; do
	[ "$m" = kvm_tce ] && [ ! -e /dev/kvm ] && continue
	loaded $m || mod_insmod $m
done
if loaded spapr_realmode && loaded vfio_spapr; then
	tap_ok modules_load_again_after_the_sweep
else
	tap_fail modules_load_again_after_the_sweep "$(lsmod | head -5)"
fi
# klog (lib.sh): the whole buffer when the mark has scrolled out of it
# (the failed allocations' reports are many).
if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean_after_the_sweep
else
	tap_ok kernel_log_clean_after_the_sweep
fi
tap_done
