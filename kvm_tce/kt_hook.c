// SPDX-License-Identifier: GPL-2.0
/*
 * How the handlers are reached: a kprobe on each of kvm.ko's exported
 * TCE hcall handlers, which kvm-hv calls in virtual mode. The probe's
 * pre-handler runs ours with the same arguments (r3 = vcpu, r4... =
 * the hcall's); when ours answers, it returns that answer straight to
 * kvm-hv, as the function would (r3 = the PAPR code, nip = the return
 * address in the link register: on ppc64le the probe sits at the
 * function's ftrace call, before its prologue, so nothing is unwound);
 * when ours says KT_STOCK, the stock function runs as if nobody had
 * looked. This is what the kernel's own function-override helper does;
 * that helper is not built into the distribution kernels
 * (FUNCTION_ERROR_INJECTION is off), and ftrace redirection into a
 * module has ELFv2 TOC pitfalls that kprobes do not.
 *
 * One more probe watches kvm_arch_destroy_vm() so a VM's counters go
 * with it. Unregistering waits for running handlers (an RCU grace
 * period), so unloading while guests run leaves only stock behaviour.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <asm/hvcall.h>
#include <asm/kvm_ppc.h>
#include "kt_internal.h"

#define CREATE_TRACE_POINTS
#include "kt_trace.h"

static int kt_pre_hcall(struct kprobe *p, struct pt_regs *regs);
static int kt_pre_destroy(struct kprobe *p, struct pt_regs *regs);

struct kt_probe {
	struct kprobe kp;
	/* The probed function, for the check that the probe landed in it. */
	void *fn;
	unsigned long opcode;	/* an hcall handler: intercept switches it */
};

#define KT_HCALL_PROBE(sym, op) \
	{ .kp = { .symbol_name = #sym, .pre_handler = kt_pre_hcall }, \
	  .fn = sym, .opcode = op }

static struct kt_probe kt_probes[] = {
	KT_HCALL_PROBE(kvmppc_h_put_tce, H_PUT_TCE),
	KT_HCALL_PROBE(kvmppc_h_put_tce_indirect, H_PUT_TCE_INDIRECT),
	KT_HCALL_PROBE(kvmppc_h_stuff_tce, H_STUFF_TCE),
	KT_HCALL_PROBE(kvmppc_h_get_tce, H_GET_TCE),
	{ .kp = { .symbol_name = "kvm_arch_destroy_vm",
		  .pre_handler = kt_pre_destroy } },
};

static bool kt_intercept = true;
static bool kt_registered;
static DEFINE_MUTEX(kt_probe_lock);

/* Ours answered: return @ret to the caller; KT_STOCK: run the function. */
static int kt_finish(struct pt_regs *regs, unsigned long opcode,
		     unsigned long npages, long ret)
{
	bool handled = ret != KT_STOCK;

	trace_kvm_tce_hcall(opcode, regs->gpr[4], regs->gpr[5], regs->gpr[6],
			    npages, handled ? ret : H_TOO_HARD, handled);
	if (!handled)
		return 0;
	regs->gpr[3] = ret;
	regs_set_return_ip(regs, regs->link);
	return 1;
}

/* Ours for @opcode, with the probed function's arguments. */
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

static int kt_pre_hcall(struct kprobe *p, struct pt_regs *regs)
{
	struct kt_probe *probe = container_of(p, struct kt_probe, kp);
	unsigned long npages = 1;
	long ret;

	if (probe->opcode == H_PUT_TCE_INDIRECT || probe->opcode == H_STUFF_TCE)
		npages = regs->gpr[7];
	rcu_read_lock();
	ret = kt_call(probe->opcode, regs);
	rcu_read_unlock();
	return kt_finish(regs, probe->opcode, npages, ret);
}

static int kt_pre_destroy(struct kprobe *p, struct pt_regs *regs)
{
	kt_vm_gone((struct kvm *)regs->gpr[3]);
	return 0;
}

/* Probe state follows the intercept parameter; kt_probe_lock held. */
static void kt_probes_apply(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kt_probes); i++) {
		if (!kt_probes[i].opcode)
			continue;
		if (kt_intercept)
			enable_kprobe(&kt_probes[i].kp);
		else
			disable_kprobe(&kt_probes[i].kp);
	}
}

static int kt_intercept_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	mutex_lock(&kt_probe_lock);
	kt_intercept = on;
	if (kt_registered)
		kt_probes_apply();
	mutex_unlock(&kt_probe_lock);
	return 0;
}

static const struct kernel_param_ops kt_intercept_ops = {
	.set = kt_intercept_set,
	.get = param_get_bool,
};
module_param_cb(intercept, &kt_intercept_ops, &kt_intercept, 0644);
MODULE_PARM_DESC(intercept,
		 "Handle H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE and H_GET_TCE here (Y, default) or leave them all to kvm.ko (N); switchable at run time");

static void kt_unregister(unsigned int n)
{
	while (n--)
		unregister_kprobe(&kt_probes[n].kp);
}

/**
 * kt_probe_init() - plant the probes.
 *
 * Return: 0, or the kprobe error (-ENOENT when kvm.ko's symbols are not
 * where the probes look; -EINVAL when a probe did not land at the start
 * of the function it names).
 */
int kt_probe_init(void)
{
	unsigned int i;
	int ret;

	mutex_lock(&kt_probe_lock);
	for (i = 0; i < ARRAY_SIZE(kt_probes); i++) {
		struct kt_probe *p = &kt_probes[i];
		unsigned long off;

		ret = register_kprobe(&p->kp);
		if (ret) {
			pr_err("cannot probe %s: %d\n", p->kp.symbol_name, ret);
			break;
		}
		/* ELFv2: the ftrace site is a few instructions in. */
		off = (unsigned long)p->kp.addr - (unsigned long)p->fn;
		if (p->fn && off > 16) {
			pr_err("probe on %s landed at %pS, not at its start\n",
			       p->kp.symbol_name, p->kp.addr);
			unregister_kprobe(&p->kp);
			ret = -EINVAL;
			break;
		}
	}
	if (ret) {
		kt_unregister(i);
	} else {
		kt_registered = true;
		kt_probes_apply();
	}
	mutex_unlock(&kt_probe_lock);
	return ret;
}

/**
 * kt_probe_exit() - remove the probes; no handler runs afterwards.
 */
void kt_probe_exit(void)
{
	mutex_lock(&kt_probe_lock);
	kt_registered = false;
	kt_unregister(ARRAY_SIZE(kt_probes));
	mutex_unlock(&kt_probe_lock);
}
