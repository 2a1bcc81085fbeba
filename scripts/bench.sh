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

# VFIO: MAP_DMA+UNMAP_DMA pairs per second, the in-tree container driver
# against ours in the same boot, and the region lookup among 1 to 10,000
# registered regions, ours (maple tree) against mm_iommu's list walk.
make -s -C "$TOP/tools/testing/selftests/spapr_tce" OUT="$BUILD/selftests/tests" >/dev/null || exit 1
{
	echo "## vfio_spapr: MAP_DMA+UNMAP_DMA pairs per second, in-tree vs ours"
	echo
	echo "One page per map, $((${PAIRS:-5000})) pairs, the same group and loop for both drivers in one boot."
	echo
	echo "| machine | kernel | type | in-tree pairs/s | ours pairs/s | ours/in-tree |"
	echo "|---|---|---|---|---|---|"
} >>"$report"
lookups=""
for k in $KERNELS; do
	for m in ${VFIO_MACHINES:-powernv9 pseries}; do
		log=$OUT/vfio-$m-$k.log
		"$TOP/scripts/vm" --no-build --machine "$m" --kernel "$k" --timeout 900 \
			--log "$log" --add "$BUILD/selftests/tests:/lab/tests" \
			-- sh -c "PAIRS=${PAIRS:-5000} bench-vfio" >/dev/null 2>&1
		for t in v1 v2; do
			rate() { sed -n "s/^BENCH $1 $t .*pairs_per_s=\([0-9]*\).*/\1/p" "$log"; }
			in=$(rate intree); ours=$(rate ours)
			ratio=n/a
			[[ -n $in && -n $ours ]] && ratio=$(awk -v a="$ours" -v b="$in" 'BEGIN { printf "%.2f", a / b }')
			[[ -n $in ]] || in="failed: $(sed -n "s/^BENCH intree $t \(.*\)/\1/p" "$log" | cut -c1-60)"
			[[ -n $ours ]] || ours="failed: $(sed -n "s/^BENCH ours $t \(.*\)/\1/p" "$log" | cut -c1-60)"
			echo "| $m | $k | $t | $in | $ours | $ratio |"
		done | tee -a "$report"
		lookups+="### $m, kernel $k"$'\n\n```\n'"$(sed -n '/^LOOKUP-BEGIN/,/^LOOKUP-END/{/^LOOKUP-/d;p}' "$log")"$'\n```\n\n'
	done
done
{
	echo
	echo "## vfio_spapr: registered-region lookup, mm_iommu list walk vs our maple tree"
	echo
	echo "$lookups"
} | tee -a "$report"
echo "bench: report in $report"
