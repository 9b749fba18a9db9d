/* probe_sleep MAIN CHILD: ignore SIGTERM; if CHILD > 0, fork a child (same
 * process group, also ignoring SIGTERM) that sleeps CHILD seconds, and print
 * its pid and a newline; then sleep MAIN seconds (0: exit at once) and exit 0.
 * Used to check that the wall-clock limit kills with SIGKILL and that what is
 * left of the child's process group is killed too. A C probe rather than a
 * shell script so that no program but the probe itself is executed.
 * Exit 0, or 2 on bad usage. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    unsigned main_s = (unsigned)atoi(argv[1]), child_s = (unsigned)atoi(argv[2]);
    signal(SIGTERM, SIG_IGN);
    if (child_s > 0) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("probe_sleep: fork");
            return 1;
        }
        if (pid == 0) {
            sleep(child_s);
            _exit(0);
        }
        printf("%d\n", (int)pid);
        fflush(stdout);
    }
    if (main_s > 0)
        sleep(main_s);
    return 0;
}
