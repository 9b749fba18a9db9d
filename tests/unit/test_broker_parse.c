/* Unit tests of the egress broker's parsers (lib/broker_parse.c, internal):
 * HTTP proxy requests and their rewriting, responses, SOCKS5 greetings and
 * requests, on good and bad input. */
#include <errno.h>

#include <agentsbx/agentsbx.h>

#include "broker_proto.h"
#include "testutil.h"

/* Parse a request given as a C string. */
static int request(const char *text, struct sbx__http_head *h, const char **why)
{
    return sbx__http_parse_request(text, strlen(text), h, why);
}

/* The request must be refused with `reason`, the explanation naming `needle`. */
static void assert_refused(const char *text, enum sbx__broker_reason reason, const char *needle)
{
    struct sbx__http_head h;
    const char *why = NULL;
    int rc = request(text, &h, &why);
    if (rc != -(int)reason || !why || !strstr(why, needle))
        fail_msg("'%s': %d (%s), expected -%d (%s) naming '%s'", text, rc, why ? why : "",
                 (int)reason, sbx__broker_reason_name(reason), needle);
}

/* The rewritten request (or response) as a string (static buffer). */
static const char *rewrite(const char *text, const struct sbx__http_head *h, bool response)
{
    static char out[SBX__HEAD_MAX + SBX__HTTP_REWRITE_EXTRA + 1];
    size_t n = response ? sbx__http_rewrite_response(text, h, out, sizeof(out) - 1)
                        : sbx__http_rewrite_request(text, h, out, sizeof(out) - 1);
    assert_true(n > 0);
    out[n] = '\0';
    return out;
}

/* ---- requests ---------------------------------------------------------------------- */

static void test_broker_parse__connect(void **state)
{
    struct sbx__http_head h;
    const char *why;
    const char *text = "CONNECT PyPI.org.:443 HTTP/1.1\r\nHost: pypi.org:443\r\n"
                       "User-Agent: curl/7.88.1\r\nProxy-Connection: Keep-Alive\r\n\r\n";
    assert_int_equal(request(text, &h, &why), (int)strlen(text));
    assert_true(h.connect);
    assert_int_equal(h.minor, 1);
    assert_string_equal(h.target.host, "pypi.org");
    assert_false(h.target.is_addr);
    assert_int_equal(h.target.port, 443);
    assert_int_equal(h.n_headers, 3);

    /* Early tunnel data after the head is not part of it. */
    const char *early = "CONNECT [::1]:8443 HTTP/1.0\n\n\x16\x03\x01";
    assert_int_equal(request(early, &h, &why), (int)strlen(early) - 3);
    assert_true(h.target.is_addr);
    assert_string_equal(h.target.host, "::1");
    assert_int_equal(h.target.port, 8443);
    assert_int_equal(h.minor, 0);

    assert_int_equal(request("CONNECT 10.0.0.5:22 HTTP/1.1\r\n\r\n", &h, &why), 32);
    assert_true(h.target.is_addr);
    assert_string_equal(h.target.host, "10.0.0.5");
}

static void test_broker_parse__plain_request_rewritten(void **state)
{
    struct sbx__http_head h;
    const char *why;
    const char *text = "GET http://Example.COM./a/b?c=d HTTP/1.1\r\n"
                       "Host: wrong.example\r\n"
                       "Accept: */*\r\n"
                       "Connection: keep-alive, X-Secret\r\n"
                       "X-Secret: 1\r\n"
                       "Proxy-Authorization: Basic eDp5\r\n"
                       "Proxy-Connection: keep-alive\r\n"
                       "Keep-Alive: 5\r\n"
                       "TE: trailers\r\n"
                       "Upgrade: websocket\r\n"
                       "Transfer-Encoding: chunked\r\n"
                       "X-Empty:\r\n"
                       "X-Spaces:   padded value  \r\n"
                       "\r\n"
                       "5\r\nhello\r\n0\r\n\r\n";
    int rc = request(text, &h, &why);
    assert_int_equal(rc, (int)(strstr(text, "5\r\nhello") - text));
    assert_false(h.connect);
    assert_string_equal(h.target.host, "example.com");
    assert_int_equal(h.target.port, 80);
    assert_string_equal(rewrite(text, &h, false), "GET /a/b?c=d HTTP/1.1\r\n"
                                                  "Host: example.com\r\n"
                                                  "Accept: */*\r\n"
                                                  "Transfer-Encoding: chunked\r\n"
                                                  "X-Empty: \r\n"
                                                  "X-Spaces: padded value\r\n"
                                                  "Connection: close\r\n\r\n");

    /* Bare LF line ends, no path, a port, HTTP/1.0 */
    text = "\r\nPOST http://h.example:8080 HTTP/1.0\nContent-Length: 0\n\n";
    assert_int_equal(request(text, &h, &why), (int)strlen(text));
    assert_int_equal(h.target.port, 8080);
    assert_string_equal(rewrite(text, &h, false), "POST / HTTP/1.0\r\nHost: h.example:8080\r\n"
                                                  "Content-Length: 0\r\nConnection: close\r\n\r\n");

    text = "HEAD http://h.example?x=1 HTTP/1.1\r\n\r\n";
    assert_int_equal(request(text, &h, &why), (int)strlen(text));
    assert_string_equal(rewrite(text, &h, false),
                        "HEAD /?x=1 HTTP/1.1\r\nHost: h.example\r\nConnection: close\r\n\r\n");

    text = "GET http://[2001:db8::1]:81/x HTTP/1.1\r\n\r\n";
    assert_int_equal(request(text, &h, &why), (int)strlen(text));
    assert_true(h.target.is_addr);
    assert_string_equal(rewrite(text, &h, false),
                        "GET /x HTTP/1.1\r\nHost: [2001:db8::1]:81\r\nConnection: close\r\n\r\n");

    /* Too small an output buffer: 0, never a cut request. */
    char small[40];
    assert_int_equal(sbx__http_rewrite_request(text, &h, small, sizeof(small)), 0);
}

static void test_broker_parse__incomplete_request(void **state)
{
    struct sbx__http_head h;
    const char *why;
    const char *text = "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example\r\n\r\n";
    for (size_t n = 0; n < strlen(text); n++)
        if (sbx__http_parse_request(text, n, &h, &why) != 0)
            fail_msg("a prefix of %zu bytes is not incomplete", n);
    assert_int_equal(sbx__http_parse_request(text, strlen(text), &h, &why), (int)strlen(text));
    /* The end is found when the search resumes where it stopped. */
    size_t len = strlen(text);
    assert_int_equal(sbx__http_head_end(text, len - 1, 0), 0);
    assert_int_equal(sbx__http_head_end(text, len, len - 1), len);
    assert_int_equal(sbx__http_head_end(text, len - 2, 0), 0);
    assert_int_equal(sbx__http_head_end(text, len, len - 2), len);
    assert_int_equal(sbx__http_head_end("\r\n\r\n\r\n", 6, 0), 0); /* blank lines only */
}

static void test_broker_parse__bad_requests(void **state)
{
    assert_refused("CONNECT pypi.org HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "no port");
    assert_refused("CONNECT pypi.org:0 HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "port");
    assert_refused("CONNECT pypi.org:65536 HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "port");
    assert_refused("CONNECT pypi.org:44a HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "port");
    assert_refused("CONNECT ::1:443 HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "in brackets");
    assert_refused("CONNECT [::1 HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "without ']'");
    assert_refused("CONNECT [a.b]:443 HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "not an IPv6");
    assert_refused("CONNECT [::1]x HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "after ']'");
    assert_refused("CONNECT :443 HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "no host");
    assert_refused("CONNECT 127.1:443 HTTP/1.1\r\n\r\n", SBX__BR_BAD_NAME, "numeric host name");
    assert_refused("CONNECT a..b:443 HTTP/1.1\r\n\r\n", SBX__BR_BAD_NAME, "empty label");
    assert_refused("CONNECT a%2fb:443 HTTP/1.1\r\n\r\n", SBX__BR_BAD_NAME, "not allowed");
    assert_refused("GET / HTTP/1.1\r\nHost: a\r\n\r\n", SBX__BR_MALFORMED, "origin-form");
    assert_refused("OPTIONS * HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "origin-form");
    assert_refused("GET https://a.example/ HTTP/1.1\r\n\r\n", SBX__BR_UNSUPPORTED, "CONNECT");
    assert_refused("GET ftp://a.example/ HTTP/1.1\r\n\r\n", SBX__BR_UNSUPPORTED, "scheme");
    assert_refused("GET a.example HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "absolute http://");
    assert_refused("GET http://u:p@a.example/ HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "user info");
    assert_refused("GET http://a.example/#f HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "fragment");
    assert_refused("GET http:///x HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "no host");
    assert_refused("GET http://a.example/ HTTP/2.0\r\n\r\n", SBX__BR_UNSUPPORTED, "version");
    assert_refused("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", SBX__BR_UNSUPPORTED, "version");
    assert_refused("GET http://a.example/ HTTP/1.1 x\r\n\r\n", SBX__BR_MALFORMED, "request line");
    assert_refused("GET http://a.example/\r\n\r\n", SBX__BR_MALFORMED, "request line");
    assert_refused("GET  http://a.example/ HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "request line");
    assert_refused("GET\r\n\r\n", SBX__BR_MALFORMED, "request line");
    assert_refused("G(T http://a.example/ HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "request line");
    assert_refused("GET http://a.example/\tx HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "request line");
    assert_refused("GET http://a.ex\rample/ HTTP/1.1\r\n\r\n", SBX__BR_MALFORMED, "bare CR");
    assert_refused("CONNECT a.example:443 HTTP/1.1\r\n folded\r\n\r\n", SBX__BR_MALFORMED,
                   "line folding");
    assert_refused("CONNECT a.example:443 HTTP/1.1\r\nNoColon\r\n\r\n", SBX__BR_MALFORMED,
                   "NAME: VALUE");
    assert_refused("CONNECT a.example:443 HTTP/1.1\r\nName : v\r\n\r\n", SBX__BR_MALFORMED,
                   "NAME: VALUE");
    assert_refused("CONNECT a.example:443 HTTP/1.1\r\n: v\r\n\r\n", SBX__BR_MALFORMED,
                   "NAME: VALUE");
    assert_refused("CONNECT a.example:443 HTTP/1.1\r\nA: b\x01\r\n\r\n", SBX__BR_MALFORMED,
                   "control character");
    assert_refused("CONNECT a.example:443 HTTP/1.1\r\nA: b\rc\r\n\r\n", SBX__BR_MALFORMED,
                   "bare CR");
    assert_refused("\x16\x03\x01\x02\x01\n\n", SBX__BR_MALFORMED, "request line");

    struct sbx__http_head h;
    const char *why;
    /* A NUL in the request line. */
    static const char nul[] = "CONNECT a.example:443\0HTTP/1.1\r\n\r\n";
    assert_int_equal(sbx__http_parse_request(nul, sizeof(nul) - 1, &h, &why), -SBX__BR_MALFORMED);

    /* A name over 253 bytes: refused, and shown (printable, cut) in the target. */
    char big[SBX__HEAD_MAX + 64];
    strcpy(big, "CONNECT ");
    memset(big + 8, 'a', 300);
    strcpy(big + 308, ".example:443 HTTP/1.1\r\n\r\n");
    assert_int_equal(request(big, &h, &why), -SBX__BR_BAD_NAME);
    assert_non_null(strstr(why, "longer than 253"));
    assert_int_equal(strlen(h.target.host), SBX__NAME_MAX);
    assert_int_equal(strncmp(h.target.host, "aaaa", 4), 0);
    assert_string_equal(h.target.host + SBX__NAME_MAX - 3, "...");

    /* 101 header lines */
    size_t n = (size_t)sprintf(big, "CONNECT a.example:443 HTTP/1.1\r\n");
    for (int i = 0; i <= SBX__HTTP_HEADERS_MAX; i++)
        n += (size_t)sprintf(big + n, "X-%d: v\r\n", i);
    strcpy(big + n, "\r\n");
    assert_int_equal(request(big, &h, &why), -SBX__BR_TOO_LARGE);
    assert_non_null(strstr(why, "more than 100 header lines"));

    /* 16 KiB without the end of the head */
    n = (size_t)sprintf(big, "CONNECT a.example:443 HTTP/1.1\r\nX: ");
    memset(big + n, 'v', SBX__HEAD_MAX - n);
    assert_int_equal(sbx__http_parse_request(big, SBX__HEAD_MAX - 1, &h, &why), 0);
    assert_int_equal(sbx__http_parse_request(big, SBX__HEAD_MAX, &h, &why), -SBX__BR_TOO_LARGE);
    assert_non_null(strstr(why, "16 KiB"));
}

/* ---- responses --------------------------------------------------------------------- */

static void test_broker_parse__responses(void **state)
{
    struct sbx__http_head h;
    const char *why;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\n"
                       "X-Hop: 1\r\nKeep-Alive: timeout=5\r\nServer: t\r\n\r\nhello";
    assert_int_equal(sbx__http_parse_response(text, strlen(text), &h, &why), (int)strlen(text) - 5);
    assert_int_equal(h.status, 200);
    assert_string_equal(rewrite(text, &h, true), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                                 "Server: t\r\nConnection: close\r\n\r\n");
    text = "HTTP/1.0 204\n\n";
    assert_int_equal(sbx__http_parse_response(text, strlen(text), &h, &why), (int)strlen(text));
    assert_int_equal(h.status, 204);
    assert_string_equal(rewrite(text, &h, true), "HTTP/1.0 204\r\nConnection: close\r\n\r\n");
    text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
    assert_int_equal(sbx__http_parse_response(text, strlen(text), &h, &why), 25);
    assert_int_equal(h.status, 100);
    /* incomplete */
    text = "HTTP/1.1 200 OK\r\nA: b\r\n";
    for (size_t n = 0; n <= strlen(text); n++)
        assert_int_equal(sbx__http_parse_response(text, n, &h, &why), 0);
    /* bad */
    static const char *const bad[] = {
        "SSH-2.0-OpenSSH_9.2\r\n",
        "HTTP/2 200\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 600 X\r\n\r\n",
        "HTTP/1.1 200 OK\x01\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sbx__http_parse_response(bad[i], strlen(bad[i]), &h, &why) != -SBX__BR_BAD_RESPONSE)
            fail_msg("'%s' is not refused", bad[i]);
    char big[SBX__HEAD_MAX];
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(big + 20, 'v', sizeof(big) - 20);
    assert_int_equal(sbx__http_parse_response(big, sizeof(big), &h, &why), -SBX__BR_BAD_RESPONSE);
    assert_non_null(strstr(why, "16 KiB"));
}

/* ---- SOCKS5 ------------------------------------------------------------------------ */

static void test_broker_parse__socks5_greeting(void **state)
{
    bool noauth;
    const char *why;
    assert_int_equal(sbx__socks5_parse_greeting((const uint8_t *)"\x05\x01\x00", 3, &noauth, &why),
                     3);
    assert_true(noauth);
    assert_int_equal(
        sbx__socks5_parse_greeting((const uint8_t *)"\x05\x02\x02\x00x", 5, &noauth, &why), 4);
    assert_true(noauth);
    assert_int_equal(
        sbx__socks5_parse_greeting((const uint8_t *)"\x05\x02\x01\x02", 4, &noauth, &why), 4);
    assert_false(noauth);
    assert_int_equal(sbx__socks5_parse_greeting((const uint8_t *)"", 0, &noauth, &why), 0);
    assert_int_equal(sbx__socks5_parse_greeting((const uint8_t *)"\x05", 1, &noauth, &why), 0);
    assert_int_equal(sbx__socks5_parse_greeting((const uint8_t *)"\x05\x03\x00", 3, &noauth, &why),
                     0);
    assert_int_equal(
        sbx__socks5_parse_greeting((const uint8_t *)"\x04\x01\x00\x50", 4, &noauth, &why),
        -SBX__BR_UNSUPPORTED);
    assert_non_null(strstr(why, "SOCKS4"));
    assert_int_equal(sbx__socks5_parse_greeting((const uint8_t *)"\x05\x00", 2, &noauth, &why),
                     -SBX__BR_MALFORMED);
    assert_int_equal(sbx__socks5_parse_greeting((const uint8_t *)"GET", 3, &noauth, &why),
                     -SBX__BR_MALFORMED);
}

static int socks_request(const void *buf, size_t len, struct sbx__target *t, uint8_t *reply,
                         const char **why)
{
    return sbx__socks5_parse_request(buf, len, t, reply, why);
}

static void test_broker_parse__socks5_request(void **state)
{
    struct sbx__target t;
    uint8_t reply;
    const char *why;
    static const uint8_t domain[] = "\x05\x01\x00\x03\x08PyPI.org\x01\xbb";
    for (size_t n = 0; n < sizeof(domain) - 1; n++)
        assert_int_equal(socks_request(domain, n, &t, &reply, &why), 0);
    assert_int_equal(socks_request(domain, sizeof(domain) - 1, &t, &reply, &why), 15);
    assert_string_equal(t.host, "pypi.org");
    assert_false(t.is_addr);
    assert_int_equal(t.port, 443);
    assert_int_equal(reply, 0);

    static const uint8_t v4[] = "\x05\x01\x00\x01\x0a\x00\x00\x05\x00\x50";
    assert_int_equal(socks_request(v4, 10, &t, &reply, &why), 10);
    assert_true(t.is_addr);
    assert_string_equal(t.host, "10.0.0.5");
    assert_int_equal(t.port, 80);

    uint8_t v6[22] = {5, 1, 0, 4};
    v6[19] = 1;
    v6[20] = 0x1f;
    v6[21] = 0x90;
    assert_int_equal(socks_request(v6, 22, &t, &reply, &why), 22);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 8080);

    /* A literal given as a domain is a literal too. */
    static const uint8_t lit[] = "\x05\x01\x00\x03\x09"
                                 "127.0.0.1\x00\x50";
    assert_int_equal(socks_request(lit, sizeof(lit) - 1, &t, &reply, &why), 16);
    assert_true(t.is_addr);

    static const uint8_t bind[] = "\x05\x02\x00\x01\x0a\x00\x00\x05\x00\x50";
    assert_int_equal(socks_request(bind, 10, &t, &reply, &why), -SBX__BR_UNSUPPORTED);
    assert_int_equal(reply, 0x07);
    assert_non_null(strstr(why, "BIND"));
    static const uint8_t udp[] = "\x05\x03\x00\x01\x0a\x00\x00\x05\x00\x50";
    assert_int_equal(socks_request(udp, 10, &t, &reply, &why), -SBX__BR_UNSUPPORTED);
    assert_int_equal(reply, 0x07);
    assert_non_null(strstr(why, "UDP ASSOCIATE"));
    static const uint8_t atyp[] = "\x05\x01\x00\x05\x00";
    assert_int_equal(socks_request(atyp, 5, &t, &reply, &why), -SBX__BR_UNSUPPORTED);
    assert_int_equal(reply, 0x08);
    static const uint8_t empty[] = "\x05\x01\x00\x03\x00\x00\x50";
    assert_int_equal(socks_request(empty, 7, &t, &reply, &why), -SBX__BR_MALFORMED);
    assert_int_equal(reply, 0x01);
    static const uint8_t rsv[] = "\x05\x01\x01\x01\x0a\x00\x00\x05\x00\x50";
    assert_int_equal(socks_request(rsv, 10, &t, &reply, &why), -SBX__BR_MALFORMED);
    static const uint8_t port0[] = "\x05\x01\x00\x01\x0a\x00\x00\x05\x00\x00";
    assert_int_equal(socks_request(port0, 10, &t, &reply, &why), -SBX__BR_MALFORMED);
    static const uint8_t badname[] = "\x05\x01\x00\x03\x04"
                                     "a..b\x00\x50";
    assert_int_equal(socks_request(badname, 11, &t, &reply, &why), -SBX__BR_BAD_NAME);
    assert_int_equal(reply, 0x01);
    assert_string_equal(t.host, "a..b");

    uint8_t longname[5 + 255 + 2] = {5, 1, 0, 3, 255};
    memset(longname + 5, 'a', 255);
    longname[5 + 255 + 1] = 80;
    assert_int_equal(socks_request(longname, sizeof(longname), &t, &reply, &why),
                     -SBX__BR_BAD_NAME);
    assert_non_null(strstr(why, "longer than 253"));
}

static void test_broker_parse__reply_codes(void **state)
{
    const char *phrase;
    assert_int_equal(sbx__socks5_reply_code(SBX__BR_NOT_ALLOWED), 0x02);
    assert_int_equal(sbx__socks5_reply_code(SBX__BR_ADDRESS), 0x02);
    assert_int_equal(sbx__socks5_reply_code(SBX__BR_RESOLVE), 0x04);
    assert_int_equal(sbx__socks5_reply_code(SBX__BR_CONNECT), 0x05);
    assert_int_equal(sbx__socks5_reply_code(SBX__BR_MALFORMED), 0x01);
    assert_int_equal(sbx__http_status(SBX__BR_NOT_ALLOWED, &phrase), 403);
    assert_string_equal(phrase, "Forbidden");
    assert_int_equal(sbx__http_status(SBX__BR_MALFORMED, &phrase), 400);
    assert_int_equal(sbx__http_status(SBX__BR_TOO_LARGE, &phrase), 431);
    assert_int_equal(sbx__http_status(SBX__BR_TIMEOUT, &phrase), 408);
    assert_int_equal(sbx__http_status(SBX__BR_CONN_QUOTA, &phrase), 429);
    assert_int_equal(sbx__http_status(SBX__BR_RESOLVE, &phrase), 502);
    assert_int_equal(sbx__http_status(SBX__BR_CONNECT_TIMEOUT, &phrase), 504);
    char out[8];
    sbx__printable("a\x01\xff b", 5, out, sizeof(out));
    assert_string_equal(out, "a?\?\?b");
    sbx__printable("abcdefghij", 10, out, sizeof(out));
    assert_string_equal(out, "abcd...");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_broker_parse__connect),
    cmocka_unit_test(test_broker_parse__plain_request_rewritten),
    cmocka_unit_test(test_broker_parse__incomplete_request),
    cmocka_unit_test(test_broker_parse__bad_requests),
    cmocka_unit_test(test_broker_parse__responses),
    cmocka_unit_test(test_broker_parse__socks5_greeting),
    cmocka_unit_test(test_broker_parse__socks5_request),
    cmocka_unit_test(test_broker_parse__reply_codes),
};
SBX_TEST_MAIN(tests)
