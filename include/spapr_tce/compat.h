/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel versions we build for is answered
 * here, and nowhere else in the logic.
 */
#ifndef SPAPR_TCE_COMPAT_H
#define SPAPR_TCE_COMPAT_H

#include <linux/version.h>

/* v6.9 split the vmcoreinfo interface out of crash_core.h. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#include <linux/vmcore_info.h>
#else
#include <linux/crash_core.h>
#endif

#endif
