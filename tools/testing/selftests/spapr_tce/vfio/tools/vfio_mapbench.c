// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_mapbench --group N --type v1|v2 [--pairs N] [--pages N]
 *
 * MAP_DMA + UNMAP_DMA pairs per second on a sPAPR TCE container, for
 * whichever driver serves it (the in-tree one or ours): the same loop,
 * the same buffer and IOVA, so two runs in one boot compare the drivers.
 * Prints one line: "type=v2 pages=1 pairs=N ns_per_pair=X pairs_per_s=Y".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

static int die(const char *what)
{
	fprintf(stderr, "vfio_mapbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	long group = -1, pairs = 20000, pages = 1, type = 2, i;
	long pgsz = sysconf(_SC_PAGESIZE);
	int container, grp;
	uint64_t t0, ns;
	char path[64];
	void *buf;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--group"))
			group = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--type"))
			type = !strcmp(argv[i + 1], "v1") ? 1 : 2;
		else if (!strcmp(argv[i], "--pairs"))
			pairs = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--pages"))
			pages = atol(argv[i + 1]);
	}
	if (group < 0 || pairs <= 0 || pages <= 0) {
		fprintf(stderr,
			"usage: vfio_mapbench --group N [--type v1|v2] [--pairs N] [--pages N]\n");
		return 2;
	}
	container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%ld", group);
	grp = open(path, O_RDWR);
	if (container < 0 || grp < 0)
		die("open");
	if (ioctl(grp, VFIO_GROUP_SET_CONTAINER, &container))
		die("GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU,
		  type == 1 ? VFIO_SPAPR_TCE_IOMMU : VFIO_SPAPR_TCE_v2_IOMMU))
		die("SET_IOMMU");
	if (ioctl(container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info))
		die("GET_INFO");
	buf = mmap(NULL, pages * pgsz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	if (type == 1) {
		if (ioctl(container, VFIO_IOMMU_ENABLE))
			die("ENABLE");
	} else {
		reg.vaddr = (uintptr_t)buf;
		reg.size = pages * pgsz;
		if (ioctl(container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg))
			die("REGISTER_MEMORY");
	}
	map.vaddr = (uintptr_t)buf;
	map.size = pages * pgsz;
	unmap.size = map.size;
	map.iova = info.dma32_window_start + 16 * pgsz;
	unmap.iova = map.iova;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	/* One pair outside the timing: it creates a lazy default window. */
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ||
	    ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		die("first MAP/UNMAP");
	t0 = now_ns();
	for (i = 0; i < pairs; i++) {
		if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
			die("MAP_DMA");
		if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
			die("UNMAP_DMA");
	}
	ns = now_ns() - t0;
	printf("type=v%ld pages=%ld page_size=%ld pairs=%ld ns_per_pair=%llu pairs_per_s=%llu\n",
	       type, pages, pgsz, pairs, (unsigned long long)(ns / pairs),
	       (unsigned long long)(pairs * 1000000000ULL / (ns ? ns : 1)));
	return 0;
}
