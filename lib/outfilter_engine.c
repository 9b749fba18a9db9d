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

static bool needs_escape(uint8_t c)
{
    return c >= 0x7f || (c < 0x20 && c != '\n' && c != '\t');
}

/* A control character or a byte >= 0x7f at p[0], in neutralising mode: the
 * bytes consumed, or 0 when more are needed. */
static size_t escape_at(struct sbx__outfilter *f, const uint8_t *p, size_t n, bool final)
{
    uint8_t c = p[0];
    if (c < 0x80) {
        if (c == '\r') {
            if (n < 2 && !final)
                return 0;
            if (n >= 2 && p[1] == '\n') {
                emit(f, "\r\n", 2);
                return 2;
            }
        }
        emit_escaped(f, false, c);
        return 1;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        emit_escaped(f, false, c);
        return 1;
    }
    for (size_t k = 1; k < need; k++) {
        if (k >= n) {
            if (!final)
                return 0;
            emit_escaped(f, false, c);
            return 1;
        }
        uint8_t b = p[k];
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) {
            emit_escaped(f, false, c);
            return 1;
        }
    }
    if (c == 0xc2 && p[1] <= 0x9f) { /* a C1 control, U+0080 to U+009F */
        emit_escaped(f, true, p[1]);
        return 2;
    }
    emit(f, p, need);
    return need;
}

/* ---- the driver ---------------------------------------------------------------------- */

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
        if (f->cfg->shape_start[w[i]]) {
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
 * ones, the rest as it is (neutralised when asked). Returns how many bytes
 * were written or redacted (less than `decided` when an escape needs more). */
static size_t write_out(struct sbx__outfilter *f, const uint8_t *w, size_t decided, size_t n,
                        bool final)
{
    bool esc = f->escapes == SBX_ESCAPES_NEUTRALISE;
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
        size_t stop = r && r->start < decided ? r->start : decided;
        uint8_t c = w[k];
        if (esc && needs_escape(c)) {
            /* A sequence is judged on the bytes before the next redaction. */
            bool cut = stop < n || final;
            size_t got = escape_at(f, w + k, (r ? r->start : n) - k, cut);
            if (got == 0)
                break;
            k += got;
            continue;
        }
        size_t j = k + 1;
        while (j < stop && !(esc && needs_escape(w[j])))
            j++;
        emit(f, w + k, j - k);
        k = j;
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
    if (f->cfg->patterns)
        scan_shapes(f, w, n, final);
    else
        f->sscan = n;
    if (f->cfg->n_values)
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

int sbx__outfilter_init(struct sbx__outfilter *f, const struct sbx__outcfg *cfg, int escapes,
                        sbx__sink_fn sink, void *ctx)
{
    memset(f, 0, sizeof(*f));
    f->cfg = cfg;
    f->sink = sink ? sink : pass_through;
    f->ctx = ctx;
    f->escapes = escapes;
    f->hold_max = cfg->max_len + SBX__PATTERN_WINDOW;
    f->cap = f->hold_max + SLICE;
    f->work = malloc(f->cap);
    if (!f->work)
        return sbx__errno(-ENOMEM, "allocating the output filter");
    return 0;
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
}

void sbx__outfilter_finish(struct sbx__outfilter *f)
{
    if (f->finished)
        return;
    process(f, true);
    flush(f);
    f->finished = true;
}

void sbx__outfilter_destroy(struct sbx__outfilter *f)
{
    if (f->work) {
        explicit_bzero(f->work, f->cap);
        free(f->work);
    }
    free(f->ranges[0]);
    free(f->ranges[1]);
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
    int r = sbx__outfilter_init(&f, cfg, SBX_ESCAPES_KEEP, strbuf_sink, &b);
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
