/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VFIO sPAPR container with QEMU's edu device, and its window linked
 * to a KVM TCE table through the KVM-VFIO device, as QEMU sets it up:
 * shared by the test VMM (kvm_tce_vmm) and the hcall fuzzer
 * (kvm_tce_fuzz). Errors go to say() (lab_tap.h).
 */
#ifndef LAB_VFIO_KVM_H
#define LAB_VFIO_KVM_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "edu.h"
#include "lab_proc.h"
#include "lab_tap.h"

struct vfio_kvm {
	int container, group, device, groupno;
	volatile uint8_t *bar;
	size_t bar_size;
	uint64_t win_start, win_size;
	uint64_t reg_size;	/* registered from the RAM's start */
	int kvmdev;
};

static inline void vk_init(struct vfio_kvm *f)
{
	memset(f, 0, sizeof(*f));
	f->container = -1;
	f->group = -1;
	f->device = -1;
	f->kvmdev = -1;
}

static inline long vk_map(struct vfio_kvm *f, uint64_t iova, void *va,
			  uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	return xioctl(f->container, VFIO_IOMMU_MAP_DMA, &m);
}

static inline long vk_unmap(struct vfio_kvm *f, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	return xioctl(f->container, VFIO_IOMMU_UNMAP_DMA, &u);
}

/*
 * Container of type v1 or v2 on group @groupno, device @dev open, its
 * BAR0 mapped, bus mastering on, edu answering; @info filled.
 */
static inline int vk_open(struct vfio_kvm *f, int groupno, const char *dev,
			  bool v1, struct vfio_iommu_spapr_tce_info *info)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char path[64];
	uint16_t cmd;

	vk_init(f);
	f->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "/dev/vfio/%d", groupno);
	f->group = open(path, O_RDWR | O_CLOEXEC);
	if (f->container < 0 || f->group < 0) {
		say("open container/group %s: %s", path, strerror(errno));
		return -1;
	}
	f->groupno = groupno;
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	if (ioctl(f->group, VFIO_GROUP_SET_CONTAINER, &f->container) ||
	    ioctl(f->container, VFIO_SET_IOMMU, v1 ?
		  VFIO_SPAPR_TCE_IOMMU : VFIO_SPAPR_TCE_v2_IOMMU) ||
	    ioctl(f->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, info)) {
		say("container setup (%s): %s", v1 ? "v1" : "v2", strerror(errno));
		return -1;
	}
	f->device = ioctl(f->group, VFIO_GROUP_GET_DEVICE_FD, dev);
	if (f->device < 0) {
		say("GET_DEVICE_FD(%s): %s", dev, strerror(errno));
		return -1;
	}
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(f->device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		say("BAR0 info: %s", strerror(errno));
		return -1;
	}
	f->bar_size = ri.size;
	f->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->device, ri.offset);
	if (f->bar == MAP_FAILED) {
		say("mmap BAR0: %s", strerror(errno));
		f->bar = NULL;
		return -1;
	}
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(f->device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    pread(f->device, &cmd, 2, ri.offset + 4) != 2) {
		say("config space: %s", strerror(errno));
		return -1;
	}
	cmd |= 0x6;	/* memory space, bus master */
	if (pwrite(f->device, &cmd, 2, ri.offset + 4) != 2 ||
	    *(volatile uint32_t *)f->bar != EDU_IDENT_RAW) {
		say("edu does not answer (ident %#x)", *(volatile uint32_t *)f->bar);
		return -1;
	}
	return 0;
}

/*
 * v2, as QEMU does it: @reg_size bytes of @ram preregistered, the
 * default window removed, a window of 4K TCEs, @win_size bytes and
 * @levels levels made in its place, which must lie below edu's 28-bit
 * DMA mask.
 */
static inline int vk_v2_window(struct vfio_kvm *f,
			       const struct vfio_iommu_spapr_tce_info *info,
			       void *ram, uint64_t reg_size, uint64_t win_size,
			       uint32_t levels)
{
	struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm) };
	struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof(cr) };
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	long r;

	f->reg_size = reg_size;
	reg.vaddr = (uintptr_t)ram;
	reg.size = reg_size;
	r = xioctl(f->container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg);
	if (r) {
		say("REGISTER_MEMORY: %s", strerror(-r));
		return -1;
	}
	rm.start_addr = info->dma32_window_start;
	r = xioctl(f->container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
	if (r)
		diag("REMOVE of the default window at %#x: %s",
		     info->dma32_window_start, strerror(-r));
	cr.page_shift = 12;
	cr.window_size = win_size;
	cr.levels = levels;
	r = xioctl(f->container, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr);
	if (r) {
		say("CREATE 4K x %llu MiB window: %s",
		    (unsigned long long)win_size >> 20, strerror(-r));
		return -1;
	}
	f->win_start = cr.start_addr;
	f->win_size = win_size;
	if (f->win_start + f->win_size > EDU_DMA_LIMIT) {
		say("window at %#llx: beyond the edu 28-bit DMA mask",
		    (unsigned long long)f->win_start);
		return -1;
	}
	return 0;
}

/*
 * The KVM table @tablefd of VM @vmfd serves the container's window:
 * a KVM-VFIO device, the group added, KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE.
 */
static inline int vk_kvm_link(struct vfio_kvm *f, int vmfd, int tablefd)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	struct kvm_device_attr a = { .group = KVM_DEV_VFIO_GROUP };
	struct kvm_vfio_spapr_tce st;
	long r;

	r = xioctl(vmfd, KVM_CREATE_DEVICE, &cd);
	if (r) {
		say("KVM_CREATE_DEVICE(VFIO): %s", strerror(-r));
		return -1;
	}
	f->kvmdev = cd.fd;
	a.attr = KVM_DEV_VFIO_GROUP_ADD;
	a.addr = (uintptr_t)&f->group;
	r = xioctl(cd.fd, KVM_SET_DEVICE_ATTR, &a);
	if (r) {
		say("KVM_DEV_VFIO_GROUP_ADD: %s", strerror(-r));
		return -1;
	}
	st.groupfd = f->group;
	st.tablefd = tablefd;
	a.attr = KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE;
	a.addr = (uintptr_t)&st;
	r = xioctl(cd.fd, KVM_SET_DEVICE_ATTR, &a);
	if (r) {
		say("KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE: %s", strerror(-r));
		return -1;
	}
	return 0;
}

static inline void vk_close(struct vfio_kvm *f)
{
	if (f->kvmdev >= 0)
		close(f->kvmdev);
	if (f->bar)
		munmap((void *)f->bar, f->bar_size);
	if (f->device >= 0)
		close(f->device);
	if (f->group >= 0) {
		ioctl(f->group, VFIO_GROUP_UNSET_CONTAINER);
		close(f->group);
	}
	if (f->container >= 0)
		close(f->container);
	vk_init(f);
}

#endif
