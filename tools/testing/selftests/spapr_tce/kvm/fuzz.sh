#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The TCE hypercall fuzzer (bin/kvm_tce_fuzz): seeded random H_PUT_TCE,
# H_PUT_TCE_INDIRECT, H_STUFF_TCE and H_GET_TCE from several vCPUs,
# stock kvm.ko against kvm_tce.ko call by call, then a run where the
# VMM unmaps and remaps the guest's list memory and kvm_tce's intercept
# switch flips while the calls run (Documentation/kvm_tce-tests.rst).
# Afterwards: a clean kernel log, no page left pinned or unfreed, and
# kvm_tce unloads.
#
# Where KVM links tables to VFIO (powernv: KVM_CAP_SPAPR_TCE_VFIO is 1),
# each VM also gets a window of our v2 container with an edu device
# (the two VMs of the differential one each, on the lab's two devices),
# linked through the KVM-VFIO device as QEMU does: answers are compared
# with stock's (which gives our container's mapping calls to the VMM),
# the hardware is checked against the guest's table by edu DMA, and
# vfio_spapr's counters must come back (Documentation/kvm_tce-tests.rst).
#
# FUZZ_SEED replays a run (every failure line prints the seed);
# FUZZ_CALLS sets the number of hcalls. The default is the issue's 10^5
# per boot (Documentation/kvm_tce-tests.rst: about 500-1,200 calls/s
# under TCG, 8 boots run it, 1.5 to 3.5 min each); make bench runs a
# million.
# lab-test-timeout: 900
# On 6.1 a claimed group keeps vfio_spapr loaded until reboot
# (vfio-enable.rst), so this test runs after the others:
# lab-test-order: last

. "$(dirname "$0")/lib.sh"
FUZZ=$(dirname "$0")/bin/kvm_tce_fuzz
CALLS=${FUZZ_CALLS:-100000}
SEED=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

skip_all() {
	tap_plan 1
	tap_skip kvm_tce_fuzz "$1"
	exit 0
}

case $LAB_MACHINE in
pseries-nested|powernv9|powernv8) ;;
*) skip_all "needs KVM-HV: pseries-nested, powernv9 or powernv8 ($LAB_MACHINE has no hypervisor mode for an L2)" ;;
esac
modprobe kvm_hv 2>/tmp/kvm_hv.err
[ -c /dev/kvm ] || skip_all "no /dev/kvm after modprobe kvm_hv: $(cat /tmp/kvm_hv.err)"

# MemAvailable in kB, with the caches dropped
mem_avail() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo
}

ours=0
if kvm_tce_load; then
	ours=1
	export KVM_TCE_PARAM
fi
# VFIO-linked windows: our v2 containers on the two edu devices
VARGS=
vfio_why=
edus=
if [ $ours = 0 ]; then
	vfio_why="kvm_tce not loaded"
elif [ "$LAB_MACHINE" = pseries-nested ]; then
	# 6.12's L1 reports the capability, but an LPAR gives a device one
	# DDW and the 64 MiB 4K window is refused (EINVAL): as bench-hcall,
	# the VFIO link is exercised on powernv.
	vfio_why="pseries-nested: an LPAR's device takes no 64 MiB 4K window (EINVAL); the VFIO link is tested on powernv"
else
	case $("$(dirname "$0")/bin/kvm_tce_vmm" --caps) in
	*spapr_tce_vfio=1*) edus=$(edu_devices | head -2) ;;
	*) vfio_why="KVM_CAP_SPAPR_TCE_VFIO is 0 here" ;;
	esac
fi
if [ -n "$edus" ]; then
	modprobe vfio-pci
	[ "$(cat /sys/module/vfio_spapr/parameters/container)" = Y ] ||
		vfio_why="vfio_spapr serves no containers"
	for e in $edus; do
		[ -z "$vfio_why" ] || break
		if bind_vfio_pci "$e"; then
			# no device reset at each open and close (seconds on powernv)
			echo "" >"/sys/bus/pci/devices/$e/reset_method" 2>/dev/null
			g=$(basename "$(readlink "/sys/bus/pci/devices/$e/iommu_group")")
			VARGS="$VARGS --vfio $g:$e"
		else
			vfio_why="edu $e did not bind to vfio-pci"
		fi
	done
	[ "$(echo "$edus" | wc -l)" = 2 ] || vfio_why="${vfio_why:-want two edu devices, have: $edus}"
	[ -z "$vfio_why" ] || VARGS=
fi
n=$("$FUZZ" --cases)
tap_plan $((n + 3))
echo "# $LAB_MACHINE $LAB_KERNEL: seed $SEED, $CALLS calls; kvm_tce: ${KVM_TCE_WHY:-loaded}; VFIO:${VARGS:- none, $vfio_why}"
klog_mark
# The first VMs of a boot cost memory for good (powernv8, hash: about
# 67 MiB, stock alone, the same after every later run): a short warm-up
# first, so the check below sees what the fuzzing run keeps.
"$FUZZ" --seed 1 --calls 600 --stock-only >/dev/null 2>&1
m0=$(mem_avail)
t0=$(cut -d' ' -f1 /proc/uptime)
if [ $ours = 1 ]; then
	"$FUZZ" --seed "$SEED" --calls "$CALLS" $VARGS >/tmp/fuzz.tap 2>&1
else
	"$FUZZ" --seed "$SEED" --calls "$CALLS" --stock-only >/tmp/fuzz.tap 2>&1
fi
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
tap_include /tmp/fuzz.tap
got=$(grep -cE '^(not )?ok ' /tmp/fuzz.tap)
echo "# fuzzer exit $rc, $got of $n cases, ${t0}s -> ${t1}s uptime (L1 clock)"
# a run that stopped early shows as missing cases
while [ "$got" -lt "$n" ]; do
	tap_fail fuzz_case_not_run "seed $SEED: the fuzzer stopped (exit $rc): $(tail -3 /tmp/fuzz.tap | tr '\n' ' ')"
	got=$((got + 1))
done

# A page reference leaked per call would keep guest pages from being
# freed when the VMM exits: tens of MiB after this many calls.
m1=$(mem_avail)
if [ $((m0 - m1)) -lt 32768 ]; then
	tap_ok fuzz_no_guest_memory_kept_after_exit
else
	tap_fail fuzz_no_guest_memory_kept_after_exit "seed $SEED: MemAvailable ${m0} kB before, ${m1} kB after"
fi

if [ $ours = 1 ]; then
	if [ "$(cat "$KVM_TCE_PARAM")" = Y ] && rmmod kvm_tce; then
		tap_ok fuzz_kvm_tce_rmmod_after_fuzzing
	else
		tap_fail fuzz_kvm_tce_rmmod_after_fuzzing "seed $SEED: intercept $(cat "$KVM_TCE_PARAM" 2>&1); $(lsmod | grep kvm_tce)"
	fi
else
	tap_skip fuzz_kvm_tce_rmmod_after_fuzzing "$KVM_TCE_WHY"
fi

if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean "seed $SEED"
else
	tap_ok kernel_log_clean
fi
loaded kvm_tce && rmmod kvm_tce
for e in $edus; do
	d=/sys/bus/pci/devices/$e
	echo default >"$d/reset_method" 2>/dev/null
	echo >"$d/driver_override"
	[ -e "$d/driver" ] && echo "$e" >"$d/driver/unbind"
done
loaded vfio_spapr && rmmod vfio_spapr
loaded spapr_realmode && rmmod spapr_realmode
tap_done
