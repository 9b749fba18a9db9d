/* libFuzzer target for the output filter (lib/outfilter.c), through its public
 * API (sbx_output_filter_*).
 *
 * Input: byte 0 holds flags (bit 0: neutralise escapes, bit 1: credential
 * shapes off, bits 2-7: the secret's length, 4 to 67); byte 1 the action of
 * each Unicode class (two bits each: tags, bidi, invisible, invalid UTF-8);
 * then the secret, whose
 * bytes are mapped onto letters that no output of the filter's own ([REDACTED],
 * \xHH, \u00HH) can form; then the stream, in which every byte 0xfe marks a cut
 * between two writes (and is dropped).
 *
 * Checks: the stream written in pieces gives exactly what it gives in one
 * piece, with the same counts (the Unicode classes' too) and tag text; no
 * member of a class that is not kept is in the output (whatever kept invalid
 * bytes sit around what was stripped), and it is valid UTF-8 when invalid
 * UTF-8 is not kept; the output never contains the secret; with
 * neutralising on, it holds no control character but newline, tab and the CR
 * of a CRLF, no C1 control, and is valid UTF-8; and a registered secret never
 * reduces what is redacted: every byte of the stream that the credential
 * shapes redact without it is redacted with it too (the filter reports the
 * ranges it redacts through its internal on_redact hook). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <agentsbx/agentsbx.h>

#include "outfilter.h"

#define CUT 0xfe

struct buf {
    unsigned char *data;
    size_t len, cap;
};

static void collect(int stream, const char *data, size_t len, void *userdata)
{
    struct buf *b = userdata;
    (void)stream;
    if (len == 0)
        abort(); /* the filter never passes empty pieces */
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data)
            abort();
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

struct counts {
    uint64_t red, esc, unicode[SBX__UNICODE_CLASSES];
    char *tags;
};

/* Filter s, written in pieces cut at each CUT byte (which is dropped). */
static void run(const sbx_policy *p, const unsigned char *s, size_t n, struct buf *out,
                struct counts *c)
{
    sbx_output_filter *f = NULL;
    if (sbx_output_filter_new(p, 1, collect, out, &f) != 0)
        abort();
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != CUT)
            continue;
        if (sbx_output_filter_write(f, s + start, i - start) != 0)
            abort();
        start = i + 1;
    }
    if (sbx_output_filter_finish(f) != 0)
        abort();
    c->red = sbx_output_filter_redactions(f);
    c->esc = sbx_output_filter_escapes(f);
    for (int k = 0; k < SBX__UNICODE_CLASSES; k++)
        c->unicode[k] = sbx_output_filter_unicode(f, k);
    const char *tags = sbx_output_filter_unicode_tag_text(f);
    if (!tags || strlen(tags) > SBX_UNICODE_TAG_TEXT_MAX || !(c->tags = strdup(tags)))
        abort();
    sbx_output_filter_free(f);
}

/* Valid UTF-8 with no control character but \n, \t and the \r of \r\n. */
static void check_neutral(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0x7f || (c < 0x20 && c != '\n' && c != '\t' &&
                              !(c == '\r' && i + 1 < n && s[i + 1] == '\n')))
                abort();
            i++;
            continue;
        }
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (c < 0xc2 || c > 0xf4 || i + need > n)
            abort();
        for (size_t k = 1; k < need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                abort();
        if (c == 0xc2 && s[i + 1] < 0xa0) /* U+0080..U+009F */
            abort();
        i += need;
    }
}

/* No member of a class whose action is not keep (actions[]); valid UTF-8 if
 * invalid UTF-8 is not kept. U+FEFF at the very start is a byte order mark. */
static void check_classes(const unsigned char *s, size_t n, const int actions[])
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        bool valid = c < 0x80 || (c >= 0xc2 && c <= 0xf4 && i + need <= n);
        for (size_t k = 1; valid && k < need; k++)
            valid = (s[i + k] & 0xc0) == 0x80;
        uint32_t cp = c;
        if (valid && need == 2)
            cp = (c & 0x1fu) << 6 | (s[i + 1] & 0x3fu);
        else if (valid && need == 3)
            cp = (c & 0x0fu) << 12 | (s[i + 1] & 0x3fu) << 6 | (s[i + 2] & 0x3fu);
        else if (valid && need == 4)
            cp = (c & 0x07u) << 18 | (s[i + 1] & 0x3fu) << 12 | (s[i + 2] & 0x3fu) << 6 |
                 (s[i + 3] & 0x3fu);
        if (valid && ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                      (need == 4 && (cp < 0x10000 || cp > 0x10ffff))))
            valid = false; /* overlong, surrogate, out of range */
        if (!valid) {
            if (actions[SBX_UNICODE_INVALID_UTF8] != SBX_UNICODE_KEEP)
                abort();
            i++;
            continue;
        }
        int cls = sbx__unicode_class(cp);
        if (cls >= 0 && actions[cls] != SBX_UNICODE_KEEP && !(cp == 0xfeff && i == 0))
            abort();
        i += need;
    }
}

static void discard(void *ctx, const char *data, size_t len)
{
    (void)ctx, (void)data, (void)len;
}

struct marks {
    unsigned char *bits;
    size_t n;
};

static void mark(void *ctx, uint64_t start, uint64_t end)
{
    struct marks *m = ctx;
    if (start >= end || end > m->n)
        abort(); /* a range outside the stream */
    memset(m->bits + start, 1, (size_t)(end - start));
}

/* Which bytes of s the filter of policy p redacts. */
static void redacted_bytes(const sbx_policy *p, const unsigned char *s, size_t n,
                           unsigned char *bits)
{
    struct sbx__outcfg *cfg = NULL;
    struct sbx__outfilter f;
    struct marks m = {bits, n};
    memset(bits, 0, n);
    if (sbx__outcfg_new(p, NULL, &cfg) != 0 ||
        sbx__outfilter_init(&f, cfg, cfg->escapes, discard, &m))
        abort();
    (f.next ? f.next : &f)->on_redact = mark; /* offsets in what stripping left */
    sbx__outfilter_write(&f, (const char *)s, n);
    sbx__outfilter_finish(&f);
    sbx__outfilter_destroy(&f);
    sbx__outcfg_unref(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char letters[] = "ghijklmnopqrstvwyz"; /* no hex digit, no u or x */
    if (size < 1)
        return 0;
    int neutralise = data[0] & 1, no_patterns = data[0] & 2;
    size_t slen = 4 + (data[0] >> 2);
    if (size < 2 + slen)
        return 0;
    int actions[SBX__UNICODE_CLASSES];
    for (int k = 0; k < SBX__UNICODE_CLASSES; k++)
        actions[k] = (data[1] >> (2 * k)) & 3;
    char secret[80];
    for (size_t i = 0; i < slen; i++)
        secret[i] = letters[data[2 + i] % (sizeof(letters) - 1)];
    secret[slen] = '\0';
    const unsigned char *stream = data + 2 + slen;
    size_t n = size - 2 - slen;

    sbx_policy *p = NULL;
    if (sbx_policy_new(&p) != 0 || sbx_redact_value(p, secret) != 0 ||
        sbx_set_output_escapes(p, neutralise ? SBX_ESCAPES_NEUTRALISE : SBX_ESCAPES_KEEP) != 0 ||
        sbx_set_redact_patterns(p, !no_patterns) != 0)
        abort();
    for (int k = 0; k < SBX__UNICODE_CLASSES; k++)
        if (sbx_set_output_unicode(p, k, actions[k]) != 0)
            abort();

    /* in one piece: the stream without its cut marks */
    unsigned char *whole = malloc(n ? n : 1);
    size_t wn = 0;
    if (!whole)
        abort();
    for (size_t i = 0; i < n; i++)
        if (stream[i] != CUT)
            whole[wn++] = stream[i];

    struct buf one = {0}, many = {0};
    struct counts c1 = {0}, c2 = {0};
    run(p, whole, wn, &one, &c1);
    run(p, stream, n, &many, &c2);
    if (one.len != many.len || (one.len && memcmp(one.data, many.data, one.len) != 0) ||
        c1.red != c2.red || c1.esc != c2.esc ||
        memcmp(c1.unicode, c2.unicode, sizeof(c1.unicode)) != 0 || strcmp(c1.tags, c2.tags) != 0)
        abort();
    if (one.len >= slen && memmem(one.data, one.len, secret, slen))
        abort();
    if (strstr(c1.tags, secret))
        abort(); /* the tag text is redacted too */
    if (neutralise)
        check_neutral(one.data, one.len);
    else if (c1.esc != 0)
        abort();
    check_classes(one.data, one.len, actions);
    free(c1.tags);
    free(c2.tags);

    /* A registered secret never reduces what is redacted. */
    if (!no_patterns && wn) {
        sbx_policy *bare = NULL;
        if (sbx_policy_new(&bare) != 0 ||
            sbx_set_output_escapes(bare, neutralise ? SBX_ESCAPES_NEUTRALISE : SBX_ESCAPES_KEEP) !=
                0)
            abort();
        for (int k = 0; k < SBX__UNICODE_CLASSES; k++) /* the same stripped text */
            if (sbx_set_output_unicode(bare, k, actions[k]) != 0)
                abort();
        unsigned char *without = malloc(wn), *with = malloc(wn);
        if (!without || !with)
            abort();
        redacted_bytes(bare, whole, wn, without);
        redacted_bytes(p, whole, wn, with);
        for (size_t i = 0; i < wn; i++)
            if (without[i] && !with[i])
                abort();
        free(without);
        free(with);
        sbx_policy_free(bare);
    }

    free(one.data);
    free(many.data);
    free(whole);
    sbx_policy_free(p);
    return 0;
}
