/* The one grammar of sizes and durations (include/agentsbx/units.h), and the
 * UTF-8 validator of lib/util/ that every JSON writer and reader uses. */
#include <errno.h>
#include <stdint.h>

#include <agentsbx/agentsbx.h>

#include "testutil.h"
#include "util/util.h"

static void test_units__sizes(void **state)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {
        {"0", 0},
        {"4096", 4096},
        {"64K", 64ull << 10},
        {"64k", 64ull << 10},
        {"256M", 256ull << 20},
        {"256MB", 256ull << 20},
        {"256Mi", 256ull << 20},
        {"256MiB", 256ull << 20},
        {"256mib", 256ull << 20},
        {"1G", 1ull << 30},
        {"2T", 2ull << 40},
        {"3P", 3ull << 50},
        {"unlimited", SBX_UNLIMITED},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 1;
        assert_sbx_ok(sbx_parse_size(good[i].text, &v));
        if (v != good[i].bytes)
            fail_msg("'%s' gave %llu", good[i].text, (unsigned long long)v);
    }
    static const char *const bad[] = {"",    " 1",  "1 ",   "-1", "+1", "1.5M",      "1e3", "1MBB",
                                      "1Bi", "1KM", "0x10", "M",  "1Q", "Unlimited", "1B"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 7;
        int r = sbx_parse_size(bad[i], &v);
        if (r != -EINVAL || v != 7)
            fail_msg("'%s' was not rejected (%d)", bad[i], r);
        assert_non_null(strstr(sbx_last_error(), "is not a size"));
    }
    uint64_t v;
    assert_sbx_error(sbx_parse_size("8388608T", &v), -ERANGE, "2^63 bytes or more");
    assert_sbx_error(sbx_parse_size("99999999999999999999", &v), -ERANGE, "2^63");
    assert_sbx_error(sbx_parse_size(NULL, &v), -EINVAL, "text is NULL");
    assert_sbx_error(sbx_parse_size("1", NULL), -EINVAL, "bytes is NULL");
}

static void test_units__durations(void **state)
{
    static const struct {
        const char *text;
        uint64_t ns;
    } good[] = {
        {"0", 0},
        {"30", 30000000000ull},
        {"2.5", 2500000000ull},
        {".25", 250000000ull},
        {"1.5s", 1500000000ull},
        {"500ms", 500000000ull},
        {"1.5ms", 1500000ull},
        {"7us", 7000ull},
        {"9ns", 9ull},
        {"2m", 120000000000ull},
        {"1h", 3600000000000ull},
        {"0.000000001", 1},
        {"unlimited", SBX_UNLIMITED},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 1;
        assert_sbx_ok(sbx_parse_duration(good[i].text, &v));
        if (v != good[i].ns)
            fail_msg("'%s' gave %llu ns", good[i].text, (unsigned long long)v);
    }
    /* a fraction of a nanosecond rounds up: a limit is never shortened */
    uint64_t v = 0;
    assert_sbx_ok(sbx_parse_duration("0.5ns", &v));
    assert_int_equal(v, 1);
    assert_sbx_ok(sbx_parse_duration("1.0000001us", &v));
    assert_int_equal(v, 1001);
    static const char *const bad[] = {"",    " 1",           "1 ",   "-1",  "1.",  ".",
                                      "1e3", "1S",           "1sec", "inf", "nan", "0x1",
                                      "1,5", "0.1234567891", "1d",   "ms"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 7;
        int r = sbx_parse_duration(bad[i], &v);
        if (r != -EINVAL || v != 7)
            fail_msg("'%s' was not rejected (%d)", bad[i], r);
        assert_non_null(strstr(sbx_last_error(), "is not a duration"));
    }
    assert_sbx_error(sbx_parse_duration("9223372037", &v), -ERANGE, "too long a duration");
    assert_sbx_error(sbx_parse_duration("3000000h", &v), -ERANGE, "too long");
    assert_sbx_error(sbx_parse_duration(NULL, &v), -EINVAL, "text is NULL");
    assert_sbx_error(sbx_parse_duration("1", NULL), -EINVAL, "ns is NULL");
}

static void test_units__utf8(void **state)
{
    static const struct {
        const char *bytes;
        int seq;
    } cases[] = {
        {"a", 1},
        {"\xc3\xa9", 2},
        {"\xe2\x82\xac", 3},
        {"\xf0\x9f\x98\x80", 4},
        {"\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF */
        {"\xc0\xaf", 0},         /* overlong '/' */
        {"\xe0\x80\xaf", 0},     /* overlong */
        {"\xed\xa0\x80", 0},     /* a surrogate */
        {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
        {"\x80", 0},             /* a stray continuation byte */
        {"\xff", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const unsigned char *s = (const unsigned char *)cases[i].bytes;
        size_t n = strlen(cases[i].bytes);
        if (sbx__utf8_seq(s, n) != cases[i].seq)
            fail_msg("case %zu: %d, not %d", i, sbx__utf8_seq(s, n), cases[i].seq);
        assert_int_equal(sbx__utf8_valid(s, n), cases[i].seq > 0);
        if (cases[i].seq > 1) /* every proper prefix needs more bytes */
            for (size_t k = 1; k < n; k++)
                assert_int_equal(sbx__utf8_seq(s, k), -1);
    }
    assert_true(sbx__utf8_valid("plain \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80", 16));
    assert_false(sbx__utf8_valid("cut \xc3", 5));
    assert_true(sbx__utf8_valid("with\0nul", 8)); /* NUL is a valid code point */
}

/* The one JSON string writer: escapes, U+FFFD for invalid UTF-8, snprintf's
 * contract when the buffer is short. */
static void test_units__json_quote(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"q\"b\\", 4, "\"q\\\"b\\\\\""},
        {"a\nb\tc\rd", 7, "\"a\\nb\\tc\\rd\""},
        {"\x01\x1b\x7f", 3, "\"\\u0001\\u001b\\u007f\""},
        {"\xc3\xa9t\xc3\xa9", 5, "\"\xc3\xa9t\xc3\xa9\""},
        {"bad\xff\xc3", 5, "\"bad\\ufffd\\ufffd\""},
        {"nul\0in", 6, "\"nul\\u0000in\""},
        {"", 0, "\"\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        size_t n = sbx__json_quote(buf, sizeof(buf), cases[i].in, cases[i].len);
        assert_string_equal(buf, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
    }
    char small[5];
    assert_int_equal(sbx__json_quote(small, sizeof(small), "abcdef", 6), 8);
    assert_string_equal(small, "\"abc");
    assert_int_equal(sbx__json_quote(NULL, 0, "ab", 2), 4);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_units__sizes),
    cmocka_unit_test(test_units__durations),
    cmocka_unit_test(test_units__utf8),
    cmocka_unit_test(test_units__json_quote),
};

SBX_TEST_MAIN(tests)
