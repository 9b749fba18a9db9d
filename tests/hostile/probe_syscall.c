/* probe_syscall: try system calls and say, one line each, what happened.
 *
 *   probe_syscall NAME...     try the named probes (see `probes` below)
 *   probe_syscall all         try every probe
 *   probe_syscall list        print the probe names
 *   probe_syscall flood P N   P processes each make N denied-looking calls
 *                             (bpf with a bad pointer; N = 0: forever), then
 *                             "flood done": a child that floods the monitor
 *   probe_syscall burst N     one denied-looking call, then N at 0.9 s and N
 *                             more at 1.1 s, then "burst done": 2N calls
 *                             within 0.2 s that straddle the second after the
 *                             first call
 *   probe_syscall orphans N   N processes each print "gc PID", make one
 *                             denied-looking call, then wait forever, while
 *                             the main one waits for them: at a violation
 *                             limit of 1, a tree whose main process dies
 *                             while a tree kill scans it (the others are
 *                             orphaned during the kill)
 *
 * Output: "NAME RESULT", RESULT being "OK" (the call succeeded), the errno
 * name it failed with ("EFAULT"), or "SIGNAME" when the process making it was
 * killed ("SIGSYS"). The try-syscall pattern (after bubblewrap's
 * tests/try-syscall.c): each call is made with arguments the kernel rejects
 * early (a bad pointer, a bad descriptor, bad flags), so that when it is
 * allowed it fails with EFAULT, EBADF or EINVAL and changes nothing, while a
 * filter that denies it gives EPERM or ENOSYS. The few that must succeed to
 * mean anything (a clone with CLONE_NEWUSER, a UDP socket) have harmless side
 * effects. Every probe runs in a forked process, so that side effects stay
 * there and a kill is seen. Does not link the library. */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define BAD ((void *)1) /* a pointer the kernel cannot read */

#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef NETLINK_SOCK_DIAG
#define NETLINK_SOCK_DIAG 4
#endif
#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif
#define SOCK_BAD_TYPE 15 /* >= SOCK_MAX: EINVAL before the family is looked at */

static long s(long nr, long a, long b, long c, long d, long e, long f)
{
    return syscall(nr, a, b, c, d, e, f);
}
#define P(x) ((long)(uintptr_t)(x))

static long sock(long family, long type, long protocol)
{
    return syscall(SYS_socket, family, type, protocol);
}

/* Make standard input, a terminal, the controlling terminal of a new
 * session (not in "all": it acts on the probe's real stdin). OK only when the
 * terminal is then the session's (tcgetsid). */
static long ctty_stdin(int steal)
{
    if (getsid(0) != getpid() && setsid() < 0)
        return -1;
    if (ioctl(0, TIOCSCTTY, steal) != 0)
        return -1;
    if (tcgetsid(0) != getsid(0)) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* clone(2) without a new stack, as fork does; the child exits at once. */
static long clone_flags(unsigned long flags)
{
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid > 0)
        waitpid((pid_t)pid, NULL, 0);
    return pid;
}

static void *thread_main(void *arg)
{
    return arg;
}

static long threads(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        int r = pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i);
        if (r != 0) {
            errno = r;
            return -1;
        }
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        if ((intptr_t)ret != i) {
            errno = EIO;
            return -1;
        }
    }
    return 0;
}

static long int80_getpid(void)
{
#if defined(__x86_64__)
    long ret = 20; /* getpid in the i386 table */
    __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
#else
    errno = ENOSYS;
    return -1;
#endif
}

static long personality_restored(unsigned long persona)
{
    long old = syscall(SYS_personality, 0xffffffffUL);
    long r = syscall(SYS_personality, persona);
    if (r >= 0 && old >= 0)
        syscall(SYS_personality, (unsigned long)old);
    return r;
}

static long try(const char *name)
{
    /* tracing and cross-process access */
    if (!strcmp(name, "ptrace"))
        return s(SYS_ptrace, 16 /* PTRACE_ATTACH */, -1, 0, 0, 0, 0);
    if (!strcmp(name, "process_vm_readv"))
        return s(SYS_process_vm_readv, getpid(), P(BAD), 1, P(BAD), 1, 0);
    if (!strcmp(name, "process_vm_writev"))
        return s(SYS_process_vm_writev, getpid(), P(BAD), 1, P(BAD), 1, 0);
    if (!strcmp(name, "pidfd_getfd"))
        return s(SYS_pidfd_getfd, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "kcmp"))
        return s(SYS_kcmp, getpid(), getpid(), 99, 0, 0, 0);
    if (!strcmp(name, "process_madvise"))
        return s(SYS_process_madvise, -1, 0, 0, 0, 0, 0);
    /* kernel attack surface */
    if (!strcmp(name, "bpf"))
        return s(SYS_bpf, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "perf_event_open"))
        return s(SYS_perf_event_open, 0, 0, -1, -1, 0, 0);
    if (!strcmp(name, "userfaultfd"))
        return s(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */ | 0x40000000, 0, 0, 0, 0, 0);
    if (!strcmp(name, "io_uring_setup"))
        return s(SYS_io_uring_setup, 1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "io_uring_enter"))
        return s(SYS_io_uring_enter, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "io_uring_register"))
        return s(SYS_io_uring_register, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "keyctl"))
        return s(SYS_keyctl, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "add_key"))
        return s(SYS_add_key, 0, 0, 0, 0, 0, 0);
    if (!strcmp(name, "request_key"))
        return s(SYS_request_key, 0, 0, 0, 0, 0, 0);
    if (!strcmp(name, "kexec_load"))
        return s(SYS_kexec_load, 0, 0, 0, 0xffffffffL, 0, 0);
    if (!strcmp(name, "kexec_file_load"))
        return s(SYS_kexec_file_load, -1, -1, 0, 0, 0xffffffffL, 0);
    if (!strcmp(name, "init_module"))
        return s(SYS_init_module, 0, 0, 0, 0, 0, 0);
    if (!strcmp(name, "finit_module"))
        return s(SYS_finit_module, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "delete_module"))
        return s(SYS_delete_module, 0, 0, 0, 0, 0, 0);
    if (!strcmp(name, "acct"))
        return s(SYS_acct, P(BAD), 0, 0, 0, 0, 0);
    if (!strcmp(name, "swapon"))
        return s(SYS_swapon, P(BAD), 0, 0, 0, 0, 0);
    if (!strcmp(name, "swapoff"))
        return s(SYS_swapoff, P(BAD), 0, 0, 0, 0, 0);
    if (!strcmp(name, "reboot"))
        return s(SYS_reboot, 0, 0, 0, 0, 0, 0); /* bad magic */
    if (!strcmp(name, "settimeofday"))
        return s(SYS_settimeofday, P(BAD), 0, 0, 0, 0, 0);
    if (!strcmp(name, "clock_settime"))
        return s(SYS_clock_settime, 0, P(BAD), 0, 0, 0, 0);
    if (!strcmp(name, "clock_adjtime"))
        return s(SYS_clock_adjtime, 0, P(BAD), 0, 0, 0, 0);
    if (!strcmp(name, "adjtimex"))
        return s(SYS_adjtimex, P(BAD), 0, 0, 0, 0, 0);
    if (!strcmp(name, "sethostname"))
        return s(SYS_sethostname, P(BAD), 1, 0, 0, 0, 0);
    if (!strcmp(name, "setdomainname"))
        return s(SYS_setdomainname, P(BAD), 1, 0, 0, 0, 0);
    if (!strcmp(name, "quotactl"))
        return s(SYS_quotactl, 0, 0, 0, 0, 0, 0);
    if (!strcmp(name, "syslog"))
        return s(SYS_syslog, 99, 0, 0, 0, 0, 0);
    if (!strcmp(name, "iopl"))
        return s(SYS_iopl, 99, 0, 0, 0, 0, 0);
    if (!strcmp(name, "ioperm"))
        return s(SYS_ioperm, 0xffffffffL, 1, 1, 0, 0, 0);
    if (!strcmp(name, "fanotify_init"))
        return s(SYS_fanotify_init, 0xffffffffL, 0, 0, 0, 0, 0);
    if (!strcmp(name, "personality_change"))
        return personality_restored(PER_LINUX | ADDR_NO_RANDOMIZE);
    if (!strcmp(name, "personality_linux32"))
        return personality_restored(PER_LINUX32);
    if (!strcmp(name, "personality_query"))
        return syscall(SYS_personality, 0xffffffffUL);
    if (!strcmp(name, "personality_linux"))
        return personality_restored(PER_LINUX);
    /* namespaces and mounts */
    if (!strcmp(name, "unshare"))
        return s(SYS_unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0);
    if (!strcmp(name, "unshare_fs"))
        return s(SYS_unshare, CLONE_FS, 0, 0, 0, 0, 0);
    if (!strcmp(name, "setns"))
        return s(SYS_setns, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "clone_newuser"))
        return clone_flags(CLONE_NEWUSER);
    if (!strcmp(name, "clone_newns"))
        return clone_flags(CLONE_NEWNS);
    if (!strcmp(name, "clone_newnet"))
        return clone_flags(CLONE_NEWNET);
    if (!strcmp(name, "clone_plain"))
        return clone_flags(0);
    if (!strcmp(name, "clone3"))
        return s(SYS_clone3, 0, 0, 0, 0, 0, 0);
    if (!strcmp(name, "mount"))
        return s(SYS_mount, P(BAD), P(BAD), P(BAD), 0, 0, 0);
    if (!strcmp(name, "umount2"))
        return s(SYS_umount2, P(BAD), 0, 0, 0, 0, 0);
    if (!strcmp(name, "pivot_root"))
        return s(SYS_pivot_root, P(BAD), P(BAD), 0, 0, 0, 0);
    if (!strcmp(name, "chroot"))
        return s(SYS_chroot, P(BAD), 0, 0, 0, 0, 0);
    if (!strcmp(name, "fsopen"))
        return s(SYS_fsopen, P(BAD), 0, 0, 0, 0, 0);
    if (!strcmp(name, "fsconfig"))
        return s(SYS_fsconfig, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "fsmount"))
        return s(SYS_fsmount, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "fspick"))
        return s(SYS_fspick, -1, P(BAD), 0, 0, 0, 0);
    if (!strcmp(name, "move_mount"))
        return s(SYS_move_mount, -1, P(BAD), -1, P(BAD), 0, 0);
    if (!strcmp(name, "open_tree"))
        return s(SYS_open_tree, -1, P(BAD), 0, 0, 0, 0);
    if (!strcmp(name, "mount_setattr"))
        return s(SYS_mount_setattr, -1, P(BAD), 0, 0, 0, 0);
    if (!strcmp(name, "open_tree_attr"))
        return s(SYS_open_tree_attr, -1, P(BAD), 0, 0, 0, 0);
    if (!strcmp(name, "open_by_handle_at"))
        return s(SYS_open_by_handle_at, -1, 0, 0, 0, 0, 0);
    if (!strcmp(name, "name_to_handle_at"))
        return s(SYS_name_to_handle_at, -1, P(BAD), P(BAD), P(BAD), 0, 0);
    /* terminals */
    if (!strcmp(name, "tiocsti"))
        return s(SYS_ioctl, -1, TIOCSTI, 0, 0, 0, 0);
    if (!strcmp(name, "tiocsti_high"))
        return s(SYS_ioctl, -1, (long)(TIOCSTI | (1UL << 32)), 0, 0, 0, 0);
    if (!strcmp(name, "tioclinux"))
        return s(SYS_ioctl, -1, TIOCLINUX, 0, 0, 0, 0);
    if (!strcmp(name, "fionread"))
        return s(SYS_ioctl, -1, FIONREAD, 0, 0, 0, 0);
    if (!strcmp(name, "tiocsctty"))
        return s(SYS_ioctl, -1, TIOCSCTTY, 0, 0, 0, 0);
    if (!strcmp(name, "tiocsctty_stdin"))
        return ctty_stdin(0);
    if (!strcmp(name, "tiocsctty_steal_stdin"))
        return ctty_stdin(1);
    if (!strcmp(name, "modify_ldt"))
        return s(SYS_modify_ldt, 1, 0, 0, 0, 0, 0); /* write, 0 bytes: EINVAL */
    /* calls on another process (the parent: the same uid) */
    if (!strcmp(name, "prlimit_parent"))
        return s(SYS_prlimit64, getppid(), RLIMIT_NOFILE, 0, (long)BAD, 0, 0);
    if (!strcmp(name, "prlimit_self"))
        return s(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)BAD, 0, 0);
    if (!strcmp(name, "affinity_parent"))
        return s(SYS_sched_setaffinity, getppid(), 0, (long)BAD, 0, 0, 0);
    if (!strcmp(name, "setpriority_user"))
        return s(SYS_setpriority, PRIO_USER, 4000000, 0, 0, 0, 0); /* nobody has that uid */
    if (!strcmp(name, "robust_list_parent"))
        return s(SYS_get_robust_list, getppid(), (long)BAD, (long)BAD, 0, 0, 0);
    /* anonymous executables */
    if (!strcmp(name, "memfd_exec"))
        return s(SYS_memfd_create, (long)"probe", 0x10 /* MFD_EXEC */, 0, 0, 0, 0);
    if (!strcmp(name, "memfd_noexec"))
        return s(SYS_memfd_create, (long)"probe", 0x8 /* MFD_NOEXEC_SEAL */, 0, 0, 0, 0);
    if (!strcmp(name, "socketpair_unix")) {
        int sv[2];
        return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    }
    /* sockets */
    if (!strcmp(name, "socket_unix"))
        return sock(AF_UNIX, SOCK_STREAM, 0);
    if (!strcmp(name, "socket_tcp"))
        return sock(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!strcmp(name, "socket_tcp6"))
        return sock(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    if (!strcmp(name, "socket_udp"))
        return sock(AF_INET, SOCK_DGRAM, 0);
    if (!strcmp(name, "socket_udp6"))
        return sock(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (!strcmp(name, "socket_raw"))
        return sock(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (!strcmp(name, "socket_sctp"))
        return sock(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (!strcmp(name, "socket_inet_packet"))
        return sock(AF_INET, SOCK_PACKET, 0);
    if (!strcmp(name, "socket_packet"))
        return sock(AF_PACKET, SOCK_BAD_TYPE, 0);
    if (!strcmp(name, "socket_netlink"))
        return sock(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    if (!strcmp(name, "socket_netlink_diag"))
        return sock(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
    if (!strcmp(name, "socket_vsock"))
        return sock(AF_VSOCK, SOCK_BAD_TYPE, 0);
    if (!strcmp(name, "socket_alg"))
        return sock(AF_ALG, SOCK_BAD_TYPE, 0);
    if (!strcmp(name, "socket_family_high"))
        return sock((long)(AF_UNIX | (1UL << 32)), SOCK_STREAM, 0);
    /* foreign entry points */
    if (!strcmp(name, "x32"))
        return syscall(0x40000000L | SYS_getpid);
    if (!strcmp(name, "int80"))
        return int80_getpid();
    /* must still work */
    if (!strcmp(name, "getppid"))
        return syscall(SYS_getppid);
    if (!strcmp(name, "mbind"))
        return s(SYS_mbind, 0, 0, 0, 0, 0, 0); /* not in the base set */
    if (!strcmp(name, "threads"))
        return threads();
    errno = 0;
    return -2;
}

static const char *const probes[] = {"ptrace",
                                     "process_vm_readv",
                                     "process_vm_writev",
                                     "pidfd_getfd",
                                     "kcmp",
                                     "process_madvise",
                                     "bpf",
                                     "perf_event_open",
                                     "userfaultfd",
                                     "io_uring_setup",
                                     "io_uring_enter",
                                     "io_uring_register",
                                     "keyctl",
                                     "add_key",
                                     "request_key",
                                     "kexec_load",
                                     "kexec_file_load",
                                     "init_module",
                                     "finit_module",
                                     "delete_module",
                                     "acct",
                                     "swapon",
                                     "swapoff",
                                     "reboot",
                                     "settimeofday",
                                     "clock_settime",
                                     "clock_adjtime",
                                     "adjtimex",
                                     "sethostname",
                                     "setdomainname",
                                     "quotactl",
                                     "syslog",
                                     "iopl",
                                     "ioperm",
                                     "fanotify_init",
                                     "personality_change",
                                     "personality_linux32",
                                     "personality_query",
                                     "personality_linux",
                                     "unshare",
                                     "unshare_fs",
                                     "setns",
                                     "clone_newuser",
                                     "clone_newns",
                                     "clone_newnet",
                                     "clone_plain",
                                     "clone3",
                                     "mount",
                                     "umount2",
                                     "pivot_root",
                                     "chroot",
                                     "fsopen",
                                     "fsconfig",
                                     "fsmount",
                                     "fspick",
                                     "move_mount",
                                     "open_tree",
                                     "mount_setattr",
                                     "open_tree_attr",
                                     "open_by_handle_at",
                                     "name_to_handle_at",
                                     "tiocsti",
                                     "tiocsti_high",
                                     "tioclinux",
                                     "fionread",
                                     "tiocsctty",
                                     "tiocsctty_steal",
                                     "modify_ldt",
                                     "prlimit_parent",
                                     "prlimit_self",
                                     "affinity_parent",
                                     "setpriority_user",
                                     "robust_list_parent",
                                     "memfd_exec",
                                     "memfd_noexec",
                                     "socketpair_unix",
                                     "socket_unix",
                                     "socket_tcp",
                                     "socket_tcp6",
                                     "socket_udp",
                                     "socket_udp6",
                                     "socket_raw",
                                     "socket_sctp",
                                     "socket_inet_packet",
                                     "socket_packet",
                                     "socket_netlink",
                                     "socket_netlink_diag",
                                     "socket_vsock",
                                     "socket_alg",
                                     "socket_family_high",
                                     "x32",
                                     "int80",
                                     "getppid",
                                     "threads",
                                     "mbind",
                                     NULL};

/* Run one probe in a forked process; print its line. */
static int run(const char *name)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(pipefd[0]);
        errno = 0;
        long r = try(name);
        char line[128];
        if (r == -2 && errno == 0)
            snprintf(line, sizeof(line), "unknown-probe");
        else if (r >= 0)
            snprintf(line, sizeof(line), "OK");
        else
            snprintf(line, sizeof(line), "%s",
                     strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
        if (write(pipefd[1], line, strlen(line)) < 0)
            _exit(2);
        _exit(0);
    }
    close(pipefd[1]);
    char buf[128];
    ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status))
        printf("%s SIG%s\n", name, sigabbrev_np(WTERMSIG(status)));
    else
        printf("%s %.*s\n", name, n > 0 ? (int)n : 1, n > 0 ? buf : "?");
    fflush(stdout);
    return 0;
}

/* P processes, each calling bpf(-1, BAD, 0) N times (forever if N is 0):
 * allowed, each fails with EINVAL at once; denied, each is a violation the
 * host's monitor must count. */
static int flood(int procs, long calls)
{
    for (int i = 0; i < procs; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            for (long k = 0; calls == 0 || k < calls; k++)
                s(SYS_bpf, -1, P(BAD), 0, 0, 0, 0);
            _exit(0);
        }
    }
    int status, failed = 0;
    while (wait(&status) > 0)
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    printf("flood %s\n", failed ? "failed" : "done");
    return failed;
}

/* One bpf(-1, BAD, 0) call, then `calls` at 0.9 s after it and `calls` more
 * at 1.1 s: a burst that a rate counted per second since the first call
 * (windows of [0 s, 1 s), [1.1 s, 2.1 s)) would split in two. */
static int burst(long calls)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s(SYS_bpf, -1, P(BAD), 0, 0, 0, 0);
    for (int half = 0; half < 2; half++) {
        long ns = t0.tv_nsec + (half ? 1100000000L : 900000000L);
        struct timespec at = {t0.tv_sec + ns / 1000000000L, ns % 1000000000L};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
            ;
        for (long k = 0; k < calls; k++)
            s(SYS_bpf, -1, P(BAD), 0, 0, 0, 0);
    }
    printf("burst done\n");
    return 0;
}

static int orphans(int n)
{
    int ready[2];
    if (pipe(ready) != 0)
        return 1;
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0)
            return 1;
        if (c == 0) {
            printf("gc %d\n", (int)getpid());
            fflush(stdout);
            (void)!write(ready[1], "x", 1);
            s(SYS_bpf, -1, P(BAD), 0, 0, 0, 0);
            for (;;)
                pause();
        }
    }
    close(ready[1]);
    char c;
    for (int got = 0; got < n && read(ready[0], &c, 1) == 1; got++)
        ;
    printf("orphans ready\n");
    fflush(stdout);
    for (;;)
        if (wait(NULL) < 0 && errno == ECHILD)
            pause();
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: probe_syscall all|list|NAME...\n");
        return 2;
    }
    if (!strcmp(argv[1], "list")) {
        for (size_t i = 0; probes[i]; i++)
            printf("%s\n", probes[i]);
        return 0;
    }
    if (!strcmp(argv[1], "flood") && argc == 4)
        return flood(atoi(argv[2]), atol(argv[3]));
    if (!strcmp(argv[1], "burst") && argc == 3)
        return burst(atol(argv[2]));
    if (!strcmp(argv[1], "orphans") && argc == 3)
        return orphans(atoi(argv[2]));
    if (!strcmp(argv[1], "all")) {
        for (size_t i = 0; probes[i]; i++)
            if (run(probes[i]) != 0)
                return 1;
        return 0;
    }
    for (int i = 1; i < argc; i++)
        if (run(argv[i]) != 0)
            return 1;
    return 0;
}
