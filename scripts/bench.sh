#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: every benchmark of the project, each measured side by side
# in one run (ratios, never absolute timings compared across runs). The
# report goes to build/bench/report.md; tables are also printed.
#
# Realmode lookups: ns per lookup, the seed's linear list walk against
# our index, on synthetic lists (1 to 100,000 entries) and on the real
# index of each machine, under each kernel.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lab/machines.sh"
KERNELS=${KERNELS:-6.1 6.12}
MACHINES=${MACHINES:-$LAB_MACHINES}
OUT=$BUILD/bench
mkdir -p "$OUT"

for k in $KERNELS; do
	make -s -C "$TOP" KERNEL="$k" modules >/dev/null || exit 1
done

report=$OUT/report.md
{
	echo "# Benchmarks"
	echo
	echo "$(date -u +%Y-%m-%d), host $(uname -m), $(nproc) cores, QEMU $(qemu-system-ppc64 --version | head -1 | awk '{print $4}') (TCG)."
	echo "Emulated time: compare the ratios, not the nanoseconds."
	echo
	echo "## realmode: struct page lookup, linear list walk vs index"
	echo
} >"$report"

for k in $KERNELS; do
	for m in $MACHINES; do
		log=$OUT/realmode-$m-$k.log
		"$TOP/scripts/vm" --no-build --machine "$m" --kernel "$k" --timeout 900 \
			--log "$log" -- sh -c 'insmod /lab/modules/spapr_realmode.ko &&
				echo BENCH-BEGIN && cat /sys/kernel/debug/spapr_realmode/bench &&
				echo BENCH-END' >/dev/null 2>&1
		{
			echo "### $m, kernel $k"
			echo
			echo '```'
			sed -n '/^BENCH-BEGIN/,/^BENCH-END/{/^BENCH-/d;p}' "$log"
			echo '```'
			echo
		} | tee -a "$report"
	done
done
echo "bench: report in $report"
