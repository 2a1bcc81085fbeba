# SPDX-License-Identifier: GPL-2.0
#
# Minimal TAP helpers for the spapr_tce shell selftests, and what they
# need to know about where they run. Sourced by each test as
# `. "$(dirname "$0")/lib.sh"`: kselftest's runner starts a test from its
# own directory, which holds lib.sh, bin/ (the helper programs) and
# klog-bad.pat.
#
# Outside the lab (a POWER host or a pseries guest, from an installed
# kselftest tree):
#   SPAPR_TCE_MODULES  directory with our .ko files (insmod from there);
#                      unset, the installed modules are loaded by modprobe
#   LAB_MACHINE        pseries, pseries-hash, pseries-nested, pseries-p10,
#                      powernv9 or powernv8: which answers the tests expect
#                      (guessed from /proc/cpuinfo when unset)
#   LAB_KERNEL         6.1 or 6.12 (guessed from uname -r when unset)
#   LAB_BAD_LOG        the kernel-log pattern of trouble (default: the lab
#                      runner's own, klog-bad.pat)
# The lab sets all of them (/lab/env, run-selftests).

SPAPR_TCE_DIR=$(cd "$(dirname "$0")" && pwd)

TAP_N=0
TAP_FAILED=0

tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

tap_ok() {		# tap_ok NAME: a passed case
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1"
}

tap_fail() {		# tap_fail NAME [WHY]: a failed case
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N $1"
	[ -n "$2" ] && echo "# $2"
	return 0
}

tap_skip() {		# tap_skip NAME WHY
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1 # SKIP $2"
}

tap_check() {		# tap_check NAME CMD...: ok when CMD succeeds
	local name=$1
	shift
	if "$@"; then tap_ok "$name"; else tap_fail "$name" "failed: $*"; fi
}

tap_done() {
	[ "$TAP_FAILED" -eq 0 ]
}

# The kernel-log pattern that means trouble: the runner's own
# (LAB_BAD_LOG, scripts/lab/machines.sh), passed in through /lab/env, or
# the copy the build made of it.
if [ -z "${LAB_BAD_LOG:-}" ]; then
	LAB_BAD_LOG=$(cat "$SPAPR_TCE_DIR/klog-bad.pat") || {
		echo "# no LAB_BAD_LOG and no $SPAPR_TCE_DIR/klog-bad.pat" >&2; exit 1; }
	export LAB_BAD_LOG
fi
KLOG_BAD=$LAB_BAD_LOG

# klog_mark: where this test's part of the kernel log begins; klog
# prints the log from there. Never dmesg -c: the lab reads the whole
# boot's log at power-off, and a report an earlier test left must still
# be in it (realmode-core's went unseen for weeks, cleared by the next).
klog_mark() {
	KLOG_MARK="spapr_tce selftest $(basename "$0") start $$"
	echo "$KLOG_MARK" >/dev/kmsg
}
# A mark the log no longer holds gives the whole log, never nothing.
klog() {
	if dmesg | grep -qF "$KLOG_MARK"; then
		dmesg | sed -n "/$KLOG_MARK/,\$p"
	else
		dmesg
	fi
}

# lab_guess_machine: the lab machine this system is like. powernv or
# pseries from the platform line; on pseries, hash when the MMU is hash,
# p10 on a POWER10, nested when kvm_hv loads (only a nested-HV capable
# LPAR lets it).
lab_guess_machine() {
	_cpu=/proc/cpuinfo
	if grep -qi '^platform.*powernv' $_cpu; then
		grep -qi '^cpu.*POWER8' $_cpu && echo powernv8 || echo powernv9
	elif grep -qi '^MMU.*hash' $_cpu; then
		echo pseries-hash
	elif grep -qi '^cpu.*POWER10' $_cpu; then
		echo pseries-p10
	elif modprobe kvm_hv 2>/dev/null; then
		echo pseries-nested
	else
		echo pseries
	fi
}
if [ -z "${LAB_MACHINE:-}" ]; then
	LAB_MACHINE=$(lab_guess_machine)
	echo "# LAB_MACHINE unset: taken as $LAB_MACHINE"
fi
if [ -z "${LAB_KERNEL:-}" ]; then
	LAB_KERNEL=$(uname -r | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')
	echo "# LAB_KERNEL unset: taken as $LAB_KERNEL"
fi
export LAB_MACHINE LAB_KERNEL

# Our modules: from $SPAPR_TCE_MODULES when it is set (the lab's
# /lab/modules, or a build directory), else the installed ones.
# mod_file NAME: what insmod or modinfo take for NAME.
mod_file() {
	if [ -n "${SPAPR_TCE_MODULES:-}" ]; then
		echo "$SPAPR_TCE_MODULES/$1.ko"
	else
		echo "$1"
	fi
}

# mod_present NAME: the module is there to load.
mod_present() {
	if [ -n "${SPAPR_TCE_MODULES:-}" ]; then
		[ -f "$SPAPR_TCE_MODULES/$1.ko" ]
	else
		modinfo "$1" >/dev/null 2>&1
	fi
}

# mod_insmod NAME [PARAM=VALUE...]: load one module of ours, by itself
# (the tests load them in their own order, with their own parameters).
mod_insmod() {
	_m=$1
	shift
	if [ -n "${SPAPR_TCE_MODULES:-}" ]; then
		insmod "$SPAPR_TCE_MODULES/$_m.ko" "$@"
	else
		modprobe "$_m" "$@"
	fi
}

# tap_include FILE: append the cases of another TAP stream (a module's
# debugfs self-test), renumbered to follow ours; its comments pass through.
tap_include() {
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			TAP_N=$((TAP_N + 1))
			case $line in "not ok "*) TAP_FAILED=$((TAP_FAILED + 1)) ;; esac
			echo "$line" | sed "s/^\(\(not \)\{0,1\}ok\) [0-9]*/\1 $TAP_N/"
			;;
		"#"*) echo "$line" ;;
		esac
	done <"$1"
}

# The MMU the kernel runs with: radix or hash.
mmu_kind() {
	grep -qi '^MMU.*radix' /proc/cpuinfo && echo radix || echo hash
}

# loaded MODULE: true when MODULE is loaded.
loaded() {
	lsmod | grep -q "^$1 "
}

# edu_devices: the PCI addresses of QEMU's edu test devices (1234:11e8),
# one a line, in the order of the bus.
edu_devices() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
			echo "${d##*/}"
		fi
	done
}

# edu_device [N]: the PCI address of the Nth edu device (default the
# first); false when there is none.
edu_device() {
	_edu=$(edu_devices | sed -n "${1:-1}p")
	[ -n "$_edu" ] && echo "$_edu"
}

# bind_vfio_pci ADDR: hand a PCI device to vfio-pci (from any driver or
# none); true when vfio-pci has it.
bind_vfio_pci() {
	d=/sys/bus/pci/devices/$1
	echo vfio-pci >"$d/driver_override"
	[ -e "$d/driver" ] && echo "$1" >"$d/driver/unbind"
	echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)" = vfio-pci ]
}

# --- kvm_tce.ko: its interface, in one place (tests and bench-hcall) ---
KVM_TCE_DEBUGFS=/sys/kernel/debug/kvm_tce
KVM_TCE_PARAM=/sys/module/kvm_tce/parameters/intercept
KVM_TCE_TRACE=/sys/kernel/tracing/events/kvm_tce/kvm_tce_hcall
# per-VM counters: $KVM_TCE_VMS/<pid of the VMM>-<n>/stats; the VMM
# reads the names it needs from KVM_TCE_COUNTERS (its key=counter name)
KVM_TCE_VMS=$KVM_TCE_DEBUGFS/vms
KVM_TCE_COUNTERS="put=handled_put_tce indirect=handled_put_tce_indirect stuff=handled_stuff_tce get=handled_get_tce fallback=fallback h_parameter=h_parameter"
export KVM_TCE_VMS KVM_TCE_COUNTERS

# kvm_tce_load: load kvm_hv, spapr_realmode, vfio_spapr (as it is, if
# loaded) and kvm_tce, in that order. False, with KVM_TCE_WHY set, when
# kvm_tce is not there or not the real thing yet (no debugfs).
kvm_tce_load() {
	KVM_TCE_WHY=
	if ! mod_present kvm_tce; then
		KVM_TCE_WHY="kvm_tce.ko not built ($(mod_file kvm_tce) missing)"
		return 1
	fi
	modprobe kvm_hv 2>/dev/null
	modprobe vfio 2>/dev/null	# vfio_spapr needs it
	loaded spapr_realmode || mod_insmod spapr_realmode || {
		KVM_TCE_WHY="spapr_realmode.ko does not load"; return 1; }
	loaded vfio_spapr || mod_insmod vfio_spapr || {
		KVM_TCE_WHY="vfio_spapr.ko does not load"; return 1; }
	loaded kvm_tce || mod_insmod kvm_tce || {
		KVM_TCE_WHY="insmod kvm_tce.ko failed"; return 1; }
	if [ ! -e "$KVM_TCE_DEBUGFS/stats" ]; then
		rmmod kvm_tce 2>/dev/null
		KVM_TCE_WHY="kvm_tce.ko not built (the module has no $KVM_TCE_DEBUGFS/stats yet)"
		return 1
	fi
	return 0
}

# kvm_tce_stat NAME: a global counter of kvm_tce ("name value" lines)
kvm_tce_stat() {
	sed -n "s/^$1:\{0,1\}[[:space:]]\{1,\}\([0-9]*\).*/\1/p" "$KVM_TCE_DEBUGFS/stats"
}

# kvm_tce_counter KEY: the counter name behind a KVM_TCE_COUNTERS key
kvm_tce_counter() {
	for kv in $KVM_TCE_COUNTERS; do
		[ "${kv%%=*}" = "$1" ] && echo "${kv#*=}"
	done
}
