#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-debug-kernel.sh: make build/kernels/6.12-debug, Debian's 6.12 (the
# same upstream and package version as the lab's stock 6.12) rebuilt with
# the kernel's bug detectors: KASAN, lockdep, kmemleak, debug objects,
# fault injection. See Documentation/debug-kernel.rst.
#
# The source is Debian's linux-source-6.12 of the stock image's version,
# the config Debian's own (the stock image's /boot/config-*), trimmed to
# the modules the lab loads (localmodconfig) and without debug info, plus
# the fragment below; every option the fragment asks for is checked after
# olddefconfig. The result is kept host-wide, outside the clone, in
# $CACHE/debug-kernel/<version>-<config hash>/ (vmlinux, root/lib/modules,
# kdir), so a fresh clone (CI's) reuses it; build/kernels/6.12-debug gets
# the stock kernels' layout (vmlinux, kdir, modules, release,
# versions.txt).
#
# The build (about an hour on 2 cores) takes a lock of its own, so that
# two clones do not build it twice, and the download cache's lock only to
# download and to publish the result. JOBS sets make's -j (default 2).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
. "$TOP/scripts/lib/papt.sh"
KERNEL=6.12-debug
BASE=6.12
OUT=$BUILD/kernels/$KERNEL
JOBS=${JOBS:-2}
CROSS=powerpc64le-linux-gnu-
KMAKE=(make ARCH=powerpc "CROSS_COMPILE=$CROSS" -s)

# Made already, by this very script (a changed fragment makes it anew).
SELF_HASH=$(sha256sum "$0" | cut -c1-12)
if [[ -s $OUT/versions.txt && -e $OUT/vmlinux && -d $OUT/kdir/ &&
	$(cat "$OUT/script-hash" 2>/dev/null) == "$SELF_HASH" ]]; then
	exit 0
fi

bash "$TOP/scripts/fetch-kernel.sh" "$BASE"
stock=$BUILD/kernels/$BASE
srel=$(cat "$stock/release")
# The package version of the stock image (its versions.txt's third line).
ver=$(awk -v img="linux-image-$srel" '$1 == img { print $2 }' "$stock/versions.txt")
[[ -n $ver ]] || { echo "debug-kernel: no image version in $stock/versions.txt" >&2; exit 1; }

# The stock modules the lab loads (scripts/lab/mkinitramfs.sh's WANTED,
# the tests' modprobes) and what they depend on: localmodconfig keeps
# these modules and drops the others (built-in code stays).
LAB_MODULES="kvm-hv vfio-pci vfio_iommu_spapr_tce virtio_blk virtio_pci virtio_net nvme"

# The debug fragment: NAME=VALUE, checked one by one after olddefconfig.
# LIVEPATCH: Debian's kernels leave it off, other distributions' ppc64le
# kernels (RHEL, SLES) turn it on, and it changes ftrace's exit path
# (livepatch_handler), which kvm_tce's hook goes through when it answers
# an hcall; the stock lanes test the other exit path.
FRAGMENT="
KASAN=y KASAN_GENERIC=y KASAN_OUTLINE=y
PROVE_LOCKING=y PROVE_RCU=y RCU_EXPERT=y PROVE_RCU_LIST=y DEBUG_LOCK_ALLOC=y
DEBUG_ATOMIC_SLEEP=y DEBUG_IRQFLAGS=y
LOCKDEP_BITS=16 LOCKDEP_CHAINS_BITS=17 LOCKDEP_STACK_TRACE_BITS=20
DEBUG_OBJECTS=y DEBUG_OBJECTS_FREE=y DEBUG_OBJECTS_TIMERS=y
DEBUG_OBJECTS_WORK=y DEBUG_OBJECTS_RCU_HEAD=y
DEBUG_VM=y DEBUG_LIST=y DEBUG_SG=y DEBUG_NOTIFIERS=y
DEBUG_KMEMLEAK=y DEBUG_KMEMLEAK_DEFAULT_OFF=n DEBUG_KMEMLEAK_AUTO_SCAN=n
DEBUG_KMEMLEAK_MEM_POOL_SIZE=40000
FAULT_INJECTION=y FAILSLAB=y FAIL_PAGE_ALLOC=y FAULT_INJECTION_DEBUG_FS=y
FAULT_INJECTION_STACKTRACE_FILTER=y
DEBUG_FS=y
LIVEPATCH=y
DEBUG_INFO_NONE=y DEBUG_INFO_BTF=n
MODULE_SIG_ALL=n MODULE_COMPRESS=n
"

# kconfig_frag: apply $FRAGMENT to .config with scripts/config.
kconfig_frag() {
	local kv name val
	for kv in $FRAGMENT; do
		name=${kv%%=*} val=${kv#*=}
		case $val in
		y)	scripts/config --file .config -e "$name" ;;
		n)	scripts/config --file .config -d "$name" ;;
		*)	scripts/config --file .config --set-val "$name" "$val" ;;
		esac
	done
	# Debian's signing keys are not in the source package; the lockdown
	# LSM selects MODULE_SIG (kbuild makes a key of its own), but nothing
	# is signed at install (ours load unsigned, as on the stock kernels).
	scripts/config --file .config --set-str SYSTEM_TRUSTED_KEYS "" \
		--set-str SYSTEM_REVOCATION_KEYS "" --set-str LOCALVERSION "+deb12-debug" \
		-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO_DWARF4 -d DEBUG_INFO_DWARF5
}

# kconfig_check: every fragment option has its value after olddefconfig.
kconfig_check() {
	local kv name val bad=0
	for kv in $FRAGMENT; do
		name=${kv%%=*} val=${kv#*=}
		if [[ $val == n ]]; then
			grep -qx "CONFIG_$name=[ym]" .config || continue
		else
			grep -qx "CONFIG_$name=$val" .config && continue
		fi
		echo "debug-kernel: CONFIG_$name is not $val after olddefconfig:" \
			"$(grep -E "CONFIG_$name[= ]" .config || echo unset)" >&2
		bad=1
	done
	return $bad
}

DK=$CACHE/debug-kernel
mkdir -p "$DK"
exec {BUILD_LOCK_FD}>"$DK/.build-lock"
flock "$BUILD_LOCK_FD"

# The source, downloaded under the cache's lock (apt renames a download
# into place when it is complete: a present file needs no lock), unpacked
# once per version.
debs() { compgen -G "$CACHE/debs/linux-source-${BASE}_${ver//:/%3a}_*.deb" | head -1; }
if [[ -z $(debs) ]]; then
	cache_lock
	papt_init
	papt_update
	papt_download "$CACHE/debs" "linux-source-$BASE=$ver"
	exec {CACHE_LOCK_FD}>&-
fi
src=$DK/src-$ver
if [[ ! -e $src/.unpacked ]]; then
	rm -rf "$src"
	mkdir -p "$src.tmp"
	dpkg-deb --fsys-tarfile "$(debs)" | tar -xO "./usr/src/linux-source-$BASE.tar.xz" |
		tar -xJ -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
	touch "$src/.unpacked"
fi

cd "$src"
# The config: Debian's, trimmed, plus the fragment.
lsmod=$(mktemp)
trap 'rm -f "$lsmod"' EXIT
echo "Module Size Used by" >"$lsmod"
mods=$stock/modules
for name in $LAB_MODULES; do
	rel=$(grep -E "(^|/)${name}\.ko(\.xz|\.zst)?:" "$mods/modules.dep" | head -1 || true)
	[[ -n $rel ]] || continue
	for m in ${rel/:/ }; do
		m=${m##*/}
		m=${m%%.ko*}
		echo "${m//-/_} 0 0"
	done
done | sort -u >>"$lsmod"
cp "$stock/root/boot/config-$srel" .config
kconfig_frag
"${KMAKE[@]}" olddefconfig
"${KMAKE[@]}" LSMOD="$lsmod" localmodconfig </dev/null >"$DK/localmodconfig.log" 2>&1
kconfig_frag
"${KMAKE[@]}" olddefconfig
kconfig_check
hash=$(grep -v '^#' .config | grep . | sha256sum | cut -c1-12)
dest=$DK/$ver-$hash

if [[ ! -e $dest/.complete ]]; then
	log=$DK/build-$ver-$hash.log
	echo "debug-kernel: building $ver with config $hash, -j$JOBS (log: $log)" >&2
	t0=$(date +%s)
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	# A tree built before (another config) rebuilds only what changed:
	# that time is no first build's.
	how="built"
	[[ -e vmlinux ]] && how="rebuilt incrementally (not a first build)"
	"${KMAKE[@]}" -j"$JOBS" vmlinux modules >"$log" 2>&1 ||
		{ tail -30 "$log" >&2; echo "debug-kernel: build failed, see $log" >&2; exit 1; }
	t1=$(date +%s)
	stage=$DK/.stage-$ver-$hash
	rm -rf "$stage"
	mkdir -p "$stage/root" "$stage/kdir"
	"${KMAKE[@]}" INSTALL_MOD_PATH="$stage/root" modules_install >>"$log" 2>&1
	cp vmlinux "$stage/vmlinux"
	cp System.map .config "$stage/"
	# What out-of-tree modules build against (M=): the kbuild files, the
	# headers, the host tools built here, the config and the symbol
	# versions; no object file but crtsavres.o, which modules link where
	# the linker cannot provide the save/restore functions (not BFD).
	tar -c --exclude='*.o' --exclude='*.a' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.c' --exclude='*.rst' --exclude=./Documentation \
		--exclude=./vmlinux --exclude='./.tmp_vmlinux*' --exclude='*.mod' \
		--exclude='./.stage*' --exclude=./.unpacked . |
		tar -x -C "$stage/kdir"
	# The one C file the kbuild compiles for every module (6.12 on).
	if [[ -e scripts/module-common.c ]]; then
		cp scripts/module-common.c "$stage/kdir/scripts/"
	fi
	if [[ -e arch/powerpc/lib/crtsavres.o ]]; then
		cp arch/powerpc/lib/crtsavres.o "$stage/kdir/arch/powerpc/lib/"
	fi
	find "$stage/kdir/arch" -mindepth 1 -maxdepth 1 -type d ! -name powerpc -exec rm -rf {} +
	rel=$(cat include/config/kernel.release)
	echo "$rel" >"$stage/release"
	{
		echo "$how in $((t1 - t0)) s with make -j$JOBS on $(nproc) cores, load at start $load0"
		echo "config $hash, source linux-source-$BASE $ver"
	} >"$stage/build-info"
	cache_lock
	rm -rf "$dest"
	mv "$stage" "$dest"
	touch "$dest/.complete"
	exec {CACHE_LOCK_FD}>&-
	echo "debug-kernel: built in $((t1 - t0)) s" >&2
fi

rel=$(cat "$dest/release")
rm -rf "$OUT"
mkdir -p "$OUT"
ln -sfn "$dest/root" "$OUT/root"
ln -sfn "$dest/vmlinux" "$OUT/vmlinux"
ln -sfn "$dest/kdir" "$OUT/kdir"
ln -sfn "$dest/root/lib/modules/$rel" "$OUT/modules"
echo "$rel" >"$OUT/release"
echo "$SELF_HASH" >"$OUT/script-hash"
cat >"$OUT/versions.txt" <<V
kernel $KERNEL: $rel
  linux-source-$BASE $ver (Debian's config of $srel, trimmed, plus the debug fragment)
  config $hash ($dest)
  $(cat "$dest/build-info" | head -1)
  cross compiler $(dpkg-query -W -f='${Package} ${Version}' gcc-powerpc64le-linux-gnu)
  $(sed -n '/^  busybox-static /s/^  //p' "$stock/versions.txt")
V
echo "debug-kernel: kernel $KERNEL ready ($rel)" >&2
