/*
 * sbx_throughput_bench: many children at once (issue 9).
 *
 *   throughput  children per second, spawned and reaped, by 1 and by 2 threads:
 *               bare posix_spawn(/bin/true) reaped with waitpid, against
 *               sbx_supervisor_spawn(/bin/true) under the default policy
 *               (stdio on /dev/null), each thread with its own supervisor,
 *               stepping every 16 spawns, in the same run, rounds alternated
 *   memory      host memory per supervised child: N children sleeping under a
 *               supervisor; heap in use (mallinfo2) and RSS (/proc/self/statm)
 *               before and after, divided by N; kernel objects not included
 *   latency     from closing the stdin of a /bin/cat child to the supervisor
 *               handing back its result, with 10, 100 and 1,000 children alive
 *               in the same supervisor; the same trigger with a bare posix_spawn
 *               cat reaped by waitpid, as the floor
 *
 *   scaling     spawn-to-reap of /bin/true, sbx against posix_spawn, alternated,
 *               with 0, 1,000 and 4,000 children alive (the host's descriptor
 *               table grows with them, and each clone copies it)
 *
 * Options: -n N children per throughput round (default 2000), --rounds R
 * (default 3), --mem N (default 1000), --lat-iter K (iterations of latency and
 * scaling, default 200), --lat LIST (default 10,100,1000), --only
 * throughput|memory|latency|scaling, --ahead (throughput's policy prepares
 * after every spawn: SBX_PREPARE_AHEAD_ON), --no-ahead (never: _OFF; the
 * default policy prepares from the third spawn of one program, _AUTO).
 * Percentiles are nearest-rank. Figures go to stdout as markdown tables.
 */
#include <agentsbx/agentsbx.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "sbx_throughput_bench: %s: %s (%s)\n", what, sbx_strerror(err),
            sbx_last_error());
    exit(1);
}

static sbx_io null_io(void)
{
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = io.stdout_mode = io.stderr_mode = SBX_STDIO_NULL;
    return io;
}

/* Take every ended child; check it exited 0. Returns how many. */
static size_t drain(sbx_supervisor *sup)
{
    size_t n = 0;
    sbx_child *c;
    sbx_result *r;
    int rc;
    while ((rc = sbx_supervisor_next(sup, &c, &r)) == 0) {
        if (sbx_result_status(r) != SBX_STATUS_EXITED || sbx_result_exit_code(r) != 0) {
            fprintf(stderr, "child %d: %s\n", sbx_child_pid(c),
                    sbx_status_name(sbx_result_status(r)));
            exit(1);
        }
        sbx_result_free(r);
        sbx_child_free(c);
        n++;
    }
    if (rc != -EAGAIN)
        die("sbx_supervisor_next", rc);
    return n;
}

static void step_wait(sbx_supervisor *sup, int timeout_ms)
{
    int r = sbx_supervisor_wait(sup, timeout_ms);
    if (r < 0 && r != -EINTR)
        die("sbx_supervisor_wait", r);
}

/* ---- throughput ------------------------------------------------------------------- */

struct tp_arg {
    const sbx_policy *policy; /* NULL: bare posix_spawn */
    size_t n;
};

static atomic_size_t bare_reaped;

static void *tp_thread(void *p)
{
    struct tp_arg *a = p;
    static char *const argv[] = {"/bin/true", NULL};
    if (!a->policy) {
        for (size_t i = 0; i < a->n; i++) {
            pid_t pid;
            int e = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
            if (e)
                die("posix_spawn", -e);
            if (i % 16 == 15) /* reap what has ended, as the supervisor does */
                while (waitpid(-1, NULL, WNOHANG) > 0)
                    atomic_fetch_add(&bare_reaped, 1);
        }
        return NULL;
    }
    sbx_supervisor *sup;
    int r = sbx_supervisor_new(&sup);
    if (r < 0)
        die("sbx_supervisor_new", r);
    sbx_io io = null_io();
    size_t done = 0;
    for (size_t i = 0; i < a->n; i++) {
        r = sbx_supervisor_spawn(sup, a->policy, (const char *const *)argv, &io, NULL);
        if (r < 0)
            die("sbx_supervisor_spawn", r);
        if (i % 16 == 15) {
            step_wait(sup, 0);
            done += drain(sup);
        }
    }
    while (done < a->n) {
        step_wait(sup, 1000);
        done += drain(sup);
    }
    sbx_supervisor_free(sup);
    return NULL;
}

/* Spawn and reap n children over `threads` threads; children per second. */
static double tp_round(const sbx_policy *policy, size_t n, int threads)
{
    pthread_t th[2];
    struct tp_arg a[2];
    atomic_store(&bare_reaped, 0);
    uint64_t t0 = now_ns();
    for (int t = 0; t < threads; t++) {
        a[t] = (struct tp_arg){policy, n / (size_t)threads};
        pthread_create(&th[t], NULL, tp_thread, &a[t]);
    }
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    if (!policy) {
        size_t total = (n / (size_t)threads) * (size_t)threads;
        while (atomic_load(&bare_reaped) < total) {
            if (waitpid(-1, NULL, 0) < 0) {
                if (errno == EINTR)
                    continue;
                die("waitpid", -errno);
            }
            atomic_fetch_add(&bare_reaped, 1);
        }
    }
    return (double)n / ((double)(now_ns() - t0) / 1e9);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int ahead = SBX_PREPARE_AHEAD_AUTO; /* --ahead, --no-ahead: sbx_prepare_ahead() */

static void throughput(size_t n, int rounds)
{
    sbx_policy *p;
    int r = sbx_policy_new(&p);
    if (r < 0 || (r = sbx_prepare_ahead(p, ahead)) < 0)
        die("sbx_policy_new", r);
    tp_round(p, 64, 1); /* warm-up: compile the policy, fill caches */
    tp_round(NULL, 64, 1);
    const char *names[4] = {"posix_spawn, 1 thread", "sbx default policy, 1 thread",
                            "posix_spawn, 2 threads", "sbx default policy, 2 threads"};
    double rate[4][16];
    if (rounds > 16)
        rounds = 16;
    for (int k = 0; k < rounds; k++)
        for (int m = 0; m < 4; m++)
            rate[m][k] = tp_round(m % 2 ? p : NULL, n, m < 2 ? 1 : 2);
    printf("\n### Spawn throughput (/bin/true, %zu children per round, %d rounds, spawned and "
           "reaped)\n\n| mode | median children/s | min | max | vs posix_spawn |\n"
           "|---|---:|---:|---:|---:|\n",
           n, rounds);
    double med[4];
    for (int m = 0; m < 4; m++) {
        qsort(rate[m], (size_t)rounds, sizeof(double), cmp_double);
        med[m] = rate[m][rounds / 2];
        printf("| %s | %.0f | %.0f | %.0f | %.2f |\n", names[m], med[m], rate[m][0],
               rate[m][rounds - 1], med[m] / med[m - m % 2]);
    }
    fflush(stdout);
    sbx_policy_free(p);
}

/* ---- memory ------------------------------------------------------------------------ */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f || fscanf(f, "%ld %ld", &size, &res) != 2)
        res = 0;
    if (f)
        fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void raise_nofile(size_t want)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void memory(size_t n)
{
    static const char *const argv[] = {"/bin/sleep", "600", NULL};
    raise_nofile(n * 2 + 256);
    sbx_policy *p;
    int r = sbx_policy_new(&p);
    if (r < 0 || (r = sbx_limit_wall_time(p, 600000)) < 0)
        die("policy", r);
    sbx_io io = null_io();
    sbx_supervisor *sup;
    if ((r = sbx_supervisor_new(&sup)) < 0)
        die("sbx_supervisor_new", r);
    /* warm-up, so that the policy's plan and the supervisor's arrays are not counted
     * as per-child (the arrays are: they grow with the children) */
    sbx_child *c;
    if ((r = sbx_spawn(p, argv, &io, &c)) < 0)
        die("sbx_spawn", r);
    sbx_child_free(c);
    malloc_trim(0);
    struct mallinfo2 m0 = mallinfo2();
    long rss0 = rss_kib();
    for (size_t i = 0; i < n; i++)
        if ((r = sbx_supervisor_spawn(sup, p, argv, &io, NULL)) < 0)
            die("sbx_supervisor_spawn", r);
    if ((r = sbx_supervisor_step(sup)) < 0)
        die("step", r);
    struct mallinfo2 m1 = mallinfo2();
    long rss1 = rss_kib();
    double heap = ((double)m1.uordblks - (double)m0.uordblks) / (double)n;
    double rss = (double)(rss1 - rss0) * 1024 / (double)n;
    printf("\n### Host memory per supervised child (%zu children sleeping, default policy "
           "with a wall-clock limit)\n\n| measure | bytes per child |\n|---|---:|\n"
           "| heap in use (mallinfo2 uordblks) | %.0f |\n| RSS (/proc/self/statm) | %.0f |\n",
           n, heap, rss);
    fflush(stdout);
    sbx_supervisor_free(sup);
    sbx_policy_free(p);
}

/* ---- spawn cost with many children alive ---------------------------------------------- */

/* Spawn-to-reap latency of one /bin/true, sbx_spawn + sbx_child_wait against
 * posix_spawn + waitpid, alternated, with `live` children sleeping in a
 * supervisor (each holding a pidfd and a listener: the host's descriptor table
 * grows with them, and every clone copies it before the child closes it). */
static void scaling(const size_t *lives, size_t n_lives, size_t iters)
{
    static const char *const bg_argv[] = {"/bin/sleep", "600", NULL};
    static char *const true_argv[] = {"/bin/true", NULL};
    size_t most = 0;
    for (size_t i = 0; i < n_lives; i++)
        most = lives[i] > most ? lives[i] : most;
    raise_nofile(most * 2 + 256);
    sbx_policy *p;
    int r = sbx_policy_new(&p);
    if (r < 0)
        die("sbx_policy_new", r);
    sbx_io io = null_io();
    uint64_t *a = calloc(iters, sizeof(*a)), *b = calloc(iters, sizeof(*b));
    printf("\n### Spawn-to-reap of /bin/true with many children alive (µs, median of %zu, "
           "alternated)\n\n| children alive | host descriptors | sbx_spawn + sbx_child_wait | "
           "posix_spawn + waitpid | ratio |\n|---|---:|---:|---:|---:|\n",
           iters);
    sbx_supervisor *sup;
    if ((r = sbx_supervisor_new(&sup)) < 0)
        die("sbx_supervisor_new", r);
    size_t alive = 0;
    for (size_t li = 0; li < n_lives; li++) {
        for (; alive < lives[li]; alive++)
            if ((r = sbx_supervisor_spawn(sup, p, bg_argv, &io, NULL)) < 0)
                die("sbx_supervisor_spawn", r);
        for (size_t k = 0; k < iters; k++) {
            sbx_child *c;
            sbx_result *res;
            uint64_t t0 = now_ns();
            if ((r = sbx_spawn(p, (const char *const *)true_argv, &io, &c)) < 0 ||
                (r = sbx_child_wait(c, &res)) < 0)
                die("sbx_spawn/sbx_child_wait", r);
            sbx_result_free(res);
            sbx_child_free(c);
            uint64_t t1 = now_ns();
            pid_t pid;
            int e = posix_spawn(&pid, true_argv[0], NULL, NULL, true_argv, environ);
            if (e)
                die("posix_spawn", -e);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
            uint64_t t2 = now_ns();
            a[k] = t1 - t0;
            b[k] = t2 - t1;
        }
        qsort(a, iters, sizeof(*a), cmp_u64);
        qsort(b, iters, sizeof(*b), cmp_u64);
        long fds = 0;
        for (int fd = 0; fd < 65536; fd++)
            fds += fcntl(fd, F_GETFD) >= 0;
        printf("| %zu | %ld | %.0f | %.0f | %.2f |\n", lives[li], fds, (double)a[iters / 2] / 1e3,
               (double)b[iters / 2] / 1e3, (double)a[iters / 2] / (double)b[iters / 2]);
        fflush(stdout);
    }
    sbx_supervisor_free(sup);
    free(a);
    free(b);
    sbx_policy_free(p);
}

/* ---- latency ----------------------------------------------------------------------- */

static void print_lat(const char *name, uint64_t *ns, size_t k)
{
    qsort(ns, k, sizeof(*ns), cmp_u64);
    size_t p50 = (k + 1) / 2 - 1, p99 = (k * 99 + 99) / 100 - 1;
    printf("| %s | %.1f | %.1f | %.1f |\n", name, (double)ns[p50] / 1e3, (double)ns[p99] / 1e3,
           (double)ns[k - 1] / 1e3);
}

static void latency(const size_t *lives, size_t n_lives, size_t iters)
{
    static const char *const bg_argv[] = {"/bin/sleep", "600", NULL};
    static const char *const cat_argv[] = {"/bin/cat", NULL};
    size_t most = 0;
    for (size_t i = 0; i < n_lives; i++)
        most = lives[i] > most ? lives[i] : most;
    raise_nofile(most * 2 + 256);
    sbx_policy *p;
    int r = sbx_policy_new(&p);
    if (r < 0 || (r = sbx_limit_wall_time(p, 600000)) < 0)
        die("policy", r);
    uint64_t *ns = calloc(iters, sizeof(*ns));
    printf("\n### Exit-to-report latency (µs; from closing a /bin/cat child's stdin to "
           "sbx_supervisor_next() returning it; %zu exits each)\n\n"
           "| children alive | median | p99 | max |\n|---|---:|---:|---:|\n",
           iters);

    /* the floor: a bare posix_spawn cat, waitpid */
    for (size_t k = 0; k < iters; k++) {
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) != 0)
            die("pipe2", -errno);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        if (posix_spawn(&pid, cat_argv[0], &fa, NULL, (char *const *)cat_argv, environ) != 0)
            die("posix_spawn", -errno);
        posix_spawn_file_actions_destroy(&fa);
        close(pfd[0]);
        usleep(2000); /* let it block in read */
        uint64_t t0 = now_ns();
        close(pfd[1]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        ns[k] = now_ns() - t0;
    }
    print_lat("1 (bare posix_spawn + waitpid: the floor)", ns, iters);

    sbx_io bg_io = null_io();
    sbx_io io = null_io();
    io.stdin_mode = SBX_STDIO_PIPE;
    for (size_t li = 0; li < n_lives; li++) {
        sbx_supervisor *sup;
        if ((r = sbx_supervisor_new(&sup)) < 0)
            die("sbx_supervisor_new", r);
        for (size_t i = 0; i + 1 < lives[li]; i++)
            if ((r = sbx_supervisor_spawn(sup, p, bg_argv, &bg_io, NULL)) < 0)
                die("sbx_supervisor_spawn", r);
        for (size_t k = 0; k < iters; k++) {
            sbx_child *probe;
            if ((r = sbx_supervisor_spawn(sup, p, cat_argv, &io, &probe)) < 0)
                die("sbx_supervisor_spawn", r);
            usleep(2000);
            uint64_t t0 = now_ns();
            if ((r = sbx_child_close_stdio(probe, 0)) < 0)
                die("sbx_child_close_stdio", r);
            for (;;) {
                sbx_child *c;
                sbx_result *res;
                step_wait(sup, 5000);
                r = sbx_supervisor_next(sup, &c, &res);
                if (r == -EAGAIN)
                    continue;
                if (r < 0)
                    die("sbx_supervisor_next", r);
                ns[k] = now_ns() - t0;
                if (c != probe || sbx_result_status(res) != SBX_STATUS_EXITED) {
                    fprintf(stderr, "unexpected child ended\n");
                    exit(1);
                }
                sbx_result_free(res);
                sbx_child_free(c);
                break;
            }
        }
        char name[64];
        snprintf(name, sizeof(name), "%zu (sbx supervisor)", lives[li]);
        print_lat(name, ns, iters);
        fflush(stdout);
        sbx_supervisor_free(sup);
    }
    free(ns);
    sbx_policy_free(p);
}

int main(int argc, char **argv)
{
    size_t n = 2000, mem_n = 1000, iters = 200;
    int rounds = 3;
    size_t lives[8] = {10, 100, 1000};
    size_t n_lives = 3;
    const char *only = NULL;
    static const struct option opts[] = {
        {"rounds", required_argument, NULL, 'r'},   {"mem", required_argument, NULL, 'm'},
        {"lat-iter", required_argument, NULL, 'k'}, {"lat", required_argument, NULL, 'l'},
        {"only", required_argument, NULL, 'o'},     {"ahead", no_argument, NULL, 'a'},
        {"no-ahead", no_argument, NULL, 'A'},       {NULL, 0, NULL, 0}};
    for (int c; (c = getopt_long(argc, argv, "n:", opts, NULL)) != -1;) {
        switch (c) {
        case 'n': n = strtoul(optarg, NULL, 10); break;
        case 'r': rounds = atoi(optarg); break;
        case 'm': mem_n = strtoul(optarg, NULL, 10); break;
        case 'k': iters = strtoul(optarg, NULL, 10); break;
        case 'o': only = optarg; break;
        case 'a': ahead = SBX_PREPARE_AHEAD_ON; break;
        case 'A': ahead = SBX_PREPARE_AHEAD_OFF; break;
        case 'l': {
            n_lives = 0;
            for (char *s = strtok(optarg, ","); s && n_lives < 8; s = strtok(NULL, ","))
                lives[n_lives++] = strtoul(s, NULL, 10);
            break;
        }
        default:
            fprintf(stderr,
                    "usage: %s [-n N] [--rounds R] [--mem N] [--lat-iter K] "
                    "[--lat 10,100,1000] [--only throughput|memory|latency|scaling] "
                    "[--ahead|--no-ahead]\n",
                    argv[0]);
            return 2;
        }
    }
    if (n < 2 || rounds < 1 || mem_n < 1 || iters < 1 || n_lives == 0) {
        fprintf(stderr, "sbx_throughput_bench: bad option value\n");
        return 2;
    }
    double load[3] = {0};
    getloadavg(load, 3);
    printf("sbx_throughput_bench: %ld CPUs, load average %.2f %.2f %.2f\n",
           sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
    if (!only || strcmp(only, "throughput") == 0)
        throughput(n, rounds);
    if (!only || strcmp(only, "memory") == 0)
        memory(mem_n);
    if (!only || strcmp(only, "latency") == 0)
        latency(lives, n_lives, iters);
    if (!only || strcmp(only, "scaling") == 0) {
        static const size_t scale_lives[] = {0, 1000, 4000};
        scaling(scale_lives, 3, iters);
    }
    return 0;
}
