/* probe_alloc MIB [HOLD_MS]: allocate MIB blocks of 1 MiB with malloc(3), writing to
 * every page, until malloc fails or MIB blocks are held; then print
 * "allocated_mib=N errno=NAME" (NAME is "none" when all succeeded). Used to
 * check the memory limit: confined it must see ENOMEM, unconfined it gets all
 * of it. Exit 0, or 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024 * 1024)

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3)
        return 2;
    long want = atol(argv[1]);
    long got = 0;
    int err = 0;
    while (got < want) {
        errno = 0;
        char *block = malloc(MIB);
        if (block == NULL) {
            err = errno ? errno : ENOMEM;
            break;
        }
        memset(block, 0x5a, MIB); /* touch every page: reserved is not enough */
        got++;
    }
    printf("allocated_mib=%ld errno=%s\n", got, err ? strerrorname_np(err) : "none");
    fflush(stdout);
    if (argc == 3) /* hold it all a while: processes started together overlap */
        usleep((useconds_t)atol(argv[2]) * 1000);
    return 0;
}
