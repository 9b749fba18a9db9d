/* The seccomp filter: the deny table, the allow-list base set, and the builder
 * that turns them (and a policy's own rules) into a BPF program with
 * libseccomp. docs/seccomp.md mirrors the two tables; a unit test checks that
 * it does.
 *
 * Shape of the program (libseccomp): a check of the architecture (anything but
 * the native one, including x32 numbers on x86_64, kills the process), then a
 * binary tree of the system call numbers that have rules (SCMP_FLTATR_CTL_OPTIMIZE
 * = 2), so that an allowed call costs O(log rules), then the argument checks of
 * that one call. libseccomp 2.5 allows one comparison per argument in a rule,
 * and no "masked not-equal": conditions such as "the low 32 bits are neither
 * A nor B" are written as a small cover of masked-equal rules (see
 * not_either()), and in allow-list mode every argument-checked deny is
 * expressed by its exact complement as allow rules. */
#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <unistd.h>

#include "seccomp_filter.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef SOCK_PACKET
#define SOCK_PACKET 10
#endif

/* ---- the deny table ----------------------------------------------------------
 * One row per system call and condition. This table is the documentation of
 * the default filter: docs/seccomp.md mirrors it. */

#define TRACE    "tracing and cross-process access"
#define OUTSIDE  "processes outside the sandbox"
#define NO_PIDNS "; not filtered in a pid namespace, where the host's processes are out of sight"
#define KERNEL   "kernel attack surface"
#define NS       "namespaces and mounts"

const struct sbx__deny_row sbx__deny_table[] = {
    /* tracing and cross-process access */
    {"ptrace", 0, EPERM, SBX__COND_ALWAYS, "",
     TRACE ": trace, read and write other processes (and rewrite system calls past the filter)",
     false},
    {"process_vm_readv", 0, EPERM, SBX__COND_ALWAYS, "", TRACE ": read another process's memory",
     false},
    {"process_vm_writev", 0, EPERM, SBX__COND_ALWAYS, "", TRACE ": write another process's memory",
     false},
    {"pidfd_getfd", 0, EPERM, SBX__COND_ALWAYS, "",
     TRACE ": take a descriptor from another process", false},
    {"kcmp", 0, EPERM, SBX__COND_ALWAYS, "",
     TRACE ": compare kernel objects of other processes (layout and sharing leaks)", false},
    {"process_madvise", 0, EPERM, SBX__COND_ALWAYS, "",
     TRACE ": act on another process's memory through a pidfd", false},
    /* processes outside the sandbox: without a pid namespace, a pid argument
     * other than 0 (self) could name any process of the uid, the host too */
    {"prlimit64", 0, EPERM, SBX__COND_PID_ARG0, "the pid (first argument) is not 0" NO_PIDNS,
     OUTSIDE ": read or set another process's resource limits (RLIMIT_CPU 1 kills it)", false},
    {"sched_setaffinity", 0, EPERM, SBX__COND_PID_ARG0,
     "the pid (first argument) is not 0" NO_PIDNS, OUTSIDE ": pin another process to CPUs", false},
    {"sched_setscheduler", 0, EPERM, SBX__COND_PID_ARG0,
     "the pid (first argument) is not 0" NO_PIDNS,
     OUTSIDE ": change another process's scheduling policy", false},
    {"sched_setparam", 0, EPERM, SBX__COND_PID_ARG0, "the pid (first argument) is not 0" NO_PIDNS,
     OUTSIDE ": change another process's scheduling priority", false},
    {"sched_setattr", 0, EPERM, SBX__COND_PID_ARG0, "the pid (first argument) is not 0" NO_PIDNS,
     OUTSIDE ": change another process's scheduling attributes", false},
    {"migrate_pages", 0, EPERM, SBX__COND_PID_ARG0, "the pid (first argument) is not 0" NO_PIDNS,
     OUTSIDE ": move another process's memory between NUMA nodes", false},
    {"move_pages", 0, EPERM, SBX__COND_PID_ARG0, "the pid (first argument) is not 0" NO_PIDNS,
     OUTSIDE ": move another process's pages, or read where they are", false},
    {"get_robust_list", 0, EPERM, SBX__COND_PID_ARG0, "the pid (first argument) is not 0" NO_PIDNS,
     OUTSIDE ": read another process's robust futex list (an address: layout leak)", false},
    {"setpriority", 0, EPERM, SBX__COND_PRIO_WHO,
     "which (first argument) is beyond PRIO_PGRP (PRIO_USER: every process of the uid), or who "
     "(second) is not 0" NO_PIDNS,
     OUTSIDE ": renice other processes", false},
    {"ioprio_set", 0, EPERM, SBX__COND_IOPRIO_WHO,
     "which (first argument) is not IOPRIO_WHO_PROCESS or IOPRIO_WHO_PGRP, or who (second) is "
     "not 0" NO_PIDNS,
     OUTSIDE ": change the I/O priority of other processes", false},
    /* kernel attack surface */
    {"bpf", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": BPF programs and maps, often exploited",
     false},
    {"perf_event_open", 0, EPERM, SBX__COND_ALWAYS, "",
     KERNEL ": performance events, often exploited, and side channels", false},
    {"userfaultfd", 0, EPERM, SBX__COND_ALWAYS, "",
     KERNEL ": lets an exploit stall kernel page faults to win races", false},
    {"io_uring_setup", 0, EPERM, SBX__COND_ALWAYS, "",
     KERNEL ": io_uring is a second system-call interface that seccomp cannot see into", false},
    {"io_uring_enter", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": io_uring (see io_uring_setup)",
     false},
    {"io_uring_register", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": io_uring (see io_uring_setup)",
     false},
    {"keyctl", 0, EPERM, SBX__COND_ALWAYS, "",
     KERNEL ": kernel keyrings, shared with the user's session", false},
    {"add_key", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": kernel keyrings (see keyctl)", false},
    {"request_key", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": kernel keyrings (see keyctl)", false},
    {"kexec_load", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": replace the running kernel", false},
    {"kexec_file_load", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": replace the running kernel",
     false},
    {"init_module", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": load a kernel module", false},
    {"finit_module", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": load a kernel module", false},
    {"delete_module", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": unload a kernel module", false},
    {"acct", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": process accounting into a chosen file",
     false},
    {"swapon", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": add swap", false},
    {"swapoff", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": remove swap", false},
    {"reboot", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": reboot or halt the machine", false},
    {"settimeofday", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": set the system clock", false},
    {"clock_settime", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": set the system clock", false},
    {"clock_adjtime", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": adjust the system clock", false},
    {"adjtimex", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": adjust the system clock", false},
    {"sethostname", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": rename the host", false},
    {"setdomainname", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": rename the host's NIS domain",
     false},
    {"quotactl", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": disk quotas", false},
    {"quotactl_fd", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": disk quotas", false},
    {"lookup_dcookie", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": profiling interface, leaks paths",
     false},
    {"syslog", 0, EPERM, SBX__COND_ALWAYS, "",
     KERNEL ": read or clear the kernel log (kernel addresses)", false},
    {"vhangup", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": hang up the terminal", false},
    {"iopl", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": raw I/O port access", false},
    {"modify_ldt", 0, EPERM, SBX__COND_ALWAYS, "",
     KERNEL ": the local descriptor table (16-bit segments), an old exploit aid", false},
    {"lsm_set_self_attr", 0, EPERM, SBX__COND_ALWAYS, "",
     KERNEL ": change this process's security-module attributes (an AppArmor or SELinux "
            "transition), as writing /proc/self/attr does, which Landlock denies",
     false},
    {"ioperm", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": raw I/O port access", false},
    {"fanotify_init", 0, EPERM, SBX__COND_ALWAYS, "",
     KERNEL ": watch and intercept file system activity", false},
    {"nfsservctl", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": removed interface", false},
    {"uselib", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": obsolete loader interface", false},
    {"_sysctl", 0, EPERM, SBX__COND_ALWAYS, "", KERNEL ": removed interface", false},
    {"personality", 0, EPERM, SBX__COND_PERSONALITY,
     "the low 32 bits of the persona are neither 0xffffffff (query) nor PER_LINUX",
     KERNEL ": execution domains that weaken the process (ADDR_NO_RANDOMIZE, "
            "READ_IMPLIES_EXEC, MMAP_PAGE_ZERO, 32-bit layouts)",
     false},
    /* namespaces and mounts */
    {"unshare", 0, EPERM, SBX__COND_ALWAYS, "",
     NS ": new namespaces open kernel surface meant for root (and root inside them)", false},
    {"setns", 0, EPERM, SBX__COND_ALWAYS, "", NS ": enter another namespace", false},
    {"clone", 0, EPERM, SBX__COND_CLONE_NS,
     "flags (first argument) with CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID or "
     "NEWNET",
     NS ": create namespaces", false},
    {"clone3", 0, ENOSYS, SBX__COND_ALWAYS, "",
     NS ": its flags are in memory the filter cannot read; ENOSYS makes libc fall back to "
        "clone, whose flags are checked (glibc tries clone3 first in pthread_create and "
        "posix_spawn: not reported as a violation)",
     true},
    {"mount", 0, EPERM, SBX__COND_ALWAYS, "", NS ": change the mount table", false},
    {"umount2", 0, EPERM, SBX__COND_ALWAYS, "", NS ": change the mount table", false},
    {"pivot_root", 0, EPERM, SBX__COND_ALWAYS, "", NS ": change the root file system", false},
    {"chroot", 0, EPERM, SBX__COND_ALWAYS, "", NS ": change the root directory", false},
    {"fsopen", 0, EPERM, SBX__COND_ALWAYS, "", NS ": the new mount API", false},
    {"fsconfig", 0, EPERM, SBX__COND_ALWAYS, "", NS ": the new mount API", false},
    {"fsmount", 0, EPERM, SBX__COND_ALWAYS, "", NS ": the new mount API", false},
    {"fspick", 0, EPERM, SBX__COND_ALWAYS, "", NS ": the new mount API", false},
    {"move_mount", 0, EPERM, SBX__COND_ALWAYS, "", NS ": the new mount API", false},
    {"open_tree", 0, EPERM, SBX__COND_ALWAYS, "", NS ": the new mount API", false},
    {"mount_setattr", 0, EPERM, SBX__COND_ALWAYS, "", NS ": the new mount API", false},
    {"open_tree_attr", 467, EPERM, SBX__COND_ALWAYS, "", NS ": the new mount API (Linux 6.15)",
     false},
    /* file handles */
    {"open_by_handle_at", 0, EPERM, SBX__COND_ALWAYS, "",
     "file handles: open any file of a file system by handle, past path checks "
     "(the \"shocker\" container escape)",
     false},
    {"name_to_handle_at", 0, EPERM, SBX__COND_ALWAYS, "",
     "file handles: obtain handles for open_by_handle_at", false},
    /* terminals */
    {"ioctl", 0, EPERM, SBX__COND_TTY_IOCTL,
     "the low 32 bits of the request (second argument) are TIOCSTI or TIOCLINUX; or "
     "TIOCSCTTY with a non-zero third argument when the policy keeps CAP_SYS_ADMIN",
     "terminal injection: TIOCSTI pushes input into a terminal the host reads, TIOCLINUX "
     "controls the console, TIOCSCTTY with its argument 1 and CAP_SYS_ADMIN steals another "
     "session's terminal as controlling terminal (without them it takes a terminal no session "
     "has: forkpty, login_tty and script, which pty sessions need)",
     false},
    /* anonymous executables */
    {"memfd_create", 0, EACCES, SBX__COND_MEMFD_EXEC,
     "flags (second argument) without MFD_NOEXEC_SEAL; with the violation monitor, such a call "
     "is made again by the host with MFD_NOEXEC_SEAL added and succeeds (only MFD_EXEC is "
     "denied and reported)",
     "exec allow-list: a memfd lives on an internal mount that Landlock does not check, so an "
     "executable one would run any program (fexecve, execveat AT_EMPTY_PATH, /proc/self/fd/N)",
     false},
    /* sockets */
    {"socket", 0, EPERM, SBX__COND_SOCKET_FAMILY,
     "a family other than AF_UNIX, AF_INET and AF_INET6; with the network granted, AF_NETLINK "
     "with NETLINK_ROUTE too",
     "sockets: packet, netlink, vsock, bluetooth, alg, ... families are kernel surface and "
     "bypass network controls",
     false},
    {"socket", 0, EPERM, SBX__COND_SOCKET_INET,
     "AF_INET or AF_INET6 and, without the network granted, a type other than SOCK_STREAM or a "
     "protocol other than 0 and IPPROTO_TCP; with it, type SOCK_PACKET",
     "sockets: Landlock governs TCP only, so UDP, raw, SCTP and MPTCP sockets are denied unless "
     "the network is granted; SOCK_PACKET is a packet socket in disguise",
     false},
    {"socket", 0, EPERM, SBX__COND_SOCKET_UNIX,
     "family AF_UNIX, without the mount namespace's view (which shows no host socket); "
     "socketpair stays allowed",
     "host unix sockets: no other layer checks connect() to a pathname socket (docker.sock, "
     "D-Bus, ssh-agent, /dev/log), and SCM_RIGHTS would pass descriptors both ways (glibc probes "
     "nscd through one in every program that looks a user up: not reported)",
     true},
};
const size_t sbx__deny_table_len = sizeof(sbx__deny_table) / sizeof(sbx__deny_table[0]);

/* ---- the allow-list base set --------------------------------------------------
 * Found with `strace -f -c` of python3 (threads, subprocess, sockets, files),
 * sh/bash pipelines with coreutils, gcc (cc1, as, collect2, ld) and git (init,
 * add, commit, log, branch, checkout, diff, gc, clone), then completed with
 * the neighbours of each call a library may use instead (the *at, v, 64 and
 * 2 variants, the poll and timer families). */

static const char *const base_files[] = {"read",
                                         "write",
                                         "open",
                                         "openat",
                                         "openat2",
                                         "creat",
                                         "close",
                                         "close_range",
                                         "lseek",
                                         "pread64",
                                         "pwrite64",
                                         "readv",
                                         "writev",
                                         "preadv",
                                         "pwritev",
                                         "preadv2",
                                         "pwritev2",
                                         "sendfile",
                                         "copy_file_range",
                                         "splice",
                                         "tee",
                                         "dup",
                                         "dup2",
                                         "dup3",
                                         "fcntl",
                                         "flock",
                                         "fsync",
                                         "fdatasync",
                                         "sync",
                                         "syncfs",
                                         "sync_file_range",
                                         "fadvise64",
                                         "readahead",
                                         "fallocate",
                                         "truncate",
                                         "ftruncate",
                                         "stat",
                                         "fstat",
                                         "lstat",
                                         "newfstatat",
                                         "statx",
                                         "statfs",
                                         "fstatfs",
                                         "access",
                                         "faccessat",
                                         "faccessat2",
                                         "getdents",
                                         "getdents64",
                                         "getcwd",
                                         "chdir",
                                         "fchdir",
                                         "mkdir",
                                         "mkdirat",
                                         "rmdir",
                                         "rename",
                                         "renameat",
                                         "renameat2",
                                         "link",
                                         "linkat",
                                         "unlink",
                                         "unlinkat",
                                         "symlink",
                                         "symlinkat",
                                         "readlink",
                                         "readlinkat",
                                         "chmod",
                                         "fchmod",
                                         "fchmodat",
                                         "fchmodat2",
                                         "chown",
                                         "fchown",
                                         "lchown",
                                         "fchownat",
                                         "umask",
                                         "utime",
                                         "utimes",
                                         "utimensat",
                                         "futimesat",
                                         "mknod",
                                         "mknodat",
                                         "getxattr",
                                         "lgetxattr",
                                         "fgetxattr",
                                         "listxattr",
                                         "llistxattr",
                                         "flistxattr",
                                         "setxattr",
                                         "lsetxattr",
                                         "fsetxattr",
                                         "removexattr",
                                         "lremovexattr",
                                         "fremovexattr",
                                         "memfd_create",
                                         "inotify_init",
                                         "inotify_init1",
                                         "inotify_add_watch",
                                         "inotify_rm_watch",
                                         "ioctl", /* argument-checked: no TIOCSTI, TIOCLINUX */
                                         NULL};
static const char *const base_memory[] = {"brk",      "mmap",    "munmap",     "mremap",
                                          "mprotect", "madvise", "msync",      "mincore",
                                          "mlock",    "munlock", "membarrier", NULL};
static const char *const base_processes[] = {
    "fork",
    "vfork",
    "clone", /* argument-checked: no CLONE_NEW* */
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "getpid",
    "getppid",
    "gettid",
    "getpgid",
    "getpgrp",
    "setpgid",
    "getsid",
    "setsid",
    "set_tid_address",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "futex",
    "futex_waitv",
    "arch_prctl",
    "prctl",
    "prlimit64",
    "getrlimit",
    "setrlimit",
    "getrusage",
    "times",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_rr_get_interval",
    "getpriority",
    "setpriority",
    "getcpu",
    "personality", /* argument-checked: query and PER_LINUX only */
    "uname",
    "sysinfo",
    "getrandom",
    "pidfd_open",
    "pidfd_send_signal",
    "kill",
    "tkill",
    "tgkill",
    "capget",
    "capset",
    "seccomp",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    NULL};
static const char *const base_ids[] = {
    "getuid",    "geteuid",   "getgid",   "getegid",  "getresuid", "getresgid",
    "getgroups", "setuid",    "setgid",   "setreuid", "setregid",  "setresuid",
    "setresgid", "setgroups", "setfsuid", "setfsgid", NULL};
static const char *const base_signals[] = {"rt_sigaction",
                                           "rt_sigprocmask",
                                           "rt_sigreturn",
                                           "rt_sigsuspend",
                                           "rt_sigpending",
                                           "rt_sigtimedwait",
                                           "rt_sigqueueinfo",
                                           "rt_tgsigqueueinfo",
                                           "sigaltstack",
                                           "pause",
                                           "alarm",
                                           "getitimer",
                                           "setitimer",
                                           "timer_create",
                                           "timer_settime",
                                           "timer_gettime",
                                           "timer_getoverrun",
                                           "timer_delete",
                                           "signalfd",
                                           "signalfd4",
                                           "restart_syscall",
                                           NULL};
static const char *const base_time[] = {
    "clock_gettime", "clock_getres",   "clock_nanosleep", "nanosleep",       "gettimeofday",
    "time",          "timerfd_create", "timerfd_settime", "timerfd_gettime", NULL};
static const char *const base_events[] = {
    "pipe",          "pipe2",     "eventfd",    "eventfd2",    "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "poll",          "ppoll",     "select",     "pselect6",    NULL};
static const char *const base_sockets[] = {
    "socket", /* argument-checked: families, and UDP/raw without the network */
    "socketpair",  "connect",     "accept",   "accept4",    "bind",       "listen",
    "getsockname", "getpeername", "sendto",   "recvfrom",   "sendmsg",    "recvmsg",
    "sendmmsg",    "recvmmsg",    "shutdown", "setsockopt", "getsockopt", NULL};

const struct sbx__base_group sbx__base_set[] = {
    {"files, directories and descriptors", base_files},
    {"memory", base_memory},
    {"processes, threads and scheduling", base_processes},
    {"user and group ids", base_ids},
    {"signals and timers", base_signals},
    {"time", base_time},
    {"pipes, events and polling", base_events},
    {"sockets", base_sockets},
};
const size_t sbx__base_set_len = sizeof(sbx__base_set) / sizeof(sbx__base_set[0]);

const char *const sbx__undeniable[] = {"execve", "sendmsg",    "close", "rt_sigprocmask",
                                       "exit",   "exit_group", NULL};

/* ---- names ------------------------------------------------------------------- */

#if defined(__x86_64__)
/* x86_64 calls newer than libseccomp 2.5.4's tables. */
static const struct {
    const char *name;
    int nr;
} extra_names[] = {
    {"uretprobe", 335},
    {"statmount", 457},
    {"listmount", 458},
    {"lsm_get_self_attr", 459},
    {"lsm_set_self_attr", 460},
    {"lsm_list_modules", 461},
    {"mseal", 462},
    {"setxattrat", 463},
    {"getxattrat", 464},
    {"listxattrat", 465},
    {"removexattrat", 466},
    {"open_tree_attr", 467},
    {"file_getattr", 468},
    {"file_setattr", 469},
};
#define N_EXTRA_NAMES (sizeof(extra_names) / sizeof(extra_names[0]))
#else
#define N_EXTRA_NAMES 0
#endif

int sbx__syscall_resolve(const char *name)
{
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
    if (nr >= 0)
        return nr; /* negative: unknown, or a pseudo-number for another architecture */
#if defined(__x86_64__)
    for (size_t i = 0; i < N_EXTRA_NAMES; i++)
        if (strcmp(extra_names[i].name, name) == 0)
            return extra_names[i].nr;
#endif
    return -1;
}

bool sbx__syscall_undeniable(int nr)
{
    for (size_t i = 0; sbx__undeniable[i]; i++)
        if (sbx__syscall_resolve(sbx__undeniable[i]) == nr)
            return true;
    return false;
}

void sbx__syscall_name(uint32_t arch, int nr, char *buf, size_t size)
{
    char *name = seccomp_syscall_resolve_num_arch(arch, nr);
    if (name) {
        snprintf(buf, size, "%s", name);
        free(name);
        return;
    }
#if defined(__x86_64__)
    if (arch == SCMP_ARCH_X86_64 || arch == SCMP_ARCH_NATIVE)
        for (size_t i = 0; i < N_EXTRA_NAMES; i++)
            if (extra_names[i].nr == nr) {
                snprintf(buf, size, "%s", extra_names[i].name);
                return;
            }
#endif
    snprintf(buf, size, "syscall_%d", nr);
}

static int row_nr(const struct sbx__deny_row *row)
{
    int nr = sbx__syscall_resolve(row->name);
    if (nr < 0 && row->fallback_nr > 0) {
#if defined(__x86_64__)
        nr = row->fallback_nr;
#endif
    }
    return nr;
}

/* ---- argument conditions as clauses -------------------------------------------
 * A clause is a conjunction of up to three comparisons (one per argument: a
 * libseccomp rule); a condition is a disjunction of clauses. */

#define MAX_CLAUSES 80

struct clause {
    unsigned n;
    struct scmp_arg_cmp cmp[3];
};

struct clauses {
    size_t n;
    struct clause v[MAX_CLAUSES];
};

static struct scmp_arg_cmp cmp_of(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
    return (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = a, .datum_b = b};
}

/* Add a clause: `prefix` (n_prefix comparisons, may be 0) and `last`. */
static void add_clause(struct clauses *cs, const struct scmp_arg_cmp *prefix, unsigned n_prefix,
                       struct scmp_arg_cmp last)
{
    if (cs->n >= MAX_CLAUSES)
        abort(); /* a table bug, caught by the unit tests */
    struct clause *c = &cs->v[cs->n++];
    c->n = 0;
    for (unsigned i = 0; i < n_prefix; i++)
        c->cmp[c->n++] = prefix[i];
    c->cmp[c->n++] = last;
}

/* The low 32 bits of `arg` are neither x nor y. Outside the bits where x and y
 * differ (D), one clause per bit "differs from x there"; within D, z^x must
 * be neither all zeros (z = x) nor all ones (z = y): a cyclic cover "differs
 * from x at d_j and equals x at d_(j+1)". With x = 0, y = 0xffffffff this is
 * 32 clauses; with TIOCSTI, TIOCLINUX (D = 0xe) 29 + 3. */
static void not_either(struct clauses *cs, const struct scmp_arg_cmp *prefix, unsigned n_prefix,
                       unsigned arg, uint32_t x, uint32_t y)
{
    uint32_t d = x ^ y;
    int dbits[32], k = 0;
    for (int i = 0; i < 32; i++) {
        uint32_t bit = 1u << i;
        if (d & bit)
            dbits[k++] = i;
        else
            add_clause(cs, prefix, n_prefix, cmp_of(arg, SCMP_CMP_MASKED_EQ, bit, ~x & bit));
    }
    if (k < 2)
        return;
    for (int j = 0; j < k; j++) {
        uint32_t a = 1u << dbits[j], b = 1u << dbits[(j + 1) % k];
        add_clause(cs, prefix, n_prefix,
                   cmp_of(arg, SCMP_CMP_MASKED_EQ, a | b, (~x & a) | (x & b)));
    }
}

/* The full 64-bit `arg` lies in [lo, hi]: aligned power-of-two blocks. */
static void in_range(struct clauses *cs, const struct scmp_arg_cmp *prefix, unsigned n_prefix,
                     unsigned arg, uint64_t lo, uint64_t hi)
{
    while (lo <= hi) {
        uint64_t size = 1;
        while ((lo & (size * 2 - 1)) == 0 && lo + size * 2 - 1 <= hi)
            size *= 2;
        add_clause(cs, prefix, n_prefix, cmp_of(arg, SCMP_CMP_MASKED_EQ, ~(size - 1), lo));
        lo += size;
    }
}

/* The full 64-bit `arg` is none of `allowed` (sorted, small values). */
static void not_in(struct clauses *cs, const struct scmp_arg_cmp *prefix, unsigned n_prefix,
                   unsigned arg, const uint64_t *allowed, size_t n)
{
    uint64_t lo = 0;
    for (size_t i = 0; i < n; i++) {
        if (allowed[i] > lo)
            in_range(cs, prefix, n_prefix, arg, lo, allowed[i] - 1);
        lo = allowed[i] + 1;
    }
    add_clause(cs, prefix, n_prefix, cmp_of(arg, SCMP_CMP_GT, allowed[n - 1], 0));
}

static const uint32_t clone_ns_flags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                          CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                          CLONE_NEWNET};
#define CLONE_NS_MASK                                                                              \
    (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |  \
     CLONE_NEWNET)
#define PERSONA_QUERY  0xffffffffu
#define SOCK_TYPE_BITS 0xfu
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008u
#endif

static const uint32_t tty_requests[] = {TIOCSTI, TIOCLINUX, TIOCSCTTY};

/* The low 32 bits of `arg` are none of `values` (a few, differing in few
 * bits): a bit outside those where they differ (D) differs from their common
 * value, or the bits within D are none of theirs. */
static void not_in32(struct clauses *cs, unsigned arg, const uint32_t *values, size_t n)
{
    uint32_t d = 0;
    for (size_t i = 1; i < n; i++)
        d |= values[i] ^ values[0];
    for (int i = 0; i < 32; i++) {
        uint32_t bit = 1u << i;
        if (!(d & bit))
            add_clause(cs, NULL, 0, cmp_of(arg, SCMP_CMP_MASKED_EQ, bit, ~values[0] & bit));
    }
    uint32_t sub = d;
    do { /* every combination of the bits of D, 0 included */
        bool taken = false;
        for (size_t i = 0; i < n; i++)
            taken |= (values[i] & d) == sub;
        if (!taken)
            add_clause(cs, NULL, 0, cmp_of(arg, SCMP_CMP_MASKED_EQ, d, sub));
        sub = (sub - 1) & d;
    } while (sub != d);
}

/* The clauses under which a row denies (none: the row does not apply). */
static void deny_clauses(enum sbx__cond cond, const struct sbx__filter_spec *spec,
                         struct clauses *cs)
{
    bool network = spec->network;
    switch (cond) {
    case SBX__COND_ALWAYS: break;
    case SBX__COND_CLONE_NS:
        for (size_t i = 0; i < sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]); i++)
            add_clause(cs, NULL, 0,
                       cmp_of(0, SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]));
        break;
    case SBX__COND_TTY_IOCTL: /* TIOCSCTTY only with its "steal" argument (see the row) */
        for (size_t i = 0; i < sizeof(tty_requests) / sizeof(tty_requests[0]); i++) {
            struct scmp_arg_cmp req = cmp_of(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_requests[i]);
            if (tty_requests[i] == TIOCSCTTY) {
                if (spec->sys_admin)
                    add_clause(cs, &req, 1, cmp_of(2, SCMP_CMP_NE, 0, 0));
            } else
                add_clause(cs, NULL, 0, req);
        }
        break;
    case SBX__COND_SOCKET_UNIX:
        if (!spec->unix_sockets)
            add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_EQ, AF_UNIX, 0));
        break;
    case SBX__COND_MEMFD_EXEC:
        add_clause(cs, NULL, 0, cmp_of(1, SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL, 0));
        break;
    case SBX__COND_PID_ARG0:
        if (!spec->pid_ns)
            add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_NE, 0, 0));
        break;
    case SBX__COND_PRIO_WHO: /* allowed: (PRIO_PROCESS or PRIO_PGRP, 0) */
        if (!spec->pid_ns) {
            add_clause(cs, NULL, 0, cmp_of(1, SCMP_CMP_NE, 0, 0));
            add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_GT, 1, 0));
        }
        break;
    case SBX__COND_IOPRIO_WHO: /* allowed: (IOPRIO_WHO_PROCESS or _PGRP, 0) */
        if (!spec->pid_ns) {
            add_clause(cs, NULL, 0, cmp_of(1, SCMP_CMP_NE, 0, 0));
            add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_EQ, 0, 0));
            add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_GT, 2, 0));
        }
        break;
    case SBX__COND_PERSONALITY: not_either(cs, NULL, 0, 0, PER_LINUX, PERSONA_QUERY); break;
    case SBX__COND_SOCKET_FAMILY: {
        static const uint64_t plain[] = {AF_UNIX, AF_INET, AF_INET6};
        static const uint64_t with_netlink[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
        if (network) {
            not_in(cs, NULL, 0, 0, with_netlink, 4);
            /* netlink: NETLINK_ROUTE (0) only */
            struct scmp_arg_cmp fam = cmp_of(0, SCMP_CMP_EQ, AF_NETLINK, 0);
            add_clause(cs, &fam, 1, cmp_of(2, SCMP_CMP_GT, 0, 0));
        } else {
            not_in(cs, NULL, 0, 0, plain, 3);
        }
        break;
    }
    case SBX__COND_SOCKET_INET: {
        static const uint64_t tcp_protocols[] = {0, IPPROTO_TCP};
        static const int families[] = {AF_INET, AF_INET6};
        for (size_t f = 0; f < 2; f++) {
            struct scmp_arg_cmp fam = cmp_of(0, SCMP_CMP_EQ, (uint64_t)families[f], 0);
            if (network) {
                add_clause(cs, &fam, 1, cmp_of(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_BITS, SOCK_PACKET));
                continue;
            }
            /* type & 0xf != SOCK_STREAM (1): bit 0 clear, or any of bits 1-3 set */
            add_clause(cs, &fam, 1, cmp_of(1, SCMP_CMP_MASKED_EQ, 1, 0));
            for (uint32_t bit = 2; bit <= 8; bit <<= 1)
                add_clause(cs, &fam, 1, cmp_of(1, SCMP_CMP_MASKED_EQ, bit, bit));
            not_in(cs, &fam, 1, 2, tcp_protocols, 2);
        }
        break;
    }
    }
}

/* The exact complement of the deny clauses of a base-set call whose rows are
 * all argument-checked: the calls allow-list mode lets through. */
static int allow_clauses(const char *name, const struct sbx__filter_spec *spec, struct clauses *cs)
{
    bool network = spec->network;
    static const struct clause always = {0};
    if (strcmp(name, "clone") == 0) {
        add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_MASKED_EQ, CLONE_NS_MASK, 0));
    } else if (strcmp(name, "ioctl") == 0) {
        not_in32(cs, 1, tty_requests, sizeof(tty_requests) / sizeof(tty_requests[0]));
        struct scmp_arg_cmp own = cmp_of(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSCTTY);
        if (spec->sys_admin)
            add_clause(cs, &own, 1, cmp_of(2, SCMP_CMP_EQ, 0, 0));
        else
            add_clause(cs, NULL, 0, own);
    } else if (strcmp(name, "memfd_create") == 0) {
        add_clause(cs, NULL, 0, cmp_of(1, SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL, MFD_NOEXEC_SEAL));
    } else if (strcmp(name, "prlimit64") == 0 || strcmp(name, "sched_setaffinity") == 0 ||
               strcmp(name, "get_robust_list") == 0) {
        if (spec->pid_ns)
            cs->v[cs->n++] = always;
        else
            add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_EQ, 0, 0));
    } else if (strcmp(name, "setpriority") == 0) {
        if (spec->pid_ns) {
            cs->v[cs->n++] = always;
        } else {
            struct scmp_arg_cmp process = cmp_of(1, SCMP_CMP_EQ, 0, 0);
            add_clause(cs, &process, 1, cmp_of(0, SCMP_CMP_EQ, 0, 0));
            add_clause(cs, &process, 1, cmp_of(0, SCMP_CMP_EQ, 1, 0));
        }
    } else if (strcmp(name, "personality") == 0) {
        add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_MASKED_EQ, 0xffffffffu, PER_LINUX));
        add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_MASKED_EQ, 0xffffffffu, PERSONA_QUERY));
    } else if (strcmp(name, "socket") == 0) {
        if (spec->unix_sockets)
            add_clause(cs, NULL, 0, cmp_of(0, SCMP_CMP_EQ, AF_UNIX, 0));
        static const int families[] = {AF_INET, AF_INET6};
        for (size_t f = 0; f < 2; f++) {
            struct scmp_arg_cmp fam = cmp_of(0, SCMP_CMP_EQ, (uint64_t)families[f], 0);
            if (network) {
                /* type & 0xf != SOCK_PACKET (0b1010) */
                add_clause(cs, &fam, 1, cmp_of(1, SCMP_CMP_MASKED_EQ, 1, 1));
                add_clause(cs, &fam, 1, cmp_of(1, SCMP_CMP_MASKED_EQ, 2, 0));
                add_clause(cs, &fam, 1, cmp_of(1, SCMP_CMP_MASKED_EQ, 4, 4));
                add_clause(cs, &fam, 1, cmp_of(1, SCMP_CMP_MASKED_EQ, 8, 0));
            } else {
                struct scmp_arg_cmp pre[2] = {
                    fam, cmp_of(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_BITS, SOCK_STREAM)};
                add_clause(cs, pre, 2, cmp_of(2, SCMP_CMP_EQ, 0, 0));
                add_clause(cs, pre, 2, cmp_of(2, SCMP_CMP_EQ, IPPROTO_TCP, 0));
            }
        }
        if (network) {
            struct scmp_arg_cmp fam = cmp_of(0, SCMP_CMP_EQ, AF_NETLINK, 0);
            add_clause(cs, &fam, 1, cmp_of(2, SCMP_CMP_EQ, 0, 0));
        }
    } else {
        return -EINVAL; /* an argument-checked row without its complement: a table bug */
    }
    return 0;
}

/* ---- building ---------------------------------------------------------------- */

static const struct sbx__filter_rule *find_rule(const struct sbx__filter_spec *spec, int nr)
{
    for (size_t i = 0; i < spec->n_rules; i++)
        if (spec->rules[i].nr == nr)
            return &spec->rules[i];
    return NULL;
}

static bool in_base_set(int nr)
{
    for (size_t g = 0; g < sbx__base_set_len; g++)
        for (const char *const *n = sbx__base_set[g].names; *n; n++)
            if (sbx__syscall_resolve(*n) == nr)
                return true;
    return false;
}

static uint32_t deny_action(bool notify, int error)
{
    if (error < 0)
        return SCMP_ACT_KILL_PROCESS;
    return notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO((uint32_t)error);
}

static int add_rule(scmp_filter_ctx ctx, uint32_t def, uint32_t action, int nr,
                    const struct clause *c)
{
    if (action == def)
        return 0; /* libseccomp refuses rules that repeat the default */
    return seccomp_rule_add_array(ctx, action, nr, c ? c->n : 0, c ? c->cmp : NULL);
}

static int add_clauses(scmp_filter_ctx ctx, uint32_t def, uint32_t action, int nr,
                       const struct clauses *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        int r = add_rule(ctx, def, action, nr, &cs->v[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The rows of the table for one call: [*first, *end). */
static bool next_group(size_t *first, size_t *end)
{
    if (*end >= sbx__deny_table_len)
        return false;
    *first = *end;
    size_t e = *first + 1;
    while (e < sbx__deny_table_len &&
           strcmp(sbx__deny_table[e].name, sbx__deny_table[*first].name) == 0)
        e++;
    *end = e;
    return true;
}

static int add_table_group(scmp_filter_ctx ctx, uint32_t def, const struct sbx__filter_spec *spec,
                           bool notify, size_t first, size_t end, int nr)
{
    const struct sbx__deny_row *row = &sbx__deny_table[first];
    uint32_t deny = deny_action(notify && !row->unreported, row->error);
    bool always = false;
    for (size_t i = first; i < end; i++)
        always |= sbx__deny_table[i].cond == SBX__COND_ALWAYS;
    if (always)
        return add_rule(ctx, def, deny, nr, NULL);

    /* Rows of one call deny disjoint sets of arguments; each keeps its own
     * action (reported, or answered by the kernel for an unreported one). */
    struct clauses *cs = calloc(2, sizeof(*cs)); /* [0]: reported rows, [1]: unreported */
    if (!cs)
        return -ENOMEM;
    for (size_t i = first; i < end; i++)
        deny_clauses(sbx__deny_table[i].cond, spec, &cs[sbx__deny_table[i].unreported]);
    uint32_t quiet = deny_action(false, row->error);
    int r = 0;
    if (!spec->allowlist) {
        r = add_clauses(ctx, def, deny, nr, &cs[0]);
        if (r == 0)
            r = add_clauses(ctx, def, quiet, nr, &cs[1]);
    } else if (in_base_set(nr)) {
        /* The complement is allowed; the rest falls to the default action,
         * or gets the row's errno when the kernel answers it. */
        struct clauses *allow = calloc(1, sizeof(*allow));
        r = allow ? allow_clauses(row->name, spec, allow) : -ENOMEM;
        if (r == 0)
            r = add_clauses(ctx, def, SCMP_ACT_ALLOW, nr, allow);
        if (r == 0)
            r = add_clauses(ctx, def, deny, nr, &cs[0]);
        if (r == 0)
            r = add_clauses(ctx, def, quiet, nr, &cs[1]);
        free(allow);
    }
    free(cs);
    return r;
}

static int export_program(scmp_filter_ctx ctx, struct sock_fprog *out)
{
    int fd = memfd_create("agentsbx-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = seccomp_export_bpf(ctx, fd);
    off_t size = r == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (r == 0 && size < 0)
        r = -errno;
    if (r == 0 && (size == 0 || size % (off_t)sizeof(struct sock_filter) != 0))
        r = -EIO;
    size_t n = r == 0 ? (size_t)size / sizeof(struct sock_filter) : 0;
    if (r == 0 && n > BPF_MAXINSNS)
        r = -E2BIG;
    struct sock_filter *prog = r == 0 ? malloc((size_t)size) : NULL;
    if (r == 0 && !prog)
        r = -ENOMEM;
    if (r == 0 && pread(fd, prog, (size_t)size, 0) != size)
        r = -EIO;
    close(fd);
    if (r < 0) {
        free(prog);
        return r;
    }
    out->len = (unsigned short)n;
    out->filter = prog;
    return 0;
}

/* Whether the call is an exec the monitor is told of (spec->exec_notify). */
static bool exec_notified(const struct sbx__filter_spec *spec, bool notify, int nr)
{
    return notify && spec->exec_notify && !find_rule(spec, nr) &&
           (nr == sbx__syscall_resolve("execve") || nr == sbx__syscall_resolve("execveat"));
}

/* execve: always to the monitor; execveat: unless the marker is in a0's
 * high half (the library's first exec). */
static int add_exec_rules(scmp_filter_ctx ctx, uint32_t def, const struct sbx__filter_spec *spec,
                          int *bad_nr)
{
    int execve_nr = sbx__syscall_resolve("execve"), execveat_nr = sbx__syscall_resolve("execveat");
    uint64_t lo = (uint64_t)SBX__EXEC_MARKER << 32, hi = lo | 0xffffffffu;
    int r = 0;
    if (execve_nr >= 0 && exec_notified(spec, true, execve_nr)) {
        r = add_rule(ctx, def, SCMP_ACT_NOTIFY, execve_nr, NULL);
        if (r < 0)
            *bad_nr = execve_nr;
    }
    if (r == 0 && execveat_nr >= 0 && exec_notified(spec, true, execveat_nr)) {
        struct clause below = {.n = 1, .cmp = {SCMP_A0_64(SCMP_CMP_LT, lo)}};
        struct clause above = {.n = 1, .cmp = {SCMP_A0_64(SCMP_CMP_GT, hi)}};
        struct clause marked = {.n = 1,
                                .cmp = {SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffff00000000ull, lo)}};
        r = add_rule(ctx, def, SCMP_ACT_NOTIFY, execveat_nr, &below);
        if (r == 0)
            r = add_rule(ctx, def, SCMP_ACT_NOTIFY, execveat_nr, &above);
        if (r == 0)
            r = add_rule(ctx, def, SCMP_ACT_ALLOW, execveat_nr, &marked);
        if (r < 0)
            *bad_nr = execveat_nr;
    }
    return r;
}

bool sbx__filter_plain_allowed(const struct sbx__filter_spec *spec, int nr)
{
    if (find_rule(spec, nr) || exec_notified(spec, true, nr))
        return false;
    for (size_t i = 0; i < sbx__deny_table_len; i++)
        if (row_nr(&sbx__deny_table[i]) == nr)
            return false;
    if (!spec->allowlist)
        return true;
    for (size_t g = 0; g < sbx__base_set_len; g++)
        for (const char *const *name = sbx__base_set[g].names; *name; name++)
            if (sbx__syscall_resolve(*name) == nr)
                return true;
    return false;
}

static bool notify_listed(const struct sbx__filter_spec *spec, bool notify, int nr)
{
    for (size_t i = 0; notify && i < spec->n_notify_nrs; i++)
        if (spec->notify_nrs[i] == nr)
            return true;
    return false;
}

int sbx__filter_build(const struct sbx__filter_spec *spec, bool notify, struct sock_fprog *out,
                      int *bad_nr)
{
    *bad_nr = -1;
    uint32_t def =
        spec->allowlist ? (notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(ENOSYS)) : SCMP_ACT_ALLOW;
    scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx)
        return -ENOMEM;
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* the child sets it itself */
    if (r == 0)
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* binary tree, if supported */

    /* 1. The policy's own rules win over the table and the base set. */
    for (size_t i = 0; r == 0 && i < spec->n_rules; i++) {
        const struct sbx__filter_rule *rule = &spec->rules[i];
        uint32_t action = rule->error == 0 ? SCMP_ACT_ALLOW : deny_action(notify, rule->error);
        r = add_rule(ctx, def, action, rule->nr, NULL);
        if (r < 0)
            *bad_nr = rule->nr;
    }
    /* 1b. Execs, for the monitor to report the ones the policy does not allow. */
    if (r == 0 && notify && spec->exec_notify)
        r = add_exec_rules(ctx, def, spec, bad_nr);
    /* 1c. Calls the monitor watches without denying them (diagnose mode). */
    for (size_t i = 0; r == 0 && notify && i < spec->n_notify_nrs; i++) {
        r = add_rule(ctx, def, SCMP_ACT_NOTIFY, spec->notify_nrs[i], NULL);
        if (r < 0)
            *bad_nr = spec->notify_nrs[i];
    }
    /* 2. The deny table, for calls without a rule of the policy. */
    size_t first = 0, end = 0;
    while (r == 0 && next_group(&first, &end)) {
        int nr = row_nr(&sbx__deny_table[first]);
        if (nr < 0 || find_rule(spec, nr))
            continue; /* not a call of this architecture, or overridden */
        r = add_table_group(ctx, def, spec, notify, first, end, nr);
        if (r < 0)
            *bad_nr = nr;
    }
    /* 3. The base set, in allow-list mode. */
    for (size_t g = 0; r == 0 && spec->allowlist && g < sbx__base_set_len; g++) {
        for (const char *const *name = sbx__base_set[g].names; r == 0 && *name; name++) {
            int nr = sbx__syscall_resolve(*name);
            if (nr < 0 || find_rule(spec, nr) || exec_notified(spec, notify, nr) ||
                notify_listed(spec, notify, nr))
                continue;
            bool in_table = false;
            for (size_t i = 0; i < sbx__deny_table_len && !in_table; i++)
                in_table = row_nr(&sbx__deny_table[i]) == nr;
            if (in_table)
                continue; /* added with its argument checks above */
            r = add_rule(ctx, def, SCMP_ACT_ALLOW, nr, NULL);
            if (r < 0)
                *bad_nr = nr;
        }
    }
    if (r == 0)
        r = export_program(ctx, out);
    seccomp_release(ctx);
    return r;
}

static int cmp_errno(const void *a, const void *b)
{
    const struct sbx__filter_errno *x = a, *y = b;
    return (x->nr > y->nr) - (x->nr < y->nr);
}

int sbx__filter_errnos(const struct sbx__filter_spec *spec, struct sbx__filter_errno **ret,
                       size_t *n, int *default_error)
{
    struct sbx__filter_errno *v = calloc(sbx__deny_table_len + spec->n_rules + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    size_t used = 0;
    for (size_t i = 0; i < spec->n_rules; i++)
        if (spec->rules[i].error > 0)
            v[used++] = (struct sbx__filter_errno){spec->rules[i].nr, spec->rules[i].error};
    size_t first = 0, end = 0;
    while (next_group(&first, &end)) {
        int nr = row_nr(&sbx__deny_table[first]);
        if (nr >= 0 && !find_rule(spec, nr))
            v[used++] = (struct sbx__filter_errno){nr, sbx__deny_table[first].error};
    }
    qsort(v, used, sizeof(*v), cmp_errno);
    *ret = v;
    *n = used;
    *default_error = spec->allowlist ? ENOSYS : EPERM;
    return 0;
}
