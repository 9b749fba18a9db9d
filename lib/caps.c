/* Capabilities: the child drops every capability before it executes, in every
 * configuration (with or without namespaces, root or not), keeping only the
 * ones the policy names.
 *
 * Why each set: execve(2) computes the program's permitted set from the
 * inheritable and ambient sets and, for root, from the file (SECBIT_NOROOT
 * turns that off); the bounding set caps what any later execve could grant;
 * no_new_privs already stops setuid and file capabilities from adding
 * anything. Kept capabilities must survive execve of an ordinary program,
 * which only the ambient set does, so they go into the inheritable and
 * ambient sets too. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agentsbx/capability.h"
#include "layer.h"

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define N_CAP_NAMES ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

#define BIT(cap) (1ull << (cap))

/* ---- names and the policy ------------------------------------------------------ */

const char *sbx_capability_name(int cap)
{
    return cap >= 0 && cap < N_CAP_NAMES ? cap_names[cap] : NULL;
}

int sbx_capability_from_name(const char *name)
{
    if (!name)
        return -EINVAL;
    const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
    for (int i = 0; i < N_CAP_NAMES; i++)
        if (strcasecmp(cap_names[i] + 4, bare) == 0)
            return i;
    return -EINVAL;
}

int sbx_keep_capability(sbx_policy *policy, const char *name)
{
    sbx__check_arg(policy);
    sbx__check_arg(name);
    int cap = sbx_capability_from_name(name);
    sbx__check(cap >= 0,
               "sbx_keep_capability: unknown capability '%s' (expected a name of "
               "capabilities(7), such as CAP_NET_BIND_SERVICE)",
               name);
    policy->keep_caps |= BIT(cap);
    sbx__policy_changed(policy);
    return 0;
}

uint64_t sbx_policy_kept_capabilities(const sbx_policy *policy)
{
    return policy ? policy->keep_caps : 0;
}

uint64_t sbx_result_capabilities(const sbx_result *result, int set)
{
    if (!result || set < 0 || set >= SBX__CAPSETS)
        return 0;
    return result->caps[set];
}

/* ---- compiling ----------------------------------------------------------------- */

static int read_caps(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &hdr, d) != 0)
        return -1;
    *eff = d[0].effective | (uint64_t)d[1].effective << 32;
    *prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
    *inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
    return 0;
}

static int kernel_last_cap(void)
{
    /* The kernel's own answer; else probe the bounding set. */
    int last = -1;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f) {
        if (fscanf(f, "%d", &last) != 1)
            last = -1;
        fclose(f);
    }
    if (last < 0)
        for (last = 0; last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0; last++)
            ;
    return last > 63 ? 63 : last;
}

int sbx__caps_compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    struct sbx__caps_plan *cp = &plan->caps;
    cp->keep = policy->keep_caps;
    cp->last_cap = kernel_last_cap();
    cp->host_bounding = 0;
    for (int c = 0; c <= cp->last_cap; c++)
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            cp->host_bounding |= BIT(c);
    uint64_t eff, prm, inh;
    if (read_caps(&eff, &prm, &inh) != 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, -errno, "capabilities: capget");
    bool userns = plan->ns && plan->ns->userns;
    for (int c = 0; !userns && c < 64; c++)
        if ((cp->keep & BIT(c)) && !(prm & BIT(c)))
            return sbx__err_stage(SBX_STAGE_COMPILE, -EPERM,
                                  "sbx_keep_capability(%s): this process does not hold it, so "
                                  "its child cannot keep it",
                                  sbx_capability_name(c));
    /* Permitted and inheritable sets can only shrink without an execve: when
     * both are empty now, the child starts with nothing (and its ambient set,
     * a subset of both, is empty too). A user namespace gives it a full set. */
    cp->nothing_to_drop = !userns && prm == 0 && inh == 0;
    return 0;
}

/* ---- the child (system calls only) ------------------------------------------------- */

static int capset3(uint64_t eff, uint64_t prm, uint64_t inh)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
        {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)},
    };
    return (int)syscall(SYS_capset, &hdr, d);
}

static int fail(volatile int *step, int s, volatile int *cap, int c)
{
    *step = s;
    *cap = c;
    return -1;
}

int sbx__caps_apply(const struct sbx__caps_plan *cp, uint64_t out[SBX__CAPSETS], volatile int *step,
                    volatile int *cap)
{
    const uint64_t keep = cp->keep;
    if (cp->nothing_to_drop) {
        out[SBX_CAPS_EFFECTIVE] = out[SBX_CAPS_PERMITTED] = out[SBX_CAPS_INHERITABLE] = 0;
        out[SBX_CAPS_AMBIENT] = 0;
        out[SBX_CAPS_BOUNDING] = cp->host_bounding;
        return 0;
    }
    uint64_t eff, prm, inh;
    if (read_caps(&eff, &prm, &inh) != 0)
        return fail(step, SBX__CAPS_READ, cap, -1);
    for (int c = 0; c <= cp->last_cap; c++)
        if ((keep & BIT(c)) && !(prm & BIT(c))) {
            errno = EPERM;
            return fail(step, SBX__CAPS_KEEP, cap, c);
        }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return fail(step, SBX__CAPS_AMBIENT, cap, -1);
    /* Kept capabilities go into the inheritable set (a subset of permitted:
     * allowed with or without CAP_SETPCAP), then into the ambient set. */
    if (keep) {
        if (capset3(eff, prm, keep) != 0)
            return fail(step, SBX__CAPS_SET, cap, -1);
        for (int c = 0; c <= cp->last_cap; c++)
            if ((keep & BIT(c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
                return fail(step, SBX__CAPS_AMBIENT, cap, c);
    }
    uint64_t bounding = cp->host_bounding;
    if (eff & BIT(CAP_SETPCAP)) {
        for (int c = 0; c <= cp->last_cap; c++)
            if (!(keep & BIT(c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
                return fail(step, SBX__CAPS_BOUNDING, cap, c);
        bounding = keep;
        /* A uid 0 gains nothing at execve, setuid(2) changes no set, and
         * nothing can raise the ambient set again; all locked. */
        if (prctl(PR_SET_SECUREBITS,
                  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                      SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                      SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
                  0, 0, 0) != 0)
            return fail(step, SBX__CAPS_SECUREBITS, cap, -1);
    }
    if (capset3(keep, keep, keep) != 0)
        return fail(step, SBX__CAPS_SET, cap, -1);
    /* Verify: a capability the policy did not give is a failure, never held. */
    if (read_caps(&eff, &prm, &inh) != 0)
        return fail(step, SBX__CAPS_READ, cap, -1);
    uint64_t extra = (eff | prm | inh) & ~keep;
    for (int c = 0; c < 64; c++)
        if (extra & BIT(c)) {
            errno = EPERM;
            return fail(step, SBX__CAPS_LEFT, cap, c);
        }
    out[SBX_CAPS_EFFECTIVE] = eff;
    out[SBX_CAPS_PERMITTED] = prm;
    out[SBX_CAPS_INHERITABLE] = inh;
    out[SBX_CAPS_AMBIENT] = keep;
    out[SBX_CAPS_BOUNDING] = bounding;
    return 0;
}

/* ---- the parent's message ------------------------------------------------------- */

int sbx__caps_report(int step, int cap, int err)
{
    const char *name = cap >= 0 ? sbx_capability_name(cap) : NULL;
    char what[48];
    snprintf(what, sizeof(what), "%s", name ? name : cap >= 0 ? "a capability" : "");
    switch (step) {
    case SBX__CAPS_KEEP:
        return sbx__err_stage(SBX_STAGE_CAPABILITIES, err,
                              "capabilities: cannot keep %s: the child does not hold it", what);
    case SBX__CAPS_AMBIENT:
        return sbx__err_stage(SBX_STAGE_CAPABILITIES, err, "capabilities: %s the ambient set%s%s",
                              cap >= 0 ? "raising" : "clearing", cap >= 0 ? " with " : "", what);
    case SBX__CAPS_BOUNDING:
        return sbx__err_stage(SBX_STAGE_CAPABILITIES, err,
                              "capabilities: dropping %s from the bounding set", what);
    case SBX__CAPS_SECUREBITS:
        return sbx__err_stage(SBX_STAGE_CAPABILITIES, err,
                              "capabilities: locking the securebits (NOROOT, NO_SETUID_FIXUP, "
                              "NO_CAP_AMBIENT_RAISE; already locked otherwise by the host?)");
    case SBX__CAPS_SET: return sbx__err_stage(SBX_STAGE_CAPABILITIES, err, "capabilities: capset");
    case SBX__CAPS_LEFT:
        return sbx__err_stage(SBX_STAGE_CAPABILITIES, err,
                              "capabilities: the child still holds %s after dropping it", what);
    default: return sbx__err_stage(SBX_STAGE_CAPABILITIES, err, "capabilities: capget");
    }
}

/* ---- the layer ------------------------------------------------------------------ */

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    to->keep_caps = from->keep_caps;
    return 0;
}

/* The child drops its capabilities in spawn.c's straight line (sbx__caps_apply). */
const struct sbx__layer sbx__layer_caps = {
    .name = "caps",
    .policy_dup = policy_dup,
    .compile = sbx__caps_compile,
};
