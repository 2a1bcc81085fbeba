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
 *
 * Serving stops (container=0) only when none of our containers is left:
 * VFIO frees its record of a driver at unregistration, which a live
 * container still points at, and the in-tree driver could load beside
 * our tables, whose TCEs the stock KVM handler would then set from the
 * in-tree registry (Documentation/vfio_spapr.rst).
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

/* Our live containers, and whether new ones are refused (stopping). */
static DEFINE_SPINLOCK(vs_admit_lock);
static unsigned long vs_nr_containers;
static bool vs_closed;

/**
 * vs_container_admit() - count a new container, unless serving stops.
 *
 * Return: false when container=0 is being applied.
 */
bool vs_container_admit(void)
{
	bool ok;

	spin_lock(&vs_admit_lock);
	ok = !vs_closed;
	if (ok)
		vs_nr_containers++;
	spin_unlock(&vs_admit_lock);
	return ok;
}

/**
 * vs_container_gone() - a container counted by vs_container_admit() is gone.
 */
void vs_container_gone(void)
{
	spin_lock(&vs_admit_lock);
	vs_nr_containers--;
	spin_unlock(&vs_admit_lock);
}

/* Refuse new containers, if none is left. */
static bool vs_close_if_idle(void)
{
	bool idle;

	spin_lock(&vs_admit_lock);
	idle = !vs_nr_containers;
	if (idle)
		vs_closed = true;
	spin_unlock(&vs_admit_lock);
	return idle;
}

/* Start or stop serving new containers; live ones keep their driver. */
static int vs_serve(bool on)
{
	int ret = 0;

	mutex_lock(&vs_serving_lock);
	if (on == vs_serving)
		goto unlock;
	if (!on) {
		if (!vs_close_if_idle()) {
			pr_err("containers of ours are open: close them before container=0\n");
			ret = -EBUSY;
			goto unlock;
		}
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
	spin_lock(&vs_admit_lock);
	vs_closed = false;
	spin_unlock(&vs_admit_lock);
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
