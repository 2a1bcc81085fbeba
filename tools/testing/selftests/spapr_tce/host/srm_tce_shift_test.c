// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the TCE page-size decision for pinned user memory
 * (include/spapr_tce/srm_tce_shift.h), the rule vs_pin() and v1's map
 * apply to every page: only hugetlb pages count as large, and never
 * beyond the bits in which user and physical address agree.
 */
#include <linux/types.h>
#include <spapr_tce/srm_tce_shift.h>
#include "tap.h"

#define K4	12
#define K64	16
#define M2	21
#define M16	24

/*
 * What vs_pin() records for a region of @n base pages from @ua whose
 * page i sits at @hpa + i * page (one physical run), all hugetlb or not.
 */
static unsigned int region_shift(u64 ua, u64 hpa, u64 n, unsigned int ps,
				 bool hugetlb, unsigned int huge)
{
	unsigned int s = __builtin_ctzll(ua | (n << ps)), i;

	for (i = 0; i < n; i++) {
		unsigned int t = srm_tce_shift_limit(ua + ((u64)i << ps),
						     hpa + ((u64)i << ps), ps,
						     hugetlb, huge);
		if (t < s)
			s = t;
	}
	return s;
}

int main(void)
{
	const u64 U = 0x7fff00000000ull;	/* 2M (and 16M) aligned */
	const u64 P = 0x40000000ull;		/* a 2M-aligned THP/hugetlb */

	tap_plan(10);
	tap_check(srm_tce_shift_limit(U, P, K4, false, M2) == K4,
		  "aligned_thp_counts_as_base_page_4k");
	tap_check(srm_tce_shift_limit(U, P + 0x1000, K4, false, M2) == K4,
		  "thp_mremapped_one_page_off_counts_as_base_page");
	tap_check(srm_tce_shift_limit(U + 0x3000, P + 0x3000, K4, true, M2) == M2,
		  "hugetlb_2m_inside_page_backs_2m");
	tap_check(srm_tce_shift_limit(U, P, K64, true, M16) == M16,
		  "hugetlb_16m_on_64k_pages_backs_16m");
	tap_check(srm_tce_shift_limit(U + 0x10000, P, K4, true, M2) == K64,
		  "hugetlb_misaligned_physically_limited_to_agreeing_bits");
	tap_check(srm_tce_shift_limit(U, P + 0x10000, K64, false, M2) == K64,
		  "base_page_64k_backs_64k_and_4k");
	tap_check(srm_tce_shift_limit(U + 0x1000, P, K64, false, 0) == K4,
		  "unaligned_input_answered_below_page_size");
	/*
	 * The reported case: two THPs mremap'd to U - 4K, region (U, 1M):
	 * the old rule (compound order of any page) gave 2^20 and let a
	 * 64K TCE point 4K past a 64K boundary; now 4K TCEs only.
	 */
	tap_check(region_shift(U, P + 0x1000, 256, K4, false, M2) == K4,
		  "region_on_misaligned_thp_takes_no_64k_tce");
	tap_check(region_shift(U, P, 512, K4, true, M2) == M2,
		  "region_on_one_2m_hugetlb_page_takes_2m_tces");
	/* 64K of hugetlb region where the last page's backing is off */
	tap_check(region_shift(U, P, 16, K4, true, M2) == K64 &&
		  srm_tce_shift_limit(U + 0xf000, P + 0x1f000, K4, true, M2) == K64,
		  "region_shift_bounded_by_range_and_each_page");
	return tap_exit_status();
}
