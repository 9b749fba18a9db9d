/* Real clients through the egress broker (issue 17, "done when"): Python's
 * urllib (HTTP, and HTTPS through a CONNECT tunnel to a TLS server with a
 * self-signed certificate), `git clone` over smart HTTP, `pip download` from a
 * PEP 503 index and `npm install` from a registry, each run by sbx_run()
 * against local servers (tests/live/clients_origin.py) on 127.0.0.1, reached
 * by names the broker resolves (sbx_broker_resolve()), never the child.
 *
 * Each case runs its client four times:
 * - allowed: the granted name works, the content is the server's, byte for
 *   byte, and the result's network counters show it went through the broker
 *   (a connection, at least the content's size downloaded);
 * - refused: a name not granted, the server's IP literal and the cloud
 *   metadata address fail through the broker, and the result names the host,
 *   the port and the reason of each;
 * - direct: the same client with the proxy variables unset, to 127.0.0.1
 *   and the server's port, fails in the sandbox: Landlock holds the child to
 *   the broker's port, and the result (diagnose mode) has the denied connect;
 * - control: that direct command unconfined reaches the server.
 * The suite runs in the minimal isolation, its __auto twins in the default
 * (namespaces), its __fallback twins under the clone(2) spawn path. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "live.h"

#define ORIGIN_PY SBX_SOURCE_DIR "/tests/live/clients_origin.py"
#define PYTHON    "/usr/bin/python3"

/* ---- helpers -------------------------------------------------------------------------- */

/* A command line: arguments formatted into its own buffers. */
struct cmd {
    char buf[24][512];
    const char *argv[25];
    int n;
};

static void add(struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct cmd *c, const char *fmt, ...)
{
    assert_true(c->n < 24);
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(c->buf[c->n], sizeof(c->buf[c->n]), fmt, ap);
    va_end(ap);
    assert_true(len >= 0 && (size_t)len < sizeof(c->buf[c->n]));
    c->argv[c->n] = c->buf[c->n];
    c->argv[++c->n] = NULL;
}

/* Run argv unconfined, without the test's proxy variables; its standard
 * output and error in out; the exit status. */
static int run(const char *const argv[], char *out, size_t size)
{
    return run_plain(argv, true, out, size);
}

/* The whole of a file, or NULL (*len its size). */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) == 0 && (data = malloc((size_t)st.st_size + 1)) != NULL &&
        read(fd, data, (size_t)st.st_size) != st.st_size) {
        free(data);
        data = NULL;
    }
    close(fd);
    if (data)
        *len = (size_t)st.st_size;
    return data;
}

/* Whether the two files hold the same bytes (and the first is not empty). */
static bool same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *da = slurp(a, &la), *db = slurp(b, &lb);
    bool same = da && db && la > 0 && la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return same;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The fixture: a temporary directory with the server's content (root/), the
 * clients' working directory (work/), and the server. */
struct fx {
    char dir[64], root[96], work[96], cert[96], key[96];
    pid_t pid;
    unsigned port;
    bool tls;
};

static void fx_stop(struct fx *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
        f->pid = 0;
    }
    if (f->dir[0]) {
        const char *rm[] = {"rm", "-rf", f->dir, NULL};
        char out[256];
        assert_int_equal(run(rm, out, sizeof(out)), 0);
        f->dir[0] = '\0';
    }
}

/* Make the directory (and a certificate for tls) and start the server; fails
 * the case after cleaning up when that goes wrong. */
static void fx_start(struct fx *f, bool tls)
{
    memset(f, 0, sizeof(*f));
    f->tls = tls;
    snprintf(f->dir, sizeof(f->dir), "/tmp/sbx-clients-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
    snprintf(f->work, sizeof(f->work), "%s/work", f->dir);
    snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
    snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
    char out[2048] = "";
    if (mkdir(f->root, 0700) != 0 || mkdir(f->work, 0700) != 0) {
        fx_stop(f);
        fail_msg("mkdir in %s: %s", f->dir, strerror(errno));
    }
    if (tls) {
        if (make_test_cert(f->cert, f->key, "agentsbx test",
                           "DNS:web.test,DNS:git.test,DNS:pypi.test,DNS:registry.test,"
                           "DNS:other.test,IP:127.0.0.1",
                           out, sizeof(out)) != 0) {
            fx_stop(f);
            fail_msg("openssl req: %s", out);
        }
    }
    char *const tls_argv[] = {PYTHON, ORIGIN_PY, f->root, f->cert, f->key, NULL};
    char *const plain_argv[] = {PYTHON, ORIGIN_PY, f->root, NULL};
    char line[32];
    f->port = start_server(tls ? tls_argv : plain_argv, &f->pid, line);
    if (f->port == 0) {
        fx_stop(f);
        fail_msg("the server did not start (read '%s')", line);
    }
}

/* A client: how to run it and what it must fetch. */
struct client {
    const char *host; /* the name granted and pinned to 127.0.0.1 */
    const char *tool; /* what NEED_PROGRAM() checks */
    /* Its command line for BASE ("http://HOST:PORT"), HOST, and DEST, a new
     * directory (absolute) beneath work/ that the fetched content goes to. */
    void (*command)(struct cmd *c, const struct fx *f, const char *base, const char *host,
                    const char *dest);
    /* Grants beyond the working directory, and environment (NAME=VALUE, NULL-terminated). */
    void (*grant)(sbx_policy *p, const struct fx *f);
    void (*env)(struct cmd *e, const struct fx *f);
    const char *got;  /* the fetched file, beneath DEST */
    const char *want; /* the server's copy of it, beneath root/ */
};

static const char *const UNSET_PROXY =
    "unset http_proxy https_proxy all_proxy no_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY NO_PROXY;"
    " exec \"$@\"";

static sbx_policy *client_policy(const struct client *c, const struct fx *f)
{
    sbx_policy *p = policy_new();
    char grant[64];
    snprintf(grant, sizeof(grant), "%s:%u", c->host, f->port);
    assert_sbx_ok(sbx_allow_host(p, grant));
    assert_sbx_ok(sbx_broker_resolve(p, c->host, "127.0.0.1"));
    assert_sbx_ok(sbx_set_workdir(p, f->work));
    assert_sbx_ok(sbx_limit_wall_time(p, 90000));
    struct cmd e = {0};
    c->env(&e, f);
    for (int i = 0; i < e.n; i++) {
        char name[64];
        const char *eq = strchr(e.argv[i], '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq - e.argv[i]), e.argv[i]);
        assert_sbx_ok(sbx_set_env(p, name, eq + 1));
    }
    c->grant(p, f);
    if (f->tls)
        assert_sbx_ok(sbx_allow_path(p, f->cert, SBX_FS_READ));
    return p;
}

/* The first failure of a case, kept until its fixture is cleaned up. */
struct verdict {
    char why[4096];
};

static void verdict_fail(struct verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void verdict_fail(struct verdict *v, const char *fmt, ...)
{
    if (v->why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof(v->why), fmt, ap);
    va_end(ap);
}

/* The result, its network report and the child's standard error, for messages. */
static const char *explain(const sbx_result *r)
{
    static char buf[3072];
    char json[8192];
    const char *net = "";
    if (sbx_result_to_json(r, json, sizeof(json)) > 0 && (net = strstr(json, "\"network\":")))
        ;
    else
        net = "(no network report)";
    size_t elen = 0;
    const char *err = sbx_result_stderr(r, &elen);
    snprintf(buf, sizeof(buf), "status %s, exit %d; %.700s; stderr: %.1500s",
             sbx_status_name(sbx_result_status(r)), sbx_result_exit_code(r), net, err ? err : "");
    return buf;
}

static sbx_result *sandboxed(const sbx_policy *p, const char *const *argv)
{
    sbx_result *r = NULL;
    int rc = sbx_run(p, argv, NULL, 0, &r);
    if (rc != 0)
        fail_msg("sbx_run(%s): %d (%s): %s", argv[0], rc, sbx_errname(rc), sbx_last_error());
    return r;
}

static void client_case(const struct client *c, bool tls)
{
    NEED_PROGRAM(c->tool);
    if (tls)
        NEED_PROGRAM("openssl");
    if (sbx_landlock_abi() < 4)
        SBX_SKIP("Landlock ABI %d: host grants need TCP rules (ABI 4)", sbx_landlock_abi());
    struct fx f;
    fx_start(&f, tls);
    sbx_policy *p = client_policy(c, &f);
    const char *scheme = tls ? "https" : "http";
    struct verdict v = {0};
    char base[128], dest[160], got[256], want[256];
    snprintf(want, sizeof(want), "%s/%s", f.root, c->want);
    off_t size = file_size(want);
    if (size <= 0)
        verdict_fail(&v, "the server made no %s", want);

    /* Allowed: the content, through the broker. */
    struct cmd cmd = {0};
    snprintf(base, sizeof(base), "%s://%s:%u", scheme, c->host, f.port);
    snprintf(dest, sizeof(dest), "%s/allowed", f.work);
    snprintf(got, sizeof(got), "%s/%s", dest, c->got);
    c->command(&cmd, &f, base, c->host, dest);
    sbx_result *r = sandboxed(p, cmd.argv);
    uint64_t up = 0, down = 0;
    assert_sbx_ok(sbx_result_network_bytes(r, &up, &down));
    if (sbx_result_status(r) != SBX_STATUS_EXITED || sbx_result_exit_code(r) != 0)
        verdict_fail(&v, "allowed %s: %s", base, explain(r));
    else if (!same_file(got, want))
        verdict_fail(&v, "allowed %s: %s is not the server's %s", base, got, want);
    else if (sbx_result_network_connections(r) < 1 || down < (uint64_t)size ||
             sbx_result_network_denied(r) != 0)
        verdict_fail(&v, "allowed %s: not through the broker (%lld bytes expected down): %s", base,
                     (long long)size, explain(r));
    sbx_result_free(r);

    /* Refused: a name not granted, the server's address and the cloud
     * metadata address through the broker, each recorded with its port and
     * the reason. */
    static const struct {
        const char *host, *reason;
    } refusals[] = {
        {"other.test", "host not allowed"},
        {"127.0.0.1", "IP address not granted"},
        {"169.254.169.254", "IP address not granted"},
    };
    for (size_t k = 0; k < sizeof(refusals) / sizeof(refusals[0]); k++) {
        memset(&cmd, 0, sizeof(cmd));
        snprintf(base, sizeof(base), "%s://%s:%u", scheme, refusals[k].host, f.port);
        snprintf(dest, sizeof(dest), "%s/refused-%zu", f.work, k);
        snprintf(got, sizeof(got), "%s/%s", dest, c->got);
        c->command(&cmd, &f, base, refusals[k].host, dest);
        r = sandboxed(p, cmd.argv);
        if (sbx_result_status(r) != SBX_STATUS_EXITED || sbx_result_exit_code(r) == 0)
            verdict_fail(&v, "refused %s: expected a failure: %s", base, explain(r));
        else if (file_size(got) >= 0)
            verdict_fail(&v, "refused %s: %s was fetched", base, got);
        else if (sbx_result_network_connections(r) != 0 || sbx_result_network_denials(r) < 1 ||
                 sbx_result_network_denied(r) != sbx_result_network_denials(r))
            verdict_fail(&v, "refused %s: the result does not record it: %s", base, explain(r));
        for (size_t i = 0; i < sbx_result_network_denials(r) && !v.why[0]; i++) {
            const char *host = NULL, *reason = NULL;
            int port = 0;
            assert_sbx_ok(sbx_result_network_denial(r, i, &host, &port, &reason));
            if (strcmp(host, refusals[k].host) != 0 || port != (int)f.port ||
                strcmp(reason, refusals[k].reason) != 0)
                verdict_fail(&v, "refused %s: denial %zu is %s:%d '%s'", base, i, host, port,
                             reason);
        }
        sbx_result_free(r);
    }

    /* Direct: around the broker, to the server's address and port. */
    memset(&cmd, 0, sizeof(cmd));
    snprintf(base, sizeof(base), "%s://127.0.0.1:%u", scheme, f.port);
    snprintf(dest, sizeof(dest), "%s/direct", f.work);
    snprintf(got, sizeof(got), "%s/%s", dest, c->got);
    add(&cmd, "/bin/sh");
    add(&cmd, "-c");
    add(&cmd, "%s", UNSET_PROXY);
    add(&cmd, "sh");
    struct cmd inner = {0};
    c->command(&inner, &f, base, "127.0.0.1", dest);
    for (int i = 0; i < inner.n; i++)
        add(&cmd, "%s", inner.argv[i]);
    sbx_policy *pd = NULL; /* diagnose mode: the denied connect in the result */
    assert_sbx_ok(sbx_policy_dup(p, &pd));
    assert_sbx_ok(sbx_set_diagnose(pd, 1));
    r = sandboxed(pd, cmd.argv);
    sbx_policy_free(pd);
    bool connect_denied = false;
    for (size_t i = 0; i < sbx_result_access_denials(r); i++) {
        sbx_access_denial d = {.size = sizeof(d)};
        assert_sbx_ok(sbx_result_access_denial(r, i, &d));
        if (d.kind == SBX_ACCESS_CONNECT && d.port == (int)f.port)
            connect_denied = true;
    }
    if (sbx_result_status(r) != SBX_STATUS_EXITED || sbx_result_exit_code(r) == 0)
        verdict_fail(&v, "direct %s: expected a failure: %s", base, explain(r));
    else if (file_size(got) >= 0)
        verdict_fail(&v, "direct %s: %s was fetched", base, got);
    else if (sbx_result_network_connections(r) != 0 || sbx_result_network_denied(r) != 0)
        verdict_fail(&v, "direct %s: the broker saw it: %s", base, explain(r));
    else if (!connect_denied)
        verdict_fail(&v, "direct %s: no denied connect to port %u in the result: %s", base, f.port,
                     explain(r));
    sbx_result_free(r);

    /* Control: the direct command, unconfined, reaches the server (in the
     * environment the sandbox gives the child, not the test's own). */
    memset(&cmd, 0, sizeof(cmd));
    snprintf(dest, sizeof(dest), "%s/control", f.work);
    snprintf(got, sizeof(got), "%s/%s", dest, c->got);
    add(&cmd, "env"); /* the child's environment, not the test's (PIP_CERT, REQUESTS_CA_BUNDLE) */
    add(&cmd, "-i");
    add(&cmd, "PATH=/usr/local/bin:/usr/bin:/bin");
    struct cmd e = {0};
    c->env(&e, &f);
    for (int i = 0; i < e.n; i++)
        add(&cmd, "%s", e.argv[i]);
    memset(&inner, 0, sizeof(inner));
    c->command(&inner, &f, base, "127.0.0.1", dest);
    for (int i = 0; i < inner.n; i++)
        add(&cmd, "%s", inner.argv[i]);
    static char out[65536];
    int crc = run(cmd.argv, out, sizeof(out));
    if (crc != 0 || !same_file(got, want))
        verdict_fail(&v, "control %s: exit %d, %s: %.2000s", base, crc, got, out);

    fx_stop(&f);
    sbx_policy_free(p);
    if (v.why[0])
        fail_msg("%s", v.why);
}

/* ---- the clients ---------------------------------------------------------------------- */

/* Each client's environment: HOME in the working directory, and the
 * variable that makes it trust the test's certificate over TLS. */
static void env_urllib(struct cmd *e, const struct fx *f)
{
    add(e, "HOME=%s", f->work);
    if (f->tls)
        add(e, "SSL_CERT_FILE=%s", f->cert);
}

static void env_git(struct cmd *e, const struct fx *f)
{
    add(e, "HOME=%s", f->work);
    if (f->tls)
        add(e, "GIT_SSL_CAINFO=%s", f->cert);
}

static void env_pip(struct cmd *e, const struct fx *f)
{
    add(e, "HOME=%s", f->work);
    if (f->tls)
        add(e, "PIP_CERT=%s", f->cert);
}

static void env_npm(struct cmd *e, const struct fx *f)
{
    add(e, "HOME=%s", f->work);
    if (f->tls)
        add(e, "npm_config_cafile=%s", f->cert);
}

static void grant_python(sbx_policy *p, const struct fx *f)
{
    (void)f;
    assert_sbx_ok(sbx_allow_tool(p, PYTHON));
}

static void grant_git(sbx_policy *p, const struct fx *f)
{
    (void)f;
    assert_sbx_ok(sbx_allow_tool(p, "git"));
    assert_sbx_ok(sbx_allow_path(p, "/usr/lib/git-core", SBX_FS_READ | SBX_FS_EXEC));
}

static void grant_npm(sbx_policy *p, const struct fx *f)
{
    (void)f;
    assert_sbx_ok(sbx_allow_tool(p, "node"));
    assert_sbx_ok(sbx_allow_tool(p, "npm"));
    assert_sbx_ok(sbx_allow_path(p, "/usr/lib/node_modules", SBX_FS_READ | SBX_FS_EXEC));
}

/* urllib: GET BASE/data.bin into DEST/data.bin (HTTPS: through a CONNECT
 * tunnel, the certificate trusted through SSL_CERT_FILE). */
static const char *const URLLIB_PY =
    "import os, sys, urllib.request\n"
    "data = urllib.request.urlopen(sys.argv[1] + '/data.bin', timeout=30).read()\n"
    "os.mkdir(sys.argv[2])\n"
    "open(sys.argv[2] + '/data.bin', 'wb').write(data)\n";

static void cmd_urllib(struct cmd *c, const struct fx *f, const char *base, const char *host,
                       const char *dest)
{
    (void)f;
    (void)host;
    add(c, PYTHON);
    add(c, "-c");
    add(c, "%s", URLLIB_PY);
    add(c, "%s", base);
    add(c, "%s", dest);
}

static void cmd_git(struct cmd *c, const struct fx *f, const char *base, const char *host,
                    const char *dest)
{
    (void)f;
    (void)host;
    add(c, "git");
    add(c, "clone");
    add(c, "-q");
    add(c, "%s/git/demo.git", base);
    add(c, "%s", dest);
}

static void cmd_pip(struct cmd *c, const struct fx *f, const char *base, const char *host,
                    const char *dest)
{
    (void)f;
    add(c, PYTHON);
    add(c, "-m");
    add(c, "pip");
    add(c, "download");
    add(c, "--no-cache-dir");
    add(c, "--disable-pip-version-check");
    add(c, "--retries");
    add(c, "0");
    add(c, "--timeout");
    add(c, "30");
    add(c, "--no-deps");
    add(c, "--index-url");
    add(c, "%s/simple", base);
    if (strncmp(base, "http:", 5) == 0) { /* pip trusts plain HTTP only to localhost */
        add(c, "--trusted-host");
        add(c, "%s", host);
    }
    add(c, "-d");
    add(c, "%s", dest);
    add(c, "agentsbx-demo");
}

static void cmd_npm(struct cmd *c, const struct fx *f, const char *base, const char *host,
                    const char *dest)
{
    (void)f;
    (void)host;
    add(c, "npm");
    add(c, "install");
    add(c, "--prefix");
    add(c, "%s", dest);
    add(c, "--cache"); /* each run its own: nothing fetched from an earlier run's cache */
    add(c, "%s/.npm", dest);
    add(c, "--registry");
    add(c, "%s/", base);
    add(c, "--no-audit");
    add(c, "--no-fund");
    add(c, "--no-update-notifier");
    add(c, "--fetch-retries=0");
    add(c, "--fetch-timeout=30000");
    add(c, "agentsbx-demo");
}

/* ---- cases ---------------------------------------------------------------------------- */

static const struct client URLLIB = {.host = "web.test",
                                     .tool = PYTHON,
                                     .command = cmd_urllib,
                                     .grant = grant_python,
                                     .env = env_urllib,
                                     .got = "data.bin",
                                     .want = "data.bin"};

static const struct client GIT = {.host = "git.test",
                                  .tool = "git",
                                  .command = cmd_git,
                                  .grant = grant_git,
                                  .env = env_git,
                                  .got = "data.bin",
                                  .want = "git-src/data.bin"};

static const struct client PIP = {.host = "pypi.test",
                                  .tool = PYTHON,
                                  .command = cmd_pip,
                                  .grant = grant_python,
                                  .env = env_pip,
                                  .got = "agentsbx_demo-1.0-py3-none-any.whl",
                                  .want = "files/agentsbx_demo-1.0-py3-none-any.whl"};

static const struct client NPM = {.host = "registry.test",
                                  .tool = "npm",
                                  .command = cmd_npm,
                                  .grant = grant_npm,
                                  .env = env_npm,
                                  .got = "node_modules/agentsbx-demo/data.bin",
                                  .want = "npm-src/data.bin"};

static void need_pip(void)
{
    char out[256];
    const char *pip[] = {PYTHON, "-m", "pip", "--version", NULL};
    if (run(pip, out, sizeof(out)) != 0)
        SBX_SKIP("%s -m pip: not installed (python3-pip, scripts/install-deps.sh)", PYTHON);
}

static void test_clients__urllib_http(void **state)
{
    (void)state;
    client_case(&URLLIB, false);
}

static void test_clients__urllib_https_connect(void **state)
{
    (void)state;
    client_case(&URLLIB, true);
}

static void test_clients__git_clone(void **state)
{
    (void)state;
    client_case(&GIT, false);
}

static void test_clients__git_clone_https(void **state)
{
    (void)state;
    client_case(&GIT, true);
}

static void test_clients__pip_download(void **state)
{
    (void)state;
    need_pip();
    client_case(&PIP, false);
}

static void test_clients__pip_download_https(void **state)
{
    (void)state;
    need_pip();
    client_case(&PIP, true);
}

static void test_clients__npm_install(void **state)
{
    (void)state;
    NEED_PROGRAM("node");
    client_case(&NPM, false);
}

static void test_clients__npm_install_https(void **state)
{
    (void)state;
    NEED_PROGRAM("node");
    client_case(&NPM, true);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_clients__urllib_http),
    cmocka_unit_test(test_clients__urllib_https_connect),
    cmocka_unit_test(test_clients__git_clone),
    cmocka_unit_test(test_clients__git_clone_https),
    cmocka_unit_test(test_clients__pip_download),
    cmocka_unit_test(test_clients__pip_download_https),
    cmocka_unit_test(test_clients__npm_install),
    cmocka_unit_test(test_clients__npm_install_https),
};
SBX_TEST_MAIN(tests)
