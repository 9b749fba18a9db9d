/* probe_openfiles MAX: open /dev/null until open(2) fails or MAX descriptors
 * were opened, then print "opened=N errno=NAME" (NAME is "none" when MAX was
 * reached). Used to check RLIMIT_NOFILE: confined it must stop with EMFILE,
 * unconfined it reaches MAX. Exit 0, or 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    long max = atol(argv[1]);
    long opened = 0;
    int err = 0;
    while (opened < max) {
        if (open("/dev/null", O_RDONLY) < 0) {
            err = errno;
            break;
        }
        opened++;
    }
    printf("opened=%ld errno=%s\n", opened, err ? strerrorname_np(err) : "none");
    return 0;
}
