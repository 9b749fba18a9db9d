/* Policy files, section by section: each section's reader (apply: the
 * document to builder calls) and writer (what differs from a new policy) side
 * by side. The document's order and the all-or-nothing load are in
 * policy_json.c. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentsbx/capchan.h"
#include "broker.h"
#include "json_value.h"
#include "outfilter.h"
#include "policy_json_internal.h"
#include "seccomp_layer.h"

/* ---- "env" ------------------------------------------------------------------------------- */

int sbx__policy_json_apply_env(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *env)
{
    static const char *const keys[] = {"default", "set", "pass", "unset", NULL};
    int r = sbx__json_get_object(c, env, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    size_t old;
    if (json_object_object_get_ex(env, "default", &v)) {
        int keep;
        old = sbx__json_path_key(c, "default");
        if ((r = sbx__json_get_bool(c, v, &keep)) < 0)
            return r;
        if (!keep) {
            /* The clean default environment is what a new policy has. */
            sbx_policy *def;
            CALL(c, sbx_policy_new(&def));
            for (size_t i = 0; i < def->n_env && r == 0; i++)
                r = sbx_unset_env(p, def->env[i].name);
            sbx_policy_free(def);
            if (r < 0)
                return sbx__json_fail_call(c, r);
        }
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(env, "set", &v)) {
        old = sbx__json_path_key(c, "set");
        if (!sbx__json_is(v, json_type_object))
            return sbx__json_fail_type(c, "an object of NAME: \"value\"", v);
        json_object_object_foreach(v, name, val)
        {
            size_t o2 = sbx__json_path_key(c, name);
            const char *s;
            if ((r = sbx__json_get_string(c, val, "a string", &s)) < 0)
                return r;
            CALL(c, sbx_set_env(p, name, s));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    static const char *const lists[] = {"pass", "unset"};
    for (size_t k = 0; k < 2; k++) {
        if (!json_object_object_get_ex(env, lists[k], &v))
            continue;
        old = sbx__json_path_key(c, lists[k]);
        if ((r = sbx__json_get_array(c, v, "an array of variable names")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = sbx__json_path_index(c, i);
            const char *name;
            if ((r = sbx__json_get_string(c, json_object_array_get_idx(v, i), "a variable name",
                                          &name)) < 0)
                return r;
            CALL(c, k == 0 ? sbx_pass_env(p, name) : sbx_unset_env(p, name));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    return 0;
}

static const struct sbx__env_entry *env_get(const sbx_policy *p, const char *name)
{
    for (size_t i = 0; i < p->n_env; i++)
        if (strcmp(p->env[i].name, name) == 0)
            return &p->env[i];
    return NULL;
}

static bool env_same(const struct sbx__env_entry *a, const struct sbx__env_entry *b)
{
    if (!a->value || !b->value)
        return a->value == b->value;
    return strcmp(a->value, b->value) == 0;
}

/* "env": what differs from the default environment, in sorted order. */
void sbx__policy_json_write_env(struct sbx__json_out *o, struct json_object *doc,
                                const sbx_policy *p, const sbx_policy *def)
{
    size_t kept = 0;
    for (size_t i = 0; i < def->n_env; i++) {
        const struct sbx__env_entry *e = env_get(p, def->env[i].name);
        kept += e && env_same(e, &def->env[i]);
    }
    bool keep_default = kept > 0 || def->n_env == 0;
    const char **names = calloc(p->n_env + def->n_env + 1, sizeof(*names));
    if (!names) {
        o->nomem = true;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->n_env; i++) {
        const struct sbx__env_entry *d = env_get(def, p->env[i].name);
        if (p->env[i].value && !(keep_default && d && env_same(d, &p->env[i])))
            names[n++] = p->env[i].name;
    }
    qsort(names, n, sizeof(*names), sbx__json_cmp_str);
    struct json_object *env = sbx__json_checked(o, json_object_new_object());
    if (!keep_default)
        sbx__json_put(o, env, "default", sbx__json_checked(o, json_object_new_boolean(0)));
    if (n) {
        struct json_object *set = sbx__json_checked(o, json_object_new_object());
        for (size_t i = 0; i < n; i++)
            sbx__json_put(o, set, names[i], sbx__json_str(o, env_get(p, names[i])->value));
        sbx__json_put(o, env, "set", set);
    }
    n = 0;
    for (size_t i = 0; keep_default && i < def->n_env; i++)
        if (!env_get(p, def->env[i].name))
            names[n++] = def->env[i].name;
    qsort(names, n, sizeof(*names), sbx__json_cmp_str);
    if (n) {
        struct json_object *unset = sbx__json_checked(o, json_object_new_array());
        for (size_t i = 0; i < n; i++)
            sbx__json_push(o, unset, sbx__json_str(o, names[i]));
        sbx__json_put(o, env, "unset", unset);
    }
    free(names);
    if (env && json_object_object_length(env) > 0)
        sbx__json_put(o, doc, "env", env);
    else
        json_object_put(env);
}

/* ---- "limits" ---------------------------------------------------------------------------- */

enum limit_kind { SIZE, SIZE_BOUNDED, DURATION, SECONDS, COUNT };

int sbx__policy_json_apply_limits(struct sbx__json_ctx *c, sbx_policy *p,
                                  struct json_object *limits)
{
    static const struct {
        const char *key;
        enum limit_kind kind;
        int (*set)(sbx_policy *, uint64_t);
    } table[] = {
        {"cpu", SECONDS, sbx_limit_cpu_time},       {"wall", DURATION, sbx_limit_wall_time},
        {"memory", SIZE, sbx_limit_memory},         {"open_files", COUNT, sbx_limit_open_files},
        {"file_size", SIZE, sbx_limit_file_size},   {"processes", COUNT, sbx_limit_processes},
        {"output", SIZE_BOUNDED, sbx_limit_output}, {"cpu_rate", COUNT, sbx_limit_cpu_rate},
    };
    static const char *const keys[] = {"cpu",       "wall",   "memory",   "open_files", "file_size",
                                       "processes", "output", "cpu_rate", NULL};
    int r = sbx__json_get_object(c, limits, keys);
    if (r < 0)
        return r;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct json_object *v;
        if (!json_object_object_get_ex(limits, table[i].key, &v))
            continue;
        size_t old = sbx__json_path_key(c, table[i].key);
        uint64_t value = 0;
        switch (table[i].kind) {
        case SIZE: r = sbx__json_get_size(c, v, true, &value); break;
        case SIZE_BOUNDED: r = sbx__json_get_size(c, v, false, &value); break;
        case COUNT: r = sbx__json_get_count(c, v, true, &value); break;
        case DURATION:
        case SECONDS:
            r = sbx__json_get_duration(c, v, &value);
            if (r == 0 && table[i].kind == SECONDS && value != SBX_UNLIMITED) {
                if (value % 1000 != 0)
                    return sbx__json_fail(c, -EINVAL,
                                          "expected a whole number of seconds (RLIMIT_CPU counts "
                                          "seconds), got %llu ms",
                                          (unsigned long long)value);
                value /= 1000;
            }
            break;
        }
        if (r < 0)
            return r;
        CALL(c, table[i].set(p, value));
        sbx__json_path_restore(c, old);
    }
    return 0;
}

void sbx__policy_json_write_limits(struct sbx__json_out *o, struct json_object *doc,
                                   const sbx_policy *p, const sbx_policy *def)
{
    struct json_object *limits = sbx__json_checked(o, json_object_new_object());
    if (p->limits[SBX__LIMIT_CPU] != def->limits[SBX__LIMIT_CPU]) {
        uint64_t s = p->limits[SBX__LIMIT_CPU];
        sbx__json_put(o, limits, "cpu",
                      sbx__json_duration_value(o, s == SBX_UNLIMITED ? s : s * 1000));
    }
    if (p->wall_ms != def->wall_ms)
        sbx__json_put(o, limits, "wall", sbx__json_duration_value(o, p->wall_ms));
    if (p->limits[SBX__LIMIT_MEMORY] != def->limits[SBX__LIMIT_MEMORY])
        sbx__json_put(o, limits, "memory", sbx__json_size_value(o, p->limits[SBX__LIMIT_MEMORY]));
    if (p->limits[SBX__LIMIT_NOFILE] != def->limits[SBX__LIMIT_NOFILE])
        sbx__json_put(o, limits, "open_files",
                      sbx__json_count_value(o, p->limits[SBX__LIMIT_NOFILE]));
    if (p->limits[SBX__LIMIT_FSIZE] != def->limits[SBX__LIMIT_FSIZE])
        sbx__json_put(o, limits, "file_size", sbx__json_size_value(o, p->limits[SBX__LIMIT_FSIZE]));
    if (p->limits[SBX__LIMIT_NPROC] != def->limits[SBX__LIMIT_NPROC])
        sbx__json_put(o, limits, "processes",
                      sbx__json_count_value(o, p->limits[SBX__LIMIT_NPROC]));
    if (p->output_limit != def->output_limit)
        sbx__json_put(o, limits, "output", sbx__json_size_value(o, p->output_limit));
    if (p->limits[SBX__LIMIT_CPU_RATE] != def->limits[SBX__LIMIT_CPU_RATE])
        sbx__json_put(o, limits, "cpu_rate",
                      sbx__json_count_value(o, p->limits[SBX__LIMIT_CPU_RATE]));
    if (limits && json_object_object_length(limits) > 0)
        sbx__json_put(o, doc, "limits", limits);
    else
        json_object_put(limits);
}

/* ---- "grants" and "tools" ---------------------------------------------------------------- */

static const char *const access_names[] = {"read",       "write",    "exec",   "optional",
                                           "write_file", "truncate", "create", "remove",
                                           "symlink",    "special",  "refer",  "ioctl_dev"};
static const uint64_t access_bits[] = {SBX_FS_READ,         SBX_FS_WRITE,      SBX_FS_EXEC,
                                       SBX_FS_OPTIONAL,     SBX_FS_WRITE_FILE, SBX_FS_TRUNCATE,
                                       SBX_FS_CREATE,       SBX_FS_REMOVE,     SBX_FS_MAKE_SYMLINK,
                                       SBX_FS_MAKE_SPECIAL, SBX_FS_REFER,      SBX_FS_IOCTL_DEV};
#define N_ACCESS (sizeof(access_names) / sizeof(access_names[0]))
#define ACCESS_FORMS                                                                               \
    "\"read\", \"write\", \"exec\", \"optional\" or a part of \"write\" (\"write_file\", "         \
    "\"truncate\", \"create\", \"remove\", \"symlink\", \"special\", \"refer\", \"ioctl_dev\")"

/* The string member `key` of obj, which must be there (`missing` says what
 * every such object has). */
static int member_string(struct sbx__json_ctx *c, struct json_object *obj, const char *key,
                         const char *missing, const char **ret)
{
    struct json_object *v;
    size_t old = sbx__json_path_key(c, key);
    if (!json_object_object_get_ex(obj, key, &v))
        return sbx__json_fail(c, -EINVAL, "%s", missing);
    int r = sbx__json_get_string(c, v, "an absolute path", ret);
    if (r < 0)
        return r;
    sbx__json_path_restore(c, old);
    return 0;
}

/* obj's "access" list: names among the first n of access_names (`forms` says
 * which), as their bits. */
static int member_access(struct sbx__json_ctx *c, struct json_object *obj, const char *missing,
                         size_t n, const char *list_what, const char *forms, uint64_t *ret)
{
    struct json_object *v;
    size_t old = sbx__json_path_key(c, "access");
    if (!json_object_object_get_ex(obj, "access", &v))
        return sbx__json_fail(c, -EINVAL, "%s", missing);
    int r = sbx__json_get_array(c, v, list_what);
    if (r < 0)
        return r;
    uint64_t access = 0;
    for (size_t k = 0; k < json_object_array_length(v); k++) {
        size_t o2 = sbx__json_path_index(c, k);
        const char *name;
        struct json_object *item = json_object_array_get_idx(v, k);
        if ((r = sbx__json_get_string(c, item, forms, &name)) < 0)
            return r;
        size_t a = 0;
        while (a < n && strcmp(name, access_names[a]) != 0)
            a++;
        if (a == n)
            return sbx__json_fail_type(c, forms, item);
        access |= access_bits[a];
        sbx__json_path_restore(c, o2);
    }
    *ret = access;
    sbx__json_path_restore(c, old);
    return 0;
}

int sbx__policy_json_apply_grants(struct sbx__json_ctx *c, sbx_policy *p,
                                  struct json_object *grants)
{
    static const char *const keys[] = {"path", "access", NULL};
    static const char missing[] = "missing (every grant has a path and an access list)";
    int r = sbx__json_get_array(c, grants, "an array of grants");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(grants); i++) {
        size_t old = sbx__json_path_index(c, i);
        struct json_object *g = json_object_array_get_idx(grants, i);
        const char *path;
        uint64_t access = 0;
        if ((r = sbx__json_get_object(c, g, keys)) < 0 ||
            (r = member_string(c, g, "path", missing, &path)) < 0 ||
            (r = member_access(c, g, missing, N_ACCESS,
                               "an array of \"read\", \"write\", \"exec\", \"optional\"",
                               ACCESS_FORMS, &access)) < 0)
            return r;
        if (!(access & ~SBX_FS_OPTIONAL)) {
            sbx__json_path_key(c, "access"); /* the message names the list */
            return sbx__json_fail(c, -EINVAL,
                                  "grants nothing (expected \"read\", \"write\" or \"exec\")");
        }
        CALL(c, sbx_allow_path(p, path, access));
        sbx__json_path_restore(c, old);
    }
    return 0;
}

void sbx__policy_json_write_grants(struct sbx__json_out *o, struct json_object *doc,
                                   const sbx_policy *p)
{
    size_t shown = 0;
    for (size_t i = 0; i < p->n_grants; i++)
        shown += !p->grants[i].internal;
    if (!shown)
        return;
    struct json_object *grants = sbx__json_checked(o, json_object_new_array());
    for (size_t i = 0; i < p->n_grants; i++) {
        if (p->grants[i].internal)
            continue;
        struct json_object *g = sbx__json_checked(o, json_object_new_object());
        struct json_object *access = sbx__json_checked(o, json_object_new_array());
        sbx__json_put(o, g, "path", sbx__json_str(o, p->grants[i].path));
        for (size_t a = 0; a < N_ACCESS; a++)
            if (p->grants[i].access & access_bits[a])
                sbx__json_push(o, access, sbx__json_str(o, access_names[a]));
        sbx__json_put(o, g, "access", access);
        sbx__json_push(o, grants, g);
    }
    sbx__json_put(o, doc, "grants", grants);
}

/* The tools with argument rules, as "tools": {...} (the plain ones are
 * written as the grants they resolve to). */
void sbx__policy_json_write_tool_rules(struct sbx__json_out *o, struct json_object *doc,
                                       const sbx_policy *p)
{
    const char *name;
    const char *const *allow, *const *deny;
    size_t n = sbx__capchan_tool_rules(p, SIZE_MAX, &name, &allow, &deny);
    if (!n)
        return;
    struct json_object *tools = sbx__json_checked(o, json_object_new_object());
    for (size_t i = 0; i < n; i++) {
        sbx__capchan_tool_rules(p, i, &name, &allow, &deny);
        struct json_object *t = sbx__json_checked(o, json_object_new_object());
        struct json_object *a = sbx__json_checked(o, json_object_new_array());
        for (size_t k = 0; allow[k]; k++)
            sbx__json_push(o, a, sbx__json_str(o, allow[k]));
        sbx__json_put(o, t, "allow", a);
        if (deny[0]) {
            struct json_object *d = sbx__json_checked(o, json_object_new_array());
            for (size_t k = 0; deny[k]; k++)
                sbx__json_push(o, d, sbx__json_str(o, deny[k]));
            sbx__json_put(o, t, "deny_options", d);
        }
        sbx__json_put(o, tools, name, t);
    }
    sbx__json_put(o, doc, "tools", tools);
}

/* "tool_bundles": {"NAME": {"programs": [names or paths], "dirs": [paths]}}:
 * what a tool of "tools" executes besides itself, in addition to the
 * library's own table (docs/landlock.md). Checked whole, used or not. */
int sbx__policy_json_apply_tool_bundles(struct sbx__json_ctx *c, sbx_policy *p,
                                        struct json_object *bundles)
{
    (void)p; /* applied by "tools" (apply_bundle) */
    static const char *const keys[] = {"programs", "dirs", NULL};
    int r;
    if (!sbx__json_is(bundles, json_type_object))
        return sbx__json_fail_type(c, "an object of tool names", bundles);
    json_object_object_foreach(bundles, name, b)
    {
        size_t old = sbx__json_path_key(c, name);
        if ((r = sbx__json_get_object(c, b, keys)) < 0)
            return r;
        for (size_t k = 0; keys[k]; k++) {
            struct json_object *list;
            if (!json_object_object_get_ex(b, keys[k], &list))
                continue;
            size_t o2 = sbx__json_path_key(c, keys[k]);
            if ((r = sbx__json_get_array(c, list,
                                         k ? "an array of absolute paths"
                                           : "an array of program names or paths")) < 0)
                return r;
            for (size_t i = 0; i < json_object_array_length(list); i++) {
                size_t o3 = sbx__json_path_index(c, i);
                const char *s;
                if ((r = sbx__json_get_string(c, json_object_array_get_idx(list, i),
                                              k ? "an absolute path" : "a program name or path",
                                              &s)) < 0)
                    return r;
                sbx__json_path_restore(c, o3);
            }
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    c->bundles = bundles;
    return 0;
}

/* The programs and directories of the document's bundle for a tool. */
static int apply_bundle(struct sbx__json_ctx *c, sbx_policy *p, const char *tool)
{
    struct json_object *b, *list;
    if (!c->bundles || !json_object_object_get_ex(c->bundles, tool, &b))
        return 0;
    for (int dirs = 0; dirs < 2; dirs++) {
        if (!json_object_object_get_ex(b, dirs ? "dirs" : "programs", &list))
            continue;
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            const char *s = json_object_get_string(json_object_array_get_idx(list, i));
            if (dirs)
                CALL(c, sbx_allow_path(p, s, SBX_FS_READ | SBX_FS_EXEC));
            else
                CALL(c, sbx_allow_tool(p, s));
        }
    }
    return 0;
}

/* A JSON array of strings as a NULL-terminated vector (strings of the
 * document); NULL with the failure reported. */
static const char **string_list(struct sbx__json_ctx *c, struct json_object *a, const char *what)
{
    if (sbx__json_get_array(c, a, what) < 0)
        return NULL;
    if (json_object_array_length(a) == 0) {
        sbx__json_fail(c, -EINVAL, "empty (%s, at least one)", what);
        return NULL;
    }
    size_t n = json_object_array_length(a);
    const char **v = calloc(n + 1, sizeof(*v));
    if (!v) {
        sbx__json_fail(c, -ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        size_t old = sbx__json_path_index(c, i);
        if (sbx__json_get_string(c, json_object_array_get_idx(a, i), "a string", &v[i]) < 0) {
            free(v);
            return NULL;
        }
        sbx__json_path_restore(c, old);
    }
    return v;
}

/* "tools": {"git": {"allow": ["status", "log *"], "deny_options": ["-c"]}, "make": true}:
 * argument rules (sbx_allow_tool_args), or plain grants as in the array form. */
static int apply_tool_rules(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *tools)
{
    static const char *const keys[] = {"allow", "deny_options", NULL};
    int r;
    json_object_object_foreach(tools, name, v)
    {
        size_t old = sbx__json_path_key(c, name);
        if (sbx__json_is(v, json_type_boolean) && json_object_get_boolean(v)) {
            CALL(c, sbx_allow_tool(p, name));
            if ((r = apply_bundle(c, p, name)) < 0)
                return r;
            sbx__json_path_restore(c, old);
            continue;
        }
        if ((r = sbx__json_get_object(c, v, keys)) < 0)
            return r;
        struct json_object *av = NULL, *dv = NULL;
        if (!json_object_object_get_ex(v, "allow", &av))
            return sbx__json_fail(c, -EINVAL, "missing \"allow\" (true, or the argument rules)");
        size_t o2 = sbx__json_path_key(c, "allow");
        const char **allow = string_list(c, av, "an array of argument patterns");
        if (!allow)
            return -EINVAL;
        sbx__json_path_restore(c, o2);
        const char **deny = NULL;
        if (json_object_object_get_ex(v, "deny_options", &dv)) {
            o2 = sbx__json_path_key(c, "deny_options");
            if (!(deny = string_list(c, dv, "an array of denied options or words"))) {
                free(allow);
                return -EINVAL;
            }
            sbx__json_path_restore(c, o2);
        }
        r = sbx_allow_tool_args(p, name, allow, deny);
        free(allow);
        free(deny);
        CALL(c, r);
        sbx__json_path_restore(c, old);
    }
    return 0;
}

int sbx__policy_json_apply_tools(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *tools)
{
    if (sbx__json_is(tools, json_type_object))
        return apply_tool_rules(c, p, tools);
    int r = sbx__json_get_array(c, tools,
                                "an array of tool names or paths, or an object of argument rules");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(tools); i++) {
        size_t old = sbx__json_path_index(c, i);
        const char *name = NULL;
        if ((r = sbx__json_get_string(c, json_object_array_get_idx(tools, i), "a tool name or path",
                                      &name)) < 0)
            return r;
        CALL(c, sbx_allow_tool(p, name));
        if ((r = apply_bundle(c, p, name)) < 0)
            return r;
        sbx__json_path_restore(c, old);
    }
    return 0;
}

/* ---- "deny", "protected", "binds", "tmpfs" (carve.c) ------------------------------------ */

/* "deny": [{"path": "/ws/.git/hooks", "access": ["write"]}, ...] (sbx_deny_path()). */
int sbx__policy_json_apply_deny(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *denies)
{
    static const char *const keys[] = {"path", "access", NULL};
    static const char missing[] = "missing (every denied path has a path and an access list)";
    int r = sbx__json_get_array(c, denies, "an array of denied paths");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(denies); i++) {
        size_t old = sbx__json_path_index(c, i);
        struct json_object *g = json_object_array_get_idx(denies, i);
        const char *path;
        uint64_t access = 0;
        if ((r = sbx__json_get_object(c, g, keys)) < 0 ||
            (r = member_string(c, g, "path", missing, &path)) < 0 ||
            (r = member_access(c, g, missing, 2, "an array of \"read\", \"write\"",
                               "\"read\" or \"write\"", &access)) < 0)
            return r;
        if (!access) {
            sbx__json_path_key(c, "access"); /* the message names the list */
            return sbx__json_fail(c, -EINVAL, "denies nothing (expected \"read\" or \"write\")");
        }
        CALL(c, sbx_deny_path(p, path, access));
        sbx__json_path_restore(c, old);
    }
    return 0;
}

/* "protected": ["name", ...]: the effective protected list (sbx_protect_path(),
 * sbx_unprotect()): the defaults not listed are removed, the names listed added. */
int sbx__policy_json_apply_protected(struct sbx__json_ctx *c, sbx_policy *p,
                                     struct json_object *names)
{
    int r = sbx__json_get_array(c, names, "an array of names");
    if (r < 0)
        return r;
    size_t n = json_object_array_length(names);
    for (size_t i = 0; i < n; i++) {
        size_t old = sbx__json_path_index(c, i);
        const char *name;
        if ((r = sbx__json_get_string(c, json_object_array_get_idx(names, i), "a relative name",
                                      &name)) < 0)
            return r;
        CALL(c, sbx_protect_path(p, name));
        sbx__json_path_restore(c, old);
    }
    const char *name;
    for (size_t i = 0; sbx_policy_protected(p, i, &name) == 0;) {
        bool keep = false;
        for (size_t k = 0; k < n && !keep; k++)
            keep = strcmp(json_object_get_string(json_object_array_get_idx(names, k)), name) == 0;
        if (keep) {
            i++;
            continue;
        }
        CALL(c, sbx_unprotect(p, name));
    }
    return 0;
}

/* "binds": [{"source": "/host/ws", "dest": "/workspace", "access": ["read", "write"]}] */
int sbx__policy_json_apply_binds(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *binds)
{
    static const char *const keys[] = {"source", "dest", "access", NULL};
    static const char missing[] = "missing (every bind has a source, a dest and an access list)";
    int r = sbx__json_get_array(c, binds, "an array of binds");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(binds); i++) {
        size_t old = sbx__json_path_index(c, i);
        struct json_object *g = json_object_array_get_idx(binds, i);
        const char *src, *dest;
        uint64_t access = 0;
        if ((r = sbx__json_get_object(c, g, keys)) < 0 ||
            (r = member_string(c, g, "source", missing, &src)) < 0 ||
            (r = member_string(c, g, "dest", missing, &dest)) < 0 ||
            (r = member_access(c, g, missing, 3, "an array of \"read\", \"write\", \"exec\"",
                               "\"read\", \"write\" or \"exec\"", &access)) < 0)
            return r;
        CALL(c, sbx_bind(p, src, dest, access));
        sbx__json_path_restore(c, old);
    }
    return 0;
}

/* "tmpfs": [{"path": "/scratch", "size": "64M"}] (size optional) */
int sbx__policy_json_apply_tmpfs(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *list)
{
    static const char *const keys[] = {"path", "size", NULL};
    int r = sbx__json_get_array(c, list, "an array of tmpfs mounts");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        size_t old = sbx__json_path_index(c, i);
        struct json_object *g = json_object_array_get_idx(list, i), *v;
        if ((r = sbx__json_get_object(c, g, keys)) < 0)
            return r;
        const char *path;
        uint64_t size = 0;
        size_t o2 = sbx__json_path_key(c, "path");
        if (!json_object_object_get_ex(g, "path", &v))
            return sbx__json_fail(c, -EINVAL, "missing (every tmpfs has a path)");
        if ((r = sbx__json_get_string(c, v, "an absolute path", &path)) < 0)
            return r;
        sbx__json_path_restore(c, o2);
        if (json_object_object_get_ex(g, "size", &v)) {
            o2 = sbx__json_path_key(c, "size");
            if ((r = sbx__json_get_size(c, v, false, &size)) < 0)
                return r;
            sbx__json_path_restore(c, o2);
        }
        CALL(c, sbx_tmpfs(p, path, size));
        sbx__json_path_restore(c, old);
    }
    return 0;
}

/* "overlays": [{"path": "/home/me/ws", "upper": "/var/tmp/review"}] (upper optional; overlay.c) */
int sbx__policy_json_apply_overlays(struct sbx__json_ctx *c, sbx_policy *p,
                                    struct json_object *list)
{
    static const char *const keys[] = {"path", "upper", NULL};
    int r = sbx__json_get_array(c, list, "an array of overlays");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        size_t old = sbx__json_path_index(c, i);
        struct json_object *g = json_object_array_get_idx(list, i), *v;
        const char *path, *upper = NULL;
        if ((r = sbx__json_get_object(c, g, keys)) < 0 ||
            (r = member_string(c, g, "path", "missing (every overlay has a path)", &path)) < 0)
            return r;
        if (json_object_object_get_ex(g, "upper", &v)) {
            size_t o2 = sbx__json_path_key(c, "upper");
            if ((r = sbx__json_get_string(c, v, "an absolute path", &upper)) < 0)
                return r;
            sbx__json_path_restore(c, o2);
        }
        CALL(c, sbx_overlay(p, path, upper));
        sbx__json_path_restore(c, old);
    }
    return 0;
}

void sbx__policy_json_write_mounts(struct sbx__json_out *o, struct json_object *doc,
                                   const sbx_policy *p)
{
    if (p->n_overlays) {
        struct json_object *arr = sbx__json_checked(o, json_object_new_array());
        for (size_t i = 0; i < p->n_overlays; i++) {
            struct json_object *g = sbx__json_checked(o, json_object_new_object());
            sbx__json_put(o, g, "path", sbx__json_str(o, p->overlays[i].lower));
            if (p->overlays[i].upper)
                sbx__json_put(o, g, "upper", sbx__json_str(o, p->overlays[i].upper));
            sbx__json_push(o, arr, g);
        }
        sbx__json_put(o, doc, "overlays", arr);
    }
    if (p->n_binds) {
        struct json_object *arr = sbx__json_checked(o, json_object_new_array());
        for (size_t i = 0; i < p->n_binds; i++) {
            struct json_object *g = sbx__json_checked(o, json_object_new_object());
            struct json_object *access = sbx__json_checked(o, json_object_new_array());
            sbx__json_put(o, g, "source", sbx__json_str(o, p->binds[i].src));
            sbx__json_put(o, g, "dest", sbx__json_str(o, p->binds[i].dest));
            for (size_t a = 0; a < 3; a++)
                if (p->binds[i].access & access_bits[a])
                    sbx__json_push(o, access, sbx__json_str(o, access_names[a]));
            sbx__json_put(o, g, "access", access);
            sbx__json_push(o, arr, g);
        }
        sbx__json_put(o, doc, "binds", arr);
    }
    if (p->n_tmpfs) {
        struct json_object *arr = sbx__json_checked(o, json_object_new_array());
        for (size_t i = 0; i < p->n_tmpfs; i++) {
            struct json_object *g = sbx__json_checked(o, json_object_new_object());
            sbx__json_put(o, g, "path", sbx__json_str(o, p->tmpfs[i].path));
            if (p->tmpfs[i].size)
                sbx__json_put(o, g, "size", sbx__json_size_value(o, p->tmpfs[i].size));
            sbx__json_push(o, arr, g);
        }
        sbx__json_put(o, doc, "tmpfs", arr);
    }
}

/* The effective protected list, when it differs from the default one. */
void sbx__policy_json_write_protected(struct sbx__json_out *o, struct json_object *doc,
                                      const sbx_policy *p)
{
    const char *name;
    size_t n = 0;
    bool same = true;
    while (sbx_policy_protected(p, n, &name) == 0) {
        same = same && sbx_protected_default(n) && strcmp(sbx_protected_default(n), name) == 0;
        n++;
    }
    if (same && !sbx_protected_default(n))
        return;
    struct json_object *arr = sbx__json_checked(o, json_object_new_array());
    for (size_t i = 0; sbx_policy_protected(p, i, &name) == 0; i++)
        sbx__json_push(o, arr, sbx__json_str(o, name));
    sbx__json_put(o, doc, "protected", arr);
}

void sbx__policy_json_write_deny(struct sbx__json_out *o, struct json_object *doc,
                                 const sbx_policy *p)
{
    if (!p->n_denies)
        return;
    struct json_object *denies = sbx__json_checked(o, json_object_new_array());
    for (size_t i = 0; i < p->n_denies; i++) {
        struct json_object *g = sbx__json_checked(o, json_object_new_object());
        struct json_object *access = sbx__json_checked(o, json_object_new_array());
        sbx__json_put(o, g, "path", sbx__json_str(o, p->denies[i].path));
        if (p->denies[i].access & SBX_FS_READ)
            sbx__json_push(o, access, sbx__json_str(o, "read"));
        if (p->denies[i].access & SBX_FS_WRITE)
            sbx__json_push(o, access, sbx__json_str(o, "write"));
        sbx__json_put(o, g, "access", access);
        sbx__json_push(o, denies, g);
    }
    sbx__json_put(o, doc, "deny", denies);
}

/* ---- "network" --------------------------------------------------------------------------- */

static bool has_port(const uint16_t *ports, size_t n, uint64_t port)
{
    for (size_t i = 0; i < n; i++)
        if (ports[i] == port)
            return true;
    return false;
}

int sbx__policy_json_apply_network(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *net)
{
    static const char *const keys[] = {"unrestricted", "connect",    "bind",
                                       "hosts",        "deny_hosts", NULL};
    int r = sbx__json_get_object(c, net, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    /* Host grants and denials (the egress broker): sbx_allow_host() and
     * sbx_deny_host() for each pattern; a pattern given twice is kept once. */
    for (int deny = 0; deny < 2; deny++) {
        const char *key = deny ? "deny_hosts" : "hosts";
        if (!json_object_object_get_ex(net, key, &v))
            continue;
        size_t old = sbx__json_path_key(c, key);
        if ((r = sbx__json_get_array(c, v, "an array of host patterns")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = sbx__json_path_index(c, i);
            const char *pattern;
            if ((r = sbx__json_get_string(c, json_object_array_get_idx(v, i), "a host pattern",
                                          &pattern)) < 0)
                return r;
            CALL(c, deny ? sbx_deny_host(p, pattern) : sbx_allow_host(p, pattern));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(net, "unrestricted", &v)) {
        size_t old = sbx__json_path_key(c, "unrestricted");
        int on;
        if ((r = sbx__json_get_bool(c, v, &on)) < 0)
            return r;
        if (on) /* false takes nothing back: grants only widen */
            CALL(c, sbx_allow_network(p));
        sbx__json_path_restore(c, old);
    }
    for (int bind = 0; bind < 2; bind++) {
        if (!json_object_object_get_ex(net, bind ? "bind" : "connect", &v))
            continue;
        size_t old = sbx__json_path_key(c, bind ? "bind" : "connect");
        if ((r = sbx__json_get_array(c, v, "an array of TCP ports")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = sbx__json_path_index(c, i);
            struct json_object *item = json_object_array_get_idx(v, i);
            uint64_t port;
            if (!sbx__json_get_uint(item, &port) || port > 65535 || (!bind && port == 0))
                return sbx__json_fail_type(
                    c, bind ? "a TCP port (0 to 65535)" : "a TCP port (1 to 65535)", item);
            bool dup = bind ? has_port(p->bind_ports, p->n_bind, port)
                            : has_port(p->connect_ports, p->n_connect, port);
            if (!dup)
                CALL(c, bind ? sbx_allow_bind(p, (int)port) : sbx_allow_connect(p, (int)port));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    return 0;
}

static struct json_object *ports_value(struct sbx__json_out *o, const uint16_t *ports, size_t n)
{
    struct json_object *arr = sbx__json_checked(o, json_object_new_array());
    for (size_t i = 0; i < n; i++)
        if (!has_port(ports, i, ports[i])) /* each port once */
            sbx__json_push(o, arr, sbx__json_checked(o, json_object_new_int(ports[i])));
    return arr;
}

void sbx__policy_json_write_network(struct sbx__json_out *o, struct json_object *doc,
                                    const sbx_policy *p)
{
    const struct sbx__egress_policy *eg = p->egress;
    size_t n_allow = eg ? eg->n_allow : 0, n_deny = eg ? eg->n_deny : 0;
    if (!p->allow_network && !p->n_connect && !p->n_bind && !n_allow && !n_deny)
        return;
    struct json_object *net = sbx__json_checked(o, json_object_new_object());
    if (p->allow_network)
        sbx__json_put(o, net, "unrestricted", sbx__json_checked(o, json_object_new_boolean(1)));
    if (p->n_connect)
        sbx__json_put(o, net, "connect", ports_value(o, p->connect_ports, p->n_connect));
    if (p->n_bind)
        sbx__json_put(o, net, "bind", ports_value(o, p->bind_ports, p->n_bind));
    for (int deny = 0; deny < 2; deny++) {
        size_t n = deny ? n_deny : n_allow;
        if (!n)
            continue;
        struct json_object *arr = sbx__json_checked(o, json_object_new_array());
        for (size_t i = 0; i < n; i++)
            sbx__json_push(o, arr,
                           sbx__json_checked(o, json_object_new_string(deny ? eg->deny[i].text
                                                                            : eg->allow[i].text)));
        sbx__json_put(o, net, deny ? "deny_hosts" : "hosts", arr);
    }
    sbx__json_put(o, doc, "network", net);
}

/* ---- "seccomp" --------------------------------------------------------------------------- */

int sbx__policy_json_apply_seccomp(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *sc)
{
    static const char *const keys[] = {"allowlist",      "monitor",  "violation_limit",
                                       "violation_rate", "deny",     "allow",
                                       "exec_report",    "diagnose", NULL};
    int r = sbx__json_get_object(c, sc, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    size_t old;
    int on;
    if (json_object_object_get_ex(sc, "allowlist", &v)) {
        old = sbx__json_path_key(c, "allowlist");
        if ((r = sbx__json_get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_syscall_allowlist(p, on));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "exec_report", &v)) {
        old = sbx__json_path_key(c, "exec_report");
        if ((r = sbx__json_get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_exec_reporting(p, on));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "diagnose", &v)) {
        old = sbx__json_path_key(c, "diagnose");
        if ((r = sbx__json_get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_diagnose(p, on));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "monitor", &v)) {
        old = sbx__json_path_key(c, "monitor");
        if ((r = sbx__json_get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_violation_monitor(p, on));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "violation_limit", &v)) {
        old = sbx__json_path_key(c, "violation_limit");
        uint64_t n = 0;
        if ((r = sbx__json_get_count(c, v, true, &n)) < 0)
            return r;
        CALL(c, sbx_set_violation_limit(p, n));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "violation_rate", &v)) {
        old = sbx__json_path_key(c, "violation_rate");
        uint64_t n = 0;
        if ((r = sbx__json_get_count(c, v, false, &n)) < 0)
            return r;
        CALL(c, sbx_set_violation_rate(p, n));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "deny", &v)) {
        old = sbx__json_path_key(c, "deny");
        if (!sbx__json_is(v, json_type_object))
            return sbx__json_fail_type(c, "an object of \"syscall\": errno", v);
        json_object_object_foreach(v, name, val)
        {
            size_t o2 = sbx__json_path_key(c, name);
            int error = 0;
            if ((r = sbx__json_get_errno(c, val, &error)) < 0)
                return r;
            CALL(c, sbx_deny_syscall(p, name, error));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "allow", &v)) {
        old = sbx__json_path_key(c, "allow");
        if ((r = sbx__json_get_array(c, v, "an array of system call names")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = sbx__json_path_index(c, i);
            const char *name;
            if ((r = sbx__json_get_string(c, json_object_array_get_idx(v, i), "a system call name",
                                          &name)) < 0)
                return r;
            CALL(c, sbx_allow_syscall(p, name));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    return 0;
}

void sbx__policy_json_write_seccomp(struct sbx__json_out *o, struct json_object *doc,
                                    const sbx_policy *p)
{
    const struct sbx__seccomp_policy *sp = p->seccomp;
    if (!sp)
        return;
    struct json_object *sc = sbx__json_checked(o, json_object_new_object());
    if (sp->allowlist)
        sbx__json_put(o, sc, "allowlist", sbx__json_checked(o, json_object_new_boolean(1)));
    if (sp->monitor_off)
        sbx__json_put(o, sc, "monitor", sbx__json_checked(o, json_object_new_boolean(0)));
    if (sp->exec_report)
        sbx__json_put(o, sc, "exec_report", sbx__json_checked(o, json_object_new_boolean(1)));
    if (sp->diagnose)
        sbx__json_put(o, sc, "diagnose", sbx__json_checked(o, json_object_new_boolean(1)));
    if (sp->violation_limit)
        sbx__json_put(o, sc, "violation_limit", sbx__json_count_value(o, sp->violation_limit));
    if (sp->violation_rate)
        sbx__json_put(
            o, sc, "violation_rate",
            sbx__json_count_value(o, sp->violation_rate == UINT64_MAX ? 0 : sp->violation_rate));
    struct json_object *deny = sbx__json_checked(o, json_object_new_object());
    struct json_object *allow = sbx__json_checked(o, json_object_new_array());
    for (size_t i = 0; i < sp->n_rules; i++) {
        char name[64];
        sbx__syscall_name(SCMP_ARCH_NATIVE, sp->rules[i].nr, name, sizeof(name));
        int error = sp->rules[i].error;
        if (error == 0) {
            sbx__json_push(o, allow, sbx__json_str(o, name));
        } else if (error == SBX_SYSCALL_KILL) {
            sbx__json_put(o, deny, name, sbx__json_str(o, "kill"));
        } else {
            const char *ename = strerrorname_np(error);
            sbx__json_put(o, deny, name,
                          ename ? sbx__json_str(o, ename)
                                : sbx__json_checked(o, json_object_new_int(error)));
        }
    }
    if (deny && json_object_object_length(deny) > 0)
        sbx__json_put(o, sc, "deny", deny);
    else
        json_object_put(deny);
    if (allow && json_object_array_length(allow) > 0)
        sbx__json_put(o, sc, "allow", allow);
    else
        json_object_put(allow);
    if (sc && json_object_object_length(sc) > 0)
        sbx__json_put(o, doc, "seccomp", sc);
    else
        json_object_put(sc);
}

/* ---- "cgroup" ---------------------------------------------------------------------------- */

int sbx__policy_json_apply_cgroup(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *cg)
{
    static const char *const keys[] = {"enabled", "parents", NULL};
    int r = sbx__json_get_object(c, cg, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    if (json_object_object_get_ex(cg, "enabled", &v)) {
        size_t old = sbx__json_path_key(c, "enabled");
        int on = 0;
        if ((r = sbx__json_get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_use_cgroup(p, on));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(cg, "parents", &v)) {
        size_t old = sbx__json_path_key(c, "parents");
        if ((r = sbx__json_get_array(c, v, "an array of cgroup directories")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = sbx__json_path_index(c, i);
            const char *dir;
            if ((r = sbx__json_get_string(c, json_object_array_get_idx(v, i), "an absolute path",
                                          &dir)) < 0)
                return r;
            CALL(c, sbx_set_cgroup_parent(p, dir));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    return 0;
}

void sbx__policy_json_write_cgroup(struct sbx__json_out *o, struct json_object *doc,
                                   const sbx_policy *p, const sbx_policy *def)
{
    if (p->use_cgroup == def->use_cgroup && p->no_cgroup == def->no_cgroup && !p->n_cg_parents)
        return;
    struct json_object *cg = sbx__json_checked(o, json_object_new_object());
    if (p->use_cgroup != def->use_cgroup || p->no_cgroup != def->no_cgroup)
        sbx__json_put(o, cg, "enabled",
                      sbx__json_checked(o, json_object_new_boolean(p->use_cgroup)));
    if (p->n_cg_parents) {
        struct json_object *parents = sbx__json_checked(o, json_object_new_array());
        for (size_t i = 0; i < p->n_cg_parents; i++)
            sbx__json_push(o, parents, sbx__json_str(o, p->cg_parents[i]));
        sbx__json_put(o, cg, "parents", parents);
    }
    sbx__json_put(o, doc, "cgroup", cg);
}

/* ---- "output" ---------------------------------------------------------------------------- */

/* "output": {"unicode": {"tags": "escape", ...}}: the action of each class. */
static int apply_unicode(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *u)
{
    static const char *const keys[] = {"tags", "bidi", "invisible", "invalid_utf8", NULL};
    size_t old = sbx__json_path_key(c, "unicode");
    int r = sbx__json_get_object(c, u, keys);
    if (r < 0)
        return r;
    for (int cls = 0; cls < SBX__UNICODE_CLASSES; cls++) {
        struct json_object *v;
        if (!json_object_object_get_ex(u, sbx__unicode_class_names[cls], &v))
            continue;
        size_t o2 = sbx__json_path_key(c, sbx__unicode_class_names[cls]);
        int action = -1;
        for (int a = 0; a < 4 && sbx__json_is(v, json_type_string); a++)
            if ((size_t)json_object_get_string_len(v) == strlen(json_object_get_string(v)) &&
                strcmp(json_object_get_string(v), sbx__unicode_action_names[a]) == 0)
                action = a;
        if (action < 0)
            return sbx__json_fail_type(c, "one of \"keep\", \"strip\", \"escape\", \"replace\"", v);
        CALL(c, sbx_set_output_unicode(p, cls, action));
        sbx__json_path_restore(c, o2);
    }
    sbx__json_path_restore(c, old);
    return 0;
}

/* "output": the output filter's settings. The values of "redact" are
 * secrets: no message ever quotes them (a wrong type is named, not shown), and
 * they are never written out (write_output()). */
int sbx__policy_json_apply_output(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *out)
{
    static const char *const keys[] = {"redact_patterns", "escapes", "redact",
                                       "audit_limit",     "unicode", NULL};
    int r = sbx__json_get_object(c, out, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    size_t old;
    if (json_object_object_get_ex(out, "unicode", &v) && (r = apply_unicode(c, p, v)) < 0)
        return r;
    if (json_object_object_get_ex(out, "redact_patterns", &v)) {
        int on = 0;
        old = sbx__json_path_key(c, "redact_patterns");
        if ((r = sbx__json_get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_redact_patterns(p, on));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(out, "audit_limit", &v)) {
        uint64_t n = 0;
        old = sbx__json_path_key(c, "audit_limit");
        if ((r = sbx__json_get_size(c, v, true, &n)) < 0)
            return r;
        CALL(c, sbx_set_audit_limit(p, n));
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(out, "escapes", &v)) {
        old = sbx__json_path_key(c, "escapes");
        const char *mode = NULL;
        if (sbx__json_is(v, json_type_string) &&
            (size_t)json_object_get_string_len(v) == strlen(json_object_get_string(v)))
            mode = json_object_get_string(v);
        if (mode && strcmp(mode, "keep") == 0)
            CALL(c, sbx_set_output_escapes(p, SBX_ESCAPES_KEEP));
        else if (mode && strcmp(mode, "neutralise") == 0)
            CALL(c, sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
        else if (mode && strcmp(mode, "terminal") == 0)
            CALL(c, sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE_TERMINAL));
        else
            return sbx__json_fail_type(c, "one of \"keep\", \"neutralise\", \"terminal\"", v);
        sbx__json_path_restore(c, old);
    }
    if (json_object_object_get_ex(out, "redact", &v)) {
        old = sbx__json_path_key(c, "redact");
        if (!sbx__json_is(v, json_type_array))
            return sbx__json_fail(c, -EINVAL, "expected an array of strings, got %s (not shown)",
                                  json_type_to_name(json_object_get_type(v)));
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = sbx__json_path_index(c, i);
            struct json_object *item = json_object_array_get_idx(v, i);
            if (!sbx__json_is(item, json_type_string))
                return sbx__json_fail(c, -EINVAL, "expected a string, got %s (not shown)",
                                      json_type_to_name(json_object_get_type(item)));
            const char *value = json_object_get_string(item);
            if ((size_t)json_object_get_string_len(item) != strlen(value))
                return sbx__json_fail(c, -EINVAL,
                                      "a value to redact must not contain a NUL character");
            CALL(c, sbx_redact_value(p, value));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    return 0;
}

/* "output": the switches only. Registered values are secrets and are never
 * written: a policy that has some does not round-trip them. */
void sbx__policy_json_write_output(struct sbx__json_out *o, struct json_object *doc,
                                   const sbx_policy *p)
{
    const struct sbx__output_policy *op = p->output;
    static const uint8_t keep_all[SBX__UNICODE_CLASSES] = {SBX_UNICODE_KEEP};
    if (!op || (!op->patterns_off && op->escapes == SBX_ESCAPES_KEEP && !op->audit_limit &&
                memcmp(op->unicode, keep_all, sizeof(keep_all)) == 0))
        return;
    struct json_object *out = sbx__json_checked(o, json_object_new_object());
    if (op->patterns_off)
        sbx__json_put(o, out, "redact_patterns", sbx__json_checked(o, json_object_new_boolean(0)));
    if (op->escapes != SBX_ESCAPES_KEEP)
        sbx__json_put(
            o, out, "escapes",
            sbx__json_str(o, op->escapes == SBX_ESCAPES_NEUTRALISE ? "neutralise" : "terminal"));
    if (op->audit_limit)
        sbx__json_put(o, out, "audit_limit", sbx__json_size_value(o, op->audit_limit));
    if (memcmp(op->unicode, keep_all, sizeof(keep_all)) != 0) {
        struct json_object *u = sbx__json_checked(o, json_object_new_object());
        for (int cls = 0; cls < SBX__UNICODE_CLASSES; cls++)
            if (op->unicode[cls] != SBX_UNICODE_KEEP)
                sbx__json_put(o, u, sbx__unicode_class_names[cls],
                              sbx__json_str(o, sbx__unicode_action_names[op->unicode[cls]]));
        sbx__json_put(o, out, "unicode", u);
    }
    sbx__json_put(o, doc, "output", out);
}

/* ---- "unix_sockets", "isolation", "capabilities" ----------------------------------------- */

int sbx__policy_json_apply_unix_sockets(struct sbx__json_ctx *c, sbx_policy *p,
                                        struct json_object *v)
{
    int r = sbx__json_get_array(c, v, "an array of unix socket paths");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        size_t old = sbx__json_path_index(c, i);
        const char *path = NULL;
        if ((r = sbx__json_get_string(c, json_object_array_get_idx(v, i), "an absolute path",
                                      &path)) < 0)
            return r;
        CALL(c, sbx_allow_unix_socket(p, path));
        sbx__json_path_restore(c, old);
    }
    return 0;
}

int sbx__policy_json_apply_isolation(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    const char *name = NULL;
    int r = sbx__json_get_string(c, v, "\"auto\", \"minimal\" or \"full\"", &name);
    if (r < 0)
        return r;
    for (int iso = SBX_ISOLATION_AUTO; sbx_isolation_name(iso); iso++)
        if (strcmp(name, sbx_isolation_name(iso)) == 0) {
            CALL(c, sbx_set_isolation(p, iso));
            return 0;
        }
    return sbx__json_fail(c, -EINVAL, "unknown isolation \"%s\" (expected auto, minimal or full)",
                          name);
}

int sbx__policy_json_apply_capabilities(struct sbx__json_ctx *c, sbx_policy *p,
                                        struct json_object *caps)
{
    static const char *const keys[] = {"keep", NULL};
    int r = sbx__json_get_object(c, caps, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    if (json_object_object_get_ex(caps, "keep", &v)) {
        size_t old = sbx__json_path_key(c, "keep");
        if ((r = sbx__json_get_array(c, v, "an array of capability names")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = sbx__json_path_index(c, i);
            const char *name = NULL;
            if ((r = sbx__json_get_string(c, json_object_array_get_idx(v, i), "a capability name",
                                          &name)) < 0)
                return r;
            CALL(c, sbx_keep_capability(p, name));
            sbx__json_path_restore(c, o2);
        }
        sbx__json_path_restore(c, old);
    }
    return 0;
}

void sbx__policy_json_write_capabilities(struct sbx__json_out *o, struct json_object *doc,
                                         const sbx_policy *p)
{
    if (!p->keep_caps)
        return;
    struct json_object *caps = sbx__json_checked(o, json_object_new_object());
    struct json_object *keep = sbx__json_checked(o, json_object_new_array());
    for (int cap = 0; cap < 64; cap++)
        if ((p->keep_caps & (1ull << cap)) && sbx_capability_name(cap))
            sbx__json_push(o, keep, sbx__json_str(o, sbx_capability_name(cap)));
    sbx__json_put(o, caps, "keep", keep);
    sbx__json_put(o, doc, "capabilities", caps);
}
