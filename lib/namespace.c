/* The namespace layer.
 *
 * The namespaces are created by the clone itself (spawn.c adds the CLONE_NEW*
 * flags). The child then, before anything else of its set-up:
 *   - maps its own uid and gid one to one into the user namespace;
 *   - in the mount namespace, builds the view: every mount read-only, noexec
 *     and nosuid, except bind mounts of the paths granted write (writable) or
 *     execute (executable), and of the shared-library directories (the
 *     dynamic loader maps libraries executable); a fresh tmpfs on /tmp and
 *     /dev/shm, into which the granted paths that lived there are carried;
 *     a fresh /proc for a pid namespace;
 *   - sets the host name (UTS) and brings up the loopback interface (net).
 * With a pid namespace, the child is pid 1: it starts the program as pid 2
 * and then executes the init (lib/init/sbx_init.c), embedded in the library
 * and run from a sealed memfd.
 *
 * Everything is decided here when the policy is compiled; the child makes
 * system calls only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "layer.h"
#include "view.h"

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static const char *const ns_names[] = {"user", "pid", "net", "ipc", "uts", "mount", "cgroup"};
static const char *const isolation_names[] = {"auto", "minimal", "full"};
#define N_NS (sizeof(ns_names) / sizeof(ns_names[0]))

/* ---- the policy's settings ------------------------------------------------------- */

int sbx_unshare(sbx_policy *policy, uint32_t namespaces)
{
    sbx__check_arg(policy);
    sbx__check((namespaces & ~(uint32_t)SBX_NS_ALL) == 0,
               "%s: 0x%x has bits outside SBX_NS_ALL (0x%x)", __func__, namespaces,
               (unsigned)SBX_NS_ALL);
    policy->namespaces = namespaces;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_subreaper(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", __func__, on);
    policy->subreaper = on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_isolation(sbx_policy *policy, int isolation)
{
    sbx__check_arg(policy);
    sbx__check(isolation >= SBX_ISOLATION_AUTO && isolation <= SBX_ISOLATION_FULL,
               "%s: %d is not an isolation mode (auto 0, minimal 1, full 2)", __func__, isolation);
    policy->isolation = isolation;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_policy_isolation(const sbx_policy *policy)
{
    return policy ? policy->isolation : SBX_ISOLATION_AUTO;
}

const char *sbx_isolation_name(int isolation)
{
    return isolation >= 0 && isolation <= SBX_ISOLATION_FULL ? isolation_names[isolation] : NULL;
}

uint32_t sbx_policy_namespaces(const sbx_policy *policy)
{
    return policy ? policy->namespaces : 0;
}

const char *sbx_namespace_name(uint32_t ns)
{
    for (size_t i = 0; i < N_NS; i++)
        if (ns == 1u << i)
            return ns_names[i];
    return NULL;
}

int sbx_parse_namespaces(const char *list, uint32_t *ret)
{
    sbx__check_arg(list);
    sbx__check_arg(ret);
    sbx__check(*list, "%s: the list of namespaces is empty", __func__);
    uint32_t set = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        bool found = false;
        if (len == 3 && strncmp(p, "all", 3) == 0) {
            set |= SBX_NS_ALL;
            found = true;
        }
        for (size_t i = 0; !found && i < N_NS; i++)
            if (strlen(ns_names[i]) == len && strncmp(p, ns_names[i], len) == 0) {
                set |= 1u << i;
                found = true;
            }
        sbx__check(found && len > 0,
                   "%s: unknown namespace '%.*s' (expected user, pid, net, ipc, uts, mount, "
                   "cgroup or all)",
                   __func__, (int)len, p);
        p += len;
        if (*p == ',')
            p++;
    }
    *ret = set;
    return 0;
}

/* ---- the child's side (async-signal-safe: system calls only) ------------------------ */

static int step_fail(struct sbx__ns_run *run, int step, const char *path)
{
    int saved = errno;
    run->fail_step = step;
    run->fail_path = path;
    errno = saved ? saved : EINVAL;
    return -1;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)len ? 0 : -1;
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, "lo", 3);
    ifr.ifr_flags = IFF_UP | IFF_RUNNING;
    int r = ioctl(s, SIOCSIFFLAGS, &ifr);
    int saved = errno;
    close(s);
    errno = saved;
    return r;
}

/* The egress broker's way in, in a network namespace: a socket listening on
 * 127.0.0.1 inside it, at the port of the proxy variables, handed to the host,
 * whose broker accepts on it and connects out from the host's namespace. The
 * only way out of the namespace. */
static int broker_listen(int sock, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                     listen(fd, SBX_CONNECTIONS_MAX) == 0 && sbx__send_fd(sock, fd) == 0
                 ? 0
                 : -1;
    int saved = errno;
    close(fd);
    close(sock);
    errno = saved;
    return rc;
}

uint64_t sbx__ns_clone_flags(const struct sbx__ns_run *run)
{
    const struct sbx__ns_plan *ns = run->plan;
    if (ns->mount_view && sbx__view_from_template(ns->view, run->extra))
        return ns->clone_flags & ~(uint64_t)CLONE_NEWNS; /* entered and copied instead */
    return ns->clone_flags;
}

int sbx__ns_write_ids(const char *uid_map, const char *gid_map)
{
    if (write_file("/proc/self/uid_map", uid_map) != 0)
        return STEP_UID_MAP;
    if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT)
        return STEP_SETGROUPS;
    if (write_file("/proc/self/gid_map", gid_map) != 0)
        return STEP_GID_MAP;
    return 0;
}

int sbx__ns_setup(struct sbx__ns_run *run)
{
    const struct sbx__ns_plan *ns = run->plan;
    int step = ns->userns ? sbx__ns_write_ids(ns->uid_map, ns->gid_map) : 0;
    if (step)
        return step_fail(run, step,
                         step == STEP_UID_MAP   ? ns->uid_map
                         : step == STEP_GID_MAP ? ns->gid_map
                                                : NULL);
    if ((ns->set & SBX_NS_UTS) && sethostname("agentsbx", 8) != 0)
        return step_fail(run, STEP_HOSTNAME, NULL);
    if ((ns->set & SBX_NS_NET) && loopback_up() != 0)
        return step_fail(run, STEP_LOOPBACK, NULL);
    if (run->broker_sock >= 0 && broker_listen(run->broker_sock, run->broker_port) != 0)
        return step_fail(run, STEP_BROKER, NULL);
    if (ns->clone_flags & CLONE_NEWNS) {
        /* From the template, the child is still in the host's mounts (cloned
         * without CLONE_NEWNS) and changes none of them before it leaves. */
        if (ns->mount_view && sbx__view_from_template(ns->view, run->extra))
            return sbx__view_build(ns->view, run->extra, run->ruleset, run->cwd, &run->fail_step,
                                   &run->fail_path);
        /* Nothing done here propagates back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0)
            return step_fail(run, STEP_SLAVE, "/");
        if (ns->mount_view)
            return sbx__view_build(ns->view, run->extra, run->ruleset, run->cwd, &run->fail_step,
                                   &run->fail_path);
        if (ns->new_proc &&
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
            return step_fail(run, STEP_PROC, "/proc");
        if (ns->new_proc && ns->proc_access && run->ruleset >= 0) {
            /* A grant on /proc was made for the host's; this one is new. */
            int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0 || sbx__landlock_add_path(run->ruleset, fd, ns->proc_access) != 0) {
                if (fd >= 0)
                    close(fd);
                return step_fail(run, STEP_LANDLOCK_TMP, "/proc");
            }
            close(fd);
        }
    }
    return 0;
}

/* ---- the parent's side ---------------------------------------------------------- */

/* An id map refused to a process that is not dumpable (it changed its user
 * or group ids without executing a program since, as a service that drops
 * root does): its children share its memory until they execute, so their
 * /proc/self files are root's, and none may write its own map. */
static bool not_dumpable_refusal(int step, int err)
{
    return (step == STEP_UID_MAP || step == STEP_SETGROUPS || step == STEP_GID_MAP) &&
           (err == -EACCES || err == EACCES) && prctl(PR_GET_DUMPABLE) != 1;
}

#define NOT_DUMPABLE_TEXT                                                                          \
    "this process is not dumpable (its ids changed without an exec since): no child that shares "  \
    "its memory may write its id map; prctl(PR_SET_DUMPABLE, 1) or an exec allows it"

static const char *step_text(int step)
{
    if (sbx__view_step_text(step))
        return sbx__view_step_text(step);
    switch (step) {
    case STEP_UID_MAP: return "writing /proc/self/uid_map";
    case STEP_SETGROUPS: return "writing \"deny\" to /proc/self/setgroups";
    case STEP_GID_MAP: return "writing /proc/self/gid_map";
    case STEP_HOSTNAME: return "sethostname(agentsbx)";
    case STEP_LOOPBACK: return "bringing up the loopback interface";
    case STEP_SLAVE: return "making the mounts slaves (mount / MS_REC|MS_SLAVE)";
    case STEP_PROC: return "mounting a new /proc";
    case STEP_LANDLOCK_TMP: return "granting a new mount (tmpfs, /proc) in the Landlock ruleset";
    case STEP_CLONE_PROGRAM: return "starting the program in the pid namespace (clone)";
    case STEP_EXEC_INIT: return "executing the pid namespace's init (execveat of a memfd)";
    case STEP_BROKER:
        return "listening for the egress broker on 127.0.0.1 in the network namespace";
    case STEP_CGROUP_NS:
        return "rooting the cgroup namespace at the child's cgroups (unshare CLONE_NEWCGROUP)";
    default: return "setting up the namespaces";
    }
}

int sbx__ns_report(const struct sbx__ns_run *run, int err)
{
    const char *path = run->fail_path;
    if (not_dumpable_refusal(run->fail_step, err))
        return sbx__err_stage(SBX_STAGE_NAMESPACES, err, "user namespace: %s: %s",
                              step_text(run->fail_step), NOT_DUMPABLE_TEXT);
    if (run->fail_step == STEP_UID_MAP || run->fail_step == STEP_GID_MAP)
        return sbx__err_stage(SBX_STAGE_NAMESPACES, err,
                              "user namespace: %s with \"%.*s\" (a security module may restrict "
                              "unprivileged user namespaces, e.g. "
                              "kernel.apparmor_restrict_unprivileged_userns)",
                              step_text(run->fail_step), (int)strcspn(path, "\n"), path);
    if (path)
        return sbx__err_stage(SBX_STAGE_NAMESPACES, err, "%s: %s", step_text(run->fail_step), path);
    return sbx__err_stage(SBX_STAGE_NAMESPACES, err, "%s", step_text(run->fail_step));
}

static long read_sysctl(const char *path)
{
    FILE *f = fopen(path, "re");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* Why the host refused to create the namespaces: a sentence, or "". */
static void explain(uint64_t flags, int err, char *buf, size_t size)
{
    buf[0] = '\0';
    if (flags & CLONE_NEWUSER) {
        if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0 && geteuid() != 0) {
            snprintf(buf, size,
                     "unprivileged user namespaces are disabled: "
                     "kernel.unprivileged_userns_clone = 0");
            return;
        }
        if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0) {
            snprintf(buf, size, "user namespaces are disabled: user.max_user_namespaces = 0");
            return;
        }
        if (err == -ENOSPC) {
            snprintf(buf, size,
                     "the limit on nested user namespaces (32) or "
                     "user.max_user_namespaces was reached");
            return;
        }
        if (err == -EPERM) {
            snprintf(buf, size,
                     "creating a user namespace was refused: inside a container, "
                     "its seccomp profile may deny it; or a security module does");
            return;
        }
    }
    if (err == -EPERM)
        snprintf(buf, size, "creating namespaces needs CAP_SYS_ADMIN or a user namespace");
    else if (err == -EINVAL)
        snprintf(buf, size, "this kernel lacks a requested namespace type");
    else if (err == -ENOSPC)
        snprintf(buf, size,
                 "a namespace count limit (/proc/sys/user/max_*_namespaces) was "
                 "reached");
}

static void set_names(uint32_t set, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_NS; i++)
        if (set & (1u << i))
            used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
                                     used ? "," : "", ns_names[i]);
}

int sbx__ns_clone_failed(const struct sbx__ns_plan *ns, int err)
{
    char why[200], names[64];
    explain(ns->clone_flags, err, why, sizeof(why));
    set_names(ns->set, names, sizeof(names));
    return sbx__err_stage(SBX_STAGE_NAMESPACES, err, "clone with namespaces %s%s%s", names,
                          why[0] ? ": " : "", why);
}

/* The init, embedded (init_blob.c). */
extern const unsigned char sbx__init_blob[] SBX__HIDDEN;
extern const unsigned char sbx__init_blob_end[] SBX__HIDDEN;

pthread_mutex_t sbx__ns_init_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t sbx__ns_probe_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t locks_once = PTHREAD_ONCE_INIT;
static int init_fd = -1;
static dev_t init_dev;
static ino_t init_ino;

static int make_init_fd(void)
{
    int fd =
        (int)syscall(SYS_memfd_create, "agentsbx-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) /* before Linux 6.3: no MFD_EXEC, executable anyway */
        fd = (int)syscall(SYS_memfd_create, "agentsbx-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    size_t len = (size_t)(sbx__init_blob_end - sbx__init_blob);
    const unsigned char *p = sbx__init_blob;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? -errno : -EIO;
            close(fd);
            return err;
        }
        p += n, len -= (size_t)n;
    }
    if (fchmod(fd, 0555) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* The helper thread takes the init's descriptor while it prepares a sandbox:
 * a fork of the host must not inherit these taken (util/forksafe.c). */
static void register_locks(void)
{
    sbx__fork_safe(&sbx__ns_init_lock);
    sbx__fork_safe(&sbx__ns_probe_lock);
}

int sbx__ns_init_fd(void)
{
    pthread_once(&locks_once, register_locks);
    pthread_mutex_lock(&sbx__ns_init_lock);
    struct stat st;
    /* The host may have closed our descriptor (and reused the number). */
    if (init_fd >= 0 &&
        (fstat(init_fd, &st) != 0 || st.st_dev != init_dev || st.st_ino != init_ino))
        init_fd = -1;
    if (init_fd < 0) {
        int fd = make_init_fd();
        if (fd < 0) {
            pthread_mutex_unlock(&sbx__ns_init_lock);
            return sbx__err_stage(SBX_STAGE_NAMESPACES, fd,
                                  "pid namespace: creating the init's memfd (vm.memfd_noexec = "
                                  "2 forbids executable memfds)");
        }
        fstat(fd, &st);
        init_fd = fd, init_dev = st.st_dev, init_ino = st.st_ino;
    }
    int fd = init_fd;
    pthread_mutex_unlock(&sbx__ns_init_lock);
    return fd;
}

/* ---- compiling ------------------------------------------------------------------ */

static bool has_cap_sys_admin(void)
{
    return sbx__has_cap(CAP_SYS_ADMIN);
}

void sbx__ns_plan_free(struct sbx__ns_plan *ns)
{
    if (!ns)
        return;
    sbx__view_free(ns->view);
    free(ns);
}

/* Whether the host lets this process create the namespaces: a throw-away
 * child tries, once per set of flags. 0, or -errno with the reason. */
/* err, with the reason in why when it is a refusal. */
static int describe_refusal(const struct sbx__ns_plan *ns, int err, int step, char *why,
                            size_t size)
{
    if (err) {
        char reason[240];
        explain(ns->clone_flags, err, reason, sizeof(reason));
        if (not_dumpable_refusal(step, err))
            snprintf(reason, sizeof(reason), "%s", NOT_DUMPABLE_TEXT);
        snprintf(why, size, "%s%s%s", step ? step_text(step) : "clone", reason[0] ? ": " : "",
                 reason);
    }
    return err;
}

struct probe_ctx {
    const struct sbx__ns_plan *ns;
    volatile int step, err;
};

static int probe_child(void *arg)
{
    struct probe_ctx *p = arg;
    struct sbx__ns_run run = {.plan = p->ns, .ruleset = -1, .broker_sock = -1};
    struct sbx__ns_plan lite = *p->ns; /* ids and the slave remount, not the view */
    lite.mount_view = false;
    lite.new_proc = false;
    run.plan = &lite;
    if (sbx__ns_setup(&run) != 0) {
        p->step = run.fail_step;
        p->err = errno;
    }
    return 0; /* not _exit(): a sanitizer would warn about the borrowed stack */
}

static int probe(const struct sbx__ns_plan *ns, char *why, size_t size)
{
    static struct {
        uint64_t flags;
        uid_t uid;
        gid_t gid;
        int dumpable;
        int err, step;
    } cache[1u << N_NS];
    static size_t n_cache;

    /* Keyed by what the answer depends on besides the types: the ids the
     * maps name, and whether this process may write them (the host may
     * change its credentials). */
    uid_t uid = geteuid();
    gid_t gid = getegid();
    int dumpable = prctl(PR_GET_DUMPABLE);
    struct probe_ctx p = {.ns = ns};
    int err = 1; /* not known yet */
    pthread_once(&locks_once, register_locks);
    pthread_mutex_lock(&sbx__ns_probe_lock);
    for (size_t i = 0; i < n_cache && err > 0; i++)
        if (cache[i].flags == ns->clone_flags && cache[i].uid == uid && cache[i].gid == gid &&
            cache[i].dumpable == dumpable)
            err = cache[i].err, p.step = cache[i].step;
    pthread_mutex_unlock(&sbx__ns_probe_lock);
    if (err <= 0)
        return describe_refusal(ns, err, p.step, why, size);

    size_t stack_size = 64 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return -errno;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid =
        clone(probe_child, stack + stack_size, CLONE_VM | CLONE_VFORK | (int)ns->clone_flags, &p);
    err = pid < 0 ? -errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid > 0) {
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
            ;
        if (p.step)
            err = -(p.err ? p.err : EINVAL);
    }
    sbx__child_stack_released(stack, stack_size);
    munmap(stack, stack_size);
    pthread_mutex_lock(&sbx__ns_probe_lock);
    if (n_cache < sizeof(cache) / sizeof(cache[0])) {
        cache[n_cache].flags = ns->clone_flags;
        cache[n_cache].uid = uid;
        cache[n_cache].gid = gid;
        cache[n_cache].dumpable = dumpable;
        cache[n_cache].err = err;
        cache[n_cache].step = p.step;
        n_cache++;
    }
    pthread_mutex_unlock(&sbx__ns_probe_lock);
    return describe_refusal(ns, err, p.step, why, size);
}

static void fill_flags(struct sbx__ns_plan *ns, uint32_t set)
{
    ns->set = set;
    ns->clone_flags = 0;
    if (set & SBX_NS_USER)
        ns->clone_flags |= CLONE_NEWUSER;
    if (set & SBX_NS_PID) /* and a mount namespace, for a /proc of its own */
        ns->clone_flags |= CLONE_NEWPID | CLONE_NEWNS;
    if (set & SBX_NS_NET)
        ns->clone_flags |= CLONE_NEWNET;
    if (set & SBX_NS_IPC)
        ns->clone_flags |= CLONE_NEWIPC;
    if (set & SBX_NS_UTS)
        ns->clone_flags |= CLONE_NEWUTS;
    if (set & SBX_NS_MOUNT)
        ns->clone_flags |= CLONE_NEWNS;
    if (set & SBX_NS_CGROUP)
        ns->clone_flags |= CLONE_NEWCGROUP;
    ns->userns = set & SBX_NS_USER;
    ns->mount_view = set & SBX_NS_MOUNT;
    ns->new_proc = ns->init = set & SBX_NS_PID;
}

int sbx__ns_probe_set(uint32_t set, char *why, size_t size)
{
    struct sbx__ns_plan ns = {0};
    if (set && !(set & SBX_NS_USER) && !has_cap_sys_admin())
        set |= SBX_NS_USER;
    fill_flags(&ns, set);
    snprintf(ns.uid_map, sizeof(ns.uid_map), "%u %u 1\n", (unsigned)geteuid(), (unsigned)geteuid());
    snprintf(ns.gid_map, sizeof(ns.gid_map), "%u %u 1\n", (unsigned)getegid(), (unsigned)getegid());
    why[0] = '\0';
    return probe(&ns, why, size);
}

/* Granted unix sockets need the mount view: without it the filter would have
 * to let the child create unix sockets, and it could reach every one. */
static int unix_sockets_need_view(const sbx_policy *policy, const struct sbx__ns_plan *ns)
{
    if (!policy->n_unix_sockets || (ns && ns->mount_view))
        return 0;
    return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                          "sbx_allow_unix_socket(%s): needs the mount namespace's view "
                          "(SBX_NS_MOUNT)%s; without it the child could reach every unix socket "
                          "of its uid",
                          policy->unix_sockets[0],
                          policy->namespaces & SBX_NS_MOUNT ? ", which this host refused" : "");
}

/* The namespaces the isolation mode adds to those asked for (sbx_unshare()).
 * Auto: only when this host can make them all; else none, and why in
 * plan->isolation_fallback. */
static uint32_t isolation_set(const sbx_policy *policy, struct sbx__plan *plan)
{
    if (policy->isolation == SBX_ISOLATION_MINIMAL)
        return 0;
    uint32_t set = SBX_NS_PID | SBX_NS_MOUNT | SBX_NS_IPC | SBX_NS_UTS | SBX_NS_CGROUP;
    /* Host grants (sbx_allow_host) are not: the egress broker listens inside
     * the network namespace (egress.c). */
    bool networked = policy->allow_network || policy->n_connect || policy->n_bind;
    if (policy->isolation == SBX_ISOLATION_FULL && !networked)
        set |= SBX_NS_NET;
    if (policy->isolation == SBX_ISOLATION_FULL)
        return set;
    char why[sizeof(plan->isolation_fallback) - 32];
    if (sbx__ns_auto_set(policy->namespaces, why, sizeof(why)) == 0) {
        snprintf(plan->isolation_fallback, sizeof(plan->isolation_fallback), "%s", why);
        return 0;
    }
    return set;
}

uint32_t sbx__ns_auto_set(uint32_t extra, char *why, size_t size)
{
    uint32_t set = SBX_NS_PID | SBX_NS_MOUNT | SBX_NS_IPC | SBX_NS_UTS | SBX_NS_CGROUP;
    set |= extra | (has_cap_sys_admin() ? 0 : SBX_NS_USER);
    return sbx__ns_probe_set(set, why, size) < 0 ? 0 : set;
}

int sbx__ns_compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    uint32_t set = policy->namespaces | isolation_set(policy, plan);
    if (!set)
        return unix_sockets_need_view(policy, NULL);
    if (!has_cap_sys_admin())
        set |= SBX_NS_USER; /* the other types need it */
    struct sbx__ns_plan *ns = calloc(1, sizeof(*ns));
    if (!ns)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "compiling the namespaces");
    fill_flags(ns, set);
    snprintf(ns->uid_map, sizeof(ns->uid_map), "%u %u 1\n", (unsigned)geteuid(),
             (unsigned)geteuid());
    snprintf(ns->gid_map, sizeof(ns->gid_map), "%u %u 1\n", (unsigned)getegid(),
             (unsigned)getegid());
    uint64_t mem = policy->limits[SBX__LIMIT_MEMORY];
    if (mem != SBX_UNLIMITED)
        snprintf(ns->tmpfs_opts, sizeof(ns->tmpfs_opts), "mode=0755,size=%llu",
                 (unsigned long long)mem);
    else
        snprintf(ns->tmpfs_opts, sizeof(ns->tmpfs_opts), "mode=0755");
    ns->tmp_access = plan->fs.tmp;
    /* A pid namespace remounts /proc (in a mount namespace of its own) only
     * when the child can read it: Landlock denies it unless granted, and a
     * mount namespace costs a copy of the mount table at the clone and its
     * teardown at the end. */
    bool proc_readable = !plan->landlock;
    if (policy->isolation != SBX_ISOLATION_MINIMAL && (set & SBX_NS_PID) && (set & SBX_NS_MOUNT)) {
        /* The default view: a /proc of the child's own pid namespace, readable
         * (ps, free, /proc/self/..., os.cpu_count()); the host's processes are
         * not in it. */
        ns->proc_access |= plan->fs.read;
        proc_readable = true;
    }
    for (size_t i = 0; i < policy->n_grants; i++) {
        const char *g = policy->grants[i].path;
        if (strcmp(g, "/proc") == 0)
            ns->proc_access |= sbx__fs_rights_of(&plan->fs, policy->grants[i].access);
        if (strcmp(g, "/") == 0 || under("/proc", g) || under(g, "/proc"))
            proc_readable = true;
    }
    if (ns->new_proc && !proc_readable) {
        ns->new_proc = false;
        if (!(set & SBX_NS_MOUNT))
            ns->clone_flags &= ~(uint64_t)CLONE_NEWNS;
    }

    char why[300];
    int r = probe(ns, why, sizeof(why));
    if (r < 0) {
        char names[64];
        set_names(set, names, sizeof(names));
        sbx__ns_plan_free(ns);
        if (policy->best_effort & SBX_LAYER_NAMESPACES)
            return unix_sockets_need_view(policy, NULL); /* the layer does not hold */
        return sbx__err_stage(SBX_STAGE_NAMESPACES, r, "namespaces %s: %s", names, why);
    }
    plan->ns = ns; /* the view reads it */
    if ((r = unix_sockets_need_view(policy, ns)) < 0 ||
        (ns->mount_view && (r = sbx__view_compile(policy, plan, &ns->view)) < 0)) {
        plan->ns = NULL;
        sbx__ns_plan_free(ns);
        return r;
    }
    plan->layers |= SBX_LAYER_NAMESPACES;
    return 0;
}

/* ---- the layer ------------------------------------------------------------------ */

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    to->namespaces = from->namespaces;
    to->isolation = from->isolation;
    return 0;
}

static void plan_free(struct sbx__plan *plan)
{
    sbx__ns_plan_free(plan->ns);
}

/* A spawn: in a mount view, the program's files that the view does not show
 * executable (bound for this child), and where it starts; with a pid
 * namespace or the subreaper, the init's executable and its status pipe. */
static int prepare(struct sbx__spawn *s)
{
    const struct sbx__plan *plan = s->plan;
    if (plan->ns && plan->ns->mount_view) {
        int r = sbx__view_extra_prepare(plan->ns->view, &s->prog, &s->extra);
        if (r < 0)
            return r;
        /* (The Landlock layer's prepare may have read it already, and chosen
         * where the child starts for it: the same one.) */
        s->cwd = plan->workdir   ? plan->workdir
                 : s->cwd_buf[0] ? s->cwd_buf
                                 : getcwd(s->cwd_buf, sizeof(s->cwd_buf));
    }
    /* (The subreaper is asked for only where the init's memfd exists: spawn.c.) */
    if (!(plan->ns && plan->ns->init) && !s->reaper)
        return 0;
    s->init_fd = sbx__ns_init_fd();
    if (s->init_fd < 0)
        return s->init_fd;
    if (pipe2(s->status_pipe, O_CLOEXEC) != 0)
        return sbx__err_stage(SBX_STAGE_CLONE, -errno, "pipe2");
    return 0;
}

static void launched(struct sbx__spawn *s)
{
    if (s->status_pipe[1] >= 0) /* the init's end */
        close(s->status_pipe[1]);
    s->status_pipe[1] = -1;
}

static int adopt(struct sbx__spawn *s)
{
    s->child->status_fd = s->status_pipe[0];
    s->status_pipe[0] = -1;
    return 0;
}

static void abort_spawn(struct sbx__spawn *s)
{
    for (int i = 0; i < 2; i++)
        if (s->status_pipe[i] >= 0)
            close(s->status_pipe[i]);
    s->status_pipe[0] = s->status_pipe[1] = -1;
}

const struct sbx__layer sbx__layer_namespaces = {
    .name = "namespaces",
    .policy_dup = policy_dup,
    .compile = sbx__ns_compile,
    .plan_free = plan_free,
    .prepare = prepare,
    .launched = launched,
    .adopt = adopt,
    .abort = abort_spawn,
};
