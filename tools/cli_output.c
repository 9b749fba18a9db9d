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
#include <unistd.h>

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

/* Write all of a buffer to fd; false if the reader is gone (or another error). */
static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        data += n;
        len -= (size_t)n;
    }
    return 1;
}

/* The filters' function: the filtered bytes go to the tool's stream of the
 * same number, up to --output-limit. */
static void to_stream(int stream, const char *data, size_t len, void *userdata)
{
    struct cli_output_opts *o = userdata;
    int i = stream - 1;
    if (o->closed[i])
        return;
    if (o->limit.set && o->written[i] + len > o->limit.value) {
        len = (size_t)(o->limit.value - o->written[i]);
        o->truncated[i] = 1;
    }
    if (len && !write_all(stream, data, len))
        o->closed[i] = 1; /* the reader went away: stop the child's stream below */
    o->written[i] += len;
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
    for (int c = 0; c < 4; c++)
        if (sbx_set_output_unicode(policy, c,
                                   o->unicode[c] >= 0 ? o->unicode[c] : unicode_default[c]) < 0)
            return setup_error("--unicode", unicode_classes[c]);
    /* One filter per stream, each with its own escape setting. */
    for (int i = 0; i < 2; i++) {
        int on =
            o->escapes == CLI_ESCAPES_ALWAYS || (o->escapes == CLI_ESCAPES_AUTO && isatty(1 + i));
        if (sbx_set_output_escapes(policy, on ? SBX_ESCAPES_NEUTRALISE : SBX_ESCAPES_KEEP) < 0 ||
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

/* Read what the child's stream i holds, through its filter; 0 at end of file. */
static int pump(struct cli_output_opts *o, sbx_child *child, int i)
{
    char buf[16384];
    int fd = sbx_child_stdio_fd(child, 1 + i);
    if (fd < 0)
        return 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            if (sbx_output_filter_write(o->filter[i], buf, (size_t)n) < 0)
                return 0;
            if (o->closed[i]) { /* our reader is gone: so is the child's */
                close_stream(child, 1 + i);
                return 0;
            }
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            return 1;
        close_stream(child, 1 + i); /* end of file, or an error */
        return 0;
    }
}

int cli_output_wait(struct cli_output_opts *o, sbx_child *child, sbx_result **ret)
{
    int open_[2] = {1, 1};
    int cfd = sbx_child_fd(child);
    int rc;
    if (cfd < 0)
        return cfd;
    for (;;) {
        struct pollfd pfd[3] = {
            {.fd = cfd, .events = POLLIN},
            {.fd = open_[0] ? sbx_child_stdio_fd(child, 1) : -1, .events = POLLIN},
            {.fd = open_[1] ? sbx_child_stdio_fd(child, 2) : -1, .events = POLLIN},
        };
        int64_t left = sbx_child_timeout_ms(child);
        int n = poll(pfd, 3, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return -errno;
        for (int i = 0; i < 2; i++)
            if (n > 0 && pfd[1 + i].revents)
                open_[i] = pump(o, child, i);
        rc = sbx_child_poll(child, ret);
        if (rc != -EAGAIN)
            break;
    }
    /* The child has ended and its process group was killed: take what the
     * pipes still hold, and what the filters held back. */
    for (int i = 0; i < 2; i++) {
        if (open_[i])
            pump(o, child, i);
        int r = sbx_output_filter_finish(o->filter[i]);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

void cli_output_report(const struct cli_output_opts *o, FILE *out)
{
    static const char *const names[2] = {"stdout", "stderr"};
    uint64_t red =
        sbx_output_filter_redactions(o->filter[0]) + sbx_output_filter_redactions(o->filter[1]);
    for (int i = 0; i < 2; i++)
        if (o->truncated[i])
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
