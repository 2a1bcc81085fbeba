#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-buildroot.sh: make the trixie build root the 7.x kernels' modules
# are built in (scripts/lib/buildroot.sh), once per host; a second run
# does nothing. Prints the root's path.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
. "$TOP/scripts/lib/papt.sh"
. "$TOP/scripts/lib/buildroot.sh"

buildroot_ensure
echo "$BUILDROOT"
