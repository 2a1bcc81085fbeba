/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/types.h>: just the kernel's fixed-width names. */
#ifndef HOST_SHIM_LINUX_TYPES_H
#define HOST_SHIM_LINUX_TYPES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;
#endif
