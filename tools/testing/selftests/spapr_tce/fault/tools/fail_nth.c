// SPDX-License-Identifier: GPL-2.0
/*
 * fail_nth: every allocation a call of ours makes, failed in turn, with
 * the debug kernel's per-task fault injection (/proc/thread-self/fail-nth:
 * the Nth fault-injection point the task passes fails). One TAP line per
 * path: its ioctl (v1 and v2 sPAPR TCE containers, KVM's TCE table and
 * the KVM-VFIO link) or the load of one of our modules.
 *
 *   fail_nth --group N --dev DDDD:BB:DD.F [--case REGEX] [--list]
 *            [--load-reject START:END]
 *
 * For N = 1, 2, ... each path is set up afresh in a child process, the
 * Nth point is armed and the call made, until a call passes through
 * fewer than N points (it then must succeed). After every injected
 * failure: the call returned a clean error (ENOMEM, or what the failed
 * stock callee answers: ENOSPC, EAGAIN, EBUSY, ENXIO, ENODEV, EIO), and
 * left nothing behind: VmLck, the pages pinned (FOLL_PIN), our debugfs
 * counters (containers, regions, pinned and charged pages) are as before
 * the call, and again as at the start once the child has exited (its
 * files closed). The number of points each path reached is printed.
 * A point whose failure the call absorbs (it succeeds) is counted too.
 *
 * --load-reject: for the module loads only, the stack-trace filter's
 * reject range (hex kernel addresses) is START:END instead of the one
 * the caller set for the ioctls, so that a stock bug reached only while
 * a module loads (sweep.sh says which) is kept out of those paths alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lab_proc.h"
#include "lab_tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define BUFSZ	(16u << 16)	/* 16 pages of 64K, 256 of 4K */
#define MODDIR	"/lab/modules"
#define STATS	"/sys/kernel/debug/vfio_spapr/stats"

static int opt_group = -1;
static const char *opt_dev;
static long max_n = 4000;
static const char *opt_load_reject;

struct st {
	int container, group, kvm, vm, table, kdev;
	uint8_t *buf;
	uint64_t win32, win32_size, win2;
	struct vfio_iommu_spapr_tce_info info;
};

/* what must come back after a failed call: process and global state */
struct snap {
	long vmlck, pins;
	long long stat[4];
};

static const char * const stat_names[] = {
	"containers", "regions", "pinned_pages", "charged_pages",
};

static void snap(struct snap *s)
{
	char name[64];
	long long v;
	FILE *f;
	size_t i;

	s->vmlck = vmlck_kb();
	s->pins = pins_outstanding();
	memset(s->stat, 0xff, sizeof(s->stat));
	f = fopen(STATS, "r");
	if (!f)
		return;
	while (fscanf(f, "%63[^:]: %lld\n", name, &v) == 2)
		for (i = 0; i < ARRAY_SIZE(stat_names); i++)
			if (!strcmp(name, stat_names[i]))
				s->stat[i] = v;
	fclose(f);
}

/* "" when equal, else what differs */
static const char *snap_diff(const struct snap *a, const struct snap *b)
{
	static char d[256];
	size_t i;

	d[0] = 0;
	if (a->vmlck != b->vmlck || a->pins != b->pins)
		snprintf(d, sizeof(d), "VmLck %ld -> %ld kB, pinned %ld -> %ld; ",
			 a->vmlck, b->vmlck, a->pins, b->pins);
	for (i = 0; i < ARRAY_SIZE(stat_names); i++)
		if (a->stat[i] != b->stat[i])
			snprintf(d + strlen(d), sizeof(d) - strlen(d), "%s %lld -> %lld; ",
				 stat_names[i], a->stat[i], b->stat[i]);
	return d;
}

static int fail_nth_write(long n)
{
	char b[32];
	int fd = open("/proc/thread-self/fail-nth", O_RDWR);
	int len, r;

	if (fd < 0)
		return -1;
	len = snprintf(b, sizeof(b), "%ld", n);
	r = write(fd, b, len) == len ? 0 : -1;
	close(fd);
	return r;
}

static const char *const filters[] = {
	"/sys/kernel/debug/failslab", "/sys/kernel/debug/fail_page_alloc",
};

/* the stack-trace filters' reject ranges: a[filter][start, end] */
struct reject {
	char a[2][2][32];
};

static int write_reject(const struct reject *v, struct reject *old)
{
	char f[96];
	int i, j, fd, r = 0;
	ssize_t n;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			snprintf(f, sizeof(f), "%s/reject-%s", filters[i], j ? "end" : "start");
			fd = open(f, O_RDWR);
			if (fd < 0)
				return -1;
			if (old) {
				char *o = old->a[i][j];

				n = read(fd, o, sizeof(old->a[i][j]) - 1);
				o[n > 0 ? n : 0] = 0;
				o[strcspn(o, "\n")] = 0;
			}
			n = strlen(v->a[i][j]);
			/* nonseekable (simple_attr_open): write, not pwrite */
			if (write(fd, v->a[i][j], n) != n)
				r = -1;
			close(fd);
		}
	}
	return r;
}

/* --load-reject START:END into both filters; @old gets what they had */
static int load_reject(struct reject *old)
{
	const char *colon = strchr(opt_load_reject, ':');
	struct reject v;
	int i;

	if (!colon)
		return -1;
	for (i = 0; i < 2; i++) {
		snprintf(v.a[i][0], sizeof(v.a[i][0]), "%.*s", (int)(colon - opt_load_reject),
			 opt_load_reject);
		snprintf(v.a[i][1], sizeof(v.a[i][1]), "%s", colon + 1);
	}
	return write_reject(&v, old);
}

/* what is left of the count: 0 once the fault was injected */
static long fail_nth_read(void)
{
	char b[32] = "";
	int fd = open("/proc/thread-self/fail-nth", O_RDONLY);
	long r = -1;

	if (fd >= 0 && read(fd, b, sizeof(b) - 1) > 0)
		r = strtol(b, NULL, 10);
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---------------------------------------------------------------- */
/* set-up steps, without fault injection */

static int base(struct st *s)
{
	char path[64];

	s->container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%d", opt_group);
	s->group = open(path, O_RDWR);
	if (s->container < 0 || s->group < 0 ||
	    ioctl(s->group, VFIO_GROUP_SET_CONTAINER, &s->container)) {
		say("container and group %s: %s", path, strerror(errno));
		return -1;
	}
	s->buf = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->buf == MAP_FAILED) {
		s->buf = NULL;
		return -1;
	}
	memset(s->buf, 1, BUFSZ);
	return 0;
}

static int set_type(struct st *s, int type)
{
	if (base(s) || ioctl(s->container, VFIO_SET_IOMMU, type))
		return -1;
	s->info.argsz = sizeof(s->info);
	if (ioctl(s->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &s->info))
		return -1;
	s->win32 = s->info.dma32_window_start;
	s->win32_size = s->info.dma32_window_size;
	return 0;
}

static long op_map(struct st *s)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = RW, .vaddr = (uintptr_t)s->buf,
		.iova = s->win32 + (16u << 20), .size = BUFSZ,
	};

	return xioctl(s->container, VFIO_IOMMU_MAP_DMA, &m);
}

static long op_unmap(struct st *s)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = s->win32 + (16u << 20), .size = BUFSZ,
	};

	return xioctl(s->container, VFIO_IOMMU_UNMAP_DMA, &u);
}

static long op_register(struct st *s)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)s->buf, .size = BUFSZ,
	};

	return xioctl(s->container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &r);
}

static long op_unregister(struct st *s)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)s->buf, .size = BUFSZ,
	};

	return xioctl(s->container, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r);
}

static long op_create(struct st *s)
{
	struct vfio_iommu_spapr_tce_create c = {
		.argsz = sizeof(c), .page_shift = 12, .window_size = 1ull << 30,
		.levels = 1,
	};
	long r = xioctl(s->container, VFIO_IOMMU_SPAPR_TCE_CREATE, &c);

	s->win2 = c.start_addr;
	return r;
}

static long op_remove(struct st *s)
{
	struct vfio_iommu_spapr_tce_remove rm = {
		.argsz = sizeof(rm), .start_addr = s->win2,
	};

	return xioctl(s->container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
}

static long op_get_info(struct st *s)
{
	s->info.argsz = sizeof(s->info);
	return xioctl(s->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &s->info);
}

static long op_enable(struct st *s)
{
	return xioctl(s->container, VFIO_IOMMU_ENABLE, NULL);
}

static long op_eeh(struct st *s)
{
	struct vfio_eeh_pe_op op = {
		.argsz = sizeof(op), .op = VFIO_EEH_PE_GET_STATE,
	};

	return xioctl(s->container, VFIO_EEH_PE_OP, &op);
}

static int v1(struct st *s) { return set_type(s, VFIO_SPAPR_TCE_IOMMU); }
static int v2(struct st *s) { return set_type(s, VFIO_SPAPR_TCE_v2_IOMMU); }
static int v1_enabled(struct st *s) { return v1(s) || op_enable(s); }
static int v1_mapped(struct st *s) { return v1_enabled(s) || op_map(s); }
static int v2_registered(struct st *s) { return v2(s) || op_register(s); }
static int v2_mapped(struct st *s) { return v2_registered(s) || op_map(s); }
static int v2_created(struct st *s) { return v2(s) || op_create(s); }
/*
 * The default window made (a CREATE and a REMOVE), so that CREATE's
 * points are its own: CREATE first makes the default window it owes, as
 * the in-tree container does, and keeps it when the new window then
 * fails (it is the container's, charged, freed at close). v1_map_first
 * sweeps the making of a default window.
 */
static int v2_default(struct st *s) { return v2_created(s) || op_remove(s); }

static long op_set_v1(struct st *s)
{
	return xioctl(s->container, VFIO_SET_IOMMU, (void *)VFIO_SPAPR_TCE_IOMMU);
}

static long op_set_v2(struct st *s)
{
	return xioctl(s->container, VFIO_SET_IOMMU, (void *)VFIO_SPAPR_TCE_v2_IOMMU);
}

static int vm(struct st *s)
{
	s->kvm = open("/dev/kvm", O_RDWR);
	if (s->kvm < 0)
		return -1;
	s->vm = ioctl(s->kvm, KVM_CREATE_VM, 1 /* KVM_VM_PPC_HV */);
	return s->vm < 0 ? -1 : 0;
}

static long op_tce64(struct st *s)
{
	struct kvm_create_spapr_tce_64 c = {
		.liobn = 0x80000001u, .page_shift = 12,
		.offset = s->win32 >> 12, .size = s->win32_size ? s->win32_size >> 12 : 1u << 18,
	};

	s->table = ioctl(s->vm, KVM_CREATE_SPAPR_TCE_64, &c);
	return s->table < 0 ? -errno : 0;
}

/*
 * A v2 container with its default window made (KVM links a table to a
 * window the group has: a v2 container makes its default one lazily), a
 * VM with its table for that window, the group added.
 */
static int linkable(struct st *s)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	struct kvm_device_attr a = {
		.group = KVM_DEV_VFIO_GROUP, .attr = KVM_DEV_VFIO_GROUP_ADD,
		.addr = (uintptr_t)&s->group,
	};

	if (v2_default(s) || vm(s) || op_tce64(s) || ioctl(s->vm, KVM_CREATE_DEVICE, &cd))
		return -1;
	s->kdev = cd.fd;
	return ioctl(s->kdev, KVM_SET_DEVICE_ATTR, &a) ? -1 : 0;
}

static long op_link(struct st *s)
{
	struct kvm_vfio_spapr_tce st = { .groupfd = s->group, .tablefd = s->table };
	struct kvm_device_attr a = {
		.group = KVM_DEV_VFIO_GROUP, .attr = KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE,
		.addr = (uintptr_t)&st,
	};

	return xioctl(s->kdev, KVM_SET_DEVICE_ATTR, &a);
}

/* ---------------------------------------------------------------- */
/* module loads: the module and those that need it out, its needs in */

static const char *const mods[] = { "spapr_realmode", "vfio_spapr", "kvm_tce" };

static bool mod_loaded(const char *m)
{
	char p[128];

	snprintf(p, sizeof(p), "/sys/module/%s", m);
	return !access(p, F_OK);
}

/* Where our .ko files are: $SPAPR_TCE_MODULES (lib.sh), else the lab's. */
static const char *moddir(void)
{
	const char *d = getenv("SPAPR_TCE_MODULES");

	return d && *d ? d : MODDIR;
}

static long mod_load(const char *m)
{
	char p[128];
	int fd;
	long r;

	snprintf(p, sizeof(p), "%s/%s.ko", moddir(), m);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return r;
}

/* modules [0, i) loaded, [i, end) not */
static int mods_upto(size_t i)
{
	size_t j;

	for (j = ARRAY_SIZE(mods); j-- > i;)
		if (mod_loaded(mods[j]) && syscall(SYS_delete_module, mods[j], O_NONBLOCK)) {
			say("rmmod %s: %s", mods[j], strerror(errno));
			return -1;
		}
	for (j = 0; j < i; j++)
		if (!mod_loaded(mods[j]) && mod_load(mods[j])) {
			say("insmod %s failed", mods[j]);
			return -1;
		}
	return 0;
}

static int mod_pre0(struct st *s) { (void)s; return mods_upto(0); }
static int mod_pre1(struct st *s) { (void)s; return mods_upto(1); }
static int mod_pre2(struct st *s) { (void)s; return mods_upto(2); }
static long op_load0(struct st *s) { (void)s; return mod_load(mods[0]); }
static long op_load1(struct st *s) { (void)s; return mod_load(mods[1]); }
static long op_load2(struct st *s) { (void)s; return mod_load(mods[2]); }

/* ---------------------------------------------------------------- */

struct path {
	const char *name;
	int (*setup)(struct st *s);
	long (*op)(struct st *s);
	const char *needs;	/* a file the path needs, or NULL */
	int mod;		/* module load: which, else -1 */
};

static const struct path paths[] = {
	{ "v1_set_iommu", base, op_set_v1, NULL, -1 },
	{ "v1_get_info", v1, op_get_info, NULL, -1 },
	{ "v1_enable", v1, op_enable, NULL, -1 },
	{ "v1_map_first", v1_enabled, op_map, NULL, -1 },
	{ "v1_unmap", v1_mapped, op_unmap, NULL, -1 },
	{ "v1_eeh_get_state", v1, op_eeh, NULL, -1 },
	{ "v2_set_iommu", base, op_set_v2, NULL, -1 },
	{ "v2_get_info", v2, op_get_info, NULL, -1 },
	{ "v2_register", v2, op_register, NULL, -1 },
	{ "v2_create", v2_default, op_create, NULL, -1 },
	{ "v2_map", v2_registered, op_map, NULL, -1 },
	{ "v2_unmap", v2_mapped, op_unmap, NULL, -1 },
	{ "v2_remove", v2_created, op_remove, NULL, -1 },
	{ "v2_unregister", v2_registered, op_unregister, NULL, -1 },
	{ "v2_eeh_get_state", v2, op_eeh, NULL, -1 },
	/*
	 * An HV VM: /dev/kvm alone is kvm.ko, which stays loaded when
	 * kvm_hv cannot run (pseries without nested HV: KVM_CREATE_VM
	 * answers EINVAL).
	 */
	{ "kvm_create_spapr_tce_64", vm, op_tce64, "/sys/module/kvm_hv", -1 },
	{ "kvm_vfio_set_spapr_tce", linkable, op_link, "/sys/module/kvm_hv", -1 },
	{ "load_spapr_realmode", mod_pre0, op_load0, NULL, 0 },
	{ "load_vfio_spapr", mod_pre1, op_load1, NULL, 1 },
	{ "load_kvm_tce", mod_pre2, op_load2, "/dev/kvm", 2 },
};

static bool clean_errno(long r)
{
	switch (-r) {
	case ENOMEM: case ENOSPC: case EAGAIN: case EBUSY: case ENXIO:
	case ENODEV: case EIO:
		return true;
	}
	return false;
}

/* child exit codes */
enum { C_INJECTED, C_DONE, C_ABSORBED, C_SETUP, C_UNCLEAN, C_DIRTY, C_FAILS };

static int child(const struct path *p, long n)
{
	struct st s = {
		.container = -1, .group = -1, .kvm = -1, .vm = -1, .table = -1,
		.kdev = -1,
	};
	struct snap a, b;
	const char *d;
	long r, left;

	if (p->setup(&s)) {
		printf("# setup: %s\n", why[0] ? why : strerror(errno));
		return C_SETUP;
	}
	snap(&a);
	/* point 0: the call as it is, nothing injected */
	if (n && fail_nth_write(n))
		return C_SETUP;
	r = p->op(&s);
	left = n ? fail_nth_read() : 1;
	if (n)
		fail_nth_write(0);
	if (left != 0) {
		if (!r)
			return C_DONE;
		printf("# fails without injection: %s\n", strerror(-r));
		return C_FAILS;
	}
	if (!r)
		return C_ABSORBED;
	if (!clean_errno(r)) {
		printf("# point %ld failed: the call returned %s\n", n, strerror(-r));
		return C_UNCLEAN;
	}
	if (p->mod >= 0 && mod_loaded(mods[p->mod])) {
		printf("# point %ld failed: %s, yet the module is loaded\n", n, strerror(-r));
		return C_DIRTY;
	}
	snap(&b);
	d = snap_diff(&a, &b);
	if (*d) {
		printf("# point %ld failed (%s), left behind: %s\n", n, strerror(-r), d);
		return C_DIRTY;
	}
	return C_INJECTED;
}

static void run(const struct path *p, int num)
{
	struct snap g0, g1;
	long n, absorbed = 0;
	int st, code = C_SETUP, errs[8] = { 0 };
	const char *d;
	time_t t0 = time(NULL);
	struct reject old;
	bool rejected = false;
	pid_t pid;

	if (p->needs && access(p->needs, F_OK)) {
		printf("ok %d %s # SKIP %s absent\n", num, p->name, p->needs);
		return;
	}
	why[0] = 0;
	if (p->mod >= 0 && opt_load_reject) {
		if (load_reject(&old)) {
			printf("# --load-reject %s: cannot set the filter\n", opt_load_reject);
			printf("not ok %d %s\n", num, p->name);
			return;
		}
		rejected = true;
	}
	/*
	 * n = 0 first: a call that fails uninjected would make every
	 * point look injected (EEH on a machine without it fails after
	 * passing points).
	 */
	for (n = 0; n <= max_n; n++) {
		if (p->mod >= 0 && p->setup(NULL)) {
			code = C_SETUP;
			break;
		}
		snap(&g0);
		fflush(stdout);
		pid = fork();
		if (!pid) {
			int c = child(p, n);

			/* _exit() does not flush: the child's "#" lines say why */
			fflush(stdout);
			_exit(c);
		}
		waitpid(pid, &st, 0);
		code = WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
		if (code < (int)ARRAY_SIZE(errs))
			errs[code]++;
		if (code == C_ABSORBED)
			absorbed++;
		if (code != C_INJECTED && code != C_ABSORBED && (n || code != C_DONE))
			break;
		/* vfio paths: everything the child held is gone with it */
		snap(&g1);
		g1.vmlck = g0.vmlck;
		d = p->mod < 0 ? snap_diff(&g0, &g1) : "";
		if (*d) {
			printf("# after point %ld failed and the files closed: %s\n", n, d);
			code = C_DIRTY;
			break;
		}
	}
	/* the ioctl paths' range back */
	if (rejected)
		write_reject(&old, NULL);
	if (code == C_DONE && n) {
		printf("# %s: %ld fault-injection points reached, %ld of them absorbed, in %ld s\n",
		       p->name, n - 1, absorbed, (long)(time(NULL) - t0));
		printf("ok %d %s\n", num, p->name);
	} else if (code == C_FAILS && n == 0 && !strncmp(p->name + 3, "eeh", 3)) {
		printf("ok %d %s # SKIP EEH is not served here\n", num, p->name);
	} else {
		printf("# %s: stopped at point %ld (code %d) after %ld s%s%s\n", p->name, n,
		       code, (long)(time(NULL) - t0), why[0] ? ": " : "", why);
		printf("not ok %d %s\n", num, p->name);
	}
}

int main(int argc, char **argv)
{
	const char *sel = ".";
	bool list = false;
	regex_t re;
	size_t i;
	int o, num = 0;
	static const struct option lo[] = {
		{ "group", 1, 0, 'g' }, { "dev", 1, 0, 'd' },
		{ "case", 1, 0, 'c' }, { "list", 0, 0, 'l' },
		{ "load-reject", 1, 0, 'r' }, { 0 },
	};

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'g':
			opt_group = atoi(optarg);
			break;
		case 'd':
			opt_dev = optarg;
			break;
		case 'c':
			sel = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'r':
			opt_load_reject = optarg;
			break;
		default:
			return 2;
		}
	}
	if (getenv("FAIL_NTH_MAX"))
		max_n = atol(getenv("FAIL_NTH_MAX"));
	if (regcomp(&re, sel, REG_EXTENDED | REG_NOSUB))
		return 2;
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		if (regexec(&re, paths[i].name, 0, NULL, 0))
			continue;
		num++;
		if (list)
			printf("%s\n", paths[i].name);
		else if (access("/proc/thread-self/fail-nth", F_OK))
			printf("ok %d %s # SKIP no fail-nth: this kernel has no FAULT_INJECTION\n",
			       num, paths[i].name);
		else
			run(&paths[i], num);
		fflush(stdout);
	}
	(void)opt_dev;
	return 0;
}
