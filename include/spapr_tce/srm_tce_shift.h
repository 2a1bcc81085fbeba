/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How large a TCE may be over pinned user memory: a pure function of the
 * page, kept apart so that the host unit tests run it as it is.
 *
 * A TCE of 2^s bytes hands the device the physical range [hpa, hpa + 2^s).
 * The platform wants hpa aligned to 2^s (powernv's TCE builder BUG()s on
 * one that is not; the pseries hypervisor drops the low bits, so the
 * device reaches the wrong memory) and the range physically contiguous.
 * Only a hugetlb page promises both: one naturally aligned physical block,
 * mapped at user addresses aligned to its size. A transparent huge page or
 * any other large folio does not: mremap() moves it to any page-aligned
 * user address, so a user range aligned to 2^s can sit on a physical range
 * that is not, and such memory backs TCEs of one base page at most.
 */
#ifndef SPAPR_TCE_SRM_TCE_SHIFT_H
#define SPAPR_TCE_SRM_TCE_SHIFT_H

#include <linux/types.h>

/**
 * srm_tce_shift_limit() - the largest TCE page one base page can back.
 * @ua: user address of the base page (aligned to it)
 * @hpa: host physical address of the base page
 * @page_shift: log2 of the base page size (PAGE_SHIFT)
 * @hugetlb: the page belongs to a hugetlb page
 * @huge_shift: log2 of that hugetlb page's size (ignored otherwise)
 *
 * Return: log2 of the largest TCE page size whose TCE holding @ua would
 * be physically contiguous and aligned: the hugetlb page's size at most,
 * the base page's otherwise, and never more than the bits in which @ua
 * and @hpa agree. Below @page_shift only when @ua or @hpa is not aligned
 * to the base page (a caller's mistake, answered conservatively).
 */
static inline unsigned int srm_tce_shift_limit(u64 ua, u64 hpa,
					       unsigned int page_shift,
					       bool hugetlb,
					       unsigned int huge_shift)
{
	unsigned int s = page_shift;
	u64 diff = ua ^ hpa;

	if (hugetlb && huge_shift > s)
		s = huge_shift;
	/* a TCE of 2^s at ua lands on hpa's 2^s block only if they agree */
	if (diff && (unsigned int)__builtin_ctzll(diff) < s)
		s = __builtin_ctzll(diff);
	return s;
}

#endif
