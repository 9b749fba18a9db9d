/* sbx_run: spawn, feed standard input, capture bounded output, wait. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "outfilter.h"
#include "seccomp_layer.h"

struct capture {
    char *buf;
    size_t len, cap, limit;
    bool truncated;
    int stream;                   /* 1 or 2 */
    struct sbx__outcfg *cfg;      /* a reference */
    struct sbx__outfilter filter; /* used when the settings change anything */
    bool filtering;
};

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

/* Read what is available on fd into c; returns false at end of file or error. */
static bool capture_read(int fd, struct capture *c)
{
    char scratch[16384];
    size_t used = 0;
    bool more;
    for (;;) {
        ssize_t n = read(fd, scratch, sizeof(scratch));
        if (n == 0) {
            more = false;
            break;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            more = errno == EAGAIN;
            break;
        }
        if ((size_t)n > used)
            used = (size_t)n;
        if (c->filtering)
            sbx__outfilter_write(&c->filter, scratch, (size_t)n);
        else
            capture_keep(c, scratch, (size_t)n);
    }
    explicit_bzero(scratch, used); /* raw output: it may hold secrets */
    return more;
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

static void captures_free(struct capture cap[2])
{
    for (int i = 0; i < 2; i++) {
        free(cap[i].buf);
        cap[i].buf = NULL;
        if (cap[i].filtering)
            sbx__outfilter_destroy(&cap[i].filter);
        cap[i].filtering = false;
        sbx__outcfg_unref(cap[i].cfg);
        cap[i].cfg = NULL;
    }
}

static int captures_init(struct capture cap[2], const struct sbx__plan *plan)
{
    memset(cap, 0, 2 * sizeof(*cap));
    for (int i = 0; i < 2; i++) {
        cap[i].limit = plan->output_limit;
        cap[i].stream = 1 + i;
        cap[i].cfg = sbx__outcfg_ref(plan->output);
        cap[i].filtering = sbx__outcfg_active(plan->output);
        if (cap[i].filtering) {
            int r = sbx__outfilter_init(&cap[i].filter, cap[i].cfg, cap[i].cfg->escapes,
                                        capture_keep, &cap[i]);
            if (r < 0) {
                cap[i].filtering = false;
                captures_free(cap);
                return r;
            }
        }
    }
    return 0;
}

static void close_stdin(sbx_child *child)
{
    if (child->stdio[0] >= 0) {
        close(child->stdio[0]);
        child->stdio[0] = -1;
    }
}

int sbx_run(const sbx_policy *policy, const char *const *argv, const void *input, size_t input_len,
            sbx_result **ret)
{
    sbx__check_arg(policy);
    sbx__check_arg(argv);
    sbx__check_arg(ret);
    sbx__check(input != NULL || input_len == 0, "sbx_run: input is NULL but input_len is %zu",
               input_len);
    sbx__check(argv[0] && argv[0][0], "sbx_run: argv[0] is missing or empty");
    const struct sbx__plan *plan;
    int r = sbx__policy_plan(policy, &plan);
    if (r < 0)
        return r;
    struct capture cap[2];
    r = captures_init(cap, plan);
    if (r < 0)
        return r;
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = input ? SBX_STDIO_PIPE : SBX_STDIO_NULL;
    io.stdout_mode = SBX_STDIO_PIPE;
    io.stderr_mode = SBX_STDIO_PIPE;
    sbx_child *child;
    /* No survivor, in any configuration: the subreaper init when neither a
     * pid namespace nor a cgroup kills the tree. */
    r = sbx__spawn(policy, argv, &io, SBX__SPAWN_SUBREAPER, &child);
    if (r < 0) {
        captures_free(cap);
        return r;
    }

    const char *in = input;
    size_t in_left = input_len;
    if (input && in_left == 0)
        close_stdin(child);

    bool open_out[2] = {true, true};
    bool ended = false;
    while (!ended) {
        struct pollfd pfd[5] = {{.fd = child->pidfd, .events = POLLIN},
                                {.fd = open_out[0] ? child->stdio[1] : -1, .events = POLLIN},
                                {.fd = open_out[1] ? child->stdio[2] : -1, .events = POLLIN},
                                {.fd = child->stdio[0], .events = POLLOUT},
                                {.fd = sbx__monitor_fd(child), .events = POLLIN}};
        int64_t left = sbx_child_timeout_ms(child);
        int n = poll(pfd, 5, left > INT32_MAX ? INT32_MAX : (int)left);
        if (n > 0 && pfd[4].revents)
            if (sbx__monitor_service(child) & SBX__MONITOR_KILL) /* calls wait for an answer */
                sbx__child_kill_all(child);
        if (n < 0 && errno != EINTR) {
            child->reason = SBX__END_KILLED; /* cannot supervise: do not leave it running */
            break;
        }
        for (int i = 0; i < 2; i++)
            if (n > 0 && pfd[1 + i].revents)
                open_out[i] = capture_read(pfd[1 + i].fd, &cap[i]);
        if (n > 0 && pfd[3].revents) {
            ssize_t w =
                pfd[3].revents & POLLOUT ? write_nosigpipe(child->stdio[0], in, in_left) : -1;
            if (w > 0) {
                in += w;
                in_left -= (size_t)w;
            }
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_left == 0)
                close_stdin(child);
        }
        ended = n > 0 && pfd[0].revents;
        if (!ended && sbx_child_timeout_ms(child) == 0) {
            child->reason = SBX__END_TIMEOUT;
            break;
        }
    }
    /* The main process ended or its time is up: stop the rest of its group so
     * that nothing writes any more, then take what the pipes still hold. */
    sbx__child_kill_all(child);
    for (int i = 0; i < 2; i++) {
        if (open_out[i])
            capture_read(child->stdio[1 + i], &cap[i]);
        if (cap[i].filtering)
            sbx__outfilter_finish(&cap[i].filter); /* what was held back at the end */
    }

    sbx_result *res;
    r = sbx_child_wait(child, &res);
    sbx_child_free(child);
    if (r < 0) {
        captures_free(cap);
        return r;
    }
    for (int i = 0; i < 2; i++) {
        res->out[i] = cap[i].buf;
        res->out_len[i] = cap[i].len;
        res->truncated[i] = cap[i].truncated;
        res->redactions += cap[i].filter.redactions;
        res->escapes += cap[i].filter.escaped;
        cap[i].buf = NULL;
    }
    captures_free(cap);
    *ret = res;
    return 0;
}
