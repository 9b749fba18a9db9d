/* JSON values for policy files: typed reads that name the JSON path of what
 * was wrong, and checked writes (see json_value.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_value.h"

/* ---- the JSON path, for messages -------------------------------------------------- */

size_t sbx__json_path_key(struct sbx__json_ctx *c, const char *key)
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

size_t sbx__json_path_index(struct sbx__json_ctx *c, size_t i)
{
    size_t old = c->len;
    size_t room = sizeof(c->path) - c->len;
    int n = snprintf(c->path + c->len, room, "[%zu]", i);
    c->len = n < 0 || (size_t)n >= room ? sizeof(c->path) - 1 : c->len + (size_t)n;
    return old;
}

void sbx__json_path_restore(struct sbx__json_ctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

/* A value as JSON text, shortened, for "got ..." in messages. */
const char *sbx__json_shown(struct json_object *v, char *buf, size_t size)
{
    const char *text =
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text)
        text = "?";
    if (strlen(text) > SBX__JSON_VALUE_SHOWN)
        snprintf(buf, size, "%.*s...", SBX__JSON_VALUE_SHOWN, text);
    else
        snprintf(buf, size, "%s", text);
    return buf;
}

int sbx__json_fail(const struct sbx__json_ctx *c, int err, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sbx__err(err, "%s: %s", c->path, msg);
}

/* "expected <what>, got <value>" */
int sbx__json_fail_type(const struct sbx__json_ctx *c, const char *what, struct json_object *v)
{
    char buf[SBX__JSON_VALUE_SHOWN + 8];
    return sbx__json_fail(c, -EINVAL, "expected %s, got %s", what,
                          sbx__json_shown(v, buf, sizeof(buf)));
}

/* The same, with a hint on the accepted forms. */
int sbx__json_fail_form(const struct sbx__json_ctx *c, const char *what, const char *forms,
                        struct json_object *v)
{
    char buf[SBX__JSON_VALUE_SHOWN + 8];
    return sbx__json_fail(c, -EINVAL, "expected %s, got %s (%s)", what,
                          sbx__json_shown(v, buf, sizeof(buf)), forms);
}

/* A builder call failed: keep its message, prefixed with the JSON path. */
int sbx__json_fail_call(const struct sbx__json_ctx *c, int err)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s", sbx_last_error());
    return sbx__err(err, "%s: %s", c->path, msg);
}

/* ---- typed getters ------------------------------------------------------------------------- */

bool sbx__json_is(struct json_object *v, enum json_type t)
{
    return json_object_get_type(v) == t;
}

/* Every key of obj must be one of `known` (NULL-terminated). */
int sbx__json_check_keys(struct sbx__json_ctx *c, struct json_object *obj, const char *const *known)
{
    json_object_object_foreach(obj, key, val)
    {
        (void)val;
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (found)
            continue;
        char list[1024] = ""; /* the policy document's own keys take about 400 */
        size_t used = 0;
        for (size_t i = 0; known[i]; i++)
            sbx__json_append(list, sizeof(list), &used, "%s%s", i ? ", " : "", known[i]);
        size_t old = sbx__json_path_key(c, key);
        int r = sbx__json_fail(c, -EINVAL, "unknown key (expected one of: %s)", list);
        sbx__json_path_restore(c, old);
        return r;
    }
    return 0;
}

int sbx__json_get_object(struct sbx__json_ctx *c, struct json_object *v, const char *const *known)
{
    if (!sbx__json_is(v, json_type_object))
        return sbx__json_fail_type(c, "an object", v);
    return sbx__json_check_keys(c, v, known);
}

int sbx__json_get_bool(struct sbx__json_ctx *c, struct json_object *v, int *ret)
{
    if (!sbx__json_is(v, json_type_boolean))
        return sbx__json_fail_type(c, "true or false", v);
    *ret = json_object_get_boolean(v) ? 1 : 0;
    return 0;
}

/* A string without NUL bytes (a C string cannot hold them: "/etc\u0000/x" must
 * not become "/etc"). */
int sbx__json_get_string(struct sbx__json_ctx *c, struct json_object *v, const char *what,
                         const char **ret)
{
    if (!sbx__json_is(v, json_type_string))
        return sbx__json_fail_type(c, what, v);
    const char *s = json_object_get_string(v);
    if ((size_t)json_object_get_string_len(v) != strlen(s))
        return sbx__json_fail(c, -EINVAL, "%s must not contain a NUL character", what);
    *ret = s;
    return 0;
}

int sbx__json_get_array(struct sbx__json_ctx *c, struct json_object *v, const char *what)
{
    if (!sbx__json_is(v, json_type_array))
        return sbx__json_fail_type(c, what, v);
    return 0;
}

/* A non-negative integer below 2^63 (json-c saturates larger ones to
 * UINT64_MAX, which must never read as SBX_UNLIMITED). */
bool sbx__json_get_uint(struct json_object *v, uint64_t *ret)
{
    if (!sbx__json_is(v, json_type_int) || json_object_get_int64(v) < 0 ||
        json_object_get_uint64(v) > (uint64_t)INT64_MAX)
        return false;
    *ret = json_object_get_uint64(v);
    return true;
}

/* A size: an integer of bytes, or a string of sbx_parse_size()'s grammar
 * ("512M", "1GiB"), "unlimited" only when allowed. */
int sbx__json_get_size(struct sbx__json_ctx *c, struct json_object *v, bool unlimited_ok,
                       uint64_t *ret)
{
    const char *forms = unlimited_ok ? "bytes, or a number with K, M, G, T or P, or \"unlimited\""
                                     : "bytes, or a number with K, M, G, T or P";
    if (sbx__json_get_uint(v, ret))
        return 0;
    if (sbx__json_is(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) == strlen(s) && sbx__parse_size(s, ret) == 0 &&
            (unlimited_ok || *ret != SBX_UNLIMITED))
            return 0;
    }
    return sbx__json_fail_form(c, "a size", forms, v);
}

/* A duration in milliseconds: an integer, or a string of sbx_parse_duration()'s
 * grammar ("30s", "500ms", "2m", "1h", "1.5s"; rounded up to a millisecond), or
 * "unlimited". */
int sbx__json_get_duration(struct sbx__json_ctx *c, struct json_object *v, uint64_t *ret)
{
    if (sbx__json_get_uint(v, ret))
        return 0;
    if (sbx__json_is(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        uint64_t ns;
        if ((size_t)json_object_get_string_len(v) == strlen(s) &&
            sbx__parse_duration(s, &ns) == 0) {
            *ret = ns == SBX_UNLIMITED ? SBX_UNLIMITED : ns / 1000000 + (ns % 1000000 != 0);
            return 0;
        }
    }
    return sbx__json_fail_form(
        c, "a duration", "milliseconds, or \"500ms\", \"30s\", \"2m\", \"1h\", \"unlimited\"", v);
}

/* A count: a non-negative integer, or "unlimited" when allowed. */
int sbx__json_get_count(struct sbx__json_ctx *c, struct json_object *v, bool unlimited_ok,
                        uint64_t *ret)
{
    if (sbx__json_get_uint(v, ret))
        return 0;
    if (unlimited_ok && sbx__json_is(v, json_type_string) &&
        strcmp(json_object_get_string(v), "unlimited") == 0) {
        *ret = SBX_UNLIMITED;
        return 0;
    }
    return sbx__json_fail_type(c, unlimited_ok ? "a count or \"unlimited\"" : "a count", v);
}

/* A name from a table of bits, or 0. */
uint32_t sbx__json_bit_by_name(const char *name, const char *(*namer)(uint32_t), uint32_t all)
{
    for (uint32_t bit = 1; bit & all; bit <<= 1) {
        const char *n = namer(bit);
        if (n && strcmp(n, name) == 0)
            return bit;
    }
    return 0;
}

int sbx__json_get_bits(struct sbx__json_ctx *c, struct json_object *v, const char *what,
                       const char *(*namer)(uint32_t), uint32_t all, uint32_t *ret)
{
    int r = sbx__json_get_array(c, v, what);
    if (r < 0)
        return r;
    uint32_t set = 0;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        size_t old = sbx__json_path_index(c, i);
        struct json_object *item = json_object_array_get_idx(v, i);
        const char *name = NULL;
        if ((r = sbx__json_get_string(c, item, "a name", &name)) < 0)
            return r;
        uint32_t bit = sbx__json_bit_by_name(name, namer, all);
        if (!bit) {
            char list[256] = "";
            size_t used = 0;
            for (uint32_t b = 1; b & all; b <<= 1)
                used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0,
                                         "%s%s", used ? ", " : "", namer(b));
            return sbx__json_fail(c, -EINVAL, "unknown name \"%s\" (expected one of: %s)", name,
                                  list);
        }
        set |= bit;
        sbx__json_path_restore(c, old);
    }
    *ret = set;
    return 0;
}

/* An errno: a name ("EACCES"), a number 1 to 4095, or "kill". */
int sbx__json_get_errno(struct sbx__json_ctx *c, struct json_object *v, int *ret)
{
    uint64_t n;
    const char *what = "an errno (a name such as \"EPERM\", 1 to 4095) or \"kill\"";
    if (sbx__json_get_uint(v, &n)) {
        if (n < 1 || n > 4095)
            return sbx__json_fail_type(c, what, v);
        *ret = (int)n;
        return 0;
    }
    if (!sbx__json_is(v, json_type_string))
        return sbx__json_fail_type(c, what, v);
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
    return sbx__json_fail_type(c, what, v);
}

/* ---- writing values ------------------------------------------------------------------- */

/* Whether s is valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), as JSON text must be. */
bool sbx__json_valid_utf8(const char *str)
{
    return sbx__utf8_valid(str, strlen(str));
}

struct json_object *sbx__json_checked(struct sbx__json_out *o, struct json_object *v)
{
    if (!v)
        o->nomem = true;
    return v;
}

void sbx__json_put(struct sbx__json_out *o, struct json_object *obj, const char *key,
                   struct json_object *v)
{
    if (!v || !obj || json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        o->nomem = true;
    }
}

void sbx__json_push(struct sbx__json_out *o, struct json_object *arr, struct json_object *v)
{
    if (!v || !arr || json_object_array_add(arr, v) != 0) {
        json_object_put(v);
        o->nomem = true;
    }
}

struct json_object *sbx__json_str(struct sbx__json_out *o, const char *s)
{
    if (!o->not_utf8 && !sbx__json_valid_utf8(s))
        o->not_utf8 = s;
    return sbx__json_checked(o, json_object_new_string(s));
}

/* A size with the largest binary suffix that divides it ("512M"), else bytes. */
struct json_object *sbx__json_size_value(struct sbx__json_out *o, uint64_t v)
{
    static const char suffix[] = "KMGTP";
    if (v == SBX_UNLIMITED)
        return sbx__json_str(o, "unlimited");
    for (int i = 4; i >= 0 && v; i--) {
        uint64_t unit = 1ull << (10 * (i + 1));
        if (v % unit == 0) {
            char buf[32];
            snprintf(buf, sizeof(buf), "%llu%c", (unsigned long long)(v / unit), suffix[i]);
            return sbx__json_str(o, buf);
        }
    }
    return sbx__json_checked(o, json_object_new_int64((int64_t)v));
}

struct json_object *sbx__json_duration_value(struct sbx__json_out *o, uint64_t ms)
{
    char buf[32];
    if (ms == SBX_UNLIMITED)
        return sbx__json_str(o, "unlimited");
    if (ms % 1000 == 0)
        snprintf(buf, sizeof(buf), "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(buf, sizeof(buf), "%llums", (unsigned long long)ms);
    return sbx__json_str(o, buf);
}

struct json_object *sbx__json_count_value(struct sbx__json_out *o, uint64_t v)
{
    if (v == SBX_UNLIMITED)
        return sbx__json_str(o, "unlimited");
    return sbx__json_checked(o, json_object_new_int64((int64_t)v));
}

int sbx__json_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct json_object *sbx__json_bit_names(struct sbx__json_out *o, uint32_t set,
                                        const char *(*namer)(uint32_t), uint32_t all)
{
    struct json_object *arr = sbx__json_checked(o, json_object_new_array());
    for (uint32_t bit = 1; bit & all; bit <<= 1)
        if (set & bit)
            sbx__json_push(o, arr, sbx__json_str(o, namer(bit)));
    return arr;
}
