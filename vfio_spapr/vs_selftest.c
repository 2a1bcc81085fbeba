// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel self-test (debugfs "selftest"): v1's per-page TCE counts
 * (vs_pcount.c) against a plain array, through random adds and removals
 * dense enough that probe runs collide and wrap, so that every deletion
 * has entries to pull back. Prints TAP, one line per case.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "vs_internal.h"

/* pfns drawn from [base, base + VS_ST_RANGE): a few thousand live. */
#define VS_ST_RANGE	4096
#define VS_ST_OPS	200000

struct vs_st {
	struct seq_file *m;
	int n;
	u64 rnd;
};

static void vs_st_tap(struct vs_st *st, bool ok, const char *name)
{
	seq_printf(st->m, "%sok %d %s\n", ok ? "" : "not ", ++st->n, name);
}

/* xorshift64: the same sequence every run, so a failure reproduces. */
static u32 vs_st_rand(struct vs_st *st)
{
	st->rnd ^= st->rnd << 13;
	st->rnd ^= st->rnd >> 7;
	st->rnd ^= st->rnd << 17;
	return st->rnd >> 32;
}

/* Every pfn of the range reads as the model says, and no other is counted. */
static bool vs_st_agrees(const struct vs_pcount *t, const unsigned long *model,
			 unsigned long base)
{
	unsigned long i, live = 0;

	for (i = 0; i < VS_ST_RANGE; i++) {
		if (vs_pcount_read(t, base + i) != model[i])
			return false;
		live += !!model[i];
	}
	return t->used == live;
}

/*
 * Random adds and removals in a pfn range whose base has the low bits
 * clear (as a huge page's), checked against @model after every 1000.
 */
static void vs_st_random(struct vs_st *st, struct vs_pcount *t,
			 unsigned long *model, unsigned long base)
{
	bool ok = true, lasts = true, grew = false;
	unsigned long i, pfn, k;
	unsigned int peak = 0;

	for (i = 0; i < VS_ST_OPS && ok; i++) {
		pfn = vs_st_rand(st) % VS_ST_RANGE;
		k = 1 + vs_st_rand(st) % 16;
		/* Lean to adds in the first half, to removals in the second. */
		if (vs_st_rand(st) % 4 < (i < VS_ST_OPS / 2 ? 3 : 1)) {
			if (vs_pcount_add(t, base + pfn, k))
				ok = model[pfn];
			else
				ok = !model[pfn] &&
				     !vs_pcount_insert(t, base + pfn, k);
			model[pfn] += k;
		} else if (model[pfn]) {
			k = min(k, model[pfn]);
			model[pfn] -= k;
			lasts &= vs_pcount_sub(t, base + pfn, k) == !model[pfn];
		}
		peak = max(peak, t->bits);
		if (!(i % 1000))
			ok &= vs_st_agrees(t, model, base);
	}
	ok &= vs_st_agrees(t, model, base);
	grew = peak > VS_PCOUNT_MIN_BITS;
	vs_st_tap(st, ok, "v1_page_counts_match_a_model_through_random_adds_and_removals");
	vs_st_tap(st, lasts, "v1_page_count_reports_the_last_tce_of_a_page");
	vs_st_tap(st, grew, "v1_page_counts_grow_past_their_first_64_slots");
}

/*
 * Everything taken off: the table shrinks on the way, down to its
 * smallest size, which it keeps.
 */
static void vs_st_drain(struct vs_st *st, struct vs_pcount *t,
			unsigned long *model, unsigned long base)
{
	unsigned int peak = t->bits, low = t->bits;
	bool ok = true;
	unsigned long i;

	for (i = 0; i < VS_ST_RANGE && ok; i++) {
		if (!model[i])
			continue;
		ok = vs_pcount_sub(t, base + i, model[i]);
		model[i] = 0;
		vs_pcount_shrink(t);
		if (t->slot)
			low = min(low, t->bits);
		if (!(i % 256))
			ok &= vs_st_agrees(t, model, base);
	}
	vs_st_tap(st, ok && !t->used && t->slot &&
		  t->bits == VS_PCOUNT_MIN_BITS,
		  "v1_page_counts_empty_at_their_smallest_once_every_tce_goes");
	vs_st_tap(st, peak > low, "v1_page_counts_shrink_as_pages_go");
}

/*
 * A v1 map and unmap of one page, over and over (QEMU's pattern): the
 * emptied table stays, so no pair allocates or frees it.
 */
static void vs_st_one_page(struct vs_st *st, struct vs_pcount *t,
			   unsigned long base)
{
	const struct vs_pcount_slot *kept = t->slot;
	bool ok = kept;
	int i;

	for (i = 0; i < 3 && ok; i++) {
		ok = !vs_pcount_insert(t, base + i, 1) &&
		     vs_pcount_sub(t, base + i, 1);
		vs_pcount_shrink(t);
		ok &= t->slot == kept && !t->used;
	}
	vs_st_tap(st, ok, "v1_page_counts_keep_their_table_through_one_page_maps_and_unmaps");
}

static int vs_selftest_show(struct seq_file *m, void *v)
{
	struct vs_st st = { .m = m, .rnd = 0x9e3779b97f4a7c15ULL };
	struct vs_pcount t = { };
	unsigned long *model;
	/* low bits clear, as the pfns of huge pages; above 32 bits */
	unsigned long base = 0x123400000UL;

	model = kvcalloc(VS_ST_RANGE, sizeof(*model), GFP_KERNEL);
	if (!model)
		return -ENOMEM;
	vs_st_random(&st, &t, model, base);
	vs_st_drain(&st, &t, model, base);
	vs_st_one_page(&st, &t, base);
	vs_pcount_free(&t);
	kvfree(model);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vs_selftest);

/**
 * vs_selftest_create() - the debugfs "selftest" file in @dir.
 * @dir: the module's debugfs directory
 */
void vs_selftest_create(struct dentry *dir)
{
	debugfs_create_file("selftest", 0400, dir, NULL, &vs_selftest_fops);
}
