#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make-deb.sh: build the spapr-tce-dkms package (architecture all) from
# the working tree into build/deb/, and run lintian on it. Installs the
# packaging tools it needs (debhelper, dh-dkms, lintian) when missing.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
OUT=$BUILD/deb

missing=()
for pkg in debhelper dh-dkms lintian dpkg-dev; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	echo "deb: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# One version for the modules and the package.
ver=$(sed -n 's/^#define SPAPR_TCE_VERSION "\(.*\)"$/\1/p' "$TOP/include/spapr_tce/version.h")
debver=$(cd "$TOP" && dpkg-parsechangelog -S Version)
if [[ $ver != "$debver" ]]; then
	echo "deb: include/spapr_tce/version.h says $ver, debian/changelog $debver" >&2
	exit 1
fi

# Build from a copy of the tracked files, so that neither build/ nor any
# untracked file ends up in the package.
src=$OUT/spapr-tce-$ver
rm -rf "$OUT"
mkdir -p "$src"
(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp --parents -t "$src" 2>/dev/null) ||
	(cd "$TOP" && git ls-files -z | xargs -0 cp --parents -t "$src")
(cd "$src" && dpkg-buildpackage -us -uc -b >"$OUT/build.log" 2>&1) ||
	{ tail -30 "$OUT/build.log" >&2; exit 1; }
deb=$(compgen -G "$OUT/spapr-tce-dkms_${ver}_all.deb")
echo "deb: $deb"
lintian --info --display-info --pedantic "$OUT"/spapr-tce_*.changes 2>&1 | tee "$OUT/lintian.txt"
if grep -qE '^[EW]: ' "$OUT/lintian.txt"; then
	echo "deb: lintian reports errors or warnings (build/deb/lintian.txt)" >&2
	exit 1
fi
echo "deb: lintian clean"
