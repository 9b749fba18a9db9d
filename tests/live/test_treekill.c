/* Nothing outlives the run without namespaces or cgroups (issue 13, item 5):
 * the subreaper init. A probe double-forks a grandchild into a new session
 * (tests/hostile/probe_cgroup.c escape), which escapes a process-group kill.
 * With the subreaper (sbx_run always, sbx_spawn with sbx_set_subreaper) the
 * grandchild is dead when the call returns, at the timeout, at a kill, at a
 * normal end, and when the host dies; the control (sbx_spawn without it)
 * leaves it alive, so the probe proves something. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "live.h"

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/agentsbx-treekill.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return chmod(dir, 0777);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static sbx_policy *escape_policy(uint64_t wall_ms)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_workdir(p, dir));
    if (wall_ms)
        assert_sbx_ok(sbx_limit_wall_time(p, wall_ms));
    return p;
}

/* The grandchild's pid, written by the probe (waits up to 5 s for it). */
static pid_t grandchild(void)
{
    char file[128];
    snprintf(file, sizeof(file), "%s/gc.pid", dir);
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(file, "r");
        int pid = 0;
        if (f) {
            int ok = fscanf(f, "%d", &pid) == 1;
            fclose(f);
            if (ok && pid > 1) {
                unlink(file);
                return pid;
            }
        }
        usleep(10000);
    }
    fail_msg("no grandchild pid in %s", file);
    return -1;
}

static const char *escape_argv[] = {PROBE("probe_cgroup"), "escape", "gc.pid", NULL};

/* Dead, or the test kills it and fails. */
static void expect_dead(pid_t gc, const char *how)
{
    for (int i = 0; i < 100 && !process_dead(gc); i++) /* the kernel's reparenting is async */
        usleep(10000);
    if (!process_dead(gc)) {
        kill(gc, SIGKILL);
        fail_msg("%s: the setsid grandchild %d survived", how, (int)gc);
    }
}

static void expect_alive_then_kill(pid_t gc, const char *how)
{
    usleep(100000);
    int alive = !process_dead(gc);
    kill(gc, SIGKILL);
    if (!alive)
        fail_msg("%s: the grandchild died without the subreaper: the probe proves nothing", how);
}

/* ---- sbx_run: always ------------------------------------------------------------- */

static void test_treekill__run_leaves_no_survivor_at_timeout(void **state)
{
    (void)state;
    sbx_policy *p = escape_policy(400);
    sbx_result *r = run_ok(p, escape_argv);
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    assert_int_equal(sbx_result_tree_kill(r), SBX_TREE_KILL_SUBREAPER);
    char json[2048];
    sbx_result_to_json(r, json, sizeof(json));
    assert_non_null(strstr(json, "\"tree_kill\":\"subreaper\""));
    sbx_result_free(r);
    expect_dead(grandchild(), "sbx_run at the timeout");

    /* The control: sbx_spawn without the subreaper kills the group only. */
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, escape_argv, NULL, &c));
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_int_equal(sbx_result_tree_kill(r), SBX_TREE_KILL_PGROUP);
    sbx_result_free(r);
    sbx_child_free(c);
    expect_alive_then_kill(grandchild(), "control");
    sbx_policy_free(p);
    assert_no_children();
}

/* A live thread behind a zombie thread-group leader (in the program and in a
 * setsid grandchild): the subreaper's kill reaches it too. */
static void test_treekill__run_kills_a_thread_behind_a_zombie_leader(void **state)
{
    (void)state;
    static const char *zombie_argv[] = {PROBE("probe_cgroup"), "zombie", "gc.pid", NULL};
    sbx_policy *p = escape_policy(400);
    sbx_result *r = run_ok(p, zombie_argv);
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    assert_int_equal(sbx_result_tree_kill(r), SBX_TREE_KILL_SUBREAPER);
    sbx_result_free(r);
    expect_dead(grandchild(), "sbx_run at the timeout");

    /* The control: sbx_spawn without the subreaper kills the group only. */
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, zombie_argv, NULL, &c));
    assert_sbx_ok(sbx_child_wait(c, &r));
    sbx_result_free(r);
    sbx_child_free(c);
    expect_alive_then_kill(grandchild(), "control");
    sbx_policy_free(p);
    assert_no_children();
}

/* The program ends by itself, leaving a daemon behind: killed too. */
static void test_treekill__run_kills_what_a_normal_end_leaves(void **state)
{
    (void)state;
    sbx_policy *p = escape_policy(0);
    static const char *const argv[] = {
        "/bin/sh", "-c", PROBE("probe_cgroup") " escape gc.pid > /dev/null & sleep 0.3; exit 7",
        NULL};
    assert_sbx_ok(sbx_allow_tool(p, "sleep"));
    assert_sbx_ok(sbx_allow_tool(p, PROBE("probe_cgroup")));
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 7); /* the program's own status, through the init */
    sbx_result_free(r);
    expect_dead(grandchild(), "after a normal end");
    sbx_policy_free(p);
}

/* ---- sbx_spawn: with sbx_set_subreaper ------------------------------------------- */

static void test_treekill__spawn_with_subreaper_kill(void **state)
{
    (void)state;
    sbx_policy *p = escape_policy(0);
    assert_sbx_ok(sbx_set_subreaper(p, 1));
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, escape_argv, NULL, &c));
    pid_t gc = grandchild();
    assert_sbx_ok(sbx_child_kill(c));
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_int_equal(sbx_result_status(r), SBX_STATUS_KILLED);
    assert_int_equal(sbx_result_tree_kill(r), SBX_TREE_KILL_SUBREAPER);
    sbx_result_free(r);
    sbx_child_free(c);
    expect_dead(gc, "sbx_child_kill");
    /* A signal of the host's reaches the program (SIGKILL: the tree). */
    assert_sbx_ok(sbx_spawn(p, escape_argv, NULL, &c));
    gc = grandchild();
    assert_sbx_ok(sbx_child_signal(c, SIGKILL));
    assert_sbx_ok(sbx_child_wait(c, &r));
    sbx_result_free(r);
    sbx_child_free(c);
    expect_dead(gc, "sbx_child_signal(SIGKILL)");
    assert_int_equal(sbx_set_subreaper(p, 2), -EINVAL);
    assert_int_equal(sbx_set_subreaper(NULL, 1), -EINVAL);
    sbx_policy_free(p);
    assert_no_children();
}

/* The host dies: the init's parent-death signal makes it kill the tree. */
static void test_treekill__host_death(void **state)
{
    (void)state;
    for (int with = 1; with >= 0; with--) {
        pid_t host = fork();
        assert_true(host >= 0);
        if (host == 0) {
            sbx_policy *p = escape_policy(0);
            if (with && sbx_set_subreaper(p, 1) != 0)
                _exit(3);
            sbx_child *c = NULL;
            if (sbx_spawn(p, escape_argv, NULL, &c) != 0)
                _exit(4);
            pause(); /* killed by the test */
            _exit(0);
        }
        pid_t gc = grandchild();
        kill(host, SIGKILL);
        waitpid(host, NULL, 0);
        if (with)
            expect_dead(gc, "host killed, with the subreaper");
        else
            expect_alive_then_kill(gc, "host killed, control");
    }
}

/* Exit codes and signals pass through the init unchanged. */
static void test_treekill__status_through_the_init(void **state)
{
    (void)state;
    sbx_policy *p = escape_policy(0);
    static const char *const code[] = {"/bin/sh", "-c", "exit 42", NULL};
    sbx_result *r = run_ok(p, code);
    assert_status(r, SBX_STATUS_EXITED, 42);
    sbx_result_free(r);
    static const char *const sig[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
    r = run_ok(p, sig);
    assert_status(r, SBX_STATUS_SIGNALED, SIGSEGV);
    sbx_result_free(r);
    static const char *const sess[] = {PROBE("probe_hygiene"), NULL};
    r = run_ok(p, sess);
    assert_non_null(strstr(sbx_result_stdout(r, NULL), "session_leader=1"));
    sbx_result_free(r);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_treekill__run_leaves_no_survivor_at_timeout, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_treekill__run_kills_a_thread_behind_a_zombie_leader, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_treekill__run_kills_what_a_normal_end_leaves, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_treekill__spawn_with_subreaper_kill, setup, teardown),
    cmocka_unit_test_setup_teardown(test_treekill__host_death, setup, teardown),
    cmocka_unit_test_setup_teardown(test_treekill__status_through_the_init, setup, teardown),
};

SBX_TEST_MAIN(tests)
