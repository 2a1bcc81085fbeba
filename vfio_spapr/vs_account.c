// SPDX-License-Identifier: GPL-2.0
/*
 * locked_vm accounting. Every charge happens before the memory it stands
 * for is pinned or allocated, so RLIMIT_MEMLOCK is enforced before
 * anything is taken, and a refused charge leaves nothing behind.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

	if (!pages)
		return 0;
	ret = account_locked_vm(mm, pages, true);
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
	if (!pages)
		return;
	account_locked_vm(mm, pages, false);
	atomic64_sub(pages, &vs_stats.charged_pages);
}
