#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: boot the emulated POWER9 host (powernv9, Debian's 6.1) with our
# modules and run the demonstration; print only what it says. Then the
# end-to-end scenario with our modules (configuration c): Debian's QEMU in
# that host gives a KVM guest the NVMe controller, whose driver maps its
# DMA with TCE hcalls that kvm_tce serves in the kernel.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
MACHINE=${MACHINE:-powernv9}
KERNEL=${KERNEL:-6.1}

make -s -C "$TOP" KERNEL="$KERNEL" modules >/dev/null
bash "$TOP/scripts/build-kselftests.sh"
log=$BUILD/lab/logs/run-$MACHINE-$KERNEL.log
echo "make run: booting $MACHINE with Debian kernel $KERNEL under QEMU (TCG)..."
set +e
"$TOP/scripts/vm" --no-build --machine "$MACHINE" --kernel "$KERNEL" \
	--log "$log" --add "$BUILD/kselftest/install/spapr_tce:/lab/tests" -- demo >/dev/null
rc=$?
set -e
sed -n '/^LAB-START/,/^LAB-EXIT/{/^LAB-/d;p}' "$log"
echo "make run: exit status $rc (console log: $log)"
echo
set +e
bash "$TOP/scripts/lab/e2e.sh" --no-build --kernel "$KERNEL" --config c
e2e=$?
set -e
[[ $rc == 0 ]] && rc=$e2e
exit $rc
