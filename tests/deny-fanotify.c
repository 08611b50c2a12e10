/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* deny-fanotify: runs a program under a seccomp filter that fails fanotify_init with EPERM,
 * as systemd's SystemCallFilter= or systemd-nspawn's default filter do, with every
 * capability left as it is (test-cli checks what lockwarden then says).
 *
 *   deny-fanotify PROGRAM [ARG...]
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#endif

int main(int argc, char **argv) {
#ifdef THIS_ARCH
        struct sock_filter code[] = {
                /* Another architecture's calls: let them be (nothing here makes them). */
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fanotify_init, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

        if (argc < 2) {
                fprintf(stderr, "usage: deny-fanotify PROGRAM [ARG...]\n");
                return 2;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
                fprintf(stderr, "deny-fanotify: cannot install the filter: %s\n", strerror(errno));
                return 77;
        }
        execvp(argv[1], argv + 1);
        fprintf(stderr, "deny-fanotify: %s: %s\n", argv[1], strerror(errno));
        return 127;
#else
        (void) argc;
        (void) argv;
        fprintf(stderr, "deny-fanotify: no filter for this architecture\n");
        return 77;
#endif
}
