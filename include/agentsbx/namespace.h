/**
 * @file agentsbx/namespace.h
 * @brief The namespace layer: a private view of processes, network, mounts,
 * IPC and host name for each child, and a kill that nothing escapes.
 *
 * By default (#SBX_ISOLATION_AUTO, since 0.2) every child runs in new user
 * (when the host is not root), pid, mount, ipc, uts and cgroup namespaces,
 * where the host allows them, and falls back to the Landlock + seccomp floor
 * where it does not, saying so in the result and in `agentsbx check`
 * (sbx_set_isolation()). Namespaces asked for with sbx_unshare(), or with
 * #SBX_ISOLATION_FULL, are strict like every layer: a namespace the host
 * cannot create makes sbx_spawn() fail with a message that says why (for
 * instance "unprivileged user namespaces are disabled:
 * kernel.unprivileged_userns_clone = 0"), unless #SBX_LAYER_NAMESPACES is
 * best-effort. See docs/namespaces.md.
 */
#ifndef AGENTSBX_NAMESPACE_H
#define AGENTSBX_NAMESPACE_H

#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Namespace types, as bits of a set. Values are append-only. @since 0.1 */
enum sbx_namespace {
    /** A user namespace: the child's uid and gid are mapped one to one to the
     *  host's, and it has no capability after execve. Added automatically
     *  when the host is not root, since the others then need it. */
    SBX_NS_USER = 1u << 0,
    /** A pid namespace: a minimal init is pid 1; it reaps orphans, passes
     *  signals on to the program, and reports the program's exit status.
     *  Every process of the child dies when the program ends or is killed. */
    SBX_NS_PID = 1u << 1,
    /** A network namespace with only a loopback interface: no TCP, UDP,
     *  ICMP or any other traffic leaves it, and host listeners on
     *  127.0.0.1 are out of reach. */
    SBX_NS_NET = 1u << 2,
    /** An IPC namespace: System V IPC and POSIX message queues of its own. */
    SBX_NS_IPC = 1u << 3,
    /** A UTS namespace: a host name of its own ("agentsbx"). */
    SBX_NS_UTS = 1u << 4,
    /** A mount namespace with a root of its own that shows only the system
     *  directories (/usr, /etc, read-only and noexec but for the shared
     *  libraries), a minimal /dev with ptys, a fresh tmpfs on /tmp and
     *  /dev/shm, a /proc of its own with #SBX_NS_PID, and the grants: writable
     *  where granted #SBX_FS_WRITE, executable where granted #SBX_FS_EXEC.
     *  Nothing else of the host (/run, /home, /sys, its unix sockets) is
     *  there. */
    SBX_NS_MOUNT = 1u << 5,
    /** A cgroup namespace: the child sees its own cgroup as the root of the
     *  hierarchy (/proc/self/cgroup says "0::/"), not the host's layout.
     *  @since 0.2 */
    SBX_NS_CGROUP = 1u << 6,
};

/** @brief Every namespace type (0x7f since 0.2). @since 0.1 */
#define SBX_NS_ALL 0x7fu

/** @brief How much isolation a policy asks for. Values are append-only. @since 0.2 */
enum sbx_isolation {
    /** The default: new user (when the host is not root), pid, mount, ipc,
     *  uts and cgroup namespaces where the host allows them, else the
     *  Landlock + seccomp floor, and the result says which
     *  (sbx_result_namespaces(), sbx_result_isolation_fallback()). No network
     *  namespace: without sbx_allow_network() the network is denied by
     *  Landlock (TCP) and seccomp (every other socket family but unix)
     *  already, and granted TCP ports reach the host's loopback. */
    SBX_ISOLATION_AUTO = 0,
    /** No namespaces but those asked for with sbx_unshare() (0.1's default). */
    SBX_ISOLATION_MINIMAL = 1,
    /** Every namespace the auto mode uses, plus a network namespace unless the
     *  policy grants network (sbx_allow_network(), a TCP port); strict: a host
     *  that cannot create them makes the spawn fail, unless
     *  #SBX_LAYER_NAMESPACES is best-effort. */
    SBX_ISOLATION_FULL = 2,
};

/**
 * @brief Choose the isolation: #SBX_ISOLATION_AUTO (the default),
 * #SBX_ISOLATION_MINIMAL or #SBX_ISOLATION_FULL.
 *
 * Namespaces given to sbx_unshare() are added in every mode (and are strict).
 * @param policy The policy.
 * @param isolation An #sbx_isolation value.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or an unknown value.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_isolation(sbx_policy *policy, int isolation);

/**
 * @brief The policy's isolation mode.
 * @param policy The policy (NULL gives #SBX_ISOLATION_AUTO).
 * @return An #sbx_isolation value.
 * @since 0.2
 */
SBX_API int sbx_policy_isolation(const sbx_policy *policy);

/**
 * @brief The name of an isolation mode: "auto", "minimal", "full".
 * @param isolation An #sbx_isolation value.
 * @return A static string; NULL for anything else.
 * @since 0.2
 */
SBX_API const char *sbx_isolation_name(int isolation);

/**
 * @brief Why the auto mode ran this child without namespaces, or NULL.
 *
 * With #SBX_ISOLATION_AUTO, a host that cannot create the namespaces (a
 * container with Docker's default seccomp profile, Ubuntu's AppArmor
 * restriction of unprivileged user namespaces,
 * kernel.unprivileged_userns_clone = 0) gets the Landlock + seccomp floor; this
 * says what refused them ("isolation_fallback" in the result's JSON).
 * @param result The result.
 * @return A string owned by the result, or NULL when the namespaces held (or
 *         were not asked for).
 * @since 0.2
 */
SBX_API const char *sbx_result_isolation_fallback(const sbx_result *result);

/**
 * @brief Run each child in new namespaces of the given types.
 *
 * The set replaces any earlier one; 0 turns the layer off. When the host has
 * no CAP_SYS_ADMIN, #SBX_NS_USER is added to any non-empty set.
 *
 * @param policy The policy.
 * @param namespaces A set of #sbx_namespace bits.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or bits outside #SBX_NS_ALL.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_unshare(sbx_policy *policy, uint32_t namespaces);

/**
 * @brief The set of namespaces the policy asks for (as given to sbx_unshare()).
 * @param policy The policy (NULL gives 0).
 * @return A set of #sbx_namespace bits.
 * @since 0.1
 */
SBX_API uint32_t sbx_policy_namespaces(const sbx_policy *policy);

/**
 * @brief Parse a comma-separated list of namespace names ("user,pid,net",
 * "all"), as the CLI's `--unshare` takes.
 * @param list The list: names from sbx_namespace_name(), or "all".
 * @param[out] ret The set.
 * @retval 0 Success.
 * @retval -EINVAL NULL argument, an empty list, or an unknown name (the
 *         message names it).
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_parse_namespaces(const char *list, uint32_t *ret);

/**
 * @brief The name of one namespace type: "user", "pid", "net", "ipc", "uts",
 * "mount", "cgroup".
 * @param ns One #sbx_namespace bit.
 * @return A static string; NULL for anything else.
 * @since 0.1
 */
SBX_API const char *sbx_namespace_name(uint32_t ns);

/**
 * @brief The namespaces this child ran in.
 * @param result The result (NULL gives 0).
 * @return A set of #sbx_namespace bits.
 * @since 0.1
 */
SBX_API uint32_t sbx_result_namespaces(const sbx_result *result);

/** @brief How the whole tree of a child is killed. Values are append-only. @since 0.1 */
enum sbx_tree_kill {
    /** The child's process group only: a process that calls setsid(2) or
     *  setpgid(2) escapes the kill. */
    SBX_TREE_KILL_PGROUP = 1,
    /** The child's cgroup (cgroup.kill, or a kill of every process listed in
     *  cgroup.procs until it is empty). */
    SBX_TREE_KILL_CGROUP = 2,
    /** The child's pid namespace: when its init ends, the kernel kills every
     *  process in it. */
    SBX_TREE_KILL_PIDNS = 3,
    /** A child subreaper: the library's init runs above the program, every
     *  descendant that leaves the process group or the session is reparented
     *  to it, and it kills them all (at the end, the timeout, a kill, and
     *  when the host dies). Needs neither namespaces nor cgroups; costs an
     *  execve of the small init per spawn (see sbx_set_subreaper()).
     *  @since 0.2 */
    SBX_TREE_KILL_SUBREAPER = 4,
};

/**
 * @brief Kill the child's whole tree with a subreaper when neither a pid
 * namespace nor a cgroup does it.
 *
 * Without a pid namespace (#SBX_NS_PID) or a cgroup, a descendant that calls
 * setsid(2) or setpgid(2) survives the process-group kill. With this on, the
 * library's small init (the one a pid namespace runs) starts the program as
 * its child and is a child subreaper: such descendants are reparented to it,
 * and it kills every one of them when the program ends, at the timeout, at
 * sbx_child_kill(), and when the host dies. It costs an execve(2) of the init
 * per spawn (see docs/performance.md), so it is off by default for
 * sbx_spawn(); sbx_run() and the `agentsbx` command line use it whenever
 * there is no pid namespace and no cgroup. Ignored when a pid namespace or a
 * cgroup holds the tree. It needs /proc/thread-self/children (Linux 3.17 with
 * CONFIG_PROC_CHILDREN); where it is missing, the result says
 * #SBX_TREE_KILL_PGROUP.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on not 0 or 1.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_subreaper(sbx_policy *policy, int on);

/**
 * @brief How the child's tree was (or would have been) killed at a timeout, a
 * kill, or its end.
 * @param result The result (NULL gives 0).
 * @return An #sbx_tree_kill value, 0 for NULL.
 * @since 0.1
 */
SBX_API int sbx_result_tree_kill(const sbx_result *result);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_NAMESPACE_H */
