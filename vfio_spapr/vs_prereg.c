// SPDX-License-Identifier: GPL-2.0
/*
 * Preregistered memory (v2 containers): each process's registered ranges
 * are pinned once, their host physical addresses kept in an srm_region
 * for the real-mode core, and the ranges indexed in a maple tree.
 *
 * Ranges never overlap (a partial overlap is refused), so a maple tree
 * keyed by the range holds them exactly, and a lookup is one RCU walk
 * that neither sleeps nor takes a lock, whatever the number of regions;
 * the in-tree registry walks a list.
 *
 * A region belongs to the process, and is kept by two kinds of users:
 * the containers that registered it and the TCEs that map it, in any
 * container of the process (Documentation/vfio_spapr.rst, "Who owns a
 * region"). Its count holds the TCEs plus VS_REGISTERED while it is
 * registered; a TCE may be counted only while it is registered. An
 * UNREGISTER swaps the last registration for zero only when no TCE is
 * left (-EBUSY otherwise). A container's end cannot fail: a region that
 * loses its last registration there while another container's TCEs
 * still map it stays pinned and charged as an orphan, refused to new
 * TCEs, until the last of them goes. A region whose count is zero for
 * good leaves the tree under the registry's lock, and its pages are let
 * go after it, in process context, once a guest's hcall that cleared a
 * TCE into it has invalidated that TCE (vs_regions_release()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "vs_internal.h"

#define VS_PIN_BATCH	512

static LIST_HEAD(vs_mm_list);
static DEFINE_MUTEX(vs_mm_list_lock);

/* The registry of @mm with a new reference, or NULL; list lock held. */
static struct vs_mm *vs_mm_lookup(struct mm_struct *mm)
{
	struct vs_mm *vmm;

	lockdep_assert_held(&vs_mm_list_lock);
	list_for_each_entry(vmm, &vs_mm_list, node) {
		if (vmm->mm == mm) {
			refcount_inc(&vmm->refs);
			return vmm;
		}
	}
	return NULL;
}

/**
 * vs_mm_find() - the preregistration registry of @mm, if it has one.
 * @mm: a process's mm
 *
 * Return: the registry with a reference the caller drops with
 * vs_mm_put(), or NULL.
 */
struct vs_mm *vs_mm_find(struct mm_struct *mm)
{
	struct vs_mm *vmm;

	mutex_lock(&vs_mm_list_lock);
	vmm = vs_mm_lookup(mm);
	mutex_unlock(&vs_mm_list_lock);
	return vmm;
}

/**
 * vs_mm_get() - the registry of @mm, made on first use.
 * @mm: a process's mm
 *
 * Return: the registry with a reference, or NULL without memory.
 */
struct vs_mm *vs_mm_get(struct mm_struct *mm)
{
	struct vs_mm *vmm = vs_mm_find(mm), *other;

	if (vmm)
		return vmm;
	vmm = kzalloc(sizeof(*vmm), GFP_KERNEL);
	if (!vmm)
		return NULL;
	vmm->mm = mm;
	mmgrab(mm);
	refcount_set(&vmm->refs, 1);
	mutex_init(&vmm->lock);
	/*
	 * RCU mode: lookups walk the tree under the RCU read lock alone (a
	 * map in another container of the process, a guest's hcall) while
	 * a registration changes it; outside RCU mode the tree reuses and
	 * frees replaced nodes at once.
	 */
	mt_init_flags(&vmm->regions, MT_FLAGS_USE_RCU);
	INIT_LIST_HEAD(&vmm->orphans);

	mutex_lock(&vs_mm_list_lock);
	other = vs_mm_lookup(mm);
	if (!other)
		list_add(&vmm->node, &vs_mm_list);
	mutex_unlock(&vs_mm_list_lock);
	if (other) {
		/* Lost a race with another container of @mm. */
		mmdrop(mm);
		kfree(vmm);
		return other;
	}
	return vmm;
}

/**
 * vs_mm_put() - drop a reference from vs_mm_get() or vs_mm_find().
 * @vmm: the registry
 */
void vs_mm_put(struct vs_mm *vmm)
{
	if (!refcount_dec_and_mutex_lock(&vmm->refs, &vs_mm_list_lock))
		return;
	list_del(&vmm->node);
	mutex_unlock(&vs_mm_list_lock);
	/*
	 * Every container of the process is gone, and with it every TCE:
	 * the orphans go now; the registered regions went with their
	 * containers.
	 */
	vs_orphans_reap(vmm);
	WARN_ON(!list_empty(&vmm->orphans) || !mtree_empty(&vmm->regions));
	mtree_destroy(&vmm->regions);
	mmdrop(vmm->mm);
	kfree(vmm);
}

static void vs_unpin(struct vs_region *r, u64 npages)
{
	struct srm_core *core = srm_core_get();
	u64 i, hpa;

	for (i = 0; i < npages; i++) {
		if (srm_region_ua_to_hpa(core, r->srm, r->ua + (i << PAGE_SHIFT),
					 PAGE_SHIFT, &hpa))
			continue;
		unpin_user_page(pfn_to_page(hpa >> PAGE_SHIFT));
	}
	atomic64_sub(npages, &vs_stats.pinned_pages);
}

/*
 * Pins the range for long-term DMA and records each page. The largest
 * TCE page the region can back is bounded by the alignment of the range
 * and by what each page can back (srm_page_tce_shift(): a hugetlb page
 * its size, if physically aligned like its user address; any other page,
 * a transparent huge one too, only itself).
 */
static long vs_pin(struct vs_region *r)
{
	u64 npages = r->size >> PAGE_SHIFT, done = 0, i;
	unsigned int shift = __ffs(r->ua | r->size);
	struct page **pages;
	long ret = 0;

	pages = kmalloc_array(VS_PIN_BATCH, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	/* Lets vs_unpin() read back a partial pin. */
	srm_region_set_max_shift(r->srm, PAGE_SHIFT);
	while (done < npages) {
		int want = min_t(u64, npages - done, VS_PIN_BATCH);
		int got;

		got = pin_user_pages_fast(r->ua + (done << PAGE_SHIFT), want,
					  FOLL_WRITE | FOLL_LONGTERM, pages);
		if (got < 0) {
			ret = got;
			break;
		}
		for (i = 0; i < got; i++) {
			u64 ua = r->ua + ((done + i) << PAGE_SHIFT);

			srm_region_set_hpa(r->srm, done + i,
					   page_to_phys(pages[i]));
			shift = min(shift, srm_page_tce_shift(pages[i], ua));
		}
		done += got;
		atomic64_add(got, &vs_stats.pinned_pages);
		if (got < want) {
			ret = -EFAULT;
			break;
		}
	}
	kfree(pages);
	if (ret) {
		vs_unpin(r, done);
		return ret == -ENOMEM ? ret : -EFAULT;
	}
	srm_region_set_max_shift(r->srm, shift);
	return 0;
}

static void vs_region_free_rcu(struct rcu_head *head)
{
	struct vs_region *r = container_of(head, struct vs_region, rcu);

	srm_region_free(r->srm);
	kfree(r);
}

static struct vs_reg *vs_reg_of(struct vs_container *c, struct vs_region *r)
{
	struct vs_reg *reg;

	list_for_each_entry(reg, &c->regs, node)
		if (reg->region == r)
			return reg;
	return NULL;
}

/* @vmm->sole after @regions changed; vmm->lock held. */
static void vs_sole_update(struct vs_mm *vmm)
{
	struct vs_region *r = NULL;
	unsigned long idx = 0;

	if (vmm->nr_regions == 1)
		r = mt_find(&vmm->regions, &idx, ULONG_MAX);
	rcu_assign_pointer(vmm->sole, r);
}

/**
 * vs_regions_add() - put @r in @vmm's tree.
 * @vmm: the registry (lock held)
 * @r: a region whose range overlaps none in the tree
 *
 * The shortcut to a sole region goes before the tree changes: no lookup
 * answers from it while a second region is there.
 *
 * Return: 0 or the maple tree's error.
 */
int vs_regions_add(struct vs_mm *vmm, struct vs_region *r)
{
	int ret;

	lockdep_assert_held(&vmm->lock);
	RCU_INIT_POINTER(vmm->sole, NULL);
	ret = mtree_insert_range(&vmm->regions, r->ua, r->ua + r->size - 1, r,
				 GFP_KERNEL);
	if (!ret)
		vmm->nr_regions++;
	vs_sole_update(vmm);
	return ret;
}

/**
 * vs_regions_del() - take @r out of @vmm's tree.
 * @vmm: the registry (lock held)
 * @r: a region in the tree; freed after an RCU grace period, if at all
 */
void vs_regions_del(struct vs_mm *vmm, struct vs_region *r)
{
	lockdep_assert_held(&vmm->lock);
	RCU_INIT_POINTER(vmm->sole, NULL);
	mtree_erase(&vmm->regions, r->ua);
	vmm->nr_regions--;
	vs_sole_update(vmm);
}

static long vs_region_new(struct vs_container *c, u64 ua, u64 size,
			  struct vs_region **out)
{
	struct vs_mm *vmm = c->vmm;
	struct vs_region *r;
	long ret;

	ret = vs_charge(vmm->mm, size >> PAGE_SHIFT);
	if (ret)
		return ret;
	ret = -ENOMEM;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		goto uncharge;
	r->ua = ua;
	r->size = size;
	r->users = 1;
	INIT_LIST_HEAD(&r->orphan);
	atomic64_set(&r->mapped, VS_REGISTERED);
	r->srm = srm_region_alloc(ua, size >> PAGE_SHIFT, GFP_KERNEL);
	if (!r->srm)
		goto free;
	ret = vs_pin(r);
	if (ret)
		goto free;
	ret = vs_regions_add(vmm, r);
	if (ret) {
		vs_unpin(r, size >> PAGE_SHIFT);
		goto free;
	}
	atomic64_inc(&vs_stats.regions);
	*out = r;
	return 0;
free:
	if (r->srm)
		srm_region_free(r->srm);
	kfree(r);
uncharge:
	vs_uncharge(vmm->mm, size >> PAGE_SHIFT);
	return ret;
}

/**
 * vs_register() - VFIO_IOMMU_SPAPR_REGISTER_MEMORY.
 * @c: the container (lock held)
 * @ua: page-aligned user address
 * @size: page-aligned size
 *
 * The same range registered by another container of the process is
 * shared and counted, and an orphan of that range is adopted again; by
 * this container again, -EBUSY; a range that overlaps a registered one
 * (or an orphan) without being it, or starts at address 0, -EINVAL.
 *
 * Return: 0 or a negative errno; on error nothing is pinned or charged.
 */
long vs_register(struct vs_container *c, u64 ua, u64 size)
{
	struct vs_mm *vmm = c->vmm;
	struct vs_region *r;
	struct vs_reg *reg;
	unsigned long idx = ua;
	long ret;

	/*
	 * Address 0 too: a TCE's record is the address it maps, 0 for none
	 * (vs_tce.c), so a TCE mapping 0 would never be cleared or counted
	 * off. Only root can map page 0 (vm.mmap_min_addr); QEMU never
	 * registers it.
	 */
	if (!ua || !size || (ua | size) & ~PAGE_MASK || ua + size < ua)
		return -EINVAL;
	reg = kzalloc(sizeof(*reg), GFP_KERNEL);
	if (!reg)
		return -ENOMEM;

	mutex_lock(&vmm->lock);
	r = mt_find(&vmm->regions, &idx, ua + size - 1);
	if (r) {
		if (r->ua != ua || r->size != size) {
			ret = -EINVAL;
		} else if (vs_reg_of(c, r)) {
			ret = -EBUSY;
		} else {
			if (!r->users++) {
				/* An orphan: registered again, mappable again. */
				list_del_init(&r->orphan);
				atomic64_add(VS_REGISTERED, &r->mapped);
			}
			ret = 0;
		}
	} else {
		ret = vs_region_new(c, ua, size, &r);
	}
	if (!ret) {
		reg->region = r;
		list_add(&reg->node, &c->regs);
		c->enabled = true;
	}
	mutex_unlock(&vmm->lock);
	if (ret)
		kfree(reg);
	return ret;
}

/*
 * Takes @r, whose count is zero for good, out of the tree onto @gone;
 * vs_regions_release() then lets its pages go. vmm->lock held.
 */
static void vs_region_unlist(struct vs_mm *vmm, struct vs_region *r,
			     struct list_head *gone)
{
	lockdep_assert_held(&vmm->lock);
	vs_regions_del(vmm, r);
	list_add(&r->orphan, gone);
}

/*
 * Unpins and uncharges the regions on @gone. A guest's hcall gives a
 * region's count back as it clears a TCE, but makes the PHB forget that
 * TCE only at its end (vfio_spapr_hcall_flush()). Every hcall runs under
 * rcu_read_lock() (kvm_tce), so once a grace period has passed no hcall
 * that cleared a TCE into these regions is short of its invalidation,
 * and the device can no longer reach their pages. A process whose
 * hcalls never cleared a TCE skips the wait (a fuzzer's thousands of
 * regions).
 */
static void vs_regions_release(struct vs_mm *vmm, struct list_head *gone)
{
	struct vs_region *r, *tmp;

	if (list_empty(gone))
		return;
	/*
	 * The zero count was read before: a flag set before the hcall's
	 * count went (vs_region_map_put() is fully ordered) is seen here.
	 */
	smp_mb();
	if (READ_ONCE(vmm->hcalls_clear))
		synchronize_rcu();
	list_for_each_entry_safe(r, tmp, gone, orphan) {
		list_del(&r->orphan);
		vs_unpin(r, r->size >> PAGE_SHIFT);
		vs_uncharge(vmm->mm, r->size >> PAGE_SHIFT);
		atomic64_dec(&vs_stats.regions);
		call_rcu(&r->rcu, vs_region_free_rcu);
	}
}

/**
 * vs_unregister() - VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY.
 * @c: the container (lock held)
 * @ua: the registered address
 * @size: the registered size
 *
 * Return: 0; -ENOENT when this container did not register exactly that
 * range; -EBUSY while a TCE still maps it (nothing changes then).
 */
long vs_unregister(struct vs_container *c, u64 ua, u64 size)
{
	/* a variable: sparse sees the constant truncated in cmpxchg's cases */
	s64 only_registered = VS_REGISTERED;
	struct vs_mm *vmm = c->vmm;
	struct vs_region *r;
	struct vs_reg *reg;
	LIST_HEAD(gone);
	long ret = 0;

	if ((ua | size) & ~PAGE_MASK)
		return -EINVAL;
	mutex_lock(&vmm->lock);
	r = mtree_load(&vmm->regions, ua);
	reg = r ? vs_reg_of(c, r) : NULL;
	if (!reg || r->ua != ua || r->size != size)
		ret = -ENOENT;
	else if (r->users > 1)
		r->users--;
	else if (!atomic64_try_cmpxchg(&r->mapped, &only_registered, 0))
		ret = -EBUSY;
	else
		vs_region_unlist(vmm, r, &gone);
	if (!ret) {
		list_del(&reg->node);
		kfree(reg);
	}
	mutex_unlock(&vmm->lock);
	vs_regions_release(vmm, &gone);
	return ret;
}

/**
 * vs_unregister_all() - drop every registration of a container going
 * away; its own windows are already cleared.
 * @c: the container
 *
 * Another container of the process may still map a region that only
 * @c registered: the region then stays, pinned and charged, as an
 * orphan that takes no new TCE, until its last TCE goes.
 */
void vs_unregister_all(struct vs_container *c)
{
	struct vs_mm *vmm = c->vmm;
	struct vs_reg *reg, *tmp;
	LIST_HEAD(gone);

	if (!vmm)
		return;
	mutex_lock(&vmm->lock);
	list_for_each_entry_safe(reg, tmp, &c->regs, node) {
		struct vs_region *r = reg->region;

		if (--r->users == 0) {
			if (!atomic64_sub_return(VS_REGISTERED, &r->mapped))
				vs_region_unlist(vmm, r, &gone);
			else
				list_add(&r->orphan, &vmm->orphans);
		}
		list_del(&reg->node);
		kfree(reg);
	}
	mutex_unlock(&vmm->lock);
	vs_regions_release(vmm, &gone);
}

/* Moves the orphans whose last TCE is gone onto @gone; vmm->lock held. */
static void vs_orphans_reap_locked(struct vs_mm *vmm, struct list_head *gone)
{
	struct vs_region *r, *tmp;

	lockdep_assert_held(&vmm->lock);
	list_for_each_entry_safe(r, tmp, &vmm->orphans, orphan) {
		/* Unregistered and unmapped: nothing can count it again. */
		if (atomic64_read(&r->mapped))
			continue;
		list_del(&r->orphan);
		vs_region_unlist(vmm, r, gone);
	}
}

/**
 * vs_orphans_reap() - free the orphaned regions no TCE maps any more.
 * @vmm: the registry of a container that just cleared TCEs
 *
 * Clearing a TCE runs under a spinlock, or in a guest's hcall, where a
 * region cannot be unpinned: whoever clears TCEs in process context
 * calls this afterwards (and the registry's end collects the rest).
 */
void vs_orphans_reap(struct vs_mm *vmm)
{
	LIST_HEAD(gone);

	/* A hint: an orphan is only ever added under the lock. */
	if (!vmm || list_empty(&vmm->orphans))
		return;
	mutex_lock(&vmm->lock);
	vs_orphans_reap_locked(vmm, &gone);
	mutex_unlock(&vmm->lock);
	vs_regions_release(vmm, &gone);
}

/**
 * vs_region_map_get() - count a TCE mapping @r.
 * @r: a region found by vs_region_lookup()
 *
 * Never sleeps.
 *
 * Return: false when no container registers the region (it is being
 * unregistered, or an orphan).
 */
bool vs_region_map_get(struct vs_region *r)
{
	s64 v = atomic64_read(&r->mapped);

	do {
		if (v < VS_REGISTERED)
			return false;
	} while (!atomic64_try_cmpxchg(&r->mapped, &v, v + 1));
	return true;
}

/**
 * vs_region_map_put() - a TCE mapping @r is gone.
 * @r: the region
 *
 * Never sleeps; an orphan left with no TCE waits for vs_orphans_reap().
 */
void vs_region_map_put(struct vs_region *r)
{
	WARN_ON(atomic64_dec_return(&r->mapped) < 0);
}
