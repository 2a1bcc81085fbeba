#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VFIO enablement (vfio_spapr/vs_iommu_enable.c, Documentation/vfio-enable.rst).
#
# On a kernel without powerpc iommu_ops (6.1): vfio-pci cannot bind the
# edu device on the stock kernel; with spapr_realmode and vfio_spapr
# loaded it binds, its /dev/vfio group opens and the in-tree sPAPR TCE
# container driver takes it; rmmod is refused while vfio-pci is bound and
# unloads for real once unbound; remove and rescan set the device up
# again; a blocking domain cached in a group keeps the module until the
# group goes. On a kernel with its own (6.12): our part is absent and the
# stock kernel binds on its own. Throughout, a virtio-blk disk of known
# content reads back the same: other devices' DMA is unaffected.
#
# The plan comes last: a few cases depend on the kernel and platform.

. "$(dirname "$0")/lib.sh"

SYS_VS=/sys/class/iommu/vfio_spapr
HELPER=$SPAPR_TCE_DIR/bin/vfio-container

echo "TAP version 13"
klog_mark

# The edu device (1234:11e8).
E=$(edu_device) && E=/sys/bus/pci/devices/$E
if [ -z "$E" ]; then
	tap_fail edu_device_present "no 1234:11e8 in /sys/bus/pci/devices"
	echo "1..$TAP_N"
	exit 1
fi
BDF=${E##*/}
group() { basename "$(readlink "$E/iommu_group")"; }
G=$(group)
tap_check "edu_device_present_alone_in_iommu_group_$G" \
	test "$(ls "/sys/kernel/iommu_groups/$G/devices" | wc -l)" = 1

vs() { cat "$SYS_VS/nr_$1" 2>/dev/null || echo none; }
state() { echo "# enablement: devices $(vs devices) pinned $(vs pinned) blocking_domains $(vs blocking_domains)"; }

bind_vfio() {
	echo vfio-pci >"$E/driver_override"
	echo "$BDF" >/sys/bus/pci/drivers/vfio-pci/bind 2>/dev/null &&
		[ "$(basename "$(readlink "$E/driver")")" = vfio-pci ] &&
		[ -c "/dev/vfio/$(group)" ]
}
unbind_vfio() {
	echo "$BDF" >/sys/bus/pci/drivers/vfio-pci/unbind 2>/dev/null
	[ ! -e "$E/driver" ]
}
bind_fails_like_stock() {
	! bind_vfio && klog | grep -q "vfio-pci: probe of $BDF failed with error -22"
}
container() {		# the in-tree container driver takes the group
	"$HELPER" "$(group)" "$BDF"
}
remove_rescan() {
	echo 1 >"$E/remove" && [ ! -e "$E" ] &&
		echo 1 >/sys/bus/pci/rescan && [ -e "$E" ]
}
edu_set_up() {		# edu's dev->iommu is ours: sysfs link to our iommu
	[ "$(basename "$(readlink "$E/iommu")")" = vfio_spapr ]
}

# The disk: LAB_DISK_SHA256 from /lab/env.
modprobe virtio_pci 2>/dev/null
modprobe virtio_blk 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 1; done
disk_ok() {
	sum=$(sha256sum /dev/vda 2>/dev/null | cut -d' ' -f1)
	[ -n "$LAB_DISK_SHA256" ] && [ "$sum" = "$LAB_DISK_SHA256" ] ||
		{ echo "# /dev/vda: '$sum', want '$LAB_DISK_SHA256'"; false; }
}
tap_check disk_reads_known_content_before_insmod disk_ok

modprobe vfio-pci
modprobe vfio_iommu_spapr_tce
# The in-tree container driver serves the container here; a vfio_spapr
# with a container driver of its own must stay out of its way.
VS_ARGS=
modinfo -F parm "$(mod_file vfio_spapr)" 2>/dev/null | grep -q '^container:' &&
	VS_ARGS=container=0
insmod_vs() { mod_insmod vfio_spapr $VS_ARGS; }
insmod_ours() {
	{ loaded spapr_realmode || mod_insmod spapr_realmode; } &&
		insmod_vs
}

if [ -e "/sys/bus/pci/drivers/vfio-pci" ] && bind_vfio; then
	STOCK_BINDS=1
else
	STOCK_BINDS=0
fi

if [ $STOCK_BINDS = 1 ]; then
	# A kernel with powerpc iommu_ops of its own (v6.4 on).
	tap_ok stock_kernel_binds_edu_to_vfio_pci
	tap_check stock_container_driver_sets_container container
	tap_check unbind_edu unbind_vfio
	tap_check insmod_spapr_realmode_and_vfio_spapr insmod_ours
	our_part_absent() {
		[ ! -e $SYS_VS ] &&
			klog | grep -q 'vfio_spapr: kernel has its own powerpc iommu_ops'
	}
	tap_check our_iommu_ops_absent_kernel_has_its_own our_part_absent
	tap_check edu_binds_with_vfio_spapr_loaded bind_vfio
	tap_check container_works_with_vfio_spapr_loaded container
	tap_check disk_reads_known_content_with_edu_on_vfio_pci disk_ok
	tap_check edu_remove_rescan remove_rescan
	tap_check edu_rebinds_after_rescan bind_vfio
	tap_check container_works_after_rescan container
	unbind_rmmod() { unbind_vfio && rmmod vfio_spapr; }
	tap_check unbind_and_rmmod_vfio_spapr unbind_rmmod
	tap_check disk_reads_known_content_after_rmmod disk_ok
else
	# No powerpc iommu_ops: the problem, then our enablement.
	tap_check stock_kernel_cannot_bind_edu_to_vfio_pci bind_fails_like_stock
	tap_check insmod_spapr_realmode_and_vfio_spapr insmod_ours
	state
	set_up_ok() { [ "$(vs devices)" -ge 1 ] && edu_set_up; }
	tap_check enablement_sets_up_edu_and_other_grouped_devices set_up_ok
	tap_check edu_binds_to_vfio_pci_and_group_node_appears bind_vfio
	if ! rmmod vfio_spapr 2>/dev/null && loaded vfio_spapr && [ "$(vs pinned)" = 1 ]; then
		tap_ok rmmod_refused_while_edu_bound_to_vfio_pci
	else
		tap_fail rmmod_refused_while_edu_bound_to_vfio_pci "pinned $(vs pinned)"
	fi
	real_unload() {
		unbind_vfio && [ "$(vs pinned)" = 0 ] && rmmod vfio_spapr &&
			[ ! -e $SYS_VS ] && [ ! -e "$E/iommu" ]
	}
	tap_check unbind_then_rmmod_really_unloads real_unload
	tap_check disk_reads_known_content_after_rmmod disk_ok
	rebind_fails() { ! bind_vfio; }
	tap_check stock_behaviour_back_after_rmmod rebind_fails
	reload_rebind() { insmod_vs && bind_vfio; }
	tap_check reinsmod_vfio_spapr_and_rebind_edu reload_rebind
	tap_check in_tree_container_driver_sets_container container
	state
	tap_check container_claim_got_our_blocking_domain test "$(vs blocking_domains)" -ge 1
	tap_check disk_reads_known_content_with_edu_on_vfio_pci disk_ok
	rescan_set_up() { remove_rescan && edu_set_up; }
	tap_check edu_remove_rescan_sets_device_up_again rescan_set_up
	tap_check edu_rebinds_after_rescan bind_vfio
	tap_check container_works_after_rescan container
	unbind_vfio
	state
	if ! rmmod vfio_spapr 2>/dev/null && loaded vfio_spapr; then
		tap_ok rmmod_refused_while_group_caches_our_blocking_domain
	else
		tap_fail rmmod_refused_while_group_caches_our_blocking_domain
	fi
	# The group goes with its last device on powernv (the PE is
	# released), not on pseries (the PHB's table group keeps it).
	echo 1 >"$E/remove"
	state
	if [ "$(vs blocking_domains)" = 0 ]; then
		unload() { rmmod vfio_spapr && [ ! -e $SYS_VS ]; }
		tap_check edu_removal_frees_blocking_domain_then_rmmod_unloads unload
	else
		if ! rmmod vfio_spapr 2>/dev/null && loaded vfio_spapr; then
			tap_ok rmmod_still_refused_group_outlives_edu_on_$LAB_MACHINE
		else
			tap_fail rmmod_still_refused_group_outlives_edu_on_$LAB_MACHINE
		fi
	fi
	echo 1 >/sys/bus/pci/rescan
	tap_check edu_back_after_final_rescan test -e "$E"
	tap_check disk_reads_known_content_at_end disk_ok
fi

loaded spapr_realmode && rmmod spapr_realmode
if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean
else
	tap_ok kernel_log_clean
fi
echo "1..$TAP_N"
tap_done
