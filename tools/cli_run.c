/* `agentsbx run`: run one program confined, with the tool's standard streams,
 * and exit with its status the way timeout(1) and env(1) do. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <agentsbx/agentsbx.h>

struct run_opts {
    struct cli_policy_opts policy;
    struct cli_output_opts output; /* cli_output.c */
    int json;
    int quiet;
    int diagnose;              /* --diagnose: sbx_set_diagnose() */
    int stdin_mode;            /* CLI_STDIN_* (cli_pty.c) */
    const char **capabilities; /* --capability NAME=COMMAND, in argv */
    size_t n_capabilities;
    char **argv; /* the program and its arguments */
};

enum {
    OPT_JSON = CLI_OPT_POLICY_END,
    OPT_QUIET,
    OPT_STDIN,
    OPT_CAPABILITY,
    OPT_DIAGNOSE,
};

static const struct option run_options[] = {
    CLI_POLICY_OPTIONS,
    CLI_OUTPUT_OPTIONS,
    {"json", no_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"stdin", required_argument, NULL, OPT_STDIN},
    {"capability", required_argument, NULL, OPT_CAPABILITY},
    {"diagnose", no_argument, NULL, OPT_DIAGNOSE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void cli_run_help(FILE *out)
{
    fprintf(out,
            "Usage: %s run [OPTION]... [--] PROGRAM [ARG]...\n"
            "\n"
            "Run PROGRAM confined, on the standard streams of %s, and exit with its\n"
            "status. A PROGRAM with a '/' is used as it is; a bare name is searched in the\n"
            "child's PATH (/usr/local/bin:/usr/bin:/bin unless --env or --pass-env sets\n"
            "PATH). The '--' is needed only when PROGRAM starts with '-'.\n"
            "\n",
            cli_progname, cli_progname);
    cli_policy_help(out);
    fputc('\n', out);
    cli_output_help(out);
    fprintf(out,
            "\n"
            "Host operations (docs/capabilities.md):\n"
            "      --capability NAME=COMMAND\n"
            "                           let the child call operation NAME (`agentsbx call\n"
            "                           NAME JSON` inside, or SBX_CAPS_FD): each call runs\n"
            "                           COMMAND with /bin/sh in the host, NOT confined, the\n"
            "                           call's JSON arguments on its stdin and SBX_CALL_OP\n"
            "                           set; what it prints (JSON) is the result, a non-zero\n"
            "                           exit a failure (its stderr's first line the reason);\n"
            "                           30 s at most per call (repeatable)\n"
            "\n"
            "Output:\n"
            "      --json               after the child ends, print one JSON object that\n"
            "                           describes the result (or the set-up failure) on\n"
            "                           stderr's last line, instead of the messages below\n"
            "      --quiet              print no messages of %s's own on stderr (the\n"
            "                           --json object and command-line errors still print)\n"
            "      --stdin WHEN         the child's standard input: auto (the default: when\n"
            "                           stdin and stdout are terminals, a pseudo-terminal\n"
            "                           of its own, relayed, its escapes neutralised;\n"
            "                           else stdin as it is), tty (stdin as it is, even a\n"
            "                           terminal: unsafe, the child can drive it and\n"
            "                           change its mode), null (/dev/null), or pipe\n"
            "                           (stdin forwarded through a pipe)\n"
            "      --diagnose           also name the file opens, connects and binds\n"
            "                           Landlock denies, with the options that would\n"
            "                           allow them (each such call of the child waits\n"
            "                           for %s: slower)\n"
            "  -h, --help               show this help and exit\n"
            "\n"
            "Exit status:\n"
            "  N        the child exited with status N\n"
            "  128+N    the child died of signal N (also for --cpu: SIGXCPU or SIGKILL,\n"
            "           and --fsize: SIGXFSZ)\n"
            "  124      --timeout fired\n"
            "  125      the command line is wrong, or the sandbox could not be set up\n"
            "  126      PROGRAM was found but could not be executed\n"
            "  127      PROGRAM was not found\n"
            "  128+9    --max-violations or --violation-rate killed the child\n"
            "  128+N    %s got signal N (SIGINT, SIGTERM, SIGHUP, or SIGTERM when\n"
            "           its caller died): it killed the child and waited for its end\n"
            "Unless --quiet or --json, a child ended by a limit or the timeout is reported\n"
            "on stderr (\"%s: timed out after 2.000 s\"), and so are the system calls the\n"
            "child was denied, in one line (\"%s: 2 denied system calls: ptrace (EPERM),\n"
            "bpf (EPERM)\"), routine probes of libraries apart (\"1 denied probe (benign)\"),\n"
            "and the programs it could not execute, with the options that would allow\n"
            "them (\"%s: 1 exec denied: /usr/bin/uname (not granted); to allow: --tool\n"
            "uname\"); with --diagnose, the accesses denied (\"%s: 1 access denied:\n"
            "/data/in.csv (read); to allow: --ro /data\"); with --json they are in the\n"
            "object (\"violations\", \"exec_denials\", \"access_denials\").\n",
            cli_progname, cli_progname, cli_progname, cli_progname, cli_progname, cli_progname,
            cli_progname);
}

/* Messages of the tool itself about the run (not command-line errors). */
static void note(const struct run_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const struct run_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (o->quiet || o->json)
        return;
    cli_output_start_line(&o->output);
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli_progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Parse the command line into @p o. Returns -1 to go on, or an exit status. */
static int parse_run(int argc, char **argv, struct run_opts *o)
{
    int c, idx = 0;

    /* '+': stop at PROGRAM, so that its own options stay its own. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", run_options, &idx)) != -1) {
        switch (c) {
        case 'h': cli_run_help(stdout); return 0;
        case OPT_JSON: o->json = 1; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_CAPABILITY: o->capabilities[o->n_capabilities++] = optarg; break;
        case OPT_DIAGNOSE: o->diagnose = 1; break;
        case OPT_STDIN:
            o->stdin_mode = cli_stdin_parse(optarg);
            if (o->stdin_mode < 0)
                return CLI_EXIT_SETUP;
            break;
        default:
            if (c >= CLI_OPT_REDACT && c <= CLI_OPT_AUDIT_LIMIT) {
                int r = cli_output_option(&o->output, c, optarg);
                if (r > 0)
                    break;
                if (r < 0)
                    return CLI_EXIT_SETUP;
            }
            if (c >= CLI_OPT_WORKDIR && c < CLI_OPT_POLICY_END) {
                int r = cli_policy_option(&o->policy, c, run_options[idx].name, optarg);
                if (r > 0)
                    break;
                if (r < 0)
                    return CLI_EXIT_SETUP;
            }
            cli_option_error("run", c, argv);
            fprintf(stderr, "Try '%s run --help'.\n", cli_progname);
            return CLI_EXIT_SETUP;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: run: missing PROGRAM\nTry '%s run --help'.\n", cli_progname,
                cli_progname);
        return CLI_EXIT_SETUP;
    }
    o->argv = argv + optind;
    return -1;
}

/* A failure as one JSON object on stderr; @p stage may be NULL. */
static void print_failure_json(const char *status, const char *stage, int rc, const char *msg)
{
    fprintf(stderr, "{\"status\":");
    cli_json_string(stderr, status);
    if (stage != NULL) {
        fprintf(stderr, ",\"stage\":");
        cli_json_string(stderr, stage);
    }
    fprintf(stderr, ",\"errno\":");
    cli_json_string(stderr, sbx_errname(rc));
    fprintf(stderr, ",\"error\":");
    cli_json_string(stderr, msg);
    fprintf(stderr, "}\n");
}

/* A failed sbx_spawn(): report it and choose the exit status. */
static int spawn_failed(const struct run_opts *o, int rc)
{
    char msg[PATH_MAX + 1024];
    int stage = sbx_last_error_stage();
    int program = stage == SBX_STAGE_PROGRAM || stage == SBX_STAGE_EXEC;
    int status = CLI_EXIT_SETUP;

    /* Copy the message first: any library call may replace it. */
    snprintf(msg, sizeof(msg), "%s", sbx_last_error());
    if (msg[0] == '\0')
        snprintf(msg, sizeof(msg), "%s: %s", sbx_stage_name(stage), sbx_strerror(rc));

    /* As env(1): not found, or found and not executable. ENOTDIR is "not found"
     * too: a component of the path is not a directory (execvp(3) agrees). */
    if (program && (rc == -ENOENT || rc == -ENOTDIR))
        status = CLI_EXIT_NOT_FOUND;
    else if (stage == SBX_STAGE_EXEC)
        status = CLI_EXIT_CANNOT_EXEC;
    else if (stage == SBX_STAGE_PROGRAM &&
             (rc == -EACCES || rc == -ENOEXEC || rc == -EPERM || rc == -EISDIR))
        status = CLI_EXIT_CANNOT_EXEC;

    if (o->json)
        print_failure_json("setup_failed", sbx_stage_name(stage), rc, msg);
    note(o, "%s", msg);
    return status;
}

/* Print the result as JSON on stderr, with the "output" object of cli_output.c. */
static void print_json(const struct run_opts *o, const sbx_result *r)
{
    char small[1024];
    char *buf = small;
    int n = sbx_result_to_json(r, small, sizeof(small));

    if (n >= (int)sizeof(small)) {
        buf = malloc((size_t)n + 1);
        if (buf == NULL || sbx_result_to_json(r, buf, (size_t)n + 1) != n) {
            free(buf);
            buf = NULL;
        }
    }
    if (n < 0 || buf == NULL) {
        fprintf(stderr, "{\"status\":\"unknown\",\"error\":\"sbx_result_to_json failed\"}\n");
        return;
    }
    fprintf(stderr, "%.*s,", n - 1, buf); /* without its closing brace */
    cli_output_json(&o->output, stderr);
    cli_overlay_json(r, stderr);
    fprintf(stderr, "}\n");
    if (buf != small)
        free(buf);
}

/* 128 + the signal that ended the child, or 128 + @p fallback if none is reported. */
static int signal_status(const sbx_result *r, int fallback)
{
    int sig = sbx_result_signal(r);
    return 128 + (sig > 0 ? sig : fallback);
}

/* One line on the denied system calls, if any: "agentsbx: 3 denied system
 * calls: ptrace (EPERM), socket x2 (EPERM)", by kind (a call and its errno)
 * in order of first appearance; past the 32 kinds the result keeps, "...".
 * Benign probes (sbx_violation::benign) get a line of their own: "agentsbx:
 * 1 denied probe (benign): socket (EPERM)". */
static void violations_line(const struct run_opts *o, const sbx_result *r, int benign)
{
    uint64_t count = benign ? sbx_result_violations_benign(r)
                            : sbx_result_violation_count(r) - sbx_result_violations_benign(r);
    uint64_t listed = 0;
    char line[1024] = "";
    size_t used = 0;

    if (count == 0)
        return;
    for (size_t i = 0; i < sbx_result_violation_kinds(r) && used < sizeof(line); i++) {
        sbx_violation v = {.size = sizeof(v)};
        uint64_t n = 0;
        if (sbx_result_violation_kind(r, i, &v, &n) < 0)
            break;
        if (v.benign != benign)
            continue;
        char times[24] = "";
        if (n > 1)
            snprintf(times, sizeof(times), " x%" PRIu64, n);
        used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s%s (%s)",
                                 listed ? ", " : "", v.syscall, times, sbx_errname(v.error));
        listed += n;
    }
    if (benign)
        note(o, "%" PRIu64 " denied probe%s (benign): %s%s", count, count == 1 ? "" : "s", line,
             count > listed ? ", ..." : "");
    else
        note(o, "%" PRIu64 " denied system call%s: %s%s", count, count == 1 ? "" : "s", line,
             count > listed ? ", ..." : "");
}

static void violations_summary(const struct run_opts *o, const sbx_result *r)
{
    violations_line(o, r, 0);
    violations_line(o, r, 1);
}

/* One line on the denied execs, if any, with the options that would allow
 * them: "agentsbx: 2 execs denied: /usr/bin/uname (not granted), /tmp/a.out
 * (noexec mount); to allow: --tool uname; run /tmp/a.out from a --rx
 * directory (the private /tmp and /dev/shm do not execute)". */
static void exec_denials_summary(const struct run_opts *o, const sbx_result *r)
{
    uint64_t count = sbx_result_exec_denial_count(r), listed = 0;
    char line[1024] = "", tools[512] = "";
    size_t used = 0, tused = 0;
    bool noexec = false;

    if (count == 0)
        return;
    for (size_t i = 0; i < sbx_result_exec_denials(r) && used < sizeof(line); i++) {
        sbx_exec_denial d = {.size = sizeof(d)};
        if (sbx_result_exec_denial(r, i, &d) < 0)
            break;
        listed += d.count;
        char times[24] = "";
        if (d.count > 1)
            snprintf(times, sizeof(times), " x%" PRIu64, d.count);
        used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s%s (%s)", i ? ", " : "",
                                 d.path, times, sbx_exec_denied_name(d.reason));
        /* One --tool per program: its name when it is in a system bin
         * directory (a shell tries each PATH entry), else its path. */
        const char *base = strrchr(d.path, '/');
        static const char *const bins[] = {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/",
                                           "/usr/local/bin/"};
        bool in_bin = false;
        for (size_t b = 0; base && b < sizeof(bins) / sizeof(bins[0]); b++)
            in_bin |= (size_t)(base + 1 - d.path) == strlen(bins[b]) &&
                      strncmp(d.path, bins[b], strlen(bins[b])) == 0;
        /* A noexec mount outside the system's directories (the private /tmp):
         * no grant helps there. In them (the view without Landlock), --tool
         * binds the program executable. */
        if (d.reason == SBX_EXEC_DENIED_NOEXEC_MOUNT && !in_bin) {
            noexec = true;
            continue;
        }
        base = in_bin ? base + 1 : d.path;
        char opt[300];
        if (d.path[0] == '/' || in_bin)
            snprintf(opt, sizeof(opt), " --tool %s", base);
        else /* relative to the child's directory: --tool takes a name or an absolute path */
            snprintf(opt, sizeof(opt), " --rx DIR (of %s)", d.path);
        size_t olen = strlen(opt);
        bool dup = false;
        for (const char *at = tools; (at = strstr(at, opt)) != NULL; at += olen)
            if (at[olen] == '\0' || at[olen] == ' ')
                dup = true;
        if (!dup && tused < sizeof(tools))
            tused += (size_t)snprintf(tools + tused, sizeof(tools) - tused, "%s", opt);
    }
    note(o, "%" PRIu64 " exec%s denied: %s%s; to allow:%s%s%s", count, count == 1 ? "" : "s", line,
         count > listed ? ", ..." : "", tools, noexec && tused ? ";" : "",
         noexec ? " run it from a --rx directory (the private /tmp and /dev/shm are noexec)" : "");
}

/* Append " OPT ARG" to opts[size] (at *used) unless it is there already. */
static void add_option(char *opts, size_t size, size_t *used, const char *opt, const char *arg)
{
    char one[PATH_MAX + 32];
    snprintf(one, sizeof(one), " %s %s", opt, arg);
    size_t len = strlen(one);
    for (const char *at = opts; (at = strstr(at, one)) != NULL; at += len)
        if (at[len] == '\0' || at[len] == ' ')
            return;
    if (*used < size)
        *used += (size_t)snprintf(opts + *used, size - *used, "%s", one);
}

/* One line on the accesses Landlock denied (--diagnose), with the options
 * that would allow them: "agentsbx: 2 accesses denied: /data/a.csv (read),
 * connect to port 443; to allow: --ro /data --connect 443". */
static void access_denials_summary(const struct run_opts *o, const sbx_result *r)
{
    uint64_t count = sbx_result_access_denial_count(r), listed = 0;
    char line[1024] = "", opts[1024] = "";
    size_t used = 0, oused = 0;

    if (count == 0)
        return;
    for (size_t i = 0; i < sbx_result_access_denials(r) && used < sizeof(line); i++) {
        sbx_access_denial d = {.size = sizeof(d)};
        if (sbx_result_access_denial(r, i, &d) < 0)
            break;
        listed += d.count;
        char times[24] = "", port[16];
        if (d.count > 1)
            snprintf(times, sizeof(times), " x%" PRIu64, d.count);
        if (d.kind != SBX_ACCESS_FILE) {
            const char *what = d.kind == SBX_ACCESS_BIND ? "bind" : "connect";
            used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s to port %d%s",
                                     i ? ", " : "", what, d.port, times);
            snprintf(port, sizeof(port), "%d", d.port);
            add_option(opts, sizeof(opts), &oused,
                       d.kind == SBX_ACCESS_BIND ? "--bind" : "--connect", port);
            continue;
        }
        const char *right = d.missing & SBX_FS_READ   ? "read"
                            : d.missing & SBX_FS_EXEC ? "exec"
                                                      : "write";
        used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s%s (%s)", i ? ", " : "",
                                 d.path, times, right);
        const char *opt = d.missing & ~(SBX_FS_READ | SBX_FS_EXEC) ? "--rw"
                          : d.missing & SBX_FS_EXEC                ? "--rx"
                                                                   : "--ro";
        add_option(opts, sizeof(opts), &oused, opt, d.dir);
    }
    note(o, "%" PRIu64 " access%s denied: %s%s; to allow:%s", count, count == 1 ? "" : "es", line,
         count > listed ? ", ..." : "", opts);
}

/* Report how the child ended and choose the exit status. */
static int child_ended(const struct run_opts *o, const sbx_result *r)
{
    int status = sbx_result_status(r);

    if (o->json) {
        cli_output_start_line(&o->output);
        print_json(o, r);
    }
    violations_summary(o, r);
    exec_denials_summary(o, r);
    access_denials_summary(o, r);
    if (sbx_result_workdir_note(r))
        note(o, "%s", sbx_result_workdir_note(r));
    /* a limit reached in the tree while the main process went on */
    if (sbx_result_limit_hit(r, SBX_LIMIT_MEMORY) && status != SBX_STATUS_MEMORY_LIMIT)
        note(o, "memory limit reached: the OOM killer killed a process of the child");
    if (sbx_result_limit_hit(r, SBX_LIMIT_PROCESSES))
        note(o, "process limit reached: a fork of the child was refused");
    if (!o->quiet && !o->json)
        cli_output_report(&o->output, stderr);
    switch (status) {
    case SBX_STATUS_EXITED: return sbx_result_exit_code(r);
    case SBX_STATUS_SIGNALED: return signal_status(r, SIGKILL);
    case SBX_STATUS_TIMED_OUT: {
        uint64_t ms =
            o->policy.timeout.set ? o->policy.timeout.value : sbx_result_wall_ns(r) / 1000000;
        note(o, "timed out after %" PRIu64 ".%03" PRIu64 " s", ms / 1000, ms % 1000);
        return CLI_EXIT_TIMED_OUT;
    }
    case SBX_STATUS_CPU_LIMIT: note(o, "CPU limit reached"); return signal_status(r, SIGXCPU);
    case SBX_STATUS_FILE_SIZE_LIMIT:
        note(o, "file size limit reached");
        return signal_status(r, SIGXFSZ);
    case SBX_STATUS_MEMORY_LIMIT: note(o, "memory limit reached"); return signal_status(r, SIGKILL);
    case SBX_STATUS_KILLED: note(o, "killed"); return signal_status(r, SIGKILL);
    case SBX_STATUS_NETWORK_LIMIT:
        note(o, "network quota spent (%s)", sbx_result_network_quota(r));
        return signal_status(r, SIGKILL);
    case SBX_STATUS_VIOLATION:
        /* The limit kills at exactly its count; fewer calls mean the rate did. */
        if (o->policy.max_violations.set &&
            sbx_result_violation_count(r) >= o->policy.max_violations.value)
            note(o, "killed after %" PRIu64 " denied system calls (--max-violations)",
                 sbx_result_violation_count(r));
        else
            note(o,
                 "killed after %" PRIu64 " denied system calls, too many in one second "
                 "(--violation-rate)",
                 sbx_result_violation_count(r));
        return signal_status(r, SIGKILL);
    default:
        note(o, "the child ended with an unknown status %d (%s)", status, sbx_status_name(status));
        return sbx_result_signal(r) > 0 ? signal_status(r, SIGKILL) : CLI_EXIT_SETUP;
    }
}

int cli_run_main(int argc, char **argv)
{
    struct run_opts o = {0};
    sbx_policy *policy = NULL;
    sbx_child *child = NULL;
    sbx_result *result = NULL;
    int rc, status;
    struct cli_wait w = {.sig_fd = -1, .in_fd = -1, .pty_fd = -1};

    sbx_io io = SBX_IO_INIT;

    if (cli_policy_opts_init(&o.policy, argc) < 0)
        return CLI_EXIT_SETUP;
    if (cli_output_opts_init(&o.output, argc) < 0 ||
        !(o.capabilities = calloc((size_t)argc, sizeof(*o.capabilities)))) {
        cli_policy_opts_free(&o.policy);
        cli_output_opts_free(&o.output);
        return CLI_EXIT_SETUP;
    }
    status = parse_run(argc, argv, &o);
    if (status >= 0)
        goto out;
    status = cli_policy_build(&o.policy, &policy);
    if (status != 0)
        goto out;
    for (size_t i = 0; i < o.n_capabilities; i++)
        if (cli_capability_add(policy, o.capabilities[i]) < 0) {
            status = CLI_EXIT_SETUP;
            goto out;
        }
    /* The wait below services the child all along: each denied exec is named. */
    if ((rc = sbx_set_exec_reporting(policy, 1)) < 0) {
        note(&o, "%s", sbx_last_error());
        status = CLI_EXIT_SETUP;
        goto out;
    }

    if (o.diagnose && (rc = sbx_set_diagnose(policy, 1)) < 0) {
        note(&o, "%s", sbx_last_error());
        status = CLI_EXIT_SETUP;
        goto out;
    }

    if (!o.policy.workdir && (rc = cli_grant_cwd(policy)) < 0) {
        fprintf(stderr, "%s: run: granting the current directory: %s\n", cli_progname,
                sbx_last_error());
        status = CLI_EXIT_SETUP;
        goto out;
    }
    o.output.pty = cli_stdin_wants_pty(o.stdin_mode);
    status = cli_output_apply(&o.output, policy);
    if (status != 0)
        goto out;

    cli_output_io(&io);
    status = CLI_EXIT_SETUP;
    if (cli_signals_init() < 0)
        goto out;
    w.sig_fd = cli_signals_fd();
    status = cli_stdin_prepare(o.stdin_mode, &io, &w);
    if (status != 0)
        goto out;
    rc = sbx_spawn(policy, (const char *const *)o.argv, &io, &child);
    if (rc < 0) {
        status = spawn_failed(&o, rc);
        goto out;
    }
    cli_stdin_started(&w);
    rc = cli_output_wait(&o.output, &w, child, &result);
    cli_stdin_restore(&w); /* before any message */
    if (rc < 0) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", sbx_last_error());
        if (o.json) {
            cli_output_start_line(&o.output);
            print_failure_json("wait_failed", NULL, rc, msg);
        }
        note(&o, "waiting for %s: %s", o.argv[0], msg);
        status = CLI_EXIT_SETUP;
        goto out;
    }
    status = child_ended(&o, result);

out:
    cli_stdin_restore(&w);
    sbx_result_free(result);
    sbx_child_free(child); /* its TMPDIR and cgroups are gone now */
    sbx_policy_free(policy);
    cli_policy_opts_free(&o.policy);
    cli_output_opts_free(&o.output);
    free(o.capabilities);
    if (w.signo == 0)
        w.signo = cli_signals_take(); /* one that came before the loop, or after */
    while (w.signo == SIGWINCH)
        w.signo = cli_signals_take();
    if (w.signo > 0)
        cli_signals_reraise(w.signo);
    return status;
}
