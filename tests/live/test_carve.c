/* Carve-outs (issue 16): paths denied beneath the grants (sbx_deny_path()).
 * Each claim is tried by the hostile probe tests/hostile/probe_fs.c inside
 * the sandbox, where it must fail with the exact errno, and under the same
 * policy without the deny, on a twin of the same tree, where it must succeed
 * (the control: the deny, not something else, is what stops it). Runs with
 * the mount namespace's view and without it (isolation minimal, where what
 * Landlock cannot express must fail closed), as root and as an unprivileged
 * user. */
#include <ftw.h>
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

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void put_dir(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0755), 0);
}

/* A workspace: .git/config (no .git/hooks), secret, sdir/f; and a read-only
 * tree: ro/a/b/secret, ro/a/b/pub, ro/top. */
static void make_tree(const char *root)
{
    assert_int_equal(mkdir(root, 0755), 0);
    put_dir(root, "ws");
    put_dir(root, "ws/.git");
    put_file(root, "ws/.git/config", "cfg\n");
    put_file(root, "ws/secret", "s3cret\n");
    put_dir(root, "ws/sdir");
    put_file(root, "ws/sdir/f", "f\n");
    put_dir(root, "ro");
    put_dir(root, "ro/a");
    put_dir(root, "ro/a/b");
    put_file(root, "ro/a/b/secret", "s3cret\n");
    put_file(root, "ro/a/b/pub", "pub\n");
    put_file(root, "ro/top", "top\n");
}

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/agentsbx-carve.XXXXXX");
    if (!mkdtemp(scratch) || chmod(scratch, 0755) != 0)
        return -1;
    char t[128];
    snprintf(t, sizeof(t), "%s/t", scratch); /* the tree under test */
    make_tree(t);
    snprintf(t, sizeof(t), "%s/c", scratch); /* its twin, for the controls */
    make_tree(t);
    return 0;
}

static char vartmp[64]; /* a directory of the case outside /tmp, or "" */

static int teardown(void **state)
{
    (void)state;
    nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (vartmp[0] && vartmp[strlen(vartmp) - 1] != 'X')
        nftw(vartmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    vartmp[0] = '\0';
    return 0;
}

/* "<scratch>/<tree>/<rel>" in a static ring of buffers. */
static const char *at(const char *tree, const char *rel)
{
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 256, "%s/%s/%s", scratch, tree, rel);
    return b;
}

static void need_mount_ns(void)
{
    char why[256];
    if (sbx_probe(SBX_FEATURE_MOUNT_NS, why, sizeof(why)) <= 0)
        SBX_SKIP("%s is not available here: %s", sbx_feature_name(SBX_FEATURE_MOUNT_NS), why);
}

/* The policy of tree `tree`: its ws writable, its ro readable; with the mount
 * view (`view`) or without namespaces. */
static sbx_policy *tree_policy(const char *tree, bool view)
{
    sbx_policy *p = layer_policy_new();
    const char *n;
    if (strcmp(tree, "c") == 0) /* the controls: nothing protected by default */
        while (sbx_policy_protected(p, 0, &n) == 0)
            assert_sbx_ok(sbx_unprotect(p, n));
    else if (!view) /* a protected .git/config in a write grant needs the view (see
                       test_carve__protected_minimal_fails_closed) */
        assert_sbx_ok(sbx_unprotect(p, ".git/config"));
    if (view) { /* and a /proc of its own, for the /proc/self/fd probe */
        assert_sbx_ok(sbx_unshare(p, SBX_NS_MOUNT | SBX_NS_PID));
        assert_sbx_ok(sbx_allow_path(p, "/proc", SBX_FS_READ));
    }
    assert_sbx_ok(sbx_allow_path(p, at(tree, "ws"), SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_allow_path(p, at(tree, "ro"), SBX_FS_READ));
    return p;
}

/* Run probe_fs ACTION X [Y] under p; expect its line to be `want`. */
static void expect(const sbx_policy *p, const char *want, const char *action, const char *x,
                   const char *y)
{
    const char *argv[] = {PROBE("probe_fs"), action, x, y, NULL};
    sbx_result *r = run_ok(p, argv);
    if (sbx_result_status(r) != SBX_STATUS_EXITED)
        fail_msg("probe_fs %s %s did not exit: %s", action, x, describe(r));
    char line[256];
    snprintf(line, sizeof(line), "%s", sbx_result_stdout(r, NULL));
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, want) != 0)
        fail_msg("probe_fs %s %s%s%s: expected '%s', got '%s' (%s)", action, x, y ? " " : "",
                 y ? y : "", want, line, sbx_result_stderr(r, NULL));
    sbx_result_free(r);
}

static void expect_host_file(const char *path, const char *text)
{
    char buf[64] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, text);
}

/* ---- API ---------------------------------------------------------------------------- */

static void test_carve__api_rejects_bad_input(void **state)
{
    (void)state;
    sbx_policy *p = layer_policy_new();
    assert_sbx_error(sbx_deny_path(NULL, "/x", SBX_FS_READ), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_deny_path(p, NULL, SBX_FS_READ), -EINVAL, "path is NULL");
    assert_sbx_error(sbx_deny_path(p, "rel/x", SBX_FS_READ), -EINVAL,
                     "'rel/x' is not an absolute path");
    assert_sbx_error(sbx_deny_path(p, "/", SBX_FS_READ), -EINVAL, "'/' cannot be denied");
    assert_sbx_error(sbx_deny_path(p, "/a/../b", SBX_FS_READ), -EINVAL,
                     "'/a/../b' is not normalised");
    assert_sbx_error(sbx_deny_path(p, "/a//b", SBX_FS_READ), -EINVAL, "'/a//b' is not normalised");
    assert_sbx_error(sbx_deny_path(p, "/a/", SBX_FS_READ), -EINVAL, "'/a/' is not normalised");
    assert_sbx_error(sbx_deny_path(p, "/a/./b", SBX_FS_READ), -EINVAL,
                     "'/a/./b' is not normalised");
    assert_sbx_error(sbx_deny_path(p, "/a", 0), -EINVAL,
                     "sbx_deny_path(/a): access denies nothing");
    assert_sbx_error(sbx_deny_path(p, "/a", SBX_FS_EXEC), -EINVAL, "access denies nothing");
    assert_sbx_error(sbx_deny_path(p, "/a", SBX_FS_READ | SBX_FS_EXEC), -EINVAL,
                     "access bits 0x4 cannot be denied");
    assert_int_equal(sbx_policy_denied_count(p), 0);
    assert_int_equal(sbx_policy_denied_count(NULL), 0);
    /* Good input: a missing path is fine; the same path twice is one entry. */
    assert_sbx_ok(sbx_deny_path(p, "/nonexistent/agentsbx/x", SBX_FS_WRITE));
    assert_sbx_ok(sbx_deny_path(p, "/nonexistent/agentsbx/x", SBX_FS_READ));
    assert_sbx_ok(sbx_deny_path(p, "/etc/group", SBX_FS_READ));
    assert_int_equal(sbx_policy_denied_count(p), 2);
    const char *path = NULL;
    uint64_t access = 0;
    assert_sbx_ok(sbx_policy_denied(p, 0, &path, &access));
    assert_string_equal(path, "/nonexistent/agentsbx/x");
    assert_int_equal(access, SBX_FS_READ | SBX_FS_WRITE);
    assert_sbx_ok(sbx_policy_denied(p, 1, &path, NULL));
    assert_string_equal(path, "/etc/group");
    assert_sbx_error(sbx_policy_denied(p, 2, &path, &access), -ERANGE,
                     "index 2 is out of range (2 entries)");
    assert_sbx_error(sbx_policy_denied(NULL, 0, &path, &access), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_policy_denied(p, 0, NULL, &access), -EINVAL, "ret_path is NULL");
    /* A copy carries them. */
    sbx_policy *copy = NULL;
    assert_sbx_ok(sbx_policy_dup(p, &copy));
    assert_int_equal(sbx_policy_denied_count(copy), 2);
    assert_sbx_ok(sbx_policy_denied(copy, 1, &path, &access));
    assert_string_equal(path, "/etc/group");
    assert_int_equal(access, SBX_FS_READ);
    sbx_policy_free(copy);
    sbx_policy_free(p);
}

/* ---- with the mount view ---------------------------------------------------------------- */

/* Write-denied .git/config and .git/hooks (missing) in a writable workspace:
 * no write, truncation, removal, rename away (and back), link swap, hard
 * link or creation beneath gets around it. */
static void test_carve__view_write_deny_holds(void **state)
{
    (void)state;
    need_mount_ns();
    sbx_policy *p = tree_policy("t", true), *c = tree_policy("c", true);
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/.git/config"), SBX_FS_WRITE));
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/.git/hooks"), SBX_FS_WRITE));
    /* a missing path beneath a write-denied one: nothing to make, nothing can be made */
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/sdir"), SBX_FS_WRITE));
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/sdir/missing"), SBX_FS_READ));

    expect(p, "ok", "read", at("t", "ws/.git/config"), NULL); /* still readable */
    expect(p, "denied EROFS", "write", at("t", "ws/.git/config"), NULL);
    expect(p, "denied EROFS", "truncate", at("t", "ws/.git/config"), NULL);
    expect(p, "denied EBUSY", "unlink", at("t", "ws/.git/config"), NULL);
    expect(p, "denied EBUSY", "rename", at("t", "ws/.git"), at("t", "ws/g"));
    expect(p, "denied EXDEV", "rename", at("t", "ws/.git/config"), at("t", "ws/config"));
    expect(p, "ok", "symlink", "/etc/passwd", at("t", "ws/lnk"));
    expect(p, "denied EXDEV", "rename", at("t", "ws/lnk"), at("t", "ws/.git/config"));
    expect(p, "ok", "symlink", "/etc/passwd", at("t", "ws/.git/lnk"));
    expect(p, "denied EBUSY", "rename", at("t", "ws/.git/lnk"), at("t", "ws/.git/config"));
    expect(p, "denied EXDEV", "link", at("t", "ws/.git/config"), at("t", "ws/c2"));
    expect(p, "denied EROFS", "create", at("t", "ws/.git/hooks/post-checkout"), NULL);
    expect(p, "denied EROFS", "mkdir", at("t", "ws/.git/hooks/d"), NULL);
    expect(p, "denied EROFS", "create", at("t", "ws/sdir/missing"), NULL);
    expect(p, "ok", "read", at("t", "ws/sdir/f"), NULL);
    expect(p, "ok", "create", at("t", "ws/.git/other"), NULL); /* the rest stays writable */
    expect(p, "ok", "create", at("t", "ws/new"), NULL);
    expect_host_file(at("t", "ws/.git/config"), "cfg\n");

    /* The controls: each action works on the twin without the deny. */
    expect(c, "ok", "create", at("c", "ws/sdir/missing"), NULL);
    expect(c, "ok", "write", at("c", "ws/.git/config"), NULL);
    expect(c, "ok", "truncate", at("c", "ws/.git/config"), NULL);
    expect(c, "ok", "rename", at("c", "ws/.git"), at("c", "ws/g"));
    expect(c, "ok", "rename", at("c", "ws/g"), at("c", "ws/.git")); /* and back */
    expect(c, "ok", "link", at("c", "ws/.git/config"), at("c", "ws/c2"));
    expect(c, "ok", "symlink", "/etc/passwd", at("c", "ws/lnk"));
    expect(c, "ok", "rename", at("c", "ws/lnk"), at("c", "ws/.git/config"));
    expect(c, "ok", "unlink", at("c", "ws/.git/config"), NULL);
    expect(c, "ok", "mkdir", at("c", "ws/.git/hooks"), NULL);
    expect(c, "ok", "create", at("c", "ws/.git/hooks/post-checkout"), NULL);
    sbx_policy_free(p);
    sbx_policy_free(c);
}

/* A read-denied file and directory in a writable workspace, and a file of
 * the default view: not through open, mmap, /proc/self/fd or a hard link;
 * not renamed away to be read elsewhere. */
static void test_carve__view_read_deny_holds(void **state)
{
    (void)state;
    need_mount_ns();
    sbx_policy *p = tree_policy("t", true), *c = tree_policy("c", true);
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/secret"), SBX_FS_READ));
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/sdir"), SBX_FS_READ));
    assert_sbx_ok(sbx_deny_path(p, at("t", "ro/a/b/secret"), SBX_FS_READ));
    assert_sbx_ok(sbx_deny_path(p, "/etc/group", SBX_FS_READ));

    expect(p, "denied EACCES", "read", at("t", "ws/secret"), NULL);
    expect(p, "denied EACCES", "mmap", at("t", "ws/secret"), NULL);
    expect(p, "denied EACCES", "procfd", at("t", "ws/secret"), NULL);
    expect(p, "denied EACCES", "write", at("t", "ws/secret"), NULL);
    expect(p, "denied EXDEV", "link", at("t", "ws/secret"), at("t", "ws/s2"));
    expect(p, "denied EBUSY", "rename", at("t", "ws/secret"), at("t", "ws/s3"));
    expect(p, "denied EBUSY", "unlink", at("t", "ws/secret"), NULL);
    expect(p, "denied ENOENT", "read", at("t", "ws/sdir/f"), NULL);
    expect(p, "denied EROFS", "create", at("t", "ws/sdir/g"), NULL);
    expect(p, "denied EBUSY", "rename", at("t", "ws/sdir"), at("t", "ws/sdir2"));
    expect(p, "denied EACCES", "read", at("t", "ro/a/b/secret"), NULL);
    expect(p, "ok", "read", at("t", "ro/a/b/pub"), NULL);
    expect(p, "denied EACCES", "read", "/etc/group", NULL);
    expect(p, "ok", "read", "/etc/passwd", NULL);
    expect_host_file(at("t", "ws/secret"), "s3cret\n");

    expect(c, "ok", "read", at("c", "ws/secret"), NULL);
    expect(c, "ok", "mmap", at("c", "ws/secret"), NULL);
    expect(c, "ok", "procfd", at("c", "ws/secret"), NULL);
    expect(c, "ok", "read", at("c", "ws/sdir/f"), NULL);
    expect(c, "ok", "read", at("c", "ro/a/b/secret"), NULL);
    expect(c, "ok", "read", "/etc/group", NULL);
    expect(c, "ok", "link", at("c", "ws/secret"), at("c", "ws/s2"));
    expect(c, "ok", "rename", at("c", "ws/secret"), at("c", "ws/s3"));
    sbx_policy_free(p);
    sbx_policy_free(c);
}

/* ---- without the view (isolation minimal): Landlock ------------------------------------- */

/* A file hidden in a grant that cannot write: its siblings are granted
 * instead of its parent, exactly. */
static void test_carve__minimal_read_deny_file(void **state)
{
    (void)state;
    sbx_policy *p = tree_policy("t", false), *c = tree_policy("c", false);
    assert_sbx_ok(sbx_deny_path(p, at("t", "ro/a/b/secret"), SBX_FS_READ));
    assert_sbx_ok(sbx_deny_path(p, "/etc/group", SBX_FS_READ));

    expect(p, "denied EACCES", "read", at("t", "ro/a/b/secret"), NULL);
    expect(p, "denied EACCES", "mmap", at("t", "ro/a/b/secret"), NULL);
    expect(p, "denied EACCES", "procfd", at("t", "ro/a/b/secret"), NULL);
    expect(p, "denied EXDEV", "link", at("t", "ro/a/b/secret"), at("t", "ws/s2"));
    expect(p, "denied EACCES", "read", "/etc/group", NULL);
    /* the rest of the grants as before */
    expect(p, "ok", "read", at("t", "ro/a/b/pub"), NULL);
    expect(p, "ok", "read", at("t", "ro/top"), NULL);
    expect(p, "ok", "read", at("t", "ro/a"), NULL);
    expect(p, "ok", "read", at("t", "ro/a/b"), NULL);
    expect(p, "ok", "read", "/etc/passwd", NULL);
    expect(p, "ok", "read", "/etc", NULL);

    expect(c, "ok", "read", at("c", "ro/a/b/secret"), NULL);
    expect(c, "ok", "mmap", at("c", "ro/a/b/secret"), NULL);
    expect(c, "ok", "procfd", at("c", "ro/a/b/secret"), NULL);
    expect(c, "ok", "read", "/etc/group", NULL);
    sbx_policy_free(p);
    sbx_policy_free(c);
}

/* Many files hidden in one directory: one split of it, not one per file
 * (the rules would run out: E2BIG). */
static void test_carve__minimal_many_denies_in_one_dir(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s", at("t", "ro/many"));
    assert_int_equal(mkdir(dir, 0755), 0);
    sbx_policy *p = tree_policy("t", false);
    for (int i = 0; i < 60; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%02d", i);
        put_file(dir, name, "x\n");
        if (i < 50) {
            char path[160];
            snprintf(path, sizeof(path), "%s/%s", dir, name);
            assert_sbx_ok(sbx_deny_path(p, path, SBX_FS_READ));
        }
    }
    expect(p, "denied EACCES", "read", at("t", "ro/many/f00"), NULL);
    expect(p, "denied EACCES", "read", at("t", "ro/many/f49"), NULL);
    expect(p, "ok", "read", at("t", "ro/many/f50"), NULL);
    expect(p, "ok", "read", at("t", "ro/many"), NULL);
    sbx_policy_free(p);
}

/* What Landlock cannot express fails closed, naming the path. */
static void test_carve__minimal_fails_closed(void **state)
{
    (void)state;
    const char *argv[] = {PROBE("probe_fs"), "read", "/etc/passwd", NULL};
    sbx_result *r = NULL;
    sbx_policy *p = tree_policy("t", false);
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/.git/config"), SBX_FS_WRITE));
    char want[256];
    snprintf(want, sizeof(want),
             "sbx_deny_path(%s): without the mount namespace's view Landlock cannot deny a path "
             "beneath the write grant %s",
             at("t", "ws/.git/config"), at("t", "ws"));
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP, want);
    assert_null(r);
    sbx_policy_free(p);

    p = tree_policy("t", false);
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/secret"), SBX_FS_READ)); /* in a write grant */
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP, "beneath the write grant");
    sbx_policy_free(p);

    p = tree_policy("t", false);
    assert_sbx_ok(sbx_deny_path(p, at("t", "ro/a"), SBX_FS_READ)); /* a directory */
    snprintf(want, sizeof(want),
             "sbx_deny_path(%s): without the mount namespace's view Landlock cannot hide a "
             "directory beneath the grant %s",
             at("t", "ro/a"), at("t", "ro"));
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP, want);
    sbx_policy_free(p);

    /* A deny no grant covers holds as it is: no error. */
    p = tree_policy("t", false);
    assert_sbx_ok(sbx_deny_path(p, "/home/agentsbx-none/.ssh", SBX_FS_READ));
    assert_sbx_ok(sbx_deny_path(p, at("t", "ro/a/b/pub"), SBX_FS_WRITE)); /* read-only already */
    r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* A grant beneath a denied path is refused, with and without the view. */
static void test_carve__grant_beneath_deny_refused(void **state)
{
    (void)state;
    const char *argv[] = {PROBE("probe_fs"), "read", "/etc/passwd", NULL};
    for (int view = 0; view < 2; view++) {
        if (view)
            need_mount_ns();
        sbx_policy *p = tree_policy("t", view);
        assert_sbx_ok(sbx_deny_path(p, at("t", "ws/sdir"), SBX_FS_READ));
        assert_sbx_ok(sbx_allow_path(p, at("t", "ws/sdir/f"), SBX_FS_READ));
        char want[256];
        snprintf(want, sizeof(want), "sbx_allow_path(%s): lies beneath the denied path %s",
                 at("t", "ws/sdir/f"), at("t", "ws/sdir"));
        sbx_result *r = NULL;
        assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EINVAL, want);
        assert_null(r);
        sbx_policy_free(p);
    }
}

/* The default view hides /etc/shadow and /etc/gshadow (as root, where the
 * file modes do not); a grant of the file shows it again (the control). */
static void test_carve__default_view_hides_shadow(void **state)
{
    (void)state;
    static const char *const files[] = {"/etc/shadow", "/etc/gshadow"};
    size_t checked = 0;
    for (int view = 0; view < 2; view++) {
        if (view)
            need_mount_ns();
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            if (access(files[i], R_OK) != 0)
                continue; /* not here, or its mode hides it from this user already */
            sbx_policy *p = tree_policy("t", view), *c = tree_policy("c", view);
            assert_sbx_ok(sbx_allow_path(c, files[i], SBX_FS_READ));
            expect(p, "denied EACCES", "read", files[i], NULL);
            expect(p, "denied EACCES", "procfd", files[i], NULL);
            expect(p, "ok", "read", "/etc/passwd", NULL);
            expect(c, "ok", "read", files[i], NULL);
            sbx_policy_free(p);
            sbx_policy_free(c);
            checked++;
        }
    }
    if (!checked)
        SBX_SKIP("/etc/shadow and /etc/gshadow are missing or unreadable by this user (their mode "
                 "hides them already)");
}

static void test_carve__protect_api(void **state)
{
    (void)state;
    sbx_policy *p = layer_policy_new();
    size_t n_default = 0;
    while (sbx_protected_default(n_default))
        n_default++;
    assert_true(n_default >= 15);
    const char *name = NULL;
    for (size_t i = 0; i < n_default; i++) { /* a new policy has the default list */
        assert_sbx_ok(sbx_policy_protected(p, i, &name));
        assert_string_equal(name, sbx_protected_default(i));
    }
    assert_sbx_error(sbx_policy_protected(p, n_default, &name), -ERANGE, "past the end");
    assert_sbx_error(sbx_protect_path(NULL, ".env"), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_protect_path(p, NULL), -EINVAL, "name is NULL");
    assert_sbx_error(sbx_protect_path(p, "/etc/x"), -EINVAL, "'/etc/x' is not a relative name");
    assert_sbx_error(sbx_protect_path(p, ""), -EINVAL, "'' is not a relative name");
    assert_sbx_error(sbx_protect_path(p, "a/../b"), -EINVAL, "'a/../b' is not normalised");
    assert_sbx_error(sbx_protect_path(p, "a/"), -EINVAL, "'a/' is not normalised");
    assert_sbx_error(sbx_unprotect(p, ".env"), -ENOENT,
                     "sbx_unprotect(.env): not in the policy's protected list");
    assert_sbx_error(sbx_unprotect(NULL, ".env"), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_policy_protected(NULL, 0, &name), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_policy_protected(p, 0, NULL), -EINVAL, "ret_name is NULL");
    assert_null(sbx_protected_default(n_default));
    /* add one, remove a default: the effective list says so, a copy too */
    assert_sbx_ok(sbx_protect_path(p, ".env"));
    assert_sbx_ok(sbx_protect_path(p, ".env")); /* once */
    assert_sbx_ok(sbx_unprotect(p, ".bashrc"));
    sbx_policy *copy = NULL;
    assert_sbx_ok(sbx_policy_dup(p, &copy));
    for (sbx_policy *q = p; q; q = q == p ? copy : NULL) {
        size_t n = 0;
        bool env = false, bashrc = false;
        while (sbx_policy_protected(q, n, &name) == 0) {
            env |= strcmp(name, ".env") == 0;
            bashrc |= strcmp(name, ".bashrc") == 0;
            n++;
        }
        assert_int_equal(n, n_default); /* one in, one out */
        assert_true(env);
        assert_false(bashrc);
    }
    assert_sbx_ok(sbx_protect_path(p, ".bashrc")); /* back */
    assert_sbx_ok(sbx_unprotect(p, ".env"));
    for (size_t i = 0; i < n_default; i++) {
        assert_sbx_ok(sbx_policy_protected(p, i, &name));
        assert_string_equal(name, sbx_protected_default(i));
    }
    sbx_policy_free(copy);
    sbx_policy_free(p);
}

/* Make every default-protected name exist in the tree's ws: a directory for
 * those that git and editors make directories, else a file. */
static bool protected_is_dir(const char *name)
{
    static const char *const dirs[] = {".git/hooks", ".git/info", ".vscode", ".idea",
                                       ".claude",    ".codex",    ".cursor"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (strcmp(dirs[i], name) == 0)
            return true;
    return false;
}

static void make_protected(const char *tree)
{
    const char *name;
    for (size_t i = 0; (name = sbx_protected_default(i)); i++) {
        char rel[128];
        snprintf(rel, sizeof(rel), "ws/%s", name);
        struct stat st;
        if (stat(at(tree, rel), &st) == 0)
            continue;
        if (protected_is_dir(name))
            assert_int_equal(mkdir(at(tree, rel), 0755), 0);
        else
            put_file(at(tree, "ws"), name, "x\n");
    }
}

/* With the view: every default-protected path in a write grant is read-only
 * (a file cannot be written, a directory cannot get a new entry), a missing
 * .git/hooks cannot be created, the rest of the workspace stays writable;
 * the controls: the same actions without the list. */
static void test_carve__protected_view(void **state)
{
    (void)state;
    need_mount_ns();
    make_protected("t");
    make_protected("c");
    char hooks[128];
    snprintf(hooks, sizeof(hooks), "%s", at("t", "ws/.git/hooks"));
    assert_int_equal(rmdir(hooks), 0); /* missing: its parent .git exists */
    sbx_policy *p = tree_policy("t", true), *c = tree_policy("c", true);
    const char *name;
    for (size_t i = 0; (name = sbx_protected_default(i)); i++) {
        char rel[128], inside[128];
        snprintf(rel, sizeof(rel), "ws/%s", name);
        snprintf(inside, sizeof(inside), "ws/%s/planted", name);
        if (protected_is_dir(name)) {
            expect(p, "denied EROFS", "create", at("t", inside), NULL);
            expect(c, "ok", "create", at("c", inside), NULL);
        } else {
            expect(p, "denied EROFS", "write", at("t", rel), NULL);
            expect(c, "ok", "write", at("c", rel), NULL);
        }
    }
    expect(p, "denied EBUSY", "rename", at("t", "ws/.git"), at("t", "ws/g"));
    expect(p, "ok", "create", at("t", "ws/.git/HEAD"), NULL);
    expect(p, "ok", "create", at("t", "ws/main.c"), NULL);
    /* unprotected by name: writable again; protected by name: read-only */
    assert_sbx_ok(sbx_unprotect(p, ".bashrc"));
    assert_sbx_ok(sbx_protect_path(p, "main.c"));
    expect(p, "ok", "write", at("t", "ws/.bashrc"), NULL);
    expect(p, "denied EROFS", "write", at("t", "ws/main.c"), NULL);
    sbx_policy_free(p);
    sbx_policy_free(c);
}

/* Without the view a protected path that exists in a write grant cannot be
 * enforced: the spawn fails, naming it and how to lift it; lifted, it runs. */
static void test_carve__protected_minimal_fails_closed(void **state)
{
    (void)state;
    const char *argv[] = {PROBE("probe_fs"), "read", "/etc/passwd", NULL};
    /* The default list is the view's: without it, a run goes on and its
     * result says it had no view (no mount namespace). */
    sbx_policy *p = layer_policy_new();
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_MINIMAL));
    assert_sbx_ok(sbx_allow_path(p, at("t", "ws"), SBX_FS_READ | SBX_FS_WRITE));
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_false(sbx_result_namespaces(r) & SBX_NS_MOUNT);
    sbx_result_free(r);
    /* A name the policy protects itself fails closed. */
    assert_sbx_ok(sbx_protect_path(p, ".git/config"));
    char want[512];
    snprintf(want, sizeof(want),
             "%s is protected (the default protected list, '.git/config') but without the mount "
             "namespace's view Landlock cannot make it read-only inside the write grant %s",
             at("t", "ws/.git/config"), at("t", "ws"));
    r = NULL;
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP, want);
    assert_null(r);
    assert_non_null(strstr(sbx_last_error(), "sbx_unprotect(\".git/config\")"));
    assert_sbx_ok(sbx_unprotect(p, ".git/config"));
    r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* sbx_bind(): a tree shown at another path, read-only or writable as bound;
 * the protected list and denies hold there too. sbx_tmpfs(): a private
 * bounded tmpfs. The controls: without them the paths are not there. */
static void test_carve__bind_and_tmpfs(void **state)
{
    (void)state;
    need_mount_ns();
    sbx_policy *p = layer_policy_new(), *c = layer_policy_new();
    assert_sbx_ok(sbx_unshare(p, SBX_NS_MOUNT));
    assert_sbx_ok(sbx_unshare(c, SBX_NS_MOUNT));
    assert_sbx_ok(sbx_bind(p, at("t", "ro"), "/agentsbx-test/ro", SBX_FS_READ));
    assert_sbx_ok(sbx_bind(p, at("t", "ws"), "/agentsbx-test/ws", SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_deny_path(p, at("t", "ws/secret"), SBX_FS_READ));
    assert_sbx_ok(sbx_tmpfs(p, "/agentsbx-test/scratch", 64 * 1024));
    expect(p, "ok", "read", "/agentsbx-test/ro/a/b/pub", NULL);
    expect(p, "denied EROFS", "create", "/agentsbx-test/ro/new", NULL);
    expect(p, "ok", "create", "/agentsbx-test/ws/new", NULL);
    expect_host_file(at("t", "ws/new"), "x");
    expect(p, "denied EACCES", "read", "/agentsbx-test/ws/secret", NULL);
    expect(p, "denied EROFS", "write", "/agentsbx-test/ws/.git/config", NULL);
    expect(p, "denied EBUSY", "rename", "/agentsbx-test/ws/.git", "/agentsbx-test/ws/g");
    expect(p, "ok", "create", "/agentsbx-test/scratch/f", NULL);
    /* the host's own paths of the sources are not in the view */
    expect(p, "denied ENOENT", "read", at("t", "ws/sdir/f"), NULL);
    /* the controls */
    expect(c, "denied ENOENT", "read", "/agentsbx-test/ro/a/b/pub", NULL);
    expect(c, "denied ENOENT", "create", "/agentsbx-test/scratch/f", NULL);
    sbx_policy_free(c);

    /* bad input, and no view: fails closed naming the bind */
    assert_sbx_error(sbx_bind(p, "rel", "/x", SBX_FS_READ), -EINVAL,
                     "'rel' is not an absolute path");
    assert_sbx_error(sbx_bind(p, at("t", "ro"), "x", SBX_FS_READ), -EINVAL,
                     "the destination is not an absolute, normalised path");
    assert_sbx_error(sbx_bind(p, at("t", "ro"), "/", SBX_FS_READ), -EINVAL,
                     "the destination is not an absolute, normalised path other than '/'");
    assert_sbx_error(sbx_bind(p, at("t", "ro"), "/y", 0), -EINVAL, "access grants nothing");
    assert_sbx_error(sbx_bind(p, at("t", "ro"), "/y", SBX_FS_READ | (1ull << 20)), -EINVAL,
                     "unknown access bits 0x100000");
    assert_sbx_error(sbx_bind(p, at("t", "nope"), "/y", SBX_FS_READ), -ENOENT, "sbx_bind(");
    assert_sbx_error(sbx_bind(p, at("t", "ws"), "/agentsbx-test/ro", SBX_FS_READ), -EINVAL,
                     "is bound already");
    assert_sbx_error(sbx_bind(NULL, "/a", "/b", SBX_FS_READ), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_tmpfs(p, "/t", 100), -EINVAL, "size 100 is below 4096 bytes");
    assert_sbx_error(sbx_tmpfs(p, "t", 0), -EINVAL, "'t' is not an absolute, normalised path");
    assert_sbx_error(sbx_tmpfs(NULL, "/t", 0), -EINVAL, "policy is NULL");
    sbx_policy *m = layer_policy_new();
    assert_sbx_ok(sbx_bind(m, at("t", "ro"), "/agentsbx-test/ro", SBX_FS_READ));
    const char *argv[] = {PROBE("probe_fs"), "read", "/etc/passwd", NULL};
    sbx_result *r = NULL;
    char want[256];
    snprintf(want, sizeof(want),
             "sbx_bind(%s, /agentsbx-test/ro): needs the mount namespace's view, and this policy "
             "runs without it (isolation minimal)",
             at("t", "ro"));
    assert_sbx_error(sbx_run(m, argv, NULL, 0, &r), -EOPNOTSUPP, want);
    sbx_policy_free(m);
    m = layer_policy_new();
    assert_sbx_ok(sbx_tmpfs(m, "/scratch", 0));
    assert_sbx_error(sbx_run(m, argv, NULL, 0, &r), -EOPNOTSUPP,
                     "sbx_tmpfs(/scratch): needs the mount namespace's view");
    sbx_policy_free(m);
    sbx_policy_free(p);
}

/* The parts of SBX_FS_WRITE: each allows only itself (Landlock holds the
 * difference, with and without the view); the control: SBX_FS_WRITE allows
 * every one. */
static void test_carve__finer_write_rights(void **state)
{
    (void)state;
    /* In the view the private /tmp grants every right beneath it: there,
     * finer rights are refused. */
    sbx_policy *t = layer_policy_new();
    assert_sbx_ok(sbx_unshare(t, SBX_NS_MOUNT));
    assert_sbx_ok(sbx_allow_path(t, at("t", "ws"), SBX_FS_READ | SBX_FS_WRITE_FILE));
    const char *argv[] = {PROBE("probe_fs"), "read", "/etc/passwd", NULL};
    sbx_result *res = NULL;
    char want[256];
    snprintf(want, sizeof(want),
             "sbx_allow_path(%s): finer write rights cannot hold beneath /tmp in the mount "
             "namespace's view",
             at("t", "ws"));
    char why[256];
    if (sbx_probe(SBX_FEATURE_MOUNT_NS, why, sizeof(why)) > 0)
        assert_sbx_error(sbx_run(t, argv, NULL, 0, &res), -EOPNOTSUPP, want);
    sbx_policy_free(t);
    /* elsewhere (/var/tmp), with and without the view */
    char *base = vartmp, ws[96];
    snprintf(vartmp, sizeof(vartmp), "/var/tmp/agentsbx-carve.XXXXXX");
    if (!mkdtemp(base))
        SBX_SKIP("cannot make a directory in /var/tmp: %s", strerror(errno));
    assert_int_equal(chmod(base, 0755), 0);
    snprintf(ws, sizeof(ws), "%s/ws", base);
    assert_int_equal(mkdir(ws, 0755), 0);
    put_file(ws, "secret", "s3cret\n");
    put_dir(ws, "sdir");
    put_file(ws, "sdir/f", "f\n");
    char p_secret[128], p_f[128], p_wnew[128], p_wlink[128], p_crnew[128], p_crdir[128],
        p_crdir2[128], p_crlink[128], p_alllink[128], p_allnew[128];
    snprintf(p_secret, sizeof(p_secret), "%s/secret", ws);
    snprintf(p_f, sizeof(p_f), "%s/sdir/f", ws);
    snprintf(p_wnew, sizeof(p_wnew), "%s/w-new", ws);
    snprintf(p_wlink, sizeof(p_wlink), "%s/w-link", ws);
    snprintf(p_crnew, sizeof(p_crnew), "%s/cr-new", ws);
    snprintf(p_crdir, sizeof(p_crdir), "%s/cr-dir", ws);
    snprintf(p_crdir2, sizeof(p_crdir2), "%s/cr-dir2", ws);
    snprintf(p_crlink, sizeof(p_crlink), "%s/cr-link", ws);
    snprintf(p_alllink, sizeof(p_alllink), "%s/all-link", ws);
    snprintf(p_allnew, sizeof(p_allnew), "%s/all-new", ws);
    for (int view = 0; view < 2; view++) {
        if (view && sbx_probe(SBX_FEATURE_MOUNT_NS, why, sizeof(why)) <= 0)
            break;
        sbx_policy *w = layer_policy_new(), *cr = layer_policy_new(), *all = layer_policy_new();
        sbx_policy *ps[] = {w, cr, all};
        /* (a new file is opened for writing: creating one takes WRITE_FILE too) */
        uint64_t rights[] = {SBX_FS_READ | SBX_FS_WRITE_FILE,
                             SBX_FS_READ | SBX_FS_CREATE | SBX_FS_WRITE_FILE,
                             SBX_FS_READ | SBX_FS_WRITE};
        for (int i = 0; i < 3; i++) {
            if (view)
                assert_sbx_ok(sbx_unshare(ps[i], SBX_NS_MOUNT));
            else
                assert_sbx_ok(sbx_unprotect(ps[i], ".git/config"));
            assert_sbx_ok(sbx_allow_path(ps[i], ws, rights[i]));
        }
        expect(w, "ok", "write", p_secret, NULL);
        expect(w, "denied EACCES", "truncate", p_secret, NULL);
        expect(w, "denied EACCES", "create", p_wnew, NULL);
        expect(w, "denied EACCES", "unlink", p_f, NULL);
        expect(w, "denied EACCES", "symlink", "x", p_wlink);
        expect(cr, "ok", "create", p_crnew, NULL);
        expect(cr, "ok", "mkdir", p_crdir, NULL);
        expect(cr, "denied EACCES", "truncate", p_secret, NULL);
        expect(cr, "denied EACCES", "symlink", "x", p_crlink);
        expect(cr, "denied EACCES", "unlink", p_f, NULL);
        expect(all, "ok", "truncate", p_secret, NULL);
        expect(all, "ok", "symlink", "x", p_alllink);
        expect(all, "ok", "unlink", p_alllink, NULL);
        expect(all, "ok", "create", p_allnew, NULL);
        expect(all, "ok", "unlink", p_allnew, NULL);
        expect(all, "ok", "unlink", p_crnew, NULL);
        expect(all, "ok", "rename", p_crdir, p_crdir2);
        sbx_policy_free(w);
        sbx_policy_free(cr);
        sbx_policy_free(all);
        assert_int_equal(rmdir(p_crdir2), 0);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_carve__finer_write_rights, setup, teardown),
    cmocka_unit_test_setup_teardown(test_carve__bind_and_tmpfs, setup, teardown),
    cmocka_unit_test(test_carve__protect_api),
    cmocka_unit_test_setup_teardown(test_carve__protected_view, setup, teardown),
    cmocka_unit_test_setup_teardown(test_carve__protected_minimal_fails_closed, setup, teardown),
    cmocka_unit_test(test_carve__api_rejects_bad_input),
    cmocka_unit_test_setup_teardown(test_carve__view_write_deny_holds, setup, teardown),
    cmocka_unit_test_setup_teardown(test_carve__view_read_deny_holds, setup, teardown),
    cmocka_unit_test_setup_teardown(test_carve__minimal_read_deny_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_carve__minimal_fails_closed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_carve__minimal_many_denies_in_one_dir, setup, teardown),
    cmocka_unit_test_setup_teardown(test_carve__grant_beneath_deny_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_carve__default_view_hides_shadow, setup, teardown),
};

SBX_TEST_MAIN(tests)
