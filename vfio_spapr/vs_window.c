// SPDX-License-Identifier: GPL-2.0
/*
 * DMA windows of a container.
 *
 * Dynamic: the platform has table group ops (powernv IODA2; pseries on
 * v6.4+ kernels); the container creates its tables and programs them into
 * every attached group, so one table serves all of them. The default
 * 32-bit window is created on first use, as the in-tree driver does, so
 * that userspace may remove it first.
 *
 * Fixed: the platform gives no ops (pseries before v6.4); the container
 * adopts the group's own tables. v2 works there too: its user-address
 * view of each TCE, which the platform cannot keep, is ours.
 *
 * Every table's memory is charged to locked_vm before it is allocated,
 * as the platform's get_table_size() reports it (hardware table plus its
 * userspace view), or as our view's size.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <asm/firmware.h>
#include "vs_internal.h"

/**
 * vs_window_find() - the window of @c containing bus address @iova.
 * @c: the container
 * @iova: bus address
 *
 * Return: the window or NULL.
 */
struct vs_window *vs_window_find(struct vs_container *c, u64 iova)
{
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		struct iommu_table *tbl = c->win[i].tbl;
		u64 entry;

		if (!tbl)
			continue;
		entry = iova >> tbl->it_page_shift;
		if (entry >= tbl->it_offset &&
		    entry < tbl->it_offset + tbl->it_size)
			return &c->win[i];
	}
	return NULL;
}

static struct iommu_table_group *vs_first_tg(struct vs_container *c)
{
	struct vs_group *g = list_first_entry_or_null(&c->groups,
						       struct vs_group, node);

	return g ? g->tg : NULL;
}

/* Clears every TCE of @w. */
static void vs_window_clear(struct vs_container *c, struct vs_window *w)
{
	vs_unmap(c, w, w->tbl->it_offset << w->tbl->it_page_shift,
		 w->tbl->it_size << w->tbl->it_page_shift);
}

static void vs_window_release(struct vs_container *c, struct vs_window *w)
{
	vs_hcall_hide(w);
	vs_window_clear(c, w);
	/* no group has it set: the stock handler may have it now */
	vs_hcall_disown(w);
	iommu_tce_table_put(w->tbl);
	kvfree(w->ua_shadow);
	kvfree(w->v1_pfn);
	vs_uncharge(c->mm, w->charged);
	memset(w, 0, sizeof(*w));
}

/*
 * An array of 8 bytes per TCE of @tbl, charged to locked_vm first (into
 * @charged), accounted to the memory cgroup: v2's view of the user
 * address each TCE maps, where the platform keeps none, or v1's record
 * of the page each TCE pinned (vs_tce.c). A window too large for one is
 * a quiet failure. Return: the array, or NULL (nothing charged).
 */
static unsigned long vs_view_pages(struct iommu_table *tbl)
{
	return DIV_ROUND_UP(tbl->it_size * sizeof(u64), PAGE_SIZE);
}

static void *vs_view_make(struct vs_container *c, struct iommu_table *tbl,
			  unsigned long *charged)
{
	unsigned long pages = vs_view_pages(tbl);
	void *view;

	if (vs_charge(c->mm, pages))
		return NULL;
	view = kvcalloc(tbl->it_size, sizeof(u64), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!view) {
		vs_uncharge(c->mm, pages);
		return NULL;
	}
	*charged += pages;
	return view;
}

/*
 * pseries (v6.4 on) makes every window but a default-sized one of 4K
 * TCEs in slot 0 a dynamic DMA window, and a device has one: the
 * hypervisor refuses a second while the default window stays (and its
 * device-tree property would collide with the first's). A failed DDW
 * puts the device on the platform's failed-DDW list, which fails every
 * later window of it until reboot, for any user (the in-tree container
 * sends the same calls). We refuse a second one before the platform is
 * asked, with the -EPERM the platform itself gives for one in slot 0
 * (Documentation/vfio_spapr.rst, "One DDW per device").
 */
static bool vs_makes_ddw(struct iommu_table_group *tg, int num,
			 u32 page_shift, u64 size)
{
	return firmware_has_feature(FW_FEATURE_LPAR) &&
	       (num || page_shift != IOMMU_PAGE_SHIFT_4K || size > tg->tce32_size);
}

/**
 * vs_window_create() - VFIO_IOMMU_SPAPR_TCE_CREATE.
 * @c: the container (lock held, a group attached)
 * @page_shift: TCE page size
 * @size: window size
 * @levels: table levels
 * @start: where the platform placed the window
 *
 * Return: 0; -EPERM without dynamic windows, or for a second dynamic DMA
 * window of a pseries device; -ENOSPC when every window is in use;
 * -EINVAL for a page size or geometry the platform refuses; -ENOMEM over
 * RLIMIT_MEMLOCK.
 */
long vs_window_create(struct vs_container *c, u32 page_shift, u64 size,
		      u32 levels, u64 *start)
{
	struct iommu_table_group *tg = vs_first_tg(c);
	struct iommu_table *tbl = NULL;
	unsigned long bytes, pages;
	struct vs_window *w = NULL;
	struct vs_group *g;
	bool ddw;
	long ret;
	int num, i;

	if (!tg)
		return -ENXIO;
	if (!c->dynamic)
		return -EPERM;
	if (page_shift >= 64 || !(tg->pgsizes & (1ULL << page_shift)))
		return -EINVAL;
	for (num = 0; num < IOMMU_TABLE_GROUP_MAX_TABLES; num++) {
		if (!c->win[num].tbl) {
			w = &c->win[num];
			break;
		}
	}
	if (!w)
		return -ENOSPC;
	ddw = vs_makes_ddw(tg, num, page_shift, size);
	for (i = 0; ddw && i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
		if (c->win[i].ddw)
			return -EPERM;
	bytes = tg->ops->get_table_size(page_shift, size, levels);
	if (!bytes)
		return -EINVAL;
	pages = DIV_ROUND_UP(bytes, PAGE_SIZE);
	ret = vs_charge(c->mm, pages);
	if (ret)
		return ret;
	ret = tg->ops->create_table(tg, num, page_shift, size, levels, &tbl);
	if (ret)
		goto uncharge;
	list_for_each_entry(g, &c->groups, node) {
		ret = g->tg->ops->set_window(g->tg, num, tbl);
		if (ret)
			goto unset;
	}
	w->tbl = tbl;
	vs_hcall_own(w);
	w->created = true;
	w->ddw = ddw;
	w->charged = pages;
	*start = tbl->it_offset << tbl->it_page_shift;
	atomic64_inc(&vs_stats.windows_created);
	vs_hcall_sync(c);
	return 0;
unset:
	list_for_each_entry(g, &c->groups, node)
		g->tg->ops->unset_window(g->tg, num);
	iommu_tce_table_put(tbl);
uncharge:
	vs_uncharge(c->mm, pages);
	return ret;
}

/**
 * vs_window_remove() - VFIO_IOMMU_SPAPR_TCE_REMOVE.
 * @c: the container (lock held)
 * @start: the window's start
 *
 * Return: 0; -EINVAL when no window starts there; -EPERM when the
 * platform cannot remove windows.
 */
long vs_window_remove(struct vs_container *c, u64 start)
{
	struct vs_window *w = vs_window_find(c, start);
	struct vs_group *g;

	if (!w || start != w->tbl->it_offset << w->tbl->it_page_shift)
		return -EINVAL;
	if (!c->dynamic)
		return -EPERM;
	vs_hcall_hide(w);
	/*
	 * Cleared while still programmed, as the last group's detach does:
	 * pseries clears a TCE through the hypervisor, which fails once
	 * the window is unset, and the TCE's region would stay counted.
	 */
	vs_window_clear(c, w);
	list_for_each_entry(g, &c->groups, node)
		g->tg->ops->unset_window(g->tg, w - c->win);
	vs_window_release(c, w);
	return 0;
}

/**
 * vs_window_default() - create the default window if it is still owed.
 * @c: the container (lock held)
 *
 * Return: 0 or what vs_window_create() says.
 */
long vs_window_default(struct vs_container *c)
{
	struct iommu_table_group *tg = vs_first_tg(c);
	u64 start;
	long ret;

	if (!c->def_window_pending)
		return 0;
	if (!tg)
		return -ENODEV;
	ret = vs_window_create(c, IOMMU_PAGE_SHIFT_4K, tg->tce32_size, 1,
			       &start);
	if (!ret) {
		c->def_window_pending = false;
		c->def_window_start = start;
	}
	return ret;
}

/**
 * vs_fixed_windows_adopt() - take the tables of a group without ops.
 * @c: the container (lock held, no window yet)
 * @tg: the group's table group
 */
void vs_fixed_windows_adopt(struct vs_container *c, struct iommu_table_group *tg)
{
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		if (!tg->tables[i])
			continue;
		c->win[i].tbl = iommu_tce_table_get(tg->tables[i]);
		vs_hcall_own(&c->win[i]);
	}
}

/**
 * vs_window_ready() - make @w able to take mappings.
 * @c: the container (lock held)
 * @w: a window of @c
 *
 * A fixed window gets its per-TCE array (vs_view_make()) at the first
 * mapping: v2's user-address view, which the platform does not keep, or
 * v1's record of what each TCE pinned. A window we create gets v1's
 * record here too, after it is made and programmed: a failure between
 * pseries' create_table() and set_window() would leave the platform's
 * DMA window behind (the fuzzer's ENODEV on pseries-p10/6.12).
 *
 * Return: 0, or -ENOMEM (over RLIMIT_MEMLOCK, or no memory).
 */
long vs_window_ready(struct vs_container *c, struct vs_window *w)
{
	if (vs_window_is_ready(c, w))
		return 0;
	if (c->v2)
		w->ua_shadow = vs_view_make(c, w->tbl, &w->charged);
	else
		w->v1_pfn = vs_view_make(c, w->tbl, &w->charged);
	return vs_window_is_ready(c, w) ? 0 : -ENOMEM;
}

/* Whether @w has what vs_window_ready() makes. */
bool vs_window_is_ready(struct vs_container *c, struct vs_window *w)
{
	return c->v2 ? c->dynamic || w->ua_shadow : !!w->v1_pfn;
}

/**
 * vs_window_unready() - undo vs_window_ready() after a failed first map.
 * @c: the container (lock held)
 * @w: a window whose per-TCE array the failed MAP_DMA made
 *
 * With no live TCE the array holds nothing: it is freed and its charge
 * given back, so that a failed MAP_DMA leaves locked_vm as it found it.
 * A fixed window's array is only ever reached under the container's
 * lock (hcalls reach dynamic windows only).
 */
void vs_window_unready(struct vs_container *c, struct vs_window *w)
{
	unsigned long pages = vs_view_pages(w->tbl);
	void **view = c->v2 ? (void **)&w->ua_shadow : (void **)&w->v1_pfn;

	if (w->live || !*view)
		return;
	kvfree(*view);
	*view = NULL;
	vs_uncharge(c->mm, pages);
	w->charged -= pages;
}

/**
 * vs_windows_set_on() - program every window of @c into a new group.
 * @c: the container (lock held)
 * @tg: the group's table group (dynamic)
 *
 * Return: 0 or the platform's error, with nothing left programmed.
 */
long vs_windows_set_on(struct vs_container *c, struct iommu_table_group *tg)
{
	long ret;
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		if (!c->win[i].tbl)
			continue;
		ret = tg->ops->set_window(tg, i, c->win[i].tbl);
		if (ret) {
			while (--i >= 0)
				if (c->win[i].tbl)
					tg->ops->unset_window(tg, i);
			return ret;
		}
	}
	return 0;
}

/**
 * vs_windows_clear() - clear every TCE of every window of @c.
 * @c: the container (lock held)
 *
 * Done while the windows are still programmed: on pseries a TCE is set
 * and read back through the hypervisor, which forgets a window once it is
 * unset, and with it what its TCEs held.
 */
void vs_windows_clear(struct vs_container *c)
{
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
		if (c->win[i].tbl)
			vs_window_clear(c, &c->win[i]);
}

/**
 * vs_windows_unset_on() - take every window of @c out of a leaving group.
 * @c: the container (lock held)
 * @tg: the group's table group (dynamic)
 */
void vs_windows_unset_on(struct vs_container *c, struct iommu_table_group *tg)
{
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
		if (c->win[i].tbl)
			tg->ops->unset_window(tg, i);
}

/**
 * vs_windows_free() - clear and drop every window (no group programmed).
 * @c: the container (lock held)
 */
void vs_windows_free(struct vs_container *c)
{
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
		if (c->win[i].tbl)
			vs_window_release(c, &c->win[i]);
}
