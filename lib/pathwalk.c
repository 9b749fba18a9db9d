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

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static bool trusted_link(int dirfd, const char *dir, const struct stat *link,
                         const struct sbx__write_dirs *writable)
{
    struct stat st;
    if (link->st_uid != 0 || fstat(dirfd, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022))
        return false;
    for (size_t i = 0; writable && i < writable->n; i++)
        if (under(dir, writable->paths[i]))
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

int sbx__open_grant(const char *path, const struct sbx__write_dirs *writable, char *real, char *why,
                    size_t why_size)
{
    char rest[PATH_MAX], cur[PATH_MAX] = "/";
    if (why_size)
        why[0] = '\0';
    if (path[0] != '/')
        return -EINVAL;
    if (strlen(path) >= sizeof(rest))
        return -ENAMETOOLONG;
    snprintf(rest, sizeof(rest), "%s", path);
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int links = 0, err = 0;
    size_t pos = 0;
    while (rest[pos]) {
        while (rest[pos] == '/')
            pos++;
        size_t len = strcspn(rest + pos, "/");
        if (len == 0)
            break;
        char name[NAME_MAX + 1];
        if (len > NAME_MAX) {
            err = -ENAMETOOLONG;
            break;
        }
        memcpy(name, rest + pos, len);
        name[len] = '\0';
        pos += len;
        if (strcmp(name, ".") == 0)
            continue;
        int next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (next < 0 || fstat(next, &st) != 0) {
            err = -errno;
            if (next >= 0)
                close(next);
            break;
        }
        if (strcmp(name, "..") == 0) {
            close(fd);
            fd = next;
            pop(cur);
            continue;
        }
        if (!S_ISLNK(st.st_mode)) {
            close(fd);
            fd = next;
            if ((err = push(cur, name, len)) < 0)
                break;
            continue;
        }
        /* A link: follow it only when it is trusted. */
        close(next);
        char target[PATH_MAX];
        ssize_t tl = readlinkat(fd, name, target, sizeof(target) - 1);
        if (tl < 0) {
            err = -errno;
            break;
        }
        target[tl] = '\0';
        if (!trusted_link(fd, cur, &st, writable)) {
            char link[PATH_MAX + NAME_MAX + 2];
            snprintf(link, sizeof(link), "%s%s%s", cur, strcmp(cur, "/") ? "/" : "", name);
            snprintf(why, why_size,
                     "'%s' is a symbolic link (to %s) that a sandboxed child could have made; "
                     "grant its target if that is what you mean",
                     link, target);
            err = -ELOOP;
            break;
        }
        if (++links > MAX_LINKS || strlen(target) + 1 + strlen(rest + pos) >= sizeof(rest)) {
            err = links > MAX_LINKS ? -ELOOP : -ENAMETOOLONG;
            break;
        }
        /* rest becomes target + what was left after the link. */
        char tail[PATH_MAX];
        size_t tlen = strlen(rest + pos);
        memcpy(tail, rest + pos, tlen + 1);
        memcpy(rest, target, (size_t)tl);
        memcpy(rest + tl, tail, tlen + 1); /* fits: checked above */
        pos = 0;
        if (target[0] == '/') {
            close(fd);
            if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
                err = -errno;
                break;
            }
            snprintf(cur, sizeof(cur), "/");
        }
    }
    if (err < 0) {
        if (fd >= 0)
            close(fd);
        return err;
    }
    if (real)
        snprintf(real, PATH_MAX, "%s", cur);
    return fd;
}
