/* Unit tests of the feature probes (sbx_probe, sbx_feature_name): levels,
 * reasons, names, and bad input. They run on any kernel: what they assert of a
 * feature's level is checked against an independent probe of the same kernel. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
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
        NULL,          "landlock", "seccomp",   "seccomp_notify", "pidfd",  "clone3",
        "close_range", "cgroup",   "user_ns",   "pid_ns",         "net_ns", "ipc_ns",
        "uts_ns",      "mount_ns", "tree_kill", "isolation",
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

/* ---- what the Landlock probe observed (issue 18, item 5) ----------------------------------
 * Valgrind and emulators answer landlock_create_ruleset with ENOSYS, a kernel
 * with Landlock off at boot with EOPNOTSUPP, a container's seccomp profile with
 * EPERM. Each is made here by a seccomp filter in a fresh process (this test
 * executed again, so that the library probes anew): the constructor below
 * runs the probe and a strict sbx_run() there and prints both messages. */

#define ERRNO_CHILD_ENV "SBX_TEST_PROBE_LANDLOCK_ERRNO"

__attribute__((constructor)) static void landlock_errno_child(void)
{
    const char *v = getenv(ERRNO_CHILD_ENV);
    if (!v)
        return;
    char reason[512];
    int level = sbx_probe(SBX_FEATURE_LANDLOCK, reason, sizeof(reason));
    sbx_policy *p = NULL;
    sbx_result *r = NULL;
    int rc = sbx_policy_new(&p);
    if (rc == 0)
        rc = sbx_run(p, (const char *const[]){"/bin/true", NULL}, NULL, 0, &r);
    printf("%d\n%s\n%d %s\n", level, reason, rc, rc < 0 ? sbx_last_error() : "");
    sbx_result_free(r);
    sbx_policy_free(p);
    fflush(stdout);
    _exit(0);
}

/* Run this test binary again with landlock_create_ruleset answering -err;
 * its output goes to out. 0, or -1 when the filter cannot be installed
 * (under valgrind, which has no seccomp). */
static int probe_with_errno(int err, char *out, size_t size)
{
    char self[4096];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1); /* valgrind: the client's */
    assert_true(sn > 0);
    self[sn] = '\0';
    int pipefd[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 444 /* landlock_create_ruleset */, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            _exit(3);
        dup2(pipefd[1], 1);
        setenv(ERRNO_CHILD_ENV, "1", 1);
        execl(self, "test_probe", (char *)NULL);
        _exit(4);
    }
    close(pipefd[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = read(pipefd[0], out + len, size - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(pipefd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 3)
        return -1;
    assert_int_equal(WEXITSTATUS(st), 0);
    return 0;
}

static void test_probe__landlock_says_what_was_observed(void **state)
{
    static const struct {
        int err;
        const char *reason;
    } cases[] = {
        {ENOSYS, "landlock_create_ruleset returned ENOSYS: the kernel lacks Landlock (Linux older "
                 "than 5.13, or built without CONFIG_SECURITY_LANDLOCK; this is Linux "},
        {EOPNOTSUPP, "landlock_create_ruleset returned EOPNOTSUPP: Landlock is built into this "
                     "kernel but disabled at boot (add landlock to the lsm= boot parameter)"},
        {EPERM, "landlock_create_ruleset returned EPERM (Operation not permitted): blocked, "
                "perhaps by a container's seccomp profile"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[4096];
        if (probe_with_errno(cases[i].err, out, sizeof(out)) < 0)
            SBX_SKIP("a seccomp filter cannot be installed here (valgrind?)");
        /* level, then the reason, then the strict run's error */
        char *reason = strchr(out, '\n');
        assert_non_null(reason);
        *reason++ = '\0';
        assert_string_equal(out, "0");
        char *run = strchr(reason, '\n');
        assert_non_null(run);
        *run++ = '\0';
        if (strncmp(reason, cases[i].reason, strlen(cases[i].reason)) != 0)
            fail_msg("errno %d: reason '%s', expected it to start with '%s'", cases[i].err, reason,
                     cases[i].reason);
        if (cases[i].err == ENOSYS &&
            !strstr(reason, "), or the program runs under valgrind or an emulator (valgrind does "
                            "not know this system call)"))
            fail_msg("ENOSYS: valgrind is not named: %s", reason);
        char expected[1024];
        snprintf(expected, sizeof(expected),
                 "-95 landlock: this kernel cannot enforce Landlock itself (%s); mark "
                 "SBX_LAYER_LANDLOCK best-effort to run without it",
                 reason);
        if (strncmp(run, expected, strlen(expected)) != 0)
            fail_msg("errno %d: strict run said '%s', expected '%s'", cases[i].err, run, expected);
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
    cmocka_unit_test(test_probe__landlock_says_what_was_observed),
};

SBX_TEST_MAIN(tests)
