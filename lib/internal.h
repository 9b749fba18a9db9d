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
#include "cgroup_layer.h"
#include "util/util.h"

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

/* Every write right: SBX_FS_WRITE and its parts (policy.h). */
#define SBX__FS_WRITES                                                                             \
    (SBX_FS_WRITE | SBX_FS_WRITE_FILE | SBX_FS_TRUNCATE | SBX_FS_CREATE | SBX_FS_REMOVE |          \
     SBX_FS_MAKE_SYMLINK | SBX_FS_MAKE_SPECIAL | SBX_FS_REFER | SBX_FS_IOCTL_DEV)
#define SBX__FS_GRANTS (SBX_FS_READ | SBX_FS_EXEC | SBX__FS_WRITES)

struct sbx__grant {
    char *path;      /* owned, absolute */
    uint64_t access; /* SBX_FS_* */
    bool internal;   /* made by the library itself (the shims of capchan.c): not written */
};

/* A path denied beneath the grants (carve.c): SBX_FS_READ hides it, SBX_FS_WRITE
 * makes it read-only. */
struct sbx__deny {
    char *path;      /* owned, absolute, normalised */
    uint64_t access; /* SBX_FS_READ and/or SBX_FS_WRITE */
};

struct sbx_policy {
    pthread_mutex_t lock;      /* guards `plan` against concurrent spawns compiling it */
    struct sbx__plan *plan;    /* compiled form, NULL until needed */
    struct sbx__plan *retired; /* plans for credentials the host had before (see plan) */
    unsigned generation;       /* bumped by every setter: a plan of another is stale */
    struct sbx__ready *ready;  /* spawn.c: the sandbox prepared ahead, or NULL (under lock) */
    int prepare_ahead;         /* sbx_prepare_ahead(): SBX_PREPARE_AHEAD_* */
    bool prepare_failed;       /* preparing ahead failed once: not tried again */
    bool preparing;            /* spawn.c: a spawn is preparing the next sandbox (under lock) */
    uint64_t last_program;     /* spawn.c: a digest of the last spawn's program (under lock) */

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
    bool exec_system; /* sbx_set_exec_mode(SBX_EXEC_SYSTEM) */
    bool private_tmp;
    char *tmp_parent; /* NULL: chosen when compiled (see landlock.c) */

    /* carve.c: paths denied beneath the grants */
    struct sbx__deny *denies;
    size_t n_denies;
    /* carve.c: names added to / removed from the default protected list */
    char **protect_add, **protect_del;
    size_t n_protect_add, n_protect_del;
    /* carve.c: sbx_bind() and sbx_tmpfs(), the mount view only */
    struct sbx__bind {
        char *src, *dest; /* owned, absolute */
        uint64_t access;  /* SBX_FS_* */
    } * binds;
    size_t n_binds;
    struct sbx__tmpfs {
        char *path;    /* owned, absolute */
        uint64_t size; /* bytes; 0: the view's limit */
    } * tmpfs;
    size_t n_tmpfs;
    /* overlay.c: sbx_overlay(), the mount view only */
    struct sbx__overlay {
        char *lower; /* owned, absolute */
        char *upper; /* owned, absolute; NULL: a private one per spawn */
    } * overlays;
    size_t n_overlays;

    struct sbx__seccomp_policy *seccomp; /* seccomp.c: syscall rules, monitor; NULL: defaults */
    struct sbx__output_policy *output;   /* outfilter.c, audit.c; NULL: defaults */
    struct sbx__egress_policy *egress;   /* egress.c; NULL: none */

    /* namespace.c */
    uint32_t namespaces; /* SBX_NS_* asked for */
    int isolation;       /* SBX_ISOLATION_*: 0 (auto) by default */

    /* caps.c */
    uint64_t keep_caps; /* capabilities the child keeps (bit N: capability N) */
    bool subreaper;     /* spawn.c: the init as a child subreaper without a pid namespace */

    /* capchan.c: host operations the child may call; NULL: none, defaults */
    struct sbx__capchan_cfg *capchan;

    /* cgroup.c */
    bool use_cgroup;
    bool no_cgroup;      /* sbx_use_cgroup(p, 0) said so: not even the automatic one */
    char *cg_parents[4]; /* owned (SBX__CG_MAX); named with sbx_set_cgroup_parent() */
    size_t n_cg_parents;
};

/* Exchange everything two policies hold but their locks (policy files load
 * into a copy, then swap it in). */
SBX__HIDDEN void sbx__policy_swap(sbx_policy *a, sbx_policy *b);

/* Mark the policy changed: its plan is rebuilt at the next spawn. Inline, so
 * that a layer's setter calls nothing of the core. */
static inline void sbx__policy_changed(sbx_policy *policy)
{
    policy->generation++;
}

#define SBX__MAX_RLIMITS    8
/* Entries of the mechanism arrays (plan, child, result): indexed by
 * SBX_LIMIT_* (cgroup.h), 1 to SBX_LIMIT_TMP. */
#define SBX__MECH           5
/* A private TMPDIR's path: its parent (at most SBX__TMP_PARENT_MAX bytes) and
 * "/agentsbx.<owner tag>.XXXXXX" (tmpdir.c). */
#define SBX__TMP_PARENT_MAX 100
#define SBX__TMPDIR_MAX     (SBX__TMP_PARENT_MAX + SBX__OWNER_TAG_MAX + 24)
/* The Landlock rights (LANDLOCK_ACCESS_FS_* masks) of the access kinds, as the
 * Landlock layer handles them on this kernel; all 0 without Landlock. Layers
 * that add rules of their own in the child (the mount view) read them here. */
struct sbx__fs_rights {
    uint64_t read, write, exec; /* of SBX_FS_READ, _WRITE, _EXEC */
    uint64_t list;              /* listing a directory */
    uint64_t tmp;               /* the private TMPDIR (read and write); 0: none */
};

static inline uint64_t sbx__fs_rights_of(const struct sbx__fs_rights *fs, uint64_t access)
{
    return ((access & SBX_FS_READ) ? fs->read : 0) | ((access & SBX_FS_WRITE) ? fs->write : 0) |
           ((access & SBX_FS_EXEC) ? fs->exec : 0);
}

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
    struct sbx__fs_rights fs;            /* landlock.c: its rights, for other layers */
    size_t n_env;                        /* entries in envp */
    struct sbx__seccomp_plan *seccomp;   /* seccomp.c (refcounted); NULL: no filter */
    struct sbx__cgroup_plan *cgroup;     /* cgroup.c; NULL: no cgroup */
    struct sbx__outcfg *output;          /* outfilter.c (refcounted): output, audit */
    struct sbx__ns_plan *ns;             /* namespace.c; NULL: no namespaces */
    struct sbx__carve_plan *carve;       /* carve.c: the denied paths; NULL: none */
    struct sbx__ovl_plan *overlay;       /* overlay.c; NULL: no overlays */
    struct sbx__egress_policy *egress;   /* egress.c: a copy of the grants; NULL: no broker */
    struct sbx__caps_plan caps;          /* caps.c */
    struct sbx__capchan_cfg *capchan;    /* capchan.c (refcounted); NULL: no channel */
    const char *shim_dir; /* capchan.c: first on the child's PATH (tools with rules), or NULL */
    uint8_t mechanism[SBX__MECH]; /* [SBX_LIMIT_*]: SBX_MECHANISM_* */
    unsigned generation;          /* the policy's, when compiled */
    struct sbx__creds creds;      /* the host's, when compiled */
    struct sbx__plan *retired;    /* policy.c: an older plan, kept until nothing can use it */
    char isolation_fallback[320]; /* auto isolation: why no namespaces; "" when none missed */
    char *document; /* while compiling, when auditing: the policy's JSON (for its digest) */
    _Alignas(max_align_t) char block[]; /* envp array and strings */
};

/* A sandbox prepared ahead (spawn.c): killed, its layers undone, freed. */
struct sbx__ready;
SBX__HIDDEN void sbx__ready_free(struct sbx__ready *r);

/* Return the policy's plan, compiling it first if needed. */
SBX__HIDDEN int sbx__policy_plan(const sbx_policy *policy, const struct sbx__plan **ret);
SBX__HIDDEN int sbx__plan_compile(const sbx_policy *policy, struct sbx__plan **ret);
SBX__HIDDEN void sbx__plan_free(struct sbx__plan *plan);

/* ---- children (spawn.c, proc.c) ------------------------------------------ */

enum sbx__child_state {
    SBX__RUNNING,
    SBX__REAPED,
    SBX__LOST, /* reaped by someone else: the status is gone */
    SBX__TAKEN
};
enum sbx__end_reason {
    SBX__END_NATURAL,
    SBX__END_TIMEOUT,
    SBX__END_KILLED,
    SBX__END_VIOLATION,
    SBX__END_NETWORK_LIMIT, /* the egress broker's quota was hit */
};

struct sbx__violations;    /* seccomp_layer.h */
struct sbx__violation_rec; /* seccomp_layer.h */

struct sbx__broker_event;

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
    struct sbx__engine *engine;   /* engine.c: captured output, fed input; or NULL */
    struct sbx__broker *broker;   /* egress.c: the child's egress broker, or NULL */
    struct sbx__net_report *net;  /* egress.c: the broker's report once the child ended, or NULL */
    int epfd;                     /* what sbx_child_fd() returns when not the pidfd; or -1 */
    struct sbx__outcfg *audit;    /* audit.c: a reference while auditing, else NULL */
    uint64_t audit_bytes;         /* audit.c: written for this child */
    uint64_t audit_dropped;       /* audit.c: events not written (budget, repeats) */
    struct sbx__cgroup_run cg;    /* cgroup.c; cg.n == 0: no cgroup */
    uint8_t mechanism[SBX__MECH]; /* from the plan */
    uint32_t namespaces;          /* SBX_NS_* the child runs in */
    char isolation_fallback[320]; /* from the plan */
    int status_fd;                /* read end of the pid namespace init's status pipe, or -1 */
    struct sbx__ovl_run *ovl;     /* overlay.c: this child's upper and work dirs, or NULL */
    uint8_t tree_kill;            /* SBX_TREE_KILL_* */
    /* proc.c: when the subreaper init was told to kill its tree (0: not yet);
     * past SBX__KILL_GRACE_NS the host kills the init and its group itself */
    uint64_t tree_kill_sent_ns;
    bool tree_kill_escalated;
    uint64_t caps[SBX__CAPSETS]; /* the capability sets the program started with */
    bool monitor_lost;           /* the filter went in without a listener (best-effort) */
    bool prepared_ahead;         /* spawn.c: the sandbox was prepared before the spawn */
    /* engine.c: what the output filters counted, once they finished (for the
     * audit exit event, then the result); NULL when the output is not captured */
    struct sbx__unicode_report *unicode;
    /* monitor.c: the violations so far (NULL without a monitor), and the
     * output layer's hook for each one (audit.c sets it when auditing) */
    const struct sbx__violations *violations;
    /* capchan.c: the capability channel's host end, or NULL; the output
     * layer's hook for each call (audit.c sets it when auditing) */
    struct sbx__capchan *capchan;
    void (*call_hook)(sbx_child *child, const char *op, size_t args_bytes, const char *outcome,
                      const char *code, uint64_t duration_ns);
    void (*violation_hook)(sbx_child *child, const struct sbx__violation_rec *rec,
                           uint64_t kind_count);
    /* egress.c: called for each connection of the child's broker as it ends
     * (audit.c sets it when auditing) */
    void (*net_hook)(sbx_child *child, const struct sbx__broker_event *ev);
    int end_status;   /* SBX_STATUS_*, set when reaped, before the layers finish */
    char *start_note; /* landlock.c: why the child started in /, moved to the result; or NULL */
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
    uint32_t limits_hit;  /* cgroup: bit SBX_LIMIT_* reached somewhere in the tree */
    uint8_t mechanism[SBX__MECH];
    uint32_t namespaces;
    char isolation_fallback[320]; /* "" when the namespaces held or were not asked for */
    uint8_t tree_kill;
    bool prepared_ahead;
    uint64_t caps[SBX__CAPSETS];
    uint32_t layers;
    int landlock_abi;
    uint32_t landlock_rights;
    char *out[2]; /* stdout, stderr; NULL when nothing was captured */
    size_t out_len[2];
    bool truncated[2];
    uint64_t redactions, escapes;                  /* outfilter.c, by sbx_run() */
    uint64_t audit_dropped;                        /* audit.c: events not written */
    struct sbx__violations *violations;            /* monitor.c; NULL: no monitor */
    uint64_t capability_calls, capability_refused; /* capchan.c */
    uint64_t tool_denials;                         /* capchan.c: denied tool calls */
    char (*tool_denied)[200];                      /* the first ones, described; owned */
    size_t n_tool_denied;
    /* the child's (engine.c); NULL when its output was not captured */
    struct sbx__unicode_report *unicode;
    char **ovl; /* overlay.c: lower, upper of each overlay, in pairs */
    size_t n_ovl;
    struct sbx__net_report *net; /* egress.c; NULL: no broker */
    char *workdir_note;          /* the child started in /: why (landlock.c); or NULL */
};

/* overlay.c: the child's overlays, freed with it; copied into its result. */
SBX__HIDDEN void sbx__overlay_child_free(sbx_child *child);
SBX__HIDDEN int sbx__overlay_result(const sbx_child *child, sbx_result *res);
SBX__HIDDEN void sbx__overlay_result_free(sbx_result *res);

/* The signal that makes the init, as a subreaper, kill the whole tree. */
#define SBX__SIG_TREE_KILL 64

/* sbx_spawn() with internal options: SBX__SPAWN_SUBREAPER asks for the
 * subreaper init when no pid namespace or cgroup kills the tree (sbx_run). */
#define SBX__SPAWN_SUBREAPER 1u
/* The sized-structure rule (child.h): at least `min` bytes (the first
 * released size), nothing set past the `known` bytes this library knows;
 * copied into `out` (`known` bytes, zero past the caller's, size set). */
SBX__HIDDEN int sbx__sized_copy(void *out, size_t known, const void *in, size_t size, size_t min,
                                const char *func, const char *what);
/* The first released sizes. */
#define SBX__IO_SIZE_0_1   (offsetof(sbx_io, n_keep_fds) + sizeof(size_t))
#define SBX__OPTS_SIZE_0_2 (offsetof(sbx_spawn_opts, input_len) + sizeof(size_t))
SBX__HIDDEN int sbx__spawn(const sbx_policy *policy, const char *const *argv,
                           const sbx_spawn_opts *opts, uint32_t flags, sbx_child **ret);
/* Whether the subreaper init can find the processes beneath it here. */
SBX__HIDDEN bool sbx__subreaper_available(void);

/* How long the subreaper init may take to kill its tree before the host
 * SIGKILLs the init and its process group itself (a backstop: the init's own
 * kill takes milliseconds). */
#define SBX__KILL_GRACE_NS (2000ull * 1000 * 1000)

/* Kill the child's process group, then its main process, with SIGKILL; with
 * the subreaper init, tell it to kill its tree, and past SBX__KILL_GRACE_NS
 * after that, SIGKILL the init and its group. */
SBX__HIDDEN void sbx__child_kill_all(sbx_child *child);
/* When sbx__child_kill_all() must be called again to escalate (0: never). */
SBX__HIDDEN uint64_t sbx__child_escalate_ns(const sbx_child *child);
/* Wait until the main process has ended after sbx__child_kill_all(),
 * escalating if the subreaper init does not end in time. */
SBX__HIDDEN void sbx__child_await_end(sbx_child *child);
/* The wall-clock deadline passed: mark the child timed out and kill it as
 * sbx__child_kill_all() does, without waiting (supervisor.c). */
SBX__HIDDEN void sbx__child_expire(sbx_child *child);
/* ---- the capability channel (capchan.c) ---- */

/* The host's end of the child's channel, or -1 (readable: a request). */
SBX__HIDDEN int sbx__capchan_fd(const sbx_child *child);
/* Answer what the child sent, a bounded batch; never blocks. */
SBX__HIDDEN void sbx__capchan_service(sbx_child *child);
/* The counts and the tools' denials, into the result; -ENOMEM. */
SBX__HIDDEN int sbx__capchan_result(const sbx_child *child, sbx_result *res);
/* Free the channel (sbx_child_free()). */
SBX__HIDDEN void sbx__capchan_free(sbx_child *child);
/* The policy's tools with argument rules: how many; with i below that, rule
 * i's name and lists (valid while the policy is unchanged). */
SBX__HIDDEN size_t sbx__capchan_tool_rules(const sbx_policy *policy, size_t i, const char **name,
                                           const char *const **allow, const char *const **deny);

/* ---- the event engine (engine.c) ---- */

/* Capture stdout and stderr (out_fd: the pipes' read ends, owned from now) up
 * to output_limit (0: the plan's) and feed input to in_fd (owned; -1: none). */
SBX__HIDDEN int sbx__engine_new(sbx_child *child, const struct sbx__plan *plan, bool capture,
                                int out_fd[2], uint64_t output_limit, int in_fd, const void *input,
                                size_t input_len);
SBX__HIDDEN void sbx__engine_free(sbx_child *child);
/* Move the captured output into the result. */
SBX__HIDDEN int sbx__engine_take(sbx_child *child, sbx_result *res);
/* One non-blocking step (sbx_child_process()): 1 when the child has ended
 * and been reaped, 0 while it runs. */
SBX__HIDDEN int sbx__child_step(sbx_child *child);
/* Wait until the child may need a step, at most timeout_ms (-1: no bound
 * but its deadline). 0, or -errno when it cannot wait. */
SBX__HIDDEN int sbx__child_block(sbx_child *child, int timeout_ms);
/* The engine's descriptors besides the pidfd (listener, pipes); how many. */
#define SBX__EVENT_FDS 6
SBX__HIDDEN int sbx__engine_event_fds(const sbx_child *child, int fds[SBX__EVENT_FDS]);
SBX__HIDDEN bool sbx__engine_is_input(const sbx_child *child, int fd);
/* Reap the main process (it has ended), then every layer's finish. */
SBX__HIDDEN void sbx__child_reap(sbx_child *child);

/* After the reap: every layer's finish (cgroups, TMPDIR, audit). */
SBX__HIDDEN void sbx__child_finish(sbx_child *child);
/* Build the result of a reaped child. */
SBX__HIDDEN int sbx__result_new(const sbx_child *child, sbx_result **ret);

/* ---- output filter and audit log (outfilter.c, audit.c) ----------------------- */

struct sbx__outcfg;
struct sbx__violation_rec;
SBX__HIDDEN void sbx__output_policy_free(sbx_policy *policy);
/* One connection of the egress broker, as it ended: a "connection" event. */
SBX__HIDDEN void sbx__audit_connection(sbx_child *child, const struct sbx__broker_event *ev);
SBX__HIDDEN void sbx__egress_policy_free(sbx_policy *policy);                   /* egress.c */
SBX__HIDDEN int sbx__egress_policy_dup(const sbx_policy *from, sbx_policy *to); /* egress.c */
/* The egress broker of a running child (egress.c): serve what is ready;
 * whether a quota was hit (the core then ends the child); its next timer
 * (-1: none); its descriptor (-1: no broker). */
SBX__HIDDEN bool sbx__egress_has_grants(const struct sbx__egress_policy *cfg);
SBX__HIDDEN bool sbx__egress_child_step(sbx_child *child);
SBX__HIDDEN int64_t sbx__egress_child_timeout_ms(const sbx_child *child);
SBX__HIDDEN int sbx__egress_child_fd(const sbx_child *child);
/* The broker's report moves to the result (NULL: none); freed with it. */
SBX__HIDDEN void sbx__net_report_free(struct sbx__net_report *r);
/* The result's "network" member (",\"network\":{...}"), as snprintf; 0 without a broker. */
SBX__HIDDEN int sbx__net_report_json(const sbx_result *res, char *buf, size_t size);
/* Compile the policy's output and audit settings (plan->output). */
SBX__HIDDEN int sbx__outcfg_new(const sbx_policy *policy, const char *document,
                                struct sbx__outcfg **ret);
SBX__HIDDEN void sbx__outcfg_unref(struct sbx__outcfg *cfg);
/* Audit hooks; each does nothing when the policy has no audit log. */
SBX__HIDDEN void sbx__audit_spawn(sbx_child *child, const struct sbx__plan *plan,
                                  const char *const *argv);
/* kind_count: how many of that kind (system call and errno) so far, this one
 * included (only the first few of a kind are written). */
SBX__HIDDEN void sbx__audit_violation(sbx_child *child, const struct sbx__violation_rec *rec,
                                      uint64_t kind_count);
/* A call of a host operation (capchan.c), through child->call_hook. */
SBX__HIDDEN void sbx__audit_call(sbx_child *child, const char *op, size_t args_bytes,
                                 const char *outcome, const char *code, uint64_t duration_ns);
/* After the child is reaped: its limit, kill and exit events; drops child->audit. */
SBX__HIDDEN void sbx__audit_end(sbx_child *child);
/* The status a reaped child's result will have (result.c). */
SBX__HIDDEN int sbx__child_status(const sbx_child *child);

#endif
