/* Learn mode's policy (sbx_policy_learn()): the grants that would have
 * allowed what a child run with sbx_set_learn() did, from the record the
 * monitor kept (diagnose.c, monitor.c), collapsed to directories. Only
 * public builder calls add to the policy: what it writes out is what
 * sbx_policy_to_json() writes for any policy. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pathwalk.h"
#include "seccomp_layer.h"

/* Beneath base (or base itself). */

/* What the default grants already let every child read (landlock.c). */
static bool read_by_default(const char *path)
{
    static const char *const dirs[] = {"/usr",   "/bin",   "/sbin",   "/lib",
                                       "/lib64", "/lib32", "/libx32", "/etc"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (sbx__path_under(path, dirs[i]))
            return true;
    static const char *const files[] = {"/dev/null",   "/dev/zero",    "/dev/full",
                                        "/dev/random", "/dev/urandom", "/dev/tty"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (strcmp(path, files[i]) == 0)
            return true;
    return false;
}

static bool written_by_default(const char *path)
{
    static const char *const files[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/tty"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (strcmp(path, files[i]) == 0)
            return true;
    return false;
}

/* Never learned: the child's own TMPDIR, /proc (the view mounts the
 * child's own), and /tmp and /dev/shm themselves (the view's are private). */
static bool left_out(const struct sbx__learned *l, const char *path)
{
    return (l->tmpdir[0] && sbx__path_under(path, l->tmpdir)) || sbx__path_under(path, "/proc") ||
           strcmp(path, "/tmp") == 0 || strcmp(path, "/dev/shm") == 0 || strcmp(path, "/") == 0;
}

/* A growing list of malloc'd paths, with a word of flags each. */
struct list {
    char **path;
    uint32_t *flag;
    size_t n, cap;
};

static int list_add(struct list *l, const char *path, uint32_t flag)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->path[i], path) == 0) {
            l->flag[i] |= flag;
            return 0;
        }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **p = realloc(l->path, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        l->path = p;
        uint32_t *f = realloc(l->flag, cap * sizeof(*f));
        if (!f)
            return -ENOMEM;
        l->flag = f;
        l->cap = cap;
    }
    if (!(l->path[l->n] = strdup(path)))
        return -ENOMEM;
    l->flag[l->n++] = flag;
    return 0;
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->path[i]);
    free(l->path);
    free(l->flag);
}

/* The directory path is in, into buf[PATH_MAX]. */
static void parent_of(const char *path, char *buf)
{
    if (buf != path)
        snprintf(buf, PATH_MAX, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash == buf)
        buf[1] = '\0';
    else if (slash)
        *slash = '\0';
}

/* The index of an entry of l that path is beneath (not path itself), or -1. */
static long covered(const struct list *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->path[i], path) != 0 && sbx__path_under(path, l->path[i]))
            return (long)i;
    return -1;
}

#define WRITE_EXEC 1u /* a written directory the run executed something beneath */
#define READ_DIR   1u /* a read entry that is a directory */

static int learn(sbx_policy *policy, const struct sbx__learned *l)
{
    struct list w = {0}, r = {0}, tools = {0}, dirs_read = {0}, parents = {0};
    struct stat st;
    char buf[PATH_MAX];
    int rc = 0;

    /* The written directories, each existing one. */
    for (size_t i = 0; rc == 0 && i < l->cap; i++) {
        const struct sbx__learn_entry *e = &l->e[i];
        if (!e->path || !(e->what & (SBX__LEARN_WRITE_DIR | SBX__LEARN_WRITE_FILE)))
            continue;
        if (e->what & SBX__LEARN_WRITE_DIR)
            snprintf(buf, sizeof(buf), "%s", e->path);
        else if (written_by_default(e->path))
            continue;
        else
            parent_of(e->path, buf);
        while (buf[0] == '/' && buf[1] && stat(buf, &st) != 0)
            parent_of(buf, buf);
        if (!left_out(l, buf) && !written_by_default(buf))
            rc = list_add(&w, buf, 0);
    }
    /* Programs: beneath a written directory (built by the run), the directory
     * executes; else a tool, once per file. */
    for (size_t i = 0; rc == 0 && i < l->cap; i++) {
        const struct sbx__learn_entry *e = &l->e[i];
        if (!e->path || !(e->what & SBX__LEARN_EXEC))
            continue;
        long at = covered(&w, e->path);
        if (at >= 0) {
            w.flag[at] |= WRITE_EXEC;
            continue;
        }
        if (stat(e->path, &st) != 0)
            continue; /* gone: it was the run's own */
        bool seen = false;
        for (size_t t = 0; t < tools.n && !seen; t++) {
            struct stat ts;
            seen =
                stat(tools.path[t], &ts) == 0 && ts.st_dev == st.st_dev && ts.st_ino == st.st_ino;
        }
        if (!seen)
            rc = list_add(&tools, e->path, 0);
    }
    /* Reads: directories listed, and the directories of files read. */
    for (size_t i = 0; rc == 0 && i < l->cap; i++) {
        const struct sbx__learn_entry *e = &l->e[i];
        if (e->path && (e->what & SBX__LEARN_READ_DIR))
            rc = list_add(&dirs_read, e->path, 0);
    }
    /* How many files of each directory were read. */
    for (size_t i = 0; rc == 0 && i < l->cap; i++) {
        const struct sbx__learn_entry *e = &l->e[i];
        if (!e->path || !(e->what & SBX__LEARN_READ_FILE))
            continue;
        parent_of(e->path, buf);
        size_t p = 0;
        while (p < parents.n && strcmp(parents.path[p], buf) != 0)
            p++;
        if (p < parents.n)
            parents.flag[p]++;
        else
            rc = list_add(&parents, buf, 1);
    }
    for (size_t i = 0; rc == 0 && i < l->cap; i++) {
        const struct sbx__learn_entry *e = &l->e[i];
        if (!e->path || !(e->what & SBX__LEARN_READ_FILE) || read_by_default(e->path) ||
            left_out(l, e->path) || covered(&w, e->path) >= 0)
            continue;
        parent_of(e->path, buf);
        size_t files = 0;
        for (size_t p = 0; p < parents.n && !files; p++)
            if (strcmp(parents.path[p], buf) == 0)
                files = parents.flag[p];
        bool listed = false;
        for (size_t d = 0; d < dirs_read.n && !listed; d++)
            listed = strcmp(dirs_read.path[d], buf) == 0;
        if (listed || files > 3)
            rc = list_add(&r, buf, READ_DIR);
        else
            rc = list_add(&r, e->path, 0);
    }
    for (size_t d = 0; rc == 0 && d < dirs_read.n; d++) {
        const char *p = dirs_read.path[d];
        if (!read_by_default(p) && !left_out(l, p) && covered(&w, p) < 0 && strcmp(p, "/") != 0)
            rc = list_add(&r, p, READ_DIR);
    }

    /* The grants: written directories not beneath another, reads not beneath
     * a grant; what no longer exists is left out. */
    for (size_t i = 0; rc == 0 && i < w.n; i++) {
        if (covered(&w, w.path[i]) >= 0)
            continue;
        uint64_t access = SBX_FS_READ | SBX_FS_WRITE;
        for (size_t j = 0; j < w.n; j++)
            if ((w.flag[j] & WRITE_EXEC) && sbx__path_under(w.path[j], w.path[i]))
                access |= SBX_FS_EXEC;
        rc = sbx_allow_path(policy, w.path[i], access);
    }
    for (size_t i = 0; rc == 0 && i < r.n; i++) {
        if (covered(&w, r.path[i]) >= 0 || stat(r.path[i], &st) != 0)
            continue;
        long at = covered(&r, r.path[i]);
        if (at >= 0 && (r.flag[at] & READ_DIR))
            continue;
        /* A cgroup's files are named after the host's session or container
         * (node reads its memory limit there): optional, so that the policy
         * still loads where that cgroup is gone. */
        rc = sbx_allow_path(
            policy, r.path[i],
            SBX_FS_READ | (sbx__path_under(r.path[i], "/sys/fs/cgroup") ? SBX_FS_OPTIONAL : 0));
    }
    for (size_t i = 0; rc == 0 && i < tools.n; i++)
        rc = sbx_allow_tool(policy, tools.path[i]);
    for (size_t i = 0; rc == 0 && i < l->n_ports[0]; i++)
        rc = sbx_allow_connect(policy, l->ports[0][i]);
    for (size_t i = 0; rc == 0 && i < l->n_ports[1]; i++)
        rc = sbx_allow_bind(policy, l->ports[1][i]);
    if (rc == -ENOMEM)
        rc = sbx__errno(-ENOMEM, "sbx_policy_learn");
    list_free(&w);
    list_free(&r);
    list_free(&tools);
    list_free(&dirs_read);
    list_free(&parents);
    return rc;
}

int sbx_policy_learn(sbx_policy *policy, const sbx_result *result)
{
    sbx__check_arg(policy);
    sbx__check_arg(result);
    const struct sbx__learned *l = result->violations ? result->violations->learned : NULL;
    if (!l)
        return sbx__err(-EINVAL,
                        "%s: the result has no record of learn mode (the child ran without "
                        "sbx_set_learn(), or without the violation monitor)",
                        __func__);
    int rc = learn(policy, l);
    if (rc == 0 && l->truncated)
        return sbx__err(-E2BIG,
                        "%s: learn mode's record was full (more than %d paths or %d ports of "
                        "a kind): what was recorded is granted, the rest is not",
                        __func__, SBX__LEARN_MAX, SBX__LEARN_PORTS);
    return rc;
}
