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
# SECTIONS: which benchmarks to run (all by default)
want() { [[ " ${SECTIONS:-realmode vfio hcall} " == *" $1 "* ]]; }

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

want realmode && for k in $KERNELS; do
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
want vfio && {
	echo "## vfio_spapr: MAP_DMA+UNMAP_DMA pairs per second, in-tree vs ours"
	echo
	echo "One page per map, $((${PAIRS:-5000})) pairs, the same group and loop for both drivers in one boot."
	echo
	echo "| machine | kernel | type | in-tree pairs/s | ours pairs/s | ours/in-tree |"
	echo "|---|---|---|---|---|---|"
} >>"$report"
lookups=""
want vfio && for k in $KERNELS; do
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
want vfio && {
	echo
	echo "## vfio_spapr: registered-region lookup, mm_iommu list walk vs our maple tree"
	echo
	echo "$lookups"
} | tee -a "$report"
# KVM TCE hypercalls: the guest of kvm_tce_vmm loops on each hcall through
# each path (bench-hcall). Rates come from the host's timestamps of the
# console lines around each loop (the L1 clock is not trusted under
# KVM); the instructions are the emulated POWER PMU's count for the VMM
# process (user and kernel, the host side of the hcall), the median of
# 31 loops of 16 calls (a long loop's count also holds the timer ticks
# and other work the host did in the task's context meanwhile).
hcall_table() {		# hcall_table LOG: the Markdown rows of one boot
	awk '
	/HCALL-MARK begin / { t0[$4] = $1 }
	/HCALL-MARK end / {
		k = $4; calls = 0; med = ""; user = 0
		for (i = 5; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "calls") calls = kv[2]
			if (kv[1] == "instr_median") med = kv[2]
			if (kv[1] == "userspace") user = kv[2]
		}
		if (!(k in t0) || calls == 0) next
		rate[k] = calls / ($1 - t0[k]); order[++n] = k
		instr[k] = med; up[k] = user / calls
	}
	/HCALL-(SKIP|MARK error)/ { sub(/^[0-9.]* /, ""); skips = skips "\n" $0 }
	END {
		null = rate["stock/null"]
		for (j = 1; j <= n; j++) {
			k = order[j]; split(k, a, "/")
			printf "| %s | %s | %.0f | %s | %s | %.2f |\n", a[1], a[2], rate[k],
				null ? sprintf("%.2f", null / rate[k]) : "-", instr[k] == "" ? "-" : instr[k], up[k]
		}
		if (skips != "") printf "%s\n", skips > "/dev/stderr"
	}' "$1"
}
hcalls=""
want hcall && for k in $KERNELS; do
	for m in ${HCALL_MACHINES:-powernv9 pseries-nested}; do
		log=$OUT/hcall-$m-$k.log
		"$TOP/scripts/vm" --no-build --machine "$m" --kernel "$k" --timeout 900 \
			--log "$OUT/hcall-$m-$k.console" --add "$BUILD/selftests/tests:/lab/tests" \
			-- sh -c "N=${HCALL_N:-10000} NBIG=${HCALL_NBIG:-1000} bench-hcall" 2>&1 |
			while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >"$log"
		hcalls+="### $m, kernel $k"$'\n\n'
		hcalls+="| path | hcall | calls/s (host clock) | time / null hcall | instructions / call | userspace exits / call |"$'\n'
		hcalls+="|---|---|---:|---:|---:|---:|"$'\n'
		hcalls+="$(hcall_table "$log" 2>"$OUT/hcall-$m-$k.skips")"$'\n'
		[[ -s $OUT/hcall-$m-$k.skips ]] && hcalls+=$'\n'"$(sed '/^$/d; s/^/- /' "$OUT/hcall-$m-$k.skips")"$'\n'
		hcalls+=$'\n'
	done
done
want hcall && {
	echo
	echo "## KVM TCE hypercalls: userspace, stock kernel, kvm_tce; VFIO-linked"
	echo
	echo "null = H_PROD of a vCPU that does not exist (answered in kvm-hv, H_PARAMETER);"
	echo "indirect and stuff cover 512 entries a call. Rates from the host's clock;"
	echo "instructions: the emulated PMU, VMM process, user+kernel, median of 31 loops of 16 calls."
	echo
	echo "$hcalls"
} | tee -a "$report"
echo "bench: report in $report"
