/* Strict parsers for option values, and JSON string output. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <agentsbx/agentsbx.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parse the leading run of decimal digits of @p s (at least one) into *ret.
 * *end receives the first character after them. strtoull() alone would accept
 * leading whitespace, '+' and '-' (and wrap negatives): the first character is
 * checked to be a digit, so none of those gets through. */
static int parse_digits(const char *s, uint64_t *ret, const char **end)
{
    char *e;
    unsigned long long v;

    if (!is_digit(s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &e, 10);
    if (errno != 0 || e == s)
        return -1;
    *ret = (uint64_t)v;
    *end = e;
    return 0;
}

int cli_parse_count(const char *s, uint64_t *ret)
{
    const char *end;
    uint64_t v;

    if (parse_digits(s, &v, &end) < 0 || *end != '\0')
        return -1;
    *ret = v;
    return 0;
}

int cli_parse_size(const char *s, uint64_t *ret)
{
    return sbx_parse_size(s, ret) == 0 ? 0 : -1; /* the library's grammar */
}

int cli_parse_duration(const char *s, uint64_t *ret_ns)
{
    return sbx_parse_duration(s, ret_ns) == 0 ? 0 : -1; /* the library's grammar */
}

int cli_parse_seconds(const char *s, uint64_t *ret_ns)
{
    const uint64_t ns_per_s = 1000000000u;
    uint64_t whole = 0, frac = 0;
    const char *p = s;
    int ndec = 0;

    if (is_digit(*p)) {
        if (parse_digits(p, &whole, &p) < 0)
            return -1;
    } else if (*p != '.') {
        return -1; /* empty, sign, space, garbage */
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return -1; /* "1." and "." */
        for (; is_digit(*p); p++) {
            if (++ndec > 9)
                return -1; /* finer than a nanosecond */
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        for (int i = ndec; i < 9; i++)
            frac *= 10;
    }
    if (*p != '\0')
        return -1;
    if (whole > (UINT64_MAX - frac) / ns_per_s)
        return -1;
    *ret_ns = whole * ns_per_s + frac;
    return 0;
}

/* The layer bit called @p name (n bytes, not NUL-terminated), or 0. */
static uint32_t layer_by_name(const char *name, size_t n)
{
    if (n == 3 && memcmp(name, "all", 3) == 0)
        return SBX_LAYER_ALL;
    for (uint32_t bit = 1; bit & SBX_LAYER_ALL; bit <<= 1) {
        const char *lname = sbx_layer_name(bit);
        if (strlen(lname) == n && memcmp(lname, name, n) == 0)
            return bit;
    }
    return 0;
}

int cli_parse_layers(const char *s, uint32_t *ret)
{
    uint32_t set = 0;
    const char *p = s;

    for (;;) {
        size_t n = strcspn(p, ",");
        uint32_t bit = layer_by_name(p, n);
        if (bit == 0)
            return -1; /* also an empty item: "", "a,,b", "a," */
        set |= bit;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    *ret = set;
    return 0;
}

int cli_parse_syscall_rule(const char *s, size_t *name_len, int *error)
{
    const char *colon = strchr(s, ':');
    const char *e;
    uint64_t v;

    if (colon == s || s[0] == '\0')
        return -1; /* no name */
    if (colon == NULL) {
        *name_len = strlen(s);
        *error = EPERM;
        return 0;
    }
    e = colon + 1;
    if (strcmp(e, "kill") == 0) {
        *error = SBX_SYSCALL_KILL;
    } else if (is_digit(e[0])) {
        if (cli_parse_count(e, &v) < 0 || v < 1 || v > 4095)
            return -1;
        *error = (int)v;
    } else {
        int found = 0;
        for (int n = 1; n < 4096 && !found; n++) {
            const char *name = strerrorname_np(n);
            if (name != NULL && strcmp(name, e) == 0)
                *error = n, found = 1;
        }
        if (!found)
            return -1;
    }
    *name_len = (size_t)(colon - s);
    return 0;
}

/* Length of the valid UTF-8 sequence at @p s, or 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL terminator */
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cli_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', out);
    while (*p != '\0') {
        unsigned char c = *p;
        const char *esc = NULL;
        size_t n;

        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc != NULL) {
            fputs(esc, out);
            p++;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
            p++;
            continue;
        }
        n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", out);
            p++;
            continue;
        }
        fwrite(p, 1, n, out);
        p += n;
    }
    fputc('"', out);
}

void cli_option_error(const char *cmd, int c, char *const *argv)
{
    const char *arg = argv[optind - 1];
    char prefix[64];

    /* "agentsbx: " or "agentsbx: run: " */
    snprintf(prefix, sizeof(prefix), "%s: %s%s", cli_progname, cmd, cmd[0] != '\0' ? ": " : "");
    if (strncmp(arg, "--", 2) == 0) {
        int n = (int)strcspn(arg, "=");
        if (c == ':')
            fprintf(stderr, "%soption '%.*s' requires an argument\n", prefix, n, arg);
        else if (arg[n] == '=' && optopt != 0)
            fprintf(stderr, "%soption '%.*s' takes no argument\n", prefix, n, arg);
        else
            fprintf(stderr, "%sunknown or ambiguous option '%.*s'\n", prefix, n, arg);
    } else if (c == ':') {
        fprintf(stderr, "%soption '-%c' requires an argument\n", prefix, optopt);
    } else {
        fprintf(stderr, "%sunknown option '-%c'\n", prefix, optopt);
    }
}
