/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel versions we build for is answered
 * here, and nowhere else in the logic. Features are probed by the
 * top-level Kbuild (SPAPR_HAVE_* defines) from the headers we build
 * against, not guessed from version numbers.
 */
#ifndef SPAPR_TCE_COMPAT_H
#define SPAPR_TCE_COMPAT_H

/* v6.9 split the vmcoreinfo interface out of crash_core.h. */
#ifdef SPAPR_HAVE_VMCORE_INFO_H
#include <linux/vmcore_info.h>
#else
#include <linux/crash_core.h>
#endif

#include <linux/types.h>
#include <linux/page-flags.h>
#include <asm/iommu.h>

/*
 * 6.1 -> 6.12: struct ftrace_regs became opaque, its registers reached
 * through arch_ftrace_regs() from <linux/ftrace_regs.h> ("ftrace: Make
 * ftrace_regs abstract from direct use", v6.13, in Debian's 6.12 headers
 * too); 6.1's powerpc struct ftrace_regs holds the pt_regs as .regs.
 * Probed by Kbuild from the header's presence. Only the argument
 * registers, r1, nip and link are filled in for an ops without
 * FTRACE_OPS_FL_SAVE_REGS (kvm_tce/kt_hook.c).
 */
#ifdef SPAPR_HAVE_FTRACE_REGS_H
#include <linux/ftrace_regs.h>
#define spapr_compat_ftrace_pt_regs(fregs) (&arch_ftrace_regs(fregs)->regs)
#else
#define spapr_compat_ftrace_pt_regs(fregs) (&(fregs)->regs)
#endif

/*
 * 6.12 -> 7.x (v6.13, powerpc's DYNAMIC_FTRACE_WITH_CALL_OPS): the
 * recursion guard of an ftrace callback. Without CALL_OPS (Debian's 6.1
 * and 6.12) ftrace reaches a module's ops, a dynamic one, only through
 * ftrace_ops_list_func(), and powerpc makes no per-ops trampoline: the
 * list function holds the same guard, preemption off, around every
 * callback, so a second one cost each hooked hcall 33 instructions for
 * nothing. With CALL_OPS (7.x) an ops alone on a function is called from
 * the function's own site, unguarded. A kernel option, not a version:
 * it is what decides.
 */
#include <linux/trace_recursion.h>

static __always_inline int
spapr_compat_ftrace_trylock(unsigned long ip, unsigned long pip)
{
	if (!IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_CALL_OPS))
		return 0;
	return ftrace_test_recursion_trylock(ip, pip);
}

static __always_inline void spapr_compat_ftrace_unlock(int bit)
{
	if (IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_CALL_OPS))
		ftrace_test_recursion_unlock(bit);
}

/*
 * 6.12 -> 7.x (v6.18): struct page's flags word became memdesc_flags_t, a
 * struct holding the word as .f (commit 53fbef56e07d "mm: introduce
 * memdesc_flags_t"). Probed by Kbuild from include/linux/mm_types.h.
 */
#ifdef SPAPR_HAVE_MEMDESC_FLAGS
#define spapr_compat_page_flags(page)	(&(page)->flags.f)
#else
#define spapr_compat_page_flags(page)	(&(page)->flags)
#endif

/*
 * 6.12 -> 7.x (v7.1): struct page's tail-page link was renamed from
 * compound_head to compound_info (commit d50569612c29 "mm: rename the
 * 'compound_head' field in the 'struct page' to 'compound_info'"), and
 * vmcoreinfo names the offset after the new field. The same series
 * (commit 8c846c879e22 "mm: rework compound_head() for power-of-2
 * sizeof(struct page)", also v7.1) lets the field hold a mask instead of
 * the head's address where CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP is set
 * and struct page is a power of two in size. Debian's ppc64el 7.2 config
 * does not set it, so the field still holds head | 1 there; where a
 * kernel stores masks, the realmode core refuses to load (the index
 * translates head addresses, it cannot apply a mask to an alias).
 * Probed by Kbuild from include/linux/mm_types.h.
 */
#ifdef SPAPR_HAVE_PAGE_COMPOUND_INFO
#define SPAPR_PAGE_COMPOUND		compound_info
#define SPAPR_VMCOREINFO_PAGE_COMPOUND	"OFFSET(page.compound_info)"
static inline bool spapr_compat_compound_is_mask(void)
{
	return compound_info_has_mask();
}
#else
#define SPAPR_PAGE_COMPOUND		compound_head
#define SPAPR_VMCOREINFO_PAGE_COMPOUND	"OFFSET(page.compound_head)"
static inline bool spapr_compat_compound_is_mask(void)
{
	return false;
}
#endif

/*
 * The VFIO IOMMU driver interface lives in the private drivers/vfio/vfio.h,
 * which no headers package ships. Its first seven members and the group
 * type enum have kept their layout from v5.19 to v6.12; later members
 * changed (pin_pages, notify), are all optional and NULL-checked by the
 * core, so a tail of NULL pointers longer than any version's stands in
 * for them.
 */
struct iommu_group;

enum vfio_group_type {
	VFIO_IOMMU,
	VFIO_EMULATED_IOMMU,
	VFIO_NO_IOMMU,
};

struct vfio_iommu_driver_ops {
	char		*name;
	struct module	*owner;
	void		*(*open)(unsigned long arg);
	void		(*release)(void *iommu_data);
	long		(*ioctl)(void *iommu_data, unsigned int cmd,
				 unsigned long arg);
	int		(*attach_group)(void *iommu_data,
					struct iommu_group *group,
					enum vfio_group_type type);
	void		(*detach_group)(void *iommu_data,
					struct iommu_group *group);
	void		*optional[16];
};

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

/*
 * Who takes a PE's DMA away from the kernel's own use. Before v6.4 the
 * container does, through the table group ops (powernv) or table by
 * table (pseries, which has no ops). From v6.4 the iommu core does it
 * when VFIO claims the group, before our attach_group runs.
 */
#ifdef SPAPR_HAVE_CORE_OWNERSHIP
static inline int spapr_compat_take_ownership(struct iommu_table_group *tg,
					      bool dynamic)
{
	/* Without table group ops the core could not have taken it. */
	return dynamic ? 0 : -EPERM;
}

static inline void spapr_compat_release_ownership(struct iommu_table_group *tg,
						  bool dynamic)
{
}
#else
static inline int spapr_compat_take_ownership(struct iommu_table_group *tg,
					      bool dynamic)
{
	int i, ret;

	if (dynamic) {
		tg->ops->take_ownership(tg);
		return 0;
	}
	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		if (!tg->tables[i])
			continue;
		ret = iommu_take_ownership(tg->tables[i]);
		if (ret) {
			while (--i >= 0)
				if (tg->tables[i])
					iommu_release_ownership(tg->tables[i]);
			return ret;
		}
	}
	return 0;
}

static inline void spapr_compat_release_ownership(struct iommu_table_group *tg,
						  bool dynamic)
{
	int i;

	if (dynamic) {
		tg->ops->release_ownership(tg);
		return;
	}
	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
		if (tg->tables[i])
			iommu_release_ownership(tg->tables[i]);
}
#endif

/*
 * Before v6.4 powerpc registers no iommu_ops, so vfio-pci cannot bind any
 * device; vfio_spapr/vs_iommu_enable.c supplies them. On kernels with
 * their own it is not built, and these stubs stand in for it.
 */
#ifdef SPAPR_NEED_VFIO_ENABLE
int vs_enable_init(void);
void vs_enable_exit(void);
#else
#include <linux/printk.h>

static inline int vs_enable_init(void)
{
	pr_info("kernel has its own powerpc iommu_ops: VFIO enablement not needed\n");
	return 0;
}

static inline void vs_enable_exit(void)
{
}
#endif

#endif
