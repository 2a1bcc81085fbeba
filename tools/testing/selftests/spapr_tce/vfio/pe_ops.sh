#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# EEH through a VFIO container (vfio_spapr/vs_eeh.c): bin/vfio_eeh
# drives VFIO_CHECK_EXTENSION(VFIO_EEH) and every VFIO_EEH_PE_OP (enable,
# get state, error injection, unfreeze, hot and fundamental reset,
# configure, disable) on the first edu device's group, first with the
# in-tree vfio_iommu_spapr_tce serving the container (on 6.1 on our VFIO
# enablement), then with ours, same group, same container type. Cases:
# every answer equals the in-tree one; the answers that do not depend on
# the platform are what the uAPI says (EINVAL for a bad argument, the
# extension as /proc/powerpc/eeh has EEH); a PE answers its state; the
# device still answers after the resets; a clean kernel log.
# Documentation/vfio_spapr.rst says what the emulated PHBs cannot do.
# Named for VFIO_EEH_PE_OP, and so that it runs after vfio-enable: on 6.1
# the vfio_spapr it loads stays loaded after it (its reference count
# stays 1 even with both edu devices removed; not explained yet), and
# vfio-enable must begin without it.
# lab-test-timeout: 600

. "$(dirname "$0")/lib.sh"
EEH=$(dirname "$0")/bin/vfio_eeh
PARAM=/sys/module/vfio_spapr/parameters/container

case $LAB_MACHINE in
pseries-*)
	tap_plan 1
	tap_skip eeh "pseries covers it: the EEH path does not depend on the MMU"
	exit 0
	;;
esac

edu=$(edu_device) || { tap_plan 1; tap_fail find_edu_device "no 1234:11e8 on the PCI bus"; exit 1; }
dev=/sys/bus/pci/devices/$edu
t0=$(date +%s)
klog_mark
had_srm=0 had_vs=0
loaded spapr_realmode && had_srm=1
loaded vfio_spapr && had_vs=1

# the in-tree container driver, on our enablement where the kernel has none
intree() {
	modprobe vfio-pci &&
		{ loaded spapr_realmode || mod_insmod spapr_realmode; } &&
		if loaded vfio_spapr; then
			echo 0 >$PARAM
		else
			mod_insmod vfio_spapr container=0
		fi && modprobe vfio_iommu_spapr_tce
}
ours() {
	{ ! loaded vfio_iommu_spapr_tce || rmmod vfio_iommu_spapr_tce; } && echo 1 >$PARAM
}

if intree && bind_vfio_pci "$edu"; then
	:
else
	tap_plan 1
	tap_fail bind_edu_to_vfio_pci "$(klog | grep -m2 -i 'vfio\|spapr')"
	exit 1
fi
group=$(basename "$(readlink "$dev/iommu_group")")
# the in-tree driver takes v1 or v2 depending on the platform and kernel
# (pseries 6.1: v1 only; powernv9 6.1: v2 only): the first it accepts
type=
for t in 2 1; do
	if "$EEH" --group "$group" --dev "$edu" --type $t >/tmp/eeh.intree 2>/tmp/eeh.intree.err; then
		type=$t
		break
	fi
done
# what the platform says, independently of any container: EEH on or off,
# and whether the device has a PE (its sysfs attributes come with one)
eeh_on=0
grep -q 'EEH Subsystem is enabled' /proc/powerpc/eeh 2>/dev/null && eeh_on=1
has_pe=0
[ -e "$dev/eeh_pe_config_addr" ] && has_pe=1
echo "# $LAB_MACHINE $LAB_KERNEL: $edu group $group, EEH enabled $eeh_on, PE $has_pe, type v${type:-none}"

if [ -z "$type" ]; then
	tap_plan 1
	tap_fail in_tree_container_runs_vfio_eeh "$(cat /tmp/eeh.intree.err)"
	exit 1
fi
ours
"$EEH" --group "$group" --dev "$edu" --type $type >/tmp/eeh.ours 2>/tmp/eeh.ours.err
sed 's/^/# in-tree: /' /tmp/eeh.intree
sed 's/^/# ours:    /' /tmp/eeh.ours /tmp/eeh.ours.err

keys=$(awk '{print $1}' /tmp/eeh.intree)
# one case per key, 6 platform-independent ones, log
tap_plan $(($(echo "$keys" | wc -l) + 7))
get() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
for k in $keys; do
	[ "$k" = done ] && continue
	a=$(get "$k" /tmp/eeh.ours) b=$(get "$k" /tmp/eeh.intree)
	if [ "$a" = "$b" ]; then
		tap_ok "${k}_same_as_in_tree_$b"
	else
		tap_fail "${k}_same_as_in_tree" "ours '$a', in-tree '$b'"
	fi
done
if grep -qx done /tmp/eeh.ours; then
	tap_ok vfio_eeh_ran_to_the_end_on_ours
else
	tap_fail vfio_eeh_ran_to_the_end_on_ours "$(tail -1 /tmp/eeh.ours.err)"
fi

# what does not depend on the platform
want() {	# want NAME KEY VALUE: our answer for KEY is VALUE
	v=$(get "$2" /tmp/eeh.ours)
	if [ "$v" = "$3" ]; then tap_ok "$1"; else tap_fail "$1" "$2: '$v', want '$3'"; fi
}
want "extension_eeh_is_${eeh_on}_as_proc_powerpc_eeh_says" extension_eeh $eeh_on
# a bad argument is EINVAL; without a PE, ENODEV comes first (in-tree order)
bad=EINVAL
[ $has_pe = 1 ] || bad=ENODEV
want pe_op_short_argsz_$bad pe_op_argsz_short $bad
want pe_op_unknown_flags_$bad pe_op_flags_unknown $bad
want pe_op_unknown_op_$bad pe_op_unknown_op $bad
if [ $has_pe = 1 ]; then
	st=$(get get_state_enabled /tmp/eeh.ours)
	case $st in
	[0-9]*) tap_ok "device_with_pe_answers_state_$st" ;;
	*) tap_fail device_with_pe_answers_state "get_state_enabled '$st'" ;;
	esac
else
	want device_without_pe_gets_enodev get_state_enabled ENODEV
fi
want device_answers_after_resets ident_end 0xed000001

[ -w "$dev/reset_method" ] && echo default >"$dev/reset_method" 2>/dev/null
echo >"$dev/driver_override"
[ -e "$dev/driver" ] && echo "$edu" >"$dev/driver/unbind"
[ $had_vs = 0 ] && rmmod vfio_spapr 2>/dev/null
[ $had_srm = 0 ] && rmmod spapr_realmode 2>/dev/null
echo "# $LAB_MACHINE $LAB_KERNEL: vfio-pe_ops took $(($(date +%s) - t0)) s"
if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean
else
	tap_ok kernel_log_clean
fi
tap_done
