/* Grants do not follow links a sandboxed child could have planted (issue 13,
 * item 7). The attack: a child with a write grant on ws replaces ws/out by a
 * symbolic link to a secret; a later run granted only ws/out (read, write,
 * or as its working directory, with or without namespaces) would reach the
 * secret. Here a confined child plants the link, then every way of granting
 * ws/out is tried: each must be refused with a message naming the link, and
 * the secret must be unchanged; the control writes through the same link
 * unconfined, and reaches the secret. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "live.h"

static char scratch[64], ws[128], out[160], secret[128], secret_file[160];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/agentsbx-grants.XXXXXX");
    if (!mkdtemp(scratch) || chmod(scratch, 0755) != 0)
        return -1;
    snprintf(ws, sizeof(ws), "%s/ws", scratch);
    snprintf(out, sizeof(out), "%s/out", ws);
    snprintf(secret, sizeof(secret), "%s/secret", scratch);
    snprintf(secret_file, sizeof(secret_file), "%s/key", secret);
    if (mkdir(ws, 0755) != 0 || mkdir(out, 0755) != 0 || mkdir(secret, 0755) != 0)
        return -1;
    FILE *f = fopen(secret_file, "w");
    if (!f)
        return -1;
    fputs("original\n", f);
    return fclose(f);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void secret_unchanged(void)
{
    char buf[64] = "";
    FILE *f = fopen(secret_file, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "original\n");
}

/* A confined child with a write grant on ws swaps ws/out for a link to the
 * secret directory: it can, and the library must not be fooled later. */
static void plant_link(uint32_t namespaces)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, ws, SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_allow_tool(p, "rm"));
    assert_sbx_ok(sbx_allow_tool(p, "ln"));
    if (namespaces)
        assert_sbx_ok(sbx_unshare(p, namespaces));
    char script[512];
    snprintf(script, sizeof(script), "rm -rf '%s' && ln -s '%s' '%s' && echo planted", out, secret,
             out);
    const char *const argv[] = {"/bin/sh", "-c", script, NULL};
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "planted\n");
    sbx_result_free(r);
    sbx_policy_free(p);
    struct stat st;
    assert_int_equal(lstat(out, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

static void expect_refused_at_spawn(sbx_policy *p, const char *how)
{
    char script[256];
    snprintf(script, sizeof(script), "echo pwned > '%s/key'", out);
    const char *const argv[] = {"/bin/sh", "-c", script, NULL};
    sbx_result *r = NULL;
    int rc = sbx_run(p, argv, NULL, 0, &r);
    if (rc != -ELOOP)
        fail_msg("%s: sbx_run returned %d (%s), expected -ELOOP; %s", how, rc, sbx_errname(rc),
                 r ? describe(r) : sbx_last_error());
    assert_null(r);
    if (!strstr(sbx_last_error(), "is a symbolic link") || !strstr(sbx_last_error(), out))
        fail_msg("%s: the message does not name the link: %s", how, sbx_last_error());
    secret_unchanged();
}

static void test_grants__hostile_planted_link_refused(void **state)
{
    (void)state;
    plant_link(0);

    /* As a grant: refused at once, for each kind of access. */
    static const uint64_t kinds[] = {SBX_FS_READ, SBX_FS_READ | SBX_FS_WRITE,
                                     SBX_FS_READ | SBX_FS_EXEC,
                                     SBX_FS_READ | SBX_FS_WRITE | SBX_FS_OPTIONAL};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        sbx_policy *p = policy_new();
        assert_sbx_error(sbx_allow_path(p, out, kinds[i]), -ELOOP, "is a symbolic link (to ");
        assert_non_null(strstr(sbx_last_error(), out));
        sbx_policy_free(p);
    }
    /* Through a planted directory link in the middle of the path too. */
    char inner[192];
    snprintf(inner, sizeof(inner), "%s/key", out);
    sbx_policy *p = policy_new();
    assert_sbx_error(sbx_allow_path(p, inner, SBX_FS_READ), -ELOOP, "is a symbolic link");
    sbx_policy_free(p);

    /* As the working directory: refused when the policy is compiled. */
    p = policy_new();
    assert_sbx_ok(sbx_set_workdir(p, out));
    expect_refused_at_spawn(p, "workdir");
    sbx_policy_free(p);

    /* The control: the link is real, and unconfined it reaches the secret. */
    char through[192];
    snprintf(through, sizeof(through), "%s/key", out);
    FILE *f = fopen(through, "w");
    assert_non_null(f);
    fputs("pwned\n", f);
    fclose(f);
    char buf[64] = "";
    f = fopen(secret_file, "r");
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "pwned\n");
}

/* Granted while it was a directory, swapped for a link before the policy is
 * compiled: the compile refuses it. */
static void test_grants__hostile_swap_before_compile(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, out, SBX_FS_READ | SBX_FS_WRITE));
    plant_link(0);
    expect_refused_at_spawn(p, "grant swapped before the compile");
    sbx_policy_free(p);
}

/* Swapped after the policy was compiled: the grant and the working directory
 * are the descriptors opened then, not the path. */
static void test_grants__hostile_swap_after_compile(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, out, SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_set_workdir(p, out));
    static const char *const argv[] = {"/bin/sh", "-c", "echo first > f", NULL};
    sbx_result *r = run_ok(p, argv); /* compiles the plan */
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    char moved[160];
    snprintf(moved, sizeof(moved), "%s/out.orig", ws);
    assert_int_equal(rename(out, moved), 0); /* keep the granted directory alive */
    assert_int_equal(symlink(secret, out), 0);
    static const char *const again[] = {"/bin/sh", "-c", "echo pwned > key; pwd", NULL};
    r = run_ok(p, again);
    /* It ran in the directory that was granted, not in the secret one. */
    assert_status(r, SBX_STATUS_EXITED, 0);
    char want[192];
    snprintf(want, sizeof(want), "%s\n", moved);
    assert_string_equal(sbx_result_stdout(r, NULL), want);
    char wrote[192];
    snprintf(wrote, sizeof(wrote), "%s/key", moved);
    struct stat st;
    assert_int_equal(stat(wrote, &st), 0); /* written where the grant really is */
    sbx_result_free(r);
    secret_unchanged();
    sbx_policy_free(p);
}

static void test_grants__hostile_planted_link_in_namespaces(void **state)
{
    (void)state;
    char why[256];
    if (sbx_probe(SBX_FEATURE_MOUNT_NS, why, sizeof(why)) <= 0)
        SBX_SKIP("mount namespaces are not available here: %s", why);
    plant_link(SBX_NS_MOUNT);
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_unshare(p, SBX_NS_MOUNT | SBX_NS_PID));
    assert_sbx_error(sbx_allow_path(p, out, SBX_FS_READ | SBX_FS_WRITE), -ELOOP,
                     "is a symbolic link");
    assert_sbx_ok(sbx_set_workdir(p, out));
    expect_refused_at_spawn(p, "workdir in a mount namespace");
    sbx_policy_free(p);
}

/* In a mount namespace the binds are made by the child from the paths
 * resolved at compile time, following no link: a link swapped in after the
 * compile makes the spawn fail, it never redirects a bind. */
static void test_grants__hostile_swap_after_compile_in_namespaces(void **state)
{
    (void)state;
    char why[256];
    if (sbx_probe(SBX_FEATURE_MOUNT_NS, why, sizeof(why)) <= 0)
        SBX_SKIP("mount namespaces are not available here: %s", why);
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_unshare(p, SBX_NS_MOUNT));
    assert_sbx_ok(sbx_allow_path(p, out, SBX_FS_READ | SBX_FS_WRITE));
    static const char *const argv[] = {"/bin/sh", "-c", "echo first > f", NULL};
    char cwd_script[256];
    snprintf(cwd_script, sizeof(cwd_script), "echo pwned > '%s/key'", out);
    const char *const write_key[] = {"/bin/sh", "-c", cwd_script, NULL};
    sbx_result *r = run_ok(p, argv); /* compiles */
    sbx_result_free(r);
    char moved[160];
    snprintf(moved, sizeof(moved), "%s/out.orig", ws);
    assert_int_equal(rename(out, moved), 0);
    assert_int_equal(symlink(secret, out), 0);
    r = NULL;
    int rc = sbx_run(p, write_key, NULL, 0, &r);
    if (rc != -ELOOP)
        fail_msg("sbx_run returned %d (%s), expected -ELOOP: %s", rc, sbx_errname(rc),
                 r ? describe(r) : sbx_last_error());
    assert_non_null(strstr(sbx_last_error(), out));
    assert_int_equal(sbx_last_error_stage(), SBX_STAGE_NAMESPACES);
    secret_unchanged();
    /* Replaced by another directory (not a link): the bind is refused too. */
    assert_int_equal(unlink(out), 0);
    assert_int_equal(mkdir(out, 0755), 0);
    rc = sbx_run(p, write_key, NULL, 0, &r);
    assert_int_equal(rc, -ESTALE);
    assert_non_null(strstr(sbx_last_error(), "replaced since the policy was compiled"));
    sbx_policy_free(p);
}

/* The system's own links keep working: /bin -> usr/bin, /var/run -> /run. */
static void test_grants__system_links_followed(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    struct stat st;
    assert_sbx_ok(sbx_allow_path(p, "/bin/sh", SBX_FS_READ | SBX_FS_EXEC));
    if (lstat("/var/run", &st) == 0 && S_ISLNK(st.st_mode))
        assert_sbx_ok(sbx_allow_path(p, "/var/run", SBX_FS_READ));
    static const char *const argv[] = {"/bin/sh", "-c", "echo ok", NULL};
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "ok\n");
    sbx_result_free(r);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_grants__hostile_planted_link_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_grants__hostile_swap_before_compile, setup, teardown),
    cmocka_unit_test_setup_teardown(test_grants__hostile_swap_after_compile, setup, teardown),
    cmocka_unit_test_setup_teardown(test_grants__hostile_planted_link_in_namespaces, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_grants__hostile_swap_after_compile_in_namespaces, setup,
                                    teardown),
    cmocka_unit_test(test_grants__system_links_followed),
};

SBX_TEST_MAIN(tests)
