/*
 * sbx_bench: spawn-to-reap latency of /bin/true, bare and under libagentsbx.
 *
 * Every mode is one entry of a table (a name and a function that spawns one
 * child and reaps it). The modes are measured interleaved, round-robin, in one
 * run, so that they all see the same machine state; the order within each
 * round is shuffled (with a fixed seed) so that no mode always runs right after
 * an expensive one (a peer sandbox leaves namespace teardown behind in kernel
 * workers). Warm-up rounds (not recorded) come first: they also compile the
 * policies, which happens once per policy, not per spawn.
 *
 *   floor    posix_spawn(/bin/true) + waitpid
 *   sbx      sbx_spawn with the default policy plus the limits of this
 *            release (CPU, memory, files, file size, wall clock), stdio on
 *            /dev/null + sbx_child_wait
 *   sbx-min  sbx_spawn with an empty policy + sbx_child_wait
 *            (each sbx mode prints the layers its children reported; both
 *            run with the default, auto isolation: namespaces where allowed)
 *   sbx-minimal, sbx-full (only with --modes): `sbx` with isolation minimal
 *            (no namespaces: the 0.1 default) and full (the net namespace too)
 *   fork     fork + execve + waitpid (only with --modes ...,fork): a control
 *            whose cost does grow with the host's memory, to show --ballast bites
 *   sbx-execrep (only with --modes): `sbx` with exec reporting on
 *   sbx-exec10, sbx-exec10-rep (only with --modes): `sbx` running a shell that
 *            executes /bin/true ten times, without and with exec reporting
 *   sbx-diagnose (only with --modes): `sbx` with diagnose mode on (the loader's
 *            opens of /bin/true reach the monitor)
 *   sbx-open1000, sbx-open1000-diag (only with --modes): `sbx` running a shell
 *            that opens /etc/passwd 1,000 times (builtins only: no exec),
 *            without and with diagnose mode
 *   sbx-notmp, sbx-nomon, sbx-lean (only with --modes): `sbx` without the
 *            private TMPDIR, without the violation monitor, without both
 *   sbx-ns-user, sbx-ns-pid, sbx-ns-mount, sbx-ns-net (only with --modes):
 *            `sbx-minimal` in new namespaces of one type (plus user when not root);
 *            sbx-ns: every type but net; sbx-ns-all: every type
 *   sbx-nocgroup (only with --modes): `sbx` with sbx_use_cgroup(p, 0): no
 *              cgroup even where a root host's memory limit would take one
 *              (the memory limit is RLIMIT_DATA): the cost of that cgroup;
 *              never prepared ahead. sbx-nocgroup-ahead: the same prepared
 *              ahead as `sbx` is: the cost of the cgroup to the default
 *   sbx-cgroup (only with --modes): `sbx` in cgroups of its own (pids.max 64)
 *   sbx-ahead, sbx-min-ahead (only with --modes): `sbx` and `sbx-min` with
 *            sbx_prepare_ahead(p, SBX_PREPARE_AHEAD_ON): each spawn takes the
 *            sandbox prepared during the round before, and prepares the next
 *            (the default, SBX_PREPARE_AHEAD_AUTO, does so from the third
 *            spawn of one program)
 *   sbx-noahead, sbx-min-noahead (only with --modes): `sbx` and `sbx-min`
 *            with SBX_PREPARE_AHEAD_OFF: every spawn sets its sandbox up (as
 *            a policy's first spawns, or one that runs another program each
 *            time)
 *   sbx-deny20, sbx-deny20-minimal (only with --modes): `sbx` (and `sbx-minimal`)
 *            with a writable workspace of 20 files, 10 of them write-denied and
 *            10 read-denied (sbx_deny_path; minimal: a read-only workspace, 20
 *            read-denied files: what Landlock can express); removed at exit
 *   sbx-overlay, sbx-deny20-overlay (only with --modes): `sbx` (and `sbx-deny20`)
 *            with an overlay (sbx_overlay) of a directory of 20 files, its
 *            upper directory beside it (/bin/true changes nothing: it stays
 *            empty); removed at exit
 *   peers    any command line (--peer NAME=CMDLINE), posix_spawnp + waitpid,
 *            stdio on /dev/null; skipped with a reason if it cannot run
 *
 * Latency is CLOCK_MONOTONIC from just before the spawn call to just after the
 * reap (and, for sbx modes, the frees). Percentiles are nearest-rank over the
 * sorted samples.
 */
#include <agentsbx/agentsbx.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TRUE_PATH "/bin/true"
#define MAX_MODES 16
#define MAX_ARGS  64

struct mode {
    const char *name;
    int (*once)(struct mode *m);   /* spawn and reap one child: 0, or -1 with m->why set */
    int (*setup)(struct mode *m);  /* NULL, or 0 / negative errno */
    int required;                  /* a failure of this mode fails the run (built-ins) */
    sbx_policy *policy;            /* sbx modes */
    const sbx_io *io;              /* sbx modes; NULL for the library's default */
    char *argv[MAX_ARGS];          /* peers: the command line, split on blanks */
    posix_spawn_file_actions_t fa; /* peers: stdio on /dev/null */
    uint64_t *ns;                  /* the samples */
    size_t n;
    uint32_t layers;     /* sbx modes: the layers the last child reported */
    char why[512];       /* non-empty: why the mode was skipped or failed */
    size_t failed_round; /* with why: the round (1-based) it failed at */
    int failed_warm;     /* with why: 1 if that round was a warm-up round */
};

struct stats {
    double median, p90, p99, min; /* microseconds */
};

__attribute__((format(printf, 2, 3))) static int fail(struct mode *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->why, sizeof(m->why), fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int reap(struct mode *m, pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return fail(m, "waitpid: %s", strerror(errno));
    }
    if (WIFSIGNALED(st))
        return fail(m, "killed by signal %d", WTERMSIG(st));
    if (WEXITSTATUS(st) != 0)
        return fail(m, "exited with status %d", WEXITSTATUS(st));
    return 0;
}

static char *true_argv[] = {(char *)TRUE_PATH, NULL};

static int floor_once(struct mode *m)
{
    pid_t pid;
    int e = posix_spawn(&pid, TRUE_PATH, NULL, NULL, true_argv, environ);
    if (e != 0)
        return fail(m, "posix_spawn(%s): %s", TRUE_PATH, strerror(e));
    return reap(m, pid);
}

static int fork_once(struct mode *m)
{
    pid_t pid = fork();
    if (pid < 0)
        return fail(m, "fork: %s", strerror(errno));
    if (pid == 0) {
        execve(TRUE_PATH, true_argv, environ);
        _exit(127);
    }
    return reap(m, pid);
}

/* floor-ns: what the kernel alone charges for the default isolation's
 * namespaces (pid, mount, ipc, uts, cgroup, and user when not root): the
 * floor's vfork-style clone with those flags, /bin/true executed as pid 1 of
 * the new pid namespace, no library, no init, no mount made. What a sandbox
 * that makes its namespaces per spawn cannot go below. */
static int floor_ns_child(void *arg)
{
    (void)arg;
    execve(TRUE_PATH, true_argv, environ);
    _exit(127);
}

static int floor_ns_once(struct mode *m)
{
    static _Alignas(16) char stack[64 * 1024];
    int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
    if (geteuid() != 0)
        flags |= CLONE_NEWUSER;
    pid_t pid = clone(floor_ns_child, stack + sizeof(stack),
                      CLONE_VM | CLONE_VFORK | SIGCHLD | flags, NULL);
    if (pid < 0)
        return fail(m, "clone with the namespaces' flags: %s", strerror(errno));
    return reap(m, pid);
}

static int sbx_once_argv(struct mode *m, const char *const *argv);

static int sbx_once(struct mode *m)
{
    static const char *const argv[] = {TRUE_PATH, NULL};
    return sbx_once_argv(m, argv);
}

/* The exec modes: a shell that executes /bin/true ten times (both granted). */
static int sbx_exec10_once(struct mode *m)
{
    static const char *const argv[] = {"/bin/sh", "-c",
                                       "/bin/true;/bin/true;/bin/true;/bin/true;/bin/true;"
                                       "/bin/true;/bin/true;/bin/true;/bin/true;/bin/true",
                                       NULL};
    return sbx_once_argv(m, argv);
}

/* The diagnose workload: a shell that opens a granted file 1,000 times. */
static int sbx_open1000_once(struct mode *m)
{
    static const char *const argv[] = {
        "/bin/sh", "-c", "i=0; while [ $i -lt 1000 ]; do : </etc/passwd; i=$((i+1)); done", NULL};
    return sbx_once_argv(m, argv);
}

static int sbx_once_argv(struct mode *m, const char *const *argv)
{
    sbx_child *child;
    sbx_result *res;
    int e = sbx_spawn(m->policy, argv, m->io, &child);
    if (e < 0)
        return fail(m, "sbx_spawn: %s: %s", sbx_errname(e), sbx_last_error());
    e = sbx_child_wait(child, &res);
    if (e < 0) {
        sbx_child_free(child);
        return fail(m, "sbx_child_wait: %s: %s", sbx_errname(e), sbx_last_error());
    }
    int status = sbx_result_status(res), code = sbx_result_exit_code(res);
    m->layers = sbx_result_layers(res);
    sbx_result_free(res);
    sbx_child_free(child);
    if (status != SBX_STATUS_EXITED || code != 0)
        return fail(m, "child ended %s, exit code %d", sbx_status_name(status), code);
    return 0;
}

static int cmd_once(struct mode *m)
{
    pid_t pid;
    int e = posix_spawnp(&pid, m->argv[0], &m->fa, NULL, m->argv, environ);
    if (e != 0)
        return fail(m, "%s: %s", m->argv[0], strerror(e));
    return reap(m, pid);
}

static int cmd_setup(struct mode *m)
{
    if (posix_spawn_file_actions_init(&m->fa) != 0 ||
        posix_spawn_file_actions_addopen(&m->fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&m->fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&m->fa, 2, "/dev/null", O_WRONLY, 0) != 0)
        return -ENOMEM;
    return 0;
}

/* "NAME=CMDLINE", or a bare CMDLINE (named after its first word); words split on blanks. */
static int add_peer(struct mode *m, char *spec)
{
    char *eq = strchr(spec, '='), *name = NULL, *line = spec, *save = NULL;
    if (eq != NULL && strcspn(spec, " \t") > (size_t)(eq - spec)) {
        *eq = '\0';
        name = spec;
        line = eq + 1;
    }
    size_t argc = 0;
    for (char *w = strtok_r(line, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
        if (argc == MAX_ARGS - 1)
            return -1;
        m->argv[argc++] = w;
    }
    if (argc == 0 || (name != NULL && *name == '\0'))
        return -1;
    m->argv[argc] = NULL;
    m->name = name != NULL ? name : m->argv[0];
    m->setup = cmd_setup;
    m->once = cmd_once;
    return 0;
}

/* The `sbx` mode: the default policy with the limits of this release, stdio on /dev/null. */
static int sbx_setup(struct mode *m)
{
    static sbx_io null_io = SBX_IO_INIT;
    null_io.stdin_mode = null_io.stdout_mode = null_io.stderr_mode = SBX_STDIO_NULL;
    m->io = &null_io;
    sbx_policy *p;
    int e = sbx_policy_new(&p);
    if (e < 0)
        return e;
    m->policy = p;
    if ((e = sbx_limit_cpu_time(p, 10)) < 0 || (e = sbx_limit_memory(p, 512ull << 20)) < 0 ||
        (e = sbx_limit_open_files(p, 256)) < 0 || (e = sbx_limit_file_size(p, 64ull << 20)) < 0 ||
        (e = sbx_limit_wall_time(p, 10000)) < 0)
        return e;
    return 0;
}

/* Breakdown modes: `sbx` without the per-child private TMPDIR, without the
 * seccomp violation monitor, and without both (all layers otherwise equal). */
static int sbx_notmp_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_set_private_tmp(m->policy, 0);
}

static int sbx_nomon_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_set_violation_monitor(m->policy, 0);
}

/* Exec reporting (sbx_set_exec_reporting()): `sbx` with it (the program's
 * own exec is never sent to the monitor), and a shell executing /bin/true ten
 * times without it and with it (each of those execs is). */
static int sbx_execrep_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_set_exec_reporting(m->policy, 1);
}

static int sbx_exec10_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_allow_tool(m->policy, "/bin/true");
}

static int sbx_exec10_rep_setup(struct mode *m)
{
    int e = sbx_exec10_setup(m);
    return e < 0 ? e : sbx_set_exec_reporting(m->policy, 1);
}

/* Diagnose mode (sbx_set_diagnose()): each open of the child is sent to the monitor. */
static int sbx_diagnose_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_set_diagnose(m->policy, 1);
}

static int sbx_lean_setup(struct mode *m)
{
    int e = sbx_notmp_setup(m);
    return e < 0 ? e : sbx_set_violation_monitor(m->policy, 0);
}

/* Isolation modes: `sbx` (and `sbx-min`) run with the default, auto
 * isolation; `sbx-minimal` is `sbx` without namespaces (the 0.1 default),
 * `sbx-full` with the network namespace too. */
static int sbx_minimal_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_set_isolation(m->policy, SBX_ISOLATION_MINIMAL);
}

static int sbx_full_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_set_isolation(m->policy, SBX_ISOLATION_FULL);
}

/* Namespace modes: `sbx-minimal` plus these namespaces only, to see what each
 * costs. `sbx-ns` has every type but net (whose creation and teardown cost
 * the most); `sbx-ns-all` has net too. */
static int sbx_ns(struct mode *m, uint32_t set)
{
    int e = sbx_minimal_setup(m);
    return e < 0 ? e : sbx_unshare(m->policy, set);
}

static int sbx_ns_user_setup(struct mode *m)
{
    return sbx_ns(m, SBX_NS_USER);
}

static int sbx_ns_pid_setup(struct mode *m)
{
    return sbx_ns(m, SBX_NS_PID);
}

static int sbx_ns_mount_setup(struct mode *m)
{
    return sbx_ns(m, SBX_NS_MOUNT);
}

static int sbx_ns_net_setup(struct mode *m)
{
    return sbx_ns(m, SBX_NS_NET);
}

static int sbx_ns_nonet_setup(struct mode *m)
{
    return sbx_ns(m, SBX_NS_ALL & ~(uint32_t)SBX_NS_NET);
}

static int sbx_ns_all_setup(struct mode *m)
{
    return sbx_ns(m, SBX_NS_ALL);
}

/* `sbx` without any cgroup (not even the one a root host's memory limit takes). */
static int sbx_nocgroup_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_use_cgroup(m->policy, 0);
}

/* `sbx` in a cgroup of its own (memory and process limits by the cgroup). */
static int sbx_cgroup_setup(struct mode *m)
{
    int e = sbx_setup(m);
    if (e == 0)
        e = sbx_limit_processes(m->policy, 64);
    return e < 0 ? e : sbx_use_cgroup(m->policy, 1);
}

/* The carve-out modes' workspace (made once, removed at exit). */
static char deny_ws[64];

static int deny_rm(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static void deny_cleanup(void)
{
    if (deny_ws[0])
        nftw(deny_ws, deny_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static int deny_setup(struct mode *m, int minimal)
{
    int e = minimal ? sbx_minimal_setup(m) : sbx_setup(m);
    if (e < 0)
        return e;
    if (!deny_ws[0]) {
        snprintf(deny_ws, sizeof(deny_ws), "/tmp/agentsbx-bench.XXXXXX");
        if (!mkdtemp(deny_ws)) {
            deny_ws[0] = '\0';
            return -errno;
        }
        atexit(deny_cleanup);
        for (int i = 0; i < 20; i++) {
            char path[128];
            snprintf(path, sizeof(path), "%s/f%02d", deny_ws, i);
            int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0)
                return -errno;
            close(fd);
        }
    }
    if ((e = sbx_allow_path(m->policy, deny_ws,
                            minimal ? SBX_FS_READ : SBX_FS_READ | SBX_FS_WRITE)) < 0)
        return e;
    for (int i = 0; i < 20; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/f%02d", deny_ws, i);
        if ((e = sbx_deny_path(m->policy, path, minimal || i % 2 ? SBX_FS_READ : SBX_FS_WRITE)) < 0)
            return e;
    }
    return 0;
}

static int sbx_deny20_setup(struct mode *m)
{
    return deny_setup(m, 0);
}

static int sbx_deny20_minimal_setup(struct mode *m)
{
    return deny_setup(m, 1);
}

/* The overlay modes' lower directory and upper one (made once, removed at exit). */
static char ovl_dir[64];

static void ovl_cleanup(void)
{
    if (ovl_dir[0])
        nftw(ovl_dir, deny_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static int overlay_setup(struct mode *m, int deny)
{
    int e = deny ? deny_setup(m, 0) : sbx_setup(m);
    if (e < 0)
        return e;
    char lower[128], upper[128];
    if (!ovl_dir[0]) {
        snprintf(ovl_dir, sizeof(ovl_dir), "/tmp/agentsbx-bench-ovl.XXXXXX");
        if (!mkdtemp(ovl_dir)) {
            ovl_dir[0] = '\0';
            return -errno;
        }
        atexit(ovl_cleanup);
        snprintf(lower, sizeof(lower), "%s/ws", ovl_dir);
        if (mkdir(lower, 0755) != 0)
            return -errno;
        for (int i = 0; i < 20; i++) {
            char path[160];
            snprintf(path, sizeof(path), "%s/f%02d", lower, i);
            int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0)
                return -errno;
            close(fd);
        }
    }
    snprintf(lower, sizeof(lower), "%s/ws", ovl_dir);
    snprintf(upper, sizeof(upper), "%s/upper", ovl_dir);
    return sbx_overlay(m->policy, lower, upper);
}

static int sbx_overlay_setup(struct mode *m)
{
    return overlay_setup(m, 0);
}

static int sbx_deny20_overlay_setup(struct mode *m)
{
    return overlay_setup(m, 1);
}

/* The `sbx-min` mode: an empty policy, the library's default io. */
static int sbx_min_setup(struct mode *m)
{
    return sbx_policy_new(&m->policy);
}

/* `sbx` and `sbx-min` with a sandbox prepared ahead (sbx_prepare_ahead()):
 * each spawn takes the one prepared during the round before. */
static int sbx_ahead_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_prepare_ahead(m->policy, 1);
}

static int sbx_min_ahead_setup(struct mode *m)
{
    int e = sbx_min_setup(m);
    return e < 0 ? e : sbx_prepare_ahead(m->policy, 1);
}

/* `sbx` and `sbx-min` never prepared ahead. */
static int sbx_noahead_setup(struct mode *m)
{
    int e = sbx_setup(m);
    return e < 0 ? e : sbx_prepare_ahead(m->policy, SBX_PREPARE_AHEAD_OFF);
}

static int sbx_min_noahead_setup(struct mode *m)
{
    int e = sbx_min_setup(m);
    return e < 0 ? e : sbx_prepare_ahead(m->policy, SBX_PREPARE_AHEAD_OFF);
}

/* The built-in modes, in table order; --modes picks among them. */
static const struct builtin {
    const char *name;
    int (*setup)(struct mode *m); /* NULL, or 0 / negative errno */
    int (*once)(struct mode *m);
} builtins[] = {
    {"floor", NULL, floor_once},
    {"sbx", sbx_setup, sbx_once},
    {"sbx-min", sbx_min_setup, sbx_once},
    {"fork", NULL, fork_once},
    {"floor-ns", NULL, floor_ns_once},
    {"sbx-minimal", sbx_minimal_setup, sbx_once},
    {"sbx-full", sbx_full_setup, sbx_once},
    {"sbx-notmp", sbx_notmp_setup, sbx_once},
    {"sbx-nomon", sbx_nomon_setup, sbx_once},
    {"sbx-lean", sbx_lean_setup, sbx_once},
    {"sbx-execrep", sbx_execrep_setup, sbx_once},
    {"sbx-exec10", sbx_exec10_setup, sbx_exec10_once},
    {"sbx-exec10-rep", sbx_exec10_rep_setup, sbx_exec10_once},
    {"sbx-diagnose", sbx_diagnose_setup, sbx_once},
    {"sbx-open1000", sbx_setup, sbx_open1000_once},
    {"sbx-open1000-diag", sbx_diagnose_setup, sbx_open1000_once},
    {"sbx-ns-user", sbx_ns_user_setup, sbx_once},
    {"sbx-ns-pid", sbx_ns_pid_setup, sbx_once},
    {"sbx-ns-mount", sbx_ns_mount_setup, sbx_once},
    {"sbx-ns-net", sbx_ns_net_setup, sbx_once},
    {"sbx-ns", sbx_ns_nonet_setup, sbx_once},
    {"sbx-ns-all", sbx_ns_all_setup, sbx_once},
    {"sbx-cgroup", sbx_cgroup_setup, sbx_once},
    {"sbx-nocgroup", sbx_nocgroup_setup, sbx_once},
    {"sbx-nocgroup-ahead", sbx_nocgroup_setup, sbx_once},
    {"sbx-ahead", sbx_ahead_setup, sbx_once},
    {"sbx-min-ahead", sbx_min_ahead_setup, sbx_once},
    {"sbx-noahead", sbx_noahead_setup, sbx_once},
    {"sbx-min-noahead", sbx_min_noahead_setup, sbx_once},
    {"sbx-deny20", sbx_deny20_setup, sbx_once},
    {"sbx-deny20-minimal", sbx_deny20_minimal_setup, sbx_once},
    {"sbx-overlay", sbx_overlay_setup, sbx_once},
    {"sbx-deny20-overlay", sbx_deny20_overlay_setup, sbx_once},
};
#define DEFAULT_MODES "floor,sbx,sbx-min"

/* "1G", "512M", "64k", "4096": binary multiples. */
static int parse_size(const char *s, uint64_t *ret)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *s == '-')
        return -1;
    static const char units[] = "kmgt";
    const char *u = *end != '\0' ? strchr(units, tolower((unsigned char)*end)) : NULL;
    int shift = u != NULL ? 10 * (int)(u - units + 1) : 0;
    if (u != NULL)
        end++;
    if ((*end == 'i' || *end == 'B') && shift != 0)
        end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    if (*end != '\0' || (shift != 0 && v > (UINT64_MAX >> shift)))
        return -1;
    *ret = (uint64_t)v << shift;
    return 0;
}

/* Map and write every page of `bytes` of anonymous memory, kept until exit. */
static int ballast(uint64_t bytes)
{
    if (bytes == 0)
        return 0;
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    long page = sysconf(_SC_PAGESIZE);
    for (uint64_t off = 0; off < bytes; off += (uint64_t)page)
        p[off] = 1;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least q of the samples at or below it. */
static double pct_us(const uint64_t *sorted, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    return (double)sorted[rank - 1] / 1000.0;
}

static struct stats compute(struct mode *m)
{
    qsort(m->ns, m->n, sizeof(*m->ns), cmp_u64);
    struct stats s = {pct_us(m->ns, m->n, 0.50), pct_us(m->ns, m->n, 0.90),
                      pct_us(m->ns, m->n, 0.99), (double)m->ns[0] / 1000.0};
    return s;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [-n ITER] [--warmup N] [--ballast SIZE] [--pause MS] [--modes LIST]\n"
            "          [--json] [--peer [NAME=]CMDLINE]...\n"
            "Spawn-to-reap latency of " TRUE_PATH ", modes interleaved round-robin.\n"
            "  -n ITER            measured rounds (default 2000)\n"
            "  --warmup N         unrecorded rounds first (default 100)\n"
            "  --ballast SIZE     map and touch SIZE bytes (e.g. 1G) before measuring\n"
            "  --pause MS         wait MS milliseconds before each spawn (an agent's tool\n"
            "                     calls come between the model's turns; default 0)\n"
            "  --modes LIST       built-in modes, comma-separated, from floor, sbx,\n"
            "                     sbx-min, fork, sbx-notmp, sbx-nomon, sbx-lean,\n"
            "                     sbx-execrep, sbx-exec10, sbx-exec10-rep,\n"
            "                     sbx-diagnose, sbx-open1000, sbx-open1000-diag,\n"
            "                     sbx-ns-user, sbx-ns-pid, sbx-ns-mount, sbx-ns-net,\n"
            "                     sbx-ns, sbx-ns-all, sbx-cgroup, sbx-nocgroup,\n"
            "                     sbx-nocgroup-ahead, sbx-ahead,\n"
            "                     sbx-min-ahead, sbx-noahead, sbx-min-noahead, sbx-minimal,\n"
            "                     sbx-full,\n"
            "                     sbx-deny20, sbx-deny20-minimal, sbx-overlay,\n"
            "                     sbx-deny20-overlay\n"
            "                     (default " DEFAULT_MODES ")\n"
            "  --peer SPEC        add a command line as a mode, e.g.\n"
            "                     --peer 'bwrap=bwrap --unshare-all --ro-bind / / /bin/true'\n"
            "  --json             machine-readable output\n",
            argv0);
}

/* Append the built-in modes named in `list` to modes[]. */
static int select_builtins(char *list, struct mode *modes, size_t *nmodes)
{
    char *save = NULL;
    for (char *w = strtok_r(list, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
        size_t b = 0;
        while (b < sizeof(builtins) / sizeof(*builtins) && strcmp(builtins[b].name, w) != 0)
            b++;
        if (b == sizeof(builtins) / sizeof(*builtins) || *nmodes == MAX_MODES)
            return -1;
        modes[(*nmodes)++] = (struct mode){.name = builtins[b].name,
                                           .once = builtins[b].once,
                                           .setup = builtins[b].setup,
                                           .required = 1};
    }
    return 0;
}

static void print_table(const struct mode *modes, size_t nmodes, const struct stats *st,
                        const struct stats *floor)
{
    printf("%-12s %6s %10s %10s %10s %10s %10s %10s\n", "mode", "n", "median_us", "p90_us",
           "p99_us", "min_us", "med/floor", "p99/floor");
    for (size_t i = 0; i < nmodes; i++) {
        const struct mode *m = &modes[i];
        if (m->why[0] != '\0') {
            printf("%-12s %s at %s round %zu: %s\n", m->name,
                   m->failed_warm ? "skipped, failed" : "FAILED",
                   m->failed_warm ? "warm-up" : "measured", m->failed_round, m->why);
            continue;
        }
        printf("%-12s %6zu %10.1f %10.1f %10.1f %10.1f", m->name, m->n, st[i].median, st[i].p90,
               st[i].p99, st[i].min);
        if (floor != NULL)
            printf(" %10.3f %10.3f\n", st[i].median / floor->median, st[i].p99 / floor->p99);
        else
            printf(" %10s %10s\n", "-", "-");
    }
    for (size_t i = 0; i < nmodes; i++) {
        if (modes[i].once != sbx_once || modes[i].why[0] != '\0')
            continue;
        printf("layers of %s:", modes[i].name);
        for (uint32_t bit = 1; bit & SBX_LAYER_ALL; bit <<= 1)
            if (modes[i].layers & bit)
                printf(" %s", sbx_layer_name(bit));
        printf("\n");
    }
    /* The ratios issue 15 quotes: the default policy against the floor, and
     * each peer against the default (how many times slower the peer is). */
    const struct stats *dflt = NULL;
    for (size_t i = 0; i < nmodes; i++)
        if (strcmp(modes[i].name, "sbx") == 0 && modes[i].why[0] == '\0')
            dflt = &st[i];
    if (!dflt)
        return;
    if (floor)
        printf("default (sbx) / floor: median %.3f, p99 %.3f\n", dflt->median / floor->median,
               dflt->p99 / floor->p99);
    for (size_t i = 0; i < nmodes; i++)
        if (modes[i].once == cmd_once && modes[i].why[0] == '\0')
            printf("%s / default (sbx): median %.2f, p99 %.2f\n", modes[i].name,
                   st[i].median / dflt->median, st[i].p99 / dflt->p99);
}

static void print_json(const struct mode *modes, size_t nmodes, const struct stats *st,
                       const struct stats *floor)
{
    printf("\"modes\":[");
    for (size_t i = 0; i < nmodes; i++) {
        const struct mode *m = &modes[i];
        printf("%s{\"name\":", i ? "," : "");
        json_str(m->name);
        if (m->why[0] != '\0') {
            printf(",\"skipped\":");
            json_str(m->why);
            printf(",\"failed_round\":%zu,\"failed_in_warmup\":%s}", m->failed_round,
                   m->failed_warm ? "true" : "false");
            continue;
        }
        printf(",\"n\":%zu,\"median_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"min_us\":%.1f",
               m->n, st[i].median, st[i].p90, st[i].p99, st[i].min);
        if (floor != NULL)
            printf(",\"median_ratio\":%.3f,\"p99_ratio\":%.3f", st[i].median / floor->median,
                   st[i].p99 / floor->p99);
        if (m->once == sbx_once) {
            printf(",\"layers\":[");
            for (uint32_t bit = 1, first = 1; bit & SBX_LAYER_ALL; bit <<= 1) {
                if (m->layers & bit) {
                    printf("%s\"%s\"", first ? "" : ",", sbx_layer_name(bit));
                    first = 0;
                }
            }
            printf("]");
        }
        printf("}");
    }
    printf("]");
}

int main(int argc, char **argv)
{
    static struct mode modes[MAX_MODES], peers[MAX_MODES];
    static char default_modes[] = DEFAULT_MODES;
    size_t nmodes = 0, npeers = 0, iters = 2000, warmup = 100, pause_ms = 0;
    uint64_t ballast_bytes = 0;
    char *mode_list = default_modes;
    int json = 0;
    static const struct option opts[] = {
        {"warmup", required_argument, NULL, 'w'}, {"ballast", required_argument, NULL, 'b'},
        {"pause", required_argument, NULL, 'P'},  {"peer", required_argument, NULL, 'p'},
        {"modes", required_argument, NULL, 'm'},  {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };

    for (int c; (c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1;) {
        char *end;
        switch (c) {
        case 'n':
        case 'w':
        case 'P': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || *optarg == '-' || (c == 'n' && v == 0) ||
                (c == 'P' && v > 10000)) {
                fprintf(stderr, "%s: bad number '%s'\n", argv[0], optarg);
                return 2;
            }
            *(c == 'n' ? &iters : c == 'w' ? &warmup : &pause_ms) = v;
            break;
        }
        case 'b':
            if (parse_size(optarg, &ballast_bytes) < 0) {
                fprintf(stderr, "%s: bad size '%s'\n", argv[0], optarg);
                return 2;
            }
            break;
        case 'p':
            if (npeers == MAX_MODES || add_peer(&peers[npeers], optarg) < 0) {
                fprintf(stderr, "%s: bad or too many peers at '%s'\n", argv[0], optarg);
                return 2;
            }
            npeers++;
            break;
        case 'm': mode_list = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout, argv[0]); return 0;
        default: usage(stderr, argv[0]); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr, argv[0]);
        return 2;
    }
    if (select_builtins(mode_list, modes, &nmodes) < 0 || nmodes + npeers > MAX_MODES ||
        nmodes + npeers == 0) {
        fprintf(stderr, "%s: bad --modes, or too many modes\n", argv[0]);
        return 2;
    }
    memcpy(&modes[nmodes], peers, npeers * sizeof(*peers));
    nmodes += npeers;

    for (size_t i = 0; i < nmodes; i++) {
        struct mode *m = &modes[i];
        int e = m->setup != NULL ? m->setup(m) : 0;
        /* The other sbx modes break a spawn's own set-up down: they never
         * take a prepared sandbox (sbx, sbx-min and the -ahead modes do). */
        if (e == 0 && m->policy && strcmp(m->name, "sbx") != 0 &&
            strcmp(m->name, "sbx-min") != 0 && !strstr(m->name, "-ahead"))
            e = sbx_prepare_ahead(m->policy, SBX_PREPARE_AHEAD_OFF);
        if (e < 0) {
            fprintf(stderr, "%s: setting up mode %s: %s: %s\n", argv[0], m->name, sbx_errname(e),
                    m->once == cmd_once ? strerror(-e) : sbx_last_error());
            return 1;
        }
        if ((m->ns = calloc(iters, sizeof(*m->ns))) == NULL) {
            perror("calloc");
            return 1;
        }
    }
    if (ballast(ballast_bytes) < 0) {
        fprintf(stderr, "%s: ballast of %llu bytes: %s\n", argv[0],
                (unsigned long long)ballast_bytes, strerror(errno));
        return 1;
    }

    size_t order[MAX_MODES];
    uint64_t rng = 0x9e3779b97f4a7c15u; /* fixed seed: runs are repeatable */
    for (size_t i = 0; i < nmodes; i++)
        order[i] = i;
    for (size_t round = 0; round < warmup + iters; round++) {
        for (size_t i = nmodes - 1; i > 0; i--) { /* Fisher-Yates; xorshift64 */
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            size_t j = (size_t)(rng % (i + 1)), t = order[i];
            order[i] = order[j], order[j] = t;
        }
        for (size_t k = 0; k < nmodes; k++) {
            struct mode *m = &modes[order[k]];
            if (m->why[0] != '\0')
                continue;
            if (pause_ms) {
                struct timespec ts = {.tv_sec = (time_t)(pause_ms / 1000),
                                      .tv_nsec = (long)(pause_ms % 1000) * 1000000L};
                while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                    ;
            }
            uint64_t t0 = now_ns();
            int r = m->once(m);
            uint64_t t1 = now_ns();
            if (r < 0) {
                m->failed_warm = round < warmup;
                m->failed_round = m->failed_warm ? round + 1 : round - warmup + 1;
            } else if (round >= warmup) {
                m->ns[m->n++] = t1 - t0;
            }
        }
    }

    struct stats st[MAX_MODES];
    const struct stats *floor = NULL;
    for (size_t i = 0; i < nmodes; i++) {
        if (modes[i].why[0] != '\0')
            continue;
        st[i] = compute(&modes[i]);
        if (modes[i].once == floor_once)
            floor = &st[i];
    }
    if (json) {
        printf("{\"program\":\"%s\",\"library_version\":\"%s\",\"iterations\":%zu,"
               "\"warmup\":%zu,\"ballast_bytes\":%llu,\"pause_ms\":%zu,",
               TRUE_PATH, sbx_version(), iters, warmup, (unsigned long long)ballast_bytes,
               pause_ms);
        print_json(modes, nmodes, st, floor);
        printf("}\n");
    } else {
        printf("spawn-to-reap latency of %s (libagentsbx %s): %zu rounds after %zu warm-up, "
               "ballast %.2f GiB, pause %zu ms\n",
               TRUE_PATH, sbx_version(), iters, warmup, (double)ballast_bytes / (1u << 30),
               pause_ms);
        print_table(modes, nmodes, st, floor);
    }

    int rc = 0;
    for (size_t i = 0; i < nmodes; i++) {
        if (modes[i].required && modes[i].why[0] != '\0')
            rc = 1;
        free(modes[i].ns);
        sbx_policy_free(modes[i].policy);
        if (modes[i].once == cmd_once)
            posix_spawn_file_actions_destroy(&modes[i].fa);
    }
    return rc;
}
