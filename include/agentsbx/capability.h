/**
 * @file agentsbx/capability.h
 * @brief Linux capabilities: every child starts with none, unless the policy
 * keeps named ones.
 *
 * In every configuration, with or without namespaces, root or not, the child
 * drops its capabilities before it executes the program: the bounding,
 * ambient, inheritable, permitted and effective sets are emptied (the
 * bounding set only when the child holds CAP_SETPCAP, that is, when the host
 * is root or the child has a user namespace of its own), and the securebits
 * are locked so that a uid 0 gains nothing at execve(2). A child that would
 * still hold a capability it was not given is a spawn failure
 * (#SBX_STAGE_CAPABILITIES). sbx_result_capabilities() tells what the
 * program started with. See docs/security-model.md.
 */
#ifndef AGENTSBX_CAPABILITY_H
#define AGENTSBX_CAPABILITY_H

#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The capability sets of a process, as sbx_result_capabilities() reports them.
 *  Values are append-only. @since 0.2 */
enum sbx_capset {
    /** The effective set: what the program's system calls are checked against. */
    SBX_CAPS_EFFECTIVE = 0,
    /** The permitted set: what it may make effective. */
    SBX_CAPS_PERMITTED = 1,
    /** The inheritable set. */
    SBX_CAPS_INHERITABLE = 2,
    /** The bounding set: what any later execve(2) could ever grant. */
    SBX_CAPS_BOUNDING = 3,
    /** The ambient set: what is kept across execve(2) of an ordinary program. */
    SBX_CAPS_AMBIENT = 4,
};

/**
 * @brief Keep one capability in the child.
 *
 * The child keeps it in its effective, permitted, inheritable, ambient and
 * bounding sets, so that the program (and the programs it executes) hold it;
 * every other capability is dropped. Only a capability the host process
 * itself holds can be kept: otherwise the spawn fails with -EPERM. With a
 * user namespace the capability is the namespace's own, over its own
 * resources (its network namespace, its mounts), not the host's.
 *
 * @param policy The policy.
 * @param name A capability name as capabilities(7) spells it, with or without
 *             the `CAP_` prefix, in any case: `"CAP_NET_BIND_SERVICE"`,
 *             `"net_bind_service"`.
 * @retval 0 Success.
 * @retval -EINVAL NULL argument, or a name this library does not know (the
 *         message names it).
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_keep_capability(sbx_policy *policy, const char *name);

/**
 * @brief The capabilities a policy keeps.
 * @param policy The policy, or NULL.
 * @return A mask with bit N set for capability number N (0 for NULL).
 * @since 0.2
 */
SBX_API uint64_t sbx_policy_kept_capabilities(const sbx_policy *policy);

/**
 * @brief The number of a capability.
 * @param name As for sbx_keep_capability().
 * @return The capability's number (0 to 63), or -EINVAL for NULL or an unknown name.
 * @since 0.2
 */
SBX_API int sbx_capability_from_name(const char *name);

/**
 * @brief The name of a capability, as capabilities(7) spells it (`"CAP_SYS_ADMIN"`).
 * @param cap A capability number.
 * @return A static string, or NULL for a number this library does not know.
 * @since 0.2
 */
SBX_API const char *sbx_capability_name(int cap);

/**
 * @brief A capability set the program started with.
 *
 * Recorded by the child right before execve(2), after the drop; it is also
 * what the program holds after execve(2), since no_new_privs and the locked
 * securebits keep execve(2) from adding any. The bounding set is the host's
 * when the child could not drop it (an unprivileged host without a user
 * namespace: then the other sets are empty and nothing can raise them).
 *
 * @param result The result.
 * @param set An #sbx_capset value.
 * @return A mask with bit N set for capability number N; 0 for a NULL result
 *         or an unknown set.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_capabilities(const sbx_result *result, int set);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_CAPABILITY_H */
