/* What the host process is allowed, as the kernel's limits see it. */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* The effective set, or all of it when it cannot be read (assume the most). */
static uint64_t effective(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) != 0)
        return ~0ull;
    return data[0].effective | ((uint64_t)data[1].effective << 32);
}

bool sbx__has_cap(int cap)
{
    return cap >= 0 && cap < 64 && (effective() & (1ull << cap));
}

bool sbx__nproc_binds(void)
{
    if (getuid() == 0)
        return false;
    return !sbx__has_cap(CAP_SYS_ADMIN) && !sbx__has_cap(CAP_SYS_RESOURCE);
}
