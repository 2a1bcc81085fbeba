// SPDX-License-Identifier: GPL-2.0
/*
 * spapr_realmode.ko: the real-mode-safe page lookup and refcounting core
 * of the sPAPR TCE module set. Loading reads the kernel's layout from
 * vmcoreinfo, builds the vmemmap index and follows memory hotplug.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memory_hotplug.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <spapr_tce/version.h>
#include "srm_internal.h"

struct srm_core *srm_core;
struct srm_layout srm_layout;
/* Serialises index builds: load, hotplug events, debugfs readers. */
DEFINE_MUTEX(srm_build_lock);

const char *srm_method_name(enum srm_method m)
{
	switch (m) {
	case SRM_METHOD_VMEMMAP_LIST:
		return "vmemmap_list";
	case SRM_METHOD_PAGE_TABLE:
		return "page_table";
	default:
		return "none";
	}
}

static int __init spapr_realmode_init(void)
{
	struct srm_core *core;
	struct srm_index *idx;
	int err;

	err = srm_vmcoreinfo_parse(&srm_layout);
	if (err) {
		pr_err("cannot learn the memory layout from vmcoreinfo (%d): not loading\n", err);
		return err;
	}
	core = kzalloc(sizeof(*core), GFP_KERNEL);
	if (!core)
		return -ENOMEM;
	core->vmemmap_base = (unsigned long)vmemmap;
	core->page_struct_size = sizeof(struct page);

	/*
	 * Register first: a hotplug event racing with the first build then
	 * publishes a newer index after ours.
	 */
	srm_core = core;
	err = srm_hotplug_init();
	if (err)
		goto free_core;
	mutex_lock(&srm_build_lock);
	err = srm_index_publish(core);
	idx = rcu_dereference_protected(core->index, lockdep_is_held(&srm_build_lock));
	mutex_unlock(&srm_build_lock);
	if (err) {
		pr_err("cannot index the vmemmap (%d): no vmemmap_backing list%s\n", err,
		       radix_enabled() ? " and no page-table mapping" : "");
		goto unregister;
	}
	srm_debugfs_init();
	pr_info("version %s loaded: vmemmap index by %s, %u extents, %u list entries\n",
		SPAPR_TCE_VERSION, srm_method_name(core->method), idx->nr,
		core->list_entries);
	return 0;

unregister:
	srm_hotplug_exit();
free_core:
	srm_core = NULL;
	kfree(core);
	return err;
}

static void __exit spapr_realmode_exit(void)
{
	srm_debugfs_exit();
	srm_hotplug_exit();
	srm_index_free(rcu_dereference_protected(srm_core->index, 1));
	kfree(srm_core);
	pr_info("unloaded\n");
}

module_init(spapr_realmode_init);
module_exit(spapr_realmode_exit);

MODULE_DESCRIPTION("Real-mode-safe page lookup and refcounting core for sPAPR TCE");
MODULE_VERSION(SPAPR_TCE_VERSION);
MODULE_LICENSE("GPL");
