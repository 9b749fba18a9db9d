/* Overlay workspaces on the command line: `run --overlay DIR[:UPPER]`, the
 * "overlay" member of `run --json`, and `agentsbx overlay diff|apply|discard
 * LOWER UPPER` to review an agent's edits and accept or drop them. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

/* `path` made absolute: the existing directory DIR resolved, a path that may
 * not exist yet resolved through its parent. 0, or a negative errno (reported). */
static int absolute(const char *what, const char *path, char *buf)
{
    if (realpath(path, buf) != NULL)
        return 0;
    if (errno != ENOENT) {
        fprintf(stderr, "%s: %s: %s: %s\n", cli_progname, what, path, strerror(errno));
        return -errno;
    }
    char parent[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 1,
             slash ? (slash == path ? "/" : path) : ".");
    char real[PATH_MAX];
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
        realpath(parent, real) == NULL) {
        fprintf(stderr, "%s: %s: %s: %s\n", cli_progname, what, path, strerror(ENOENT));
        return -ENOENT;
    }
    if ((size_t)snprintf(buf, PATH_MAX, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base) >=
        PATH_MAX) {
        fprintf(stderr, "%s: %s: %s: %s\n", cli_progname, what, path, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    return 0;
}

int cli_overlay_apply(const char *arg, sbx_policy *p)
{
    char spec[PATH_MAX * 2], lower[PATH_MAX], upper[PATH_MAX];
    if (strlen(arg) >= sizeof(spec))
        return ENAMETOOLONG;
    strcpy(spec, arg);
    char *colon = strchr(spec, ':');
    if (colon)
        *colon++ = '\0';
    if (spec[0] == '\0' || (colon && colon[0] == '\0')) {
        fprintf(stderr, "%s: --overlay: expected DIR[:UPPER], not '%s'\n", cli_progname, arg);
        return EINVAL;
    }
    int rc = absolute("--overlay", spec, lower);
    if (rc == 0 && colon)
        rc = absolute("--overlay", colon, upper);
    if (rc < 0)
        return -rc;
    return sbx_overlay(p, lower, colon ? upper : NULL);
}

/* ,"overlay":[{"lower":...,"upper":...,"changes":[{"path","kind","type"}]}] */
void cli_overlay_json(const sbx_result *r, FILE *out)
{
    size_t n = sbx_result_overlay_count(r);
    if (n == 0)
        return;
    fprintf(out, ",\"overlay\":[");
    for (size_t i = 0; i < n; i++) {
        const char *lower = NULL, *upper = NULL;
        if (sbx_result_overlay(r, i, &lower, &upper) < 0)
            continue;
        fprintf(out, "%s{\"lower\":", i ? "," : "");
        cli_json_string(out, lower);
        fprintf(out, ",\"upper\":");
        cli_json_string(out, upper);
        sbx_changes *c = NULL;
        if (sbx_overlay_changes(lower, upper, &c) < 0) {
            fprintf(out, ",\"changes\":null,\"error\":");
            cli_json_string(out, sbx_last_error());
            fprintf(out, "}");
            continue;
        }
        fprintf(out, ",\"changes\":[");
        for (size_t k = 0; k < sbx_changes_count(c); k++) {
            const char *path;
            int kind, type;
            if (sbx_changes_get(c, k, &path, &kind, &type) < 0)
                break;
            fprintf(out, "%s{\"path\":", k ? "," : "");
            cli_json_string(out, path);
            fprintf(out, ",\"kind\":\"%s\",\"type\":\"%s\"}", sbx_change_kind_name(kind),
                    sbx_file_type_name(type));
        }
        fprintf(out, "]}");
        sbx_changes_free(c);
    }
    fprintf(out, "]");
}

void cli_overlay_help(FILE *out)
{
    fprintf(out,
            "Usage: %s overlay diff LOWER UPPER\n"
            "       %s overlay apply LOWER UPPER\n"
            "       %s overlay discard LOWER UPPER\n"
            "\n"
            "Review what a child run with --overlay LOWER:UPPER changed, then accept or drop\n"
            "it (docs/carve-outs.md, \"Overlay workspaces\").\n"
            "  diff     print one line per change, sorted by path: KIND TYPE PATH, where\n"
            "           KIND is added, modified or deleted and TYPE file, dir, symlink or\n"
            "           other (PATH relative to LOWER)\n"
            "  apply    copy the changes into LOWER (deletions included; no link followed)\n"
            "  discard  remove UPPER and everything in it\n"
            "\n"
            "Exit status: 0, or 125 with a message when the directories are not usable.\n",
            cli_progname, cli_progname, cli_progname);
}

int cli_overlay_main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_overlay_help(stdout);
        return 0;
    }
    if (argc != 4 || (strcmp(argv[1], "diff") != 0 && strcmp(argv[1], "apply") != 0 &&
                      strcmp(argv[1], "discard") != 0)) {
        fprintf(stderr, "%s: overlay: expected diff, apply or discard, then LOWER UPPER\n",
                cli_progname);
        cli_overlay_help(stderr);
        return CLI_EXIT_SETUP;
    }
    char lower[PATH_MAX], upper[PATH_MAX];
    if (absolute("overlay", argv[2], lower) < 0 || absolute("overlay", argv[3], upper) < 0)
        return CLI_EXIT_SETUP;
    int rc = 0;
    if (strcmp(argv[1], "diff") == 0) {
        sbx_changes *c = NULL;
        rc = sbx_overlay_changes(lower, upper, &c);
        for (size_t k = 0; rc == 0 && k < sbx_changes_count(c); k++) {
            const char *path;
            int kind, type;
            rc = sbx_changes_get(c, k, &path, &kind, &type);
            if (rc == 0)
                printf("%s %s %s\n", sbx_change_kind_name(kind), sbx_file_type_name(type), path);
        }
        sbx_changes_free(c);
    } else if (strcmp(argv[1], "apply") == 0) {
        rc = sbx_overlay_apply(lower, upper);
    } else {
        rc = sbx_overlay_discard(upper);
    }
    if (rc < 0) {
        fprintf(stderr, "%s: overlay %s: %s\n", cli_progname, argv[1], sbx_last_error());
        return CLI_EXIT_SETUP;
    }
    return fflush(stdout) == 0 ? 0 : CLI_EXIT_SETUP;
}
