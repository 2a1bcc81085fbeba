/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_tce internals: the hcall handlers, what they count, and how they
 * are reached (an ftrace callback on kvm.ko's own handlers).
 */
#ifndef KT_INTERNAL_H
#define KT_INTERNAL_H

#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/types.h>

struct kvm;
struct kvm_vcpu;
struct dentry;

/* A handler's answer when the stock kvm.ko code must do the call. */
#define KT_STOCK	LONG_MIN

/* What is counted, per VM and in total. */
enum kt_stat {
	KT_HANDLED_PUT,
	KT_HANDLED_INDIRECT,
	KT_HANDLED_STUFF,
	KT_HANDLED_GET,
	/* Handed to the stock code, by cause. */
	KT_FALLBACK,
	KT_FB_NO_TABLE,		/* LIOBN unknown to KVM: userspace's */
	KT_FB_BAD_GPA,		/* TCE address misaligned or not guest RAM */
	KT_FB_NO_VIEW_PAGE,	/* guest-visible table page not allocated */
	KT_FB_LIST,		/* indirect list not readable without sleeping */
	KT_FB_FOREIGN,		/* hardware table not one of our containers' */
	KT_FB_NOT_PREREG,	/* guest memory not preregistered */
	KT_FB_NO_LEVEL,		/* hardware table level not allocated */
	KT_FB_TOO_BIG,		/* more TCEs than one atomic call may set */
	/* H_PARAMETER answers, by cause. */
	KT_H_PARAMETER,
	KT_ERR_IOBA,
	KT_ERR_NPAGES,
	KT_ERR_LIST_ALIGN,
	KT_ERR_PERM,
	KT_ERR_LIST_GPA,	/* list entry without permission, not RAM */
	KT_H_HARDWARE,
	/* Hardware TCEs changed for VFIO-linked tables. */
	KT_HW_TCES_SET,
	KT_HW_TCES_CLEARED,
	KT_NR_STATS
};

extern const char *const kt_stat_names[KT_NR_STATS];

/*
 * The totals: the vCPUs of every VM add to them, so each CPU has its
 * own share (no cache line bounced between all the host's hcalls), and
 * a reader sums the shares.
 */
struct kt_counters {
	u64 v[KT_NR_STATS];
};

/*
 * A VM's own: only its vCPUs add to them, atomically, in its record,
 * which is one allocation at its first hcall (a per-CPU one would come
 * from the small atomic per-CPU pool there).
 */
struct kt_vm_counters {
	atomic64_t v[KT_NR_STATS];
};

extern struct kt_counters __percpu *kt_total;

/* kt_stats.c */
struct kt_vm_counters *kt_counters_of(struct kvm *kvm);
void kt_vm_gone(struct kvm *kvm);
int kt_stats_init(struct dentry *dir);
void kt_stats_exit(void);

/**
 * kt_count() - add @n to counter @s of a VM and to the total.
 * @vm: from kt_counters_of(), or NULL
 * @s: the counter
 * @n: how much
 *
 * Context: preemption off (a handler's).
 */
static inline void kt_count(struct kt_vm_counters *vm, enum kt_stat s, long n)
{
	/* kt_apply() counts its hardware TCEs, often none: no write then. */
	if (!n)
		return;
	__this_cpu_add(kt_total->v[s], n);
	if (vm)
		atomic64_add(n, &vm->v[s]);
}

/* kt_hcall.c: each returns a PAPR code, or KT_STOCK. */
long kt_h_put_tce(struct kvm_vcpu *vcpu, unsigned long liobn,
		  unsigned long ioba, unsigned long tce);
long kt_h_put_tce_indirect(struct kvm_vcpu *vcpu, unsigned long liobn,
			   unsigned long ioba, unsigned long tce_list,
			   unsigned long npages);
long kt_h_stuff_tce(struct kvm_vcpu *vcpu, unsigned long liobn,
		    unsigned long ioba, unsigned long tce_value,
		    unsigned long npages);
long kt_h_get_tce(struct kvm_vcpu *vcpu, unsigned long liobn,
		  unsigned long ioba);
int kt_hcall_init(void);
void kt_hcall_exit(void);

/* kt_guest.c */
int kt_gpa_to_ua(struct kvm *kvm, unsigned long gpa, unsigned long *ua);
int kt_read_guest_list(struct kvm *kvm, unsigned long ua, u64 *dst,
		       unsigned long n);

/* kt_hook.c */
int kt_hook_init(void);
void kt_hook_exit(void);

/* kt_answered.S: where an answered hcall goes, to return to kvm-hv */
void kt_answered(void);

#endif
