#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fail-digest.sh RES: what each failure of a check said, in a few lines
# per failure, for the end of check.sh's output (its last lines are what a
# CI keeps when the full log is gone: a fuzzer's seed and message, or the
# kernel's report, are then still there to replay and read).
#
#   FAIL M/K/TEST.CASE         the case's own diagnostics (TAP comments and
#                              lines up to the next case), from its TAP
#   FAIL M/K/kernel-log-clean  the boot's bad kernel-log lines, with the
#   FAIL M/K/vm                backtrace after each, from its console
#   FAIL host/... (see LOG)    the log's error and warning lines (its
#                              last lines when none is marked)
#
# At most PER lines a failure and MAX in all (FAIL_DIGEST_PER,
# FAIL_DIGEST_MAX).
set -uo pipefail
RES=$1
PER=${FAIL_DIGEST_PER:-8}
MAX=${FAIL_DIGEST_MAX:-60}
. "$(dirname "$0")/machines.sh"

# case_lines TAP CASE: the lines after "not ok N CASE", up to the next case
case_lines() {
	awk -v c="$2" '
	/^(not )?ok [0-9]+/ {
		if (on) exit
		line = $0
		sub(/^(not )?ok [0-9]+ (- )?/, "", line)
		sub(/ # .*/, "", line)
		on = ($1 == "not" && line == c)
		next
	}
	on' "$1"
}

# host_lines LOG: a host step's errors and warnings, or its end
host_lines() {
	grep -a -E 'ERROR|WARNING|[Ee]rror:|[Ww]arning:|FAIL' "$1" ||
		tail -n "$PER" "$1"
}

# log_lines LOG: each bad kernel-log line and what follows it
log_lines() {
	grep -a -E -A 12 "$LAB_BAD_LOG" "$1" | grep -av '^--$'
}

digest() {
	local id m k rest t c f
	grep '^FAIL ' "$RES/results.txt" | while read -r _ id rest; do
		IFS=/ read -r m k t <<<"$id"
		[[ -n $t ]] || continue
		if [[ $m = host ]]; then
			f=$(sed -n 's/.*(see \([^)]*\)).*/\1/p' <<<"$rest")
			[[ -n $f && -f $f ]] || continue
			echo "# $id:"
			host_lines "$f" | head -n "$PER" | sed 's/^/#   /'
			continue
		fi
		f= c=
		case $t in
		kernel-log-clean|vm) f=$RES/lab-$m-$k.log ;;
		e2e-*.*) c=${t#*.}; t=${t%%.*}; f=$RES/e2e-$m-$k-${t#e2e-}.tap ;;
		*.*) c=${t#*.}; t=${t%%.*}; f=$RES/tap.$m.$k.$t ;;
		esac
		[[ -f $f ]] || continue
		echo "# $id:"
		if [[ -z $c ]]; then
			log_lines "$f" | head -n $((PER * 2))
		else
			case_lines "$f" "$c" | head -n "$PER"
		fi | sed 's/^/#   /'
	done
}

[[ -f $RES/results.txt ]] || exit 0
grep -q '^FAIL ' "$RES/results.txt" || exit 0
echo "# what the failures said (at most $PER lines each):"
digest | head -n "$MAX"
