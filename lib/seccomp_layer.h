/* Internal interface of the seccomp layer (seccomp.c) and the violation
 * monitor (monitor.c). Nothing here is exported. */
#ifndef SBX_SECCOMP_INTERNAL_H
#define SBX_SECCOMP_INTERNAL_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "seccomp_filter.h"

/* ---- policy side (seccomp.c) ------------------------------------------------ */

/* The seccomp settings of a policy; NULL in the policy means all defaults. */
struct sbx__seccomp_policy {
    struct sbx__filter_rule *rules; /* one per system call */
    size_t n_rules, cap_rules;
    bool allowlist;
    bool monitor_off;
    bool exec_report;         /* sbx_set_exec_reporting() */
    bool diagnose;            /* sbx_set_diagnose() */
    bool learn;               /* sbx_set_learn() */
    uint64_t violation_limit; /* 0: none */
    uint64_t violation_rate;  /* 0: SBX_VIOLATION_RATE_DEFAULT; UINT64_MAX: off */
    sbx_violation_fn callback;
    void *userdata;
};

SBX__HIDDEN void sbx__seccomp_policy_free(struct sbx__seccomp_policy *sp);
/* Whether the policy's filter is the default set, without notified calls
 * other than the violations' and the exec reports'. */
SBX__HIDDEN bool sbx__seccomp_plain(const sbx_policy *policy);

/* ---- the compiled layer (seccomp.c) ------------------------------------------ */

/* A Landlock rule as the monitor matches an exec against it: the inode it is
 * on, and the rights it grants there and beneath. */
struct sbx__exec_rule {
    uint64_t dev, ino;
    uint64_t access;
};

/* A Landlock TCP port rule, as diagnose mode matches a connect or bind. */
struct sbx__diag_port {
    uint16_t port;
    uint64_t access; /* LANDLOCK_ACCESS_NET_* */
};

/* The most system calls diagnose mode watches (diagnose.c's table). */
#define SBX__DIAG_CALLS 24

/* Built once per policy; immutable, shared by the plan and every child
 * spawned from it (reference-counted, since a child may outlive the policy). */
struct sbx__seccomp_plan {
    unsigned refs;                 /* atomic */
    struct sock_fprog notify_prog; /* denied calls -> USER_NOTIF; len 0: no monitor */
    struct sock_fprog errno_prog;  /* denied calls -> ERRNO; len 0: not needed */
    bool fallback_ok;              /* may use errno_prog when no listener can be had */
    bool memfd_rewrite; /* memfd_create without MFD_NOEXEC_SEAL: made by the monitor, sealed */
    int default_error;  /* answer for calls absent from `errnos` */
    struct sbx__filter_errno *errnos; /* sorted by nr: the answer to each denied call */
    size_t n_errnos;
    uint64_t violation_limit; /* 0: none */
    uint64_t violation_rate;  /* denied calls per second before a kill; 0: no limit */
    sbx_violation_fn callback;
    void *userdata;
    /* Exec reporting: execve/execveat reach the monitor (but the first one),
     * which tells the ones Landlock or a noexec mount stops, and lets each
     * continue. */
    bool exec_notify;
    uint64_t exec_required; /* the Landlock rights an exec needs (EXECUTE, READ_FILE), handled */
    struct sbx__exec_rule *exec_rules; /* the policy's Landlock rules, by inode */
    size_t n_exec_rules;
    /* Diagnose mode (diagnose.c): the path-taking calls and connect/bind
     * reach the monitor, which tells the ones Landlock will refuse, and
     * lets each continue. The rules above are compiled for it too. */
    int diag_nrs[SBX__DIAG_CALLS]; /* the calls notified for it; n_diag 0: off */
    bool learn;                    /* sbx_set_learn(): record every watched access */
    size_t n_diag;
    uint64_t handled_fs, handled_net;  /* what the Landlock ruleset handles */
    struct sbx__diag_port *diag_ports; /* the policy's TCP port rules */
    size_t n_diag_ports;
};

/* Child: execute the program. With exec reporting the first exec carries the
 * marker that keeps it from the monitor (seccomp_filter.h). Returns only on
 * failure, with errno. */
SBX__HIDDEN void sbx__seccomp_child_exec(const struct sbx__seccomp_plan *sp, const char *program,
                                         char *const argv[], char *const envp[]);

/* Compile the policy's filter into plan->seccomp and add the layers it
 * enforces to plan->layers. */
SBX__HIDDEN int sbx__seccomp_compile(const sbx_policy *policy, struct sbx__plan *plan);
SBX__HIDDEN struct sbx__seccomp_plan *sbx__seccomp_plan_ref(struct sbx__seccomp_plan *sp);
SBX__HIDDEN void sbx__seccomp_plan_unref(struct sbx__seccomp_plan *sp);
/* The errno a denied call gets. */
SBX__HIDDEN int sbx__seccomp_error_for(const struct sbx__seccomp_plan *sp, int nr);
/* The sizes of the kernel's struct seccomp_notif and seccomp_notif_resp. */
SBX__HIDDEN void sbx__seccomp_notif_sizes(size_t *notif, size_t *resp);

/* Parent: the error of a child that failed at the seccomp stage (negative errno). */
SBX__HIDDEN int sbx__seccomp_report_failure(int err);
/* Child, after no_new_privs: attach the filter. With a listener (sock >= 0),
 * send it to the parent over sock (both are close-on-exec: execve closes them,
 * and the program never holds its own listener). *monitor_lost is set when
 * the filter had to be attached without a listener (best-effort). No
 * allocation, no locks: system calls only. Returns 0, or -1 with errno. */
SBX__HIDDEN int sbx__seccomp_child_apply(const struct sbx__seccomp_plan *sp, int sock,
                                         volatile int *monitor_lost);

/* ---- the host side (monitor.c) ----------------------------------------------- */

struct sbx__violation_rec {
    char name[32];
    int nr;
    int error;
    pid_t pid;
    uint64_t args[6];
    uint64_t time_ns;
    bool benign; /* a routine probe of a library, not an attempt (monitor.c) */
};

#define SBX__VIOLATION_KINDS 32

/* Exec denials, coalesced by path and reason. */
#define SBX__EXEC_DENIALS  32
#define SBX__EXEC_PATH_MAX 256
struct sbx__exec_denial {
    char path[SBX__EXEC_PATH_MAX]; /* as the child named it (truncated: "...") */
    int reason;                    /* SBX_EXEC_DENIED_* */
    pid_t pid;                     /* of the first */
    uint64_t time_ns;              /* of the first */
    uint64_t count;
};

/* Access denials of diagnose mode, coalesced by kind, path or port, and right. */
#define SBX__ACCESS_DENIALS 32
struct sbx__access_denial {
    int kind; /* SBX_ACCESS_* */
    char syscall[24];
    char path[SBX__EXEC_PATH_MAX]; /* as resolved in the child's view (truncated: "...") */
    char dir[SBX__EXEC_PATH_MAX];  /* the directory a grant names */
    uint64_t missing;              /* SBX_FS_* */
    int port;                      /* -1 for files */
    pid_t pid;                     /* of the first */
    uint64_t time_ns;              /* of the first */
    uint64_t count;
};

/* One kind of denied call (a system call and its errno): the first one, and a count. */
struct sbx__violation_kind {
    struct sbx__violation_rec first;
    uint64_t count;
};

struct sbx__violations {
    uint64_t count;
    size_t n_kept;
    struct sbx__violation_rec kept[SBX_VIOLATIONS_KEPT];
    uint64_t dropped; /* counted but not kept (kept is full): count == n_kept + dropped */
    size_t n_kinds;
    struct sbx__violation_kind kinds[SBX__VIOLATION_KINDS];
    bool rate_kill;      /* killed for the rate (sbx_set_violation_rate()), not the count */
    uint64_t benign;     /* of count: routine probes (sbx_violation::benign) */
    uint64_t exec_count; /* exec denials (not in count: no system call was denied by seccomp) */
    size_t n_exec;       /* distinct ones kept */
    struct sbx__exec_denial exec[SBX__EXEC_DENIALS];
    bool diagnosed;               /* diagnose mode was on */
    struct sbx__learned *learned; /* learn mode's observations (owned), or NULL */
    uint64_t access_count;        /* diagnose mode's denials (not in count either) */
    size_t n_access;              /* distinct ones kept */
    struct sbx__access_denial access[SBX__ACCESS_DENIALS];
};

/* Parent, before the clone: the socket pair the listener travels over, when
 * the plan has a monitor ({-1, -1} otherwise). [1] goes to the child. */
SBX__HIDDEN int sbx__monitor_prepare(const struct sbx__plan *plan, int sock[2]);
/* Parent, after a successful clone: receive the listener and start watching.
 * Closes both sockets in every case. */
SBX__HIDDEN int sbx__monitor_start(sbx_child *child, const struct sbx__plan *plan, int sock[2],
                                   bool monitor_lost, const struct sbx__program *prog);
SBX__HIDDEN void sbx__monitor_close_sockets(int sock[2]);
/* The listener to poll for POLLIN, or -1. */
SBX__HIDDEN int sbx__monitor_fd(const sbx_child *child);
/* Answer the pending notifications, at most SBX__MONITOR_BATCH (never blocks).
 * Returns SBX__MONITOR_HUNG_UP when the listener hung up (no process uses the
 * filter any more, so the main process has exited: its pidfd turns readable
 * a moment later), and SBX__MONITOR_KILL when the child passed its violation
 * limit or rate: the caller kills its tree (the calls stay unanswered). */
#define SBX__MONITOR_BATCH   64
#define SBX__MONITOR_HUNG_UP 1
#define SBX__MONITOR_KILL    2
SBX__HIDDEN int sbx__monitor_service(sbx_child *child);
SBX__HIDDEN void sbx__monitor_free(sbx_child *child);
/* Copy the child's violations into its result. */
SBX__HIDDEN int sbx__monitor_result(const sbx_child *child, sbx_result *res);
SBX__HIDDEN void sbx__violations_free(sbx_result *res);
/* Read a NUL-terminated string of process pid at `at` into buf[size]: its
 * length, or -1 when it cannot be read or does not end within size. */
SBX__HIDDEN ssize_t sbx__child_string(pid_t pid, uint64_t at, char *buf, size_t size);

/* ---- diagnose mode (diagnose.c) ------------------------------------------------ */

struct seccomp_data;

/* The rules a child's ruleset holds, by inode: the policy's (compiled) and
 * the ones a spawn adds (the program, the private TMPDIR, the view's mounts). */
struct sbx__rule_lists {
    const struct sbx__exec_rule *list[2];
    size_t n[2];
};

/* Compile: the calls diagnose mode watches that the filter would otherwise
 * let through (allowed(nr) says so) into sp->diag_nrs. */
SBX__HIDDEN void sbx__diagnose_calls(struct sbx__seccomp_plan *sp, bool (*allowed)(int nr, void *),
                                     void *arg);
/* Whether nr is a call diagnose mode watches. */
SBX__HIDDEN bool sbx__diagnose_watches(const struct sbx__seccomp_plan *sp, int nr);
struct sbx__learned;
/* Whether Landlock will refuse the call of the notification: 1 and *ret
 * filled (but pid, time and count), or 0 (allowed, refused for a reason of
 * its own, or not decidable from here: nothing is reported then). With
 * learn (learn mode), what the call does is recorded there as well. */
SBX__HIDDEN int sbx__diagnose(const struct sbx__seccomp_plan *sp,
                              const struct sbx__rule_lists *rules, const struct seccomp_data *data,
                              pid_t pid, struct sbx__access_denial *ret,
                              struct sbx__learned *learn);
/* Learn mode's observations: every path the child opened, made, removed
 * or executed (as it sees it) with what it did there, and its TCP ports;
 * bounded (SBX__LEARN_MAX paths, then `truncated`). */
#define SBX__LEARN_MAX   65536
#define SBX__LEARN_PORTS 64
enum {
    SBX__LEARN_READ_FILE = 1u << 0,  /* a file read */
    SBX__LEARN_READ_DIR = 1u << 1,   /* a directory listed */
    SBX__LEARN_WRITE_FILE = 1u << 2, /* a file written or truncated */
    SBX__LEARN_WRITE_DIR = 1u << 3,  /* a directory something was made in or removed from */
    SBX__LEARN_EXEC = 1u << 4,       /* a file executed */
};
struct sbx__learn_entry {
    char *path;
    uint32_t what;
};
struct sbx__learned {
    struct sbx__learn_entry *e; /* open addressing by path */
    size_t cap, n;
    bool truncated;
    uint16_t ports[2][SBX__LEARN_PORTS]; /* [0] connect, [1] bind */
    size_t n_ports[2];
    char tmpdir[SBX__TMPDIR_MAX]; /* the child's private TMPDIR (not learned), or "" */
};
SBX__HIDDEN void sbx__learn_note(struct sbx__learned *l, const char *path, uint32_t what);
SBX__HIDDEN void sbx__learned_free(struct sbx__learned *l);

/* Count a denial in v, coalesced. */
SBX__HIDDEN void sbx__diagnose_record(struct sbx__violations *v,
                                      const struct sbx__access_denial *d);

/* Append `,"violation_count":N,"violations":[...]` as snprintf would. */
SBX__HIDDEN int sbx__violations_json(const sbx_result *res, char *buf, size_t size);

#endif
