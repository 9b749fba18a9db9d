/* What the host process is allowed, as the kernel's limits see it. */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

bool sbx__nproc_binds(void)
{
    if (getuid() == 0)
        return false;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) != 0)
        return false; /* cannot tell: assume the worst */
    uint64_t eff = data[0].effective | ((uint64_t)data[1].effective << 32);
    return !(eff & ((1ull << CAP_SYS_ADMIN) | (1ull << CAP_SYS_RESOURCE)));
}
