#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# lab-test-order: last
#
# Installed like distribution modules: what `make install` put in its
# staging tree (the modules under updates/ and scripts/install/
# spapr-tce.conf, added by check.sh at /lab/install) goes where it goes
# on a POWER host, and Debian's own kmod (added at /lab/kmod, with its
# libraries) does the rest, as on a host: depmod finds our modules,
# `modprobe vfio-pci` brings vfio_spapr instead of the in-tree container
# driver (and, before v6.4, the IOMMU enablement vfio-pci needs to bind),
# `modprobe kvm_hv` brings kvm_tce, and once the files are removed the
# same commands give the stock state back. The lab's busybox modprobe
# knows neither softdep nor install lines, so it is not used here.
#
# Leaves no module of ours loaded, the in-tree driver unloaded and edu
# unbound, as the other tests expect.

. "$(dirname "$0")/lib.sh"

KMOD=/lab/kmod/kmod
STAGE=/lab/install
REL=$(uname -r)
MODDIR=/lib/modules/$REL
CONF=/etc/modprobe.d/spapr-tce.conf
HELPER=$SPAPR_TCE_DIR/bin/vfio-container
OURS="spapr_realmode vfio_spapr kvm_tce"

tap_plan 10
klog_mark
if [ ! -x "$KMOD" ] || [ ! -d "$STAGE/updates" ] || [ ! -f "$STAGE/spapr-tce.conf" ]; then
	why="no kmod tree or no make install stage (check.sh adds them)"
	for c in kmod_runs depmod_indexes_our_modules_in_updates \
		modprobe_vfio_pci_brings_vfio_spapr_not_intree \
		edu_binds_to_vfio_pci_with_no_manual_step \
		vfio_group_gets_an_spapr_container \
		modprobe_kvm_hv_brings_kvm_tce \
		uninstall_removes_our_modules_from_the_index \
		after_uninstall_modprobe_vfio_pci_brings_intree \
		kernel_log_clean; do
		tap_skip "$c" "$why"
	done
	tap_skip starts_from_the_stock_state "$why"
	exit 0
fi

# kmod decides what it is by the name it is called by; the install line
# of spapr-tce.conf calls /sbin/modprobe, as on a host.
mkdir -p /sbin /etc/modprobe.d
ln -sf "$KMOD" /sbin/modprobe
ln -sf "$KMOD" /sbin/depmod
restore() {
	rm -f /sbin/modprobe /sbin/depmod "$CONF"
	rm -rf "$MODDIR/updates"
}
trap restore EXIT
MP=/sbin/modprobe

tap_check kmod_runs "$MP" --version

# make install's result, where it installs it.
cp -a "$STAGE/updates" "$MODDIR/updates"
cp "$STAGE/spapr-tce.conf" "$CONF"
indexed() {
	/sbin/depmod -a || return 1
	for m in $OURS; do
		"$MP" --show-depends "$m" | grep -q "$MODDIR/updates/.*/$m.ko" || return 1
	done
}
tap_check depmod_indexes_our_modules_in_updates indexed

# The edu devices go and come back: before v6.4 the enablement's blocking
# domain stays cached in every group it served and keeps vfio_spapr until
# the group goes (Documentation/vfio-enable.rst), as a reboot would.
edus_remove() {
	for d in $(edu_devices); do
		echo "$d" >/sys/bus/pci/drivers/vfio-pci/unbind 2>/dev/null
		echo >"/sys/bus/pci/devices/$d/driver_override"
		echo 1 >"/sys/bus/pci/devices/$d/remove"
	done
}

# The stock state to begin with, as after a boot: nothing of ours, no
# in-tree driver, and no kvm_hv (its soft dependency acts when it loads).
# Earlier tests of the same boot may have loaded any of them.
edus_remove
for m in kvm_tce vfio_spapr spapr_realmode vfio_iommu_spapr_tce kvm_hv; do
	! loaded "$m" || rmmod "$m" 2>/dev/null
done
# vfio_pci and vfio too: their soft dependencies act only when they load.
for m in vfio_pci vfio; do
	! loaded "$m" || "$MP" -r "$m" 2>/dev/null
done
echo 1 >/sys/bus/pci/rescan
stock() {
	for m in $OURS vfio_iommu_spapr_tce kvm_hv vfio_pci vfio; do
		! loaded "$m" || { echo "# $m is still loaded"; return 1; }
	done
}
tap_check starts_from_the_stock_state stock

brings_ours() {
	"$MP" vfio-pci || return 1
	loaded vfio_spapr && loaded spapr_realmode && ! loaded vfio_iommu_spapr_tce
}
tap_check modprobe_vfio_pci_brings_vfio_spapr_not_intree brings_ours
lsmod | grep -E '^(vfio|spapr|kvm)' | sed 's/^/# /'

edu=$(edu_device)
tap_check edu_binds_to_vfio_pci_with_no_manual_step bind_vfio_pci "$edu"
group=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")
tap_check vfio_group_gets_an_spapr_container "$HELPER" "$group" "$edu"

# kvm_hv loads only where there is a hypervisor mode (powernv,
# pseries-nested).
if "$MP" kvm_hv 2>/dev/null; then
	tap_check modprobe_kvm_hv_brings_kvm_tce loaded kvm_tce
else
	tap_skip modprobe_kvm_hv_brings_kvm_tce "kvm_hv does not load on $LAB_MACHINE (no hypervisor mode)"
fi

# Uninstall: unbind, unload, remove the files, index again (the devices
# go and come back for the enablement's sake, as above).
edus_remove
uninstalled() {
	for m in kvm_tce vfio_pci vfio_spapr spapr_realmode; do
		! loaded "$m" || "$MP" -r "$m" || return 1
	done
	rm -rf "$MODDIR/updates" "$CONF"
	/sbin/depmod -a || return 1
	for m in $OURS; do
		! loaded "$m" || return 1
		! "$MP" --show-depends "$m" >/dev/null 2>&1 || return 1
	done
}
tap_check uninstall_removes_our_modules_from_the_index uninstalled
echo 1 >/sys/bus/pci/rescan
lsmod | grep -E '^(vfio|spapr|kvm)' | sed 's/^/# /'

# vfio.ko names the in-tree driver as a soft dependency: with our
# configuration gone, it is what a fresh load of vfio brings.
brings_intree() {
	"$MP" -r vfio_pci vfio 2>/dev/null
	"$MP" vfio-pci || return 1
	loaded vfio_iommu_spapr_tce && ! loaded vfio_spapr
}
tap_check after_uninstall_modprobe_vfio_pci_brings_intree brings_intree
rmmod vfio_iommu_spapr_tce 2>/dev/null

if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean
else
	tap_ok kernel_log_clean
fi
tap_done
