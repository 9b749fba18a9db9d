/* Supervising a child: waiting on its pidfd, the wall-clock deadline, killing
 * the whole process group, and reaping. The library installs no signal handler
 * and never waits for "any child": only for the pid it spawned. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layer.h"
#include "outfilter.h"
#include "seccomp_layer.h"

static int pidfd_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

pid_t sbx_child_pid(const sbx_child *child)
{
    sbx__check_arg(child);
    return child->pid;
}

int sbx_child_fd(sbx_child *child)
{
    sbx__check_arg(child);
    int fds[SBX__EVENT_FDS];
    if (sbx__engine_event_fds(child, fds) == 0)
        return child->pidfd; /* nothing but the end to wait for */
    if (child->epfd >= 0)
        return child->epfd;
    /* An epoll descriptor: the pidfd, the seccomp listener, the captured
     * output and the fed input. A descriptor closed later leaves it by itself. */
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event in = {.events = EPOLLIN};
    int r = epfd >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, child->pidfd, &in) == 0 ? 0 : -errno;
    int n = sbx__engine_event_fds(child, fds);
    for (int i = 0; r == 0 && i < n; i++) {
        struct epoll_event ev = {.events =
                                     sbx__engine_is_input(child, fds[i]) ? EPOLLOUT : EPOLLIN};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev) != 0)
            r = -errno;
    }
    if (r < 0) {
        if (epfd >= 0)
            close(epfd);
        return sbx__errno(r, "sbx_child_fd: epoll for the child's events");
    }
    child->epfd = epfd;
    return epfd;
}

int64_t sbx_child_timeout_ms(const sbx_child *child)
{
    if (!child || child->state != SBX__RUNNING)
        return -1;
    int64_t broker = sbx__egress_child_timeout_ms(child); /* its timers, or -1 */
    uint64_t at = child->deadline_ns, esc = sbx__child_escalate_ns(child);
    if (esc && (!at || esc < at))
        at = esc; /* a tree kill that takes too long is escalated (sbx_child_process) */
    if (!at)
        return broker;
    uint64_t now = sbx__now_ns();
    int64_t ms = now >= at ? 0 : (int64_t)((at - now + 999999) / 1000000);
    return broker >= 0 && broker < ms ? broker : ms;
}

int sbx_child_stdio_fd(const sbx_child *child, int stream)
{
    sbx__check_arg(child);
    sbx__check(stream >= 0 && stream <= 2, "%s: stream %d is not 0, 1 or 2", __func__, stream);
    if (child->stdio[stream] < 0)
        return sbx__err(-EBADF, "%s: stream %d is not a pipe or was closed", __func__, stream);
    return child->stdio[stream];
}

int sbx_child_close_stdio(sbx_child *child, int stream)
{
    sbx__check_arg(child);
    sbx__check(stream >= 0 && stream <= 2, "%s: stream %d is not 0, 1 or 2", __func__, stream);
    if (child->stdio[stream] < 0)
        return sbx__err(-EBADF, "%s: stream %d is not a pipe or was closed", __func__, stream);
    close(child->stdio[stream]);
    child->stdio[stream] = -1;
    return 0;
}

/* While the child is unreaped its pid, and so its process group id, cannot be
 * reused: signalling -pid reaches only the child's own group. */
void sbx__child_kill_all(sbx_child *child)
{
    if (child->state != SBX__RUNNING)
        return;
    if (child->tree_kill == SBX_TREE_KILL_SUBREAPER && !child->tree_kill_escalated) {
        uint64_t now = sbx__now_ns();
        if (!child->tree_kill_sent_ns) {
            /* The init kills everything beneath it, then reports and exits; a
             * SIGKILL of its group would kill it first and free the escapees. */
            child->tree_kill_sent_ns = now;
            pidfd_signal(child->pidfd, SIGCONT);
            pidfd_signal(child->pidfd, SBX__SIG_TREE_KILL);
            return;
        }
        if (now < child->tree_kill_sent_ns + SBX__KILL_GRACE_NS)
            return;
        /* The init did not end in time: what is left of its group dies with it. */
        child->tree_kill_escalated = true;
    }
    kill(-child->pid, SIGKILL);
    pidfd_signal(child->pidfd, SIGKILL);
    for (size_t i = 0; sbx__layers[i]; i++) /* what left the process group (the cgroup) */
        if (sbx__layers[i]->kill)
            sbx__layers[i]->kill(child);
}

uint64_t sbx__child_escalate_ns(const sbx_child *child)
{
    if (child->state != SBX__RUNNING || !child->tree_kill_sent_ns || child->tree_kill_escalated)
        return 0;
    return child->tree_kill_sent_ns + SBX__KILL_GRACE_NS;
}

void sbx__child_await_end(sbx_child *child)
{
    struct pollfd pfd = {.fd = child->pidfd, .events = POLLIN};
    for (;;) {
        uint64_t at = sbx__child_escalate_ns(child);
        int ms = -1;
        if (at) {
            uint64_t now = sbx__now_ns();
            ms = now >= at ? 0 : (int)((at - now + 999999) / 1000000);
        }
        int r = poll(&pfd, 1, ms);
        if (r > 0 || (r < 0 && errno != EINTR && errno != ENOMEM))
            return;
        if (r == 0)
            sbx__child_kill_all(child); /* escalates: the next wait is unbounded */
    }
}

int sbx_child_signal(sbx_child *child, int sig)
{
    sbx__check_arg(child);
    sbx__check(sig > 0 && sig < _NSIG, "%s: %d is not a signal number", __func__, sig);
    if (child->state != SBX__RUNNING)
        return 0;
    if (child->tree_kill == SBX_TREE_KILL_SUBREAPER &&
        (sig == SIGKILL || sig == SBX__SIG_TREE_KILL))
        sig = SBX__SIG_TREE_KILL; /* the init passes nothing on: it kills the tree */
    if (pidfd_signal(child->pidfd, sig) != 0 && errno != ESRCH)
        return sbx__errno(-errno, "pidfd_send_signal(%d, %d)", child->pid, sig);
    return 0;
}

int sbx_child_kill(sbx_child *child)
{
    sbx__check_arg(child);
    if (child->state != SBX__RUNNING)
        return 0;
    if (child->reason == SBX__END_NATURAL)
        child->reason = SBX__END_KILLED;
    sbx__child_kill_all(child);
    return 0;
}

/* The main process has exited (or been killed): kill what is left of its
 * process group, then reap it. */
void sbx__child_reap(sbx_child *child)
{
    if (child->tree_kill != SBX_TREE_KILL_SUBREAPER) /* the init killed its tree already */
        kill(-child->pid, SIGKILL);
    for (;;) {
        pid_t r = wait4(child->pid, &child->wstatus, __WALL, &child->usage);
        if (r == child->pid)
            break;
        if (r < 0 && errno != EINTR) {
            /* ECHILD: the host reaped it (waitpid(-1), or SIGCHLD ignored). */
            child->state = SBX__LOST;
            break;
        }
    }
    child->end_ns = sbx__now_ns();
    if (child->status_fd >= 0) {
        /* A pid namespace: that was its init; the program's own status came
         * through the pipe, unless the init was killed first (timeout, kill). */
        int status;
        if (read(child->status_fd, &status, sizeof(status)) == (ssize_t)sizeof(status) &&
            child->state == SBX__RUNNING)
            child->wstatus = status;
        close(child->status_fd);
        child->status_fd = -1;
    }
    if (child->state == SBX__RUNNING)
        child->state = SBX__REAPED;
    if (child->state == SBX__REAPED)
        child->end_status = sbx__child_status(child);
    sbx__child_finish(child);
}

void sbx__child_finish(sbx_child *child)
{
    /* cgroups emptied and removed, the TMPDIR removed, the audit's last events */
    for (size_t i = 0; sbx__layers[i]; i++)
        if (sbx__layers[i]->finish)
            sbx__layers[i]->finish(child);
}

void sbx__child_expire(sbx_child *child)
{
    child->reason = SBX__END_TIMEOUT;
    sbx__child_kill_all(child);
}

static int take_result(sbx_child *child, sbx_result **ret)
{
    if (child->state == SBX__LOST)
        return sbx__err(-ECHILD,
                        "child %d was reaped outside the library (waitpid(-1) or a SIGCHLD "
                        "handler in the host, or SIGCHLD set to SIG_IGN): its exit status is lost",
                        child->pid);
    int r = sbx__result_new(child, ret);
    if (r == 0)
        child->state = SBX__TAKEN;
    return r;
}

static int check_takeable(const sbx_child *child, sbx_result **ret, const char *func)
{
    sbx__check(child != NULL, "%s: child is NULL", func);
    sbx__check(ret != NULL, "%s: ret is NULL", func);
    if (child->state == SBX__TAKEN)
        return sbx__err(-EALREADY, "%s: the result of child %d was already taken", func,
                        child->pid);
    return 0;
}

int sbx_child_process(sbx_child *child)
{
    sbx__check_arg(child);
    if (child->state == SBX__TAKEN)
        return 1;
    return sbx__child_step(child);
}

int sbx_child_wait(sbx_child *child, sbx_result **ret)
{
    int r = check_takeable(child, ret, __func__);
    if (r < 0)
        return r;
    while (sbx__child_step(child) == 0)
        if ((r = sbx__child_block(child, -1)) < 0) {
            /* cannot supervise: do not leave it running */
            if (child->reason == SBX__END_NATURAL)
                child->reason = SBX__END_KILLED;
            sbx__child_kill_all(child);
        }
    return take_result(child, ret);
}

int sbx_child_poll(sbx_child *child, sbx_result **ret)
{
    int r = check_takeable(child, ret, __func__);
    if (r < 0)
        return r;
    if (sbx__child_step(child) == 0)
        return -EAGAIN;
    return take_result(child, ret);
}

void sbx_child_free(sbx_child *child)
{
    if (!child)
        return;
    if (child->state == SBX__RUNNING && child->pidfd >= 0) {
        sbx__child_kill_all(child);
        sbx__child_await_end(child);
        sbx__child_reap(child);
    }
    for (int i = 0; i < 3; i++)
        if (child->stdio[i] >= 0)
            close(child->stdio[i]);
    sbx__monitor_free(child);
    sbx__capchan_free(child);
    sbx__engine_free(child);
    sbx__unicode_report_free(child->unicode);
    sbx__overlay_child_free(child);
    sbx__net_report_free(child->net);
    free(child->start_note);
    if (child->epfd >= 0)
        close(child->epfd);
    if (child->status_fd >= 0)
        close(child->status_fd);
    if (child->pidfd >= 0)
        close(child->pidfd);
    free(child);
}
