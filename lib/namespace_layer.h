/* The namespace layer (namespace.c, view.c): its plan, and what the child
 * reads and writes while it builds its namespaces. */
#ifndef SBX_NAMESPACE_LAYER_H
#define SBX_NAMESPACE_LAYER_H

#include "internal.h"

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
    STEP_BROKER,
    STEP_CGROUP_NS,
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
    int broker_sock;      /* egress broker in a network namespace: where to send the listening
                             socket made inside it (egress.c), or -1 */
    uint16_t broker_port; /* ... on 127.0.0.1, the port the child's proxy variables name */
    /* written by the child on failure: which step, and which path */
    volatile int fail_step;
    const char *volatile fail_path;
};

SBX__HIDDEN int sbx__ns_compile(const sbx_policy *policy, struct sbx__plan *plan);
SBX__HIDDEN void sbx__ns_plan_free(struct sbx__ns_plan *ns);
/* Parent, per spawn: the init's memfd (created once per process). */
SBX__HIDDEN int sbx__ns_init_fd(void);
/* Its lock and the probe cache's (fork-safe); named for tests/unit/test_forksafe.c. */
SBX__HIDDEN extern pthread_mutex_t sbx__ns_init_lock, sbx__ns_probe_lock;
/* Parent, per spawn: the flags to clone the child with (the plan's, but a
 * child that builds its view from the template namespace makes its mount
 * namespace itself, view.h). */
SBX__HIDDEN uint64_t sbx__ns_clone_flags(const struct sbx__ns_run *run);
/* A process just in a new user namespace (the child, view.c's helper): map
 * its ids (uid_map, "deny" to setgroups, gid_map). 0, or the STEP_* of the
 * write that failed, errno set. Async-signal-safe. */
SBX__HIDDEN int sbx__ns_write_ids(const char *uid_map, const char *gid_map);
/* Child, right after the clone: ids, mounts, host name, loopback. -1 and errno
 * on failure, run->fail_step and fail_path saying where. Async-signal-safe. */
SBX__HIDDEN int sbx__ns_setup(struct sbx__ns_run *run);
/* Whether this process can create the namespaces of a set (user added when
 * needed): 0, or -errno with a reason in why. Cached per set. */
SBX__HIDDEN int sbx__ns_probe_set(uint32_t set, char *why, size_t size);
/* The namespaces auto isolation makes here, with `extra` (those asked for
 * besides; user added when not root): all of them, or 0 and why. */
SBX__HIDDEN uint32_t sbx__ns_auto_set(uint32_t extra, char *why, size_t size);
/* The message for a failure in the child. */
SBX__HIDDEN int sbx__ns_report(const struct sbx__ns_run *run, int err);
/* The message for a clone that failed with namespaces: why the host refuses. */
SBX__HIDDEN int sbx__ns_clone_failed(const struct sbx__ns_plan *ns, int err);

#endif
