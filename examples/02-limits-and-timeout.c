/* 02-limits-and-timeout: bound a runaway child and read why it ended.
 *
 * A shell loops forever; the wall-clock limit kills its whole process group
 * after 300 ms, and the result says "timed_out". */
#include <stdio.h>

#include <agentsbx/agentsbx.h>

static int check(int r, const char *what)
{
    if (r < 0)
        fprintf(stderr, "%s: %s\n", what, sbx_last_error());
    return r;
}

int main(void)
{
    const char *argv[] = {"/bin/sh", "-c", "while :; do :; done", NULL};
    sbx_policy *p = NULL;
    sbx_result *r = NULL;
    int rc = 1;

    if (check(sbx_policy_new(&p), "sbx_policy_new") < 0)
        return 1;
    if (check(sbx_limit_wall_time(p, 300), "sbx_limit_wall_time") < 0 ||
        check(sbx_limit_cpu_time(p, 10), "sbx_limit_cpu_time") < 0 ||
        check(sbx_limit_memory(p, 256ull << 20), "sbx_limit_memory") < 0 ||
        check(sbx_limit_open_files(p, 64), "sbx_limit_open_files") < 0 ||
        check(sbx_run(p, argv, NULL, 0, &r), "sbx_run") < 0)
        goto out;

    char json[1024];
    if (sbx_result_to_json(r, json, sizeof(json)) < 0)
        goto out;
    printf("%s\n", json);
    rc = sbx_result_status(r) == SBX_STATUS_TIMED_OUT ? 0 : 1;
out:
    sbx_result_free(r);
    sbx_policy_free(p);
    return rc;
}
