// SPDX-License-Identifier: GPL-2.0
/*
 * H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE and H_GET_TCE on the guest
 * TCE tables KVM made (KVM_CREATE_SPAPR_TCE_64), and on the hardware
 * tables of our VFIO containers linked to them (KVM-VFIO device).
 *
 * The rules are the realmode core's: nothing here sleeps, memory is
 * reached through physical-derived (linear map) addresses, and
 * whatever cannot be finished that way is handed, untouched, to the
 * stock kvm.ko handler (KT_STOCK), which may in turn send it to
 * userspace. PAPR checks that need nothing but the table (IOBA range and
 * alignment, list size and alignment, permission bits of H_STUFF_TCE)
 * are answered here with the stock handler's codes.
 *
 * A call that sets several TCEs is checked whole before anything
 * changes: every guest address translated, every hardware TCE prepared
 * (its region counted), every guest-visible table page present. Only
 * then are the hardware TCEs set and the guest-visible entries written,
 * so a refused call leaves both tables as they were. The stock handler
 * instead stops at the first bad TCE with the earlier ones set.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <asm/iommu.h>
#include <asm/kvm_ppc.h>
#include <asm/tce.h>
#include <spapr_tce/vfio_spapr.h>
#include "kt_internal.h"

#define KT_LIST_MAX	512	/* PAPR: an indirect list is one 4K page */
/* Hardware TCEs one call may stage; more go to the stock handler. */
#define KT_HW_MAX	512
/* Guest-visible entries H_STUFF_TCE writes here; more go to stock. */
#define KT_STUFF_MAX	65536

/* A hardware table H_STUFF_TCE clears, and its TCEs per guest TCE. */
struct kt_stuff_win {
	struct vs_window *w;
	unsigned int shift;
};

/*
 * One call's staging area: hcalls run with preemption off. Hardware TCE
 * op i is op_t[i] on window op_w[i], in the order they are set: guest
 * TCE by guest TCE, and within one, window by window. Consecutive ops of
 * one window (all of a call's, with one linked table) are committed as a
 * run, by vfio_spapr_hcall_commit_run().
 */
struct kt_scratch {
	u64 tces[KT_LIST_MAX];
	unsigned int first_op[KT_LIST_MAX + 1];	/* per guest TCE */
	struct vs_window *op_w[KT_HW_MAX];
	struct vfio_spapr_tce op_t[KT_HW_MAX];
	unsigned int nr_ops;
	struct kt_stuff_win wins[KT_HW_MAX];
};

static struct kt_scratch **kt_scratch;

struct kt_call {
	struct kvm *kvm;
	struct kt_vm_counters *vm;
	struct kvmppc_spapr_tce_table *stt;
	struct kt_scratch *s;		/* kt_take_scratch(), or NULL */
};

/* Is one of the hardware tables linked to @stt a window of ours? */
static bool kt_ours_linked(struct kt_call *x)
{
	struct kvmppc_spapr_tce_iommu_table *stit;

	list_for_each_entry_rcu(stit, &x->stt->iommu_tables, next)
		if (vfio_spapr_hcall_window(x->kvm->mm, stit->tbl))
			return true;
	return false;
}

/* Whether a table linked to @x's is held by one of our containers at all */
static bool kt_ours_held(struct kt_call *x)
{
	struct kvmppc_spapr_tce_iommu_table *stit;

	list_for_each_entry_rcu(stit, &x->stt->iommu_tables, next)
		if (vfio_spapr_hcall_table_ours(stit->tbl))
			return true;
	return false;
}

/*
 * We cannot finish the call: the stock handler gets it. Except on a
 * table linked to one of our containers, published or not (a window
 * being removed, a v1 container's): the stock handler looks for the
 * memory in mm_iommu, where our preregistration is not, and on that
 * failure takes the hardware TCE out behind the container's back and
 * puts it back or clears it, racing the container's own clears. Then
 * H_TOO_HARD is ours to give, with both tables untouched, and userspace
 * maps through the container.
 */
static long kt_stock(struct kt_call *x, enum kt_stat why)
{
	kt_count(x->vm, KT_FALLBACK, 1);
	kt_count(x->vm, why, 1);
	/* @x has its table: a call without one takes kt_no_table() */
	if (kt_ours_held(x))
		return H_TOO_HARD;
	return KT_STOCK;
}

/*
 * PAPR: @npages TCEs from @ioba, aligned, inside the table. The stock
 * check (iommu_tce_check_ioba()) looks at the first TCE only, so a
 * range running past the end is accepted there and written past the
 * guest-visible table; ours refuses it.
 */
static bool kt_ioba_ok(struct kvmppc_spapr_tce_table *stt, unsigned long ioba,
		       unsigned long npages)
{
	unsigned long idx = ioba >> stt->page_shift;

	if (ioba & ((1UL << stt->page_shift) - 1))
		return false;
	if (idx < stt->offset || idx - stt->offset >= stt->size)
		return false;
	return npages <= stt->size - (idx - stt->offset);
}

static long kt_parameter(struct kt_vm_counters *vm, enum kt_stat why)
{
	kt_count(vm, KT_H_PARAMETER, 1);
	kt_count(vm, why, 1);
	return H_PARAMETER;
}

/* KVM has no table @liobn: an emulated device's, the VMM's to answer. */
static long kt_no_table(struct kt_vm_counters *vm)
{
	kt_count(vm, KT_FALLBACK, 1);
	kt_count(vm, KT_FB_NO_TABLE, 1);
	return KT_STOCK;
}

static struct kvmppc_spapr_tce_table *kt_find_table(struct kvm *kvm,
						    unsigned long liobn)
{
	struct kvmppc_spapr_tce_table *stt;

	list_for_each_entry_rcu(stt, &kvm->arch.spapr_tce_tables, list)
		if (stt->liobn == liobn)
			return stt;
	return NULL;
}

/*
 * The call's context; false when KVM has no table @liobn. Without the
 * staging area, which H_GET_TCE and a one-TCE H_PUT_TCE on a KVM table
 * never touch: kt_take_scratch() gives it to the calls that stage.
 */
static __always_inline bool kt_call_start(struct kt_call *x,
					  struct kvm_vcpu *vcpu,
					  unsigned long liobn)
{
	x->kvm = vcpu->kvm;
	x->vm = kt_counters_of(x->kvm);
	x->s = NULL;
	x->stt = kt_find_table(x->kvm, liobn);
	return x->stt;
}

/* This CPU's staging area, empty, for @x (preemption is off). */
static void kt_take_scratch(struct kt_call *x)
{
	x->s = kt_scratch[smp_processor_id()];
	x->s->nr_ops = 0;
}

/* The guest-visible entry of TCE @entry, or NULL if its page is absent. */
static u64 *kt_view(struct kvmppc_spapr_tce_table *stt, unsigned long entry)
{
	unsigned long idx = entry - stt->offset;
	struct page *page = READ_ONCE(stt->pages[idx / TCES_PER_PAGE]);

	if (!page)
		return NULL;
	return (u64 *)page_address(page) + idx % TCES_PER_PAGE;
}

/*
 * The guest-visible entry of TCE @entry, its page allocated if need be,
 * as the stock handler does, but without sleeping: under the table's
 * allocation lock only if it is free, and from atomic reserves. NULL
 * when that cannot be had (the stock handler then does it).
 */
static u64 *kt_view_make(struct kvmppc_spapr_tce_table *stt,
			 unsigned long entry)
{
	unsigned long i = (entry - stt->offset) / TCES_PER_PAGE;
	struct page *page;

	if (!mutex_trylock(&stt->alloc_lock))
		return NULL;
	if (!stt->pages[i]) {
		page = alloc_page(GFP_ATOMIC | __GFP_ZERO | __GFP_NOWARN);
		if (page)
			WRITE_ONCE(stt->pages[i], page);
	}
	mutex_unlock(&stt->alloc_lock);
	return kt_view(stt, entry);
}

/*
 * The entries @entry to @entry + @n - 1 as runs within one page of the
 * guest-visible table: kt_run_next() gives the length of the run at
 * *@idx (a table index) and moves *@idx past it.
 */
static unsigned long kt_run_next(unsigned long *idx, unsigned long end)
{
	unsigned long run = min(end, (*idx / TCES_PER_PAGE + 1) * TCES_PER_PAGE) - *idx;

	*idx += run;
	return run;
}

/*
 * Every guest-visible page the entries @entry .. @entry + @n - 1 lie in,
 * allocated if need be (kt_view_make()); false if one cannot be had.
 */
static bool kt_views_make(struct kvmppc_spapr_tce_table *stt,
			  unsigned long entry, unsigned long n)
{
	unsigned long idx = entry - stt->offset, end = idx + n;

	while (idx < end) {
		unsigned long e = idx + stt->offset;

		if (!kt_view(stt, e) && !kt_view_make(stt, e))
			return false;
		kt_run_next(&idx, end);
	}
	return true;
}

/*
 * @tce into the guest-visible entries @entry .. @entry + @n - 1, a page
 * at a time. A page that is not allocated holds zeroes, and is left so:
 * for a value other than 0, kt_views_make() made every page first.
 */
static void kt_views_fill(struct kvmppc_spapr_tce_table *stt,
			  unsigned long entry, unsigned long n, u64 tce)
{
	unsigned long idx = entry - stt->offset, end = idx + n;

	while (idx < end) {
		u64 *view = kt_view(stt, idx + stt->offset);
		unsigned long i, run = kt_run_next(&idx, end);

		for (i = 0; view && i < run; i++)
			WRITE_ONCE(view[i], tce);
	}
}

static void kt_abort_ops(struct kt_scratch *s, unsigned int from)
{
	unsigned int i;

	for (i = from; i < s->nr_ops; i++)
		vfio_spapr_hcall_abort(&s->op_t[i]);
	s->nr_ops = from;
}

static enum kt_stat kt_prepare_cause(int err)
{
	switch (err) {
	case -EAGAIN:
		return KT_FB_NO_LEVEL;
	case -ENOENT:
	case -EFAULT:
		return KT_FB_NOT_PREREG;
	default:
		return KT_FB_FOREIGN;
	}
}

/*
 * What guest TCE @tce for entry @entry needs on any table: its
 * guest-visible page, and for a mapping (@dir, from @tce), a guest
 * address in RAM, whose VMM address goes to *@ua. Return: 0 or a
 * KT_FB_* cause. Inline in both callers: out of line, the per-TCE loop
 * of H_PUT_TCE_INDIRECT paid 24 instructions a TCE for the call (make
 * bench, 512 TCEs).
 */
static __always_inline int kt_check_tce(struct kt_call *x,
					unsigned long entry, u64 tce,
					enum dma_data_direction dir,
					unsigned long *ua)
{
	struct kvmppc_spapr_tce_table *stt = x->stt;

	if (tce && !kt_view(stt, entry) && !kt_view_make(stt, entry))
		return KT_FB_NO_VIEW_PAGE;
	if (dir != DMA_NONE) {
		unsigned long gpa = tce & ~(TCE_PCI_READ | TCE_PCI_WRITE);

		if (iommu_tce_check_gpa(stt->page_shift, gpa) ||
		    kt_gpa_to_ua(x->kvm, gpa, ua))
			return KT_FB_BAD_GPA;
	}
	return 0;
}

/*
 * Stages guest TCE @tce for entry @entry: checks it and prepares the
 * hardware TCEs of every linked table. Return: 0 or a KT_FB_* cause.
 */
static int kt_stage(struct kt_call *x, unsigned long entry, u64 tce)
{
	struct kvmppc_spapr_tce_table *stt = x->stt;
	enum dma_data_direction dir = iommu_tce_direction(tce);
	struct kvmppc_spapr_tce_iommu_table *stit;
	struct kt_scratch *s = x->s;
	unsigned long ua = 0;
	int why = kt_check_tce(x, entry, tce, dir, &ua);

	if (why)
		return why;
	list_for_each_entry_rcu(stit, &stt->iommu_tables, next) {
		struct iommu_table *tbl = stit->tbl;
		unsigned long sub = 1UL << (stt->page_shift - tbl->it_page_shift);
		struct vs_window *w;
		unsigned long i;

		w = vfio_spapr_hcall_window(x->kvm->mm, tbl);
		if (!w)
			return KT_FB_FOREIGN;
		if (s->nr_ops + sub > KT_HW_MAX)
			return KT_FB_TOO_BIG;
		for (i = 0; i < sub; i++) {
			struct vfio_spapr_tce *t = &s->op_t[s->nr_ops];
			int err;

			s->op_w[s->nr_ops] = w;
			t->entry = entry * sub + i;
			t->ua = ua + (i << tbl->it_page_shift);
			t->dir = dir;
			err = vfio_spapr_hcall_prepare(w, t);
			if (err)
				return kt_prepare_cause(err);
			s->nr_ops++;
		}
	}
	return 0;
}

/* Stages @n guest TCEs from @entry; on a refusal nothing stays staged. */
static int kt_stage_all(struct kt_call *x, unsigned long entry,
			const u64 *tces, unsigned long n)
{
	struct kt_scratch *s = x->s;
	unsigned long i;
	int why;

	for (i = 0; i < n; i++) {
		s->first_op[i] = s->nr_ops;
		why = kt_stage(x, entry + i, tces[i]);
		if (why) {
			kt_abort_ops(s, 0);
			return why;
		}
	}
	s->first_op[n] = s->nr_ops;
	return 0;
}

/* Undoes the hardware TCEs [from, to) of the staging area: clears them. */
static void kt_clear_ops(struct kt_scratch *s, unsigned int from,
			 unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		struct vfio_spapr_tce t = { .entry = s->op_t[i].entry,
					    .dir = DMA_NONE };

		vfio_spapr_hcall_commit(s->op_w[i], &t);
	}
}

/* The end of the run of ops from @o that go to @o's window. */
static unsigned int kt_run_end(const struct kt_scratch *s, unsigned int o)
{
	unsigned int end;

	for (end = o + 1; end < s->nr_ops; end++)
		if (s->op_w[end] != s->op_w[o])
			break;
	return end;
}

/*
 * kt_apply() of one guest TCE staged as one hardware TCE: H_PUT_TCE on a
 * table linked to one window, the common VFIO call, for which
 * kt_apply()'s loops (runs to commit, a refused guest TCE to find,
 * per-op counts, runs to flush) cost about 90 instructions (make bench,
 * powernv9, 6.1: 3,281 a call before, 3,159 after, the hook's 30 less
 * of 3e9a475 included).
 */
static long kt_apply_one(struct kt_call *x, unsigned long entry, u64 tce)
{
	struct kt_scratch *s = x->s;
	struct vfio_spapr_tce *t = &s->op_t[0];
	enum kt_stat done = t->dir == DMA_NONE ? KT_HW_TCES_CLEARED :
						 KT_HW_TCES_SET;
	long ret = H_SUCCESS;
	u64 *view;

	s->nr_ops = 0;
	/* Refused: the TCE is as it was, and the guest-visible entry clear */
	if (vfio_spapr_hcall_commit(s->op_w[0], t)) {
		tce = 0;
		done = KT_H_HARDWARE;
		ret = H_HARDWARE;
	}
	view = kt_view(x->stt, entry);
	if (view)
		WRITE_ONCE(*view, tce);
	vfio_spapr_hcall_flush(s->op_w[0], t->entry, 1);
	kt_count(x->vm, done, 1);
	return ret;
}

/*
 * Sets what kt_stage_all() staged: hardware TCEs, a run of one window's
 * under one hold of its lock, then the guest-visible entries. A hardware
 * refusal (not expected: prepare found the table level) stops there;
 * that guest TCE is cleared in both tables, the later ones are left as
 * they were, and the guest gets H_HARDWARE.
 */
static long kt_apply(struct kt_call *x, unsigned long entry, const u64 *tces,
		     unsigned long n)
{
	struct kt_scratch *s = x->s;
	unsigned long i, set = 0, cleared = 0;
	unsigned int o, k, end, done;
	long ret = H_SUCCESS;
	u64 *view;

	if (n == 1 && s->nr_ops == 1)
		return kt_apply_one(x, entry, tces[0]);
	for (o = 0; o < s->nr_ops; o = end) {
		end = kt_run_end(s, o);
		/* One alone (H_PUT_TCE): the single commit has less around it */
		if (end - o == 1)
			done = !vfio_spapr_hcall_commit(s->op_w[o], &s->op_t[o]);
		else
			done = vfio_spapr_hcall_commit_run(s->op_w[o],
							   &s->op_t[o], end - o);
		for (k = o; k < o + done; k++) {
			if (s->op_t[k].dir == DMA_NONE)
				cleared++;
			else
				set++;
		}
		if (done < end - o) {
			end = o + done;
			break;
		}
	}
	if (o < s->nr_ops) {
		/* op end was refused: its guest TCE is i */
		for (i = 0; s->first_op[i + 1] <= end; i++)
			;
		kt_abort_ops(s, end + 1);
		kt_clear_ops(s, s->first_op[i], end);
		view = kt_view(x->stt, entry + i);
		if (view)
			WRITE_ONCE(*view, 0);
		kt_count(x->vm, KT_H_HARDWARE, 1);
		ret = H_HARDWARE;
		n = i;
	}
	for (i = 0; i < n; i++) {
		view = kt_view(x->stt, entry + i);
		if (view)
			WRITE_ONCE(*view, tces[i]);
	}
	/* One flush per run of consecutive TCEs of a window. */
	for (o = 0; o < s->nr_ops; o = end) {
		for (end = o + 1; end < s->nr_ops; end++)
			if (s->op_w[end] != s->op_w[o] ||
			    s->op_t[end].entry != s->op_t[o].entry + end - o)
				break;
		vfio_spapr_hcall_flush(s->op_w[o], s->op_t[o].entry, end - o);
	}
	s->nr_ops = 0;
	kt_count(x->vm, KT_HW_TCES_SET, set);
	kt_count(x->vm, KT_HW_TCES_CLEARED, cleared);
	return ret;
}

/*
 * Checks, then sets, @n guest TCEs from @entry (kvm->srcu held, @x's
 * staging area taken); counts a success as @handled.
 */
static long kt_put_tces(struct kt_call *x, unsigned long entry,
			const u64 *tces, unsigned long n, enum kt_stat handled)
{
	int why = kt_stage_all(x, entry, tces, n);
	long ret;

	if (why)
		return kt_stock(x, why);
	ret = kt_apply(x, entry, tces, n);
	if (ret == H_SUCCESS)
		kt_count(x->vm, handled, 1);
	return ret;
}

/*
 * One TCE on a table no hardware table is linked to (kvm->srcu held):
 * what kt_put_tces() does for it, without the staging area, whose
 * loops H_PUT_TCE on a KVM table, the common call, would pay for
 * nothing. The caller reads the list of linked tables once, as
 * kt_stage() does: a link made meanwhile orders after this call.
 */
static long kt_put_view_only(struct kt_call *x, unsigned long entry, u64 tce)
{
	unsigned long ua;
	u64 *view;
	int why = kt_check_tce(x, entry, tce, iommu_tce_direction(tce), &ua);

	if (why)
		return kt_stock(x, why);
	view = kt_view(x->stt, entry);
	if (view)
		WRITE_ONCE(*view, tce);
	kt_count(x->vm, KT_HANDLED_PUT, 1);
	return H_SUCCESS;
}

/**
 * kt_h_put_tce() - H_PUT_TCE.
 * @vcpu: the calling vCPU
 * @liobn: the table
 * @ioba: bus address
 * @tce: guest physical address and permission bits
 *
 * Return: H_SUCCESS, H_PARAMETER for a bad @ioba, H_HARDWARE, or
 * KT_STOCK.
 */
long kt_h_put_tce(struct kvm_vcpu *vcpu, unsigned long liobn,
		  unsigned long ioba, unsigned long tce)
{
	struct kt_call x;
	long ret;
	int idx;
	u64 one = tce;

	if (!kt_call_start(&x, vcpu, liobn))
		return kt_no_table(x.vm);
	if (!kt_ioba_ok(x.stt, ioba, 1))
		return kt_parameter(x.vm, KT_ERR_IOBA);

	idx = srcu_read_lock(&x.kvm->srcu);
	if (list_empty(&x.stt->iommu_tables)) {
		ret = kt_put_view_only(&x, ioba >> x.stt->page_shift, tce);
	} else {
		kt_take_scratch(&x);
		ret = kt_put_tces(&x, ioba >> x.stt->page_shift, &one, 1,
				  KT_HANDLED_PUT);
	}
	srcu_read_unlock(&x.kvm->srcu, idx);
	return ret;
}

/*
 * Stock validates every entry of a list first (one with permission bits
 * whose address it cannot map goes to userspace, nothing written), then
 * writes them one by one, translating every address, permission bits or
 * not, and answers H_PARAMETER at an entry without permission bits whose
 * address is not guest RAM, the entries before it written. Ours gives
 * that answer before writing anything, when stock gives it: true when
 * the list holds such an entry and stock gives up on no entry before it.
 *
 * On a table linked to a window of ours, stock finds no mm_iommu region:
 * its first pass gives up at any entry with permission bits, its second
 * maps every entry through mm_iommu (a clear too) and gives up at the
 * first one in RAM. It reaches the bad entry only if that is the first
 * and no entry has permission bits; otherwise the VMM answers (QEMU
 * stores the value: H_SUCCESS), and so do we, by writing the list.
 * Where a linked table is not ours, stock answers the whole call.
 */
static bool kt_list_noperm_bad(struct kt_call *x, const u64 *tces,
			       unsigned long n)
{
	bool linked = !list_empty(&x->stt->iommu_tables);
	unsigned long i, ua, gpa;
	bool bad = false;

	if (linked && !kt_ours_linked(x))
		return false;
	for (i = 0; i < n; i++) {
		gpa = tces[i] & ~(TCE_PCI_READ | TCE_PCI_WRITE);
		if (iommu_tce_direction(tces[i]) != DMA_NONE) {
			if (linked)
				return false;
		} else if (!linked || i == 0) {
			bad = bad || kt_gpa_to_ua(x->kvm, gpa, &ua);
		}
	}
	for (i = 0; bad && i < n; i++) {
		gpa = tces[i] & ~(TCE_PCI_READ | TCE_PCI_WRITE);
		if (iommu_tce_direction(tces[i]) != DMA_NONE &&
		    (iommu_tce_check_gpa(x->stt->page_shift, gpa) ||
		     kt_gpa_to_ua(x->kvm, gpa, &ua)))
			return false;
	}
	return bad;
}

/**
 * kt_h_put_tce_indirect() - H_PUT_TCE_INDIRECT.
 * @vcpu: the calling vCPU
 * @liobn: the table
 * @ioba: bus address of the first TCE
 * @tce_list: guest physical address of the list (4K aligned)
 * @npages: entries in the list (at most 512)
 *
 * Return: H_SUCCESS, H_PARAMETER for a bad @ioba range, @npages, list
 * alignment or an entry without permission bits outside guest RAM,
 * H_HARDWARE, or KT_STOCK.
 */
long kt_h_put_tce_indirect(struct kvm_vcpu *vcpu, unsigned long liobn,
			   unsigned long ioba, unsigned long tce_list,
			   unsigned long npages)
{
	unsigned long entry, ua, i;
	struct kt_call x;
	long ret;
	int idx;

	if (!kt_call_start(&x, vcpu, liobn))
		return kt_no_table(x.vm);
	/* The stock handler's order of checks, and its answers. */
	if (npages > KT_LIST_MAX)
		return kt_parameter(x.vm, KT_ERR_NPAGES);
	if (tce_list & (SZ_4K - 1))
		return kt_parameter(x.vm, KT_ERR_LIST_ALIGN);
	if (!kt_ioba_ok(x.stt, ioba, npages))
		return kt_parameter(x.vm, KT_ERR_IOBA);
	entry = ioba >> x.stt->page_shift;
	kt_take_scratch(&x);

	idx = srcu_read_lock(&x.kvm->srcu);
	if (kt_gpa_to_ua(x.kvm, tce_list, &ua) ||
	    kt_read_guest_list(x.kvm, ua, x.s->tces, npages)) {
		ret = kt_stock(&x, KT_FB_LIST);
		goto out;
	}
	for (i = 0; i < npages; i++)
		x.s->tces[i] = be64_to_cpu((__force __be64)x.s->tces[i]);
	if (kt_list_noperm_bad(&x, x.s->tces, npages)) {
		ret = kt_parameter(x.vm, KT_ERR_LIST_GPA);
		goto out;
	}
	ret = kt_put_tces(&x, entry, x.s->tces, npages, KT_HANDLED_INDIRECT);
out:
	srcu_read_unlock(&x.kvm->srcu, idx);
	return ret;
}

/**
 * kt_h_stuff_tce() - H_STUFF_TCE.
 * @vcpu: the calling vCPU
 * @liobn: the table
 * @ioba: bus address of the first TCE
 * @tce_value: the value every entry gets; no permission bits allowed
 * @npages: how many entries
 *
 * Return: H_SUCCESS, H_PARAMETER for a bad range or permission bits, or
 * KT_STOCK.
 */
long kt_h_stuff_tce(struct kvm_vcpu *vcpu, unsigned long liobn,
		    unsigned long ioba, unsigned long tce_value,
		    unsigned long npages)
{
	struct kvmppc_spapr_tce_iommu_table *stit;
	struct kvmppc_spapr_tce_table *stt;
	unsigned long entry, hw = 0;
	unsigned int n = 0, k;
	struct kt_stuff_win *sw;
	struct kt_call x;

	if (!kt_call_start(&x, vcpu, liobn))
		return kt_no_table(x.vm);
	stt = x.stt;
	if (!kt_ioba_ok(stt, ioba, npages))
		return kt_parameter(x.vm, KT_ERR_IOBA);
	if (tce_value & (TCE_PCI_WRITE | TCE_PCI_READ))
		return kt_parameter(x.vm, KT_ERR_PERM);
	if (npages > KT_STUFF_MAX)
		return kt_stock(&x, KT_FB_TOO_BIG);
	entry = ioba >> stt->page_shift;
	kt_take_scratch(&x);

	/* Everything checked first: then nothing below can fail. */
	if (tce_value && !kt_views_make(stt, entry, npages))
		return kt_stock(&x, KT_FB_NO_VIEW_PAGE);
	/*
	 * The windows found here are the ones cleared below: one found under
	 * RCU stays usable until we are done, even if it is unpublished
	 * meanwhile; a second lookup could miss it.
	 */
	list_for_each_entry_rcu(stit, &stt->iommu_tables, next) {
		if (n == KT_HW_MAX)
			return kt_stock(&x, KT_FB_TOO_BIG);
		sw = &x.s->wins[n];
		sw->shift = stt->page_shift - stit->tbl->it_page_shift;
		hw += npages << sw->shift;
		if (hw > KT_HW_MAX)
			return kt_stock(&x, KT_FB_TOO_BIG);
		sw->w = vfio_spapr_hcall_window(x.kvm->mm, stit->tbl);
		if (!sw->w)
			return kt_stock(&x, KT_FB_FOREIGN);
		n++;
	}

	for (k = 0; k < n; k++) {
		sw = &x.s->wins[k];
		vfio_spapr_hcall_clear(sw->w, entry << sw->shift,
				       npages << sw->shift);
		/* npages 0 flushes nothing (vfio_spapr_hcall_flush()) */
		vfio_spapr_hcall_flush(sw->w, entry << sw->shift,
				       npages << sw->shift);
	}
	kt_count(x.vm, KT_HW_TCES_CLEARED, hw);
	kt_views_fill(stt, entry, npages, tce_value);
	kt_count(x.vm, KT_HANDLED_STUFF, 1);
	return H_SUCCESS;
}

/**
 * kt_h_get_tce() - H_GET_TCE: the guest-visible entry, in r4.
 * @vcpu: the calling vCPU
 * @liobn: the table
 * @ioba: bus address
 *
 * Return: H_SUCCESS, H_PARAMETER for a bad @ioba, or KT_STOCK.
 */
long kt_h_get_tce(struct kvm_vcpu *vcpu, unsigned long liobn,
		  unsigned long ioba)
{
	/* No struct kt_call: nothing here needs one on the stack. */
	struct kt_vm_counters *vm = kt_counters_of(vcpu->kvm);
	struct kvmppc_spapr_tce_table *stt = kt_find_table(vcpu->kvm, liobn);
	u64 *view;

	if (!stt)
		return kt_no_table(vm);
	if (!kt_ioba_ok(stt, ioba, 1))
		return kt_parameter(vm, KT_ERR_IOBA);
	view = kt_view(stt, ioba >> stt->page_shift);
	kvmppc_set_gpr(vcpu, 4, view ? READ_ONCE(*view) : 0);
	kt_count(vm, KT_HANDLED_GET, 1);
	return H_SUCCESS;
}

/**
 * kt_hcall_init() - the per-CPU staging areas, in the linear map.
 *
 * Return: 0 or -ENOMEM.
 */
int kt_hcall_init(void)
{
	unsigned int cpu;

	kt_scratch = kcalloc(nr_cpu_ids, sizeof(*kt_scratch), GFP_KERNEL);
	if (!kt_scratch)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		kt_scratch[cpu] = kmalloc_node(sizeof(*kt_scratch[cpu]),
					       GFP_KERNEL, cpu_to_node(cpu));
		if (!kt_scratch[cpu]) {
			kt_hcall_exit();
			return -ENOMEM;
		}
	}
	return 0;
}

/**
 * kt_hcall_exit() - free the staging areas (no handler running).
 */
void kt_hcall_exit(void)
{
	unsigned int cpu;

	if (!kt_scratch)
		return;
	for_each_possible_cpu(cpu)
		kfree(kt_scratch[cpu]);
	kfree(kt_scratch);
	kt_scratch = NULL;
}
