/* Resolving the paths of grants without following symbolic links that a
 * sandboxed child could have planted.
 *
 * The attack: a child with a write grant on ws replaces ws/out by a link to
 * /secret; a later run (or the host) grants ws/out, and an ordinary open
 * would grant /secret. So a grant is opened one component at a time with
 * O_PATH | O_NOFOLLOW, and a link is followed only when no sandboxed child
 * could have made it: it and its directory belong to root, the directory is
 * writable by root only and is not one this policy lets its children write,
 * and, when the host is root (its children are uid 0 too, without
 * capabilities but owning what root owns), the directory is one of the
 * system's own. Everything else is refused with a message that names the
 * link. The system's links (/bin -> usr/bin, /var/run -> /run, the
 * alternatives of /etc/alternatives) keep working. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "pathwalk.h"

#define MAX_LINKS 40 /* as the kernel's own limit on nested links */

/* Directories whose links root itself made (package managers, the installer):
 * a root host follows links only there. */
static const char *const system_dirs[] = {
    "/",          "/usr",           "/usr/bin",       "/usr/sbin",    "/usr/lib",
    "/usr/lib32", "/usr/lib64",     "/usr/libx32",    "/usr/libexec", "/usr/share",
    "/usr/local", "/usr/local/bin", "/usr/local/lib", "/etc",         "/etc/alternatives",
    "/var",       "/opt",
};

static bool trusted_link(int dirfd, const char *dir, const struct stat *link,
                         const struct sbx__write_dirs *writable)
{
    struct stat st;
    if (link->st_uid != 0 || fstat(dirfd, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022))
        return false;
    for (size_t i = 0; writable && i < writable->n; i++)
        if (sbx__path_under(dir, writable->paths[i]))
            return false;
    if (geteuid() != 0)
        return true;
    for (size_t i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++)
        if (strcmp(dir, system_dirs[i]) == 0)
            return true;
    return false;
}

/* cur += "/" + name, or "/" + name at the root. */
static int push(char *cur, const char *name, size_t len)
{
    size_t n = strlen(cur);
    size_t sep = n > 1;
    if (n + sep + len >= PATH_MAX)
        return -ENAMETOOLONG;
    if (sep)
        cur[n++] = '/';
    memcpy(cur + n, name, len);
    cur[n + len] = '\0';
    return 0;
}

static void pop(char *cur)
{
    char *slash = strrchr(cur, '/');
    if (slash == cur)
        cur[1] = '\0';
    else if (slash)
        *slash = '\0';
}

/* A walk in progress: what is left to resolve, the directory reached (open
 * and its path), and the links followed so far. */
struct walk {
    char rest[PATH_MAX], cur[PATH_MAX];
    size_t pos;
    int fd, links;
};

/* The component `name` of w->cur is a link (st): follow it if a sandboxed
 * child could not have made it, else -ELOOP with why saying which. */
static int follow_link(struct walk *w, const char *name, const struct stat *st,
                       const struct sbx__write_dirs *writable, char *why, size_t why_size)
{
    char target[PATH_MAX];
    ssize_t tl = readlinkat(w->fd, name, target, sizeof(target) - 1);
    if (tl < 0)
        return -errno;
    target[tl] = '\0';
    if (!trusted_link(w->fd, w->cur, st, writable)) {
        char link[PATH_MAX + NAME_MAX + 2];
        snprintf(link, sizeof(link), "%s%s%s", w->cur, strcmp(w->cur, "/") ? "/" : "", name);
        snprintf(why, why_size,
                 "'%s' is a symbolic link (to %s) that a sandboxed child could have made; "
                 "grant its target if that is what you mean",
                 link, target);
        return -ELOOP;
    }
    if (++w->links > MAX_LINKS)
        return -ELOOP;
    if (strlen(target) + 1 + strlen(w->rest + w->pos) >= sizeof(w->rest))
        return -ENAMETOOLONG;
    /* rest becomes target + what was left after the link. */
    char tail[PATH_MAX];
    size_t tlen = strlen(w->rest + w->pos);
    memcpy(tail, w->rest + w->pos, tlen + 1);
    memcpy(w->rest, target, (size_t)tl);
    memcpy(w->rest + tl, tail, tlen + 1); /* fits: checked above */
    w->pos = 0;
    if (target[0] == '/') {
        close(w->fd);
        if ((w->fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            return -errno;
        snprintf(w->cur, sizeof(w->cur), "/");
    }
    return 0;
}

/* The next component of the path: 1 when one was taken (w->fd moved on), 0
 * at the end, or -errno. */
static int step(struct walk *w, const struct sbx__write_dirs *writable, char *why, size_t why_size)
{
    while (w->rest[w->pos] == '/')
        w->pos++;
    size_t len = strcspn(w->rest + w->pos, "/");
    if (len == 0)
        return 0;
    if (len > NAME_MAX)
        return -ENAMETOOLONG;
    char name[NAME_MAX + 1];
    memcpy(name, w->rest + w->pos, len);
    name[len] = '\0';
    w->pos += len;
    if (strcmp(name, ".") == 0)
        return 1;
    int next = openat(w->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (next < 0 || fstat(next, &st) != 0) {
        int err = -errno;
        if (next >= 0)
            close(next);
        return err;
    }
    if (S_ISLNK(st.st_mode)) { /* followed only when it is trusted */
        close(next);
        int r = follow_link(w, name, &st, writable, why, why_size);
        return r < 0 ? r : 1;
    }
    close(w->fd);
    w->fd = next;
    if (strcmp(name, "..") == 0) {
        pop(w->cur);
        return 1;
    }
    int r = push(w->cur, name, len);
    return r < 0 ? r : 1;
}

int sbx__open_grant(const char *path, const struct sbx__write_dirs *writable, char *real, char *why,
                    size_t why_size)
{
    if (why_size)
        why[0] = '\0';
    if (path[0] != '/')
        return -EINVAL;
    struct walk w = {.cur = "/"};
    if (strlen(path) >= sizeof(w.rest))
        return -ENAMETOOLONG;
    snprintf(w.rest, sizeof(w.rest), "%s", path);
    if ((w.fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -errno;
    int r;
    while ((r = step(&w, writable, why, why_size)) > 0)
        ;
    if (r < 0) {
        if (w.fd >= 0)
            close(w.fd);
        return r;
    }
    if (real)
        snprintf(real, PATH_MAX, "%s", w.cur);
    return w.fd;
}

bool sbx__path_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

bool sbx__path_normalised(const char *path)
{
    if (path[0] != '/' || path[1] == '\0')
        return false;
    for (const char *p = path; *p;) {
        const char *c = p + 1, *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        p = c + n;
    }
    return true;
}

/* ---- resolving a path as a sandboxed child does (the monitor, diagnose mode) ---- */

void sbx__resolved_close(struct sbx__resolved *r)
{
    if (r->dir >= 0)
        close(r->dir);
    if (r->file >= 0)
        close(r->file);
    r->dir = r->file = -1;
}

static bool same_object(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Append "/comp" to a shown path, or take its last component off (".."). */
static void shown_step(char *shown, const char *comp)
{
    size_t len = strlen(shown);
    if (strcmp(comp, "..") == 0) {
        char *slash = strrchr(shown, '/');
        if (slash == shown)
            shown[1] = '\0';
        else if (slash)
            *slash = '\0';
        return;
    }
    if (len + 1 + strlen(comp) >= PATH_MAX)
        return; /* cut: only a label */
    snprintf(shown + len, PATH_MAX - len, "%s%s", len == 1 && shown[0] == '/' ? "" : "/", comp);
}

static bool on_procfs(int fd)
{
    struct statfs sfs;
    return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/* Resolve path from dir (shown as dir_shown) or root. follow_last: follow a
 * link in the last component. 0 with *out filled (out->file -1: the last
 * component does not exist), or -1: the path cannot be resolved (a missing
 * directory, a loop, a procfs link). */
int sbx__resolve_as_child(int root, int dir, const char *dir_shown, const char *path,
                          bool follow_last, struct sbx__resolved *out)
{
    char todo[PATH_MAX], next[PATH_MAX];
    out->dir = out->file = -1;
    if (!*path || snprintf(todo, sizeof(todo), "%s", path) >= (int)sizeof(todo))
        return -1;
    bool abs = todo[0] == '/';
    int cur = fcntl(abs ? root : dir, F_DUPFD_CLOEXEC, 3);
    snprintf(out->shown, sizeof(out->shown), "%s", abs ? "/" : dir_shown);
    int links = 0;
    const char *p = todo;
    while (cur >= 0) {
        while (*p == '/')
            p++;
        if (!*p) { /* the path ends in a directory (or is "/") */
            snprintf(out->dir_shown, sizeof(out->dir_shown), "%s", out->shown);
            out->file = cur;
            out->dir = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
            return out->dir >= 0 ? 0 : (sbx__resolved_close(out), -1);
        }
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char comp[NAME_MAX + 1];
        if (len > NAME_MAX)
            break;
        memcpy(comp, p, len);
        comp[len] = '\0';
        p += len;
        bool last = !*p;
        /* "a/b/" names a directory: its link is followed. */
        bool follow = !last || follow_last || end != NULL;
        if (strcmp(comp, ".") == 0)
            continue;
        struct stat st, rst;
        int fd;
        if (strcmp(comp, "..") == 0) {
            if (fstat(cur, &st) == 0 && fstat(root, &rst) == 0 && same_object(&st, &rst))
                continue; /* not above the child's root */
            fd = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
            fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
            if (errno == ENOENT && last && !strchr(comp, '/')) {
                /* The last component is missing: its directory is cur. */
                snprintf(out->dir_shown, sizeof(out->dir_shown), "%s", out->shown);
                shown_step(out->shown, comp);
                out->dir = cur;
                return 0;
            }
            break;
        }
        if (fstat(fd, &st) != 0) {
            close(fd);
            break;
        }
        if (S_ISLNK(st.st_mode) && follow) {
            char target[PATH_MAX];
            /* procfs links (self, fd/N) name what the reader sees. */
            ssize_t n = on_procfs(fd) ? -1 : readlinkat(fd, "", target, sizeof(target) - 1);
            close(fd);
            if (n <= 0 || ++links > MAX_LINKS)
                break;
            target[n] = '\0';
            if (snprintf(next, sizeof(next), "%s%s", target, p) >= (int)sizeof(next))
                break;
            memcpy(todo, next, sizeof(todo));
            p = todo;
            if (todo[0] == '/') {
                close(cur);
                cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
                snprintf(out->shown, sizeof(out->shown), "/");
            }
            continue;
        }
        if (last) {
            snprintf(out->dir_shown, sizeof(out->dir_shown), "%s", out->shown);
            shown_step(out->shown, comp);
            out->dir = cur;
            out->file = fd;
            return 0;
        }
        shown_step(out->shown, comp);
        close(cur);
        cur = fd;
        if (!S_ISDIR(st.st_mode))
            break; /* ENOTDIR: not the sandbox's doing */
    }
    if (cur >= 0)
        close(cur);
    return -1;
}

bool sbx__walk_up(int dir, bool (*visit)(const struct stat *st, void *arg), void *arg)
{
    int cur = fcntl(dir, F_DUPFD_CLOEXEC, 3);
    bool done = false;
    for (int depth = 0; cur >= 0 && depth < 4096; depth++) {
        struct stat st, ust;
        if (fstat(cur, &st) != 0 || (done = visit(&st, arg)))
            break;
        int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        bool top =
            up < 0 || fstat(up, &ust) != 0 || (ust.st_dev == st.st_dev && ust.st_ino == st.st_ino);
        close(cur);
        cur = top ? -1 : up;
        if (top && up >= 0)
            close(up);
    }
    if (cur >= 0)
        close(cur);
    return done;
}
