/* Live tests of supervising children: sbx_child_poll() and the pollable
 * sbx_child_fd(), sbx_child_timeout_ms(), sbx_child_kill() and
 * sbx_child_signal(), results taken once; that the library leaves the host's
 * own child handling alone (waitpid(-1) does not reap its children, SIGCHLD
 * ignored changes nothing) and leaks no zombie and no descriptor over 1000
 * spawns; 8 threads spawning at once; and die-with-parent (with a control that
 * turns it off). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "live.h"

/* ---- helpers ------------------------------------------------------------- */

static sbx_child *spawn(const sbx_policy *p, const char *const *argv, const sbx_io *io)
{
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, io, &c));
    assert_non_null(c);
    return c;
}

/* Wait for c and check how it ended; then free it. */
static void wait_expect(sbx_child *c, int status, int value)
{
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, status, value);
    sbx_result_free(r);
    sbx_child_free(c);
}

/* A child that runs until its stdin is closed (sbx_child_close_stdio(c, 0)),
 * then exits 5. */
static sbx_child *spawn_reader(const sbx_policy *p)
{
    static const char *const argv[] = {"/bin/sh", "-c", "read x; exit 5", NULL};
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = SBX_STDIO_PIPE;
    return spawn(p, argv, &io);
}

/* poll() the child's descriptor for POLLIN; returns poll's count (0 or 1). */
static int child_readable(sbx_child *c, int timeout_ms)
{
    struct pollfd pfd = {.fd = sbx_child_fd(c), .events = POLLIN};
    assert_true(pfd.fd >= 0);
    int n = poll(&pfd, 1, timeout_ms);
    assert_true(n >= 0);
    return n;
}

static const char *const sleep60[] = {"/bin/sleep", "60", NULL};

/* ---- polling ------------------------------------------------------------- */

static void test_supervise__poll_eagain_while_running(void **state)
{
    sbx_policy *p = policy_new();
    sbx_child *c = spawn_reader(p);
    sbx_result *r = NULL;
    assert_int_equal(sbx_child_poll(c, &r), -EAGAIN);
    assert_null(r);
    usleep(100000);
    assert_int_equal(sbx_child_poll(c, &r), -EAGAIN);
    assert_sbx_ok(sbx_child_close_stdio(c, 0));
    int rc;
    for (int i = 0; (rc = sbx_child_poll(c, &r)) == -EAGAIN && i < 500; i++)
        usleep(10000);
    assert_int_equal(rc, 0);
    assert_status(r, SBX_STATUS_EXITED, 5);
    assert_int_equal(sbx_child_poll(c, &r), -EALREADY);
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

/* The event loop: wait for the child's fd, then sbx_child_poll(), which may
 * still say -EAGAIN (the fd also reports events other than the exit). */
static sbx_result *poll_until_ended(sbx_child *c)
{
    sbx_result *r = NULL;
    for (int i = 0; i < 1000; i++) {
        if (child_readable(c, 10000) != 1)
            fail_msg("the child's fd did not become readable within 10 s");
        int rc = sbx_child_poll(c, &r);
        if (rc == 0)
            return r;
        assert_int_equal(rc, -EAGAIN);
    }
    fail_msg("the child's fd stayed readable without the child ending");
    return NULL;
}

static void test_supervise__child_fd_readable_on_exit(void **state)
{
    sbx_policy *p = policy_new();
    sbx_child *c = spawn_reader(p);
    sbx_result *r = NULL;
    assert_int_equal(sbx_child_poll(c, &r), -EAGAIN); /* handle any start-up event */
    assert_int_equal(child_readable(c, 200), 0);      /* blocked in read: nothing to report */
    assert_sbx_ok(sbx_child_close_stdio(c, 0));
    r = poll_until_ended(c);
    assert_status(r, SBX_STATUS_EXITED, 5);
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

static void test_supervise__pid_leads_group_and_session(void **state)
{
    sbx_policy *p = policy_new();
    sbx_child *c = spawn(p, sleep60, NULL);
    pid_t pid = sbx_child_pid(c);
    assert_true(pid > 1);
    assert_int_equal(getpgid(pid), pid);
    assert_int_equal(getsid(pid), pid);
    assert_true(getsid(0) != pid);
    assert_sbx_ok(sbx_child_kill(c));
    wait_expect(c, SBX_STATUS_KILLED, SIGKILL);
    sbx_policy_free(p);
}

/* ---- deadlines ----------------------------------------------------------- */

static void test_supervise__timeout_ms(void **state)
{
    sbx_policy *p = policy_new();
    sbx_child *c = spawn(p, sleep60, NULL);
    assert_int_equal(sbx_child_timeout_ms(c), -1); /* no deadline */
    assert_sbx_ok(sbx_child_kill(c));
    wait_expect(c, SBX_STATUS_KILLED, SIGKILL);

    assert_sbx_ok(sbx_limit_wall_time(p, 5000));
    c = spawn(p, sleep60, NULL);
    int64_t left = sbx_child_timeout_ms(c);
    if (left <= 4000 || left > 5000)
        fail_msg("%lld ms left right after spawning with a 5000 ms limit", (long long)left);
    usleep(200000);
    int64_t later = sbx_child_timeout_ms(c);
    if (later > left - 150 || later < left - 1000)
        fail_msg("%lld ms left 200 ms after %lld", (long long)later, (long long)left);
    assert_sbx_ok(sbx_child_kill(c));
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_int_equal(sbx_child_timeout_ms(c), -1); /* ended */
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

/* The event-loop use: poll the fd with the library's timeout, then sbx_child_poll(). */
static void test_supervise__event_loop_timeout(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_limit_wall_time(p, 200));
    sbx_child *c = spawn(p, sleep60, NULL);
    sbx_result *r = NULL;
    int rc, rounds = 0;
    while ((rc = sbx_child_poll(c, &r)) == -EAGAIN && rounds++ < 100) {
        int64_t t = sbx_child_timeout_ms(c);
        assert_true(t >= 0 && t <= 200);
        child_readable(c, (int)t);
    }
    assert_int_equal(rc, 0);
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    assert_int_equal(sbx_child_timeout_ms(c), -1);
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

/* ---- kill, signal, results taken once ------------------------------------ */

static void test_supervise__kill(void **state)
{
    sbx_policy *p = policy_new();
    sbx_child *c = spawn(p, sleep60, NULL);
    assert_sbx_ok(sbx_child_kill(c));
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_KILLED, SIGKILL);
    assert_sbx_ok(sbx_child_kill(c)); /* already ended: still 0 */
    assert_sbx_ok(sbx_child_signal(c, SIGTERM));
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

static void test_supervise__signal(void **state)
{
    sbx_policy *p = policy_new();
    sbx_child *c = spawn(p, sleep60, NULL);
    assert_sbx_error(sbx_child_signal(c, -1), -EINVAL, "");
    assert_sbx_error(sbx_child_signal(c, 1000), -EINVAL, "");
    assert_sbx_ok(sbx_child_signal(c, SIGTERM));
    wait_expect(c, SBX_STATUS_SIGNALED, SIGTERM);
    sbx_policy_free(p);
}

static void test_supervise__wait_twice(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"/bin/sh", "-c", "exit 9", NULL};
    sbx_child *c = spawn(p, argv, NULL);
    sbx_result *r = NULL, *again = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_EXITED, 9);
    assert_sbx_error(sbx_child_wait(c, &again), -EALREADY, "");
    assert_null(again);
    assert_sbx_error(sbx_child_poll(c, &again), -EALREADY, "");
    assert_null(again);
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

/* ---- the host's own child handling --------------------------------------- */

/* Spawn `exit 7` and wait until it has ended, without reaping it (WNOWAIT).
 * With SIGCHLD ignored the kernel may have reaped it already (ECHILD). */
static sbx_child *spawn_exited_7(const sbx_policy *p)
{
    static const char *const argv[] = {"/bin/sh", "-c", "exit 7", NULL};
    sbx_child *c = spawn(p, argv, NULL);
    siginfo_t info;
    int rc;
    while ((rc = waitid(P_PID, (id_t)sbx_child_pid(c), &info, WEXITED | WNOWAIT | __WALL)) != 0 &&
           errno == EINTR)
        ;
    assert_true(rc == 0 || errno == ECHILD);
    return c;
}

/* The kernel resets a child's exit signal to SIGCHLD at execve, so a host that
 * reaps every child takes the status away: the library must say so (-ECHILD
 * and a message), never invent a status. */
static void test_supervise__host_waitpid_reaping_is_reported(void **state)
{
    sbx_policy *p = policy_new();
    sbx_child *c = spawn_exited_7(p);
    int st = 0;
    pid_t got = waitpid(-1, &st, WNOHANG | __WALL);
    assert_int_equal(got, sbx_child_pid(c)); /* the host really took it */
    sbx_result *r = NULL;
    assert_sbx_error(sbx_child_wait(c, &r), -ECHILD, "its exit status is lost");
    assert_null(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

/* With SIGCHLD ignored the kernel discards every exit status: spawning is
 * refused, before anything runs. */
static void test_supervise__sigchld_ignored_is_refused(void **state)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"/bin/sh", "-c", "exit 6", NULL};
    sbx_child *c = NULL;
    assert_sbx_error(sbx_spawn(p, argv, NULL, &c), -ECHILD, "SIGCHLD is ignored");
    assert_null(c);
    sbx_result *r = NULL;
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -ECHILD, "SIGCHLD is ignored");
    sigaction(SIGCHLD, &old, NULL);
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &r)); /* and works again once restored */
    assert_status(r, SBX_STATUS_EXITED, 6);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void assert_gone(pid_t pid)
{
    if (kill(pid, 0) == 0 || errno != ESRCH)
        fail_msg("pid %d still exists (a zombie?) after sbx_child_free", (int)pid);
}

static void test_supervise__free_without_wait_reaps(void **state)
{
    sbx_policy *p = policy_new();
    sbx_child *running = spawn(p, sleep60, NULL);
    pid_t pid = sbx_child_pid(running);
    sbx_child_free(running); /* kills and reaps */
    assert_gone(pid);

    sbx_child *ended = spawn_exited_7(p); /* a zombie until reaped */
    pid = sbx_child_pid(ended);
    sbx_child_free(ended);
    assert_gone(pid);
    sbx_policy_free(p);
}

/* ---- no leaks over many spawns ------------------------------------------- */

static void test_supervise__many_spawns_leak_nothing(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const argv[] = {"/bin/true", NULL};
    wait_expect(spawn(p, argv, NULL), SBX_STATUS_EXITED, 0); /* warm-up: compile, caches */
    sbx_result *warm = NULL; /* and sbx_run's: the init's memfd, made once per process */
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &warm));
    sbx_result_free(warm);
    /* Counted without the sandbox the policy prepares for its next spawn
     * (turning that off ends it; the policy keeps its plan): its set-up is
     * the helper's, and holds more or fewer descriptors as it goes. */
    assert_sbx_ok(sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_OFF));
    int fds = count_fds();
    assert_sbx_ok(sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_AUTO));
    for (int i = 0; i < 1000; i++) {
        sbx_child *c = NULL;
        sbx_result *r = NULL;
        int rc = sbx_spawn(p, argv, NULL, &c);
        if (rc != 0)
            fail_msg("spawn %d failed: %s: %s", i, sbx_errname(rc), sbx_last_error());
        assert_sbx_ok(sbx_child_wait(c, &r));
        if (sbx_result_status(r) != SBX_STATUS_EXITED || sbx_result_exit_code(r) != 0)
            fail_msg("spawn %d: %s", i, describe(r));
        sbx_result_free(r);
        sbx_child_free(c);
        if (i % 10 == 0) { /* sbx_run too: it adds pipes */
            assert_sbx_ok(sbx_run(p, argv, "x", 1, &r));
            sbx_result_free(r);
        }
    }
    assert_sbx_ok(sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_OFF));
    assert_int_equal(count_fds(), fds);
    assert_no_children();
    sbx_policy_free(p);
}

/* ---- threads ------------------------------------------------------------- */

#define N_THREADS    8
#define N_PER_THREAD 50

struct spawner {
    const sbx_policy *policy;
    int index;
    int failures;
    char first_failure[512];
};

static void *spawner_main(void *arg)
{
    struct spawner *s = arg;
    for (int i = 0; i < N_PER_THREAD; i++) {
        int code = (s->index * N_PER_THREAD + i) % 256;
        char tag[32], exit_code[8];
        snprintf(tag, sizeof(tag), "t%d-%d", s->index, i);
        snprintf(exit_code, sizeof(exit_code), "%d", code);
        const char *argv[] = {"/bin/sh", "-c", "echo \"$0\"; exit \"$1\"", tag, exit_code, NULL};
        sbx_result *r = NULL;
        int rc = sbx_run(s->policy, argv, NULL, 0, &r);
        char expect[40];
        snprintf(expect, sizeof(expect), "%s\n", tag);
        if (rc != 0 || sbx_result_status(r) != SBX_STATUS_EXITED ||
            sbx_result_exit_code(r) != code || strcmp(sbx_result_stdout(r, NULL), expect) != 0) {
            if (s->failures++ == 0)
                snprintf(s->first_failure, sizeof(s->first_failure),
                         "%s: rc %d (%s), exit %d (want %d), stdout '%s'", tag, rc,
                         rc ? sbx_last_error() : "", sbx_result_exit_code(r), code,
                         sbx_result_stdout(r, NULL));
        }
        sbx_result_free(r);
    }
    return NULL;
}

static void test_supervise__threads_spawn_at_once(void **state)
{
    sbx_policy *p = policy_new(); /* not compiled yet: the threads race to compile it */
    struct spawner s[N_THREADS];
    pthread_t t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        s[i] = (struct spawner){.policy = p, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, spawner_main, &s[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < N_THREADS; i++)
        if (s[i].failures)
            fail_msg("thread %d: %d of %d wrong; first: %s", i, s[i].failures, N_PER_THREAD,
                     s[i].first_failure);
    sbx_policy_free(p); /* (it may keep a sandbox prepared for its next spawn) */
    assert_no_children();
}

/* ---- die with parent ----------------------------------------------------- */

/* Fork a helper that spawns `sleep 60` under p, reports its pid and _exit()s.
 * This process is a subreaper, so the orphaned child becomes ours to reap. */
static pid_t spawn_from_dying_helper(const sbx_policy *p)
{
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        sbx_child *c = NULL;
        pid_t pid = sbx_spawn(p, sleep60, NULL, &c) == 0 ? sbx_child_pid(c) : -1;
        if (write(pipefd[1], &pid, sizeof(pid)) != sizeof(pid))
            _exit(2);
        _exit(0);
    }
    close(pipefd[1]);
    pid_t pid = -1;
    assert_int_equal(read(pipefd[0], &pid, sizeof(pid)), sizeof(pid));
    close(pipefd[0]);
    int st;
    assert_int_equal(waitpid(helper, &st, 0), helper);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(pid > 1);
    return pid;
}

/* Reap pid (ours as subreaper) within ms; returns its wait status, or -1. */
static int reap_within(pid_t pid, int ms)
{
    for (int waited = 0; waited <= ms; waited += 10) {
        int st;
        pid_t got = waitpid(pid, &st, WNOHANG | __WALL);
        if (got == pid)
            return st;
        assert_int_equal(got, 0);
        usleep(10000);
    }
    return -1;
}

/* The spawner dies without reaping: nobody is left to remove a private TMPDIR
 * (see docs/landlock.md), so these cases run without one. */
static void test_supervise__die_with_parent(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_private_tmp(p, 0));
    pid_t pid = spawn_from_dying_helper(p);
    int st = reap_within(pid, 2000);
    if (st == -1) {
        kill(pid, SIGKILL);
        fail_msg("the child %d outlived its spawner by more than 2 s", (int)pid);
    }
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    sbx_policy_free(p);
}

static void test_supervise__die_with_parent_off(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_private_tmp(p, 0));
    assert_sbx_ok(sbx_set_die_with_parent(p, 0));
    pid_t pid = spawn_from_dying_helper(p);
    assert_int_equal(reap_within(pid, 500), -1); /* the control: it survives */
    assert_int_equal(kill(pid, SIGKILL), 0);
    int st = reap_within(pid, 2000);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    sbx_policy_free(p);
}

/* A supervisor serves children whose output the library captures: their
 * pipes are in its set, read as they fill, so a child writing more than a
 * pipe holds never stalls. */
static void test_supervise__captured_children(void **state)
{
    sbx_policy *p = policy_new();
    static const char *const big[] = {"/usr/bin/head", "-c", "1000000", "/dev/zero", NULL};
    sbx_supervisor *sup = NULL;
    assert_sbx_ok(sbx_supervisor_new(&sup));
    SBX_SPAWN_OPTS(o, .capture = 1, .wall_ms = 20000);
    for (int i = 0; i < 3; i++) {
        sbx_child *c = NULL;
        assert_sbx_ok(sbx_spawn_with(p, big, &o, &c));
        assert_sbx_ok(sbx_supervisor_add(sup, c));
    }
    int done = 0;
    while (done < 3) {
        assert_true(sbx_supervisor_wait(sup, 10000) >= 0);
        sbx_child *c;
        sbx_result *r;
        while (sbx_supervisor_next(sup, &c, &r) == 0) {
            assert_status(r, SBX_STATUS_EXITED, 0);
            size_t len = 0;
            sbx_result_stdout(r, &len);
            assert_int_equal(len, 1000000);
            sbx_result_free(r);
            sbx_child_free(c);
            done++;
        }
    }
    sbx_supervisor_free(sup);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_supervise__captured_children),
    cmocka_unit_test(test_supervise__poll_eagain_while_running),
    cmocka_unit_test(test_supervise__child_fd_readable_on_exit),
    cmocka_unit_test(test_supervise__pid_leads_group_and_session),
    cmocka_unit_test(test_supervise__timeout_ms),
    cmocka_unit_test(test_supervise__event_loop_timeout),
    cmocka_unit_test(test_supervise__kill),
    cmocka_unit_test(test_supervise__signal),
    cmocka_unit_test(test_supervise__wait_twice),
    cmocka_unit_test(test_supervise__host_waitpid_reaping_is_reported),
    cmocka_unit_test(test_supervise__sigchld_ignored_is_refused),
    cmocka_unit_test(test_supervise__free_without_wait_reaps),
    cmocka_unit_test(test_supervise__many_spawns_leak_nothing),
    cmocka_unit_test(test_supervise__threads_spawn_at_once),
    cmocka_unit_test(test_supervise__die_with_parent),
    cmocka_unit_test(test_supervise__die_with_parent_off),
};

SBX_TEST_MAIN(tests)
