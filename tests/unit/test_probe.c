/* Unit tests of the feature probes (sbx_probe, sbx_feature_name): levels,
 * reasons, names, and bad input. They run on any kernel: what they assert of a
 * feature's level is checked against an independent probe of the same kernel. */
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "testutil.h"

static void test_probe__unknown_feature_is_einval(void **state)
{
    char reason[64] = "untouched";
    assert_sbx_error(sbx_probe(0, reason, sizeof(reason)), -EINVAL, "unknown feature 0");
    assert_sbx_error(sbx_probe(SBX_FEATURE_END, NULL, 0), -EINVAL, "unknown feature");
    assert_sbx_error(sbx_probe(-5, NULL, 0), -EINVAL, "unknown feature -5");
}

static void test_probe__names(void **state)
{
    static const char *const expected[SBX_FEATURE_END] = {
        NULL,     "landlock",    "seccomp", "seccomp_notify", "pidfd",
        "clone3", "close_range", "cgroup",  "user_ns",        "pid_ns",
        "net_ns", "ipc_ns",      "uts_ns",  "mount_ns",       "tree_kill", "isolation",
    };
    for (int f = 1; f < SBX_FEATURE_END; f++)
        assert_string_equal(sbx_feature_name(f), expected[f]);
    assert_string_equal(sbx_feature_name(0), "unknown");
    assert_string_equal(sbx_feature_name(SBX_FEATURE_END), "unknown");
}

/* The user namespace probe agrees with unshare(2) in a forked child. */
static void test_probe__user_ns_matches_unshare(void **state)
{
    char reason[256];
    int level = sbx_probe(SBX_FEATURE_USER_NS, reason, sizeof(reason));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) {
        assert_int_equal(level, 1);
        assert_string_equal(reason, "");
    } else {
        assert_int_equal(level, 0);
        assert_true(reason[0] != '\0');
    }
    int tree = sbx_probe(SBX_FEATURE_TREE_KILL, reason, sizeof(reason));
    assert_in_range(tree, SBX_TREE_KILL_PGROUP, SBX_TREE_KILL_PIDNS);
    if (sbx_probe(SBX_FEATURE_PID_NS, NULL, 0) > 0)
        assert_int_equal(tree, SBX_TREE_KILL_PIDNS);
}

static void test_probe__landlock_level_is_the_abi(void **state)
{
    char reason[256];
    int level = sbx_probe(SBX_FEATURE_LANDLOCK, reason, sizeof(reason));
    long abi = syscall(444 /* landlock_create_ruleset */, NULL, 0, 1u);
    if (abi > 0) {
        assert_int_equal(level, abi);
        assert_int_equal(level, sbx_landlock_abi());
        assert_string_equal(reason, "");
    } else {
        assert_int_equal(level, 0);
        assert_true(strstr(reason, "landlock_create_ruleset") != NULL);
    }
}

static void test_probe__every_feature_answers(void **state)
{
    for (int f = 1; f < SBX_FEATURE_END; f++) {
        char reason[256] = "x";
        int level = sbx_probe(f, reason, sizeof(reason));
        assert_true(level >= 0);
        /* a reason exactly when the feature is missing */
        assert_int_equal(level == 0, reason[0] != '\0');
        assert_true(sbx_probe(f, NULL, 0) == level); /* no reason buffer is fine */
    }
}

/* Level 1 or 2 exactly when a writable memory and pids setup exists beneath
 * our own cgroups; otherwise the reason names what is missing. */
static void test_probe__cgroup(void **state)
{
    char reason[1024];
    int level = sbx_probe(SBX_FEATURE_CGROUP, reason, sizeof(reason));
    assert_true(level >= 0 && level <= 2);
    if (level == 0)
        assert_non_null(strstr(reason, "cgroup: no writable"));
    else
        assert_string_equal(reason, "");
}

static void test_probe__pidfd_matches_pidfd_open(void **state)
{
    int fd = (int)syscall(434 /* pidfd_open */, getpid(), 0);
    assert_int_equal(sbx_probe(SBX_FEATURE_PIDFD, NULL, 0), fd >= 0 ? 1 : 0);
    if (fd >= 0)
        close(fd);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_probe__unknown_feature_is_einval),
    cmocka_unit_test(test_probe__names),
    cmocka_unit_test(test_probe__landlock_level_is_the_abi),
    cmocka_unit_test(test_probe__user_ns_matches_unshare),
    cmocka_unit_test(test_probe__every_feature_answers),
    cmocka_unit_test(test_probe__cgroup),
    cmocka_unit_test(test_probe__pidfd_matches_pidfd_open),
};

SBX_TEST_MAIN(tests)
