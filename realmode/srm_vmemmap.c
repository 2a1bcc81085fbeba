// SPDX-License-Identifier: GPL-2.0
/*
 * Building the vmemmap index (virtual mode, at load and on memory
 * hotplug). Two sources, both physical-only:
 *  - the powerpc vmemmap_backing list (hash, and radix before ~v6.6);
 *  - where the list is empty (radix on newer kernels), a walk of the
 *    kernel page tables from swapper_pg_dir, every level reached through
 *    the linear map.
 * Either way only the struct pages of online memory sections are indexed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include "srm_internal.h"

/* No host has this many vmemmap blocks; a longer list is corrupt. */
#define SRM_MAX_LIST	BIT(22)

static bool srm_linear(unsigned long a, size_t size)
{
	return srm_rm_addr_ok(NULL, (const void *)a, size);
}

static u64 srm_read_u64(unsigned long a)
{
	return READ_ONCE(*(const u64 *)a);
}

/* Bytes of vmemmap each list entry covers: 1 << mmu_psize_defs[psize].shift. */
static int srm_list_block_size(u64 *block)
{
	const struct srm_layout *lo = &srm_layout;
	int psize = READ_ONCE(*(const int *)lo->vmemmap_psize);
	unsigned long def = lo->psize_defs + (unsigned long)psize * lo->psize_def_size;
	unsigned int shift;

	if (psize < 0 || psize >= MMU_PAGE_COUNT || !srm_linear(def, lo->psize_def_size))
		return -EINVAL;
	shift = READ_ONCE(*(const unsigned int *)(def + lo->off_shift));
	if (shift < PAGE_SHIFT || shift > 34)
		return -EINVAL;
	*block = 1ULL << shift;
	return 0;
}

/*
 * Walk the kernel's list into @raw (NULL: just count). The kernel unlinks
 * entries on hot-remove with no lock we can take, but never frees them (it
 * keeps them for reuse), so a racing walk cannot fault; it can see a stale
 * entry, which the caller catches by walking twice.
 */
static int srm_list_walk(struct srm_index *raw, u64 block, u32 *count)
{
	const struct srm_layout *lo = &srm_layout;
	unsigned long e = srm_read_u64(lo->vmemmap_list);
	u32 n = 0;
	int err;

	while (e) {
		if (n >= SRM_MAX_LIST || !srm_linear(e, lo->backing_size))
			return -EFAULT;
		if (raw) {
			err = srm_index_add(raw, srm_read_u64(e + lo->off_virt),
					    srm_read_u64(e + lo->off_phys), block);
			if (err)
				return err;
		}
		n++;
		e = srm_read_u64(e + lo->off_list);
	}
	*count = n;
	return 0;
}

/* Kernel page-table walk of one address, from swapper_pg_dir. */
static u64 srm_pt_translate(unsigned long va, u64 *leaf)
{
	pgd_t *pgd = (pgd_t *)srm_layout.swapper_pg_dir + pgd_index(va);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pte_t *pte;

	if (pgd_none(READ_ONCE(*pgd)))
		return SRM_NO_PHYS;
	p4d = p4d_offset(pgd, va);
	if (p4d_none(READ_ONCE(*p4d)))
		return SRM_NO_PHYS;
	pud = pud_offset(p4d, va);
	if (pud_none(READ_ONCE(*pud)))
		return SRM_NO_PHYS;
	if (pud_leaf(READ_ONCE(*pud))) {
		*leaf = PUD_SIZE;
		return PFN_PHYS(pte_pfn(pud_pte(*pud))) + (va & ~PUD_MASK);
	}
	pmd = pmd_offset(pud, va);
	if (pmd_none(READ_ONCE(*pmd)))
		return SRM_NO_PHYS;
	if (pmd_leaf(READ_ONCE(*pmd))) {
		*leaf = PMD_SIZE;
		return PFN_PHYS(pte_pfn(pmd_pte(*pmd))) + (va & ~PMD_MASK);
	}
	pte = pte_offset_kernel(pmd, va);
	if (!pte_present(READ_ONCE(*pte)))
		return SRM_NO_PHYS;
	*leaf = PAGE_SIZE;
	return PFN_PHYS(pte_pfn(*pte)) + (va & ~PAGE_MASK);
}

/**
 * srm_pt_virt_to_phys() - page-table translation of a kernel address.
 * @va: a kernel virtual address (vmemmap on radix)
 *
 * Virtual mode only (no locking against page-table teardown). Used to
 * build the index where the list is empty, and by the self-test as a
 * second, independent translation.
 *
 * Return: the physical address, or SRM_NO_PHYS.
 */
u64 srm_pt_virt_to_phys(unsigned long va)
{
	u64 leaf;

	return srm_pt_translate(va, &leaf);
}

static bool srm_section_wanted(struct srm_core *core, unsigned long nr)
{
	unsigned long pfn = section_nr_to_pfn(nr);

	if (nr >= NR_MEM_SECTIONS || !online_section(__nr_to_section(nr)))
		return false;
	return !(core->excl_nr && pfn + PAGES_PER_SECTION > core->excl_start &&
		 pfn < core->excl_start + core->excl_nr);
}

/* Add the parts of one raw extent that back struct pages of wanted sections. */
static int srm_add_online(struct srm_core *core, struct srm_index *idx,
			  const struct srm_extent *e)
{
	u64 psz = core->page_struct_size, base = core->vmemmap_base;
	u64 sec_bytes = PAGES_PER_SECTION * psz;
	u64 v = e->virt, end = e->virt + e->len;
	int err;

	if (v < base)
		return 0;
	while (v < end) {
		unsigned long nr = (v - base) / sec_bytes;
		u64 sec_end = base + (nr + 1) * sec_bytes, run;

		run = min(end, sec_end) - v;
		if (srm_section_wanted(core, nr)) {
			struct srm_extent *last = idx->nr ? &idx->ext[idx->nr - 1] : NULL;

			/*
			 * Pieces of one raw extent are contiguous: extend. Two
			 * list entries are never joined, so a struct across
			 * two blocks still fails the lookup.
			 */
			if (last && last->virt >= e->virt && last->virt + last->len == v) {
				last->len += run;
			} else {
				err = srm_index_add(idx, v, e->phys + (v - e->virt), run);
				if (err)
					return err;
			}
		}
		v += run;
	}
	return 0;
}

/* One past the last pfn of any online node (hot-added memory included). */
unsigned long srm_end_pfn(void)
{
	unsigned long end = 0;
	int nid;

	for_each_online_node(nid)
		end = max(end, pgdat_end_pfn(NODE_DATA(nid)));
	return end;
}

/* Raw extents from the page tables: one per leaf mapping, merged. */
static int srm_pt_collect(struct srm_core *core, struct srm_index *raw,
			  const struct srm_index *unused)
{
	unsigned long nr, end_nr = pfn_to_section_nr(srm_end_pfn() + PAGES_PER_SECTION - 1);
	u64 psz = core->page_struct_size;
	int err;

	for (nr = 0; nr < end_nr; nr++) {
		u64 v, end;

		if (!online_section_nr(nr))
			continue;
		v = core->vmemmap_base + section_nr_to_pfn(nr) * psz;
		end = v + PAGES_PER_SECTION * psz;
		while (v < end) {
			struct srm_extent *last = raw->nr ? &raw->ext[raw->nr - 1] : NULL;
			u64 leaf = PAGE_SIZE, phys = srm_pt_translate(v, &leaf), run;

			run = min(end, ALIGN(v + 1, leaf)) - v;
			if (phys == SRM_NO_PHYS) {
				v += run;
				continue;
			}
			if (last && last->virt + last->len == v &&
			    last->phys + last->len == phys) {
				last->len += run;
			} else {
				err = srm_index_add(raw, v, phys, run);
				if (err)
					return err;
			}
			v += run;
		}
	}
	return 0;
}

static struct srm_index *srm_index_new(u32 cap)
{
	struct srm_index *idx;

	/* Physically contiguous and in the linear map: never vmalloc. */
	idx = alloc_pages_exact(srm_index_bytes(cap), GFP_KERNEL | __GFP_ZERO |
				__GFP_NOWARN);
	if (idx)
		idx->cap = cap;
	return idx;
}

void srm_index_free(struct srm_index *idx)
{
	if (idx)
		free_pages_exact(idx, srm_index_bytes(idx->cap));
}

static bool srm_same(const struct srm_index *a, const struct srm_index *b)
{
	return a->nr == b->nr && !memcmp(a->ext, b->ext, a->nr * sizeof(a->ext[0]));
}

/* Raw extents from the list, walked until two walks agree. */
static int srm_list_collect(struct srm_core *core, struct srm_index **rawp)
{
	struct srm_index *raw = NULL, *again = NULL;
	u32 count = 0;
	int tries, err;

	err = srm_list_block_size(&core->block_size);
	if (err)
		return err;
	for (tries = 0; tries < 8; tries++) {
		err = srm_list_walk(NULL, 0, &count);
		if (err)
			return err;
		srm_index_free(raw);
		srm_index_free(again);
		raw = srm_index_new(count + 16);
		again = srm_index_new(count + 16);
		if (!raw || !again) {
			err = -ENOMEM;
			break;
		}
		if (srm_list_walk(raw, core->block_size, &count) ||
		    srm_list_walk(again, core->block_size, &count))
			continue;
		if (srm_index_finish(raw) || srm_index_finish(again) || !srm_same(raw, again))
			continue;
		core->list_entries = raw->nr;
		srm_index_free(again);
		*rawp = raw;
		return 0;
	}
	srm_index_free(raw);
	srm_index_free(again);
	return err ?: -EAGAIN;
}

/* Fills @dst (from @src, where the filler has one); -ENOSPC asks for room. */
typedef int (*srm_fill_fn)(struct srm_core *core, struct srm_index *dst,
			   const struct srm_index *src);

/* The pieces of @src's extents that back online sections. */
static int srm_online_collect(struct srm_core *core, struct srm_index *dst,
			      const struct srm_index *src)
{
	u32 i;
	int err = 0;

	for (i = 0; i < src->nr && !err; i++)
		err = srm_add_online(core, dst, &src->ext[i]);
	return err;
}

/*
 * A finished index made by @fill, starting with room for @cap extents and
 * doubling it while the filler runs out.
 */
static int srm_index_fill(struct srm_core *core, u32 cap, srm_fill_fn fill,
			  const struct srm_index *src, struct srm_index **out)
{
	struct srm_index *idx;
	int err;

	for (;;) {
		idx = srm_index_new(cap);
		if (!idx)
			return -ENOMEM;
		err = fill(core, idx, src);
		if (!err)
			err = srm_index_finish(idx);
		if (!err) {
			*out = idx;
			return 0;
		}
		srm_index_free(idx);
		if (err != -ENOSPC || cap > U32_MAX / 2)
			return err;
		cap *= 2;
	}
}

/**
 * srm_vmemmap_build() - build a fresh index of online memory.
 * @core: the core (method, block size, exclusion are read and updated)
 * @out: the new index, finished
 *
 * Virtual mode, with srm_build_lock held.
 *
 * Return: 0 or a negative errno.
 */
int srm_vmemmap_build(struct srm_core *core, struct srm_index **out)
{
	struct srm_index *raw = NULL;
	int err = -ENOENT;

	if (srm_layout.has_vmemmap_list) {
		err = srm_list_collect(core, &raw);
		if (!err && !raw->nr) {
			srm_index_free(raw);
			raw = NULL;
			err = -ENOENT;
		}
	}
	if (!err) {
		core->method = SRM_METHOD_VMEMMAP_LIST;
	} else if (radix_enabled()) {
		/* Each online section's vmemmap, at worst one extent per page. */
		err = srm_index_fill(core, 4096, srm_pt_collect, NULL, &raw);
		if (err)
			return err;
		core->method = SRM_METHOD_PAGE_TABLE;
		core->block_size = 0;
		core->list_entries = 0;
	} else {
		return err;
	}

	/* Online filtering can split an extent; size the result for it. */
	err = srm_index_fill(core, raw->nr * 2 + 64, srm_online_collect, raw, out);
	srm_index_free(raw);
	return err;
}
