#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-qemu.sh: make build/qemu-ppc64el a tree holding Debian's own
# qemu-system-ppc64 for ppc64el, to run inside the emulated POWER host
# (the lab's L1) as the VMM of a pseries guest (L2). Nothing is built:
# the binary is bookworm's qemu-system-ppc, unpacked with dpkg -x.
#
# The package's dependency closure is resolved by apt's own resolver in
# the private configuration (scripts/lib/papt.sh), as if installing on an
# empty ppc64el system, and downloaded once into the download cache; a
# second run downloads nothing. The tree keeps only what the binary loads
# (its ELF DT_NEEDED closure, found with the cross readelf) and the
# pseries firmware (SLOF, VOF), so the L1 initramfs stays small.
#
# Result, under build/qemu-ppc64el/:
#   root/          usr/bin/qemu-system-ppc64, its libraries, usr/share/qemu
#   versions.txt   the exact package versions
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
OUT=$BUILD/qemu-ppc64el
DEBS=$CACHE/qemu-debs
. "$TOP/scripts/lib/papt.sh"
. "$TOP/scripts/lib/elf-closure.sh"

# Firmware the pseries machine loads: SLOF by default, VOF with x-vof=on.
FIRMWARE="slof.bin vof.bin"

if [[ -s $OUT/versions.txt && -x $OUT/root/usr/bin/qemu-system-ppc64 ]]; then
	exit 0
fi

cache_lock
papt_init
papt_update

# bookworm's own version, never the backports one.
ver=$(papt_version qemu-system-ppc 'deb12u|^1:7\.2')
[[ -n $ver ]] || { echo "fetch-qemu: no qemu-system-ppc:ppc64el in bookworm" >&2; exit 1; }

echo "fetch-qemu: qemu-system-ppc:ppc64el=$ver and its dependencies" >&2
papt_closure "$DEBS" "qemu-system-ppc:ppc64el=$ver"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
papt_unpack "$DEBS" "$stage"

rm -rf "$OUT"
mkdir -p "$OUT/root/usr/bin" "$OUT/root/usr/share/qemu"

# The binary, every library it needs and its loader.
cp -a "$stage/usr/bin/qemu-system-ppc64" "$OUT/root/usr/bin/"
elf_closure "$stage" "$OUT/root" usr/bin/qemu-system-ppc64

for fw in $FIRMWARE; do
	cp -L "$stage/usr/share/qemu/$fw" "$OUT/root/usr/share/qemu/"
done

{
	echo "qemu-system-ppc:ppc64el $ver (bookworm), closure from apt:"
	papt_list "$DEBS"
} >"$OUT/versions.txt"
echo "fetch-qemu: $(du -sh "$OUT/root" | cut -f1) in $OUT/root" >&2
