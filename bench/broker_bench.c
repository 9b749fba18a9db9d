/*
 * sbx_broker_bench: the egress broker's cost (issue 17), in one run.
 *
 *   throughput  a 1 GiB download (-s) from a local origin on 127.0.0.1, read by
 *               a confined child directly (a policy granting the origin's port,
 *               sbx_allow_connect) and through the broker (a CONNECT tunnel,
 *               and a plain HTTP GET), the paths interleaved, -r rounds; MB/s
 *               (10^6 bytes) from the child's connect to its last byte, and
 *               the ratio of each broker path's median to the direct median, and
 *               the host's CPU time per GiB (the broker's work; the spawn's for
 *               the other paths). The floor, in the same rounds: a bare splice
 *               relay process (no library), what any relay costs here.
 *   set-up      -n connections in turn, each reading a 2-byte response: the
 *               time from socket() to the response's first byte, directly,
 *               through a CONNECT tunnel, a plain HTTP request and SOCKS5
 *               (remote name resolution), interleaved, -r rounds; median, p99.
 *   memory      one child holds -t idle CONNECT tunnels open at once; the
 *               host's heap (mallinfo2: in use, arenas and mmap'd blocks) and
 *               RSS when the child starts and when every tunnel is
 *               established, the difference divided by the tunnels.
 *
 * The origin is a process of this program (forked first: an epoll loop that
 * writes responses from a 1 MiB buffer), so the host's memory is the
 * library's alone. The children are this program again ("client ..."),
 * confined by the default policy with the bench's and the library's
 * directories granted read+exec; the broker's children get the grant
 * "origin.test:PORT" and the pin origin.test -> 127.0.0.1 (sbx_broker_resolve),
 * and reach the broker through the proxy variables the library sets.
 * Options: -s BYTES the download (default 1 GiB), -r ROUNDS (default 3),
 * -n CONNECTIONS per round for set-up (default 1000), -t TUNNELS held for
 * memory (default 1000), -p PARTS to run only some (default
 * "throughput,setup,memory"). Percentiles are nearest-rank; figures go to
 * stdout as markdown tables.
 */
#include <agentsbx/agentsbx.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ORIGIN_NAME "origin.test"
#define CHUNK       (1u << 20)

static uint16_t origin_port_for_relay; /* the relay process's copy */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "sbx_broker_bench: %s: %s (%s)\n", what, sbx_strerror(err), sbx_last_error());
    exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, size_t n, double p)
{
    size_t k = (size_t)(p * (double)n + 0.999999);
    return v[k ? k - 1 : 0];
}

static double median_d(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the origin: a process, an epoll loop ------------------------------------------------ */

struct oconn {
    int fd;
    char req[1024];
    size_t req_len;
    char head[128];
    size_t head_len, head_off;
    uint64_t body_left; /* writing when head_len > 0 */
};

static char body_buf[CHUNK];

static void origin_close(int ep, struct oconn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Write what the socket takes; false when the connection is done. */
static bool origin_write(struct oconn *c)
{
    while (c->head_off < c->head_len) {
        ssize_t w = send(c->fd, c->head + c->head_off, c->head_len - c->head_off, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN;
        c->head_off += (size_t)w;
    }
    while (c->body_left) {
        size_t n = c->body_left < CHUNK ? (size_t)c->body_left : CHUNK;
        ssize_t w = send(c->fd, body_buf, n, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN;
        c->body_left -= (uint64_t)w;
    }
    return false;
}

/* GET /bytes/N answers N bytes; any other path "ok". Connection: close. */
static void origin_serve(int lfd)
{
    memset(body_buf, 'x', sizeof(body_buf));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            struct oconn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    c = calloc(1, sizeof(*c));
                    c->fd = fd;
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            if (c->head_len == 0) {
                ssize_t r = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
                if (r <= 0) {
                    if (r < 0 && errno == EAGAIN)
                        continue;
                    origin_close(ep, c);
                    continue;
                }
                c->req_len += (size_t)r;
                c->req[c->req_len] = '\0';
                if (!strstr(c->req, "\r\n\r\n")) {
                    if (c->req_len == sizeof(c->req) - 1)
                        origin_close(ep, c);
                    continue;
                }
                const char *b = strstr(c->req, " /bytes/");
                c->body_left = b ? strtoull(b + 8, NULL, 10) : 2;
                c->head_len = (size_t)snprintf(
                    c->head, sizeof(c->head),
                    "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n%s",
                    (unsigned long long)c->body_left, b ? "" : "ok");
                if (!b)
                    c->body_left = 0;
                struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
            }
            if (!origin_write(c)) {
                shutdown(c->fd, SHUT_WR);
                origin_close(ep, c); /* the client has all of it (or left) */
            }
        }
    }
}

static pid_t origin_start(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        die("the origin's socket", -errno);
    *port = ntohs(sa.sin_port);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", -errno);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        origin_serve(fd);
        _exit(0);
    }
    close(fd);
    return pid;
}

/* ---- the floor: a bare splice relay, no library ------------------------------------------ */

/* One connection: both directions spliced through a pipe each, as the broker
 * does, without its checks, counting or event loop. */
static void relay_conn(int cfd)
{
    int ufd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(origin_port_for_relay),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int p[2][2];
    if (ufd < 0 || connect(ufd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || pipe(p[0]) < 0 ||
        pipe(p[1]) < 0)
        _exit(1);
    fcntl(p[1][1], F_SETPIPE_SZ, 1 << 20);
    int fds[2] = {cfd, ufd};
    bool eof[2] = {false, false};
    while (!eof[0] || !eof[1]) {
        struct pollfd pfd[2] = {{.fd = eof[0] ? -1 : cfd, .events = POLLIN},
                                {.fd = eof[1] ? -1 : ufd, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0)
            _exit(1);
        for (int i = 0; i < 2; i++) {
            if (!pfd[i].revents)
                continue;
            ssize_t n = splice(fds[i], NULL, p[i][1], NULL, 1 << 20, SPLICE_F_MOVE);
            if (n <= 0) {
                eof[i] = true;
                shutdown(fds[1 - i], SHUT_WR);
                continue;
            }
            while (n > 0) {
                ssize_t m = splice(p[i][0], NULL, fds[1 - i], NULL, (size_t)n, SPLICE_F_MOVE);
                if (m <= 0)
                    _exit(1);
                n -= m;
            }
        }
    }
    _exit(0);
}

static pid_t relay_start(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        die("the relay's socket", -errno);
    *port = ntohs(sa.sin_port);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", -errno);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGCHLD, SIG_IGN); /* connections' processes reaped by the kernel */
        for (;;) {
            int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            if (fork() == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                relay_conn(c);
            }
            close(c);
        }
    }
    close(fd);
    return pid;
}

/* ---- the client: a confined child -------------------------------------------------------- */

static int write_all(int fd, const void *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* Read until "\r\n\r\n" (the CONNECT reply: nothing follows until the
 * tunnel's request is sent); 0 when it says 200. */
static int read_reply(int fd)
{
    char buf[512];
    size_t n = 0;
    while (n < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
    }
    return -1;
}

static int read_exact(int fd, void *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t r = read(fd, (char *)buf + off, len - off);
        if (r <= 0)
            return -1;
        off += (size_t)r;
    }
    return 0;
}

static uint16_t proxy_port(void)
{
    const char *v = getenv("HTTP_PROXY");
    const char *colon = v ? strrchr(v, ':') : NULL;
    return colon ? (uint16_t)atoi(colon + 1) : 0;
}

/* A connection on which the next read returns the origin's response to
 * GET path: direct, or through the broker (connect, http, socks5). With
 * path NULL, a CONNECT tunnel is established and nothing sent. -1 on failure. */
static int open_conn(const char *how, uint16_t port, const char *path)
{
    uint16_t to = strcmp(how, "direct") == 0       ? port
                  : strncmp(how, "relay:", 6) == 0 ? (uint16_t)atoi(how + 6)
                                                   : proxy_port();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(to), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || to == 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto fail;
    char req[256];
    int n;
    if (strcmp(how, "connect") == 0) {
        n = snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", ORIGIN_NAME,
                     port, ORIGIN_NAME, port);
        if (write_all(fd, req, (size_t)n) < 0 || read_reply(fd) < 0)
            goto fail;
    } else if (strcmp(how, "socks5") == 0) {
        uint8_t g[3] = {5, 1, 0}, gr[2], r[10];
        uint8_t q[7 + sizeof(ORIGIN_NAME)] = {5, 1, 0, 3, sizeof(ORIGIN_NAME) - 1};
        memcpy(q + 5, ORIGIN_NAME, sizeof(ORIGIN_NAME) - 1);
        q[5 + sizeof(ORIGIN_NAME) - 1] = (uint8_t)(port >> 8);
        q[6 + sizeof(ORIGIN_NAME) - 1] = (uint8_t)port;
        if (write_all(fd, g, 3) < 0 || read_exact(fd, gr, 2) < 0 || gr[1] != 0 ||
            write_all(fd, q, sizeof(q) - 1) < 0 || read_exact(fd, r, 10) < 0 || r[1] != 0)
            goto fail;
    }
    if (!path)
        return fd;
    if (strcmp(how, "http") == 0)
        n = snprintf(req, sizeof(req), "GET http://%s:%u%s HTTP/1.1\r\nHost: %s:%u\r\n\r\n",
                     ORIGIN_NAME, port, path, ORIGIN_NAME, port);
    else
        n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", path, ORIGIN_NAME,
                     port);
    if (write_all(fd, req, (size_t)n) < 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* Read the response to its end; its length, or -1 unless it says 200. */
static int64_t drain(int fd, uint64_t *first_ns)
{
    static char buf[CHUNK];
    int64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        if (total == 0) {
            if (first_ns)
                *first_ns = now_ns();
            if (r < 12 || strncmp(buf, "HTTP/1.1 200", 12) != 0)
                return -1;
        }
        total += r;
    }
    return total;
}

/* client HOW PORT get BYTES: "BYTES NS"; client HOW PORT ttfb N: N times in
 * ns, one a line; client connect PORT hold N: "start", then "ready" once N
 * tunnels are established, then holds them a while. */
static int client(const char *how, uint16_t port, const char *op, uint64_t arg)
{
    if (strcmp(op, "get") == 0) {
        char path[64];
        snprintf(path, sizeof(path), "/bytes/%llu", (unsigned long long)arg);
        uint64_t t0 = now_ns();
        int fd = open_conn(how, port, path);
        int64_t n = fd < 0 ? -1 : drain(fd, NULL);
        uint64_t t = now_ns() - t0;
        if (n < (int64_t)arg) {
            fprintf(stderr, "client %s: read %lld bytes of %llu\n", how, (long long)n,
                    (unsigned long long)arg);
            return 1;
        }
        printf("%llu %llu\n", (unsigned long long)n, (unsigned long long)t);
        return 0;
    }
    if (strcmp(op, "ttfb") == 0) {
        for (uint64_t i = 0; i < arg; i++) {
            uint64_t t0 = now_ns(), t1 = 0;
            int fd = open_conn(how, port, "/tiny");
            int64_t n = fd < 0 ? -1 : drain(fd, &t1);
            if (fd >= 0)
                close(fd);
            if (n <= 0) {
                fprintf(stderr, "client %s: connection %llu failed\n", how, (unsigned long long)i);
                return 1;
            }
            printf("%llu\n", (unsigned long long)(t1 - t0));
        }
        return 0;
    }
    if (strcmp(op, "hold") == 0) {
        printf("start\n");
        fflush(stdout);
        usleep(300 * 1000); /* the host measures before the first tunnel */
        int *fds = calloc(arg, sizeof(*fds));
        for (uint64_t i = 0; i < arg; i++)
            if (!fds || (fds[i] = open_conn(how, port, NULL)) < 0) {
                fprintf(stderr, "client: tunnel %llu failed: %s\n", (unsigned long long)i,
                        strerror(errno));
                return 1;
            }
        printf("ready\n");
        fflush(stdout);
        usleep(500 * 1000);
        return 0;
    }
    return 2;
}

/* ---- the host ------------------------------------------------------------------------------ */

static char self[PATH_MAX];
static uint16_t origin_port;

static uint16_t relay_port;

/* The host's CPU time (user and system), seconds: the broker's, on its paths. */
static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* kind: 0 direct, 1 through the broker, 2 through the floor relay. */
static sbx_policy *bench_policy(int kind)
{
    sbx_policy *p = NULL;
    int r;
    if ((r = sbx_policy_new(&p)) < 0)
        die("sbx_policy_new", r);
    char dir[PATH_MAX], grant[64];
    snprintf(dir, sizeof(dir), "%s", self);
    Dl_info info;
    char lib[PATH_MAX] = "/usr/lib";
    if (dladdr((void *)sbx_policy_new, &info) && info.dli_fname && info.dli_fname[0] == '/')
        snprintf(lib, sizeof(lib), "%s", info.dli_fname);
    snprintf(grant, sizeof(grant), "%s:%u", ORIGIN_NAME, origin_port);
    if ((r = sbx_allow_path(p, dirname(dir), SBX_FS_READ | SBX_FS_EXEC)) < 0 ||
        (r = sbx_allow_path(p, dirname(lib), SBX_FS_READ | SBX_FS_EXEC)) < 0 ||
        (r = sbx_limit_open_files(p, 4096)) < 0 || (r = sbx_limit_output(p, 1u << 24)) < 0)
        die("policy", r);
    if (kind == 1) {
        if ((r = sbx_allow_host(p, grant)) < 0 ||
            (r = sbx_broker_resolve(p, ORIGIN_NAME, "127.0.0.1")) < 0 ||
            (r = sbx_limit_connections(p, SBX_UNLIMITED, SBX_CONNECTIONS_MAX)) < 0)
            die("policy: the host grant", r);
    } else if ((r = sbx_allow_connect(p, kind ? relay_port : origin_port)) < 0) {
        die("policy: sbx_allow_connect", r);
    }
    return p;
}

/* Run the client; its stdout (malloc'd). */
static char *run_client(sbx_policy *p, const char *how, const char *op, uint64_t arg)
{
    char port[16], a[32];
    snprintf(port, sizeof(port), "%u", origin_port);
    snprintf(a, sizeof(a), "%llu", (unsigned long long)arg);
    const char *argv[] = {self, "client", how, port, op, a, NULL};
    sbx_result *res = NULL;
    int r = sbx_run(p, argv, NULL, 0, &res);
    if (r < 0)
        die("sbx_run", r);
    if (sbx_result_status(res) != SBX_STATUS_EXITED || sbx_result_exit_code(res) != 0) {
        char js[4096];
        sbx_result_to_json(res, js, sizeof(js));
        fprintf(stderr, "client %s %s failed: %s\n%s\n", how, op, js, sbx_result_stderr(res, NULL));
        exit(1);
    }
    char *out = strdup(sbx_result_stdout(res, NULL));
    sbx_result_free(res);
    return out;
}

static const char *const PATHS[] = {"direct", "connect", "http", "socks5", "relay"};
static const char *const PATH_NAMES[] = {"direct (sbx_allow_connect)", "broker: CONNECT tunnel",
                                         "broker: plain HTTP GET", "broker: SOCKS5 CONNECT",
                                         "floor: a bare splice relay (no library)"};

static void throughput(uint64_t size, int rounds)
{
    static const int order[] = {0, 4, 1, 2}; /* direct, the floor, CONNECT, HTTP */
    enum { N = sizeof(order) / sizeof(order[0]) };
    double mbs[N][64], cpu[N][64];
    sbx_policy *pol[3] = {bench_policy(0), bench_policy(1), bench_policy(2)};
    char relay[32];
    snprintf(relay, sizeof(relay), "relay:%u", relay_port);
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < N; i++) {
            int k = order[i];
            double c0 = cpu_self();
            char *out = run_client(pol[k == 0   ? 0
                                       : k == 4 ? 2
                                                : 1],
                                   k == 4 ? relay : PATHS[k], "get", size);
            unsigned long long bytes = 0, ns = 0;
            if (sscanf(out, "%llu %llu", &bytes, &ns) != 2 || ns == 0)
                die("client output", -EIO);
            mbs[i][r] = (double)bytes / ((double)ns / 1e9) / 1e6;
            cpu[i][r] = (cpu_self() - c0) / ((double)bytes / (1 << 30));
            free(out);
        }
    printf("### Throughput: a %.0f MiB download, %d rounds interleaved\n\n",
           (double)size / (1 << 20), rounds);
    printf("| path | median MB/s | min | max | median vs direct | host CPU s/GiB |\n"
           "|---|---|---|---|---|---|\n");
    double med[N];
    for (int i = 0; i < N; i++) {
        double lo = mbs[i][0], hi = mbs[i][0];
        for (int r = 0; r < rounds; r++) {
            lo = mbs[i][r] < lo ? mbs[i][r] : lo;
            hi = mbs[i][r] > hi ? mbs[i][r] : hi;
        }
        med[i] = median_d(mbs[i], (size_t)rounds);
        printf("| %s | %.0f | %.0f | %.0f | %.2f | %.2f |\n", PATH_NAMES[order[i]], med[i], lo, hi,
               med[i] / med[0], median_d(cpu[i], (size_t)rounds));
    }
    printf("\n");
    for (int k = 0; k < 3; k++)
        sbx_policy_free(pol[k]);
}

static void setup(uint64_t n, int rounds)
{
    uint64_t *t[4];
    size_t got[4] = {0};
    for (int k = 0; k < 4; k++)
        t[k] = malloc((size_t)(n * (uint64_t)rounds) * sizeof(uint64_t));
    sbx_policy *direct = bench_policy(0), *broker = bench_policy(1);
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < 4; k++) {
            char *out = run_client(k ? broker : direct, PATHS[k], "ttfb", n);
            for (char *s = out, *e; *s; s = e) {
                unsigned long long v = strtoull(s, &e, 10);
                if (e == s)
                    break;
                t[k][got[k]++] = v;
            }
            free(out);
        }
    printf("### Connection set-up: socket() to the first byte of a 2-byte response, %llu "
           "connections x %d rounds\n\n",
           (unsigned long long)n, rounds);
    printf("| path | connections | median µs | p99 µs | median vs direct |\n"
           "|---|---|---|---|---|\n");
    double base = 0;
    for (int k = 0; k < 4; k++) {
        qsort(t[k], got[k], sizeof(uint64_t), cmp_u64);
        double med = (double)pct(t[k], got[k], 0.5) / 1e3;
        if (k == 0)
            base = med;
        printf("| %s | %zu | %.1f | %.1f | %.2f |\n", PATH_NAMES[k], got[k], med,
               (double)pct(t[k], got[k], 0.99) / 1e3, med / base);
        free(t[k]);
    }
    printf("\n");
    sbx_policy_free(direct);
    sbx_policy_free(broker);
}

struct mem {
    size_t heap, rss; /* bytes */
};

static struct mem mem_now(void)
{
    struct mallinfo2 mi = mallinfo2();
    struct mem m = {mi.uordblks + mi.hblkhd, 0};
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    m.rss = res * (size_t)sysconf(_SC_PAGESIZE);
    return m;
}

struct hold {
    struct mem before, after;
    int seen; /* 1: start, 2: ready */
};

static void on_output(int stream, const char *data, size_t len, void *userdata)
{
    struct hold *h = userdata;
    if (stream != 1)
        return;
    if (h->seen == 0 && memmem(data, len, "start\n", 6)) {
        h->before = mem_now();
        h->seen = 1;
    }
    if (h->seen == 1 && memmem(data, len, "ready\n", 6)) {
        h->after = mem_now();
        h->seen = 2;
    }
}

static void memory(uint64_t tunnels)
{
    sbx_policy *p = bench_policy(1);
    static struct hold h;
    int r = sbx_set_output_callback(p, on_output, &h);
    if (r < 0)
        die("sbx_set_output_callback", r);
    char *out = run_client(p, "connect", "hold", tunnels);
    free(out);
    sbx_policy_free(p);
    if (h.seen != 2)
        die("the hold client's output", -EIO);
    printf("### Host memory per open tunnel: %llu idle CONNECT tunnels held at once\n\n",
           (unsigned long long)tunnels);
    printf("| measure | at the child's start | all tunnels open | per tunnel |\n"
           "|---|---|---|---|\n");
    printf("| heap in use (mallinfo2) | %.1f KiB | %.1f KiB | %.1f KiB |\n",
           (double)h.before.heap / 1024, (double)h.after.heap / 1024,
           ((double)h.after.heap - (double)h.before.heap) / 1024 / (double)tunnels);
    printf("| RSS | %.1f MiB | %.1f MiB | %.1f KiB |\n\n", (double)h.before.rss / 1048576,
           (double)h.after.rss / 1048576,
           ((double)h.after.rss - (double)h.before.rss) / 1024 / (double)tunnels);
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "client") == 0)
        return client(argv[2], (uint16_t)atoi(argv[3]), argv[4], strtoull(argv[5], NULL, 10));
    uint64_t size = 1ull << 30, conns = 1000, tunnels = 1000;
    int rounds = 3;
    const char *parts = "throughput,setup,memory";
    int c;
    while ((c = getopt(argc, argv, "s:n:t:r:p:")) != -1) {
        if (c == 's')
            size = strtoull(optarg, NULL, 10);
        else if (c == 'n')
            conns = strtoull(optarg, NULL, 10);
        else if (c == 't')
            tunnels = strtoull(optarg, NULL, 10);
        else if (c == 'r')
            rounds = atoi(optarg);
        else if (c == 'p')
            parts = optarg;
        else
            return 2;
    }
    if (rounds < 1 || rounds > 64 || tunnels < 1 || tunnels > SBX_CONNECTIONS_MAX || conns < 1 ||
        size < 1) {
        fprintf(stderr,
                "usage: %s [-s BYTES] [-n CONNECTIONS] [-t TUNNELS <= %d] [-r ROUNDS <= "
                "64] [-p throughput,setup,memory]\n",
                argv[0], SBX_CONNECTIONS_MAX);
        return 2;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        die("readlink /proc/self/exe", -errno);
    self[n] = '\0';
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    pid_t origin = origin_start(&origin_port);
    origin_port_for_relay = origin_port;
    pid_t relay = relay_start(&relay_port);
    FILE *f = fopen("/proc/loadavg", "r");
    char la[64] = "";
    if (f) {
        if (!fgets(la, sizeof(la), f))
            la[0] = '\0';
        fclose(f);
    }
    printf("load average before: %s\n", la);
    if (strstr(parts, "throughput"))
        throughput(size, rounds);
    if (strstr(parts, "setup"))
        setup(conns, rounds);
    if (strstr(parts, "memory"))
        memory(tunnels);
    kill(relay, SIGKILL);
    waitpid(relay, NULL, 0);
    kill(origin, SIGKILL);
    waitpid(origin, NULL, 0);
    return 0;
}
