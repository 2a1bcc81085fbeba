/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vmemmap index: which physical memory backs which part of the
 * vmemmap virtual range. Pure logic, no kernel state, so the same code
 * runs in the module and in the host unit tests.
 */
#ifndef SPAPR_TCE_SRM_INDEX_H
#define SPAPR_TCE_SRM_INDEX_H

#include <linux/types.h>

/* [virt, virt + len) of the vmemmap is backed at [phys, phys + len). */
struct srm_extent {
	u64 virt;
	u64 phys;
	u64 len;
};

/*
 * Sorted by virt, non-overlapping. Allocated physically contiguous (never
 * vmalloc) so a reader that derives addresses from physical ones only can
 * search it.
 */
struct srm_index {
	u32 nr;
	u32 cap;
	struct srm_extent ext[];
};

#define SRM_NO_PHYS (~0ULL)

static inline size_t srm_index_bytes(u32 cap)
{
	return sizeof(struct srm_index) + (size_t)cap * sizeof(struct srm_extent);
}

int srm_index_add(struct srm_index *idx, u64 virt, u64 phys, u64 len);
int srm_index_finish(struct srm_index *idx);
u64 srm_index_translate(const struct srm_index *idx, u64 virt, u64 size);
u64 srm_linear_translate(const struct srm_extent *ext, u32 nr, u64 virt,
			 u64 size);

#endif
