/* Compiling a policy into the immutable plan that spawns apply. Everything that
 * can be decided once per policy is decided here, so that a spawn only copies
 * nothing and the child only makes system calls. */
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layer.h"
#include "outfilter.h"
#include "pathwalk.h"
#include "seccomp_layer.h"

static void add_rlimit(struct sbx__plan *plan, int resource, rlim_t soft, rlim_t hard)
{
    plan->rlimits[plan->n_rlimits].resource = resource;
    plan->rlimits[plan->n_rlimits].value = (struct rlimit){soft, hard};
    plan->n_rlimits++;
}

static int compile_rlimits(const sbx_policy *policy, struct sbx__plan *plan)
{
    const uint64_t *lim = policy->limits;
    bool rlimits_held = true;

    add_rlimit(plan, RLIMIT_CORE, 0, 0);
    if (lim[SBX__LIMIT_CPU] != SBX_UNLIMITED) {
        /* SIGXCPU at the limit, SIGKILL one second later for a child that catches it. */
        add_rlimit(plan, RLIMIT_CPU, lim[SBX__LIMIT_CPU], lim[SBX__LIMIT_CPU] + 1);
        plan->cpu_limit_s = lim[SBX__LIMIT_CPU];
    }
    /* With the cgroup holding the memory limit, RLIMIT_DATA is not set: the
     * cgroup bounds real memory, and runtimes that reserve large writable
     * address space (the JVM, node) keep working (docs/cgroups.md). */
    if (lim[SBX__LIMIT_MEMORY] != SBX_UNLIMITED &&
        plan->mechanism[SBX_LIMIT_MEMORY] != SBX_MECHANISM_CGROUP) {
        add_rlimit(plan, RLIMIT_DATA, lim[SBX__LIMIT_MEMORY], lim[SBX__LIMIT_MEMORY]);
        plan->mechanism[SBX_LIMIT_MEMORY] = SBX_MECHANISM_RLIMIT;
    }
    if (lim[SBX__LIMIT_NOFILE] != SBX_UNLIMITED)
        add_rlimit(plan, RLIMIT_NOFILE, lim[SBX__LIMIT_NOFILE], lim[SBX__LIMIT_NOFILE]);
    if (lim[SBX__LIMIT_FSIZE] != SBX_UNLIMITED) {
        add_rlimit(plan, RLIMIT_FSIZE, lim[SBX__LIMIT_FSIZE], lim[SBX__LIMIT_FSIZE]);
        plan->fsize_limited = true;
    }
    if (lim[SBX__LIMIT_NPROC] != SBX_UNLIMITED &&
        plan->mechanism[SBX_LIMIT_PROCESSES] != SBX_MECHANISM_CGROUP) { /* else pids.max */
        if (sbx__nproc_binds()) {
            add_rlimit(plan, RLIMIT_NPROC, lim[SBX__LIMIT_NPROC], lim[SBX__LIMIT_NPROC]);
            plan->mechanism[SBX_LIMIT_PROCESSES] = SBX_MECHANISM_RLIMIT;
        } else if (policy->best_effort & SBX_LAYER_RLIMITS) {
            rlimits_held = false;
        } else {
            return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                                  "processes limit: RLIMIT_NPROC does not bind root or a process "
                                  "with CAP_SYS_ADMIN/CAP_SYS_RESOURCE, as this host is, and no "
                                  "cgroup could be used in its place (sbx_use_cgroup says why); "
                                  "give one (sbx_set_cgroup_parent) or mark SBX_LAYER_RLIMITS "
                                  "best-effort to run without it");
        }
    }
    if (rlimits_held)
        plan->layers |= SBX_LAYER_RLIMITS;
    return 0;
}

/* The value an environment entry has in the child. */
static const char *env_value(const sbx_policy *policy, const struct sbx__env_entry *e)
{
    if (e->value)
        return e->value;
    return policy->workdir ? policy->workdir : "/"; /* the automatic HOME */
}

/* The working directory, opened now without following a link that a child
 * could have planted: the child enters it with fchdir(2), so that swapping it
 * for a link later changes nothing. A missing directory is left to the
 * child's chdir(2), which reports it. */
static int compile_workdir(const sbx_policy *policy, struct sbx__plan *plan)
{
    const char *wpaths[policy->n_grants + 1];
    struct sbx__write_dirs writable = {wpaths, 0};
    for (size_t i = 0; i < policy->n_grants; i++)
        if (policy->grants[i].access & SBX__FS_WRITES)
            wpaths[writable.n++] = policy->grants[i].path;
    char why[PATH_MAX + 160];
    int fd = sbx__open_grant(policy->workdir, &writable, NULL, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err_stage(SBX_STAGE_COMPILE, -ELOOP, "workdir %s: %s", policy->workdir, why);
    plan->workdir_fd = fd >= 0 ? fd : -1;
    return 0;
}

/* The policy's JSON document (malloc'd), or NULL. */
static char *policy_document(const sbx_policy *policy)
{
    int n = sbx_policy_to_json(policy, NULL, 0);
    char *doc = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (doc && sbx_policy_to_json(policy, doc, (size_t)n + 1) != n) {
        free(doc);
        doc = NULL;
    }
    return doc;
}

int sbx__plan_compile(const sbx_policy *policy, struct sbx__plan **ret)
{
    /* One block: the plan, the envp array, then the strings. */
    size_t n = policy->n_env;
    size_t strings = policy->workdir ? strlen(policy->workdir) + 1 : 0;
    for (size_t i = 0; i < n; i++)
        strings += strlen(policy->env[i].name) + 1 + strlen(env_value(policy, &policy->env[i])) + 1;
    size_t size = sizeof(struct sbx__plan) + (n + 1) * sizeof(char *) + strings;
    struct sbx__plan *plan = calloc(1, size);
    if (!plan)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "compiling the policy");

    char **envp = (char **)plan->block;
    char *s = plan->block + (n + 1) * sizeof(char *);
    for (size_t i = 0; i < n; i++) {
        const struct sbx__env_entry *e = &policy->env[i];
        const char *value = env_value(policy, e);
        size_t nl = strlen(e->name), vl = strlen(value);
        envp[i] = s;
        memcpy(s, e->name, nl);
        s[nl] = '=';
        memcpy(s + nl + 1, value, vl + 1);
        if (strcmp(e->name, "PATH") == 0)
            plan->path = s + nl + 1;
        s += nl + 1 + vl + 1;
    }
    envp[n] = NULL;
    plan->envp = envp;
    plan->workdir_fd = -1;
    if (policy->workdir) {
        memcpy(s, policy->workdir, strlen(policy->workdir) + 1);
        plan->workdir = s;
        int r = compile_workdir(policy, plan);
        if (r < 0) {
            sbx__plan_free(plan);
            return r;
        }
    }

    plan->layers = SBX_LAYER_HYGIENE | SBX_LAYER_NO_NEW_PRIVS;
    if (policy->wall_ms != SBX_UNLIMITED)
        plan->wall_ns = policy->wall_ms * 1000000ull; /* SBX_LAYER_TIMEOUT, per child */
    plan->output_limit = policy->output_limit;
    plan->die_with_parent = policy->die_with_parent;
    plan->subreaper = policy->subreaper;
    plan->n_env = n;
    /* The audit log names the policy by the digest of its document. */
    const struct sbx__output_policy *op = policy->output;
    if (op && (op->audit_fd >= 0 || op->audit_fn))
        plan->document = policy_document(policy);
    /* The layers, in table order: each may read what earlier ones decided
     * (layers.c says who reads what). */
    int r = 0;
    for (size_t i = 0; r == 0 && sbx__layers[i]; i++)
        r = sbx__layers[i]->compile ? sbx__layers[i]->compile(policy, plan) : 0;
    if (r == 0)
        sbx__cgroup_settle(plan);
    /* The child's starting directory, against the rules as the layers left them. */
    if (r == 0)
        r = sbx__landlock_check_start(policy, plan);
    if (plan->document) { /* it may hold secrets (environment values) */
        explicit_bzero(plan->document, strlen(plan->document));
        free(plan->document);
        plan->document = NULL;
    }
    if (r < 0) {
        sbx__plan_free(plan);
        return r;
    }
    *ret = plan;
    return 0;
}

void sbx__plan_free(struct sbx__plan *plan)
{
    if (!plan)
        return;
    if (plan->workdir_fd >= 0)
        close(plan->workdir_fd);
    for (size_t i = 0; sbx__layers[i]; i++)
        if (sbx__layers[i]->plan_free)
            sbx__layers[i]->plan_free(plan);
    free(plan);
}

/* The resource limits, as a layer of the table (the child sets them in its
 * straight line, spawn.c). */
const struct sbx__layer sbx__layer_rlimits = {
    .name = "rlimits",
    .compile = compile_rlimits,
};
