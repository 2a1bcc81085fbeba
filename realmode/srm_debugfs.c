// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/spapr_realmode/
 *   info      how the index is built, its size, the counters
 *   selftest  read: runs the self-test, prints TAP
 *   bench     read: runs the lookup benchmark, prints a table
 *   lookup    write a pfn, read what the real-mode lookup says of it
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include "srm_internal.h"

static struct dentry *srm_dir;
static unsigned long srm_probe_pfn;

static int srm_info_show(struct seq_file *m, void *v)
{
	struct srm_core *core = srm_core;
	const struct srm_index *idx;
	u64 covered = 0;
	u32 i, nr;

	mutex_lock(&srm_build_lock);
	idx = rcu_dereference_protected(core->index, lockdep_is_held(&srm_build_lock));
	nr = idx ? idx->nr : 0;
	for (i = 0; i < nr; i++)
		covered += idx->ext[i].len;
	seq_printf(m, "method: %s\n", srm_method_name(core->method));
	seq_printf(m, "list_entries: %u\n", core->list_entries);
	seq_printf(m, "block_size: %llu\n", core->block_size);
	seq_printf(m, "index_extents: %u\n", nr);
	seq_printf(m, "indexed_pfns: %llu\n", covered / core->page_struct_size);
	seq_printf(m, "page_struct_size: %u\n", core->page_struct_size);
	seq_printf(m, "page_size: %lu\n", PAGE_SIZE);
	seq_printf(m, "rebuilds: %llu\n", core->rebuilds);
	mutex_unlock(&srm_build_lock);
	seq_printf(m, "lookups: %lld\n", atomic64_read(&core->lookups));
	seq_printf(m, "misses: %lld\n", atomic64_read(&core->misses));
	seq_printf(m, "violations: %lld\n", atomic64_read(&core->violations));
	seq_printf(m, "last_refs: %lld\n", atomic64_read(&core->last_refs));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(srm_info);

static int srm_lookup_show(struct seq_file *m, void *v)
{
	unsigned long pfn = READ_ONCE(srm_probe_pfn);
	struct page *page;
	bool ram;

	preempt_disable();
	page = srm_pfn_to_page(srm_core, pfn);
	ram = srm_pfn_is_ram(srm_core, pfn);
	preempt_enable();
	if (page)
		seq_printf(m, "pfn 0x%lx: struct at phys 0x%llx, %s\n", pfn,
			   (u64)__pa(page), ram ? "ram" : "not ram");
	else
		seq_printf(m, "pfn 0x%lx: not found\n", pfn);
	return 0;
}

static int srm_lookup_open(struct inode *inode, struct file *file)
{
	return single_open(file, srm_lookup_show, NULL);
}

static ssize_t srm_lookup_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	unsigned long pfn;
	int err = kstrtoul_from_user(ubuf, len, 0, &pfn);

	if (err)
		return err;
	WRITE_ONCE(srm_probe_pfn, pfn);
	return len;
}

static const struct file_operations srm_lookup_fops = {
	.owner = THIS_MODULE,
	.open = srm_lookup_open,
	.read = seq_read,
	.write = srm_lookup_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * selftest and bench: the file's private data is the function that writes
 * the report. It is built once, in a buffer large enough that seq_file
 * never re-runs it.
 */
static int srm_report_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, inode->i_private, NULL, 64 << 10);
}

static const struct file_operations srm_report_fops = {
	.owner = THIS_MODULE,
	.open = srm_report_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

int srm_debugfs_init(void)
{
	srm_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("info", 0444, srm_dir, NULL, &srm_info_fops);
	debugfs_create_file("selftest", 0400, srm_dir, srm_selftest_run, &srm_report_fops);
	debugfs_create_file("bench", 0400, srm_dir, srm_bench_run, &srm_report_fops);
	debugfs_create_file("lookup", 0600, srm_dir, NULL, &srm_lookup_fops);
	return 0;
}

void srm_debugfs_exit(void)
{
	debugfs_remove_recursive(srm_dir);
}
