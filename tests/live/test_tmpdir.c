/* Live tests of the private TMPDIR (issue 13, items 5 and 12):
 *  - a memory limit bounds it in every configuration, and the result says how
 *    (sbx_result_limit_mechanism(SBX_LIMIT_TMP)): hostile, a child limited to
 *    64 MiB writes 160 MiB into its TMPDIR; without a cgroup or a mount
 *    namespace the TMPDIR is on a disk (none of it is memory), with a cgroup
 *    the writer is killed at the limit, in a mount namespace the tmpfs is full
 *    at the limit. The control: the same probe with the TMPDIR in /dev/shm and
 *    the bound marked best-effort puts all 160 MiB in memory. A strict policy
 *    that cannot bound it is refused.
 *  - what a killed host left behind is removed by the next one: TMPDIRs and
 *    cgroups whose owner (pid, start time, pid namespace in the name) is dead,
 *    and nothing else (a live owner's, another namespace's, a 0.1 name, a
 *    link). */
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "live.h"

#define MIB (1ull << 20)

static const char *const fill_argv[] = {PROBE("probe_cgroup"), "fill", "160", NULL};

static void need(int feature)
{
    char why[512];
    if (sbx_probe(feature, why, sizeof(why)) <= 0)
        SBX_SKIP("%s is not available here: %s", sbx_feature_name(feature), why);
}

static int in_memory(const char *dir)
{
    struct statfs fs;
    return statfs(dir, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

/* Run the fill probe under p; it must exit 0. Stores MiB written, errno name, memory flag. */
static void fill(const sbx_policy *p, long *mib, char err[32], int *memory)
{
    sbx_result *r = run_ok(p, fill_argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    if (sscanf(sbx_result_stdout(r, NULL), "fill_mib=%ld errno=%31s memory=%d", mib, err, memory) !=
        3)
        fail_msg("probe output: '%s' (%s)", sbx_result_stdout(r, NULL), describe(r));
    sbx_result_free(r);
}

static int tmp_mechanism(const sbx_policy *p)
{
    static const char *const argv[] = {"/bin/true", NULL};
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    int m = sbx_result_limit_mechanism(r, SBX_LIMIT_TMP);
    sbx_result_free(r);
    return m;
}

static sbx_policy *limited(void)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_limit_memory(p, 64 * MIB));
    /* the TMPDIR's own bounds, without the cgroup a root host's memory
     * limit takes by itself (test_cgroup covers that one) */
    assert_sbx_ok(sbx_use_cgroup(p, 0));
    return p;
}

/* ---- a memory limit bounds the TMPDIR ------------------------------------ */

static void test_tmpdir__memory_limit_without_cgroup_or_namespace(void **state)
{
    need(SBX_FEATURE_LANDLOCK);
    if (!in_memory("/dev/shm") || (in_memory("/var/tmp") && in_memory("/tmp")))
        SBX_SKIP("needs /dev/shm in memory and /var/tmp or /tmp on a disk");
    long mib;
    char err[32];
    int memory;

    /* the control: a TMPDIR in /dev/shm, the bound best-effort: 160 MiB of memory */
    sbx_policy *control = limited();
    assert_sbx_ok(sbx_set_tmp_parent(control, "/dev/shm"));
    assert_sbx_ok(sbx_set_best_effort(control, SBX_LAYER_RLIMITS));
    assert_int_equal(tmp_mechanism(control), SBX_MECHANISM_NONE);
    fill(control, &mib, err, &memory);
    if (mib != 160 || !memory)
        fail_msg("control: the probe wrote %ld MiB (%s), memory=%d: it proves nothing", mib, err,
                 memory);
    sbx_policy_free(control);

    /* the default: on a disk, not in memory, and said so */
    sbx_policy *p = limited();
    assert_int_equal(tmp_mechanism(p), SBX_MECHANISM_DISK);
    fill(p, &mib, err, &memory);
    if (memory)
        fail_msg("the TMPDIR of a child limited to 64 MiB is in memory (%ld MiB written)", mib);
    static const char *const json_argv[] = {"/bin/true", NULL};
    sbx_result *r = run_ok(p, json_argv);
    assert_non_null(strstr(describe(r), "\"tmp_limit\":\"disk\""));
    sbx_result_free(r);
    sbx_policy_free(p);

    /* strict, with the TMPDIR in memory by the host's own choice: refused */
    p = limited();
    assert_sbx_ok(sbx_set_tmp_parent(p, "/dev/shm"));
    static const char *const argv[] = {"/bin/true", NULL};
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP,
                     "the private TMPDIR would be in /dev/shm, which is memory outside the limit");
    assert_int_equal(sbx_last_error_stage(), SBX_STAGE_COMPILE);
    /* ... and fine without a private TMPDIR */
    assert_sbx_ok(sbx_set_private_tmp(p, 0));
    assert_int_equal(tmp_mechanism(p), SBX_MECHANISM_NONE);
    sbx_policy_free(p);

    /* no memory limit: nothing to bound */
    p = policy_new();
    assert_int_equal(tmp_mechanism(p), SBX_MECHANISM_NONE);
    sbx_policy_free(p);
}

static void test_tmpdir__memory_limit_with_cgroup(void **state)
{
    need(SBX_FEATURE_LANDLOCK);
    need(SBX_FEATURE_CGROUP);
    sbx_policy *p = limited();
    assert_sbx_ok(sbx_use_cgroup(p, 1));
    assert_sbx_ok(sbx_set_tmp_parent(p, "/dev/shm")); /* memory, charged to the cgroup */
    if (tmp_mechanism(p) != SBX_MECHANISM_CGROUP)
        fail_msg("the TMPDIR's bound is not the cgroup");
    sbx_result *r = run_ok(p, fill_argv);
    if (sbx_result_status(r) == SBX_STATUS_EXITED) {
        long mib = 0;
        if (sscanf(sbx_result_stdout(r, NULL), "fill_mib=%ld", &mib) != 1 || mib >= 64)
            fail_msg("the child put %ld MiB in its TMPDIR past a 64 MiB cgroup: %s", mib,
                     describe(r));
    } else {
        assert_status(r, SBX_STATUS_MEMORY_LIMIT, SIGKILL);
    }
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_tmpdir__memory_limit_in_mount_namespace(void **state)
{
    need(SBX_FEATURE_LANDLOCK);
    need(SBX_FEATURE_MOUNT_NS);
    sbx_policy *p = limited();
    assert_sbx_ok(sbx_unshare(p, SBX_NS_USER | SBX_NS_MOUNT));
    assert_int_equal(tmp_mechanism(p), SBX_MECHANISM_TMPFS);
    long mib;
    char err[32];
    int memory;
    fill(p, &mib, err, &memory);
    if (mib > 64 || strcmp(err, "ENOSPC") != 0)
        fail_msg("the view's tmpfs took %ld MiB (%s) under a 64 MiB limit", mib, err);
    sbx_policy_free(p);
}

/* ---- leftovers of a dead host ---------------------------------------------- */

/* /proc/PID/stat's start time (field 22). */
static unsigned long long start_of(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    assert_non_null(p);
    p++; /* before field 3 */
    for (int field = 3; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    assert_non_null(p);
    return strtoull(p + 1, NULL, 10);
}

static unsigned long long pidns(void)
{
    struct stat st;
    assert_int_equal(stat("/proc/self/ns/pid", &st), 0);
    return (unsigned long long)st.st_ino;
}

/* A pid that was a process and is no more, with its start time. */
static pid_t dead_pid(unsigned long long *start)
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c;
        close(pipefd[1]);
        (void)!read(pipefd[0], &c, 1);
        _exit(0);
    }
    close(pipefd[0]);
    *start = start_of(pid);
    close(pipefd[1]);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return pid;
}

static void make_tree(const char *dir)
{
    char path[512];
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/sub", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/sub/file", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("left behind\n", f);
    fclose(f);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_tmpdir__leftovers_of_dead_hosts_removed(void **state)
{
    need(SBX_FEATURE_LANDLOCK);
    char parent[] = "/tmp/sbx-leftovers-XXXXXX";
    assert_non_null(mkdtemp(parent));
    chmod(parent, 0755);
    unsigned long long dstart, ns = pidns();
    pid_t dead = dead_pid(&dstart);
    char gone[512], reused[512], live[512], other_ns[512], old[512], link[512], target[512];
    snprintf(gone, sizeof(gone), "%s/agentsbx.%d.%llu.%llu.aaaaaa", parent, (int)dead, dstart, ns);
    snprintf(reused, sizeof(reused), "%s/agentsbx.%d.%llu.%llu.bbbbbb", parent, (int)getpid(),
             start_of(getpid()) + 1, ns);
    snprintf(live, sizeof(live), "%s/agentsbx.%d.%llu.%llu.cccccc", parent, (int)getpid(),
             start_of(getpid()), ns);
    snprintf(other_ns, sizeof(other_ns), "%s/agentsbx.%d.%llu.%llu.dddddd", parent, (int)dead,
             dstart, ns + 1);
    snprintf(old, sizeof(old), "%s/agentsbx.eeeeee", parent);
    snprintf(link, sizeof(link), "%s/agentsbx.%d.%llu.%llu.ffffff", parent, (int)dead, dstart, ns);
    snprintf(target, sizeof(target), "%s/target", parent);
    make_tree(gone);
    make_tree(reused);
    make_tree(live);
    make_tree(other_ns);
    make_tree(old);
    make_tree(target);
    assert_int_equal(symlink(target, link), 0);

    /* the control: they are all there before a policy uses the directory */
    assert_true(exists(gone) && exists(reused) && exists(live) && exists(other_ns));

    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_tmp_parent(p, parent));
    static const char *const argv[] = {"/bin/true", NULL};
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    sbx_policy_free(p);

    if (exists(gone))
        fail_msg("%s (its owner is dead) was not removed", gone);
    if (exists(reused))
        fail_msg("%s (its pid was reused) was not removed", reused);
    if (!exists(live))
        fail_msg("%s (a live owner's) was removed", live);
    if (!exists(other_ns))
        fail_msg("%s (another pid namespace's) was removed", other_ns);
    if (!exists(old))
        fail_msg("%s (not a tagged name) was removed", old);
    char file[600];
    snprintf(file, sizeof(file), "%s/sub/file", target);
    if (!exists(file))
        fail_msg("a link named like a dead owner's TMPDIR led the removal into %s", target);

    /* clean up */
    const char *dirs[] = {live, other_ns, old, target};
    for (size_t i = 0; i < 4; i++) {
        char path[600];
        snprintf(path, sizeof(path), "%s/sub/file", dirs[i]);
        unlink(path);
        snprintf(path, sizeof(path), "%s/sub", dirs[i]);
        rmdir(path);
        rmdir(dirs[i]);
    }
    unlink(link);
    assert_int_equal(rmdir(parent), 0);
}

/* Our own cgroup2 directory, or SKIP. */
static void own_cgroup2(char *dir, size_t size)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    assert_non_null(f);
    char line[1024];
    dir[0] = '\0';
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            const char *path = strcmp(line + 3, "/") ? line + 3 : "";
            if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
                snprintf(dir, size, "/sys/fs/cgroup%s", path);
            else
                snprintf(dir, size, "/sys/fs/cgroup/unified%s", path);
        }
    fclose(f);
    if (!dir[0] || access(dir, W_OK) != 0)
        SBX_SKIP("no writable cgroup2 directory of our own");
}

static void test_tmpdir__cgroups_of_dead_hosts_removed(void **state)
{
    need(SBX_FEATURE_CGROUP);
    char own[1100], stale[1300], procs[1320];
    own_cgroup2(own, sizeof(own));
    unsigned long long dstart;
    pid_t dead = dead_pid(&dstart);
    snprintf(stale, sizeof(stale), "%s/agentsbx.%d.%llu.%llu.0", own, (int)dead, dstart, pidns());
    if (mkdir(stale, 0755) != 0)
        SBX_SKIP("cannot make a cgroup beneath %s: %s", own, strerror(errno));
    /* a process the dead host's child left in it */
    pid_t survivor = fork();
    assert_true(survivor >= 0);
    if (survivor == 0) {
        for (;;)
            pause();
    }
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", stale);
    FILE *f = fopen(procs, "w");
    assert_non_null(f);
    fprintf(f, "%d\n", (int)survivor);
    assert_int_equal(fclose(f), 0);
    assert_false(process_dead(survivor)); /* the control: alive, in the stale cgroup */

    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_use_cgroup(p, 1));
    static const char *const argv[] = {"/bin/true", NULL};
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    sbx_policy_free(p);

    int status = 0, reaped = 0;
    for (int i = 0; i < 500 && !reaped; i++) { /* a bound: the test must not hang */
        reaped = waitpid(survivor, &status, WNOHANG) == survivor;
        if (!reaped)
            usleep(10000);
    }
    if (!reaped) {
        kill(survivor, SIGKILL);
        waitpid(survivor, NULL, 0);
    }
    int removed = !exists(stale);
    if (!removed) {
        kill(survivor, SIGKILL);
        rmdir(stale);
    }
    if (!reaped || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("the process left in a dead host's cgroup was not killed");
    if (!removed)
        fail_msg("the dead host's cgroup %s was not removed", stale);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tmpdir__memory_limit_without_cgroup_or_namespace),
    cmocka_unit_test(test_tmpdir__memory_limit_with_cgroup),
    cmocka_unit_test(test_tmpdir__memory_limit_in_mount_namespace),
    cmocka_unit_test(test_tmpdir__leftovers_of_dead_hosts_removed),
    cmocka_unit_test(test_tmpdir__cgroups_of_dead_hosts_removed),
};

SBX_TEST_MAIN(tests)
