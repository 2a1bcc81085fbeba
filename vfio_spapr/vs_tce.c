// SPDX-License-Identifier: GPL-2.0
/*
 * Setting and clearing TCEs for VFIO_IOMMU_MAP_DMA / UNMAP_DMA.
 *
 * v1 pins each page as it is mapped and keeps, per TCE, the page it
 * pinned, in an array of the window's size (vs_view_make()): what it
 * gives back when the TCE goes is its own record, never what the
 * hardware says (the stock KVM handler may have cleared the hardware TCE
 * of a table linked to a guest). locked_vm is charged per distinct page
 * the live TCEs hold, so VmLck follows what is pinned whether the TCEs
 * are smaller than a page (4K TCEs on 64K pages: one page for all the
 * TCEs in it) or larger (a hugetlb page: every page the TCE reaches); a
 * hash table counts the TCEs that hold each page (vs_pcount.c).
 * v2 maps only preregistered memory, already pinned and
 * charged, translated by the real-mode core, and counts every TCE on its
 * region so that the region cannot be unregistered under it.
 *
 * A map never overwrites a live TCE, and pays for that without a scan
 * of the range first: each TCE is checked as it is set, in the record
 * the exchange updates anyway (v1 inserts into its TCE record, which
 * fails on a live entry; v2 reads the user-address slot it is about to
 * write, under the TCE lock). A map that meets a live TCE, or fails
 * otherwise half way, clears what it set and returns with the table as
 * it was. The work is bounded by what the user pinned: v1 pins each page
 * first, v2 finds each TCE's preregistered region (one lookup per region
 * the range crosses, whose TCEs are counted on it at once) before
 * setting it, so a map of unregistered memory stops at its first TCE
 * whatever the size of the window.
 *
 * Guest hcalls (vs_hcall.c) may set and clear TCEs of a v2 window at the
 * same time: each TCE's check, exchange and bookkeeping are done under
 * the container's TCE spinlock.
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

/* v1: the record of the TCE at @entry, or NULL before the first map. */
static unsigned long *vs_v1_slot(struct vs_window *w, unsigned long entry)
{
	return w->v1_pfn ? &w->v1_pfn[entry - w->tbl->it_offset] : NULL;
}

/* v1: the base pages one TCE holds (all of a TCE larger than a page). */
static unsigned long vs_v1_span(struct vs_window *w)
{
	unsigned int shift = w->tbl->it_page_shift;

	return shift > PAGE_SHIFT ? 1UL << (shift - PAGE_SHIFT) : 1;
}

/*
 * v1: @k TCEs fewer hold the page @pfn; a page no TCE holds any more
 * leaves the count (the charge follows at the next settle). Never
 * sleeps.
 */
static void vs_v1_page_put(struct vs_container *c, unsigned long pfn,
			   unsigned long k)
{
	vs_pcount_sub(&c->v1_pages, pfn, k);
}

/* v1: one TCE fewer holds each page of [pfn, pfn + n). Never sleeps. */
static void vs_v1_release(struct vs_container *c, unsigned long pfn,
			  unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		vs_v1_page_put(c, pfn + i, 1);
}

/*
 * v1: @k TCEs more hold the page @pfn; a page new to the container is
 * charged (from what vs_map() charged ahead, or now). Sleeps; not under
 * the TCE lock.
 */
static int vs_v1_page_get(struct vs_container *c, unsigned long pfn,
			  unsigned long k)
{
	int ret;

	if (vs_pcount_add(&c->v1_pages, pfn, k))
		return 0;
	if (c->v1_pages.used == c->v1_charged) {
		/* More pages than vs_map() counted (the user remapped). */
		ret = vs_v1_settle(c, c->v1_charged + 1);
		if (ret)
			return ret;
	}
	return vs_pcount_insert(&c->v1_pages, pfn, k);
}

/*
 * v1: counts on one page for a run of TCEs (4K TCEs on 64K pages come
 * sixteen to a page), moved in one lookup per run instead of
 * one per TCE: taken ahead by a map for the TCEs of the run still to
 * come, or gathered by an unmap for the TCEs it cleared.
 */
struct vs_v1_run {
	unsigned long pfn;
	unsigned long n;
};

/* v1: give back the counts of @run. Never sleeps. */
static void vs_v1_run_put(struct vs_container *c, struct vs_v1_run *run)
{
	if (run->n)
		vs_v1_page_put(c, run->pfn, run->n);
	run->n = 0;
}

/*
 * v1: record that the TCE at @entry holds the pages from @pfn (stored
 * as pfn + 1), counting them on the pages unless @ahead (what this map
 * counted ahead) already holds a count for it: @len TCEs from this one,
 * all on the page @pfn, are counted at once. The record is checked as
 * it is written: -EBUSY when the TCE is live (ours), which is the map's
 * check for a live TCE. The container's lock serialises every access to
 * the records. Sleeps; not under the TCE lock.
 */
static int vs_v1_hold(struct vs_container *c, struct vs_window *w,
		      unsigned long entry, unsigned long pfn, unsigned long len,
		      struct vs_v1_run *ahead)
{
	unsigned long *slot = vs_v1_slot(w, entry);
	unsigned long n = vs_v1_span(w), i;
	int ret = 0;

	if (WARN_ON_ONCE(!slot))
		return -ENOMEM;
	if (*slot)
		return -EBUSY;
	/* Pinned again for each TCE: normally the page of the run. */
	if (!ahead->n || ahead->pfn != pfn) {
		vs_v1_run_put(c, ahead);
		for (i = 0; i < n; i++) {
			ret = vs_v1_page_get(c, pfn + i, len);
			if (ret)
				break;
		}
		if (ret) {
			while (i--)
				vs_v1_page_put(c, pfn + i, len);
			return ret;
		}
		ahead->pfn = pfn;
		ahead->n = len;
	}
	ahead->n--;
	*slot = pfn + 1;
	return 0;
}

/*
 * v1: pages whose TCEs an unmap cleared, unpinned only after those TCEs
 * are invalidated: until then the PHB may still translate through them,
 * and an unpinned page may be freed and reused by the host.
 */
#define VS_V1_UNPIN_BATCH	32

/*
 * The longest run of cleared TCEs an unmap invalidates at once: a run is
 * also invalidated under the TCE lock (a v2 unmap crossing regions), and
 * PHB3 invalidates entry by entry.
 */
#define VS_KILL_MAX		4096

struct vs_v1_unpins {
	struct page *page[VS_V1_UNPIN_BATCH];
	unsigned int n;
};

/*
 * v1: the TCE at @entry is gone: let go of the page it pinned, if our
 * record says it held one; its count goes into @put when the TCE is
 * one page or less (given back by vs_v1_run_put()), else at once; its
 * pin into @later (which has room) when given, else at once. Never
 * sleeps.
 *
 * Return: whether it held one.
 */
static bool vs_v1_unuse(struct vs_container *c, struct vs_window *w,
			unsigned long entry, struct vs_v1_run *put,
			struct vs_v1_unpins *later)
{
	unsigned long *slot = vs_v1_slot(w, entry);
	unsigned long pfn, n = vs_v1_span(w);

	if (!slot || !*slot)
		return false;
	pfn = *slot - 1;
	*slot = 0;
	if (n == 1 && put->n && put->pfn == pfn) {
		put->n++;
	} else if (n == 1) {
		vs_v1_run_put(c, put);
		put->pfn = pfn;
		put->n = 1;
	} else {
		vs_v1_release(c, pfn, n);
	}
	if (later) {
		later->page[later->n++] = pfn_to_page(pfn);
	} else {
		unpin_user_page(pfn_to_page(pfn));
		atomic64_dec(&vs_stats.pinned_pages);
	}
	return true;
}

/*
 * The slot of @entry, given @prev, the slot of @entry - 1 (or NULL),
 * without a walk of the table's levels when both lie in one page of
 * the user view: our shadow is one array, and a platform's view
 * (it_userspace: powernv's, the only one) is laid out as its hardware
 * table, it_level_size entries to a leaf (pnv_tce()). NULL: ask
 * vs_ua_slot().
 */
__be64 *vs_slot_next(struct vs_window *w, unsigned long entry, __be64 *prev)
{
	struct iommu_table *tbl = w->tbl;

	if (!prev)
		return NULL;
	if (w->ua_shadow)
		return prev + 1;
	if (tbl->it_userspace &&
	    ((entry - tbl->it_offset) & (tbl->it_level_size - 1)))
		return prev + 1;
	return NULL;
}

/*
 * v2: a guest hcall just exchanged out the TCE whose user address @slot
 * records (TCE lock held): let go of its region count. Our record, never
 * the hardware's old TCE, says whether it was ours: the stock KVM
 * handler may clear a hardware TCE of a table linked to a guest behind
 * our back (when it gives up on our memory), and what that TCE held is
 * still ours to give back. The hcall invalidates the TCE before its RCU
 * read section ends, and vs_regions_release() waits for that before it
 * unpins.
 */
void vs_v2_slot_gone(struct vs_container *c, struct vs_window *w,
		     __be64 *slot)
{
	struct vs_region *r;

	if (!slot || !*slot)
		return;
	atomic64_inc(&vs_stats.tces_cleared);
	w->live--;
	rcu_read_lock();
	r = vs_region_lookup(c->vmm, be64_to_cpu(*slot),
			     1ULL << w->tbl->it_page_shift);
	if (r)
		vs_region_map_put(r);
	rcu_read_unlock();
	WARN_ON_ONCE(!r);
	*slot = 0;
}

/*
 * v2 unmap: the region counts of the TCEs cleared so far, given back at
 * once per region (a run of TCEs mostly maps one). While counts are
 * pending the region cannot go, so @r needs no RCU between TCEs.
 */
struct vs_puts {
	struct vs_region *r;
	unsigned long n;
};

static void vs_puts_flush(struct vs_puts *p)
{
	if (p->n)
		vs_region_map_sub(p->r, p->n);
	p->n = 0;
}

/*
 * An unmap's cleared TCEs that await their invalidation (one run of
 * them), and what they held: the PHB may translate through a cleared
 * TCE until it is invalidated, so what it held (v1: its page's pin; v2:
 * its count on the region, which keeps an unregistered region's pages
 * pinned) goes only after.
 */
struct vs_clear {
	struct iommu_table *tbl;
	unsigned long run, nrun;
	struct vs_puts puts;		/* v2 */
	struct vs_v1_unpins unpins;	/* v1 */
};

/* Invalidate the cleared run. */
static void vs_clear_kill(struct vs_clear *k)
{
	/* PHB3's invalidation of 0 TCEs would run over the whole range. */
	if (k->nrun)
		iommu_tce_kill(k->tbl, k->run, k->nrun);
	k->nrun = 0;
}

/* v1: invalidate, then unpin the pages of the cleared TCEs. */
static void vs_clear_unpin(struct vs_clear *k)
{
	vs_clear_kill(k);
	if (k->unpins.n) {
		unpin_user_pages(k->unpins.page, k->unpins.n);
		atomic64_sub(k->unpins.n, &vs_stats.pinned_pages);
	}
	k->unpins.n = 0;
}

/*
 * v2: the TCE that mapped @ua (size 1 << @shift) is gone; the counts of
 * a region it does not lie in go back once their TCEs are invalidated.
 * TCE lock held.
 */
static void vs_v2_gone(struct vs_container *c, struct vs_clear *k, u64 ua,
		       unsigned int shift)
{
	struct vs_puts *p = &k->puts;
	struct vs_region *r = p->r;

	if (!p->n || ua < r->ua || ua + (1ULL << shift) > r->ua + r->size) {
		if (p->n)
			vs_clear_kill(k);
		vs_puts_flush(p);
		rcu_read_lock();
		r = vs_region_lookup(c->vmm, ua, 1ULL << shift);
		rcu_read_unlock();
		/* The TCE's own count keeps the region: no RCU needed after. */
		if (WARN_ON_ONCE(!r))
			return;
		p->r = r;
	}
	p->n++;
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
	unsigned int shift = tbl->it_page_shift;
	unsigned long first = iova >> shift;
	unsigned long last = first + (size >> shift);
	unsigned long entry, steps = 0, cleared = 0;
	struct vs_clear k = { .tbl = tbl };
	struct vs_v1_run put = { 0, 0 };
	__be64 *slot = NULL;

	/* Each TCE is an hcall on pseries: a table with none live is done. */
	for (entry = first; entry < last && w->live; entry++) {
		enum dma_data_direction dir = DMA_NONE;
		unsigned long hpa = 0;
		bool ours = false;

		/* A window may have 2^32 entries: skipped ones count too. */
		if (unlikely(!(++steps & 0xfff)))
			cond_resched();
		if (k.unpins.n == VS_V1_UNPIN_BATCH)
			vs_clear_unpin(&k);
		if (k.nrun >= VS_KILL_MAX)
			vs_clear_kill(&k);
		/*
		 * v2 fills the user view of a multi-level table with its
		 * hardware twin: a missing level of one is missing in both.
		 */
		if (c->v2) {
			slot = vs_slot_next(w, entry, slot) ?:
			       vs_ua_slot(w, entry, false);
			if (!slot && !w->ua_shadow && tbl->it_indirect_levels) {
				entry |= tbl->it_level_size - 1;
				continue;
			}
		}
		spin_lock(&c->tce_lock);
		if (iommu_tce_xchg_no_kill(c->mm, tbl, entry, &hpa, &dir)) {
			dir = DMA_NONE;
		} else if (c->v2 && slot && *slot) {
			/* Ours: our record, not @dir, says so (vs_v2_slot_gone()) */
			vs_v2_gone(c, &k, be64_to_cpu(*slot), shift);
			*slot = 0;
			w->live--;
			cleared++;
			ours = true;
		} else if (!c->v2 && vs_v1_unuse(c, w, entry, &put, &k.unpins)) {
			w->live--;
			cleared++;
			ours = true;
		}
		spin_unlock(&c->tce_lock);
		/*
		 * Ours though found clear (the stock KVM handler cleared it,
		 * and may not have invalidated it yet): invalidated as well.
		 */
		if (dir == DMA_NONE && !ours)
			continue;
		/*
		 * Invalidate only runs of TCEs that changed: PHB3 invalidates
		 * entry by entry, and the range may be a window of 2^32.
		 */
		if (k.nrun && k.run + k.nrun != entry)
			vs_clear_kill(&k);
		if (!k.nrun)
			k.run = entry;
		k.nrun++;
	}
	vs_clear_unpin(&k);
	vs_puts_flush(&k.puts);
	atomic64_add(cleared, &vs_stats.tces_cleared);
	/* Only gives back: cannot fail. */
	if (!c->v2) {
		vs_v1_run_put(c, &put);
		vs_v1_settle(c, c->v1_pages.used);
		vs_pcount_shrink(&c->v1_pages);
	}
	atomic64_inc(&vs_stats.unmaps);
	return 0;
}

/* A map's progress: every 4096 TCEs, reschedule, and stop when killed. */
static inline long vs_map_step(unsigned long i)
{
	if (likely(!i || i & 0xfff))
		return 0;
	cond_resched();
	return fatal_signal_pending(current) ? -EINTR : 0;
}

/*
 * Set the TCE at @entry to @hpa, @dir (its check done); on return they
 * hold the old TCE. TCE lock held.
 */
static long vs_tce_set(struct vs_container *c, struct iommu_table *tbl,
		       unsigned long entry, unsigned long *hpa,
		       enum dma_data_direction *dir)
{
	long ret = iommu_tce_xchg_no_kill(c->mm, tbl, entry, hpa, dir);

	if (ret)
		pr_err_ratelimited("TCE %lx of table at %llx refused: %ld\n",
				   entry, (u64)tbl->it_offset << tbl->it_page_shift,
				   ret);
	return ret;
}

/* v1: pages pinned ahead, a batch at a time, when a TCE is one page. */
#define VS_V1_BATCH	16

struct vs_pins {
	struct page *page[VS_V1_BATCH];
	unsigned int next;
	unsigned int n;
};

/*
 * v1: the page behind @ua, pinned for one TCE: from the batch, pinning
 * the next @left pages (at most VS_V1_BATCH) when it is used up, which
 * only a TCE of one page does (@batch); a TCE smaller than a page pins
 * its page once per TCE, as each holds its own pin.
 */
static struct page *vs_v1_pin(struct vs_pins *p, u64 ua, unsigned long left,
			      bool batch, unsigned int flags)
{
	int got;

	if (p->next == p->n) {
		got = pin_user_pages_fast(ua & PAGE_MASK,
					  batch ? min_t(unsigned long, left, VS_V1_BATCH) : 1,
					  flags, p->page);
		if (got <= 0)
			return NULL;
		p->next = 0;
		p->n = got;
	}
	return p->page[p->next++];
}

/* v1: unpin what vs_v1_pin() pinned ahead and no TCE took. */
static void vs_v1_pins_drop(struct vs_pins *p)
{
	if (p->next < p->n)
		unpin_user_pages(p->page + p->next, p->n - p->next);
	p->next = p->n;
}

/* v1: how many of the @left TCEs from @ua lie in @ua's page. */
static unsigned long vs_v1_run_len(u64 ua, unsigned long left,
				   unsigned int shift)
{
	if (shift >= PAGE_SHIFT)
		return 1;
	return min_t(unsigned long, left, (PAGE_SIZE - offset_in_page(ua)) >> shift);
}

/*
 * v1: map @n TCEs from @first, pinning each page and recording it;
 * @done counts the TCEs set. The TCE may not be larger than what the
 * page can back (a hugetlb page, physically aligned like @ua:
 * srm_page_tce_shift()).
 */
static long vs_v1_map(struct vs_container *c, struct vs_window *w,
		      unsigned long first, unsigned long n, u64 ua,
		      enum dma_data_direction dir, unsigned long *done)
{
	struct iommu_table *tbl = w->tbl;
	unsigned int shift = tbl->it_page_shift;
	unsigned int flags = FOLL_LONGTERM;
	struct vs_pins pins = { .next = 0, .n = 0 };
	struct vs_v1_run ahead = { 0, 0 };
	unsigned long i, pinned = 0;
	long ret = 0;

	if (dir != DMA_TO_DEVICE)
		flags |= FOLL_WRITE;
	for (i = 0; i < n; i++, ua += 1ULL << shift) {
		enum dma_data_direction old = dir;
		unsigned long entry = first + i, hpa;
		struct page *page;

		ret = vs_map_step(i);
		if (ret)
			break;
		page = vs_v1_pin(&pins, ua, n - i, shift == PAGE_SHIFT, flags);
		if (!page) {
			ret = -EFAULT;
			break;
		}
		if (srm_page_tce_shift(page, ua) < shift)
			ret = -EPERM;
		else
			ret = vs_v1_hold(c, w, entry, page_to_pfn(page),
					 vs_v1_run_len(ua, n - i, shift), &ahead);
		if (ret) {
			unpin_user_page(page);
			break;
		}
		/* held by the record: vs_v1_unuse() counts it off */
		pinned++;
		hpa = page_to_phys(page) + (ua & ~PAGE_MASK);
		spin_lock(&c->tce_lock);
		ret = vs_tce_set(c, tbl, entry, &hpa, &old);
		/*
		 * Live but not ours (ours are in our record): the stock KVM
		 * handler set it from memory it preregistered. Put it back
		 * and refuse, as for a TCE of ours. Should putting it back
		 * fail, ours stays: it is recorded, and the other one was
		 * never ours to give back.
		 */
		if (!ret && old != DMA_NONE &&
		    !iommu_tce_xchg_no_kill(c->mm, tbl, entry, &hpa, &old))
			ret = -EBUSY;
		if (ret) {
			spin_unlock(&c->tce_lock);
			/* Set for a moment (then put back): the PHB may cache it. */
			if (ret == -EBUSY)
				iommu_tce_kill(tbl, entry, 1);
			/* Give back only what this TCE took. */
			vs_v1_unuse(c, w, entry, &ahead, NULL);
			break;
		}
		w->live++;
		spin_unlock(&c->tce_lock);
	}
	vs_v1_run_put(c, &ahead);
	vs_v1_pins_drop(&pins);
	atomic64_add(pinned, &vs_stats.pinned_pages);
	*done = i;
	return ret;
}

/*
 * v2: map @n TCEs from @first, each translated through its preregistered
 * region; @done counts the TCEs set. The region of a run of TCEs is
 * looked up once, and the run counted on it at once: the counts are
 * taken before any of its TCEs is set, and what is left of them given
 * back when the map stops early.
 */
static long vs_v2_map(struct vs_container *c, struct vs_window *w,
		      unsigned long first, unsigned long n, u64 ua,
		      enum dma_data_direction dir, unsigned long *done)
{
	struct iommu_table *tbl = w->tbl;
	unsigned int shift = tbl->it_page_shift;
	unsigned long i, counted = 0;
	struct vs_region *r = NULL;
	__be64 *slot = NULL;
	long ret = 0;

	for (i = 0; i < n; i++, ua += 1ULL << shift) {
		enum dma_data_direction old = dir;
		unsigned long entry = first + i, hpa;
		u64 pa;

		ret = vs_map_step(i);
		if (ret)
			break;
		if (!counted) {
			unsigned long run = 0;

			rcu_read_lock();
			r = vs_region_lookup(c->vmm, ua, 1ULL << shift);
			if (r)
				run = min_t(u64, n - i, (r->ua + r->size - ua) >> shift);
			if (r && !vs_region_map_add(r, run))
				r = NULL;
			rcu_read_unlock();
			if (!r) {
				ret = -EINVAL;
				break;
			}
			counted = run;
		}
		if (srm_region_ua_to_hpa(c->core, r->srm, ua, shift, &pa)) {
			ret = -EINVAL;
			break;
		}
		slot = vs_slot_next(w, entry, slot) ?: vs_ua_slot(w, entry, true);
		if (!slot) {
			ret = -ENOMEM;
			break;
		}
		spin_lock(&c->tce_lock);
		/* Live (ours, or a guest's through vs_hcall.c): refused. */
		hpa = pa;
		ret = *slot ? -EBUSY : vs_tce_set(c, tbl, entry, &hpa, &old);
		if (ret) {
			spin_unlock(&c->tce_lock);
			break;
		}
		*slot = cpu_to_be64(ua);
		w->live++;
		spin_unlock(&c->tce_lock);
		counted--;
	}
	if (counted)
		vs_region_map_sub(r, counted);
	*done = i;
	return ret;
}

/* v1: base pages [ua, ua + size) can pin at most: charged ahead. */
static unsigned long vs_v1_pages(struct vs_window *w, u64 ua, u64 size)
{
	if (w->tbl->it_page_shift >= PAGE_SHIFT)
		return size >> PAGE_SHIFT;
	return (PAGE_ALIGN(ua + size) - (ua & PAGE_MASK)) >> PAGE_SHIFT;
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
 * while mapping a large range; -EFAULT (v1) for
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
	unsigned long first = iova >> shift, n = size >> shift, done;
	long ret;

	if (c->v2) {
		ret = vs_v2_map(c, w, first, n, ua, dir, &done);
	} else {
		/* Charged before anything is pinned; the surplus goes back below. */
		ret = vs_v1_settle(c, c->v1_pages.used + vs_v1_pages(w, ua, size));
		if (ret)
			return ret;
		ret = vs_v1_map(c, w, first, n, ua, dir, &done);
	}
	atomic64_add(done, &vs_stats.tces_set);
	if (ret) {
		/* Clears what was set and settles the v1 charge. */
		vs_unmap(c, w, iova, done << shift);
		return ret;
	}
	if (!c->v2)
		vs_v1_settle(c, c->v1_pages.used);
	iommu_tce_kill(tbl, first, n);
	atomic64_inc(&vs_stats.maps);
	return 0;
}
