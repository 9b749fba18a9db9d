/* What the host process is allowed, as the kernel's limits see it. */
#include <linux/capability.h>
#include <string.h>
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

void sbx__creds_get(struct sbx__creds *c)
{
    memset(c, 0, sizeof(*c));
    (void)getresuid(&c->uid[0], &c->uid[1], &c->uid[2]);
    (void)getresgid(&c->gid[0], &c->gid[1], &c->gid[2]);
    gid_t groups[SBX__CREDS_GROUPS];
    c->n_groups = getgroups(SBX__CREDS_GROUPS, groups);
    if (c->n_groups < 0) /* more than the buffer: their number tells a change */
        c->n_groups = getgroups(0, NULL);
    c->groups = 14695981039346656037ull; /* FNV-1a over the ids, in order */
    for (int i = 0; i < c->n_groups && i < SBX__CREDS_GROUPS; i++) {
        c->groups ^= groups[i];
        c->groups *= 1099511628211ull;
    }
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0}};
    if (syscall(SYS_capget, &hdr, data) == 0) {
        c->caps[0] = data[0].effective | ((uint64_t)data[1].effective << 32);
        c->caps[1] = data[0].permitted | ((uint64_t)data[1].permitted << 32);
        c->caps[2] = data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    }
}

bool sbx__creds_same(const struct sbx__creds *a, const struct sbx__creds *b)
{
    return memcmp(a->uid, b->uid, sizeof(a->uid)) == 0 &&
           memcmp(a->gid, b->gid, sizeof(a->gid)) == 0 && a->n_groups == b->n_groups &&
           a->groups == b->groups && memcmp(a->caps, b->caps, sizeof(a->caps)) == 0;
}
