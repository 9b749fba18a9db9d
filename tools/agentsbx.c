/* agentsbx: run programs confined by libagentsbx, from a shell.
 *
 * `agentsbx SUBCOMMAND [ARGS...]`; the subcommands are the entries of the
 * table below, each with its own getopt_long() parsing, so that a new one
 * (`check`, `policy show`) is one more entry and one more file. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <agentsbx/agentsbx.h>

const char cli_progname[] = "agentsbx";

static int help_main(int argc, char **argv);
static void help_help(FILE *out);

static const struct cli_command commands[] = {
    {"run", "run a program confined", cli_run_main, cli_run_help},
    {"check", "print what this host can enforce", cli_check_main, cli_check_help},
    {"call", "call a host operation, inside a sandbox", cli_call_main, cli_call_help},
    {"policy", "print the effective policy as JSON (policy show)", cli_show_main, cli_show_help},
    {"overlay", "review, apply or discard an overlay's changes", cli_overlay_main,
     cli_overlay_help},
    {"learn", "run a program and write the policy that allows what it did", cli_learn_main,
     cli_learn_help},
    {"help", "show help for agentsbx or one of its commands", help_main, help_help},
};

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s COMMAND [OPTION]... [ARG]...\n"
            "       %s --help | --version\n"
            "\n"
            "Run untrusted programs confined by libagentsbx.\n"
            "\n"
            "Commands:\n",
            cli_progname, cli_progname);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Options:\n"
            "  -h, --help     show this help and exit\n"
            "      --version  show the version and exit\n"
            "\n"
            "Run '%s help COMMAND' or '%s COMMAND --help' for a command's options.\n",
            cli_progname, cli_progname);
}

static void help_help(FILE *out)
{
    fprintf(out,
            "Usage: %s help [COMMAND]\n"
            "\n"
            "Show the help of COMMAND, or the list of commands.\n",
            cli_progname);
}

static int help_main(int argc, char **argv)
{
    const struct cli_command *cmd;

    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    if (argc > 2) {
        fprintf(stderr, "%s: help: too many arguments\n", cli_progname);
        help_help(stderr);
        return CLI_EXIT_SETUP;
    }
    cmd = find_command(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "%s: help: unknown command '%s'\n", cli_progname, argv[1]);
        usage(stderr);
        return CLI_EXIT_SETUP;
    }
    cmd->help(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_VERSION = 256 };
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    const struct cli_command *cmd;
    int c;

    /* '+': stop at the subcommand's name; ':': report a missing argument as ':'. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case OPT_VERSION: printf("%s %s\n", cli_progname, sbx_version()); return 0;
        default:
            cli_option_error("", c, argv);
            usage(stderr);
            return CLI_EXIT_SETUP;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: missing command\n", cli_progname);
        usage(stderr);
        return CLI_EXIT_SETUP;
    }
    cmd = find_command(argv[optind]);
    if (cmd == NULL) {
        fprintf(stderr, "%s: unknown command '%s'\n", cli_progname, argv[optind]);
        usage(stderr);
        return CLI_EXIT_SETUP;
    }
    /* The subcommand parses its own options from a fresh getopt state. */
    argc -= optind;
    argv += optind;
    optind = 0;
    return cmd->run(argc, argv);
}
