#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e.sh [--machine M] [--kernel K] [--config C] [--devices 1|2] [--mib N]
#        [--tap] [--no-build] [--timeout S] [--out DIR]
#
# The end-to-end scenario: an emulated POWER host (L1: the lab's machine
# M, powernv9 (default) or powernv8, Debian kernel K, plus an NVMe
# controller backed by an image of known content) runs Debian's own
# qemu-system-ppc64 (bookworm, unmodified, scripts/fetch-qemu.sh) with a
# KVM-HV pseries guest (L2, the same Debian kernel) that owns the
# controller through vfio-pci. L2 reads the whole namespace with the
# stock nvme driver, prints its sha256, writes a pattern and reads it
# back. Every DMA of L2 goes through a TCE that L2 maps by hypercall.
#
# --devices 2 adds a second controller in an IOMMU group of its own, its
# image of other content, on the same PHB of L2: QEMU puts both groups
# in one container, behind one TCE table, and L2 reads both namespaces.
#
# C says who serves those hypercalls (scripts/lab/bin/e2e-l1): a (QEMU in
# userspace, KVM_CAP_SPAPR_TCE_VFIO hidden from it by kvm_hide_cap), b (the stock in-kernel path, the default), c (ours).
#
# Prints a summary: where each part ran, the checksum verdict, the times
# seen on this host's clock (console line timestamps: clocks inside
# nested guests under TCG cannot be trusted), L2's read throughput, and
# the TCE hypercall counts (in the kernel, in userspace). With --tap, TAP:
# one line per fact proven, the summary as comments. Exit status: 0 when
# every fact holds.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/scripts/lab/machines.sh"
BUILD=${BUILD:-$TOP/build}
machine=powernv9
kernel=6.1
config=b
devices=1
mib=${E2E_MIB:-32}
tap=0
build=()
timeout=900
out=$BUILD/e2e
while [[ $# -gt 0 ]]; do
	case $1 in
	--machine)	machine=$2; shift 2 ;;
	--kernel)	kernel=$2; shift 2 ;;
	--config)	config=$2; shift 2 ;;
	--devices)	devices=$2; shift 2 ;;
	--mib)		mib=$2; shift 2 ;;
	--tap)		tap=1; shift ;;
	--no-build)	build=(--no-build); shift ;;
	--timeout)	timeout=$2; shift 2 ;;
	--out)		out=$2; shift 2 ;;
	-h|--help)	sed -n '4,/^set /s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*)		echo "e2e: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ $config == [abc] ]] || { echo "e2e: configuration '$config' is not a, b or c" >&2; exit 2; }
# Only a powernv machine is a hypervisor that can run KVM HV guests.
[[ $machine == powernv[89] ]] || { echo "e2e: machine '$machine' is not powernv9 or powernv8" >&2; exit 2; }
[[ $devices == [12] ]] || { echo "e2e: --devices '$devices' is not 1 or 2" >&2; exit 2; }

# What the scenario needs on this host: the target kernel, Debian's
# ppc64el QEMU, the nested guest's initramfs, and the NVMe images: N MiB
# of numbered lines (every block differs, so a misplaced or corrupted
# block changes the checksum), the second's numbers far from the first's
# (a block of one device's in the other's buffer changes its checksum).
# Runs in parallel (make check) make them once.
guest=$BUILD/lab/$kernel/e2e-guest.cpio.gz
pristine=$BUILD/e2e/nvme-${mib}M.img
pristine2=$BUILD/e2e/nvme2-${mib}M.img
mkdir -p "$BUILD/e2e" "$out"
numbered() {	# numbered FIRST LAST FILE: N MiB of lines FIRST, FIRST + 1...
	[[ -s $3 ]] && return 0
	(set +o pipefail; seq -w "$1" "$2" | head -c $((mib * 1048576))) >"$3.$$"
	mv "$3.$$" "$3"
}
(
	flock 9
	bash "$TOP/scripts/fetch-kernel.sh" "$kernel"
	bash "$TOP/scripts/fetch-qemu.sh"
	bash "$TOP/scripts/lab/e2e/mkguest.sh" "$kernel" "$guest"
	bash "$TOP/scripts/build-kselftests.sh"
	numbered 1 999999999 "$pristine"
	numbered 1000000001 1999999999 "$pristine2"
) 9>"$BUILD/e2e/.prepare.lock"
# Each run gets fresh copies: L2 writes to the first.
want_sha=$(sha256sum "$pristine" | cut -d' ' -f1)
want2_sha=$(sha256sum "$pristine2" | cut -d' ' -f1)
first_mib_sha=$(head -c 1048576 "$pristine" | sha256sum | cut -d' ' -f1)
tag=$machine-$kernel-$config
[[ $devices == 1 ]] || tag+=+$devices
img=$out/$tag.img
img2=$out/$tag-2.img
cp "$pristine" "$img"
nvme=(--qemu -drive --qemu "file=$img,format=raw,if=none,id=e2envme"
	--qemu -device --qemu "nvme,serial=e2e-$config,drive=e2envme,bus=$(lab_e2e_bus "$machine" 1)")
if [[ $devices == 2 ]]; then
	cp "$pristine2" "$img2"
	nvme+=(--qemu -drive --qemu "file=$img2,format=raw,if=none,id=e2envme2"
		--qemu -device --qemu "nvme,serial=e2e-$config-2,drive=e2envme2,bus=$(lab_e2e_bus "$machine" 2)")
fi

# L1 gets QEMU's tree at its root (the binary's loader and library paths
# are absolute), the stock kernel for L2 and L2's initramfs in /lab/e2e;
# L0 adds each NVMe controller on a root port of its own (lab_e2e_bus).
q=$BUILD/qemu-ppc64el/root
log=$out/$tag.log
start=$(date +%s.%N)
set +e
LAB_E2E=1 "$TOP/scripts/vm" "${build[@]}" --machine "$machine" --kernel "$kernel" \
	--timeout "$timeout" --log "$out/$tag.console" \
	--add "$q/usr:/usr" --add "$q/lib:/lib" --add "$q/lib64:/lib64" \
	--add "$(readlink -f "$BUILD/kernels/$kernel/vmlinux"):/lab/e2e/vmlinux" \
	--add "$guest:/lab/e2e/guest.cpio.gz" \
	--add "$BUILD/kselftest/install/spapr_tce/bin/kvm_hide_cap:/lab/e2e/kvm_hide_cap" \
	"${nvme[@]}" \
	-- e2e-l1 "$config" 2>"$out/$tag.err" |
	perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%.3f %s", time, $_' >"$log"
vmrc=${PIPESTATUS[0]}
set -e

# The host's own look at the image: L2's pattern must be in its last MiB.
pattern_sha=$( (set +o pipefail; yes E2E-WRITE-PATTERN | head -c 1048576) | sha256sum | cut -d' ' -f1)
host_tail_sha=$(tail -c 1048576 "$img" | sha256sum | cut -d' ' -f1)
# ... and the second image as it was: nothing wrote to it.
host2_sha=
[[ $devices == 2 ]] && host2_sha=$(sha256sum "$img2" | cut -d' ' -f1)
rm -f "$img" "$img2"

E2E_START=$start E2E_VMRC=$vmrc E2E_WANT=$want_sha E2E_PATTERN=$pattern_sha \
E2E_HOST_TAIL=$host_tail_sha E2E_TAP=$tap E2E_CONFIG=$config E2E_KERNEL=$kernel \
E2E_MACHINE=$machine E2E_FIRST_MIB=$first_mib_sha E2E_DEVICES=$devices E2E_WANT2=$want2_sha E2E_HOST2=$host2_sha \
E2E_LOG=$log E2E_BAD=$LAB_BAD_LOG \
E2E_LOG_CUTS=$(lab_log_trouble "$out/$tag.console" | grep -c '^the kernel log') \
	awk -f "$TOP/scripts/lab/e2e/summary.awk" "$log"
