#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KERNEL OUT [MODULE...]: the lab's base initramfs for one
# target kernel: static busybox and the stock modules the lab needs (with
# their dependencies, decompressed, and a modules.dep busybox modprobe
# reads), or only the MODULEs named (the nested guest of the end-to-end
# scenario needs nvme alone). The per-run part (/init, our modules,
# tests, the command) is a second cpio archive the runner appends; the
# kernel unpacks both.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

KERNEL=$1
OUT=$2
shift 2
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
KROOT=$BUILD/kernels/$KERNEL/root
release=$(cat "$BUILD/kernels/$KERNEL/release")
mods=$KROOT/lib/modules/$release

# The stock modules the lab uses: KVM-HV, the VFIO family, the drivers
# of the devices the machines carry, and ext4 with the crc32c it asks
# for (the DKMS test's disk).
WANTED=${*:-kvm-hv vfio-pci vfio_iommu_spapr_tce vfio_spapr_eeh virtio_blk
	virtio_pci virtio_net nvme ext4 crc32c_generic}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,lab,lib/modules/"$release"}
cp "$CACHE/busybox/bin/busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"

declare -A seen=()
add_module() {
	local rel=$1 dep
	[[ -n ${seen[$rel]:-} ]] && return 0
	seen[$rel]=1
	for dep in $(sed -n "s|^$rel: *||p" "$mods/modules.dep"); do
		add_module "$dep"
	done
	# Debian compresses modules with xz (6.1, 6.12, 7.x); a .zst or a
	# plain .ko is taken as well. busybox modprobe loads them plain.
	local dst=$stage/lib/modules/$release/${rel%.ko*}.ko
	mkdir -p "$(dirname "$dst")"
	case $rel in
	*.xz)	xz -dc "$mods/$rel" >"$dst" ;;
	*.zst)	zstd -qdc "$mods/$rel" >"$dst" ;;
	*)	cp "$mods/$rel" "$dst" ;;
	esac
}
for name in $WANTED; do
	rel=$(grep -E "(^|/)${name}\.ko(\.xz|\.zst)?:" "$mods/modules.dep" | head -1 | cut -d: -f1 || true)
	# A module built into this kernel has no entry: nothing to add.
	[[ -n $rel ]] && add_module "$rel"
done
cp "$mods"/modules.{builtin,builtin.modinfo,order} "$stage/lib/modules/$release/" 2>/dev/null || true
depmod -b "$stage" "$release"

mkdir -p "$(dirname "$OUT")"
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
