// SPDX-License-Identifier: GPL-2.0
/*
 * v1: how many live TCEs of a container hold each pinned page, by pfn.
 *
 * A map counts every TCE on its page and an unmap takes the count off,
 * so the lookup is on the path of every 4K TCE. An open-addressed table
 * with linear probing finds a pfn in one multiply and, at most half
 * full, a probe or two; a tree walk costs several hundred instructions
 * a TCE (Documentation/vfio_spapr.rst, "Mapping"). A count that drops
 * to zero leaves at once (backward-shift deletion, no tombstones), so
 * taking a count off never allocates and never sleeps: an unmap does it
 * under the TCE lock. Only adding a page may grow the table.
 *
 * The container's lock serialises every call.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include "vs_internal.h"

struct vs_pcount_slot {
	unsigned long key;	/* pfn + 1; 0: empty */
	unsigned long n;	/* TCEs holding the page */
};

static unsigned long vs_pcount_home(const struct vs_pcount *t,
				    unsigned long key)
{
	return hash_long(key, t->bits);
}

static unsigned long vs_pcount_mask(const struct vs_pcount *t)
{
	return (1UL << t->bits) - 1;
}

/* The slot of @key, or the empty slot where it would go. */
static struct vs_pcount_slot *vs_pcount_find(const struct vs_pcount *t,
					     unsigned long key)
{
	unsigned long i = vs_pcount_home(t, key), mask = vs_pcount_mask(t);

	while (t->slot[i].key && t->slot[i].key != key)
		i = (i + 1) & mask;
	return &t->slot[i];
}

/* Move every entry into a new table of 2^@bits slots. Sleeps. */
static int vs_pcount_resize(struct vs_pcount *t, unsigned int bits)
{
	struct vs_pcount old = *t;
	unsigned long i;

	t->slot = kvcalloc(1UL << bits, sizeof(*t->slot), GFP_KERNEL_ACCOUNT);
	if (!t->slot) {
		*t = old;
		return -ENOMEM;
	}
	t->bits = bits;
	for (i = 0; old.slot && i <= vs_pcount_mask(&old); i++)
		if (old.slot[i].key)
			*vs_pcount_find(t, old.slot[i].key) = old.slot[i];
	kvfree(old.slot);
	return 0;
}

/**
 * vs_pcount_add() - @k more TCEs hold @pfn, if some already do.
 * @t: the container's counts (its lock held)
 * @pfn: the page
 * @k: how many TCEs
 *
 * Never sleeps.
 *
 * Return: false when no TCE holds @pfn (nothing changed).
 */
bool vs_pcount_add(struct vs_pcount *t, unsigned long pfn, unsigned long k)
{
	struct vs_pcount_slot *s;

	if (!t->slot)
		return false;
	s = vs_pcount_find(t, pfn + 1);
	if (!s->key)
		return false;
	s->n += k;
	return true;
}

/**
 * vs_pcount_insert() - @k TCEs hold @pfn, which none held before.
 * @t: the container's counts (its lock held)
 * @pfn: the page, not in @t
 * @k: how many TCEs, at least one
 *
 * Grows the table to keep it at most half full. Sleeps.
 *
 * Return: 0, or -ENOMEM with @t unchanged.
 */
int vs_pcount_insert(struct vs_pcount *t, unsigned long pfn, unsigned long k)
{
	struct vs_pcount_slot *s;
	int ret;

	if (!t->slot || 2 * (t->used + 1) > 1UL << t->bits) {
		ret = vs_pcount_resize(t, t->slot ? t->bits + 1 :
				       VS_PCOUNT_MIN_BITS);
		if (ret)
			return ret;
	}
	s = vs_pcount_find(t, pfn + 1);
	if (WARN_ON_ONCE(s->key))
		return -EEXIST;
	s->key = pfn + 1;
	s->n = k;
	t->used++;
	return 0;
}

/* Empty slot @i, pulling back the entries of its probe run behind it. */
static void vs_pcount_delete(struct vs_pcount *t, unsigned long i)
{
	unsigned long mask = vs_pcount_mask(t), j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (!t->slot[j].key)
			break;
		home = vs_pcount_home(t, t->slot[j].key);
		/* Stays when its home lies cyclically in (i, j]. */
		if (((j - home) & mask) < ((j - i) & mask))
			continue;
		t->slot[i] = t->slot[j];
		i = j;
	}
	t->slot[i].key = 0;
	t->slot[i].n = 0;
	t->used--;
}

/**
 * vs_pcount_sub() - @k TCEs fewer hold @pfn.
 * @t: the container's counts (its lock held, or its TCE lock under it)
 * @pfn: the page
 * @k: how many TCEs
 *
 * Never sleeps, never allocates.
 *
 * Return: true when no TCE holds @pfn any more.
 */
bool vs_pcount_sub(struct vs_pcount *t, unsigned long pfn, unsigned long k)
{
	struct vs_pcount_slot *s;

	if (WARN_ON_ONCE(!t->slot))
		return false;
	s = vs_pcount_find(t, pfn + 1);
	if (WARN_ON_ONCE(!s->key || s->n < k))
		return false;
	s->n -= k;
	if (s->n)
		return false;
	vs_pcount_delete(t, s - t->slot);
	return true;
}

/**
 * vs_pcount_shrink() - give back most of a table that emptied.
 * @t: the container's counts (its lock held)
 *
 * A map of 64 MiB in 4K pages grows the table to 32768 slots; once an
 * eighth full or less it is halved until a quarter full. An empty one
 * goes down to the smallest size and stays, till the container goes
 * (vs_pcount_free()): freed, it would be allocated and zeroed again by
 * the next map, and QEMU maps and unmaps one page at a time, a 1 KiB
 * allocation and free for every pair. A failed allocation keeps the
 * table as it is. Sleeps.
 */
void vs_pcount_shrink(struct vs_pcount *t)
{
	unsigned int bits;

	if (!t->slot)
		return;
	if (t->bits <= VS_PCOUNT_MIN_BITS || 8 * t->used > 1UL << t->bits)
		return;
	bits = max_t(unsigned int, VS_PCOUNT_MIN_BITS,
		     order_base_2(4 * t->used));
	vs_pcount_resize(t, bits);
}

/**
 * vs_pcount_free() - free the table; what it counted is forgotten.
 * @t: the container's counts
 */
void vs_pcount_free(struct vs_pcount *t)
{
	kvfree(t->slot);
	t->slot = NULL;
	t->bits = 0;
	t->used = 0;
}

/**
 * vs_pcount_read() - how many TCEs hold @pfn.
 * @t: the counts (their container's lock held)
 * @pfn: the page
 *
 * Return: the count, 0 when @pfn is not counted.
 */
unsigned long vs_pcount_read(const struct vs_pcount *t, unsigned long pfn)
{
	return t->slot ? vs_pcount_find(t, pfn + 1)->n : 0;
}
