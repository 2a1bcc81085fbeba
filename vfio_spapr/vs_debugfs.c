// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/vfio_spapr/
 *   stats   counters: live containers, regions, pinned and charged pages,
 *           maps, unmaps, TCEs set and cleared, windows created
 *   bench   read: region lookup cost, ours against mm_iommu (vs_bench.c)
 *   selftest  read: v1's per-page TCE counts against a model, TAP
 *           (vs_selftest.c)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "vs_internal.h"

static struct dentry *vs_dir;

static int vs_stats_show(struct seq_file *m, void *v)
{
	static const struct {
		const char *name;
		atomic64_t *val;
	} rows[] = {
		{ "containers", &vs_stats.containers },
		{ "regions", &vs_stats.regions },
		{ "pinned_pages", &vs_stats.pinned_pages },
		{ "charged_pages", &vs_stats.charged_pages },
		{ "maps", &vs_stats.maps },
		{ "unmaps", &vs_stats.unmaps },
		{ "tces_set", &vs_stats.tces_set },
		{ "tces_cleared", &vs_stats.tces_cleared },
		{ "windows_created", &vs_stats.windows_created },
		{ "eeh_ops", &vs_stats.eeh_ops },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		seq_printf(m, "%s: %lld\n", rows[i].name,
			   atomic64_read(rows[i].val));
	seq_printf(m, "page_size: %lu\n", PAGE_SIZE);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vs_stats);

/**
 * vs_debugfs_init() - create /sys/kernel/debug/vfio_spapr.
 */
void vs_debugfs_init(void)
{
	vs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, vs_dir, NULL, &vs_stats_fops);
	vs_bench_create(vs_dir);
	vs_selftest_create(vs_dir);
}

/**
 * vs_debugfs_exit() - remove it.
 */
void vs_debugfs_exit(void)
{
	debugfs_remove_recursive(vs_dir);
}
