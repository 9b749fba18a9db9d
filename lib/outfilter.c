/* The output filter's settings: the policy's (sbx_redact_value() and the
 * other setters), the compiled ones a filter runs with (struct sbx__outcfg),
 * the public filter object (sbx_output_filter_*), and the output layer. The
 * credential shapes are in outfilter_patterns.c, the streaming engine in
 * outfilter_engine.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "outfilter.h"
#include "outfilter_patterns.h"

/* ---- compiled settings ------------------------------------------------------------------ */

bool sbx__outcfg_active(const struct sbx__outcfg *cfg)
{
    (void)cfg;
    return true; /* the Unicode classes are counted whatever the settings */
}

bool sbx__outcfg_auditing(const struct sbx__outcfg *cfg)
{
    return cfg->audit_fd >= 0 || cfg->audit_fn;
}

struct sbx__outcfg *sbx__outcfg_ref(struct sbx__outcfg *cfg)
{
    if (cfg)
        __atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
    return cfg;
}

void sbx__outcfg_unref(struct sbx__outcfg *cfg)
{
    if (!cfg || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < cfg->n_values; i++) {
        explicit_bzero(cfg->values[i], cfg->lens[i]);
        free(cfg->values[i]);
    }
    free(cfg->values);
    free(cfg->lens);
    free(cfg);
}

int sbx__outcfg_new(const sbx_policy *policy, const char *document, struct sbx__outcfg **ret)
{
    const struct sbx__output_policy *op = policy->output;
    struct sbx__outcfg *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return sbx__errno(-ENOMEM, "compiling the output settings");
    cfg->refs = 1;
    cfg->patterns = !op || !op->patterns_off;
    cfg->escapes = op ? op->escapes : SBX_ESCAPES_KEEP;
    cfg->audit_fd = op ? op->audit_fd : -1;
    cfg->audit_limit = !op || !op->audit_limit ? SBX_AUDIT_LIMIT_DEFAULT : op->audit_limit;
    if (op) {
        cfg->output_fn = op->output_fn;
        cfg->output_ud = op->output_ud;
        cfg->audit_fn = op->audit_fn;
        cfg->audit_ud = op->audit_ud;
    }
    size_t n = op ? op->n_values : 0;
    if (n) {
        cfg->values = calloc(n, sizeof(*cfg->values));
        cfg->lens = calloc(n, sizeof(*cfg->lens));
        if (!cfg->values || !cfg->lens)
            goto nomem;
    }
    for (size_t i = 0; i < n; i++) {
        /* insertion by length, longest first: the longest value wins at a position */
        size_t len = op->lens[i], at = cfg->n_values;
        char *copy = malloc(len);
        if (!copy)
            goto nomem;
        memcpy(copy, op->values[i], len);
        while (at > 0 && cfg->lens[at - 1] < len) {
            cfg->values[at] = cfg->values[at - 1];
            cfg->lens[at] = cfg->lens[at - 1];
            at--;
        }
        cfg->values[at] = copy;
        cfg->lens[at] = len;
        cfg->n_values++;
        if (len > cfg->max_len)
            cfg->max_len = len;
        cfg->value_start[(uint8_t)copy[0]] = 1;
    }
    for (const char *c = sbx__pattern_starts; *c; c++)
        cfg->shape_start[(uint8_t)*c] = 1;
    for (const char *c = sbx__pattern_word_starts; *c; c++)
        cfg->shape_word[(uint8_t)*c] = 1;
    if (op)
        memcpy(cfg->unicode, op->unicode, sizeof(cfg->unicode));
    if (sbx__outcfg_auditing(cfg))
        sbx__policy_digest(document, cfg, cfg->digest);
    *ret = cfg;
    return 0;
nomem:
    sbx__outcfg_unref(cfg);
    return sbx__errno(-ENOMEM, "compiling the output settings");
}

/* ---- the policy's settings -------------------------------------------------------------- */

void sbx__output_policy_free(sbx_policy *policy)
{
    struct sbx__output_policy *op = policy->output;
    if (!op)
        return;
    for (size_t i = 0; i < op->n_values; i++) {
        explicit_bzero(op->values[i], op->lens[i]);
        free(op->values[i]);
    }
    free(op->values);
    free(op->lens);
    free(op);
    policy->output = NULL;
}

int sbx__output_policy_get(sbx_policy *policy, const char *func, struct sbx__output_policy **ret)
{
    if (!policy->output) {
        struct sbx__output_policy *op = calloc(1, sizeof(*op));
        if (!op)
            return sbx__errno(-ENOMEM, "%s", func);
        op->audit_fd = -1;
        policy->output = op;
    }
    *ret = policy->output;
    return 0;
}

int sbx_set_output_callback(sbx_policy *policy, sbx_output_fn fn, void *userdata)
{
    sbx__check_arg(policy);
    struct sbx__output_policy *op = NULL;
    int r = sbx__output_policy_get(policy, __func__, &op);
    if (r < 0)
        return r;
    op->output_fn = fn;
    op->output_ud = fn ? userdata : NULL;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_redact_value(sbx_policy *policy, const char *value)
{
    sbx__check_arg(policy);
    sbx__check_arg(value);
    size_t len = strnlen(value, SBX_REDACT_VALUE_MAX + 1);
    sbx__check(len >= SBX_REDACT_VALUE_MIN && len <= SBX_REDACT_VALUE_MAX,
               "%s: the value is %s%zu bytes long, expected %d to %d", __func__,
               len > SBX_REDACT_VALUE_MAX ? "more than " : "",
               len > SBX_REDACT_VALUE_MAX ? (size_t)SBX_REDACT_VALUE_MAX : len,
               SBX_REDACT_VALUE_MIN, SBX_REDACT_VALUE_MAX);
    struct sbx__output_policy *op = NULL;
    int r = sbx__output_policy_get(policy, __func__, &op);
    if (r < 0)
        return r;
    for (size_t i = 0; i < op->n_values; i++)
        if (op->lens[i] == len && memcmp(op->values[i], value, len) == 0)
            return 0;
    if (op->n_values == SBX__REDACT_MAX_VALUES)
        return sbx__err(-ENOSPC, "%s: %d values are registered already", __func__,
                        SBX__REDACT_MAX_VALUES);
    if (op->n_values % 16 == 0) {
        size_t cap = op->n_values + 16;
        char **values = realloc(op->values, cap * sizeof(*values));
        if (values)
            op->values = values;
        size_t *lens = values ? realloc(op->lens, cap * sizeof(*lens)) : NULL;
        if (!lens)
            return sbx__errno(-ENOMEM, "%s", __func__);
        op->lens = lens;
    }
    char *copy = malloc(len);
    if (!copy)
        return sbx__errno(-ENOMEM, "%s", __func__);
    memcpy(copy, value, len);
    op->values[op->n_values] = copy;
    op->lens[op->n_values++] = len;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_redact_patterns(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    struct sbx__output_policy *op = NULL;
    int r = sbx__output_policy_get(policy, __func__, &op);
    if (r < 0)
        return r;
    op->patterns_off = !on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_output_escapes(sbx_policy *policy, int mode)
{
    sbx__check_arg(policy);
    sbx__check(mode == SBX_ESCAPES_KEEP || mode == SBX_ESCAPES_NEUTRALISE ||
                   mode == SBX_ESCAPES_NEUTRALISE_TERMINAL,
               "%s: unknown mode %d (SBX_ESCAPES_KEEP, SBX_ESCAPES_NEUTRALISE or "
               "SBX_ESCAPES_NEUTRALISE_TERMINAL)",
               __func__, mode);
    struct sbx__output_policy *op = NULL;
    int r = sbx__output_policy_get(policy, __func__, &op);
    if (r < 0)
        return r;
    op->escapes = mode;
    sbx__policy_changed(policy);
    return 0;
}

const char *const sbx__unicode_class_names[SBX__UNICODE_CLASSES] = {"tags", "bidi", "invisible",
                                                                    "invalid_utf8"};
const char *const sbx__unicode_action_names[4] = {"keep", "strip", "escape", "replace"};

int sbx_set_output_unicode(sbx_policy *policy, int cls, int action)
{
    sbx__check_arg(policy);
    sbx__check(cls >= 0 && cls < SBX__UNICODE_CLASSES,
               "%s: unknown class %d (SBX_UNICODE_TAGS, _BIDI, _INVISIBLE or _INVALID_UTF8)",
               __func__, cls);
    sbx__check(action >= SBX_UNICODE_KEEP && action <= SBX_UNICODE_REPLACE,
               "%s: unknown action %d (SBX_UNICODE_KEEP, _STRIP, _ESCAPE or _REPLACE)", __func__,
               action);
    struct sbx__output_policy *op = NULL;
    int r = sbx__output_policy_get(policy, __func__, &op);
    if (r < 0)
        return r;
    op->unicode[cls] = (uint8_t)action;
    sbx__policy_changed(policy);
    return 0;
}

uint64_t sbx_result_unicode(const sbx_result *result, int cls)
{
    if (!result || !result->unicode || cls < 0 || cls >= SBX__UNICODE_CLASSES)
        return 0;
    return result->unicode->count[cls];
}

const char *sbx_result_unicode_tag_text(const sbx_result *result)
{
    if (!result)
        return NULL;
    if (!result->unicode)
        return "";
    return result->unicode->tag_lost ? NULL : result->unicode->tag_text;
}

uint64_t sbx_result_redactions(const sbx_result *result)
{
    return result ? result->redactions : 0;
}

uint64_t sbx_result_escapes(const sbx_result *result)
{
    return result ? result->escapes : 0;
}

/* ---- the public filter object ------------------------------------------------------------ */

struct sbx_output_filter {
    struct sbx__outcfg *cfg;
    struct sbx__outfilter f;
    char *tag_text; /* the last sbx_output_filter_unicode_tag_text() */
    sbx_output_fn fn;
    void *userdata;
    int stream;
};

static void public_sink(void *ctx, const char *data, size_t len)
{
    sbx_output_filter *of = ctx;
    of->fn(of->stream, data, len, of->userdata);
}

int sbx_output_filter_new(const sbx_policy *policy, int stream, sbx_output_fn fn, void *userdata,
                          sbx_output_filter **ret)
{
    sbx__check_arg(policy);
    sbx__check_arg(fn);
    sbx__check_arg(ret);
    sbx__check(stream >= 0 && stream <= 2, "%s: stream %d is not 0, 1 or 2", __func__, stream);
    sbx_output_filter *of = calloc(1, sizeof(*of));
    if (!of)
        return sbx__errno(-ENOMEM, "%s", __func__);
    int r = sbx__outcfg_new(policy, NULL, &of->cfg);
    if (r == 0)
        r = sbx__outfilter_init(&of->f, of->cfg, of->cfg->escapes, public_sink, of);
    if (r < 0) {
        sbx__outcfg_unref(of->cfg);
        free(of);
        return r;
    }
    of->fn = fn;
    of->userdata = userdata;
    of->stream = stream;
    *ret = of;
    return 0;
}

int sbx_output_filter_write(sbx_output_filter *filter, const void *data, size_t len)
{
    sbx__check_arg(filter);
    sbx__check(data != NULL || len == 0, "%s: data is NULL", __func__);
    if (filter->f.finished)
        return sbx__err(-EPIPE, "%s: the filter was finished", __func__);
    if (len)
        sbx__outfilter_write(&filter->f, data, len);
    return 0;
}

int sbx_output_filter_finish(sbx_output_filter *filter)
{
    sbx__check_arg(filter);
    sbx__outfilter_finish(&filter->f);
    return 0;
}

uint64_t sbx_output_filter_redactions(const sbx_output_filter *filter)
{
    return filter ? filter->f.redactions : 0;
}

uint64_t sbx_output_filter_escapes(const sbx_output_filter *filter)
{
    return filter ? filter->f.escaped : 0;
}

uint64_t sbx_output_filter_unicode(const sbx_output_filter *filter, int cls)
{
    if (!filter || cls < 0 || cls >= SBX__UNICODE_CLASSES)
        return 0;
    return filter->f.unicode[cls];
}

static void drop_tag_text(sbx_output_filter *filter)
{
    if (filter->tag_text) {
        explicit_bzero(filter->tag_text, strlen(filter->tag_text));
        free(filter->tag_text);
        filter->tag_text = NULL;
    }
}

const char *sbx_output_filter_unicode_tag_text(sbx_output_filter *filter)
{
    if (!filter) {
        sbx__err(-EINVAL, "%s: filter is NULL", __func__);
        return NULL;
    }
    drop_tag_text(filter);
    if (sbx__outfilter_tag_text(&filter->f, &filter->tag_text) < 0)
        return NULL;
    return filter->tag_text;
}

void sbx_output_filter_free(sbx_output_filter *filter)
{
    if (!filter)
        return;
    drop_tag_text(filter);
    sbx__outfilter_destroy(&filter->f);
    sbx__outcfg_unref(filter->cfg);
    free(filter);
}

/* ---- the layer ------------------------------------------------------------------ */

/* Everything (callbacks and the audit descriptor too). The values are copied
 * with their lengths; the copies are wiped when freed. */
static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    const struct sbx__output_policy *so = from->output;
    if (!so)
        return 0;
    struct sbx__output_policy *o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    *o = *so;
    o->values = NULL;
    o->lens = NULL;
    o->n_values = 0;
    to->output = o;
    if (!so->n_values)
        return 0;
    size_t cap = (so->n_values + 15) / 16 * 16; /* sbx_redact_value() grows by 16 */
    o->values = calloc(cap, sizeof(*o->values));
    o->lens = calloc(cap, sizeof(*o->lens));
    if (!o->values || !o->lens)
        return -ENOMEM;
    for (size_t i = 0; i < so->n_values; i++) {
        if (!(o->values[i] = malloc(so->lens[i])))
            return -ENOMEM;
        memcpy(o->values[i], so->values[i], so->lens[i]);
        o->lens[i] = so->lens[i];
        o->n_values++;
    }
    return 0;
}

static int compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    return sbx__outcfg_new(policy, plan->document, &plan->output);
}

static void plan_free(struct sbx__plan *plan)
{
    sbx__outcfg_unref(plan->output);
}

static int adopt(struct sbx__spawn *s)
{
    sbx__audit_spawn(s->child, s->plan, s->argv);
    if (s->child->audit) { /* each violation the monitor answers is an event */
        s->child->violation_hook = sbx__audit_violation;
        s->child->net_hook = sbx__audit_connection; /* and each connection of the broker */
    }
    if (s->child->audit) /* and each call of a host operation */
        s->child->call_hook = sbx__audit_call;
    return 0;
}

static void finish(sbx_child *child)
{
    sbx__audit_end(child);
}

const struct sbx__layer sbx__layer_output = {
    .name = "output",
    .policy_free = sbx__output_policy_free,
    .policy_dup = policy_dup,
    .compile = compile,
    .plan_free = plan_free,
    .adopt = adopt,
    .finish = finish,
};
