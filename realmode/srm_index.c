// SPDX-License-Identifier: GPL-2.0
/*
 * The vmemmap index: a sorted array of extents searched by bisection,
 * instead of the seed's walk of the whole vmemmap_backing list for every
 * lookup (one entry per vmemmap block: thousands on a large host).
 */
#include <linux/errno.h>
#include <linux/sort.h>
#include <spapr_tce/srm_index.h>

/**
 * srm_index_add() - append one extent (unsorted until srm_index_finish()).
 * @idx: the index being built
 * @virt: start of the vmemmap virtual range
 * @phys: physical address backing @virt
 * @len: length of the range in bytes
 *
 * Return: 0, -ENOSPC when the index is full, -EINVAL for an empty or
 * wrapping range.
 */
int srm_index_add(struct srm_index *idx, u64 virt, u64 phys, u64 len)
{
	if (!len || virt + len < virt || phys + len < phys)
		return -EINVAL;
	if (idx->nr >= idx->cap)
		return -ENOSPC;
	idx->ext[idx->nr].virt = virt;
	idx->ext[idx->nr].phys = phys;
	idx->ext[idx->nr].len = len;
	idx->nr++;
	return 0;
}

static int srm_extent_cmp(const void *a, const void *b)
{
	const struct srm_extent *x = a, *y = b;

	if (x->virt != y->virt)
		return x->virt < y->virt ? -1 : 1;
	return 0;
}

/**
 * srm_index_finish() - sort the extents and check they do not overlap.
 * @idx: the index being built
 *
 * Return: 0, or -EINVAL when two extents overlap (an inconsistent source).
 */
int srm_index_finish(struct srm_index *idx)
{
	u32 i;

	sort(idx->ext, idx->nr, sizeof(idx->ext[0]), srm_extent_cmp, NULL);
	for (i = 1; i < idx->nr; i++)
		if (idx->ext[i - 1].virt + idx->ext[i - 1].len > idx->ext[i].virt)
			return -EINVAL;
	return 0;
}

/* The whole of [virt, virt + size) must lie in one extent. */
static u64 srm_extent_phys(const struct srm_extent *e, u64 virt, u64 size)
{
	if (virt < e->virt || virt - e->virt >= e->len ||
	    size > e->len - (virt - e->virt))
		return SRM_NO_PHYS;
	return e->phys + (virt - e->virt);
}

/**
 * srm_index_translate() - physical address of [virt, virt + size).
 * @idx: a finished index
 * @virt: vmemmap virtual address
 * @size: bytes that must all be backed by the same extent
 *
 * No locks, no allocation, no sleeping: only reads of @idx.
 *
 * Return: the physical address, or SRM_NO_PHYS when @virt is not backed
 * or the object straddles two extents.
 */
u64 srm_index_translate(const struct srm_index *idx, u64 virt, u64 size)
{
	u32 lo = 0, hi = idx->nr;

	/* Find the last extent starting at or below virt. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (idx->ext[mid].virt <= virt)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return SRM_NO_PHYS;
	return srm_extent_phys(&idx->ext[lo - 1], virt, size);
}

/**
 * srm_linear_translate() - the seed's algorithm: try every extent in turn.
 * @ext: extents, in any order
 * @nr: how many
 * @virt: vmemmap virtual address
 * @size: bytes that must all be backed by the same extent
 *
 * Kept as the reference the index is tested and benchmarked against.
 *
 * Return: as srm_index_translate().
 */
u64 srm_linear_translate(const struct srm_extent *ext, u32 nr, u64 virt,
			 u64 size)
{
	u32 i;

	for (i = 0; i < nr; i++) {
		if (virt >= ext[i].virt && virt - ext[i].virt < ext[i].len)
			return srm_extent_phys(&ext[i], virt, size);
	}
	return SRM_NO_PHYS;
}
