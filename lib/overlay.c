/* Overlay workspaces (sbx_overlay()): the child sees a host directory
 * writable, its changes land in an upper directory, and the host reviews
 * them (sbx_overlay_changes()), applies them (sbx_overlay_apply()) or
 * discards them (sbx_overlay_discard()).
 *
 * The policy side, the per-spawn directories and the change list live here;
 * the mount itself is a step of the mount namespace's view (view.c), which
 * mounts overlayfs at the lower directory's own path, after the binds and
 * before the carve-outs, from descriptors the child opens in its own mount
 * namespace (overlayfs takes layers only from the mounter's namespace).
 *
 * Every walk here goes from directory descriptors, one level at a time, with
 * O_NOFOLLOW|O_DIRECTORY, and changes the lower directory only through
 * unlinkat/mkdirat/renameat relative to them: a link in either tree is never
 * followed, whatever a child left there. See docs/carve-outs.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer.h"
#include "pathwalk.h"
#include "view.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif
#ifndef NFS_SUPER_MAGIC
#define NFS_SUPER_MAGIC 0x6969
#endif

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* The directory that holds `path` (absolute, normalised), in buf. */
static void parent_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    snprintf(buf, size, "%.*s", (int)n, path);
}

/* The file system of `dir` can hold an upper directory: not an overlayfs, nor NFS. */
static int check_upper_fs(const char *func, const char *lower, const char *dir)
{
    struct statfs sf;
    if (statfs(dir, &sf) != 0)
        return sbx__errno(-errno, "%s(%s): statfs(%s)", func, lower, dir);
    if ((unsigned long)sf.f_type == OVERLAYFS_SUPER_MAGIC)
        return sbx__err(-EOPNOTSUPP,
                        "%s(%s): the upper directory's file system (%s) is an overlayfs, which "
                        "cannot hold an overlay's upper directory; choose one elsewhere",
                        func, lower, dir);
    if ((unsigned long)sf.f_type == NFS_SUPER_MAGIC)
        return sbx__err(-EOPNOTSUPP,
                        "%s(%s): the upper directory's file system (%s) is NFS, which cannot "
                        "hold an overlay's upper directory; choose one elsewhere",
                        func, lower, dir);
    return 0;
}

/* ---- the policy ------------------------------------------------------------------- */

int sbx_overlay(sbx_policy *policy, const char *lower, const char *upper)
{
    sbx__check_arg(policy);
    sbx__check_arg(lower);
    sbx__check(strlen(lower) < PATH_MAX && (!upper || strlen(upper) < PATH_MAX),
               "sbx_overlay: a path is longer than PATH_MAX");
    sbx__check(sbx__path_normalised(lower),
               "sbx_overlay(%s): the lower directory is not an absolute, normalised path other "
               "than '/'",
               lower);
    sbx__check(!upper || sbx__path_normalised(upper),
               "sbx_overlay(%s, %s): the upper directory is not an absolute, normalised path "
               "other than '/'",
               lower, upper);
    if (policy->n_overlays == SBX_OVERLAY_MAX)
        return sbx__err(-E2BIG, "sbx_overlay(%s): more than %d overlays", lower, SBX_OVERLAY_MAX);
    struct stat st;
    if (stat(lower, &st) != 0)
        return sbx__errno(-errno, "sbx_overlay(%s): the lower directory", lower);
    if (!S_ISDIR(st.st_mode))
        return sbx__err(-ENOTDIR, "sbx_overlay(%s): the lower directory is not a directory", lower);
    char real[PATH_MAX], ureal[PATH_MAX];
    if (!realpath(lower, real))
        return sbx__errno(-errno, "sbx_overlay(%s): realpath", lower);
    if (upper) {
        char parent[PATH_MAX];
        parent_of(upper, parent, sizeof(parent));
        if (lstat(upper, &st) == 0 && !S_ISDIR(st.st_mode))
            return sbx__err(-ENOTDIR,
                            "sbx_overlay(%s, %s): the upper directory is not a directory (nor "
                            "absent)",
                            lower, upper);
        if (stat(parent, &st) != 0)
            return sbx__errno(-errno, "sbx_overlay(%s, %s): the upper directory's parent %s", lower,
                              upper, parent);
        if (!S_ISDIR(st.st_mode))
            return sbx__err(-ENOTDIR,
                            "sbx_overlay(%s, %s): the upper directory's parent %s is not a "
                            "directory",
                            lower, upper, parent);
        if (!realpath(parent, ureal))
            return sbx__errno(-errno, "sbx_overlay(%s, %s): realpath(%s)", lower, upper, parent);
        size_t len = strlen(ureal);
        snprintf(ureal + len, sizeof(ureal) - len, "%s%s", strcmp(ureal, "/") ? "/" : "",
                 strrchr(upper, '/') + 1);
        if (sbx__path_under(ureal, real) || sbx__path_under(real, ureal))
            return sbx__err(-EINVAL,
                            "sbx_overlay(%s, %s): the upper directory and the lower one overlap",
                            lower, upper);
        int r = check_upper_fs("sbx_overlay", lower, parent);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < policy->n_overlays; i++) {
        const struct sbx__overlay *o = &policy->overlays[i];
        char other[PATH_MAX];
        if (!realpath(o->lower, other))
            snprintf(other, sizeof(other), "%s", o->lower);
        if (sbx__path_under(real, other) || sbx__path_under(other, real))
            return sbx__err(-EINVAL, "sbx_overlay(%s): overlaps the overlay of %s", lower,
                            o->lower);
        if (upper && o->upper && strcmp(upper, o->upper) == 0)
            return sbx__err(-EINVAL, "sbx_overlay(%s, %s): the upper directory of %s already",
                            lower, upper, o->lower);
        if (upper &&
            (sbx__path_under(upper, o->lower) || (o->upper && sbx__path_under(o->upper, lower))))
            return sbx__err(-EINVAL,
                            "sbx_overlay(%s, %s): an upper directory lies inside another "
                            "overlay's lower one",
                            lower, upper);
    }
    struct sbx__overlay *grown =
        realloc(policy->overlays, (policy->n_overlays + 1) * sizeof(*grown));
    if (!grown)
        return sbx__errno(-ENOMEM, "sbx_overlay(%s)", lower);
    policy->overlays = grown;
    char *l = strdup(lower), *u = upper ? strdup(upper) : NULL;
    if (!l || (upper && !u)) {
        free(l);
        free(u);
        return sbx__errno(-ENOMEM, "sbx_overlay(%s)", lower);
    }
    policy->overlays[policy->n_overlays++] = (struct sbx__overlay){l, u};
    sbx__policy_changed(policy);
    return 0;
}

static void policy_free(sbx_policy *policy)
{
    for (size_t i = 0; i < policy->n_overlays; i++) {
        free(policy->overlays[i].lower);
        free(policy->overlays[i].upper);
    }
    free(policy->overlays);
    policy->overlays = NULL;
    policy->n_overlays = 0;
}

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    if (!from->n_overlays)
        return 0;
    if (!(to->overlays = calloc(from->n_overlays, sizeof(*to->overlays))))
        return sbx__errno(-ENOMEM, "copying the policy's overlays");
    for (size_t i = 0; i < from->n_overlays; i++) {
        to->n_overlays++;
        to->overlays[i].lower = strdup(from->overlays[i].lower);
        to->overlays[i].upper = from->overlays[i].upper ? strdup(from->overlays[i].upper) : NULL;
        if (!to->overlays[i].lower || (from->overlays[i].upper && !to->overlays[i].upper))
            return sbx__errno(-ENOMEM, "copying the policy's overlays");
    }
    return 0;
}

/* ---- the plan --------------------------------------------------------------------- */

struct sbx__ovl_plan {
    size_t n;
    struct {
        char *lower; /* as the policy names it */
        char *real;  /* resolved: where the view mounts it */
        char *upper; /* NULL: a private one per spawn */
    } v[SBX_OVERLAY_MAX];
    /* the mount points the view makes inside an overlay for a missing denied
     * path (view.c: an empty directory under a read-only tmpfs), deepest
     * first: removed from the upper directory after the child, so that they
     * are not changes */
    size_t n_made;
    struct {
        size_t ovl;
        char *rel;
    } * made;
};

static void ovl_plan_free(struct sbx__ovl_plan *op)
{
    if (!op)
        return;
    for (size_t i = 0; i < op->n; i++) {
        free(op->v[i].lower);
        free(op->v[i].real);
        free(op->v[i].upper);
    }
    for (size_t i = 0; i < op->n_made; i++)
        free(op->made[i].rel);
    free(op->made);
    free(op);
}

static int push_made(struct sbx__ovl_plan *op, size_t ovl, const char *rel)
{
    for (size_t i = 0; i < op->n_made; i++)
        if (op->made[i].ovl == ovl && strcmp(op->made[i].rel, rel) == 0)
            return 0;
    void *grown = realloc(op->made, (op->n_made + 1) * sizeof(*op->made));
    if (!grown)
        return -ENOMEM;
    op->made = grown;
    if (!(op->made[op->n_made].rel = strdup(rel)))
        return -ENOMEM;
    op->made[op->n_made++].ovl = ovl;
    return 0;
}

static int compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    if (!policy->n_overlays)
        return 0;
    /* Without the view, carve.c's Landlock step has failed already. */
    const struct sbx__view *view = plan->ns ? plan->ns->view : NULL;
    if (!view)
        return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                              "sbx_overlay(%s): needs the mount namespace's view",
                              policy->overlays[0].lower);
    struct sbx__ovl_plan *op = calloc(1, sizeof(*op));
    if (!op)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "overlays");
    int r = 0;
    for (size_t i = 0; r == 0 && i < policy->n_overlays; i++) {
        const struct sbx__view_op *mount = NULL;
        for (size_t k = 0; k < view->n; k++)
            if (view->ops[k].kind == SBX__VIEW_OVERLAY && view->ops[k].ovl == i)
                mount = &view->ops[k];
        op->n++;
        op->v[i].lower = strdup(policy->overlays[i].lower);
        op->v[i].real = mount ? strdup(mount->path) : NULL;
        op->v[i].upper = policy->overlays[i].upper ? strdup(policy->overlays[i].upper) : NULL;
        if (!op->v[i].lower || !op->v[i].real || (policy->overlays[i].upper && !op->v[i].upper))
            r = -ENOMEM;
    }
    /* A mask over a path missing inside an overlay is mounted on a directory
     * the child makes there (and its missing parents): in the upper one. */
    for (size_t k = 0; r == 0 && k < view->n; k++) {
        const struct sbx__view_op *m = &view->ops[k];
        if (m->kind != SBX__VIEW_MASK)
            continue;
        for (size_t i = 0; r == 0 && i < op->n; i++) {
            size_t len = strlen(op->v[i].real);
            if (!sbx__path_under(m->path, op->v[i].real) || strcmp(m->path, op->v[i].real) == 0)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s", m->path);
            struct stat st;
            while (r == 0 && strlen(path) > len && lstat(path, &st) != 0) {
                r = push_made(op, i, path + len + 1);
                *strrchr(path, '/') = '\0';
            }
        }
    }
    if (r < 0) {
        ovl_plan_free(op);
        return sbx__err_stage(SBX_STAGE_COMPILE, r, "overlays");
    }
    plan->overlay = op;
    return 0;
}

static void plan_free(struct sbx__plan *plan)
{
    ovl_plan_free(plan->overlay);
    plan->overlay = NULL;
}

/* ---- removing trees, following no link ---------------------------------------------- */

/* Remove `name` beneath dfd and everything in it. Directories that cannot be
 * entered (an overlay's work directory is mode 0) are made 0700 first. */
static int remove_at(int dfd, const char *name, int depth)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : -errno;
    if (depth > 256)
        return -ELOOP;
    int fd = openat(dfd, name, DIR_FLAGS);
    if (fd < 0 && errno == EACCES && fchmodat(dfd, name, 0700, 0) == 0)
        fd = openat(dfd, name, DIR_FLAGS);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int err = -errno;
        close(fd);
        return err;
    }
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            r = remove_at(fd, de->d_name, depth + 1);
    closedir(d);
    if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        r = -errno;
    return r;
}

/* Remove an absolute path and everything beneath it. */
static int remove_path(const char *path)
{
    char parent[PATH_MAX];
    parent_of(path, parent, sizeof(parent));
    int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0)
        return -errno;
    int r = remove_at(pfd, strrchr(path, '/') + 1, 0);
    close(pfd);
    return r;
}

/* ---- a spawn ----------------------------------------------------------------------- */

struct sbx__ovl_run {
    size_t n;
    struct {
        char *lower, *upper;
        char work[PATH_MAX]; /* "" once removed */
        bool made_upper;     /* by this spawn: removed when the spawn fails */
        int lock;            /* the upper directory, flock()ed while the child runs; or -1 */
    } v[SBX_OVERLAY_MAX];
    const struct sbx__ovl_plan *plan; /* the mount points to remove (the plan outlives the child's
                                         finish: the spawn holds it) */
    char **made;                      /* the same, as absolute paths in the upper directories */
    size_t n_made;
};

static void run_free(struct sbx__ovl_run *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->n; i++) {
        free(run->v[i].lower);
        free(run->v[i].upper);
        if (run->v[i].lock >= 0)
            close(run->v[i].lock);
    }
    for (size_t i = 0; i < run->n_made; i++)
        free(run->made[i]);
    free(run->made);
    free(run);
}

/* Where private upper directories go: $TMPDIR when absolute, else /var/tmp
 * (kept across reboots: the host reviews them later), else /tmp. */
static const char *private_parent(void)
{
    const char *t = secure_getenv("TMPDIR");
    struct stat st;
    if (t && t[0] == '/' && strlen(t) < PATH_MAX - 64 && stat(t, &st) == 0 && S_ISDIR(st.st_mode))
        return t;
    if (stat("/var/tmp", &st) == 0 && S_ISDIR(st.st_mode) && access("/var/tmp", W_OK) == 0)
        return "/var/tmp";
    return "/tmp";
}

static int is_empty_dir(const char *path)
{
    int fd = open(path, DIR_FLAGS);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int err = -errno;
        close(fd);
        return err;
    }
    int empty = 1;
    struct dirent *de;
    while (empty && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

static int prepare_one(struct sbx__ovl_run *run, size_t i, const char *lower, const char *upper)
{
    char buf[PATH_MAX];
    run->v[i].work[0] = '\0';
    if (!(run->v[i].lower = strdup(lower)))
        return sbx__err_stage(SBX_STAGE_NAMESPACES, -ENOMEM, "sbx_overlay(%s)", lower);
    if (!upper) {
        const char *parent = private_parent();
        snprintf(buf, sizeof(buf), "%s/agentsbx-overlay.XXXXXX", parent);
        if (!mkdtemp(buf))
            return sbx__err_stage(SBX_STAGE_NAMESPACES, -errno,
                                  "sbx_overlay(%s): making a private upper directory in %s", lower,
                                  parent);
        run->v[i].made_upper = true;
        if (!(run->v[i].upper = strdup(buf)))
            return sbx__err_stage(SBX_STAGE_NAMESPACES, -ENOMEM, "sbx_overlay(%s)", lower);
        int r = check_upper_fs("sbx_overlay", lower, buf);
        if (r < 0)
            return r;
    } else {
        if (!(run->v[i].upper = strdup(upper)))
            return sbx__err_stage(SBX_STAGE_NAMESPACES, -ENOMEM, "sbx_overlay(%s)", lower);
        struct stat st;
        if (lstat(upper, &st) != 0) {
            if (errno != ENOENT || mkdir(upper, 0700) != 0)
                return sbx__err_stage(SBX_STAGE_NAMESPACES, -errno,
                                      "sbx_overlay(%s, %s): making the upper directory", lower,
                                      upper);
            run->v[i].made_upper = true;
        } else if (!S_ISDIR(st.st_mode)) {
            return sbx__err_stage(SBX_STAGE_NAMESPACES, -ENOTDIR,
                                  "sbx_overlay(%s, %s): the upper directory is not a directory",
                                  lower, upper);
        }
        /* One child per upper directory: overlayfs only warns when two share one. */
        run->v[i].lock = open(upper, DIR_FLAGS);
        if (run->v[i].lock < 0)
            return sbx__err_stage(SBX_STAGE_NAMESPACES, -errno,
                                  "sbx_overlay(%s, %s): opening the upper directory", lower, upper);
        if (flock(run->v[i].lock, LOCK_EX | LOCK_NB) != 0)
            return sbx__err_stage(SBX_STAGE_NAMESPACES, errno == EWOULDBLOCK ? -EBUSY : -errno,
                                  "sbx_overlay(%s, %s): the upper directory is in use by another "
                                  "child (one child per upper directory)",
                                  lower, upper);
        if (!run->v[i].made_upper) {
            int empty = is_empty_dir(upper);
            if (empty < 0)
                return sbx__err_stage(SBX_STAGE_NAMESPACES, empty,
                                      "sbx_overlay(%s, %s): reading the upper directory", lower,
                                      upper);
            if (!empty)
                return sbx__err_stage(SBX_STAGE_NAMESPACES, -ENOTEMPTY,
                                      "sbx_overlay(%s, %s): the upper directory is not empty (a "
                                      "run's changes: review them with sbx_overlay_changes(), "
                                      "then apply or discard them; each run needs an empty one)",
                                      lower, upper);
        }
    }
    parent_of(run->v[i].upper, buf, sizeof(buf));
    if ((size_t)snprintf(run->v[i].work, sizeof(run->v[i].work), "%.*s%s.agentsbx-work.XXXXXX",
                         PATH_MAX - 32, buf, strcmp(buf, "/") ? "/" : "") >= sizeof(run->v[i].work))
        return sbx__err_stage(SBX_STAGE_NAMESPACES, -ENAMETOOLONG, "sbx_overlay(%s): %s", lower,
                              buf);
    if (!mkdtemp(run->v[i].work)) {
        int err = -errno;
        run->v[i].work[0] = '\0';
        return sbx__err_stage(SBX_STAGE_NAMESPACES, err,
                              "sbx_overlay(%s): making the overlay's work directory in %s", lower,
                              buf);
    }
    return 0;
}

static void undo(struct sbx__ovl_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        if (run->v[i].work[0])
            (void)remove_path(run->v[i].work);
        run->v[i].work[0] = '\0';
        if (run->v[i].made_upper && run->v[i].upper)
            (void)remove_path(run->v[i].upper);
    }
}

static int prepare(struct sbx__spawn *s)
{
    const struct sbx__ovl_plan *op = s->plan->overlay;
    if (!op)
        return 0;
    struct sbx__ovl_run *run = calloc(1, sizeof(*run));
    if (!run)
        return sbx__err_stage(SBX_STAGE_NAMESPACES, -ENOMEM, "overlays");
    for (size_t i = 0; i < SBX_OVERLAY_MAX; i++)
        run->v[i].lock = -1;
    s->ovl = run;
    int r = 0;
    for (size_t i = 0; r == 0 && i < op->n; i++) {
        run->n++;
        r = prepare_one(run, i, op->v[i].lower, op->v[i].upper);
        char real[PATH_MAX];
        if (r == 0 && realpath(run->v[i].upper, real) &&
            (sbx__path_under(real, op->v[i].real) || sbx__path_under(op->v[i].real, real)))
            r = sbx__err_stage(SBX_STAGE_NAMESPACES, -EINVAL,
                               "sbx_overlay(%s): the upper directory %s and the lower one overlap "
                               "(a private one goes in $TMPDIR: set it elsewhere)",
                               op->v[i].lower, run->v[i].upper);
    }
    if (r == 0 && op->n_made && !(run->made = calloc(op->n_made, sizeof(*run->made))))
        r = sbx__err_stage(SBX_STAGE_NAMESPACES, -ENOMEM, "overlays");
    for (size_t k = 0; r == 0 && k < op->n_made; k++) {
        char path[PATH_MAX * 2];
        snprintf(path, sizeof(path), "%s/%s", run->v[op->made[k].ovl].upper, op->made[k].rel);
        if (!(run->made[run->n_made++] = strdup(path)))
            r = sbx__err_stage(SBX_STAGE_NAMESPACES, -ENOMEM, "overlays");
    }
    if (r < 0) {
        undo(run);
        run_free(run);
        s->ovl = NULL;
        return r;
    }
    s->extra.n_ovl = run->n;
    for (size_t i = 0; i < run->n; i++) {
        s->extra.ovl_upper[i] = run->v[i].upper;
        s->extra.ovl_work[i] = run->v[i].work;
    }
    return 0;
}

static int adopt(struct sbx__spawn *s)
{
    s->child->ovl = s->ovl;
    s->ovl = NULL;
    return 0;
}

static void abort_spawn(struct sbx__spawn *s)
{
    if (!s->ovl)
        return;
    undo(s->ovl);
    run_free(s->ovl);
    s->ovl = NULL;
}

/* After the child: its mount namespace is gone with it. The work directories
 * go; the mount points the view made go from the upper ones; the upper ones
 * stay for the host. */
static void finish(sbx_child *child)
{
    struct sbx__ovl_run *run = child->ovl;
    if (!run)
        return;
    for (size_t i = 0; i < run->n; i++) {
        if (run->v[i].work[0])
            (void)remove_path(run->v[i].work);
        run->v[i].work[0] = '\0';
    }
    for (size_t k = 0; k < run->n_made; k++)
        (void)rmdir(run->made[k]); /* only while empty */
    for (size_t i = 0; i < run->n; i++) {
        if (run->v[i].lock >= 0)
            close(run->v[i].lock);
        run->v[i].lock = -1;
    }
}

void sbx__overlay_child_free(sbx_child *child)
{
    run_free(child->ovl);
    child->ovl = NULL;
}

int sbx__overlay_result(const sbx_child *child, sbx_result *res)
{
    const struct sbx__ovl_run *run = child->ovl;
    if (!run || !run->n)
        return 0;
    if (!(res->ovl = calloc(run->n * 2, sizeof(*res->ovl))))
        return -ENOMEM;
    res->n_ovl = run->n;
    for (size_t i = 0; i < run->n; i++)
        if (!(res->ovl[2 * i] = strdup(run->v[i].lower)) ||
            !(res->ovl[2 * i + 1] = strdup(run->v[i].upper)))
            return -ENOMEM;
    return 0;
}

void sbx__overlay_result_free(sbx_result *res)
{
    for (size_t i = 0; i < res->n_ovl * 2; i++)
        free(res->ovl[i]);
    free(res->ovl);
    res->ovl = NULL;
    res->n_ovl = 0;
}

size_t sbx_result_overlay_count(const sbx_result *result)
{
    return result ? result->n_ovl : 0;
}

int sbx_result_overlay(const sbx_result *result, size_t index, const char **ret_lower,
                       const char **ret_upper)
{
    sbx__check_arg(result);
    if (index >= result->n_ovl)
        return sbx__err(-ERANGE, "sbx_result_overlay: index %zu is out of range (%zu overlays)",
                        index, result->n_ovl);
    if (ret_lower)
        *ret_lower = result->ovl[2 * index];
    if (ret_upper)
        *ret_upper = result->ovl[2 * index + 1];
    return 0;
}

const struct sbx__layer sbx__layer_overlay = {
    .name = "overlay",
    .policy_free = policy_free,
    .policy_dup = policy_dup,
    .compile = compile,
    .plan_free = plan_free,
    .prepare = prepare,
    .adopt = adopt,
    .abort = abort_spawn,
    .finish = finish,
};

/* ---- the change list --------------------------------------------------------------- */

struct change {
    char *path;
    int kind, type;
};

struct sbx_changes {
    size_t n, cap;
    struct change *v;
};

/* A walk of an upper directory over its lower one. */
struct walk {
    const char *func, *lower, *upper;
    sbx_changes *out; /* the list being made, or NULL */
    bool apply;       /* change the lower directory */
    unsigned seq;     /* apply: names of the files written beside their place */
};

/* The mode bits apply carries: never set-user-ID or set-group-ID (a child's
 * file must not become a privileged program of whoever applies it). */
#define APPLIED_MODE 01777

static int type_of(mode_t mode)
{
    if (S_ISREG(mode))
        return SBX_FILE_REGULAR;
    if (S_ISDIR(mode))
        return SBX_FILE_DIRECTORY;
    if (S_ISLNK(mode))
        return SBX_FILE_SYMLINK;
    return SBX_FILE_OTHER;
}

static int fail(const struct walk *w, int err, const char *rel, const char *what)
{
    return sbx__errno(err, "%s(%s, %s): %s%s%s", w->func, w->lower, w->upper, what,
                      rel && rel[0] ? " " : "", rel ? rel : "");
}

static int add(struct walk *w, const char *rel, int kind, int type)
{
    sbx_changes *c = w->out;
    if (!c)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct change *grown = realloc(c->v, cap * sizeof(*grown));
        if (!grown)
            return fail(w, -ENOMEM, NULL, "the change list");
        c->v = grown;
        c->cap = cap;
    }
    if (!(c->v[c->n].path = strdup(rel)))
        return fail(w, -ENOMEM, NULL, "the change list");
    c->v[c->n].kind = kind;
    c->v[c->n++].type = type;
    return 0;
}

/* An overlay xattr of the object open at fd is "y". */
static bool xattr_yes(int fd, const char *what)
{
    char name[64], v[2];
    static const char *const prefixes[] = {"user.overlay.", "trusted.overlay."};
    for (size_t i = 0; i < 2; i++) {
        snprintf(name, sizeof(name), "%s%s", prefixes[i], what);
        ssize_t n = fgetxattr(fd, name, v, sizeof(v));
        if (n >= 1 && v[0] == 'y')
            return true;
    }
    return false;
}

static bool is_whiteout(int dfd, const char *name, const struct stat *st)
{
    if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
        return true;
    if (!S_ISREG(st->st_mode) || st->st_size != 0)
        return false;
    /* an xattr whiteout (an empty file marked so) */
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    char v[1];
    bool yes = fgetxattr(fd, "user.overlay.whiteout", v, 0) >= 0 ||
               fgetxattr(fd, "trusted.overlay.whiteout", v, 0) >= 0;
    close(fd);
    return yes;
}

static void join(char *out, size_t size, const char *rel, const char *name)
{
    snprintf(out, size, "%s%s%s", rel, rel[0] ? "/" : "", name);
}

/* Whether two regular files have the same bytes. */
static int same_content(int ufd, int lfd, const char *name, const struct stat *us,
                        const struct stat *ls)
{
    if (us->st_size != ls->st_size)
        return 0;
    int a = openat(ufd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int b = a >= 0 ? openat(lfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    int r = a < 0 || b < 0 ? -errno : 1;
    char x[16384], y[16384];
    while (r == 1) {
        ssize_t n = read(a, x, sizeof(x));
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        ssize_t got = 0;
        while (got < n) {
            ssize_t m = read(b, y + got, (size_t)(n - got));
            if (m <= 0) {
                r = m < 0 ? -errno : 0;
                break;
            }
            got += m;
        }
        if (r == 1 && memcmp(x, y, (size_t)n) != 0)
            r = 0;
    }
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    return r;
}

static int same_link(int ufd, int lfd, const char *name)
{
    char a[PATH_MAX], b[PATH_MAX];
    ssize_t n = readlinkat(ufd, name, a, sizeof(a));
    ssize_t m = readlinkat(lfd, name, b, sizeof(b));
    if (n < 0 || m < 0)
        return -errno;
    return n == m && memcmp(a, b, (size_t)n) == 0;
}

/* A lower path that is deleted: it and everything beneath it. */
static int deleted(struct walk *w, int lfd, const char *name, const char *rel,
                   const struct stat *ls, int depth)
{
    int r = add(w, rel, SBX_CHANGE_DELETED, type_of(ls->st_mode));
    if (r < 0 || !S_ISDIR(ls->st_mode) || !w->out)
        return r;
    if (depth > 256)
        return fail(w, -ELOOP, rel, "too deep at");
    int fd = openat(lfd, name, DIR_FLAGS);
    if (fd < 0)
        return fail(w, -errno, rel, "opening the lower");
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return fail(w, -ENOMEM, rel, "reading the lower");
    }
    struct dirent *de;
    while (r == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        char sub[PATH_MAX];
        join(sub, sizeof(sub), rel, de->d_name);
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            r = fail(w, -errno, sub, "stat of the lower");
        else
            r = deleted(w, fd, de->d_name, sub, &st, depth + 1);
    }
    closedir(d);
    return r;
}

static int remove_lower(struct walk *w, int lfd, const char *name, const char *rel)
{
    if (!w->apply)
        return 0;
    int r = remove_at(lfd, name, 0);
    return r < 0 ? fail(w, r, rel, "removing") : 0;
}

/* apply: write the upper's file or link `name` beside its place in the lower
 * directory, then rename it over its place. */
static int put(struct walk *w, int ufd, int lfd, const char *name, const char *rel,
               const struct stat *us, bool lower_is_dir)
{
    char tmp[64];
    int r = 0;
    for (int tries = 0;; tries++) {
        snprintf(tmp, sizeof(tmp), ".agentsbx-apply.%d.%u", (int)getpid(), w->seq++);
        if (S_ISLNK(us->st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlinkat(ufd, name, target, sizeof(target) - 1);
            if (n < 0)
                return fail(w, -errno, rel, "reading the link");
            target[n] = '\0';
            if (symlinkat(target, lfd, tmp) == 0)
                break;
        } else {
            int out = openat(lfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (out >= 0) {
                int in = openat(ufd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                char buf[65536];
                ssize_t n = in < 0 ? -1 : 0;
                while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
                    for (ssize_t off = 0; off < n && r == 0;) {
                        ssize_t m = write(out, buf + off, (size_t)(n - off));
                        if (m < 0)
                            r = -errno;
                        else
                            off += m;
                    }
                if (r == 0 && n < 0)
                    r = -errno;
                if (r == 0 && fchmod(out, us->st_mode & APPLIED_MODE) != 0)
                    r = -errno;
                if (in >= 0)
                    close(in);
                if (close(out) != 0 && r == 0)
                    r = -errno;
                if (r < 0) {
                    unlinkat(lfd, tmp, 0);
                    return fail(w, r, rel, "writing");
                }
                break;
            }
        }
        if (errno != EEXIST || tries > 100)
            return fail(w, -errno, rel, "writing beside");
    }
    if (lower_is_dir && (r = remove_at(lfd, name, 0)) < 0) {
        unlinkat(lfd, tmp, 0);
        return fail(w, r, rel, "removing the directory at");
    }
    if (renameat(lfd, tmp, lfd, name) != 0) {
        r = -errno;
        unlinkat(lfd, tmp, 0);
        return fail(w, r, rel, "renaming into place");
    }
    return 0;
}

static int walk_dir(struct walk *w, int ufd, int lfd, bool opaque, const char *rel, int depth);

/* One entry of an upper directory. lfd: the lower directory, or -1. */
static int walk_entry(struct walk *w, int ufd, int lfd, const char *name, const char *rel,
                      int depth)
{
    struct stat us, ls;
    if (fstatat(ufd, name, &us, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(w, -errno, rel, "stat of the upper");
    bool in_lower = lfd >= 0 && fstatat(lfd, name, &ls, AT_SYMLINK_NOFOLLOW) == 0;
    if (lfd >= 0 && !in_lower && errno != ENOENT)
        return fail(w, -errno, rel, "stat of the lower");
    int r = 0;
    if (is_whiteout(ufd, name, &us)) {
        if (in_lower && (r = deleted(w, lfd, name, rel, &ls, depth)) == 0)
            r = remove_lower(w, lfd, name, rel);
        return r;
    }
    int type = type_of(us.st_mode);
    if (type == SBX_FILE_OTHER && !w->out)
        return fail(w, -EOPNOTSUPP, rel, "a fifo, socket or device (not applied):");
    if (S_ISDIR(us.st_mode)) {
        int sub_u = openat(ufd, name, DIR_FLAGS);
        if (sub_u < 0)
            return fail(w, -errno, rel, "opening the upper");
        bool opaque = xattr_yes(sub_u, "opaque");
        int sub_l = -1;
        if (in_lower && S_ISDIR(ls.st_mode)) {
            if ((us.st_mode & 07777) != (ls.st_mode & 07777))
                r = add(w, rel, SBX_CHANGE_MODIFIED, SBX_FILE_DIRECTORY);
        } else {
            if (in_lower && (r = deleted(w, lfd, name, rel, &ls, depth)) == 0)
                r = remove_lower(w, lfd, name, rel);
            if (r == 0)
                r = add(w, rel, SBX_CHANGE_ADDED, SBX_FILE_DIRECTORY);
            if (r == 0 && w->apply && mkdirat(lfd, name, 0700) != 0)
                r = fail(w, -errno, rel, "making the directory");
        }
        if (r == 0 && ((in_lower && S_ISDIR(ls.st_mode)) || w->apply)) {
            sub_l = openat(lfd, name, DIR_FLAGS);
            if (sub_l < 0)
                r = fail(w, -errno, rel, "opening the lower");
        }
        /* writable by its owner while it is filled, its mode at the end */
        if (r == 0 && w->apply && fchmod(sub_l, (us.st_mode & APPLIED_MODE) | 0700) != 0)
            r = fail(w, -errno, rel, "setting the mode of");
        if (r == 0)
            r = walk_dir(w, sub_u, sub_l, opaque, rel, depth + 1);
        if (r == 0 && w->apply && fchmod(sub_l, us.st_mode & APPLIED_MODE) != 0)
            r = fail(w, -errno, rel, "setting the mode of");
        close(sub_u);
        if (sub_l >= 0)
            close(sub_l);
        return r;
    }
    if (!in_lower) {
        r = add(w, rel, SBX_CHANGE_ADDED, type);
        return r == 0 && w->apply ? put(w, ufd, lfd, name, rel, &us, false) : r;
    }
    if (type_of(ls.st_mode) != type) {
        r = deleted(w, lfd, name, rel, &ls, depth);
        if (r == 0)
            r = add(w, rel, SBX_CHANGE_ADDED, type);
        return r == 0 && w->apply ? put(w, ufd, lfd, name, rel, &us, S_ISDIR(ls.st_mode)) : r;
    }
    int same;
    if (type == SBX_FILE_REGULAR)
        same = (us.st_mode & 07777) == (ls.st_mode & 07777) ? same_content(ufd, lfd, name, &us, &ls)
                                                            : 0;
    else if (type == SBX_FILE_SYMLINK)
        same = same_link(ufd, lfd, name);
    else
        same = us.st_mode == ls.st_mode && us.st_rdev == ls.st_rdev;
    if (same < 0)
        return fail(w, same, rel, "comparing");
    if (same)
        return 0;
    r = add(w, rel, SBX_CHANGE_MODIFIED, type);
    return r == 0 && w->apply ? put(w, ufd, lfd, name, rel, &us, false) : r;
}

/* The entries of an upper directory; with `opaque`, the lower directory's
 * entries that it does not have are deleted. ufd, lfd are borrowed. */
static int walk_dir(struct walk *w, int ufd, int lfd, bool opaque, const char *rel, int depth)
{
    if (depth > 256)
        return fail(w, -ELOOP, rel, "too deep at");
    int r = 0;
    if (opaque && lfd >= 0) {
        int fd = dup(lfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
            if (fd >= 0)
                close(fd);
            return fail(w, -errno, rel, "reading the lower");
        }
        rewinddir(d);
        struct dirent *de;
        while (r == 0 && (de = readdir(d)) != NULL) {
            struct stat st;
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                fstatat(ufd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                continue;
            char sub[PATH_MAX];
            join(sub, sizeof(sub), rel, de->d_name);
            if (fstatat(lfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                r = fail(w, -errno, sub, "stat of the lower");
            else if ((r = deleted(w, lfd, de->d_name, sub, &st, depth)) == 0)
                r = remove_lower(w, lfd, de->d_name, sub);
        }
        closedir(d);
    }
    int fd = dup(ufd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return fail(w, -errno, rel, "reading the upper");
    }
    rewinddir(d);
    struct dirent *de;
    while (r == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[PATH_MAX];
        join(sub, sizeof(sub), rel, de->d_name);
        r = walk_entry(w, ufd, lfd, de->d_name, sub, depth);
    }
    closedir(d);
    return r;
}

static int open_top(const char *func, const char *path, const char *what)
{
    if (!path)
        return sbx__err(-EINVAL, "%s: the %s directory is NULL", func, what);
    if (path[0] != '/')
        return sbx__err(-EINVAL, "%s(%s): the %s directory is not an absolute path", func, path,
                        what);
    struct stat st;
    if (lstat(path, &st) != 0)
        return sbx__errno(-errno, "%s(%s): the %s directory", func, path, what);
    if (!S_ISDIR(st.st_mode))
        return sbx__err(-ENOTDIR, "%s(%s): the %s directory is not a directory", func, path, what);
    int fd = open(path, DIR_FLAGS);
    if (fd < 0)
        return sbx__errno(-errno, "%s(%s): opening the %s directory", func, path, what);
    return fd;
}

static int by_path(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c)
        return c;
    return (y->kind == SBX_CHANGE_DELETED) - (x->kind == SBX_CHANGE_DELETED);
}

static int walk_top(struct walk *w)
{
    int lfd = open_top(w->func, w->lower, "lower");
    if (lfd < 0)
        return lfd;
    int ufd = open_top(w->func, w->upper, "upper");
    if (ufd < 0) {
        close(lfd);
        return ufd;
    }
    int r = walk_dir(w, ufd, lfd, xattr_yes(ufd, "opaque"), "", 0);
    close(ufd);
    close(lfd);
    return r;
}

int sbx_overlay_changes(const char *lower, const char *upper, sbx_changes **ret)
{
    sbx__check_arg(ret);
    sbx_changes *c = calloc(1, sizeof(*c));
    if (!c)
        return sbx__errno(-ENOMEM, "sbx_overlay_changes");
    struct walk w = {.func = "sbx_overlay_changes", .lower = lower, .upper = upper, .out = c};
    int r = walk_top(&w);
    if (r < 0) {
        sbx_changes_free(c);
        return r;
    }
    if (c->n)
        qsort(c->v, c->n, sizeof(c->v[0]), by_path);
    *ret = c;
    return 0;
}

size_t sbx_changes_count(const sbx_changes *changes)
{
    return changes ? changes->n : 0;
}

int sbx_changes_get(const sbx_changes *changes, size_t index, const char **ret_path, int *ret_kind,
                    int *ret_type)
{
    sbx__check_arg(changes);
    if (index >= changes->n)
        return sbx__err(-ERANGE, "sbx_changes_get: index %zu is out of range (%zu changes)", index,
                        changes->n);
    if (ret_path)
        *ret_path = changes->v[index].path;
    if (ret_kind)
        *ret_kind = changes->v[index].kind;
    if (ret_type)
        *ret_type = changes->v[index].type;
    return 0;
}

void sbx_changes_free(sbx_changes *changes)
{
    if (!changes)
        return;
    for (size_t i = 0; i < changes->n; i++)
        free(changes->v[i].path);
    free(changes->v);
    free(changes);
}

const char *sbx_change_kind_name(int kind)
{
    switch (kind) {
    case SBX_CHANGE_ADDED: return "added";
    case SBX_CHANGE_MODIFIED: return "modified";
    case SBX_CHANGE_DELETED: return "deleted";
    default: return NULL;
    }
}

const char *sbx_file_type_name(int type)
{
    switch (type) {
    case SBX_FILE_REGULAR: return "file";
    case SBX_FILE_DIRECTORY: return "dir";
    case SBX_FILE_SYMLINK: return "symlink";
    case SBX_FILE_OTHER: return "other";
    default: return NULL;
    }
}

int sbx_overlay_apply(const char *lower, const char *upper)
{
    /* First a walk that changes nothing: it refuses what cannot be applied. */
    struct walk check = {.func = "sbx_overlay_apply", .lower = lower, .upper = upper};
    int r = walk_top(&check);
    if (r < 0)
        return r;
    struct walk w = {.func = "sbx_overlay_apply", .lower = lower, .upper = upper, .apply = true};
    return walk_top(&w);
}

int sbx_overlay_discard(const char *upper)
{
    int fd = open_top("sbx_overlay_discard", upper, "upper");
    if (fd < 0)
        return fd;
    close(fd);
    if (strcmp(upper, "/") == 0)
        return sbx__err(-EINVAL, "sbx_overlay_discard(/): refusing to remove '/'");
    int r = remove_path(upper);
    return r < 0 ? sbx__errno(r, "sbx_overlay_discard(%s)", upper) : 0;
}
