// SPDX-License-Identifier: GPL-2.0
/*
 * real-mode-safe page lookup and refcounting core for sPAPR TCE: module entry points.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/printk.h>
#include <spapr_tce/version.h>

static int __init spapr_realmode_init(void)
{
	pr_info("version %s loaded\n", SPAPR_TCE_VERSION);
	return 0;
}

static void __exit spapr_realmode_exit(void)
{
	pr_info("unloaded\n");
}

module_init(spapr_realmode_init);
module_exit(spapr_realmode_exit);

MODULE_DESCRIPTION("real-mode-safe page lookup and refcounting core for sPAPR TCE");
MODULE_VERSION(SPAPR_TCE_VERSION);
MODULE_LICENSE("GPL");
