/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest of kvm_tce_vmm: labels of the real-mode code that
 * kvm_tce_vmm.c assembles (a top-level asm block) and copies into guest
 * memory. Only their differences are used: the code is position
 * independent.
 */
#ifndef KVM_TCE_GUEST_H
#define KVM_TCE_GUEST_H

extern const char kt_guest[], kt_guest_end[];
extern const char kt_one[], kt_loop[], kt_putget[];

#endif
