/* Live tests of the egress broker's engine (lib/broker.c, internal): a broker
 * on a loopback port, driven by a thread of this test, in front of local
 * origin servers (tests/live/broker_origin.py, HTTP and TLS) reached by
 * names pinned with sbx_broker_resolve(); real clients (curl) through it.
 * Each allowed request works; refused ones (a name not granted, an IP
 * literal, the metadata address, a name resolving to loopback without a
 * pin, a denied name) get the refusal and the broker records the reason;
 * a byte quota stops a transfer; slow clients are bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "broker.h"
#include "live.h"

#define ORIGIN_PY SBX_SOURCE_DIR "/tests/live/broker_origin.py"

/* ---- helpers -------------------------------------------------------------------------- */

struct origin {
    pid_t pid;
    uint16_t port;
};

/* Start the origin server (TLS when cert is given); its port from its first line. */
static void origin_start(struct origin *o, const char *cert, const char *key)
{
    char *const tls[] = {"python3", ORIGIN_PY, (char *)cert, (char *)key, NULL};
    char *const plain[] = {"python3", ORIGIN_PY, NULL};
    char line[32];
    o->port = (uint16_t)start_server(cert ? tls : plain, &o->pid, line);
    if (o->port == 0)
        fail_msg("the origin server did not start (read '%s')", line);
}

static void origin_stop(struct origin *o)
{
    if (o->pid > 0) {
        kill(o->pid, SIGKILL);
        waitpid(o->pid, NULL, 0);
        o->pid = 0;
    }
}

struct bk {
    struct sbx__broker *b;
    pthread_t th;
    volatile int stop;
    uint16_t port;
};

static void *broker_loop(void *arg)
{
    struct bk *k = arg;
    while (!k->stop) {
        struct pollfd pfd = {.fd = sbx__broker_fd(k->b), .events = POLLIN};
        int64_t t = sbx__broker_timeout_ms(k->b);
        poll(&pfd, 1, t < 0 || t > 20 ? 20 : (int)t);
        if (sbx__broker_step(k->b) < 0)
            break;
    }
    return NULL;
}

/* A broker for cfg on 127.0.0.1, an ephemeral port, run by a thread. */
static void broker_start(struct bk *k, const struct sbx__egress_policy *cfg)
{
    memset(k, 0, sizeof(*k));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4096), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    k->port = ntohs(sa.sin_port);
    assert_sbx_ok(sbx__broker_new(cfg, fd, &k->b));
    assert_int_equal(pthread_create(&k->th, NULL, broker_loop, k), 0);
}

/* Stop the thread; the broker stays for its reports. */
static void broker_join(struct bk *k)
{
    k->stop = 1;
    pthread_join(k->th, NULL);
}

/* Run argv; its standard output in out (NUL-terminated); the exit status. */
static int run(char *const argv[], char *out, size_t size)
{
    return run_plain((const char *const *)argv, false, out, size);
}

/* curl through the broker: mode "-x" (HTTP proxy) or "--socks5-hostname". */
static int curl(const struct bk *k, const char *mode, const char *url, const char *cacert,
                char *out, size_t size)
{
    char proxy[64];
    snprintf(proxy, sizeof(proxy), "%s127.0.0.1:%u", strcmp(mode, "-x") == 0 ? "http://" : "",
             k->port);
    char *argv[16];
    int i = 0;
    argv[i++] = "curl";
    argv[i++] = "-sS";
    argv[i++] = "--max-time";
    argv[i++] = "20";
    argv[i++] = (char *)mode;
    argv[i++] = proxy;
    if (cacert) {
        argv[i++] = "--cacert";
        argv[i++] = (char *)cacert;
    }
    argv[i++] = "-w";
    argv[i++] = "|%{http_code}";
    argv[i++] = (char *)url;
    argv[i] = NULL;
    return run(argv, out, size);
}

static sbx_policy *origin_policy(const struct origin *o)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    char grant[64];
    snprintf(grant, sizeof(grant), "origin.test:%u", o->port);
    assert_sbx_ok(sbx_allow_host(p, grant));
    assert_sbx_ok(sbx_broker_resolve(p, "origin.test", "127.0.0.1"));
    return p;
}

/* The denial kept for host (and reason), or fail. */
static const struct sbx__broker_denial *denial_for(const struct bk *k, const char *host)
{
    const struct sbx__broker_denial *d;
    size_t n = sbx__broker_denials(k->b, &d);
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].host, host) == 0)
            return &d[i];
    fail_msg("no denial recorded for '%s' (%zu kept)", host, n);
    return NULL;
}

/* ---- cases ---------------------------------------------------------------------------- */

static void test_broker__http_and_socks5_allowed(void **state)
{
    (void)state;
    NEED_PROGRAM("curl");
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    struct bk k;
    broker_start(&k, p->egress);
    char url[128], out[1024], want[128];
    snprintf(url, sizeof(url), "http://origin.test:%u/a?b=1", o.port);
    snprintf(want, sizeof(want), "origin origin.test:%u /a?b=1\n|200", o.port);
    int rc = curl(&k, "-x", url, NULL, out, sizeof(out));
    int rc2 = -1;
    char out2[1024] = "";
    if (rc == 0)
        rc2 = curl(&k, "--socks5-hostname", url, NULL, out2, sizeof(out2));
    broker_join(&k);
    origin_stop(&o);
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
    assert_int_equal(rc2, 0);
    assert_string_equal(out2, want);
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    assert_int_equal(st.connections, 2);
    assert_int_equal(st.denied, 0);
    assert_int_equal(st.failed, 0);
    assert_true(st.bytes_up > 40 && st.bytes_down > 40);
    assert_int_equal(st.quota_hit, SBX__QUOTA_NONE);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

static void test_broker__connect_tls(void **state)
{
    (void)state;
    NEED_PROGRAM("curl");
    NEED_PROGRAM("openssl");
    char dir[] = "/tmp/sbx-broker-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cert[128], key[128];
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    char out[1024];
    int grc = make_test_cert(cert, key, "origin.test", "DNS:origin.test", out, sizeof(out));
    struct origin o = {0};
    if (grc == 0)
        origin_start(&o, cert, key);
    sbx_policy *p = grc == 0 ? origin_policy(&o) : NULL;
    struct bk k;
    int rc = -1;
    char url[128], want[128];
    if (p) {
        broker_start(&k, p->egress);
        snprintf(url, sizeof(url), "https://origin.test:%u/tls", o.port);
        snprintf(want, sizeof(want), "origin origin.test:%u /tls\n|200", o.port);
        rc = curl(&k, "-x", url, cert, out, sizeof(out));
        broker_join(&k);
    }
    origin_stop(&o);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    assert_int_equal(grc, 0);
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.denied, 0);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

struct refusal {
    const char *mode, *url, *host,
        *address; /* url: the origin's port appended when it ends in ':' */
    enum sbx__broker_reason reason;
    const char *code; /* curl's %{http_code}: "403", or "000" for SOCKS5 */
};

static void test_broker__refusals_recorded(void **state)
{
    (void)state;
    NEED_PROGRAM("curl");
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    char grant[64];
    snprintf(grant, sizeof(grant), "localhost:%u", o.port); /* granted, not pinned */
    assert_sbx_ok(sbx_allow_host(p, grant));
    assert_sbx_ok(sbx_allow_host(p, "*.denied.test"));
    assert_sbx_ok(sbx_deny_host(p, "x.denied.test"));
    struct bk k;
    broker_start(&k, p->egress);
    const struct refusal cases[] = {
        {"-x", "http://other.test:", "other.test", "", SBX__BR_NOT_ALLOWED, "403"},
        {"-x", "http://127.0.0.1:", "127.0.0.1", "127.0.0.1", SBX__BR_LITERAL, "403"},
        {"-x", "http://169.254.169.254", "169.254.169.254", "169.254.169.254", SBX__BR_LITERAL,
         "403"},
        {"-x", "http://localhost:", "localhost", "127.0.0.1", SBX__BR_ADDRESS, "403"},
        {"-x", "http://x.denied.test", "x.denied.test", "", SBX__BR_DENIED, "403"},
        {"-x", "http://origin.test:1", "origin.test", "", SBX__BR_PORT, "403"},
        {"--socks5-hostname", "http://other.test:", "other.test", "", SBX__BR_NOT_ALLOWED, "000"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    char outs[8][512];
    int rcs[8];
    for (size_t i = 0; i < n; i++) {
        char url[128];
        size_t ul = strlen(cases[i].url);
        if (cases[i].url[ul - 1] == ':')
            snprintf(url, sizeof(url), "%s%u/", cases[i].url, o.port);
        else
            snprintf(url, sizeof(url), "%s/", cases[i].url);
        rcs[i] = curl(&k, cases[i].mode, url, NULL, outs[i], sizeof(outs[i]));
    }
    broker_join(&k);
    origin_stop(&o);
    for (size_t i = 0; i < n; i++) {
        const char *bar = strrchr(outs[i], '|');
        if (!bar || strcmp(bar + 1, cases[i].code) != 0)
            fail_msg("%s %s: curl %d, '%s'; expected code %s", cases[i].mode, cases[i].url, rcs[i],
                     outs[i], cases[i].code);
        if (cases[i].code[0] == '4' && !strstr(outs[i], sbx__broker_reason_name(cases[i].reason)))
            fail_msg("%s: the body '%s' does not name '%s'", cases[i].url, outs[i],
                     sbx__broker_reason_name(cases[i].reason));
    }
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    assert_int_equal(st.connections, 0);
    assert_int_equal(st.denied, n);
    assert_int_equal(st.bytes_up, 0);
    const struct sbx__broker_denial *d;
    assert_int_equal(sbx__broker_denials(k.b, &d), n);
    for (size_t i = 0; i < n; i++) {
        if (d[i].reason != cases[i].reason || strcmp(d[i].host, cases[i].host) != 0 ||
            strcmp(d[i].address, cases[i].address) != 0)
            fail_msg("denial %zu: host '%s' address '%s' reason %s; expected '%s' '%s' %s", i,
                     d[i].host, d[i].address, sbx__broker_reason_name(d[i].reason), cases[i].host,
                     cases[i].address, sbx__broker_reason_name(cases[i].reason));
    }
    assert_string_equal(denial_for(&k, "x.denied.test")->rule, "x.denied.test");
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

static void test_broker__byte_quota_stops_transfer(void **state)
{
    (void)state;
    NEED_PROGRAM("curl");
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    assert_sbx_ok(sbx_limit_network_bytes(p, SBX_UNLIMITED, 100000));
    struct bk k;
    broker_start(&k, p->egress);
    char url[128], out[256];
    snprintf(url, sizeof(url), "http://origin.test:%u/bytes/1000000", o.port);
    int rc = curl(&k, "-x", url, NULL, out, sizeof(out));
    snprintf(url, sizeof(url), "http://origin.test:%u/after", o.port);
    char out2[256];
    int rc2 = curl(&k, "-x", url, NULL, out2, sizeof(out2));
    broker_join(&k);
    origin_stop(&o);
    assert_int_not_equal(rc, 0); /* cut short */
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    assert_int_equal(st.quota_hit, SBX__QUOTA_BYTES_DOWN);
    assert_true(st.bytes_down <= 100000);
    assert_int_equal(st.by_reason[SBX__BR_BYTES_QUOTA], 2); /* the transfer, then the refusal */
    assert_int_equal(rc2, 0);
    assert_non_null(strstr(out2, "|429"));
    assert_non_null(strstr(out2, "byte quota exhausted"));
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

static void test_broker__slow_clients_bounded(void **state)
{
    (void)state;
    NEED_PROGRAM("curl");
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    assert_sbx_ok(sbx_limit_connections(p, SBX_UNLIMITED, 16));
    p->egress->header_timeout_ms = 1000;
    struct bk k;
    broker_start(&k, p->egress);
    /* 200 clients that send half a request and wait. */
    enum { SLOW = 200 };
    int fds[SLOW];
    for (int i = 0; i < SLOW; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons(k.port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
        (void)!write(fds[i], "GET http://origin.test", 22);
    }
    char url[128], out[256], want[128];
    snprintf(url, sizeof(url), "http://origin.test:%u/good", o.port);
    snprintf(want, sizeof(want), "origin origin.test:%u /good\n|200", o.port);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = curl(&k, "-x", url, NULL, out, sizeof(out));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    usleep(1500 * 1000); /* past the header deadline */
    broker_join(&k);
    origin_stop(&o);
    for (int i = 0; i < SLOW; i++)
        close(fds[i]);
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs > 5)
        fail_msg("the good client took %.1f s", secs);
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    assert_true(st.peak_open <= 17); /* the cap, and the one accepted before evicting */
    assert_int_equal(st.open, 0);
    assert_int_equal(st.by_reason[SBX__BR_EVICTED] + st.by_reason[SBX__BR_TIMEOUT], SLOW);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

/* ---- the relay: splice, the byte quota and the rate cap ------------------------------------ */

static int tcp_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
        assert_true(w > 0);
        off += (size_t)w;
    }
}

/* A CONNECT tunnel to host:port through the broker; fails unless it says 200. */
static int tunnel(const struct bk *k, const char *host, uint16_t port)
{
    int fd = tcp_to(k->port);
    char req[512], reply[512];
    int n = snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", host, port,
                     host, port);
    send_all(fd, req, (size_t)n);
    size_t got = 0;
    while (got < sizeof(reply) - 1) {
        ssize_t r = read(fd, reply + got, sizeof(reply) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        reply[got] = '\0';
        if (strstr(reply, "\r\n\r\n"))
            break;
    }
    reply[got] = '\0';
    if (strncmp(reply, "HTTP/1.1 200 ", 13) != 0 || !strstr(reply, "\r\n\r\n") ||
        strstr(reply, "\r\n\r\n")[4] != '\0')
        fail_msg("CONNECT %s:%u: '%s'", host, port, reply);
    return fd;
}

/* Read to the end (or a reset); the bytes read, the first ones in head. */
static uint64_t read_to_end(int fd, char *head, size_t head_size)
{
    static char buf[1 << 16];
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r <= 0)
            break;
        if (head && total < head_size - 1) {
            size_t n = (size_t)r < head_size - 1 - total ? (size_t)r : head_size - 1 - total;
            memcpy(head + total, buf, n);
            head[total + n] = '\0';
        }
        total += (uint64_t)r;
    }
    return total;
}

/* GET path from origin.test through a CONNECT tunnel (the request's other
 * header lines in extra, each ending in CRLF), read until the broker or the
 * server closes: the bytes read, the first head_size - 1 of them in head. */
static uint64_t get_through(const struct bk *k, uint16_t port, const char *path, const char *extra,
                            char *head, size_t head_size)
{
    int fd = tunnel(k, "origin.test", port);
    char req[256];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: origin.test\r\n%s\r\n", path, extra);
    send_all(fd, req, (size_t)n);
    uint64_t got = read_to_end(fd, head, head_size);
    close(fd);
    return got;
}

/* At least min bytes went through splice(2) (none with no_splice). */
static void expect_spliced(const struct sbx__broker_stats *st, bool no_splice, uint64_t min)
{
    if (no_splice)
        assert_int_equal(st->bytes_spliced, 0);
    else if (st->bytes_spliced < min)
        fail_msg("only %llu bytes spliced", (unsigned long long)st->bytes_spliced);
}

/* A sink on 127.0.0.1: accepts one connection, counts what it reads. */
struct sink {
    int lfd;
    uint16_t port;
    pthread_t th;
    uint64_t got;
};

static void *sink_loop(void *arg)
{
    struct sink *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd >= 0) {
        s->got = read_to_end(fd, NULL, 0);
        close(fd);
    }
    return NULL;
}

static void sink_start(struct sink *s)
{
    memset(s, 0, sizeof(*s));
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
    s->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, sink_loop, s), 0);
}

static void sink_join(struct sink *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
}

/* An odd quota well past a pipe's worth: the transfer is spliced long before. */
#define QUOTA_EXACT (3000000u + 12345u)

/* A download through a CONNECT tunnel, past the byte quota: the client gets
 * exactly the quota's bytes (the byte past it is never written), the broker
 * counts exactly those, and the transfer was spliced (no_splice: the same
 * through the buffers, nothing spliced: the control). */
static void quota_down(bool no_splice)
{
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    assert_sbx_ok(sbx_limit_network_bytes(p, SBX_UNLIMITED, QUOTA_EXACT));
    p->egress->no_splice = no_splice;
    struct bk k;
    broker_start(&k, p->egress);
    char head[64];
    uint64_t got = get_through(&k, o.port, "/bytes/20000000", "", head, sizeof(head));
    broker_join(&k);
    origin_stop(&o);
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    if (got != QUOTA_EXACT || st.bytes_down != QUOTA_EXACT)
        fail_msg("no_splice %d: the client got %llu bytes, the broker counted %llu; quota %u",
                 no_splice, (unsigned long long)got, (unsigned long long)st.bytes_down,
                 QUOTA_EXACT);
    assert_int_equal(strncmp(head, "HTTP/1.", 7), 0);
    assert_int_equal(st.quota_hit, SBX__QUOTA_BYTES_DOWN);
    assert_int_equal(st.by_reason[SBX__BR_BYTES_QUOTA], 1);
    assert_int_equal(st.open, 0);
    expect_spliced(&st, no_splice, QUOTA_EXACT / 2);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

static void test_broker__quota_exact_down_spliced(void **state)
{
    (void)state;
    quota_down(false);
    quota_down(true);
}

/* An upload past the byte quota: the server gets exactly the quota's bytes. */
static void quota_up(bool no_splice)
{
    struct sink s;
    sink_start(&s);
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    char grant[64];
    snprintf(grant, sizeof(grant), "sink.test:%u", s.port);
    assert_sbx_ok(sbx_allow_host(p, grant));
    assert_sbx_ok(sbx_broker_resolve(p, "sink.test", "127.0.0.1"));
    assert_sbx_ok(sbx_limit_network_bytes(p, QUOTA_EXACT, SBX_UNLIMITED));
    p->egress->no_splice = no_splice;
    struct bk k;
    broker_start(&k, p->egress);
    int fd = tunnel(&k, "sink.test", s.port);
    static char chunk[1 << 16];
    memset(chunk, 'u', sizeof(chunk));
    uint64_t sent = 0;
    while (sent < 20000000) { /* until the broker closes */
        ssize_t w = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (uint64_t)w;
    }
    close(fd);
    sink_join(&s);
    broker_join(&k);
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    if (s.got != QUOTA_EXACT || st.bytes_up != QUOTA_EXACT)
        fail_msg("no_splice %d: the server got %llu bytes, the broker counted %llu; quota %u "
                 "(%llu sent)",
                 no_splice, (unsigned long long)s.got, (unsigned long long)st.bytes_up, QUOTA_EXACT,
                 (unsigned long long)sent);
    assert_true(sent > QUOTA_EXACT);
    assert_int_equal(st.quota_hit, SBX__QUOTA_BYTES_UP);
    assert_int_equal(st.by_reason[SBX__BR_BYTES_QUOTA], 1);
    expect_spliced(&st, no_splice, QUOTA_EXACT / 2);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

static void test_broker__quota_exact_up_spliced(void **state)
{
    (void)state;
    quota_up(false);
    quota_up(true);
}

/* The rate cap holds for spliced bytes: 6 MB at 2 MB/s (with its 1 s burst)
 * takes at least 2 s, and the count is what the client got. */
static void test_broker__rate_cap_spliced(void **state)
{
    (void)state;
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    assert_sbx_ok(sbx_limit_network_rate(p, 2000000));
    struct bk k;
    broker_start(&k, p->egress);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t got = get_through(&k, o.port, "/bytes/6000000", "Connection: close\r\n", NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    broker_join(&k);
    origin_stop(&o);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    if (secs < 1.9 || secs > 15)
        fail_msg("6 MB at 2 MB/s took %.2f s", secs);
    assert_true(got > 6000000);
    assert_int_equal(st.bytes_down, got);
    expect_spliced(&st, false, 3000000);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

/* A client that leaves in the middle of a spliced download: the broker's
 * splice into its socket fails with EPIPE or ECONNRESET, and the SIGPIPE that
 * raises (splice has no MSG_NOSIGNAL) is the broker's, not the host's: this
 * process, with SIGPIPE's default action (death), lives on, and the broker
 * serves the next request. */
static void test_broker__client_leaves_mid_splice(void **state)
{
    (void)state;
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    struct sigaction dfl = {.sa_handler = SIG_DFL}, old;
    sigaction(SIGPIPE, &dfl, &old);
    struct bk k;
    broker_start(&k, p->egress);
    char req[256];
    enum { LEAVE = 8 };
    for (int i = 0; i < LEAVE; i++) {
        int fd = tunnel(&k, "origin.test", o.port);
        int n = snprintf(req, sizeof(req),
                         "GET /bytes/200000000 HTTP/1.1\r\nHost: origin.test\r\n\r\n");
        send_all(fd, req, (size_t)n);
        static char buf[1 << 16];
        size_t got = 0;
        while (got < 8000000) {
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (i % 2) { /* a reset rather than a close */
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(fd);
        assert_true(got >= 8000000);
        usleep(50 * 1000); /* the broker writes into the closed socket */
    }
    char reply[512] = "";
    get_through(&k, o.port, "/after", "Connection: close\r\n", reply, sizeof(reply));
    usleep(200 * 1000); /* the broker sees this close too */
    broker_join(&k);
    origin_stop(&o);
    sigaction(SIGPIPE, &old, NULL);
    if (strncmp(reply, "HTTP/1.0 200 ", 13) != 0 && strncmp(reply, "HTTP/1.1 200 ", 13) != 0)
        fail_msg("after: '%s'", reply);
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    assert_int_equal(st.connections, LEAVE + 1);
    assert_int_equal(st.open, 0);
    expect_spliced(&st, false, LEAVE * 4000000ull);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

/* A request head grows its buffer up to 16 KiB: a 12 KiB header is served;
 * 17 KiB without the head's end is refused (431) with the reason. */
static void test_broker__long_heads(void **state)
{
    (void)state;
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    struct bk k;
    broker_start(&k, p->egress);
    static char req[20000], filler[12001];
    memset(filler, 'f', sizeof(filler) - 1);
    int fd = tcp_to(k.port);
    int n = snprintf(req, sizeof(req),
                     "GET http://origin.test:%u/long HTTP/1.1\r\nHost: origin.test:%u\r\n"
                     "X-Filler: %s\r\nConnection: close\r\n\r\n",
                     o.port, o.port, filler);
    send_all(fd, req, (size_t)n);
    char ok[1024] = "";
    read_to_end(fd, ok, sizeof(ok));
    close(fd);
    fd = tcp_to(k.port);
    memset(req, 'g', 17 * 1024);
    memcpy(req, "GET http://origin.test/ HTTP/1.1\r\nX-Filler: ", 44);
    send_all(fd, req, 17 * 1024);
    char big[1024] = "";
    read_to_end(fd, big, sizeof(big));
    close(fd);
    broker_join(&k);
    origin_stop(&o);
    if (strncmp(ok, "HTTP/1.1 200 ", 13) != 0 || !strstr(ok, "/long"))
        fail_msg("a 12 KiB head: '%s'", ok);
    if (strncmp(big, "HTTP/1.1 431 ", 13) != 0 ||
        !strstr(big, "(no end of the head within 16 KiB)"))
        fail_msg("17 KiB without the end: '%s'", big);
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.by_reason[SBX__BR_TOO_LARGE], 1);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

/* A host name over 253 bytes, through the live broker: 400 with the reason,
 * recorded as a bad name (the parser's own tests: test_broker_parse.c). */
static void test_broker__long_name_refused(void **state)
{
    (void)state;
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_allow_host(p, "*.test"));
    struct bk k;
    broker_start(&k, p->egress);
    char name[300];
    memset(name, 'a', sizeof(name));
    memcpy(name + sizeof(name) - 6, ".test", 6); /* 294 bytes, labels of 63 and less */
    for (size_t i = 60; i < sizeof(name) - 6; i += 61)
        name[i] = '.';
    int fd = tcp_to(k.port);
    char req[512];
    int n = snprintf(req, sizeof(req), "CONNECT %s:443 HTTP/1.1\r\n\r\n", name);
    send_all(fd, req, (size_t)n);
    char reply[1024] = "";
    read_to_end(fd, reply, sizeof(reply));
    close(fd);
    broker_join(&k);
    if (strncmp(reply, "HTTP/1.1 400 ", 13) != 0 ||
        !strstr(reply, "X-Agentsbx-Reason: invalid host name\r\n") ||
        !strstr(reply, "(host name longer than 253 bytes)"))
        fail_msg("reply: '%s'", reply);
    const struct sbx__broker_denial *d;
    assert_int_equal(sbx__broker_denials(k.b, &d), 1);
    assert_int_equal(d[0].reason, SBX__BR_BAD_NAME);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The host out of descriptors: the broker makes room by evicting the oldest
 * connection still sending its request (with the reason); with none to
 * evict it stops accepting rather than spin on the listening socket, and
 * accepts again when descriptors are back. */
static void test_broker__out_of_descriptors(void **state)
{
    (void)state;
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = origin_policy(&o);
    struct bk k;
    broker_start(&k, p->egress);
    enum { HELD = 4 };
    int held[HELD];
    for (int i = 0; i < HELD; i++) {
        held[i] = tcp_to(k.port);
        send_all(held[i], "GET http://", 11);
    }
    /* Sockets made now, connected once descriptors are short (connect makes none). */
    int late = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int later = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(late >= 0 && later >= 0);
    usleep(200 * 1000); /* the held ones accepted */
    struct rlimit saved, rl;
    getrlimit(RLIMIT_NOFILE, &saved);
    int lowest = dup(0);
    assert_true(lowest >= 0);
    close(lowest);
    rl = saved;
    rl.rlim_cur = (rlim_t)lowest; /* no descriptor can be made */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(k.port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int crc = connect(late, (struct sockaddr *)&sa, sizeof(sa));
    usleep(200 * 1000); /* accepted in the place of the oldest held one */
    /* Nothing left to evict once the held ones are gone: close them. */
    for (int i = 1; i < HELD; i++)
        close(held[i]);
    send_all(late, "GET http://", 11);
    usleep(200 * 1000);
    int crc2 = connect(later, (struct sockaddr *)&sa, sizeof(sa));
    double cpu0 = cpu_secs();
    usleep(500 * 1000); /* paused or evicting `late`: no busy loop either way */
    double cpu = cpu_secs() - cpu0;
    setrlimit(RLIMIT_NOFILE, &saved);
    char first[1024] = "";
    read_to_end(held[0], first, sizeof(first));
    close(held[0]);
    /* Descriptors are back: `later` is served. */
    char req[256];
    int n = snprintf(req, sizeof(req),
                     "GET http://origin.test:%u/later HTTP/1.1\r\nHost: origin.test:%u\r\n"
                     "Connection: close\r\n\r\n",
                     o.port, o.port);
    send_all(later, req, (size_t)n);
    char reply[1024] = "";
    read_to_end(later, reply, sizeof(reply));
    close(later);
    close(late);
    broker_join(&k);
    origin_stop(&o);
    assert_int_equal(crc, 0);
    assert_int_equal(crc2, 0);
    if (!strstr(first, "X-Agentsbx-Reason: evicted at the connection limit\r\n") ||
        !strstr(first, "(evicted: the host is out of descriptors)"))
        fail_msg("the oldest held connection got '%s'", first);
    if (strncmp(reply, "HTTP/1.1 200 ", 13) != 0 || !strstr(reply, "/later"))
        fail_msg("the request after the shortage got '%s'", reply);
    if (cpu > 0.25)
        fail_msg("%.2f s of CPU in 0.5 s out of descriptors: a busy loop", cpu);
    struct sbx__broker_stats st;
    sbx__broker_stats(k.b, &st);
    assert_true(st.by_reason[SBX__BR_RESOURCES] >= 2);
    assert_true(st.by_reason[SBX__BR_EVICTED] >= 1);
    assert_int_equal(st.connections, 1);
    sbx__broker_free(k.b);
    sbx_policy_free(p);
}

/* ---- wired: a sandboxed child behind its broker ---------------------------------------- */

/* Landlock's TCP rules hold the child to the broker: without them host
 * grants are refused at spawn (tested apart). */
static void need_landlock_tcp(void)
{
    if (sbx_landlock_abi() < 4)
        SBX_SKIP("Landlock ABI %d: TCP rules need ABI 4", sbx_landlock_abi());
}

static sbx_policy *sandbox_policy(const struct origin *o)
{
    sbx_policy *p = policy_new();
    char grant[64];
    snprintf(grant, sizeof(grant), "origin.test:%u", o->port);
    assert_sbx_ok(sbx_allow_host(p, grant));
    assert_sbx_ok(sbx_broker_resolve(p, "origin.test", "127.0.0.1"));
    assert_sbx_ok(sbx_allow_tool(p, "curl"));
    return p;
}

static sbx_result *run_in(sbx_policy *p, const char *const *argv)
{
    sbx_result *r = NULL;
    int rc = sbx_run(p, argv, NULL, 0, &r);
    if (rc != 0)
        fail_msg("sbx_run(%s): %d (%s): %s", argv[0], rc, sbx_errname(rc), sbx_last_error());
    return r;
}

/* The audit log's lines, joined. */
struct audit_lines {
    char text[16384];
    size_t len;
};

static void on_audit(const char *line, size_t len, void *userdata)
{
    struct audit_lines *a = userdata;
    if (a->len + len + 1 < sizeof(a->text)) {
        memcpy(a->text + a->len, line, len);
        a->len += len;
        a->text[a->len] = '\0';
    }
}

/* curl in the sandbox reaches the granted name through the proxy variables
 * the library sets; a name not granted gets the broker's 403 and the result
 * records it; the counters are in the result and its JSON. */
static void test_broker__sandboxed_curl(void **state)
{
    (void)state;
    NEED_PROGRAM("curl");
    need_landlock_tcp();
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = sandbox_policy(&o);
    static struct audit_lines audit;
    assert_sbx_ok(sbx_set_audit_callback(p, on_audit, &audit));
    char url[128], want[128], other[128];
    snprintf(url, sizeof(url), "http://origin.test:%u/in", o.port);
    snprintf(other, sizeof(other), "http://other.test:%u/", o.port);
    snprintf(want, sizeof(want), "origin origin.test:%u /in\n|200|403", o.port);
    const char *const argv[] = {
        "curl", "-sS",           "-w", "|%{http_code}", url,   "-o", "/dev/stdout", "--next", "-sS",
        "-w",   "|%{http_code}", "-o", "/dev/null",     other, NULL};
    sbx_result *r = run_in(p, argv);
    origin_stop(&o);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), want);
    uint64_t up, down;
    assert_sbx_ok(sbx_result_network_bytes(r, &up, &down));
    if (up < 40 || down < 40 || sbx_result_network_connections(r) != 1)
        fail_msg("up %llu down %llu: %s", (unsigned long long)up, (unsigned long long)down,
                 describe(r));
    assert_int_equal(sbx_result_network_denied(r), 1);
    assert_string_equal(sbx_result_network_quota(r), "");
    assert_int_equal(sbx_result_network_denials(r), 1);
    const char *host, *reason;
    int port;
    assert_sbx_ok(sbx_result_network_denial(r, 0, &host, &port, &reason));
    assert_string_equal(host, "other.test");
    assert_int_equal(port, o.port);
    assert_string_equal(reason, "host not allowed");
    assert_sbx_error(sbx_result_network_denial(r, 1, &host, &port, &reason), -ERANGE,
                     "index 1, but 1 denied attempts are kept");
    assert_sbx_error(sbx_result_network_denial(r, 0, NULL, &port, &reason), -EINVAL, "ret_host");
    assert_sbx_error(sbx_result_network_bytes(r, NULL, &down), -EINVAL, "ret_up");
    assert_sbx_error(sbx_result_network_bytes(NULL, &up, &down), -EINVAL, "result");
    assert_int_equal(sbx_result_network_connections(NULL), 0);
    assert_int_equal(sbx_result_network_denied(NULL), 0);
    assert_int_equal(sbx_result_network_denials(NULL), 0);
    assert_string_equal(sbx_result_network_quota(NULL), "");
    /* An audit event per connection: the allowed one and the refused one. */
    char ev[256];
    snprintf(ev, sizeof(ev), "\"event\":\"connection\",\"time\":");
    const char *first = strstr(audit.text, ev);
    const char *second = first ? strstr(first + 1, ev) : NULL;
    if (!first || !second ||
        !strstr(audit.text, "\"protocol\":\"http\",\"host\":\"origin.test\",\"address\":"
                            "\"127.0.0.1\"") ||
        !strstr(audit.text, "\"allowed\":true,\"reason\":\"ok\"") ||
        !strstr(audit.text, "\"host\":\"other.test\"") ||
        !strstr(audit.text, "\"allowed\":false,\"reason\":\"host not allowed\""))
        fail_msg("audit log: %s", audit.text);
    char json[8192];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    if (!strstr(json, "\"connections\":1,") ||
        !strstr(json, "\"denied\":[{\"host\":\"other.test\""))
        fail_msg("the JSON lacks the network report: %s", json);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* A direct connection from a child of p to the origin's port is denied
 * (EACCES), and reaches it unconfined (the control); the origin stops. */
static void direct_denied_then_stop(sbx_policy *p, struct origin *o)
{
    char port[16];
    snprintf(port, sizeof(port), "%u", o->port);
    const char *const argv[] = {PROBE("probe_net"), "connect", port, NULL};
    sbx_result *r = run_in(p, argv);
    char out[256];
    char *control[] = {PROBE("probe_net"), "connect", port, NULL};
    int crc = run(control, out, sizeof(out));
    origin_stop(o);
    assert_status(r, SBX_STATUS_EXITED, 1);
    assert_string_equal(sbx_result_stdout(r, NULL), "denied EACCES\n");
    assert_int_equal(crc, 0);
    assert_string_equal(out, "ok\n");
    sbx_result_free(r);
}

/* The child cannot go around the broker: a direct TCP connect to a local
 * port fails under the policy (Landlock), and succeeds unconfined. */
static void test_broker__direct_connect_denied(void **state)
{
    (void)state;
    need_landlock_tcp();
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = sandbox_policy(&o);
    direct_denied_then_stop(p, &o);
    sbx_policy_free(p);
}

/* A byte quota ends the child with status network_limit. */
static void test_broker__sandboxed_quota(void **state)
{
    (void)state;
    NEED_PROGRAM("curl");
    need_landlock_tcp();
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = sandbox_policy(&o);
    assert_sbx_ok(sbx_limit_network_bytes(p, SBX_UNLIMITED, 100000));
    char url[128];
    snprintf(url, sizeof(url), "http://origin.test:%u/bytes/10000000", o.port);
    const char *const argv[] = {"curl", "-sS", "-o", "/dev/null", url, NULL};
    sbx_result *r = run_in(p, argv);
    origin_stop(&o);
    if (sbx_result_status(r) != SBX_STATUS_NETWORK_LIMIT)
        fail_msg("expected network_limit, got %s", describe(r));
    assert_string_equal(sbx_result_network_quota(r), "bytes_down");
    uint64_t up, down;
    assert_sbx_ok(sbx_result_network_bytes(r, &up, &down));
    assert_true(down <= 100000);
    assert_string_equal(sbx_status_name(SBX_STATUS_NETWORK_LIMIT), "network_limit");
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* The host's heap now (in use, arenas and mmap'd blocks). */
static size_t heap_now(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

struct flood {
    size_t before, peak; /* the heap at spawn, and when the flood is held */
    bool seen;
};

static void on_flood_output(int stream, const char *data, size_t len, void *userdata)
{
    struct flood *f = userdata;
    if (stream == 1 && !f->seen && memmem(data, len, "opened ", 7)) {
        f->peak = heap_now();
        f->seen = true;
    }
}

#define FLOOD 2000

/* A child opens 2,000 connections to its broker and holds them with half a
 * request: past the concurrent cap (1,024) the oldest waiting ones are
 * evicted with the reason, the host's heap stays within the cap's worth of
 * connections, and a good request of the same child is served at once. */
static void test_broker__flood_bounded(void **state)
{
    (void)state;
    need_landlock_tcp();
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = sandbox_policy(&o);
    assert_sbx_ok(sbx_limit_open_files(p, 4 * FLOOD));
    static struct flood f;
    memset(&f, 0, sizeof(f));
    assert_sbx_ok(sbx_set_output_callback(p, on_flood_output, &f));
    /* The broker holds up to 1,024 connections of the child: its descriptors
     * are the host's. */
    struct rlimit rl, saved;
    getrlimit(RLIMIT_NOFILE, &saved);
    rl = saved;
    if (rl.rlim_cur < 4096 && rl.rlim_max >= 4096)
        rl.rlim_cur = 4096;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4096)
        SBX_SKIP("RLIMIT_NOFILE %llu: the host cannot hold the cap's connections",
                 (unsigned long long)rl.rlim_max);
    char n[16], target[64];
    snprintf(n, sizeof(n), "%d", FLOOD);
    snprintf(target, sizeof(target), "origin.test:%u", o.port);
    const char *const argv[] = {PROBE("probe_flood"), n, target, NULL};
    f.before = heap_now();
    sbx_result *r = run_in(p, argv);
    origin_stop(&o);
    setrlimit(RLIMIT_NOFILE, &saved);
    assert_status(r, SBX_STATUS_EXITED, 0);
    const char *out = sbx_result_stdout(r, NULL);
    int opened = -1, failed = -1, code = -1, evicted = -1, closed = -1;
    long ms = -1, flood_ms = -1;
    if (sscanf(out, "opened %d failed %d in %ld ms\ngood %d %ld\nevicted %d closed %d", &opened,
               &failed, &flood_ms, &code, &ms, &evicted, &closed) != 7)
        fail_msg("probe output: '%s'", out);
    assert_int_equal(opened, FLOOD);
    assert_int_equal(failed, 0);
    /* The listen backlog holds the burst: no SYN waits for a retransmission. */
    if (flood_ms > 5000)
        fail_msg("%d connections took %ld ms to open", FLOOD, flood_ms);
    assert_int_equal(code, 200);
    if (ms > 2000)
        fail_msg("the good request took %ld ms behind the flood", ms);
    /* At least the connections past the cap were evicted with the reason
     * (the good one evicted one more). */
    if (evicted < FLOOD - SBX_CONNECTIONS_MAX || evicted > FLOOD)
        fail_msg("%d evicted, %d closed: %s", evicted, closed, out);
    assert_int_equal(sbx_result_network_connections(r), 1);
    print_message("flood: %s heap +%zu\n", out, f.peak - f.before);
    if (sbx_result_network_denied(r) < (uint64_t)(FLOOD - SBX_CONNECTIONS_MAX))
        fail_msg("%llu denied: %s", (unsigned long long)sbx_result_network_denied(r), describe(r));
    /* The heap: a connection waiting for its request holds its state and a
     * head buffer (1 KiB until a longer head arrives); no more than the cap's
     * worth of them. */
    assert_true(f.seen);
    size_t bound = (size_t)(SBX_CONNECTIONS_MAX + 1) * 4096 + (2u << 20);
    if (f.peak > f.before + bound)
        fail_msg("the heap grew by %zu bytes with the flood held (bound %zu)", f.peak - f.before,
                 bound);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* A network namespace cannot reach the broker on the host's loopback: host
 * grants with one are refused at spawn, with a message that says why. */
/* With a network namespace the broker's listening socket is made inside it
 * (the child's 127.0.0.1, the port of the proxy variables) and is the only
 * way out: curl reaches the granted name through it (the namespace has no
 * other listener: without that socket curl is refused), and a direct
 * connection to the origin's port is denied (Landlock, before the namespace
 * would refuse it). The control: unconfined, the direct connection reaches
 * the origin. */
static void test_broker__inside_a_net_namespace(void **state)
{
    (void)state;
    NEED_PROGRAM("curl");
    need_landlock_tcp();
    char why[256];
    if (sbx_probe(SBX_FEATURE_NET_NS, why, sizeof(why)) <= 0)
        SBX_SKIP("network namespaces are not available here: %s", why);
    struct origin o;
    origin_start(&o, NULL, NULL);
    sbx_policy *p = sandbox_policy(&o);
    assert_sbx_ok(sbx_unshare(p, SBX_NS_NET));
    char url[128], want[128];
    snprintf(url, sizeof(url), "http://origin.test:%u/in", o.port);
    snprintf(want, sizeof(want), "origin origin.test:%u /in\n", o.port);
    const char *const argv[] = {"curl", "-sS", url, NULL};
    sbx_result *r = run_in(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_true(sbx_result_namespaces(r) & SBX_NS_NET);
    assert_string_equal(sbx_result_stdout(r, NULL), want);
    assert_int_equal(sbx_result_network_connections(r), 1);
    sbx_result_free(r);
    direct_denied_then_stop(p, &o);
    sbx_policy_free(p);
}

static void test_broker__new_bad_input(void **state)
{
    (void)state;
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_allow_host(p, "a.test"));
    struct sbx__broker *b = NULL;
    assert_sbx_error(sbx__broker_new(p->egress, -1, &b), -EINVAL, "not a stream socket");
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    assert_sbx_error(sbx__broker_new(p->egress, pfd[0], &b), -EINVAL, "not a stream socket");
    close(pfd[0]);
    close(pfd[1]);
    assert_sbx_error(sbx__broker_new(NULL, 0, &b), -EINVAL, "cfg is NULL");
    assert_null(b);
    sbx__broker_free(NULL);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_broker__http_and_socks5_allowed),
    cmocka_unit_test(test_broker__connect_tls),
    cmocka_unit_test(test_broker__refusals_recorded),
    cmocka_unit_test(test_broker__byte_quota_stops_transfer),
    cmocka_unit_test(test_broker__slow_clients_bounded),
    cmocka_unit_test(test_broker__new_bad_input),
    cmocka_unit_test(test_broker__quota_exact_down_spliced),
    cmocka_unit_test(test_broker__quota_exact_up_spliced),
    cmocka_unit_test(test_broker__rate_cap_spliced),
    cmocka_unit_test(test_broker__long_name_refused),
    cmocka_unit_test(test_broker__long_heads),
    cmocka_unit_test(test_broker__client_leaves_mid_splice),
    cmocka_unit_test(test_broker__out_of_descriptors),
    cmocka_unit_test(test_broker__sandboxed_curl),
    cmocka_unit_test(test_broker__direct_connect_denied),
    cmocka_unit_test(test_broker__sandboxed_quota),
    cmocka_unit_test(test_broker__flood_bounded),
    cmocka_unit_test(test_broker__inside_a_net_namespace),
};
SBX_TEST_MAIN(tests)
