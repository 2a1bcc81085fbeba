#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# lab-test-order: last
# lab-test-timeout: 6600
#
# The Debian package where a user would use it: a Debian 12 ppc64el
# userland on a disk (scripts/fetch-dkms-root.sh; dkms-root makes it the
# chroot /deb over the booted stock kernel), where apt installs the
# running kernel's headers and spapr-tce-dkms (make deb, added at
# /lab/dkms/), DKMS builds our modules natively, and Debian's modprobe
# with the package's configuration does the rest: `modprobe vfio-pci`
# brings vfio_spapr (the DKMS-built file) and not the in-tree driver, an
# edu device binds to vfio-pci and gets an sPAPR container, kvm_hv
# brings kvm_tce. If asked, the other kernel's headers are installed
# next, as a kernel upgrade does, and DKMS must build for it by itself.
# Then
# `dpkg --purge` leaves the stock state: no module of ours loaded or
# installed for any kernel, no source, no DKMS record, no configuration,
# and modprobe vfio-pci brings the in-tree driver again.
#
# Needs a boot of its own (powernv9+dkms): it starts from a fresh boot's
# state, as a host does.

. "$(dirname "$0")/lib.sh"

ROOT=/deb
REL=$(uname -r)
HELPER=$SPAPR_TCE_DIR/bin/vfio-container
OURS="spapr_realmode vfio_spapr kvm_tce"
CASES="debian_userland_mounts_with_a_consistent_dpkg_database
apt_installs_the_kernel_headers_and_spapr_tce_dkms
dkms_built_our_modules_natively_for_the_running_kernel
modprobe_vfio_pci_brings_the_dkms_vfio_spapr_not_intree
edu_binds_to_vfio_pci_with_no_manual_step
vfio_group_gets_an_spapr_container_from_vfio_spapr
modprobe_kvm_hv_brings_kvm_tce
kernel_upgrade_headers_install_builds_for_the_new_kernel
unloading_leaves_no_module_of_ours
dpkg_purge_removes_every_file_of_ours
after_purge_modprobe_vfio_pci_brings_intree
kernel_log_clean"

r() { dkms-root run "$@"; }
# elapsed SINCE: seconds on the guest's clock (under TCG it runs close
# to the host's for a CPU-bound job; the host's log has the real ones).
elapsed() { echo $(($(date +%s) - $1)); }

tap_plan $(($(echo "$CASES" | wc -l) + 1))
klog_mark
DEB=$(ls /lab/dkms/spapr-tce-dkms_*_all.deb 2>/dev/null | head -1)
if [ -z "$DEB" ]; then
	tap_skip starts_from_the_stock_state "no package (check.sh adds it, and the disk)"
	for c in $CASES; do
		tap_skip "$c" "no package (check.sh adds it, and the disk)"
	done
	exit 0
fi
# With the package given, the disk must be there too.
if ! dkms-root mount; then
	tap_fail starts_from_the_stock_state "the Debian disk does not mount"
	for c in $CASES; do
		tap_fail "$c" "the Debian disk does not mount"
	done
	exit 1
fi
trap 'dkms-root umount' EXIT

stock_loaded() {
	for m in $OURS vfio_iommu_spapr_tce kvm_hv vfio_pci vfio; do
		! loaded "$m" || { echo "# $m is loaded"; return 1; }
	done
}
tap_check starts_from_the_stock_state stock_loaded

userland() {
	audit=$(r dpkg --audit)
	[ -z "$audit" ] || { echo "$audit" | sed 's/^/# /'; return 1; }
	r dpkg-query -W -f '# ${Package} ${Version}\n' dpkg dkms gcc make kmod || return 1
	! r dpkg-query -W spapr-tce-dkms >/dev/null 2>&1
}
tap_check debian_userland_mounts_with_a_consistent_dpkg_database userland

# What README says a user does (apt-get install ./the.deb
# linux-headers-$(uname -r)): the headers' closure is on the disk as
# package files, given to apt by name, so no archive is needed. Not
# dpkg -i of them all at once: dpkg does not order a Pre-Depends within
# one call (6.12's image pre-depends on linux-base, unpacked in the same
# call and not yet configured, so dpkg refuses the image, and the headers
# that depend on it stay unconfigured); apt does, as on a user's system.
# debs RELEASE: RELEASE's headers closure, as paths in the userland.
debs() {
	for f in $ROOT/root/debs/"$1"/*.deb; do
		echo "${f#"$ROOT"}"
	done
}
# apt_install FILE...: apt-get install of the package files, its output
# in /tmp/apt.log.
apt_install() {
	r apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confold "$@" >/tmp/apt.log 2>&1
}
cp "$DEB" $ROOT/root/
# Where the headers bring the kernel's image package (6.12's do), its
# hooks make an initramfs the lab never boots: the smallest one (a
# documented initramfs-tools setting, initramfs.conf(5)).
mkdir -p $ROOT/etc/initramfs-tools/conf.d
echo MODULES=list >$ROOT/etc/initramfs-tools/conf.d/lab
pkg=$ROOT/root/$(basename "$DEB")
t0=$(date +%s)
install_pkg() {
	# shellcheck disable=SC2046 # one file a word
	apt_install $(debs "$REL") "/root/${pkg##*/}"
	rc=$?
	grep -iE 'dkms|error|warning|spapr|^E:|^W:' /tmp/apt.log | tail -25 | sed 's/^/# /'
	[ $rc = 0 ] || return 1
	# Every package apt was given is installed and configured.
	audit=$(r dpkg --audit)
	[ -z "$audit" ] || { echo "$audit" | sed 's/^/# /'; return 1; }
	dkms-root kernel
}
tap_check apt_installs_the_kernel_headers_and_spapr_tce_dkms install_pkg
echo "# apt-get install with the DKMS build: $(elapsed "$t0") s"

ver=$(r dpkg-query -W -f '${Version}' spapr-tce-dkms 2>/dev/null)
# built_for RELEASE: DKMS says installed, and the three modules are in
# RELEASE's updates/dkms with its vermagic.
built_for() {
	r dkms status -m spapr-tce -k "$1" | sed 's/^/# /'
	r dkms status -m spapr-tce -k "$1" | grep -q ': installed' || return 1
	for m in $OURS; do
		f=$(ls $ROOT/lib/modules/"$1"/updates/dkms/"$m".ko* 2>/dev/null | head -1)
		[ -n "$f" ] || { echo "# no $m in /lib/modules/$1/updates/dkms"; return 1; }
		vm=$(r modinfo -F vermagic "${f#$ROOT}")
		case $vm in
		"$1 "*) ;;
		*) echo "# $m: vermagic '$vm', not $1"; return 1 ;;
		esac
	done
	# The build ran here, with the userland's own compiler: DKMS keeps
	# its log, and nothing but that gcc is in the userland.
	log=$ROOT/var/lib/dkms/spapr-tce/$ver/$1/ppc64le/log/make.log
	[ -f "$log" ] || log=$ROOT/var/lib/dkms/spapr-tce/$ver/build/make.log
	n=$(grep -c 'CC \[M\]' "$log" 2>/dev/null)
	echo "# $log: ${n:-0} objects compiled, gcc $(r gcc -dumpmachine)"
	[ "${n:-0}" -gt 0 ]
}
tap_check dkms_built_our_modules_natively_for_the_running_kernel built_for "$REL"

# build_id FILE: the GNU build ID of a module file (the userland's
# readelf; a compressed module decompressed first).
build_id() {
	r sh -c "case $1 in *.xz) xz -dc $1 >/tmp/m.ko ;; *) cp $1 /tmp/m.ko ;; esac &&
		readelf -n /tmp/m.ko" | sed -n 's/.*Build ID: *//p'
}
# The loaded vfio_spapr is the file DKMS built (the same build ID: the
# lab's cross-built copy has the same sources, so srcversion would not
# tell them apart), and the in-tree driver stayed out.
brings_ours() {
	r modprobe vfio-pci || return 1
	loaded vfio_spapr && loaded spapr_realmode && ! loaded vfio_iommu_spapr_tce || return 1
	file=$(r modinfo -n vfio_spapr)
	want=$(build_id "$file")
	# The note: 4-byte name and descriptor sizes and type, "GNU\0", then
	# the ID.
	got=$(r od -An -tx1 -j16 /sys/module/vfio_spapr/notes/.note.gnu.build-id | tr -d ' \n')
	echo "# vfio_spapr: $file, build ID $want, loaded $got"
	[ -n "$want" ] && [ "$want" = "$got" ]
}
tap_check modprobe_vfio_pci_brings_the_dkms_vfio_spapr_not_intree brings_ours
lsmod | grep -E '^(vfio|spapr|kvm)' | sed 's/^/# /'

edu=$(edu_device)
tap_check edu_binds_to_vfio_pci_with_no_manual_step bind_vfio_pci "$edu"
group=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")
# The sPAPR container types are served by whichever sPAPR driver is
# registered: the in-tree one is not loaded, so it is ours.
container() {
	"$HELPER" "$group" "$edu" && loaded vfio_spapr && ! loaded vfio_iommu_spapr_tce
}
tap_check vfio_group_gets_an_spapr_container_from_vfio_spapr container

kvm_tce() {
	r modprobe kvm_hv || return 1
	loaded kvm_tce
}
tap_check modprobe_kvm_hv_brings_kvm_tce kvm_tce

# A kernel upgrade brings a new kernel's headers, whose postinst runs
# DKMS's hook: our modules must appear for it with no command of ours.
# It costs a second native build: only when asked (check.sh adds
# /lab/dkms/upgrade to the first kernel's boot with DKMS_UPGRADE=1).
other=
for d in $ROOT/root/debs/*; do
	[ "${d##*/}" = "$REL" ] || other=${d##*/}
done
if [ -f /lab/dkms/upgrade ] && [ -n "$other" ]; then
	t0=$(date +%s)
	# No command of ours after apt: the new kernel's package hooks
	# (/etc/kernel/postinst.d, header_postinst.d) must run DKMS, and
	# its autoinstaller must say so for that kernel.
	upgrade() {
		# shellcheck disable=SC2046 # one file a word
		apt_install $(debs "$other") ||
			{ tail -20 /tmp/apt.log | sed 's/^/# /'; return 1; }
		grep -iE 'dkms|initramfs' /tmp/apt.log | tail -12 | sed 's/^/# /'
		audit=$(r dpkg --audit)
		[ -z "$audit" ] || { echo "$audit" | sed 's/^/# /'; return 1; }
		grep -q "auto installation service for kernel $other" /tmp/apt.log ||
			{ echo "# no DKMS autoinstall for $other in apt's output"; return 1; }
		built_for "$other"
	}
	tap_check kernel_upgrade_headers_install_builds_for_the_new_kernel upgrade
	echo "# headers of $other with the DKMS build: $(elapsed "$t0") s"
else
	tap_skip kernel_upgrade_headers_install_builds_for_the_new_kernel "not asked in this boot (make check-dkms DKMS_UPGRADE=1 runs it in the first kernel's boot)"
fi

# Stop using it: the devices go (before v6.4 the enablement stays cached
# in every group it served, Documentation/vfio-enable.rst) and the
# modules are unloaded, as before a purge or by a reboot.
for d in $(edu_devices); do
	echo "$d" >/sys/bus/pci/drivers/vfio-pci/unbind 2>/dev/null
	echo >"/sys/bus/pci/devices/$d/driver_override"
	echo 1 >"/sys/bus/pci/devices/$d/remove"
done
unload() {
	r modprobe -r kvm_hv vfio_pci 2>/dev/null
	for m in kvm_tce vfio_spapr spapr_realmode; do
		! loaded "$m" || rmmod "$m" || return 1
	done
	for m in $OURS; do
		! loaded "$m" || return 1
	done
}
tap_check unloading_leaves_no_module_of_ours unload

purged() {
	r dpkg --purge spapr-tce-dkms >/tmp/dpkg-p.log 2>&1 ||
		{ tail -20 /tmp/dpkg-p.log | sed 's/^/# /'; return 1; }
	left=$(cd $ROOT && ls -d lib/modules/*/updates/dkms/spapr_realmode.ko* \
		lib/modules/*/updates/dkms/vfio_spapr.ko* lib/modules/*/updates/dkms/kvm_tce.ko* \
		lib/modprobe.d/spapr-tce.conf usr/src/spapr-tce-* var/lib/dkms/spapr-tce 2>/dev/null)
	[ -z "$left" ] || { echo "$left" | sed 's/^/# left: /'; return 1; }
	for m in $OURS; do
		! r modprobe -n -q "$m" || { echo "# modprobe still finds $m"; return 1; }
	done
	! r dpkg-query -W -f '${Status}' spapr-tce-dkms 2>/dev/null | grep -q installed
}
tap_check dpkg_purge_removes_every_file_of_ours purged
echo 1 >/sys/bus/pci/rescan

# vfio.ko names the in-tree driver as a soft dependency: with our
# configuration gone it is what a fresh load of vfio brings.
brings_intree() {
	r modprobe -r vfio_pci vfio 2>/dev/null
	r modprobe vfio-pci || return 1
	loaded vfio_iommu_spapr_tce && ! loaded vfio_spapr
}
tap_check after_purge_modprobe_vfio_pci_brings_intree brings_intree
lsmod | grep -E '^(vfio|spapr|kvm)' | sed 's/^/# /'

if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean
else
	tap_ok kernel_log_clean
fi
tap_done
