// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel PAPR TCE hypercall handlers for KVM-HV: module entry points.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/printk.h>
#include <spapr_tce/version.h>

static int __init kvm_tce_init(void)
{
	pr_info("version %s loaded\n", SPAPR_TCE_VERSION);
	return 0;
}

static void __exit kvm_tce_exit(void)
{
	pr_info("unloaded\n");
}

module_init(kvm_tce_init);
module_exit(kvm_tce_exit);

MODULE_DESCRIPTION("In-kernel PAPR TCE hypercall handlers for KVM-HV");
MODULE_VERSION(SPAPR_TCE_VERSION);
MODULE_LICENSE("GPL");
