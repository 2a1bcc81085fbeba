/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for the kernel's sort(): qsort, no swap callback. */
#ifndef HOST_SHIM_LINUX_SORT_H
#define HOST_SHIM_LINUX_SORT_H
#include <stdlib.h>
static inline void sort(void *base, size_t num, size_t size,
			int (*cmp)(const void *, const void *), void *swap)
{
	(void)swap;
	qsort(base, num, size, cmp);
}
#endif
