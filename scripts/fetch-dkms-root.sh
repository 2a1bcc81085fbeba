#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-dkms-root.sh: the disk of a Debian 12 ppc64el userland for the
# DKMS test (tools/testing/selftests/spapr_tce/dkms/): Priority required
# (what debootstrap's minbase takes), dkms, gcc, make and kmod, resolved
# by apt in the private configuration (scripts/lib/papt.sh) with their
# dependencies. It is installed by dpkg inside the emulated POWER9 host
# (scripts/lab/bin/dkms-root prepare), so its dpkg database is a real
# one; each kernel's linux-headers closure (what it adds to that
# userland) waits in /root/debs/<release>/, for the test to install as a
# user would.
#
# The prepared image is kept in the download cache, named by what is in
# it (the package files and the scripts that make it): made once per
# host, and again only when a package or a script changes.
#
#   scripts/fetch-dkms-root.sh   prints the image's path; build/dkms/
#                                versions.txt lists its packages
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KERNELS=${KERNELS:-6.1 6.12}
. "$TOP/scripts/lib/cache.sh"
. "$TOP/scripts/lib/papt.sh"
POOL=$CACHE/dkms-debs
IMAGES=$CACHE/dkms-root
OUT=$BUILD/dkms

cache_lock
papt_init
papt_update

# apt's answer for an empty system: "name version" of every package it
# would install, Essential packages included only when asked for.
resolve() {
	apt-get "${PAPT_OPTS[@]}" -o pkgCacheGen::Essential=none \
		-o APT::Install-Recommends=false -s -qq install "$@" |
		sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p' | sort -u
}
# deb_file NAME VERSION: its file in the pool.
deb_file() {
	compgen -G "$POOL/${1%%:*}_${2//:/%3a}_*.deb" | head -1
}

# What debootstrap's minbase installs: every package of priority
# required (apt's own Essential handling is off in the private state).
required=$(papt dumpavail | awk -v RS= '/\nPriority: required/ &&
	/\nArchitecture: (ppc64el|all)/ { sub(/^Package: /, ""); sub(/\n.*/, ""); print }' | sort -u)
# shellcheck disable=SC2086 # one package a word
base_list=$(resolve $required dkms gcc make kmod)
# shellcheck disable=SC2086
papt_closure "$POOL" $required dkms gcc make kmod

declare -A extra=()
for k in $KERNELS; do
	rel=$(cat "$BUILD/kernels/$k/release")
	ver=$(awk -v p="linux-headers-$rel" '$1 == p { print $2 }' "$BUILD/kernels/$k/versions.txt")
	[[ -n $ver ]] || { echo "fetch-dkms-root: no headers version for $k" >&2; exit 1; }
	# shellcheck disable=SC2086
	papt_closure "$POOL" $required dkms gcc make kmod "linux-headers-$rel=$ver"
	# shellcheck disable=SC2086
	extra[$rel]=$(comm -13 <(echo "$base_list") <(resolve $required dkms gcc make kmod "linux-headers-$rel=$ver"))
done

files() {	# files < "name version" lines: their pool files
	local n v f
	while read -r n v; do
		f=$(deb_file "$n" "$v")
		[[ -n $f ]] || { echo "fetch-dkms-root: $n $v not downloaded" >&2; return 1; }
		echo "$f"
	done
}
base_files=$(files <<<"$base_list")
key=$({
	for rel in "${!extra[@]}"; do echo "$rel"; files <<<"${extra[$rel]}"; done | sort
	echo "$base_files"
	cat "$0" "$TOP/scripts/lab/bin/dkms-root"
} | sed "s|$POOL/||" | sha256sum | cut -c1-16)
img=$IMAGES/debian12-ppc64el-$key.img

mkdir -p "$OUT"
{
	echo "dkms root $img: Debian 12 ppc64el, closure from apt:"
	sed 's/^/  /' <<<"$base_list"
	for rel in "${!extra[@]}"; do
		echo "headers for $rel add:"
		sed 's/^/  /' <<<"${extra[$rel]}"
	done
} >"$OUT/versions.txt"
if [[ -s $img ]]; then
	echo "$img"
	exit 0
fi
# Everything is downloaded: the long part below needs no lock (a second
# preparer would only make its own temporary image).
exec {CACHE_LOCK_FD}>&-

# The files first, as debootstrap's first stage does: unpacked into a
# merged-/usr tree (bookworm's usrmerge would convert it otherwise),
# with the accounts of base-passwd. dpkg itself installs them again
# inside the emulated host, which makes its database.
stage=$BUILD/dkms/stage
rm -rf "$stage"
mkdir -p "$stage"/usr/{bin,sbin,lib,lib64} "$stage/root/debs/base"
for d in bin sbin lib lib64; do
	ln -s "usr/$d" "$stage/$d"
done
echo "fetch-dkms-root: unpacking $(wc -l <<<"$base_files") packages" >&2
while read -r f; do
	dpkg-deb --fsys-tarfile "$f" | tar -xf - -C "$stage" --keep-directory-symlink
	cp "$f" "$stage/root/debs/base/"
done <<<"$base_files"
cp "$stage/usr/share/base-passwd/passwd.master" "$stage/etc/passwd"
cp "$stage/usr/share/base-passwd/group.master" "$stage/etc/group"
echo spapr-dkms >"$stage/etc/hostname"
mkdir -p "$stage/var/lib/dpkg"/{info,updates,triggers,alternatives}
touch "$stage/var/lib/dpkg/status" "$stage/var/lib/dpkg/available"
for rel in "${!extra[@]}"; do
	mkdir -p "$stage/root/debs/$rel"
	# shellcheck disable=SC2046 # one file a word
	cp $(files <<<"${extra[$rel]}") "$stage/root/debs/$rel/"
done

# Room for the headers and two native builds.
size=$(( $(du -sm "$stage" | cut -f1) * 2 + 1536 ))
tmp=$img.tmp.$$
mkdir -p "$IMAGES"
trap 'rm -f "$tmp"' EXIT
mkfs.ext4 -q -F -L spapr-dkms -d "$stage" "$tmp" "${size}M"
rm -rf "$stage"

echo "fetch-dkms-root: installing the packages with dpkg in the emulated host (once)" >&2
start=$(date +%s)
"$TOP/scripts/vm" --machine powernv9 --kernel "${KERNELS%% *}" --timeout 3600 \
	--log "$OUT/prepare.log" \
	--qemu -drive --qemu "file=$tmp,format=raw,if=none,id=dkmsroot" \
	--qemu -device --qemu "virtio-blk-pci,drive=dkmsroot,bus=pcie.5,serial=spapr-dkms" \
	-- dkms-root prepare >/dev/null 2>&1 ||
	{ echo "fetch-dkms-root: preparing failed, log: $OUT/prepare.log" >&2; exit 1; }
echo "fetch-dkms-root: prepared in $(( $(date +%s) - start ))s" >&2
mv "$tmp" "$img"
echo "$img"
