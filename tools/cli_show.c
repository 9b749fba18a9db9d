/* `agentsbx policy show`: build the policy the same options would give
 * `agentsbx run` (profiles, policy files, grants, limits), and print it as a
 * JSON policy file (docs/policy-files.md) that --policy can load again. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <agentsbx/agentsbx.h>

static const struct option show_options[] = {
    CLI_POLICY_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void cli_show_help(FILE *out)
{
    fprintf(out,
            "Usage: %s policy show [OPTION]...\n"
            "\n"
            "Print the effective policy that the same options would give '%s run', as a\n"
            "JSON policy file (schema version 1; see docs/policy-files.md), on stdout.\n"
            "Only what differs from the default policy is printed; tools appear as the\n"
            "grants they resolve to, and --pass-env variables with their values.\n"
            "\n",
            cli_progname, cli_progname);
    cli_policy_help(out);
    fprintf(out, "\n"
                 "  -h, --help               show this help and exit\n"
                 "\n"
                 "Exit status: 0, or 125 if the command line or the policy is wrong.\n");
}

static int show(const struct cli_policy_opts *o)
{
    sbx_policy *p;
    int rc = cli_policy_build(o, &p);
    if (rc != 0)
        return rc;
    int n = sbx_policy_to_json(p, NULL, 0);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf != NULL)
        n = sbx_policy_to_json(p, buf, (size_t)n + 1);
    sbx_policy_free(p);
    if (buf == NULL || n < 0) {
        fprintf(stderr, "%s: policy show: %s\n", cli_progname,
                n < 0 ? sbx_last_error() : "out of memory");
        free(buf);
        return CLI_EXIT_SETUP;
    }
    fputs(buf, stdout);
    free(buf);
    return fflush(stdout) == 0 ? 0 : CLI_EXIT_SETUP;
}

int cli_show_main(int argc, char **argv)
{
    struct cli_policy_opts o;
    int c, idx = 0, rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2) {
            fprintf(stderr, "%s: policy: missing subcommand (show)\n", cli_progname);
            cli_show_help(stderr);
            return CLI_EXIT_SETUP;
        }
        cli_show_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "show") != 0) {
        fprintf(stderr, "%s: policy: unknown subcommand '%s' (expected show)\n", cli_progname,
                argv[1]);
        return CLI_EXIT_SETUP;
    }
    /* "show" is argv[0] of the options that follow it. */
    argc--;
    argv++;
    if (cli_policy_opts_init(&o, argc) < 0)
        return CLI_EXIT_SETUP;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", show_options, &idx)) != -1) {
        if (c == 'h') {
            cli_show_help(stdout);
            cli_policy_opts_free(&o);
            return 0;
        }
        if (c >= CLI_OPT_WORKDIR && c < CLI_OPT_POLICY_END) {
            int r = cli_policy_option(&o, c, show_options[idx].name, optarg);
            if (r > 0)
                continue;
            if (r < 0) {
                cli_policy_opts_free(&o);
                return CLI_EXIT_SETUP;
            }
        }
        cli_option_error("policy show", c, argv);
        fprintf(stderr, "Try '%s policy show --help'.\n", cli_progname);
        cli_policy_opts_free(&o);
        return CLI_EXIT_SETUP;
    }
    if (optind < argc) {
        fprintf(stderr, "%s: policy show: unexpected argument '%s'\n", cli_progname, argv[optind]);
        cli_policy_opts_free(&o);
        return CLI_EXIT_SETUP;
    }
    rc = show(&o);
    cli_policy_opts_free(&o);
    return rc;
}
