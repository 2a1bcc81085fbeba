// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO IOMMU backend for sPAPR TCE v1 and v2: module entry points.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/printk.h>
#include <spapr_tce/compat.h>
#include <spapr_tce/version.h>

static int __init vfio_spapr_init(void)
{
	int ret;

	ret = vs_enable_init();
	if (ret)
		return ret;
	pr_info("version %s loaded\n", SPAPR_TCE_VERSION);
	return 0;
}

static void __exit vfio_spapr_exit(void)
{
	vs_enable_exit();
	pr_info("unloaded\n");
}

module_init(vfio_spapr_init);
module_exit(vfio_spapr_exit);

MODULE_DESCRIPTION("VFIO IOMMU backend for sPAPR TCE v1 and v2");
MODULE_VERSION(SPAPR_TCE_VERSION);
MODULE_LICENSE("GPL");
