/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO plumbing the lab's C tests share: a group by number, a device of
 * it with BAR 0 mapped and bus mastering on, the sPAPR TCE container
 * ioctls (each returning 0 or -errno), our debugfs counters, and the
 * FOLL_PIN count settling after a close.
 */
#ifndef LAB_VFIO_H
#define LAB_VFIO_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/mman.h>

#include "edu.h"
#include "lab_proc.h"
#include "lab_tap.h"

#define LV_RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define LV_STATS	"/sys/kernel/debug/vfio_spapr/stats"

/* /dev/vfio/@num, viable; -1 with the reason said */
static inline int lv_group_open(int num)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", num);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		say("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		say("group %d not viable (flags %#x)", num, gs.flags);
		close(fd);
		return -1;
	}
	return fd;
}

struct lv_dev {
	int fd;
	volatile uint8_t *bar;
	size_t bar_size;
};

static inline void lv_dev_close(struct lv_dev *d)
{
	if (d->bar)
		munmap((void *)d->bar, d->bar_size);
	if (d->fd >= 0)
		close(d->fd);
	d->bar = NULL;
	d->fd = -1;
}

/*
 * Device @bdf of @group (in a container already): BAR 0 mapped, memory
 * space and bus mastering on, and it must answer as an edu device.
 * 0, or -1 with the reason said.
 */
static inline int lv_dev_open(struct lv_dev *d, int group, const char *bdf)
{
	struct vfio_region_info ri = {
		.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_region_info ci = {
		.argsz = sizeof(ci), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t cmd;

	d->bar = NULL;
	d->fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d->fd < 0) {
		say("GET_DEVICE_FD(%s): %s", bdf, strerror(errno));
		return -1;
	}
	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ci)) {
		say("%s: REGION_INFO: %s", bdf, strerror(errno));
		goto fail;
	}
	d->bar_size = ri.size;
	d->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->fd, ri.offset);
	if (d->bar == MAP_FAILED) {
		d->bar = NULL;
		say("%s: mmap BAR0: %s", bdf, strerror(errno));
		goto fail;
	}
	if (pread(d->fd, &cmd, 2, ci.offset + 4) != 2) {
		say("%s: config read: %s", bdf, strerror(errno));
		goto fail;
	}
	cmd |= 0x6;	/* memory space, bus master */
	if (pwrite(d->fd, &cmd, 2, ci.offset + 4) != 2) {
		say("%s: config write: %s", bdf, strerror(errno));
		goto fail;
	}
	if (*(volatile uint32_t *)(d->bar + EDU_IDENT) != EDU_IDENT_RAW) {
		say("%s is not an edu device", bdf);
		goto fail;
	}
	return 0;
fail:
	lv_dev_close(d);
	return -1;
}

static inline long lv_map(int ctr, uint64_t iova, void *va, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = LV_RW,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	return xioctl(ctr, VFIO_IOMMU_MAP_DMA, &m);
}

static inline long lv_unmap(int ctr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	return xioctl(ctr, VFIO_IOMMU_UNMAP_DMA, &u);
}

static inline long lv_register(int ctr, bool reg, void *va, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)va, .size = size,
	};

	return xioctl(ctr, reg ? VFIO_IOMMU_SPAPR_REGISTER_MEMORY :
		      VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r);
}

static inline long lv_create(int ctr, uint32_t shift, uint64_t size,
			     uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create c = {
		.argsz = sizeof(c), .page_shift = shift,
		.window_size = size, .levels = 1,
	};
	long r = xioctl(ctr, VFIO_IOMMU_SPAPR_TCE_CREATE, &c);

	*start = c.start_addr;
	return r;
}

static inline long lv_remove(int ctr, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove r = {
		.argsz = sizeof(r), .start_addr = start,
	};

	return xioctl(ctr, VFIO_IOMMU_SPAPR_TCE_REMOVE, &r);
}

static inline const char *lv_err(long r)
{
	static char s[32];

	if (r <= 0 && r > -4096) {
		snprintf(s, sizeof(s), "%s", r ? strerrorname_np(-r) : "0");
		return s;
	}
	snprintf(s, sizeof(s), "returned %ld", r);
	return s;
}

/* @len bytes of page-aligned, faulted-in anonymous memory */
static inline uint8_t *lv_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, len);
	return p;
}

/* pins of the whole system, waiting up to 5 s for it to reach @want */
static inline long lv_pins_settle(long want)
{
	long p = pins_outstanding();
	int i;

	for (i = 0; i < 100 && p != want; i++) {
		usleep(50000);
		p = pins_outstanding();
	}
	return p;
}

/* One counter of vfio_spapr's debugfs stats ("name: value"), or -1 */
static inline long lv_stat(const char *name)
{
	char line[128], key[64];
	long v, found = -1;
	FILE *f = fopen(LV_STATS, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %ld", key, &v) == 2 &&
		    !strcmp(key, name)) {
			found = v;
			break;
		}
	fclose(f);
	return found;
}

#endif
