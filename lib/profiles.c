/* Built-in profiles (docs/policy-files.md): named starting points that a host,
 * a policy file ("profile": "workspace") or the CLI (--profile) adds to. Each
 * is a few builder calls on top of the default policy, which is already deny
 * by default: read-only system directories, no network, nothing executable
 * but the program. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy_json_internal.h"

/* compute only: nothing writable but the device sinks, no network, no tools */
static int minimal(sbx_policy *p)
{
    return sbx_set_private_tmp(p, 0);
}

/* read the system, write the working directory and a private TMPDIR, no network */
static int workspace(sbx_policy *p)
{
    if (!p->workdir) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            return sbx__errno(-errno, "profile workspace: getcwd");
        int r = sbx_set_workdir(p, cwd);
        if (r < 0)
            return r;
    }
    return sbx_set_private_tmp(p, 1);
}

/* workspace, and outgoing TCP to the web's ports */
static int networked(sbx_policy *p)
{
    static const int ports[] = {80, 443};
    int r = workspace(p);
    for (size_t i = 0; r == 0 && i < sizeof(ports) / sizeof(ports[0]); i++) {
        bool have = false;
        for (size_t k = 0; k < p->n_connect; k++)
            have = have || p->connect_ports[k] == ports[i];
        if (!have)
            r = sbx_allow_connect(p, ports[i]);
    }
    return r;
}

static const struct {
    const char *name;
    int (*apply)(sbx_policy *);
} profiles[] = {
    {"minimal", minimal},
    {"workspace", workspace},
    {"networked", networked},
};

#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

const char *sbx_profile_name(size_t index)
{
    return index < N_PROFILES ? profiles[index].name : NULL;
}

int sbx__profile_apply(sbx_policy *policy, const char *name)
{
    for (size_t i = 0; i < N_PROFILES; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return profiles[i].apply(policy);
    char list[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < N_PROFILES; i++)
        used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
                                 i ? ", " : "", profiles[i].name);
    return sbx__err(-EINVAL, "unknown profile '%s' (built-in profiles: %s)", name, list);
}

static int apply(sbx_policy *policy, void *name)
{
    return sbx__profile_apply(policy, name);
}

int sbx_policy_apply_profile(sbx_policy *policy, const char *name)
{
    sbx__check_arg(policy);
    sbx__check_arg(name);
    return sbx__policy_transact(policy, apply, (void *)name);
}
