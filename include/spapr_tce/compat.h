/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel versions we build for is answered
 * here, and nowhere else in the logic. Features are probed by the
 * top-level Kbuild (SPAPR_HAVE_* defines) from the headers we build
 * against, not guessed from version numbers.
 */
#ifndef SPAPR_TCE_COMPAT_H
#define SPAPR_TCE_COMPAT_H

/* v6.9 split the vmcoreinfo interface out of crash_core.h. */
#ifdef SPAPR_HAVE_VMCORE_INFO_H
#include <linux/vmcore_info.h>
#else
#include <linux/crash_core.h>
#endif

#endif
