/* Live tests of the exec denial report (issue 18, item 1): with
 * sbx_set_exec_reporting() on, every exec the sandbox refuses is in the
 * result with its path and reason, and none that runs is.
 *
 * Hostile: tests/hostile/probe_fs exec PATH tries to execute a file that was
 * not granted, confined (it fails with EACCES and is reported) and unconfined
 * (it runs: the control that shows the probe can tell); the same exec granted
 * runs confined and is not reported. Paths reached through a symbolic link,
 * relative to the working directory, through a shell's PATH search, through
 * execveat (fexecve) and in the mount view are reported as the child named
 * them (fexecve: under the file its descriptor shows). The first exec (the program itself) is never
 * reported; the report does not change what the kernel allows; off, the monitor off, or a policy
 * rule for execve leaves execs unreported. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live.h"

#define PROBE_FS PROBE("probe_fs")

extern char **environ;

static const char id_path[] = "/usr/bin/id";

static void need_exec_landlock(void)
{
    sbx_policy *p = layer_policy_new();
    sbx_result *r = NULL;
    static const char *const argv[] = {"/bin/true", NULL};
    assert_sbx_ok(sbx_set_best_effort(p, SBX_LAYER_LANDLOCK));
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &r));
    int abi = sbx_result_landlock_abi(r);
    sbx_result_free(r);
    sbx_policy_free(p);
    if (abi < 1)
        SBX_SKIP("the kernel has no Landlock (the execute right)");
    if (access(id_path, X_OK) != 0)
        SBX_SKIP("%s is missing", id_path);
}

/* A policy that reports execs, with the isolation asked for. */
static sbx_policy *report_policy(int isolation)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_set_isolation(p, isolation));
    assert_sbx_ok(sbx_set_exec_reporting(p, 1));
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

/* The result reports exactly one denied path (count times) for that reason. */
static void assert_denied(const sbx_result *r, const char *path, int reason, uint64_t count)
{
    if (sbx_result_exec_denials(r) != 1 || sbx_result_exec_denial_count(r) != count)
        fail_msg("expected %s denied %llu times, got %zu paths, %llu denials: %s", path,
                 (unsigned long long)count, sbx_result_exec_denials(r),
                 (unsigned long long)sbx_result_exec_denial_count(r), describe(r));
    sbx_exec_denial d = {.size = sizeof(d)};
    assert_sbx_ok(sbx_result_exec_denial(r, 0, &d));
    assert_int_equal(d.size, sizeof(d));
    assert_string_equal(d.path, path);
    assert_int_equal(d.reason, reason);
    assert_int_equal(d.count, count);
    assert_true(d.pid > 0);
    assert_true(d.time_ns > 0 && d.time_ns < sbx_result_wall_ns(r));
    assert_int_equal(sbx_result_violation_count(r), 0); /* seccomp denied no call */
}

static void assert_none_denied(const sbx_result *r)
{
    if (sbx_result_exec_denial_count(r) != 0 || sbx_result_exec_denials(r) != 0)
        fail_msg("expected no exec denial, got %s", describe(r));
}

/* The probe unconfined: the control. */
static void expect_unconfined(const char *expect, const char *const *argv)
{
    char buf[256];
    run_plain(argv, false, buf, sizeof(buf));
    assert_string_equal(buf, expect);
}

/* ---- denied, reported; granted, not ----------------------------------------------------- */

static void exec_denied_reported(int isolation)
{
    need_exec_landlock();
    const char *const argv[] = {PROBE_FS, "exec", id_path, NULL};
    expect_unconfined("ok exit=0\n", argv);

    sbx_policy *p = report_policy(isolation);
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 1);
    assert_string_equal(out_of(r), "denied EACCES\n");
    assert_denied(r, id_path, SBX_EXEC_DENIED_NOT_GRANTED, 1);
    char json[8192];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    if (!strstr(json, "\"exec_denial_count\":1,\"exec_denials\":[{\"path\":\"/usr/bin/id\","
                      "\"reason\":\"not granted\",\"count\":1,"))
        fail_msg("no exec denial in the JSON: %s", json);
    sbx_result_free(r);

    /* Granted: it runs, and nothing is reported. */
    assert_sbx_ok(sbx_allow_tool(p, id_path));
    r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(out_of(r), "ok exit=0\n");
    assert_none_denied(r);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_denials__exec_denied_reported_minimal(void **state)
{
    exec_denied_reported(SBX_ISOLATION_MINIMAL);
}

/* In the mount view (where the host allows it; auto falls back otherwise). */
static void test_denials__exec_denied_reported_auto(void **state)
{
    exec_denied_reported(SBX_ISOLATION_AUTO);
}

/* A shell's PATH search: each candidate it tries is named; the granted tool
 * runs unreported. */
static void test_denials__shell_path_search_names_the_program(void **state)
{
    need_exec_landlock();
    static const char *const argv[] = {"/bin/sh", "-c", "id -u >/dev/null; echo rc=$?", NULL};
    sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_ok(sbx_set_env(p, "PATH", "/usr/bin"));
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(out_of(r), "rc=126\n");
    assert_denied(r, "/usr/bin/id", SBX_EXEC_DENIED_NOT_GRANTED, 1);
    sbx_result_free(r);
    assert_sbx_ok(sbx_allow_tool(p, "id"));
    r = run(p, argv);
    assert_string_equal(out_of(r), "rc=0\n");
    assert_none_denied(r);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* Coalesced: three tries of one path are one entry counted three times. */
static void test_denials__repeated_exec_coalesced(void **state)
{
    need_exec_landlock();
    static const char *const argv[] = {
        "/bin/sh", "-c", "for i in 1 2 3; do /usr/bin/id 2>/dev/null; done; echo done", NULL};
    sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
    sbx_result *r = run(p, argv);
    assert_string_equal(out_of(r), "done\n");
    assert_denied(r, "/usr/bin/id", SBX_EXEC_DENIED_NOT_GRANTED, 3);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static char tmpdir[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sbx-denials-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    assert_int_equal(chmod(tmpdir, 0755), 0);
}

static void remove_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

/* A failed case leaves its directory to this. */
static int teardown_tmpdir(void **state)
{
    (void)state;
    if (tmpdir[0])
        umount2(tmpdir, MNT_DETACH); /* the noexec case's tmpfs, if it is still there */
    remove_tmpdir();
    return 0;
}

/* Through a symbolic link in a granted directory: Landlock checks the file the
 * link leads to (not granted), and the path is reported as the child named
 * it; a link to a granted file runs. Relative to the working directory too. */
static void test_denials__symlink_and_relative_paths(void **state)
{
    need_exec_landlock();
    make_tmpdir();
    char link[PATH_MAX + 16], good[PATH_MAX + 16];
    snprintf(link, sizeof(link), "%s/link", tmpdir);
    snprintf(good, sizeof(good), "%s/true", tmpdir);
    assert_int_equal(symlink(id_path, link), 0);
    assert_int_equal(symlink("/bin/true", good), 0);

    sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_ok(sbx_allow_path(p, tmpdir, SBX_FS_READ | SBX_FS_EXEC));
    assert_sbx_ok(sbx_allow_tool(p, "/bin/true"));
    const char *const by_link[] = {PROBE_FS, "exec", link, NULL};
    sbx_result *r = run(p, by_link);
    assert_string_equal(out_of(r), "denied EACCES\n");
    assert_denied(r, link, SBX_EXEC_DENIED_NOT_GRANTED, 1);
    sbx_result_free(r);

    const char *const granted[] = {PROBE_FS, "exec", good, NULL};
    r = run(p, granted);
    assert_string_equal(out_of(r), "ok exit=0\n");
    assert_none_denied(r);
    sbx_result_free(r);

    assert_sbx_ok(sbx_set_workdir(p, tmpdir));
    const char *const relative[] = {PROBE_FS, "exec", "./link", NULL};
    r = run(p, relative);
    assert_string_equal(out_of(r), "denied EACCES\n");
    assert_denied(r, "./link", SBX_EXEC_DENIED_NOT_GRANTED, 1);
    sbx_result_free(r);
    sbx_policy_free(p);
    remove_tmpdir();
}

/* A granted script whose "#!" interpreter is not: Landlock refuses the
 * interpreter, and the report names it; granted, the script runs. */
static void test_denials__script_interpreter_named(void **state)
{
    need_exec_landlock();
    make_tmpdir();
    char script[PATH_MAX + 16];
    snprintf(script, sizeof(script), "%s/hello.sh", tmpdir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\necho hello\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(script, 0755), 0);
    const char *const argv[] = {PROBE_FS, "exec", script, NULL};
    expect_unconfined("ok exit=0\n", argv);

    sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_ok(sbx_allow_path(p, tmpdir, SBX_FS_READ | SBX_FS_EXEC));
    sbx_result *r = run(p, argv);
    assert_string_equal(out_of(r), "denied EACCES\n");
    assert_denied(r, "/bin/sh", SBX_EXEC_DENIED_NOT_GRANTED, 1);
    sbx_result_free(r);
    assert_sbx_ok(sbx_allow_tool(p, "/bin/sh"));
    r = run(p, argv);
    assert_string_equal(out_of(r), "ok exit=0\n");
    assert_none_denied(r);
    sbx_result_free(r);
    sbx_policy_free(p);
    remove_tmpdir();
}

/* Granted, but on a noexec mount: named with that reason. Root only: the
 * case mounts a noexec tmpfs in a mount namespace of its own (gone with the
 * case's process). The control: the same grant on the directory once the
 * tmpfs is gone runs the file, unreported. */
static void test_denials__noexec_mount_named(void **state)
{
    need_exec_landlock();
    if (geteuid() != 0)
        SBX_SKIP("mounting a noexec tmpfs needs root");
    assert_int_equal(unshare(CLONE_NEWNS), 0);
    assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    make_tmpdir();
    assert_int_equal(mount("tmpfs", tmpdir, "tmpfs", MS_NOEXEC | MS_NOSUID | MS_NODEV, "mode=0755"),
                     0);
    char file[PATH_MAX + 8];
    snprintf(file, sizeof(file), "%s/t", tmpdir);
    for (int pass = 0; pass < 2; pass++) {
        int in = open("/bin/true", O_RDONLY | O_CLOEXEC);
        int out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        assert_true(in >= 0 && out >= 0);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof(buf))) > 0)
            assert_int_equal(write(out, buf, (size_t)n), n);
        close(in);
        close(out);
        const char *const argv[] = {PROBE_FS, "exec", file, NULL};
        sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
        assert_sbx_ok(sbx_allow_path(p, tmpdir, SBX_FS_READ | SBX_FS_EXEC));
        sbx_result *r = run(p, argv);
        if (pass == 0) {
            assert_string_equal(out_of(r), "denied EACCES\n");
            assert_denied(r, file, SBX_EXEC_DENIED_NOEXEC_MOUNT, 1);
        } else {
            assert_string_equal(out_of(r), "ok exit=0\n");
            assert_none_denied(r);
        }
        sbx_result_free(r);
        sbx_policy_free(p); /* and the descriptor of its grant, which kept the tmpfs busy */
        if (pass == 0)
            assert_int_equal(umount(tmpdir), 0);
    }
    remove_tmpdir();
}

/* fexecve (execveat(fd, "", AT_EMPTY_PATH)) of a file that was not granted:
 * reported under the file the descriptor shows. */
static void test_denials__fexecve_reported(void **state)
{
    need_exec_landlock();
    if (access("/usr/bin/python3", X_OK) != 0)
        SBX_SKIP("python3 is not installed");
    static const char *const argv[] = {"/usr/bin/python3", "-c",
                                       "import os, sys\n"
                                       "fd = os.open('/usr/bin/id', os.O_RDONLY)\n"
                                       "try:\n"
                                       "    os.execve(fd, ['id', '-u'], {})\n"
                                       "except OSError as e:\n"
                                       "    print('denied', e.errno)\n",
                                       NULL};
    sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    char expect[32];
    snprintf(expect, sizeof(expect), "denied %d\n", EACCES);
    assert_string_equal(out_of(r), expect);
    assert_denied(r, id_path, SBX_EXEC_DENIED_NOT_GRANTED, 1);
    sbx_result_free(r);
    /* Granted: it runs, unreported. */
    assert_sbx_ok(sbx_allow_tool(p, id_path));
    r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    char uid[32];
    snprintf(uid, sizeof(uid), "%d\n", (int)getuid());
    assert_string_equal(out_of(r), uid);
    assert_none_denied(r);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- tools and their helpers (item 3) ----------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* A CMake + make + gcc build of a program and a static library, granted only
 * --tool cmake --tool make --tool gcc: their helpers (sh, uname, ar, ranlib,
 * cc1, collect2, as, ld) come with them. Without gcc, the build fails and the
 * result names the compiler CMake tried. */
static void test_denials__c_build_with_three_tools(void **state)
{
    need_exec_landlock();
    static const char *const tools[] = {"cmake", "make", "gcc"};
    for (size_t i = 0; i < 3; i++) {
        char found[PATH_MAX];
        snprintf(found, sizeof(found), "/usr/bin/%s", tools[i]);
        if (access(found, X_OK) != 0)
            SBX_SKIP("%s is not installed", found);
    }
    make_tmpdir();
    char src[PATH_MAX + 8];
    snprintf(src, sizeof(src), "%s/src", tmpdir);
    assert_int_equal(mkdir(src, 0755), 0);
    write_file(src, "CMakeLists.txt",
               "cmake_minimum_required(VERSION 3.13)\nproject(hello C)\n"
               "add_library(greet STATIC greet.c)\nadd_executable(hello main.c)\n"
               "target_link_libraries(hello greet)\n");
    write_file(src, "greet.c", "const char *greet(void) { return \"hello\"; }\n");
    write_file(src, "main.c",
               "#include <stdio.h>\nconst char *greet(void);\n"
               "int main(void) { puts(greet()); return 0; }\n");
    static const char *const argv[] = {
        "/bin/sh", "-c",
        "cmake -Wno-dev -S src -B build >/dev/null 2>&1 && cmake --build build >/dev/null 2>&1 "
        "&& echo built; echo rc=$?",
        NULL};

    sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_ok(sbx_set_workdir(p, tmpdir));
    assert_sbx_ok(sbx_allow_tool(p, "cmake"));
    assert_sbx_ok(sbx_allow_tool(p, "make"));
    sbx_result *r = run(p, argv); /* the control: no compiler */
    assert_string_equal(out_of(r), "rc=1\n");
    bool named = false;
    for (size_t i = 0; i < sbx_result_exec_denials(r); i++) {
        sbx_exec_denial d = {.size = sizeof(d)};
        assert_sbx_ok(sbx_result_exec_denial(r, i, &d));
        named |= strcmp(d.path, "/usr/bin/cc") == 0 && d.reason == SBX_EXEC_DENIED_NOT_GRANTED;
    }
    if (!named)
        fail_msg("/usr/bin/cc is not named: %s", describe(r));
    sbx_result_free(r);

    char build[PATH_MAX + 8];
    snprintf(build, sizeof(build), "%s/build", tmpdir);
    nftw(build, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    assert_sbx_ok(sbx_allow_tool(p, "gcc"));
    r = run(p, argv);
    if (strcmp(out_of(r), "built\nrc=0\n") != 0)
        fail_msg("the build failed: %s%s", out_of(r), describe(r));
    assert_none_denied(r);
    sbx_result_free(r);
    sbx_policy_free(p);

    /* It built the program (run unconfined: the sandbox does not run it). */
    char hello[PATH_MAX + 16];
    snprintf(hello, sizeof(hello), "%s/build/hello", tmpdir);
    const char *const run_hello[] = {hello, NULL};
    expect_unconfined("hello\n", run_hello);
    remove_tmpdir();
}

/* make brings sh; a tool without a bundle does not. */
static void test_denials__tool_bundles_by_name(void **state)
{
    need_exec_landlock();
    if (access("/usr/bin/make", X_OK) != 0)
        SBX_SKIP("/usr/bin/make is not installed");
    /* make brings sh: sh runs as a helper (the program here is sh itself,
     * granted anyway; a shell run by a shell is the helper case). */
    static const char *const nested[] = {
        "/usr/bin/make", "-s", "-f", "/dev/null", "--eval=all:\n\t@/bin/sh -c 'echo ok'", NULL};
    sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_ok(sbx_allow_tool(p, "make"));
    sbx_result *r = run(p, nested);
    assert_string_equal(out_of(r), "ok\n");
    assert_none_denied(r);
    sbx_result_free(r);
    sbx_policy_free(p);

    /* The control: a tool without a bundle (env) does not bring sh. */
    static const char *const by_env[] = {"/usr/bin/env", "/bin/sh", "-c", "echo ok", NULL};
    p = report_policy(SBX_ISOLATION_MINIMAL);
    r = run(p, by_env);
    assert_string_equal(out_of(r), "");
    assert_denied(r, "/bin/sh", SBX_EXEC_DENIED_NOT_GRANTED, 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- benign probes (item 6) --------------------------------------------------------------- */

/* socket(AF_NETLINK, ..., NETLINK_ROUTE) (getifaddrs) is denied, counted and
 * marked benign; another netlink protocol and another family are not. */
static void test_denials__netlink_route_probe_is_benign(void **state)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        SBX_SKIP("python3 is not installed");
    static const char *const argv[] = {
        "/usr/bin/python3", "-c",
        "import socket\n"
        "for f, proto in ((16, 0), (16, 0), (16, 9), (40, 0)):\n"
        "    try:\n"
        "        socket.socket(f, socket.SOCK_RAW, proto).close(); print('made')\n"
        "    except OSError as e:\n"
        "        print(e.errno)\n",
        NULL};
    sbx_policy *p = layer_policy_new();
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    char expect[64];
    snprintf(expect, sizeof(expect), "%d\n%d\n%d\n%d\n", EPERM, EPERM, EPERM, EPERM);
    assert_string_equal(out_of(r), expect);
    assert_int_equal(sbx_result_violation_count(r), 4);
    assert_int_equal(sbx_result_violations_benign(r), 2);
    static const int benign[] = {1, 1, 0, 0};
    for (size_t i = 0; i < 4; i++) {
        sbx_violation v = {.size = sizeof(v)};
        assert_sbx_ok(sbx_result_violation(r, i, &v));
        assert_string_equal(v.syscall, "socket");
        if (v.benign != benign[i])
            fail_msg("violation %zu: benign %d, expected %d", i, v.benign, benign[i]);
    }
    /* Two kinds: the benign one (twice), the others (twice). */
    assert_int_equal(sbx_result_violation_kinds(r), 2);
    sbx_violation k = {.size = sizeof(k)};
    uint64_t n = 0;
    assert_sbx_ok(sbx_result_violation_kind(r, 0, &k, &n));
    assert_int_equal(k.benign, 1);
    assert_int_equal(n, 2);
    assert_sbx_ok(sbx_result_violation_kind(r, 1, &k, &n));
    assert_int_equal(k.benign, 0);
    assert_int_equal(n, 2);
    /* A caller built against 0.1 (no benign field) still gets what it asked for. */
    sbx_violation old = {.size = offsetof(sbx_violation, benign)};
    old.benign = 77;
    assert_sbx_ok(sbx_result_violation(r, 0, &old));
    assert_int_equal(old.size, offsetof(sbx_violation, benign));
    assert_int_equal(old.benign, 77);
    char json[8192];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    if (!strstr(json, "\"syscall\":\"socket\",\"errno\":\"EPERM\",\"count\":2,\"benign\":true}") ||
        !strstr(json, "\"violations_benign\":2"))
        fail_msg("benign probes not in the JSON: %s", json);
    assert_int_equal(sbx_result_violations_benign(NULL), 0);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- what stays as it was --------------------------------------------------------------- */

/* Off (the default), the monitor off, or a policy rule of its own for execve:
 * nothing reported, the exec still refused, the program still started. */
static void test_denials__unreported_when_off(void **state)
{
    need_exec_landlock();
    const char *const argv[] = {PROBE_FS, "exec", id_path, NULL};
    for (int how = 0; how < 3; how++) {
        sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
        if (how == 0)
            assert_sbx_ok(sbx_set_exec_reporting(p, 0));
        else if (how == 1)
            assert_sbx_ok(sbx_set_violation_monitor(p, 0));
        else
            assert_sbx_ok(sbx_allow_syscall(p, "execveat"));
        sbx_result *r = run(p, argv);
        assert_status(r, SBX_STATUS_EXITED, 1);
        assert_string_equal(out_of(r), "denied EACCES\n");
        assert_none_denied(r);
        sbx_result_free(r);
        sbx_policy_free(p);
    }
}

/* Allow-list mode: the first exec passes the filter, later ones are reported. */
static void test_denials__allowlist_mode(void **state)
{
    need_exec_landlock();
    const char *const argv[] = {PROBE_FS, "exec", id_path, NULL};
    sbx_policy *p = report_policy(SBX_ISOLATION_MINIMAL);
    assert_sbx_ok(sbx_set_syscall_allowlist(p, 1));
    sbx_result *r = run(p, argv);
    assert_string_equal(out_of(r), "denied EACCES\n");
    assert_denied(r, id_path, SBX_EXEC_DENIED_NOT_GRANTED, 1);
    sbx_result_free(r);
    assert_sbx_ok(sbx_allow_tool(p, id_path));
    r = run(p, argv);
    assert_string_equal(out_of(r), "ok exit=0\n");
    assert_none_denied(r);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- the API's bad input --------------------------------------------------------------- */

static void test_denials__api_bad_input(void **state)
{
    assert_sbx_error(sbx_set_exec_reporting(NULL, 1), -EINVAL, "policy");
    sbx_policy *p = layer_policy_new();
    assert_sbx_error(sbx_set_exec_reporting(p, 2), -EINVAL, "on must be 0 or 1, got 2");
    static const char *const argv[] = {"/bin/true", NULL};
    sbx_result *r = run(p, argv);
    sbx_exec_denial d = {.size = sizeof(d)};
    assert_sbx_error(sbx_result_exec_denial(NULL, 0, &d), -EINVAL, "result");
    assert_sbx_error(sbx_result_exec_denial(r, 0, NULL), -EINVAL, "ret");
    d.size = 1;
    assert_sbx_error(sbx_result_exec_denial(r, 0, &d), -EINVAL,
                     "ret->size is 1; set it to sizeof(sbx_exec_denial)");
    d.size = sizeof(d);
    assert_sbx_error(sbx_result_exec_denial(r, 0, &d), -ERANGE,
                     "no exec denial at index 0 (0 kept)");
    assert_int_equal(sbx_result_exec_denial_count(NULL), 0);
    assert_int_equal(sbx_result_exec_denials(NULL), 0);
    assert_string_equal(sbx_exec_denied_name(SBX_EXEC_DENIED_NOT_GRANTED), "not granted");
    assert_string_equal(sbx_exec_denied_name(SBX_EXEC_DENIED_NOEXEC_MOUNT), "noexec mount");
    assert_string_equal(sbx_exec_denied_name(0), "unknown");
    assert_string_equal(sbx_exec_denied_name(-1), "unknown");
    sbx_result_free(r);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_denials__exec_denied_reported_minimal),
    cmocka_unit_test(test_denials__exec_denied_reported_auto),
    cmocka_unit_test(test_denials__shell_path_search_names_the_program),
    cmocka_unit_test(test_denials__repeated_exec_coalesced),
    cmocka_unit_test_teardown(test_denials__symlink_and_relative_paths, teardown_tmpdir),
    cmocka_unit_test_teardown(test_denials__script_interpreter_named, teardown_tmpdir),
    cmocka_unit_test_teardown(test_denials__noexec_mount_named, teardown_tmpdir),
    cmocka_unit_test(test_denials__fexecve_reported),
    cmocka_unit_test_teardown(test_denials__c_build_with_three_tools, teardown_tmpdir),
    cmocka_unit_test(test_denials__tool_bundles_by_name),
    cmocka_unit_test(test_denials__netlink_route_probe_is_benign),
    cmocka_unit_test(test_denials__unreported_when_off),
    cmocka_unit_test(test_denials__allowlist_mode),
    cmocka_unit_test(test_denials__api_bad_input),
};

SBX_TEST_MAIN(tests)
