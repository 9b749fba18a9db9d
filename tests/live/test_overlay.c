/* Overlay workspaces (issue 16, item 5): sbx_overlay(). A real edit of a git
 * work tree runs in the sandbox over an overlay; the host's tree must be
 * byte-identical afterwards, the change list exact, and applying it must give
 * the tree that the same edit makes unconfined on a copy (the control). The
 * protected list holds inside the overlay (with its control: the same write
 * with the name unprotected lands in the upper directory). Without the mount
 * view the overlay fails closed. Runs as root and as an unprivileged user;
 * skips where the kernel refuses overlayfs in a user namespace. */
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "live.h"

static char scratch[64]; /* the case's directory, removed at the end */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/agentsbx-ovl.XXXXXX");
    if (!mkdtemp(scratch) || chmod(scratch, 0755) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* "<scratch>/<rel>" in a static ring of buffers. */
static const char *at(const char *rel)
{
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 256, "%s/%s", scratch, rel);
    return b;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st != 0)
        fail_msg("'%s' failed: %d", cmd, st);
}

/* A listing of a tree: every path with its type, mode and link target, and
 * every file's SHA-256 (malloc'd). */
static char *digest(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && { find . -printf '%%p %%y %%m %%l\\n'; find . -type f -exec sha256sum "
             "{} +; } | LC_ALL=C sort",
             dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - 1 - n, f)) > 0)
        n += got;
    buf[n] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_true(n > 0 && n < cap - 1);
    return buf;
}

/* Two digests are the same; else fail naming the first line that differs. */
static void same_tree(const char *what, const char *a, const char *b)
{
    size_t i = 0, line = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n')
            line = i + 1;
        i++;
    }
    if (a[i] == b[i])
        return;
    fail_msg("%s: the trees differ at\n  %.*s\nvs\n  %.*s", what, (int)strcspn(a + line, "\n"),
             a + line, (int)strcspn(b + line, "\n"), b + line);
}

/* A git work tree at <scratch>/<name>: committed files a.txt, b.txt,
 * del.txt, olddir/{x,y}, keep/k. */
static void make_repo(const char *name)
{
    const char *ws = at(name);
    sh("mkdir -p '%s/olddir' '%s/keep' && cd '%s' && printf 'one\\ntwo\\n' > a.txt && "
       "echo same > b.txt && echo gone > del.txt && echo x > olddir/x && echo y > olddir/y && "
       "echo k > keep/k && git init -q . && git add -A && "
       "git -c user.email=t@example.org -c user.name=t commit -qm init",
       ws, ws, ws);
}

/* The edit: a sed -i, a rewrite with the same bytes, a new file, a deletion,
 * a new directory, a removed one. */
static const char edit[] = "sed -i s/one/ONE/ a.txt && echo same > b.txt && echo new > new.txt && "
                           "rm del.txt && mkdir newdir && echo n > newdir/n && rm -r olddir";

static void need_mount_ns(void)
{
    char why[256];
    if (sbx_probe(SBX_FEATURE_MOUNT_NS, why, sizeof(why)) <= 0)
        SBX_SKIP("%s is not available here: %s", sbx_feature_name(SBX_FEATURE_MOUNT_NS), why);
}

/* A policy with the mount view, `ws` as the working directory and its overlay. */
static sbx_policy *overlay_policy(const char *ws, const char *upper)
{
    sbx_policy *p = layer_policy_new();
    assert_sbx_ok(sbx_unshare(p, SBX_NS_MOUNT | SBX_NS_PID));
    assert_sbx_ok(sbx_set_workdir(p, ws));
    assert_sbx_ok(sbx_overlay(p, ws, upper));
    return p;
}

/* sbx_run(), skipping when the kernel refuses overlayfs in this namespace. */
static sbx_result *run_overlay(const sbx_policy *p, const char *const *argv)
{
    sbx_result *r = NULL;
    int rc = sbx_run(p, argv, NULL, 0, &r);
    if (rc < 0 && strstr(sbx_last_error(), "mounting an overlay"))
        SBX_SKIP("the kernel refuses overlayfs here: %s", sbx_last_error());
    if (rc < 0)
        fail_msg("sbx_run: %s", sbx_last_error());
    return r;
}

static void expect_changes(const char *lower, const char *upper, const char *want)
{
    sbx_changes *c = NULL;
    assert_sbx_ok(sbx_overlay_changes(lower, upper, &c));
    char got[2048] = "";
    for (size_t i = 0; i < sbx_changes_count(c); i++) {
        const char *path;
        int kind, type;
        assert_sbx_ok(sbx_changes_get(c, i, &path, &kind, &type));
        size_t len = strlen(got);
        snprintf(got + len, sizeof(got) - len, "%s %s %s\n", sbx_change_kind_name(kind),
                 sbx_file_type_name(type), path);
    }
    sbx_changes_free(c);
    if (strcmp(got, want) != 0)
        fail_msg("change list:\n%s\nexpected:\n%s", got, want);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* No work directory is left beside the upper one. */
static void assert_no_work_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strncmp(e->d_name, ".agentsbx-work.", 15) == 0)
            fail_msg("a work directory is left: %s/%s", dir, e->d_name);
    closedir(d);
}

static void test_overlay__git_edit(void **state)
{
    (void)state;
    need_mount_ns();
    make_repo("ws");
    sh("cp -a '%s' '%s'", at("ws"), at("ctl"));
    char *before = digest(at("ws"));
    sbx_policy *p = overlay_policy(at("ws"), at("upper"));
    static const char *const tools[] = {"sed", "rm", "mkdir"};
    for (size_t i = 0; i < 3; i++)
        assert_sbx_ok(sbx_allow_tool(p, tools[i]));
    const char *argv[] = {"/bin/sh", "-c", edit, NULL};
    sbx_result *r = run_overlay(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    const char *lower, *upper;
    assert_int_equal(sbx_result_overlay_count(r), 1);
    assert_sbx_ok(sbx_result_overlay(r, 0, &lower, &upper));
    assert_string_equal(lower, at("ws"));
    assert_string_equal(upper, at("upper"));
    sbx_result_free(r);
    /* the host's tree is untouched */
    char *after = digest(at("ws"));
    same_tree("the host's tree after the run", before, after);
    free(after);
    assert_no_work_dir(scratch);
    expect_changes(at("ws"), at("upper"),
                   "modified file a.txt\n"
                   "deleted file del.txt\n"
                   "added file new.txt\n"
                   "added dir newdir\n"
                   "added file newdir/n\n"
                   "deleted dir olddir\n"
                   "deleted file olddir/x\n"
                   "deleted file olddir/y\n");
    /* the control: the same edit unconfined on the copy (with the child's
     * umask, 077); applying gives its tree */
    sh("cd '%s' && umask 077 && %s", at("ctl"), edit);
    char *ctl = digest(at("ctl"));
    assert_string_not_equal(before, ctl); /* the edit changes something */
    assert_sbx_ok(sbx_overlay_apply(at("ws"), at("upper")));
    after = digest(at("ws"));
    same_tree("applied vs the unconfined edit", ctl, after);
    free(after);
    free(ctl);
    free(before);
    /* a second run needs an empty upper directory */
    sbx_result *r2 = NULL;
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r2), -ENOTEMPTY, "is not empty");
    assert_null(r2);
    assert_sbx_ok(sbx_overlay_discard(at("upper")));
    assert_false(exists(at("upper")));
    assert_no_work_dir(scratch);
    sbx_policy_free(p);
}

/* Without an upper directory: a private one, named by the result, kept until discarded. */
static void test_overlay__private_upper(void **state)
{
    (void)state;
    need_mount_ns();
    make_repo("ws");
    setenv("TMPDIR", scratch, 1);
    sbx_policy *p = overlay_policy(at("ws"), NULL);
    const char *argv[] = {"/bin/sh", "-c", "echo hi > hello", NULL};
    sbx_result *r = run_overlay(p, argv);
    unsetenv("TMPDIR");
    assert_status(r, SBX_STATUS_EXITED, 0);
    const char *upper;
    assert_sbx_ok(sbx_result_overlay(r, 0, NULL, &upper));
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%s/agentsbx-overlay.", scratch);
    assert_true(strncmp(upper, prefix, strlen(prefix)) == 0);
    assert_false(exists(at("ws/hello")));
    expect_changes(at("ws"), upper, "added file hello\n");
    assert_no_work_dir(scratch);
    assert_sbx_ok(sbx_overlay_discard(upper));
    assert_false(exists(upper));
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* .git/hooks stays protected inside the overlay; the control (unprotected)
 * writes there, into the upper directory only. */
static void test_overlay__protected_hooks_hold(void **state)
{
    (void)state;
    need_mount_ns();
    make_repo("ws");
    const char *argv[] = {PROBE("probe_fs"), "create", at("ws/.git/hooks/pre-commit"), NULL};
    sbx_policy *p = overlay_policy(at("ws"), at("upper"));
    sbx_result *r = run_overlay(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 1);
    assert_string_equal(sbx_result_stdout(r, NULL), "denied EROFS\n");
    sbx_result_free(r);
    sbx_policy_free(p);
    expect_changes(at("ws"), at("upper"), "");
    assert_sbx_ok(sbx_overlay_discard(at("upper")));
    /* the control */
    p = overlay_policy(at("ws"), at("upper"));
    assert_sbx_ok(sbx_unprotect(p, ".git/hooks"));
    r = run_overlay(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "ok\n");
    sbx_result_free(r);
    sbx_policy_free(p);
    assert_false(exists(at("ws/.git/hooks/pre-commit")));
    expect_changes(at("ws"), at("upper"), "added file .git/hooks/pre-commit\n");
    assert_sbx_ok(sbx_overlay_discard(at("upper")));
}

/* A protected path missing from the tree (.git/hooks) cannot be made in the
 * overlay, and the mount point that stops it is not left as a change; the
 * control (unprotected) makes it, in the upper directory. */
static void test_overlay__missing_protected_path(void **state)
{
    (void)state;
    need_mount_ns();
    make_repo("ws");
    sh("rm -r '%s'", at("ws/.git/hooks"));
    char *before = digest(at("ws"));
    const char *argv[] = {PROBE("probe_fs"), "mkdir", at("ws/.git/hooks"), NULL};
    sbx_policy *p = overlay_policy(at("ws"), at("upper"));
    sbx_result *r = run_overlay(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 1);
    assert_true(strncmp(sbx_result_stdout(r, NULL), "denied E", 8) == 0);
    sbx_result_free(r);
    expect_changes(at("ws"), at("upper"), "");
    char *after = digest(at("ws"));
    same_tree("the host's tree after the run", before, after);
    free(after);
    assert_sbx_ok(sbx_overlay_discard(at("upper")));
    assert_sbx_ok(sbx_unprotect(p, ".git/hooks"));
    r = run_overlay(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    expect_changes(at("ws"), at("upper"), "added dir .git/hooks\n");
    after = digest(at("ws"));
    same_tree("the host's tree after the control", before, after);
    free(after);
    free(before);
    assert_sbx_ok(sbx_overlay_discard(at("upper")));
    sbx_policy_free(p);
}

/* The child tries to uncover the host's tree beneath the overlay (umount2 of
 * its mount point), then to write there: the host's file is unchanged. The
 * control: the same probe over an overlay mounted by hand in a user and
 * mount namespace of its own (unshare -Urm) uncovers the tree and writes it. */
static const char umount_probe[] =
    "import ctypes, os, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "r = libc.umount2(sys.argv[1].encode(), 2)\n"
    "print('umount', 0 if r == 0 else ctypes.get_errno())\n"
    "try:\n"
    "    open(os.path.join(sys.argv[1], 'a.txt'), 'w').write('pwned\\n')\n"
    "except OSError as e:\n"
    "    print('write', e.errno)\n";

static void test_overlay__umount_does_not_uncover_host(void **state)
{
    (void)state;
    need_mount_ns();
    make_repo("ws");
    sbx_policy *p = overlay_policy(at("ws"), at("upper"));
    const char *argv[] = {"/usr/bin/python3", "-c", umount_probe, at("ws"), NULL};
    sbx_result *r = run_overlay(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "umount 1\n"); /* EPERM; the write went up */
    sbx_result_free(r);
    sbx_policy_free(p);
    sh("grep -qx one '%s'", at("ws/a.txt")); /* the host's file is unchanged */
    expect_changes(at("ws"), at("upper"), "modified file a.txt\n");
    /* the control */
    sh("mkdir '%s' '%s'", at("cu"), at("cw"));
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "unshare -Urm sh -c 'mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s,"
             "userxattr %s && /usr/bin/python3 -c \"$0\" %s' \"%s\" > %s 2>&1",
             at("ws"), at("cu"), at("cw"), at("ws"), at("ws"), umount_probe, at("ctl.out"));
    if (system(cmd) != 0)
        SBX_SKIP("the control cannot mount an overlay in a namespace of its own here");
    sh("grep -qx 'umount 0' '%s'", at("ctl.out"));
    sh("grep -qx pwned '%s'", at("ws/a.txt"));
}

/* One child per upper directory: a second spawn while the first runs is
 * refused; once the first has ended, the same spawn (the control) runs. */
static void test_overlay__upper_in_use_refused(void **state)
{
    (void)state;
    need_mount_ns();
    make_repo("ws");
    sbx_policy *p = overlay_policy(at("ws"), at("upper"));
    assert_sbx_ok(sbx_allow_tool(p, "sleep"));
    const char *slow[] = {"/bin/sh", "-c", "sleep 30", NULL};
    sbx_child *c = NULL;
    int rc = sbx_spawn(p, slow, NULL, &c);
    if (rc < 0 && strstr(sbx_last_error(), "mounting an overlay"))
        SBX_SKIP("the kernel refuses overlayfs here: %s", sbx_last_error());
    assert_sbx_ok(rc);
    const char *argv[] = {"/bin/true", NULL};
    sbx_result *r = NULL;
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EBUSY, "is in use by another child");
    assert_null(r);
    assert_sbx_ok(sbx_child_kill(c));
    assert_sbx_ok(sbx_child_wait(c, &r));
    sbx_result_free(r);
    sbx_child_free(c);
    r = run_overlay(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    assert_sbx_ok(sbx_overlay_discard(at("upper")));
    assert_no_work_dir(scratch);
    sbx_policy_free(p);
}

/* Without the mount view the overlay cannot be made: the spawn fails closed. */
static void test_overlay__minimal_fails_closed(void **state)
{
    (void)state;
    make_repo("ws");
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_MINIMAL));
    assert_sbx_ok(sbx_set_workdir(p, at("ws")));
    assert_sbx_ok(sbx_overlay(p, at("ws"), at("upper")));
    const char *argv[] = {"/bin/sh", "-c", "echo x > written", NULL};
    sbx_result *r = NULL;
    char needle[256];
    snprintf(needle, sizeof(needle), "sbx_overlay(%s)", at("ws"));
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP, needle);
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP, "--isolation");
    assert_null(r);
    assert_false(exists(at("ws/written")));
    assert_false(exists(at("upper")));
    sbx_policy_free(p);
    /* the control: the same policy without the overlay writes the host's tree */
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_MINIMAL));
    assert_sbx_ok(sbx_set_workdir(p, at("ws")));
    r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_true(exists(at("ws/written")));
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* The child cannot reach the upper directory or the host's tree by another path. */
static void test_overlay__host_tree_unreachable(void **state)
{
    (void)state;
    need_mount_ns();
    make_repo("ws");
    sbx_policy *p = overlay_policy(at("ws"), at("upper"));
    const char *argv[] = {PROBE("probe_fs"), "create", at("upper/planted"), NULL};
    sbx_result *r = run_overlay(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 1);
    assert_true(strncmp(sbx_result_stdout(r, NULL), "denied ", 7) == 0);
    sbx_result_free(r);
    assert_false(exists(at("upper/planted")));
    assert_sbx_ok(sbx_overlay_discard(at("upper")));
    /* the control: granted, the same probe writes there */
    assert_sbx_ok(sbx_allow_path(p, scratch, SBX_FS_READ | SBX_FS_WRITE));
    sh("mkdir '%s'", at("other"));
    const char *argv2[] = {PROBE("probe_fs"), "create", at("other/planted"), NULL};
    r = run_overlay(p, argv2);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    assert_true(exists(at("other/planted")));
    assert_sbx_ok(sbx_overlay_discard(at("upper")));
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_overlay__git_edit, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__private_upper, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__protected_hooks_hold, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__missing_protected_path, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__umount_does_not_uncover_host, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__upper_in_use_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__minimal_fails_closed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__host_tree_unreachable, setup, teardown),
};

SBX_TEST_MAIN(tests)
