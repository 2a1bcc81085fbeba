/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP reporting of the lab's C tests: a case records why it failed with
 * say() and the runner prints it after its "not ok" line; diag() prints
 * a TAP comment at once.
 */
#ifndef LAB_TAP_H
#define LAB_TAP_H

#include <stdarg.h>
#include <stdio.h>

static char why[1024];

static inline void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#endif
