/* libFuzzer target: sbx_policy_load_json() on arbitrary text. Every input must
 * either be rejected (with a documented errno, a message, and the policy left
 * as it was, registered secrets included) or be accepted, and then round-trip:
 * the policy's document, loaded into a new policy, must load and write out the
 * same document. Values to redact ("output.redact") are the one setting a
 * document never carries: the new policy must have the same output switches
 * and no registered value (lib/internal.h, lib/outfilter.h: the values are not
 * visible through the API). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <agentsbx/agentsbx.h>

#include "internal.h"
#include "outfilter.h"

#define MAX_INPUT (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The policy's document, malloc'd; aborts on failure (writing cannot fail). */
static char *document(const sbx_policy *p)
{
    int n = sbx_policy_to_json(p, NULL, 0);
    if (n < 0) {
        fprintf(stderr, "sbx_policy_to_json: %d: %s\n", n, sbx_last_error());
        abort();
    }
    char *buf = malloc((size_t)n + 1);
    if (!buf || sbx_policy_to_json(p, buf, (size_t)n + 1) != n)
        abort();
    return buf;
}

static size_t n_values(const sbx_policy *p)
{
    return p->output ? p->output->n_values : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return -1; /* not added to the corpus */
    char *json = malloc(size + 1);
    if (!json)
        return 0;
    memcpy(json, data, size);
    json[size] = '\0';

    sbx_policy *p, *q;
    if (sbx_policy_new(&p) != 0 || sbx_policy_new(&q) != 0)
        abort();
    char *empty = document(p);
    int rc = sbx_policy_load_json(p, json);
    if (rc < 0) {
        /* an errno (-EINVAL for the document, or a builder call's, for files
         * that are not there or not what they should be), a message that
         * names the JSON path, and nothing changed */
        if (rc < -4095) {
            fprintf(stderr, "not an errno: %d: %s\n", rc, sbx_last_error());
            abort();
        }
        if (strncmp(sbx_last_error(), "$", 1) != 0) {
            fprintf(stderr, "the message does not name a JSON path: %s\n", sbx_last_error());
            abort();
        }
        char *after = document(p);
        if (strcmp(after, empty) != 0) {
            fprintf(stderr, "a rejected document changed the policy:\n%s\n", after);
            abort();
        }
        if (n_values(p) != 0) {
            fprintf(stderr, "a rejected document registered %zu values to redact\n", n_values(p));
            abort();
        }
        free(after);
    } else if (rc == 0) {
        char *first = document(p);
        rc = sbx_policy_load_json(q, first);
        if (rc != 0) {
            fprintf(stderr, "the policy's own document does not load: %s\n%s\n", sbx_last_error(),
                    first);
            abort();
        }
        char *second = document(q);
        if (strcmp(first, second) != 0) {
            fprintf(stderr, "round trip differs:\n--- first\n%s--- second\n%s", first, second);
            abort();
        }
        /* the switches round-trip; the secrets are never in the document */
        bool p_off = p->output && p->output->patterns_off;
        bool q_off = q->output && q->output->patterns_off;
        int p_esc = p->output ? p->output->escapes : SBX_ESCAPES_KEEP;
        int q_esc = q->output ? q->output->escapes : SBX_ESCAPES_KEEP;
        if (p_off != q_off || p_esc != q_esc || n_values(q) != 0) {
            fprintf(stderr,
                    "output settings do not round-trip (patterns off %d/%d, escapes %d/%d, "
                    "values %zu/%zu):\n%s",
                    p_off, q_off, p_esc, q_esc, n_values(p), n_values(q), first);
            abort();
        }
        free(first);
        free(second);
    } else {
        abort(); /* positive: never */
    }
    free(empty);
    sbx_policy_free(p);
    sbx_policy_free(q);
    free(json);
    return 0;
}
