/* Internal declarations shared by the library's files. Nothing here is exported. */
#ifndef SBX_INTERNAL_H
#define SBX_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <time.h>

#include "agentsbx/agentsbx.h"
#include "caps.h"
#include "util/util.h"

#define SBX__HIDDEN __attribute__((visibility("hidden")))

/* ---- errors (error.c) ---------------------------------------------------- */

/* Record a failure: `err` (negative errno), the stage, and a message built from
 * fmt. Returns err, so that callers can `return sbx__err(...)`. */
SBX__HIDDEN int sbx__err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with ": <strerror(err)>" appended to the message. */
SBX__HIDDEN int sbx__errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same as sbx__errno, recording the spawn stage too. */
SBX__HIDDEN int sbx__err_stage(int stage, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Argument checks in the style of sd-bus' assert_return: fail with -EINVAL and a
 * message naming the function and the argument. */
#define sbx__check(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return sbx__err(-EINVAL, __VA_ARGS__);                                                 \
    } while (0)
#define sbx__check_arg(arg) sbx__check((arg) != NULL, "%s: %s is NULL", __func__, #arg)

/* ---- policy (policy.c) and its compiled plan (compile.c) ----------------- */

enum sbx__limit {
    SBX__LIMIT_CPU,
    SBX__LIMIT_MEMORY,
    SBX__LIMIT_NOFILE,
    SBX__LIMIT_FSIZE,
    SBX__LIMIT_NPROC,
    SBX__LIMIT_CPU_RATE, /* millicpus, cgroup.c */
    SBX__LIMIT_COUNT
};

struct sbx__env_entry {
    char *name;  /* owned */
    char *value; /* owned; NULL means the automatic HOME (see compile.c) */
};

struct sbx__grant {
    char *path;      /* owned, absolute */
    uint64_t access; /* SBX_FS_* */
};

struct sbx_policy {
    pthread_mutex_t lock;   /* guards `plan` against concurrent spawns compiling it */
    struct sbx__plan *plan; /* compiled form, NULL until needed or after a change */

    char *workdir;
    struct sbx__env_entry *env;
    size_t n_env, cap_env;
    uint64_t limits[SBX__LIMIT_COUNT]; /* SBX_UNLIMITED when unset */
    uint64_t wall_ms;                  /* SBX_UNLIMITED when unset */
    uint64_t output_limit;
    uint32_t best_effort;
    bool die_with_parent;

    /* Landlock grants (landlock.c) */
    struct sbx__grant *grants;
    size_t n_grants, cap_grants;
    uint16_t *connect_ports, *bind_ports;
    size_t n_connect, n_bind;
    bool allow_network;
    char **unix_sockets; /* owned: sbx_allow_unix_socket() */
    size_t n_unix_sockets;
    bool private_tmp;
    char *tmp_parent; /* NULL: chosen when compiled (see landlock.c) */

    struct sbx__seccomp_policy *seccomp; /* seccomp.c: syscall rules, monitor; NULL: defaults */
    struct sbx__output_policy *output;   /* outfilter.c, audit.c; NULL: defaults */

    /* namespace.c */
    uint32_t namespaces; /* SBX_NS_* asked for */

    /* caps.c */
    uint64_t keep_caps; /* capabilities the child keeps (bit N: capability N) */
    bool subreaper;     /* spawn.c: the init as a child subreaper without a pid namespace */

    /* cgroup.c */
    bool use_cgroup;
    char *cg_parents[4]; /* owned (SBX__CG_MAX); named with sbx_set_cgroup_parent() */
    size_t n_cg_parents;
};

/* Mark the policy changed: its plan is rebuilt at the next spawn. */
SBX__HIDDEN void sbx__policy_changed(sbx_policy *policy);

#define SBX__MAX_RLIMITS    8
/* Entries of the mechanism arrays (plan, child, result): indexed by
 * SBX_LIMIT_* (cgroup.h), 1 to SBX_LIMIT_TMP. */
#define SBX__MECH           5
#define SBX__MAX_LL_RULES   256
/* A private TMPDIR's path: its parent (at most SBX__TMP_PARENT_MAX bytes) and
 * "/agentsbx.<owner tag>.XXXXXX" (tmpdir.c). */
#define SBX__TMP_PARENT_MAX 100
#define SBX__OWNER_TAG_MAX  64
#define SBX__TMPDIR_MAX     (SBX__TMP_PARENT_MAX + SBX__OWNER_TAG_MAX + 24)
#define SBX__MAX_LL_PORTS   64

struct sbx__ll_port {
    uint16_t port;
    uint64_t access;
};

/* The compiled Landlock layer: what every ruleset of this policy contains. */
struct sbx__landlock_plan {
    int abi;
    uint64_t handled_fs, handled_net, scoped;
    uint32_t rights; /* SBX_LL_* that hold */
    bool private_tmp;
    char tmp_parent[SBX__TMP_PARENT_MAX + 1];
    struct {
        int fd; /* O_PATH, owned */
        uint64_t access;
    } rules[SBX__MAX_LL_RULES];
    size_t n_rules;
    struct sbx__ll_port ports[SBX__MAX_LL_PORTS];
    size_t n_ports;
};

/* What one spawn adds: its ruleset and its private temporary directory. */
struct sbx__landlock_spawn {
    int ruleset;                  /* -1: no Landlock */
    char tmpdir[SBX__TMPDIR_MAX]; /* empty: none */
};

/* Everything the child needs, computed once per policy. Immutable once built,
 * and shared read-only by every spawn (and thread) that uses it. */
struct sbx__plan {
    char *const *envp;   /* NULL-terminated, in `block` */
    const char *path;    /* the child's PATH value (in `block`), or NULL */
    const char *workdir; /* in `block`, or NULL */
    int workdir_fd;      /* O_PATH, resolved safely (pathwalk.c); -1: none, or missing */
    struct {
        int resource;
        struct rlimit value;
    } rlimits[SBX__MAX_RLIMITS];
    size_t n_rlimits;
    uint32_t layers;      /* layers this plan enforces */
    uint64_t wall_ns;     /* 0: no wall-clock limit */
    uint64_t cpu_limit_s; /* 0: none */
    bool fsize_limited;
    uint64_t output_limit;
    bool die_with_parent;
    bool subreaper;                      /* the policy asks for the subreaper init (see spawn.c) */
    struct sbx__landlock_plan *landlock; /* NULL: Landlock not enforced */
    size_t n_env;                        /* entries in envp */
    struct sbx__seccomp_plan *seccomp;   /* seccomp.c (refcounted); NULL: no filter */
    struct sbx__cgroup_plan *cgroup;     /* cgroup.c; NULL: no cgroup */
    struct sbx__outcfg *output;          /* outfilter.c (refcounted): output, audit */
    struct sbx__ns_plan *ns;             /* namespace.c; NULL: no namespaces */
    struct sbx__caps_plan caps;          /* caps.c */
    uint8_t mechanism[SBX__MECH];        /* [SBX_LIMIT_*]: SBX_MECHANISM_* */
    _Alignas(max_align_t) char block[];  /* envp array and strings */
};

/* Return the policy's plan, compiling it first if needed. */
SBX__HIDDEN int sbx__policy_plan(const sbx_policy *policy, const struct sbx__plan **ret);
SBX__HIDDEN int sbx__plan_compile(const sbx_policy *policy, struct sbx__plan **ret);
SBX__HIDDEN void sbx__plan_free(struct sbx__plan *plan);

/* ---- Landlock (landlock.c) --------------------------------------------------- */

SBX__HIDDEN void sbx__grants_free(sbx_policy *policy);
SBX__HIDDEN int sbx__landlock_compile(const sbx_policy *policy, struct sbx__plan *plan);
SBX__HIDDEN void sbx__landlock_plan_free(struct sbx__landlock_plan *ll);
/* Parent, per spawn: build the child's ruleset and private TMPDIR. */
SBX__HIDDEN int sbx__landlock_prepare(const struct sbx__plan *plan, const char *program,
                                      struct sbx__landlock_spawn *out);

/* ---- private TMPDIRs and leftovers (tmpdir.c) ------------------------------------- */

/* Compile, after the namespaces: where the private TMPDIR goes (ll->tmp_parent)
 * and what bounds its memory (plan->mechanism[SBX_LIMIT_TMP]); removes the
 * TMPDIRs that dead hosts left there, once per process. */
SBX__HIDDEN int sbx__tmp_compile(const sbx_policy *policy, struct sbx__plan *plan);
/* Parent, per spawn: make parent/agentsbx.<tag>.XXXXXX in out (SBX__TMPDIR_MAX
 * bytes); 0 or -errno (out empty). No allocation. */
SBX__HIDDEN int sbx__tmpdir_create(const char *parent, char *out);
/* Remove a private TMPDIR and everything in it, following no link; clears the string. */
SBX__HIDDEN void sbx__tmpdir_remove(char *tmpdir);
/* This process's owner tag, "<pid>.<start time>.<pid namespace inode>", for
 * the names of what it creates (TMPDIRs, cgroups); snprintf's return. */
SBX__HIDDEN int sbx__owner_tag(char *buf, size_t size);
/* Whether a name's tag (the text after "agentsbx.") names an owner that is
 * dead: a pid of this pid namespace that is gone or started at another time.
 * False for anything else (a live owner, another namespace, another form). */
SBX__HIDDEN bool sbx__owner_dead(const char *tag);
/* True the first time this process (a forked one anew) asks about dir: then
 * it sweeps what dead owners left there. Thread-safe. */
SBX__HIDDEN bool sbx__first_sweep(const char *dir);
/* The Landlock rights of SBX_FS_* access (0: no Landlock). */
SBX__HIDDEN uint64_t sbx__landlock_rights(const struct sbx__landlock_plan *ll, uint64_t access);
/* The right to list directories (0: no Landlock). */
SBX__HIDDEN uint64_t sbx__landlock_list_rights(const struct sbx__landlock_plan *ll);
/* The rights a private TMPDIR gets (0: no Landlock, or no private TMPDIR). */
SBX__HIDDEN uint64_t sbx__landlock_tmp_rights(const struct sbx__landlock_plan *ll);
/* Child: add a path rule. Async-signal-safe; -1 and errno on failure. */
SBX__HIDDEN int sbx__landlock_add_path(int ruleset, int fd, uint64_t rights);
/* Child: landlock_restrict_self(ruleset). Async-signal-safe; -1 and errno on failure. */
SBX__HIDDEN int sbx__landlock_apply(int ruleset);

/* ---- cgroups (cgroup.c) ------------------------------------------------------ */

#define SBX__CG_MAX        4 /* hierarchies: cgroup2, v1 memory, v1 pids, v1 cpu */
#define SBX__CG_PARENT_MAX 200
#define SBX__CG_PATH_MAX   (SBX__CG_PARENT_MAX + SBX__OWNER_TAG_MAX + 32)
#define SBX__CG_MEMORY     1u /* controller bits */
#define SBX__CG_PIDS       2u
#define SBX__CG_CPU        4u
#define SBX__CG_PERIOD_US  100000 /* cpu.max / cpu.cfs_period_us */

/* The compiled layer: the parent directories, and the limits to write. */
struct sbx__cgroup_plan {
    struct {
        char parent[SBX__CG_PARENT_MAX + 1];
        bool v2;
        uint32_t ctl; /* SBX__CG_* controllers a child cgroup here has */
    } dirs[SBX__CG_MAX];
    size_t n;
    int mem_idx, pids_idx, cpu_idx;  /* the dirs that hold those controllers, or -1 */
    uint64_t memory, pids, cpu_rate; /* SBX_UNLIMITED: not limited by the cgroup */
};

/* One of a child's cgroups. */
struct sbx__cgroup_dir_run {
    char path[SBX__CG_PATH_MAX];
    bool v2;
    uint32_t ctl;
    int procs_fd; /* cgroup.procs, open for the child to join; -1 once closed */
};

/* One child's cgroups, from creation (parent, per spawn) to removal. */
struct sbx__cgroup_run {
    size_t n; /* cgroups created; 0: none (then nothing else here is used) */
    struct sbx__cgroup_dir_run cg[SBX__CG_MAX];
    int mem_idx;   /* the cgroup with the memory controller, or -1 */
    int kill_fd;   /* cgroup2 cgroup.kill, or -1 */
    uint64_t peak; /* bytes, read before removal; 0: unknown */
    bool oom;      /* the memory controller's OOM killer killed a process */
};

SBX__HIDDEN void sbx__cgroup_policy_free(sbx_policy *policy);
/* Compile: choose the hierarchies; sets plan->cgroup and plan->mechanism. */
SBX__HIDDEN int sbx__cgroup_compile(const sbx_policy *policy, struct sbx__plan *plan);
/* Parent, per spawn: create the child's cgroups, write their limits, open
 * their cgroup.procs. Zero system calls when the plan has no cgroup. */
SBX__HIDDEN int sbx__cgroup_prepare(const struct sbx__plan *plan, struct sbx__cgroup_run *run);
/* Child: join every cgroup (write "0" to each cgroup.procs). Async-signal-safe;
 * -1 and errno on failure, *index naming the cgroup. */
SBX__HIDDEN int sbx__cgroup_join(const struct sbx__cgroup_run *run, volatile int *index);
/* Parent, after the clone: close the cgroup.procs descriptors. */
SBX__HIDDEN void sbx__cgroup_close_procs(struct sbx__cgroup_run *run);
/* SIGKILL everything in the child's cgroups (one pass; does not wait). */
SBX__HIDDEN void sbx__cgroup_kill(struct sbx__cgroup_run *run);
/* After the main process is reaped (or the spawn failed): kill what is left,
 * wait until the cgroups are empty, read peak memory and OOM kills, remove
 * them. Idempotent. */
SBX__HIDDEN void sbx__cgroup_finish(struct sbx__cgroup_run *run);
/* The probe of SBX_FEATURE_CGROUP. */
SBX__HIDDEN int sbx__cgroup_probe(char *reason, size_t size);

/* ---- namespaces (namespace.c) ------------------------------------------------ */

struct sbx__view;       /* view.h */
struct sbx__view_extra; /* view.h */

/* The compiled layer. */
struct sbx__ns_plan {
    uint32_t set;         /* SBX_NS_* created: the asked-for set, plus user when needed */
    uint64_t clone_flags; /* CLONE_NEW* */
    bool userns, mount_view, new_proc, init;
    uint64_t tmp_access;  /* Landlock rights on the private /tmp and /dev/shm; 0: none */
    uint64_t proc_access; /* Landlock rights on the new /proc (as granted on /proc); 0: none */
    char uid_map[48], gid_map[48];
    char tmpfs_opts[64];
    struct sbx__view *view; /* view.c: the mount view; NULL without one */
};

/* The steps of the child's set-up of its namespaces, for the message. */
enum sbx__ns_step {
    STEP_NONE,
    STEP_UID_MAP,
    STEP_SETGROUPS,
    STEP_GID_MAP,
    STEP_HOSTNAME,
    STEP_LOOPBACK,
    STEP_SLAVE,
    STEP_PROC,
    STEP_LANDLOCK_TMP,
    STEP_CLONE_PROGRAM,
    STEP_EXEC_INIT,
};

/* What the child reads and writes while it builds its namespaces (spawn.c
 * holds it in its context). */
struct sbx__ns_run {
    const struct sbx__ns_plan *plan;
    int ruleset;                         /* Landlock ruleset to add the new mounts to, or -1 */
    const struct sbx__view_extra *extra; /* the program and interpreters, executable */
    const char *cwd;                     /* entered in the view when it exists there */
    int init_fd;                         /* the init's memfd (pid namespace), or -1 */
    int status_fd;                       /* write end of the init's status pipe, or -1 */
    /* written by the child on failure: which step, and which path */
    volatile int fail_step;
    const char *volatile fail_path;
};

SBX__HIDDEN int sbx__ns_compile(const sbx_policy *policy, struct sbx__plan *plan);
SBX__HIDDEN void sbx__ns_plan_free(struct sbx__ns_plan *ns);
/* Parent, per spawn: the init's memfd (created once per process). */
SBX__HIDDEN int sbx__ns_init_fd(void);
/* Child, right after the clone: ids, mounts, host name, loopback. -1 and errno
 * on failure, run->fail_step and fail_path saying where. Async-signal-safe. */
SBX__HIDDEN int sbx__ns_setup(struct sbx__ns_run *run);
/* Whether this process can create the namespaces of a set (user added when
 * needed): 0, or -errno with a reason in why. Cached per set. */
SBX__HIDDEN int sbx__ns_probe_set(uint32_t set, char *why, size_t size);
/* The message for a failure in the child. */
SBX__HIDDEN int sbx__ns_report(const struct sbx__ns_run *run, int err);
/* The message for a clone that failed with namespaces: why the host refuses. */
SBX__HIDDEN int sbx__ns_clone_failed(const struct sbx__ns_plan *ns, int err);
/* Call fn on the program and each interpreter it needs (landlock.c). */
SBX__HIDDEN int sbx__walk_program(const char *program, const char *path_env,
                                  int (*fn)(const char *path, void *ctx), void *ctx);

/* ---- children (spawn.c, proc.c) ------------------------------------------ */

enum sbx__child_state {
    SBX__RUNNING,
    SBX__REAPED,
    SBX__LOST, /* reaped by someone else: the status is gone */
    SBX__TAKEN
};
enum sbx__end_reason { SBX__END_NATURAL, SBX__END_TIMEOUT, SBX__END_KILLED, SBX__END_VIOLATION };

struct sbx_child {
    pid_t pid;
    int pidfd;
    int stdio[3];         /* host ends of piped streams, or -1 */
    uint64_t start_ns;    /* CLOCK_MONOTONIC */
    uint64_t deadline_ns; /* 0: none */
    uint64_t cpu_limit_s;
    bool fsize_limited;
    uint32_t layers;
    int landlock_abi;
    uint32_t landlock_rights;
    char tmpdir[SBX__TMPDIR_MAX]; /* private TMPDIR to remove once the child ends, or empty */
    struct sbx__monitor *monitor; /* monitor.c: the violation monitor, or NULL */
    struct sbx__outcfg *audit;    /* audit.c: a reference while auditing, else NULL */
    uint64_t audit_bytes;         /* audit.c: written for this child */
    uint64_t audit_dropped;       /* audit.c: events not written (budget, repeats) */
    struct sbx__cgroup_run cg;    /* cgroup.c; cg.n == 0: no cgroup */
    uint8_t mechanism[SBX__MECH]; /* from the plan */
    uint32_t namespaces;          /* SBX_NS_* the child runs in */
    int status_fd;                /* read end of the pid namespace init's status pipe, or -1 */
    uint8_t tree_kill;            /* SBX_TREE_KILL_* */
    uint64_t caps[SBX__CAPSETS];  /* the capability sets the program started with */
    enum sbx__child_state state;
    enum sbx__end_reason reason;
    /* set when reaped */
    int wstatus;
    struct rusage usage;
    uint64_t end_ns;
};

struct sbx_result {
    int status;
    int exit_code;
    int signal;
    uint64_t wall_ns, user_ns, system_ns, peak_rss;
    uint64_t peak_memory; /* cgroup: 0 when unknown */
    uint8_t mechanism[SBX__MECH];
    uint32_t namespaces;
    uint8_t tree_kill;
    uint64_t caps[SBX__CAPSETS];
    uint32_t layers;
    int landlock_abi;
    uint32_t landlock_rights;
    char *out[2]; /* stdout, stderr; NULL when nothing was captured */
    size_t out_len[2];
    bool truncated[2];
    uint64_t redactions, escapes;       /* outfilter.c, by sbx_run() */
    uint64_t audit_dropped;             /* audit.c: events not written */
    struct sbx__violations *violations; /* monitor.c; NULL: no monitor */
};

/* The signal that makes the init, as a subreaper, kill the whole tree. */
#define SBX__SIG_TREE_KILL 64

/* sbx_spawn() with internal options: SBX__SPAWN_SUBREAPER asks for the
 * subreaper init when no pid namespace or cgroup kills the tree (sbx_run). */
#define SBX__SPAWN_SUBREAPER 1u
SBX__HIDDEN int sbx__spawn(const sbx_policy *policy, const char *const *argv, const sbx_io *io,
                           uint32_t flags, sbx_child **ret);
/* Whether the subreaper init can find the processes beneath it here. */
SBX__HIDDEN bool sbx__subreaper_available(void);

/* Kill the child's process group, then its main process, with SIGKILL. */
SBX__HIDDEN void sbx__child_kill_all(sbx_child *child);
/* The wall-clock deadline passed: mark the child timed out and kill it as
 * sbx__child_kill_all() does, without waiting (supervisor.c). */
SBX__HIDDEN void sbx__child_expire(sbx_child *child);
/* Build the result of a reaped child. */
SBX__HIDDEN int sbx__result_new(const sbx_child *child, sbx_result **ret);

/* ---- output filter and audit log (outfilter.c, audit.c) ----------------------- */

struct sbx__outcfg;
struct sbx__violation_rec;
SBX__HIDDEN void sbx__output_policy_free(sbx_policy *policy);
/* Compile the policy's output and audit settings (plan->output). */
SBX__HIDDEN int sbx__outcfg_new(const sbx_policy *policy, struct sbx__outcfg **ret);
SBX__HIDDEN void sbx__outcfg_unref(struct sbx__outcfg *cfg);
/* Audit hooks; each does nothing when the policy has no audit log. */
SBX__HIDDEN void sbx__audit_spawn(sbx_child *child, const struct sbx__plan *plan,
                                  const char *const *argv);
/* kind_count: how many of that kind (system call and errno) so far, this one
 * included (only the first few of a kind are written). */
SBX__HIDDEN void sbx__audit_violation(sbx_child *child, const struct sbx__violation_rec *rec,
                                      uint64_t kind_count);
/* After the child is reaped: its limit, kill and exit events; drops child->audit. */
SBX__HIDDEN void sbx__audit_end(sbx_child *child);
/* The status a reaped child's result will have (result.c). */
SBX__HIDDEN int sbx__child_status(const sbx_child *child);

#endif
