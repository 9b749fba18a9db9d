/* 01-minimal: run a program confined and print how it ended.
 *
 * The default policy already confines the child: clean environment, closed
 * descriptors, read-only system directories, no writes, no exec of anything
 * but the program, no network, a seccomp filter. */
#include <stdio.h>

#include <agentsbx/agentsbx.h>

int main(void)
{
    const char *argv[] = {"/bin/echo", "hello from the sandbox", NULL};
    sbx_policy *p = NULL;
    sbx_result *r = NULL;
    int rc = 1;

    if (sbx_policy_new(&p) < 0) {
        fprintf(stderr, "sbx_policy_new: %s\n", sbx_last_error());
        return 1;
    }
    if (sbx_run(p, argv, NULL, 0, &r) < 0) {
        fprintf(stderr, "sbx_run: %s\n", sbx_last_error());
        goto out;
    }
    printf("status %s, exit code %d, output: %s", sbx_status_name(sbx_result_status(r)),
           sbx_result_exit_code(r), sbx_result_stdout(r, NULL));
    rc = sbx_result_status(r) == SBX_STATUS_EXITED && sbx_result_exit_code(r) == 0 ? 0 : 1;
out:
    sbx_result_free(r);
    sbx_policy_free(p);
    return rc;
}
