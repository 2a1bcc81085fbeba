// SPDX-License-Identifier: GPL-2.0
/*
 * Counters, per VM and in total, in debugfs:
 *   kvm_tce/stats              every VM since the module was loaded
 *   kvm_tce/vms/<pid>-<n>/stats one VM (<pid> is the VMM's)
 *
 * A VM's counters are made at its first TCE hcall, in atomic context, so
 * its debugfs directory is made later by a work item; they go when KVM
 * destroys the VM (kt_hook.c watches kvm_arch_destroy_vm()). Both work
 * items run on one ordered queue, so a directory is never removed before
 * it is made. The totals are per CPU, a VM's are atomics in its record
 * (kt_internal.h says why); the totals' file shows the sum.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/kvm_host.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "kt_internal.h"

const char *const kt_stat_names[KT_NR_STATS] = {
	[KT_HANDLED_PUT]	= "handled_put_tce",
	[KT_HANDLED_INDIRECT]	= "handled_put_tce_indirect",
	[KT_HANDLED_STUFF]	= "handled_stuff_tce",
	[KT_HANDLED_GET]	= "handled_get_tce",
	[KT_FALLBACK]		= "fallback",
	[KT_FB_NO_TABLE]	= "fallback_no_table",
	[KT_FB_BAD_GPA]		= "fallback_bad_gpa",
	[KT_FB_NO_VIEW_PAGE]	= "fallback_no_view_page",
	[KT_FB_LIST]		= "fallback_list",
	[KT_FB_FOREIGN]		= "fallback_foreign_table",
	[KT_FB_NOT_PREREG]	= "fallback_not_preregistered",
	[KT_FB_NO_LEVEL]	= "fallback_no_table_level",
	[KT_FB_TOO_BIG]		= "fallback_too_big",
	[KT_H_PARAMETER]	= "h_parameter",
	[KT_ERR_IOBA]		= "h_parameter_ioba",
	[KT_ERR_NPAGES]		= "h_parameter_npages",
	[KT_ERR_LIST_ALIGN]	= "h_parameter_list_align",
	[KT_ERR_PERM]		= "h_parameter_permission",
	[KT_ERR_LIST_GPA]	= "h_parameter_list_entry_gpa",
	[KT_H_HARDWARE]		= "h_hardware",
	[KT_HW_TCES_SET]	= "hw_tces_set",
	[KT_HW_TCES_CLEARED]	= "hw_tces_cleared",
};

struct kt_vm {
	struct hlist_node node;		/* on kt_vms, under RCU */
	struct kvm *kvm;
	pid_t pid;
	unsigned int seq;
	struct kt_vm_counters c;
	struct dentry *dir;
	struct work_struct made, gone;
	struct rcu_head rcu;
};

static DEFINE_HASHTABLE(kt_vms, 6);
static DEFINE_SPINLOCK(kt_vms_lock);
static atomic_t kt_vm_seq;
struct kt_counters __percpu *kt_total;
static struct dentry *kt_total_file, *kt_vms_dir;
static struct workqueue_struct *kt_wq;

/* A counter is one CPU's to write: each CPU's share is read whole. */
static int kt_total_stats_show(struct seq_file *m, void *unused)
{
	int cpu, i;

	for (i = 0; i < KT_NR_STATS; i++) {
		u64 sum = 0;

		for_each_possible_cpu(cpu)
			sum += READ_ONCE(per_cpu_ptr(kt_total, cpu)->v[i]);
		seq_printf(m, "%s %llu\n", kt_stat_names[i], sum);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kt_total_stats);

static int kt_vm_stats_show(struct seq_file *m, void *unused)
{
	struct kt_vm_counters *c = m->private;
	int i;

	for (i = 0; i < KT_NR_STATS; i++)
		seq_printf(m, "%s %lld\n", kt_stat_names[i],
			   atomic64_read(&c->v[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kt_vm_stats);

static void kt_vm_made(struct work_struct *work)
{
	struct kt_vm *vm = container_of(work, struct kt_vm, made);
	char name[32];

	snprintf(name, sizeof(name), "%d-%u", vm->pid, vm->seq);
	vm->dir = debugfs_create_dir(name, kt_vms_dir);
	debugfs_create_file("stats", 0444, vm->dir, &vm->c, &kt_vm_stats_fops);
}

static void kt_vm_free(struct work_struct *work)
{
	struct kt_vm *vm = container_of(work, struct kt_vm, gone);

	/* Waits for readers of the file. */
	debugfs_remove_recursive(vm->dir);
	kfree_rcu(vm, rcu);
}

static struct kt_vm *kt_vm_find(struct kvm *kvm)
{
	struct kt_vm *vm;

	hash_for_each_possible_rcu(kt_vms, vm, node, (unsigned long)kvm)
		if (vm->kvm == kvm)
			return vm;
	return NULL;
}

/*
 * A VM's first hcall: its record, made here. Out of line, so that the
 * lookup every hcall does needs no stack frame of its own.
 */
static noinline struct kt_vm_counters *kt_vm_make(struct kvm *kvm)
{
	struct kt_vm *vm, *other;

	vm = kzalloc(sizeof(*vm), GFP_ATOMIC | __GFP_NOWARN);
	if (!vm)
		return NULL;
	vm->kvm = kvm;
	vm->pid = kvm->userspace_pid;
	vm->seq = atomic_inc_return(&kt_vm_seq);
	INIT_WORK(&vm->made, kt_vm_made);
	INIT_WORK(&vm->gone, kt_vm_free);
	spin_lock(&kt_vms_lock);
	other = kt_vm_find(kvm);
	if (!other)
		hash_add_rcu(kt_vms, &vm->node, (unsigned long)kvm);
	spin_unlock(&kt_vms_lock);
	if (other) {
		kfree(vm);
		return &other->c;
	}
	queue_work(kt_wq, &vm->made);
	return &vm->c;
}

/**
 * kt_counters_of() - the counters of @kvm, made at its first hcall.
 * @kvm: the VM (rcu_read_lock held)
 *
 * Return: the VM's counters, or NULL without memory (then only the
 * totals count).
 */
struct kt_vm_counters *kt_counters_of(struct kvm *kvm)
{
	struct kt_vm *vm = kt_vm_find(kvm);

	if (likely(vm))
		return &vm->c;
	return kt_vm_make(kvm);
}

static void kt_vm_unlink(struct kt_vm *vm)
{
	hash_del_rcu(&vm->node);
	queue_work(kt_wq, &vm->gone);
}

/**
 * kt_vm_gone() - KVM is destroying @kvm: its counters go.
 * @kvm: the VM
 */
void kt_vm_gone(struct kvm *kvm)
{
	struct kt_vm *vm;

	spin_lock(&kt_vms_lock);
	vm = kt_vm_find(kvm);
	if (vm)
		kt_vm_unlink(vm);
	spin_unlock(&kt_vms_lock);
}

/**
 * kt_stats_init() - the counters' files under @dir.
 * @dir: the module's debugfs directory
 *
 * Return: 0 or -ENOMEM.
 */
int kt_stats_init(struct dentry *dir)
{
	kt_total = alloc_percpu(struct kt_counters);
	if (!kt_total)
		return -ENOMEM;
	kt_wq = alloc_ordered_workqueue("kvm_tce_stats", 0);
	if (!kt_wq) {
		free_percpu(kt_total);
		return -ENOMEM;
	}
	kt_total_file = debugfs_create_file("stats", 0444, dir, NULL,
					    &kt_total_stats_fops);
	kt_vms_dir = debugfs_create_dir("vms", dir);
	return 0;
}

/**
 * kt_stats_exit() - drop every VM's counters (no handler running).
 */
void kt_stats_exit(void)
{
	struct hlist_node *tmp;
	struct kt_vm *vm;
	int bkt;

	spin_lock(&kt_vms_lock);
	hash_for_each_safe(kt_vms, bkt, tmp, vm, node)
		kt_vm_unlink(vm);
	spin_unlock(&kt_vms_lock);
	destroy_workqueue(kt_wq);
	rcu_barrier();
	/* Waits for readers of the file. */
	debugfs_remove(kt_total_file);
	free_percpu(kt_total);
}
