/* The one JSON string writer of the library's hand-built JSON (the result,
 * the audit log, the Unicode report): \n, \r and \t as such, other control
 * characters as \u00XX, invalid UTF-8 as U+FFFD, so that whatever a child
 * printed stays one valid string. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Append c to buf if it fits; count it either way. */
static void put(char *buf, size_t size, size_t *n, char c)
{
    if (*n + 1 < size)
        buf[*n] = c;
    (*n)++;
}

static void put_str(char *buf, size_t size, size_t *n, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put(buf, size, n, s[i]);
}

size_t sbx__json_quote(char *buf, size_t size, const char *s, size_t len)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    put(buf, size, &n, '"');
    while (p < end) {
        if (*p == '"' || *p == '\\') {
            put(buf, size, &n, '\\');
            put(buf, size, &n, (char)*p++);
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            put(buf, size, &n, '\\');
            put(buf, size, &n, *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04x", *p++);
            put_str(buf, size, &n, esc, 6);
        } else if (*p < 0x80) {
            put(buf, size, &n, (char)*p++);
        } else {
            int k = sbx__utf8_seq(p, (size_t)(end - p));
            if (k > 0) {
                put_str(buf, size, &n, (const char *)p, (size_t)k);
                p += k;
            } else {
                put_str(buf, size, &n, "\\ufffd", 6);
                p++;
            }
        }
    }
    put(buf, size, &n, '"');
    if (size)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

void sbx__json_append(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*off < size ? buf + *off : NULL, *off < size ? size - *off : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off += (size_t)n;
}

void sbx__json_append_string(char *buf, size_t size, size_t *off, const char *text)
{
    *off += sbx__json_quote(*off < size ? buf + *off : NULL, *off < size ? size - *off : 0, text,
                            strlen(text));
}
