/* Feature probes: harmless system calls that tell what this kernel offers. */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "internal.h"
#include "landlock_layer.h"
#include "namespace_layer.h"

#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static int missing(char *reason, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int missing(char *reason, size_t size, const char *fmt, ...)
{
    if (reason && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, size, fmt, ap);
        va_end(ap);
    }
    return 0;
}

/* After an ENOSYS from a call that Linux major.minor introduced: when the
 * running kernel is that new, the call exists and something between the
 * program and the kernel (valgrind, an emulator such as qemu-user) does not
 * know it. "" otherwise. */
static const char *enosys_note(int major, int minor)
{
    static __thread char note[160];
    struct utsname u;
    int ma = 0, mi = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2 ||
        (ma < major || (ma == major && mi < minor)))
        return "";
    snprintf(note, sizeof(note),
             "; this is Linux %d.%d, which has it: the program runs under valgrind or an "
             "emulator that does not know this system call",
             ma, mi);
    return note;
}

static int probe_landlock(char *reason, size_t size)
{
    char observed[512];
    int abi = sbx__landlock_observed(observed, sizeof(observed));
    if (abi > 0)
        return abi;
    return missing(reason, size, "%s", observed);
}

static int probe_seccomp(char *reason, size_t size)
{
    /* SECCOMP_GET_ACTION_AVAIL exists wherever filters do (Linux 4.14). */
    uint32_t action = 0x7fff0000U; /* SECCOMP_RET_ALLOW */
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
        return 1;
    int err = errno;
    return missing(reason, size, "seccomp(SECCOMP_GET_ACTION_AVAIL): %s%s", strerror(err),
                   err == ENOSYS ? enosys_note(4, 14) : "");
}

static int probe_seccomp_notify(char *reason, size_t size)
{
    uint32_t action = SECCOMP_RET_USER_NOTIF;
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
        return 1;
    int err = errno;
    return missing(reason, size,
                   "seccomp(SECCOMP_GET_ACTION_AVAIL, USER_NOTIF): %s "
                   "(Linux 5.0 is needed%s)",
                   strerror(err), err == ENOSYS ? enosys_note(5, 0) : "");
}

static int probe_pidfd(char *reason, size_t size)
{
    int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (fd >= 0) {
        close(fd);
        return 1;
    }
    int err = errno;
    return missing(reason, size, "pidfd_open: %s (Linux 5.3 is needed%s)", strerror(err),
                   err == ENOSYS ? enosys_note(5, 3) : "");
}

static int probe_clone3(char *reason, size_t size)
{
    /* With a NULL argument clone3 fails: EFAULT or EINVAL if it exists. */
    if (syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS)
        return missing(reason, size, "clone3: %s (Linux 5.3; clone(2) is used instead%s)",
                       strerror(ENOSYS), enosys_note(5, 3));
    return 1;
}

static int probe_close_range(char *reason, size_t size)
{
    /* An empty range above any descriptor: a no-op where it exists. */
    if (syscall(SYS_close_range, ~0u, ~0u, 0) < 0 && errno == ENOSYS)
        return missing(reason, size,
                       "close_range: %s (Linux 5.9; descriptors are closed one "
                       "by one instead%s)",
                       strerror(ENOSYS), enosys_note(5, 9));
    return 1;
}

static int probe_ns(uint32_t set, char *reason, size_t size)
{
    char why[300];
    int r = sbx__ns_probe_set(set, why, sizeof(why));
    if (r < 0)
        return missing(reason, size, "%s: %s", why, strerror(-r));
    return 1;
}

static int probe_user_ns(char *reason, size_t size)
{
    return probe_ns(SBX_NS_USER, reason, size);
}

static int probe_pid_ns(char *reason, size_t size)
{
    return probe_ns(SBX_NS_PID, reason, size);
}

static int probe_net_ns(char *reason, size_t size)
{
    return probe_ns(SBX_NS_NET, reason, size);
}

static int probe_ipc_ns(char *reason, size_t size)
{
    return probe_ns(SBX_NS_IPC, reason, size);
}

static int probe_uts_ns(char *reason, size_t size)
{
    return probe_ns(SBX_NS_UTS, reason, size);
}

static int probe_mount_ns(char *reason, size_t size)
{
    /* The view needs the new mount API: an invalid call tells ENOSYS apart. */
    if (syscall(442 /* mount_setattr */, -1, "", 0, NULL, 0) != 0 && errno == ENOSYS)
        return missing(reason, size, "mount_setattr: %s (Linux 5.12%s)", strerror(ENOSYS),
                       enosys_note(5, 12));
    return probe_ns(SBX_NS_MOUNT, reason, size);
}

static int probe_tree_kill(char *reason, size_t size)
{
    char why[256];
    if (probe_ns(SBX_NS_PID, why, sizeof(why)) > 0)
        return SBX_TREE_KILL_PIDNS;
    if (sbx__cgroup_probe(why, sizeof(why)) > 0)
        return SBX_TREE_KILL_CGROUP;
    if (sbx__subreaper_available())
        return SBX_TREE_KILL_SUBREAPER;
    return SBX_TREE_KILL_PGROUP;
}

static int probe_isolation(char *reason, size_t size)
{
    char why[300];
    uint32_t set = sbx__ns_auto_set(0, why, sizeof(why));
    if (!set)
        return missing(reason, size, "%s", why);
    return (int)set;
}

static const struct {
    const char *name;
    int (*probe)(char *reason, size_t size);
} features[SBX_FEATURE_END] = {
    [SBX_FEATURE_LANDLOCK] = {"landlock", probe_landlock},
    [SBX_FEATURE_SECCOMP] = {"seccomp", probe_seccomp},
    [SBX_FEATURE_SECCOMP_NOTIFY] = {"seccomp_notify", probe_seccomp_notify},
    [SBX_FEATURE_PIDFD] = {"pidfd", probe_pidfd},
    [SBX_FEATURE_CLONE3] = {"clone3", probe_clone3},
    [SBX_FEATURE_CLOSE_RANGE] = {"close_range", probe_close_range},
    [SBX_FEATURE_CGROUP] = {"cgroup", sbx__cgroup_probe},
    [SBX_FEATURE_USER_NS] = {"user_ns", probe_user_ns},
    [SBX_FEATURE_PID_NS] = {"pid_ns", probe_pid_ns},
    [SBX_FEATURE_NET_NS] = {"net_ns", probe_net_ns},
    [SBX_FEATURE_IPC_NS] = {"ipc_ns", probe_ipc_ns},
    [SBX_FEATURE_UTS_NS] = {"uts_ns", probe_uts_ns},
    [SBX_FEATURE_MOUNT_NS] = {"mount_ns", probe_mount_ns},
    [SBX_FEATURE_TREE_KILL] = {"tree_kill", probe_tree_kill},
    [SBX_FEATURE_ISOLATION] = {"isolation", probe_isolation},
};

int sbx_probe(int feature, char *reason, size_t reason_size)
{
    sbx__check(feature > 0 && feature < SBX_FEATURE_END, "sbx_probe: unknown feature %d", feature);
    if (reason && reason_size)
        reason[0] = '\0';
    return features[feature].probe(reason, reason_size);
}

const char *sbx_feature_name(int feature)
{
    if (feature <= 0 || feature >= SBX_FEATURE_END)
        return "unknown";
    return features[feature].name;
}
