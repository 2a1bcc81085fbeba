#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The PAPR TCE hypercalls of a KVM-HV guest (H_PUT_TCE, H_PUT_TCE_INDIRECT,
# H_STUFF_TCE, H_GET_TCE) on tables made through the standard uAPI
# (KVM_CREATE_SPAPR_TCE_64, the table fd's mmap), run by bin/kvm_tce_vmm:
# a real-mode guest whose every hcall is seen as answered in the kernel or
# in userspace. The stock kernel path is the reference; with kvm_tce.ko
# loaded the same cases run again and its counters are checked too.
#
#  1. stock, plain tables: every hcall's success and error paths, at 4K,
#     64K and 16M TCE pages, with a table offset; leak checks; a VMM
#     thread unmapping (MADV_DONTNEED) and refaulting the list page while
#     the guest loops on H_PUT_TCE_INDIRECT of it (also under kvm_tce,
#     whose reference on the list page may then be the last one).
#  2. powernv9: a table linked to the edu device's VFIO group through the
#     KVM-VFIO device; device DMA through the guest's own TCEs, blocked
#     after the guest clears them; fallbacks; the UNREGISTER rule. With
#     the in-tree container (hcalls in the kernel), with ours under the
#     stock kvm path (H_PUT_TCE of a mapping in userspace: stock looks
#     for mm_iommu regions, ours keeps none), with ours under kvm_tce.
#  3. kvm_tce.ko: the plain cases with its counters, the tracepoint, the
#     intercept switch, and insmod/rmmod ten times under a guest looping
#     on H_PUT_TCE/H_GET_TCE pairs that check their own readback.
#
# Runs on pseries-nested and powernv9 (KVM-HV with a radix L2). powernv8
# is tried: see the SKIP there for what happens. One device open costs
# about 5 s on powernv under TCG; the whole test about a minute.
# lab-test-timeout: 600
# On 6.1 a VFIO user's claim of a group leaves our enablement's blocking
# domain cached, which pins vfio_spapr until reboot (vfio-enable.rst):
# lab-test-order: last

. "$(dirname "$0")/lib.sh"
VMM=$(dirname "$0")/bin/kvm_tce_vmm

skip_all() {
	tap_plan 1
	tap_skip kvm_tce_hcalls "$1"
	exit 0
}

# tap_vmm PREFIX ARGS...: one VMM run, its TAP folded into ours. A run
# that stops early shows as missing cases.
tap_vmm() {
	local p=$1 want got
	shift
	want=$("$VMM" --prefix "$p" --list "$@" | wc -l)
	want=$((want + 3))
	"$VMM" --prefix "$p" "$@" >/tmp/kvm_tce_vmm.tap 2>&1
	tap_include /tmp/kvm_tce_vmm.tap
	got=$(grep -cE '^(not )?ok ' /tmp/kvm_tce_vmm.tap)
	[ "$got" -ge "$want" ] || tap_fail "${p}vmm_ran_all_cases" "ran $got of $want"
}

# how many TAP lines a VMM run gives (its cases and 3 leak checks)
count_vmm() {
	echo $(($("$VMM" --list "$@" | wc -l) + 3))
}

case $LAB_MACHINE in
pseries-nested|powernv9|powernv8) ;;
*) skip_all "needs KVM-HV: pseries-nested or powernv9 ($LAB_MACHINE has no hypervisor mode for an L2)" ;;
esac
modprobe kvm_hv 2>/tmp/kvm_hv.err
[ -c /dev/kvm ] || skip_all "no /dev/kvm after modprobe kvm_hv: $(cat /tmp/kvm_hv.err)"
caps=$("$VMM" --caps)
echo "# $LAB_MACHINE $LAB_KERNEL: $caps"
# Does a guest run at all? One hcall, in a VM of its own.
if ! "$VMM" --case null_hcall >/tmp/probe.tap 2>&1 || ! grep -q '^ok 1 ' /tmp/probe.tap; then
	why=$(grep -m1 -A1 '^not ok' /tmp/probe.tap | sed -n 's/^# //p')
	[ "$LAB_MACHINE" = powernv8 ] &&
		skip_all "powernv8 (POWER8, hash): an L2 does not run here: ${why:-see the log}"
	tap_plan 1
	tap_fail kvm_guest_runs "${why:-$(cat /tmp/probe.tap)}"
	exit 1
fi

# --- plan ---------------------------------------------------------------
edu=
vfio=0
vfio_why=
if [ "$LAB_MACHINE" = powernv9 ] || [ "$LAB_MACHINE" = powernv8 ]; then
	case $caps in
	*spapr_tce_vfio=1*) vfio=1 ;;
	*) vfio_why="KVM_CAP_SPAPR_TCE_VFIO is 0 ($caps)" ;;
	esac
	edu=$(edu_device) || { vfio=0; vfio_why="no edu device"; }
else
	vfio_why="$LAB_MACHINE: the KVM-VFIO TCE link needs powernv ($caps)"
fi
ours=0
ours_why=
# whether kvm_tce is real yet: load it once and look (then unload)
if kvm_tce_load; then
	ours=1
	rmmod kvm_tce
else
	ours_why=$KVM_TCE_WHY
fi

n=$(count_vmm)			# stock, plain
n=$((n + 1))			# the put/get loop under stock
if [ $vfio = 1 ]; then
	n=$((n + 1 + 2 * $(count_vmm --case '^vfio_' --vfio-group 0 --vfio-dev x)))
	n=$((n + $(count_vmm --case '^vfio_v1_' --vfio-group 0 --vfio-dev x)))
else
	n=$((n + 1))
fi
if [ $ours = 1 ]; then
	n=$((n + $(count_vmm) + 5))
	[ $vfio = 1 ] && n=$((n + $(count_vmm --case '^vfio_' --vfio-group 0 --vfio-dev x)))
	[ $vfio = 1 ] && n=$((n + $(count_vmm --case '^vfio_v1_' --vfio-group 0 --vfio-dev x) + 1))
else
	n=$((n + 1))
fi
n=$((n + 2))			# module load/unload under a loop; kernel log
tap_plan $n
echo "# kvm_tce: ${ours_why:-loaded and unloaded fine}; VFIO: ${vfio_why:-edu $edu}"
klog_mark

# --- 1. stock, plain tables ----------------------------------------------
# (kvm_tce was unloaded above: this is the stock path)
tap_vmm stock_

# the load/unload test's loop, against stock alone: it must see no bad pair
loop_run() {		# loop_run SECONDS [CYCLES]: the loop, kvm_tce cycled
	local secs=$1 cycles=${2:-0} i=0 pid t=0 fails=0
	: >/tmp/loop.out
	"$VMM" --loop putget >/tmp/loop.out 2>&1 &
	pid=$!
	while ! grep -q '^LOOP ready' /tmp/loop.out && [ $t -lt 100 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	while [ $i -lt "$cycles" ]; do
		mod_insmod kvm_tce || fails=$((fails + 1))
		sleep 0.2
		rmmod kvm_tce || fails=$((fails + 1))
		i=$((i + 1))
	done
	sleep "$secs"
	kill -USR1 $pid
	wait $pid
	LOOP_RC=$?
	LOOP_OUT=$(grep '^LOOP' /tmp/loop.out | tail -1)
	LOOP_FAILS=$fails
}
loop_run 2
case "$LOOP_RC/$LOOP_OUT" in
"0/LOOP pairs="*" bad=0 "*) tap_ok "stock_put_get_loop_reads_back_every_tce" ;;
*) tap_fail "stock_put_get_loop_reads_back_every_tce" "exit $LOOP_RC: $LOOP_OUT" ;;
esac
echo "# stock loop: $LOOP_OUT"

# --- 2. VFIO-linked tables -------------------------------------------------
if [ $vfio = 1 ]; then
	dev=/sys/bus/pci/devices/$edu
	modprobe vfio-pci
	# the kvm_tce probe above may have left vfio_spapr serving
	[ -w /sys/module/vfio_spapr/parameters/container ] &&
		echo 0 >/sys/module/vfio_spapr/parameters/container
	modprobe vfio_iommu_spapr_tce
	# on 6.1 vfio_spapr is what lets vfio-pci bind; container=0 leaves
	# the containers to the in-tree driver for now
	loaded spapr_realmode || mod_insmod spapr_realmode
	loaded vfio_spapr || mod_insmod vfio_spapr container=0
	if bind_vfio_pci "$edu"; then
		# no device reset at each open/close (10 s each on powernv)
		[ -w "$dev/reset_method" ] && echo "" >"$dev/reset_method" 2>/dev/null
		group=$(basename "$(readlink "$dev/iommu_group")")
		V="--case ^vfio_ --vfio-group $group --vfio-dev $edu"
		tap_ok "bind_edu_to_vfio_pci_group_$group"
		# stock kvm, in-tree container: mm_iommu has the guest RAM,
		# the kernel maps every TCE
		tap_vmm stock_intree_ $V --vfio-path kernel --intree
		# stock kvm, our container: no mm_iommu region, so stock
		# gives every mapping H_PUT_TCE to userspace, which maps it
		# with VFIO_IOMMU_MAP_DMA as QEMU does
		rmmod vfio_iommu_spapr_tce
		echo 1 >/sys/module/vfio_spapr/parameters/container
		tap_vmm stock_ours_container_ $V --vfio-path user
		# the same with a v1 container: KVM links its default window
		tap_vmm stock_ours_v1_ --case '^vfio_v1_' --vfio-group "$group" \
			--vfio-dev "$edu" --vfio-path user --vfio-v1
	else
		tap_fail "bind_edu_to_vfio_pci" "$(klog | grep -m1 vfio)"
		vfio=0
		for i in $(seq $((2 * $(count_vmm --case '^vfio_' --vfio-group 0 --vfio-dev x) +
			$(count_vmm --case '^vfio_v1_' --vfio-group 0 --vfio-dev x)))); do
			tap_fail "vfio_case_not_run" "edu did not bind"
		done
	fi
else
	tap_skip "vfio_linked_tables" "$vfio_why"
fi

# --- 3. kvm_tce.ko ----------------------------------------------------------
if [ $ours = 1 ] && kvm_tce_load; then
	tap_vmm kvm_tce_ --ours
	[ $vfio = 1 ] && tap_vmm kvm_tce_ours_container_ $V --vfio-path kernel --ours
	# A v1 container's window is never on kvm_tce's fast path, but its
	# table is ours: the stock handler must not run on it (its clear
	# takes a TCE out and may put it back behind the container's back,
	# kvm_tce.rst), so kvm_tce answers H_TOO_HARD itself (a fallback
	# its counters count: no --ours, which wants none).
	if [ $vfio = 1 ]; then
		tr=/sys/kernel/tracing
		echo >$tr/trace
		echo 1 >"$KVM_TCE_TRACE/enable" 2>/dev/null
		tap_vmm kvm_tce_ours_v1_ --case '^vfio_v1_' --vfio-group "$group" \
			--vfio-dev "$edu" --vfio-path user --vfio-v1
		echo 0 >"$KVM_TCE_TRACE/enable" 2>/dev/null
		v1_ours=$(grep -c 'liobn=0x80000001 .* handled ' $tr/trace)
		v1_stock=$(grep -c 'liobn=0x80000001 .* stock ' $tr/trace)
		if [ "$v1_ours" -gt 0 ] && [ "$v1_stock" = 0 ]; then
			tap_ok kvm_tce_keeps_the_stock_handler_off_a_v1_container_table
		else
			tap_fail kvm_tce_keeps_the_stock_handler_off_a_v1_container_table \
				"$v1_ours hcalls answered by kvm_tce, $v1_stock run by the stock handler"
		fi
	fi
	# the tracepoint fires for the hcalls it handles
	if [ -e "$KVM_TCE_TRACE/enable" ]; then
		echo >/sys/kernel/tracing/trace
		echo 1 >"$KVM_TCE_TRACE/enable"
		"$VMM" --case '^put_tce_then_get_tce.*_4k$' >/dev/null 2>&1
		echo 0 >"$KVM_TCE_TRACE/enable"
		tr=$(grep -c kvm_tce_hcall /sys/kernel/tracing/trace)
		[ "$tr" -gt 0 ] && tap_ok kvm_tce_tracepoint_fires ||
			tap_fail kvm_tce_tracepoint_fires "no kvm_tce_hcall event"
	else
		tap_fail kvm_tce_tracepoint_fires "no $KVM_TCE_TRACE"
	fi
	# The four handlers are hooked by kvm_tce's ops alone (count 1),
	# redirecting (I), and through the trampoline that asks for the
	# argument registers only (no R): the all-registers one puts back a
	# stale r13 (paca) after a preemption that moved the task to
	# another CPU, which brings a preemptible (7.x) host down.
	hooks=
	for f in kvmppc_h_put_tce kvmppc_h_put_tce_indirect \
		 kvmppc_h_stuff_tce kvmppc_h_get_tce; do
		l=$(grep -E "^$f \[kvm\]" /sys/kernel/tracing/enabled_functions)
		case "$l" in
		*" (1)  "*" I "*) ;;
		*) hooks="$hooks $f: '${l:-not hooked}';" ;;
		esac
	done
	[ -z "$hooks" ] &&
		tap_ok kvm_tce_hooks_through_the_argument_registers_trampoline_only ||
		tap_fail kvm_tce_hooks_through_the_argument_registers_trampoline_only \
			"$hooks"
	# ftrace cannot be switched off under the hook (the stock handler
	# would get our containers' tables): the write is refused.
	fe=/proc/sys/kernel/ftrace_enabled
	if echo 0 >$fe 2>/dev/null || [ "$(cat $fe)" != 1 ]; then
		echo 1 >$fe
		tap_fail kvm_tce_keeps_ftrace_on_while_loaded "$fe took 0"
	else
		tap_ok kvm_tce_keeps_ftrace_on_while_loaded
	fi
	# intercept=N: the stock path answers, our counters stay
	put=$(kvm_tce_counter put)
	c0=$(kvm_tce_stat "$put")
	echo N >"$KVM_TCE_PARAM"
	"$VMM" --case '^put_tce_then_get_tce.*_4k$' >/tmp/off.tap 2>&1
	rc=$?
	echo Y >"$KVM_TCE_PARAM"
	c1=$(kvm_tce_stat "$put")
	[ $rc = 0 ] && [ -n "$c0" ] && [ "$c0" = "$c1" ] &&
		tap_ok kvm_tce_intercept_off_stock_answers_counters_still ||
		tap_fail kvm_tce_intercept_off_stock_answers_counters_still \
			"vmm exit $rc, $put $c0 -> $c1"
	c0=$(kvm_tce_stat "$put")
	"$VMM" --case '^put_tce_then_get_tce.*_4k$' >/tmp/on.tap 2>&1
	c1=$(kvm_tce_stat "$put")
	[ -n "$c0" ] && [ "$c1" -gt "$c0" ] &&
		tap_ok kvm_tce_intercept_on_again_counts ||
		tap_fail kvm_tce_intercept_on_again_counts "$put $c0 -> $c1"
	rmmod kvm_tce
else
	tap_skip "kvm_tce_cases" "${ours_why:-$KVM_TCE_WHY}"
fi

# insmod/rmmod of kvm_tce ten times while the guest loops
if [ $ours = 1 ]; then
	loop_run 1 10
	case "$LOOP_RC/$LOOP_FAILS/$LOOP_OUT" in
	"0/0/LOOP pairs="*" bad=0 "*) tap_ok "kvm_tce_insmod_rmmod_10x_under_a_put_get_loop_no_wrong_value" ;;
	*) tap_fail "kvm_tce_insmod_rmmod_10x_under_a_put_get_loop_no_wrong_value" \
		"exit $LOOP_RC, $LOOP_FAILS insmod/rmmod failures: $LOOP_OUT" ;;
	esac
else
	tap_skip "kvm_tce_insmod_rmmod_10x_under_a_put_get_loop_no_wrong_value" "$ours_why"
fi

# the list race's last references, dropped through the allocator
[ -r /sys/kernel/debug/spapr_realmode/info ] &&
	grep last_refs /sys/kernel/debug/spapr_realmode/info | sed 's/^/# spapr_realmode /'

if klog | grep -E "$KLOG_BAD"; then
	tap_fail kernel_log_clean
else
	tap_ok kernel_log_clean
fi

# Leave the machine as the next test expects it: edu back with no driver,
# none of our modules loaded (on pseries a claimed group may keep
# vfio_spapr pinned: vfio-enable.rst).
loaded kvm_tce && rmmod kvm_tce
if [ -n "$edu" ] && [ -e "/sys/bus/pci/devices/$edu/driver" ]; then
	echo >"/sys/bus/pci/devices/$edu/driver_override"
	echo "$edu" >"/sys/bus/pci/devices/$edu/driver/unbind"
fi
loaded vfio_iommu_spapr_tce && rmmod vfio_iommu_spapr_tce
loaded vfio_spapr && rmmod vfio_spapr
loaded spapr_realmode && rmmod spapr_realmode
tap_done
