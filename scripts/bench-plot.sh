#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-plot.sh DIR: the PNG plots of make bench, from the data files
# scripts/bench.sh leaves in DIR/data (whitespace-separated columns, '#'
# header lines, '?' for a value that could not be measured). Every plot
# shows ratios, never absolute emulated times, with the configurations
# side by side. Prints the Markdown that embeds the plots it made.
set -euo pipefail
DIR=${1:?usage: bench-plot.sh DIR}
DATA=$DIR/data
command -v gnuplot >/dev/null || { echo "bench-plot: no gnuplot (make provision)" >&2; exit 1; }

# gp NAME TITLE: run the gnuplot script on stdin to DIR/NAME.png and give
# its Markdown line.
gp() {
	{
		echo "set terminal pngcairo size 960,540 font 'Sans,10'"
		echo "set termoption noenhanced"
		echo "set output '$DIR/$1.png'"
		echo "set datafile missing '?'"
		echo "set key outside right top"
		echo "set grid ytics"
		echo "set title \"$2\" noenhanced"
		cat
	} | gnuplot && printf '![%s](%s.png)\n\n' "$2" "$1"
}

# clustered: a histogram of clustered bars, one cluster per row (column 1
# the label), one bar per further column, titled by the header line
# "# label col2 col3 ...".
clustered() {		# clustered FILE YLABEL [logscale]
	local n titles
	titles=$(sed -n '1s/^# *//p' "$1")
	n=$(awk '{ print NF; exit }' <<<"$titles")
	echo "set style data histogram"
	echo "set style histogram clustered gap 1"
	echo "set style fill solid 0.85 border -1"
	echo "set boxwidth 0.9"
	echo "set xtics rotate by -25 noenhanced"
	echo "set ylabel \"$2\""
	if [[ ${3:-} == log ]]; then
		echo "set logscale y"
	else
		echo "set yrange [0:*]"
		echo "set offsets 0, 0, graph 0.1, 0"
	fi
	printf "plot '%s' using 2:xtic(1) title '%s'" "$1" "$(awk '{ print $2 }' <<<"$titles")"
	for ((i = 3; i <= n; i++)); do
		printf ", '' using %d title '%s'" "$i" "$(awk -v i="$i" '{ print $i }' <<<"$titles")"
	done
	echo
}

# series: one line per file, x and y from columns 1 and 2, log-log.
series() {		# series XLABEL YLABEL FILE...
	local x=$1 y=$2 f sep=""
	shift 2
	echo "set logscale xy"
	echo "set xlabel \"$x\""
	echo "set ylabel \"$y\""
	printf "plot "
	for f in "$@"; do
		t=$(basename "$f" .dat)
		printf "%s'%s' using 1:2 with linespoints title '%s' noenhanced" "$sep" "$f" "${t#*-}"
		sep=", "
	done
	echo
}

shopt -s nullglob
if [[ -s $DATA/e2e.dat ]]; then
	clustered "$DATA/e2e.dat" "L2 read MB/s relative to (a)" |
		gp e2e "End to end: L2 NVMe read throughput, ratio to (a) QEMU in userspace"
fi
if [[ -s $DATA/e2e-exits.dat ]]; then
	clustered "$DATA/e2e-exits.dat" "TCE hcalls of the read" |
		gp e2e-hcalls "End to end: the read's TCE hcalls (most in one run), served in the kernel vs by QEMU"
fi
for f in "$DATA"/hcall-*.dat; do
	t=$(basename "$f" .dat)
	clustered "$f" "calls/s relative to the userspace path (log)" log |
		gp "$t" "TCE hcalls, ${t#hcall-}: rate relative to QEMU-style userspace handling"
done
if [[ -s $DATA/vfio.dat ]]; then
	clustered "$DATA/vfio.dat" "MAP_DMA+UNMAP_DMA pairs/s relative to in-tree" |
		gp vfio "VFIO map/unmap rate: ours relative to the in-tree container"
fi
files=("$DATA"/lookup-*.dat)
if [[ ${#files[@]} -gt 0 ]]; then
	series "registered regions" "mm_iommu list walk time / maple tree time" "${files[@]}" |
		gp vfio-lookup "Registered-region lookup: speed-up of ours over the in-tree list walk"
fi
files=("$DATA"/realmode-*.dat)
if [[ ${#files[@]} -gt 0 ]]; then
	series "vmemmap_backing entries" "linear walk time / index time" "${files[@]}" |
		gp realmode "struct page lookup: speed-up of the index over the linear list walk"
fi
