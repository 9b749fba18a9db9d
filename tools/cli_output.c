/* `agentsbx run`'s output options: redaction (--redact, --redact-env,
 * --no-redact-patterns), terminal escapes (--escape-output), --output-limit,
 * and the audit log (--audit). The child's stdout and stderr are pipes read
 * here and passed through the library's output filter (sbx_output_filter) to
 * the tool's own streams. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Output not yet written to one of the tool's streams. The tool never blocks
 * in a write while the child runs: it writes only after poll() said POLLOUT,
 * and to a pipe, socket or terminal at most PIPE_BUF bytes (which then never
 * block), so that the deadline and the seccomp monitor keep their turn. */
struct cli_outbuf {
    char *data;
    size_t off, len, cap;
    int chunked;       /* a pipe, socket or terminal: PIPE_BUF bytes per POLLOUT */
    int last;          /* the last byte written, or -1 */
    unsigned long seq; /* when it was written (write_seq), 0: never */
};

static unsigned long write_seq;

int cli_output_opts_init(struct cli_output_opts *o, int argc)
{
    memset(o, 0, sizeof(*o));
    o->escapes = CLI_ESCAPES_AUTO;
    o->audit_fd = -1;
    for (int c = 0; c < 4; c++)
        o->unicode[c] = -1;
    o->redact = calloc((size_t)argc + 1, sizeof(*o->redact));
    if (o->redact == NULL) {
        fprintf(stderr, "%s: out of memory\n", cli_progname);
        return -1;
    }
    return 0;
}

void cli_output_opts_free(struct cli_output_opts *o)
{
    free(o->redact);
    o->redact = NULL;
    if (o->audit_fd >= 0)
        close(o->audit_fd);
    o->audit_fd = -1;
    for (int i = 0; i < 2; i++) {
        sbx_output_filter_free(o->filter[i]);
        o->filter[i] = NULL;
        if (o->out[i] != NULL)
            free(o->out[i]->data);
        free(o->out[i]);
        o->out[i] = NULL;
    }
}

/* The Unicode classes and actions by name (enum sbx_unicode_class and
 * sbx_unicode_action), and the tool's default action of each class. */
static const char *const unicode_classes[4] = {"tags", "bidi", "invisible", "invalid_utf8"};
static const char *const unicode_actions[4] = {"keep", "strip", "escape", "replace"};
static const int unicode_default[4] = {SBX_UNICODE_ESCAPE, SBX_UNICODE_ESCAPE, SBX_UNICODE_KEEP,
                                       SBX_UNICODE_KEEP};

static int name_index(const char *const names[4], const char *s, size_t len)
{
    for (int i = 0; i < 4; i++)
        if (strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
            return i;
    return -1;
}

/* --unicode CLASS=ACTION */
static int parse_unicode(struct cli_output_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    int cls = eq ? name_index(unicode_classes, arg, (size_t)(eq - arg)) : -1;
    int action = eq ? name_index(unicode_actions, eq + 1, strlen(eq + 1)) : -1;
    if (cls < 0 || action < 0) {
        fprintf(stderr,
                "%s: run: --unicode: expected CLASS=ACTION (CLASS: tags, bidi, invisible or "
                "invalid_utf8; ACTION: keep, strip, escape or replace), got '%s'\n",
                cli_progname, arg);
        return -1;
    }
    o->unicode[cls] = action;
    return 1;
}

int cli_output_option(struct cli_output_opts *o, int c, const char *arg)
{
    switch (c) {
    case CLI_OPT_REDACT:
    case CLI_OPT_REDACT_ENV:
        o->redact[o->n_redact++] =
            (struct cli_op){c, c == CLI_OPT_REDACT ? "redact" : "redact-env", arg};
        return 1;
    case CLI_OPT_NO_REDACT_PATTERNS: o->no_patterns = 1; return 1;
    case CLI_OPT_ESCAPE_OUTPUT:
        if (strcmp(arg, "auto") == 0)
            o->escapes = CLI_ESCAPES_AUTO;
        else if (strcmp(arg, "always") == 0)
            o->escapes = CLI_ESCAPES_ALWAYS;
        else if (strcmp(arg, "never") == 0)
            o->escapes = CLI_ESCAPES_NEVER;
        else {
            fprintf(stderr, "%s: run: --escape-output: expected auto, always or never, got '%s'\n",
                    cli_progname, arg);
            return -1;
        }
        return 1;
    case CLI_OPT_OUTPUT_LIMIT:
        if (cli_parse_size(arg, &o->limit.value) < 0) {
            fprintf(stderr, "%s: run: --output-limit: expected a size (such as 64K), got '%s'\n",
                    cli_progname, arg);
            return -1;
        }
        o->limit.set = 1;
        o->limit.text = arg;
        return 1;
    case CLI_OPT_AUDIT: o->audit_path = arg; return 1;
    case CLI_OPT_UNICODE: return parse_unicode(o, arg);
    case CLI_OPT_AUDIT_LIMIT:
        if (cli_parse_size(arg, &o->audit_limit.value) < 0) {
            fprintf(stderr,
                    "%s: run: --audit-limit: expected a size (such as 64K) or 'unlimited', "
                    "got '%s'\n",
                    cli_progname, arg);
            return -1;
        }
        o->audit_limit.set = 1;
        o->audit_limit.text = arg;
        return 1;
    default: return 0;
    }
}

static int setup_error(const char *what, const char *name)
{
    fprintf(stderr, "%s: run: %s%s%s: %s\n", cli_progname, what, name ? " " : "", name ? name : "",
            sbx_last_error());
    return CLI_EXIT_SETUP;
}

/* Read the child's pipe only while less than this waits for our reader: a
 * stalled reader stalls the child (as a pipe would), not the tool. */
#define OUT_HIGH_WATER  (64 * 1024)
#define READS_PER_TURN  4
#define WRITES_PER_TURN 16
#define DRAIN_GRACE_NS  1000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int outbuf_append(struct cli_outbuf *b, const char *data, size_t len)
{
    if (b->off && b->off == b->len)
        b->off = b->len = 0;
    if (b->len + len > b->cap) {
        if (b->off) { /* move the unwritten part to the front first */
            memmove(b->data, b->data + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + len)
            cap *= 2;
        if (cap > b->cap) {
            char *grown = realloc(b->data, cap);
            if (grown == NULL)
                return -1;
            b->data = grown;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

static size_t outbuf_pending(const struct cli_outbuf *b)
{
    return b == NULL ? 0 : b->len - b->off;
}

/* The filters' function: the filtered bytes wait for the tool's stream of the
 * same number, up to --output-limit. */
static void to_stream(int stream, const char *data, size_t len, void *userdata)
{
    struct cli_output_opts *o = userdata;
    int i = stream - 1;
    if (o->closed[i] || o->stalled[i])
        return;
    if (o->limit.set && o->written[i] + len > o->limit.value) {
        len = (size_t)(o->limit.value - o->written[i]);
        o->truncated[i] = 1;
    }
    if (len && outbuf_append(o->out[i], data, len) < 0) {
        fprintf(stderr, "%s: out of memory for the child's output\n", cli_progname);
        o->closed[i] = 1;
        return;
    }
    o->written[i] += len;
}

/* Write what waits for stream i without blocking: 1 if more is left, 0 if
 * not, and the stream is closed when its reader is gone. */
static int flush(struct cli_output_opts *o, int i)
{
    struct cli_outbuf *b = o->out[i];
    for (int k = 0; k < WRITES_PER_TURN && outbuf_pending(b); k++) {
        if (b->chunked && k > 0) {
            struct pollfd pfd = {.fd = 1 + i, .events = POLLOUT};
            if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
                return 1;
        }
        size_t n = outbuf_pending(b);
        if (b->chunked && n > PIPE_BUF)
            n = PIPE_BUF;
        ssize_t w = write(1 + i, b->data + b->off, n);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            return 1;
        if (w <= 0) { /* the reader went away: stop the child's stream too */
            o->closed[i] = 1;
            b->off = b->len = 0;
            return 0;
        }
        b->off += (size_t)w;
        b->last = (unsigned char)b->data[b->off - 1];
        b->seq = ++write_seq;
    }
    return outbuf_pending(b) > 0;
}

void cli_output_start_line(const struct cli_output_opts *o)
{
    struct cli_outbuf *b = o->out[1];
    struct stat out, err;
    if (o->out[0] && o->out[0]->seq > (b ? b->seq : 0) && fstat(1, &out) == 0 &&
        fstat(2, &err) == 0 && out.st_dev == err.st_dev && out.st_ino == err.st_ino)
        b = o->out[0]; /* 2>&1: stderr goes on where stdout stopped */
    if (b && b->seq && b->last != '\n') {
        fputc('\n', stderr);
        b->last = '\n';
    }
}

int cli_output_apply(struct cli_output_opts *o, sbx_policy *policy)
{
    for (size_t i = 0; i < o->n_redact; i++) {
        const struct cli_op *op = &o->redact[i];
        const char *value = op->arg;
        if (op->opt == CLI_OPT_REDACT_ENV) {
            value = getenv(op->arg);
            if (value == NULL) {
                fprintf(stderr, "%s: run: --redact-env %s: the variable is not set\n", cli_progname,
                        op->arg);
                return CLI_EXIT_SETUP;
            }
            if (sbx_pass_env(policy, op->arg) < 0)
                return setup_error("--redact-env", op->arg);
        }
        if (sbx_redact_value(policy, value) < 0)
            return setup_error(op->opt == CLI_OPT_REDACT ? "--redact" : "--redact-env",
                               op->opt == CLI_OPT_REDACT ? NULL : op->arg);
    }
    if (o->no_patterns && sbx_set_redact_patterns(policy, 0) < 0)
        return setup_error("--no-redact-patterns", NULL);
    if (o->audit_limit.set && sbx_set_audit_limit(policy, o->audit_limit.value) < 0)
        return setup_error("--audit-limit", o->audit_limit.text);
    if (o->audit_path) {
        o->audit_fd = open(o->audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (o->audit_fd < 0) {
            fprintf(stderr, "%s: run: --audit %s: %s\n", cli_progname, o->audit_path,
                    strerror(errno));
            return CLI_EXIT_SETUP;
        }
        if (sbx_set_audit_fd(policy, o->audit_fd) < 0)
            return setup_error("--audit", o->audit_path);
    }
    for (int i = 0; i < 2; i++) {
        struct stat st;
        o->out[i] = calloc(1, sizeof(*o->out[i]));
        if (o->out[i] == NULL) {
            fprintf(stderr, "%s: out of memory\n", cli_progname);
            return CLI_EXIT_SETUP;
        }
        o->out[i]->chunked =
            fstat(1 + i, &st) < 0 || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(1 + i);
    }
    for (int c = 0; c < 4; c++)
        if (sbx_set_output_unicode(policy, c,
                                   o->unicode[c] >= 0 ? o->unicode[c] : unicode_default[c]) < 0)
            return setup_error("--unicode", unicode_classes[c]);
    /* One filter per stream, each with its own escape setting. */
    for (int i = 0; i < 2; i++) {
        int on =
            o->escapes == CLI_ESCAPES_ALWAYS || (o->escapes == CLI_ESCAPES_AUTO && isatty(1 + i));
        /* A pty's line editing echoes backspaces and carriage returns. */
        int mode = !on                ? SBX_ESCAPES_KEEP
                   : o->pty && i == 0 ? SBX_ESCAPES_NEUTRALISE_TERMINAL
                                      : SBX_ESCAPES_NEUTRALISE;
        if (sbx_set_output_escapes(policy, mode) < 0 ||
            sbx_output_filter_new(policy, 1 + i, to_stream, o, &o->filter[i]) < 0)
            return setup_error("output filter", NULL);
    }
    /* A reader of our output that goes away must not kill the tool: the
     * child's stream is closed instead (see cli_output_wait). The child gets
     * default dispositions from the library. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

void cli_output_io(sbx_io *io)
{
    io->stdout_mode = SBX_STDIO_PIPE;
    io->stderr_mode = SBX_STDIO_PIPE;
}

/* Close the tool's end of a child's stream. The only error, -EBADF, means it
 * is closed already: what is wanted. */
static void close_stream(sbx_child *child, int stream)
{
    int r = sbx_child_close_stdio(child, stream);
    (void)r;
}

/* The descriptor the child's stream i is read from: the pty's master for
 * stdout when there is one, else the pipe. */
static int source_fd(const struct cli_wait *w, sbx_child *child, int i)
{
    if (w->pty_fd >= 0)
        return i == 0 ? w->pty_fd : -1;
    return sbx_child_stdio_fd(child, 1 + i);
}

static void close_source(struct cli_wait *w, sbx_child *child, int i)
{
    if (w->pty_fd >= 0) {
        if (i == 0) {
            close(w->pty_fd);
            w->pty_fd = -1;
        }
        return;
    }
    close_stream(child, 1 + i);
}

/* Read a bounded amount of what the child's stream i holds, through its
 * filter: 2 if it may hold more, 1 if it is empty for now (EAGAIN), 0 at end
 * of file (or once our reader is gone; the source is closed then). */
static int pump(struct cli_output_opts *o, struct cli_wait *w, sbx_child *child, int i)
{
    char buf[16384];
    int fd = source_fd(w, child, i);
    if (fd < 0)
        return 0;
    for (int k = 0; k < READS_PER_TURN && outbuf_pending(o->out[i]) < OUT_HIGH_WATER; k++) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            if (sbx_output_filter_write(o->filter[i], buf, (size_t)n) < 0 ||
                o->closed[i]) { /* our reader is gone: so is the child's */
                close_source(w, child, i);
                return 0;
            }
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            return 1;
        close_source(w, child, i); /* end of file, or an error (EIO: the pty's slave is closed) */
        return 0;
    }
    return 2;
}

/* Relay the tool's stdin to the child (its pipe or the pty's master): read
 * only when the last read is written, write without blocking. */
static void relay_input(struct cli_wait *w, sbx_child *child, int readable, int writable)
{
    /* in_buf[in_off, in_len): to write; [in_len, in_end): read, not yet looked at. */
    if (readable && w->in_end == 0 && w->in_fd >= 0) {
        ssize_t n = read(w->in_fd, w->in_buf, sizeof(w->in_buf));
        if (n > 0) {
            w->in_off = w->in_len = 0;
            w->in_end = (size_t)n;
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            w->in_fd = -1; /* end of our input: the child's pipe sees end of file */
            if (w->pty_fd < 0)
                close_stream(child, 0);
        }
    }
    /* Take what was read up to the next interrupt or quit key: on a pty those
     * become signals, once what was typed before them is written (as a
     * terminal's would; the child has no controlling terminal to do it). */
    while (w->in_len < w->in_end) {
        int sig = w->pty_fd >= 0 ? cli_pty_key_signal((unsigned char)w->in_buf[w->in_len]) : 0;
        if (sig == 0) {
            w->in_len++;
            continue;
        }
        if (w->in_off < w->in_len)
            break; /* first the bytes before it */
        int r = sbx_child_signal(child, sig);
        (void)r; /* it has ended: nothing to interrupt */
        w->in_off = ++w->in_len;
    }
    int to = w->pty_fd >= 0 ? w->pty_fd : sbx_child_stdio_fd(child, 0);
    if (writable && w->in_len > w->in_off && to >= 0) {
        ssize_t n = write(to, w->in_buf + w->in_off, w->in_len - w->in_off);
        if (n > 0)
            w->in_off += (size_t)n;
        else if (n < 0 && errno != EINTR && errno != EAGAIN)
            w->in_off = w->in_len; /* the child's end is gone: drop it */
    }
    if (w->in_off == w->in_end)
        w->in_off = w->in_len = w->in_end = 0;
}

/* A signal the tool got: the child is killed (its end is still waited for, so
 * that the library cleans up), a window change is passed on. */
static void take_signals(struct cli_wait *w, sbx_child *child)
{
    int sig;
    while ((sig = cli_signals_take()) > 0) {
        if (sig == SIGWINCH) {
            if (w->pty_fd >= 0)
                cli_pty_winch(w->pty_fd);
            continue;
        }
        if (w->signo == 0) {
            w->signo = sig;
            int r = sbx_child_kill(child);
            (void)r; /* -ESRCH: it has ended already, as wanted */
        }
    }
}

/* After the end: take what the child's streams still hold (until they are
 * empty: the child's processes are gone), and what the filters held back, and
 * write it, by @p stop_ns (0: no bound). Past it, what is left of a stream is
 * dropped and the stream counted as truncated. */
/* After the child's end a pty's master may still say EAGAIN while what the
 * child wrote last is on its way (the kernel moves it from the slave to the
 * master in a worker): wait for it, a bounded time, until the master reports
 * the slave's hang-up (then a read gives the rest, and EIO). */
static int pty_in_flight(const struct cli_wait *w, int i)
{
    static uint64_t until; /* one run per process: at most 1 s of waiting in all */
    if (w->pty_fd < 0 || i != 0)
        return 0;
    uint64_t now = now_ns();
    if (!until)
        until = now + 1000000000ull;
    if (now >= until)
        return 0;
    struct pollfd pfd = {.fd = w->pty_fd, .events = POLLIN};
    int r;
    while ((r = poll(&pfd, 1, (int)((until - now) / 1000000) + 1)) < 0 && errno == EINTR)
        ;
    return r > 0 && (pfd.revents & (POLLIN | POLLHUP)); /* more to read, or the EIO to come */
}

static void drain(struct cli_output_opts *o, struct cli_wait *w, sbx_child *child, uint64_t stop_ns)
{
    for (;;) {
        struct pollfd pfd[3] = {{.fd = -1}, {.fd = -1}, {.fd = w->sig_fd, .events = POLLIN}};
        int busy = 0;
        for (int i = 0; i < 2; i++) {
            if (source_fd(w, child, i) >= 0 && outbuf_pending(o->out[i]) < OUT_HIGH_WATER &&
                pump(o, w, child, i) == 1 && !pty_in_flight(w, i))
                close_source(w, child, i); /* empty, and nothing is left to fill it */
            if (source_fd(w, child, i) < 0 && !o->finished[i]) {
                int r = sbx_output_filter_finish(o->filter[i]);
                (void)r; /* -EINVAL only for a NULL filter */
                o->finished[i] = 1;
            }
            if (outbuf_pending(o->out[i]) && !o->closed[i]) {
                pfd[i] = (struct pollfd){.fd = 1 + i, .events = POLLOUT};
                busy = 1;
            } else if (source_fd(w, child, i) >= 0) {
                busy = 1;
            }
        }
        if (!busy)
            return;
        if (w->signo)
            break;       /* the tool was told to end: it does not wait for a slow reader */
        int timeout = 0; /* a source with more to read: no waiting */
        if (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
            timeout = -1;
            if (stop_ns) {
                uint64_t now = now_ns();
                timeout = now >= stop_ns ? 0 : (int)((stop_ns - now + 999999) / 1000000);
            }
        }
        if (stop_ns && now_ns() >= stop_ns)
            break;
        int n = poll(pfd, 3, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && pfd[2].revents)
            take_signals(w, child);
        for (int i = 0; i < 2; i++)
            if (n > 0 && pfd[i].revents)
                flush(o, i);
    }
    /* The reader stalled past the deadline (or the tool got a signal): drop the rest. */
    for (int i = 0; i < 2; i++) {
        if (outbuf_pending(o->out[i]) || source_fd(w, child, i) >= 0) {
            o->truncated[i] = o->stalled[i] = 1;
            o->out[i]->off = o->out[i]->len = 0;
            if (source_fd(w, child, i) >= 0)
                close_source(w, child, i);
        }
        if (!o->finished[i]) {
            int r = sbx_output_filter_finish(o->filter[i]); /* into nothing: stalled */
            (void)r;
            o->finished[i] = 1;
        }
    }
}

int cli_output_wait(struct cli_output_opts *o, struct cli_wait *w, sbx_child *child,
                    sbx_result **ret)
{
    int cfd = sbx_child_fd(child);
    int64_t limit = sbx_child_timeout_ms(child);
    uint64_t deadline = limit >= 0 ? now_ns() + (uint64_t)limit * 1000000 : 0;
    int rc;
    if (cfd < 0)
        return cfd;
    for (;;) {
        int to = w->pty_fd >= 0 ? w->pty_fd : (w->in_fd >= 0 ? sbx_child_stdio_fd(child, 0) : -1);
        struct pollfd pfd[7] = {
            {.fd = cfd, .events = POLLIN},
            {.fd = -1, .events = POLLIN},
            {.fd = -1, .events = POLLIN},
            {.fd = -1, .events = POLLOUT},
            {.fd = -1, .events = POLLOUT},
            {.fd = w->sig_fd, .events = POLLIN},
            {.fd = w->in_end == 0 ? w->in_fd : -1, .events = POLLIN},
        };
        struct pollfd out_pfd = {.fd = w->in_end ? to : -1, .events = POLLOUT};
        for (int i = 0; i < 2; i++) {
            if (outbuf_pending(o->out[i]) < OUT_HIGH_WATER)
                pfd[1 + i].fd = source_fd(w, child, i);
            if (outbuf_pending(o->out[i]) && !o->closed[i])
                pfd[3 + i].fd = 1 + i;
        }
        int64_t left = sbx_child_timeout_ms(child);
        struct pollfd all[8];
        memcpy(all, pfd, sizeof(pfd));
        all[7] = out_pfd;
        int n = poll(all, 8, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0 && all[5].revents)
            take_signals(w, child);
        for (int i = 0; i < 2; i++) {
            if (n > 0 && all[3 + i].revents)
                flush(o, i);
            if (n > 0 && all[1 + i].revents)
                pump(o, w, child, i);
        }
        if (n > 0 && (all[6].revents || all[7].revents))
            relay_input(w, child, all[6].revents != 0, all[7].revents != 0);
        rc = sbx_child_poll(child, ret);
        if (rc != -EAGAIN)
            break;
    }
    /* The child has ended and its processes were killed: take what the
     * pipes still hold, and what the filters held back, and write it; with a
     * deadline, within 1 s past it at most (or the deadline itself if that
     * is later): a stalled reader does not keep the tool. */
    uint64_t stop = 0;
    if (deadline) {
        stop = now_ns() + DRAIN_GRACE_NS;
        if (deadline > stop)
            stop = deadline;
    }
    drain(o, w, child, stop);
    return rc;
}

void cli_output_report(const struct cli_output_opts *o, FILE *out)
{
    static const char *const names[2] = {"stdout", "stderr"};
    uint64_t red =
        sbx_output_filter_redactions(o->filter[0]) + sbx_output_filter_redactions(o->filter[1]);
    for (int i = 0; i < 2; i++)
        if (o->stalled[i])
            fprintf(out, "%s: %s truncated: its reader did not take it in time\n", cli_progname,
                    names[i]);
        else if (o->truncated[i])
            fprintf(out, "%s: %s truncated at %s bytes (--output-limit)\n", cli_progname, names[i],
                    o->limit.text);
    if (red)
        fprintf(out, "%s: %" PRIu64 " secret%s redacted from the output\n", cli_progname, red,
                red == 1 ? "" : "s");
}

/* "unicode":{...} of --json: the classes' counts and the tag text (both
 * streams), as in the library's result. */
static void unicode_json(const struct cli_output_opts *o, FILE *out)
{
    fprintf(out, "\"unicode\":{");
    for (int c = 0; c < 4; c++)
        fprintf(out, "\"%s\":%" PRIu64 ",", unicode_classes[c],
                sbx_output_filter_unicode(o->filter[0], c) +
                    sbx_output_filter_unicode(o->filter[1], c));
    /* what the tag characters spell: stdout's, then stderr's */
    const char *text[2];
    for (int i = 0; i < 2; i++)
        text[i] = o->filter[i] ? sbx_output_filter_unicode_tag_text(o->filter[i]) : "";
    fprintf(out, "\"tag_text\":");
    if (!text[0] || !text[1]) {
        fprintf(out, "null}");
        return;
    }
    char both[2 * SBX_UNICODE_TAG_TEXT_MAX + 2];
    snprintf(both, sizeof(both), "%s%s%s", text[0], *text[0] && *text[1] ? "\n" : "", text[1]);
    both[SBX_UNICODE_TAG_TEXT_MAX] = '\0';
    cli_json_string(out, both);
    fprintf(out, "}");
}

void cli_output_json(const struct cli_output_opts *o, FILE *out)
{
    fprintf(out,
            "\"output\":{\"stdout_bytes\":%" PRIu64 ",\"stderr_bytes\":%" PRIu64
            ",\"stdout_truncated\":%s,\"stderr_truncated\":%s,\"redactions\":%" PRIu64
            ",\"escapes\":%" PRIu64 ",",
            o->written[0], o->written[1], o->truncated[0] ? "true" : "false",
            o->truncated[1] ? "true" : "false",
            sbx_output_filter_redactions(o->filter[0]) + sbx_output_filter_redactions(o->filter[1]),
            sbx_output_filter_escapes(o->filter[0]) + sbx_output_filter_escapes(o->filter[1]));
    unicode_json(o, out);
    fprintf(out, "}");
}

void cli_output_help(FILE *out)
{
    fprintf(out,
            "Output filtering and audit:\n"
            "      --redact VALUE       replace VALUE (4 to 4096 bytes) by [REDACTED] in the\n"
            "                           child's output and the audit log\n"
            "      --redact-env NAME    pass the host's variable NAME to the child and\n"
            "                           redact its value\n"
            "      --no-redact-patterns do not redact well-known credential shapes (cloud\n"
            "                           keys, tokens, private keys, passwords; the list is\n"
            "                           in docs/output-and-audit.md): by default they are\n"
            "      --escape-output=WHEN write terminal control characters of the child's\n"
            "                           output as visible text (\\x1b): auto (the default:\n"
            "                           when that stream of %s is a terminal),\n"
            "                           always, or never\n"
            "      --output-limit SIZE  write at most SIZE bytes (K, M, G suffixes) of each\n"
            "                           stream; the rest is read and discarded\n"
            "      --audit FILE         append audit events, as JSON lines, to FILE (created\n"
            "                           with mode 0600)\n"
            "      --unicode CLASS=ACTION\n"
            "                           what to do with characters that hide text from a\n"
            "                           reader (repeatable): CLASS is tags (U+E0000..E007F),\n"
            "                           bidi (overrides, isolates, marks), invisible\n"
            "                           (zero-width and other format characters) or\n"
            "                           invalid_utf8; ACTION is keep, strip, escape\n"
            "                           (\\u{E0041}) or replace (U+FFFD). Default:\n"
            "                           tags=escape, bidi=escape, invisible=keep,\n"
            "                           invalid_utf8=keep; every class is counted (--json)\n"
            "      --audit-limit SIZE   write at most SIZE bytes of audit events per child\n"
            "                           (default 1M, at least 4K, or 'unlimited'); past it,\n"
            "                           events are counted in the exit event, not written\n",
            cli_progname);
}
