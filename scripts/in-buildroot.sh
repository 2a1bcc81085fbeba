#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-buildroot.sh CMD...: run CMD inside the trixie build root (made on
# first use), from the current directory, with the work tree and the
# build directory at their own paths. The Makefile runs the module build
# for KERNEL=7.x through it.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
. "$TOP/scripts/lib/papt.sh"
. "$TOP/scripts/lib/buildroot.sh"

buildroot_ensure
buildroot_run "$@"
