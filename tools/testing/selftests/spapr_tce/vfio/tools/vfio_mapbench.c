// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_mapbench --group N --type v1|v2 [--bytes B | --pages P]
 *		 [--threads T] [--pairs N] [--reps R]
 *
 * MAP_DMA + UNMAP_DMA pairs on a sPAPR TCE container, for whichever
 * driver serves it (the in-tree one or ours): the same loop, the same
 * buffer and IOVAs, so two runs in one boot compare the drivers.
 *
 * Each call maps B bytes, or P pages (default: one page). With T threads, each maps
 * and unmaps a range of its own (its own buffer and IOVA) in the one
 * container, all at once.
 *
 * Two measures. Wall time gives pairs per second, noisy under TCG.
 * The emulated PMU gives the instructions the calling threads executed,
 * user and kernel (perf_event_open, PERF_COUNT_HW_INSTRUCTIONS): the N
 * pairs run as R rounds of N / R pairs, each round counted alone; what
 * else the guest did in a thread's context meanwhile (a timer tick, its
 * softirqs) only ever adds to a round, so the minimum over the rounds is
 * the pair's own cost, and the median shows the spread.
 *
 * Prints one line: "type=v2 bytes=B threads=T pairs=N ns_per_pair=X
 * pairs_per_s=Y instr_min=I instr_median=J" (instructions per pair, all
 * threads' instructions over all threads' pairs).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <linux/vfio.h>

#define MAX_THREADS	8
#define MAX_REPS	64

struct worker {
	pthread_t th;
	int container;
	uint64_t iova;
	uint64_t vaddr;
	uint64_t bytes;
	long per_rep;
	long reps;
	uint64_t instr[MAX_REPS];	/* this thread's, per round */
	int err;			/* errno of a failed ioctl */
	const char *what;
};

static pthread_barrier_t round_start;

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

/* This thread's instructions, user and kernel; -1 without a PMU. */
static int perf_open(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.disabled = 1;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static void *work(void *arg)
{
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct worker *w = arg;
	int pfd = perf_open();
	long r, i;

	map.vaddr = w->vaddr;
	map.iova = w->iova;
	map.size = w->bytes;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	unmap.iova = w->iova;
	unmap.size = w->bytes;
	for (r = 0; r < w->reps; r++) {
		uint64_t n = 0;

		pthread_barrier_wait(&round_start);
		if (pfd >= 0) {
			ioctl(pfd, PERF_EVENT_IOC_RESET, 0);
			ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
		}
		for (i = 0; i < w->per_rep && !w->err; i++) {
			if (ioctl(w->container, VFIO_IOMMU_MAP_DMA, &map)) {
				w->err = errno;
				w->what = "MAP_DMA";
			} else if (ioctl(w->container, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
				w->err = errno;
				w->what = "UNMAP_DMA";
			}
		}
		if (pfd >= 0) {
			ioctl(pfd, PERF_EVENT_IOC_DISABLE, 0);
			if (read(pfd, &n, sizeof(n)) != sizeof(n))
				n = 0;
		}
		w->instr[r] = n;
	}
	if (pfd >= 0)
		close(pfd);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static const char help[] = "vfio_mapbench --group N [--type v1|v2] [--bytes B | --pages P]\n"
			   "\t[--threads T] [--pairs N] [--reps R]";

static void bad_args(void)
{
	fprintf(stderr, "%s\n", help);
	exit(2);
}

int main(int argc, char **argv)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	long group = -1, pairs = 20000, type = 2, threads = 1, reps = 31, t, r;
	long pgsz = sysconf(_SC_PAGESIZE);
	struct worker wk[MAX_THREADS];
	uint64_t bytes = pgsz, per_pair[MAX_REPS], t0, ns, iova, span;
	int container, grp;
	char path[64];
	char *buf;

	for (t = 1; t + 1 < argc; t += 2) {
		if (!strcmp(argv[t], "--group"))
			group = atol(argv[t + 1]);
		else if (!strcmp(argv[t], "--type"))
			type = !strcmp(argv[t + 1], "v1") ? 1 : 2;
		else if (!strcmp(argv[t], "--pairs"))
			pairs = atol(argv[t + 1]);
		else if (!strcmp(argv[t], "--bytes"))
			bytes = strtoull(argv[t + 1], NULL, 0);
		else if (!strcmp(argv[t], "--pages"))
			bytes = strtoull(argv[t + 1], NULL, 0) * pgsz;
		else if (!strcmp(argv[t], "--threads"))
			threads = atol(argv[t + 1]);
		else if (!strcmp(argv[t], "--reps"))
			reps = atol(argv[t + 1]);
		else
			bad_args();
	}
	if (group < 0 || pairs <= 0 || !bytes || bytes % pgsz ||
	    threads < 1 || threads > MAX_THREADS || reps < 1 || reps > MAX_REPS)
		bad_args();
	if (reps > pairs)
		reps = pairs;
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
	/* Each thread's range, a page apart; all of them in the 32-bit window. */
	span = bytes + pgsz;
	iova = info.dma32_window_start + 16 * pgsz;
	if (iova + threads * span > info.dma32_window_start + info.dma32_window_size) {
		errno = ENOSPC;
		die("the ranges do not fit in the 32-bit window");
	}
	buf = mmap(NULL, threads * span, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	if (type == 1) {
		if (ioctl(container, VFIO_IOMMU_ENABLE))
			die("ENABLE");
	} else {
		reg.vaddr = (uintptr_t)buf;
		reg.size = threads * span;
		if (ioctl(container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg))
			die("REGISTER_MEMORY");
	}
	memset(wk, 0, sizeof(wk));
	for (t = 0; t < threads; t++) {
		wk[t].container = container;
		wk[t].iova = iova + t * span;
		wk[t].vaddr = (uintptr_t)buf + t * span;
		wk[t].bytes = bytes;
		wk[t].per_rep = pairs / reps;
		wk[t].reps = reps;
	}
	/* One pair outside the timing: it creates a lazy default window. */
	wk[0].reps = 1;
	wk[0].per_rep = 1;
	pthread_barrier_init(&round_start, NULL, 1);
	work(&wk[0]);
	pthread_barrier_destroy(&round_start);
	if (wk[0].err) {
		errno = wk[0].err;
		die("first MAP/UNMAP");
	}
	wk[0].reps = reps;
	wk[0].per_rep = pairs / reps;

	pthread_barrier_init(&round_start, NULL, threads);
	t0 = now_ns();
	for (t = 1; t < threads; t++)
		if (pthread_create(&wk[t].th, NULL, work, &wk[t]))
			die("pthread_create");
	work(&wk[0]);
	for (t = 1; t < threads; t++)
		pthread_join(wk[t].th, NULL);
	ns = now_ns() - t0;
	for (t = 0; t < threads; t++) {
		if (wk[t].err) {
			errno = wk[t].err;
			die(wk[t].what);
		}
	}
	for (r = 0; r < reps; r++) {
		uint64_t n = 0;

		for (t = 0; t < threads; t++)
			n += wk[t].instr[r];
		per_pair[r] = n / (threads * (pairs / reps));
	}
	qsort(per_pair, reps, sizeof(per_pair[0]), cmp_u64);
	pairs = threads * reps * (pairs / reps);
	printf("type=v%ld bytes=%llu threads=%ld page_size=%ld pairs=%ld ns_per_pair=%llu ",
	       type, (unsigned long long)bytes, threads, pgsz, pairs,
	       (unsigned long long)(ns / pairs));
	printf("pairs_per_s=%llu instr_min=%llu instr_median=%llu\n",
	       (unsigned long long)(pairs * 1000000000ULL / (ns ? ns : 1)),
	       (unsigned long long)per_pair[0],
	       (unsigned long long)per_pair[reps / 2]);
	return 0;
}
