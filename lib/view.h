/* The mount namespace's view (view.c): a root of its own that shows only what
 * the child needs and was granted. Nothing here is exported. */
#ifndef SBX_VIEW_H
#define SBX_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentsbx/carve.h"

struct sbx_policy;
struct sbx__plan;

enum sbx__view_kind {
    SBX__VIEW_SYMLINK, /* a link, as the host has it (/bin -> usr/bin) */
    SBX__VIEW_BIND,    /* a host directory or file, from a descriptor opened safely */
    SBX__VIEW_TMPFS,   /* a fresh tmpfs */
    SBX__VIEW_SCRATCH, /* a writable directory of the view's own tmpfs (/tmp, /dev/shm) */
    SBX__VIEW_DEVPTS,  /* a new devpts instance (/dev/pts) */
    SBX__VIEW_PROC,    /* a new /proc (the child's pid namespace) */
    SBX__VIEW_MASK,    /* a denied directory, or a missing denied path: an empty read-only tmpfs */
    SBX__VIEW_MASK_FILE, /* a denied file: the host's /dev/null (`data`), unopenable (nodev) */
    SBX__VIEW_SELF,      /* the view's own tree at `path` bound over itself with `attr`: read-only
                            (a write-denied path), or as it is (a pin: a mount point cannot be
                            renamed or removed, so no rename swaps the path of a deny beneath) */
    SBX__VIEW_BIND_AT,   /* sbx_bind(): the host's `data` (resolved, as BIND) shown at `path` */
    SBX__VIEW_OVERLAY,   /* sbx_overlay(): overlayfs at `path`, its lower directory `data` (the
                            same path, resolved, as BIND), the upper and work directories of the
                            spawn's extra (`ovl`: the overlay's index) */
    SBX__VIEW_DROPPED,   /* while compiling only: an op to remove */
};

/* One step of the view, in the order the child takes them (parents first). */
struct sbx__view_op {
    uint8_t kind;
    bool is_dir;        /* BIND: the mount point is a directory (else a file) */
    const char *path;   /* where, in the view: absolute */
    const char *data;   /* SYMLINK: the target; TMPFS, DEVPTS: mount options */
    uint64_t dev, ino;  /* BIND, MASK_FILE: the source, as resolved when compiled (a check) */
    uint64_t attr;      /* BIND: MOUNT_ATTR_* set on the bound tree */
    uint64_t ll_rights; /* a new mount's Landlock rights, added to the child's ruleset; 0: none */
    uint8_t ovl;        /* OVERLAY: the overlay's index in the policy */
    bool per_child;     /* made by each child, not in the prepared tree (view.c) */
};

/* The compiled view: immutable, owned by the namespace plan. */
struct sbx__view {
    size_t n;
    struct sbx__view_op *ops;
    uint64_t root_rights;  /* Landlock rights on the view's own root (listing it) */
    const char *root_opts; /* the view's tmpfs: its size is the memory limit, for /tmp and
                              /dev/shm together */
    /* The ops that are the same for every child (the system's binds, links and
     * denies), built once as a detached mount tree that each child clones with
     * one open_tree(2), its file systems read-only; the per_child ops are made
     * on the clone. Built by a root host without a user namespace itself,
     * otherwise by a helper in a user namespace of its own (view.c); at the
     * policy's second spawn, so that a policy spawned once never pays for it
     * (sbx__view_extra_prepare). -1: every child builds it all. */
    int prepared;
    /* With `prepared`: a mount namespace (its descriptor) whose root is a clone
     * of the prepared tree, its mounts private. A child cloned without a mount
     * namespace of its own enters it (setns) and copies it (unshare): no copy
     * of the host's mounts, no pivot_root, no unmount of the host's tree. -1:
     * none (the child clones the prepared tree into a copy of the host's). */
    int template_ns;
    /* The lazy build of the two above, the only fields that change after
     * compile: whether it is tried at all, the ids a helper maps (the plan's),
     * the spawns seen, and 0 (not yet), the pid of the process whose spawn
     * builds it, or -1 (done: prepared and template_ns set, -1 if it failed).
     * Read and written with atomics; prepared and template_ns are read only
     * once `state` is -1. */
    bool can_prepare;
    const char *uid_map, *gid_map; /* with a user namespace: the plan's */
    unsigned uses;
    int state;
    char scratch_opts[80]; /* with `prepared`: the options of the child's tmpfs that holds
                              /tmp and /dev/shm (the prepared root is shared, read-only) */
};

/* Binds a view may have: the child holds a descriptor for each at once. */
#define SBX__VIEW_MAX_BINDS 200

/* The program and its interpreters, bound executable for one spawn: at most
 * every file of the chain (lib/util/program.c), their real paths together in
 * `paths`. */
#define SBX__VIEW_MAX_EXTRA SBX__PROGRAM_MAX
struct sbx__view_extra {
    size_t n;
    bool unprepared; /* a file outside every bind and every tmpfs of the child's own: its
                        mount point is made in the view's root, which the prepared tree
                        has read-only: build it all */
    /* What this spawn builds on (the view's, as they were when it began; -1:
     * none, or unprepared): the prepared tree and the template namespace. */
    int tree, template_ns;
    struct sbx__view_op ops[SBX__VIEW_MAX_EXTRA];
    size_t used;
    char paths[2048];
    /* the overlays' upper and work directories made for this spawn (overlay.c) */
    size_t n_ovl;
    const char *ovl_upper[SBX_OVERLAY_MAX], *ovl_work[SBX_OVERLAY_MAX];
};

/* Parent, at compile: the view of this policy (NULL when the namespace plan
 * has no mount view). */
int sbx__view_compile(const struct sbx_policy *policy, const struct sbx__plan *plan,
                      struct sbx__view **ret) __attribute__((visibility("hidden")));
void sbx__view_free(struct sbx__view *view) __attribute__((visibility("hidden")));

/* Parent, per spawn: the program (and interpreters) that are not executable
 * in the view already, and what the child builds on (at the policy's second
 * spawn, the prepared tree is built first). */
int sbx__view_extra_prepare(const struct sbx__view *view, const struct sbx__program *prog,
                            struct sbx__view_extra *extra) __attribute__((visibility("hidden")));

/* Parent and child, per spawn: whether the child builds its view from the
 * template namespace (it is then cloned without CLONE_NEWNS). */
bool sbx__view_from_template(const struct sbx__view *view, const struct sbx__view_extra *extra)
    __attribute__((visibility("hidden")));

/* The steps of the child's build, for the message. */
enum sbx__view_step {
    SBX__VSTEP_STAGE = 100,
    SBX__VSTEP_OPEN,
    SBX__VSTEP_MOUNTPOINT,
    SBX__VSTEP_CLONE,
    SBX__VSTEP_ATTR,
    SBX__VSTEP_ATTACH,
    SBX__VSTEP_SYMLINK,
    SBX__VSTEP_TMPFS,
    SBX__VSTEP_DEVPTS,
    SBX__VSTEP_PROC,
    SBX__VSTEP_LANDLOCK,
    SBX__VSTEP_PIVOT,
    SBX__VSTEP_READ_ONLY,
    SBX__VSTEP_DENY,
    SBX__VSTEP_OVERLAY,
    SBX__VSTEP_ENTER,
};

/* Child, in its new mount namespace (system calls only): build the view
 * and make it the root. `ruleset` (or -1) receives the Landlock rules of the
 * new mounts. `cwd` (or NULL) is entered afterwards when it exists in the
 * view, else "/". The sources of the binds are opened here, in the child's
 * own mount namespace (a descriptor of the host's namespace cannot be bound
 * in another), by the paths resolved at compile time, following no link,
 * and must be the objects resolved then. -1 and errno on failure, with *step
 * and *where naming it. */
int sbx__view_build(const struct sbx__view *view, const struct sbx__view_extra *extra, int ruleset,
                    const char *cwd, volatile int *step, const char *volatile *where)
    __attribute__((visibility("hidden")));
/* The text of a step. */
const char *sbx__view_step_text(int step) __attribute__((visibility("hidden")));

#endif
