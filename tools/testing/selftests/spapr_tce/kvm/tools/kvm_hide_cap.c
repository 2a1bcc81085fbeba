// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_hide_cap CAP[,CAP...] -- PROGRAM [ARG...]
 *
 * Runs PROGRAM (an unmodified VMM) as if the kernel did not have the KVM
 * capabilities CAP (numbers, as in <linux/kvm.h>): a seccomp filter
 * fails KVM_CHECK_EXTENSION of those with EINVAL, on /dev/kvm and on VM
 * fds alike, and QEMU reads a failed check as "not supported". Nothing
 * else is filtered, and the kernel is not changed.
 *
 * The end-to-end scenario's configuration a uses it to hide
 * KVM_CAP_SPAPR_TCE_VFIO (142): QEMU then keeps the TCE table of a VFIO
 * PHB in userspace and serves its TCE hypercalls itself, as it does on a
 * kernel that cannot link a VFIO group to an in-kernel table.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define MAX_CAPS	16

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(n)	(offsetof(struct seccomp_data, args[n]))
#define ARG_HI(n)	(offsetof(struct seccomp_data, args[n]) + 4)
#define THIS_ARCH	AUDIT_ARCH_PPC64LE
#else
#define ARG_LO(n)	(offsetof(struct seccomp_data, args[n]) + 4)
#define ARG_HI(n)	(offsetof(struct seccomp_data, args[n]))
#define THIS_ARCH	AUDIT_ARCH_PPC64
#endif

static int bad_args(const char *self)
{
	fprintf(stderr, "usage: %s CAP[,CAP...] -- PROGRAM [ARG...]\n", self);
	return 2;
}

static int parse_caps(char *list, unsigned int *caps)
{
	int n = 0;
	char *tok, *end;

	for (tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		unsigned long v = strtoul(tok, &end, 0);

		if (*end || end == tok || v > 0xffffffffUL || n == MAX_CAPS)
			return -1;
		caps[n++] = v;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct sock_filter f[12 + MAX_CAPS];
	struct sock_fprog prog = { .filter = f };
	unsigned int caps[MAX_CAPS];
	int n, i, k = 0;

	if (argc < 4 || strcmp(argv[2], "--"))
		return bad_args(argv[0]);
	n = parse_caps(argv[1], caps);
	if (n <= 0)
		return bad_args(argv[0]);

	/* Anything but ioctl(fd, KVM_CHECK_EXTENSION, <hidden cap>) passes. */
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, n + 5);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KVM_CHECK_EXTENSION,
					      0, n + 3);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(2));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, n + 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2));
	for (i = 0; i < n; i++)
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, caps[i],
						      n - i, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_ERRNO | (EINVAL & SECCOMP_RET_DATA));
	prog.len = k;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("kvm_hide_cap: PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		perror("kvm_hide_cap: seccomp");
		return 1;
	}
	execvp(argv[3], argv + 3);
	fprintf(stderr, "kvm_hide_cap: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
