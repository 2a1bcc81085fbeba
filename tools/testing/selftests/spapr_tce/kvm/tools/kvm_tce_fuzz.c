// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_tce_fuzz: a seeded hypercall fuzzer for the PAPR TCE hcalls of a
 * KVM-HV guest (H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE, H_GET_TCE),
 * differential against the stock kvm.ko handlers.
 *
 *   kvm_tce_fuzz [--seed S] [--calls N] [--vcpus V] [--stock-only]
 *   kvm_tce_fuzz --cases           (how many TAP lines a run prints)
 *
 * The guest is a small real-mode loop per vCPU that takes the next hcall
 * from a ring in guest memory (op, r4..r7), issues it with "sc 1" and
 * writes r3/r4 back; the VMM fills the rings and answers the calls the
 * kernel gives up (KVM_EXIT_PAPR_HCALL) the way QEMU does, through the
 * table fd's mmap. r8 carries the ring index, so the VMM knows which call
 * came out to userspace.
 *
 * 1. Differential: two VMs built alike (same tables, same guest memory),
 *    one run with kvm_tce's intercept=N (stock kvm.ko answers), one with
 *    intercept=Y, batch by batch. Each vCPU has tables of its own, so a
 *    batch's answers do not depend on how the vCPUs interleave. Every
 *    answer (r3, r4 of H_GET_TCE, kernel or userspace) and, after each
 *    batch, every table entry through the mmap is compared. A difference
 *    must fall into a known class (classify()), and table entries may
 *    differ only where such a call wrote; the table is then made equal
 *    again (the stock side's entries copied). Until then, H_GET_TCE of
 *    those entries is not compared. Calls that would make the stock handler write past the
 *    guest-visible table's last page (its npages bug) go to kvm_tce only.
 * 2. Chaos: one VM, vCPUs sharing tables, while a VMM thread unmaps and
 *    remaps the guest memory behind the indirect lists (MADV_DONTNEED,
 *    mmap MAP_FIXED) and the table mmaps, and another flips kvm_tce's
 *    intercept parameter. Answers must be H_SUCCESS or H_PARAMETER (and
 *    H_PARAMETER where the arguments alone decide it); afterwards
 *    H_GET_TCE agrees with the mmap on every entry.
 * Both: kvm_tce's per-VM counters against the answers seen, no FOLL_PIN
 * pin left, VmLck back to its start.
 *
 * Every failure line carries the seed; the same --seed replays the
 * differential part exactly (the chaos part depends on timing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "lab_proc.h"
#include "lab_tap.h"
#include "vfio_kvm.h"
#include "kvm_tce_fuzz.h"

#define H_SUCCESS		0
#define H_HARDWARE		(-1)
#define H_PARAMETER		(-4)
#define H_GET_TCE		0x1c
#define H_PUT_TCE		0x20
#define H_STUFF_TCE		0x138
#define H_PUT_TCE_INDIRECT	0x13c
#define TCE_READ		0x1ull
#define TCE_WRITE		0x2ull
#define TCE_RW			(TCE_READ | TCE_WRITE)

#define MAGIC_DONE		0x7f00	/* the loop finished its batch */
#define MAGIC_TRAP		0x7e00	/* + vector / 0x100 */

/* guest physical layout */
#define GUEST_RAM		(40ull << 20)	/* not a multiple of 16M */
#define CODE_GPA		0x10000ull
#define PRTB_GPA		0x20000ull
#define RING_GPA(v)		(0x100000ull + (v) * 0x10000ull)
#define LIST_GPA(v)		(0x400000ull + (v) * 0x100000ull)
#define MAX_VCPU		8
#define BATCH			64	/* calls per vCPU per batch */
#define SENTINEL		0x5a5a5a5a5a5a5a5aull
#define SWEEP_ROUNDS		4	/* of BATCH H_GET_TCE per vCPU */

#define MSR_SF			(1ull << 63)
#define MSR_ME			(1ull << 12)
#define MSR_LE			1ull
#define LPCR_ILE		0x02000000ull
#define PATB_GR			(1ull << 63)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * The guest: r16 = ring GPA, r17 = entries. Each 64-byte entry is
 * op, r4, r5, r6, r7, then r3 and r4 as the hcall left them. Op 0 is
 * skipped. State in r16 and up: "sc 1" clobbers CTR on powernv and an
 * hcall answered by userspace reloads r4-r12.
 */
asm("	.pushsection .rodata\n"
"	.balign 4\n"
"	.globl kf_guest, kf_guest_end\n"
"kf_guest:\n"
"	li 23,0\n"
"1:	cmpd 23,17\n"
"	bge 2f\n"
"	sldi 25,23,6\n"
"	add 25,25,16\n"
"	ld 3,0(25)\n"
"	cmpdi 3,0\n"
"	beq 3f\n"
"	ld 4,8(25)\n"
"	ld 5,16(25)\n"
"	ld 6,24(25)\n"
"	ld 7,32(25)\n"
"	mr 8,23\n"
"	sc 1\n"
"	std 3,40(25)\n"
"	std 4,48(25)\n"
"3:	addi 23,23,1\n"
"	b 1b\n"
"2:	li 3," STR(MAGIC_DONE) "\n"
"	sc 1\n"
"	b 2b\n"
"kf_guest_end:\n"
"	.popsection\n");

/* ------------------------------------------------------------------ */

static uint64_t seed;

/* splitmix64: one stream per purpose, derived from the seed */
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

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

struct ent {			/* a ring entry, as the guest reads it */
	uint64_t op, a[4];
	uint64_t ret, r4, pad;
};

struct tbl {
	uint64_t liobn;
	uint32_t shift;
	uint64_t offset, size;	/* in TCE pages */
	int fd;
	uint64_t *ent;		/* the table fd's mmap */
	size_t len;
	bool vfio;		/* linked to the VM's VFIO container */
};

#define MAX_TBL		32
#define TBL_PER_VCPU	3

struct fvm;

struct vcpu {
	struct fvm *m;
	int id, fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t th;
	sem_t go, done;
	uint32_t n;		/* entries in this batch */
	uint8_t user[BATCH];	/* the call came out to userspace */
	int err;
	char why[256];
};

struct fvm {
	int fd;
	uint8_t *ram;
	struct tbl t[MAX_TBL];
	int nt;
	int nvcpu;
	struct vcpu c[MAX_VCPU];
	pthread_mutex_t lock;	/* userspace answers, as QEMU's big lock */
	bool quit;
	struct vfio_kvm vk;	/* with --vfio: its container, edu, link */
};

static int kvm_fd = -1;
static long host_pgsz;
static int host_shift;
static bool power8;
static const char *param_path;	/* kvm_tce's intercept, or NULL */

/* ------------------------------------------------------------------ */
/* the VM */

static int enable_cap(int fd, uint32_t cap, uint64_t a0, uint64_t a1)
{
	struct kvm_enable_cap c = { .cap = cap, .args = { a0, a1 } };

	return xioctl(fd, KVM_ENABLE_CAP, &c);
}

static int vcpu_create(struct fvm *m, int id)
{
	struct vcpu *c = &m->c[id];
	struct kvm_one_reg reg;
	uint64_t lpcr;
	long r, sz;

	c->m = m;
	c->id = id;
	c->fd = ioctl(m->fd, KVM_CREATE_VCPU, id);
	if (c->fd < 0) {
		say("KVM_CREATE_VCPU %d: %s", id, strerror(errno));
		return -1;
	}
	sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	c->run_size = sz;
	c->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		say("mmap kvm_run: %s", strerror(errno));
		return -1;
	}
	r = enable_cap(c->fd, KVM_CAP_PPC_PAPR, 0, 0);
	if (r) {
		say("KVM_CAP_PPC_PAPR: %s", strerror(-r));
		return -1;
	}
	reg.id = KVM_REG_PPC_LPCR_64;
	reg.addr = (uintptr_t)&lpcr;
	r = xioctl(c->fd, KVM_GET_ONE_REG, &reg);
	if (!r) {
		lpcr |= LPCR_ILE;
		r = xioctl(c->fd, KVM_SET_ONE_REG, &reg);
	}
	if (r) {
		say("LPCR: %s", strerror(-r));
		return -1;
	}
	sem_init(&c->go, 0, 0);
	sem_init(&c->done, 0, 0);
	return 0;
}

static int vm_create(struct fvm *m, int nvcpu)
{
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_ppc_mmuv3_cfg mmu = { 0 };
	uint32_t *w;
	long r;
	int i;

	memset(m, 0, sizeof(*m));
	vk_init(&m->vk);
	pthread_mutex_init(&m->lock, NULL);
	m->fd = ioctl(kvm_fd, KVM_CREATE_VM, 1 /* KVM_VM_PPC_HV */);
	if (m->fd < 0) {
		say("KVM_CREATE_VM(HV): %s", strerror(errno));
		return -1;
	}
	m->ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->ram == MAP_FAILED) {
		say("mmap guest RAM: %s", strerror(errno));
		return -1;
	}
	memset(m->ram, 0, GUEST_RAM);
	mr.memory_size = GUEST_RAM;
	mr.userspace_addr = (uintptr_t)m->ram;
	r = xioctl(m->fd, KVM_SET_USER_MEMORY_REGION, &mr);
	if (r) {
		say("KVM_SET_USER_MEMORY_REGION: %s", strerror(-r));
		return -1;
	}
	mmu.flags = KVM_PPC_MMUV3_RADIX | KVM_PPC_MMUV3_GTSE;
	mmu.process_table = PATB_GR | PRTB_GPA | (16 - 12);
	r = xioctl(m->fd, KVM_PPC_CONFIGURE_V3_MMU, &mmu);
	if (r && !(r == -ENODEV && power8)) {
		say("KVM_PPC_CONFIGURE_V3_MMU(radix): %s", strerror(-r));
		return -1;
	}
	r = enable_cap(m->fd, KVM_CAP_PPC_ENABLE_HCALL, H_PUT_TCE_INDIRECT, 1);
	if (!r)
		r = enable_cap(m->fd, KVM_CAP_PPC_ENABLE_HCALL, H_STUFF_TCE, 1);
	if (r) {
		say("KVM_CAP_PPC_ENABLE_HCALL: %s", strerror(-r));
		return -1;
	}
	/* every vector: li r3,MAGIC_TRAP+n; sc 1; b .-4 */
	for (i = 1; i < 0x10; i++) {
		w = (uint32_t *)(m->ram + i * 0x100);
		w[0] = 0x38600000u | (MAGIC_TRAP + i);
		w[1] = 0x44000022u;
		w[2] = 0x4bfffffcu;
	}
	memcpy(m->ram + CODE_GPA, kf_guest, kf_guest_end - kf_guest);
	m->nvcpu = nvcpu;
	for (i = 0; i < nvcpu; i++)
		if (vcpu_create(m, i))
			return -1;
	return 0;
}

static struct tbl *tbl_add(struct fvm *m, uint64_t liobn, uint32_t shift,
			   uint64_t offset, uint64_t size)
{
	struct kvm_create_spapr_tce_64 c = {
		.liobn = liobn, .page_shift = shift, .offset = offset,
		.size = size,
	};
	struct tbl *t = &m->t[m->nt];

	t->fd = ioctl(m->fd, KVM_CREATE_SPAPR_TCE_64, &c);
	if (t->fd < 0) {
		say("KVM_CREATE_SPAPR_TCE_64(liobn %#llx, shift %u, offset %#llx, size %llu): %s",
		    (unsigned long long)liobn, shift, (unsigned long long)offset,
		    (unsigned long long)size, strerror(errno));
		return NULL;
	}
	t->len = (size * 8 + host_pgsz - 1) & ~(host_pgsz - 1);
	t->ent = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->ent == MAP_FAILED) {
		say("mmap of the TCE table: %s", strerror(errno));
		close(t->fd);
		return NULL;
	}
	t->liobn = liobn;
	t->shift = shift;
	t->offset = offset;
	t->size = size;
	m->nt++;
	return t;
}

static void vm_destroy(struct fvm *m)
{
	int i;

	for (i = 0; i < m->nvcpu; i++) {
		m->quit = true;
		sem_post(&m->c[i].go);
	}
	for (i = 0; i < m->nvcpu; i++) {
		pthread_join(m->c[i].th, NULL);
		/* the mapping holds the vCPU, and the vCPU the VM */
		munmap(m->c[i].run, m->c[i].run_size);
		close(m->c[i].fd);
	}
	for (i = 0; i < m->nt; i++) {
		munmap(m->t[i].ent, m->t[i].len);
		close(m->t[i].fd);
	}
	vk_close(&m->vk);
	munmap(m->ram, GUEST_RAM);
	close(m->fd);
}

/* ------------------------------------------------------------------ */
/* userspace answers, as QEMU gives them (the in-kernel table's mmap) */

static struct tbl *tbl_find(struct fvm *m, uint64_t liobn)
{
	int i;

	for (i = 0; i < m->nt; i++)
		if (m->t[i].liobn == liobn)
			return &m->t[i];
	return NULL;
}

static bool range_ok(const struct tbl *t, uint64_t ioba, uint64_t n)
{
	uint64_t idx = ioba >> t->shift;

	return !(ioba & ((1ull << t->shift) - 1)) && idx >= t->offset &&
	       idx - t->offset < t->size && n <= t->size - (idx - t->offset);
}

/* the orphan of the racing run (orphan_open(), below) */
#define ORPH_SIZE	(4ull << 20)
#define ORPH_GPA	(GUEST_RAM - ORPH_SIZE)

static struct vfio_kvm orph = {
	.container = -1, .group = -1, .device = -1, .kvmdev = -1,
};

static bool orphaned;
static long orph_pinned, orph_kb;
static unsigned long orph_refused, orph_fail;
static char orph_why[1024];

static unsigned long n_vk_map, n_vk_unmap, n_vk_busy, n_vk_err;

/*
 * A VFIO-linked table, as QEMU's notifier does it: the old mapping
 * unmapped, the new one mapped; a map that finds the entry still live
 * (-EBUSY: the stock handler cleared the hardware TCE, not our record)
 * unmaps and maps again, as QEMU's vfio_dma_map() does.
 */
static long user_put_vfio(struct fvm *m, struct tbl *t, uint64_t ioba,
			  uint64_t tce)
{
	uint64_t *e = &t->ent[(ioba >> t->shift) - t->offset];
	uint64_t gpa = tce & ~TCE_RW, psz = 1ull << t->shift;
	uint32_t fl = (tce & TCE_READ ? VFIO_DMA_MAP_FLAG_READ : 0) |
		      (tce & TCE_WRITE ? VFIO_DMA_MAP_FLAG_WRITE : 0);
	long r = 0;

	if (*e & TCE_RW) {
		n_vk_unmap++;
		vk_unmap(&m->vk, ioba, psz);
	}
	*e = 0;
	if (tce & TCE_RW) {
		n_vk_map++;
		r = vk_map(&m->vk, ioba, m->ram + gpa, psz, fl);
		if (r == -EBUSY) {
			n_vk_busy++;
			vk_unmap(&m->vk, ioba, psz);
			r = vk_map(&m->vk, ioba, m->ram + gpa, psz, fl);
		}
	}
	if (r == -EINVAL && orphaned && gpa >= ORPH_GPA) {
		/* an orphan takes no new TCE */
		orph_refused++;
		return H_PARAMETER;
	}
	if (r) {
		/* all of guest RAM is preregistered: nothing else may fail */
		n_vk_err++;
		return H_HARDWARE;
	}
	*e = tce;
	return H_SUCCESS;
}

static long user_put(struct fvm *m, struct tbl *t, uint64_t ioba, uint64_t tce)
{
	uint64_t gpa = tce & ~TCE_RW, psz = 1ull << t->shift;

	if ((tce & TCE_RW) &&
	    ((gpa & (psz - 1)) || gpa >= GUEST_RAM || GUEST_RAM - gpa < psz))
		return H_PARAMETER;
	if (t->vfio)
		return user_put_vfio(m, t, ioba, tce);
	t->ent[(ioba >> t->shift) - t->offset] = tce;
	return H_SUCCESS;
}

static long emulate(struct fvm *m, uint64_t nr, uint64_t *a)
{
	struct tbl *t = tbl_find(m, a[0]);
	uint64_t i, n, *list;
	long r;

	if (!t)
		return H_PARAMETER;
	switch (nr) {
	case H_PUT_TCE:
		if (!range_ok(t, a[1], 1))
			return H_PARAMETER;
		return user_put(m, t, a[1], a[2]);
	case H_GET_TCE:
		if (!range_ok(t, a[1], 1))
			return H_PARAMETER;
		a[0] = t->ent[(a[1] >> t->shift) - t->offset];
		return H_SUCCESS;
	case H_PUT_TCE_INDIRECT:
		n = a[3];
		if (n > 512 || (a[2] & 0xfff) || !range_ok(t, a[1], n))
			return H_PARAMETER;
		if (a[2] >= GUEST_RAM || GUEST_RAM - a[2] < n * 8)
			return H_PARAMETER;
		list = (uint64_t *)(m->ram + a[2]);
		for (i = 0; i < n; i++) {
			r = user_put(m, t, a[1] + (i << t->shift),
				     __builtin_bswap64(list[i]));
			if (r)
				return r;
		}
		return H_SUCCESS;
	case H_STUFF_TCE:
		n = a[3];
		if ((a[2] & TCE_RW) || !range_ok(t, a[1], n))
			return H_PARAMETER;
		for (i = 0; i < n; i++) {
			r = user_put(m, t, a[1] + (i << t->shift), a[2]);
			if (r)
				return r;
		}
		return H_SUCCESS;
	}
	return -2;	/* H_FUNCTION */
}

/* ------------------------------------------------------------------ */
/* the vCPU threads: one batch per "go" */

static int vcpu_batch(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	struct kvm_regs regs;
	uint64_t nr;
	long r;
	int i;

	if (ioctl(c->fd, KVM_GET_REGS, &regs)) {
		snprintf(c->why, sizeof(c->why), "KVM_GET_REGS: %s", strerror(errno));
		return -1;
	}
	regs.pc = CODE_GPA;
	regs.msr = MSR_SF | MSR_ME | MSR_LE;
	regs.gpr[16] = RING_GPA(c->id);
	regs.gpr[17] = c->n;
	/* a pending userspace hcall reloads r3..r12 from run at KVM_RUN */
	run->papr_hcall.ret = regs.gpr[3];
	for (i = 0; i < 9; i++)
		run->papr_hcall.args[i] = regs.gpr[4 + i];
	if (ioctl(c->fd, KVM_SET_REGS, &regs)) {
		snprintf(c->why, sizeof(c->why), "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		r = xioctl(c->fd, KVM_RUN, NULL);
		if (r == -EINTR)
			continue;
		if (r) {
			snprintf(c->why, sizeof(c->why), "KVM_RUN: %s", strerror(-r));
			return -1;
		}
		if (run->exit_reason == KVM_EXIT_INTR)
			continue;
		if (run->exit_reason != KVM_EXIT_PAPR_HCALL) {
			snprintf(c->why, sizeof(c->why), "exit reason %u",
				 run->exit_reason);
			return -1;
		}
		nr = run->papr_hcall.nr;
		if (nr == MAGIC_DONE)
			return 0;
		if (nr > MAGIC_TRAP && nr < MAGIC_TRAP + 0x10) {
			snprintf(c->why, sizeof(c->why), "guest exception %#llx",
				 (unsigned long long)(nr - MAGIC_TRAP) << 8);
			return -1;
		}
		if (run->papr_hcall.args[4] < BATCH)
			c->user[run->papr_hcall.args[4]] = 1;
		pthread_mutex_lock(&c->m->lock);
		run->papr_hcall.ret = emulate(c->m, nr, run->papr_hcall.args);
		pthread_mutex_unlock(&c->m->lock);
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;

	for (;;) {
		sem_wait(&c->go);
		if (c->m->quit)
			return NULL;
		c->err = vcpu_batch(c);
		sem_post(&c->done);
	}
}

static int vm_start_threads(struct fvm *m)
{
	int i;

	for (i = 0; i < m->nvcpu; i++)
		if (pthread_create(&m->c[i].th, NULL, vcpu_thread, &m->c[i])) {
			say("pthread_create failed");
			return -1;
		}
	return 0;
}

static struct ent *ring(struct fvm *m, int v)
{
	return (struct ent *)(m->ram + RING_GPA(v));
}

/* run the batch every vCPU's ring holds (c->n entries), all at once */
static int vm_run_batch(struct fvm *m)
{
	int i, err = 0;

	for (i = 0; i < m->nvcpu; i++) {
		memset(m->c[i].user, 0, sizeof(m->c[i].user));
		sem_post(&m->c[i].go);
	}
	for (i = 0; i < m->nvcpu; i++) {
		sem_wait(&m->c[i].done);
		if (m->c[i].err && !err) {
			say("vCPU %d: %s", i, m->c[i].why);
			err = -1;
		}
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* kvm_tce: the intercept switch and the per-VM counters */

static int intercept(bool on)
{
	int fd, r;

	if (!param_path)
		return 0;
	fd = open(param_path, O_WRONLY);
	if (fd < 0)
		return -1;
	r = write(fd, on ? "Y" : "N", 1) == 1 ? 0 : -1;
	close(fd);
	return r;
}

enum { K_PUT, K_IND, K_STUFF, K_GET, K_FB, K_HPARAM, K_HHW, K_N };
static const char *const ckeys[K_N] = {
	"put", "indirect", "stuff", "get", "fallback", "h_parameter", NULL,
};

static char cnames[K_N][64];

static bool counters_init(void)
{
	const char *s = getenv("KVM_TCE_COUNTERS");
	char key[32], val[64];
	int i, n;

	if (!s || !getenv("KVM_TCE_VMS"))
		return false;
	while (sscanf(s, " %31[^=]=%63s%n", key, val, &n) == 2) {
		for (i = 0; i < K_N; i++)
			if (ckeys[i] && !strcmp(key, ckeys[i]))
				snprintf(cnames[i], sizeof(cnames[i]), "%s", val);
		s += n;
	}
	/* not in the list lib.sh exports; 0 where the module has none */
	snprintf(cnames[K_HHW], sizeof(cnames[K_HHW]), "h_hardware");
	for (i = 0; i < K_HHW; i++)
		if (!cnames[i][0])
			return false;
	return true;
}

/* this process's VM counter files: how many, and the newest's path */
static int stats_dirs(char *newest, size_t len)
{
	char pat[400];
	glob_t g;
	int n = 0, best = -1;
	size_t i;

	snprintf(pat, sizeof(pat), "%s/%d-*/stats", getenv("KVM_TCE_VMS"),
		 (int)getpid());
	if (glob(pat, 0, NULL, &g))
		return 0;
	for (i = 0; i < g.gl_pathc; i++) {
		const char *p = strrchr(g.gl_pathv[i], '/');
		int seq = -1;

		while (p > g.gl_pathv[i] && p[-1] != '-')
			p--;
		seq = atoi(p);
		if (seq > best) {
			best = seq;
			snprintf(newest, len, "%s", g.gl_pathv[i]);
		}
		n++;
	}
	globfree(&g);
	return n;
}

static void counters_read(const char *path, long *v)
{
	char line[256], n[128];
	long x;
	FILE *f = fopen(path, "r");
	int i;

	for (i = 0; i < K_N; i++)
		v[i] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127[^: ]%*[: ]%ld", n, &x) == 2)
			for (i = 0; i < K_N; i++)
				if (!strcmp(n, cnames[i]))
					v[i] = x;
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* the calls */

static int opkind(uint64_t op)
{
	switch (op) {
	case H_PUT_TCE:
		return K_PUT;
	case H_PUT_TCE_INDIRECT:
		return K_IND;
	case H_STUFF_TCE:
		return K_STUFF;
	case H_GET_TCE:
		return K_GET;
	}
	return -1;
}

static const char *opname(uint64_t op)
{
	static const char *const n[] = { "PUT", "INDIRECT", "STUFF", "GET" };
	int k = opkind(op);

	return k < 0 ? "?" : n[k];
}

/* a call as generated, with what the VMM knows about it */
struct call {
	struct ent e;
	int tbl;		/* index into the VM's tables, -1: bogus */
	bool stock_unsafe;	/* would make stock write past the last page */
	uint64_t list[512];	/* an indirect list in guest RAM (CPU order) */
	int nlist;		/* its entries written (0: none of ours) */
};

static struct call *gen[MAX_VCPU];
static int nvcpu = 4;
static struct tbl tconf[MAX_TBL];	/* the tables both VMs get */
static int ntconf;
static int vtbl = -1;		/* tconf index of the VFIO-linked one */
#define VFIO_LIOBN	0x80000001ull
#define VFIO_WIN	(64ull << 20)	/* of 4K TCEs */
static uint8_t vpatched[VFIO_WIN >> 12];	/* its entries made equal */

static uint64_t tces_per_page(void)
{
	return host_pgsz / 8;
}

/* does the stock handler's guest-visible table end before @idx + @n? */
static bool past_last_page(const struct tbl *t, uint64_t idx, uint64_t n)
{
	uint64_t room = (t->size + tces_per_page() - 1) / tces_per_page() *
			tces_per_page();
	uint64_t rel = idx - t->offset;

	return n > room || rel > room - n;
}

static bool in_ram(uint64_t tce)
{
	/* the stock and our test: the host page holding it is in a memslot */
	return (tce >> host_shift) < (GUEST_RAM >> host_shift);
}

/* a TCE value for a table of page shift @shift */
static uint64_t gen_tce(struct rng *r, uint32_t shift)
{
	uint64_t psz = 1ull << shift, perm = 1 + below(r, 3);
	uint64_t n = GUEST_RAM / psz;

	switch (below(r, 20)) {
	case 0:		/* past guest RAM, with permission */
		return (GUEST_RAM + below(r, 64) * psz) | perm;
	case 1:		/* far away */
		return ((rnd(r) & ~0xfffull) >> below(r, 20)) | perm;
	case 2:		/* misaligned for the TCE page */
		return ((below(r, n ? n : 1) * psz) + (shift > 12 ? 0x1000 : 0x10)) | perm;
	case 3:		/* no permission: a poison value, maybe not RAM */
		return rnd(r) & ~TCE_RW;
	case 4:		/* no permission, inside RAM */
		return below(r, GUEST_RAM >> 12) << 12;
	case 5:
		return 0;
	default:	/* a good one */
		if (!n)	/* a 16M page past 40 MiB: the last one in RAM */
			return perm;
		return (below(r, n) * psz) | perm;
	}
}

/* a TCE of guest RAM, aligned to the TCE page, read and write */
static uint64_t good_tce(struct rng *r, uint32_t shift)
{
	return (below(r, GUEST_RAM >> shift) << shift) | TCE_RW;
}

/* an npages: around 512, to the end of the table, past it, huge */
static uint64_t gen_npages(struct rng *r, const struct tbl *t, uint64_t rel,
			   bool indirect)
{
	uint64_t to_end = t->size > rel ? t->size - rel : 1;

	switch (below(r, 16)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return 511;
	case 3:
		return 512;
	case 4:
		return 513;
	case 5:
		return to_end;
	case 6:
		return to_end + 1 + below(r, 3);
	case 7:
		return to_end + below(r, 2 * tces_per_page());
	case 8:
		return (uint64_t)1 << (20 + below(r, 44));
	default:
		return 1 + below(r, indirect ? 512 : (to_end < 2048 ? to_end : 2048));
	}
}

/* one call of vCPU @v, into @c; @shared: any table of the VM */
static void gen_call(struct rng *r, int v, int i, bool shared, struct call *c)
{
	static const uint64_t ops[] = {
		H_PUT_TCE, H_PUT_TCE, H_PUT_TCE, H_GET_TCE, H_GET_TCE,
		H_PUT_TCE_INDIRECT, H_PUT_TCE_INDIRECT, H_PUT_TCE_INDIRECT,
		H_STUFF_TCE, H_STUFF_TCE,
	};
	const struct tbl *t;
	uint64_t rel, psz, idx, n, j;
	int k;

	memset(&c->e, 0, sizeof(c->e));
	c->nlist = 0;
	c->stock_unsafe = false;
	c->e.op = ops[below(r, 10)];
	c->e.ret = SENTINEL;
	c->e.r4 = SENTINEL;
	if (shared)
		k = below(r, ntconf);
	else
		k = v * TBL_PER_VCPU + below(r, TBL_PER_VCPU);
	/* vCPU 0 owns the VFIO-linked table, if any, in the differential */
	if (!shared && vtbl >= 0 && v == 0 && chance(r, 50))
		k = vtbl;
	t = &tconf[k];
	c->tbl = k;
	c->e.a[0] = t->liobn;
	if (chance(r, 4)) {	/* no such table */
		c->tbl = -1;
		c->e.a[0] = chance(r, 50) ? 0x7fff0000u | below(r, 0x10000) :
			    t->liobn | (1ull << (32 + below(r, 32)));
	}
	psz = 1ull << t->shift;
	/* the entry, relative to the table's first */
	switch (below(r, 20)) {
	case 0:
		rel = 0;
		break;
	case 1:
		rel = t->size - 1;
		break;
	case 2:
		rel = t->size + below(r, 4);		/* off the end */
		break;
	case 3:
		rel = -(1 + below(r, 4));		/* below the offset */
		break;
	default:
		rel = below(r, t->size);
	}
	idx = t->offset + rel;
	c->e.a[1] = idx << t->shift;
	if (chance(r, 4))	/* misaligned */
		c->e.a[1] += chance(r, 50) ? 8 : (below(r, psz - 1) + 1) & ~7ull;
	else if (chance(r, 2))
		c->e.a[1] = rnd(r);

	switch (c->e.op) {
	case H_PUT_TCE:
		c->e.a[2] = gen_tce(r, t->shift);
		break;
	case H_GET_TCE:
		break;
	case H_STUFF_TCE:
		c->e.a[2] = chance(r, 60) ? 0 : gen_tce(r, t->shift);
		c->e.a[3] = gen_npages(r, t, rel, false);
		break;
	case H_PUT_TCE_INDIRECT:
		n = gen_npages(r, t, rel, true);
		c->e.a[3] = n;
		c->e.a[2] = LIST_GPA(v) + (uint64_t)i * 0x1000;
		switch (below(r, 20)) {
		case 0:
			c->e.a[2] += 8;
			break;
		case 1:
			c->e.a[2] += 0x800;
			break;
		case 2:		/* past guest RAM */
			c->e.a[2] = GUEST_RAM + below(r, 16) * 0x1000;
			break;
		case 3:		/* anywhere in RAM: whatever lies there */
			c->e.a[2] = below(r, GUEST_RAM >> 12) << 12;
			if (c->e.a[2] >= RING_GPA(0) && c->e.a[2] < LIST_GPA(MAX_VCPU))
				c->e.a[2] = (16ull << 20) + (c->e.a[2] & 0xfffff);
			break;
		default:
			break;
		}
		if (c->e.a[2] >> 12 == (LIST_GPA(v) >> 12) + (uint64_t)i) {
			/* our own list page: mostly good entries */
			bool clean = chance(r, 60);

			c->nlist = 512;
			for (j = 0; j < 512; j++)
				c->list[j] = clean ? good_tce(r, t->shift) :
					     gen_tce(r, t->shift);
			if (clean && !(GUEST_RAM >> t->shift))
				for (j = 0; j < 512; j++)
					c->list[j] = TCE_RW;
		}
		break;
	}
	/*
	 * The stock handler checks only the first entry of a range and
	 * writes the rest wherever they fall: past the guest-visible
	 * table's last page it corrupts the host. Such a call is for
	 * kvm_tce only (which must refuse it).
	 */
	if (c->tbl >= 0 && (c->e.op == H_STUFF_TCE || c->e.op == H_PUT_TCE_INDIRECT)) {
		uint64_t x = c->e.a[1] >> t->shift;

		if (!(c->e.a[1] & (psz - 1)) && x >= t->offset &&
		    x - t->offset < t->size &&
		    (c->e.op == H_STUFF_TCE || c->e.a[3] <= 512) &&
		    (c->e.op == H_STUFF_TCE || !(c->e.a[2] & 0xfff)) &&
		    past_last_page(t, x, c->e.a[3]))
			c->stock_unsafe = true;
	}
}

/*
 * The answer the arguments alone decide, for stock and kvm_tce alike:
 * H_PARAMETER from the kernel for a bad first IOBA, npages over 512 or a
 * misaligned list (INDIRECT), permission bits (STUFF); H_PARAMETER from
 * userspace for an unknown LIOBN. 1: not decided by the arguments, or
 * the two differ (a zero-length range at the table's end, see
 * D_ZERO_AT_END).
 */
static long static_answer(const struct call *c, bool *user)
{
	const struct tbl *t = &tconf[c->tbl < 0 ? 0 : c->tbl];
	uint64_t ioba = c->e.a[1], idx = ioba >> t->shift;
	bool aligned = !(ioba & ((1ull << t->shift) - 1));
	bool first_ok = aligned && idx >= t->offset && idx - t->offset < t->size;
	bool multi = c->e.op == H_STUFF_TCE || c->e.op == H_PUT_TCE_INDIRECT;

	*user = false;
	if (c->tbl < 0) {
		*user = true;
		return H_PARAMETER;
	}
	if (c->e.op == H_PUT_TCE_INDIRECT &&
	    (c->e.a[3] > 512 || (c->e.a[2] & 0xfff)))
		return H_PARAMETER;
	if (multi && !c->e.a[3] && aligned && idx >= t->offset &&
	    idx - t->offset == t->size)
		return c->e.op == H_STUFF_TCE && (c->e.a[2] & TCE_RW) ?
		       H_PARAMETER : 1;
	if (!first_ok)
		return H_PARAMETER;
	/* stock checks the range, then the bits; ours too */
	if (c->e.op == H_STUFF_TCE && (c->e.a[2] & TCE_RW))
		return H_PARAMETER;
	return 1;
}

/* ------------------------------------------------------------------ */
/* divergence classes */

enum dclass {
	D_PAST_END,		/* stock bug upstream: npages not checked */
	D_ZERO_AT_END,		/* npages 0 at the first entry past the end */
	D_PARTIAL,		/* same H_PARAMETER, stock wrote some entries */
	D_NOPERM_NONRAM,	/* INDIRECT entry without permission, not RAM */
	D_UNKNOWN,
	D_N
};

static const char *const dname[D_N] = {
	[D_PAST_END] = "range_off_the_table_end",
	[D_ZERO_AT_END] = "zero_length_range_at_the_table_end",
	[D_PARTIAL] = "indirect_same_h_parameter_stock_wrote_entries",
	[D_NOPERM_NONRAM] = "indirect_entry_without_permission_outside_ram",
	[D_UNKNOWN] = "unclassified",
};

static unsigned long dcount[D_N];
static char dexample[D_N][512];

struct res {
	long ret;
	uint64_t r4;
	bool user;
};

/* @ram: the stock VM's memory, where the indirect list was read */
static enum dclass classify(const struct call *c, const uint8_t *ram,
			    const struct res *s, const struct res *o)
{
	const struct tbl *t = &tconf[c->tbl < 0 ? 0 : c->tbl];
	uint64_t idx = c->e.a[1] >> t->shift, n = c->e.a[3], j;
	bool perm_bad = false, noperm_nonram = false;

	if (c->tbl < 0)
		return D_UNKNOWN;
	/*
	 * Stock checks ioba - offset + npages > size: npages 0 at the
	 * entry just past the end passes (nothing is written); ours wants
	 * the first entry inside the window. A stock INDIRECT then still
	 * looks up the list, so one outside RAM goes to userspace.
	 */
	if ((c->e.op == H_STUFF_TCE || c->e.op == H_PUT_TCE_INDIRECT) && !n &&
	    !(c->e.a[1] & ((1ull << t->shift) - 1)) && idx >= t->offset &&
	    idx - t->offset == t->size && o->ret == H_PARAMETER && !o->user &&
	    (s->ret == H_SUCCESS || s->user))
		return D_ZERO_AT_END;
	if ((c->e.op == H_STUFF_TCE || c->e.op == H_PUT_TCE_INDIRECT) &&
	    static_answer(c, &perm_bad) == 1 && !range_ok(t, c->e.a[1], n) &&
	    o->ret == H_PARAMETER && !o->user)
		return D_PAST_END;
	if (c->e.op == H_PUT_TCE_INDIRECT && range_ok(t, c->e.a[1], n) &&
	    n <= 512 && !(c->e.a[2] & 0xfff) && c->e.a[2] < GUEST_RAM &&
	    s->ret == H_PARAMETER && !s->user &&
	    o->ret == H_SUCCESS && !o->user) {
		const uint64_t *l = (const uint64_t *)(ram + c->e.a[2]);

		for (j = 0; j < n; j++) {
			uint64_t tce = __builtin_bswap64(l[j]), psz = 1ull << t->shift;

			if (tce & TCE_RW) {
				if (((tce & ~TCE_RW) & (psz - 1)) || !in_ram(tce))
					perm_bad = true;
			} else if (!in_ram(tce)) {
				noperm_nonram = true;
			}
		}
		if (noperm_nonram && !perm_bad)
			return D_NOPERM_NONRAM;
	}
	return D_UNKNOWN;
}

/*
 * Both answered H_PARAMETER in the kernel, but the stock handler may
 * have written entries: an INDIRECT whose first entry is in the table
 * (the range may run off its end: stock on 6.12 does not look, ours
 * refuses) and whose list holds an entry without permission outside
 * RAM (stock finds it only while writing). The table check then sees
 * the entries stock wrote before it.
 */
static bool stock_partial(const struct call *c, const uint8_t *ram,
			  const struct res *s, const struct res *o)
{
	const struct tbl *t = &tconf[c->tbl < 0 ? 0 : c->tbl];
	uint64_t n = c->e.a[3], j, psz = 1ull << t->shift;
	const uint64_t *l;
	bool user, bad = false;

	if (c->tbl < 0 || c->e.op != H_PUT_TCE_INDIRECT ||
	    static_answer(c, &user) != 1 || c->e.a[2] >= GUEST_RAM ||
	    s->ret != H_PARAMETER || s->user || o->ret != H_PARAMETER ||
	    o->user)
		return false;
	l = (const uint64_t *)(ram + c->e.a[2]);
	for (j = 0; j < n; j++) {
		uint64_t tce = __builtin_bswap64(l[j]);

		if (tce & TCE_RW) {
			if (((tce & ~TCE_RW) & (psz - 1)) || !in_ram(tce))
				return false;	/* stock: userspace, not this */
		} else if (!in_ram(tce)) {
			bad = true;
		}
	}
	return bad;
}

static void call_str(char *b, size_t len, const struct call *c)
{
	snprintf(b, len, "%s(liobn %#llx, %#llx, %#llx, %#llx)",
		 opname(c->e.op), (unsigned long long)c->e.a[0],
		 (unsigned long long)c->e.a[1], (unsigned long long)c->e.a[2],
		 (unsigned long long)c->e.a[3]);
}

static void res_str(char *b, size_t len, const struct res *r, uint64_t op)
{
	if (op == H_GET_TCE && r->ret == H_SUCCESS)
		snprintf(b, len, "%ld r4=%#llx %s", r->ret,
			 (unsigned long long)r->r4, r->user ? "user" : "kernel");
	else
		snprintf(b, len, "%ld %s", r->ret, r->user ? "user" : "kernel");
}

/* ------------------------------------------------------------------ */
/* the differential part */

static unsigned long failures;
static char first_fail[600];
static unsigned long n_compared, n_shadowed, n_unsafe, n_static_bad;
static unsigned long n_calls_o, n_calls_s, ksucc[4], kparam, nuser;
static unsigned long n_vfio_calls, n_vfio_stock_user, n_vfio_ours_user;

static void fail(const char *fmt, ...)
{
	va_list ap;
	char b[600];

	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (!failures++)
		snprintf(first_fail, sizeof(first_fail), "%s", b);
	if (failures <= 20)
		diag("FAIL seed %llu: %s", (unsigned long long)seed, b);
}

static void load_batch(struct fvm *m, bool stock)
{
	struct ent *rg;
	int v, i;

	for (v = 0; v < m->nvcpu; v++) {
		rg = ring(m, v);
		for (i = 0; i < BATCH; i++) {
			struct call *c = &gen[v][i];

			rg[i] = c->e;
			if (stock && c->stock_unsafe)
				rg[i].op = 0;
			if (c->nlist) {
				uint64_t *l = (uint64_t *)(m->ram + c->e.a[2]);
				int j;

				for (j = 0; j < c->nlist; j++)
					l[j] = __builtin_bswap64(c->list[j]);
			}
		}
		m->c[v].n = BATCH;
	}
}

static void get_res(struct fvm *m, int v, int i, struct res *r)
{
	struct ent *e = &ring(m, v)[i];

	r->ret = (long)e->ret;
	r->r4 = e->r4;
	r->user = m->c[v].user[i];
}

/* the arguments alone decide the answer: both sides must give it */
static void check_static(const struct call *c, const struct res *r,
			 const char *side, int b, int v, int i)
{
	bool user;
	long want = static_answer(c, &user);
	char cs[200], rs[64];

	if (r->ret == (long)SENTINEL) {
		call_str(cs, sizeof(cs), c);
		fail("%s: batch %d vcpu %d call %d %s never returned", side, b, v, i, cs);
		return;
	}
	if (r->ret != H_SUCCESS && r->ret != H_PARAMETER) {
		n_static_bad++;
		call_str(cs, sizeof(cs), c);
		fail("%s: batch %d vcpu %d call %d %s = %ld, want H_SUCCESS or H_PARAMETER",
		     side, b, v, i, cs, r->ret);
		return;
	}
	if (want == 1 || (r->ret == want && r->user == user))
		return;
	n_static_bad++;
	call_str(cs, sizeof(cs), c);
	res_str(rs, sizeof(rs), r, c->e.op);
	fail("%s: batch %d vcpu %d call %d %s = %s, want %ld %s", side, b, v, i,
	     cs, rs, want, user ? "user" : "kernel");
}

static void count_o(const struct call *c, const struct res *o)
{
	int k = opkind(c->e.op);

	n_calls_o++;
	if (o->user)
		nuser++;
	else if (o->ret == H_SUCCESS)
		ksucc[k]++;
	else if (o->ret == H_PARAMETER)
		kparam++;
}

/* the range of table entries a call may change (for table diffs) */
static void call_range(const struct call *c, uint64_t *lo, uint64_t *hi)
{
	const struct tbl *t = &tconf[c->tbl];
	uint64_t idx = (c->e.a[1] >> t->shift) - t->offset;
	uint64_t n = c->e.op == H_PUT_TCE ? 1 : c->e.a[3];

	*lo = idx;
	*hi = n > ~0ull - idx ? ~0ull : idx + n;
}

/* the batch's calls on table @k that may have written entry @e */
static void dump_table_calls(struct fvm *s, struct fvm *o, int k, uint64_t e)
{
	char cs[200], a[64], z[64];
	struct res rs, ro;
	uint64_t l, h;
	int v, i;

	for (v = 0; v < nvcpu; v++)
		for (i = 0; i < BATCH; i++) {
			struct call *c = &gen[v][i];

			if (c->tbl != k || opkind(c->e.op) == K_GET)
				continue;
			call_range(c, &l, &h);
			if (e < l || e >= h)
				continue;
			get_res(s, v, i, &rs);
			get_res(o, v, i, &ro);
			call_str(cs, sizeof(cs), c);
			res_str(a, sizeof(a), &rs, c->e.op);
			res_str(z, sizeof(z), &ro, c->e.op);
			diag("  vcpu %d call %d %s: stock %s%s, kvm_tce %s", v, i,
			     cs, c->stock_unsafe ? "(not sent)" : a,
			     c->stock_unsafe ? "" : "", z);
		}
}

/*
 * An H_GET_TCE of an entry in [@lo, @hi), where the two tables may differ
 * since a diverging call of this batch. The other hcalls' answers do not
 * depend on what a plain table holds, so they are still compared.
 */
static bool reads_range(const struct call *c, uint64_t lo, uint64_t hi)
{
	const struct tbl *t = &tconf[c->tbl];
	uint64_t idx = (c->e.a[1] >> t->shift) - t->offset;

	return c->e.op == H_GET_TCE && range_ok(t, c->e.a[1], 1) &&
	       idx >= lo && idx < hi;
}

static int compare_batch(struct fvm *s, struct fvm *o, int b)
{
	uint64_t lo[MAX_TBL], hi[MAX_TBL], plo[MAX_TBL], phi[MAX_TBL];
	static char pex[MAX_TBL][512];
	int pend[MAX_TBL];
	bool any[MAX_TBL];
	struct res rs, ro, ro_path;
	char cs[200], a[64], z[64];
	int v, i, k;
	uint64_t e;

	for (k = 0; k < ntconf; k++) {
		pend[k] = -1;
		any[k] = false;
		lo[k] = ~0ull;
		hi[k] = 0;
	}
	for (v = 0; v < nvcpu; v++) {
		for (i = 0; i < BATCH; i++) {
			struct call *c = &gen[v][i];
			enum dclass d;
			uint64_t l, h;

			get_res(o, v, i, &ro);
			check_static(c, &ro, "kvm_tce", b, v, i);
			count_o(c, &ro);
			if (c->stock_unsafe) {
				/* only kvm_tce saw it: it must refuse, in the kernel */
				n_unsafe++;
				if (ro.ret != H_PARAMETER || ro.user) {
					call_str(cs, sizeof(cs), c);
					res_str(a, sizeof(a), &ro, c->e.op);
					fail("kvm_tce: batch %d vcpu %d call %d %s = %s, %s",
					     b, v, i, cs, a,
					     "want H_PARAMETER in the kernel");
				}
				continue;
			}
			get_res(s, v, i, &rs);
			n_calls_s++;
			check_static(c, &rs, "stock", b, v, i);
			if (c->tbl >= 0 && any[c->tbl] &&
			    reads_range(c, lo[c->tbl], hi[c->tbl])) {
				n_shadowed++;
				continue;
			}
			n_compared++;
			ro_path = ro;	/* where kvm_tce's answer came from */
			/*
			 * A VFIO-linked table: stock finds no mm_iommu region
			 * for our container and gives every mapping call to
			 * the VMM (as QEMU would answer it); kvm_tce answers
			 * it in the kernel. The answer must be the same.
			 */
			if (c->tbl >= 0 && c->tbl == vtbl) {
				n_vfio_calls++;
				n_vfio_stock_user += rs.user;
				n_vfio_ours_user += ro.user;
				ro.user = rs.user;
			}
			if (rs.ret == ro.ret && rs.user == ro.user &&
			    (c->e.op != H_GET_TCE || rs.ret || rs.r4 == ro.r4) &&
			    !stock_partial(c, s->ram, &rs, &ro))
				continue;
			d = stock_partial(c, s->ram, &rs, &ro) ? D_PARTIAL :
			    classify(c, s->ram, &rs, &ro);
			call_str(cs, sizeof(cs), c);
			res_str(a, sizeof(a), &rs, c->e.op);
			res_str(z, sizeof(z), &ro_path, c->e.op);
			if (d == D_PARTIAL) {
				/* counted if the table shows it (below) */
				if (pend[c->tbl] < 0) {
					pend[c->tbl] = c->tbl;
					call_range(c, &plo[c->tbl], &phi[c->tbl]);
					snprintf(pex[c->tbl], sizeof(pex[c->tbl]),
						 "seed %llu batch %d vcpu %d call %d: %s stock %s, kvm_tce %s",
						 (unsigned long long)seed, b, v, i, cs, a, z);
				}
			} else {
				dcount[d]++;
			}
			if (d != D_PARTIAL && !dexample[d][0])
				snprintf(dexample[d], sizeof(dexample[d]),
					 "seed %llu batch %d vcpu %d call %d: %s stock %s, kvm_tce %s",
					 (unsigned long long)seed, b, v, i, cs, a, z);
			if (d == D_UNKNOWN)
				fail("batch %d vcpu %d call %d %s: stock %s, kvm_tce %s%s",
				     b, v, i, cs, a, z, " (unclassified)");
			if (c->tbl < 0)
				continue;
			any[c->tbl] = true;
			call_range(c, &l, &h);
			if (l < lo[c->tbl])
				lo[c->tbl] = l;
			if (h > hi[c->tbl])
				hi[c->tbl] = h;
		}
	}
	/* the tables: differences only where a classified call wrote */
	for (k = 0; k < ntconf; k++) {
		struct tbl *ts = &s->t[k], *to = &o->t[k];
		uint64_t nent = ts->len / 8;

		for (e = 0; e < nent; e++) {
			if (ts->ent[e] == to->ent[e])
				continue;
			if (pend[k] >= 0 && e >= plo[k] && e < phi[k]) {
				/* a D_PARTIAL call did write: count it once */
				dcount[D_PARTIAL]++;
				if (!dexample[D_PARTIAL][0])
					memcpy(dexample[D_PARTIAL], pex[k],
					       sizeof(dexample[D_PARTIAL]));
				pend[k] = -1;
			}
			if (!any[k] || e < lo[k] ||
			    (e >= hi[k] && e < ts->size)) {
				fail("batch %d table %#llx entry %llu: %s %#llx, %s %#llx%s",
				     b, (unsigned long long)ts->liobn,
				     (unsigned long long)e, "stock",
				     (unsigned long long)ts->ent[e], "kvm_tce",
				     (unsigned long long)to->ent[e],
				     ", written by no diverging call");
				if (failures <= 3)
					dump_table_calls(s, o, k, e);
			}
			to->ent[e] = ts->ent[e];	/* equal again */
			/* in the guest's view only: not through the device */
			if (k == vtbl && e < VFIO_WIN >> 12)
				vpatched[e] = 1;
		}
	}
	return 0;
}

/* a sweep of H_GET_TCE over each table's entries: equal to the mmap */
static void sweep(struct fvm *m, struct rng *r, const char *side)
{
	uint64_t pos[MAX_VCPU][BATCH];
	int tb[MAX_VCPU][BATCH];
	int k, v, i, round;
	struct res x;

	for (round = 0; round < SWEEP_ROUNDS; round++) {
		for (v = 0; v < m->nvcpu; v++) {
			struct ent *rg = ring(m, v);

			for (i = 0; i < BATCH; i++) {
				struct tbl *t;

				k = below(r, m->nt);
				t = &m->t[k];
				tb[v][i] = k;
				pos[v][i] = i == 0 ? 0 : i == 1 ? t->size - 1 :
					    below(r, t->size);
				memset(&rg[i], 0, sizeof(rg[i]));
				rg[i].op = H_GET_TCE;
				rg[i].a[0] = t->liobn;
				rg[i].a[1] = (t->offset + pos[v][i]) << t->shift;
				rg[i].ret = SENTINEL;
			}
			m->c[v].n = BATCH;
		}
		if (vm_run_batch(m)) {
			fail("%s, H_GET_TCE of every table: %s", side, why);
			return;
		}
		for (v = 0; v < m->nvcpu; v++)
			for (i = 0; i < BATCH; i++) {
				struct tbl *t = &m->t[tb[v][i]];

				get_res(m, v, i, &x);
				if (param_path && !strcmp(side, "kvm_tce")) {
					n_calls_o++;
					if (x.user)
						nuser++;
					else if (!x.ret)
						ksucc[K_GET]++;
				}
				if (x.ret || x.r4 != t->ent[pos[v][i]])
					fail("%s: GET %#llx entry %llu = %ld %#llx, mmap %#llx",
					     side, (unsigned long long)t->liobn,
					     (unsigned long long)pos[v][i], x.ret,
					     (unsigned long long)x.r4,
					     (unsigned long long)t->ent[pos[v][i]]);
			}
	}
}

/* the tables of the run: per vCPU a 4K, a 64K and a 16M one */
static void gen_tables(struct rng *r, int n)
{
	static const uint32_t shifts[] = { 12, 16, 24 };
	static const uint64_t sizes[] = {
		1, 7, 500, 511, 512, 513, 1000, 3000, 8191, 8192, 8193, 20000,
	};
	int k;

	ntconf = n;
	vtbl = -1;
	memset(vpatched, 0, sizeof(vpatched));
	for (k = 0; k < n; k++) {
		struct tbl *t = &tconf[k];

		t->liobn = 0x1000 + k;
		t->shift = shifts[k % 3];
		t->size = sizes[below(r, ARRAY_SIZE(sizes))];
		switch (below(r, 4)) {
		case 0:
			t->offset = 0;
			break;
		case 1:
			t->offset = 1;
			break;
		case 2:
			t->offset = 0x100;
			break;
		default:
			t->offset = below(r, 1ull << (40 - t->shift));
		}
	}
}

static int make_tables(struct fvm *m)
{
	int k;

	for (k = 0; k < ntconf; k++)
		if (!tbl_add(m, tconf[k].liobn, tconf[k].shift, tconf[k].offset,
			     tconf[k].size))
			return -1;
	return 0;
}

static void fill_ram(struct fvm *m, uint64_t s)
{
	struct rng r = { s };
	uint64_t *p = (uint64_t *)(m->ram + (16ull << 20));
	uint64_t i, n = (GUEST_RAM - (16ull << 20)) / 8;

	/* TCE-like garbage where stray lists point */
	for (i = 0; i < n; i += 8)
		p[i] = __builtin_bswap64(gen_tce(&r, 12 + 4 * below(&r, 4)));
}

/* ------------------------------------------------------------------ */
/* VFIO-linked windows (--vfio GROUP:DEVICE, our v2 container, edu) */

#define VS_STATS	"/sys/kernel/debug/vfio_spapr/stats"
#define DMA_PICKS	6	/* entries checked through the device, each way */
#define XFER		4000u

static int nvfio;
static int vgroup[2];
static char vdev[2][64];
static unsigned long dma_failures, n_dma_landed, n_dma_blocked;
static char dma_first[600];

/*
 * @m's container on group @which, its first @reg bytes of RAM registered,
 * the table linked. Two levels, as QEMU asks for large windows: the
 * table's levels are filled on demand, by us and by the stock handler.
 */
static int vfio_attach(struct fvm *m, int which, uint64_t reg)
{
	struct vfio_iommu_spapr_tce_info info;
	struct tbl *t;

	if (vk_open(&m->vk, vgroup[which], vdev[which], false, &info) ||
	    vk_v2_window(&m->vk, &info, m->ram, reg, VFIO_WIN, 2))
		return -1;
	t = tbl_add(m, VFIO_LIOBN, 12, m->vk.win_start >> 12, VFIO_WIN >> 12);
	if (!t || vk_kvm_link(&m->vk, m->fd, t->fd))
		return -1;
	t->vfio = true;
	return 0;
}

/*
 * @a (and @b, on the second group) linked: the table joins the run's.
 * @reg: RAM registered by @a, from its start.
 */
static int vfio_tables(struct fvm *a, struct fvm *b, uint64_t reg)
{
	struct tbl *t = &tconf[ntconf];

	if (vfio_attach(a, 0, reg) || (b && vfio_attach(b, 1, GUEST_RAM)))
		return -1;
	*t = a->t[ntconf];
	t->fd = -1;
	t->ent = NULL;
	if (b && b->t[ntconf].offset != t->offset) {
		say("the two windows start apart: %#llx and %#llx",
		    (unsigned long long)t->offset << 12,
		    (unsigned long long)b->t[ntconf].offset << 12);
		return -1;
	}
	vtbl = ntconf++;
	diag("table %d: liobn %#llx -> VFIO group %d (other VM: %d), window %#llx + %llu MiB",
	     vtbl, (unsigned long long)t->liobn, vgroup[0], b ? vgroup[1] : -1,
	     (unsigned long long)t->offset << 12, (unsigned long long)VFIO_WIN >> 20);
	return 0;
}

static void dma_fail(const char *fmt, ...)
{
	va_list ap;
	char b[600];

	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (!dma_failures++)
		snprintf(dma_first, sizeof(dma_first), "%s", b);
	if (dma_failures <= 10)
		diag("FAIL seed %llu: %s", (unsigned long long)seed, b);
}

/*
 * The hardware against the table as the guest sees it (its mmap, which
 * H_GET_TCE agrees with): through the IOVA of an entry the guest set
 * read-write, edu reads exactly that guest page and writes it back; a
 * write through an entry the guest cleared reaches no guest RAM. Pages
 * the VMM may have replaced behind the registration (@skip_lo..@skip_hi,
 * the racer's) are left out. The vCPUs are idle; every page touched is
 * restored, so both VMs of the differential stay alike.
 */
static void dma_check(struct fvm *m, struct rng *r, const char *side,
		      uint64_t skip_lo, uint64_t skip_hi)
{
	const struct tbl *t = &m->t[vtbl];
	uint8_t save[XFER], needle[64];
	int landed = 0, blocked = 0, tries;
	uint32_t pat = (uint32_t)rnd(r);
	bool loaded = false;

	fill(needle, sizeof(needle), pat);
	for (tries = 0; tries < 20000 && (landed < DMA_PICKS || blocked < DMA_PICKS);
	     tries++) {
		uint64_t e = below(r, t->size), tce = t->ent[e];
		uint64_t iova = (t->offset + e) << 12, gpa = tce & ~0xfffull;
		uint8_t *p = m->ram + gpa;
		int r1, r2;

		if (vpatched[e])
			continue;
		if ((tce & TCE_RW) == TCE_RW && landed < DMA_PICKS &&
		    (gpa + 0x1000 <= skip_lo || gpa >= skip_hi)) {
			memcpy(save, p, XFER);
			fill(p, XFER, pat);
			r1 = edu_dma(m->vk.bar, iova, XFER, false);
			memset(p, 0xee, XFER);
			r2 = edu_dma(m->vk.bar, iova, XFER, true);
			if (r1 || r2 || !filled(p, XFER, pat))
				dma_fail("%s: entry %llu (IOVA %#llx) = %#llx: DMA %d/%d, %s",
					 side, (unsigned long long)e,
					 (unsigned long long)iova,
					 (unsigned long long)tce, r1, r2,
					 "the guest page does not hold what the device read from it");
			else
				loaded = true;
			memcpy(p, save, XFER);
			landed++;
			n_dma_landed++;
		} else if (!(tce & TCE_RW) && loaded && blocked < DMA_PICKS) {
			r1 = edu_dma(m->vk.bar, iova, XFER, true);
			p = memmem(m->ram, GUEST_RAM, needle, sizeof(needle));
			if (p)
				dma_fail("%s: cleared entry %llu (%#llx) = %#llx: %d, %s %#llx",
					 side, (unsigned long long)e,
					 (unsigned long long)iova,
					 (unsigned long long)tce, r1, "DMA wrote RAM at",
					 (unsigned long long)(p - m->ram));
			blocked++;
			n_dma_blocked++;
		}
	}
}

/*
 * An orphan (vfio_spapr.rst, "Who owns a region"). In the racing run
 * with two groups, the last ORPH_SIZE bytes of guest RAM are registered
 * by a second container of the process (on the second edu group), not
 * by the VM's; the guest's TCEs map them through the VM's container.
 * Half way through, that container closes: the region is orphaned while
 * TCEs map it. It then takes no new TCE, and TCEs the stock handler
 * clears in the kernel (the intercept flips) are not seen by our record,
 * so it stays pinned until the VM's container clears them (UNMAP,
 * REMOVE, close). The bound asserted: after the orphaning the pinned
 * pages never grow, every pinned page stays charged (VmLck), and all
 * is given back at close (the final checks).
 */

static int orphan_open(struct fvm *m)
{
	struct vfio_iommu_spapr_register_memory reg = {
		.argsz = sizeof(reg), .vaddr = (uintptr_t)(m->ram + ORPH_GPA),
		.size = ORPH_SIZE,
	};
	struct vfio_iommu_spapr_tce_info info;
	long r;

	if (vk_open(&orph, vgroup[1], vdev[1], false, &info))
		return -1;
	r = xioctl(orph.container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg);
	if (r) {
		say("REGISTER of the orphan-to-be: %s", strerror(-r));
		return -1;
	}
	return 0;
}

/*
 * A batch of vCPU 0 alone (the others idle, the racer and flipper
 * running): guest TCEs of the VFIO table into the orphan-to-be.
 */
#define ORPH_TCES	8

static int orphan_arm(struct fvm *m)
{
	const struct tbl *t = &m->t[vtbl];
	struct ent *e = ring(m, 0);
	int k, v;

	for (k = 0; k < ORPH_TCES; k++) {
		memset(&e[k], 0, sizeof(e[k]));
		e[k].op = H_PUT_TCE;
		e[k].a[0] = t->liobn;
		e[k].a[1] = (t->offset + t->size / 2 + k) << 12;
		e[k].a[2] = (ORPH_GPA + (uint64_t)k * 0x1000) | TCE_RW;
		e[k].ret = SENTINEL;
	}
	for (v = 0; v < m->nvcpu; v++)
		m->c[v].n = v ? 0 : ORPH_TCES;
	if (vm_run_batch(m))
		return -1;
	for (k = 0; k < ORPH_TCES; k++)
		if (e[k].ret != H_SUCCESS) {
			say("H_PUT_TCE %d into the orphan-to-be: %ld", k, (long)e[k].ret);
			return -1;
		}
	return 0;
}

/* between two batches: the vCPUs are idle, the racer and flipper not */
static void orphan_make(void)
{
	vk_close(&orph);
	orphaned = true;
	orph_pinned = stat_value(VS_STATS, "pinned_pages");
	orph_kb = vmlck_kb();
	diag("racing run: the second container closed, %ld pages pinned (%llu %s), VmLck %ld kB",
	     orph_pinned, (unsigned long long)(ORPH_GPA / host_pgsz),
	     "the VM's own registration", orph_kb);
}

/*
 * The racing run is over (intercept=Y, the vCPUs idle). Then the guest
 * clears the whole window through kvm_tce: no TCE maps the orphan any
 * more, but a guest's hcall cannot unpin, so it stays pinned and
 * charged until a container ioctl of the process collects it; a no-op
 * UNMAP_DMA must.
 */
static void orphan_check(struct fvm *m)
{
	long pinned = stat_value(VS_STATS, "pinned_pages"), kb = vmlck_kb();
	long own = (long)(ORPH_GPA / host_pgsz), p2, p3, kb2;
	const struct tbl *t = &m->t[vtbl];
	struct ent *e = ring(m, 0);
	int v;

	diag("racing run, end: %ld pages pinned (%ld of the orphan), VmLck %ld kB",
	     pinned, pinned - own, kb);
	diag("  %lu new TCEs of the orphan refused", orph_refused);
	memset(e, 0, sizeof(*e));
	e->op = H_STUFF_TCE;
	e->a[0] = t->liobn;
	e->a[1] = t->offset << 12;
	e->a[3] = t->size;
	e->ret = SENTINEL;
	for (v = 0; v < m->nvcpu; v++)
		m->c[v].n = !v;
	if (vm_run_batch(m) || e->ret != H_SUCCESS)
		snprintf(orph_why, sizeof(orph_why), "the guest's STUFF of the window: %ld %.200s",
			 (long)e->ret, why);
	p2 = stat_value(VS_STATS, "pinned_pages");
	kb2 = vmlck_kb();
	vk_unmap(&m->vk, t->offset << 12, 0x1000);
	p3 = stat_value(VS_STATS, "pinned_pages");
	diag("  window cleared by the guest: %ld pinned, VmLck %ld kB; after an UNMAP: %ld",
	     p2, kb2, p3);
	if (orph_why[0] || orph_pinned <= own || pinned < own || pinned > orph_pinned ||
	    p2 > pinned || p3 != own || kb * 1024 < pinned * host_pgsz ||
	    kb2 * 1024 < p2 * host_pgsz) {
		orph_fail++;
		snprintf(strchr(orph_why, 0), sizeof(orph_why) - strlen(orph_why),
			 " pinned: %ld at the orphaning, %ld at the end, %ld cleared, %ld after UNMAP; the VM's own %ld; VmLck %ld, %ld kB",
			 orph_pinned, pinned, p2, p3, own, kb, kb2);
	}
}

static long counters_at_start[K_N];

/* ------------------------------------------------------------------ */

static int tap_n;

static void tap(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d %s\n", ok ? "" : "not ", ++tap_n, name);
	if (!ok && fmt) {
		printf("# seed %llu: ", (unsigned long long)seed);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static void tap_skip(const char *name, const char *why_)
{
	printf("ok %d %s # SKIP %s\n", ++tap_n, name, why_);
	fflush(stdout);
}

#define N_CASES	11
#define DMA_EVERY	16	/* batches between two checks through the device */

static int differential(long calls, bool counters)
{
	struct fvm *s = calloc(1, sizeof(*s)), *o = calloc(1, sizeof(*o));
	struct rng tr = { seed ^ 0x7461626c65ull }, cr = { seed };
	struct rng sr = { seed ^ 0x7377656570ull };
	struct rng dr = { seed ^ 0x646d61ull };
	long batches = calls / (2L * BATCH * nvcpu), b;
	char path[512];
	long c1[K_N], t0 = now_ms();
	int v, i, d, ndirs;
	bool ok;

	if (batches < 1)
		batches = 1;
	gen_tables(&tr, nvcpu * TBL_PER_VCPU);
	for (v = 0; v < nvcpu; v++)
		gen[v] = calloc(BATCH, sizeof(struct call));
	if (vm_create(s, nvcpu) || make_tables(s) || vm_create(o, nvcpu) ||
	    make_tables(o) || (nvfio > 1 && vfio_tables(s, o, GUEST_RAM)) ||
	    vm_start_threads(s) || vm_start_threads(o)) {
		tap(false, "fuzz_differential_vms_made", "%s", why);
		return -1;
	}
	for (i = 0; i < ntconf; i++)
		diag("table %d: liobn %#llx shift %u offset %#llx size %llu", i,
		     (unsigned long long)tconf[i].liobn, tconf[i].shift,
		     (unsigned long long)tconf[i].offset,
		     (unsigned long long)tconf[i].size);
	fill_ram(s, seed);
	fill_ram(o, seed);
	for (b = 0; b < batches; b++) {
		for (v = 0; v < nvcpu; v++)
			for (i = 0; i < BATCH; i++)
				gen_call(&cr, v, i, false, &gen[v][i]);
		load_batch(s, true);
		load_batch(o, false);
		if (param_path) {
			if (intercept(false) || vm_run_batch(s) ||
			    intercept(true) || vm_run_batch(o)) {
				fail("batch %ld: %s", b, why);
				break;
			}
		} else if (vm_run_batch(s) || vm_run_batch(o)) {
			fail("batch %ld: %s", b, why);
			break;
		}
		compare_batch(s, o, b);
		if (vtbl >= 0 && (b % DMA_EVERY == DMA_EVERY - 1 || b == batches - 1)) {
			dma_check(s, &dr, "stock", 0, 0);
			dma_check(o, &dr, "kvm_tce", 0, 0);
		}
	}
	intercept(false);
	sweep(s, &sr, "stock");
	intercept(true);
	sweep(o, &sr, "kvm_tce");
	diag("stock against kvm_tce: %ld batches, %lu calls to stock, %lu to kvm_tce",
	     batches, n_calls_s, n_calls_o);
	diag("  %lu for kvm_tce only, %lu compared, %lu after a divergence not compared",
	     n_unsafe, n_compared, n_shadowed);
	diag("  %ld ms (L1 clock)", now_ms() - t0);
	if (vtbl >= 0)
		diag("  VFIO-linked table: %lu calls compared, %lu of stock's, %lu of ours %s",
		     n_vfio_calls, n_vfio_stock_user, n_vfio_ours_user,
		     "answered by the VMM");
	for (d = 0; d < D_N; d++)
		if (dcount[d])
			diag("divergence class %s: %lu, e.g. %s", dname[d],
			     dcount[d], dexample[d]);
	tap(!failures, "fuzz_stock_and_kvm_tce_answers_and_tables_agree_or_known_class",
	    "%lu failures, first: %s", failures, first_fail);

	/* kvm_tce's counters of the kvm_tce VM against its answers */
	if (!counters) {
		tap_skip("fuzz_kvm_tce_counters_match_answers", "kvm_tce not loaded");
		tap_skip("fuzz_stock_vm_never_counted_by_kvm_tce", "kvm_tce not loaded");
	} else {
		long hsum, fb_extra;

		ndirs = stats_dirs(path, sizeof(path));
		counters_read(path, c1);
		for (i = 0; i < K_N; i++)
			c1[i] -= counters_at_start[i];
		hsum = c1[K_PUT] + c1[K_IND] + c1[K_STUFF] + c1[K_GET];
		/* what the fallbacks the stock handler answered in the kernel explain */
		fb_extra = c1[K_FB] - (long)nuser;
		ok = hsum + c1[K_FB] + c1[K_HPARAM] + c1[K_HHW] == (long)n_calls_o &&
		     c1[K_FB] >= (long)nuser && c1[K_HPARAM] <= (long)kparam &&
		     c1[K_PUT] <= (long)ksucc[K_PUT] && c1[K_IND] <= (long)ksucc[K_IND] &&
		     c1[K_STUFF] <= (long)ksucc[K_STUFF] && c1[K_GET] <= (long)ksucc[K_GET] &&
		     fb_extra == (long)(ksucc[0] + ksucc[1] + ksucc[2] + ksucc[3] - hsum) +
				 ((long)kparam - c1[K_HPARAM]) && !c1[K_HHW];
		diag("kvm_tce VM counters: put %ld indirect %ld stuff %ld get %ld",
		     c1[K_PUT], c1[K_IND], c1[K_STUFF], c1[K_GET]);
		diag("  fallback %ld h_parameter %ld h_hardware %ld", c1[K_FB],
		     c1[K_HPARAM], c1[K_HHW]);
		diag("seen: %lu calls, kernel success %lu/%lu/%lu/%lu",
		     n_calls_o, ksucc[0], ksucc[1], ksucc[2], ksucc[3]);
		diag("  kernel H_PARAMETER %lu, userspace %lu", kparam, nuser);
		tap(ok && ndirs == 1, "fuzz_kvm_tce_counters_match_answers",
		    "counters do not add up to the answers seen (%d VM directories)",
		    ndirs);
		tap(ndirs == 1, "fuzz_stock_vm_never_counted_by_kvm_tce",
		    "%d counter directories for this process, want 1 (the kvm_tce VM's)",
		    ndirs);
	}
	vm_destroy(s);
	vm_destroy(o);
	free(s);
	free(o);
	for (v = 0; v < nvcpu; v++)
		free(gen[v]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* the chaos part */

static volatile bool chaos_stop;
static unsigned long n_flips, n_remaps, n_dontneed, n_tremaps;

static void *flipper(void *arg)
{
	struct rng r = { seed ^ 0x666c6970ull };
	long end = now_ms() + (long)(uintptr_t)arg;
	bool on = true;

	while (!chaos_stop && now_ms() < end && n_flips < 100000) {
		on = !on;
		if (intercept(on))
			break;
		n_flips++;
		usleep(below(&r, 3000));
	}
	intercept(true);
	return NULL;
}

static void *racer(void *arg)
{
	struct fvm *m = arg;
	struct rng r = { seed ^ 0x72616365ull };
	uint64_t span = (uint64_t)m->nvcpu * 0x100000;
	unsigned long ops = 0;

	while (!chaos_stop && ops < 200000) {
		uint64_t off = LIST_GPA(0) + (below(&r, span / host_pgsz) * host_pgsz);
		uint8_t *p = m->ram + off;
		uint64_t *l = (uint64_t *)p;
		size_t j, len = host_pgsz * (1 + below(&r, 4));

		if (off + len > LIST_GPA(0) + span)
			len = LIST_GPA(0) + span - off;
		switch (below(&r, 4)) {
		case 0:
			madvise(p, len, MADV_DONTNEED);
			n_dontneed++;
			break;
		case 1:
			if (mmap(p, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
				n_remaps++;
			break;
		case 2: {	/* a table's mmap, new and faulted in again */
			struct tbl *t = &m->t[below(&r, m->nt)];
			volatile uint64_t x;

			pthread_mutex_lock(&m->lock);
			if (mmap(t->ent, t->len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, t->fd, 0) != MAP_FAILED)
				n_tremaps++;
			for (j = 0; j < t->len / 8; j += host_pgsz / 8)
				x = t->ent[j];
			(void)x;
			pthread_mutex_unlock(&m->lock);
			break;
		}
		default:	/* fresh list content: good TCEs */
			for (j = 0; j < len / 8; j++)
				l[j] = __builtin_bswap64((below(&r, GUEST_RAM >> 24) << 24) |
							 TCE_RW);
			break;
		}
		ops++;
		usleep(below(&r, 500));
	}
	return NULL;
}

static int chaos(long calls, bool counters)
{
	struct fvm *m = calloc(1, sizeof(*m));
	struct rng tr = { seed ^ 0x63686173ull }, cr = { seed ^ 0x63616c6cull };
	struct rng sr = { seed ^ 0x73776570ull };
	struct rng dr = { seed ^ 0x63646d61ull };
	long batches = calls / ((long)BATCH * nvcpu), b, t0 = now_ms();
	unsigned long f0 = failures, n = 0, nk = 0;
	long c0[K_N], c1[K_N], sum;
	pthread_t tf, trc;
	char path[512];
	int v, i, k;
	bool flip = param_path;

	if (batches < 1)
		batches = 1;
	gen_tables(&tr, 6);
	for (v = 0; v < nvcpu; v++)
		gen[v] = calloc(BATCH, sizeof(struct call));
	if (vm_create(m, nvcpu) || make_tables(m) ||
	    (nvfio && vfio_tables(m, NULL, nvfio > 1 ? ORPH_GPA : GUEST_RAM)) ||
	    (nvfio > 1 && orphan_open(m)) || vm_start_threads(m)) {
		tap(false, "fuzz_chaos_vm_made", "%s", why);
		return -1;
	}
	fill_ram(m, seed);
	chaos_stop = false;
	if (flip)
		pthread_create(&tf, NULL, flipper, (void *)(uintptr_t)600000);
	pthread_create(&trc, NULL, racer, m);
	for (b = 0; b < batches; b++) {
		for (v = 0; v < nvcpu; v++)
			for (i = 0; i < BATCH; i++) {
				struct call *c;

				do {	/* stock may answer any of them */
					c = &gen[v][i];
					gen_call(&cr, v, i, true, c);
				} while (c->stock_unsafe);
			}
		/* the racer owns the list pages' content now */
		for (v = 0; v < nvcpu; v++)
			for (i = 0; i < BATCH; i++)
				gen[v][i].nlist = 0;
		if (orph.container >= 0 && b == batches / 2 && orphan_arm(m)) {
			fail("racing run, arming the orphan: %s", why);
			break;
		}
		if (orph.container >= 0 && b == batches / 2)
			orphan_make();
		load_batch(m, false);
		if (vm_run_batch(m)) {
			fail("racing run, batch %ld: %s", b, why);
			break;
		}
		for (v = 0; v < nvcpu; v++)
			for (i = 0; i < BATCH; i++) {
				struct res x;

				get_res(m, v, i, &x);
				check_static(&gen[v][i], &x, "racing run", b, v, i);
				n++;
				nk += !x.user;
			}
	}
	chaos_stop = true;
	if (flip)
		pthread_join(tf, NULL);
	pthread_join(trc, NULL);
	intercept(true);
	/* quiet now: every entry of every table, H_GET_TCE against the mmap */
	sweep(m, &sr, "racing run");
	if (vtbl >= 0)	/* the racer replaced list pages behind the registration */
		dma_check(m, &dr, "racing run", LIST_GPA(0),
			  LIST_GPA(0) + (uint64_t)m->nvcpu * 0x100000);
	if (orphaned)
		orphan_check(m);
	diag("racing run: %lu calls (%lu answered in the kernel), %ld ms (L1 clock)",
	     n, nk, now_ms() - t0);
	diag("  %lu intercept flips, %lu MADV_DONTNEED, %lu list remaps, %lu table remaps",
	     n_flips, n_dontneed, n_remaps, n_tremaps);
	tap(failures == f0, "fuzz_chaos_answers_allowed_and_get_tce_agrees_with_mmap",
	    "%lu failures, first: %s", failures - f0, first_fail);
	tap(n_remaps + n_dontneed > 0 && (!flip || n_flips > 0),
	    "fuzz_chaos_vmm_raced_the_guest",
	    "%lu remaps, %lu MADV_DONTNEED, %lu flips", n_remaps, n_dontneed,
	    n_flips);
	if (counters) {
		(void)c0;
		stats_dirs(path, sizeof(path));
		counters_read(path, c1);
		sum = 0;
		for (k = 0; k < K_N; k++)
			sum += c1[k];
		/* every counted call was one of ours; with flips, not all were */
		/* + the orphan's arming H_PUT_TCEs and its check's H_STUFF_TCE */
		n += orphaned ? ORPH_TCES + 1 : 0;
		tap(sum > 0 && sum <= (long)(n + SWEEP_ROUNDS * BATCH * nvcpu),
		    "fuzz_chaos_kvm_tce_counted_at_most_the_calls_made",
		    "counted %ld, calls %lu", sum, n + SWEEP_ROUNDS * BATCH * nvcpu);
	} else {
		tap_skip("fuzz_chaos_kvm_tce_counted_at_most_the_calls_made",
			 "kvm_tce not loaded");
	}
	vm_destroy(m);
	free(m);
	for (v = 0; v < nvcpu; v++)
		free(gen[v]);
	return 0;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "calls", required_argument, NULL, 'n' },
		{ "vcpus", required_argument, NULL, 'v' },
		{ "stock-only", no_argument, NULL, 'S' },
		{ "cases", no_argument, NULL, 'c' },
		{ "vfio", required_argument, NULL, 'V' },
		{ }
	};
	static const char *const vs_rows[] = {
		"containers", "regions", "pinned_pages", "charged_pages",
	};
	long vs0[ARRAY_SIZE(vs_rows)], vs1[ARRAY_SIZE(vs_rows)];
	char vs_diff[256] = "", vargs[160] = "";
	unsigned int j;
	long calls = 100000, kb0, kb1, pins0, pins1;
	bool stock_only = false, counters;
	char line[256];
	FILE *f;
	int o;

	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			calls = strtol(optarg, NULL, 0);
			break;
		case 'v':
			nvcpu = atoi(optarg);
			if (nvcpu < 1 || nvcpu > MAX_VCPU)
				nvcpu = 4;
			break;
		case 'S':
			stock_only = true;
			break;
		case 'c':
			printf("%d\n", N_CASES);
			return 0;
		case 'V':	/* GROUP:DEVICE, once or twice */
			if (nvfio < 2 &&
			    sscanf(optarg, "%d:%63s", &vgroup[nvfio], vdev[nvfio]) == 2) {
				nvfio++;
				break;
			}
			fprintf(stderr, "--vfio GROUP:DEVICE, at most twice\n");
			return 2;
		default:
			fprintf(stderr, "usage: %s %s\n", argv[0],
				"[--seed S] [--calls N] [--vcpus V] [--stock-only] [--vfio G:DEV [--vfio G:DEV]] | --cases");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	host_pgsz = sysconf(_SC_PAGESIZE);
	host_shift = __builtin_ctzl(host_pgsz);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu", 3) && strstr(line, "POWER8"))
			power8 = true;
	if (f)
		fclose(f);
	param_path = getenv("KVM_TCE_PARAM");
	if (stock_only || !param_path || access(param_path, W_OK))
		param_path = NULL;
	counters = param_path && counters_init();
	printf("TAP version 13\n1..%d\n", N_CASES);
	for (o = 0; o < nvfio; o++)
		snprintf(strchr(vargs, 0), sizeof(vargs) - strlen(vargs),
			 " --vfio %d:%s", vgroup[o], vdev[o]);
	diag("seed %llu (replay: --seed %llu --calls %ld --vcpus %d%s%s); %ld-byte host pages; %s",
	     (unsigned long long)seed, (unsigned long long)seed, calls, nvcpu,
	     stock_only ? " --stock-only" : "", vargs, host_pgsz,
	     param_path ? "stock = kvm_tce intercept=N, then intercept=Y" :
	     "kvm_tce not loaded: stock against stock");
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		tap(false, "fuzz_open_dev_kvm", "%s", strerror(errno));
		return 1;
	}
	if (counters) {
		char path[512];

		/* no VM of ours yet: nothing to count from */
		if (stats_dirs(path, sizeof(path)))
			counters_read(path, counters_at_start);
	}
	kb0 = vmlck_kb();
	pins0 = pins_outstanding();
	for (j = 0; j < ARRAY_SIZE(vs_rows); j++)
		vs0[j] = stat_value(VS_STATS, vs_rows[j]);
	differential(calls * 7 / 10, counters);
	chaos(calls * 3 / 10, counters);
	intercept(true);
	/* every VM and container is closed: unpinning may be RCU-deferred */
	for (j = 0; j < 100; j++) {
		pins1 = pins_outstanding();
		if (pins1 == pins0)
			break;
		usleep(50000);
	}
	kb1 = vmlck_kb();
	tap(kb1 == kb0, "fuzz_vmlck_back_to_start", "VmLck %ld kB, at start %ld kB",
	    kb1, kb0);
	tap(pins1 == pins0 && pins0 >= 0, "fuzz_no_foll_pin_left",
	    "nr_foll_pin acquired-released %ld, at start %ld", pins1, pins0);
	if (!nvfio) {
		tap_skip("fuzz_vfio_dma_follows_the_guest_table", "no --vfio");
		tap_skip("fuzz_vfio_orphan_pins_never_grow_and_stay_charged", "no --vfio");
		tap_skip("fuzz_vfio_spapr_counters_back_to_start", "no --vfio");
		return failures || tap_n != N_CASES ? 1 : 0;
	}
	diag("VFIO: %lu entries DMA-checked mapped, %lu cleared", n_dma_landed,
	     n_dma_blocked);
	diag("  the VMM made %lu MAP_DMA (%lu found the entry live), %lu UNMAP_DMA, %lu failed",
	     n_vk_map, n_vk_busy, n_vk_unmap, n_vk_err);
	tap(!dma_failures && n_dma_landed > 0 && !n_vk_err,
	    "fuzz_vfio_dma_follows_the_guest_table",
	    "%lu DMA failures (first: %s), %lu checked, %lu VMM map errors",
	    dma_failures, dma_first, n_dma_landed, n_vk_err);
	if (nvfio < 2)
		tap_skip("fuzz_vfio_orphan_pins_never_grow_and_stay_charged",
			 "needs a second --vfio group");
	else
		tap(orphaned && !orph_fail,
		    "fuzz_vfio_orphan_pins_never_grow_and_stay_charged", "%s",
		    orphaned ? orph_why : "the racing run never orphaned the region");
	for (j = 0; j < ARRAY_SIZE(vs_rows); j++) {
		vs1[j] = stat_value(VS_STATS, vs_rows[j]);
		if (vs1[j] != vs0[j] || vs0[j] < 0)
			snprintf(strchr(vs_diff, 0), sizeof(vs_diff) - strlen(vs_diff),
				 " %s %ld (at start %ld)", vs_rows[j], vs1[j], vs0[j]);
	}
	tap(!vs_diff[0], "fuzz_vfio_spapr_counters_back_to_start", "%s", vs_diff);
	return failures || dma_failures || tap_n != N_CASES ? 1 : 0;
}
