// SPDX-License-Identifier: GPL-2.0
/*
 * Guest hcalls on a container's windows (include/spapr_tce/vfio_spapr.h).
 *
 * KVM links a guest TCE table to the hardware table of a window through
 * the KVM-VFIO device; kvm_tce then sets the window's TCEs from the
 * guest's H_PUT_TCE without the container's mutex. A window is reachable
 * that way only while it is "published": it belongs to a v2 container,
 * is a dynamic window (its user-address view is the platform's, in the
 * linear map) and is programmed into at least one group. Before a window
 * stops being programmed or is cleared, it is unpublished and an RCU
 * grace period passes, so no hcall is still inside it when its TCEs are
 * cleared and their memory given back.
 *
 * Every table a window of ours holds is also "owned", from before its
 * first TCE until our last reference goes: the stock handler must never
 * run on it. Its clear of a TCE takes the TCE out and, finding no
 * mm_iommu region, puts it back, without our TCE lock; a clear of ours
 * in between gives the region back by our record, and the TCE put back
 * would stay live with no record (Documentation/kvm_tce.rst).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <spapr_tce/vfio_spapr.h>
#include "vs_internal.h"

static LIST_HEAD(vs_hcall_windows);
static LIST_HEAD(vs_owned_windows);
static DEFINE_SPINLOCK(vs_hcall_lock);

static bool vs_hcall_wanted(struct vs_container *c, struct vs_window *w)
{
	return c->v2 && c->dynamic && w->tbl && !w->ua_shadow &&
	       !list_empty(&c->groups);
}

/**
 * vs_hcall_sync() - publish or unpublish the windows of @c as they are.
 * @c: the container (lock held)
 *
 * Waits for an RCU grace period when a window was unpublished.
 */
void vs_hcall_sync(struct vs_container *c)
{
	bool hidden = false;
	int i;

	spin_lock(&vs_hcall_lock);
	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		struct vs_window *w = &c->win[i];
		bool want = vs_hcall_wanted(c, w);

		if (want && !w->published) {
			w->owner = c;
			w->published = true;
			list_add_rcu(&w->hnode, &vs_hcall_windows);
		} else if (!want && w->published) {
			w->published = false;
			list_del_rcu(&w->hnode);
			hidden = true;
		}
	}
	spin_unlock(&vs_hcall_lock);
	if (hidden)
		synchronize_rcu();
}

/* Takes @node off its list if @listed, then waits out its readers. */
static void vs_hcall_unlist(struct list_head *node, bool *listed)
{
	bool was;

	spin_lock(&vs_hcall_lock);
	was = *listed;
	if (was) {
		*listed = false;
		list_del_rcu(node);
	}
	spin_unlock(&vs_hcall_lock);
	if (was)
		synchronize_rcu();
}

/**
 * vs_hcall_hide() - make @w unreachable by hcalls before it goes away.
 * @w: a window (its container's lock held)
 */
void vs_hcall_hide(struct vs_window *w)
{
	vs_hcall_unlist(&w->hnode, &w->published);
}

/**
 * vs_hcall_own() - mark the table of @w as ours, before its first TCE.
 * @w: a window that holds a table (its container's lock held)
 */
void vs_hcall_own(struct vs_window *w)
{
	spin_lock(&vs_hcall_lock);
	if (!w->owned) {
		w->owned = true;
		list_add_rcu(&w->onode, &vs_owned_windows);
	}
	spin_unlock(&vs_hcall_lock);
}

/**
 * vs_hcall_disown() - forget the table of @w, once no group has it set.
 * @w: a window about to let its table go (its container's lock held)
 *
 * Waits for an RCU grace period: no reader still looks at @w after.
 */
void vs_hcall_disown(struct vs_window *w)
{
	vs_hcall_unlist(&w->onode, &w->owned);
}

/**
 * vfio_spapr_hcall_table_ours() - whether @tbl is held by a window of ours.
 * @tbl: a hardware table KVM linked to a guest table
 *
 * Published or not: a window being removed, a v1 container's, one whose
 * groups left. The stock handler must not run on such a table.
 *
 * Context: rcu_read_lock() held.
 * Return: true when one of our containers holds @tbl.
 */
bool vfio_spapr_hcall_table_ours(struct iommu_table *tbl)
{
	struct vs_window *w;

	list_for_each_entry_rcu(w, &vs_owned_windows, onode)
		if (READ_ONCE(w->tbl) == tbl)
			return true;
	return false;
}
EXPORT_SYMBOL_GPL(vfio_spapr_hcall_table_ours);

/**
 * vfio_spapr_hcall_window() - the published window whose table is @tbl.
 * @mm: the guest's process: the container must be its own
 * @tbl: a hardware table KVM linked to a guest table
 *
 * Context: rcu_read_lock() held; the window stays usable until it is
 * dropped.
 * Return: the window, or NULL when @tbl is not a window of one of our
 * containers of @mm (an in-tree container's, or one being torn down).
 */
struct vs_window *vfio_spapr_hcall_window(struct mm_struct *mm,
					  struct iommu_table *tbl)
{
	struct vs_window *w;

	list_for_each_entry_rcu(w, &vs_hcall_windows, hnode)
		if (w->tbl == tbl && w->owner->mm == mm)
			return w;
	return NULL;
}
EXPORT_SYMBOL_GPL(vfio_spapr_hcall_window);

/**
 * vfio_spapr_hcall_prepare() - get one TCE of @w ready to be set.
 * @w: from vfio_spapr_hcall_window()
 * @t: entry, ua and dir filled in; hpa and region filled out
 *
 * Nothing sleeps: a missing level of the table's user-address view is
 * allocated from atomic reserves (IODA2 allocates its levels so), and
 * the hardware level follows at commit the same way.
 *
 * Return: 0, and @t counts on its region until committed or aborted;
 * -ERANGE outside the window; -EAGAIN when a table level cannot be had;
 * -ENOENT when @t->ua is not preregistered (or is being unregistered);
 * -EFAULT when its pages are smaller than a TCE, or @t->ua is off the TCE
 * page's alignment (a memslot may place it so in a huge page).
 */
int vfio_spapr_hcall_prepare(struct vs_window *w, struct vfio_spapr_tce *t)
{
	struct vs_container *c = w->owner;
	struct iommu_table *tbl = w->tbl;
	unsigned int shift = tbl->it_page_shift;
	struct vs_region *r;
	u64 pa;

	t->region = NULL;
	t->slot = NULL;
	if (t->entry < tbl->it_offset ||
	    t->entry >= tbl->it_offset + tbl->it_size)
		return -ERANGE;
	if (t->dir == DMA_NONE)
		return 0;
	/* A missing level comes from atomic reserves, as the platform's. */
	t->slot = vs_ua_slot(w, t->entry, true);
	if (!t->slot)
		return -EAGAIN;
	r = vs_region_lookup(c->vmm, t->ua, 1ULL << shift);
	if (!r || !vs_region_map_get(r))
		return -ENOENT;
	if (srm_region_ua_to_hpa(c->core, r->srm, t->ua, shift, &pa)) {
		vs_region_map_put(r);
		return -EFAULT;
	}
	t->hpa = pa;
	t->region = r;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_spapr_hcall_prepare);

/**
 * vfio_spapr_hcall_abort() - give back what vfio_spapr_hcall_prepare() took.
 * @t: a prepared TCE that will not be committed
 */
void vfio_spapr_hcall_abort(struct vfio_spapr_tce *t)
{
	if (t->region)
		vs_region_map_put(t->region);
	t->region = NULL;
}
EXPORT_SYMBOL_GPL(vfio_spapr_hcall_abort);

/*
 * Before any count goes: vs_regions_release() reads it after. Set once
 * per registry, so a hcall does not write the shared line every time.
 */
static void vs_hcall_clears(struct vs_container *c)
{
	if (!READ_ONCE(c->vmm->hcalls_clear))
		WRITE_ONCE(c->vmm->hcalls_clear, true);
}

/*
 * One prepared TCE into the table; the TCE lock held. Inline in both
 * callers: out of line, its call and frame cost a one-TCE H_PUT_TCE 17
 * instructions (make bench, powernv9).
 */
static __always_inline long vs_hcall_set_locked(struct vs_container *c,
						struct vs_window *w,
						struct vfio_spapr_tce *t)
{
	enum dma_data_direction dir = t->dir;
	unsigned long hpa = dir == DMA_NONE ? 0 : t->hpa;
	/* Levels are freed only after the window is hidden and RCU waited */
	__be64 *slot = t->slot ?: vs_ua_slot(w, t->entry, false);
	long ret;

	ret = iommu_tce_xchg_no_kill(c->mm, w->tbl, t->entry, &hpa, &dir);
	if (ret)
		return ret;
	vs_v2_slot_gone(c, w, slot);
	if (t->dir != DMA_NONE) {
		/* Prepare found the slot. */
		*slot = cpu_to_be64(t->ua);
		w->live++;
		atomic64_inc(&vs_stats.tces_set);
	}
	/* The region's count now belongs to the TCE. */
	t->region = NULL;
	return 0;
}

/**
 * vfio_spapr_hcall_commit() - set (or clear) a prepared TCE.
 * @w: the window it was prepared for
 * @t: the prepared TCE
 *
 * What the old TCE held is let go, as an UNMAP_DMA would. The caller
 * flushes with vfio_spapr_hcall_flush() once its TCEs are set.
 *
 * Return: 0, or the platform's error, with the TCE unchanged and the
 * preparation given back.
 */
long vfio_spapr_hcall_commit(struct vs_window *w, struct vfio_spapr_tce *t)
{
	struct vs_container *c = w->owner;
	long ret;

	vs_hcall_clears(c);
	spin_lock(&c->tce_lock);
	ret = vs_hcall_set_locked(c, w, t);
	spin_unlock(&c->tce_lock);
	if (ret)
		vfio_spapr_hcall_abort(t);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_spapr_hcall_commit);

/*
 * The TCEs set or cleared under one hold of the TCE lock: the lock is
 * let go and taken again after each such batch, so a MAP_DMA or another
 * vCPU waits for at most this many exchanges (on pseries each is two
 * calls to the hypervisor).
 */
#define VS_HCALL_LOCK_BATCH	64

/**
 * vfio_spapr_hcall_commit_run() - vfio_spapr_hcall_commit() of @n TCEs.
 * @w: the window they were prepared for
 * @t: the prepared TCEs, set in order
 * @n: how many; at most a hypercall's (512)
 *
 * The TCE lock is taken once per VS_HCALL_LOCK_BATCH of them, not for
 * each: taking it for each cost H_PUT_TCE_INDIRECT 26 instructions a
 * TCE (make bench, powernv8). Stops at the first the platform refuses.
 *
 * Return: how many were set: @n, or the index of the refused one, whose
 * preparation is given back; those after it are left prepared.
 */
unsigned int vfio_spapr_hcall_commit_run(struct vs_window *w,
					 struct vfio_spapr_tce *t,
					 unsigned int n)
{
	struct vs_container *c = w->owner;
	unsigned int i = 0, end;

	vs_hcall_clears(c);
	while (i < n) {
		end = min(n, i + VS_HCALL_LOCK_BATCH);
		spin_lock(&c->tce_lock);
		for (; i < end; i++)
			if (vs_hcall_set_locked(c, w, &t[i]))
				break;
		spin_unlock(&c->tce_lock);
		if (i < end)
			break;
	}
	if (i < n)
		vfio_spapr_hcall_abort(&t[i]);
	return i;
}
EXPORT_SYMBOL_GPL(vfio_spapr_hcall_commit_run);

/**
 * vfio_spapr_hcall_clear() - clear @n TCEs of @w from @entry.
 * @w: from vfio_spapr_hcall_window()
 * @entry: the first TCE index; the range lies in @w's table (KVM links
 *	a guest table only to a hardware table that covers it)
 * @n: how many; at most a hypercall's (512)
 *
 * As vfio_spapr_hcall_commit() of a clear for each, the TCE lock taken
 * once per VS_HCALL_LOCK_BATCH of them, with consecutive user-address
 * slots reached without a walk of the table's levels (levels are freed
 * only after the window is hidden and RCU waited, so a slot found under
 * an earlier hold stays valid). A TCE the platform does not clear (a
 * level never allocated holds none) is left. A range outside the table
 * clears nothing (kvm_tce never asks for one). The caller flushes.
 */
void vfio_spapr_hcall_clear(struct vs_window *w, unsigned long entry,
			    unsigned long n)
{
	struct vs_container *c = w->owner;
	struct iommu_table *tbl = w->tbl;
	unsigned long i = entry, end;
	__be64 *slot = NULL;

	if (WARN_ON_ONCE(entry < tbl->it_offset ||
			 entry - tbl->it_offset > tbl->it_size ||
			 n > tbl->it_size - (entry - tbl->it_offset)))
		return;
	vs_hcall_clears(c);
	while (i < entry + n) {
		end = min(entry + n, i + VS_HCALL_LOCK_BATCH);
		spin_lock(&c->tce_lock);
		for (; i < end; i++) {
			enum dma_data_direction dir = DMA_NONE;
			unsigned long hpa = 0;

			slot = vs_slot_next(w, i, slot) ?:
			       vs_ua_slot(w, i, false);
			if (!iommu_tce_xchg_no_kill(c->mm, tbl, i, &hpa, &dir))
				vs_v2_slot_gone(c, w, slot);
		}
		spin_unlock(&c->tce_lock);
	}
}
EXPORT_SYMBOL_GPL(vfio_spapr_hcall_clear);

/**
 * vfio_spapr_hcall_flush() - make the device see the TCEs just changed.
 * @w: the window
 * @entry: first TCE index
 * @n: how many; 0 flushes nothing
 *
 * POWER8's invalidation of 0 TCEs at index 0 wraps past the end of the
 * bus address space and never ends (preemption off:
 * pnv_pci_phb3_tce_invalidate(), index + npages - 1): no caller may
 * reach it, whatever a guest asked for (H_STUFF_TCE with npages 0).
 */
void vfio_spapr_hcall_flush(struct vs_window *w, unsigned long entry,
			    unsigned long n)
{
	if (n)
		iommu_tce_kill(w->tbl, entry, n);
}
EXPORT_SYMBOL_GPL(vfio_spapr_hcall_flush);
