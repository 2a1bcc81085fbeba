# SPDX-License-Identifier: GPL-2.0
#
# The lab's emulated machines. machine_setup NAME fills QEMU_ARGS and
# KERNEL_APPEND for one of them; LAB_MACHINES lists them all.
#
# Every machine carries two edu test devices, each in an IOMMU group of its
# own, so that tests can hold two groups in two containers or in one: on
# pseries each sits alone on a PHB of its own (devices of ours are put on
# pci.0 explicitly, or they would land there too); on powernv every root
# port is its own PE. The first (edu_device in the selftests' lib.sh) is
# the one the single-device tests use.
#
# Every machine also carries a small virtio-blk disk of known content
# (lab_disk), read-only, on a PHB or root port of its own, away from edu:
# tests read it to show other devices' DMA keeps working. Its sha256 goes
# to the guest as LAB_DISK_SHA256 (/lab/env).

LAB_MACHINES="pseries pseries-hash pseries-nested pseries-p10 powernv9 powernv8"

# lab_time_scale KERNEL: how much longer than on a stock kernel a test may
# take (its time limits are multiplied by it): KASAN, lockdep and
# kmemleak make the debug kernel about that much slower under TCG.
lab_time_scale() {
	[[ $1 == *-debug ]] && echo "${LAB_DEBUG_TIME_SCALE:-4}" || echo 1
}

# lab_disk: make the disk image once (4 MiB of numbered lines: every 4K
# block differs, so a misplaced or corrupted block changes the checksum);
# sets LAB_DISK and LAB_DISK_SHA256.
lab_disk() {
	LAB_DISK=${BUILD:?}/lab/disk.img
	if [[ ! -s $LAB_DISK ]]; then
		mkdir -p "$(dirname "$LAB_DISK")"
		seq -w 1 600000 | head -c 4194304 >"$LAB_DISK.$$"
		mv "$LAB_DISK.$$" "$LAB_DISK"
	fi
	LAB_DISK_SHA256=$(sha256sum "$LAB_DISK" | cut -d' ' -f1)
}

machine_setup() {
	local mem=${LAB_MEM:-2G}
	# No hard-lockup detector: under TCG the guest's timebase follows the
	# host's clock while the host may not run the vCPU for seconds, so it
	# fires on a busy host with nothing wrong (seen at 11 s into a boot,
	# in string(), before any module of ours was loaded, host load 13).
	# The soft-lockup detector and RCU stall warnings stay on.
	# The kernel log is read once, at the end of the boot (scripts/lab/init):
	# Debian's 128K ring buffer kept only the last 5 to 15 minutes of a
	# cell's boot, and a debug kernel's report from its first test was
	# gone by then. lab_log_trouble refuses a log that lost its start.
	# 8M holds a whole debug cell's log (1-2.5M, about 400 B/s) and is
	# within the 16M that busybox's dmesg reads.
	KERNEL_APPEND="console=hvc0 nmi_watchdog=0"
	[[ -n ${LAB_LOG_BUF-8M} ]] && KERNEL_APPEND+=" log_buf_len=${LAB_LOG_BUF-8M}"
	lab_disk || return 2
	local drive=(-drive "file=$LAB_DISK,format=raw,if=none,id=labdisk,readonly=on")
	case $1 in
	pseries|pseries-hash|pseries-nested|pseries-p10)
		local m=pseries cpu=POWER9
		# pseries-p10: the same LPAR on QEMU's POWER10 CPU model
		[[ $1 == pseries-p10 ]] && cpu=power10
		[[ $1 == pseries-nested ]] && m=pseries,cap-nested-hv=on && mem=${LAB_MEM:-4G}
		[[ $1 == pseries-hash ]] && KERNEL_APPEND+=" disable_radix"
		# DIMM slots: the guest may ask for memory hot-add (request.sh).
		QEMU_ARGS=(-M "$m" -cpu "$cpu" -m "$mem,slots=4,maxmem=8G" -vga none -net none
			-device spapr-pci-host-bridge,index=1,id=phb1
			-device edu,bus=phb1.0
			-device spapr-pci-host-bridge,index=2,id=phb2
			-device edu,bus=phb2.0
			"${drive[@]}" -device virtio-blk-pci,drive=labdisk,bus=pci.0)
		;;
	powernv9|powernv8)
		# POWER9 has six PHBs, POWER8 three: the second edu takes a
		# free one. The end-to-end scenario's two NVMe controllers
		# (lab_e2e_bus) take pcie.3 and pcie.5 on POWER9; on POWER8
		# they take the edu devices' root ports, as that scenario uses
		# no edu (LAB_E2E=1).
		local edu=(-device edu,bus=pcie.1 -device edu,bus=pcie.4)
		[[ $1 == powernv9 ]] && mem=${LAB_MEM:-4G}
		[[ $1 == powernv8 ]] && edu[3]=edu,bus=pcie.0
		[[ $1 == powernv8 && ${LAB_E2E:-0} == 1 ]] && edu=()
		QEMU_ARGS=(-M "$1" -m "$mem" -net none "${edu[@]}"
			"${drive[@]}" -device virtio-blk-pci,drive=labdisk,bus=pcie.2)
		;;
	*)
		echo "vm: unknown machine '$1' (one of: $LAB_MACHINES)" >&2
		return 2
		;;
	esac
}

# lab_e2e_bus MACHINE N: the root port, a PE of its own, free for the
# end-to-end scenario's Nth NVMe controller (N = 1 or 2; with LAB_E2E=1
# in the environment of scripts/vm).
lab_e2e_bus() {
	case $1-$2 in
	powernv9-1) echo pcie.3 ;;
	powernv9-2) echo pcie.5 ;;
	powernv8-1) echo pcie.0 ;;
	powernv8-2) echo pcie.1 ;;
	*) return 1 ;;
	esac
}

# What in a guest's kernel log means the run failed whatever the command
# said (an extended regex, matched against the console log). The second
# half is the debug kernel's reports whose first line is no "BUG: " or
# "WARNING: CPU" (KASAN, sleeping in atomic and DEBUG_OBJECTS' "ODEBUG: "
# are caught by "BUG: "): lockdep's, RCU's lockdep checks, DEBUG_LIST and
# kmemleak's own scan.
LAB_BAD_LOG='(Oops[:!]|kernel BUG at|BUG: |WARNING: CPU|WARNING: at |Kernel panic|soft lockup|hard LOCKUP|rcu: INFO:|detected stalls? on CPU|self-detected stall|Unable to handle kernel'
LAB_BAD_LOG+='|WARNING: possible (circular|recursive) locking|WARNING: inconsistent lock state'
LAB_BAD_LOG+='|WARNING: possible irq lock inversion|WARNING: [A-Z-]+-safe -> [A-Z-]+-unsafe '
LAB_BAD_LOG+='|WARNING: bad (unlock balance|contention)|WARNING: held lock freed|WARNING: lock held '
LAB_BAD_LOG+='|WARNING: .* still has locks held|WARNING: Nested lock was not taken'
LAB_BAD_LOG+='|WARNING: chain_key collision|WARNING: suspicious RCU usage'
LAB_BAD_LOG+='|list_(add|del) corruption|kmemleak: [0-9]+ new suspected'
LAB_BAD_LOG+='|INFO: trying to register non-static key)'

# lab_log_trouble LOG: what is wrong with a boot's console LOG, a line
# each (nothing: clean). The kernel log is dumped once, at power-off
# (scripts/lab/init), so a dump with no line from the boot's first
# instant lost its start (the ring buffer wrapped) and one without its
# end marker was cut short: either may hide a report. Then the lines
# LAB_BAD_LOG matches, anywhere in the console log.
lab_log_trouble() {
	# Prefixes: skiboot may end a powernv console line with its own.
	awk '/^LAB-DMESG-BEGIN/ { on = 1; seen = 1; next }
	     /^LAB-DMESG-END/ { on = 0; ended = 1 }
	     on && /^\[ *0\.000000\] / { start = 1 }
	     END {
		if (!seen) { print "the kernel log was not dumped"; exit }
		if (!start) print "the kernel log lost its start (the ring buffer wrapped)"
		if (!ended) print "the kernel log dump was cut short"
	     }' "$1"
	grep -aE "$LAB_BAD_LOG" "$1"
	return 0
}
