/* Unit tests of the output filter (lib/outfilter.c) through its public API
 * (sbx_output_filter_*): every credential shape, registered values, terminal
 * escapes, each of them cut at every possible point, bounded holding back,
 * and the argument checks of the output and audit setters. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

struct sink {
    char *buf;
    size_t len, cap;
    unsigned calls;
};

static void sink_fn(int stream, const char *data, size_t len, void *ud)
{
    struct sink *s = ud;
    assert_int_equal(stream, 1);
    assert_true(len > 0);
    if (s->len + len + 1 > s->cap) {
        s->cap = (s->len + len + 1) * 2;
        s->buf = realloc(s->buf, s->cap);
        assert_non_null(s->buf);
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->buf[s->len] = '\0';
    s->calls++;
}

static sbx_policy *policy_new(void)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    return p;
}

/* Filter `in` written in pieces cut at the given points (sorted, 0 < cut < len). */
static char *filter_cuts(const sbx_policy *p, const char *in, size_t len, const size_t *cuts,
                         size_t n_cuts, uint64_t *redactions, uint64_t *escapes)
{
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    size_t at = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        assert_sbx_ok(sbx_output_filter_write(f, in + at, end - at));
        at = end;
    }
    assert_sbx_ok(sbx_output_filter_finish(f));
    if (redactions)
        *redactions = sbx_output_filter_redactions(f);
    if (escapes)
        *escapes = sbx_output_filter_escapes(f);
    sbx_output_filter_free(f);
    if (!s.buf)
        s.buf = strdup("");
    return s.buf;
}

/* `in` must filter to `want` with `n_red` redactions and `n_esc` escapes:
 * in one piece, cut at every single point, and one byte at a time. */
static void check_filter(const sbx_policy *p, const char *in, const char *want, uint64_t n_red,
                         uint64_t n_esc)
{
    size_t len = strlen(in);
    uint64_t red, esc;
    char *out = filter_cuts(p, in, len, NULL, 0, &red, &esc);
    if (strcmp(out, want) != 0)
        fail_msg("filtering '%s'\n  gave '%s'\n  want '%s'", in, out, want);
    assert_int_equal(red, n_red);
    assert_int_equal(esc, n_esc);
    free(out);
    for (size_t cut = 1; cut < len; cut++) {
        out = filter_cuts(p, in, len, &cut, 1, &red, &esc);
        if (strcmp(out, want) != 0)
            fail_msg("filtering '%s' cut at %zu\n  gave '%s'\n  want '%s'", in, cut, out, want);
        assert_int_equal(red, n_red);
        assert_int_equal(esc, n_esc);
        free(out);
    }
    size_t *all = calloc(len ? len : 1, sizeof(*all));
    assert_non_null(all);
    for (size_t i = 1; i < len; i++)
        all[i - 1] = i;
    out = filter_cuts(p, in, len, all, len ? len - 1 : 0, &red, &esc);
    if (strcmp(out, want) != 0)
        fail_msg("filtering '%s' byte by byte\n  gave '%s'\n  want '%s'", in, out, want);
    assert_int_equal(red, n_red);
    free(out);
    free(all);
}

/* ---- credential shapes ------------------------------------------------------ */

static const struct shape {
    const char *in, *want;
    unsigned redactions;
} shapes[] = {
    /* AWS access key ids: AKIA/ASIA + 16 [A-Z0-9], a whole word */
    {"key AKIAIOSFODNN7EXAMPLE end", "key [REDACTED] end", 1},
    {"ASIAY34FZKBOKMUTVV7A", "[REDACTED]", 1},
    {"AKIAIOSFODNN7EXAMPLEX stays", "AKIAIOSFODNN7EXAMPLEX stays", 0},
    {"\x1b[1mAKIAIOSFODNN7EXAMPLE", "\x1b[1m[REDACTED]", 1}, /* no boundary needed before */
    /* AWS secret access keys after their name */
    {"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
     "aws_secret_access_key = [REDACTED]\n", 1},
    {"AWS_SECRET_ACCESS_KEY: \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
     "AWS_SECRET_ACCESS_KEY: \"[REDACTED]\"", 1},
    {"aws_secret_access_key=short", "aws_secret_access_key=short", 0},
    {"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE", /* 39: one short */
     "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE", 0},
    /* GitHub */
    {"use ghp_0123456789abcdefghijABCDEFGHIJ012345 now", "use [REDACTED] now", 1},
    {"gho_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED]", 1},
    {"ghu_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED]", 1},
    {"ghs_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED]", 1},
    {"ghr_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED]", 1},
    {"ghp_tooshort", "ghp_tooshort", 0},
    {"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP.",
     "[REDACTED].", 1},
    {"github_pat_11ABCDEFG0123456789_ab", "[REDACTED]", 1}, /* 22 */
    {"github_pat_11ABCDEFG0123456789_a", "github_pat_11ABCDEFG0123456789_a", 0},
    {"ghp_0123456789abcdefghijABCDEFGHIJ01234", "ghp_0123456789abcdefghijABCDEFGHIJ01234", 0},
    /* Slack */
    {"xoxb-1234567890-abcdefghij", "[REDACTED]", 1},
    {"t=xoxp-1234567890-ABCDEFGHIJ-x;", "t=[REDACTED];", 1},
    {"xoxa-2-abcdefghij xoxr-abcdefghij12", "[REDACTED] [REDACTED]", 2},
    {"xoxs-abcdefghij1 ok", "[REDACTED] ok", 1},
    {"xoxs-abcdefghi", "xoxs-abcdefghi", 0},
    /* Authorization headers and bearer tokens */
    {"Authorization: Bearer abc.def-ghi\n", "Authorization: Bearer [REDACTED]\n", 1},
    {"authorization: Basic dXNlcjpwYXNzd29yZA==", "authorization: Basic [REDACTED]", 1},
    {"curl -H 'Authorization: token ghp_0123456789abcdefghijABCDEFGHIJ012345'",
     "curl -H 'Authorization: token [REDACTED]'", 1},
    {"bearer eyJhbGciOiJIUzI1NiJ9abc", "bearer [REDACTED]", 1},
    {"Bearer\tabcdefghijklmnopqrstuvwxyz", "Bearer\t[REDACTED]", 1},
    {"Bearer short", "Bearer short", 0},
    {"Bearer abcdefghijklmno", "Bearer abcdefghijklmno", 0}, /* 15: one short */
    {"Bearer abcdefghijklmnop", "Bearer [REDACTED]", 1},
    {"authorization=Bearer abcdef", "authorization=Bearer [REDACTED]", 1},
    {"{\"Authorization\": \"Basic dXNlcjpwYXNz\"}", "{\"Authorization\": \"Basic [REDACTED]\"}", 1},
    {"'authorization'='token abc'", "'authorization'='token [REDACTED]'", 1},
    {"XAuthorization: Basic abc", "XAuthorization: Basic abc", 0},
    /* PEM private keys, the whole block */
    {"a\n-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\nabc=\n"
     "-----END RSA PRIVATE KEY-----\nb",
     "a\n[REDACTED]\nb", 1},
    {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE "
     "KEY-----",
     "[REDACTED]", 1},
    {"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
     "[REDACTED]\n", 1},
    {"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIO\n-----END EC PRIVATE KEY-----", "[REDACTED]", 1},
    {"x -----BEGIN DSA PRIVATE KEY-----\nMIIBuwIBAAKBgQ\n-----END DSA PRIVATE KEY-----\n",
     "x [REDACTED]\n", 1},
    {"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkq\n-----END ENCRYPTED PRIVATE KEY-----",
     "[REDACTED]", 1},
    {"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
     "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", 0},
    /* Google API keys */
    {"k=AIzaSyA-1234567890abcdefghijklmnopqrstu", "k=[REDACTED]", 1},
    {"AIzaSyA-1234567890abcdefghijklmnopqrst", "AIzaSyA-1234567890abcdefghijklmnopqrst", 0},
    /* OpenAI-style keys */
    {"sk-proj-abcdefghijklmnopqrstuvwxyz012345 ok", "[REDACTED] ok", 1},
    {"sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "[REDACTED]", 1},
    {"task-abcdefghijklmnopqrstuvwxyz", "task-abcdefghijklmnopqrstuvwxyz", 0},
    {"sk-abcdefghijklmnopqrst", "[REDACTED]", 1}, /* 20 */
    {"sk-abcdefghijklmnopqrs", "sk-abcdefghijklmnopqrs", 0},
    /* JWTs */
    {"jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
     "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
     "jwt [REDACTED] end", 1},
    {"eyJabcde.eyJabcde", "[REDACTED]", 1},
    {"eyJabcd.eyJabcde eyJabcde.eyJabcd", "eyJabcd.eyJabcde eyJabcde.eyJabcd", 0},
    /* password-like key=value pairs */
    {"password=hunter2&user=bob", "password=[REDACTED]&user=bob", 1},
    {"{\"password\": \"hunter2\"}", "{\"password\": \"[REDACTED]\"}", 1},
    {"DB_PASSWORD=s3cr3t\n", "DB_PASSWORD=[REDACTED]\n", 1},
    {"api_key: abcd1234", "api_key: [REDACTED]", 1},
    {"client_secret='xyz'", "client_secret='[REDACTED]'", 1},
    {"refresh_token=abc.def", "refresh_token=[REDACTED]", 1},
    {"passwd=hunter2", "passwd=[REDACTED]", 1},
    {"APIKEY: abc123", "APIKEY: [REDACTED]", 1},
    {"x-api-key: abcdef,", "x-api-key: [REDACTED],", 1},
    {"passwords are long; the token is here", "passwords are long; the token is here", 0},
    /* a scheme after the key: the credential is after it (it used to leak) */
    {"token: Bearer abcdefghijklmnopqrstuvwxyz0123", "token: Bearer [REDACTED]", 1},
    {"auth_token = Basic dXNlcjpwYXNzd29yZA==\n", "auth_token = Basic [REDACTED]\n", 1},
    {"secret: token  xyz", "secret: token  [REDACTED]", 1},
    {"password: tokens", "password: [REDACTED]", 1},
    {"token: bot 123456:ABCdef", "token: bot [REDACTED]", 1},
    {"secret = Digest abc", "secret = Digest [REDACTED]", 1},
    /* passwords in URLs */
    {"postgres://admin:s3cret@db:5432/x", "postgres://admin:[REDACTED]@db:5432/x", 1},
    {"http://host:8080/path", "http://host:8080/path", 0},
    /* nothing */
    {"", "", 0},
    {"plain text, nothing to see\n", "plain text, nothing to see\n", 0},
};

static void test_outfilter__credential_shapes(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        check_filter(p, shapes[i].in, shapes[i].want, shapes[i].redactions, 0);
    sbx_policy_free(p);
}

/* Registering values never takes shapes away (it used to turn off every shape
 * that keeps a prefix: Authorization, Bearer, key=value, URL passwords). */
static void test_outfilter__shapes_hold_with_values_registered(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_redact_value(p, "unrelated-secret-1"));
    assert_sbx_ok(sbx_redact_value(p, "zzzz"));
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        check_filter(p, shapes[i].in, shapes[i].want, shapes[i].redactions, 0);
    /* A value inside a kept prefix is redacted, and so is the shape's secret. */
    assert_sbx_ok(sbx_redact_value(p, "admin"));
    check_filter(p, "postgres://admin:s3cret@db", "postgres://[REDACTED]:[REDACTED]@db", 2, 0);
    /* A value that starts a shape's token does not hide the rest of it. */
    assert_sbx_ok(sbx_redact_value(p, "sk-pro"));
    check_filter(p, "k sk-proj-abcdefghijklmnopqrstuvwxyz012345 ok", "k [REDACTED] ok", 1, 0);
    /* A value that covers a shape's start does not hide the shape's token either. */
    assert_sbx_ok(sbx_redact_value(p, "abcghp_01"));
    check_filter(p, "abcghp_0123456789abcdefghijABCDEFGHIJ012345 .", "[REDACTED] .", 1, 0);
    /* Overlapping occurrences make one redaction, wherever the stream is cut
     * (found by fuzz_output: a value cut after its second overlapping start). */
    sbx_policy *g = policy_new();
    assert_sbx_ok(sbx_redact_value(g, "gggg"));
    check_filter(g, "bcrhigggggbcrhigggggggggggggor8gggggg",
                 "bcrhi[REDACTED]bcrhi[REDACTED]or8[REDACTED]", 3, 0);
    sbx_policy_free(g);
    /* A value that starts in a swallowed token and goes on past it: all of it. */
    assert_sbx_ok(sbx_redact_value(p, "tail secret"));
    check_filter(p, "Bearer abcdefghijklmnopqrstail secret!", "Bearer [REDACTED]!", 1, 0);
    sbx_policy_free(p);
}

static void test_outfilter__patterns_can_be_turned_off(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_redact_patterns(p, 0));
    assert_sbx_ok(sbx_redact_value(p, "hunter2-value"));
    check_filter(p, "AKIAIOSFODNN7EXAMPLE password=x hunter2-value",
                 "AKIAIOSFODNN7EXAMPLE password=x [REDACTED]", 1, 0);
    assert_sbx_ok(sbx_set_redact_patterns(p, 1));
    check_filter(p, "AKIAIOSFODNN7EXAMPLE hunter2-value", "[REDACTED] [REDACTED]", 2, 0);
    sbx_policy_free(p);
}

/* ---- registered values ---------------------------------------------------------- */

static void test_outfilter__registered_values(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_redact_patterns(p, 0));
    assert_sbx_ok(sbx_redact_value(p, "abcd"));
    assert_sbx_ok(sbx_redact_value(p, "abcdef")); /* the longest wins */
    assert_sbx_ok(sbx_redact_value(p, "abcd"));   /* twice is not an error */
    assert_sbx_ok(sbx_redact_value(p, "s3cr\x1b[0m"));
    check_filter(p, "xabcdefx abcdx abcabcd", "x[REDACTED]x [REDACTED]x abc[REDACTED]", 3, 0);
    check_filter(p, "abcabcabc", "abcabcabc", 0, 0);
    /* in the part of a credential shape that is kept, a value is redacted too, and
     * the shape's secret still is (a value used to hide the shape: "tok" leaked) */
    assert_sbx_ok(sbx_set_redact_patterns(p, 1));
    check_filter(p, "Authorization: abcdef tok", "Authorization: [REDACTED] [REDACTED]", 2, 0);
    check_filter(p, "https://abcd:pw@host", "https://[REDACTED]:[REDACTED]@host", 2, 0);
    check_filter(p, "Authorization: Basic abcdef", "Authorization: Basic [REDACTED]", 1, 0);
    assert_sbx_ok(sbx_set_redact_patterns(p, 0));
    check_filter(p, "abcdabcdef", "[REDACTED][REDACTED]", 2, 0);
    /* matched before escapes are neutralised */
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
    check_filter(p, "<s3cr\x1b[0m>\x1b", "<[REDACTED]>\\x1b", 1, 1);
    sbx_policy_free(p);
}

static void test_outfilter__value_registered_after_filter_does_not_apply(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    assert_sbx_ok(sbx_redact_value(p, "later-value"));
    sbx_policy_free(p); /* the filter does not refer to the policy */
    assert_sbx_ok(sbx_output_filter_write(f, "later-value", 11));
    assert_sbx_ok(sbx_output_filter_finish(f));
    assert_sbx_ok(sbx_output_filter_finish(f)); /* again: no-op */
    assert_string_equal(s.buf, "later-value");
    assert_sbx_error(sbx_output_filter_write(f, "x", 1), -EPIPE, "finished");
    sbx_output_filter_free(f);
    free(s.buf);
}

/* ---- terminal escapes -------------------------------------------------------------- */

static void test_outfilter__escapes_neutralised(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
    /* CSI */
    check_filter(p, "a\x1b[31mred\x1b[0m", "a\\x1b[31mred\\x1b[0m", 0, 2);
    /* OSC ended by BEL, and by ST (ESC \) */
    check_filter(p, "\x1b]0;title\x07", "\\x1b]0;title\\x07", 0, 2);
    check_filter(p, "\x1b]8;;http://x\x1b\\link", "\\x1b]8;;http://x\\x1b\\link", 0, 2);
    /* C1 controls: as UTF-8 (U+009B), and as raw 8-bit bytes */
    check_filter(p,
                 "x\xc2\x9b"
                 "31m",
                 "x\\u009b31m", 0, 1);
    check_filter(p,
                 "x\x9b"
                 "31m\xff",
                 "x\\x9b31m\\xff", 0, 2);
    /* valid UTF-8 is kept; truncated or overlong sequences are not */
    check_filter(p, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, 0);
    check_filter(p, "\xc0\xaf \xe2\x82", "\\xc0\\xaf \\xe2\\x82", 0, 4);
    /* newline, tab and CRLF are kept; a lone CR, DEL and NUL are not */
    check_filter(p, "a\tb\r\nc\rd\x7f\x01", "a\tb\r\nc\\x0dd\\x7f\\x01", 0, 3);
    check_filter(p, "end\r", "end\\x0d", 0, 1);
    sbx_policy_free(p);
}

/* For a pty's master: backspace and a lone CR are kept, every other control is not. */
static void test_outfilter__escapes_neutralised_terminal(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE_TERMINAL));
    check_filter(p, "helx\b \blo\r\n50%\r100%\r", "helx\b \blo\r\n50%\r100%\r", 0, 0);
    check_filter(p, "a\tb\x1b[2J\x1b]0;x\x07\x7f\x01\xc2\x9b\xff",
                 "a\tb\\x1b[2J\\x1b]0;x\\x07\\x7f\\x01\\u009b\\xff", 0, 7);
    /* the control: the plain mode neutralises them */
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
    check_filter(p, "x\by\rz", "x\\x08y\\x0dz", 0, 2);
    sbx_policy_free(p);
}

static void test_outfilter__escapes_kept_by_default(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    check_filter(p, "a\x1b[31mred\x1b[0m\xc2\x9b\x9b\r", "a\x1b[31mred\x1b[0m\xc2\x9b\x9b\r", 0, 0);
    sbx_policy_free(p);
}

static void test_outfilter__lone_esc_at_chunk_end(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    assert_sbx_ok(sbx_output_filter_write(f, "abc\x1b", 4));
    assert_string_equal(s.buf, "abc\\x1b"); /* an ESC is decided at once */
    assert_sbx_ok(sbx_output_filter_write(f, "x\xc3", 2));
    assert_string_equal(s.buf, "abc\\x1bx"); /* the start of a UTF-8 sequence is held */
    assert_sbx_ok(sbx_output_filter_write(f, "\xa9", 1));
    assert_string_equal(s.buf, "abc\\x1bx\xc3\xa9");
    assert_sbx_ok(sbx_output_filter_write(f, "\xe2", 1));
    assert_sbx_ok(sbx_output_filter_finish(f)); /* cut short by the end */
    assert_string_equal(s.buf, "abc\\x1bx\xc3\xa9\\xe2");
    assert_int_equal(sbx_output_filter_escapes(f), 2);
    sbx_output_filter_free(f);
    free(s.buf);
    sbx_policy_free(p);
}

/* ---- bounds ------------------------------------------------------------------------ */

static void test_outfilter__holds_back_a_bounded_tail(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    char value[SBX_REDACT_VALUE_MAX + 1];
    for (size_t i = 0; i < SBX_REDACT_VALUE_MAX; i++)
        value[i] = (char)('a' + i % 26);
    value[SBX_REDACT_VALUE_MAX] = '\0';
    assert_sbx_ok(sbx_redact_value(p, value));
    /* near misses of the value and of a JWT, over and over: each one is held
     * until it fails, and never more than the longest value plus 2 KiB */
    size_t piece = SBX_REDACT_VALUE_MAX + 1000 + 8;
    char *chunk = malloc(piece);
    assert_non_null(chunk);
    memcpy(chunk, value, SBX_REDACT_VALUE_MAX - 1);
    chunk[SBX_REDACT_VALUE_MAX - 1] = '!';
    memcpy(chunk + SBX_REDACT_VALUE_MAX, "eyJ", 3);
    memset(chunk + SBX_REDACT_VALUE_MAX + 3, 'Q', 1000);
    memcpy(chunk + SBX_REDACT_VALUE_MAX + 1003, " end\n", 5);
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    size_t in = 0;
    for (int i = 0; i < 2000; i++) { /* about 10 MB */
        size_t step = 1 + (size_t)(i * 7919) % piece;
        for (size_t off = 0; off < piece; off += step) {
            size_t n = off + step > piece ? piece - off : step;
            assert_sbx_ok(sbx_output_filter_write(f, chunk + off, n));
            in += n;
            if (in - s.len > SBX_REDACT_VALUE_MAX + 2048)
                fail_msg("%zu bytes held back after %zu in", in - s.len, in);
        }
        s.len = 0; /* keep the sink small: only the count matters */
        in = 0;
    }
    assert_sbx_ok(sbx_output_filter_finish(f));
    assert_int_equal(sbx_output_filter_redactions(f), 0);
    sbx_output_filter_free(f);
    free(s.buf);
    free(chunk);
    sbx_policy_free(p);
}

static void test_outfilter__pem_block_is_bounded(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    const char *head = "-----BEGIN RSA PRIVATE KEY-----\n";
    size_t body = 200 * 1024, hl = strlen(head);
    char *in = malloc(hl + body + 1);
    assert_non_null(in);
    memcpy(in, head, hl);
    for (size_t i = 0; i < body; i++)
        in[hl + i] = i % 65 == 64 ? '\n' : "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[i % 36];
    in[hl + body] = '\0';
    size_t cut = hl + 5000;
    uint64_t red;
    char *out = filter_cuts(p, in, hl + body, &cut, 1, &red, NULL);
    /* 64 KiB after the BEGIN line (from its newline on) are swallowed; what
     * follows, with no END line, shows */
    assert_int_equal(red, 1);
    assert_true(strncmp(out, "[REDACTED]", 10) == 0);
    assert_string_equal(out + 10, in + hl - 1 + 64 * 1024);
    free(out);
    free(in);
    sbx_policy_free(p);
}

/* Pseudo-random text with secrets, escapes and near misses, cut at random
 * points, gives what it gives in one piece, without any secret. */
static void test_outfilter__random_cuts_match_one_piece(void **state)
{
    (void)state;
    static const char *const parts[] = {
        "plain ",
        "\n",
        "AKIAIOSFODNN7EXAMPLE",
        "AKIA",
        "hunter2-value",
        "hunter2",
        "\x1b[1m",
        "\xc2\x9b",
        "\xe2\x82\xac",
        "\xe2",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "Bearer ",
        "abcdefghijklmnopqrstuvwxyz",
        "password=",
        "eyJabcde.eyJabcde.sig",
        "-----BEGIN ",
        "EC PRIVATE KEY-----",
        "-----END EC PRIVATE KEY-----",
        "://u:",
        "@",
        "\r",
        "sk-",
    };
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_redact_value(p, "hunter2-value"));
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        char in[4096];
        size_t len = 0;
        while (len < 3000) {
            seed = seed * 1103515245u + 12345u;
            const char *part = parts[(seed >> 16) % (sizeof(parts) / sizeof(parts[0]))];
            memcpy(in + len, part, strlen(part));
            len += strlen(part);
        }
        in[len] = '\0';
        uint64_t red1, red2, esc1, esc2;
        char *one = filter_cuts(p, in, len, NULL, 0, &red1, &esc1);
        size_t cuts[64], n = 0, at = 0;
        while (n < 64) {
            seed = seed * 1103515245u + 12345u;
            at += 1 + (seed >> 16) % 97;
            if (at >= len)
                break;
            cuts[n++] = at;
        }
        char *many = filter_cuts(p, in, len, cuts, n, &red2, &esc2);
        assert_string_equal(one, many);
        assert_int_equal(red1, red2);
        assert_int_equal(esc1, esc2);
        assert_null(strstr(one, "hunter2-value"));
        assert_null(strstr(one, "\x1b"));
        free(one);
        free(many);
    }
    sbx_policy_free(p);
}

/* ---- argument checks ----------------------------------------------------------------- */

static void test_outfilter__rejects_bad_arguments(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_error(sbx_redact_value(NULL, "abcd"), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_redact_value(p, NULL), -EINVAL, "value is NULL");
    assert_sbx_error(sbx_redact_value(p, "abc"), -EINVAL, "3 bytes long, expected 4 to 4096");
    assert_null(strstr(sbx_last_error(), "abc "));
    char *big = malloc(SBX_REDACT_VALUE_MAX + 2);
    assert_non_null(big);
    memset(big, 'x', SBX_REDACT_VALUE_MAX + 1);
    big[SBX_REDACT_VALUE_MAX + 1] = '\0';
    assert_sbx_error(sbx_redact_value(p, big), -EINVAL, "more than 4096 bytes long");
    big[SBX_REDACT_VALUE_MAX] = '\0';
    assert_sbx_ok(sbx_redact_value(p, big));
    free(big);
    for (int i = 1; i < 256; i++) {
        char v[16];
        snprintf(v, sizeof(v), "value-%03d", i);
        assert_sbx_ok(sbx_redact_value(p, v));
    }
    assert_sbx_error(sbx_redact_value(p, "one-too-many"), -ENOSPC, "256 values");
    assert_sbx_error(sbx_set_redact_patterns(p, 2), -EINVAL, "on must be 0 or 1, got 2");
    assert_sbx_error(sbx_set_redact_patterns(NULL, 1), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_set_output_escapes(p, 3), -EINVAL, "unknown mode 3");
    assert_sbx_error(sbx_set_output_escapes(p, -1), -EINVAL, "unknown mode -1");
    assert_sbx_error(sbx_set_output_escapes(NULL, 0), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_set_output_callback(NULL, sink_fn, NULL), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_output_filter_new(p, 3, sink_fn, &s, &f), -EINVAL, "stream 3");
    assert_sbx_error(sbx_output_filter_new(p, 1, NULL, &s, &f), -EINVAL, "fn is NULL");
    assert_sbx_error(sbx_output_filter_new(NULL, 1, sink_fn, &s, &f), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_output_filter_new(p, 1, sink_fn, &s, NULL), -EINVAL, "ret is NULL");
    assert_null(f);
    assert_sbx_error(sbx_output_filter_write(NULL, "x", 1), -EINVAL, "filter is NULL");
    assert_sbx_error(sbx_output_filter_finish(NULL), -EINVAL, "filter is NULL");
    assert_int_equal(sbx_output_filter_redactions(NULL), 0);
    assert_int_equal(sbx_output_filter_escapes(NULL), 0);
    sbx_output_filter_free(NULL);
    assert_int_equal(sbx_result_redactions(NULL), 0);
    assert_int_equal(sbx_result_escapes(NULL), 0);
    assert_int_equal(sbx_result_audit_dropped(NULL), 0);
    /* the audit log */
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    close(fd); /* now a closed number */
    assert_sbx_error(sbx_set_audit_fd(p, fd), -EBADF, "is not open");
    assert_sbx_error(sbx_set_audit_fd(p, -2), -EINVAL, "-2 is not a descriptor");
    assert_sbx_error(sbx_set_audit_fd(NULL, 1), -EINVAL, "policy is NULL");
    assert_sbx_ok(sbx_set_audit_fd(p, -1));
    assert_sbx_error(sbx_set_audit_callback(NULL, NULL, NULL), -EINVAL, "policy is NULL");
    assert_sbx_ok(sbx_set_audit_callback(p, NULL, NULL));
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_outfilter__credential_shapes),
    cmocka_unit_test(test_outfilter__shapes_hold_with_values_registered),
    cmocka_unit_test(test_outfilter__patterns_can_be_turned_off),
    cmocka_unit_test(test_outfilter__registered_values),
    cmocka_unit_test(test_outfilter__value_registered_after_filter_does_not_apply),
    cmocka_unit_test(test_outfilter__escapes_neutralised),
    cmocka_unit_test(test_outfilter__escapes_neutralised_terminal),
    cmocka_unit_test(test_outfilter__escapes_kept_by_default),
    cmocka_unit_test(test_outfilter__lone_esc_at_chunk_end),
    cmocka_unit_test(test_outfilter__holds_back_a_bounded_tail),
    cmocka_unit_test(test_outfilter__pem_block_is_bounded),
    cmocka_unit_test(test_outfilter__random_cuts_match_one_piece),
    cmocka_unit_test(test_outfilter__rejects_bad_arguments),
};

SBX_TEST_MAIN(tests)
