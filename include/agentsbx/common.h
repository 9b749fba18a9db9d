/**
 * @file agentsbx/common.h
 * @brief Export macros, the layer bit set, and error reporting.
 *
 * Every fallible function of libagentsbx returns an `int`: 0 on success, or a
 * negative errno value. Kernel errnos keep their meaning; `-EINVAL` means the
 * caller passed something wrong, `-EBUSY` that the call came in the wrong phase,
 * and `-EOPNOTSUPP` that this kernel or host cannot enforce what was asked for.
 * After any failure, sbx_last_error() returns a message that names the step and
 * the object that failed.
 */
#ifndef AGENTSBX_COMMON_H
#define AGENTSBX_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @cond INTERNAL */
#if defined(SBX_BUILDING_LIBRARY) && defined(__GNUC__)
#define SBX_API __attribute__((visibility("default")))
#else
#define SBX_API
#endif

#if defined(__GNUC__)
#define SBX_WUR __attribute__((warn_unused_result))
#else
#define SBX_WUR
#endif
/** @endcond */

/**
 * @brief Confinement layers, as a bit set.
 *
 * Used to mark layers best-effort (sbx_set_best_effort()) and to report which
 * layers held for a child (sbx_result_layers()). Values are append-only.
 * @since 0.1
 */
enum sbx_layer {
    /** Clean environment, closed fds, new session, die-with-parent, umask. */
    SBX_LAYER_HYGIENE = 1u << 0,
    /** Resource limits set with setrlimit(2). */
    SBX_LAYER_RLIMITS = 1u << 1,
    /** prctl(PR_SET_NO_NEW_PRIVS): setuid bits and file capabilities are ignored. */
    SBX_LAYER_NO_NEW_PRIVS = 1u << 2,
    /** Landlock filesystem, network and scoping rules. */
    SBX_LAYER_LANDLOCK = 1u << 3,
    /** seccomp-bpf system call filter. */
    SBX_LAYER_SECCOMP = 1u << 4,
    /** Linux namespaces. */
    SBX_LAYER_NAMESPACES = 1u << 5,
    /** A cgroup per child. */
    SBX_LAYER_CGROUP = 1u << 6,
    /** The violation monitor: denied system calls reported to the host (seccomp.h).
     *  (Until 0.1 it also meant the wall-clock timeout: see #SBX_LAYER_TIMEOUT.) */
    SBX_LAYER_MONITOR = 1u << 7,
    /** The wall-clock timeout: the child's tree is killed at its deadline.
     *  Reported when a deadline is set; no host lacks it. @since 0.2 */
    SBX_LAYER_TIMEOUT = 1u << 8,
};

/** @brief Every layer bit defined by this version of the library (0x1ff since 0.2). @since 0.1 */
#define SBX_LAYER_ALL 0x1ffu

/**
 * @brief The symbolic name of an error code.
 *
 * @param err A negative errno value as returned by a libagentsbx call (a positive
 *            value is accepted too).
 * @return A static string such as `"EINVAL"`, or `"E?"` for a code the library does
 *         not know. Never NULL. Thread-safe.
 * @since 0.1
 */
SBX_API const char *sbx_errname(int err);

/**
 * @brief A short description of an error code.
 *
 * @param err A negative errno value as returned by a libagentsbx call (a positive
 *            value is accepted too; 0 gives "Success").
 * @return A static string such as `"Invalid argument"`. Never NULL. Thread-safe.
 * @since 0.1
 */
SBX_API const char *sbx_strerror(int err);

/**
 * @brief The detailed message of this thread's last failed libagentsbx call.
 *
 * The message names the step and the object that failed, for instance
 * `chdir(/nope): No such file or directory`. Successful calls do not clear it.
 *
 * @return A thread-local string, never NULL (empty when no call has failed on
 *         this thread). It stays valid until the next libagentsbx call on the
 *         same thread.
 * @since 0.1
 */
SBX_API const char *sbx_last_error(void);

/**
 * @brief Where a failed sbx_spawn() (or sbx_run()) stopped. Values are append-only.
 * @since 0.1
 */
enum sbx_stage {
    /** Not a spawn failure: argument checks, or a call other than a spawn. */
    SBX_STAGE_NONE = 0,
    /** Compiling the policy in the parent (resolving paths, building tables). */
    SBX_STAGE_COMPILE = 1,
    /** Finding the program (PATH search) in the parent. */
    SBX_STAGE_PROGRAM = 2,
    /** Creating the child (pipes, clone). */
    SBX_STAGE_CLONE = 3,
    /** In the child: session, signal dispositions, parent-death signal. */
    SBX_STAGE_PROCESS = 4,
    /** In the child: standard streams and closing inherited descriptors. */
    SBX_STAGE_FDS = 5,
    /** In the child: resource limits. */
    SBX_STAGE_RLIMITS = 6,
    /** In the child: changing to the working directory. */
    SBX_STAGE_WORKDIR = 7,
    /** In the child: no_new_privs. */
    SBX_STAGE_NO_NEW_PRIVS = 8,
    /** In the child: execve(2) of the program. */
    SBX_STAGE_EXEC = 9,
    /** Landlock: building the ruleset in the parent, or restricting the child. */
    SBX_STAGE_LANDLOCK = 10,
    /** In the child: attaching the seccomp filter and handing its listener to the host. */
    SBX_STAGE_SECCOMP = 11,
    /** The child's cgroups: choosing and creating them in the parent, or joining them in the
     *  child. */
    SBX_STAGE_CGROUP = 12,
    /** The child's namespaces: creating them (the clone), mapping the user and group ids,
     *  building the mount view, and starting the pid namespace's init. */
    SBX_STAGE_NAMESPACES = 13,
    /** In the child: dropping the capabilities (and keeping the ones the policy names).
     *  @since 0.2 */
    SBX_STAGE_CAPABILITIES = 14,
};

/**
 * @brief The stage at which this thread's last failed spawn stopped.
 *
 * Lets a caller tell "the program was not found" (#SBX_STAGE_PROGRAM or
 * #SBX_STAGE_EXEC with -ENOENT) from a failure to set up the sandbox.
 * @return An #sbx_stage value; #SBX_STAGE_NONE when the last failed call was not
 *         a spawn. Thread-local, like sbx_last_error().
 * @since 0.1
 */
SBX_API int sbx_last_error_stage(void);

/**
 * @brief A stable lower-case name for a stage ("compile", "program", "clone",
 * "process", "fds", "rlimits", "workdir", "no_new_privs", "exec", "landlock", "seccomp",
 * "cgroup", "namespaces", "capabilities"; "none").
 * @param stage An #sbx_stage value.
 * @return A static string; "unknown" for a value this version does not know.
 * @since 0.1
 */
SBX_API const char *sbx_stage_name(int stage);

/**
 * @brief The library's version, as `"MAJOR.MINOR.PATCH"`.
 *
 * Compare with #SBX_VERSION_STRING to detect a header/library mismatch.
 * @return A static string. Thread-safe.
 * @since 0.1
 */
SBX_API const char *sbx_version(void);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_COMMON_H */
