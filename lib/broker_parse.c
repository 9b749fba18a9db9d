/* The egress broker's parsers (issue 17): HTTP/1.x proxy requests (CONNECT
 * and absolute-URI requests) and responses, their rewriting for the other
 * side, and SOCKS5. Strict: what is not clearly HTTP/1.x or SOCKS5 is
 * refused, never guessed at. */
#include <string.h>

#include "broker_proto.h"

void sbx__printable(const char *s, size_t len, char *out, size_t size)
{
    size_t n = 0;
    bool cut = len > size - 1;
    size_t keep = cut ? (size > 4 ? size - 4 : 0) : len;
    for (; n < keep; n++)
        out[n] = s[n] > 0x20 && s[n] < 0x7f ? s[n] : '?';
    if (cut)
        for (; n < size - 1; n++)
            out[n] = '.';
    out[n] = '\0';
}

/* ---- destinations --------------------------------------------------------------- */

static bool parse_port(const char *s, size_t len, uint16_t *port)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

enum sbx__broker_reason sbx__target_parse(const char *s, size_t len, bool authority,
                                          bool port_required, uint16_t port, struct sbx__target *t,
                                          const char **why)
{
    const char *host = s;
    size_t host_len = len;
    bool bracketed = false;
    memset(t, 0, sizeof(*t));
    t->port = port;
    if (authority) {
        const char *port_s = NULL;
        size_t port_len = 0;
        if (len > 0 && s[0] == '[') {
            const char *close = memchr(s, ']', len);
            if (!close) {
                *why = "'[' without ']' in the authority";
                return SBX__BR_MALFORMED;
            }
            host = s + 1;
            host_len = (size_t)(close - host);
            bracketed = true;
            size_t rest = len - (size_t)(close + 1 - s);
            if (rest > 0) {
                if (close[1] != ':') {
                    *why = "text after ']' in the authority";
                    return SBX__BR_MALFORMED;
                }
                port_s = close + 2;
                port_len = rest - 1;
            }
        } else {
            const char *colon = memchr(s, ':', len);
            if (colon) {
                host_len = (size_t)(colon - s);
                port_s = colon + 1;
                port_len = len - host_len - 1;
                if (memchr(port_s, ':', port_len)) {
                    *why = "an IPv6 address must be in brackets in the authority";
                    return SBX__BR_MALFORMED;
                }
            }
        }
        if (port_s) {
            if (!parse_port(port_s, port_len, &t->port)) {
                *why = "the port is not a number from 1 to 65535";
                return SBX__BR_MALFORMED;
            }
        } else if (port_required) {
            *why = "no port in the authority";
            return SBX__BR_MALFORMED;
        }
    }
    if (host_len == 0) {
        *why = "no host";
        return SBX__BR_MALFORMED;
    }
    if (sbx__parse_addr(host, host_len, &t->addr)) {
        if (!bracketed && authority && !IN6_IS_ADDR_V4MAPPED(&t->addr)) {
            *why = "an IPv6 address must be in brackets in the authority";
            return SBX__BR_MALFORMED;
        }
        t->is_addr = true;
        sbx__addr_text(&t->addr, t->host);
        return SBX__BR_OK;
    }
    if (bracketed) {
        *why = "not an IPv6 address in brackets";
        return SBX__BR_MALFORMED;
    }
    if (sbx__host_normalize(host, host_len, t->host, why) < 0) {
        sbx__printable(host, host_len, t->host, sizeof(t->host));
        return SBX__BR_BAD_NAME;
    }
    return SBX__BR_OK;
}

/* ---- HTTP heads ------------------------------------------------------------------ */

size_t sbx__http_head_end(const char *buf, size_t len, size_t from)
{
    size_t i = from > 3 ? from - 3 : 0;
    /* Leading empty lines before a request line are not its end (RFC 9112,
     * 2.2): the head ends at the first blank line after a non-empty one. */
    size_t start = 0;
    while (start < len && (buf[start] == '\r' || buf[start] == '\n'))
        start++;
    if (i < start)
        i = start;
    for (; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* One line of buf from *pos: its span (without the line end) and the next
 * position. False at a bare CR or NUL, or when no line end remains. */
static bool next_line(const char *buf, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    *start = i;
    for (; i < len; i++) {
        if (buf[i] == '\n') {
            *end = i > *start && buf[i - 1] == '\r' ? i - 1 : i;
            *pos = i + 1;
            for (size_t j = *start; j < *end; j++)
                if (buf[j] == '\r' || buf[j] == '\0')
                    return false;
            return true;
        }
    }
    return false;
}

static struct sbx__span span(size_t off, size_t len)
{
    return (struct sbx__span){(uint16_t)off, (uint16_t)len};
}

/* Parse the header lines from *pos to the blank line. */
static int parse_headers(const char *buf, size_t len, size_t pos, struct sbx__http_head *h, int bad,
                         const char **why)
{
    for (;;) {
        size_t s, e;
        if (!next_line(buf, len, &pos, &s, &e)) {
            *why = "a bare CR or a NUL in the head";
            return -bad;
        }
        if (s == e) {
            h->head_len = pos;
            return (int)pos;
        }
        if (buf[s] == ' ' || buf[s] == '\t') {
            *why = "obsolete line folding in a header";
            return -bad;
        }
        size_t c = s;
        while (c < e && is_tchar((unsigned char)buf[c]))
            c++;
        if (c == s || c == e || buf[c] != ':') {
            *why = "a header line that is not NAME: VALUE";
            return -bad;
        }
        if (h->n_headers == SBX__HTTP_HEADERS_MAX) {
            *why = "more than 100 header lines";
            return bad == SBX__BR_MALFORMED ? -SBX__BR_TOO_LARGE : -bad;
        }
        size_t v = c + 1, ve = e;
        while (v < ve && (buf[v] == ' ' || buf[v] == '\t'))
            v++;
        while (ve > v && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
            ve--;
        for (size_t j = v; j < ve; j++) {
            unsigned char ch = (unsigned char)buf[j];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                *why = "a control character in a header value";
                return -bad;
            }
        }
        h->names[h->n_headers] = span(s, c - s);
        h->values[h->n_headers] = span(v, ve - v);
        h->n_headers++;
    }
}

static bool span_is(const char *buf, struct sbx__span sp, const char *lit)
{
    return sp.len == strlen(lit) && strncasecmp(buf + sp.off, lit, sp.len) == 0;
}

int sbx__http_parse_request(const char *buf, size_t len, struct sbx__http_head *req,
                            const char **why)
{
    memset(req, 0, sizeof(*req));
    *why = "";
    if (len > SBX__HEAD_MAX)
        len = SBX__HEAD_MAX;
    size_t end = sbx__http_head_end(buf, len, 0);
    if (end == 0) {
        if (len >= SBX__HEAD_MAX) {
            *why = "no end of the head within 16 KiB";
            return -SBX__BR_TOO_LARGE;
        }
        return 0;
    }
    size_t pos = 0;
    while (buf[pos] == '\r' || buf[pos] == '\n')
        pos++;
    size_t s, e;
    if (!next_line(buf, end, &pos, &s, &e)) {
        *why = "a bare CR or a NUL in the request line";
        return -SBX__BR_MALFORMED;
    }
    /* METHOD SP target SP HTTP/1.x */
    size_t m = s;
    while (m < e && is_tchar((unsigned char)buf[m]))
        m++;
    if (m == s || m == e || buf[m] != ' ' || m - s > 32) {
        *why = "a request line that is not METHOD TARGET HTTP/1.x";
        return -SBX__BR_MALFORMED;
    }
    req->method = span(s, m - s);
    size_t t = m + 1, te = t;
    while (te < e && buf[te] > 0x20 && buf[te] < 0x7f)
        te++;
    if (te == t || te == e || buf[te] != ' ') {
        *why = "a request line that is not METHOD TARGET HTTP/1.x";
        return -SBX__BR_MALFORMED;
    }
    const char *ver = buf + te + 1;
    size_t ver_len = e - te - 1;
    if (ver_len == 8 && memcmp(ver, "HTTP/1.", 7) == 0 && (ver[7] == '0' || ver[7] == '1')) {
        req->minor = ver[7] - '0';
    } else if (ver_len > 5 && memcmp(ver, "HTTP/", 5) == 0 &&
               strspn(ver + 5, "0123456789.") == ver_len - 5) {
        *why = "an HTTP version other than 1.0 and 1.1";
        return -SBX__BR_UNSUPPORTED;
    } else {
        *why = "a request line that is not METHOD TARGET HTTP/1.x";
        return -SBX__BR_MALFORMED;
    }
    const char *target = buf + t;
    size_t target_len = te - t;
    enum sbx__broker_reason r;
    if (req->method.len == 7 && memcmp(buf + s, "CONNECT", 7) == 0) {
        req->connect = true;
        r = sbx__target_parse(target, target_len, true, true, 0, &req->target, why);
        if (r != SBX__BR_OK)
            return -(int)r;
    } else {
        static const char http[] = "http://", https[] = "https://";
        if (target_len >= 8 && strncasecmp(target, https, 8) == 0) {
            *why = "an https:// URI in a plain request (HTTPS goes through CONNECT)";
            return -SBX__BR_UNSUPPORTED;
        }
        if (target_len < 7 || strncasecmp(target, http, 7) != 0) {
            if (target[0] == '/' || target[0] == '*') {
                *why = "an origin-form target: not a proxy request";
                return -SBX__BR_MALFORMED;
            }
            const char *colon = memchr(target, ':', target_len);
            if (colon && colon + 2 < target + target_len && colon[1] == '/' && colon[2] == '/') {
                *why = "a URI scheme other than http";
                return -SBX__BR_UNSUPPORTED;
            }
            *why = "a target that is not an absolute http:// URI";
            return -SBX__BR_MALFORMED;
        }
        if (memchr(target, '#', target_len)) {
            *why = "a fragment in the URI";
            return -SBX__BR_MALFORMED;
        }
        size_t a = 7, ae = a;
        while (ae < target_len && target[ae] != '/' && target[ae] != '?')
            ae++;
        if (memchr(target + a, '@', ae - a)) {
            *why = "user information in the URI";
            return -SBX__BR_MALFORMED;
        }
        r = sbx__target_parse(target + a, ae - a, true, false, 80, &req->target, why);
        if (r != SBX__BR_OK)
            return -(int)r;
        req->path = span(t + ae, target_len - ae);
        req->path_slash = ae == target_len || target[ae] == '?';
    }
    return parse_headers(buf, end, pos, req, SBX__BR_MALFORMED, why);
}

/* ---- rewriting ------------------------------------------------------------------- */

struct out {
    char *p;
    size_t size, n;
    bool overflow;
};

static void put(struct out *o, const char *s, size_t len)
{
    if (o->overflow || len > o->size - o->n) {
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->n, s, len);
    o->n += len;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

#define MAX_TOKENS 32

/* The header names listed by the Connection and Proxy-Connection headers. */
static size_t connection_tokens(const char *buf, const struct sbx__http_head *h,
                                struct sbx__span *tokens)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_headers; i++) {
        if (!span_is(buf, h->names[i], "connection") &&
            !span_is(buf, h->names[i], "proxy-connection"))
            continue;
        size_t p = h->values[i].off, e = p + h->values[i].len;
        while (p < e && n < MAX_TOKENS) {
            while (p < e && (buf[p] == ',' || buf[p] == ' ' || buf[p] == '\t'))
                p++;
            size_t s = p;
            while (p < e && buf[p] != ',' && buf[p] != ' ' && buf[p] != '\t')
                p++;
            if (p > s)
                tokens[n++] = span(s, p - s);
        }
    }
    return n;
}

static bool dropped(const char *buf, const struct sbx__http_head *h, size_t i,
                    const char *const *fixed, const struct sbx__span *tokens, size_t n_tokens)
{
    for (const char *const *f = fixed; *f; f++)
        if (span_is(buf, h->names[i], *f))
            return true;
    for (size_t t = 0; t < n_tokens; t++)
        if (h->names[i].len == tokens[t].len &&
            strncasecmp(buf + h->names[i].off, buf + tokens[t].off, tokens[t].len) == 0)
            return true;
    return false;
}

static void put_headers(struct out *o, const char *buf, const struct sbx__http_head *h,
                        const char *const *fixed)
{
    struct sbx__span tokens[MAX_TOKENS];
    size_t n_tokens = connection_tokens(buf, h, tokens);
    for (size_t i = 0; i < h->n_headers; i++) {
        if (dropped(buf, h, i, fixed, tokens, n_tokens))
            continue;
        put(o, buf + h->names[i].off, h->names[i].len);
        puts_(o, ": ");
        put(o, buf + h->values[i].off, h->values[i].len);
        puts_(o, "\r\n");
    }
    puts_(o, "Connection: close\r\n\r\n");
}

size_t sbx__http_rewrite_request(const char *buf, const struct sbx__http_head *req, char *out,
                                 size_t size)
{
    /* Hop-by-hop headers (RFC 9110, 7.6.1), and Host, which the target
     * replaces. Transfer-Encoding stays: the body is relayed as it is. */
    static const char *const hop[] = {
        "host",    "connection", "proxy-connection",    "keep-alive", "te",
        "trailer", "upgrade",    "proxy-authorization", NULL};
    struct out o = {out, size, 0, false};
    put(&o, buf + req->method.off, req->method.len);
    puts_(&o, " ");
    if (req->path_slash)
        puts_(&o, "/");
    put(&o, buf + req->path.off, req->path.len);
    puts_(&o, req->minor ? " HTTP/1.1\r\nHost: " : " HTTP/1.0\r\nHost: ");
    bool v6 = req->target.is_addr && !IN6_IS_ADDR_V4MAPPED(&req->target.addr);
    if (v6)
        puts_(&o, "[");
    puts_(&o, req->target.host);
    if (v6)
        puts_(&o, "]");
    if (req->target.port != 80) {
        char port[8];
        size_t n = 0;
        char digits[6];
        unsigned v = req->target.port;
        do
            digits[n++] = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        port[0] = ':';
        for (size_t i = 0; i < n; i++)
            port[1 + i] = digits[n - 1 - i];
        put(&o, port, n + 1);
    }
    puts_(&o, "\r\n");
    put_headers(&o, buf, req, hop);
    return o.overflow ? 0 : o.n;
}

int sbx__http_parse_response(const char *buf, size_t len, struct sbx__http_head *resp,
                             const char **why)
{
    memset(resp, 0, sizeof(*resp));
    *why = "";
    if (len > SBX__HEAD_MAX)
        len = SBX__HEAD_MAX;
    /* Fail early on what cannot become a status line. */
    static const char proto[] = "HTTP/1.";
    size_t cmp = len < 7 ? len : 7;
    if (memcmp(buf, proto, cmp) != 0) {
        *why = "the response does not start with HTTP/1.";
        return -SBX__BR_BAD_RESPONSE;
    }
    size_t end = sbx__http_head_end(buf, len, 0);
    if (end == 0) {
        if (len >= SBX__HEAD_MAX) {
            *why = "no end of the response head within 16 KiB";
            return -SBX__BR_BAD_RESPONSE;
        }
        return 0;
    }
    size_t pos = 0, s, e;
    if (!next_line(buf, end, &pos, &s, &e) || e - s < 12 || (buf[7] != '0' && buf[7] != '1') ||
        buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
        buf[11] < '0' || buf[11] > '9' || (e - s > 12 && buf[12] != ' ')) {
        *why = "a status line that is not HTTP/1.x NNN REASON";
        return -SBX__BR_BAD_RESPONSE;
    }
    for (size_t j = s; j < e; j++)
        if ((unsigned char)buf[j] < 0x20 && buf[j] != '\t') {
            *why = "a control character in the status line";
            return -SBX__BR_BAD_RESPONSE;
        }
    resp->minor = buf[7] - '0';
    resp->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    resp->status_line = span(s, e - s);
    return parse_headers(buf, end, pos, resp, SBX__BR_BAD_RESPONSE, why);
}

size_t sbx__http_rewrite_response(const char *buf, const struct sbx__http_head *resp, char *out,
                                  size_t size)
{
    static const char *const hop[] = {"connection", "proxy-connection", "keep-alive",
                                      "upgrade",    "trailer",          NULL};
    struct out o = {out, size, 0, false};
    put(&o, buf + resp->status_line.off, resp->status_line.len);
    puts_(&o, "\r\n");
    put_headers(&o, buf, resp, hop);
    return o.overflow ? 0 : o.n;
}

int sbx__http_status(enum sbx__broker_reason r, const char **phrase)
{
    switch (r) {
    case SBX__BR_MALFORMED:
    case SBX__BR_BAD_NAME: *phrase = "Bad Request"; return 400;
    case SBX__BR_TIMEOUT: *phrase = "Request Timeout"; return 408;
    case SBX__BR_TOO_LARGE: *phrase = "Request Header Fields Too Large"; return 431;
    case SBX__BR_UNSUPPORTED: *phrase = "Not Implemented"; return 501;
    case SBX__BR_CONCURRENT:
    case SBX__BR_CONN_QUOTA:
    case SBX__BR_BYTES_QUOTA: *phrase = "Too Many Requests"; return 429;
    case SBX__BR_RESOURCES: *phrase = "Service Unavailable"; return 503;
    case SBX__BR_RESOLVE:
    case SBX__BR_CONNECT:
    case SBX__BR_BAD_RESPONSE: *phrase = "Bad Gateway"; return 502;
    case SBX__BR_CONNECT_TIMEOUT: *phrase = "Gateway Timeout"; return 504;
    default: *phrase = "Forbidden"; return 403;
    }
}

/* ---- SOCKS5 ---------------------------------------------------------------------- */

int sbx__socks5_parse_greeting(const uint8_t *buf, size_t len, bool *noauth, const char **why)
{
    *noauth = false;
    *why = "";
    if (len < 1)
        return 0;
    if (buf[0] == 4) {
        *why = "SOCKS4 (only SOCKS5 is served)";
        return -SBX__BR_UNSUPPORTED;
    }
    if (buf[0] != 5) {
        *why = "not a SOCKS5 greeting";
        return -SBX__BR_MALFORMED;
    }
    if (len < 2)
        return 0;
    if (buf[1] == 0) {
        *why = "a SOCKS5 greeting with no method";
        return -SBX__BR_MALFORMED;
    }
    if (len < 2u + buf[1])
        return 0;
    for (size_t i = 0; i < buf[1]; i++)
        if (buf[2 + i] == 0)
            *noauth = true;
    return 2 + buf[1];
}

int sbx__socks5_parse_request(const uint8_t *buf, size_t len, struct sbx__target *t, uint8_t *reply,
                              const char **why)
{
    memset(t, 0, sizeof(*t));
    *why = "";
    *reply = 0x01;
    if (len < 4)
        return 0;
    if (buf[0] != 5 || buf[2] != 0) {
        *why = "not a SOCKS5 request";
        return -SBX__BR_MALFORMED;
    }
    size_t need;
    switch (buf[3]) {
    case 1: need = 4 + 4 + 2; break;
    case 4: need = 4 + 16 + 2; break;
    case 3:
        if (len < 5)
            return 0;
        if (buf[4] == 0) {
            *why = "an empty domain name";
            return -SBX__BR_MALFORMED;
        }
        need = 5 + buf[4] + 2;
        break;
    default:
        *why = "a SOCKS5 address type other than IPv4, domain name and IPv6";
        *reply = 0x08;
        return -SBX__BR_UNSUPPORTED;
    }
    if (len < need)
        return 0;
    if (buf[1] != 1) {
        *why = buf[1] == 2   ? "SOCKS5 BIND (only CONNECT is served)"
               : buf[1] == 3 ? "SOCKS5 UDP ASSOCIATE (only CONNECT is served)"
                             : "an unknown SOCKS5 command";
        *reply = 0x07;
        return -SBX__BR_UNSUPPORTED;
    }
    uint16_t port = (uint16_t)(buf[need - 2] << 8 | buf[need - 1]);
    if (port == 0) {
        *why = "port 0";
        return -SBX__BR_MALFORMED;
    }
    enum sbx__broker_reason r;
    if (buf[3] == 3) {
        r = sbx__target_parse((const char *)buf + 5, buf[4], false, false, port, t, why);
    } else {
        t->is_addr = true;
        t->port = port;
        if (buf[3] == 1) {
            memset(&t->addr, 0, sizeof(t->addr));
            t->addr.s6_addr[10] = t->addr.s6_addr[11] = 0xff;
            memcpy(&t->addr.s6_addr[12], buf + 4, 4);
        } else {
            memcpy(&t->addr, buf + 4, 16);
        }
        sbx__addr_text(&t->addr, t->host);
        r = SBX__BR_OK;
    }
    if (r != SBX__BR_OK) {
        *reply = sbx__socks5_reply_code(r);
        return -(int)r;
    }
    *reply = 0;
    return (int)need;
}

uint8_t sbx__socks5_reply_code(enum sbx__broker_reason r)
{
    switch (r) {
    case SBX__BR_OK: return 0x00;
    case SBX__BR_NOT_ALLOWED:
    case SBX__BR_PORT:
    case SBX__BR_DENIED:
    case SBX__BR_LITERAL:
    case SBX__BR_ADDRESS:
    case SBX__BR_PEER:
    case SBX__BR_CONN_QUOTA:
    case SBX__BR_BYTES_QUOTA:
    case SBX__BR_CONCURRENT: return 0x02;      /* connection not allowed by ruleset */
    case SBX__BR_RESOLVE: return 0x04;         /* host unreachable */
    case SBX__BR_CONNECT: return 0x05;         /* connection refused */
    case SBX__BR_CONNECT_TIMEOUT: return 0x06; /* TTL expired */
    case SBX__BR_UNSUPPORTED: return 0x07;     /* command not supported */
    default: return 0x01;                      /* general failure */
    }
}
