/* Private TMPDIRs, and what a killed host leaves behind.
 *
 * One owner for the private temporary directory: where it goes (chosen when
 * the policy is compiled, so that a memory limit also bounds it), what it is
 * named, how it is removed, and the removal of the ones a host that was killed
 * could not remove.
 *
 * Names carry their owner: "agentsbx.<pid>.<start>.<pidns>." (the host's pid,
 * its start time in clock ticks since boot, and the inode of its pid
 * namespace), then a random suffix. Another host (or the same one, after a
 * SIGKILL) recognises an entry whose owner is dead: no process of that pid in
 * its own pid namespace, or one that started at another time (the pid was
 * reused). It removes such entries once per process and directory, when it
 * first compiles a policy that uses the directory. An entry of a live owner, of
 * another pid namespace, of another user, or with another name (0.1's
 * "agentsbx.XXXXXX") is never touched. Cgroups (cgroup.c) use the same tag. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "layer.h"

/* ---- removal -------------------------------------------------------------------- */

/* Remove everything inside the directory open at dirfd, never following a
 * link: each level is entered with openat(O_NOFOLLOW|O_DIRECTORY) relative to
 * its parent's descriptor, so a process that swaps a directory for a symbolic
 * link while this runs cannot redirect the removal outside the tree. */
static void remove_inside(int dirfd, int depth)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd, de->d_name, 0) == 0 || errno != EISDIR)
            continue;
        int sub = depth < 128
                      ? openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                      : -1;
        if (sub >= 0)
            remove_inside(sub, depth + 1);
        unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

void sbx__tmpdir_remove(char *tmpdir)
{
    if (!tmpdir[0])
        return;
    if (rmdir(tmpdir) == 0 || errno == ENOENT) { /* most children leave it empty */
        tmpdir[0] = '\0';
        return;
    }
    int fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        remove_inside(fd, 0);
    rmdir(tmpdir);
    tmpdir[0] = '\0';
}

/* Remove the TMPDIRs in parent whose owner is dead (see the top). */
static void sweep(const char *parent)
{
    int dirfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return;
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return;
    }
    uid_t me = geteuid();
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (strncmp(de->d_name, "agentsbx.", 9) != 0 || !sbx__owner_dead(de->d_name + 9) ||
            fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != me)
            continue;
        int fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            remove_inside(fd, 0);
        unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

void sbx__tmpdir_sweep_once(const char *parent)
{
    if (sbx__first_sweep(parent))
        sweep(parent);
}

/* ---- where: compiling ------------------------------------------------------------- */

static bool in_memory(const char *dir)
{
    struct statfs fs;
    return statfs(dir, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

/* Where TMPDIRs go unless the host says: /dev/shm when it is a tmpfs of at
 * least 1 GiB that this process can write (creating and removing a directory
 * there costs microseconds, where a journalled disk file system's can cost a
 * hundred or more on every spawn), else /tmp. Small /dev/shm mounts, such as a
 * container's default 64 MiB, are not used. */
static const char *fast_parent(void)
{
    struct statfs fs;
    if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
        (uint64_t)fs.f_blocks * (uint64_t)fs.f_bsize >= (1ull << 30) &&
        access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    return "/tmp";
}

/* A directory on a disk that this process can write, for a TMPDIR that must
 * not hold memory; NULL if there is none. */
static const char *disk_parent(void)
{
    static const char *const candidates[] = {"/var/tmp", "/tmp"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (!in_memory(candidates[i]) && access(candidates[i], W_OK | X_OK) == 0)
            return candidates[i];
    return NULL;
}

int sbx__tmp_compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    struct sbx__landlock_plan *ll = plan->landlock;
    plan->mechanism[SBX_LIMIT_TMP] = SBX_MECHANISM_NONE;
    if (!ll || !ll->private_tmp)
        return 0;
    bool limited = policy->limits[SBX__LIMIT_MEMORY] != SBX_UNLIMITED;
    if (plan->ns && plan->ns->mount_view) {
        /* The view's own tmpfs, sized by the memory limit (view.c): no host directory. */
        if (limited)
            plan->mechanism[SBX_LIMIT_TMP] = SBX_MECHANISM_TMPFS;
        return 0;
    }
    const char *parent = policy->tmp_parent ? policy->tmp_parent : fast_parent();
    if (limited) {
        if (plan->mechanism[SBX_LIMIT_MEMORY] == SBX_MECHANISM_CGROUP) {
            /* A tmpfs page is charged to the cgroup of the process that wrote it. */
            plan->mechanism[SBX_LIMIT_TMP] = SBX_MECHANISM_CGROUP;
        } else if (!in_memory(parent)) {
            plan->mechanism[SBX_LIMIT_TMP] = SBX_MECHANISM_DISK;
        } else if (!policy->tmp_parent && disk_parent()) {
            parent = disk_parent();
            plan->mechanism[SBX_LIMIT_TMP] = SBX_MECHANISM_DISK;
        } else if (!(policy->best_effort & SBX_LAYER_RLIMITS)) {
            return sbx__err_stage(
                SBX_STAGE_COMPILE, -EOPNOTSUPP,
                "memory limit: the private TMPDIR would be in %s, which is memory outside the "
                "limit (and no disk directory is writable here); use a cgroup (sbx_use_cgroup), a "
                "mount namespace (sbx_unshare with SBX_NS_MOUNT), a TMPDIR parent on a disk "
                "(sbx_set_tmp_parent), no private TMPDIR (sbx_set_private_tmp), or mark "
                "SBX_LAYER_RLIMITS best-effort to run with it unbounded",
                parent);
        }
    }
    snprintf(ll->tmp_parent, sizeof(ll->tmp_parent), "%s", parent);
    if (sbx__first_sweep(ll->tmp_parent))
        sweep(ll->tmp_parent);
    return 0;
}

/* ---- making one: the spawn -------------------------------------------------------- */

int sbx__tmpdir_create(const char *parent, char *out)
{
    char tag[SBX__OWNER_TAG_MAX];
    sbx__owner_tag(tag, sizeof(tag));
    snprintf(out, SBX__TMPDIR_MAX, "%s/agentsbx.%s.XXXXXX", parent, tag);
    if (!mkdtemp(out)) {
        int e = errno;
        out[0] = '\0';
        return -e;
    }
    return 0;
}

/* ---- the layer ------------------------------------------------------------------ */

static void policy_free(sbx_policy *policy)
{
    free(policy->tmp_parent);
    policy->tmp_parent = NULL;
}

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    to->private_tmp = from->private_tmp;
    if (from->tmp_parent && !(to->tmp_parent = strdup(from->tmp_parent)))
        return -ENOMEM;
    return 0;
}

/* A spawn: the directory, writable under the child's Landlock ruleset. In a
 * mount view, TMPDIR is the view's own /tmp instead (namespace.c). */
static int prepare(struct sbx__spawn *s)
{
    const struct sbx__plan *plan = s->plan;
    const struct sbx__landlock_plan *ll = plan->landlock;
    if (plan->ns && plan->ns->mount_view) {
        s->tmpdir_env = plan->ns->tmp_access ? "/tmp" : NULL;
        return 0;
    }
    if (!ll || !ll->private_tmp)
        return 0;
    int fd = -1;
    int r = sbx__tmpdir_create(ll->tmp_parent, s->tmpdir);
    if (r < 0 || (fd = open(s->tmpdir, O_PATH | O_CLOEXEC)) < 0) {
        r = sbx__err_stage(SBX_STAGE_LANDLOCK, r < 0 ? r : -errno,
                           "creating the private TMPDIR in %s", ll->tmp_parent);
        sbx__tmpdir_remove(s->tmpdir);
        return r;
    }
    r = s->ruleset >= 0 ? sbx__landlock_add_path(s->ruleset, fd, plan->fs.tmp) : 0;
    int err = errno;
    close(fd);
    if (r != 0) {
        r = sbx__err_stage(SBX_STAGE_LANDLOCK, -err, "landlock_add_rule(%s)", s->tmpdir);
        sbx__tmpdir_remove(s->tmpdir);
        return r;
    }
    s->tmpdir_env = s->tmpdir;
    return 0;
}

static int adopt(struct sbx__spawn *s)
{
    memcpy(s->child->tmpdir, s->tmpdir, sizeof(s->tmpdir));
    s->tmpdir[0] = '\0';
    return 0;
}

static void abort_spawn(struct sbx__spawn *s)
{
    sbx__tmpdir_remove(s->tmpdir);
}

static void finish(sbx_child *child)
{
    sbx__tmpdir_remove(child->tmpdir);
}

const struct sbx__layer sbx__layer_tmp = {
    .name = "tmp",
    .policy_free = policy_free,
    .policy_dup = policy_dup,
    .compile = sbx__tmp_compile,
    .prepare = prepare,
    .adopt = adopt,
    .abort = abort_spawn,
    .finish = finish,
};
