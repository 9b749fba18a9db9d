/* The seccomp layer: the policy's system-call rules, compiling them into BPF
 * once per policy (seccomp_filter.c builds the program), and attaching the
 * program in the child with the raw seccomp(2) call. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock_layer.h"
#include "layer.h"
#include "seccomp_layer.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef SECCOMP_GET_NOTIF_SIZES
#define SECCOMP_GET_NOTIF_SIZES 3
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif

/* ---- what the kernel can do (probed once) ---------------------------------- */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static struct {
    bool filter;      /* seccomp(2) with SECCOMP_RET_KILL_PROCESS (Linux 4.14) */
    bool notify;      /* user notification (Linux 5.0) */
    int filter_errno; /* what the probe of filters returned, for messages */
    size_t notif_size, resp_size;
} kernel;

static void probe(void)
{
    uint32_t action = SECCOMP_RET_KILL_PROCESS;
    kernel.filter = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
    kernel.filter_errno = kernel.filter ? 0 : errno;
    action = SECCOMP_RET_USER_NOTIF;
    struct seccomp_notif_sizes sizes;
    kernel.notify = kernel.filter &&
                    syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0 &&
                    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
    /* Test-only: behave as a kernel without user notification. */
    const char *v = secure_getenv("AGENTSBX_TEST_SECCOMP_NO_NOTIFY");
    if (v && strcmp(v, "1") == 0)
        kernel.notify = false;
    if (kernel.notify) {
        kernel.notif_size = sizes.seccomp_notif;
        kernel.resp_size = sizes.seccomp_notif_resp;
    }
    /* libseccomp probes the kernel lazily into globals: do it now, before
     * threads compile policies at once. */
    (void)seccomp_api_get();
}

void sbx__seccomp_notif_sizes(size_t *notif, size_t *resp)
{
    pthread_once(&probe_once, probe);
    *notif = kernel.notif_size;
    *resp = kernel.resp_size;
}

/* ---- the policy's settings -------------------------------------------------- */

void sbx__seccomp_policy_free(struct sbx__seccomp_policy *sp)
{
    if (!sp)
        return;
    free(sp->rules);
    free(sp);
}

static struct sbx__seccomp_policy *settings(sbx_policy *policy)
{
    if (!policy->seccomp)
        policy->seccomp = calloc(1, sizeof(*policy->seccomp));
    return policy->seccomp;
}

static int resolve(const char *func, const char *name)
{
    sbx__check(name != NULL, "%s: name is NULL", func);
    int nr = sbx__syscall_resolve(name);
    if (nr < 0)
        return sbx__err(-EINVAL, "%s: unknown system call '%s'", func, name);
    return nr;
}

static int put_rule(sbx_policy *policy, const char *func, const char *name, int nr, int error)
{
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s(%s)", func, name);
    for (size_t i = 0; i < sp->n_rules; i++) {
        if (sp->rules[i].nr == nr) {
            sp->rules[i].error = error;
            sbx__policy_changed(policy);
            return 0;
        }
    }
    if (sp->n_rules == sp->cap_rules) {
        size_t cap = sp->cap_rules ? sp->cap_rules * 2 : 8;
        struct sbx__filter_rule *grown = realloc(sp->rules, cap * sizeof(*grown));
        if (!grown)
            return sbx__errno(-ENOMEM, "%s(%s)", func, name);
        sp->rules = grown;
        sp->cap_rules = cap;
    }
    sp->rules[sp->n_rules++] = (struct sbx__filter_rule){nr, error};
    sbx__policy_changed(policy);
    return 0;
}

int sbx_deny_syscall(sbx_policy *policy, const char *name, int error)
{
    sbx__check_arg(policy);
    int nr = resolve(__func__, name);
    if (nr < 0)
        return nr;
    sbx__check(error == SBX_SYSCALL_KILL || (error >= 1 && error <= 4095),
               "%s(%s): errno %d is out of range (1 to 4095, or SBX_SYSCALL_KILL)", __func__, name,
               error);
    sbx__check(!sbx__syscall_undeniable(nr),
               "%s: '%s' cannot be denied: the library makes this call in the child after "
               "attaching the filter",
               __func__, name);
    return put_rule(policy, __func__, name, nr, error);
}

int sbx_allow_syscall(sbx_policy *policy, const char *name)
{
    sbx__check_arg(policy);
    int nr = resolve(__func__, name);
    if (nr < 0)
        return nr;
    return put_rule(policy, __func__, name, nr, 0);
}

int sbx_set_syscall_allowlist(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s", __func__);
    sp->allowlist = on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_violation_monitor(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s", __func__);
    sp->monitor_off = !on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_exec_reporting(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s", __func__);
    sp->exec_report = on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_diagnose(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s", __func__);
    sp->diagnose = on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_learn(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s", __func__);
    sp->learn = on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_violation_callback(sbx_policy *policy, sbx_violation_fn fn, void *userdata)
{
    sbx__check_arg(policy);
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s", __func__);
    sp->callback = fn;
    sp->userdata = fn ? userdata : NULL;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_violation_rate(sbx_policy *policy, uint64_t per_second)
{
    sbx__check_arg(policy);
    sbx__check(per_second <= 1000000,
               "%s: %llu per second is out of range (1 to 1000000, or 0 for no limit)", __func__,
               (unsigned long long)per_second);
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s", __func__);
    sp->violation_rate = per_second == 0 ? UINT64_MAX : per_second;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_violation_limit(sbx_policy *policy, uint64_t count)
{
    sbx__check_arg(policy);
    sbx__check(count == SBX_UNLIMITED || (count >= 1 && count <= UINT32_MAX),
               "%s: count %llu is out of range (1 to 4294967295, or SBX_UNLIMITED)", __func__,
               (unsigned long long)count);
    struct sbx__seccomp_policy *sp = settings(policy);
    if (!sp)
        return sbx__errno(-ENOMEM, "%s", __func__);
    sp->violation_limit = count == SBX_UNLIMITED ? 0 : count;
    sbx__policy_changed(policy);
    return 0;
}

/* ---- compiling ----------------------------------------------------------------- */

struct sbx__seccomp_plan *sbx__seccomp_plan_ref(struct sbx__seccomp_plan *sp)
{
    if (sp)
        __atomic_add_fetch(&sp->refs, 1, __ATOMIC_RELAXED);
    return sp;
}

void sbx__seccomp_plan_unref(struct sbx__seccomp_plan *sp)
{
    if (!sp || __atomic_sub_fetch(&sp->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(sp->notify_prog.filter);
    free(sp->errno_prog.filter);
    free(sp->errnos);
    free(sp->exec_rules);
    free(sp->diag_ports);
    free(sp);
}

int sbx__seccomp_error_for(const struct sbx__seccomp_plan *sp, int nr)
{
    size_t lo = 0, hi = sp->n_errnos;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sp->errnos[mid].nr == nr)
            return sp->errnos[mid].error;
        if (sp->errnos[mid].nr < nr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return sp->default_error;
}

static bool find_policy_rule(const struct sbx__filter_spec *spec, int nr)
{
    for (size_t i = 0; i < spec->n_rules; i++)
        if (spec->rules[i].nr == nr)
            return true;
    return false;
}

/* Exec reporting: the Landlock rules by inode, for the monitor to decide,
 * as Landlock will, whether an exec is allowed (monitor.c). Data of the
 * Landlock layer's plan, read here: no call into it. */
static int exec_rules_compile(const struct sbx__plan *plan, struct sbx__seccomp_plan *sp)
{
    const struct sbx__landlock_plan *ll = plan->landlock;
    sp->exec_required =
        ll ? ll->handled_fs & (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE) : 0;
    sp->handled_fs = ll ? ll->handled_fs : 0;
    sp->handled_net = ll ? ll->handled_net : 0;
    if (ll && ll->n_ports) {
        sp->diag_ports = calloc(ll->n_ports, sizeof(*sp->diag_ports));
        if (!sp->diag_ports)
            return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "seccomp: compiling the filter");
        for (size_t i = 0; i < ll->n_ports; i++)
            sp->diag_ports[i] = (struct sbx__diag_port){ll->ports[i].port, ll->ports[i].access};
        sp->n_diag_ports = ll->n_ports;
    }
    if (!ll || !ll->n_rules)
        return 0;
    sp->exec_rules = calloc(ll->n_rules, sizeof(*sp->exec_rules));
    if (!sp->exec_rules)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "seccomp: compiling the filter");
    for (size_t i = 0; i < ll->n_rules; i++) {
        struct stat st;
        if (fstat(ll->rules[i].fd, &st) != 0)
            return sbx__err_stage(SBX_STAGE_COMPILE, -errno, "seccomp: fstat(Landlock rule %zu)",
                                  i);
        sp->exec_rules[sp->n_exec_rules++] =
            (struct sbx__exec_rule){st.st_dev, st.st_ino, ll->rules[i].access};
    }
    return 0;
}

static bool diag_allowed(int nr, void *arg)
{
    return sbx__filter_plain_allowed(arg, nr);
}

static int build(const struct sbx__filter_spec *spec, bool notify, struct sock_fprog *out)
{
    int bad_nr;
    int r = sbx__filter_build(spec, notify, out, &bad_nr);
    if (r == 0)
        return 0;
    if (bad_nr >= 0) {
        char name[64];
        sbx__syscall_name(SCMP_ARCH_NATIVE, bad_nr, name, sizeof(name));
        return sbx__err_stage(SBX_STAGE_COMPILE, r, "seccomp: libseccomp rule for %s", name);
    }
    return sbx__err_stage(SBX_STAGE_COMPILE, r, "seccomp: building the filter");
}

int sbx__seccomp_compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    pthread_once(&probe_once, probe);
    const struct sbx__seccomp_policy *set = policy->seccomp;
    bool best_effort = policy->best_effort & SBX_LAYER_SECCOMP;
    bool monitor_best_effort = best_effort || (policy->best_effort & SBX_LAYER_MONITOR);
    if (!kernel.filter) {
        if (best_effort)
            return 0;
        return sbx__err_stage(
            SBX_STAGE_COMPILE, -EOPNOTSUPP,
            "seccomp: this kernel cannot filter system calls (seccomp(SECCOMP_GET_ACTION_AVAIL) "
            "returned %s%s); mark SBX_LAYER_SECCOMP best-effort to run without it",
            sbx_errname(-kernel.filter_errno),
            kernel.filter_errno == ENOSYS
                ? ": Linux 4.14 is needed, or the program runs under valgrind or an emulator "
                  "(valgrind does not know this system call)"
                : "");
    }
    bool monitor = !(set && set->monitor_off);
    if (monitor && !kernel.notify) {
        if (!monitor_best_effort)
            return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                                  "seccomp: this kernel cannot report denied system calls (user "
                                  "notification, Linux 5.0); turn the violation monitor off or "
                                  "mark SBX_LAYER_SECCOMP best-effort");
        monitor = false;
        plan->layers &= ~(uint32_t)SBX_LAYER_MONITOR; /* asked for, and not held */
    }

    struct sbx__filter_spec spec = {
        .allowlist = set && set->allowlist,
        .network = policy->allow_network,
        /* In a pid namespace the host's processes are out of sight: calls that
         * name another pid cannot reach them. */
        .pid_ns = plan->ns && plan->ns->init,
        /* The mount view shows no host unix socket (and only granted ones). */
        .unix_sockets = plan->ns && plan->ns->mount_view,
        /* Only CAP_SYS_ADMIN lets TIOCSCTTY steal another session's terminal. */
        .sys_admin = policy->keep_caps & (1ull << CAP_SYS_ADMIN),
        .rules = set ? set->rules : NULL,
        .n_rules = set ? set->n_rules : 0,
    };
    /* Exec reporting, with the monitor, when something can deny an exec the
     * child cannot see the reason of: Landlock's execute right, or the mount
     * view's noexec mounts; not when the policy has a rule of its own for an
     * exec call (the first exec uses execveat). */
    int execve_nr = sbx__syscall_resolve("execve"), execveat_nr = sbx__syscall_resolve("execveat");
    spec.exec_notify =
        monitor && set && (set->exec_report || set->learn) && execve_nr >= 0 && execveat_nr >= 0 &&
        !find_policy_rule(&spec, execve_nr) && !find_policy_rule(&spec, execveat_nr) &&
        ((plan->landlock && (plan->landlock->handled_fs & LANDLOCK_ACCESS_FS_EXECUTE)) ||
         (plan->ns && plan->ns->mount_view));
    if (set && set->learn && (!monitor || !plan->landlock))
        return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                              "learn mode needs the violation monitor and Landlock, and this "
                              "policy runs without %s",
                              !monitor ? "the monitor" : "Landlock");
    struct sbx__seccomp_plan *sp = calloc(1, sizeof(*sp));
    if (!sp)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "seccomp: compiling the filter");
    sp->refs = 1;
    sp->exec_notify = spec.exec_notify;
    sp->learn = monitor && set && set->learn && plan->landlock;
    /* Diagnose mode, with the monitor and Landlock: the calls it watches
     * that the filter would let through anyway (not ones the policy or the
     * deny table decides: those stay violations). */
    if (monitor && set && (set->diagnose || set->learn) && plan->landlock) {
        sbx__diagnose_calls(sp, diag_allowed, &spec);
        spec.notify_nrs = sp->diag_nrs;
        spec.n_notify_nrs = sp->n_diag;
    }
    int r = sbx__filter_errnos(&spec, &sp->errnos, &sp->n_errnos, &sp->default_error);
    if (r < 0)
        r = sbx__err_stage(SBX_STAGE_COMPILE, r, "seccomp: compiling the filter");
    if (r == 0 && (spec.exec_notify || sp->n_diag))
        r = exec_rules_compile(plan, sp);
    if (r == 0 && monitor)
        r = build(&spec, true, &sp->notify_prog);
    /* Without a monitor, or as the fallback when the child cannot have a
     * listener (a filter above it already has one), denied calls get their
     * errno from the kernel. */
    sp->fallback_ok = monitor && monitor_best_effort;
    if (r == 0 && (!monitor || sp->fallback_ok))
        r = build(&spec, false, &sp->errno_prog);
    if (r < 0) {
        sbx__seccomp_plan_unref(sp);
        return r;
    }
    /* memfd_create without MFD_NOEXEC_SEAL reaches the monitor, which makes
     * the memfd itself, sealed non-executable (monitor.c), unless the policy
     * has a rule of its own for the call. */
    sp->memfd_rewrite = monitor && !find_policy_rule(&spec, SYS_memfd_create);
    sp->violation_rate = !set || !set->violation_rate        ? SBX_VIOLATION_RATE_DEFAULT
                         : set->violation_rate == UINT64_MAX ? 0
                                                             : set->violation_rate;
    if (set) {
        sp->violation_limit = set->violation_limit;
        sp->callback = set->callback;
        sp->userdata = set->userdata;
    }
    plan->seccomp = sp;
    plan->layers |= SBX_LAYER_SECCOMP;
    if (monitor)
        plan->layers |= SBX_LAYER_MONITOR;
    return 0;
}

bool sbx__seccomp_plain(const sbx_policy *policy)
{
    /* A sandbox prepared ahead (spawn.c) makes a few calls under the filter
     * before it executes (recvmsg, fcntl, dup2, close_range, execveat): only
     * the default set, which allows them, and nothing that notifies them. */
    const struct sbx__seccomp_policy *sp = policy->seccomp;
    return !sp || (!sp->n_rules && !sp->allowlist && !sp->diagnose && !sp->learn);
}

int sbx__seccomp_report_failure(int err)
{
    if (err == -EBUSY)
        return sbx__err_stage(SBX_STAGE_SECCOMP, -EOPNOTSUPP,
                              "seccomp: cannot report denied system calls here: a seccomp filter "
                              "above this process already has a listener (a sandbox within a "
                              "sandbox); turn the violation monitor off or mark "
                              "SBX_LAYER_SECCOMP best-effort");
    return sbx__err_stage(SBX_STAGE_SECCOMP, err, "seccomp(SECCOMP_SET_MODE_FILTER)");
}

/* ---- the child ------------------------------------------------------------------ */

int sbx__seccomp_child_apply(const struct sbx__seccomp_plan *sp, int sock,
                             volatile int *monitor_lost)
{
    if (sp->notify_prog.len && sock >= 0) {
        /* WAIT_KILLABLE_RECV (Linux 5.19): once the host has the notification,
         * only a fatal signal interrupts the call, so that it is not retried
         * and reported twice. */
        long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                          SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                          &sp->notify_prog);
        if (fd < 0 && errno == EINVAL)
            fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                         &sp->notify_prog);
        if (fd >= 0) {
            /* From here on the filter is in force: only calls it cannot deny
             * (sendmsg, rt_sigprocmask, execve, exit_group). The listener and
             * the socket are close-on-exec: execve closes them, so that the
             * program never holds its own listener. */
            return sbx__send_fd(sock, (int)fd);
        }
        /* EBUSY: a filter above us already has a listener (a sandbox within
         * a sandbox); EINVAL: no user notification. */
        if (!sp->fallback_ok || (errno != EBUSY && errno != EINVAL))
            return -1;
        *monitor_lost = 1;
    }
    if (!sp->errno_prog.len) {
        errno = EINVAL;
        return -1;
    }
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sp->errno_prog) == 0 ? 0 : -1;
}

void sbx__seccomp_child_exec(const struct sbx__seccomp_plan *sp, const char *program,
                             char *const argv[], char *const envp[])
{
    if (sp && sp->exec_notify) {
        /* The kernel takes the low half of a0 (an int): AT_FDCWD. */
        long fd = (long)(((uint64_t)SBX__EXEC_MARKER << 32) | (uint32_t)AT_FDCWD);
        syscall(SYS_execveat, fd, program, argv, envp, 0);
        return;
    }
    execve(program, argv, envp);
}

/* ---- the layer ------------------------------------------------------------------ */

static void policy_free(sbx_policy *policy)
{
    sbx__seccomp_policy_free(policy->seccomp);
    policy->seccomp = NULL;
}

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    const struct sbx__seccomp_policy *sp = from->seccomp;
    if (!sp)
        return 0;
    if (!(to->seccomp = malloc(sizeof(*to->seccomp))))
        return -ENOMEM;
    *to->seccomp = *sp;
    to->seccomp->rules = NULL;
    to->seccomp->n_rules = to->seccomp->cap_rules = 0;
    if (sp->n_rules && !(to->seccomp->rules = malloc(sp->n_rules * sizeof(*sp->rules))))
        return -ENOMEM;
    if (sp->n_rules)
        memcpy(to->seccomp->rules, sp->rules, sp->n_rules * sizeof(*sp->rules));
    to->seccomp->n_rules = to->seccomp->cap_rules = sp->n_rules;
    return 0;
}

static void plan_free(struct sbx__plan *plan)
{
    sbx__seccomp_plan_unref(plan->seccomp);
}

/* A spawn: the socket pair the child sends its seccomp listener over. */
static int prepare(struct sbx__spawn *s)
{
    return sbx__monitor_prepare(s->plan, s->msock);
}

/* The child runs: receive its listener and start answering. On failure the
 * child has been killed and reaped. */
static int adopt(struct sbx__spawn *s)
{
    int r = sbx__monitor_start(s->child, s->plan, s->msock, s->child->monitor_lost, &s->prog);
    if (r == 0 && s->child->monitor_lost) /* best-effort: the filter holds, unreported */
        s->child->layers &= ~(uint32_t)SBX_LAYER_MONITOR;
    return r;
}

static void abort_spawn(struct sbx__spawn *s)
{
    sbx__monitor_close_sockets(s->msock);
}

const struct sbx__layer sbx__layer_seccomp = {
    .name = "seccomp",
    .policy_free = policy_free,
    .policy_dup = policy_dup,
    .compile = sbx__seccomp_compile,
    .plan_free = plan_free,
    .prepare = prepare,
    .adopt = adopt,
    .abort = abort_spawn,
};
