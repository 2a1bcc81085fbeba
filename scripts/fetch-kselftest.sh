#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kselftest.sh DEST: the kernel's kselftest framework (lib.mk, the
# selftests Makefile, kselftest.h, kselftest_harness.h, kselftest/,
# run_kselftest.sh and the scripts/subarch.include that Makefile reads)
# from Debian's linux-source-6.12, as a skeleton kernel tree in DEST with
# our spapr_tce target linked into its tools/testing/selftests. The files
# are extracted once into the download cache (the package is the one the
# debug kernel is built from, downloaded if missing); nothing of the
# kernel is copied into our tree.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

DEST=${1:?usage: fetch-kselftest.sh DEST}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
. "$TOP/scripts/lib/papt.sh"
BASE=6.12
KS=tools/testing/selftests
MEMBERS=("$KS/Makefile" "$KS/lib.mk" "$KS/kselftest.h" "$KS/kselftest_harness.h"
	"$KS/kselftest_module.h" "$KS/run_kselftest.sh" "$KS/kselftest" scripts/subarch.include)

debs() { compgen -G "$CACHE/debs/linux-source-${BASE}_*.deb" | sort -V | tail -1; }
if [[ -z $(debs) ]]; then
	cache_lock
	if [[ -z $(debs) ]]; then
		papt_init
		papt_update
		ver=$(papt_version "linux-source-$BASE" "^${BASE//./\\.}\.")
		papt_download "$CACHE/debs" "linux-source-$BASE=$ver"
	fi
	exec {CACHE_LOCK_FD}>&-
fi
deb=$(debs)
fw=$CACHE/kselftest/$(basename "$deb" .deb)
if [[ ! -e $fw/.unpacked ]]; then
	cache_lock
	if [[ ! -e $fw/.unpacked ]]; then
		echo "kselftest: extracting the framework from $(basename "$deb")" >&2
		rm -rf "$fw.tmp"
		mkdir -p "$fw.tmp"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-source-$BASE.tar.xz" |
			tar -xJ -C "$fw.tmp" --strip-components=1 \
				"${MEMBERS[@]/#/linux-source-$BASE/}"
		rm -rf "$fw"
		mv "$fw.tmp" "$fw"
		echo "linux-source-$BASE $(basename "$deb")" >"$fw/.unpacked"
	fi
	exec {CACHE_LOCK_FD}>&-
fi

# The skeleton tree: a copy (the kernel's make writes nothing there, but
# the cache stays read-only for clones) and the link to our target.
if [[ ! -e $DEST/.from || $(cat "$DEST/.from") != "$fw" ]]; then
	rm -rf "$DEST"
	mkdir -p "$DEST"
	cp -a "$fw/." "$DEST/"
	echo "$fw" >"$DEST/.from"
fi
ln -sfn "$TOP/$KS/spapr_tce" "$DEST/$KS/spapr_tce"
