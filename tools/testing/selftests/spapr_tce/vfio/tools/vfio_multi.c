// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_multi: one sPAPR TCE container, two IOMMU groups. Needs two edu
 * devices (1234:11e8), each in a group of its own, bound to vfio-pci, and
 * our vfio_spapr serving the containers.
 *
 *   vfio_multi --type v1|v2 --windows shared|own --group-a N --dev-a BDF
 *              --group-b M --dev-b BDF [--case REGEX] [--list]
 *
 * --windows says what the platform allows, as Documentation/vfio_spapr.rst
 * has it: "shared" (powernv: one table is programmed into every group of
 * the container), "own" (pseries: every window is its PE's own, fixed
 * before v6.4 and made by the hypervisor for one PE after; a second group
 * is refused with -EBUSY). Cases that need the other kind SKIP, saying so.
 *
 * Every case runs in a child process of its own, so its containers go
 * with it whatever happens; afterwards the FOLL_PIN count must be back
 * where it was. One TAP line per case, then one for VmLck and pins.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "lab_vfio.h"

#define XFER	4000u		/* bytes per DMA */

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
static bool opt_v2, opt_shared;
static long pgsz;

/* A container with group A, maybe group B, their devices, one buffer */
struct mg {
	int ctr, grp[2];
	struct lv_dev dev[2];
	struct vfio_iommu_spapr_tce_info info;
	uint8_t *buf;
	size_t len;
	bool registered;
	long join;		/* what SET_CONTAINER of group B answered */
};

static void mg_init(struct mg *m)
{
	memset(m, 0, sizeof(*m));
	m->ctr = -1;
	m->grp[0] = -1;
	m->grp[1] = -1;
	m->dev[0].fd = -1;
	m->dev[1].fd = -1;
	m->join = 1;
}

static void mg_close(struct mg *m)
{
	lv_dev_close(&m->dev[0]);
	lv_dev_close(&m->dev[1]);
	if (m->registered)
		lv_register(m->ctr, false, m->buf, m->len);
	if (m->grp[0] >= 0)
		close(m->grp[0]);
	if (m->grp[1] >= 0)
		close(m->grp[1]);
	if (m->ctr >= 0)
		close(m->ctr);
	m->ctr = -1;
	m->grp[0] = -1;
	m->grp[1] = -1;
	m->registered = false;
}

/*
 * A container of the type under test on group @first; with @both, group
 * B joins it too (m->join says how that went; a refusal is not a failure
 * here). Devices of the groups in it are opened when @devs. v2 registers
 * @buf once. 0, or -1 with the reason said.
 */
static int mg_open(struct mg *m, int first, bool both, bool devs,
		   uint8_t *buf, size_t len)
{
	int i;
	long r;

	mg_init(m);
	m->buf = buf;
	m->len = len;
	m->ctr = open("/dev/vfio/vfio", O_RDWR);
	if (m->ctr < 0) {
		say("open /dev/vfio/vfio: %s", strerror(errno));
		return -1;
	}
	m->grp[0] = lv_group_open(opt_group[first]);
	if (m->grp[0] < 0)
		return -1;
	r = xioctl(m->grp[0], VFIO_GROUP_SET_CONTAINER, &m->ctr);
	if (r) {
		say("SET_CONTAINER(group %d): %s", opt_group[first], lv_err(r));
		return -1;
	}
	r = ioctl(m->ctr, VFIO_SET_IOMMU, opt_v2 ? VFIO_SPAPR_TCE_v2_IOMMU :
		  VFIO_SPAPR_TCE_IOMMU) ? -errno : 0;
	if (r) {
		say("SET_IOMMU(%s): %s", opt_v2 ? "v2" : "v1", lv_err(r));
		return -1;
	}
	if (both) {
		m->grp[1] = lv_group_open(opt_group[!first]);
		if (m->grp[1] < 0)
			return -1;
		m->join = xioctl(m->grp[1], VFIO_GROUP_SET_CONTAINER, &m->ctr);
		if (m->join) {
			close(m->grp[1]);
			m->grp[1] = -1;
		}
	}
	m->info.argsz = sizeof(m->info);
	r = xioctl(m->ctr, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &m->info);
	if (r) {
		say("GET_INFO: %s", lv_err(r));
		return -1;
	}
	if (!opt_v2) {
		r = xioctl(m->ctr, VFIO_IOMMU_ENABLE, NULL);
		if (r) {
			say("ENABLE: %s", lv_err(r));
			return -1;
		}
	} else {
		r = lv_register(m->ctr, true, buf, len);
		if (r) {
			say("REGISTER: %s", lv_err(r));
			return -1;
		}
		m->registered = true;
	}
	for (i = 0; devs && i < 2; i++) {
		int who = i ? !first : first;

		if (m->grp[i] >= 0 &&
		    lv_dev_open(&m->dev[i], m->grp[i], opt_dev[who]))
			return -1;
	}
	return 0;
}

/* A bus address 16 MiB into the 32-bit window, below edu's 28-bit mask */
static uint64_t pick_iova(struct mg *m)
{
	return (m->info.dma32_window_start + (16u << 20) + 0xffff) & ~0xffffull;
}

/*
 * Device @a reads the pattern @seed at @src of the buffer (bus address
 * @iova + @src) and writes it back at @dst: the data must land there.
 */
static int copy_through(struct lv_dev *d, const char *who, uint8_t *buf,
			uint64_t iova, size_t src, size_t dst, uint32_t seed)
{
	int r;

	memset(buf + dst, 0xee, XFER);
	r = edu_dma(d->bar, iova + src, XFER, false);
	if (!r)
		r = edu_dma(d->bar, iova + dst, XFER, true);
	if (r) {
		say("device %s: DMA through %#llx: %s", who,
		    (unsigned long long)iova, strerror(-r));
		return FAIL;
	}
	if (!filled(buf + dst, XFER, seed)) {
		say("device %s: its DMA did not land at +%zu of the buffer (word 0 %#x)",
		    who, dst, *(uint32_t *)(buf + dst));
		return FAIL;
	}
	return PASS;
}

/*
 * Both devices through one mapping at @iova: A copies the pattern from
 * +0 to +XFER, B copies what A wrote from +XFER to +2*XFER. The pattern
 * reaching +2*XFER went RAM -> A -> RAM -> B -> RAM: both devices reach
 * the same pages through the same bus addresses.
 */
static int both_through(struct mg *m, uint64_t iova, uint32_t seed)
{
	fill(m->buf, XFER, seed);
	if (copy_through(&m->dev[0], "A", m->buf, iova, 0, XFER, seed) != PASS)
		return FAIL;
	return copy_through(&m->dev[1], "B", m->buf, iova, XFER, 2 * XFER,
			    seed);
}

/* A device -> RAM DMA to the unmapped @iova must leave RAM as it was */
static int blocked(struct lv_dev *d, const char *who, uint8_t *buf,
		   size_t len, uint64_t iova)
{
	size_t i;
	int r;

	memset(buf, 0xc3, len);
	r = edu_dma(d->bar, iova + XFER, XFER, true);
	diag("device %s -> RAM at the unmapped %#llx: dma %s", who,
	     (unsigned long long)iova + XFER, r ? strerror(-r) : "completed");
	for (i = 0; i < len; i++)
		if (buf[i] != 0xc3) {
			say("device %s: DMA to the unmapped %#llx changed RAM at +%zu",
			    who, (unsigned long long)iova + XFER, i);
			return FAIL;
		}
	return PASS;
}

static size_t buf_len(void)
{
	return (4 * XFER + pgsz - 1) & ~(pgsz - 1);
}

static const char *type_name(void)
{
	return opt_v2 ? "v2" : "v1";
}

static int need_shared(void)
{
	say("SKIP %s %s %s", "pseries: every DMA window is its PE's own",
	    "(a fixed window before v6.4, a hypervisor window made for one PE after),",
	    "so a second group is refused (-EBUSY, its own case)");
	return SKIP;
}

/* Group B joins A's container: accepted where tables are shared. */
static int t_join(void)
{
	struct mg m;
	size_t len = buf_len();
	uint8_t *buf = lv_buf(len);
	int rc = PASS;

	mg_init(&m);
	if (!opt_shared)
		return need_shared();
	CHECK(buf, "mmap: %s", strerror(errno));
	if (mg_open(&m, 0, true, false, buf, len))
		return FAIL;
	CHECK(m.join == 0, "SET_CONTAINER of group B into A's %s container: %s, want 0",
	      type_name(), lv_err(m.join));
out:
	mg_close(&m);
	return rc;
}

/*
 * Where windows are the group's own: group B is refused with -EBUSY, A's
 * container keeps working, and B works in a container of its own (what
 * QEMU does when a group does not join: it opens another container),
 * through the same buffer (v2: registered by both, counted once).
 */
static int t_refused(void)
{
	struct mg m, n;
	size_t len = buf_len();
	uint8_t *buf = lv_buf(len);
	long kb0 = vmlck_kb(), r;
	uint64_t iova;
	int rc = PASS;

	mg_init(&m);
	mg_init(&n);
	if (opt_shared) {
		say("SKIP %s %s", "powernv: one table is programmed into every group,",
		    "a second group joins (its own case)");
		return SKIP;
	}
	CHECK(buf, "mmap: %s", strerror(errno));
	if (mg_open(&m, 0, true, true, buf, len))
		return FAIL;
	iova = pick_iova(&m);
	r = lv_map(m.ctr, iova, buf, len);
	/* the finding this case was written for: joined, then nothing works */
	CHECK(m.join == -EBUSY, "B into A's %s container: %s, want EBUSY; A's MAP then: %s",
	      type_name(), lv_err(m.join), lv_err(r));
	CHECK(r == 0, "A's MAP after B was refused: %s", lv_err(r));
	fill(buf, XFER, 0x3a01);
	if (copy_through(&m.dev[0], "A", buf, iova, 0, XFER, 0x3a01) != PASS) {
		rc = FAIL;
		goto out;
	}
	if (mg_open(&n, 1, false, true, buf, len))
		return FAIL;
	r = lv_map(n.ctr, iova, buf, len);
	CHECK(r == 0, "B's own container: MAP of the same buffer: %s",
	      lv_err(r));
	/* B reads what A wrote and writes it further on */
	if (copy_through(&n.dev[0], "B", buf, iova, XFER, 2 * XFER, 0x3a01) !=
	    PASS) {
		rc = FAIL;
		goto out;
	}
	r = lv_unmap(n.ctr, iova, len);
	CHECK(r == 0, "B: UNMAP: %s", lv_err(r));
	r = lv_unmap(m.ctr, iova, len);
	CHECK(r == 0, "A: UNMAP: %s", lv_err(r));
	mg_close(&n);
	mg_close(&m);
	CHECK(vmlck_kb() == kb0, "both containers closed: VmLck %ld kB, start %ld",
	      vmlck_kb(), kb0);
out:
	mg_close(&n);
	mg_close(&m);
	return rc;
}

/*
 * One MAP (v2: after one REGISTER) serves both devices: the TCEs are set
 * once, the pages pinned once, and DMA from each device lands in the
 * same buffer. Then UNMAP blocks both: a device -> RAM DMA from either
 * to the old bus address leaves RAM untouched.
 */
static int t_one_map(void)
{
	struct mg m;
	size_t len = buf_len();
	uint8_t *buf = lv_buf(len);
	long set0, pin0, maps0, pin_reg, r;
	uint64_t iova;
	int rc = PASS;

	mg_init(&m);
	if (!opt_shared)
		return need_shared();
	CHECK(buf, "mmap: %s", strerror(errno));
	pin0 = lv_stat("pinned_pages");
	if (mg_open(&m, 0, true, true, buf, len))
		return FAIL;
	CHECK(m.join == 0, "group B into the container: %s", lv_err(m.join));
	pin_reg = lv_stat("pinned_pages") - pin0;
	set0 = lv_stat("tces_set");
	maps0 = lv_stat("maps");
	iova = pick_iova(&m);
	r = lv_map(m.ctr, iova, buf, len);
	CHECK(r == 0, "MAP at %#llx: %s", (unsigned long long)iova, lv_err(r));
	CHECK(lv_stat("maps") - maps0 == 1 &&
	      lv_stat("tces_set") - set0 == (long)(len >> 12),
	      "one MAP for two groups: maps +%ld, TCEs set +%ld, want +1 and +%zu",
	      lv_stat("maps") - maps0, lv_stat("tces_set") - set0, len >> 12);
	CHECK(lv_stat("pinned_pages") - pin0 == (long)(len / pgsz),
	      "pages pinned for the buffer: %ld (%ld at REGISTER), want %ld, once for both groups",
	      lv_stat("pinned_pages") - pin0, pin_reg, (long)(len / pgsz));
	if (both_through(&m, iova, 0x3b01) != PASS) {
		rc = FAIL;
		goto out;
	}
	r = lv_unmap(m.ctr, iova, len);
	CHECK(r == 0, "UNMAP: %s", lv_err(r));
	if (blocked(&m.dev[0], "A", buf, len, iova) != PASS ||
	    blocked(&m.dev[1], "B", buf, len, iova) != PASS)
		rc = FAIL;
out:
	mg_close(&m);
	return rc;
}

/*
 * v2: a window created after both groups joined is programmed into both.
 * The default window goes first, so that the new one can take bus
 * address 0, inside edu's 28-bit DMA mask; one table is made for both.
 */
static int t_ddw(void)
{
	struct mg m;
	size_t len = buf_len();
	uint8_t *buf = lv_buf(len);
	uint64_t start = ~0ull, iova;
	long made0, r;
	int rc = PASS;

	mg_init(&m);
	if (!opt_shared)
		return need_shared();
	CHECK(buf, "mmap: %s", strerror(errno));
	if (mg_open(&m, 0, true, true, buf, len))
		return FAIL;
	CHECK(m.join == 0, "group B into the container: %s", lv_err(m.join));
	CHECK(m.info.flags & VFIO_IOMMU_SPAPR_INFO_DDW,
	      "GET_INFO with two groups: no DDW flag (flags %#x)", m.info.flags);
	r = lv_remove(m.ctr, m.info.dma32_window_start);
	CHECK(r == 0, "REMOVE of the default window: %s", lv_err(r));
	made0 = lv_stat("windows_created");
	r = lv_create(m.ctr, 12, EDU_DMA_LIMIT, &start);
	CHECK(r == 0, "CREATE (4K TCEs, 256 MiB) with two groups: %s", lv_err(r));
	CHECK(lv_stat("windows_created") - made0 == 1,
	      "CREATE with two groups made %ld tables, want 1",
	      lv_stat("windows_created") - made0);
	if (start) {
		say("SKIP the window was placed at %#llx, beyond edu's 28-bit DMA mask",
		    (unsigned long long)start);
		rc = SKIP;
		goto out;
	}
	iova = start + (16u << 20);
	r = lv_map(m.ctr, iova, buf, len);
	CHECK(r == 0, "MAP into the new window at %#llx: %s",
	      (unsigned long long)iova, lv_err(r));
	if (both_through(&m, iova, 0x3c01) != PASS) {
		rc = FAIL;
		goto out;
	}
	r = lv_unmap(m.ctr, iova, len);
	CHECK(r == 0, "UNMAP: %s", lv_err(r));
	r = lv_remove(m.ctr, start);
	CHECK(r == 0, "REMOVE of the new window: %s", lv_err(r));
out:
	mg_close(&m);
	return rc;
}

struct acct {
	long kb, pinned, charged, live, regions;
};

static void acct_read(struct acct *a)
{
	a->kb = vmlck_kb();
	a->pinned = lv_stat("pinned_pages");
	a->charged = lv_stat("charged_pages");
	a->live = lv_stat("tces_set") - lv_stat("tces_cleared");
	a->regions = lv_stat("regions");
}

static bool acct_same(const struct acct *a, const struct acct *b,
		      const char *when)
{
	if (!memcmp(a, b, sizeof(*a)))
		return true;
	/* each now/before */
	say("%s: VmLck %ld/%ld kB, pinned %ld/%ld, charged %ld/%ld, TCEs %ld/%ld, regs %ld/%ld",
	    when, b->kb, a->kb, b->pinned, a->pinned, b->charged, a->charged,
	    b->live, a->live, b->regions, a->regions);
	return false;
}

/*
 * Group B leaves while the buffer is mapped: A's device still reaches
 * it, nothing is given back or taken (VmLck, our counters), and B's
 * device, in a container of its own with nothing mapped, no longer
 * reaches the old bus address. Everything closed: all back to start.
 */
static int t_detach(void)
{
	struct mg m, n;
	struct acct a0, a1, a2;
	size_t len = buf_len();
	uint8_t *buf = lv_buf(len);
	uint64_t iova;
	long r;
	int rc = PASS;

	mg_init(&m);
	mg_init(&n);
	if (!opt_shared)
		return need_shared();
	CHECK(buf, "mmap: %s", strerror(errno));
	acct_read(&a0);
	if (mg_open(&m, 0, true, true, buf, len))
		return FAIL;
	CHECK(m.join == 0, "group B into the container: %s", lv_err(m.join));
	iova = pick_iova(&m);
	r = lv_map(m.ctr, iova, buf, len);
	CHECK(r == 0, "MAP: %s", lv_err(r));
	if (both_through(&m, iova, 0x3d01) != PASS) {
		rc = FAIL;
		goto out;
	}
	acct_read(&a1);
	lv_dev_close(&m.dev[1]);
	r = xioctl(m.grp[1], VFIO_GROUP_UNSET_CONTAINER, NULL);
	CHECK(r == 0, "GROUP_UNSET_CONTAINER of B: %s", lv_err(r));
	close(m.grp[1]);
	m.grp[1] = -1;
	acct_read(&a2);
	if (!acct_same(&a1, &a2, "after B left")) {
		rc = FAIL;
		goto out;
	}
	fill(buf, XFER, 0x3d02);
	if (copy_through(&m.dev[0], "A", buf, iova, 0, XFER, 0x3d02) != PASS) {
		rc = FAIL;
		goto out;
	}
	/* B alone, nothing mapped in its new container: the old address is gone */
	if (mg_open(&n, 1, false, true, buf, len))
		return FAIL;
	if (blocked(&n.dev[0], "B", buf, len, iova) != PASS) {
		rc = FAIL;
		goto out;
	}
	fill(buf, XFER, 0x3d03);
	if (copy_through(&m.dev[0], "A", buf, iova, 0, XFER, 0x3d03) != PASS) {
		rc = FAIL;
		goto out;
	}
	r = lv_unmap(m.ctr, iova, len);
	CHECK(r == 0, "A: UNMAP: %s", lv_err(r));
	mg_close(&n);
	mg_close(&m);
	acct_read(&a2);
	if (!acct_same(&a0, &a2, "everything closed"))
		rc = FAIL;
out:
	mg_close(&n);
	mg_close(&m);
	return rc;
}

/* Documented, and not buildable in the lab: say why. */
static int t_incompatible(void)
{
	say("SKIP %s %s %s %s", "every group of a lab machine has the same table ops",
	    "(powernv: one PHB model; pseries: one ops for every PHB, or none before v6.4);",
	    "an -EPERM pair needs PEs of two kinds in one machine",
	    "(e.g. an NVLink NPU beside a PHB), which QEMU does not emulate");
	return SKIP;
}

/* What the registering thread of t_map_vs_register() did */
struct churn {
	int ctr;
	uint8_t *buf;
	volatile bool stop;
	long ops, errors, first_error;
};

#define CHURN_PAGES	64

/* Registers and unregisters every other page of @c->buf until told to stop */
static void *churn_regions(void *arg)
{
	struct churn *c = arg;
	long r;
	int i;

	while (!c->stop) {
		for (i = 0; i < 2 * CHURN_PAGES; i++) {
			r = lv_register(c->ctr, i < CHURN_PAGES,
					c->buf + 2 * (i % CHURN_PAGES) * pgsz, pgsz);
			if (r && !c->errors++)
				c->first_error = r;
			/* read by the mapping thread while this one runs */
			__atomic_add_fetch(&c->ops, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/*
 * The race lasts RACE_MS, and longer, up to RACE_MAX_MS, until B has made
 * more than a round of registrations: on the debug kernel (KASAN,
 * lockdep) with the host busy, B made one round, 128, in 3 s.
 */
#define RACE_MS		3000
#define RACE_MAX_MS	60000

static bool race_on(struct churn *c, long t0)
{
	long ms = now_ms() - t0;

	return ms < RACE_MS ||
	       (ms < RACE_MAX_MS &&
		__atomic_load_n(&c->ops, __ATOMIC_RELAXED) <= 2 * CHURN_PAGES);
}

/*
 * A process's registered memory is one set, whichever of its containers
 * registered it: container A's MAP looks its region up without a lock
 * (under RCU) while a thread registers and unregisters pages of another
 * buffer through container B, changing the same set. Every MAP of A's
 * registered buffer must succeed, every registration of B too, and
 * nothing may fault: before the set's tree freed its replaced nodes only
 * after a grace period, a MAP here read a freed node and oopsed at once
 * (vs_region_lookup, two CPUs, 6.12).
 */
static int t_map_vs_register(void)
{
	struct churn c = { .ctr = -1 };
	size_t len = buf_len();
	uint8_t *buf = lv_buf(len);
	long maps = 0, fails = 0, first = 0, r, t0;
	bool running = false;
	struct mg m, n;
	pthread_t t;
	uint64_t iova;
	int rc = PASS;

	mg_init(&m);
	mg_init(&n);
	c.buf = lv_buf(2 * CHURN_PAGES * pgsz);
	CHECK(buf && c.buf, "mmap: %s", strerror(errno));
	/* each in a container of its own: every platform allows that */
	if (mg_open(&m, 0, false, false, buf, len) ||
	    mg_open(&n, 1, false, false, c.buf + pgsz, pgsz))
		return FAIL;
	c.ctr = n.ctr;
	iova = pick_iova(&m);
	r = pthread_create(&t, NULL, churn_regions, &c);
	CHECK(!r, "pthread_create: %s", strerror(r));
	running = true;
	t0 = now_ms();
	while (race_on(&c, t0)) {
		r = lv_map(m.ctr, iova, buf, len);
		maps++;
		if (r) {
			if (!fails++)
				first = r;
			continue;
		}
		r = lv_unmap(m.ctr, iova, len);
		CHECK(r == 0, "A: UNMAP after MAP %ld: %s", maps, lv_err(r));
	}
	c.stop = true;
	pthread_join(t, NULL);
	running = false;
	diag("A: %ld MAP+UNMAP while B made %ld registrations", maps, c.ops);
	CHECK(!fails, "A: %ld of %ld MAPs of its registered buffer failed, the first %s",
	      fails, maps, lv_err(first));
	CHECK(!c.errors, "B: %ld of %ld (un)registrations failed, the first %s",
	      c.errors, c.ops, lv_err(c.first_error));
	CHECK(c.ops > 2 * CHURN_PAGES, "B made only %ld registrations", c.ops);
out:
	if (running) {
		c.stop = true;
		pthread_join(t, NULL);
	}
	mg_close(&n);
	mg_close(&m);
	return rc;
}

struct tcase {
	const char *name;
	int (*fn)(void);
	bool v2_only;
};

static const struct tcase cases[] = {
	{ "second_group_joins_container", t_join, false },
	{ "second_group_refused_ebusy_first_and_own_container_work", t_refused, false },
	{ "one_map_serves_both_devices_then_unmap_blocks_both", t_one_map, false },
	{ "window_created_after_both_joined_serves_both", t_ddw, true },
	{ "detach_one_group_while_mapped_other_works_accounting_exact", t_detach, false },
	{ "incompatible_table_ops_refused_eperm", t_incompatible, true },
	{ "map_while_another_container_of_the_process_registers", t_map_vs_register, true },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
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
	pins1 = lv_pins_settle(pins0);
	if (rc != FAIL && pins1 != pins0) {
		say("%ld pages still pinned after the case's process exited",
		    pins1 - pins0);
		return FAIL;
	}
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "Usage: %s %s\n", "vfio_multi --type v1|v2 --windows shared|own",
		"--group-a N --dev-a BDF --group-b M --dev-b BDF [--case REGEX] [--list]");
	exit(2);
}

static bool selected(const struct tcase *c, const char *pat, regex_t *re)
{
	char name[160];

	if (c->v2_only && !opt_v2)
		return false;
	snprintf(name, sizeof(name), "%s_%s", type_name(), c->name);
	return !pat || !regexec(re, name, 0, NULL, 0);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "group-a", 1, NULL, 'g' }, { "dev-a", 1, NULL, 'd' },
		{ "group-b", 1, NULL, 'G' }, { "dev-b", 1, NULL, 'D' },
		{ "type", 1, NULL, 't' }, { "windows", 1, NULL, 'w' },
		{ "case", 1, NULL, 'c' }, { "list", 0, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pat = NULL, *type = NULL, *windows = NULL, *reason;
	bool list = false;
	int o, k = 0, n = 0, failed = 0, rc;
	long kb0, pins0, kb, pins;
	unsigned int i;
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
		case 't':
			type = optarg;
			break;
		case 'w':
			windows = optarg;
			break;
		case 'c':
			pat = optarg;
			break;
		case 'l':
			list = true;
			break;
		default:
			usage();
		}
	}
	if (!type || (strcmp(type, "v1") && strcmp(type, "v2")))
		usage();
	opt_v2 = !strcmp(type, "v2");
	if (!list && (!windows || opt_group[0] < 0 || opt_group[1] < 0 ||
		      !opt_dev[0] || !opt_dev[1]))
		usage();
	opt_shared = windows && !strcmp(windows, "shared");
	pgsz = sysconf(_SC_PAGESIZE);
	if (pat && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB))
		usage();
	for (i = 0; i < NCASES; i++)
		if (selected(&cases[i], pat, &re)) {
			n++;
			if (list)
				printf("%s_%s\n", type_name(), cases[i].name);
		}
	if (list)
		return 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%d\n", n + 1);
	diag("%s, %s windows; A: group %d %s, B: group %d %s, page size %ld",
	     type_name(), windows, opt_group[0], opt_dev[0], opt_group[1],
	     opt_dev[1], pgsz);
	kb0 = vmlck_kb();
	pins0 = pins_outstanding();
	for (i = 0; i < NCASES; i++) {
		long t0;

		if (!selected(&cases[i], pat, &re))
			continue;
		k++;
		why[0] = 0;
		t0 = now_ms();
		rc = run_case(&cases[i]);
		diag("%s took %ld ms", cases[i].name, now_ms() - t0);
		reason = strncmp(why, "SKIP ", 5) ? why : why + 5;
		if (rc == SKIP) {
			printf("ok %d %s_%s # SKIP %s\n", k, type_name(),
			       cases[i].name, reason);
		} else if (rc == PASS) {
			printf("ok %d %s_%s\n", k, type_name(), cases[i].name);
		} else {
			printf("not ok %d %s_%s\n# %s\n", k, type_name(),
			       cases[i].name, why);
			failed++;
		}
	}
	kb = vmlck_kb();
	pins = lv_pins_settle(pins0);
	if (kb == kb0 && pins == pins0) {
		printf("ok %d %s_locked_vm_and_pins_back_to_start\n", k + 1,
		       type_name());
	} else {
		printf("not ok %d %s_locked_vm_and_pins_back_to_start\n"
		       "# VmLck %ld kB (start %ld), pins %ld (start %ld)\n",
		       k + 1, type_name(), kb, kb0, pins, pins0);
		failed++;
	}
	return failed ? 1 : 0;
}
