/* The capability channel (agentsbx/capchan.h): host operations a confined
 * child calls over SBX_CAPS_FD, with probe_capchan as the client, well-behaved
 * and hostile. Each refusal is checked with its control (the same call
 * granted, within budget, well-formed, succeeds), and the channel never
 * stalls the host or another child. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "live.h"
#include "testutil.h"

#define CAP PROBE("probe_capchan")

/* The token the "fetch_issue" operation uses on the child's behalf: it lives
 * in the host only. */
static const char token[] = "tok-7f3a9c1e5b2d4a60-SECRET";

static int echo(sbx_call *call, void *userdata)
{
    (void)userdata;
    size_t n;
    const char *args = sbx_call_args(call, &n);
    return sbx_call_reply(call, args, n);
}

static int refuse_nine(sbx_call *call, void *userdata)
{
    (void)userdata;
    size_t n;
    const char *args = sbx_call_args(call, &n);
    if (strcmp(args, "9") == 0) {
        assert_sbx_ok(sbx_call_fail(call, "issue 9 is private"));
        return -EACCES;
    }
    return sbx_call_reply(call, "\"public\"", 8);
}

/* Uses the token (a real host would send it to an API); replies with data only. */
static int fetch_issue(sbx_call *call, void *userdata)
{
    int *used = userdata;
    *used += strlen(token) > 0;
    size_t n;
    const char *args = sbx_call_args(call, &n);
    char reply[256];
    int k = snprintf(reply, sizeof(reply), "{\"number\":%s,\"title\":\"Crash on start\"}", args);
    return sbx_call_reply(call, reply, (size_t)k);
}

static sbx_policy *cap_policy(void)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_capability(p, "echo", echo, NULL));
    assert_sbx_ok(sbx_allow_capability(p, "refuse_nine", refuse_nine, NULL));
    return p;
}

static sbx_result *run(sbx_policy *p, const char *const *argv)
{
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &r));
    return r;
}

static void assert_out(const sbx_result *r, const char *want)
{
    const char *out = sbx_result_stdout(r, NULL);
    if (!out || strcmp(out, want) != 0)
        fail_msg("expected stdout \"%s\", got \"%s\" (%s)", want, out ? out : "(null)",
                 describe(r));
}

static void test_capchan__call_round_trip(void **state)
{
    (void)state;
    static const char *const argv[] = {CAP, "call", "echo", "{\"a\":[1,2.5,\"x\"]}", NULL};
    /* the control: without a grant there is no channel */
    sbx_policy *p = policy_new();
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_out(r, "errno ENOTCONN\n");
    assert_int_equal(sbx_result_capability_calls(r), 0);
    sbx_result_free(r);
    sbx_policy_free(p);

    p = cap_policy();
    assert_int_equal(sbx_policy_capability_count(p), 2);
    r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_out(r, "ok {\"a\":[1,2.5,\"x\"]}\n");
    assert_int_equal(sbx_result_capability_calls(r), 1);
    assert_int_equal(sbx_result_capability_refused(r), 0);
    char json[4096];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    assert_non_null(strstr(json, "\"capability_calls\":1,\"capability_refused\":0"));
    sbx_result_free(r);

    /* a number at the end of the arguments, and none */
    static const char *const num[] = {CAP, "call", "echo", "42", NULL};
    r = run(p, num);
    assert_out(r, "ok 42\n");
    sbx_result_free(r);
    static const char *const none[] = {CAP, "call", "echo", NULL};
    r = run(p, none);
    assert_out(r, "ok null\n");
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_capchan__handler_failure_and_unknown_op(void **state)
{
    (void)state;
    sbx_policy *p = cap_policy();
    static const char *const ok[] = {CAP, "call", "refuse_nine", "8", NULL};
    sbx_result *r = run(p, ok); /* the control */
    assert_out(r, "ok \"public\"\n");
    sbx_result_free(r);
    static const char *const nine[] = {CAP, "call", "refuse_nine", "9", NULL};
    r = run(p, nine);
    assert_out(r, "refused \"code\":\"failed\",\"error\":\"issue 9 is private\"}\n");
    assert_int_equal(sbx_result_capability_calls(r), 1);
    sbx_result_free(r);
    static const char *const unknown[] = {CAP, "call", "delete_repo", "{}", NULL};
    r = run(p, unknown);
    assert_out(r, "refused \"code\":\"unknown_op\",\"error\":\"no operation \\\"delete_repo\\\" is "
                  "granted\"}\n");
    assert_int_equal(sbx_result_capability_calls(r), 0);
    assert_int_equal(sbx_result_capability_refused(r), 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_capchan__hostile_malformed_frame(void **state)
{
    (void)state;
    sbx_policy *p = cap_policy();
    static const char *const argv[] = {CAP, "garbage", "echo", NULL};
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    /* refused with a reply; the channel stays usable (the call after it is the control) */
    assert_out(r, "{\"id\":null,\"ok\":false,\"code\":\"malformed\",\"error\":\"the request is not "
                  "one JSON value\"}\nok null\n");
    assert_int_equal(sbx_result_capability_refused(r), 1);
    assert_int_equal(sbx_result_capability_calls(r), 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_capchan__hostile_huge_frame(void **state)
{
    (void)state;
    sbx_policy *p = cap_policy();
    static const char *const huge[] = {CAP, "huge", "4294967295", NULL};
    sbx_result *r = run(p, huge);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_out(r, "{\"id\":null,\"ok\":false,\"code\":\"too_large\",\"error\":\"a request of "
                  "4294967295 bytes (at most 65536): closing\"}\nthen eof\n");
    sbx_result_free(r);
    /* the limit is the policy's; just under it is read (and is not JSON) */
    assert_sbx_ok(sbx_limit_capability_request(p, 1000));
    static const char *const over[] = {CAP, "huge", "1001", NULL};
    r = run(p, over);
    assert_out(r, "{\"id\":null,\"ok\":false,\"code\":\"too_large\",\"error\":\"a request of 1001 "
                  "bytes (at most 1000): closing\"}\nthen eof\n");
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_capchan__hostile_flood_closed(void **state)
{
    (void)state;
    sbx_policy *p = cap_policy();
    assert_sbx_ok(sbx_limit_wall_time(p, 30000)); /* a bound for a failure, not a speed */
    static const char *const argv[] = {CAP, "flood", "100000", NULL};
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    /* the calls the host took in turn are answered (the probe reads the replies
     * once it cannot send more), then a request out of turn closes the channel
     * (or, had the probe kept pace, the end of its stream) */
    assert_out(r, "sent=many closed\n");
    assert_true(sbx_result_capability_refused(r) <= 1);
    assert_true(sbx_result_capability_calls(r) < 100000);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_capchan__budget(void **state)
{
    (void)state;
    sbx_policy *p = cap_policy();
    static const char *const argv[] = {CAP, "calls", "8", "echo", "1", NULL};
    sbx_result *r = run(p, argv); /* the control: the default budget */
    assert_out(r, "ok=8 refused=0 errno=0\n");
    sbx_result_free(r);
    assert_sbx_ok(sbx_limit_capability_calls(p, 5));
    r = run(p, argv);
    assert_out(r, "ok=5 refused=3 errno=0\n");
    assert_int_equal(sbx_result_capability_calls(r), 5);
    assert_int_equal(sbx_result_capability_refused(r), 3);
    sbx_result_free(r);
    static const char *const one[] = {CAP, "calls", "6", "echo", NULL};
    r = run(p, one); /* a new child has a budget of its own */
    assert_out(r, "ok=5 refused=1 errno=0\n");
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_capchan__grandchild_shares_the_channel(void **state)
{
    (void)state;
    sbx_policy *p = cap_policy();
    static const char *const argv[] = {CAP, "grandchild", "echo", NULL};
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_out(r, "ok \"from the grandchild\"\n");
    assert_int_equal(sbx_result_capability_calls(r), 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* A child that sends half a frame and sleeps does not hold up another child
 * of the same supervisor that makes many calls. */
static void test_capchan__hostile_partial_frame_stalls_nobody(void **state)
{
    (void)state;
    sbx_policy *p = cap_policy();
    sbx_supervisor *sup = NULL;
    assert_sbx_ok(sbx_supervisor_new(&sup));
    static const char *const slow[] = {CAP, "partial", "3", NULL};
    static const char *const busy[] = {CAP, "calls", "200", "echo", "[1]", NULL};
    sbx_io io = SBX_IO_INIT;
    io.stdout_mode = SBX_STDIO_NULL;
    sbx_child *a = NULL, *b = NULL;
    assert_sbx_ok(sbx_supervisor_spawn(sup, p, slow, &io, &a));
    assert_sbx_ok(sbx_supervisor_spawn(sup, p, busy, &io, &b));
    sbx_child *first = NULL;
    sbx_result *r = NULL;
    while (!first) {
        assert_true(sbx_supervisor_wait(sup, -1) >= 0);
        if (sbx_supervisor_next(sup, &first, &r) == 0)
            break;
    }
    assert_ptr_equal(first, b); /* the busy one ended while the slow one slept */
    assert_int_equal(sbx_result_capability_calls(r), 200);
    sbx_result_free(r);
    sbx_child_free(first);
    sbx_child *second = NULL;
    while (sbx_supervisor_next(sup, &second, &r) != 0)
        assert_true(sbx_supervisor_wait(sup, -1) >= 0);
    assert_ptr_equal(second, a);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_int_equal(sbx_result_capability_calls(r), 0);
    sbx_result_free(r);
    sbx_child_free(second);
    sbx_supervisor_free(sup);
    sbx_policy_free(p);
}

/* The token that the operation uses never reaches the child: not in its
 * environment, memory, files or output. */
static void test_capchan__hostile_token_stays_in_host(void **state)
{
    (void)state;
    static const char *const scan[] = {CAP, "scanmem", token, NULL};
    static const char *const copy[] = {CAP, "scanmem", token, token, NULL};
    /* the controls: given as a variable, or held in memory, the scan finds it */
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, "/proc", SBX_FS_READ));
    assert_sbx_ok(sbx_set_env(p, "GITHUB_TOKEN", token));
    sbx_result *r = run(p, scan);
    assert_out(r, "found environ\n");
    sbx_result_free(r);
    sbx_policy_free(p);

    int used = 0;
    p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, "/proc", SBX_FS_READ));
    r = run(p, copy);
    assert_out(r, "found memory\n");
    sbx_result_free(r);
    assert_sbx_ok(sbx_allow_capability(p, "fetch_issue", fetch_issue, &used));
    static const char *const call[] = {CAP, "call", "fetch_issue", "7", NULL};
    r = run(p, call);
    assert_out(r, "ok {\"number\":7,\"title\":\"Crash on start\"}\n");
    assert_int_equal(used, 1);
    assert_null(strstr(sbx_result_stdout(r, NULL), token));
    sbx_result_free(r);
    r = run(p, scan);
    assert_out(r, "not found\n");
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_capchan__audit_events(void **state)
{
    (void)state;
    char path[] = "/tmp/agentsbx-test-capaudit.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    sbx_policy *p = cap_policy();
    assert_sbx_ok(sbx_set_audit_fd(p, fd));
    static const char *const argv[] = {CAP, "call", "echo", "\"secret-argument-text\"", NULL};
    sbx_result *r = run(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    static const char *const bad[] = {CAP, "call", "nope", NULL};
    r = run(p, bad);
    sbx_result_free(r);
    char log[8192];
    ssize_t n = pread(fd, log, sizeof(log) - 1, 0);
    assert_true(n > 0);
    log[n] = '\0';
    assert_non_null(strstr(log, "\"event\":\"call\""));
    assert_non_null(strstr(log, "\"op\":\"echo\",\"args_bytes\":22,\"outcome\":\"ok\""));
    assert_non_null(strstr(
        log, "\"op\":\"nope\",\"args_bytes\":4,\"outcome\":\"refused\",\"code\":\"unknown_op\""));
    /* a call's arguments are never written (the spawn event has the command line) */
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, "\"event\":\"call\""))
            assert_null(strstr(line, "secret-argument-text"));
    close(fd);
    sbx_policy_free(p);
}

/* A child keeps its channel after its policy is freed. */
static void test_capchan__child_outlives_policy(void **state)
{
    (void)state;
    sbx_policy *p = cap_policy();
    static const char *const argv[] = {CAP, "calls", "3", "echo", "1", NULL};
    sbx_io io = SBX_IO_INIT;
    io.stdout_mode = SBX_STDIO_NULL;
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, &io, &c));
    sbx_policy_free(p);
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_int_equal(sbx_result_capability_calls(r), 3);
    sbx_result_free(r);
    sbx_child_free(c);
}

static void test_capchan__bad_input(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_error(sbx_allow_capability(NULL, "a", echo, NULL), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_allow_capability(p, NULL, echo, NULL), -EINVAL, "name is NULL");
    assert_sbx_error(sbx_allow_capability(p, "a", NULL, NULL), -EINVAL, "fn is NULL");
    assert_sbx_error(sbx_allow_capability(p, "", echo, NULL), -EINVAL, "operation name \"\"");
    assert_sbx_error(sbx_allow_capability(p, "rm -rf", echo, NULL), -EINVAL,
                     "operation name \"rm -rf\" is not");
    char longname[80];
    memset(longname, 'a', 65);
    longname[65] = '\0';
    assert_sbx_error(sbx_allow_capability(p, longname, echo, NULL), -EINVAL, "is not 1 to 64");
    assert_sbx_ok(sbx_allow_capability(p, "echo", echo, NULL));
    assert_sbx_error(sbx_allow_capability(p, "echo", echo, NULL), -EEXIST,
                     "has an operation named \"echo\" already");
    assert_sbx_error(sbx_limit_capability_calls(p, 0), -EINVAL, "calls is 0");
    assert_sbx_error(sbx_limit_capability_request(p, 10), -EINVAL, "out of range (64 to");
    assert_sbx_error(sbx_limit_capability_request(p, 1ull << 30), -EINVAL, "out of range");
    assert_int_equal(sbx_policy_capability_count(NULL), 0);
    assert_null(sbx_call_name(NULL));
    assert_null(sbx_call_args(NULL, NULL));
    assert_int_equal(sbx_result_capability_calls(NULL), 0);
    assert_int_equal(sbx_result_capability_refused(NULL), 0);
    assert_sbx_error(sbx_call_reply(NULL, "1", 1), -EINVAL, "call is NULL");
    assert_sbx_error(sbx_call_fail(NULL, "x"), -EINVAL, "call is NULL");
    /* a copy has the operations too */
    sbx_policy *q = NULL;
    assert_sbx_ok(sbx_policy_dup(p, &q));
    assert_int_equal(sbx_policy_capability_count(q), 1);
    sbx_policy_free(q);
    sbx_policy_free(p);
}

/* The handler's side: replies that are not one JSON value are refused. */
static int bad_replies(sbx_call *call, void *userdata)
{
    int *checked = userdata;
    assert_string_equal(sbx_call_name(call), "bad");
    assert_sbx_error(sbx_call_reply(call, "{\"a\":", 5), -EINVAL,
                     "not one JSON value (incomplete)");
    assert_sbx_error(sbx_call_reply(call, "1 2", 3), -EINVAL, "more after the value");
    assert_sbx_error(sbx_call_reply(call, "nope", 4), -EINVAL, "not one JSON value");
    assert_sbx_error(sbx_call_reply(call, NULL, 0), -EINVAL, "json is NULL");
    static char big[128 * 1024 + 2];
    memset(big, ' ', sizeof(big));
    assert_sbx_error(sbx_call_reply(call, big, sizeof(big)), -E2BIG, "at most 131072");
    (*checked)++;
    return sbx_call_reply(call, "[true,false,null]", 17);
}

static void test_capchan__reply_checked(void **state)
{
    (void)state;
    int checked = 0;
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_capability(p, "bad", bad_replies, &checked));
    static const char *const argv[] = {CAP, "call", "bad", NULL};
    sbx_result *r = run(p, argv);
    assert_out(r, "ok [true,false,null]\n");
    assert_int_equal(checked, 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- tools with argument rules --------------------------------------------------------- */

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A repository on the host, with one commit; "" when git is missing. */
static void make_repo(char *dir)
{
    strcpy(dir, "/tmp/agentsbx-test-git.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "cd %s && git init -q -b main . && git config user.email t@example.com && "
             "git config user.name T && echo a > a && git add a && git commit -qm first",
             dir);
    assert_int_equal(sh(cmd), 0);
    assert_int_equal(chmod(dir, 0777), 0); /* sbxtest writes it too */
    snprintf(cmd, sizeof(cmd), "chmod -R a+rwX %s", dir);
    assert_int_equal(sh(cmd), 0);
}

static void remove_repo(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(sh(cmd), 0);
}

static const char *const git_allow[] = {"status *", "log *", "add *", "commit -m *", NULL};
static const char *const git_deny[] = {"-c", "--exec-path", "core.hooksPath", NULL};

static void test_capchan__hostile_tool_args_git(void **state)
{
    (void)state;
    if (access("/usr/bin/git", X_OK) != 0)
        SBX_SKIP("git is not installed");
    char repo[64];
    make_repo(repo);
    char script[1024];
    snprintf(
        script, sizeof(script),
        "cd %s || exit 9; git status --short; echo rc=$?; echo b > b; git add b; echo rc=$?; "
        "git commit -m second -q; echo rc=$?; git push origin main; echo rc=$?; "
        "git -c core.hooksPath=/tmp commit -q -m third >/dev/null; echo rc=$?; "
        "git config core.hooksPath /tmp; echo rc=$?; /usr/bin/git status >/dev/null; echo rc=$?",
        repo);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};

    /* the control: git granted plainly runs every one of them */
    sbx_policy *c = policy_new();
    assert_sbx_ok(sbx_allow_path(c, repo, SBX_FS_READ | SBX_FS_WRITE));
    /* the argument rules alone: not the protected list of the mount view */
    assert_sbx_ok(sbx_unprotect(c, ".git/config"));
    assert_sbx_ok(sbx_allow_tool(c, "git"));
    sbx_result *r = run(c, argv);
    const char *out = sbx_result_stdout(r, NULL);
    /* push fails for want of a remote (128), the -c commit has nothing left to
     * commit (1): each ran; config and the direct git succeed */
    if (strcmp(out, "rc=0\nrc=0\nrc=0\nrc=128\nrc=1\nrc=0\nrc=0\n") != 0)
        fail_msg("control: \"%s\" / \"%s\" (%s)", out, sbx_result_stderr(r, NULL), describe(r));
    assert_int_equal(sbx_result_tool_denial_count(r), 0);
    sbx_result_free(r);
    sbx_policy_free(c);
    remove_repo(repo);

    make_repo(repo);
    snprintf(
        script, sizeof(script),
        "cd %s || exit 9; git status --short; echo rc=$?; echo b > b; git add b; echo rc=$?; "
        "git commit -m second -q; echo rc=$?; git push origin main; echo rc=$?; "
        "git -c core.hooksPath=/tmp commit -q -m third >/dev/null; echo rc=$?; "
        "git config core.hooksPath /tmp; echo rc=$?; /usr/bin/git status >/dev/null; echo rc=$?",
        repo);
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, repo, SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_unprotect(p, ".git/config"));
    assert_sbx_ok(sbx_allow_tool_args(p, "git", git_allow, git_deny));
    r = run(p, argv);
    out = sbx_result_stdout(r, NULL);
    const char *err = sbx_result_stderr(r, NULL);
    /* status, add and commit ran (through the host); push, -c, config and the
     * real git executed directly did not */
    if (strcmp(out, "rc=0\nrc=0\nrc=0\nrc=126\nrc=126\nrc=126\nrc=126\n") != 0)
        fail_msg("got \"%s\" / \"%s\" (%s)", out, err, describe(r));
    assert_non_null(strstr(err, "agentsbx: git: denied: git push origin main: not allowed by"));
    assert_non_null(strstr(err, "argument \"-c\" is denied (-c)"));
    assert_non_null(strstr(err, "/usr/bin/git: Permission denied"));
    assert_int_equal(sbx_result_tool_denial_count(r), 3);
    assert_string_equal(sbx_result_tool_denial(r, 0),
                        "git push origin main: not allowed by the argument rules");
    assert_null(sbx_result_tool_denial(r, 3));
    assert_non_null(strstr(describe(r), "\"tool_denial_count\":3"));
    sbx_result_free(r);
    /* the commit is the host's, made by the real git in the repository */
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "cd %s && git log --format=%%s | tr '\\n' ' ' | grep -qx 'second first '", repo);
    assert_int_equal(sh(cmd), 0);
    snprintf(cmd, sizeof(cmd), "cd %s && ! git config core.hooksPath", repo);
    assert_int_equal(sh(cmd), 0);
    sbx_policy_free(p);
    remove_repo(repo);
}

/* Arguments changed by another thread while the call is made: the host checks
 * and runs its own copy, so "push" never runs, whatever the interleaving
 * (a seccomp-notification design would read the child's memory twice). */
static void test_capchan__hostile_tool_args_changed_by_a_thread(void **state)
{
    (void)state;
    if (access("/usr/bin/git", X_OK) != 0)
        SBX_SKIP("git is not installed");
    char repo[64], remote[64], cmd[512];
    make_repo(repo);
    make_repo(remote);
    snprintf(cmd, sizeof(cmd),
             "cd %s && git config receive.denyCurrentBranch ignore && cd %s && "
             "git remote add origin %s && git commit -q --allow-empty -m unpushed && "
             "chmod -R a+rwX %s %s",
             remote, repo, remote, repo, remote);
    assert_int_equal(sh(cmd), 0);
    static const char *const allow[] = {"status", NULL};
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, repo, SBX_FS_READ | SBX_FS_WRITE));
    assert_sbx_ok(sbx_allow_path(p, remote, SBX_FS_READ | SBX_FS_WRITE)); /* push could write */
    assert_sbx_ok(sbx_set_workdir(p, repo));
    assert_sbx_ok(sbx_allow_tool_args(p, "git", allow, NULL));
    static const char *const argv[] = {CAP, "race", "200", NULL};
    sbx_result *r = run(p, argv);
    long ran = -1, denied = -1, other = -1;
    if (sscanf(sbx_result_stdout(r, NULL), "ran=%ld denied=%ld other=%ld", &ran, &denied, &other) !=
            3 ||
        ran + denied + other != 200 || ran == 0 || denied == 0)
        fail_msg("unexpected: %s (%s)", sbx_result_stdout(r, NULL), describe(r));
    /* "other": an exec that failed while its arguments were being torn (the
     * kernel's own copy raced), so nothing ran */
    assert_int_equal((long)sbx_result_tool_denial_count(r), denied);
    sbx_result_free(r);
    sbx_policy_free(p);
    /* nothing was pushed: the remote has only its own commit */
    snprintf(cmd, sizeof(cmd), "cd %s && test \"$(git log --format=%%s main)\" = first", remote);
    assert_int_equal(sh(cmd), 0);
    remove_repo(repo);
    remove_repo(remote);
}

static void test_capchan__tool_args_bad_input(void **state)
{
    (void)state;
    if (access("/usr/bin/git", X_OK) != 0)
        SBX_SKIP("git is not installed");
    sbx_policy *p = policy_new();
    static const char *const none[] = {NULL};
    static const char *const empty[] = {"", NULL};
    assert_sbx_error(sbx_allow_tool_args(NULL, "git", git_allow, NULL), -EINVAL, "policy is NULL");
    assert_sbx_error(sbx_allow_tool_args(p, NULL, git_allow, NULL), -EINVAL, "tool is NULL");
    assert_sbx_error(sbx_allow_tool_args(p, "git", NULL, NULL), -EINVAL, "allow is NULL");
    assert_sbx_error(sbx_allow_tool_args(p, "git", none, NULL), -EINVAL, "allow has no pattern");
    assert_sbx_error(sbx_allow_tool_args(p, "git", empty, NULL), -EINVAL, "allow[0] is empty");
    assert_sbx_error(sbx_allow_tool_args(p, "git", git_allow, empty), -EINVAL, "deny[0] is empty");
    assert_sbx_error(sbx_allow_tool_args(p, "no-such-tool-here", git_allow, NULL), -ENOENT,
                     "not found in PATH");
    assert_sbx_error(sbx_allow_tool_args(p, "bin/git", git_allow, NULL), -EINVAL,
                     "neither a name nor an absolute path");
    assert_sbx_ok(sbx_allow_tool_args(p, "git", git_allow, NULL));
    assert_sbx_error(sbx_allow_tool_args(p, "/usr/bin/git", git_allow, NULL), -EEXIST,
                     "rules for \"git\" already");
    /* the real tool granted too: it could run around its rules */
    assert_sbx_ok(sbx_allow_tool(p, "git"));
    static const char *const argv[] = {"/bin/true", NULL};
    sbx_result *r = NULL;
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EINVAL, "could execute /usr/bin/git directly");
    sbx_policy_free(p);
    /* so could the exec system mode */
    p = policy_new();
    assert_sbx_ok(sbx_allow_tool_args(p, "git", git_allow, NULL));
    assert_sbx_ok(sbx_set_exec_mode(p, SBX_EXEC_SYSTEM));
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EINVAL,
                     "(the grant of the system directories (the exec system mode) with");
    sbx_policy_free(p);
    /* and an overlay: the tool would work on the host's tree, not the child's */
    char ws[] = "/tmp/agentsbx-test-ovl.XXXXXX";
    assert_non_null(mkdtemp(ws));
    p = policy_new();
    assert_sbx_ok(sbx_allow_tool_args(p, "git", git_allow, NULL));
    assert_sbx_ok(sbx_overlay(p, ws, NULL));
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_AUTO)); /* an overlay needs the view */
    assert_sbx_error(sbx_run(p, argv, NULL, 0, &r), -EOPNOTSUPP,
                     sbx_probe(SBX_FEATURE_MOUNT_NS, NULL, 0) > 0
                         ? "runs outside the child's overlay"
                         : "an overlay needs the mount namespace's view");
    sbx_policy_free(p);
    assert_int_equal(rmdir(ws), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_capchan__call_round_trip),
    cmocka_unit_test(test_capchan__handler_failure_and_unknown_op),
    cmocka_unit_test(test_capchan__hostile_malformed_frame),
    cmocka_unit_test(test_capchan__hostile_huge_frame),
    cmocka_unit_test(test_capchan__hostile_flood_closed),
    cmocka_unit_test(test_capchan__budget),
    cmocka_unit_test(test_capchan__grandchild_shares_the_channel),
    cmocka_unit_test(test_capchan__hostile_partial_frame_stalls_nobody),
    cmocka_unit_test(test_capchan__hostile_token_stays_in_host),
    cmocka_unit_test(test_capchan__audit_events),
    cmocka_unit_test(test_capchan__child_outlives_policy),
    cmocka_unit_test(test_capchan__bad_input),
    cmocka_unit_test(test_capchan__reply_checked),
    cmocka_unit_test(test_capchan__hostile_tool_args_git),
    cmocka_unit_test(test_capchan__hostile_tool_args_changed_by_a_thread),
    cmocka_unit_test(test_capchan__tool_args_bad_input),
};

SBX_TEST_MAIN(tests)
