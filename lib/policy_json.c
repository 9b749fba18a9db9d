/* Policy files: JSON (schema version 1, docs/policy-files.md) to policy and
 * back, parsed and written with json-c.
 *
 * Loading is all or nothing: the document is applied, through the public
 * builder calls, to a scratch policy that starts as a copy of the caller's,
 * and only when every setting succeeded are the two exchanged. Writing
 * compares the policy with a new one (sbx_policy_new()) and writes what
 * differs, so that the defaults live in policy.c alone.
 *
 * This file holds the document: its keys and their order, the transaction,
 * parsing and writing. Each section's reader and writer are side by side in
 * policy_json_sections.c; typed values and their messages in json_value.c. */
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
#include "json_value.h"
#include "policy_json_internal.h"

#define FILE_MAX   (1u << 20) /* the largest policy file read */
#define JSON_DEPTH 16         /* the schema nests 4 deep */

/* ---- applying a document ----------------------------------------------------------- */

static const char *layer_name(uint32_t bit)
{
    return sbx_layer_name(bit);
}

/* Every key and string of the document must be valid UTF-8 as the writer
 * checks it (no overlong forms, surrogates or code points past U+10FFFF):
 * json-c's own check lets some through, and an escape such as "\ud800" can
 * make one. Otherwise a document could load and not be written back. */
static int check_utf8(struct sbx__json_ctx *c, struct json_object *v)
{
    int r = 0;
    if (sbx__json_is(v, json_type_string)) {
        if (!sbx__json_valid_utf8(json_object_get_string(v)))
            return sbx__json_fail(c, -EINVAL, "a string that is not valid UTF-8 (not shown)");
    } else if (sbx__json_is(v, json_type_object)) {
        json_object_object_foreach(v, key, val)
        {
            if (!sbx__json_valid_utf8(key))
                return sbx__json_fail(c, -EINVAL, "a key that is not valid UTF-8 (not shown)");
            size_t old = sbx__json_path_key(c, key);
            if ((r = check_utf8(c, val)) < 0)
                return r;
            sbx__json_path_restore(c, old);
        }
    } else if (sbx__json_is(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t old = sbx__json_path_index(c, i);
            if ((r = check_utf8(c, json_object_array_get_idx(v, i))) < 0)
                return r;
            sbx__json_path_restore(c, old);
        }
    }
    return 0;
}

/* The document's own settings (the sections are in policy_json_sections.c). */
static int apply_profile(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    const char *s;
    int r = sbx__json_get_string(c, v, "a profile name", &s);
    if (r < 0)
        return r;
    CALL(c, sbx__profile_apply(p, s));
    return 0;
}

static int apply_workdir(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    const char *s;
    int r = sbx__json_get_string(c, v, "an absolute path", &s);
    if (r < 0)
        return r;
    CALL(c, sbx_set_workdir(p, s));
    return 0;
}

static int apply_best_effort(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    uint32_t layers = 0;
    int r = sbx__json_get_bits(c, v, "an array of layer names", layer_name, SBX_LAYER_ALL, &layers);
    if (r < 0)
        return r;
    CALL(c, sbx_set_best_effort(p, p->best_effort | layers));
    return 0;
}

/* A top-level on/off switch: true or false, given to set. */
static int apply_switch(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v,
                        int (*set)(sbx_policy *, int))
{
    int on;
    int r = sbx__json_get_bool(c, v, &on);
    if (r < 0)
        return r;
    CALL(c, set(p, on));
    return 0;
}

static int apply_die_with_parent(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    return apply_switch(c, p, v, sbx_set_die_with_parent);
}

/* true, false, or "auto" (the default). */
static int apply_prepare_ahead(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    if (sbx__json_is(v, json_type_string) && strcmp(json_object_get_string(v), "auto") == 0) {
        CALL(c, sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_AUTO));
        return 0;
    }
    if (!sbx__json_is(v, json_type_boolean))
        return sbx__json_fail_type(c, "true, false or \"auto\"", v);
    return apply_switch(c, p, v, sbx_prepare_ahead);
}

static int apply_private_tmp(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    return apply_switch(c, p, v, sbx_set_private_tmp);
}

static int apply_tmp_parent(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    const char *s;
    int r = sbx__json_get_string(c, v, "an absolute path", &s);
    if (r < 0)
        return r;
    CALL(c, sbx_set_tmp_parent(p, s));
    return 0;
}

static int apply_exec(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    const char *name = NULL;
    int r = sbx__json_get_string(c, v, "\"allowlist\" or \"system\"", &name);
    if (r < 0)
        return r;
    for (int mode = SBX_EXEC_ALLOWLIST; sbx_exec_mode_name(mode); mode++)
        if (strcmp(name, sbx_exec_mode_name(mode)) == 0) {
            CALL(c, sbx_set_exec_mode(p, mode));
            return 0;
        }
    return sbx__json_fail(c, -EINVAL, "unknown exec mode \"%s\" (expected allowlist or system)",
                          name);
}

static int apply_namespaces(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *v)
{
    uint32_t ns = 0;
    int r = sbx__json_get_bits(c, v, "an array of namespace names", sbx_namespace_name, SBX_NS_ALL,
                               &ns);
    if (r < 0)
        return r;
    CALL(c, sbx_unshare(p, p->namespaces | ns));
    return 0;
}

/* The document's keys, in the order they are applied whatever their order in
 * the text (docs/policy-files.md): the profile first, so that the file's own
 * settings win; the environment before the tools, which are searched in the
 * PATH it sets. */
static const struct {
    const char *key;
    int (*apply)(struct sbx__json_ctx *, sbx_policy *, struct json_object *);
} sections[] = {
    {"profile", apply_profile},
    {"workdir", apply_workdir},
    {"env", sbx__policy_json_apply_env},
    {"limits", sbx__policy_json_apply_limits},
    {"best_effort", apply_best_effort},
    {"die_with_parent", apply_die_with_parent},
    {"prepare_ahead", apply_prepare_ahead},
    {"private_tmp", apply_private_tmp},
    {"tmp_parent", apply_tmp_parent},
    {"tool_bundles", sbx__policy_json_apply_tool_bundles}, /* before "tools", which uses it */
    {"grants", sbx__policy_json_apply_grants},
    {"deny", sbx__policy_json_apply_deny},
    {"protected", sbx__policy_json_apply_protected},
    {"binds", sbx__policy_json_apply_binds},
    {"tmpfs", sbx__policy_json_apply_tmpfs},
    {"overlays", sbx__policy_json_apply_overlays},
    {"tools", sbx__policy_json_apply_tools},
    {"exec", apply_exec},
    {"network", sbx__policy_json_apply_network},
    {"seccomp", sbx__policy_json_apply_seccomp},
    {"cgroup", sbx__policy_json_apply_cgroup},
    {"capabilities", sbx__policy_json_apply_capabilities},
    {"unix_sockets", sbx__policy_json_apply_unix_sockets},
    {"isolation", sbx__policy_json_apply_isolation},
    {"namespaces", apply_namespaces},
    {"output", sbx__policy_json_apply_output},
};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

static int check_version(struct sbx__json_ctx *c, struct json_object *doc)
{
    struct json_object *v;
    size_t old = sbx__json_path_key(c, "version");
    uint64_t version;
    if (!json_object_object_get_ex(doc, "version", &v))
        return sbx__json_fail(c, -EINVAL, "missing (expected %d)", SBX_POLICY_JSON_VERSION);
    if (!sbx__json_get_uint(v, &version) || version != SBX_POLICY_JSON_VERSION) {
        char buf[SBX__JSON_VALUE_SHOWN + 8];
        return sbx__json_fail(c, -EINVAL, "unsupported version %s (this library reads version %d)",
                              sbx__json_shown(v, buf, sizeof(buf)), SBX_POLICY_JSON_VERSION);
    }
    sbx__json_path_restore(c, old);
    return 0;
}

/* Apply the parsed document `doc` to `p` (the scratch copy). */
static int apply_document(struct sbx__json_ctx *c, sbx_policy *p, struct json_object *doc)
{
    if (!sbx__json_is(doc, json_type_object))
        return sbx__json_fail_type(c, "an object", doc);
    int r = check_version(c, doc);
    if (r < 0)
        return r;
    const char *keys[N_SECTIONS + 2] = {"version"};
    for (size_t i = 0; i < N_SECTIONS; i++)
        keys[i + 1] = sections[i].key;
    if ((r = sbx__json_check_keys(c, doc, keys)) < 0)
        return r;
    for (size_t i = 0; i < N_SECTIONS; i++) {
        struct json_object *v;
        if (!json_object_object_get_ex(doc, sections[i].key, &v))
            continue;
        size_t old = sbx__json_path_key(c, sections[i].key);
        if ((r = sections[i].apply(c, p, v)) < 0)
            return r;
        sbx__json_path_restore(c, old);
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
    struct sbx__json_ctx c = {.path = "$", .len = 1};
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

static struct json_object *write_document(struct sbx__json_out *o, const sbx_policy *p,
                                          const sbx_policy *def)
{
    struct json_object *doc = sbx__json_checked(o, json_object_new_object());
    sbx__json_put(o, doc, "version",
                  sbx__json_checked(o, json_object_new_int(SBX_POLICY_JSON_VERSION)));
    if (p->workdir && (!def->workdir || strcmp(p->workdir, def->workdir) != 0))
        sbx__json_put(o, doc, "workdir", sbx__json_str(o, p->workdir));
    sbx__policy_json_write_env(o, doc, p, def);
    sbx__policy_json_write_limits(o, doc, p, def);
    if (p->best_effort != def->best_effort)
        sbx__json_put(o, doc, "best_effort",
                      sbx__json_bit_names(o, p->best_effort, layer_name, SBX_LAYER_ALL));
    if (p->die_with_parent != def->die_with_parent)
        sbx__json_put(o, doc, "die_with_parent",
                      sbx__json_checked(o, json_object_new_boolean(p->die_with_parent)));
    if (p->prepare_ahead != def->prepare_ahead)
        sbx__json_put(o, doc, "prepare_ahead",
                      sbx__json_checked(o, p->prepare_ahead == SBX_PREPARE_AHEAD_AUTO
                                               ? json_object_new_string("auto")
                                               : json_object_new_boolean(p->prepare_ahead)));
    if (p->private_tmp != def->private_tmp)
        sbx__json_put(o, doc, "private_tmp",
                      sbx__json_checked(o, json_object_new_boolean(p->private_tmp)));
    if (p->tmp_parent)
        sbx__json_put(o, doc, "tmp_parent", sbx__json_str(o, p->tmp_parent));
    if (p->exec_system != def->exec_system)
        sbx__json_put(o, doc, "exec",
                      sbx__json_str(o, sbx_exec_mode_name(sbx_policy_exec_mode(p))));
    sbx__policy_json_write_grants(o, doc, p);
    sbx__policy_json_write_tool_rules(o, doc, p);
    sbx__policy_json_write_deny(o, doc, p);
    sbx__policy_json_write_protected(o, doc, p);
    sbx__policy_json_write_mounts(o, doc, p);
    sbx__policy_json_write_network(o, doc, p);
    sbx__policy_json_write_seccomp(o, doc, p);
    sbx__policy_json_write_cgroup(o, doc, p, def);
    if (p->isolation != def->isolation)
        sbx__json_put(o, doc, "isolation", sbx__json_str(o, sbx_isolation_name(p->isolation)));
    if (p->namespaces != def->namespaces)
        sbx__json_put(o, doc, "namespaces",
                      sbx__json_bit_names(o, p->namespaces, sbx_namespace_name, SBX_NS_ALL));
    sbx__policy_json_write_output(o, doc, p);
    sbx__policy_json_write_capabilities(o, doc, p);
    if (p->n_unix_sockets) {
        struct json_object *socks = sbx__json_checked(o, json_object_new_array());
        for (size_t i = 0; i < p->n_unix_sockets; i++)
            sbx__json_push(o, socks, sbx__json_str(o, p->unix_sockets[i]));
        sbx__json_put(o, doc, "unix_sockets", socks);
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
    struct sbx__json_out o = {false, NULL};
    struct json_object *doc = write_document(&o, policy, def);
    sbx_policy_free(def);
    if (o.not_utf8) {
        /* The string, with its bytes outside printable ASCII as \xNN. */
        char shown_bytes[4 * SBX__JSON_VALUE_SHOWN + 1];
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
