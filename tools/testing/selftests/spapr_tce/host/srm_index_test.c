// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the vmemmap index (realmode/srm_index.c) against
 * synthetic vmemmap_backing lists: thousands of entries in random order,
 * holes, structs that straddle two blocks, overlapping input.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/errno.h>
#include <spapr_tce/srm_index.h>
#include "tap.h"

#define BLOCK	(16ULL << 20)	/* a hash-MMU vmemmap block */
#define VBASE	0xc00c000000000000ULL
#define PSIZE	64		/* sizeof(struct page) */

static struct srm_index *alloc_index(u32 cap)
{
	struct srm_index *idx = calloc(1, srm_index_bytes(cap));

	idx->cap = cap;
	return idx;
}

/* A list of n blocks, every third one missing, in shuffled order. */
static struct srm_index *make_list(u32 n, u32 *present)
{
	struct srm_index *idx = alloc_index(n);
	u32 i, *order = malloc(n * sizeof(*order));

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		u32 j = rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	*present = 0;
	for (i = 0; i < n; i++) {
		u32 b = order[i];

		if (b % 3 == 2)
			continue;
		/* Physical backing deliberately not in virtual order. */
		srm_index_add(idx, VBASE + b * BLOCK,
			      0x100000000ULL + (u64)(n - b) * BLOCK, BLOCK);
		(*present)++;
	}
	free(order);
	return idx;
}

static int agree_everywhere(const struct srm_index *idx, const struct srm_extent *raw,
			    u32 nr, u32 blocks, u64 size)
{
	u64 va;

	for (va = VBASE - BLOCK; va < VBASE + (blocks + 1) * BLOCK; va += BLOCK / 7 + 8) {
		if (srm_index_translate(idx, va, size) !=
		    srm_linear_translate(raw, nr, va, size))
			return 0;
	}
	return 1;
}

int main(void)
{
	struct srm_index *idx;
	struct srm_extent *copy;
	u32 present, n = 5000;
	u64 p;

	srand(42);
	tap_plan(13);

	idx = make_list(n, &present);
	copy = malloc(idx->nr * sizeof(*copy));
	memcpy(copy, idx->ext, idx->nr * sizeof(*copy));
	tap_check(srm_index_finish(idx) == 0, "finish_sorts_%u_shuffled_entries", present);
	tap_check(agree_everywhere(idx, copy, idx->nr, n, PSIZE),
		  "index_equals_linear_walk_over_%u_blocks_with_holes", n);

	p = srm_index_translate(idx, VBASE + 1 * BLOCK + 5 * PSIZE, PSIZE);
	tap_check(p == 0x100000000ULL + (u64)(n - 1) * BLOCK + 5 * PSIZE,
		  "translate_returns_backing_phys_plus_offset");
	tap_check(srm_index_translate(idx, VBASE + 2 * BLOCK, PSIZE) == SRM_NO_PHYS,
		  "hole_is_not_backed");
	tap_check(srm_index_translate(idx, VBASE - PSIZE, PSIZE) == SRM_NO_PHYS,
		  "below_first_block_is_not_backed");
	p = srm_index_translate(idx, VBASE + (u64)n * BLOCK, PSIZE);
	tap_check(p == SRM_NO_PHYS, "beyond_last_block_is_not_backed");
	/* 0 and 1 are present and adjacent: a struct across them straddles. */
	tap_check(srm_index_translate(idx, VBASE + BLOCK - 40, PSIZE) == SRM_NO_PHYS,
		  "struct_straddling_two_blocks_fails");
	p = srm_linear_translate(copy, idx->nr, VBASE + BLOCK - 40, PSIZE);
	tap_check(p == SRM_NO_PHYS, "linear_walk_also_refuses_straddling_struct");
	tap_check(srm_index_translate(idx, VBASE + BLOCK - PSIZE, PSIZE) != SRM_NO_PHYS,
		  "last_whole_struct_of_a_block_is_found");
	free(idx);
	free(copy);

	idx = alloc_index(2);
	tap_check(srm_index_add(idx, VBASE, 0, BLOCK) == 0 &&
		  srm_index_add(idx, VBASE + BLOCK / 2, BLOCK, BLOCK) == 0 &&
		  srm_index_finish(idx) == -EINVAL, "overlapping_extents_are_rejected");
	tap_check(srm_index_add(idx, 0, 0, BLOCK) == -ENOSPC, "full_index_refuses_more");
	free(idx);

	idx = alloc_index(1);
	tap_check(srm_index_add(idx, ~0ULL - 10, 0, BLOCK) == -EINVAL &&
		  srm_index_add(idx, VBASE, 0, 0) == -EINVAL,
		  "wrapping_or_empty_extent_is_rejected");
	srm_index_finish(idx);
	tap_check(idx->nr == 0 && srm_index_translate(idx, VBASE, PSIZE) == SRM_NO_PHYS,
		  "empty_index_finds_nothing");
	free(idx);

	return tap_exit_status();
}
