/* Unit tests of the output filter's Unicode classes (issue 20) through the
 * public API: each class counted and kept, stripped, escaped or replaced, a
 * code point or an invalid sequence cut at every point, the byte order mark at
 * the start, what tag characters spell (redacted, bounded), the classes next
 * to redaction and terminal escapes, and the argument checks. */
#include <errno.h>

#include <agentsbx/agentsbx.h>

#include "testutil.h"

struct sink {
    char *buf;
    size_t len, cap;
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
}

static sbx_policy *policy_new(void)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    return p;
}

/* Filter `in` in pieces of `step` bytes (0: one piece, or one cut at `cut`). */
static char *run(const sbx_policy *p, const char *in, size_t len, size_t cut, size_t step,
                 uint64_t counts[4], char **tags)
{
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    if (step) {
        for (size_t at = 0; at < len; at += step)
            assert_sbx_ok(sbx_output_filter_write(f, in + at, len - at < step ? len - at : step));
    } else {
        assert_sbx_ok(sbx_output_filter_write(f, in, cut));
        assert_sbx_ok(sbx_output_filter_write(f, in + cut, len - cut));
    }
    assert_sbx_ok(sbx_output_filter_finish(f));
    for (int c = 0; c < 4; c++)
        counts[c] = sbx_output_filter_unicode(f, c);
    if (tags) {
        const char *t = sbx_output_filter_unicode_tag_text(f);
        assert_non_null(t);
        *tags = strdup(t);
    }
    sbx_output_filter_free(f);
    if (!s.buf)
        s.buf = strdup("");
    return s.buf;
}

/* `in` filters to `want` with these counts (tags, bidi, invisible, invalid)
 * and tag text, in one piece, cut at every point and byte by byte. */
static void check(const sbx_policy *p, const char *in, const char *want, uint64_t tags,
                  uint64_t bidi, uint64_t invisible, uint64_t invalid, const char *tag_text)
{
    size_t len = strlen(in);
    const uint64_t want_counts[4] = {tags, bidi, invisible, invalid};
    for (size_t cut = 0; cut <= len + 1; cut++) {
        uint64_t counts[4];
        char *text = NULL;
        char *out = cut <= len ? run(p, in, len, cut, 0, counts, &text)
                               : run(p, in, len, 0, 1, counts, &text);
        if (strcmp(out, want) != 0)
            fail_msg("filtering '%s' (cut %zu)\n  gave '%s'\n  want '%s'", in, cut, out, want);
        for (int c = 0; c < 4; c++)
            if (counts[c] != want_counts[c])
                fail_msg("filtering '%s' (cut %zu): class %d counted %llu, want %llu", in, cut, c,
                         (unsigned long long)counts[c], (unsigned long long)want_counts[c]);
        if (strcmp(text, tag_text) != 0)
            fail_msg("filtering '%s' (cut %zu): tag text '%s', want '%s'", in, cut, text, tag_text);
        free(text);
        free(out);
    }
}

static void set_all(sbx_policy *p, int action)
{
    for (int c = 0; c < 4; c++)
        assert_sbx_ok(sbx_set_output_unicode(p, c, action));
}

/* "ig" in tag characters, U+E0069 U+E0067 */
#define TAG_I      "\xf3\xa0\x81\xa9"
#define TAG_G      "\xf3\xa0\x81\xa7"
#define CANCEL_TAG "\xf3\xa0\x81\xbf" /* U+E007F */
#define RLO        "\xe2\x80\xae"     /* U+202E */
#define LRI        "\xe2\x81\xa6"     /* U+2066 */
#define RLM        "\xe2\x80\x8f"     /* U+200F */
#define ALM        "\xd8\x9c"         /* U+061C */
#define ZWSP       "\xe2\x80\x8b"     /* U+200B */
#define WJ         "\xe2\x81\xa0"     /* U+2060 */
#define BOM        "\xef\xbb\xbf"     /* U+FEFF */
#define SHY        "\xc2\xad"         /* U+00AD */
#define MVS        "\xe1\xa0\x8e"     /* U+180E */

static const char mixed[] =
    "a" TAG_I TAG_G CANCEL_TAG "b" RLO "c" LRI RLM ALM "d" ZWSP WJ SHY MVS BOM "e\xff"
    "f\xe2\x82"
    "g";

static void test_outfilter_unicode__kept_and_counted_by_default(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    /* today's output, byte for byte; every member counted */
    check(p, mixed, mixed, 3, 4, 5, 2, "ig");
    /* plain text of other scripts, emoji with joiners of no class */
    check(p, "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x91\xa8",
          "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x91\xa8", 0, 0, 0, 0, "");
    sbx_policy_free(p);
}

static void test_outfilter_unicode__escaped(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    set_all(p, SBX_UNICODE_ESCAPE);
    check(p, mixed,
          "a\\u{E0069}\\u{E0067}\\u{E007F}b\\u{202E}c\\u{2066}\\u{200F}\\u{061C}d\\u{200B}"
          "\\u{2060}\\u{00AD}\\u{180E}\\u{FEFF}e\\xfff\\xe2\\x82g",
          3, 4, 5, 2, "ig");
    sbx_policy_free(p);
}

static void test_outfilter_unicode__stripped(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    set_all(p, SBX_UNICODE_STRIP);
    check(p, mixed, "abcdefg", 3, 4, 5, 2, "ig");
    /* one class only: the others are kept */
    sbx_policy_free(p);
    p = policy_new();
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_BIDI, SBX_UNICODE_STRIP));
    check(p, "x" RLO "y" ZWSP "z", "xy" ZWSP "z", 0, 1, 1, 0, "");
    sbx_policy_free(p);
}

/* Stripping never joins kept invalid bytes into a member of a class. */
static void test_outfilter_unicode__strip_joins_nothing(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_TAGS, SBX_UNICODE_STRIP));
    /* the start and the end of U+E0069 around a tag character, U+E0067 */
    check(p, "\xf3\xa0" TAG_G "\x81\xa9.", "\xf3\xa0\xef\xbf\xbd\xa9.", 1, 0, 0, 3, "g");
    /* the same with nothing stripped: the bytes as they came */
    check(p, "\xf3\xa0!\x81\xa9.", "\xf3\xa0!\x81\xa9.", 0, 0, 0, 3, "");
    sbx_policy_free(p);
}

static void test_outfilter_unicode__replaced(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_INVALID_UTF8, SBX_UNICODE_REPLACE));
    /* one U+FFFD per maximal invalid sequence: a lone lead byte, a truncated
     * three-byte sequence, an overlong form's bytes, a surrogate's */
#define FFFD "\xef\xbf\xbd"
    check(p,
          "a\xff"
          "b\xe2\x82"
          "c\xc0\xaf"
          "d\xed\xa0\x80"
          "e\xe2\x82",
          "a" FFFD "b" FFFD "c" FFFD FFFD "d" FFFD FFFD FFFD "e" FFFD, 0, 0, 0, 8, "");
    set_all(p, SBX_UNICODE_REPLACE);
    check(p, "x" TAG_I RLO ZWSP "y", "x" FFFD FFFD FFFD "y", 1, 1, 1, 0, "i");
    sbx_policy_free(p);
}

static void test_outfilter_unicode__bom_only_at_the_start(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    set_all(p, SBX_UNICODE_STRIP);
    check(p, BOM "a" BOM "b", BOM "ab", 0, 0, 1, 0, "");
    sbx_policy_free(p);
}

static void test_outfilter_unicode__tag_text(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    /* two runs: a newline between them; a registered value they spell is
     * redacted in the text */
    assert_sbx_ok(sbx_redact_value(p, "hunter22"));
    char in[512] = "x";
    const char *word = "hunter22 ok";
    for (const char *c = word; *c; c++) {
        char t[5] = {(char)0xf3, (char)0xa0, (char)(0x80 | ((0x00 + *c) >> 6)),
                     (char)(0x80 | (*c & 0x3f)), 0};
        strcat(in, t);
    }
    strcat(in, "y" TAG_I TAG_G);
    check(p, in, in, 13, 0, 0, 0, "[REDACTED] ok\nig");
    sbx_policy_free(p);
    /* bounded: the first SBX_UNICODE_TAG_TEXT_MAX bytes */
    p = policy_new();
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_TAGS, SBX_UNICODE_STRIP));
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    for (int i = 0; i < 1000; i++)
        assert_sbx_ok(sbx_output_filter_write(f, TAG_I, 4));
    assert_sbx_ok(sbx_output_filter_finish(f));
    assert_int_equal(sbx_output_filter_unicode(f, SBX_UNICODE_TAGS), 1000);
    const char *t = sbx_output_filter_unicode_tag_text(f);
    assert_non_null(t);
    assert_int_equal(strlen(t), SBX_UNICODE_TAG_TEXT_MAX);
    assert_int_equal(strspn(t, "i"), SBX_UNICODE_TAG_TEXT_MAX);
    assert_null(s.buf); /* all stripped */
    sbx_output_filter_free(f);
    sbx_policy_free(p);
}

static void test_outfilter_unicode__redaction_first(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    set_all(p, SBX_UNICODE_ESCAPE);
    /* a value with a class member inside it is redacted whole, and not counted */
    assert_sbx_ok(sbx_redact_value(p, "se" ZWSP "cret"));
    check(p, "a se" ZWSP "cret b" ZWSP, "a [REDACTED] b\\u{200B}", 0, 0, 1, 0, "");
    /* a credential shape right after a tag character */
    check(p, TAG_I "AKIAIOSFODNN7EXAMPLE", "\\u{E0069}[REDACTED]", 1, 0, 0, 0, "i");
    sbx_policy_free(p);
}

/* What stripping joins is redacted: a registered value, a credential shape,
 * across invalid bytes too; and the control, the same with nothing stripped. */
static void test_outfilter_unicode__stripping_then_redaction(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_redact_value(p, "hunter22"));
    static const char in[] = "a hun" ZWSP "ter22 AKIA" ZWSP "IOSFODNN7EXAMPLE b hunt\xff"
                             "er22 c";
    check(p, in, in, 0, 0, 2, 1, ""); /* kept: nothing to redact */
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_INVISIBLE, SBX_UNICODE_STRIP));
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_INVALID_UTF8, SBX_UNICODE_STRIP));
    check(p, in, "a [REDACTED] [REDACTED] b [REDACTED] c", 0, 0, 2, 1, "");
    sbx_output_filter *f = NULL;
    struct sink s = {0};
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    assert_sbx_ok(sbx_output_filter_write(f, in, strlen(in)));
    assert_sbx_ok(sbx_output_filter_finish(f));
    assert_int_equal(sbx_output_filter_redactions(f), 3);
    sbx_output_filter_free(f);
    free(s.buf);
    /* escaping joins nothing: the value stays apart, and is not redacted */
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_INVISIBLE, SBX_UNICODE_ESCAPE));
    check(p, "hun" ZWSP "ter22", "hun\\u{200B}ter22", 0, 0, 1, 0, "");
    sbx_policy_free(p);
}

static void test_outfilter_unicode__with_neutralised_escapes(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
    /* invalid UTF-8 kept: \xHH as before (and counted as an escape too) */
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    assert_sbx_ok(sbx_output_filter_write(f, "\x1b[31ma\xff" RLO, 10));
    assert_sbx_ok(sbx_output_filter_finish(f));
    assert_string_equal(s.buf, "\\x1b[31ma\\xff" RLO);
    assert_int_equal(sbx_output_filter_escapes(f), 2);
    assert_int_equal(sbx_output_filter_unicode(f, SBX_UNICODE_INVALID_UTF8), 1);
    assert_int_equal(sbx_output_filter_unicode(f, SBX_UNICODE_BIDI), 1);
    sbx_output_filter_free(f);
    free(s.buf);
    /* stripped: gone */
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_INVALID_UTF8, SBX_UNICODE_STRIP));
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_BIDI, SBX_UNICODE_ESCAPE));
    check(p, "a\xff" RLO "\x07", "a\\u{202E}\\x07", 0, 1, 0, 1, "");
    sbx_policy_free(p);
}

static void test_outfilter_unicode__rejects_bad_arguments(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_error(sbx_set_output_unicode(NULL, SBX_UNICODE_TAGS, SBX_UNICODE_KEEP), -EINVAL,
                     "policy is NULL");
    assert_sbx_error(sbx_set_output_unicode(p, -1, SBX_UNICODE_KEEP), -EINVAL, "unknown class -1");
    assert_sbx_error(sbx_set_output_unicode(p, 4, SBX_UNICODE_KEEP), -EINVAL, "unknown class 4");
    assert_sbx_error(sbx_set_output_unicode(p, SBX_UNICODE_BIDI, 4), -EINVAL, "unknown action 4");
    assert_sbx_error(sbx_set_output_unicode(p, SBX_UNICODE_BIDI, -1), -EINVAL, "unknown action -1");
    assert_int_equal(sbx_output_filter_unicode(NULL, SBX_UNICODE_TAGS), 0);
    assert_int_equal(sbx_result_unicode(NULL, SBX_UNICODE_TAGS), 0);
    assert_null(sbx_result_unicode_tag_text(NULL));
    assert_null(sbx_output_filter_unicode_tag_text(NULL));
    assert_non_null(strstr(sbx_last_error(), "filter is NULL"));
    struct sink s = {0};
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, sink_fn, &s, &f));
    assert_int_equal(sbx_output_filter_unicode(f, -1), 0);
    assert_int_equal(sbx_output_filter_unicode(f, 4), 0);
    assert_string_equal(sbx_output_filter_unicode_tag_text(f), "");
    sbx_output_filter_free(f);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_outfilter_unicode__kept_and_counted_by_default),
    cmocka_unit_test(test_outfilter_unicode__escaped),
    cmocka_unit_test(test_outfilter_unicode__stripped),
    cmocka_unit_test(test_outfilter_unicode__strip_joins_nothing),
    cmocka_unit_test(test_outfilter_unicode__replaced),
    cmocka_unit_test(test_outfilter_unicode__bom_only_at_the_start),
    cmocka_unit_test(test_outfilter_unicode__tag_text),
    cmocka_unit_test(test_outfilter_unicode__redaction_first),
    cmocka_unit_test(test_outfilter_unicode__stripping_then_redaction),
    cmocka_unit_test(test_outfilter_unicode__with_neutralised_escapes),
    cmocka_unit_test(test_outfilter_unicode__rejects_bad_arguments),
};

SBX_TEST_MAIN(tests)
