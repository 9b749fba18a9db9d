/* JSON values for policy files: reading them with the JSON path of each value
 * for messages ("$.grants[2].access: expected ..."), and writing them with
 * every allocation and string checked (json_value.c). Used by policy_json.c
 * (the document) and policy_json_sections.c (each section's reader and
 * writer). Nothing here is exported. */
#ifndef SBX_JSON_VALUE_H
#define SBX_JSON_VALUE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define SBX__JSON_VALUE_SHOWN 60 /* bytes of an offending value quoted in a message */

/* Where a reader is in the document, for messages. */
struct sbx__json_ctx {
    char path[512]; /* "$.grants[2].access" */
    size_t len;
    struct json_object *bundles; /* the document's "tool_bundles" (checked), or NULL */
};

/* A writer's state: what went wrong, if anything. */
struct sbx__json_out {
    bool nomem;
    const char *not_utf8; /* the first string JSON cannot hold, or NULL */
};

/* Call a builder function; on failure, return its error with the JSON path. */
#define CALL(c, expr)                                                                              \
    do {                                                                                           \
        int call_rc_ = (expr);                                                                     \
        if (call_rc_ < 0)                                                                          \
            return sbx__json_fail_call((c), call_rc_);                                             \
    } while (0)

SBX__HIDDEN size_t sbx__json_path_key(struct sbx__json_ctx *c, const char *key);
SBX__HIDDEN size_t sbx__json_path_index(struct sbx__json_ctx *c, size_t i);
SBX__HIDDEN void sbx__json_path_restore(struct sbx__json_ctx *c, size_t old);
SBX__HIDDEN const char *sbx__json_shown(struct json_object *v, char *buf, size_t size);
SBX__HIDDEN int sbx__json_fail(const struct sbx__json_ctx *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
SBX__HIDDEN int sbx__json_fail_type(const struct sbx__json_ctx *c, const char *what,
                                    struct json_object *v);
SBX__HIDDEN int sbx__json_fail_form(const struct sbx__json_ctx *c, const char *what,
                                    const char *forms, struct json_object *v);
SBX__HIDDEN int sbx__json_fail_call(const struct sbx__json_ctx *c, int err);
SBX__HIDDEN bool sbx__json_is(struct json_object *v, enum json_type t);
SBX__HIDDEN int sbx__json_check_keys(struct sbx__json_ctx *c, struct json_object *obj,
                                     const char *const *known);
SBX__HIDDEN int sbx__json_get_object(struct sbx__json_ctx *c, struct json_object *v,
                                     const char *const *known);
SBX__HIDDEN int sbx__json_get_bool(struct sbx__json_ctx *c, struct json_object *v, int *ret);
SBX__HIDDEN int sbx__json_get_string(struct sbx__json_ctx *c, struct json_object *v,
                                     const char *what, const char **ret);
SBX__HIDDEN int sbx__json_get_array(struct sbx__json_ctx *c, struct json_object *v,
                                    const char *what);
SBX__HIDDEN bool sbx__json_get_uint(struct json_object *v, uint64_t *ret);
SBX__HIDDEN int sbx__json_get_size(struct sbx__json_ctx *c, struct json_object *v,
                                   bool unlimited_ok, uint64_t *ret);
SBX__HIDDEN int sbx__json_get_duration(struct sbx__json_ctx *c, struct json_object *v,
                                       uint64_t *ret);
SBX__HIDDEN int sbx__json_get_count(struct sbx__json_ctx *c, struct json_object *v,
                                    bool unlimited_ok, uint64_t *ret);
SBX__HIDDEN uint32_t sbx__json_bit_by_name(const char *name, const char *(*namer)(uint32_t),
                                           uint32_t all);
SBX__HIDDEN int sbx__json_get_bits(struct sbx__json_ctx *c, struct json_object *v, const char *what,
                                   const char *(*namer)(uint32_t), uint32_t all, uint32_t *ret);
SBX__HIDDEN int sbx__json_get_errno(struct sbx__json_ctx *c, struct json_object *v, int *ret);
SBX__HIDDEN bool sbx__json_valid_utf8(const char *str);
SBX__HIDDEN struct json_object *sbx__json_checked(struct sbx__json_out *o, struct json_object *v);
SBX__HIDDEN void sbx__json_put(struct sbx__json_out *o, struct json_object *obj, const char *key,
                               struct json_object *v);
SBX__HIDDEN void sbx__json_push(struct sbx__json_out *o, struct json_object *arr,
                                struct json_object *v);
SBX__HIDDEN struct json_object *sbx__json_str(struct sbx__json_out *o, const char *s);
SBX__HIDDEN struct json_object *sbx__json_size_value(struct sbx__json_out *o, uint64_t v);
SBX__HIDDEN struct json_object *sbx__json_duration_value(struct sbx__json_out *o, uint64_t ms);
SBX__HIDDEN struct json_object *sbx__json_count_value(struct sbx__json_out *o, uint64_t v);
SBX__HIDDEN int sbx__json_cmp_str(const void *a, const void *b);
SBX__HIDDEN struct json_object *sbx__json_bit_names(struct sbx__json_out *o, uint32_t set,
                                                    const char *(*namer)(uint32_t), uint32_t all);

#endif
