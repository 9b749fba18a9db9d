/* Carve-outs: paths denied beneath the grants (sbx_deny_path()).
 *
 * The policy side lives here (the setter, the storage, its copy and free), and
 * the compile step that runs after the namespaces have decided whether there
 * is a mount view:
 *   - with the view, view.c has covered each denied path with a mount (see
 *     there); only the rule "no grant beneath a denied path" is checked here;
 *   - without it, Landlock rules only widen, so a path beneath a grant can be
 *     taken out of it only by granting the grant's other entries instead of
 *     the grant itself. That is exact for a file hidden inside a grant that
 *     cannot write (its directories keep their listing right, which does not
 *     apply to a file); anything else a grant covers fails closed with
 *     -EOPNOTSUPP naming the path. See docs/carve-outs.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carve.h"
#include "layer.h"
#include "pathwalk.h"

int sbx_deny_path(sbx_policy *policy, const char *path, uint64_t access)
{
    sbx__check_arg(policy);
    sbx__check_arg(path);
    sbx__check(strlen(path) < PATH_MAX, "sbx_deny_path: the path is longer than PATH_MAX");
    sbx__check(path[0] == '/', "sbx_deny_path: '%s' is not an absolute path", path);
    sbx__check(strcmp(path, "/") != 0, "sbx_deny_path: '/' cannot be denied (grant less instead)");
    sbx__check(sbx__path_normalised(path),
               "sbx_deny_path: '%s' is not normalised (no empty, '.' or '..' component, no "
               "trailing '/')",
               path);
    sbx__check(access & (SBX_FS_READ | SBX_FS_WRITE),
               "sbx_deny_path(%s): access denies nothing (use SBX_FS_READ, SBX_FS_WRITE)", path);
    sbx__check((access & ~(SBX_FS_READ | SBX_FS_WRITE)) == 0,
               "sbx_deny_path(%s): access bits 0x%llx cannot be denied (only SBX_FS_READ, "
               "SBX_FS_WRITE)",
               path, (unsigned long long)(access & ~(SBX_FS_READ | SBX_FS_WRITE)));
    for (size_t i = 0; i < policy->n_denies; i++) {
        if (strcmp(policy->denies[i].path, path) == 0) {
            policy->denies[i].access |= access;
            sbx__policy_changed(policy);
            return 0;
        }
    }
    struct sbx__deny *grown =
        realloc(policy->denies, (policy->n_denies + 1) * sizeof(*policy->denies));
    if (!grown)
        return sbx__errno(-ENOMEM, "sbx_deny_path(%s)", path);
    policy->denies = grown;
    char *copy = strdup(path);
    if (!copy)
        return sbx__errno(-ENOMEM, "sbx_deny_path(%s)", path);
    policy->denies[policy->n_denies++] = (struct sbx__deny){copy, access};
    sbx__policy_changed(policy);
    return 0;
}

size_t sbx_policy_denied_count(const sbx_policy *policy)
{
    return policy ? policy->n_denies : 0;
}

int sbx_policy_denied(const sbx_policy *policy, size_t index, const char **ret_path,
                      uint64_t *ret_access)
{
    sbx__check_arg(policy);
    sbx__check_arg(ret_path);
    if (index >= policy->n_denies)
        return sbx__err(-ERANGE, "sbx_policy_denied: index %zu is out of range (%zu entries)",
                        index, policy->n_denies);
    *ret_path = policy->denies[index].path;
    if (ret_access)
        *ret_access = policy->denies[index].access;
    return 0;
}

/* The default protected list: what a program run later outside the sandbox
 * (a shell, git, an editor, an agent) reads as code or configuration. Why each
 * is there: docs/carve-outs.md. */
static const char *const protected_default[] = {
    ".bashrc",     ".bash_profile", ".bash_login", ".bash_logout", ".profile",  ".zshrc",
    ".zshenv",     ".zprofile",     ".zlogin",     ".zlogout",     ".envrc",    ".gitconfig",
    ".gitmodules", ".git/config",   ".git/hooks",  ".git/info",    ".mcp.json", ".vscode",
    ".idea",       ".claude",       ".codex",      ".cursor",      ".npmrc",    ".pypirc",
};
#define N_PROTECTED_DEFAULT (sizeof(protected_default) / sizeof(protected_default[0]))

const char *sbx_protected_default(size_t index)
{
    return index < N_PROTECTED_DEFAULT ? protected_default[index] : NULL;
}

static bool listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static bool is_default(const char *name)
{
    for (size_t i = 0; i < N_PROTECTED_DEFAULT; i++)
        if (strcmp(protected_default[i], name) == 0)
            return true;
    return false;
}

/* The effective list's entry `index`: the defaults not removed, then the
 * added names that are neither defaults nor removed. NULL past the end. */
static const char *effective_protected(const sbx_policy *policy, size_t index)
{
    for (size_t i = 0; i < N_PROTECTED_DEFAULT; i++)
        if (!listed(policy->protect_del, policy->n_protect_del, protected_default[i]) &&
            index-- == 0)
            return protected_default[i];
    for (size_t i = 0; i < policy->n_protect_add; i++) {
        const char *n = policy->protect_add[i];
        if (!is_default(n) && !listed(policy->protect_del, policy->n_protect_del, n) &&
            index-- == 0)
            return n;
    }
    return NULL;
}

static int push_name(char ***names, size_t *n, const char *name)
{
    if (listed(*names, *n, name))
        return 0;
    char **grown = realloc(*names, (*n + 1) * sizeof(**names));
    if (!grown)
        return -ENOMEM;
    *names = grown;
    if (!(grown[*n] = strdup(name)))
        return -ENOMEM;
    (*n)++;
    return 0;
}

static void drop_name(char **names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0) {
            free(names[i]);
            names[i] = names[--*n];
            return;
        }
}

int sbx_protect_path(sbx_policy *policy, const char *name)
{
    sbx__check_arg(policy);
    sbx__check_arg(name);
    sbx__check(name[0] && name[0] != '/',
               "sbx_protect_path: '%s' is not a relative name (it is made read-only inside every "
               "write grant)",
               name);
    char full[PATH_MAX];
    sbx__check(strlen(name) + 2 < sizeof(full), "sbx_protect_path: the name is too long");
    snprintf(full, sizeof(full), "/%s", name);
    sbx__check(sbx__path_normalised(full),
               "sbx_protect_path: '%s' is not normalised (no empty, '.' or '..' component, no "
               "trailing '/')",
               name);
    drop_name(policy->protect_del, &policy->n_protect_del, name);
    /* A default name is listed too: protected by the policy itself, it fails
     * closed where the view is missing (deny_with_landlock). */
    if (!listed(policy->protect_add, policy->n_protect_add, name) &&
        push_name(&policy->protect_add, &policy->n_protect_add, name) < 0)
        return sbx__errno(-ENOMEM, "sbx_protect_path(%s)", name);
    sbx__policy_changed(policy);
    return 0;
}

int sbx_unprotect(sbx_policy *policy, const char *name)
{
    sbx__check_arg(policy);
    sbx__check_arg(name);
    bool known = false;
    for (size_t i = 0; !known && effective_protected(policy, i); i++)
        known = strcmp(effective_protected(policy, i), name) == 0;
    if (!known)
        return sbx__err(-ENOENT, "sbx_unprotect(%s): not in the policy's protected list", name);
    drop_name(policy->protect_add, &policy->n_protect_add, name);
    if (is_default(name) && push_name(&policy->protect_del, &policy->n_protect_del, name) < 0)
        return sbx__errno(-ENOMEM, "sbx_unprotect(%s)", name);
    sbx__policy_changed(policy);
    return 0;
}

int sbx_policy_protected(const sbx_policy *policy, size_t index, const char **ret_name)
{
    sbx__check_arg(policy);
    sbx__check_arg(ret_name);
    const char *name = effective_protected(policy, index);
    if (!name)
        return sbx__err(-ERANGE, "sbx_policy_protected: index %zu is past the end of the list",
                        index);
    *ret_name = name;
    return 0;
}

int sbx_bind(sbx_policy *policy, const char *src, const char *dest, uint64_t access)
{
    sbx__check_arg(policy);
    sbx__check_arg(src);
    sbx__check_arg(dest);
    sbx__check(src[0] == '/', "sbx_bind: '%s' is not an absolute path", src);
    sbx__check(strlen(src) < PATH_MAX && strlen(dest) < PATH_MAX,
               "sbx_bind: a path is longer than PATH_MAX");
    sbx__check(dest[0] == '/' && strcmp(dest, "/") != 0 && sbx__path_normalised(dest),
               "sbx_bind(%s, %s): the destination is not an absolute, normalised path other "
               "than '/'",
               src, dest);
    sbx__check(access & SBX__FS_GRANTS,
               "sbx_bind(%s, %s): access grants nothing (use SBX_FS_READ, _WRITE, _EXEC)", src,
               dest);
    sbx__check((access & ~SBX__FS_GRANTS) == 0, "sbx_bind(%s, %s): unknown access bits 0x%llx", src,
               dest, (unsigned long long)(access & ~SBX__FS_GRANTS));
    char why[PATH_MAX + 160];
    int fd = sbx__open_grant(src, NULL, NULL, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err(-ELOOP, "sbx_bind(%s, %s): %s", src, dest, why);
    if (fd < 0)
        return sbx__errno(fd, "sbx_bind(%s, %s)", src, dest);
    close(fd);
    for (size_t i = 0; i < policy->n_binds; i++)
        if (strcmp(policy->binds[i].dest, dest) == 0)
            return sbx__err(-EINVAL, "sbx_bind(%s, %s): %s is bound already (from %s)", src, dest,
                            dest, policy->binds[i].src);
    struct sbx__bind *grown = realloc(policy->binds, (policy->n_binds + 1) * sizeof(*grown));
    if (!grown)
        return sbx__errno(-ENOMEM, "sbx_bind(%s, %s)", src, dest);
    policy->binds = grown;
    char *s = strdup(src), *d = strdup(dest);
    if (!s || !d) {
        free(s);
        free(d);
        return sbx__errno(-ENOMEM, "sbx_bind(%s, %s)", src, dest);
    }
    policy->binds[policy->n_binds++] = (struct sbx__bind){s, d, access};
    sbx__policy_changed(policy);
    return 0;
}

int sbx_tmpfs(sbx_policy *policy, const char *path, uint64_t size)
{
    sbx__check_arg(policy);
    sbx__check_arg(path);
    sbx__check(strlen(path) < PATH_MAX, "sbx_tmpfs: the path is longer than PATH_MAX");
    sbx__check(path[0] == '/' && strcmp(path, "/") != 0 && sbx__path_normalised(path),
               "sbx_tmpfs: '%s' is not an absolute, normalised path other than '/'", path);
    sbx__check(size == 0 || size >= 4096, "sbx_tmpfs(%s): size %llu is below 4096 bytes", path,
               (unsigned long long)size);
    for (size_t i = 0; i < policy->n_tmpfs; i++)
        if (strcmp(policy->tmpfs[i].path, path) == 0) {
            policy->tmpfs[i].size = size;
            sbx__policy_changed(policy);
            return 0;
        }
    struct sbx__tmpfs *grown = realloc(policy->tmpfs, (policy->n_tmpfs + 1) * sizeof(*grown));
    if (!grown)
        return sbx__errno(-ENOMEM, "sbx_tmpfs(%s)", path);
    policy->tmpfs = grown;
    char *copy = strdup(path);
    if (!copy)
        return sbx__errno(-ENOMEM, "sbx_tmpfs(%s)", path);
    policy->tmpfs[policy->n_tmpfs++] = (struct sbx__tmpfs){copy, size};
    sbx__policy_changed(policy);
    return 0;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int dup_names(char **from, size_t n, char ***to, size_t *to_n)
{
    for (size_t i = 0; i < n; i++)
        if (push_name(to, to_n, from[i]) < 0)
            return -ENOMEM;
    return 0;
}

static void policy_free(sbx_policy *policy)
{
    for (size_t i = 0; i < policy->n_binds; i++) {
        free(policy->binds[i].src);
        free(policy->binds[i].dest);
    }
    free(policy->binds);
    for (size_t i = 0; i < policy->n_tmpfs; i++)
        free(policy->tmpfs[i].path);
    free(policy->tmpfs);
    policy->binds = NULL;
    policy->tmpfs = NULL;
    policy->n_binds = policy->n_tmpfs = 0;
    free_names(policy->protect_add, policy->n_protect_add);
    free_names(policy->protect_del, policy->n_protect_del);
    policy->protect_add = policy->protect_del = NULL;
    policy->n_protect_add = policy->n_protect_del = 0;
    for (size_t i = 0; i < policy->n_denies; i++)
        free(policy->denies[i].path);
    free(policy->denies);
    policy->denies = NULL;
    policy->n_denies = 0;
}

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    if (dup_names(from->protect_add, from->n_protect_add, &to->protect_add, &to->n_protect_add) <
            0 ||
        dup_names(from->protect_del, from->n_protect_del, &to->protect_del, &to->n_protect_del) < 0)
        return -ENOMEM;
    if (from->n_binds && !(to->binds = calloc(from->n_binds, sizeof(*to->binds))))
        return -ENOMEM;
    for (size_t i = 0; i < from->n_binds; i++) {
        to->binds[i].access = from->binds[i].access;
        to->binds[i].src = strdup(from->binds[i].src);
        to->binds[i].dest = strdup(from->binds[i].dest);
        to->n_binds++;
        if (!to->binds[i].src || !to->binds[i].dest)
            return -ENOMEM;
    }
    if (from->n_tmpfs && !(to->tmpfs = calloc(from->n_tmpfs, sizeof(*to->tmpfs))))
        return -ENOMEM;
    for (size_t i = 0; i < from->n_tmpfs; i++) {
        to->tmpfs[i].size = from->tmpfs[i].size;
        if (!(to->tmpfs[i].path = strdup(from->tmpfs[i].path)))
            return -ENOMEM;
        to->n_tmpfs++;
    }
    if (!from->n_denies)
        return 0;
    if (!(to->denies = calloc(from->n_denies, sizeof(*to->denies))))
        return -ENOMEM;
    for (size_t i = 0; i < from->n_denies; i++) {
        if (!(to->denies[i].path = strdup(from->denies[i].path)))
            return -ENOMEM;
        to->denies[i].access = from->denies[i].access;
        to->n_denies++;
    }
    return 0;
}

/* ---- compiling ------------------------------------------------------------------ */

static int add_rule(struct sbx__landlock_plan *ll, int fd, uint64_t access, const char *deny)
{
    if (ll->n_rules == SBX__MAX_LL_RULES) {
        close(fd);
        return sbx__err_stage(SBX_STAGE_COMPILE, -E2BIG,
                              "sbx_deny_path(%s): granting the entries around it takes more than "
                              "%d Landlock rules",
                              deny, SBX__MAX_LL_RULES);
    }
    ll->rules[ll->n_rules].fd = fd;
    ll->rules[ll->n_rules].access = access;
    ll->n_rules++;
    return 0;
}

/* Grant `rights` on every entry of the directory `dir` (real path) but `keep_out`
 * (a name) and the links, each narrowed to file rights when not a directory;
 * never an entry that is the denied file itself under another name. */
static int grant_siblings(struct sbx__landlock_plan *ll, const struct sbx__fs_rights *fs,
                          const char *dir, const char *keep_out, uint64_t rights,
                          const struct sbx__carve_entry *at, const char *deny)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, -errno,
                              "sbx_deny_path(%s): listing %s to grant what is around it", deny,
                              dir);
    DIR *d = fdopendir(dfd);
    if (!d) {
        int err = -errno;
        close(dfd);
        return sbx__err_stage(SBX_STAGE_COMPILE, err, "sbx_deny_path(%s): listing %s", deny, dir);
    }
    int r = 0;
    struct dirent *e;
    while (r == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, keep_out) == 0)
            continue;
        int fd = openat(dirfd(d), e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            continue; /* gone since listed */
        if (fstat(fd, &st) != 0 || S_ISLNK(st.st_mode) ||
            (at->exists && (uint64_t)st.st_dev == at->dev && (uint64_t)st.st_ino == at->ino)) {
            close(fd); /* a link needs no rule (its target has its own); a hard link of the
                          denied file is the denied file */
            continue;
        }
        uint64_t mine = rights;
        if (!S_ISDIR(st.st_mode))
            mine &= (fs->read & ~fs->list) | fs->exec;
        r = add_rule(ll, fd, mine, deny);
    }
    closedir(d);
    return r;
}

/* Without the mount view: express one denied path with Landlock rules, or fail. */
static int deny_with_landlock(const sbx_policy *policy, struct sbx__plan *plan,
                              const struct sbx__carve_entry *at)
{
    struct sbx__landlock_plan *ll = plan->landlock;
    const struct sbx__fs_rights *fs = &plan->fs;
    size_t n = ll->n_rules; /* the rules added here need no second look */
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        uint64_t rights = ll->rules[i].access;
        if (!rights || !sbx__fd_path(ll->rules[i].fd, path, sizeof(path)) ||
            !sbx__path_under(at->real, path))
            continue;
        bool hide = at->access & SBX_FS_READ;
        bool self = strcmp(path, at->real) == 0;
        /* What a rule above gives the denied path: listing applies to it only
         * when it is (or may become) a directory. */
        uint64_t opens = hide ? rights : rights & fs->write;
        if (!self && at->exists && !at->is_dir)
            opens &= ~fs->list;
        if (!opens)
            continue; /* this grant gives nothing the deny takes away (or did, split already) */
        if (self) {   /* a rule on the denied path itself */
            ll->rules[i].access &= hide ? 0 : ~fs->write;
            continue;
        }
        if ((rights & fs->write) && at->origin == SBX__CARVE_PROTECTED) {
            /* The default list is the view's: without it (a container, or
             * isolation minimal) it is not enforced, and the result says there
             * was no view (namespaces, isolation_fallback). A name the policy
             * protected itself fails closed. (docs/carve-outs.md) */
            if (!at->exists || (is_default(at->name) &&
                                !listed(policy->protect_add, policy->n_protect_add, at->name)))
                continue;
            return sbx__err_stage(
                SBX_STAGE_COMPILE, -EOPNOTSUPP,
                "%s is protected (the default protected list, '%s') but without the mount "
                "namespace's view Landlock cannot make it read-only inside the write grant %s "
                "(isolation %s%s%s); run with namespaces, or lift it with sbx_unprotect(\"%s\") "
                "(--unprotect %s)",
                at->path, at->name, path, sbx_isolation_name(policy->isolation),
                plan->isolation_fallback[0] ? ": " : "", plan->isolation_fallback, at->name,
                at->name);
        }
        if (rights & fs->write)
            return sbx__err_stage(
                SBX_STAGE_COMPILE, -EOPNOTSUPP,
                "sbx_deny_path(%s): without the mount namespace's view Landlock cannot deny a "
                "path beneath the write grant %s (isolation %s%s%s); run with namespaces, or "
                "grant less",
                at->path, path, sbx_isolation_name(policy->isolation),
                plan->isolation_fallback[0] ? ": " : "", plan->isolation_fallback);
        if (at->exists && at->is_dir && (rights & fs->list))
            return sbx__err_stage(
                SBX_STAGE_COMPILE, -EOPNOTSUPP,
                "sbx_deny_path(%s): without the mount namespace's view Landlock cannot hide a "
                "directory beneath the grant %s (the names inside it would stay listable); run "
                "with namespaces, or grant its siblings instead",
                at->path, path);
        /* Hide a file in a grant that cannot write: grant the grant's other
         * entries, level by level down to the file's directory; the
         * directories on the way keep only their listing right. */
        ll->rules[i].access &= fs->list;
        size_t len = strlen(path);
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", path);
        const char *rest = at->real + (len == 1 ? 0 : len); /* "/a/b/file" below the grant */
        int r = 0;
        while (r == 0 && *rest == '/') {
            const char *next = strchr(rest + 1, '/');
            char name[NAME_MAX + 1];
            size_t nl = next ? (size_t)(next - rest - 1) : strlen(rest + 1);
            if (nl > NAME_MAX)
                return sbx__err_stage(SBX_STAGE_COMPILE, -ENAMETOOLONG, "sbx_deny_path(%s)",
                                      at->path);
            memcpy(name, rest + 1, nl);
            name[nl] = '\0';
            struct stat st;
            if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
                break; /* the rest is missing: nothing further to grant */
            r = grant_siblings(ll, fs, dir, name, rights, at, at->path);
            size_t dl = strlen(dir);
            if (dl == 1)
                snprintf(dir, sizeof(dir), "/%s", name);
            else
                snprintf(dir + dl, sizeof(dir) - dl, "/%s", name);
            rest = next ? next : rest + 1 + nl;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* The files the default view shows that hold secrets: hidden unless a grant
 * names them (or a directory beneath /etc that holds them). Only those this
 * process can read: the others the child cannot read either (it has no
 * capability to override their mode). */
static const char *const system_hidden[] = {
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/ssh/ssh_host_*_key",
    "/etc/sudoers",
    "/etc/ssl/private/*",
    "/etc/security/opasswd",
};

static void carve_plan_free(struct sbx__carve_plan *cp)
{
    if (!cp)
        return;
    for (size_t i = 0; i < cp->n; i++) {
        free(cp->v[i].path);
        free(cp->v[i].real);
    }
    free(cp->v);
    free(cp);
}

/* Resolve a denied path (absolute, normalised) like a grant (pathwalk.c: no
 * link a child could have planted), its missing tail appended as it is. */
static int resolve(struct sbx__carve_entry *e, const struct sbx__write_dirs *writable)
{
    char head[PATH_MAX], real[PATH_MAX], why[PATH_MAX + 160];
    snprintf(head, sizeof(head), "%s", e->path);
    size_t tail = strlen(e->path); /* where the missing tail starts */
    for (;;) {
        int fd = sbx__open_grant(head, writable, real, why, sizeof(why));
        if (fd >= 0) {
            struct stat st;
            int err = fstat(fd, &st) != 0 ? -errno : 0;
            close(fd);
            if (err < 0)
                return sbx__err_stage(SBX_STAGE_COMPILE, err, "sbx_deny_path(%s): fstat", e->path);
            e->exists = e->path[tail] == '\0';
            e->is_dir = e->exists ? S_ISDIR(st.st_mode) : true;
            e->dev = st.st_dev;
            e->ino = st.st_ino;
            if (!e->exists && !S_ISDIR(st.st_mode))
                return sbx__err_stage(SBX_STAGE_COMPILE, -ENOTDIR,
                                      "sbx_deny_path(%s): %s is not a directory", e->path, head);
            char full[PATH_MAX];
            int n = snprintf(full, sizeof(full), "%s%s",
                             strcmp(real, "/") == 0 && e->path[tail] ? "" : real, e->path + tail);
            if (n < 0 || (size_t)n >= sizeof(full))
                return sbx__err_stage(SBX_STAGE_COMPILE, -ENAMETOOLONG, "sbx_deny_path(%s)",
                                      e->path);
            if (!(e->real = strdup(full)))
                return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "sbx_deny_path(%s)", e->path);
            return 0;
        }
        if (fd == -ELOOP && why[0])
            return sbx__err_stage(SBX_STAGE_COMPILE, fd, "sbx_deny_path(%s): %s", e->path, why);
        if (fd != -ENOENT)
            return sbx__err_stage(SBX_STAGE_COMPILE, fd, "sbx_deny_path(%s): resolving it",
                                  e->path);
        char *slash = strrchr(head, '/');
        if (!slash)
            return sbx__err_stage(SBX_STAGE_COMPILE, -ENOENT, "sbx_deny_path(%s)", e->path);
        tail = (size_t)(slash - head);
        if (slash == head)
            head[1] = '\0'; /* the parent is "/" */
        else
            *slash = '\0';
    }
}

static int push_entry(struct sbx__carve_plan *cp, size_t *cap, const char *path, uint64_t access,
                      uint8_t origin)
{
    for (size_t i = 0; i < cp->n; i++)
        if (strcmp(cp->v[i].path, path) == 0) {
            cp->v[i].access |= access;
            return 0;
        }
    if (cp->n == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        struct sbx__carve_entry *grown = realloc(cp->v, n * sizeof(*grown));
        if (!grown)
            return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "carve-outs");
        cp->v = grown;
        *cap = n;
    }
    char *copy = strdup(path);
    if (!copy)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "carve-outs");
    cp->v[cp->n++] = (struct sbx__carve_entry){.path = copy, .access = access, .origin = origin};
    return 0;
}

/* Whether a grant of the policy shows a hidden system file: it names the
 * file, or a directory beneath /etc that holds it. */
static bool granted_by_name(const sbx_policy *policy, const char *path)
{
    for (size_t g = 0; g < policy->n_grants; g++) {
        const char *gp = policy->grants[g].path;
        if (strcmp(gp, path) == 0 ||
            (sbx__path_under(path, gp) && sbx__path_under(gp, "/etc") && strcmp(gp, "/etc")))
            return true;
    }
    return false;
}

static int add_system(const sbx_policy *policy, struct sbx__carve_plan *cp, size_t *cap)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof(system_hidden) / sizeof(system_hidden[0]); i++) {
        glob_t gl;
        if (glob(system_hidden[i], GLOB_NOSORT, NULL, &gl) != 0)
            continue; /* none here */
        for (size_t k = 0; r == 0 && k < gl.gl_pathc; k++) {
            const char *path = gl.gl_pathv[k];
            struct stat st;
            if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode) ||
                faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) != 0 || granted_by_name(policy, path))
                continue;
            r = push_entry(cp, cap, path, SBX_FS_READ, SBX__CARVE_SYSTEM);
        }
        globfree(&gl);
    }
    return r;
}

/* Whether an explicit grant lies at or beneath `path`: it lifts a protection. */
static bool granted_at_or_beneath(const sbx_policy *policy, const char *path)
{
    for (size_t g = 0; g < policy->n_grants; g++)
        if (sbx__path_under(policy->grants[g].path, path))
            return true;
    return false;
}

/* The protected names inside one write grant (a directory): those that exist,
 * and the missing ones whose parent exists below the grant. */
static int protect_in(const sbx_policy *policy, const char *dir, struct sbx__carve_plan *cp,
                      size_t *cap)
{
    int r = 0;
    for (size_t i = 0; r == 0 && effective_protected(policy, i); i++) {
        const char *name = effective_protected(policy, i);
        char path[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
                             name) >= sizeof(path))
            continue;
        if (lstat(path, &st) != 0) {
            const char *slash = strrchr(name, '/');
            char parent[PATH_MAX];
            if (!slash)
                continue; /* at the grant's top: not made (docs/carve-outs.md) */
            snprintf(parent, sizeof(parent), "%.*s", (int)(strlen(path) - strlen(slash)), path);
            if (lstat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
        }
        if (granted_at_or_beneath(policy, path))
            continue; /* an explicit grant lifts it */
        size_t before = cp->n;
        r = push_entry(cp, cap, path, SBX_FS_WRITE, SBX__CARVE_PROTECTED);
        if (r == 0 && cp->n > before)
            cp->v[cp->n - 1].name = name;
    }
    return r;
}

static int add_protected(const sbx_policy *policy, struct sbx__carve_plan *cp, size_t *cap)
{
    int r = 0;
    for (size_t g = 0; r == 0 && g < policy->n_grants; g++) {
        struct stat st;
        if ((policy->grants[g].access & SBX__FS_WRITES) && stat(policy->grants[g].path, &st) == 0 &&
            S_ISDIR(st.st_mode))
            r = protect_in(policy, policy->grants[g].path, cp, cap);
    }
    for (size_t i = 0; r == 0 && i < policy->n_binds; i++) {
        struct stat st;
        if ((policy->binds[i].access & SBX__FS_WRITES) && stat(policy->binds[i].src, &st) == 0 &&
            S_ISDIR(st.st_mode))
            r = protect_in(policy, policy->binds[i].src, cp, cap);
    }
    if (r == 0 && policy->workdir)
        r = protect_in(policy, policy->workdir, cp, cap);
    /* an overlay is writable to the child, as a write grant (overlay.c) */
    for (size_t i = 0; r == 0 && i < policy->n_overlays; i++)
        r = protect_in(policy, policy->overlays[i].lower, cp, cap);
    return r;
}

/* Before Landlock and the namespaces: the effective list of denied paths,
 * resolved, for the view (view.c) and the Landlock fallback below. */
static int compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    struct sbx__carve_plan *cp = calloc(1, sizeof(*cp));
    if (!cp)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "carve-outs");
    size_t cap = 0;
    int r = 0;
    for (size_t d = 0; r == 0 && d < policy->n_denies; d++)
        r = push_entry(cp, &cap, policy->denies[d].path, policy->denies[d].access,
                       SBX__CARVE_EXPLICIT);
    if (r == 0)
        r = add_system(policy, cp, &cap);
    if (r == 0)
        r = add_protected(policy, cp, &cap);
    const char *wpaths[policy->n_grants + 1];
    struct sbx__write_dirs writable = {wpaths, 0};
    for (size_t i = 0; i < policy->n_grants; i++)
        if (policy->grants[i].access & SBX__FS_WRITES)
            wpaths[writable.n++] = policy->grants[i].path;
    if (policy->workdir)
        wpaths[writable.n++] = policy->workdir;
    for (size_t d = 0; r == 0 && d < cp->n; d++) {
        struct sbx__carve_entry *e = &cp->v[d];
        if ((r = resolve(e, &writable)) < 0)
            break;
        /* A grant beneath a denied path would undo it: refused, whichever way. */
        for (size_t g = 0; r == 0 && g < policy->n_grants; g++) {
            char real[PATH_MAX];
            const char *gp = policy->grants[g].path;
            if (!realpath(gp, real))
                snprintf(real, sizeof(real), "%s", gp);
            if ((sbx__path_under(real, e->real) && strcmp(real, e->real) != 0) ||
                (sbx__path_under(gp, e->path) && strcmp(gp, e->path) != 0))
                r = sbx__err_stage(SBX_STAGE_COMPILE, -EINVAL,
                                   "sbx_allow_path(%s): lies beneath the denied path %s (a "
                                   "denied path stays denied; deny less)",
                                   gp, e->path);
        }
    }
    if (r < 0 || cp->n == 0) {
        carve_plan_free(cp);
        return r;
    }
    plan->carve = cp;
    return 0;
}

static void plan_free(struct sbx__plan *plan)
{
    carve_plan_free(plan->carve);
    plan->carve = NULL;
}

/* After the namespaces: without a mount view, Landlock's rules. */
static int compile_landlock(const sbx_policy *policy, struct sbx__plan *plan)
{
    if (policy->n_overlays && !(plan->ns && plan->ns->mount_view))
        return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                              "sbx_overlay(%s): an overlay needs the mount namespace's view, and "
                              "this policy runs without it (isolation %s%s%s); run with the full "
                              "sandbox (--isolation full, SBX_ISOLATION_FULL) on a host that "
                              "allows namespaces",
                              policy->overlays[0].lower, sbx_isolation_name(policy->isolation),
                              plan->isolation_fallback[0] ? ": " : "", plan->isolation_fallback);
    if ((policy->n_binds || policy->n_tmpfs) && !(plan->ns && plan->ns->mount_view)) {
        char what[PATH_MAX * 2 + 32];
        if (policy->n_binds)
            snprintf(what, sizeof(what), "sbx_bind(%s, %s)", policy->binds[0].src,
                     policy->binds[0].dest);
        else
            snprintf(what, sizeof(what), "sbx_tmpfs(%s)", policy->tmpfs[0].path);
        return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                              "%s: needs the mount namespace's view, and this policy runs "
                              "without it (isolation %s%s%s)",
                              what, sbx_isolation_name(policy->isolation),
                              plan->isolation_fallback[0] ? ": " : "", plan->isolation_fallback);
    }
    if (!plan->carve || (plan->ns && plan->ns->mount_view) || !plan->landlock)
        return 0; /* the view covers them (view.c); without Landlock nothing is confined */
    for (size_t d = 0; d < plan->carve->n; d++) {
        int r = deny_with_landlock(policy, plan, &plan->carve->v[d]);
        if (r < 0)
            return r;
    }
    return 0;
}

const struct sbx__layer sbx__layer_carve = {
    .name = "carve",
    .policy_free = policy_free,
    .policy_dup = policy_dup,
    .compile = compile,
    .plan_free = plan_free,
};

const struct sbx__layer sbx__layer_carve_landlock = {
    .name = "carve-landlock",
    .compile = compile_landlock,
};
