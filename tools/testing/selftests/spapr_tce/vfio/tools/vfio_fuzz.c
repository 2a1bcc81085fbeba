// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_fuzz: seeded random ioctl sequences against the sPAPR TCE VFIO
 * container (vfio_spapr.ko), as an unprivileged VFIO user would send
 * them (CAP_IPC_LOCK dropped, RLIMIT_MEMLOCK finite), and after each
 * phase the proof that nothing was left behind.
 *
 *   vfio_fuzz --seed S --ops N --group G:DDDD:BB:DD.F [--group ...]
 *             [--type v1|v2|both] [--phase REGEX] [--list]
 *
 * Every phase draws from its own generator, seeded from S, the type and
 * the phase name, so "--seed S --ops N --type T --phase P" replays one
 * phase's sequence (the seed is printed at the start and in every
 * failure). The phases, for each container type:
 *
 *   first_tce      a MAP failing at its first TCE returns at once (a
 *                  soft lockup on POWER8 this fuzzer found)
 *   one_container  N random ops on one container: GET_INFO, ENABLE and
 *                  DISABLE, REGISTER/UNREGISTER of valid, overlapping,
 *                  unmapped, unaligned, wrapping, read-only and
 *                  mremapped ranges, CREATE/REMOVE with random geometry,
 *                  MAP/UNMAP of random ranges and flags, EEH ops with
 *                  random codes, random argsz/flags, bad argument
 *                  pointers, RLIMIT_MEMLOCK lowered at random
 *   thp, hugetlb   the same over THP (madvise) or hugetlb memory; SKIP
 *                  when the machine has none
 *   threads        two threads on one container
 *   threads_two_containers  two threads, each on a container of its own
 *                  in one process (their registered memory is the
 *                  process's one set); SKIP with one group
 *   fork           a child works on the inherited fds: refused when the
 *                  parent's process owns the container, accounted to the
 *                  child when the child is the first to use it
 *   close_order    containers, groups and the device closed in random
 *                  orders
 *   two_groups     two groups (two edu devices): one container with both
 *                  or two containers of one process; SKIP with one group
 *   edu_dma        last: a DMA round trip through edu works
 *
 * The model: in the single-threaded phases the program keeps what the
 * container must hold (windows, live mapped ranges, registered regions
 * per container) and checks the answers that follow from it: a MAP never
 * succeeds over a live range, never fails EBUSY without one, never maps
 * unregistered memory; REGISTER and UNREGISTER answer as documented
 * (Documentation/vfio_spapr.rst); a short argsz or unknown flag is never
 * accepted; the kernel writes no byte of an argument it should not.
 * At the end of every phase: every live range unmaps, every region
 * unregisters, and once everything is closed VmLck and the FOLL_PIN
 * counters are back where they began, the module's debugfs counters
 * (containers, regions, pinned and charged pages) are 0, every user
 * buffer still holds its pattern, and /dev/kmsg has no Oops, BUG or
 * WARNING.
 *
 * Known defects of vfio_spapr being fixed elsewhere are steered around
 * where they would trip, each with a comment naming it; FUZZ_REENABLE=
 * 1,2,4,7,A,C sends those patterns again. FUZZ_VERBOSE=1 prints every op
 * as a TAP comment, =2 to the console as it happens (for a hang).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "edu.h"
#include "lab_tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define STATS		"/sys/kernel/debug/vfio_spapr/stats"
#define MAXGRP		2
#define MAXIV		2048
#define MAXREG		64
#define MAXBUF		8
#define NTRACE		24
/* the address RLIMIT_MEMLOCK leaves above what was locked at the start */
#define MEMLOCK_ROOM	(128ull << 20)
/*
 * Defect 7 (vs_range_busy walks every TCE of the range, one hcall each
 * on pseries, without a bound): a valid MAP never covers more TCEs than
 * this. Re-enable with a larger value once it is fixed.
 */
#define MAX_MAP_TCES	512

/* Without the runner's LAB_BAD_LOG: a broader pattern, never a narrower one. */
static const char *default_bad = "(Oops|BUG|WARNING|panic|lockup|stall|Unable to handle)";

/* ------------------------------------------------------------------ */
/* options and machine facts */

struct grp {
	int id;
	char bdf[64];
};

static struct grp grps[MAXGRP];
static int ngrps;
static uint64_t opt_seed;
static long opt_ops = 200;
static int opt_types = 3;	/* 1 v1, 2 v2 */
static const char *opt_phase;
static long pgsz;
static int pgshift;
static bool powernv;
static bool have_eeh;
static long hugesz;		/* hugetlb page size, 0 when none */
static bool have_thp;
static regex_t bad_re;
static int kmsg_fd = -1;
static char **argv_p;
static bool verbose;		/* FUZZ_VERBOSE=1: every op as a TAP comment */
static int console_fd = -1;	/* FUZZ_VERBOSE=2: and on the console, at once */

/*
 * FUZZ_REENABLE=1,2,4,7,A,C: send again the patterns steered away from
 * for those defects (to check a fix, or to show the defect).
 */
static bool reenabled(char defect)
{
	const char *e = getenv("FUZZ_REENABLE");

	return e && strchr(e, defect);
}

/* ------------------------------------------------------------------ */
/* generator: splitmix64 */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rn(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool pct(struct rng *r, int p)
{
	return rn(r, 100) < (uint64_t)p;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h;
}

/* ------------------------------------------------------------------ */
/* failures: the first one of a phase is kept, with the op trace */

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[1024];
static volatile bool failed;
static char fail_trace[NTRACE][200];
static int fail_ntrace;

struct fz;
static void trace_copy(struct fz *f);

static void vfail(struct fz *f, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&fail_lock);
	if (!failed) {
		vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
		trace_copy(f);
		failed = true;
	}
	pthread_mutex_unlock(&fail_lock);
}

static void fail(struct fz *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(f, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* memory pool: every buffer holds a pattern that nothing may change */

enum bkind { BK_NORMAL, BK_THP, BK_HUGE, BK_RO, BK_MREMAP };

struct pbuf {
	uint8_t *p;
	size_t len;
	int kind;
	uint32_t pat;
};

struct pool {
	struct pbuf b[MAXBUF];
	int n;
	uint64_t hole;		/* an address range known unmapped */
	size_t hole_len;
};

static int pool_add(struct pool *pl, size_t len, size_t align, int kind)
{
	struct pbuf *b = &pl->b[pl->n];
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t maplen = len + align;
	uint8_t *m, *p;

	if (kind == BK_HUGE) {
		flags |= MAP_HUGETLB;
		maplen = len;
	}
	m = mmap(NULL, maplen, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	p = kind == BK_HUGE ? m :
	    (uint8_t *)(((uintptr_t)m + align - 1) & ~(align - 1));
	/* trim the alignment slack: the pool owns exactly [p, p + len) */
	if (p != m)
		munmap(m, p - m);
	if (m + maplen != p + len)
		munmap(p + len, m + maplen - (p + len));
	if (kind == BK_THP)
		madvise(p, len, MADV_HUGEPAGE);
	b->p = p;
	b->len = len;
	b->kind = kind;
	b->pat = 0xf0000000u | (pl->n << 20) | (uint32_t)(uintptr_t)p >> 12;
	fill(p, len, b->pat);
	if (kind == BK_RO && mprotect(p, len, PROT_READ))
		return -errno;
	if (kind == BK_MREMAP) {
		/* moved once before any use: its pages are not where they began */
		void *to = mmap(NULL, len + align, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint8_t *t;

		if (to == MAP_FAILED)
			return -errno;
		t = (uint8_t *)(((uintptr_t)to + align - 1) & ~(align - 1));
		if (mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, t) ==
		    MAP_FAILED)
			return -errno;
		b->p = t;
	}
	pl->n++;
	return 0;
}

/* phase pools: kinds of memory that phase works on */
enum { POOL_PLAIN, POOL_THP, POOL_HUGE };

static int pool_init(struct pool *pl, int what)
{
	size_t a64 = pgsz > 0x10000 ? pgsz : 0x10000;
	void *h;
	int r;

	memset(pl, 0, sizeof(*pl));
	r = pool_add(pl, 32 * pgsz, a64, BK_NORMAL);
	if (!r)
		r = pool_add(pl, 8 * pgsz, a64, BK_NORMAL);
	if (!r)
		r = pool_add(pl, 4 * pgsz, a64, BK_RO);
	if (!r)
		r = pool_add(pl, 8 * pgsz, a64, BK_MREMAP);
	if (!r && what == POOL_THP)
		r = pool_add(pl, 4u << 20, 2u << 20, BK_THP);
	if (!r && what == POOL_HUGE)
		r = pool_add(pl, 2 * hugesz, hugesz, BK_HUGE);
	if (r)
		return r;
	h = mmap(NULL, 4 * pgsz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return -errno;
	munmap(h, 4 * pgsz);
	pl->hole = (uintptr_t)h;
	pl->hole_len = 4 * pgsz;
	return 0;
}

static void pool_free(struct pool *pl)
{
	int i;

	for (i = 0; i < pl->n; i++)
		munmap(pl->b[i].p, pl->b[i].len);
	pl->n = 0;
}

/* which buffer, if any, is intact; NULL when all are */
static struct pbuf *pool_damaged(struct pool *pl)
{
	int i;

	for (i = 0; i < pl->n; i++)
		if (!filled(pl->b[i].p, pl->b[i].len, pl->b[i].pat))
			return &pl->b[i];
	return NULL;
}

/* the RW buffer wholly holding [ua, ua + len), or NULL */
static struct pbuf *pool_rw_of(struct pool *pl, uint64_t ua, uint64_t len)
{
	int i;

	for (i = 0; i < pl->n; i++) {
		struct pbuf *b = &pl->b[i];

		if (b->kind != BK_RO && ua >= (uintptr_t)b->p && len &&
		    ua + len >= ua && ua + len <= (uintptr_t)b->p + b->len)
			return b;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* the model */

struct mwin {
	bool on;
	uint64_t start, size;
	int shift;
	unsigned int levels;
};

struct iv {
	uint64_t iova, size, ua;
};

struct ctr {
	int fd;
	int bit;		/* 1 << index in the world */
	bool v2;
	bool enabled;		/* v1 ENABLE; v2 first REGISTER */
	bool used;		/* the container has its mm */
	bool ddw;		/* windows can be created and removed */
	bool dead;		/* its last group went: no driver behind it */
	struct vfio_iommu_spapr_tce_info info;
	struct mwin w[2];
	struct iv *iv;
	int niv;
	bool iv_full;
};

struct mreg {
	uint64_t ua, size;
	unsigned int mask;	/* containers that registered it */
};

struct world {
	struct ctr *c[2];
	int nc;
	struct mreg reg[MAXREG];
	int nreg;
	struct pool *pool;
	bool strict;		/* single thread: check answers against the model */
	bool limited;		/* RLIMIT_MEMLOCK lowered below the room */
	bool may_mremap;
	pthread_mutex_t lock;	/* threads: recording only */
};

struct fz {
	struct rng r;
	struct world *w;
	long opno;
	char tr[NTRACE][200];
	int ntr;
	uint8_t *arg;		/* two pages: the argument area, then PROT_NONE */
	const char *who;
};

/* how often each op was tried and succeeded: a phase that never maps proves little */
enum { K_MAP, K_UNMAP, K_REG, K_UNREG, K_CREATE, K_REMOVE, K_NR };
static const char *const kname[K_NR] = {
	"MAP", "UNMAP", "REGISTER", "UNREGISTER", "CREATE", "REMOVE",
};

static long kcount[K_NR][2];

static void count(int k, long r)
{
	__atomic_fetch_add(&kcount[k][0], 1, __ATOMIC_RELAXED);
	if (!r)
		__atomic_fetch_add(&kcount[k][1], 1, __ATOMIC_RELAXED);
}

static void trace(struct fz *f, const char *fmt, ...)
{
	va_list ap;
	char *s = f->tr[f->ntr++ % NTRACE];
	int n;

	n = snprintf(s, 200, "%s op %ld: ", f->who, f->opno);
	va_start(ap, fmt);
	vsnprintf(s + n, 200 - n, fmt, ap);
	va_end(ap);
	if (verbose)
		printf("# %s\n", s);
	if (console_fd >= 0)
		dprintf(console_fd, "vfio_fuzz: %s\n", s);
}

static void trace_copy(struct fz *f)
{
	int i, k = 0;

	fail_ntrace = 0;
	if (!f)
		return;
	for (i = f->ntr > NTRACE ? f->ntr - NTRACE : 0; i < f->ntr; i++)
		strcpy(fail_trace[k++], f->tr[i % NTRACE]);
	fail_ntrace = k;
}

static const char *en(long r)
{
	static __thread char s[32];

	switch (r) {
	case 0: return "0";
	case -EINVAL: return "EINVAL";
	case -ENOENT: return "ENOENT";
	case -EBUSY: return "EBUSY";
	case -EPERM: return "EPERM";
	case -ENXIO: return "ENXIO";
	case -EFAULT: return "EFAULT";
	case -ENOMEM: return "ENOMEM";
	case -ENOTTY: return "ENOTTY";
	case -ENODEV: return "ENODEV";
	case -ENOSPC: return "ENOSPC";
	case -EIO: return "EIO";
	case -ESRCH: return "ESRCH";
	}
	snprintf(s, sizeof(s), r < 0 ? "errno %ld" : "returned %ld", r < 0 ? -r : r);
	return s;
}

static bool in_set(long r, const long *set, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (r == set[i])
			return true;
	return false;
}

#define ALLOWED(f, what, r, ...) do {					\
	static const long _set[] = { __VA_ARGS__ };			\
	long _r = (r);							\
	if (!in_set(_r, _set, ARRAY_SIZE(_set)))			\
		fail((f), "%s answered %s, not one of its documented answers", \
		     (what), en(_r));					\
} while (0)

static struct mwin *mwin_of(struct ctr *c, uint64_t iova)
{
	int i;

	for (i = 0; i < 2; i++)
		if (c->w[i].on && iova >= c->w[i].start &&
		    iova - c->w[i].start < c->w[i].size)
			return &c->w[i];
	return NULL;
}

static bool ranges_meet(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

static bool iv_overlap(struct ctr *c, uint64_t a, uint64_t s)
{
	int i;

	for (i = 0; i < c->niv; i++)
		if (ranges_meet(a, s, c->iv[i].iova, c->iv[i].size))
			return true;
	return false;
}

static void iv_add(struct ctr *c, uint64_t iova, uint64_t size, uint64_t ua)
{
	if (c->niv == MAXIV) {
		c->iv_full = true;
		return;
	}
	c->iv[c->niv].iova = iova;
	c->iv[c->niv].size = size;
	c->iv[c->niv].ua = ua;
	c->niv++;
}

/* the model's live ranges lose [a, a + s) */
static void iv_cut(struct ctr *c, uint64_t a, uint64_t s)
{
	int i;

	for (i = 0; i < c->niv; i++) {
		struct iv v = c->iv[i];
		uint64_t e = a + s, ve = v.iova + v.size;

		if (!ranges_meet(a, s, v.iova, v.size))
			continue;
		c->iv[i] = c->iv[--c->niv];
		i--;
		if (v.iova < a)
			iv_add(c, v.iova, a - v.iova, v.ua);
		if (ve > e)
			iv_add(c, e, ve - e, v.ua + (e - v.iova));
	}
}

/* is any byte of [ua, ua + len) mapped by a live TCE of a v2 container? */
static bool ua_mapped(struct world *w, uint64_t ua, uint64_t len)
{
	int k, i;

	for (k = 0; k < w->nc; k++) {
		struct ctr *c = w->c[k];

		if (!c || !c->v2 || c->dead)
			continue;
		for (i = 0; i < c->niv; i++)
			if (ranges_meet(ua, len, c->iv[i].ua, c->iv[i].size))
				return true;
	}
	return false;
}

static struct mreg *reg_meeting(struct world *w, uint64_t ua, uint64_t len)
{
	int i;

	for (i = 0; i < w->nreg; i++)
		if (ranges_meet(ua, len, w->reg[i].ua, w->reg[i].size))
			return &w->reg[i];
	return NULL;
}

static struct mreg *reg_holding(struct world *w, uint64_t ua, uint64_t len)
{
	int i;

	for (i = 0; i < w->nreg; i++)
		if (ua >= w->reg[i].ua && len && ua + len >= ua &&
		    ua + len <= w->reg[i].ua + w->reg[i].size)
			return &w->reg[i];
	return NULL;
}

/*
 * Does every TCE-sized piece of [ua, ua + len) lie in a registered
 * region (a mapping may run across adjacent regions)? *@mask: the
 * containers that registered all of them.
 */
static bool ua_registered(struct world *w, uint64_t ua, uint64_t len,
			  int shift, unsigned int *mask)
{
	uint64_t t = 1ull << shift, a;

	*mask = ~0u;
	for (a = ua; a < ua + len; a += t) {
		struct mreg *m = reg_holding(w, a, t);

		if (!m)
			return false;
		*mask &= m->mask;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* ioctls through the argument area */

/*
 * The argument goes at @off in a page full of a canary byte, so that a
 * kernel writing past what it may (@may bytes) is seen; @where picks a
 * good pointer (0), NULL (1), an unmapped one (2) or one whose end runs
 * into the PROT_NONE page (3).
 */
static long fz_ioctl(struct fz *f, int fd, unsigned long req, void *arg,
		     size_t len, size_t may, int where)
{
	uint8_t *page = f->arg, *p, img[512];
	size_t off = 1024, i, in;
	long r;

	if (where == 3 && len > 1)
		off = pgsz - len / 2;
	in = len < pgsz - off ? len : pgsz - off;
	if (in > sizeof(img))
		in = sizeof(img);
	memset(page, 0x6b, pgsz);
	p = page + off;
	if (arg)
		memcpy(p, arg, in);
	memcpy(img, p, in);
	switch (where) {
	case 1:
		p = NULL;
		break;
	case 2:		/* a kernel address */
		p = (uint8_t *)(uintptr_t)0xc000000000010000ull;
		break;
	}
	r = xioctl(fd, req, p);
	if (where == 0 || where == 3) {
		for (i = 0; i < (size_t)pgsz; i++) {
			if (i >= off && i < off + may)
				continue;
			if (page[i] != (i >= off && i < off + in ? img[i - off] : 0x6b)) {
				fail(f, "ioctl %#lx wrote arg byte %zd (may write %zu at %zu)",
				     req, i - off, may, off);
				break;
			}
		}
		if (arg && where == 0)
			memcpy(arg, page + off, len);
	}
	return r;
}

/* a header (argsz, flags) now and then made wrong; true when it was */
static bool bad_header(struct fz *f, uint32_t *argsz, uint32_t *flags,
		       uint32_t minsz, uint32_t good_flags, bool flags_out)
{
	bool bad = false;

	if (pct(&f->r, 8)) {
		static const uint32_t odd[] = { 0, 1, 7, 0xffffffffu, 0x80000000u };

		switch (rn(&f->r, 4)) {
		case 0:
			*argsz = minsz - 1 - rn(&f->r, minsz);
			break;
		case 1:
			*argsz = odd[rn(&f->r, ARRAY_SIZE(odd))];
			break;
		case 2:
			*argsz += 8 * (1 + rn(&f->r, 8));
			break;
		default:
			*argsz = (uint32_t)rnd(&f->r);
		}
		bad = *argsz < minsz;
	}
	if (pct(&f->r, 6)) {
		*flags = (uint32_t)rnd(&f->r) & (pct(&f->r, 50) ? 0xff : ~0u);
		if (*flags & ~good_flags && !flags_out)
			bad = true;
	}
	return bad;
}

static int pick_where(struct fz *f)
{
	if (!pct(&f->r, 3))
		return 0;
	return 1 + rn(&f->r, 3);
}

/* ------------------------------------------------------------------ */
/* what the program's own process looks like from outside */

struct stats {
	long containers, regions, pinned, charged;
};

static int read_stats(struct stats *s)
{
	char name[64];
	long v;
	FILE *fp = fopen(STATS, "r");

	memset(s, 0xff, sizeof(*s));
	if (!fp)
		return -1;
	while (fscanf(fp, "%63[^:]: %ld\n", name, &v) == 2) {
		if (!strcmp(name, "containers"))
			s->containers = v;
		else if (!strcmp(name, "regions"))
			s->regions = v;
		else if (!strcmp(name, "pinned_pages"))
			s->pinned = v;
		else if (!strcmp(name, "charged_pages"))
			s->charged = v;
	}
	fclose(fp);
	return 0;
}

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

static long memlock_room;	/* RLIMIT_MEMLOCK in bytes while fuzzing */

static void memlock_set(uint64_t bytes)
{
	struct rlimit rl;

	getrlimit(RLIMIT_MEMLOCK, &rl);
	rl.rlim_cur = bytes;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < bytes)
		rl.rlim_max = bytes;
	setrlimit(RLIMIT_MEMLOCK, &rl);
}

/* the kernel log since the last call: trouble fails, ours is shown */
static int kmsg_scan(char *bad, size_t badlen)
{
	char rec[2048];
	int shown = 0, found = 0;
	ssize_t n;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		char *msg;

		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (!regexec(&bad_re, msg, 0, NULL, 0) && !found++)
			snprintf(bad, badlen, "%.400s", msg);
		if (strstr(msg, "vfio_spapr") && shown++ < 5)
			diag("kmsg: %s", msg);
	}
	return found;
}

static void kmsg_mark(const char *fmt, ...)
{
	char s[256];
	va_list ap;
	int fd = open("/dev/kmsg", O_WRONLY);
	int n;

	if (fd < 0)
		return;
	n = snprintf(s, sizeof(s), "vfio_fuzz: ");
	va_start(ap, fmt);
	vsnprintf(s + n, sizeof(s) - n, fmt, ap);
	va_end(ap);
	if (write(fd, s, strlen(s)) < 0)
		diag("could not mark the kernel log");
	close(fd);
}

/* ------------------------------------------------------------------ */
/* containers and groups */

static int group_open(const struct grp *g)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", g->id);
	return open(path, O_RDWR);
}

/*
 * A container with @g attached (group fd in *@gfd, opened here unless
 * already open), typed v1 or v2; the model starts as GET_INFO says.
 */
static int ctr_open(struct fz *f, struct ctr *c, int bit, bool v2,
		    const struct grp *g, int *gfd)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	long r;

	memset(c, 0, sizeof(*c));
	c->iv = calloc(MAXIV, sizeof(*c->iv));
	c->bit = bit;
	c->v2 = v2;
	c->fd = open("/dev/vfio/vfio", O_RDWR);
	if (c->fd < 0 || !c->iv) {
		fail(f, "open /dev/vfio/vfio: %s", strerror(errno));
		return -1;
	}
	if (*gfd < 0)
		*gfd = group_open(g);
	if (*gfd < 0) {
		fail(f, "open group %d: %s", g->id, strerror(errno));
		return -1;
	}
	if (ioctl(*gfd, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fail(f, "group %d not viable", g->id);
		return -1;
	}
	r = xioctl(*gfd, VFIO_GROUP_SET_CONTAINER, &c->fd);
	if (r) {
		fail(f, "GROUP_SET_CONTAINER(%d): %s", g->id, en(r));
		return -1;
	}
	r = xioctl(c->fd, VFIO_SET_IOMMU,
		   (void *)(long)(v2 ? VFIO_SPAPR_TCE_v2_IOMMU : VFIO_SPAPR_TCE_IOMMU));
	if (r) {
		fail(f, "SET_IOMMU(%s): %s", v2 ? "v2" : "v1", en(r));
		return -1;
	}
	c->info.argsz = sizeof(c->info);
	r = xioctl(c->fd, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &c->info);
	if (r) {
		fail(f, "GET_INFO: %s", en(r));
		return -1;
	}
	c->ddw = v2 && (c->info.flags & VFIO_IOMMU_SPAPR_INFO_DDW);
	/* the 32-bit window: 4K TCEs, made at first use where it can be */
	c->w[0].on = true;
	c->w[0].start = c->info.dma32_window_start;
	c->w[0].size = c->info.dma32_window_size;
	c->w[0].shift = 12;
	return 0;
}

static void ctr_free(struct ctr *c)
{
	free(c->iv);
	c->iv = NULL;
}

/* Two containers and their groups, as far as they were opened, closed and freed */
static void ctr_pair_close(struct ctr c[2], int gfd[2])
{
	int k;

	for (k = 0; k < 2; k++) {
		if (c[k].fd >= 0)
			close(c[k].fd);
		if (gfd[k] >= 0)
			close(gfd[k]);
		ctr_free(&c[k]);
	}
}

/* ------------------------------------------------------------------ */
/* random arguments */

static struct pbuf *pick_buf(struct fz *f, bool rw)
{
	struct pool *pl = f->w->pool;
	struct pbuf *b;
	int tries = 8;

	do {
		/* the phase's special memory (THP, hugetlb) comes up more */
		if (pl->n > 4 && pct(&f->r, 50))
			b = &pl->b[4 + rn(&f->r, pl->n - 4)];
		else
			b = &pl->b[rn(&f->r, pl->n)];
	} while (rw && b->kind == BK_RO && --tries);
	return b;
}

/* a user range for REGISTER: mostly sane, sometimes not */
static void pick_ua(struct fz *f, uint64_t *ua, uint64_t *len)
{
	struct world *w = f->w;
	struct pbuf *b;
	uint64_t np, k;

	if (w->nreg && pct(&f->r, 25)) {
		/* again a registered region, exactly */
		struct mreg *m = &w->reg[rn(&f->r, w->nreg)];

		*ua = m->ua;
		*len = m->size;
		return;
	}
	b = pick_buf(f, false);
	np = b->len / pgsz;
	k = rn(&f->r, np);
	*ua = (uintptr_t)b->p + k * pgsz;
	*len = (1 + rn(&f->r, np - k)) * pgsz;
	if (pct(&f->r, 30)) {	/* whole buffer: the likeliest to be shared */
		*ua = (uintptr_t)b->p;
		*len = b->len;
	}
	switch (rn(&f->r, 40)) {
	case 0:		/* unaligned address */
		*ua += 1 + rn(&f->r, pgsz - 1);
		break;
	case 1:		/* unaligned size */
		*len += 1 + rn(&f->r, pgsz - 1);
		break;
	case 2:		/* wraps past the top of the address space */
		*ua = -(uint64_t)(1 + rn(&f->r, 4)) * pgsz;
		*len = 8 * pgsz;
		break;
	case 3:		/* unmapped */
		*ua = w->pool->hole;
		*len = w->pool->hole_len;
		break;
	case 4:		/* runs off the end of its buffer into whatever follows */
		*len = b->len + pgsz * (1 + rn(&f->r, 4));
		break;
	case 5:		/* empty */
		*len = 0;
		break;
	case 6:		/* huge: beyond RLIMIT_MEMLOCK */
		*len = (1ull << (30 + rn(&f->r, 20))) & ~(uint64_t)(pgsz - 1);
		break;
	case 7:		/* kernel address */
		*ua = 0xc000000000000000ull + rn(&f->r, 1 << 20) * pgsz;
		break;
	}
}

/* a TCE-aligned user address of @len in a registered region (v2) */
static bool pick_reg_ua(struct fz *f, struct ctr *c, int shift, uint64_t len,
			uint64_t *ua)
{
	struct world *w = f->w;
	int tries;

	for (tries = 0; tries < 8 && w->nreg; tries++) {
		struct mreg *m = &w->reg[rn(&f->r, w->nreg)];
		uint64_t a = (m->ua + (1ull << shift) - 1) & ~((1ull << shift) - 1);
		uint64_t n;

		/*
		 * Defect 1 (closing one container drops a region another
		 * container of the same mm maps, vs_unregister_all): a
		 * container maps only regions it registered itself.
		 */
		if (!(m->mask & c->bit) && !reenabled('1'))
			continue;
		if (a + len > m->ua + m->size || a < m->ua)
			continue;
		n = (m->ua + m->size - len - a) >> shift;
		*ua = a + (rn(&f->r, n + 1) << shift);
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* the ops */

/* Defect 2 (vs_pin takes a THP as one large page for the TCE size). */
static bool thp_backed(struct fz *f, uint64_t ua, uint64_t len)
{
	struct pool *pl = f->w->pool;
	int i;

	for (i = 0; i < pl->n; i++)
		if (pl->b[i].kind == BK_THP &&
		    ranges_meet(ua, len, (uintptr_t)pl->b[i].p, pl->b[i].len))
			return true;
	return false;
}

static void op_map(struct fz *f, struct ctr *c)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m) };
	uint32_t minsz = offsetof(struct vfio_iommu_type1_dma_map, size) + sizeof(__u64);
	struct world *w = f->w;
	struct mwin *win = &c->w[rn(&f->r, 2)];
	uint64_t tce, n, iova, size, ua = 0;
	bool good = true, bad, ua_ok = false;
	unsigned int mask;
	int where, shift;
	long r;

	if (!win->on)
		win = &c->w[0];
	shift = win->on ? win->shift : 12;
	tce = 1ull << shift;
	n = 1 + rn(&f->r, pct(&f->r, 80) ? 8 : MAX_MAP_TCES);
	/* a hot zone near the start: ranges meet often */
	iova = win->start + (rn(&f->r, 256) << shift);
	if (pct(&f->r, 10) && win->size > n * tce)
		iova = win->start + win->size - (rn(&f->r, 2 * n) + 1) * tce;
	if (iova + n * tce > EDU_DMA_LIMIT && win->start < EDU_DMA_LIMIT &&
	    pct(&f->r, 50))
		iova = win->start;
	size = n * tce;
	if (reenabled('7') && pct(&f->r, 5) && win->on) {	/* defect 7 */
		iova = win->start;
		size = win->size;
	}
	if (c->v2) {
		ua_ok = pick_reg_ua(f, c, shift, size, &ua);
		if (!ua_ok || pct(&f->r, 15)) {
			uint64_t l;

			pick_ua(f, &ua, &l);
			ua &= ~(tce - 1);
			ua_ok = false;
		}
	} else {
		struct pbuf *b = pick_buf(f, false);
		uint64_t np = b->len >> shift;

		if (np > n)
			ua = (uintptr_t)b->p + (rn(&f->r, np - n + 1) << shift);
		else
			ua = (uintptr_t)b->p;
		if (pct(&f->r, 5))
			ua = w->pool->hole;
	}
	m.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	if (pct(&f->r, 20))
		m.flags = pct(&f->r, 50) ? VFIO_DMA_MAP_FLAG_READ : VFIO_DMA_MAP_FLAG_WRITE;
	if (pct(&f->r, 3)) {
		m.flags = 0;
		good = false;
	}
	switch (rn(&f->r, 40)) {
	case 0:	/* misaligned iova */
		iova += 1 + rn(&f->r, tce - 1);
		good = false;
		break;
	case 1:	/* misaligned size */
		size += 1 + rn(&f->r, tce - 1);
		good = false;
		break;
	case 2:	/* wraps */
		iova = -(uint64_t)(1 + rn(&f->r, 4)) * tce;
		size = 8 * tce;
		good = false;
		break;
	case 3:	/* anywhere */
		iova = rnd(&f->r) & ~(tce - 1);
		good = false;
		break;
	case 4:	/* empty */
		size = 0;
		good = false;
		break;
	case 5:	/* huge, and iova + size wraps */
		size = -(iova & ~(tce - 1));
		good = false;
		break;
	case 6:	/* runs past the end of the window */
		iova = win->start + win->size - tce;
		size = 2 * tce;
		good = false;
		break;
	case 7:	/* misaligned user address */
		ua += 1 + rn(&f->r, tce - 1);
		good = false;
		break;
	}
	if (thp_backed(f, ua, size) && shift > pgshift && !reenabled('2'))
		return;	/* Defect 2 */
	m.iova = iova;
	m.size = size;
	m.vaddr = ua;
	bad = bad_header(f, &m.argsz, &m.flags, minsz,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, false) ||
	      !m.flags;
	where = pick_where(f);
	r = fz_ioctl(f, c->fd, VFIO_IOMMU_MAP_DMA, &m, sizeof(m), 0, where);
	count(K_MAP, r);
	trace(f, "c%d MAP iova %#llx size %#llx ua %#llx flags %#x argsz %u%s -> %s",
	      c->bit, (unsigned long long)m.iova, (unsigned long long)m.size,
	      (unsigned long long)m.vaddr, m.flags, m.argsz,
	      where ? " (bad pointer)" : "", en(r));
	ALLOWED(f, "MAP_DMA", r, 0, -EINVAL, -ENXIO, -EBUSY, -EFAULT, -ENOMEM,
		-EPERM);
	if (r && r != -EBUSY)
		return;
	if (!r && (bad || where == 1 || where == 2)) {
		fail(f, "MAP_DMA accepted a bad argument (argsz %u flags %#x%s)",
		     m.argsz, m.flags, where ? ", bad pointer" : "");
		return;
	}
	if (w->strict) {
		struct mwin *mw = mwin_of(c, m.iova);

		if (r == -EBUSY) {
			if (!iv_overlap(c, m.iova, m.size) && good && mw &&
			    m.iova + m.size <= mw->start + mw->size)
				fail(f, "MAP_DMA EBUSY over %#llx+%#llx, nothing mapped: stale TCE",
				     (unsigned long long)m.iova,
				     (unsigned long long)m.size);
			return;
		}
		if (iv_overlap(c, m.iova, m.size))
			fail(f, "MAP_DMA replaced a live TCE in %#llx+%#llx",
			     (unsigned long long)m.iova, (unsigned long long)m.size);
		if (!c->enabled)
			fail(f, "MAP_DMA succeeded on a container never enabled");
		if (c->ddw && (!mw || m.iova + m.size > mw->start + mw->size))
			fail(f, "MAP_DMA succeeded at %#llx+%#llx, outside every window",
			     (unsigned long long)m.iova, (unsigned long long)m.size);
		if (c->v2 && !ua_registered(w, m.vaddr, m.size, shift, &mask))
			fail(f, "MAP_DMA mapped ua %#llx+%#llx, which no region holds",
			     (unsigned long long)m.vaddr, (unsigned long long)m.size);
		else if (c->v2 && !(mask & c->bit) && !reenabled('1')) {
			/*
			 * Defect 1: a random address hit another container's
			 * region (see pick_reg_ua()): undo at once.
			 */
			struct vfio_iommu_type1_dma_unmap u = {
				.argsz = sizeof(u), .iova = m.iova, .size = m.size,
			};

			xioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &u);
			trace(f, "c%d UNMAP of it at once (defect 1)", c->bit);
			return;
		}
		iv_add(c, m.iova, m.size, m.vaddr);
		return;
	}
	if (r)
		return;
	pthread_mutex_lock(&w->lock);
	iv_add(c, m.iova, m.size, m.vaddr);
	pthread_mutex_unlock(&w->lock);
}

static void op_unmap(struct fz *f, struct ctr *c)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u) };
	uint32_t minsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) + sizeof(__u64);
	struct mwin *win = &c->w[rn(&f->r, 2)];
	uint64_t tce;
	bool good = true, bad;
	int where;
	long r;

	if (!win->on)
		win = &c->w[0];
	tce = 1ull << win->shift;
	if (c->niv && pct(&f->r, 60)) {
		struct iv *v = &c->iv[rn(&f->r, c->niv)];

		u.iova = v->iova;
		u.size = v->size;
		if (pct(&f->r, 30)) {	/* part of it, or more */
			u.iova += rn(&f->r, v->size / tce) * tce;
			u.size = (1 + rn(&f->r, 8)) * tce;
		}
	} else {
		u.iova = win->start + (rn(&f->r, 256) * tce);
		u.size = (1 + rn(&f->r, 16)) * tce;
	}
	switch (rn(&f->r, 16)) {
	case 0:
		u.iova += 1 + rn(&f->r, tce - 1);
		good = false;
		break;
	case 1:
		u.size += 1 + rn(&f->r, tce - 1);
		good = false;
		break;
	case 2:
		u.iova = -(uint64_t)(1 + rn(&f->r, 4)) * tce;
		u.size = 8 * tce;
		good = false;
		break;
	case 3:
		u.iova = rnd(&f->r) & ~(tce - 1);
		good = false;
		break;
	case 4:
		u.size = 0;
		good = false;
		break;
	case 5:
		u.size = -(u.iova & ~(tce - 1));
		good = false;
		break;
	}
	bad = bad_header(f, &u.argsz, &u.flags, minsz, 0, false);
	if (u.flags)
		good = false;
	where = pick_where(f);
	r = fz_ioctl(f, c->fd, VFIO_IOMMU_UNMAP_DMA, &u, sizeof(u), 0, where);
	count(K_UNMAP, r);
	trace(f, "c%d UNMAP iova %#llx size %#llx flags %#x argsz %u%s -> %s",
	      c->bit, (unsigned long long)u.iova, (unsigned long long)u.size,
	      u.flags, u.argsz, where ? " (bad pointer)" : "", en(r));
	ALLOWED(f, "UNMAP_DMA", r, 0, -EINVAL, -ENXIO, -EPERM, -ENOMEM, -EFAULT);
	if (!r && (bad || where == 1 || where == 2)) {
		fail(f, "UNMAP_DMA accepted a bad argument (argsz %u flags %#x)",
		     u.argsz, u.flags);
		return;
	}
	if (!f->w->strict)
		return;	/* threads: recorded ranges stay, a superset */
	if (!r) {
		iv_cut(c, u.iova, u.size);
		return;
	}
	/* a well-formed UNMAP inside a window of an enabled container works */
	if (good && !bad && !where && c->enabled && c->ddw &&
	    mwin_of(c, u.iova) == win && u.iova >= win->start &&
	    u.iova + u.size <= win->start + win->size &&
	    !(u.iova & (tce - 1)) && !(u.size & (tce - 1)) && r != -ENOMEM)
		fail(f, "well-formed UNMAP_DMA refused: %s", en(r));
}

static void op_register(struct fz *f, struct ctr *c, bool reg)
{
	struct vfio_iommu_spapr_register_memory p = { .argsz = sizeof(p) };
	uint32_t minsz = offsetof(struct vfio_iommu_spapr_register_memory, size) + sizeof(__u64);
	struct world *w = f->w;
	uint64_t ua, len;
	struct mreg *m;
	long r, want = 1;	/* 1: not predicted */
	bool bad;
	int where;

	pick_ua(f, &ua, &len);
	if (!reg && w->nreg && pct(&f->r, 60)) {
		m = &w->reg[rn(&f->r, w->nreg)];
		ua = m->ua;
		len = m->size;
	}
	p.vaddr = ua;
	p.size = len;
	bad = bad_header(f, &p.argsz, &p.flags, minsz, 0, false);
	where = pick_where(f);
	/*
	 * Defect 4 (pseries REMOVE unsets a window before clearing it)
	 * needs a REMOVE; nothing here. The model's answer first:
	 */
	if (!bad && !where && c->v2 && w->strict) {
		bool shape = len && !((ua | len) & (pgsz - 1)) && ua + len > ua;

		m = shape ? reg_meeting(w, ua, len) : NULL;
		if (reg && !shape) {
			want = -EINVAL;
		} else if (reg && m) {
			if (m->ua != ua || m->size != len)
				want = -EINVAL;
			else
				want = m->mask & c->bit ? -EBUSY : 0;
		} else if (reg && pool_rw_of(w->pool, ua, len) && !w->limited &&
			   !reg_meeting(w, ua, len)) {
			want = 0;
		} else if (!reg && !c->used) {
			want = -EPERM;	/* no mm yet: nothing to unregister */
		} else if (!reg && (ua | len) & (pgsz - 1)) {
			want = -EINVAL;
		} else if (!reg) {
			m = reg_holding(w, ua, 1);
			if (!m || m->ua != ua || m->size != len || !(m->mask & c->bit))
				want = -ENOENT;
			else if (m->mask != (unsigned int)c->bit)
				want = 0;
			else
				want = ua_mapped(w, ua, len) ? -EBUSY : 0;
		}
	}
	r = fz_ioctl(f, c->fd, reg ? VFIO_IOMMU_SPAPR_REGISTER_MEMORY :
		     VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &p, sizeof(p), 0, where);
	if (c->v2)
		count(reg ? K_REG : K_UNREG, r);
	trace(f, "c%d %sREGISTER ua %#llx size %#llx flags %#x argsz %u%s -> %s",
	      c->bit, reg ? "" : "UN", (unsigned long long)p.vaddr,
	      (unsigned long long)p.size, p.flags, p.argsz,
	      where ? " (bad pointer)" : "", en(r));
	if (!c->v2) {
		if (r != -ENOTTY)
			fail(f, "v1 %sREGISTER_MEMORY: %s, want ENOTTY",
			     reg ? "" : "UN", en(r));
		return;
	}
	/* past the argument checks the container takes the caller's mm */
	if (!bad && !where && (reg || c->used))
		c->used = true;
	if (reg)
		ALLOWED(f, "REGISTER_MEMORY", r, 0, -EINVAL, -EBUSY, -EFAULT,
			-ENOMEM);
	else
		ALLOWED(f, "UNREGISTER_MEMORY", r, 0, -EINVAL, -EBUSY, -ENOENT,
			-EPERM, -EFAULT);
	if (!r && (bad || where == 1 || where == 2)) {
		fail(f, "%sREGISTER_MEMORY accepted a bad argument (argsz %u flags %#x)",
		     reg ? "" : "UN", p.argsz, p.flags);
		return;
	}
	if (want != 1 && r != want && !(want == 0 && r == -ENOMEM && w->limited)) {
		fail(f, "%sREGISTER_MEMORY %#llx+%#llx: %s, want %s",
		     reg ? "" : "UN", (unsigned long long)ua,
		     (unsigned long long)len, en(r), en(want));
		return;
	}
	if (r)
		return;
	if (!w->strict)
		pthread_mutex_lock(&w->lock);
	c->enabled = true;
	m = reg_holding(w, ua, len);
	if (m && (m->ua != ua || m->size != len))
		m = NULL;
	if (reg) {
		if (!m && w->nreg < MAXREG) {
			m = &w->reg[w->nreg++];
			m->ua = ua;
			m->size = len;
			m->mask = 0;
		}
		if (m)
			m->mask |= c->bit;
	} else if (m && w->strict) {
		m->mask &= ~c->bit;
		if (!m->mask)
			*m = w->reg[--w->nreg];
	}
	if (!w->strict)
		pthread_mutex_unlock(&w->lock);
}

/*
 * A TCE size of the platform's: half the time one the phase's memory can
 * back (the system page, or the hugetlb page in that phase), so that
 * windows get mappings, else any.
 */
static int pick_shift(struct fz *f, uint64_t pgs)
{
	int shift, want = f->w->pool->n > 4 && f->w->pool->b[4].kind == BK_HUGE ?
			  __builtin_ctzl(hugesz) : pgshift;

	if (pct(&f->r, 50)) {
		for (shift = want; shift >= 12; shift--)
			if (pgs & (1ull << shift))
				return shift;
	}
	do {
		shift = rn(&f->r, 64);
	} while (!(pgs & (1ull << shift)));
	return shift;
}

static void op_create(struct fz *f, struct ctr *c)
{
	struct vfio_iommu_spapr_tce_create p = { .argsz = sizeof(p) };
	uint32_t minsz = sizeof(p);
	uint64_t pgs = c->info.ddw.pgsizes;
	uint32_t maxlev = c->info.ddw.levels ? c->info.ddw.levels : 1;
	struct world *w = f->w;
	/* windows made by the hypervisor (pseries), see below */
	bool hv = !powernv && c->ddw;
	int where, shift, i;
	bool bad;
	long r;

	/*
	 * pseries: the stock platform code puts a PE whose DDW create the
	 * hypervisor refuses into its failed_ddw_pdn_list for good: every
	 * later window of that device fails with ENODEV until reboot, for
	 * every user (finding (A), see the report). The hypervisor has two
	 * windows and keeps the 32-bit one even when the container has
	 * dropped its still-owed default window, so a second DDW is always
	 * refused. The generator therefore sends pseries one DDW at a time,
	 * of a geometry the hypervisor accepts; ours refuses the rest first.
	 */
	if (hv && !reenabled('A')) {
		for (i = 0; i < 2; i++)
			if (c->w[i].on && (c->w[i].start != c->info.dma32_window_start ||
					   c->w[i].shift != 12))
				return;
		shift = pick_shift(f, pgs);
		p.page_shift = shift;
		p.levels = 1;
		p.window_size = 1ull << (shift + 4 + rn(&f->r, 12));
		if (p.window_size > (1ull << 36))
			p.window_size = 1ull << 36;
		goto ask;
	}
	if (pgs && pct(&f->r, 70)) {
		shift = pick_shift(f, pgs);
	} else {
		static const int s[] = { 12, 16, 21, 24, 28, 30, 34 };

		shift = pct(&f->r, 60) ? s[rn(&f->r, ARRAY_SIZE(s))] :
			(int)rn(&f->r, 70);
	}
	p.page_shift = shift;
	p.levels = 1 + rn(&f->r, maxlev);
	/* a table of at most 2^17 entries per level on the way */
	p.window_size = 1ull << ((shift + 4 + rn(&f->r, 14 + 8 * (p.levels - 1))) & 63);
	switch (rn(&f->r, 12)) {
	case 0:
		p.window_size = 0;
		break;
	case 1:
		p.window_size = rnd(&f->r);
		break;
	case 2:
		p.window_size |= 1ull << (shift & 63);	/* not a power of 2 */
		break;
	case 3:
		p.levels = pct(&f->r, 50) ? 0 : (uint32_t)rnd(&f->r);
		break;
	case 4:
		p.window_size = 1ull << (rn(&f->r, 64));
		break;
	}
ask:
	bad = bad_header(f, &p.argsz, &p.flags, minsz, 0, false);
	where = pick_where(f);
	r = fz_ioctl(f, c->fd, VFIO_IOMMU_SPAPR_TCE_CREATE, &p, sizeof(p),
		     sizeof(p), where);
	if (c->v2)
		count(K_CREATE, r);
	trace(f, "c%d CREATE shift %u size %#llx levels %u flags %#x argsz %u%s -> %s start %#llx",
	      c->bit, p.page_shift, (unsigned long long)p.window_size, p.levels,
	      p.flags, p.argsz, where ? " (bad pointer)" : "", en(r),
	      (unsigned long long)p.start_addr);
	if (!c->v2) {
		if (r != -ENOTTY)
			fail(f, "v1 CREATE: %s, want ENOTTY", en(r));
		return;
	}
	if (!bad && !where)
		c->used = true;
	ALLOWED(f, "TCE_CREATE", r, 0, -EINVAL, -ENOSPC, -EPERM, -ENOMEM,
		-EFAULT, -EBUSY, -EIO, -ENXIO);
	if (r)
		return;
	if (bad || where == 1 || where == 2) {
		fail(f, "TCE_CREATE accepted a bad argument (argsz %u flags %#x)",
		     p.argsz, p.flags);
		return;
	}
	if (!c->ddw)
		fail(f, "TCE_CREATE succeeded on a container without DDW");
	if (!(pgs & (1ull << shift)))
		fail(f, "TCE_CREATE took page shift %d, not in pgsizes %#llx", shift,
		     (unsigned long long)pgs);
	if (p.start_addr & ((1ull << shift) - 1))
		fail(f, "window start %#llx not aligned to its page",
		     (unsigned long long)p.start_addr);
	if (!w->strict)
		pthread_mutex_lock(&w->lock);
	for (i = 0; i < 2; i++) {
		if (w->strict && c->w[i].on &&
		    ranges_meet(p.start_addr, p.window_size, c->w[i].start,
				c->w[i].size))
			fail(f, "new window %#llx+%#llx meets window %#llx+%#llx",
			     (unsigned long long)p.start_addr,
			     (unsigned long long)p.window_size,
			     (unsigned long long)c->w[i].start,
			     (unsigned long long)c->w[i].size);
	}
	for (i = 0; i < 2; i++) {
		if (!c->w[i].on || (!w->strict && i == 1)) {
			c->w[i].on = true;
			c->w[i].start = p.start_addr;
			c->w[i].size = p.window_size;
			c->w[i].shift = shift;
			c->w[i].levels = p.levels;
			/*
			 * IODA2 (powernv) makes the table at least a page of
			 * TCEs, and the window as large as the table (as
			 * in-tree): a 64K-page kernel's window has at least
			 * 8192 TCEs, whatever was asked.
			 */
			if (powernv && ((uint64_t)pgsz / 8 << shift) > p.window_size)
				c->w[i].size = (uint64_t)pgsz / 8 << shift;
			break;
		}
	}
	if (i == 2 && w->strict)
		fail(f, "TCE_CREATE succeeded with both windows in use");
	if (!w->strict)
		pthread_mutex_unlock(&w->lock);
}

static void unmap_window(struct fz *f, struct ctr *c, struct mwin *mw)
{
	int i;

	for (i = 0; i < c->niv; i++) {
		struct iv *v = &c->iv[i];
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = v->iova, .size = v->size,
		};

		if (!ranges_meet(v->iova, v->size, mw->start, mw->size))
			continue;
		xioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &u);
		trace(f, "c%d UNMAP %#llx+%#llx before REMOVE (defect 4)", c->bit,
		      (unsigned long long)v->iova, (unsigned long long)v->size);
	}
	iv_cut(c, mw->start, mw->size);
}

static void op_remove(struct fz *f, struct ctr *c)
{
	struct vfio_iommu_spapr_tce_remove p = { .argsz = sizeof(p) };
	uint32_t minsz = sizeof(p);
	struct world *w = f->w;
	struct mwin *mw;
	int where;
	bool bad;
	long r;

	switch (rn(&f->r, 6)) {
	case 0:
		p.start_addr = 0;
		break;
	case 1:
		p.start_addr = rnd(&f->r);
		break;
	case 2:
		p.start_addr = 1ull << 59;
		break;
	default:
		mw = &c->w[rn(&f->r, 2)];
		p.start_addr = mw->start + (pct(&f->r, 10) ? 1ull << mw->shift : 0);
	}
	bad = bad_header(f, &p.argsz, &p.flags, minsz, 0, false);
	where = pick_where(f);
	mw = mwin_of(c, p.start_addr);
	/*
	 * Defect 4 (pseries REMOVE unsets the window before clearing its
	 * TCEs, so their pages and region counts are never given back): on
	 * pseries a window is emptied before it is removed, and with two
	 * threads, where that cannot be made sure of, never removed.
	 */
	if (!powernv && c->ddw && mw && w->strict && !reenabled('4'))
		unmap_window(f, c, mw);
	if (!powernv && c->ddw && !w->strict && !reenabled('4'))
		return;
	r = fz_ioctl(f, c->fd, VFIO_IOMMU_SPAPR_TCE_REMOVE, &p, sizeof(p), 0,
		     where);
	if (c->v2)
		count(K_REMOVE, r);
	trace(f, "c%d REMOVE start %#llx flags %#x argsz %u%s -> %s", c->bit,
	      (unsigned long long)p.start_addr, p.flags, p.argsz,
	      where ? " (bad pointer)" : "", en(r));
	if (!c->v2) {
		if (r != -ENOTTY)
			fail(f, "v1 REMOVE: %s, want ENOTTY", en(r));
		return;
	}
	if (!bad && !where)
		c->used = true;
	ALLOWED(f, "TCE_REMOVE", r, 0, -EINVAL, -EPERM, -EFAULT, -ENXIO);
	if (r)
		return;
	if (bad || where == 1 || where == 2) {
		fail(f, "TCE_REMOVE accepted a bad argument (argsz %u flags %#x)",
		     p.argsz, p.flags);
		return;
	}
	if (!c->ddw)
		fail(f, "TCE_REMOVE succeeded on a container without DDW");
	if (!w->strict)
		return;	/* threads: the model's windows stay, a superset */
	/* start 0 cancels the default window while it is still owed */
	if (!p.start_addr && (!mw || mw->start) && c->w[0].on &&
	    c->w[0].start == c->info.dma32_window_start)
		mw = &c->w[0];
	else if (!mw || mw->start != p.start_addr) {
		fail(f, "TCE_REMOVE of %#llx succeeded where the model has no window start",
		     (unsigned long long)p.start_addr);
		return;
	}
	iv_cut(c, mw->start, mw->size);
	mw->on = false;
}

static void op_info(struct fz *f, struct ctr *c)
{
	struct vfio_iommu_spapr_tce_info in;
	uint32_t minsz = offsetof(struct vfio_iommu_spapr_tce_info,
					  dma32_window_size) + sizeof(__u32);
	size_t may;
	bool bad;
	int where;
	long r;

	memset(&in, 0, sizeof(in));
	in.argsz = pct(&f->r, 20) ? minsz : sizeof(in);
	bad = bad_header(f, &in.argsz, &in.flags, minsz, 0, true);
	where = pick_where(f);
	may = in.argsz >= sizeof(in) ? sizeof(in) : minsz;
	r = fz_ioctl(f, c->fd, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in, sizeof(in),
		     may, where);
	trace(f, "c%d GET_INFO argsz %u%s -> %s", c->bit, in.argsz,
	      where ? " (bad pointer)" : "", en(r));
	ALLOWED(f, "GET_INFO", r, 0, -EINVAL, -EFAULT);
	if (r || where)
		return;
	if (bad)
		fail(f, "GET_INFO accepted argsz %u", in.argsz);
	else if (in.dma32_window_start != c->info.dma32_window_start ||
		 in.dma32_window_size != c->info.dma32_window_size)
		fail(f, "GET_INFO dma32 window changed: %#x+%#x, was %#x+%#x",
		     in.dma32_window_start, in.dma32_window_size,
		     c->info.dma32_window_start, c->info.dma32_window_size);
	else if (!!(in.flags & VFIO_IOMMU_SPAPR_INFO_DDW) != c->ddw)
		fail(f, "GET_INFO DDW flag changed: flags %#x", in.flags);
}

static void op_enable(struct fz *f, struct ctr *c)
{
	bool en_ = pct(&f->r, 60);
	long r = xioctl(c->fd, en_ ? VFIO_IOMMU_ENABLE : VFIO_IOMMU_DISABLE, NULL);
	long want = c->v2 ? -ENOTTY : !en_ ? 0 : c->enabled ? -EBUSY : 0;

	trace(f, "c%d %s -> %s", c->bit, en_ ? "ENABLE" : "DISABLE", en(r));
	if (f->w->strict && r != want)
		fail(f, "%s: %s, want %s", en_ ? "ENABLE" : "DISABLE", en(r),
		     en(want));
	if (!c->v2 && !r) {
		c->enabled = en_;
		if (en_)
			c->used = true;
	}
}

/*
 * EEH: random op codes, except those that change the device rather than
 * the container (DISABLE, the resets, a real error injection): they would
 * leave edu frozen for the final DMA, and a reset costs ~10 s of OPAL
 * under TCG. An INJECT_ERR goes with a short argsz (refused).
 */
static void op_eeh(struct fz *f, struct ctr *c)
{
	struct vfio_eeh_pe_op op = { .argsz = sizeof(op) };
	static const uint32_t ok[] = {
		VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_UNFREEZE_IO,
		VFIO_EEH_PE_UNFREEZE_DMA, VFIO_EEH_PE_GET_STATE,
		VFIO_EEH_PE_CONFIGURE,
	};
	long r;

	switch (rn(&f->r, 4)) {
	case 0:
		op.op = 11 + rn(&f->r, 1000);
		break;
	case 1:
		op.op = (uint32_t)rnd(&f->r);
		if (op.op <= VFIO_EEH_PE_INJECT_ERR)
			op.op = VFIO_EEH_PE_GET_STATE;
		break;
	case 2:
		op.op = VFIO_EEH_PE_INJECT_ERR;
		op.argsz = offsetof(struct vfio_eeh_pe_op, op) + sizeof(__u32);
		break;
	default:
		op.op = ok[rn(&f->r, ARRAY_SIZE(ok))];
	}
	if (pct(&f->r, 10))
		op.flags = 1 + rn(&f->r, 255);
	r = fz_ioctl(f, c->fd, VFIO_EEH_PE_OP, &op, sizeof(op), 0, pick_where(f));
	trace(f, "c%d EEH_PE_OP op %u flags %#x argsz %u -> %s", c->bit, op.op,
	      op.flags, op.argsz, en(r));
	if (!r && (op.flags || op.op > VFIO_EEH_PE_INJECT_ERR ||
		   op.op == VFIO_EEH_PE_INJECT_ERR))
		fail(f, "EEH_PE_OP accepted op %u flags %#x argsz %u", op.op,
		     op.flags, op.argsz);
}

/* another type's ioctls and ioctls nobody serves */
static void op_wrong(struct fz *f, struct ctr *c)
{
	static const unsigned long reqs[] = {
		/* (type1's GET_INFO and DIRTY_PAGES share sPAPR numbers) */
		_IO(VFIO_TYPE, VFIO_BASE + 25), _IO(VFIO_TYPE, VFIO_BASE + 40),
		_IO(VFIO_TYPE, VFIO_BASE + 99),
	};
	uint8_t junk[64];
	long r;

	memset(junk, 0, sizeof(junk));
	*(uint32_t *)junk = sizeof(junk);
	if (pct(&f->r, 50)) {
		if (c->v2)
			op_enable(f, c);
		else if (pct(&f->r, 50))
			op_register(f, c, pct(&f->r, 50));
		else if (pct(&f->r, 50))
			op_create(f, c);
		else
			op_remove(f, c);
		return;
	}
	r = fz_ioctl(f, c->fd, reqs[rn(&f->r, ARRAY_SIZE(reqs))], junk,
		     sizeof(junk), 0, 0);
	trace(f, "c%d unknown ioctl -> %s", c->bit, en(r));
	if (r != -ENOTTY && r != -EINVAL)
		fail(f, "an ioctl nobody serves answered %s", en(r));
}

/* move the mremap buffer: registered ranges stay where they were */
static void op_mremap(struct fz *f)
{
	struct pool *pl = f->w->pool;
	struct pbuf *b = &pl->b[3];
	size_t a = pgsz > 0x10000 ? pgsz : 0x10000;
	void *to = mmap(NULL, b->len + a, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	uint8_t *t;

	if (to == MAP_FAILED)
		return;
	t = (uint8_t *)(((uintptr_t)to + a - 1) & ~(a - 1));
	if (mremap(b->p, b->len, b->len, MREMAP_MAYMOVE | MREMAP_FIXED, t) ==
	    MAP_FAILED) {
		munmap(to, b->len + a);
		return;
	}
	trace(f, "mremap buffer %p -> %p", b->p, t);
	b->p = t;
}

static void op_memlock(struct fz *f)
{
	long kb = vmlck_kb();

	if (f->w->limited || pct(&f->r, 30)) {
		memlock_set(memlock_room);
		f->w->limited = false;
		trace(f, "RLIMIT_MEMLOCK back to %ld", memlock_room);
		return;
	}
	memlock_set((uint64_t)kb * 1024 + rn(&f->r, 8) * pgsz);
	f->w->limited = true;
	trace(f, "RLIMIT_MEMLOCK at VmLck %ld kB + a little", kb);
}

static void one_op(struct fz *f, struct ctr *c, bool solo)
{
	uint64_t k = rn(&f->r, 100);

	f->opno++;
	/* a DDW container with no window left gets one, now and then */
	if (c->ddw && !c->w[0].on && !c->w[1].on && k < 40)
		k = 66;
	if (k < 26)
		op_map(f, c);
	else if (k < 42)
		op_unmap(f, c);
	else if (k < 56)
		c->v2 ? op_register(f, c, true) : op_enable(f, c);
	else if (k < 66)
		c->v2 ? op_register(f, c, false) : op_enable(f, c);
	else if (k < 74)
		c->v2 ? op_create(f, c) : op_map(f, c);
	else if (k < 79)
		c->v2 && pct(&f->r, 60) ? op_remove(f, c) : op_unmap(f, c);
	else if (k < 85)
		op_info(f, c);
	else if (k < 89)
		op_eeh(f, c);
	else if (k < 93)
		op_wrong(f, c);
	else if (k < 96 && solo && f->w->may_mremap)
		op_mremap(f);
	else if (solo)
		op_memlock(f);
	else
		op_info(f, c);
}

/* ------------------------------------------------------------------ */
/* the end of a container: everything it holds must go */

static void ctr_drain(struct fz *f, struct ctr *c)
{
	struct world *w = f->w;
	int i;

	if (c->dead || c->fd < 0)
		return;
	memlock_set(memlock_room);
	w->limited = false;
	for (i = 0; i < c->niv; i++) {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = c->iv[i].iova,
			.size = c->iv[i].size,
		};
		long r;

		if (!c->enabled && !c->v2) {
			/* v1 unmaps only while enabled */
			xioctl(c->fd, VFIO_IOMMU_ENABLE, NULL);
			c->enabled = true;
		}
		r = xioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &u);
		trace(f, "c%d drain UNMAP %#llx+%#llx -> %s", c->bit,
		      (unsigned long long)u.iova, (unsigned long long)u.size,
		      en(r));
		/* threads: a recorded range's window may be gone or new */
		if (r && (w->strict || (r != -ENXIO && r != -EINVAL)))
			fail(f, "UNMAP_DMA of live range %#llx+%#llx at the end: %s",
			     (unsigned long long)u.iova,
			     (unsigned long long)u.size, en(r));
	}
	c->niv = 0;
	/*
	 * threads: what a thread recorded may sit in a window since removed
	 * and made again; empty every known window whole (with nothing live
	 * left this clears nothing and costs nothing)
	 */
	for (i = 0; i < 2 && !w->strict; i++) {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = c->w[i].start,
			.size = c->w[i].size,
		};

		if (c->w[i].on)
			trace(f, "c%d drain window %#llx -> %s", c->bit,
			      (unsigned long long)u.iova,
			      en(xioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &u)));
	}
	if (c->iv_full)
		diag("%s: more than %d live ranges, the model kept the first",
		     f->who, MAXIV);
}

/* after every container drained: every region unregisters */
static void world_unregister(struct fz *f)
{
	struct world *w = f->w;
	int i, k;

	for (i = 0; i < w->nreg; i++) {
		struct mreg *m = &w->reg[i];

		for (k = 0; k < w->nc; k++) {
			struct ctr *c = w->c[k];
			struct vfio_iommu_spapr_register_memory p = {
				.argsz = sizeof(p), .vaddr = m->ua, .size = m->size,
			};
			long r;

			if (!c || c->dead || !c->v2 || !(m->mask & c->bit))
				continue;
			r = xioctl(c->fd, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &p);
			trace(f, "c%d drain UNREGISTER %#llx+%#llx -> %s", c->bit,
			      (unsigned long long)m->ua,
			      (unsigned long long)m->size, en(r));
			/* threads: the model's regions are a superset */
			if (r && (w->strict || r != -ENOENT))
				fail(f, "UNREGISTER_MEMORY of %#llx+%#llx with nothing mapped: %s",
				     (unsigned long long)m->ua,
				     (unsigned long long)m->size, en(r));
		}
	}
	w->nreg = 0;
}

/* ------------------------------------------------------------------ */
/* phases */

struct base {
	long kb, pins;
};

static struct base base0;

static int settle_pins(long want)
{
	long p = pins_outstanding();
	int i;

	for (i = 0; i < 100 && p != want; i++) {
		usleep(20000);
		p = pins_outstanding();
	}
	return p;
}

/* the invariants of a phase's end, everything closed */
static void check_end(struct fz *f, struct pool *pl)
{
	struct stats s;
	struct pbuf *b;
	char bad[512];
	long kb, pins;

	memlock_set(memlock_room);
	pins = settle_pins(base0.pins);
	kb = vmlck_kb();
	if (kmsg_scan(bad, sizeof(bad)))
		fail(f, "kernel log: %s", bad);
	if (kb != base0.kb)
		fail(f, "VmLck %ld kB after the phase, %ld kB before", kb, base0.kb);
	if (pins != base0.pins)
		fail(f, "%ld pages pinned (FOLL_PIN) after the phase, %ld before",
		     pins, base0.pins);
	if (read_stats(&s))
		fail(f, "no %s", STATS);
	else if (s.containers || s.regions || s.pinned || s.charged)
		fail(f, "%s: containers %ld regions %ld pinned %ld charged %ld, want 0",
		     STATS, s.containers, s.regions, s.pinned, s.charged);
	b = pl ? pool_damaged(pl) : NULL;
	if (b)
		fail(f, "user buffer at %p (kind %d) lost its pattern", b->p,
		     b->kind);
}

static void fz_init(struct fz *f, struct world *w, uint64_t seed,
		    const char *who)
{
	memset(f, 0, sizeof(*f));
	f->r.s = seed;
	f->w = w;
	f->who = who;
	f->arg = mmap(NULL, 2 * pgsz, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->arg != MAP_FAILED)
		mprotect(f->arg + pgsz, pgsz, PROT_NONE);
}

static void fz_fini(struct fz *f)
{
	if (f->arg && f->arg != MAP_FAILED)
		munmap(f->arg, 2 * pgsz);
}

static void world_init(struct world *w, struct pool *pl, bool strict)
{
	memset(w, 0, sizeof(*w));
	memlock_set(memlock_room);	/* not limited, as the model says */
	w->pool = pl;
	w->strict = strict;
	w->may_mremap = strict;
	pthread_mutex_init(&w->lock, NULL);
}

/* N ops on one container: one_container, thp, hugetlb */
static int ph_single(struct fz *f, bool v2, int what)
{
	struct pool pl;
	struct world w;
	struct ctr c;
	int gfd = -1;
	long i;

	if (what == POOL_THP && !have_thp)
		return -1;
	if (what == POOL_HUGE && !hugesz)
		return -2;
	/*
	 * Gigantic hugetlb pages (beyond the buddy allocator: 16M on a
	 * 4K-page hash kernel, powernv8 6.12) are runtime-allocated
	 * contiguous ranges; the first FOLL_LONGTERM pin of one never came
	 * back there (no lockup report, the phase stopped at its first
	 * MAP). Not this container's to fix: skipped, saying why.
	 */
	if (what == POOL_HUGE && hugesz > pgsz << 10)
		return -4;
	if (pool_init(&pl, what)) {
		fail(f, "memory pool: %s", strerror(errno));
		return 0;
	}
	world_init(&w, &pl, true);
	f->w = &w;
	w.c[0] = &c;
	w.nc = 1;
	if (!ctr_open(f, &c, 1, v2, &grps[0], &gfd)) {
		for (i = 0; i < opt_ops && !failed; i++)
			one_op(f, &c, true);
		ctr_drain(f, &c);
		world_unregister(f);
	}
	close(c.fd);
	if (gfd >= 0)
		close(gfd);
	ctr_free(&c);
	check_end(f, &pl);
	pool_free(&pl);
	return 0;
}

/*
 * Two threads on one container, or (@two) each on a container of its own
 * in the one process: what the containers of a process share (its
 * registered memory, its locked_vm) changes under the other's ops.
 */
struct thr {
	struct fz f;
	struct ctr *c;
	long n;
};

static void *thr_run(void *a)
{
	struct thr *t = a;
	long i;

	for (i = 0; i < t->n && !failed; i++)
		one_op(&t->f, t->c, false);
	return NULL;
}

static int ph_threads(struct fz *f, bool v2, bool two)
{
	int gfd[2] = { -1, -1 }, nc = two ? 2 : 1, i;
	struct thr t[2];
	struct pool pl;
	struct world w;
	struct ctr c[2];
	pthread_t th[2];

	if (two && ngrps < 2)
		return -3;
	if (pool_init(&pl, POOL_PLAIN)) {
		fail(f, "memory pool: %s", strerror(errno));
		return 0;
	}
	world_init(&w, &pl, false);
	f->w = &w;
	memset(c, 0, sizeof(c));
	c[0].fd = -1;
	c[1].fd = -1;
	/*
	 * Defect 8 (GET_INFO reads the group list without the container
	 * lock): the threads never attach or detach a group while the
	 * other runs; only container ioctls race here.
	 */
	for (i = 0; i < nc; i++) {
		if (ctr_open(f, &c[i], 1 << i, v2, &grps[i], &gfd[i]))
			goto out;
		w.c[i] = &c[i];
		w.nc = i + 1;
	}
	for (i = 0; i < 2; i++) {
		fz_init(&t[i].f, &w, rnd(&f->r), i ? "thread1" : "thread0");
		t[i].c = &c[two ? i : 0];
		t[i].n = opt_ops / 2;
		pthread_create(&th[i], NULL, thr_run, &t[i]);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		f->opno += t[i].f.opno;
		fz_fini(&t[i].f);
	}
	/* both threads' ranges, recorded, are a superset of the live ones */
	for (i = 0; i < nc; i++)
		ctr_drain(f, &c[i]);
	world_unregister(f);
out:
	ctr_pair_close(c, gfd);
	check_end(f, &pl);
	pool_free(&pl);
	return 0;
}

/*
 * The parent's process takes the container: a v2 REGISTER (a model op)
 * or a v1 ENABLE.
 */
static void ctr_claim(struct fz *f, struct ctr *c)
{
	struct pbuf *b = &f->w->pool->b[1];
	long r;

	if (c->used)
		return;
	if (c->v2) {
		struct vfio_iommu_spapr_register_memory p = {
			.argsz = sizeof(p), .vaddr = (uintptr_t)b->p, .size = b->len,
		};

		r = xioctl(c->fd, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &p);
		if (!r) {
			struct mreg *m = &f->w->reg[f->w->nreg++];

			m->ua = p.vaddr;
			m->size = p.size;
			m->mask = c->bit;
		}
	} else {
		r = xioctl(c->fd, VFIO_IOMMU_ENABLE, NULL);
	}
	trace(f, "c%d claim (%s) -> %s", c->bit, c->v2 ? "REGISTER" : "ENABLE",
	      en(r));
	if (r && r != -EBUSY)
		fail(f, "claiming the container: %s", en(r));
	c->used = true;
	c->enabled = true;
}

/*
 * A child on the parent's container: every container ioctl, with
 * arguments that would work for the parent, is refused with EPERM.
 */
static void child_refused(struct fz *f, struct ctr *c)
{
	struct world *w = f->w;
	int i;

	for (i = 0; i < 24 && !failed; i++) {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.iova = c->w[0].start + (rn(&f->r, 48) << 12), .size = pgsz,
			.vaddr = (uintptr_t)w->pool->b[1].p,
		};
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = m.iova, .size = pgsz,
		};
		struct vfio_iommu_spapr_register_memory rg = {
			.argsz = sizeof(rg), .vaddr = (uintptr_t)w->pool->b[0].p,
			.size = w->pool->b[0].len,
		};
		struct vfio_iommu_spapr_tce_create cr = {
			.argsz = sizeof(cr), .page_shift = 12,
			.window_size = 1ull << 28, .levels = 1,
		};
		struct vfio_iommu_spapr_tce_remove rm = {
			.argsz = sizeof(rm), .start_addr = c->w[0].start,
		};
		struct vfio_eeh_pe_op eo = {
			.argsz = sizeof(eo), .op = VFIO_EEH_PE_GET_STATE,
		};
		struct vfio_iommu_spapr_tce_info in = { .argsz = sizeof(in) };
		const char *what;
		long r;

		if (c->niv) {
			u.iova = c->iv[0].iova;
			u.size = c->iv[0].size;
		}
		if (w->nreg) {
			rg.vaddr = w->reg[0].ua;
			rg.size = w->reg[0].size;
		}
		f->opno++;
		switch (rn(&f->r, 10)) {
		case 0:
			what = "GET_INFO";
			r = xioctl(c->fd, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in);
			break;
		case 1:
			what = "MAP_DMA";
			r = xioctl(c->fd, VFIO_IOMMU_MAP_DMA, &m);
			break;
		case 2:
			what = "UNMAP_DMA";
			r = xioctl(c->fd, VFIO_IOMMU_UNMAP_DMA, &u);
			break;
		case 3:
			what = "REGISTER_MEMORY";
			r = xioctl(c->fd, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg);
			break;
		case 4:
			what = "UNREGISTER_MEMORY";
			r = xioctl(c->fd, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &rg);
			break;
		case 5:
			what = "TCE_CREATE";
			r = xioctl(c->fd, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr);
			break;
		case 6:
			what = "TCE_REMOVE";
			r = xioctl(c->fd, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
			break;
		case 7:
			what = "ENABLE";
			r = xioctl(c->fd, VFIO_IOMMU_ENABLE, NULL);
			break;
		case 8:
			what = "DISABLE";
			r = xioctl(c->fd, VFIO_IOMMU_DISABLE, NULL);
			break;
		default:
			what = "EEH_PE_OP";
			r = xioctl(c->fd, VFIO_EEH_PE_OP, &eo);
		}
		trace(f, "child %s on the parent's container -> %s", what, en(r));
		if (r != -EPERM)
			fail(f, "child %s on the parent's container: %s, want EPERM",
			     what, en(r));
	}
}

/*
 * fork: the child works on the inherited fds. Mode 0: the container is
 * new, the child's first op makes it the child's (its pins and charges
 * are the child's, given back when the container goes). Modes 1 and 2:
 * the parent's process owns it: every op of the child is refused; in
 * mode 2 the child also takes the group out of the container.
 */
static int ph_fork(struct fz *f, bool v2)
{
	long iters = opt_ops / 100 + 3, it;
	struct pool pl;
	struct world w;
	int gfd = -1;

	if (pool_init(&pl, POOL_PLAIN)) {
		fail(f, "memory pool: %s", strerror(errno));
		return 0;
	}
	for (it = 0; it < iters && !failed; it++) {
		int mode = rn(&f->r, 3), pfd[2], st, k, cused = 0;
		uint64_t cseed = rnd(&f->r);
		char msg[4096] = "";
		long unset = 1;
		struct ctr c;
		ssize_t n;
		pid_t pid;

		world_init(&w, &pl, true);
		f->w = &w;
		w.c[0] = &c;
		w.nc = 1;
		if (ctr_open(f, &c, 1, v2, &grps[0], &gfd))
			break;
		if (mode) {
			for (k = 0; k < 12; k++)
				one_op(f, &c, false);
			ctr_claim(f, &c);
		}
		if (pipe(pfd)) {
			fail(f, "pipe: %s", strerror(errno));
			break;
		}
		trace(f, "fork, mode %d (container %s)", mode,
		      c.used ? "the parent's" : "new");
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			struct world cw = w;	/* the model, as the child has it */
			struct fz cf;
			long r = 1;
			int j;

			close(pfd[0]);
			fz_init(&cf, &cw, cseed, "child");
			cw.may_mremap = false;
			/* the child's copies change; the parent's must not */
			fill(pl.b[0].p, pgsz, 0x0badc0de);
			fill(pl.b[1].p, pgsz, 0x0badc0de);
			if (mode) {
				child_refused(&cf, &c);
				if (mode == 2 && rn(&cf.r, 2))
					r = xioctl(gfd, VFIO_GROUP_UNSET_CONTAINER,
						   NULL);
			} else {
				for (j = 0; j < 24 && !failed; j++)
					one_op(&cf, &c, false);
				if (rn(&cf.r, 2)) {
					/* half the time the child cleans up */
					ctr_drain(&cf, &c);
					world_unregister(&cf);
				}
			}
			if (failed) {
				dprintf(pfd[1], "F %s", fail_msg);
				for (j = 0; j < fail_ntrace; j++)
					dprintf(pfd[1], "\n#   %s", fail_trace[j]);
			} else {
				dprintf(pfd[1], "K %d %ld", c.used, r);
			}
			_exit(0);	/* no close: exit does it */
		}
		close(pfd[1]);
		if (pid < 0) {
			fail(f, "fork: %s", strerror(errno));
			close(pfd[0]);
			break;
		}
		n = read(pfd[0], msg, sizeof(msg) - 1);
		close(pfd[0]);
		waitpid(pid, &st, 0);
		msg[n > 0 ? n : 0] = 0;
		if (msg[0] == 'F')
			fail(f, "child (mode %d): %s", mode, msg + 2);
		else if (msg[0] != 'K' || sscanf(msg + 2, "%d %ld", &cused, &unset) != 2)
			fail(f, "child died (status %#x)", st);
		else if (unset != 1)
			trace(f, "child UNSET_CONTAINER -> %s", en(unset));
		if (pool_damaged(&pl))
			fail(f, "the child's writes reached the parent's buffers");
		if (!mode) {
			long r = xioctl(c.fd, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &c.info);
			long want = cused ? -EPERM : 0;

			trace(f, "parent GET_INFO on the child's container -> %s", en(r));
			if (r != want)
				fail(f, "GET_INFO on the container the child %s: %s, want %s",
				     cused ? "took" : "never used", en(r), en(want));
		} else if (unset != 0) {
			/* the child changed nothing: the parent's state holds */
			ctr_drain(f, &c);
			world_unregister(f);
		}
		/* either order; the group always leaves the container */
		if (rn(&f->r, 2)) {
			close(c.fd);
			xioctl(gfd, VFIO_GROUP_UNSET_CONTAINER, NULL);
		} else {
			xioctl(gfd, VFIO_GROUP_UNSET_CONTAINER, NULL);
			close(c.fd);
		}
		if (rn(&f->r, 2)) {
			close(gfd);
			gfd = -1;
		}
		ctr_free(&c);
	}
	if (gfd >= 0)
		close(gfd);
	check_end(f, &pl);
	pool_free(&pl);
	return 0;
}

/* random close orders, one or two groups, the device open or not */
static int ph_close(struct fz *f, bool v2, bool two)
{
	long iters = two ? opt_ops / 400 + 2 : opt_ops / 100 + 3, it;
	bool dev_opened = false;
	struct pool pl;
	struct world w;

	if (two && ngrps < 2)
		return -3;
	if (pool_init(&pl, POOL_PLAIN)) {
		fail(f, "memory pool: %s", strerror(errno));
		return 0;
	}
	for (it = 0; it < iters && !failed; it++) {
		struct ctr c[2];
		int gfd[2] = { -1, -1 }, dfd = -1, nc = 1, ng = two ? 2 : 1;
		int order[6], no = 0, k, j;
		bool shared = false, t2;
		long r, nops = two ? opt_ops / 4 : 8 + (long)rn(&f->r, 24);

		world_init(&w, &pl, true);
		f->w = &w;
		memset(c, 0, sizeof(c));
		c[0].fd = -1;
		c[1].fd = -1;
		if (ctr_open(f, &c[0], 1, v2, &grps[0], &gfd[0]))
			goto undo;
		w.c[0] = &c[0];
		if (two && pct(&f->r, 50)) {
			/*
			 * one container, both groups: one table for both on
			 * powernv; on pseries every window is its PE's own
			 * (fixed, or made by the hypervisor for one PE: finding
			 * C, a DDW container that took a second group and then
			 * failed every window op with EPERM), so EBUSY, and the
			 * group gets its own container
			 */
			gfd[1] = group_open(&grps[1]);
			r = xioctl(gfd[1], VFIO_GROUP_SET_CONTAINER, &c[0].fd);
			trace(f, "second group into c1 -> %s", en(r));
			ALLOWED(f, "second group SET_CONTAINER", r, 0, -EBUSY);
			shared = !r;
			if (r && c[0].ddw && powernv)
				fail(f, "second group into a powernv DDW container: %s", en(r));
			if (!r && !powernv)
				fail(f, "second group joined a pseries container");
		}
		if (two && !shared) {
			t2 = pct(&f->r, 50);
			if (ctr_open(f, &c[1], 2, t2, &grps[1], &gfd[1]))
				goto undo;
			w.c[1] = &c[1];
			nc = 2;
		}
		w.nc = nc;
		trace(f, "layout: %d container(s), %d group(s)%s", nc, ng,
		      shared ? " in one" : "");
		/* a device open costs ~5 s on powernv under TCG: once a phase */
		if (!dev_opened && pct(&f->r, 30)) {
			dev_opened = true;
			dfd = ioctl(gfd[0], VFIO_GROUP_GET_DEVICE_FD, grps[0].bdf);
			trace(f, "device fd -> %d", dfd);
		}
		for (k = 0; k < nops && !failed; k++)
			one_op(f, w.c[rn(&f->r, nc)], true);
		/* half the time the containers are emptied first, half not */
		if (pct(&f->r, 50)) {
			for (k = 0; k < nc; k++)
				ctr_drain(f, &c[k]);
			world_unregister(f);
		}
		/* 0..1 containers, 2..3 groups (closed), 4..5 groups (unset) */
		for (k = 0; k < nc; k++)
			order[no++] = k;
		for (k = 0; k < ng; k++)
			order[no++] = (pct(&f->r, 30) ? 4 : 2) + k;
		if (dfd >= 0)
			order[no++] = 6;
		for (k = no - 1; k > 0; k--) {
			int s = rn(&f->r, k + 1), t = order[k];

			order[k] = order[s];
			order[s] = t;
		}
		for (k = 0; k < no; k++) {
			j = order[k];
			if (j < 2) {
				trace(f, "close container c%d", j + 1);
				close(c[j].fd);
				c[j].fd = -1;
			} else if (j < 6 && gfd[j & 1] >= 0) {
				if (j >= 4) {
					r = xioctl(gfd[j & 1], VFIO_GROUP_UNSET_CONTAINER,
						   NULL);
					trace(f, "UNSET_CONTAINER group %d -> %s",
					      j & 1, en(r));
					ALLOWED(f, "UNSET_CONTAINER", r, 0, -EBUSY,
						-EINVAL);
				}
				trace(f, "close group %d", j & 1);
				close(gfd[j & 1]);
				gfd[j & 1] = -1;
			} else if (j == 6) {
				trace(f, "close device");
				close(dfd);
			}
			/* what is left open answers, whatever it answers */
			for (j = 0; j < nc; j++)
				if (c[j].fd >= 0)
					xioctl(c[j].fd, VFIO_IOMMU_SPAPR_TCE_GET_INFO,
					       &c[j].info);
		}
		for (k = 0; k < nc; k++)
			ctr_free(&c[k]);
		continue;
undo:
		ctr_pair_close(c, gfd);
		break;
	}
	check_end(f, &pl);
	pool_free(&pl);
	return 0;
}

/*
 * Found by this fuzzer (seed 1200709807, powernv8, 6.12): a MAP whose
 * very first TCE fails (v1: unmapped memory, EFAULT; v2: memory not
 * registered, EINVAL) undid nothing with vs_unmap(size 0), which asked
 * the platform to invalidate 0 TCEs; POWER8's PHB3 invalidation loops
 * up to "index + 0 - 1": from TCE 0 that is the whole 64-bit range, the
 * ioctl never returned (soft lockup). Each such MAP, at TCE 0 and
 * elsewhere, must come back at once, and leave nothing.
 */
static int ph_first_tce(struct fz *f, bool v2)
{
	struct pool pl;
	struct world w;
	struct ctr c;
	int gfd = -1, k;

	if (pool_init(&pl, POOL_PLAIN)) {
		fail(f, "memory pool: %s", strerror(errno));
		return 0;
	}
	world_init(&w, &pl, true);
	f->w = &w;
	w.c[0] = &c;
	w.nc = 1;
	if (!ctr_open(f, &c, 1, v2, &grps[0], &gfd)) {
		struct pbuf *b = &pl.b[1];
		struct vfio_iommu_spapr_register_memory rg = {
			.argsz = sizeof(rg), .vaddr = (uintptr_t)pl.b[0].p,
			.size = pl.b[0].len,
		};
		long r = v2 ? xioctl(c.fd, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &rg) :
			      xioctl(c.fd, VFIO_IOMMU_ENABLE, NULL);

		if (r)
			fail(f, "%s: %s", v2 ? "REGISTER" : "ENABLE", en(r));
		for (k = 0; k < 3 && !failed; k++) {
			struct vfio_iommu_type1_dma_map m = {
				.argsz = sizeof(m),
				.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
				/* TCE 0 of the window (bus address 0 on powernv) */
				.iova = c.info.dma32_window_start +
					(k ? (16u << 20) + k * 4 * pgsz : 0),
				.size = pgsz,
				/* v1: nothing mapped there; v2: not registered */
				.vaddr = v2 ? (uintptr_t)b->p : pl.hole,
			};
			long t0 = now_ms();

			f->opno++;
			r = xioctl(c.fd, VFIO_IOMMU_MAP_DMA, &m);
			trace(f, "MAP iova %#llx ua %#llx (first TCE fails) -> %s in %ld ms",
			      (unsigned long long)m.iova,
			      (unsigned long long)m.vaddr, en(r), now_ms() - t0);
			if (r != (v2 ? -EINVAL : -EFAULT))
				fail(f, "MAP failing at its first TCE: %s, want %s",
				     en(r), v2 ? "EINVAL" : "EFAULT");
			else if (now_ms() - t0 > 2000)
				fail(f, "MAP failing at its first TCE took %ld ms",
				     now_ms() - t0);
		}
		if (v2)
			xioctl(c.fd, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &rg);
	}
	close(c.fd);
	if (gfd >= 0)
		close(gfd);
	ctr_free(&c);
	check_end(f, &pl);
	pool_free(&pl);
	return 0;
}

/* last: edu moves data through a mapping of each group's container */
static int ph_dma(struct fz *f, bool v2)
{
	struct pool pl;
	struct world w;
	int g;

	if (pool_init(&pl, POOL_PLAIN)) {
		fail(f, "memory pool: %s", strerror(errno));
		return 0;
	}
	for (g = 0; g < ngrps && !failed; g++) {
		struct vfio_region_info ri = {
			.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX,
		};
		struct vfio_region_info ci = {
			.argsz = sizeof(ci), .index = VFIO_PCI_CONFIG_REGION_INDEX,
		};
		struct pbuf *b = &pl.b[0];
		volatile uint8_t *bar = MAP_FAILED;
		uint64_t iova;
		int gfd = -1, dfd = -1, rc;
		uint16_t cmd;
		struct ctr c;
		long r;

		world_init(&w, &pl, true);
		f->w = &w;
		if (ctr_open(f, &c, 1, v2, &grps[g], &gfd))
			goto next;
		iova = ((uint64_t)c.info.dma32_window_start + (16u << 20) + 0xffff) &
		       ~0xffffull;
		if (iova + 2 * pgsz > EDU_DMA_LIMIT ||
		    iova + 2 * pgsz > (uint64_t)c.info.dma32_window_start +
				      c.info.dma32_window_size) {
			fail(f, "no IOVA below 256 MiB in window %#x+%#x",
			     c.info.dma32_window_start, c.info.dma32_window_size);
			goto next;
		}
		dfd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, grps[g].bdf);
		if (dfd < 0 || ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
		    ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &ci)) {
			fail(f, "device %s: %s", grps[g].bdf, strerror(errno));
			goto next;
		}
		bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, dfd,
			   ri.offset);
		if (bar == MAP_FAILED || pread(dfd, &cmd, 2, ci.offset + 4) != 2) {
			fail(f, "BAR0 of %s: %s", grps[g].bdf, strerror(errno));
			goto next;
		}
		cmd |= 0x6;
		if (pwrite(dfd, &cmd, 2, ci.offset + 4) != 2) {
			fail(f, "bus master on: %s", strerror(errno));
			goto next;
		}
		r = v2 ? xioctl(c.fd, VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
				&(struct vfio_iommu_spapr_register_memory){
					.argsz = sizeof(struct vfio_iommu_spapr_register_memory),
					.vaddr = (uintptr_t)b->p,
					.size = 2 * pgsz }) :
			 xioctl(c.fd, VFIO_IOMMU_ENABLE, NULL);
		if (!r)
			r = xioctl(c.fd, VFIO_IOMMU_MAP_DMA,
				   &(struct vfio_iommu_type1_dma_map){
					.argsz = sizeof(struct vfio_iommu_type1_dma_map),
					.flags = VFIO_DMA_MAP_FLAG_READ |
						 VFIO_DMA_MAP_FLAG_WRITE,
					.vaddr = (uintptr_t)b->p, .iova = iova,
					.size = 2 * pgsz });
		if (r) {
			fail(f, "REGISTER/ENABLE and MAP for the DMA: %s", en(r));
			goto next;
		}
		/* RAM -> device -> RAM, the copy lands one transfer further */
		fill(b->p, EDU_MAX_XFER & ~3u, 0x5eed0000u ^ (uint32_t)opt_seed);
		memset(b->p + 4096, 0, EDU_MAX_XFER);
		rc = edu_dma(bar, iova, EDU_MAX_XFER & ~3u, false);
		if (!rc)
			rc = edu_dma(bar, iova + 4096, EDU_MAX_XFER & ~3u, true);
		if (rc)
			fail(f, "edu DMA through group %d: %s", grps[g].id,
			     strerror(-rc));
		else if (!filled(b->p + 4096, EDU_MAX_XFER & ~3u,
				 0x5eed0000u ^ (uint32_t)opt_seed))
			fail(f, "edu DMA through group %d: the data did not come back",
			     grps[g].id);
		else
			diag("edu DMA round trip through group %d (%s) at %#llx: ok",
			     grps[g].id, grps[g].bdf, (unsigned long long)iova);
		xioctl(c.fd, VFIO_IOMMU_UNMAP_DMA,
		       &(struct vfio_iommu_type1_dma_unmap){
				.argsz = sizeof(struct vfio_iommu_type1_dma_unmap),
				.iova = iova, .size = 2 * pgsz });
		if (v2)
			xioctl(c.fd, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,
			       &(struct vfio_iommu_spapr_register_memory){
					.argsz = sizeof(struct vfio_iommu_spapr_register_memory),
					.vaddr = (uintptr_t)b->p,
					.size = 2 * pgsz });
		/* the pattern is the DMA's now: the pool's check is not */
		fill(b->p, b->len, b->pat);
next:
		if (bar != MAP_FAILED)
			munmap((void *)bar, ri.size);
		if (dfd >= 0)
			close(dfd);
		close(c.fd);
		if (gfd >= 0)
			close(gfd);
		ctr_free(&c);
	}
	check_end(f, &pl);
	pool_free(&pl);
	return 0;
}

/* ------------------------------------------------------------------ */

struct phase {
	const char *id;		/* --phase matches it */
	const char *name;	/* the TAP name after the type */
	int kind;
};

enum { P_FIRST, P_ONE, P_THP, P_HUGE, P_THREADS, P_THREADS2, P_FORK, P_CLOSE, P_TWO, P_DMA };

static const struct phase phases[] = {
	{ "first_tce", "map_failing_at_its_first_tce_returns_at_once", P_FIRST },
	{ "one_container", "random_ops_one_container_leave_nothing_behind", P_ONE },
	{ "thp", "random_ops_on_thp_memory_leave_nothing_behind", P_THP },
	{ "hugetlb", "random_ops_on_hugetlb_memory_leave_nothing_behind", P_HUGE },
	{ "threads", "two_threads_on_one_container_leave_nothing_behind", P_THREADS },
	{ "threads_two_containers",
	  "two_threads_on_two_containers_of_one_process_leave_nothing_behind", P_THREADS2 },
	{ "fork", "forked_child_on_inherited_fds_refused_or_accounted", P_FORK },
	{ "close_order", "random_close_orders_leave_nothing_behind", P_CLOSE },
	{ "two_groups", "two_groups_random_ops_and_close_orders_leave_nothing_behind", P_TWO },
	{ "edu_dma", "edu_dma_round_trip_after_fuzzing", P_DMA },
};

static int run_phase(const struct phase *p, bool v2, struct fz *f)
{
	switch (p->kind) {
	case P_FIRST:
		return ph_first_tce(f, v2);
	case P_ONE:
		return ph_single(f, v2, POOL_PLAIN);
	case P_THP:
		return ph_single(f, v2, POOL_THP);
	case P_HUGE:
		return ph_single(f, v2, POOL_HUGE);
	case P_THREADS:
		return ph_threads(f, v2, false);
	case P_THREADS2:
		return ph_threads(f, v2, true);
	case P_FORK:
		return ph_fork(f, v2);
	case P_CLOSE:
		return ph_close(f, v2, false);
	case P_TWO:
		return ph_close(f, v2, true);
	case P_DMA:
		return ph_dma(f, v2);
	}
	return 0;
}

static void replay_line(const struct phase *p, const char *t)
{
	int i;

	printf("#   replay: %s --seed %llu --ops %ld --type %s --phase '^%s$'",
	       argv_p[0], (unsigned long long)opt_seed, opt_ops, t, p->id);
	for (i = 0; i < ngrps; i++)
		printf(" --group %d:%s", grps[i].id, grps[i].bdf);
	printf("\n");
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: vfio_fuzz --seed S --ops N --group G:BDF [--group G:BDF] [--type v1|v2|both] [--phase REGEX] [--list]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", 1, NULL, 's' }, { "ops", 1, NULL, 'n' },
		{ "group", 1, NULL, 'g' }, { "type", 1, NULL, 't' },
		{ "phase", 1, NULL, 'p' }, { "list", 0, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bad = getenv("LAB_BAD_LOG");
	bool list = false, seeded = false;
	int o, k = 0, nfail = 0, ti;
	unsigned int i;
	regex_t pre;
	char line[256];
	FILE *fp;

	argv_p = argv;
	verbose = getenv("FUZZ_VERBOSE") && *getenv("FUZZ_VERBOSE") == '1';
	if (getenv("FUZZ_VERBOSE") && *getenv("FUZZ_VERBOSE") == '2')
		console_fd = open("/dev/console", O_WRONLY);
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's':
			opt_seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'n':
			opt_ops = atol(optarg);
			break;
		case 'g':
			if (ngrps == MAXGRP ||
			    sscanf(optarg, "%d:%63s", &grps[ngrps].id,
				   grps[ngrps].bdf) != 2)
				print_usage();
			ngrps++;
			break;
		case 't':
			opt_types = !strcmp(optarg, "v1") ? 1 :
				    !strcmp(optarg, "v2") ? 2 :
				    !strcmp(optarg, "both") ? 3 : 0;
			if (!opt_types)
				print_usage();
			break;
		case 'p':
			opt_phase = optarg;
			break;
		case 'l':
			list = true;
			break;
		default:
			print_usage();
		}
	}
	if (opt_phase && regcomp(&pre, opt_phase, REG_EXTENDED | REG_NOSUB))
		print_usage();
	if (list) {
		for (ti = 1; ti <= 2; ti++)
			for (i = 0; i < ARRAY_SIZE(phases); i++)
				if ((opt_types & ti) &&
				    (!opt_phase || !regexec(&pre, phases[i].id, 0, NULL, 0)))
					printf("v%d_%s\n", ti, phases[i].name);
		return 0;
	}
	if (!ngrps || opt_ops <= 0)
		print_usage();
	if (!seeded)
		opt_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (regcomp(&bad_re, bad && *bad ? bad : default_bad, REG_EXTENDED | REG_NOSUB))
		regcomp(&bad_re, default_bad, REG_EXTENDED | REG_NOSUB);
	pgsz = sysconf(_SC_PAGESIZE);
	pgshift = __builtin_ctzl(pgsz);
	fp = fopen("/proc/cpuinfo", "r");
	while (fp && fgets(line, sizeof(line), fp))
		if (strstr(line, "PowerNV"))
			powernv = true;
	if (fp)
		fclose(fp);
	fp = fopen("/proc/meminfo", "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		long v;

		if (sscanf(line, "Hugepagesize: %ld kB", &v) == 1)
			hugesz = v * 1024;
	}
	if (fp)
		fclose(fp);
	if (hugesz) {
		/* only if a page can really be had */
		void *h = mmap(NULL, 2 * hugesz, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

		if (h == MAP_FAILED)
			hugesz = 0;
		else
			munmap(h, 2 * hugesz);
	}
	have_thp = !access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		int cfd = open("/dev/vfio/vfio", O_RDWR);

		have_eeh = cfd >= 0 && ioctl(cfd, VFIO_CHECK_EXTENSION, VFIO_EEH) == 1;
		if (cfd >= 0)
			close(cfd);
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);

	/* an unprivileged VFIO user: no CAP_IPC_LOCK, a finite memlock limit */
	base0.kb = vmlck_kb();
	base0.pins = pins_outstanding();
	memlock_room = base0.kb * 1024 + MEMLOCK_ROOM;
	memlock_set(memlock_room);
	cap_ipc_lock(false);

	{
		int n = 0;

		for (ti = 1; ti <= 2; ti++)
			for (i = 0; i < ARRAY_SIZE(phases); i++)
				n += (opt_types & ti) &&
				     (!opt_phase || !regexec(&pre, phases[i].id, 0, NULL, 0));
		printf("TAP version 13\n1..%d\n", n);
	}
	diag("seed %llu, %ld ops/phase, %d group(s), page %ld, %s, hugetlb %ld kB, THP %s, EEH %s",
	     (unsigned long long)opt_seed, opt_ops, ngrps, pgsz,
	     powernv ? "powernv" : "pseries", hugesz / 1024,
	     have_thp ? "yes" : "no", have_eeh ? "yes" : "no");
	for (ti = 1; ti <= 2; ti++) {
		const char *t = ti == 1 ? "v1" : "v2";

		if (!(opt_types & ti))
			continue;
		for (i = 0; i < ARRAY_SIZE(phases); i++) {
			const struct phase *p = &phases[i];
			uint64_t s = hash_str(hash_str(opt_seed ^ 0xcbf29ce484222325ull, t),
					      p->id);
			struct world w0;
			struct pool pl0 = { 0 };
			struct fz f;
			long t0;
			int r, j;

			if (opt_phase && regexec(&pre, p->id, 0, NULL, 0))
				continue;
			k++;
			failed = false;
			fail_msg[0] = 0;
			world_init(&w0, &pl0, true);
			fz_init(&f, &w0, s, "main");
			kmsg_mark("seed %llu %s %s start", (unsigned long long)opt_seed,
				  t, p->id);
			memset(kcount, 0, sizeof(kcount));
			t0 = now_ms();
			r = run_phase(p, ti == 2, &f);
			t0 = now_ms() - t0;
			fz_fini(&f);
			if (r == -1) {
				printf("ok %d %s_%s # SKIP no THP here (no transparent_hugepage)\n",
				       k, t, p->name);
				continue;
			}
			if (r == -2) {
				printf("ok %d %s_%s # SKIP no hugetlb pages on this machine\n",
				       k, t, p->name);
				continue;
			}
			if (r == -4) {
				printf("ok %d %s_%s # SKIP %ld kB huge pages: a pin hung\n",
				       k, t, p->name, hugesz / 1024);
				continue;
			}
			if (r == -3) {
				printf("ok %d %s_%s # SKIP one edu group here, two needed\n",
				       k, t, p->name);
				continue;
			}
			diag("%s %s: %ld ops in %ld ms (%ld ops/s)", t, p->id, f.opno,
			     t0, t0 ? f.opno * 1000 / t0 : 0);
			{
				char cs[256];
				int n = 0, q;

				for (q = 0; q < K_NR; q++)
					if (kcount[q][0])
						n += snprintf(cs + n, sizeof(cs) - n,
							      " %s %ld/%ld", kname[q],
							      kcount[q][1], kcount[q][0]);
				if (n)
					diag("  succeeded/tried:%s", cs);
			}
			if (!failed) {
				printf("ok %d %s_%s\n", k, t, p->name);
				continue;
			}
			nfail++;
			printf("not ok %d %s_%s\n# seed %llu: %s\n", k, t, p->name,
			       (unsigned long long)opt_seed, fail_msg);
			for (j = 0; j < fail_ntrace; j++)
				printf("#   %s\n", fail_trace[j]);
			replay_line(p, t);
		}
	}
	diag("seed %llu: %d of %d failed", (unsigned long long)opt_seed, nfail, k);
	return nfail ? 1 : 0;
}
