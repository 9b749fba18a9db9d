/**
 * @file agentsbx/policy.h
 * @brief The policy builder: what a child may do, and its limits.
 *
 * A policy starts deny-by-default and every call widens or bounds it. Setters
 * validate their input at once and copy it; their order does not matter. The
 * policy is compiled (tool paths resolved, environment block and limit table
 * built) the first time a child is spawned from it, and again only after it
 * changes.
 *
 * Thread-safety: any number of threads may spawn from one policy at once, but a
 * policy must not be changed (or freed) while another thread uses it.
 */
#ifndef AGENTSBX_POLICY_H
#define AGENTSBX_POLICY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A sandbox policy (opaque). @since 0.1 */
typedef struct sbx_policy sbx_policy;

/** @brief Passed to an `sbx_limit_*` call to remove that limit. @since 0.1 */
#define SBX_UNLIMITED UINT64_MAX

/**
 * @brief Create an empty policy.
 *
 * The new policy: a clean environment of `PATH=/usr/local/bin:/usr/bin:/bin`,
 * `LANG=C.UTF-8` and `HOME` (the working directory if one is set, else `/`);
 * the host's working directory; no resource limits other than core dumps off;
 * standard streams as the host passes them; the child dies with the thread
 * that spawned it; every layer strict.
 *
 * @param[out] ret Receives the policy; free it with sbx_policy_free().
 * @retval 0 Success.
 * @retval -EINVAL @p ret is NULL.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_policy_new(sbx_policy **ret);

/**
 * @brief Free a policy. Children already spawned from it are not affected.
 * @param policy The policy, or NULL (a no-op).
 * @since 0.1
 */
SBX_API void sbx_policy_free(sbx_policy *policy);

/**
 * @brief Set the child's working directory.
 *
 * The directory is not checked here: if the child cannot enter it, the spawn
 * fails with the errno of chdir(2) and a message such as
 * `chdir(/nope): No such file or directory`.
 *
 * @param policy The policy.
 * @param dir An absolute path, at most PATH_MAX bytes long.
 * @retval 0 Success.
 * @retval -EINVAL @p policy or @p dir is NULL, or @p dir is relative, empty or too long.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_workdir(sbx_policy *policy, const char *dir);

/**
 * @brief Set an environment variable in the child.
 *
 * Replaces any earlier setting of the same name, including a default one.
 *
 * @param policy The policy.
 * @param name A variable name: not empty, no `=`, no NUL, at most 255 bytes.
 * @param value The value (copied); any string without NUL.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument or an invalid name.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_env(sbx_policy *policy, const char *name, const char *value);

/**
 * @brief Pass a variable of the host's environment through to the child.
 *
 * The host's value is read now, by this call; if the host does not have the
 * variable, the child will not have it either (and an earlier setting of the
 * same name is removed).
 *
 * @param policy The policy.
 * @param name A variable name, as for sbx_set_env().
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument or an invalid name.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_pass_env(sbx_policy *policy, const char *name);

/**
 * @brief Remove a variable from the child's environment (also a default one).
 * @param policy The policy.
 * @param name A variable name, as for sbx_set_env(); removing an unset one is not an error.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument or an invalid name.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_unset_env(sbx_policy *policy, const char *name);

/**
 * @brief Limit the CPU time (user + system) of each process of the child.
 *
 * Enforced with RLIMIT_CPU: at @p seconds the process gets SIGXCPU, one second
 * later SIGKILL. A child that dies of either reports #SBX_STATUS_CPU_LIMIT.
 *
 * @param policy The policy.
 * @param seconds 1 to 31536000 (a year), or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_cpu_time(sbx_policy *policy, uint64_t seconds);

/**
 * @brief Limit the child's wall-clock time.
 *
 * When the time is up, the library kills the child's whole process group with
 * SIGKILL (it cannot be caught or ignored), reaps it, and reports
 * #SBX_STATUS_TIMED_OUT. The deadline is checked by sbx_child_wait() and
 * sbx_child_poll(); it needs no thread and no signal handler.
 *
 * @param policy The policy.
 * @param milliseconds 1 to 31536000000 (a year), or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_wall_time(sbx_policy *policy, uint64_t milliseconds);

/**
 * @brief Limit the memory each process of the child may allocate.
 *
 * Enforced with RLIMIT_DATA (heap and private writable mappings): allocations
 * beyond it fail with ENOMEM, while address space that is only reserved
 * (PROT_NONE, as language runtimes do) does not count.
 *
 * @param policy The policy.
 * @param bytes 1 MiB to 2^50, or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_memory(sbx_policy *policy, uint64_t bytes);

/**
 * @brief Limit the number of file descriptors each process of the child may open
 * (RLIMIT_NOFILE; opening beyond it fails with EMFILE).
 * @param policy The policy.
 * @param count 4 to 1048576, or #SBX_UNLIMITED (the host's own limit is kept).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_open_files(sbx_policy *policy, uint64_t count);

/**
 * @brief Limit the size of any file the child writes.
 *
 * Enforced with RLIMIT_FSIZE: a write past it raises SIGXFSZ (a child that
 * dies of it reports #SBX_STATUS_FILE_SIZE_LIMIT) or, if that signal is
 * ignored, fails with EFBIG.
 *
 * @param policy The policy.
 * @param bytes 0 to 2^62, or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_file_size(sbx_policy *policy, uint64_t bytes);

/**
 * @brief Limit the number of processes (and threads).
 *
 * Enforced with RLIMIT_NPROC, which counts every process of the child's real
 * user id, not only the child's own, and does not bind a process that has
 * CAP_SYS_ADMIN or CAP_SYS_RESOURCE (root): when the child would run with
 * either, sbx_spawn() fails with -EOPNOTSUPP unless #SBX_LAYER_RLIMITS was
 * marked best-effort, in which case the result does not report
 * #SBX_LAYER_RLIMITS as enforced.
 *
 * @param policy The policy.
 * @param count 1 to 4194304, or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_processes(sbx_policy *policy, uint64_t count);

/**
 * @brief Limit how much of each output stream sbx_run() keeps.
 *
 * Output beyond the limit is read and discarded (the child never blocks on a
 * full pipe) and the result says it was truncated. The default is 4 MiB per stream.
 *
 * @param policy The policy.
 * @param bytes 0 to 1 GiB.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_output(sbx_policy *policy, uint64_t bytes);

/**
 * @brief Mark layers best-effort.
 *
 * A layer that was asked for and cannot be enforced on this host makes
 * sbx_spawn() fail with -EOPNOTSUPP, unless it is marked best-effort here: then
 * the child runs without it and sbx_result_layers() does not report it.
 *
 * @param policy The policy.
 * @param layers A set of #sbx_layer bits (replaces the earlier set; 0 makes every layer strict).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a bit this version does not know.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_best_effort(sbx_policy *policy, uint32_t layers);

/**
 * @brief Choose whether the child is killed when its spawner goes away (default: on).
 *
 * With it on, the child gets SIGKILL when the host thread that called
 * sbx_spawn() exits (PR_SET_PDEATHSIG follows the thread, not the process):
 * spawn from a thread that outlives its children, or turn this off.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_die_with_parent(sbx_policy *policy, int on);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_POLICY_H */
