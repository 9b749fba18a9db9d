/* `agentsbx learn`: run a command in learn mode (sbx_set_learn()) under a
 * permissive sandbox, and write the policy file that would have allowed what
 * it did (sbx_policy_learn(), written by sbx_policy_to_json()).
 *
 * The learning run keeps every layer but widens Landlock: it reads and
 * executes everywhere, writes in its directory (and what the options grant),
 * and may use the network; it runs without the mount view (its paths are
 * the host's). The policy written starts from the same options (limits,
 * environment, grants), without those widenings, plus what was learned. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

enum {
    OPT_OUT = CLI_OPT_POLICY_END,
};

static const struct option learn_options[] = {
    CLI_POLICY_OPTIONS,
    {"out", required_argument, NULL, OPT_OUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void cli_learn_help(FILE *out)
{
    fprintf(out,
            "Usage: %s learn [--out FILE] [OPTION]... [--] PROGRAM [ARG]...\n"
            "\n"
            "Run PROGRAM under a permissive sandbox that records what it does, and write\n"
            "the policy file that would have allowed it (see docs/policy-files.md) to\n"
            "FILE (default: policy.json in the current directory). Review the file, then\n"
            "run the same command with '%s run --policy FILE'.\n"
            "\n"
            "While learning, PROGRAM may read and execute any file, write in the current\n"
            "directory (and what --rw or --workdir grant), and use the network; every\n"
            "other layer holds (seccomp, no_new_privs, limits, a private TMPDIR). The file\n"
            "grants the programs it executed (with their helpers), the directories it\n"
            "wrote in (read-write; executable when it ran what it built there), what it\n"
            "read outside the system's directories (files, or their directory when it\n"
            "read more than 3 there or listed it), and its TCP ports, besides the options\n"
            "given here (limits, environment, grants).\n"
            "\n",
            cli_progname, cli_progname);
    cli_policy_help(out);
    fprintf(out, "\n"
                 "Learning:\n"
                 "      --out FILE           where to write the policy (default: policy.json)\n"
                 "  -h, --help               show this help and exit\n"
                 "\n"
                 "Exit status: PROGRAM's, as for 'run' (the file is written whatever it is),\n"
                 "or 125 if the command line is wrong, the sandbox could not be set up or the\n"
                 "file could not be written.\n");
}

/* The learning run's widenings of a policy built from the options. */
static int widen(sbx_policy *p)
{
    char cwd[PATH_MAX];
    int rc;
    if ((rc = sbx_set_isolation(p, SBX_ISOLATION_MINIMAL)) < 0 ||
        (rc = sbx_allow_path(p, "/", SBX_FS_READ | SBX_FS_EXEC)) < 0 ||
        (rc = sbx_allow_network(p)) < 0 || (rc = sbx_set_exec_reporting(p, 1)) < 0 ||
        (rc = sbx_set_learn(p, 1)) < 0)
        return rc;
    if (getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") != 0 && strcmp(cwd, "/tmp") != 0 &&
        strcmp(cwd, "/dev/shm") != 0)
        rc = sbx_allow_path(p, cwd, SBX_FS_READ | SBX_FS_WRITE | SBX_FS_EXEC);
    return rc;
}

static int write_policy(const sbx_policy *p, const char *out)
{
    int n = sbx_policy_to_json(p, NULL, 0);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf != NULL)
        n = sbx_policy_to_json(p, buf, (size_t)n + 1);
    if (buf == NULL || n < 0) {
        fprintf(stderr, "%s: learn: %s\n", cli_progname,
                n < 0 ? sbx_last_error() : "out of memory");
        free(buf);
        return -1;
    }
    FILE *f = fopen(out, "w");
    int bad = f == NULL || fputs(buf, f) < 0;
    if (f != NULL && !bad && fputc('\n', f) == EOF)
        bad = 1;
    if (f != NULL && fclose(f) != 0)
        bad = 1;
    if (bad)
        fprintf(stderr, "%s: learn: writing %s: %s\n", cli_progname, out, strerror(errno));
    free(buf);
    return bad ? -1 : 0;
}

static int learn(const struct cli_policy_opts *o, char **argv, const char *out)
{
    sbx_policy *run = NULL, *learned = NULL;
    sbx_child *child = NULL;
    sbx_result *r = NULL;
    int status = cli_policy_build(o, &run), rc;
    if (status == 0)
        status = cli_policy_build(o, &learned);
    if (status != 0)
        goto out;
    status = CLI_EXIT_SETUP;
    if ((rc = widen(run)) < 0) {
        fprintf(stderr, "%s: learn: %s\n", cli_progname, sbx_last_error());
        goto out;
    }
    if ((rc = sbx_spawn(run, (const char *const *)argv, NULL, &child)) < 0) {
        fprintf(stderr, "%s: learn: %s\n", cli_progname, sbx_last_error());
        status = rc == -ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_SETUP;
        goto out;
    }
    if ((rc = sbx_child_wait(child, &r)) < 0) {
        fprintf(stderr, "%s: learn: %s\n", cli_progname, sbx_last_error());
        goto out;
    }
    rc = sbx_policy_learn(learned, r);
    if (rc < 0 && rc != -E2BIG) {
        fprintf(stderr, "%s: learn: %s\n", cli_progname, sbx_last_error());
        goto out;
    }
    if (rc == -E2BIG)
        fprintf(stderr, "%s: learn: %s\n", cli_progname, sbx_last_error());
    if (write_policy(learned, out) < 0)
        goto out;
    int st = sbx_result_status(r);
    status = st == SBX_STATUS_EXITED    ? sbx_result_exit_code(r)
             : sbx_result_signal(r) > 0 ? 128 + sbx_result_signal(r)
                                        : CLI_EXIT_SETUP;
    fprintf(stderr, "%s: learn: the policy is in %s", cli_progname, out);
    if (st == SBX_STATUS_EXITED && status == 0)
        fprintf(stderr, "\n");
    else
        fprintf(stderr, " (the program ended %s, status %d: it covers what it did until then)\n",
                sbx_status_name(st), status);
out:
    sbx_result_free(r);
    sbx_child_free(child);
    sbx_policy_free(run);
    sbx_policy_free(learned);
    return status;
}

int cli_learn_main(int argc, char **argv)
{
    struct cli_policy_opts o;
    const char *out = "policy.json";
    int c, idx = 0, rc;

    if (cli_policy_opts_init(&o, argc) < 0)
        return CLI_EXIT_SETUP;
    opterr = 0;
    optind = 0;
    /* "+": options stop at PROGRAM, whose own options are its. */
    while ((c = getopt_long(argc, argv, "+:h", learn_options, &idx)) != -1) {
        if (c == 'h') {
            cli_learn_help(stdout);
            cli_policy_opts_free(&o);
            return 0;
        }
        if (c == OPT_OUT) {
            if (!*optarg) {
                fprintf(stderr, "%s: learn: --out: expected a file name\n", cli_progname);
                cli_policy_opts_free(&o);
                return CLI_EXIT_SETUP;
            }
            out = optarg;
            continue;
        }
        if (c >= CLI_OPT_WORKDIR && c < CLI_OPT_POLICY_END) {
            int r = cli_policy_option(&o, c, learn_options[idx].name, optarg);
            if (r > 0)
                continue;
            if (r < 0) {
                cli_policy_opts_free(&o);
                return CLI_EXIT_SETUP;
            }
        }
        cli_option_error("learn", c, argv);
        fprintf(stderr, "Try '%s learn --help'.\n", cli_progname);
        cli_policy_opts_free(&o);
        return CLI_EXIT_SETUP;
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: learn: missing PROGRAM\nTry '%s learn --help'.\n", cli_progname,
                cli_progname);
        cli_policy_opts_free(&o);
        return CLI_EXIT_SETUP;
    }
    rc = learn(&o, argv + optind, out);
    cli_policy_opts_free(&o);
    return rc;
}
