/* SPDX-License-Identifier: GPL-2.0 */
/* Private to spapr_realmode.ko. */
#ifndef SRM_INTERNAL_H
#define SRM_INTERNAL_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <spapr_tce/srm_index.h>
#include <spapr_tce/realmode.h>

/* What the running kernel's vmcoreinfo says about its memory layout. */
struct srm_layout {
	unsigned long vmemmap_list;	/* &vmemmap_list */
	unsigned long vmemmap_psize;	/* &mmu_vmemmap_psize */
	unsigned long psize_defs;	/* mmu_psize_defs[] */
	unsigned long swapper_pg_dir;
	unsigned long backing_size, off_list, off_phys, off_virt;
	unsigned long psize_def_size, off_shift;
	unsigned long page_size;	/* SIZE(page) */
	unsigned long off_refcount, off_flags, off_compound_head;
	unsigned long section_size_bits;
	bool has_vmemmap_list;
};

int srm_vmcoreinfo_parse(struct srm_layout *lo);

/* How the index was built. */
enum srm_method {
	SRM_METHOD_NONE,
	SRM_METHOD_VMEMMAP_LIST,	/* the powerpc vmemmap_backing list */
	SRM_METHOD_PAGE_TABLE,		/* walk of the kernel page tables */
};

/*
 * The root of everything the real-mode path reads. It is kmalloc'd (linear
 * map), never module data: module .data lives in vmalloc space.
 */
struct srm_core {
	struct srm_index __rcu *index;
	unsigned long vmemmap_base;	/* pfn_to_page(0), arithmetic only */
	u32 page_struct_size;
	enum srm_method method;
	u64 block_size;			/* bytes of vmemmap per list entry */
	u32 list_entries;		/* entries the last walk saw */
	u64 rebuilds;
	atomic64_t lookups, misses, violations;
	atomic64_t last_refs;		/* last references handed back */
	/* An extra pfn range to leave out while it goes offline. */
	unsigned long excl_start, excl_nr;
};

extern struct srm_core *srm_core;
extern struct srm_layout srm_layout;
extern struct mutex srm_build_lock;

const char *srm_method_name(enum srm_method m);
int srm_vmemmap_build(struct srm_core *core, struct srm_index **out);
void srm_index_free(struct srm_index *idx);
u64 srm_pt_virt_to_phys(unsigned long va);
unsigned long srm_end_pfn(void);
int srm_index_publish(struct srm_core *core);

int srm_hotplug_init(void);
void srm_hotplug_exit(void);
int srm_debugfs_init(void);
void srm_debugfs_exit(void);
int srm_selftest_run(struct seq_file *m, void *unused);
int srm_bench_run(struct seq_file *m, void *unused);

#endif
