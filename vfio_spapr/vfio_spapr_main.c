// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO IOMMU backend for sPAPR TCE v1 and v2: module entry points.
 *
 * VFIO offers a new container to its IOMMU drivers newest first, and
 * falls back to the next one when a driver refuses a group. Two sPAPR
 * drivers loaded together would so split containers between them
 * depending on load order and on which groups fail: ours refuses to load
 * while the in-tree vfio_iommu_spapr_tce is loaded, and refuses that
 * module's load while ours serves containers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/namei.h>
#include <linux/notifier.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <spapr_tce/compat.h>
#include <spapr_tce/version.h>
#include "vs_internal.h"

#define VS_INTREE	"vfio_iommu_spapr_tce"

static bool container = true;
module_param(container, bool, 0444);
MODULE_PARM_DESC(container,
		 "Serve sPAPR TCE v1/v2 VFIO containers (default Y); N leaves them to the in-tree "
		 VS_INTREE);

struct vs_stats vs_stats;

static bool vs_intree_loaded(void)
{
	struct path path;

	if (kern_path("/sys/module/" VS_INTREE, LOOKUP_FOLLOW, &path))
		return false;
	path_put(&path);
	return true;
}

static int vs_module_event(struct notifier_block *nb, unsigned long state,
			   void *data)
{
	struct module *mod = data;

	if (state != MODULE_STATE_COMING || strcmp(mod->name, VS_INTREE))
		return NOTIFY_DONE;
	pr_err("refusing to load %s while %s serves sPAPR containers; rmmod %s first\n",
	       VS_INTREE, KBUILD_MODNAME, KBUILD_MODNAME);
	return notifier_from_errno(-EBUSY);
}

static struct notifier_block vs_module_nb = {
	.notifier_call = vs_module_event,
};

static int __init vfio_spapr_init(void)
{
	int ret;

	if (container && vs_intree_loaded()) {
		pr_err("%s is loaded and would share sPAPR containers with us; rmmod it first, or load us with container=0\n",
		       VS_INTREE);
		return -EBUSY;
	}
	ret = vs_enable_init();
	if (ret)
		return ret;
	if (container) {
		ret = register_module_notifier(&vs_module_nb);
		if (ret)
			goto disable;
		ret = vfio_register_iommu_driver(&vs_driver_ops);
		if (ret) {
			unregister_module_notifier(&vs_module_nb);
			goto disable;
		}
	}
	vs_debugfs_init();
	pr_info("version %s loaded%s\n", SPAPR_TCE_VERSION,
		container ? ", serving sPAPR TCE v1/v2 containers" : "");
	return 0;
disable:
	vs_enable_exit();
	return ret;
}

static void __exit vfio_spapr_exit(void)
{
	vs_debugfs_exit();
	if (container) {
		vfio_unregister_iommu_driver(&vs_driver_ops);
		unregister_module_notifier(&vs_module_nb);
	}
	/* Regions freed by RCU callbacks must be gone before our text. */
	rcu_barrier();
	vs_enable_exit();
	pr_info("unloaded\n");
}

module_init(vfio_spapr_init);
module_exit(vfio_spapr_exit);

MODULE_DESCRIPTION("VFIO IOMMU backend for sPAPR TCE v1 and v2");
MODULE_VERSION(SPAPR_TCE_VERSION);
MODULE_LICENSE("GPL");
