/* Shared helpers for the cmocka suites. Each case runs in its own process
 * (see tests/CMakeLists.txt); SBX_SKIP() makes that process exit 77, which
 * ctest reports as skipped, with the reason printed. */
#ifndef SBX_TESTUTIL_H
#define SBX_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int sbx_test_skipped;

/* Skip the current case, printing why (a kernel feature missing, for instance). */
#define SBX_SKIP(...)                                                                              \
    do {                                                                                           \
        fprintf(stderr, "SKIP: ");                                                                 \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        sbx_test_skipped = 1;                                                                      \
        skip();                                                                                    \
    } while (0)

/* Assert that an expression returns a given negative errno and that
 * sbx_last_error() mentions a given substring. */
#define assert_sbx_error(expr, err, needle)                                                        \
    do {                                                                                           \
        int sbx_rc_ = (expr);                                                                      \
        if (sbx_rc_ != (err))                                                                      \
            fail_msg("%s returned %d (%s), expected %d; last error: %s", #expr, sbx_rc_,           \
                     sbx_errname(sbx_rc_), (err), sbx_last_error());                               \
        if (strstr(sbx_last_error(), (needle)) == NULL)                                            \
            fail_msg("last error '%s' does not mention '%s'", sbx_last_error(), (needle));         \
    } while (0)

/* Assert that an sbx call succeeds, printing the library's message if not. */
#define assert_sbx_ok(expr)                                                                        \
    do {                                                                                           \
        int sbx_rc_ = (expr);                                                                      \
        if (sbx_rc_ != 0)                                                                          \
            fail_msg("%s failed: %d (%s): %s", #expr, sbx_rc_, sbx_errname(sbx_rc_),               \
                     sbx_last_error());                                                            \
    } while (0)

/* Run one named case (argv[1]) or all of them; exit 77 if the case skipped.
 * A name no case has is a failure, not an empty pass (a stale binary, or a
 * case registered in CMake and not in the group). */
#define SBX_TEST_MAIN(group)                                                                       \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc > 1) {                                                                            \
            size_t sbx_i_ = 0;                                                                     \
            while (sbx_i_ < sizeof(group) / sizeof(group[0]) &&                                    \
                   strcmp(group[sbx_i_].name, argv[1]) != 0)                                       \
                sbx_i_++;                                                                          \
            if (sbx_i_ == sizeof(group) / sizeof(group[0])) {                                      \
                fprintf(stderr, "%s: no test case named '%s'\n", argv[0], argv[1]);                \
                return 1;                                                                          \
            }                                                                                      \
            cmocka_set_test_filter(argv[1]);                                                       \
        }                                                                                          \
        int failed = cmocka_run_group_tests(group, NULL, NULL);                                    \
        if (failed == 0 && sbx_test_skipped && argc > 1)                                           \
            return 77;                                                                             \
        return failed == 0 ? 0 : 1;                                                                \
    }

/* The isolation the live suites run with: minimal (each layer on its own),
 * or the library's default when SBX_TEST_ISOLATION=auto (the __auto twins of
 * tests/live/CMakeLists.txt). */
static inline bool test_isolation_auto(void)
{
    const char *iso = getenv("SBX_TEST_ISOLATION");
    return iso && strcmp(iso, "auto") == 0;
}

/* The isolation of the run: minimal, or the default under SBX_TEST_ISOLATION. */
#define test_isolation(p)                                                                          \
    do {                                                                                           \
        if (!test_isolation_auto())                                                                \
            assert_sbx_ok(sbx_set_isolation((p), SBX_ISOLATION_MINIMAL));                          \
    } while (0)

#endif
