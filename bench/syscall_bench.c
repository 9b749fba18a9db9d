/* sbx_syscall_bench: what the seccomp filter costs an allowed system call.
 *
 *   sbx_syscall_bench [ITERATIONS]
 *
 * Runs itself as a child in several set-ups and has the child measure, on
 * itself, the cost of two allowed calls: getppid() (no argument check: the
 * number is looked up in the filter's binary tree) and ioctl(pipe, FIONREAD)
 * (the filter also checks the request's low 32 bits against TIOCSTI and
 * TIOCLINUX). Set-ups: no filter (plain posix_spawn), the default policy
 * (deny list and monitor), the default policy with 50 more denied calls (a
 * bigger filter), and allow-list mode. The set-ups are interleaved, 5
 * children each, each child timing 7 rounds; each figure is the best of
 * them, in nanoseconds per call; the overhead is the difference with no
 * filter.
 *
 *   sbx_syscall_bench --child ITERATIONS   (internal) measure and print
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "extra_syscalls.h"

extern char **environ;

#define ROUNDS 7 /* in each child */
#define OUTER  5 /* children per set-up */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The child: best-of-ROUNDS ns per call for each system call. */
static int child(long iterations)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    double best_getppid = 1e18, best_ioctl = 1e18;
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t t0 = now_ns();
        for (long i = 0; i < iterations; i++)
            syscall(SYS_getppid);
        uint64_t t1 = now_ns();
        for (long i = 0; i < iterations; i++) {
            int n;
            if (ioctl(fds[0], FIONREAD, &n) != 0)
                return 2;
        }
        uint64_t t2 = now_ns();
        double g = (double)(t1 - t0) / (double)iterations;
        double io = (double)(t2 - t1) / (double)iterations;
        if (g < best_getppid)
            best_getppid = g;
        if (io < best_ioctl)
            best_ioctl = io;
    }
    printf("%.1f %.1f\n", best_getppid, best_ioctl);
    return 0;
}

static int parse(const char *out, double *getppid_ns, double *ioctl_ns)
{
    return sscanf(out, "%lf %lf", getppid_ns, ioctl_ns) == 2 ? 0 : -1;
}

static int run_unconfined(const char *self, const char *iters, double *g, double *io)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    const char *argv[] = {self, "--child", iters, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, self, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0)
        return -1;
    char buf[256];
    ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    buf[n] = '\0';
    return parse(buf, g, io);
}

static int run_confined(const sbx_policy *p, const char *self, const char *iters, double *g,
                        double *io, unsigned *layers)
{
    const char *argv[] = {self, "--child", iters, NULL};
    sbx_result *r = NULL;
    int rc = sbx_run(p, argv, NULL, 0, &r);
    if (rc != 0) {
        fprintf(stderr, "sbx_run: %s\n", sbx_last_error());
        return -1;
    }
    if (sbx_result_status(r) != SBX_STATUS_EXITED || sbx_result_exit_code(r) != 0 ||
        sbx_result_violation_count(r) != 0) {
        char json[4096];
        sbx_result_to_json(r, json, sizeof(json));
        fprintf(stderr, "child failed: %s\n%s", json, sbx_result_stderr(r, NULL));
        sbx_result_free(r);
        return -1;
    }
    *layers = sbx_result_layers(r);
    rc = parse(sbx_result_stdout(r, NULL), g, io);
    sbx_result_free(r);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child(atol(argv[2]));
    const char *iters = argc > 1 ? argv[1] : "1000000";
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';

    const char *const *extra = sbx_extra_syscalls;

    /* The child is this program: it needs to read the library it links. */
    Dl_info info;
    char libdir[4096] = "";
    if (dladdr((void *)sbx_version, &info) && info.dli_fname && info.dli_fname[0] == '/') {
        snprintf(libdir, sizeof(libdir), "%s", info.dli_fname);
        dirname(libdir);
    }

    /* Policies for the three filtered set-ups, compiled once. */
    static const char *const names[] = {"no filter (posix_spawn)",
                                        "default policy (deny list, monitor)",
                                        "default + 50 denied calls", "allow-list mode"};
    sbx_policy *policies[4] = {NULL};
    for (int setup = 1; setup < 4; setup++) {
        sbx_policy *p;
        if (sbx_policy_new(&p) != 0 || sbx_set_best_effort(p, SBX_LAYER_LANDLOCK) != 0 ||
            (libdir[0] && sbx_allow_path(p, libdir, SBX_FS_READ) != 0))
            return 1;
        if (setup == 2) {
            for (size_t i = 0; extra[i]; i++)
                if (sbx_deny_syscall(p, extra[i], EPERM) != 0)
                    return 1;
        } else if (setup == 3 && sbx_set_syscall_allowlist(p, 1) != 0) {
            return 1;
        }
        policies[setup] = p;
    }
    /* Interleave the set-ups, OUTER times, and keep the best of each: the
     * machine's noise (other processes, frequency changes) hits them alike. */
    double best_g[4], best_io[4];
    for (int setup = 0; setup < 4; setup++)
        best_g[setup] = best_io[setup] = 1e18;
    for (int outer = 0; outer < OUTER; outer++) {
        for (int setup = 0; setup < 4; setup++) {
            double g, io;
            unsigned layers = SBX_LAYER_SECCOMP;
            int rc = setup == 0 ? run_unconfined(self, iters, &g, &io)
                                : run_confined(policies[setup], self, iters, &g, &io, &layers);
            if (rc != 0 || !(layers & SBX_LAYER_SECCOMP)) {
                fprintf(stderr, "%s: the run failed\n", names[setup]);
                return 1;
            }
            if (g < best_g[setup])
                best_g[setup] = g;
            if (io < best_io[setup])
                best_io[setup] = io;
        }
    }
    printf("%-36s %11s %9s %13s %9s\n", "set-up (best of runs, ns per call)", "getppid", "overhead",
           "ioctl FIONREAD", "overhead");
    for (int setup = 0; setup < 4; setup++) {
        if (setup == 0)
            printf("%-36s %11.1f %9s %13.1f %9s\n", names[0], best_g[0], "-", best_io[0], "-");
        else
            printf("%-36s %11.1f %+9.1f %13.1f %+9.1f\n", names[setup], best_g[setup],
                   best_g[setup] - best_g[0], best_io[setup], best_io[setup] - best_io[0]);
        sbx_policy_free(policies[setup]);
    }
    return 0;
}
