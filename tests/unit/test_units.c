/* The one grammar of sizes and durations (include/agentsbx/units.h), the
 * UTF-8 validator of lib/util/ that every JSON writer and reader uses, and
 * the reader of what starts a program (lib/util/program.c). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

/* An ELF file with its program headers at phoff: a PT_LOAD, then (with
 * interp) a PT_INTERP whose string lies at interp_at. */
static int elf_file(uint64_t phoff, const char *interp, uint64_t interp_at, size_t file_size)
{
    char path[] = "/tmp/agentsbx-elf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    unsigned char *f = calloc(1, file_size);
    assert_non_null(f);
    Elf64_Ehdr eh = {.e_phoff = phoff,
                     .e_phentsize = sizeof(Elf64_Phdr),
                     .e_phnum = interp ? 2 : 1,
                     .e_ehsize = sizeof(Elf64_Ehdr)};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    memcpy(f, &eh, sizeof(eh));
    Elf64_Phdr ph[2] = {{.p_type = PT_LOAD}};
    if (interp)
        ph[1] = (Elf64_Phdr){
            .p_type = PT_INTERP, .p_offset = interp_at, .p_filesz = strlen(interp) + 1};
    if (phoff + sizeof(ph) <= file_size)
        memcpy(f + phoff, ph, sizeof(ph));
    if (interp && interp_at + strlen(interp) + 1 <= file_size)
        memcpy(f + interp_at, interp, strlen(interp) + 1);
    assert_int_equal(write(fd, f, file_size), (ssize_t)file_size);
    free(f);
    return fd;
}

static int interpreter_of(int fd, char *buf, size_t size)
{
    int r = sbx__program_interpreter(fd, buf, size);
    close(fd);
    return r;
}

/* The dynamic loader is found wherever the program headers and the
 * PT_INTERP string lie: in the first 4 KiB the reader takes in one read,
 * beyond them (read where they are), or past the end of the file (refused). */
static void test_units__program_interpreter(void **state)
{
    (void)state;
    static const char ld[] = "/lib64/ld-linux-x86-64.so.2";
    char buf[256];
    /* The usual layout: the headers right after the ELF header. */
    assert_int_equal(interpreter_of(elf_file(64, ld, 512, 1024), buf, sizeof(buf)), 1);
    assert_string_equal(buf, ld);
    /* The headers, then the string, beyond the first read. */
    assert_int_equal(interpreter_of(elf_file(8192, ld, 8400, 9000), buf, sizeof(buf)), 1);
    assert_string_equal(buf, ld);
    /* The headers within it, the string beyond; the string across its end. */
    assert_int_equal(interpreter_of(elf_file(64, ld, 6000, 7000), buf, sizeof(buf)), 1);
    assert_string_equal(buf, ld);
    assert_int_equal(interpreter_of(elf_file(64, ld, 4090, 5000), buf, sizeof(buf)), 1);
    assert_string_equal(buf, ld);
    /* No PT_INTERP: a static program. */
    assert_int_equal(interpreter_of(elf_file(64, NULL, 0, 1024), buf, sizeof(buf)), 0);
    /* Headers or string past the end of the file; a string longer than buf. */
    assert_int_equal(interpreter_of(elf_file(8192, ld, 8400, 4096), buf, sizeof(buf)), -ENOEXEC);
    assert_int_equal(interpreter_of(elf_file(64, ld, 512, 100), buf, sizeof(buf)), -ENOEXEC);
    assert_int_equal(interpreter_of(elf_file(64, ld, 6000, 4096), buf, sizeof(buf)), -ENOEXEC);
    assert_int_equal(interpreter_of(elf_file(64, ld, 512, 1024), buf, 8), -ENOEXEC);
    /* A script's interpreter, and this system's own programs. */
    char path[] = "/tmp/agentsbx-script-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, "#!/bin/sh -e\necho\n", 18), 18);
    assert_int_equal(interpreter_of(fd, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "/bin/sh");
    fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    int r = interpreter_of(fd, buf, sizeof(buf));
    assert_true(r == 0 || (r == 1 && buf[0] == '/')); /* static, or dynamic */
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_units__sizes),
    cmocka_unit_test(test_units__durations),
    cmocka_unit_test(test_units__utf8),
    cmocka_unit_test(test_units__json_quote),
    cmocka_unit_test(test_units__program_interpreter),
};

SBX_TEST_MAIN(tests)
