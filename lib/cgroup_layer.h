/* The cgroup layer (cgroup.c): its plan, and a child's cgroups. Included by
 * internal.h: a child handle holds its cgroups. */
#ifndef SBX_CGROUP_LAYER_H
#define SBX_CGROUP_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "agentsbx/agentsbx.h"
#include "util/util.h"

struct sbx__plan;
struct sbx__cgroup_pool; /* cgroup.c: emptied cgroups kept for the plan's next child */

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
    struct sbx__cgroup_pool *pool;   /* NULL: every child's cgroups are removed */
    bool named;                      /* the parents were named (sbx_set_cgroup_parent) */
};

/* One of a child's cgroups. */
struct sbx__cgroup_dir_run {
    char path[SBX__CG_PATH_MAX];
    bool v2;
    uint32_t ctl;
    int procs_fd;  /* cgroup.procs (v2) or tasks (v1), open for the child to join; or, when
                      at_clone, the cgroup2 directory; -1 once closed */
    bool at_clone; /* the child is cloned into it (CLONE_INTO_CGROUP), and does not join */
};

/* One child's cgroups, from creation (parent, per spawn) to removal. */
struct sbx__cgroup_run {
    size_t n; /* cgroups created; 0: none (then nothing else here is used) */
    struct sbx__cgroup_dir_run cg[SBX__CG_MAX];
    int mem_idx;                   /* the cgroup with the memory controller, or -1 */
    int kill_fd;                   /* cgroup2 cgroup.kill, or -1 */
    uint64_t peak;                 /* bytes, read before removal; 0: unknown */
    bool oom;                      /* the memory controller's OOM killer killed a process */
    bool mem_hit;                  /* the memory limit was reached (an OOM kill, or v1's failcnt) */
    bool pids_hit;                 /* pids.events: a fork was refused at pids.max */
    bool killed;                   /* cgroup.kill was written */
    int pids_idx;                  /* the cgroup with the pids controller, or -1 */
    struct sbx__cgroup_pool *pool; /* a reference: where the emptied cgroups may go; or NULL */
    uint64_t mem_limit;            /* the memory limit written, or SBX_UNLIMITED */
    uint64_t pids_max;             /* pids.max as written (the limit, plus the library's
                                      init when the child has one), or SBX_UNLIMITED */
};

SBX__HIDDEN void sbx__cgroup_policy_free(sbx_policy *policy);
/* Compile: choose the hierarchies; sets plan->cgroup and plan->mechanism. */
SBX__HIDDEN int sbx__cgroup_compile(const sbx_policy *policy, struct sbx__plan *plan);
/* Compile, once every layer has: what the other layers decided changes
 * (the pid namespace kills the tree), then the pool of emptied cgroups. */
SBX__HIDDEN void sbx__cgroup_settle(struct sbx__plan *plan);
/* Parent, per spawn: create the child's cgroups, write their limits, open
 * their cgroup.procs. Zero system calls when the plan has no cgroup. `reaper`:
 * the spawn runs the subreaper init, which the process limit does not count. */
SBX__HIDDEN int sbx__cgroup_prepare(const struct sbx__plan *plan, struct sbx__cgroup_run *run,
                                    bool reaper);
/* Child: join every cgroup it was not cloned into (write "0" to each cgroup.procs, or v1
 * tasks). Async-signal-safe; how many it joined, or -1 and errno on failure, *index naming
 * the cgroup. */
SBX__HIDDEN int sbx__cgroup_join(const struct sbx__cgroup_run *run, volatile int *index);
/* Parent, before the clone: the cgroup2 directory to clone the child into
 * (clone3's CLONE_INTO_CGROUP: the child is born there, and the kernel takes
 * no lock for a migration), or -1. */
SBX__HIDDEN int sbx__cgroup_clone_fd(const struct sbx__cgroup_run *run);
/* Parent: the clone into that cgroup was refused (a kernel before 5.7, or
 * clone(2)): the child joins it as the others (if its cgroup.procs cannot
 * be opened, the join fails: SBX_STAGE_CGROUP, EBADF). */
SBX__HIDDEN void sbx__cgroup_clone_refused(struct sbx__cgroup_run *run);
/* Parent, after the clone: close the cgroup.procs descriptors. */
SBX__HIDDEN void sbx__cgroup_close_procs(struct sbx__cgroup_run *run);
/* SIGKILL everything in the child's cgroups (one pass; does not wait). */
SBX__HIDDEN void sbx__cgroup_kill(struct sbx__cgroup_run *run);
/* After the main process is reaped (or the spawn failed): kill what is left,
 * wait until the cgroups are empty, read peak memory and OOM kills, then keep
 * them for the plan's next child (the pool: only clean ones, see cgroup.c) or
 * remove them. `empty`: the caller knows nothing is left in them (the init of
 * the child's pid namespace was reaped, and with it everything in that
 * namespace, which is everything in the cgroups): no check, no kill. Idempotent. */
SBX__HIDDEN void sbx__cgroup_finish(struct sbx__cgroup_run *run, bool empty);
/* The probe of SBX_FEATURE_CGROUP. */
SBX__HIDDEN int sbx__cgroup_probe(char *reason, size_t size);

#endif
