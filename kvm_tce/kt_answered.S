/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where kt_hook.c sends an hcall kvm_tce answered: a function that
 * returns to kvm-hv with the answer ftrace put back in r3.
 *
 * Why not send the call straight to kvm-hv's return address: ftrace's
 * exit (arch/powerpc/kernel/trace/ftrace_entry.S) treats a changed
 * instruction pointer as a live-patched function to call, not as a place
 * to go, on two kinds of kernel:
 *
 * - CONFIG_LIVEPATCH_64 (RHEL's and SLES's ppc64le kernels; not
 *   Debian's): it branches there through livepatch_handler, which pushes
 *   the caller's TOC and return address on the thread's livepatch stack
 *   and pops them when that code returns to it, with the link register
 *   pointing back into it. Code in kvm-hv never returns there: every
 *   answered hcall would leave 24 bytes behind, growing up the vCPU
 *   thread's kernel stack from its bottom until it overwrote live
 *   frames. So here the link register is left alone and the blr pops
 *   them.
 * - CONFIG_PPC_FTRACE_OUT_OF_LINE (v6.13 on, Debian's 7.x) without
 *   livepatch: it branches there with blr, so the link register holds
 *   this function's own address, and the return address is in r0 (the
 *   exit loads r0 from pt_regs->link). Earlier kernels leave the same
 *   address in both, so taking r0 is right on all of them.
 *
 * No TOC and no stack are used, so the entry is right however ftrace
 * branches here (livepatch_handler sets r12 for a global entry;
 * ftrace_caller does not).
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>

	.text
SYM_FUNC_START(kt_answered)
#ifndef CONFIG_LIVEPATCH_64
	mtlr	r0
#endif
	blr
SYM_FUNC_END(kt_answered)
