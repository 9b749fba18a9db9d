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
#include "result.h"

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

/** The most overlays a policy may have (sbx_overlay()). */
#define SBX_OVERLAY_MAX 8

/**
 * @brief Show a host directory writable to the child while its changes land
 * in another directory: the host's directory is left untouched, and the host
 * reviews the changes after the run (sbx_overlay_changes()), then applies
 * (sbx_overlay_apply()) or discards them (sbx_overlay_discard()).
 *
 * The child sees @p lower at its own path, read and write (not executable),
 * as an overlayfs mount whose upper directory is @p upper. Needs the mount
 * namespace's view: without it (isolation #SBX_ISOLATION_MINIMAL, or the
 * auto isolation's fallback on a host without namespaces) the spawn fails
 * with -EOPNOTSUPP and a message naming the overlay and the isolation. The
 * protected list (sbx_protect_path()) and the denied paths (sbx_deny_path())
 * hold inside the overlay as in a write grant. A grant at or beneath @p lower
 * (the working directory included) is shown through the overlay (read and
 * write, not executable). An upper directory serves one child at a time: a
 * spawn while another child runs with it fails with -EBUSY, one with a
 * non-empty upper directory with -ENOTEMPTY.
 *
 * @p upper must be empty or absent when the child is spawned (it is created,
 * 0700); each spawn needs an empty one. It must lie outside @p lower, on a
 * file system that can hold an overlay's upper directory (with user extended
 * attributes: not an overlayfs, nor NFS). With @p upper NULL, each spawn makes
 * a private one (in $TMPDIR, else /var/tmp: agentsbx-overlay.XXXXXX), which
 * the result names (sbx_result_overlay()). An upper directory is never
 * removed by the library: sbx_overlay_discard() does. The overlay's work
 * directory, a sibling of the upper one (.agentsbx-work.XXXXXX), is made for
 * each spawn and removed after the child ends. Files of @p lower must belong
 * to the calling user and group to be changed in the child (the user
 * namespace maps only those).
 *
 * @param policy The policy.
 * @param lower An absolute, normalised path of a directory, other than "/".
 * @param upper An absolute, normalised path, or NULL for a private one per spawn.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a path that is relative, "/" or not
 * normalised, @p lower overlapping another overlay's, an @p upper inside @p
 * lower (or the reverse), or an @p upper used by another overlay.
 * @retval -ENOENT @p lower does not exist, or @p upper's parent does not.
 * @retval -ENOTDIR @p lower, or an existing @p upper, is not a directory.
 * @retval -EOPNOTSUPP @p upper lies on an overlayfs or NFS.
 * @retval -E2BIG More than #SBX_OVERLAY_MAX overlays.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_overlay(sbx_policy *policy, const char *lower, const char *upper);

/**
 * @brief The number of overlays a finished child ran with (sbx_overlay()).
 * @param result The result, or NULL (0).
 * @return The number of overlays.
 * @since 0.2
 */
SBX_API size_t sbx_result_overlay_count(const sbx_result *result);

/**
 * @brief One overlay of a finished child: its lower directory and the upper
 * directory that holds the child's changes (the private one, when the policy
 * named none).
 * @param result The result.
 * @param index 0 to sbx_result_overlay_count() - 1, in the policy's order.
 * @param[out] ret_lower Receives the lower directory (may be NULL); valid
 * until the result is freed.
 * @param[out] ret_upper Receives the upper directory (may be NULL); valid
 * until the result is freed.
 * @retval 0 Success.
 * @retval -EINVAL A NULL @p result.
 * @retval -ERANGE @p index is out of range.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_result_overlay(const sbx_result *result, size_t index,
                                       const char **ret_lower, const char **ret_upper);

/** A change list (sbx_overlay_changes()): opaque. */
typedef struct sbx_changes sbx_changes;

/** What happened to a path (sbx_changes_get()). */
enum sbx_change_kind {
    SBX_CHANGE_ADDED = 1,    /**< New: absent from the lower directory. */
    SBX_CHANGE_MODIFIED = 2, /**< Its content, mode or link target differs. */
    SBX_CHANGE_DELETED = 3,  /**< Removed (and its contents, listed too). */
};

/** The type of a changed path (sbx_changes_get()). */
enum sbx_file_type {
    SBX_FILE_REGULAR = 1,   /**< A regular file. */
    SBX_FILE_DIRECTORY = 2, /**< A directory. */
    SBX_FILE_SYMLINK = 3,   /**< A symbolic link. */
    SBX_FILE_OTHER = 4,     /**< A fifo, socket or device (sbx_overlay_apply() refuses it). */
};

/**
 * @brief List what an overlay's upper directory changes in its lower one.
 *
 * Compares the tree the child saw (the upper directory over the lower one)
 * with the lower one, following no link: a path of the upper directory absent
 * from the lower one is added; one present in both is modified when its type,
 * permission bits, content (files) or target (links) differ (a file rewritten
 * with the same bytes and mode is not); a whiteout deletes the lower path (and
 * each path beneath it, listed too); an opaque directory deletes what the
 * lower one held beneath it and was not made again. A path whose type changed
 * is listed twice: deleted, then added. Sorted by path (bytes).
 *
 * @param lower The lower directory (absolute).
 * @param upper The upper directory (absolute).
 * @param[out] ret Receives the list; free it with sbx_changes_free().
 * @retval 0 Success (an empty list when nothing changed).
 * @retval -EINVAL A NULL argument, or a relative path.
 * @retval -ENOENT @p lower or @p upper does not exist.
 * @retval -ENOTDIR @p lower or @p upper is not a directory.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_overlay_changes(const char *lower, const char *upper, sbx_changes **ret);

/**
 * @brief The number of changes in a list.
 * @param changes The list, or NULL (0).
 * @return The number of changes.
 * @since 0.2
 */
SBX_API size_t sbx_changes_count(const sbx_changes *changes);

/**
 * @brief One change of a list.
 * @param changes The list.
 * @param index 0 to sbx_changes_count() - 1.
 * @param[out] ret_path Receives the path, relative to the lower directory (may
 * be NULL); valid until the list is freed.
 * @param[out] ret_kind Receives an #sbx_change_kind (may be NULL).
 * @param[out] ret_type Receives an #sbx_file_type (may be NULL): the new type,
 * or for a deletion the old one.
 * @retval 0 Success.
 * @retval -EINVAL A NULL @p changes.
 * @retval -ERANGE @p index is out of range.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_changes_get(const sbx_changes *changes, size_t index, const char **ret_path,
                                    int *ret_kind, int *ret_type);

/**
 * @brief Free a change list.
 * @param changes The list, or NULL (nothing).
 * @since 0.2
 */
SBX_API void sbx_changes_free(sbx_changes *changes);

/**
 * @brief The name of a change kind: "added", "modified", "deleted".
 * @param kind An #sbx_change_kind.
 * @return A static string, or NULL for an unknown kind.
 * @since 0.2
 */
SBX_API const char *sbx_change_kind_name(int kind);

/**
 * @brief The name of a file type: "file", "dir", "symlink", "other".
 * @param type An #sbx_file_type.
 * @return A static string, or NULL for an unknown type.
 * @since 0.2
 */
SBX_API const char *sbx_file_type_name(int type);

/**
 * @brief Apply an overlay's changes to its lower directory: after it, the
 * lower directory holds what the child saw.
 *
 * Walks both trees from directory descriptors, following no link: a deleted
 * path is removed, a directory made (or its mode set), a file or link written
 * beside its place and renamed over it; a link of the upper directory is
 * copied as a link, never followed, and a link of the lower directory where
 * the upper one has a directory is replaced, not entered. Set-user-ID and
 * set-group-ID bits are dropped (a child's file never becomes a privileged
 * program of whoever applies it); a directory is kept writable by its owner
 * while it is filled, then given its mode. Hard links,
 * extended attributes, owners and times are not carried (docs/carve-outs.md).
 * The upper directory is checked first: one holding a fifo, socket or device
 * is refused before anything changes. The upper directory is left as it is
 * (sbx_overlay_discard() removes it).
 *
 * @param lower The lower directory (absolute).
 * @param upper The upper directory (absolute).
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or a relative path.
 * @retval -ENOENT @p lower or @p upper does not exist.
 * @retval -ENOTDIR @p lower or @p upper is not a directory.
 * @retval -EOPNOTSUPP The upper directory holds a fifo, socket or device (named).
 * @retval -ENOMEM Out of memory.
 * Other negative errnos pass through from the file system, with the path named.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_overlay_apply(const char *lower, const char *upper);

/**
 * @brief Remove an overlay's upper directory and everything in it, following
 * no link.
 * @param upper The upper directory (absolute).
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a relative path, or "/".
 * @retval -ENOENT @p upper does not exist.
 * @retval -ENOTDIR @p upper is not a directory.
 * Other negative errnos pass through from the file system, with the path named.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_overlay_discard(const char *upper);

#ifdef __cplusplus
}
#endif

#endif
