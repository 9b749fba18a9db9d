/* The namespace layer (issue 5): each claim is tried by a hostile probe
 * (tests/hostile/probe_ns.c and the Landlock suite's probes) inside the
 * namespaces, where it must fail, and under the same policy without them,
 * where it must succeed: the control that shows the namespace is what stops
 * it. Runs as root and as an unprivileged user (through a user namespace). */
#include <arpa/inet.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "live.h"

/* Skip the case (with the reason) unless this host can create the set. */
static void need(int feature)
{
    char why[256];
    if (sbx_probe(feature, why, sizeof(why)) <= 0)
        SBX_SKIP("%s is not available here: %s", sbx_feature_name(feature), why);
}

static sbx_policy *policy_ns(uint32_t set)
{
    sbx_policy *p = policy_new();
    if (set)
        assert_sbx_ok(sbx_unshare(p, set));
    return p;
}

/* Run argv under p; returns the first line of its stdout (static buffer). */
static const char *probe_line(const sbx_policy *p, const char *const *argv, int *code)
{
    static char line[512];
    sbx_result *r = run_ok(p, argv);
    if (sbx_result_status(r) != SBX_STATUS_EXITED)
        fail_msg("probe did not exit: %s", describe(r));
    *code = sbx_result_exit_code(r);
    snprintf(line, sizeof(line), "%s", sbx_result_stdout(r, NULL));
    line[strcspn(line, "\n")] = '\0';
    sbx_result_free(r);
    return line;
}

static void expect_line(const sbx_policy *p, const char *const *argv, const char *want,
                        const char *how)
{
    int code;
    const char *got = probe_line(p, argv, &code);
    if (strcmp(got, want) != 0)
        fail_msg("%s: %s %s: expected '%s', got '%s' (exit %d)", how, argv[1],
                 argv[2] ? argv[2] : "", want, got, code);
}

static char scratch[64]; /* a directory of the case, removed at the end */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/agentsbx-nstest.XXXXXX");
    if (!mkdtemp(scratch))
        return -1;
    return chmod(scratch, 0755);
}

/* Create an empty file NAME in the scratch directory; its path goes to path. */
static void scratch_file(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", scratch, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
}

/* Wait (10 s at most) for probe_ns escape's "pid=N" line on fd; returns N. */
static int read_pid_line(int fd)
{
    char buf[64] = "";
    int pid = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 10000), 1);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_int_equal(sscanf(buf, "pid=%d", &pid), 1);
    return pid;
}

static int teardown(void **state)
{
    (void)state;
    nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- API -------------------------------------------------------------------------- */

static void test_ns__api_rejects_bad_input(void **state)
{
    (void)state;
    sbx_policy *p = policy_new();
    assert_sbx_error(sbx_unshare(p, 0x80), -EINVAL, "SBX_NS_ALL");
    assert_sbx_error(sbx_unshare(NULL, SBX_NS_PID), -EINVAL, "policy");
    /* isolation modes */
    assert_sbx_error(sbx_set_isolation(p, 3), -EINVAL, "3 is not an isolation mode");
    assert_sbx_error(sbx_set_isolation(p, -1), -EINVAL, "-1 is not an isolation mode");
    assert_sbx_error(sbx_set_isolation(NULL, SBX_ISOLATION_FULL), -EINVAL, "policy");
    assert_int_equal(sbx_policy_isolation(p), SBX_ISOLATION_MINIMAL); /* unchanged */
    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_FULL));
    assert_int_equal(sbx_policy_isolation(p), SBX_ISOLATION_FULL);
    assert_int_equal(sbx_policy_isolation(NULL), SBX_ISOLATION_AUTO);
    assert_string_equal(sbx_isolation_name(SBX_ISOLATION_AUTO), "auto");
    assert_string_equal(sbx_isolation_name(SBX_ISOLATION_MINIMAL), "minimal");
    assert_string_equal(sbx_isolation_name(SBX_ISOLATION_FULL), "full");
    assert_null(sbx_isolation_name(3));
    assert_null(sbx_isolation_name(-1));
    assert_null(sbx_result_isolation_fallback(NULL));
    sbx_policy *d = NULL;
    assert_sbx_ok(sbx_policy_new(&d));
    assert_int_equal(sbx_policy_isolation(d), SBX_ISOLATION_AUTO); /* the default */
    sbx_policy_free(d);
    uint32_t set = 0;
    assert_sbx_error(sbx_parse_namespaces("user,bogus", &set), -EINVAL, "'bogus'");
    assert_sbx_error(sbx_parse_namespaces("", &set), -EINVAL, "empty");
    assert_sbx_error(sbx_parse_namespaces("pid,,net", &set), -EINVAL, "unknown namespace ''");
    assert_sbx_error(sbx_parse_namespaces(NULL, &set), -EINVAL, "list");
    assert_sbx_ok(sbx_parse_namespaces("all", &set));
    assert_int_equal(set, SBX_NS_ALL);
    assert_sbx_ok(sbx_parse_namespaces("net,pid", &set));
    assert_int_equal(set, SBX_NS_NET | SBX_NS_PID);
    assert_sbx_ok(sbx_unshare(p, set));
    assert_int_equal(sbx_policy_namespaces(p), SBX_NS_NET | SBX_NS_PID);
    assert_string_equal(sbx_namespace_name(SBX_NS_MOUNT), "mount");
    assert_null(sbx_namespace_name(SBX_NS_PID | SBX_NS_NET));
    assert_int_equal(sbx_result_namespaces(NULL), 0);
    assert_int_equal(sbx_result_tree_kill(NULL), 0);
    sbx_policy_free(p);
}

/* ---- user ------------------------------------------------------------------------- */

static void test_ns__user_no_capabilities(void **state)
{
    (void)state;
    need(SBX_FEATURE_USER_NS);
    static const char *const argv[] = {PROBE("probe_ns"), "caps", NULL};
    sbx_policy *ns = policy_ns(SBX_NS_USER);
    assert_sbx_ok(sbx_allow_path(ns, "/proc", SBX_FS_READ));
    sbx_result *r = run_ok(ns, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "capeff=0000000000000000\n");
    assert_true(sbx_result_namespaces(r) & SBX_NS_USER);
    assert_true(sbx_result_layers(r) & SBX_LAYER_NAMESPACES);
    sbx_result_free(r);
    /* The control: the probe, unconfined. Root holds its capabilities; a
     * child of any user in a user namespace of its own would hold a full set
     * there (see tests/live/test_caps.c for every set and configuration). */
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    char ctl[64] = "";
    ssize_t n = read(out[0], ctl, sizeof(ctl) - 1);
    ctl[n > 0 ? n : 0] = '\0';
    close(out[0]);
    waitpid(pid, NULL, 0);
    if (geteuid() == 0)
        assert_string_not_equal(ctl, "capeff=0000000000000000\n");
    else
        fprintf(stderr, "note: not root, so the control has no capabilities either (%s)\n", ctl);
    sbx_policy_free(ns);
}

static void test_ns__pid_hides_host_processes(void **state)
{
    (void)state;
    need(SBX_FEATURE_PID_NS);
    static const char *const argv[] = {PROBE("probe_ns"), "pids", NULL};
    sbx_policy *plain = policy_ns(0), *ns = policy_ns(SBX_NS_PID);
    assert_sbx_ok(sbx_allow_path(plain, "/proc", SBX_FS_READ));
    assert_sbx_ok(sbx_allow_path(ns, "/proc", SBX_FS_READ));
    int code, n = 0, self = 0;
    const char *line = probe_line(ns, argv, &code);
    if (sscanf(line, "pids=%d self=%d", &n, &self) != 2)
        fail_msg("probe_ns pids: '%s'", line);
    assert_int_equal(self, 2); /* pid 1 is the init */
    assert_in_range(n, 2, 2);  /* the init and the probe: nothing of the host */
    line = probe_line(plain, argv, &code);
    if (sscanf(line, "pids=%d self=%d", &n, &self) != 2)
        fail_msg("probe_ns pids (control): '%s'", line);
    assert_true(n > 10 && self > 2); /* the host's processes */
    sbx_policy_free(plain);
    sbx_policy_free(ns);
}

static void test_ns__pid_init_passes_status_through(void **state)
{
    (void)state;
    need(SBX_FEATURE_PID_NS);
    sbx_policy *p = policy_ns(SBX_NS_PID);
    static const char *const exit7[] = {"/bin/sh", "-c", "exit 7", NULL};
    sbx_result *r = run_ok(p, exit7);
    assert_status(r, SBX_STATUS_EXITED, 7);
    assert_int_equal(sbx_result_tree_kill(r), SBX_TREE_KILL_PIDNS);
    sbx_result_free(r);
    static const char *const segv[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
    r = run_ok(p, segv);
    assert_status(r, SBX_STATUS_SIGNALED, SIGSEGV);
    sbx_result_free(r);
    sbx_policy_free(p);
}

static void test_ns__pid_init_forwards_signals(void **state)
{
    (void)state;
    need(SBX_FEATURE_PID_NS);
    sbx_policy *p = policy_ns(SBX_NS_PID);
    static const char *const argv[] = {PROBE("probe_ns"), "trap", NULL};
    sbx_io io = SBX_IO_INIT;
    io.stdout_mode = SBX_STDIO_PIPE;
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, &io, &c));
    int fd = sbx_child_stdio_fd(c, 1);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 10000), 1); /* "ready": the handler is in place */
    char buf[16];
    assert_true(read(fd, buf, sizeof(buf)) > 0);
    assert_sbx_ok(sbx_child_signal(c, SIGTERM)); /* to the init, passed on to the program */
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_EXITED, 42);
    sbx_result_free(r);
    sbx_child_free(c);
    sbx_policy_free(p);
}

/* Start probe_ns escape under p with a wall time, wait. Returns the read end
 * of the pipe the grandchild holds, and its pid as it sees itself. */
static int escape_and_wait(sbx_policy *p, int *tree_kill, int *gc_pid)
{
    int pp[2];
    assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
    char fdarg[16];
    snprintf(fdarg, sizeof(fdarg), "%d", pp[1]);
    const char *argv[] = {PROBE("probe_ns"), "escape", fdarg, NULL};
    sbx_io io = SBX_IO_INIT;
    io.keep_fds = &pp[1];
    io.n_keep_fds = 1;
    assert_sbx_ok(sbx_limit_wall_time(p, 400));
    sbx_child *c = NULL;
    assert_sbx_ok(sbx_spawn(p, argv, &io, &c));
    close(pp[1]);
    *gc_pid = read_pid_line(pp[0]);
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_child_wait(c, &r));
    assert_status(r, SBX_STATUS_TIMED_OUT, SIGKILL);
    *tree_kill = sbx_result_tree_kill(r);
    sbx_result_free(r);
    sbx_child_free(c);
    return pp[0];
}

/* Whether every holder of the pipe's write end is gone within ms. */
static int pipe_closed_within(int fd, int ms)
{
    char buf[64];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (poll(&pfd, 1, ms) == 1) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return 0;
    }
    return 0;
}

static void test_ns__pid_double_fork_setsid_dies_at_timeout(void **state)
{
    (void)state;
    need(SBX_FEATURE_PID_NS);
    sbx_policy *ns = policy_ns(SBX_NS_PID);
    int tree_kill, gc;
    int fd = escape_and_wait(ns, &tree_kill, &gc);
    assert_int_equal(tree_kill, SBX_TREE_KILL_PIDNS);
    assert_true(pipe_closed_within(fd, 0)); /* dead when wait returned: nothing holds it */
    close(fd);
    sbx_policy_free(ns);

    /* The control: without the namespace (or a cgroup) the grandchild escapes. */
    sbx_policy *plain = policy_ns(0);
    fd = escape_and_wait(plain, &tree_kill, &gc);
    assert_int_equal(tree_kill, SBX_TREE_KILL_PGROUP);
    int escaped = !pipe_closed_within(fd, 300);
    assert_int_equal(kill(gc, SIGKILL), 0); /* a host pid here: end it */
    assert_true(pipe_closed_within(fd, 5000));
    close(fd);
    assert_true(escaped);
    sbx_policy_free(plain);
}

/* A host process that spawns probe_ns escape and is then SIGKILLed: returns
 * the read end of the grandchild's pipe, and the grandchild's pid. */
static int host_dies(uint32_t set, int *gc_pid)
{
    int pp[2], ready[2];
    assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    pid_t host = fork();
    assert_true(host >= 0);
    if (host == 0) {
        sbx_policy *p = NULL;
        char fdarg[16];
        snprintf(fdarg, sizeof(fdarg), "%d", pp[1]);
        const char *argv[] = {PROBE("probe_ns"), "escape", fdarg, NULL};
        sbx_io io = SBX_IO_INIT;
        io.keep_fds = &pp[1];
        io.n_keep_fds = 1;
        sbx_child *c = NULL;
        /* No private TMPDIR: this host is killed, and a dead host cannot remove it. */
        if (sbx_policy_new(&p) != 0 || sbx_set_isolation(p, SBX_ISOLATION_MINIMAL) != 0 ||
            sbx_set_private_tmp(p, 0) != 0 || (set && sbx_unshare(p, set) != 0) ||
            sbx_spawn(p, argv, &io, &c) != 0)
            _exit(1);
        if (write(ready[1], "s", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(pp[1]);
    close(ready[1]);
    char buf[1];
    assert_int_equal(read(ready[0], buf, 1), 1); /* spawned */
    close(ready[0]);
    *gc_pid = read_pid_line(pp[0]);
    assert_int_equal(kill(host, SIGKILL), 0);
    assert_int_equal(waitpid(host, NULL, 0), host);
    return pp[0];
}

static void test_ns__pid_host_death_kills_the_tree(void **state)
{
    (void)state;
    need(SBX_FEATURE_PID_NS);
    int gc;
    int fd = host_dies(SBX_NS_PID, &gc);
    assert_true(pipe_closed_within(fd, 5000)); /* bound: the kernel tears the namespace down */
    close(fd);

    /* The control: without the namespace the grandchild outlives the host. */
    fd = host_dies(0, &gc);
    int escaped = !pipe_closed_within(fd, 300);
    assert_int_equal(kill(gc, SIGKILL), 0);
    assert_true(pipe_closed_within(fd, 5000));
    close(fd);
    assert_true(escaped);
}

/* ---- net -------------------------------------------------------------------------- */

static void test_ns__net_udp_to_host_listener_fails(void **state)
{
    (void)state;
    need(SBX_FEATURE_NET_NS);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    char port[16];
    snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
    const char *argv[] = {PROBE("probe_ns"), "udp", port, NULL};

    /* UDP is otherwise denied by the seccomp layer: lift that in both. */
    sbx_policy *ns = policy_ns(SBX_NS_NET), *plain = policy_ns(0);
    assert_sbx_ok(sbx_allow_network(ns));
    assert_sbx_ok(sbx_allow_network(plain));
    int code;
    probe_line(ns, argv, &code); /* the datagram goes to the namespace's own loopback */
    char buf[8];
    struct pollfd pfd = {.fd = s, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 300), 0); /* nothing arrived */
    expect_line(plain, argv, "ok", "control");
    assert_int_equal(poll(&pfd, 1, 5000), 1); /* the control's arrived */
    assert_int_equal(recv(s, buf, sizeof(buf), 0), 4);
    close(s);

    /* TCP too. */
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sa.sin_port = 0;
    len = sizeof(sa);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 4), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
    const char *tcp[] = {PROBE("probe_net"), "connect", port, NULL};
    expect_line(ns, tcp, "denied ECONNREFUSED", "net namespace");
    expect_line(plain, tcp, "ok", "control");
    close(l);
    sbx_policy_free(ns);
    sbx_policy_free(plain);
}

/* ---- ipc, uts --------------------------------------------------------------------- */

static void test_ns__ipc_hides_host_segments(void **state)
{
    (void)state;
    need(SBX_FEATURE_IPC_NS);
    key_t key = (key_t)(0x5b000000 | (getpid() & 0xffffff));
    int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    assert_true(id >= 0);
    char k[32];
    snprintf(k, sizeof(k), "%d", (int)key);
    const char *argv[] = {PROBE("probe_ns"), "shm", k, NULL};
    sbx_policy *ns = policy_ns(SBX_NS_IPC), *plain = policy_ns(0);
    expect_line(ns, argv, "denied ENOENT", "ipc namespace");
    expect_line(plain, argv, "ok", "control");
    shmctl(id, IPC_RMID, NULL);
    sbx_policy_free(ns);
    sbx_policy_free(plain);
}

static void test_ns__uts_own_hostname(void **state)
{
    (void)state;
    need(SBX_FEATURE_UTS_NS);
    static const char *const argv[] = {PROBE("probe_ns"), "hostname", NULL};
    sbx_policy *ns = policy_ns(SBX_NS_UTS), *plain = policy_ns(0);
    expect_line(ns, argv, "hostname=agentsbx", "uts namespace");
    struct utsname u;
    uname(&u);
    char want[128];
    snprintf(want, sizeof(want), "hostname=%s", u.nodename);
    expect_line(plain, argv, want, "control");
    sbx_policy_free(ns);
    sbx_policy_free(plain);
}

/* ---- mount ------------------------------------------------------------------------ */

static void test_ns__mount_read_only_view_stops_metadata_changes(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    char file[128];
    scratch_file(file, sizeof(file), "owned");
    if (geteuid() != 0)
        assert_int_equal(chmod(scratch, 0755), 0);
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT), *plain = policy_ns(0);
    assert_sbx_ok(sbx_allow_path(ns, scratch, SBX_FS_READ));
    assert_sbx_ok(sbx_allow_path(plain, scratch, SBX_FS_READ));
    static const char *const ops[] = {"chmod", "chown", "utimes", "setxattr"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        const char *argv[] = {PROBE("probe_ns"), ops[i], file, NULL};
        int code;
        const char *ctl = probe_line(plain, argv, &code);
        if (strcmp(ctl, "denied EOPNOTSUPP") == 0) {
            fprintf(stderr, "note: %s: the file system of %s does not support it\n", ops[i],
                    scratch);
            continue;
        }
        if (strcmp(ctl, "ok") != 0) /* Landlock does not cover these: the control succeeds */
            fail_msg("control %s: '%s'", ops[i], ctl);
        expect_line(ns, argv, "denied EROFS", "mount namespace");
    }
    sbx_policy_free(ns);
    sbx_policy_free(plain);
}

static void test_ns__mount_noexec_stops_the_loader(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
#if defined(__x86_64__)
    const char *loader = "/lib64/ld-linux-x86-64.so.2";
#elif defined(__aarch64__)
    const char *loader = "/lib/ld-linux-aarch64.so.1";
#else
    const char *loader = NULL;
#endif
    struct stat st;
    if (!loader || stat(loader, &st) != 0)
        SBX_SKIP("no known dynamic loader path on this architecture");
    /* /usr/bin/id is not granted execute: Landlock stops execve(2) of it, but
     * not the loader mapping it; the noexec view does. */
    const char *argv[] = {loader, "/usr/bin/id", "-u", NULL};
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT), *plain = policy_ns(0);
    sbx_result *r = run_ok(plain, argv);
    assert_status(r, SBX_STATUS_EXITED, 0); /* the control: the bypass works */
    sbx_result_free(r);
    r = run_ok(ns, argv);
    if (sbx_result_status(r) == SBX_STATUS_EXITED && sbx_result_exit_code(r) == 0)
        fail_msg("the loader ran /usr/bin/id in the mount namespace: %s", describe(r));
    sbx_result_free(r);
    sbx_policy_free(ns);
    sbx_policy_free(plain);
}

static void test_ns__mount_private_tmp(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    char host_file[128];
    scratch_file(host_file, sizeof(host_file), "host-only");
    const char *argv[] = {PROBE("probe_ns"), "stat", host_file, NULL};
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT), *plain = policy_ns(0);
    expect_line(ns, argv, "denied ENOENT", "mount namespace"); /* not granted: not carried */
    expect_line(plain, argv, "ok", "control");
    /* TMPDIR is the private /tmp, and works. */
    static const char *const tmp[] = {PROBE("probe_fs"), "tmpdir", NULL};
    expect_line(ns, tmp, "TMPDIR=/tmp", "mount namespace");
    sbx_policy_free(ns);
    sbx_policy_free(plain);
}

/* Children of one policy share nothing writable, also where a root host
 * builds the common part of the view once and each child clones it
 * (view.c's prepared tree): a child's /tmp and /dev/shm are its own (a second
 * child running at the same time, and the next one, find nothing there). The
 * control: two
 * processes outside the sandbox share the host's /dev/shm. */
static void test_ns__mount_children_share_nothing_writable(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT);
    static const char *const writer[] = {
        "/bin/sh", "-c",
        "echo a > /tmp/mark && echo a > /dev/shm/mark && echo ready && { read x; true; }", NULL};
    static const char *const reader[] = {
        "/bin/sh", "-c",
        "for f in /tmp/mark /dev/shm/mark; do [ -e $f ] && echo seen $f; done; echo done", NULL};
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = io.stdout_mode = SBX_STDIO_PIPE;
    sbx_child *a = NULL;
    assert_sbx_ok(sbx_spawn(ns, writer, &io, &a));
    char buf[256] = "";
    struct pollfd pfd = {.fd = sbx_child_stdio_fd(a, 1), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 10000), 1);
    ssize_t n = read(pfd.fd, buf, sizeof(buf) - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "ready\n");
    /* While the writer lives: a second child of the same policy. */
    sbx_result *r = run_ok(ns, reader);
    assert_status(r, SBX_STATUS_EXITED, 0);
    assert_string_equal(sbx_result_stdout(r, NULL), "done\n");
    sbx_result_free(r);
    assert_sbx_ok(sbx_child_close_stdio(a, 0));
    r = NULL;
    assert_sbx_ok(sbx_child_wait(a, &r));
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    sbx_child_free(a);
    /* After it: the next child. */
    r = run_ok(ns, reader);
    assert_string_equal(sbx_result_stdout(r, NULL), "done\n");
    sbx_result_free(r);
    sbx_policy_free(ns);

    /* The control: the same probes unconfined share /dev/shm. */
    char mark[64];
    snprintf(mark, sizeof(mark), "/dev/shm/agentsbx-nstest-%d", (int)getpid());
    FILE *f = fopen(mark, "w");
    assert_non_null(f);
    fclose(f);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "[ -e %s ] && echo seen", mark);
    f = popen(cmd, "r");
    assert_non_null(f);
    char line[32] = "";
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    pclose(f);
    unlink(mark);
    assert_string_equal(line, "seen\n");
}

/* The view shows none of the host's own directories: what lived there
 * (sockets in /run, homes, /sys) is out of reach. The control: the same probe
 * without the namespace sees each (Landlock does not hide names). */
static void test_ns__mount_view_hides_the_host(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    static const char *const hidden[] = {"/run", "/var/run", "/home", "/root", "/sys",
                                         "/var", "/srv",     "/mnt",  "/boot", "/opt"};
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT), *plain = policy_ns(0);
    size_t checked = 0;
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        struct stat st;
        if (stat(hidden[i], &st) != 0)
            continue; /* not on this host: nothing to hide */
        const char *argv[] = {PROBE("probe_ns"), "stat", hidden[i], NULL};
        expect_line(ns, argv, "denied ENOENT", "mount view");
        expect_line(plain, argv, "ok", "control");
        checked++;
    }
    assert_true(checked >= 3); /* /run, /sys, /var at least */
    sbx_policy_free(ns);
    sbx_policy_free(plain);
}

/* The child's mount table holds the view and nothing of the host's: no
 * mount of the host's (its root file system, /sys, /run, /proc...) is in the
 * child's namespace, reachable or hidden beneath another, whichever way the
 * view was built (from the template namespace on a root host, with pivot_root
 * elsewhere). Twice with one policy: the second child is built like the
 * first. The control: the same probe unconfined lists the host's /sys. */
static void test_ns__mount_table_holds_only_the_view(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    /* Every mount point, then the root's file system type. */
    static const char *const argv[] = {
        "/bin/sh", "-c",
        "while read -r id parent dev root at opts rest; do echo \"$at\"; done "
        "</proc/self/mountinfo; while read -r id parent dev root at opts rest; do "
        "if [ \"$at\" = / ]; then echo \"root ${rest#*- }\"; fi; done </proc/self/mountinfo",
        NULL};
    static const char *const host_only[] = {"/sys", "/run", "/boot", "/home", "/var", "/root"};
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT | SBX_NS_PID); /* a /proc of its own */
    assert_sbx_ok(sbx_allow_path(ns, "/proc", SBX_FS_READ));
    for (int round = 0; round < 2; round++) {
        sbx_result *r = run_ok(ns, argv);
        if (sbx_result_exit_code(r) != 0)
            fail_msg("round %d: the probe failed: %s", round, sbx_result_stderr(r, NULL));
        const char *out = sbx_result_stdout(r, NULL);
        char copy[8192];
        snprintf(copy, sizeof(copy), "%s", out);
        size_t lines = 0;
        bool root_tmpfs = false;
        for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
            lines++;
            if (strncmp(l, "root ", 5) == 0) {
                root_tmpfs = root_tmpfs || strncmp(l + 5, "tmpfs ", 6) == 0;
                continue;
            }
            for (size_t k = 0; k < sizeof(host_only) / sizeof(host_only[0]); k++)
                if (strcmp(l, host_only[k]) == 0 ||
                    (strncmp(l, host_only[k], strlen(host_only[k])) == 0 &&
                     l[strlen(host_only[k])] == '/'))
                    fail_msg("round %d: the host's mount %s is in the child's table:\n%s", round, l,
                             out);
        }
        if (!root_tmpfs || lines < 3)
            fail_msg("round %d: the root is not the view's tmpfs, or the table is short:\n%s",
                     round, out);
        sbx_result_free(r);
    }
    sbx_policy_free(ns);

    /* The control: the host's own table has /sys. */
    FILE *f = fopen("/proc/self/mountinfo", "r");
    assert_non_null(f);
    char line[1024];
    bool sys = false;
    while (fgets(line, sizeof(line), f))
        sys = sys || strstr(line, " /sys ") != NULL;
    fclose(f);
    assert_true(sys);
}

/* A host unix socket is out of reach unless granted; granted, it works. */
static void test_ns__mount_view_host_unix_socket(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    char path[100];
    snprintf(path, sizeof(path), "%s/host.sock", scratch);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(ls, 8), 0);
    assert_int_equal(chmod(path, 0777), 0);
    const char *argv[] = {PROBE("probe_net"), "unix-path", path, NULL};
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT);
    expect_line(ns, argv, "denied ENOENT", "not granted");
    /* Granted: bound into the view, at its path. */
    assert_sbx_ok(sbx_allow_unix_socket(ns, path));
    expect_line(ns, argv, "ok", "granted");
    sbx_policy_free(ns);
    /* Even in a directory the child may read, the socket is not in the view
     * unless its directory is granted. */
    sbx_policy *other = policy_ns(SBX_NS_MOUNT);
    assert_sbx_ok(sbx_allow_path(other, "/usr", SBX_FS_READ));
    expect_line(other, argv, "denied ENOENT", "another grant");
    sbx_policy_free(other);
    /* Without the view the grant cannot hold: the spawn fails, naming it. */
    sbx_policy *plain = policy_ns(0);
    assert_sbx_ok(sbx_allow_unix_socket(plain, path));
    sbx_result *r = NULL;
    assert_int_equal(sbx_run(plain, argv, NULL, 0, &r), -EOPNOTSUPP);
    assert_null(r);
    assert_non_null(strstr(sbx_last_error(), "needs the mount namespace's view"));
    sbx_policy_free(plain);
    /* The control: unconfined, the socket answers. */
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    char line[64] = "";
    ssize_t n = read(out[0], line, sizeof(line) - 1);
    line[n > 0 ? n : 0] = '\0';
    close(out[0]);
    waitpid(pid, NULL, 0);
    assert_string_equal(line, "ok\n");
    close(ls);
}

/* A pty of its own: posix_openpt and the slave's name. The control: the same
 * program without the namespace has no /dev/ptmx it may open. */
static void test_ns__mount_view_ptys(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    static const char *const argv[] = {
        "/usr/bin/python3", "-c",
        "import os\ntry:\n m, s = os.openpty(); print(os.ttyname(s)[:9])\n"
        "except OSError as e: print('denied', e.errno)",
        NULL};
    struct stat st;
    if (stat(argv[0], &st) != 0)
        SBX_SKIP("python3 is not installed");
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT), *plain = policy_ns(0);
    expect_line(ns, argv, "/dev/pts/", "mount view");
    int code;
    const char *ctl = probe_line(plain, argv, &code);
    if (strncmp(ctl, "denied", 6) != 0)
        fail_msg("control: a pty without the view: %s", ctl);
    sbx_policy_free(ns);
    sbx_policy_free(plain);
}

static void test_ns__mount_write_grant_in_tmp_is_carried(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    char target[128];
    snprintf(target, sizeof(target), "%s/made-inside", scratch);
    const char *argv[] = {PROBE("probe_fs"), "create", target, NULL};
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT);
    assert_sbx_ok(sbx_allow_path(ns, scratch, SBX_FS_READ | SBX_FS_WRITE));
    expect_line(ns, argv, "ok", "mount namespace");
    struct stat st;
    assert_int_equal(stat(target, &st), 0); /* on the host's file system */
    sbx_policy_free(ns);

    /* The working directory is writable too, as Landlock has it. */
    ns = policy_ns(SBX_NS_MOUNT);
    assert_sbx_ok(sbx_set_workdir(ns, scratch));
    const char *in_workdir[] = {PROBE("probe_fs"), "create", "made-in-workdir", NULL};
    expect_line(ns, in_workdir, "ok", "mount namespace, workdir");
    snprintf(target, sizeof(target), "%s/made-in-workdir", scratch);
    assert_int_equal(stat(target, &st), 0);
    sbx_policy_free(ns);
}

static void test_ns__mount_tmpfs_bomb_stopped(void **state)
{
    (void)state;
    need(SBX_FEATURE_MOUNT_NS);
    /* The private /tmp is as large as the memory limit. */
    sbx_policy *ns = policy_ns(SBX_NS_MOUNT);
    assert_sbx_ok(sbx_limit_memory(ns, 32ull << 20));
    assert_sbx_ok(sbx_use_cgroup(ns, 0)); /* the tmpfs's own size, not a root host's cgroup */
    static const char *const argv[] = {PROBE("probe_ns"), "fill", "/tmp", "128", NULL};
    long mib = -1;
    char err[32];
    run_counting_probe(ns, argv, "filled_mib", &mib, err);
    assert_in_range(mib, 1, 32);
    assert_string_equal(err, "ENOSPC");
    sbx_policy_free(ns);
    /* The control: the host's TMPDIR (a tmpfs too) takes it all. */
    sbx_policy *plain = policy_ns(0);
    assert_sbx_ok(sbx_limit_memory(plain, 32ull << 20));
    assert_sbx_ok(sbx_use_cgroup(plain, 0));
    const char *sh[] = {"/bin/sh", "-c", "exec \"$0\" fill \"$TMPDIR\" 128", PROBE("probe_ns"),
                        NULL};
    assert_sbx_ok(sbx_allow_tool(plain, PROBE("probe_ns")));
    run_counting_probe(plain, sh, "filled_mib", &mib, err);
    assert_int_equal(mib, 128);
    sbx_policy_free(plain);
}

/* The root's file system type and super options ("tmpfs ro,..."), and the
 * device numbers of /tmp and /dev/shm, as the child's mount table shows them. */
static const char *const view_table[] = {
    "/bin/sh", "-c",
    "while read -r id parent dev root at opts rest; do case $at in "
    "/) echo \"root ${rest#*- }\";; /tmp) echo \"tmp $dev\";; /dev/shm) echo \"shm $dev\";; "
    "esac; done </proc/self/mountinfo",
    NULL};

/* What the view_table probe printed: the root's super options ("ro,..."),
 * and whether /tmp and /dev/shm are one file system. */
static void view_table_of(const sbx_policy *p, char *super, size_t size, bool *one_tmpfs)
{
    sbx_result *r = run_ok(p, view_table);
    if (sbx_result_exit_code(r) != 0)
        fail_msg("the probe failed: %s", sbx_result_stderr(r, NULL));
    const char *out = sbx_result_stdout(r, NULL);
    const char *root = strstr(out, "root tmpfs tmpfs ");
    const char *tmp = strstr(out, "tmp "), *shm = strstr(out, "shm ");
    if (!root || !tmp || !shm)
        fail_msg("the root is not a tmpfs, or /tmp or /dev/shm is missing:\n%s", out);
    root += strlen("root tmpfs tmpfs ");
    snprintf(super, size, "%.*s", (int)strcspn(root, "\n"), root);
    tmp += 4, shm += 4;
    size_t n = strcspn(tmp, "\n");
    *one_tmpfs = n == strcspn(shm, "\n") && strncmp(tmp, shm, n) == 0;
    sbx_result_free(r);
}

/* A policy whose later children build their view on the prepared tree: mount
 * and pid namespaces, with a user namespace or not; view_table reads /proc.
 * Skips the case where the host makes neither namespace. */
static sbx_policy *tree_policy(int user)
{
    need(SBX_FEATURE_MOUNT_NS);
    need(SBX_FEATURE_USER_NS);
    sbx_policy *p = policy_ns(SBX_NS_MOUNT | SBX_NS_PID | (user ? SBX_NS_USER : 0));
    assert_sbx_ok(sbx_allow_path(p, "/proc", SBX_FS_READ));
    return p;
}

/* The part of the view every child of a policy shares (view.c's prepared
 * tree, built once at the policy's second spawn: by a root host, and with a
 * user namespace by a helper in a user namespace of its own) is read-only in
 * its file systems themselves, not only in the mounts: a child that could
 * change its mounts (one that keeps CAP_SYS_ADMIN in its user namespace, with
 * Landlock and the filter somehow out of the way) could clear a mount's
 * read-only flag, but not the superblock's, which needs that capability where
 * the file system was made. /tmp and /dev/shm are the child's own, one tmpfs
 * for both (the memory limit bounds them together). Checked with the user
 * namespace (the default as an ordinary user) and without (as root). The
 * control: the policy's first child builds its view whole, on a root of its
 * own, writable in its super options (its mount is read-only). */
static void test_ns__mount_shared_tree_read_only_in_its_file_systems(void **state)
{
    (void)state;
    char super[256];
    bool one = false;
    for (int user = 0; user < 2; user++) {
        sbx_policy *p = tree_policy(user);
        for (int round = 0; round < 3; round++) { /* the later ones clone the same tree */
            view_table_of(p, super, sizeof(super), &one);
            const char *want = round == 0 ? "rw," : "ro,";
            if (strncmp(super, want, 3) != 0)
                fail_msg("user namespace %d, round %d: the root's file system should be %.2s: %s",
                         user, round, want, super);
            if (!one)
                fail_msg("user namespace %d, round %d: /tmp and /dev/shm are not one tmpfs", user,
                         round);
        }
        sbx_policy_free(p);
    }
}

/* In a copy of the host forked while another thread builds the policy's
 * prepared tree: two spawns, both on a tree (the root read-only in its super
 * options). 0, or which spawn failed (1x: sbx_run, 2x: the probe, 3x: a view
 * built whole). No cmocka here: this is not the test's process. */
static int copy_spawns_on_a_tree(const sbx_policy *p)
{
    static const char root_fs[] = "root tmpfs tmpfs ";
    for (int i = 0; i < 2; i++) {
        sbx_result *r = NULL;
        if (sbx_run(p, view_table, NULL, 0, &r) != 0 || !r)
            return 10 + i;
        const char *out = sbx_result_stdout(r, NULL), *root = strstr(out, root_fs);
        bool ok = sbx_result_status(r) == SBX_STATUS_EXITED && sbx_result_exit_code(r) == 0;
        bool ro = root && strncmp(root + strlen(root_fs), "ro,", 3) == 0;
        sbx_result_free(r);
        if (!ok)
            return 20 + i;
        if (!ro)
            return 30 + i;
    }
    return 0;
}

struct spawn_in_thread {
    const sbx_policy *p;
    int rc;
    sbx_result *r;
};

static void *spawn_view_table(void *arg)
{
    struct spawn_in_thread *t = arg;
    t->rc = sbx_run(t->p, view_table, NULL, 0, &t->r);
    return NULL;
}

/* The tree is built by the policy's second spawn, which claims the build
 * with its process's pid (view.c, prepare_once). A copy of the host forked
 * while another thread builds it (held there by a test-only hook) finds the
 * build claimed by a process it is not, and builds a tree of its own: its
 * spawns run on a tree. The control: the policy's first spawn, a view built
 * whole, whose root the probe shows writable. With a claim that held no pid,
 * the copy waited for a builder that does not exist in it and built every
 * view whole ("rw" root: exit 30). */
static void test_ns__mount_tree_built_again_in_a_copy_forked_during_the_build(void **state)
{
    (void)state;
    char super[256];
    bool one = false;
    for (int user = 0; user < 2; user++) {
        sbx_policy *p = tree_policy(user);
        view_table_of(p, super, sizeof(super), &one); /* the first spawn: a whole view */
        if (strncmp(super, "rw,", 3) != 0) /* the control: the probe tells one from a tree */
            fail_msg("user namespace %d: the first spawn's root should be rw: %s", user, super);
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        char hook[64];
        snprintf(hook, sizeof(hook), "%d:%ld", sv[1], (long)getpid());
        assert_int_equal(setenv("AGENTSBX_TEST_VIEW_BUILD", hook, 1), 0);
        struct spawn_in_thread t = {.p = p, .rc = -1};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, spawn_view_table, &t), 0);
        /* The second spawn holds the build (a spawn that builds no tree never
         * says so: the case fails after a minute rather than hang). */
        struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
        char c = 0;
        if (poll(&pfd, 1, 60000) != 1 || read(sv[0], &c, 1) != 1 || c != 'b')
            fail_msg("user namespace %d: the policy's second spawn did not build its tree", user);
        assert_int_equal(unsetenv("AGENTSBX_TEST_VIEW_BUILD"), 0);
        pid_t copy = fork();
        assert_true(copy >= 0);
        if (copy == 0)
            _exit(copy_spawns_on_a_tree(p));
        int st = 0;
        pid_t got = waitpid(copy, &st, 0);
        assert_int_equal(write(sv[0], "g", 1), 1); /* the build goes on */
        assert_int_equal(pthread_join(th, NULL), 0);
        close(sv[0]);
        close(sv[1]);
        assert_int_equal(got, copy);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail_msg("user namespace %d: the copy's spawns: status 0x%x (30, 31: a view built "
                     "whole, not on a tree)",
                     user, st);
        assert_sbx_ok(t.rc);
        assert_status(t.r, SBX_STATUS_EXITED, 0);
        sbx_result_free(t.r);
        view_table_of(p, super, sizeof(super), &one); /* the host's next one, on its tree */
        if (strncmp(super, "ro,", 3) != 0)
            fail_msg("user namespace %d: the host's third spawn is not on the tree: %s", user,
                     super);
        sbx_policy_free(p);
    }
}

/* ---- a host that forbids them ------------------------------------------------------ */

/* The CLI, run confined: the seccomp filter of the outer sandbox denies
 * namespaces, as a container's profile may. */
static sbx_result *nested(const char *const *args)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_path(p, SBX_BUILD_DIR, SBX_FS_READ | SBX_FS_EXEC));
    assert_sbx_ok(sbx_allow_tool(p, "/bin/true")); /* what the inner sandbox runs */
    /* A sanitized CLI: LeakSanitizer needs ptrace, which the outer filter denies;
     * the sanitizer reads its options from /proc/self/environ. */
    assert_sbx_ok(sbx_set_env(p, "ASAN_OPTIONS", "detect_leaks=0"));
    assert_sbx_ok(sbx_allow_path(p, "/proc", SBX_FS_READ));
    sbx_result *r = run_ok(p, args);
    sbx_policy_free(p);
    return r;
}

static void test_ns__refused_by_the_host_says_why(void **state)
{
    (void)state;
    need(SBX_FEATURE_USER_NS);
    static const char *const strict[] = {SBX_CLI,    "run", "--no-private-tmp", "--unshare",
                                         "user,pid", "--",  "/bin/true",        NULL};
    sbx_result *r = nested(strict);
    assert_status(r, SBX_STATUS_EXITED, 125);
    const char *err = sbx_result_stderr(r, NULL);
    if (!strstr(err, "namespaces") || !strstr(err, "seccomp profile may deny it"))
        fail_msg("unexpected message: %s", err);
    sbx_result_free(r);

    static const char *const lax[] = {SBX_CLI,
                                      "run",
                                      "--no-private-tmp",
                                      "--unshare",
                                      "user,pid",
                                      "--best-effort",
                                      "namespaces,seccomp",
                                      "--json",
                                      "--",
                                      "/bin/true",
                                      NULL};
    r = nested(lax);
    assert_status(r, SBX_STATUS_EXITED, 0);
    const char *out = sbx_result_stderr(r, NULL); /* the CLI's --json report */
    if (!strstr(out, "\"status\":\"exited\"") || !strstr(out, "\"namespaces\":[]") ||
        strstr(out, ",\"namespaces\","))
        fail_msg("expected a run without the namespace layer: %s", out);
    sbx_result_free(r);

    /* The default, auto isolation: the run goes on under Landlock and seccomp
     * and says why it has no namespaces; full isolation refuses to run. */
    static const char *const autoiso[] = {
        SBX_CLI,     "run", "--no-private-tmp", "--best-effort", "monitor", "--json", "--",
        "/bin/true", NULL};
    r = nested(autoiso);
    assert_status(r, SBX_STATUS_EXITED, 0);
    out = sbx_result_stderr(r, NULL);
    if (!strstr(out, "\"namespaces\":[]") ||
        !strstr(out, "\"isolation_fallback\":\"clone: creating a user namespace was refused") ||
        !strstr(out, "seccomp profile may deny it"))
        fail_msg("expected a fallback that says why: %s", out);
    sbx_result_free(r);
    static const char *const full[] = {SBX_CLI,
                                       "run",
                                       "--no-private-tmp",
                                       "--best-effort",
                                       "monitor",
                                       "--isolation",
                                       "full",
                                       "--",
                                       "/bin/true",
                                       NULL};
    r = nested(full);
    assert_status(r, SBX_STATUS_EXITED, 125);
    if (!strstr(sbx_result_stderr(r, NULL), "seccomp profile may deny it"))
        fail_msg("unexpected message: %s", sbx_result_stderr(r, NULL));
    sbx_result_free(r);
}

/* A host that dropped root by setuid() is not dumpable until it executes a
 * program: no child that shares its memory may write a user namespace's id
 * maps. The default falls back and says why, full isolation refuses with
 * the same reason; once the host is dumpable again its children get their
 * namespaces (the control: the probe and the namespaces work for this user).
 * In a forked copy, as root. */
static void test_ns__host_that_dropped_root_is_told_why(void **state)
{
    (void)state;
    if (geteuid() != 0)
        SBX_SKIP("dropping root needs root");
    need(SBX_FEATURE_USER_NS);
    const struct passwd *pw = getpwnam("nobody");
    if (!pw)
        SBX_SKIP("no user 'nobody' to change to");
    int fd;
    pid_t pid = fork_reporting(&fd);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
            _exit(3);
        static const char *const argv[] = {"/bin/true", NULL};
        sbx_policy *p = NULL;
        sbx_result *r = NULL;
        if (sbx_policy_new(&p) != 0 || sbx_run(p, argv, NULL, 0, &r) != 0)
            _exit(4);
        const char *why = sbx_result_isolation_fallback(r);
        dprintf(fd, "auto ns=%x why=%s\n", sbx_result_namespaces(r), why ? why : "(none)");
        sbx_result_free(r);
        r = NULL;
        if (sbx_set_isolation(p, SBX_ISOLATION_FULL) != 0)
            _exit(5);
        int rc = sbx_run(p, argv, NULL, 0, &r);
        dprintf(fd, "full rc=%d err=%s\n", rc, rc ? sbx_last_error() : "");
        sbx_result_free(r);
        r = NULL;
        /* dumpable again: a new plan (the policy changed), namespaces */
        if (prctl(PR_SET_DUMPABLE, 1) != 0 || sbx_set_isolation(p, SBX_ISOLATION_AUTO) != 0 ||
            sbx_run(p, argv, NULL, 0, &r) != 0)
            _exit(6);
        dprintf(fd, "dumpable ns=%x\n", sbx_result_namespaces(r));
        sbx_result_free(r);
        sbx_policy_free(p);
        _exit(0);
    }
    char buf[2048];
    int st = copy_report(pid, fd, buf, sizeof(buf));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the copy that dropped root: status 0x%x; '%s'", st, buf);
    char *dumpable = strstr(buf, "dumpable ns=");
    if (!dumpable || !(strtoul(dumpable + 12, NULL, 16) & SBX_NS_USER))
        fail_msg("control: no user namespace once dumpable again: '%s'", buf);
    if (strncmp(buf, "auto ns=0 why=writing /proc/self/", 33) != 0 ||
        !strstr(buf, "this process is not dumpable") || !strstr(buf, "PR_SET_DUMPABLE"))
        fail_msg("the default's fallback does not say why: '%s'", buf);
    char *full = strstr(buf, "full rc=");
    if (!full || strncmp(full, "full rc=-13 ", 12) != 0 ||
        !strstr(full, "this process is not dumpable"))
        fail_msg("full isolation does not refuse with the reason: '%s'", buf);
}

/* The isolation probe says what a default policy's child gets: the same set
 * as sbx_result_namespaces(), or 0 and the fallback's reason. */
static void test_ns__probe_isolation_matches_a_run(void **state)
{
    (void)state;
    char reason[512];
    int level = sbx_probe(SBX_FEATURE_ISOLATION, reason, sizeof(reason));
    sbx_policy *p = NULL;
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    const char *argv[] = {"/bin/true", NULL};
    assert_sbx_ok(sbx_run(p, argv, NULL, 0, &r));
    assert_int_equal((uint32_t)level, sbx_result_namespaces(r));
    if (level == 0) {
        assert_non_null(sbx_result_isolation_fallback(r));
        assert_non_null(strstr(sbx_result_isolation_fallback(r), reason));
    } else {
        assert_null(sbx_result_isolation_fallback(r));
        assert_true(level & SBX_NS_PID);
        assert_true(level & SBX_NS_MOUNT);
        assert_false(level & SBX_NS_NET);
    }
    sbx_result_free(r);
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ns__api_rejects_bad_input),
    cmocka_unit_test(test_ns__user_no_capabilities),
    cmocka_unit_test(test_ns__pid_hides_host_processes),
    cmocka_unit_test(test_ns__pid_init_passes_status_through),
    cmocka_unit_test(test_ns__pid_init_forwards_signals),
    cmocka_unit_test(test_ns__pid_double_fork_setsid_dies_at_timeout),
    cmocka_unit_test(test_ns__pid_host_death_kills_the_tree),
    cmocka_unit_test(test_ns__net_udp_to_host_listener_fails),
    cmocka_unit_test(test_ns__ipc_hides_host_segments),
    cmocka_unit_test(test_ns__uts_own_hostname),
    cmocka_unit_test_setup_teardown(test_ns__mount_read_only_view_stops_metadata_changes, setup,
                                    teardown),
    cmocka_unit_test(test_ns__mount_noexec_stops_the_loader),
    cmocka_unit_test_setup_teardown(test_ns__mount_private_tmp, setup, teardown),
    cmocka_unit_test(test_ns__mount_children_share_nothing_writable),
    cmocka_unit_test_setup_teardown(test_ns__mount_write_grant_in_tmp_is_carried, setup, teardown),
    cmocka_unit_test(test_ns__mount_view_hides_the_host),
    cmocka_unit_test(test_ns__mount_table_holds_only_the_view),
    cmocka_unit_test_setup_teardown(test_ns__mount_view_host_unix_socket, setup, teardown),
    cmocka_unit_test(test_ns__mount_view_ptys),
    cmocka_unit_test(test_ns__mount_tmpfs_bomb_stopped),
    cmocka_unit_test(test_ns__mount_shared_tree_read_only_in_its_file_systems),
    cmocka_unit_test(test_ns__mount_tree_built_again_in_a_copy_forked_during_the_build),
    cmocka_unit_test(test_ns__refused_by_the_host_says_why),
    cmocka_unit_test(test_ns__probe_isolation_matches_a_run),
    cmocka_unit_test(test_ns__host_that_dropped_root_is_told_why),
};

SBX_TEST_MAIN(tests)
