// SPDX-License-Identifier: GPL-2.0
/*
 * Setting and clearing TCEs for VFIO_IOMMU_MAP_DMA / UNMAP_DMA.
 *
 * v1 pins each page as it is mapped and charges locked_vm for the bytes
 * live TCEs map (rounded up to whole pages), so VmLck follows what the
 * device can reach. v2 maps only preregistered memory, already pinned and
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

/* v1: bring the locked_vm charge to what live TCEs map. */
static int vs_v1_settle(struct vs_container *c, u64 live_bytes)
{
	unsigned long want = DIV_ROUND_UP(live_bytes, PAGE_SIZE);
	int ret = 0;

	if (want > c->v1_charged)
		ret = vs_charge(c->mm, want - c->v1_charged);
	else
		vs_uncharge(c->mm, c->v1_charged - want);
	if (!ret)
		c->v1_charged = want;
	return ret;
}

/* v1: let go of the page a TCE held. */
static void vs_v1_unuse(unsigned long hpa)
{
	unpin_user_page(pfn_to_page(hpa >> PAGE_SHIFT));
	atomic64_dec(&vs_stats.pinned_pages);
}

/*
 * Did the TCE just exchanged at @entry hold something of ours? v1 asks
 * the hardware (@old); v2 asks its own record, the user address it keeps
 * per TCE: the stock KVM handler may clear a hardware TCE of a table
 * linked to a guest behind our back (when it gives up on our memory),
 * and what that TCE held is still ours to give back.
 */
bool vs_tce_was_live(struct vs_container *c, struct vs_window *w,
		     unsigned long entry, enum dma_data_direction old)
{
	__be64 *slot;

	if (!c->v2)
		return old != DMA_NONE;
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
		vs_v1_unuse(hpa);
		c->v1_live_bytes -= 1ULL << shift;
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
	unsigned long entry;

	/* Each TCE is an hcall on pseries: a table with none live is done. */
	for (entry = first; entry < last && w->live; entry++) {
		enum dma_data_direction dir = DMA_NONE;
		unsigned long hpa = 0;

		/*
		 * v2 fills the user view of a multi-level table with its
		 * hardware twin: a missing level of one is missing in both.
		 */
		if (c->v2 && !w->ua_shadow && tbl->it_indirect_levels &&
		    !vs_ua_slot(w, entry, false)) {
			entry |= tbl->it_level_size - 1;
			continue;
		}
		if (!(entry & 0xfff))
			cond_resched();
		spin_lock(&c->tce_lock);
		if (!iommu_tce_xchg_no_kill(c->mm, tbl, entry, &hpa, &dir) &&
		    vs_tce_was_live(c, w, entry, dir))
			vs_tce_gone(c, w, entry, hpa);
		spin_unlock(&c->tce_lock);
	}
	/*
	 * A map failing at its first TCE undoes an empty range: no kill,
	 * POWER8's PHB3 invalidation would run from @first to first - 1.
	 */
	if (last > first)
		iommu_tce_kill(tbl, first, last - first);
	if (!c->v2)
		vs_v1_settle(c, c->v1_live_bytes);
	atomic64_inc(&vs_stats.unmaps);
	return 0;
}

/* v1: pin the page behind @ua; the TCE may not be larger than it. */
static long vs_v1_use(struct vs_container *c, unsigned int shift, u64 ua,
		      enum dma_data_direction dir, unsigned long *hpa)
{
	unsigned int flags = FOLL_LONGTERM;
	struct page *page;

	if (dir != DMA_TO_DEVICE)
		flags |= FOLL_WRITE;
	if (pin_user_pages_fast(ua & PAGE_MASK, 1, flags, &page) != 1)
		return -EFAULT;
	if (page_shift(compound_head(page)) < shift) {
		unpin_user_page(page);
		return -EPERM;
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

static bool vs_range_busy(struct vs_window *w, unsigned long first,
			  unsigned long n)
{
	struct iommu_table *tbl = w->tbl;
	unsigned long i;

	/* Each get() is an hcall on pseries: an empty window needs none. */
	if (!w->live || !tbl->it_ops->get)
		return false;
	for (i = 0; i < n; i++)
		if (tbl->it_ops->get(tbl, first + i))
			return true;
	return false;
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
 * Return: 0; -EBUSY when a TCE of the range is live; -EFAULT (v1) for
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

	if (vs_range_busy(w, first, n))
		return -EBUSY;
	if (!c->v2) {
		ret = vs_v1_settle(c, c->v1_live_bytes + size);
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
			ret = vs_v1_use(c, shift, ua, dir, &hpa);
		}
		if (ret)
			break;
		spin_lock(&c->tce_lock);
		ret = iommu_tce_xchg_no_kill(c->mm, tbl, first + i, &hpa, &old);
		if (ret) {
			spin_unlock(&c->tce_lock);
			pr_err_ratelimited("TCE %lx of table at %llx refused: %ld\n",
					   first + i, (u64)tbl->it_offset << shift,
					   ret);
			/* Never set: give back only what this TCE took. */
			if (c->v2)
				vs_region_map_put(r);
			else
				vs_v1_unuse(hpa);
			break;
		}
		/* Free when checked: only a guest hcall can have set it since. */
		if (vs_tce_was_live(c, w, first + i, old))
			vs_tce_gone(c, w, first + i, hpa);
		atomic64_inc(&vs_stats.tces_set);
		w->live++;
		if (c->v2)
			*slot = cpu_to_be64(ua);
		else
			c->v1_live_bytes += 1ULL << shift;
		spin_unlock(&c->tce_lock);
	}
	if (ret) {
		vs_unmap(c, w, iova, i << shift);
		return ret;
	}
	iommu_tce_kill(tbl, first, n);
	atomic64_inc(&vs_stats.maps);
	return 0;
}
