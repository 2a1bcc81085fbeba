#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkguest.sh KERNEL OUT: the initramfs of the end-to-end scenario's nested
# guest (L2): static busybox, the stock nvme driver of KERNEL and
# guest-init as /init. Remade only when one of its inputs is newer.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

KERNEL=$1
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../.." && pwd)
BUILD=${BUILD:-$TOP/build}

fresh=1
for f in "$HERE/guest-init" "$HERE/mkguest.sh" "$TOP/scripts/lab/mkinitramfs.sh" \
	"$BUILD/kernels/$KERNEL/release"; do
	[[ -s $OUT && ! $f -nt $OUT ]] || fresh=0
done
[[ $fresh == 1 ]] && exit 0

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
bash "$TOP/scripts/lab/mkinitramfs.sh" "$KERNEL" "$stage/base.cpio.gz" nvme
mkdir -p "$stage/ov"
install -m 755 "$HERE/guest-init" "$stage/ov/init"
(cd "$stage/ov" && find . | cpio -o -H newc --quiet | gzip -1) >"$stage/ov.cpio.gz"
mkdir -p "$(dirname "$OUT")"
cat "$stage/base.cpio.gz" "$stage/ov.cpio.gz" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
