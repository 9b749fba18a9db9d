/* The output filter: redaction of registered values and credential shapes,
 * and neutralising of terminal control characters, on a stream that arrives
 * in arbitrary pieces.
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
#include <strings.h>

#include "layer.h"
#include "outfilter.h"

#define SLICE 16384

enum { NO = 0, YES = 1, NEED = -1 };

/* Character classes of tokens. */
enum {
    C_ALNUM = 1,
    C_UPALNUM,
    C_WORD,
    C_B64,
    C_B64URL,
    C_TOKEN68,
    C_SLACK,
    C_JWT,
    C_VALUE,
    C_PEMHDR,
    C_ALPHA,
    C_USER,
    C_URLPW,
};
#define SW_PEM 100 /* swallowing a PEM block up to its END line */

static bool is_alpha(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(uint8_t c)
{
    return is_alpha(c) || is_digit(c);
}

static uint8_t tolower_ascii(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool in_class(int cls, uint8_t c)
{
    switch (cls) {
    case C_ALNUM: return is_alnum(c);
    case C_UPALNUM: return (c >= 'A' && c <= 'Z') || is_digit(c);
    case C_WORD: return is_alnum(c) || c == '_';
    case C_B64: return is_alnum(c) || c == '+' || c == '/' || c == '=';
    case C_B64URL: return is_alnum(c) || c == '_' || c == '-';
    case C_TOKEN68:
        return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
               c == '/' || c == '=';
    case C_SLACK: return is_alnum(c) || c == '-';
    case C_JWT: return is_alnum(c) || c == '_' || c == '-' || c == '.';
    case C_VALUE: return c > 0x20 && c != 0x7f && !strchr("\"'`&,;<>)]}", c);
    case C_PEMHDR: return (c >= 'A' && c <= 'Z') || is_digit(c) || c == ' ';
    case C_ALPHA: return is_alpha(c);
    case C_USER: return c > 0x20 && c < 0x7f && !strchr(":/@\"'<>", c);
    case C_URLPW: return c > 0x20 && c < 0x7f && !strchr("@/\"'<>", c);
    default: return false;
    }
}

/* ---- matchers ------------------------------------------------------------------ */

/* A cursor over the bytes from the position being tested. */
struct scan {
    const uint8_t *p;
    size_t n, pos;
    bool final; /* no more bytes will come */
    uint8_t prev;
};

struct match {
    size_t len;  /* bytes consumed */
    size_t keep; /* of which the first `keep` are written as they are */
    int swallow; /* then skip this class (or SW_PEM); 0: nothing */
};

/* The end of the bytes was reached where more could change the answer. */
#define END(s) ((s)->final ? NO : NEED)

static int lit(struct scan *s, const char *text, bool ci)
{
    size_t len = strlen(text);
    for (size_t k = 0; k < len; k++) {
        if (s->pos + k >= s->n)
            return END(s);
        uint8_t c = s->p[s->pos + k];
        if ((ci ? tolower_ascii(c) : c) != (uint8_t)text[k])
            return NO;
    }
    s->pos += len;
    return YES;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int r_ = (expr);                                                                           \
        if (r_ != YES)                                                                             \
            return r_;                                                                             \
    } while (0)

/* Up to max blanks (spaces, tabs); needs to see what follows them. */
static int blanks(struct scan *s, size_t max)
{
    size_t k = 0;
    while (s->pos < s->n && k < max && (s->p[s->pos] == ' ' || s->p[s->pos] == '\t'))
        s->pos++, k++;
    return s->pos == s->n ? END(s) : YES;
}

/* One byte of @p set, if there is one. */
static int opt_char(struct scan *s, const char *set)
{
    if (s->pos == s->n)
        return END(s);
    if (strchr(set, s->p[s->pos]) && s->p[s->pos])
        s->pos++;
    return YES;
}

/* One byte of @p set. */
static int one_of(struct scan *s, const char *set)
{
    if (s->pos == s->n)
        return END(s);
    if (!s->p[s->pos] || !strchr(set, s->p[s->pos]))
        return NO;
    s->pos++;
    return YES;
}

/* At least min bytes of cls (only min are consumed: the rest is swallowed). */
static int run_min(struct scan *s, int cls, size_t min)
{
    for (size_t k = 0; k < min; k++) {
        if (s->pos + k >= s->n)
            return END(s);
        if (!in_class(cls, s->p[s->pos + k]))
            return NO;
    }
    s->pos += min;
    return YES;
}

/* min to max bytes of cls, and something else (or the end) after them. */
static int run_range(struct scan *s, int cls, size_t min, size_t max)
{
    size_t k = 0;
    while (s->pos + k < s->n && in_class(cls, s->p[s->pos + k])) {
        if (++k > max)
            return NO;
    }
    if (s->pos + k == s->n && !s->final)
        return NEED;
    if (k < min)
        return NO;
    s->pos += k;
    return YES;
}

static bool word_before(const struct scan *s)
{
    return is_alnum(s->prev) || s->prev == '_';
}

/* AWS access key ids: AKIA or ASIA and 16 of [A-Z0-9], not followed by an alphanumeric. */
static int m_aws_id(struct scan *s, struct match *m)
{
    if (s->n < 1 || s->p[0] != 'A')
        return NO;
    if (s->n >= 2 && s->p[1] != 'K' && s->p[1] != 'S')
        return NO;
    TRY(lit(s, s->n >= 2 && s->p[1] == 'S' ? "ASIA" : "AKIA", false));
    TRY(run_min(s, C_UPALNUM, 16));
    if (s->pos == s->n && !s->final)
        return NEED;
    if (s->pos < s->n && is_alnum(s->p[s->pos]))
        return NO;
    m->len = s->pos;
    return YES;
}

/* Spaces, '=' or ':', spaces, and an optional quote, after a key (and its closing quote). */
static int assignment(struct scan *s)
{
    TRY(opt_char(s, "\"'"));
    TRY(blanks(s, 8));
    TRY(one_of(s, "=:"));
    TRY(blanks(s, 8));
    return opt_char(s, "\"'`");
}

/* aws_secret_access_key = <40 or more of [A-Za-z0-9+/=]> (the key is kept). */
static int m_aws_secret(struct scan *s, struct match *m)
{
    if (is_alnum(s->prev))
        return NO;
    TRY(lit(s, "aws_secret_access_key", true));
    TRY(assignment(s));
    m->keep = s->pos;
    TRY(run_min(s, C_B64, 40));
    m->len = s->pos;
    m->swallow = C_B64;
    return YES;
}

/* GitHub: gh[pousr]_ and 36 or more alphanumerics; github_pat_ and 22 or more of [A-Za-z0-9_]. */
static int m_github(struct scan *s, struct match *m)
{
    TRY(lit(s, "g", false));
    if (s->pos == s->n)
        return END(s);
    if (s->p[s->pos] == 'i') {
        TRY(lit(s, "ithub_pat_", false));
        TRY(run_min(s, C_WORD, 22));
        m->swallow = C_WORD;
    } else {
        TRY(lit(s, "h", false));
        TRY(one_of(s, "pousr"));
        TRY(one_of(s, "_"));
        TRY(run_min(s, C_ALNUM, 36));
        m->swallow = C_ALNUM;
    }
    m->len = s->pos;
    return YES;
}

/* Slack: xox[abprs]- and 10 or more of [A-Za-z0-9-]. */
static int m_slack(struct scan *s, struct match *m)
{
    TRY(lit(s, "xox", false));
    TRY(one_of(s, "abprs"));
    TRY(one_of(s, "-"));
    TRY(run_min(s, C_SLACK, 10));
    m->len = s->pos;
    m->swallow = C_SLACK;
    return YES;
}

/* Authorization: <scheme> <credentials> (any scheme; the header and scheme are kept). */
static int m_authorization(struct scan *s, struct match *m)
{
    if (is_alnum(s->prev))
        return NO;
    TRY(lit(s, "authorization", true));
    TRY(assignment(s));
    TRY(run_range(s, C_ALPHA, 1, 20));
    TRY(one_of(s, " \t"));
    TRY(blanks(s, 7));
    m->keep = s->pos;
    TRY(run_min(s, C_TOKEN68, 1));
    m->len = s->pos;
    m->swallow = C_TOKEN68;
    return YES;
}

/* Bearer <token of 16 or more token68 characters> ("Bearer " is kept). */
static int m_bearer(struct scan *s, struct match *m)
{
    if (word_before(s))
        return NO;
    TRY(lit(s, "bearer", true));
    TRY(one_of(s, " \t"));
    TRY(blanks(s, 7));
    m->keep = s->pos;
    TRY(run_min(s, C_TOKEN68, 16));
    m->len = s->pos;
    m->swallow = C_TOKEN68;
    return YES;
}

/* -----BEGIN [...] PRIVATE KEY----- : the whole block, up to its END line. */
static int m_pem(struct scan *s, struct match *m)
{
    TRY(lit(s, "-----BEGIN ", false));
    size_t label = s->pos;
    TRY(run_range(s, C_PEMHDR, 1, 48));
    size_t label_end = s->pos;
    TRY(lit(s, "-----", false));
    static const char tail[] = "PRIVATE KEY";
    size_t tl = sizeof(tail) - 1;
    if (label_end - label < tl || memcmp(s->p + label_end - tl, tail, tl) != 0)
        return NO;
    m->len = s->pos;
    m->swallow = SW_PEM;
    return YES;
}

static int m_pem_end(struct scan *s, struct match *m)
{
    TRY(lit(s, "-----END ", false));
    TRY(run_range(s, C_PEMHDR, 1, 48));
    TRY(lit(s, "-----", false));
    m->len = s->pos;
    return YES;
}

/* Google API keys: AIza and 35 or more of [A-Za-z0-9_-]. */
static int m_google(struct scan *s, struct match *m)
{
    TRY(lit(s, "AIza", false));
    TRY(run_min(s, C_B64URL, 35));
    m->len = s->pos;
    m->swallow = C_B64URL;
    return YES;
}

/* OpenAI-style keys (also Anthropic's sk-ant-...): sk- and 20 or more of [A-Za-z0-9_-]. */
static int m_sk(struct scan *s, struct match *m)
{
    if (word_before(s) || s->prev == '-')
        return NO;
    TRY(lit(s, "sk-", false));
    TRY(run_min(s, C_B64URL, 20));
    m->len = s->pos;
    m->swallow = C_B64URL;
    return YES;
}

/* JWTs: eyJ<5 to 1024 of b64url>.eyJ<5 or more>, then the rest of [A-Za-z0-9_.-]. */
static int m_jwt(struct scan *s, struct match *m)
{
    TRY(lit(s, "eyJ", false));
    TRY(run_range(s, C_B64URL, 5, 1024));
    TRY(one_of(s, "."));
    TRY(lit(s, "eyJ", false));
    TRY(run_min(s, C_B64URL, 5));
    m->len = s->pos;
    m->swallow = C_JWT;
    return YES;
}

/* An HTTP authentication scheme and the blanks after it, when the value
 * starts with one (kept as they are); nothing otherwise. */
static int auth_scheme(struct scan *s)
{
    static const char *const schemes[] = {"bearer", "basic", "token", "bot", "digest"};
    for (size_t k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
        struct scan t = *s;
        int r = lit(&t, schemes[k], true);
        if (r == NEED)
            return NEED;
        if (r != YES)
            continue;
        if (t.pos == t.n)
            return END(&t) == NEED ? NEED : YES; /* the scheme alone, at the end */
        if (t.p[t.pos] != ' ' && t.p[t.pos] != '\t')
            continue; /* a longer word ("tokens"): the value itself */
        int b = blanks(&t, 8);
        if (b == NEED)
            return NEED;
        *s = t;
        return YES;
    }
    return YES;
}

/* password / passwd / secret / token / api_key / apikey / api-key, then '=' or
 * ':' and a value: the value. */
static int m_password(struct scan *s, struct match *m)
{
    static const char *const keys[] = {"password", "passwd", "secret", "token",
                                       "api_key",  "apikey", "api-key"};
    if (is_alnum(s->prev))
        return NO;
    int best = NO;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        struct scan t = *s;
        int r = lit(&t, keys[k], true);
        if (r == YES) {
            *s = t;
            best = YES;
            break;
        }
        if (r == NEED)
            best = NEED;
    }
    if (best != YES)
        return best;
    TRY(assignment(s));
    /* "token: Bearer abc...": the value is the credential after the scheme. */
    TRY(auth_scheme(s));
    m->keep = s->pos;
    TRY(run_min(s, C_VALUE, 1));
    m->len = s->pos;
    m->swallow = C_VALUE;
    return YES;
}

/* scheme://user:password@ : the password. */
static int m_url(struct scan *s, struct match *m)
{
    TRY(lit(s, "://", false));
    TRY(run_range(s, C_USER, 1, 128));
    TRY(one_of(s, ":"));
    m->keep = s->pos;
    TRY(run_range(s, C_URLPW, 1, 256));
    TRY(one_of(s, "@"));
    m->len = s->pos - 1;
    return YES;
}

typedef int (*matcher_fn)(struct scan *s, struct match *m);

static const matcher_fn matchers[] = {
    m_pem,    m_aws_id, m_aws_secret, m_github, m_slack, m_authorization,
    m_bearer, m_google, m_sk,         m_jwt,    m_url,   m_password,
};

/* The first bytes any matcher of the list above can start with. */
static const char pattern_starts[] = "-AaGgXxBbSsEeTtPp:";

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

/* The credential shape at p, `prev` being the byte before it. */
static int shape_at(const uint8_t *p, size_t n, bool final, uint8_t prev, struct match *m)
{
    for (size_t k = 0; k < sizeof(matchers) / sizeof(matchers[0]); k++) {
        struct scan s = {.p = p, .n = n, .final = final, .prev = prev};
        *m = (struct match){0};
        int r = matchers[k](&s, m);
        if (r != NO)
            return r;
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

/* Whether c is neutralised; `terminal`: SBX_ESCAPES_NEUTRALISE_TERMINAL, which
 * also keeps backspace and a lone carriage return (a pty's line editing). */
static bool needs_escape(uint8_t c, bool terminal)
{
    if (terminal && (c == '\r' || c == '\b'))
        return false;
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
                struct scan s = {.p = w + i, .n = n - i, .final = final, .prev = f->prev};
                struct match m = {0};
                int r = m_pem_end(&s, &m);
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
            if (in_class(f->swallow, w[i])) {
                add_range(f, 0, i, i + 1, true);
                f->prev = w[i++];
                continue;
            }
            f->swallow = 0;
        }
        if (f->cfg->shape_start[w[i]]) {
            struct match m;
            int r = shape_at(w + i, n - i, final, f->prev, &m);
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
    bool esc = f->escapes != SBX_ESCAPES_KEEP;
    bool term = f->escapes == SBX_ESCAPES_NEUTRALISE_TERMINAL;
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
        if (esc && needs_escape(c, term)) {
            /* A sequence is judged on the bytes before the next redaction. */
            bool cut = stop < n || final;
            size_t got = escape_at(f, w + k, (r ? r->start : n) - k, cut);
            if (got == 0)
                break;
            k += got;
            continue;
        }
        size_t j = k + 1;
        while (j < stop && !(esc && needs_escape(w[j], term)))
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

/* ---- compiled settings ------------------------------------------------------------------ */

bool sbx__outcfg_active(const struct sbx__outcfg *cfg)
{
    return cfg->patterns || cfg->n_values || cfg->escapes != SBX_ESCAPES_KEEP;
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
    for (const char *c = pattern_starts; *c; c++)
        cfg->shape_start[(uint8_t)*c] = 1;
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

void sbx_output_filter_free(sbx_output_filter *filter)
{
    if (!filter)
        return;
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
    if (s->child->audit) /* each violation the monitor answers is an event */
        s->child->violation_hook = sbx__audit_violation;
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
