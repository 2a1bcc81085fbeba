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
