// SPDX-License-Identifier: GPL-2.0
/*
 * Read the running kernel's layout from its vmcoreinfo note, the way
 * crash-dump tools do: vmemmap_list is neither exported nor in kallsyms
 * on distribution kernels, but the note names it, with the size and
 * member offsets of struct vmemmap_backing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/elf.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include "srm_internal.h"
#include <spapr_tce/compat.h>

/* "KEY=value\n" in the note's text: value parsed in @base. */
static int srm_note_value(const char *text, size_t len, const char *key,
			  unsigned int base, unsigned long *val)
{
	size_t klen = strlen(key);
	const char *p = text, *end = text + len;
	char buf[24];

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t l = nl ? nl - p : end - p;

		if (l > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			size_t vl = l - klen - 1;

			if (!vl || vl >= sizeof(buf))
				return -EINVAL;
			memcpy(buf, p + klen + 1, vl);
			buf[vl] = '\0';
			return kstrtoul(buf, base, val);
		}
		p += l + 1;
	}
	return -ENOENT;
}

/* A kernel data address we will read: it must be in the linear map. */
static bool srm_kernel_data_ok(unsigned long addr)
{
	return addr >= PAGE_OFFSET && addr < (unsigned long)high_memory;
}

/**
 * srm_vmcoreinfo_parse() - fill @lo from the vmcoreinfo note.
 * @lo: where to put what the note says
 *
 * Return: 0; -ENOENT when the note or a mandatory field is missing;
 * -EINVAL when the note contradicts this build (struct sizes, offsets) or
 * names addresses outside the linear map.
 */
int srm_vmcoreinfo_parse(struct srm_layout *lo)
{
	const struct elf_note *n;
	const char *text;
	size_t len;
	int err = 0, e;
	struct {
		const char *key;
		unsigned int base;
		unsigned long *val;
		bool optional;	/* only for the vmemmap_list method */
	} f[] = {
		{ "SYMBOL(swapper_pg_dir)", 16, &lo->swapper_pg_dir },
		{ "SIZE(page)", 10, &lo->page_size },
		{ "OFFSET(page.flags)", 10, &lo->off_flags },
		{ "OFFSET(page._refcount)", 10, &lo->off_refcount },
		{ SPAPR_VMCOREINFO_PAGE_COMPOUND, 10, &lo->off_compound_head },
		{ "NUMBER(SECTION_SIZE_BITS)", 10, &lo->section_size_bits },
		{ "SYMBOL(vmemmap_list)", 16, &lo->vmemmap_list, true },
		{ "SYMBOL(mmu_vmemmap_psize)", 16, &lo->vmemmap_psize, true },
		{ "SYMBOL(mmu_psize_defs)", 16, &lo->psize_defs, true },
		{ "SIZE(vmemmap_backing)", 10, &lo->backing_size, true },
		{ "OFFSET(vmemmap_backing.list)", 10, &lo->off_list, true },
		{ "OFFSET(vmemmap_backing.phys)", 10, &lo->off_phys, true },
		{ "OFFSET(vmemmap_backing.virt_addr)", 10, &lo->off_virt, true },
		{ "SIZE(mmu_psize_def)", 10, &lo->psize_def_size, true },
		{ "OFFSET(mmu_psize_def.shift)", 10, &lo->off_shift, true },
	};
	unsigned int i;
	bool list_ok = true;

	memset(lo, 0, sizeof(*lo));
	n = phys_to_virt(paddr_vmcoreinfo_note());
	if (!n || n->n_namesz != sizeof(VMCOREINFO_NOTE_NAME) ||
	    memcmp(n + 1, VMCOREINFO_NOTE_NAME, n->n_namesz)) {
		pr_err("no VMCOREINFO note at %pa\n", &(phys_addr_t){ paddr_vmcoreinfo_note() });
		return -ENOENT;
	}
	text = (const char *)(n + 1) + ALIGN(n->n_namesz, 4);
	len = strnlen(text, min_t(size_t, n->n_descsz, VMCOREINFO_BYTES));

	for (i = 0; i < ARRAY_SIZE(f); i++) {
		e = srm_note_value(text, len, f[i].key, f[i].base, f[i].val);
		if (!e)
			continue;
		if (f[i].optional) {
			list_ok = false;
			continue;
		}
		pr_err("vmcoreinfo: %s %s\n", f[i].key, e == -ENOENT ? "missing" : "unreadable");
		err = err ?: e;
	}
	if (err)
		return err;

	/* The note describes the running kernel; we were built for one. */
	if (lo->page_size != sizeof(struct page) ||
	    lo->off_flags != offsetof(struct page, flags) ||
	    lo->off_refcount != offsetof(struct page, _refcount) ||
	    lo->off_compound_head != offsetof(struct page, SPAPR_PAGE_COMPOUND) ||
	    lo->section_size_bits != SECTION_SIZE_BITS) {
		pr_err("vmcoreinfo: struct page (%lu bytes, refcount at %lu) does not match this build (%zu, %zu): wrong kernel headers?\n",
		       lo->page_size, lo->off_refcount, sizeof(struct page),
		       offsetof(struct page, _refcount));
		return -EINVAL;
	}
	if (spapr_compat_compound_is_mask()) {
		pr_err("vmcoreinfo: this kernel keeps a mask, not the head's address, in a tail page's compound_info (HugeTLB vmemmap optimisation): not supported\n");
		return -EOPNOTSUPP;
	}
	if (!srm_kernel_data_ok(lo->swapper_pg_dir)) {
		pr_err("vmcoreinfo: swapper_pg_dir %lx outside the linear map\n",
		       lo->swapper_pg_dir);
		return -EINVAL;
	}

	if (list_ok) {
		/* struct vmemmap_backing { list; phys; virt_addr; } */
		if (lo->backing_size < 3 * sizeof(u64) ||
		    lo->off_list > lo->backing_size - sizeof(u64) ||
		    lo->off_phys > lo->backing_size - sizeof(u64) ||
		    lo->off_virt > lo->backing_size - sizeof(u64) ||
		    (lo->off_list | lo->off_phys | lo->off_virt) % sizeof(u64) ||
		    lo->off_shift >= lo->psize_def_size ||
		    !srm_kernel_data_ok(lo->vmemmap_list) ||
		    !srm_kernel_data_ok(lo->vmemmap_psize) ||
		    !srm_kernel_data_ok(lo->psize_defs)) {
			pr_err("vmcoreinfo: inconsistent vmemmap_backing description (size %lu, offsets %lu/%lu/%lu)\n",
			       lo->backing_size, lo->off_list, lo->off_phys, lo->off_virt);
			return -EINVAL;
		}
	}
	lo->has_vmemmap_list = list_ok;
	return 0;
}
