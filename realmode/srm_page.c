// SPDX-License-Identifier: GPL-2.0
/*
 * struct page lookup and refcounting under real-mode rules.
 *
 * With the MMU off the vmemmap is unreachable, so a page struct is found
 * through the index (physical addresses of the vmemmap backing) and
 * touched through its linear-map alias. A reference is never dropped to
 * zero here: freeing a page needs the allocator, which real mode cannot
 * run (the seed's put_page_unless_one).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/page_ref.h>
#include <linux/rcupdate.h>
#include "srm_internal.h"
#include <spapr_tce/compat.h>

/**
 * srm_rm_addr_ok() - may the real-mode path dereference [p, p + size)?
 * @core: counts the violations (may be NULL)
 * @p: the address
 * @size: bytes about to be read or written
 *
 * The one accessor check of the real-mode path: the range must lie in the
 * linear map, below VMALLOC_START, so it is reachable with the MMU off.
 * Module data, vmalloc, ioremap and vmemmap addresses all fail. A failure
 * is counted in @core (debugfs "violations") and makes the caller give up.
 *
 * Return: true when the range may be touched.
 */
bool srm_rm_addr_ok(struct srm_core *core, const void *p, size_t size)
{
	unsigned long a = (unsigned long)p;

	if (likely(a >= PAGE_OFFSET && a + size >= a &&
		   a + size <= (unsigned long)VMALLOC_START))
		return true;
	if (core && srm_rm_addr_ok(NULL, core, sizeof(*core)))
		atomic64_inc(&core->violations);
	return false;
}
EXPORT_SYMBOL_GPL(srm_rm_addr_ok);

/**
 * srm_core_get() - the handle of the real-mode core (virtual mode).
 *
 * Callers keep it in their own linear-map data and pass it to the
 * real-mode functions, which so never read module data.
 *
 * Return: the core; valid while spapr_realmode.ko is loaded, which every
 * module calling this depends on.
 */
struct srm_core *srm_core_get(void)
{
	return srm_core;
}
EXPORT_SYMBOL_GPL(srm_core_get);

/**
 * srm_pfn_to_page() - linear-map alias of a pfn's struct page.
 * @core: from srm_core_get()
 * @pfn: page frame number
 *
 * Real-mode safe. Must be called with preemption disabled (as a hcall
 * handler is), which keeps the index it reads alive.
 *
 * Return: the page struct, or NULL when the pfn has no struct page in
 * online memory, or its struct straddles two vmemmap blocks.
 */
struct page *srm_pfn_to_page(struct srm_core *core, unsigned long pfn)
{
	const struct srm_index *idx;
	u64 va, phys;
	void *p;

	if (!srm_rm_addr_ok(NULL, core, sizeof(*core)))
		return NULL;
	atomic64_inc(&core->lookups);
	if (pfn >= (1UL << (MAX_PHYSMEM_BITS - PAGE_SHIFT)))
		goto miss;
	idx = rcu_dereference_sched(core->index);
	if (!idx || !srm_rm_addr_ok(core, idx, srm_index_bytes(idx->cap)))
		goto miss;
	va = core->vmemmap_base + (u64)pfn * core->page_struct_size;
	phys = srm_index_translate(idx, va, core->page_struct_size);
	if (phys == SRM_NO_PHYS)
		goto miss;
	p = __va(phys);
	if (!srm_rm_addr_ok(core, p, core->page_struct_size))
		goto miss;
	return p;
miss:
	atomic64_inc(&core->misses);
	return NULL;
}
EXPORT_SYMBOL_GPL(srm_pfn_to_page);

/**
 * srm_compound_head() - the head page of a (possibly tail) page.
 * @core: from srm_core_get()
 * @page: a linear-map alias from srm_pfn_to_page()
 *
 * A tail's compound_head holds the head's vmemmap address: it is
 * translated through the index again, never dereferenced.
 *
 * Return: the head's linear-map alias (@page itself when it is not a
 * tail), or NULL.
 */
struct page *srm_compound_head(struct srm_core *core, struct page *page)
{
	unsigned long head = READ_ONCE(page->SPAPR_PAGE_COMPOUND);

	if (!(head & 1))
		return page;
	head -= 1;
	if (head < core->vmemmap_base ||
	    (head - core->vmemmap_base) % core->page_struct_size)
		return NULL;
	return srm_pfn_to_page(core, (head - core->vmemmap_base) /
			       core->page_struct_size);
}
EXPORT_SYMBOL_GPL(srm_compound_head);

/* Classification of a page struct already found (see srm_pfn_is_ram()). */
static bool srm_page_is_ram(const struct page *page)
{
	return page && !test_bit(PG_reserved, spapr_compat_page_flags(page)) &&
		!is_zone_device_page(page);
}

/**
 * srm_pfn_is_ram() - is this pfn kernel-managed RAM?
 * @core: from srm_core_get()
 * @pfn: page frame number
 *
 * Kernel-managed RAM has a struct page in online memory, is not reserved
 * and is not ZONE_DEVICE; only such pages may be refcounted. Anything
 * else (MMIO, device memory, firmware-reserved, memory going offline)
 * is not, and is never refcounted.
 *
 * Return: true for kernel-managed RAM.
 */
bool srm_pfn_is_ram(struct srm_core *core, unsigned long pfn)
{
	return srm_page_is_ram(srm_pfn_to_page(core, pfn));
}
EXPORT_SYMBOL_GPL(srm_pfn_is_ram);

/**
 * srm_get_page_unless_zero() - take a reference on a pfn's page.
 * @core: from srm_core_get()
 * @pfn: page frame number of kernel-managed RAM
 *
 * The reference goes to the head of a compound page, never to a tail's
 * own count. A page whose count is zero (free, or being frozen) is left
 * alone.
 *
 * Return: the head page's linear-map alias holding the new reference, or
 * NULL (retry in virtual mode).
 */
struct page *srm_get_page_unless_zero(struct srm_core *core, unsigned long pfn)
{
	struct page *page = srm_pfn_to_page(core, pfn), *head;

	if (!srm_page_is_ram(page))
		return NULL;
	head = srm_compound_head(core, page);
	if (!head || !atomic_inc_not_zero(&head->_refcount))
		return NULL;
	/* The compound page may have been split before we got the ref. */
	if (unlikely(srm_compound_head(core, page) != head)) {
		srm_put_page_unless_one(core, head);
		return NULL;
	}
	return head;
}
EXPORT_SYMBOL_GPL(srm_get_page_unless_zero);

/**
 * srm_put_page_unless_one() - drop a reference unless it is the last.
 * @core: from srm_core_get()
 * @head: a head page from srm_get_page_unless_zero()
 *
 * Return: true when the reference was dropped; false when it is the last
 * one, which only virtual mode may drop (put_page() may free).
 */
bool srm_put_page_unless_one(struct srm_core *core, struct page *head)
{
	if (!srm_rm_addr_ok(core, head, sizeof(*head)))
		return false;
	return atomic_add_unless(&head->_refcount, -1, 1);
}
EXPORT_SYMBOL_GPL(srm_put_page_unless_one);
