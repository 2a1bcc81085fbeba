# SPDX-License-Identifier: GPL-2.0
#
# Minimal TAP helpers for the lab's shell selftests.

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
# (LAB_BAD_LOG, scripts/lab/machines.sh), passed in through /lab/env.
KLOG_BAD=${LAB_BAD_LOG:?run under scripts/vm: LAB_BAD_LOG is not set}

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

# edu_device: the PCI address of QEMU's edu test device (1234:11e8).
edu_device() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
			echo "${d##*/}"
			return 0
		fi
	done
	return 1
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
