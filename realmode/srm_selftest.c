// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel self-test (debugfs "selftest"): every online pfn of the
 * machine is looked up and checked against the kernel's own pfn_to_page()
 * (the struct's contents, and on radix its physical address through the
 * kernel's page-table walker), then refcounting and the last reference,
 * classification, the accessor check and user-memory translation. Prints
 * TAP, one line per case.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/page_ref.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "srm_internal.h"

struct srm_tap {
	struct seq_file *m;
	int n, failed;
};

static void srm_tap(struct srm_tap *t, bool ok, const char *name)
{
	t->n++;
	if (!ok)
		t->failed++;
	seq_printf(t->m, "%sok %d %s\n", ok ? "" : "not ", t->n, name);
}

/* A live struct page can change between two reads: retry a few times. */
static bool srm_same_struct(const void *a, const void *b, size_t size)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!memcmp(a, b, size))
			return true;
	return false;
}

static void srm_test_every_pfn(struct srm_tap *t, struct srm_core *core)
{
	unsigned long pfn, end = srm_end_pfn();
	unsigned long online = 0, found = 0, same = 0, pt_checked = 0, pt_same = 0;
	unsigned long offline = 0, offline_hit = 0;
	bool pt = radix_enabled(), none_beyond;

	preempt_disable();
	for (pfn = 0; pfn < end; pfn++) {
		struct page *mine = srm_pfn_to_page(core, pfn), *theirs;

		if (!online_section_nr(pfn_to_section_nr(pfn))) {
			offline++;
			offline_hit += !!mine;
			continue;
		}
		if (!pfn_to_online_page(pfn))
			continue;	/* a hole inside an online section */
		online++;
		if (!mine)
			continue;
		found++;
		theirs = pfn_to_page(pfn);
		same += srm_same_struct(mine, theirs, sizeof(struct page));
		/*
		 * Radix maps the vmemmap in the kernel page tables. On 6.6+
		 * our index is built by our own walk of them, so the check
		 * goes through the kernel's walker, vmalloc_to_pfn(), which
		 * shares no code with ours: the physical address the MMU
		 * uses for pfn_to_page(pfn) must be the one we return.
		 */
		if (pt) {
			pt_checked++;
			pt_same += PFN_PHYS(vmalloc_to_pfn(theirs)) +
				offset_in_page(theirs) == __pa(mine);
		}
		if ((pfn & 0xfff) == 0) {
			preempt_enable();
			cond_resched();
			preempt_disable();
		}
	}
	preempt_enable();
	seq_printf(t->m, "# %lu online pfns below %lu: %lu found, %lu identical structs\n",
		   online, end, found, same);
	seq_printf(t->m, "# kernel page-table walk (vmalloc_to_pfn, radix only): %lu of %lu agree\n",
		   pt_same, pt_checked);
	seq_printf(t->m, "# %lu pfns in offline sections, %lu wrongly found\n",
		   offline, offline_hit);
	srm_tap(t, online > 0 && found == online, "every_online_pfn_is_found");
	srm_tap(t, same == online, "lookup_equals_pfn_to_page_struct_contents");
	if (pt)
		srm_tap(t, pt_checked > 0 && pt_same == pt_checked,
			"lookup_phys_equals_kernel_vmalloc_to_pfn_walk");
	else
		seq_printf(t->m, "ok %d lookup_phys_equals_kernel_vmalloc_to_pfn_walk # SKIP hash MMU: vmemmap is not in the kernel page tables\n",
			   ++t->n);
	srm_tap(t, offline_hit == 0, "offline_sections_are_not_found");
	preempt_disable();
	none_beyond = !srm_pfn_to_page(core, end + PAGES_PER_SECTION) &&
		!srm_pfn_to_page(core, ~0UL);
	preempt_enable();
	srm_tap(t, none_beyond, "pfns_beyond_memory_are_not_found");
}

static void srm_test_refcount(struct srm_tap *t, struct srm_core *core)
{
	struct page *page = alloc_page(GFP_KERNEL);
	struct srm_page_ref ref;
	unsigned long pfn;
	bool ok, frozen;

	if (!page) {
		srm_tap(t, false, "refcount_get_put");
		return;
	}
	pfn = page_to_pfn(page);
	preempt_disable();
	ok = srm_get_page_unless_zero(core, pfn, &ref) && page_ref_count(page) == 2;
	ok = srm_put_page(core, &ref) && !ref.head && page_ref_count(page) == 1 && ok;
	preempt_enable();
	srm_tap(t, ok, "get_page_unless_zero_then_put_page_unless_one");

	preempt_disable();
	ok = !srm_put_page_unless_one(core, srm_pfn_to_page(core, pfn)) &&
		page_ref_count(page) == 1;
	preempt_enable();
	srm_tap(t, ok, "put_page_unless_one_never_drops_the_last_reference");

	frozen = page_ref_freeze(page, 1);
	preempt_disable();
	ok = !srm_get_page_unless_zero(core, pfn, &ref) && !ref.head;
	preempt_enable();
	if (frozen)
		page_ref_unfreeze(page, 1);
	srm_tap(t, frozen && ok && page_ref_count(page) == 1,
		"get_page_unless_zero_leaves_a_zero_count_alone");
	__free_page(page);

	page = alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
	if (!page) {
		srm_tap(t, false, "compound_reference_goes_to_head");
		return;
	}
	pfn = page_to_pfn(page);
	preempt_disable();
	ok = srm_get_page_unless_zero(core, pfn + 3, &ref) &&
		ref.head == srm_pfn_to_page(core, pfn) && ref.pfn == pfn &&
		page_ref_count(page) == 2 && atomic_read(&page[3]._refcount) == 0;
	ok = srm_put_page(core, &ref) && ok;
	preempt_enable();
	srm_tap(t, ok && page_ref_count(page) == 1, "compound_reference_goes_to_head");
	__free_pages(page, 2);
}

/*
 * The last reference. The page's owner lets go while the real-mode path
 * holds its reference (a VMM unmapping the H_PUT_TCE_INDIRECT list page
 * during the hcall): put_page_unless_one cannot drop ours, and the caller
 * must free the page in virtual mode, through the struct page the
 * allocator knows.
 */
static void srm_test_last_reference(struct srm_tap *t, struct srm_core *core)
{
	struct page *page = alloc_page(GFP_KERNEL);
	u64 last0 = atomic64_read(&core->last_refs);
	struct srm_page_ref ref;
	unsigned long pfn;
	bool kept;
	int before;

	if (!page) {
		srm_tap(t, false, "last_reference_is_freed_through_the_real_struct_page");
		return;
	}
	pfn = page_to_pfn(page);
	preempt_disable();
	kept = srm_get_page_unless_zero(core, pfn, &ref);
	preempt_enable();
	put_page(page);		/* the owner is gone: ours is the last */
	preempt_disable();
	kept = kept && !srm_put_page(core, &ref) && ref.head;
	preempt_enable();
	before = page_ref_count(page);
	seq_printf(t->m, "# last reference: pfn %lx, kept %d (count %d), handed back pfn %lx\n",
		   pfn, kept, before, ref.pfn);
	/* the allocator is given pfn_to_page() of the pfn the ref carries */
	if (kept)
		srm_put_page_virt(&ref);
	srm_tap(t, kept && before == 1 && ref.pfn == pfn && !ref.head &&
		page_ref_count(pfn_to_page(pfn)) == 0 &&
		atomic64_read(&core->last_refs) == last0 + 1,
		"last_reference_is_freed_through_the_real_struct_page");
}

static void srm_test_classify(struct srm_tap *t, struct srm_core *core)
{
	void *buf = kmalloc(64, GFP_KERNEL);
	unsigned long kernel_pfn = PHYS_PFN(__pa(srm_layout.swapper_pg_dir));
	struct pci_dev *pdev = pci_get_device(0x1234, 0x11e8, NULL);	/* QEMU edu */
	struct srm_page_ref ref;
	bool ok;

	preempt_disable();
	ok = buf && srm_pfn_is_ram(core, PHYS_PFN(__pa(buf)));
	preempt_enable();
	srm_tap(t, ok, "allocated_memory_is_ram");
	kfree(buf);

	preempt_disable();
	ok = !srm_pfn_is_ram(core, kernel_pfn) && srm_pfn_to_page(core, kernel_pfn);
	preempt_enable();
	srm_tap(t, ok, "reserved_kernel_image_is_not_ram");

	if (pdev) {
		unsigned long mmio = PHYS_PFN(pci_resource_start(pdev, 0));

		preempt_disable();
		ok = !srm_pfn_is_ram(core, mmio) &&
			!srm_get_page_unless_zero(core, mmio, &ref) && !ref.head;
		preempt_enable();
		seq_printf(t->m, "# edu BAR0 pfn %lx\n", mmio);
		srm_tap(t, ok, "device_mmio_is_not_ram_and_not_refcounted");
		pci_dev_put(pdev);
	} else {
		seq_printf(t->m, "ok %d device_mmio_is_not_ram_and_not_refcounted # SKIP no edu device\n",
			   ++t->n);
	}
}

static void srm_test_accessor(struct srm_tap *t)
{
	struct srm_core *fake = kzalloc(sizeof(*fake), GFP_KERNEL);
	struct srm_index *vidx = vzalloc(srm_index_bytes(1));
	void *kbuf = kmalloc(128, GFP_KERNEL);
	bool ok;

	if (!fake || !vidx || !kbuf) {
		srm_tap(t, false, "accessor_accepts_linear_map_only");
		goto out;
	}
	ok = srm_rm_addr_ok(fake, kbuf, 128) &&
		!srm_rm_addr_ok(fake, vidx, 16) &&
		!srm_rm_addr_ok(fake, &srm_layout, sizeof(srm_layout)) &&
		!srm_rm_addr_ok(fake, pfn_to_page(PHYS_PFN(__pa(kbuf))), 64);
	srm_tap(t, ok && atomic64_read(&fake->violations) == 3,
		"accessor_accepts_linear_map_only");

	/* A core whose index is vmalloc'd: the real-mode path must refuse it. */
	fake->page_struct_size = sizeof(struct page);
	fake->vmemmap_base = (unsigned long)vmemmap;
	vidx->cap = 1;
	srm_index_add(vidx, fake->vmemmap_base, __pa(kbuf), 128);
	rcu_assign_pointer(fake->index, vidx);
	preempt_disable();
	ok = !srm_pfn_to_page(fake, 0) && atomic64_read(&fake->violations) == 4;
	preempt_enable();
	srm_tap(t, ok, "lookup_refuses_vmalloc_index");
out:
	kfree(kbuf);
	vfree(vidx);
	kfree(fake);
}

static void srm_test_region(struct srm_tap *t, struct srm_core *core)
{
	u64 entries = 3 * (PAGE_SIZE / sizeof(u64)) + 5, i, hpa = 0;
	u64 ua = 0x7f0000000000ULL;
	struct srm_region *r = srm_region_alloc(ua, entries, GFP_KERNEL);
	bool ok = true;

	if (!r) {
		srm_tap(t, false, "region_translates_every_page");
		return;
	}
	for (i = 0; i < entries; i++)
		srm_region_set_hpa(r, i, 0x40000000ULL + i * 2 * PAGE_SIZE);
	preempt_disable();
	for (i = 0; i < entries && ok; i++)
		ok = !srm_region_ua_to_hpa(core, r, ua + i * PAGE_SIZE, PAGE_SHIFT, &hpa) &&
			hpa == 0x40000000ULL + i * 2 * PAGE_SIZE;
	preempt_enable();
	srm_tap(t, ok, "region_translates_every_page");
	ok = srm_region_ua_to_hpa(core, r, ua + entries * PAGE_SIZE, PAGE_SHIFT, &hpa) == -EFAULT &&
		srm_region_ua_to_hpa(core, r, ua - PAGE_SIZE, PAGE_SHIFT, &hpa) == -EFAULT;
	srm_tap(t, ok, "region_refuses_addresses_outside");
	srm_tap(t, srm_region_ua_to_hpa(core, r, ua, PAGE_SHIFT + 1, &hpa) == -EINVAL,
		"region_refuses_tce_page_larger_than_backing");
	srm_region_set_max_shift(r, PAGE_SHIFT + 2);
	ok = !srm_region_ua_to_hpa(core, r, ua, PAGE_SHIFT + 2, &hpa);
	/* A 4-page TCE starting two pages before the end runs past it. */
	ok = ok && srm_region_ua_to_hpa(core, r, ua + (entries - 2) * PAGE_SIZE,
					PAGE_SHIFT + 2, &hpa) == -EFAULT;
	srm_tap(t, ok, "region_large_tce_page_must_fit_inside");
	/*
	 * The platform's TCE setter BUG()s on a host address not aligned to
	 * the TCE page (powernv's pnv_tce_xchg): a user address off the TCE
	 * page's alignment, which a guest's memslot may give, is refused.
	 */
	ok = srm_region_ua_to_hpa(core, r, ua + PAGE_SIZE, PAGE_SHIFT + 2,
				  &hpa) == -EFAULT &&
		srm_region_ua_to_hpa(core, r, ua + 4 * PAGE_SIZE + 8, PAGE_SHIFT,
				     &hpa) == -EFAULT &&
		!srm_region_ua_to_hpa(core, r, ua + 4 * PAGE_SIZE, PAGE_SHIFT + 2, &hpa);
	srm_tap(t, ok, "region_refuses_user_address_off_the_tce_page");
	srm_region_free(r);
}

int srm_selftest_run(struct seq_file *m, void *unused)
{
	struct srm_tap t = { .m = m };
	struct srm_core *core = srm_core_get();
	u64 violations = atomic64_read(&core->violations);

	seq_puts(m, "TAP version 13\n1..22\n");
	seq_printf(m, "# method %s, %u list entries, block %llu bytes\n",
		   srm_method_name(core->method), core->list_entries, core->block_size);
	srm_tap(&t, core->method != SRM_METHOD_NONE, "index_built_from_physical_source");
	srm_test_every_pfn(&t, core);
	srm_test_refcount(&t, core);
	srm_test_last_reference(&t, core);
	srm_test_classify(&t, core);
	srm_test_accessor(&t);
	srm_test_region(&t, core);
	srm_tap(&t, atomic64_read(&core->violations) == violations,
		"no_accessor_violation_on_the_live_core");
	return 0;
}
