// SPDX-License-Identifier: GPL-2.0
/*
 * How the handlers are reached: one ftrace callback on each of kvm.ko's
 * exported TCE hcall handlers, which kvm-hv calls in virtual mode. The
 * callback runs at the function's ftrace call, before its prologue, with
 * the function's arguments in the saved argument registers (r3 = vcpu,
 * r4... = the hcall's). When ours answers, it returns that answer to
 * kvm-hv, as the function would: r3 = the PAPR code, nip = kt_answered
 * (kt_answered.S, which says why not kvm-hv's return address itself),
 * so the function never runs and nothing is unwound. When ours says
 * KT_STOCK, nothing is changed and the function runs as if nobody had
 * looked.
 *
 * The ops asks for the argument registers only, never for all of them
 * (no FTRACE_OPS_FL_SAVE_REGS). On powerpc the all-registers trampoline
 * (ftrace_regs_caller, which every kprobe on a function's entry uses)
 * puts back r13, the per-CPU paca pointer, from the copy it took on
 * entry. Under a preemptible kernel (Debian's 7.x: PREEMPT_LAZY) the
 * task can be preempted when the callback's recursion guard re-enables
 * preemption, and resume on another CPU; the stale r13 then names the
 * old CPU's paca, so `current`, the preempt count and the stack
 * protector's canary are another task's: "scheduling while atomic",
 * stack-protector panics, hangs. The argument-only trampoline
 * (ftrace_caller) restores r3-r10 and leaves r13 alone. Should anything
 * else put an all-registers ops on the same function (a kprobe, perf
 * probe), ftrace switches the site to ftrace_regs_caller and the stock
 * kernel's hazard returns; Documentation/kvm_tce.rst says so.
 *
 * Control never enters module code from the traced function's frame:
 * ftrace calls the callback as it calls any tracer, and the answer goes
 * back to kvm-hv's call site, whose TOC is restored by the caller's own
 * call sequence. IPMODIFY makes the hook exclusive: the kernel refuses
 * it on a function something else (livepatch, another module) already
 * redirects.
 *
 * The same ops watches kvm_arch_destroy_vm() (by name: 7.x no longer
 * exports anything a module could link against there) so the VM's
 * counters go with it. Unregistering waits until no callback runs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <asm/hvcall.h>
#include <asm/kvm_ppc.h>
#include <spapr_tce/compat.h>
#include "kt_internal.h"

#define CREATE_TRACE_POINTS
#include "kt_trace.h"

/*
 * The ftrace call sits within the first instructions of a ppc64le
 * function (after the global entry's TOC setup).
 */
#define KT_SITE_MAX	16

struct kt_hook {
	void *fn;
	const char *name;
	unsigned long opcode;
};

#define KT_HCALL_HOOK(sym, op) { .fn = sym, .name = #sym, .opcode = op }

/*
 * The callback looks for its call site in this order: the one-TCE calls,
 * the most frequent and the cheapest, first.
 */
static const struct kt_hook kt_hooks[] = {
	KT_HCALL_HOOK(kvmppc_h_put_tce, H_PUT_TCE),
	KT_HCALL_HOOK(kvmppc_h_get_tce, H_GET_TCE),
	KT_HCALL_HOOK(kvmppc_h_put_tce_indirect, H_PUT_TCE_INDIRECT),
	KT_HCALL_HOOK(kvmppc_h_stuff_tce, H_STUFF_TCE),
};

static const char kt_destroy_fn[] = "kvm_arch_destroy_vm";

static void kt_ftrace_call(unsigned long ip, unsigned long parent_ip,
			   struct ftrace_ops *op, struct ftrace_regs *fregs);

/*
 * PERMANENT: while it is registered, root cannot switch ftrace off
 * (kernel.ftrace_enabled=0) and with it the hook, which would hand our
 * containers' tables to the stock handler and leave a destroyed VM's
 * counters behind.
 */
static struct ftrace_ops kt_ops = {
	.func = kt_ftrace_call,
	.flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT,
};

static bool kt_intercept = true;

/*
 * Ours for @opcode, with the traced function's arguments. Tested in
 * kt_hooks[]' order, as an if-chain: a switch lets the compiler pick
 * the order.
 */
static long kt_call(unsigned long opcode, struct pt_regs *regs)
{
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)regs->gpr[3];
	unsigned long *a = &regs->gpr[4];

	if (opcode == H_PUT_TCE)
		return kt_h_put_tce(vcpu, a[0], a[1], a[2]);
	if (opcode == H_GET_TCE)
		return kt_h_get_tce(vcpu, a[0], a[1]);
	if (opcode == H_PUT_TCE_INDIRECT)
		return kt_h_put_tce_indirect(vcpu, a[0], a[1], a[2], a[3]);
	if (opcode == H_STUFF_TCE)
		return kt_h_stuff_tce(vcpu, a[0], a[1], a[2], a[3]);
	return KT_STOCK;
}

/*
 * The tracepoint's arguments are read only when it is on: read first,
 * they would be held in saved registers across the handler, at a cost
 * to every call. The argument registers are still the call's here:
 * only r3 takes the answer, afterwards.
 */
static noinline void kt_trace_hcall(unsigned long opcode,
				    const struct pt_regs *regs, long ret)
{
	unsigned long npages = 1;
	bool handled = ret != KT_STOCK;

	if (opcode == H_PUT_TCE_INDIRECT || opcode == H_STUFF_TCE)
		npages = regs->gpr[7];
	trace_kvm_tce_hcall(opcode, regs->gpr[4], regs->gpr[5], regs->gpr[6],
			    npages, handled ? ret : H_TOO_HARD, handled);
}

/* Ours answered: return the answer to kvm-hv; KT_STOCK: run the function. */
static __always_inline void kt_hcall(unsigned long opcode,
				     struct pt_regs *regs)
{
	long ret;

	rcu_read_lock();
	ret = kt_call(opcode, regs);
	rcu_read_unlock();
	if (trace_kvm_tce_hcall_enabled())
		kt_trace_hcall(opcode, regs, ret);
	if (ret == KT_STOCK)
		return;
	regs->gpr[3] = ret;
	regs_set_return_ip(regs, (unsigned long)kt_answered);
}

/*
 * @ip is the ftrace call site: within KT_SITE_MAX bytes of the start of
 * one of the hcall handlers, or kvm_arch_destroy_vm()'s, the only other
 * function in the filter. The recursion guard (ours, or on a kernel
 * without CALL_OPS the list function's: spapr_compat_ftrace_trylock())
 * also keeps preemption off, which the handlers' per-CPU staging area
 * and the intercept switch's grace period rely on.
 */
static void notrace kt_ftrace_call(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *op,
				   struct ftrace_regs *fregs)
{
	struct pt_regs *regs = spapr_compat_ftrace_pt_regs(fregs);
	unsigned int i;
	int bit;

	bit = spapr_compat_ftrace_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	/* the guard, ours or the list function's, holds preemption off */
	lockdep_assert_preemption_disabled();
	for (i = 0; i < ARRAY_SIZE(kt_hooks); i++)
		if (ip - (unsigned long)kt_hooks[i].fn <= KT_SITE_MAX)
			break;
	if (i == ARRAY_SIZE(kt_hooks))
		kt_vm_gone((struct kvm *)regs->gpr[3]);
	else if (READ_ONCE(kt_intercept))
		kt_hcall(kt_hooks[i].opcode, regs);
	spapr_compat_ftrace_unlock(bit);
}

/*
 * Put @h's function in the filter: its own address where ftrace maps a
 * function's start to its call site, else the site itself, within
 * KT_SITE_MAX bytes of the start.
 */
static int kt_hook_add(const struct kt_hook *h)
{
	unsigned long off;
	int ret = -ENOENT;

	for (off = 0; off <= KT_SITE_MAX; off += 4) {
		ret = ftrace_set_filter_ip(&kt_ops, (unsigned long)h->fn + off,
					   0, 0);
		if (!ret)
			return 0;
	}
	pr_err("no ftrace site at the start of %s: %d\n", h->name, ret);
	return ret;
}

/*
 * Switching off takes effect for every call that starts after the write
 * returns: the callback reads the switch with preemption off, so one
 * grace period sees every handler that read it on out. Writes are
 * serialised by the module's kernel_param_lock (sysfs) or run alone
 * (load).
 */
static int kt_intercept_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	WRITE_ONCE(kt_intercept, on);
	synchronize_rcu();
	return 0;
}

static const struct kernel_param_ops kt_intercept_ops = {
	.set = kt_intercept_set,
	.get = param_get_bool,
};
module_param_cb(intercept, &kt_intercept_ops, &kt_intercept, 0644);
MODULE_PARM_DESC(intercept,
		 "Handle H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE and H_GET_TCE here (Y, default) or leave them all to kvm.ko (N); switchable at run time");

/**
 * kt_hook_init() - hook kvm.ko's TCE handlers and kvm_arch_destroy_vm().
 *
 * Return: 0; -EINVAL or -ENOENT when a function has no ftrace site at
 * its start; -EBUSY when something else already redirects one of them.
 */
int kt_hook_init(void)
{
	/* ftrace parses the pattern in place: a copy of it */
	unsigned char glob[sizeof(kt_destroy_fn)];
	unsigned int i;
	int ret;

	memcpy(glob, kt_destroy_fn, sizeof(glob));
	ret = ftrace_set_filter(&kt_ops, glob, sizeof(glob) - 1, 0);
	if (ret)
		pr_err("no ftrace site in %s: %d\n", kt_destroy_fn, ret);
	for (i = 0; i < ARRAY_SIZE(kt_hooks) && !ret; i++)
		ret = kt_hook_add(&kt_hooks[i]);
	if (!ret)
		ret = register_ftrace_function(&kt_ops);
	if (ret) {
		pr_err("cannot hook kvm.ko's TCE handlers: %d\n", ret);
		/*
		 * A registration refused for IPMODIFY was on ftrace's list for
		 * a moment: let its readers (preemption off) finish first.
		 */
		synchronize_rcu();
		ftrace_free_filter(&kt_ops);
	}
	return ret;
}

/**
 * kt_hook_exit() - unhook; no callback runs afterwards.
 */
void kt_hook_exit(void)
{
	/* Only a kernel that has switched ftrace off for good refuses. */
	WARN_ON(unregister_ftrace_function(&kt_ops));
	ftrace_free_filter(&kt_ops);
}
