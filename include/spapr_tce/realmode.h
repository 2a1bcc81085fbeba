/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spapr_realmode.ko: struct page lookup, refcounting and user-memory
 * translation that follow real-mode rules (see
 * Documentation/realmode.rst): no sleeping, no locks that sleep, and only
 * addresses derived from physical ones (the linear map) are dereferenced.
 * Every function here that can fail on the fast path fails cleanly, and
 * the caller retries in virtual mode.
 */
#ifndef SPAPR_TCE_REALMODE_H
#define SPAPR_TCE_REALMODE_H

#include <linux/mm_types.h>
#include <linux/types.h>

struct srm_core;
struct srm_region;

/* Virtual mode: the handle every real-mode call below takes. */
struct srm_core *srm_core_get(void);

/*
 * struct page lookups return the linear-map alias of the page struct (an
 * address __pa() works on), never its vmemmap address.
 */
struct page *srm_pfn_to_page(struct srm_core *core, unsigned long pfn);
struct page *srm_compound_head(struct srm_core *core, struct page *page);
bool srm_pfn_is_ram(struct srm_core *core, unsigned long pfn);

/**
 * struct srm_page_ref - a page reference taken under real-mode rules.
 * @head: linear-map alias of the page struct whose count holds the
 *	reference (a compound page's head); NULL when none is held
 * @pfn: that page's pfn: pfn_to_page(@pfn) is the same struct at its
 *	vmemmap address, the only one the allocator may be given
 *
 * Get it with srm_get_page_unless_zero(), drop it with srm_put_page() and,
 * when that keeps the last reference, srm_put_page_virt() in virtual mode.
 */
struct srm_page_ref {
	struct page *head;
	unsigned long pfn;
};

bool srm_get_page_unless_zero(struct srm_core *core, unsigned long pfn,
			      struct srm_page_ref *ref);
bool srm_put_page(struct srm_core *core, struct srm_page_ref *ref);
void srm_put_page_virt(struct srm_page_ref *ref);	/* virtual mode only */
bool srm_put_page_unless_one(struct srm_core *core, struct page *head);

bool srm_rm_addr_ok(struct srm_core *core, const void *p, size_t size);

/* Preregistered user memory: user address -> host physical address. */
struct srm_region *srm_region_alloc(u64 ua, u64 entries, gfp_t gfp);
void srm_region_free(struct srm_region *r);
void srm_region_set_hpa(struct srm_region *r, u64 i, u64 hpa);
unsigned int srm_page_tce_shift(struct page *page, u64 ua);
void srm_region_set_max_shift(struct srm_region *r, unsigned int shift);
unsigned int srm_region_max_shift(const struct srm_region *r);
u64 srm_region_ua(const struct srm_region *r);
u64 srm_region_entries(const struct srm_region *r);
int srm_region_ua_to_hpa(struct srm_core *core, const struct srm_region *r,
			 u64 ua, unsigned int page_shift, u64 *hpa);

#endif
