/* The utility layer: small, self-contained helpers that every other part of
 * the library may use and that use nothing of it (lib/util/ calls no function
 * outside lib/util/ and libc). See docs/architecture.md. */
#ifndef SBX_UTIL_H
#define SBX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SBX__UTIL_HIDDEN __attribute__((visibility("hidden")))

/* ---- time (time.c) ---------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
SBX__UTIL_HIDDEN uint64_t sbx__now_ns(void);

/* ---- UTF-8 (utf8.c): the one validator ------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s[0..n): 1 to 4 (1 for
 * ASCII, NUL included); 0 if s[0..] cannot start one (an overlong form, a
 * surrogate, a code point past U+10FFFF, a stray continuation byte); -1 if
 * s[0..n) is a valid beginning of one that needs more bytes than n. */
SBX__UTIL_HIDDEN int sbx__utf8_seq(const unsigned char *s, size_t n);
/* Whether s[0..n) is all well-formed UTF-8. */
SBX__UTIL_HIDDEN bool sbx__utf8_valid(const void *s, size_t n);

/* ---- SHA-256 (sha256.c) ----------------------------------------------------------- */

SBX__UTIL_HIDDEN void sbx__sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- units (units.c) -------------------------------------------------------------- */

/* A size: digits, then nothing (bytes) or K, M, G, T, P (any case, powers of
 * 1024) with an optional "i", "B" or "iB"; or "unlimited" (UINT64_MAX). No
 * sign, space or fraction. 0, -EINVAL, or -ERANGE (2^63 or more). */
SBX__UTIL_HIDDEN int sbx__parse_size(const char *s, uint64_t *ret);
/* A duration in nanoseconds: digits with an optional fraction (at most 9
 * places, rounded up; ".5" too), then nothing or "s" (seconds), "ms", "us", "ns", "m",
 * "h"; or "unlimited" (UINT64_MAX). 0, -EINVAL, or -ERANGE. */
SBX__UTIL_HIDDEN int sbx__parse_duration(const char *s, uint64_t *ret_ns);

#endif
