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
};

/** @brief One past the last #sbx_feature value of this version, for iterating. @since 0.1 */
#define SBX_FEATURE_END 8

/**
 * @brief Probe one feature.
 *
 * @param feature An #sbx_feature value.
 * @param reason Receives, when the feature is missing, why (for instance
 *               "landlock_create_ruleset: Operation not supported (Landlock is not
 *               enabled: add it to the lsm= boot parameter)"); an empty string
 *               when it is available. May be NULL.
 * @param reason_size Size of @p reason.
 * @return The feature's level (> 0) when it is available, 0 when it is not,
 *         -EINVAL for an unknown feature.
 * @since 0.1
 */
SBX_API int sbx_probe(int feature, char *reason, size_t reason_size);

/**
 * @brief A stable name for a feature: "landlock", "seccomp", "seccomp_notify",
 * "pidfd", "clone3", "close_range", "cgroup".
 * @param feature An #sbx_feature value.
 * @return A static string; "unknown" for anything else.
 * @since 0.1
 */
SBX_API const char *sbx_feature_name(int feature);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_PROBE_H */
