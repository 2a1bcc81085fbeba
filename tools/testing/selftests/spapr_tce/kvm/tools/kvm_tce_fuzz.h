/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest of kvm_tce_fuzz: the ends of the real-mode loop that
 * kvm_tce_fuzz.c assembles (a top-level asm block) and copies into
 * guest memory; it is position independent.
 */
#ifndef KVM_TCE_FUZZ_H
#define KVM_TCE_FUZZ_H

extern const char kf_guest[], kf_guest_end[];

#endif
