/**
 * @file agentsbx/carve.h
 * @brief Carve-outs: paths denied beneath the grants.
 *
 * A grant opens a tree; a carve-out closes part of it again, whatever grant
 * covers it. See docs/carve-outs.md for how each is enforced with and without
 * the mount namespace's view.
 */
#ifndef AGENTSBX_CARVE_H
#define AGENTSBX_CARVE_H

#include "common.h"
#include "policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Deny a path beneath the grants: hide it (#SBX_FS_READ) or make it
 * read-only (#SBX_FS_WRITE).
 *
 * A denied path stays denied whatever grant covers it, the default view
 * (/etc, /usr...) and the working directory included, and whether or not it
 * exists yet. #SBX_FS_READ hides it: a directory shows empty, a file cannot
 * be opened, and neither can be written. #SBX_FS_WRITE leaves it readable
 * and stops every change beneath it (writing, creating, removing, renaming).
 *
 * With the mount namespace's view (the default where the host allows it) a
 * denied directory is covered by an empty read-only tmpfs, a denied file by
 * an unopenable device node, a write-denied path by a read-only bind of
 * itself, and a missing one by an empty read-only directory (its mount point
 * is created, empty, on the host); the directories between the grant and a
 * denied path are made mount points, which cannot be renamed or removed, so
 * that no rename or link swap gets around it. Without the view (isolation
 * #SBX_ISOLATION_MINIMAL, or a host without namespaces) Landlock cannot deny
 * beneath a grant: a file hidden inside a grant that cannot write is
 * expressed by granting its siblings instead of its parent, when the policy
 * is compiled; any other deny that a grant covers makes the spawn fail with
 * -EOPNOTSUPP and a message naming the path. A grant beneath a denied path
 * is refused when the policy is compiled (-EINVAL).
 *
 * @param policy The policy.
 * @param path An absolute path without "." or ".." components; it need not exist.
 * @param access #SBX_FS_READ, #SBX_FS_WRITE or both (denying both is the same
 * as #SBX_FS_READ). A path denied twice is denied the union.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a path that is relative, "/", not
 * normalised or longer than PATH_MAX, or bad access bits.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_deny_path(sbx_policy *policy, const char *path, uint64_t access);

/**
 * @brief The number of paths the policy denies (sbx_deny_path()).
 * @param policy The policy, or NULL (0).
 * @return The number of entries.
 * @since 0.2
 */
SBX_API size_t sbx_policy_denied_count(const sbx_policy *policy);

/**
 * @brief One denied path of the policy, in the order they were added.
 * @param policy The policy.
 * @param index 0 to sbx_policy_denied_count() - 1.
 * @param[out] ret_path Receives the path; valid until the policy changes or is freed.
 * @param[out] ret_access Receives its #SBX_FS_READ / #SBX_FS_WRITE bits (may be NULL).
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -ERANGE @p index is out of range.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_policy_denied(const sbx_policy *policy, size_t index, const char **ret_path,
                                      uint64_t *ret_access);

/**
 * @brief Add a name to the protected list: `name` is made read-only (as by
 * sbx_deny_path() with #SBX_FS_WRITE) inside every write grant and the
 * working directory.
 *
 * Every policy starts with a default list (shell start-up files, git's
 * config, hooks and submodules, editor and agent configuration: see
 * docs/carve-outs.md and sbx_protected_default()). A protected name that
 * exists in a write grant is made read-only there; one that does not exist
 * is made impossible to create only where its parent directory exists below
 * the grant (`.git/hooks` in a repository: an empty directory is left as its
 * mount point). An explicit grant at or beneath a protected path lifts it.
 * Without the mount namespace's view a protected name that exists inside a
 * write grant cannot be enforced, and the spawn fails with -EOPNOTSUPP naming
 * it (lift it with sbx_unprotect(), or run with namespaces); one that does
 * not exist is not enforced there (docs/carve-outs.md says why).
 *
 * @param policy The policy.
 * @param name A relative path, normalised (no empty, "." or ".." component,
 * no leading or trailing '/'), such as ".env" or "config/secrets".
 * @retval 0 Success (also when the name is listed already).
 * @retval -EINVAL A NULL argument, or a name that is absolute, empty or not normalised.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_protect_path(sbx_policy *policy, const char *name);

/**
 * @brief Remove a name from the protected list (a default one, or one added
 * with sbx_protect_path()).
 * @param policy The policy.
 * @param name A name of the list, as listed (".git/hooks").
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -ENOENT @p name is not in the policy's protected list.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_unprotect(sbx_policy *policy, const char *name);

/**
 * @brief The policy's effective protected list, one name at a time.
 * @param policy The policy.
 * @param index 0, 1, ... until -ERANGE.
 * @param[out] ret_name Receives the name; valid until the policy changes or is freed.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -ERANGE @p index is past the end of the list.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_policy_protected(const sbx_policy *policy, size_t index,
                                         const char **ret_name);

/**
 * @brief The default protected list, one name at a time (static strings).
 * @param index 0, 1, ...
 * @return The name, or NULL past the end of the list.
 * @since 0.2
 */
SBX_API const char *sbx_protected_default(size_t index);

/**
 * @brief Show a host directory or file at another path in the child's view
 * (a workspace always at `/workspace`, a tool tree at a fixed path).
 *
 * Needs the mount namespace's view: without it (isolation
 * #SBX_ISOLATION_MINIMAL, or a host without namespaces) the spawn fails with
 * -EOPNOTSUPP naming the bind. @p src is resolved like a grant when the policy
 * is compiled (no link a sandboxed child could have planted is followed); @p
 * dest is made in the view (on the view's own tmpfs when nothing bound shows
 * it; inside a bound directory it must exist, or be creatable there). The
 * source is granted @p access (Landlock) under both names.
 *
 * @param policy The policy.
 * @param src An absolute path that exists.
 * @param dest An absolute, normalised path other than "/".
 * @param access #SBX_FS_READ, #SBX_FS_WRITE, #SBX_FS_EXEC, combined.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a relative or not normalised path, "/", or bad access bits.
 * @retval -ENOENT @p src does not exist.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_bind(sbx_policy *policy, const char *src, const char *dest,
                             uint64_t access);

/**
 * @brief Mount an empty, writable tmpfs at a path of the child's view.
 *
 * Needs the mount namespace's view (see sbx_bind()). The tmpfs is private to
 * the child, nosuid, nodev and noexec, and holds at most @p size bytes.
 *
 * @param policy The policy.
 * @param path An absolute, normalised path other than "/".
 * @param size Its size in bytes (at least 4096), or 0 for the memory limit
 * (sbx_limit_memory()) or, without one, the kernel's default (half the RAM).
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a relative or not normalised path, "/", or a size
 * below 4096.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_tmpfs(sbx_policy *policy, const char *path, uint64_t size);

#ifdef __cplusplus
}
#endif

#endif
