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
DATA=$OUT/data
rm -rf "$DATA"
mkdir -p "$DATA"
# SECTIONS: which benchmarks to run (all by default)
want() { [[ " ${SECTIONS:-realmode vfio hcall e2e fuzz} " == *" $1 "* ]]; }

for k in $KERNELS; do
	make -s -C "$TOP" KERNEL="$k" modules >/dev/null || exit 1
done

report=$OUT/report.md
{
	echo "# Benchmarks"
	echo
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), host $(hostname): $(uname -m) ${cpu:-cpu}, $(nproc) cores," \
		"$(free -g | awk '/^Mem:/ { print $2 }') GiB, kernel $(uname -r);" \
		"QEMU $(qemu-system-ppc64 --version | head -1 | awk '{print $4}') (TCG)."
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
		table=$(sed -n '/^BENCH-BEGIN/,/^BENCH-END/{/^BENCH-/d;p}' "$log")
		{
			echo "### $m, kernel $k"
			echo
			echo '```'
			echo "$table"
			echo '```'
			echo
		} | tee -a "$report"
		awk '$1 == "synthetic" { print $2, $5 }' <<<"$table" >"$DATA/realmode-$m-$k.dat"
	done
done

# VFIO: MAP_DMA+UNMAP_DMA pairs, the in-tree container driver against
# ours in the same boot (bench-vfio: one page, 16 pages, 1 MiB and 64 MiB
# per call, and one page from each of two threads on one container), and
# the region lookup among 1 to 10,000 registered regions, ours (maple
# tree) against mm_iommu's list walk. The primary figure is instructions
# per pair (the emulated PMU, user and kernel of the calling threads, the
# minimum of the rounds: see vfio_mapbench.c); wall-clock pairs/s under
# TCG beside it.
bash "$TOP/scripts/build-kselftests.sh" || exit 1
want vfio && {
	echo "## vfio_spapr: MAP_DMA+UNMAP_DMA pairs, in-tree vs ours"
	echo
	echo "The same group, loop and buffer for both drivers in one boot; PAIRS=${PAIRS:-5000} one-page pairs"
	echo "(fewer for larger sizes). Instructions per pair: the emulated PMU, user+kernel of the calling"
	echo "threads, the minimum over the rounds; ratio = ours / in-tree (below 1.00: ours is cheaper)."
	echo "pairs/s: guest clock; ratio = ours / in-tree (above 1.00: ours is faster)."
	echo
	echo "| machine | kernel | type | bytes/call | threads | in-tree instr/pair | ours instr/pair | instr ours/in-tree | in-tree pairs/s | ours pairs/s | pairs/s ours/in-tree |"
	echo "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|"
} >>"$report"
lookups=""
want vfio && for k in $KERNELS; do
	for m in ${VFIO_MACHINES:-powernv9 pseries}; do
		log=$OUT/vfio-$m-$k.log
		"$TOP/scripts/vm" --no-build --machine "$m" --kernel "$k" --timeout 1800 \
			--log "$log" --add "$BUILD/kselftest/install/spapr_tce:/lab/tests" \
			-- sh -c "PAIRS=${PAIRS:-5000} ${VFIO_CELLS:+VFIO_CELLS='$VFIO_CELLS'} bench-vfio" >/dev/null 2>&1
		# BENCH driver type size threads key=value...
		tr -d '\r' <"$log" | awk -v m="$m" -v k="$k" -v dat="$DATA/vfio.dat.rows" '
		function val(line, key,    r) {
			r = ""
			if (match(line, " " key "=[0-9]+")) r = substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
			return r
		}
		function ratio(a, b) { return (a != "" && b != "" && a + 0 > 0 && b + 0 > 0) ? sprintf("%.2f", a / b) : "n/a" }
		$1 == "BENCH" {
			id = $3 " " $4 " " $5
			if (!(id in seen)) { seen[id] = 1; order[++n] = id }
			bytes[id] = val($0, "bytes")
			ins[$2, id] = val($0, "instr_min"); rate[$2, id] = val($0, "pairs_per_s")
			if (rate[$2, id] == "") {
				r = $0; sub(/^BENCH [^ ]* [^ ]* [^ ]* [^ ]* (vfio_mapbench: )?/, "", r)
				why[$2, id] = "failed (" substr(r, 1, 40) ")"
			}
		}
		function cell(d, id, v) { return v != "" ? v : why[d, id] }
		function num(v) { return v != "" ? v : "-" }
		END {
			for (j = 1; j <= n; j++) {
				id = order[j]; split(id, a, " ")
				ir = ratio(ins["ours", id], ins["intree", id]); rr = ratio(rate["ours", id], rate["intree", id])
				printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", m, k, a[1], bytes[id] != "" ? bytes[id] : a[2], a[3],
					cell("intree", id, ins["intree", id]), cell("ours", id, ins["ours", id]), ir,
					num(rate["intree", id]), num(rate["ours", id]), rr
				if (rr != "n/a" && a[2] == "1p" && a[3] == 1) print m "/" k "/" a[1], "1.00", rr >> dat
			}
		}' | tee -a "$report"
		table=$(sed -n '/^LOOKUP-BEGIN/,/^LOOKUP-END/{/^LOOKUP-/d;p}' "$log")
		awk '$1 ~ /^[0-9]+$/ { print $1, $5 }' <<<"$table" >"$DATA/lookup-$m-$k.dat"
		lookups+="### $m, kernel $k"$'\n\n```\n'"$table"$'\n```\n\n'
	done
done
[[ -s $DATA/vfio.dat.rows ]] && { echo "# machine/kernel/type in-tree ours"; cat "$DATA/vfio.dat.rows"; } >"$DATA/vfio.dat"
rm -f "$DATA/vfio.dat.rows"
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
# process (user and kernel, the host side of the hcall), the minimum of
# 31 loops of 16 calls: what else the host does in the task's context
# (timer ticks, interrupts: more of them the busier this shared machine
# is) only ever adds to a loop, so the minimum is the path's own cost.
# The median is printed too, to show the spread.
hcall_table() {		# hcall_table LOG DAT RATIOS ROW: the Markdown rows of one boot; DAT for the plot
	awk -v dat="$2" -v ratios="$3" -v row="$4" '
	/HCALL-MARK begin / { t0[$4] = $1 }
	/HCALL-MARK end / {
		k = $4; calls = 0; med = ""; min = ""; user = 0
		for (i = 5; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "calls") calls = kv[2]
			if (kv[1] == "instr_median") med = kv[2]
			if (kv[1] == "instr_min") min = kv[2]
			if (kv[1] == "userspace") user = kv[2]
		}
		if (!(k in t0) || calls == 0) next
		rate[k] = calls / ($1 - t0[k]); order[++n] = k
		instr[k] = min; imed[k] = med; up[k] = user / calls
	}
	/HCALL-(SKIP|MARK error)/ { sub(/^[0-9.]* /, ""); skips = skips "\n" $0 }
	function q(a, b) {
		return (instr[a] != "" && instr[b] > 0) ? sprintf("%.2f (%s / %s)", instr[a] / instr[b], instr[a], instr[b]) : "-"
	}
	function d(a, b) {
		return (instr[a] != "" && instr[b] != "") ? sprintf("%+d", instr[a] - instr[b]) : "-"
	}
	END {
		null = rate["stock/null"]
		for (j = 1; j <= n; j++) {
			k = order[j]; split(k, a, "/")
			printf "| %s | %s | %.0f | %s | %s | %s | %.2f |\n", a[1], a[2], rate[k],
				null ? sprintf("%.2f", null / rate[k]) : "-", instr[k] == "" ? "-" : instr[k],
				imed[k] == "" ? "-" : imed[k], up[k]
		}
		if (skips != "") printf "%s\n", skips > "/dev/stderr"
		# ours / stock per hcall (instructions, minimum), and the hook
		# alone: hooked - stock is what the interception costs, ours -
		# hooked is our handler against the stock one
		printf "| %s | %s", row, q("ours/null", "stock/null") >> ratios
		split("put get stuff indirect", hc, " ")
		for (h = 1; h <= 4; h++)
			printf " | %s", q("ours/" hc[h], "stock/" hc[h]) >> ratios
		for (h = 1; h <= 4; h++)
			printf " | %s", q("vfio-ours/" hc[h], "vfio-intree/" hc[h]) >> ratios
		printf " | %s | %s | %s |\n", d("hooked/put", "stock/put"), d("ours/put", "hooked/put"),
			d("vfio-intree-hooked/put", "vfio-intree/put") >> ratios
		# the plot: per hcall, the rate of each path relative to userspace
		np = 0
		for (j = 1; j <= n; j++) {
			split(order[j], a, "/")
			if (a[1] != "user" && !(a[1] in seen)) { seen[a[1]] = 1; path[++np] = a[1] }
		}
		printf "# hcall" > dat
		for (p = 1; p <= np; p++) printf " %s", path[p] > dat
		printf "\n" > dat
		split("put indirect stuff get", hc, " ")
		for (h = 1; h <= 4; h++) {
			u = rate["user/" hc[h]]
			printf "%s", hc[h] > dat
			for (p = 1; p <= np; p++) {
				k = path[p] "/" hc[h]
				printf " %s", (u && (k in rate)) ? sprintf("%.3f", rate[k] / u) : "?" > dat
			}
			printf "\n" > dat
		}
	}' "$1"
}
hcalls=""
want hcall && for k in $KERNELS; do
	for m in ${HCALL_MACHINES:-powernv9 powernv8 pseries-nested}; do
		log=$OUT/hcall-$m-$k.log
		"$TOP/scripts/vm" --no-build --machine "$m" --kernel "$k" --timeout 900 \
			--log "$OUT/hcall-$m-$k.console" --add "$BUILD/kselftest/install/spapr_tce:/lab/tests" \
			-- sh -c "N=${HCALL_N:-10000} NBIG=${HCALL_NBIG:-1000} bench-hcall" 2>&1 |
			while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >"$log"
		hcalls+="### $m, kernel $k"$'\n\n'
		hcalls+="| path | hcall | calls/s (host clock) | time / null hcall | instructions / call (min) | (median) | userspace exits / call |"$'\n'
		hcalls+="|---|---|---:|---:|---:|---:|---:|"$'\n'
		hcalls+="$(hcall_table "$log" "$DATA/hcall-$m-$k.dat" "$DATA/hcall-ratios.rows" "$m | $k" \
			2>"$OUT/hcall-$m-$k.skips")"$'\n'
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
	echo "instructions: the emulated PMU, VMM process, user+kernel, per call: the minimum (and the median) of 31 loops of 16 calls."
	echo
	echo "$hcalls"
	echo "### Ours against the stock path, instructions per call (minimum)"
	echo
	echo "KVM table: kvm_tce / stock kvm.ko; VFIO-linked: our container + kvm_tce / in-tree container + stock."
	echo "hook: the stock handler behind kvm_tce's ftrace hook (intercept=0) minus the stock handler alone,"
	echo "the interception's own cost; ours - hooked: our handler against the stock one, the hook's cost taken out."
	echo
	echo "| machine | kernel | null | H_PUT_TCE | H_GET_TCE | H_STUFF_TCE(512) | H_PUT_TCE_INDIRECT(512) | VFIO H_PUT_TCE | VFIO H_GET_TCE | VFIO H_STUFF_TCE | VFIO H_PUT_TCE_INDIRECT | hook, H_PUT_TCE | ours - hooked, H_PUT_TCE | hook, VFIO H_PUT_TCE |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	cat "$DATA/hcall-ratios.rows" 2>/dev/null
	echo
} | tee -a "$report"
# End to end (scripts/lab/e2e.sh): L2's O_DIRECT read of the NVMe through
# each configuration. The runs are interleaved (a b c, a b c, ...) so that
# a slow patch of this shared host hits every configuration alike; the
# table gives the median of E2E_REPS runs and its ratio to (a).
e2e_cfgs=${E2E_BENCH_CONFIGS:-a b c}
want e2e && {
	mkdir -p "$OUT/e2e"
	: >"$DATA/e2e-runs.txt"
	for r in $(seq "${E2E_REPS:-3}"); do
		for k in $KERNELS; do
			for c in $e2e_cfgs; do
				"$TOP/scripts/lab/e2e.sh" --no-build --kernel "$k" --config "$c" \
					--mib "${E2E_BENCH_MIB:-64}" --out "$OUT/e2e" >"$OUT/e2e/$k-$c-$r.txt" 2>&1
				res=$(sed -n 's/^  result: //p' "$OUT/e2e/$k-$c-$r.txt")
				echo "rep=$r ${res:-config=$c kernel=$k read_mbps=? facts_failed=?}" >>"$DATA/e2e-runs.txt"
			done
		done
	done
	# e2e_table: the Markdown table, and the plots' data files.
	awk -v cfgs="$e2e_cfgs" -v kernels="$KERNELS" -v data="$DATA" '
	function median(list,    v, n, i, j, t) {
		n = split(list, v, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
		return n ? (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) : ""
	}
	{
		delete kv
		for (i = 1; i <= NF; i++) { split($i, a, "="); kv[a[1]] = a[2] }
		key = kv["kernel"] SUBSEP kv["config"]
		runs[key]++
		if (kv["facts_failed"] == "0" && kv["read_mbps"] + 0 > 0) {
			ok[key]++; mbps[key] = mbps[key] " " kv["read_mbps"]
			for (f in kv) {
				if (!((key, f) in lo) || kv[f] + 0 < lo[key, f] + 0) lo[key, f] = kv[f]
				if (!((key, f) in hi) || kv[f] + 0 > hi[key, f] + 0) hi[key, f] = kv[f]
			}
		}
	}
	function span(key, f) {
		return lo[key, f] == hi[key, f] ? lo[key, f] : lo[key, f] "-" hi[key, f]
	}
	END {
		nc = split(cfgs, C, " "); nk = split(kernels, K, " ")
		desc["a"] = "QEMU in userspace, in-tree container"
		desc["b"] = "stock in-kernel (kvm.ko, in-tree container)"
		desc["c"] = "ours (vfio_spapr + kvm_tce)"
		print "| kernel | configuration | runs passed | read MB/s: median (range) | ratio to (a) | TCE hcalls of the read: in kernel / by QEMU | hcall exits to QEMU (whole run) | VFIO MAP_DMA ioctls (whole run) |"
		print "|---|---|---:|---:|---:|---:|---:|---:|"
		printf "# kernel" > data "/e2e.dat"
		for (c = 1; c <= nc; c++) printf " (%s)", C[c] > data "/e2e.dat"
		printf "\n" > data "/e2e.dat"
		printf "# kernel/config in-kernel by-QEMU\n" > data "/e2e-exits.dat"
		for (k = 1; k <= nk; k++) {
			base = median(mbps[K[k], "a"])
			printf "%s", K[k] > data "/e2e.dat"
			for (c = 1; c <= nc; c++) {
				key = K[k] SUBSEP C[c]
				m = median(mbps[key])
				ratio = (m != "" && base != "") ? sprintf("%.2f", m / base) : "?"
				printf " %s", ratio > data "/e2e.dat"
				if (m != "")
					printf "%s/(%s) %d %d\n", K[k], C[c], hi[key, "read_tce_kernel"],
						hi[key, "read_tce_qemu"] > data "/e2e-exits.dat"
				printf "| %s | (%s) %s | %d of %d | %s | %s | %s | %s | %s |\n", K[k], C[c], desc[C[c]],
					ok[key], runs[key],
					m == "" ? "-" : sprintf("%.2f (%s)", m, span(key, "read_mbps")), ratio,
					m == "" ? "-" : span(key, "read_tce_kernel") " / " span(key, "read_tce_qemu"),
					m == "" ? "-" : span(key, "hcall_exits"), m == "" ? "-" : span(key, "vfio_map_ioctls")
			}
			printf "\n" > data "/e2e.dat"
		}
	}' "$DATA/e2e-runs.txt" >"$OUT/e2e-table.md"
	{
		echo
		echo "## End to end: a KVM-HV pseries guest reads a passed-through NVMe"
		echo
		echo "L1 = powernv9 with Debian's kernel and QEMU (ppc64el, unmodified); L2 reads"
		echo "${E2E_BENCH_MIB:-64} MiB with O_DIRECT, every DMA mapped by its TCE hcalls. (a) hides"
		echo "KVM_CAP_SPAPR_TCE_VFIO from QEMU (kvm_hide_cap), so it keeps the table in"
		echo "userspace; (b) the stock in-kernel path; (c) ours. Median of ${E2E_REPS:-3} interleaved"
		echo "runs; a run counts when every fact of it holds (checksums, counts, clean logs)."
		echo "Counts: the range over the passing runs (how L2 batches its TCEs varies from run"
		echo "to run; every read maps 16,384 4K TCEs). Per-run summaries: build/bench/e2e/."
		echo
		cat "$OUT/e2e-table.md"
		echo
	} | tee -a "$report"
}

# The TCE hypercall fuzzer (kvm/fuzz.sh) at FUZZ_BENCH_CALLS (10^6) calls
# on powernv9: calls/s from the host's timestamps of its first and last
# lines (about half an hour per boot under TCG), and whether it passed.
want fuzz && {
	rows=""
	for k in ${FUZZ_BENCH_KERNELS:-${KERNELS%% *}}; do
		log=$OUT/fuzz-powernv9-$k.log
		"$TOP/scripts/vm" --no-build --machine powernv9 --kernel "$k" --timeout 7200 \
			--log "$OUT/fuzz-powernv9-$k.console" --add "$BUILD/kselftest/install/spapr_tce:/lab/tests" \
			-- sh -c "FUZZ_CALLS=${FUZZ_BENCH_CALLS:-1000000} /lab/tests/kvm-fuzz" 2>&1 |
			while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >"$log"
		rows+=$(awk -v k="$k" '
			/ seed [0-9]+, [0-9]+ calls;/ { t0 = $1; n = $0; sub(/.* seed [0-9]+, /, "", n); sub(/ calls;.*/, "", n) }
			/# fuzzer exit / { t1 = $1 }
			/ ok [0-9]+ / && !/^[0-9.]* not ok/ { ok++ }
			/ not ok [0-9]+ / { bad++ }
			END { printf "| powernv9, %s | %s | %.0f | %d | %d |\n", k, n, (t1 > t0) ? n / (t1 - t0) : 0, ok, bad }' "$log")$'\n'
	done
	{
		echo
		echo "## TCE hypercall fuzzer: stock against kvm_tce, and the racing run"
		echo
		echo "Seeded random calls from four vCPUs (Documentation/kvm_tce-tests.rst);"
		echo "calls/s on the host clock, from the fuzzer's first to its last line."
		echo
		echo "| machine, kernel | calls | calls/s | cases passed | cases failed |"
		echo "|---|---:|---:|---:|---:|"
		echo -n "$rows"
	} | tee -a "$report"
}

plots=$(bash "$TOP/scripts/bench-plot.sh" "$OUT") || echo "bench: plots failed" >&2
{
	echo "## Plots"
	echo
	echo "$plots"
} >>"$report"
echo "bench: report in $report"
