// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup benchmark (debugfs "bench"; make bench): ns per lookup, the
 * seed's linear walk against the index, on synthetic lists of 1 to
 * 100,000 entries and on this machine's own index. Both run here, in one
 * pass, so their ratio holds on a noisy host.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "srm_internal.h"

#define SRM_BENCH_QUERIES	512
/* Keep each measurement to about this many extent visits. */
#define SRM_BENCH_BUDGET	(4UL << 20)

static u64 srm_bench_sink;

static void srm_bench_one(struct seq_file *m, const char *what,
			  const struct srm_index *idx, const u64 *q, u32 nq)
{
	u64 t0, t_lin, t_idx, sum = 0;
	u32 i, reps, r, lin_n, idx_n;

	/* Linear cost grows with the list: fewer repetitions for long ones. */
	reps = max_t(u32, 1, SRM_BENCH_BUDGET / ((u64)nq * max_t(u32, idx->nr, 1)));
	t0 = ktime_get_ns();
	for (r = 0; r < reps; r++)
		for (i = 0; i < nq; i++)
			sum += srm_linear_translate(idx->ext, idx->nr, q[i], 64);
	t_lin = ktime_get_ns() - t0;
	lin_n = reps * nq;

	reps = max_t(u32, 1, SRM_BENCH_BUDGET / nq / 32);
	t0 = ktime_get_ns();
	for (r = 0; r < reps; r++)
		for (i = 0; i < nq; i++)
			sum += srm_index_translate(idx, q[i], 64);
	t_idx = ktime_get_ns() - t0;
	idx_n = reps * nq;
	srm_bench_sink += sum;

	seq_printf(m, "%-10s %8u %12llu %12llu %10llu.%01llu\n", what, idx->nr,
		   t_lin / lin_n, t_idx / idx_n,
		   (t_lin * idx_n) / max_t(u64, t_idx * lin_n, 1),
		   ((t_lin * idx_n * 10) / max_t(u64, t_idx * lin_n, 1)) % 10);
	cond_resched();
}

int srm_bench_run(struct seq_file *m, void *unused)
{
	static const u32 sizes[] = { 1, 10, 100, 1000, 10000, 100000 };
	const u64 block = 16ULL << 20, base = 0xc00c000000000000ULL;
	struct srm_index *idx;
	const struct srm_index *live;
	u64 *q = kmalloc_array(SRM_BENCH_QUERIES, sizeof(*q), GFP_KERNEL);
	u32 s, i, n;

	if (!q)
		return -ENOMEM;
	seq_puts(m, "# list       entries    linear_ns     index_ns      ratio\n");
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		n = sizes[s];
		/* Benchmark data only: the real index never lives in vmalloc. */
		idx = vzalloc(srm_index_bytes(n));
		if (!idx)
			break;
		idx->cap = n;
		/* Entries pushed in reverse, as the kernel's list is built. */
		for (i = 0; i < n; i++)
			srm_index_add(idx, base + (u64)(n - 1 - i) * block,
				      0x10000000ULL + (u64)i * block, block);
		for (i = 0; i < SRM_BENCH_QUERIES; i++)
			q[i] = base + (get_random_u32() % n) * block +
				(get_random_u32() % (block / 64)) * 64;
		/* The linear walk runs on the list order; the index sorts. */
		srm_bench_one(m, "synthetic", idx, q, SRM_BENCH_QUERIES);
		vfree(idx);
	}

	mutex_lock(&srm_build_lock);
	live = rcu_dereference_protected(srm_core->index, lockdep_is_held(&srm_build_lock));
	if (live && live->nr) {
		for (i = 0; i < SRM_BENCH_QUERIES; i++) {
			const struct srm_extent *e = &live->ext[get_random_u32() % live->nr];

			q[i] = e->virt + (get_random_u64() % (e->len / 64)) * 64;
		}
		srm_bench_one(m, "machine", live, q, SRM_BENCH_QUERIES);
	}
	mutex_unlock(&srm_build_lock);
	kfree(q);
	return 0;
}
