/* Overlay change lists and apply (overlay.c) on upper directories made by
 * hand, as overlayfs makes them: whiteouts (character devices 0/0), opaque
 * directories (user.overlay.opaque = "y"), copied-up files. No sandbox is
 * needed; the live suite (tests/live/test_overlay.c) runs real overlays. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "testutil.h"

#include <agentsbx/agentsbx.h>

static char scratch[64];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/agentsbx-ovlu.XXXXXX");
    return mkdtemp(scratch) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static const char *at(const char *rel)
{
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 256, "%s/%s", scratch, rel);
    return b;
}

static void put(const char *rel, const char *text, mode_t mode)
{
    FILE *f = fopen(at(rel), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(at(rel), mode), 0);
}

static void dir(const char *rel)
{
    assert_int_equal(mkdir(at(rel), 0755), 0);
}

static void whiteout(const char *rel)
{
    if (mknod(at(rel), S_IFCHR, makedev(0, 0)) != 0)
        SBX_SKIP("a whiteout (mknod of a character device 0/0) cannot be made here: %s",
                 strerror(errno));
}

static void list(const char *lower, const char *upper, char *out, size_t size)
{
    sbx_changes *c = NULL;
    assert_sbx_ok(sbx_overlay_changes(lower, upper, &c));
    out[0] = '\0';
    for (size_t i = 0; i < sbx_changes_count(c); i++) {
        const char *path;
        int kind, type;
        assert_sbx_ok(sbx_changes_get(c, i, &path, &kind, &type));
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s %s %s\n", sbx_change_kind_name(kind),
                 sbx_file_type_name(type), path);
    }
    sbx_changes_free(c);
}

/* lower: the tree before; upper: what overlayfs leaves after an edit. */
static void make_pair(void)
{
    dir("l");
    put("l/f_same", "a\n", 0644);
    put("l/f_mod", "a\n", 0644);
    put("l/f_chmod", "a\n", 0644);
    put("l/f_del", "a\n", 0644);
    dir("l/d_del");
    put("l/d_del/x", "x\n", 0644);
    dir("l/d_opq");
    put("l/d_opq/old", "o\n", 0644);
    put("l/d_opq/keep", "k\n", 0644);
    assert_int_equal(symlink("t1", at("l/lnk")), 0);
    put("l/typechg", "t\n", 0644);
    dir("l/deep");
    dir("l/deep/a");
    put("l/deep/a/b", "b\n", 0644);

    dir("u");
    put("u/f_same", "a\n", 0644); /* rewritten with the same bytes: copied up */
    put("u/f_mod", "b\n", 0644);
    put("u/f_chmod", "a\n", 0600);
    whiteout("u/f_del");
    whiteout("u/d_del");
    dir("u/d_opq");
    if (setxattr(at("u/d_opq"), "user.overlay.opaque", "y", 1, 0) != 0)
        SBX_SKIP("user.overlay.opaque cannot be set here: %s", strerror(errno));
    put("u/d_opq/keep", "k\n", 0644);
    put("u/d_opq/new", "n\n", 0644);
    assert_int_equal(symlink("t2", at("u/lnk")), 0);
    dir("u/typechg");
    dir("u/added");
    put("u/added/z", "z\n", 0644);
    dir("u/deep"); /* copied up on the way, nothing changed */
    dir("u/deep/a");
}

static void test_overlay__changes_hand_built(void **state)
{
    (void)state;
    make_pair();
    char got[2048];
    list(at("l"), at("u"), got, sizeof(got));
    assert_string_equal(got, "added dir added\n"
                             "added file added/z\n"
                             "deleted dir d_del\n"
                             "deleted file d_del/x\n"
                             "added file d_opq/new\n"
                             "deleted file d_opq/old\n"
                             "modified file f_chmod\n"
                             "deleted file f_del\n"
                             "modified file f_mod\n"
                             "modified symlink lnk\n"
                             "deleted file typechg\n"
                             "added dir typechg\n");
}

static void test_overlay__apply_hand_built(void **state)
{
    (void)state;
    make_pair();
    assert_sbx_ok(sbx_overlay_apply(at("l"), at("u")));
    /* the lower tree is what the child saw: nothing is a change any more */
    char got[2048];
    list(at("l"), at("u"), got, sizeof(got));
    assert_string_equal(got, "");
    struct stat st;
    assert_int_equal(lstat(at("l/f_del"), &st), -1);
    assert_int_equal(lstat(at("l/d_del"), &st), -1);
    assert_int_equal(lstat(at("l/d_opq/old"), &st), -1);
    assert_int_equal(lstat(at("l/typechg"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(lstat(at("l/f_chmod"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char target[16] = "";
    assert_int_equal(readlink(at("l/lnk"), target, sizeof(target)), 2);
    assert_memory_equal(target, "t2", 2);
    assert_int_equal(lstat(at("l/deep/a/b"), &st), 0);
    /* nothing written beside is left */
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s' -name '.agentsbx-apply.*')\"", at("l"));
    assert_int_equal(system(cmd), 0);
}

/* A link of the lower tree where the upper one has a directory, and a link
 * in the upper tree: apply follows neither. The control: a plain recursive
 * copy writes through the lower link, outside the tree. */
static void test_overlay__apply_never_follows_links(void **state)
{
    (void)state;
    for (int twin = 0; twin < 2; twin++) {
        const char *l = twin ? "l2" : "l", *out = twin ? "out2" : "out";
        char path[64], target[256];
        dir(out);
        dir(l);
        snprintf(path, sizeof(path), "%s/s", l);
        snprintf(target, sizeof(target), "%s", at(out));
        assert_int_equal(symlink(target, at(path)), 0);
    }
    dir("u");
    dir("u/s");
    put("u/s/f", "f\n", 0644);
    char target[256];
    snprintf(target, sizeof(target), "%s/x", at("out"));
    assert_int_equal(symlink(target, at("u/l")), 0);
    /* the control: a copy by path writes through the lower link, outside */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp '%s/s/f' '%s/s/f'", at("u"), at("l2"));
    assert_int_equal(system(cmd), 0);
    struct stat st;
    assert_int_equal(stat(at("out2/f"), &st), 0);
    /* the apply */
    assert_sbx_ok(sbx_overlay_apply(at("l"), at("u")));
    assert_int_equal(lstat(at("out/f"), &st), -1);
    assert_int_equal(lstat(at("out/s"), &st), -1);
    assert_int_equal(lstat(at("out/x"), &st), -1);
    assert_int_equal(lstat(at("l/s"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(lstat(at("l/s/f"), &st), 0);
    assert_int_equal(lstat(at("l/l"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

/* Apply drops set-user-ID and set-group-ID bits, and fills a read-only
 * directory before it makes it read-only. */
static void test_overlay__apply_modes(void **state)
{
    (void)state;
    dir("l");
    dir("u");
    put("u/tool", "#!/bin/sh\n", 0755);
    assert_int_equal(chmod(at("u/tool"), 06755), 0);
    struct stat st;
    assert_int_equal(stat(at("u/tool"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 06755); /* the control: the bits are there */
    dir("u/ro");
    put("u/ro/f", "f\n", 0644);
    assert_int_equal(chmod(at("u/ro"), 0555), 0);
    assert_sbx_ok(sbx_overlay_apply(at("l"), at("u")));
    assert_int_equal(stat(at("l/tool"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(stat(at("l/ro"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0555);
    assert_int_equal(stat(at("l/ro/f"), &st), 0);
    char got[256];
    list(at("l"), at("u"), got, sizeof(got));
    assert_string_equal(got, "modified file tool\n"); /* the bits not carried, still listed */
    assert_int_equal(chmod(at("u/ro"), 0755), 0);
    assert_int_equal(chmod(at("l/ro"), 0755), 0);
}

/* A fifo in the upper tree is refused before anything changes. */
static void test_overlay__apply_refuses_fifo(void **state)
{
    (void)state;
    dir("l");
    dir("u");
    put("u/a_new", "n\n", 0644);
    assert_int_equal(mkfifo(at("u/p"), 0644), 0);
    char needle[256];
    snprintf(needle, sizeof(needle), "a fifo, socket or device (not applied): p");
    assert_sbx_error(sbx_overlay_apply(at("l"), at("u")), -EOPNOTSUPP, needle);
    struct stat st;
    assert_int_equal(lstat(at("l/a_new"), &st), -1);
    char got[256];
    list(at("l"), at("u"), got, sizeof(got));
    assert_string_equal(got, "added file a_new\nadded other p\n");
}

static void test_overlay__discard(void **state)
{
    (void)state;
    dir("u");
    dir("u/d");
    assert_int_equal(chmod(at("u/d"), 0), 0); /* as an overlay's work directory */
    put("u/f", "f\n", 0644);
    assert_int_equal(symlink("/etc", at("u/etc")), 0);
    assert_sbx_ok(sbx_overlay_discard(at("u")));
    struct stat st;
    assert_int_equal(lstat(at("u"), &st), -1);
    assert_int_equal(stat("/etc/passwd", &st), 0); /* the link was not followed */
}

static void test_overlay__bad_input(void **state)
{
    (void)state;
    dir("l");
    dir("l/in");
    put("file", "f\n", 0644);
    sbx_changes *c = NULL;
    assert_sbx_error(sbx_overlay_changes(NULL, at("l"), &c), -EINVAL, "lower directory is NULL");
    assert_sbx_error(sbx_overlay_changes(at("l"), "rel", &c), -EINVAL,
                     "rel): the upper directory is not an absolute path");
    assert_sbx_error(sbx_overlay_changes(at("l"), at("l"), NULL), -EINVAL, "ret is NULL");
    assert_sbx_error(sbx_overlay_changes(at("nope"), at("l"), &c), -ENOENT, at("nope"));
    assert_sbx_error(sbx_overlay_changes(at("l"), at("file"), &c), -ENOTDIR, at("file"));
    assert_null(c);
    assert_sbx_error(sbx_overlay_apply(at("l"), NULL), -EINVAL, "upper directory is NULL");
    assert_sbx_error(sbx_overlay_apply(at("nope"), at("l")), -ENOENT, at("nope"));
    assert_sbx_error(sbx_overlay_discard(NULL), -EINVAL, "upper directory is NULL");
    assert_sbx_error(sbx_overlay_discard("u"), -EINVAL, "not an absolute path");
    assert_sbx_error(sbx_overlay_discard(at("nope")), -ENOENT, at("nope"));
    assert_sbx_error(sbx_overlay_discard(at("file")), -ENOTDIR, at("file"));
    assert_sbx_error(sbx_overlay_discard("/"), -EINVAL, "refusing to remove '/'");
    assert_sbx_error(sbx_changes_get(NULL, 0, NULL, NULL, NULL), -EINVAL, "changes is NULL");
    assert_sbx_ok(sbx_overlay_changes(at("l"), at("l"), &c));
    assert_int_equal(sbx_changes_count(c), 0);
    assert_sbx_error(sbx_changes_get(c, 0, NULL, NULL, NULL), -ERANGE, "out of range");
    sbx_changes_free(c);
    sbx_changes_free(NULL);
    assert_int_equal(sbx_changes_count(NULL), 0);
    assert_null(sbx_change_kind_name(0));
    assert_null(sbx_change_kind_name(4));
    assert_null(sbx_file_type_name(0));
    assert_null(sbx_file_type_name(5));
    assert_string_equal(sbx_change_kind_name(SBX_CHANGE_MODIFIED), "modified");
    assert_string_equal(sbx_file_type_name(SBX_FILE_SYMLINK), "symlink");

    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_error(sbx_overlay(NULL, at("l"), NULL), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_overlay(p, NULL, NULL), -EINVAL, "lower is NULL");
    assert_sbx_error(sbx_overlay(p, "rel", NULL), -EINVAL, "sbx_overlay(rel): the lower");
    assert_sbx_error(sbx_overlay(p, "/", NULL), -EINVAL, "sbx_overlay(/): the lower");
    assert_sbx_error(sbx_overlay(p, at("nope"), NULL), -ENOENT, at("nope"));
    assert_sbx_error(sbx_overlay(p, at("file"), NULL), -ENOTDIR, "is not a directory");
    assert_sbx_error(sbx_overlay(p, at("l"), "up"), -EINVAL, "the upper directory is not");
    assert_sbx_error(sbx_overlay(p, at("l"), at("l/in/up")), -EINVAL, "overlap");
    assert_sbx_error(sbx_overlay(p, at("l/in"), at("l")), -EINVAL, "overlap");
    assert_sbx_error(sbx_overlay(p, at("l"), at("file/up")), -ENOTDIR, "parent");
    assert_sbx_error(sbx_overlay(p, at("l"), at("nope/up")), -ENOENT, "parent");
    assert_sbx_error(sbx_overlay(p, at("l"), at("file")), -ENOTDIR, "not a directory");
    assert_sbx_ok(sbx_overlay(p, at("l"), at("up")));
    assert_sbx_error(sbx_overlay(p, at("l/in"), NULL), -EINVAL, "overlaps the overlay of");
    assert_sbx_error(sbx_overlay(p, scratch, NULL), -EINVAL, "overlaps the overlay of");
    for (int i = 1; i < SBX_OVERLAY_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%d", i);
        dir(name);
        assert_sbx_ok(sbx_overlay(p, at(name), NULL));
    }
    dir("last");
    assert_sbx_error(sbx_overlay(p, at("last"), NULL), -E2BIG, "more than 8 overlays");
    sbx_policy_free(p);

    const char *s = NULL;
    assert_int_equal(sbx_result_overlay_count(NULL), 0);
    assert_sbx_error(sbx_result_overlay(NULL, 0, &s, &s), -EINVAL, "result is NULL");
}

/* Policy files: "overlays": [{"path", "upper"}]; written back the same, copied by sbx_policy_dup().
 */
static void test_overlay__policy_file(void **state)
{
    (void)state;
    dir("l");
    dir("m");
    char json[1024], out[4096];
    snprintf(json, sizeof(json),
             "{\"version\": 1, \"overlays\": [{\"path\": \"%s\", \"upper\": \"%s\"}, "
             "{\"path\": \"%s\"}]}",
             at("l"), at("up"), at("m"));
    sbx_policy *p = NULL, *q = NULL, *d = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_policy_load_json(p, json));
    assert_true(sbx_policy_to_json(p, out, sizeof(out)) > 0);
    char want[512];
    snprintf(want, sizeof(want),
             "\"overlays\": [\n    {\n      \"path\": \"%s\",\n      \"upper\": \"%s\"\n    },\n"
             "    {\n      \"path\": \"%s\"\n    }\n  ]",
             at("l"), at("up"), at("m"));
    if (!strstr(out, want))
        fail_msg("policy JSON lacks\n%s\nin\n%s", want, out);
    assert_sbx_ok(sbx_policy_new(&q));
    assert_sbx_ok(sbx_policy_load_json(q, out));
    char again[4096];
    assert_true(sbx_policy_to_json(q, again, sizeof(again)) > 0);
    assert_string_equal(out, again);
    assert_sbx_ok(sbx_policy_dup(p, &d));
    assert_true(sbx_policy_to_json(d, again, sizeof(again)) > 0);
    assert_string_equal(out, again);
    sbx_policy_free(d);
    sbx_policy_free(q);
    sbx_policy_free(p);

    /* bad documents: the member named, nothing applied */
    static const struct {
        const char *json, *message;
        int err;
    } bad[] = {
        {"{\"version\": 1, \"overlays\": {}}", "$.overlays: expected an array of overlays",
         -EINVAL},
        {"{\"version\": 1, \"overlays\": [{\"upper\": \"/x\"}]}",
         "$.overlays[0].path: missing (every overlay has a path)", -EINVAL},
        {"{\"version\": 1, \"overlays\": [{\"path\": \"/usr\", \"upper\": 3}]}",
         "$.overlays[0].upper: expected an absolute path", -EINVAL},
        {"{\"version\": 1, \"overlays\": [{\"path\": \"/nonexistent-ovl\"}]}",
         "sbx_overlay(/nonexistent-ovl)", -ENOENT},
        {"{\"version\": 1, \"overlays\": [{\"path\": \"/usr\", \"size\": 3}]}",
         "$.overlays[0].size", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_sbx_ok(sbx_policy_new(&p));
        assert_sbx_error(sbx_policy_load_json(p, bad[i].json), bad[i].err, bad[i].message);
        assert_true(sbx_policy_to_json(p, out, sizeof(out)) > 0);
        assert_null(strstr(out, "overlays"));
        sbx_policy_free(p);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_overlay__policy_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__changes_hand_built, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__apply_hand_built, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__apply_never_follows_links, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__apply_refuses_fifo, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__apply_modes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__discard, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay__bad_input, setup, teardown),
};

SBX_TEST_MAIN(tests)
