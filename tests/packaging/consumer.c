/* An out-of-tree consumer of an installed libagentsbx: built by the packaging
 * test once with pkg-config and once with find_package(agentsbx), against the
 * headers and library of a temporary prefix. It runs `echo` under the default
 * policy and checks what came back; any difference exits 1 with the reason. */
#include <stdio.h>
#include <string.h>

#include <agentsbx/agentsbx.h>

int main(void)
{
    const char *argv[] = {"echo", "consumed", NULL};
    sbx_policy *p = NULL;
    sbx_result *r = NULL;
    size_t len = 0;
    const char *out;
    int rc = 1;

    if (strcmp(sbx_version(), SBX_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library %s, headers %s\n", sbx_version(), SBX_VERSION_STRING);
        return 1;
    }
    if (sbx_policy_new(&p) < 0) {
        fprintf(stderr, "consumer: sbx_policy_new: %s\n", sbx_last_error());
        return 1;
    }
    if (sbx_run(p, argv, NULL, 0, &r) < 0) {
        fprintf(stderr, "consumer: sbx_run: %s\n", sbx_last_error());
        goto out;
    }
    out = sbx_result_stdout(r, &len);
    if (sbx_result_status(r) != SBX_STATUS_EXITED || sbx_result_exit_code(r) != 0 || len != 9 ||
        memcmp(out, "consumed\n", 9) != 0) {
        fprintf(stderr, "consumer: status %s, exit code %d, stdout '%s'\n",
                sbx_status_name(sbx_result_status(r)), sbx_result_exit_code(r), out);
        goto out;
    }
    if (!(sbx_result_layers(r) & SBX_LAYER_SECCOMP)) {
        fprintf(stderr, "consumer: the default policy ran without seccomp\n");
        goto out;
    }
    printf("consumer: agentsbx %s ran echo: %s", sbx_version(), out);
    rc = 0;
out:
    sbx_result_free(r);
    sbx_policy_free(p);
    return rc;
}
