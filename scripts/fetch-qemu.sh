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

# The closure, by apt: an empty status file is an empty system; no
# Essential packages and no Recommends, only what Depends pulls in.
resolve=(apt-get "${PAPT_OPTS[@]}" -o pkgCacheGen::Essential=none
	-o APT::Install-Recommends=false -o "Dir::Cache::archives=$DEBS")
mkdir -p "$DEBS/partial"
if ! "${resolve[@]}" -s -qq install "qemu-system-ppc:ppc64el=$ver" >/dev/null; then
	echo "fetch-qemu: apt cannot resolve qemu-system-ppc:ppc64el=$ver" >&2
	exit 1
fi
echo "fetch-qemu: qemu-system-ppc:ppc64el=$ver and its dependencies" >&2
"${resolve[@]}" -qq --download-only install "qemu-system-ppc:ppc64el=$ver" >&2

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for deb in "$DEBS"/*.deb; do
	dpkg -x "$deb" "$stage"
done

rm -rf "$OUT"
mkdir -p "$OUT/root/usr/bin" "$OUT/root/usr/share/qemu"

# libdir NAME: where the unpacked tree has the library NAME.
libpath() {
	local d
	for d in lib/powerpc64le-linux-gnu usr/lib/powerpc64le-linux-gnu lib64 usr/lib; do
		[[ -e $stage/$d/$1 ]] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# Copy the binary and, breadth first, every library it needs.
cp -a "$stage/usr/bin/qemu-system-ppc64" "$OUT/root/usr/bin/"
queue=(usr/bin/qemu-system-ppc64)
declare -A done_=()
while [[ ${#queue[@]} -gt 0 ]]; do
	f=${queue[0]}
	queue=("${queue[@]:1}")
	for need in $(powerpc64le-linux-gnu-readelf -d "$stage/$f" |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[[ -n ${done_[$need]:-} ]] && continue
		done_[$need]=1
		p=$(libpath "$need") ||
			{ echo "fetch-qemu: $need (needed by $f) is not in the closure" >&2; exit 1; }
		mkdir -p "$OUT/root/$(dirname "$p")"
		# Keep the soname link and the file it points to.
		cp -a "$stage/$p" "$OUT/root/$p"
		if [[ -L $stage/$p ]]; then
			t=$(dirname "$p")/$(readlink "$stage/$p")
			cp -a "$stage/$t" "$OUT/root/$t"
		fi
		queue+=("$p")
	done
done
# The dynamic loader, by the path the binary asks for.
interp=$(powerpc64le-linux-gnu-readelf -l "$stage/usr/bin/qemu-system-ppc64" |
	sed -n 's/.*interpreter: \(.*\)\]/\1/p')
mkdir -p "$OUT/root/$(dirname "$interp")"
cp -a "$stage/$interp" "$OUT/root/$interp"
# libc6 makes it an absolute link into the multiarch directory.
if [[ -L $stage/$interp ]]; then
	t=$(readlink "$stage/$interp")
	[[ $t == /* ]] || t=$(dirname "$interp")/$t
	mkdir -p "$OUT/root/$(dirname "$t")"
	cp -a "$stage/$t" "$OUT/root/$t"
fi

for fw in $FIRMWARE; do
	cp -L "$stage/usr/share/qemu/$fw" "$OUT/root/usr/share/qemu/"
done

{
	echo "qemu-system-ppc:ppc64el $ver (bookworm), closure from apt:"
	for deb in "$DEBS"/*.deb; do
		# shellcheck disable=SC2016 # dpkg-deb's own ${field} syntax
		dpkg-deb --showformat='  ${Package}:${Architecture} ${Version}\n' -W "$deb"
	done
} >"$OUT/versions.txt"
echo "fetch-qemu: $(du -sh "$OUT/root" | cut -f1) in $OUT/root" >&2
