/* The policy builder: every setter validates and copies its input at once. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"

#define NAME_MAX_LEN         255
#define DEFAULT_OUTPUT_LIMIT (4u << 20)

static int env_put(sbx_policy *policy, const char *name, const char *value, bool auto_home);

int sbx_policy_new(sbx_policy **ret)
{
    sbx__check_arg(ret);
    sbx_policy *p = calloc(1, sizeof(*p));
    if (!p)
        return sbx__errno(-ENOMEM, "sbx_policy_new");
    pthread_mutex_init(&p->lock, NULL);
    for (size_t i = 0; i < SBX__LIMIT_COUNT; i++)
        p->limits[i] = SBX_UNLIMITED;
    p->wall_ms = SBX_UNLIMITED;
    p->output_limit = DEFAULT_OUTPUT_LIMIT;
    p->die_with_parent = true;
    p->private_tmp = true;
    p->prepare_ahead = SBX_PREPARE_AHEAD_AUTO;
    if (env_put(p, "PATH", "/usr/local/bin:/usr/bin:/bin", false) < 0 ||
        env_put(p, "LANG", "C.UTF-8", false) < 0 || env_put(p, "HOME", NULL, true) < 0) {
        sbx_policy_free(p);
        return sbx__errno(-ENOMEM, "sbx_policy_new");
    }
    *ret = p;
    return 0;
}

static void retired_free(sbx_policy *policy)
{
    while (policy->retired) {
        struct sbx__plan *next = policy->retired->retired;
        sbx__plan_free(policy->retired);
        policy->retired = next;
    }
}

void sbx_policy_free(sbx_policy *policy)
{
    if (!policy)
        return;
    for (size_t i = 0; i < policy->n_env; i++) {
        free(policy->env[i].name);
        free(policy->env[i].value);
    }
    free(policy->env);
    free(policy->workdir);
    for (size_t i = 0; sbx__layers[i]; i++)
        if (sbx__layers[i]->policy_free)
            sbx__layers[i]->policy_free(policy);
    sbx__ready_free(policy->ready); /* before its plan */
    sbx__plan_free(policy->plan);
    retired_free(policy);
    pthread_mutex_destroy(&policy->lock);
    free(policy);
}

/* The core's own settings: the environment, the working directory, limits. */
static int core_dup(const sbx_policy *from, sbx_policy *to)
{
    if (from->n_env && !(to->env = calloc(from->n_env, sizeof(*to->env))))
        return -ENOMEM;
    to->cap_env = from->n_env;
    for (size_t i = 0; i < from->n_env; i++) {
        struct sbx__env_entry *e = &to->env[i];
        if (!(e->name = strdup(from->env[i].name)) ||
            (from->env[i].value && !(e->value = strdup(from->env[i].value)))) {
            to->n_env = i + 1; /* freed with what it holds */
            return -ENOMEM;
        }
        to->n_env++;
    }
    if (from->workdir && !(to->workdir = strdup(from->workdir)))
        return -ENOMEM;
    memcpy(to->limits, from->limits, sizeof(to->limits));
    to->wall_ms = from->wall_ms;
    to->output_limit = from->output_limit;
    to->best_effort = from->best_effort;
    to->die_with_parent = from->die_with_parent;
    to->prepare_ahead = from->prepare_ahead;
    to->subreaper = from->subreaper;
    return 0;
}

int sbx_policy_dup(const sbx_policy *policy, sbx_policy **ret)
{
    sbx__check_arg(policy);
    sbx__check_arg(ret);
    sbx_policy *p = calloc(1, sizeof(*p));
    if (!p)
        return sbx__errno(-ENOMEM, "%s", __func__);
    pthread_mutex_init(&p->lock, NULL);
    int r = core_dup(policy, p);
    for (size_t i = 0; r == 0 && sbx__layers[i]; i++)
        if (sbx__layers[i]->policy_dup)
            r = sbx__layers[i]->policy_dup(policy, p);
    if (r < 0) {
        sbx_policy_free(p);
        return sbx__errno(r, "%s", __func__);
    }
    *ret = p;
    return 0;
}

void sbx__policy_swap(sbx_policy *a, sbx_policy *b)
{
    /* Everything but the lock; both plans are rebuilt at their next use. */
    sbx_policy tmp;
    size_t off = offsetof(sbx_policy, plan);
    memcpy((char *)&tmp + off, (char *)a + off, sizeof(tmp) - off);
    memcpy((char *)a + off, (char *)b + off, sizeof(tmp) - off);
    memcpy((char *)b + off, (char *)&tmp + off, sizeof(tmp) - off);
    a->generation++;
    b->generation++;
}

int sbx_set_workdir(sbx_policy *policy, const char *dir)
{
    sbx__check_arg(policy);
    sbx__check_arg(dir);
    sbx__check(dir[0] == '/',
               "sbx_set_workdir: the working directory must be an absolute path, got '%s'", dir);
    sbx__check(strlen(dir) < PATH_MAX,
               "sbx_set_workdir: the working directory is longer than PATH_MAX");
    char *copy = strdup(dir);
    if (!copy)
        return sbx__errno(-ENOMEM, "sbx_set_workdir");
    free(policy->workdir);
    policy->workdir = copy;
    sbx__policy_changed(policy);
    return 0;
}

/* ---- environment --------------------------------------------------------- */

static int check_env_name(const char *func, const char *name)
{
    sbx__check(name != NULL, "%s: name is NULL", func);
    size_t len = strlen(name);
    sbx__check(len > 0, "%s: the variable name is empty", func);
    sbx__check(len <= NAME_MAX_LEN, "%s: the variable name is longer than %d bytes", func,
               NAME_MAX_LEN);
    sbx__check(strchr(name, '=') == NULL, "%s: the variable name '%s' contains '='", func, name);
    return 0;
}

static struct sbx__env_entry *env_find(sbx_policy *policy, const char *name)
{
    for (size_t i = 0; i < policy->n_env; i++)
        if (strcmp(policy->env[i].name, name) == 0)
            return &policy->env[i];
    return NULL;
}

static void env_remove(sbx_policy *policy, const char *name)
{
    struct sbx__env_entry *e = env_find(policy, name);
    if (!e)
        return;
    free(e->name);
    free(e->value);
    size_t i = (size_t)(e - policy->env);
    memmove(e, e + 1, (policy->n_env - i - 1) * sizeof(*e));
    policy->n_env--;
}

/* Set name=value (value NULL with auto_home: the automatic HOME). */
static int env_put(sbx_policy *policy, const char *name, const char *value, bool auto_home)
{
    char *v = NULL;
    if (!auto_home && !(v = strdup(value)))
        return -ENOMEM;
    struct sbx__env_entry *e = env_find(policy, name);
    if (e) {
        free(e->value);
        e->value = v;
        return 0;
    }
    if (policy->n_env == policy->cap_env) {
        size_t cap = policy->cap_env ? policy->cap_env * 2 : 8;
        struct sbx__env_entry *grown = realloc(policy->env, cap * sizeof(*grown));
        if (!grown) {
            free(v);
            return -ENOMEM;
        }
        policy->env = grown;
        policy->cap_env = cap;
    }
    char *n = strdup(name);
    if (!n) {
        free(v);
        return -ENOMEM;
    }
    policy->env[policy->n_env++] = (struct sbx__env_entry){n, v};
    return 0;
}

int sbx_set_env(sbx_policy *policy, const char *name, const char *value)
{
    sbx__check_arg(policy);
    int r = check_env_name(__func__, name);
    if (r < 0)
        return r;
    sbx__check_arg(value);
    if (env_put(policy, name, value, false) < 0)
        return sbx__errno(-ENOMEM, "sbx_set_env(%s)", name);
    sbx__policy_changed(policy);
    return 0;
}

int sbx_pass_env(sbx_policy *policy, const char *name)
{
    sbx__check_arg(policy);
    int r = check_env_name(__func__, name);
    if (r < 0)
        return r;
    const char *value = getenv(name);
    if (!value)
        env_remove(policy, name);
    else if (env_put(policy, name, value, false) < 0)
        return sbx__errno(-ENOMEM, "sbx_pass_env(%s)", name);
    sbx__policy_changed(policy);
    return 0;
}

int sbx_unset_env(sbx_policy *policy, const char *name)
{
    sbx__check_arg(policy);
    int r = check_env_name(__func__, name);
    if (r < 0)
        return r;
    env_remove(policy, name);
    sbx__policy_changed(policy);
    return 0;
}

/* ---- limits -------------------------------------------------------------- */

/* Store value in *slot if it lies in [min, max] or is SBX_UNLIMITED. */
static int set_bounded(sbx_policy *policy, uint64_t *slot, uint64_t value, uint64_t min,
                       uint64_t max, const char *func, const char *what)
{
    sbx__check(policy != NULL, "%s: policy is NULL", func);
    sbx__check(value == SBX_UNLIMITED || (value >= min && value <= max),
               "%s: %s %llu is out of range (%llu to %llu, or SBX_UNLIMITED)", func, what,
               (unsigned long long)value, (unsigned long long)min, (unsigned long long)max);
    *slot = value;
    sbx__policy_changed(policy);
    return 0;
}

#define YEAR_S 31536000ull

int sbx_limit_cpu_time(sbx_policy *policy, uint64_t seconds)
{
    return set_bounded(policy, policy ? &policy->limits[SBX__LIMIT_CPU] : NULL, seconds, 1, YEAR_S,
                       __func__, "CPU time (seconds)");
}

int sbx_limit_wall_time(sbx_policy *policy, uint64_t milliseconds)
{
    return set_bounded(policy, policy ? &policy->wall_ms : NULL, milliseconds, 1, YEAR_S * 1000,
                       __func__, "wall time (milliseconds)");
}

int sbx_limit_memory(sbx_policy *policy, uint64_t bytes)
{
    return set_bounded(policy, policy ? &policy->limits[SBX__LIMIT_MEMORY] : NULL, bytes,
                       1ull << 20, 1ull << 50, __func__, "memory (bytes)");
}

int sbx_limit_open_files(sbx_policy *policy, uint64_t count)
{
    return set_bounded(policy, policy ? &policy->limits[SBX__LIMIT_NOFILE] : NULL, count, 4,
                       1ull << 20, __func__, "open files");
}

int sbx_limit_file_size(sbx_policy *policy, uint64_t bytes)
{
    return set_bounded(policy, policy ? &policy->limits[SBX__LIMIT_FSIZE] : NULL, bytes, 0,
                       1ull << 62, __func__, "file size (bytes)");
}

int sbx_limit_processes(sbx_policy *policy, uint64_t count)
{
    return set_bounded(policy, policy ? &policy->limits[SBX__LIMIT_NPROC] : NULL, count, 1, 4194304,
                       __func__, "processes");
}

int sbx_limit_output(sbx_policy *policy, uint64_t bytes)
{
    sbx__check_arg(policy);
    sbx__check(bytes <= (1ull << 30), "%s: output limit %llu is above 1 GiB", __func__,
               (unsigned long long)bytes);
    policy->output_limit = bytes;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_best_effort(sbx_policy *policy, uint32_t layers)
{
    sbx__check_arg(policy);
    sbx__check((layers & ~SBX_LAYER_ALL) == 0, "%s: unknown layer bits 0x%x", __func__,
               (unsigned)(layers & ~SBX_LAYER_ALL));
    policy->best_effort = layers;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_die_with_parent(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    policy->die_with_parent = on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_prepare_ahead(sbx_policy *policy, int mode)
{
    sbx__check_arg(policy);
    sbx__check(mode == SBX_PREPARE_AHEAD_OFF || mode == SBX_PREPARE_AHEAD_ON ||
                   mode == SBX_PREPARE_AHEAD_AUTO,
               "%s: mode must be SBX_PREPARE_AHEAD_OFF (0), _ON (1) or _AUTO (2), got %d", __func__,
               mode);
    /* Not a change of the policy's meaning: its plan stays. */
    pthread_mutex_lock(&policy->lock);
    struct sbx__ready *r = mode ? NULL : policy->ready;
    policy->prepare_ahead = mode;
    policy->prepare_failed = false;
    if (!mode)
        policy->ready = NULL;
    pthread_mutex_unlock(&policy->lock);
    sbx__ready_free(r);
    return 0;
}

/* ---- the compiled plan ----------------------------------------------------- */

int sbx__policy_plan(const sbx_policy *cpolicy, const struct sbx__plan **ret)
{
    /* Compiling fills a cache; the policy's meaning does not change. */
    sbx_policy *policy = (sbx_policy *)cpolicy;
    int r = 0;
    struct sbx__creds creds;
    sbx__creds_get(&creds);
    pthread_mutex_lock(&policy->lock);
    if (policy->plan && policy->plan->generation != policy->generation) {
        sbx__ready_free(policy->ready); /* prepared with the old plan */
        policy->ready = NULL;
        sbx__plan_free(policy->plan); /* a setter changed the policy since */
        policy->plan = NULL;
        retired_free(policy); /* (setters do not run beside spawns) */
    } else if (policy->plan && !sbx__creds_same(&policy->plan->creds, &creds)) {
        /* The host changed its credentials (dropped root after start-up):
         * the plan was made for the old ones (the namespaces it needs, their
         * id maps, what it opened), and so was a sandbox prepared with it. A
         * spawn on another thread may still use the old plan: it is kept
         * until the policy changes or is freed. */
        sbx__ready_free(policy->ready);
        policy->ready = NULL;
        policy->plan->retired = policy->retired;
        policy->retired = policy->plan;
        policy->plan = NULL;
    }
    if (!policy->plan && (r = sbx__plan_compile(policy, &policy->plan)) == 0) {
        policy->plan->generation = policy->generation;
        policy->plan->creds = creds;
    }
    if (r == 0)
        *ret = policy->plan;
    pthread_mutex_unlock(&policy->lock);
    return r;
}
