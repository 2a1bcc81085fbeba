// SPDX-License-Identifier: GPL-2.0
/*
 * struct page lookup and refcounting under real-mode rules.
 *
 * With the MMU off the vmemmap is unreachable, so a page struct is found
 * through the index (physical addresses of the vmemmap backing) and
 * touched through its linear-map alias. A reference is never dropped to
 * zero on the real-mode path: freeing a page needs the allocator, which
 * real mode cannot run (the seed's put_page_unless_one). The last one is
 * handed back to the caller with the page's pfn, for srm_put_page_virt()
 * to drop in virtual mode through the struct page the allocator knows.
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

/*
 * The head of @page, whose pfn is @pfn, and the head's pfn in @head_pfn.
 * A tail's compound_head holds the head's vmemmap address: it becomes a
 * pfn by arithmetic and the head's alias through the index again, it is
 * never dereferenced.
 */
static struct page *srm_head(struct srm_core *core, struct page *page,
			     unsigned long pfn, unsigned long *head_pfn)
{
	unsigned long head = READ_ONCE(page->SPAPR_PAGE_COMPOUND);

	if (!(head & 1)) {
		*head_pfn = pfn;
		return page;
	}
	head -= 1;
	if (head < core->vmemmap_base ||
	    (head - core->vmemmap_base) % core->page_struct_size)
		return NULL;
	*head_pfn = (head - core->vmemmap_base) / core->page_struct_size;
	return srm_pfn_to_page(core, *head_pfn);
}

/**
 * srm_compound_head() - the head page of a (possibly tail) page.
 * @core: from srm_core_get()
 * @page: a linear-map alias from srm_pfn_to_page()
 *
 * Real-mode safe.
 *
 * Return: the head's linear-map alias (@page itself when it is not a
 * tail), or NULL.
 */
struct page *srm_compound_head(struct srm_core *core, struct page *page)
{
	unsigned long head_pfn;

	return srm_head(core, page, 0, &head_pfn);
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
 * @ref: where the reference is recorded
 *
 * Real-mode safe. The reference goes to the head of a compound page,
 * never to a tail's own count. A page whose count is zero (free, or being
 * frozen) is left alone.
 *
 * Whatever this returns, the caller ends with srm_put_page() on @ref and,
 * when that returns false, srm_put_page_virt() in virtual mode: a false
 * return may still leave a reference in @ref (the compound page was split
 * after its head was read, and the reference taken on the old head
 * turned out to be its last).
 *
 * Return: true when @ref holds a reference that keeps @pfn's page
 * allocated; false otherwise (retry in virtual mode).
 */
bool srm_get_page_unless_zero(struct srm_core *core, unsigned long pfn,
			      struct srm_page_ref *ref)
{
	struct page *page = srm_pfn_to_page(core, pfn), *head;
	unsigned long head_pfn, now_pfn;

	ref->head = NULL;
	if (!srm_page_is_ram(page))
		return false;
	head = srm_head(core, page, pfn, &head_pfn);
	if (!head || !atomic_inc_not_zero(&head->_refcount))
		return false;
	ref->head = head;
	ref->pfn = head_pfn;
	/*
	 * The compound page may have been split (or freed and reused) before
	 * we got the reference: it does not hold @pfn then. It may also be
	 * the last reference of that page now, which is the caller's to drop.
	 */
	if (unlikely(srm_head(core, page, pfn, &now_pfn) != head ||
		     now_pfn != head_pfn)) {
		if (srm_put_page_unless_one(core, head))
			ref->head = NULL;
		return false;
	}
	return true;
}
EXPORT_SYMBOL_GPL(srm_get_page_unless_zero);

/**
 * srm_put_page_unless_one() - drop a reference unless it is the last.
 * @core: from srm_core_get()
 * @head: a head page's linear-map alias holding a reference
 *
 * Real-mode safe. The building block of srm_put_page(); never give
 * @head to put_page(): it is not the address the allocator knows.
 *
 * Return: true when the reference was dropped; false when it is the last
 * one (or @head is not in the linear map), which only virtual mode may
 * drop.
 */
bool srm_put_page_unless_one(struct srm_core *core, struct page *head)
{
	if (!srm_rm_addr_ok(core, head, sizeof(*head)))
		return false;
	return atomic_add_unless(&head->_refcount, -1, 1);
}
EXPORT_SYMBOL_GPL(srm_put_page_unless_one);

/**
 * srm_put_page() - drop a reference taken by srm_get_page_unless_zero().
 * @core: from srm_core_get()
 * @ref: the reference (none held is fine)
 *
 * Real-mode safe: the reference is dropped only if it is not the last,
 * since freeing a page needs the allocator. When it is the last (the
 * page's owner let it go meanwhile, e.g. a VMM unmapped it), @ref keeps
 * it, the event is counted (debugfs "last_refs"), and the caller must
 * hand @ref to srm_put_page_virt() once it runs in virtual mode: right
 * away in a virtual-mode handler, or after its "too hard" exit from real
 * mode. Nothing is lost meanwhile: the page stays allocated, which is
 * the safe side.
 *
 * Return: true when nothing is left to drop; false when @ref still holds
 * the last reference.
 */
bool srm_put_page(struct srm_core *core, struct srm_page_ref *ref)
{
	if (!ref->head)
		return true;
	if (srm_put_page_unless_one(core, ref->head)) {
		ref->head = NULL;
		return true;
	}
	if (srm_rm_addr_ok(NULL, core, sizeof(*core)))
		atomic64_inc(&core->last_refs);
	return false;
}
EXPORT_SYMBOL_GPL(srm_put_page);

/**
 * srm_put_page_virt() - drop in virtual mode what srm_put_page() kept.
 * @ref: a reference from srm_get_page_unless_zero() (none held is fine)
 *
 * NOT real-mode safe: put_page() may free the page. It is given the page
 * struct at its vmemmap address, pfn_to_page() of the pfn recorded with
 * the reference, never the linear-map alias: the allocator computes the
 * pfn, the zone and the pageblock from that address. May be called with
 * preemption or interrupts disabled, as put_page() may.
 */
void srm_put_page_virt(struct srm_page_ref *ref)
{
	if (!ref->head)
		return;
	put_page(pfn_to_page(ref->pfn));
	ref->head = NULL;
}
EXPORT_SYMBOL_GPL(srm_put_page_virt);
