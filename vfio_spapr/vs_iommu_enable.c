// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO enablement for kernels whose powerpc code registers no iommu_ops
 * (before v6.4). Built only on such kernels (SPAPR_NEED_VFIO_ENABLE, see
 * the top-level Kbuild and include/spapr_tce/compat.h).
 *
 * On those kernels vfio-pci cannot bind anything: vfio asks
 * device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY), which needs
 * dev->iommu, and nothing ever sets it on powerpc. The arch does put every
 * PCI device into the IOMMU group of its PE, and the in-tree sPAPR TCE
 * container driver does the real work through the table group. What is
 * missing is a thin iommu_ops that answers the core's questions:
 *
 *  - capable(): POWER PHBs snoop DMA, so CACHE_COHERENCY is true;
 *  - domain_alloc(IOMMU_DOMAIN_BLOCKED): vfio claims DMA ownership of the
 *    group before attaching the container, and the core wants a blocking
 *    domain for that. Attaching it does nothing: on these kernels the
 *    container driver takes the PE from the kernel itself, through the
 *    table group, right after.
 *
 * Life of a device:
 *  - at load, every PCI device that already sits in an arch IOMMU group
 *    gets a dev->iommu pointing at our iommu_device (bus_iommu_probe()
 *    skips grouped devices, so the core would never ask us);
 *  - a device added later gets it from our bus notifier at ADD_DEVICE,
 *    which runs after the core's own probe (that one fails: the arch has
 *    not grouped the device yet) and before the arch groups it in
 *    pcibios_bus_add_device(), so the device is never in a group without
 *    dev->iommu (the core dereferences it when a claimed group gains or
 *    loses a device);
 *  - at REMOVED_DEVICE a second notifier, run before the core's, frees
 *    what we set up. The core's iommu_release_device() then finds nothing
 *    to do, so it never drops a module reference we did not take.
 *
 * Unload: everything above is undone (dev->iommu of the devices we set
 * up, the notifiers, the bus iommu_ops the core leaves behind, the
 * iommu_device). Two things hold a module reference, and so make rmmod
 * fail with EBUSY, because unloading under them would leave code
 * pointers into this module behind or leave vfio silently half-working:
 *  - a device we set up bound to a driver that manages DMA itself
 *    (vfio-pci): it bound only because of our capable() answer;
 *  - a blocking domain we handed out: the core caches it in the group
 *    (group->blocking_domain, private to the core) until the group is
 *    released, and calls our ops on it then.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <spapr_tce/compat.h>

/* dev->iommu->priv of the devices we set up ourselves. */
static char vs_mark_setup;
static char vs_mark_pinned;	/* ... and that hold a module reference */

static struct iommu_device vs_iommu;
static DEFINE_MUTEX(vs_lock);	/* dev->iommu of our devices, the counts */
static atomic_t vs_ndevices = ATOMIC_INIT(0);
static atomic_t vs_npinned = ATOMIC_INIT(0);
static atomic_t vs_nblocking = ATOMIC_INIT(0);

static bool vs_ours(struct device *dev)
{
	struct dev_iommu *param = dev->iommu;

	return param && param->iommu_dev == &vs_iommu &&
	       (param->priv == &vs_mark_setup || param->priv == &vs_mark_pinned);
}

static bool vs_capable(struct device *dev, enum iommu_cap cap)
{
	/* PHBs keep DMA coherent with the CPU caches; nothing else claimed. */
	return cap == IOMMU_CAP_CACHE_COHERENCY;
}

static int vs_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	/*
	 * Nothing to program: the container driver takes the PE's tables
	 * from the kernel through the table group when it attaches, and
	 * gives them back on detach.
	 */
	return 0;
}

static void vs_detach_dev(struct iommu_domain *domain, struct device *dev)
{
	/* The core calls this when vfio releases ownership: see attach. */
}

static void vs_domain_free(struct iommu_domain *domain)
{
	kfree(domain);
	atomic_dec(&vs_nblocking);
	/*
	 * The core frees a group's blocking domain when the group itself
	 * goes (device removal, under the PCI rescan/remove lock, which our
	 * exit takes too), so this put cannot race with our own unload.
	 */
	module_put(THIS_MODULE);
}

static const struct iommu_domain_ops vs_domain_ops = {
	.attach_dev	= vs_attach_dev,
	.detach_dev	= vs_detach_dev,
	.free		= vs_domain_free,
};

static struct iommu_domain *vs_domain_alloc(unsigned int type)
{
	struct iommu_domain *domain;

	/*
	 * Only the blocking domain a DMA ownership claim asks for. The
	 * kernel's own DMA keeps going through the arch's dma_iommu_ops, so
	 * there is no default (DMA or identity) domain to offer.
	 */
	if (type != IOMMU_DOMAIN_BLOCKED)
		return NULL;
	/* The group keeps it, with our ops, until the group is released. */
	if (!try_module_get(THIS_MODULE))
		return NULL;
	domain = kzalloc(sizeof(*domain), GFP_KERNEL);
	if (!domain) {
		module_put(THIS_MODULE);
		return NULL;
	}
	domain->ops = &vs_domain_ops;
	atomic_inc(&vs_nblocking);
	return domain;
}

/*
 * The core calls this for devices it probes itself: at registration
 * (bus_iommu_probe(), which skips grouped devices) and when a device is
 * added (before the arch groups it). Neither is in a group yet, so the
 * core path declines and our own setup below does the job.
 */
static struct iommu_device *vs_probe_device(struct device *dev)
{
	if (!dev_is_pci(dev) || !device_iommu_mapped(dev))
		return ERR_PTR(-ENODEV);
	return &vs_iommu;
}

static struct iommu_group *vs_device_group(struct device *dev)
{
	/* Groups are the arch's (one per PE): never make one of our own. */
	return iommu_group_get(dev) ?: ERR_PTR(-ENODEV);
}

static void vs_release_device(struct device *dev)
{
	/* Per-device state is dev->iommu itself: its owner frees it. */
}

static const struct iommu_ops vs_iommu_ops = {
	.capable		= vs_capable,
	.domain_alloc		= vs_domain_alloc,
	.probe_device		= vs_probe_device,
	.release_device		= vs_release_device,
	.device_group		= vs_device_group,
	.default_domain_ops	= &vs_domain_ops,
	.owner			= THIS_MODULE,
};

/* Give @dev a dev->iommu of ours, unless it has one. Under vs_lock. */
static void vs_setup(struct device *dev)
{
	struct dev_iommu *param;

	lockdep_assert_held(&vs_lock);
	if (dev->iommu)
		return;
	param = kzalloc(sizeof(*param), GFP_KERNEL);
	if (!param) {
		dev_warn(dev, "no memory for dev->iommu: vfio-pci cannot bind it\n");
		return;
	}
	mutex_init(&param->lock);
	param->iommu_dev = &vs_iommu;
	param->priv = &vs_mark_setup;
	dev->iommu = param;
	/* The "iommu" link is cosmetic: a device works without it. */
	if (iommu_device_link(&vs_iommu, dev))
		dev_dbg(dev, "no iommu sysfs link\n");
	atomic_inc(&vs_ndevices);
}

/* Drop @dev's module reference, if it holds one. Under vs_lock. */
static void vs_unpin(struct device *dev)
{
	if (dev->iommu->priv != &vs_mark_pinned)
		return;
	dev->iommu->priv = &vs_mark_setup;
	atomic_dec(&vs_npinned);
	module_put(THIS_MODULE);
}

/* Undo vs_setup(). Under vs_lock. */
static void vs_teardown(struct device *dev)
{
	struct dev_iommu *param = dev->iommu;

	lockdep_assert_held(&vs_lock);
	if (!vs_ours(dev))
		return;
	vs_unpin(dev);
	vs_release_device(dev);
	iommu_device_unlink(&vs_iommu, dev);
	WRITE_ONCE(dev->iommu, NULL);
	mutex_destroy(&param->lock);
	kfree(param);
	atomic_dec(&vs_ndevices);
}

static bool vs_driver_manages_dma(struct device *dev)
{
	return dev->driver && to_pci_driver(dev->driver)->driver_managed_dma;
}

/*
 * A driver that manages DMA itself (vfio-pci) is about to probe one of
 * our devices: it will bind because of our capable() answer, so keep the
 * module until it unbinds. If the module is already going, withdraw the
 * device's dev->iommu instead, and the driver fails as on a stock kernel.
 * Called with the device lock held.
 */
static void vs_pin(struct device *dev)
{
	if (!vs_ours(dev) || !vs_driver_manages_dma(dev) ||
	    dev->iommu->priv == &vs_mark_pinned)
		return;
	if (!try_module_get(THIS_MODULE)) {
		vs_teardown(dev);
		return;
	}
	dev->iommu->priv = &vs_mark_pinned;
	atomic_inc(&vs_npinned);
}

/* Runs after the core's notifier: set up devices as they are added. */
static int vs_pci_notify_late(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	struct device *dev = data;

	mutex_lock(&vs_lock);
	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		vs_setup(dev);
		break;
	case BUS_NOTIFY_BIND_DRIVER:
		vs_pin(dev);
		break;
	case BUS_NOTIFY_UNBOUND_DRIVER:
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		if (vs_ours(dev))
			vs_unpin(dev);
		break;
	}
	mutex_unlock(&vs_lock);
	return NOTIFY_DONE;
}

/* Runs before the core's notifier, which would release dev->iommu. */
static int vs_pci_notify_early(struct notifier_block *nb, unsigned long action,
			       void *data)
{
	if (action == BUS_NOTIFY_REMOVED_DEVICE) {
		mutex_lock(&vs_lock);
		vs_teardown(data);
		mutex_unlock(&vs_lock);
	}
	return NOTIFY_DONE;
}

static struct notifier_block vs_nb_late = {
	.notifier_call	= vs_pci_notify_late,
	.priority	= INT_MIN,
};

static struct notifier_block vs_nb_early = {
	.notifier_call	= vs_pci_notify_early,
	.priority	= INT_MAX,
};

static int vs_setup_one(struct device *dev, void *unused)
{
	if (!IS_ERR(vs_probe_device(dev)))
		vs_setup(dev);
	return 0;
}

static int vs_teardown_one(struct device *dev, void *unused)
{
	device_lock(dev);
	mutex_lock(&vs_lock);
	if (vs_ours(dev) && vs_driver_manages_dma(dev))
		dev_warn(dev, "still bound to %s: it cannot claim DMA from now on\n",
			 dev->driver->name);
	vs_teardown(dev);
	mutex_unlock(&vs_lock);
	device_unlock(dev);
	return 0;
}

/*
 * iommu_device_register() set these and the core never resets them: left
 * alone they would send the next device added to freed code.
 */
static void vs_clear_bus_ops(void)
{
	if (pci_bus_type.iommu_ops == &vs_iommu_ops)
		pci_bus_type.iommu_ops = NULL;
	if (platform_bus_type.iommu_ops == &vs_iommu_ops)
		platform_bus_type.iommu_ops = NULL;
}

static ssize_t nr_devices_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&vs_ndevices));
}
static DEVICE_ATTR_RO(nr_devices);

static ssize_t nr_pinned_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&vs_npinned));
}
static DEVICE_ATTR_RO(nr_pinned);

static ssize_t nr_blocking_domains_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&vs_nblocking));
}
static DEVICE_ATTR_RO(nr_blocking_domains);

/*
 * /sys/class/iommu/vfio_spapr/nr_*: what the enablement holds right now
 * (the class already has a "devices" directory: the linked devices).
 */
static struct attribute *vs_attrs[] = {
	&dev_attr_nr_devices.attr,
	&dev_attr_nr_pinned.attr,
	&dev_attr_nr_blocking_domains.attr,
	NULL,
};

static const struct attribute_group vs_attr_group = {
	.attrs = vs_attrs,
};

static const struct attribute_group *vs_attr_groups[] = {
	&vs_attr_group,
	NULL,
};

/**
 * vs_enable_init() - make vfio-pci usable on a kernel without powerpc
 * iommu_ops
 *
 * Registers our iommu_device and iommu_ops, gives every grouped PCI device
 * a dev->iommu and watches the PCI bus for devices added and removed.
 * The PCI rescan/remove lock keeps devices from coming or going meanwhile.
 *
 * Return: 0, or a negative errno (nothing is left registered then).
 */
int vs_enable_init(void)
{
	int ret;

	/* First: device removal unlinks from iommu->dev. */
	ret = iommu_device_sysfs_add(&vs_iommu, NULL, vs_attr_groups, "%s",
				     KBUILD_MODNAME);
	if (ret) {
		pr_err("iommu sysfs device: %d\n", ret);
		return ret;
	}
	pci_lock_rescan_remove();
	ret = iommu_device_register(&vs_iommu, &vs_iommu_ops, NULL);
	if (ret) {
		/*
		 * -EBUSY: some other iommu_ops own the buses already. Any
		 * other failure leaves ours set on them, as on unload.
		 */
		vs_clear_bus_ops();
		pci_unlock_rescan_remove();
		pr_err("cannot register iommu_ops: %d\n", ret);
		iommu_device_sysfs_remove(&vs_iommu);
		return ret;
	}
	bus_register_notifier(&pci_bus_type, &vs_nb_early);
	bus_register_notifier(&pci_bus_type, &vs_nb_late);
	mutex_lock(&vs_lock);
	bus_for_each_dev(&pci_bus_type, NULL, NULL, vs_setup_one);
	mutex_unlock(&vs_lock);
	pci_unlock_rescan_remove();
	pr_info("VFIO enabled: iommu_ops registered, %d PCI devices set up\n",
		atomic_read(&vs_ndevices));
	return 0;
}

/**
 * vs_enable_exit() - undo vs_enable_init()
 *
 * Only runs once no module reference is held, so no device we set up is
 * bound to vfio-pci and no blocking domain of ours is left in a group.
 */
void vs_enable_exit(void)
{
	pci_lock_rescan_remove();
	bus_unregister_notifier(&pci_bus_type, &vs_nb_late);
	bus_unregister_notifier(&pci_bus_type, &vs_nb_early);
	bus_for_each_dev(&pci_bus_type, NULL, NULL, vs_teardown_one);
	vs_clear_bus_ops();
	iommu_device_unregister(&vs_iommu);
	pci_unlock_rescan_remove();
	iommu_device_sysfs_remove(&vs_iommu);
	WARN_ON(atomic_read(&vs_ndevices) || atomic_read(&vs_nblocking));
	pr_info("VFIO enablement removed\n");
}
