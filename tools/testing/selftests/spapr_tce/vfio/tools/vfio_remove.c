// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_remove: a vfio-bound device removed (sysfs remove) while its
 * container maps DMA for it, with a second device in a second container
 * of the same process at work throughout. Needs two edu devices
 * (1234:11e8), each alone in an IOMMU group, bound to vfio-pci.
 *
 *   vfio_remove --group-a N --dev-a BDF --group-b M --dev-b BDF
 *   vfio_remove --dma --group-a N --dev-a BDF     (one DMA round trip)
 *
 * Device A's user gets vfio-pci's request (the REQ eventfd) when the
 * removal starts, lets the device go and keeps its group and container,
 * as a VMM does on a guest's unplug; then it asks the container what it
 * still answers, unmaps, and closes. TAP, one line per case; the caller
 * plans the count (--list prints the case names).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "edu.h"
#include "lab_tap.h"

#define XFER		4000u
#define BUF_SIZE	(4 * pgsz)	/* pages: one to the device, one back */
#define REQ_WAIT_MS	30000
#define REMOVE_WAIT_MS	60000
#define DETACH_WAIT_MS	15000
#define STATS		"/sys/kernel/debug/vfio_spapr/stats"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char * const cases[] = {
	"a_and_b_dma_round_trip_before_removal",
	"removal_asks_user_for_device_a_req_eventfd",
	"b_dma_round_trip_while_a_is_being_removed",
	"container_a_answers_cleanly_after_device_loss",
	"removal_completes_once_user_lets_device_and_group_go",
	"b_dma_round_trip_after_a_removed_and_closed",
	"no_pin_vmlck_or_vfio_spapr_counter_leak",
};

struct side {
	int container, group, device;
	volatile uint8_t *bar;
	size_t bar_size;
	uint8_t *buf;
	uint64_t iova;
};

static long pgsz;
static int ok_n;
static int failed;

static void report(const char *name, bool ok)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++ok_n, name);
	if (!ok) {
		printf("# %s\n", why);
		failed++;
	}
	why[0] = 0;
	fflush(stdout);
}

static const char *err_name(long r)
{
	static char s[32];

	if (r < 0 && r > -4096)
		return strerrorname_np(-r);
	snprintf(s, sizeof(s), "%ld", r);
	return s;
}

/* our module's counters, by name; -1 when it is not loaded */
static long stat_of(const char *name)
{
	char line[128], key[64];
	long v, found = -1;
	FILE *f = fopen(STATS, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %ld", key, &v) == 2 && !strcmp(key, name))
			found = v;
	fclose(f);
	return found;
}

static const char * const counters[] = {
	"containers", "regions", "pinned_pages", "charged_pages",
};

static void counters_read(long *v)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(counters); i++)
		v[i] = stat_of(counters[i]);
}

/* a v2 container on GROUP with DEV's BAR mapped, BUF_SIZE registered and mapped */
static int side_open(struct side *s, int group_nr, const char *dev)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_region_info ri = {
		.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_region_info ci = {
		.argsz = sizeof(ci), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	char path[64];
	uint16_t cmd;
	long r;

	memset(s, 0, sizeof(*s));
	s->device = -1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_nr);
	s->container = open("/dev/vfio/vfio", O_RDWR);
	s->group = open(path, O_RDWR);
	if (s->container < 0 || s->group < 0) {
		say("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (ioctl(s->group, VFIO_GROUP_SET_CONTAINER, &s->container) ||
	    ioctl(s->container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU) ||
	    ioctl(s->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info)) {
		say("container on group %d: %s", group_nr, strerror(errno));
		return -1;
	}
	s->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->buf == MAP_FAILED) {
		say("mmap: %s", strerror(errno));
		return -1;
	}
	reg.vaddr = (uintptr_t)s->buf;
	reg.size = BUF_SIZE;
	r = xioctl(s->container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg);
	if (r) {
		say("REGISTER_MEMORY: %s", err_name(r));
		return -1;
	}
	s->iova = info.dma32_window_start;
	map.vaddr = (uintptr_t)s->buf;
	map.iova = s->iova;
	map.size = BUF_SIZE;
	r = xioctl(s->container, VFIO_IOMMU_MAP_DMA, &map);
	if (r) {
		say("MAP_DMA: %s", err_name(r));
		return -1;
	}
	s->device = ioctl(s->group, VFIO_GROUP_GET_DEVICE_FD, dev);
	if (s->device < 0 || ioctl(s->device, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    ioctl(s->device, VFIO_DEVICE_GET_REGION_INFO, &ci)) {
		say("device %s: %s", dev, strerror(errno));
		return -1;
	}
	s->bar_size = ri.size;
	s->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->device, ri.offset);
	if (s->bar == MAP_FAILED) {
		s->bar = NULL;
		say("mmap BAR0: %s", strerror(errno));
		return -1;
	}
	if (pread(s->device, &cmd, 2, ci.offset + 4) != 2)
		return -1;
	cmd |= 0x6;	/* memory space, bus master */
	if (pwrite(s->device, &cmd, 2, ci.offset + 4) != 2)
		return -1;
	return 0;
}

static void side_release_device(struct side *s)
{
	if (s->bar)
		munmap((void *)s->bar, s->bar_size);
	s->bar = NULL;
	if (s->device >= 0)
		close(s->device);
	s->device = -1;
}

static void side_close(struct side *s)
{
	side_release_device(s);
	if (s->group >= 0)
		close(s->group);
	if (s->container >= 0)
		close(s->container);
	if (s->buf && s->buf != MAP_FAILED)
		munmap(s->buf, BUF_SIZE);
	s->group = -1;
	s->container = -1;
	s->buf = NULL;
}

/* device to RAM, then RAM to device and back, through the mapping */
static bool round_trip(struct side *s, uint32_t seed)
{
	int r;

	fill(s->buf, XFER, seed);
	r = edu_dma(s->bar, s->iova, XFER, false);
	if (!r) {
		memset(s->buf + pgsz, 0, XFER);
		r = edu_dma(s->bar, s->iova + pgsz, XFER, true);
	}
	if (r) {
		say("DMA: %s", err_name(r));
		return false;
	}
	if (!filled(s->buf + pgsz, XFER, seed)) {
		say("DMA round trip: data differs");
		return false;
	}
	return true;
}

static bool wait_child(pid_t pid, int ms, int *status)
{
	long t0 = now_ms();

	while (now_ms() - t0 < ms) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(50000);
	}
	return false;
}

int main(int argc, char **argv)
{
	long pins0, kb0, c0[4], c1[4], r;
	struct side a, b;
	const char *dev[2] = { NULL, NULL };
	int grp[2] = { -1, -1 }, c, status, efd, go[2];
	bool dma_only = false, ok, gone;
	char path[128];
	pid_t pid;
	size_t i;

	pgsz = sysconf(_SC_PAGESIZE);
	while ((c = getopt_long(argc, argv, "", (struct option[]) {
			{ "group-a", 1, NULL, 'g' }, { "dev-a", 1, NULL, 'd' },
			{ "group-b", 1, NULL, 'G' }, { "dev-b", 1, NULL, 'D' },
			{ "dma", 0, NULL, 'm' }, { "list", 0, NULL, 'l' },
			{ } }, NULL)) != -1) {
		switch (c) {
		case 'g':
			grp[0] = atoi(optarg);
			break;
		case 'd':
			dev[0] = optarg;
			break;
		case 'G':
			grp[1] = atoi(optarg);
			break;
		case 'D':
			dev[1] = optarg;
			break;
		case 'm':
			dma_only = true;
			break;
		case 'l':
			for (i = 0; i < ARRAY_SIZE(cases); i++)
				printf("%s\n", cases[i]);
			return 0;
		default:
			return 2;
		}
	}
	if (grp[0] < 0 || !dev[0] || (!dma_only && (grp[1] < 0 || !dev[1]))) {
		fprintf(stderr, "vfio_remove: --group-a, --dev-a (and -b) needed\n");
		return 2;
	}
	if (dma_only) {
		ok = !side_open(&a, grp[0], dev[0]) && round_trip(&a, 0x5eed);
		if (!ok)
			fprintf(stderr, "%s\n", why);
		side_close(&a);
		return ok ? 0 : 1;
	}

	/*
	 * The remover: forked before anything is opened, so that it holds no
	 * file or mapping of ours (a device fd it inherited would block its
	 * own removal for ever); it writes sysfs remove when told to.
	 */
	if (pipe(go))
		return 1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", dev[0]);
	pid = fork();
	if (pid == 0) {
		int fd;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		fd = open(path, O_WRONLY);
		_exit(fd >= 0 && write(fd, "1", 1) == 1 ? 0 : 1);
	}
	close(go[0]);

	pins0 = pins_outstanding();
	kb0 = vmlck_kb();
	counters_read(c0);

	/* 1. both devices work, each through its own container */
	ok = !side_open(&a, grp[0], dev[0]) && round_trip(&a, 1) &&
	     !side_open(&b, grp[1], dev[1]) && round_trip(&b, 2);
	report(cases[0], ok);
	if (!ok) {
		kill(pid, SIGKILL);
		return 1;
	}

	/* 2. sysfs remove of A; vfio-pci asks A's user first (REQ eventfd) */
	efd = eventfd(0, EFD_CLOEXEC);
	{
		struct {
			struct vfio_irq_set set;
			int32_t fd;
		} irq = {
			.set = { .argsz = sizeof(irq),
				 .flags = VFIO_IRQ_SET_DATA_EVENTFD |
					  VFIO_IRQ_SET_ACTION_TRIGGER,
				 .index = VFIO_PCI_REQ_IRQ_INDEX, .count = 1 },
			.fd = efd,
		};

		r = xioctl(a.device, VFIO_DEVICE_SET_IRQS, &irq);
		if (r)
			diag("SET_IRQS(REQ): %s", err_name(r));
	}
	if (write(go[1], "1", 1) != 1)
		return 1;
	{
		struct pollfd p = { .fd = efd, .events = POLLIN };

		ok = poll(&p, 1, REQ_WAIT_MS) == 1;
		if (!ok)
			say("no request on the REQ eventfd in %d ms", REQ_WAIT_MS);
		report(cases[1], ok);
	}
	side_release_device(&a);
	close(efd);
	/*
	 * Before v6.2 the removal of a group's last device then waits for
	 * the group to leave its container; from v6.2 on the core detaches
	 * the container itself. Either is a clean answer: which one decides
	 * what A's container must answer below.
	 */
	gone = wait_child(pid, DETACH_WAIT_MS, &status);
	diag("removal %s once the device was released",
	     gone ? "completed" : "waits for the group to leave its container");

	/* 3. B is untouched */
	report(cases[2], round_trip(&b, 3));

	/* 4. what A's container answers now */
	{
		struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map), .flags = VFIO_DMA_MAP_FLAG_READ,
			.vaddr = (uintptr_t)a.buf + pgsz, .iova = a.iova + pgsz,
			.size = pgsz,
		};
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap), .iova = a.iova, .size = BUF_SIZE,
		};
		struct vfio_eeh_pe_op op = {
			.argsz = sizeof(op), .op = VFIO_EEH_PE_GET_STATE,
		};
		long ri, rm, re, ru;

		ri = xioctl(a.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info);
		rm = xioctl(a.container, VFIO_IOMMU_MAP_DMA, &map);
		re = xioctl(a.container, VFIO_EEH_PE_OP, &op);
		ru = xioctl(a.container, VFIO_IOMMU_UNMAP_DMA, &unmap);
		diag("container A: GET_INFO %s, MAP_DMA over a live TCE %s",
		     err_name(ri), err_name(rm));
		diag("container A: EEH GET_STATE %s, UNMAP_DMA %s (%llu bytes)",
		     err_name(re), err_name(ru), (unsigned long long)unmap.size);
		if (!gone) {
			/* still attached: the mapping is live until unmapped */
			ok = ri == 0 && rm == -EBUSY && ru == 0 &&
			     unmap.size == (uint64_t)BUF_SIZE;
			if (!ok)
				say("attached: want GET_INFO 0, MAP_DMA EBUSY, UNMAP_DMA 0 of all");
		} else {
			/* detached: no IOMMU driver behind it, nothing to map */
			ok = ri < 0 && rm < 0 && ru < 0;
			if (!ok)
				say("detached: GET_INFO, MAP_DMA and UNMAP_DMA must fail");
		}
		report(cases[3], ok);
	}
	side_close(&a);
	if (!gone)
		gone = wait_child(pid, REMOVE_WAIT_MS, &status);
	if (!gone) {
		say("the remove write still blocks %d ms after the group closed", REMOVE_WAIT_MS);
		ok = false;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		say("the remove write failed (status %#x)", status);
		ok = false;
	} else {
		ok = access(path, F_OK) != 0;
		if (!ok)
			say("%s still there", path);
	}
	report(cases[4], ok);

	/* 5. B still works with A's container and device gone */
	report(cases[5], round_trip(&b, 4));
	side_close(&b);

	/* 6. nothing left behind */
	counters_read(c1);
	r = pins_outstanding();
	ok = r == pins0 && vmlck_kb() == kb0;
	if (!ok)
		say("pins %ld -> %ld, VmLck %ld -> %ld kB", pins0, r, kb0, vmlck_kb());
	for (i = 0; i < 4; i++) {
		if (c1[i] != c0[i]) {
			say("vfio_spapr %s %ld -> %ld", counters[i], c0[i], c1[i]);
			ok = false;
		}
	}
	report(cases[6], ok);
	return failed ? 1 : 0;
}
