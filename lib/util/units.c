/* The grammar of sizes and durations, the same for the C API, the CLI, policy
 * files and Python (sbx_parse_size(), sbx_parse_duration() in lib/units.c). */
#include <errno.h>
#include <string.h>

#include "util.h"

/* Digits at *s (at least one, no sign, no space) into *v; -ERANGE on overflow. */
static int digits(const char **s, uint64_t *v)
{
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    uint64_t x = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (x > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *s = p;
    *v = x;
    return 0;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int sbx__parse_size(const char *s, uint64_t *ret)
{
    if (strcmp(s, "unlimited") == 0) {
        *ret = UINT64_MAX;
        return 0;
    }
    uint64_t v;
    int r = digits(&s, &v);
    if (r < 0)
        return r;
    unsigned shift = 0;
    if (*s) {
        static const char units[] = "kmgtp";
        const char *u = strchr(units, lower(*s));
        if (!u)
            return -EINVAL;
        shift = 10 * (unsigned)(u - units + 1);
        s++;
        /* "K", "Ki", "KB", "KiB" (and the lower-case forms): always 1024. */
        if (lower(*s) == 'i')
            s++;
        if (lower(*s) == 'b')
            s++;
        if (*s)
            return -EINVAL;
    } else if (*s) {
        return -EINVAL;
    }
    if (shift && v > (UINT64_MAX >> 1) >> shift) /* stays below 2^63 */
        return -ERANGE;
    *ret = v << shift;
    return 0;
}

int sbx__parse_duration(const char *s, uint64_t *ret_ns)
{
    if (strcmp(s, "unlimited") == 0) {
        *ret_ns = UINT64_MAX;
        return 0;
    }
    uint64_t whole = 0, frac = 0, scale = 1;
    int r = s[0] == '.' ? 0 : digits(&s, &whole); /* ".5" is half a second */
    if (r < 0)
        return r;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return -EINVAL; /* "1." */
        for (int n = 0; *s >= '0' && *s <= '9'; s++, n++) {
            if (n == 9)
                return -EINVAL; /* finer than a nanosecond */
            frac = frac * 10 + (uint64_t)(*s - '0');
            scale *= 10;
        }
    }
    uint64_t unit; /* nanoseconds */
    if (*s == '\0' || strcmp(s, "s") == 0)
        unit = 1000000000ull;
    else if (strcmp(s, "ms") == 0)
        unit = 1000000ull;
    else if (strcmp(s, "us") == 0)
        unit = 1000ull;
    else if (strcmp(s, "ns") == 0)
        unit = 1;
    else if (strcmp(s, "m") == 0)
        unit = 60ull * 1000000000ull;
    else if (strcmp(s, "h") == 0)
        unit = 3600ull * 1000000000ull;
    else
        return -EINVAL;
    if (whole > (UINT64_MAX >> 1) / unit)
        return -ERANGE;
    uint64_t part = frac * (unit / scale) + (frac * (unit % scale) + scale - 1) / scale;
    *ret_ns = whole * unit + part; /* the fraction rounds up: a bound is never shortened */
    return 0;
}
