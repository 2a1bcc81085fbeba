#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# One container, two IOMMU groups (the lab's two edu devices):
# bin/vfio_multi's cases for what the platform allows
# (Documentation/vfio_spapr.rst, "Windows"):
#
#   powernv9, powernv8: v2. Tables are shared: group B joins; one MAP
#     serves both devices and UNMAP blocks both; a window created after
#     both joined serves both; B leaves while mapped and A keeps working
#     with the accounting unchanged. (v1 takes the same paths.)
#   pseries (every variant): v1 and v2. A window is its PE's own (fixed
#     before v6.4, made by the hypervisor for one PE after): group B is
#     refused with -EBUSY, A keeps working, and B works in a container
#     of its own through the same buffer.
#
# Every machine, v2: a MAP in one container of a process while a thread
#   registers and unregisters memory through another (their registered
#   memory is the process's one set); powernv9+smp2 runs it on two CPUs.
#
# The -EPERM of incompatible table ops cannot be built in the lab: its
# SKIP, on powernv9, says why.
# lab-test-timeout: 600

. "$(dirname "$0")/lib.sh"
MULTI=$(dirname "$0")/bin/vfio_multi

ea=$(edu_device 1) eb=$(edu_device 2)
if [ -z "$ea" ] || [ -z "$eb" ]; then
	tap_plan 1
	tap_fail two_edu_devices \
		"found: $(edu_devices | tr '\n' ' '); scripts/lab/machines.sh gives every machine two"
	exit 1
fi
case $LAB_MACHINE in
pseries*)
	windows=own types="v1 v2" sel='second_group_refused|map_while'
	;;
powernv9)
	windows=shared types=v2 sel='joins|one_map|window_created|detach|incompatible|map_while'
	;;
*)
	windows=shared types=v2 sel='joins|one_map|window_created|detach|map_while'
	;;
esac
t0=$(date +%s)

klog_mark
# what we load, we unload at the end (the next test may want it out)
had_srm=0 had_vs=0
loaded spapr_realmode && had_srm=1
loaded vfio_spapr && had_vs=1
modprobe vfio-pci || { tap_plan 1; tap_fail modprobe_vfio_pci; exit 1; }
load_ours() {
	if loaded vfio_iommu_spapr_tce; then
		rmmod vfio_iommu_spapr_tce || return 1
	fi
	{ loaded spapr_realmode || mod_insmod spapr_realmode; } &&
		if loaded vfio_spapr; then
			echo 1 >/sys/module/vfio_spapr/parameters/container
		else
			mod_insmod vfio_spapr
		fi
}
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

n=0
for t in $types; do
	n=$((n + $("$MULTI" --list --type $t --case "$sel" | wc -l) + 1))
done
# load+bind, each type's cases and its accounting line, kernel log
tap_plan $((n + 2))
if load_ours && bind_vfio_pci "$ea" && bind_vfio_pci "$eb"; then
	tap_ok "load_ours_bind_${ea}_and_${eb}"
else
	tap_fail "load_ours_bind_${ea}_and_${eb}" "$(klog | grep -m2 -i 'vfio\|spapr')"
	exit 1
fi
# no device reset at each open and close (seconds each on powernv)
for d in $ea $eb; do
	[ -w "/sys/bus/pci/devices/$d/reset_method" ] &&
		echo "" >"/sys/bus/pci/devices/$d/reset_method" 2>/dev/null
done
ga=$(group_of "$ea") gb=$(group_of "$eb")
echo "# $LAB_MACHINE $LAB_KERNEL: A $ea group $ga, B $eb group $gb, $windows windows"

for t in $types; do
	want=$("$MULTI" --list --type $t --case "$sel" | wc -l)
	want=$((want + 1))
	"$MULTI" --type $t --windows $windows --case "$sel" \
		--group-a "$ga" --dev-a "$ea" --group-b "$gb" --dev-b "$eb" \
		>/tmp/vfio_multi.tap 2>&1
	tap_include /tmp/vfio_multi.tap
	got=$(grep -cE '^(not )?ok ' /tmp/vfio_multi.tap)
	if [ "$got" != "$want" ]; then
		tail -3 /tmp/vfio_multi.tap
		tap_fail "${t}_vfio_multi_ran_all_cases" "ran $got of $want"
	fi
done

# leave the machine as found: both edus without a driver, and the
# modules this test loaded unloaded again where the kernel lets them go
for d in $ea $eb; do
	d=/sys/bus/pci/devices/$d
	[ -w "$d/reset_method" ] && echo default >"$d/reset_method" 2>/dev/null
	echo >"$d/driver_override"
	[ -e "$d/driver" ] && echo "${d##*/}" >"$d/driver/unbind"
done
[ $had_vs = 0 ] && rmmod vfio_spapr 2>/dev/null
[ $had_srm = 0 ] && rmmod spapr_realmode 2>/dev/null
echo "# $LAB_MACHINE $LAB_KERNEL: vfio-multigroup took $(($(date +%s) - t0)) s"
if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean
else
	tap_ok kernel_log_clean
fi
tap_done
