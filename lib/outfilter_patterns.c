/* The credential shapes of the output filter: a matcher per shape, over the
 * bytes from one position of the stream. At each position every matcher says
 * "yes, this many bytes", "no", or "I need more bytes to tell" (only possible
 * when the buffer ends before the matcher's bounded window does); the first
 * matcher, in a fixed order, that does not say "no" decides. A match may then
 * "swallow" what follows (the rest of a token, a PEM block): the streaming
 * engine (outfilter_engine.c) does that byte by byte. */
#include <stdlib.h>
#include <string.h>

#include "outfilter_patterns.h"

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

bool sbx__in_class(int cls, uint8_t c)
{
    return in_class(cls, c);
}

/* ---- matchers ------------------------------------------------------------------ */

/* A cursor over the bytes from the position being tested. */
struct scan {
    const uint8_t *p;
    size_t n, pos;
    bool final; /* no more bytes will come */
    uint8_t prev;
};

/* The end of the bytes was reached where more could change the answer. */
#define END(s) ((s)->final ? NO : NEED)

static int lit(struct scan *s, const char *text, bool ci)
{
    size_t k = 0;
    for (; text[k]; k++) {
        if (s->pos + k >= s->n)
            return END(s);
        uint8_t c = s->p[s->pos + k];
        if ((ci ? tolower_ascii(c) : c) != (uint8_t)text[k])
            return NO;
    }
    s->pos += k;
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
        if (s->n && tolower_ascii(s->p[0]) != (uint8_t)keys[k][0])
            continue; /* lit() would say NO at once */
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

/* The matchers (bit k: matchers[k]) that can match at a byte: every other
 * one says NO at once (its first byte is a literal, see each). */
#define BIT(fn) (1u << M_##fn)
enum {
    M_pem,
    M_aws_id,
    M_aws_secret,
    M_github,
    M_slack,
    M_authorization,
    M_bearer,
    M_google,
    M_sk,
    M_jwt,
    M_url,
    M_password
};
const uint16_t sbx__shape_first[256] = {
    ['-'] = BIT(pem),
    ['A'] = BIT(aws_id) | BIT(aws_secret) | BIT(authorization) | BIT(google) | BIT(password),
    ['a'] = BIT(aws_secret) | BIT(authorization) | BIT(password),
    ['g'] = BIT(github),
    ['x'] = BIT(slack),
    ['B'] = BIT(bearer),
    ['b'] = BIT(bearer),
    ['s'] = BIT(sk) | BIT(password),
    ['S'] = BIT(password),
    ['P'] = BIT(password),
    ['p'] = BIT(password),
    ['T'] = BIT(password),
    ['t'] = BIT(password),
    ['e'] = BIT(jwt),
    [':'] = BIT(url),
};

/* The same for the second byte (both cases where the matcher ignores case):
 * most words that start like a shape are told apart by it. */
const uint16_t sbx__shape_second[256] = {
    ['-'] = BIT(pem),
    ['K'] = BIT(aws_id),
    ['S'] = BIT(aws_id),
    ['w'] = BIT(aws_secret),
    ['W'] = BIT(aws_secret),
    ['h'] = BIT(github),
    ['i'] = BIT(github),
    ['o'] = BIT(slack) | BIT(password),
    ['O'] = BIT(password),
    ['u'] = BIT(authorization),
    ['U'] = BIT(authorization),
    ['e'] = BIT(bearer) | BIT(password),
    ['E'] = BIT(bearer) | BIT(password),
    ['I'] = BIT(google),
    ['k'] = BIT(sk),
    ['y'] = BIT(jwt),
    ['/'] = BIT(url),
    ['a'] = BIT(password),
    ['A'] = BIT(password),
    ['p'] = BIT(password),
    ['P'] = BIT(password),
};

/* The same for the third byte. */
static const uint16_t third_byte[256] = {
    ['-'] = BIT(pem) | BIT(sk),
    ['I'] = BIT(aws_id) | BIT(authorization) | BIT(password),
    ['s'] = BIT(aws_secret) | BIT(github) | BIT(password),
    ['S'] = BIT(aws_secret) | BIT(password),
    ['p'] = BIT(github),
    ['o'] = BIT(github),
    ['u'] = BIT(github),
    ['r'] = BIT(github),
    ['t'] = BIT(github) | BIT(authorization),
    ['T'] = BIT(authorization),
    ['x'] = BIT(slack),
    ['a'] = BIT(bearer),
    ['A'] = BIT(bearer),
    ['z'] = BIT(google),
    ['J'] = BIT(jwt),
    ['/'] = BIT(url),
    ['c'] = BIT(password),
    ['C'] = BIT(password),
    ['k'] = BIT(password),
    ['K'] = BIT(password),
    ['i'] = BIT(password),
};

/* The bytes a shape can start with after any byte, and those it can start
 * with only after a byte that is not a letter or digit (every matcher of
 * those checks a word boundary before it). */
const char sbx__pattern_starts[] = "-Agxe:";
const char sbx__pattern_word_starts[] = "aBbsSPpTt";

/* The credential shape at p, `prev` being the byte before it. */
int sbx__shape_at(const uint8_t *p, size_t n, bool final, uint8_t prev, struct match *m)
{
    unsigned bits = sbx__shape_first[p[0]];
    if (n >= 2)
        bits &= sbx__shape_second[p[1]]; /* the others say NO at their second byte */
    if (n >= 3)
        bits &= third_byte[p[2]]; /* or third */
    for (unsigned k = 0; bits; bits >>= 1, k++) {
        if (!(bits & 1))
            continue;
        struct scan s = {.p = p, .n = n, .final = final, .prev = prev};
        *m = (struct match){0};
        int r = matchers[k](&s, m);
        if (r != NO)
            return r;
    }
    return NO;
}

int sbx__pem_end_at(const uint8_t *p, size_t n, bool final, uint8_t prev, struct match *m)
{
    struct scan s = {.p = p, .n = n, .final = final, .prev = prev};
    return m_pem_end(&s, m);
}
