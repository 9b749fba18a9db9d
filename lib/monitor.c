/* The violation monitor, host side: the child attaches its filter with a
 * listener (seccomp user notification) and sends the listener over a socket
 * pair; here the host receives each denied call, records it, answers it with
 * the configured errno, calls the policy's callback, and kills the child when
 * the violation limit is reached.
 *
 * There is no thread: notifications are serviced by whoever waits for the
 * child (sbx_child_wait(), sbx_child_poll(), sbx_run()), and sbx_child_fd()
 * is an epoll descriptor holding the pidfd and the listener, so that an event
 * loop wakes up for both (made on the first call: sbx_run() and
 * sbx_child_wait() poll the two directly). All state is per child. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespace_layer.h"
#include "pathwalk.h"
#include "seccomp_layer.h"
#include "view.h"

/* Room for the kernel's notification structures, which may grow. */
#define NOTIF_BUF 512

#define RATE_SLOTS 1000u /* milliseconds: one second */

#define SPAWN_RULES_MAX 32 /* the private TMPDIR and the view's new mounts */

struct sbx__monitor {
    int listener; /* -1 once no process uses the filter any more */
    struct sbx__seccomp_plan *sp;
    size_t notif_size, resp_size;
    struct sbx__violations v;
    /* The rate limit's sliding window: the denied calls of each of the last
     * RATE_SLOTS milliseconds (slot: the millisecond since the spawn, modulo
     * RATE_SLOTS), the newest millisecond counted, and their sum. */
    uint32_t rate_slot[RATE_SLOTS];
    uint64_t rate_ms, rate_sum;
    /* Exec reporting and diagnose mode: the rules this spawn's ruleset adds
     * (the program and what starts it: landlock.c gives them EXECUTE and
     * READ_FILE; the private TMPDIR; the mount view's new mounts). */
    struct sbx__exec_rule prog[SBX__PROGRAM_MAX + SPAWN_RULES_MAX];
    size_t n_prog;
    int execve_nr, execveat_nr;
};

/* ---- setting up (sbx_spawn) --------------------------------------------------- */

void sbx__monitor_close_sockets(int sock[2])
{
    for (int i = 0; i < 2; i++) {
        if (sock[i] >= 0)
            close(sock[i]);
        sock[i] = -1;
    }
}

int sbx__monitor_prepare(const struct sbx__plan *plan, int sock[2])
{
    sock[0] = sock[1] = -1;
    if (!plan->seccomp || !plan->seccomp->notify_prog.len)
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0)
        return sbx__err_stage(SBX_STAGE_CLONE, -errno, "socketpair (for the seccomp listener)");
    for (int i = 0; i < 2; i++) {
        if (sv[i] < 3) { /* the host has closed standard streams: stay clear of them */
            int moved = fcntl(sv[i], F_DUPFD_CLOEXEC, 3);
            int err = errno;
            close(sv[i]);
            sv[i] = moved;
            if (moved < 0) {
                sbx__monitor_close_sockets(sv);
                return sbx__err_stage(SBX_STAGE_CLONE, -err, "fcntl(F_DUPFD_CLOEXEC)");
            }
        }
    }
    sock[0] = sv[0];
    sock[1] = sv[1];
    return 0;
}

/* The program already runs when the monitor cannot start: end it. */
static void abandon(sbx_child *child)
{
    kill(-child->pid, SIGKILL);
    syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0);
    siginfo_t info;
    while (waitid(P_PIDFD, (id_t)child->pidfd, &info, WEXITED | __WALL) < 0 && errno == EINTR)
        ;
    close(child->pidfd);
    child->pidfd = -1;
}

/* The rules a spawn adds to the child's ruleset beyond the compiled ones:
 * the private TMPDIR (tmpdir.c) and the mount view's new mounts and root
 * (view.c), found by inode in the child's view, which is built by now. */
static void spawn_rules(struct sbx__monitor *m, const sbx_child *child,
                        const struct sbx__plan *plan)
{
    struct stat st;
    size_t max = sizeof(m->prog) / sizeof(m->prog[0]);
    if (child->tmpdir[0] && stat(child->tmpdir, &st) == 0 && m->n_prog < max)
        m->prog[m->n_prog++] = (struct sbx__exec_rule){st.st_dev, st.st_ino, plan->fs.tmp};
    const struct sbx__view *view = plan->ns ? plan->ns->view : NULL;
    if (!view)
        return;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/%d/root", (int)child->pid);
    if (view->root_rights && stat(path, &st) == 0 && m->n_prog < max)
        m->prog[m->n_prog++] = (struct sbx__exec_rule){st.st_dev, st.st_ino, view->root_rights};
    for (size_t i = 0; i < view->n && m->n_prog < max; i++) {
        if (!view->ops[i].ll_rights)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/root%s", (int)child->pid, view->ops[i].path);
        if (lstat(path, &st) == 0)
            m->prog[m->n_prog++] =
                (struct sbx__exec_rule){st.st_dev, st.st_ino, view->ops[i].ll_rights};
    }
}

int sbx__monitor_start(sbx_child *child, const struct sbx__plan *plan, int sock[2],
                       bool monitor_lost, const struct sbx__program *prog)
{
    if (sock[0] < 0)
        return 0;
    int listener = monitor_lost ? -1 : sbx__recv_fd(sock[0]);
    sbx__monitor_close_sockets(sock);
    if (monitor_lost)
        return 0;

    const char *step = "receiving the seccomp listener";
    int r = listener < 0 ? listener : 0;
    struct sbx__monitor *m = NULL;
    if (r == 0 && !(m = calloc(1, sizeof(*m))))
        r = -ENOMEM, step = "allocating the monitor";
    if (r == 0 && plan->seccomp->learn && !(m->v.learned = calloc(1, sizeof(*m->v.learned))))
        r = -ENOMEM, step = "allocating learn mode's record";
    if (r < 0) {
        if (listener >= 0)
            close(listener);
        if (m)
            free(m->v.learned);
        free(m);
        abandon(child);
        return sbx__err_stage(SBX_STAGE_SECCOMP, r, "seccomp: %s", step);
    }
    m->listener = listener;
    m->sp = sbx__seccomp_plan_ref((struct sbx__seccomp_plan *)plan->seccomp);
    sbx__seccomp_notif_sizes(&m->notif_size, &m->resp_size);
    m->execve_nr = m->execveat_nr = -1;
    if (m->sp->exec_notify) {
        m->execve_nr = sbx__syscall_resolve("execve");
        m->execveat_nr = sbx__syscall_resolve("execveat");
    }
    if (m->sp->exec_notify || m->sp->n_diag) {
        for (size_t i = 0; prog && i < prog->n && m->n_prog < SBX__PROGRAM_MAX; i++) {
            struct stat st;
            if (stat(prog->path[i], &st) == 0)
                m->prog[m->n_prog++] =
                    (struct sbx__exec_rule){st.st_dev, st.st_ino, m->sp->exec_required};
        }
    }
    if (m->sp->exec_notify || m->sp->n_diag)
        spawn_rules(m, child, plan);
    m->v.diagnosed = m->sp->n_diag > 0;
    if (m->v.learned)
        snprintf(m->v.learned->tmpdir, sizeof(m->v.learned->tmpdir), "%s", child->tmpdir);
    child->monitor = m;
    child->violations = &m->v;
    return 0;
}

int sbx__monitor_fd(const sbx_child *child)
{
    return child->monitor ? child->monitor->listener : -1;
}

void sbx__monitor_free(sbx_child *child)
{
    struct sbx__monitor *m = child->monitor;
    if (!m)
        return;
    if (m->listener >= 0)
        close(m->listener); /* calls still waiting fail with ENOSYS */
    sbx__learned_free(m->v.learned);
    sbx__seccomp_plan_unref(m->sp);
    free(m);
    child->monitor = NULL;
}

/* ---- servicing ------------------------------------------------------------------ */

static void stop_listening(struct sbx__monitor *m)
{
    close(m->listener); /* which takes it out of every epoll set (sbx_child_fd()) */
    m->listener = -1;
}

static void fill_public(sbx_violation *out, const struct sbx__violation_rec *rec)
{
    memset(out, 0, sizeof(*out));
    out->size = sizeof(*out);
    out->syscall = rec->name;
    out->nr = rec->nr;
    out->error = rec->error;
    out->pid = rec->pid;
    memcpy(out->args, rec->args, sizeof(out->args));
    out->time_ns = rec->time_ns;
    out->benign = rec->benign;
}

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010u
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008u
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001u
#endif

/* Whether a notification is a memfd_create to make for the child, sealed
 * non-executable, instead of a violation (seccomp_filter.c). */
static bool memfd_to_make(const struct sbx__monitor *m, const struct seccomp_data *data)
{
    return m->sp->memfd_rewrite && data->nr == SYS_memfd_create &&
           !(data->args[1] & (MFD_EXEC | MFD_NOEXEC_SEAL));
}

/* The longest memfd name the kernel takes (NAME_MAX less "memfd:"). */
#define MEMFD_NAME_MAX 249

/* The name the child passed to memfd_create, read from its memory into
 * name[MEMFD_NAME_MAX + 1]: 0, -EINVAL when it is longer than the kernel
 * takes, or "agentsbx" when it cannot be read. The name is only a label (the
 * child may change it after the read: it does not matter). The read is split
 * at the 4 KiB boundary: a partial read stops between the pieces, never in
 * one, so a short name at the end of the last mapped page is still read. */
static int memfd_name(pid_t pid, uint64_t at, char *name)
{
    size_t len = MEMFD_NAME_MAX + 1, first = 4096 - (size_t)(at & 4095);
    if (first > len)
        first = len;
    struct iovec local = {name, len};
    struct iovec remote[2] = {{(void *)(uintptr_t)at, first},
                              {(void *)(uintptr_t)(at + first), len - first}};
    ssize_t got = process_vm_readv(pid, &local, 1, remote, first < len ? 2 : 1, 0);
    if (got > 0 && memchr(name, '\0', (size_t)got))
        return 0;
    if (got == (ssize_t)len)
        return -EINVAL; /* as the kernel answers a name too long */
    snprintf(name, len, "agentsbx");
    return 0;
}

/* The child's memfd_create(name, flags): the host makes it with
 * MFD_NOEXEC_SEAL added and puts it in the child as the call's result
 * (SECCOMP_ADDFD_FLAG_SEND, Linux 5.14), so no memfd of the child can ever be
 * executed. Flags the kernel rejects get its answer (EINVAL). */
static void make_memfd(struct sbx__monitor *m, const struct seccomp_notif *notif)
{
    char name[MEMFD_NAME_MAX + 1];
    unsigned flags = (unsigned)notif->data.args[1];
    int err = -memfd_name((pid_t)notif->pid, notif->data.args[0], name);
    int fd = err ? -1 : (int)syscall(SYS_memfd_create, name, flags | MFD_NOEXEC_SEAL);
    if (!err && fd < 0)
        err = errno;
    if (fd >= 0) {
        struct seccomp_notif_addfd addfd = {
            .id = notif->id,
            .flags = SECCOMP_ADDFD_FLAG_SEND,
            .srcfd = (uint32_t)fd,
            .newfd_flags = (flags & MFD_CLOEXEC) ? O_CLOEXEC : 0,
        };
        if (ioctl(m->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) >= 0) {
            close(fd);
            return; /* answered: the descriptor is the call's result */
        }
        /* EMFILE in the child, or the caller is gone (ENOENT). A kernel
         * without ADDFD_FLAG_SEND (EINVAL) gets the answer of the monitor
         * off: no memfd without MFD_NOEXEC_SEAL. */
        err = errno == EINVAL ? EACCES : errno;
        close(fd);
    }
    union {
        struct seccomp_notif_resp resp;
        char raw[NOTIF_BUF];
    } resp;
    memset(&resp, 0, sizeof(resp));
    resp.resp.id = notif->id;
    resp.resp.error = -err;
    (void)ioctl(m->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* ---- exec reporting ------------------------------------------------------------ */

/* Read a NUL-terminated string of the child's at `at` into buf[size]: the
 * length, or -1 when it cannot be read or does not end within size. Read page
 * by page, so that a string at the end of the last mapped page is read. */
ssize_t sbx__child_string(pid_t pid, uint64_t at, char *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        size_t chunk = 4096 - (size_t)((at + got) & 4095);
        if (chunk > size - got)
            chunk = size - got;
        struct iovec local = {buf + got, chunk};
        struct iovec remote = {(void *)(uintptr_t)(at + got), chunk};
        ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n <= 0)
            return -1;
        char *nul = memchr(buf + got, '\0', (size_t)n);
        if (nul)
            return nul - buf;
        got += (size_t)n;
    }
    return -1;
}

/* Resolve path as the exec in the child does (pathwalk.c): from dir (relative
 * paths) or root (absolute ones, and absolute link targets: the child's root,
 * which may be the mount view's), following links. On success *ret_dir holds
 * the directory the file is in and *ret_file the file (O_PATH), and 0 is
 * returned; -1 when the path does not name a regular file that could be
 * executed (the kernel gives ENOENT, ENOTDIR, ELOOP...: not the sandbox's
 * doing). */
static int resolve_exec(int root, int dir, const char *path, int *ret_dir, int *ret_file)
{
    struct sbx__resolved r;
    struct stat st;
    if (!*path || sbx__resolve_as_child(root, dir, "", path, true, &r) != 0)
        return -1;
    if (r.file < 0 || fstat(r.file, &st) != 0 || !S_ISREG(st.st_mode)) {
        sbx__resolved_close(&r);
        return -1;
    }
    *ret_dir = r.dir;
    *ret_file = r.file;
    return 0;
}

/* The Landlock rights that rules give at this inode. */
static uint64_t rights_at(const struct sbx__monitor *m, const struct stat *st)
{
    uint64_t r = 0;
    for (size_t i = 0; i < m->sp->n_exec_rules; i++)
        if (m->sp->exec_rules[i].dev == st->st_dev && m->sp->exec_rules[i].ino == st->st_ino)
            r |= m->sp->exec_rules[i].access;
    for (size_t i = 0; i < m->n_prog; i++)
        if (m->prog[i].dev == st->st_dev && m->prog[i].ino == st->st_ino)
            r |= m->prog[i].access;
    return r;
}

/* Whether Landlock lets the file (in dir) be executed: as Landlock does, the
 * rights of the rules on the file and on each directory up to the root of
 * the child's mount tree ("..", which crosses mount points as Landlock's walk
 * does), added up. Rules are matched by inode, as Landlock's are. */
struct exec_walk {
    const struct sbx__monitor *m;
    uint64_t have, need;
};

static bool add_rights(const struct stat *st, void *arg)
{
    struct exec_walk *w = arg;
    w->have |= rights_at(w->m, st);
    return (w->have & w->need) == w->need;
}

static bool exec_granted(const struct sbx__monitor *m, int dir, int file)
{
    struct exec_walk w = {m, 0, m->sp->exec_required};
    struct stat st;
    if (!w.need)
        return true;
    if (fstat(file, &st) == 0)
        w.have |= rights_at(m, &st);
    if ((w.have & w.need) != w.need)
        sbx__walk_up(dir, add_rights, &w);
    return (w.have & w.need) == w.need;
}

#define EXEC_MAX_INTERP 4 /* the kernel's binfmt nesting limit, and a loader */

/* Whether the files that start a granted one (its "#!" interpreter, its ELF
 * loader, transitively) may be executed too: Landlock checks each. The first
 * one that may not goes to shown[size]; its reason is returned, or 0. */
static int interpreter_verdict(const struct sbx__monitor *m, int root, int file, char *shown,
                               size_t size)
{
    int verdict = 0, cur = -1;
    for (int depth = 0; depth < EXEC_MAX_INTERP && !verdict; depth++) {
        char self[64], interp[PATH_MAX];
        snprintf(self, sizeof(self), "/proc/self/fd/%d", cur >= 0 ? cur : file);
        int rfd = open(self, O_RDONLY | O_CLOEXEC);
        int r = rfd >= 0 ? sbx__program_interpreter(rfd, interp, sizeof(interp)) : -1;
        if (rfd >= 0)
            close(rfd);
        int idir = -1, ifile = -1;
        if (r != 1 || interp[0] != '/' || resolve_exec(root, root, interp, &idir, &ifile) != 0)
            break;
        struct statvfs vfs;
        if (!exec_granted(m, idir, ifile))
            verdict = SBX_EXEC_DENIED_NOT_GRANTED;
        else if (fstatvfs(ifile, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
            verdict = SBX_EXEC_DENIED_NOEXEC_MOUNT;
        if (verdict)
            snprintf(shown, size, "%s", interp);
        close(idir);
        if (cur >= 0)
            close(cur);
        cur = ifile;
    }
    if (cur >= 0)
        close(cur);
    return verdict;
}

/* Why an exec of path (execve, or execveat from dirfd with flags) by pid
 * will be refused: SBX_EXEC_DENIED_*, or 0 (allowed, or refused for a reason
 * of its own: no such file, no x bit...). The file refused goes to
 * shown[size]: path, or the interpreter that starts it. */
static int exec_verdict(const struct sbx__monitor *m, pid_t pid, int dirfd, const char *path,
                        uint64_t flags, char *shown, size_t size)
{
    snprintf(shown, size, "%s", path);
    char buf[64];
    snprintf(buf, sizeof(buf), "/proc/%d/root", (int)pid);
    int root = open(buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd == AT_FDCWD)
        snprintf(buf, sizeof(buf), "/proc/%d/cwd", (int)pid);
    else
        snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", (int)pid, dirfd);
    int dir = open(buf, O_PATH | O_CLOEXEC); /* follows the magic link: the child's file */
    int verdict = 0, in = -1, file = -1;
    if (root < 0 || dir < 0)
        goto out;
    if (!*path && (flags & AT_EMPTY_PATH)) {
        /* fexecve: the descriptor is the file; its directory is not known
         * from here, so only the file's own rules and mount count. */
        file = fcntl(dir, F_DUPFD_CLOEXEC, 3);
        in = -1;
    } else if (resolve_exec(root, dir, path, &in, &file) != 0) {
        goto out;
    }
    struct stat st;
    struct statvfs vfs;
    if (file < 0 || fstat(file, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
        goto out;
    /* Landlock first: the mount view makes what is not granted noexec as
     * well, and the grant is the fix. */
    if (in >= 0 ? !exec_granted(m, in, file)
                : (rights_at(m, &st) & m->sp->exec_required) != m->sp->exec_required)
        verdict = SBX_EXEC_DENIED_NOT_GRANTED;
    else if (fstatvfs(file, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
        verdict = SBX_EXEC_DENIED_NOEXEC_MOUNT;
    else
        verdict = interpreter_verdict(m, root, file, shown, size);
out:;
    int fds[] = {root, dir, in, file};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return verdict;
}

/* Count an exec denial under its path and reason. */
static void record_exec(struct sbx__violations *v, const char *path, int reason, pid_t pid,
                        uint64_t time_ns)
{
    char shown[SBX__EXEC_PATH_MAX];
    size_t len = strlen(path);
    if (len < sizeof(shown))
        memcpy(shown, path, len + 1);
    else
        snprintf(shown, sizeof(shown), "%.*s...", (int)sizeof(shown) - 4, path);
    v->exec_count++;
    for (size_t i = 0; i < v->n_exec; i++)
        if (v->exec[i].reason == reason && strcmp(v->exec[i].path, shown) == 0) {
            v->exec[i].count++;
            return;
        }
    if (v->n_exec == SBX__EXEC_DENIALS)
        return;
    struct sbx__exec_denial *d = &v->exec[v->n_exec++];
    memcpy(d->path, shown, sizeof(shown));
    d->reason = reason;
    d->pid = pid;
    d->time_ns = time_ns;
    d->count = 1;
}

/* Learn mode: the file an exec runs, by the path of the host's mount
 * namespace (learn mode runs without the mount view). */
static void learn_exec(struct sbx__learned *l, pid_t pid, int dirfd, const char *path,
                       uint64_t flags)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "/proc/%d/root", (int)pid);
    int root = open(buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd == AT_FDCWD)
        snprintf(buf, sizeof(buf), "/proc/%d/cwd", (int)pid);
    else
        snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", (int)pid, dirfd);
    int dir = open(buf, O_PATH | O_CLOEXEC), in = -1, file = -1;
    if (root >= 0 && dir >= 0 && (*path || !(flags & AT_EMPTY_PATH)) &&
        resolve_exec(root, dir, path, &in, &file) == 0) {
        char real[PATH_MAX];
        struct stat st;
        if (sbx__fd_path(file, real, sizeof(real)) && fstat(file, &st) == 0 && (st.st_mode & 0111))
            sbx__learn_note(l, real, SBX__LEARN_EXEC);
    }
    int fds[] = {root, dir, in, file};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* An exec of the child: tell whether the sandbox will refuse it, and let it
 * continue either way (the kernel decides: nothing here allows anything). */
static void exec_seen(sbx_child *child, struct sbx__monitor *m, const struct seccomp_notif *notif)
{
    const struct seccomp_data *data = &notif->data;
    bool at = data->nr == m->execveat_nr;
    char path[PATH_MAX], shown[PATH_MAX];
    pid_t pid = (pid_t)notif->pid;
    int verdict = 0;
    uint64_t id = notif->id;
    int dirfd = at ? (int)data->args[0] : AT_FDCWD;
    uint64_t flags = at ? data->args[4] : 0;
    if (sbx__child_string(pid, data->args[at ? 1 : 0], path, sizeof(path)) >= 0 &&
        ioctl(m->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0) {
        verdict = exec_verdict(m, pid, dirfd, path, flags, shown, sizeof(shown));
        if (m->v.learned)
            learn_exec(m->v.learned, pid, dirfd, path, flags);
    }
    if (verdict && !*shown) {
        /* fexecve: name the file by what the descriptor shows. */
        char link[64];
        snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, dirfd);
        ssize_t n = readlink(link, shown, sizeof(shown) - 1);
        shown[n > 0 ? n : 0] = '\0';
    }
    union {
        struct seccomp_notif_resp resp;
        char raw[NOTIF_BUF];
    } resp;
    memset(&resp, 0, sizeof(resp));
    resp.resp.id = notif->id;
    resp.resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    (void)ioctl(m->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    if (verdict)
        record_exec(&m->v, shown, verdict, pid, sbx__now_ns() - child->start_ns);
}

/* A call diagnose mode watches: tell whether Landlock will refuse it, and
 * let it continue either way (Landlock decides). */
static void diagnose_seen(sbx_child *child, struct sbx__monitor *m,
                          const struct seccomp_notif *notif)
{
    struct sbx__access_denial d;
    struct sbx__rule_lists rules = {{m->sp->exec_rules, m->prog}, {m->sp->n_exec_rules, m->n_prog}};
    uint64_t id = notif->id;
    int verdict = 0;
    if (ioctl(m->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0)
        verdict = sbx__diagnose(m->sp, &rules, &notif->data, (pid_t)notif->pid, &d, m->v.learned);
    union {
        struct seccomp_notif_resp resp;
        char raw[NOTIF_BUF];
    } resp;
    memset(&resp, 0, sizeof(resp));
    resp.resp.id = notif->id;
    resp.resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    (void)ioctl(m->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    if (verdict) {
        d.pid = (pid_t)notif->pid;
        d.time_ns = sbx__now_ns() - child->start_ns;
        sbx__diagnose_record(&m->v, &d);
    }
}

#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif

/* Whether a denied call is a routine probe of a library rather than an
 * attempt on something: socket(AF_NETLINK, ..., NETLINK_ROUTE), which
 * getifaddrs() makes (node's os.networkInterfaces(), so every npm run).
 * Still denied, counted and kept; told apart in the result and the CLI. */
static bool benign_probe(const struct seccomp_data *data)
{
    return data->nr == SYS_socket && data->args[0] == AF_NETLINK && data->args[2] == 0;
}

/* Count a violation under its kind (a system call, its errno, and whether it
 * is a benign probe); the kind, or NULL when the table of kinds is full. */
static struct sbx__violation_kind *count_kind(struct sbx__violations *v,
                                              const struct sbx__violation_rec *rec, uint32_t arch)
{
    for (size_t i = 0; i < v->n_kinds; i++)
        if (v->kinds[i].first.nr == rec->nr && v->kinds[i].first.error == rec->error &&
            v->kinds[i].first.benign == rec->benign) {
            v->kinds[i].count++;
            return &v->kinds[i];
        }
    if (v->n_kinds == SBX__VIOLATION_KINDS)
        return NULL;
    struct sbx__violation_kind *k = &v->kinds[v->n_kinds++];
    k->first = *rec;
    sbx__syscall_name(arch, rec->nr, k->first.name, sizeof(k->first.name));
    k->count = 1;
    return k;
}

/* Whether this violation (at time_ns since the spawn) makes more than the
 * rate in the last second: in any one second, measured to the millisecond
 * (the calls of this millisecond and of the 999 before it), not in seconds
 * counted from some first call, which a burst straddling two of them would
 * pass with twice the rate. */
static bool over_rate(struct sbx__monitor *m, uint64_t time_ns)
{
    if (!m->sp->violation_rate)
        return false;
    uint64_t ms = time_ns / 1000000u;
    if (ms > m->rate_ms) { /* empty the slots of the milliseconds that left the window */
        uint64_t gone = ms - m->rate_ms < RATE_SLOTS ? ms - m->rate_ms : RATE_SLOTS;
        for (uint64_t i = 1; i <= gone; i++) {
            uint32_t *slot = &m->rate_slot[(m->rate_ms + i) % RATE_SLOTS];
            m->rate_sum -= *slot;
            *slot = 0;
        }
        m->rate_ms = ms;
    }
    m->rate_slot[m->rate_ms % RATE_SLOTS]++;
    return ++m->rate_sum > m->sp->violation_rate;
}

/* The child passed a violation limit or rate: the caller kills it. */
static int kill_wanted(const sbx_child *child)
{
    return child->state == SBX__RUNNING && child->reason == SBX__END_VIOLATION ? SBX__MONITOR_KILL
                                                                               : 0;
}

/* Receive and answer one notification; false when there is nothing to do. */
static bool service_one(sbx_child *child, struct sbx__monitor *m)
{
    union {
        struct seccomp_notif notif;
        char raw[NOTIF_BUF];
    } req;
    memset(&req, 0, sizeof(req)); /* the kernel wants it zeroed */
    if (ioctl(m->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
        if (errno == EINTR || errno == ENOENT) /* ENOENT: the caller is gone */
            return true;
        stop_listening(m); /* cannot happen; do not spin on it (waiting calls get ENOSYS) */
        return false;
    }

    const struct seccomp_data *data = &req.notif.data;
    if (m->sp->exec_notify && (data->nr == m->execve_nr || data->nr == m->execveat_nr)) {
        exec_seen(child, m, &req.notif);
        return true;
    }
    if (m->sp->n_diag && sbx__diagnose_watches(m->sp, data->nr)) {
        diagnose_seen(child, m, &req.notif);
        return true;
    }
    if (memfd_to_make(m, data)) {
        make_memfd(m, &req.notif);
        return true;
    }
    struct sbx__violation_rec rec = {
        .nr = data->nr,
        .error = sbx__seccomp_error_for(m->sp, data->nr),
        .pid = (pid_t)req.notif.pid,
        .time_ns = sbx__now_ns() - child->start_ns,
        .benign = benign_probe(data),
    };
    memcpy(rec.args, data->args, sizeof(rec.args));
    m->v.count++;
    m->v.benign += rec.benign;
    struct sbx__violation_kind *kind = count_kind(&m->v, &rec, data->arch);
    bool over = m->sp->violation_limit && m->v.count >= m->sp->violation_limit;
    bool too_fast = over_rate(m, rec.time_ns);
    if (over || too_fast) {
        /* Kill before answering: the call never returns. */
        if (child->state == SBX__RUNNING && child->reason == SBX__END_NATURAL) {
            child->reason = SBX__END_VIOLATION; /* the caller kills (SBX__MONITOR_KILL) */
            m->v.rate_kill = !over;
        }
    } else {
        union {
            struct seccomp_notif_resp resp;
            char raw[NOTIF_BUF];
        } resp;
        memset(&resp, 0, sizeof(resp));
        resp.resp.id = req.notif.id;
        resp.resp.error = -rec.error;
        /* ENOENT: the caller died or was interrupted meanwhile; nothing to do. */
        (void)ioctl(m->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
    /* Names are resolved here, in the parent (libseccomp may allocate): once
     * per kind (count_kind()), and for what is kept or called back. */
    if (kind)
        memcpy(rec.name, kind->first.name, sizeof(rec.name));
    else if (m->v.n_kept < SBX_VIOLATIONS_KEPT || m->sp->callback || child->violation_hook)
        sbx__syscall_name(data->arch, data->nr, rec.name, sizeof(rec.name));
    if (m->v.n_kept < SBX_VIOLATIONS_KEPT)
        m->v.kept[m->v.n_kept++] = rec;
    else
        m->v.dropped++;
    if (child->violation_hook)
        child->violation_hook(child, &rec, kind ? kind->count : UINT64_MAX);
    if (m->sp->callback) {
        sbx_violation pub;
        fill_public(&pub, &rec);
        m->sp->callback(&pub, m->sp->userdata);
    }
    return true;
}

int sbx__monitor_service(sbx_child *child)
{
    struct sbx__monitor *m = child->monitor;
    /* A bounded batch: a child flooding the listener must not keep its host
     * here past its deadline (the caller checks it between batches). */
    for (int n_done = 0; m && m->listener >= 0 && n_done < SBX__MONITOR_BATCH; n_done++) {
        struct pollfd pfd = {.fd = m->listener, .events = POLLIN};
        int n = poll(&pfd, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (!(pfd.revents & POLLIN)) {
            if (!(pfd.revents & POLLHUP))
                break;
            stop_listening(m); /* no process uses the filter any more */
            return SBX__MONITOR_HUNG_UP | kill_wanted(child);
        }
        if (!service_one(child, m))
            break;
    }
    return kill_wanted(child);
}

/* ---- results ------------------------------------------------------------------ */

int sbx__monitor_result(const sbx_child *child, sbx_result *res)
{
    if (!child->monitor)
        return 0;
    res->violations = malloc(sizeof(*res->violations));
    if (!res->violations)
        return sbx__errno(-ENOMEM, "allocating the result");
    memcpy(res->violations, &child->monitor->v, sizeof(*res->violations));
    child->monitor->v.learned = NULL; /* the result's now */
    return 0;
}

void sbx__violations_free(sbx_result *res)
{
    if (res->violations)
        sbx__learned_free(res->violations->learned);
    free(res->violations);
    res->violations = NULL;
}

uint64_t sbx_result_violation_count(const sbx_result *result)
{
    return result && result->violations ? result->violations->count : 0;
}

uint64_t sbx_result_violations_benign(const sbx_result *result)
{
    return result && result->violations ? result->violations->benign : 0;
}

uint64_t sbx_result_violations_dropped(const sbx_result *result)
{
    return result && result->violations ? result->violations->dropped : 0;
}

size_t sbx_result_violation_kinds(const sbx_result *result)
{
    return result && result->violations ? result->violations->n_kinds : 0;
}

int sbx_result_violation_kind(const sbx_result *result, size_t index, sbx_violation *ret,
                              uint64_t *count)
{
    sbx__check_arg(result);
    sbx__check_arg(ret);
    sbx__check_arg(count);
    sbx__check(ret->size >= offsetof(sbx_violation, nr),
               "%s: ret->size is %zu; set it to sizeof(sbx_violation)", __func__, ret->size);
    const struct sbx__violations *v = result->violations;
    size_t kinds = v ? v->n_kinds : 0;
    if (index >= kinds)
        return sbx__err(-ERANGE, "%s: no violation kind at index %zu (%zu kinds)", __func__, index,
                        kinds);
    sbx_violation full;
    fill_public(&full, &v->kinds[index].first);
    size_t size = ret->size < sizeof(full) ? ret->size : sizeof(full);
    full.size = size;
    memcpy(ret, &full, size);
    *count = v->kinds[index].count;
    return 0;
}

/* The checks of a getter of a kept list: the caller's struct holds at least
 * `min` bytes, and `index` is below `kept`. 0, or -errno with the message. */
static int kept_entry(const char *func, size_t ret_size, size_t min, const char *type, size_t index,
                      size_t kept, const char *what)
{
    if (ret_size < min)
        return sbx__err(-EINVAL, "%s: ret->size is %zu; set it to sizeof(%s)", func, ret_size,
                        type);
    if (index >= kept)
        return sbx__err(-ERANGE, "%s: no %s at index %zu (%zu kept)", func, what, index, kept);
    return 0;
}

/* Copy `full`, a public struct whose first member is its size, into the
 * caller's `ret`: as many bytes as the caller's size says its struct has, or
 * all of them, and that size in its first member. */
static void copy_out(void *ret, void *full, size_t full_size)
{
    size_t size = *(const size_t *)ret;
    if (size > full_size)
        size = full_size;
    *(size_t *)full = size;
    memcpy(ret, full, size);
}

int sbx_result_violation(const sbx_result *result, size_t index, sbx_violation *ret)
{
    sbx__check_arg(result);
    sbx__check_arg(ret);
    const struct sbx__violations *v = result->violations;
    int r = kept_entry(__func__, ret->size, offsetof(sbx_violation, nr), "sbx_violation", index,
                       v ? v->n_kept : 0, "violation kept");
    if (r < 0)
        return r;
    sbx_violation full;
    fill_public(&full, &v->kept[index]);
    copy_out(ret, &full, sizeof(full));
    return 0;
}

uint64_t sbx_result_exec_denial_count(const sbx_result *result)
{
    return result && result->violations ? result->violations->exec_count : 0;
}

size_t sbx_result_exec_denials(const sbx_result *result)
{
    return result && result->violations ? result->violations->n_exec : 0;
}

int sbx_result_exec_denial(const sbx_result *result, size_t index, sbx_exec_denial *ret)
{
    sbx__check_arg(result);
    sbx__check_arg(ret);
    const struct sbx__violations *v = result->violations;
    int r = kept_entry(__func__, ret->size, offsetof(sbx_exec_denial, reason), "sbx_exec_denial",
                       index, v ? v->n_exec : 0, "exec denial");
    if (r < 0)
        return r;
    const struct sbx__exec_denial *d = &v->exec[index];
    sbx_exec_denial full = {
        .size = sizeof(full),
        .path = d->path,
        .reason = d->reason,
        .pid = d->pid,
        .time_ns = d->time_ns,
        .count = d->count,
    };
    copy_out(ret, &full, sizeof(full));
    return 0;
}

uint64_t sbx_result_access_denial_count(const sbx_result *result)
{
    return result && result->violations ? result->violations->access_count : 0;
}

size_t sbx_result_access_denials(const sbx_result *result)
{
    return result && result->violations ? result->violations->n_access : 0;
}

int sbx_result_access_denial(const sbx_result *result, size_t index, sbx_access_denial *ret)
{
    sbx__check_arg(result);
    sbx__check_arg(ret);
    const struct sbx__violations *v = result->violations;
    int r = kept_entry(__func__, ret->size, offsetof(sbx_access_denial, kind), "sbx_access_denial",
                       index, v ? v->n_access : 0, "access denial");
    if (r < 0)
        return r;
    const struct sbx__access_denial *d = &v->access[index];
    sbx_access_denial full = {
        .size = sizeof(full),
        .kind = d->kind,
        .syscall = d->syscall,
        .path = d->path,
        .dir = d->dir,
        .missing = d->missing,
        .port = d->port,
        .pid = d->pid,
        .time_ns = d->time_ns,
        .count = d->count,
    };
    copy_out(ret, &full, sizeof(full));
    return 0;
}

const char *sbx_exec_denied_name(int reason)
{
    switch (reason) {
    case SBX_EXEC_DENIED_NOT_GRANTED: return "not granted";
    case SBX_EXEC_DENIED_NOEXEC_MOUNT: return "noexec mount";
    default: return "unknown";
    }
}

/* The names of sbx_access_denial::missing's rights, as the JSON's list. */
static void append_rights(char *buf, size_t size, size_t *off, uint64_t missing)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } names[] = {{SBX_FS_READ, "read"},
                 {SBX_FS_EXEC, "exec"},
                 {SBX_FS_WRITE_FILE, "write_file"},
                 {SBX_FS_TRUNCATE, "truncate"},
                 {SBX_FS_CREATE, "create"},
                 {SBX_FS_REMOVE, "remove"},
                 {SBX_FS_MAKE_SYMLINK, "make_symlink"},
                 {SBX_FS_MAKE_SPECIAL, "make_special"},
                 {SBX_FS_REFER, "refer"}};
    bool first = true;
    sbx__json_append(buf, size, off, "[");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (missing & names[i].bit) {
            sbx__json_append(buf, size, off, "%s\"%s\"", first ? "" : ",", names[i].name);
            first = false;
        }
    sbx__json_append(buf, size, off, "]");
}

/* `,"access_denial_count":N,"access_denials":[...]` (diagnose mode). */
static void access_json(const struct sbx__violations *v, char *buf, size_t size, size_t *off)
{
    sbx__json_append(buf, size, off, ",\"access_denial_count\":%llu,\"access_denials\":[",
                     (unsigned long long)v->access_count);
    for (size_t i = 0; i < v->n_access; i++) {
        const struct sbx__access_denial *d = &v->access[i];
        static const char *const kinds[] = {"", "file", "connect", "bind"};
        sbx__json_append(buf, size, off, "%s{\"kind\":\"%s\",\"syscall\":\"%s\"", i ? "," : "",
                         kinds[d->kind], d->syscall);
        if (d->kind == SBX_ACCESS_FILE) {
            sbx__json_append(buf, size, off, ",\"path\":");
            sbx__json_append_string(buf, size, off, d->path);
            sbx__json_append(buf, size, off, ",\"dir\":");
            sbx__json_append_string(buf, size, off, d->dir);
            sbx__json_append(buf, size, off, ",\"missing\":");
            append_rights(buf, size, off, d->missing);
        } else {
            sbx__json_append(buf, size, off, ",\"port\":%d", d->port);
        }
        sbx__json_append(buf, size, off, ",\"count\":%llu,\"pid\":%d,\"time_ms\":%.3f}",
                         (unsigned long long)d->count, (int)d->pid, (double)d->time_ns / 1e6);
    }
    sbx__json_append(buf, size, off, "]");
}

int sbx__violations_json(const sbx_result *res, char *buf, size_t size)
{
    const struct sbx__violations *v = res->violations;
    size_t off = 0;
    sbx__json_append(buf, size, &off, ",\"violation_count\":%llu,\"violations\":[",
                     (unsigned long long)(v ? v->count : 0));
    for (size_t i = 0; v && i < v->n_kept; i++) {
        const struct sbx__violation_rec *rec = &v->kept[i];
        const char *ename = strerrorname_np(rec->error);
        char num[16];
        if (!ename) {
            snprintf(num, sizeof(num), "%d", rec->error);
            ename = num;
        }
        sbx__json_append(
            buf, size, &off,
            "%s{\"syscall\":\"%s\",\"nr\":%d,\"errno\":\"%s\",\"pid\":%d,\"time_ms\":%.3f,"
            "\"args\":[",
            i ? "," : "", rec->name, rec->nr, ename, (int)rec->pid, (double)rec->time_ns / 1e6);
        for (int a = 0; a < 6; a++)
            sbx__json_append(buf, size, &off, "%s\"0x%llx\"", a ? "," : "",
                             (unsigned long long)rec->args[a]);
        sbx__json_append(buf, size, &off, "]%s}", rec->benign ? ",\"benign\":true" : "");
    }
    sbx__json_append(buf, size, &off, "],\"violations_dropped\":%llu,\"violation_kinds\":[",
                     (unsigned long long)(v ? v->dropped : 0));
    for (size_t i = 0; v && i < v->n_kinds; i++) {
        const struct sbx__violation_kind *k = &v->kinds[i];
        const char *ename = strerrorname_np(k->first.error);
        sbx__json_append(buf, size, &off,
                         "%s{\"syscall\":\"%s\",\"errno\":\"%s\",\"count\":%llu%s}", i ? "," : "",
                         k->first.name, ename ? ename : "?", (unsigned long long)k->count,
                         k->first.benign ? ",\"benign\":true" : "");
    }
    sbx__json_append(buf, size, &off, "]");
    if (res->status == SBX_STATUS_VIOLATION)
        sbx__json_append(buf, size, &off, ",\"violation_kill\":\"%s\"",
                         v && v->rate_kill ? "rate" : "limit");
    sbx__json_append(buf, size, &off, ",\"exec_denial_count\":%llu,\"exec_denials\":[",
                     (unsigned long long)(v ? v->exec_count : 0));
    for (size_t i = 0; v && i < v->n_exec; i++) {
        const struct sbx__exec_denial *d = &v->exec[i];
        sbx__json_append(buf, size, &off, "%s{\"path\":", i ? "," : "");
        sbx__json_append_string(buf, size, &off, d->path);
        sbx__json_append(buf, size, &off,
                         ",\"reason\":\"%s\",\"count\":%llu,\"pid\":%d,\"time_ms\":%.3f}",
                         sbx_exec_denied_name(d->reason), (unsigned long long)d->count, (int)d->pid,
                         (double)d->time_ns / 1e6);
    }
    sbx__json_append(buf, size, &off, "],\"violations_benign\":%llu",
                     (unsigned long long)(v ? v->benign : 0));
    if (v && v->diagnosed)
        access_json(v, buf, size, &off);
    return (int)off;
}
