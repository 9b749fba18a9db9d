/* The public parsers of sizes and durations (the grammar is lib/util/units.c). */
#include <errno.h>

#include "internal.h"

int sbx_parse_size(const char *text, uint64_t *bytes)
{
    sbx__check_arg(text);
    sbx__check_arg(bytes);
    int r = sbx__parse_size(text, bytes);
    if (r == -ERANGE)
        return sbx__err(r, "%s: '%.64s' is 2^63 bytes or more", __func__, text);
    if (r < 0)
        return sbx__err(r,
                        "%s: '%.64s' is not a size (digits, then K, M, G, T or P, optionally "
                        "with i or B; or 'unlimited')",
                        __func__, text);
    return 0;
}

int sbx_parse_duration(const char *text, uint64_t *ns)
{
    sbx__check_arg(text);
    sbx__check_arg(ns);
    int r = sbx__parse_duration(text, ns);
    if (r == -ERANGE)
        return sbx__err(r, "%s: '%.64s' is too long a duration", __func__, text);
    if (r < 0)
        return sbx__err(r,
                        "%s: '%.64s' is not a duration (a number with at most 9 decimals, then "
                        "s, ms, us, ns, m or h; or 'unlimited')",
                        __func__, text);
    return 0;
}
