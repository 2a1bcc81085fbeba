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
#include <asm/iommu.h>

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
