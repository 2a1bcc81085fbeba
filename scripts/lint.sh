#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: checkpatch on every C source, header and Kbuild file of ours.
# checkpatch.pl (with its spelling and const-structs lists) comes from
# Debian's linux-source-6.1 package, fetched into the build cache on the
# first run.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
. "$TOP/scripts/lib/cache.sh"
CP=$CACHE/checkpatch
. "$TOP/scripts/lib/papt.sh"

if [[ ! -x $CP/scripts/checkpatch.pl ]]; then
	cache_lock
	papt_init
	papt_update
	ver=$(papt_version linux-source-6.1 '^6\.1\.')
	papt_download "$CACHE/debs" "linux-source-6.1=$ver"
	deb=$(compgen -G "$CACHE/debs/linux-source-6.1_*.deb" | head -1)
	rm -rf "$CP.tmp"
	mkdir -p "$CP.tmp"
	echo "lint: extracting checkpatch from $(basename "$deb")" >&2
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO ./usr/src/linux-source-6.1.tar.xz |
		tar -xJ -C "$CP.tmp" --strip-components=1 \
			linux-source-6.1/scripts/checkpatch.pl \
			linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch
	rm -rf "$CP"
	mv "$CP.tmp" "$CP"
fi

cd "$TOP"
mapfile -t files < <(git ls-files '*.c' '*.h' '*.S' 'Kbuild' '*/Kbuild' 2>/dev/null ||
	find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' -o -name '*.S' -o -name Kbuild \) -print)
[[ ${#files[@]} -gt 0 ]] || exit 0
# --no-tree: we are not a kernel tree. FILE_PATH_CHANGES and the
# MAINTAINERS check only make sense inside one.
# Userspace test tools read device registers through an mmap of the BAR,
# where volatile is the right tool, and use kselftest-style CHECK macros
# that jump to cleanup; BIT_ULL() is a kernel macro.
ign=FILE_PATH_CHANGES
uspace=VOLATILE,MACRO_WITH_FLOW_CONTROL,BIT_MACRO
mapfile -t ufiles < <(printf '%s\n' "${files[@]}" | grep '^tools/')
mapfile -t kfiles < <(printf '%s\n' "${files[@]}" | grep -v '^tools/')
rc=0
for set in k u; do
	if [[ $set == k ]]; then list=("${kfiles[@]}"); extra=$ign; else list=("${ufiles[@]}"); extra=$ign,$uspace; fi
	[[ ${#list[@]} -gt 0 ]] || continue
	"$CP/scripts/checkpatch.pl" --no-tree --strict --terse --show-types \
		--ignore "$extra" -f "${list[@]}" | grep -v '^total:' || true
	"$CP/scripts/checkpatch.pl" --no-tree --strict --quiet \
		--ignore "$extra" -f "${list[@]}" >/dev/null || rc=1
done
exit $rc
