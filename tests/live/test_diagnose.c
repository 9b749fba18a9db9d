/* Live tests of diagnose mode (issue 18, item 1): with sbx_set_diagnose() on,
 * the file opens, creates and TCP connects Landlock refuses are in the result
 * with the path (or port) and the missing right, and none it allows is.
 *
 * Hostile: tests/hostile/probe_fs and probe_net try an access that was not
 * granted, confined (it fails with EACCES and is reported) and unconfined
 * (it succeeds: the control that shows the probe can tell); the same access
 * granted succeeds confined and is not reported. A shell that reads granted
 * files reports nothing (no false alarm); off, or with the monitor off,
 * nothing is reported and the kernel still refuses. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live.h"

#define PROBE_FS  PROBE("probe_fs")
#define PROBE_NET PROBE("probe_net")

extern char **environ;

static void need_landlock(int abi_needed, const char *what)
{
    sbx_policy *p = layer_policy_new();
    sbx_result *r = NULL;
    static const char *const argv[] = {"/bin/true", NULL};
    assert_sbx_ok(sbx_set_best_effort(p, SBX_LAYER_LANDLOCK));
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &r));
    int abi = sbx_result_landlock_abi(r);
    sbx_result_free(r);
    sbx_policy_free(p);
    if (abi < abi_needed)
        SBX_SKIP("the kernel's Landlock ABI is %d: %s needs %d", abi, what, abi_needed);
}

/* A policy in diagnose mode, with the isolation asked for. */
static sbx_policy *diagnose_policy(int isolation)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_set_isolation(p, isolation));
    assert_sbx_ok(sbx_set_diagnose(p, 1));
    return p;
}

static sbx_result *run(const sbx_policy *p, const char *const *argv)
{
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &r));
    return r;
}

static const char *out_of(const sbx_result *r)
{
    size_t len = 0;
    const char *s = sbx_result_stdout(r, &len);
    return s ? s : "";
}

static void assert_none_denied(const sbx_result *r)
{
    if (sbx_result_access_denial_count(r) != 0 || sbx_result_access_denials(r) != 0) {
        sbx_access_denial d = {.size = sizeof(d)};
        if (sbx_result_access_denial(r, 0, &d) == 0)
            fail_msg("expected no access denial, got %s %s (%s) port %d", d.syscall, d.path, d.dir,
                     d.port);
        fail_msg("expected no access denial, got %s", describe(r));
    }
}

/* The result reports exactly one denial (once), and returns it. */
static sbx_access_denial one_denial(const sbx_result *r)
{
    if (sbx_result_access_denials(r) != 1 || sbx_result_access_denial_count(r) != 1)
        fail_msg("expected one access denial, got %zu kept, %llu in all: %s",
                 sbx_result_access_denials(r),
                 (unsigned long long)sbx_result_access_denial_count(r), describe(r));
    sbx_access_denial d = {.size = sizeof(d)};
    assert_sbx_ok(sbx_result_access_denial(r, 0, &d));
    assert_int_equal(d.size, sizeof(d));
    assert_int_equal(d.count, 1);
    assert_true(d.pid > 0);
    assert_true(d.time_ns > 0 && d.time_ns < sbx_result_wall_ns(r));
    assert_int_equal(sbx_result_violation_count(r), 0); /* seccomp denied no call */
    return d;
}

/* The probe unconfined: the control. */
static void expect_unconfined(const char *expect, const char *const *argv)
{
    char buf[256];
    run_plain(argv, false, buf, sizeof(buf));
    assert_string_equal(buf, expect);
}

static char tmpdir[PATH_MAX], file[PATH_MAX + 8];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* In /var/tmp: beneath /tmp, the mount view's private /tmp grants every
 * right (and its diagnosis rightly reports nothing). */
static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/var/tmp/sbx-diagnose-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    assert_int_equal(chmod(tmpdir, 0755), 0);
    snprintf(file, sizeof(file), "%s/f", tmpdir);
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

static int teardown_tmpdir(void **state)
{
    (void)state;
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
    return 0;
}

/* ---- a denied open, reported; granted, not ------------------------------------------------ */

/* The directory is granted write only (so that it is in the mount view
 * too): reading a file in it is Landlock's to refuse. */
static void open_denied_reported(int isolation)
{
    need_landlock(1, "the filesystem rights");
    make_tmpdir();
    const char *const argv[] = {PROBE_FS, "read", file, NULL};
    expect_unconfined("ok\n", argv);

    sbx_policy *p = diagnose_policy(isolation);
    assert_sbx_ok(sbx_allow_path(p, tmpdir, SBX_FS_WRITE));
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 1);
    assert_string_equal(out_of(r), "denied EACCES\n");
    sbx_access_denial d = one_denial(r);
    assert_int_equal(d.kind, SBX_ACCESS_FILE);
    assert_string_equal(d.syscall, "openat");
    assert_string_equal(d.path, file);
    assert_string_equal(d.dir, tmpdir);
    assert_int_equal(d.missing, SBX_FS_READ);
    assert_int_equal(d.port, -1);
    char json[16384], want[PATH_MAX * 3];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    snprintf(want, sizeof(want),
             "\"access_denial_count\":1,\"access_denials\":[{\"kind\":\"file\",\"syscall\":"
             "\"openat\",\"path\":\"%s\",\"dir\":\"%s\",\"missing\":[\"read\"],\"count\":1,",
             file, tmpdir);
    if (!strstr(json, want))
        fail_msg("no access denial in the JSON: %s", json);
    sbx_result_free(r);

    /* Granted: it reads, and nothing is reported. */
    assert_sbx_ok(sbx_allow_path(p, tmpdir, SBX_FS_READ));
    r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(out_of(r), "ok\n");
    assert_none_denied(r);
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    if (!strstr(json, "\"access_denial_count\":0,\"access_denials\":[]"))
        fail_msg("no empty access denial list in the JSON: %s", json);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_diagnose__open_denied_reported_minimal(void **state)
{
    open_denied_reported(SBX_ISOLATION_MINIMAL);
}

/* In the mount view (where the host allows it; auto falls back otherwise). */
static void test_diagnose__open_denied_reported_auto(void **state)
{
    open_denied_reported(SBX_ISOLATION_AUTO);
}

/* A new file in a directory granted read only: the create right (and the
 * write right on what it makes) is missing. */
static void test_diagnose__create_denied_reported(void **state)
{
    need_landlock(1, "the filesystem rights");
    make_tmpdir();
    char newfile[PATH_MAX + 8];
    snprintf(newfile, sizeof(newfile), "%s/new", tmpdir);
    const char *const argv[] = {PROBE_FS, "create", newfile, NULL};
    sbx_policy *p = diagnose_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_ok(sbx_allow_path(p, tmpdir, SBX_FS_READ));
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 1);
    assert_string_equal(out_of(r), "denied EACCES\n");
    sbx_access_denial d = one_denial(r);
    assert_int_equal(d.kind, SBX_ACCESS_FILE);
    assert_string_equal(d.path, newfile);
    assert_string_equal(d.dir, tmpdir);
    assert_int_equal(d.missing, SBX_FS_CREATE | SBX_FS_WRITE_FILE);
    sbx_result_free(r);
    assert_int_equal(access(newfile, F_OK), -1);

    /* The control: granted, made, unreported. */
    assert_sbx_ok(sbx_allow_path(p, tmpdir, SBX_FS_WRITE));
    r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_none_denied(r);
    assert_int_equal(access(newfile, F_OK), 0);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- a denied connect, reported; granted, not --------------------------------------------- */

static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void connect_denied_reported(int isolation)
{
    need_landlock(4, "TCP port rules");
    int port, fd = listener(&port);
    char arg[16];
    snprintf(arg, sizeof(arg), "%d", port);
    const char *const argv[] = {PROBE_NET, "connect", arg, NULL};
    expect_unconfined("ok\n", argv);

    sbx_policy *p = diagnose_policy(isolation);
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 1);
    assert_string_equal(out_of(r), "denied EACCES\n");
    sbx_access_denial d = one_denial(r);
    assert_int_equal(d.kind, SBX_ACCESS_CONNECT);
    assert_string_equal(d.syscall, "connect");
    assert_int_equal(d.port, port);
    assert_string_equal(d.path, "");
    assert_int_equal(d.missing, 0);
    char json[16384], want[128];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    snprintf(want, sizeof(want),
             "\"access_denials\":[{\"kind\":\"connect\",\"syscall\":\"connect\",\"port\":%d,",
             port);
    if (!strstr(json, want))
        fail_msg("no connect denial in the JSON: %s", json);
    sbx_result_free(r);

    assert_sbx_ok(sbx_allow_connect(p, port));
    r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(out_of(r), "ok\n");
    assert_none_denied(r);
    sbx_result_free(r);
    sbx_policy_free(p);
    close(fd);
}

static void test_diagnose__connect_denied_reported_minimal(void **state)
{
    connect_denied_reported(SBX_ISOLATION_MINIMAL);
}

static void test_diagnose__connect_denied_reported_auto(void **state)
{
    connect_denied_reported(SBX_ISOLATION_AUTO);
}

/* ---- no false alarm; what stays as it was ------------------------------------------------- */

/* A shell that reads, lists (a glob) and writes what it is granted (its libraries,
 * /etc, the private TMPDIR, /dev/null) is reported nothing. */
static void no_false_alarm(int isolation)
{
    need_landlock(1, "the filesystem rights");
    sbx_policy *p = diagnose_policy(isolation);
    assert_sbx_ok(sbx_allow_tool(p, "cat"));
    assert_sbx_ok(sbx_allow_tool(p, "rm"));
    assert_sbx_ok(sbx_set_exec_reporting(p, 1));
    static const char *const argv[] = {
        "/bin/sh", "-c",
        "cat /etc/passwd >/dev/null && echo /usr/bin/* >/dev/null && echo x >\"$TMPDIR/a\" && "
        "cat \"$TMPDIR/a\" && rm \"$TMPDIR/a\" && echo done",
        NULL};
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(out_of(r), "x\ndone\n");
    assert_none_denied(r);
    assert_int_equal(sbx_result_exec_denial_count(r), 0);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_diagnose__no_false_alarm_minimal(void **state)
{
    no_false_alarm(SBX_ISOLATION_MINIMAL);
}

static void test_diagnose__no_false_alarm_auto(void **state)
{
    no_false_alarm(SBX_ISOLATION_AUTO);
}

/* Off (the default) or the monitor off: the read is still refused, unreported. */
static void test_diagnose__unreported_when_off(void **state)
{
    need_landlock(1, "the filesystem rights");
    make_tmpdir();
    const char *const argv[] = {PROBE_FS, "read", file, NULL};
    for (int how = 0; how < 2; how++) {
        sbx_policy *p = diagnose_policy(SBX_ISOLATION_MINIMAL);
        if (how == 0)
            assert_sbx_ok(sbx_set_diagnose(p, 0));
        else
            assert_sbx_ok(sbx_set_violation_monitor(p, 0));
        sbx_result *r = run(p, argv);
        assert_status(r, SBX_STATUS_EXITED, 1);
        assert_string_equal(out_of(r), "denied EACCES\n");
        assert_none_denied(r);
        char json[16384];
        assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
        assert_null(strstr(json, "access_denial"));
        sbx_result_free(r);
        sbx_policy_free(p);
    }
}

/* A denied call of the policy's own stays a violation, not a diagnosis. */
static void test_diagnose__policy_rule_wins(void **state)
{
    need_landlock(1, "the filesystem rights");
    make_tmpdir();
    const char *const argv[] = {PROBE_FS, "read", file, NULL};
    sbx_policy *p = diagnose_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_ok(sbx_deny_syscall(p, "openat", EPERM));
    sbx_result *r = run(p, argv);
    assert_none_denied(r);
    assert_true(sbx_result_violation_count(r) >= 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_diagnose__api_bad_input(void **state)
{
    assert_sbx_error(sbx_set_diagnose(NULL, 1), -EINVAL, "policy");
    sbx_policy *p = layer_policy_new();
    assert_sbx_error(sbx_set_diagnose(p, 2), -EINVAL, "on must be 0 or 1, got 2");
    assert_sbx_error(sbx_set_diagnose(p, -1), -EINVAL, "on must be 0 or 1, got -1");
    static const char *const argv[] = {"/bin/true", NULL};
    sbx_result *r = run(p, argv);
    sbx_access_denial d = {.size = sizeof(d)};
    assert_sbx_error(sbx_result_access_denial(NULL, 0, &d), -EINVAL, "result");
    assert_sbx_error(sbx_result_access_denial(r, 0, NULL), -EINVAL, "ret");
    d.size = 1;
    assert_sbx_error(sbx_result_access_denial(r, 0, &d), -EINVAL,
                     "ret->size is 1; set it to sizeof(sbx_access_denial)");
    d.size = sizeof(d);
    assert_sbx_error(sbx_result_access_denial(r, 0, &d), -ERANGE,
                     "no access denial at index 0 (0 kept)");
    assert_int_equal(sbx_result_access_denial_count(NULL), 0);
    assert_int_equal(sbx_result_access_denials(NULL), 0);
    assert_int_equal(sbx_result_access_denial_count(r), 0);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- learn mode ----------------------------------------------------------------------------- */

/* A shell that reads a file, writes in its directory and runs two programs,
 * under a policy wide enough (read and execute everywhere): the learned
 * policy grants that directory read-write, the programs, and the file read
 * elsewhere; run under it alone, the shell does the same; without it, not. */
static void test_diagnose__learn_policy(void **state)
{
    need_landlock(1, "the filesystem rights");
    make_tmpdir();
    char work[PATH_MAX + 8], script[4 * PATH_MAX];
    snprintf(work, sizeof(work), "%s/work", tmpdir);
    assert_int_equal(mkdir(work, 0755), 0);
    snprintf(script, sizeof(script),
             "{ read x || :; } <%s && uname -s >%s/out && cat %s/out && id -u >/dev/null", file,
             work, work);
    const char *const argv[] = {"/bin/sh", "-c", script, NULL};

    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_MINIMAL));
    assert_sbx_ok(sbx_allow_path(p, "/", SBX_FS_READ | SBX_FS_EXEC));
    assert_sbx_ok(sbx_allow_path(p, work, SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_set_learn(p, 1));
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(out_of(r), "Linux\n");
    assert_none_denied(r);

    sbx_policy *learned = NULL;
    assert_sbx_ok(sbx_policy_new(&learned));
    assert_sbx_ok(sbx_set_isolation(learned, SBX_ISOLATION_MINIMAL));
    assert_sbx_ok(sbx_policy_learn(learned, r));
    sbx_result_free(r);
    char json[16384], want[2 * PATH_MAX];
    assert_true(sbx_policy_to_json(learned, json, sizeof(json)) > 0);
    snprintf(
        want, sizeof(want),
        "\"path\": \"%s\",\n      \"access\": [\n        \"read\",\n        \"write\"\n      ]",
        work);
    if (!strstr(json, want))
        fail_msg("no read-write grant of %s in %s", work, json);
    snprintf(want, sizeof(want),
             "\"path\": \"%s\",\n      \"access\": [\n        \"read\"\n      ]", file);
    if (!strstr(json, want))
        fail_msg("no read grant of %s in %s", file, json);
    if (!strstr(json, "\"path\": \"/usr/bin/uname\"") || !strstr(json, "\"path\": \"/usr/bin/id\""))
        fail_msg("uname or id not granted in %s", json);
    assert_null(strstr(json, "\"path\": \"/\""));

    /* Under the learned policy alone, the same. */
    r = run(learned, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(out_of(r), "Linux\n");
    sbx_result_free(r);
    /* The control: a policy without the grants fails. */
    sbx_policy *bare = NULL;
    assert_sbx_ok(sbx_policy_new(&bare));
    assert_sbx_ok(sbx_set_isolation(bare, SBX_ISOLATION_MINIMAL));
    r = run(bare, argv);
    assert_int_not_equal(sbx_result_exit_code(r), 0);
    sbx_result_free(r);
    sbx_policy_free(bare);
    sbx_policy_free(learned);
    sbx_policy_free(p);
}

/* A file read beneath /sys/fs/cgroup (node reads its cgroup's memory limit)
 * is named after the host's session or container: learned as an optional
 * grant, so that the policy file still loads where that cgroup is gone; a
 * file read elsewhere in the same run is not optional (the control). */
static void test_diagnose__learn_cgroup_read_optional(void **state)
{
    need_landlock(1, "the filesystem rights");
    static const char *const candidates[] = {
        "/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/cpu/cpu.shares"};
    const char *cg = NULL;
    struct stat st;
    for (size_t i = 0; !cg && i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (stat(candidates[i], &st) == 0 && S_ISREG(st.st_mode) &&
            access(candidates[i], R_OK) == 0)
            cg = candidates[i];
    if (!cg)
        SBX_SKIP("no readable cgroup file here (/sys/fs/cgroup/cgroup.controllers, ...)");
    make_tmpdir();
    char script[3 * PATH_MAX];
    snprintf(script, sizeof(script), "{ read x || :; } <%s && { read x || :; } <%s", cg, file);
    const char *const argv[] = {"/bin/sh", "-c", script, NULL};
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_MINIMAL));
    assert_sbx_ok(sbx_allow_path(p, "/", SBX_FS_READ | SBX_FS_EXEC));
    assert_sbx_ok(sbx_set_learn(p, 1));
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_policy *learned = NULL;
    assert_sbx_ok(sbx_policy_new(&learned));
    assert_sbx_ok(sbx_policy_learn(learned, r));
    sbx_result_free(r);
    char json[16384], want[2 * PATH_MAX];
    assert_true(sbx_policy_to_json(learned, json, sizeof(json)) > 0);
    snprintf(want, sizeof(want),
             "\"path\": \"%s\",\n      \"access\": [\n        \"read\",\n        "
             "\"optional\"\n      ]",
             cg);
    if (!strstr(json, want))
        fail_msg("no optional read grant of %s in %s", cg, json);
    snprintf(want, sizeof(want),
             "\"path\": \"%s\",\n      \"access\": [\n        \"read\"\n      ]", file);
    if (!strstr(json, want))
        fail_msg("no plain read grant of %s in %s", file, json);
    sbx_policy_free(learned);
    sbx_policy_free(p);
}

static void test_diagnose__learn_bad_input(void **state)
{
    need_landlock(1, "the filesystem rights");
    assert_sbx_error(sbx_set_learn(NULL, 1), -EINVAL, "policy");
    sbx_policy *p = diagnose_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_error(sbx_set_learn(p, 2), -EINVAL, "on must be 0 or 1, got 2");
    static const char *const argv[] = {"/bin/true", NULL};
    sbx_result *r = run(p, argv); /* diagnose mode, not learn mode */
    assert_sbx_error(sbx_policy_learn(NULL, r), -EINVAL, "policy");
    assert_sbx_error(sbx_policy_learn(p, NULL), -EINVAL, "result");
    assert_sbx_error(sbx_policy_learn(p, r), -EINVAL,
                     "sbx_policy_learn: the result has no record of learn mode (the child ran "
                     "without sbx_set_learn(), or without the violation monitor)");
    sbx_result_free(r);
    /* Asked for without the monitor: the spawn fails, and says why. */
    assert_sbx_ok(sbx_set_learn(p, 1));
    assert_sbx_ok(sbx_set_violation_monitor(p, 0));
    r = NULL;
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP,
                     "learn mode needs the violation monitor and Landlock, and this policy runs "
                     "without the monitor");
    assert_null(r);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_diagnose__open_denied_reported_minimal, teardown_tmpdir),
    cmocka_unit_test_teardown(test_diagnose__open_denied_reported_auto, teardown_tmpdir),
    cmocka_unit_test_teardown(test_diagnose__create_denied_reported, teardown_tmpdir),
    cmocka_unit_test(test_diagnose__connect_denied_reported_minimal),
    cmocka_unit_test(test_diagnose__connect_denied_reported_auto),
    cmocka_unit_test(test_diagnose__no_false_alarm_minimal),
    cmocka_unit_test(test_diagnose__no_false_alarm_auto),
    cmocka_unit_test_teardown(test_diagnose__unreported_when_off, teardown_tmpdir),
    cmocka_unit_test_teardown(test_diagnose__policy_rule_wins, teardown_tmpdir),
    cmocka_unit_test(test_diagnose__api_bad_input),
    cmocka_unit_test_teardown(test_diagnose__learn_policy, teardown_tmpdir),
    cmocka_unit_test_teardown(test_diagnose__learn_cgroup_read_optional, teardown_tmpdir),
    cmocka_unit_test(test_diagnose__learn_bad_input),
};

SBX_TEST_MAIN(tests)
