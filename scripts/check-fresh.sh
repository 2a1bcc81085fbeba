#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-fresh.sh [--reuse-cache] [--filter REGEX]: prove the README's two
# commands on a bare Debian 12 system (make check-fresh).
#
#  1. a minimal bookworm (debootstrap --variant=minbase, nothing added),
#     from the archive the host's apt uses (scripts/lib/papt.sh asks apt),
#     kept as a tarball in the download cache, so that a second run does
#     not bootstrap again; every run starts from that pristine tarball in
#     build/fresh/root, never from a used root;
#  2. /proc, /sys, /dev, /dev/pts and /dev/shm mounted in it (in a mount
#     namespace of our own, and unmounted by the EXIT trap), the host's
#     apt sources, keys and apt.conf.d (the user's mirror and proxy) and
#     resolv.conf copied in;
#  3. as root in the chroot, with a clean environment and nice, what the
#     README tells a new user to type: `apt-get install git make` (the
#     only packages the project cannot install itself: git to clone, make
#     to run the commands), a git clone of the repository's committed
#     HEAD (from a bundle) into /root/spapr-tce, `make run`,
#     then `make check` restricted to the host tests and one machine, both
#     kernels (T='^(host/|powernv9/)', JOBS=1; REGEX replaces T).
#
# The download cache inside is the new system's own, empty
# /var/cache/spapr-tce: a new user's. --reuse-cache binds the host's cache
# there instead (faster; it no longer proves the downloads).
#
# Prints every line of the two commands, each with the seconds since it
# started, then the times of bootstrap, provision, fetch, build, run and
# check, and ends with the check's own totals line. Exit status: non-zero
# when either command failed. Log: build/fresh/log.txt.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
reuse=0
filter='^(host/|powernv9/)'
while [[ $# -gt 0 ]]; do
	case $1 in
	--reuse-cache)	reuse=1; shift ;;
	--filter)	filter=$2; shift 2 ;;
	-h|--help)	sed -n '4,31s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*)		echo "check-fresh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ $(id -u) == 0 ]] || { echo "check-fresh: run as root (debootstrap, chroot, mount)" >&2; exit 2; }

# Mounts go into a namespace of our own: whatever happens, none of them
# is left in the host's mount table.
if [[ -z ${CHECK_FRESH_NS:-} ]]; then
	export CHECK_FRESH_NS=1
	exec unshare --mount --propagation private -- bash "$0" "$@"
fi

. "$TOP/scripts/lib/cache.sh"
. "$TOP/scripts/lib/papt.sh"
FRESH=$BUILD/fresh
ROOT=$FRESH/root
LOG=$FRESH/log.txt
TARBALL=$CACHE/fresh/bookworm-minbase-amd64.tar
mkdir -p "$FRESH" "$CACHE/fresh"

mounted() { grep -q " $1 " /proc/self/mountinfo; }

umount_all() {
	local m
	# Deepest first.
	for m in $(awk -v r="$ROOT" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done
}

cleanup() {
	local rc=$? p
	# Whatever still runs inside the chroot is ours (the command's
	# children): stop it, then unmount.
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/root" 2>/dev/null) == "$ROOT" ]] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	umount_all
	return "$rc"
}
trap cleanup EXIT

t_start=$EPOCHSECONDS

# 1. The pristine system.
tb0=$EPOCHSECONDS
if [[ ! -s $TARBALL ]]; then
	command -v debootstrap >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
	main=$(papt_host_archives | awk '$2 !~ /-/ { print $1; exit }')
	[[ -n $main ]] || { echo "check-fresh: the host's apt configuration names no Debian archive" >&2; exit 1; }
	# debootstrap's downloads go through the host apt's proxy, if any.
	eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
	[[ -z ${http_proxy:-} ]] || export http_proxy
	echo "check-fresh: debootstrap --variant=minbase bookworm (the host apt's archive)"
	rm -rf --one-file-system "${FRESH:?}/boot"
	debootstrap --variant=minbase \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		bookworm "$FRESH/boot" "$main" >"$FRESH/debootstrap.log" 2>&1 ||
		{ tail -20 "$FRESH/debootstrap.log"; exit 1; }
	# Nothing of the bootstrap's own apt state in the tarball.
	rm -rf "$FRESH/boot/var/lib/apt/lists/"* "$FRESH/boot/var/cache/apt/archives/"*.deb
	tar -C "$FRESH/boot" -cf "$TARBALL.tmp" .
	mv "$TARBALL.tmp" "$TARBALL"
	rm -rf --one-file-system "${FRESH:?}/boot"
	boot_how="debootstrap"
else
	boot_how="from the cached tarball"
fi
if mounted "$ROOT" || awk -v r="$ROOT/" 'index($5, r) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
	echo "check-fresh: something is mounted under $ROOT; not removing it" >&2
	exit 1
fi
rm -rf --one-file-system "$ROOT"
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$TARBALL"
t_bootstrap=$((EPOCHSECONDS - tb0))

# 2. The user's apt configuration, name resolution, the clone's source.
# The host's, in place of what debootstrap wrote.
for f in sources.list sources.list.d apt.conf.d trusted.gpg trusted.gpg.d preferences.d; do
	rm -rf "${ROOT:?}/etc/apt/$f"
	if [[ -e /etc/apt/$f ]]; then cp -a "/etc/apt/$f" "$ROOT/etc/apt/$f"; fi
done
mkdir -p "$ROOT/etc/apt/sources.list.d" "$ROOT/etc/apt/apt.conf.d"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
branch=$(git -C "$TOP" symbolic-ref -q HEAD || true)
git -C "$TOP" bundle create -q "$ROOT/tmp/spapr-tce.bundle" HEAD ${branch:+"$branch"} 2>/dev/null ||
	git -C "$TOP" bundle create "$ROOT/tmp/spapr-tce.bundle" HEAD ${branch:+"$branch"}
rev=$(git -C "$TOP" rev-parse --short HEAD)

# A real system's / is a mount point, and tools rely on it: unshare
# --propagation (scripts/lib/buildroot.sh) fails with EINVAL otherwise.
mount --bind "$ROOT" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --bind /sys "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
mount -t tmpfs -o mode=1777 shm "$ROOT/dev/shm"
cache_how="empty (the new system's own)"
if [[ $reuse == 1 ]]; then
	mkdir -p "$ROOT/var/cache/spapr-tce"
	mount --bind "$CACHE" "$ROOT/var/cache/spapr-tce"
	cache_how="the host's, bound ($CACHE)"
fi

# 3. The README's commands, as a new user types them.
inner=$(cat <<EOF
set -u
cd /root
echo "check-fresh: apt-get install git make"
export DEBIAN_FRONTEND=noninteractive
{ apt-get update -qq && apt-get install -y -qq git make >/dev/null; } || exit 1
unset DEBIAN_FRONTEND
git clone -q /tmp/spapr-tce.bundle spapr-tce || exit 1
cd spapr-tce
echo "check-fresh: make run"
make run
echo "check-fresh: make run status \$?"
echo "check-fresh: make check T='$filter' (JOBS=1)"
JOBS=1 make check T='$filter'
echo "check-fresh: make check status \$?"
EOF
)
echo "check-fresh: $rev in a fresh bookworm minbase ($boot_how, ${t_bootstrap}s); download cache: $cache_how"
: >"$LOG"
t0=$EPOCHSECONDS
set +e
nice -n 10 chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/bash -c "$inner" </dev/null 2>&1 |
	while IFS= read -r line; do
		printf '%5d %s\n' $((EPOCHSECONDS - t0)) "$line"
	done | tee "$LOG"
set -e

# The phases, from the lines that mark them (seconds since the start).
# provision: until the first fetch line; fetch: the 6.1 kernel and
# Debian's ppc64el QEMU (make run), then the 6.12 kernel and checkpatch
# (make check); build: the modules and selftests before the first boot;
# run: the rest of make run; check: all of make check.
awk '
function at(re,   i) { for (i = 1; i <= n; i++) if (txt[i] ~ re) return t[i]; return -1 }
function after(re, from,   i) { for (i = 1; i <= n; i++) if (t[i] >= from && txt[i] ~ re) return t[i]; return -1 }
{ n++; t[n] = $1 + 0; s = $0; sub(/^ *[0-9]+ /, "", s); txt[n] = s }
END {
	pre0 = at("^check-fresh: apt-get install git make")
	run0 = at("^check-fresh: make run$"); runend = at("^check-fresh: make run status")
	chk0 = at("^check-fresh: make check T="); chkend = at("^check-fresh: make check status")
	f0 = after("^fetch", run0); f1 = at("^fetch: kernel 6.1 ready")
	boot = at("^make run: booting")
	q0 = at("^make run: exit status"); q1 = at("^fetch-qemu: .* in ")
	c1 = at("^# kernel 6.12:"); l0 = after("^lint: |^fetch: .*linux-source", chk0)
	l1 = after("^(PASS|FAIL) host/lint/", chk0)
	prov = (f0 >= 0 ? f0 : boot) - run0
	fetch = (f1 >= 0 && f0 >= 0 ? f1 - f0 : 0) + (q1 >= 0 ? q1 - q0 : 0)
	cfetch = (c1 >= 0 ? c1 - chk0 : 0)
	build = (boot >= 0 ? boot - (f1 >= 0 ? f1 : run0) : -1)
	run = (runend >= 0 && boot >= 0 ? runend - boot - (q1 >= 0 ? q1 - q0 : 0) : -1)
	check = (chkend >= 0 ? chkend - chk0 : -1)
	printf "check-fresh: times (s): git and make %d, provision %d, fetch %d (make run) + %d (make check: 6.12 and provision), build %d, run %d, check %d", run0 - pre0, prov, fetch, cfetch, build, run, check
	if (l0 >= 0 && l1 >= 0) printf " (checkpatch fetch and lint %d)", l1 - l0
	printf "\n"
}' "$LOG" | sed "s/^check-fresh: times (s): /check-fresh: times (s): bootstrap $t_bootstrap ($boot_how), /"
echo "check-fresh: total $((EPOCHSECONDS - t_start))s; log $LOG"
runrc=$(sed -n 's/^ *[0-9]* check-fresh: make run status //p' "$LOG")
chkrc=$(sed -n 's/^ *[0-9]* check-fresh: make check status //p' "$LOG")
echo "check-fresh: make run status ${runrc:-none}, make check status ${chkrc:-none}"
grep -E '^ *[0-9]+ [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$LOG" | tail -1 | sed 's/^ *[0-9]* //'
[[ $runrc == 0 && $chkrc == 0 ]]
