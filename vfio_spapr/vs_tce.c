// SPDX-License-Identifier: GPL-2.0
/*
 * Setting and clearing TCEs for VFIO_IOMMU_MAP_DMA / UNMAP_DMA.
 *
 * v1 pins each page as it is mapped and keeps, per TCE, the page it
 * pinned: what it gives back when the TCE goes is its own record, never
 * what the hardware says (the stock KVM handler may have cleared the
 * hardware TCE of a table linked to a guest). locked_vm is charged per
 * distinct page the live TCEs hold, so VmLck follows what is pinned
 * whether the TCEs are smaller than a page (4K TCEs on 64K pages: one
 * page for all the TCEs in it) or larger (a hugetlb page: every page the
 * TCE reaches). v2 maps only preregistered memory, already pinned and
 * charged, translated by the real-mode core, and counts every TCE on its
 * region so that the region cannot be unregistered under it.
 *
 * A map never overwrites a live TCE: the range is checked first and the
 * call fails with -EBUSY, leaving the table as it was. A map that fails
 * half way clears what it set.
 *
 * Guest hcalls (vs_hcall.c) may set and clear TCEs of a v2 window at the
 * same time: each TCE's exchange and its bookkeeping are done under the
 * container's TCE spinlock, and a TCE a guest set between the check and
 * the exchange is let go like any other old TCE.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include "vs_internal.h"

/* Where v2 keeps the user address a TCE maps. */
__be64 *vs_ua_slot(struct vs_window *w, unsigned long entry, bool alloc)
{
	struct iommu_table *tbl = w->tbl;

	if (w->ua_shadow)
		return &w->ua_shadow[entry - tbl->it_offset];
	if (tbl->it_ops->useraddrptr)
		return tbl->it_ops->useraddrptr(tbl, entry, alloc);
	return NULL;
}

/* v1: bring the locked_vm charge to @want pages. */
static int vs_v1_settle(struct vs_container *c, unsigned long want)
{
	int ret = 0;

	if (want > c->v1_charged)
		ret = vs_charge(c->mm, want - c->v1_charged);
	else
		vs_uncharge(c->mm, c->v1_charged - want);
	if (!ret)
		c->v1_charged = want;
	return ret;
}

/* v1: the key of a TCE in v1_tces: its bus address in 4K units. */
static unsigned long vs_v1_key(struct vs_window *w, unsigned long entry)
{
	return entry << (w->tbl->it_page_shift - IOMMU_PAGE_SHIFT_4K);
}

/* v1: the base pages one TCE holds (all of a TCE larger than a page). */
static unsigned long vs_v1_span(struct vs_window *w)
{
	unsigned int shift = w->tbl->it_page_shift;

	return shift > PAGE_SHIFT ? 1UL << (shift - PAGE_SHIFT) : 1;
}

/*
 * v1: one TCE fewer holds each page of [pfn, pfn + n); a page no TCE
 * holds any more leaves v1_held (the charge follows at the next settle).
 * Never sleeps: the slots exist, so storing allocates nothing.
 */
static void vs_v1_release(struct vs_container *c, unsigned long pfn,
			  unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		void *v = xa_load(&c->v1_pages, pfn + i);
		unsigned long held = v ? xa_to_value(v) : 0;

		if (WARN_ON_ONCE(!held))
			continue;
		if (held == 1) {
			xa_erase(&c->v1_pages, pfn + i);
			c->v1_held--;
		} else {
			xa_store(&c->v1_pages, pfn + i, xa_mk_value(held - 1),
				 GFP_ATOMIC);
		}
	}
}

/*
 * v1: record that the TCE at @entry holds the pages from @pfn; a page
 * new to the container is charged (from what vs_map() charged ahead, or
 * now). Sleeps; not under the TCE lock.
 */
static int vs_v1_hold(struct vs_container *c, struct vs_window *w,
		      unsigned long entry, unsigned long pfn)
{
	unsigned long n = vs_v1_span(w), i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		void *v = xa_load(&c->v1_pages, pfn + i);
		unsigned long held = v ? xa_to_value(v) : 0;

		if (!held && c->v1_held == c->v1_charged) {
			/* More pages than vs_map() counted (the user remapped). */
			ret = vs_v1_settle(c, c->v1_charged + 1);
			if (ret)
				break;
		}
		ret = xa_err(xa_store(&c->v1_pages, pfn + i,
				      xa_mk_value(held + 1), GFP_KERNEL_ACCOUNT));
		if (ret)
			break;
		if (!held)
			c->v1_held++;
	}
	if (!ret)
		ret = xa_err(xa_store(&c->v1_tces, vs_v1_key(w, entry),
				      xa_mk_value(pfn), GFP_KERNEL_ACCOUNT));
	else
		n = i;
	if (ret)
		vs_v1_release(c, pfn, n);
	return ret;
}

/* v1: the TCE at @entry is gone: let go of the page it pinned. */
static void vs_v1_unuse(struct vs_container *c, struct vs_window *w,
			unsigned long entry)
{
	void *v = xa_erase(&c->v1_tces, vs_v1_key(w, entry));
	unsigned long pfn;

	if (WARN_ON_ONCE(!v))
		return;
	pfn = xa_to_value(v);
	vs_v1_release(c, pfn, vs_v1_span(w));
	unpin_user_page(pfn_to_page(pfn));
	atomic64_dec(&vs_stats.pinned_pages);
}

/*
 * Did the TCE just exchanged at @entry hold something of ours? Both
 * types ask their own record, never the hardware (@old): the stock KVM
 * handler may clear a hardware TCE of a table linked to a guest behind
 * our back (when it gives up on our memory), and what that TCE held is
 * still ours to give back. v1 keeps the page each TCE pinned, v2 the
 * user address each TCE maps.
 */
bool vs_tce_was_live(struct vs_container *c, struct vs_window *w,
		     unsigned long entry, enum dma_data_direction old)
{
	__be64 *slot;

	if (!c->v2)
		return xa_load(&c->v1_tces, vs_v1_key(w, entry));
	slot = vs_ua_slot(w, entry, false);
	return slot && *slot;
}

/* A live TCE was taken out of the table: let go of what it held. */
void vs_tce_gone(struct vs_container *c, struct vs_window *w,
		 unsigned long entry, unsigned long hpa)
{
	unsigned int shift = w->tbl->it_page_shift;
	struct vs_region *r;
	__be64 *slot;

	atomic64_inc(&vs_stats.tces_cleared);
	w->live--;
	if (!c->v2) {
		vs_v1_unuse(c, w, entry);
		return;
	}
	slot = vs_ua_slot(w, entry, false);
	if (!slot || !*slot)
		return;
	rcu_read_lock();
	r = vs_region_lookup(c->vmm, be64_to_cpu(*slot), 1ULL << shift);
	if (r)
		vs_region_map_put(r);
	rcu_read_unlock();
	WARN_ON_ONCE(!r);
	*slot = 0;
}

/**
 * vs_unmap() - clear the TCEs of [iova, iova + size) in @w.
 * @c: the container (lock held)
 * @w: the window; the range lies in it, aligned to its TCE size
 * @iova: bus address
 * @size: bytes
 *
 * Return: 0.
 */
long vs_unmap(struct vs_container *c, struct vs_window *w, u64 iova, u64 size)
{
	struct iommu_table *tbl = w->tbl;
	unsigned long first = iova >> tbl->it_page_shift;
	unsigned long last = first + (size >> tbl->it_page_shift);
	unsigned long entry, steps = 0, run = 0, nrun = 0;

	/* Each TCE is an hcall on pseries: a table with none live is done. */
	for (entry = first; entry < last && w->live; entry++) {
		enum dma_data_direction dir = DMA_NONE;
		unsigned long hpa = 0;

		/* A window may have 2^32 entries: skipped ones count too. */
		if (!(++steps & 0xfff))
			cond_resched();
		/*
		 * v2 fills the user view of a multi-level table with its
		 * hardware twin: a missing level of one is missing in both.
		 */
		if (c->v2 && !w->ua_shadow && tbl->it_indirect_levels &&
		    !vs_ua_slot(w, entry, false)) {
			entry |= tbl->it_level_size - 1;
			continue;
		}
		spin_lock(&c->tce_lock);
		if (iommu_tce_xchg_no_kill(c->mm, tbl, entry, &hpa, &dir))
			dir = DMA_NONE;
		else if (vs_tce_was_live(c, w, entry, dir))
			vs_tce_gone(c, w, entry, hpa);
		spin_unlock(&c->tce_lock);
		if (dir == DMA_NONE)
			continue;
		/*
		 * Invalidate only runs of TCEs that changed: PHB3 invalidates
		 * entry by entry, and the range may be a window of 2^32.
		 */
		if (nrun && run + nrun != entry) {
			iommu_tce_kill(tbl, run, nrun);
			nrun = 0;
		}
		if (!nrun)
			run = entry;
		nrun++;
	}
	/*
	 * An empty range (a map failing at its first TCE) kills nothing:
	 * PHB3's invalidation of 0 TCEs would run over the whole range.
	 */
	if (nrun)
		iommu_tce_kill(tbl, run, nrun);
	/* Only gives back: cannot fail. */
	if (!c->v2)
		vs_v1_settle(c, c->v1_held);
	atomic64_inc(&vs_stats.unmaps);
	return 0;
}

/*
 * v1: pin the page behind @ua and record it for the TCE at @entry. The
 * TCE may not be larger than what the page can back (a hugetlb page,
 * physically aligned like @ua: srm_page_tce_shift()).
 */
static long vs_v1_use(struct vs_container *c, struct vs_window *w,
		      unsigned long entry, u64 ua, enum dma_data_direction dir,
		      unsigned long *hpa)
{
	unsigned int flags = FOLL_LONGTERM;
	struct page *page;
	long ret;

	if (dir != DMA_TO_DEVICE)
		flags |= FOLL_WRITE;
	if (pin_user_pages_fast(ua & PAGE_MASK, 1, flags, &page) != 1)
		return -EFAULT;
	if (srm_page_tce_shift(page, ua) < w->tbl->it_page_shift) {
		unpin_user_page(page);
		return -EPERM;
	}
	ret = vs_v1_hold(c, w, entry, page_to_pfn(page));
	if (ret) {
		unpin_user_page(page);
		return ret;
	}
	atomic64_inc(&vs_stats.pinned_pages);
	*hpa = page_to_phys(page) + (ua & ~PAGE_MASK);
	return 0;
}

/* v2: translate preregistered @ua and count the TCE on its region. */
static long vs_v2_use(struct vs_container *c, unsigned int shift, u64 ua,
		      unsigned long *hpa, struct vs_region **region)
{
	struct vs_region *r;
	u64 pa;
	int ret;

	rcu_read_lock();
	r = vs_region_lookup(c->vmm, ua, 1ULL << shift);
	if (r && !vs_region_map_get(r))
		r = NULL;
	rcu_read_unlock();
	if (!r)
		return -EINVAL;
	ret = srm_region_ua_to_hpa(c->core, r->srm, ua, shift, &pa);
	if (ret) {
		vs_region_map_put(r);
		return -EINVAL;
	}
	*hpa = pa;
	*region = r;
	return 0;
}

/*
 * v2: is all of [ua, ua + size) preregistered? One lookup per region the
 * range crosses; what follows (the busy walk, the map) is then bounded by
 * memory the user has pinned, not by the size of the window.
 */
static bool vs_v2_registered(struct vs_container *c, u64 ua, u64 size)
{
	u64 end = ua + size;
	bool ok = end > ua;

	rcu_read_lock();
	while (ok && ua < end) {
		struct vs_region *r = vs_region_lookup(c->vmm, ua, 1);

		ok = r;
		if (r)
			ua = r->ua + r->size;
	}
	rcu_read_unlock();
	return ok;
}

/*
 * Is a TCE of ours live in [first, first + n)? Asks our records, as
 * vs_tce_was_live() does: v1 looks its record up (a tree search), v2 reads
 * its user-address view, skipping the levels never filled and
 * rescheduling as it goes (the range may be a whole window of 2^32
 * entries, and on pseries a hardware read would be an hcall each).
 *
 * Return: 0, -EBUSY, or -EINTR when the caller was killed meanwhile.
 */
static long vs_range_busy(struct vs_container *c, struct vs_window *w,
			  unsigned long first, unsigned long n)
{
	struct iommu_table *tbl = w->tbl;
	unsigned long entry, steps = 0;

	if (!w->live)
		return 0;
	if (!c->v2) {
		unsigned long key = vs_v1_key(w, first);

		return xa_find(&c->v1_tces, &key, vs_v1_key(w, first + n) - 1,
			       XA_PRESENT) ? -EBUSY : 0;
	}
	for (entry = first; entry < first + n; entry++) {
		__be64 *slot;

		if (!(++steps & 0xfff)) {
			cond_resched();
			if (fatal_signal_pending(current))
				return -EINTR;
		}
		slot = vs_ua_slot(w, entry, false);
		if (!slot) {
			if (!w->ua_shadow && tbl->it_indirect_levels)
				entry |= tbl->it_level_size - 1;
			continue;
		}
		if (*slot)
			return -EBUSY;
	}
	return 0;
}

/* v1: base pages [ua, ua + size) can pin at most: charged ahead. */
static unsigned long vs_v1_pages(struct vs_window *w, u64 ua, u64 size)
{
	if (w->tbl->it_page_shift >= PAGE_SHIFT)
		return size >> PAGE_SHIFT;
	return (PAGE_ALIGN(ua + size) - (ua & PAGE_MASK)) >> PAGE_SHIFT;
}

/*
 * v1: the TCE just replaced at @entry was live but not ours (ours were
 * checked in our record): the stock KVM handler set it from memory it
 * preregistered. Put it back (@hpa, @old) and refuse, as for a TCE of
 * ours. Should putting it back fail, ours stays: it is recorded, and the
 * other one was never ours to give back.
 */
static long vs_v1_foreign(struct vs_container *c, struct iommu_table *tbl,
			  unsigned long entry, unsigned long hpa,
			  enum dma_data_direction old)
{
	return iommu_tce_xchg_no_kill(c->mm, tbl, entry, &hpa, &old) ?
	       0 : -EBUSY;
}

/**
 * vs_map() - map [ua, ua + size) at bus address @iova in @w.
 * @c: the container (lock held)
 * @w: the window; the range lies in it, aligned to its TCE size
 * @iova: bus address
 * @ua: user address, aligned like @iova
 * @size: bytes
 * @dir: what the device may do
 *
 * Return: 0; -EBUSY when a TCE of the range is live; -EINTR when killed
 * while checking a large range; -EFAULT (v1) for
 * memory that cannot be pinned (as asked: a read-only mapping cannot be
 * mapped for the device to write); -EINVAL (v2) for memory that is not
 * preregistered or whose pages are smaller than a TCE; -EPERM (v1) for
 * pages smaller than a TCE; -ENOMEM (v1) over RLIMIT_MEMLOCK. On error
 * the table is as it was.
 */
long vs_map(struct vs_container *c, struct vs_window *w, u64 iova, u64 ua,
	    u64 size, enum dma_data_direction dir)
{
	struct iommu_table *tbl = w->tbl;
	unsigned int shift = tbl->it_page_shift;
	unsigned long first = iova >> shift, n = size >> shift, i;
	long ret = 0;

	if (c->v2 && !vs_v2_registered(c, ua, size))
		return -EINVAL;
	ret = vs_range_busy(c, w, first, n);
	if (ret)
		return ret;
	/* Charged before anything is pinned; the surplus goes back below. */
	if (!c->v2) {
		ret = vs_v1_settle(c, c->v1_held + vs_v1_pages(w, ua, size));
		if (ret)
			return ret;
	}
	for (i = 0; i < n; i++, ua += 1ULL << shift) {
		enum dma_data_direction old = dir;
		struct vs_region *r = NULL;
		unsigned long hpa;
		__be64 *slot = NULL;

		if (c->v2) {
			slot = vs_ua_slot(w, first + i, true);
			if (!slot) {
				ret = -ENOMEM;
				break;
			}
			ret = vs_v2_use(c, shift, ua, &hpa, &r);
		} else {
			ret = vs_v1_use(c, w, first + i, ua, dir, &hpa);
		}
		if (ret)
			break;
		spin_lock(&c->tce_lock);
		ret = iommu_tce_xchg_no_kill(c->mm, tbl, first + i, &hpa, &old);
		if (ret)
			pr_err_ratelimited("TCE %lx of table at %llx refused: %ld\n",
					   first + i, (u64)tbl->it_offset << shift,
					   ret);
		else if (!c->v2 && old != DMA_NONE)
			ret = vs_v1_foreign(c, tbl, first + i, hpa, old);
		if (ret) {
			spin_unlock(&c->tce_lock);
			/* Never set: give back only what this TCE took. */
			if (c->v2)
				vs_region_map_put(r);
			else
				vs_v1_unuse(c, w, first + i);
			break;
		}
		/* Free when checked: only a guest hcall can have set it since. */
		if (c->v2 && vs_tce_was_live(c, w, first + i, old))
			vs_tce_gone(c, w, first + i, hpa);
		atomic64_inc(&vs_stats.tces_set);
		w->live++;
		if (c->v2)
			*slot = cpu_to_be64(ua);
		spin_unlock(&c->tce_lock);
	}
	if (ret) {
		/* Clears what was set and settles the v1 charge. */
		vs_unmap(c, w, iova, i << shift);
		return ret;
	}
	if (!c->v2)
		vs_v1_settle(c, c->v1_held);
	iommu_tce_kill(tbl, first, n);
	atomic64_inc(&vs_stats.maps);
	return 0;
}
