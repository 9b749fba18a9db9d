/*
 * sbx_capchan_bench: host operations over the capability channel (issue 21).
 *
 *   latency   one child makes K calls of an "echo" operation (a 40-byte JSON
 *             argument, echoed back) through agentsbx/capclient.h; the time of
 *             each call as the child sees it. The floor, in the same run: the
 *             same frames over a bare socketpair to a process that answers
 *             them without parsing (no library, no JSON).
 *   many      C children under one supervisor, all started at once, each making
 *             K calls; the wall time from the first spawn to the last result,
 *             the calls per second, and the distribution of every call's time.
 *
 * The children are this program again ("client K"), confined by the default
 * policy with the bench's directory granted read+exec. Options: -k K calls
 * per child (default 100), -n C children for "many" (default 1000), --iter K
 * calls for "latency" (default 20000). Percentiles are nearest-rank; figures
 * go to stdout as markdown tables.
 */
#include <agentsbx/agentsbx.h>
#include <agentsbx/capclient.h>

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char ARGS[] = "{\"issue\":1234,\"fields\":[\"title\",\"state\"]}";

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "sbx_capchan_bench: %s: %s (%s)\n", what, sbx_strerror(err), sbx_last_error());
    exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
    size_t k = (size_t)(p * (double)n + 0.999999);
    return v[k ? k - 1 : 0];
}

/* The child: K calls, each time in ns, written raw (8 bytes each) to stdout. */
static int client(long k, int fd)
{
    static char reply[4096];
    uint64_t *t = malloc((size_t)k * sizeof(*t));
    if (!t)
        return 1;
    for (long i = 0; i < k; i++) {
        uint64_t t0 = now_ns();
        int r = fd >= 0 ? sbx_caps_call_fd(fd, "echo", ARGS, reply, sizeof(reply))
                        : sbx_caps_call("echo", ARGS, reply, sizeof(reply));
        t[i] = now_ns() - t0;
        if (r != 0) {
            fprintf(stderr, "client: call %ld: %d %s\n", i, r, reply);
            return 1;
        }
    }
    if (fd >= 0)
        close(fd); /* the floor's server reads until the end, then the times */
    size_t len = (size_t)k * sizeof(*t);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(1, (char *)t + off, len - off);
        if (w <= 0)
            return 1;
        off += (size_t)w;
    }
    return 0;
}

static int echo(sbx_call *call, void *userdata)
{
    (void)userdata;
    size_t n;
    const char *args = sbx_call_args(call, &n);
    return sbx_call_reply(call, args, n);
}

/* The floor: frames answered by a plain loop (the reply is the request's bytes
 * wrapped like the library's, without parsing). */
static void floor_server(int fd)
{
    static char in[65536], out[65600];
    for (;;) {
        unsigned char head[4];
        if (sbx_caps__io(fd, head, 4, 0) < 0)
            return;
        uint32_t n =
            (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
        if (n >= sizeof(in) || sbx_caps__io(fd, in, n, 0) < 0)
            return;
        int m = snprintf(out + 4, sizeof(out) - 4, "{\"id\":null,\"ok\":true,\"result\":%.*s}",
                         (int)n, in);
        out[0] = (char)(m >> 24), out[1] = (char)(m >> 16), out[2] = (char)(m >> 8),
        out[3] = (char)m;
        if (sbx_caps__io(fd, out, (size_t)m + 4, 1) < 0)
            return;
    }
}

static void row(const char *name, uint64_t *t, size_t n, double floor_med)
{
    qsort(t, n, sizeof(*t), cmp_u64);
    double med = (double)pct(t, n, 0.5) / 1e3, p99 = (double)pct(t, n, 0.99) / 1e3;
    printf("| %s | %zu | %.1f | %.1f | %.1f |", name, n, med, p99, (double)t[n - 1] / 1e3);
    if (floor_med > 0)
        printf(" %.2fx |\n", med / floor_med);
    else
        printf(" 1.00x |\n");
}

static char self[PATH_MAX];

static sbx_policy *bench_policy(void)
{
    sbx_policy *p = NULL;
    int r;
    if ((r = sbx_policy_new(&p)) < 0)
        die("sbx_policy_new", r);
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", self);
    /* the client is this program, linked with the library: both directories */
    Dl_info info;
    char lib[PATH_MAX] = "/usr/lib";
    if (dladdr((void *)sbx_policy_new, &info) && info.dli_fname && info.dli_fname[0] == '/')
        snprintf(lib, sizeof(lib), "%s", info.dli_fname);
    if ((r = sbx_allow_path(p, dirname(dir), SBX_FS_READ | SBX_FS_EXEC)) < 0 ||
        (r = sbx_allow_path(p, dirname(lib), SBX_FS_READ | SBX_FS_EXEC)) < 0 ||
        (r = sbx_allow_capability(p, "echo", echo, NULL)) < 0 ||
        (r = sbx_limit_capability_calls(p, SBX_UNLIMITED)) < 0)
        die("policy", r);
    return p;
}

static void latency(long iter)
{
    char k[32];
    snprintf(k, sizeof(k), "%ld", iter);
    /* the floor */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair", -errno);
    int out[2];
    if (pipe(out) != 0)
        die("pipe", -errno);
    pid_t c = fork();
    if (c == 0) {
        close(sv[0]);
        dup2(out[1], 1);
        _exit(client(iter, sv[1]));
    }
    close(sv[1]);
    close(out[1]);
    floor_server(sv[0]);
    close(sv[0]);
    uint64_t *ft = malloc((size_t)iter * sizeof(*ft));
    size_t got = 0;
    for (ssize_t r; got < (size_t)iter * sizeof(*ft) &&
                    (r = read(out[0], (char *)ft + got, (size_t)iter * sizeof(*ft) - got)) > 0;)
        got += (size_t)r;
    close(out[0]);
    waitpid(c, NULL, 0);
    if (got != (size_t)iter * sizeof(*ft))
        die("floor client", -EIO);

    sbx_policy *p = bench_policy();
    const char *argv[] = {self, "client", k, NULL};
    sbx_result *res = NULL;
    int r = sbx_run(p, argv, NULL, 0, &res);
    if (r < 0)
        die("sbx_run", r);
    size_t len = 0;
    const char *o = sbx_result_stdout(res, &len);
    if (sbx_result_status(res) != SBX_STATUS_EXITED || sbx_result_exit_code(res) != 0 ||
        len != (size_t)iter * sizeof(uint64_t)) {
        char js[2048];
        sbx_result_to_json(res, js, sizeof(js));
        fprintf(stderr, "client failed: %s\n%s\n", js, sbx_result_stderr(res, NULL));
        exit(1);
    }
    uint64_t *st = malloc(len);
    memcpy(st, o, len);
    sbx_result_free(res);
    sbx_policy_free(p);

    printf("### Round trip of one call (%ld calls, as the child sees it)\n\n", iter);
    printf("| path | calls | median µs | p99 µs | max µs | median vs floor "
           "|\n|---|---|---|---|---|---|\n");
    qsort(ft, (size_t)iter, sizeof(*ft), cmp_u64);
    double floor_med = (double)pct(ft, (size_t)iter, 0.5) / 1e3;
    row("floor: bare socketpair, no parsing", ft, (size_t)iter, 0);
    row("libagentsbx: sbx_run, echo handler", st, (size_t)iter, floor_med);
    printf("\n");
    free(ft);
    free(st);
}

static void many(long children, long k)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    char ks[32];
    snprintf(ks, sizeof(ks), "%ld", k);
    sbx_policy *p = bench_policy();
    sbx_supervisor *sup = NULL;
    int r;
    if ((r = sbx_supervisor_new(&sup)) < 0)
        die("sbx_supervisor_new", r);
    const char *argv[] = {self, "client", ks, NULL};
    uint64_t *all = malloc((size_t)children * (size_t)k * sizeof(*all));
    size_t n_all = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < children; i++) {
        SBX_SPAWN_OPTS(o, .capture = 1);
        sbx_child *c = NULL;
        if ((r = sbx_spawn_with(p, argv, &o, &c)) < 0)
            die("sbx_spawn_with", r);
        if ((r = sbx_supervisor_add(sup, c)) < 0)
            die("sbx_supervisor_add", r);
        if (i % 16 == 15 && (r = sbx_supervisor_step(sup)) < 0)
            die("sbx_supervisor_step", r);
    }
    long done = 0, failed = 0;
    while (done < children) {
        sbx_child *c = NULL;
        sbx_result *res = NULL;
        if ((r = sbx_supervisor_wait(sup, -1)) < 0)
            die("sbx_supervisor_wait", r);
        while (sbx_supervisor_next(sup, &c, &res) == 0) {
            size_t len = 0;
            const char *o = sbx_result_stdout(res, &len);
            if (sbx_result_status(res) == SBX_STATUS_EXITED && sbx_result_exit_code(res) == 0 &&
                len == (size_t)k * sizeof(uint64_t)) {
                memcpy(all + n_all, o, len);
                n_all += (size_t)k;
            } else {
                failed++;
            }
            sbx_result_free(res);
            sbx_child_free(c);
            done++;
        }
    }
    uint64_t wall = now_ns() - t0;
    sbx_supervisor_free(sup);
    sbx_policy_free(p);
    printf("### %ld children under one supervisor, %ld calls each, all started at once\n\n",
           children, k);
    printf(
        "| children | calls | failed children | wall s | calls/s | median µs | p99 µs | max µs |\n"
        "|---|---|---|---|---|---|---|---|\n");
    qsort(all, n_all, sizeof(*all), cmp_u64);
    printf("| %ld | %zu | %ld | %.2f | %.0f | %.1f | %.1f | %.1f |\n\n", children, n_all, failed,
           (double)wall / 1e9, (double)n_all / ((double)wall / 1e9),
           n_all ? (double)pct(all, n_all, 0.5) / 1e3 : 0,
           n_all ? (double)pct(all, n_all, 0.99) / 1e3 : 0,
           n_all ? (double)all[n_all - 1] / 1e3 : 0);
    free(all);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "client") == 0)
        return client(atol(argv[2]), -1);
    long k = 100, children = 1000, iter = 20000;
    static const struct option opts[] = {{"iter", required_argument, NULL, 'i'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "k:n:", opts, NULL)) != -1) {
        if (c == 'k')
            k = atol(optarg);
        else if (c == 'n')
            children = atol(optarg);
        else if (c == 'i')
            iter = atol(optarg);
        else
            return 2;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        die("readlink /proc/self/exe", -errno);
    self[n] = '\0';
    latency(iter);
    many(children, k);
    return 0;
}
