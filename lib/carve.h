/* Carve-outs (carve.c): resolving a denied path, for the mount view (view.c)
 * and the Landlock fallback (carve.c) alike. Nothing here is exported. */
#ifndef SBX_CARVE_H
#define SBX_CARVE_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pathwalk.h"

/* A denied path as it is on the host when the policy is compiled. */
struct sbx__deny_at {
    char real[PATH_MAX]; /* without links: the existing part resolved, the rest appended */
    bool exists, is_dir;
    uint64_t dev, ino; /* when it exists */
};

/* Resolve a denied path (absolute, normalised) like a grant (pathwalk.c: no
 * link a child could have planted), its missing tail appended as it is.
 * 0, or a negative errno with `why` saying which link was refused. Inline: the
 * mount view (a layer) and carve.c (the core) both use it, and a layer calls
 * no core file. */
static inline int sbx__deny_resolve(const char *path, const struct sbx__write_dirs *writable,
                                    struct sbx__deny_at *at, char *why, size_t why_size)
{
    char head[PATH_MAX];
    snprintf(head, sizeof(head), "%s", path);
    size_t tail = strlen(path); /* where the missing tail starts in path */
    for (;;) {
        char real[PATH_MAX];
        int fd = sbx__open_grant(head, writable, real, why, why_size);
        if (fd >= 0) {
            struct stat st;
            int err = fstat(fd, &st) != 0 ? -errno : 0;
            close(fd);
            if (err < 0)
                return err;
            at->exists = path[tail] == '\0';
            at->is_dir = at->exists ? S_ISDIR(st.st_mode) : true;
            at->dev = st.st_dev;
            at->ino = st.st_ino;
            if (!at->exists && !S_ISDIR(st.st_mode))
                return -ENOTDIR; /* a file where a directory of the path should be */
            int n = snprintf(at->real, sizeof(at->real), "%s%s",
                             strcmp(real, "/") == 0 && path[tail] ? "" : real, path + tail);
            return n < 0 || (size_t)n >= sizeof(at->real) ? -ENAMETOOLONG : 0;
        }
        if (fd != -ENOENT)
            return fd;
        char *slash = strrchr(head, '/');
        if (!slash || slash == head) {
            if (slash == head && head[1]) { /* the parent is "/" */
                tail = 0;
                head[1] = '\0';
                continue;
            }
            return -ENOENT;
        }
        tail = (size_t)(slash - head);
        *slash = '\0';
    }
}

#endif
