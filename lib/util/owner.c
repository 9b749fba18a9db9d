/* Who made a thing: the tag in the names of what the library creates on the
 * host (private TMPDIRs, cgroups), and how to tell that its maker is dead, so
 * that a later process can remove what a killed host left behind. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct owner {
    pid_t pid;                /* 0: not read yet */
    unsigned long long start; /* clock ticks since boot; 0: unknown (never swept) */
    unsigned long long ns;    /* inode of the pid namespace; 0: unknown */
};

pthread_mutex_t sbx__owner_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t sbx__sweep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct owner self_owner;
static pthread_once_t locks_once = PTHREAD_ONCE_INIT;

/* The helper thread names TMPDIRs and cgroups (owner_self()) while it
 * prepares a sandbox: a fork of the host must not inherit these taken. */
static void register_locks(void)
{
    sbx__fork_safe(&sbx__owner_lock);
    sbx__fork_safe(&sbx__sweep_lock);
}

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
    pthread_once(&locks_once, register_locks);
    pthread_mutex_lock(&sbx__owner_lock);
    if (self_owner.pid != getpid()) {
        bool missing;
        struct stat st;
        self_owner.pid = getpid();
        self_owner.start = start_time("/proc/self/stat", &missing);
        self_owner.ns = stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long long)st.st_ino : 0;
    }
    struct owner o = self_owner;
    pthread_mutex_unlock(&sbx__owner_lock);
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

bool sbx__first_sweep(const char *dir)
{
    static char swept[16][256];
    static size_t n_swept;
    static pid_t swept_by;
    pthread_once(&locks_once, register_locks);
    pthread_mutex_lock(&sbx__sweep_lock);
    if (swept_by != getpid()) {
        swept_by = getpid();
        n_swept = 0;
    }
    bool done = false;
    for (size_t i = 0; i < n_swept && !done; i++)
        done = strcmp(swept[i], dir) == 0;
    if (!done && n_swept < sizeof(swept) / sizeof(swept[0]))
        snprintf(swept[n_swept++], sizeof(swept[0]), "%s", dir);
    pthread_mutex_unlock(&sbx__sweep_lock);
    return !done;
}
