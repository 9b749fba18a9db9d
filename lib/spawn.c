/* Spawning: clone a child that shares the host's memory until execve (as vfork
 * does), set up its confinement with system calls only, and execute.
 *
 * The child runs on a stack carved from the calling thread's own stack, while
 * that thread is suspended (CLONE_VFORK). It may not allocate, lock, or use
 * stdio: the host may be multithreaded. Everything it needs was computed in the
 * parent (the policy's plan, and struct spawn_ctx below). If a step fails, it
 * stores {stage, errno} in the shared context and exits; the parent, resumed
 * when the child exits or execs, reads that and reports it. This replaces the
 * classic error pipe: with a shared address space the pipe is not needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layer.h"
#include "pathwalk.h"
#include "seccomp_layer.h"
#include "view.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define CHILD_STACK_SIZE (32 * 1024)

/* Everything the child reads, and the two words it writes back. */
struct spawn_ctx {
    const struct sbx__plan *plan;
    const char *workdir; /* the policy's or this spawn's, or NULL */
    int workdir_fd;      /* opened without following planted links; -1: chdir(workdir) */
    const char *program;
    char *const *argv;
    char *const *envp;
    int ruleset;                /* Landlock ruleset to restrict to, or -1 */
    int monitor_sock;           /* socket to send the seccomp listener over, or -1 */
    struct sbx__cgroup_run *cg; /* cgroups to join (cg->n == 0: none) */
    int stdio_mode[3];
    int stdio_src[3]; /* host descriptor to place at 0..2, or -1 */
    /* Descriptors that survive the closing sweep, sorted by number: the host's
     * (inherited by the program) and the library's own (still close-on-exec). */
    struct {
        int fd;
        bool inherit;
    } keep[SBX_IO_MAX_KEEP_FDS + 2];
    size_t n_keep;
    int high_fd; /* the lowest descriptor number above every kept one */
    pid_t parent;
    bool reaper;             /* the init runs as a child subreaper, without a pid namespace */
    struct sbx__ns_run ns;   /* ns.plan == NULL: no namespaces */
    int ns_status_rd;        /* the spawner's end of the init's status pipe */
    int req_sock;            /* prepared ahead: the program's end of the request socket; -1: not */
    const char *req_workdir; /* prepared ahead: this spawn's own working directory, or NULL */
    /* written by the child on failure */
    volatile int fail_stage;
    volatile int fail_errno;
    volatile int fail_index;     /* which rlimit or capability, for the message */
    volatile int fail_step;      /* which step of the capability drop */
    volatile int monitor_lost;   /* the filter went in without a listener (best-effort) */
    volatile int waiting;        /* prepared ahead: the program waits for its request */
    volatile int got_request;    /* prepared ahead: the program has its request */
    uint64_t caps[SBX__CAPSETS]; /* written by the child: the sets the program starts with */
};

/* ---- the child --------------------------------------------------------------- */

static _Noreturn void child_fail(struct spawn_ctx *ctx, int stage)
{
    ctx->fail_errno = errno ? errno : EINVAL;
    ctx->fail_stage = stage;
    _exit(127);
}

static void reset_signals(void)
{
    /* Host handlers must never run in the child (it shares the host's memory
     * until exec), and ignored signals would stay ignored after exec. All
     * signals are blocked here, as the parent blocked them before cloning. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        /* the raw call: glibc refuses its own internal signals (32, 33) */
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, _NSIG / 8);
    }
}

static int close_from(int lo)
{
    if (syscall(SYS_close_range, (unsigned)lo, ~0u, 0) == 0)
        return 0;
    if (errno != ENOSYS)
        return -1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    for (rlim_t fd = (rlim_t)lo; fd < rl.rlim_cur && fd < (1u << 20); fd++)
        close((int)fd);
    return 0;
}

static int close_between(int lo, int hi) /* [lo, hi) */
{
    if (lo >= hi)
        return 0;
    if (syscall(SYS_close_range, (unsigned)lo, (unsigned)(hi - 1), 0) == 0)
        return 0;
    if (errno != ENOSYS)
        return -1;
    for (int fd = lo; fd < hi; fd++)
        close(fd);
    return 0;
}

/* Place src[i] at descriptor i (src[i] < 0: leave i as it is). Sources that
 * sit on 0..2 are moved out of the way first, to high_fd or above. */
static int place_stdio(int src[3], int high_fd)
{
    for (int i = 0; i < 3; i++) {
        if (src[i] >= 0 && src[i] < 3 && src[i] != i) {
            int moved = fcntl(src[i], F_DUPFD_CLOEXEC, high_fd);
            if (moved < 0)
                return -1;
            for (int j = i + 1; j < 3; j++)
                if (src[j] == src[i])
                    src[j] = moved;
            src[i] = moved;
        }
    }
    for (int i = 0; i < 3; i++) {
        if (src[i] < 0)
            continue; /* inherited */
        if (src[i] == i) {
            if (fcntl(i, F_SETFD, 0) != 0)
                return -1;
        } else if (dup2(src[i], i) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Keep the listed descriptors (cleared of close-on-exec) and the library's
 * own; close every other one above 2 now: new descriptors made before execve
 * (the seccomp listener) must fit under the child's RLIMIT_NOFILE. */
static int close_unkept(const struct spawn_ctx *ctx)
{
    int next = 3;
    for (size_t k = 0; k < ctx->n_keep; k++) {
        if (close_between(next, ctx->keep[k].fd) != 0 ||
            (ctx->keep[k].inherit && fcntl(ctx->keep[k].fd, F_SETFD, 0) != 0))
            return -1;
        next = ctx->keep[k].fd + 1;
    }
    return close_from(next);
}

static int setup_fds(struct spawn_ctx *ctx)
{
    int src[3], devnull = -1;
    for (int i = 0; i < 3; i++) {
        src[i] = ctx->stdio_src[i];
        if (ctx->stdio_mode[i] == SBX_STDIO_NULL) {
            if (devnull < 0 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
                return -1;
            src[i] = devnull;
        }
    }
    if (place_stdio(src, ctx->high_fd) != 0)
        return -1;
    return close_unkept(ctx);
}

/* rlimits, no_new_privs, capabilities, Landlock, seccomp: in that order. */
static void confine(struct spawn_ctx *ctx)
{
    const struct sbx__plan *plan = ctx->plan;
    for (size_t i = 0; i < plan->n_rlimits; i++) {
        ctx->fail_index = (int)i;
        if (setrlimit(plan->rlimits[i].resource, &plan->rlimits[i].value) != 0)
            child_fail(ctx, SBX_STAGE_RLIMITS);
    }
    umask(077);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        child_fail(ctx, SBX_STAGE_NO_NEW_PRIVS);
    /* After the rlimits (raising one needs CAP_SYS_RESOURCE) and before
     * Landlock and seccomp (which no_new_privs already allows). */
    if (sbx__caps_apply(&plan->caps, ctx->caps, &ctx->fail_step, &ctx->fail_index) != 0)
        child_fail(ctx, SBX_STAGE_CAPABILITIES);
    if (ctx->ruleset >= 0 && sbx__landlock_apply(ctx->ruleset) != 0)
        child_fail(ctx, SBX_STAGE_LANDLOCK);
    /* Last: from here on only calls the filter cannot deny (seccomp_filter.c). */
    if (plan->seccomp &&
        sbx__seccomp_child_apply(plan->seccomp, ctx->monitor_sock, &ctx->monitor_lost) != 0)
        child_fail(ctx, SBX_STAGE_SECCOMP);
}

static void exec_program(struct spawn_ctx *ctx)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    sbx__seccomp_child_exec(ctx->plan->seccomp, ctx->program, ctx->argv, ctx->envp);
    child_fail(ctx, SBX_STAGE_EXEC);
}

/* Confine this process and execute the program: the child itself, or, with
 * a pid namespace, the child's first child (pid 2). */
/* Not declared _Noreturn (it does not return): a sanitizer build instruments
 * every call of a noreturn function, and would warn, on this borrowed stack, at
 * each spawn. */
static int confine_and_exec(struct spawn_ctx *ctx)
{
    const struct sbx__plan *plan = ctx->plan;
    /* First, while the compiled descriptor is open: the directory opened
     * when the policy was compiled, whatever its path points to now. In a
     * mount namespace that descriptor belongs to the host's mounts: there
     * the path is entered, in the view built from safe descriptors. */
    bool view = plan->ns && (plan->ns->clone_flags & CLONE_NEWNS);
    if (ctx->workdir &&
        (ctx->workdir_fd >= 0 && !view ? fchdir(ctx->workdir_fd) : chdir(ctx->workdir)) != 0)
        child_fail(ctx, SBX_STAGE_WORKDIR);
    if (setup_fds(ctx) != 0)
        child_fail(ctx, SBX_STAGE_FDS);
    confine(ctx);
    exec_program(ctx);
    return 127;
}

static int program_main(void *arg)
{
    /* A session of its own, as without the init: it never shares the init's. */
    if (setsid() < 0)
        child_fail(arg, SBX_STAGE_PROCESS);
    return confine_and_exec(arg);
}

/* The program of a sandbox prepared ahead (sbx_prepare_ahead()): confined
 * now, it waits for its request. The host writes the program, its arguments
 * and environment into the context (this process still shares the host's
 * memory), then sends a byte per standard stream (1: its descriptor comes
 * with the message, 0: the stream is closed) and the descriptors. The host's
 * end closing instead (the sandbox is discarded) ends this process. */
static int program_ready_main(void *arg)
{
    struct spawn_ctx *ctx = arg;
    if (setsid() < 0)
        child_fail(ctx, SBX_STAGE_PROCESS);
    if (ctx->workdir && chdir(ctx->workdir) != 0) /* in the view: by path */
        child_fail(ctx, SBX_STAGE_WORKDIR);
    if (close_between(0, 3) != 0 || close_unkept(ctx) != 0)
        child_fail(ctx, SBX_STAGE_FDS);
    confine(ctx);
    ctx->waiting = 1; /* the host checks it: this memory is its own (not a copy) */
    if (write(ctx->req_sock, "w", 1) != 1) /* "waiting": the host may go on */
        _exit(127);

    char slot[3];
    int fds[3];
    _Alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(fds))];
    struct iovec iov = {.iov_base = slot, .iov_len = sizeof(slot)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    ssize_t n;
    while ((n = recvmsg(ctx->req_sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof(slot))
        _exit(127); /* discarded */
    ctx->got_request = 1;
    if (ctx->req_workdir && chdir(ctx->req_workdir) != 0)
        child_fail(ctx, SBX_STAGE_WORKDIR);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    size_t nfd = 0;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        memcpy(fds, CMSG_DATA(c), (nfd > 3 ? 3 : nfd) * sizeof(int));
    }
    int src[3];
    size_t k = 0;
    for (int i = 0; i < 3; i++)
        src[i] = slot[i] && k < nfd ? fds[k++] : -1;
    if (place_stdio(src, ctx->high_fd) != 0)
        child_fail(ctx, SBX_STAGE_FDS);
    for (int i = 0; i < 3; i++)
        if (!slot[i])
            close(i); /* a received descriptor that landed there and moved on */
    if (close_unkept(ctx) != 0)
        child_fail(ctx, SBX_STAGE_FDS);
    exec_program(ctx);
    return 127;
}

/* Prepared ahead, before the program waits: close every descriptor but the
 * init's two and those the program keeps (the host's, copied at the clone,
 * would be held open for as long as the sandbox waits). */
static int close_for_waiting(const struct spawn_ctx *ctx)
{
    int keep[SBX_IO_MAX_KEEP_FDS + 4];
    size_t n = 0;
    for (size_t k = 0; k < ctx->n_keep; k++)
        keep[n++] = ctx->keep[k].fd;
    keep[n++] = ctx->ns.status_fd;
    keep[n++] = ctx->ns.init_fd;
    for (size_t i = 1; i < n; i++) /* insertion sort: no allocation here */
        for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    int next = 0;
    for (size_t k = 0; k < n; k++) {
        if (keep[k] < next)
            continue;
        if (close_between(next, keep[k]) != 0)
            return -1;
        next = keep[k] + 1;
    }
    return close_from(next);
}

/* Pid 1 of the child's pid namespace, or the child subreaper: start the
 * program as its child (it shares this memory until it executes, as this
 * process shares the host's), then become the init. Every signal is still
 * blocked. */
static int become_init(struct spawn_ctx *ctx)
{
    _Alignas(16) char stack[CHILD_STACK_SIZE / 2];
    /* Prepared ahead, the program waits for its request before it executes,
     * and this process does not wait for it: it executes the init now, off
     * the spawn's path. The program runs on beside it, on this frame's
     * stack, which the helper thread that cloned this process keeps until
     * the host has seen the program execute or end (helper_release()). */
    bool ready = ctx->req_sock >= 0;
    if (ready && close_for_waiting(ctx) != 0)
        child_fail(ctx, SBX_STAGE_FDS);
    pid_t pid = clone(ready ? program_ready_main : program_main, stack + sizeof(stack),
                      CLONE_VM | (ready ? 0 : CLONE_VFORK) | SIGCHLD, ctx);
    if (pid < 0) {
        ctx->ns.fail_step = STEP_CLONE_PROGRAM;
        child_fail(ctx, SBX_STAGE_NAMESPACES);
    }
    /* The program's set-up failed and said why; pid 2 is a zombie. (One
     * prepared ahead says so over its request socket, which closes.) */
    if (!ready && ctx->fail_stage)
        _exit(127);

    /* The init keeps two descriptors: 3, the status pipe, and the memfd it
     * is executed from (close-on-exec). */
    int status = fcntl(ctx->ns.status_fd, F_DUPFD, 10);
    int self = fcntl(ctx->ns.init_fd, F_DUPFD_CLOEXEC, 10);
    if (status < 0 || self < 0 || dup2(status, 3) != 3 || dup3(self, 4, O_CLOEXEC) != 4 ||
        close_between(0, 3) != 0 || close_from(5) != 0) {
        ctx->ns.fail_step = STEP_EXEC_INIT;
        child_fail(ctx, SBX_STAGE_NAMESPACES);
    }
    char num[24], *p = num + sizeof(num);
    *--p = '\0';
    for (unsigned v = (unsigned)pid; p == num + sizeof(num) - 1 || v; v /= 10)
        *--p = (char)('0' + v % 10);
    char *const argv[] = {"agentsbx-init", p, ctx->reaper ? "reaper" : NULL, NULL};
    char *const envp[] = {NULL};
    syscall(SYS_execveat, 4, "", argv, envp, AT_EMPTY_PATH);
    ctx->ns.fail_step = STEP_EXEC_INIT;
    child_fail(ctx, SBX_STAGE_NAMESPACES);
}

static bool spawner_gone(struct spawn_ctx *ctx)
{
    close(ctx->ns_status_rd);
    struct pollfd pfd = {.fd = ctx->ns.status_fd, .events = POLLOUT};
    return poll(&pfd, 1, 0) < 0 || (pfd.revents & POLLERR);
}

static int child_main(void *arg)
{
    struct spawn_ctx *ctx = arg;
    const struct sbx__plan *plan = ctx->plan;

    errno = 0;
    reset_signals();
    if (setsid() < 0)
        child_fail(ctx, SBX_STAGE_PROCESS);
    /* Before anything that forks, and while the descriptors are still open. */
    int joined = ctx->cg->n ? sbx__cgroup_join(ctx->cg, &ctx->fail_index) : 0;
    if (joined < 0)
        child_fail(ctx, SBX_STAGE_CGROUP);
    /* A cgroup namespace is rooted where the clone put the child: after a
     * join, root it again at the cgroups the child is in now, so that it
     * sees "/" there and none of the host's cgroup tree (one cloned into its
     * cgroup2 cgroup and joining none is there already). */
    if (joined > 0 && plan->ns && (sbx__ns_clone_flags(&ctx->ns) & CLONE_NEWCGROUP) &&
        unshare(CLONE_NEWCGROUP) != 0) {
        ctx->ns.fail_step = STEP_CGROUP_NS;
        child_fail(ctx, SBX_STAGE_NAMESPACES);
    }
    if (plan->die_with_parent) {
        /* The subreaper init kills the tree itself when it gets this: a
         * SIGKILL would leave the descendants to the system's init. */
        if (prctl(PR_SET_PDEATHSIG, ctx->reaper ? SBX__SIG_TREE_KILL : SIGKILL) != 0)
            child_fail(ctx, SBX_STAGE_PROCESS);
        /* The spawner died before the line above? In a pid namespace the parent
         * is out of sight (getppid() is 0): the read end of the status pipe,
         * which only the spawner holds, tells instead. */
        if (plan->ns && plan->ns->init ? spawner_gone(ctx) : getppid() != ctx->parent) {
            errno = ESRCH;
            child_fail(ctx, SBX_STAGE_PROCESS);
        }
    }
    if (plan->ns) {
        if (sbx__ns_setup(&ctx->ns) != 0)
            child_fail(ctx, SBX_STAGE_NAMESPACES);
        if (plan->ns->init)
            return become_init(ctx);
    }
    if (ctx->reaper) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
            child_fail(ctx, SBX_STAGE_PROCESS);
        return become_init(ctx);
    }
    return confine_and_exec(ctx);
}

/* ---- cloning ------------------------------------------------------------------ */

static pthread_once_t fallback_once = PTHREAD_ONCE_INIT;
static bool force_fallback, force_ahead;

static void read_fallback_env(void)
{
    /* Test-only: exercise the clone(2) path on kernels that have clone3. */
    const char *v = secure_getenv("AGENTSBX_TEST_SPAWN_FALLBACK");
    force_fallback = v && strcmp(v, "1") == 0;
    /* Test-only: every spawn that can be prepared ahead is, right before
     * it is used (the suites' __ahead twins run every probe so). */
    v = secure_getenv("AGENTSBX_TEST_SPAWN_AHEAD");
    force_ahead = v && strcmp(v, "1") == 0;
}

/* Start the child; returns its pid (and *pidfd) or -errno. */
static pid_t clone_child(struct spawn_ctx *ctx, char *stack, size_t stack_size, int *pidfd)
{
    pthread_once(&fallback_once, read_fallback_env);
    uint64_t ns_flags = ctx->plan->ns ? sbx__ns_clone_flags(&ctx->ns) : 0;
    int into = ctx->cg->n ? sbx__cgroup_clone_fd(ctx->cg) : -1;
#ifdef SBX__HAVE_CLONE3_CALL
    if (!force_fallback) {
        struct clone_args args = {
            .flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | ns_flags,
            .pidfd = (uint64_t)(uintptr_t)pidfd,
            /* No SIGCHLD to the host, and a "clone child": waitpid(-1) sees it only
             * with __WALL or __WCLONE (a host that reaps so takes its status:
             * the library reports it lost, ECHILD). The clone(2) path passes 0
             * in the flags' low byte: the same. */
            .exit_signal = 0,
            .stack = (uint64_t)(uintptr_t)stack,
            .stack_size = stack_size,
        };
        if (into >= 0) { /* born in its cgroup2 cgroup: no migration (Linux 5.7) */
            args.flags |= CLONE_INTO_CGROUP;
            args.cgroup = (uint64_t)into;
        }
        long r = sbx__clone3_call(&args, sizeof(args), child_main, ctx);
        if (r >= 0 || (r != -ENOSYS && into < 0))
            return (pid_t)r;
        /* Refused with the cgroup (an older kernel, or the cgroup's own
         * refusal): the child joins it, and says why if it cannot. */
        if (into >= 0) {
            sbx__cgroup_clone_refused(ctx->cg);
            into = -1;
            args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
            args.cgroup = 0;
            r = sbx__clone3_call(&args, sizeof(args), child_main, ctx);
            if (r != -ENOSYS)
                return (pid_t)r;
        }
    }
#endif
    if (into >= 0)
        sbx__cgroup_clone_refused(ctx->cg);
    pid_t pid = clone(child_main, stack + stack_size,
                      CLONE_VM | CLONE_VFORK | CLONE_PIDFD | (int)ns_flags, ctx, pidfd);
    return pid < 0 ? -errno : pid;
}

/* ---- the parent ---------------------------------------------------------------- */

/* The program and what starts it (lib/util/program.c), once per spawn. */
static int find_program(const struct sbx__plan *plan, const char *name, struct sbx__program *prog)
{
    int r = sbx__program_resolve(name, plan->path, prog);
    if (r == -ENAMETOOLONG)
        return sbx__err_stage(SBX_STAGE_PROGRAM, r, "execve(%.64s...)", name);
    if (r < 0 && strchr(name, '/'))
        return sbx__err_stage(SBX_STAGE_PROGRAM, r, "execve(%s)", name);
    if (r < 0)
        return sbx__err_stage(SBX_STAGE_PROGRAM, r, "execve(%s): searched PATH=%s", name,
                              plan->path ? plan->path : "");
    return 0;
}

/* The sized-structure rule (child.h): at least `min` bytes (the first
 * released size), and nothing set past the `known` bytes this library knows.
 * The result is copied into `out` (`known` bytes), zero past the caller's. */
int sbx__sized_copy(void *out, size_t known, const void *in, size_t size, size_t min,
                    const char *func, const char *what)
{
    sbx__check(size >= min, "%s: %s->size is %zu, less than %zu (set it to sizeof(%s))", func, what,
               size, min, what);
    for (size_t i = known; i < size; i++)
        if (((const unsigned char *)in)[i])
            return sbx__err(-E2BIG,
                            "%s: %s has %zu bytes, of which this library (%s) knows %zu, and "
                            "byte %zu is set: a setting it cannot apply",
                            func, what, size, SBX_VERSION_STRING, known, i);
    memset(out, 0, known);
    memcpy(out, in, size < known ? size : known);
    ((size_t *)out)[0] = known;
    return 0;
}

static int check_io(const sbx_io *io)
{
    const int modes[3] = {io->stdin_mode, io->stdout_mode, io->stderr_mode};
    const int fds[3] = {io->stdin_fd, io->stdout_fd, io->stderr_fd};
    for (int i = 0; i < 3; i++) {
        sbx__check(modes[i] >= SBX_STDIO_INHERIT && modes[i] <= SBX_STDIO_FD,
                   "sbx_spawn: unknown mode %d for stream %d", modes[i], i);
        sbx__check(modes[i] != SBX_STDIO_FD || fcntl(fds[i], F_GETFD) >= 0,
                   "sbx_spawn: descriptor %d given for stream %d is not open", fds[i], i);
    }
    sbx__check(io->n_keep_fds <= SBX_IO_MAX_KEEP_FDS,
               "sbx_spawn: %zu descriptors to keep, at most %d", io->n_keep_fds,
               SBX_IO_MAX_KEEP_FDS);
    sbx__check(io->n_keep_fds == 0 || io->keep_fds, "sbx_spawn: io->keep_fds is NULL");
    for (size_t k = 0; k < io->n_keep_fds; k++)
        sbx__check(io->keep_fds[k] > 2 && fcntl(io->keep_fds[k], F_GETFD) >= 0,
                   "sbx_spawn: descriptor %d to keep is not an open descriptor above 2",
                   io->keep_fds[k]);
    return 0;
}

static int check_opts(const sbx_spawn_opts *o, const char *func)
{
    sbx__check(!o->workdir || o->workdir[0] == '/', "%s: opts->workdir '%s' is not absolute", func,
               o->workdir);
    sbx__check(!o->workdir || strlen(o->workdir) < PATH_MAX, "%s: opts->workdir is too long", func);
    size_t n = 0;
    for (const char *const *e = o->env; e && *e; e++, n++)
        sbx__check((*e)[0] && (*e)[0] != '=', "%s: opts->env entry '%s' names no variable", func,
                   *e);
    sbx__check(n <= 256, "%s: opts->env has %zu entries, at most 256", func, n);
    sbx__check(o->capture == 0 || o->capture == 1, "%s: opts->capture is %d, not 0 or 1", func,
               o->capture);
    sbx__check(o->input || o->input_len == 0, "%s: opts->input is NULL but input_len is %zu", func,
               o->input_len);
    return 0;
}

static int cmp_keep(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b; /* fd is the first member */
    return (x > y) - (x < y);
}

static void close_pipes(int pipes[3][2])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            if (pipes[i][j] >= 0)
                close(pipes[i][j]);
}

static int report_child_failure(const struct spawn_ctx *ctx, const char *program)
{
    int err = -ctx->fail_errno;
    const char *workdir = ctx->req_workdir ? ctx->req_workdir : ctx->workdir;
    switch (ctx->fail_stage) {
    case SBX_STAGE_WORKDIR:
        if (err == -ENOENT && ctx->plan->ns && ctx->plan->ns->mount_view)
            return sbx__err_stage(SBX_STAGE_WORKDIR, err,
                                  "chdir(%s): not in the child's mount view, which shows only what "
                                  "the policy grants (sbx_allow_path(), --ro DIR), or missing",
                                  workdir);
        return sbx__err_stage(SBX_STAGE_WORKDIR, err, "chdir(%s)", workdir);
    case SBX_STAGE_EXEC: return sbx__err_stage(SBX_STAGE_EXEC, err, "execve(%s)", program);
    case SBX_STAGE_FDS:
        return sbx__err_stage(SBX_STAGE_FDS, err, "setting up the child's descriptors");
    case SBX_STAGE_RLIMITS: {
        static const char *const names[] = {
            [RLIMIT_CORE] = "RLIMIT_CORE",   [RLIMIT_CPU] = "RLIMIT_CPU",
            [RLIMIT_DATA] = "RLIMIT_DATA",   [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
            [RLIMIT_FSIZE] = "RLIMIT_FSIZE", [RLIMIT_NPROC] = "RLIMIT_NPROC",
        };
        const struct rlimit *v = &ctx->plan->rlimits[ctx->fail_index].value;
        int res = ctx->plan->rlimits[ctx->fail_index].resource;
        const char *name = res >= 0 && (size_t)res < sizeof(names) / sizeof(names[0]) && names[res]
                               ? names[res]
                               : "?";
        return sbx__err_stage(SBX_STAGE_RLIMITS, err,
                              "setrlimit(%s, %llu) (above the host's hard limit?)", name,
                              (unsigned long long)v->rlim_max);
    }
    case SBX_STAGE_NO_NEW_PRIVS:
        return sbx__err_stage(SBX_STAGE_NO_NEW_PRIVS, err, "prctl(PR_SET_NO_NEW_PRIVS)");
    case SBX_STAGE_LANDLOCK:
        return sbx__err_stage(SBX_STAGE_LANDLOCK, err, "landlock_restrict_self");
    case SBX_STAGE_SECCOMP: return sbx__seccomp_report_failure(err);
    case SBX_STAGE_NAMESPACES: return sbx__ns_report(&ctx->ns, err);
    case SBX_STAGE_CAPABILITIES: return sbx__caps_report(ctx->fail_step, ctx->fail_index, err);
    case SBX_STAGE_CGROUP:
        return sbx__err_stage(SBX_STAGE_CGROUP, err,
                              "cgroup: joining %s (writing 0 to cgroup.procs)",
                              ctx->cg->cg[ctx->fail_index].path);
    default:
        return sbx__err_stage(ctx->fail_stage, err, "child set-up (%s)",
                              sbx_stage_name(ctx->fail_stage));
    }
}

static pthread_once_t subreaper_once = PTHREAD_ONCE_INIT;
static bool subreaper_ok;

static void probe_subreaper(void)
{
    subreaper_ok = access("/proc/thread-self/children", R_OK) == 0;
}

bool sbx__subreaper_available(void)
{
    pthread_once(&subreaper_once, probe_subreaper);
    return subreaper_ok;
}

int sbx_spawn(const sbx_policy *policy, const char *const *argv, const sbx_io *io, sbx_child **ret)
{
    sbx_spawn_opts opts = SBX_SPAWN_OPTS_INIT;
    opts.io = io;
    return sbx__spawn(policy, argv, &opts, 0, ret);
}

int sbx_spawn_with(const sbx_policy *policy, const char *const *argv, const sbx_spawn_opts *opts,
                   sbx_child **ret)
{
    sbx_spawn_opts o = SBX_SPAWN_OPTS_INIT;
    if (opts) {
        int r = sbx__sized_copy(&o, sizeof(o), opts, opts->size, SBX__OPTS_SIZE_0_2, __func__,
                                "sbx_spawn_opts");
        if (r < 0)
            return r;
    }
    return sbx__spawn(policy, argv, &o, 0, ret);
}

/* ---- prepare: the layers, before the clone ---------------------------------------- */

/* Run every layer's prepare, in table order; on a failure, undo the ones
 * that ran, in reverse. */
static int prepare(struct sbx__spawn *s)
{
    size_t i = 0;
    int r = 0;
    for (; sbx__layers[i]; i++)
        if (sbx__layers[i]->prepare && (r = sbx__layers[i]->prepare(s)) < 0)
            break;
    if (r == 0)
        return 0;
    while (i-- > 0)
        if (sbx__layers[i]->abort)
            sbx__layers[i]->abort(s);
    return r;
}

static void abort_all(struct sbx__spawn *s)
{
    size_t n = 0;
    while (sbx__layers[n])
        n++;
    while (n-- > 0)
        if (sbx__layers[n]->abort)
            sbx__layers[n]->abort(s);
}

static void launched_all(struct sbx__spawn *s)
{
    for (size_t i = 0; sbx__layers[i]; i++)
        if (sbx__layers[i]->launched)
            sbx__layers[i]->launched(s);
}

/* Whether entry ("NAME=VALUE") names the variable of over ("NAME=..." or "NAME"). */
static bool same_name(const char *entry, const char *over)
{
    size_t n = strcspn(over, "=");
    return strncmp(entry, over, n) == 0 && entry[n] == '=';
}

/* The proxy variables of a child behind the egress broker (egress.c): the
 * broker's address for HTTP, HTTPS and the rest (SOCKS5 with remote
 * resolution), and no exception (the child can reach nothing directly). */
#define PROXY_VARS     8
#define PROXY_VAR_SIZE 48
static const char *const proxy_names[PROXY_VARS] = {
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
};

static bool is_proxy_var(const struct sbx__spawn *s, const char *entry)
{
    for (size_t i = 0; s->proxy_port && i < PROXY_VARS; i++)
        if (same_name(entry, proxy_names[i]))
            return true;
    return false;
}

/* The child's environment: the plan's, this spawn's changes (opts->env), this
 * child's TMPDIR and its proxy variables. No allocation: envp has room for
 * all of them. */
static void child_env(const struct sbx__spawn *s, char **envp, char *tmpdir_var, size_t size,
                      char *path_var, size_t path_size, char proxy_vars[PROXY_VARS][PROXY_VAR_SIZE])
{
    const struct sbx__plan *plan = s->plan;
    const char *const *over = s->opts->env;
    size_t n = 0;
    for (size_t i = 0; i < plan->n_env; i++) {
        bool replaced = (s->tmpdir_env && strncmp(plan->envp[i], "TMPDIR=", 7) == 0) ||
                        same_name(plan->envp[i], "SBX_CAPS_FD") || /* only the library's own */
                        is_proxy_var(s, plan->envp[i]);
        for (const char *const *o = over; o && *o && !replaced; o++)
            replaced = same_name(plan->envp[i], *o);
        if (!replaced)
            envp[n++] = plan->envp[i];
    }
    for (const char *const *o = over; o && *o; o++) {
        bool later = false; /* the last change of a name wins */
        for (const char *const *p = o + 1; *p && !later; p++)
            later = strcspn(*p, "=") == strcspn(*o, "=") && strncmp(*p, *o, strcspn(*o, "=")) == 0;
        if (!later && strchr(*o, '=') && !(s->tmpdir_env && same_name("TMPDIR=", *o)) &&
            strncmp(*o, "SBX_CAPS_FD=", 12) != 0 && !is_proxy_var(s, *o))
            envp[n++] = (char *)*o;
    }
    if (s->tmpdir_env) {
        snprintf(tmpdir_var, size, "TMPDIR=%s", s->tmpdir_env);
        envp[n++] = tmpdir_var;
    }
    if (s->caps_env[0]) /* after the changes: the channel's number is the library's */
        envp[n++] = (char *)s->caps_env;
    if (plan->shim_dir) {
        /* tools with argument rules: their shims come first on PATH */
        size_t i = 0;
        while (i < n && strncmp(envp[i], "PATH=", 5) != 0)
            i++;
        snprintf(path_var, path_size, "PATH=%s:%s", plan->shim_dir,
                 i < n ? envp[i] + 5 : "/usr/local/bin:/usr/bin:/bin");
        envp[i] = path_var;
        n += i == n;
    }
    for (size_t i = 0; s->proxy_port && i < PROXY_VARS; i++) {
        const char *scheme = i % 4 == 3 ? NULL : i % 4 == 2 ? "socks5h" : "http";
        if (scheme)
            snprintf(proxy_vars[i], PROXY_VAR_SIZE, "%s=%s://127.0.0.1:%u", proxy_names[i], scheme,
                     s->proxy_port);
        else
            snprintf(proxy_vars[i], PROXY_VAR_SIZE, "%s=", proxy_names[i]);
        envp[n++] = proxy_vars[i];
    }
    envp[n] = NULL;
}

/* Keep a library descriptor open through the child's closing sweep (still
 * close-on-exec). */
static void keep_fd(struct spawn_ctx *ctx, int fd, bool inherit)
{
    ctx->keep[ctx->n_keep].fd = fd;
    ctx->keep[ctx->n_keep++].inherit = inherit;
    qsort(ctx->keep, ctx->n_keep, sizeof(ctx->keep[0]), cmp_keep);
    ctx->high_fd = ctx->keep[ctx->n_keep - 1].fd + 1;
}

/* The standard streams: the host's descriptors, or pipes (the host's ends
 * non-blocking). */
static int make_stdio(struct spawn_ctx *ctx, const sbx_io *io, int pipes[3][2])
{
    const int host_fds[3] = {io->stdin_fd, io->stdout_fd, io->stderr_fd};
    for (int i = 0; i < 3; i++) {
        if (ctx->stdio_mode[i] == SBX_STDIO_FD) {
            ctx->stdio_src[i] = host_fds[i];
        } else if (ctx->stdio_mode[i] == SBX_STDIO_PIPE) {
            if (pipe2(pipes[i], O_CLOEXEC) != 0)
                return sbx__err_stage(SBX_STAGE_CLONE, -errno, "pipe2");
            /* [0] is the read end: the child reads stdin, the host reads the others */
            int host_end = i == 0 ? 1 : 0;
            ctx->stdio_src[i] = pipes[i][1 - host_end];
            fcntl(pipes[i][host_end], F_SETFL, O_NONBLOCK);
        }
    }
    return 0;
}

/* ---- launch: the clone ------------------------------------------------------------ */

/* Clone the child with everything blocked, and let the layers close their
 * side of what the child took. Returns the pid (and *pidfd) or -errno. */
static pid_t launch(struct sbx__spawn *s, struct spawn_ctx *ctx, int *pidfd)
{
    /* Block every signal so that no host handler runs on the child's stack, and
     * keep thread cancellation from interrupting the suspended parent. */
    sigset_t all, old;
    int old_cancel;
    sigfillset(&all);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old_cancel);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    _Alignas(16) char stack[CHILD_STACK_SIZE];
    s->child->start_ns = sbx__now_ns();
    pid_t pid = clone_child(ctx, stack, sizeof(stack), pidfd);
    sbx__child_stack_released(stack, sizeof(stack));

    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_setcancelstate(old_cancel, NULL);
    launched_all(s);
    return pid;
}

/* ---- adopt: the child runs --------------------------------------------------------- */

static int adopt(struct sbx__spawn *s, const struct spawn_ctx *ctx, pid_t pid, int pidfd,
                 int pipes[3][2])
{
    const struct sbx__plan *plan = s->plan;
    sbx_child *child = s->child;
    child->pid = pid;
    child->pidfd = pidfd;
    for (int i = 0; i < 3; i++) {
        child->stdio[i] = -1;
        if (pipes[i][0] >= 0) {
            int host_end = i == 0 ? 1 : 0;
            child->stdio[i] = pipes[i][host_end];
            close(pipes[i][1 - host_end]);
            pipes[i][0] = pipes[i][1] = -1;
        }
    }
    uint64_t wall_ns = s->opts->wall_ms == SBX_UNLIMITED ? 0
                       : s->opts->wall_ms                ? s->opts->wall_ms * 1000000ull
                                                         : plan->wall_ns;
    child->layers = plan->layers;
    child->deadline_ns = wall_ns ? child->start_ns + wall_ns : 0;
    if (wall_ns)
        child->layers |= SBX_LAYER_TIMEOUT; /* the deadline is watched */
    child->cpu_limit_s = plan->cpu_limit_s;
    child->fsize_limited = plan->fsize_limited;
    memcpy(child->mechanism, plan->mechanism, sizeof(child->mechanism));
    child->tree_kill = plan->ns && plan->ns->init ? SBX_TREE_KILL_PIDNS
                       : child->cg.n              ? SBX_TREE_KILL_CGROUP
                       : s->reaper                ? SBX_TREE_KILL_SUBREAPER
                                                  : SBX_TREE_KILL_PGROUP;
    child->namespaces = plan->ns ? plan->ns->set : 0;
    memcpy(child->isolation_fallback, plan->isolation_fallback, sizeof(child->isolation_fallback));
    memcpy(child->caps, ctx->caps, sizeof(child->caps));
    child->monitor_lost = ctx->monitor_lost;
    if (plan->landlock) {
        child->landlock_abi = plan->landlock->abi;
        child->landlock_rights = plan->landlock->rights;
    }
    child->state = SBX__RUNNING;
    /* The output the library captures and the input it feeds: the event engine's. */
    if (s->opts->capture || s->opts->input) {
        int out[2] = {-1, -1}, in = -1;
        if (s->opts->capture) {
            out[0] = child->stdio[1], out[1] = child->stdio[2];
            child->stdio[1] = child->stdio[2] = -1;
        }
        if (s->opts->input) {
            in = child->stdio[0];
            child->stdio[0] = -1;
        }
        int r = sbx__engine_new(child, plan, s->opts->capture, out, s->opts->output_limit, in,
                                s->opts->input, s->opts->input_len);
        if (r < 0)
            return r;
    }
    /* The layers take what outlives the spawn; a failure reaps the child. */
    for (size_t i = 0; sbx__layers[i]; i++) {
        int r = sbx__layers[i]->adopt ? sbx__layers[i]->adopt(s) : 0;
        if (r < 0)
            return r;
    }
    return 0;
}

/* The options, checked and normalised: io by the size rule, the streams the
 * event engine reads and feeds made pipes. */
static int normalise(const sbx_spawn_opts *opts, sbx_io *io)
{
    *io = (sbx_io)SBX_IO_INIT;
    int r = opts->io ? sbx__sized_copy(io, sizeof(*io), opts->io, opts->io->size, SBX__IO_SIZE_0_1,
                                       "sbx_spawn", "sbx_io")
                     : 0;
    if (r == 0)
        r = check_io(io);
    if (r == 0)
        r = check_opts(opts, "sbx_spawn");
    if (r < 0)
        return r;
    if (opts->capture)
        io->stdout_mode = io->stderr_mode = SBX_STDIO_PIPE;
    if (opts->input)
        io->stdin_mode = SBX_STDIO_PIPE;
    struct sigaction chld;
    if (sigaction(SIGCHLD, NULL, &chld) == 0 &&
        (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT)))
        return sbx__err_stage(SBX_STAGE_CLONE, -ECHILD,
                              "sbx_spawn: SIGCHLD is ignored in this process (SIG_IGN or "
                              "SA_NOCLDWAIT), so the kernel would discard the child's exit status; "
                              "restore SIG_DFL or install a handler");
    return 0;
}

/* This spawn's own working directory (opts->workdir): opened now, without
 * following a link a child could have planted; a missing one is chdir's to
 * report. Otherwise the policy's, opened when it was compiled. */
static int open_workdir(struct sbx__spawn *s)
{
    s->workdir_fd = s->plan->workdir_fd;
    if (!s->opts->workdir)
        return 0;
    char why[PATH_MAX + 160];
    int fd = sbx__open_grant(s->opts->workdir, NULL, NULL, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err_stage(SBX_STAGE_WORKDIR, -ELOOP, "workdir %s: %s", s->opts->workdir, why);
    s->workdir_fd = fd >= 0 ? fd : -1;
    s->own_workdir_fd = fd >= 0;
    s->cwd = s->opts->workdir;
    return 0;
}

static void close_workdir(struct sbx__spawn *s)
{
    if (s->own_workdir_fd)
        close(s->workdir_fd);
    s->own_workdir_fd = false;
}

/* What the child reads: the plan, this spawn's choices and the layers' work. */
static void make_ctx(struct sbx__spawn *s, struct spawn_ctx *ctx, char **envp)
{
    const struct sbx__plan *plan = s->plan;
    const sbx_io *io = s->io;
    *ctx = (struct spawn_ctx){
        .plan = plan,
        .workdir = s->opts->workdir ? s->opts->workdir
                   : plan->workdir  ? plan->workdir
                   : s->start_root  ? "/"
                                    : NULL,
        .workdir_fd = s->workdir_fd,
        .program = s->prog.path[0],
        .argv = (char *const *)s->argv,
        .envp = envp,
        .ruleset = s->ruleset,
        .monitor_sock = s->msock[1],
        .cg = &s->child->cg,
        .stdio_mode = {io->stdin_mode, io->stdout_mode, io->stderr_mode},
        .stdio_src = {-1, -1, -1},
        .n_keep = io->n_keep_fds,
        .high_fd = 3,
        .parent = getpid(),
        .reaper = s->reaper,
        .ns = {.plan = plan->ns,
               .ruleset = s->ruleset,
               .extra = plan->ns && plan->ns->mount_view ? &s->extra : NULL,
               .cwd = s->cwd,
               .init_fd = s->init_fd,
               .status_fd = s->status_pipe[1],
               .broker_sock = s->egress_sock[1],
               .broker_port = s->proxy_port},
        .ns_status_rd = s->status_pipe[0],
        .req_sock = -1,
    };
    for (size_t k = 0; k < io->n_keep_fds; k++)
        ctx->keep[k].fd = io->keep_fds[k], ctx->keep[k].inherit = true;
    qsort(ctx->keep, ctx->n_keep, sizeof(ctx->keep[0]), cmp_keep);
    if (ctx->n_keep)
        ctx->high_fd = ctx->keep[ctx->n_keep - 1].fd + 1;
    if (s->ruleset >= 0)
        keep_fd(ctx, s->ruleset, false);
    if (s->msock[1] >= 0)
        keep_fd(ctx, s->msock[1], false);
    if (s->capsock[1] >= 0) /* inherited at its number: SBX_CAPS_FD */
        keep_fd(ctx, s->capsock[1], true);
}

/* The spawn failed before the child ran (or it has been reaped): undo it all. */
static int discard(struct sbx__spawn *s, int pipes[3][2], int r)
{
    close_pipes(pipes);
    abort_all(s); /* the child, if any, is reaped: kill stragglers, remove */
    close_workdir(s);
    free(s->child);
    return r;
}

/* The clone failed, or the child failed a step and exited: why. */
static int launch_failed(struct sbx__spawn *s, const struct spawn_ctx *ctx, pid_t pid, int pidfd)
{
    if (pid < 0)
        return s->plan->ns ? sbx__ns_clone_failed(s->plan->ns, pid)
                           : sbx__err_stage(SBX_STAGE_CLONE, pid, "clone");
    siginfo_t info;
    while (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL) < 0 && errno == EINTR)
        ;
    close(pidfd);
    return report_child_failure(ctx, s->prog.path[0]);
}

/* ---- prepared ahead (sbx_prepare_ahead()) ----------------------------------------------
 *
 * A policy that asks for it keeps one sandbox ready for its next spawn: the
 * layers prepared, the child cloned into its namespaces with its view built,
 * and the program's process confined (rlimits, capabilities, Landlock, the
 * seccomp filter) and waiting for its request. A spawn that fits it only
 * sends the program's streams, and the program executes; the next one is
 * prepared after the spawn (see struct sbx__ready's after). One that does not fit
 * (another program or working directory, kept descriptors) spawns as usual.
 *
 * The child is cloned as every child is (sharing the memory, suspending the
 * cloning thread until it executes), but by a helper thread of the library's.
 * The child clones the program's process without waiting for it, and
 * executes the init at once; the program confines itself and waits for its
 * request on a part of the helper's stack. The helper, resumed, keeps that
 * stack and runs nothing but a condition wait until the host has seen the
 * program execute or end (helper_release()): the program's calls never run
 * beside the helper's own code, whose stack and thread-local storage (errno)
 * they share. (They run beside the child's last calls before it executes
 * the init, which share them too: both only read errno after a call of
 * their own failed, so a mix-up can only blur a failure's reported errno.) That wait takes signals, so the host's credential changes
 * (glibc's setuid() signals every thread) do not wait for the sandbox; the
 * sandbox keeps the credentials it was made with, and a spawn under others
 * does not take it (its plan is stale: sbx__policy_plan()). Helper threads
 * never end (a child's parent-death signal follows the thread that cloned
 * it: the child of a prepared sandbox gets it when the process ends); an
 * idle one takes the next sandbox. */
struct sbx__ready {
    struct sbx__spawn s; /* the layers' state, until the request is adopted */
    struct spawn_ctx ctx;
    sbx_spawn_opts opts; /* the defaults, while preparing */
    sbx_io io;
    struct sbx__program found; /* the program, as find_program found it */
    bool prepared;             /* the layers prepared, the child handed to a helper */
    bool launching;            /* the helper's clone has not returned (under helper_lock) */
    bool launched;             /* the layers' launched hooks ran */
    pid_t pid;                 /* the clone's return, once it returned */
    int pidfd;                 /* written by the kernel when the child is created */
    int req;                   /* the host's end of the request socket */
    int ctx_sock;              /* the program's end, until the child has it (helper_lock) */
    int ctx_fd;                /* its number */
    struct helper *helper;     /* the helper that cloned the child (helper_lock) */
    bool layers_ready;         /* the layers' prepare ran (by the helper) */
    bool ready_seen;           /* the program said it waits (or the socket closed) */
    pid_t owner;               /* the process that prepared it */
    /* The helper starts when the child spawned before it has ended (after,
     * a pidfd the helper closes), when a spawn or a reset asks (go, an
     * eventfd kept with r's memory), or READY_AFTER_MS after the spawn: so
     * the set-up does not take the CPUs from a program starting up, never
     * holds up a spawn, and is ready again beside a program that runs on. */
    int after;
    int go;
    bool cancel; /* asked by a reset: the helper prepares nothing (__atomic) */
};

/* How long the next sandbox's set-up waits for the child spawned before it
 * to end (see struct sbx__ready): a program's start-up, mostly. */
#define READY_AFTER_MS 100

/* The helper threads. */
struct helper {
    struct helper *next;
    pthread_cond_t cond;    /* a sandbox to clone, or its program released */
    struct sbx__ready *job; /* NULL: idle */
    bool holding;           /* job's program may run on this helper's stack */
};
static pthread_mutex_t helper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t helper_done = PTHREAD_COND_INITIALIZER; /* a clone returned */
static struct helper *helpers;
static pthread_once_t helper_once = PTHREAD_ONCE_INIT;

static void helpers_after_fork(void)
{
    /* Only the forking thread lives on in the new process. */
    pthread_mutex_init(&helper_lock, NULL);
    pthread_cond_init(&helper_done, NULL);
    helpers = NULL;
}

static void helpers_init(void)
{
    pthread_atfork(NULL, NULL, helpers_after_fork);
}

/* r's layers' prepare, then the clone of its child, as launch() does, from
 * this helper's own stack. */
static void helper_prepare(struct helper *h, struct sbx__ready *r)
{
    struct sbx__spawn *s = &r->s;
    pid_t pid = 0;
    _Alignas(16) char stack[CHILD_STACK_SIZE]; /* the child's, then the waiting program's */
    if (r->after >= 0) {
        struct pollfd pfd[2] = {{.fd = r->after, .events = POLLIN},
                                {.fd = r->go, .events = POLLIN}};
        while (poll(pfd, 2, READY_AFTER_MS) < 0 && errno == EINTR)
            ;
        close(r->after);
        r->after = -1;
    }
    if (!__atomic_load_n(&r->cancel, __ATOMIC_ACQUIRE) && prepare(s) == 0) {
        r->layers_ready = true;
        make_ctx(s, &r->ctx, NULL);
        r->ctx.req_sock = r->ctx_fd;
        keep_fd(&r->ctx, r->ctx_fd, false);
        pid = clone_child(&r->ctx, stack, sizeof(stack), &r->pidfd);
    }
    pthread_mutex_lock(&helper_lock);
    if (r->ctx_sock >= 0) /* the set-up failed: the host's read of the socket ends */
        close(r->ctx_sock);
    r->ctx_sock = -1;
    r->pid = pid;
    r->launching = false;
    pthread_cond_broadcast(&helper_done);
    /* The program may still run on the stack: nothing but this wait (no
     * errno) until the host releases it. r is the host's again now. */
    for (h->holding = pid > 0; h->holding;)
        pthread_cond_wait(&h->cond, &helper_lock);
    h->job = NULL; /* idle again: the host's next sandbox may come to this one */
    pthread_mutex_unlock(&helper_lock);
    sbx__child_stack_released(stack, sizeof(stack));
}

static void *helper_main(void *arg)
{
    struct helper *h = arg;
    pthread_mutex_lock(&helper_lock);
    for (;;) {
        while (!h->job)
            pthread_cond_wait(&h->cond, &helper_lock);
        struct sbx__ready *r = h->job;
        pthread_mutex_unlock(&helper_lock);
        helper_prepare(h, r); /* r is the host's again once it returns */
        pthread_mutex_lock(&helper_lock);
    }
    return NULL;
}

/* Hand r to an idle helper (a new one if none is). Every signal is blocked
 * in the helpers: the child starts with them blocked, and no host handler
 * runs on a helper's stack. */
static int helper_start(struct sbx__ready *r)
{
    pthread_once(&helper_once, helpers_init);
    pthread_mutex_lock(&helper_lock);
    struct helper *h = helpers;
    while (h && h->job)
        h = h->next;
    if (!h) {
        pthread_mutex_unlock(&helper_lock);
        struct helper *n = calloc(1, sizeof(*n));
        pthread_attr_t attr;
        sigset_t all, old;
        pthread_t th;
        if (!n)
            return -ENOMEM;
        pthread_cond_init(&n->cond, NULL);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 512 * 1024); /* the layers' prepare, a child's stack */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int e = pthread_create(&th, &attr, helper_main, n);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (e != 0) {
            free(n);
            return -e;
        }
        pthread_mutex_lock(&helper_lock);
        n->next = helpers;
        helpers = h = n;
    }
    r->launching = true;
    r->helper = h;
    h->job = r;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&helper_lock);
    return 0;
}

/* Wait until r's clone has returned: the child executed the init, or ended. */
static void helper_wait(struct sbx__ready *r)
{
    pthread_mutex_lock(&helper_lock);
    while (r->launching)
        pthread_cond_wait(&helper_done, &helper_lock);
    pthread_mutex_unlock(&helper_lock);
}

/* After helper_wait(), once r's program has executed or ended (its end of
 * the request socket closed: it left the helper's stack before), or r's
 * child was reaped (the pid namespace's processes end before its init can
 * be): the helper may use its stack again. */
static void helper_release(struct sbx__ready *r)
{
    pthread_mutex_lock(&helper_lock);
    struct helper *h = r->helper;
    r->helper = NULL;
    if (h && h->job == r && h->holding) {
        h->holding = false;
        pthread_cond_signal(&h->cond);
    }
    pthread_mutex_unlock(&helper_lock);
}

static void program_copy(struct sbx__program *to, const struct sbx__program *from)
{
    *to = *from;
    for (size_t i = 0; i < from->n; i++)
        if (from->path[i] >= from->buf && from->path[i] < from->buf + sizeof(from->buf))
            to->path[i] = to->buf + (from->path[i] - from->buf);
}

/* A spawn's state before the layers run: nothing of theirs held yet. */
static void spawn_state(struct sbx__spawn *s, const struct sbx__plan *plan, const char *const *argv,
                        const sbx_io *io, const sbx_spawn_opts *opts,
                        const struct sbx__program *prog)
{
    *s = (struct sbx__spawn){
        .plan = plan,
        .argv = argv,
        .io = io,
        .opts = opts,
        .workdir_fd = plan->workdir_fd,
        .ruleset = -1,
        .msock = {-1, -1},
        .capsock = {-1, -1},
        .egress_sock = {-1, -1},
        .init_fd = -1,
        .status_pipe = {-1, -1},
    };
    program_copy(&s->prog, prog);
}

static bool same_program(const struct sbx__program *a, const struct sbx__program *b)
{
    if (a->n != b->n || a->err != b->err)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->path[i], b->path[i]) != 0)
            return false;
    return true;
}

/* Whether the plan can be prepared ahead: a pid namespace with the view, and
 * nothing that runs beside the child in the host (the egress broker, the
 * capability channel) or that the waiting program's last calls could trip
 * (a seccomp policy of its own, a low descriptor limit). */
static bool ready_plan_ok(const sbx_policy *policy, const struct sbx__plan *plan)
{
    if (!plan->ns || !plan->ns->init || !plan->ns->mount_view || plan->egress || plan->capchan ||
        plan->overlay || !sbx__seccomp_plain(policy))
        return false;
    for (size_t i = 0; i < plan->n_rlimits; i++)
        if (plan->rlimits[i].resource == RLIMIT_NOFILE && plan->rlimits[i].value.rlim_cur < 64)
            return false;
    return true;
}

/* Whether this spawn fits the prepared sandbox: the same program, the same
 * process. (Its working directory is checked once the sandbox waits: the
 * helper's prepare records the one the view enters.) */
static bool ready_fits(const struct sbx__ready *r, const struct sbx__plan *plan,
                       const struct sbx__program *prog)
{
    return r->prepared && r->s.plan == plan && r->owner == getpid() &&
           same_program(&r->found, prog);
}

/* The working directory the view enters is the host's of the time, when
 * neither the policy nor the spawn names one: is it still? */
static bool ready_same_cwd(const struct sbx__ready *r, const sbx_spawn_opts *opts)
{
    if (r->s.plan->workdir || opts->workdir) /* the program enters it by path */
        return true;
    char cwd[PATH_MAX];
    return getcwd(cwd, sizeof(cwd)) && strcmp(cwd, r->s.cwd_buf) == 0;
}

/* Wait for the program's word that it waits: 1, or 0 when the set-up failed
 * (the socket closed). After it, the child exists: r->pidfd is valid. */
static int ready_wait_word(struct sbx__ready *r)
{
    char byte;
    ssize_t n;
    uint64_t one = 1;
    (void)!write(r->go, &one, sizeof(one)); /* the helper starts now, if it has not */
    while ((n = recv(r->req, &byte, 1, 0)) < 0 && errno == EINTR)
        ;
    r->ready_seen = true;
    pthread_mutex_lock(&helper_lock);
    if (r->ctx_sock >= 0) /* the child has its copy: the socket closes with it */
        close(r->ctx_sock);
    r->ctx_sock = -1;
    pthread_mutex_unlock(&helper_lock);
    return n == 1;
}

/* End what is prepared and undo the layers' work; keep the memory. */
static void ready_reset(struct sbx__ready *r)
{
    if (!r->prepared)
        return;
    if (r->owner == getpid()) {
        /* Once the program waits (or the set-up failed), kill the child: its
         * clone returns, then it is reaped. A helper that has not started
         * prepares nothing. */
        __atomic_store_n(&r->cancel, true, __ATOMIC_RELEASE);
        if (!r->ready_seen)
            ready_wait_word(r);
        if (r->pidfd >= 0)
            syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
        /* A host that changed its credentials since may not kill it: the
         * waiting program ends when its request socket closes, and the init
         * with it. */
        if (r->req >= 0)
            close(r->req);
        r->req = -1;
        helper_wait(r);
        if (r->pid > 0) {
            siginfo_t info;
            while (waitid(P_PIDFD, (id_t)r->pidfd, &info, WEXITED | __WALL) < 0 && errno == EINTR)
                ;
        }
        helper_release(r);
        if (r->layers_ready && !r->launched)
            launched_all(&r->s);
        if (r->layers_ready)
            abort_all(&r->s);
    } else { /* a copy in a forked process: the parent's sandbox */
        if (r->ctx_sock >= 0)
            close(r->ctx_sock);
        if (r->after >= 0)
            close(r->after);
        r->after = -1;
    }
    if (r->pidfd >= 0)
        close(r->pidfd);
    if (r->req >= 0)
        close(r->req);
    free(r->s.child);
    r->s.child = NULL;
    r->prepared = r->launching = r->ready_seen = r->layers_ready = false;
    r->helper = NULL; /* (in a forked copy: the parent's) */
    r->pid = 0;
    r->pidfd = r->req = r->ctx_sock = -1;
}

void sbx__ready_free(struct sbx__ready *r)
{
    if (!r)
        return;
    ready_reset(r);
    if (r->go >= 0)
        close(r->go);
    free(r);
}

/* Prepare a sandbox in r (its memory made now when r is NULL): a helper
 * runs the layers' prepare and clones the child. Returns r (r->prepared
 * false when it could not be handed over), or NULL. */
static struct sbx__ready *ready_make(struct sbx__ready *r, const struct sbx__plan *plan,
                                     const struct sbx__program *prog, int after)
{
    if (!r) {
        if (!(r = calloc(1, sizeof(*r))))
            return NULL;
        r->pidfd = r->req = r->ctx_sock = r->after = -1;
        if ((r->go = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
            free(r);
            return NULL;
        }
    }
    ready_reset(r); /* one prepared for another program */
    static const char *const no_argv[] = {"", NULL};
    r->opts = (sbx_spawn_opts)SBX_SPAWN_OPTS_INIT;
    r->io = (sbx_io)SBX_IO_INIT;
    struct sbx__spawn *s = &r->s;
    spawn_state(s, plan, no_argv, &r->io, &r->opts, prog);
    program_copy(&r->found, prog);
    int sv[2];
    if (!(s->child = calloc(1, sizeof(*s->child))))
        return r;
    s->child->status_fd = s->child->pidfd = s->child->epfd = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        goto fail;
    r->req = sv[0];
    r->ctx_sock = r->ctx_fd = sv[1];
    r->pid = 0;
    r->pidfd = -1;
    r->launched = r->ready_seen = r->layers_ready = r->cancel = false;
    r->owner = getpid();
    uint64_t drained;
    (void)!read(r->go, &drained, sizeof(drained));                 /* a kick of the last one */
    r->after = after >= 0 ? fcntl(after, F_DUPFD_CLOEXEC, 3) : -1; /* -1: start now */
    /* The layers' launched hooks wait for the request: the child reads what
     * they change (the cgroup's descriptors) while it prepares. The host
     * closes its copy of the program's end once the program says it waits
     * (ready_wait_word()), the helper when the set-up failed. */
    if (helper_start(r) < 0) {
        close(sv[0]);
        close(sv[1]);
        r->req = r->ctx_sock = -1;
        if (r->after >= 0)
            close(r->after);
        r->after = -1;
        goto fail;
    }
    r->prepared = true;
    return r;
fail:
    free(s->child);
    s->child = NULL;
    return r;
}

/* ready_spawn: the sandbox was not ready, spawn as usual (its set-up failed:
 * READY_FAILED, and the policy prepares no more). */
#define READY_FALLBACK 1
#define READY_FAILED   2

/* Hand the request to the prepared sandbox, and adopt it as the child. */
static int ready_spawn(struct sbx__ready *r, const char *const *argv, const sbx_spawn_opts *opts,
                       sbx_io *io, sbx_child **ret)
{
    /* First the program's word that it waits: until then the helper may still
     * run the layers' prepare and fill the context, which this spawn's
     * choices must not touch before. */
    /* (A child that does not share this memory, as under valgrind, which
     * clones it as fork does, cannot be handed a request: a set-up failure.) */
    if ((!r->ready_seen && !ready_wait_word(r)) || !r->ctx.waiting) {
        ready_reset(r);
        return READY_FAILED;
    }
    if (!ready_same_cwd(r, opts)) { /* the host moved: the view enters another */
        ready_reset(r);
        return READY_FALLBACK;
    }
    struct sbx__spawn *s = &r->s;
    const struct sbx__plan *plan = s->plan;
    s->argv = argv;
    s->opts = opts;
    s->io = io;
    size_t n_over = 0;
    for (const char *const *e = opts->env; e && *e; e++)
        n_over++;
    char *envp[plan->n_env + n_over + 4 + PROXY_VARS];
    char tmpdir_var[sizeof("TMPDIR=") + SBX__TMPDIR_MAX];
    char path_var[plan->shim_dir ? 8192 : 1];
    char proxy_vars[PROXY_VARS][PROXY_VAR_SIZE];
    child_env(s, envp, tmpdir_var, sizeof(tmpdir_var), path_var, sizeof(path_var), proxy_vars);
    struct spawn_ctx *ctx = &r->ctx;
    ctx->program = s->prog.path[0];
    ctx->argv = (char *const *)argv;
    ctx->envp = envp;
    /* Entered by path in the view, as without preparing. (ctx->workdir is the
     * program's to read while it prepares: not written here.) */
    ctx->req_workdir = opts->workdir;
    ctx->stdio_mode[0] = io->stdin_mode;
    ctx->stdio_mode[1] = io->stdout_mode;
    ctx->stdio_mode[2] = io->stderr_mode;
    int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    int r_ = make_stdio(ctx, io, pipes);
    if (r_ < 0) {
        close_pipes(pipes);
        return r_;
    }
    /* The streams: the host's own (inherited), /dev/null, a pipe or a given descriptor. */
    char slot[3];
    int send[3], n = 0, devnull = -1;
    for (int i = 0; i < 3; i++) {
        int fd = ctx->stdio_src[i];
        if (ctx->stdio_mode[i] == SBX_STDIO_INHERIT)
            fd = fcntl(i, F_GETFD) >= 0 ? i : -1;
        else if (ctx->stdio_mode[i] == SBX_STDIO_NULL)
            fd = devnull >= 0 ? devnull : (devnull = open("/dev/null", O_RDWR | O_CLOEXEC));
        slot[i] = fd >= 0;
        if (fd >= 0)
            send[n++] = fd;
    }
    _Alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(send))] = {0};
    struct iovec iov = {.iov_base = slot, .iov_len = sizeof(slot)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n) {
        msg.msg_control = cbuf;
        msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), send, n * sizeof(int));
    }
    s->child->start_ns = sbx__now_ns();
    ssize_t sent = sendmsg(r->req, &msg, MSG_NOSIGNAL);
    if (devnull >= 0)
        close(devnull);
    /* Its end closes when the program executes (the child's just before it
     * executes the init), or when they end. */
    char byte;
    while (sent > 0 && recv(r->req, &byte, 1, 0) < 0 && errno == EINTR)
        ;
    if (sent <= 0 || !ctx->got_request) { /* it failed, or was killed, before the request */
        close_pipes(pipes);
        ready_reset(r);
        return READY_FALLBACK;
    }
    close(r->req);
    r->req = -1;
    helper_wait(r);    /* the clone returned: the init executed, or the child ended */
    helper_release(r); /* the program executed, or ended */
    launched_all(s);
    r->launched = true;
    pid_t pid = r->pid;
    int pidfd = r->pidfd;
    r->prepared = false;
    r->pid = 0;
    r->pidfd = -1;
    if (pid < 0 || ctx->fail_stage) {
        r_ = launch_failed(s, ctx, pid, pidfd);
        close_pipes(pipes);
        abort_all(s);
        free(s->child);
        s->child = NULL;
        return r_;
    }
    s->child->prepared_ahead = true;
    if ((r_ = adopt(s, ctx, pid, pidfd, pipes)) < 0) {
        abort_all(s);
        if (s->child->pidfd < 0) {
            s->child->state = SBX__REAPED;
            sbx__child_finish(s->child);
        }
        sbx_child_free(s->child);
        s->child = NULL;
        return r_;
    }
    *ret = s->child;
    s->child = NULL;
    return 0;
}

/* After a spawn: prepare the policy's next sandbox (reusing r's memory), once
 * the child just spawned (NULL: the spawn failed) has ended or the next spawn
 * asks. A failure is not the spawn's: it only turns preparing ahead off. */
static void ready_refill(sbx_policy *policy, const struct sbx__plan *plan,
                         const struct sbx__program *prog, struct sbx__ready *r,
                         const sbx_child *spawned)
{
    /* One at a time: of spawns from many threads at once, one prepares. */
    pthread_mutex_lock(&policy->lock);
    bool wanted = !policy->ready && !policy->preparing;
    if (wanted)
        policy->preparing = true;
    pthread_mutex_unlock(&policy->lock);
    if (!wanted) {
        sbx__ready_free(r);
        return;
    }
    struct sbx__err_saved saved;
    sbx__err_save(&saved);
    r = ready_make(r, plan, prog, spawned ? spawned->pidfd : -1);
    sbx__err_restore(&saved);
    pthread_mutex_lock(&policy->lock);
    policy->preparing = false;
    bool keep = r && r->prepared && !policy->ready && policy->plan == plan &&
                plan->generation == policy->generation && policy->prepare_ahead;
    if (keep)
        policy->ready = r;
    if (r && !r->prepared)
        policy->prepare_failed = true;
    pthread_mutex_unlock(&policy->lock);
    if (!keep)
        sbx__ready_free(r);
}

/* A digest of the files a spawn runs (the program, its interpreter): what
 * SBX_PREPARE_AHEAD_AUTO compares with the spawn before. Never 0. */
static uint64_t program_digest(const struct sbx__program *prog)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < prog->n; i++)
        for (const char *c = prog->path[i];; c++) {
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
            if (!*c)
                break;
        }
    return h ? h : 1;
}

/* Whether this spawn prepares the next sandbox: always with
 * SBX_PREPARE_AHEAD_ON; with _AUTO when it runs the program of the policy's
 * spawn before it. */
static bool wants_ahead(sbx_policy *policy, const struct sbx__program *prog)
{
    uint64_t h = program_digest(prog);
    pthread_mutex_lock(&policy->lock);
    bool again = policy->last_program == h;
    policy->last_program = h;
    bool on = policy->prepare_ahead == SBX_PREPARE_AHEAD_ON ||
              (policy->prepare_ahead == SBX_PREPARE_AHEAD_AUTO && again);
    pthread_mutex_unlock(&policy->lock);
    return on;
}

/* The policy's prepared sandbox, taken when this spawn fits it (NULL if
 * none). One that does not is taken too, as *stale, when the next is to be
 * prepared for this spawn (replace) and this spawn could be prepared for
 * (its kept descriptors cannot): the next is prepared in its place. */
static struct sbx__ready *ready_take(sbx_policy *policy, const struct sbx__plan *plan,
                                     const struct sbx__program *prog, const sbx_io *io,
                                     bool replace, struct sbx__ready **stale)
{
    struct sbx__ready *r = NULL;
    *stale = NULL;
    pthread_mutex_lock(&policy->lock);
    if (policy->ready && !io->n_keep_fds) {
        if (ready_fits(policy->ready, plan, prog))
            r = policy->ready;
        else if (replace)
            *stale = policy->ready;
        if (r || replace)
            policy->ready = NULL;
    }
    pthread_mutex_unlock(&policy->lock);
    return r;
}

/* Spawn: prepare (the layers, before the clone), launch (the clone; the
 * child's own steps are child_main's straight line), adopt (the child runs:
 * the handle takes what outlives the spawn). */
static int spawn_now(const struct sbx__plan *plan, const char *const *argv,
                     const sbx_spawn_opts *opts, sbx_io *iop, uint32_t flags,
                     const struct sbx__program *found, sbx_child **ret)
{
    sbx_io io = *iop;
    int r;
    struct sbx__spawn s;
    spawn_state(&s, plan, argv, &io, opts, found);
    /* A pid namespace kills the tree already. A cgroup does while the host
     * lives (the end, a timeout, a kill); when the host dies only the init's
     * parent-death signal can, so with die-with-parent the init is there too. */
    /* It needs the init's executable memfd; where there can be none (inside
     * another sandbox, vm.memfd_noexec = 2) the process group or the cgroup
     * kills the tree, and the result says which. Known before the layers'
     * prepare: the cgroup's process limit leaves room for the init. */
    s.reaper = (plan->subreaper || (flags & SBX__SPAWN_SUBREAPER)) &&
               !(plan->ns && plan->ns->init) && (!plan->cgroup || plan->die_with_parent) &&
               sbx__subreaper_available() && sbx__ns_init_fd() >= 0;
    if ((r = open_workdir(&s)) < 0)
        return r;
    int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    if (!(s.child = calloc(1, sizeof(*s.child)))) {
        close_workdir(&s);
        return sbx__err_stage(SBX_STAGE_CLONE, -ENOMEM, "sbx_spawn");
    }
    s.child->status_fd = s.child->pidfd = s.child->epfd = -1;
    if ((r = prepare(&s)) < 0) {
        close_workdir(&s);
        free(s.child);
        return r;
    }
    size_t n_over = 0;
    for (const char *const *e = opts->env; e && *e; e++)
        n_over++;
    char *envp[plan->n_env + n_over + 4 + PROXY_VARS]; /* TMPDIR, SBX_CAPS_FD, PATH, NULL */
    char tmpdir_var[sizeof("TMPDIR=") + SBX__TMPDIR_MAX];
    char path_var[plan->shim_dir ? 8192 : 1];
    char proxy_vars[PROXY_VARS][PROXY_VAR_SIZE];
    child_env(&s, envp, tmpdir_var, sizeof(tmpdir_var), path_var, sizeof(path_var), proxy_vars);
    struct spawn_ctx ctx;
    make_ctx(&s, &ctx, envp);
    if ((r = make_stdio(&ctx, &io, pipes)) < 0)
        return discard(&s, pipes, r);
    int pidfd = -1;
    pid_t pid = launch(&s, &ctx, &pidfd);
    close_workdir(&s);
    if (pid < 0 || ctx.fail_stage)
        return discard(&s, pipes, launch_failed(&s, &ctx, pid, pidfd));
    if ((r = adopt(&s, &ctx, pid, pidfd, pipes)) < 0) {
        abort_all(&s);
        if (s.child->pidfd < 0) { /* killed and reaped by the layer that failed */
            s.child->state = SBX__REAPED;
            sbx__child_finish(s.child);
        }
        sbx_child_free(s.child); /* else: killed and reaped now */
        return r;
    }
    *ret = s.child;
    return 0;
}

int sbx__spawn(const sbx_policy *cpolicy, const char *const *argv, const sbx_spawn_opts *opts,
               uint32_t flags, sbx_child **ret)
{
    sbx__check_arg(cpolicy);
    sbx__check_arg(argv);
    sbx__check_arg(ret);
    sbx__check(argv[0] && argv[0][0], "sbx_spawn: argv[0] is missing or empty");
    sbx_policy *policy = (sbx_policy *)cpolicy; /* its cache of a prepared sandbox */
    sbx_io io;
    const struct sbx__plan *plan;
    int r = normalise(opts, &io);
    if (r < 0 || (r = sbx__policy_plan(policy, &plan)) < 0)
        return r;
    struct sbx__program prog;
    if ((r = find_program(plan, argv[0], &prog)) < 0)
        return r;
    /* (flags asks for the subreaper init where no pid namespace kills the
     * tree: a prepared sandbox always has one.) */
    /* ahead: a prepared sandbox may be taken; next: this spawn prepares the next */
    bool ahead = policy->prepare_ahead && !policy->prepare_failed && ready_plan_ok(policy, plan);
    bool next = ahead && wants_ahead(policy, &prog);
    struct sbx__ready *stale = NULL;
    struct sbx__ready *ready = ahead ? ready_take(policy, plan, &prog, &io, next, &stale) : NULL;
    pthread_once(&fallback_once, read_fallback_env);
    if (!ready && force_ahead && !io.n_keep_fds && ready_plan_ok(policy, plan)) {
        struct sbx__ready *now = ready_make(NULL, plan, &prog, -1);
        r = now && now->prepared ? ready_spawn(now, argv, opts, &io, ret) : READY_FALLBACK;
        sbx__ready_free(now);
        if (r != READY_FALLBACK && r != READY_FAILED)
            return r;
    }
    if (ready) {
        r = ready_spawn(ready, argv, opts, &io, ret);
        if (r != READY_FALLBACK && r != READY_FAILED) {
            ready_refill(policy, plan, &prog, ready, r == 0 ? *ret : NULL);
            return r;
        }
        if (r == READY_FAILED) { /* as it would again: prepare no more */
            pthread_mutex_lock(&policy->lock);
            policy->prepare_failed = true;
            pthread_mutex_unlock(&policy->lock);
            next = false;
        }
        stale = ready; /* spawn as usual */
    }
    r = spawn_now(plan, argv, opts, &io, flags, &prog, ret);
    if (r == 0 && next && !io.n_keep_fds)
        ready_refill(policy, plan, &prog, stale, *ret);
    else
        sbx__ready_free(stale);
    return r;
}
