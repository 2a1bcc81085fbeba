#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Ownership and teardown of our sPAPR TCE containers, with the lab's two
# edu devices (two IOMMU groups): bin/vfio_owner's cases (a region
# mapped by one container and registered by another, REMOVE of a mapped
# window, GET_INFO against group detach), then the container=0 switch,
# which must be refused while a container of ours lives (the in-tree
# driver and the stock KVM handler would otherwise share our tables),
# then the kernel log.
#
# Runs on pseries, pseries-p10, powernv9 and powernv8; pseries-hash and
# pseries-nested would repeat pseries (nothing here depends on the MMU).
# lab-test-timeout: 600

. "$(dirname "$0")/lib.sh"
OWNER=$(dirname "$0")/bin/vfio_owner
PARAM=/sys/module/vfio_spapr/parameters/container

case $LAB_MACHINE in
pseries-hash|pseries-nested)
	tap_plan 1
	tap_skip ownership "pseries covers it: container ownership does not depend on the MMU"
	exit 0
	;;
esac

# the edu devices, in bus order
edus=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		edus="$edus ${d##*/}"
done
set -- $edus
if [ $# -lt 2 ]; then
	tap_plan 1
	tap_fail two_edu_devices "found $#: scripts/lab/machines.sh gives every machine two"
	exit 1
fi
ea=$1 eb=$2
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
			echo 1 >$PARAM
		else
			mod_insmod vfio_spapr
		fi
}
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

fixed=
[ "$LAB_KERNEL" = 6.1 ] && case $LAB_MACHINE in pseries*) fixed=--fixed ;; esac
# pseries: no second group joins a container (vfio-multigroup)
one_group=
case $LAB_MACHINE in pseries*) one_group=--one-group ;; esac
ncases=$("$OWNER" --list | wc -l)
# load+bind, the cases and their total, 2 switch cases, kernel log
tap_plan $((ncases + 5))
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
echo "# $LAB_MACHINE $LAB_KERNEL: A $ea group $ga, B $eb group $gb ${fixed:+(fixed windows)}"

"$OWNER" --group-a "$ga" --dev-a "$ea" --group-b "$gb" --dev-b "$eb" $fixed $one_group \
	>/tmp/vfio_owner.tap 2>&1
tap_include /tmp/vfio_owner.tap
got=$(grep -cE '^(not )?ok ' /tmp/vfio_owner.tap)
[ "$got" = $((ncases + 1)) ] || tap_fail vfio_owner_ran_all_cases "ran $got of $((ncases + 1))"

# container=0 while a container of ours lives: refused, and the in-tree
# driver stays out
rm -f /tmp/hold.in /tmp/hold.out
mkfifo /tmp/hold.in
"$OWNER" --hold --group-a "$ga" </tmp/hold.in >/tmp/hold.out 2>&1 &
hpid=$!
exec 3>/tmp/hold.in
i=0
while ! grep -q held /tmp/hold.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if ! grep -q held /tmp/hold.out; then
	tap_fail container_switch_refused_while_our_container_lives "holder: $(cat /tmp/hold.out)"
elif echo 0 2>/dev/null >$PARAM; then
	modprobe vfio_iommu_spapr_tce 2>/dev/null
	tap_fail container_switch_refused_while_our_container_lives \
		"container=0 accepted with a container of ours open; in-tree then $(loaded vfio_iommu_spapr_tce && echo loaded || echo not loaded)"
elif [ "$(cat $PARAM)" != Y ]; then
	tap_fail container_switch_refused_while_our_container_lives "refused, but the parameter reads $(cat $PARAM)"
elif modprobe vfio_iommu_spapr_tce 2>/dev/null || loaded vfio_iommu_spapr_tce; then
	tap_fail container_switch_refused_while_our_container_lives "the in-tree driver loaded beside our live container"
else
	tap_ok container_switch_refused_while_our_container_lives
fi
exec 3>&-
wait $hpid
# the container is gone: the switch works both ways again
loaded vfio_iommu_spapr_tce && rmmod vfio_iommu_spapr_tce
if echo 0 2>/dev/null >$PARAM && [ "$(cat $PARAM)" = N ] &&
   echo 1 2>/dev/null >$PARAM && [ "$(cat $PARAM)" = Y ]; then
	tap_ok container_switch_works_once_our_containers_are_gone
else
	tap_fail container_switch_works_once_our_containers_are_gone "parameter reads $(cat $PARAM)"
fi

# leave the machine as found: both edus without a driver, and the
# modules this test loaded unloaded again where the kernel lets them go
# (6.1 keeps each claimed group's blocking domain, ours, until the group
# goes, which holds vfio_spapr: vfio-enable leaves it loaded there too)
for d in $ea $eb; do
	d=/sys/bus/pci/devices/$d
	[ -w "$d/reset_method" ] && echo default >"$d/reset_method" 2>/dev/null
	echo >"$d/driver_override"
	[ -e "$d/driver" ] && echo "${d##*/}" >"$d/driver/unbind"
done
[ $had_vs = 0 ] && rmmod vfio_spapr 2>/dev/null
[ $had_srm = 0 ] && rmmod spapr_realmode 2>/dev/null
echo "# $LAB_MACHINE $LAB_KERNEL: vfio-ownership took $(($(date +%s) - t0)) s"
if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean
else
	tap_ok kernel_log_clean
fi
tap_done
