#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test: each of our modules loads, shows in lsmod with the version
# it was built as, passes its debugfs self-test where it has one
# (vfio_spapr: v1's per-page TCE counts), unloads, and the kernel log
# stays clean throughout.

. "$(dirname "$0")/lib.sh"

MODS="spapr_realmode vfio_spapr kvm_tce"
VS_SELFTEST_CASES=6
tap_plan $((14 + VS_SELFTEST_CASES))

version_ok() {
	v=$(cat "/sys/module/$1/version" 2>/dev/null)
	want=$(modinfo -F version "$(mod_file "$1")" 2>/dev/null)
	[ -n "$v" ] && { [ -z "$want" ] || [ "$v" = "$want" ]; } &&
		echo "# $1 version $v"
}

klog_mark
# insmod resolves no dependency: vfio_spapr needs vfio.ko, and must not
# meet the in-tree container driver (it refuses to share with it);
# kvm_tce links against kvm.ko's TCE handlers (kvm.ko loads everywhere,
# kvm_hv only where there is a hypervisor mode).
modprobe vfio
modprobe kvm
rmmod vfio_iommu_spapr_tce 2>/dev/null
for m in $MODS; do
	tap_check "insmod_$m" mod_insmod "$m"
	tap_check "lsmod_shows_$m" loaded "$m"
	tap_check "version_of_$m" version_ok "$m"
done
cat /sys/kernel/debug/vfio_spapr/selftest >/tmp/vfio_spapr-selftest.tap
tap_include /tmp/vfio_spapr-selftest.tap
tap_check vfio_spapr_selftest_ran_all_its_cases \
	test "$(grep -c '^\(not \)\{0,1\}ok ' /tmp/vfio_spapr-selftest.tap)" -eq $VS_SELFTEST_CASES
for m in kvm_tce vfio_spapr spapr_realmode; do
	if rmmod "$m" && ! loaded "$m"; then
		tap_ok "rmmod_$m"
	else
		tap_fail "rmmod_$m"
	fi
done
if klog | grep -E "$KLOG_BAD"; then
	tap_fail "kernel_log_clean_after_load_unload"
else
	tap_ok "kernel_log_clean_after_load_unload"
fi
tap_done
