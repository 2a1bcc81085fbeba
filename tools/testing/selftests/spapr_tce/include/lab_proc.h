/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the lab's C tests read back from the kernel to prove nothing
 * leaked (locked memory, FOLL_PIN pins, debugfs counters), and two small
 * wrappers they all use.
 */
#ifndef LAB_PROC_H
#define LAB_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

/* VmLck of this process in kB, or -1 */
static inline long vmlck_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* pages pinned (FOLL_PIN) system-wide and not yet released, or -1 */
static inline long pins_outstanding(void)
{
	char name[64];
	long v, acq = -1, rel = -1;
	FILE *f;
	int fd;

	/* vmstat counters are per-cpu batched: fold them first */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			acq = -2;
		close(fd);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acq = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			rel = v;
	}
	fclose(f);
	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "name value" or "name: value" lines (debugfs): the value of @name, or -1 */
static inline long stat_value(const char *path, const char *name)
{
	char line[256], n[128];
	long v, r = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127[^: ]%*[: ]%ld", n, &v) == 2 &&
		    !strcmp(n, name)) {
			r = v;
			break;
		}
	}
	fclose(f);
	return r;
}

/* ioctl() returning -errno on failure */
static inline long xioctl(int fd, unsigned long req, void *arg)
{
	long r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

#endif
