#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kmod.sh: make build/kmod-ppc64el a small tree holding Debian's own
# kmod (modprobe, depmod, ...) for ppc64el with the libraries it loads, so
# that the lab can test what a POWER host's modprobe does with our install
# (the lab's busybox modprobe knows neither softdep nor install lines).
# The closure is resolved by apt in the private configuration and cached
# like the QEMU one (scripts/fetch-qemu.sh).
#
# Result, under build/kmod-ppc64el/:
#   root/          bin/kmod, its libraries and loader (absolute paths, as
#                  the binary wants them: add root/lib and root/lib64 at /)
#   versions.txt   the exact package versions
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
OUT=$BUILD/kmod-ppc64el
DEBS=$CACHE/kmod-debs
. "$TOP/scripts/lib/papt.sh"
. "$TOP/scripts/lib/elf-closure.sh"

if [[ -s $OUT/versions.txt && -e $OUT/root/bin/kmod ]]; then
	exit 0
fi

cache_lock
papt_init
papt_update

ver=$(papt_version kmod)
[[ -n $ver ]] || { echo "fetch-kmod: no kmod:ppc64el" >&2; exit 1; }
echo "fetch-kmod: kmod:ppc64el=$ver and its dependencies" >&2
papt_closure "$DEBS" "kmod:ppc64el=$ver"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
papt_unpack "$DEBS" "$stage"

rm -rf "$OUT"
mkdir -p "$OUT/root/bin"
cp -a "$stage/bin/kmod" "$OUT/root/bin/"
elf_closure "$stage" "$OUT/root" bin/kmod
{
	echo "kmod:ppc64el $ver, closure from apt:"
	papt_list "$DEBS"
} >"$OUT/versions.txt"
echo "fetch-kmod: $(du -sh "$OUT/root" | cut -f1) in $OUT/root" >&2
