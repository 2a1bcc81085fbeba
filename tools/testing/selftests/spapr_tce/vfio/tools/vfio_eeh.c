// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_eeh: VFIO_CHECK_EXTENSION(VFIO_EEH) and VFIO_EEH_PE_OP on an sPAPR
 * TCE container, as a VMM drives them for a guest's EEH RTAS calls
 * (QEMU's hw/ppc/spapr_pci_vfio.c): enable, get state, error injection,
 * unfreeze, the three resets, configure. Whichever container driver
 * serves /dev/vfio/vfio answers: pe_ops.sh runs it against ours and the
 * in-tree one on the same group and compares.
 *
 *   vfio_eeh --group N --dev BDF --type 1|2
 *
 * Prints one "key answer" line per step, the answer being the ioctl's
 * return value or the errno name, then "done". Also "ident" lines: what
 * the device's BAR reads at each point (frozen: all ones).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "edu.h"

/* asm/eeh.h is not uAPI: the error injection arguments, as PAPR has them */
#define EEH_ERR_TYPE_32			0
#define EEH_ERR_FUNC_LD_MEM_ADDR	0

static int container = -1;

static void answer(const char *key, long r)
{
	if (r < 0 && r > -4096)
		printf("%s %s\n", key, strerrorname_np(-r));
	else
		printf("%s %ld\n", key, r);
	fflush(stdout);
}

static long pe_op(uint32_t op, uint32_t argsz, uint32_t flags)
{
	struct vfio_eeh_pe_op o = {
		.argsz = argsz, .flags = flags, .op = op,
	};

	return xioctl(container, VFIO_EEH_PE_OP, &o);
}

static void step(const char *key, uint32_t op)
{
	answer(key, pe_op(op, sizeof(struct vfio_eeh_pe_op), 0));
}

static void ident(const char *key, volatile uint8_t *bar)
{
	printf("ident_%s %#x\n", key, *(volatile uint32_t *)(bar + EDU_IDENT));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct vfio_region_info ri = {
		.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_eeh_pe_op inj = {
		.argsz = sizeof(inj), .op = VFIO_EEH_PE_INJECT_ERR,
		.err = { .type = EEH_ERR_TYPE_32,
			 .func = EEH_ERR_FUNC_LD_MEM_ADDR, .mask = 0 },
	};
	const char *dev = NULL;
	int group_nr = -1, type = 2, group, device, c;
	volatile uint8_t *bar;
	char path[64];

	while ((c = getopt_long(argc, argv, "g:d:t:", (struct option[]) {
			{ "group", 1, NULL, 'g' }, { "dev", 1, NULL, 'd' },
			{ "type", 1, NULL, 't' }, { } }, NULL)) != -1) {
		if (c == 'g')
			group_nr = atoi(optarg);
		else if (c == 'd')
			dev = optarg;
		else if (c == 't')
			type = atoi(optarg);
		else
			return 2;
	}
	if (group_nr < 0 || !dev) {
		fprintf(stderr, "usage: vfio_eeh --group N --dev BDF --type 1|2\n");
		return 2;
	}

	container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_nr);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0) {
		perror("open");
		return 1;
	}
	/* before any IOMMU driver serves the container: the core answers */
	answer("extension_eeh_bare_container",
	       xioctl(container, VFIO_CHECK_EXTENSION, (void *)VFIO_EEH));
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container)) {
		perror("GROUP_SET_CONTAINER");
		return 1;
	}
	answer("pe_op_before_set_iommu", pe_op(VFIO_EEH_PE_GET_STATE,
					       sizeof(struct vfio_eeh_pe_op), 0));
	if (ioctl(container, VFIO_SET_IOMMU, type == 1 ? VFIO_SPAPR_TCE_IOMMU :
		  VFIO_SPAPR_TCE_v2_IOMMU)) {
		perror("SET_IOMMU");
		return 1;
	}
	answer("extension_eeh", xioctl(container, VFIO_CHECK_EXTENSION,
				       (void *)VFIO_EEH));
	answer("extension_eeh_asked_for_5_plus_1",
	       xioctl(container, VFIO_CHECK_EXTENSION, (void *)(VFIO_EEH + 1)));
	/* argument checks: a short argsz, unknown flags, an unknown op */
	answer("pe_op_argsz_short", pe_op(VFIO_EEH_PE_GET_STATE, 8, 0));
	answer("pe_op_flags_unknown", pe_op(VFIO_EEH_PE_GET_STATE,
					    sizeof(struct vfio_eeh_pe_op), 1));
	step("pe_op_unknown_op", 99);
	inj.argsz = offsetof(struct vfio_eeh_pe_op, err);
	answer("inject_err_argsz_without_err", xioctl(container, VFIO_EEH_PE_OP, &inj));
	inj.argsz = sizeof(inj);

	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, dev);
	if (device < 0 || ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		perror("device");
		return 1;
	}
	bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, device, ri.offset);
	if (bar == MAP_FAILED) {
		perror("mmap BAR0");
		return 1;
	}
	{
		struct vfio_region_info ci = {
			.argsz = sizeof(ci), .index = VFIO_PCI_CONFIG_REGION_INDEX,
		};
		uint16_t cmd = 0;

		if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ci) ||
		    pread(device, &cmd, 2, ci.offset + 4) != 2)
			return 1;
		cmd |= 0x6;	/* memory space, bus master */
		if (pwrite(device, &cmd, 2, ci.offset + 4) != 2)
			return 1;
		/* the BAR's bus address, for the injection */
		if (pread(device, &inj.err.addr, 8, ci.offset + 0x10) != 8)
			return 1;
		inj.err.addr &= ~0xfull;
	}
	ident("start", bar);

	step("get_state_initial", VFIO_EEH_PE_GET_STATE);
	step("enable", VFIO_EEH_PE_ENABLE);
	step("get_state_enabled", VFIO_EEH_PE_GET_STATE);
	answer("inject_err_load_mem_addr", xioctl(container, VFIO_EEH_PE_OP, &inj));
	ident("after_inject", bar);
	step("get_state_after_inject", VFIO_EEH_PE_GET_STATE);
	step("unfreeze_io", VFIO_EEH_PE_UNFREEZE_IO);
	step("unfreeze_dma", VFIO_EEH_PE_UNFREEZE_DMA);
	step("get_state_after_unfreeze", VFIO_EEH_PE_GET_STATE);
	ident("after_unfreeze", bar);
	step("reset_hot", VFIO_EEH_PE_RESET_HOT);
	step("reset_deactivate_after_hot", VFIO_EEH_PE_RESET_DEACTIVATE);
	step("configure_after_hot", VFIO_EEH_PE_CONFIGURE);
	step("get_state_after_hot_reset", VFIO_EEH_PE_GET_STATE);
	step("reset_fundamental", VFIO_EEH_PE_RESET_FUNDAMENTAL);
	step("reset_deactivate_after_fundamental", VFIO_EEH_PE_RESET_DEACTIVATE);
	step("configure_after_fundamental", VFIO_EEH_PE_CONFIGURE);
	step("get_state_after_fundamental_reset", VFIO_EEH_PE_GET_STATE);
	step("disable", VFIO_EEH_PE_DISABLE);
	step("get_state_disabled", VFIO_EEH_PE_GET_STATE);
	step("enable_again", VFIO_EEH_PE_ENABLE);
	ident("end", bar);
	munmap((void *)bar, ri.size);
	close(device);
	/* the group leaves: the container has no PE to ask */
	if (ioctl(group, VFIO_GROUP_UNSET_CONTAINER))
		perror("GROUP_UNSET_CONTAINER");
	answer("pe_op_after_group_left", pe_op(VFIO_EEH_PE_GET_STATE,
					       sizeof(struct vfio_eeh_pe_op), 0));
	close(group);
	close(container);
	printf("done\n");
	return 0;
}
