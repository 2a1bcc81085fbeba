#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-kselftests.sh [--machine M] [--kernel K] [-- RUNNER-ARGS...]: the
# spapr_tce kselftests as a user runs them, in one lab guest (default a
# pseries guest with Debian's 6.12): the installed tree (`make -C
# tools/testing/selftests TARGETS=spapr_tce install`) is added at
# /lab/kselftest and the kernel's runner runs it, by default
# `run_kselftest.sh -c spapr_tce`; its KTAP goes to stdout. Our modules
# are in /lab/modules (SPAPR_TCE_MODULES, set by the lab's init). The
# exit status is scripts/vm's: the runner's (it exits 0 even when tests
# fail: read the KTAP), 124-126 for the runner's own troubles.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
machine=pseries
kernel=6.12
while [[ $# -gt 0 ]]; do
	case $1 in
	--machine) machine=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "run-kselftests: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ $# -gt 0 ]] || set -- -c spapr_tce

make -s -C "$TOP" KERNEL="$kernel" modules >/dev/null
bash "$TOP/scripts/build-kselftests.sh"
log=$BUILD/lab/logs/kselftest-$machine-$kernel.log
mkdir -p "$(dirname "$log")"
set +e
"$TOP/scripts/vm" --no-build --machine "$machine" --kernel "$kernel" --timeout 3600 \
	--log "$log" --add "$BUILD/kselftest/install:/lab/kselftest" \
	-- /lab/kselftest/run_kselftest.sh "$@" |
	sed -n '/^LAB-START /,/^LAB-EXIT: /{/^LAB-/d;p}'
rc=${PIPESTATUS[0]}
echo "# console log: $log" >&2
exit "$rc"
