/**
 * @file agentsbx/cgroup.h
 * @brief The cgroup layer: a cgroup per child, for memory, process and CPU
 * bandwidth limits that bind every process of the child (root too), exact peak
 * memory, and a kill that nothing started by the child escapes.
 *
 * The layer is opt-in: sbx_use_cgroup() or sbx_set_cgroup_parent(). Cgroups are
 * created only beneath the process's own cgroups or beneath a parent the host
 * names, one per hierarchy used, named `agentsbx.<pid>.<n>`, and removed once
 * the child has ended, however it ended. See docs/cgroups.md.
 */
#ifndef AGENTSBX_CGROUP_H
#define AGENTSBX_CGROUP_H

#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Put each child in cgroups of its own, beneath this process's own cgroups.
 *
 * The parents are read from /proc/self/cgroup when the policy is compiled: the
 * cgroup2 hierarchy, and the cgroup v1 hierarchies of the memory and pids
 * controllers (and of the cpu controller when sbx_limit_cpu_rate() is set).
 * Each that this process can write to is used. With the layer on,
 * sbx_limit_memory() and sbx_limit_processes() are enforced by the cgroup
 * (memory.max / memory.limit_in_bytes, pids.max) instead of by rlimits, when a
 * writable hierarchy has the controller. A layer that cannot be set up makes
 * sbx_spawn() fail with -EOPNOTSUPP (stage #SBX_STAGE_CGROUP) naming what is
 * missing, unless #SBX_LAYER_CGROUP is best-effort: then the child runs
 * without a cgroup and the limits fall back to rlimits.
 *
 * Parents named with sbx_set_cgroup_parent() take precedence over this.
 *
 * Without this call, a cgroup is still used, where one is usable, for the
 * limits no rlimit holds: sbx_limit_processes() for a host RLIMIT_NPROC does
 * not bind (root), and sbx_limit_memory() for a root host (RLIMIT_DATA bounds
 * each process, the cgroup the whole tree, and reports a hit anywhere in it:
 * sbx_result_limit_hit()); where none is usable, the rlimits hold them (or
 * the rlimits layer fails, for the process limit). Calling it with 0 turns
 * that off too: no cgroup at all.
 *
 * @param policy The policy.
 * @param on 1, or 0: no cgroup, not even the automatic one above.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_use_cgroup(sbx_policy *policy, int on);

/**
 * @brief Name a cgroup directory, delegated by the host, beneath which each
 * child gets a cgroup of its own.
 *
 * The directory is a cgroup2 directory (its cgroup.subtree_control says which
 * controllers the child's cgroup has) or a directory of a cgroup v1 hierarchy
 * (its mount says which controllers: memory, pids, cpu). Call once per
 * hierarchy to use several (at most 4 parents). Naming a parent turns the layer on; only the
 * named parents are used then, never the process's own cgroups.
 *
 * @param policy The policy.
 * @param dir An absolute path of at most 200 bytes, on a cgroup or cgroup2
 *            file system; NULL forgets every parent named so far.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, a relative or too long path, a directory that is
 *         not a cgroup, or a fifth parent.
 * @retval -ENOENT @p dir does not exist.
 * @retval -ENOTDIR @p dir is not a directory.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_cgroup_parent(sbx_policy *policy, const char *dir);

/**
 * @brief Limit the CPU bandwidth of the child: all of its processes together
 * may use at most @p millicpus thousandths of a CPU, averaged over each period
 * of 100 ms (500: half a CPU; 2000: two CPUs).
 *
 * Enforced by the child's cgroup only: cgroup2 `cpu.max` ("QUOTA 100000"), or
 * cgroup v1 `cpu.cfs_period_us` = 100000 and `cpu.cfs_quota_us` = QUOTA, with
 * QUOTA = @p millicpus × 100 µs. The hierarchy with the cpu controller is found
 * as for memory and pids (see sbx_use_cgroup()). A process over its quota is
 * throttled (not killed) until the next period; the child's status is not
 * affected.
 *
 * The limit needs the cgroup layer (sbx_use_cgroup() or
 * sbx_set_cgroup_parent()). Without it, sbx_spawn() fails with -EINVAL at stage
 * #SBX_STAGE_COMPILE, with a message that says so; with the layer on and no
 * writable cpu controller, sbx_spawn() fails with -EOPNOTSUPP at stage
 * #SBX_STAGE_CGROUP. With #SBX_LAYER_CGROUP best-effort the child runs without
 * the limit instead, and sbx_result_limit_mechanism() reports
 * #SBX_MECHANISM_NONE for #SBX_LIMIT_CPU_RATE.
 *
 * @param policy The policy.
 * @param millicpus 10 (a hundredth of a CPU) to 1000000 (1000 CPUs), or #SBX_UNLIMITED
 *                  (the default) for no limit.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p millicpus out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_cpu_rate(sbx_policy *policy, uint64_t millicpus);

/** @brief Limits whose enforcing mechanism sbx_result_limit_mechanism() reports. @since 0.1 */
enum sbx_limit_kind {
    /** sbx_limit_memory(). */
    SBX_LIMIT_MEMORY = 1,
    /** sbx_limit_processes(). */
    SBX_LIMIT_PROCESSES = 2,
    /** sbx_limit_cpu_rate() (a cgroup or nothing). */
    SBX_LIMIT_CPU_RATE = 3,
    /** What bounds the memory of the private TMPDIR (sbx_set_private_tmp()) under
     *  sbx_limit_memory(): files in a tmpfs are memory that no rlimit counts.
     *  #SBX_MECHANISM_TMPFS (the mount namespace's own tmpfs, sized by the limit),
     *  #SBX_MECHANISM_CGROUP (tmpfs pages are charged to the child's cgroup),
     *  #SBX_MECHANISM_DISK (the directory is on a disk: it holds no memory), or
     *  #SBX_MECHANISM_NONE (no memory limit, no private TMPDIR, or best-effort).
     *  @since 0.2 */
    SBX_LIMIT_TMP = 4,
};

/** @brief How a limit was enforced. Values are append-only. @since 0.1 */
enum sbx_mechanism {
    /** Not enforced (not asked for, or best-effort and unavailable). */
    SBX_MECHANISM_NONE = 0,
    /** A resource limit (RLIMIT_DATA, RLIMIT_NPROC). */
    SBX_MECHANISM_RLIMIT = 1,
    /** The child's cgroup (memory.max or memory.limit_in_bytes, pids.max,
     * cpu.max or cpu.cfs_quota_us). */
    SBX_MECHANISM_CGROUP = 2,
    /** A tmpfs of the child's mount namespace, sized by the memory limit. @since 0.2 */
    SBX_MECHANISM_TMPFS = 3,
    /** A directory on a disk file system, not in memory. @since 0.2 */
    SBX_MECHANISM_DISK = 4,
};

/**
 * @brief Which mechanism enforced a limit for this child.
 * @param result The result (NULL gives #SBX_MECHANISM_NONE).
 * @param limit #SBX_LIMIT_MEMORY, #SBX_LIMIT_PROCESSES, #SBX_LIMIT_CPU_RATE or #SBX_LIMIT_TMP.
 * @return An #sbx_mechanism value; #SBX_MECHANISM_NONE for an unknown @p limit.
 * @since 0.1
 */
SBX_API int sbx_result_limit_mechanism(const sbx_result *result, int limit);

/**
 * @brief Peak memory use of the child's cgroup, every process together,
 * including page cache and tmpfs/memfd pages charged to it (cgroup2
 * memory.peak, or v1 memory.max_usage_in_bytes), in bytes.
 * @param result The result (NULL gives 0).
 * @return Bytes; 0 when the child had no cgroup with the memory controller.
 * @since 0.1
 */
SBX_API uint64_t sbx_result_peak_memory_bytes(const sbx_result *result);

/**
 * @brief Whether a limit was reached anywhere in the child's tree, even if the
 * main process ended normally: the cgroup's OOM killer killed a process
 * (or, on cgroup v1 without that count, the memory limit was reached), or
 * the cgroup refused a fork at the process limit.
 *
 * Known only where a cgroup enforced the limit (sbx_result_limit_mechanism()
 * is #SBX_MECHANISM_CGROUP): a resource limit (RLIMIT_DATA, RLIMIT_NPROC)
 * makes the call fail in the child, and the kernel counts it nowhere.
 * @param result The result.
 * @param limit #SBX_LIMIT_MEMORY or #SBX_LIMIT_PROCESSES.
 * @return 1 reached, 0 not (or not known: see above), 0 for a NULL result or
 *         another @p limit.
 * @since 0.2
 */
SBX_API int sbx_result_limit_hit(const sbx_result *result, int limit);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_CGROUP_H */
