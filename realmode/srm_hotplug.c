// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping the index right across memory hotplug.
 *
 * The kernel populates a block's vmemmap before the memory goes online
 * and frees it only after the memory is offline and removed. So: after
 * MEM_ONLINE the new sections are indexed; at MEM_GOING_OFFLINE the
 * range is dropped from the index (and an RCU grace period waits out
 * every lookup that may still use the old index) before the kernel can
 * free anything. A lookup therefore never returns a page struct whose
 * memory is being taken away; for memory on its way out it fails, and
 * the caller falls back to virtual mode.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memory.h>
#include <linux/rcupdate.h>
#include "srm_internal.h"

/**
 * srm_index_publish() - build a new index and make it the live one.
 * @core: the core
 *
 * Virtual mode, srm_build_lock held. The old index is freed after a
 * grace period: real-mode readers run with preemption disabled, which
 * RCU waits for.
 *
 * Return: 0 or a negative errno (the old index then stays live).
 */
int srm_index_publish(struct srm_core *core)
{
	struct srm_index *idx, *old;
	int err;

	lockdep_assert_held(&srm_build_lock);
	err = srm_vmemmap_build(core, &idx);
	if (err)
		return err;
	old = rcu_replace_pointer(core->index, idx, lockdep_is_held(&srm_build_lock));
	core->rebuilds++;
	synchronize_rcu();
	srm_index_free(old);
	return 0;
}

static int srm_memory_event(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct memory_notify *mn = data;
	int err = 0;

	mutex_lock(&srm_build_lock);
	switch (action) {
	case MEM_GOING_OFFLINE:
		srm_core->excl_start = mn->start_pfn;
		srm_core->excl_nr = mn->nr_pages;
		err = srm_index_publish(srm_core);
		break;
	case MEM_OFFLINE:
	case MEM_CANCEL_OFFLINE:
		srm_core->excl_nr = 0;
		err = srm_index_publish(srm_core);
		break;
	case MEM_ONLINE:
		err = srm_index_publish(srm_core);
		break;
	default:
		break;
	}
	mutex_unlock(&srm_build_lock);
	if (err)
		pr_warn("index rebuild after memory event %lu failed: %d\n", action, err);
	/* Refusing to offline is the safe answer when the index is stale. */
	return action == MEM_GOING_OFFLINE && err ? notifier_from_errno(err) : NOTIFY_OK;
}

static struct notifier_block srm_memory_nb = {
	.notifier_call = srm_memory_event,
};

int srm_hotplug_init(void)
{
	return register_memory_notifier(&srm_memory_nb);
}

void srm_hotplug_exit(void)
{
	unregister_memory_notifier(&srm_memory_nb);
}
