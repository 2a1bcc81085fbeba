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
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/notifier.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <spapr_tce/compat.h>
#include <spapr_tce/version.h>
#include "vs_internal.h"

#define VS_INTREE	"vfio_iommu_spapr_tce"

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

static bool container = true;
static bool vs_serving;
static bool vs_live;		/* under kernel_param_lock(THIS_MODULE) */
static DEFINE_MUTEX(vs_serving_lock);

/* Start or stop serving new containers; live ones keep their driver. */
static int vs_serve(bool on)
{
	int ret = 0;

	mutex_lock(&vs_serving_lock);
	if (on == vs_serving)
		goto unlock;
	if (!on) {
		vfio_unregister_iommu_driver(&vs_driver_ops);
		unregister_module_notifier(&vs_module_nb);
		vs_serving = false;
		pr_info("no longer serving new sPAPR containers\n");
		goto unlock;
	}
	ret = -EBUSY;
	if (vs_intree_loaded()) {
		pr_err("%s is loaded and would share sPAPR containers with us; rmmod it first, or set container=0\n",
		       VS_INTREE);
		goto unlock;
	}
	ret = register_module_notifier(&vs_module_nb);
	if (ret)
		goto unlock;
	ret = vfio_register_iommu_driver(&vs_driver_ops);
	if (ret) {
		unregister_module_notifier(&vs_module_nb);
		goto unlock;
	}
	vs_serving = true;
	pr_info("serving sPAPR TCE v1/v2 containers\n");
unlock:
	mutex_unlock(&vs_serving_lock);
	return ret;
}

static int vs_container_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	/* At load time the module's init applies it. */
	if (!vs_live)
		return param_set_bool(val, kp);
	ret = vs_serve(on);
	if (!ret)
		container = on;
	return ret;
}

static const struct kernel_param_ops vs_container_ops = {
	.set = vs_container_set,
	.get = param_get_bool,
};
module_param_cb(container, &vs_container_ops, &container, 0644);
MODULE_PARM_DESC(container,
		 "Serve new sPAPR TCE v1/v2 VFIO containers (default Y); N leaves them to the in-tree "
		 VS_INTREE " (writable at run time)");

static int __init vfio_spapr_init(void)
{
	int ret;

	ret = vs_enable_init();
	if (ret)
		return ret;
	if (container) {
		ret = vs_serve(true);
		if (ret) {
			vs_enable_exit();
			return ret;
		}
	}
	vs_debugfs_init();
	kernel_param_lock(THIS_MODULE);
	vs_live = true;
	kernel_param_unlock(THIS_MODULE);
	pr_info("version %s loaded\n", SPAPR_TCE_VERSION);
	return 0;
}

static void __exit vfio_spapr_exit(void)
{
	kernel_param_lock(THIS_MODULE);
	vs_live = false;
	kernel_param_unlock(THIS_MODULE);
	vs_debugfs_exit();
	vs_serve(false);
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
