// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO IOMMU driver: container lifecycle, groups, and the ioctls of
 * the sPAPR TCE v1 and v2 types, with the in-tree driver's argument
 * checks and error codes (QEMU depends on them).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <asm/firmware.h>
#include "vs_internal.h"

static void *vs_open(unsigned long arg)
{
	struct vs_container *c;

	if (arg != VFIO_SPAPR_TCE_IOMMU && arg != VFIO_SPAPR_TCE_v2_IOMMU)
		return ERR_PTR(-EINVAL);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	/* container=0 is being set: no new container (vfio_spapr_main.c) */
	if (!vs_container_admit()) {
		kfree(c);
		return ERR_PTR(-EBUSY);
	}
	mutex_init(&c->lock);
	spin_lock_init(&c->tce_lock);
	INIT_LIST_HEAD(&c->groups);
	INIT_LIST_HEAD(&c->regs);
	c->v2 = arg == VFIO_SPAPR_TCE_v2_IOMMU;
	c->core = srm_core_get();
	atomic64_inc(&vs_stats.containers);
	return c;
}

/* The container belongs to the first process that uses it. */
static long vs_mm_set(struct vs_container *c)
{
	if (c->mm)
		return c->mm == current->mm ? 0 : -EPERM;
	if (!current->mm)
		return -ESRCH;
	if (c->v2) {
		c->vmm = vs_mm_get(current->mm);
		if (!c->vmm)
			return -ENOMEM;
	}
	c->mm = current->mm;
	mmgrab(c->mm);
	return 0;
}

static void vs_detach_locked(struct vs_container *c, struct vs_group *g)
{
	list_del(&g->node);
	/* Guests lose the windows first when this was the last group. */
	vs_hcall_sync(c);
	if (c->dynamic) {
		/* The last group takes the hardware windows with it. */
		if (list_empty(&c->groups))
			vs_windows_clear(c);
		vs_windows_unset_on(c, g->tg);
	} else {
		/* Fixed windows are the group's own tables. */
		vs_windows_free(c);
	}
	spapr_compat_release_ownership(g->tg, c->dynamic);
	kfree(g);
}

static void vs_release(void *data)
{
	struct vs_container *c = data;
	struct vs_group *g, *tmp;

	mutex_lock(&c->lock);
	list_for_each_entry_safe(g, tmp, &c->groups, node)
		vs_detach_locked(c, g);
	vs_windows_free(c);
	vs_unregister_all(c);
	/* Orphans of other containers that only our TCEs still mapped */
	vs_orphans_reap(c->vmm);
	if (c->mm && !c->v2)
		vs_uncharge(c->mm, c->v1_charged);
	/* Every window was cleared: no TCE of ours, no page held. */
	WARN_ON(c->v1_pages.used);
	vs_pcount_free(&c->v1_pages);
	mutex_unlock(&c->lock);
	if (c->vmm)
		vs_mm_put(c->vmm);
	if (c->mm)
		mmdrop(c->mm);
	mutex_destroy(&c->lock);
	kfree(c);
	atomic64_dec(&vs_stats.containers);
	vs_container_gone();
}

static bool vs_tg_dynamic(struct iommu_table_group *tg)
{
	const struct iommu_table_group_ops *ops = tg->ops;

	return ops && ops->get_table_size && ops->create_table &&
	       ops->set_window && ops->unset_window && ops->take_ownership &&
	       ops->release_ownership;
}

/*
 * Can one table be programmed into several groups? Not in an LPAR: the
 * hypervisor makes every window for one PE (PAPR's create-pe-dma-window
 * gives it a LIOBN of its own, and every TCE update names that LIOBN),
 * and the pseries set_window takes only the group's own table (-EPERM
 * for any other, v6.4 on). A second group there would leave a container
 * whose every CREATE, MAP and default window fails, for both groups.
 */
static bool vs_tables_shared(void)
{
	return !firmware_has_feature(FW_FEATURE_LPAR);
}

static int vs_attach_group(void *data, struct iommu_group *grp,
			   enum vfio_group_type type)
{
	struct vs_container *c = data;
	struct iommu_table_group *tg = iommu_group_get_iommudata(grp);
	struct vs_group *g, *first;
	bool dynamic;
	long ret;

	if (type != VFIO_IOMMU)
		return -EINVAL;
	if (!tg)
		return -ENODEV;
	dynamic = vs_tg_dynamic(tg);

	mutex_lock(&c->lock);
	first = list_first_entry_or_null(&c->groups, struct vs_group, node);
	list_for_each_entry(g, &c->groups, node) {
		if (g->grp == grp) {
			ret = -EBUSY;
			goto unlock;
		}
	}
	/*
	 * Groups share tables only through dynamic windows of the same
	 * platform, outside an LPAR; a fixed window, or a window the
	 * hypervisor made for one PE, belongs to its group alone.
	 */
	ret = -EBUSY;
	if (first && (!c->dynamic || !dynamic || !vs_tables_shared()))
		goto unlock;
	/* Windows kept from earlier groups need a group that can take them. */
	if (!first && (c->win[0].tbl || c->win[1].tbl) &&
	    (!c->dynamic || !dynamic))
		goto unlock;
	ret = -EPERM;
	if (first && first->tg->ops->create_table != tg->ops->create_table) {
		pr_warn("group %d is incompatible with group %d\n",
			iommu_group_id(grp), iommu_group_id(first->grp));
		goto unlock;
	}
	ret = -ENOMEM;
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		goto unlock;
	g->grp = grp;
	g->tg = tg;

	ret = spapr_compat_take_ownership(tg, dynamic);
	if (ret)
		goto free;
	if (dynamic)
		ret = vs_windows_set_on(c, tg);
	else
		vs_fixed_windows_adopt(c, tg);
	if (ret) {
		spapr_compat_release_ownership(tg, dynamic);
		goto free;
	}
	if (!first) {
		c->dynamic = dynamic;
		c->def_window_pending = dynamic && !c->win[0].tbl;
	}
	list_add_tail(&g->node, &c->groups);
	vs_hcall_sync(c);
	mutex_unlock(&c->lock);
	return 0;
free:
	kfree(g);
unlock:
	mutex_unlock(&c->lock);
	return ret;
}

static void vs_detach_group(void *data, struct iommu_group *grp)
{
	struct vs_container *c = data;
	struct vs_group *g;

	mutex_lock(&c->lock);
	list_for_each_entry(g, &c->groups, node) {
		if (g->grp == grp) {
			vs_detach_locked(c, g);
			break;
		}
	}
	vs_orphans_reap(c->vmm);
	mutex_unlock(&c->lock);
}

static long vs_get_info(struct vs_container *c, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_spapr_tce_info,
				   dma32_window_size);
	size_t ddwsz = offsetofend(struct vfio_iommu_spapr_tce_info, ddw);
	struct vfio_iommu_spapr_tce_info info;
	struct iommu_table_group *tg;
	struct vs_group *g;
	long ret;

	/* flags are an output here */
	ret = vs_copy_arg(&info, arg, minsz, U32_MAX);
	if (ret)
		return ret;
	info.flags = 0;
	memset(&info.ddw, 0, sizeof(info.ddw));
	/*
	 * VFIO calls the driver's ioctl without a lock of its own: a
	 * detach may free the first group meanwhile, unless we hold ours.
	 */
	mutex_lock(&c->lock);
	g = list_first_entry_or_null(&c->groups, struct vs_group, node);
	if (!g) {
		mutex_unlock(&c->lock);
		return -ENXIO;
	}
	tg = g->tg;
	info.dma32_window_start = tg->tce32_start;
	info.dma32_window_size = tg->tce32_size;
	if (c->v2 && c->dynamic && tg->max_dynamic_windows_supported) {
		info.flags |= VFIO_IOMMU_SPAPR_INFO_DDW;
		info.ddw.pgsizes = tg->pgsizes;
		info.ddw.max_dynamic_windows_supported =
			tg->max_dynamic_windows_supported;
		info.ddw.levels = tg->max_levels;
	}
	mutex_unlock(&c->lock);
	if (info.argsz >= ddwsz)
		minsz = ddwsz;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

/*
 * The window holding [iova, iova + size), with everything aligned to its
 * TCE size: -ENXIO when iova is in no window (as in-tree), -EINVAL when
 * misaligned or running past the window's end.
 */
static long vs_range_window(struct vs_container *c, u64 iova, u64 ua,
			    u64 size, struct vs_window **out)
{
	struct vs_window *w = vs_window_find(c, iova);
	struct iommu_table *tbl;
	u64 mask;

	if (!w)
		return -ENXIO;
	tbl = w->tbl;
	mask = (1ULL << tbl->it_page_shift) - 1;
	if (!size || (iova | ua | size) & mask || iova + size < iova)
		return -EINVAL;
	if (((iova + size) >> tbl->it_page_shift) >
	    tbl->it_offset + tbl->it_size)
		return -EINVAL;
	*out = w;
	return 0;
}

/* The window of a MAP or UNMAP, creating the default one if it is owed. */
static long vs_locate(struct vs_container *c, u64 iova, u64 ua, u64 size,
		      struct vs_window **out)
{
	/* the default window is owed only until the first MAP or CREATE */
	long ret = c->def_window_pending ? vs_window_default(c) : 0;

	return ret ? ret : vs_range_window(c, iova, ua, size, out);
}

static long vs_ioctl_map(struct vs_container *c, unsigned long arg)
{
	struct vfio_iommu_type1_dma_map p;
	enum dma_data_direction dir;
	struct vs_window *w;
	bool fresh = false, owed;
	long ret;

	if (!c->enabled)
		return -EPERM;
	ret = vs_copy_arg(&p, arg, offsetofend(typeof(p), size),
			  VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	if (ret)
		return ret;
	switch (p.flags) {
	case VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE:
		dir = DMA_BIDIRECTIONAL;
		break;
	case VFIO_DMA_MAP_FLAG_READ:
		dir = DMA_TO_DEVICE;
		break;
	case VFIO_DMA_MAP_FLAG_WRITE:
		dir = DMA_FROM_DEVICE;
		break;
	default:
		return -EINVAL;
	}
	mutex_lock(&c->lock);
	owed = c->def_window_pending;
	ret = vs_locate(c, p.iova, p.vaddr, p.size, &w);
	if (!ret) {
		fresh = !vs_window_is_ready(c, w);
		ret = vs_window_ready(c, w);
	}
	if (!ret)
		ret = vs_map(c, w, p.iova, p.vaddr, p.size, dir);
	/* a failed first map leaves no per-TCE array charged behind */
	if (ret && fresh)
		vs_window_unready(c, w);
	/* nor the default window it made: owed again, as before the call */
	if (ret && owed && !c->def_window_pending &&
	    !vs_window_remove(c, c->def_window_start))
		c->def_window_pending = true;
	/* a failed map cleared what it set */
	if (ret && c->v2)
		vs_orphans_reap(c->vmm);
	mutex_unlock(&c->lock);
	return ret;
}

static long vs_ioctl_unmap(struct vs_container *c, unsigned long arg)
{
	struct vfio_iommu_type1_dma_unmap p;
	struct vs_window *w;
	long ret;

	if (!c->enabled)
		return -EPERM;
	ret = vs_copy_arg(&p, arg, offsetofend(typeof(p), size), 0);
	if (ret)
		return ret;
	mutex_lock(&c->lock);
	ret = vs_locate(c, p.iova, 0, p.size, &w);
	if (!ret)
		ret = vs_unmap(c, w, p.iova, p.size);
	vs_orphans_reap(c->vmm);
	mutex_unlock(&c->lock);
	return ret;
}

static long vs_ioctl_register(struct vs_container *c, unsigned long arg,
			      bool reg)
{
	struct vfio_iommu_spapr_register_memory p;
	long ret;

	if (!reg && !c->mm)
		return -EPERM;
	ret = vs_copy_arg(&p, arg, offsetofend(typeof(p), size), 0);
	if (ret)
		return ret;
	mutex_lock(&c->lock);
	ret = vs_mm_set(c);
	if (!ret)
		ret = reg ? vs_register(c, p.vaddr, p.size) :
			    vs_unregister(c, p.vaddr, p.size);
	mutex_unlock(&c->lock);
	return ret;
}

/* v1: the whole 32-bit window is the device's from ENABLE on. */
static long vs_ioctl_enable(struct vs_container *c, bool enable)
{
	struct vs_group *g;
	long ret = 0;

	mutex_lock(&c->lock);
	if (!enable) {
		c->enabled = false;
		goto unlock;
	}
	g = list_first_entry_or_null(&c->groups, struct vs_group, node);
	if (c->enabled)
		ret = -EBUSY;
	else if (!g)
		ret = -ENODEV;
	else if (!g->tg->tce32_size)
		ret = -EPERM;
	else
		ret = vs_mm_set(c);
	if (!ret)
		c->enabled = true;
unlock:
	mutex_unlock(&c->lock);
	return ret;
}

static long vs_ioctl_create(struct vs_container *c, unsigned long arg)
{
	struct vfio_iommu_spapr_tce_create p;
	size_t minsz = offsetofend(typeof(p), start_addr);
	long ret;

	/* The in-tree order of checks (a hint: checked again locked) */
	if (list_empty_careful(&c->groups))
		return -ENXIO;
	ret = vs_copy_arg(&p, arg, minsz, 0);
	if (ret)
		return ret;
	mutex_lock(&c->lock);
	ret = list_empty(&c->groups) ? -ENXIO : vs_mm_set(c);
	if (!ret)
		ret = vs_window_default(c);
	if (!ret)
		ret = vs_window_create(c, p.page_shift, p.window_size, p.levels,
				       &p.start_addr);
	mutex_unlock(&c->lock);
	if (!ret && copy_to_user((void __user *)arg, &p, minsz))
		ret = -EFAULT;
	return ret;
}

static long vs_ioctl_remove(struct vs_container *c, unsigned long arg)
{
	struct vfio_iommu_spapr_tce_remove p;
	long ret;

	/* The in-tree order of checks (a hint: checked again locked) */
	if (list_empty_careful(&c->groups))
		return -ENXIO;
	ret = vs_copy_arg(&p, arg, offsetofend(typeof(p), start_addr), 0);
	if (ret)
		return ret;
	mutex_lock(&c->lock);
	ret = list_empty(&c->groups) ? -ENXIO : vs_mm_set(c);
	if (!ret && c->def_window_pending && !p.start_addr)
		c->def_window_pending = false;
	else if (!ret)
		ret = vs_window_remove(c, p.start_addr);
	vs_orphans_reap(c->vmm);
	mutex_unlock(&c->lock);
	return ret;
}

static long vs_ioctl(void *data, unsigned int cmd, unsigned long arg)
{
	struct vs_container *c = data;

	if (cmd == VFIO_CHECK_EXTENSION) {
		if (arg == VFIO_SPAPR_TCE_IOMMU ||
		    arg == VFIO_SPAPR_TCE_v2_IOMMU)
			return 1;
		return vs_eeh_check_extension(arg);
	}
	/* One process's container is not another's to drive. */
	if (c->mm && c->mm != current->mm)
		return -EPERM;

	switch (cmd) {
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO:
		return vs_get_info(c, arg);
	case VFIO_IOMMU_MAP_DMA:
		return vs_ioctl_map(c, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return vs_ioctl_unmap(c, arg);
	case VFIO_IOMMU_ENABLE:
	case VFIO_IOMMU_DISABLE:
		if (c->v2)
			break;
		return vs_ioctl_enable(c, cmd == VFIO_IOMMU_ENABLE);
	case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
	case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY:
		if (!c->v2)
			break;
		return vs_ioctl_register(c, arg,
					 cmd == VFIO_IOMMU_SPAPR_REGISTER_MEMORY);
	case VFIO_IOMMU_SPAPR_TCE_CREATE:
		if (!c->v2)
			break;
		return vs_ioctl_create(c, arg);
	case VFIO_IOMMU_SPAPR_TCE_REMOVE:
		if (!c->v2)
			break;
		return vs_ioctl_remove(c, arg);
	case VFIO_EEH_PE_OP:
		return vs_eeh_pe_op(c, arg);
	}
	return -ENOTTY;
}

const struct vfio_iommu_driver_ops vs_driver_ops = {
	.name		= "vfio-spapr-tce-ours",
	.owner		= THIS_MODULE,
	.open		= vs_open,
	.release	= vs_release,
	.ioctl		= vs_ioctl,
	.attach_group	= vs_attach_group,
	.detach_group	= vs_detach_group,
};
