/* probe_cgroup MODE ARG: escapes and bombs for the cgroup layer.
 *   escape FILE  double-fork: a grandchild in a new session (setsid) writes
 *                its pid to FILE and sleeps, ignoring SIGTERM; the middle
 *                process exits; the main process sleeps 60 s. Prints "started".
 *   memfd MIB    memfd_create, then grow it 1 MiB at a time with ftruncate and
 *                write until MIB MiB are held or a call fails; prints
 *                "memfd_mib=N errno=NAME" (NAME "none" when all succeeded).
 *   burn MS [CPU_MS]
 *                fork once; both processes spin on the CPU until MS ms of wall
 *                time have passed since the start and, with CPU_MS, until each
 *                has used CPU_MS ms of CPU time (at most 10 x MS of wall time:
 *                a control that must burn that much on a loaded machine); the
 *                main process reaps the other (so the result's CPU time counts
 *                both). Prints "burned".
 *   leave FILE   as escape, but the main process exits 0 as soon as the
 *                grandchild has written FILE (within 5 s; else it exits 1).
 *   zombie FILE  as escape, but the grandchild's main thread exits alone
 *                (a zombie thread-group leader) after starting a thread that
 *                writes its thread id to FILE and sleeps; the main process
 *                does the same (its own thread sleeps 60 s): what is left of
 *                each is a live thread behind a zombie leader.
 *   fill MIB     write MIB MiB into $TMPDIR/fill, 1 MiB at a time, until done or
 *                a write fails; prints "fill_mib=N errno=NAME memory=M", M being
 *                1 when $TMPDIR is on a tmpfs or ramfs (its pages are memory).
 * Exit 0, 1 on a set-up failure, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static int escape(const char *file, bool leave)
{
    pid_t mid = fork();
    if (mid < 0)
        return 1;
    if (mid == 0) {
        setsid();
        pid_t gc = fork();
        if (gc == 0) {
            signal(SIGTERM, SIG_IGN);
            signal(SIGHUP, SIG_IGN);
            char buf[32];
            int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
            int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0 || write(fd, buf, (size_t)n) != n)
                _exit(1);
            close(fd);
            for (;;)
                pause();
        }
        _exit(gc < 0);
    }
    waitpid(mid, NULL, 0);
    if (leave) {
        for (int i = 0; i < 500 && access(file, F_OK) != 0; i++)
            usleep(10000);
        return access(file, F_OK) != 0;
    }
    printf("started\n");
    fflush(stdout);
    signal(SIGTERM, SIG_IGN);
    sleep(60);
    return 0;
}

static void *write_tid_and_sleep(void *file)
{
    if (file) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d\n", (int)gettid());
        int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, buf, (size_t)n) != n)
            _exit(1);
        close(fd);
    }
    for (;;)
        pause();
    return NULL;
}

/* Start a thread, then end the main thread alone: the leader is a zombie
 * until the thread ends. */
static void leave_a_thread(const char *file)
{
    pthread_t t;
    if (pthread_create(&t, NULL, write_tid_and_sleep, (void *)file) != 0)
        _exit(1);
    syscall(SYS_exit, 0);
}

static int zombie(const char *file)
{
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    pid_t mid = fork();
    if (mid < 0)
        return 1;
    if (mid == 0) {
        setsid();
        pid_t gc = fork();
        if (gc == 0)
            leave_a_thread(file);
        _exit(gc < 0);
    }
    waitpid(mid, NULL, 0);
    printf("started\n");
    fflush(stdout);
    leave_a_thread(NULL);
    return 1;
}

static int fill(long want)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    if (!dir || snprintf(path, sizeof(path), "%s/fill", dir) >= (int)sizeof(path))
        return 1;
    struct statfs fs;
    if (statfs(dir, &fs) != 0)
        return 1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return 1;
    static char block[MIB];
    memset(block, 0x5a, sizeof(block));
    long got = 0;
    int err = 0;
    while (got < want) {
        if (write(fd, block, MIB) != MIB) {
            err = errno ? errno : ENOSPC;
            break;
        }
        got++;
    }
    close(fd);
    printf("fill_mib=%ld errno=%s memory=%d\n", got, err ? strerrorname_np(err) : "none",
           fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
    return 0;
}

static int memfd(long want)
{
    int fd = memfd_create("bomb", MFD_CLOEXEC);
    if (fd < 0)
        return 1;
    static char block[MIB];
    memset(block, 0x5a, sizeof(block));
    long got = 0;
    int err = 0;
    while (got < want) {
        if (ftruncate(fd, (off_t)(got + 1) * MIB) != 0 ||
            pwrite(fd, block, MIB, (off_t)got * MIB) != MIB) {
            err = errno ? errno : EIO;
            break;
        }
        got++;
    }
    printf("memfd_mib=%ld errno=%s\n", got, err ? strerrorname_np(err) : "none");
    return 0;
}

static long long clock_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int burn(long ms, long cpu_ms)
{
    long long start = clock_ms(CLOCK_MONOTONIC);
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    long long cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    volatile unsigned long spin = 0;
    for (;;) {
        long long wall = clock_ms(CLOCK_MONOTONIC) - start;
        if (wall >= 10ll * ms ||
            (wall >= ms && clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= cpu_ms))
            break;
        for (int i = 0; i < 10000; i++)
            spin++;
    }
    if (pid == 0)
        _exit(0);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
    printf("burned\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "burn") == 0)
        return burn(atol(argv[2]), atol(argv[3]));
    if (argc != 3)
        return 2;
    if (strcmp(argv[1], "escape") == 0 || strcmp(argv[1], "leave") == 0)
        return escape(argv[2], argv[1][0] == 'l');
    if (strcmp(argv[1], "zombie") == 0)
        return zombie(argv[2]);
    if (strcmp(argv[1], "memfd") == 0)
        return memfd(atol(argv[2]));
    if (strcmp(argv[1], "fill") == 0)
        return fill(atol(argv[2]));
    if (strcmp(argv[1], "burn") == 0)
        return burn(atol(argv[2]), 0);
    return 2;
}
