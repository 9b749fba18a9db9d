/* probe_cgroup MODE ARG: escapes and bombs for the cgroup layer.
 *   escape FILE  double-fork: a grandchild in a new session (setsid) writes
 *                its pid to FILE and sleeps, ignoring SIGTERM; the middle
 *                process exits; the main process sleeps 60 s. Prints "started".
 *   memfd MIB    memfd_create, then grow it 1 MiB at a time with ftruncate and
 *                write until MIB MiB are held or a call fails; prints
 *                "memfd_mib=N errno=NAME" (NAME "none" when all succeeded).
 * Exit 0, 1 on a set-up failure, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static int escape(const char *file)
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
    printf("started\n");
    fflush(stdout);
    signal(SIGTERM, SIG_IGN);
    sleep(60);
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

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    if (strcmp(argv[1], "escape") == 0)
        return escape(argv[2]);
    if (strcmp(argv[1], "memfd") == 0)
        return memfd(atol(argv[2]));
    return 2;
}
