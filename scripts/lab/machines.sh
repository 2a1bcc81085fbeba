# SPDX-License-Identifier: GPL-2.0
#
# The lab's emulated machines. machine_setup NAME fills QEMU_ARGS and
# KERNEL_APPEND for one of them; LAB_MACHINES lists them all.
#
# Every machine carries two edu test devices, each in an IOMMU group of
# its own: on pseries each sits alone on a PHB of its own (devices of our
# own are put on pci.0 explicitly, or they would land there too); on
# powernv every root port is its own PE. Tests that want one device take
# the first (edu_device); two containers of one process need both.
#
# Every machine also carries a small virtio-blk disk of known content
# (lab_disk), read-only, on a PHB or root port of its own, away from edu:
# tests read it to show other devices' DMA keeps working. Its sha256 goes
# to the guest as LAB_DISK_SHA256 (/lab/env).

LAB_MACHINES="pseries pseries-hash pseries-nested powernv9 powernv8"

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
	KERNEL_APPEND="console=hvc0"
	lab_disk || return 2
	local drive=(-drive "file=$LAB_DISK,format=raw,if=none,id=labdisk,readonly=on")
	case $1 in
	pseries|pseries-hash|pseries-nested)
		local m=pseries
		[[ $1 == pseries-nested ]] && m=pseries,cap-nested-hv=on && mem=${LAB_MEM:-4G}
		[[ $1 == pseries-hash ]] && KERNEL_APPEND+=" disable_radix"
		# DIMM slots: the guest may ask for memory hot-add (request.sh).
		QEMU_ARGS=(-M "$m" -cpu POWER9 -m "$mem,slots=4,maxmem=8G" -vga none -net none
			-device spapr-pci-host-bridge,index=1,id=phb1
			-device edu,bus=phb1.0
			-device spapr-pci-host-bridge,index=2,id=phb2
			-device edu,bus=phb2.0
			"${drive[@]}" -device virtio-blk-pci,drive=labdisk,bus=pci.0)
		;;
	powernv9|powernv8)
		[[ $1 == powernv9 ]] && mem=${LAB_MEM:-4G}
		# the second edu: powernv9 keeps pcie.3 for e2e's NVMe;
		# powernv8 has three root ports and pcie.0 is the free one
		local edu2=pcie.4
		[[ $1 == powernv8 ]] && edu2=pcie.0
		QEMU_ARGS=(-M "$1" -m "$mem" -net none
			-device edu,bus=pcie.1 -device edu,bus=$edu2
			"${drive[@]}" -device virtio-blk-pci,drive=labdisk,bus=pcie.2)
		;;
	*)
		echo "vm: unknown machine '$1' (one of: $LAB_MACHINES)" >&2
		return 2
		;;
	esac
}

# What in a guest's kernel log means the run failed whatever the command
# said (an extended regex, matched against the console log).
LAB_BAD_LOG='(Oops[:!]|kernel BUG at|BUG: |WARNING: CPU|WARNING: at |Kernel panic|soft lockup|hard LOCKUP|rcu: INFO:|detected stalls? on CPU|self-detected stall|Unable to handle kernel)'
