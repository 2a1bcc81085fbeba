#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What our VFIO container pins, charges and walks (bin/vfio_pin): v1
# locked_vm per distinct pinned page under RLIMIT_MEMLOCK, v2 memory on
# transparent huge pages moved off their alignment (pseries, THP), and a
# MAP over a window of 2^32 entries (powernv); then a clean kernel log.
# About 20 s on pseries, 40 s on powernv under TCG.
. "$(dirname "$0")/lib.sh"
PIN=$(dirname "$0")/bin/vfio_pin

# Validated on pseries, powernv9 and powernv8, and run on pseries-p10
# (the CPU differs); the hash and nested variants add nothing here: same
# VFIO as pseries.
case $LAB_MACHINE in
pseries|pseries-p10|powernv9|powernv8) ;;
*)
	tap_plan 1
	tap_skip vfio_pinning "$LAB_MACHINE: same VFIO as pseries, which runs it"
	exit 0
	;;
esac

edu=$(edu_device) || { tap_plan 1; tap_fail find_edu_device "no 1234:11e8 on the PCI bus"; exit 1; }
dev=/sys/bus/pci/devices/$edu
klog_mark
modprobe vfio-pci
# ours serves both container types (spapr_tce.sh explains the dance)
loaded vfio_iommu_spapr_tce && rmmod vfio_iommu_spapr_tce
{ loaded spapr_realmode || mod_insmod spapr_realmode; } &&
	if loaded vfio_spapr; then
		echo 1 >/sys/module/vfio_spapr/parameters/container
	else
		mod_insmod vfio_spapr
	fi
if ! loaded vfio_spapr || ! bind_vfio_pci "$edu"; then
	tap_plan 1
	tap_fail bind_edu_to_vfio_pci_with_our_container "$(klog | grep -m1 vfio)"
	exit 1
fi
[ -w "$dev/reset_method" ] && echo "" >"$dev/reset_method" 2>/dev/null
group=$(basename "$(readlink "$dev/iommu_group")")

# VFIO_PIN_CASE=REGEX runs only those cases (by hand)
sel=${VFIO_PIN_CASE:-.}
tap_plan $(($("$PIN" --list --case "$sel" | wc -l) + 1))
echo "# $LAB_MACHINE $LAB_KERNEL"
"$PIN" --group "$group" --dev "$edu" --case "$sel" >/tmp/vfio_pin.tap 2>&1
tap_include /tmp/vfio_pin.tap
[ -w "$dev/reset_method" ] && echo default >"$dev/reset_method" 2>/dev/null
if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean_no_soft_lockup
else
	tap_ok kernel_log_clean_no_soft_lockup
fi
tap_done
