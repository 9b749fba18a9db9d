/* 03-workspace-and-tools: a writable workspace, one granted tool, and what
 * happens to everything else.
 *
 * The child may write in the workspace and run `ls`; writing outside it and
 * running any other program are refused. Usage: 03-workspace-and-tools DIR */
#include <stdio.h>
#include <string.h>

#include <agentsbx/agentsbx.h>

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] != '/') {
        fprintf(stderr, "usage: %s ABSOLUTE-WORKSPACE-DIR\n", argv[0]);
        return 2;
    }
    const char *script =
        "echo note > note.txt && ls; "
        "echo x > /etc/agentsbx-example 2>/dev/null || echo 'write outside: refused'; "
        "/usr/bin/id >/dev/null 2>&1 || echo 'running id: refused'";
    const char *child_argv[] = {"/bin/sh", "-c", script, NULL};
    sbx_policy *p = NULL;
    sbx_result *r = NULL;
    int rc = 1;

    if (sbx_policy_new(&p) < 0)
        return 1;
    if (sbx_set_workdir(p, argv[1]) < 0 || sbx_allow_tool(p, "ls") < 0 ||
        sbx_run(p, child_argv, NULL, 0, &r) < 0) {
        fprintf(stderr, "%s\n", sbx_last_error());
        goto out;
    }
    const char *out = sbx_result_stdout(r, NULL);
    printf("%s", out);
    rc = strstr(out, "note.txt") && strstr(out, "write outside: refused") &&
                 strstr(out, "running id: refused")
             ? 0
             : 1;
out:
    sbx_result_free(r);
    sbx_policy_free(p);
    return rc;
}
