/* probe_fds: print the numbers of this process's open file descriptors,
 * ascending, separated by spaces, then a newline (e.g. "0 1 2\n"). It asks
 * fcntl(F_GETFD) of every number below its RLIMIT_NOFILE (up to 65536), so
 * it needs no file system access (no /proc) and works under any grants. Used
 * to prove that no descriptor of the host leaks into a confined child.
 * Exit 0. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>

int main(void)
{
    struct rlimit rl;
    int max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
        max = (int)rl.rlim_cur;
    int first = 1;
    for (int fd = 0; fd < max; fd++) {
        if (fcntl(fd, F_GETFD) < 0)
            continue;
        printf(first ? "%d" : " %d", fd);
        first = 0;
    }
    printf("\n");
    return 0;
}
