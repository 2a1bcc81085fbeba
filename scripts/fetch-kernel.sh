#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh KERNEL: make build/kernels/KERNEL a usable target kernel.
#
# KERNEL is 6.1 (Debian 12's kernel) or 6.12 (Debian's 6.12 built for
# Debian 12, from bookworm-backports). Both are resolved through the
# linux-image-powerpc64le / linux-headers-powerpc64le meta packages.
# The image (vmlinux and modules), the headers, the common headers, the
# amd64 kbuild matching them and busybox-static are downloaded once into
# the download cache (scripts/lib/cache.sh); a second run downloads nothing.
#
# Result, under build/kernels/KERNEL/:
#   vmlinux        bootable by qemu -kernel
#   kdir/          the headers tree to build modules against
#   modules/       /lib/modules/<release> of the stock kernel
#   release        the kernel release string
#   versions.txt   the exact package versions
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

KERNEL=${1:?usage: fetch-kernel.sh 6.1|6.12}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
OUT=$BUILD/kernels/$KERNEL
. "$TOP/scripts/lib/papt.sh"

case $KERNEL in
6.1)	suite='^6\.1\.' ;;
6.12)	suite='^6\.12\..*bpo12' ;;
*)	echo "fetch: unknown kernel '$KERNEL' (want 6.1 or 6.12)" >&2; exit 2 ;;
esac

if [[ -s $OUT/versions.txt && -e $OUT/vmlinux && -d $OUT/kdir/ ]]; then
	exit 0
fi

cache_lock
papt_init
papt_update

meta=$(papt_version linux-image-powerpc64le "$suite")
[[ -n $meta ]] || { echo "fetch: no linux-image-powerpc64le for $KERNEL" >&2; exit 1; }
img=$(papt_depends linux-image-powerpc64le "$meta" '^linux-image-')
hdr=$(papt_depends linux-headers-powerpc64le "$meta" '^linux-headers-')
common=$(papt_depends "$hdr" "$meta" '^linux-headers-.*-common')
kbuild=$(papt_depends "$hdr" "$meta" '^linux-kbuild-')
bbver=$(papt_version busybox-static)
for v in img hdr common kbuild bbver; do
	[[ -n ${!v} ]] || { echo "fetch: could not resolve $v for $KERNEL" >&2; exit 1; }
done
kbver=$(papt_version "$kbuild" "^${meta%%-*}")

papt_download "$CACHE/debs" "$img=$meta" "$hdr=$meta" "$common=$meta" \
	"$kbuild:amd64=$kbver" "busybox-static=$bbver"

rm -rf "$OUT"
mkdir -p "$OUT/root"
for p in "$img" "$hdr" "$common" "$kbuild"; do
	dpkg -x "$(compgen -G "$CACHE/debs/${p}_*.deb" | head -1)" "$OUT/root"
done
mkdir -p "$CACHE/busybox"
dpkg -x "$(compgen -G "$CACHE/debs/busybox-static_*.deb" | head -1)" "$CACHE/busybox"

release=${img#linux-image-}
# The packages ship no modules.dep: depmod makes it at install time.
depmod -b "$OUT/root" "$release"
kdir=$OUT/root/usr/src/linux-headers-$release
# The flavour Makefile includes the common tree by absolute path.
sed -i "s|^include /usr/src/|include $OUT/root/usr/src/|" "$kdir/Makefile"
ln -sfn "$kdir" "$OUT/kdir"
ln -sfn "$OUT/root/boot/vmlinux-$release" "$OUT/vmlinux"
ln -sfn "$OUT/root/lib/modules/$release" "$OUT/modules"
echo "$release" >"$OUT/release"
cat >"$OUT/versions.txt" <<V
kernel $KERNEL: $release
  linux-image-powerpc64le $meta
  $img $meta
  $hdr $meta
  $common $meta
  $kbuild:amd64 $kbver
  busybox-static $bbver
V
echo "fetch: kernel $KERNEL ready ($release)" >&2
