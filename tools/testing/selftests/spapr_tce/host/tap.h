/* SPDX-License-Identifier: GPL-2.0 */
/* TAP output for the host unit tests. */
#ifndef HOST_TAP_H
#define HOST_TAP_H
#include <stdio.h>

static int tap_n, tap_failed;

#define TAP_PLAN(n) printf("TAP version 13\n1..%d\n", (n))
#define TAP_CHECK(cond, name, ...) do {					\
	tap_n++;							\
	if (cond) {							\
		printf("ok %d " name "\n", tap_n, ##__VA_ARGS__);	\
	} else {							\
		tap_failed++;						\
		printf("not ok %d " name "\n", tap_n, ##__VA_ARGS__);	\
		printf("# %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
	}								\
} while (0)
#define TAP_EXIT() return tap_failed ? 1 : 0
#endif
