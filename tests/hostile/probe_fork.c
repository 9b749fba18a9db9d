/* probe_fork MAX [hold]: fork children that just wait, until fork(2) fails or
 * MAX children exist; then kill and reap them all and print
 * "forked=N errno=NAME" (NAME is "none" when MAX was reached). With "hold",
 * the line is printed first and the children are kept until standard input
 * ends. Used to check
 * the process limit: confined (as a non-root user) it must stop with EAGAIN,
 * unconfined it reaches MAX. Exit 0, or 2 on bad usage. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_MAX_CHILDREN 1024

int main(int argc, char **argv)
{
    int hold = argc == 3 && strcmp(argv[2], "hold") == 0;
    if (argc != 2 && !hold)
        return 2;
    long max = atol(argv[1]);
    if (max < 0 || max > PROBE_MAX_CHILDREN)
        return 2;
    static pid_t pids[PROBE_MAX_CHILDREN];
    long forked = 0;
    int err = 0;
    while (forked < max) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                pause();
        }
        pids[forked++] = pid;
    }
    if (hold) {
        printf("forked=%ld errno=%s\n", forked, err ? strerrorname_np(err) : "none");
        fflush(stdout);
        char buf[64];
        while (read(0, buf, sizeof(buf)) > 0)
            ;
    }
    for (long i = 0; i < forked; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
    if (!hold)
        printf("forked=%ld errno=%s\n", forked, err ? strerrorname_np(err) : "none");
    return 0;
}
