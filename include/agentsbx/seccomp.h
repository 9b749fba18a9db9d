/**
 * @file agentsbx/seccomp.h
 * @brief The system-call filter (seccomp-bpf) and the violation monitor.
 *
 * Every policy carries a seccomp filter, built once per policy with libseccomp
 * and attached in the child as the last step before execve(2). By default it
 * allows every system call except a fixed deny list that closes the kernel's
 * most exposed surfaces (tracing, bpf, io_uring, keyrings, module loading,
 * namespaces and mounts, terminal injection, exotic socket families, ...; the
 * full table, with a reason per entry, is in docs/seccomp.md). Only the
 * native architecture's entry points reach the allowed system calls: a 32-bit
 * (`int 0x80`) or x32 system call kills the process.
 *
 * Instead of the deny list, a policy may use allow-list mode
 * (sbx_set_syscall_allowlist()): then only a documented base set, enough for
 * sh, python3, git and gcc, plus per-policy additions (sbx_allow_syscall()),
 * is allowed.
 *
 * Denied calls fail with an errno (EPERM unless the table or the policy says
 * otherwise) and are reported: the filter hands each one to the host through
 * seccomp user notification, and the library records it (system call name,
 * number, arguments), answers it with the configured errno, passes it to the
 * policy's callback, and counts it in the result (sbx_result_violation_count(),
 * sbx_result_violation()); sbx_set_violation_limit() kills a child that keeps
 * trying. A call the host has not answered yet waits in the kernel: a host that
 * uses sbx_spawn() directly must keep calling sbx_child_wait() or
 * sbx_child_poll() (when sbx_child_fd() is readable) while the child runs,
 * also while it reads the child's pipes; sbx_run() does this itself.
 *
 * If the kernel cannot filter system calls, or cannot notify (Linux < 5.0, or
 * a filter with a listener is already in force above this process), the spawn
 * fails with -EOPNOTSUPP unless #SBX_LAYER_SECCOMP (or, for the reports alone,
 * #SBX_LAYER_MONITOR) was marked best-effort with sbx_set_best_effort(): then
 * the child runs without what could not be had and sbx_result_layers() says so.
 */
#ifndef AGENTSBX_SECCOMP_H
#define AGENTSBX_SECCOMP_H

#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Passed as the errno to sbx_deny_syscall(): kill the process that makes the call. @since
 * 0.1 */
#define SBX_SYSCALL_KILL (-1)

/** @brief How many violations a result keeps in detail (all are counted). @since 0.1 */
#define SBX_VIOLATIONS_KEPT 16

/**
 * @brief One denied system call, as the violation monitor saw it.
 *
 * Filled in by sbx_result_violation(), or passed to an #sbx_violation_fn.
 * The structure may grow at its end in later versions: `size` says how much
 * of it is valid.
 * @since 0.1
 */
typedef struct sbx_violation {
    /** sizeof(sbx_violation): set by the caller of sbx_result_violation(); in a
     * callback, the size the library filled in. */
    size_t size;
    /** The system call's name ("ptrace"), or "syscall_NNN" for a number this
     * library cannot name. Owned by the result (or, in a callback, valid only
     * during the call). */
    const char *syscall;
    /** The system call number (native architecture). */
    int nr;
    /** The errno the call failed with in the child (positive). */
    int error;
    /** The thread that made the call, as a pid of the host's pid namespace. */
    pid_t pid;
    /** The six raw arguments. */
    uint64_t args[6];
    /** When the call was seen, in nanoseconds since the spawn. */
    uint64_t time_ns;
    /** 1 when the call is a routine probe of a library, not an attempt on
     * anything: `socket(AF_NETLINK, ..., NETLINK_ROUTE)`, which getifaddrs()
     * makes (node, so every npm run). Still denied and counted; the
     * command line sums these up apart ("denied probes (benign)").
     * @since 0.2 */
    int benign;
} sbx_violation;

/**
 * @brief A function that sees each violation as it happens.
 *
 * It runs on the thread that calls sbx_child_wait(), sbx_child_poll() or
 * sbx_run() for the child, after the child's call was answered. It must not
 * call into the library with the same child.
 * @param violation The violation (valid during the call only).
 * @param userdata The pointer given to sbx_set_violation_callback().
 * @since 0.1
 */
typedef void (*sbx_violation_fn)(const sbx_violation *violation, void *userdata);

/**
 * @brief Deny a system call.
 *
 * Replaces any earlier rule for the same name (sbx_allow_syscall(), or the
 * default deny table's entry, including its argument checks: a denied
 * `socket` is denied for every family). Applies in both modes.
 *
 * A few calls the library itself needs between attaching the filter and the
 * program's start cannot be denied: execve, sendmsg, close, rt_sigprocmask,
 * exit and exit_group.
 *
 * @param policy The policy.
 * @param name A system call name of the native architecture ("ptrace").
 * @param error The errno the call fails with, 1 to 4095, or #SBX_SYSCALL_KILL to
 *              kill the calling process with SIGSYS. Calls denied with an errno
 *              are reported as violations; killed ones are not (the child's
 *              result shows the signal).
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a name unknown to this library (the message
 *                 names it), a call that cannot be denied, or an errno out of range.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_deny_syscall(sbx_policy *policy, const char *name, int error);

/**
 * @brief Allow a system call without conditions.
 *
 * In allow-list mode this adds to the base set. In the default mode it lifts
 * the deny table's entry for that call, including argument checks (allowing
 * `clone3` or `ioctl` lets namespace flags or TIOCSTI through). Replaces an
 * earlier sbx_deny_syscall() of the same name.
 *
 * @param policy The policy.
 * @param name A system call name of the native architecture.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument or a name unknown to this library (the message names it).
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_allow_syscall(sbx_policy *policy, const char *name);

/**
 * @brief Choose allow-list mode (default: off, the deny list).
 *
 * In allow-list mode only the base set (docs/seccomp.md: file and directory
 * calls, memory, signals, threads and processes, pipes, polling, sockets,
 * time; enough for sh, python3, git and gcc) and the calls given to
 * sbx_allow_syscall() are allowed. The deny table's argument checks still
 * apply to the base set (clone namespace flags, TIOCSTI/TIOCLINUX, socket
 * families and, without the network, UDP and raw sockets, personality
 * changes). Other calls fail with ENOSYS, so that libraries fall back to older
 * calls, except those of the deny table, which keep its errno.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_syscall_allowlist(sbx_policy *policy, int on);

/**
 * @brief Choose whether denied calls are reported to the host (default: on).
 *
 * Off, the kernel answers denied calls itself with their errno: nothing is
 * recorded, the callback and the violation limit do not apply, and the host
 * need not service the child while it runs. #SBX_LAYER_MONITOR is then
 * reported only for the wall-clock limit.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_violation_monitor(sbx_policy *policy, int on);

/**
 * @brief Set a function called for each violation of each child of this policy.
 *
 * The function may be called from any thread that waits for such a child,
 * and from several at once for different children.
 *
 * @param policy The policy.
 * @param fn The function, or NULL to remove it.
 * @param userdata Passed to @p fn unchanged.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_violation_callback(sbx_policy *policy, sbx_violation_fn fn,
                                               void *userdata);

/**
 * @brief Kill a child after a number of violations.
 *
 * When the child's @p count-th denied call is seen, its whole process group is
 * killed (the call never returns) and its status is #SBX_STATUS_VIOLATION.
 *
 * @param policy The policy.
 * @param count 1 to 2^32-1, or #SBX_UNLIMITED (the default: count only).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a count out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_violation_limit(sbx_policy *policy, uint64_t count);

/** @brief Denied calls per second after which a child is killed, unless the
 *  policy says otherwise (sbx_set_violation_rate()). @since 0.2 */
#define SBX_VIOLATION_RATE_DEFAULT 1000

/**
 * @brief Kill a child that keeps making denied calls faster than a rate.
 *
 * Each denied call the monitor reports costs the host a round trip; a child
 * looping on one could make the host spend its CPU on it. When more than
 * @p per_second denied calls arrive within one second, the child's whole tree
 * is killed and its status is #SBX_STATUS_VIOLATION ("violation_kill": "rate"
 * in the result's JSON). Repeats are counted, not all kept: see
 * sbx_result_violation_kind().
 *
 * @param policy The policy.
 * @param per_second 1 to 1000000, or 0 to turn the rate limit off (the default is
 *        #SBX_VIOLATION_RATE_DEFAULT).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a rate out of range.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_violation_rate(sbx_policy *policy, uint64_t per_second);

/**
 * @brief How many denied calls the result counts but does not keep in detail.
 *
 * The result keeps the first #SBX_VIOLATIONS_KEPT denied calls
 * (sbx_result_violation()); every later one is dropped from that list, and
 * only counted: in sbx_result_violation_count(), and under its kind
 * (sbx_result_violation_kind()). The kept calls and the dropped ones add up to
 * sbx_result_violation_count(). "violations_dropped" in the result's JSON.
 * @param result The result (NULL gives 0).
 * @return The count of denied calls not kept in detail.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_violations_dropped(const sbx_result *result);

/**
 * @brief How many of the denied calls were benign probes (sbx_violation::benign).
 *
 * They are part of sbx_result_violation_count() (and of the violation limit
 * and rate), and each benign kind is a kind of its own
 * (sbx_result_violation_kind()). "violations_benign" in the result's JSON.
 * @param result The result (NULL gives 0).
 * @return The count.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_violations_benign(const sbx_result *result);

/**
 * @brief How many different kinds of denied calls (a system call, its errno, and
 * whether it is a benign probe) the child made.
 *
 * Every denied call is counted under its kind; the first 32 kinds are kept, and
 * the calls of further kinds are only counted in sbx_result_violation_count().
 * @param result The result (NULL gives 0).
 * @return The number of kinds kept, at most 32.
 * @since 0.2
 */
SBX_API size_t sbx_result_violation_kinds(const sbx_result *result);

/**
 * @brief One kind of denied call: its first occurrence and how many times it happened.
 * @param result The result.
 * @param index 0 to sbx_result_violation_kinds() - 1, in the order the kinds first appeared.
 * @param[in,out] ret Set `ret->size = sizeof(*ret)` first; receives the first call of
 *                    that kind (its `syscall` string is owned by the result).
 * @param[out] count Receives how many calls of that kind were denied.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or `ret->size` too small.
 * @retval -ERANGE No kind at that index.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_result_violation_kind(const sbx_result *result, size_t index,
                                              sbx_violation *ret, uint64_t *count);

/**
 * @brief How many denied calls the child made (reported ones; see sbx_set_violation_monitor()).
 * @param result The result (NULL gives 0).
 * @return The count, which may exceed #SBX_VIOLATIONS_KEPT.
 * @since 0.1
 */
SBX_API uint64_t sbx_result_violation_count(const sbx_result *result);

/**
 * @brief One of the first #SBX_VIOLATIONS_KEPT violations, in the order they happened.
 * @param result The result.
 * @param index 0 to min(count, #SBX_VIOLATIONS_KEPT) - 1.
 * @param[in,out] ret Set `ret->size = sizeof(*ret)` first; receives the violation, whose
 *                    `syscall` string is owned by the result.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or `ret->size` too small.
 * @retval -ERANGE No violation is kept at that index.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_result_violation(const sbx_result *result, size_t index,
                                         sbx_violation *ret);

/**
 * @brief Choose whether execs the sandbox denies are reported (default: off).
 *
 * On (and with the violation monitor on, when Landlock handles the execute
 * right or the mount view is in use), every `execve`/`execveat` of the child
 * after its first waits for the host, which reads the path from the child,
 * decides from the policy whether Landlock or a `noexec` mount will refuse it,
 * records the ones that will be (sbx_result_exec_denial()), and lets the call
 * continue: the kernel still decides, and the report never allows anything.
 * A hostile child can keep its execs from the report (it is a diagnosis, not
 * a confinement); it cannot run anything more for it.
 *
 * Each exec then costs a round trip to the host, and, like a denied call,
 * waits until the host services the child: sbx_run(), sbx_child_wait(),
 * sbx_child_poll() or an event loop on sbx_child_fd() do; a host that reads
 * the child's pipes itself before waiting would stall it, which is why this
 * is off by default. The `agentsbx` command line turns it on.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_exec_reporting(sbx_policy *policy, int on);

/**
 * @brief Why an exec was denied (sbx_exec_denial::reason).
 * @since 0.2
 */
enum sbx_exec_denied {
    /** The policy grants no execute right on the file (Landlock): grant the
     * program with sbx_allow_tool(), or its directory with #SBX_FS_EXEC. */
    SBX_EXEC_DENIED_NOT_GRANTED = 1,
    /** The file is on a mount that does not allow execution (`noexec`: the
     * mount view's private /tmp and /dev/shm): run it from a granted directory. */
    SBX_EXEC_DENIED_NOEXEC_MOUNT = 2,
};

/**
 * @brief An exec the child tried that the sandbox stopped.
 *
 * Reported with sbx_set_exec_reporting() on. Denials are coalesced by path
 * and reason. The structure may grow at its end: `size` says how much is valid.
 * @since 0.2
 */
typedef struct sbx_exec_denial {
    /** sizeof(sbx_exec_denial): set by the caller. */
    size_t size;
    /** The file as the child named it ("/usr/bin/uname"; a longer name is cut
     * and ends with "..."). Owned by the result. */
    const char *path;
    /** Why: an #sbx_exec_denied value. */
    int reason;
    /** The process that tried first, as a pid of the host's pid namespace. */
    pid_t pid;
    /** When it first tried, in nanoseconds since the spawn. */
    uint64_t time_ns;
    /** How many times this path was denied for this reason. */
    uint64_t count;
} sbx_exec_denial;

/**
 * @brief How many execs the sandbox denied (see #sbx_exec_denial).
 *
 * Not part of sbx_result_violation_count(): seccomp denied no system call (the
 * kernel refused the exec), and they do not count towards
 * sbx_set_violation_limit() or sbx_set_violation_rate().
 * @param result The result (NULL gives 0).
 * @return The count, over every path.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_exec_denial_count(const sbx_result *result);

/**
 * @brief How many different denied execs (a path and a reason) the result keeps.
 *
 * The first 32 are kept; later ones are only counted in
 * sbx_result_exec_denial_count().
 * @param result The result (NULL gives 0).
 * @return The number kept, at most 32.
 * @since 0.2
 */
SBX_API size_t sbx_result_exec_denials(const sbx_result *result);

/**
 * @brief One denied exec (a path and a reason), in the order they first happened.
 * @param result The result.
 * @param index 0 to sbx_result_exec_denials() - 1.
 * @param[in,out] ret Set `ret->size = sizeof(*ret)` first; receives the denial,
 *                    whose `path` is owned by the result.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or `ret->size` too small.
 * @retval -ERANGE No denial is kept at that index.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_result_exec_denial(const sbx_result *result, size_t index,
                                           sbx_exec_denial *ret);

/**
 * @brief The words for an #sbx_exec_denied value: "not granted", "noexec mount".
 * @param reason The value.
 * @return A static string; "unknown" for a value this version does not know.
 * @since 0.2
 */
SBX_API const char *sbx_exec_denied_name(int reason);

/**
 * @brief Choose whether file and network accesses the sandbox denies are
 * reported (diagnose mode; default: off).
 *
 * On (and with the violation monitor on and Landlock in force), the
 * path-taking calls of the child (`open`, `openat`, `openat2`, `creat`,
 * `mkdir`, `mkdirat`, `unlink`, `unlinkat`, `rmdir`, `rename`, `renameat`,
 * `renameat2`, `link`, `linkat`, `symlink`, `symlinkat`, `truncate`) and
 * `connect` and `bind` wait for the host, which resolves the path as the
 * child would (against the child's directory and root, following the links
 * the call follows), decides from the policy's Landlock rules whether
 * Landlock will refuse the call, records the ones it will
 * (sbx_result_access_denial()) and lets every call continue: Landlock
 * still decides, and the report never allows anything. It is a diagnosis,
 * not a confinement: a hostile child can keep its calls from it (by
 * changing the path after the host read it), never do more for it.
 *
 * Each such call costs a round trip to the host (docs/seccomp.md,
 * "Diagnose mode", measures it) and waits until the host services the
 * child, as with sbx_set_exec_reporting(). A policy without the monitor
 * or without Landlock reports nothing. The `agentsbx run --diagnose`
 * option turns it on.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_diagnose(sbx_policy *policy, int on);

/**
 * @brief What a denied access was (sbx_access_denial::kind).
 * @since 0.2
 */
enum sbx_access_kind {
    /** A file or directory: sbx_access_denial::path and sbx_access_denial::missing. */
    SBX_ACCESS_FILE = 1,
    /** An outgoing TCP connection: sbx_access_denial::port (sbx_allow_connect()). */
    SBX_ACCESS_CONNECT = 2,
    /** A TCP bind: sbx_access_denial::port (sbx_allow_bind()). */
    SBX_ACCESS_BIND = 3,
};

/**
 * @brief A file or network access the child tried that Landlock stopped.
 *
 * Reported with sbx_set_diagnose() on. Denials are coalesced by kind, path
 * (or port) and missing right. The structure may grow at its end: `size`
 * says how much is valid.
 * @since 0.2
 */
typedef struct sbx_access_denial {
    /** sizeof(sbx_access_denial): set by the caller. */
    size_t size;
    /** An #sbx_access_kind value. */
    int kind;
    /** The system call ("openat", "connect"). Owned by the result. */
    const char *syscall;
    /** #SBX_ACCESS_FILE: the file or directory as resolved in the child's
     * view ("/home/u/.cache/x"; a longer one is cut and ends with "...");
     * "" otherwise. Owned by the result. */
    const char *path;
    /** #SBX_ACCESS_FILE: the directory a grant would name (the path when
     * a directory is listed, else the directory it is in); "" otherwise.
     * Owned by the result. */
    const char *dir;
    /** #SBX_ACCESS_FILE: the rights the policy lacks there, as sbx_allow_path()
     * takes them: #SBX_FS_READ, #SBX_FS_EXEC or parts of #SBX_FS_WRITE
     * (#SBX_FS_WRITE_FILE, #SBX_FS_TRUNCATE, #SBX_FS_CREATE, #SBX_FS_REMOVE,
     * #SBX_FS_MAKE_SYMLINK, #SBX_FS_REFER); 0 otherwise. */
    uint64_t missing;
    /** #SBX_ACCESS_CONNECT, #SBX_ACCESS_BIND: the TCP port; -1 otherwise. */
    int port;
    /** The process that tried first, as a pid of the host's pid namespace. */
    pid_t pid;
    /** When it first tried, in nanoseconds since the spawn. */
    uint64_t time_ns;
    /** How many times this access was denied. */
    uint64_t count;
} sbx_access_denial;

/**
 * @brief How many file and network accesses Landlock denied, as diagnose
 * mode predicted them (see #sbx_access_denial).
 *
 * Not part of sbx_result_violation_count() (seccomp denied no system call),
 * and not counted towards sbx_set_violation_limit() or sbx_set_violation_rate().
 * @param result The result (NULL gives 0).
 * @return The count, over every path and port.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_access_denial_count(const sbx_result *result);

/**
 * @brief How many different denied accesses the result keeps.
 *
 * The first 32 are kept; later ones are only counted in
 * sbx_result_access_denial_count().
 * @param result The result (NULL gives 0).
 * @return The number kept, at most 32.
 * @since 0.2
 */
SBX_API size_t sbx_result_access_denials(const sbx_result *result);

/**
 * @brief One denied access, in the order they first happened.
 * @param result The result.
 * @param index 0 to sbx_result_access_denials() - 1.
 * @param[in,out] ret Set `ret->size = sizeof(*ret)` first; receives the
 *                    denial, whose strings are owned by the result.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or `ret->size` too small.
 * @retval -ERANGE No denial is kept at that index.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_result_access_denial(const sbx_result *result, size_t index,
                                             sbx_access_denial *ret);

/**
 * @brief Choose whether the child's accesses are recorded to learn a policy
 * from (learn mode; default: off).
 *
 * On, the monitor records what the child does, allowed or not, as diagnose
 * mode sees it (sbx_set_diagnose(), which learn mode implies, with
 * sbx_set_exec_reporting()): the programs it executes, the files it reads,
 * the directories it lists, makes files in or removes them from, the files
 * it writes, and its TCP connects and binds. sbx_policy_learn() turns a
 * result's record into grants. Learn mode grants nothing itself: run the
 * child under a policy wide enough for it to do its work (the `agentsbx
 * learn` command reads and executes everywhere, writes in its directory,
 * and keeps every other layer); paths are recorded as the host names them,
 * so run it without the mount view (#SBX_ISOLATION_MINIMAL). The record
 * keeps 65536 paths and 64 ports of each kind.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_learn(sbx_policy *policy, int on);

/**
 * @brief Add to a policy the grants that would have allowed what a child
 * run in learn mode did (sbx_set_learn()).
 *
 * The smallest set the record allows, collapsed to directories:
 * - each directory something was made in or removed from, or a file written
 *   in, is granted read and write (#SBX_FS_READ | #SBX_FS_WRITE), a
 *   directory beneath another such one only through it; a directory that no
 *   longer exists is replaced by its nearest existing parent;
 * - a program executed from beneath such a directory (one the run built)
 *   adds #SBX_FS_EXEC to it; any other is granted with sbx_allow_tool() by
 *   its absolute path (one per file: `/bin/sh` and `/usr/bin/sh` once);
 * - a file read elsewhere is granted #SBX_FS_READ by itself when at most 3
 *   files of its directory were read and that directory was not listed,
 *   else its directory is; beneath /sys/fs/cgroup (paths named after the
 *   host's session or container) with #SBX_FS_OPTIONAL too;
 * - TCP ports with sbx_allow_connect() and sbx_allow_bind().
 * Left out: what the default view grants already (reading /usr, /bin, /sbin,
 * /lib*, /etc; /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom,
 * /dev/tty), /proc, the child's private TMPDIR, and /tmp and /dev/shm
 * themselves (a directory beneath them is kept). Write the policy out with
 * sbx_policy_to_json() and review it.
 *
 * @param policy The policy to add the grants to.
 * @param result The result of a child run with learn mode on.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or a result without learn mode's record
 *         (learn mode off, or no monitor).
 * @retval -E2BIG The record was full: some accesses were not recorded (the
 *         grants of the rest are added).
 * @retval -ENOMEM Out of memory.
 * @return Or an error of sbx_allow_path(), sbx_allow_tool(),
 *         sbx_allow_connect() or sbx_allow_bind() (the message names the path).
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_policy_learn(sbx_policy *policy, const sbx_result *result);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_SECCOMP_H */
