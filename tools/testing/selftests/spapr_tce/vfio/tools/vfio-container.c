// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-container GROUP BDF: a selftest helper, not a test. Opens VFIO
 * group GROUP the way a VMM does with the in-tree sPAPR TCE container
 * driver: container, SET_CONTAINER (the kernel claims the group's DMA
 * ownership here), SET_IOMMU with the v2 sPAPR type where the PE allows
 * it (powernv) or else v1 (pseries: no table group ops), GET_INFO, ENABLE
 * (v1 only), the device's fd. Prints one "# step: result" line per step; exits 0 when
 * every step worked, else 1 after the first failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

static int step(const char *what, int ret)
{
	if (ret < 0) {
		printf("# %s: %s\n", what, strerror(errno));
		exit(1);
	}
	printf("# %s: ok (%d)\n", what, ret);
	return ret;
}

int main(int argc, char **argv)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	char path[64];
	int container, group, device, v2;

	if (argc != 3) {
		fprintf(stderr, "usage: %s GROUP BDF\n", argv[0]);
		return 2;
	}
	container = step("open /dev/vfio/vfio", open("/dev/vfio/vfio", O_RDWR));
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		printf("# VFIO_GET_API_VERSION: unexpected\n");
		return 1;
	}
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU) != 1) {
		printf("# VFIO_CHECK_EXTENSION(SPAPR_TCE): absent (load vfio_iommu_spapr_tce)\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	group = step("open group", open(path, O_RDWR));
	step("VFIO_GROUP_GET_STATUS", ioctl(group, VFIO_GROUP_GET_STATUS, &status));
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		printf("# group not viable\n");
		return 1;
	}
	step("VFIO_GROUP_SET_CONTAINER",
	     ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	/* v2 needs the table group ops (powernv), v1 refuses them. */
	v2 = ioctl(container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU) == 0;
	if (v2)
		step("VFIO_SET_IOMMU(SPAPR_TCE_v2)", 0);
	else
		step("VFIO_SET_IOMMU(SPAPR_TCE)",
		     ioctl(container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));
	step("VFIO_IOMMU_SPAPR_TCE_GET_INFO",
	     ioctl(container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	printf("# 32-bit window: start 0x%x size 0x%x\n",
	       info.dma32_window_start, info.dma32_window_size);
	if (!v2)
		step("VFIO_IOMMU_ENABLE", ioctl(container, VFIO_IOMMU_ENABLE));
	device = step("VFIO_GROUP_GET_DEVICE_FD",
		      ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]));
	close(device);
	close(group);
	close(container);
	return 0;
}
