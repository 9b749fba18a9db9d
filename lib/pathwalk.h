/* Resolving the paths of grants (pathwalk.c) without following symbolic links
 * that a sandboxed child could have planted. Nothing here is exported. */
#ifndef SBX_PATHWALK_H
#define SBX_PATHWALK_H

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

#endif
