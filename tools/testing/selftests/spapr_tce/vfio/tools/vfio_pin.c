// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_pin: what a VFIO sPAPR TCE container pins, charges and walks, with
 * QEMU's edu device (1234:11e8) bound to vfio-pci; one TAP line per case.
 *
 *   vfio_pin --group N --dev DDDD:BB:DD.F [--case REGEX] [--list]
 *
 * Cases (each in a process of its own, which must leave nothing pinned):
 *  - v1 charges locked_vm per distinct page its TCEs pin: 4K TCEs into
 *    different 64K pages each cost a page, TCEs sharing a page cost it
 *    once, and RLIMIT_MEMLOCK stops the map at the page that exceeds it;
 *  - v2 memory backed by transparent huge pages moved off their
 *    alignment by mremap() backs no TCE larger than a base page, and DMA
 *    through the mapping lands exactly at the user address;
 *  - a MAP over a window of 2^32 entries that holds one live TCE returns
 *    in bounded time (no walk of the whole window);
 *  - a v1 container's end drops every record it kept, however often it
 *    reschedules on the way (no kernel warning);
 *  - v2 refuses to register user address 0 (its records' "no TCE");
 *  - a v1 UNMAP unpins no page while a TCE it cleared may still be
 *    cached by the PHB (function tracer: unpins only after the
 *    invalidation that follows the exchange).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
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
#include "lab_trace.h"

enum { PASS, FAIL, SKIP };

#define XFER	4000u
#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define TCE4K	4096ull		/* v1 windows: the platform's 4K TCEs */

#define CHECK(cond, ...) do {				\
	if (!(cond)) {					\
		say(__VA_ARGS__);			\
		rc = FAIL;				\
		goto out;				\
	}						\
} while (0)

static int opt_group = -1;
static const char *opt_dev;
static long pgsz;
static bool powernv;

struct env {
	int container, group, device;
	volatile uint8_t *bar;
	size_t bar_size;
	struct vfio_iommu_spapr_tce_info info;
};

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
	e->container = -1;
	e->group = -1;
	e->device = -1;
	e->bar = NULL;
}

/* container of @type with the group in it, the device's BAR 0 mapped */
static int env_open(struct env *e, int type)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char path[64];
	uint16_t cmd;

	memset(e, 0, sizeof(*e));
	e->device = -1;
	e->container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%d", opt_group);
	e->group = open(path, O_RDWR);
	if (e->container < 0 || e->group < 0) {
		say("open container/%s: %s", path, strerror(errno));
		goto fail;
	}
	e->info.argsz = sizeof(e->info);
	if (ioctl(e->group, VFIO_GROUP_SET_CONTAINER, &e->container) ||
	    ioctl(e->container, VFIO_SET_IOMMU, type) ||
	    ioctl(e->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &e->info)) {
		say("container setup: %s", strerror(errno));
		goto fail;
	}
	e->device = ioctl(e->group, VFIO_GROUP_GET_DEVICE_FD, opt_dev);
	if (e->device < 0) {
		say("GET_DEVICE_FD(%s): %s", opt_dev, strerror(errno));
		goto fail;
	}
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(e->device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		say("BAR0 info: %s", strerror(errno));
		goto fail;
	}
	e->bar_size = ri.size;
	e->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      e->device, ri.offset);
	if (e->bar == MAP_FAILED) {
		e->bar = NULL;
		say("mmap BAR0: %s", strerror(errno));
		goto fail;
	}
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(e->device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    pread(e->device, &cmd, 2, ri.offset + 4) != 2) {
		say("config space: %s", strerror(errno));
		goto fail;
	}
	cmd |= 0x6;	/* memory space, bus master */
	if (pwrite(e->device, &cmd, 2, ri.offset + 4) != 2 ||
	    *(volatile uint32_t *)e->bar != EDU_IDENT_RAW) {
		say("edu does not answer");
		goto fail;
	}
	return 0;
fail:
	env_close(e);
	return -1;
}

static long map_dma(struct env *e, uint64_t iova, void *va, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = RW,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	return xioctl(e->container, VFIO_IOMMU_MAP_DMA, &m);
}

static long unmap_dma(struct env *e, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	return xioctl(e->container, VFIO_IOMMU_UNMAP_DMA, &u);
}

static long reg_mem(struct env *e, void *va, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)va, .size = size,
	};

	return xioctl(e->container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &r);
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

static const char *err(long r)
{
	return r ? strerror(-r) : "0";
}

/* account_locked_vm() ignores the limit with CAP_IPC_LOCK: drop it */
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

static void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, len);
	return p;
}

/* ------------------------------------------------------------------ */
/* v1: locked_vm follows the distinct pages the TCEs pin */

/*
 * An enabled v1 container whose default window exists (the first MAP of
 * a dynamic container makes it and charges its table: not under test).
 */
static int v1_open(struct env *e, uint8_t *page, uint64_t *iova)
{
	long r;

	if (env_open(e, VFIO_SPAPR_TCE_IOMMU))
		return -1;
	r = xioctl(e->container, VFIO_IOMMU_ENABLE, NULL);
	*iova = e->info.dma32_window_start + (16ull << 20);
	if (!r)
		r = map_dma(e, *iova, page, TCE4K);
	if (!r)
		r = unmap_dma(e, *iova, TCE4K);
	if (r) {
		say("ENABLE/first MAP: %s", err(r));
		env_close(e);
		return -1;
	}
	return 0;
}

/*
 * RLIMIT_MEMLOCK at VmLck + 64K: single-TCE maps, each into a page of
 * its own, succeed while their pages fit (64K / page size of them) and
 * the next one fails ENOMEM; after every map VmLck is exactly the pages
 * pinned, never less than what the FOLL_PIN counters say is pinned.
 */
static int t_v1_memlock_distinct_pages(void)
{
	const long limit = 64 * 1024;
	long kb0, pins0, kb, pins, r = 0, want_maps = limit / pgsz;
	struct rlimit old, lim;
	uint8_t *buf = NULL;
	int i, maps = 0, rc = PASS;
	uint64_t iova;
	struct env e = { .container = -1, .group = -1, .device = -1 };

	CHECK((buf = anon(20 * pgsz)), "buffer: %s", strerror(errno));
	CHECK(!v1_open(&e, buf, &iova), "%s", why);
	kb0 = vmlck_kb();
	pins0 = pins_outstanding();
	CHECK(!getrlimit(RLIMIT_MEMLOCK, &old), "getrlimit");
	lim = old;
	lim.rlim_cur = kb0 * 1024 + limit;
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < lim.rlim_cur)
		lim.rlim_max = lim.rlim_cur;
	CHECK(!setrlimit(RLIMIT_MEMLOCK, &lim) && !cap_ipc_lock(false),
	      "setrlimit/capset: %s", strerror(errno));
	for (i = 0; i <= 16; i++) {
		/* one 4K TCE into page i: the 17th is over the limit anyway */
		r = map_dma(&e, iova + i * TCE4K, buf + i * pgsz, TCE4K);
		kb = vmlck_kb();
		pins = pins_outstanding() - pins0;
		diag("map %d into page %d: %s, VmLck +%ld kB, %ld pages pinned",
		     i + 1, i, err(r), kb - kb0, pins);
		if (r)
			break;
		maps++;
		if (kb - kb0 != maps * pgsz / 1024 ||
		    (kb - kb0) * 1024 < pins * pgsz) {
			say("%d maps, a page each: VmLck +%ld kB, want %ld; %ld kB pinned",
			    maps, kb - kb0, maps * pgsz / 1024, pins * pgsz / 1024);
			rc = FAIL;
			break;
		}
	}
	cap_ipc_lock(true);
	setrlimit(RLIMIT_MEMLOCK, &old);
	if (rc != PASS)
		goto out;
	CHECK(maps == want_maps && r == -ENOMEM,
	      "%d maps before %s, want %ld before ENOMEM (limit 64K, %ld-byte pages)",
	      maps, r ? err(r) : "the end", want_maps, pgsz);
	CHECK(pins_outstanding() - pins0 == maps,
	      "%ld pages pinned after %d maps and a refused one",
	      pins_outstanding() - pins0, maps);
	r = unmap_dma(&e, iova, 17 * TCE4K);
	CHECK(!r && vmlck_kb() == kb0 && pins_outstanding() == pins0,
	      "UNMAP: %s, VmLck %ld kB (was %ld), %ld pinned", err(r),
	      vmlck_kb(), kb0, pins_outstanding() - pins0);
out:
	env_close(&e);
	if (buf)
		munmap(buf, 20 * pgsz);
	return rc;
}

/*
 * Every 4K TCE of one page mapped by its own MAP: the page is charged
 * once; unmapping all but one keeps it charged, the last one gives it
 * back; the same page mapped by TCEs of two pages charges two.
 */
static int t_v1_one_page_charged_once(void)
{
	long kbs = vmlck_kb(), kb0, kb, r, n = pgsz / TCE4K, i;
	uint8_t *buf = NULL;
	int rc = PASS;
	uint64_t iova;
	struct env e = { .container = -1, .group = -1, .device = -1 };

	CHECK((buf = anon(4 * pgsz)), "buffer: %s", strerror(errno));
	CHECK(!v1_open(&e, buf, &iova), "%s", why);
	kb0 = vmlck_kb();
	for (i = 0; i < n; i++) {
		r = map_dma(&e, iova + i * TCE4K, buf + pgsz + i * TCE4K, TCE4K);
		CHECK(!r, "MAP of 4K piece %ld of the page: %s", i, err(r));
	}
	kb = vmlck_kb();
	diag("%ld TCEs into one %ld-byte page: VmLck +%ld kB", n, pgsz,
	     kb - kb0);
	CHECK(kb - kb0 == pgsz / 1024, "%ld TCEs into one page charged %ld kB, want %ld",
	      n, kb - kb0, pgsz / 1024);
	/* a second page, also mapped a second time elsewhere: one more */
	r = map_dma(&e, iova + n * TCE4K, buf + 2 * pgsz, TCE4K);
	if (!r)
		r = map_dma(&e, iova + (n + 1) * TCE4K, buf + 2 * pgsz, TCE4K);
	CHECK(!r, "MAP of the second page twice: %s", err(r));
	CHECK(vmlck_kb() - kb0 == 2 * pgsz / 1024,
	      "two pages, one of them mapped twice: +%ld kB, want %ld",
	      vmlck_kb() - kb0, 2 * pgsz / 1024);
	r = unmap_dma(&e, iova + n * TCE4K, TCE4K);
	CHECK(!r && vmlck_kb() - kb0 == 2 * pgsz / 1024,
	      "after unmapping one of two TCEs of the second page: %s, +%ld kB, want %ld",
	      err(r), vmlck_kb() - kb0, 2 * pgsz / 1024);
	/* (a 4K page has one TCE: nothing to keep it with) */
	r = n > 1 ? unmap_dma(&e, iova, (n - 1) * TCE4K) : 0;
	CHECK(!r && vmlck_kb() - kb0 == 2 * pgsz / 1024,
	      "after unmapping all but one TCE of the first page: %s, +%ld kB, want %ld",
	      err(r), vmlck_kb() - kb0, 2 * pgsz / 1024);
	r = unmap_dma(&e, iova, (n + 2) * TCE4K);
	CHECK(!r && vmlck_kb() == kb0, "after unmapping all: %s, VmLck %ld kB, was %ld",
	      err(r), vmlck_kb(), kb0);
	/* close gives back what live TCEs hold */
	r = map_dma(&e, iova, buf + pgsz, TCE4K);
	CHECK(!r && vmlck_kb() - kb0 == pgsz / 1024, "MAP again: %s, +%ld kB",
	      err(r), vmlck_kb() - kb0);
	env_close(&e);
	CHECK(vmlck_kb() == kbs,
	      "after close with a live TCE: VmLck %ld kB, was %ld before the container",
	      vmlck_kb(), kbs);
out:
	env_close(&e);
	if (buf)
		munmap(buf, 4 * pgsz);
	return rc;
}

/*
 * One MAP of two pages' TCEs stopped by a live TCE in its second page
 * (the live one into a third page): the TCEs it set are cleared and the
 * pages it counted ahead given back, so VmLck is the live TCE's page and
 * the pins its own; with that TCE gone, nothing; then the same MAP
 * passes and charges exactly its two pages, and its UNMAP all of them.
 */
static int t_v1_map_stopped_in_a_page_gives_back(void)
{
	long n = pgsz / TCE4K, live = n + n / 2, kb0, pins0, r;
	uint8_t *buf = NULL;
	int rc = PASS;
	uint64_t iova;
	struct env e = { .container = -1, .group = -1, .device = -1 };

	CHECK((buf = anon(4 * pgsz)), "buffer: %s", strerror(errno));
	CHECK(!v1_open(&e, buf, &iova), "%s", why);
	kb0 = vmlck_kb();
	pins0 = pins_outstanding();
	r = map_dma(&e, iova + live * TCE4K, buf + 3 * pgsz, TCE4K);
	CHECK(!r, "MAP of the live TCE %ld: %s", live, err(r));
	r = map_dma(&e, iova, buf + pgsz, 2 * pgsz);
	diag("MAP of %ld TCEs over live TCE %ld: %s, VmLck +%ld kB, %ld pinned",
	     2 * n, live, err(r), vmlck_kb() - kb0, pins_outstanding() - pins0);
	CHECK(r == -EBUSY, "MAP over a live TCE: %s, want EBUSY", err(r));
	CHECK(vmlck_kb() - kb0 == pgsz / 1024 && pins_outstanding() - pins0 == 1,
	      "after the refused MAP: VmLck +%ld kB, %ld pinned; want +%ld kB, 1",
	      vmlck_kb() - kb0, pins_outstanding() - pins0, pgsz / 1024);
	r = unmap_dma(&e, iova + live * TCE4K, TCE4K);
	CHECK(!r && vmlck_kb() == kb0 && pins_outstanding() == pins0,
	      "UNMAP of the live TCE: %s, VmLck +%ld kB, %ld pinned", err(r),
	      vmlck_kb() - kb0, pins_outstanding() - pins0);
	r = map_dma(&e, iova, buf + pgsz, 2 * pgsz);
	CHECK(!r && vmlck_kb() - kb0 == 2 * pgsz / 1024 &&
	      pins_outstanding() - pins0 == 2 * n,
	      "MAP of two pages: %s, VmLck +%ld kB, %ld pinned; want +%ld kB, %ld",
	      err(r), vmlck_kb() - kb0, pins_outstanding() - pins0,
	      2 * pgsz / 1024, 2 * n);
	r = unmap_dma(&e, iova, 2 * pgsz);
	CHECK(!r && vmlck_kb() == kb0 && pins_outstanding() == pins0,
	      "UNMAP of two pages: %s, VmLck +%ld kB, %ld pinned", err(r),
	      vmlck_kb() - kb0, pins_outstanding() - pins0);
out:
	env_close(&e);
	if (buf)
		munmap(buf, 4 * pgsz);
	return rc;
}

/* ------------------------------------------------------------------ */
/* v1: a page is unpinned only once no TCE the PHB may cache points at it */

/*
 * The UNMAP of 4 MiB of live v1 TCEs, under the function tracer (this
 * process only): after a TCE is exchanged out of the table, no page is
 * unpinned before the next iommu_tce_kill(): until that invalidation the
 * PHB may still translate through the old TCE, into a page the user may
 * free and the host reuse as soon as it is unpinned.
 */
static int t_v1_unpin_after_kill(void)
{
	const uint64_t size = 4ull << 20;
	struct tce_order o;
	uint8_t *buf = NULL;
	char pid[16];
	int rc = PASS;
	uint64_t iova;
	long r;
	struct env e = { .container = -1, .group = -1, .device = -1 };

	if (access(TRACEFS "set_ftrace_filter", W_OK)) {
		say("SKIP no function tracer (%s)", strerror(errno));
		return SKIP;
	}
	CHECK((buf = anon(size + pgsz)), "buffer: %s", strerror(errno));
	CHECK(!v1_open(&e, buf, &iova), "%s", why);
	r = map_dma(&e, iova, buf, size);
	CHECK(!r, "MAP of 4 MiB: %s", err(r));
	snprintf(pid, sizeof(pid), "%d", getpid());
	tracer_off();
	CHECK(!tce_order_start(pid), "function tracer setup: %s", strerror(errno));
	r = unmap_dma(&e, iova, size);
	tracefs_write("tracing_on", "0");
	CHECK(!r, "UNMAP of 4 MiB: %s", err(r));
	CHECK(!tce_order_read(&o), "trace: %s", strerror(errno));
	diag("UNMAP of %llu TCEs: %ld exchanges, %ld invalidations, %ld unpins, %ld of them early",
	     (unsigned long long)(size / TCE4K), o.xchg, o.kills, o.unpins,
	     o.early);
	CHECK(!o.lost, "the trace buffer dropped events");
	CHECK(o.xchg >= (long)(size / TCE4K) && o.unpins >= 1 && o.kills >= 1,
	      "the tracer saw %ld exchanges, %ld unpins, %ld invalidations: want %llu, some, some",
	      o.xchg, o.unpins, o.kills, (unsigned long long)(size / TCE4K));
	CHECK(!o.early, "%ld of %ld unpins came while a cleared TCE awaited its invalidation",
	      o.early, o.unpins);
out:
	tracer_off();
	env_close(&e);
	if (buf)
		munmap(buf, size + pgsz);
	return rc;
}

/* ------------------------------------------------------------------ */
/* v1: a container's end drops all of its records, however preempted */

#define PURGE_ROUNDS	20
#define PURGE_MAPS	120	/* x 256 4K TCEs: below the unmap's own purge */
#define MIB		(1ull << 20)

/* the kernel log from here on: /dev/kmsg at its end */
static int kmsg_from_now(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* the first "WARNING:" or "BUG:" record since kmsg_from_now(), into @out */
static bool kmsg_trouble(int fd, char *out, size_t len)
{
	char rec[1024];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return false;
		rec[n] = 0;
		if (strstr(rec, "WARNING:") || strstr(rec, "BUG:")) {
			char *msg = strchr(rec, ';');

			msg = msg ? msg + 1 : rec;
			msg[strcspn(msg, "\n")] = 0;
			snprintf(out, len, "%.200s", msg);
			return true;
		}
	}
}

/* a child at SCHED_FIFO waking every 20 us: need_resched() often true */
static pid_t waker_start(void)
{
	struct sched_param sp = { .sched_priority = 10 };
	struct timespec ts = { 0, 20000 };
	pid_t pid = fork();

	if (pid)
		return pid;
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		_exit(1);
	for (;;)
		nanosleep(&ts, NULL);
}

/*
 * Found by vfio-fuzz (pseries, 6.12): a v1 container's end drops its
 * stale records in one walk that rescheduled with xas_pause(); a pause
 * right after the store that emptied a leaf resumes past the next
 * leaf's first entries (lib/xarray.c before upstream's "Fix xas_pause
 * for large multi-index entries"), and vs_release() warned that records
 * were left. Each round leaves ~30,000 stale records, closes, and must
 * leave no warning, with a waker making every step a reschedule point.
 */
static int t_v1_release_drops_all_records(void)
{
	char bad[256], path[64];
	int kfd = kmsg_from_now(), r, k, rc = PASS;
	uint8_t *buf = anon(MIB);
	pid_t waker = -1;
	long maps = PURGE_MAPS, ret;

	CHECK(kfd >= 0 && buf, "/dev/kmsg or buffer: %s", strerror(errno));
	waker = waker_start();
	CHECK(waker > 0, "fork: %s", strerror(errno));
	snprintf(path, sizeof(path), "/dev/vfio/%d", opt_group);
	for (r = 0; r < PURGE_ROUNDS; r++) {
		struct env e = { .container = open("/dev/vfio/vfio", O_RDWR),
				 .group = open(path, O_RDWR), .device = -1 };

		e.info.argsz = sizeof(e.info);
		ret = e.container < 0 || e.group < 0 ||
		      ioctl(e.group, VFIO_GROUP_SET_CONTAINER, &e.container) ||
		      ioctl(e.container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU) ||
		      ioctl(e.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &e.info) ||
		      ioctl(e.container, VFIO_IOMMU_ENABLE) ? -errno : 0;
		if (!ret && e.info.dma32_window_size / MIB - 1 < (uint64_t)maps)
			maps = e.info.dma32_window_size / MIB - 1;
		for (k = 0; !ret && k < maps; k++) {
			uint64_t iova = e.info.dma32_window_start + k * MIB;

			ret = map_dma(&e, iova, buf, MIB) ?: unmap_dma(&e, iova, MIB);
		}
		env_close(&e);
		CHECK(!ret, "round %d: setup or MAP/UNMAP %d: %s", r, k, err(ret));
		CHECK(!kmsg_trouble(kfd, bad, sizeof(bad)),
		      "round %d (%ld MAP+UNMAP of 1 MiB, then close): %s", r, maps, bad);
	}
	diag("%d rounds of %ld MAP+UNMAP of 1 MiB and a close: no warning",
	     PURGE_ROUNDS, maps);
out:
	if (waker > 0) {
		kill(waker, SIGKILL);
		waitpid(waker, NULL, 0);
	}
	if (kfd >= 0)
		close(kfd);
	if (buf)
		munmap(buf, MIB);
	return rc;
}

/* ------------------------------------------------------------------ */
/* v2: user address 0 is refused */

static long sysfs_long(const char *path);

static long unreg_mem(struct env *e, void *va, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)va, .size = size,
	};

	return xioctl(e->container, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r);
}

/*
 * A v2 TCE's record is the user address it maps, 0 meaning none: a TCE
 * mapping address 0 (root may map it, with vm.mmap_min_addr 0) would
 * look empty to every clear, stay in the hardware and keep its region
 * counted for good. REGISTER of a range at 0 is refused, EINVAL.
 */
static int t_v2_address_zero_refused(void)
{
	const char *knob = "/proc/sys/vm/mmap_min_addr";
	struct env e = { .container = -1, .group = -1, .device = -1 };
	long min_addr = sysfs_long(knob), r, m = -1, u = -1, un = -1;
	uint8_t *zero = MAP_FAILED;
	int rc = PASS;
	FILE *f;

	f = min_addr < 0 ? NULL : fopen(knob, "w");
	if (!f) {
		say("SKIP %s not writable", knob);
		return SKIP;
	}
	fprintf(f, "0\n");
	fclose(f);
	zero = mmap(NULL, pgsz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (zero == MAP_FAILED) {
		say("SKIP mmap at address 0 with %s 0: %s", knob, strerror(errno));
		rc = SKIP;
		goto out;
	}
	memset(zero, 0xc3, pgsz);
	CHECK(!env_open(&e, VFIO_SPAPR_TCE_v2_IOMMU), "%s", why);
	r = reg_mem(&e, zero, pgsz);
	if (!r) {
		/* what the registration leads to, for the report */
		m = map_dma(&e, e.info.dma32_window_start, zero, pgsz);
		u = unmap_dma(&e, e.info.dma32_window_start, pgsz);
		un = unreg_mem(&e, zero, pgsz);
	}
	CHECK(r == -EINVAL,
	      "REGISTER of a page at address 0: %s, want EINVAL (then MAP %s, UNMAP %s, UNREGISTER %s)",
	      err(r), err(m), err(u), err(un));
out:
	env_close(&e);
	if (zero != MAP_FAILED)
		munmap(zero, pgsz);
	f = fopen(knob, "w");
	if (f) {
		fprintf(f, "%ld\n", min_addr);
		fclose(f);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* v2: memory on transparent huge pages moved off their alignment */

static long sysfs_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* host physical address and kpageflags of the page at @va (root only) */
static int phys_of(void *va, uint64_t *pa, uint64_t *flags)
{
	uint64_t ent = 0, pfn;
	int fd = open("/proc/self/pagemap", O_RDONLY), ok;

	if (fd < 0)
		return -1;
	ok = pread(fd, &ent, 8, (uintptr_t)va / pgsz * 8) == 8;
	close(fd);
	if (!ok || !(ent & (1ull << 63)))
		return -1;
	pfn = ent & ((1ull << 55) - 1);
	*pa = pfn * pgsz + (uintptr_t)va % pgsz;
	*flags = 0;
	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd >= 0) {
		if (pread(fd, flags, 8, pfn * 8) != 8)
			*flags = 0;
		close(fd);
	}
	return pfn ? 0 : -1;
}

#define KPF_THP		22

static bool all_c3(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++ != 0xc3)
			return false;
	return true;
}

/*
 * Device -> RAM through @iova (mapping @u) lands exactly at @u and
 * nothing in the base page below it; the device is loaded from @src,
 * mapped 4M above the default window's start. 0, or -1 with why set.
 */
static int dma_lands_at(struct env *e, uint64_t iova, uint8_t *u,
			uint8_t *src, int shift)
{
	uint64_t siova = e->info.dma32_window_start + (4 << 20);
	uint32_t seed = 0x7100 + shift;
	long r = map_dma(e, siova, src, 8192);

	if (r) {
		say("MAP of the DMA source: %s", err(r));
		return -1;
	}
	fill(src, XFER, seed);
	memset(u - pgsz, 0xc3, 2 * pgsz);
	r = edu_dma(e->bar, siova, XFER, false);
	if (!r)
		r = edu_dma(e->bar, iova, XFER, true);
	unmap_dma(e, siova, 8192);
	diag("%uK TCEs: at U %s; the page below U %s", 1u << (shift - 10),
	     filled(u, XFER, seed) ? "the data" : "NOT the data",
	     all_c3(u - pgsz, pgsz) ? "untouched" : "WRITTEN");
	if (r || !filled(u, XFER, seed) || !all_c3(u - pgsz, pgsz)) {
		say("DMA through the %uK-TCE mapping of U: %s, %s",
		    1u << (shift - 10), r ? strerror(-r) : "done",
		    filled(u - pgsz, XFER, seed) ?
		    "it landed one base page below U (a misaligned TCE)" :
		    "not exactly at U");
		return -1;
	}
	return 0;
}

/*
 * Two THPs mremap'd together to U - 4K (one base page below a
 * THP-aligned U): U sits one base page into the first THP, so its host
 * address is a base page past a 64K boundary. Registered from U, the
 * region backs no 64K TCE (MAP of 64K pages: EINVAL, or if it maps, DMA
 * must land exactly at U); through 4K TCEs DMA lands exactly at U.
 */
static int t_v2_thp_misaligned(void)
{
	long hsz = sysfs_long("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
	uint8_t *a = NULL, *d = NULL, *u, *src = NULL;
	uint64_t pa = 0, fl = 0, start = 0, iova;
	const uint64_t rsz = 1 << 20;
	struct env e = { .container = -1, .group = -1, .device = -1 };
	int rc = PASS;
	long r;

	if (hsz <= 0) {
		say("SKIP no transparent huge pages on this kernel (no hpage_pmd_size)");
		return SKIP;
	}
	if (pgsz >= 1 << 16) {
		say("SKIP %ld-byte pages: no 64K TCE is misaligned (2M would need a 2M window)",
		    pgsz);
		return SKIP;
	}
	/* two THPs at an aligned address, faulted in */
	a = mmap(NULL, 4 * hsz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	d = mmap(NULL, 4 * hsz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE, -1, 0);
	CHECK(a != MAP_FAILED && d != MAP_FAILED, "mmap: %s", strerror(errno));
	{
		uint8_t *t = (uint8_t *)(((uintptr_t)a + hsz - 1) & ~(hsz - 1));

		CHECK(!madvise(t, 2 * hsz, MADV_HUGEPAGE), "MADV_HUGEPAGE: %s",
		      strerror(errno));
		memset(t, 0x5a, 2 * hsz);
		/* U: a THP-aligned address in d; move both THPs to U - pgsz */
		u = (uint8_t *)(((uintptr_t)d + 2 * hsz - 1) & ~(hsz - 1));
		CHECK(mremap(t, 2 * hsz, 2 * hsz, MREMAP_MAYMOVE | MREMAP_FIXED,
			     u - pgsz) == u - pgsz, "mremap: %s", strerror(errno));
	}
	CHECK(!phys_of(u, &pa, &fl), "no physical address for U (pagemap)");
	diag("U %p: host address %#llx (%s a 64K boundary), kpageflags %#llx (%sTHP)",
	     u, (unsigned long long)pa, pa & 0xffff ? "off" : "on",
	     (unsigned long long)fl, fl & (1ull << KPF_THP) ? "" : "not ");
	if (!(fl & (1ull << KPF_THP)) || !(pa & 0xffff)) {
		say("SKIP the kernel gave no THP here (kpageflags %#llx, host address %#llx)",
		    (unsigned long long)fl, (unsigned long long)pa);
		rc = SKIP;
		goto out;
	}
	CHECK((src = anon(pgsz > 8192 ? pgsz : 8192)), "buffer");
	CHECK(!env_open(&e, VFIO_SPAPR_TCE_v2_IOMMU), "%s", why);
	if (!(e.info.flags & VFIO_IOMMU_SPAPR_INFO_DDW) ||
	    !(e.info.ddw.pgsizes & (1ull << 16))) {
		say("SKIP no dynamic 64K window here (flags %#x, pgsizes %#llx)",
		    e.info.flags, (unsigned long long)e.info.ddw.pgsizes);
		rc = SKIP;
		goto out;
	}
	r = reg_mem(&e, u, rsz);
	CHECK(!r, "REGISTER(U, 1M): %s", err(r));
	r = reg_mem(&e, src, pgsz > 8192 ? pgsz : 8192);
	CHECK(!r, "REGISTER of the DMA source: %s", err(r));
	/* a 64K window next to the default one: U must not go into it */
	r = create_win(&e, 16, 1 << 27, 1, &start);
	CHECK(!r, "CREATE of a 64K window: %s", err(r));
	r = map_dma(&e, start, u, 1 << 16);
	diag("MAP(U, 64K) into the 64K window at %#llx: %s",
	     (unsigned long long)start, err(r));
	if (!r && start + (1 << 16) <= EDU_DMA_LIMIT)
		CHECK(!dma_lands_at(&e, start, u, src, 16), "%s", why);
	CHECK(r == -EINVAL,
	      "MAP(U, 64K) into a 64K-TCE window: %s, want EINVAL: its TCE would point at %#llx, %#llx past a 64K boundary",
	      err(r), (unsigned long long)pa, (unsigned long long)(pa & 0xffff));
	/* the default window's 4K TCEs: the device writes exactly at U */
	iova = e.info.dma32_window_start + (1 << 20);
	r = map_dma(&e, iova, u, 1 << 16);
	CHECK(!r, "MAP(U, 64K) with 4K TCEs: %s", err(r));
	CHECK(!dma_lands_at(&e, iova, u, src, 12), "%s", why);
out:
	env_close(&e);
	if (a && a != MAP_FAILED)
		munmap(a, 4 * hsz);
	if (d && d != MAP_FAILED)
		munmap(d, 4 * hsz);
	if (src)
		munmap(src, pgsz > 8192 ? pgsz : 8192);
	return rc;
}

/* ------------------------------------------------------------------ */
/* v2: a MAP over a window of 2^32 entries with one live TCE */

/*
 * One live TCE at the end of a 2^32-entry window (4K TCEs, 16 TiB), then
 * a MAP of all the rest from memory that is not registered: EINVAL, in
 * bounded time (the old code read every entry first, with no reschedule:
 * a soft lockup), then an UNMAP of the whole window, bounded too.
 */
static int t_v2_large_window_bounded(void)
{
	uint64_t wsz;
	static const uint32_t lv[] = { 3, 4, 2, 5 };
	struct env e = { .container = -1, .group = -1, .device = -1 };
	uint64_t start = 0, last;
	uint8_t *b = NULL;
	long r = -1, t0, ms;
	unsigned int i;
	int rc = PASS;

	CHECK((b = anon(pgsz)), "buffer");
	CHECK(!env_open(&e, VFIO_SPAPR_TCE_v2_IOMMU), "%s", why);
	if (!(e.info.flags & VFIO_IOMMU_SPAPR_INFO_DDW) || e.info.ddw.levels < 2) {
		say("SKIP no multi-level dynamic windows here (flags %#x, levels %u)",
		    e.info.flags, e.info.ddw.levels);
		rc = SKIP;
		goto out;
	}
	/* the largest window of 4K TCEs the platform makes, 2^32 at most */
	for (wsz = 1ull << 44; r && wsz >= 1ull << 40; wsz >>= 1)
		for (i = 0; i < ARRAY_SIZE(lv) && r; i++)
			if (lv[i] <= e.info.ddw.levels)
				r = create_win(&e, 12, wsz, lv[i], &start);
	wsz <<= 1;
	CHECK(!r, "CREATE of a window of 2^28 to 2^32 4K TCEs: %s", err(r));
	diag("window of %llu 4K TCEs at %#llx, %u levels",
	     (unsigned long long)wsz >> 12, (unsigned long long)start,
	     lv[i - 1]);
	r = reg_mem(&e, b, pgsz);
	CHECK(!r, "REGISTER: %s", err(r));
	last = start + wsz - TCE4K;
	r = map_dma(&e, last, b, TCE4K);
	CHECK(!r, "MAP of the last TCE: %s", err(r));
	t0 = now_ms();
	r = map_dma(&e, start, b, wsz - TCE4K);
	ms = now_ms() - t0;
	diag("MAP of all the other TCEs from one registered page: %s in %ld ms",
	     err(r), ms);
	CHECK(r == -EINVAL, "MAP of the window from one registered page: %s, want EINVAL",
	      err(r));
	CHECK(ms < 20000, "MAP over the window took %ld ms", ms);
	t0 = now_ms();
	r = unmap_dma(&e, start, wsz);
	ms = now_ms() - t0;
	diag("UNMAP of the whole window: %s in %ld ms", err(r), ms);
	CHECK(!r && ms < 60000, "UNMAP of the whole window: %s in %ld ms",
	      err(r), ms);
out:
	env_close(&e);
	if (b)
		munmap(b, pgsz);
	return rc;
}

/* ------------------------------------------------------------------ */

struct tcase {
	const char *name;
	int (*fn)(void);
};

static const struct tcase cases[] = {
	{ "v1_memlock_64k_single_tce_maps_into_distinct_pages_enomem",
	  t_v1_memlock_distinct_pages },
	{ "v1_tces_sharing_a_page_charge_it_once_until_the_last_goes",
	  t_v1_one_page_charged_once },
	{ "v1_map_stopped_by_a_live_tce_in_a_page_gives_back_every_count",
	  t_v1_map_stopped_in_a_page_gives_back },
	{ "v1_unmap_unpins_no_page_before_its_cleared_tce_is_invalidated",
	  t_v1_unpin_after_kill },
	{ "v1_release_drops_every_record_while_rescheduling",
	  t_v1_release_drops_all_records },
	{ "v2_register_of_user_address_0_refused_einval",
	  t_v2_address_zero_refused },
	{ "v2_thp_moved_off_alignment_backs_no_large_tce_dma_lands_at_ua",
	  t_v2_thp_misaligned },
	{ "v2_map_over_2p32_entry_window_with_one_live_tce_bounded",
	  t_v2_large_window_bounded },
};

#define NCASES ARRAY_SIZE(cases)

/* one case in a child process; afterwards nothing may stay pinned */
static int run_case(const struct tcase *c)
{
	long pins0 = pins_outstanding(), pins1 = pins0;
	int pfd[2], st, rc, n;
	pid_t pid;

	if (pipe(pfd))
		return FAIL;
	fflush(stdout);
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
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		say("case process died (status %#x)", st);
		return FAIL;
	}
	rc = WEXITSTATUS(st);
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

static int usage(void)
{
	fprintf(stderr,
		"Usage: vfio_pin --group N --dev ADDR [--case REGEX] [--list]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "group", 1, NULL, 'g' }, { "dev", 1, NULL, 'd' },
		{ "case", 1, NULL, 'c' }, { "list", 0, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pat = NULL;
	bool list = false;
	char line[256];
	unsigned int i;
	int o, n = 0, rc;
	regex_t re;
	FILE *f;
	long t0;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'g':
			opt_group = atoi(optarg);
			break;
		case 'd':
			opt_dev = optarg;
			break;
		case 'c':
			pat = optarg;
			break;
		case 'l':
			list = true;
			break;
		default:
			return usage();
		}
	}
	if ((pat && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB)) ||
	    (!list && (opt_group < 0 || !opt_dev)))
		return usage();
	for (i = 0; i < NCASES; i++)
		if (!pat || !regexec(&re, cases[i].name, 0, NULL, 0)) {
			n++;
			if (list)
				printf("%s\n", cases[i].name);
		}
	if (list)
		return 0;
	pgsz = sysconf(_SC_PAGESIZE);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "PowerNV"))
			powernv = true;
	if (f)
		fclose(f);
	ksft_print_header();
	ksft_set_plan(n);
	diag("group %d, device %s, page size %ld, %s", opt_group, opt_dev,
	     pgsz, powernv ? "powernv" : "pseries");
	for (i = 0; i < NCASES; i++) {
		if (pat && regexec(&re, cases[i].name, 0, NULL, 0))
			continue;
		why[0] = 0;
		t0 = now_ms();
		rc = run_case(&cases[i]);
		diag("%s took %ld ms", cases[i].name, now_ms() - t0);
		if (rc == PASS) {
			ksft_test_result_code(KSFT_PASS, cases[i].name, NULL);
		} else if (rc == SKIP) {
			const char *r = strncmp(why, "SKIP ", 5) ? why : why + 5;

			ksft_test_result_code(KSFT_SKIP, cases[i].name, "%s", r);
		} else {
			ksft_test_result_code(KSFT_FAIL, cases[i].name, NULL);
			ksft_print_msg("%s\n", why);
		}
	}
	/* exits 0 when every planned case passed or skipped, else 1 */
	ksft_finished();
}
