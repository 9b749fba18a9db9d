/* The event engine: one per child. Everything a running child needs from its
 * host goes through one non-blocking step, sbx_child_process():
 *
 *   - the seccomp listener: denied calls are answered (in bounded batches), and
 *     a child past its violation limit or rate is killed;
 *   - the output the library captures (sbx_run(), sbx_spawn_with() with
 *     capture): read in bounded amounts, through the output filter, into the
 *     result (up to the output limit) and the policy's output callback;
 *   - the input the library feeds (opts->input), as the pipe takes it;
 *   - the wall-clock deadline: the tree is killed when it passes;
 *   - the end: when the main process is gone, what is left is killed, the
 *     pipes are drained (bounded), and the child is reaped.
 *
 * sbx_child_wait(), sbx_child_poll(), sbx_run(), the supervisor and the
 * bindings all drive it; a host with a loop of its own polls sbx_child_fd()
 * and calls sbx_child_process() when it is readable or when
 * sbx_child_timeout_ms() has passed. EINTR and the listener's hang-up are
 * handled here, once. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"
#include "outfilter.h"
#include "seccomp_layer.h"

/* Reads per captured stream in one step: a flood cannot keep the engine
 * from its deadline. After the end, the drain takes at most this much more,
 * and, when the child had a deadline, at most this long (a slow output
 * callback must not stretch the wall-clock limit by a pipe's worth of calls). */
#define READS_PER_STEP 4
#define READ_SIZE      16384
#define DRAIN_MAX      (1u << 20)
#define DRAIN_GRACE_NS 1000000000ull

struct capture {
    int fd; /* the pipe's read end; -1 once at end of file */
    char *buf;
    size_t len, cap, limit;
    bool truncated;
    int stream;                   /* 1 or 2 */
    struct sbx__outcfg *cfg;      /* a reference */
    struct sbx__outfilter filter; /* used when the settings change anything */
    bool filtering;
};

struct sbx__engine {
    struct capture cap[2];
    bool capturing;
    int in_fd; /* the stdin pipe being fed, or -1 */
    const char *in;
    size_t in_left;
};

/* ---- capture -------------------------------------------------------------------- */

/* Keep filtered bytes up to the limit; the output callback sees exactly what is kept. */
static void capture_keep(void *ctx, const char *data, size_t len)
{
    struct capture *c = ctx;
    size_t keep = len;
    if (c->len + keep > c->limit) {
        keep = c->limit - c->len;
        c->truncated = true;
    }
    if (keep == 0)
        return;
    if (c->len + keep + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + keep + 1)
            cap *= 2;
        if (cap > c->limit + 1)
            cap = c->limit + 1;
        char *grown = realloc(c->buf, cap);
        if (!grown) { /* keep draining so the child never blocks */
            c->truncated = true;
            return;
        }
        c->buf = grown;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, keep);
    c->len += keep;
    c->buf[c->len] = '\0';
    if (c->cfg->output_fn)
        c->cfg->output_fn(c->stream, data, keep, c->cfg->output_ud);
}

/* Read at most `budget` bytes from the stream into its capture, and none
 * once the monotonic clock reaches `stop_ns` (0: no such bound); closes the
 * pipe at end of file. */
static void capture_read(struct capture *c, size_t budget, uint64_t stop_ns)
{
    char scratch[READ_SIZE];
    size_t used = 0;
    while (c->fd >= 0 && budget && !(stop_ns && sbx__now_ns() >= stop_ns)) {
        ssize_t n = read(c->fd, scratch, sizeof(scratch) < budget ? sizeof(scratch) : budget);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                close(c->fd); /* end of file, or an error */
                c->fd = -1;
            }
            break;
        }
        if ((size_t)n > used)
            used = (size_t)n;
        budget -= (size_t)n;
        if (c->filtering)
            sbx__outfilter_write(&c->filter, scratch, (size_t)n);
        else
            capture_keep(c, scratch, (size_t)n);
    }
    explicit_bzero(scratch, used); /* raw output: it may hold secrets */
}

/* Write to a pipe whose reader may be gone without raising SIGPIPE in the host. */
static ssize_t write_nosigpipe(int fd, const void *data, size_t len)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EPIPE && !was_pending) {
        int saved = errno;
        const struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
        errno = saved;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return n;
}

static void close_input(struct sbx__engine *e)
{
    if (e->in_fd >= 0)
        close(e->in_fd);
    e->in_fd = -1;
}

static void feed_input(struct sbx__engine *e)
{
    if (e->in_fd < 0)
        return;
    ssize_t w =
        e->in_left ? write_nosigpipe(e->in_fd, e->in, e->in_left < 65536 ? e->in_left : 65536) : 0;
    if (w > 0) {
        e->in += w;
        e->in_left -= (size_t)w;
    }
    if ((w < 0 && errno != EAGAIN && errno != EINTR) || e->in_left == 0)
        close_input(e); /* all of it, or the reader is gone: the child sees end of file */
}

/* ---- setting up (spawn.c) ---------------------------------------------------------- */

int sbx__engine_new(sbx_child *child, const struct sbx__plan *plan, bool capture, int out_fd[2],
                    uint64_t output_limit, int in_fd, const void *input, size_t input_len)
{
    struct sbx__engine *e = calloc(1, sizeof(*e));
    if (!e)
        return sbx__errno(-ENOMEM, "sbx_spawn: the event engine");
    e->in_fd = in_fd;
    e->in = input;
    e->in_left = input_len;
    e->capturing = capture;
    for (int i = 0; i < 2; i++) {
        struct capture *c = &e->cap[i];
        c->fd = capture ? out_fd[i] : -1;
        c->stream = 1 + i;
        c->limit = output_limit ? output_limit : plan->output_limit;
        c->cfg = sbx__outcfg_ref(plan->output);
        c->filtering = capture && sbx__outcfg_active(plan->output);
        if (c->filtering) {
            int r = sbx__outfilter_init(&c->filter, c->cfg, c->cfg->escapes, capture_keep, c);
            if (r < 0) {
                c->filtering = false;
                child->engine = e;
                sbx__engine_free(child);
                return r;
            }
        }
    }
    child->engine = e;
    if (e->in_fd >= 0 && e->in_left == 0)
        close_input(e); /* empty input: end of file at once */
    return 0;
}

void sbx__engine_free(sbx_child *child)
{
    struct sbx__engine *e = child->engine;
    if (!e)
        return;
    for (int i = 0; i < 2; i++) {
        struct capture *c = &e->cap[i];
        if (c->fd >= 0)
            close(c->fd);
        free(c->buf);
        if (c->filtering)
            sbx__outfilter_destroy(&c->filter);
        sbx__outcfg_unref(c->cfg);
    }
    close_input(e);
    free(e);
    child->engine = NULL;
}

int sbx__engine_take(sbx_child *child, sbx_result *res)
{
    struct sbx__engine *e = child->engine;
    if (!e || !e->capturing)
        return 0;
    for (int i = 0; i < 2; i++) {
        struct capture *c = &e->cap[i];
        if (!c->buf && !(c->buf = calloc(1, 1))) /* an empty capture is "", never NULL */
            return -ENOMEM;
        res->out[i] = c->buf;
        res->out_len[i] = c->len;
        res->truncated[i] = c->truncated;
        res->redactions += c->filter.redactions;
        res->escapes += c->filter.escaped;
        c->buf = NULL;
    }
    if (e->cap[0].filtering && !child->unicode)
        return -ENOMEM; /* end() could not count */
    res->unicode = child->unicode;
    child->unicode = NULL;
    return 0;
}

/* ---- the step ------------------------------------------------------------------------ */

/* The descriptors to wait on (pidfd first); returns how many. */
static int pollfds(const sbx_child *child, struct pollfd pfd[SBX__EVENT_FDS + 1])
{
    const struct sbx__engine *e = child->engine;
    int n = 0;
    pfd[n++] = (struct pollfd){.fd = child->pidfd, .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = sbx__monitor_fd(child), .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = sbx__capchan_fd(child), .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = sbx__egress_child_fd(child), .events = POLLIN};
    if (e) {
        for (int i = 0; i < 2; i++)
            pfd[n++] = (struct pollfd){.fd = e->cap[i].fd, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = e->in_fd, .events = POLLOUT};
    }
    return n;
}

/* Whether the main process has ended (its pidfd is readable). */
static bool main_ended(const sbx_child *child)
{
    struct pollfd pfd = {.fd = child->pidfd, .events = POLLIN};
    while (poll(&pfd, 1, 0) < 0)
        if (errno != EINTR)
            return true; /* cannot tell: do not leave it running unwatched */
    return pfd.revents != 0;
}

/* The main process ended (or was killed): what is left is killed, the output
 * drained (bounded) and flushed through the filters, the child reaped. */
static void end(sbx_child *child)
{
    sbx__child_kill_all(child);
    struct sbx__engine *e = child->engine;
    if (e) {
        close_input(e);
        uint64_t stop = child->deadline_ns ? sbx__now_ns() + DRAIN_GRACE_NS : 0;
        for (int i = 0; i < 2; i++) {
            capture_read(&e->cap[i], DRAIN_MAX, stop);
            if (e->cap[i].filtering)
                sbx__outfilter_finish(&e->cap[i].filter); /* what was held back at the end */
        }
        for (int i = 0; i < 2; i++) /* for the audit exit event and the result */
            if (e->cap[i].filtering &&
                sbx__unicode_report_add(&child->unicode, &e->cap[i].filter) < 0)
                break;
    }
    sbx__child_reap(child);
}

int sbx__child_step(sbx_child *child)
{
    if (child->state != SBX__RUNNING)
        return 1;
    int mon = sbx__monitor_service(child);
    if (mon & SBX__MONITOR_KILL)
        sbx__child_kill_all(child); /* past its violation limit or rate */
    else
        sbx__capchan_service(child); /* host operations the child calls */
    if (sbx__egress_child_step(child) && child->reason == SBX__END_NATURAL) {
        child->reason = SBX__END_NETWORK_LIMIT; /* a quota of the egress broker */
        sbx__child_kill_all(child);
    }
    struct sbx__engine *e = child->engine;
    if (e) {
        for (int i = 0; i < 2; i++)
            capture_read(&e->cap[i], READS_PER_STEP * READ_SIZE, child->deadline_ns);
        feed_input(e);
    }
    if (mon & SBX__MONITOR_HUNG_UP) {
        /* Every process under the filter is gone, the main one too: its pidfd
         * turns readable a moment later. */
        struct pollfd pfd = {.fd = child->pidfd, .events = POLLIN};
        while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
            ;
    }
    if (main_ended(child)) {
        end(child);
        return 1;
    }
    uint64_t esc = sbx__child_escalate_ns(child);
    if (esc && sbx__now_ns() >= esc) {
        /* a tree kill (violation limit, sbx_child_kill) the init did not finish */
        sbx__child_kill_all(child);
        sbx__child_await_end(child);
        end(child);
        return 1;
    }
    if (child->deadline_ns && sbx__now_ns() >= child->deadline_ns) {
        if (child->reason == SBX__END_NATURAL)
            child->reason = SBX__END_TIMEOUT;
        sbx__child_kill_all(child);
        sbx__child_await_end(child); /* SIGKILL: a moment */
        end(child);
        return 1;
    }
    return 0;
}

int sbx__child_block(sbx_child *child, int timeout_ms)
{
    struct pollfd pfd[SBX__EVENT_FDS + 1];
    int n = pollfds(child, pfd);
    int64_t left = sbx_child_timeout_ms(child);
    if (left >= 0 && (timeout_ms < 0 || left < timeout_ms))
        timeout_ms = left > INT32_MAX ? INT32_MAX : (int)left;
    int r = poll(pfd, (nfds_t)n, timeout_ms);
    return r < 0 && errno != EINTR ? -errno : 0;
}

int sbx__engine_event_fds(const sbx_child *child, int fds[SBX__EVENT_FDS])
{
    const struct sbx__engine *e = child->engine;
    int n = 0;
    if (sbx__monitor_fd(child) >= 0)
        fds[n++] = sbx__monitor_fd(child);
    if (sbx__capchan_fd(child) >= 0)
        fds[n++] = sbx__capchan_fd(child);
    if (sbx__egress_child_fd(child) >= 0)
        fds[n++] = sbx__egress_child_fd(child);
    if (e) {
        for (int i = 0; i < 2; i++)
            if (e->cap[i].fd >= 0)
                fds[n++] = e->cap[i].fd;
        if (e->in_fd >= 0)
            fds[n++] = e->in_fd;
    }
    return n;
}

bool sbx__engine_is_input(const sbx_child *child, int fd)
{
    return child->engine && child->engine->in_fd == fd;
}
