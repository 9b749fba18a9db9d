/* Helpers shared by the live suites of the core (spawn, limits, supervise). */
#ifndef SBX_LIVE_H
#define SBX_LIVE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include <agentsbx/agentsbx.h>

#define PROBE(name) SBX_PROBE_DIR "/" name

/* A new policy with the isolation the layer suites test: minimal (no
 * namespaces but those a case asks for), so that each layer is tested on its
 * own; with SBX_TEST_ISOLATION=auto in the environment (the suites' __auto
 * twins, tests/live/CMakeLists.txt) the library's default instead, so that
 * the same hostile probes run in the default configuration too.
 * tests/cli/test_mustwork.sh runs real workloads in the default. */
static inline sbx_policy *layer_policy_new(void)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    test_isolation(p);
    return p;
}

/* A new policy, or the case fails (see layer_policy_new()). */
static inline sbx_policy *policy_new(void)
{
    return layer_policy_new();
}

/* The result as JSON, for failure messages (static buffer). */
static inline const char *describe(const sbx_result *r)
{
    static char buf[1024];
    if (sbx_result_to_json(r, buf, sizeof(buf)) < 0)
        snprintf(buf, sizeof(buf), "(no JSON)");
    return buf;
}

/* Status must be `status`; for EXITED `value` is the exit code, otherwise the
 * signal (0: any signal). */
static inline void assert_status(const sbx_result *r, int status, int value)
{
    int exited = status == SBX_STATUS_EXITED;
    int sig = sbx_result_signal(r);
    if (sbx_result_status(r) != status || sbx_result_exit_code(r) != (exited ? value : -1) ||
        (exited ? sig != 0 : (value ? sig != value : sig <= 0)))
        fail_msg("expected %s %d, got %s", sbx_status_name(status), value, describe(r));
}

/* Whether pid is gone or a zombie (dead, waiting for its new parent to reap it). */
static inline int process_dead(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* "pid (comm) S ..." */
    return paren && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Descriptors open in this process. */
static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* less the directory's own */
}

/* Start a local server (argv, searched in PATH) that prints the port it
 * listens on as its first line: *pid its pid (killed with this process, by
 * PR_SET_PDEATHSIG, should a case fail), returns the port, or 0 with what
 * it printed in `line` when it did not start. */
static inline unsigned start_server(char *const argv[], pid_t *pid, char line[32])
{
    int pfd[2];
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    *pid = fork();
    assert_true(*pid >= 0);
    if (*pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pfd[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    while (n < 31) {
        ssize_t r = read(pfd[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(pfd[0]);
    return (unsigned)atoi(line);
}

/* Fork a copy that reports over a pipe: in the copy (0 returned) *fd is the
 * write end, in this process (the copy's pid returned) the read end. */
static inline pid_t fork_reporting(int *fd)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    close(p[pid == 0 ? 0 : 1]);
    *fd = p[pid == 0 ? 1 : 0];
    return pid;
}

/* A forked copy's report: everything it wrote to rd (closed here) until it
 * ended, in buf; its wait status. */
static inline int copy_report(pid_t pid, int rd, char *buf, size_t size)
{
    size_t got = 0;
    for (ssize_t n; got < size - 1 && (n = read(rd, buf + got, size - 1 - got)) > 0;)
        got += (size_t)n;
    buf[got] = '\0';
    close(rd);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

/* No child, running or zombie, is left to this process. */
static inline void assert_no_children(void)
{
    int st;
    pid_t got = waitpid(-1, &st, WNOHANG | __WALL);
    if (got != -1 || errno != ECHILD)
        fail_msg("waitpid(-1, WNOHANG|__WALL) = %d: a child or zombie is left", (int)got);
}

/* sbx_run() with no input that must succeed. */
static inline sbx_result *run_ok(const sbx_policy *p, const char *const *argv)
{
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &r));
    assert_non_null(r);
    return r;
}

/* Run a counting probe (its report: "<key>=N errno=NAME") under p; it must
 * exit 0. Stores N and NAME. */
static inline void run_counting_probe(const sbx_policy *p, const char *const *argv, const char *key,
                                      long *count, char errname[32])
{
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    const char *out = sbx_result_stdout(r, NULL);
    size_t k = strlen(key);
    char *end = NULL;
    if (strncmp(out, key, k) == 0 && out[k] == '=')
        *count = strtol(out + k + 1, &end, 10);
    if (end == NULL || sscanf(end, " errno=%31s", errname) != 1)
        fail_msg("unexpected probe output '%s': %s", out, describe(r));
    sbx_result_free(r);
}

/* Run argv unconfined (execvpe) with the environment less its proxy variables
 * (*_proxy=, any case); its standard output (and error, with_stderr; else
 * /dev/null) in out, NUL-terminated, cut at size - 1; the exit status, or 128
 * + the signal. The environment is copied before the fork: a thread of the
 * caller's (a broker's) may hold a lock the child would need. */
static inline int run_plain(const char *const argv[], bool with_stderr, char *out, size_t size)
{
    extern char **environ;
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **envp = calloc(n_env + 1, sizeof(*envp));
    assert_non_null(envp);
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (!strcasestr(environ[i], "_proxy=") ||
            strchr(environ[i], '=') < strcasestr(environ[i], "_proxy="))
            envp[k++] = environ[i];
    int pfd[2];
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        if (with_stderr)
            dup2(pfd[1], 2);
        else
            dup2(open("/dev/null", O_WRONLY), 2);
        execvpe(argv[0], (char *const *)argv, envp);
        _exit(127);
    }
    free(envp);
    close(pfd[1]);
    size_t n = 0;
    for (;;) {
        char sink[4096];
        char *dst = n < size - 1 ? out + n : sink;
        size_t room = n < size - 1 ? size - 1 - n : sizeof(sink);
        ssize_t r = read(pfd[0], dst, room);
        if (r <= 0)
            break;
        if (dst != sink)
            n += (size_t)r;
    }
    out[n] = '\0';
    close(pfd[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Whether prog is installed and runs here (its --version; openssl's version). */
static inline bool have_program(const char *prog)
{
    const char *argv[] = {prog, strcmp(prog, "openssl") == 0 ? "version" : "--version", NULL};
    char out[512];
    return run_plain(argv, true, out, sizeof(out)) == 0;
}

/* A self-signed certificate for a test's TLS server, valid for a day, with
 * the names of `san` ("DNS:a.test,IP:127.0.0.1"): openssl's exit status,
 * what it printed in out. */
static inline int make_test_cert(const char *cert, const char *key, const char *cn, const char *san,
                                 char *out, size_t size)
{
    char subj[128], ext[512];
    snprintf(subj, sizeof(subj), "/CN=%s", cn);
    snprintf(ext, sizeof(ext), "subjectAltName=%s", san);
    const char *const argv[] = {
        "openssl", "req",     "-x509",   "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes",  "-keyout", key,       "-out",    cert, "-days",    "1",
        "-subj",   subj,      "-addext", ext,       NULL};
    return run_plain(argv, true, out, size);
}

/* Skip the case, with the reason, when prog is missing. */
#define NEED_PROGRAM(prog)                                                                         \
    do {                                                                                           \
        if (!have_program(prog))                                                                   \
            SBX_SKIP("%s is not installed (scripts/install-deps.sh)", prog);                       \
    } while (0)

#endif
