#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kselftests.sh: `make -C tools/testing/selftests TARGETS=spapr_tce
# install` into build/kselftest/install (KSFT_INSTALL overrides), the
# standard run_kselftest.sh layout every lab command adds to its guest:
# the whole of it at /lab/kselftest (run-selftests), or its spapr_tce/
# directory at /lab/tests (the demo, the benchmarks, the end to end
# scenario's helpers). Runners started in parallel build it once, and
# an installed tree is replaced only when its content changed: a runner
# copying it into a guest meanwhile (make check's parallel boots) never
# sees it half made (the kernel's install rewrites kselftest-list.txt).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KSFT_INSTALL=${KSFT_INSTALL:-$BUILD/kselftest/install}
mkdir -p "$BUILD/kselftest"
exec {lock}>"$BUILD/kselftest/.install-lock"
flock "$lock"
new=$KSFT_INSTALL.new
rm -rf "$new"
make -s -C "$TOP/tools/testing/selftests" TARGETS=spapr_tce SPAPR_BUILD="$BUILD" \
	install INSTALL_PATH="$new" >"$BUILD/kselftest/install.log" 2>&1 ||
	{ cat "$BUILD/kselftest/install.log" >&2; exit 1; }
if diff -r -q "$new" "$KSFT_INSTALL" >/dev/null 2>&1; then
	rm -rf "$new"
else
	rm -rf "$KSFT_INSTALL"
	mv "$new" "$KSFT_INSTALL"
fi
