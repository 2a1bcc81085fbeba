// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_EEH_PE_OP: the container forwards EEH operations to the PE of
 * each of its groups through the kernel's exported EEH helpers (on v6.12
 * the in-tree helper module is gone, so we do not depend on it).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <asm/eeh.h>
#include "vs_internal.h"

/**
 * vs_eeh_check_extension() - VFIO_CHECK_EXTENSION for EEH.
 * @arg: the extension asked about
 *
 * Return: 1 for VFIO_EEH when the platform has EEH enabled, else 0.
 */
long vs_eeh_check_extension(unsigned long arg)
{
	return arg == VFIO_EEH && eeh_enabled() ? 1 : 0;
}

static long vs_eeh_one(struct eeh_pe *pe, const struct vfio_eeh_pe_op *op)
{
	switch (op->op) {
	case VFIO_EEH_PE_DISABLE:
		return eeh_pe_set_option(pe, EEH_OPT_DISABLE);
	case VFIO_EEH_PE_ENABLE:
		return eeh_pe_set_option(pe, EEH_OPT_ENABLE);
	case VFIO_EEH_PE_UNFREEZE_IO:
		return eeh_pe_set_option(pe, EEH_OPT_THAW_MMIO);
	case VFIO_EEH_PE_UNFREEZE_DMA:
		return eeh_pe_set_option(pe, EEH_OPT_THAW_DMA);
	case VFIO_EEH_PE_GET_STATE:
		return eeh_pe_get_state(pe);
	case VFIO_EEH_PE_RESET_DEACTIVATE:
		return eeh_pe_reset(pe, EEH_RESET_DEACTIVATE, true);
	case VFIO_EEH_PE_RESET_HOT:
		return eeh_pe_reset(pe, EEH_RESET_HOT, true);
	case VFIO_EEH_PE_RESET_FUNDAMENTAL:
		return eeh_pe_reset(pe, EEH_RESET_FUNDAMENTAL, true);
	case VFIO_EEH_PE_CONFIGURE:
		return eeh_pe_configure(pe);
	case VFIO_EEH_PE_INJECT_ERR:
		return eeh_pe_inject_err(pe, op->err.type, op->err.func,
					 op->err.addr, op->err.mask);
	}
	return -EINVAL;
}

/* every group of the container has a PE (and there is a group) */
static bool vs_eeh_has_pe(struct vs_container *c)
{
	struct vs_group *g;
	bool ok;

	mutex_lock(&c->lock);
	ok = !list_empty(&c->groups);
	list_for_each_entry(g, &c->groups, node)
		ok = ok && eeh_iommu_group_to_pe(g->grp);
	mutex_unlock(&c->lock);
	return ok;
}

/**
 * vs_eeh_pe_op() - VFIO_EEH_PE_OP on every group of the container.
 * @c: the container
 * @arg: user pointer to struct vfio_eeh_pe_op
 *
 * A container without a PE answers -ENODEV before its argument is
 * read, as the in-tree driver does: on a platform without EEH a VMM
 * sees the same answer whatever it passes.
 *
 * Return: the first non-zero result (a state for GET_STATE), -ENODEV
 * without a group or PE, -EINVAL for a bad argument.
 */
long vs_eeh_pe_op(struct vs_container *c, unsigned long arg)
{
	struct vfio_eeh_pe_op op;
	size_t minsz = offsetofend(struct vfio_eeh_pe_op, op);
	struct vs_group *g;
	long ret;

	if (!vs_eeh_has_pe(c))
		return -ENODEV;
	ret = vs_copy_arg(&op, arg, minsz, 0);
	if (ret)
		return ret;
	if (op.op == VFIO_EEH_PE_INJECT_ERR) {
		minsz = offsetofend(struct vfio_eeh_pe_op, err.mask);
		if (op.argsz < minsz)
			return -EINVAL;
		if (copy_from_user(&op, (void __user *)arg, minsz))
			return -EFAULT;
	}
	/* a group may have gone since: its PE is looked up again */
	ret = -ENODEV;
	mutex_lock(&c->lock);
	list_for_each_entry(g, &c->groups, node) {
		struct eeh_pe *pe = eeh_iommu_group_to_pe(g->grp);

		if (!pe) {
			ret = -ENODEV;
			break;
		}
		/* counted: the end-to-end test sees a guest's RTAS call here */
		atomic64_inc(&vs_stats.eeh_ops);
		ret = vs_eeh_one(pe, &op);
		if (ret)
			break;
	}
	mutex_unlock(&c->lock);
	return ret;
}
