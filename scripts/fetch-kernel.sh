#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh KERNEL: make build/kernels/KERNEL a usable target kernel.
#
# KERNEL is 6.1 (Debian 12's kernel) or 6.12 (Debian's 6.12 built for
# Debian 12, from bookworm-backports). Both are resolved through the
# linux-image-powerpc64le / linux-headers-powerpc64le meta packages.
# 6.12-debug is the latter rebuilt with the kernel's debugging options
# (scripts/build-debug-kernel.sh).
# 7 and 7-64k are the newest 7.x kernel Debian 13 (trixie-backports)
# serves for ppc64el, 4K and 64K pages: the newest version of the meta
# package linux-image-powerpc64le(-64k), or, when the archive does not
# serve its files, the newest linux-image-7.*-FLAVOUR that downloads
# (printed). Their kbuild runs only on Debian 13, so the modules for them
# are built in the trixie build root (scripts/lib/buildroot.sh), which
# this makes too.
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

KERNEL=${1:?usage: fetch-kernel.sh 6.1|6.12|6.12-debug|7|7-64k}
TOP=$(cd "$(dirname "$0")/.." && pwd)
# The debug kernel is built, not fetched (Documentation/debug-kernel.rst).
[[ $KERNEL != 6.12-debug ]] || exec bash "$TOP/scripts/build-debug-kernel.sh"
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
OUT=$BUILD/kernels/$KERNEL
. "$TOP/scripts/lib/papt.sh"
. "$TOP/scripts/lib/buildroot.sh"

flavour=powerpc64le
dist=bookworm
case $KERNEL in
6.1)	suite='^6\.1\.' ;;
6.12)	suite='^6\.12\..*bpo12' ;;
7)	suite='^7\..*bpo13'; dist=trixie ;;
7-64k)	suite='^7\..*bpo13'; dist=trixie; flavour=powerpc64le-64k ;;
*)	echo "fetch: unknown kernel '$KERNEL' (want 6.1, 6.12, 7 or 7-64k)" >&2; exit 2 ;;
esac

# The build root that builds modules for a trixie kernel.
buildroot() {
	[[ $dist == bookworm ]] || bash "$TOP/scripts/fetch-buildroot.sh" >/dev/null
}

if [[ -s $OUT/versions.txt && -e $OUT/vmlinux && -d $OUT/kdir/ ]]; then
	buildroot
	exit 0
fi

cache_lock
papt_init
papt_update
bbver=$(papt_version busybox-static)
[[ $dist == bookworm ]] || { papt_init "$dist"; papt_update; }

meta=$(papt_version "linux-image-$flavour" "$suite")
[[ -n $meta ]] || { echo "fetch: no linux-image-$flavour for $KERNEL" >&2; exit 1; }

# fetch_set IMG VERSION: resolve the headers, common headers and kbuild of
# the image package IMG=VERSION and download all four; fails when the
# archive lists a file it does not serve.
fetch_set() {
	img=$1 ver=$2
	hdr=linux-headers-${img#linux-image-}
	common=$(papt_depends "$hdr" "$ver" '^linux-headers-.*-common')
	kbuild=$(papt_depends "$hdr" "$ver" '^linux-kbuild-')
	for v in common kbuild; do
		[[ -n ${!v} ]] || { echo "fetch: could not resolve $v of $hdr=$ver" >&2; return 1; }
	done
	kbver=$(papt_version "$kbuild" "^${ver%%-*}")
	# From 7.x (Debian 13's packaging) the image package is a shell whose
	# vmlinux and modules come in linux-binary-* and linux-modules-*.
	parts=()
	local pat part
	for pat in '^linux-binary-' '^linux-modules-'; do
		# Debian 12's image packages have no such parts.
		part=$(papt_depends "$img" "$ver" "$pat") || true
		[[ -z $part ]] || parts+=("$part")
	done
	papt_download "$CACHE/debs" "$img=$ver" "$hdr=$ver" "$common=$ver" \
		${parts[@]/%/=$ver} "$kbuild:amd64=$kbver"
}

img=$(papt_depends "linux-image-$flavour" "$meta" '^linux-image-')
[[ -n $img ]] || { echo "fetch: could not resolve the image of linux-image-$flavour=$meta" >&2; exit 1; }
ver=$meta
note=
if [[ $dist != bookworm ]] && ! (fetch_set "$img" "$ver"); then
	# The index can list a version before the archive serves its
	# files: take the newest one that downloads.
	echo "fetch: linux-image-$flavour $meta names $img, which the archive does not serve; trying older 7.x" >&2
	ok=
	while read -r cand; do
		[[ $cand == "$img" ]] && continue
		cver=$(papt_version "$cand" "$suite")
		[[ -n $cver ]] || continue
		if (fetch_set "$cand" "$cver"); then
			img=$cand ver=$cver ok=1
			break
		fi
	done < <(papt pkgnames "linux-image-7." | grep -E "^linux-image-7\.[0-9.]+\+deb13-$flavour\$" |
		sed 's/^linux-image-//' | sort -rV | sed 's/^/linux-image-/')
	[[ -n $ok ]] || { echo "fetch: no 7.x $flavour kernel is served" >&2; exit 1; }
	note=" (not served; fell back to the newest served, $ver)"
	echo "fetch: falling back to $img $ver: linux-image-$flavour $meta is not served" >&2
fi
fetch_set "$img" "$ver"
[[ $dist == bookworm ]] || papt_init
papt_download "$CACHE/debs" "busybox-static=$bbver"
meta="$meta$note"

rm -rf "$OUT"
mkdir -p "$OUT/root"
for p in "$img" ${parts[@]+"${parts[@]}"} "$hdr" "$common" "$kbuild"; do
	dpkg -x "$(compgen -G "$CACHE/debs/${p}_*.deb" | head -1)" "$OUT/root"
done
# Debian 13's packages install into /usr/lib (merged /usr): give the tree
# the /lib view the rest of the lab (and depmod -b) expects.
[[ -e $OUT/root/lib || ! -d $OUT/root/usr/lib/modules ]] || ln -s usr/lib "$OUT/root/lib"
cache_busybox "$(compgen -G "$CACHE/debs/busybox-static_*.deb" | head -1)"

release=${img#linux-image-}
# The packages ship no modules.dep: depmod makes it at install time.
depmod -b "$OUT/root" "$release"
kdir=$OUT/root/usr/src/linux-headers-$release
# The flavour Makefile includes the common tree by absolute path (and from
# 7.x names itself as the output directory, absolute too).
sed -i -e "s|^include /usr/src/|include $OUT/root/usr/src/|" \
	-e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$OUT/root/usr/src/|" "$kdir/Makefile"
ln -sfn "$kdir" "$OUT/kdir"
# 7.x's Makefile asks scripts/checker-valid.sh whether sparse works before
# C=1/2 runs it, and Debian 13's kbuild package lacks the script (make
# then warns and runs no checker). This one answers the same question
# in our own words: does the checker, with the kernel's flags, parse
# __typeof_unqual__ (which 7.x's headers use) without an error? Debian's
# sparse 0.6.4 does not; see the Makefile for what we do about it.
if [[ $dist == trixie ]] && grep -qs 'checker-valid.sh' "$OUT"/root/usr/src/*-common/Makefile; then
	if [[ ! -e $kdir/scripts/checker-valid.sh ]]; then
		cat >"$kdir/scripts/checker-valid.sh" <<'CV'
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Written by spapr-tce's fetch-kernel.sh: the kbuild package lacks it.
f=$(mktemp --suffix=.c) || exit 0
echo 'int checker_valid; __typeof_unqual__(checker_valid) checker_valid2;' >"$f"
out=$("$@" "$f" 2>&1) && ! printf '%s\n' "$out" | grep -q 'error:' && echo 1
rm -f "$f"
CV
		chmod 755 "$kdir/scripts/checker-valid.sh"
	fi
fi
# Debian 12 ships /boot/vmlinux-R; Debian 13 the same ELF image as
# /usr/lib/modules/R/vmlinuz (in linux-binary-R).
vmlinux=$OUT/root/boot/vmlinux-$release
[[ -e $vmlinux ]] || vmlinux=$OUT/root/lib/modules/$release/vmlinuz
ln -sfn "$vmlinux" "$OUT/vmlinux"
ln -sfn "$OUT/root/lib/modules/$release" "$OUT/modules"
echo "$release" >"$OUT/release"
parts_lines=
for p in ${parts[@]+"${parts[@]}"}; do
	parts_lines+="  $p $ver"$'\n'
done
cat >"$OUT/versions.txt" <<V
kernel $KERNEL: $release
  linux-image-$flavour $meta
  $img $ver
$parts_lines  $hdr $ver
  $common $ver
  $kbuild:amd64 $kbver
  busybox-static $bbver
V
buildroot
if [[ $dist == trixie ]]; then
	echo "  built in the trixie build root:" \
		"$(grep -E '^gcc-powerpc64le-linux-gnu ' "$BUILDROOT/.spapr-tce-packages")" >>"$OUT/versions.txt"
fi
echo "fetch: kernel $KERNEL ready ($release)" >&2
