// SPDX-License-Identifier: GPL-2.0
/*
 * How the handlers are reached: one ftrace callback, with the registers
 * saved and allowed to change the return address (SAVE_REGS, IPMODIFY),
 * on each of kvm.ko's exported TCE hcall handlers, which kvm-hv calls in
 * virtual mode. The callback runs at the function's ftrace call, before
 * its prologue, with the function's arguments in the saved registers
 * (r3 = vcpu, r4... = the hcall's). When ours answers, the callback
 * returns that answer straight to kvm-hv, as the function would: r3 =
 * the PAPR code, nip = the return address still in the link register,
 * so the function never runs and nothing is unwound. When ours says
 * KT_STOCK, the registers are left alone and the function runs as if
 * nobody had looked.
 *
 * Control never enters module code from the traced function's frame:
 * ftrace calls the callback through its own list walk, as it calls any
 * module's tracer, and the answer goes back to kvm-hv's call site, whose
 * TOC is restored by the caller's own call sequence. IPMODIFY makes the
 * hook exclusive: the kernel refuses it on a function something else
 * (livepatch, another module) already redirects.
 *
 * The same ops also watches kvm_destroy_vcpus(), exported and called only
 * by kvm_arch_destroy_vm() as a VM goes (6.1 to 6.12), so the VM's
 * counters go with it. That address never leaves the filter, so the
 * filter is never empty (an empty filter means every function there is).
 * Unregistering waits until no callback runs any more.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/trace_recursion.h>
#include <asm/hvcall.h>
#include <asm/kvm_ppc.h>
#include "kt_internal.h"

#define CREATE_TRACE_POINTS
#include "kt_trace.h"

/*
 * The ftrace call sits within the first instructions of a ppc64le
 * function (-mprofile-kernel: after the global entry's TOC setup).
 */
#define KT_SITE_MAX	16

struct kt_hook {
	void *fn;
	const char *name;
	unsigned long opcode;	/* 0: kvm_destroy_vcpus, the VM goes */
	unsigned long filter_ip;	/* the address ftrace accepted for fn */
	bool hooked;
};

#define KT_HCALL_HOOK(sym, op) { .fn = sym, .name = #sym, .opcode = op }

static struct kt_hook kt_hooks[] = {
	KT_HCALL_HOOK(kvmppc_h_put_tce, H_PUT_TCE),
	KT_HCALL_HOOK(kvmppc_h_put_tce_indirect, H_PUT_TCE_INDIRECT),
	KT_HCALL_HOOK(kvmppc_h_stuff_tce, H_STUFF_TCE),
	KT_HCALL_HOOK(kvmppc_h_get_tce, H_GET_TCE),
	{ .fn = kvm_destroy_vcpus, .name = "kvm_destroy_vcpus" },
};

static void kt_ftrace_call(unsigned long ip, unsigned long parent_ip,
			   struct ftrace_ops *op, struct ftrace_regs *fregs);

static struct ftrace_ops kt_ops = {
	.func = kt_ftrace_call,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

static bool kt_intercept = true;
static bool kt_registered;
static DEFINE_MUTEX(kt_hook_lock);

/* Ours for @opcode, with the traced function's arguments. */
static long kt_call(unsigned long opcode, struct pt_regs *regs)
{
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)regs->gpr[3];
	unsigned long *a = &regs->gpr[4];

	switch (opcode) {
	case H_PUT_TCE:
		return kt_h_put_tce(vcpu, a[0], a[1], a[2]);
	case H_PUT_TCE_INDIRECT:
		return kt_h_put_tce_indirect(vcpu, a[0], a[1], a[2], a[3]);
	case H_STUFF_TCE:
		return kt_h_stuff_tce(vcpu, a[0], a[1], a[2], a[3]);
	case H_GET_TCE:
		return kt_h_get_tce(vcpu, a[0], a[1]);
	}
	return KT_STOCK;
}

static void kt_hcall(unsigned long opcode, struct pt_regs *regs)
{
	unsigned long npages = 1;
	bool handled;
	long ret;

	if (opcode == H_PUT_TCE_INDIRECT || opcode == H_STUFF_TCE)
		npages = regs->gpr[7];
	rcu_read_lock();
	ret = kt_call(opcode, regs);
	rcu_read_unlock();
	handled = ret != KT_STOCK;
	trace_kvm_tce_hcall(opcode, regs->gpr[4], regs->gpr[5], regs->gpr[6],
			    npages, handled ? ret : H_TOO_HARD, handled);
	if (!handled)
		return;
	regs->gpr[3] = ret;
	regs_set_return_ip(regs, regs->link);
}

/*
 * @ip is the ftrace call site, within KT_SITE_MAX bytes of the start of
 * the function it belongs to: a site anywhere else is not one of ours
 * (and, past the prologue, its registers would no longer be the
 * arguments), so it is left alone.
 */
static void kt_ftrace_call(unsigned long ip, unsigned long parent_ip,
			   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	unsigned int i;
	int bit;

	if (!regs)
		return;
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	for (i = 0; i < ARRAY_SIZE(kt_hooks); i++) {
		if (ip - (unsigned long)kt_hooks[i].fn > KT_SITE_MAX)
			continue;
		if (kt_hooks[i].opcode)
			kt_hcall(kt_hooks[i].opcode, regs);
		else
			kt_vm_gone((struct kvm *)regs->gpr[3]);
		break;
	}
	ftrace_test_recursion_unlock(bit);
}

/*
 * Put @h's function in the filter: its own address where ftrace maps a
 * function's start to its call site, else the site itself, which
 * -mprofile-kernel puts within KT_SITE_MAX bytes of the start.
 */
static int kt_hook_add(struct kt_hook *h)
{
	unsigned long off;
	int ret = -ENOENT;

	if (h->hooked)
		return 0;
	for (off = 0; off <= KT_SITE_MAX; off += 4) {
		ret = ftrace_set_filter_ip(&kt_ops, (unsigned long)h->fn + off,
					   0, 0);
		if (!ret)
			break;
	}
	if (ret) {
		pr_err("no ftrace site at the start of %s: %d\n", h->name, ret);
		return ret;
	}
	h->filter_ip = (unsigned long)h->fn + off;
	h->hooked = true;
	return 0;
}

static int kt_hook_remove(struct kt_hook *h)
{
	int ret;

	if (!h->hooked)
		return 0;
	ret = ftrace_set_filter_ip(&kt_ops, h->filter_ip, 1, 0);
	if (ret) {
		pr_err("cannot unhook %s: %d\n", h->name, ret);
		return ret;
	}
	h->hooked = false;
	return 0;
}

/* The hcall hooks follow @on; kt_hook_lock held. */
static int kt_hooks_apply(bool on)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(kt_hooks) && !ret; i++) {
		if (!kt_hooks[i].opcode)
			continue;
		ret = on ? kt_hook_add(&kt_hooks[i]) : kt_hook_remove(&kt_hooks[i]);
	}
	return ret;
}

static int kt_intercept_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	mutex_lock(&kt_hook_lock);
	if (kt_registered) {
		ret = kt_hooks_apply(on);
		/* Half applied: back to where it was, all or nothing. */
		if (ret)
			kt_hooks_apply(kt_intercept);
	}
	if (!ret)
		kt_intercept = on;
	mutex_unlock(&kt_hook_lock);
	return ret;
}

static const struct kernel_param_ops kt_intercept_ops = {
	.set = kt_intercept_set,
	.get = param_get_bool,
};
module_param_cb(intercept, &kt_intercept_ops, &kt_intercept, 0644);
MODULE_PARM_DESC(intercept,
		 "Handle H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE and H_GET_TCE here (Y, default) or leave them all to kvm.ko (N); switchable at run time");

/**
 * kt_hook_init() - hook kvm.ko's TCE handlers and kvm_destroy_vcpus().
 *
 * Return: 0; -EINVAL or -ENOENT when a function has no ftrace site at
 * its start; -EBUSY when something else already redirects one of them.
 */
int kt_hook_init(void)
{
	struct kt_hook *destroy = &kt_hooks[ARRAY_SIZE(kt_hooks) - 1];
	int ret;

	mutex_lock(&kt_hook_lock);
	ret = kt_hook_add(destroy);
	if (!ret)
		ret = kt_hooks_apply(kt_intercept);
	if (!ret)
		ret = register_ftrace_function(&kt_ops);
	if (ret) {
		pr_err("cannot hook kvm.ko's TCE handlers: %d\n", ret);
		ftrace_free_filter(&kt_ops);
	} else {
		kt_registered = true;
	}
	mutex_unlock(&kt_hook_lock);
	return ret;
}

/**
 * kt_hook_exit() - unhook; no callback runs afterwards.
 */
void kt_hook_exit(void)
{
	mutex_lock(&kt_hook_lock);
	kt_registered = false;
	unregister_ftrace_function(&kt_ops);
	ftrace_free_filter(&kt_ops);
	mutex_unlock(&kt_hook_lock);
}
