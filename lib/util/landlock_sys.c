/* The two Landlock system calls the child makes (async-signal-safe), for the
 * layers that add rules in the child: Landlock itself, and the mount view,
 * which grants the mounts it creates. */
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule      445
#define SYS_landlock_restrict_self 446
#endif

struct path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

int sbx__landlock_add_path(int ruleset, int fd, uint64_t rights)
{
    struct path_beneath pb = {.allowed_access = rights, .parent_fd = fd};
    if (rights == 0)
        return 0;
    return (int)syscall(SYS_landlock_add_rule, ruleset, 1 /* LANDLOCK_RULE_PATH_BENEATH */, &pb, 0);
}

int sbx__landlock_add_port(int ruleset, uint16_t port, uint64_t rights)
{
    struct {
        uint64_t allowed_access;
        uint64_t port;
    } np = {rights, port};
    return (int)syscall(SYS_landlock_add_rule, ruleset, 2 /* LANDLOCK_RULE_NET_PORT */, &np, 0);
}

int sbx__landlock_apply(int ruleset)
{
    return (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
}
