/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The function tracer, for the lab's C tests that prove an order of
 * kernel calls: an unpin never between a TCE's exchange out of the table
 * and the invalidation that makes the PHB forget it.
 */
#ifndef LAB_TRACE_H
#define LAB_TRACE_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TRACEFS "/sys/kernel/tracing/"

/* @val into tracefs's @file; a filter file takes one word per write() */
static inline int tracefs_write(const char *file, const char *val)
{
	size_t len = strlen(val), done = 0;
	char path[128];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	while (done < len && (n = write(fd, val + done, len - done)) > 0)
		done += n;
	close(fd);
	if (done < len && !n)
		errno = EIO;
	return done == len ? 0 : -1;
}

/* The per-CPU buffer's size in kB (the size it will have once used), or -1 */
static inline long tracefs_kb(void)
{
	long kb = -1, expanded;
	FILE *f = fopen(TRACEFS "buffer_size_kb", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld (expanded: %ld)", &kb, &expanded) == 2)
		kb = expanded;
	fclose(f);
	return kb;
}

/*
 * The function tracer off and unfiltered, and tracing_on as it was (the
 * tests after one of ours read trace events from the same buffer).
 */
static inline void tracer_off(void)
{
	tracefs_write("tracing_on", "0");
	tracefs_write("current_tracer", "nop");
	tracefs_write("set_ftrace_filter", "");
	tracefs_write("set_ftrace_pid", "");
	tracefs_write("trace", "");
	tracefs_write("tracing_on", "1");
}

#define TCE_ORDER_TRACED \
	"iommu_tce_xchg_no_kill iommu_tce_kill unpin_user_page unpin_user_pages"

/*
 * The function tracer on TCE_ORDER_TRACED for the threads @pids (one or
 * more, space-separated), from an empty buffer; -1 with errno set.
 */
static inline int tce_order_start(const char *pids)
{
	return tracefs_write("set_ftrace_filter", TCE_ORDER_TRACED) ||
	       tracefs_write("set_ftrace_pid", pids) ||
	       tracefs_write("trace", "") ||
	       tracefs_write("current_tracer", "function") ||
	       tracefs_write("tracing_on", "1") ? -1 : 0;
}

/* Exchanges, invalidations and unpins the tracer saw, in its order. */
struct tce_order {
	long xchg, kills, unpins;
	long early;	/* unpins while an exchanged TCE awaited its kill */
	bool lost;	/* the buffer dropped events: the order is not known */
};

/*
 * Reads the trace buffer into @o. The buffer merges the CPUs' events by
 * time, so a second thread's unpin falls where it happened.
 */
static inline int tce_order_read(struct tce_order *o)
{
	unsigned long in, written;
	char line[512];
	bool pending = false;
	FILE *f = fopen(TRACEFS "trace", "r");

	memset(o, 0, sizeof(*o));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#') {
			if (sscanf(line, "# entries-in-buffer/entries-written: %lu/%lu",
				   &in, &written) == 2 && in != written)
				o->lost = true;
			continue;
		}
		if (strstr(line, ": iommu_tce_xchg_no_kill")) {
			o->xchg++;
			pending = true;
		} else if (strstr(line, ": iommu_tce_kill")) {
			o->kills++;
			pending = false;
		} else if (strstr(line, ": unpin_user_page")) {
			o->unpins++;
			o->early += pending;
		}
	}
	fclose(f);
	return 0;
}

#endif
