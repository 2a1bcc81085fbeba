// SPDX-License-Identifier: GPL-2.0
/*
 * locked_vm accounting. Every charge happens before the memory it stands
 * for is pinned or allocated, so RLIMIT_MEMLOCK is enforced before
 * anything is taken, and a refused charge leaves nothing behind.
 *
 * As account_locked_vm(), but CAP_IPC_LOCK is asked only when the limit
 * would refuse the charge: a v1 map and unmap charge and give back on
 * every call, and capable() (the LSM hooks) cost as much as the rest of
 * the accounting.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/mm.h>
#include "vs_internal.h"

/**
 * vs_charge() - add @pages to @mm's locked_vm, within RLIMIT_MEMLOCK.
 * @mm: the container's mm
 * @pages: PAGE_SIZE pages
 *
 * Return: 0, or -ENOMEM when the limit would be exceeded (unless the
 * caller has CAP_IPC_LOCK).
 */
int vs_charge(struct mm_struct *mm, unsigned long pages)
{
	int ret;

	if (!pages || !mm)
		return 0;
	mmap_write_lock(mm);
	ret = __account_locked_vm(mm, pages, true, current, false);
	if (ret == -ENOMEM && capable(CAP_IPC_LOCK))
		ret = __account_locked_vm(mm, pages, true, current, true);
	mmap_write_unlock(mm);
	if (!ret)
		atomic64_add(pages, &vs_stats.charged_pages);
	return ret;
}

/**
 * vs_uncharge() - give back what vs_charge() took.
 * @mm: the mm that was charged
 * @pages: PAGE_SIZE pages
 */
void vs_uncharge(struct mm_struct *mm, unsigned long pages)
{
	if (!pages || !mm)
		return;
	mmap_write_lock(mm);
	__account_locked_vm(mm, pages, false, current, false);
	mmap_write_unlock(mm);
	atomic64_sub(pages, &vs_stats.charged_pages);
}
