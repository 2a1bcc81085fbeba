#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Device removal with live mappings: bin/vfio_remove holds both edu
# devices in two v2 containers of ours, each with DMA mapped, and removes
# the first through sysfs (vfio-pci's REQ eventfd asks the user to let
# the device go; it does, keeping group and container, as a VMM on a
# guest's unplug). Its cases: the removal completes, the second device
# keeps working, the orphaned container still answers and unmaps, no
# pin, VmLck or vfio_spapr counter is left behind. Then here: a rescan
# brings the device back, it rebinds to vfio-pci and a new container
# does DMA with it; a clean kernel log. On 6.1 this runs on our VFIO
# enablement (its removal notifier), on 6.12 on the kernel's own ops.
# lab-test-timeout: 600

. "$(dirname "$0")/lib.sh"
RM=$(dirname "$0")/bin/vfio_remove
PARAM=/sys/module/vfio_spapr/parameters/container

case $LAB_MACHINE in
pseries-*)
	tap_plan 1
	tap_skip remove "pseries covers it: device removal does not depend on the MMU"
	exit 0
	;;
esac

set -- $(edu_devices)
if [ $# -lt 2 ]; then
	tap_plan 1
	tap_fail two_edu_devices "found $#: scripts/lab/machines.sh gives every machine two"
	exit 1
fi
ea=$1 eb=$2
t0=$(date +%s)
klog_mark
had_srm=0 had_vs=0
loaded spapr_realmode && had_srm=1
loaded vfio_spapr && had_vs=1
modprobe vfio-pci
loaded vfio_iommu_spapr_tce && rmmod vfio_iommu_spapr_tce
{ loaded spapr_realmode || mod_insmod spapr_realmode; } &&
	if loaded vfio_spapr; then
		echo 1 >$PARAM
	else
		mod_insmod vfio_spapr
	fi
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
no_reset() {	# no device reset at each open and close (seconds on powernv)
	[ -w "/sys/bus/pci/devices/$1/reset_method" ] &&
		echo "" >"/sys/bus/pci/devices/$1/reset_method" 2>/dev/null
}
ncases=$("$RM" --list | wc -l)
# bind, the tool's cases, ran-all, rescan, rebind, dma after, log
tap_plan $((ncases + 6))
if loaded vfio_spapr && bind_vfio_pci "$ea" && bind_vfio_pci "$eb"; then
	tap_ok "bind_${ea}_and_${eb}_to_vfio_pci_with_our_container"
else
	tap_fail bind_edu_devices_to_vfio_pci "$(klog | grep -m2 -i 'vfio\|spapr')"
	exit 1
fi
no_reset "$ea"
no_reset "$eb"
ga=$(group_of "$ea") gb=$(group_of "$eb")
echo "# $LAB_MACHINE $LAB_KERNEL: A $ea group $ga, B $eb group $gb"

"$RM" --group-a "$ga" --dev-a "$ea" --group-b "$gb" --dev-b "$eb" >/tmp/vfio_remove.tap 2>&1
tap_include /tmp/vfio_remove.tap
got=$(grep -cE '^(not )?ok ' /tmp/vfio_remove.tap)
if [ "$got" = "$ncases" ]; then
	tap_ok vfio_remove_ran_all_cases
else
	tap_fail vfio_remove_ran_all_cases "ran $got of $ncases: $(tail -2 /tmp/vfio_remove.tap)"
fi

echo 1 >/sys/bus/pci/rescan
tap_check "rescan_brings_${ea}_back" test -e "/sys/bus/pci/devices/$ea"
tap_check rebind_after_rescan bind_vfio_pci "$ea"
no_reset "$ea"
ga=$(group_of "$ea")
dma_after() { "$RM" --dma --group-a "$ga" --dev-a "$ea"; }
tap_check dma_round_trip_on_a_new_container_after_rescan dma_after

for d in $ea $eb; do
	d=/sys/bus/pci/devices/$d
	[ -w "$d/reset_method" ] && echo default >"$d/reset_method" 2>/dev/null
	echo >"$d/driver_override" 2>/dev/null
	[ -e "$d/driver" ] && echo "${d##*/}" >"$d/driver/unbind"
done
[ $had_vs = 0 ] && rmmod vfio_spapr 2>/dev/null
[ $had_srm = 0 ] && rmmod spapr_realmode 2>/dev/null
echo "# $LAB_MACHINE $LAB_KERNEL: vfio-remove took $(($(date +%s) - t0)) s"
if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean
else
	tap_ok kernel_log_clean
fi
tap_done
