/* The egress broker's protocol parsers (broker_parse.c): HTTP/1.x proxy
 * requests and responses, and SOCKS5. Pure functions of their input: no
 * system call, no allocation; unit-tested and fuzzed on their own. */
#ifndef SBX_BROKER_PROTO_H
#define SBX_BROKER_PROTO_H

#include "broker.h"

#define SBX__HTTP_HEADERS_MAX 100 /* header lines in a head */
/* What a rewritten head may add to the original: the Host and Connection
 * lines, a '/', and a CR for each line that ended with a bare LF. */
#define SBX__HTTP_REWRITE_EXTRA (SBX__NAME_MAX + 64 + SBX__HTTP_HEADERS_MAX + 8)

/* A request's destination. */
struct sbx__target {
    char host[SBX__NAME_MAX + 1]; /* normalised name or the literal's text; when the name is
                                     not valid, the raw text made printable (for reports) */
    bool is_addr;
    struct in6_addr addr; /* is_addr */
    uint16_t port;
};

/* A span of the parsed buffer. */
struct sbx__span {
    uint16_t off, len;
};

struct sbx__http_head {
    size_t head_len; /* bytes of the head, blank line included */
    int minor;       /* HTTP/1.minor */
    /* requests */
    bool connect;
    struct sbx__span method;
    struct sbx__span path; /* origin form, from the absolute URI (plain requests) */
    bool path_slash;       /* the path must be preceded by '/' (an empty path, or "?query") */
    struct sbx__target target;
    /* responses */
    int status;
    struct sbx__span status_line; /* without its line end */
    struct sbx__span names[SBX__HTTP_HEADERS_MAX], values[SBX__HTTP_HEADERS_MAX];
    size_t n_headers;
};

/* Where the head in buf[0..len) ends (just past its blank line), or 0 when
 * it has not ended yet. `from`: bytes already searched by an earlier call
 * (the search restarts a little before, so that a line end split across
 * calls is found). */
SBX__HIDDEN size_t sbx__http_head_end(const char *buf, size_t len, size_t from);

/* Parse a proxy request head (CONNECT host:port, or METHOD http://host/...).
 * Returns the head length (> 0), 0 when buf holds no complete head yet, or
 * -reason (enum sbx__broker_reason: MALFORMED, BAD_NAME, TOO_LARGE,
 * UNSUPPORTED) with *why a static explanation. When the host is not a valid
 * name, req->target.host holds its printable form. */
SBX__HIDDEN int sbx__http_parse_request(const char *buf, size_t len, struct sbx__http_head *req,
                                        const char **why);
/* Write the request for the server: origin-form target, a Host line for the
 * target, the end-to-end headers (hop-by-hop ones dropped, and those the
 * Connection header lists), `Connection: close`. Returns the length, or 0
 * when size is too small (head_len + SBX__HTTP_REWRITE_EXTRA is enough). */
SBX__HIDDEN size_t sbx__http_rewrite_request(const char *buf, const struct sbx__http_head *req,
                                             char *out, size_t size);
/* Parse a response head: as sbx__http_parse_request, -SBX__BR_BAD_RESPONSE
 * on anything that is not HTTP/1.x. */
SBX__HIDDEN int sbx__http_parse_response(const char *buf, size_t len, struct sbx__http_head *resp,
                                         const char **why);
/* Write the response head for the client: hop-by-hop headers dropped,
 * `Connection: close` added. As sbx__http_rewrite_request for the size. */
SBX__HIDDEN size_t sbx__http_rewrite_response(const char *buf, const struct sbx__http_head *resp,
                                              char *out, size_t size);

/* SOCKS5 (RFC 1928). The greeting: the consumed length (> 0), 0 when
 * incomplete, or -reason (MALFORMED, UNSUPPORTED for SOCKS4). *noauth: the
 * client offers "no authentication". */
SBX__HIDDEN int sbx__socks5_parse_greeting(const uint8_t *buf, size_t len, bool *noauth,
                                           const char **why);
/* The request: the consumed length (> 0), 0 when incomplete, or -reason
 * (MALFORMED, BAD_NAME, UNSUPPORTED) with *reply the SOCKS5 reply code to
 * send. t receives the destination (a domain is normalised; an IPv4 or IPv6
 * address type is a literal). */
SBX__HIDDEN int sbx__socks5_parse_request(const uint8_t *buf, size_t len, struct sbx__target *t,
                                          uint8_t *reply, const char **why);
/* The SOCKS5 reply code for a refusal or failure. */
SBX__HIDDEN uint8_t sbx__socks5_reply_code(enum sbx__broker_reason r);
/* The HTTP status for a refusal or failure, and its reason phrase. */
SBX__HIDDEN int sbx__http_status(enum sbx__broker_reason r, const char **phrase);

/* Parse a destination: an authority "host:port" (an IPv6 literal in
 * brackets; port_required: a port must be given, else default_port), or a
 * bare host (authority false; port given). SBX__BR_OK, or MALFORMED /
 * BAD_NAME with *why. */
SBX__HIDDEN enum sbx__broker_reason sbx__target_parse(const char *s, size_t len, bool authority,
                                                      bool port_required, uint16_t port,
                                                      struct sbx__target *t, const char **why);
/* Copy s[0..len) into out (size bytes) with every byte outside 0x21-0x7e
 * replaced by '?', and "..." at the end when it had to be cut. */
SBX__HIDDEN void sbx__printable(const char *s, size_t len, char *out, size_t size);

#endif /* SBX_BROKER_PROTO_H */
