/* Diagnose mode (sbx_set_diagnose()): the monitor is told of the child's
 * path-taking calls and of connect and bind, and decides here, as Landlock
 * will, from the rules of the child's ruleset (by inode, as Landlock matches
 * them), whether the call is refused. It never answers anything but CONTINUE
 * (monitor.c): Landlock stays the enforcer, this only names what it stops.
 *
 * What is decided, for an access Landlock handles:
 *   open/openat/openat2/creat  an existing file: READ_FILE (READ_DIR for a
 *                              directory) and WRITE_FILE by the access mode,
 *                              TRUNCATE with O_TRUNC; a new one (O_CREAT):
 *                              MAKE_REG and those on its directory. O_PATH
 *                              opens are not checked by Landlock.
 *   mkdir*, symlink*           MAKE_DIR, MAKE_SYM on the new entry's directory
 *   unlink*, rmdir             REMOVE_FILE or REMOVE_DIR on the directory
 *   rename*, link*             REMOVE_* and MAKE_* of the file's type on the
 *                              two directories, REFER when they differ
 *   truncate                   TRUNCATE on the file
 *   connect, bind              a TCP socket's port (CONNECT_TCP, BIND_TCP)
 * Paths are resolved as the child would: from its root (/proc/PID/root) or
 * its directory (/proc/PID/cwd, or the dirfd), following the links the call
 * follows. Nothing is reported when the call fails for a reason of its own
 * (no such file, EEXIST) or when the path cannot be resolved from here (a
 * procfs link such as /proc/self: it names the reader). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pathwalk.h"
#include "seccomp_layer.h"

/* Newer than the kernel headers of some distributions (Debian 12: 6.1). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ull << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ull << 14)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP    (1ull << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ull << 1)
#endif

enum op {
    OP_OPEN,      /* a0 path, a1 flags */
    OP_OPENAT,    /* a0 dirfd, a1 path, a2 flags */
    OP_OPENAT2,   /* a0 dirfd, a1 path, a2 struct open_how * */
    OP_CREAT,     /* a0 path */
    OP_MKDIR,     /* a0 path */
    OP_MKDIRAT,   /* a0 dirfd, a1 path */
    OP_UNLINK,    /* a0 path */
    OP_RMDIR,     /* a0 path */
    OP_UNLINKAT,  /* a0 dirfd, a1 path, a2 flags (AT_REMOVEDIR) */
    OP_RENAME,    /* a0 old, a1 new */
    OP_RENAMEAT,  /* a0 olddirfd, a1 old, a2 newdirfd, a3 new (renameat2: a4 flags) */
    OP_LINK,      /* a0 old, a1 new */
    OP_LINKAT,    /* a0 olddirfd, a1 old, a2 newdirfd, a3 new, a4 flags */
    OP_SYMLINK,   /* a0 target, a1 new */
    OP_SYMLINKAT, /* a0 target, a1 newdirfd, a2 new */
    OP_TRUNCATE,  /* a0 path */
    OP_CONNECT,   /* a0 fd, a1 addr, a2 len */
    OP_BIND,      /* a0 fd, a1 addr, a2 len */
};

static const struct {
    const char *name;
    enum op op;
} calls[] = {
    {"open", OP_OPEN},           {"openat", OP_OPENAT},     {"openat2", OP_OPENAT2},
    {"creat", OP_CREAT},         {"mkdir", OP_MKDIR},       {"mkdirat", OP_MKDIRAT},
    {"unlink", OP_UNLINK},       {"rmdir", OP_RMDIR},       {"unlinkat", OP_UNLINKAT},
    {"rename", OP_RENAME},       {"renameat", OP_RENAMEAT}, {"renameat2", OP_RENAMEAT},
    {"link", OP_LINK},           {"linkat", OP_LINKAT},     {"symlink", OP_SYMLINK},
    {"symlinkat", OP_SYMLINKAT}, {"truncate", OP_TRUNCATE}, {"connect", OP_CONNECT},
    {"bind", OP_BIND},
};
_Static_assert(sizeof(calls) / sizeof(calls[0]) <= SBX__DIAG_CALLS, "SBX__DIAG_CALLS");

void sbx__diagnose_calls(struct sbx__seccomp_plan *sp, bool (*allowed)(int nr, void *), void *arg)
{
    sp->n_diag = 0;
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        int nr = sbx__syscall_resolve(calls[i].name);
        if (nr >= 0 && allowed(nr, arg))
            sp->diag_nrs[sp->n_diag++] = nr;
    }
}

bool sbx__diagnose_watches(const struct sbx__seccomp_plan *sp, int nr)
{
    for (size_t i = 0; i < sp->n_diag; i++)
        if (sp->diag_nrs[i] == nr)
            return true;
    return false;
}

static int op_of(int nr, const char **name)
{
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        if (sbx__syscall_resolve(calls[i].name) == nr) {
            *name = calls[i].name;
            return (int)calls[i].op;
        }
    return -1;
}

/* ---- rights ------------------------------------------------------------------- */

static bool same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static uint64_t rules_at(const struct sbx__rule_lists *rules, const struct stat *st)
{
    uint64_t r = 0;
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < rules->n[l]; i++)
            if (rules->list[l][i].dev == st->st_dev && rules->list[l][i].ino == st->st_ino)
                r |= rules->list[l][i].access;
    return r;
}

/* The rights of need that the rules give at file (or -1) and dir, and every
 * directory above dir up to the root of the child's mount tree, added up as
 * Landlock does ("..", which crosses mount points as its walk does). */
struct granted_walk {
    const struct sbx__rule_lists *rules;
    uint64_t have, need;
};

static bool add_rules(const struct stat *st, void *arg)
{
    struct granted_walk *w = arg;
    w->have |= rules_at(w->rules, st);
    return (w->have & w->need) == w->need;
}

static uint64_t granted(const struct sbx__rule_lists *rules, int dir, int file, uint64_t need)
{
    struct granted_walk w = {rules, 0, need};
    struct stat st;
    if (file >= 0 && fstat(file, &st) == 0)
        w.have |= rules_at(rules, &st);
    if ((w.have & need) != need)
        sbx__walk_up(dir, add_rules, &w);
    return w.have & need;
}

/* ---- resolving a path as the child does ---------------------------------------- */

/* ---- the decision ------------------------------------------------------------------ */

/* The sbx_allow_path() rights that give these Landlock ones. */
static uint64_t sbx_rights(uint64_t ll)
{
    uint64_t r = 0;
    if (ll & (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR))
        r |= SBX_FS_READ;
    if (ll & LANDLOCK_ACCESS_FS_EXECUTE)
        r |= SBX_FS_EXEC;
    if (ll & LANDLOCK_ACCESS_FS_WRITE_FILE)
        r |= SBX_FS_WRITE_FILE;
    if (ll & LANDLOCK_ACCESS_FS_TRUNCATE)
        r |= SBX_FS_TRUNCATE;
    if (ll & (LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR))
        r |= SBX_FS_CREATE;
    if (ll & (LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR))
        r |= SBX_FS_REMOVE;
    if (ll & LANDLOCK_ACCESS_FS_MAKE_SYM)
        r |= SBX_FS_MAKE_SYMLINK;
    if (ll & (LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
              LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SOCK))
        r |= SBX_FS_MAKE_SPECIAL;
    if (ll & LANDLOCK_ACCESS_FS_REFER)
        r |= SBX_FS_REFER;
    return r;
}

/* The child's view of a call: its root, and where relative paths start. */
struct view {
    const struct sbx__seccomp_plan *sp;
    const struct sbx__rule_lists *rules;
    pid_t pid;
    int root;
    struct sbx__learned *learn; /* learn mode: what the child does goes here too */
};

static void note(const struct view *v, const char *path, uint32_t what)
{
    if (v->learn)
        sbx__learn_note(v->learn, path, what);
}

/* The directory a dirfd (or AT_FDCWD) names in the child, opened (O_PATH),
 * and its path as the child sees it in shown[PATH_MAX]. */
static int child_dir(const struct view *v, int dirfd, char *shown)
{
    char link[64];
    if (dirfd == AT_FDCWD)
        snprintf(link, sizeof(link), "/proc/%d/cwd", (int)v->pid);
    else
        snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)v->pid, dirfd);
    ssize_t n = readlink(link, shown, PATH_MAX - 1);
    shown[n > 0 ? n : 0] = '\0';
    if (shown[0] != '/')
        snprintf(shown, PATH_MAX, ".");    /* not a path (a pipe...): a label */
    return open(link, O_PATH | O_CLOEXEC); /* follows the magic link: the child's object */
}

/* Resolve the path the child passed at `at`, from dirfd. */
static int resolve_arg(const struct view *v, int dirfd, uint64_t at, bool follow_last,
                       struct sbx__resolved *out)
{
    char path[PATH_MAX], dshown[PATH_MAX];
    if (sbx__child_string(v->pid, at, path, sizeof(path)) < 0)
        return -1;
    int dir = path[0] == '/' ? -1 : child_dir(v, dirfd, dshown);
    if (path[0] != '/' && dir < 0)
        return -1;
    int r = sbx__resolve_as_child(v->root, dir >= 0 ? dir : v->root, dir >= 0 ? dshown : "/", path,
                                  follow_last, out);
    if (dir >= 0)
        close(dir);
    return r;
}

/* Fill d with a file denial when `need` (Landlock rights, those the ruleset
 * handles) is not all granted at file (-1: none) in dir: 1, else 0. */
static int check(const struct view *v, int dir, int file, uint64_t need, const char *shown,
                 const char *dir_shown, struct sbx__access_denial *d)
{
    need &= v->sp->handled_fs;
    uint64_t missing = need & ~granted(v->rules, dir, file, need);
    if (!missing)
        return 0;
    d->kind = SBX_ACCESS_FILE;
    d->missing = sbx_rights(missing);
    d->port = -1;
    snprintf(d->path, sizeof(d->path), "%s", shown);
    snprintf(d->dir, sizeof(d->dir), "%s", dir_shown);
    if (strlen(shown) >= sizeof(d->path))
        memcpy(d->path + sizeof(d->path) - 4, "...", 4);
    if (strlen(dir_shown) >= sizeof(d->dir))
        memcpy(d->dir + sizeof(d->dir) - 4, "...", 4);
    return 1;
}

static uint64_t make_right(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return LANDLOCK_ACCESS_FS_MAKE_DIR;
    case S_IFLNK: return LANDLOCK_ACCESS_FS_MAKE_SYM;
    case S_IFIFO: return LANDLOCK_ACCESS_FS_MAKE_FIFO;
    case S_IFSOCK: return LANDLOCK_ACCESS_FS_MAKE_SOCK;
    case S_IFCHR: return LANDLOCK_ACCESS_FS_MAKE_CHAR;
    case S_IFBLK: return LANDLOCK_ACCESS_FS_MAKE_BLOCK;
    default: return LANDLOCK_ACCESS_FS_MAKE_REG;
    }
}

static int decide_open(const struct view *v, int dirfd, uint64_t at, uint64_t flags,
                       struct sbx__access_denial *d)
{
    if (flags & O_PATH)
        return 0;
    bool creat = flags & O_CREAT, excl = creat && (flags & O_EXCL);
    struct sbx__resolved r;
    if (resolve_arg(v, dirfd, at, !(flags & O_NOFOLLOW) && !excl, &r) != 0)
        return 0;
    int verdict = 0;
    uint64_t mode = 0;
    switch (flags & O_ACCMODE) {
    case O_RDONLY: mode = LANDLOCK_ACCESS_FS_READ_FILE; break;
    case O_WRONLY: mode = LANDLOCK_ACCESS_FS_WRITE_FILE; break;
    default: mode = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE; break;
    }
    struct stat st;
    if (r.file < 0) {
        /* A new file: made in its directory, and opened beneath it. */
        if (creat && !(flags & O_DIRECTORY))
            note(v, r.dir_shown, SBX__LEARN_WRITE_DIR);
        if (creat && !(flags & O_DIRECTORY))
            verdict =
                check(v, r.dir, -1, LANDLOCK_ACCESS_FS_MAKE_REG | mode, r.shown, r.dir_shown, d);
    } else if (!excl && fstat(r.file, &st) == 0 && !S_ISLNK(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            if ((flags & O_ACCMODE) == O_RDONLY)
                note(v, r.shown, SBX__LEARN_READ_DIR);
            if ((flags & O_ACCMODE) == O_RDONLY)
                verdict = check(v, r.file, -1, LANDLOCK_ACCESS_FS_READ_DIR, r.shown, r.shown, d);
        } else {
            if (flags & O_TRUNC)
                mode |= LANDLOCK_ACCESS_FS_TRUNCATE;
            note(v, r.shown,
                 (mode & LANDLOCK_ACCESS_FS_READ_FILE ? SBX__LEARN_READ_FILE : 0) |
                     (mode & (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
                          ? SBX__LEARN_WRITE_FILE
                          : 0));
            verdict = check(v, r.dir, r.file, mode, r.shown, r.dir_shown, d);
        }
    }
    sbx__resolved_close(&r);
    return verdict;
}

/* mkdir, symlink: a new entry of the given right in its directory. */
static int decide_make(const struct view *v, int dirfd, uint64_t at, uint64_t right,
                       struct sbx__access_denial *d)
{
    struct sbx__resolved r;
    if (resolve_arg(v, dirfd, at, false, &r) != 0)
        return 0;
    if (r.file < 0)
        note(v, r.dir_shown, SBX__LEARN_WRITE_DIR);
    int verdict = r.file < 0 ? check(v, r.dir, -1, right, r.shown, r.dir_shown, d) : 0;
    sbx__resolved_close(&r);
    return verdict;
}

/* unlink, rmdir: an entry removed from its directory. */
static int decide_remove(const struct view *v, int dirfd, uint64_t at, bool dir_wanted,
                         struct sbx__access_denial *d)
{
    struct sbx__resolved r;
    struct stat st;
    if (resolve_arg(v, dirfd, at, false, &r) != 0)
        return 0;
    int verdict = 0;
    if (r.file >= 0 && fstat(r.file, &st) == 0 && S_ISDIR(st.st_mode) == dir_wanted)
        note(v, r.dir_shown, SBX__LEARN_WRITE_DIR);
    if (r.file >= 0 && fstat(r.file, &st) == 0 && S_ISDIR(st.st_mode) == dir_wanted)
        verdict = check(v, r.dir, -1,
                        dir_wanted ? LANDLOCK_ACCESS_FS_REMOVE_DIR : LANDLOCK_ACCESS_FS_REMOVE_FILE,
                        r.shown, r.dir_shown, d);
    sbx__resolved_close(&r);
    return verdict;
}

/* rename (move: the entry leaves from's directory) or link (it stays). */
static int decide_move(const struct view *v, int olddirfd, uint64_t old, int newdirfd, uint64_t new,
                       bool move, bool follow_old, struct sbx__access_denial *d)
{
    struct sbx__resolved from, to;
    struct stat st, fst, tst;
    if (resolve_arg(v, olddirfd, old, follow_old, &from) != 0)
        return 0;
    if (from.file < 0 || fstat(from.file, &st) != 0 ||
        resolve_arg(v, newdirfd, new, false, &to) != 0) {
        sbx__resolved_close(&from);
        return 0;
    }
    uint64_t refer = 0;
    if (fstat(from.dir, &fst) == 0 && fstat(to.dir, &tst) == 0 && !same_inode(&fst, &tst))
        refer = LANDLOCK_ACCESS_FS_REFER;
    int verdict = 0;
    note(v, move ? from.dir_shown : from.shown, move ? SBX__LEARN_WRITE_DIR : SBX__LEARN_READ_FILE);
    note(v, to.dir_shown, SBX__LEARN_WRITE_DIR);
    if (move)
        verdict = check(
            v, from.dir, -1,
            (S_ISDIR(st.st_mode) ? LANDLOCK_ACCESS_FS_REMOVE_DIR : LANDLOCK_ACCESS_FS_REMOVE_FILE) |
                refer,
            from.shown, from.dir_shown, d);
    else if (refer)
        verdict = check(v, from.dir, -1, refer, from.shown, from.dir_shown, d);
    if (!verdict)
        verdict = check(v, to.dir, -1, make_right(st.st_mode) | refer, to.shown, to.dir_shown, d);
    sbx__resolved_close(&from);
    sbx__resolved_close(&to);
    return verdict;
}

static int decide_truncate(const struct view *v, uint64_t at, struct sbx__access_denial *d)
{
    struct sbx__resolved r;
    struct stat st;
    if (resolve_arg(v, AT_FDCWD, at, true, &r) != 0)
        return 0;
    int verdict = 0;
    if (r.file >= 0 && fstat(r.file, &st) == 0 && S_ISREG(st.st_mode))
        note(v, r.shown, SBX__LEARN_WRITE_FILE);
    if (r.file >= 0 && fstat(r.file, &st) == 0 && S_ISREG(st.st_mode))
        verdict = check(v, r.dir, r.file, LANDLOCK_ACCESS_FS_TRUNCATE, r.shown, r.dir_shown, d);
    sbx__resolved_close(&r);
    return verdict;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* connect, bind: Landlock checks TCP sockets' ports (IPv4 and IPv6). */
static int decide_net(const struct view *v, const struct seccomp_data *data, bool is_bind,
                      struct sbx__access_denial *d)
{
    uint64_t right = is_bind ? LANDLOCK_ACCESS_NET_BIND_TCP : LANDLOCK_ACCESS_NET_CONNECT_TCP;
    if (!(v->sp->handled_net & right) && !v->learn)
        return 0;
    struct sockaddr_in6 sa;
    size_t len = data->args[2] < sizeof(sa) ? (size_t)data->args[2] : sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    struct iovec local = {&sa, len};
    struct iovec remote = {(void *)(uintptr_t)data->args[1], len};
    if (len < sizeof(struct sockaddr_in) ||
        process_vm_readv(v->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
        return 0;
    if (sa.sin6_family != AF_INET && sa.sin6_family != AF_INET6)
        return 0; /* AF_UNSPEC (a disconnect), unix sockets: not checked */
    /* The socket must be TCP: Landlock checks no other. */
    int pidfd = (int)syscall(SYS_pidfd_open, v->pid, PIDFD_THREAD);
    if (pidfd < 0)
        pidfd = (int)syscall(SYS_pidfd_open, v->pid, 0);
    int sock = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, (int)data->args[0], 0) : -1;
    int domain = -1, proto = -1, type = -1;
    socklen_t ol = sizeof(int);
    if (sock >= 0) {
        (void)getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &ol);
        ol = sizeof(int);
        (void)getsockopt(sock, SOL_SOCKET, SO_PROTOCOL, &proto, &ol);
        ol = sizeof(int);
        (void)getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &ol);
        close(sock);
    }
    if (pidfd >= 0)
        close(pidfd);
    if ((domain != AF_INET && domain != AF_INET6) || type != SOCK_STREAM || proto != IPPROTO_TCP)
        return 0;
    uint16_t port = ntohs(sa.sin6_port);
    if (v->learn) {
        struct sbx__learned *l = v->learn;
        size_t k = is_bind, i = 0;
        while (i < l->n_ports[k] && l->ports[k][i] != port)
            i++;
        if (i == l->n_ports[k] && i < SBX__LEARN_PORTS)
            l->ports[k][l->n_ports[k]++] = port;
        else if (i == SBX__LEARN_PORTS)
            l->truncated = true;
    }
    if (!(v->sp->handled_net & right))
        return 0;
    for (size_t i = 0; i < v->sp->n_diag_ports; i++)
        if (v->sp->diag_ports[i].port == port && (v->sp->diag_ports[i].access & right))
            return 0;
    d->kind = is_bind ? SBX_ACCESS_BIND : SBX_ACCESS_CONNECT;
    d->missing = 0;
    d->port = port;
    d->path[0] = d->dir[0] = '\0';
    return 1;
}

int sbx__diagnose(const struct sbx__seccomp_plan *sp, const struct sbx__rule_lists *rules,
                  const struct seccomp_data *data, pid_t pid, struct sbx__access_denial *ret,
                  struct sbx__learned *learn)
{
    const char *name = NULL;
    int op = op_of(data->nr, &name);
    if (op < 0)
        return 0;
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->syscall, sizeof(ret->syscall), "%s", name);
    if (op == OP_CONNECT || op == OP_BIND) {
        struct view v = {sp, rules, pid, -1, learn};
        return decide_net(&v, data, op == OP_BIND, ret);
    }
    if (!sp->handled_fs && !learn)
        return 0;
    char link[64];
    snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
    struct view v = {sp, rules, pid, open(link, O_PATH | O_DIRECTORY | O_CLOEXEC), learn};
    if (v.root < 0)
        return 0;
    const __u64 *a = data->args;
    int verdict = 0;
    switch ((enum op)op) {
    case OP_OPEN: verdict = decide_open(&v, AT_FDCWD, a[0], a[1], ret); break;
    case OP_OPENAT: verdict = decide_open(&v, (int)a[0], a[1], a[2], ret); break;
    case OP_OPENAT2: {
        uint64_t flags = 0;
        struct iovec local = {&flags, sizeof(flags)};
        struct iovec remote = {(void *)(uintptr_t)a[2], sizeof(flags)};
        if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof(flags))
            verdict = decide_open(&v, (int)a[0], a[1], flags, ret);
        break;
    }
    case OP_CREAT:
        verdict = decide_open(&v, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, ret);
        break;
    case OP_MKDIR:
        verdict = decide_make(&v, AT_FDCWD, a[0], LANDLOCK_ACCESS_FS_MAKE_DIR, ret);
        break;
    case OP_MKDIRAT:
        verdict = decide_make(&v, (int)a[0], a[1], LANDLOCK_ACCESS_FS_MAKE_DIR, ret);
        break;
    case OP_SYMLINK:
        verdict = decide_make(&v, AT_FDCWD, a[1], LANDLOCK_ACCESS_FS_MAKE_SYM, ret);
        break;
    case OP_SYMLINKAT:
        verdict = decide_make(&v, (int)a[1], a[2], LANDLOCK_ACCESS_FS_MAKE_SYM, ret);
        break;
    case OP_UNLINK: verdict = decide_remove(&v, AT_FDCWD, a[0], false, ret); break;
    case OP_RMDIR: verdict = decide_remove(&v, AT_FDCWD, a[0], true, ret); break;
    case OP_UNLINKAT: verdict = decide_remove(&v, (int)a[0], a[1], a[2] & AT_REMOVEDIR, ret); break;
    case OP_RENAME:
        verdict = decide_move(&v, AT_FDCWD, a[0], AT_FDCWD, a[1], true, false, ret);
        break;
    case OP_RENAMEAT:
        verdict = decide_move(&v, (int)a[0], a[1], (int)a[2], a[3], true, false, ret);
        break;
    case OP_LINK:
        verdict = decide_move(&v, AT_FDCWD, a[0], AT_FDCWD, a[1], false, false, ret);
        break;
    case OP_LINKAT:
        verdict =
            decide_move(&v, (int)a[0], a[1], (int)a[2], a[3], false, a[4] & AT_SYMLINK_FOLLOW, ret);
        break;
    case OP_TRUNCATE: verdict = decide_truncate(&v, a[0], ret); break;
    case OP_CONNECT:
    case OP_BIND: break;
    }
    close(v.root);
    return verdict;
}

void sbx__diagnose_record(struct sbx__violations *v, const struct sbx__access_denial *d)
{
    v->access_count++;
    for (size_t i = 0; i < v->n_access; i++) {
        struct sbx__access_denial *k = &v->access[i];
        if (k->kind == d->kind && k->port == d->port && k->missing == d->missing &&
            strcmp(k->path, d->path) == 0) {
            k->count++;
            return;
        }
    }
    if (v->n_access == SBX__ACCESS_DENIALS)
        return;
    v->access[v->n_access] = *d;
    v->access[v->n_access++].count = 1;
}

/* ---- learn mode's observations ---------------------------------------------------- */

static uint64_t hash_path(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool learn_grow(struct sbx__learned *l)
{
    size_t cap = l->cap ? l->cap * 2 : 1024;
    struct sbx__learn_entry *e = calloc(cap, sizeof(*e));
    if (!e)
        return false;
    for (size_t i = 0; i < l->cap; i++) {
        if (!l->e[i].path)
            continue;
        size_t j = (size_t)hash_path(l->e[i].path) & (cap - 1);
        while (e[j].path)
            j = (j + 1) & (cap - 1);
        e[j] = l->e[i];
    }
    free(l->e);
    l->e = e;
    l->cap = cap;
    return true;
}

void sbx__learn_note(struct sbx__learned *l, const char *path, uint32_t what)
{
    if (!*path || path[0] != '/')
        return; /* not a path the child could name again (a pipe...) */
    if (l->cap) {
        size_t j = (size_t)hash_path(path) & (l->cap - 1);
        for (; l->e[j].path; j = (j + 1) & (l->cap - 1))
            if (strcmp(l->e[j].path, path) == 0) {
                l->e[j].what |= what;
                return;
            }
    }
    if (l->n >= SBX__LEARN_MAX || ((l->n + 1) * 2 > l->cap && !learn_grow(l))) {
        l->truncated = true;
        return;
    }
    char *copy = strdup(path);
    if (!copy) {
        l->truncated = true;
        return;
    }
    size_t j = (size_t)hash_path(path) & (l->cap - 1);
    while (l->e[j].path)
        j = (j + 1) & (l->cap - 1);
    l->e[j] = (struct sbx__learn_entry){copy, what};
    l->n++;
}

void sbx__learned_free(struct sbx__learned *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->cap; i++)
        free(l->e[i].path);
    free(l->e);
    free(l);
}
