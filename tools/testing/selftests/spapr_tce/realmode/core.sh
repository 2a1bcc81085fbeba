#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spapr_realmode.ko: loads on this machine, indexes the vmemmap by the
# method this MMU and kernel call for, passes its in-kernel self-test
# (every online pfn against pfn_to_page(), refcounting, classification,
# the real-mode accessor check, user-memory translation), and unloads.

. "$(dirname "$0")/lib.sh"
D=/sys/kernel/debug/spapr_realmode
KERNEL_SELFTEST_CASES=22
tap_plan $((KERNEL_SELFTEST_CASES + 4))

klog_mark
if ! mod_insmod spapr_realmode; then
	tap_fail load_spapr_realmode
	klog | tail -5 | sed 's/^/# /'
	exit 1
fi
tap_ok load_spapr_realmode
sed 's/^/# /' $D/info

# Newer kernels (about v6.6 on) no longer fill vmemmap_list for radix.
want=vmemmap_list
major=$(uname -r | cut -d. -f1)
minor=$(uname -r | cut -d. -f2)
if [ "$(mmu_kind)" = radix ] && [ $((major * 100 + minor)) -ge 606 ]; then
	want=page_table
fi
tap_check "method_is_${want}_on_$(mmu_kind)_mmu" grep -qx "method: $want" $D/info
logged() { klog | grep -q "vmemmap index by $want"; }
tap_check method_named_in_kernel_log logged

cat $D/selftest >/tmp/realmode-selftest.tap
tap_include /tmp/realmode-selftest.tap
tap_check unload_spapr_realmode rmmod spapr_realmode
tap_done
