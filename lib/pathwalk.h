/* Resolving the paths of grants (pathwalk.c) without following symbolic links
 * that a sandboxed child could have planted. Nothing here is exported. */
#ifndef SBX_PATHWALK_H
#define SBX_PATHWALK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Directories the policy lets its children write: a link inside one of them
 * is never followed (a child of this very policy could have made it). */
struct sbx__write_dirs {
    const char *const *paths;
    size_t n;
};

/* Open `path` (absolute) with O_PATH, one component at a time, following a
 * symbolic link only when no sandboxed child could have made it:
 *   - the link and its directory belong to root, the directory is writable by
 *     root only, and it is not inside a directory of `writable`;
 *   - and, when this process is root (whose children are uid 0 too, and own
 *     what they create), the directory is one of the system's own ("/",
 *     "/usr", "/etc", "/var", ...: see pathwalk.c).
 * Returns the descriptor (O_PATH | O_CLOEXEC), or a negative errno: -ELOOP for
 * a refused link, with `why` saying which link and where it points, and the
 * resolved path so far in `real` when not NULL (PATH_MAX bytes). Other
 * errors are those of openat(2) on the component that failed. */
int sbx__open_grant(const char *path, const struct sbx__write_dirs *writable, char *real, char *why,
                    size_t why_size) __attribute__((visibility("hidden")));

/* Whether the absolute path is dir or beneath it ("/" holds every path). */
bool sbx__path_under(const char *path, const char *dir) __attribute__((visibility("hidden")));
/* An absolute path without empty, "." or ".." components, nor a trailing '/'. */
bool sbx__path_normalised(const char *path) __attribute__((visibility("hidden")));

struct stat;
/* Landlock's walk from a directory to the root, for deciding as it does: visit
 * dir's inode, then each directory above it, reached through ".." (which
 * crosses mount points, as Landlock's walk does), until visit returns true,
 * the root is reached (its ".." is itself) or 4096 levels are. Returns whether
 * visit returned true; dir stays open. System calls only: no allocation. */
bool sbx__walk_up(int dir, bool (*visit)(const struct stat *st, void *arg), void *arg)
    __attribute__((visibility("hidden")));

/* A path resolved as a sandboxed child resolves it (the seccomp monitor's
 * exec reports, diagnose mode): from the child's root and directory opened
 * through /proc/PID/{root,cwd,fd/N}, one component at a time, a link followed
 * by its text from that root ("..": never above it), at most 40 links; a
 * procfs link (/proc/self, fd/N) is not followed: its text names what the
 * reader, not the child, would see. */
struct sbx__resolved {
    int dir;                  /* the directory the last component is in (O_PATH) */
    int file;                 /* the object (O_PATH), or -1 when it does not exist */
    char shown[PATH_MAX];     /* where, as the child sees it */
    char dir_shown[PATH_MAX]; /* its directory */
};
/* Resolve path from dir (shown as dir_shown) or, absolute, from root;
 * follow_last: follow a link in the last component. 0 with *out filled
 * (out->file -1: the last component does not exist; a path ending in a
 * directory gives that directory and its parent), or -1: it cannot be
 * resolved (a missing directory, a loop, a procfs link, ENOTDIR). */
int sbx__resolve_as_child(int root, int dir, const char *dir_shown, const char *path,
                          bool follow_last, struct sbx__resolved *out)
    __attribute__((visibility("hidden")));
void sbx__resolved_close(struct sbx__resolved *r) __attribute__((visibility("hidden")));

#endif
