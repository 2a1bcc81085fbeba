// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_owner: who owns what when one process has several sPAPR TCE v2
 * containers, and what a container's teardown may take with it. Needs
 * two edu devices (1234:11e8), each in an IOMMU group of its own, bound
 * to vfio-pci, and our vfio_spapr serving the containers.
 *
 *   vfio_owner --group-a N --dev-a BDF --group-b M --dev-b BDF
 *              [--fixed] [--one-group] [--case REGEX] [--list]
 *   vfio_owner --hold --group-a N      (a v2 container, kept until stdin closes)
 *
 * Every case runs in a child process of its own, so its containers go
 * with it whatever happens; afterwards the FOLL_PIN count must be back
 * where it was. One TAP line per case, then one for VmLck and pins.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "edu.h"
#include "kselftest.h"
#include "lab_tap.h"

#define XFER	4000u		/* bytes per DMA */
#define RACE_MS	3000		/* how long the GET_INFO race runs */

enum { PASS, FAIL, SKIP };

#define CHECK(cond, ...) do {				\
	if (!(cond)) {					\
		say(__VA_ARGS__);			\
		rc = FAIL;				\
		goto out;				\
	}						\
} while (0)

static int opt_group[2] = { -1, -1 };
static const char *opt_dev[2];
/* pseries before v6.4: one fixed window per group, no CREATE/REMOVE */
static bool opt_fixed;
/* pseries: a window is its PE's own, no second group joins a container */
static bool opt_one_group;
static long pgsz;

struct side {
	int container, group, device;
	volatile uint8_t *bar;
	size_t bar_size;
	struct vfio_iommu_spapr_tce_info info;
};

static void side_init(struct side *s)
{
	memset(s, 0, sizeof(*s));
	s->container = -1;
	s->group = -1;
	s->device = -1;
}

static void side_close(struct side *s)
{
	if (s->bar)
		munmap((void *)s->bar, s->bar_size);
	if (s->device >= 0)
		close(s->device);
	if (s->group >= 0)
		close(s->group);
	if (s->container >= 0)
		close(s->container);
	side_init(s);
}

static int open_group(int idx)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", opt_group[idx]);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		say("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		say("group %d not viable (flags %#x)", opt_group[idx], gs.flags);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A v2 container on group @idx; with @dev, also the device with its
 * BAR mapped and bus mastering on. 0, or -1 with the reason said.
 */
static int side_open(struct side *s, int idx, bool dev)
{
	struct vfio_region_info ri = {
		.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_region_info ci = {
		.argsz = sizeof(ci), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t cmd;

	side_init(s);
	s->container = open("/dev/vfio/vfio", O_RDWR);
	if (s->container < 0) {
		say("open /dev/vfio/vfio: %s", strerror(errno));
		goto fail;
	}
	s->group = open_group(idx);
	if (s->group < 0)
		goto fail;
	if (ioctl(s->group, VFIO_GROUP_SET_CONTAINER, &s->container)) {
		say("GROUP_SET_CONTAINER: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(s->container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU)) {
		say("SET_IOMMU(v2): %s", strerror(errno));
		goto fail;
	}
	s->info.argsz = sizeof(s->info);
	if (ioctl(s->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &s->info)) {
		say("GET_INFO: %s", strerror(errno));
		goto fail;
	}
	if (!dev)
		return 0;
	s->device = ioctl(s->group, VFIO_GROUP_GET_DEVICE_FD, opt_dev[idx]);
	if (s->device < 0) {
		say("GET_DEVICE_FD(%s): %s", opt_dev[idx], strerror(errno));
		goto fail;
	}
	if (ioctl(s->device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    ioctl(s->device, VFIO_DEVICE_GET_REGION_INFO, &ci)) {
		say("REGION_INFO: %s", strerror(errno));
		goto fail;
	}
	s->bar_size = ri.size;
	s->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->device, ri.offset);
	if (s->bar == MAP_FAILED) {
		s->bar = NULL;
		say("mmap BAR0: %s", strerror(errno));
		goto fail;
	}
	if (pread(s->device, &cmd, 2, ci.offset + 4) != 2) {
		say("config read: %s", strerror(errno));
		goto fail;
	}
	cmd |= 0x6;	/* memory space, bus master */
	if (pwrite(s->device, &cmd, 2, ci.offset + 4) != 2) {
		say("config write: %s", strerror(errno));
		goto fail;
	}
	if (*(volatile uint32_t *)(s->bar + EDU_IDENT) != EDU_IDENT_RAW) {
		say("%s is not an edu device", opt_dev[idx]);
		goto fail;
	}
	return 0;
fail:
	side_close(s);
	return -1;
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static long map_dma(struct side *s, uint64_t iova, void *va, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = RW,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	return xioctl(s->container, VFIO_IOMMU_MAP_DMA, &m);
}

static long unmap_dma(struct side *s, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	return xioctl(s->container, VFIO_IOMMU_UNMAP_DMA, &u);
}

static long reg_mem(struct side *s, bool reg, void *va, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)va, .size = size,
	};

	return xioctl(s->container, reg ? VFIO_IOMMU_SPAPR_REGISTER_MEMORY :
		      VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r);
}

static long create_win(struct side *s, uint32_t shift, uint64_t size,
		       uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create c = {
		.argsz = sizeof(c), .page_shift = shift,
		.window_size = size, .levels = 1,
	};
	long r = xioctl(s->container, VFIO_IOMMU_SPAPR_TCE_CREATE, &c);

	*start = c.start_addr;
	return r;
}

static long remove_win(struct side *s, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove r = {
		.argsz = sizeof(r), .start_addr = start,
	};

	return xioctl(s->container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &r);
}

static const char *err_name(long r)
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
static uint8_t *buf_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, len);
	return p;
}

/* A bus address 16 MiB into the 32-bit window, below edu's 28-bit mask */
static uint64_t pick_iova(struct side *s)
{
	return (s->info.dma32_window_start + (16u << 20) + 0xffff) & ~0xffffull;
}

/* pins of the whole system, waiting up to 5 s for it to reach @want */
static long pins_settle(long want)
{
	long p = pins_outstanding();
	int i;

	for (i = 0; i < 100 && p != want; i++) {
		usleep(50000);
		p = pins_outstanding();
	}
	return p;
}

/* RAM -> device -> RAM inside [va, va + 2 * XFER) mapped at @iova */
static int roundtrip(struct side *s, uint64_t iova, uint8_t *va,
		     uint32_t seed)
{
	int r;

	fill(va, XFER, seed);
	memset(va + XFER, 0xee, XFER);
	r = edu_dma(s->bar, iova, XFER, false);
	if (!r)
		r = edu_dma(s->bar, iova + XFER, XFER, true);
	if (r) {
		say("DMA through %#llx: %s", (unsigned long long)iova,
		    strerror(-r));
		return FAIL;
	}
	if (!filled(va + XFER, XFER, seed)) {
		say("the device's DMA did not land in the region (word 0 %#x)",
		    *(uint32_t *)(va + XFER));
		return FAIL;
	}
	return PASS;
}

/*
 * Container A maps a region that only container B registered (the
 * registry is the process's); then B goes, by close or by
 * GROUP_UNSET_CONTAINER. A's TCE still points at the region: its pages
 * must stay pinned and charged, and A's device must still reach them,
 * until A lets go of the last mapping.
 */
static int t_other_goes(bool unset)
{
	struct side a, b;
	size_t len = (2 * XFER + pgsz - 1) & ~(pgsz - 1);
	uint8_t *r_buf = buf_alloc(len), *s_buf = buf_alloc(len);
	long kb0, kb1, pins0, pins1, kb, pins, rlen_kb = len / 1024, ret;
	uint64_t iova;
	int rc = PASS;

	side_init(&a);
	side_init(&b);
	CHECK(r_buf && s_buf, "mmap: %s", strerror(errno));
	kb0 = vmlck_kb();
	pins0 = pins_outstanding();
	if (side_open(&a, 0, true) || side_open(&b, 1, false))
		return FAIL;
	ret = reg_mem(&b, true, r_buf, len);
	CHECK(ret == 0, "B: REGISTER R: %s", err_name(ret));
	ret = reg_mem(&a, true, s_buf, len);
	CHECK(ret == 0, "A: REGISTER S: %s", err_name(ret));
	iova = pick_iova(&a);
	ret = map_dma(&a, iova, r_buf, len);
	CHECK(ret == 0, "A: MAP of R (registered by B) at %#llx: %s",
	      (unsigned long long)iova, err_name(ret));
	if (roundtrip(&a, iova, r_buf, 0x0a11) != PASS) {
		rc = FAIL;
		goto out;
	}
	kb1 = vmlck_kb();
	pins1 = pins_outstanding();
	diag("before B goes: VmLck %ld kB (start %ld), pins %ld (start %ld)",
	     kb1, kb0, pins1, pins0);

	if (unset) {
		ret = xioctl(b.group, VFIO_GROUP_UNSET_CONTAINER, NULL);
		CHECK(ret == 0, "B: GROUP_UNSET_CONTAINER: %s", err_name(ret));
	}
	side_close(&b);
	kb = vmlck_kb();
	pins = pins_settle(pins1);
	diag("after B %s: VmLck %ld kB, pins %ld", unset ? "unset" : "closed",
	     kb, pins);
	CHECK(pins == pins1,
	      "B's %s unpinned %ld pages of R while A's TCE maps them",
	      unset ? "GROUP_UNSET_CONTAINER" : "close", pins1 - pins);
	CHECK(kb == kb1, "B's %s took R's %ld kB off VmLck while A maps it (VmLck %ld, was %ld)",
	      unset ? "GROUP_UNSET_CONTAINER" : "close", kb1 - kb, kb, kb1);
	if (roundtrip(&a, iova, r_buf, 0x0a12) != PASS) {
		rc = FAIL;
		goto out;
	}
	/* A never registered R: it has nothing of R to unregister */
	ret = reg_mem(&a, false, r_buf, len);
	CHECK(ret == -ENOENT, "A: UNREGISTER of R: %s, want ENOENT",
	      err_name(ret));
	/* the last mapping of R goes: so does R */
	ret = unmap_dma(&a, iova, len);
	CHECK(ret == 0, "A: UNMAP of R: %s", err_name(ret));
	kb = vmlck_kb();
	pins = pins_settle(pins1 - (long)(len / pgsz));
	CHECK(kb == kb1 - rlen_kb && pins == pins1 - (long)(len / pgsz),
	      "after A's UNMAP of R: VmLck %ld kB (want %ld), pins %ld (want %ld)",
	      kb, kb1 - rlen_kb, pins, pins1 - (long)(len / pgsz));
	ret = reg_mem(&a, false, s_buf, len);
	CHECK(ret == 0, "A: UNREGISTER S: %s", err_name(ret));
	side_close(&a);
	kb = vmlck_kb();
	pins = pins_settle(pins0);
	CHECK(kb == kb0 && pins == pins0,
	      "everything closed: VmLck %ld kB (start %ld), pins %ld (start %ld)",
	      kb, kb0, pins, pins0);
out:
	side_close(&b);
	side_close(&a);
	return rc;
}

/*
 * The region B left behind, mapped by A only: it takes no new TCE
 * until a container registers it again, and is then an ordinary
 * region again (UNREGISTER -EBUSY while mapped, 0 once unmapped).
 */
static int t_orphan(void)
{
	struct side a, b;
	size_t len = (2 * XFER + pgsz - 1) & ~(pgsz - 1);
	uint8_t *r_buf = buf_alloc(len), *s_buf = buf_alloc(len);
	long kb0, kb1, ret;
	uint64_t iova, iova2;
	int rc = PASS;

	side_init(&a);
	side_init(&b);
	CHECK(r_buf && s_buf, "mmap: %s", strerror(errno));
	kb0 = vmlck_kb();
	if (side_open(&a, 0, true) || side_open(&b, 1, false))
		return FAIL;
	ret = reg_mem(&b, true, r_buf, len);
	CHECK(ret == 0, "B: REGISTER R: %s", err_name(ret));
	ret = reg_mem(&a, true, s_buf, len);
	CHECK(ret == 0, "A: REGISTER S: %s", err_name(ret));
	iova = pick_iova(&a);
	iova2 = iova + (1u << 20);
	ret = map_dma(&a, iova, r_buf, len);
	CHECK(ret == 0, "A: MAP of R: %s", err_name(ret));
	side_close(&b);
	ret = map_dma(&a, iova2, r_buf, len);
	CHECK(ret == -EINVAL, "A: second MAP of R, registered by no container: %s, want EINVAL",
	      err_name(ret));
	ret = reg_mem(&a, true, r_buf, len);
	CHECK(ret == 0, "A: REGISTER of R (adopts it): %s", err_name(ret));
	kb1 = vmlck_kb();
	ret = map_dma(&a, iova2, r_buf, len);
	CHECK(ret == 0, "A: MAP of R once registered again: %s", err_name(ret));
	if (roundtrip(&a, iova2, r_buf, 0x0a13) != PASS) {
		rc = FAIL;
		goto out;
	}
	ret = reg_mem(&a, false, r_buf, len);
	CHECK(ret == -EBUSY, "A: UNREGISTER of mapped R: %s, want EBUSY",
	      err_name(ret));
	ret = unmap_dma(&a, iova, len);
	CHECK(ret == 0, "A: UNMAP: %s", err_name(ret));
	ret = unmap_dma(&a, iova2, len);
	CHECK(ret == 0, "A: UNMAP: %s", err_name(ret));
	ret = reg_mem(&a, false, r_buf, len);
	CHECK(ret == 0, "A: UNREGISTER of R once unmapped: %s", err_name(ret));
	CHECK(vmlck_kb() == kb1 - (long)(len / 1024),
	      "UNREGISTER of R: VmLck %ld kB, want %ld", vmlck_kb(),
	      kb1 - (long)(len / 1024));
	ret = reg_mem(&a, false, s_buf, len);
	CHECK(ret == 0, "A: UNREGISTER S: %s", err_name(ret));
	side_close(&a);
	CHECK(vmlck_kb() == kb0, "everything closed: VmLck %ld kB, start %ld",
	      vmlck_kb(), kb0);
out:
	side_close(&b);
	side_close(&a);
	return rc;
}

static int t_close_other(void) { return t_other_goes(false); }
static int t_unset_other(void) { return t_other_goes(true); }

/*
 * REGISTER, CREATE, MAP, REMOVE, UNREGISTER: REMOVE must clear the
 * window's TCEs, so the region is no longer mapped and unregisters.
 * Over a fixed window (no CREATE/REMOVE) the mapping goes into the
 * fixed window, REMOVE is refused and UNMAP clears it.
 */
static int t_remove(void)
{
	struct side a;
	size_t len = (2 * XFER + pgsz - 1) & ~(pgsz - 1);
	uint8_t *buf = buf_alloc(len);
	uint64_t start = 0, iova;
	long kb0, kb1, ret;
	int rc = PASS;

	CHECK(buf, "mmap: %s", strerror(errno));
	if (side_open(&a, 0, false))
		return FAIL;
	ret = reg_mem(&a, true, buf, len);
	CHECK(ret == 0, "REGISTER: %s", err_name(ret));
	if (opt_fixed) {
		iova = pick_iova(&a);
		ret = map_dma(&a, iova, buf, len);
		CHECK(ret == 0, "MAP into the fixed window: %s", err_name(ret));
		ret = remove_win(&a, a.info.dma32_window_start);
		CHECK(ret == -EPERM, "REMOVE of the fixed window: %s, want EPERM",
		      err_name(ret));
		ret = reg_mem(&a, false, buf, len);
		CHECK(ret == -EBUSY, "UNREGISTER while mapped: %s, want EBUSY",
		      err_name(ret));
		ret = unmap_dma(&a, iova, len);
		CHECK(ret == 0, "UNMAP: %s", err_name(ret));
		diag("fixed window: no CREATE/REMOVE here; UNMAP cleared it");
	} else {
		kb0 = vmlck_kb();
		/* 4K TCEs: any memory backs them, on either page size */
		ret = create_win(&a, 12, 1ull << 30, &start);
		CHECK(ret == 0, "CREATE 4K pages, 1 GiB: %s", err_name(ret));
		kb1 = vmlck_kb();
		diag("CREATE: window at %#llx, VmLck %ld -> %ld kB",
		     (unsigned long long)start, kb0, kb1);
		iova = start + (1ull << 29);
		ret = map_dma(&a, iova, buf, len);
		CHECK(ret == 0, "MAP at %#llx: %s", (unsigned long long)iova,
		      err_name(ret));
		ret = remove_win(&a, start);
		CHECK(ret == 0, "REMOVE with a live mapping: %s", err_name(ret));
	}
	ret = reg_mem(&a, false, buf, len);
	CHECK(ret == 0, "UNREGISTER after the window went: %s, want 0 %s",
	      err_name(ret), "(the region still counts a TCE)");
out:
	side_close(&a);
	return rc;
}

/*
 * GET_INFO reads the container's first group. One thread asks for it
 * without pause while the main thread takes either group out of the
 * container and puts it back, so the first group is freed again and
 * again under the reader's feet.
 */
struct racer {
	int container;
	volatile bool stop;
	long calls, bad;
	struct vfio_iommu_spapr_tce_info first, odd;
	long err;
};

static void *get_info_loop(void *arg)
{
	struct racer *rc = arg;

	while (!rc->stop) {
		struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
		long r = xioctl(rc->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO,
				&info);

		rc->calls++;
		if (r || info.dma32_window_size != rc->first.dma32_window_size ||
		    info.dma32_window_start != rc->first.dma32_window_start ||
		    info.flags != rc->first.flags) {
			if (!rc->bad++) {
				rc->odd = info;
				rc->err = r;
			}
		}
	}
	return NULL;
}

static int t_get_info_race(void)
{
	struct racer rcr = { 0 };
	struct side a;
	pthread_t th;
	int gb = -1, rc = PASS, cycles = 0;
	long t0, ret;
	bool started = false;

	if (opt_fixed || opt_one_group) {
		say("SKIP %s %s %s", "pseries: a window is its PE's own",
		    "(fixed, or made by the hypervisor for one PE), so no second group can join",
		    "the container to be detached (vfio-multigroup asserts the -EBUSY)");
		return SKIP;
	}
	if (side_open(&a, 0, false))
		return FAIL;
	gb = open_group(1);
	CHECK(gb >= 0, "%s", why);
	ret = xioctl(gb, VFIO_GROUP_SET_CONTAINER, &a.container);
	CHECK(ret == 0, "second group into the container: %s", err_name(ret));
	rcr.container = a.container;
	rcr.first = a.info;
	CHECK(!pthread_create(&th, NULL, get_info_loop, &rcr), "pthread_create");
	started = true;
	t0 = now_ms();
	while (now_ms() - t0 < RACE_MS) {
		/* the group taken out is the container's first each time */
		ret = xioctl(a.group, VFIO_GROUP_UNSET_CONTAINER, NULL);
		if (!ret)
			ret = xioctl(a.group, VFIO_GROUP_SET_CONTAINER, &a.container);
		if (!ret)
			ret = xioctl(gb, VFIO_GROUP_UNSET_CONTAINER, NULL);
		if (!ret)
			ret = xioctl(gb, VFIO_GROUP_SET_CONTAINER, &a.container);
		CHECK(ret == 0, "detach/attach cycle %d: %s", cycles,
		      err_name(ret));
		cycles++;
	}
out:
	if (started) {
		rcr.stop = true;
		pthread_join(th, NULL);
		diag("%d detach/attach cycles, %ld GET_INFO calls, %ld odd",
		     cycles, rcr.calls, rcr.bad);
		if (rc == PASS && rcr.bad) {
			say("%ld of %ld GET_INFO calls wrong, first: %s, %#llx+%#llx flags %#x",
			    rcr.bad, rcr.calls, err_name(rcr.err),
			    (unsigned long long)rcr.odd.dma32_window_start,
			    (unsigned long long)rcr.odd.dma32_window_size,
			    rcr.odd.flags);
			rc = FAIL;
		}
		if (rc == PASS && (!cycles || !rcr.calls)) {
			say("no race ran: %d cycles, %ld calls", cycles, rcr.calls);
			rc = FAIL;
		}
	}
	if (gb >= 0)
		close(gb);
	side_close(&a);
	return rc;
}

struct tcase {
	const char *name;
	int (*fn)(void);
};

static const struct tcase cases[] = {
	{ "close_of_other_container_keeps_mapped_region", t_close_other },
	{ "unset_of_other_container_keeps_mapped_region", t_unset_other },
	{ "orphan_refuses_new_tce_until_registered_again", t_orphan },
	{ "remove_window_with_mapping_then_unregister_succeeds", t_remove },
	{ "get_info_races_group_detach", t_get_info_race },
};

#define NCASES ARRAY_SIZE(cases)

/* one case in a child: whatever it leaves open goes with the child */
static int run_case(const struct tcase *c)
{
	int pfd[2], st = 0, rc;
	long pins0 = pins_outstanding(), pins1;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd)) {
		say("pipe: %s", strerror(errno));
		return FAIL;
	}
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		why[0] = 0;
		rc = c->fn();
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
	pins1 = pins_settle(pins0);
	if (rc != FAIL && pins1 != pins0) {
		say("%ld pages still pinned after the case's process exited",
		    pins1 - pins0);
		return FAIL;
	}
	return rc;
}

/* --hold: a v2 container of ours on group A until stdin closes */
static int hold(void)
{
	struct side a;
	char c;

	if (side_open(&a, 0, false)) {
		fprintf(stderr, "vfio_owner: %s: %s\n", __func__, why);
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	side_close(&a);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: vfio_owner --group-a N --dev-a BDF --group-b M --dev-b BDF [--fixed] [--one-group] [--case REGEX] [--list]\n"
		"       vfio_owner --hold --group-a N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "group-a", 1, NULL, 'g' }, { "dev-a", 1, NULL, 'd' },
		{ "group-b", 1, NULL, 'G' }, { "dev-b", 1, NULL, 'D' },
		{ "case", 1, NULL, 'c' }, { "list", 0, NULL, 'l' },
		{ "fixed", 0, NULL, 'f' }, { "hold", 0, NULL, 'h' },
		{ "one-group", 0, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pat = NULL, *reason;
	bool list = false, do_hold = false;
	int o, i, n = 0, rc;
	long kb0, pins0, kb, pins;
	regex_t re;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'g':
			opt_group[0] = atoi(optarg);
			break;
		case 'd':
			opt_dev[0] = optarg;
			break;
		case 'G':
			opt_group[1] = atoi(optarg);
			break;
		case 'D':
			opt_dev[1] = optarg;
			break;
		case 'c':
			pat = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'f':
			opt_fixed = true;
			break;
		case 'h':
			do_hold = true;
			break;
		case 'o':
			opt_one_group = true;
			break;
		default:
			usage();
		}
	}
	pgsz = sysconf(_SC_PAGESIZE);
	if (do_hold)
		return opt_group[0] < 0 ? (usage(), 2) : hold();
	if (!list && (opt_group[0] < 0 || opt_group[1] < 0 || !opt_dev[0] ||
		      !opt_dev[1]))
		usage();
	if (pat && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB))
		usage();
	for (i = 0; i < (int)NCASES; i++)
		if (!pat || !regexec(&re, cases[i].name, 0, NULL, 0))
			n++;
	if (list) {
		for (i = 0; i < (int)NCASES; i++)
			if (!pat || !regexec(&re, cases[i].name, 0, NULL, 0))
				printf("%s\n", cases[i].name);
		return 0;
	}
	ksft_print_header();
	ksft_set_plan(n + 1);
	diag("A: group %d %s, B: group %d %s, page size %ld%s", opt_group[0],
	     opt_dev[0], opt_group[1], opt_dev[1], pgsz,
	     opt_fixed ? ", fixed windows" : "");
	kb0 = vmlck_kb();
	pins0 = pins_outstanding();
	for (i = 0; i < (int)NCASES; i++) {
		long t0;

		if (pat && regexec(&re, cases[i].name, 0, NULL, 0))
			continue;
		why[0] = 0;
		t0 = now_ms();
		rc = run_case(&cases[i]);
		diag("%s took %ld ms", cases[i].name, now_ms() - t0);
		reason = strncmp(why, "SKIP ", 5) ? why : why + 5;
		if (rc == SKIP) {
			ksft_test_result_code(KSFT_SKIP, cases[i].name, "%s", reason);
		} else if (rc == PASS) {
			ksft_test_result_code(KSFT_PASS, cases[i].name, NULL);
		} else {
			ksft_test_result_code(KSFT_FAIL, cases[i].name, NULL);
			ksft_print_msg("%s\n", why);
		}
	}
	kb = vmlck_kb();
	pins = pins_settle(pins0);
	ksft_test_result_code(kb == kb0 && pins == pins0 ? KSFT_PASS : KSFT_FAIL,
			      "locked_vm_and_pins_back_to_start", NULL);
	if (kb != kb0 || pins != pins0)
		ksft_print_msg("VmLck %ld kB (start %ld), pins %ld (start %ld)\n",
			       kb, kb0, pins, pins0);
	/* exits 0 when every planned case passed or skipped, else 1 */
	ksft_finished();
}
