/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What vfio_spapr offers the in-kernel hcall handlers (kvm_tce): the
 * hardware TCE tables of its v2 containers, and the preregistered memory
 * behind them, for guest H_PUT_TCE & co. on tables linked to a VFIO
 * group.
 *
 * Everything here runs under rcu_read_lock() without sleeping. A TCE is
 * set in two steps, so that a call setting many can check them all
 * before changing any: vfio_spapr_hcall_prepare() takes what the TCE
 * needs (a count on its memory region) and can fail;
 * vfio_spapr_hcall_commit() sets it (vfio_spapr_hcall_commit_run() a run
 * of them under one lock), or vfio_spapr_hcall_abort() gives back what
 * prepare took. vfio_spapr_hcall_clear() clears a range (H_STUFF_TCE).
 */
#ifndef SPAPR_TCE_VFIO_SPAPR_H
#define SPAPR_TCE_VFIO_SPAPR_H

#include <linux/dma-direction.h>
#include <linux/types.h>

struct iommu_table;
struct mm_struct;
struct vs_window;

/* One TCE on its way into a table. */
struct vfio_spapr_tce {
	unsigned long entry;		/* in: TCE index (bus page number) */
	u64 ua;				/* in: user address; unused to clear */
	enum dma_data_direction dir;	/* in: DMA_NONE clears the TCE */
	unsigned long hpa;		/* prepared: host physical address */
	void *region;			/* prepared: the counted region */
	__be64 *slot;			/* prepared: where its user address goes */
};

struct vs_window *vfio_spapr_hcall_window(struct mm_struct *mm,
					  struct iommu_table *tbl);
bool vfio_spapr_hcall_table_ours(struct iommu_table *tbl);
int vfio_spapr_hcall_prepare(struct vs_window *w, struct vfio_spapr_tce *t);
void vfio_spapr_hcall_abort(struct vfio_spapr_tce *t);
long vfio_spapr_hcall_commit(struct vs_window *w, struct vfio_spapr_tce *t);
unsigned int vfio_spapr_hcall_commit_run(struct vs_window *w,
					 struct vfio_spapr_tce *t,
					 unsigned int n);
void vfio_spapr_hcall_clear(struct vs_window *w, unsigned long entry,
			    unsigned long n);
void vfio_spapr_hcall_flush(struct vs_window *w, unsigned long entry,
			    unsigned long n);

#endif
