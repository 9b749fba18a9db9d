/* The cgroup layer: a cgroup per child in each hierarchy used (cgroup2, and the
 * cgroup v1 memory, pids and cpu hierarchies where a host only has those), created
 * beneath the process's own cgroups or beneath parents the host names, never
 * elsewhere, and removed once the child has ended, however it ended.
 *
 * Compile (parent, once per policy): read /proc/self/mountinfo and
 * /proc/self/cgroup, choose the parent directories and which one holds the
 * memory, pids and cpu controllers. Prepare (parent, per spawn): mkdir the child's
 * cgroups (or take emptied ones from the plan's pool), write their limits, open
 * their cgroup.procs. Child: write "0" to each cgroup.procs (async-signal-safe).
 * Finish (parent, after the main process is reaped): kill everything left in the
 * cgroups, wait until they are empty, read peak memory and OOM kills, then keep
 * them in the pool or rmdir. See docs/cgroups.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layer.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define MAX_MOUNTS   24
#define FINISH_NS    (10ull * 1000000000ull) /* bound on waiting for a cgroup to empty */
#define MOUNT_PATH   160
#define CPU_RATE_MIN 10           /* millicpus: a quota of 1 ms per period, the kernel's least */
#define CPU_RATE_MAX 1000000      /* millicpus: 1000 CPUs */
#define POOL_MAX     8            /* emptied cgroup sets kept per plan */
#define POOL_RESIDUE (4ull << 20) /* bytes: the most charge a kept memory cgroup may hold */

_Static_assert(sizeof(((sbx_policy *)0)->cg_parents) / sizeof(char *) == SBX__CG_MAX,
               "one cg_parents slot per hierarchy");

/* ---- policy setters ----------------------------------------------------------- */

void sbx__cgroup_policy_free(sbx_policy *policy)
{
    for (size_t i = 0; i < policy->n_cg_parents; i++)
        free(policy->cg_parents[i]);
    policy->n_cg_parents = 0;
}

int sbx_use_cgroup(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    policy->use_cgroup = on;
    policy->no_cgroup = !on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_limit_cpu_rate(sbx_policy *policy, uint64_t millicpus)
{
    sbx__check_arg(policy);
    sbx__check(millicpus == SBX_UNLIMITED ||
                   (millicpus >= CPU_RATE_MIN && millicpus <= CPU_RATE_MAX),
               "%s: CPU rate (millicpus) %llu is out of range (%d to %d, or SBX_UNLIMITED)",
               __func__, (unsigned long long)millicpus, CPU_RATE_MIN, CPU_RATE_MAX);
    policy->limits[SBX__LIMIT_CPU_RATE] = millicpus;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_cgroup_parent(sbx_policy *policy, const char *dir)
{
    sbx__check_arg(policy);
    if (!dir) {
        sbx__cgroup_policy_free(policy);
        sbx__policy_changed(policy);
        return 0;
    }
    sbx__check(dir[0] == '/', "%s: the cgroup parent must be an absolute path, got '%s'", __func__,
               dir);
    sbx__check(strlen(dir) <= SBX__CG_PARENT_MAX, "%s: the cgroup parent is longer than %d bytes",
               __func__, SBX__CG_PARENT_MAX);
    struct stat st;
    if (stat(dir, &st) != 0)
        return sbx__errno(-errno, "%s: stat(%s)", __func__, dir);
    if (!S_ISDIR(st.st_mode))
        return sbx__err(-ENOTDIR, "%s: %s is not a directory", __func__, dir);
    struct statfs fs;
    sbx__check(statfs(dir, &fs) == 0 && ((unsigned long)fs.f_type == CGROUP_SUPER_MAGIC ||
                                         (unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC),
               "%s: %s is not on a cgroup or cgroup2 file system", __func__, dir);
    for (size_t i = 0; i < policy->n_cg_parents; i++)
        if (strcmp(policy->cg_parents[i], dir) == 0)
            return 0;
    sbx__check(policy->n_cg_parents < SBX__CG_MAX, "%s: at most %d cgroup parents", __func__,
               SBX__CG_MAX);
    char *copy = strdup(dir);
    if (!copy)
        return sbx__errno(-ENOMEM, "%s", __func__);
    policy->cg_parents[policy->n_cg_parents++] = copy;
    sbx__policy_changed(policy);
    return 0;
}

/* ---- discovery (parent) ------------------------------------------------------- */

struct mount {
    char point[MOUNT_PATH];
    char root[MOUNT_PATH];
    bool v2;
    uint32_t ctl; /* v1: SBX__CG_* of the hierarchy */
};

/* Append to a bounded message. */
static void note(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

static bool has_word(const char *list, const char *word, char sep)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static size_t read_mounts(struct mount *m, size_t max)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return 0;
    size_t n = 0;
    char line[1024];
    while (n < max && fgets(line, sizeof(line), f)) {
        char root[MOUNT_PATH], point[MOUNT_PATH];
        if (sscanf(line, "%*s %*s %*s %159s %159s", root, point) != 2)
            continue;
        const char *dash = strstr(line, " - ");
        if (!dash)
            continue;
        char type[32], opts[512];
        if (sscanf(dash + 3, "%31s %*s %511s", type, opts) != 2)
            continue;
        bool v2 = strcmp(type, "cgroup2") == 0;
        if (!v2 && strcmp(type, "cgroup") != 0)
            continue;
        m[n] = (struct mount){.v2 = v2};
        snprintf(m[n].point, sizeof(m[n].point), "%s", point);
        snprintf(m[n].root, sizeof(m[n].root), "%s", root);
        if (!v2) {
            if (has_word(opts, "memory", ','))
                m[n].ctl |= SBX__CG_MEMORY;
            if (has_word(opts, "pids", ','))
                m[n].ctl |= SBX__CG_PIDS;
            if (has_word(opts, "cpu", ','))
                m[n].ctl |= SBX__CG_CPU;
            if (!m[n].ctl)
                continue; /* a v1 hierarchy without a controller this layer uses */
        }
        n++;
    }
    fclose(f);
    return n;
}

/* The process's own cgroup in mount m, as a directory path. */
static int own_dir(const struct mount *m, char *dir, size_t size)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return -errno;
    char line[1024], path[1024] = "";
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *ctls = c1 + 1;
        if (m->v2 ? (strncmp(line, "0:", 2) == 0 && !*ctls)
                  : (((m->ctl & SBX__CG_MEMORY) && has_word(ctls, "memory", ',')) ||
                     ((m->ctl & SBX__CG_PIDS) && has_word(ctls, "pids", ',')) ||
                     ((m->ctl & SBX__CG_CPU) && has_word(ctls, "cpu", ',')))) {
            snprintf(path, sizeof(path), "%s", c2 + 1);
            found = true;
        }
    }
    fclose(f);
    if (!found)
        return -ENOENT;
    const char *rel = path;
    if (strcmp(m->root, "/") != 0) { /* a mount of a subtree: our cgroup must lie in it */
        size_t rl = strlen(m->root);
        if (strncmp(path, m->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
            return -EXDEV;
        rel = path + rl;
    }
    if (strcmp(rel, "/") == 0)
        rel = "";
    if ((size_t)snprintf(dir, size, "%s%s", m->point, rel) >= size)
        return -ENAMETOOLONG;
    return 0;
}

/* Read a small file into buf (NUL-terminated); -errno on failure. */
static int read_small(const char *dir, const char *name, char *buf, size_t size)
{
    char path[SBX__CG_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int err = errno;
    close(fd);
    if (n < 0)
        return -err;
    buf[n] = '\0';
    return 0;
}

/* The controllers of ctl, "memory,pids,cpu", in buf (at least 32 bytes). */
static const char *ctl_names(uint32_t ctl, char *buf)
{
    buf[0] = '\0';
    if (ctl & SBX__CG_MEMORY)
        strcat(buf, ",memory");
    if (ctl & SBX__CG_PIDS)
        strcat(buf, ",pids");
    if (ctl & SBX__CG_CPU)
        strcat(buf, ",cpu");
    return buf[0] ? buf + 1 : "none";
}

/* Check a candidate parent; adds it to cg when usable, or says why not in why.
 * need: the SBX__CG_* controllers the policy needs (a missing one is noted). */
static void consider(struct sbx__cgroup_plan *cg, const char *dir, bool v2, uint32_t ctl,
                     uint32_t need, char *why, size_t size)
{
    char names[32];
    const char *kind = v2 ? "cgroup2" : ctl_names(ctl, names);
    for (size_t i = 0; i < cg->n; i++)
        if (strcmp(cg->dirs[i].parent, dir) == 0)
            return;
    if (strlen(dir) > SBX__CG_PARENT_MAX) {
        note(why, size, "; %s %s: path longer than %d bytes", kind, dir, SBX__CG_PARENT_MAX);
        return;
    }
    if (access(dir, W_OK) != 0) {
        note(why, size, "; %s %s: not writable: %s", kind, dir, strerror(errno));
        return;
    }
    if (v2) {
        char buf[256];
        if (read_small(dir, "cgroup.subtree_control", buf, sizeof(buf)) == 0) {
            buf[strcspn(buf, "\n")] = '\0';
            if (has_word(buf, "memory", ' '))
                ctl |= SBX__CG_MEMORY;
            if (has_word(buf, "pids", ' '))
                ctl |= SBX__CG_PIDS;
            if (has_word(buf, "cpu", ' '))
                ctl |= SBX__CG_CPU;
        }
        if (!(ctl & SBX__CG_MEMORY))
            note(why, size, "; cgroup2 %s: memory not in cgroup.subtree_control", dir);
        if (!(ctl & SBX__CG_PIDS))
            note(why, size, "; cgroup2 %s: pids not in cgroup.subtree_control", dir);
        if ((need & SBX__CG_CPU) && !(ctl & SBX__CG_CPU))
            note(why, size, "; cgroup2 %s: cpu not in cgroup.subtree_control", dir);
    }
    if (cg->n == SBX__CG_MAX)
        return;
    snprintf(cg->dirs[cg->n].parent, sizeof(cg->dirs[cg->n].parent), "%s", dir);
    cg->dirs[cg->n].v2 = v2;
    cg->dirs[cg->n].ctl = ctl;
    cg->n++;
}

/* Which directory holds each controller: the first that has it. */
static void choose_holders(struct sbx__cgroup_plan *cg)
{
    cg->mem_idx = cg->pids_idx = cg->cpu_idx = -1;
    for (size_t i = 0; i < cg->n; i++) {
        if (cg->mem_idx < 0 && (cg->dirs[i].ctl & SBX__CG_MEMORY))
            cg->mem_idx = (int)i;
        if (cg->pids_idx < 0 && (cg->dirs[i].ctl & SBX__CG_PIDS))
            cg->pids_idx = (int)i;
        if (cg->cpu_idx < 0 && (cg->dirs[i].ctl & SBX__CG_CPU))
            cg->cpu_idx = (int)i;
    }
}

/* Choose the parents: the named ones, or the process's own cgroups. Returns 0,
 * or -EOPNOTSUPP with the reason in why. */
static int discover(char *const *parents, size_t n_parents, uint32_t need,
                    struct sbx__cgroup_plan *cg, char *why, size_t size)
{
    struct mount m[MAX_MOUNTS];
    size_t n_m = read_mounts(m, MAX_MOUNTS);
    char notes[1024] = "", names[32];
    *cg = (struct sbx__cgroup_plan){.mem_idx = -1, .pids_idx = -1, .cpu_idx = -1};

    if (n_parents) {
        for (size_t i = 0; i < n_parents; i++) {
            const struct mount *best = NULL; /* the cgroup mount with the longest matching point */
            for (size_t k = 0; k < n_m; k++) {
                size_t pl = strlen(m[k].point);
                if (strncmp(parents[i], m[k].point, pl) == 0 &&
                    (parents[i][pl] == '/' || parents[i][pl] == '\0') &&
                    (!best || pl > strlen(best->point)))
                    best = &m[k];
            }
            if (!best) {
                note(notes, sizeof(notes),
                     "; %s: not in a cgroup2 hierarchy nor in a v1 memory, "
                     "pids or cpu hierarchy",
                     parents[i]);
                continue;
            }
            consider(cg, parents[i], best->v2, best->v2 ? 0 : best->ctl, need, notes,
                     sizeof(notes));
        }
    } else {
        /* cgroup2 first: it has cgroup.kill; then v1 memory, pids and cpu. A v1
         * hierarchy of the cpu controller alone only when a CPU rate is asked. */
        for (int pass = 0; pass < 2; pass++)
            for (size_t k = 0; k < n_m; k++) {
                if (m[k].v2 != (pass == 0))
                    continue;
                if (!m[k].v2 && m[k].ctl == SBX__CG_CPU && !(need & SBX__CG_CPU))
                    continue;
                char dir[512];
                int r = own_dir(&m[k], dir, sizeof(dir));
                if (r < 0) {
                    note(notes, sizeof(notes), "; %s %s: own cgroup not found there: %s",
                         m[k].v2 ? "cgroup2" : ctl_names(m[k].ctl, names), m[k].point,
                         strerror(-r));
                    continue;
                }
                consider(cg, dir, m[k].v2, m[k].v2 ? 0 : m[k].ctl, need, notes, sizeof(notes));
            }
    }
    choose_holders(cg); /* cgroup2 comes first, so it is preferred */
    const char *where =
        n_parents ? "beneath the cgroup parents named" : "beneath this process's own cgroups";
    const char *missing = cg->n == 0                                   ? "cgroup"
                          : (need & SBX__CG_MEMORY) && cg->mem_idx < 0 ? "memory controller"
                          : (need & SBX__CG_PIDS) && cg->pids_idx < 0  ? "pids controller"
                          : (need & SBX__CG_CPU) && cg->cpu_idx < 0    ? "cpu controller"
                                                                       : NULL;
    if (!missing)
        return 0;
    snprintf(why, size, "cgroup: no writable %s %s (%s)", missing, where,
             notes[0] ? notes + 2
             : n_m    ? "no usable hierarchy"
                      : "no cgroup file system mounted");
    return -EOPNOTSUPP;
}

static size_t ids_pass(const char *dir, const char *file, bool do_kill);

/* Remove the cgroups in parent that a dead host left (tmpdir.c names the
 * owner), killing what is still in them first: a host killed outright could
 * neither kill its children's trees nor remove their cgroups. */
static void sweep(const char *parent, bool v2)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR || strncmp(de->d_name, "agentsbx.", 9) != 0 ||
            !sbx__owner_dead(de->d_name + 9))
            continue;
        char path[SBX__CG_PATH_MAX + 64];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) >= sizeof(path))
            continue;
        if (v2) {
            char kill_file[sizeof(path) + 16];
            snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", path);
            int fd = open(kill_file, O_WRONLY | O_CLOEXEC);
            if (fd >= 0) {
                (void)!write(fd, "1", 1);
                close(fd);
            }
        }
        for (int tries = 0; tries < 50 && rmdir(path) != 0 && errno == EBUSY; tries++) {
            ids_pass(path, "cgroup.procs", true);
            usleep(2000);
        }
    }
    closedir(d);
}

static struct sbx__cgroup_pool *pool_new(size_t n_dirs);

int sbx__cgroup_compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    uint64_t mem = policy->limits[SBX__LIMIT_MEMORY], pids = policy->limits[SBX__LIMIT_NPROC];
    uint64_t cpu = policy->limits[SBX__LIMIT_CPU_RATE];
    /* A process limit that RLIMIT_NPROC cannot hold (a root host) takes a
     * cgroup of its own when one is usable, without being asked (and the
     * rlimits layer refuses it when none is); so does a root host's memory
     * limit, which RLIMIT_DATA holds only per process: the cgroup binds the
     * whole tree and reports the hit (memory_limit). Where no cgroup is
     * usable, the rlimits hold them as without the layer. */
    bool plain = cpu == SBX_UNLIMITED && !policy->use_cgroup && !policy->no_cgroup &&
                 policy->n_cg_parents == 0;
    bool auto_pids = plain && pids != SBX_UNLIMITED && !sbx__nproc_binds();
    bool auto_mem = plain && mem != SBX_UNLIMITED && geteuid() == 0;
    bool automatic = auto_pids || auto_mem;
    if (!policy->use_cgroup && policy->n_cg_parents == 0 && !automatic) {
        /* A CPU rate has no mechanism but the cgroup: not asking for the layer
         * is the caller's mistake, unless the layer may be missing. */
        if (cpu != SBX_UNLIMITED && !(policy->best_effort & SBX_LAYER_CGROUP))
            return sbx__err_stage(SBX_STAGE_COMPILE, -EINVAL,
                                  "CPU rate limit: it needs the cgroup layer (sbx_use_cgroup or "
                                  "sbx_set_cgroup_parent), which is off; turn it on, or mark "
                                  "SBX_LAYER_CGROUP best-effort to run without the limit");
        return 0;
    }
    if (automatic && !auto_mem)
        mem = SBX_UNLIMITED; /* RLIMIT_DATA holds it, as without the cgroup */
    if (automatic && !auto_pids)
        pids = SBX_UNLIMITED; /* RLIMIT_NPROC holds it */
    struct sbx__cgroup_plan *cg = malloc(sizeof(*cg));
    if (!cg)
        return sbx__err_stage(SBX_STAGE_CGROUP, -ENOMEM, "cgroup: compiling");
    char why[1280];
    int r;
    for (;;) {
        uint32_t need = (mem != SBX_UNLIMITED ? SBX__CG_MEMORY : 0) |
                        (pids != SBX_UNLIMITED ? SBX__CG_PIDS : 0) |
                        (cpu != SBX_UNLIMITED ? SBX__CG_CPU : 0);
        r = discover(policy->cg_parents, policy->n_cg_parents, need, cg, why, sizeof(why));
        if (r == 0 || !automatic || !auto_mem || !auto_pids || mem == SBX_UNLIMITED)
            break;
        mem = SBX_UNLIMITED; /* no memory controller: the process limit alone */
    }
    if (r < 0 && automatic) {
        free(cg);
        return 0; /* the rlimits hold them, or the rlimits layer says what is missing */
    }
    if (r < 0) {
        free(cg);
        if (policy->best_effort & SBX_LAYER_CGROUP)
            return 0; /* the limits fall back to rlimits; the CPU rate is not enforced */
        return sbx__err_stage(SBX_STAGE_CGROUP, r, "%s", why);
    }
    for (size_t i = 0; i < cg->n; i++)
        if (sbx__first_sweep(cg->dirs[i].parent))
            sweep(cg->dirs[i].parent, cg->dirs[i].v2);
    cg->memory = mem;
    cg->pids = pids;
    cg->cpu_rate = cpu;
    cg->pool = NULL; /* sbx__cgroup_settle() */
    cg->named = policy->n_cg_parents > 0;
    if (mem != SBX_UNLIMITED)
        plan->mechanism[SBX_LIMIT_MEMORY] = SBX_MECHANISM_CGROUP;
    if (pids != SBX_UNLIMITED)
        plan->mechanism[SBX_LIMIT_PROCESSES] = SBX_MECHANISM_CGROUP;
    if (cpu != SBX_UNLIMITED)
        plan->mechanism[SBX_LIMIT_CPU_RATE] = SBX_MECHANISM_CGROUP;
    plan->cgroup = cg;
    plan->layers |= SBX_LAYER_CGROUP;
    return 0;
}

void sbx__cgroup_settle(struct sbx__plan *plan)
{
    struct sbx__cgroup_plan *cg = plan->cgroup;
    if (!cg)
        return;
    /* A cgroup2 directory that holds none of the controllers used serves only
     * to kill the tree (cgroup.kill). In a pid namespace the init's end kills
     * the tree already, and joining that cgroup costs the spawn a write to
     * cgroup.procs, which takes the kernel's global threadgroup lock for
     * writing and waits for an RCU grace period: 10-30 ms at p90 and p99 here
     * (a hybrid host: memory and pids on v1, cgroup2 without controllers).
     * So does a v1 pids hierarchy without a process limit: it would only cost
     * a join and a read of pids.events at every end. (The memory cgroup stays
     * without a memory limit: it measures the peak the result reports.) */
    if (plan->ns && plan->ns->init && !cg->named) {
        bool drop[SBX__CG_MAX];
        size_t kept = 0, k = 0;
        for (size_t i = 0; i < cg->n; i++) {
            bool used = (int)i == cg->mem_idx || (int)i == cg->cpu_idx ||
                        ((int)i == cg->pids_idx && cg->pids != SBX_UNLIMITED);
            drop[i] = !used && (cg->dirs[i].v2 || cg->dirs[i].ctl == SBX__CG_PIDS);
            kept += !drop[i];
        }
        for (size_t i = 0; i < cg->n; i++) {
            if (drop[i] && (kept || i + 1 < cg->n)) /* one stays: the layer was asked for */
                continue;
            if (k != i)
                cg->dirs[k] = cg->dirs[i];
            k++;
        }
        if (k != cg->n) {
            cg->n = k;
            choose_holders(cg); /* the same holders, renumbered */
        }
    }
    /* A pool unless a cgroup2 memory cgroup is among them (see the pool). */
    bool poolable = true;
    for (size_t i = 0; i < cg->n; i++)
        if (cg->dirs[i].v2 && (cg->dirs[i].ctl & SBX__CG_MEMORY))
            poolable = false;
    cg->pool = poolable ? pool_new(cg->n) : NULL; /* none (ENOMEM): every set removed */
}

int sbx__cgroup_probe(char *reason, size_t size)
{
    struct sbx__cgroup_plan cg;
    char why[1280];
    if (discover(NULL, 0, SBX__CG_MEMORY | SBX__CG_PIDS, &cg, why, sizeof(why)) < 0) {
        if (reason && size)
            snprintf(reason, size, "%s", why);
        return 0;
    }
    return cg.dirs[cg.mem_idx].v2 && cg.dirs[cg.pids_idx].v2 ? 2 : 1;
}

/* ---- per spawn (parent) ------------------------------------------------------- */

/* ---- the pool ------------------------------------------------------------------- */

/* Creating a cgroup is the dearest step of the layer where the memory
 * controller is on cgroup v1 (a mkdir there costs about 0.15 ms: the memory
 * cgroup's per-CPU state, and its removal more work for the kernel's workers),
 * so the cgroups of a child that ended cleanly are kept, empty, for the same
 * plan's next child: same parents, same limits. Kept only when nothing can
 * carry over to that child: no process left (checked, or known: a pid
 * namespace's init was reaped), no limit reached (an OOM kill, a refused fork:
 * counters that cannot be reset), the memory charge left behind (page cache the
 * child brought in, which the kernel reclaims before it refuses memory) at most
 * POOL_RESIDUE and a sixteenth of the limit, and the peak reset (both when the
 * next child takes them); never a cgroup2 memory cgroup (its memory.peak cannot be
 * reset for every reader). Removed when the plan is freed (sbx_policy_free),
 * and at exit; a process forked from the host never takes its parent's. One
 * lock for every pool, held across fork so that a forked child finds it free. */
struct sbx__cgroup_pool {
    unsigned refs; /* the plan's, and one per child that may return its cgroups */
    bool closed;   /* the plan is gone: children remove their cgroups */
    size_t n_dirs; /* cgroups per set: the plan's hierarchies */
    size_t n;
    struct {
        pid_t owner;
        bool killed;       /* cgroup.kill was written: see clone_into_lives() */
        uint64_t pids_max; /* the pids.max written (the run's pids_max) */
        char path[SBX__CG_MAX][SBX__CG_PATH_MAX];
    } e[POOL_MAX];
    struct sbx__cgroup_pool *next, *prev; /* every pool, for exit */
};

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sbx__cgroup_pool *pools;
static pthread_once_t pools_once = PTHREAD_ONCE_INIT;

static void pools_lock_fork(void)
{
    pthread_mutex_lock(&pools_lock);
}

static void pools_unlock_fork(void)
{
    pthread_mutex_unlock(&pools_lock);
}

static void pools_drain_at_exit(void);

static void pools_init(void)
{
    pthread_atfork(pools_lock_fork, pools_unlock_fork, pools_unlock_fork);
    atexit(pools_drain_at_exit);
}

static int write_file(const char *dir, const char *name, const char *value);

static void remove_set(char (*path)[SBX__CG_PATH_MAX], size_t n)
{
    for (size_t i = n; i-- > 0;)
        for (int tries = 0; rmdir(path[i]) != 0 && errno == EBUSY && tries < 20; tries++)
            usleep(500); /* v1 can count an exited task for a moment */
}

/* Remove the sets this process put in the pool; the caller holds the lock. */
static void drain_locked(struct sbx__cgroup_pool *pool)
{
    pid_t self = getpid();
    for (size_t i = 0; i < pool->n; i++)
        if (pool->e[i].owner == self)
            remove_set(pool->e[i].path, pool->n_dirs);
    pool->n = 0;
}

static void pools_drain_at_exit(void)
{
    pthread_mutex_lock(&pools_lock);
    for (struct sbx__cgroup_pool *p = pools; p; p = p->next) {
        drain_locked(p);
        p->closed = true;
    }
    pthread_mutex_unlock(&pools_lock);
}

static struct sbx__cgroup_pool *pool_new(size_t n_dirs)
{
    pthread_once(&pools_once, pools_init);
    struct sbx__cgroup_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return NULL;
    pool->refs = 1;
    pool->n_dirs = n_dirs;
    pthread_mutex_lock(&pools_lock);
    pool->next = pools;
    if (pools)
        pools->prev = pool;
    pools = pool;
    pthread_mutex_unlock(&pools_lock);
    return pool;
}

static void unref_locked(struct sbx__cgroup_pool *pool)
{
    if (--pool->refs)
        return;
    if (pool->prev)
        pool->prev->next = pool->next;
    else
        pools = pool->next;
    if (pool->next)
        pool->next->prev = pool->prev;
    free(pool);
}

/* The plan is freed: remove what is kept; children still running remove theirs. */
static void pool_close(struct sbx__cgroup_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pools_lock);
    drain_locked(pool);
    pool->closed = true;
    unref_locked(pool);
    pthread_mutex_unlock(&pools_lock);
}

/* A run takes a reference, and a kept set if there is one of this process's. */
static bool pool_take(struct sbx__cgroup_pool *pool, struct sbx__cgroup_run *run)
{
    bool took = false;
    pid_t self = getpid();
    pthread_mutex_lock(&pools_lock);
    pool->refs++;
    run->pool = pool;
    for (size_t i = pool->n; !took && i-- > 0;)
        if (pool->e[i].owner == self) {
            for (size_t d = 0; d < pool->n_dirs; d++)
                memcpy(run->cg[d].path, pool->e[i].path[d], SBX__CG_PATH_MAX);
            run->killed = pool->e[i].killed;
            run->pids_max = pool->e[i].pids_max;
            pool->e[i] = pool->e[--pool->n];
            took = true;
        }
    pthread_mutex_unlock(&pools_lock);
    return took;
}

/* Whether the ended child's cgroups may serve the next one (see above): what
 * its end told, without a system call. The memory charge it left is read when
 * they are taken (clean_taken()), off the ended child's way when the next
 * sandbox is prepared ahead. */
static bool reusable(const struct sbx__cgroup_run *run)
{
    if (run->oom || run->mem_hit || run->pids_hit || run->n != run->pool->n_dirs)
        return false;
    return run->mem_idx < 0 || (size_t)run->mem_idx >= run->n || !run->cg[run->mem_idx].v2;
}

/* Taken from the pool: whether the memory charge left in them is small enough,
 * and the next child's peak reset (v1 resets it to the current usage). If not,
 * they are removed, and the run makes its own. */
static bool clean_taken(struct sbx__cgroup_run *run, const struct sbx__cgroup_plan *cg)
{
    if (run->mem_idx < 0 || (size_t)run->mem_idx >= cg->n)
        return true;
    const char *dir = run->cg[run->mem_idx].path;
    char buf[64];
    uint64_t bound = run->mem_limit / 16 < POOL_RESIDUE ? run->mem_limit / 16 : POOL_RESIDUE;
    if (read_small(dir, "memory.usage_in_bytes", buf, sizeof(buf)) == 0 &&
        strtoull(buf, NULL, 10) <= bound && write_file(dir, "memory.max_usage_in_bytes", "0") == 0)
        return true;
    char path[SBX__CG_MAX][SBX__CG_PATH_MAX];
    for (size_t i = 0; i < cg->n; i++)
        memcpy(path[i], run->cg[i].path, SBX__CG_PATH_MAX);
    remove_set(path, cg->n);
    run->killed = false;
    run->pids_max = SBX_UNLIMITED;
    return false;
}

/* Keep the run's (empty) cgroups, or not; drop its reference either way. */
static bool pool_give(struct sbx__cgroup_run *run, bool empty)
{
    struct sbx__cgroup_pool *pool = run->pool;
    bool kept = false;
    if (!pool)
        return false;
    bool fits = empty && reusable(run);
    pthread_mutex_lock(&pools_lock);
    if (fits && !pool->closed && pool->n < POOL_MAX) {
        pool->e[pool->n].owner = getpid();
        pool->e[pool->n].killed = run->killed;
        pool->e[pool->n].pids_max = run->pids_max;
        for (size_t i = 0; i < run->n; i++)
            memcpy(pool->e[pool->n].path[i], run->cg[i].path, SBX__CG_PATH_MAX);
        pool->n++;
        kept = true;
    }
    unref_locked(pool);
    pthread_mutex_unlock(&pools_lock);
    run->pool = NULL;
    return kept;
}

static int write_file(const char *dir, const char *name, const char *value)
{
    char path[SBX__CG_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, value, strlen(value));
    int err = errno;
    close(fd);
    return n == (ssize_t)strlen(value) ? 0 : n < 0 ? -err : -EIO;
}

static int write_limit(const char *dir, const char *name, uint64_t value, bool optional)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
    int r = write_file(dir, name, buf);
    if (r == -ENOENT && optional)
        return 0;
    if (r < 0)
        return sbx__err_stage(SBX_STAGE_CGROUP, r, "cgroup: writing %s to %s/%s", buf, dir, name);
    return 0;
}

/* The CPU rate: QUOTA = millicpus x 100 us per period of SBX__CG_PERIOD_US. */
static int write_cpu_rate(const char *dir, bool v2, uint64_t millicpus)
{
    unsigned long long quota = (unsigned long long)millicpus * (SBX__CG_PERIOD_US / 1000);
    if (v2) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%llu %d", quota, SBX__CG_PERIOD_US);
        int r = write_file(dir, "cpu.max", buf);
        if (r < 0)
            return sbx__err_stage(SBX_STAGE_CGROUP, r, "cgroup: writing %s to %s/cpu.max", buf,
                                  dir);
        return 0;
    }
    /* The period first: the quota is checked against it. */
    int r = write_limit(dir, "cpu.cfs_period_us", SBX__CG_PERIOD_US, false);
    return r < 0 ? r : write_limit(dir, "cpu.cfs_quota_us", quota, false);
}

#ifdef SBX__HAVE_CLONE3_CALL
static int probe_exit(void *arg)
{
    (void)arg;
    _exit(0);
}
#endif

/* Whether a child cloned into a cgroup2 cgroup lives: once per process, with
 * the first one made (empty, never killed). Linux 6.18 kills such a child at
 * birth when the cgroup's kill count (cgroup.kill) differs from that of the
 * cloning process's own cgroup: a host in a cgroup that was killed before it
 * came (a restarted service) could clone into none. A host whose clone dies
 * therefore joins by cgroup.procs as before, and so does a child given a
 * kept cgroup that was killed (run->killed). A forked copy asks again (it
 * may be put in another cgroup); a host moved by someone else is not seen. */
static atomic_int clone_into_known; /* 0: not asked; 1: lives; -1: not */
static pthread_once_t clone_into_once = PTHREAD_ONCE_INIT;

static void clone_into_forget(void)
{
    atomic_store(&clone_into_known, 0);
}

static void clone_into_init(void)
{
    pthread_atfork(NULL, NULL, clone_into_forget);
}

static bool clone_into_lives(const char *dir)
{
    pthread_once(&clone_into_once, clone_into_init);
    int k = atomic_load(&clone_into_known);
    if (k)
        return k > 0;
    bool lives = false;
#ifdef SBX__HAVE_CLONE3_CALL
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        _Alignas(16) char stack[16384];
        sigset_t all, old; /* no host handler on that stack */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        struct clone_args args = {
            .flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP,
            .exit_signal = 0,
            .stack = (uint64_t)(uintptr_t)stack,
            .stack_size = sizeof(stack),
            .cgroup = (uint64_t)fd,
        };
        long pid = sbx__clone3_call(&args, sizeof(args), probe_exit, NULL);
        sbx__child_stack_released(stack, sizeof(stack));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        int status = 0;
        if (pid > 0) {
            while (waitpid((pid_t)pid, &status, __WALL) < 0 && errno == EINTR)
                ;
            lives = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        close(fd);
    }
#else
    (void)dir;
#endif
    atomic_store(&clone_into_known, lives ? 1 : -1);
    return lives;
}

int sbx__cgroup_prepare(const struct sbx__plan *plan, struct sbx__cgroup_run *run, bool reaper)
{
    run->n = 0;
    run->pool = NULL;
    const struct sbx__cgroup_plan *cg = plan->cgroup;
    if (!cg)
        return 0;
    static atomic_uint counter;
    unsigned seq = atomic_fetch_add(&counter, 1);
    char tag[SBX__OWNER_TAG_MAX];
    sbx__owner_tag(tag, sizeof(tag));
    run->kill_fd = -1;
    run->mem_idx = cg->mem_idx;
    run->pids_idx = cg->pids_idx;
    run->peak = 0;
    run->oom = run->mem_hit = run->pids_hit = run->killed = false;
    run->mem_limit = cg->memory;
    run->pids_max = SBX_UNLIMITED;
    run->pool = NULL;
    /* The library's init (pid 1 of a pid namespace, or the subreaper) is in
     * the cgroup too, and is not one of the program's processes. */
    uint64_t pids_max = cg->pids == SBX_UNLIMITED
                            ? SBX_UNLIMITED
                            : cg->pids + ((plan->ns && plan->ns->init) || reaper ? 1 : 0);
    /* Emptied cgroups of an earlier child: made and limited already. */
    bool kept = cg->pool && pool_take(cg->pool, run) && clean_taken(run, cg);
    int r = 0;
    for (size_t i = 0; i < cg->n; i++) {
        char *path = run->cg[i].path;
        run->cg[i].v2 = cg->dirs[i].v2;
        run->cg[i].ctl = cg->dirs[i].ctl;
        run->cg[i].procs_fd = -1;
        run->cg[i].at_clone = false;
        if (kept) {
            run->n = i + 1;
            /* kept by a child with the init, for one without, or the reverse */
            if ((int)i == cg->pids_idx && pids_max != SBX_UNLIMITED && run->pids_max != pids_max) {
                if ((r = write_limit(path, "pids.max", pids_max, false)) < 0)
                    goto fail;
                run->pids_max = pids_max;
            }
            goto open_procs;
        }
        snprintf(path, SBX__CG_PATH_MAX, "%s/agentsbx.%s.%u", cg->dirs[i].parent, tag, seq);
        if (mkdir(path, 0755) != 0) {
            r = sbx__err_stage(SBX_STAGE_CGROUP, -errno, "cgroup: mkdir(%s)", path);
            goto fail;
        }
        run->n = i + 1;
        bool v2 = cg->dirs[i].v2;
        if ((int)i == cg->mem_idx && cg->memory != SBX_UNLIMITED) {
            /* The memory limit first: v1 refuses memsw below it. No swap. */
            r = write_limit(path, v2 ? "memory.max" : "memory.limit_in_bytes", cg->memory, false);
            if (r == 0)
                r = v2 ? write_limit(path, "memory.swap.max", 0, true)
                       : write_limit(path, "memory.memsw.limit_in_bytes", cg->memory, true);
            if (r < 0)
                goto fail;
        }
        if ((int)i == cg->pids_idx && pids_max != SBX_UNLIMITED) {
            if ((r = write_limit(path, "pids.max", pids_max, false)) < 0)
                goto fail;
            run->pids_max = pids_max;
        }
        if ((int)i == cg->cpu_idx && cg->cpu_rate != SBX_UNLIMITED &&
            (r = write_cpu_rate(path, v2, cg->cpu_rate)) < 0)
            goto fail;
    open_procs:;
        char file[SBX__CG_PATH_MAX + 32];
        /* cgroup v1: the child moves itself (a thread group of one) through
         * "tasks": moving only the writing thread spares the kernel the global
         * threadgroup lock that a write to cgroup.procs takes for writing,
         * which waits for an RCU grace period (10-20 ms tails measured). */
        snprintf(file, sizeof(file), "%s/%s", path, cg->dirs[i].v2 ? "cgroup.procs" : "tasks");
        /* cgroup2: the child is cloned into it (sbx__cgroup_clone_fd()), which
         * takes that lock only for reading. */
        run->cg[i].at_clone = cg->dirs[i].v2 && !run->killed && sbx__cgroup_clone_fd(run) < 0 &&
                              clone_into_lives(path);
        run->cg[i].procs_fd = run->cg[i].at_clone ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                                  : open(file, O_WRONLY | O_CLOEXEC);
        if (run->cg[i].procs_fd < 0) {
            if (run->cg[i].at_clone)
                snprintf(file, sizeof(file), "%s", path);
            r = sbx__err_stage(SBX_STAGE_CGROUP, -errno, "cgroup: open(%s)", file);
            goto fail;
        }
        if (cg->dirs[i].v2 && run->kill_fd < 0) {
            snprintf(file, sizeof(file), "%s/cgroup.kill", path);
            run->kill_fd = open(file, O_WRONLY | O_CLOEXEC); /* Linux 5.14; else -1 */
        }
    }
    return 0;

fail:
    sbx__cgroup_finish(run, false);
    return r;
}

/* ---- the child ------------------------------------------------------------------ */

int sbx__cgroup_join(const struct sbx__cgroup_run *run, volatile int *index)
{
    int joined = 0;
    for (size_t i = 0; i < run->n; i++) {
        *index = (int)i;
        if (run->cg[i].at_clone)
            continue;
        if (write(run->cg[i].procs_fd, "0", 1) != 1)
            return -1;
        joined++;
    }
    return joined;
}

int sbx__cgroup_clone_fd(const struct sbx__cgroup_run *run)
{
    for (size_t i = 0; i < run->n; i++)
        if (run->cg[i].at_clone)
            return run->cg[i].procs_fd;
    return -1;
}

void sbx__cgroup_clone_refused(struct sbx__cgroup_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        struct sbx__cgroup_dir_run *d = &run->cg[i];
        if (!d->at_clone)
            continue;
        int fd = openat(d->procs_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        close(d->procs_fd);
        d->procs_fd = fd;
        d->at_clone = false;
    }
}

/* ---- after the child ------------------------------------------------------------ */

void sbx__cgroup_close_procs(struct sbx__cgroup_run *run)
{
    for (size_t i = 0; i < run->n; i++)
        if (run->cg[i].procs_fd >= 0) {
            close(run->cg[i].procs_fd);
            run->cg[i].procs_fd = -1;
        }
}

static bool parse_key(const char *text, const char *key, uint64_t *value);

/* SIGKILL every id listed in dir/file (do_kill), or count them. A thread id
 * is as good as a process id to kill(2): the signal goes to the whole thread
 * group, so listing threads (cgroup.threads, v1 tasks) also reaches a live
 * thread whose group leader has exited. */
static size_t ids_pass(const char *dir, const char *file, bool do_kill)
{
    char path[SBX__CG_PATH_MAX + 32], buf[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t found = 0, carry = 0;
    for (;;) {
        ssize_t n = read(fd, buf + carry, sizeof(buf) - 1 - carry);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t len = carry + (size_t)n;
        buf[len] = '\0';
        char *p = buf, *nl;
        while ((nl = strchr(p, '\n'))) {
            long pid = strtol(p, NULL, 10);
            if (pid > 0) {
                found++;
                if (do_kill)
                    kill((pid_t)pid, SIGKILL);
            }
            p = nl + 1;
        }
        carry = len - (size_t)(p - buf);
        memmove(buf, p, carry);
    }
    close(fd);
    return found;
}

/* Whether anything is left in a cgroup: v2 says so itself (cgroup.events
 * "populated", which counts every thread of every live task, dying ones
 * included); v1 lists its threads in "tasks". */
static bool populated(const struct sbx__cgroup_dir_run *d)
{
    if (d->v2) {
        char buf[256];
        uint64_t v = 1;
        if (read_small(d->path, "cgroup.events", buf, sizeof(buf)) == 0 &&
            parse_key(buf, "populated", &v))
            return v != 0;
        return ids_pass(d->path, "cgroup.threads", false) > 0 ||
               ids_pass(d->path, "cgroup.procs", false) > 0;
    }
    return ids_pass(d->path, "tasks", false) > 0;
}

void sbx__cgroup_kill(struct sbx__cgroup_run *run)
{
    if (run->n == 0)
        return;
    /* cgroup.kill (Linux 5.14) kills atomically against forks, but misses a
     * process whose thread-group leader has exited while a thread lives on
     * (seen on Linux 6.18: tests/live/test_cgroup.c, zombie_leader_...), and
     * cgroup v1 has none. So every process listed is killed as well; finish
     * repeats this until nothing is left (a fork racing a pass is caught by
     * the next one). An empty cgroup is not killed: the kill would count
     * against the cgroup for good (see clone_into_lives()); nothing enters it
     * but by a fork of what is in it. */
    size_t v2 = 0;
    while (v2 < run->n && !run->cg[v2].v2)
        v2++;
    if (run->kill_fd >= 0 && v2 < run->n && populated(&run->cg[v2])) {
        (void)!write(run->kill_fd, "1", 1);
        run->killed = true;
    }
    for (size_t i = 0; i < run->n; i++)
        ids_pass(run->cg[i].path, "cgroup.procs", true);
}

static bool parse_key(const char *text, const char *key, uint64_t *value)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            *value = strtoull(p + kl + 1, NULL, 10);
            return true;
        }
    return false;
}

static void read_stats(struct sbx__cgroup_run *run)
{
    char buf[1024];
    uint64_t v = 0;
    if (run->pids_idx >= 0 && (size_t)run->pids_idx < run->n &&
        read_small(run->cg[run->pids_idx].path, "pids.events", buf, sizeof(buf)) == 0 &&
        parse_key(buf, "max", &v)) /* forks refused at pids.max (v1 and v2) */
        run->pids_hit = v > 0;
    if (run->mem_idx < 0 || (size_t)run->mem_idx >= run->n)
        return;
    const char *dir = run->cg[run->mem_idx].path;
    if (run->cg[run->mem_idx].v2) {
        if (read_small(dir, "memory.peak", buf, sizeof(buf)) == 0) /* Linux 5.19 */
            run->peak = strtoull(buf, NULL, 10);
        if (read_small(dir, "memory.events", buf, sizeof(buf)) == 0 &&
            parse_key(buf, "oom_kill", &v))
            run->oom = run->mem_hit = v > 0;
        return;
    }
    if (read_small(dir, "memory.max_usage_in_bytes", buf, sizeof(buf)) == 0)
        run->peak = strtoull(buf, NULL, 10);
    if (read_small(dir, "memory.oom_control", buf, sizeof(buf)) == 0 &&
        parse_key(buf, "oom_kill", &v)) /* Linux 4.13 */
        run->oom = run->mem_hit = v > 0;
    else if (read_small(dir, "memory.failcnt", buf, sizeof(buf)) == 0)
        run->oom = run->mem_hit = strtoull(buf, NULL, 10) > 0; /* with SIGKILL only (result.c) */
}

void sbx__cgroup_finish(struct sbx__cgroup_run *run, bool empty)
{
    if (run->n == 0) {
        pool_give(run, false); /* a spawn that failed before its first cgroup */
        return;
    }
    sbx__cgroup_close_procs(run);
    uint64_t until = sbx__now_ns() + FINISH_NS;
    useconds_t nap = 100;
    while (!empty) { /* kill until every cgroup is empty */
        bool left = false;
        for (size_t i = 0; i < run->n && !left; i++)
            left = populated(&run->cg[i]);
        empty = !left;
        if (!left || sbx__now_ns() >= until)
            break;
        sbx__cgroup_kill(run);
        usleep(nap);
        if (nap < 20000)
            nap *= 2;
    }
    read_stats(run);
    if (run->kill_fd >= 0)
        close(run->kill_fd);
    run->kill_fd = -1;
    if (pool_give(run, empty)) {
        run->n = 0;
        return;
    }
    nap = 100;
    for (size_t i = run->n; i-- > 0;) {
        /* A task that has exited can stay counted for a moment (v1): retry. */
        while (rmdir(run->cg[i].path) != 0 && errno == EBUSY && sbx__now_ns() < until) {
            usleep(nap);
            if (nap < 20000)
                nap *= 2;
        }
    }
    run->n = 0;
}

/* ---- the layer ------------------------------------------------------------------ */

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    to->use_cgroup = from->use_cgroup;
    to->no_cgroup = from->no_cgroup;
    for (size_t i = 0; i < from->n_cg_parents; i++) {
        if (!(to->cg_parents[i] = strdup(from->cg_parents[i])))
            return -ENOMEM;
        to->n_cg_parents++;
    }
    return 0;
}

static void plan_free(struct sbx__plan *plan)
{
    if (plan->cgroup)
        pool_close(plan->cgroup->pool);
    free(plan->cgroup);
}

static int prepare(struct sbx__spawn *s)
{
    /* no system call without a cgroup */
    return sbx__cgroup_prepare(s->plan, &s->child->cg, s->reaper);
}

static void launched(struct sbx__spawn *s)
{
    sbx__cgroup_close_procs(&s->child->cg);
}

static void abort_spawn(struct sbx__spawn *s)
{
    /* the child, if any, is reaped: kill stragglers, rmdir */
    sbx__cgroup_finish(&s->child->cg, false);
}

/* Everything in the cgroups of a child with a pid namespace is in that
 * namespace: the child joined them as its init (or was cloned into them), and
 * all else descends from it. The kernel kills the namespace with its init. */
static bool in_pid_ns(const sbx_child *child)
{
    return child->tree_kill == SBX_TREE_KILL_PIDNS;
}

static void kill_child(sbx_child *child)
{
    /* what left the process group (setsid); in a pid namespace the init's
     * SIGKILL reaches them all */
    if (!in_pid_ns(child))
        sbx__cgroup_kill(&child->cg);
}

static void finish(sbx_child *child)
{
    /* kill what is left, wait for it, read usage, rmdir; nothing is left once
     * the init is reaped (the kernel reaped its namespace before it ended) */
    bool reaped = child->state == SBX__REAPED || child->state == SBX__LOST;
    sbx__cgroup_finish(&child->cg, in_pid_ns(child) && reaped);
}

const struct sbx__layer sbx__layer_cgroup = {
    .name = "cgroup",
    .policy_free = sbx__cgroup_policy_free,
    .policy_dup = policy_dup,
    .compile = sbx__cgroup_compile,
    .plan_free = plan_free,
    .prepare = prepare,
    .launched = launched,
    .abort = abort_spawn,
    .kill = kill_child,
    .finish = finish,
};
