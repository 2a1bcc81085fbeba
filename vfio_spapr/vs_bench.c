// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup benchmark (debugfs "bench"): the cost of finding the registered
 * region of a user address among 1, 100 and 10,000 regions, ours (the
 * maple tree, vs_region_lookup) against the kernel's mm_iommu registry
 * (mm_iommu_lookup, a list walk), side by side in one run.
 *
 * The in-tree regions are registered as device memory (mm_iommu_newdev),
 * which records a range without pinning anything, in the reading
 * process's mm, and removed before the read returns; ours go into a
 * private tree. Both cover the same one-page ranges, one page apart,
 * high in the address space where nothing is mapped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/maple_tree.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <asm/mmu_context.h>
#include "vs_internal.h"

#define VS_BENCH_BASE	0x7f0000000000ULL
#define VS_BENCH_DEVPA	BIT_ULL(50)

static u64 vs_bench_ua(u64 i)
{
	return VS_BENCH_BASE + 2 * i * PAGE_SIZE;
}

/* The same pseudo-random region sequence for both sides. */
static u64 vs_bench_next(u64 *seed, u64 n)
{
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (*seed >> 33) % n;
}

static s64 vs_bench_intree(struct mm_struct *mm, u64 n, u64 loops, u64 *found)
{
	struct mm_iommu_table_group_mem_t **mem;
	u64 i, made, seed = 1;
	s64 ns = -ENOMEM;
	ktime_t t0;

	mem = kvcalloc(n, sizeof(*mem), GFP_KERNEL);
	if (!mem)
		return ns;
	for (made = 0; made < n; made++) {
		if (mm_iommu_newdev(mm, vs_bench_ua(made), 1,
				    VS_BENCH_DEVPA + made * PAGE_SIZE, &mem[made]))
			break;
		cond_resched();
	}
	if (made == n) {
		*found = 0;
		t0 = ktime_get();
		for (i = 0; i < loops; i++)
			*found += !!mm_iommu_lookup(mm,
				vs_bench_ua(vs_bench_next(&seed, n)), PAGE_SIZE);
		ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	}
	for (i = 0; i < made; i++)
		mm_iommu_put(mm, mem[i]);
	kvfree(mem);
	return ns;
}

static s64 vs_bench_ours(u64 n, u64 loops, u64 *found)
{
	struct vs_mm vmm = { };
	struct vs_region *r;
	u64 i, seed = 1;
	s64 ns = -ENOMEM;
	ktime_t t0;

	r = kvcalloc(n, sizeof(*r), GFP_KERNEL);
	if (!r)
		return ns;
	mt_init(&vmm.regions);
	mutex_init(&vmm.lock);
	mutex_lock(&vmm.lock);
	for (i = 0; i < n; i++) {
		r[i].ua = vs_bench_ua(i);
		r[i].size = PAGE_SIZE;
		if (vs_regions_add(&vmm, &r[i])) {
			mutex_unlock(&vmm.lock);
			goto out;
		}
	}
	mutex_unlock(&vmm.lock);
	*found = 0;
	t0 = ktime_get();
	rcu_read_lock();
	for (i = 0; i < loops; i++)
		*found += !!vs_region_lookup(&vmm,
					     vs_bench_ua(vs_bench_next(&seed, n)),
					     PAGE_SIZE);
	rcu_read_unlock();
	ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
out:
	mtree_destroy(&vmm.regions);
	kvfree(r);
	return ns;
}

static int vs_bench_show(struct seq_file *m, void *v)
{
	static const u64 sizes[] = { 1, 100, 10000 };
	int i;

	if (!current->mm)
		return -ESRCH;
	seq_puts(m, "# regions lookups intree_ns_per_lookup ours_ns_per_lookup intree/ours\n");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		u64 n = sizes[i], loops = clamp_t(u64, 2000000 / n, 2000, 100000);
		u64 found_in = 0, found_ours = 0;
		s64 t_in, t_ours;

		t_in = vs_bench_intree(current->mm, n, loops, &found_in);
		t_ours = vs_bench_ours(n, loops, &found_ours);
		if (t_in < 0 || t_ours < 0)
			return t_in < 0 ? t_in : t_ours;
		if (found_in != loops || found_ours != loops) {
			seq_printf(m, "# lookups missed: intree %llu ours %llu of %llu\n",
				   found_in, found_ours, loops);
			return 0;
		}
		seq_printf(m, "%llu %llu %llu %llu %llu.%02llu\n", n, loops,
			   div64_u64(t_in, loops), div64_u64(t_ours, loops),
			   div64_u64(t_in, max_t(s64, t_ours, 1)),
			   div64_u64(100 * (u64)t_in, max_t(s64, t_ours, 1)) % 100);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vs_bench);

/**
 * vs_bench_create() - add the benchmark file to the debugfs directory.
 * @dir: /sys/kernel/debug/vfio_spapr
 */
void vs_bench_create(struct dentry *dir)
{
	debugfs_create_file("bench", 0400, dir, NULL, &vs_bench_fops);
}
