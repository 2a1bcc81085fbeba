#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the host (x86_64 Debian 12) packages the build, the lab and the
# checks need. Idempotent; prints nothing when everything is present.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

# command-or-file  package
needs=(
	"powerpc64le-linux-gnu-gcc gcc-powerpc64le-linux-gnu"
	# The host unit tests are native x86 programs (cc, ASan, UBSan);
	# libc6-dev is only a Recommends of gcc, which --no-install-recommends skips.
	"cc gcc"
	"/usr/include/stdio.h libc6-dev"
	"qemu-system-ppc64 qemu-system-ppc"
	"/usr/share/qemu/skiboot.lid qemu-system-data"
	"/usr/src/linux-kbuild-6.1/scripts/basic/fixdep linux-kbuild-6.1"
	"sparse sparse"
	"cpio cpio"
	"bc bc"
	"flex flex"
	"bison bison"
	"pahole pahole"
	"perl perl"
	"python3 python3"
	"xz xz-utils"
	# The debug kernel's build (build-debug-kernel.sh): bc, flex, bison,
	# perl, libelf-dev (objtool), libssl-dev (sign-file, extract-cert) are
	# above or below; openssl makes kbuild's module-signing key.
	"openssl openssl"
	"zstd zstd"
	"depmod kmod"
	"gnuplot gnuplot-nox"
	"/usr/powerpc64le-linux-gnu/include/bits/wordsize.h libc6-dev-ppc64el-cross"
	"pkill procps"
	"flock util-linux"
	"dpkg-deb dpkg"
	"git git"
	"make make"
	# The kernel's kselftest lib.mk installs with rsync.
	"rsync rsync"
	"/usr/share/keyrings/debian-archive-keyring.gpg debian-archive-keyring"
	# The trixie build root the 7.x kernels' modules are built in
	# (scripts/lib/buildroot.sh; make check builds for them).
	"debootstrap debootstrap"
)

missing=()
for n in "${needs[@]}"; do
	what=${n% *}
	pkg=${n#* }
	if [[ $what == /* ]]; then
		[[ -e $what ]] && continue
	else
		command -v "$what" >/dev/null 2>&1 && continue
	fi
	missing+=("$pkg")
done

# Headers some kbuild host programs (objtool-free here, but sign-file and
# the modpost of newer kbuilds) link against.
for pkg in libelf-dev libssl-dev; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$pkg")
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "provision: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
