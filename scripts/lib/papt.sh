# SPDX-License-Identifier: GPL-2.0
#
# A private apt configuration under the build cache: it knows ppc64el and
# amd64 and bookworm(-updates, -backports, -security), and never touches
# the system's apt sources, architecture list or package state.
# `papt_init trixie` makes a second one, in a directory of its own, for
# Debian 13 (trixie, -updates, -backports, -security): the 7.x kernels
# and their build root. The two never share lists, so what bookworm's
# users resolve (busybox, QEMU's closure) cannot drift to trixie.
#
# The archives are the host's own: apt itself says which URIs its sources
# (one-line or deb822) fetch, so the user's mirror is honoured, and the
# host's apt.conf (proxies, retries) applies because only the lists, the
# sources and the state are redirected. No archive is named in the tree.

PAPT_BASE_DIR=${PAPT_DIR:-$CACHE/apt}

# papt_host_archives: "URI SUITE" for every suite the host's apt fetches.
papt_host_archives() {
	local empty
	empty=$(mktemp -d)
	mkdir -p "$empty/partial"
	apt-get -o "Dir::State::Lists=$empty" --print-uris update 2>/dev/null |
		sed -n "s|^'\(.*\)/dists/\([^/]*\)/InRelease'.*|\1 \2|p" | sort -u
	rm -rf "$empty"
}

# papt_init [RELEASE]: RELEASE is bookworm (default) or trixie.
papt_init() {
	PAPT_RELEASE=${1:-bookworm}
	PAPT_DIR=$PAPT_BASE_DIR
	[[ $PAPT_RELEASE == bookworm ]] || PAPT_DIR=$PAPT_BASE_DIR-$PAPT_RELEASE
	mkdir -p "$PAPT_DIR"/{lists/partial,archives/partial,etc/preferences.d}
	touch "$PAPT_DIR/status"
	local archives main security suite
	archives=$(papt_host_archives)
	# The main archive serves a release's own suite (no -updates,
	# -security or -backports after it); security has a suite of its own.
	main=$(awk '$2 !~ /-/ { print $1; exit }' <<<"$archives")
	security=$(awk '$2 ~ /-security$/ { print $1; exit }' <<<"$archives")
	if [[ -z $main ]]; then
		echo "papt: the host's apt configuration names no Debian archive" >&2
		return 1
	fi
	# For a build root's own sources (scripts/lib/buildroot.sh).
	PAPT_MAIN=$main
	PAPT_SECURITY=$security
	local o="[arch=ppc64el,amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
	{
		for suite in "$PAPT_RELEASE" "$PAPT_RELEASE-updates" "$PAPT_RELEASE-backports"; do
			echo "deb $o $main $suite main"
		done
		[[ -z $security ]] || echo "deb $o $security $PAPT_RELEASE-security main"
	} >"$PAPT_DIR/etc/sources.list"
	PAPT_OPTS=(
		-o "Dir::State=$PAPT_DIR"
		-o "Dir::State::Lists=$PAPT_DIR/lists"
		-o "Dir::State::status=$PAPT_DIR/status"
		-o "Dir::Etc::SourceList=$PAPT_DIR/etc/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=$PAPT_DIR/etc/preferences.d"
		-o "Dir::Cache=$PAPT_DIR"
		-o "APT::Architecture=ppc64el"
		-o "APT::Architectures::=ppc64el"
		-o "APT::Architectures::=amd64"
		-o "Debug::NoLocking=1"
		-o "Acquire::Retries=3"
		-o "APT::Sandbox::User=root"
	)
}

# Refresh the package lists only when they are missing or when asked.
papt_update() {
	if [[ -n ${PAPT_REFRESH:-} ]] || ! compgen -G "$PAPT_DIR/lists/*ppc64el_Packages*" >/dev/null; then
		echo "fetch: refreshing the private apt lists" >&2
		apt-get "${PAPT_OPTS[@]}" update -qq >&2
	fi
}

papt() { apt-cache "${PAPT_OPTS[@]}" "$@"; }

# papt_depends PKG VERSION REGEX: the first dependency of PKG=VERSION
# whose name matches REGEX.
papt_depends() {
	papt show "$1=$2" 2>/dev/null | sed -n 's/^Depends: //p' | head -1 |
		tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep -E "$3" | head -1
}

# papt_version PKG [SUITE-REGEX]: the newest version of PKG, optionally
# restricted to versions whose string matches SUITE-REGEX.
papt_version() {
	papt madison "$1" 2>/dev/null | awk -F' *[|] *' '{print $2}' |
		grep -E "${2:-.}" | sort -V | tail -1
}

# papt_download DEST PKG[:ARCH]=VERSION...: fetch into DEST unless present.
papt_download() {
	local dest=$1 spec name ver arch file
	shift
	mkdir -p "$dest"
	for spec in "$@"; do
		name=${spec%%=*}
		ver=${spec#*=}
		arch=ppc64el
		[[ $name == *:* ]] && arch=${name#*:} && name=${name%%:*}
		file=$(compgen -G "$dest/${name}_${ver//:/%3a}_*.deb" || true)
		[[ -n $file ]] && continue
		echo "fetch: downloading $name:$arch=$ver" >&2
		# Checked here: callers may test this function, which turns
		# errexit off inside it.
		(cd "$dest" && apt-get "${PAPT_OPTS[@]}" download -qq "$name:$arch=$ver" >&2) ||
			return 1
	done
}

# papt_closure DEST PKG:ARCH=VERSION...: download the packages and their
# dependency closure into DEST, as apt resolves it on an empty system (an
# empty status file; no Essential packages, no Recommends).
papt_closure() {
	local dest=$1
	shift
	local resolve=(apt-get "${PAPT_OPTS[@]}" -o pkgCacheGen::Essential=none
		-o APT::Install-Recommends=false -o "Dir::Cache::archives=$dest")
	mkdir -p "$dest/partial"
	if ! "${resolve[@]}" -s -qq install "$@" >/dev/null; then
		echo "papt: apt cannot resolve $*" >&2
		return 1
	fi
	"${resolve[@]}" -qq --download-only install "$@" >&2
}

# papt_unpack DIR STAGE: every package in DIR unpacked into STAGE.
papt_unpack() {
	local deb
	for deb in "$1"/*.deb; do
		dpkg -x "$deb" "$2"
	done
}

# papt_list DIR: "  package:arch version", one a line, for every package in
# DIR (what a versions.txt records of a closure).
papt_list() {
	local deb
	for deb in "$1"/*.deb; do
		# shellcheck disable=SC2016 # dpkg-deb's own ${field} syntax
		dpkg-deb --showformat='  ${Package}:${Architecture} ${Version}\n' -W "$deb"
	done
}
