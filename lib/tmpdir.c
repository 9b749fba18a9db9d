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

#include "internal.h"

/* ---- the owner tag ------------------------------------------------------------ */

struct owner {
    pid_t pid;                /* 0: not read yet */
    unsigned long long start; /* clock ticks since boot; 0: unknown (never swept) */
    unsigned long long ns;    /* inode of the pid namespace; 0: unknown */
};

static pthread_mutex_t owner_lock = PTHREAD_MUTEX_INITIALIZER;
static struct owner self_owner;

/* The start time of a process (field 22 of /proc/PID/stat), or 0. */
static unsigned long long start_time(const char *stat_path, bool *missing)
{
    char buf[1024];
    *missing = false;
    int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *missing = errno == ENOENT || errno == ESRCH;
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) /* p is before field `field` */
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* This process's tag, read again after a fork. */
static struct owner owner_self(void)
{
    pthread_mutex_lock(&owner_lock);
    if (self_owner.pid != getpid()) {
        bool missing;
        struct stat st;
        self_owner.pid = getpid();
        self_owner.start = start_time("/proc/self/stat", &missing);
        self_owner.ns = stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long long)st.st_ino : 0;
    }
    struct owner o = self_owner;
    pthread_mutex_unlock(&owner_lock);
    return o;
}

int sbx__owner_tag(char *buf, size_t size)
{
    struct owner o = owner_self();
    return snprintf(buf, size, "%d.%llu.%llu", (int)o.pid, o.start, o.ns);
}

bool sbx__owner_dead(const char *tag)
{
    int pid = 0, end = 0;
    unsigned long long start = 0, ns = 0;
    if (sscanf(tag, "%d.%llu.%llu.%n", &pid, &start, &ns, &end) != 3 || end == 0 || pid <= 0 ||
        start == 0 || ns == 0)
        return false;
    struct owner self = owner_self();
    if (ns != self.ns) /* another pid namespace: its pids mean nothing here */
        return false;
    if (pid == self.pid)
        return start != self.start;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    bool missing;
    unsigned long long now = start_time(path, &missing);
    return missing || (now != 0 && now != start);
}

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

bool sbx__first_sweep(const char *dir)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char swept[16][SBX__CG_PARENT_MAX + 1];
    static size_t n_swept;
    static pid_t swept_by;
    pthread_mutex_lock(&lock);
    if (swept_by != getpid()) {
        swept_by = getpid();
        n_swept = 0;
    }
    bool done = false;
    for (size_t i = 0; i < n_swept && !done; i++)
        done = strcmp(swept[i], dir) == 0;
    if (!done && n_swept < sizeof(swept) / sizeof(swept[0]))
        snprintf(swept[n_swept++], sizeof(swept[0]), "%s", dir);
    pthread_mutex_unlock(&lock);
    return !done;
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
