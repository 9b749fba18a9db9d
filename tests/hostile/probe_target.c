/* probe_target: act on another process, named by its pid, with the calls that
 * take a pid and change (or read) that process, and on itself and its own
 * child for comparison.
 *
 *   probe_target PID OP...
 *
 * Each OP runs in a forked process (so that what it does to the probe itself
 * stays there) and prints one line, "OP RESULT": "OK" when the call
 * succeeded, or the errno name it failed with ("EPERM", "ESRCH"). Unlike
 * probe_syscall, the calls on PID are real: run unconfined against a process
 * of the same user they change it, which is what the control shows.
 *
 * On PID:
 *   prlimit_cpu       prlimit(PID, RLIMIT_CPU, {1, 1}): a process that has
 *                     used a second of CPU is killed at once
 *   setpriority       setpriority(PRIO_PROCESS, PID, 19)
 *   setpriority_pgrp  setpriority(PRIO_PGRP, PID, 19) (PID leads its group)
 *   ioprio            ioprio_set(IOPRIO_WHO_PROCESS, PID, idle class)
 *   ioprio_pgrp       ioprio_set(IOPRIO_WHO_PGRP, PID, idle class)
 *   affinity          sched_setaffinity(PID) to the lowest CPU it may use
 *   setscheduler      sched_setscheduler(PID, SCHED_IDLE)
 *   setparam          sched_setparam(PID, priority 0)
 *   setattr           sched_setattr(PID, SCHED_BATCH, nice 10)
 *   migrate_pages     migrate_pages(PID) from node 0 to node 0
 *   move_pages        move_pages(PID) of no page (the permission check only)
 *   robust_list       get_robust_list(PID)
 *   kill              kill(PID, 0)
 *   tgkill            tgkill(PID, PID, 0)
 *   sigqueue          rt_sigqueueinfo(PID, 0, SI_QUEUE)
 *   tgsigqueue        rt_tgsigqueueinfo(PID, PID, 0, SI_QUEUE)
 *   pidfd_open        pidfd_open(PID)
 *   pidfd_signal      pidfd_send_signal(pidfd_open(PID), 0)
 *   process_mrelease  process_mrelease(pidfd_open(PID)): EINVAL unless PID is
 *                     already being killed
 *   sigio             a pipe that sends SIGTERM to PID when it is written
 *                     (F_SETOWN, F_SETSIG, O_ASYNC), then written: OK means
 *                     every call succeeded; whether PID got the signal is
 *                     for the caller to see
 * On itself (PID is not used):
 *   self_prlimit      prlimit(getpid(), RLIMIT_NOFILE) read: its own pid, explicitly
 *   zero_prlimit      prlimit(0, RLIMIT_CPU) read, and set to the same
 *   zero_setpriority  setpriority(PRIO_PROCESS, 0, 19)
 *   pgrp_setpriority  setpriority(PRIO_PGRP, 0, 19), in a new process group
 *   zero_ioprio       ioprio_set(IOPRIO_WHO_PROCESS, 0, best effort 4)
 *   pgrp_ioprio       ioprio_set(IOPRIO_WHO_PGRP, 0, best effort 4), in a new group
 *   zero_affinity     sched_setaffinity(0) to the mask it has
 *   zero_setscheduler sched_setscheduler(0, SCHED_BATCH)
 *   zero_setparam     sched_setparam(0, priority 0)
 *   zero_setattr      sched_setattr(0, SCHED_OTHER, nice 19)
 *   zero_robust_list  get_robust_list(0)
 *   child_prlimit     prlimit(CHILD, RLIMIT_NOFILE) read, CHILD a process it forked
 *   wait              (not forked) read standard input to its end: the caller
 *                     looks at PID meanwhile
 * Exit 0, or 2 on bad usage. Does not link the library. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif
#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif

#define IOPRIO_WHO_PROCESS        1
#define IOPRIO_WHO_PGRP           2
#define IOPRIO_VALUE(class, data) (((class) << 13) | (data))
#define IOPRIO_CLASS_BE           2
#define IOPRIO_CLASS_IDLE         3

struct sched_attr_v0 { /* SCHED_ATTR_SIZE_VER0 */
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
};

static long setattr(pid_t pid, uint32_t policy, int nice)
{
    struct sched_attr_v0 a = {.size = sizeof(a), .sched_policy = policy, .sched_nice = nice};
    return syscall(SYS_sched_setattr, pid, &a, 0);
}

static long sigqueue_info(pid_t pid, bool thread)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    if (thread)
        return syscall(SYS_rt_tgsigqueueinfo, pid, pid, 0, &si);
    return syscall(SYS_rt_sigqueueinfo, pid, 0, &si);
}

static long lowest_cpu(pid_t pid)
{
    cpu_set_t set;
    if (sched_getaffinity(pid, sizeof(set), &set) != 0)
        return -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            return sched_setaffinity(pid, sizeof(one), &one);
        }
    errno = EINVAL;
    return -1;
}

static long same_affinity(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return -1;
    return sched_setaffinity(0, sizeof(set), &set);
}

static long sigio(pid_t pid)
{
    int p[2];
    if (pipe(p) != 0 || fcntl(p[0], F_SETOWN, pid) != 0 || fcntl(p[0], F_SETSIG, SIGTERM) != 0 ||
        fcntl(p[0], F_SETFL, O_ASYNC) != 0)
        return -1;
    return write(p[1], "x", 1) == 1 ? 0 : -1;
}

static long child_prlimit(void)
{
    pid_t c = fork();
    if (c < 0)
        return -1;
    if (c == 0) {
        pause();
        _exit(0);
    }
    struct rlimit r;
    long ret = syscall(SYS_prlimit64, c, RLIMIT_NOFILE, NULL, &r);
    int err = errno;
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    errno = err;
    return ret;
}

static long with_pidfd(pid_t pid, int what)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 || what == 0)
        return fd;
    if (what == 1)
        return syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0);
    return syscall(SYS_process_mrelease, fd, 0);
}

/* -2 with errno 0: no such op. */
static long try(const char *op, pid_t pid)
{
    struct rlimit r = {1, 1};
    struct sched_param zero = {0};
    unsigned long nodes = 1; /* node 0 */
    void *head;
    size_t len;
    if (!strcmp(op, "prlimit_cpu"))
        return syscall(SYS_prlimit64, pid, RLIMIT_CPU, &r, NULL);
    if (!strcmp(op, "setpriority"))
        return setpriority(PRIO_PROCESS, (id_t)pid, 19);
    if (!strcmp(op, "setpriority_pgrp"))
        return setpriority(PRIO_PGRP, (id_t)pid, 19);
    if (!strcmp(op, "ioprio"))
        return syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, pid, IOPRIO_VALUE(IOPRIO_CLASS_IDLE, 0));
    if (!strcmp(op, "ioprio_pgrp"))
        return syscall(SYS_ioprio_set, IOPRIO_WHO_PGRP, pid, IOPRIO_VALUE(IOPRIO_CLASS_IDLE, 0));
    if (!strcmp(op, "affinity"))
        return lowest_cpu(pid);
    if (!strcmp(op, "setscheduler"))
        return sched_setscheduler(pid, SCHED_IDLE, &zero);
    if (!strcmp(op, "setparam"))
        return sched_setparam(pid, &zero);
    if (!strcmp(op, "setattr"))
        return setattr(pid, SCHED_BATCH, 10);
    if (!strcmp(op, "migrate_pages"))
        return syscall(SYS_migrate_pages, pid, 8 * sizeof(nodes) + 1, &nodes, &nodes);
    if (!strcmp(op, "move_pages"))
        return syscall(SYS_move_pages, pid, 0, NULL, NULL, NULL, 0);
    if (!strcmp(op, "robust_list"))
        return syscall(SYS_get_robust_list, pid, &head, &len);
    if (!strcmp(op, "kill"))
        return kill(pid, 0);
    if (!strcmp(op, "tgkill"))
        return syscall(SYS_tgkill, pid, pid, 0);
    if (!strcmp(op, "sigqueue"))
        return sigqueue_info(pid, false);
    if (!strcmp(op, "tgsigqueue"))
        return sigqueue_info(pid, true);
    if (!strcmp(op, "pidfd_open"))
        return with_pidfd(pid, 0);
    if (!strcmp(op, "pidfd_signal"))
        return with_pidfd(pid, 1);
    if (!strcmp(op, "process_mrelease"))
        return with_pidfd(pid, 2);
    if (!strcmp(op, "sigio"))
        return sigio(pid);
    if (!strcmp(op, "self_prlimit"))
        return syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &r);
    if (!strcmp(op, "zero_prlimit")) {
        if (syscall(SYS_prlimit64, 0, RLIMIT_CPU, NULL, &r) != 0)
            return -1;
        return syscall(SYS_prlimit64, 0, RLIMIT_CPU, &r, NULL);
    }
    if (!strcmp(op, "zero_setpriority"))
        return setpriority(PRIO_PROCESS, 0, 19);
    if (!strcmp(op, "pgrp_setpriority"))
        return setpgid(0, 0) != 0 ? -1 : setpriority(PRIO_PGRP, 0, 19);
    if (!strcmp(op, "zero_ioprio"))
        return syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_VALUE(IOPRIO_CLASS_BE, 4));
    if (!strcmp(op, "pgrp_ioprio"))
        return setpgid(0, 0) != 0
                   ? -1
                   : syscall(SYS_ioprio_set, IOPRIO_WHO_PGRP, 0, IOPRIO_VALUE(IOPRIO_CLASS_BE, 4));
    if (!strcmp(op, "zero_affinity"))
        return same_affinity();
    if (!strcmp(op, "zero_setscheduler"))
        return sched_setscheduler(0, SCHED_BATCH, &zero);
    if (!strcmp(op, "zero_setparam"))
        return sched_setparam(0, &zero);
    if (!strcmp(op, "zero_setattr"))
        return setattr(0, SCHED_OTHER, 19);
    if (!strcmp(op, "zero_robust_list"))
        return syscall(SYS_get_robust_list, 0, &head, &len);
    if (!strcmp(op, "child_prlimit"))
        return child_prlimit();
    errno = 0;
    return -2;
}

static int run(const char *op, pid_t pid)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    pid_t c = fork();
    if (c < 0)
        return -1;
    if (c == 0) {
        close(pipefd[0]);
        errno = 0;
        long r = try(op, pid);
        char line[64];
        if (r == -2 && errno == 0)
            snprintf(line, sizeof(line), "unknown-op");
        else if (r >= 0)
            snprintf(line, sizeof(line), "OK");
        else
            snprintf(line, sizeof(line), "%s",
                     strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
        _exit(write(pipefd[1], line, strlen(line)) < 0 ? 2 : 0);
    }
    close(pipefd[1]);
    char buf[64];
    ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
    close(pipefd[0]);
    int status;
    waitpid(c, &status, 0);
    buf[n > 0 ? n : 0] = '\0';
    if (WIFSIGNALED(status))
        snprintf(buf, sizeof(buf), "%s", sigabbrev_np(WTERMSIG(status)));
    printf("%s %s\n", op, buf);
    fflush(stdout);
    return strcmp(buf, "unknown-op") ? 0 : 2;
}

int main(int argc, char **argv)
{
    char *end;
    long pid = argc > 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc < 3 || *end || pid <= 0) {
        fprintf(stderr, "usage: probe_target PID OP...\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "wait")) {
            char buf[256];
            while (read(0, buf, sizeof(buf)) > 0)
                ;
            printf("wait done\n");
            fflush(stdout);
            continue;
        }
        int r = run(argv[i], (pid_t)pid);
        if (r != 0)
            return r < 0 ? 1 : r;
    }
    return 0;
}
