#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The vmemmap index follows memory hotplug: a DIMM hot-added to a pseries
# guest (through QEMU's monitor, at the guest's request) is indexed once
# online, every pfn of it is found, and after hot-remove the index is back
# to its old size and the removed pfns are no longer found.

. "$(dirname "$0")/lib.sh"
D=/sys/kernel/debug/spapr_realmode
MIB=512

case $LAB_MACHINE in
pseries|pseries-hash|pseries-nested|pseries-p10) ;;
*)
	tap_plan 1
	tap_skip index_follows_memory_hotplug "no DIMM slots on $LAB_MACHINE: QEMU hot-adds memory to pseries machines only"
	exit 0
	;;
esac
tap_plan 7

info() { sed -n "s/^$1: //p" $D/info; }
# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	t=$1
	shift
	while [ "$t" -gt 0 ]; do
		"$@" && return 0
		sleep 1
		t=$((t - 1))
	done
	return 1
}
pfns_are() { [ "$(info indexed_pfns)" -eq "$1" ]; }
grown_to() {
	pfns_are "$1" && ! grep -q offline /sys/devices/system/memory/memory*/state
}
lookup() { echo "$1" >$D/lookup && cat $D/lookup; }

# The guest's kernel onlines each DIMM block as it adds it (pseries
# DLPAR), by default into ZONE_NORMAL, where the next block's memmap or a
# slab page may land, and then the guest cannot offline it: the debug
# kernel did so (pfn 0x8fe00, "unmovable page"). Memory meant to be
# unplugged goes online movable (Documentation/admin-guide/mm/
# memory-hotplug.rst); auto-movable does that while the movable memory
# stays within its ratio of the rest, as 512M of 2G does.
POLICY=/sys/module/memory_hotplug/parameters/online_policy
policy0=$(cat $POLICY 2>/dev/null)
[ -n "$policy0" ] && echo auto-movable >$POLICY

mod_insmod spapr_realmode || { tap_fail load; exit 1; }
page=$(info page_size)
n0=$(info indexed_pfns)
want=$((n0 + MIB * 1024 * 1024 / page))
blocks0=$(ls -d /sys/devices/system/memory/memory* | wc -l)

echo "LAB-REQUEST: mem-add dimm1 $MIB" >/dev/console
tap_check "index_grows_by_${MIB}MiB_of_hot_added_memory" wait_for 120 grown_to $want
echo "# indexed pfns: $n0 before, $(info indexed_pfns) after hot-add"
echo "# zones: $(cat /sys/devices/system/memory/memory*/valid_zones | sort | uniq -c | tr -s ' \n' ' ')"

# The new memory's first pfn: the highest-numbered memory block.
last=$(ls -d /sys/devices/system/memory/memory* | sed 's/.*memory//' | sort -n | tail -1)
bsize=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
newpfn=$((last * bsize / page))
echo "# $(lookup $newpfn)"
tap_check hot_added_pfn_is_found_and_ram sh -c "echo $newpfn >$D/lookup; grep -q ', ram' $D/lookup"
cat $D/selftest >/tmp/st.tap
tap_check selftest_finds_every_pfn_after_hot_add grep -q '^ok .* every_online_pfn_is_found' /tmp/st.tap
tap_check selftest_structs_match_after_hot_add grep -q '^ok .* lookup_equals_pfn_to_page_struct_contents' /tmp/st.tap

echo "LAB-REQUEST: mem-del dimm1" >/dev/console
tap_check index_shrinks_back_after_hot_remove wait_for 120 pfns_are $n0
echo "# $(lookup $newpfn)"
tap_check removed_pfn_is_not_found sh -c "echo $newpfn >$D/lookup; grep -q 'not found' $D/lookup"
echo "# memory blocks: $blocks0 before, $(ls -d /sys/devices/system/memory/memory* | wc -l) after"
tap_check unload rmmod spapr_realmode
[ -n "$policy0" ] && echo "$policy0" >$POLICY
tap_done
