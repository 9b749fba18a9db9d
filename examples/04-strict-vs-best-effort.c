/* 04-strict-vs-best-effort: ask for a layer this host may not have.
 *
 * The policy asks for the cgroup layer with a 64 MiB memory limit, beneath a
 * cgroup directory named on the command line (or beneath this process's own
 * cgroups). Strict, the default, a host that cannot give it makes the spawn
 * fail with -EOPNOTSUPP and a message saying what is missing. Marked
 * best-effort, the child runs anyway and the result says what held: here the
 * memory limit falls back to RLIMIT_DATA. Usage: 04-strict-vs-best-effort [CGROUP-DIR] */
#include <errno.h>
#include <stdio.h>

#include <agentsbx/agentsbx.h>

static int run(sbx_policy *p, sbx_result **r)
{
    const char *argv[] = {"/bin/true", NULL};
    return sbx_run(p, argv, NULL, 0, r);
}

int main(int argc, char **argv)
{
    sbx_policy *p = NULL;
    sbx_result *r = NULL;
    int rc = 1, strict;

    if (sbx_policy_new(&p) < 0 || sbx_limit_memory(p, 64ull << 20) < 0 ||
        (argc > 1 ? sbx_set_cgroup_parent(p, argv[1]) : sbx_use_cgroup(p, 1)) < 0) {
        fprintf(stderr, "policy: %s\n", sbx_last_error());
        goto out;
    }
    strict = run(p, &r);
    if (strict == 0) {
        printf("strict: the cgroup layer held\n");
        sbx_result_free(r);
        r = NULL;
    } else if (strict == -EOPNOTSUPP) {
        printf("strict: refused at stage %s: %s\n", sbx_stage_name(sbx_last_error_stage()),
               sbx_last_error());
    } else {
        fprintf(stderr, "strict: unexpected %s: %s\n", sbx_errname(strict), sbx_last_error());
        goto out;
    }

    if (sbx_set_best_effort(p, SBX_LAYER_CGROUP) < 0 || run(p, &r) < 0) {
        fprintf(stderr, "best-effort: %s\n", sbx_last_error());
        goto out;
    }
    uint32_t held = sbx_result_layers(r);
    printf("best-effort: %s; layers held:", sbx_status_name(sbx_result_status(r)));
    for (uint32_t bit = 1; bit & SBX_LAYER_ALL; bit <<= 1)
        if (held & bit)
            printf(" %s", sbx_layer_name(bit));
    int mech = sbx_result_limit_mechanism(r, SBX_LIMIT_MEMORY);
    printf("; memory limit by %s\n", mech == SBX_MECHANISM_CGROUP   ? "cgroup"
                                     : mech == SBX_MECHANISM_RLIMIT ? "rlimit"
                                                                    : "nothing");
    /* What the result says must match what the strict attempt found. */
    int cgroup_held = (held & SBX_LAYER_CGROUP) != 0;
    if (sbx_result_status(r) == SBX_STATUS_EXITED && cgroup_held == (strict == 0) &&
        mech == (cgroup_held ? SBX_MECHANISM_CGROUP : SBX_MECHANISM_RLIMIT))
        rc = 0;
    else
        fprintf(stderr, "the result does not match the strict attempt\n");
out:
    sbx_result_free(r);
    sbx_policy_free(p);
    return rc;
}
