// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory, reached the way real mode would reach it.
 *
 * A guest physical address becomes a user address of the VMM through
 * KVM's memory slots (the caller holds kvm->srcu). The H_PUT_TCE_INDIRECT
 * list is then read without get_user(), which may sleep: the VMM's page
 * table is walked with interrupts off (page tables are freed only after
 * that), the page is pinned through the realmode core's struct page
 * lookup (get_page_unless_zero semantics), the entry is checked again as
 * GUP-fast does, and the list is copied through the linear map. The
 * reference is dropped the real-mode way unless it is the last (the VMM
 * unmapped the list meanwhile), which goes through the allocator.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <asm/pte-walk.h>
#include <spapr_tce/realmode.h>
#include "kt_internal.h"

/**
 * kt_gpa_to_ua() - the VMM's address of guest physical address @gpa.
 * @kvm: the VM (kvm->srcu held)
 * @gpa: guest physical address
 * @ua: the user address
 *
 * Return: 0, or -EINVAL when @gpa is in no memory slot.
 */
int kt_gpa_to_ua(struct kvm *kvm, unsigned long gpa, unsigned long *ua)
{
	gfn_t gfn = gpa >> PAGE_SHIFT;
	struct kvm_memory_slot *slot;

	slot = __gfn_to_memslot(kvm_memslots(kvm), gfn);
	if (!slot)
		return -EINVAL;
	*ua = __gfn_to_hva_memslot(slot, gfn) | (gpa & ~PAGE_MASK);
	return 0;
}

/**
 * kt_read_guest_list() - copy @n u64 from the VMM's address @ua.
 * @kvm: the VM
 * @ua: the list (4K aligned, so it never crosses a page)
 * @dst: where to copy it, as it is (big endian)
 * @n: entries, at most 512
 *
 * Return: 0, or -EFAULT when the page is not mapped readable or its
 * struct page cannot be had without sleeping.
 */
int kt_read_guest_list(struct kvm *kvm, unsigned long ua, u64 *dst,
		       unsigned long n)
{
	struct srm_core *core = srm_core_get();
	struct srm_page_ref ref = { };
	unsigned long flags, pfn;
	unsigned int shift = 0;
	pte_t *ptep, pte;
	int ret = -EFAULT;

	local_irq_save(flags);
	ptep = __find_linux_pte(kvm->mm->pgd, ua, NULL, &shift);
	if (!ptep)
		goto out;
	pte = ptep_get(ptep);
	if (!pte_present(pte) || !pte_read(pte))
		goto out;
	if (!shift)
		shift = PAGE_SHIFT;
	pfn = pte_pfn(pte) + ((ua & ((1UL << shift) - 1)) >> PAGE_SHIFT);
	if (!srm_get_page_unless_zero(core, pfn, &ref))
		goto out;
	/* Unmapped or moved since we looked: the page may not be the list. */
	if (pte_val(ptep_get(ptep)) == pte_val(pte)) {
		memcpy(dst, __va(PFN_PHYS(pfn)) + (ua & ~PAGE_MASK),
		       n * sizeof(u64));
		ret = 0;
	}
out:
	local_irq_restore(flags);
	/*
	 * Ours is the last reference only if the VMM unmapped the list
	 * meanwhile. We run in virtual mode: drop it here, through the
	 * struct page the allocator knows (never the linear-map alias).
	 */
	if (!srm_put_page(core, &ref))
		srm_put_page_virt(&ref);
	return ret;
}
