/* Live tests of the output filter in sbx_run() and of the audit log: real
 * children print secrets and escapes, and end in each possible way; the audit
 * lines are parsed back with json-c. */
#include <json-c/json.h>
#include <sys/stat.h>
#include <time.h>

#include "live.h"

#define SECRET        "s3cr3t-token-value"
#define PROBE_SYSCALL SBX_PROBE_DIR "/probe_syscall"

/* ---- output --------------------------------------------------------------------- */

struct streamed {
    char buf[2][8192];
    size_t len[2];
};

static void collect(int stream, const char *data, size_t len, void *userdata)
{
    struct streamed *s = userdata;
    assert_true(stream == 1 || stream == 2);
    assert_true(len > 0);
    assert_true(s->len[stream - 1] + len < sizeof(s->buf[0]));
    memcpy(s->buf[stream - 1] + s->len[stream - 1], data, len);
    s->len[stream - 1] += len;
}

static void assert_output(const sbx_result *r, const char *out, const char *err)
{
    size_t n;
    const char *got = sbx_result_stdout(r, &n);
    if (strcmp(got, out) != 0 || n != strlen(out))
        fail_msg("stdout '%s', expected '%s'", got, out);
    got = sbx_result_stderr(r, &n);
    if (strcmp(got, err) != 0 || n != strlen(err))
        fail_msg("stderr '%s', expected '%s'", got, err);
}

static void test_output__run_redacts_and_neutralises(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    struct streamed s = {0};
    assert_sbx_ok(sbx_redact_value(p, SECRET));
    assert_sbx_ok(sbx_set_output_escapes(p, SBX_ESCAPES_NEUTRALISE));
    assert_sbx_ok(sbx_set_output_callback(p, collect, &s));
    assert_sbx_ok(sbx_allow_tool(p, "sleep"));
    /* the secret also comes in two writes, a moment apart: two reads */
    static const char *const argv[] = {
        "sh", "-c",
        "printf 'a " SECRET " b\\n\\033[31mred AKIAIOSFODNN7EXAMPLE\\n'; "
        "printf 'err " SECRET "\\n' >&2; printf 's3cr3t-'; sleep 0.2; printf 'token-value!'",
        NULL};
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_output(r, "a [REDACTED] b\n\\x1b[31mred [REDACTED]\n[REDACTED]!", "err [REDACTED]\n");
    assert_int_equal(sbx_result_redactions(r), 4);
    assert_int_equal(sbx_result_escapes(r), 1);
    /* the callback saw the same bytes as the result keeps */
    size_t n;
    const char *out = sbx_result_stdout(r, &n);
    assert_int_equal(s.len[0], n);
    assert_memory_equal(s.buf[0], out, n);
    out = sbx_result_stderr(r, &n);
    assert_int_equal(s.len[1], n);
    assert_memory_equal(s.buf[1], out, n);
    assert_non_null(strstr(describe(r), "\"redactions\":4,\"escapes\":1"));
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_output__defaults_redact_patterns_keep_escapes(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    static const char *const argv[] = {
        "sh", "-c", "printf '\\033[1mghp_0123456789abcdefghijABCDEFGHIJ012345\\n'", NULL};
    sbx_result *r = run_ok(p, argv);
    assert_output(r, "\033[1m[REDACTED]\n", "");
    assert_int_equal(sbx_result_redactions(r), 1);
    assert_int_equal(sbx_result_escapes(r), 0);
    sbx_result_free(r);
    /* patterns off: the bytes are passed as they are */
    assert_sbx_ok(sbx_set_redact_patterns(p, 0));
    r = run_ok(p, argv);
    assert_output(r, "\033[1mghp_0123456789abcdefghijABCDEFGHIJ012345\n", "");
    assert_int_equal(sbx_result_redactions(r), 0);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_output__limit_cuts_with_flag(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    struct streamed s = {0};
    assert_sbx_ok(sbx_limit_output(p, 10));
    assert_sbx_ok(sbx_set_output_callback(p, collect, &s));
    assert_sbx_ok(sbx_redact_value(p, SECRET));
    static const char *const argv[] = {
        "sh", "-c", "printf '" SECRET "0123456789abcdef'; printf 'short' >&2", NULL};
    sbx_result *r = run_ok(p, argv);
    assert_output(r, "[REDACTED]", "short");
    assert_int_equal(sbx_result_truncated(r, 1), 1);
    assert_int_equal(sbx_result_truncated(r, 2), 0);
    assert_int_equal(s.len[0], 10);
    assert_int_equal(s.len[1], 5);
    assert_int_equal(sbx_result_redactions(r), 1);
    sbx_result_free(r);
    sbx_policy_free(p);
}

/* ---- the audit log ------------------------------------------------------------------- */

struct audit {
    json_object *events[32];
    char *lines[32];
    size_t n;
};

static void on_audit(const char *line, size_t len, void *userdata)
{
    struct audit *a = userdata;
    assert_int_equal(strlen(line), len);
    assert_null(strchr(line, '\n'));
    assert_true(a->n < 32);
    json_tokener *tok = json_tokener_new();
    json_object *obj = json_tokener_parse_ex(tok, line, (int)len);
    if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len)
        fail_msg("audit line is not one JSON object: %s", line);
    json_tokener_free(tok);
    a->events[a->n] = obj;
    a->lines[a->n++] = strdup(line);
}

static void audit_free(struct audit *a)
{
    for (size_t i = 0; i < a->n; i++) {
        json_object_put(a->events[i]);
        free(a->lines[i]);
    }
    a->n = 0;
}

static const char *str_field(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        fail_msg("no string '%s' in %s", key, json_object_to_json_string(o));
    return json_object_get_string(v);
}

static int64_t int_field(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        fail_msg("no integer '%s' in %s", key, json_object_to_json_string(o));
    return json_object_get_int64(v);
}

/* Every event has its kind, an RFC 3339 UTC time with milliseconds, a
 * monotonic time that never goes back, and the child's pid; the kinds in
 * order are `kinds` (space-separated). */
static void check_events(const struct audit *a, pid_t pid, const char *kinds)
{
    char list[256] = "";
    int64_t mono = 0;
    for (size_t i = 0; i < a->n; i++) {
        json_object *e = a->events[i];
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " " : "",
                 str_field(e, "event"));
        const char *t = str_field(e, "time");
        int y, mo, d, h, mi, sec, ms;
        char z;
        if (strlen(t) != 24 ||
            sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &sec, &ms, &z) != 8 ||
            z != 'Z' || y < 2024)
            fail_msg("bad time '%s'", t);
        assert_true(int_field(e, "mono_ns") >= mono);
        mono = int_field(e, "mono_ns");
        assert_int_equal(int_field(e, "pid"), pid);
        assert_null(strstr(a->lines[i], SECRET));
    }
    if (strcmp(list, kinds) != 0)
        fail_msg("events '%s', expected '%s'", list, kinds);
}

static void check_spawn(json_object *e, const char *argv1)
{
    const char *digest = str_field(e, "policy_digest");
    assert_int_equal(strlen(digest), 7 + 64);
    assert_true(strncmp(digest, "sha256:", 7) == 0);
    json_object *argv, *layers;
    assert_true(json_object_object_get_ex(e, "argv", &argv));
    assert_true(json_object_object_get_ex(e, "layers", &layers));
    assert_true(json_object_array_length(layers) >= 3);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(layers, 0)), "hygiene");
    if (argv1)
        assert_string_equal(json_object_get_string(json_object_array_get_idx(argv, 1)), argv1);
}

static void check_exit(json_object *e, const char *status, int code, int sig)
{
    assert_string_equal(str_field(e, "status"), status);
    assert_int_equal(int_field(e, "exit_code"), code);
    assert_int_equal(int_field(e, "signal"), sig);
    json_object *wall;
    assert_true(json_object_object_get_ex(e, "wall_ms", &wall));
    assert_true(json_object_get_double(wall) > 0);
}

static sbx_policy *audited(struct audit *a)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_audit_callback(p, on_audit, a));
    assert_sbx_ok(sbx_redact_value(p, SECRET));
    return p;
}

static void test_output__audit_exit(void **state)
{
    (void)state;
    struct audit a = {0};
    sbx_policy *p = audited(&a);
    /* the secret in argv never reaches the log */
    static const char *const argv[] = {"sh", "-c", "exit 3", SECRET, NULL};
    sbx_child *c = NULL;
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, NULL, &c));
    assert_int_equal(a.n, 1); /* the spawn event, at once */
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_EXITED, 3);
    check_events(&a, sbx_child_pid(c), "spawn exit");
    check_spawn(a.events[0], "-c");
    json_object *argv_json;
    assert_true(json_object_object_get_ex(a.events[0], "argv", &argv_json));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(argv_json, 3)),
                        "[REDACTED]");
    check_exit(a.events[1], "exited", 3, 0);
    sbx_result_free(r);
    sbx_child_free(c);
    audit_free(&a);
    sbx_policy_free(p);
}

static void test_output__audit_signal(void **state)
{
    (void)state;
    struct audit a = {0};
    sbx_policy *p = audited(&a);
    static const char *const argv[] = {"sh", "-c", "kill -TERM $$", NULL};
    sbx_child *c = NULL;
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, NULL, &c));
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_SIGNALED, SIGTERM);
    check_events(&a, sbx_child_pid(c), "spawn exit");
    check_exit(a.events[1], "signaled", -1, SIGTERM);
    sbx_result_free(r);
    sbx_child_free(c);
    audit_free(&a);
    sbx_policy_free(p);
}

static void test_output__audit_timeout(void **state)
{
    (void)state;
    struct audit a = {0};
    sbx_policy *p = audited(&a);
    assert_sbx_ok(sbx_limit_wall_time(p, 200));
    static const char *const argv[] = {"sleep", "10", NULL};
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    pid_t pid = (pid_t)int_field(a.events[0], "pid");
    check_events(&a, pid, "spawn limit kill exit");
    assert_string_equal(str_field(a.events[1], "limit"), "timeout");
    assert_string_equal(str_field(a.events[2], "reason"), "timeout");
    check_exit(a.events[3], "timed_out", -1, SIGKILL);
    sbx_result_free(r);
    audit_free(&a);
    sbx_policy_free(p);
}

static void test_output__audit_kill(void **state)
{
    (void)state;
    struct audit a = {0};
    sbx_policy *p = audited(&a);
    static const char *const argv[] = {"sleep", "10", NULL};
    sbx_child *c = NULL;
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, NULL, &c));
    assert_sbx_ok(sbx_child_kill(c));
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_KILLED, SIGKILL);
    check_events(&a, sbx_child_pid(c), "spawn kill exit");
    assert_string_equal(str_field(a.events[1], "reason"), "host");
    check_exit(a.events[2], "killed", -1, SIGKILL);
    sbx_result_free(r);
    sbx_child_free(c);
    audit_free(&a);
    sbx_policy_free(p);
}

static void test_output__audit_cpu_limit(void **state)
{
    (void)state;
    struct audit a = {0};
    sbx_policy *p = audited(&a);
    assert_sbx_ok(sbx_limit_cpu_time(p, 1));
    static const char *const argv[] = {"sh", "-c", "while :; do :; done", NULL};
    sbx_result *r = run_ok(p, argv);
    if (sbx_result_status(r) != SBX_STATUS_CPU_LIMIT)
        fail_msg("expected cpu_limit, got %s", describe(r));
    pid_t pid = (pid_t)int_field(a.events[0], "pid");
    check_events(&a, pid, "spawn limit exit");
    assert_string_equal(str_field(a.events[1], "limit"), "cpu");
    check_exit(a.events[2], "cpu_limit", -1, sbx_result_signal(r));
    sbx_result_free(r);
    audit_free(&a);
    sbx_policy_free(p);
}

static void test_output__audit_violation(void **state)
{
    (void)state;
    struct audit a = {0};
    sbx_policy *p = audited(&a);
    assert_sbx_ok(sbx_set_violation_limit(p, 2));
    static const char *const argv[] = {PROBE_SYSCALL, "bpf", "keyctl", "ptrace", NULL};
    sbx_result *r = run_ok(p, argv);
    if (sbx_result_status(r) != SBX_STATUS_VIOLATION) {
        if (!(sbx_result_layers(r) & SBX_LAYER_MONITOR))
            SBX_SKIP("the violation monitor (seccomp user notification) is not available");
        fail_msg("expected violation, got %s", describe(r));
    }
    pid_t pid = (pid_t)int_field(a.events[0], "pid");
    check_events(&a, pid, "spawn violation violation limit kill exit");
    assert_string_equal(str_field(a.events[1], "syscall"), "bpf");
    assert_string_equal(str_field(a.events[1], "errno"), "EPERM");
    assert_string_equal(str_field(a.events[2], "syscall"), "keyctl");
    assert_true(int_field(a.events[1], "thread") > 0);
    assert_string_equal(str_field(a.events[3], "limit"), "violations");
    assert_string_equal(str_field(a.events[4], "reason"), "violation_limit");
    check_exit(a.events[5], "violation", -1, SIGKILL);
    /* two violations, both written and kept: nothing dropped */
    assert_int_equal(int_field(a.events[5], "audit_dropped"), 0);
    assert_int_equal(sbx_result_audit_dropped(r), 0);
    assert_int_equal(sbx_result_violations_dropped(r), 0);
    sbx_result_free(r);
    audit_free(&a);
    sbx_policy_free(p);
}

/* To a descriptor: one line per event, each ending in a newline. */
static void test_output__audit_fd(void **state)
{
    (void)state;
    char path[] = "/tmp/test_output.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_audit_fd(p, fd));
    assert_sbx_ok(sbx_redact_value(p, SECRET));
    static const char *const argv[] = {"echo", SECRET, NULL};
    sbx_result *r = run_ok(p, argv);
    assert_output(r, "[REDACTED]\n", "");
    sbx_result_free(r);
    r = run_ok(p, argv);
    sbx_result_free(r);
    sbx_policy_free(p);
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_null(strstr(buf, SECRET));
    int lines = 0;
    for (char *line = buf, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, lines++) {
        *nl = '\0';
        json_object *o = json_tokener_parse(line);
        if (!o)
            fail_msg("not JSON: %s", line);
        const char *want = lines % 2 ? "exit" : "spawn";
        assert_string_equal(str_field(o, "event"), want);
        json_object_put(o);
    }
    assert_int_equal(lines, 4);
    assert_int_equal(buf[n - 1], '\0'); /* the last line ended in a newline */
}

static void test_output__no_audit_without_settings(void **state)
{
    (void)state;
    struct audit a = {0};
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_set_audit_callback(p, on_audit, &a));
    assert_sbx_ok(sbx_set_audit_callback(p, NULL, NULL)); /* removed again */
    static const char *const argv[] = {"true", NULL};
    sbx_result *r = run_ok(p, argv);
    sbx_result_free(r);
    assert_int_equal(a.n, 0);
    sbx_policy_free(p);
}

/* ---- a slow reader under a flood (issue 13, item 6) ------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct slow {
    unsigned calls;
    size_t bytes;
};

/* An output callback as slow as a host that forwards to a stalled reader. */
static void slow_reader(int stream, const char *data, size_t len, void *userdata)
{
    struct slow *s = userdata;
    (void)stream;
    (void)data;
    s->calls++;
    s->bytes += len;
    const struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

/* Runs argv with a 1 s wall limit and the slow callback; returns the seconds sbx_run() took. */
static double run_slow(const char *const *argv, struct slow *s, sbx_result **r)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_limit_wall_time(p, 1000));
    assert_sbx_ok(sbx_set_output_callback(p, slow_reader, s));
    double t0 = now_s();
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, r));
    double took = now_s() - t0;
    sbx_policy_free(p);
    return took;
}

/* The deadline holds while the child floods and the callback is slow: the
 * engine reads a bounded amount per step and looks at the clock in between. */
static void test_output__flood_slow_callback_timeout(void **state)
{
    (void)state;
    struct slow s = {0};
    sbx_result *r = NULL;
    static const char *const argv[] = {"/usr/bin/yes", NULL};
    double took = run_slow(argv, &s, &r);
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    if (took >= 4.0)
        fail_msg("sbx_run took %.2f s with a 1 s limit (%u callbacks)", took, s.calls);
    /* the control: it really flooded, and the callback was really slow */
    if (s.calls < 10 || took < 0.95)
        fail_msg("no flood: %u callbacks, %zu bytes in %.2f s", s.calls, s.bytes, took);
    size_t n;
    const char *out = sbx_result_stdout(r, &n);
    assert_int_equal(n, s.bytes);
    assert_memory_equal(out, "y\ny\ny\n", 6);
    sbx_result_free(r);
    assert_no_children();
}

/* The same when the child first makes both pipes as large as it may (1 MiB)
 * and fills them: the drain after the kill is bounded in time too. */
static void test_output__flood_big_pipes_slow_callback(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0)
        SBX_SKIP("/usr/bin/python3 is not installed");
    struct slow s = {0};
    sbx_result *r = NULL;
    static const char *const argv[] = {"/usr/bin/python3", "-c",
                                       "import fcntl, os\n"
                                       "grown = 0\n"
                                       "for fd in (1, 2):\n"
                                       "    try:\n"
                                       "        fcntl.fcntl(fd, 1031, 1 << 20)\n" /* F_SETPIPE_SZ */
                                       "        grown += 1\n"
                                       "    except OSError:\n"
                                       "        pass\n"
                                       "    os.set_blocking(fd, False)\n"
                                       "chunk = b'y' * 65536\n"
                                       "while True:\n"
                                       "    for fd in (1, 2):\n"
                                       "        try:\n"
                                       "            os.write(fd, chunk)\n"
                                       "        except BlockingIOError:\n"
                                       "            pass\n",
                                       NULL};
    double took = run_slow(argv, &s, &r);
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    if (took >= 4.0)
        fail_msg("sbx_run took %.2f s with a 1 s limit (%u callbacks, %zu bytes)", took, s.calls,
                 s.bytes);
    if (s.calls < 10)
        fail_msg("no flood: %u callbacks, %zu bytes in %.2f s", s.calls, s.bytes, took);
    sbx_result_free(r);
    assert_no_children();
}

/* ---- Unicode classes (issue 20) ---------------------------------------------------- */

/* U+E0069 U+E0067 ("ig" in tag characters), U+202E, U+200B, as printf octal. */
#define TAGS_IG  "\\363\\240\\201\\251\\363\\240\\201\\247"
#define RLO_OCT  "\\342\\200\\256"
#define ZWSP_OCT "\\342\\200\\213"

static void test_output__run_unicode_classes(void **state)
{
    (void)state;
    static const char *const argv[] = {
        "sh", "-c",
        "printf 'a" TAGS_IG "b" RLO_OCT "c" ZWSP_OCT "d\\377'; printf '" TAGS_IG "' >&2", NULL};
    /* the control: by default every byte is kept, and counted */
    sbx_policy *p = policy_new();
    sbx_result *r = run_ok(p, argv);
    assert_output(r,
                  "a\xf3\xa0\x81\xa9\xf3\xa0\x81\xa7"
                  "b\xe2\x80\xae"
                  "c\xe2\x80\x8b"
                  "d\xff",
                  "\xf3\xa0\x81\xa9\xf3\xa0\x81\xa7");
    assert_int_equal(sbx_result_unicode(r, SBX_UNICODE_TAGS), 4);
    assert_int_equal(sbx_result_unicode(r, SBX_UNICODE_BIDI), 1);
    assert_int_equal(sbx_result_unicode(r, SBX_UNICODE_INVISIBLE), 1);
    assert_int_equal(sbx_result_unicode(r, SBX_UNICODE_INVALID_UTF8), 1);
    assert_string_equal(sbx_result_unicode_tag_text(r), "ig\nig");
    sbx_result_free(r);
    sbx_policy_free(p);
    /* tags escaped, bidi and invisible characters stripped, invalid UTF-8
     * replaced; the counts and the tag text in the result, its JSON and the
     * audit exit event */
    struct audit a = {0};
    p = audited(&a);
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_TAGS, SBX_UNICODE_ESCAPE));
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_BIDI, SBX_UNICODE_STRIP));
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_INVISIBLE, SBX_UNICODE_STRIP));
    assert_sbx_ok(sbx_set_output_unicode(p, SBX_UNICODE_INVALID_UTF8, SBX_UNICODE_REPLACE));
    r = run_ok(p, argv);
    assert_output(r, "a\\u{E0069}\\u{E0067}bcd\xef\xbf\xbd", "\\u{E0069}\\u{E0067}");
    assert_int_equal(sbx_result_unicode(r, SBX_UNICODE_TAGS), 4);
    assert_int_equal(sbx_result_unicode(r, SBX_UNICODE_BIDI), 1);
    assert_int_equal(sbx_result_unicode(r, SBX_UNICODE_INVISIBLE), 1);
    assert_int_equal(sbx_result_unicode(r, SBX_UNICODE_INVALID_UTF8), 1);
    assert_string_equal(sbx_result_unicode_tag_text(r), "ig\nig");
    char json[4096];
    assert_true(sbx_result_to_json(r, json, sizeof(json)) > 0);
    static const char want[] = "\"unicode\":{\"tags\":4,\"bidi\":1,\"invisible\":1,"
                               "\"invalid_utf8\":1,\"tag_text\":\"ig\\nig\"}";
    if (!strstr(json, want))
        fail_msg("no %s in %s", want, json);
    json_object *exit_event = a.events[a.n - 1], *u;
    assert_string_equal(str_field(exit_event, "event"), "exit");
    assert_true(json_object_object_get_ex(exit_event, "unicode", &u));
    assert_int_equal(int_field(u, "tags"), 4);
    assert_int_equal(int_field(u, "bidi"), 1);
    assert_int_equal(int_field(u, "invisible"), 1);
    assert_int_equal(int_field(u, "invalid_utf8"), 1);
    assert_string_equal(str_field(u, "tag_text"), "ig\nig");
    sbx_result_free(r);
    audit_free(&a);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_output__run_redacts_and_neutralises),
    cmocka_unit_test(test_output__defaults_redact_patterns_keep_escapes),
    cmocka_unit_test(test_output__limit_cuts_with_flag),
    cmocka_unit_test(test_output__audit_exit),
    cmocka_unit_test(test_output__audit_signal),
    cmocka_unit_test(test_output__audit_timeout),
    cmocka_unit_test(test_output__audit_kill),
    cmocka_unit_test(test_output__audit_cpu_limit),
    cmocka_unit_test(test_output__audit_violation),
    cmocka_unit_test(test_output__audit_fd),
    cmocka_unit_test(test_output__no_audit_without_settings),
    cmocka_unit_test(test_output__flood_slow_callback_timeout),
    cmocka_unit_test(test_output__flood_big_pipes_slow_callback),
    cmocka_unit_test(test_output__run_unicode_classes),
};

SBX_TEST_MAIN(tests)
