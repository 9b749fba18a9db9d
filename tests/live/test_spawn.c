/* Live tests of sbx_spawn()/sbx_run() with real children: exit codes and
 * signals, capture of stdout/stderr, stdin, output truncation, the JSON
 * result; the clean environment, closed descriptors, new session, core limit,
 * no_new_privs and umask (each confinement claim checked with a C probe from
 * tests/hostile, and with the same probe run unconfined as the control that
 * proves the check can fail); setup failures reported with their stage and
 * errno before the target runs; and the sbx_io stdio modes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "live.h"

extern char **environ;

/* ---- helpers ------------------------------------------------------------- */

/* sbx_run() that must succeed. */
static sbx_result *run(const sbx_policy *p, const char *const *argv, const void *input,
                       size_t input_len)
{
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_run(p, argv, input, input_len, &r));
    assert_non_null(r);
    return r;
}

/* Run a probe confined with a fresh default policy (after `tweak`, if any);
 * it must exit 0. Returns its stdout (malloc'd). */
static char *run_probe(const char *const *argv, void (*tweak)(sbx_policy *))
{
    sbx_policy *p = policy_new();
    if (tweak)
        tweak(p);
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 0);
    char *out = strdup(sbx_result_stdout(r, NULL));
    sbx_result_free(r);
    sbx_policy_free(p);
    return out;
}

/* Read a descriptor to end-of-file (waiting with poll() if it is non-blocking). */
static char *read_all(int fd, size_t *len_out)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        assert_non_null(buf);
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n > 0) {
            len += (size_t)n;
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            assert_int_equal(poll(&pfd, 1, 10000), 1);
        } else if (errno != EINTR) {
            fail_msg("read: %s", strerror(errno));
        }
    }
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

/* The control: run argv with plain posix_spawn, inheriting everything from
 * this process; it must exit 0. Returns its stdout (malloc'd). */
static char *run_unconfined(const char *const *argv)
{
    int pipefd[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    close(pipefd[1]);
    char *out = read_all(pipefd[0], NULL);
    close(pipefd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return out;
}

/* Whether `text` has a line that is exactly `line` (prefix: starts with it). */
static int find_line(const char *text, const char *line, int prefix)
{
    size_t n = strlen(line);
    for (const char *s = text; s != NULL; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
        if (strncmp(s, line, n) == 0 && (prefix || s[n] == '\n' || s[n] == '\0'))
            return 1;
    return 0;
}

#define assert_line(text, line)                                                                    \
    do {                                                                                           \
        if (!find_line((text), (line), 0))                                                         \
            fail_msg("no line '%s' in:\n%s", (line), (text));                                      \
    } while (0)

/* A fresh directory under /tmp (unlinked by remove_tmp()). */
static void make_tmp(char dir[64])
{
    snprintf(dir, 64, "/tmp/sbx-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

/* Remove `dir` and the files named in `files` (relative to it). */
static void remove_tmp(const char *dir, const char *const *files)
{
    char path[256];
    for (; *files; files++) {
        snprintf(path, sizeof(path), "%s/%s", dir, *files);
        unlink(path);
    }
    rmdir(dir);
}

/* Write `text` to `path` with `mode`. */
static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* ---- exit codes and signals ---------------------------------------------- */

static void test_spawn__exit_codes(void **state)
{
    static const int codes[] = {0, 3, 255};
    sbx_policy *p = policy_new();
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char script[32];
        snprintf(script, sizeof(script), "exit %d", codes[i]);
        const char *argv[] = {"/bin/sh", "-c", script, NULL};
        sbx_result *r = run(p, argv, NULL, 0);
        assert_status(r, SBX_STATUS_EXITED, codes[i]);
        sbx_result_free(r);
    }
    sbx_policy_free(p);
}

static void test_spawn__death_by_signal(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"/bin/sh", "-c", "kill -TERM $$; sleep 5", NULL};
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_SIGNALED, SIGTERM);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_spawn__bare_name_uses_child_path(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_env(p, "PATH", SBX_PROBE_DIR));
    static const char *const argv[] = {"probe_env", NULL};
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_line(sbx_result_stdout(r, NULL), "PATH=" SBX_PROBE_DIR);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- capture, stdin, truncation, JSON ------------------------------------ */

static void test_spawn__run_captures_stdout_and_stderr(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"/bin/sh", "-c", "printf 'out\\n'; printf 'err' >&2; exit 4",
                                       NULL};
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 4);
    size_t len = 0;
    assert_string_equal(sbx_result_stdout(r, &len), "out\n");
    assert_int_equal(len, 4);
    assert_string_equal(sbx_result_stderr(r, &len), "err");
    assert_int_equal(len, 3);
    assert_int_equal(sbx_result_truncated(r, 1), 0);
    assert_int_equal(sbx_result_truncated(r, 2), 0);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_spawn__run_feeds_stdin(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"/bin/cat", NULL};
    static const char input[] = "abc\0def\n"; /* binary-safe: an embedded NUL */
    sbx_result *r = run(p, argv, input, sizeof(input) - 1);
    assert_status(r, SBX_STATUS_EXITED, 0);
    size_t len = 0;
    const char *out = sbx_result_stdout(r, &len);
    assert_int_equal(len, sizeof(input) - 1);
    assert_memory_equal(out, input, sizeof(input) - 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* More input than a pipe holds, echoed back: sbx_run must write and read at once. */
static void test_spawn__run_large_stdin_no_deadlock(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_limit_wall_time(p, 20000));
    size_t n = 1 << 20;
    char *input = malloc(n);
    for (size_t i = 0; i < n; i++)
        input[i] = (char)('a' + i % 26);
    static const char *const argv[] = {"/bin/cat", NULL};
    sbx_result *r = run(p, argv, input, n);
    assert_status(r, SBX_STATUS_EXITED, 0);
    size_t len = 0;
    const char *out = sbx_result_stdout(r, &len);
    assert_int_equal(len, n);
    assert_memory_equal(out, input, n);
    free(input);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_spawn__run_null_input_is_dev_null(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_limit_wall_time(p, 10000)); /* an inherited stdin would block */
    static const char *const argv[] = {"/bin/sh", "-c",
                                       "if read x; then echo got; else echo eof; fi", NULL};
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "eof\n");
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_spawn__run_truncates_output(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_limit_output(p, 10));
    static const char *const argv[] = {"/bin/sh", "-c", "printf 0123456789abcdef; printf xy >&2",
                                       NULL};
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 0);
    size_t len = 0;
    assert_string_equal(sbx_result_stdout(r, &len), "0123456789");
    assert_int_equal(len, 10);
    assert_string_equal(sbx_result_stderr(r, &len), "xy");
    assert_int_equal(sbx_result_truncated(r, 1), 1);
    assert_int_equal(sbx_result_truncated(r, 2), 0);
    assert_int_equal(sbx_result_truncated(r, 0), -EINVAL);
    assert_int_equal(sbx_result_truncated(r, 3), -EINVAL);
    char json[1024];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    assert_non_null(strstr(json, "\"stdout_truncated\":true"));
    assert_non_null(strstr(json, "\"stderr_truncated\":false"));
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* A flood far past the limit: the child must not block on a full pipe. */
static void test_spawn__run_output_flood_is_drained(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_limit_output(p, 1024));
    assert_sbx_ok(sbx_limit_wall_time(p, 20000));
    static const char *const argv[] = {"/usr/bin/head", "-c", "16777216", "/dev/zero", NULL};
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 0);
    size_t len = 0;
    sbx_result_stdout(r, &len);
    assert_int_equal(len, 1024);
    assert_int_equal(sbx_result_truncated(r, 1), 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_spawn__result_to_json(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    sbx_result *r = run(p, argv, NULL, 0);
    int n = sbx_result_to_json(r, NULL, 0); /* size query */
    assert_true(n > 2);
    char *json = malloc((size_t)n + 1);
    assert_int_equal(sbx_result_to_json(r, json, (size_t)n + 1), n);
    assert_int_equal(strlen(json), n);
    assert_int_equal(json[0], '{');
    assert_int_equal(json[n - 1], '}');
    static const char *const keys[] = {"\"status\":\"exited\"",
                                       "\"exit_code\":3",
                                       "\"signal\":0",
                                       "\"wall_ms\":",
                                       "\"user_cpu_ms\":",
                                       "\"system_cpu_ms\":",
                                       "\"peak_rss_bytes\":",
                                       "\"layers\":[",
                                       "\"hygiene\"",
                                       "\"stdout_truncated\":false",
                                       "\"stderr_truncated\":false"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strstr(json, keys[i]) == NULL)
            fail_msg("%s not in %s", keys[i], json);
    char small[8];
    assert_int_equal(sbx_result_to_json(r, small, sizeof(small)), n); /* as snprintf */
    free(json);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_spawn__result_usage(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {PROBE("probe_alloc"), "64", NULL};
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "allocated_mib=64 errno=none\n");
    if (sbx_result_peak_rss_bytes(r) < (64u << 20))
        fail_msg("peak RSS %llu below the 64 MiB the child touched",
                 (unsigned long long)sbx_result_peak_rss_bytes(r));
    assert_true(sbx_result_user_cpu_ns(r) + sbx_result_system_cpu_ns(r) > 0);
    assert_true(sbx_result_wall_ns(r) > 0);
    assert_true(sbx_result_layers(r) & SBX_LAYER_HYGIENE);
    sbx_result_free(r);

    static const char *const sleeper[] = {"/bin/sleep", "0.2", NULL};
    r = run(p, sleeper, NULL, 0);
    assert_true(sbx_result_wall_ns(r) >= 200000000u);
    assert_true(sbx_result_wall_ns(r) < 10000000000u);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- environment --------------------------------------------------------- */

static const char *const probe_env[] = {PROBE("probe_env"), NULL};

/* The child's environment as probe_env prints it, less a TMPDIR line (the
 * private temporary directory the library may give each child). */
static char *child_env(void (*tweak)(sbx_policy *))
{
    char *out = run_probe(probe_env, tweak);
    char *line = strstr(out, "TMPDIR=");
    if (line && (line == out || line[-1] == '\n')) {
        char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        memmove(line, next, strlen(next) + 1);
    }
    return out;
}

static void test_spawn__env_host_secret_absent(void **state)
{
    assert_int_equal(setenv("SBX_SECRET", "x", 1), 0);
    char *control = run_unconfined(probe_env);
    assert_line(control, "SBX_SECRET=x"); /* the probe can see a leak */
    char *out = child_env(NULL);
    if (find_line(out, "SBX_SECRET=", 1))
        fail_msg("host variable leaked:\n%s", out);
    free(out);
    free(control);
}

static void test_spawn__env_default_is_exact(void **state)
{
    char *out = child_env(NULL);
    assert_string_equal(out, "HOME=/\nLANG=C.UTF-8\nPATH=/usr/local/bin:/usr/bin:/bin\n");
    free(out);
}

static void set_workdir_tmp(sbx_policy *p)
{
    assert_sbx_ok(sbx_set_workdir(p, "/tmp"));
}

static void test_spawn__env_home_follows_workdir(void **state)
{
    char *out = child_env(set_workdir_tmp);
    assert_line(out, "HOME=/tmp");
    free(out);
}

static void set_some_env(sbx_policy *p)
{
    assert_sbx_ok(sbx_set_env(p, "SBX_VISIBLE", "hello world"));
    assert_sbx_ok(sbx_set_env(p, "SBX_WITH_EQ", "a=b"));
    assert_sbx_ok(sbx_set_env(p, "SBX_EMPTY", ""));
    assert_sbx_ok(sbx_set_env(p, "PATH", "/opt/x:/bin"));
    assert_sbx_ok(sbx_unset_env(p, "LANG"));
}

static void test_spawn__env_set_and_unset(void **state)
{
    char *out = child_env(set_some_env);
    assert_string_equal(out, "HOME=/\nPATH=/opt/x:/bin\nSBX_EMPTY=\nSBX_VISIBLE=hello world\n"
                             "SBX_WITH_EQ=a=b\n");
    free(out);
}

static void pass_some_env(sbx_policy *p)
{
    assert_int_equal(setenv("SBX_PASSED", "value-at-call", 1), 0);
    assert_sbx_ok(sbx_pass_env(p, "SBX_PASSED"));
    assert_int_equal(setenv("SBX_PASSED", "changed-later", 1), 0); /* read at the call */
    assert_sbx_ok(sbx_set_env(p, "SBX_GONE", "set"));
    assert_int_equal(unsetenv("SBX_GONE"), 0);
    assert_sbx_ok(sbx_pass_env(p, "SBX_GONE")); /* absent in host: removes the setting */
}

static void test_spawn__env_pass_reads_host_value_now(void **state)
{
    char *out = child_env(pass_some_env);
    assert_line(out, "SBX_PASSED=value-at-call");
    if (find_line(out, "SBX_GONE=", 1))
        fail_msg("sbx_pass_env of an absent variable kept the earlier setting:\n%s", out);
    free(out);
}

/* ---- descriptors --------------------------------------------------------- */

static const char *const probe_fds[] = {PROBE("probe_fds"), NULL};

/* Whether the space-separated list `fds` has `fd`. */
static int fd_listed(const char *fds, int fd)
{
    char want[16];
    int n = snprintf(want, sizeof(want), "%d", fd);
    for (const char *s = fds; (s = strstr(s, want)) != NULL; s += n)
        if ((s == fds || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\n'))
            return 1;
    return 0;
}

static void test_spawn__fds_host_fd_not_inherited(void **state)
{
    int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC, on purpose */
    assert_true(leak > 2);
    char *control = run_unconfined(probe_fds);
    if (!fd_listed(control, leak))
        fail_msg("control: fd %d not seen by an unconfined probe: %s", leak, control);
    char *out = run_probe(probe_fds, NULL);
    assert_string_equal(out, "0 1 2\n");
    free(out);
    free(control);
    close(leak);
}

/* Spawn with stdout piped, read it to end-of-file, wait. Returns the result and
 * the output (malloc'd) in *out. */
static sbx_result *spawn_capture(const sbx_policy *p, const char *const *argv, sbx_io *io,
                                 char **out)
{
    io->stdout_mode = SBX_STDIO_PIPE;
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, io, &c));
    int fd = sbx_child_stdio_fd(c, 1);
    assert_true(fd > 2);
    *out = read_all(fd, NULL);
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    sbx_child_free(c);
    return r;
}

static void test_spawn__fds_keep_fds_kept(void **state)
{
    int leak = open("/dev/null", O_RDONLY);
    int kept = open("/dev/null", O_RDONLY | O_CLOEXEC); /* kept even though close-on-exec */
    assert_true(leak > 2 && kept > 2);
    sbx_policy *p = policy_new();
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = SBX_STDIO_NULL;
    io.stderr_mode = SBX_STDIO_NULL;
    io.keep_fds = &kept;
    io.n_keep_fds = 1;
    char *out = NULL;
    sbx_result *r = spawn_capture(p, probe_fds, &io, &out);
    assert_status(r, SBX_STATUS_EXITED, 0);
    char expect[32];
    snprintf(expect, sizeof(expect), "0 1 2 %d\n", kept);
    assert_string_equal(out, expect);
    free(out);
    sbx_result_free(r);
    sbx_policy_free(p);
    close(kept);
    close(leak);
}

/* ---- session, core dumps, no_new_privs, umask ---------------------------- */

static const char *const probe_hygiene[] = {PROBE("probe_hygiene"), NULL};

static void test_spawn__hygiene_new_session(void **state)
{
    char *control = run_unconfined(probe_hygiene);
    assert_line(control, "session_leader=0");
    char *out = run_probe(probe_hygiene, NULL);
    assert_line(out, "session_leader=1");
    free(out);
    free(control);
}

static void test_spawn__hygiene_core_limit_zero(void **state)
{
    char *out = run_probe(probe_hygiene, NULL);
    if (!find_line(out, "core=0/", 1))
        fail_msg("child may dump core:\n%s", out);
    free(out);

    /* Control: give this process a core limit and see an unconfined probe inherit it. */
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
    if (rl.rlim_max == 0)
        SBX_SKIP("control impossible: the host's hard RLIMIT_CORE is 0");
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1u << 20 : rl.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_CORE, &rl), 0);
    char *control = run_unconfined(probe_hygiene);
    if (find_line(control, "core=0/", 1))
        fail_msg("control: the unconfined probe did not see a core limit:\n%s", control);
    out = run_probe(probe_hygiene, NULL); /* still 0 with a permissive host */
    if (!find_line(out, "core=0/", 1))
        fail_msg("child may dump core when the host may:\n%s", out);
    free(out);
    free(control);
}

static void test_spawn__hygiene_no_new_privs(void **state)
{
    char *out = run_probe(probe_hygiene, NULL);
    assert_line(out, "no_new_privs=1");
    free(out);
    char *control = run_unconfined(probe_hygiene);
    if (find_line(control, "no_new_privs=1", 0))
        SBX_SKIP("control impossible: this host process already has NoNewPrivs");
    assert_line(control, "no_new_privs=0");
    free(control);
}

static void test_spawn__hygiene_umask_077(void **state)
{
    mode_t old = umask(022);
    char *control = run_unconfined(probe_hygiene);
    assert_line(control, "umask=0022");
    char *out = run_probe(probe_hygiene, NULL);
    assert_line(out, "umask=0077");
    umask(old);
    free(out);
    free(control);
}

/* ---- setup failures ------------------------------------------------------ */

/* Spawn argv under p: it must fail with `err`, at one of the stages given
 * (stage2 may repeat stage1), with a message containing `needle`. */
static void expect_spawn_failure(const sbx_policy *p, const char *const *argv, int err, int stage1,
                                 int stage2, const char *needle)
{
    sbx_child *c = NULL;
    assert_sbx_error(sbx_spawn(p, argv, NULL, &c), err, needle);
    assert_null(c);
    int stage = sbx_last_error_stage();
    if (stage != stage1 && stage != stage2)
        fail_msg("stage %s, expected %s or %s (%s)", sbx_stage_name(stage), sbx_stage_name(stage1),
                 sbx_stage_name(stage2), sbx_last_error());
    /* sbx_run reports the same failure. */
    sbx_result *r = NULL;
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), err, needle);
    assert_null(r);
}

/* argv of a target that creates the file `marker` if it ever runs. */
#define MARKER_ARGV(marker)                                                                        \
    {                                                                                              \
        "/bin/sh", "-c", ": > \"$0\"", (marker), NULL                                              \
    }

static void assert_not_ran(const char *marker)
{
    if (access(marker, F_OK) == 0)
        fail_msg("the target ran although the spawn failed (%s exists)", marker);
}

static void test_spawn__setup_workdir_missing(void **state)
{
    char dir[64], marker[128];
    make_tmp(dir);
    snprintf(marker, sizeof(marker), "%s/ran", dir);
    const char *argv[] = MARKER_ARGV(marker);

    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_workdir(p, "/nope"));
    expect_spawn_failure(p, argv, -ENOENT, SBX_STAGE_WORKDIR, SBX_STAGE_WORKDIR, "chdir(/nope)");
    assert_non_null(strstr(sbx_last_error(), "No such file or directory"));
    assert_not_ran(marker);

    /* Control: with a good workdir the same target does run. */
    assert_sbx_ok(sbx_set_workdir(p, dir));
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_int_equal(access(marker, F_OK), 0);
    sbx_result_free(r);
    sbx_policy_free(p);
    remove_tmp(dir, (const char *const[]){"ran", NULL});
}

static void test_spawn__setup_workdir_not_a_directory(void **state)
{
    char dir[64], marker[128], file[128], needle[160];
    make_tmp(dir);
    snprintf(marker, sizeof(marker), "%s/ran", dir);
    snprintf(file, sizeof(file), "%s/file", dir);
    snprintf(needle, sizeof(needle), "chdir(%s)", file);
    write_file(file, "", 0600);
    const char *argv[] = MARKER_ARGV(marker);

    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_workdir(p, file));
    expect_spawn_failure(p, argv, -ENOTDIR, SBX_STAGE_WORKDIR, SBX_STAGE_WORKDIR, needle);
    assert_not_ran(marker);
    sbx_policy_free(p);
    remove_tmp(dir, (const char *const[]){"file", NULL});
}

static void test_spawn__setup_program_not_in_path(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"sbx-no-such-program", NULL};
    expect_spawn_failure(p, argv, -ENOENT, SBX_STAGE_PROGRAM, SBX_STAGE_EXEC,
                         "sbx-no-such-program");
    sbx_policy_free(p);
}

/* `sh` is in the host's PATH, but the child's PATH is what is searched. */
static void test_spawn__setup_program_not_in_child_path(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_env(p, "PATH", "/nonexistent"));
    static const char *const argv[] = {"sh", "-c", "exit 0", NULL};
    expect_spawn_failure(p, argv, -ENOENT, SBX_STAGE_PROGRAM, SBX_STAGE_EXEC, "sh");
    sbx_policy_free(p);
}

static void test_spawn__setup_program_absolute_missing(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"/bin/sbx-no-such-program", NULL};
    expect_spawn_failure(p, argv, -ENOENT, SBX_STAGE_PROGRAM, SBX_STAGE_EXEC,
                         "/bin/sbx-no-such-program");
    sbx_policy_free(p);
}

static void test_spawn__setup_program_not_executable(void **state)
{
    char dir[64], marker[128], script[128], text[256];
    make_tmp(dir);
    snprintf(marker, sizeof(marker), "%s/ran", dir);
    snprintf(script, sizeof(script), "%s/script", dir);
    snprintf(text, sizeof(text), "#!/bin/sh\n: > '%s'\n", marker);
    write_file(script, text, 0644); /* no exec bit: EACCES, even for root */
    const char *argv[] = {script, NULL};

    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_workdir(p, dir)); /* where the target may write */
    expect_spawn_failure(p, argv, -EACCES, SBX_STAGE_PROGRAM, SBX_STAGE_EXEC, script);
    assert_not_ran(marker);

    /* Control: the same script with its exec bit runs and leaves the marker. */
    assert_int_equal(chmod(script, 0755), 0);
    sbx_result *r = run(p, argv, NULL, 0);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_int_equal(access(marker, F_OK), 0);
    sbx_result_free(r);
    sbx_policy_free(p);
    remove_tmp(dir, (const char *const[]){"script", "ran", NULL});
}

/* ---- stdio modes --------------------------------------------------------- */

static void test_spawn__stdio_pipe_roundtrip(void **state)
{
    sbx_policy *p = policy_new();
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = SBX_STDIO_PIPE;
    io.stdout_mode = SBX_STDIO_PIPE;
    static const char *const argv[] = {"/bin/cat", NULL};
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, &io, &c));

    int in = sbx_child_stdio_fd(c, 0), out = sbx_child_stdio_fd(c, 1);
    assert_true(in > 2 && out > 2 && in != out);
    assert_true(fcntl(in, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(out, F_GETFL) & O_NONBLOCK);
    assert_int_equal(sbx_child_stdio_fd(c, 2), -EBADF); /* inherited, not a pipe */
    assert_int_equal(sbx_child_stdio_fd(c, 3), -EINVAL);
    assert_int_equal(sbx_child_stdio_fd(c, -1), -EINVAL);

    assert_int_equal(write(in, "hello\n", 6), 6);
    assert_sbx_ok(sbx_child_close_stdio(c, 0)); /* end-of-file for cat */
    assert_int_equal(sbx_child_stdio_fd(c, 0), -EBADF);
    assert_sbx_error(sbx_child_close_stdio(c, 0), -EBADF, "");
    assert_sbx_error(sbx_child_close_stdio(c, 2), -EBADF, "");
    assert_sbx_error(sbx_child_close_stdio(c, 5), -EINVAL, "");

    char *text = read_all(out, NULL);
    assert_string_equal(text, "hello\n");
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_EXITED, 0);
    free(text);
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

static void test_spawn__stdio_fd_and_null(void **state)
{
    char dir[64], path[128];
    make_tmp(dir);
    snprintf(path, sizeof(path), "%s/out", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd > 2);

    sbx_policy *p = policy_new();
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = SBX_STDIO_NULL;
    io.stdout_mode = SBX_STDIO_FD;
    io.stdout_fd = fd;
    io.stderr_mode = SBX_STDIO_FD;
    io.stderr_fd = fd;
    static const char *const argv[] = {
        "/bin/sh", "-c", "while read x; do echo \"$x\"; done; echo out; echo err >&2", NULL};
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, &io, &c));
    assert_int_equal(sbx_child_stdio_fd(c, 1), -EBADF);
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_EXITED, 0);

    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    char *text = read_all(fd, NULL);
    assert_string_equal(text, "out\nerr\n"); /* nothing from /dev/null */
    free(text);
    close(fd);
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
    remove_tmp(dir, (const char *const[]){"out", NULL});
}

/* ---- per-spawn options (sbx_spawn_opts) ---------------------------------- */

/* One policy, many children: each with its own working directory, variables
 * and time limit; the policy itself unchanged. */
static void test_spawn__opts_override_per_child(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_limit_wall_time(p, 60000));
    assert_sbx_ok(sbx_set_env(p, "KEEP", "policy"));
    assert_sbx_ok(sbx_set_env(p, "DROP", "policy"));
    static const char *const env_over[] = {"ADDED=1", "KEEP=opts", "DROP", "KEEP=last", NULL};
    SBX_SPAWN_OPTS(o, .env = env_over, .capture = 1);
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_run_with(p, probe_env, &o, &r));
    assert_status(r, SBX_STATUS_EXITED, 0);
    const char *out = sbx_result_stdout(r, NULL);
    assert_line(out, "ADDED=1");
    assert_line(out, "KEEP=last");
    if (find_line(out, "DROP=", 1) || find_line(out, "KEEP=policy", 0) ||
        find_line(out, "KEEP=opts", 0))
        fail_msg("the changes were not applied:\n%s", out);
    assert_line(out, "LANG=C.UTF-8"); /* the rest of the policy's */
    sbx_result_free(r);

    /* this child's working directory, opened safely; the policy's is untouched */
    static const char *const pwd[] = {"/bin/sh", "-c", "pwd", NULL};
    SBX_SPAWN_OPTS(w, .workdir = "/usr/share");
    assert_sbx_ok(sbx_run_with(p, pwd, &w, &r));
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "/usr/share\n");
    sbx_result_free(r);
    w.workdir = "/nonexistent-dir";
    assert_sbx_error(sbx_run_with(p, pwd, &w, &r), -ENOENT, "chdir(/nonexistent-dir)");
    assert_int_equal(sbx_last_error_stage(), SBX_STAGE_WORKDIR);
    w.workdir = "relative";
    assert_sbx_error(sbx_run_with(p, pwd, &w, &r), -EINVAL, "opts->workdir 'relative'");
    /* A directory the policy does not let the child read: refused, with the
     * fix named (without the view: the rules decide; in it: it is not there).
     * The control: granted read, the same directory works. */
    char dir[] = "/var/tmp/agentsbx-wd-XXXXXX";
    assert_non_null(mkdtemp(dir));
    w.workdir = dir;
    int rc = sbx_run_with(p, pwd, &w, &r);
    if (rc == -EACCES)
        assert_non_null(strstr(sbx_last_error(), "does not let it read; grant it read"));
    else if (rc == -ENOENT)
        assert_non_null(strstr(sbx_last_error(), "not in the child's mount view"));
    else
        fail_msg("an unreadable working directory: %d %s", rc, sbx_last_error());
    assert_int_equal(sbx_last_error_stage(), SBX_STAGE_WORKDIR);
    sbx_policy *granted = policy_new();
    assert_sbx_ok(sbx_allow_path(granted, dir, SBX_FS_READ));
    assert_sbx_ok(sbx_run_with(granted, pwd, &w, &r));
    assert_status(r, SBX_STATUS_EXITED, 0);
    char want[sizeof(dir) + 1];
    snprintf(want, sizeof(want), "%s\n", dir);
    assert_string_equal(sbx_result_stdout(r, NULL), want);
    sbx_result_free(r);
    sbx_policy_free(granted);
    assert_int_equal(rmdir(dir), 0);

    /* this child's time: shorter than the policy's, or none at all */
    static const char *const sleeper[] = {PROBE("probe_sleep"), "30", "0", NULL};
    SBX_SPAWN_OPTS(t, .wall_ms = 300);
    assert_sbx_ok(sbx_run_with(p, sleeper, &t, &r));
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    assert_true(sbx_result_layers(r) & SBX_LAYER_TIMEOUT);
    sbx_result_free(r);
    sbx_policy *q = policy_new();
    assert_sbx_ok(sbx_limit_wall_time(q, 100));
    static const char *const nap[] = {"/bin/sleep", "0.5", NULL};
    assert_sbx_ok(sbx_run_with(q, nap, NULL, &r)); /* the control: the policy's 100 ms */
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    sbx_result_free(r);
    SBX_SPAWN_OPTS(none, .wall_ms = SBX_UNLIMITED);
    assert_sbx_ok(sbx_run_with(q, nap, &none, &r));
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_true(sbx_result_wall_ns(r) >= 500000000ull);
    assert_false(sbx_result_layers(r) & SBX_LAYER_TIMEOUT);
    sbx_result_free(r);
    sbx_policy_free(q);

    /* bad options */
    static const char *const bad_env[] = {"=x", NULL};
    SBX_SPAWN_OPTS(b, .env = bad_env);
    assert_sbx_error(sbx_run_with(p, pwd, &b, &r), -EINVAL, "opts->env entry '=x'");
    SBX_SPAWN_OPTS(c, .capture = 2);
    sbx_child *child = NULL;
    assert_sbx_error(sbx_spawn_with(p, pwd, &c, &child), -EINVAL, "opts->capture is 2");
    SBX_SPAWN_OPTS(in, .input_len = 3);
    assert_sbx_error(sbx_spawn_with(p, pwd, &in, &child), -EINVAL, "opts->input is NULL");
    assert_null(child);
    sbx_policy_free(p);
}

/* The sized-structure rule: older (smaller than the first release) refused,
 * newer accepted only with an all-zero tail. */
static void test_spawn__opts_and_io_sizes(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const t[] = {"/bin/true", NULL};
    struct {
        sbx_spawn_opts o;
        char future[16];
    } big;
    memset(&big, 0, sizeof(big));
    big.o.size = sizeof(big);
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn_with(p, t, &big.o, &c)); /* unknown fields, all zero */
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    sbx_child_free(c);
    c = NULL;
    big.future[5] = 1;
    assert_sbx_error(sbx_spawn_with(p, t, &big.o, &c), -E2BIG, "a setting it cannot apply");
    assert_null(c);
    sbx_spawn_opts small = SBX_SPAWN_OPTS_INIT;
    small.size = sizeof(size_t);
    assert_sbx_error(sbx_spawn_with(p, t, &small, &c), -EINVAL, "less than");
    struct {
        sbx_io io;
        int future[4];
    } bigio;
    memset(&bigio, 0, sizeof(bigio));
    bigio.io.size = sizeof(bigio);
    bigio.future[3] = 7;
    assert_sbx_error(sbx_spawn(p, t, &bigio.io, &c), -E2BIG, "sbx_io has");
    bigio.future[3] = 0;
    assert_sbx_ok(sbx_spawn(p, t, &bigio.io, &c));
    assert_sbx_ok(sbx_child_wait(c, &r));
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_io tiny = SBX_IO_INIT;
    tiny.size = 8;
    assert_sbx_error(sbx_spawn(p, t, &tiny, &c), -EINVAL, "io->size is 8");
    sbx_policy_free(p);
}

/* A host loop of its own: poll sbx_child_fd(), call sbx_child_process(); the
 * engine reads the captured output and feeds the input. */
static void test_spawn__process_from_a_host_loop(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const cat[] = {"/bin/cat", NULL};
    static char input[300000]; /* more than a pipe holds: fed as it drains */
    memset(input, 'x', sizeof(input));
    SBX_SPAWN_OPTS(o, .capture = 1, .input = input, .input_len = sizeof(input));
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn_with(p, cat, &o, &c));
    assert_int_equal(sbx_child_stdio_fd(c, 1), -EBADF); /* the engine's now */
    int fd = sbx_child_fd(c);
    assert_true(fd >= 0);
    int steps = 0, r;
    while ((r = sbx_child_process(c)) == 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        assert_true(poll(&pfd, 1, 5000) >= 0);
        steps++;
    }
    assert_int_equal(r, 1);
    assert_true(steps > 1);
    assert_int_equal(sbx_child_process(c), 1); /* ended: stays so */
    sbx_result *res = NULL;
    assert_sbx_ok(sbx_child_poll(c, &res));
    assert_status(res, SBX_STATUS_EXITED, 0);
    size_t len = 0;
    const char *out = sbx_result_stdout(res, &len);
    assert_int_equal(len, sizeof(input));
    assert_memory_equal(out, input, sizeof(input));
    sbx_result_free(res);
    sbx_child_free(c);
    assert_sbx_error(sbx_child_process(NULL), -EINVAL, "child is NULL");
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_spawn__opts_override_per_child),
    cmocka_unit_test(test_spawn__opts_and_io_sizes),
    cmocka_unit_test(test_spawn__process_from_a_host_loop),
    cmocka_unit_test(test_spawn__exit_codes),
    cmocka_unit_test(test_spawn__death_by_signal),
    cmocka_unit_test(test_spawn__bare_name_uses_child_path),
    cmocka_unit_test(test_spawn__run_captures_stdout_and_stderr),
    cmocka_unit_test(test_spawn__run_feeds_stdin),
    cmocka_unit_test(test_spawn__run_large_stdin_no_deadlock),
    cmocka_unit_test(test_spawn__run_null_input_is_dev_null),
    cmocka_unit_test(test_spawn__run_truncates_output),
    cmocka_unit_test(test_spawn__run_output_flood_is_drained),
    cmocka_unit_test(test_spawn__result_to_json),
    cmocka_unit_test(test_spawn__result_usage),
    cmocka_unit_test(test_spawn__env_host_secret_absent),
    cmocka_unit_test(test_spawn__env_default_is_exact),
    cmocka_unit_test(test_spawn__env_home_follows_workdir),
    cmocka_unit_test(test_spawn__env_set_and_unset),
    cmocka_unit_test(test_spawn__env_pass_reads_host_value_now),
    cmocka_unit_test(test_spawn__fds_host_fd_not_inherited),
    cmocka_unit_test(test_spawn__fds_keep_fds_kept),
    cmocka_unit_test(test_spawn__hygiene_new_session),
    cmocka_unit_test(test_spawn__hygiene_core_limit_zero),
    cmocka_unit_test(test_spawn__hygiene_no_new_privs),
    cmocka_unit_test(test_spawn__hygiene_umask_077),
    cmocka_unit_test(test_spawn__setup_workdir_missing),
    cmocka_unit_test(test_spawn__setup_workdir_not_a_directory),
    cmocka_unit_test(test_spawn__setup_program_not_in_path),
    cmocka_unit_test(test_spawn__setup_program_not_in_child_path),
    cmocka_unit_test(test_spawn__setup_program_absolute_missing),
    cmocka_unit_test(test_spawn__setup_program_not_executable),
    cmocka_unit_test(test_spawn__stdio_pipe_roundtrip),
    cmocka_unit_test(test_spawn__stdio_fd_and_null),
};

SBX_TEST_MAIN(tests)
