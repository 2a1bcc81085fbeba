// SPDX-License-Identifier: GPL-2.0
/*
 * Preregistered user memory: the host physical address of every page of a
 * pinned user range, kept in page-sized chunks of the linear map so a
 * real-mode reader can get at them (the in-tree registry keeps them in
 * vmalloc memory and needs vmalloc_to_phys() in real mode).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <spapr_tce/srm_tce_shift.h>
#include "srm_internal.h"

#define SRM_PER_CHUNK	(PAGE_SIZE / sizeof(u64))

struct srm_region {
	u64 ua;			/* first user address, PAGE_SIZE aligned */
	u64 entries;		/* PAGE_SIZE pages */
	unsigned int max_shift;	/* largest page size backing all of it */
	u64 **chunks;		/* kmalloc'd; each chunk one page */
};

/**
 * srm_region_alloc() - a translation table for @entries pages at @ua.
 * @ua: user address of the first page (PAGE_SIZE aligned)
 * @entries: number of PAGE_SIZE pages
 * @gfp: allocation flags (GFP_KERNEL_ACCOUNT for user-driven callers)
 *
 * Virtual mode.
 *
 * Return: the region, or NULL.
 */
struct srm_region *srm_region_alloc(u64 ua, u64 entries, gfp_t gfp)
{
	u64 nchunks = DIV_ROUND_UP(entries, SRM_PER_CHUNK), i;
	struct srm_region *r;

	if (!entries || ua & ~PAGE_MASK || nchunks > INT_MAX / sizeof(u64 *))
		return NULL;
	r = kzalloc(sizeof(*r), gfp);
	if (!r)
		return NULL;
	r->ua = ua;
	r->entries = entries;
	r->max_shift = PAGE_SHIFT;
	r->chunks = kcalloc(nchunks, sizeof(u64 *), gfp | __GFP_NOWARN);
	if (!r->chunks)
		goto fail;
	for (i = 0; i < nchunks; i++) {
		r->chunks[i] = (u64 *)get_zeroed_page(gfp);
		if (!r->chunks[i])
			goto fail;
	}
	return r;
fail:
	srm_region_free(r);
	return NULL;
}
EXPORT_SYMBOL_GPL(srm_region_alloc);

/**
 * srm_region_free() - free a region's table (not the pages it names).
 * @r: the region, or NULL
 */
void srm_region_free(struct srm_region *r)
{
	u64 i;

	if (!r)
		return;
	if (r->chunks)
		for (i = 0; i < DIV_ROUND_UP(r->entries, SRM_PER_CHUNK); i++)
			free_page((unsigned long)r->chunks[i]);
	kfree(r->chunks);
	kfree(r);
}
EXPORT_SYMBOL_GPL(srm_region_free);

/**
 * srm_region_set_hpa() - record the host physical address of page @i.
 * @r: the region
 * @i: page index, below the region's entries
 * @hpa: host physical address of that page
 */
void srm_region_set_hpa(struct srm_region *r, u64 i, u64 hpa)
{
	if (WARN_ON_ONCE(i >= r->entries))
		return;
	r->chunks[i / SRM_PER_CHUNK][i % SRM_PER_CHUNK] = hpa;
}
EXPORT_SYMBOL_GPL(srm_region_set_hpa);

/**
 * srm_page_tce_shift() - the largest TCE page a pinned page can back.
 * @page: a page pinned for the user address @ua
 * @ua: the user address @page is mapped at
 *
 * Only hugetlb pages count as large: a transparent huge page or another
 * large folio may sit at any alignment (after mremap()), see
 * srm_tce_shift_limit(). Virtual mode.
 *
 * Return: log2 of the largest TCE page size @page can back at @ua.
 */
unsigned int srm_page_tce_shift(struct page *page, u64 ua)
{
	struct page *head = compound_head(page);

	return srm_tce_shift_limit(ua & PAGE_MASK, page_to_phys(page),
				   PAGE_SHIFT, PageHuge(head),
				   page_shift(head));
}
EXPORT_SYMBOL_GPL(srm_page_tce_shift);

/**
 * srm_region_set_max_shift() - the largest page size backing the region.
 * @r: the region
 * @shift: log2 of that size; a TCE page larger than it is refused
 */
void srm_region_set_max_shift(struct srm_region *r, unsigned int shift)
{
	r->max_shift = shift;
}
EXPORT_SYMBOL_GPL(srm_region_set_max_shift);

/**
 * srm_region_max_shift() - what srm_region_set_max_shift() recorded.
 * @r: the region
 *
 * Return: log2 of the largest page size backing the whole region.
 */
unsigned int srm_region_max_shift(const struct srm_region *r)
{
	return r->max_shift;
}
EXPORT_SYMBOL_GPL(srm_region_max_shift);

/**
 * srm_region_ua() - first user address of the region.
 * @r: the region
 *
 * Return: the address.
 */
u64 srm_region_ua(const struct srm_region *r)
{
	return r->ua;
}
EXPORT_SYMBOL_GPL(srm_region_ua);

/**
 * srm_region_entries() - size of the region in PAGE_SIZE pages.
 * @r: the region
 *
 * Return: the number of pages.
 */
u64 srm_region_entries(const struct srm_region *r)
{
	return r->entries;
}
EXPORT_SYMBOL_GPL(srm_region_entries);

/**
 * srm_region_ua_to_hpa() - host physical address of a user address.
 * @core: from srm_core_get()
 * @r: the region containing @ua (kmalloc'd by srm_region_alloc())
 * @ua: user address of a TCE page: aligned to it
 * @page_shift: the TCE page size the caller maps; it must not exceed the
 *	page size backing the region, nor run past its end
 * @hpa: the result
 *
 * Real-mode safe. The platform's TCE setter BUG()s on a host address off
 * the TCE page's alignment (powernv's pnv_tce_xchg), and a guest's
 * memslot may place a TCE page at any base-page offset of a huge page:
 * such a @ua is refused here, for every caller.
 *
 * Return: 0; -EFAULT when @ua is outside @r, not aligned to the TCE page,
 * or a table is not reachable; -EINVAL for a TCE page larger than the
 * backing pages.
 */
int srm_region_ua_to_hpa(struct srm_core *core, const struct srm_region *r,
			 u64 ua, unsigned int page_shift, u64 *hpa)
{
	u64 i, span, *chunk;

	if (!srm_rm_addr_ok(core, r, sizeof(*r)))
		return -EFAULT;
	if (page_shift > r->max_shift)
		return -EINVAL;
	if (ua & ((1ULL << page_shift) - 1))
		return -EFAULT;
	/* PAGE_SIZE pages one TCE page covers. */
	span = page_shift > PAGE_SHIFT ? 1ULL << (page_shift - PAGE_SHIFT) : 1;
	i = (ua - r->ua) >> PAGE_SHIFT;
	if (ua < r->ua || i >= r->entries || span > r->entries - i)
		return -EFAULT;
	if (!srm_rm_addr_ok(core, &r->chunks[i / SRM_PER_CHUNK], sizeof(u64 *)))
		return -EFAULT;
	chunk = READ_ONCE(r->chunks[i / SRM_PER_CHUNK]);
	if (!srm_rm_addr_ok(core, chunk, PAGE_SIZE))
		return -EFAULT;
	*hpa = chunk[i % SRM_PER_CHUNK] | (ua & ~PAGE_MASK);
	return 0;
}
EXPORT_SYMBOL_GPL(srm_region_ua_to_hpa);
