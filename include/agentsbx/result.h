/**
 * @file agentsbx/result.h
 * @brief How a child ended, what it used, and which layers held.
 *
 * A result is immutable once returned and may be read from any thread.
 */
#ifndef AGENTSBX_RESULT_H
#define AGENTSBX_RESULT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The result of a child (opaque). @since 0.1 */
typedef struct sbx_result sbx_result;

/**
 * @brief How a child ended. Values are append-only.
 *
 * A child whose sandbox could not be set up never runs: sbx_spawn() and
 * sbx_run() return an error instead of a result.
 * @since 0.1
 */
enum sbx_status {
    /** The child exited; see sbx_result_exit_code(). */
    SBX_STATUS_EXITED = 1,
    /** The child died of a signal not explained by a limit; see sbx_result_signal(). */
    SBX_STATUS_SIGNALED = 2,
    /** The wall-clock limit fired and the child was killed. */
    SBX_STATUS_TIMED_OUT = 3,
    /** The child died of SIGXCPU, or of SIGKILL after using its CPU limit. */
    SBX_STATUS_CPU_LIMIT = 4,
    /** The child died of SIGXFSZ: it wrote past its file-size limit. */
    SBX_STATUS_FILE_SIZE_LIMIT = 5,
    /** The kernel killed the child for exceeding its memory limit (needs a cgroup). */
    SBX_STATUS_MEMORY_LIMIT = 6,
    /** The host killed the child with sbx_child_kill(). */
    SBX_STATUS_KILLED = 7,
    /** The child reached its violation limit (sbx_set_violation_limit()) and was killed. */
    SBX_STATUS_VIOLATION = 8,
    /** The child spent a quota of the egress broker (sbx_limit_network_bytes(),
     *  sbx_limit_connections()) and was killed. @since 0.2 */
    SBX_STATUS_NETWORK_LIMIT = 9,
};

/**
 * @brief Free a result.
 * @param result The result, or NULL (a no-op).
 * @since 0.1
 */
SBX_API void sbx_result_free(sbx_result *result);

/**
 * @brief How the child ended.
 * @param result The result.
 * @return An #sbx_status value, or -EINVAL for a NULL result.
 * @since 0.1
 */
SBX_API int sbx_result_status(const sbx_result *result);

/**
 * @brief A stable lower-case name for a status: "exited", "signaled", "timed_out",
 * "cpu_limit", "file_size_limit", "memory_limit", "killed", "violation",
 * "network_limit".
 * @param status An #sbx_status value.
 * @return A static string; "unknown" for a value this version does not know.
 * @since 0.1
 */
SBX_API const char *sbx_status_name(int status);

/**
 * @brief The exit code, when the status is #SBX_STATUS_EXITED.
 * @param result The result.
 * @return 0 to 255; -1 if the child did not exit normally; -EINVAL for NULL.
 * @since 0.1
 */
SBX_API int sbx_result_exit_code(const sbx_result *result);

/**
 * @brief The signal that ended the child, when it died of one (also for the
 * timeout, limit and kill statuses).
 * @param result The result.
 * @return A signal number; 0 if the child exited normally; -EINVAL for NULL.
 * @since 0.1
 */
SBX_API int sbx_result_signal(const sbx_result *result);

/**
 * @brief Wall-clock time from spawn to the end of the child, in nanoseconds.
 * @param result The result (NULL gives 0).
 * @return Nanoseconds.
 * @since 0.1
 */
SBX_API uint64_t sbx_result_wall_ns(const sbx_result *result);

/**
 * @brief User CPU time of the child and the descendants it waited for, in nanoseconds.
 * @param result The result (NULL gives 0).
 * @return Nanoseconds.
 * @since 0.1
 */
SBX_API uint64_t sbx_result_user_cpu_ns(const sbx_result *result);

/**
 * @brief System CPU time of the child and the descendants it waited for, in nanoseconds.
 * @param result The result (NULL gives 0).
 * @return Nanoseconds.
 * @since 0.1
 */
SBX_API uint64_t sbx_result_system_cpu_ns(const sbx_result *result);

/**
 * @brief Peak resident set size of the largest process among the child and the
 * descendants it waited for (getrusage's ru_maxrss), in bytes.
 * @param result The result (NULL gives 0).
 * @return Bytes.
 * @since 0.1
 */
SBX_API uint64_t sbx_result_peak_rss_bytes(const sbx_result *result);

/**
 * @brief The layers that were enforced on the child.
 * @param result The result (NULL gives 0).
 * @return A set of #sbx_layer bits. A layer the policy did not use, or that was
 *         best-effort and could not be enforced, is absent.
 * @since 0.1
 */
SBX_API uint32_t sbx_result_layers(const sbx_result *result);

/**
 * @brief Standard output captured by sbx_run().
 * @param result The result.
 * @param[out] len Receives the number of bytes (may be NULL).
 * @return The bytes, NUL-terminated for convenience, owned by the result; an
 *         empty string when nothing was captured or @p result is NULL.
 * @since 0.1
 */
SBX_API const char *sbx_result_stdout(const sbx_result *result, size_t *len);

/**
 * @brief Standard error captured by sbx_run(); as sbx_result_stdout().
 * @param result The result.
 * @param[out] len Receives the number of bytes (may be NULL).
 * @return The bytes, NUL-terminated, owned by the result.
 * @since 0.1
 */
SBX_API const char *sbx_result_stderr(const sbx_result *result, size_t *len);

/**
 * @brief Whether sbx_run() discarded output past the output limit.
 * @param result The result.
 * @param stream 1 (stdout) or 2 (stderr).
 * @return 1 if that stream was truncated, 0 if not, -EINVAL for bad arguments.
 * @since 0.1
 */
SBX_API int sbx_result_truncated(const sbx_result *result, int stream);

/**
 * @brief Write the result as one JSON object (no newline) into @p buf.
 *
 * Keys, in this order: status, exit_code, signal, wall_ms, user_cpu_ms,
 * system_cpu_ms, peak_rss_bytes, peak_memory_bytes, memory_limit,
 * process_limit, cpu_rate_limit, tmp_limit (mechanism names:
 * sbx_result_limit_mechanism()), layers (array of names), namespaces (array of
 * names), tree_kill, prepared_ahead (only when true), landlock (abi, rights), capabilities
 * (effective, permitted, inheritable, bounding, ambient: masks as hex strings, bit N for capability
 * N), stdout_truncated, stderr_truncated, redactions and escapes (sbx_result_redactions(),
 * sbx_result_escapes()), audit_dropped, violation_count, violations (the kept violations, each with
 * syscall, nr, errno (a name such as "EPERM"), pid, time_ms, and args as hex strings),
 * violations_dropped, violation_kinds (syscall, errno, count), and, when the
 * child was killed for its violations, violation_kill ("limit" or "rate").
 * New keys may be added; existing ones keep their meaning.
 *
 * @param result The result.
 * @param buf Destination, NUL-terminated on success.
 * @param size Size of @p buf.
 * @return The length of the JSON text (as snprintf), which may exceed @p size - 1
 *         if the buffer was too small (then nothing useful is in @p buf);
 *         -EINVAL for a NULL result or NULL @p buf with a non-zero @p size.
 * @since 0.1
 */
SBX_API int sbx_result_to_json(const sbx_result *result, char *buf, size_t size);

/**
 * @brief The name of one layer bit: "hygiene", "rlimits", "no_new_privs",
 * "landlock", "seccomp", "namespaces", "cgroup", "monitor", "timeout".
 * @param layer One #sbx_layer bit.
 * @return A static string; "unknown" for anything else.
 * @since 0.1
 */
SBX_API const char *sbx_layer_name(uint32_t layer);

/** @brief Landlock rights that held for a child, as a bit set (sbx_result_landlock_rights()).
 * @since 0.1 */
enum sbx_landlock_right {
    /** File system access outside the grants (ABI 1). */
    SBX_LL_FS = 1u << 0,
    /** execve(2) of programs that were not granted (ABI 1). */
    SBX_LL_EXEC = 1u << 1,
    /** Controlled renames and links across directories (ABI 2; before it they are all denied). */
    SBX_LL_REFER = 1u << 2,
    /** truncate(2) outside write grants (ABI 3). */
    SBX_LL_TRUNCATE = 1u << 3,
    /** TCP bind and connect outside the port grants (ABI 4). */
    SBX_LL_TCP = 1u << 4,
    /** ioctl(2) on devices outside write grants (ABI 5). */
    SBX_LL_IOCTL_DEV = 1u << 5,
    /** Abstract unix sockets and signals of processes outside the sandbox (ABI 6). */
    SBX_LL_SCOPE = 1u << 6,
};

/**
 * @brief The Landlock ABI that confined the child.
 * @param result The result (NULL gives 0).
 * @return 0 if Landlock was not enforced, else the ABI version used.
 * @since 0.1
 */
SBX_API int sbx_result_landlock_abi(const sbx_result *result);

/**
 * @brief The Landlock rights that held for the child.
 * @param result The result (NULL gives 0).
 * @return A set of #sbx_landlock_right bits.
 * @since 0.1
 */
SBX_API uint32_t sbx_result_landlock_rights(const sbx_result *result);

/**
 * @brief Why the child started in `/` instead of the host's current directory, or NULL.
 *
 * A child whose policy and spawn name no working directory (sbx_set_workdir(),
 * sbx_spawn_opts.workdir) starts in the host's current directory, unless
 * Landlock does not let it read that directory (no grant covers it, a deny or
 * the protected list takes it away) and the policy grants nothing beneath it:
 * there every relative path would fail with EACCES, so the child starts in
 * `/` instead, under either isolation (the
 * mount view shows no directory the policy does not grant), and this says so:
 * "the child started in / instead of the host's current directory /home/u/x,
 * which the policy does not let it read; set a working directory
 * (sbx_set_workdir(), --workdir DIR) or grant it read (sbx_allow_path(p, DIR,
 * SBX_FS_READ), --ro DIR)" ("workdir_note" in the result's JSON). A program
 * named relative to the host's directory ("./tool") is still found there. A
 * policy working directory (sbx_set_workdir()) that a deny leaves unreadable
 * is an error instead (-EACCES at #SBX_STAGE_WORKDIR).
 * @param result The result (NULL gives NULL).
 * @return A string owned by the result, or NULL when the child started where
 *         it was asked to (or Landlock does not handle directory reads).
 * @since 0.2
 */
SBX_API const char *sbx_result_workdir_note(const sbx_result *result);

/**
 * @brief Whether the child ran in a sandbox prepared before its spawn
 * (sbx_prepare_ahead()).
 * @param result The result.
 * @return 1 if so ("prepared_ahead": true in the result's JSON, absent
 *         otherwise), 0 if the spawn set it up, and for a NULL result.
 * @since 0.2
 */
SBX_API int sbx_result_prepared_ahead(const sbx_result *result);

/**
 * @brief The name of one #sbx_landlock_right bit: "fs", "exec", "refer", "truncate",
 * "tcp", "ioctl_dev", "scope".
 * @param right One bit.
 * @return A static string; "unknown" for anything else.
 * @since 0.1
 */
SBX_API const char *sbx_landlock_right_name(uint32_t right);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_RESULT_H */
