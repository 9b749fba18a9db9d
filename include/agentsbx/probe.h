/**
 * @file agentsbx/probe.h
 * @brief What this kernel and host can enforce, and why anything is missing.
 *
 * `agentsbx check` prints the same. Probing makes a few harmless system calls
 * in the calling process; it changes nothing.
 */
#ifndef AGENTSBX_PROBE_H
#define AGENTSBX_PROBE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Kernel and host features the layers rely on. Values are append-only. @since 0.1 */
enum sbx_feature {
    /** Landlock; the level is the ABI version the library uses (1 to 7 or more). */
    SBX_FEATURE_LANDLOCK = 1,
    /** seccomp-bpf filters (level 1). */
    SBX_FEATURE_SECCOMP = 2,
    /** seccomp user notification, for the violation monitor (level 1). */
    SBX_FEATURE_SECCOMP_NOTIFY = 3,
    /** pidfds (CLONE_PIDFD), needed to supervise children (level 1). */
    SBX_FEATURE_PIDFD = 4,
    /** clone3(2); without it the library falls back to clone(2) (level 1). */
    SBX_FEATURE_CLONE3 = 5,
    /** close_range(2); without it descriptors are closed one by one (level 1). */
    SBX_FEATURE_CLOSE_RANGE = 6,
    /** Per-child cgroups with the memory and pids controllers beneath this process's own
     *  cgroups (sbx_use_cgroup()): level 2 when both are on cgroup2, 1 when cgroup v1 holds
     *  either. */
    SBX_FEATURE_CGROUP = 7,
    /** A user namespace this process can create and map its ids into (level 1). */
    SBX_FEATURE_USER_NS = 8,
    /** A pid namespace, through a user namespace when not root (level 1). */
    SBX_FEATURE_PID_NS = 9,
    /** A network namespace, through a user namespace when not root (level 1). */
    SBX_FEATURE_NET_NS = 10,
    /** An IPC namespace, through a user namespace when not root (level 1). */
    SBX_FEATURE_IPC_NS = 11,
    /** A UTS namespace, through a user namespace when not root (level 1). */
    SBX_FEATURE_UTS_NS = 12,
    /** A mount namespace with the mount API the view needs (open_tree, move_mount,
     *  mount_setattr: Linux 5.12), through a user namespace when not root (level 1). */
    SBX_FEATURE_MOUNT_NS = 13,
    /** How the whole tree of a child can be killed, the best this host allows:
     *  #SBX_TREE_KILL_PIDNS with a pid namespace, #SBX_TREE_KILL_CGROUP with a
     *  cgroup, #SBX_TREE_KILL_SUBREAPER with the subreaper init (needs
     *  /proc/thread-self/children; sbx_run() and the CLI use it without the two
     *  others), #SBX_TREE_KILL_PGROUP with the process group only (a process
     *  that calls setsid(2) escapes it). */
    SBX_FEATURE_TREE_KILL = 14,
    /** What the default, auto isolation gives here (sbx_set_isolation()): the
     *  set of #sbx_namespace bits each child gets (user included when not
     *  root), or 0 and why not — then children run under Landlock and seccomp
     *  alone. @since 0.2 */
    SBX_FEATURE_ISOLATION = 15,
};

/** @brief One past the last #sbx_feature value of this version, for iterating. @since 0.1 */
#define SBX_FEATURE_END 16

/**
 * @brief Probe one feature.
 *
 * @param feature An #sbx_feature value.
 * @param reason Receives, when the feature is missing, why: what the probe
 *               observed (for instance "landlock_create_ruleset returned
 *               EOPNOTSUPP: Landlock is built into this kernel but disabled at
 *               boot (add landlock to the lsm= boot parameter)"; an ENOSYS from a
 *               call the running kernel has names valgrind or an emulator); an
 *               empty string when it is available. May be NULL.
 * @param reason_size Size of @p reason.
 * @return The feature's level (> 0) when it is available, 0 when it is not,
 *         -EINVAL for an unknown feature.
 * @since 0.1
 */
SBX_API int sbx_probe(int feature, char *reason, size_t reason_size);

/**
 * @brief A stable name for a feature: "landlock", "seccomp", "seccomp_notify",
 * "pidfd", "clone3", "close_range", "cgroup", "user_ns", "pid_ns", "net_ns",
 * "ipc_ns", "uts_ns", "mount_ns", "tree_kill".
 * @param feature An #sbx_feature value.
 * @return A static string; "unknown" for anything else.
 * @since 0.1
 */
SBX_API const char *sbx_feature_name(int feature);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_PROBE_H */
