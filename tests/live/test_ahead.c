/* A sandbox prepared ahead (sbx_prepare_ahead()): the next spawn of a policy
 * takes a child whose namespaces, view, init and confinement were set up
 * while the one before ran. What a spawn sees is the same as without it (the
 * __ahead twins of the other suites run their probes so too); these cases
 * check what is its own: which spawns take it, the request (arguments,
 * environment, streams, working directory), that successive children share
 * nothing, that the waiting sandbox is confined and holds nothing of the
 * host's, and that nothing is left behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "live.h"

/* A default policy that prepares ahead; skips when the host gives no pid and
 * mount namespace (the default then falls back: nothing is prepared). */
static sbx_policy *ahead_policy(void)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_prepare_ahead(p, 1));
    static const char *const argv[] = {"/bin/true", NULL};
    /* Two spawns: the view's prepared tree is built at the second (its
     * short-lived helper is a child of this process for a moment), so that
     * the helper thread has only the next sandbox to prepare when the case
     * looks at this process's children. */
    sbx_result_free(run_ok(p, argv));
    sbx_result *r = run_ok(p, argv);
    uint32_t ns = sbx_result_namespaces(r);
    const char *why = sbx_result_isolation_fallback(r);
    char reason[256];
    snprintf(reason, sizeof(reason), "%s", why ? why : "");
    sbx_result_free(r);
    if (!(ns & SBX_NS_PID) || !(ns & SBX_NS_MOUNT)) {
        sbx_policy_free(p);
        SBX_SKIP("no pid and mount namespace here, so nothing is prepared ahead: %s", reason);
    }
    return p;
}

/* sbx_run_with: argv, env changes, input; the result. */
static sbx_result *run_with(const sbx_policy *p, const char *const *argv, const char *const *env,
                            const char *input, const char *workdir, int *rc)
{
    sbx_spawn_opts o = SBX_SPAWN_OPTS_INIT;
    o.env = env;
    o.input = input;
    o.input_len = input ? strlen(input) : 0;
    o.workdir = workdir;
    sbx_result *r = NULL;
    *rc = sbx_run_with(p, argv, &o, &r);
    return r;
}

static void test_ahead__spawns_take_the_prepared_sandbox(void **state)
{
    (void)state;
    sbx_policy *p = ahead_policy(); /* /bin/true: the shell's first spawn is not prepared */
    for (int i = 0; i < 20; i++) {
        char arg[16], var[32], in[32], want[128];
        snprintf(arg, sizeof(arg), "arg%d", i);
        snprintf(var, sizeof(var), "FOO=value%d", i);
        snprintf(in, sizeof(in), "input%d\n", i);
        const char *const argv[] = {"/bin/sh", "-c", "read x; echo \"$1 $FOO $x\"; exit 7",
                                    "sh",      arg,  NULL};
        const char *const env[] = {var, NULL};
        int rc;
        sbx_result *r = run_with(p, argv, env, in, NULL, &rc);
        assert_sbx_ok(rc);
        assert_status(r, SBX_STATUS_EXITED, 7);
        snprintf(want, sizeof(want), "arg%d value%d input%d\n", i, i, i);
        assert_string_equal(sbx_result_stdout(r, NULL), want);
        if (sbx_result_prepared_ahead(r) != (i > 0))
            fail_msg("spawn %d: prepared ahead %d: %s", i, sbx_result_prepared_ahead(r),
                     describe(r));
        uint32_t layers = sbx_result_layers(r);
        assert_true(layers & SBX_LAYER_LANDLOCK);
        assert_true(layers & SBX_LAYER_SECCOMP);
        assert_true(layers & SBX_LAYER_NAMESPACES);
        sbx_result_free(r);
    }
    sbx_policy_free(p);
    assert_no_children();
}

/* The streams: a host descriptor, /dev/null, a pipe, the host's own. */
static void test_ahead__streams(void **state)
{
    (void)state;
    sbx_policy *p = ahead_policy();
    int out[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = SBX_STDIO_NULL;
    io.stdout_mode = SBX_STDIO_FD;
    io.stdout_fd = out[1];
    io.stderr_mode = SBX_STDIO_PIPE;
    static const char *const argv[] = {"/bin/sh", "-c",
                                       "if read x; then echo \"got $x\"; else echo eof; fi; "
                                       "echo to-stderr >&2",
                                       NULL};
    /* the shell's first spawn (the policy's was /bin/true), then a prepared one */
    for (int i = 0; i < 2; i++) {
        sbx_child *c = NULL;
        assert_sbx_ok(sbx_spawn(p, argv, &io, &c));
        char buf[64] = {0}, err[64] = {0};
        ssize_t n = read(out[0], buf, sizeof(buf) - 1);
        assert_true(n > 0);
        assert_string_equal(buf, "eof\n");
        int efd = sbx_child_stdio_fd(c, 2);
        assert_true(efd >= 0);
        int fl = fcntl(efd, F_GETFL);
        fcntl(efd, F_SETFL, fl & ~O_NONBLOCK);
        n = read(efd, err, sizeof(err) - 1);
        assert_true(n > 0);
        assert_string_equal(err, "to-stderr\n");
        sbx_result *r = NULL;
        assert_sbx_ok(sbx_child_wait(c, &r));
        assert_status(r, SBX_STATUS_EXITED, 0);
        assert_int_equal(sbx_result_prepared_ahead(r), i);
        sbx_result_free(r);
        sbx_child_free(c);
    }
    close(out[0]);
    close(out[1]);
    sbx_policy_free(p);
}

static int prepared(const sbx_policy *p, const char *prog)
{
    const char *const argv[] = {prog, NULL};
    sbx_result *r = run_ok(p, argv);
    assert_status(r, SBX_STATUS_EXITED, 0);
    int v = sbx_result_prepared_ahead(r);
    sbx_result_free(r);
    return v;
}

struct from_thread {
    const sbx_policy *p;
    int prepared;
};

static void *spawn_from_thread(void *arg)
{
    struct from_thread *t = arg;
    t->prepared = prepared(t->p, "/bin/true");
    return NULL;
}

/* The sandbox is prepared for the program of the spawn before: another
 * takes a fresh one, and the next is prepared for it. Any thread may take it. */
static void test_ahead__prepared_for_the_last_program(void **state)
{
    (void)state;
    sbx_policy *p = ahead_policy(); /* prepared for /bin/true */
    assert_int_equal(prepared(p, "/bin/true"), 1);
    const char *const f[] = {"/bin/echo", "x", NULL};
    sbx_result *r = run_ok(p, f);
    assert_int_equal(sbx_result_prepared_ahead(r), 0); /* another program */
    sbx_result_free(r);
    r = run_ok(p, f);
    assert_int_equal(sbx_result_prepared_ahead(r), 1); /* prepared for it now */
    assert_string_equal(sbx_result_stdout(r, NULL), "x\n");
    sbx_result_free(r);
    assert_int_equal(prepared(p, "/bin/true"), 0);

    /* Another thread takes it too: the library's own thread cloned it (the
     * parent-death signal follows that one, which lasts as long as the
     * process), with the parent-death signal on or off. */
    assert_int_equal(prepared(p, "/bin/true"), 1);
    struct from_thread t = {.p = p};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, spawn_from_thread, &t), 0);
    pthread_join(th, NULL);
    assert_int_equal(t.prepared, 1);
    assert_int_equal(prepared(p, "/bin/true"), 1); /* prepared by that thread's spawn */
    sbx_policy_free(p);

    p = ahead_policy();
    assert_sbx_ok(sbx_set_die_with_parent(p, 0));
    assert_int_equal(prepared(p, "/bin/true"), 0); /* the change made a new plan */
    t.p = p;
    assert_int_equal(pthread_create(&th, NULL, spawn_from_thread, &t), 0);
    pthread_join(th, NULL);
    assert_int_equal(t.prepared, 1);
    sbx_policy_free(p);
    assert_no_children();
}

/* A spawn's own working directory is entered in the prepared sandbox; one
 * that is not in the view fails as it does without preparing. */
static void test_ahead__workdir_per_spawn(void **state)
{
    (void)state;
    char dir[] = "/tmp/sbx-ahead-XXXXXX";
    assert_non_null(mkdtemp(dir));
    chmod(dir, 0755);
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_sbx_ok(sbx_prepare_ahead(p, 1));
    assert_sbx_ok(sbx_allow_path(p, dir, SBX_FS_READ));
    static const char *const argv[] = {"/bin/pwd", NULL};
    int rc;
    for (int i = 0; i < 3; i++) {
        sbx_result *r = run_with(p, argv, NULL, NULL, dir, &rc);
        assert_sbx_ok(rc);
        assert_status(r, SBX_STATUS_EXITED, 0);
        char want[64];
        snprintf(want, sizeof(want), "%s\n", dir);
        assert_string_equal(sbx_result_stdout(r, NULL), want);
        if (i > 0 && !(sbx_result_namespaces(r) & SBX_NS_MOUNT))
            SBX_SKIP("no mount namespace here: nothing is prepared ahead");
        if (i > 0)
            assert_int_equal(sbx_result_prepared_ahead(r), 1);
        sbx_result_free(r);
    }
    sbx_result *r = run_with(p, argv, NULL, NULL, "/no/such/dir", &rc);
    assert_int_equal(rc, -ENOENT);
    assert_null(r);
    assert_int_equal(sbx_last_error_stage(), SBX_STAGE_WORKDIR);
    assert_non_null(strstr(sbx_last_error(), "/no/such/dir"));
    r = run_with(p, argv, NULL, NULL, dir, &rc); /* and the next works */
    assert_sbx_ok(rc);
    assert_status(r, SBX_STATUS_EXITED, 0);
    sbx_result_free(r);
    sbx_policy_free(p);
    rmdir(dir);
    assert_no_children();
}

/* pids of this process's children (every thread's: the library's helper
 * threads clone the prepared sandboxes), up to max. */
static int host_children(pid_t *pids, int max)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int k = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* a thread that just ended */
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        for (char *s = buf, *end; k < max && (pids[k] = (pid_t)strtol(s, &end, 10)) > 0; s = end)
            k++;
    }
    closedir(d);
    return k;
}

/* The number of this process's children, once it is `want` (a sandbox is
 * prepared by a helper thread, after the spawn returned): at most 5 s. */
static int children_settle(int want)
{
    pid_t pids[8];
    int n = host_children(pids, 8);
    for (int tries = 0; tries < 500 && n != want; tries++) {
        usleep(10000);
        n = host_children(pids, 8);
    }
    return n;
}

/* Nothing is left: the prepared sandbox goes with the policy, with
 * sbx_prepare_ahead(p, 0), and when the policy changes. */
static void test_ahead__nothing_left_behind(void **state)
{
    (void)state;
    static const char *const argv[] = {"/bin/true", NULL};
    sbx_policy *warm = NULL; /* the init's memfd, made once per process */
    assert_sbx_ok(sbx_policy_new(&warm));
    sbx_result_free(run_ok(warm, argv));
    sbx_policy_free(warm);
    int fds = count_fds();
    assert_int_equal(children_settle(0), 0);
    sbx_policy *p = ahead_policy();
    assert_int_equal(children_settle(1), 1); /* the prepared sandbox's init */
    assert_int_equal(prepared(p, "/bin/true"), 1);
    assert_int_equal(children_settle(1), 1);
    sbx_policy_free(p);
    assert_int_equal(children_settle(0), 0);
    assert_int_equal(count_fds(), fds);
    assert_no_children();

    p = ahead_policy();
    assert_sbx_ok(sbx_prepare_ahead(p, 0));
    assert_int_equal(children_settle(0), 0);
    assert_int_equal(prepared(p, "/bin/true"), 0);
    assert_int_equal(children_settle(0), 0); /* off: none prepared */
    assert_sbx_ok(sbx_prepare_ahead(p, 1));
    assert_int_equal(prepared(p, "/bin/true"), 0);
    assert_int_equal(children_settle(1), 1);
    assert_sbx_ok(sbx_set_env(p, "CHANGED", "1")); /* a new plan: the old sandbox goes */
    sbx_result *r = run_ok(p, argv);
    assert_int_equal(sbx_result_prepared_ahead(r), 0);
    sbx_result_free(r);
    assert_int_equal(children_settle(1), 1); /* the next, for the new plan */
    sbx_policy_free(p);
    assert_int_equal(children_settle(0), 0);
    assert_int_equal(count_fds(), fds);
    assert_no_children();
}

/* The next sandbox is set up once the child just spawned has ended, or
 * READY_AFTER_MS (100 ms) after the spawn, or when the next spawn asks: a
 * child that runs on neither holds up the next spawn nor keeps it from
 * being prepared beside it. */
static void test_ahead__prepared_beside_a_child_that_runs_on(void **state)
{
    (void)state;
    sbx_policy *p = ahead_policy();
    static const char *const sleeper[] = {PROBE("probe_sleep"), "30", "0", NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sbx_child *c = NULL, *c2 = NULL, *c3 = NULL;
    assert_sbx_ok(sbx_spawn(p, sleeper, NULL, &c)); /* another program: as usual */
    /* The next, for the sleeper, is prepared beside it (after 100 ms). */
    assert_int_equal(children_settle(2), 2);
    assert_sbx_ok(sbx_spawn(p, sleeper, NULL, &c2)); /* takes it */
    /* Right after, while c2 runs on: asks for the one c2's spawn handed over. */
    assert_sbx_ok(sbx_spawn(p, sleeper, NULL, &c3));
    sbx_child *kids[] = {c3, c2, c};
    int took[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(process_dead(sbx_child_pid(kids[i])), 0); /* nothing waited for them */
        assert_sbx_ok(sbx_child_kill(kids[i]));
        sbx_result *r = NULL;
        assert_sbx_ok(sbx_child_wait(kids[i], &r));
        took[i] = sbx_result_prepared_ahead(r);
        sbx_result_free(r);
        sbx_child_free(kids[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(took[0], 1);            /* c3 */
    assert_int_equal(took[1], 1);            /* c2 */
    assert_int_equal(took[2], 0);            /* c */
    assert_true(t1.tv_sec - t0.tv_sec < 20); /* a correctness bound: the sleepers sleep 30 s */
    sbx_policy_free(p);
    assert_int_equal(children_settle(0), 0);
    assert_no_children();
}

/* A forked copy of the host that frees its copy of the policy leaves the
 * parent's prepared sandbox alone (it is not the copy's child). */
static void test_ahead__fork_leaves_the_parents_sandbox(void **state)
{
    (void)state;
    sbx_policy *p = ahead_policy();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sbx_policy_free(p);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(prepared(p, "/bin/true"), 1);
    sbx_policy_free(p);
    assert_no_children();
}

/* A host that forks while the library's thread prepares its next sandbox:
 * the copy spawns with a policy of its own (plan, names, the init's
 * descriptor) and ends, and the parent's sandbox is still its own; twenty
 * times, each fork right after a spawn, when the preparation has just begun.
 * Each copy is bounded by an alarm. (A lock that thread holds for a few
 * system calls is rarely held at the fork: tests/unit/test_forksafe.c holds
 * each across one; 240 forks here did not hit one without the fix.) */
static void test_ahead__fork_while_preparing(void **state)
{
    (void)state;
    sbx_policy *p = ahead_policy();
    static const char *const argv[] = {"/bin/true", NULL};
    for (int i = 0; i < 20; i++) {
        sbx_result_free(run_ok(p, argv)); /* the next is being prepared now */
        int fd;
        pid_t pid = fork_reporting(&fd);
        if (pid == 0) {
            alarm(20);
            sbx_policy *q = NULL;
            sbx_result *r = NULL;
            if (sbx_policy_new(&q) != 0 || sbx_run(q, argv, NULL, 0, &r) != 0) {
                dprintf(fd, "%s", sbx_last_error());
                _exit(4);
            }
            int code = sbx_result_exit_code(r);
            sbx_result_free(r);
            sbx_policy_free(q);
            _exit(code);
        }
        char buf[256];
        int st = copy_report(pid, fd, buf, sizeof(buf));
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail_msg("fork %d: the copy %s (status 0x%x) '%s'", i,
                     WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? "waited for ever" : "failed", st,
                     buf);
    }
    assert_int_equal(prepared(p, "/bin/true"), 1); /* the parent's own, untouched */
    sbx_policy_free(p);
    assert_no_children();
}

/* Hostile: two children of one policy, the second prepared while the first
 * ran, share nothing. The first leaves a file in its /tmp and /dev/shm and a
 * process running; the second must see none of them. The control: the first
 * sees what it left (the probe works). Shell builtins only: the default
 * policy lets the program execute nothing else. */
static void test_ahead__children_share_nothing(void **state)
{
    (void)state;
    sbx_policy *p = ahead_policy();
#define LOOK                                                                                       \
    "n=0; for d in /proc/[0-9]*; do n=$((n+1)); done; "                                            \
    "for f in /tmp/left /dev/shm/left; do [ -e $f ] && echo $f; done; echo procs=$n"
    static const char *const leave[] = {
        "/bin/sh", "-c",
        "echo x > /tmp/left; echo x > /dev/shm/left; (while :; do :; done) & " LOOK "; kill $!",
        NULL};
    static const char *const look[] = {"/bin/sh", "-c", LOOK, NULL};
#undef LOOK
    sbx_spawn_opts o = SBX_SPAWN_OPTS_INIT;
    sbx_result *r = NULL;
    assert_sbx_ok(sbx_run_with(p, leave, &o, &r));
    const char *out = sbx_result_stdout(r, NULL);
    if (strcmp(out, "/tmp/left\n/dev/shm/left\nprocs=3\n") != 0)
        fail_msg("control: the first child does not see what it left: '%s' %s", out,
                 sbx_result_stderr(r, NULL));
    sbx_result_free(r);
    r = NULL;
    /* the same program (the shell): the prepared sandbox fits */
    assert_sbx_ok(sbx_run_with(p, look, &o, &r));
    out = sbx_result_stdout(r, NULL);
    assert_int_equal(sbx_result_prepared_ahead(r), 1);
    if (strcmp(out, "procs=2\n") != 0) /* its init and itself */
        fail_msg("the second child sees what the first left: '%s'", out);
    sbx_result_free(r);
    sbx_policy_free(p);
    assert_no_children();
}

static int status_field(pid_t pid, const char *key, char *val, size_t size)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    int found = -ENOENT;
    size_t k = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, k) == 0 && line[k] == ':') {
            char *v = line + k + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(val, size, "%s", v);
            found = 0;
        }
    fclose(f);
    return found;
}

/* Hostile: the waiting program is confined already (seccomp filter,
 * no_new_privs, no capabilities) and holds no descriptor of the host's,
 * though it runs beside the host. The control: the host holds the marker.
 * The init, executed already, is not dumpable: only root reads its
 * descriptors; the pipe's ends tell for everyone (a write end held
 * elsewhere keeps the read end from its hang-up, a read end held
 * elsewhere keeps a write from EPIPE). */
static void test_ahead__waiting_sandbox_is_confined(void **state)
{
    (void)state;
    int marker[2], second[2];          /* the second: for its read end, below */
    assert_int_equal(pipe(marker), 0); /* inheritable: no close-on-exec */
    assert_int_equal(pipe(second), 0);
    struct stat ms;
    assert_int_equal(fstat(marker[0], &ms), 0);
    sbx_policy *p = ahead_policy(); /* prepared while the marker is open */
    pid_t pids[8];
    assert_int_equal(children_settle(1), 1);
    assert_int_equal(host_children(pids, 8), 1);
    char path[96], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pids[0], (int)pids[0]);
    /* the init's child: the waiting program (it may still be setting up) */
    pid_t prog = 0;
    for (int tries = 0; tries < 200 && prog <= 0; tries++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        prog = (pid_t)strtol(buf, NULL, 10);
        if (prog <= 0)
            usleep(10000);
    }
    assert_true(prog > 0);
    /* confined: wait until its filter is in (it loads it last) */
    char v[64] = "";
    for (int tries = 0; tries < 200; tries++) {
        assert_int_equal(status_field(prog, "Seccomp", v, sizeof(v)), 0);
        if (strcmp(v, "2") == 0)
            break;
        usleep(10000);
    }
    assert_string_equal(v, "2");
    assert_int_equal(status_field(prog, "NoNewPrivs", v, sizeof(v)), 0);
    assert_string_equal(v, "1");
    assert_int_equal(status_field(prog, "CapEff", v, sizeof(v)), 0);
    assert_string_equal(v, "0000000000000000");
    assert_int_equal(status_field(prog, "CapBnd", v, sizeof(v)), 0);
    assert_string_equal(v, "0000000000000000");
    char self[32];
    assert_int_equal(status_field(getpid(), "Seccomp", self, sizeof(self)), 0);
    assert_string_equal(self, "0"); /* the control: the host has no filter */

    /* no descriptor of the host's, in the waiting program or in the
     * sandbox's first process (the init to be): none is the marker pipe */
    int seen_here = 0, seen_there = 0;
    for (int pass = 0; pass < 3; pass++) {
        char dir[64];
        pid_t whose = pass == 0 ? getpid() : pass == 1 ? prog : pids[0];
        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)whose);
        DIR *d = opendir(dir);
        if (!d && errno == EACCES && pass == 2 && geteuid() != 0)
            continue; /* the init's: the ends below */
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (e->d_name[0] == '.')
                continue;
            char fdpath[384];
            struct stat st;
            snprintf(fdpath, sizeof(fdpath), "%s/%s", dir, e->d_name);
            if (stat(fdpath, &st) == 0 && st.st_ino == ms.st_ino && st.st_dev == ms.st_dev)
                *(pass ? &seen_there : &seen_here) += 1;
        }
        closedir(d);
    }
    assert_int_equal(seen_here, 2); /* the control */
    assert_int_equal(seen_there, 0);
    struct pollfd pfd = {.fd = marker[0], .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 0); /* the control: this process holds the write end */
    close(marker[1]);
    assert_int_equal(poll(&pfd, 1, 0), 1);
    assert_true(pfd.revents & POLLHUP); /* no other holder of the write end */
    close(marker[0]);
    /* a write fails with EPIPE once no process holds the read end */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    assert_int_equal(write(second[1], "x", 1), 1); /* the control: this process holds one */
    close(second[0]);
    errno = 0;
    assert_int_equal(write(second[1], "x", 1), -1);
    assert_int_equal(errno, EPIPE); /* no other holder of the read end */
    sigaction(SIGPIPE, &old, NULL);
    close(second[1]);
    sbx_policy_free(p);
    assert_no_children();
}

/* The host changes its credentials (a service that drops root after
 * start-up) while a sandbox prepared with the old ones waits. The change
 * does not wait for that sandbox (glibc changes every thread's credentials,
 * the library's too); the next spawn does not take it, and its program runs
 * with the new credentials, in a plan made for them. The control: the
 * spawn before the change took the prepared sandbox, and ran as root. In a
 * forked copy (the change is for good), bounded by an alarm. Before the fix
 * the change waited for the sandbox, for ever. */
static void test_ahead__host_changes_its_credentials(void **state)
{
    (void)state;
    if (geteuid() != 0)
        SBX_SKIP("changing the host's credentials needs root");
    const struct passwd *pw = getpwnam("nobody");
    if (!pw)
        SBX_SKIP("no user 'nobody' to change to");
    uid_t to_uid = pw->pw_uid;
    gid_t to_gid = pw->pw_gid;
    sbx_policy *p = ahead_policy(); /* skips without namespaces */
    /* /proc read: after the change the default may fall back to no
     * namespaces (a process that changed its uid is not dumpable, and may
     * not write a user namespace's id maps), where /proc is the host's */
    assert_sbx_ok(sbx_allow_path(p, "/proc", SBX_FS_READ));
    /* Forked while no helper thread of this process is preparing (the copy
     * prepares its own): turning it off ends the one prepared. */
    assert_sbx_ok(sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_OFF));
    int fd;
    pid_t pid = fork_reporting(&fd);
    if (pid == 0) {
        alarm(30); /* the change waits for the sandbox: killed, and the case fails */
        if (sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_ON) != 0)
            _exit(5);
        static const char *const sh[] = {"/bin/sh", "-c",
                                         "while read k r e x; do [ \"$k\" = Uid: ] && echo $r $e; "
                                         "done </proc/self/status",
                                         NULL};
        int took[2] = {-1, -1};
        char line[2][160] = {"", ""};
        for (int i = 0; i < 2; i++) {
            /* (where a copy killed by the alarm got to: in the case's output) */
            fprintf(stderr, "copy: %s\n", i ? "changing its credentials" : "spawning as root");
            if (i == 1 && (setgroups(0, NULL) != 0 || setgid(to_gid) != 0 || setuid(to_uid) != 0))
                _exit(3);
            if (i == 1)
                fprintf(stderr, "copy: changed them; spawning\n");
            /* before: the shell twice, the second in a sandbox prepared for it */
            sbx_result *r = NULL;
            for (int k = 0; k < 2 - i; k++) {
                sbx_result_free(r);
                r = NULL;
                if (sbx_run(p, sh, NULL, 0, &r) != 0) {
                    dprintf(fd, "spawn %d: %s", i, sbx_last_error());
                    _exit(4);
                }
            }
            took[i] = sbx_result_prepared_ahead(r);
            snprintf(line[i], sizeof(line[i]), "%s%s", sbx_result_stdout(r, NULL),
                     sbx_result_stderr(r, NULL)); /* (stderr: only if the probe failed) */
            sbx_result_free(r);
        }
        sbx_policy_free(p);
        dprintf(fd, "%d %d|%s|%s", took[0], took[1], line[0], line[1]);
        _exit(0);
    }
    char buf[512];
    int st = copy_report(pid, fd, buf, sizeof(buf));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the copy that changed its credentials: status 0x%x%s; '%s'", st,
                 WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM
                     ? " (the change waited for the prepared sandbox)"
                     : "",
                 buf);
    sbx_policy_free(p);
    char want[128];
    snprintf(want, sizeof(want), "1 0|0 0\n|%u %u\n", (unsigned)to_uid, (unsigned)to_uid);
    if (strncmp(buf, "1 ", 2) != 0 || strstr(buf, "|0 0\n|") == NULL)
        fail_msg("control: the spawn before the change did not take a sandbox as root: '%s'", buf);
    assert_string_equal(buf, want);
    assert_no_children();
}

/* SBX_PREPARE_AHEAD_AUTO: prepared after the second spawn in a row of one
 * program, so the third and later take a sandbox; a spawn of another
 * program neither takes it nor ends it (the next of the first program
 * does); a policy spawned once keeps nothing. The control: SBX_PREPARE_AHEAD_ON
 * prepares from the first spawn. */
static void test_ahead__auto_prepares_for_a_program_run_again(void **state)
{
    (void)state;
    sbx_policy *p = ahead_policy();                             /* (skips without namespaces) */
    assert_sbx_ok(sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_OFF)); /* (ends its sandbox) */
    assert_sbx_ok(sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_AUTO));
    assert_int_equal(prepared(p, "/bin/echo"), 0); /* the spawn before: another program */
    int took[4];
    for (int i = 0; i < 4; i++)
        took[i] = prepared(p, "/bin/true");
    assert_int_equal(took[0], 0);
    assert_int_equal(took[1], 0);
    assert_int_equal(took[2], 1);
    assert_int_equal(took[3], 1);
    assert_int_equal(children_settle(1), 1); /* one prepared, for /bin/true */
    assert_int_equal(prepared(p, "/bin/echo"), 0);
    assert_int_equal(children_settle(1), 1); /* kept, and none for /bin/echo */
    assert_int_equal(prepared(p, "/bin/true"), 1);
    sbx_policy_free(p);
    assert_int_equal(children_settle(0), 0);

    sbx_policy *once = NULL; /* spawned once: nothing kept */
    assert_sbx_ok(sbx_policy_new(&once));
    assert_sbx_ok(sbx_prepare_ahead(once, SBX_PREPARE_AHEAD_AUTO));
    assert_int_equal(prepared(once, "/bin/true"), 0);
    assert_int_equal(children_settle(0), 0);
    assert_sbx_ok(sbx_prepare_ahead(once, SBX_PREPARE_AHEAD_ON)); /* the control */
    assert_int_equal(prepared(once, "/bin/true"), 0);
    assert_int_equal(children_settle(1), 1);
    assert_int_equal(prepared(once, "/bin/true"), 1);
    sbx_policy_free(once);
    assert_int_equal(children_settle(0), 0);
    assert_no_children();
}

/* Bad input: a clear -EINVAL and a message naming the function; a NULL
 * result reads as not prepared. A policy without namespaces (minimal
 * isolation) is not prepared for: its spawns run as usual, and it keeps no
 * process between them. */
static void test_ahead__api_rejects_bad_input_and_minimal_runs_as_usual(void **state)
{
    (void)state;
    assert_int_equal(sbx_prepare_ahead(NULL, 1), -EINVAL);
    assert_non_null(strstr(sbx_last_error(), "sbx_prepare_ahead"));
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    assert_int_equal(sbx_prepare_ahead(p, 3), -EINVAL);
    assert_non_null(strstr(sbx_last_error(), "sbx_prepare_ahead: mode must be "
                                             "SBX_PREPARE_AHEAD_OFF (0), _ON (1) or _AUTO (2), "
                                             "got 3"));
    assert_int_equal(sbx_prepare_ahead(p, -1), -EINVAL);
    assert_int_equal(sbx_result_prepared_ahead(NULL), 0);

    assert_sbx_ok(sbx_set_isolation(p, SBX_ISOLATION_MINIMAL));
    assert_sbx_ok(sbx_prepare_ahead(p, 1));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(prepared(p, "/bin/true"), 0);
        assert_int_equal(children_settle(0), 0);
    }
    sbx_policy_free(p);
    assert_no_children();
}

int main(int argc, char **argv);

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ahead__spawns_take_the_prepared_sandbox),
    cmocka_unit_test(test_ahead__streams),
    cmocka_unit_test(test_ahead__prepared_for_the_last_program),
    cmocka_unit_test(test_ahead__workdir_per_spawn),
    cmocka_unit_test(test_ahead__nothing_left_behind),
    cmocka_unit_test(test_ahead__prepared_beside_a_child_that_runs_on),
    cmocka_unit_test(test_ahead__fork_leaves_the_parents_sandbox),
    cmocka_unit_test(test_ahead__fork_while_preparing),
    cmocka_unit_test(test_ahead__children_share_nothing),
    cmocka_unit_test(test_ahead__waiting_sandbox_is_confined),
    cmocka_unit_test(test_ahead__host_changes_its_credentials),
    cmocka_unit_test(test_ahead__auto_prepares_for_a_program_run_again),
    cmocka_unit_test(test_ahead__api_rejects_bad_input_and_minimal_runs_as_usual),
};

SBX_TEST_MAIN(tests)
