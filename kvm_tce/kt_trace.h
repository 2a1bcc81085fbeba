/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the TCE hcall paths:
 *   kvm_tce:kvm_tce_hcall   every intercepted hcall and what became of it
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_tce

#if !defined(KT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KT_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(kvm_tce_hcall,
	    TP_PROTO(unsigned long opcode, unsigned long liobn,
		     unsigned long ioba, unsigned long arg,
		     unsigned long npages, long ret, bool handled),
	    TP_ARGS(opcode, liobn, ioba, arg, npages, ret, handled),
	    TP_STRUCT__entry(__field(unsigned long, opcode)
			     __field(unsigned long, liobn)
			     __field(unsigned long, ioba)
			     __field(unsigned long, arg)
			     __field(unsigned long, npages)
			     __field(long, ret)
			     __field(bool, handled)),
	    TP_fast_assign(__entry->opcode = opcode;
			   __entry->liobn = liobn;
			   __entry->ioba = ioba;
			   __entry->arg = arg;
			   __entry->npages = npages;
			   __entry->ret = ret;
			   __entry->handled = handled;),
	    TP_printk("hcall=0x%lx liobn=0x%lx ioba=0x%lx arg=0x%lx npages=%lu %s ret=%ld",
		      __entry->opcode, __entry->liobn, __entry->ioba,
		      __entry->arg, __entry->npages,
		      __entry->handled ? "handled" : "stock", __entry->ret)
);
#endif

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kt_trace
#include <trace/define_trace.h>
