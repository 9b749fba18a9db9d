/* Unit tests of the public API that need no child process: every policy
 * builder call with good and bad input, error names and strings, the
 * thread-local last error, version and enum names, result and child accessors
 * given NULL, and the argument checks of sbx_spawn()/sbx_run(). Each bad call
 * must return exactly -EINVAL and leave a message that names what was wrong. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>

#include <agentsbx/agentsbx.h>

#include "testutil.h"

#define MIB    (1ull << 20)
#define GIB    (1ull << 30)
#define YEAR_S 31536000ull

/* ---- helpers ------------------------------------------------------------- */

static sbx_policy *policy_new(void)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_non_null(p);
    return p;
}

/* Leave a last-error message that does not contain `needle`, so that finding
 * `needle` after the next call proves that call wrote the message (successful
 * calls do not clear it). */
static void poison_last_error(const char *needle)
{
    sbx_policy *p = NULL;
    assert_int_equal(sbx_policy_new(&p), 0);
    int rc = sbx_set_die_with_parent(p, 7);
    if (strstr(sbx_last_error(), needle) != NULL)
        rc = sbx_limit_output(p, 3 * GIB);
    sbx_policy_free(p);
    assert_int_equal(rc, -EINVAL);
    if (strstr(sbx_last_error(), needle) != NULL)
        fail_msg("cannot poison the last error: '%s' contains '%s'", sbx_last_error(), needle);
}

/* The call must fail with -EINVAL, and the message it leaves must name `needle`. */
#define assert_einval(expr, needle)                                                                \
    do {                                                                                           \
        poison_last_error(needle);                                                                 \
        assert_sbx_error((expr), -EINVAL, (needle));                                               \
    } while (0)

/* The call must fail with -EINVAL naming `func` and also mention `value` (the
 * offending value, as the caller wrote it). */
#define assert_einval_value(expr, func, value)                                                     \
    do {                                                                                           \
        assert_einval((expr), (func));                                                             \
        if (strstr(sbx_last_error(), (value)) == NULL)                                             \
            fail_msg("last error '%s' does not mention the value %s", sbx_last_error(), (value));  \
    } while (0)

/* A string of `len` copies of `c` (static buffer, len < 8192). */
static const char *repeat(char c, size_t len)
{
    static char buf[8192];
    assert_true(len < sizeof(buf));
    memset(buf, c, len);
    buf[len] = '\0';
    return buf;
}

/* ---- policy lifetime ----------------------------------------------------- */

static void test_policy__new_and_free(void **state)
{
    sbx_policy *p = policy_new();
    sbx_policy_free(p);
}

static void test_policy__new_rejects_null(void **state)
{
    assert_einval(sbx_policy_new(NULL), "sbx_policy_new");
}

static void test_policy__free_null_is_noop(void **state)
{
    sbx_policy_free(NULL);
    sbx_child_free(NULL);
    sbx_result_free(NULL);
}

/* ---- workdir ------------------------------------------------------------- */

static void test_policy__workdir_accepts_absolute(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_workdir(p, "/"));
    assert_sbx_ok(sbx_set_workdir(p, "/nope/not/checked/here"));
    char path[PATH_MAX];
    path[0] = '/';
    memcpy(path + 1, repeat('d', PATH_MAX - 2), PATH_MAX - 1); /* strlen PATH_MAX - 1 */
    assert_sbx_ok(sbx_set_workdir(p, path));
    sbx_policy_free(p);
}

static void test_policy__workdir_rejects_null(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval(sbx_set_workdir(NULL, "/tmp"), "sbx_set_workdir");
    assert_einval(sbx_set_workdir(p, NULL), "sbx_set_workdir");
    sbx_policy_free(p);
}

static void test_policy__workdir_rejects_relative(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval_value(sbx_set_workdir(p, "relative/dir"), "workdir", "relative/dir");
    assert_einval(sbx_set_workdir(p, "./tmp"), "workdir");
    sbx_policy_free(p);
}

static void test_policy__workdir_rejects_empty(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval(sbx_set_workdir(p, ""), "workdir");
    sbx_policy_free(p);
}

static void test_policy__workdir_rejects_too_long(void **state)
{
    sbx_policy *p = policy_new();
    char path[PATH_MAX + 8];
    path[0] = '/';
    memcpy(path + 1, repeat('d', PATH_MAX), PATH_MAX + 1); /* strlen PATH_MAX + 1 */
    assert_einval(sbx_set_workdir(p, path), "workdir");
    sbx_policy_free(p);
}

/* ---- environment --------------------------------------------------------- */

static void test_policy__env_accepts_valid(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_env(p, "FOO", "bar"));
    assert_sbx_ok(sbx_set_env(p, "FOO", "replaced"));
    assert_sbx_ok(sbx_set_env(p, "EMPTY", ""));
    assert_sbx_ok(sbx_set_env(p, "WITH_EQ", "a=b=c"));
    assert_sbx_ok(sbx_set_env(p, "PATH", "/bin"));
    assert_sbx_ok(sbx_set_env(p, repeat('N', 255), "longest name"));
    assert_sbx_ok(sbx_pass_env(p, "SBX_UNIT_SURELY_UNSET_VARIABLE"));
    assert_sbx_ok(sbx_unset_env(p, "LANG"));
    assert_sbx_ok(sbx_unset_env(p, "SBX_UNIT_NEVER_SET"));
    sbx_policy_free(p);
}

static void test_policy__env_rejects_null(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval(sbx_set_env(NULL, "FOO", "bar"), "sbx_set_env");
    assert_einval(sbx_set_env(p, NULL, "bar"), "sbx_set_env");
    assert_einval(sbx_set_env(p, "FOO", NULL), "sbx_set_env");
    assert_einval(sbx_pass_env(NULL, "FOO"), "sbx_pass_env");
    assert_einval(sbx_pass_env(p, NULL), "sbx_pass_env");
    assert_einval(sbx_unset_env(NULL, "FOO"), "sbx_unset_env");
    assert_einval(sbx_unset_env(p, NULL), "sbx_unset_env");
    sbx_policy_free(p);
}

static void test_policy__env_rejects_empty_name(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval(sbx_set_env(p, "", "x"), "sbx_set_env");
    assert_einval(sbx_pass_env(p, ""), "sbx_pass_env");
    assert_einval(sbx_unset_env(p, ""), "sbx_unset_env");
    sbx_policy_free(p);
}

static void test_policy__env_rejects_name_with_equals(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval_value(sbx_set_env(p, "A=B", "x"), "sbx_set_env", "A=B");
    assert_einval_value(sbx_pass_env(p, "A=B"), "sbx_pass_env", "A=B");
    assert_einval_value(sbx_unset_env(p, "A=B"), "sbx_unset_env", "A=B");
    sbx_policy_free(p);
}

static void test_policy__env_rejects_long_name(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval(sbx_set_env(p, repeat('N', 256), "x"), "sbx_set_env");
    assert_einval(sbx_pass_env(p, repeat('N', 256)), "sbx_pass_env");
    assert_einval(sbx_unset_env(p, repeat('N', 4000)), "sbx_unset_env");
    sbx_policy_free(p);
}

/* ---- limits -------------------------------------------------------------- */

/* One limit setter: its name, and values it must accept and reject. */
struct limit_case {
    const char *name;
    int (*set)(sbx_policy *, uint64_t);
    uint64_t good[4];
    size_t n_good;
    uint64_t bad[3];
    size_t n_bad;
};

static void check_limit(const struct limit_case *c)
{
    sbx_policy *p = policy_new();
    for (size_t i = 0; i < c->n_good; i++) {
        int rc = c->set(p, c->good[i]);
        if (rc != 0)
            fail_msg("%s(%llu) returned %s: %s", c->name, (unsigned long long)c->good[i],
                     sbx_errname(rc), sbx_last_error());
    }
    for (size_t i = 0; i < c->n_bad; i++) {
        char value[32];
        snprintf(value, sizeof(value), "%llu", (unsigned long long)c->bad[i]);
        assert_einval_value(c->set(p, c->bad[i]), c->name, value);
    }
    assert_einval(c->set(NULL, c->good[0]), c->name);
    sbx_policy_free(p);
}

static void test_policy__limit_cpu_time_range(void **state)
{
    static const struct limit_case c = {"sbx_limit_cpu_time",
                                        sbx_limit_cpu_time,
                                        {1, 60, YEAR_S, SBX_UNLIMITED},
                                        4,
                                        {0, YEAR_S + 1},
                                        2};
    check_limit(&c);
}

static void test_policy__limit_wall_time_range(void **state)
{
    static const struct limit_case c = {"sbx_limit_wall_time",
                                        sbx_limit_wall_time,
                                        {1, 300, YEAR_S * 1000, SBX_UNLIMITED},
                                        4,
                                        {0, YEAR_S * 1000 + 1},
                                        2};
    check_limit(&c);
}

static void test_policy__limit_memory_range(void **state)
{
    static const struct limit_case c = {"sbx_limit_memory",
                                        sbx_limit_memory,
                                        {MIB, 64 * MIB, 1ull << 50, SBX_UNLIMITED},
                                        4,
                                        {0, MIB - 1, (1ull << 50) + 1},
                                        3};
    check_limit(&c);
}

static void test_policy__limit_open_files_range(void **state)
{
    static const struct limit_case c = {"sbx_limit_open_files",
                                        sbx_limit_open_files,
                                        {4, 16, 1048576, SBX_UNLIMITED},
                                        4,
                                        {0, 3, 1048577},
                                        3};
    check_limit(&c);
}

static void test_policy__limit_file_size_range(void **state)
{
    static const struct limit_case c = {"sbx_limit_file_size",
                                        sbx_limit_file_size,
                                        {0, 4096, 1ull << 62, SBX_UNLIMITED},
                                        4,
                                        {(1ull << 62) + 1},
                                        1};
    check_limit(&c);
}

static void test_policy__limit_processes_range(void **state)
{
    static const struct limit_case c = {"sbx_limit_processes",
                                        sbx_limit_processes,
                                        {1, 64, 4194304, SBX_UNLIMITED},
                                        4,
                                        {0, 4194305},
                                        2};
    check_limit(&c);
}

/* millicpus: 10 (a hundredth of a CPU) to 1000000; 0 and 5 are refused. */
static void test_policy__limit_cpu_rate_range(void **state)
{
    static const struct limit_case c = {"sbx_limit_cpu_rate",
                                        sbx_limit_cpu_rate,
                                        {10, 500, 1000000, SBX_UNLIMITED},
                                        4,
                                        {0, 5, 1000001},
                                        3};
    check_limit(&c);
}

static void test_policy__limit_output_range(void **state)
{
    static const struct limit_case c = {
        "sbx_limit_output", sbx_limit_output, {0, 10, GIB}, 3, {GIB + 1, SBX_UNLIMITED - 1}, 2};
    check_limit(&c);
}

/* ---- best effort, die with parent ---------------------------------------- */

static void test_policy__best_effort_bits(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_best_effort(p, 0));
    assert_sbx_ok(sbx_set_best_effort(p, SBX_LAYER_RLIMITS));
    assert_sbx_ok(sbx_set_best_effort(p, SBX_LAYER_ALL));
    assert_einval(sbx_set_best_effort(p, SBX_LAYER_ALL + 1), "sbx_set_best_effort");
    assert_einval(sbx_set_best_effort(p, 1u << 31), "sbx_set_best_effort");
    assert_einval(sbx_set_best_effort(NULL, SBX_LAYER_RLIMITS), "sbx_set_best_effort");
    sbx_policy_free(p);
}

static void test_policy__die_with_parent_values(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_die_with_parent(p, 0));
    assert_sbx_ok(sbx_set_die_with_parent(p, 1));
    assert_einval_value(sbx_set_die_with_parent(p, 2), "sbx_set_die_with_parent", "2");
    assert_einval_value(sbx_set_die_with_parent(p, -1), "sbx_set_die_with_parent", "-1");
    assert_einval(sbx_set_die_with_parent(NULL, 1), "sbx_set_die_with_parent");
    sbx_policy_free(p);
}

static void test_policy__exec_mode_values(void **state)
{
    sbx_policy *p = policy_new();
    assert_int_equal(sbx_policy_exec_mode(p), SBX_EXEC_ALLOWLIST);
    assert_sbx_ok(sbx_set_exec_mode(p, SBX_EXEC_SYSTEM));
    assert_int_equal(sbx_policy_exec_mode(p), SBX_EXEC_SYSTEM);
    assert_sbx_ok(sbx_set_exec_mode(p, SBX_EXEC_ALLOWLIST));
    assert_int_equal(sbx_policy_exec_mode(p), SBX_EXEC_ALLOWLIST);
    assert_sbx_error(sbx_set_exec_mode(p, 2), -EINVAL,
                     "sbx_set_exec_mode: 2 is not an exec mode (allowlist 0, system 1)");
    assert_sbx_error(sbx_set_exec_mode(p, -1), -EINVAL,
                     "sbx_set_exec_mode: -1 is not an exec mode (allowlist 0, system 1)");
    assert_int_equal(sbx_policy_exec_mode(p), SBX_EXEC_ALLOWLIST);
    assert_einval(sbx_set_exec_mode(NULL, SBX_EXEC_SYSTEM), "sbx_set_exec_mode");
    assert_int_equal(sbx_policy_exec_mode(NULL), SBX_EXEC_ALLOWLIST);
    assert_string_equal(sbx_exec_mode_name(SBX_EXEC_ALLOWLIST), "allowlist");
    assert_string_equal(sbx_exec_mode_name(SBX_EXEC_SYSTEM), "system");
    assert_null(sbx_exec_mode_name(2));
    assert_null(sbx_exec_mode_name(-1));
    sbx_policy_free(p);
}

/* ---- errors -------------------------------------------------------------- */

static void test_error__strerror(void **state)
{
    assert_string_equal(sbx_strerror(-EINVAL), "Invalid argument");
    assert_string_equal(sbx_strerror(EINVAL), "Invalid argument");
    assert_string_equal(sbx_strerror(-ENOENT), "No such file or directory");
    assert_string_equal(sbx_strerror(0), "Success");
    const char *unknown = sbx_strerror(-100000);
    assert_non_null(unknown);
    assert_true(unknown[0] != '\0');
    assert_non_null(sbx_strerror(INT_MIN + 1));
}

static void test_error__errname(void **state)
{
    assert_string_equal(sbx_errname(-EINVAL), "EINVAL");
    assert_string_equal(sbx_errname(EINVAL), "EINVAL");
    assert_string_equal(sbx_errname(-ENOENT), "ENOENT");
    assert_string_equal(sbx_errname(-100000), "E?");
    assert_string_equal(sbx_errname(100000), "E?");
    /* Every errno the headers document has a name. */
    static const struct {
        int err;
        const char *name;
    } documented[] = {
        {EACCES, "EACCES"},   {EOPNOTSUPP, "EOPNOTSUPP"}, {ENOMEM, "ENOMEM"}, {E2BIG, "E2BIG"},
        {EAGAIN, "EAGAIN"},   {EALREADY, "EALREADY"},     {EBADF, "EBADF"},   {EBUSY, "EBUSY"},
        {ENOTDIR, "ENOTDIR"}, {EMFILE, "EMFILE"},
    };
    for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++)
        assert_string_equal(sbx_errname(-documented[i].err), documented[i].name);
}

static void *last_error_in_thread(void *arg)
{
    char *seen = arg;
    snprintf(seen, 256, "%s|%d", sbx_last_error(), sbx_last_error_stage());
    int rc = sbx_limit_cpu_time(NULL, 1); /* a failure in this thread only */
    (void)rc;
    return NULL;
}

static void test_error__last_error_is_thread_local(void **state)
{
    assert_einval(sbx_set_workdir(NULL, "/"), "sbx_set_workdir");
    char before[256];
    snprintf(before, sizeof(before), "%s", sbx_last_error());

    char seen[256] = "not run";
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, last_error_in_thread, seen), 0);
    assert_int_equal(pthread_join(t, NULL), 0);

    assert_string_equal(seen, "|0"); /* a new thread: empty message, SBX_STAGE_NONE */
    assert_string_equal(sbx_last_error(), before);
}

static void test_error__last_error_kept_by_success(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval(sbx_set_workdir(p, "rel"), "workdir");
    char before[256];
    snprintf(before, sizeof(before), "%s", sbx_last_error());
    assert_sbx_ok(sbx_set_workdir(p, "/"));
    assert_string_equal(sbx_last_error(), before);
    sbx_policy_free(p);
}

/* ---- names and version --------------------------------------------------- */

static void test_version__matches_header(void **state)
{
    assert_string_equal(sbx_version(), SBX_VERSION_STRING);
    char expect[64];
    snprintf(expect, sizeof(expect), "%d.%d.%d", SBX_VERSION_MAJOR, SBX_VERSION_MINOR,
             SBX_VERSION_PATCH);
    assert_string_equal(sbx_version(), expect);
}

static void test_names__status(void **state)
{
    assert_string_equal(sbx_status_name(SBX_STATUS_EXITED), "exited");
    assert_string_equal(sbx_status_name(SBX_STATUS_SIGNALED), "signaled");
    assert_string_equal(sbx_status_name(SBX_STATUS_TIMED_OUT), "timed_out");
    assert_string_equal(sbx_status_name(SBX_STATUS_CPU_LIMIT), "cpu_limit");
    assert_string_equal(sbx_status_name(SBX_STATUS_FILE_SIZE_LIMIT), "file_size_limit");
    assert_string_equal(sbx_status_name(SBX_STATUS_MEMORY_LIMIT), "memory_limit");
    assert_string_equal(sbx_status_name(SBX_STATUS_KILLED), "killed");
    assert_string_equal(sbx_status_name(0), "unknown");
    assert_string_equal(sbx_status_name(1000), "unknown");
    assert_string_equal(sbx_status_name(-EINVAL), "unknown");
}

static void test_names__layer(void **state)
{
    static const char *const names[] = {"hygiene",  "rlimits", "no_new_privs",
                                        "landlock", "seccomp", "namespaces",
                                        "cgroup",   "monitor", "timeout"};
    for (unsigned i = 0; i < 9; i++)
        assert_string_equal(sbx_layer_name(1u << i), names[i]);
    assert_int_equal(SBX_LAYER_ALL, (1u << 9) - 1);
    assert_string_equal(sbx_layer_name(0), "unknown");
    assert_string_equal(sbx_layer_name(SBX_LAYER_HYGIENE | SBX_LAYER_RLIMITS), "unknown");
    assert_string_equal(sbx_layer_name(1u << 9), "unknown");
    assert_string_equal(sbx_layer_name(SBX_LAYER_ALL), "unknown");
}

static void test_names__stage(void **state)
{
    static const char *const names[] = {"none", "compile", "program", "clone",        "process",
                                        "fds",  "rlimits", "workdir", "no_new_privs", "exec"};
    for (int i = SBX_STAGE_NONE; i <= SBX_STAGE_EXEC; i++)
        assert_string_equal(sbx_stage_name(i), names[i]);
    assert_string_equal(sbx_stage_name(1000), "unknown");
    assert_string_equal(sbx_stage_name(-1), "unknown");
    assert_string_equal(sbx_stage_name(INT_MAX), "unknown");
}

/* ---- accessors on NULL --------------------------------------------------- */

static void test_result__accessors_on_null(void **state)
{
    assert_int_equal(sbx_result_status(NULL), -EINVAL);
    assert_int_equal(sbx_result_exit_code(NULL), -EINVAL);
    assert_int_equal(sbx_result_signal(NULL), -EINVAL);
    assert_int_equal(sbx_result_wall_ns(NULL), 0);
    assert_int_equal(sbx_result_user_cpu_ns(NULL), 0);
    assert_int_equal(sbx_result_system_cpu_ns(NULL), 0);
    assert_int_equal(sbx_result_peak_rss_bytes(NULL), 0);
    assert_int_equal(sbx_result_layers(NULL), 0);
    size_t len = 99;
    assert_string_equal(sbx_result_stdout(NULL, &len), "");
    assert_int_equal(len, 0);
    len = 99;
    assert_string_equal(sbx_result_stderr(NULL, &len), "");
    assert_int_equal(len, 0);
    assert_string_equal(sbx_result_stdout(NULL, NULL), "");
    assert_int_equal(sbx_result_truncated(NULL, 1), -EINVAL);
    char buf[64];
    assert_int_equal(sbx_result_to_json(NULL, buf, sizeof(buf)), -EINVAL);
}

/* The Landlock and cgroup setters name the NULL argument they were given. */
static void test_policy__grants_reject_null_and_range(void **state)
{
    sbx_policy *p = policy_new();
    assert_einval(sbx_allow_path(NULL, "/usr", SBX_FS_READ), "policy is NULL");
    assert_einval(sbx_allow_path(p, NULL, SBX_FS_READ), "path is NULL");
    assert_einval(sbx_allow_tool(NULL, "sh"), "policy is NULL");
    assert_einval(sbx_allow_tool(p, NULL), "name_or_path is NULL");
    assert_sbx_error(sbx_allow_tool(p, "no-such-tool-agentsbx"), -ENOENT, "no-such-tool-agentsbx");
    assert_einval(sbx_allow_connect(NULL, 80), "policy is NULL");
    assert_einval_value(sbx_allow_connect(p, 0), "sbx_allow_connect", "0");
    assert_einval_value(sbx_allow_connect(p, 65536), "sbx_allow_connect", "65536");
    assert_einval(sbx_allow_bind(NULL, 80), "policy is NULL");
    assert_einval(sbx_allow_network(NULL), "policy is NULL");
    assert_einval(sbx_set_private_tmp(NULL, 1), "policy is NULL");
    assert_einval_value(sbx_set_private_tmp(p, -1), "sbx_set_private_tmp", "-1");
    assert_einval(sbx_set_tmp_parent(NULL, "/tmp"), "policy is NULL");
    assert_sbx_error(sbx_set_tmp_parent(p, "/nonexistent-agentsbx"), -ENOENT,
                     "/nonexistent-agentsbx");
    assert_einval(sbx_use_cgroup(NULL, 1), "policy is NULL");
    assert_einval_value(sbx_use_cgroup(p, 5), "sbx_use_cgroup", "5");
    assert_sbx_ok(sbx_allow_connect(p, 443));
    assert_sbx_ok(sbx_allow_bind(p, 0));
    assert_sbx_ok(sbx_set_private_tmp(p, 0));
    sbx_policy_free(p);
}

/* Layer, Landlock and cgroup parts of a result: NULL and unknown values are
 * answered, never a crash. */
static void test_result__layer_accessors_on_null(void **state)
{
    assert_int_equal(sbx_result_landlock_abi(NULL), 0);
    assert_int_equal(sbx_result_landlock_rights(NULL), 0);
    assert_int_equal(sbx_result_peak_memory_bytes(NULL), 0);
    assert_int_equal(sbx_result_limit_mechanism(NULL, SBX_LIMIT_MEMORY), SBX_MECHANISM_NONE);
    assert_int_equal(sbx_result_limit_mechanism(NULL, SBX_LIMIT_CPU_RATE), SBX_MECHANISM_NONE);
    static const char *const rights[] = {"fs",  "exec",      "refer", "truncate",
                                         "tcp", "ioctl_dev", "scope"};
    for (unsigned i = 0; i < 7; i++)
        assert_string_equal(sbx_landlock_right_name(1u << i), rights[i]);
    assert_string_equal(sbx_landlock_right_name(0), "unknown");
    assert_string_equal(sbx_landlock_right_name(1u << 7), "unknown");
    assert_string_equal(sbx_landlock_right_name(3), "unknown");
    assert_true(sbx_landlock_abi() >= 0);
}

static void test_child__accessors_on_null(void **state)
{
    sbx_result *r = NULL;
    assert_int_equal(sbx_child_pid(NULL), -EINVAL);
    assert_int_equal(sbx_child_fd(NULL), -EINVAL);
    assert_int_equal(sbx_child_stdio_fd(NULL, 0), -EINVAL);
    assert_einval(sbx_child_close_stdio(NULL, 0), "sbx_child_close_stdio");
    assert_einval(sbx_child_signal(NULL, SIGTERM), "sbx_child_signal");
    assert_einval(sbx_child_kill(NULL), "sbx_child_kill");
    assert_einval(sbx_child_wait(NULL, &r), "sbx_child_wait");
    assert_einval(sbx_child_poll(NULL, &r), "sbx_child_poll");
    assert_null(r);
}

/* ---- sbx_spawn and sbx_run argument checks ------------------------------- */

static const char *const true_argv[] = {"/bin/true", NULL};

/* sbx_spawn(io) must fail with -EINVAL naming `needle`, at no stage, and
 * leave *ret untouched. */
static void expect_spawn_einval(const sbx_policy *p, const char *const *argv, const sbx_io *io,
                                const char *needle)
{
    sbx_child *sentinel = (sbx_child *)&sentinel;
    sbx_child *c = sentinel;
    assert_einval(sbx_spawn(p, argv, io, &c), needle);
    assert_int_equal(sbx_last_error_stage(), SBX_STAGE_NONE);
    assert_ptr_equal(c, sentinel);
}

static void test_spawn__rejects_null_arguments(void **state)
{
    sbx_policy *p = policy_new();
    expect_spawn_einval(NULL, true_argv, NULL, "policy");
    expect_spawn_einval(p, NULL, NULL, "argv");
    assert_einval(sbx_spawn(p, true_argv, NULL, NULL), "ret");
    sbx_policy_free(p);
}

static void test_spawn__rejects_empty_argv(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const empty[] = {NULL};
    expect_spawn_einval(p, empty, NULL, "argv");
    sbx_policy_free(p);
}

static void test_spawn__rejects_io_size_zero(void **state)
{
    sbx_policy *p = policy_new();
    sbx_io io = SBX_IO_INIT;
    io.size = 0;
    expect_spawn_einval(p, true_argv, &io, "size");
    sbx_policy_free(p);
}

static void test_spawn__rejects_io_bad_mode(void **state)
{
    sbx_policy *p = policy_new();
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = 9;
    expect_spawn_einval(p, true_argv, &io, "stream 0");
    io.stdin_mode = SBX_STDIO_INHERIT;
    io.stderr_mode = -1;
    expect_spawn_einval(p, true_argv, &io, "stream 2");
    sbx_policy_free(p);
}

static void test_spawn__rejects_io_fd_mode_without_fd(void **state)
{
    sbx_policy *p = policy_new();
    sbx_io io = SBX_IO_INIT;
    io.stdout_mode = SBX_STDIO_FD;
    io.stdout_fd = -1;
    expect_spawn_einval(p, true_argv, &io, "stream 1");
    sbx_policy_free(p);
}

static void test_spawn__rejects_too_many_keep_fds(void **state)
{
    sbx_policy *p = policy_new();
    int fds[SBX_IO_MAX_KEEP_FDS + 1];
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        fds[i] = 100 + (int)i;
    sbx_io io = SBX_IO_INIT;
    io.keep_fds = fds;
    io.n_keep_fds = SBX_IO_MAX_KEEP_FDS + 1;
    expect_spawn_einval(p, true_argv, &io, "65");
    io.keep_fds = NULL;
    io.n_keep_fds = 1;
    expect_spawn_einval(p, true_argv, &io, "keep");
    sbx_policy_free(p);
}

static void test_spawn__rejects_bad_keep_fd(void **state)
{
    sbx_policy *p = policy_new();
    sbx_io io = SBX_IO_INIT;
    int fd = 2; /* a standard stream is set up by its mode, not kept */
    io.keep_fds = &fd;
    io.n_keep_fds = 1;
    expect_spawn_einval(p, true_argv, &io, "keep");
    fd = 1000; /* not open */
    expect_spawn_einval(p, true_argv, &io, "1000");
    sbx_policy_free(p);
}

static void test_run__rejects_null_arguments(void **state)
{
    sbx_policy *p = policy_new();
    sbx_result *sentinel = (sbx_result *)&sentinel;
    sbx_result *r = sentinel;
    static const char *const empty[] = {NULL};
    assert_einval(sbx_run(NULL, true_argv, NULL, 0, &r), "policy");
    assert_einval(sbx_run(p, NULL, NULL, 0, &r), "argv");
    assert_einval(sbx_run(p, true_argv, NULL, 0, NULL), "ret");
    assert_einval(sbx_run(p, empty, NULL, 0, &r), "argv");
    assert_einval(sbx_run(p, true_argv, NULL, 5, &r), "input");
    assert_ptr_equal(r, sentinel);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_policy__new_and_free),
    cmocka_unit_test(test_policy__new_rejects_null),
    cmocka_unit_test(test_policy__free_null_is_noop),
    cmocka_unit_test(test_policy__workdir_accepts_absolute),
    cmocka_unit_test(test_policy__workdir_rejects_null),
    cmocka_unit_test(test_policy__workdir_rejects_relative),
    cmocka_unit_test(test_policy__workdir_rejects_empty),
    cmocka_unit_test(test_policy__workdir_rejects_too_long),
    cmocka_unit_test(test_policy__env_accepts_valid),
    cmocka_unit_test(test_policy__env_rejects_null),
    cmocka_unit_test(test_policy__env_rejects_empty_name),
    cmocka_unit_test(test_policy__env_rejects_name_with_equals),
    cmocka_unit_test(test_policy__env_rejects_long_name),
    cmocka_unit_test(test_policy__limit_cpu_time_range),
    cmocka_unit_test(test_policy__limit_wall_time_range),
    cmocka_unit_test(test_policy__limit_memory_range),
    cmocka_unit_test(test_policy__limit_open_files_range),
    cmocka_unit_test(test_policy__limit_file_size_range),
    cmocka_unit_test(test_policy__limit_processes_range),
    cmocka_unit_test(test_policy__limit_cpu_rate_range),
    cmocka_unit_test(test_policy__limit_output_range),
    cmocka_unit_test(test_policy__best_effort_bits),
    cmocka_unit_test(test_policy__die_with_parent_values),
    cmocka_unit_test(test_policy__exec_mode_values),
    cmocka_unit_test(test_error__strerror),
    cmocka_unit_test(test_error__errname),
    cmocka_unit_test(test_error__last_error_is_thread_local),
    cmocka_unit_test(test_error__last_error_kept_by_success),
    cmocka_unit_test(test_version__matches_header),
    cmocka_unit_test(test_names__status),
    cmocka_unit_test(test_names__layer),
    cmocka_unit_test(test_names__stage),
    cmocka_unit_test(test_result__accessors_on_null),
    cmocka_unit_test(test_child__accessors_on_null),
    cmocka_unit_test(test_policy__grants_reject_null_and_range),
    cmocka_unit_test(test_result__layer_accessors_on_null),
    cmocka_unit_test(test_spawn__rejects_null_arguments),
    cmocka_unit_test(test_spawn__rejects_empty_argv),
    cmocka_unit_test(test_spawn__rejects_io_size_zero),
    cmocka_unit_test(test_spawn__rejects_io_bad_mode),
    cmocka_unit_test(test_spawn__rejects_io_fd_mode_without_fd),
    cmocka_unit_test(test_spawn__rejects_too_many_keep_fds),
    cmocka_unit_test(test_spawn__rejects_bad_keep_fd),
    cmocka_unit_test(test_run__rejects_null_arguments),
};

SBX_TEST_MAIN(tests)
