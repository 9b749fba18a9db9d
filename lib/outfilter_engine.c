/* The output filter's streaming engine: redaction of registered values and
 * credential shapes (outfilter_patterns.c), and neutralising of terminal
 * control characters, on a stream that arrives in arbitrary pieces.
 *
 * The filter keeps a work buffer: the bytes held back from earlier writes,
 * then new ones. At each position every matcher says "yes, this many bytes",
 * "no", or "I need more bytes to tell" (only possible when the buffer ends
 * before the matcher's bounded window does). The first matcher, in a fixed
 * order, that does not say "no" decides: "need more" stops the scan and the
 * rest is held until the next write or the end of the stream. So the output
 * never depends on where the stream was cut. A match may then "swallow" what
 * follows (the rest of a token, a PEM block), byte by byte, which needs no
 * look-ahead. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfilter.h"
#include "outfilter_patterns.h"

#define SLICE 16384

/* ---- registered values ------------------------------------------------------------- */

/* A registered value at p: YES (its length in *len), NO, or NEED. */
static int value_at(const struct sbx__outcfg *cfg, const uint8_t *p, size_t n, bool final,
                    size_t *len)
{
    /* longest first (they are sorted so) */
    for (size_t v = 0; v < cfg->n_values; v++) {
        size_t vl = cfg->lens[v];
        if (p[0] != (uint8_t)cfg->values[v][0])
            continue;
        if (n >= vl) {
            if (memcmp(p, cfg->values[v], vl) == 0) {
                *len = vl;
                return YES;
            }
        } else if (!final && memcmp(p, cfg->values[v], n) == 0) {
            return NEED;
        }
    }
    return NO;
}
/* ---- output ------------------------------------------------------------------------ */

static void flush(struct sbx__outfilter *f)
{
    if (f->out_len) {
        f->sink(f->ctx, f->out, f->out_len);
        f->out_len = 0;
    }
}

static void emit(struct sbx__outfilter *f, const void *data, size_t len)
{
    const char *d = data;
    f->stripped = false;
    while (len) {
        if (f->out_len == sizeof(f->out))
            flush(f);
        size_t room = sizeof(f->out) - f->out_len;
        size_t take = len < room ? len : room;
        memcpy(f->out + f->out_len, d, take);
        f->out_len += take;
        d += take;
        len -= take;
    }
}

/* A neutralised byte as "\xHH", or a C1 control as "\u00HH". */
static void emit_escaped(struct sbx__outfilter *f, bool unicode, unsigned value)
{
    char text[8];
    int n = unicode ? snprintf(text, sizeof(text), "\\u%04x", value)
                    : snprintf(text, sizeof(text), "\\x%02x", value);
    emit(f, text, (size_t)n);
    f->escaped++;
}

/* Whether c is neutralised; `terminal`: SBX_ESCAPES_NEUTRALISE_TERMINAL, which
 * also keeps backspace and a lone carriage return (a pty's line editing). */
static bool needs_escape(uint8_t c, bool terminal)
{
    if (terminal && (c == '\r' || c == '\b'))
        return false;
    return c >= 0x7f || (c < 0x20 && c != '\n' && c != '\t');
}

/* ---- Unicode classes ------------------------------------------------------------ */

/* The class of a code point (SBX_UNICODE_*), or -1. The lists and why each
 * member is there: docs/output-and-audit.md. */
int sbx__unicode_class(uint32_t cp)
{
    if (cp < 0x00ad)
        return -1;
    if (cp < 0x2000) {
        switch (cp) {
        case 0x061c: return SBX_UNICODE_BIDI;      /* ARABIC LETTER MARK */
        case 0x00ad:                               /* SOFT HYPHEN */
        case 0x034f:                               /* COMBINING GRAPHEME JOINER */
        case 0x115f:                               /* HANGUL CHOSEONG FILLER */
        case 0x1160:                               /* HANGUL JUNGSEONG FILLER */
        case 0x17b4:                               /* KHMER VOWEL INHERENT AQ */
        case 0x17b5:                               /* KHMER VOWEL INHERENT AA */
        case 0x180e: return SBX_UNICODE_INVISIBLE; /* MONGOLIAN VOWEL SEPARATOR */
        default: return -1;
        }
    }
    if (cp <= 0x206f) {
        if (cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
            return SBX_UNICODE_BIDI;
        if ((cp >= 0x200b && cp <= 0x200d) || (cp >= 0x2060 && cp <= 0x2065) || cp >= 0x206a)
            return SBX_UNICODE_INVISIBLE;
        return -1;
    }
    if (cp < 0x3164)
        return -1;
    if (cp == 0x3164 || cp == 0xfeff || cp == 0xffa0 || (cp >= 0xfff0 && cp <= 0xfffb))
        return SBX_UNICODE_INVISIBLE; /* fillers, BOM, unassigned and interlinear annotation */
    if (cp < 0x1bca0)
        return -1;
    if (cp <= 0x1bca3 || (cp >= 0x1d173 && cp <= 0x1d17a))
        return SBX_UNICODE_INVISIBLE; /* shorthand and musical format controls */
    if (cp >= 0xe0000 && cp <= 0xe007f)
        return SBX_UNICODE_TAGS;
    if ((cp >= 0xe0080 && cp <= 0xe00ff) || (cp >= 0xe01f0 && cp <= 0xe0fff))
        return SBX_UNICODE_INVISIBLE; /* unassigned, default-ignorable */
    return -1;
}

/* The UTF-8 sequence at p (avail bytes; cut: no byte after them can belong
 * to it): YES with the code point, NO with the length of the maximal invalid
 * sequence (as U+FFFD replacement counts it), or NEED. */
static int decode(const uint8_t *p, size_t avail, bool cut, uint32_t *cp, size_t *len)
{
    int k = sbx__utf8_seq(p, avail);
    if (k > 0) {
        uint32_t c = p[0];
        if (k == 2)
            c = (c & 0x1f) << 6 | (p[1] & 0x3fu);
        else if (k == 3)
            c = (c & 0x0f) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
        else if (k == 4)
            c = (c & 0x07) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
        *cp = c;
        *len = (size_t)k;
        return YES;
    }
    if (k < 0 && !cut)
        return NEED;
    /* the longest start of a valid sequence (1 to 3 bytes), or the lead byte */
    size_t sub = 1;
    for (size_t n = 2; n <= 3 && n <= avail; n++)
        if (sbx__utf8_seq(p, n) < 0)
            sub = n;
    *len = sub;
    return NO;
}

/* Tag characters spell ASCII: keep what they spell (a run of them after
 * another is separated from it by a newline), up to the room there is. */
static void tag_add(struct sbx__outfilter *f, uint32_t cp, uint64_t offset)
{
    bool continues = f->tags_len && offset == f->tags_next;
    f->tags_next = offset + 4;
    if (cp < 0xe0020 || cp > 0xe007e || f->tags_nomem)
        return; /* not a character: counted only */
    if (!f->tags) {
        f->tags_cap = SBX_UNICODE_TAG_TEXT_MAX + f->cfg->max_len + SBX__PATTERN_WINDOW;
        f->tags = malloc(f->tags_cap);
        if (!f->tags) {
            f->tags_nomem = true; /* sbx__outfilter_tag_text() says so */
            return;
        }
    }
    if (f->tags_len && !continues && f->tags_len < f->tags_cap)
        f->tags[f->tags_len++] = '\n';
    if (f->tags_len < f->tags_cap)
        f->tags[f->tags_len++] = (char)(cp - 0xe0000);
}

/* A byte as "\xHH" (an invalid one, escaped; counted as a terminal escape in
 * neutralising mode, as before there were classes). */
static void emit_hex(struct sbx__outfilter *f, uint8_t c)
{
    if (f->escapes != SBX_ESCAPES_KEEP) {
        emit_escaped(f, false, c);
        return;
    }
    char text[8];
    int n = snprintf(text, sizeof(text), "\\x%02x", c);
    emit(f, text, (size_t)n);
}

static void emit_replacement(struct sbx__outfilter *f)
{
    emit(f, "\xef\xbf\xbd", 3);
}

/* A maximal invalid sequence of len bytes. */
static void invalid(struct sbx__outfilter *f, const uint8_t *p, size_t len)
{
    f->unicode[SBX_UNICODE_INVALID_UTF8]++;
    int action = f->actions[SBX_UNICODE_INVALID_UTF8];
    if (action == SBX_UNICODE_STRIP)
        return;
    if (action == SBX_UNICODE_REPLACE) {
        emit_replacement(f);
        return;
    }
    if (action == SBX_UNICODE_KEEP && f->escapes == SBX_ESCAPES_KEEP) {
        /* Continuation bytes right after a character that was left out could
         * complete what kept bytes before it began ("\xf3\xa0", a stripped
         * character, "\x81\xa9": a tag character again): U+FFFD instead. */
        if (f->stripped && p[0] >= 0x80 && p[0] <= 0xbf) {
            emit_replacement(f);
            f->guarded++;
        } else
            emit(f, p, len);
        return;
    }
    for (size_t k = 0; k < len; k++) /* escaped, or kept in neutralising mode */
        emit_hex(f, p[k]);
}

/* A character that needs a look (not plain), at p: the bytes consumed, or 0
 * when more are needed. avail bytes are there; cut: no byte after them can
 * belong to it (the end of the stream, or a redaction starts there). offset:
 * where p is in the stream. */
static size_t special_at(struct sbx__outfilter *f, const uint8_t *p, size_t avail, bool cut,
                         uint64_t offset)
{
    uint8_t c = p[0];
    if (c < 0x80) { /* a control character, in neutralising mode */
        if (c == '\r') {
            if (avail < 2 && !cut)
                return 0;
            if (avail >= 2 && p[1] == '\n') {
                emit(f, "\r\n", 2);
                return 2;
            }
        }
        emit_escaped(f, false, c);
        return 1;
    }
    uint32_t cp;
    size_t len;
    int r = decode(p, avail, cut, &cp, &len);
    if (r == NEED)
        return 0;
    if (r == NO) {
        invalid(f, p, len);
        return len;
    }
    if (cp <= 0x9f && f->escapes != SBX_ESCAPES_KEEP) { /* a C1 control */
        emit_escaped(f, true, cp);
        return len;
    }
    int cls = sbx__unicode_class(cp);
    if (cls < 0 || (cp == 0xfeff && offset == 0)) { /* a byte order mark starts the stream */
        emit(f, p, len);
        return len;
    }
    f->unicode[cls]++;
    if (cls == SBX_UNICODE_TAGS && (!f->strip_only || f->actions[cls] == SBX_UNICODE_STRIP))
        tag_add(f, cp, offset);
    switch (f->actions[cls]) {
    case SBX_UNICODE_STRIP: f->stripped = true; break;
    case SBX_UNICODE_ESCAPE: {
        char text[16];
        int n = snprintf(text, sizeof(text), "\\u{%04X}", (unsigned)cp);
        emit(f, text, (size_t)n);
        break;
    }
    case SBX_UNICODE_REPLACE: emit_replacement(f); break;
    default: emit(f, p, len); break;
    }
    return len;
}

/* The end of a run of bytes, from k, that are written as they are: ASCII
 * that needs no escape, and complete UTF-8 characters of no class. */
static size_t plain_run(const struct sbx__outfilter *f, const uint8_t *w, size_t k, size_t lim,
                        bool cut)
{
    bool esc = f->escapes != SBX_ESCAPES_KEEP;
    while (k < lim) {
        if (!esc) { /* the fast path: eight ASCII bytes at a time */
            while (lim - k >= 8) {
                uint64_t x;
                memcpy(&x, w + k, 8);
                x &= 0x8080808080808080u;
                if (x) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                    k += (size_t)__builtin_ctzll(x) / 8; /* to the first byte that is not ASCII */
#endif
                    break;
                }
                k += 8;
            }
            if (k == lim)
                break;
        }
        uint8_t c = w[k];
        if (f->plain[c]) {
            k++;
            continue;
        }
        if (c < 0x80)
            break;
        uint32_t cp;
        size_t len;
        if (lim - k >= 3 && c >= 0xe1 && c <= 0xef && c != 0xed && (w[k + 1] & 0xc0) == 0x80 &&
            (w[k + 2] & 0xc0) == 0x80) { /* the fast path: three bytes, never overlong */
            cp = (c & 0x0fu) << 12 | (w[k + 1] & 0x3fu) << 6 | (w[k + 2] & 0x3fu);
            len = 3;
        } else if (lim - k >= 2 && c >= 0xc2 && c <= 0xdf && (w[k + 1] & 0xc0) == 0x80) {
            cp = (c & 0x1fu) << 6 | (w[k + 1] & 0x3fu); /* and two */
            len = 2;
        } else if (decode(w + k, lim - k, cut, &cp, &len) != YES) {
            break;
        }
        if (sbx__unicode_class(cp) >= 0 || (esc && cp <= 0x9f))
            break;
        k += len;
    }
    return k;
}

/* ---- the driver ---------------------------------------------------------------------- */

static bool alnum(uint8_t c)
{
    uint8_t l = c | 0x20;
    return (l >= 'a' && l <= 'z') || (c >= '0' && c <= '9');
}

/* Record a range to redact ([0] shapes, [1] values; in order of start, and
 * a shape's range may grow at its end while swallowing). */
static void add_range(struct sbx__outfilter *f, int which, size_t start, size_t end, bool cont)
{
    if (f->on_redact && end > start)
        f->on_redact(f->ctx, f->base + start, f->base + end);
    size_t n = f->n_ranges[which];
    struct sbx__range *r = f->ranges[which];
    if (cont && n && r[n - 1].end == start) { /* swallowing: the same redaction */
        r[n - 1].end = end;
        return;
    }
    if (n == f->cap_ranges[which]) {
        size_t cap = n ? n * 2 : 16;
        struct sbx__range *grown = realloc(r, cap * sizeof(*grown));
        if (!grown) {
            f->nomem = true; /* fail closed: redact the rest */
            return;
        }
        f->ranges[which] = r = grown;
        f->cap_ranges[which] = cap;
    }
    r[n] = (struct sbx__range){start, end, cont};
    f->n_ranges[which] = n + 1;
}

/* The shapes' engine, from f->sscan: what the shapes redact, with the
 * registered values left out of it (so that registering one never changes
 * what a shape finds). Stops where it needs more bytes. */
static void scan_shapes(struct sbx__outfilter *f, const uint8_t *w, size_t n, bool final)
{
    const struct sbx__outcfg *cfg = f->cfg;
    size_t i = f->sscan;
    while (i < n) {
        if (f->swallow == SW_PEM) {
            if (w[i] == '-') {
                struct match m = {0};
                int r = sbx__pem_end_at(w + i, n - i, final, f->prev, &m);
                if (r == NEED)
                    break;
                if (r == YES) {
                    add_range(f, 0, i, i + m.len, true);
                    i += m.len;
                    f->prev = '-';
                    f->swallow = 0;
                    continue;
                }
            }
            add_range(f, 0, i, i + 1, true);
            f->prev = w[i++];
            if (++f->pem_skipped >= SBX__PEM_MAX)
                f->swallow = 0;
            continue;
        }
        if (f->swallow) {
            if (sbx__in_class(f->swallow, w[i])) {
                add_range(f, 0, i, i + 1, true);
                f->prev = w[i++];
                continue;
            }
            f->swallow = 0;
        }
        /* the fast path: bytes that, with the next one, start no shape */
        size_t j = i;
        while (j + 4 < n) { /* four positions at a time */
            const uint8_t *q = w + j;
            if ((sbx__shape_first[q[0]] & sbx__shape_second[q[1]]) |
                (sbx__shape_first[q[1]] & sbx__shape_second[q[2]]) |
                (sbx__shape_first[q[2]] & sbx__shape_second[q[3]]) |
                (sbx__shape_first[q[3]] & sbx__shape_second[q[4]]))
                break;
            j += 4;
        }
        while (j + 1 < n && !sbx__shape_pair(w[j], w[j + 1]))
            j++;
        if (j > i) {
            f->prev = w[j - 1];
            i = j;
            continue;
        }
        uint8_t c = w[i];
        if (cfg->shape_start[c] || (cfg->shape_word[c] && !alnum(f->prev))) {
            struct match m;
            int r = sbx__shape_at(w + i, n - i, final, f->prev, &m);
            if (r == NEED)
                break;
            if (r == YES) {
                add_range(f, 0, i + m.keep, i + m.len, false);
                f->prev = w[i + m.len - 1];
                i += m.len;
                f->swallow = m.swallow;
                f->pem_skipped = 0;
                continue;
            }
        }
        f->prev = w[i++];
    }
    f->sscan = i;
}

/* The values' engine, from f->vscan: every position where a registered value
 * starts, overlapping ones included. */
static void scan_values(struct sbx__outfilter *f, const uint8_t *w, size_t n, bool final)
{
    const struct sbx__outcfg *cfg = f->cfg;
    size_t j = f->vscan;
    for (; j < n; j++) {
        if (!cfg->value_start[w[j]])
            continue;
        size_t len;
        int r = value_at(cfg, w + j, n - j, final, &len);
        if (r == NEED)
            break;
        if (r == YES)
            add_range(f, 1, j, j + len, false);
    }
    f->vscan = j;
}

/* The next range of either list that starts at or after `from` (by start). */
static const struct sbx__range *next_range(struct sbx__outfilter *f, size_t idx[2])
{
    const struct sbx__range *a = idx[0] < f->n_ranges[0] ? &f->ranges[0][idx[0]] : NULL;
    const struct sbx__range *b = idx[1] < f->n_ranges[1] ? &f->ranges[1][idx[1]] : NULL;
    if (a && (!b || a->start <= b->start))
        return idx[0]++, a;
    if (b)
        return idx[1]++, b;
    return NULL;
}

/* Write work[0..decided): the ranges as one marker per run of overlapping
 * ones, the rest as it is, or neutralised, or as the Unicode actions say.
 * Returns how many bytes were written or redacted (less than `decided` when a
 * character needs more). */
static size_t write_out(struct sbx__outfilter *f, const uint8_t *w, size_t decided, size_t n,
                        bool final)
{
    size_t idx[2] = {0, 0};
    const struct sbx__range *r = next_range(f, idx);
    size_t k = 0;
    while (k < decided) {
        while (r && r->start <= k) { /* ranges that start here (or inside what is covered) */
            if (r->end > f->cover_end) {
                if (r->start > f->cover_end || (r->start == f->cover_end && !r->cont)) {
                    emit(f, SBX_REDACTED, sizeof(SBX_REDACTED) - 1);
                    f->redactions++;
                }
                f->cover_end = r->end;
            }
            r = next_range(f, idx);
        }
        if (k < f->cover_end) {
            k = f->cover_end < decided ? f->cover_end : decided;
            continue;
        }
        /* A character is judged on the bytes before the next redaction; one
         * that goes past `decided` waits (a redaction may yet start inside
         * it), so that where the stream was cut never matters. */
        size_t lim = decided;
        bool cut = final && decided == n;
        if (r && r->start <= decided) {
            lim = r->start;
            cut = true;
        }
        size_t j = plain_run(f, w, k, lim, cut);
        if (j > k) {
            emit(f, w + k, j - k);
            k = j;
            continue;
        }
        size_t got = special_at(f, w + k, lim - k, cut, f->base + k);
        if (got == 0)
            break;
        k += got;
    }
    /* Ranges that start inside the redaction k stopped in belong to it. */
    for (; r && r->start < k; r = next_range(f, idx))
        if (r->end > f->cover_end)
            f->cover_end = r->end;
    return k;
}

/* Filter work[0..held); keep what cannot be decided yet. */
static void process(struct sbx__outfilter *f, bool final)
{
    const uint8_t *w = (const uint8_t *)f->work;
    size_t n = f->held;
    if (f->cfg->patterns && !f->strip_only)
        scan_shapes(f, w, n, final);
    else
        f->sscan = n;
    if (f->cfg->n_values && !f->strip_only)
        scan_values(f, w, n, final);
    else
        f->vscan = n;
    if (f->nomem) {
        f->cover_end = n; /* could not keep a range: redact everything from here */
        f->n_ranges[0] = f->n_ranges[1] = 0;
    }
    size_t decided = f->sscan < f->vscan ? f->sscan : f->vscan;
    size_t done = write_out(f, w, decided, n, final);
    /* Drop what is written, and the ranges that ended in it. */
    memmove(f->work, f->work + done, n - done);
    f->held = n - done;
    f->base += done;
    f->sscan -= done;
    f->vscan -= done;
    f->cover_end = f->cover_end > done ? f->cover_end - done : 0;
    for (int which = 0; which < 2; which++) {
        size_t kept = 0;
        for (size_t k = 0; k < f->n_ranges[which]; k++) {
            struct sbx__range rg = f->ranges[which][k];
            if (rg.end <= done || rg.start < done)
                continue; /* written, or already counted in cover_end */
            f->ranges[which][kept++] = (struct sbx__range){rg.start - done, rg.end - done, rg.cont};
        }
        f->n_ranges[which] = kept;
    }
}

static void pass_through(void *ctx, const char *data, size_t len)
{
    (void)ctx, (void)data, (void)len;
}

static void to_next(void *ctx, const char *data, size_t len)
{
    sbx__outfilter_write(ctx, data, len);
}

static const uint8_t keep_all[SBX__UNICODE_CLASSES] = {SBX_UNICODE_KEEP};

static int init(struct sbx__outfilter *f, const struct sbx__outcfg *cfg, int escapes,
                const uint8_t actions[SBX__UNICODE_CLASSES], sbx__sink_fn sink, void *ctx)
{
    memset(f, 0, sizeof(*f));
    f->cfg = cfg;
    f->sink = sink ? sink : pass_through;
    f->ctx = ctx;
    f->escapes = escapes;
    memcpy(f->actions, actions, sizeof(f->actions));
    for (unsigned c = 0; c < 0x80; c++)
        f->plain[c] = escapes == SBX_ESCAPES_KEEP ||
                      !needs_escape((uint8_t)c, escapes == SBX_ESCAPES_NEUTRALISE_TERMINAL);
    f->hold_max = cfg->max_len + SBX__PATTERN_WINDOW;
    f->cap = f->hold_max + SLICE;
    f->work = malloc(f->cap);
    if (!f->work)
        return sbx__errno(-ENOMEM, "allocating the output filter");
    if (!memchr(actions, SBX_UNICODE_STRIP, SBX__UNICODE_CLASSES) ||
        (!cfg->patterns && !cfg->n_values))
        return 0; /* stripping cannot join anything that is redacted */
    /* This filter strips; the next one redacts what is left, escapes it and
     * acts on the classes that are not stripped. */
    uint8_t rest[SBX__UNICODE_CLASSES];
    for (int c = 0; c < SBX__UNICODE_CLASSES; c++)
        rest[c] = actions[c] == SBX_UNICODE_STRIP ? SBX_UNICODE_KEEP : actions[c];
    f->next = malloc(sizeof(*f->next));
    int r = f->next ? init(f->next, cfg, escapes, rest, f->sink, f->ctx)
                    : sbx__errno(-ENOMEM, "allocating the output filter");
    if (r < 0) {
        free(f->next);
        f->next = NULL;
        sbx__outfilter_destroy(f);
        return r;
    }
    f->strip_only = true;
    f->escapes = SBX_ESCAPES_KEEP;
    for (unsigned c = 0; c < 0x80; c++)
        f->plain[c] = 1;
    for (int c = 0; c < SBX__UNICODE_CLASSES; c++)
        if (f->actions[c] != SBX_UNICODE_STRIP)
            f->actions[c] = SBX_UNICODE_KEEP;
    f->sink = to_next;
    f->ctx = f->next;
    return 0;
}

int sbx__outfilter_init(struct sbx__outfilter *f, const struct sbx__outcfg *cfg, int escapes,
                        sbx__sink_fn sink, void *ctx)
{
    return init(f, cfg, escapes, cfg->unicode, sink, ctx);
}

/* The counts of a stripping stage: what it stripped, and the rest from the
 * next stage. */
static void take_next_counts(struct sbx__outfilter *f)
{
    if (!f->next)
        return;
    f->redactions = f->next->redactions;
    f->escaped = f->next->escaped;
    for (int c = 0; c < SBX__UNICODE_CLASSES; c++)
        if (f->actions[c] != SBX_UNICODE_STRIP) /* (the next stage saw U+FFFD for those guarded) */
            f->unicode[c] = f->next->unicode[c] + (c == SBX_UNICODE_INVALID_UTF8 ? f->guarded : 0);
}

void sbx__outfilter_write(struct sbx__outfilter *f, const char *data, size_t len)
{
    if (f->finished)
        return;
    while (len) {
        size_t take = f->cap - f->held;
        if (take > len)
            take = len;
        memcpy(f->work + f->held, data, take);
        f->held += take;
        data += take;
        len -= take;
        process(f, false);
        if (f->held > f->hold_max) /* cannot happen (windows are bounded): never stall */
            process(f, true);
    }
    flush(f);
    take_next_counts(f);
}

void sbx__outfilter_finish(struct sbx__outfilter *f)
{
    if (f->finished)
        return;
    process(f, true);
    flush(f);
    if (f->next)
        sbx__outfilter_finish(f->next);
    take_next_counts(f);
    f->finished = true;
}

void sbx__outfilter_destroy(struct sbx__outfilter *f)
{
    if (f->work) {
        explicit_bzero(f->work, f->cap);
        free(f->work);
    }
    if (f->tags) {
        explicit_bzero(f->tags, f->tags_cap);
        free(f->tags);
    }
    free(f->ranges[0]);
    free(f->ranges[1]);
    if (f->next) {
        sbx__outfilter_destroy(f->next);
        free(f->next);
    }
    explicit_bzero(f, sizeof(*f));
}

struct strbuf {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void strbuf_sink(void *ctx, const char *data, size_t len)
{
    struct strbuf *b = ctx;
    if (b->failed)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = malloc(cap); /* not realloc: the old copy is wiped */
        if (!grown) {
            b->failed = true;
            return;
        }
        if (b->buf) {
            memcpy(grown, b->buf, b->len);
            explicit_bzero(b->buf, b->cap);
            free(b->buf);
        }
        b->buf = grown;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    b->buf[b->len] = '\0';
}

int sbx__redact_string(const struct sbx__outcfg *cfg, const char *s, char **ret)
{
    struct sbx__outfilter f;
    struct strbuf b = {0};
    int r = init(&f, cfg, SBX_ESCAPES_KEEP, keep_all, strbuf_sink, &b); /* redaction only */
    if (r < 0)
        return r;
    sbx__outfilter_write(&f, s, strlen(s));
    sbx__outfilter_finish(&f);
    sbx__outfilter_destroy(&f);
    if (!b.failed && !b.buf)
        b.buf = strdup("");
    if (b.failed || !b.buf) {
        if (b.buf)
            explicit_bzero(b.buf, b.cap);
        free(b.buf);
        return sbx__errno(-ENOMEM, "redacting a string");
    }
    *ret = b.buf;
    return 0;
}

/* ---- what the tag characters spell ------------------------------------------------ */

int sbx__outfilter_tag_text(const struct sbx__outfilter *f, char **ret)
{
    if (f->next && f->actions[SBX_UNICODE_TAGS] != SBX_UNICODE_STRIP)
        f = f->next; /* the tags went through: the next stage saw them */
    if (f->tags_nomem)
        return sbx__errno(-ENOMEM, "decoding tag characters");
    char *raw = malloc(f->tags_len + 1), *red = NULL;
    if (!raw)
        return sbx__errno(-ENOMEM, "decoding tag characters");
    if (f->tags_len)
        memcpy(raw, f->tags, f->tags_len);
    raw[f->tags_len] = '\0';
    int r = sbx__redact_string(f->cfg, raw, &red);
    explicit_bzero(raw, f->tags_len);
    free(raw);
    if (r < 0)
        return r;
    size_t len = strlen(red);
    if (len > SBX_UNICODE_TAG_TEXT_MAX) {
        explicit_bzero(red + SBX_UNICODE_TAG_TEXT_MAX, len - SBX_UNICODE_TAG_TEXT_MAX);
        red[SBX_UNICODE_TAG_TEXT_MAX] = '\0';
    }
    *ret = red;
    return 0;
}

int sbx__unicode_report_add(struct sbx__unicode_report **report, const struct sbx__outfilter *f)
{
    struct sbx__unicode_report *u = *report;
    if (!u && !(u = calloc(1, sizeof(*u))))
        return sbx__errno(-ENOMEM, "the output's Unicode counts");
    *report = u;
    for (int c = 0; c < SBX__UNICODE_CLASSES; c++)
        u->count[c] += f->unicode[c];
    char *text;
    if (u->tag_lost || sbx__outfilter_tag_text(f, &text) < 0) {
        u->tag_lost = true; /* never the text unredacted: none at all */
        explicit_bzero(u->tag_text, sizeof(u->tag_text));
        u->tag_len = 0;
        return 0;
    }
    size_t len = strlen(text);
    if (len && u->tag_len && u->tag_len < SBX_UNICODE_TAG_TEXT_MAX)
        u->tag_text[u->tag_len++] = '\n'; /* stdout's, then stderr's */
    size_t room = SBX_UNICODE_TAG_TEXT_MAX - u->tag_len;
    memcpy(u->tag_text + u->tag_len, text, len < room ? len : room);
    u->tag_len += len < room ? len : room;
    u->tag_text[u->tag_len] = '\0';
    explicit_bzero(text, len);
    free(text);
    return 0;
}

void sbx__unicode_report_free(struct sbx__unicode_report *report)
{
    if (report) {
        explicit_bzero(report, sizeof(*report));
        free(report);
    }
}

size_t sbx__unicode_report_json(const struct sbx__unicode_report *report, char *buf, size_t size)
{
    static const struct sbx__unicode_report none;
    const struct sbx__unicode_report *u = report ? report : &none;
    char text[SBX_UNICODE_TAG_TEXT_MAX * 6 + 3]; /* the tag text, as a JSON string */
    sbx__json_quote(text, sizeof(text), u->tag_text, u->tag_len);
    int n = snprintf(buf, size,
                     "\"unicode\":{\"tags\":%llu,\"bidi\":%llu,\"invisible\":%llu,"
                     "\"invalid_utf8\":%llu,\"tag_text\":%s}",
                     (unsigned long long)u->count[SBX_UNICODE_TAGS],
                     (unsigned long long)u->count[SBX_UNICODE_BIDI],
                     (unsigned long long)u->count[SBX_UNICODE_INVISIBLE],
                     (unsigned long long)u->count[SBX_UNICODE_INVALID_UTF8],
                     u->tag_lost ? "null" : text);
    return n < 0 ? 0 : (size_t)n;
}
