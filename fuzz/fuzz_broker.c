/* libFuzzer target for the egress broker's parsers (lib/broker_parse.c):
 * HTTP proxy requests and their rewriting, responses, and SOCKS5.
 *
 * Input: byte 0 chooses the parser (its value mod 3: a proxy request, a
 * response, a SOCKS5 greeting followed by a request); the rest is the bytes
 * a client (or server) sent.
 *
 * Checks: no parser reads past its input or reports more than it was given;
 * a refusal always says why; a request is parsed the same whole or arriving
 * in two pieces (the head end found incrementally is the one found at once);
 * a parsed target is a normalised name or a literal of at most 253 bytes; the
 * rewritten head fits the documented bound, ends with a blank line and holds
 * no NUL and no bare CR or LF; a SOCKS5 refusal comes with a reply code. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker_proto.h"

static void check_target(const struct sbx__target *t)
{
    size_t n = strnlen(t->host, sizeof(t->host));
    if (n > SBX__NAME_MAX)
        abort();
}

/* A head that ends with CRLF CRLF and whose every LF follows a CR. */
static void check_head(const char *h, size_t n)
{
    if (n < 4 || memcmp(h + n - 4, "\r\n\r\n", 4) != 0)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '\0')
            abort();
        if (h[i] == '\n' && (i == 0 || h[i - 1] != '\r'))
            abort();
        if (h[i] == '\r' && (i + 1 == n || h[i + 1] != '\n'))
            abort();
    }
}

static void http(const char *buf, size_t len, bool response)
{
    static struct sbx__http_head h, h2;
    static char out[SBX__HEAD_MAX + SBX__HTTP_REWRITE_EXTRA];
    const char *why = NULL;
    int r = response ? sbx__http_parse_response(buf, len, &h, &why)
                     : sbx__http_parse_request(buf, len, &h, &why);
    if (r < 0 && (!why || !*why))
        abort();
    if (r > 0 && ((size_t)r > len || (size_t)r > SBX__HEAD_MAX || h.head_len != (size_t)r))
        abort();
    if (r <= 0)
        return;
    for (size_t i = 0; i < h.n_headers; i++)
        if ((size_t)h.names[i].off + h.names[i].len > (size_t)r ||
            (size_t)h.values[i].off + h.values[i].len > (size_t)r)
            abort();
    if (!response) {
        check_target(&h.target);
        /* The same head, arriving in two pieces. */
        size_t cut = len / 2, end1 = sbx__http_head_end(buf, cut, 0);
        size_t end = end1 ? end1 : sbx__http_head_end(buf, len, cut);
        if (end != sbx__http_head_end(buf, len, 0))
            abort();
        if (sbx__http_parse_request(buf, (size_t)r, &h2, &why) != r)
            abort();
        if (h.connect)
            return;
    }
    size_t w = response
                   ? sbx__http_rewrite_response(buf, &h, out, (size_t)r + SBX__HTTP_REWRITE_EXTRA)
                   : sbx__http_rewrite_request(buf, &h, out, (size_t)r + SBX__HTTP_REWRITE_EXTRA);
    if (w == 0 || w > (size_t)r + SBX__HTTP_REWRITE_EXTRA)
        abort();
    check_head(out, w);
}

static void socks(const uint8_t *buf, size_t len)
{
    bool noauth;
    const char *why = NULL;
    int r = sbx__socks5_parse_greeting(buf, len, &noauth, &why);
    if (r < 0 && (!why || !*why))
        abort();
    if (r <= 0)
        return;
    if ((size_t)r > len)
        abort();
    struct sbx__target t;
    uint8_t reply = 0;
    int q = sbx__socks5_parse_request(buf + r, len - (size_t)r, &t, &reply, &why);
    if (q < 0 && (reply == 0 || !why || !*why))
        abort();
    if (q > 0 && ((size_t)q > len - (size_t)r))
        abort();
    if (q > 0)
        check_target(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* A copy of exactly the input: reading past it is ASan's to see. */
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);
    switch (data[0] % 3) {
    case 0: http(buf, len, false); break;
    case 1: http(buf, len, true); break;
    default: socks((const uint8_t *)buf, len); break;
    }
    free(buf);
    return 0;
}
