/* Live tests of the built-in profiles (sbx_policy_apply_profile(),
 * docs/policy-files.md): what each allows and denies, run for real.
 *
 * Every denial runs a probe from tests/hostile (probe_fs, probe_net) twice:
 * confined, where it must fail with EACCES, and unconfined with plain
 * posix_spawn, where the same action must succeed (the control that proves
 * the check can fail). Each case works in a fresh directory
 * /tmp/sbx-prof-XXXXXX: work/ is the process's current directory when the
 * profile is applied (workspace and networked make it the working
 * directory), out/ is never granted. TCP cases need Landlock ABI 4 and are
 * skipped, saying so, below it; on a kernel below ABI 6 the Landlock layer is
 * marked best-effort, as in test_landlock.c, since a strict default policy
 * cannot run there at all. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "testutil.h"

#define PROBE_FS  SBX_PROBE_DIR "/probe_fs"
#define PROBE_NET SBX_PROBE_DIR "/probe_net"
#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

extern char **environ;

static struct {
    char base[64];
    char work[128], out[128];
    char cwd[PATH_MAX]; /* to go back to */
    int fds[4];         /* listeners */
} fx;

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int setup(void **state)
{
    memset(&fx, 0, sizeof(fx));
    for (size_t i = 0; i < 4; i++)
        fx.fds[i] = -1;
    if (!getcwd(fx.cwd, sizeof(fx.cwd)))
        return -1;
    snprintf(fx.base, sizeof(fx.base), "/tmp/sbx-prof-XXXXXX");
    if (!mkdtemp(fx.base) || chmod(fx.base, 0755) != 0)
        return -1;
    snprintf(fx.work, sizeof(fx.work), "%s/work", fx.base);
    snprintf(fx.out, sizeof(fx.out), "%s/out", fx.base);
    char path[256];
    if (mkdir(fx.work, 0755) != 0 || mkdir(fx.out, 0755) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/w.txt", fx.work);
    if (write_text(path, "work\n") != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/o.txt", fx.out);
    if (write_text(path, "out\n") != 0)
        return -1;
    return chdir(fx.work);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

static int teardown(void **state)
{
    for (size_t i = 0; i < 4; i++)
        if (fx.fds[i] >= 0)
            close(fx.fds[i]);
    if (chdir(fx.cwd) != 0)
        return -1;
    if (fx.base[0])
        nftw(fx.base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* dir/name (from a ring of buffers: valid for 8 calls). */
static const char *P(const char *dir, const char *name)
{
    static char ring[8][PATH_MAX];
    static unsigned next;
    char *buf = ring[next++ % 8];
    snprintf(buf, PATH_MAX, "%s/%s", dir, name);
    return buf;
}

/* A policy from a profile (Landlock best-effort below ABI 6, see the top). */
static sbx_policy *profile(const char *name)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_MINIMAL)); /* Landlock on its own */
    if (sbx_landlock_abi() < 6)
        assert_sbx_ok(sbx_set_best_effort(p, SBX_LAYER_LANDLOCK));
    assert_sbx_ok(sbx_policy_apply_profile(p, name));
    return p;
}

#define need_abi(n, feature)                                                                       \
    do {                                                                                           \
        if (sbx_landlock_abi() < (n))                                                              \
            SBX_SKIP("%s needs Landlock ABI %d; the library uses ABI %d on this kernel",           \
                     (feature), (n), sbx_landlock_abi());                                          \
    } while (0)

struct outcome {
    int code;
    char out[4096];
    char err[4096];
};

static struct outcome confined(const sbx_policy *p, const char *const *argv)
{
    struct outcome o;
    memset(&o, 0, sizeof(o));
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &r));
    if (sbx_result_status(r) != SBX_STATUS_EXITED)
        fail_msg("%s %s did not exit: %s", argv[0], argv[1], sbx_status_name(sbx_result_status(r)));
    if (sbx_landlock_abi() >= 1 && !(sbx_result_layers(r) & SBX_LAYER_LANDLOCK))
        fail_msg("Landlock was not enforced");
    o.code = sbx_result_exit_code(r);
    snprintf(o.out, sizeof(o.out), "%s", sbx_result_stdout(r, NULL));
    snprintf(o.err, sizeof(o.err), "%s", sbx_result_stderr(r, NULL));
    sbx_result_free(r);
    return o;
}

/* The control: the same argv with plain posix_spawn, in the current directory. */
static struct outcome unconfined(const char *const *argv)
{
    struct outcome o;
    memset(&o, 0, sizeof(o));
    int out[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        fail_msg("posix_spawn(%s): %s", argv[0], strerror(rc));
    close(out[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(out[0], o.out + len, sizeof(o.out) - 1 - len)) > 0)
        len += (size_t)n;
    o.out[len] = '\0';
    close(out[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    o.code = WEXITSTATUS(st);
    return o;
}

static void expect(struct outcome o, int code, const char *first_line, const char *what)
{
    size_t n = strlen(first_line);
    if (o.code != code || strncmp(o.out, first_line, n) != 0 ||
        (o.out[n] != '\n' && o.out[n] != '\0' && o.out[n] != ' '))
        fail_msg("%s: expected exit %d and '%s', got exit %d and '%s' (stderr: %s)", what, code,
                 first_line, o.code, o.out, o.err);
}

/* Confined: denied with EACCES; unconfined: done. */
#define EXPECT_DENIED(p, ...)                                                                      \
    do {                                                                                           \
        expect(confined((p), ARGV(__VA_ARGS__)), 1, "denied EACCES", "confined " #__VA_ARGS__);    \
        expect(unconfined(ARGV(__VA_ARGS__)), 0, "ok", "unconfined " #__VA_ARGS__);                \
    } while (0)
#define EXPECT_ALLOWED(p, ...)                                                                     \
    expect(confined((p), ARGV(__VA_ARGS__)), 0, "ok", "confined " #__VA_ARGS__)

/* A TCP listener on 127.0.0.1:port (0: ephemeral), kept until the teardown;
 * its port, or -errno if it cannot be had. */
static int listener(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    int one = 1;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    for (size_t i = 0; i < 4; i++) {
        if (fx.fds[i] < 0) {
            fx.fds[i] = fd;
            return ntohs(sa.sin_port);
        }
    }
    fail_msg("too many listeners");
    return -1;
}

static const char *port_arg(int port)
{
    static char buf[4][16];
    static unsigned next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof(buf[0]), "%d", port);
    return b;
}

/* ---- cases --------------------------------------------------------------------------------- */

/* minimal: the system can be read, and nothing else: no writes (not even the
 * current directory, which it does not grant), no TMPDIR, no TCP, nothing
 * executable but the program. */
static void test_profiles__minimal(void **state)
{
    sbx_policy *p = profile("minimal");
    EXPECT_ALLOWED(p, PROBE_FS, "read", "/etc/passwd");
    EXPECT_DENIED(p, PROBE_FS, "create", P(fx.work, "new"));
    EXPECT_DENIED(p, PROBE_FS, "write", P(fx.work, "w.txt"));
    EXPECT_DENIED(p, PROBE_FS, "read", P(fx.work, "w.txt"));
    EXPECT_DENIED(p, PROBE_FS, "create", P(fx.out, "new"));
    EXPECT_DENIED(p, PROBE_FS, "exec", "/bin/true");
    /* no private TMPDIR: the probe finds none */
    expect(confined(p, ARGV(PROBE_FS, "tmpdir")), 1, "TMPDIR=", "confined tmpdir");
    if (sbx_landlock_abi() >= 4) {
        int port = listener(0);
        assert_true(port > 0);
        EXPECT_DENIED(p, PROBE_NET, "connect", port_arg(port));
    }
    sbx_policy_free(p);
}

/* workspace: read the system, read and write the current directory and a
 * private TMPDIR; nothing else is writable, no TCP, no tools. */
static void test_profiles__workspace(void **state)
{
    sbx_policy *p = profile("workspace");
    EXPECT_ALLOWED(p, PROBE_FS, "read", "/etc/passwd");
    EXPECT_ALLOWED(p, PROBE_FS, "read", P(fx.work, "w.txt"));
    EXPECT_ALLOWED(p, PROBE_FS, "write", P(fx.work, "w.txt"));
    EXPECT_ALLOWED(p, PROBE_FS, "create", P(fx.work, "new"));
    EXPECT_ALLOWED(p, PROBE_FS, "create", "relative-new"); /* runs in the workdir */
    struct stat st;
    assert_int_equal(stat(P(fx.work, "relative-new"), &st), 0);
    struct outcome t = confined(p, ARGV(PROBE_FS, "tmpdir"));
    if (t.code != 0 || strncmp(t.out, "TMPDIR=/", 8) != 0 || !strstr(t.out, "\nok"))
        fail_msg("workspace has no usable private TMPDIR: exit %d, '%s'", t.code, t.out);
    EXPECT_DENIED(p, PROBE_FS, "read", P(fx.out, "o.txt"));
    EXPECT_DENIED(p, PROBE_FS, "create", P(fx.out, "new"));
    EXPECT_DENIED(p, PROBE_FS, "exec", "/bin/true");
    if (sbx_landlock_abi() >= 4) {
        int port = listener(0);
        assert_true(port > 0);
        EXPECT_DENIED(p, PROBE_NET, "connect", port_arg(port));
        /* A listener on 443 when this process can have one (root, port free):
         * without the grant the connection is refused by Landlock either way. */
        (void)listener(443);
        expect(confined(p, ARGV(PROBE_NET, "connect", "443")), 1, "denied EACCES",
               "workspace connect 443");
    }
    sbx_policy_free(p);
}

/* networked: workspace, plus TCP connections to ports 80 and 443 and no other. */
static void test_profiles__networked(void **state)
{
    need_abi(4, "TCP port rules");
    sbx_policy *p = profile("networked");
    const char *web[] = {"80", "443"};
    for (size_t i = 0; i < 2; i++) {
        int port = listener(atoi(web[i]));
        struct outcome o = confined(p, ARGV(PROBE_NET, "connect", web[i]));
        if (port > 0) {
            expect(o, 0, "ok", web[i]);
        } else if (!(o.code == 0 && strncmp(o.out, "ok", 2) == 0) &&
                   !(o.code == 1 && strncmp(o.out, "denied ECONNREFUSED", 19) == 0)) {
            /* No listener of ours (not root, or the port is taken): the
             * connection must get through Landlock to the TCP stack. */
            fail_msg("connect %s: expected ok or ECONNREFUSED, got '%s'", web[i], o.out);
        }
    }
    int other = listener(0);
    assert_true(other > 0);
    EXPECT_DENIED(p, PROBE_NET, "connect", port_arg(other));
    EXPECT_DENIED(p, PROBE_NET, "bind", "0");
    EXPECT_ALLOWED(p, PROBE_FS, "create", P(fx.work, "new"));
    EXPECT_DENIED(p, PROBE_FS, "create", P(fx.out, "new"));
    sbx_policy_free(p);
}

/* A policy file starts from a profile and adds a grant: the grant holds, and
 * the rest of the profile still denies. */
static void test_profiles__file_adds_to_profile(void **state)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_MINIMAL)); /* Landlock on its own */
    if (sbx_landlock_abi() < 6)
        assert_sbx_ok(sbx_set_best_effort(p, SBX_LAYER_LANDLOCK));
    char json[512];
    snprintf(json, sizeof(json),
             "{\"version\": 1, \"profile\": \"minimal\", \"grants\": [{\"path\": \"%s\", "
             "\"access\": [\"read\", \"write\"]}], \"tools\": [\"/bin/true\"]}",
             fx.out);
    assert_sbx_ok(sbx_policy_load_json(p, json));
    EXPECT_ALLOWED(p, PROBE_FS, "create", P(fx.out, "new"));
    EXPECT_ALLOWED(p, PROBE_FS, "exec", "/bin/true");
    EXPECT_DENIED(p, PROBE_FS, "create", P(fx.work, "new"));
    EXPECT_DENIED(p, PROBE_FS, "exec", "/bin/false");
    sbx_policy_free(p);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_profiles__minimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiles__workspace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiles__networked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiles__file_adds_to_profile, setup, teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (failed == 0 && sbx_test_skipped && argc > 1)
        return 77;
    return failed == 0 ? 0 : 1;
}
