/* Unit tests of policy files and profiles (include/agentsbx/policy_json.h):
 * policy -> JSON -> policy round trips over every builder call, the exact
 * document of the defaults, every rejection path (each key's type, ranges,
 * unknown keys at each level, the version, JSON syntax with line and column,
 * files that cannot be read), all-or-nothing loading, and each built-in
 * profile's contents. No child is spawned (tests/live/test_profiles.c runs
 * the profiles for real). Reads struct sbx_policy (lib/internal.h) to compare
 * what two policies hold. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "internal.h"
#include "outfilter.h"
#include "seccomp_layer.h"
#include "testutil.h"

static sbx_policy *policy_new(void)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    return p;
}

/* The policy's document (static buffer). */
static const char *to_json(const sbx_policy *p)
{
    static char buf[2][65536];
    static int which;
    char *b = buf[which++ % 2];
    int n = sbx_policy_to_json(p, b, sizeof(buf[0]));
    if (n < 0 || (size_t)n >= sizeof(buf[0]))
        fail_msg("sbx_policy_to_json: %d: %s", n, sbx_last_error());
    assert_int_equal(strlen(b), (size_t)n);
    return b;
}

/* Load `json` into a new policy; it must succeed. */
static sbx_policy *loaded(const char *json)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_policy_load_json(p, json));
    return p;
}

/* A document with only an "output" object holding `members`. */
#define V1_OUTPUT(members) "{\"version\": 1, \"output\": {" members "}}"

/* The first cgroup or cgroup2 mount point, or NULL. */
static const char *cgroup_dir(void)
{
    static char dir[256];
    FILE *f = fopen("/proc/self/mounts", "r");
    char dev[256], type[64];
    if (!f)
        return NULL;
    while (fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3) {
        if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
            fclose(f);
            return dir;
        }
    }
    fclose(f);
    return NULL;
}

/* Every builder call that a document can express. */
static sbx_policy *every_setter(void)
{
    sbx_policy *p = policy_new();
    setenv("SBX_JSON_TEST_PASSED", "from the host", 1);
    assert_sbx_ok(sbx_set_workdir(p, "/tmp"));
    assert_sbx_ok(sbx_set_env(p, "FOO", "bar \"quoted\" \\ /slash\n\x01"));
    assert_sbx_ok(sbx_set_env(p, "LANG", "de_DE.UTF-8"));
    assert_sbx_ok(sbx_pass_env(p, "SBX_JSON_TEST_PASSED"));
    assert_sbx_ok(sbx_unset_env(p, "HOME"));
    assert_sbx_ok(sbx_limit_cpu_time(p, 7));
    assert_sbx_ok(sbx_limit_wall_time(p, 2500));
    assert_sbx_ok(sbx_limit_memory(p, 300ull << 20));
    assert_sbx_ok(sbx_limit_open_files(p, 77));
    assert_sbx_ok(sbx_limit_file_size(p, 12345));
    assert_sbx_ok(sbx_limit_processes(p, 33));
    assert_sbx_ok(sbx_limit_output(p, 1ull << 30));
    assert_sbx_ok(sbx_limit_cpu_rate(p, 1500));
    assert_sbx_ok(sbx_set_best_effort(p, SBX_LAYER_LANDLOCK | SBX_LAYER_CGROUP));
    assert_sbx_ok(sbx_set_die_with_parent(p, 0));
    assert_sbx_ok(sbx_prepare_ahead(p, 1));
    assert_sbx_ok(sbx_allow_path(p, "/usr/share", SBX_FS_READ));
    assert_sbx_ok(sbx_allow_path(p, "/var/tmp", SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_allow_path(p, "/opt", SBX_FS_EXEC));
    assert_sbx_ok(sbx_allow_path(p, "/nonexistent/optional",
                                 SBX_FS_READ | SBX_FS_WRITE | SBX_FS_EXEC | SBX_FS_OPTIONAL));
    assert_sbx_ok(sbx_allow_tool(p, "sh"));
    assert_sbx_ok(sbx_allow_connect(p, 443));
    assert_sbx_ok(sbx_allow_connect(p, 443)); /* twice: written once */
    assert_sbx_ok(sbx_allow_connect(p, 8080));
    assert_sbx_ok(sbx_allow_bind(p, 0));
    assert_sbx_ok(sbx_allow_network(p));
    assert_sbx_ok(sbx_set_private_tmp(p, 0));
    assert_sbx_ok(sbx_set_tmp_parent(p, "/tmp"));
    assert_sbx_ok(sbx_deny_syscall(p, "ptrace", EACCES));
    assert_sbx_ok(sbx_deny_syscall(p, "mknod", SBX_SYSCALL_KILL));
    assert_sbx_ok(sbx_deny_syscall(p, "chown", 4000)); /* no errno name */
    assert_sbx_ok(sbx_allow_syscall(p, "clone3"));
    assert_sbx_ok(sbx_set_syscall_allowlist(p, 1));
    assert_sbx_ok(sbx_set_violation_monitor(p, 0));
    assert_sbx_ok(sbx_set_exec_reporting(p, 1));
    assert_sbx_ok(sbx_set_diagnose(p, 1));
    assert_sbx_ok(sbx_set_violation_limit(p, 9));
    assert_sbx_ok(sbx_set_violation_rate(p, 0));
    assert_sbx_ok(sbx_set_audit_limit(p, 64 * 1024));
    assert_sbx_ok(sbx_use_cgroup(p, 1));
    const char *cg = cgroup_dir();
    if (cg)
        assert_sbx_ok(sbx_set_cgroup_parent(p, cg));
    assert_sbx_ok(sbx_unshare(p, SBX_NS_USER | SBX_NS_PID | SBX_NS_NET));
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_FULL));
    assert_sbx_ok(sbx_set_exec_mode(p, SBX_EXEC_SYSTEM));
    assert_sbx_ok(sbx_keep_capability(p, "net_bind_service"));
    assert_sbx_ok(sbx_keep_capability(p, "CAP_CHOWN"));
    assert_sbx_ok(sbx_set_redact_patterns(p, 0));
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_TAGS, SBX_UNICODE_ESCAPE));
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_INVALID_UTF8, SBX_UNICODE_REPLACE));
    return p;
}

/* What two policies hold, field by field (callbacks aside). */
static void assert_same_policy(const sbx_policy *a, const sbx_policy *b)
{
    assert_string_equal(a->workdir ? a->workdir : "(none)", b->workdir ? b->workdir : "(none)");
    assert_int_equal(a->n_env, b->n_env);
    for (size_t i = 0; i < a->n_env; i++) {
        const struct sbx__env_entry *e = NULL;
        for (size_t k = 0; k < b->n_env; k++)
            if (strcmp(a->env[i].name, b->env[k].name) == 0)
                e = &b->env[k];
        assert_non_null(e);
        assert_string_equal(a->env[i].value ? a->env[i].value : "(auto)",
                            e->value ? e->value : "(auto)");
    }
    assert_memory_equal(a->limits, b->limits, sizeof(a->limits));
    assert_int_equal(a->wall_ms, b->wall_ms);
    assert_int_equal(a->output_limit, b->output_limit);
    assert_int_equal(a->best_effort, b->best_effort);
    assert_int_equal(a->die_with_parent, b->die_with_parent);
    assert_int_equal(a->prepare_ahead, b->prepare_ahead);
    assert_int_equal(a->n_grants, b->n_grants);
    for (size_t i = 0; i < a->n_grants; i++) {
        assert_string_equal(a->grants[i].path, b->grants[i].path);
        assert_int_equal(a->grants[i].access, b->grants[i].access);
    }
    assert_int_equal(a->allow_network, b->allow_network);
    assert_int_equal(a->private_tmp, b->private_tmp);
    assert_string_equal(a->tmp_parent ? a->tmp_parent : "(none)",
                        b->tmp_parent ? b->tmp_parent : "(none)");
    assert_int_equal(a->namespaces, b->namespaces);
    assert_int_equal(a->isolation, b->isolation);
    assert_int_equal(a->exec_system, b->exec_system);
    assert_int_equal(a->keep_caps, b->keep_caps);
    assert_int_equal(a->use_cgroup, b->use_cgroup);
    assert_int_equal(a->n_cg_parents, b->n_cg_parents);
    assert_int_equal(a->output && a->output->patterns_off, b->output && b->output->patterns_off);
    assert_int_equal(a->output ? a->output->escapes : SBX_ESCAPES_KEEP,
                     b->output ? b->output->escapes : SBX_ESCAPES_KEEP);
    assert_int_equal(a->output ? a->output->audit_limit : 0,
                     b->output ? b->output->audit_limit : 0);
    for (int cls = 0; cls < 4; cls++)
        assert_int_equal(a->output ? a->output->unicode[cls] : SBX_UNICODE_KEEP,
                         b->output ? b->output->unicode[cls] : SBX_UNICODE_KEEP);
    assert_int_equal(!a->seccomp, !b->seccomp);
    if (a->seccomp) {
        assert_int_equal(a->seccomp->allowlist, b->seccomp->allowlist);
        assert_int_equal(a->seccomp->monitor_off, b->seccomp->monitor_off);
        assert_int_equal(a->seccomp->violation_limit, b->seccomp->violation_limit);
        assert_int_equal(a->seccomp->violation_rate, b->seccomp->violation_rate);
        assert_int_equal(a->seccomp->n_rules, b->seccomp->n_rules);
        for (size_t i = 0; i < a->seccomp->n_rules; i++) {
            size_t k = 0;
            while (k < b->seccomp->n_rules && b->seccomp->rules[k].nr != a->seccomp->rules[i].nr)
                k++;
            assert_true(k < b->seccomp->n_rules);
            assert_int_equal(a->seccomp->rules[i].error, b->seccomp->rules[k].error);
        }
    }
}

/* ---- round trips ------------------------------------------------------------------------ */

static void test_policy_json__new_policy_writes_version_only(void **state)
{
    sbx_policy *p = policy_new();
    assert_string_equal(to_json(p), "{\n  \"version\": 1\n}\n");
    sbx_policy_free(p);
}

static void test_policy_json__round_trip_every_setter(void **state)
{
    sbx_policy *p = every_setter();
    char first[65536];
    snprintf(first, sizeof(first), "%s", to_json(p));
    sbx_policy *q = loaded(first);
    assert_string_equal(to_json(q), first);
    assert_same_policy(p, q);
    /* The document says what was set, in its documented forms. */
    const char *needles[] = {
        "\"workdir\": \"/tmp\"",
        "\"FOO\": \"bar \\\"quoted\\\" \\\\ /slash\\n\\u0001\"",
        "\"LANG\": \"de_DE.UTF-8\"",
        "\"SBX_JSON_TEST_PASSED\": \"from the host\"",
        "\"unset\": [\n      \"HOME\"",
        "\"cpu\": \"7s\"",
        "\"wall\": \"2500ms\"",
        "\"memory\": \"300M\"",
        "\"open_files\": 77",
        "\"file_size\": 12345",
        "\"processes\": 33",
        "\"output\": \"1G\"",
        "\"cpu_rate\": 1500",
        "\"landlock\"",
        "\"cgroup\"",
        "\"die_with_parent\": false",
        "\"prepare_ahead\": true",
        "\"path\": \"/nonexistent/optional\"",
        "\"optional\"",
        "\"connect\": [\n      443,\n      8080\n    ]",
        "\"unrestricted\": true",
        "\"private_tmp\": false",
        "\"tmp_parent\": \"/tmp\"",
        "\"ptrace\": \"EACCES\"",
        "\"mknod\": \"kill\"",
        "\"chown\": 4000",
        "\"clone3\"",
        "\"allowlist\": true",
        "\"monitor\": false",
        "\"exec_report\": true",
        "\"diagnose\": true",
        "\"violation_limit\": 9",
        "\"violation_rate\": 0",
        "\"enabled\": true",
        "\"isolation\": \"full\"",
        "\"exec\": \"system\"",
        "\"namespaces\": [\n    \"user\",\n    \"pid\",\n    \"net\"\n  ]",
        "\"capabilities\": {\n    \"keep\": [\n      \"CAP_CHOWN\",\n      "
        "\"CAP_NET_BIND_SERVICE\"\n    ]",
        "\"output\": {\n    \"redact_patterns\": false,\n    \"escapes\": \"neutralise\",\n    "
        "\"audit_limit\": \"64K\",\n    \"unicode\": {\n      \"tags\": \"escape\",\n      "
        "\"invalid_utf8\": \"replace\"\n    }\n  }",
    };
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
        if (!strstr(first, needles[i]))
            fail_msg("the document lacks %s:\n%s", needles[i], first);
    sbx_policy_free(p);
    sbx_policy_free(q);
}

static void test_policy_json__round_trip_cgroup_parent(void **state)
{
    const char *cg = cgroup_dir();
    if (!cg)
        SBX_SKIP("no cgroup or cgroup2 file system is mounted here");
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_cgroup_parent(p, cg));
    const char *json = to_json(p);
    assert_non_null(strstr(json, cg));
    sbx_policy *q = loaded(json);
    assert_string_equal(to_json(q), json);
    assert_int_equal(q->n_cg_parents, 1);
    assert_string_equal(q->cg_parents[0], cg);
    sbx_policy_free(p);
    sbx_policy_free(q);
}

/* "prepare_ahead": true, false or "auto" (the default, not written). */
static void test_policy_json__round_trip_prepare_ahead_modes(void **state)
{
    (void)state;
    static const struct {
        int mode;
        const char *written;
    } modes[] = {{SBX_PREPARE_AHEAD_ON, "\"prepare_ahead\": true"},
                 {SBX_PREPARE_AHEAD_OFF, "\"prepare_ahead\": false"},
                 {SBX_PREPARE_AHEAD_AUTO, NULL}};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        sbx_policy *p = policy_new();
        assert_sbx_ok(sbx_prepare_ahead(p, modes[i].mode));
        const char *json = to_json(p);
        if (modes[i].written)
            assert_non_null(strstr(json, modes[i].written));
        else
            assert_null(strstr(json, "prepare_ahead"));
        sbx_policy *q = loaded(json);
        assert_int_equal(q->prepare_ahead, modes[i].mode);
        assert_string_equal(to_json(q), json);
        sbx_policy_free(p);
        sbx_policy_free(q);
    }
}

static void test_policy_json__round_trip_deny(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_deny_path(p, "/etc/group", SBX_FS_READ));
    assert_sbx_ok(sbx_deny_path(p, "/nonexistent/ws/.git/hooks", SBX_FS_WRITE));
    assert_sbx_ok(sbx_deny_path(p, "/nonexistent/ws/.env", SBX_FS_READ | SBX_FS_WRITE));
    const char *json = to_json(p);
    assert_non_null(strstr(json, "\"deny\": [\n    {\n      \"path\": \"/etc/group\",\n      "
                                 "\"access\": [\n        \"read\"\n      ]"));
    assert_non_null(strstr(json, "\"access\": [\n        \"read\",\n        \"write\"\n"));
    sbx_policy *q = loaded(json);
    assert_string_equal(to_json(q), json);
    assert_int_equal(sbx_policy_denied_count(q), 3);
    const char *path;
    uint64_t access;
    assert_sbx_ok(sbx_policy_denied(q, 1, &path, &access));
    assert_string_equal(path, "/nonexistent/ws/.git/hooks");
    assert_int_equal(access, SBX_FS_WRITE);
    sbx_policy_free(p);
    sbx_policy_free(q);
}

/* Tools with argument rules: written as rules, the library's own grants (the
 * shims') left out; loading it back gives the same document. */
static void test_policy_json__round_trip_tool_rules(void **state)
{
    (void)state;
    if (access("/usr/bin/git", X_OK) != 0 || access("/usr/bin/make", X_OK) != 0)
        SBX_SKIP("git or make is not installed");
    sbx_policy *p = loaded("{\"version\": 1, \"tools\": {\"git\": {\"allow\": [\"status *\", "
                           "\"log *\"], \"deny_options\": [\"-c\"]}, \"make\": true}}");
    const char *json = to_json(p);
    assert_non_null(strstr(json, "\"tools\": {\n    \"git\": {\n      \"allow\": [\n        "
                                 "\"status *\",\n        \"log *\"\n      ],\n      "
                                 "\"deny_options\": [\n        \"-c\"\n      ]\n    }\n  }"));
    assert_null(strstr(json, "agentsbx-shim"));
    assert_non_null(strstr(json, "/usr/bin/make")); /* a plain tool: its grants */
    sbx_policy *q = loaded(json);
    assert_string_equal(to_json(q), json);
    sbx_policy_free(q);
    sbx_policy_free(p);
    /* bad input, named */
    p = policy_new();
    assert_sbx_error(sbx_policy_load_json(p, "{\"version\": 1, \"tools\": {\"git\": {}}}"), -EINVAL,
                     "$.tools.git: missing \"allow\"");
    assert_sbx_error(
        sbx_policy_load_json(p, "{\"version\": 1, \"tools\": {\"git\": {\"allow\": [1]}}}"),
        -EINVAL, "$.tools.git.allow[0]: expected a string");
    assert_sbx_error(sbx_policy_load_json(p, "{\"version\": 1, \"tools\": {\"git\": false}}"),
                     -EINVAL, "$.tools.git");
    sbx_policy_free(p);
}

static void test_policy_json__round_trip_protected(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_null(strstr(to_json(p), "protected")); /* the default list: not written */
    assert_sbx_ok(sbx_unprotect(p, ".bashrc"));
    assert_sbx_ok(sbx_protect_path(p, ".env"));
    const char *json = to_json(p);
    assert_non_null(strstr(json, "\"protected\": [\n    \".bash_profile\""));
    assert_non_null(strstr(json, "\".env\"\n  ]"));
    assert_null(strstr(json, "\".bashrc\""));
    sbx_policy *q = loaded(json);
    assert_string_equal(to_json(q), json);
    sbx_policy_free(q);
    /* a list replaces the effective one */
    q = loaded("{\"version\": 1, \"protected\": [\".git/config\", \"secrets/key\"]}");
    const char *name;
    assert_sbx_ok(sbx_policy_protected(q, 0, &name));
    assert_string_equal(name, ".git/config");
    assert_sbx_ok(sbx_policy_protected(q, 1, &name));
    assert_string_equal(name, "secrets/key");
    assert_sbx_error(sbx_policy_protected(q, 2, &name), -ERANGE, "past the end");
    sbx_policy_free(q);
    sbx_policy_free(p);
}

static void test_policy_json__round_trip_finer_write_rights(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, "/usr/share", SBX_FS_READ | SBX_FS_WRITE_FILE | SBX_FS_CREATE));
    assert_sbx_ok(sbx_allow_path(p, "/usr/lib",
                                 SBX_FS_TRUNCATE | SBX_FS_REMOVE | SBX_FS_MAKE_SYMLINK |
                                     SBX_FS_MAKE_SPECIAL | SBX_FS_REFER | SBX_FS_IOCTL_DEV));
    const char *json = to_json(p);
    assert_non_null(strstr(json, "\"read\",\n        \"write_file\",\n        \"create\"\n"));
    assert_non_null(strstr(json, "\"truncate\",\n        \"remove\",\n        \"symlink\",\n   "
                                 "     \"special\",\n        \"refer\",\n        \"ioctl_dev\"\n"));
    sbx_policy *q = loaded(json);
    assert_string_equal(to_json(q), json);
    sbx_policy_free(q);
    assert_sbx_error(sbx_allow_path(p, "/usr", 1ull << 20), -EINVAL, "access grants nothing");
    assert_sbx_error(sbx_allow_path(p, "/usr", SBX_FS_READ | (1ull << 20)), -EINVAL,
                     "unknown access bits 0x100000");
    sbx_policy_free(p);
}

static void test_policy_json__round_trip_binds_tmpfs(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_bind(p, "/usr/share", "/workspace", SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_bind(p, "/usr/bin", "/opt/tools", SBX_FS_READ | SBX_FS_EXEC));
    assert_sbx_ok(sbx_tmpfs(p, "/scratch", 64 << 20));
    assert_sbx_ok(sbx_tmpfs(p, "/cache", 0));
    const char *json = to_json(p);
    assert_non_null(strstr(json, "\"source\": \"/usr/share\",\n      \"dest\": \"/workspace\""));
    assert_non_null(strstr(json, "\"path\": \"/scratch\",\n      \"size\": \"64M\""));
    sbx_policy *q = loaded(json);
    assert_string_equal(to_json(q), json);
    sbx_policy_free(q);
    sbx_policy_free(p);
}

static void test_policy_json__round_trip_unix_sockets(void **state)
{
    char dir[] = "/tmp/agentsbx-json-sock.XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_unix_socket(p, path));
    sbx_policy *copy = NULL; /* sbx_policy_dup() copies the grant */
    assert_sbx_ok(sbx_policy_dup(p, &copy));
    assert_int_equal(copy->n_unix_sockets, 1);
    assert_string_equal(copy->unix_sockets[0], path);
    assert_ptr_not_equal(copy->unix_sockets[0], p->unix_sockets[0]);
    sbx_policy_free(copy);
    assert_sbx_error(sbx_allow_unix_socket(p, dir), -ENOTSOCK, "not a unix socket");
    assert_sbx_error(sbx_allow_unix_socket(p, "relative"), -EINVAL, "not an absolute path");
    assert_sbx_error(sbx_allow_unix_socket(p, "/nonexistent/sock"), -ENOENT, "/nonexistent/sock");
    assert_sbx_error(sbx_allow_unix_socket(NULL, path), -EINVAL, "policy is NULL");
    const char *json = to_json(p);
    char needle[96];
    snprintf(needle, sizeof(needle), "\"unix_sockets\": [\n    \"%s\"", path);
    assert_non_null(strstr(json, needle));
    sbx_policy *q = loaded(json);
    assert_string_equal(to_json(q), json);
    assert_int_equal(q->n_unix_sockets, 1);
    sbx_policy_free(p);
    sbx_policy_free(q);
    close(fd);
    unlink(path);
    rmdir(dir);
}

/* Regression (fuzz_policy_json): a rule on a system call newer than
 * libseccomp's table (mseal, 462 on x86-64) was written as "syscall_462",
 * which did not load back. */
static void test_policy_json__round_trip_syscall_newer_than_libseccomp(void **state)
{
    sbx_policy *p = policy_new();
    int r = sbx_deny_syscall(p, "mseal", EPERM);
    if (r == -EINVAL)
        SBX_SKIP("this architecture has no name for mseal: %s", sbx_last_error());
    assert_sbx_ok(r);
    const char *json = to_json(p);
    assert_non_null(strstr(json, "\"mseal\""));
    sbx_policy *q = loaded(json);
    assert_string_equal(to_json(q), json);
    sbx_policy_free(p);
    sbx_policy_free(q);
}

/* The default environment is never written out, and whatever is taken out of
 * it comes back the same way. */
static void test_policy_json__round_trip_default_env(void **state)
{
    sbx_policy *p = policy_new();
    /* a default overridden and put back: the default again */
    assert_sbx_ok(sbx_set_env(p, "LANG", "C"));
    assert_sbx_ok(sbx_set_env(p, "LANG", "C.UTF-8"));
    assert_string_equal(to_json(p), "{\n  \"version\": 1\n}\n");
    /* every default removed or overridden: "default": false */
    assert_sbx_ok(sbx_unset_env(p, "LANG"));
    assert_sbx_ok(sbx_unset_env(p, "HOME"));
    assert_sbx_ok(sbx_set_env(p, "PATH", "/bin"));
    const char *json = to_json(p);
    assert_non_null(strstr(json, "\"default\": false"));
    assert_null(strstr(json, "\"unset\""));
    sbx_policy *q = loaded(json);
    assert_same_policy(p, q);
    assert_string_equal(to_json(q), json);
    sbx_policy_free(q);
    /* one default kept: the others listed in "unset" */
    sbx_policy_free(p);
    p = policy_new();
    assert_sbx_ok(sbx_unset_env(p, "PATH"));
    json = to_json(p);
    assert_non_null(strstr(json, "\"unset\": [\n      \"PATH\"\n    ]"));
    q = loaded(json);
    assert_same_policy(p, q);
    sbx_policy_free(q);
    sbx_policy_free(p);
}

/* "default": false removes exactly the defaults; "set", "pass" and "unset" follow. */
static void test_policy_json__env_keys(void **state)
{
    setenv("SBX_JSON_TEST_HOSTVAR", "hostvalue", 1);
    unsetenv("SBX_JSON_TEST_ABSENT");
    sbx_policy *p = loaded("{\"version\": 1, \"env\": {\"default\": false, \"set\": {\"A\": \"1\", "
                           "\"B\": \"2\"}, \"pass\": [\"SBX_JSON_TEST_HOSTVAR\", "
                           "\"SBX_JSON_TEST_ABSENT\"], \"unset\": [\"B\"]}}");
    assert_int_equal(p->n_env, 2);
    assert_string_equal(p->env[0].name, "A");
    assert_string_equal(p->env[1].name, "SBX_JSON_TEST_HOSTVAR");
    assert_string_equal(p->env[1].value, "hostvalue");
    sbx_policy_free(p);
    p = loaded("{\"version\": 1, \"env\": {\"default\": true}}");
    assert_int_equal(p->n_env, 3);
    sbx_policy_free(p);
}

static void test_policy_json__sizes_durations_counts(void **state)
{
    sbx_policy *p = loaded("{\"version\": 1, \"limits\": {\"memory\": \"2g\", \"file_size\": 0, "
                           "\"cpu\": 3000, \"wall\": \"2m\", \"open_files\": \"unlimited\", "
                           "\"processes\": 5, \"output\": \"512k\"}}");
    assert_int_equal(p->limits[SBX__LIMIT_MEMORY], 2ull << 30);
    assert_int_equal(p->limits[SBX__LIMIT_FSIZE], 0);
    assert_int_equal(p->limits[SBX__LIMIT_CPU], 3);
    assert_int_equal(p->wall_ms, 120000);
    assert_int_equal(p->limits[SBX__LIMIT_NOFILE], SBX_UNLIMITED);
    assert_int_equal(p->limits[SBX__LIMIT_NPROC], 5);
    assert_int_equal(p->output_limit, 512 << 10);
    sbx_policy_free(p);
    p = loaded("{\"version\": 1, \"limits\": {\"memory\": 1048576, \"wall\": \"1h\", "
               "\"cpu\": \"30s\", \"file_size\": \"1P\"}}");
    assert_int_equal(p->limits[SBX__LIMIT_MEMORY], 1 << 20);
    assert_int_equal(p->wall_ms, 3600000);
    assert_int_equal(p->limits[SBX__LIMIT_CPU], 30);
    assert_int_equal(p->limits[SBX__LIMIT_FSIZE], 1ull << 50);
    assert_non_null(strstr(to_json(p), "\"wall\": \"3600s\""));
    /* "unlimited" takes a limit back off */
    assert_sbx_ok(sbx_policy_load_json(p, "{\"version\": 1, \"limits\": {\"memory\": "
                                          "\"unlimited\", \"wall\": \"unlimited\", \"cpu\": "
                                          "\"unlimited\", \"file_size\": \"unlimited\"}}"));
    assert_int_equal(p->limits[SBX__LIMIT_MEMORY], SBX_UNLIMITED);
    assert_int_equal(p->wall_ms, SBX_UNLIMITED);
    assert_int_equal(p->limits[SBX__LIMIT_CPU], SBX_UNLIMITED);
    assert_string_equal(to_json(p), "{\n  \"version\": 1\n}\n");
    sbx_policy_free(p);
}

/* A file adds to what the policy has: grants, ports, layers, namespaces. */
static void test_policy_json__load_adds_to_the_policy(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, "/usr/share", SBX_FS_READ));
    assert_sbx_ok(sbx_allow_connect(p, 443));
    assert_sbx_ok(sbx_set_best_effort(p, SBX_LAYER_LANDLOCK));
    assert_sbx_ok(sbx_unshare(p, SBX_NS_PID));
    assert_sbx_ok(sbx_policy_load_json(
        p, "{\"version\": 1, \"grants\": [{\"path\": \"/usr/share\", \"access\": [\"exec\"]}, "
           "{\"path\": \"/var\", \"access\": [\"read\"]}], \"network\": {\"connect\": [443, 80]}, "
           "\"best_effort\": [\"cgroup\"], \"namespaces\": [\"net\"]}"));
    assert_int_equal(p->n_grants, 2);
    assert_int_equal(p->grants[0].access, SBX_FS_READ | SBX_FS_EXEC);
    assert_string_equal(p->grants[1].path, "/var");
    assert_int_equal(p->n_connect, 2);
    assert_int_equal(p->connect_ports[0], 443);
    assert_int_equal(p->connect_ports[1], 80);
    assert_int_equal(p->best_effort, SBX_LAYER_LANDLOCK | SBX_LAYER_CGROUP);
    assert_int_equal(p->namespaces, SBX_NS_PID | SBX_NS_NET);
    /* false takes no grant back */
    assert_sbx_ok(sbx_allow_network(p));
    assert_sbx_ok(sbx_policy_load_json(p, "{\"version\": 1, \"network\": {\"unrestricted\": "
                                          "false}}"));
    assert_true(p->allow_network);
    sbx_policy_free(p);
}

/* Tools are resolved in the PATH the document sets, whatever the key order. */
static void test_policy_json__tools_after_env(void **state)
{
    sbx_policy *p = loaded("{\"tools\": [\"sh\"], \"version\": 1, \"env\": {\"set\": {\"PATH\": "
                           "\"/bin\"}}}");
    assert_true(p->n_grants >= 1);
    assert_string_equal(p->grants[0].path, "/bin/sh");
    assert_int_equal(p->grants[0].access, SBX_FS_READ | SBX_FS_EXEC);
    sbx_policy_free(p);
}

/* "tool_bundles": a tool of "tools" brings the programs and directories of
 * its bundle (read and execute); a bundle of a tool not listed grants nothing. */
static void test_policy_json__tool_bundles(void **state)
{
    sbx_policy *p =
        loaded("{\"version\": 1, \"env\": {\"set\": {\"PATH\": \"/bin\"}}, "
               "\"tools\": [\"sh\"], \"tool_bundles\": {\"sh\": {\"programs\": "
               "[\"uname\"], \"dirs\": [\"/usr\"]}, \"ls\": {\"programs\": [\"cat\"]}}}");
    bool sh = false, uname = false, usr = false;
    for (size_t i = 0; i < p->n_grants; i++) {
        sh |= strcmp(p->grants[i].path, "/bin/sh") == 0;
        uname |= strcmp(p->grants[i].path, "/bin/uname") == 0 &&
                 p->grants[i].access == (SBX_FS_READ | SBX_FS_EXEC);
        usr |= strcmp(p->grants[i].path, "/usr") == 0 &&
               (p->grants[i].access & (SBX_FS_READ | SBX_FS_EXEC)) == (SBX_FS_READ | SBX_FS_EXEC);
        assert_string_not_equal(p->grants[i].path, "/bin/cat");
    }
    assert_true(sh && uname && usr);
    sbx_policy_free(p);
}

static int callback_calls;
static void callback(const sbx_violation *v, void *userdata)
{
    (void)v, (void)userdata;
    callback_calls++;
}

/* A failed load changes nothing; a good one keeps what JSON cannot hold. */
static void test_policy_json__load_is_all_or_nothing(void **state)
{
    sbx_policy *p = every_setter();
    assert_sbx_ok(sbx_set_violation_callback(p, callback, &callback_calls));
    char before[65536];
    snprintf(before, sizeof(before), "%s", to_json(p));
    /* grants, env, limits are applied before the failing key */
    assert_sbx_error(sbx_policy_load_json(
                         p, "{\"version\": 1, \"workdir\": \"/var\", \"env\": {\"set\": {\"X\": "
                            "\"y\"}}, \"limits\": {\"memory\": \"1G\"}, \"grants\": [{\"path\": "
                            "\"/etc\", \"access\": [\"write\"]}], \"namespaces\": [\"bogus\"]}"),
                     -EINVAL, "$.namespaces[0]");
    assert_string_equal(to_json(p), before);
    assert_sbx_error(sbx_policy_apply_profile(p, "nope"), -EINVAL, "nope");
    assert_string_equal(to_json(p), before);
    assert_sbx_ok(sbx_policy_load_json(p, "{\"version\": 1, \"limits\": {\"processes\": 4}}"));
    assert_int_equal(p->limits[SBX__LIMIT_NPROC], 4);
    assert_non_null(p->seccomp);
    assert_ptr_equal(p->seccomp->callback, callback);
    assert_ptr_equal(p->seccomp->userdata, &callback_calls);
    sbx_policy_free(p);
}

/* ---- output settings and registered secrets ----------------------------------------------- */

/* The registered values of a policy, in order ("a|b|c"), for comparisons. */
static const char *values_of(const sbx_policy *p)
{
    static char buf[4096];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; p->output && i < p->output->n_values; i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%.*s", i ? "|" : "",
                                 (int)p->output->lens[i], p->output->values[i]);
    return buf;
}

/* "output" loads each key, and writes the switches back; the values are
 * registered, never written, so they are the one thing that does not round-trip. */
static void test_policy_json__round_trip_output(void **state)
{
    sbx_policy *p = loaded(V1_OUTPUT("\"redact_patterns\": false, \"escapes\": \"neutralise\", "
                                     "\"redact\": [\"hunter2-secret\", \"tok_ABCDEFGH\", "
                                     "\"hunter2-secret\"]"));
    assert_non_null(p->output);
    assert_true(p->output->patterns_off);
    assert_int_equal(p->output->escapes, SBX_ESCAPES_NEUTRALISE);
    assert_string_equal(values_of(p), "hunter2-secret|tok_ABCDEFGH"); /* each once */
    const char *json = to_json(p);
    assert_string_equal(json, "{\n  \"version\": 1,\n  \"output\": {\n    \"redact_patterns\": "
                              "false,\n    \"escapes\": \"neutralise\"\n  }\n}\n");
    sbx_policy *q = loaded(json);
    assert_same_policy(p, q);
    assert_string_equal(to_json(q), json);
    assert_string_equal(values_of(q), ""); /* the document does not carry them */
    sbx_policy_free(q);
    /* the Unicode classes: only the ones not kept are written */
    assert_sbx_ok(sbx_policy_load_json(
        p, V1_OUTPUT("\"unicode\": {\"tags\": \"escape\", \"bidi\": \"strip\", "
                     "\"invisible\": \"keep\", \"invalid_utf8\": \"replace\"}")));
    assert_int_equal(p->output->unicode[SBX_UNICODE_TAGS], SBX_UNICODE_ESCAPE);
    assert_int_equal(p->output->unicode[SBX_UNICODE_BIDI], SBX_UNICODE_STRIP);
    assert_int_equal(p->output->unicode[SBX_UNICODE_INVISIBLE], SBX_UNICODE_KEEP);
    assert_int_equal(p->output->unicode[SBX_UNICODE_INVALID_UTF8], SBX_UNICODE_REPLACE);
    json = to_json(p);
    assert_string_equal(json, "{\n  \"version\": 1,\n  \"output\": {\n    \"redact_patterns\": "
                              "false,\n    \"escapes\": \"neutralise\",\n    \"unicode\": {\n"
                              "      \"tags\": \"escape\",\n      \"bidi\": \"strip\",\n"
                              "      \"invalid_utf8\": \"replace\"\n    }\n  }\n}\n");
    q = loaded(json);
    assert_same_policy(p, q);
    assert_string_equal(to_json(q), json);
    sbx_policy_free(q);
    assert_sbx_ok(
        sbx_policy_load_json(p, V1_OUTPUT("\"unicode\": {\"tags\": \"keep\", \"bidi\": \"keep\", "
                                          "\"invalid_utf8\": \"keep\"}")));
    /* the defaults are written as nothing, and "keep" / true put them back */
    assert_sbx_ok(sbx_policy_load_json(
        p, V1_OUTPUT("\"redact_patterns\": true, \"escapes\": \"keep\", \"redact\": []")));
    assert_false(p->output->patterns_off);
    assert_int_equal(p->output->escapes, SBX_ESCAPES_KEEP);
    assert_string_equal(values_of(p), "hunter2-secret|tok_ABCDEFGH"); /* lists add */
    assert_string_equal(to_json(p), "{\n  \"version\": 1\n}\n");
    /* the pty's mode round-trips too */
    assert_sbx_ok(sbx_policy_load_json(p, V1_OUTPUT("\"escapes\": \"terminal\"")));
    assert_int_equal(p->output->escapes, SBX_ESCAPES_NEUTRALISE_TERMINAL);
    assert_string_equal(
        to_json(p),
        "{\n  \"version\": 1,\n  \"output\": {\n    \"escapes\": \"terminal\"\n  }\n}\n");
    sbx_policy_free(p);
}

/* No registered secret ever reaches the document, whatever registered it. */
static void test_policy_json__secrets_never_written(void **state)
{
    sbx_policy *p = every_setter();
    assert_sbx_ok(sbx_redact_value(p, "sk-live-SECRET-FROM-API"));
    assert_sbx_ok(sbx_policy_load_json(p, V1_OUTPUT("\"redact\": [\"pw-FROM-FILE-9876\"]")));
    assert_string_equal(values_of(p), "sk-live-SECRET-FROM-API|pw-FROM-FILE-9876");
    char first[65536];
    snprintf(first, sizeof(first), "%s", to_json(p));
    assert_null(strstr(first, "SECRET-FROM-API"));
    assert_null(strstr(first, "FROM-FILE"));
    assert_null(strstr(first, "redact\""));
    /* everything else round-trips */
    sbx_policy *q = loaded(first);
    assert_same_policy(p, q);
    assert_string_equal(to_json(q), first);
    assert_string_equal(values_of(q), "");
    sbx_policy_free(q);
    /* nor in the message of a rejected value: a type is named, never shown */
    assert_sbx_error(sbx_policy_load_json(p, V1_OUTPUT("\"redact\": \"sk-live-IN-A-STRING\"")),
                     -EINVAL, "$.output.redact: expected an array of strings, got string");
    assert_null(strstr(sbx_last_error(), "IN-A-STRING"));
    assert_sbx_error(sbx_policy_load_json(p, V1_OUTPUT("\"redact\": [[\"sk-live-NESTED\"]]")),
                     -EINVAL, "$.output.redact[0]: expected a string, got array");
    assert_null(strstr(sbx_last_error(), "NESTED"));
    assert_sbx_error(sbx_policy_load_json(p, V1_OUTPUT("\"redact\": [\"abc\"]")), -EINVAL,
                     "$.output.redact[0]: sbx_redact_value: the value is 3 bytes long");
    assert_null(strstr(sbx_last_error(), "abc"));
    sbx_policy_free(p);
}

/* A failed load leaves the registered values exactly as they were (and a
 * successful one keeps the callbacks and the audit descriptor, which no
 * document sets). */
static void output_fn(int stream, const char *data, size_t len, void *userdata)
{
    (void)stream, (void)data, (void)len, (void)userdata;
}

static void test_policy_json__failed_load_keeps_redact_values(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_redact_value(p, "first-secret"));
    assert_sbx_ok(sbx_set_output_callback(p, output_fn, &callback_calls));
    assert_sbx_ok(sbx_set_audit_fd(p, 2));
    struct sbx__output_policy *before = p->output;
    /* values and switches are applied before the failing key */
    assert_sbx_error(
        sbx_policy_load_json(p, V1_OUTPUT("\"redact_patterns\": false, \"escapes\": "
                                          "\"neutralise\", \"redact\": [\"second-secret\", 5]")),
        -EINVAL, "$.output.redact[1]: expected a string, got int");
    assert_ptr_equal(p->output, before);
    assert_string_equal(values_of(p), "first-secret");
    assert_false(p->output->patterns_off);
    assert_int_equal(p->output->escapes, SBX_ESCAPES_KEEP);
    assert_sbx_error(sbx_policy_load_json(p, "{\"version\": 1, \"output\": {\"redact\": "
                                             "[\"second-secret\"]}, \"namespaces\": [\"x\"]}"),
                     -EINVAL, "$.namespaces[0]");
    assert_string_equal(values_of(p), "first-secret");
    /* 256 values at most, counting those the policy has: -ENOSPC, nothing added */
    char doc[256 * 16 + 64];
    size_t used = (size_t)snprintf(doc, sizeof(doc), "{\"version\": 1, \"output\": {\"redact\": [");
    for (int i = 0; i < SBX__REDACT_MAX_VALUES; i++)
        used +=
            (size_t)snprintf(doc + used, sizeof(doc) - used, "%s\"value-%03d\"", i ? ", " : "", i);
    snprintf(doc + used, sizeof(doc) - used, "]}}");
    assert_sbx_error(sbx_policy_load_json(p, doc), -ENOSPC,
                     "$.output.redact[255]: sbx_redact_value: 256 values are registered already");
    assert_string_equal(values_of(p), "first-secret");
    /* a good load: the values added, the rest of the output settings kept */
    assert_sbx_ok(sbx_policy_load_json(
        p, V1_OUTPUT("\"escapes\": \"neutralise\", \"redact\": [\"second-secret\"]")));
    assert_string_equal(values_of(p), "first-secret|second-secret");
    assert_int_equal(p->output->escapes, SBX_ESCAPES_NEUTRALISE);
    assert_ptr_equal(p->output->output_fn, output_fn);
    assert_ptr_equal(p->output->output_ud, &callback_calls);
    assert_int_equal(p->output->audit_fd, 2);
    /* and a profile, too, keeps them */
    assert_sbx_ok(sbx_policy_apply_profile(p, "minimal"));
    assert_string_equal(values_of(p), "first-secret|second-secret");
    /* the exchanged copies are what the filter uses: a filter made now redacts both */
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(p, 1, output_fn, NULL, &f));
    const char text[] = "a first-secret b second-secret c";
    assert_sbx_ok(sbx_output_filter_write(f, text, sizeof(text) - 1));
    assert_sbx_ok(sbx_output_filter_finish(f));
    assert_int_equal(sbx_output_filter_redactions(f), 2);
    sbx_output_filter_free(f);
    sbx_policy_free(p);
}

static void test_policy_json__to_json_is_snprintf_like(void **state)
{
    sbx_policy *p = every_setter();
    int n = sbx_policy_to_json(p, NULL, 0);
    assert_true(n > 100);
    char small[16];
    memset(small, 'x', sizeof(small));
    assert_int_equal(sbx_policy_to_json(p, small, sizeof(small)), n);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, to_json(p), sizeof(small) - 1);
    char *exact = malloc((size_t)n + 1);
    assert_int_equal(sbx_policy_to_json(p, exact, (size_t)n + 1), n);
    assert_int_equal(strlen(exact), (size_t)n);
    assert_int_equal(exact[n - 1], '\n');
    free(exact);
    assert_sbx_error(sbx_policy_to_json(NULL, small, sizeof(small)), -EINVAL, "policy");
    assert_sbx_error(sbx_policy_to_json(p, NULL, 5), -EINVAL, "buf");
    sbx_policy_free(p);
}

/* sbx_policy_dup(): a copy of everything, independent of the original. */
static void test_policy_json__dup_copies_everything(void **state)
{
    sbx_policy *p = every_setter();
    assert_sbx_ok(sbx_redact_value(p, "dup-secret-value"));
    assert_sbx_ok(sbx_set_violation_callback(p, callback, &callback_calls));
    assert_sbx_ok(sbx_set_output_callback(p, output_fn, &callback_calls));
    sbx_policy *q = NULL;
    assert_sbx_ok(sbx_policy_dup(p, &q));
    assert_same_policy(p, q);
    assert_string_equal(to_json(q), to_json(p));
    assert_ptr_equal(q->seccomp->callback, callback);
    assert_ptr_equal(q->output->output_fn, output_fn);
    /* the secret is the copy's own: its filter redacts it */
    sbx_output_filter *f = NULL;
    assert_sbx_ok(sbx_output_filter_new(q, 1, output_fn, NULL, &f));
    assert_sbx_ok(sbx_output_filter_write(f, "a dup-secret-value b", 20));
    assert_sbx_ok(sbx_output_filter_finish(f));
    assert_int_equal(sbx_output_filter_redactions(f), 1);
    sbx_output_filter_free(f);
    /* independent: a change to one is not in the other, and the original
     * survives the copy's end */
    char *before = strdup(to_json(p));
    assert_sbx_ok(sbx_allow_path(q, "/srv", SBX_FS_READ));
    assert_sbx_ok(sbx_set_env(q, "ONLY_IN_COPY", "1"));
    assert_sbx_ok(sbx_deny_syscall(q, "uname", EPERM));
    assert_string_equal(to_json(p), before);
    sbx_policy_free(q);
    assert_string_equal(to_json(p), before);
    free(before);
    /* a new policy copies to an equal one */
    sbx_policy *n = policy_new(), *m = NULL;
    assert_sbx_ok(sbx_policy_dup(n, &m));
    assert_string_equal(to_json(m), to_json(n));
    sbx_policy_free(m);
    sbx_policy_free(n);
    assert_sbx_error(sbx_policy_dup(NULL, &m), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_policy_dup(p, NULL), -EINVAL, "ret is NULL");
    sbx_policy_free(p);
}

/* JSON text is UTF-8: a policy string that is not cannot be written. */
static void test_policy_json__to_json_rejects_invalid_utf8(void **state)
{
    char buf[256];
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_env(p, "X", "caf\xe9"));
    assert_sbx_error(sbx_policy_to_json(p, buf, sizeof(buf)), -EILSEQ,
                     "sbx_policy_to_json: 'caf\\xe9' is not valid UTF-8");
    assert_sbx_ok(sbx_set_env(p, "X", "caf\xc3\xa9")); /* the same in UTF-8 */
    assert_true(sbx_policy_to_json(p, buf, sizeof(buf)) > 0);
    assert_sbx_ok(sbx_allow_path(p, "/nonexistent/\xed\xa0\x80", SBX_FS_READ | SBX_FS_OPTIONAL));
    assert_sbx_error(sbx_policy_to_json(p, NULL, 0), -EILSEQ, "\\xed\\xa0\\x80"); /* a surrogate */
    sbx_policy_free(p);
}

static void test_policy_json__rejects_null_arguments(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_error(sbx_policy_load_json(NULL, "{}"), -EINVAL, "policy");
    assert_sbx_error(sbx_policy_load_json(p, NULL), -EINVAL, "json");
    assert_sbx_error(sbx_policy_load_file(NULL, "/x"), -EINVAL, "policy");
    assert_sbx_error(sbx_policy_load_file(p, NULL), -EINVAL, "path");
    assert_sbx_error(sbx_policy_apply_profile(NULL, "minimal"), -EINVAL, "policy");
    assert_sbx_error(sbx_policy_apply_profile(p, NULL), -EINVAL, "name");
    sbx_policy_free(p);
}

/* ---- rejections ------------------------------------------------------------------------ */

struct bad {
    const char *json;
    int err;
    const char *message; /* a substring of sbx_last_error() */
};

#define V1 "{\"version\": 1, "

static const struct bad bad_documents[] = {
    /* "deny", "protected", "binds", "tmpfs" (carve.c) */
    {V1 "\"binds\": [{\"source\": \"/usr\", \"dest\": \"/w\"}]}", -EINVAL,
     "$.binds[0].access: missing"},
    {V1 "\"binds\": [{\"source\": \"/usr\", \"dest\": \"w\", \"access\": [\"read\"]}]}", -EINVAL,
     "the destination is not an absolute, normalised path"},
    {V1 "\"binds\": [{\"source\": \"/usr\", \"dest\": \"/w\", \"access\": [\"optional\"]}]}",
     -EINVAL, "$.binds[0].access[0]: expected \"read\", \"write\" or \"exec\""},
    {V1 "\"tmpfs\": [{\"size\": 4096}]}", -EINVAL, "$.tmpfs[0].path: missing"},
    {V1 "\"tmpfs\": [{\"path\": \"/s\", \"size\": 10}]}", -EINVAL, "size 10 is below 4096"},
    {V1 "\"tmpfs\": [{\"path\": \"/s\", \"size\": \"lots\"}]}", -EINVAL, "$.tmpfs[0].size"},
    {V1 "\"protected\": {}}", -EINVAL, "$.protected: expected an array of names"},
    {V1 "\"protected\": [1]}", -EINVAL, "$.protected[0]: expected a relative name"},
    {V1 "\"protected\": [\"/abs\"]}", -EINVAL, "'/abs' is not a relative name"},
    {V1 "\"protected\": [\"a/../b\"]}", -EINVAL, "'a/../b' is not normalised"},
    {V1 "\"deny\": {}}", -EINVAL, "$.deny: expected an array of denied paths"},
    {V1 "\"deny\": [{\"path\": \"/a\"}]}", -EINVAL, "$.deny[0].access: missing"},
    {V1 "\"deny\": [{\"access\": [\"read\"]}]}", -EINVAL, "$.deny[0].path: missing"},
    {V1 "\"deny\": [{\"path\": \"/a\", \"access\": []}]}", -EINVAL,
     "$.deny[0].access: denies nothing"},
    {V1 "\"deny\": [{\"path\": \"/a\", \"access\": [\"exec\"]}]}", -EINVAL,
     "$.deny[0].access[0]: expected \"read\" or \"write\""},
    {V1 "\"deny\": [{\"path\": \"a\", \"access\": [\"read\"]}]}", -EINVAL,
     "'a' is not an absolute path"},
    {V1 "\"deny\": [{\"path\": \"/a/../b\", \"access\": [\"read\"]}]}", -EINVAL, "not normalised"},
    {V1 "\"deny\": [{\"path\": \"/a\", \"access\": [\"read\"], \"x\": 1}]}", -EINVAL,
     "$.deny[0].x"},
    /* syntax, with line and column */
    {"", -EINVAL, "$: not valid JSON: unexpected end of data at line 1, column 1"},
    {"{\"version\": 1,\n  \"workdir\": nul}", -EINVAL, "not valid JSON: null expected at line 2"},
    {"{\"version\": 1,}", -EINVAL, "not valid JSON: unexpected character at line 1, column 15"},
    {"{\"version\": 1} {}", -EINVAL, "not valid JSON"},
    {"/* comment */ {\"version\": 1}", -EINVAL, "not valid JSON"},
    {"{\"version\": 1, \"workdir\": \"\xff\"}", -EINVAL, "not valid JSON"},
    /* Regression (fuzz_policy_json): json-c let an overlong form through, which
     * loaded and could not be written back (-EILSEQ). */
    {V1 "\"env\": {\"set\": {\"P\": \"/usr/bi\xc0\xb9\"}}}", -EINVAL,
     "$.env.set.P: a string that is not valid UTF-8 (not shown)"},
    {V1 "\"env\": {\"set\": {\"\xed\xa0\x80\": \"x\"}}}", -EINVAL,
     "$.env.set: a key that is not valid UTF-8 (not shown)"},
    {V1 "\"output\": {\"redact\": [\"secret-\xf4\x90\x80\x80\"]}}", -EINVAL,
     "$.output.redact[0]: a string that is not valid UTF-8 (not shown)"},
    {"{\"version\": 1, \"grants\": [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}", -EINVAL,
     "nesting too deep"},
    {V1 "\"env\": {\"set\": {\"A\\u0000B\": \"x\"}}}", -EINVAL,
     "$: a key at line 1, column 32 contains \\u0000 (NUL), which no name may hold"},
    {V1 "\"seccomp\": {\"deny\": {\"ptrace\\u0000\" : \"EPERM\"}}}", -EINVAL, "contains \\u0000"},
    /* the document and its version */
    {"[]", -EINVAL, "$: expected an object, got []"},
    {"{}", -EINVAL, "$.version: missing (expected 1)"},
    {"{\"version\": 2}", -EINVAL,
     "$.version: unsupported version 2 (this library reads version 1)"},
    {"{\"version\": \"1\"}", -EINVAL, "$.version: unsupported version \"1\""},
    {"{\"version\": 1.0}", -EINVAL, "$.version: unsupported version 1.0"},
    /* unknown keys at each level */
    {V1 "\"memory\": 5}", -EINVAL, "$.memory: unknown key (expected one of: version, profile"},
    {V1 "\"limi|s\": 5}", -EINVAL, "unknown key (expected one of: version, profile"}, /* fuzz */
    {V1 "\"memory\": 5}", -EINVAL, "isolation, namespaces, output)"}, /* every key, whole */
    {V1 "\"env\": {\"clear\": true}}", -EINVAL, "$.env.clear: unknown key"},
    {V1 "\"limits\": {\"mem\": 5}}", -EINVAL, "$.limits.mem: unknown key (expected one of: cpu"},
    {V1 "\"grants\": [{\"path\": \"/\", \"access\": [\"read\"], \"x\": 1}]}", -EINVAL,
     "$.grants[0].x: unknown key (expected one of: path, access)"},
    {V1 "\"network\": {\"udp\": []}}", -EINVAL, "$.network.udp: unknown key"},
    {V1 "\"seccomp\": {\"kill\": []}}", -EINVAL, "$.seccomp.kill: unknown key"},
    {V1 "\"seccomp\": {\"exec_report\": 1}}", -EINVAL,
     "$.seccomp.exec_report: expected true or false, got 1"},
    {V1 "\"seccomp\": {\"diagnose\": \"yes\"}}", -EINVAL,
     "$.seccomp.diagnose: expected true or false, got \"yes\""},
    {V1 "\"cgroup\": {\"memory\": 1}}", -EINVAL, "$.cgroup.memory: unknown key"},
    {V1 "\"a b\": 1}", -EINVAL, "$[\"a b\"]: unknown key"},
    {V1 "\"tool_bundles\": {\"x\": {\"prog\": []}}}", -EINVAL,
     "$.tool_bundles.x.prog: unknown key (expected one of: programs, dirs)"},
    {V1 "\"tool_bundles\": []}", -EINVAL,
     "$.tool_bundles: expected an object of tool names, got []"},
    {V1 "\"tool_bundles\": {\"x\": {\"programs\": 5}}}", -EINVAL,
     "$.tool_bundles.x.programs: expected an array of program names or paths, got 5"},
    {V1 "\"tool_bundles\": {\"x\": {\"dirs\": [1]}}}", -EINVAL,
     "$.tool_bundles.x.dirs[0]: expected an absolute path, got 1"},
    {V1 "\"tools\": [\"sh\"], \"tool_bundles\": {\"sh\": {\"dirs\": [\"/nope-sbx\"]}}}", -ENOENT,
     "$.tools[0]: sbx_allow_path(/nope-sbx)"},
    /* types, key by key */
    {V1 "\"profile\": 1}", -EINVAL, "$.profile: expected a profile name, got 1"},
    {V1 "\"workdir\": [\"/\"]}", -EINVAL, "$.workdir: expected an absolute path, got [\"/\"]"},
    {V1 "\"env\": []}", -EINVAL, "$.env: expected an object, got []"},
    {V1 "\"env\": {\"default\": 0}}", -EINVAL, "$.env.default: expected true or false, got 0"},
    {V1 "\"env\": {\"set\": []}}", -EINVAL, "$.env.set: expected an object of NAME"},
    {V1 "\"env\": {\"set\": {\"A\": 1}}}", -EINVAL, "$.env.set.A: expected a string, got 1"},
    {V1 "\"env\": {\"pass\": \"HOME\"}}", -EINVAL, "$.env.pass: expected an array"},
    {V1 "\"env\": {\"unset\": [null]}}", -EINVAL, "$.env.unset[0]: expected a variable name"},
    {V1 "\"limits\": []}", -EINVAL, "$.limits: expected an object, got []"},
    {V1 "\"limits\": {\"memory\": -5}}", -EINVAL, "$.limits.memory: expected a size, got -5"},
    {V1 "\"limits\": {\"memory\": 1.5}}", -EINVAL, "$.limits.memory: expected a size, got 1.5"},
    {V1 "\"limits\": {\"memory\": \"12X\"}}", -EINVAL,
     "$.limits.memory: expected a size, got \"12X\""},
    {V1 "\"limits\": {\"memory\": \" 1G\"}}", -EINVAL, "$.limits.memory: expected a size"},
    {V1 "\"limits\": {\"memory\": \"1G \"}}", -EINVAL, "$.limits.memory: expected a size"},
    {V1 "\"limits\": {\"memory\": \"99999999999P\"}}", -EINVAL, "$.limits.memory: expected a size"},
    {V1 "\"limits\": {\"memory\": 99999999999999999999}}", -EINVAL,
     "$.limits.memory: expected a size, got 18446744073709551615"},
    {V1 "\"limits\": {\"file_size\": true}}", -EINVAL, "$.limits.file_size: expected a size"},
    {V1 "\"limits\": {\"output\": \"unlimited\"}}", -EINVAL, "$.limits.output: expected a size"},
    {V1 "\"limits\": {\"wall\": \"5x\"}}", -EINVAL,
     "$.limits.wall: expected a duration, got \"5x\""},
    {V1 "\"limits\": {\"wall\": -1}}", -EINVAL, "$.limits.wall: expected a duration"},
    {V1 "\"limits\": {\"cpu\": 1500}}", -EINVAL,
     "$.limits.cpu: expected a whole number of seconds (RLIMIT_CPU counts seconds), got 1500 ms"},
    {V1 "\"limits\": {\"open_files\": \"64\"}}", -EINVAL,
     "$.limits.open_files: expected a count or \"unlimited\", got \"64\""},
    {V1 "\"limits\": {\"processes\": null}}", -EINVAL, "$.limits.processes: expected a count"},
    {V1 "\"best_effort\": \"landlock\"}", -EINVAL,
     "$.best_effort: expected an array of layer names"},
    {V1 "\"best_effort\": [\"lanlock\"]}", -EINVAL,
     "$.best_effort[0]: unknown name \"lanlock\" (expected one of: hygiene, rlimits"},
    {V1 "\"die_with_parent\": \"yes\"}", -EINVAL, "$.die_with_parent: expected true or false"},
    {V1 "\"private_tmp\": 1}", -EINVAL, "$.private_tmp: expected true or false, got 1"},
    {V1 "\"prepare_ahead\": 1}", -EINVAL,
     "$.prepare_ahead: expected true, false or \"auto\", got 1"},
    {V1 "\"prepare_ahead\": \"sometimes\"}", -EINVAL,
     "$.prepare_ahead: expected true, false or \"auto\", got \"sometimes\""},
    {V1 "\"tmp_parent\": false}", -EINVAL, "$.tmp_parent: expected an absolute path"},
    {V1 "\"grants\": {}}", -EINVAL, "$.grants: expected an array of grants, got {}"},
    {V1 "\"grants\": [\"/usr\"]}", -EINVAL, "$.grants[0]: expected an object, got \"/usr\""},
    {V1 "\"grants\": [{\"access\": [\"read\"]}]}", -EINVAL, "$.grants[0].path: missing"},
    {V1 "\"grants\": [{\"path\": \"/usr\"}]}", -EINVAL, "$.grants[0].access: missing"},
    {V1 "\"grants\": [{\"path\": 5, \"access\": [\"read\"]}]}", -EINVAL,
     "$.grants[0].path: expected an absolute path, got 5"},
    {V1 "\"grants\": [{\"path\": \"/usr\", \"access\": \"read\"}]}", -EINVAL,
     "$.grants[0].access: expected an array"},
    {V1 "\"grants\": [{\"path\": \"/usr\", \"access\": [\"rw\"]}]}", -EINVAL,
     "$.grants[0].access[0]: expected \"read\", \"write\", \"exec\", \"optional\" or a part of "
     "\"write\" (\"write_file\", \"truncate\", \"create\", \"remove\", \"symlink\", \"special\", "
     "\"refer\", \"ioctl_dev\"), got \"rw\""},
    {V1 "\"grants\": [{\"path\": \"/usr\", \"access\": []}]}", -EINVAL,
     "$.grants[0].access: grants nothing"},
    {V1 "\"grants\": [{\"path\": \"/usr\", \"access\": [\"optional\"]}]}", -EINVAL,
     "$.grants[0].access: grants nothing"},
    {V1 "\"grants\": [{\"path\": \"/etc\\u0000/x\", \"access\": [\"read\"]}]}", -EINVAL,
     "$.grants[0].path: an absolute path must not contain a NUL character"},
    {V1 "\"tools\": \"sh\"}", -EINVAL, "$.tools: expected an array of tool names"},
    {V1 "\"tools\": [7]}", -EINVAL, "$.tools[0]: expected a tool name or path, got 7"},
    {V1 "\"network\": []}", -EINVAL, "$.network: expected an object"},
    {V1 "\"network\": {\"unrestricted\": \"yes\"}}", -EINVAL,
     "$.network.unrestricted: expected true"},
    {V1 "\"network\": {\"connect\": 80}}", -EINVAL, "$.network.connect: expected an array of TCP"},
    {V1 "\"network\": {\"connect\": [\"80\"]}}", -EINVAL,
     "$.network.connect[0]: expected a TCP port (1 to 65535), got \"80\""},
    {V1 "\"network\": {\"connect\": [0]}}", -EINVAL, "$.network.connect[0]: expected a TCP port"},
    {V1 "\"network\": {\"bind\": [65536]}}", -EINVAL,
     "$.network.bind[0]: expected a TCP port (0 to 65535), got 65536"},
    {V1 "\"network\": {\"bind\": [-1]}}", -EINVAL, "$.network.bind[0]: expected a TCP port"},
    {V1 "\"seccomp\": true}", -EINVAL, "$.seccomp: expected an object, got true"},
    {V1 "\"seccomp\": {\"allowlist\": 1}}", -EINVAL, "$.seccomp.allowlist: expected true or false"},
    {V1 "\"seccomp\": {\"monitor\": null}}", -EINVAL, "$.seccomp.monitor: expected true or false"},
    {V1 "\"seccomp\": {\"violation_limit\": -1}}", -EINVAL,
     "$.seccomp.violation_limit: expected a count"},
    {V1 "\"seccomp\": {\"deny\": [\"ptrace\"]}}", -EINVAL, "$.seccomp.deny: expected an object"},
    {V1 "\"seccomp\": {\"deny\": {\"ptrace\": \"EWHAT\"}}}", -EINVAL,
     "$.seccomp.deny.ptrace: expected an errno (a name such as \"EPERM\", 1 to 4095) or \"kill\", "
     "got \"EWHAT\""},
    {V1 "\"seccomp\": {\"deny\": {\"ptrace\": 0}}}", -EINVAL,
     "$.seccomp.deny.ptrace: expected an errno"},
    {V1 "\"seccomp\": {\"deny\": {\"ptrace\": 4096}}}", -EINVAL,
     "$.seccomp.deny.ptrace: expected an errno"},
    {V1 "\"seccomp\": {\"deny\": {\"ptrace\": true}}}", -EINVAL,
     "$.seccomp.deny.ptrace: expected an errno"},
    {V1 "\"seccomp\": {\"allow\": \"clone3\"}}", -EINVAL, "$.seccomp.allow: expected an array"},
    {V1 "\"seccomp\": {\"allow\": [{}]}}", -EINVAL,
     "$.seccomp.allow[0]: expected a system call name"},
    {V1 "\"cgroup\": []}", -EINVAL, "$.cgroup: expected an object"},
    {V1 "\"cgroup\": {\"enabled\": \"on\"}}", -EINVAL, "$.cgroup.enabled: expected true or false"},
    {V1 "\"cgroup\": {\"parents\": \"/sys/fs/cgroup\"}}", -EINVAL,
     "$.cgroup.parents: expected an array"},
    {V1 "\"cgroup\": {\"parents\": [1]}}", -EINVAL,
     "$.cgroup.parents[0]: expected an absolute path"},
    {V1 "\"namespaces\": \"pid\"}", -EINVAL, "$.namespaces: expected an array of namespace names"},
    {V1 "\"capabilities\": [\"CAP_CHOWN\"]}", -EINVAL, "$.capabilities: expected an object"},
    {V1 "\"unix_sockets\": \"/run/x\"}", -EINVAL,
     "$.unix_sockets: expected an array of unix socket paths"},
    {V1 "\"unix_sockets\": [\"/nonexistent/sock\"]}", -ENOENT,
     "$.unix_sockets[0]: sbx_allow_unix_socket(/nonexistent/sock)"},
    {V1 "\"capabilities\": {\"keep\": \"CAP_CHOWN\"}}", -EINVAL,
     "$.capabilities.keep: expected an array of capability names"},
    {V1 "\"capabilities\": {\"keep\": [\"CAP_NOPE\"]}}", -EINVAL,
     "$.capabilities.keep[0]: sbx_keep_capability: unknown capability 'CAP_NOPE'"},
    {V1 "\"capabilities\": {\"drop\": []}}", -EINVAL, "$.capabilities.drop"},
    {V1 "\"namespaces\": [\"pid\", \"all\"]}", -EINVAL,
     "$.namespaces[1]: unknown name \"all\" (expected one of: user, pid, net, ipc, uts, mount, "
     "cgroup)"},
    {V1 "\"isolation\": \"most\"}", -EINVAL,
     "$.isolation: unknown isolation \"most\" (expected auto, minimal or full)"},
    {V1 "\"isolation\": 2}", -EINVAL,
     "$.isolation: expected \"auto\", \"minimal\" or \"full\", got 2"},
    {V1 "\"exec\": \"everything\"}", -EINVAL,
     "$.exec: unknown exec mode \"everything\" (expected allowlist or system)"},
    {V1 "\"exec\": true}", -EINVAL, "$.exec: expected \"allowlist\" or \"system\", got true"},
    {V1 "\"output\": []}", -EINVAL, "$.output: expected an object, got []"},
    {V1 "\"output\": {\"redact_count\": 1}}", -EINVAL,
     "$.output.redact_count: unknown key (expected one of: redact_patterns, escapes, redact, "
     "audit_limit, unicode)"},
    {V1 "\"output\": {\"unicode\": []}}", -EINVAL, "$.output.unicode: expected an object, got []"},
    {V1 "\"output\": {\"unicode\": {\"emoji\": \"strip\"}}}", -EINVAL,
     "$.output.unicode.emoji: unknown key (expected one of: tags, bidi, invisible, invalid_utf8)"},
    {V1 "\"output\": {\"unicode\": {\"tags\": \"drop\"}}}", -EINVAL,
     "$.output.unicode.tags: expected one of \"keep\", \"strip\", \"escape\", \"replace\", got "
     "\"drop\""},
    {V1 "\"output\": {\"unicode\": {\"bidi\": 1}}}", -EINVAL,
     "$.output.unicode.bidi: expected one of \"keep\", \"strip\", \"escape\", \"replace\", got 1"},
    {V1 "\"output\": {\"redact_patterns\": 0}}", -EINVAL,
     "$.output.redact_patterns: expected true or false, got 0"},
    {V1 "\"output\": {\"escapes\": \"neutralize\"}}", -EINVAL,
     "$.output.escapes: expected one of \"keep\", \"neutralise\", \"terminal\", got "
     "\"neutralize\""},
    {V1 "\"output\": {\"escapes\": true}}", -EINVAL,
     "$.output.escapes: expected one of \"keep\", \"neutralise\", \"terminal\", got true"},
    {V1 "\"output\": {\"escapes\": \"keep\\u0000x\"}}", -EINVAL,
     "$.output.escapes: expected one of \"keep\", \"neutralise\", \"terminal\""},
    {V1 "\"output\": {\"redact\": {}}}", -EINVAL,
     "$.output.redact: expected an array of strings, got object (not shown)"},
    {V1 "\"output\": {\"redact\": [null]}}", -EINVAL,
     "$.output.redact[0]: expected a string, got null (not shown)"},
    {V1 "\"output\": {\"redact\": [\"secret\\u0000tail\"]}}", -EINVAL,
     "$.output.redact[0]: a value to redact must not contain a NUL character"},
    /* values the builder refuses, named by their path */
    {V1 "\"profile\": \"maximal\"}", -EINVAL,
     "$.profile: unknown profile 'maximal' (built-in profiles: minimal, workspace, networked)"},
    {V1 "\"workdir\": \"relative\"}", -EINVAL,
     "$.workdir: sbx_set_workdir: the working directory must be an absolute path"},
    {V1 "\"env\": {\"set\": {\"A=B\": \"x\"}}}", -EINVAL,
     "$.env.set[\"A=B\"]: sbx_set_env: the variable name 'A=B' contains '='"},
    {V1 "\"env\": {\"set\": {\"\": \"x\"}}}", -EINVAL,
     "$.env.set[\"\"]: sbx_set_env: the variable name is empty"},
    {V1 "\"limits\": {\"memory\": 1000}}", -EINVAL,
     "$.limits.memory: sbx_limit_memory: memory (bytes) 1000 is out of range"},
    {V1 "\"limits\": {\"cpu\": 0}}", -EINVAL, "$.limits.cpu: sbx_limit_cpu_time"},
    {V1 "\"limits\": {\"wall\": 0}}", -EINVAL, "$.limits.wall: sbx_limit_wall_time"},
    {V1 "\"limits\": {\"open_files\": 3}}", -EINVAL, "$.limits.open_files: sbx_limit_open_files"},
    {V1 "\"limits\": {\"processes\": 0}}", -EINVAL, "$.limits.processes: sbx_limit_processes"},
    {V1 "\"limits\": {\"cpu_rate\": 5}}", -EINVAL, "$.limits.cpu_rate: sbx_limit_cpu_rate"},
    {V1 "\"limits\": {\"cpu_rate\": \"1.5\"}}", -EINVAL,
     "$.limits.cpu_rate: expected a count or \"unlimited\", got \"1.5\""},
    {V1 "\"limits\": {\"output\": \"2G\"}}", -EINVAL,
     "$.limits.output: sbx_limit_output: output limit 2147483648 is above 1 GiB"},
    {V1 "\"seccomp\": {\"violation_limit\": 0}}", -EINVAL,
     "$.seccomp.violation_limit: sbx_set_violation_limit"},
    {V1 "\"seccomp\": {\"violation_rate\": 1000001}}", -EINVAL,
     "$.seccomp.violation_rate: sbx_set_violation_rate: 1000001 per second is out of range"},
    {V1 "\"seccomp\": {\"violation_rate\": \"unlimited\"}}", -EINVAL,
     "$.seccomp.violation_rate: expected a count, got \"unlimited\""},
    {V1 "\"output\": {\"audit_limit\": 100}}", -EINVAL,
     "$.output.audit_limit: sbx_set_audit_limit"},
    {V1 "\"seccomp\": {\"deny\": {\"nosuchcall\": \"EPERM\"}}}", -EINVAL,
     "$.seccomp.deny.nosuchcall: sbx_deny_syscall: unknown system call 'nosuchcall'"},
    {V1 "\"seccomp\": {\"deny\": {\"execve\": \"EPERM\"}}}", -EINVAL,
     "$.seccomp.deny.execve: sbx_deny_syscall: 'execve' cannot be denied"},
    {V1 "\"seccomp\": {\"allow\": [\"nosuchcall\"]}}", -EINVAL,
     "$.seccomp.allow[0]: sbx_allow_syscall: unknown system call"},
    {V1 "\"grants\": [{\"path\": \"usr\", \"access\": [\"read\"]}]}", -EINVAL,
     "$.grants[0]: sbx_allow_path: 'usr' is not an absolute path"},
    {V1 "\"tools\": [\"\"]}", -EINVAL, "$.tools[0]: sbx_allow_tool: the tool name is empty"},
    {V1 "\"tmp_parent\": \"tmp\"}", -EINVAL,
     "$.tmp_parent: sbx_set_tmp_parent: 'tmp' is not an absolute path"},
    {V1 "\"output\": {\"redact\": [\"abc\"]}}", -EINVAL,
     "$.output.redact[0]: sbx_redact_value: the value is 3 bytes long, expected 4 to 4096"},
    {V1 "\"cgroup\": {\"parents\": [\"/tmp\"]}}", -EINVAL,
     "$.cgroup.parents[0]: sbx_set_cgroup_parent: /tmp is not on a cgroup"},
    /* files that do not exist */
    {V1 "\"grants\": [{\"path\": \"/nonexistent/sbx\", \"access\": [\"read\"]}]}", -ENOENT,
     "$.grants[0]: sbx_allow_path(/nonexistent/sbx): No such file or directory"},
    {V1 "\"tools\": [\"sbx-no-such-tool\"]}", -ENOENT,
     "$.tools[0]: sbx_allow_tool(sbx-no-such-tool): not found in PATH="},
    {V1 "\"tools\": [\"/nonexistent/tool\"]}", -ENOENT,
     "$.tools[0]: sbx_allow_tool(/nonexistent/tool)"},
    {V1 "\"tmp_parent\": \"/nonexistent\"}", -ENOENT,
     "$.tmp_parent: sbx_set_tmp_parent(/nonexistent)"},
    {V1 "\"tmp_parent\": \"/etc/passwd\"}", -ENOTDIR,
     "$.tmp_parent: sbx_set_tmp_parent(/etc/passwd)"},
    {V1 "\"cgroup\": {\"parents\": [\"/nonexistent\"]}}", -ENOENT,
     "$.cgroup.parents[0]: sbx_set_cgroup_parent: stat(/nonexistent)"},
};

static void test_policy_json__rejects_bad_documents(void **state)
{
    sbx_policy *p = every_setter();
    assert_sbx_ok(sbx_redact_value(p, "kept-secret"));
    char before[65536];
    snprintf(before, sizeof(before), "%s", to_json(p));
    for (size_t i = 0; i < sizeof(bad_documents) / sizeof(bad_documents[0]); i++) {
        const struct bad *b = &bad_documents[i];
        int rc = sbx_policy_load_json(p, b->json);
        if (rc != b->err)
            fail_msg("document %zu %s: returned %d (%s), expected %s; last error: %s", i, b->json,
                     rc, sbx_errname(rc), sbx_errname(b->err), sbx_last_error());
        if (!strstr(sbx_last_error(), b->message))
            fail_msg("document %zu %s: last error '%s' does not contain '%s'", i, b->json,
                     sbx_last_error(), b->message);
        /* nothing of a rejected document remains */
        if (strcmp(to_json(p), before) != 0)
            fail_msg("document %zu %s changed the policy", i, b->json);
        if (strcmp(values_of(p), "kept-secret") != 0)
            fail_msg("document %zu %s changed the registered values: %s", i, b->json, values_of(p));
    }
    sbx_policy_free(p);
}

/* ---- files ------------------------------------------------------------------------------ */

static char tmpdir[64];

static int files_setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sbx-json-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int files_teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_tmp(const char *name, const char *data, size_t len, mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static void test_policy_json__load_file(void **state)
{
    const char *json = "{\n  \"version\": 1,\n  \"profile\": \"minimal\",\n  \"limits\": "
                       "{\"memory\": \"64M\"}\n}\n";
    const char *path = write_tmp("good.json", json, strlen(json), 0644);
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_policy_load_file(p, path));
    assert_int_equal(p->limits[SBX__LIMIT_MEMORY], 64ull << 20);
    assert_false(p->private_tmp);
    sbx_policy_free(p);
}

static void test_policy_json__load_file_errors_name_the_file(void **state)
{
    sbx_policy *p = policy_new();
    char path[128];
    snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
    assert_sbx_error(sbx_policy_load_file(p, path), -ENOENT, path);
    assert_sbx_error(sbx_policy_load_file(p, tmpdir), -EISDIR, tmpdir);

    const char *bad = "{\"version\": 1,\n \"limits\": {\"memory\": -5}}";
    const char *f = write_tmp("bad.json", bad, strlen(bad), 0644);
    snprintf(path, sizeof(path), "%s", f);
    assert_sbx_error(sbx_policy_load_file(p, path), -EINVAL,
                     "$.limits.memory: expected a size, got -5");
    assert_non_null(strstr(sbx_last_error(), path));

    const char *syntax = "{\"version\": 1,\n\n   \"x\" 1}";
    f = write_tmp("syntax.json", syntax, strlen(syntax), 0644);
    snprintf(path, sizeof(path), "%s", f);
    assert_sbx_error(sbx_policy_load_file(p, path), -EINVAL, "at line 3, column 8");
    assert_non_null(strstr(sbx_last_error(), path));

    f = write_tmp("nul.json", "{\"version\": 1}\0", 15, 0644);
    snprintf(path, sizeof(path), "%s", f);
    assert_sbx_error(sbx_policy_load_file(p, path), -EINVAL, "holds a NUL byte");

    size_t big = (1u << 20) + 1;
    char *data = malloc(big);
    memset(data, ' ', big);
    data[0] = '{';
    f = write_tmp("big.json", data, big, 0644);
    free(data);
    snprintf(path, sizeof(path), "%s", f);
    assert_sbx_error(sbx_policy_load_file(p, path), -EFBIG, "larger than 1048576 bytes");

    /* exactly 1 MiB is read */
    big = 1u << 20;
    data = malloc(big);
    memset(data, ' ', big);
    memcpy(data, "{\"version\": 1}", 14);
    f = write_tmp("max.json", data, big, 0644);
    free(data);
    snprintf(path, sizeof(path), "%s", f);
    assert_sbx_ok(sbx_policy_load_file(p, path));
    sbx_policy_free(p);
}

/* An unreadable file (mode 0): -EACCES. Root reads anything, so as root the
 * child that tries drops to nobody first. */
static void test_policy_json__load_file_unreadable(void **state)
{
    const char *f = write_tmp("secret.json", "{\"version\": 1}", 14, 0);
    char path[128];
    snprintf(path, sizeof(path), "%s", f);
    assert_int_equal(chmod(tmpdir, 0755), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(90);
        sbx_policy *p;
        if (sbx_policy_new(&p) != 0)
            _exit(91);
        int rc = sbx_policy_load_file(p, path);
        sbx_policy_free(p);
        _exit(rc == -EACCES && strstr(sbx_last_error(), path) ? 0 : 92);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- profiles ----------------------------------------------------------------------------- */

static void test_policy_json__profile_names(void **state)
{
    assert_string_equal(sbx_profile_name(0), "minimal");
    assert_string_equal(sbx_profile_name(1), "workspace");
    assert_string_equal(sbx_profile_name(2), "networked");
    assert_null(sbx_profile_name(3));
    assert_null(sbx_profile_name(SIZE_MAX));
}

static void test_policy_json__profile_minimal(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_policy_apply_profile(p, "minimal"));
    assert_string_equal(to_json(p), "{\n  \"version\": 1,\n  \"private_tmp\": false\n}\n");
    assert_null(p->workdir);
    assert_int_equal(p->n_grants, 0);
    assert_int_equal(p->n_connect + p->n_bind, 0);
    assert_false(p->allow_network);
    sbx_policy_free(p);
}

static void test_policy_json__profile_workspace(void **state)
{
    char cwd[PATH_MAX], expect[PATH_MAX + 64];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_policy_apply_profile(p, "workspace"));
    snprintf(expect, sizeof(expect), "{\n  \"version\": 1,\n  \"workdir\": \"%s\"\n}\n", cwd);
    assert_string_equal(to_json(p), expect);
    assert_true(p->private_tmp);
    assert_int_equal(p->n_grants, 0);
    assert_false(p->allow_network);
    assert_int_equal(p->n_connect, 0);
    /* a working directory the policy has stays */
    assert_sbx_ok(sbx_set_workdir(p, "/var"));
    assert_sbx_ok(sbx_policy_apply_profile(p, "workspace"));
    assert_string_equal(p->workdir, "/var");
    sbx_policy_free(p);
}

static void test_policy_json__profile_networked(void **state)
{
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_policy_apply_profile(p, "networked"));
    assert_sbx_ok(sbx_policy_apply_profile(p, "networked")); /* no port twice */
    assert_string_equal(p->workdir, cwd);
    assert_true(p->private_tmp);
    assert_false(p->allow_network);
    assert_int_equal(p->n_connect, 2);
    assert_int_equal(p->connect_ports[0], 80);
    assert_int_equal(p->connect_ports[1], 443);
    assert_int_equal(p->n_bind, 0);
    assert_non_null(strstr(to_json(p), "\"connect\": [\n      80,\n      443\n    ]"));
    sbx_policy_free(p);
}

/* A file starts from a profile and adds to it; the profile comes first
 * whatever the key order. */
static void test_policy_json__file_starts_from_profile(void **state)
{
    sbx_policy *p =
        loaded("{\"grants\": [{\"path\": \"/var\", \"access\": [\"read\", \"write\"]}], "
               "\"network\": {\"connect\": [22]}, \"private_tmp\": false, "
               "\"profile\": \"networked\", \"version\": 1}");
    assert_int_equal(p->n_connect, 3);
    assert_int_equal(p->connect_ports[2], 22);
    assert_false(p->private_tmp); /* the file's own setting wins over the profile's */
    assert_int_equal(p->n_grants, 1);
    assert_string_equal(p->grants[0].path, "/var");
    assert_non_null(p->workdir);
    /* and it round-trips without the profile key */
    const char *json = to_json(p);
    assert_null(strstr(json, "profile"));
    sbx_policy *q = loaded(json);
    assert_same_policy(p, q);
    sbx_policy_free(q);
    sbx_policy_free(p);
}

static void test_policy_json__unknown_profile(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_error(
        sbx_policy_apply_profile(p, "Minimal"), -EINVAL,
        "unknown profile 'Minimal' (built-in profiles: minimal, workspace, networked)");
    assert_sbx_error(sbx_policy_apply_profile(p, ""), -EINVAL, "unknown profile ''");
    sbx_policy_free(p);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_json__new_policy_writes_version_only),
        cmocka_unit_test(test_policy_json__dup_copies_everything),
        cmocka_unit_test(test_policy_json__round_trip_every_setter),
        cmocka_unit_test(test_policy_json__round_trip_cgroup_parent),
        cmocka_unit_test(test_policy_json__round_trip_unix_sockets),
        cmocka_unit_test(test_policy_json__round_trip_prepare_ahead_modes),
        cmocka_unit_test(test_policy_json__round_trip_deny),
        cmocka_unit_test(test_policy_json__round_trip_tool_rules),
        cmocka_unit_test(test_policy_json__round_trip_protected),
        cmocka_unit_test(test_policy_json__round_trip_binds_tmpfs),
        cmocka_unit_test(test_policy_json__round_trip_finer_write_rights),
        cmocka_unit_test(test_policy_json__round_trip_syscall_newer_than_libseccomp),
        cmocka_unit_test(test_policy_json__round_trip_default_env),
        cmocka_unit_test(test_policy_json__env_keys),
        cmocka_unit_test(test_policy_json__sizes_durations_counts),
        cmocka_unit_test(test_policy_json__load_adds_to_the_policy),
        cmocka_unit_test(test_policy_json__tools_after_env),
        cmocka_unit_test(test_policy_json__tool_bundles),
        cmocka_unit_test(test_policy_json__load_is_all_or_nothing),
        cmocka_unit_test(test_policy_json__round_trip_output),
        cmocka_unit_test(test_policy_json__secrets_never_written),
        cmocka_unit_test(test_policy_json__failed_load_keeps_redact_values),
        cmocka_unit_test(test_policy_json__to_json_is_snprintf_like),
        cmocka_unit_test(test_policy_json__to_json_rejects_invalid_utf8),
        cmocka_unit_test(test_policy_json__rejects_null_arguments),
        cmocka_unit_test(test_policy_json__rejects_bad_documents),
        cmocka_unit_test_setup_teardown(test_policy_json__load_file, files_setup, files_teardown),
        cmocka_unit_test_setup_teardown(test_policy_json__load_file_errors_name_the_file,
                                        files_setup, files_teardown),
        cmocka_unit_test_setup_teardown(test_policy_json__load_file_unreadable, files_setup,
                                        files_teardown),
        cmocka_unit_test(test_policy_json__profile_names),
        cmocka_unit_test(test_policy_json__profile_minimal),
        cmocka_unit_test(test_policy_json__profile_workspace),
        cmocka_unit_test(test_policy_json__profile_networked),
        cmocka_unit_test(test_policy_json__file_starts_from_profile),
        cmocka_unit_test(test_policy_json__unknown_profile),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (failed == 0 && sbx_test_skipped && argc > 1)
        return 77;
    return failed == 0 ? 0 : 1;
}
