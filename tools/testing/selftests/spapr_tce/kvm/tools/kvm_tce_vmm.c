// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_tce_vmm: a minimal static VMM for KVM-HV on POWER9 (and a try on
 * POWER8) whose guest issues the four PAPR TCE hypercalls, H_PUT_TCE,
 * H_PUT_TCE_INDIRECT, H_STUFF_TCE and H_GET_TCE, and tells for each one
 * whether the host kernel answered it or it came out to userspace.
 *
 *   kvm_tce_vmm [--list] [--case REGEX] [--vfio-group N --vfio-dev ADDR
 *               --vfio-path kernel|user [--intree] [--vfio-v1]] [--ours]
 *   kvm_tce_vmm --loop putget [--count N]       (until SIGUSR1 or N)
 *   kvm_tce_vmm --bench OP:N[,OP:N]... --table user|kernel|vfio ...
 *
 * The guest runs in real mode, little endian, from GPA 0x10000. The VMM
 * sets r3..r7 and the pc at a stub "sc 1; save r3/r4 in r14/r15;
 * li r3,MAGIC; sc 1": when the kernel handles the hcall the VMM only
 * sees the MAGIC exit; when the kernel gives it up (H_TOO_HARD), the
 * VMM sees KVM_EXIT_PAPR_HCALL with the TCE opcode first and answers it
 * the way QEMU does (userspace TCE tables, the in-kernel table through
 * its mmap, VFIO_IOMMU_MAP_DMA/UNMAP_DMA for a VFIO-linked table).
 *
 * Test mode reports through kselftest.h, one TAP line per case. The
 * expected return codes and paths are the stock kernel's
 * (arch/powerpc/kvm/book3s_64_vio.c, 6.1 and 6.12 behave the same),
 * observed in the lab. With --ours, the per-VM counters of kvm_tce.ko
 * are checked as well (their names and place come from the environment,
 * see lib.sh).
 *
 * The cases are the table cases[] below the test functions: each name
 * sits next to the function that runs it. A name with "%s" is one case
 * per TCE page size (4k, 64k, 16m), the others run once; vfio_* cases
 * need --vfio-group/--vfio-dev. A result line's name is --prefix PREFIX
 * (what the lab's kvm/hcalls.sh puts in front: stock_, kvm_tce_, ...)
 * and the case's name. --list prints the result names of a run; --case
 * REGEX runs the cases whose name, without the prefix, matches, e.g.
 *
 *   kvm_tce_vmm --case '^stuff_tce_clear_range_64k$'
 *
 * A parent process runs the cases in a child (which reports them) and
 * then reports three checks of its own: nothing stays pinned
 * (nr_foll_pin_*), the child's VmLck went back to its start before it
 * exited, and vfio_spapr's counters of pinned pages and regions came
 * back. The child sends its VmLck and its result counts through a pipe,
 * so that the parent's numbering and totals follow the child's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "edu.h"
#include "kselftest.h"
#include "lab_tap.h"
#include "lab_trace.h"
#include "vfio_kvm.h"
#include "kvm_tce_guest.h"

/* PAPR hcall opcodes and return codes (asm/hvcall.h) */
#define H_SUCCESS		0
#define H_PARAMETER		(-4)
#define H_GET_TCE		0x1c
#define H_PUT_TCE		0x20
#define H_PROD			0xe8
#define H_STUFF_TCE		0x138
#define H_PUT_TCE_INDIRECT	0x13c
#define TCE_READ		0x1ull
#define TCE_WRITE		0x2ull
#define TCE_RW			(TCE_READ | TCE_WRITE)

/* opcodes of our own that no hypervisor knows: KVM hands them to us */
#define MAGIC_DONE		0x7f00	/* the stub or loop finished */
#define MAGIC_TRAP		0x7e00	/* + vector / 0x100: the guest trapped */

/* guest physical layout */
#define GUEST_RAM		(32ull << 20)
#define CODE_GPA		0x10000ull
#define PRTB_GPA		0x20000ull	/* empty process table, 64K */
#define FLAG_GPA		0x30000ull	/* the putget loop's stop flag */
#define LIST_GPA		0x100000ull	/* H_PUT_TCE_INDIRECT lists */
#define DATA_GPA		0x200000ull	/* pages TCEs point at */
#define HIGH_GPA		(16ull << 20)	/* second half of RAM */

#define MSR_SF			(1ull << 63)
#define MSR_ME			(1ull << 12)
#define MSR_LE			1ull
#define LPCR_ILE		0x02000000ull
#define PATB_GR			(1ull << 63)

enum { PASS, FAIL, SKIP };

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * The guest. Copied to CODE_GPA; position independent. State lives in
 * r14 and up: "sc 1" clobbers CTR on powernv, and an hcall answered by
 * userspace reloads r4-r12 from run->papr_hcall.args[].
 *
 * kt_one:    r3..r7 = the hcall; r14/r15 = r3/r4 afterwards.
 * kt_loop:   r16 calls of opcode r17 with r4..r7 = r18..r21; r23 counts
 *            the calls, r24 those whose r3 was not r22 (r25: the last).
 * kt_putget: up to r16 pairs H_PUT_TCE(r17, r18, tce) + H_GET_TCE(r17,
 *            r18), tce = r19 + (i % 64) * 4K; r24 counts failed pairs
 *            (an error or a readback that is not tce); stops early when
 *            the doubleword at GPA r26 is not zero.
 */
asm("	.pushsection .rodata\n"
"	.balign 4\n"
"	.globl kt_guest, kt_guest_end, kt_one, kt_loop, kt_putget\n"
"kt_guest:\n"
"kt_one:\n"
"	sc 1\n"
"	mr 14,3\n"
"	mr 15,4\n"
"0:	li 3," STR(MAGIC_DONE) "\n"
"	sc 1\n"
"	b 0b\n"
"kt_loop:\n"
"	li 23,0\n"
"	li 24,0\n"
"1:	cmpd 23,16\n"
"	bge 2f\n"
"	mr 3,17\n"
"	mr 4,18\n"
"	mr 5,19\n"
"	mr 6,20\n"
"	mr 7,21\n"
"	sc 1\n"
"	cmpd 3,22\n"
"	beq 3f\n"
"	addi 24,24,1\n"
"	mr 25,3\n"
"3:	addi 23,23,1\n"
"	b 1b\n"
"2:	li 3," STR(MAGIC_DONE) "\n"
"	sc 1\n"
"	b 2b\n"
"kt_putget:\n"
"	li 23,0\n"
"	li 24,0\n"
"1:	cmpd 23,16\n"
"	bge 2f\n"
"	ld 0,0(26)\n"
"	cmpdi 0,0\n"
"	bne 2f\n"
"	andi. 25,23,63\n"
"	sldi 25,25,12\n"
"	add 25,25,19\n"
"	li 3," STR(H_PUT_TCE) "\n"
"	mr 4,17\n"
"	mr 5,18\n"
"	mr 6,25\n"
"	sc 1\n"
"	cmpdi 3,0\n"
"	bne 4f\n"
"	li 3," STR(H_GET_TCE) "\n"
"	mr 4,17\n"
"	mr 5,18\n"
"	sc 1\n"
"	cmpdi 3,0\n"
"	bne 4f\n"
"	cmpd 4,25\n"
"	beq 3f\n"
"4:	addi 24,24,1\n"
"3:	addi 23,23,1\n"
"	b 1b\n"
"2:	li 3," STR(MAGIC_DONE) "\n"
"	sc 1\n"
"	b 2b\n"
"kt_guest_end:\n"
"	.popsection\n");

#define ENTRY(sym)	(CODE_GPA + (uint64_t)((sym) - kt_guest))

/* ------------------------------------------------------------------ */

struct tbl {
	uint32_t liobn;
	uint32_t shift;
	uint64_t offset, size;	/* in TCE pages */
	int fd;			/* in-kernel table; -1: the VMM's own */
	uint64_t *ent;		/* the table fd's mmap, or our array */
	size_t len;
	bool vfio;		/* linked to the VFIO container */
};

#define MAX_TBL 16	/* the cases close theirs */

struct vm {
	int kvm, fd, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	struct tbl t[MAX_TBL];
	int nt;
	struct vfio_kvm v;
	bool have_vfio;
	/* userspace exits for TCE opcodes, by kind */
	unsigned long uexit[4];
	unsigned long magic_exits;
};

/* the result of one hcall */
struct hres {
	long ret;
	uint64_t r4;
	int user;	/* how many TCE hcalls reached userspace */
};

static struct vm vm;
static bool powernv, power8;
static const char *opt_vfio_dev;
static int opt_vfio_group = -1;
static bool opt_vfio_user;	/* VFIO-linked H_PUT_TCE expected in userspace */
static bool opt_intree, opt_ours;
static bool opt_vfio_v1;	/* a v1 container: its default window is linked */
static const char *opt_prefix = "";	/* before every TAP name */
static long host_pgsz;
static volatile sig_atomic_t stop_loop;

#define CHECK(cond, ...) do {				\
	if (!(cond)) {					\
		say(__VA_ARGS__);			\
		return FAIL;				\
	}						\
} while (0)

static const char *hname(long r)
{
	static char s[32];

	switch (r) {
	case H_SUCCESS:
		return "H_SUCCESS";
	case H_PARAMETER:
		return "H_PARAMETER";
	case -2:
		return "H_FUNCTION";
	}
	snprintf(s, sizeof(s), "%ld", r);
	return s;
}

static const char *opname(unsigned long op)
{
	switch (op) {
	case H_PUT_TCE:
		return "H_PUT_TCE";
	case H_GET_TCE:
		return "H_GET_TCE";
	case H_PUT_TCE_INDIRECT:
		return "H_PUT_TCE_INDIRECT";
	case H_STUFF_TCE:
		return "H_STUFF_TCE";
	case H_PROD:
		return "H_PROD";
	}
	return "?";
}

static int opkind(unsigned long op)
{
	switch (op) {
	case H_PUT_TCE:
		return 0;
	case H_PUT_TCE_INDIRECT:
		return 1;
	case H_STUFF_TCE:
		return 2;
	case H_GET_TCE:
		return 3;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* /proc and debugfs (VmLck and FOLL_PIN counts: lab_proc.h) */

/*
 * kvm_tce.ko's per-VM counters. KVM_TCE_VMS is the directory of the
 * per-VM stats (<pid>-<n>/stats), KVM_TCE_COUNTERS maps our four
 * opcodes, fallbacks and H_PARAMETER answers to counter names:
 * "put=NAME indirect=NAME stuff=NAME get=NAME fallback=NAME
 * h_parameter=NAME" (lib.sh sets both).
 */
enum { C_PUT, C_INDIRECT, C_STUFF, C_GET, C_FALLBACK, C_HPARAM, C_N };
static const char *const ckeys[C_N] = {
	"put", "indirect", "stuff", "get", "fallback", "h_parameter",
};

static char cnames[C_N][64];

static int counters_init(void)
{
	const char *s = getenv("KVM_TCE_COUNTERS");
	char key[32], val[64];
	int i, n;

	if (!s)
		return -1;
	while (sscanf(s, " %31[^=]=%63s%n", key, val, &n) == 2) {
		for (i = 0; i < C_N; i++)
			if (!strcmp(key, ckeys[i]))
				snprintf(cnames[i], sizeof(cnames[i]), "%s", val);
		s += n;
	}
	for (i = 0; i < C_N; i++)
		if (!cnames[i][0])
			return -1;
	return 0;
}

static char vmstats[512];

/* spapr_realmode.ko's counters (last_refs: last references handed back) */
#define SRM_INFO "/sys/kernel/debug/spapr_realmode/info"

/* find this process's VM directory (there is one VM per process) */
static int vm_stats_find(void)
{
	const char *dir = getenv("KVM_TCE_VMS");
	char pat[400];
	glob_t g;
	int r = -1;

	if (!dir)
		return -1;
	snprintf(pat, sizeof(pat), "%s/%d-*/stats", dir, (int)getpid());
	if (!glob(pat, 0, NULL, &g)) {
		if (g.gl_pathc == 1) {
			snprintf(vmstats, sizeof(vmstats), "%s", g.gl_pathv[0]);
			r = 0;
		}
		globfree(&g);
	}
	return r;
}

struct csnap {
	long v[C_N];
};

static void counters_read(struct csnap *c)
{
	int i;

	for (i = 0; i < C_N; i++)
		c->v[i] = opt_ours ? stat_value(vmstats, cnames[i]) : 0;
}

/* the counters moved by exactly @want (C_N deltas) since @a */
static int counters_moved(const struct csnap *a, const long *want)
{
	struct csnap b;
	int i;

	if (!opt_ours)
		return PASS;
	counters_read(&b);
	for (i = 0; i < C_N; i++)
		CHECK(b.v[i] - a->v[i] == want[i],
		      "kvm_tce counter %s moved by %ld, want %ld", cnames[i],
		      b.v[i] - a->v[i], want[i]);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* the VM */

static int enable_cap(int fd, uint32_t cap, uint64_t a0, uint64_t a1)
{
	struct kvm_enable_cap c = { .cap = cap, .args = { a0, a1 } };

	return xioctl(fd, KVM_ENABLE_CAP, &c);
}

static int vm_create(struct vm *v)
{
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_ppc_mmuv3_cfg mmu = { 0 };
	struct kvm_one_reg reg;
	uint64_t lpcr;
	uint32_t *w;
	long r;
	int i;

	memset(v, 0, sizeof(*v));
	vk_init(&v->v);
	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0) {
		say("open /dev/kvm: %s", strerror(errno));
		return -1;
	}
	v->fd = ioctl(v->kvm, KVM_CREATE_VM, 1 /* KVM_VM_PPC_HV */);
	if (v->fd < 0) {
		say("KVM_CREATE_VM(HV): %s", strerror(errno));
		return -1;
	}
	v->ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->ram == MAP_FAILED) {
		say("mmap guest RAM: %s", strerror(errno));
		return -1;
	}
	memset(v->ram, 0, GUEST_RAM);	/* fault it in: VFIO pins it */
	mr.slot = 0;
	mr.guest_phys_addr = 0;
	mr.memory_size = GUEST_RAM;
	mr.userspace_addr = (uintptr_t)v->ram;
	r = xioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &mr);
	if (r) {
		say("KVM_SET_USER_MEMORY_REGION: %s", strerror(-r));
		return -1;
	}
	/* radix with an empty 64K process table; POWER8 has only HPT */
	mmu.flags = KVM_PPC_MMUV3_RADIX | KVM_PPC_MMUV3_GTSE;
	mmu.process_table = PATB_GR | PRTB_GPA | (16 - 12);
	r = xioctl(v->fd, KVM_PPC_CONFIGURE_V3_MMU, &mmu);
	if (r && !(r == -ENODEV && power8)) {
		say("KVM_PPC_CONFIGURE_V3_MMU(radix): %s", strerror(-r));
		return -1;
	}
	r = enable_cap(v->fd, KVM_CAP_PPC_ENABLE_HCALL, H_PUT_TCE_INDIRECT, 1);
	if (!r)
		r = enable_cap(v->fd, KVM_CAP_PPC_ENABLE_HCALL, H_STUFF_TCE, 1);
	if (r) {
		say("KVM_CAP_PPC_ENABLE_HCALL: %s", strerror(-r));
		return -1;
	}
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0) {
		say("KVM_CREATE_VCPU: %s", strerror(errno));
		return -1;
	}
	v->run_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	if (v->run == MAP_FAILED) {
		say("mmap kvm_run: %s", strerror(errno));
		return -1;
	}
	r = enable_cap(v->vcpu, KVM_CAP_PPC_PAPR, 0, 0);
	if (r) {
		say("KVM_CAP_PPC_PAPR: %s", strerror(-r));
		return -1;
	}
	/* exceptions in little endian */
	reg.id = KVM_REG_PPC_LPCR_64;
	reg.addr = (uintptr_t)&lpcr;
	r = xioctl(v->vcpu, KVM_GET_ONE_REG, &reg);
	if (!r) {
		lpcr |= LPCR_ILE;
		r = xioctl(v->vcpu, KVM_SET_ONE_REG, &reg);
	}
	if (r) {
		say("LPCR: %s", strerror(-r));
		return -1;
	}
	/* every vector: li r3,MAGIC_TRAP+n; sc 1; b .-4 */
	for (i = 1; i < 0x10; i++) {
		w = (uint32_t *)(v->ram + i * 0x100);
		w[0] = 0x38600000u | (MAGIC_TRAP + i);
		w[1] = 0x44000022u;
		w[2] = 0x4bfffffcu;
	}
	memcpy(v->ram + CODE_GPA, kt_guest, kt_guest_end - kt_guest);
	return 0;
}

static struct tbl *tbl_find(struct vm *v, uint64_t liobn)
{
	int i;

	for (i = 0; i < v->nt; i++)
		if (v->t[i].liobn == liobn)
			return &v->t[i];
	return NULL;
}

/* an in-kernel table (KVM_CREATE_SPAPR_TCE_64) seen through its mmap */
static struct tbl *tbl_kernel(struct vm *v, uint32_t liobn, uint32_t shift,
			      uint64_t offset, uint64_t size)
{
	struct kvm_create_spapr_tce_64 c = {
		.liobn = liobn, .page_shift = shift, .offset = offset,
		.size = size,
	};
	struct tbl *t = &v->t[v->nt];

	if (v->nt == MAX_TBL) {
		say("too many tables");
		return NULL;
	}
	memset(t, 0, sizeof(*t));
	t->fd = ioctl(v->fd, KVM_CREATE_SPAPR_TCE_64, &c);
	if (t->fd < 0) {
		say("KVM_CREATE_SPAPR_TCE_64(liobn %#x, shift %u): %s", liobn,
		    shift, strerror(errno));
		return NULL;
	}
	t->len = (size * 8 + host_pgsz - 1) & ~(host_pgsz - 1);
	t->ent = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      t->fd, 0);
	if (t->ent == MAP_FAILED) {
		say("mmap of the TCE table: %s", strerror(errno));
		close(t->fd);
		return NULL;
	}
	t->liobn = liobn;
	t->shift = shift;
	t->offset = offset;
	t->size = size;
	v->nt++;
	return t;
}

/* a table only the VMM knows (the kernel has no such LIOBN) */
static struct tbl *tbl_user(struct vm *v, uint32_t liobn, uint32_t shift,
			    uint64_t offset, uint64_t size)
{
	struct tbl *t = &v->t[v->nt];

	if (v->nt == MAX_TBL) {
		say("too many tables");
		return NULL;
	}
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->ent = calloc(size, 8);
	t->liobn = liobn;
	t->shift = shift;
	t->offset = offset;
	t->size = size;
	v->nt++;
	return t;
}

/* close the tables from the @from-th on */
static void tbl_close_from(struct vm *v, int from)
{
	int i;

	for (i = from; i < v->nt; i++) {
		if (v->t[i].fd >= 0) {
			munmap(v->t[i].ent, v->t[i].len);
			close(v->t[i].fd);
		} else {
			free(v->t[i].ent);
		}
	}
	v->nt = from;
}

static uint64_t ioba_of(const struct tbl *t, uint64_t i)
{
	return (t->offset + i) << t->shift;
}

/* ------------------------------------------------------------------ */
/* userspace hcall handling, as QEMU does it */

static bool ioba_ok(const struct tbl *t, uint64_t ioba, uint64_t n)
{
	uint64_t idx = ioba >> t->shift;

	return !(ioba & ((1ull << t->shift) - 1)) && idx >= t->offset &&
	       n <= t->size && idx - t->offset <= t->size - n;
}

/*
 * One TCE into a table: the entry is written, and for a VFIO-linked
 * table the old mapping is removed and the new one made. A TCE with
 * permissions must point into guest RAM at a TCE-page boundary (QEMU
 * stores any value and lets the device fault; for VFIO it must pass a
 * host address, so we refuse what it cannot translate).
 */
static long put_one(struct vm *v, struct tbl *t, uint64_t ioba, uint64_t tce)
{
	uint64_t i = (ioba >> t->shift) - t->offset;
	uint64_t gpa = tce & ~TCE_RW, psz = 1ull << t->shift;
	long r;

	if ((tce & TCE_RW) &&
	    ((gpa & (psz - 1)) || gpa >= GUEST_RAM || GUEST_RAM - gpa < psz))
		return H_PARAMETER;
	if (t->vfio) {
		if (t->ent[i] & TCE_RW) {
			r = vk_unmap(&v->v, ioba, psz);
			if (r < 0)
				diag("userspace: UNMAP_DMA %#llx: %s",
				     (unsigned long long)ioba, strerror(-r));
		}
		t->ent[i] = 0;
		if (tce & TCE_RW) {
			r = vk_map(&v->v, ioba, v->ram + gpa, psz,
				   (tce & TCE_READ ? VFIO_DMA_MAP_FLAG_READ : 0) |
				   (tce & TCE_WRITE ? VFIO_DMA_MAP_FLAG_WRITE : 0));
			if (r < 0) {
				diag("userspace: MAP_DMA %#llx -> GPA %#llx: %s",
				     (unsigned long long)ioba,
				     (unsigned long long)gpa, strerror(-r));
				return H_PARAMETER;
			}
		}
	}
	t->ent[i] = tce;
	return H_SUCCESS;
}

static long emulate(struct vm *v, uint64_t nr, uint64_t *a)
{
	struct tbl *t = tbl_find(v, a[0]);
	uint64_t i, n, *list;
	long r;

	if (!t)
		return H_PARAMETER;
	switch (nr) {
	case H_PUT_TCE:
		if (!ioba_ok(t, a[1], 1))
			return H_PARAMETER;
		return put_one(v, t, a[1], a[2]);
	case H_GET_TCE:
		if (!ioba_ok(t, a[1], 1))
			return H_PARAMETER;
		a[0] = t->ent[(a[1] >> t->shift) - t->offset];
		return H_SUCCESS;
	case H_PUT_TCE_INDIRECT:
		n = a[3];
		if (n > 512 || (a[2] & 0xfff) || !ioba_ok(t, a[1], n))
			return H_PARAMETER;
		if (a[2] >= GUEST_RAM || GUEST_RAM - a[2] < n * 8)
			return H_PARAMETER;
		list = (uint64_t *)(v->ram + a[2]);
		for (i = 0; i < n; i++) {
			r = put_one(v, t, a[1] + (i << t->shift),
				    __builtin_bswap64(list[i]));
			if (r)
				return r;
		}
		return H_SUCCESS;
	case H_STUFF_TCE:
		n = a[3];
		if ((a[2] & TCE_RW) || !ioba_ok(t, a[1], n))
			return H_PARAMETER;
		for (i = 0; i < n; i++) {
			r = put_one(v, t, a[1] + (i << t->shift), a[2]);
			if (r)
				return r;
		}
		return H_SUCCESS;
	}
	return -2;	/* H_FUNCTION */
}

/* run until the guest says MAGIC_DONE; userspace hcalls are answered */
static int run_guest(struct vm *v, int *user)
{
	struct kvm_run *run = v->run;
	uint64_t nr;
	long r;

	for (;;) {
		r = xioctl(v->vcpu, KVM_RUN, NULL);
		if (r == -EINTR)
			continue;
		if (r) {
			say("KVM_RUN: %s", strerror(-r));
			return -1;
		}
		if (run->exit_reason == KVM_EXIT_INTR)
			continue;
		if (run->exit_reason != KVM_EXIT_PAPR_HCALL) {
			say("unexpected exit reason %u", run->exit_reason);
			return -1;
		}
		nr = run->papr_hcall.nr;
		if (nr == MAGIC_DONE) {
			v->magic_exits++;
			return 0;
		}
		if (nr > MAGIC_TRAP && nr < MAGIC_TRAP + 0x10) {
			say("the guest took exception %#llx",
			    (unsigned long long)(nr - MAGIC_TRAP) << 8);
			return -1;
		}
		if (opkind(nr) >= 0) {
			v->uexit[opkind(nr)]++;
			if (user)
				(*user)++;
		}
		run->papr_hcall.ret = emulate(v, nr, run->papr_hcall.args);
	}
}

/*
 * The vCPU stopped in our MAGIC_DONE hcall: the next KVM_RUN completes
 * it and loads r3 from run->papr_hcall.ret and r4-r12 from args[],
 * over what KVM_SET_REGS put there. So the registers we want go there
 * too.
 */
static void set_pending(struct vm *v, const struct kvm_regs *regs)
{
	int i;

	v->run->papr_hcall.ret = regs->gpr[3];
	for (i = 0; i < 9; i++)
		v->run->papr_hcall.args[i] = regs->gpr[4 + i];
}

/*
 * kvm_tce makes a VM's counters at its first TCE hcall and their
 * directory a moment later: one H_GET_TCE of an unknown LIOBN (it goes
 * to userspace, which answers), then up to 3 s for the directory.
 */
static int hcall(struct vm *v, struct hres *h, uint64_t op, uint64_t a1,
		 uint64_t a2, uint64_t a3, uint64_t a4);

static int vm_stats_wait(void)
{
	struct hres h;
	int i;

	hcall(&vm, &h, H_GET_TCE, 0x7fff0000u, 0, 0, 0);
	for (i = 0; i < 30; i++) {
		if (!vm_stats_find())
			return 0;
		usleep(100000);
	}
	return -1;
}

/* one hcall through kt_one */
static int hcall(struct vm *v, struct hres *h, uint64_t op, uint64_t a1,
		 uint64_t a2, uint64_t a3, uint64_t a4)
{
	struct kvm_regs regs;

	memset(h, 0, sizeof(*h));
	if (ioctl(v->vcpu, KVM_GET_REGS, &regs)) {
		say("KVM_GET_REGS: %s", strerror(errno));
		return -1;
	}
	regs.pc = ENTRY(kt_one);
	regs.msr = MSR_SF | MSR_ME | MSR_LE;
	regs.gpr[3] = op;
	regs.gpr[4] = a1;
	regs.gpr[5] = a2;
	regs.gpr[6] = a3;
	regs.gpr[7] = a4;
	regs.gpr[14] = 0xdead;
	regs.gpr[15] = 0xdead;
	set_pending(v, &regs);
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs)) {
		say("KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	if (run_guest(v, &h->user))
		return -1;
	if (ioctl(v->vcpu, KVM_GET_REGS, &regs)) {
		say("KVM_GET_REGS: %s", strerror(errno));
		return -1;
	}
	h->ret = (long)regs.gpr[14];
	h->r4 = regs.gpr[15];
	return 0;
}

/* ------------------------------------------------------------------ */
/* hcall checks */

#define KERNEL	0
#define USER	1

/*
 * @op with @a1..@a4 returns @want, answered by the kernel (@path KERNEL)
 * or by us (USER). Each call also counts into @cw, the kvm_tce counter
 * deltas we expect: handled per opcode when the kernel answered with
 * success, h_parameter for H_PARAMETER from the kernel, fallback for
 * every TCE hcall that came out to userspace: kvm_tce handed each of
 * them on, an unknown LIOBN too.
 */
static long cw[C_N];

/* What the answer @h to @op moves in kvm_tce's counters, into @cw. */
static void cw_count(uint64_t op, const struct hres *h)
{
	if (opkind(op) < 0)
		return;
	if (h->user)
		cw[C_FALLBACK]++;
	else if (h->ret == H_SUCCESS)
		cw[opkind(op)]++;
	else if (h->ret == H_PARAMETER)
		cw[C_HPARAM]++;
}

static int expect(struct hres *h, int path, long want, uint64_t op,
		  uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	if (hcall(&vm, h, op, a1, a2, a3, a4))
		return FAIL;
	diag("%s(%#llx, %#llx, %#llx, %#llx) = %s, %s", opname(op),
	     (unsigned long long)a1, (unsigned long long)a2,
	     (unsigned long long)a3, (unsigned long long)a4, hname(h->ret),
	     h->user ? "in userspace" : "in the kernel");
	CHECK(h->ret == want, "%s returned %s, want %s", opname(op),
	      hname(h->ret), hname(want));
	CHECK(!!h->user == path, "%s was answered %s, want %s", opname(op),
	      h->user ? "in userspace" : "in the kernel",
	      path ? "in userspace" : "in the kernel");
	cw_count(op, h);
	return PASS;
}

#define EXPECT(path, want, op, a1, a2, a3, a4) do {			\
	struct hres h_;							\
	if (expect(&h_, path, want, op, a1, a2, a3, a4) != PASS)	\
		return FAIL;						\
} while (0)

/* the entry's value through H_GET_TCE equals the mmap's and @want */
static int agree(struct tbl *t, uint64_t i, uint64_t want)
{
	struct hres h;

	if (hcall(&vm, &h, H_GET_TCE, t->liobn, ioba_of(t, i), 0, 0))
		return FAIL;
	CHECK(h.ret == H_SUCCESS, "H_GET_TCE of entry %llu: %s",
	      (unsigned long long)i, hname(h.ret));
	CHECK(!h.user, "H_GET_TCE of entry %llu went to userspace",
	      (unsigned long long)i);
	cw[C_GET]++;
	CHECK(h.r4 == t->ent[i] && h.r4 == want,
	      "entry %llu: H_GET_TCE %#llx, mmap %#llx, want %#llx",
	      (unsigned long long)i, (unsigned long long)h.r4,
	      (unsigned long long)t->ent[i], (unsigned long long)want);
	return PASS;
}

/* every entry: mmap equals @snap and, for [lo, hi), H_GET_TCE agrees */
static int table_is(struct tbl *t, const uint64_t *snap, uint64_t lo,
		    uint64_t hi)
{
	uint64_t i;

	for (i = 0; i < t->size; i++)
		CHECK(t->ent[i] == snap[i],
		      "entry %llu is %#llx in the mmap, want %#llx",
		      (unsigned long long)i, (unsigned long long)t->ent[i],
		      (unsigned long long)snap[i]);
	for (i = lo; i < hi && i < t->size; i++)
		if (agree(t, i, snap[i]) != PASS)
			return FAIL;
	return PASS;
}

/* ------------------------------------------------------------------ */
/* cases on a plain in-kernel table */

/*
 * Entries per test table: not a whole number of pages of the table
 * (512 or 8192 TCEs a page), so that an entry just past the end is
 * still inside the table's last page and visible through the mmap
 */
#define TSIZE	1000
#define TOFF	0x100	/* table offset, in TCE pages */

static uint32_t next_liobn = 0x1000;

static struct tbl *fresh(uint32_t shift)
{
	return tbl_kernel(&vm, next_liobn++, shift, TOFF, TSIZE);
}

/* a TCE for entry @i: a page of guest RAM, TCE-page aligned, RW */
static uint64_t tce_for(uint32_t shift, uint64_t i)
{
	uint64_t psz = 1ull << shift;
	uint64_t base = (DATA_GPA + psz - 1) & ~(psz - 1);
	uint64_t n = (GUEST_RAM - base) / psz;

	return (base + (i % n) * psz) | TCE_RW;
}

static uint64_t *snap_of(struct tbl *t)
{
	static uint64_t s[TSIZE];

	memcpy(s, t->ent, t->size * 8);
	return s;
}

static int t_put_get(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t tce = tce_for(shift, 3), i = 7;
	struct hres h;

	if (!t)
		return FAIL;
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE, t->liobn, ioba_of(t, i), tce, 0);
	CHECK(t->ent[i] == tce, "mmap shows %#llx, want %#llx",
	      (unsigned long long)t->ent[i], (unsigned long long)tce);
	if (expect(&h, KERNEL, H_SUCCESS, H_GET_TCE, t->liobn, ioba_of(t, i),
		   0, 0) != PASS)
		return FAIL;
	CHECK(h.r4 == tce, "H_GET_TCE gave %#llx, want %#llx",
	      (unsigned long long)h.r4, (unsigned long long)tce);
	/* the first and the last entry, then clear */
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE, t->liobn, ioba_of(t, 0), tce, 0);
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE, t->liobn, ioba_of(t, TSIZE - 1),
	       tce, 0);
	if (agree(t, 0, tce) || agree(t, TSIZE - 1, tce))
		return FAIL;
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE, t->liobn, ioba_of(t, i), 0, 0);
	if (agree(t, i, 0))
		return FAIL;
	/* a TCE with no permission (a poison value) is stored as it is */
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE, t->liobn, ioba_of(t, i),
	       0xabc000ull << 12, 0);
	return agree(t, i, 0xabc000ull << 12);
}

static void write_list(uint64_t gpa, const uint64_t *tces, int n)
{
	uint64_t *l = (uint64_t *)(vm.ram + gpa);
	int i;

	for (i = 0; i < n; i++)
		l[i] = __builtin_bswap64(tces[i]);	/* the list is BE */
}

static int indirect(uint32_t shift, int n)
{
	struct tbl *t = fresh(shift);
	uint64_t tces[512], first = 5, *s;
	int i;

	if (!t)
		return FAIL;
	for (i = 0; i < n; i++)
		tces[i] = tce_for(shift, i * 7 + 1);
	write_list(LIST_GPA, tces, n);
	s = snap_of(t);
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, first), LIST_GPA, n);
	for (i = 0; i < n; i++)
		s[first + i] = tces[i];
	/* the whole table through the mmap, around the range by GET */
	return table_is(t, s, first - 1, first + n + 1);
}

static int t_indirect_1(uint32_t shift) { return indirect(shift, 1); }
static int t_indirect_512(uint32_t shift) { return indirect(shift, 512); }

static int stuff(uint32_t shift, uint64_t value)
{
	struct tbl *t = fresh(shift);
	uint64_t tces[512], *s;
	int i;

	if (!t)
		return FAIL;
	for (i = 0; i < 512; i++)
		tces[i] = tce_for(shift, i);
	write_list(LIST_GPA, tces, 512);
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE_INDIRECT, t->liobn, ioba_of(t, 0),
	       LIST_GPA, 512);
	s = snap_of(t);
	/* 300 entries from 100: crosses a 4K page of the table */
	EXPECT(KERNEL, H_SUCCESS, H_STUFF_TCE, t->liobn, ioba_of(t, 100),
	       value, 300);
	for (i = 100; i < 400; i++)
		s[i] = value;
	if (table_is(t, s, 98, 102) || table_is(t, s, 398, 402))
		return FAIL;
	/* up to the very last entry */
	EXPECT(KERNEL, H_SUCCESS, H_STUFF_TCE, t->liobn,
	       ioba_of(t, TSIZE - 10), value, 10);
	for (i = TSIZE - 10; i < TSIZE; i++)
		s[i] = value;
	return table_is(t, s, TSIZE - 11, TSIZE);
}

static int t_stuff_clear(uint32_t shift) { return stuff(shift, 0); }

static int t_stuff_value(uint32_t shift)
{
	/* a nonzero value without permission bits */
	return stuff(shift, 0x1234ull << 24);
}

/* an error leaves the table as it was */
#define UNCHANGED(t, s) do {					\
	if (table_is(t, s, 0, 0) != PASS)			\
		return FAIL;					\
} while (0)

static int t_unknown_liobn(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint32_t bad = 0x7fff0000 | shift;
	uint64_t *s;

	if (!t)
		return FAIL;
	s = snap_of(t);
	/* no table: the kernel gives it up, we answer H_PARAMETER */
	EXPECT(USER, H_PARAMETER, H_PUT_TCE, bad, ioba_of(t, 0),
	       tce_for(shift, 0), 0);
	EXPECT(USER, H_PARAMETER, H_GET_TCE, bad, ioba_of(t, 0), 0, 0);
	write_list(LIST_GPA, (uint64_t[]){ tce_for(shift, 0) }, 1);
	EXPECT(USER, H_PARAMETER, H_PUT_TCE_INDIRECT, bad, ioba_of(t, 0),
	       LIST_GPA, 1);
	EXPECT(USER, H_PARAMETER, H_STUFF_TCE, bad, ioba_of(t, 0), 0, 1);
	UNCHANGED(t, s);
	return PASS;
}

static int t_ioba_bad(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t tce = tce_for(shift, 0), mis, below, past, *s;

	if (!t)
		return FAIL;
	mis = ioba_of(t, 2) + 0x1000;
	below = ioba_of(t, 0) - (1ull << shift);
	past = ioba_of(t, TSIZE);
	s = snap_of(t);
	if (shift > 12) {	/* 4K inside a larger TCE page */
		EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE, t->liobn, mis, tce, 0);
		EXPECT(KERNEL, H_PARAMETER, H_GET_TCE, t->liobn, mis, 0, 0);
	}
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE, t->liobn, ioba_of(t, 2) + 8,
	       tce, 0);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE, t->liobn, below, tce, 0);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE, t->liobn, 0, tce, 0);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE, t->liobn, past, tce, 0);
	EXPECT(KERNEL, H_PARAMETER, H_GET_TCE, t->liobn, below, 0, 0);
	EXPECT(KERNEL, H_PARAMETER, H_GET_TCE, t->liobn, past, 0, 0);
	UNCHANGED(t, s);
	return PASS;
}

static int t_tce_outside_ram(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t out = ((GUEST_RAM << 4) + (1ull << shift)) | TCE_RW;
	uint64_t *s;

	if (!t)
		return FAIL;
	s = snap_of(t);
	/* stock: H_TOO_HARD, so userspace sees it; we refuse it */
	EXPECT(USER, H_PARAMETER, H_PUT_TCE, t->liobn, ioba_of(t, 4), out, 0);
	UNCHANGED(t, s);
	return PASS;
}

static int t_tce_misaligned(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t tce = tce_for(shift, 1) + 0x1000;
	uint64_t *s;

	if (!t)
		return FAIL;
	if (shift == 12) {
		say("SKIP a 4K TCE page has no unaligned 4K address");
		return SKIP;
	}
	s = snap_of(t);
	EXPECT(USER, H_PARAMETER, H_PUT_TCE, t->liobn, ioba_of(t, 4), tce, 0);
	UNCHANGED(t, s);
	return PASS;
}

static int t_indirect_bad(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t tces[512], *s;
	int i;

	if (!t)
		return FAIL;
	for (i = 0; i < 512; i++)
		tces[i] = tce_for(shift, i);
	write_list(LIST_GPA, tces, 512);
	write_list(LIST_GPA + 0x1000, tces, 512);	/* 513 entries readable */
	s = snap_of(t);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, 0), LIST_GPA, 513);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, 0), LIST_GPA + 8, 4);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, 0), LIST_GPA + 0x800, 4);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, 0) - (1ull << shift), LIST_GPA, 2);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, TSIZE), LIST_GPA, 1);
	UNCHANGED(t, s);
	return PASS;
}

static int t_indirect_list_outside(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t *s;

	if (!t)
		return FAIL;
	s = snap_of(t);
	/* stock: the list is not in a memslot, H_TOO_HARD */
	EXPECT(USER, H_PARAMETER, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, 0), GUEST_RAM + 0x10000, 4);
	UNCHANGED(t, s);
	return PASS;
}

/*
 * A list whose entry k points outside guest RAM. Stock checks every
 * entry before it writes one (H_TOO_HARD); userspace writes entries up
 * to k and refuses k. Whoever wrote what, the mmap and H_GET_TCE agree
 * on every entry afterwards, and entries from k on are untouched.
 */
static int t_indirect_partial(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t tces[64], *s, first = 10;
	int i, k = 37;

	if (!t)
		return FAIL;
	for (i = 0; i < 64; i++)
		tces[i] = tce_for(shift, i + 100);
	tces[k] = (GUEST_RAM << 4) | TCE_RW;
	write_list(LIST_GPA, tces, 64);
	s = snap_of(t);
	EXPECT(USER, H_PARAMETER, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, first), LIST_GPA, 64);
	for (i = 0; i < k; i++)
		s[first + i] = tces[i];
	return table_is(t, s, 0, first + 64 + 2);
}

/*
 * A list whose entry k has no permission bits and an address that is not
 * guest RAM. Stock validates it (no permission: any value is allowed),
 * then, writing entry by entry, fails to translate it: H_PARAMETER with
 * the entries before k already written. kvm_tce checks the whole list
 * first: H_PARAMETER with nothing written. Either way the mmap and
 * H_GET_TCE agree, and entries from k on are untouched.
 */
static int t_indirect_noperm_outside(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t tces[64], *s, first = 10;
	int i, k = 37, written = 0;

	if (!t)
		return FAIL;
	for (i = 0; i < 64; i++)
		tces[i] = tce_for(shift, i + 200);
	tces[k] = GUEST_RAM << 4;	/* no permission, not RAM */
	write_list(LIST_GPA, tces, 64);
	s = snap_of(t);
	EXPECT(KERNEL, H_PARAMETER, H_PUT_TCE_INDIRECT, t->liobn,
	       ioba_of(t, first), LIST_GPA, 64);
	for (i = 0; i < k; i++)
		written += t->ent[first + i] == tces[i];
	diag("entries written before the bad one: %d of %d", written, k);
	if (!opt_ours && written == k)
		for (i = 0; i < k; i++)	/* stock's partial write */
			s[first + i] = tces[i];
	return table_is(t, s, 0, first + 64 + 2);
}

/*
 * The VMM unmaps the H_PUT_TCE_INDIRECT list page (MADV_DONTNEED) and
 * faults it in again with new content, in a thread, for a bounded count,
 * while the guest loops on H_PUT_TCE_INDIRECT of that list. A reference
 * the kernel takes on the list page can be the last one when the unmap
 * lands during the call: it must then be dropped through the allocator
 * (defect 3: kvm_tce dropped it on the linear-map alias of the page
 * struct). Every call must succeed (each version of the list is valid:
 * A, B, or zeroes while unmapped), every entry written must come from
 * one of them (a page read after it was freed and reused would not),
 * and a last call after the thread stopped must write the list's new
 * content, not a stale page's.
 */
#define RACE_GPA	0x180000ull	/* a host page of its own (64K aligned) */
#define RACE_CALLS	2000
#define RACE_ROUNDS	2000

struct race {
	uint8_t *page;
	size_t len;
	uint32_t shift;
	long rounds;
	volatile int stop;
	int err;
};

static int run_loop(uint64_t entry, const uint64_t *r, uint64_t *done,
		    uint64_t *bad, uint64_t *last);

static uint64_t race_tce(uint32_t shift, int version, int i)
{
	return tce_for(shift, 1 + i + version * 512);
}

static void race_write(uint32_t shift, int version)
{
	uint64_t *l = (uint64_t *)(vm.ram + RACE_GPA);
	int i;

	for (i = 0; i < 512; i++)
		l[i] = __builtin_bswap64(race_tce(shift, version, i));
}

static void *race_thread(void *arg)
{
	struct race *r = arg;

	for (r->rounds = 0; r->rounds < RACE_ROUNDS && !r->stop; r->rounds++) {
		if (madvise(r->page, r->len, MADV_DONTNEED)) {
			r->err = errno;
			break;
		}
		race_write(r->shift, r->rounds & 1);	/* faults it in anew */
	}
	return NULL;
}

static int t_indirect_list_unmapped_race(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	struct race r = { .shift = shift };
	uint64_t regs[7], done, bad, last, e;
	struct csnap a, b;
	unsigned long u0 = vm.uexit[1];
	long lr0, lr1;
	pthread_t th;
	int i, rc;

	if (!t)
		return FAIL;
	r.len = host_pgsz;
	r.page = vm.ram + (RACE_GPA & ~(uint64_t)(host_pgsz - 1));
	race_write(shift, 0);
	lr0 = stat_value(SRM_INFO, "last_refs");
	counters_read(&a);
	rc = pthread_create(&th, NULL, race_thread, &r);
	CHECK(!rc, "pthread_create: %s", strerror(rc));
	regs[0] = RACE_CALLS;
	regs[1] = H_PUT_TCE_INDIRECT;
	regs[2] = t->liobn;
	regs[3] = ioba_of(t, 0);
	regs[4] = RACE_GPA;
	regs[5] = 512;
	regs[6] = H_SUCCESS;
	rc = run_loop(ENTRY(kt_loop), regs, &done, &bad, &last);
	r.stop = 1;
	pthread_join(th, NULL);
	counters_read(&b);
	lr1 = stat_value(SRM_INFO, "last_refs");
	diag("%llu calls, %llu failed (last %s), %lu in userspace; %ld unmap rounds",
	     (unsigned long long)done, (unsigned long long)bad,
	     hname((long)last), vm.uexit[1] - u0, r.rounds);
	diag("spapr_realmode last references handed back: %ld",
	     lr0 >= 0 && lr1 >= 0 ? lr1 - lr0 : -1L);
	CHECK(!rc, "the guest loop did not finish");
	CHECK(!r.err, "madvise(MADV_DONTNEED): %s", strerror(r.err));
	CHECK(done == RACE_CALLS && !bad,
	      "%llu of %d calls ran, %llu did not return H_SUCCESS (last %s)",
	      (unsigned long long)done, RACE_CALLS, (unsigned long long)bad,
	      hname((long)last));
	CHECK(r.rounds > 0, "the unmap thread never ran");
	for (i = 0; i < 512; i++) {
		e = t->ent[i];
		CHECK(e == 0 || e == race_tce(shift, 0, i) ||
		      e == race_tce(shift, 1, i),
		      "entry %d is %#llx: from no version of the list", i,
		      (unsigned long long)e);
	}
	/* kvm_tce answered each call or handed it to stock, nothing else */
	if (opt_ours) {
		diag("kvm_tce: %ld handled, %ld handed to stock",
		     b.v[C_INDIRECT] - a.v[C_INDIRECT],
		     b.v[C_FALLBACK] - a.v[C_FALLBACK]);
		CHECK(b.v[C_INDIRECT] - a.v[C_INDIRECT] +
		      b.v[C_FALLBACK] - a.v[C_FALLBACK] == RACE_CALLS,
		      "handled %ld + fallback %ld, want %d calls",
		      b.v[C_INDIRECT] - a.v[C_INDIRECT],
		      b.v[C_FALLBACK] - a.v[C_FALLBACK], RACE_CALLS);
		cw[C_INDIRECT] += b.v[C_INDIRECT] - a.v[C_INDIRECT];
		cw[C_FALLBACK] += b.v[C_FALLBACK] - a.v[C_FALLBACK];
	}
	/* the page faulted in again with new content is what is read */
	race_write(shift, 2);
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE_INDIRECT, t->liobn, ioba_of(t, 0),
	       RACE_GPA, 512);
	for (i = 0; i < 512; i++)
		CHECK(t->ent[i] == race_tce(shift, 2, i),
		      "entry %d is %#llx after the list was rewritten, want %#llx",
		      i, (unsigned long long)t->ent[i],
		      (unsigned long long)race_tce(shift, 2, i));
	return agree(t, 511, race_tce(shift, 2, 511));
}

/*
 * Many hcalls answered in the kernel from one vCPU thread: each one kvm_tce
 * answers goes back to kvm-hv through ftrace's exit with a changed nip
 * (kvm_tce/kt_answered.S says why that differs between kernels). A
 * return that ftrace's livepatch exit does not expect took the host down
 * at the first answered calls (6.12-debug, which has livepatch). Every
 * call must give the right answer, none may reach userspace, and the
 * host must live through all of them.
 */
#define MANY_CALLS	20000

/* MANY_CALLS of @op on @t's entry @i in the guest's loop, each H_SUCCESS */
static int many_calls(struct tbl *t, uint64_t op, uint64_t i, uint64_t tce)
{
	uint64_t regs[7] = { MANY_CALLS, op, t->liobn, ioba_of(t, i), tce, 0,
			     H_SUCCESS };
	uint64_t done, bad, last;

	CHECK(!run_loop(ENTRY(kt_loop), regs, &done, &bad, &last),
	      "the %s loop did not finish", opname(op));
	CHECK(done == MANY_CALLS && !bad,
	      "%s: %llu of %d calls ran, %llu did not return H_SUCCESS (last %s)",
	      opname(op), (unsigned long long)done, MANY_CALLS,
	      (unsigned long long)bad, hname((long)last));
	/* with kvm_tce loaded, every one of them is its answer */
	cw[opkind(op)] += MANY_CALLS;
	return PASS;
}

static int t_many_answered(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t tce = tce_for(shift, 9), i = 11;
	unsigned long u0 = vm.uexit[0] + vm.uexit[3];

	if (!t)
		return FAIL;
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE, t->liobn, ioba_of(t, i), tce, 0);
	if (many_calls(t, H_GET_TCE, i, 0) ||
	    many_calls(t, H_PUT_TCE, i, tce_for(shift, 13)))
		return FAIL;
	CHECK(vm.uexit[0] + vm.uexit[3] == u0,
	      "%lu of the calls went to userspace, want 0",
	      vm.uexit[0] + vm.uexit[3] - u0);
	return agree(t, i, tce_for(shift, 13));
}

static int t_stuff_bad(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t *s;

	if (!t)
		return FAIL;
	s = snap_of(t);
	EXPECT(KERNEL, H_PARAMETER, H_STUFF_TCE, t->liobn, ioba_of(t, 0),
	       TCE_READ, 4);
	EXPECT(KERNEL, H_PARAMETER, H_STUFF_TCE, t->liobn, ioba_of(t, 0),
	       tce_for(shift, 0), 4);
	EXPECT(KERNEL, H_PARAMETER, H_STUFF_TCE, t->liobn,
	       ioba_of(t, 0) - (1ull << shift), 0, 2);
	EXPECT(KERNEL, H_PARAMETER, H_STUFF_TCE, t->liobn, ioba_of(t, TSIZE),
	       0, 1);
	EXPECT(KERNEL, H_PARAMETER, H_STUFF_TCE, t->liobn,
	       ioba_of(t, 1) + 0x800, 0, 1);
	UNCHANGED(t, s);
	return PASS;
}

/*
 * A range that starts inside the table and runs off its end. PAPR wants
 * H_PARAMETER. Stock answers H_SUCCESS and writes past the end of the
 * table: kvmppc_ioba_validate() passes npages to iommu_tce_check_ioba(),
 * which checks only the first entry (6.1 and 6.12 alike). With a table
 * that ends inside a page, the write lands in that page and the mmap
 * shows it; where the table ends at a page boundary, stock indexes
 * stt->pages[] past its end (not done here). So for stock this is a
 * SKIP naming the bug, after checking the bug is what happened; with
 * kvm_tce.ko it must be H_PARAMETER with nothing written.
 */
static int t_past_end(uint32_t shift)
{
	struct tbl *t = fresh(shift);
	uint64_t tces[4], *s, poison = 0x5678ull << 24;
	struct hres h1, h2;
	int i;

	if (!t)
		return FAIL;
	for (i = 0; i < 4; i++)
		tces[i] = tce_for(shift, i + 40);
	write_list(LIST_GPA, tces, 4);
	s = snap_of(t);
	if (hcall(&vm, &h1, H_PUT_TCE_INDIRECT, t->liobn,
		  ioba_of(t, TSIZE - 2), LIST_GPA, 4) ||
	    hcall(&vm, &h2, H_STUFF_TCE, t->liobn, ioba_of(t, TSIZE - 1),
		  poison, 3))
		return FAIL;
	diag("INDIRECT of 4 from entry %d: %s %s", TSIZE - 2, hname(h1.ret),
	     h1.user ? "in userspace" : "in the kernel");
	diag("STUFF of 3 from entry %d: %s %s", TSIZE - 1, hname(h2.ret),
	     h2.user ? "in userspace" : "in the kernel");
	diag("past the end, entries %d, %d: %#llx %#llx", TSIZE, TSIZE + 1,
	     (unsigned long long)t->ent[TSIZE],
	     (unsigned long long)t->ent[TSIZE + 1]);
	if (!opt_ours && h1.ret == H_SUCCESS && h2.ret == H_SUCCESS &&
	    !h1.user && !h2.user && t->ent[TSIZE] == poison &&
	    t->ent[TSIZE + 1] == poison) {
		say("SKIP stock bug: %s, %s %d and %d past the table (mmap)",
		    "iommu_tce_check_ioba() ignores npages",
		    "INDIRECT and STUFF past the end return H_SUCCESS and wrote entries",
		    TSIZE, TSIZE + 1);
		return SKIP;
	}
	CHECK(h1.ret == H_PARAMETER && !h1.user,
	      "INDIRECT past the end: %s %s, want H_PARAMETER in the kernel",
	      hname(h1.ret), h1.user ? "in userspace" : "in the kernel");
	CHECK(h2.ret == H_PARAMETER && !h2.user,
	      "STUFF past the end: %s %s, want H_PARAMETER in the kernel",
	      hname(h2.ret), h2.user ? "in userspace" : "in the kernel");
	cw[C_HPARAM] += 2;
	CHECK(!t->ent[TSIZE] && !t->ent[TSIZE + 1],
	      "written past the end: %#llx %#llx",
	      (unsigned long long)t->ent[TSIZE],
	      (unsigned long long)t->ent[TSIZE + 1]);
	UNCHANGED(t, s);
	return PASS;
}

/* H_PROD of a vCPU that does not exist: the null hcall of the bench */
static int t_null_hcall(uint32_t shift)
{
	(void)shift;
	EXPECT(KERNEL, H_PARAMETER, H_PROD, 0x7777, 0, 0, 0);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* VFIO: a table linked to a VFIO group, with QEMU's edu device */

#define XFER		4000u
#define VFIO_LIOBN	0x80000001u
#define VFIO_WIN	(64ull << 20)

static bool all_c3(const uint8_t *p)
{
	uint32_t i;

	for (i = 0; i < XFER; i++)
		if (p[i] != 0xc3)
			return false;
	return true;
}

/*
 * v1: no preregistration and no window of our own; the default window is
 * what KVM links, and a dynamic container makes it at the first MAP.
 */
static int vfio_v1_window(struct vfio_kvm *f,
			  const struct vfio_iommu_spapr_tce_info *info)
{
	long r = xioctl(f->container, VFIO_IOMMU_ENABLE, NULL);

	if (!r)
		r = vk_map(f, info->dma32_window_start, vm.ram + DATA_GPA,
			   4096, VFIO_DMA_MAP_FLAG_READ);
	if (!r)
		r = vk_unmap(f, info->dma32_window_start, 4096);
	if (r) {
		say("v1 ENABLE and first MAP: %s", strerror(-r));
		return -1;
	}
	f->win_start = info->dma32_window_start;
	f->win_size = info->dma32_window_size < VFIO_WIN ?
		      info->dma32_window_size : VFIO_WIN;
	return 0;
}

static int vfio_open(struct vfio_kvm *f)
{
	struct vfio_iommu_spapr_tce_info info;

	if (vk_open(f, opt_vfio_group, opt_vfio_dev, opt_vfio_v1, &info))
		return -1;
	if (opt_vfio_v1)
		return vfio_v1_window(f, &info);
	/* the first half of guest RAM is preregistered, the rest is not */
	return vk_v2_window(f, &info, vm.ram, HIGH_GPA, VFIO_WIN, 1);
}

/* the KVM table of the window, attached through the KVM-VFIO device */
static struct tbl *vfio_link(struct vm *v)
{
	struct tbl *t;

	t = tbl_kernel(v, VFIO_LIOBN, 12, v->v.win_start >> 12,
		       v->v.win_size >> 12);
	if (!t || vk_kvm_link(&v->v, v->fd, t->fd))
		return NULL;
	t->vfio = true;
	return t;
}

static struct tbl *vt;	/* the VFIO-linked table */

/* IOVA and guest page of slot @n of the DMA tests */
#define V_IOBA(n)	(vt->offset * 4096 + 0x100000 + (n) * 0x1000ull)
#define V_GPA(n)	(DATA_GPA + (n) * 0x10000ull)
#define V_TCE(n)	(V_GPA(n) | TCE_RW)
/* a guest page in the RAM that is not preregistered */
#define V_GPA_HIGH	(HIGH_GPA + 0x100000)

/*
 * Device -> RAM through @dst_ioba must land in @dst, with the device
 * loaded from the mapped @src_ioba / @src first.
 */
static int dma_lands(uint64_t src_ioba, uint8_t *src, uint64_t dst_ioba,
		     uint8_t *dst, uint32_t seed)
{
	int r;

	fill(src, XFER, seed);
	memset(dst, 0xee, XFER);
	r = edu_dma(vm.v.bar, src_ioba, XFER, false);
	CHECK(!r, "DMA RAM->device from %#llx: %s",
	      (unsigned long long)src_ioba, strerror(-r));
	r = edu_dma(vm.v.bar, dst_ioba, XFER, true);
	CHECK(!r, "DMA device->RAM to %#llx: %s",
	      (unsigned long long)dst_ioba, strerror(-r));
	CHECK(filled(dst, XFER, seed),
	      "the device's data did not reach guest RAM through %#llx (%02x %02x ...)",
	      (unsigned long long)dst_ioba, dst[0], dst[1]);
	return PASS;
}

/* device -> RAM through @ioba changes nothing in @ram */
static int dma_blocked_at(uint64_t ioba, uint8_t *ram)
{
	int r;

	memset(ram, 0xc3, XFER);
	r = edu_dma(vm.v.bar, ioba, XFER, true);
	diag("device->RAM to the cleared %#llx: %s", (unsigned long long)ioba,
	     r ? strerror(-r) : "completed");
	CHECK(all_c3(ram), "DMA to the cleared IOVA %#llx reached guest RAM",
	      (unsigned long long)ioba);
	return PASS;
}

/*
 * Every page of the cleared slots [@first, @first + @n): device -> RAM
 * through each changes nothing in the guest page it mapped before.
 */
static int dma_blocked(int first, int n)
{
	int k;

	for (k = first; k < first + n; k++)
		if (dma_blocked_at(V_IOBA(k), vm.ram + V_GPA(k)) != PASS)
			return FAIL;
	return PASS;
}

/*
 * Where a VFIO-linked hcall that maps, or clears a live TCE, is answered:
 * stock with the in-tree container and kvm_tce in the kernel; stock with
 * our container in userspace (no mm_iommu region to map from, and no
 * mm_iommu region to account a clear against: H_TOO_HARD)
 */
static int vpath(void)
{
	return opt_vfio_user ? USER : KERNEL;
}

/* map slot 0 (the device's source) and slot @n by H_PUT_TCE */
static int map2(int n)
{
	EXPECT(vpath(), H_SUCCESS, H_PUT_TCE, VFIO_LIOBN, V_IOBA(0), V_TCE(0), 0);
	EXPECT(vpath(), H_SUCCESS, H_PUT_TCE, VFIO_LIOBN, V_IOBA(n), V_TCE(n), 0);
	return PASS;
}

static int t_vfio_put_dma(uint32_t shift)
{
	(void)shift;
	if (map2(1))
		return FAIL;
	if (agree(vt, V_IOBA(1) / 4096 - vt->offset, V_TCE(1)))
		return FAIL;
	return dma_lands(V_IOBA(0), vm.ram + V_GPA(0), V_IOBA(1),
			 vm.ram + V_GPA(1), 0x1111);
}

/*
 * Slot @n, once DMA has reached it, cleared by @op (TCE 0; @npages for
 * H_STUFF_TCE, whose further slots are mapped first): every cleared entry
 * reads 0 and the device's DMA through each of them is blocked.
 */
static int clear_blocks(int n, uint32_t seed, uint64_t op, uint64_t npages)
{
	int k, pages = npages ? (int)npages : 1;

	if (map2(n))
		return FAIL;
	for (k = n + 1; k < n + pages; k++)
		EXPECT(vpath(), H_SUCCESS, H_PUT_TCE, VFIO_LIOBN, V_IOBA(k),
		       V_TCE(k), 0);
	if (dma_lands(V_IOBA(0), vm.ram + V_GPA(0), V_IOBA(n),
		      vm.ram + V_GPA(n), seed))
		return FAIL;
	EXPECT(vpath(), H_SUCCESS, op, VFIO_LIOBN, V_IOBA(n), 0, npages);
	for (k = n; k < n + pages; k++)
		if (agree(vt, V_IOBA(k) / 4096 - vt->offset, 0))
			return FAIL;
	return dma_blocked(n, pages);
}

static int t_vfio_put_zero_blocks(uint32_t shift)
{
	(void)shift;
	return clear_blocks(2, 0x2222, H_PUT_TCE, 0);
}

static int t_vfio_stuff_blocks(uint32_t shift)
{
	(void)shift;
	return clear_blocks(3, 0x3333, H_STUFF_TCE, 2);
}

static int t_vfio_indirect_dma(uint32_t shift)
{
	uint64_t tces[8];
	int i;

	(void)shift;
	for (i = 0; i < 8; i++)
		tces[i] = V_TCE(8 + i);
	write_list(LIST_GPA, tces, 8);
	EXPECT(vpath(), H_SUCCESS, H_PUT_TCE_INDIRECT, VFIO_LIOBN, V_IOBA(8),
	       LIST_GPA, 8);
	for (i = 0; i < 8; i++)
		if (agree(vt, V_IOBA(8 + i) / 4096 - vt->offset, tces[i]))
			return FAIL;
	if (dma_lands(V_IOBA(8), vm.ram + V_GPA(8), V_IOBA(13),
		      vm.ram + V_GPA(13), 0x4444))
		return FAIL;
	EXPECT(vpath(), H_SUCCESS, H_STUFF_TCE, VFIO_LIOBN, V_IOBA(8), 0, 8);
	return dma_blocked(8, 8);
}

/*
 * Guest RAM that is not preregistered: stock cannot map it in the kernel
 * (no mm_iommu region), so it comes to us; v2 refuses to map it, we
 * answer H_PARAMETER, and nothing is mapped: the table entry stays 0 in
 * both views and the device cannot write through the IOVA.
 */
static int t_vfio_unregistered(uint32_t shift)
{
	uint64_t i = V_IOBA(20) / 4096 - vt->offset;

	(void)shift;
	if (map2(19))
		return FAIL;
	EXPECT(USER, H_PARAMETER, H_PUT_TCE, VFIO_LIOBN, V_IOBA(20),
	       V_GPA_HIGH | TCE_RW, 0);
	if (agree(vt, i, 0))
		return FAIL;
	/* the device works through the good mappings, not through 20 */
	if (dma_lands(V_IOBA(0), vm.ram + V_GPA(0), V_IOBA(19),
		      vm.ram + V_GPA(19), 0x5555))
		return FAIL;
	return dma_blocked_at(V_IOBA(20), vm.ram + V_GPA_HIGH);
}

/* unknown LIOBN with a VFIO group in the VM: userspace, nothing mapped */
static int t_vfio_unknown_liobn(uint32_t shift)
{
	(void)shift;
	EXPECT(USER, H_PARAMETER, H_PUT_TCE, VFIO_LIOBN + 1, V_IOBA(21),
	       V_TCE(5), 0);
	if (agree(vt, V_IOBA(21) / 4096 - vt->offset, 0))
		return FAIL;
	return dma_blocked_at(V_IOBA(21), vm.ram + V_GPA(5));
}

/*
 * An H_PUT_TCE_INDIRECT list holding an entry without permission bits
 * whose address is not guest RAM (a poison value), on a VFIO-linked
 * table. The stock handler answers H_PARAMETER in the kernel only when
 * it reaches that entry in its second pass. With the in-tree container
 * it does (mm_iommu holds the guest RAM). With ours it gives up before:
 * its first pass at any entry with permission bits (no mm_iommu region),
 * its second at the first entry in RAM (it maps even a clear through
 * mm_iommu); the VMM then answers as QEMU does: the poison is stored,
 * H_SUCCESS. kvm_tce on our container must give that answer (in the
 * kernel), and H_PARAMETER when the first entry is the poison and no
 * entry has permission bits, as the stock handler does.
 */
/* H_PUT_TCE_INDIRECT of @tces at slot 40; @want, then the two entries */
static int vfio_noperm_list(const uint64_t *tces, int path, long want,
			    uint64_t e0, uint64_t e1)
{
	uint64_t first = V_IOBA(40) / 4096 - vt->offset;

	write_list(LIST_GPA, tces, 2);
	diag("list %#llx %#llx: want %s, then entries %#llx %#llx",
	     (unsigned long long)tces[0], (unsigned long long)tces[1],
	     hname(want), (unsigned long long)e0, (unsigned long long)e1);
	EXPECT(path, want, H_PUT_TCE_INDIRECT, VFIO_LIOBN, V_IOBA(40), LIST_GPA, 2);
	if (agree(vt, first, e0) || agree(vt, first + 1, e1))
		return FAIL;
	return PASS;
}

static int t_vfio_indirect_noperm_outside(uint32_t shift)
{
	static const uint64_t poison = GUEST_RAM << 4;
	static const uint64_t good_poison[2] = { V_TCE(7), GUEST_RAM << 4 };
	static const uint64_t zero_poison[2] = { 0, GUEST_RAM << 4 };
	static const uint64_t poison_zero[2] = { GUEST_RAM << 4, 0 };
	long want = opt_intree ? H_PARAMETER : H_SUCCESS;

	(void)shift;
	/* in-tree: stock wrote the entry before the poison */
	if (vfio_noperm_list(good_poison, vpath(), want, V_TCE(7),
			     opt_intree ? 0 : poison))
		return FAIL;
	EXPECT(vpath(), H_SUCCESS, H_STUFF_TCE, VFIO_LIOBN, V_IOBA(40), 0, 2);
	/*
	 * Not on the in-tree container: stock's second pass maps a clear
	 * through mm_iommu_mapped_inc() and never gives that count back (a
	 * stock bug, kvm_tce-tests.rst): the region could not be freed.
	 */
	if (!opt_intree) {
		if (vfio_noperm_list(zero_poison, vpath(), H_SUCCESS, 0, poison))
			return FAIL;
		/* a clear of no live TCE: in the kernel everywhere */
		EXPECT(KERNEL, H_SUCCESS, H_STUFF_TCE, VFIO_LIOBN, V_IOBA(40), 0, 2);
	}
	/* the poison first, nothing with permission: H_PARAMETER, nothing written */
	if (vfio_noperm_list(poison_zero, KERNEL, H_PARAMETER, 0, 0))
		return FAIL;
	return dma_blocked_at(V_IOBA(40), vm.ram + V_GPA(7));
}

/*
 * H_STUFF_TCE and H_PUT_TCE_INDIRECT of 0 TCEs at the window's first
 * entry: nothing to do, H_SUCCESS in the kernel. POWER8's PHB3
 * invalidates TCE by TCE up to index + npages - 1: asked to invalidate 0
 * TCEs at index 0 it runs to the top of the address space (2^52 MMIO
 * writes, preemption off). kvm_tce flushed such a STUFF, and the guest
 * held the host CPU for good (soft lockup, kvm_tce-tests.rst).
 */
static int t_vfio_zero_tces_at_window_start(uint32_t shift)
{
	uint64_t ioba = vt->offset * 4096;

	(void)shift;
	diag("the window's first entry: IOBA %#llx", (unsigned long long)ioba);
	EXPECT(KERNEL, H_SUCCESS, H_STUFF_TCE, VFIO_LIOBN, ioba, 0, 0);
	EXPECT(KERNEL, H_SUCCESS, H_PUT_TCE_INDIRECT, VFIO_LIOBN, ioba, LIST_GPA, 0);
	/* the device still works through the guest's TCEs */
	if (map2(2))
		return FAIL;
	return dma_lands(V_IOBA(0), vm.ram + V_GPA(0), V_IOBA(2),
			 vm.ram + V_GPA(2), 0x6666);
}

/*
 * A region is unpinned only once no TCE the PHB may cache points into it.
 * The guest maps one TCE into a region of its own (one host page of the
 * RAM that is not preregistered otherwise), then clears it as the first
 * entry of an H_PUT_TCE_INDIRECT of 512: the 511 others, into the
 * preregistered RAM, keep the call, and its one invalidation at the end,
 * long. Meanwhile a VMM thread tries UNREGISTER of that region in a loop
 * and registers it again whenever that works. Under the function tracer
 * (both threads, the CPUs' events merged by time), no unpin may fall
 * between a TCE's exchange and the next invalidation.
 */
#define UNREG_GPA	(HIGH_GPA + 0x400000)	/* a host page of its own */
#define UNREG_SLOT	100
#define UNREG_ROUNDS	100
#define UNREG_WAIT_MS	120000	/* for the thread to register it again */

struct unreg_race {
	struct vfio_iommu_spapr_register_memory reg;
	volatile int go, stop, tid;
	long tries, dropped;
	int err;
};

static void *unreg_thread(void *arg)
{
	struct unreg_race *u = arg;
	long r;

	u->tid = (int)syscall(SYS_gettid);
	while (!u->go && !u->stop)	/* until the tracer is on */
		usleep(1000);
	while (!u->stop) {
		u->tries++;
		r = xioctl(vm.v.container, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,
			   &u->reg);
		if (r == -EBUSY)
			continue;
		if (!r) {
			u->dropped++;
			r = xioctl(vm.v.container,
				   VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &u->reg);
		}
		if (r) {
			u->err = (int)-r;
			break;
		}
	}
	return NULL;
}

/* The rounds, with the tracer on and the thread running. */
static int unreg_rounds(const struct unreg_race *u, long *user_puts)
{
	uint64_t ioba = V_IOBA(UNREG_SLOT), tces[512];
	long deadline;
	struct hres h;
	int round, i;

	tces[0] = 0;
	for (i = 1; i < 512; i++)
		tces[i] = V_TCE(0) + i * 0x1000ull;
	write_list(LIST_GPA, tces, 512);
	for (round = 0; round < UNREG_ROUNDS && !u->err; round++) {
		/*
		 * While the thread has the region unregistered, the kernel
		 * hands the map to us, whose MAP_DMA then fails: again, for
		 * as long as the thread takes to register it again. That is
		 * a time, not a number of tries: a failed try is much faster
		 * than a REGISTER under the tracer, and 10,000 of them once
		 * ran out (powernv9, two CPUs, 7.x).
		 */
		deadline = now_ms() + UNREG_WAIT_MS;
		do {
			if (hcall(&vm, &h, H_PUT_TCE, VFIO_LIOBN, ioba,
				  UNREG_GPA | TCE_RW, 0))
				return FAIL;
			cw_count(H_PUT_TCE, &h);
			*user_puts += h.user;
		} while (h.ret != H_SUCCESS && !u->err && now_ms() < deadline);
		CHECK(h.ret == H_SUCCESS,
		      "round %d: H_PUT_TCE into the region: %s after %d s (thread error %d)",
		      round, hname(h.ret), UNREG_WAIT_MS / 1000, u->err);
		if (hcall(&vm, &h, H_PUT_TCE_INDIRECT, VFIO_LIOBN, ioba,
			  LIST_GPA, 512))
			return FAIL;
		cw_count(H_PUT_TCE_INDIRECT, &h);
		CHECK(h.ret == H_SUCCESS && !h.user,
		      "round %d: H_PUT_TCE_INDIRECT clearing it: %s%s", round,
		      hname(h.ret), h.user ? " in userspace" : "");
	}
	return PASS;
}

static int t_vfio_unregister_unpins_after_invalidation(uint32_t shift)
{
	struct unreg_race u = {
		.reg = { .argsz = sizeof(u.reg),
			 .vaddr = (uintptr_t)(vm.ram + UNREG_GPA),
			 .size = (uint64_t)host_pgsz },
	};
	struct tce_order o = { 0 };
	long user_puts = 0, kb;
	char pids[32], kbs[24];
	pthread_t th;
	int rc, i;
	long r;

	(void)shift;
	if (!opt_ours || opt_vfio_v1 || opt_vfio_user) {
		say("SKIP needs our v2 container with kvm_tce serving the hcalls");
		return SKIP;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		say("SKIP needs 2 CPUs: the UNREGISTER must run during the hcall");
		return SKIP;
	}
	if (access(TRACEFS "set_ftrace_filter", W_OK)) {
		say("SKIP no function tracer (%s)", strerror(errno));
		return SKIP;
	}
	r = xioctl(vm.v.container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &u.reg);
	CHECK(!r, "REGISTER of the race's page: %s", strerror(-r));
	rc = pthread_create(&th, NULL, unreg_thread, &u);
	CHECK(!rc, "pthread_create: %s", strerror(rc));
	for (i = 0; i < 1000 && !u.tid; i++)
		usleep(1000);
	snprintf(pids, sizeof(pids), "%d %d", getpid(), u.tid);
	kb = tracefs_kb();
	snprintf(kbs, sizeof(kbs), "%ld", kb);
	tracer_off();
	rc = tracefs_write("buffer_size_kb", "16384") || tce_order_start(pids) ?
	     FAIL : PASS;
	u.go = 1;
	if (rc == PASS)
		rc = unreg_rounds(&u, &user_puts);
	else
		say("function tracer setup: %s", strerror(errno));
	u.stop = 1;
	pthread_join(th, NULL);
	tracefs_write("tracing_on", "0");
	if (rc == PASS && tce_order_read(&o)) {
		say("trace: %s", strerror(errno));
		rc = FAIL;
	}
	tracer_off();
	if (kb > 0)
		tracefs_write("buffer_size_kb", kbs);
	/* the round's TCEs cleared, then the page unregistered */
	EXPECT(vpath(), H_SUCCESS, H_STUFF_TCE, VFIO_LIOBN, V_IOBA(UNREG_SLOT), 0, 512);
	r = xioctl(vm.v.container, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &u.reg);
	if (rc != PASS)
		return rc;
	CHECK(!r, "UNREGISTER of the race's page at the end: %s", strerror(-r));
	CHECK(!u.err, "the thread's UNREGISTER or REGISTER: %s", strerror(u.err));
	diag("%d rounds: %ld UNREGISTER tries, %ld dropped the region, %ld maps in userspace",
	     UNREG_ROUNDS, u.tries, u.dropped, user_puts);
	diag("traced: %ld exchanges, %ld invalidations, %ld unpins, %ld of them early",
	     o.xchg, o.kills, o.unpins, o.early);
	CHECK(!o.lost, "the trace buffer dropped events");
	CHECK(!o.early, "%ld of %ld unpins came while a cleared TCE awaited its invalidation",
	      o.early, o.unpins);
	/* each drop unpins the region's one page: all of them traced */
	CHECK(u.dropped > 0 && o.unpins >= u.dropped,
	      "the region was dropped %ld times, %ld unpins traced: want some, at least as many",
	      u.dropped, o.unpins);
	return PASS;
}

/*
 * Preregistered memory under a live guest TCE cannot be unregistered
 * (EBUSY); once the guest cleared the TCE it can. Runs last: the guest
 * RAM is not registered afterwards.
 */
static int t_vfio_unregister_busy(uint32_t shift)
{
	struct vfio_iommu_spapr_register_memory reg = {
		.argsz = sizeof(reg), .vaddr = (uintptr_t)vm.ram,
		.size = vm.v.reg_size,
	};
	long r;

	(void)shift;
	if (opt_intree) {
		/* not called: it would leak the region for good */
		say("SKIP %s (%s)",
		    "in-tree UNREGISTER of a region under a live TCE returns 0 and leaks it",
		    "mm_iommu_get() ref in tce_iommu_unregister_pages() hides mm_iommu_put()'s EBUSY");
		return SKIP;
	}
	/* clear what earlier cases left (slot 0 is live), then one TCE */
	EXPECT(vpath(), H_SUCCESS, H_STUFF_TCE, VFIO_LIOBN, V_IOBA(0), 0, 64);
	EXPECT(vpath(), H_SUCCESS, H_PUT_TCE, VFIO_LIOBN, V_IOBA(30), V_TCE(6), 0);
	r = xioctl(vm.v.container, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &reg);
	CHECK(r == -EBUSY, "UNREGISTER under a live guest TCE: %s, want EBUSY",
	      r ? strerror(-r) : "0");
	EXPECT(vpath(), H_SUCCESS, H_PUT_TCE, VFIO_LIOBN, V_IOBA(30), 0, 0);
	r = xioctl(vm.v.container, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &reg);
	CHECK(r == 0, "UNREGISTER after the guest cleared its TCE: %s",
	      strerror(-r));
	vm.v.reg_size = 0;
	return PASS;
}

/*
 * A v1 container's window linked to the guest: the guest maps a page
 * (stock answers in userspace: v1 memory is not preregistered, so the VMM
 * maps it with MAP_DMA, pinning it) and clears it again with
 * H_PUT_TCE(ioba, 0). The stock handler clears the hardware TCE itself
 * before it gives up (kvmppc_clear_tce()); whatever path the clear takes,
 * once the container is gone the page must not stay pinned.
 */
static int t_vfio_v1_clear_close(uint32_t shift)
{
	long pins0, pins1;
	struct hres h;
	int i;

	(void)shift;
	if (!opt_vfio_v1) {
		say("SKIP needs a v1 container (--vfio-v1)");
		return SKIP;
	}
	pins0 = pins_outstanding();
	CHECK(pins0 >= 0, "no FOLL_PIN counters");
	if (hcall(&vm, &h, H_PUT_TCE, VFIO_LIOBN, V_IOBA(1), V_TCE(1), 0))
		return FAIL;
	pins1 = pins_outstanding();
	diag("guest H_PUT_TCE(%#llx, GPA %#llx): %s %s, %ld more pages pinned",
	     (unsigned long long)V_IOBA(1), (unsigned long long)V_GPA(1),
	     hname(h.ret), h.user ? "in userspace" : "in the kernel",
	     pins1 - pins0);
	CHECK(h.ret == H_SUCCESS && pins1 == pins0 + 1,
	      "guest map: %s, %ld pages pinned, want 1", hname(h.ret),
	      pins1 - pins0);
	if (hcall(&vm, &h, H_PUT_TCE, VFIO_LIOBN, V_IOBA(1), 0, 0))
		return FAIL;
	diag("guest H_PUT_TCE(%#llx, 0): %s %s, %ld pages still pinned",
	     (unsigned long long)V_IOBA(1), hname(h.ret),
	     h.user ? "in userspace" : "in the kernel",
	     pins_outstanding() - pins0);
	CHECK(h.ret == H_SUCCESS, "guest clear: %s", hname(h.ret));
	vk_close(&vm.v);
	vm.have_vfio = false;
	for (i = 0; i < 100 && pins_outstanding() != pins0; i++)
		usleep(50000);
	CHECK(pins_outstanding() == pins0,
	      "%ld pages still pinned after the guest cleared its TCE and the container went",
	      pins_outstanding() - pins0);
	return PASS;
}

/* ------------------------------------------------------------------ */

struct tcase {
	const char *name;	/* %s: the TCE page size */
	int (*fn)(uint32_t shift);
	bool per_shift, vfio;
};

static const struct tcase cases[] = {
	{ "put_tce_then_get_tce_and_mmap_show_it_%s", t_put_get, true, false },
	{ "put_tce_indirect_1_entry_mmap_and_get_agree_%s", t_indirect_1, true, false },
	{ "put_tce_indirect_512_entries_mmap_and_get_agree_%s", t_indirect_512, true, false },
	{ "stuff_tce_clear_range_%s", t_stuff_clear, true, false },
	{ "stuff_tce_value_without_permission_range_%s", t_stuff_value, true, false },
	{ "unknown_liobn_all_four_go_to_userspace_%s", t_unknown_liobn, true, false },
	{ "ioba_misaligned_below_offset_past_end_h_parameter_%s", t_ioba_bad, true, false },
	{ "put_tce_gpa_outside_ram_goes_to_userspace_%s", t_tce_outside_ram, true, false },
	{ "put_tce_gpa_not_tce_page_aligned_goes_to_userspace_%s", t_tce_misaligned, true, false },
	{ "indirect_513_or_list_misaligned_or_ioba_bad_h_parameter_%s", t_indirect_bad,
	  true, false },
	{ "indirect_list_outside_ram_goes_to_userspace_%s", t_indirect_list_outside, true, false },
	{ "indirect_bad_entry_k_views_agree_on_every_entry_%s", t_indirect_partial, true, false },
	{ "indirect_entry_without_permission_outside_ram_h_parameter_%s",
	  t_indirect_noperm_outside, true, false },
	{ "indirect_list_page_unmapped_and_refaulted_by_vmm_thread_%s",
	  t_indirect_list_unmapped_race, false, false },
	{ "stuff_tce_permission_bits_or_ioba_bad_h_parameter_%s", t_stuff_bad, true, false },
	{ "range_off_the_end_indirect_stuff_h_parameter_nothing_written_%s", t_past_end,
	  true, false },
	{ "hcalls_answered_in_kernel_20000_times_on_one_vcpu_thread_%s",
	  t_many_answered, false, false },
	{ "null_hcall_h_prod_bad_target_in_kernel", t_null_hcall, false, false },
	{ "vfio_put_tce_device_dma_reaches_guest_ram", t_vfio_put_dma, false, true },
	{ "vfio_put_tce_zero_blocks_dma", t_vfio_put_zero_blocks, false, true },
	{ "vfio_stuff_tce_blocks_dma", t_vfio_stuff_blocks, false, true },
	{ "vfio_indirect_8_device_dma_then_stuff_blocks", t_vfio_indirect_dma, false, true },
	{ "vfio_unregistered_ram_userspace_no_mapping_left", t_vfio_unregistered, false, true },
	{ "vfio_unknown_liobn_userspace_no_mapping_left", t_vfio_unknown_liobn, false, true },
	{ "vfio_indirect_noperm_outside_ram_answered_as_stock_on_this_container",
	  t_vfio_indirect_noperm_outside, false, true },
	{ "vfio_stuff_indirect_zero_tces_at_the_window_start_return",
	  t_vfio_zero_tces_at_window_start, false, true },
	{ "vfio_unregister_unpins_only_after_the_guest_hcall_invalidates",
	  t_vfio_unregister_unpins_after_invalidation, false, true },
	{ "vfio_unregister_busy_while_guest_tce_maps_it", t_vfio_unregister_busy, false, true },
	{ "vfio_v1_guest_clear_then_close_leaves_nothing_pinned", t_vfio_v1_clear_close,
	  false, true },
};

#define NCASES ARRAY_SIZE(cases)

static const uint32_t shifts[] = { 12, 16, 24 };
static const char *const shift_names[] = { "4k", "64k", "16m" };

struct inst {
	char name[128];		/* with the prefix */
	const char *bare;	/* without: what --case matches */
	const struct tcase *c;
	uint32_t shift;
};

static struct inst insts[NCASES * 3];
static int ninst;

static void make_instances(bool with_vfio)
{
	unsigned int i, s, ns;
	struct inst *n;

	for (i = 0; i < NCASES; i++) {
		if (cases[i].vfio && !with_vfio)
			continue;
		ns = 1;
		if (cases[i].per_shift)
			ns = ARRAY_SIZE(shifts);
		for (s = 0; s < ns; s++) {
			n = &insts[ninst++];
			n->c = &cases[i];
			n->shift = shifts[s];
			snprintf(n->name, sizeof(n->name), "%s", opt_prefix);
			n->bare = n->name + strlen(n->name);
			snprintf(n->name + strlen(n->name),
				 sizeof(n->name) - strlen(n->name),
				 cases[i].name, shift_names[s]);
		}
	}
}

/*
 * The child's report to the parent, through @fd: its VmLck at the start
 * and after closing the VM, and how many cases it reported passed,
 * failed and skipped (its result lines come before the parent's).
 */
static void child_report(int fd, long kb0, long kb1)
{
	dprintf(fd, "%ld %ld %d %d %d", kb0, kb1, ksft_get_pass_cnt(),
		ksft_get_fail_cnt(), ksft_get_xskip_cnt());
}

/* the run of the cases, in the child: TAP on stdout, the report to @fd */
static int run_cases(regex_t *re, int fd)
{
	long kb0 = vmlck_kb(), kb1;
	char name[192];
	struct csnap c0;
	int i, rc, nt;
	const char *r;

	if (vm_create(&vm)) {
		for (i = 0; i < ninst; i++) {
			if (re && regexec(re, insts[i].bare, 0, NULL, 0))
				continue;
			ksft_test_result_code(KSFT_FAIL, insts[i].name, NULL);
			ksft_print_msg("VM: %s\n", why);
		}
		child_report(fd, kb0, kb0);
		return 1;
	}
	if (opt_vfio_dev) {
		vt = vfio_open(&vm.v) ? NULL : vfio_link(&vm);
		if (!vt) {
			diag("VFIO setup failed: %s", why);
			vm.have_vfio = false;
		} else {
			vm.have_vfio = true;
			diag("VFIO: group %d, window %#llx + %llu MiB, 4K pages, table LIOBN %#x",
			     opt_vfio_group, (unsigned long long)vm.v.win_start,
			     (unsigned long long)vm.v.win_size >> 20, VFIO_LIOBN);
		}
	}
	if (opt_ours && vm_stats_wait()) {
		diag("no per-VM kvm_tce stats for pid %d under %s", (int)getpid(),
		     getenv("KVM_TCE_VMS"));
		opt_ours = false;
		/* a line beyond the plan: the caller counts at least the plan */
		snprintf(name, sizeof(name), "%skvm_tce_per_vm_stats_exist", opt_prefix);
		ksft_test_result_code(KSFT_FAIL, name, NULL);
	}
	for (i = 0; i < ninst; i++) {
		if (re && regexec(re, insts[i].bare, 0, NULL, 0))
			continue;
		why[0] = 0;
		if (insts[i].c->vfio && !vm.have_vfio) {
			ksft_test_result_code(KSFT_FAIL, insts[i].name, NULL);
			ksft_print_msg("VFIO setup failed\n");
			continue;
		}
		memset(cw, 0, sizeof(cw));
		counters_read(&c0);
		nt = vm.nt;
		rc = insts[i].c->fn(insts[i].shift);
		tbl_close_from(&vm, nt);
		if (rc == PASS)
			rc = counters_moved(&c0, cw);
		r = !strncmp(why, "SKIP ", 5) ? why + 5 : why;
		if (rc == PASS) {
			ksft_test_result_code(KSFT_PASS, insts[i].name, NULL);
		} else if (rc == SKIP) {
			ksft_test_result_code(KSFT_SKIP, insts[i].name, "%s", r);
		} else {
			ksft_test_result_code(KSFT_FAIL, insts[i].name, NULL);
			ksft_print_msg("%s\n", why);
		}
		fflush(stdout);
	}
	diag("userspace exits: put %lu indirect %lu stuff %lu get %lu",
	     vm.uexit[0], vm.uexit[1], vm.uexit[2], vm.uexit[3]);
	tbl_close_from(&vm, 0);
	vk_close(&vm.v);
	munmap(vm.run, vm.run_size);
	close(vm.vcpu);
	close(vm.fd);
	close(vm.kvm);
	munmap(vm.ram, GUEST_RAM);
	kb1 = vmlck_kb();
	child_report(fd, kb0, kb1);
	return ksft_get_fail_cnt() ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* loops: the load/unload test and the benchmark */

static void on_usr1(int sig)
{
	(void)sig;
	stop_loop = 1;
	if (vm.ram)
		*(volatile uint64_t *)(vm.ram + FLAG_GPA) = 1;
}

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

/* KVM_RUN the loop at @entry with r16..r22 = @r[0..6]; r23/r24 back */
static int run_loop(uint64_t entry, const uint64_t *r, uint64_t *done,
		    uint64_t *bad, uint64_t *last)
{
	struct kvm_regs regs;
	int i;

	if (ioctl(vm.vcpu, KVM_GET_REGS, &regs))
		return -1;
	regs.pc = entry;
	regs.msr = MSR_SF | MSR_ME | MSR_LE;
	for (i = 0; i < 7; i++)
		regs.gpr[16 + i] = r[i];
	regs.gpr[26] = FLAG_GPA;
	set_pending(&vm, &regs);
	if (ioctl(vm.vcpu, KVM_SET_REGS, &regs))
		return -1;
	if (run_guest(&vm, NULL))
		return -1;
	if (ioctl(vm.vcpu, KVM_GET_REGS, &regs))
		return -1;
	*done = regs.gpr[23];
	*bad = regs.gpr[24];
	*last = regs.gpr[25];
	return 0;
}

/*
 * --loop putget: H_PUT_TCE/H_GET_TCE pairs on an in-kernel table that
 * check their own readback, until SIGUSR1 (or --count pairs). Prints
 * "LOOP ready" once running and "LOOP pairs=N bad=M" at the end.
 */
static int loop_putget(long count)
{
	uint64_t r[7] = { 0 }, done, bad, last;
	struct tbl *t;

	signal(SIGUSR1, on_usr1);
	if (vm_create(&vm)) {
		printf("LOOP error %s\n", why);
		return 1;
	}
	t = tbl_kernel(&vm, 0x2000, 12, TOFF, TSIZE);
	if (!t) {
		printf("LOOP error %s\n", why);
		return 1;
	}
	r[0] = count;
	r[1] = t->liobn;
	r[2] = ioba_of(t, 17);
	r[3] = DATA_GPA | TCE_RW;
	printf("LOOP ready\n");
	fflush(stdout);
	if (run_loop(ENTRY(kt_putget), r, &done, &bad, &last)) {
		printf("LOOP error %s\n", why);
		return 1;
	}
	printf("LOOP pairs=%llu bad=%llu userspace_puts=%lu userspace_gets=%lu\n",
	       (unsigned long long)done, (unsigned long long)bad, vm.uexit[0],
	       vm.uexit[3]);
	tbl_close_from(&vm, 0);
	close(vm.vcpu);
	close(vm.fd);
	return bad || !done ? 1 : 0;
}

/*
 * --bench OP:N[,OP:N...] --table user|kernel|vfio [--label L]: in one VM,
 * for each OP, N calls in the guest's loop. Prints "HCALL-MARK begin
 * L/OP" and "HCALL-MARK end L/OP ..." around each loop (the host
 * timestamps the lines: the L1 clock is not to be trusted under KVM)
 * with the instructions this process executed meanwhile, user and
 * kernel: the host side of every hcall, its exit and entry included;
 * the guest's own instructions are not counted (KVM-HV switches the
 * PMU to the guest's on entry).
 */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Instructions per call, from IREPS short loops of ICALLS calls: the
 * count of one long loop also holds whatever the host did in this
 * task's context meanwhile (timer ticks, their softirqs, extra guest
 * exits), which is as much as a cheap hcall costs and grows with the
 * emulated time. A short loop mostly misses them: the minimum is the
 * cost of the hcall itself, the median shows how often they hit.
 */
#define IREPS	31
#define ICALLS	16

static int instr_min(uint64_t *r, int pfd, uint64_t *imin, uint64_t *imed)
{
	uint64_t v[IREPS], done, bad, last, n;
	int k;

	r[0] = ICALLS;
	for (k = 0; k < IREPS; k++) {
		ioctl(pfd, PERF_EVENT_IOC_RESET, 0);
		ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
		if (run_loop(ENTRY(kt_loop), r, &done, &bad, &last))
			return -1;
		ioctl(pfd, PERF_EVENT_IOC_DISABLE, 0);
		if (read(pfd, &n, sizeof(n)) != sizeof(n))
			n = 0;
		v[k] = n / ICALLS;
	}
	qsort(v, IREPS, sizeof(v[0]), cmp_u64);
	*imin = v[0];
	*imed = v[IREPS / 2];
	return 0;
}

static int bench_one(struct tbl *t, const char *op, long count,
		     const char *label, int pfd)
{
	uint64_t r[7] = { 0 }, done, bad, last, instr = 0, n0 = 0, n1 = 0;
	uint64_t imin = 0, imed = 0;
	int i;

	r[2] = t->liobn;
	r[3] = ioba_of(t, 0);
	r[6] = H_SUCCESS;
	if (!strcmp(op, "put")) {
		r[1] = H_PUT_TCE;
		r[4] = (DATA_GPA + 4096) | TCE_RW;
	} else if (!strcmp(op, "indirect")) {
		r[1] = H_PUT_TCE_INDIRECT;
		r[4] = LIST_GPA;
		r[5] = 512;
	} else if (!strcmp(op, "stuff")) {
		/* 512 entries of a value without permissions */
		r[1] = H_STUFF_TCE;
		r[4] = 0x1234ull << 24;
		r[5] = 512;
	} else if (!strcmp(op, "get")) {
		r[1] = H_GET_TCE;
	} else if (!strcmp(op, "null")) {
		r[1] = H_PROD;
		r[2] = 0x7777;	/* no such vCPU: H_PARAMETER */
		r[6] = (uint64_t)H_PARAMETER;
	} else {
		printf("HCALL-MARK error %s/%s unknown op\n", label, op);
		return 1;
	}
	/* warm up: one call outside the measurement */
	r[0] = 1;
	if (run_loop(ENTRY(kt_loop), r, &done, &bad, &last))
		goto err;
	if (pfd >= 0 && instr_min(r, pfd, &imin, &imed))
		goto err;
	r[0] = count;
	for (i = 0; i < 4; i++)
		n0 += vm.uexit[i];
	printf("HCALL-MARK begin %s/%s\n", label, op);
	fflush(stdout);
	if (pfd >= 0) {
		ioctl(pfd, PERF_EVENT_IOC_RESET, 0);
		ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
	}
	if (run_loop(ENTRY(kt_loop), r, &done, &bad, &last))
		goto err;
	if (pfd >= 0) {
		ioctl(pfd, PERF_EVENT_IOC_DISABLE, 0);
		if (read(pfd, &instr, sizeof(instr)) != sizeof(instr))
			instr = 0;
	}
	for (i = 0; i < 4; i++)
		n1 += vm.uexit[i];
	printf("HCALL-MARK end %s/%s calls=%llu bad=%llu last=%lld userspace=%llu",
	       label, op, (unsigned long long)done, (unsigned long long)bad,
	       (long long)last, (unsigned long long)(n1 - n0));
	printf(" instructions=%llu instr_per_call=%llu instr_min=%llu instr_median=%llu\n",
	       (unsigned long long)instr,
	       (unsigned long long)(done ? instr / done : 0),
	       (unsigned long long)imin, (unsigned long long)imed);
	fflush(stdout);
	return bad ? 1 : 0;
err:
	printf("HCALL-MARK error %s/%s %s\n", label, op, why);
	return 1;
}

static int bench(const char *ops, const char *table, const char *label)
{
	char *list = strdup(ops), *item, *save = NULL, *c;
	uint64_t tces[512];
	struct tbl *t = NULL;
	int pfd, i, rc = 0;

	if (vm_create(&vm)) {
		printf("HCALL-MARK error %s %s\n", label, why);
		return 1;
	}
	if (!strcmp(table, "user")) {
		t = tbl_user(&vm, 0x3000, 12, 0, TSIZE);
	} else if (!strcmp(table, "kernel")) {
		t = tbl_kernel(&vm, 0x3000, 12, 0, TSIZE);
	} else if (!strcmp(table, "vfio")) {
		if (!vfio_open(&vm.v))
			t = vfio_link(&vm);
	}
	if (!t) {
		printf("HCALL-MARK error %s %s\n", label, why);
		return 1;
	}
	for (i = 0; i < 512; i++)
		tces[i] = (DATA_GPA + i * 4096) | TCE_RW;
	write_list(LIST_GPA, tces, 512);
	pfd = perf_open();
	if (pfd < 0)
		printf("HCALL-MARK perf %s: %s\n", label, strerror(errno));
	for (item = strtok_r(list, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		c = strchr(item, ':');
		if (c)
			*c++ = 0;
		rc |= bench_one(t, item, c ? atol(c) : 10000, label, pfd);
	}
	free(list);
	tbl_close_from(&vm, 0);
	vk_close(&vm.v);
	return rc;
}

/* ------------------------------------------------------------------ */

static void print_help(void)
{
	fprintf(stderr,
		"Usage: kvm_tce_vmm [--list] [--case REGEX] [--vfio-group N --vfio-dev ADDR\n"
		"                   --vfio-path kernel|user [--intree] [--vfio-v1]] [--ours]\n"
		"       kvm_tce_vmm --caps\n"
		"       kvm_tce_vmm --loop putget [--count N]\n"
		"       kvm_tce_vmm --bench OP:N[,OP:N]... --table user|kernel|vfio [--label L]\n"
		"                   [--vfio-group N --vfio-dev ADDR]   (OP: put indirect stuff get null)\n");
	exit(2);
}

/*
 * vfio_spapr's counters that must come back after the VM is gone
 * (absent when vfio_spapr is not loaded: then -1 == -1)
 */
static const char *const vs_rows[] = { "pinned_pages", "regions", "containers" };
#define VS_STATS "/sys/kernel/debug/vfio_spapr/stats"

/* one of the parent's checks: its result line, named after the --prefix */
static void report(int code, const char *name, const char *reason)
{
	char s[192];

	snprintf(s, sizeof(s), "%s%s", opt_prefix, name);
	if (reason)
		ksft_test_result_code(code, s, "%s", reason);
	else
		ksft_test_result_code(code, s, NULL);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "list", 0, NULL, 'l' }, { "case", 1, NULL, 'c' },
		{ "vfio-group", 1, NULL, 'g' }, { "vfio-dev", 1, NULL, 'd' },
		{ "vfio-path", 1, NULL, 'p' }, { "intree", 0, NULL, 'i' },
		{ "ours", 0, NULL, 'o' }, { "loop", 1, NULL, 'L' },
		{ "count", 1, NULL, 'n' }, { "bench", 1, NULL, 'b' },
		{ "table", 1, NULL, 't' }, { "label", 1, NULL, 'a' },
		{ "prefix", 1, NULL, 'P' }, { "caps", 0, NULL, 'C' },
		{ "vfio-v1", 0, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pat = NULL, *loop = NULL, *bop = NULL, *btable = "kernel";
	const char *label = NULL;
	long count = 0, pins0, pins1, vs0[3], vs1[3], kb0 = -1, kb1 = -1;
	int o, i, n = 0, pfd[2], st, failed, cpass, cfail, cskip;
	bool list = false, caps = false, no_group;
	char msg[96] = "";
	char line[256];
	regex_t re;
	pid_t pid;
	FILE *f;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'l':
			list = true;
			break;
		case 'c':
			pat = optarg;
			break;
		case 'g':
			opt_vfio_group = atoi(optarg);
			break;
		case 'd':
			opt_vfio_dev = optarg;
			break;
		case 'p':
			opt_vfio_user = !strcmp(optarg, "user");
			break;
		case 'i':
			opt_intree = true;
			break;
		case 'o':
			opt_ours = true;
			break;
		case 'L':
			loop = optarg;
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 'b':
			bop = optarg;
			break;
		case 't':
			btable = optarg;
			break;
		case 'a':
			label = optarg;
			break;
		case 'P':
			opt_prefix = optarg;
			break;
		case 'C':
			caps = true;
			break;
		case '1':
			opt_vfio_v1 = true;
			break;
		default:
			print_help();
		}
	}
	no_group = opt_vfio_group < 0;
	if (!opt_vfio_dev != no_group)
		print_help();
	if (pat && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB))
		print_help();
	host_pgsz = sysconf(_SC_PAGESIZE);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "PowerNV"))
			powernv = true;
		if (!strncmp(line, "cpu", 3) && strstr(line, "POWER8"))
			power8 = true;
	}
	if (f)
		fclose(f);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (caps) {
		/* what the tests need to know before they plan */
		int kfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

		if (kfd < 0) {
			printf("kvm=no (%s)\n", strerror(errno));
			return 1;
		}
		printf("kvm=yes spapr_tce_vfio=%d ppc_papr=%d enable_hcall=%d\n",
		       ioctl(kfd, KVM_CHECK_EXTENSION, KVM_CAP_SPAPR_TCE_VFIO),
		       ioctl(kfd, KVM_CHECK_EXTENSION, KVM_CAP_PPC_PAPR),
		       ioctl(kfd, KVM_CHECK_EXTENSION, KVM_CAP_PPC_ENABLE_HCALL));
		return 0;
	}
	if (loop) {
		if (strcmp(loop, "putget"))
			print_help();
		return loop_putget(count > 0 ? count : 1L << 40);
	}
	if (bop)
		return bench(bop, btable, label ? label : btable);

	make_instances(opt_vfio_dev);
	for (i = 0; i < ninst; i++)
		if (!pat || !regexec(&re, insts[i].bare, 0, NULL, 0)) {
			n++;
			if (list)
				printf("%s\n", insts[i].name);
		}
	if (list)
		return 0;
	if (opt_ours && counters_init()) {
		fprintf(stderr, "kvm_tce_vmm: --ours needs KVM_TCE_COUNTERS\n");
		return 2;
	}
	/* the cases, then 3 checks from the parent */
	ksft_print_header();
	ksft_set_plan(n + 3);
	diag("%s, %ld-byte pages%s", powernv ? "powernv" : "pseries", host_pgsz,
	     opt_ours ? ", kvm_tce counters checked" : "");
	pins0 = pins_outstanding();
	for (i = 0; i < 3; i++)
		vs0[i] = stat_value(VS_STATS, vs_rows[i]);
	if (pipe(pfd))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		_exit(run_cases(pat ? &re : NULL, pfd[1]));
	}
	close(pfd[1]);
	o = read(pfd[0], msg, sizeof(msg) - 1);
	msg[o > 0 ? o : 0] = 0;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	failed = !WIFEXITED(st) || WEXITSTATUS(st);
	if (!WIFEXITED(st))
		diag("the VMM child died (status %#x)", st);
	if (sscanf(msg, "%ld %ld %d %d %d", &kb0, &kb1, &cpass, &cfail, &cskip) != 5) {
		diag("no VmLck report from the child");
		/* its lines are unknown: ours are numbered after its plan */
		cpass = 0;
		cfail = n;
		cskip = 0;
	}
	/* the child's results in our count: numbering and totals go on */
	while (cpass-- > 0)
		ksft_inc_pass_cnt();
	while (cfail-- > 0)
		ksft_inc_fail_cnt();
	while (cskip-- > 0)
		ksft_inc_xskip_cnt();
	/* unpinning may be RCU-deferred: give it up to 5 s */
	for (i = 0; i < 100; i++) {
		pins1 = pins_outstanding();
		if (pins1 == pins0)
			break;
		usleep(50000);
	}
	if (pins0 >= 0 && pins1 == pins0) {
		report(KSFT_PASS, "no_page_left_pinned_after_the_vm_is_gone", NULL);
	} else {
		report(KSFT_FAIL, "no_page_left_pinned_after_the_vm_is_gone", NULL);
		diag("%ld pinned, %ld before", pins1, pins0);
	}
	if (kb0 >= 0 && kb1 == kb0) {
		report(KSFT_PASS, "vmm_vmlck_back_to_start_after_closing_the_vm", NULL);
	} else {
		report(KSFT_FAIL, "vmm_vmlck_back_to_start_after_closing_the_vm", NULL);
		diag("VmLck %ld kB at the start, %ld kB after closing", kb0, kb1);
	}
	for (i = 0; i < 3; i++) {
		vs1[i] = stat_value(VS_STATS, vs_rows[i]);
		if (vs1[i] != vs0[i])
			break;
	}
	if (vs0[0] < 0 && vs1[0] < 0) {
		report(KSFT_SKIP, "vfio_spapr_pinned_and_regions_back_to_start",
		       "vfio_spapr is not loaded");
	} else if (i == 3) {
		report(KSFT_PASS, "vfio_spapr_pinned_and_regions_back_to_start", NULL);
	} else {
		report(KSFT_FAIL, "vfio_spapr_pinned_and_regions_back_to_start", NULL);
		diag("%s %ld, was %ld", vs_rows[i], vs1[i], vs0[i]);
	}
	/* a child that failed, or died, fails the run whatever it counted */
	if (failed)
		ksft_exit_fail();
	/* exits 0 when every planned case passed or skipped, else 1 */
	ksft_finished();
}
