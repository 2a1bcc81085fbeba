/* SPDX-License-Identifier: GPL-2.0 */
/* glibc's <errno.h> itself includes <linux/errno.h>: take the numbers directly. */
#include <asm-generic/errno.h>
