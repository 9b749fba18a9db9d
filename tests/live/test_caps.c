/* Capabilities (issue 13, item 1): a child holds no capability unless the
 * policy keeps it, in every configuration. Each hostile case runs the probe
 * (tests/hostile/probe_caps.c) confined, where the privileged action must
 * fail, and unconfined as the control, where it must succeed; as an
 * unprivileged user the control holds no capability either, so those cases
 * skip and say so. */
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "live.h"

#define CAP_CHOWN_BIT        (1ull << 0)
#define CAP_NET_BIND_SERVICE 10
#define SECBIT_NOROOT_BITS   0x3u /* SECBIT_NOROOT | SECBIT_NOROOT_LOCKED */
#define TEST_PORT            "1009"

extern char **environ;

static char scratch[64];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/agentsbx-capstest.XXXXXX");
    if (!mkdtemp(scratch))
        return -1;
    return chmod(scratch, 0755);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void need_root(void)
{
    if (geteuid() != 0)
        SBX_SKIP("not root: the unconfined control holds no capability either, so it could not "
                 "tell a drop from nothing to drop");
}

/* Run argv under p (or unconfined when p is NULL); its first line of output. */
static const char *line_of(const sbx_policy *p, const char *const *argv, sbx_result **keep)
{
    static char line[256];
    line[0] = '\0';
    if (p) {
        sbx_result *r = run_ok(p, argv);
        assert_status(r, SBX_STATUS_EXITED, 0);
        snprintf(line, sizeof(line), "%s", sbx_result_stdout(r, NULL));
        if (keep)
            *keep = r;
        else
            sbx_result_free(r);
    } else {
        int pipefd[2];
        assert_int_equal(pipe(pipefd), 0);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
        pid_t pid;
        assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[1]);
        ssize_t n = read(pipefd[0], line, sizeof(line) - 1);
        line[n > 0 ? n : 0] = '\0';
        close(pipefd[0]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    line[strcspn(line, "\n")] = '\0';
    return line;
}

static void parse_sets(const char *line, unsigned long long v[6])
{
    if (sscanf(line, "eff=%llx prm=%llx inh=%llx bnd=%llx amb=%llx secbits=%llx", &v[0], &v[1],
               &v[2], &v[3], &v[4], &v[5]) != 6)
        fail_msg("unexpected probe output '%s'", line);
}

static sbx_policy *policy_rw(void)
{
    sbx_policy *p = policy_new();
    if (scratch[0])
        assert_sbx_ok(sbx_allow_path(p, scratch, SBX_FS_READ | SBX_FS_WRITE));
    return p;
}

/* ---- names and bad input --------------------------------------------------------- */

static void test_caps__names_and_bad_input(void **state)
{
    (void)state;
    assert_int_equal(sbx_capability_from_name("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
    assert_int_equal(sbx_capability_from_name("net_bind_service"), CAP_NET_BIND_SERVICE);
    assert_int_equal(sbx_capability_from_name("Cap_Sys_Admin"), 21);
    assert_int_equal(sbx_capability_from_name("CAP_CHECKPOINT_RESTORE"), 40);
    assert_int_equal(sbx_capability_from_name("CAP_NOPE"), -EINVAL);
    assert_int_equal(sbx_capability_from_name(""), -EINVAL);
    assert_int_equal(sbx_capability_from_name(NULL), -EINVAL);
    assert_string_equal(sbx_capability_name(0), "CAP_CHOWN");
    assert_string_equal(sbx_capability_name(40), "CAP_CHECKPOINT_RESTORE");
    assert_null(sbx_capability_name(-1));
    assert_null(sbx_capability_name(64));

    sbx_policy *p = policy_new();
    assert_int_equal(sbx_keep_capability(p, "CAP_BOGUS"), -EINVAL);
    assert_non_null(strstr(sbx_last_error(), "unknown capability 'CAP_BOGUS'"));
    assert_int_equal(sbx_keep_capability(p, NULL), -EINVAL);
    assert_non_null(strstr(sbx_last_error(), "name is NULL"));
    assert_int_equal(sbx_keep_capability(NULL, "chown"), -EINVAL);
    assert_int_equal(sbx_policy_kept_capabilities(p), 0);
    assert_sbx_ok(sbx_keep_capability(p, "chown"));
    assert_int_equal(sbx_policy_kept_capabilities(p), CAP_CHOWN_BIT);
    assert_int_equal(sbx_policy_kept_capabilities(NULL), 0);
    assert_int_equal(sbx_result_capabilities(NULL, SBX_CAPS_EFFECTIVE), 0);
    sbx_policy_free(p);
}

/* ---- none by default ------------------------------------------------------------- */

static void check_sets_empty(const sbx_policy *p, const char *how)
{
    static const char *const argv[] = {PROBE("probe_caps"), "sets", NULL};
    sbx_result *r = NULL;
    unsigned long long v[6];
    parse_sets(line_of(p, argv, &r), v);
    if (v[0] || v[1] || v[2] || v[4])
        fail_msg("%s: the child holds capabilities: eff=%llx prm=%llx inh=%llx amb=%llx", how, v[0],
                 v[1], v[2], v[4]);
    /* The result says what the probe saw. */
    assert_int_equal(sbx_result_capabilities(r, SBX_CAPS_EFFECTIVE), v[0]);
    assert_int_equal(sbx_result_capabilities(r, SBX_CAPS_PERMITTED), v[1]);
    assert_int_equal(sbx_result_capabilities(r, SBX_CAPS_INHERITABLE), v[2]);
    assert_int_equal(sbx_result_capabilities(r, SBX_CAPS_BOUNDING), v[3]);
    assert_int_equal(sbx_result_capabilities(r, SBX_CAPS_AMBIENT), v[4]);
    assert_int_equal(sbx_result_capabilities(r, 99), 0);
    if (geteuid() == 0 || (sbx_result_namespaces(r) & SBX_NS_USER)) {
        /* It could drop the bounding set and lock the securebits. */
        if (v[3] != 0)
            fail_msg("%s: the bounding set was not emptied: %llx", how, v[3]);
        if ((v[5] & SECBIT_NOROOT_BITS) != SECBIT_NOROOT_BITS)
            fail_msg("%s: securebits %llx lack NOROOT|NOROOT_LOCKED", how, v[5]);
    }
    char json[8192];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) < (int)sizeof(json));
    assert_non_null(strstr(json, "\"capabilities\":{\"effective\":\"0x0\",\"permitted\":\"0x0\""));
    sbx_result_free(r);
}

static void test_caps__none_by_default(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    check_sets_empty(p, "default policy");
    static const char *const argv[] = {PROBE("probe_caps"), "sets", NULL};
    unsigned long long ctl[6];
    parse_sets(line_of(NULL, argv, NULL), ctl);
    if (geteuid() == 0 && ctl[0] == 0)
        fail_msg("the unconfined control holds no capability as root: cannot tell");
    sbx_policy_free(p);
}

static void test_caps__none_in_namespaces(void **state)
{
    (void)state;
    char why[256];
    if (sbx_probe(SBX_FEATURE_USER_NS, why, sizeof(why)) <= 0 ||
        sbx_probe(SBX_FEATURE_PID_NS, why, sizeof(why)) <= 0)
        SBX_SKIP("user and pid namespaces are not available here: %s", why);
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_unshare(p, SBX_NS_USER | SBX_NS_PID | SBX_NS_MOUNT | SBX_NS_NET));
    check_sets_empty(p, "user, pid, mount, net namespaces");
    sbx_policy_free(p);
}

/* ---- a root child cannot use what it no longer has ------------------------------- */

static void expect_try(const sbx_policy *p, const char *action, const char *arg, const char *want,
                       const char *how)
{
    const char *const argv[] = {PROBE("probe_caps"), "try", action, arg, NULL};
    const char *got = line_of(p, argv, NULL);
    if (strcmp(got, want) != 0)
        fail_msg("%s: %s %s: expected '%s', got '%s'", how, action, arg ? arg : "", want, got);
}

static void test_caps__hostile_root_child_powerless(void **state)
{
    (void)state;
    need_root();
    char locked[128], mine[128];
    snprintf(locked, sizeof(locked), "%s/locked", scratch);
    snprintf(mine, sizeof(mine), "%s/mine", scratch);
    int fd = open(locked, O_CREAT | O_WRONLY | O_CLOEXEC, 0000);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chown(locked, 12345, 12345), 0); /* not ours: only DAC_OVERRIDE reads it */
    fd = open(mine, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);

    sbx_policy *p = policy_rw();
    expect_try(p, "read", locked, "denied EACCES", "confined (CAP_DAC_OVERRIDE)");
    expect_try(p, "chown", mine, "denied EPERM", "confined (CAP_CHOWN)");
    expect_try(p, "setuid", NULL, "denied EPERM", "confined (CAP_SETUID)");
    expect_try(p, "nice", NULL, "denied EACCES", "confined (CAP_SYS_NICE)");
    expect_try(p, "raise", "21", "denied EPERM", "confined (ambient CAP_SYS_ADMIN)");
    /* The control: the same probe, unconfined, uses each capability. */
    expect_try(NULL, "read", locked, "ok", "unconfined control");
    expect_try(NULL, "chown", mine, "ok", "unconfined control");
    expect_try(NULL, "setuid", NULL, "ok", "unconfined control");
    expect_try(NULL, "nice", NULL, "ok", "unconfined control");
    sbx_policy_free(p);
}

/* ---- keeping one ----------------------------------------------------------------- */

static void test_caps__keep_one(void **state)
{
    (void)state;
    if (geteuid() != 0 && test_isolation_auto())
        SBX_SKIP("not root, in the default isolation: the child holds it in its user namespace "
                 "(test_caps__keep_in_user_namespace)");
    sbx_policy *p = policy_rw();
    assert_sbx_ok(sbx_allow_bind(p, atoi(TEST_PORT)));
    assert_sbx_ok(sbx_keep_capability(p, "CAP_NET_BIND_SERVICE"));
    if (geteuid() != 0) {
        /* The host does not hold it, and without a user namespace its child
         * cannot either: a spawn error that names it. */
        static const char *const argv[] = {PROBE("probe_caps"), "sets", NULL};
        sbx_result *r = NULL;
        assert_int_equal(sbx_run(p, argv, NULL, 0, &r), -EPERM);
        assert_null(r);
        assert_non_null(strstr(sbx_last_error(), "CAP_NET_BIND_SERVICE"));
        sbx_policy_free(p);
        SBX_SKIP("not root: keeping a capability the host lacks fails as it must (checked); "
                 "the keep itself is tested in test_caps__keep_in_user_namespace");
    }
    static const char *const argv[] = {PROBE("probe_caps"), "sets", NULL};
    unsigned long long v[6];
    sbx_result *r = NULL;
    parse_sets(line_of(p, argv, &r), v);
    unsigned long long bit = 1ull << CAP_NET_BIND_SERVICE;
    if (v[0] != bit || v[1] != bit || v[2] != bit || v[3] != bit || v[4] != bit)
        fail_msg("keeping CAP_NET_BIND_SERVICE: eff=%llx prm=%llx inh=%llx bnd=%llx amb=%llx", v[0],
                 v[1], v[2], v[3], v[4]);
    assert_int_equal(sbx_result_capabilities(r, SBX_CAPS_AMBIENT), bit);
    sbx_result_free(r);
    expect_try(p, "bind", TEST_PORT, "ok", "kept CAP_NET_BIND_SERVICE");
    char mine[128];
    snprintf(mine, sizeof(mine), "%s/mine2", scratch);
    int fd = open(mine, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    expect_try(p, "chown", mine, "denied EPERM", "only the kept one");
    sbx_policy_free(p);

    /* The control: without the keep, the low port is refused. */
    sbx_policy *q = policy_rw();
    assert_sbx_ok(sbx_allow_bind(q, atoi(TEST_PORT)));
    expect_try(q, "bind", TEST_PORT, "denied EACCES", "without the keep");
    sbx_policy_free(q);
}

static void test_caps__keep_in_user_namespace(void **state)
{
    (void)state;
    char why[256];
    if (sbx_probe(SBX_FEATURE_USER_NS, why, sizeof(why)) <= 0 ||
        sbx_probe(SBX_FEATURE_NET_NS, why, sizeof(why)) <= 0)
        SBX_SKIP("user and net namespaces are not available here: %s", why);
    /* In its own user and network namespaces, a kept CAP_NET_BIND_SERVICE binds
     * a low port of the namespace's loopback: as any user. */
    sbx_policy *p = policy_rw();
    assert_sbx_ok(sbx_unshare(p, SBX_NS_USER | SBX_NS_NET));
    assert_sbx_ok(sbx_allow_bind(p, atoi(TEST_PORT)));
    assert_sbx_ok(sbx_keep_capability(p, "net_bind_service"));
    expect_try(p, "bind", TEST_PORT, "ok", "kept in the user namespace");
    expect_try(p, "raise", "21", "denied EPERM", "only the kept one (CAP_SYS_ADMIN)");
    sbx_policy_free(p);
    sbx_policy *q = policy_rw();
    assert_sbx_ok(sbx_unshare(q, SBX_NS_USER | SBX_NS_NET));
    assert_sbx_ok(sbx_allow_bind(q, atoi(TEST_PORT)));
    expect_try(q, "bind", TEST_PORT, "denied EACCES", "not kept");
    sbx_policy_free(q);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_caps__names_and_bad_input),
    cmocka_unit_test(test_caps__none_by_default),
    cmocka_unit_test(test_caps__none_in_namespaces),
    cmocka_unit_test_setup_teardown(test_caps__hostile_root_child_powerless, setup, teardown),
    cmocka_unit_test_setup_teardown(test_caps__keep_one, setup, teardown),
    cmocka_unit_test_setup_teardown(test_caps__keep_in_user_namespace, setup, teardown),
};

SBX_TEST_MAIN(tests)
