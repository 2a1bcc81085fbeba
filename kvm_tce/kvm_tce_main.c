// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel PAPR TCE hypercall handlers for KVM-HV: module entry points.
 *
 * Loads into a stock kernel: the handlers are reached through an ftrace
 * callback on kvm.ko's own (kt_hook.c), serve KVM's guest TCE tables and
 * the hardware tables of our VFIO containers linked to them (kt_hcall.c),
 * and leave everything else to kvm.ko. See Documentation/kvm_tce.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <spapr_tce/version.h>
#include "kt_internal.h"

static struct dentry *kt_dir;

static int __init kvm_tce_init(void)
{
	int ret = kt_hcall_init();

	if (ret)
		return ret;
	kt_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = kt_stats_init(kt_dir);
	if (ret)
		goto free;
	ret = kt_hook_init();
	if (ret)
		goto stats;
	pr_info("version %s loaded: TCE hcalls handled in the kernel\n",
		SPAPR_TCE_VERSION);
	return 0;
stats:
	kt_stats_exit();
free:
	debugfs_remove_recursive(kt_dir);
	kt_hcall_exit();
	return ret;
}

static void __exit kvm_tce_exit(void)
{
	kt_hook_exit();
	kt_stats_exit();
	debugfs_remove_recursive(kt_dir);
	kt_hcall_exit();
	pr_info("unloaded: TCE hcalls back with kvm.ko\n");
}

module_init(kvm_tce_init);
module_exit(kvm_tce_exit);

MODULE_DESCRIPTION("In-kernel PAPR TCE hypercall handlers for KVM-HV");
MODULE_VERSION(SPAPR_TCE_VERSION);
MODULE_LICENSE("GPL");
