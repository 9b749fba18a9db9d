/* agentsbx check: what this kernel and host can enforce, and why anything is
 * missing. Exit status 0 when a default policy can be enforced strictly here,
 * 1 when it cannot (the output says what is missing), 125 on a usage error. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

/* What each feature gives the sandbox, for the human-readable table. */
static const char *const uses[SBX_FEATURE_END] = {
    [SBX_FEATURE_LANDLOCK] = "files, exec allow-list, TCP ports, scoping",
    [SBX_FEATURE_SECCOMP] = "system call filter",
    [SBX_FEATURE_SECCOMP_NOTIFY] = "violation monitor",
    [SBX_FEATURE_PIDFD] = "supervising children (required)",
    [SBX_FEATURE_CLONE3] = "spawning (clone(2) otherwise)",
    [SBX_FEATURE_CLOSE_RANGE] = "closing descriptors (a loop otherwise)",
    [SBX_FEATURE_CGROUP] = "--cgroup: memory and process limits, tree kill",
    [SBX_FEATURE_USER_NS] = "--unshare user (and the others, without root)",
    [SBX_FEATURE_PID_NS] = "--unshare pid: an init, a kill nothing escapes",
    [SBX_FEATURE_NET_NS] = "--unshare net: loopback only",
    [SBX_FEATURE_IPC_NS] = "--unshare ipc",
    [SBX_FEATURE_UTS_NS] = "--unshare uts",
    [SBX_FEATURE_MOUNT_NS] = "--unshare mount: read-only, noexec view, private /tmp",
    [SBX_FEATURE_TREE_KILL] = "killing every process a child started",
    [SBX_FEATURE_ISOLATION] = "the default (--isolation auto) makes namespaces:",
};

/* "pid,mount,...": the namespaces auto isolation makes, short enough for the
 * status column (user, when added, first). */
static void isolation_names(uint32_t set, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t bit = 1; bit <= SBX_NS_ALL && len < size; bit <<= 1)
        if (set & bit)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                                    sbx_namespace_name(bit));
}

/* The Landlock ABI a default policy needs to be enforced strictly. */
#define DEFAULT_LANDLOCK_ABI 6

void cli_check_help(FILE *out)
{
    fprintf(out,
            "Usage: %s check [--json]\n"
            "\n"
            "Print what this kernel and host can enforce, and why anything is missing.\n"
            "\n"
            "      --json   print one JSON object instead of a table\n"
            "  -h, --help   show this help and exit\n"
            "\n"
            "Exit status: 0 if a default policy can be enforced here with every layer strict,\n"
            "1 if not (see the output), 125 on a usage error.\n",
            cli_progname);
}

int cli_check_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': cli_check_help(stdout); return 0;
        default:
            cli_option_error("check: ", c, argv);
            cli_check_help(stderr);
            return CLI_EXIT_SETUP;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: check: unexpected argument '%s'\n", cli_progname, argv[optind]);
        return CLI_EXIT_SETUP;
    }

    int level[SBX_FEATURE_END];
    char reason[SBX_FEATURE_END][512];
    for (int f = 1; f < SBX_FEATURE_END; f++)
        level[f] = sbx_probe(f, reason[f], sizeof(reason[f]));
    int strict_ok = level[SBX_FEATURE_LANDLOCK] >= DEFAULT_LANDLOCK_ABI &&
                    level[SBX_FEATURE_SECCOMP] > 0 && level[SBX_FEATURE_SECCOMP_NOTIFY] > 0 &&
                    level[SBX_FEATURE_PIDFD] > 0;

    if (json) {
        printf("{\"version\":\"%s\",\"default_policy_strict\":%s,\"features\":{", sbx_version(),
               strict_ok ? "true" : "false");
        for (int f = 1; f < SBX_FEATURE_END; f++) {
            printf("%s\"%s\":{\"available\":%s,\"level\":%d,\"reason\":", f > 1 ? "," : "",
                   sbx_feature_name(f), level[f] > 0 ? "true" : "false", level[f]);
            cli_json_string(stdout, reason[f]);
            printf("}");
        }
        printf("}}\n");
    } else {
        printf("%-15s %-10s %s\n", "feature", "status", "used for");
        for (int f = 1; f < SBX_FEATURE_END; f++) {
            char status[32];
            if (level[f] <= 0)
                snprintf(status, sizeof(status), "missing");
            else if (f == SBX_FEATURE_LANDLOCK)
                snprintf(status, sizeof(status), "ABI %d", level[f]);
            else if (f == SBX_FEATURE_CGROUP)
                snprintf(status, sizeof(status), "v%d", level[f]);
            else if (f == SBX_FEATURE_TREE_KILL)
                snprintf(status, sizeof(status), "%s",
                         level[f] == SBX_TREE_KILL_PIDNS       ? "pid-ns"
                         : level[f] == SBX_TREE_KILL_CGROUP    ? "cgroup"
                         : level[f] == SBX_TREE_KILL_SUBREAPER ? "subreaper"
                                                               : "pgroup");
            else
                snprintf(status, sizeof(status), "yes");
            char names[128] = "";
            if (f == SBX_FEATURE_ISOLATION && level[f] > 0)
                isolation_names((uint32_t)level[f], names, sizeof(names));
            printf("%-15s %-10s %s%s%s\n", sbx_feature_name(f), status, uses[f], *names ? " " : "",
                   names);
            if (level[f] <= 0)
                printf("%-15s %-10s why: %s\n", "", "", reason[f]);
        }
        if (level[SBX_FEATURE_LANDLOCK] > 0 && level[SBX_FEATURE_LANDLOCK] < DEFAULT_LANDLOCK_ABI)
            printf("\nLandlock ABI %d lacks rights a default policy needs (ABI %d): such policies "
                   "need --best-effort landlock here (see docs/landlock.md).\n",
                   level[SBX_FEATURE_LANDLOCK], DEFAULT_LANDLOCK_ABI);
        printf("\n%s\n", strict_ok
                             ? "A default policy can be enforced here with every layer strict."
                             : "A default policy cannot be enforced strictly here: see above.");
    }
    return strict_ok ? 0 : 1;
}
