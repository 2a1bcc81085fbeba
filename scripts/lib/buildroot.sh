# SPDX-License-Identifier: GPL-2.0
#
# The trixie build root: a Debian 13 (amd64) tree, made once per host
# with debootstrap in the download cache (scripts/lib/cache.sh), that
# holds the toolchain Debian built its 7.x ppc64el kernels with
# (gcc-powerpc64le-linux-gnu 14) and the libraries their amd64 kbuild
# needs (glibc >= 2.38, libelf1t64, libssl3t64), which Debian 12 lacks.
# The kbuild itself comes with each kernel (scripts/fetch-kernel.sh).
#
# Packages come from the host's own archive (papt_init trixie reads it
# from the host's apt configuration); no archive is named in the tree.
#
# buildroot_ensure       make the root unless it is there and complete
# buildroot_run CMD...   run CMD in the root (chroot, private mount
#                        namespace) with TOP and BUILD at their own paths

BUILDROOT=${BUILDROOT:-$CACHE/buildroot/trixie-amd64}
# What a module build for 7.x needs; bump BUILDROOT_REV when it changes,
# and the root is made anew.
BUILDROOT_PKGS=gcc-powerpc64le-linux-gnu,make,bc,flex,bison,libelf-dev,libssl-dev,sparse,kmod,pahole,xz-utils,zstd
BUILDROOT_REV=1

buildroot_ensure() {
	local stamp=$BUILDROOT/.spapr-tce-ready t0 tmp
	[[ -f $stamp && $(cat "$stamp") == "$BUILDROOT_REV $BUILDROOT_PKGS" ]] && return 0
	# A lock of its own: making the root takes minutes, and kernel
	# fetches (cache_lock) need not wait for it.
	mkdir -p "$CACHE/buildroot"
	exec {BUILDROOT_LOCK_FD}>"$CACHE/buildroot/.lock"
	flock "$BUILDROOT_LOCK_FD"
	[[ -f $stamp && $(cat "$stamp") == "$BUILDROOT_REV $BUILDROOT_PKGS" ]] && return 0
	papt_init trixie
	t0=$(date +%s)
	tmp=$BUILDROOT.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp" "$CACHE/buildroot/debs"
	echo "buildroot: debootstrap trixie into $BUILDROOT (a few minutes, once per host)" >&2
	if ! debootstrap --variant=minbase --arch=amd64 \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		--cache-dir="$CACHE/buildroot/debs" \
		--include="$BUILDROOT_PKGS" trixie "$tmp" "$PAPT_MAIN" \
		>"$CACHE/buildroot/debootstrap.log" 2>&1; then
		tail -20 "$CACHE/buildroot/debootstrap.log" >&2
		echo "buildroot: debootstrap failed (log: $CACHE/buildroot/debootstrap.log)" >&2
		return 1
	fi
	# Nothing runs apt in the root; its sources say where it came from.
	echo "deb $PAPT_MAIN trixie main" >"$tmp/etc/apt/sources.list"
	rm -rf "$tmp/var/cache/apt/archives/"*.deb
	rm -rf "$BUILDROOT"
	mv "$tmp" "$BUILDROOT"
	chroot "$BUILDROOT" dpkg-query -W -f '${Package} ${Version}\n' \
		>"$BUILDROOT/.spapr-tce-packages"
	echo "$BUILDROOT_REV $BUILDROOT_PKGS" >"$stamp"
	echo "buildroot: made in $(( $(date +%s) - t0 ))s" >&2
}

# buildroot_run CMD...: in a private mount namespace, bind the work tree
# and the build directory at the same paths inside the root (the kernel
# trees hold absolute paths), then chroot and run CMD from the current
# directory. Nothing is mounted outside the namespace.
buildroot_run() {
	local binds=("$TOP") d
	[[ $BUILD == "$TOP"/* ]] || binds+=("$BUILD")
	for d in "${binds[@]}"; do
		mkdir -p "$BUILDROOT$d"
	done
	unshare -m --propagation private -- bash -c '
		set -e
		root=$1 cwd=$2
		shift 2
		mount --rbind /dev "$root/dev"
		mount -t proc proc "$root/proc"
		while [[ $1 != -- ]]; do
			mount --bind "$1" "$root$1"
			shift
		done
		shift
		exec chroot "$root" /usr/bin/env -C "$cwd" \
			PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"
	' buildroot "$BUILDROOT" "$PWD" "${binds[@]}" -- "$@"
}
