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
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
