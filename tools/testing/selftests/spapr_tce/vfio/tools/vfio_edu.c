// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_edu: exercise a VFIO sPAPR TCE container (v1 or v2) with QEMU's
 * "edu" device (1234:11e8) already bound to vfio-pci, and report one
 * TAP line per case through kselftest.h.
 *
 *   vfio_edu --group N --dev DDDD:BB:DD.F --type v1|v2 [--case REGEX] [--list]
 *            [--skip REGEX:REASON]... [--intree] [--fixed]
 *
 * The cases are the table cases[] at the end of this file: each name
 * string sits next to the function that runs it (t_bad(B_...) for the
 * bad_* argument checks). A result line's name is the table's name with
 * the container type in front ("v1_"/"v2_") unless it already starts
 * with one. --list prints the result names the run would have; --case
 * REGEX runs the cases whose table name or result name matches, e.g.
 *
 *   vfio_edu --group N --dev ADDR --type v2 --case '^v2_map_same_iova_twice_replaces$'
 *
 * A last line, <type>_locked_vm_and_pins_back_to_start, follows the
 * cases.
 *
 * The container driver under test is whichever serves
 * VFIO_SPAPR_TCE_IOMMU / VFIO_SPAPR_TCE_v2_IOMMU: the in-tree
 * vfio_iommu_spapr_tce or our vfio_spapr.ko. The expectations are the
 * in-tree driver's (same uAPI, same error codes).
 *
 * Every case opens its own container, group and device and closes them
 * again, so the cases are independent and a failure leaves nothing
 * behind. DMA is proved with the device itself: edu copies between
 * guest RAM (through the IOMMU) and its own 4 KiB buffer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "edu.h"
#include "kselftest.h"
#include "lab_tap.h"

#define XFER		4000u	/* bytes moved per DMA in the tests */

/* powernv: the window that is not window 0 starts at the bypass base */
#define PNV_BYPASS_BASE	(1ull << 59)

enum { PASS, FAIL, SKIP };

struct env {
	int container, group, device;
	int type;
	volatile uint8_t *bar;
	size_t bar_size;
	struct vfio_iommu_spapr_tce_info info;
};

struct buf {
	uint8_t *p;
	size_t len;
	void *map;
	size_t maplen;
};

static int opt_group = -1;
static const char *opt_dev;
static int opt_type;
static bool opt_intree;	/* the in-tree driver: its known bugs are SKIPs */
/*
 * Our vfio_spapr where the platform has no table group ops (pseries
 * before v6.4): v2 over the group's own fixed window, no DDW.
 */
static bool opt_fixed;
static long pgsz;
static int pgshift;
static bool powernv;

#define CHECK(cond, ...) do {				\
	if (!(cond)) {					\
		say(__VA_ARGS__);			\
		rc = FAIL;				\
		goto out;				\
	}						\
} while (0)

/* ------------------------------------------------------------------ */
/*
 * CAP_IPC_LOCK and RLIMIT_MEMLOCK: account_locked_vm() bypasses the
 * limit when capable(CAP_IPC_LOCK), and we run as root, so the limit
 * cases drop the capability from the effective set (it stays permitted
 * and comes back afterwards).
 * /
 */

static int cap_ipc_lock(bool on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (on)
		d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective |= CAP_TO_MASK(CAP_IPC_LOCK);
	else
		d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	return syscall(SYS_capset, &h, d);
}

struct limit {
	struct rlimit old;
};

/* limit locked memory to what is locked now: any new charge must fail */
static int limit_memlock(struct limit *l)
{
	struct rlimit r;
	long kb = vmlck_kb();

	if (kb < 0 || getrlimit(RLIMIT_MEMLOCK, &l->old))
		return -1;
	r = l->old;
	r.rlim_cur = (rlim_t)kb * 1024;
	/* a table may already hold more than the default hard limit */
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < r.rlim_cur)
		r.rlim_max = r.rlim_cur;
	if (setrlimit(RLIMIT_MEMLOCK, &r))
		return -1;
	return cap_ipc_lock(false);
}

static void unlimit_memlock(struct limit *l)
{
	cap_ipc_lock(true);
	setrlimit(RLIMIT_MEMLOCK, &l->old);
}

/* ------------------------------------------------------------------ */
/* memory */

static int buf_alloc(struct buf *b, size_t len, size_t align, int prot,
		     bool huge)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;

	memset(b, 0, sizeof(*b));
	if (align < (size_t)pgsz)
		align = pgsz;
	len = (len + align - 1) & ~(align - 1);
	if (huge) {
		/* hugetlb pages are naturally aligned */
		flags |= MAP_HUGETLB;
		b->maplen = len;
	} else {
		b->maplen = len + align;
	}
	b->map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return -errno;
	}
	b->p = (uint8_t *)(((uintptr_t)b->map + align - 1) & ~(align - 1));
	b->len = len;
	memset(b->p, 0, len);	/* fault every page in */
	if (prot != (PROT_READ | PROT_WRITE) && mprotect(b->p, len, prot))
		return -errno;
	return 0;
}

static void buf_free(struct buf *b)
{
	if (b->map)
		munmap(b->map, b->maplen);
	memset(b, 0, sizeof(*b));
}

static bool all_bytes(const void *p, size_t n, uint8_t v)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* the edu device (edu.h) */

/* The device answers MMIO (not frozen, not gone). */
static bool edu_alive(struct env *e)
{
	uint32_t raw = *(volatile uint32_t *)(e->bar + EDU_IDENT);

	if (raw != EDU_IDENT_RAW)
		return false;
	edu_wr(e->bar, EDU_LIVE, 0x12345678);
	return edu_rd(e->bar, EDU_LIVE) == ~0x12345678u;
}

/* ------------------------------------------------------------------ */
/* VFIO plumbing */

static int enable_bus_master(struct env *e)
{
	struct vfio_region_info ri = {
		.argsz = sizeof(ri),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t cmd;

	if (ioctl(e->device, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -errno;
	if (pread(e->device, &cmd, 2, ri.offset + 4) != 2)
		return -EIO;
	cmd |= 0x6;	/* memory space, bus master */
	if (pwrite(e->device, &cmd, 2, ri.offset + 4) != 2)
		return -EIO;
	return 0;
}

static void env_close(struct env *e)
{
	if (e->bar)
		munmap((void *)e->bar, e->bar_size);
	if (e->device >= 0)
		close(e->device);
	if (e->group >= 0) {
		ioctl(e->group, VFIO_GROUP_UNSET_CONTAINER);
		close(e->group);
	}
	if (e->container >= 0)
		close(e->container);
	memset(e, 0, sizeof(*e));
	e->container = -1;
	e->group = -1;
	e->device = -1;
}

/*
 * Open container and group, put the group in the container; with
 * @type, also SET_IOMMU(type), get the device and map BAR0.
 * On error: message in why, everything closed, -errno returned.
 */
static int env_open(struct env *e, int type)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char path[64];
	int ret;

	memset(e, 0, sizeof(*e));
	e->container = -1;
	e->group = -1;
	e->device = -1;
	e->container = open("/dev/vfio/vfio", O_RDWR);
	if (e->container < 0) {
		ret = -errno;
		say("open /dev/vfio/vfio: %s", strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", opt_group);
	e->group = open(path, O_RDWR);
	if (e->group < 0) {
		ret = -errno;
		say("open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (ioctl(e->group, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = -ENODEV;
		say("group %d not viable (flags %#x)", opt_group, gs.flags);
		goto fail;
	}
	if (ioctl(e->group, VFIO_GROUP_SET_CONTAINER, &e->container)) {
		ret = -errno;
		say("GROUP_SET_CONTAINER: %s", strerror(errno));
		goto fail;
	}
	if (!type)
		return 0;
	if (ioctl(e->container, VFIO_SET_IOMMU, type)) {
		ret = -errno;
		say("SET_IOMMU(%s): %s", type == VFIO_SPAPR_TCE_IOMMU ? "v1" : "v2",
		    strerror(errno));
		goto fail;
	}
	e->type = type;
	e->info.argsz = sizeof(e->info);
	if (ioctl(e->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &e->info)) {
		ret = -errno;
		say("SPAPR_TCE_GET_INFO: %s", strerror(errno));
		goto fail;
	}
	e->device = ioctl(e->group, VFIO_GROUP_GET_DEVICE_FD, opt_dev);
	if (e->device < 0) {
		ret = -errno;
		say("GROUP_GET_DEVICE_FD(%s): %s", opt_dev, strerror(errno));
		goto fail;
	}
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(e->device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		ret = -ENODEV;
		say("BAR0 region info: %s, flags %#x", strerror(errno), ri.flags);
		goto fail;
	}
	e->bar_size = ri.size;
	e->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      e->device, ri.offset);
	if (e->bar == MAP_FAILED) {
		e->bar = NULL;
		ret = -errno;
		say("mmap BAR0: %s", strerror(errno));
		goto fail;
	}
	ret = enable_bus_master(e);
	if (ret) {
		say("enable bus master: %s", strerror(-ret));
		goto fail;
	}
	if (!edu_alive(e)) {
		ret = -ENODEV;
		say("edu ident reads %#x raw, want %#x",
		    *(volatile uint32_t *)e->bar, EDU_IDENT_RAW);
		goto fail;
	}
	return 0;
fail:
	env_close(e);
	return ret;
}

/* ioctl wrappers: return 0 or -errno (or the positive value returned) */

static long map_dma(struct env *e, uint64_t iova, void *va, uint64_t size,
		    uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	return xioctl(e->container, VFIO_IOMMU_MAP_DMA, &m);
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static long unmap_dma(struct env *e, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	return xioctl(e->container, VFIO_IOMMU_UNMAP_DMA, &u);
}

static long reg_mem(struct env *e, bool reg, void *va, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)va, .size = size,
	};

	return xioctl(e->container, reg ? VFIO_IOMMU_SPAPR_REGISTER_MEMORY :
		      VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r);
}

static long create_win(struct env *e, uint32_t shift, uint64_t size,
		       uint32_t levels, uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create c = {
		.argsz = sizeof(c), .page_shift = shift,
		.window_size = size, .levels = levels,
	};
	long r = xioctl(e->container, VFIO_IOMMU_SPAPR_TCE_CREATE, &c);

	*start = c.start_addr;
	return r;
}

static long remove_win(struct env *e, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove r = {
		.argsz = sizeof(r), .start_addr = start,
	};

	return xioctl(e->container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &r);
}

static const char *err_name(long r)
{
	static char s[32];

	switch (r) {
	case 0:
		return "0";
	case -EINVAL:
		return "EINVAL";
	case -ENOENT:
		return "ENOENT";
	case -EBUSY:
		return "EBUSY";
	case -EPERM:
		return "EPERM";
	case -ENXIO:
		return "ENXIO";
	case -EFAULT:
		return "EFAULT";
	case -ENOMEM:
		return "ENOMEM";
	case -ENOTTY:
		return "ENOTTY";
	case -ENODEV:
		return "ENODEV";
	case -ENOSPC:
		return "ENOSPC";
	}
	snprintf(s, sizeof(s), r < 0 ? "errno %ld" : "returned %ld",
		 r < 0 ? -r : r);
	return s;
}

/* ------------------------------------------------------------------ */
/* Window geometry and locked_vm formulas */

/*
 * The bus address range the tests use in the 32-bit window: 16 MiB in,
 * below the edu 28-bit limit.
 */
static int pick_iova(struct env *e, uint64_t need, uint64_t *iova)
{
	uint64_t start = e->info.dma32_window_start;
	uint64_t end = start + e->info.dma32_window_size;
	uint64_t base = start + (16u << 20);

	if (end > EDU_DMA_LIMIT)
		end = EDU_DMA_LIMIT;
	base = (base + 0xffff) & ~0xffffull;
	if (base + need > end) {
		say("no room below 256 MiB in window %#llx+%#llx",
		    (unsigned long long)start,
		    (unsigned long long)e->info.dma32_window_size);
		return -1;
	}
	*iova = base;
	return 0;
}

static int ilog2u(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

/* pnv_pci_ioda2_get_table_size(): hardware table plus userspace copy */
static uint64_t ioda2_table_size(uint32_t page_shift, uint64_t window_size,
				 uint32_t levels)
{
	unsigned int entries_shift = ilog2u(window_size) - page_shift;
	unsigned int table_shift = entries_shift + 3;
	uint64_t tce_table_size = 1ull << table_shift;
	uint64_t direct_table_size, bytes = 0;

	if (tce_table_size < 0x1000)
		tce_table_size = 0x1000;
	if (!levels || levels > 5 || (window_size & (window_size - 1)))
		return 0;
	entries_shift = (entries_shift + levels - 1) / levels;
	table_shift = entries_shift + 3;
	if (table_shift < (unsigned int)pgshift)
		table_shift = pgshift;
	direct_table_size = 1ull << table_shift;
	for (; levels; --levels) {
		bytes += (tce_table_size + direct_table_size - 1) &
			 ~(direct_table_size - 1);
		tce_table_size /= direct_table_size;
		tce_table_size <<= 3;
		if (tce_table_size < direct_table_size)
			tce_table_size = direct_table_size;
	}
	return bytes + bytes;
}

/* what the platform's get_table_size() charges, in kB of VmLck */
/*
 * Ours, v1: the record of the page each TCE of the 4K-TCE default window
 * pinned, 8 bytes a TCE, charged in whole pages with the window.
 */
static long v1_record_kb(uint64_t window_size)
{
	uint64_t bytes = (window_size >> 12) * 8;

	return (long)((bytes + pgsz - 1) / pgsz * pgsz / 1024);
}

static long table_kb(uint32_t page_shift, uint64_t window_size,
		     uint32_t levels)
{
	uint64_t bytes;

	if (powernv)
		bytes = ioda2_table_size(page_shift, window_size, levels);
	else	/* pseries: spapr_tce_get_table_size(), one level only */
		bytes = window_size >> (page_shift - 3);
	/* account_locked_vm(table_size >> PAGE_SHIFT) */
	return (long)((bytes >> pgshift) << pgshift) / 1024;
}

/* ------------------------------------------------------------------ */
/*
 * Is bus address @iova mapped (readable and writable by the device)?
 * Needs a working mapping @ok_iova of at least 2 * XFER bytes at @ok
 * (ours, bidirectional).
 *
 * What a blocked DMA looks like (found by experiment, QEMU 7.2, 6.12,
 * in-tree driver): the IOMMU model refuses the translation, the edu
 * device finishes the command as if nothing happened, nothing reaches
 * RAM, and a read fetches nothing (see the comments at the call sites
 * for details). So a write is proved blocked by RAM staying as it was,
 * and a read by the device never handing back the data.
 *
 * Loopback probe, independent of who owns the RAM behind @iova:
 *   1. load pattern X into the device (from @ok), DMA device -> @iova:
 *      if mapped, X lands wherever @iova points;
 *   2. load pattern Y into the device, DMA @iova -> device: if mapped,
 *      the device gets X back (or whatever is there now);
 *   3. DMA device -> @ok + XFER: X there means @iova is mapped both ways.
 * Returns 1 mapped, 0 not, <0 error (device stopped answering...).
 */
static int iova_mapped(struct env *e, uint64_t iova, uint64_t ok_iova,
		       uint8_t *ok, uint32_t seed)
{
	uint32_t x = 0x58000000 ^ seed, y = 0x59000000 ^ seed;
	int r;

	fill(ok, XFER, x);
	r = edu_dma(e->bar, ok_iova, XFER, false);
	if (!r)
		r = edu_dma(e->bar, iova, XFER, true);
	if (r)
		return r;
	fill(ok, XFER, y);
	r = edu_dma(e->bar, ok_iova, XFER, false);
	if (!r)
		r = edu_dma(e->bar, iova, XFER, false);
	if (!r) {
		memset(ok + XFER, 0, XFER);
		r = edu_dma(e->bar, ok_iova + XFER, XFER, true);
	}
	if (r)
		return r;
	if (filled(ok + XFER, XFER, x))
		return 1;
	if (!filled(ok + XFER, XFER, y))
		diag("probe of %#llx: the blocked read left the device buffer %s",
		     (unsigned long long)iova,
		     all_bytes(ok + XFER, XFER, 0) ? "zeroed" :
		     all_bytes(ok + XFER, XFER, 0xff) ? "all ones" : "changed");
	return 0;
}

/* RAM -> device -> RAM through two bus addresses; checks the data */
static int roundtrip(struct env *e, uint64_t src_iova, uint8_t *src,
		     uint64_t dst_iova, uint8_t *dst, uint32_t seed)
{
	int r;

	fill(src, XFER, seed);
	memset(dst, 0xee, XFER);
	r = edu_dma(e->bar, src_iova, XFER, false);
	if (r) {
		say("DMA RAM->device from %#llx: %s", (unsigned long long)src_iova,
		    strerror(-r));
		return FAIL;
	}
	r = edu_dma(e->bar, dst_iova, XFER, true);
	if (r) {
		say("DMA device->RAM to %#llx: %s", (unsigned long long)dst_iova,
		    strerror(-r));
		return FAIL;
	}
	if (!filled(dst, XFER, seed)) {
		say("data did not come back: dst[0..3] %02x %02x %02x %02x",
		    dst[0], dst[1], dst[2], dst[3]);
		return FAIL;
	}
	return PASS;
}

/* ------------------------------------------------------------------ */
/* v1 cases */

static int t_check_extension(void)
{
	struct env e;
	int rc = PASS;
	long r1, r2;

	if (env_open(&e, 0))
		return FAIL;
	r1 = ioctl(e.container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU);
	r2 = ioctl(e.container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU);
	CHECK(r1 == 1 && r2 == 1, "CHECK_EXTENSION v1 %ld v2 %ld, want 1 1",
	      r1, r2);
	r1 = ioctl(e.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
	CHECK(r1 == 0, "CHECK_EXTENSION(TYPE1) %ld, want 0", r1);
out:
	env_close(&e);
	return rc;
}

static int t_set_iommu(void)
{
	struct env e;
	int rc = PASS;
	long r;

	if (env_open(&e, 0))
		return FAIL;
	r = xioctl(e.container, VFIO_SET_IOMMU, (void *)(long)opt_type);
	CHECK(r == 0, "SET_IOMMU: %s", err_name(r));
	/* the VFIO core refuses a second driver for the container */
	r = xioctl(e.container, VFIO_SET_IOMMU, (void *)(long)opt_type);
	CHECK(r == -EINVAL, "second SET_IOMMU: %s, want EINVAL", err_name(r));
out:
	env_close(&e);
	return rc;
}

static int t_get_info(void)
{
	struct vfio_iommu_spapr_tce_info in;
	struct env e;
	int rc = PASS;
	long r;

	if (env_open(&e, opt_type))
		return FAIL;
	memset(&in, 0xa5, sizeof(in));
	in.argsz = sizeof(in);
	r = xioctl(e.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in);
	CHECK(r == 0, "GET_INFO: %s", err_name(r));
	diag("dma32 window %#x + %#x, flags %#x, ddw pgsizes %#llx windows %u levels %u",
	     in.dma32_window_start, in.dma32_window_size, in.flags,
	     (unsigned long long)in.ddw.pgsizes,
	     in.ddw.max_dynamic_windows_supported, in.ddw.levels);
	CHECK(in.dma32_window_size && !(in.dma32_window_size &
					 (in.dma32_window_size - 1)),
	      "dma32 window size %#x is not a power of two",
	      in.dma32_window_size);
	CHECK(in.dma32_window_start < EDU_DMA_LIMIT,
	      "dma32 window start %#x not reachable with a 28-bit mask",
	      in.dma32_window_start);
	if (opt_type == VFIO_SPAPR_TCE_IOMMU) {
		CHECK(in.flags == 0, "v1 flags %#x, want 0 (no DDW for v1)",
		      in.flags);
		CHECK(!in.ddw.pgsizes && !in.ddw.levels,
		      "v1 ddw info not zeroed");
	} else if (opt_fixed) {
		CHECK(in.flags == 0, "v2 over a fixed window: flags %#x, want 0",
		      in.flags);
	} else {
		CHECK(in.flags & VFIO_IOMMU_SPAPR_INFO_DDW,
		      "v2 flags %#x lack DDW", in.flags);
		CHECK(in.ddw.pgsizes & (1ull << 12),
		      "pgsizes %#llx lack 4K", (unsigned long long)in.ddw.pgsizes);
		CHECK(in.ddw.max_dynamic_windows_supported >= 1,
		      "max windows %u", in.ddw.max_dynamic_windows_supported);
		if (powernv) {
			/* IODA2: 64K/2M/1G (+4K), 2 windows, 5 levels */
			CHECK(in.ddw.pgsizes & (1ull << 16),
			      "pgsizes %#llx lack 64K",
			      (unsigned long long)in.ddw.pgsizes);
			CHECK(in.ddw.max_dynamic_windows_supported == 2 &&
			      in.ddw.levels == 5, "windows %u levels %u, want 2 5",
			      in.ddw.max_dynamic_windows_supported, in.ddw.levels);
		}
	}
	/* the short form (no ddw) is accepted and leaves ddw untouched */
	memset(&in, 0x5a, sizeof(in));
	in.argsz = offsetof(struct vfio_iommu_spapr_tce_info, ddw);
	r = xioctl(e.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in);
	CHECK(r == 0 && in.ddw.levels == 0x5a5a5a5a,
	      "GET_INFO without ddw: %s, ddw.levels %#x", err_name(r),
	      in.ddw.levels);
out:
	env_close(&e);
	return rc;
}

/*
 * v1 fixture: enabled container, a live bidirectional mapping @ok of
 * 2 * XFER at @ok_iova; @probe_iova a free bus address after it.
 */
struct fix {
	struct env e;
	struct buf ok, probe;
	uint64_t ok_iova, probe_iova;
	long base_kb, kb0;
};

static void fix_close(struct fix *f)
{
	env_close(&f->e);
	buf_free(&f->ok);
	buf_free(&f->probe);
}

static int fix_open(struct fix *f)
{
	size_t sz = 2 * pgsz > 2 * XFER ? 2 * pgsz : 2 * XFER;
	long r;

	memset(f, 0, sizeof(*f));
	f->kb0 = vmlck_kb();
	if (env_open(&f->e, opt_type))
		return -1;
	if (buf_alloc(&f->ok, sz, pgsz, PROT_READ | PROT_WRITE, false) ||
	    buf_alloc(&f->probe, sz, pgsz, PROT_READ | PROT_WRITE, false)) {
		say("buffers: %s", strerror(errno));
		goto fail;
	}
	if (pick_iova(&f->e, 4 * f->ok.len, &f->ok_iova))
		goto fail;
	f->probe_iova = f->ok_iova + 2 * f->ok.len;
	if (opt_type == VFIO_SPAPR_TCE_IOMMU) {
		r = xioctl(f->e.container, VFIO_IOMMU_ENABLE, NULL);
		if (r) {
			say("ENABLE: %s", err_name(r));
			goto fail;
		}
	} else {
		r = reg_mem(&f->e, true, f->ok.p, f->ok.len);
		if (r) {
			say("REGISTER: %s", err_name(r));
			goto fail;
		}
	}
	r = map_dma(&f->e, f->ok_iova, f->ok.p, f->ok.len, RW);
	if (r) {
		say("MAP_DMA: %s", err_name(r));
		goto fail;
	}
	f->base_kb = vmlck_kb();
	return 0;
fail:
	fix_close(f);
	return -1;
}

/*
 * the state is as fix_open() left it: same locked_vm, the mapping
 * works both ways, the probe address is not mapped
 */
static int fix_same(struct fix *f, uint32_t seed)
{
	long kb = vmlck_kb();
	int r;

	if (kb != f->base_kb) {
		say("VmLck %ld kB, was %ld kB", kb, f->base_kb);
		return FAIL;
	}
	if (roundtrip(&f->e, f->ok_iova, f->ok.p, f->ok_iova + XFER,
		      f->ok.p + XFER, seed) != PASS)
		return FAIL;
	r = iova_mapped(&f->e, f->probe_iova, f->ok_iova, f->ok.p, seed);
	if (r) {
		say("probe address %#llx: %s", (unsigned long long)f->probe_iova,
		    r > 0 ? "mapped" : strerror(-r));
		return FAIL;
	}
	return PASS;
}

/*
 * v1: enable charges the whole 32-bit window; map/DMA/unmap; blocked
 * DMA after unmap; disable gives locked_vm back
 */
/*
 * Blocked DMA, device -> RAM, once [iova, iova + b->len) is unmapped: the
 * device still holds the pattern of the last round trip; RAM is refilled
 * with 0xc3 and must stay so.
 */
static int dma_to_unmapped_blocked(struct env *e, struct buf *b, uint64_t iova)
{
	int rc = PASS;
	long r;

	memset(b->p, 0xc3, b->len);
	r = edu_dma(e->bar, iova + XFER, XFER, true);
	diag("device->RAM to the unmapped %#llx: dma %s, device %s",
	     (unsigned long long)iova + XFER, r ? strerror(-r) : "completed",
	     edu_alive(e) ? "alive" : "NOT answering");
	CHECK(all_bytes(b->p, b->len, 0xc3),
	      "DMA to the unmapped IOVA changed RAM");
out:
	return rc;
}

static int t_v1_flow(int step)
{
	struct env e;
	struct buf b = { 0 }, chk = { 0 };
	uint64_t iova;
	long kb0, kb1, want, r, deftbl = 0, mapkb = 0;
	int rc = PASS;

	kb0 = vmlck_kb();
	if (env_open(&e, VFIO_SPAPR_TCE_IOMMU))
		return FAIL;
	CHECK(!buf_alloc(&b, 2 * XFER, pgsz, PROT_READ | PROT_WRITE, false),
	      "buffer: %s", strerror(errno));
	if (pick_iova(&e, b.len, &iova)) {
		rc = FAIL;
		goto out;
	}

	r = map_dma(&e, iova, b.p, b.len, RW);
	CHECK(r == -EPERM, "MAP_DMA before ENABLE: %s, want EPERM",
	      err_name(r));
	if (step == 0)
		goto out;

	r = xioctl(e.container, VFIO_IOMMU_ENABLE, NULL);
	kb1 = vmlck_kb();
	/* in-tree charges the whole window; ours charges each mapping */
	want = opt_intree ? (long)e.info.dma32_window_size / 1024 : 0;
	diag("ENABLE: VmLck %ld -> %ld kB (window %#x)", kb0, kb1,
	     e.info.dma32_window_size);
	CHECK(r == 0, "ENABLE: %s", err_name(r));
	CHECK(kb1 - kb0 == want, "ENABLE charged %ld kB, want %ld",
	      kb1 - kb0, want);
	r = xioctl(e.container, VFIO_IOMMU_ENABLE, NULL);
	CHECK(r == -EBUSY, "second ENABLE: %s, want EBUSY", err_name(r));
	if (step == 1)
		goto disable;

	/*
	 * Where the table group has dynamic window ops (powernv IODA2),
	 * in-tree makes the default window lazily at the first MAP, for v1
	 * too, and charges its table (get_table_size(4K, dma32 size, 1));
	 * otherwise in-tree v1 charges nothing at MAP. Ours also charges
	 * its record of the page each TCE pinned (v1_record_kb()).
	 */
	r = map_dma(&e, iova, b.p, b.len, RW);
	CHECK(r == 0, "MAP_DMA %#llx+%#zx: %s", (unsigned long long)iova,
	      b.len, err_name(r));
	/* ours: the mapped bytes, rounded up to pages, are charged too */
	mapkb = opt_intree ? 0 : (long)((b.len + pgsz - 1) / pgsz * pgsz / 1024);
	deftbl = vmlck_kb() - kb1 - mapkb;
	diag("first MAP: VmLck +%ld kB (mapping %ld kB; default table %ld kB, record %ld kB)",
	     deftbl + mapkb, mapkb, table_kb(12, e.info.dma32_window_size, 1),
	     opt_intree ? 0 : v1_record_kb(e.info.dma32_window_size));
	/*
	 * Exactly the default window's table where the container makes it
	 * (dynamic windows: powernv, pseries from 6.4), nothing over a
	 * fixed window (ours on pseries 6.1); ours adds its record
	 */
	want = opt_fixed ? 0 : table_kb(12, e.info.dma32_window_size, 1);
	if (!opt_intree)
		want += v1_record_kb(e.info.dma32_window_size);
	CHECK(deftbl == want,
	      "first MAP charged %ld kB besides the mapping, want %ld (%s)",
	      deftbl, want, opt_fixed ? "fixed window: our record" :
	      "the default window's table and our record");
	if (step == 2)
		goto disable;

	rc = roundtrip(&e, iova, b.p, iova + XFER, b.p + XFER, 0x1234);
	if (rc != PASS || step == 3)
		goto disable;

	r = unmap_dma(&e, iova, b.len);
	CHECK(r == 0, "UNMAP_DMA: %s", err_name(r));
	CHECK(vmlck_kb() == kb1 + deftbl,
	      "after UNMAP VmLck %ld kB, want %ld (the mapping uncharged)",
	      vmlck_kb(), kb1 + deftbl);
	mapkb = 0;
	if (step == 4)
		goto disable;

	rc = dma_to_unmapped_blocked(&e, &b, iova);
	if (rc != PASS || step == 5)
		goto disable;

	/*
	 * Blocked DMA, RAM -> device: RAM holds a new pattern; read from the
	 * unmapped address, then write the device buffer out through a
	 * fresh mapping: the new pattern must not be there.
	 */
	fill(b.p, XFER, 0xabcd);
	r = edu_dma(e.bar, iova, XFER, false);
	CHECK(r == 0 || r == -EIO, "DMA from unmapped: %s", strerror(-r));
	CHECK(!buf_alloc(&chk, XFER, pgsz, PROT_READ | PROT_WRITE, false),
	      "buffer: %s", strerror(errno));
	r = map_dma(&e, iova + 2 * b.len, chk.p, chk.len, RW);
	CHECK(r == 0, "MAP of the check buffer: %s", err_name(r));
	memset(chk.p, 0x3c, XFER);
	r = edu_dma(e.bar, iova + 2 * b.len, XFER, true);
	CHECK(r == 0, "DMA device->RAM for the check: %s", strerror(-r));
	diag("device buffer after the blocked read: %s",
	     filled(chk.p, XFER, 0xabcd) ? "THE NEW DATA" :
	     filled(chk.p, XFER, 0x1234) ? "unchanged (old pattern)" :
	     all_bytes(chk.p, XFER, 0) ? "zeros" :
	     all_bytes(chk.p, XFER, 0xff) ? "all ones" :
	     all_bytes(chk.p, XFER, 0x3c) ? "not written out" : "other");
	CHECK(!filled(chk.p, XFER, 0xabcd),
	      "DMA from the unmapped IOVA fetched RAM");
	unmap_dma(&e, iova + 2 * b.len, chk.len);
disable:
	if (step >= 1) {
		long r2 = xioctl(e.container, VFIO_IOMMU_DISABLE, NULL);

		/*
		 * the default window's table stays until the container
		 * goes
		 */
		kb1 = vmlck_kb();
		if (rc == PASS && (r2 || kb1 != kb0 + deftbl + mapkb)) {
			say("DISABLE: %s, VmLck %ld kB, want %ld", err_name(r2),
			    kb1, kb0 + deftbl + mapkb);
			rc = FAIL;
		}
		if (rc == PASS && step == 7) {
			r2 = map_dma(&e, iova, b.p, b.len, RW);
			if (r2 != -EPERM) {
				say("MAP after DISABLE: %s, want EPERM",
				    err_name(r2));
				rc = FAIL;
			}
		}
	}
out:
	env_close(&e);
	if (rc == PASS && step >= 1 && vmlck_kb() != kb0) {
		say("VmLck %ld kB after close, was %ld", vmlck_kb(), kb0);
		rc = FAIL;
	}
	buf_free(&b);
	buf_free(&chk);
	return rc;
}

static int t_v1_map_before_enable(void) { return t_v1_flow(0); }
static int t_v1_enable(void) { return t_v1_flow(1); }
static int t_v1_map(void) { return t_v1_flow(2); }
static int t_v1_dma(void) { return t_v1_flow(3); }
static int t_v1_unmap(void) { return t_v1_flow(4); }
static int t_v1_blocked_write(void) { return t_v1_flow(5); }
static int t_v1_blocked_read(void) { return t_v1_flow(6); }
static int t_v1_disable(void) { return t_v1_flow(7); }

/* ours, v1: MAP over RLIMIT_MEMLOCK fails ENOMEM, pins and charges nothing */
static int v1_map_memlock(struct env *e, long kb0)
{
	struct buf b = { 0 };
	struct limit l;
	uint64_t iova;
	long r, pins0;
	int rc = PASS;

	CHECK(!buf_alloc(&b, 64 * pgsz, pgsz, PROT_READ | PROT_WRITE, false),
	      "buffer: %s", strerror(errno));
	CHECK(!pick_iova(e, b.len, &iova), "no IOVA");
	r = xioctl(e->container, VFIO_IOMMU_ENABLE, NULL);
	CHECK(r == 0, "ENABLE: %s", err_name(r));
	/* a first small map makes the default window: not under test */
	r = map_dma(e, iova, b.p, pgsz, RW);
	CHECK(r == 0, "MAP of one page: %s", err_name(r));
	kb0 = vmlck_kb();
	pins0 = pins_outstanding();
	CHECK(!limit_memlock(&l), "setrlimit/capset: %s", strerror(errno));
	r = map_dma(e, iova + pgsz, (char *)b.p + pgsz, b.len - pgsz, RW);
	unlimit_memlock(&l);
	CHECK(r == -ENOMEM, "MAP over RLIMIT_MEMLOCK: %s, want ENOMEM",
	      err_name(r));
	CHECK(vmlck_kb() == kb0, "VmLck %ld kB, was %ld", vmlck_kb(), kb0);
	CHECK(pins_outstanding() == pins0, "pins %ld, were %ld",
	      pins_outstanding(), pins0);
	r = map_dma(e, iova + pgsz, (char *)b.p + pgsz, b.len - pgsz, RW);
	CHECK(r == 0, "MAP with CAP_IPC_LOCK: %s", err_name(r));
	unmap_dma(e, iova, b.len);
out:
	buf_free(&b);
	return rc;
}

static int t_v1_enable_memlock(void)
{
	struct limit l;
	struct env e;
	long kb0, r;
	int rc = PASS;

	if (env_open(&e, VFIO_SPAPR_TCE_IOMMU))
		return FAIL;
	kb0 = vmlck_kb();
	if (!opt_intree) {
		/* ours charges at MAP: a map over the limit fails */
		rc = v1_map_memlock(&e, kb0);
		goto out;
	}
	CHECK(!limit_memlock(&l), "setrlimit/capset: %s", strerror(errno));
	r = xioctl(e.container, VFIO_IOMMU_ENABLE, NULL);
	unlimit_memlock(&l);
	CHECK(r == -ENOMEM, "ENABLE over RLIMIT_MEMLOCK: %s, want ENOMEM",
	      err_name(r));
	CHECK(vmlck_kb() == kb0, "VmLck %ld kB, was %ld", vmlck_kb(), kb0);
	/* with CAP_IPC_LOCK back, the limit does not apply */
	r = xioctl(e.container, VFIO_IOMMU_ENABLE, NULL);
	CHECK(r == 0, "ENABLE with CAP_IPC_LOCK: %s", err_name(r));
	xioctl(e.container, VFIO_IOMMU_DISABLE, NULL);
out:
	env_close(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* bad input: each against a fresh fixture, then fix_same() */

enum bad {
	B_INFO_ARGSZ, B_MAP_ARGSZ, B_UNMAP_ARGSZ, B_REG_ARGSZ, B_UNREG_ARGSZ,
	B_CREATE_ARGSZ, B_REMOVE_ARGSZ,
	B_MAP_FLAGS, B_MAP_NODIR, B_UNMAP_FLAGS, B_REG_FLAGS, B_UNREG_FLAGS,
	B_CREATE_FLAGS, B_REMOVE_FLAGS,
	B_MAP_VADDR, B_MAP_SIZE, B_MAP_IOVA, B_UNMAP_SIZE, B_UNMAP_IOVA,
	B_REG_VADDR, B_REG_SIZE,
	B_MAP_OUTSIDE, B_UNMAP_OUTSIDE, B_MAP_UNREG, B_MAP_RO,
	B_UNMAP_UNMAPPED, B_REG_OVERLAP, B_REG_SAME, B_UNREG_UNKNOWN,
	B_UNREG_SUBRANGE, B_REG_RO, B_CREATE_PGSHIFT, B_REMOVE_UNKNOWN,
	B_V1_REGISTER, B_V2_ENABLE,
};

/*
 * the in-tree driver reports a bad IOVA alignment through
 * iommu_tce_{put,clear}_param_check(), which are "a || b" macros: the
 * ioctl returns 1, not -1/EINVAL. Either counts as rejected.
 */
#define WANT_BOOL_EINVAL	1000

static int t_bad(int which)
{
	struct fix f;
	struct vfio_iommu_type1_dma_map m;
	struct vfio_iommu_type1_dma_unmap u;
	struct vfio_iommu_spapr_register_memory rg;
	struct vfio_iommu_spapr_tce_create cr;
	struct vfio_iommu_spapr_tce_remove rm;
	struct vfio_iommu_spapr_tce_info in;
	struct buf ro = { 0 };
	long r = 0, want = -EINVAL;
	int rc = PASS, c;
	bool v2 = opt_type == VFIO_SPAPR_TCE_v2_IOMMU;

	if (fix_open(&f))
		return FAIL;
	c = f.e.container;
	memset(&m, 0, sizeof(m));
	m.argsz = sizeof(m);
	m.flags = RW;
	m.vaddr = (uintptr_t)f.probe.p;
	m.iova = f.probe_iova;
	m.size = f.probe.len;
	memset(&u, 0, sizeof(u));
	u.argsz = sizeof(u);
	u.iova = f.probe_iova;
	u.size = f.probe.len;
	memset(&rg, 0, sizeof(rg));
	rg.argsz = sizeof(rg);
	rg.vaddr = (uintptr_t)f.probe.p;
	rg.size = f.probe.len;
	memset(&cr, 0, sizeof(cr));
	cr.argsz = sizeof(cr);
	cr.page_shift = 16;
	cr.window_size = 1ull << 30;
	cr.levels = 1;
	memset(&rm, 0, sizeof(rm));
	rm.argsz = sizeof(rm);
	rm.start_addr = PNV_BYPASS_BASE;
	memset(&in, 0, sizeof(in));
	/* v2: the probe buffer is registered unless the case says not */
	if (v2 && which != B_MAP_UNREG && which != B_REG_OVERLAP &&
	    which != B_REG_RO && which != B_UNREG_UNKNOWN) {
		r = reg_mem(&f.e, true, f.probe.p, f.probe.len);
		CHECK(r == 0, "REGISTER of the probe buffer: %s", err_name(r));
		f.base_kb = vmlck_kb();
	}

	switch (which) {
	case B_INFO_ARGSZ:
		in.argsz = offsetof(struct vfio_iommu_spapr_tce_info,
				    dma32_window_size);
		r = xioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in);
		break;
	case B_MAP_ARGSZ:
		m.argsz = offsetof(struct vfio_iommu_type1_dma_map, size);
		r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
		break;
	case B_UNMAP_ARGSZ:
		u.argsz = offsetof(struct vfio_iommu_type1_dma_unmap, size);
		u.iova = f.ok_iova;	/* would unmap the live one */
		u.size = f.ok.len;
		r = xioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
		break;
	case B_REG_ARGSZ:
		rg.argsz = offsetof(struct vfio_iommu_spapr_register_memory,
				    size);
		rg.vaddr += f.probe.len;	/* not registered yet */
		r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		break;
	case B_UNREG_ARGSZ:
		rg.argsz = offsetof(struct vfio_iommu_spapr_register_memory,
				    size);
		rg.vaddr = (uintptr_t)f.ok.p;	/* would drop the live one */
		rg.size = f.ok.len;
		r = xioctl(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &rg);
		break;
	case B_CREATE_ARGSZ:
		cr.argsz = offsetof(struct vfio_iommu_spapr_tce_create,
				    start_addr);
		r = xioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr);
		break;
	case B_REMOVE_ARGSZ:
		rm.argsz = offsetof(struct vfio_iommu_spapr_tce_remove,
				    start_addr);
		rm.start_addr = f.e.info.dma32_window_start;
		r = xioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
		break;
	case B_MAP_FLAGS:
		m.flags |= 1u << 7;
		r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
		break;
	case B_MAP_NODIR:
		m.flags = 0;
		r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
		break;
	case B_UNMAP_FLAGS:
		u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
		u.iova = f.ok_iova;
		u.size = f.ok.len;
		r = xioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
		break;
	case B_REG_FLAGS:
		rg.flags = 1;
		rg.vaddr += f.probe.len;
		r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		break;
	case B_UNREG_FLAGS:
		rg.flags = 1;
		rg.vaddr = (uintptr_t)f.ok.p;
		rg.size = f.ok.len;
		r = xioctl(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &rg);
		break;
	case B_CREATE_FLAGS:
		cr.flags = 1;
		r = xioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr);
		break;
	case B_REMOVE_FLAGS:
		rm.flags = 1;
		rm.start_addr = f.e.info.dma32_window_start;
		r = xioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
		break;
	case B_MAP_VADDR:
		m.vaddr += 0x800;
		m.size -= pgsz;
		r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
		break;
	case B_MAP_SIZE:
		m.size -= 0x800;
		r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
		break;
	case B_MAP_IOVA:
		m.iova += 0x800;
		m.size -= pgsz;
		r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
		want = WANT_BOOL_EINVAL;
		break;
	case B_UNMAP_SIZE:
		u.iova = f.ok_iova;
		u.size = f.ok.len - 0x800;
		r = xioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
		break;
	case B_UNMAP_IOVA:
		u.iova = f.ok_iova + 0x800;
		u.size = pgsz;
		r = xioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
		want = WANT_BOOL_EINVAL;
		break;
	case B_REG_VADDR:
		rg.vaddr += f.probe.len + 0x800;
		rg.size = pgsz;
		r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		break;
	case B_REG_SIZE:
		rg.vaddr += f.probe.len;
		rg.size = 0x800;
		r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		break;
	case B_MAP_OUTSIDE:
		/* just past the end of the 32-bit window, or below its start */
		m.iova = (uint64_t)f.e.info.dma32_window_start +
			 f.e.info.dma32_window_size;
		r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
		want = -ENXIO;
		break;
	case B_UNMAP_OUTSIDE:
		u.iova = (uint64_t)f.e.info.dma32_window_start +
			 f.e.info.dma32_window_size;
		r = xioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
		want = -ENXIO;
		break;
	case B_MAP_UNREG:	/* v2: the probe buffer is not registered */
		r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
		break;
	case B_MAP_RO:
		CHECK(!buf_alloc(&ro, f.probe.len, pgsz, PROT_READ, false),
		      "read-only buffer: %s", strerror(errno));
		if (v2) {
			/* registration pins for write: refused up front */
			rg.vaddr = (uintptr_t)ro.p;
			rg.size = ro.len;
			r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		} else {
			m.vaddr = (uintptr_t)ro.p;
			r = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
			if (r == -EFAULT && !opt_intree) {
				/*
				 * ours pins for write only when the device may
				 * write: a READ-only map of it is fine
				 */
				long r2;

				m.flags = VFIO_DMA_MAP_FLAG_READ;
				r2 = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
				CHECK(r2 == 0, "READ-only MAP of a read-only mapping: %s, want 0",
				      err_name(r2));
				xioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
			} else if (r == -EFAULT) {
				/*
				 * in-tree v1 takes the pin direction from
				 * iommu_tce_direction(vaddr), which has no
				 * permission bits: it always pins for write,
				 * so even a READ-only MAP of it fails
				 */
				long r2;

				m.flags = VFIO_DMA_MAP_FLAG_READ;
				r2 = xioctl(c, VFIO_IOMMU_MAP_DMA, &m);
				diag("READ-only MAP of it: %s", err_name(r2));
				CHECK(r2 == -EFAULT,
				      "READ-only MAP of a read-only mapping: %s, want EFAULT (in-tree pins for write)",
				      err_name(r2));
			}
		}
		want = -EFAULT;
		break;
	case B_UNMAP_UNMAPPED:
		/* nothing there: in-tree clears nothing and succeeds */
		r = xioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
		want = 0;
		break;
	case B_REG_OVERLAP:
		/* overlaps the registered @ok buffer by one page */
		rg.vaddr = (uintptr_t)f.ok.p + pgsz;
		rg.size = f.ok.len;
		r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		break;
	case B_REG_SAME:
		/*
		 * in-tree: the same range again in the same container is
		 * EBUSY (the mm-wide region is refcounted per container);
		 * the first registration stays
		 */
		rg.vaddr = (uintptr_t)f.ok.p;
		rg.size = f.ok.len;
		r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		want = -EBUSY;
		break;
	case B_UNREG_UNKNOWN:
		r = xioctl(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &rg);
		want = -ENOENT;
		break;
	case B_UNREG_SUBRANGE:
		/* first page of a registered region: not a region */
		rg.size = pgsz;
		r = xioctl(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &rg);
		want = -ENOENT;
		break;
	case B_REG_RO:
		CHECK(!buf_alloc(&ro, f.probe.len, pgsz, PROT_READ, false),
		      "read-only buffer: %s", strerror(errno));
		rg.vaddr = (uintptr_t)ro.p;
		rg.size = ro.len;
		r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		want = -EFAULT;
		break;
	case B_CREATE_PGSHIFT:
		cr.page_shift = 13;	/* 8K: no platform has it */
		r = xioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr);
		/* a fixed window refuses any CREATE first */
		if (opt_fixed)
			want = -EPERM;
		break;
	case B_REMOVE_UNKNOWN:
		rm.start_addr = 1ull << 40;
		r = xioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
		break;
	case B_V1_REGISTER:
		rg.vaddr += f.probe.len;
		r = xioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
		want = -ENOTTY;
		break;
	case B_V2_ENABLE:
		r = xioctl(c, VFIO_IOMMU_ENABLE, NULL);
		want = -ENOTTY;
		break;
	}
	diag("got %s", err_name(r));
	if (want == WANT_BOOL_EINVAL)
		CHECK(r == 1 || r == -EINVAL, "%s, want rejected (1 or EINVAL)",
		      err_name(r));
	else
		CHECK(r == want, "%s, want %s", err_name(r), err_name(want));
	rc = fix_same(&f, 0x7700 + which);
	if (rc != PASS)
		goto out;
	if (which == B_REG_SAME || which == B_UNREG_SUBRANGE) {
		/*
		 * the region is still registered, once: unregister works
		 * after unmap, a second time it is gone
		 */
		r = unmap_dma(&f.e, f.ok_iova, f.ok.len);
		if (which == B_REG_SAME) {
			r = reg_mem(&f.e, false, f.ok.p, f.ok.len);
			CHECK(r == 0, "UNREGISTER: %s", err_name(r));
			r = reg_mem(&f.e, false, f.ok.p, f.ok.len);
			CHECK(r == -ENOENT, "second UNREGISTER: %s, want ENOENT",
			      err_name(r));
		}
	}
out:
	fix_close(&f);
	buf_free(&ro);
	return rc;
}

/*
 * double map of one IOVA: in-tree replaces the TCE and returns 0; the
 * device then reaches the second buffer, not the first
 */
static int t_double_map(void)
{
	struct fix f;
	struct buf b2 = { 0 };
	long r, kb;
	int rc = PASS;
	bool v2 = opt_type == VFIO_SPAPR_TCE_v2_IOMMU;

	if (fix_open(&f))
		return FAIL;
	CHECK(!buf_alloc(&b2, f.probe.len, pgsz, PROT_READ | PROT_WRITE, false),
	      "buffer: %s", strerror(errno));
	if (v2) {
		CHECK(!reg_mem(&f.e, true, f.probe.p, f.probe.len) &&
		      !reg_mem(&f.e, true, b2.p, b2.len), "REGISTER failed");
	}
	kb = vmlck_kb();
	r = map_dma(&f.e, f.probe_iova, f.probe.p, f.probe.len, RW);
	CHECK(r == 0, "first MAP: %s", err_name(r));
	r = map_dma(&f.e, f.probe_iova, b2.p, b2.len, RW);
	diag("second MAP of the same IOVA: %s", err_name(r));
	if (!opt_intree) {
		/* ours refuses to replace a live TCE and changes nothing */
		CHECK(r == -EBUSY, "second MAP of the same IOVA: %s, want EBUSY",
		      err_name(r));
		CHECK(vmlck_kb() == kb + (v2 ? 0 : (long)f.probe.len / 1024),
		      "VmLck %ld kB, want %ld", vmlck_kb(),
		      kb + (v2 ? 0 : (long)f.probe.len / 1024));
		memset(f.probe.p, 0x11, XFER);
		fill(f.ok.p, XFER, 0x4455);
		CHECK(!edu_dma(f.e.bar, f.ok_iova, XFER, false) &&
		      !edu_dma(f.e.bar, f.probe_iova, XFER, true), "DMA failed");
		CHECK(filled(f.probe.p, XFER, 0x4455),
		      "the first mapping no longer gets the data");
		r = unmap_dma(&f.e, f.probe_iova, f.probe.len);
		CHECK(r == 0, "UNMAP: %s", err_name(r));
		if (v2) {
			CHECK(!reg_mem(&f.e, false, f.probe.p, f.probe.len) &&
			      !reg_mem(&f.e, false, b2.p, b2.len),
			      "UNREGISTER after UNMAP failed");
			f.base_kb = vmlck_kb();
		}
		rc = fix_same(&f, 0x88);
		goto out;
	}
	CHECK(r == 0, "second MAP of the same IOVA: %s, want 0 (replaces)",
	      err_name(r));
	CHECK(vmlck_kb() == kb, "VmLck %ld kB, was %ld", vmlck_kb(), kb);
	memset(f.probe.p, 0x11, XFER);
	memset(b2.p, 0x22, XFER);
	fill(f.ok.p, XFER, 0x4455);
	CHECK(!edu_dma(f.e.bar, f.ok_iova, XFER, false) &&
	      !edu_dma(f.e.bar, f.probe_iova, XFER, true), "DMA failed");
	CHECK(all_bytes(f.probe.p, XFER, 0x11),
	      "the first (replaced) buffer was written");
	CHECK(filled(b2.p, XFER, 0x4455), "the second buffer did not get the data");
	r = unmap_dma(&f.e, f.probe_iova, f.probe.len);
	CHECK(r == 0, "UNMAP: %s", err_name(r));
	if (v2) {
		/* both regions are unmapped again: both unregister */
		CHECK(!reg_mem(&f.e, false, f.probe.p, f.probe.len) &&
		      !reg_mem(&f.e, false, b2.p, b2.len),
		      "UNREGISTER after the replaced mapping failed: the old region is still counted as mapped");
		f.base_kb = vmlck_kb();
	}
	rc = fix_same(&f, 0x88);
out:
	fix_close(&f);
	buf_free(&b2);
	return rc;
}

/* ------------------------------------------------------------------ */
/* v2 cases */

static int t_v2_flow(int step)
{
	struct env e;
	struct buf b = { 0 };
	uint64_t iova;
	long kb0, kb1, kb2, want, r;
	int rc = PASS;

	kb0 = vmlck_kb();
	if (env_open(&e, VFIO_SPAPR_TCE_v2_IOMMU))
		return FAIL;
	CHECK(!buf_alloc(&b, 2 * XFER, pgsz, PROT_READ | PROT_WRITE, false),
	      "buffer: %s", strerror(errno));
	if (pick_iova(&e, b.len, &iova)) {
		rc = FAIL;
		goto out;
	}
	r = reg_mem(&e, true, b.p, b.len);
	kb1 = vmlck_kb();
	diag("REGISTER %#zx: VmLck %ld -> %ld kB", b.len, kb0, kb1);
	CHECK(r == 0, "REGISTER: %s", err_name(r));
	CHECK(kb1 - kb0 == (long)b.len / 1024,
	      "REGISTER charged %ld kB, want %zu", kb1 - kb0, b.len / 1024);
	if (step == 0)
		goto unreg;

	/*
	 * the first MAP creates the default window (4K pages, dma32 size)
	 * and charges its table
	 */
	r = map_dma(&e, iova, b.p, b.len, RW);
	kb2 = vmlck_kb();
	want = table_kb(12, e.info.dma32_window_size, 1);
	diag("MAP (creates the default window): VmLck %ld -> %ld kB, table formula %ld kB",
	     kb1, kb2, want);
	CHECK(r == 0, "MAP_DMA: %s", err_name(r));
	CHECK(kb2 - kb1 == want, "default window charged %ld kB, want %ld",
	      kb2 - kb1, want);
	if (step == 1)
		goto unmap;

	rc = roundtrip(&e, iova, b.p, iova + XFER, b.p + XFER, 0x2345);
	if (rc != PASS || step == 2)
		goto unmap;

	if (opt_intree) {
		/*
		 * in-tree bug, not triggered: tce_iommu_unregister_pages()
		 * takes a reference with mm_iommu_get(), so the put in
		 * tce_iommu_prereg_free() is not the last and returns 0;
		 * the last put sees the region mapped and returns EBUSY,
		 * which is ignored. UNREGISTER returns 0, the container
		 * forgets the region, the region stays in the mm with its
		 * pages pinned for good, and destroy_context() WARNs at
		 * exit (seen on pseries and powernv9, 6.12).
		 */
		if (step == 3) {
			say("SKIP %s %s",
			    "in-tree returns 0 and leaks the region (pins never released, WARNING in destroy_context at exit):",
			    "mm_iommu_get() ref in tce_iommu_unregister_pages() hides mm_iommu_put()'s EBUSY");
			rc = SKIP;
			goto unmap;
		}
		goto unmap_step;
	}
	r = reg_mem(&e, false, b.p, b.len);
	CHECK(r == -EBUSY, "UNREGISTER while mapped: %s, want EBUSY",
	      err_name(r));
	CHECK(vmlck_kb() == kb2, "VmLck changed");
	rc = roundtrip(&e, iova, b.p, iova + XFER, b.p + XFER, 0x2346);
	if (rc != PASS || step == 3)
		goto unmap;
unmap_step:
	r = unmap_dma(&e, iova, b.len);
	CHECK(r == 0, "UNMAP_DMA: %s", err_name(r));
	rc = dma_to_unmapped_blocked(&e, &b, iova);
	if (rc != PASS)
		goto out;
	r = reg_mem(&e, false, b.p, b.len);
	CHECK(r == 0, "UNREGISTER after UNMAP: %s", err_name(r));
	/* the default window stays until the container goes */
	CHECK(vmlck_kb() == kb0 + want, "VmLck %ld kB after UNREGISTER, want %ld",
	      vmlck_kb(), kb0 + want);
	env_close(&e);
	CHECK(vmlck_kb() == kb0, "VmLck %ld kB after close, was %ld",
	      vmlck_kb(), kb0);
	goto out;
unmap:
	unmap_dma(&e, iova, b.len);
unreg:
	r = reg_mem(&e, false, b.p, b.len);
	if (rc == PASS && r) {
		say("UNREGISTER: %s", err_name(r));
		rc = FAIL;
	}
out:
	env_close(&e);
	buf_free(&b);
	return rc;
}

static int t_v2_register(void) { return t_v2_flow(0); }
static int t_v2_map(void) { return t_v2_flow(1); }
static int t_v2_dma(void) { return t_v2_flow(2); }
static int t_v2_unreg_busy(void) { return t_v2_flow(3); }
static int t_v2_unmap_unreg(void) { return t_v2_flow(4); }

/* REGISTER and CREATE over RLIMIT_MEMLOCK without CAP_IPC_LOCK */
/* ours over a fixed window: no window can be removed or created */
static int fixed_no_windows(struct env *e)
{
	uint64_t start = 0;
	long kb0 = vmlck_kb(), r;
	int rc = PASS;

	r = remove_win(e, e->info.dma32_window_start);
	CHECK(r == -EPERM, "REMOVE of the fixed window: %s, want EPERM",
	      err_name(r));
	r = create_win(e, 12, 1ull << 28, 1, &start);
	CHECK(r == -EPERM, "CREATE on a fixed window: %s, want EPERM",
	      err_name(r));
	CHECK(vmlck_kb() == kb0, "VmLck %ld kB, was %ld", vmlck_kb(), kb0);
out:
	return rc;
}

static int t_v2_memlock(int create)
{
	struct limit l;
	struct env e;
	struct buf b = { 0 };
	uint64_t start = 0;
	long kb0, r;
	int rc = PASS;

	if (env_open(&e, VFIO_SPAPR_TCE_v2_IOMMU))
		return FAIL;
	CHECK(!buf_alloc(&b, 16 * pgsz, pgsz, PROT_READ | PROT_WRITE, false),
	      "buffer: %s", strerror(errno));
	if (create && opt_fixed) {
		rc = fixed_no_windows(&e);
		goto out;
	}
	if (create) {
		/*
		 * drop the pending default window so CREATE charges only
		 * its own table
		 */
		r = remove_win(&e, e.info.dma32_window_start);
		CHECK(r == 0, "REMOVE of the default window: %s", err_name(r));
	}
	kb0 = vmlck_kb();
	CHECK(!limit_memlock(&l), "setrlimit/capset: %s", strerror(errno));
	if (create)
		r = create_win(&e, 16, 1ull << 30, 1, &start);
	else
		r = reg_mem(&e, true, b.p, b.len);
	unlimit_memlock(&l);
	CHECK(r == -ENOMEM, "%s over RLIMIT_MEMLOCK: %s, want ENOMEM",
	      create ? "CREATE" : "REGISTER", err_name(r));
	CHECK(vmlck_kb() == kb0, "VmLck %ld kB, was %ld", vmlck_kb(), kb0);
	if (create) {
		r = create_win(&e, 16, 1ull << 30, 1, &start);
		CHECK(r == 0, "CREATE with CAP_IPC_LOCK: %s", err_name(r));
		r = remove_win(&e, start);
		CHECK(r == 0, "REMOVE: %s", err_name(r));
	} else {
		r = reg_mem(&e, true, b.p, b.len);
		CHECK(r == 0, "REGISTER with CAP_IPC_LOCK: %s", err_name(r));
		r = reg_mem(&e, false, b.p, b.len);
		CHECK(r == 0, "UNREGISTER: %s", err_name(r));
	}
	CHECK(vmlck_kb() == kb0, "VmLck %ld kB at the end, was %ld",
	      vmlck_kb(), kb0);
out:
	env_close(&e);
	buf_free(&b);
	return rc;
}

static int t_v2_register_memlock(void) { return t_v2_memlock(0); }
static int t_v2_create_memlock(void) { return t_v2_memlock(1); }

/*
 * Dynamic windows (powernv IODA2). In-tree create_table() places window
 * #0 at tce32_start (0) and window #1 at the PE's bypass base, 1 << 59:
 * far beyond the edu 28-bit mask. So:
 *  - "high": the 64K-page window is created in the free slot #1, at
 *    1 << 59; the device cannot reach it, so only the start address,
 *    the accounting, the slot limit and the MAP rules are checked;
 *  - "low": REMOVE the default window #0 first, then CREATE: the free
 *    slot is #0, which starts at 0, and DMA goes through the new window.
 *
 * 64K IOMMU pages need 64K-contiguous backing: in-tree v2 looks the
 * page size up in the registered region, where only hugetlb pages count
 * as bigger than PAGE_SIZE (mm_iommu_do_alloc: PageHuge). With 64K
 * kernel pages any memory does; on a 4K kernel it takes hugetlb pages.
 */
#define DDW_SIZE	0x100000000ull	/* 4 GiB */

static bool ddw_backing(struct buf *b, int shift)
{
	if (pgsz >= (1 << shift))
		return !buf_alloc(b, 1 << shift, 1 << shift,
				  PROT_READ | PROT_WRITE, false);
	return !buf_alloc(b, 2u << 20, 2u << 20, PROT_READ | PROT_WRITE, true);
}

static int t_v2_ddw(int low)
{
	struct env e;
	struct buf b = { 0 };
	uint64_t start = 0, start2 = 0, iova = 0;
	long kb0, kb1, kb2, want, def, r;
	/* pseries windows have one level (the hypervisor's table) */
	uint32_t levels = low && powernv ? 2 : 1;
	int rc = PASS, shift = 16;
	const uint64_t msz = 1 << 16;	/* mapped: one 64K page or 16 4K ones */
	bool backed;

	if (env_open(&e, VFIO_SPAPR_TCE_v2_IOMMU))
		return FAIL;
	if (opt_fixed) {
		rc = fixed_no_windows(&e);
		env_close(&e);
		return rc;
	}
	backed = ddw_backing(&b, 16);
	if (!backed) {
		/* a 4K-page kernel without hugetlb: register plain pages */
		CHECK(!buf_alloc(&b, 1 << 16, 1 << 16, PROT_READ | PROT_WRITE,
				 false), "buffer: %s", strerror(errno));
		if (low)
			shift = 12;
	}
	if (low) {
		r = remove_win(&e, e.info.dma32_window_start);
		CHECK(r == 0, "REMOVE of the default window: %s", err_name(r));
	}
	kb0 = vmlck_kb();
	r = create_win(&e, shift, DDW_SIZE, levels, &start);
	kb1 = vmlck_kb();
	want = table_kb(shift, DDW_SIZE, levels);
	/*
	 * without the REMOVE, CREATE first makes the pending default
	 * window (4K pages, dma32 size) and charges its table too
	 */
	def = low ? 0 : table_kb(12, e.info.dma32_window_size, 1);
	diag("CREATE %uK pages, %#llx bytes, %u levels: %s, start %#llx",
	     1u << (shift - 10), DDW_SIZE, levels, err_name(r),
	     (unsigned long long)start);
	diag("VmLck %ld -> %ld kB, formula %ld (+ the default window %ld) kB",
	     kb0, kb1, want, def);
	CHECK(r == 0, "CREATE: %s", err_name(r));
	CHECK(kb1 - kb0 == want + def, "CREATE charged %ld kB, want %ld",
	      kb1 - kb0, want + def);
	if (powernv)
		CHECK(start == (low ? 0 : PNV_BYPASS_BASE),
		      "window start %#llx, want %#llx", (unsigned long long)start,
		      low ? 0ull : PNV_BYPASS_BASE);
	if (!low) {
		/* both slots are in use now */
		r = create_win(&e, shift, DDW_SIZE, 1, &start2);
		CHECK(r == -ENOSPC, "CREATE with no free slot: %s, want ENOSPC",
		      err_name(r));
		CHECK(vmlck_kb() == kb1, "failed CREATE changed VmLck");
	}
	r = reg_mem(&e, true, b.p, b.len);
	CHECK(r == 0, "REGISTER: %s", err_name(r));
	kb2 = vmlck_kb();
	iova = start + (low ? (64u << 20) : (1ull << 31));
	r = map_dma(&e, iova, b.p, msz, RW);
	if (!backed && shift == 16) {
		/* 4K-page memory cannot back a 64K IOMMU page */
		diag("MAP of 4K-page memory into the 64K window: %s", err_name(r));
		CHECK(r == -EINVAL, "MAP of 4K-page memory into a 64K-page window: %s, want EINVAL",
		      err_name(r));
		iova = 0;
	} else {
		CHECK(r == 0, "MAP at %#llx: %s", (unsigned long long)iova,
		      err_name(r));
		/* IOMMU-page alignment, not 4K, is what counts */
		if (shift > 12) {
			r = map_dma(&e, iova + (1 << shift) + 0x1000, b.p,
				    1 << shift, RW);
			CHECK(r == 1 || r == -EINVAL,
			      "MAP at a 4K-aligned IOVA in a 64K window: %s",
			      err_name(r));
		}
	}
	if (low && iova && iova + msz > EDU_DMA_LIMIT) {
		say("SKIP the window was placed at %#llx, beyond the edu 28-bit DMA mask",
		    (unsigned long long)start);
		rc = SKIP;
		goto unmap;
	}
	if (low && iova) {
		diag("DMA through the created window at %#llx (%uK IOMMU pages)",
		     (unsigned long long)iova, 1u << (shift - 10));
		rc = roundtrip(&e, iova, b.p, iova + XFER, b.p + XFER, 0x6464);
		if (rc != PASS)
			goto unmap;
		/* the far end of the first IOMMU page */
		rc = roundtrip(&e, iova + msz - 2 * XFER - 8,
			       b.p + msz - 2 * XFER - 8,
			       iova + msz - XFER - 4,
			       b.p + msz - XFER - 4, 0x6465);
		if (rc != PASS)
			goto unmap;
	}
	if (iova) {
		r = unmap_dma(&e, iova, msz);
		CHECK(r == 0, "UNMAP: %s", err_name(r));
	}
	if (low && iova) {
		memset(b.p, 0xc3, XFER);
		edu_dma(e.bar, iova, XFER, true);
		CHECK(all_bytes(b.p, XFER, 0xc3),
		      "DMA to the unmapped IOVA in the created window changed RAM");
	}
	r = reg_mem(&e, false, b.p, b.len);
	CHECK(r == 0, "UNREGISTER: %s", err_name(r));
	CHECK(vmlck_kb() == kb2 - (long)b.len / 1024, "UNREGISTER: VmLck %ld",
	      vmlck_kb());
	r = remove_win(&e, start);
	CHECK(r == 0, "REMOVE: %s", err_name(r));
	r = remove_win(&e, start);
	CHECK(r == -EINVAL, "second REMOVE: %s, want EINVAL", err_name(r));
	CHECK(vmlck_kb() == kb0 + def, "VmLck %ld kB after REMOVE, want %ld",
	      vmlck_kb(), kb0 + def);
	goto out;
unmap:
	unmap_dma(&e, iova, msz);
	reg_mem(&e, false, b.p, b.len);
	remove_win(&e, start);
out:
	env_close(&e);
	buf_free(&b);
	return rc;
}

/*
 * pseries (v6.4 on) keeps one dynamic DMA window per device: every
 * window but a default-sized one of 4K TCEs in slot 0 is one, and a
 * second one's device-tree property collides with the first's. The
 * stock platform code then removes the new window and puts the device
 * on its failed-DDW list for good: every later CREATE of the device
 * fails with ENODEV until reboot, for any user (finding A of issue 12,
 * vfio_spapr.rst "One DDW per device"). Sequence: REMOVE of the still
 * owed default window, CREATE, CREATE. Ours refuses the second CREATE
 * with EPERM before the platform is asked, and the device must take a
 * window again once the first is gone. The in-tree driver shows the
 * stock behaviour, which this asserts as documented: the second CREATE
 * fails and the device takes no window after (this poisons the device
 * until reboot: run it last).
 */
static int t_v2_one_ddw(void)
{
	uint64_t s1 = 0, s2 = 0, s3 = 0;
	const uint64_t size = 1ull << 28;	/* 4096 TCEs of 64K */
	struct env e;
	int rc = PASS;
	long r;

	if (powernv) {
		say("SKIP %s",
		    "powernv has two dynamic windows per PE (v2_create_64k_window_second_slot)");
		return SKIP;
	}
	if (env_open(&e, VFIO_SPAPR_TCE_v2_IOMMU))
		return FAIL;
	if (opt_fixed) {
		rc = fixed_no_windows(&e);
		env_close(&e);
		return rc;
	}
	CHECK(e.info.ddw.pgsizes & (1ull << 16), "no 64K TCEs (pgsizes %#llx)",
	      (unsigned long long)e.info.ddw.pgsizes);
	r = remove_win(&e, e.info.dma32_window_start);
	CHECK(r == 0, "REMOVE of the owed default window: %s", err_name(r));
	r = create_win(&e, 16, size, 1, &s1);
	diag("first CREATE (64K TCEs, 256 MiB): %s, start %#llx", err_name(r),
	     (unsigned long long)s1);
	CHECK(r == 0, "first CREATE: %s", err_name(r));
	r = create_win(&e, 16, size, 1, &s2);
	diag("second CREATE: %s, start %#llx", err_name(r), (unsigned long long)s2);
	if (!opt_intree)
		CHECK(r == -EPERM,
		      "second DDW of the device: %s, want EPERM (refused before the platform is asked)",
		      err_name(r));
	else
		CHECK(r != 0, "second DDW of the device: 0 (stock pseries keeps one)");
	r = remove_win(&e, s1);
	CHECK(r == 0, "REMOVE of the first window: %s", err_name(r));
	r = create_win(&e, 16, size, 1, &s3);
	diag("CREATE after the first window went: %s, start %#llx", err_name(r),
	     (unsigned long long)s3);
	if (!opt_intree) {
		CHECK(r == 0,
		      "the device takes no window any more: %s (on the platform's failed-DDW list?)",
		      err_name(r));
		r = remove_win(&e, s3);
		CHECK(r == 0, "REMOVE: %s", err_name(r));
	} else {
		CHECK(r == -ENODEV, "stock after a second DDW: %s, want ENODEV (failed-DDW list)",
		      err_name(r));
	}
out:
	env_close(&e);
	return rc;
}

static int t_v2_ddw_high(void) { return t_v2_ddw(0); }
static int t_v2_ddw_low(void) { return t_v2_ddw(1); }

/* ------------------------------------------------------------------ */
/*
 * What the child of t_exit() must have charged, in kB: its two buffers
 * (pinned by v1's maps or v2's registrations), in-tree v1's whole window
 * at ENABLE, the default window's table (v2 over a fixed window: its
 * user-address view, as large; v1 over a fixed window: nothing), our
 * v1's record of each TCE's page, and on powernv v2's 64K window's
 * table.
 */
static long child_want_kb(const struct fix *cf)
{
	uint32_t dma32 = cf->e.info.dma32_window_size;
	long kb = (long)(cf->ok.len + cf->probe.len) / 1024;

	/* in-tree v1 charges its window once and no mapping */
	if (opt_type == VFIO_SPAPR_TCE_IOMMU && opt_intree)
		kb = dma32 / 1024;
	if (opt_type == VFIO_SPAPR_TCE_IOMMU && !opt_intree)
		kb += v1_record_kb(dma32);
	/* v2 over a fixed window: its user-address view, the same size */
	if (!opt_fixed || opt_type == VFIO_SPAPR_TCE_v2_IOMMU)
		kb += table_kb(12, dma32, 1);
	if (opt_type == VFIO_SPAPR_TCE_v2_IOMMU && powernv)
		kb += table_kb(16, DDW_SIZE, 1);
	return kb;
}

/*
 * Process exit with live mappings: a child opens its own container, maps
 * (v2: registers, maps, and on powernv also creates a window) and exits
 * without any cleanup. Afterwards: no page stays pinned (the kernel's
 * FOLL_PIN counters), the group opens again, and the child's bus address
 * is no longer mapped to anything (loopback probe). VmLck is per-mm: the
 * child reads its own before it exits and it must be exactly what its
 * mappings cost (child_want_kb()); it goes with the child's mm, and ours
 * must not move.
 */
static int t_exit(void)
{
	int pfd[2], st, rc = PASS;
	long pins0, pins1, kb0;
	uint64_t child_iova = 0;
	pid_t pid;
	struct fix f;
	char msg[256] = "";
	ssize_t n;

	pins0 = pins_outstanding();
	kb0 = vmlck_kb();
	CHECK(pins0 >= 0, "no FOLL_PIN counters in /proc/vmstat");
	CHECK(!pipe(pfd), "pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct fix cf;
		uint64_t s;

		close(pfd[0]);
		if (fix_open(&cf)) {
			dprintf(pfd[1], "E child setup: %s", why);
			_exit(1);
		}
		if ((opt_type == VFIO_SPAPR_TCE_v2_IOMMU &&
		     reg_mem(&cf.e, true, cf.probe.p, cf.probe.len)) ||
		    map_dma(&cf.e, cf.probe_iova, cf.probe.p, cf.probe.len, RW)) {
			dprintf(pfd[1], "E child MAP of the probe failed");
			_exit(1);
		}
		if (opt_type == VFIO_SPAPR_TCE_v2_IOMMU && powernv &&
		    create_win(&cf.e, 16, DDW_SIZE, 1, &s)) {
			dprintf(pfd[1], "E child CREATE failed");
			_exit(1);
		}
		dprintf(pfd[1], "I %llu %ld %ld %ld %ld",
			(unsigned long long)cf.ok_iova, vmlck_kb() - cf.kb0,
			pins_outstanding(), child_want_kb(&cf),
			(long)(cf.ok.len + cf.probe.len) / pgsz);
		_exit(0);	/* no unmap, no close */
	}
	close(pfd[1]);
	CHECK(pid > 0, "fork: %s", strerror(errno));
	n = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	msg[n > 0 ? n : 0] = 0;
	CHECK(msg[0] == 'I', "child: %s", msg[0] ? msg + 2 : "no answer");
	{
		long ckb, cpins, cwant, cpages;

		if (sscanf(msg + 2, "%llu %ld %ld %ld %ld",
			   (unsigned long long *)&child_iova, &ckb, &cpins,
			   &cwant, &cpages) != 5)
			ckb = -1, cpins = -1, cwant = -2, cpages = -1;
		diag("child: VmLck +%ld kB (want %ld), %ld pages pinned",
		     ckb, cwant, cpins);
		diag("(before: %ld, its buffers %ld pages)", pins0, cpages);
		/* the child's own charge, read in the child, exactly */
		CHECK(ckb == cwant, "the child's VmLck grew by %ld kB, want %ld",
		      ckb, cwant);
		CHECK(cpins - pins0 >= cpages, "the child pinned %ld pages, its buffers are %ld",
		      cpins - pins0, cpages);
	}
	for (n = 0; n < 100; n++) {	/* RCU-deferred unpin, see run_case() */
		pins1 = pins_outstanding();
		if (pins1 == pins0)
			break;
		usleep(50000);
	}
	diag("after the child exited: %ld pinned (before: %ld)", pins1, pins0);
	CHECK(pins1 == pins0, "%ld pages still pinned after the child exited",
	      pins1 - pins0);
	/* the child had its own container: nothing was charged to us */
	CHECK(vmlck_kb() == kb0, "our VmLck moved");
	if (fix_open(&f)) {
		rc = FAIL;
		say("reopening after the child: %s", why);
		goto out;
	}
	/*
	 * the child had both the fixture's IOVA and the probe IOVA
	 * mapped: the probe one must be gone now
	 */
	rc = fix_same(&f, 0x9900);
	fix_close(&f);
out:
	return rc;
}

/* ------------------------------------------------------------------ */

struct tcase {
	const char *name;
	int types;	/* 1 v1, 2 v2 */
	int (*fn)(void);
	int bad;	/* t_bad(bad - 1) if set */
	bool pnv_only;
};

#define V1 1
#define V2 2
#define BAD(n, t, b) { n, t, NULL, (b) + 1, false }

static const struct tcase cases[] = {
	{ "check_extension_spapr_v1_v2", V1 | V2, t_check_extension, 0, false },
	{ "set_iommu_then_second_einval", V1 | V2, t_set_iommu, 0, false },
	{ "get_info_dma32_window_and_ddw", V1 | V2, t_get_info, 0, false },
	{ "v1_map_before_enable_eperm", V1, t_v1_map_before_enable, 0, false },
	{ "v1_enable_charges_window_to_locked_vm", V1, t_v1_enable, 0, false },
	{ "v1_map_dma", V1, t_v1_map, 0, false },
	{ "v1_dma_ram_to_device_to_ram", V1, t_v1_dma, 0, false },
	{ "v1_unmap_dma", V1, t_v1_unmap, 0, false },
	{ "v1_dma_to_unmapped_iova_blocked", V1, t_v1_blocked_write, 0, false },
	{ "v1_dma_from_unmapped_iova_blocked", V1, t_v1_blocked_read, 0, false },
	{ "v1_disable_returns_locked_vm", V1, t_v1_disable, 0, false },
	{ "v1_enable_over_memlock_enomem", V1, t_v1_enable_memlock, 0, false },
	{ "v2_register_charges_locked_vm", V2, t_v2_register, 0, false },
	{ "v2_map_creates_default_window_charges_table", V2, t_v2_map, 0, false },
	{ "v2_dma_ram_to_device_to_ram", V2, t_v2_dma, 0, false },
	{ "v2_unregister_mapped_ebusy", V2, t_v2_unreg_busy, 0, false },
	{ "v2_unmap_blocks_dma_then_unregister", V2, t_v2_unmap_unreg, 0, false },
	{ "v2_register_over_memlock_enomem", V2, t_v2_register_memlock, 0, false },
	{ "v2_create_over_memlock_enomem", V2, t_v2_create_memlock, 0, false },
	{ "v2_create_64k_window_second_slot", V2, t_v2_ddw_high, 0, false },
	{ "v2_remove_default_create_window_at_0_dma", V2, t_v2_ddw_low, 0, false },
	BAD("bad_get_info_argsz_einval", V1 | V2, B_INFO_ARGSZ),
	BAD("bad_map_argsz_einval", V1 | V2, B_MAP_ARGSZ),
	BAD("bad_unmap_argsz_einval", V1 | V2, B_UNMAP_ARGSZ),
	BAD("bad_register_argsz_einval", V2, B_REG_ARGSZ),
	BAD("bad_unregister_argsz_einval", V2, B_UNREG_ARGSZ),
	BAD("bad_create_argsz_einval", V2, B_CREATE_ARGSZ),
	BAD("bad_remove_argsz_einval", V2, B_REMOVE_ARGSZ),
	BAD("bad_map_unknown_flag_einval", V1 | V2, B_MAP_FLAGS),
	BAD("bad_map_no_direction_einval", V1 | V2, B_MAP_NODIR),
	BAD("bad_unmap_unknown_flag_einval", V1 | V2, B_UNMAP_FLAGS),
	BAD("bad_register_unknown_flag_einval", V2, B_REG_FLAGS),
	BAD("bad_unregister_unknown_flag_einval", V2, B_UNREG_FLAGS),
	BAD("bad_create_unknown_flag_einval", V2, B_CREATE_FLAGS),
	BAD("bad_remove_unknown_flag_einval", V2, B_REMOVE_FLAGS),
	BAD("bad_map_misaligned_vaddr_einval", V1 | V2, B_MAP_VADDR),
	BAD("bad_map_misaligned_size_einval", V1 | V2, B_MAP_SIZE),
	BAD("bad_map_misaligned_iova_rejected", V1 | V2, B_MAP_IOVA),
	BAD("bad_unmap_misaligned_size_einval", V1 | V2, B_UNMAP_SIZE),
	BAD("bad_unmap_misaligned_iova_rejected", V1 | V2, B_UNMAP_IOVA),
	BAD("bad_register_misaligned_vaddr_einval", V2, B_REG_VADDR),
	BAD("bad_register_misaligned_size_einval", V2, B_REG_SIZE),
	BAD("bad_map_iova_outside_window_enxio", V1 | V2, B_MAP_OUTSIDE),
	BAD("bad_unmap_iova_outside_window_enxio", V1 | V2, B_UNMAP_OUTSIDE),
	BAD("bad_map_unregistered_memory_einval", V2, B_MAP_UNREG),
	BAD("bad_map_write_of_readonly_memory_efault", V1, B_MAP_RO),
	BAD("unmap_of_unmapped_range_is_noop", V1 | V2, B_UNMAP_UNMAPPED),
	BAD("bad_register_overlapping_range_einval", V2, B_REG_OVERLAP),
	BAD("register_same_range_twice_ebusy_first_kept", V2, B_REG_SAME),
	BAD("bad_unregister_unknown_range_enoent", V2, B_UNREG_UNKNOWN),
	BAD("bad_unregister_subrange_enoent", V2, B_UNREG_SUBRANGE),
	BAD("bad_register_readonly_memory_efault", V2, B_REG_RO),
	BAD("bad_create_unsupported_page_size_einval", V2, B_CREATE_PGSHIFT),
	BAD("bad_remove_unknown_window_einval", V2, B_REMOVE_UNKNOWN),
	BAD("v1_register_memory_enotty", V1, B_V1_REGISTER),
	BAD("v2_enable_enotty", V2, B_V2_ENABLE),
	{ "map_same_iova_twice_replaces", V1 | V2, t_double_map, 0, false },
	{ "child_exit_with_live_mappings_leaks_nothing", V1 | V2, t_exit, 0, false },
	/* last: with the in-tree driver it leaves the device without windows */
	{ "v2_pseries_second_ddw_eperm_device_takes_windows_after", V2, t_v2_one_ddw, 0, false },
};

#define NCASES ARRAY_SIZE(cases)

/*
 * Run one case in a child process: whatever a case leaves registered in
 * its mm (the preregistration registry is per mm) dies with it, so
 * cases cannot poison each other. The child's message comes back
 * through a pipe. Afterwards no page may stay pinned: the kernel's
 * FOLL_PIN counters must be back where they were.
 */
static int run_case(const struct tcase *c)
{
	long pins0 = pins_outstanding(), pins1;
	int pfd[2], st, rc;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd)) {
		say("pipe: %s", strerror(errno));
		return FAIL;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return FAIL;
	}
	if (pid == 0) {
		close(pfd[0]);
		why[0] = 0;
		rc = c->bad ? t_bad(c->bad - 1) : c->fn();
		fflush(stdout);
		if (write(pfd[1], why, strlen(why)) < 0)
			rc = FAIL;
		_exit(rc);
	}
	close(pfd[1]);
	n = read(pfd[0], why, sizeof(why) - 1);
	why[n > 0 ? n : 0] = 0;
	close(pfd[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		say("case process died (status %#x)", st);
		return FAIL;
	}
	rc = WEXITSTATUS(st);
	/*
	 * v2 regions are unpinned from an RCU callback (mm_iommu_free):
	 * give the counters up to 5 s to come back
	 */
	for (n = 0; n < 100; n++) {
		pins1 = pins_outstanding();
		if (pins1 == pins0)
			break;
		usleep(50000);
	}
	if (rc != FAIL && pins1 != pins0) {
		say("%ld pages still pinned after the case's process exited",
		    pins1 - pins0);
		return FAIL;
	}
	return rc;
}

/* TAP name: the case name, with the container type in front once */
static const char *tname(const struct tcase *c, int tbit)
{
	static char s[128];

	if (!strncmp(c->name, "v1_", 3) || !strncmp(c->name, "v2_", 3))
		return c->name;
	snprintf(s, sizeof(s), "%s_%s", tbit == V1 ? "v1" : "v2", c->name);
	return s;
}

static void print_help(void)
{
	fprintf(stderr,
		"Usage: vfio_edu --group N --dev DDDD:BB:DD.F --type v1|v2 [--case REGEX] [--skip REGEX:REASON]... [--intree] [--fixed] [--list]\n"
		"  --intree: the container is the in-tree driver; a case that hits one of its\n"
		"            known bugs is reported as SKIP with the bug as the reason\n"
		"  --fixed:  ours over a window the platform cannot change (pseries < 6.4)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *reason;
	static const struct option lo[] = {
		{ "group", 1, NULL, 'g' }, { "dev", 1, NULL, 'd' },
		{ "type", 1, NULL, 't' }, { "case", 1, NULL, 'c' },
		{ "skip", 1, NULL, 's' }, { "list", 0, NULL, 'l' },
		{ "intree", 0, NULL, 'i' }, { "fixed", 0, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pat = NULL, *skips[16];
	regex_t re, sre[16];
	char *sreason[16];
	int nskip = 0, o, n = 0, i, rc, tbit;
	bool list = false, sel[NCASES];
	long kb_start, pins_start, kb, pins, t0;
	char line[256];
	FILE *f;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'g':
			opt_group = atoi(optarg);
			break;
		case 'd':
			opt_dev = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "v1"))
				opt_type = VFIO_SPAPR_TCE_IOMMU;
			else if (!strcmp(optarg, "v2"))
				opt_type = VFIO_SPAPR_TCE_v2_IOMMU;
			else
				print_help();
			break;
		case 'c':
			pat = optarg;
			break;
		case 's':
			if (nskip == 16)
				print_help();
			skips[nskip++] = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'i':
			opt_intree = true;
			break;
		case 'f':
			opt_fixed = true;
			break;
		default:
			print_help();
		}
	}
	if (!opt_type || (!list && (opt_group < 0 || !opt_dev)))
		print_help();
	if (pat && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB))
		print_help();
	/* --skip REGEX:REASON: report matching cases as SKIP with REASON */
	for (i = 0; i < nskip; i++) {
		char *s = strdup(skips[i]), *c = strchr(s, ':');

		if (!c)
			print_help();
		*c = 0;
		sreason[i] = c + 1;
		if (regcomp(&sre[i], s, REG_EXTENDED | REG_NOSUB))
			print_help();
	}
	pgsz = sysconf(_SC_PAGESIZE);
	pgshift = ilog2u(pgsz);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "PowerNV"))
			powernv = true;
	if (f)
		fclose(f);
	tbit = opt_type == VFIO_SPAPR_TCE_IOMMU ? V1 : V2;
	for (i = 0; i < (int)NCASES; i++) {
		sel[i] = (cases[i].types & tbit) &&
			 (!pat || !regexec(&re, cases[i].name, 0, NULL, 0) ||
			  !regexec(&re, tname(&cases[i], tbit), 0, NULL, 0));
		n += sel[i];
	}
	if (list) {
		for (i = 0; i < (int)NCASES; i++)
			if (sel[i])
				printf("%s\n", tname(&cases[i], tbit));
		return 0;
	}
	ksft_print_header();
	ksft_set_plan(n + 1);
	diag("%s, group %d, device %s, page size %ld, %s",
	     tbit == V1 ? "v1" : "v2", opt_group, opt_dev, pgsz,
	     powernv ? "powernv" : "pseries");
	kb_start = vmlck_kb();
	pins_start = pins_outstanding();
	for (i = 0; i < (int)NCASES; i++) {
		const char *skip = NULL;
		int s;

		if (!sel[i])
			continue;
		for (s = 0; s < nskip; s++)
			if (!regexec(&sre[s], cases[i].name, 0, NULL, 0))
				skip = sreason[s];
		if (!skip && cases[i].pnv_only && !powernv)
			skip = "needs powernv (in-tree IODA2 dynamic windows)";
		if (skip) {
			ksft_test_result_code(KSFT_SKIP, tname(&cases[i], tbit),
					      "%s", skip);
			continue;
		}
		why[0] = 0;
		t0 = now_ms();
		rc = run_case(&cases[i]);
		diag("%s took %ld ms", cases[i].name, now_ms() - t0);
		reason = why;
		if (!strncmp(why, "SKIP ", 5))
			reason += 5;
		if (rc == SKIP) {
			ksft_test_result_code(KSFT_SKIP, tname(&cases[i], tbit),
					      "%s", reason);
		} else if (rc == PASS) {
			ksft_test_result_code(KSFT_PASS, tname(&cases[i], tbit), NULL);
		} else {
			ksft_test_result_code(KSFT_FAIL, tname(&cases[i], tbit), NULL);
			ksft_print_msg("%s\n", why);
		}
	}
	/* after all cases: nothing left locked or pinned */
	kb = vmlck_kb();
	pins = pins_outstanding();
	for (i = 0; i < 100 && pins != pins_start; i++) {
		usleep(50000);
		pins = pins_outstanding();
	}
	snprintf(line, sizeof(line), "%s_locked_vm_and_pins_back_to_start",
		 tbit == V1 ? "v1" : "v2");
	ksft_test_result_code(kb == kb_start && pins == pins_start ? KSFT_PASS : KSFT_FAIL,
			      line, NULL);
	if (kb != kb_start || pins != pins_start)
		ksft_print_msg("VmLck %ld kB (start %ld), pinned %ld (start %ld)\n",
			       kb, kb_start, pins, pins_start);
	/* exits 0 when every planned case passed or skipped, else 1 */
	ksft_finished();
}
