#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Our sPAPR TCE container (vfio_spapr.ko) under random ioctl sequences:
# bind every edu device (one or two, each its own IOMMU group) to
# vfio-pci, load our container driver fresh, and run bin/vfio_fuzz for
# the v1 and v2 types, forwarding its TAP. Then the module must unload
# (on 6.1 the VFIO enablement may keep it for a cached blocking domain,
# by design: then nothing else may hold it), and the kernel log must be
# clean.
#
# FUZZ_SEED=S replays a run (the seed is printed first and in every
# failure); FUZZ_OPS=N sets the ops per phase (default 1000: under TCG
# the random phases run 200-2000 ops/s, and the fixed costs dominate: a
# device open for the DMA proof costs ~5 s on powernv; measured 23-80 s
# for the whole test per boot); FUZZ_ARGS adds vfio_fuzz options (e.g.
# --type v2 --phase '^threads$'); FUZZ_REENABLE and FUZZ_VERBOSE are
# vfio_fuzz's (see its header).
# lab-test-timeout: 900

. "$(dirname "$0")/lib.sh"
FUZZ=$(dirname "$0")/bin/vfio_fuzz
klog_mark

seed=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
ops=${FUZZ_OPS:-1000}
echo "# seed $seed, $ops ops per phase ($LAB_MACHINE $LAB_KERNEL)"

edus=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		edus="$edus ${d##*/}"
done
set -- $edus
[ $# -ge 1 ] || { tap_plan 1; tap_fail find_edu_device "no 1234:11e8 on the PCI bus"; exit 1; }
[ $# -gt 2 ] && set -- "$1" "$2"

modprobe vfio-pci || { tap_plan 1; tap_fail modprobe_vfio_pci; exit 1; }
# A fresh module: its debugfs counters start at 0. An earlier test may
# have left it loaded and unloadable (6.1: a cached blocking domain), or
# loaded with container=0 (vfio-enable): then it is made to serve, before
# any container exists (flipping it with containers live is defect 9).
load_ours() {
	if loaded vfio_iommu_spapr_tce; then
		rmmod vfio_iommu_spapr_tce || return 1
	fi
	loaded vfio_spapr && rmmod vfio_spapr 2>/dev/null
	{ loaded spapr_realmode || mod_insmod spapr_realmode; } || return 1
	if loaded vfio_spapr; then
		echo 1 >/sys/module/vfio_spapr/parameters/container
	else
		mod_insmod vfio_spapr
	fi
}
load_ours && loaded_ok=1 || loaded_ok=0

groups=
bound=1
for e in "$@"; do
	if ! bind_vfio_pci "$e"; then
		bound=0
		continue
	fi
	# vfio-pci resets the device at every open and close: ~10 s of OPAL
	# on powernv under TCG; the container does not care, so no resets
	[ -w "/sys/bus/pci/devices/$e/reset_method" ] &&
		echo "" >"/sys/bus/pci/devices/$e/reset_method" 2>/dev/null
	g=$(basename "$(readlink "/sys/bus/pci/devices/$e/iommu_group")")
	groups="$groups --group $g:$e"
done
# hugetlb pages where the kernel has them (the hugetlb phase skips otherwise)
[ -w /proc/sys/vm/nr_hugepages ] && echo 8 >/proc/sys/vm/nr_hugepages 2>/dev/null

# FUZZ_ARGS: more vfio_fuzz options (--type v2 --phase ...) for a replay
n=$("$FUZZ" --list --type both $FUZZ_ARGS | wc -l)
# load, bind, fuzz cases, rmmod, kernel log
tap_plan $((n + 4))
if [ $loaded_ok = 1 ]; then
	tap_ok load_vfio_spapr_fresh
else
	tap_fail load_vfio_spapr_fresh
fi
if [ $bound = 1 ] && [ -n "$groups" ]; then
	tap_ok "bind_$#_edu_to_vfio_pci"
else
	tap_fail "bind_$#_edu_to_vfio_pci"
	for i in $(seq $n); do tap_fail fuzz_not_run; done
	tap_fail rmmod_vfio_spapr_after_fuzzing
	tap_fail kernel_log_clean
	exit 1
fi
echo "# stats before: $(tr '\n' ' ' </sys/kernel/debug/vfio_spapr/stats)"

t0=$(date +%s)
"$FUZZ" --seed "$seed" --ops "$ops" --type both $groups $FUZZ_ARGS >/tmp/vfio_fuzz.tap 2>&1
t1=$(date +%s)
tap_include /tmp/vfio_fuzz.tap
got=$(grep -cE '^(not )?ok ' /tmp/vfio_fuzz.tap)
[ "$got" = "$n" ] || {
	tail -5 /tmp/vfio_fuzz.tap | sed 's/^/# /'
	while [ "$got" -lt "$n" ]; do tap_fail "vfio_fuzz_died_seed_$seed"; got=$((got + 1)); done
}
echo "# vfio_fuzz took $((t1 - t0)) s (guest clock), seed $seed"
echo "# stats after: $(tr '\n' ' ' </sys/kernel/debug/vfio_spapr/stats)"

for e in "$@"; do
	[ -w "/sys/bus/pci/devices/$e/reset_method" ] &&
		echo default >"/sys/bus/pci/devices/$e/reset_method" 2>/dev/null
	echo "$e" >"/sys/bus/pci/devices/$e/driver/unbind" 2>/dev/null
	echo >"/sys/bus/pci/devices/$e/driver_override"
done
# No container, region or pin may hold the module. On 6.1 a group that
# vfio claimed keeps our blocking domain, and that one module reference,
# until the group goes (Documentation/vfio-enable.rst): then the module's
# references must be exactly the enablement's.
if rmmod vfio_spapr 2>/dev/null; then
	tap_ok rmmod_vfio_spapr_after_fuzzing
else
	ref=$(cat /sys/module/vfio_spapr/refcnt 2>/dev/null)
	en=$(( $(cat /sys/class/iommu/vfio_spapr/nr_blocking_domains 2>/dev/null || echo 0) +
	       $(cat /sys/class/iommu/vfio_spapr/nr_pinned 2>/dev/null || echo 0) ))
	if [ "$LAB_KERNEL" = 6.1 ] && [ -n "$ref" ] && [ "$ref" = "$en" ] && [ "$en" -gt 0 ]; then
		tap_ok "rmmod_vfio_spapr_after_fuzzing_held_only_by_enablement_refcnt_$ref"
	else
		tap_fail rmmod_vfio_spapr_after_fuzzing "refcnt $ref, enablement references $en"
	fi
fi
if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean "seed $seed"
else
	tap_ok kernel_log_clean
fi
tap_done
