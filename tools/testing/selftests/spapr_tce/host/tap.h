/* SPDX-License-Identifier: GPL-2.0 */
/* TAP output for the host unit tests. */
#ifndef HOST_TAP_H
#define HOST_TAP_H
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
}

/* One case: "ok N name" when @ok, "not ok N name" otherwise. */
static inline void tap_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	tap_failed += !ok;
	printf("%sok %d ", ok ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline int tap_exit_status(void)
{
	return tap_failed ? 1 : 0;
}
#endif
