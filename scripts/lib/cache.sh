# SPDX-License-Identifier: GPL-2.0
#
# The download cache is the host's, not the clone's: every clone on the
# machine (CI's fresh one included) reuses what an earlier one fetched.
# SPAPR_TCE_CACHE (or CACHE) chooses another place; a host where the
# default cannot be written falls back to the clone's build/cache.
#
# cache_lock: hold the cache for the rest of the calling script, so that
# clones fetching at the same time do not download into each other.

CACHE=${CACHE:-${SPAPR_TCE_CACHE:-/var/cache/spapr-tce}}
if ! mkdir -p "$CACHE" 2>/dev/null || [[ ! -w $CACHE ]]; then
	CACHE=${BUILD:?}/cache
	mkdir -p "$CACHE"
fi
export CACHE

cache_lock() {
	exec {CACHE_LOCK_FD}>"$CACHE/.lock"
	flock "$CACHE_LOCK_FD"
}

# cache_busybox DEB: busybox-static's binary from DEB into
# $CACHE/busybox/bin/busybox, where every clone's lab takes it from
# (scripts/lab/mkinitramfs.sh, which reads without the lock). Unpacked
# beside it and renamed over it, so that a reader gets the old file or
# the new one, whole: unpacked in place, a clone's fresh fetch rewrote it
# while another clone's lab copied it, whose guests' init then died of
# SIGBUS in the truncated binary (2026-12-05).
cache_busybox() {
	local tmp rc=0

	mkdir -p "$CACHE/busybox/bin"
	tmp=$(mktemp -d "$CACHE/busybox.XXXXXX")
	dpkg -x "$1" "$tmp" && mv -f "$tmp/bin/busybox" "$CACHE/busybox/bin/busybox" || rc=$?
	rm -rf "$tmp"
	return "$rc"
}
