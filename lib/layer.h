/* The layer interface: the verbs every confinement layer answers, and the one
 * table the core iterates (layers.c). See docs/architecture.md.
 *
 * A layer keeps its settings in the policy, compiles them into the plan, and,
 * for each spawn, prepares what the child needs before the clone, closes its
 * side of it after the clone, hands what outlives the spawn to the child
 * handle, and cleans up after the child is reaped. The core (policy.c,
 * compile.c, spawn.c, proc.c) calls the verbs in table order (undoing in
 * reverse); the child's own steps, between the clone and execve, stay one
 * straight-line function in spawn.c, where their order is the security
 * argument. Every verb may be NULL. */
#ifndef SBX_LAYER_H
#define SBX_LAYER_H

#include <limits.h>

#include "internal.h"
#include "landlock_layer.h"
#include "namespace_layer.h"
#include "tmpdir.h"
#include "view.h"

/* One spawn, in the parent: what the layers prepare and the child reads. */
struct sbx__spawn {
    const struct sbx__plan *plan;
    const char *const *argv;
    const sbx_io *io;           /* normalised: the size rule applied */
    const sbx_spawn_opts *opts; /* normalised; never NULL */
    sbx_child *child;           /* made first: the layers fill what it will own */
    struct sbx__program prog;
    int workdir_fd;      /* the child enters it with fchdir; -1: chdir(path) */
    bool own_workdir_fd; /* opened for this spawn (opts->workdir): closed after the clone */
    bool reaper;         /* the init runs as a child subreaper (no pid namespace, no cgroup) */

    int ruleset; /* landlock: the child's ruleset, or -1; later layers may add rules */

    char tmpdir[SBX__TMPDIR_MAX]; /* tmp: the directory made on the host, or "" */
    const char *tmpdir_env;       /* the child's TMPDIR value, or NULL (unchanged) */

    int msock[2]; /* seccomp: carries the listener from the child; {-1, -1} without */

    struct sbx__view_extra extra; /* namespaces: the program's files bound in the view */
    const char *cwd;              /* namespaces: entered in the view when it is there */
    bool start_root; /* landlock: the host's directory is unreadable: the child starts in / */
    char program_abs[PATH_MAX]; /* landlock: then a relative program's path, made absolute */
    char cwd_buf[PATH_MAX];
    int init_fd;              /* the init's executable (pid namespace or subreaper), or -1 */
    int status_pipe[2];       /* the init reports the program's status; {-1, -1} without */
    int capsock[2];           /* capchan: {host's end, child's end}; {-1, -1} without */
    char caps_env[32];        /* capchan: "SBX_CAPS_FD=N", or "" */
    struct sbx__ovl_run *ovl; /* overlay: the upper and work directories made for this spawn */

    struct sbx__broker *broker; /* egress: this child's broker until adopted, or NULL */
    uint16_t proxy_port;        /* egress: the broker's port on 127.0.0.1; 0: none */
    int egress_sock[2];         /* egress in a network namespace: {host's end, child's end} that the
                                   child's listening socket comes over; {-1, -1} without */
};

struct sbx__layer {
    const char *name;
    /* the policy: free what the layer owns in it; copy it into a new policy */
    void (*policy_free)(sbx_policy *policy);
    int (*policy_dup)(const sbx_policy *from, sbx_policy *to);
    /* the plan: compile (in table order: a layer may read what earlier ones
     * decided), and free */
    int (*compile)(const sbx_policy *policy, struct sbx__plan *plan);
    void (*plan_free)(struct sbx__plan *plan);
    /* a spawn, in the parent */
    int (*prepare)(struct sbx__spawn *s);   /* before the clone */
    void (*launched)(struct sbx__spawn *s); /* after the clone, whether it worked or not */
    int (*adopt)(struct sbx__spawn *s);     /* the child runs: hand it what it owns now */
    void (*abort)(struct sbx__spawn *s);    /* the spawn failed: undo prepare */
    /* a child */
    void (*kill)(sbx_child *child);   /* kill what the process-group kill misses */
    void (*finish)(sbx_child *child); /* after the reap: remove what it left */
};

/* The layers, in order; NULL-terminated. */
SBX__HIDDEN extern const struct sbx__layer *const sbx__layers[];

/* Each layer's entry (in its own file). */
SBX__HIDDEN extern const struct sbx__layer sbx__layer_rlimits;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_cgroup;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_landlock;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_namespaces;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_carve;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_carve_landlock;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_tmp;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_overlay;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_egress;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_caps;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_seccomp;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_output;
SBX__HIDDEN extern const struct sbx__layer sbx__layer_capchan;

#endif
