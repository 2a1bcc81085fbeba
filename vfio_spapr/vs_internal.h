/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio_spapr internals: the container, its DMA windows, and the
 * preregistered memory of each process.
 */
#ifndef VS_INTERNAL_H
#define VS_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <asm/iommu.h>
#include <spapr_tce/compat.h>
#include <spapr_tce/realmode.h>

/* Preregistered memory of one process (v2), shared by its containers. */
struct vs_mm {
	struct list_head node;		/* on vs_mm_list */
	struct mm_struct *mm;		/* mmgrab'd */
	refcount_t refs;
	struct mutex lock;		/* serialises writers of @regions */
	struct maple_tree regions;	/* [ua, ua + size - 1] -> vs_region */
	unsigned long nr_regions;	/* in @regions (lock) */
	/*
	 * The region while @regions holds exactly one, else NULL (written
	 * under lock): a process with one region, the usual guest, is
	 * looked up without a walk of the tree.
	 */
	struct vs_region __rcu *sole;
	/* Regions no container registers that TCEs still mapped (lock) */
	struct list_head orphans;
	/*
	 * A guest's hcall has exchanged a TCE of this process: a region
	 * going away waits out hcalls (vs_regions_release()). Never cleared.
	 */
	bool hcalls_clear;
};

/* What a region's registrations weigh in its @mapped count. */
#define VS_REGISTERED	((s64)BIT_ULL(48))

struct vs_region {
	u64 ua;
	u64 size;
	struct srm_region *srm;		/* ua -> hpa, for the real-mode core */
	/*
	 * The TCEs mapping the region, plus VS_REGISTERED while a
	 * container registers it; a TCE is counted only while it is.
	 */
	atomic64_t mapped;
	unsigned int users;		/* containers that registered it */
	struct list_head orphan;	/* on the registry's orphans */
	struct rcu_head rcu;
};

/* A registration by one container (the region may be shared). */
struct vs_reg {
	struct list_head node;
	struct vs_region *region;
};

struct vs_container;

struct vs_window {
	struct iommu_table *tbl;
	bool created;			/* by us: freed when removed */
	bool ddw;			/* pseries: the device's one DDW */
	__be64 *ua_shadow;		/* v2 over a fixed window: ua per TCE */
	/* v1: per TCE, the pfn + 1 of the page it pinned (0: none) */
	unsigned long *v1_pfn;
	unsigned long charged;		/* pages of locked_vm for the table */
	unsigned long live;		/* TCEs set: clearing stops at none */
	/* Reachable by guest hcalls (vs_hcall.c): on vs_hcall_windows. */
	struct list_head hnode;
	struct vs_container *owner;
	bool published;
	/* Holds a table (vs_hcall.c): on vs_owned_windows. */
	struct list_head onode;
	bool owned;
};

struct vs_group {
	struct list_head node;
	struct iommu_group *grp;
	struct iommu_table_group *tg;
};

/* Counts per pfn (vs_pcount.c). */
#define VS_PCOUNT_MIN_BITS	6	/* the smallest table: 64 slots, 1 KiB */
struct vs_pcount_slot;
struct vs_pcount {
	struct vs_pcount_slot *slot;
	unsigned int bits;		/* 2^bits slots */
	unsigned long used;		/* pfns counted */
};

struct vs_container {
	struct mutex lock;		/* serialises the container's ioctls */
	/*
	 * Serialises each TCE's update with its bookkeeping (user address,
	 * live count, region count) against guest hcalls, which cannot
	 * take @lock.
	 */
	spinlock_t tce_lock;
	bool v2;
	bool enabled;
	bool dynamic;			/* windows made through table group ops */
	bool def_window_pending;
	u64 def_window_start;		/* where vs_window_default() made it */
	struct mm_struct *mm;		/* mmgrab'd at first use */
	struct vs_mm *vmm;		/* v2 */
	struct srm_core *core;
	/*
	 * v1: how many live TCEs hold each pinned page (what each TCE
	 * pinned is its window's v1_pfn): locked_vm is charged per distinct
	 * page (v1_pages.used), whatever the TCE size.
	 */
	struct vs_pcount v1_pages;
	unsigned long v1_charged;	/* v1: pages charged for them */
	struct vs_window win[IOMMU_TABLE_GROUP_MAX_TABLES];
	struct list_head groups;
	struct list_head regs;
};

struct vs_stats {
	atomic64_t containers;
	atomic64_t maps;
	atomic64_t unmaps;
	atomic64_t tces_set;
	atomic64_t tces_cleared;
	atomic64_t pinned_pages;
	atomic64_t charged_pages;
	atomic64_t regions;
	atomic64_t windows_created;
	atomic64_t eeh_ops;
};

extern struct vs_stats vs_stats;

/* vs_account.c */
int vs_charge(struct mm_struct *mm, unsigned long pages);
void vs_uncharge(struct mm_struct *mm, unsigned long pages);

/* vs_prereg.c */
struct vs_mm *vs_mm_get(struct mm_struct *mm);
void vs_mm_put(struct vs_mm *vmm);
struct vs_mm *vs_mm_find(struct mm_struct *mm);
long vs_register(struct vs_container *c, u64 ua, u64 size);
long vs_unregister(struct vs_container *c, u64 ua, u64 size);
void vs_unregister_all(struct vs_container *c);
void vs_orphans_reap(struct vs_mm *vmm);
int vs_regions_add(struct vs_mm *vmm, struct vs_region *r);
void vs_regions_del(struct vs_mm *vmm, struct vs_region *r);
bool vs_region_map_get(struct vs_region *r);
void vs_region_map_put(struct vs_region *r);

/* Inline: once per region a MAP_DMA or UNMAP_DMA crosses (vs_tce.c). */
/**
 * vs_region_lookup() - the registered region holding [ua, ua + size).
 * @vmm: the registry
 * @ua: user address
 * @size: bytes that must lie in the same region
 *
 * Never sleeps: one RCU maple-tree walk. The caller must hold the RCU
 * read lock, or a mapping count on the region, for as long as it uses
 * the result.
 *
 * Return: the region or NULL.
 */
static inline struct vs_region *vs_region_lookup(struct vs_mm *vmm, u64 ua,
						 u64 size)
{
	/*
	 * A caller holding a mapping count instead of the RCU read lock
	 * looks up within the region it holds: while the tree holds one
	 * region, @sole is that region.
	 */
	struct vs_region *r = rcu_dereference_raw(vmm->sole);

	if (!r)
		r = mtree_load(&vmm->regions, ua);
	if (!r || ua < r->ua || ua + size < ua || ua + size > r->ua + r->size)
		return NULL;
	return r;
}

/**
 * vs_region_map_add() - count @n TCEs about to map @r, at once.
 * @r: a region found by vs_region_lookup()
 * @n: how many
 *
 * As @n calls of vs_region_map_get(), in one atomic operation: a map
 * takes the counts of a run of TCEs in one region before it sets them,
 * and gives back with vs_region_map_sub() those it does not set.
 * Never sleeps.
 *
 * Return: false when no container registers the region.
 */
static inline bool vs_region_map_add(struct vs_region *r, unsigned long n)
{
	s64 v = atomic64_read(&r->mapped);

	do {
		if (v < VS_REGISTERED)
			return false;
	} while (!atomic64_try_cmpxchg(&r->mapped, &v, v + n));
	return true;
}

/**
 * vs_region_map_sub() - @n TCEs mapping @r are gone (or were never set).
 * @r: the region
 * @n: how many
 *
 * Never sleeps.
 */
static inline void vs_region_map_sub(struct vs_region *r, unsigned long n)
{
	WARN_ON(atomic64_sub_return(n, &r->mapped) < 0);
}

/* vs_window.c */
struct vs_window *vs_window_find(struct vs_container *c, u64 iova);
long vs_window_create(struct vs_container *c, u32 page_shift, u64 size,
		      u32 levels, u64 *start);
long vs_window_remove(struct vs_container *c, u64 start);
long vs_window_default(struct vs_container *c);
void vs_windows_free(struct vs_container *c);
void vs_fixed_windows_adopt(struct vs_container *c, struct iommu_table_group *tg);
long vs_window_ready(struct vs_container *c, struct vs_window *w);
bool vs_window_is_ready(struct vs_container *c, struct vs_window *w);
void vs_window_unready(struct vs_container *c, struct vs_window *w);
long vs_windows_set_on(struct vs_container *c, struct iommu_table_group *tg);
void vs_windows_clear(struct vs_container *c);
void vs_windows_unset_on(struct vs_container *c, struct iommu_table_group *tg);

/* vs_tce.c */
__be64 *vs_ua_slot(struct vs_window *w, unsigned long entry, bool alloc);
__be64 *vs_slot_next(struct vs_window *w, unsigned long entry, __be64 *prev);
void vs_v2_slot_gone(struct vs_container *c, struct vs_window *w,
		     __be64 *slot);
long vs_map(struct vs_container *c, struct vs_window *w, u64 iova, u64 ua,
	    u64 size, enum dma_data_direction dir);
long vs_unmap(struct vs_container *c, struct vs_window *w, u64 iova, u64 size);

/* vs_pcount.c */
bool vs_pcount_add(struct vs_pcount *t, unsigned long pfn, unsigned long k);
int vs_pcount_insert(struct vs_pcount *t, unsigned long pfn, unsigned long k);
bool vs_pcount_sub(struct vs_pcount *t, unsigned long pfn, unsigned long k);
unsigned long vs_pcount_read(const struct vs_pcount *t, unsigned long pfn);
void vs_pcount_shrink(struct vs_pcount *t);
void vs_pcount_free(struct vs_pcount *t);

/* vs_hcall.c */
void vs_hcall_sync(struct vs_container *c);
void vs_hcall_hide(struct vs_window *w);
void vs_hcall_own(struct vs_window *w);
void vs_hcall_disown(struct vs_window *w);

/* vs_container.c */
extern const struct vfio_iommu_driver_ops vs_driver_ops;

/* vfio_spapr_main.c */
bool vs_container_admit(void);
void vs_container_gone(void);

/* ioctl arguments */
/**
 * vs_copy_arg() - copy in an ioctl argument and check its header.
 * @dst: the argument structure
 * @arg: user pointer
 * @minsz: bytes the caller needs
 * @flags_ok: the flags the ioctl accepts
 *
 * Every sPAPR container argument starts with __u32 argsz, __u32 flags.
 * Inlined: each caller's @minsz is a constant, so the copy needs no
 * run-time object size check (MAP_DMA and UNMAP_DMA are hot).
 *
 * Return: 0; -EFAULT; -EINVAL when argsz is short of @minsz or a flag
 * outside @flags_ok is set.
 */
static __always_inline long vs_copy_arg(void *dst, unsigned long arg,
					size_t minsz, u32 flags_ok)
{
	struct {
		u32 argsz;
		u32 flags;
	} hdr;

	if (copy_from_user(dst, (void __user *)arg, minsz))
		return -EFAULT;
	memcpy(&hdr, dst, sizeof(hdr));
	if (hdr.argsz < minsz || hdr.flags & ~flags_ok)
		return -EINVAL;
	return 0;
}

/* vs_eeh.c */
long vs_eeh_check_extension(unsigned long arg);
long vs_eeh_pe_op(struct vs_container *c, unsigned long arg);

/* vs_bench.c */
struct dentry;
void vs_bench_create(struct dentry *dir);

/* vs_selftest.c */
void vs_selftest_create(struct dentry *dir);

/* vs_debugfs.c */
void vs_debugfs_init(void);
void vs_debugfs_exit(void);

#endif
