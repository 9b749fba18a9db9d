/* The mount namespace's view: instead of the host's tree made read-only, a
 * root of its own (a small tmpfs) that holds only
 *   - the system directories the default Landlock view reads (/usr, /etc, and
 *     the links /bin, /lib... as the host has them), read-only, noexec and
 *     nosuid, with the shared-library directories executable;
 *   - a minimal /dev: null, zero, full, random, urandom, tty, a devpts of its
 *     own with ptmx (so ptys work), and a fresh /dev/shm;
 *   - a fresh /tmp. /tmp and /dev/shm are directories of the view's own
 *     tmpfs, bound writable over themselves, so that together (with the view's
 *     few directories) they hold at most the memory limit; the rest of that
 *     tmpfs is read-only;
 *   - a /proc of the child's own pid namespace, when it has one and may read
 *     /proc;
 *   - the grants and the working directory, writable or executable as
 *     granted, and the program with its interpreters, executable.
 * So nothing else of the host is there to reach: no /run, /var/run, /home,
 * /root, /sys, no host unix socket outside what was granted.
 *
 * Every bind is resolved when the policy is compiled, through pathwalk.c (no
 * link a child could have planted), to a path without links; the child opens
 * that path with openat2(RESOLVE_NO_SYMLINKS), checks it is the same object,
 * and attaches it with open_tree(2) and move_mount(2) to a mount point
 * reached without following any link: a link swapped in later makes the
 * spawn fail, it never redirects a bind. The child builds the tree on a tmpfs
 * mounted over /tmp (in its own namespace: nothing happens on the host), then
 * makes it its root with pivot_root(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "carve.h"
#include "internal.h"
#include "namespace_layer.h"
#include "pathwalk.h"
#include "view.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS   0x04
#define RESOLVE_BENEATH       0x08
#endif
struct view_open_how {
    uint64_t flags, mode, resolve;
};
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

/* Where the child builds the view before it becomes its root: a directory
 * every system has, covered in the child's own mount namespace only. */
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#define STAGE "/tmp"

#define RO_NOEXEC (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

/* The system directories of the default view (landlock.c reads the same). */
static const char *const system_dirs[] = {"/usr",   "/bin",   "/sbin",   "/lib",
                                          "/lib64", "/lib32", "/libx32", "/etc"};

/* Where shared libraries live: the loader maps them executable, so these stay
 * exec (Debian, Fedora, Arch, Alpine layouts). */
static const char *const library_dirs[] = {
    "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32", "/usr/local/lib",
    "/lib",     "/lib64",     "/lib32",     "/libx32",     "/usr/libexec",
};

static const char *const devices[] = {"/dev/null",   "/dev/zero",    "/dev/full",
                                      "/dev/random", "/dev/urandom", "/dev/tty"};

/* ---- compiling ------------------------------------------------------------------ */

struct builder {
    struct sbx__view *v;
    size_t cap;
    const struct sbx__write_dirs *writable;
};

static void free_op(struct sbx__view_op *op)
{
    free((char *)op->path);
    free((char *)op->data);
}

void sbx__view_free(struct sbx__view *view)
{
    if (!view)
        return;
    for (size_t i = 0; i < view->n; i++)
        free_op(&view->ops[i]);
    free(view->ops);
    if (view->prepared >= 0)
        close(view->prepared);
    if (view->template_ns >= 0)
        close(view->template_ns);
    free(view);
}

static int push(struct builder *b, struct sbx__view_op op)
{
    struct sbx__view *v = b->v;
    if (v->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        struct sbx__view_op *grown = realloc(v->ops, cap * sizeof(*grown));
        if (!grown) {
            free_op(&op);
            return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "mount namespace: the view");
        }
        v->ops = grown;
        b->cap = cap;
    }
    v->ops[v->n++] = op;
    return 0;
}

static int push_simple(struct builder *b, uint8_t kind, const char *path, const char *data,
                       uint64_t ll_rights)
{
    char *p = strdup(path), *d = data ? strdup(data) : NULL;
    if (!p || (data && !d)) {
        free(p);
        free(d);
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "mount namespace: the view");
    }
    return push(b, (struct sbx__view_op){
                       .kind = kind, .path = p, .data = d, .ll_rights = ll_rights, .is_dir = true});
}

/* Bind `path` (opened safely) where it really is, with `attr`; a path bound
 * twice keeps the wider of the two (the fewer restrictions). */
static int push_bind(struct builder *b, const char *path, uint64_t attr, bool optional)
{
    char real[PATH_MAX], why[PATH_MAX + 160];
    int fd = sbx__open_grant(path, b->writable, real, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err_stage(SBX_STAGE_COMPILE, -ELOOP, "mount namespace: %s: %s", path, why);
    if (fd < 0) {
        if (optional && (fd == -ENOENT || fd == -ENOTDIR))
            return 0;
        return sbx__err_stage(SBX_STAGE_COMPILE, fd, "mount namespace: cannot open '%s'", path);
    }
    struct stat st;
    int err = fstat(fd, &st) != 0 ? -errno : 0;
    close(fd);
    if (err < 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, err, "mount namespace: fstat(%s)", path);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        attr &= ~(uint64_t)(MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY); /* a granted device works */
    for (size_t i = 0; i < b->v->n; i++) {
        struct sbx__view_op *op = &b->v->ops[i];
        if (op->kind == SBX__VIEW_BIND && strcmp(op->path, real) == 0) {
            op->attr &= attr;
            return 0;
        }
    }
    size_t binds = 0;
    for (size_t i = 0; i < b->v->n; i++)
        binds += b->v->ops[i].kind == SBX__VIEW_BIND;
    if (binds == SBX__VIEW_MAX_BINDS)
        return sbx__err_stage(SBX_STAGE_COMPILE, -E2BIG,
                              "mount namespace: more than %d paths to bind (at %s)",
                              SBX__VIEW_MAX_BINDS, path);
    char *p = strdup(real);
    if (!p)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "mount namespace: the view");
    return push(b, (struct sbx__view_op){.kind = SBX__VIEW_BIND,
                                         .path = p,
                                         .dev = st.st_dev,
                                         .ino = st.st_ino,
                                         .attr = attr,
                                         .is_dir = S_ISDIR(st.st_mode)});
}

/* sbx_bind(): the source (opened safely, as a grant) shown at the destination. */
static int push_bind_at(struct builder *b, const struct sbx__bind *bind)
{
    char real[PATH_MAX], why[PATH_MAX + 160];
    int fd = sbx__open_grant(bind->src, b->writable, real, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err_stage(SBX_STAGE_COMPILE, -ELOOP, "sbx_bind(%s, %s): %s", bind->src,
                              bind->dest, why);
    if (fd < 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, fd, "sbx_bind(%s, %s): cannot open '%s'",
                              bind->src, bind->dest, bind->src);
    struct stat st;
    int err = fstat(fd, &st) != 0 ? -errno : 0;
    close(fd);
    if (err < 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, err, "sbx_bind(%s, %s): fstat", bind->src,
                              bind->dest);
    uint64_t attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (!(bind->access & SBX__FS_WRITES))
        attr |= MOUNT_ATTR_RDONLY;
    if (!(bind->access & SBX_FS_EXEC))
        attr |= MOUNT_ATTR_NOEXEC;
    char *p = strdup(bind->dest), *d = strdup(real);
    if (!p || !d) {
        free(p);
        free(d);
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "mount namespace: the view");
    }
    return push(b, (struct sbx__view_op){.kind = SBX__VIEW_BIND_AT,
                                         .path = p,
                                         .data = d,
                                         .dev = st.st_dev,
                                         .ino = st.st_ino,
                                         .attr = attr,
                                         .is_dir = S_ISDIR(st.st_mode)});
}

static int depth(const char *path)
{
    int d = 0;
    for (const char *p = path; *p; p++)
        d += *p == '/' && p[1];
    return strcmp(path, "/") == 0 ? -1 : d;
}

static int by_depth(const void *a, const void *b)
{
    const struct sbx__view_op *x = a, *y = b;
    int dx = depth(x->path), dy = depth(y->path);
    if (dx != dy)
        return (dx > dy) - (dx < dy);
    int c = strcmp(x->path, y->path);
    return c ? c : (x->kind > y->kind) - (x->kind < y->kind); /* a bind, then its carve-outs */
}

static int add_system(struct builder *b, bool exec_system)
{
    /* SBX_EXEC_SYSTEM (landlock.c): the system directories but /etc executable. */
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++) {
        struct stat st;
        if (lstat(system_dirs[i], &st) != 0)
            continue;
        if (S_ISLNK(st.st_mode)) { /* merged /usr: /bin -> usr/bin, as the host has it */
            char target[PATH_MAX];
            ssize_t n = readlink(system_dirs[i], target, sizeof(target) - 1);
            if (n <= 0 || st.st_uid != 0)
                continue;
            target[n] = '\0';
            r = push_simple(b, SBX__VIEW_SYMLINK, system_dirs[i], target, 0);
        } else if (S_ISDIR(st.st_mode)) {
            r = push_bind(b, system_dirs[i],
                          exec_system && strcmp(system_dirs[i], "/etc") != 0
                              ? RO_NOEXEC & ~(uint64_t)MOUNT_ATTR_NOEXEC
                              : RO_NOEXEC,
                          true);
        }
    }
    for (size_t i = 0; r == 0 && i < sizeof(library_dirs) / sizeof(library_dirs[0]); i++)
        r = push_bind(b, library_dirs[i], RO_NOEXEC & ~(uint64_t)MOUNT_ATTR_NOEXEC, true);
    return r;
}

static int add_dev(struct builder *b, uint64_t tmp_rights, uint64_t pts_rights)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof(devices) / sizeof(devices[0]); i++)
        r = push_bind(b, devices[i], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, true);
    if (r == 0)
        r = push_simple(b, SBX__VIEW_DEVPTS, "/dev/pts", "newinstance,ptmxmode=0666,mode=0620",
                        pts_rights);
    if (r == 0)
        r = push_simple(b, SBX__VIEW_SYMLINK, "/dev/ptmx", "pts/ptmx", 0);
    if (r == 0)
        r = push_simple(b, SBX__VIEW_SCRATCH, "/dev/shm", NULL, tmp_rights);
    static const char *const links[][2] = {{"/dev/fd", "/proc/self/fd"},
                                           {"/dev/stdin", "/proc/self/fd/0"},
                                           {"/dev/stdout", "/proc/self/fd/1"},
                                           {"/dev/stderr", "/proc/self/fd/2"}};
    for (size_t i = 0; r == 0 && i < sizeof(links) / sizeof(links[0]); i++)
        r = push_simple(b, SBX__VIEW_SYMLINK, links[i][0], links[i][1], 0);
    return r;
}

/* The bind nearest above `op` among the first n ops, or NULL. */
static const struct sbx__view_op *bound_above(const struct sbx__view_op *ops, size_t n,
                                              const struct sbx__view_op *op)
{
    const struct sbx__view_op *best = NULL;
    for (size_t k = 0; k < n; k++)
        if (ops[k].kind == SBX__VIEW_BIND && strcmp(ops[k].path, op->path) != 0 &&
            sbx__path_under(op->path, ops[k].path) &&
            (!best || strlen(ops[k].path) > strlen(best->path)))
            best = &ops[k];
    return best;
}

/* Drop the binds that a bind above already shows with the same attributes
 * (a tool's interpreter inside the library directories, a grant inside
 * another): a mount less to make per spawn. Sorted parents first. */
static void prune(struct sbx__view *v)
{
    size_t kept = 0;
    for (size_t i = 0; i < v->n; i++) {
        const struct sbx__view_op *above =
            v->ops[i].kind == SBX__VIEW_BIND ? bound_above(v->ops, kept, &v->ops[i]) : NULL;
        if (above && above->attr == v->ops[i].attr) {
            free_op(&v->ops[i]);
            continue;
        }
        v->ops[kept++] = v->ops[i];
    }
    v->n = kept;
}

/* ---- carve-outs: the paths denied beneath the binds (sbx_deny_path(), carve.c) ------- */

/* sbx_overlay(): overlayfs at the lower directory's own path (resolved as a
 * grant), read and write, not executable. */
static int push_overlay(struct builder *b, const struct sbx__overlay *o, size_t index,
                        uint64_t ll_rights)
{
    char real[PATH_MAX], why[PATH_MAX + 160];
    int fd = sbx__open_grant(o->lower, b->writable, real, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err_stage(SBX_STAGE_COMPILE, -ELOOP, "sbx_overlay(%s): %s", o->lower, why);
    if (fd < 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, fd, "sbx_overlay(%s): cannot open it", o->lower);
    struct stat st;
    int err = fstat(fd, &st) != 0 ? -errno : 0;
    close(fd);
    if (err == 0 && !S_ISDIR(st.st_mode))
        err = -ENOTDIR;
    if (err < 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, err, "sbx_overlay(%s)", o->lower);
    char *p = strdup(real), *d = strdup(real);
    if (!p || !d) {
        free(p);
        free(d);
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "mount namespace: the view");
    }
    return push(
        b, (struct sbx__view_op){.kind = SBX__VIEW_OVERLAY,
                                 .path = p,
                                 .data = d,
                                 .dev = st.st_dev,
                                 .ino = st.st_ino,
                                 .attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                 .ll_rights = ll_rights,
                                 .ovl = (uint8_t)index,
                                 .is_dir = true});
}

/* A grant (or the working directory) at or beneath an overlay's lower
 * directory is shown through the overlay: its bind would cover the overlay
 * with the host's own tree. */
static void drop_under_overlays(struct sbx__view *v)
{
    size_t kept = 0;
    for (size_t i = 0; i < v->n; i++) {
        bool drop = false;
        for (size_t k = 0; !drop && k < v->n; k++)
            drop = v->ops[i].kind == SBX__VIEW_BIND && v->ops[k].kind == SBX__VIEW_OVERLAY &&
                   sbx__path_under(v->ops[i].path, v->ops[k].path);
        if (drop) {
            free_op(&v->ops[i]);
            continue;
        }
        v->ops[kept++] = v->ops[i];
    }
    v->n = kept;
}

/* The bind (or view directory) that shows `real` in the view: the deepest
 * bind above it or at it; NULL when the view does not show it at all. */
static const struct sbx__view_op *shown_by(const struct sbx__view *v, const char *real)
{
    const struct sbx__view_op *best = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const struct sbx__view_op *op = &v->ops[i];
        if ((op->kind == SBX__VIEW_BIND || op->kind == SBX__VIEW_SCRATCH ||
             op->kind == SBX__VIEW_PROC || op->kind == SBX__VIEW_DEVPTS ||
             op->kind == SBX__VIEW_TMPFS || op->kind == SBX__VIEW_OVERLAY) &&
            sbx__path_under(real, op->path) &&
            (!best || strlen(op->path) > strlen(best->path) ||
             (op->kind == SBX__VIEW_OVERLAY && strlen(op->path) == strlen(best->path))))
            best = op;
    }
    /* an overlay is writable, as a write grant: the same carve-outs */
    return best && (best->kind == SBX__VIEW_BIND || best->kind == SBX__VIEW_OVERLAY) ? best : NULL;
}

/* Add (or widen) a carve-out op at `path`. */
static int push_carve(struct builder *b, uint8_t kind, const char *path, bool is_dir, uint64_t attr,
                      const char *data, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < b->v->n; i++) {
        struct sbx__view_op *op = &b->v->ops[i];
        if (strcmp(op->path, path) != 0 ||
            (op->kind != SBX__VIEW_SELF && op->kind != SBX__VIEW_MASK &&
             op->kind != SBX__VIEW_MASK_FILE))
            continue;
        if (op->kind == SBX__VIEW_MASK || op->kind == SBX__VIEW_MASK_FILE)
            return 0; /* hidden already */
        if (kind == SBX__VIEW_SELF) {
            op->attr |= attr; /* a pin, made read-only too */
            return 0;
        }
        free_op(op); /* a pin that is hidden now */
        *op = (struct sbx__view_op){.kind = SBX__VIEW_DROPPED};
        break;
    }
    char *p = strdup(path), *d = data ? strdup(data) : NULL;
    if (!p || (data && !d)) {
        free(p);
        free(d);
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "mount namespace: the view");
    }
    return push(b, (struct sbx__view_op){.kind = kind,
                                         .path = p,
                                         .data = d,
                                         .attr = attr,
                                         .dev = dev,
                                         .ino = ino,
                                         .is_dir = is_dir});
}

/* Whether entry `self` lies strictly beneath a path that another entry
 * covers already (hidden, or read-only for a write deny): nothing more to do. */
static bool covered(const struct sbx__carve_plan *cp, size_t self)
{
    const struct sbx__carve_entry *e = &cp->v[self];
    for (size_t k = 0; k < cp->n; k++)
        if (k != self && sbx__path_under(e->real, cp->v[k].real) &&
            strcmp(e->real, cp->v[k].real) != 0 &&
            ((cp->v[k].access & SBX_FS_READ) || !(e->access & SBX_FS_READ) || !e->exists))
            return true; /* (a missing path beneath a read-only one cannot be made: it
                            cannot be made by the child either) */
    return false;
}

/* One denied path where the view shows it: at `where`, beneath the bind at
 * `bind_path` (writable or not). */
static int carve_at(struct builder *b, const struct sbx__carve_entry *e, const char *bind_path,
                    bool writable, const char *where, const struct stat *null_st)
{
    if (!e->exists && !writable)
        return 0; /* nothing can make it in a read-only bind */
    if (!(e->access & SBX_FS_READ) && !writable)
        return 0; /* read-only already */
    int r = 0;
    if (writable) { /* pin the directories between the bind and the denied path */
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", where);
        for (char *slash = strrchr(dir, '/'); r == 0 && slash && slash > dir;
             slash = strrchr(dir, '/')) {
            *slash = '\0';
            if (!sbx__path_under(dir, bind_path) || strcmp(dir, bind_path) == 0)
                break;
            r = push_carve(b, SBX__VIEW_SELF, dir, true, 0, NULL, 0, 0);
        }
    }
    if (r < 0)
        return r;
    if (!e->exists || ((e->access & SBX_FS_READ) && e->is_dir))
        return push_carve(b, SBX__VIEW_MASK, where, true, 0, "mode=0555,size=4k", 0, 0);
    if (!(e->access & SBX_FS_READ))
        return push_carve(b, SBX__VIEW_SELF, where, e->is_dir, MOUNT_ATTR_RDONLY, NULL, 0, 0);
    return push_carve(b, SBX__VIEW_MASK_FILE, where, false, 0, "/dev/null", null_st->st_dev,
                      null_st->st_ino);
}

/* Cover every denied path the view shows: a denied directory with an empty
 * read-only tmpfs, a denied file with the host's /dev/null made unopenable
 * (nodev), a write-denied path with a read-only bind of itself, a missing
 * one (in a writable bind) with an empty read-only tmpfs on a mount point
 * made for it. In a writable bind, each directory between the bind and the
 * denied path is pinned (bound over itself): a mount point cannot be renamed
 * or removed (EBUSY), so no rename or link swap moves the denied path away
 * from its mount. */
static int add_denies(struct builder *b, const struct sbx__carve_plan *cp)
{
    if (!cp)
        return 0;
    struct stat null_st;
    if (stat("/dev/null", &null_st) != 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, -errno, "mount namespace: stat(/dev/null)");
    int r = 0;
    for (size_t i = 0; r == 0 && i < cp->n; i++) {
        const struct sbx__carve_entry *e = &cp->v[i];
        if (covered(cp, i))
            continue; /* inside another carve-out */
        const struct sbx__view_op *bind = shown_by(b->v, e->real);
        if (bind)
            r = carve_at(b, e, bind->path, !(bind->attr & MOUNT_ATTR_RDONLY), e->real, &null_st);
        /* and wherever sbx_bind() shows it */
        size_t n_ops = b->v->n;
        for (size_t k = 0; r == 0 && k < n_ops; k++) {
            const struct sbx__view_op *op = &b->v->ops[k];
            if (op->kind != SBX__VIEW_BIND_AT || !sbx__path_under(e->real, op->data))
                continue;
            char view_path[PATH_MAX], dest[PATH_MAX];
            snprintf(dest, sizeof(dest), "%s", op->path);
            int len = snprintf(view_path, sizeof(view_path), "%s%s", op->path,
                               e->real + (strcmp(op->data, "/") == 0 ? 0 : strlen(op->data)));
            if (len < 0 || (size_t)len >= sizeof(view_path))
                continue;
            r = carve_at(b, e, dest, !(op->attr & MOUNT_ATTR_RDONLY), view_path, &null_st);
        }
    }
    /* drop the pins that a mask replaced */
    size_t kept = 0;
    for (size_t i = 0; i < b->v->n; i++)
        if (b->v->ops[i].kind != SBX__VIEW_DROPPED)
            b->v->ops[kept++] = b->v->ops[i];
    b->v->n = kept;
    return r;
}

static void classify(struct sbx__view *v);
static int prepare_tree(const struct sbx__view *v);

static int make_template(int prepared);
static int prepare_in_userns(const struct sbx__view *v);

int sbx__view_compile(const sbx_policy *policy, const struct sbx__plan *plan,
                      struct sbx__view **ret)
{
    const struct sbx__ns_plan *ns = plan->ns;
    *ret = NULL;
    struct sbx__view *v = calloc(1, sizeof(*v));
    if (!v)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "mount namespace: the view");
    v->prepared = v->template_ns = -1;
    const char *wpaths[policy->n_grants + 1];
    struct sbx__write_dirs writable = {wpaths, 0};
    for (size_t i = 0; i < policy->n_grants; i++)
        if (policy->grants[i].access & SBX__FS_WRITES)
            wpaths[writable.n++] = policy->grants[i].path;
    if (policy->workdir)
        wpaths[writable.n++] = policy->workdir;
    struct builder b = {v, 0, &writable};

    uint64_t rw_rights = sbx__fs_rights_of(&plan->fs, SBX_FS_READ | SBX_FS_WRITE);
    int r = add_system(&b, policy->exec_system);
    if (r == 0)
        r = add_dev(&b, ns->tmp_access, rw_rights);
    if (r == 0)
        r = push_simple(&b, SBX__VIEW_SCRATCH, "/tmp", NULL, ns->tmp_access);
    if (r == 0 && ns->new_proc)
        r = push_simple(&b, SBX__VIEW_PROC, "/proc", NULL, ns->proc_access);
    for (size_t i = 0; r == 0 && i < policy->n_grants; i++) {
        const struct sbx__grant *g = &policy->grants[i];
        if (ns->new_proc && sbx__path_under(g->path, "/proc"))
            continue; /* the new /proc replaces the host's */
        if (strcmp(g->path, "/tmp") == 0 || strcmp(g->path, "/dev/shm") == 0)
            r = sbx__err_stage(SBX_STAGE_COMPILE, -EINVAL,
                               "sbx_allow_path(%s): in the mount namespace's view %s is the "
                               "child's own; grant a directory beneath it, or run without the "
                               "view (SBX_ISOLATION_MINIMAL)",
                               g->path, g->path);
        if (r == 0 && (g->access & SBX__FS_WRITES) && !(g->access & SBX_FS_WRITE) &&
            (sbx__path_under(g->path, "/tmp") || sbx__path_under(g->path, "/dev/shm")))
            r = sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                               "sbx_allow_path(%s): finer write rights cannot hold beneath %s in "
                               "the mount namespace's view (its private %s grants every right "
                               "beneath it); grant SBX_FS_WRITE, a path elsewhere, or run "
                               "without the view",
                               g->path, sbx__path_under(g->path, "/tmp") ? "/tmp" : "/dev/shm",
                               sbx__path_under(g->path, "/tmp") ? "/tmp" : "/dev/shm");
        if (r < 0)
            break;
        uint64_t attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        if (!(g->access & SBX__FS_WRITES))
            attr |= MOUNT_ATTR_RDONLY;
        if (!(g->access & SBX_FS_EXEC))
            attr |= MOUNT_ATTR_NOEXEC;
        r = push_bind(&b, g->path, attr, (g->access & SBX_FS_OPTIONAL) != 0);
    }
    for (size_t i = 0; r == 0 && i < policy->n_binds; i++)
        r = push_bind_at(&b, &policy->binds[i]);
    for (size_t i = 0; r == 0 && i < policy->n_tmpfs; i++) {
        char opts[64];
        if (policy->tmpfs[i].size)
            snprintf(opts, sizeof(opts), "mode=0755,size=%llu",
                     (unsigned long long)policy->tmpfs[i].size);
        else
            snprintf(opts, sizeof(opts), "%s", ns->tmpfs_opts);
        r = push_simple(&b, SBX__VIEW_TMPFS, policy->tmpfs[i].path, opts, rw_rights);
    }
    if (r == 0 && policy->workdir)
        r = push_bind(&b, policy->workdir, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                      true); /* a missing one: chdir reports it */
    /* Granted unix sockets: the socket file itself, at its path (connecting
     * needs no write access to the mount). */
    for (size_t i = 0; r == 0 && i < policy->n_unix_sockets; i++)
        r = push_bind(&b, policy->unix_sockets[i], RO_NOEXEC, false);
    for (size_t i = 0; r == 0 && i < policy->n_overlays; i++)
        r = push_overlay(&b, &policy->overlays[i], i, rw_rights);
    if (r < 0) {
        sbx__view_free(v);
        return r;
    }
    qsort(v->ops, v->n, sizeof(v->ops[0]), by_depth);
    prune(v);
    if (policy->n_overlays)
        drop_under_overlays(v);
    if ((r = add_denies(&b, plan->carve)) < 0) {
        sbx__view_free(v);
        return r;
    }
    qsort(v->ops, v->n, sizeof(v->ops[0]), by_depth);
    /* The view holds only what was granted: listing its directories (ls /,
     * ls /dev) shows nothing else. It also lets a write-only grant be listed. */
    v->root_rights = plan->fs.list;
    v->root_opts = ns->tmpfs_opts;
    /* The common part is built once, at the second spawn: by a root host in
     * its own namespace, and with a user namespace in the plan by a helper in
     * a user namespace of its own (prepare_in_userns). */
    bool userns = (ns->clone_flags & CLONE_NEWUSER) != 0;
    if ((userns || geteuid() == 0) && !policy->n_overlays) {
        classify(v);
        const char *size = strstr(v->root_opts, ",size=");
        snprintf(v->scratch_opts, sizeof(v->scratch_opts), "mode=0755%s", size ? size : "");
        v->can_prepare = true;
        if (userns) {
            v->uid_map = ns->uid_map;
            v->gid_map = ns->gid_map;
        }
    }
    *ret = v;
    return 0;
}

/* Build the prepared tree (and a root host's template namespace) once, at
 * the view's second spawn: a policy spawned once builds its view in the child
 * alone, which costs less than building the tree and cloning it. One spawn
 * builds it (`state` holds its process's pid meanwhile); spawns of other
 * threads meanwhile build their views whole. A copy of the process forked
 * during the build finds another process's pid there, and builds its own. */
#define VIEW_PREPARED (-1)

/* Test-only: AGENTSBX_TEST_VIEW_BUILD="FD:PID" holds a build claimed in
 * process PID: a byte to FD says the build is claimed, and it goes on when a
 * byte comes back (test_namespace forks meanwhile). */
static void test_hold_build(void)
{
    const char *v = secure_getenv("AGENTSBX_TEST_VIEW_BUILD");
    int fd;
    long pid;
    char c;
    if (!v || sscanf(v, "%d:%ld", &fd, &pid) != 2 || pid != (long)getpid())
        return;
    if (write(fd, "b", 1) == 1)
        while (read(fd, &c, 1) < 0 && errno == EINTR)
            ;
}

static void prepare_once(struct sbx__view *v)
{
    int self = (int)getpid();
    int seen = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
    if (!v->can_prepare || seen == VIEW_PREPARED || seen == self ||
        (seen == 0 && __atomic_fetch_add(&v->uses, 1, __ATOMIC_RELAXED) == 0))
        return;
    if (!__atomic_compare_exchange_n(&v->state, &seen, self, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    test_hold_build();
    if (seen != 0) { /* what the forked-from process had built so far: its copies */
        if (v->prepared >= 0)
            close(v->prepared);
        if (v->template_ns >= 0)
            close(v->template_ns);
        v->prepared = v->template_ns = -1;
    }
    v->prepared = v->uid_map ? prepare_in_userns(v) : prepare_tree(v);
    if (v->prepared >= 0 && !v->uid_map)
        v->template_ns = make_template(v->prepared);
    __atomic_store_n(&v->state, VIEW_PREPARED, __ATOMIC_RELEASE);
}

/* ---- per spawn: the program and its interpreters ---------------------------------- */

/* Whether the view already lets `real` be executed: it lies in a bind without noexec. */
static bool executable_in_view(const struct sbx__view *view, const char *real)
{
    const struct sbx__view_op *best = NULL;
    for (size_t i = 0; i < view->n; i++) {
        const struct sbx__view_op *op = &view->ops[i];
        if (op->kind == SBX__VIEW_BIND && sbx__path_under(real, op->path) &&
            (!best || strlen(op->path) > strlen(best->path)))
            best = op;
    }
    return best && !(best->attr & MOUNT_ATTR_NOEXEC);
}

/* realpath(3) in three system calls where /proc is mounted (realpath reads
 * each component's link: thirteen calls for /bin/true and its loader, at
 * every spawn). NULL when path does not exist. */
static char *real_path(const char *path, char real[PATH_MAX])
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    bool named = sbx__fd_path(fd, real, PATH_MAX) && real[0] == '/';
    close(fd);
    return named ? real : realpath(path, real);
}

/* Bind one file of the program's chain, unless the view shows it executable. */
static int add_extra(const struct sbx__view *view, const char *path, struct sbx__view_extra *e)
{
    char real[PATH_MAX];
    if (!real_path(path, real))
        return 0; /* execve reports it */
    if (executable_in_view(view, real))
        return 0;
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->ops[i].path, real) == 0)
            return 0;
    size_t len = strlen(real) + 1;
    if (len > sizeof(e->paths) - e->used)
        return sbx__err_stage(SBX_STAGE_NAMESPACES, -ENAMETOOLONG,
                              "mount namespace: %s (the program or an interpreter): the paths of "
                              "the program's files are longer than %zu bytes together",
                              real, sizeof(e->paths));
    struct stat st;
    if (stat(real, &st) != 0)
        return 0;
    /* Its mount point exists (through a bind), or is made in a tmpfs of the
     * child's own (/tmp, /dev/shm, sbx_tmpfs(): a program in the host's /tmp),
     * or in the view's root. */
    bool bound = false;
    for (size_t i = 0; i < view->n && !bound; i++) {
        const struct sbx__view_op *op = &view->ops[i];
        bound = (op->kind == SBX__VIEW_BIND || op->kind == SBX__VIEW_BIND_AT ||
                 op->kind == SBX__VIEW_SCRATCH || op->kind == SBX__VIEW_TMPFS) &&
                sbx__path_under(real, op->path) && strcmp(real, op->path) != 0;
    }
    e->unprepared |= !bound;
    char *copy = e->paths + e->used;
    memcpy(copy, real, len);
    e->used += len;
    e->ops[e->n++] = (struct sbx__view_op){
        .kind = SBX__VIEW_BIND,
        .path = copy,
        .dev = st.st_dev,
        .ino = st.st_ino,
        .attr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        .is_dir = S_ISDIR(st.st_mode),
    };
    return 0;
}

int sbx__view_extra_prepare(const struct sbx__view *view, const struct sbx__program *prog,
                            struct sbx__view_extra *extra)
{
    extra->n = 0;
    extra->used = 0;
    extra->unprepared = false;
    extra->tree = extra->template_ns = -1;
    if (!view)
        return 0;
    /* prog has at most SBX__VIEW_MAX_EXTRA files: each can have its bind */
    for (size_t i = 0; i < prog->n; i++) {
        int r = add_extra(view, prog->path[i], extra);
        if (r < 0)
            return r;
    }
    /* The view is the policy's, shared by the threads that spawn from it;
     * only its lazy fields change (prepare_once). */
    struct sbx__view *v = (struct sbx__view *)view;
    prepare_once(v);
    if (!extra->unprepared && __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VIEW_PREPARED) {
        extra->tree = v->prepared;
        extra->template_ns = v->template_ns;
    }
    return 0;
}

/* ---- the child (system calls only) ------------------------------------------------ */

static int set_attr(int dirfd, const char *path, unsigned flags, uint64_t set, uint64_t clear)
{
    struct mount_attr attr = {.attr_set = set, .attr_clr = clear};
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr));
}

/* Reach `path` (absolute, in the view) beneath rootfd without following any
 * link, creating what is missing: directories on the way, and the last
 * component as a directory or an empty file. Returns an O_PATH descriptor.
 * One openat2 when the path exists (most binds land in one that does). */
static int mountpoint(int rootfd, const char *path, bool is_dir)
{
    while (*path == '/')
        path++;
    if (!*path)
        return openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct view_open_how how = {.flags = O_PATH | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0),
                                .resolve =
                                    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    if (fd >= 0 || errno != ENOENT)
        return fd;
    /* Missing: make the parent, then this. */
    const char *slash = strrchr(path, '/');
    char parent[PATH_MAX];
    size_t plen = slash ? (size_t)(slash - path) : 0;
    memcpy(parent, path, plen);
    parent[plen] = '\0';
    int pfd = mountpoint(rootfd, parent, true);
    if (pfd < 0)
        return -1;
    const char *name = slash ? slash + 1 : path;
    int made = is_dir ? mkdirat(pfd, name, 0755) : mknodat(pfd, name, S_IFREG | 0644, 0);
    if (made == 0 || errno == EEXIST)
        fd = (int)syscall(SYS_openat2, pfd, name, &how, sizeof(how));
    int saved = errno;
    close(pfd);
    errno = saved;
    return fd;
}

/* "/proc/self/fd/N": a path for mount(2) that is exactly the descriptor. */
static void fd_path(char *buf, int fd)
{
    char digits[16], *d = digits + sizeof(digits);
    *--d = '\0';
    unsigned v = (unsigned)fd;
    do
        *--d = (char)('0' + v % 10);
    while (v /= 10);
    static const char prefix[] = "/proc/self/fd/";
    memcpy(buf, prefix, sizeof(prefix) - 1);
    memcpy(buf + sizeof(prefix) - 1, d, (size_t)(digits + sizeof(digits) - d));
}

/* Append the text s at *at (bounded by end). */
static bool append(char **at, const char *end, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(end - *at) <= n)
        return false;
    memcpy(*at, s, n + 1);
    *at += n;
    return true;
}

/* sbx_overlay(): overlayfs on target, its layers given as the descriptors the
 * child opened (overlayfs takes layers from the mounter's own namespace). The
 * "userxattr" option keeps its marks in user.overlay.* (a user namespace may
 * set those only), also as root, so that sbx_overlay_changes() reads one
 * format. */
static int mount_overlay(const char *at, const int *fds)
{
    char opts[160], *o = opts, num[32];
    const char *end = opts + sizeof(opts);
    static const char *const keys[] = {"lowerdir=", ",upperdir=", ",workdir="};
    for (int k = 0; k < 3; k++) {
        fd_path(num, fds[k]);
        if (!append(&o, end, keys[k]) || !append(&o, end, num)) {
            errno = ENAMETOOLONG;
            return -1;
        }
    }
    if (!append(&o, end, ",userxattr")) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mount("overlay", at, "overlay", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts);
}

static int fail(volatile int *step, int s, const char *volatile *where, const char *path)
{
    int saved = errno;
    *step = s;
    *where = path;
    errno = saved ? saved : EINVAL;
    return -1;
}

static int build(const struct sbx__view *view, const struct sbx__view_extra *extra, const int *src,
                 const int *ovl, int ruleset, volatile int *step, const char *volatile *where);
static int build_on_prepared(const struct sbx__view *view, const struct sbx__view_extra *extra,
                             const int *src, int ruleset, volatile int *step,
                             const char *volatile *where);
static int build_on_template(const struct sbx__view *view, const struct sbx__view_extra *extra,
                             int *src, int ruleset, volatile int *step,
                             const char *volatile *where);

/* The source of a bind, in this mount namespace: the path resolved at compile
 * time, following no link, and the same object as then. */
static int open_source(const struct sbx__view_op *op)
{
    struct view_open_how how = {.flags = O_PATH | O_CLOEXEC,
                                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    const char *path = op->kind == SBX__VIEW_MASK_FILE || op->kind == SBX__VIEW_BIND_AT ||
                               op->kind == SBX__VIEW_OVERLAY
                           ? op->data
                           : op->path;
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
    struct stat st;
    if (fd >= 0 &&
        (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != op->dev || (uint64_t)st.st_ino != op->ino)) {
        close(fd);
        errno = ESTALE; /* replaced since the policy was compiled */
        return -1;
    }
    return fd;
}

/* A new mount's Landlock rights, on its root reached through its path. */
static int grant_new_mount(int rootfd, const char *path, uint64_t rights, int ruleset)
{
    if (!rights || ruleset < 0)
        return 0;
    int mfd = openat(rootfd, path + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    int rc = mfd < 0 || sbx__landlock_add_path(ruleset, mfd, rights) != 0 ? -1 : 0;
    int saved = errno;
    if (mfd >= 0)
        close(mfd);
    errno = saved;
    return rc;
}

/* Attach a clone of the tree at `from` (a bind source, or a directory of the
 * view itself) over `target`, with `attr` set on it. */
/* How do_op makes its mounts: with the template (the child has entered the
 * template namespace), its binds' sources are detached trees cloned before
 * (open_tree(2) clones only mounts of the caller's own namespace), and new
 * file systems are made with fsopen(2), since the view has no /proc yet to
 * name a target by. */
enum { OP_CLONED = 1, OP_NEW_API = 2 };

/* Clone `from` (a mount's root, or with OP_CLONED the detached tree itself),
 * set attr and attach it at target. */
static int attach(int from, int target, uint64_t attr, unsigned recursive, unsigned how, int *s)
{
    int tree = how & OP_CLONED
                   ? from
                   : (int)syscall(SYS_open_tree, from, "",
                                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | recursive);
    int rc = 0;
    if (tree < 0)
        rc = -1, *s = SBX__VSTEP_CLONE;
    else if (attr && set_attr(tree, "", AT_EMPTY_PATH | recursive, attr, 0) != 0)
        rc = -1, *s = SBX__VSTEP_ATTR;
    else if (syscall(SYS_move_mount, tree, "", target, "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        rc = -1, *s = SBX__VSTEP_ATTACH;
    int saved = errno;
    if (tree >= 0 && !(how & OP_CLONED))
        close(tree);
    errno = saved;
    return rc;
}

/* A new file system of `type` with mount options `opts` ("key=value,flag,..."),
 * as a detached mount with attr. Async-signal-safe. */
static int new_mount(const char *type, const char *opts, uint64_t attr)
{
    int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
    if (fs < 0)
        return -1;
    char buf[128];
    size_t len = opts ? strlen(opts) : 0;
    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, opts ? opts : "", len);
    buf[len] = '\0';
    /* The source mount(2) would show ("tmpfs", "proc", "devpts"), for df and the like. */
    int rc = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", type, 0);
    for (char *kv = buf, *next; kv && rc == 0; kv = next) {
        next = strchr(kv, ',');
        if (next)
            *next++ = '\0';
        if (!*kv)
            continue; /* "a,,b" */
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = '\0';
        rc = (int)syscall(SYS_fsconfig, fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, kv,
                          eq ? eq + 1 : NULL, 0);
    }
    int mnt = rc == 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0
                  ? (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr)
                  : -1;
    int saved = errno;
    close(fs);
    errno = saved;
    return mnt;
}

/* mount(2) of a new file system at target, or with OP_NEW_API fsmount(2) and
 * move_mount(2) (the same flags as MOUNT_ATTR_*). */
static int mount_new(const char *type, int target, const char *at, unsigned long flags,
                     const char *opts, unsigned how)
{
    if (!(how & OP_NEW_API))
        return mount(type, at, type, flags, opts);
    uint64_t attr =
        (flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) | (flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
        (flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) | (flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
    int mnt = new_mount(type, opts, attr);
    int rc = mnt < 0 ? -1
                     : (int)syscall(SYS_move_mount, mnt, "", target, "",
                                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    int saved = errno;
    if (mnt >= 0)
        close(mnt);
    errno = saved;
    return rc;
}

static int do_op(const struct sbx__view_op *op, int src, const int *ovl, int rootfd, int ruleset,
                 unsigned how, volatile int *step, const char *volatile *where)
{
    if (op->kind == SBX__VIEW_SYMLINK) {
        const char *slash = strrchr(op->path, '/');
        char parent[PATH_MAX];
        size_t plen = (size_t)(slash - op->path);
        memcpy(parent, op->path, plen);
        parent[plen] = '\0';
        int dfd = mountpoint(rootfd, parent[0] ? parent : "/", true);
        if (dfd < 0)
            return fail(step, SBX__VSTEP_MOUNTPOINT, where, op->path);
        int rc = symlinkat(op->data, dfd, slash + 1);
        int saved = errno;
        close(dfd);
        errno = saved;
        return rc == 0 || errno == EEXIST ? 0 : fail(step, SBX__VSTEP_SYMLINK, where, op->path);
    }
    int target = mountpoint(rootfd, op->path,
                            (op->kind != SBX__VIEW_BIND && op->kind != SBX__VIEW_MASK_FILE &&
                             op->kind != SBX__VIEW_SELF && op->kind != SBX__VIEW_BIND_AT) ||
                                op->is_dir);
    if (target < 0)
        return fail(step, SBX__VSTEP_MOUNTPOINT, where, op->path);
    char at[32];
    fd_path(at, target);
    int rc = 0, s = 0;
    switch (op->kind) {
    case SBX__VIEW_BIND:
    case SBX__VIEW_BIND_AT: rc = attach(src, target, op->attr, AT_RECURSIVE, how, &s); break;
    case SBX__VIEW_MASK_FILE:
        rc = attach(src, target,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
                    how, &s);
        if (rc != 0)
            s = SBX__VSTEP_DENY;
        break;
    case SBX__VIEW_SELF:
        rc = attach(target, target, op->attr, AT_RECURSIVE, how & ~OP_CLONED, &s);
        if (rc != 0)
            s = SBX__VSTEP_DENY;
        break;
    case SBX__VIEW_OVERLAY: {
        int fds[3] = {src, ovl[2 * op->ovl], ovl[2 * op->ovl + 1]};
        rc = mount_overlay(at, fds);
        s = SBX__VSTEP_OVERLAY;
        break;
    }
    case SBX__VIEW_MASK:
        rc = mount_new("tmpfs", target, at, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, op->data,
                       how);
        s = SBX__VSTEP_DENY;
        break;
    case SBX__VIEW_SCRATCH:
        /* A directory of the view's tmpfs, sticky and writable by all, bound
         * over itself so that it stays writable when the root is made
         * read-only. */
        if (chmod(at, 01777) != 0)
            rc = -1, s = SBX__VSTEP_TMPFS;
        else
            rc = attach(target, target, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
                        how & ~OP_CLONED, &s);
        break;
    case SBX__VIEW_TMPFS:
        rc = mount_new("tmpfs", target, at, MS_NOSUID | MS_NODEV | MS_NOEXEC, op->data, how);
        s = SBX__VSTEP_TMPFS;
        break;
    case SBX__VIEW_DEVPTS:
        rc = mount_new("devpts", target, at, MS_NOSUID | MS_NOEXEC, op->data, how);
        s = SBX__VSTEP_DEVPTS;
        break;
    default:
        rc = mount_new("proc", target, at, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, how);
        s = SBX__VSTEP_PROC;
        break;
    }
    if (rc == 0 && op->ll_rights && op->kind != SBX__VIEW_BIND &&
        grant_new_mount(rootfd, op->path, op->ll_rights, ruleset) != 0)
        rc = -1, s = SBX__VSTEP_LANDLOCK;
    int saved = errno;
    close(target);
    errno = saved;
    return rc == 0 ? 0 : fail(step, s, where, op->path);
}

int sbx__view_build(const struct sbx__view *view, const struct sbx__view_extra *extra, int ruleset,
                    const char *cwd, volatile int *step, const char *volatile *where)
{
    /* First every source, while the host's tree is still in place (the stage
     * covers /tmp). */
    size_t n = view->n, n_extra = extra ? extra->n : 0;
    int src[n + n_extra];
    for (size_t i = 0; i < n + n_extra; i++)
        src[i] = -1;
    /* the overlays' upper and work directories, made for this spawn */
    int ovl[2 * SBX_OVERLAY_MAX];
    for (size_t i = 0; i < 2 * SBX_OVERLAY_MAX; i++)
        ovl[i] = -1;
    int rc = 0;
    bool prepared = extra && extra->tree >= 0;
    for (size_t i = 0; rc == 0 && i < n + n_extra; i++) {
        const struct sbx__view_op *op = i < n ? &view->ops[i] : &extra->ops[i - n];
        if (prepared && i < n && !op->per_child)
            continue; /* bound in the prepared tree */
        if ((op->kind == SBX__VIEW_BIND || op->kind == SBX__VIEW_MASK_FILE ||
             op->kind == SBX__VIEW_BIND_AT || op->kind == SBX__VIEW_OVERLAY) &&
            (src[i] = open_source(op)) < 0)
            rc = fail(step, SBX__VSTEP_OPEN, where, op->path);
        if (rc == 0 && op->kind == SBX__VIEW_OVERLAY) {
            struct view_open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                                        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
            for (int k = 0; rc == 0 && k < 2; k++) {
                const char *dir = !extra || op->ovl >= extra->n_ovl ? NULL
                                  : k == 0                          ? extra->ovl_upper[op->ovl]
                                                                    : extra->ovl_work[op->ovl];
                if (!dir)
                    errno = ENOENT;
                if (!dir || (ovl[2 * op->ovl + k] =
                                 (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how))) < 0)
                    rc = fail(step, SBX__VSTEP_OPEN, where, dir ? dir : op->path);
            }
        }
    }
    if (rc == 0)
        rc = sbx__view_from_template(view, extra)
                 ? build_on_template(view, extra, src, ruleset, step, where)
             : prepared ? build_on_prepared(view, extra, src, ruleset, step, where)
                        : build(view, extra, src, ovl, ruleset, step, where);
    int saved = errno;
    for (size_t i = 0; i < n + n_extra; i++)
        if (src[i] >= 0)
            close(src[i]);
    for (size_t i = 0; i < 2 * SBX_OVERLAY_MAX; i++)
        if (ovl[i] >= 0)
            close(ovl[i]);
    errno = saved;
    if (rc == 0 && cwd && chdir(cwd) != 0 && chdir("/") != 0)
        rc = fail(step, SBX__VSTEP_PIVOT, where, "/");
    return rc;
}

static int build(const struct sbx__view *view, const struct sbx__view_extra *extra, const int *src,
                 const int *ovl, int ruleset, volatile int *step, const char *volatile *where)
{
    if (mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, view->root_opts) != 0)
        return fail(step, SBX__VSTEP_STAGE, where, STAGE);
    int rootfd = open(STAGE, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return fail(step, SBX__VSTEP_STAGE, where, STAGE);
    if (view->root_rights && ruleset >= 0 &&
        sbx__landlock_add_path(ruleset, rootfd, view->root_rights) != 0) {
        int saved = errno;
        close(rootfd);
        errno = saved;
        return fail(step, SBX__VSTEP_LANDLOCK, where, "/");
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < view->n; i++)
        rc = do_op(&view->ops[i], src[i], ovl, rootfd, ruleset, 0, step, where);
    for (size_t i = 0; rc == 0 && extra && i < extra->n; i++)
        rc = do_op(&extra->ops[i], src[view->n + i], ovl, rootfd, ruleset, 0, step, where);
    if (rc == 0) {
        /* The view becomes the root; the host's tree is detached from it. */
        if (fchdir(rootfd) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
            umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
            rc = fail(step, SBX__VSTEP_PIVOT, where, STAGE);
        else if (set_attr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY, 0) != 0)
            rc = fail(step, SBX__VSTEP_READ_ONLY, where, "/");
    }
    int saved = errno;
    close(rootfd);
    errno = saved;
    return rc;
}

/* ---- the prepared tree: the common part, built once per policy ---------------------- */

/* Whether a bind's source is one of the system's own (the binds of
 * add_system and add_dev, the default denies' /dev/null): the same object for
 * every child, so bound once, at compile time. Every other source (grants,
 * the working directory, sbx_bind) is opened and checked by each child, as
 * without the prepared tree. */
static bool system_source(const struct sbx__view_op *op)
{
    const char *src = op->kind == SBX__VIEW_BIND ? op->path : op->data;
    if (!src)
        return false;
    for (size_t i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++)
        if (sbx__path_under(src, system_dirs[i]))
            return true;
    for (size_t i = 0; i < sizeof(library_dirs) / sizeof(library_dirs[0]); i++)
        if (sbx__path_under(src, library_dirs[i]))
            return true;
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        if (strcmp(src, devices[i]) == 0)
            return true;
    return false;
}

/* Which ops each child makes itself: the mounts of its own (/tmp, /dev/shm,
 * /dev/pts, /proc, tmpfs grants), binds of sources that are not the system's,
 * a new mount with Landlock rights (added to each child's ruleset), and
 * everything at or beneath one of those. */
static void classify(struct sbx__view *v)
{
    for (size_t i = 0; i < v->n; i++) {
        struct sbx__view_op *op = &v->ops[i];
        switch (op->kind) {
        case SBX__VIEW_SYMLINK: op->per_child = false; break;
        case SBX__VIEW_BIND:
        case SBX__VIEW_BIND_AT:
        case SBX__VIEW_MASK_FILE: op->per_child = !system_source(op); break;
        case SBX__VIEW_MASK:
        case SBX__VIEW_SELF: op->per_child = op->ll_rights != 0; break;
        default: op->per_child = true; break;
        }
        for (size_t k = 0; k < i && !op->per_child; k++)
            op->per_child = v->ops[k].per_child && v->ops[k].kind != SBX__VIEW_SYMLINK &&
                            sbx__path_under(op->path, v->ops[k].path);
    }
}

static bool mountpoint_is_dir(const struct sbx__view_op *op)
{
    return (op->kind != SBX__VIEW_BIND && op->kind != SBX__VIEW_MASK_FILE &&
            op->kind != SBX__VIEW_SELF && op->kind != SBX__VIEW_BIND_AT) ||
           op->is_dir;
}

/* A tmpfs with mount options `opts` ("key=value,..."), as a detached mount. */
static int new_tmpfs(const char *opts, uint64_t attr)
{
    return new_mount("tmpfs", opts, attr);
}

/* Make the file system of a mount's root read-only itself, not only the
 * mount: every clone of the prepared tree shares its file systems, and a
 * child that may change its own mounts (one that keeps CAP_SYS_ADMIN in its
 * user namespace and may call mount(2)) could clear a mount's read-only
 * flag, but not the superblock's: that needs CAP_SYS_ADMIN where the file
 * system was made (this host's, or the helper's user namespace). */
static int seal(int mnt)
{
    int fs = (int)syscall(SYS_fspick, mnt, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
    int rc = fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) != 0 ||
                     syscall(SYS_fsconfig, fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) != 0
                 ? -1
                 : 0;
    if (fs >= 0)
        close(fs);
    return rc;
}

/* Build the ops that are not per_child, and the mount points of the per_child
 * ones that are not beneath another, on a detached tmpfs made read-only at the
 * end (the mounts and their file systems): the tree each child clones. -1
 * when it cannot be built here (no new mount API, a source replaced...): each
 * child then builds the whole view. */
static int prepare_tree(const struct sbx__view *v)
{
    int root = new_tmpfs(v->root_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (root < 0)
        return -1;
    int rc = 0;
    volatile int step = 0;
    const char *volatile where = NULL;
    for (size_t i = 0; rc == 0 && i < v->n; i++) {
        const struct sbx__view_op *op = &v->ops[i];
        if (op->per_child) {
            bool nested = false;
            for (size_t k = 0; k < i && !nested; k++)
                nested = v->ops[k].per_child && v->ops[k].kind != SBX__VIEW_SYMLINK &&
                         sbx__path_under(op->path, v->ops[k].path);
            if (nested || op->kind == SBX__VIEW_SYMLINK)
                continue; /* the child makes it, in a mount of its own */
            int fd = mountpoint(root, op->path, mountpoint_is_dir(op));
            if (fd < 0)
                rc = -1;
            else
                close(fd);
        } else if (op->kind == SBX__VIEW_MASK) {
            int target = mountpoint(root, op->path, true);
            int mask = target < 0 ? -1
                                  : new_tmpfs(op->data, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                                            MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
            if (mask < 0 || seal(mask) != 0 ||
                syscall(SYS_move_mount, mask, "", target, "",
                        MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
                rc = -1;
            if (mask >= 0)
                close(mask);
            if (target >= 0)
                close(target);
        } else {
            int src = -1;
            if ((op->kind == SBX__VIEW_BIND || op->kind == SBX__VIEW_MASK_FILE ||
                 op->kind == SBX__VIEW_BIND_AT) &&
                (src = open_source(op)) < 0)
                rc = -1;
            else
                rc = do_op(op, src, NULL, root, -1, 0, &step, &where);
            if (src >= 0)
                close(src);
        }
    }
    if (rc == 0 &&
        (set_attr(root, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0) != 0 || seal(root) != 0))
        rc = -1;
    if (rc != 0) {
        close(root);
        return -1;
    }
    return root;
}

/* A host that cannot make mounts in its own namespace (an ordinary user; or
 * a plan with a user namespace, whose children's mounts are locked in it) has
 * a helper build the prepared tree: a process in a user namespace of its own,
 * the ids mapped as the children map theirs, and a copy of the host's mounts.
 * The tree is detached, so it outlives the helper and its namespaces; its
 * descriptor lands in this process's table (CLONE_FILES). A child, in a user
 * namespace of its own beside the helper's, clones it (open_tree(2) takes a
 * detached tree from any namespace) into its copy of the host's mounts, as a
 * root host's child does. -1 when it cannot be built here: each child then
 * builds the whole view. */
struct userns_prepare {
    const struct sbx__view *v;
    volatile int fd;
};

static int userns_prepare_child(void *arg)
{
    struct userns_prepare *u = arg;
    if (sbx__ns_write_ids(u->v->uid_map, u->v->gid_map) != 0)
        _exit(1);
    u->fd = prepare_tree(u->v);
    _exit(u->fd >= 0 ? 0 : 1);
}

static int prepare_in_userns(const struct sbx__view *v)
{
    struct userns_prepare u = {.v = v, .fd = -1};
    size_t stack_size = 64 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* No exit signal: a host that reaps with waitpid(-1) does not take it. */
    pid_t pid = clone(userns_prepare_child, stack + stack_size,
                      CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_NEWUSER | CLONE_NEWNS, &u);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int st = 0;
    if (pid > 0)
        while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
            ;
    sbx__child_stack_released(stack, stack_size);
    munmap(stack, stack_size);
    if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (u.fd >= 0)
            close(u.fd);
        return -1;
    }
    return u.fd;
}

/* /tmp or /dev/shm on the prepared tree, whose root is shared and read-only:
 * a directory of one tmpfs of the child's own (*scratch, made at the first;
 * scratch_opts: the memory limit binds both together, as in a view the child
 * builds whole), named as the mount point ("tmp", "shm"), sticky and writable
 * by all, attached at its mount point. */
static int scratch_dir(const struct sbx__view *view, size_t index, int *scratch, int rootfd,
                       int ruleset, volatile int *step, const char *volatile *where)
{
    const struct sbx__view_op *op = &view->ops[index];
    if (*scratch < 0 &&
        (*scratch = new_tmpfs(view->scratch_opts,
                              MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) < 0)
        return fail(step, SBX__VSTEP_TMPFS, where, op->path);
    const char *p = strrchr(op->path, '/') + 1;
    int target = mountpoint(rootfd, op->path, true);
    if (target < 0)
        return fail(step, SBX__VSTEP_MOUNTPOINT, where, op->path);
    int s = 0, tree = -1;
    if (mkdirat(*scratch, p, 0700) != 0 || fchmodat(*scratch, p, 01777, 0) != 0)
        s = SBX__VSTEP_TMPFS;
    else if ((tree = (int)syscall(SYS_open_tree, *scratch, p,
                                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0)
        s = SBX__VSTEP_CLONE;
    else if (syscall(SYS_move_mount, tree, "", target, "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        s = SBX__VSTEP_ATTACH;
    else if (grant_new_mount(rootfd, op->path, op->ll_rights, ruleset) != 0)
        s = SBX__VSTEP_LANDLOCK;
    int saved = errno;
    if (tree >= 0)
        close(tree);
    close(target);
    errno = saved;
    return s ? fail(step, s, where, op->path) : 0;
}

/* The per_child ops and the spawn's extra, on the view's root (rootfd). */
static int build_per_child(const struct sbx__view *view, const struct sbx__view_extra *extra,
                           const int *src, int rootfd, int ruleset, unsigned how,
                           volatile int *step, const char *volatile *where)
{
    int rc = 0, scratch = -1;
    if (view->root_rights && ruleset >= 0 &&
        sbx__landlock_add_path(ruleset, rootfd, view->root_rights) != 0)
        rc = fail(step, SBX__VSTEP_LANDLOCK, where, "/");
    for (size_t i = 0; rc == 0 && i < view->n; i++) {
        const struct sbx__view_op *op = &view->ops[i];
        if (!op->per_child)
            continue;
        rc = op->kind == SBX__VIEW_SCRATCH
                 ? scratch_dir(view, i, &scratch, rootfd, ruleset, step, where)
                 : do_op(op, src[i], NULL, rootfd, ruleset, how, step, where);
    }
    for (size_t i = 0; rc == 0 && extra && i < extra->n; i++)
        rc = do_op(&extra->ops[i], src[view->n + i], NULL, rootfd, ruleset, how, step, where);
    if (scratch >= 0) {
        int saved = errno;
        close(scratch); /* its directories stay, attached */
        errno = saved;
    }
    return rc;
}

/* The child's build on a clone of the prepared tree: the clone becomes the
 * stage, and only the per_child ops and the spawn's extra are made. */
static int build_on_prepared(const struct sbx__view *view, const struct sbx__view_extra *extra,
                             const int *src, int ruleset, volatile int *step,
                             const char *volatile *where)
{
    int tree = (int)syscall(SYS_open_tree, extra->tree, "",
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    if (tree < 0)
        return fail(step, SBX__VSTEP_CLONE, where, "/");
    int rc = (int)syscall(SYS_move_mount, tree, "", AT_FDCWD, STAGE, MOVE_MOUNT_F_EMPTY_PATH);
    int saved = errno;
    close(tree);
    errno = saved;
    if (rc != 0)
        return fail(step, SBX__VSTEP_STAGE, where, STAGE);
    int rootfd = open(STAGE, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return fail(step, SBX__VSTEP_STAGE, where, STAGE);
    rc = build_per_child(view, extra, src, rootfd, ruleset, 0, step, where);
    if (rc == 0) {
        if (fchdir(rootfd) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
            umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
            rc = fail(step, SBX__VSTEP_PIVOT, where, STAGE);
    }
    saved = errno;
    close(rootfd);
    errno = saved;
    return rc;
}

bool sbx__view_from_template(const struct sbx__view *view, const struct sbx__view_extra *extra)
{
    return view && extra && extra->template_ns >= 0;
}

/* The child's build from the template: it is still in the host's mounts
 * (cloned without a mount namespace). The binds' sources, opened there, are
 * cloned there (src[i] becomes the detached tree); then the child enters the
 * template namespace and makes a copy of it its own, rooted in the view, and
 * makes the per_child ops and the spawn's extra on that copy. */
static int build_on_template(const struct sbx__view *view, const struct sbx__view_extra *extra,
                             int *src, int ruleset, volatile int *step, const char *volatile *where)
{
    size_t n = view->n, n_extra = extra ? extra->n : 0;
    for (size_t i = 0; i < n + n_extra; i++) {
        const struct sbx__view_op *op = i < n ? &view->ops[i] : &extra->ops[i - n];
        if (src[i] < 0 || (op->kind != SBX__VIEW_BIND && op->kind != SBX__VIEW_BIND_AT &&
                           op->kind != SBX__VIEW_MASK_FILE))
            continue;
        unsigned recursive = op->kind == SBX__VIEW_MASK_FILE ? 0 : AT_RECURSIVE;
        int tree = (int)syscall(SYS_open_tree, src[i], "",
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | recursive);
        if (tree < 0)
            return fail(step, SBX__VSTEP_CLONE, where, op->path);
        close(src[i]);
        src[i] = tree;
    }
    if (setns(extra->template_ns, CLONE_NEWNS) != 0 || unshare(CLONE_NEWNS) != 0)
        return fail(step, SBX__VSTEP_ENTER, where, "/");
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return fail(step, SBX__VSTEP_ENTER, where, "/");
    int rc =
        build_per_child(view, extra, src, rootfd, ruleset, OP_CLONED | OP_NEW_API, step, where);
    int saved = errno;
    close(rootfd);
    errno = saved;
    return rc;
}

/* The template namespace (view.h): a process in a new mount namespace, with
 * this one's descriptor table, opens the namespace, makes a clone of the
 * prepared tree its root, and exits; the descriptor keeps the namespace. */
struct template_ctx {
    int prepared;
    volatile int fd;
};

static int template_child(void *arg)
{
    struct template_ctx *t = arg;
    /* Nothing done in this copy of the host's mounts reaches the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        _exit(1);
    int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    int tree =
        fd < 0 ? -1
               : (int)syscall(SYS_open_tree, t->prepared, "",
                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    int ok = tree >= 0 &&
             syscall(SYS_move_mount, tree, "", AT_FDCWD, STAGE, MOVE_MOUNT_F_EMPTY_PATH) == 0 &&
             chdir(STAGE) == 0 && syscall(SYS_pivot_root, ".", ".") == 0 &&
             umount2(".", MNT_DETACH) == 0 && chdir("/") == 0 &&
             mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
    if (tree >= 0)
        close(tree); /* the table is the host's */
    if (!ok) {
        if (fd >= 0)
            close(fd);
        _exit(1);
    }
    t->fd = fd;
    _exit(0);
}

static int make_template(int prepared)
{
    struct template_ctx t = {.prepared = prepared, .fd = -1};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    _Alignas(16) char stack[16 * 1024];
    /* No exit signal: a host that reaps with waitpid(-1) does not take it. */
    pid_t pid = clone(template_child, stack + sizeof(stack),
                      CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_NEWNS, &t);
    sbx__child_stack_released(stack, sizeof(stack));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return -1;
    int st = 0;
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (t.fd >= 0)
            close(t.fd);
        return -1;
    }
    return t.fd;
}

const char *sbx__view_step_text(int step)
{
    switch (step) {
    case SBX__VSTEP_STAGE: return "mounting the tmpfs the view is built on";
    case SBX__VSTEP_OPEN:
        return "opening a granted path (no link followed; ESTALE: replaced since the policy "
               "was compiled)";
    case SBX__VSTEP_MOUNTPOINT: return "making a mount point in the view (no link followed)";
    case SBX__VSTEP_CLONE: return "cloning a granted tree (open_tree)";
    case SBX__VSTEP_ATTR: return "making a granted tree read-only/noexec (mount_setattr)";
    case SBX__VSTEP_ATTACH: return "attaching a granted tree in the view (move_mount)";
    case SBX__VSTEP_SYMLINK: return "making a link of the view";
    case SBX__VSTEP_TMPFS: return "mounting a tmpfs";
    case SBX__VSTEP_DEVPTS: return "mounting a devpts instance (ptys)";
    case SBX__VSTEP_PROC: return "mounting a new /proc";
    case SBX__VSTEP_LANDLOCK:
        return "granting a new mount (tmpfs, devpts, /proc) in the Landlock ruleset";
    case SBX__VSTEP_PIVOT: return "making the view the root (pivot_root)";
    case SBX__VSTEP_ENTER:
        return "entering a copy of the view's prepared mount namespace (setns, unshare)";
    case SBX__VSTEP_READ_ONLY: return "making the view's root read-only";
    case SBX__VSTEP_DENY:
        return "covering a denied path (sbx_deny_path(): a read-only tmpfs, bind or /dev/null)";
    case SBX__VSTEP_OVERLAY:
        return "mounting an overlay (sbx_overlay(): overlayfs in a user namespace needs Linux "
               "5.11 and an upper directory whose file system takes user.* extended attributes; "
               "EBUSY: another child uses the upper directory)";
    default: return NULL;
    }
}
