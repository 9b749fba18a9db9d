/* The seccomp filter as data: the deny table, the allow-list base set, name
 * resolution, and the BPF builder. It depends on libseccomp only (no other
 * part of the library), so that the unit tests can compile it in and check
 * the programs it builds with a BPF interpreter. Nothing here is exported. */
#ifndef SBX_SECCOMP_FILTER_H
#define SBX_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SBX__FILTER_HIDDEN __attribute__((visibility("hidden")))

/* How a deny-table row decides, from the arguments, that a call is denied. */
enum sbx__cond {
    SBX__COND_ALWAYS,        /* every call */
    SBX__COND_CLONE_NS,      /* clone: flags (a0) with any CLONE_NEW* bit */
    SBX__COND_TTY_IOCTL,     /* ioctl: low 32 bits of the request (a1) TIOCSTI, TIOCLINUX or
                                TIOCSCTTY */
    SBX__COND_PERSONALITY,   /* personality: a0's low 32 bits neither 0xffffffff nor PER_LINUX */
    SBX__COND_SOCKET_FAMILY, /* socket: a family other than unix, inet, inet6 (netlink route
                                with the network granted) */
    SBX__COND_SOCKET_INET,   /* socket, inet/inet6: without the network, anything but TCP;
                                with it, SOCK_PACKET */
    SBX__COND_SOCKET_UNIX,   /* socket: family (a0) AF_UNIX, unless the spec allows unix
                                sockets (the mount view hides the host's) */
    SBX__COND_MEMFD_EXEC,    /* memfd_create: flags (a1) without MFD_NOEXEC_SEAL */
    SBX__COND_PID_ARG0,      /* a call on another process: a0 (the pid) is not 0. Only
                                without a pid namespace, as the next two */
    SBX__COND_PRIO_WHO,      /* setpriority: which (a0) beyond PRIO_PGRP, or who (a1) not 0 */
    SBX__COND_IOPRIO_WHO,    /* ioprio_set: which (a0) beyond IOPRIO_WHO_PGRP, or who (a1)
                                not 0 */
};

struct sbx__deny_row {
    const char *name;
    int fallback_nr; /* x86_64 number for calls libseccomp does not know, or 0 */
    int error;       /* errno the call fails with */
    enum sbx__cond cond;
    const char *when;   /* the condition, in words ("" for every call) */
    const char *reason; /* why it is denied */
    bool unreported;    /* answered by the kernel itself, never a violation (a routine
                           fallback of libc, not an attempt) */
};

/* The one deny table (rows of one system call are adjacent). */
SBX__FILTER_HIDDEN extern const struct sbx__deny_row sbx__deny_table[];
SBX__FILTER_HIDDEN extern const size_t sbx__deny_table_len;

struct sbx__base_group {
    const char *what;         /* what the group is for */
    const char *const *names; /* NULL-terminated */
};

/* The allow-list base set, in groups. */
SBX__FILTER_HIDDEN extern const struct sbx__base_group sbx__base_set[];
SBX__FILTER_HIDDEN extern const size_t sbx__base_set_len;

/* Calls made by the library in the child after the filter is attached. */
SBX__FILTER_HIDDEN extern const char *const sbx__undeniable[];

/* A per-policy rule: error > 0 denies with that errno, -1 (SBX_SYSCALL_KILL)
 * kills, 0 allows without conditions. */
struct sbx__filter_rule {
    int nr;
    int error;
};

struct sbx__filter_spec {
    bool allowlist;
    bool network;
    bool pid_ns;       /* the child has a pid namespace: calls on other pids cannot reach
                          the host's processes, and are not filtered */
    bool unix_sockets; /* socket(AF_UNIX) is allowed (the host's are out of sight) */
    bool sys_admin;    /* the child may keep CAP_SYS_ADMIN: TIOCSCTTY's steal is denied */
    bool exec_notify;  /* with notify: execve and execveat reach the monitor, which reports
                          the ones the policy does not let run and lets every one continue
                          (the kernel and Landlock decide); execveat with the marker below
                          in a0's high half does not (the library's own first exec) */
    const struct sbx__filter_rule *rules;
    size_t n_rules;
    /* With notify: calls that reach the monitor without being denied (it
     * answers CONTINUE: diagnose mode); each one sbx__filter_plain_allowed(). */
    const int *notify_nrs;
    size_t n_notify_nrs;
};

/* Whether the filter of spec lets nr through without a condition: no rule of
 * the policy, no row of the deny table, and in the base set in allow-list mode. */
SBX__FILTER_HIDDEN bool sbx__filter_plain_allowed(const struct sbx__filter_spec *spec, int nr);

/* The high 32 bits of execveat's dirfd (a0) in the child's first exec: the
 * kernel reads only the low half (an int: AT_FDCWD), the filter sees all 64
 * bits and lets that exec through without a notification, since the host
 * cannot answer it (it is suspended until the child executes). */
#define SBX__EXEC_MARKER 0x5b78ec00u

struct sbx__filter_errno {
    int nr;
    int error;
};

/* The native number of a system call name, or -1. */
SBX__FILTER_HIDDEN int sbx__syscall_resolve(const char *name);
/* Whether the library needs the call in the child after attaching the filter. */
SBX__FILTER_HIDDEN bool sbx__syscall_undeniable(int nr);
/* The name of a call of the given audit architecture into buf, or "syscall_NNN". */
SBX__FILTER_HIDDEN void sbx__syscall_name(uint32_t arch, int nr, char *buf, size_t size);

/* Build the program. With notify, denied calls return SECCOMP_RET_USER_NOTIF,
 * otherwise SECCOMP_RET_ERRNO with their errno. On success out->filter is
 * malloc'd. On failure returns a negative errno and, when a rule was at fault,
 * its system call number in *bad_nr (else -1). */
SBX__FILTER_HIDDEN int sbx__filter_build(const struct sbx__filter_spec *spec, bool notify,
                                         struct sock_fprog *out, int *bad_nr);

/* The errno each denied call gets (sorted by nr, malloc'd), and the errno of
 * calls absent from it. */
SBX__FILTER_HIDDEN int sbx__filter_errnos(const struct sbx__filter_spec *spec,
                                          struct sbx__filter_errno **ret, size_t *n,
                                          int *default_error);

#endif
