# SPDX-License-Identifier: GPL-2.0
#
# Minimal TAP helpers for the lab's shell selftests.

TAP_N=0
TAP_FAILED=0

tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

tap_ok() {		# tap_ok NAME: a passed case
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1"
}

tap_fail() {		# tap_fail NAME [WHY]: a failed case
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N $1"
	[ -n "$2" ] && echo "# $2"
	return 0
}

tap_skip() {		# tap_skip NAME WHY
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1 # SKIP $2"
}

tap_check() {		# tap_check NAME CMD...: ok when CMD succeeds
	local name=$1
	shift
	if "$@"; then tap_ok "$name"; else tap_fail "$name" "failed: $*"; fi
}

tap_done() {
	[ "$TAP_FAILED" -eq 0 ]
}

# The kernel-log pattern that means trouble: the runner's own
# (LAB_BAD_LOG, scripts/lab/machines.sh), passed in through /lab/env.
KLOG_BAD=${LAB_BAD_LOG:?run under scripts/vm: LAB_BAD_LOG is not set}

# tap_include FILE: append the cases of another TAP stream (a module's
# debugfs self-test), renumbered to follow ours; its comments pass through.
tap_include() {
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			TAP_N=$((TAP_N + 1))
			case $line in "not ok "*) TAP_FAILED=$((TAP_FAILED + 1)) ;; esac
			echo "$line" | sed "s/^\(\(not \)\{0,1\}ok\) [0-9]*/\1 $TAP_N/"
			;;
		"#"*) echo "$line" ;;
		esac
	done <"$1"
}

# The MMU the kernel runs with: radix or hash.
mmu_kind() {
	grep -qi '^MMU.*radix' /proc/cpuinfo && echo radix || echo hash
}
