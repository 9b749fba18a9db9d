/* Internal declarations shared by the files of the agentsbx command-line tool.
 * The tool is a thin layer over the public API in <agentsbx/agentsbx.h>. */
#ifndef AGENTSBX_CLI_H
#define AGENTSBX_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <agentsbx/agentsbx.h>

/* Exit statuses, as timeout(1) and env(1) use them. */
#define CLI_EXIT_TIMED_OUT   124 /* the wall-clock limit fired */
#define CLI_EXIT_SETUP       125 /* bad command line, or the sandbox could not be set up */
#define CLI_EXIT_CANNOT_EXEC 126 /* the program was found but could not be executed */
#define CLI_EXIT_NOT_FOUND   127 /* the program was not found */

/* One subcommand: `agentsbx NAME ...`. A new subcommand is one more entry in
 * the table of agentsbx.c. */
struct cli_command {
    const char *name;    /* as typed on the command line */
    const char *summary; /* one line for `agentsbx --help` */
    /* Runs the subcommand; argv[0] is the subcommand's name. Returns the exit status. */
    int (*run)(int argc, char **argv);
    /* Prints the subcommand's help to @p out. */
    void (*help)(FILE *out);
};

/* Subcommands (cli_run.c, cli_check.c). */
int cli_run_main(int argc, char **argv);
void cli_run_help(FILE *out);
int cli_call_main(int argc, char **argv);
void cli_call_help(FILE *out);
/* `run --capability NAME=COMMAND` (cli_call.c): 0, or -1 (reported). */
int cli_capability_add(sbx_policy *policy, const char *spec);
int cli_check_main(int argc, char **argv);
void cli_check_help(FILE *out);
/* `agentsbx overlay diff|apply|discard` (cli_overlay.c). */
int cli_overlay_main(int argc, char **argv);
void cli_overlay_help(FILE *out);
/* --overlay DIR[:UPPER]: 0, a negative errno from the library, or a positive
 * errno from this tool (reported). */
int cli_overlay_apply(const char *arg, sbx_policy *p);
/* The "overlay" member of `run --json` (with its leading comma), if the child had overlays. */
void cli_overlay_json(const sbx_result *r, FILE *out);
/* `agentsbx learn` (cli_learn.c). */
int cli_learn_main(int argc, char **argv);
void cli_learn_help(FILE *out);
/* `agentsbx policy show` (cli_show.c). */
int cli_show_main(int argc, char **argv);
void cli_show_help(FILE *out);

/* ---- Policy options (cli_policy.c) ---------------------------------------
 * Options that build a policy, for any subcommand that needs one: splice
 * CLI_POLICY_OPTIONS into its getopt_long() table, pass each option to
 * cli_policy_option(), then call cli_policy_build(). */

/* getopt_long() values of the policy options; a subcommand's own long options
 * use values from CLI_OPT_POLICY_END on. */
enum {
    CLI_OPT_WORKDIR = 256,
    CLI_OPT_ENV,
    CLI_OPT_PASS_ENV,
    CLI_OPT_ALLOW_READ,
    CLI_OPT_ALLOW_WRITE,
    CLI_OPT_ALLOW_EXEC,
    CLI_OPT_ALLOW_TOOL,
    CLI_OPT_ALLOW_CONNECT,
    CLI_OPT_ALLOW_BIND,
    CLI_OPT_ALLOW_NETWORK,
    CLI_OPT_NO_PRIVATE_TMP,
    CLI_OPT_TIMEOUT,
    CLI_OPT_CPU,
    CLI_OPT_MEMORY,
    CLI_OPT_FILES,
    CLI_OPT_FSIZE,
    CLI_OPT_PROCS,
    CLI_OPT_BEST_EFFORT,
    CLI_OPT_DENY_SYSCALL,
    CLI_OPT_ALLOW_SYSCALL,
    CLI_OPT_SYSCALL_ALLOWLIST,
    CLI_OPT_MAX_VIOLATIONS,
    CLI_OPT_VIOLATION_RATE,
    CLI_OPT_CGROUP,
    CLI_OPT_CGROUP_PARENT,
    CLI_OPT_UNSHARE,
    CLI_OPT_ISOLATION,
    CLI_OPT_PROFILE,     /* --profile NAME|FILE */
    CLI_OPT_POLICY_FILE, /* --policy FILE */
    CLI_OPT_CPU_RATE,    /* --cpu-rate CPUS */
    CLI_OPT_CAP_KEEP,    /* --cap-keep NAME */
    CLI_OPT_UNIX_SOCKET, /* --unix-socket PATH */
    CLI_OPT_DENY_READ,   /* --deny-read PATH */
    CLI_OPT_DENY_WRITE,  /* --deny-write PATH */
    CLI_OPT_PROTECT,     /* --protect NAME */
    CLI_OPT_UNPROTECT,   /* --unprotect NAME */
    CLI_OPT_TMPFS,       /* --tmpfs PATH[:SIZE] */
    CLI_OPT_EXEC,        /* --exec allowlist|system */
    CLI_OPT_OVERLAY,     /* --overlay DIR[:UPPER] */
    CLI_OPT_ALLOW_HOST,  /* --allow-host PATTERN */
    CLI_OPT_DENY_HOST,   /* --deny-host PATTERN */
    CLI_OPT_RESOLVE,     /* --resolve NAME:ADDR */
    CLI_OPT_NET_BYTES,   /* --net-bytes SIZE|UP:DOWN */
    CLI_OPT_NET_RATE,    /* --net-rate SIZE */
    CLI_OPT_NET_CONNS,   /* --net-connections N[:CONCURRENT] */
    CLI_OPT_POLICY_END,
};

/* Entries of a struct option table. */
#define CLI_POLICY_OPTIONS                                                                         \
    {"workdir", required_argument, NULL, CLI_OPT_WORKDIR},                                         \
        {"env", required_argument, NULL, CLI_OPT_ENV},                                             \
        {"pass-env", required_argument, NULL, CLI_OPT_PASS_ENV},                                   \
        {"ro", required_argument, NULL, CLI_OPT_ALLOW_READ},                                       \
        {"rw", required_argument, NULL, CLI_OPT_ALLOW_WRITE},                                      \
        {"rx", required_argument, NULL, CLI_OPT_ALLOW_EXEC},                                       \
        {"tool", required_argument, NULL, CLI_OPT_ALLOW_TOOL},                                     \
        {"connect", required_argument, NULL, CLI_OPT_ALLOW_CONNECT},                               \
        {"bind", required_argument, NULL, CLI_OPT_ALLOW_BIND},                                     \
        {"allow-network", no_argument, NULL, CLI_OPT_ALLOW_NETWORK},                               \
        {"no-private-tmp", no_argument, NULL, CLI_OPT_NO_PRIVATE_TMP},                             \
        {"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},                                     \
        {"cpu", required_argument, NULL, CLI_OPT_CPU},                                             \
        {"memory", required_argument, NULL, CLI_OPT_MEMORY},                                       \
        {"files", required_argument, NULL, CLI_OPT_FILES},                                         \
        {"fsize", required_argument, NULL, CLI_OPT_FSIZE},                                         \
        {"procs", required_argument, NULL, CLI_OPT_PROCS},                                         \
        {"cpu-rate", required_argument, NULL, CLI_OPT_CPU_RATE},                                   \
        {"deny-syscall", required_argument, NULL, CLI_OPT_DENY_SYSCALL},                           \
        {"allow-syscall", required_argument, NULL, CLI_OPT_ALLOW_SYSCALL},                         \
        {"syscall-allowlist", no_argument, NULL, CLI_OPT_SYSCALL_ALLOWLIST},                       \
        {"max-violations", required_argument, NULL, CLI_OPT_MAX_VIOLATIONS},                       \
        {"violation-rate", required_argument, NULL, CLI_OPT_VIOLATION_RATE},                       \
        {"cgroup", no_argument, NULL, CLI_OPT_CGROUP},                                             \
        {"cgroup-parent", required_argument, NULL, CLI_OPT_CGROUP_PARENT},                         \
        {"unshare", required_argument, NULL, CLI_OPT_UNSHARE},                                     \
        {"isolation", required_argument, NULL, CLI_OPT_ISOLATION},                                 \
        {"profile", required_argument, NULL, CLI_OPT_PROFILE},                                     \
        {"policy", required_argument, NULL, CLI_OPT_POLICY_FILE},                                  \
        {"cap-keep", required_argument, NULL, CLI_OPT_CAP_KEEP},                                   \
        {"unix-socket", required_argument, NULL, CLI_OPT_UNIX_SOCKET},                             \
        {"deny-read", required_argument, NULL, CLI_OPT_DENY_READ},                                 \
        {"deny-write", required_argument, NULL, CLI_OPT_DENY_WRITE},                               \
        {"protect", required_argument, NULL, CLI_OPT_PROTECT},                                     \
        {"unprotect", required_argument, NULL, CLI_OPT_UNPROTECT},                                 \
        {"tmpfs", required_argument, NULL, CLI_OPT_TMPFS},                                         \
        {"exec", required_argument, NULL, CLI_OPT_EXEC},                                           \
        {"overlay", required_argument, NULL, CLI_OPT_OVERLAY},                                     \
        {"allow-host", required_argument, NULL, CLI_OPT_ALLOW_HOST},                               \
        {"deny-host", required_argument, NULL, CLI_OPT_DENY_HOST},                                 \
        {"resolve", required_argument, NULL, CLI_OPT_RESOLVE},                                     \
        {"net-bytes", required_argument, NULL, CLI_OPT_NET_BYTES},                                 \
        {"net-rate", required_argument, NULL, CLI_OPT_NET_RATE},                                   \
        {"net-connections", required_argument, NULL, CLI_OPT_NET_CONNS},                           \
    {                                                                                              \
        "best-effort", required_argument, NULL, CLI_OPT_BEST_EFFORT                                \
    }

/* A limit option: the value in the unit of the library's setter, and the
 * argument as given, for messages. */
struct cli_limit {
    int set;
    uint64_t value;
    const char *text;
};

/* An option applied in command-line order: --profile and --policy (first, in
 * their order), --env, --pass-env, the grants, and the system-call rules. */
struct cli_op {
    int opt;          /* a CLI_OPT_* value */
    const char *name; /* the option's long name, for messages */
    const char *arg;  /* the argument as given */
};

struct cli_policy_opts {
    const char *workdir;
    struct cli_op *ops;
    size_t n_ops;
    int allow_network;
    int no_private_tmp;
    struct cli_limit timeout; /* milliseconds, rounded up */
    struct cli_limit cpu;     /* seconds, rounded up */
    struct cli_limit memory, files, fsize, procs;
    struct cli_limit cpu_rate; /* millicpus, rounded up */
    uint32_t best_effort;
    const char *best_effort_text; /* the last --best-effort, for messages */
    int syscall_allowlist;
    struct cli_limit max_violations;
    struct cli_limit violation_rate; /* per second; 0: no limit */
    int cgroup;                      /* --cgroup */
    const char *cgroup_parent[4];    /* --cgroup-parent, in order */
    size_t n_cgroup_parent;
    uint32_t unshare; /* --unshare: SBX_NS_* */
    const char *unshare_text;
    int isolation; /* SBX_ISOLATION_* + 1; 0: not given */
    int exec_mode; /* SBX_EXEC_* + 1; 0: not given */
};

/* Prepare @p o for a command line of @p argc arguments. 0, or -1 (reported). */
int cli_policy_opts_init(struct cli_policy_opts *o, int argc);
void cli_policy_opts_free(struct cli_policy_opts *o);
/* Take one option from getopt_long(): @p c its value, @p name its long name,
 * @p arg its argument. Returns 1 if taken, 0 if it is not a policy option, -1
 * if its value is invalid (reported on stderr). */
int cli_policy_option(struct cli_policy_opts *o, int c, const char *name, const char *arg);
/* Build the policy. 0 and *ret set, or CLI_EXIT_SETUP (reported on stderr:
 * these are command-line errors, printed even with --quiet). */
int cli_policy_build(const struct cli_policy_opts *o, sbx_policy **ret);
/* The policy options' part of a subcommand's help. */
void cli_policy_help(FILE *out);

/* ---- Strict parsers (cli_parse.c) ----------------------------------------
 * Each returns 0 and sets *ret, or -1 without
 * touching *ret. Leading '-' or '+', whitespace, empty strings, trailing
 * garbage and overflow are all rejected. */

/* A count: decimal digits only. */
int cli_parse_count(const char *s, uint64_t *ret);
/* A size in bytes, sbx_parse_size()'s grammar ("64K", "256MiB", "unlimited"). */
int cli_parse_size(const char *s, uint64_t *ret);
/* A duration, sbx_parse_duration()'s grammar ("2", "1.5", "500ms", "2m"), as nanoseconds. */
int cli_parse_duration(const char *s, uint64_t *ret_ns);
/* A decimal number, "2", "1.5", ".25" (at most 9 decimals), times 10^9 (for --cpu-rate). */
int cli_parse_seconds(const char *s, uint64_t *ret_ns);
/* A --best-effort argument: a layer name as sbx_layer_name() gives it, "all",
 * or a comma-separated list of those, as a set of layer bits. */
int cli_parse_layers(const char *s, uint32_t *ret);
/* `run` without --workdir: grant the current directory read-only (not "/",
 * not one that holds $HOME). 0 or a negative errno. */
int cli_grant_cwd(sbx_policy *p);
/* A --deny-syscall argument, NAME[:ERRNO|kill]: the name's length in *name_len,
 * and the errno (1 to 4095, a number or a name such as "EACCES"; EPERM if
 * absent) or SBX_SYSCALL_KILL in *error. The name itself is the library's to
 * check. */
int cli_parse_syscall_rule(const char *s, size_t *name_len, int *error);

/* Write @p s to @p out as a JSON string, quotes included. Control characters
 * are escaped and bytes that are not valid UTF-8 become U+FFFD, so the output
 * is always valid JSON. */
void cli_json_string(FILE *out, const char *s);

/* Report the getopt_long() error @p c ('?' or ':') for the option just parsed,
 * on stderr, as "agentsbx: CMD: unknown option '--foo'". @p cmd is the
 * subcommand's name, or "" for the top level. Needs opterr = 0 and an
 * optstring that starts with ':' (after any '+'). */
void cli_option_error(const char *cmd, int c, char *const *argv);

/* The program's name for messages: "agentsbx". */
extern const char cli_progname[];

/* ---- Output filtering and audit (cli_output.c), for `run` ----------------- */

/* getopt_long() values of the output options (after any subcommand's own). */
enum {
    CLI_OPT_REDACT = CLI_OPT_POLICY_END + 64,
    CLI_OPT_REDACT_ENV,
    CLI_OPT_NO_REDACT_PATTERNS,
    CLI_OPT_ESCAPE_OUTPUT,
    CLI_OPT_OUTPUT_LIMIT,
    CLI_OPT_AUDIT,
    CLI_OPT_UNICODE,
    CLI_OPT_AUDIT_LIMIT, /* the last: cli_run.c dispatches CLI_OPT_REDACT..CLI_OPT_AUDIT_LIMIT */
};

#define CLI_OUTPUT_OPTIONS                                                                         \
    {"redact", required_argument, NULL, CLI_OPT_REDACT},                                           \
        {"redact-env", required_argument, NULL, CLI_OPT_REDACT_ENV},                               \
        {"no-redact-patterns", no_argument, NULL, CLI_OPT_NO_REDACT_PATTERNS},                     \
        {"escape-output", required_argument, NULL, CLI_OPT_ESCAPE_OUTPUT},                         \
        {"output-limit", required_argument, NULL, CLI_OPT_OUTPUT_LIMIT},                           \
        {"audit-limit", required_argument, NULL, CLI_OPT_AUDIT_LIMIT},                             \
        {"unicode", required_argument, NULL, CLI_OPT_UNICODE},                                     \
    {                                                                                              \
        "audit", required_argument, NULL, CLI_OPT_AUDIT                                            \
    }

enum { CLI_ESCAPES_AUTO, CLI_ESCAPES_ALWAYS, CLI_ESCAPES_NEVER };

struct cli_output_opts {
    struct cli_op *redact; /* --redact and --redact-env, in order */
    size_t n_redact;
    int no_patterns;
    int escapes;            /* CLI_ESCAPES_* */
    struct cli_limit limit; /* --output-limit, bytes per stream */
    const char *audit_path;
    struct cli_limit audit_limit; /* --audit-limit, bytes per child */
    int audit_fd;
    int unicode[4];               /* --unicode: SBX_UNICODE_* per class; -1: the tool's default */
    sbx_output_filter *filter[2]; /* stdout, stderr */
    uint64_t written[2];
    int truncated[2], closed[2];
    int stalled[2], finished[2]; /* dropped past the deadline; filter finished */
    struct cli_outbuf *out[2];   /* not yet written (cli_output.c) */
    int pty;                     /* stdout comes from a pty: its line editing is kept */
};

/* What cli_output_wait() watches besides the child's output. */
struct cli_wait {
    int sig_fd; /* cli_signals_fd() */
    int signo;  /* set: the signal that made the tool kill the child */
    int in_fd;  /* the tool's stdin, relayed to the child (--stdin pipe, or the pty), or -1 */
    int pty_fd; /* the pty's master (cli_pty.c), or -1 */
    char in_buf[4096];
    size_t in_off, in_len, in_end; /* cli_output.c: relay_input() */
};

/* ---- Signals (cli_signals.c) ---------------------------------------------- */
/* SIGINT, SIGTERM, SIGHUP (and SIGWINCH) noted on a self-pipe; the tool dies
 * with its caller (PR_SET_PDEATHSIG: SIGTERM). 0, or -1 (reported). */
int cli_signals_init(void);
int cli_signals_fd(void);
/* The next noted signal, or 0. */
int cli_signals_take(void);
/* End the tool as the signal would have: default action, re-raised. */
_Noreturn void cli_signals_reraise(int sig);

/* ---- The terminal (cli_pty.c) --------------------------------------------- */
enum { CLI_STDIN_AUTO, CLI_STDIN_TTY, CLI_STDIN_NULL, CLI_STDIN_PIPE };
/* --stdin WHEN: a CLI_STDIN_* value, or -1 (reported). */
int cli_stdin_parse(const char *arg);
/* Whether --stdin @p mode gives the child a pty here. */
int cli_stdin_wants_pty(int mode);
/* Set up the child's stdin (and, with a pty, its stdout and stderr) in @p io
 * and @p w. 0, or CLI_EXIT_SETUP (reported). */
int cli_stdin_prepare(int mode, sbx_io *io, struct cli_wait *w);
/* After the spawn: the pty's slave is the child's; the host terminal goes raw. */
void cli_stdin_started(struct cli_wait *w);
/* Restore the host terminal and close the pty; may be called more than once. */
void cli_stdin_restore(struct cli_wait *w);
/* SIGINT or SIGQUIT if @p c is the host terminal's interrupt or quit key
 * (while it is raw), else 0. */
int cli_pty_key_signal(unsigned char c);
/* Copy the host terminal's window size to the pty. */
void cli_pty_winch(int master);

int cli_output_opts_init(struct cli_output_opts *o, int argc);
void cli_output_opts_free(struct cli_output_opts *o);
/* As cli_policy_option(), for the output options. */
int cli_output_option(struct cli_output_opts *o, int c, const char *arg);
/* After cli_policy_build(): register the values, open the audit log, make the
 * filters. 0, or CLI_EXIT_SETUP (reported on stderr). */
int cli_output_apply(struct cli_output_opts *o, sbx_policy *policy);
/* Set up the child's stdout and stderr as pipes. */
void cli_output_io(sbx_io *io);
/* Pass the child's output through the filters while waiting for it, relay
 * stdin, take signals; as sbx_child_wait(). */
struct cli_wait;
int cli_output_wait(struct cli_output_opts *o, struct cli_wait *w, sbx_child *child,
                    sbx_result **ret);
/* Lines on truncation and redactions, for the messages of `run`. */
void cli_output_report(const struct cli_output_opts *o, FILE *out);
/* `"output":{...}` for the --json object. */
void cli_output_json(const struct cli_output_opts *o, FILE *out);
/* Before a line of the tool's own on stderr: end the child's last line with a
 * newline if it was left unfinished there (killed mid-line, or no newline at
 * the end; with stdout and stderr one file, stdout's counts too), so that the
 * tool's line starts a line of its own. */
void cli_output_start_line(const struct cli_output_opts *o);
void cli_output_help(FILE *out);

#endif /* AGENTSBX_CLI_H */
