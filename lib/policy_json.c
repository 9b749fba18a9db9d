/* Policy files: JSON (schema version 1, docs/policy-files.md) to policy and
 * back, parsed and written with json-c.
 *
 * Loading is all or nothing: the document is applied, through the public
 * builder calls, to a scratch policy that starts as a copy of the caller's,
 * and only when every setting succeeded are the two exchanged. Writing
 * compares the policy with a new one (sbx_policy_new()) and writes what
 * differs, so that the defaults live in policy.c alone. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "outfilter.h"
#include "policy_json_internal.h"
#include "seccomp_layer.h"

#define FILE_MAX    (1u << 20) /* the largest policy file read */
#define JSON_DEPTH  16         /* the schema nests 4 deep */
#define VALUE_SHOWN 60         /* bytes of an offending value quoted in a message */

/* ---- the JSON path, for messages -------------------------------------------------- */

struct ctx {
    char path[512]; /* "$.grants[2].access" */
    size_t len;
    struct json_object *bundles; /* the document's "tool_bundles" (checked), or NULL */
};

static size_t path_key(struct ctx *c, const char *key)
{
    size_t old = c->len;
    bool plain =
        (key[0] >= 'a' && key[0] <= 'z') || (key[0] >= 'A' && key[0] <= 'Z') || key[0] == '_';
    for (const char *k = key; plain && *k; k++)
        plain = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
                *k == '_';
    size_t room = sizeof(c->path) - c->len;
    int n;
    if (plain) {
        n = snprintf(c->path + c->len, room, ".%s", key);
    } else {
        /* A key with other characters: quoted, as JSON, so that it is readable and
         * cannot break the message. */
        struct json_object *s = json_object_new_string(key);
        const char *q =
            s ? json_object_to_json_string_ext(s, JSON_C_TO_STRING_NOSLASHESCAPE) : "\"?\"";
        n = snprintf(c->path + c->len, room, "[%.*s]", 100, q);
        json_object_put(s);
    }
    c->len = n < 0 || (size_t)n >= room ? sizeof(c->path) - 1 : c->len + (size_t)n;
    return old;
}

static size_t path_index(struct ctx *c, size_t i)
{
    size_t old = c->len;
    size_t room = sizeof(c->path) - c->len;
    int n = snprintf(c->path + c->len, room, "[%zu]", i);
    c->len = n < 0 || (size_t)n >= room ? sizeof(c->path) - 1 : c->len + (size_t)n;
    return old;
}

static void path_restore(struct ctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

/* A value as JSON text, shortened, for "got ..." in messages. */
static const char *shown(struct json_object *v, char *buf, size_t size)
{
    const char *text =
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text)
        text = "?";
    if (strlen(text) > VALUE_SHOWN)
        snprintf(buf, size, "%.*s...", VALUE_SHOWN, text);
    else
        snprintf(buf, size, "%s", text);
    return buf;
}

static int fail(const struct ctx *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const struct ctx *c, int err, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sbx__err(err, "%s: %s", c->path, msg);
}

/* "expected <what>, got <value>" */
static int fail_type(const struct ctx *c, const char *what, struct json_object *v)
{
    char buf[VALUE_SHOWN + 8];
    return fail(c, -EINVAL, "expected %s, got %s", what, shown(v, buf, sizeof(buf)));
}

/* The same, with a hint on the accepted forms. */
static int fail_form(const struct ctx *c, const char *what, const char *forms,
                     struct json_object *v)
{
    char buf[VALUE_SHOWN + 8];
    return fail(c, -EINVAL, "expected %s, got %s (%s)", what, shown(v, buf, sizeof(buf)), forms);
}

/* A builder call failed: keep its message, prefixed with the JSON path. */
static int fail_call(const struct ctx *c, int err)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s", sbx_last_error());
    return sbx__err(err, "%s: %s", c->path, msg);
}

#define CALL(c, expr)                                                                              \
    do {                                                                                           \
        int call_rc_ = (expr);                                                                     \
        if (call_rc_ < 0)                                                                          \
            return fail_call((c), call_rc_);                                                       \
    } while (0)

/* ---- typed getters ---------------------------------------------------------------- */

static bool is(struct json_object *v, enum json_type t)
{
    return json_object_get_type(v) == t;
}

/* Every key of obj must be one of `known` (NULL-terminated). */
static int check_keys(struct ctx *c, struct json_object *obj, const char *const *known)
{
    json_object_object_foreach(obj, key, val)
    {
        (void)val;
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (found)
            continue;
        char list[256] = "";
        size_t used = 0;
        for (size_t i = 0; known[i]; i++)
            used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0,
                                     "%s%s", i ? ", " : "", known[i]);
        size_t old = path_key(c, key);
        int r = fail(c, -EINVAL, "unknown key (expected one of: %s)", list);
        path_restore(c, old);
        return r;
    }
    return 0;
}

static int get_object(struct ctx *c, struct json_object *v, const char *const *known)
{
    if (!is(v, json_type_object))
        return fail_type(c, "an object", v);
    return check_keys(c, v, known);
}

static int get_bool(struct ctx *c, struct json_object *v, int *ret)
{
    if (!is(v, json_type_boolean))
        return fail_type(c, "true or false", v);
    *ret = json_object_get_boolean(v) ? 1 : 0;
    return 0;
}

/* A string without NUL bytes (a C string cannot hold them: "/etc\u0000/x" must
 * not become "/etc"). */
static int get_string(struct ctx *c, struct json_object *v, const char *what, const char **ret)
{
    if (!is(v, json_type_string))
        return fail_type(c, what, v);
    const char *s = json_object_get_string(v);
    if ((size_t)json_object_get_string_len(v) != strlen(s))
        return fail(c, -EINVAL, "%s must not contain a NUL character", what);
    *ret = s;
    return 0;
}

static int get_array(struct ctx *c, struct json_object *v, const char *what)
{
    if (!is(v, json_type_array))
        return fail_type(c, what, v);
    return 0;
}

/* A non-negative integer below 2^63 (json-c saturates larger ones to
 * UINT64_MAX, which must never read as SBX_UNLIMITED). */
static bool get_uint(struct json_object *v, uint64_t *ret)
{
    if (!is(v, json_type_int) || json_object_get_int64(v) < 0 ||
        json_object_get_uint64(v) > (uint64_t)INT64_MAX)
        return false;
    *ret = json_object_get_uint64(v);
    return true;
}

/* A size: an integer of bytes, or a string of sbx_parse_size()'s grammar
 * ("512M", "1GiB"), "unlimited" only when allowed. */
static int get_size(struct ctx *c, struct json_object *v, bool unlimited_ok, uint64_t *ret)
{
    const char *forms = unlimited_ok ? "bytes, or a number with K, M, G, T or P, or \"unlimited\""
                                     : "bytes, or a number with K, M, G, T or P";
    if (get_uint(v, ret))
        return 0;
    if (is(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) == strlen(s) && sbx__parse_size(s, ret) == 0 &&
            (unlimited_ok || *ret != SBX_UNLIMITED))
            return 0;
    }
    return fail_form(c, "a size", forms, v);
}

/* A duration in milliseconds: an integer, or a string of sbx_parse_duration()'s
 * grammar ("30s", "500ms", "2m", "1h", "1.5s"; rounded up to a millisecond), or
 * "unlimited". */
static int get_duration(struct ctx *c, struct json_object *v, uint64_t *ret)
{
    if (get_uint(v, ret))
        return 0;
    if (is(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        uint64_t ns;
        if ((size_t)json_object_get_string_len(v) == strlen(s) &&
            sbx__parse_duration(s, &ns) == 0) {
            *ret = ns == SBX_UNLIMITED ? SBX_UNLIMITED : ns / 1000000 + (ns % 1000000 != 0);
            return 0;
        }
    }
    return fail_form(c, "a duration",
                     "milliseconds, or \"500ms\", \"30s\", \"2m\", \"1h\", \"unlimited\"", v);
}

/* A count: a non-negative integer, or "unlimited" when allowed. */
static int get_count(struct ctx *c, struct json_object *v, bool unlimited_ok, uint64_t *ret)
{
    if (get_uint(v, ret))
        return 0;
    if (unlimited_ok && is(v, json_type_string) &&
        strcmp(json_object_get_string(v), "unlimited") == 0) {
        *ret = SBX_UNLIMITED;
        return 0;
    }
    return fail_type(c, unlimited_ok ? "a count or \"unlimited\"" : "a count", v);
}

/* ---- applying a document ---------------------------------------------------------------- */

static int apply_env(struct ctx *c, sbx_policy *p, struct json_object *env)
{
    static const char *const keys[] = {"default", "set", "pass", "unset", NULL};
    int r = get_object(c, env, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    size_t old;
    if (json_object_object_get_ex(env, "default", &v)) {
        int keep;
        old = path_key(c, "default");
        if ((r = get_bool(c, v, &keep)) < 0)
            return r;
        if (!keep) {
            /* The clean default environment is what a new policy has. */
            sbx_policy *def;
            CALL(c, sbx_policy_new(&def));
            for (size_t i = 0; i < def->n_env && r == 0; i++)
                r = sbx_unset_env(p, def->env[i].name);
            sbx_policy_free(def);
            if (r < 0)
                return fail_call(c, r);
        }
        path_restore(c, old);
    }
    if (json_object_object_get_ex(env, "set", &v)) {
        old = path_key(c, "set");
        if (!is(v, json_type_object))
            return fail_type(c, "an object of NAME: \"value\"", v);
        json_object_object_foreach(v, name, val)
        {
            size_t o2 = path_key(c, name);
            const char *s;
            if ((r = get_string(c, val, "a string", &s)) < 0)
                return r;
            CALL(c, sbx_set_env(p, name, s));
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    static const char *const lists[] = {"pass", "unset"};
    for (size_t k = 0; k < 2; k++) {
        if (!json_object_object_get_ex(env, lists[k], &v))
            continue;
        old = path_key(c, lists[k]);
        if ((r = get_array(c, v, "an array of variable names")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = path_index(c, i);
            const char *name;
            if ((r = get_string(c, json_object_array_get_idx(v, i), "a variable name", &name)) < 0)
                return r;
            CALL(c, k == 0 ? sbx_pass_env(p, name) : sbx_unset_env(p, name));
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    return 0;
}

enum limit_kind { SIZE, SIZE_BOUNDED, DURATION, SECONDS, COUNT };

static int apply_limits(struct ctx *c, sbx_policy *p, struct json_object *limits)
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
    int r = get_object(c, limits, keys);
    if (r < 0)
        return r;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct json_object *v;
        if (!json_object_object_get_ex(limits, table[i].key, &v))
            continue;
        size_t old = path_key(c, table[i].key);
        uint64_t value = 0;
        switch (table[i].kind) {
        case SIZE: r = get_size(c, v, true, &value); break;
        case SIZE_BOUNDED: r = get_size(c, v, false, &value); break;
        case COUNT: r = get_count(c, v, true, &value); break;
        case DURATION:
        case SECONDS:
            r = get_duration(c, v, &value);
            if (r == 0 && table[i].kind == SECONDS && value != SBX_UNLIMITED) {
                if (value % 1000 != 0)
                    return fail(c, -EINVAL,
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
        path_restore(c, old);
    }
    return 0;
}

/* A name from a table of bits, or 0. */
static uint32_t bit_by_name(const char *name, const char *(*namer)(uint32_t), uint32_t all)
{
    for (uint32_t bit = 1; bit & all; bit <<= 1) {
        const char *n = namer(bit);
        if (n && strcmp(n, name) == 0)
            return bit;
    }
    return 0;
}

static const char *layer_name(uint32_t bit)
{
    return sbx_layer_name(bit);
}

static int get_bits(struct ctx *c, struct json_object *v, const char *what,
                    const char *(*namer)(uint32_t), uint32_t all, uint32_t *ret)
{
    int r = get_array(c, v, what);
    if (r < 0)
        return r;
    uint32_t set = 0;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        size_t old = path_index(c, i);
        struct json_object *item = json_object_array_get_idx(v, i);
        const char *name = NULL;
        if ((r = get_string(c, item, "a name", &name)) < 0)
            return r;
        uint32_t bit = bit_by_name(name, namer, all);
        if (!bit) {
            char list[256] = "";
            size_t used = 0;
            for (uint32_t b = 1; b & all; b <<= 1)
                used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0,
                                         "%s%s", used ? ", " : "", namer(b));
            return fail(c, -EINVAL, "unknown name \"%s\" (expected one of: %s)", name, list);
        }
        set |= bit;
        path_restore(c, old);
    }
    *ret = set;
    return 0;
}

static const char *const access_names[] = {"read", "write", "exec", "optional"};
static const uint64_t access_bits[] = {SBX_FS_READ, SBX_FS_WRITE, SBX_FS_EXEC, SBX_FS_OPTIONAL};

static int apply_grants(struct ctx *c, sbx_policy *p, struct json_object *grants)
{
    static const char *const keys[] = {"path", "access", NULL};
    int r = get_array(c, grants, "an array of grants");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(grants); i++) {
        size_t old = path_index(c, i);
        struct json_object *g = json_object_array_get_idx(grants, i), *v;
        if ((r = get_object(c, g, keys)) < 0)
            return r;
        const char *path;
        size_t o2 = path_key(c, "path");
        if (!json_object_object_get_ex(g, "path", &v))
            return fail(c, -EINVAL, "missing (every grant has a path and an access list)");
        if ((r = get_string(c, v, "an absolute path", &path)) < 0)
            return r;
        path_restore(c, o2);
        o2 = path_key(c, "access");
        if (!json_object_object_get_ex(g, "access", &v))
            return fail(c, -EINVAL, "missing (every grant has a path and an access list)");
        if ((r = get_array(c, v, "an array of \"read\", \"write\", \"exec\", \"optional\"")) < 0)
            return r;
        uint64_t access = 0;
        for (size_t k = 0; k < json_object_array_length(v); k++) {
            size_t o3 = path_index(c, k);
            const char *name;
            struct json_object *item = json_object_array_get_idx(v, k);
            if ((r = get_string(c, item, "\"read\", \"write\", \"exec\" or \"optional\"", &name)) <
                0)
                return r;
            size_t a = 0;
            while (a < 4 && strcmp(name, access_names[a]) != 0)
                a++;
            if (a == 4)
                return fail_type(c, "\"read\", \"write\", \"exec\" or \"optional\"", item);
            access |= access_bits[a];
            path_restore(c, o3);
        }
        if (!(access & (SBX_FS_READ | SBX_FS_WRITE | SBX_FS_EXEC)))
            return fail(c, -EINVAL, "grants nothing (expected \"read\", \"write\" or \"exec\")");
        path_restore(c, o2);
        CALL(c, sbx_allow_path(p, path, access));
        path_restore(c, old);
    }
    return 0;
}

/* "tool_bundles": {"NAME": {"programs": [names or paths], "dirs": [paths]}}:
 * what a tool of "tools" executes besides itself, in addition to the
 * library's own table (docs/landlock.md). Checked whole, used or not. */
static int check_bundles(struct ctx *c, struct json_object *bundles)
{
    static const char *const keys[] = {"programs", "dirs", NULL};
    int r;
    if (!is(bundles, json_type_object))
        return fail_type(c, "an object of tool names", bundles);
    json_object_object_foreach(bundles, name, b)
    {
        size_t old = path_key(c, name);
        if ((r = get_object(c, b, keys)) < 0)
            return r;
        for (size_t k = 0; keys[k]; k++) {
            struct json_object *list;
            if (!json_object_object_get_ex(b, keys[k], &list))
                continue;
            size_t o2 = path_key(c, keys[k]);
            if ((r = get_array(c, list,
                               k ? "an array of absolute paths"
                                 : "an array of program names or paths")) < 0)
                return r;
            for (size_t i = 0; i < json_object_array_length(list); i++) {
                size_t o3 = path_index(c, i);
                const char *s;
                if ((r = get_string(c, json_object_array_get_idx(list, i),
                                    k ? "an absolute path" : "a program name or path", &s)) < 0)
                    return r;
                path_restore(c, o3);
            }
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    c->bundles = bundles;
    return 0;
}

/* The programs and directories of the document's bundle for a tool. */
static int apply_bundle(struct ctx *c, sbx_policy *p, const char *tool)
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

static int apply_tools(struct ctx *c, sbx_policy *p, struct json_object *tools)
{
    int r = get_array(c, tools, "an array of tool names or paths");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(tools); i++) {
        size_t old = path_index(c, i);
        const char *name = NULL;
        if ((r = get_string(c, json_object_array_get_idx(tools, i), "a tool name or path", &name)) <
            0)
            return r;
        CALL(c, sbx_allow_tool(p, name));
        if ((r = apply_bundle(c, p, name)) < 0)
            return r;
        path_restore(c, old);
    }
    return 0;
}

static bool has_port(const uint16_t *ports, size_t n, uint64_t port)
{
    for (size_t i = 0; i < n; i++)
        if (ports[i] == port)
            return true;
    return false;
}

static int apply_network(struct ctx *c, sbx_policy *p, struct json_object *net)
{
    static const char *const keys[] = {"unrestricted", "connect", "bind", NULL};
    int r = get_object(c, net, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    if (json_object_object_get_ex(net, "unrestricted", &v)) {
        size_t old = path_key(c, "unrestricted");
        int on;
        if ((r = get_bool(c, v, &on)) < 0)
            return r;
        if (on) /* false takes nothing back: grants only widen */
            CALL(c, sbx_allow_network(p));
        path_restore(c, old);
    }
    for (int bind = 0; bind < 2; bind++) {
        if (!json_object_object_get_ex(net, bind ? "bind" : "connect", &v))
            continue;
        size_t old = path_key(c, bind ? "bind" : "connect");
        if ((r = get_array(c, v, "an array of TCP ports")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = path_index(c, i);
            struct json_object *item = json_object_array_get_idx(v, i);
            uint64_t port;
            if (!get_uint(item, &port) || port > 65535 || (!bind && port == 0))
                return fail_type(c, bind ? "a TCP port (0 to 65535)" : "a TCP port (1 to 65535)",
                                 item);
            bool dup = bind ? has_port(p->bind_ports, p->n_bind, port)
                            : has_port(p->connect_ports, p->n_connect, port);
            if (!dup)
                CALL(c, bind ? sbx_allow_bind(p, (int)port) : sbx_allow_connect(p, (int)port));
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    return 0;
}

/* An errno: a name ("EACCES"), a number 1 to 4095, or "kill". */
static int get_errno(struct ctx *c, struct json_object *v, int *ret)
{
    uint64_t n;
    const char *what = "an errno (a name such as \"EPERM\", 1 to 4095) or \"kill\"";
    if (get_uint(v, &n)) {
        if (n < 1 || n > 4095)
            return fail_type(c, what, v);
        *ret = (int)n;
        return 0;
    }
    if (!is(v, json_type_string))
        return fail_type(c, what, v);
    const char *s = json_object_get_string(v);
    if (strcmp(s, "kill") == 0) {
        *ret = SBX_SYSCALL_KILL;
        return 0;
    }
    for (int e = 1; e < 4096; e++) {
        const char *name = strerrorname_np(e);
        if (name && strcmp(name, s) == 0) {
            *ret = e;
            return 0;
        }
    }
    return fail_type(c, what, v);
}

static int apply_seccomp(struct ctx *c, sbx_policy *p, struct json_object *sc)
{
    static const char *const keys[] = {"allowlist", "monitor", "violation_limit", "violation_rate",
                                       "deny",      "allow",   "exec_report",     NULL};
    int r = get_object(c, sc, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    size_t old;
    int on;
    if (json_object_object_get_ex(sc, "allowlist", &v)) {
        old = path_key(c, "allowlist");
        if ((r = get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_syscall_allowlist(p, on));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "exec_report", &v)) {
        old = path_key(c, "exec_report");
        if ((r = get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_exec_reporting(p, on));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "monitor", &v)) {
        old = path_key(c, "monitor");
        if ((r = get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_violation_monitor(p, on));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "violation_limit", &v)) {
        old = path_key(c, "violation_limit");
        uint64_t n = 0;
        if ((r = get_count(c, v, true, &n)) < 0)
            return r;
        CALL(c, sbx_set_violation_limit(p, n));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "violation_rate", &v)) {
        old = path_key(c, "violation_rate");
        uint64_t n = 0;
        if ((r = get_count(c, v, false, &n)) < 0)
            return r;
        CALL(c, sbx_set_violation_rate(p, n));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "deny", &v)) {
        old = path_key(c, "deny");
        if (!is(v, json_type_object))
            return fail_type(c, "an object of \"syscall\": errno", v);
        json_object_object_foreach(v, name, val)
        {
            size_t o2 = path_key(c, name);
            int error = 0;
            if ((r = get_errno(c, val, &error)) < 0)
                return r;
            CALL(c, sbx_deny_syscall(p, name, error));
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    if (json_object_object_get_ex(sc, "allow", &v)) {
        old = path_key(c, "allow");
        if ((r = get_array(c, v, "an array of system call names")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = path_index(c, i);
            const char *name;
            if ((r = get_string(c, json_object_array_get_idx(v, i), "a system call name", &name)) <
                0)
                return r;
            CALL(c, sbx_allow_syscall(p, name));
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    return 0;
}

static int apply_cgroup(struct ctx *c, sbx_policy *p, struct json_object *cg)
{
    static const char *const keys[] = {"enabled", "parents", NULL};
    int r = get_object(c, cg, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    if (json_object_object_get_ex(cg, "enabled", &v)) {
        size_t old = path_key(c, "enabled");
        int on = 0;
        if ((r = get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_use_cgroup(p, on));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(cg, "parents", &v)) {
        size_t old = path_key(c, "parents");
        if ((r = get_array(c, v, "an array of cgroup directories")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = path_index(c, i);
            const char *dir;
            if ((r = get_string(c, json_object_array_get_idx(v, i), "an absolute path", &dir)) < 0)
                return r;
            CALL(c, sbx_set_cgroup_parent(p, dir));
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    return 0;
}

/* "output": {"unicode": {"tags": "escape", ...}}: the action of each class. */
static int apply_unicode(struct ctx *c, sbx_policy *p, struct json_object *u)
{
    static const char *const keys[] = {"tags", "bidi", "invisible", "invalid_utf8", NULL};
    size_t old = path_key(c, "unicode");
    int r = get_object(c, u, keys);
    if (r < 0)
        return r;
    for (int cls = 0; cls < SBX__UNICODE_CLASSES; cls++) {
        struct json_object *v;
        if (!json_object_object_get_ex(u, sbx__unicode_class_names[cls], &v))
            continue;
        size_t o2 = path_key(c, sbx__unicode_class_names[cls]);
        int action = -1;
        for (int a = 0; a < 4 && is(v, json_type_string); a++)
            if ((size_t)json_object_get_string_len(v) == strlen(json_object_get_string(v)) &&
                strcmp(json_object_get_string(v), sbx__unicode_action_names[a]) == 0)
                action = a;
        if (action < 0)
            return fail_type(c, "one of \"keep\", \"strip\", \"escape\", \"replace\"", v);
        CALL(c, sbx_set_output_unicode(p, cls, action));
        path_restore(c, o2);
    }
    path_restore(c, old);
    return 0;
}

/* "output": the output filter's settings. The values of "redact" are
 * secrets: no message ever quotes them (a wrong type is named, not shown), and
 * they are never written out (write_output()). */
static int apply_output(struct ctx *c, sbx_policy *p, struct json_object *out)
{
    static const char *const keys[] = {"redact_patterns", "escapes", "redact",
                                       "audit_limit",     "unicode", NULL};
    int r = get_object(c, out, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    size_t old;
    if (json_object_object_get_ex(out, "unicode", &v) && (r = apply_unicode(c, p, v)) < 0)
        return r;
    if (json_object_object_get_ex(out, "redact_patterns", &v)) {
        int on = 0;
        old = path_key(c, "redact_patterns");
        if ((r = get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_redact_patterns(p, on));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(out, "audit_limit", &v)) {
        uint64_t n = 0;
        old = path_key(c, "audit_limit");
        if ((r = get_size(c, v, true, &n)) < 0)
            return r;
        CALL(c, sbx_set_audit_limit(p, n));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(out, "escapes", &v)) {
        old = path_key(c, "escapes");
        const char *mode = NULL;
        if (is(v, json_type_string) &&
            (size_t)json_object_get_string_len(v) == strlen(json_object_get_string(v)))
            mode = json_object_get_string(v);
        if (mode && strcmp(mode, "keep") == 0)
            CALL(c, sbx_set_output_escapes(p, SBX_ESCAPES_KEEP));
        else if (mode && strcmp(mode, "neutralise") == 0)
            CALL(c, sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
        else if (mode && strcmp(mode, "terminal") == 0)
            CALL(c, sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE_TERMINAL));
        else
            return fail_type(c, "one of \"keep\", \"neutralise\", \"terminal\"", v);
        path_restore(c, old);
    }
    if (json_object_object_get_ex(out, "redact", &v)) {
        old = path_key(c, "redact");
        if (!is(v, json_type_array))
            return fail(c, -EINVAL, "expected an array of strings, got %s (not shown)",
                        json_type_to_name(json_object_get_type(v)));
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = path_index(c, i);
            struct json_object *item = json_object_array_get_idx(v, i);
            if (!is(item, json_type_string))
                return fail(c, -EINVAL, "expected a string, got %s (not shown)",
                            json_type_to_name(json_object_get_type(item)));
            const char *value = json_object_get_string(item);
            if ((size_t)json_object_get_string_len(item) != strlen(value))
                return fail(c, -EINVAL, "a value to redact must not contain a NUL character");
            CALL(c, sbx_redact_value(p, value));
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    return 0;
}

static bool valid_utf8(const char *str);

/* Every key and string of the document must be valid UTF-8 as the writer
 * checks it (no overlong forms, surrogates or code points past U+10FFFF):
 * json-c's own check lets some through, and an escape such as "\ud800" can
 * make one. Otherwise a document could load and not be written back. */
static int check_utf8(struct ctx *c, struct json_object *v)
{
    int r = 0;
    if (is(v, json_type_string)) {
        if (!valid_utf8(json_object_get_string(v)))
            return fail(c, -EINVAL, "a string that is not valid UTF-8 (not shown)");
    } else if (is(v, json_type_object)) {
        json_object_object_foreach(v, key, val)
        {
            if (!valid_utf8(key))
                return fail(c, -EINVAL, "a key that is not valid UTF-8 (not shown)");
            size_t old = path_key(c, key);
            if ((r = check_utf8(c, val)) < 0)
                return r;
            path_restore(c, old);
        }
    } else if (is(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t old = path_index(c, i);
            if ((r = check_utf8(c, json_object_array_get_idx(v, i))) < 0)
                return r;
            path_restore(c, old);
        }
    }
    return 0;
}

static int apply_unix_sockets(struct ctx *c, sbx_policy *p, struct json_object *v)
{
    int r = get_array(c, v, "an array of unix socket paths");
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        size_t old = path_index(c, i);
        const char *path = NULL;
        if ((r = get_string(c, json_object_array_get_idx(v, i), "an absolute path", &path)) < 0)
            return r;
        CALL(c, sbx_allow_unix_socket(p, path));
        path_restore(c, old);
    }
    return 0;
}

static int apply_isolation(struct ctx *c, sbx_policy *p, struct json_object *v)
{
    const char *name = NULL;
    int r = get_string(c, v, "\"auto\", \"minimal\" or \"full\"", &name);
    if (r < 0)
        return r;
    for (int iso = SBX_ISOLATION_AUTO; sbx_isolation_name(iso); iso++)
        if (strcmp(name, sbx_isolation_name(iso)) == 0) {
            CALL(c, sbx_set_isolation(p, iso));
            return 0;
        }
    return fail(c, -EINVAL, "unknown isolation \"%s\" (expected auto, minimal or full)", name);
}

static int apply_capabilities(struct ctx *c, sbx_policy *p, struct json_object *caps)
{
    static const char *const keys[] = {"keep", NULL};
    int r = get_object(c, caps, keys);
    if (r < 0)
        return r;
    struct json_object *v;
    if (json_object_object_get_ex(caps, "keep", &v)) {
        size_t old = path_key(c, "keep");
        if ((r = get_array(c, v, "an array of capability names")) < 0)
            return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t o2 = path_index(c, i);
            const char *name = NULL;
            if ((r = get_string(c, json_object_array_get_idx(v, i), "a capability name", &name)) <
                0)
                return r;
            CALL(c, sbx_keep_capability(p, name));
            path_restore(c, o2);
        }
        path_restore(c, old);
    }
    return 0;
}

/* Apply the parsed document `doc` to `p` (the scratch copy). */
static int apply_document(struct ctx *c, sbx_policy *p, struct json_object *doc)
{
    static const char *const keys[] = {
        "version",         "profile",      "workdir",    "env",     "limits",       "best_effort",
        "die_with_parent", "grants",       "tools",      "network", "private_tmp",  "tmp_parent",
        "seccomp",         "cgroup",       "namespaces", "output",  "capabilities", "unix_sockets",
        "isolation",       "tool_bundles", NULL};
    if (!is(doc, json_type_object))
        return fail_type(c, "an object", doc);
    struct json_object *v;
    size_t old = path_key(c, "version");
    uint64_t version;
    if (!json_object_object_get_ex(doc, "version", &v))
        return fail(c, -EINVAL, "missing (expected %d)", SBX_POLICY_JSON_VERSION);
    if (!get_uint(v, &version) || version != SBX_POLICY_JSON_VERSION) {
        char buf[VALUE_SHOWN + 8];
        return fail(c, -EINVAL, "unsupported version %s (this library reads version %d)",
                    shown(v, buf, sizeof(buf)), SBX_POLICY_JSON_VERSION);
    }
    path_restore(c, old);
    int r = check_keys(c, doc, keys);
    if (r < 0)
        return r;

    const char *s;
    int on;
    if (json_object_object_get_ex(doc, "profile", &v)) {
        old = path_key(c, "profile");
        if ((r = get_string(c, v, "a profile name", &s)) < 0)
            return r;
        CALL(c, sbx__profile_apply(p, s));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "workdir", &v)) {
        old = path_key(c, "workdir");
        if ((r = get_string(c, v, "an absolute path", &s)) < 0)
            return r;
        CALL(c, sbx_set_workdir(p, s));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "env", &v)) {
        old = path_key(c, "env");
        if ((r = apply_env(c, p, v)) < 0)
            return r;
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "limits", &v)) {
        old = path_key(c, "limits");
        if ((r = apply_limits(c, p, v)) < 0)
            return r;
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "best_effort", &v)) {
        old = path_key(c, "best_effort");
        uint32_t layers = 0;
        if ((r = get_bits(c, v, "an array of layer names", layer_name, SBX_LAYER_ALL, &layers)) < 0)
            return r;
        CALL(c, sbx_set_best_effort(p, p->best_effort | layers));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "die_with_parent", &v)) {
        old = path_key(c, "die_with_parent");
        if ((r = get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_die_with_parent(p, on));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "private_tmp", &v)) {
        old = path_key(c, "private_tmp");
        if ((r = get_bool(c, v, &on)) < 0)
            return r;
        CALL(c, sbx_set_private_tmp(p, on));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "tmp_parent", &v)) {
        old = path_key(c, "tmp_parent");
        if ((r = get_string(c, v, "an absolute path", &s)) < 0)
            return r;
        CALL(c, sbx_set_tmp_parent(p, s));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "tool_bundles", &v)) {
        old = path_key(c, "tool_bundles");
        if ((r = check_bundles(c, v)) < 0)
            return r;
        path_restore(c, old);
    }
    static const struct {
        const char *key;
        int (*apply)(struct ctx *, sbx_policy *, struct json_object *);
    } sections[] = {
        {"grants", apply_grants},
        {"tools", apply_tools},
        {"network", apply_network},
        {"seccomp", apply_seccomp},
        {"cgroup", apply_cgroup},
        {"capabilities", apply_capabilities},
        {"unix_sockets", apply_unix_sockets},
        {"isolation", apply_isolation},
    };
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        if (!json_object_object_get_ex(doc, sections[i].key, &v))
            continue;
        old = path_key(c, sections[i].key);
        if ((r = sections[i].apply(c, p, v)) < 0)
            return r;
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "namespaces", &v)) {
        old = path_key(c, "namespaces");
        uint32_t ns = 0;
        if ((r = get_bits(c, v, "an array of namespace names", sbx_namespace_name, SBX_NS_ALL,
                          &ns)) < 0)
            return r;
        CALL(c, sbx_unshare(p, p->namespaces | ns));
        path_restore(c, old);
    }
    if (json_object_object_get_ex(doc, "output", &v)) {
        old = path_key(c, "output");
        if ((r = apply_output(c, p, v)) < 0)
            return r;
        path_restore(c, old);
    }
    return 0;
}

/* ---- all or nothing: change a copy, then swap it in ------------------------------------ */

int sbx__policy_transact(sbx_policy *policy, int (*change)(sbx_policy *, void *), void *arg)
{
    sbx_policy *scratch;
    int r = sbx_policy_dup(policy, &scratch);
    if (r < 0)
        return r;
    r = change(scratch, arg);
    if (r == 0)
        sbx__policy_swap(policy, scratch);
    sbx_policy_free(scratch); /* the old settings, or the failed attempt */
    return r;
}

/* ---- parsing ------------------------------------------------------------------------- */

struct load {
    const char *json;
    const char *origin; /* a file name, or NULL */
};

/* json-c keeps object keys as C strings: a key with an escaped NUL ("A\u0000B")
 * would silently become "A". In a text json-c has accepted, find the first
 * key that holds one: returns its offset, or -1. (Values are checked where
 * they are read, with their JSON path.) */
static long nul_in_key(const char *s)
{
    long start = -1;
    bool in_string = false, has_nul = false;
    for (long i = 0; s[i]; i++) {
        if (!in_string) {
            if (s[i] == '"')
                in_string = true, has_nul = false, start = i;
            else if (s[i] == ':' && has_nul)
                return start; /* the string before ':' was a key */
            else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                has_nul = false;
            continue;
        }
        if (s[i] == '"') {
            in_string = false;
        } else if (s[i] == '\\') {
            if (strncmp(s + i + 1, "u0000", 5) == 0)
                has_nul = true;
            i++; /* the escaped character (json-c has checked the escape) */
        }
    }
    return -1;
}

static int load(sbx_policy *p, void *arg)
{
    const struct load *l = arg;
    struct ctx c = {.path = "$", .len = 1};
    struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    if (!tok)
        return sbx__errno(-ENOMEM, "json_tokener_new");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *doc = json_tokener_parse_ex(tok, l->json, -1);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    long bad_key;
    int r;
    if (!doc || jerr != json_tokener_success) {
        size_t end = json_tokener_get_parse_end(tok), line = 1, col = 1;
        for (size_t i = 0; i < end && l->json[i]; i++) {
            if (l->json[i] == '\n')
                line++, col = 1;
            else
                col++;
        }
        if (jerr == json_tokener_success || jerr == json_tokener_continue)
            jerr = json_tokener_error_parse_eof; /* nothing, or cut short */
        r = sbx__err(-EINVAL, "%s%s$: not valid JSON: %s at line %zu, column %zu",
                     l->origin ? l->origin : "", l->origin ? ": " : "",
                     json_tokener_error_desc(jerr), line, col);
    } else if ((bad_key = nul_in_key(l->json)) >= 0) {
        size_t line = 1, col = 1;
        for (long i = 0; i < bad_key; i++) {
            if (l->json[i] == '\n')
                line++, col = 1;
            else
                col++;
        }
        r = sbx__err(-EINVAL,
                     "%s%s$: a key at line %zu, column %zu contains \\u0000 (NUL), which "
                     "no name may hold",
                     l->origin ? l->origin : "", l->origin ? ": " : "", line, col);
    } else {
        r = check_utf8(&c, doc);
        if (r == 0)
            r = apply_document(&c, p, doc);
        if (r < 0 && l->origin) {
            char msg[1024];
            snprintf(msg, sizeof(msg), "%s", sbx_last_error());
            sbx__err(r, "%s: %s", l->origin, msg);
        }
    }
    json_object_put(doc);
    json_tokener_free(tok);
    return r;
}

int sbx_policy_load_json(sbx_policy *policy, const char *json)
{
    sbx__check_arg(policy);
    sbx__check_arg(json);
    struct load l = {json, NULL};
    return sbx__policy_transact(policy, load, &l);
}

int sbx_policy_load_file(sbx_policy *policy, const char *path)
{
    sbx__check_arg(policy);
    sbx__check_arg(path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return sbx__errno(-errno, "%s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int r = sbx__errno(-errno, "fstat(%s)", path);
        close(fd);
        return r;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return sbx__errno(-EISDIR, "%s", path);
    }
    char *buf = malloc(FILE_MAX + 2);
    if (!buf) {
        close(fd);
        return sbx__errno(-ENOMEM, "%s", path);
    }
    size_t len = 0;
    int r = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = sbx__errno(-errno, "read(%s)", path);
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > FILE_MAX) {
            r = sbx__err(-EFBIG, "%s: larger than %u bytes, the most a policy file may have", path,
                         FILE_MAX);
            break;
        }
    }
    close(fd);
    if (r == 0 && memchr(buf, '\0', len))
        r = sbx__err(-EINVAL, "%s: holds a NUL byte: not a JSON text", path);
    if (r == 0) {
        buf[len] = '\0';
        struct load l = {buf, path};
        r = sbx__policy_transact(policy, load, &l);
    }
    free(buf);
    return r;
}

/* ---- writing ----------------------------------------------------------------------------- */

struct out {
    bool nomem;
    const char *not_utf8; /* the first string JSON cannot hold, or NULL */
};

/* Whether s is valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), as JSON text must be. */
static bool valid_utf8(const char *str)
{
    return sbx__utf8_valid(str, strlen(str));
}

static struct json_object *checked(struct out *o, struct json_object *v)
{
    if (!v)
        o->nomem = true;
    return v;
}

static void put(struct out *o, struct json_object *obj, const char *key, struct json_object *v)
{
    if (!v || !obj || json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        o->nomem = true;
    }
}

static void push(struct out *o, struct json_object *arr, struct json_object *v)
{
    if (!v || !arr || json_object_array_add(arr, v) != 0) {
        json_object_put(v);
        o->nomem = true;
    }
}

static struct json_object *str(struct out *o, const char *s)
{
    if (!o->not_utf8 && !valid_utf8(s))
        o->not_utf8 = s;
    return checked(o, json_object_new_string(s));
}

/* A size with the largest binary suffix that divides it ("512M"), else bytes. */
static struct json_object *size_value(struct out *o, uint64_t v)
{
    static const char suffix[] = "KMGTP";
    if (v == SBX_UNLIMITED)
        return str(o, "unlimited");
    for (int i = 4; i >= 0 && v; i--) {
        uint64_t unit = 1ull << (10 * (i + 1));
        if (v % unit == 0) {
            char buf[32];
            snprintf(buf, sizeof(buf), "%llu%c", (unsigned long long)(v / unit), suffix[i]);
            return str(o, buf);
        }
    }
    return checked(o, json_object_new_int64((int64_t)v));
}

static struct json_object *duration_value(struct out *o, uint64_t ms)
{
    char buf[32];
    if (ms == SBX_UNLIMITED)
        return str(o, "unlimited");
    if (ms % 1000 == 0)
        snprintf(buf, sizeof(buf), "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(buf, sizeof(buf), "%llums", (unsigned long long)ms);
    return str(o, buf);
}

static struct json_object *count_value(struct out *o, uint64_t v)
{
    if (v == SBX_UNLIMITED)
        return str(o, "unlimited");
    return checked(o, json_object_new_int64((int64_t)v));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
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
static void write_env(struct out *o, struct json_object *doc, const sbx_policy *p,
                      const sbx_policy *def)
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
    qsort(names, n, sizeof(*names), cmp_str);
    struct json_object *env = checked(o, json_object_new_object());
    if (!keep_default)
        put(o, env, "default", checked(o, json_object_new_boolean(0)));
    if (n) {
        struct json_object *set = checked(o, json_object_new_object());
        for (size_t i = 0; i < n; i++)
            put(o, set, names[i], str(o, env_get(p, names[i])->value));
        put(o, env, "set", set);
    }
    n = 0;
    for (size_t i = 0; keep_default && i < def->n_env; i++)
        if (!env_get(p, def->env[i].name))
            names[n++] = def->env[i].name;
    qsort(names, n, sizeof(*names), cmp_str);
    if (n) {
        struct json_object *unset = checked(o, json_object_new_array());
        for (size_t i = 0; i < n; i++)
            push(o, unset, str(o, names[i]));
        put(o, env, "unset", unset);
    }
    free(names);
    if (env && json_object_object_length(env) > 0)
        put(o, doc, "env", env);
    else
        json_object_put(env);
}

static void write_limits(struct out *o, struct json_object *doc, const sbx_policy *p,
                         const sbx_policy *def)
{
    struct json_object *limits = checked(o, json_object_new_object());
    if (p->limits[SBX__LIMIT_CPU] != def->limits[SBX__LIMIT_CPU]) {
        uint64_t s = p->limits[SBX__LIMIT_CPU];
        put(o, limits, "cpu", duration_value(o, s == SBX_UNLIMITED ? s : s * 1000));
    }
    if (p->wall_ms != def->wall_ms)
        put(o, limits, "wall", duration_value(o, p->wall_ms));
    if (p->limits[SBX__LIMIT_MEMORY] != def->limits[SBX__LIMIT_MEMORY])
        put(o, limits, "memory", size_value(o, p->limits[SBX__LIMIT_MEMORY]));
    if (p->limits[SBX__LIMIT_NOFILE] != def->limits[SBX__LIMIT_NOFILE])
        put(o, limits, "open_files", count_value(o, p->limits[SBX__LIMIT_NOFILE]));
    if (p->limits[SBX__LIMIT_FSIZE] != def->limits[SBX__LIMIT_FSIZE])
        put(o, limits, "file_size", size_value(o, p->limits[SBX__LIMIT_FSIZE]));
    if (p->limits[SBX__LIMIT_NPROC] != def->limits[SBX__LIMIT_NPROC])
        put(o, limits, "processes", count_value(o, p->limits[SBX__LIMIT_NPROC]));
    if (p->output_limit != def->output_limit)
        put(o, limits, "output", size_value(o, p->output_limit));
    if (p->limits[SBX__LIMIT_CPU_RATE] != def->limits[SBX__LIMIT_CPU_RATE])
        put(o, limits, "cpu_rate", count_value(o, p->limits[SBX__LIMIT_CPU_RATE]));
    if (limits && json_object_object_length(limits) > 0)
        put(o, doc, "limits", limits);
    else
        json_object_put(limits);
}

static struct json_object *bit_names(struct out *o, uint32_t set, const char *(*namer)(uint32_t),
                                     uint32_t all)
{
    struct json_object *arr = checked(o, json_object_new_array());
    for (uint32_t bit = 1; bit & all; bit <<= 1)
        if (set & bit)
            push(o, arr, str(o, namer(bit)));
    return arr;
}

static void write_grants(struct out *o, struct json_object *doc, const sbx_policy *p)
{
    if (!p->n_grants)
        return;
    struct json_object *grants = checked(o, json_object_new_array());
    for (size_t i = 0; i < p->n_grants; i++) {
        struct json_object *g = checked(o, json_object_new_object());
        struct json_object *access = checked(o, json_object_new_array());
        put(o, g, "path", str(o, p->grants[i].path));
        for (size_t a = 0; a < 4; a++)
            if (p->grants[i].access & access_bits[a])
                push(o, access, str(o, access_names[a]));
        put(o, g, "access", access);
        push(o, grants, g);
    }
    put(o, doc, "grants", grants);
}

static struct json_object *ports_value(struct out *o, const uint16_t *ports, size_t n)
{
    struct json_object *arr = checked(o, json_object_new_array());
    for (size_t i = 0; i < n; i++)
        if (!has_port(ports, i, ports[i])) /* each port once */
            push(o, arr, checked(o, json_object_new_int(ports[i])));
    return arr;
}

static void write_network(struct out *o, struct json_object *doc, const sbx_policy *p)
{
    if (!p->allow_network && !p->n_connect && !p->n_bind)
        return;
    struct json_object *net = checked(o, json_object_new_object());
    if (p->allow_network)
        put(o, net, "unrestricted", checked(o, json_object_new_boolean(1)));
    if (p->n_connect)
        put(o, net, "connect", ports_value(o, p->connect_ports, p->n_connect));
    if (p->n_bind)
        put(o, net, "bind", ports_value(o, p->bind_ports, p->n_bind));
    put(o, doc, "network", net);
}

static void write_seccomp(struct out *o, struct json_object *doc, const sbx_policy *p)
{
    const struct sbx__seccomp_policy *sp = p->seccomp;
    if (!sp)
        return;
    struct json_object *sc = checked(o, json_object_new_object());
    if (sp->allowlist)
        put(o, sc, "allowlist", checked(o, json_object_new_boolean(1)));
    if (sp->monitor_off)
        put(o, sc, "monitor", checked(o, json_object_new_boolean(0)));
    if (sp->exec_report)
        put(o, sc, "exec_report", checked(o, json_object_new_boolean(1)));
    if (sp->violation_limit)
        put(o, sc, "violation_limit", count_value(o, sp->violation_limit));
    if (sp->violation_rate)
        put(o, sc, "violation_rate",
            count_value(o, sp->violation_rate == UINT64_MAX ? 0 : sp->violation_rate));
    struct json_object *deny = checked(o, json_object_new_object());
    struct json_object *allow = checked(o, json_object_new_array());
    for (size_t i = 0; i < sp->n_rules; i++) {
        char name[64];
        sbx__syscall_name(SCMP_ARCH_NATIVE, sp->rules[i].nr, name, sizeof(name));
        int error = sp->rules[i].error;
        if (error == 0) {
            push(o, allow, str(o, name));
        } else if (error == SBX_SYSCALL_KILL) {
            put(o, deny, name, str(o, "kill"));
        } else {
            const char *ename = strerrorname_np(error);
            put(o, deny, name, ename ? str(o, ename) : checked(o, json_object_new_int(error)));
        }
    }
    if (deny && json_object_object_length(deny) > 0)
        put(o, sc, "deny", deny);
    else
        json_object_put(deny);
    if (allow && json_object_array_length(allow) > 0)
        put(o, sc, "allow", allow);
    else
        json_object_put(allow);
    if (sc && json_object_object_length(sc) > 0)
        put(o, doc, "seccomp", sc);
    else
        json_object_put(sc);
}

static void write_cgroup(struct out *o, struct json_object *doc, const sbx_policy *p,
                         const sbx_policy *def)
{
    if (p->use_cgroup == def->use_cgroup && !p->n_cg_parents)
        return;
    struct json_object *cg = checked(o, json_object_new_object());
    if (p->use_cgroup != def->use_cgroup)
        put(o, cg, "enabled", checked(o, json_object_new_boolean(p->use_cgroup)));
    if (p->n_cg_parents) {
        struct json_object *parents = checked(o, json_object_new_array());
        for (size_t i = 0; i < p->n_cg_parents; i++)
            push(o, parents, str(o, p->cg_parents[i]));
        put(o, cg, "parents", parents);
    }
    put(o, doc, "cgroup", cg);
}

/* "output": the switches only. Registered values are secrets and are never
 * written: a policy that has some does not round-trip them. */
static void write_output(struct out *o, struct json_object *doc, const sbx_policy *p)
{
    const struct sbx__output_policy *op = p->output;
    static const uint8_t keep_all[SBX__UNICODE_CLASSES] = {SBX_UNICODE_KEEP};
    if (!op || (!op->patterns_off && op->escapes == SBX_ESCAPES_KEEP && !op->audit_limit &&
                memcmp(op->unicode, keep_all, sizeof(keep_all)) == 0))
        return;
    struct json_object *out = checked(o, json_object_new_object());
    if (op->patterns_off)
        put(o, out, "redact_patterns", checked(o, json_object_new_boolean(0)));
    if (op->escapes != SBX_ESCAPES_KEEP)
        put(o, out, "escapes",
            str(o, op->escapes == SBX_ESCAPES_NEUTRALISE ? "neutralise" : "terminal"));
    if (op->audit_limit)
        put(o, out, "audit_limit", size_value(o, op->audit_limit));
    if (memcmp(op->unicode, keep_all, sizeof(keep_all)) != 0) {
        struct json_object *u = checked(o, json_object_new_object());
        for (int cls = 0; cls < SBX__UNICODE_CLASSES; cls++)
            if (op->unicode[cls] != SBX_UNICODE_KEEP)
                put(o, u, sbx__unicode_class_names[cls],
                    str(o, sbx__unicode_action_names[op->unicode[cls]]));
        put(o, out, "unicode", u);
    }
    put(o, doc, "output", out);
}

static void write_capabilities(struct out *o, struct json_object *doc, const sbx_policy *p)
{
    if (!p->keep_caps)
        return;
    struct json_object *caps = checked(o, json_object_new_object());
    struct json_object *keep = checked(o, json_object_new_array());
    for (int cap = 0; cap < 64; cap++)
        if ((p->keep_caps & (1ull << cap)) && sbx_capability_name(cap))
            push(o, keep, str(o, sbx_capability_name(cap)));
    put(o, caps, "keep", keep);
    put(o, doc, "capabilities", caps);
}

static struct json_object *write_document(struct out *o, const sbx_policy *p, const sbx_policy *def)
{
    struct json_object *doc = checked(o, json_object_new_object());
    put(o, doc, "version", checked(o, json_object_new_int(SBX_POLICY_JSON_VERSION)));
    if (p->workdir && (!def->workdir || strcmp(p->workdir, def->workdir) != 0))
        put(o, doc, "workdir", str(o, p->workdir));
    write_env(o, doc, p, def);
    write_limits(o, doc, p, def);
    if (p->best_effort != def->best_effort)
        put(o, doc, "best_effort", bit_names(o, p->best_effort, layer_name, SBX_LAYER_ALL));
    if (p->die_with_parent != def->die_with_parent)
        put(o, doc, "die_with_parent", checked(o, json_object_new_boolean(p->die_with_parent)));
    if (p->private_tmp != def->private_tmp)
        put(o, doc, "private_tmp", checked(o, json_object_new_boolean(p->private_tmp)));
    if (p->tmp_parent)
        put(o, doc, "tmp_parent", str(o, p->tmp_parent));
    write_grants(o, doc, p);
    write_network(o, doc, p);
    write_seccomp(o, doc, p);
    write_cgroup(o, doc, p, def);
    if (p->isolation != def->isolation)
        put(o, doc, "isolation", str(o, sbx_isolation_name(p->isolation)));
    if (p->namespaces != def->namespaces)
        put(o, doc, "namespaces", bit_names(o, p->namespaces, sbx_namespace_name, SBX_NS_ALL));
    write_output(o, doc, p);
    write_capabilities(o, doc, p);
    if (p->n_unix_sockets) {
        struct json_object *socks = checked(o, json_object_new_array());
        for (size_t i = 0; i < p->n_unix_sockets; i++)
            push(o, socks, str(o, p->unix_sockets[i]));
        put(o, doc, "unix_sockets", socks);
    }
    return doc;
}

int sbx_policy_to_json(const sbx_policy *policy, char *buf, size_t size)
{
    sbx__check_arg(policy);
    sbx__check(buf != NULL || size == 0, "%s: buf is NULL", __func__);
    sbx_policy *def;
    int r = sbx_policy_new(&def);
    if (r < 0)
        return r;
    struct out o = {false, NULL};
    struct json_object *doc = write_document(&o, policy, def);
    sbx_policy_free(def);
    if (o.not_utf8) {
        /* The string, with its bytes outside printable ASCII as \xNN. */
        char shown_bytes[4 * VALUE_SHOWN + 1];
        size_t k = 0;
        for (const unsigned char *s = (const unsigned char *)o.not_utf8;
             *s && k + 4 < sizeof(shown_bytes); s++)
            k += (size_t)snprintf(shown_bytes + k, sizeof(shown_bytes) - k,
                                  *s >= 0x20 && *s < 0x7f ? "%c" : "\\x%02x", *s);
        json_object_put(doc);
        return sbx__err(-EILSEQ, "%s: '%s' is not valid UTF-8: a JSON policy cannot hold it",
                        __func__, shown_bytes);
    }
    const char *text = o.nomem ? NULL
                               : json_object_to_json_string_ext(
                                     doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                              JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text) {
        json_object_put(doc);
        return sbx__errno(-ENOMEM, "%s", __func__);
    }
    int n = snprintf(buf, size, "%s\n", text);
    json_object_put(doc);
    return n;
}
