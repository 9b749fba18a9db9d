/* The Landlock layer: filesystem grants, the exec allow-list, TCP ports and
 * scoping, at the best ABI the kernel offers, strict unless marked best-effort.
 *
 * Parent side only: the child just calls landlock_restrict_self() on the
 * ruleset fd prepared here (see spawn.c). Grants are opened (O_PATH) once, when
 * the policy is compiled; each spawn builds a ruleset from them plus the
 * program it executes and its private temporary directory, which differ per
 * child. The kernel's own samples/landlock/sandboxer.c shows the ABI
 * fall-through this follows. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "layer.h"
#include "pathwalk.h"

/* The kernel ABI, spelled out here: Debian 12's uapi header predates ABI 3. */
#define LL_FS_EXECUTE             (1ull << 0)
#define LL_FS_WRITE_FILE          (1ull << 1)
#define LL_FS_READ_FILE           (1ull << 2)
#define LL_FS_READ_DIR            (1ull << 3)
#define LL_FS_REMOVE_DIR          (1ull << 4)
#define LL_FS_REMOVE_FILE         (1ull << 5)
#define LL_FS_MAKE_CHAR           (1ull << 6)
#define LL_FS_MAKE_DIR            (1ull << 7)
#define LL_FS_MAKE_REG            (1ull << 8)
#define LL_FS_MAKE_SOCK           (1ull << 9)
#define LL_FS_MAKE_FIFO           (1ull << 10)
#define LL_FS_MAKE_BLOCK          (1ull << 11)
#define LL_FS_MAKE_SYM            (1ull << 12)
#define LL_FS_REFER               (1ull << 13) /* ABI 2 */
#define LL_FS_TRUNCATE            (1ull << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV           (1ull << 15) /* ABI 5 */
#define LL_NET_BIND_TCP           (1ull << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP        (1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX    (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL           (1ull << 1)
#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH      1
#define LL_RULE_NET_PORT          2

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule       445
#define SYS_landlock_restrict_self  446
#endif

struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct ll_path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port {
    uint64_t allowed_access;
    uint64_t port;
};

#define LL_FS_ABI1 ((1ull << 13) - 1)
/* Rights that apply to a file (as opposed to a directory). */
#define LL_FS_FILE_RIGHTS                                                                          \
    (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* What each access group of the public API means, before ABI masking. */
#define LL_GROUP_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define LL_GROUP_WRITE                                                                             \
    (LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR | LL_FS_MAKE_REG |   \
     LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM | LL_FS_REFER | LL_FS_TRUNCATE |           \
     LL_FS_IOCTL_DEV)
#define LL_GROUP_EXEC LL_FS_EXECUTE

/* ---- ABI ------------------------------------------------------------------- */

static pthread_once_t abi_once = PTHREAD_ONCE_INIT;
static int kernel_abi; /* 0: no Landlock; negative: -errno of the probe */

static void probe_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    kernel_abi = abi < 0 ? -errno : (int)abi;
    /* Test-only: cap the ABI to exercise the degradation paths on a new kernel. */
    const char *cap = secure_getenv("AGENTSBX_TEST_LANDLOCK_ABI");
    if (cap && *cap) {
        char *end;
        long v = strtol(cap, &end, 10);
        if (*end == '\0' && v >= 0 && v < kernel_abi)
            kernel_abi = (int)v;
    }
}

int sbx_landlock_abi(void)
{
    pthread_once(&abi_once, probe_abi);
    return kernel_abi > 0 ? kernel_abi : 0;
}

int sbx__landlock_observed(char *buf, size_t size)
{
    pthread_once(&abi_once, probe_abi);
    int err = kernel_abi < 0 ? -kernel_abi : 0;
    struct utsname u;
    int major = 0, minor = 0;
    if (uname(&u) == 0)
        sscanf(u.release, "%d.%d", &major, &minor);
    if (kernel_abi > 0)
        snprintf(buf, size, "kernel Landlock ABI %d", kernel_abi);
    else if (kernel_abi == 0)
        snprintf(buf, size, "disabled for testing by AGENTSBX_TEST_LANDLOCK_ABI=0");
    else if (err == ENOSYS)
        snprintf(
            buf, size,
            "landlock_create_ruleset returned ENOSYS: the kernel lacks Landlock (Linux older "
            "than 5.13, or built without CONFIG_SECURITY_LANDLOCK; this is Linux %d.%d), or the "
            "program runs under valgrind or an emulator (valgrind does not know this system "
            "call)",
            major, minor);
    else if (err == EOPNOTSUPP)
        snprintf(buf, size,
                 "landlock_create_ruleset returned EOPNOTSUPP: Landlock is built into this "
                 "kernel but disabled at boot (add landlock to the lsm= boot parameter)");
    else
        snprintf(buf, size,
                 "landlock_create_ruleset returned %s (%s): blocked, perhaps by a container's "
                 "seccomp profile",
                 sbx_errname(-err), strerror(err));
    return kernel_abi > 0 ? kernel_abi : 0;
}

static uint64_t fs_rights_for_abi(int abi)
{
    uint64_t r = LL_FS_ABI1;
    if (abi >= 2)
        r |= LL_FS_REFER;
    if (abi >= 3)
        r |= LL_FS_TRUNCATE;
    if (abi >= 5)
        r |= LL_FS_IOCTL_DEV;
    return r;
}

/* ---- grants (policy side) ---------------------------------------------------- */

static int push_grant(sbx_policy *policy, const char *path, uint64_t access)
{
    for (size_t i = 0; i < policy->n_grants; i++) {
        if (strcmp(policy->grants[i].path, path) == 0) {
            policy->grants[i].access |= access;
            return 0;
        }
    }
    if (policy->n_grants == policy->cap_grants) {
        size_t cap = policy->cap_grants ? policy->cap_grants * 2 : 16;
        struct sbx__grant *g = realloc(policy->grants, cap * sizeof(*g));
        if (!g)
            return -ENOMEM;
        policy->grants = g;
        policy->cap_grants = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    policy->grants[policy->n_grants++] = (struct sbx__grant){copy, access, false};
    return 0;
}

void sbx__grants_free(sbx_policy *policy)
{
    for (size_t i = 0; i < policy->n_unix_sockets; i++)
        free(policy->unix_sockets[i]);
    free(policy->unix_sockets);
    for (size_t i = 0; i < policy->n_grants; i++)
        free(policy->grants[i].path);
    free(policy->grants);
    free(policy->connect_ports);
    free(policy->bind_ports);
}

int sbx_allow_path(sbx_policy *policy, const char *path, uint64_t access)
{
    sbx__check_arg(policy);
    sbx__check_arg(path);
    sbx__check(path[0] == '/', "sbx_allow_path: '%s' is not an absolute path", path);
    sbx__check(strlen(path) < PATH_MAX, "sbx_allow_path: the path is longer than PATH_MAX");
    sbx__check(access & SBX__FS_GRANTS,
               "sbx_allow_path(%s): access grants nothing (use SBX_FS_READ, _WRITE, _EXEC)", path);
    sbx__check((access & ~(SBX__FS_GRANTS | SBX_FS_OPTIONAL)) == 0,
               "sbx_allow_path(%s): unknown access bits 0x%llx", path,
               (unsigned long long)(access & ~(SBX__FS_GRANTS | SBX_FS_OPTIONAL)));
    char why[PATH_MAX + 160];
    int fd = sbx__open_grant(path, NULL, NULL, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err(-ELOOP, "sbx_allow_path(%s): %s", path, why);
    if (fd < 0 && !((access & SBX_FS_OPTIONAL) && (fd == -ENOENT || fd == -ENOTDIR)))
        return sbx__errno(fd, "sbx_allow_path(%s)", path);
    if (fd >= 0)
        close(fd);
    if (push_grant(policy, path, access) < 0)
        return sbx__errno(-ENOMEM, "sbx_allow_path(%s)", path);
    sbx__policy_changed(policy);
    return 0;
}

/* What the tool is known to execute (program.c's table): each program found
 * with the child's PATH, and what starts it; each directory that exists.
 * Missing members are skipped. 0, or -ENOMEM. */
static int allow_helpers(sbx_policy *policy, const char *tool, const char *path_env)
{
    const struct sbx__tool_bundle *b = sbx__tool_bundle_of(tool);
    if (!b)
        return 0;
    char word[PATH_MAX];
    for (int dirs = 0; dirs < 2; dirs++) {
        for (const char *w = dirs ? b->dirs : b->programs; *w;) {
            w += strspn(w, " ");
            size_t len = strcspn(w, " ");
            if (!len || len >= sizeof(word))
                break;
            memcpy(word, w, len);
            word[len] = '\0';
            w += len;
            struct stat st;
            if (dirs) {
                if (stat(word, &st) == 0 && S_ISDIR(st.st_mode) &&
                    push_grant(policy, word, SBX_FS_READ | SBX_FS_EXEC) < 0)
                    return -ENOMEM;
                continue;
            }
            struct sbx__program prog;
            if (sbx__program_resolve(word, path_env, &prog) < 0 || prog.err)
                continue;
            for (size_t i = 0; i < prog.n; i++)
                if (prog.path[i][0] == '/' &&
                    push_grant(policy, prog.path[i], SBX_FS_READ | SBX_FS_EXEC) < 0)
                    return -ENOMEM;
        }
    }
    return 0;
}

int sbx_allow_tool(sbx_policy *policy, const char *name_or_path)
{
    sbx__check_arg(policy);
    sbx__check_arg(name_or_path);
    sbx__check(name_or_path[0], "sbx_allow_tool: the tool name is empty");
    const struct sbx__env_entry *e = NULL; /* the child's PATH */
    for (size_t i = 0; i < policy->n_env; i++)
        if (strcmp(policy->env[i].name, "PATH") == 0)
            e = &policy->env[i];
    const char *path_env = e ? e->value : NULL;
    if (strchr(name_or_path, '/')) {
        sbx__check(name_or_path[0] == '/',
                   "sbx_allow_tool: '%s' is neither a name nor an absolute path", name_or_path);
        if (access(name_or_path, X_OK) != 0)
            return sbx__errno(-errno, "sbx_allow_tool(%s)", name_or_path);
    }
    /* The rule sbx_spawn() finds a program by (lib/util/program.c), and what
     * starts it: its interpreters and their loaders. */
    struct sbx__program prog;
    int r = sbx__program_resolve(name_or_path, path_env, &prog);
    if (r < 0)
        return sbx__err(r, "sbx_allow_tool(%s): not found in PATH=%s", name_or_path,
                        path_env ? path_env : "");
    if (prog.err)
        return sbx__errno(prog.err, "sbx_allow_tool(%s): reading %s", name_or_path, prog.failed);
    for (size_t i = 0; i < prog.n; i++)
        if (prog.path[i][0] == '/' &&
            push_grant(policy, prog.path[i], SBX_FS_READ | SBX_FS_EXEC) < 0)
            return sbx__errno(-ENOMEM, "sbx_allow_tool(%s)", name_or_path);
    if (allow_helpers(policy, name_or_path, path_env) < 0)
        return sbx__errno(-ENOMEM, "sbx_allow_tool(%s)", name_or_path);
    sbx__policy_changed(policy);
    return 0;
}

static int push_port(uint16_t **ports, size_t *n, int port)
{
    uint16_t *grown = realloc(*ports, (*n + 1) * sizeof(**ports));
    if (!grown)
        return -ENOMEM;
    grown[(*n)++] = (uint16_t)port;
    *ports = grown;
    return 0;
}

int sbx_allow_connect(sbx_policy *policy, int port)
{
    sbx__check_arg(policy);
    sbx__check(port >= 1 && port <= 65535, "sbx_allow_connect: port %d is not in 1..65535", port);
    if (push_port(&policy->connect_ports, &policy->n_connect, port) < 0)
        return sbx__errno(-ENOMEM, "sbx_allow_connect(%d)", port);
    sbx__policy_changed(policy);
    return 0;
}

int sbx_allow_bind(sbx_policy *policy, int port)
{
    sbx__check_arg(policy);
    sbx__check(port >= 0 && port <= 65535, "sbx_allow_bind: port %d is not in 0..65535", port);
    if (push_port(&policy->bind_ports, &policy->n_bind, port) < 0)
        return sbx__errno(-ENOMEM, "sbx_allow_bind(%d)", port);
    sbx__policy_changed(policy);
    return 0;
}

int sbx_allow_unix_socket(sbx_policy *policy, const char *path)
{
    sbx__check_arg(policy);
    sbx__check_arg(path);
    sbx__check(path[0] == '/', "sbx_allow_unix_socket: '%s' is not an absolute path", path);
    sbx__check(strlen(path) < 108, "sbx_allow_unix_socket(%s): longer than 107 bytes (sun_path)",
               path);
    char why[PATH_MAX + 160];
    int fd = sbx__open_grant(path, NULL, NULL, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err(-ELOOP, "sbx_allow_unix_socket(%s): %s", path, why);
    if (fd < 0)
        return sbx__errno(fd, "sbx_allow_unix_socket(%s)", path);
    struct stat st;
    int is_sock = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    close(fd);
    if (!is_sock)
        return sbx__err(-ENOTSOCK, "sbx_allow_unix_socket(%s): not a unix socket", path);
    for (size_t i = 0; i < policy->n_unix_sockets; i++)
        if (strcmp(policy->unix_sockets[i], path) == 0)
            return 0;
    char **grown = realloc(policy->unix_sockets, (policy->n_unix_sockets + 1) * sizeof(*grown));
    char *copy = grown ? strdup(path) : NULL;
    if (grown)
        policy->unix_sockets = grown;
    if (!copy)
        return sbx__errno(-ENOMEM, "sbx_allow_unix_socket(%s)", path);
    policy->unix_sockets[policy->n_unix_sockets++] = copy;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_allow_network(sbx_policy *policy)
{
    sbx__check_arg(policy);
    policy->allow_network = true;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_exec_mode(sbx_policy *policy, int mode)
{
    sbx__check_arg(policy);
    sbx__check(mode == SBX_EXEC_ALLOWLIST || mode == SBX_EXEC_SYSTEM,
               "%s: %d is not an exec mode (allowlist 0, system 1)", __func__, mode);
    policy->exec_system = mode == SBX_EXEC_SYSTEM;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_policy_exec_mode(const sbx_policy *policy)
{
    return policy && policy->exec_system ? SBX_EXEC_SYSTEM : SBX_EXEC_ALLOWLIST;
}

const char *sbx_exec_mode_name(int mode)
{
    return mode == SBX_EXEC_ALLOWLIST ? "allowlist" : mode == SBX_EXEC_SYSTEM ? "system" : NULL;
}

int sbx_set_private_tmp(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "sbx_set_private_tmp: on must be 0 or 1, got %d", on);
    policy->private_tmp = on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_tmp_parent(sbx_policy *policy, const char *dir)
{
    sbx__check_arg(policy);
    sbx__check_arg(dir);
    sbx__check(dir[0] == '/', "sbx_set_tmp_parent: '%s' is not an absolute path", dir);
    sbx__check(strlen(dir) <= SBX__TMP_PARENT_MAX,
               "sbx_set_tmp_parent: the path is longer than %d bytes", SBX__TMP_PARENT_MAX);
    struct stat st;
    if (stat(dir, &st) != 0)
        return sbx__errno(-errno, "sbx_set_tmp_parent(%s)", dir);
    if (!S_ISDIR(st.st_mode))
        return sbx__errno(-ENOTDIR, "sbx_set_tmp_parent(%s)", dir);
    char *copy = strdup(dir);
    if (!copy)
        return sbx__errno(-ENOMEM, "sbx_set_tmp_parent(%s)", dir);
    free(policy->tmp_parent);
    policy->tmp_parent = copy;
    sbx__policy_changed(policy);
    return 0;
}

/* ---- compiling ------------------------------------------------------------------ */

/* The default read-only view: what ordinary programs need, and nothing more. */
static const struct {
    const char *path;
    uint64_t access;
} default_grants[] = {
    {"/usr", SBX_FS_READ},
    {"/bin", SBX_FS_READ},
    {"/sbin", SBX_FS_READ},
    {"/lib", SBX_FS_READ},
    {"/lib64", SBX_FS_READ},
    {"/lib32", SBX_FS_READ},
    {"/libx32", SBX_FS_READ},
    {"/etc", SBX_FS_READ},
    {"/dev/null", SBX_FS_READ | SBX_FS_WRITE},
    {"/dev/zero", SBX_FS_READ | SBX_FS_WRITE},
    {"/dev/full", SBX_FS_READ | SBX_FS_WRITE},
    {"/dev/random", SBX_FS_READ},
    {"/dev/urandom", SBX_FS_READ},
    {"/dev/tty", SBX_FS_READ | SBX_FS_WRITE},
};

/* What SBX_EXEC_SYSTEM lets the child execute: the system directories of the
 * default view, /etc aside (view.c makes the same binds executable). */
static const char *const system_roots[] = {"/usr",   "/bin",   "/sbin",  "/lib",
                                           "/lib64", "/lib32", "/libx32"};

static bool path_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1)
        return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Whether path and dir overlap (one is beneath the other), by name or by
 * the paths they resolve to now (/bin is usr/bin on a merged /usr). */
static bool overlaps(const char *path, const char *dir)
{
    if (path_under(path, dir) || path_under(dir, path))
        return true;
    char rp[PATH_MAX], rd[PATH_MAX];
    if (!realpath(dir, rd))
        return false;
    if (!realpath(path, rp)) {
        /* A path that does not exist yet (a bind's or tmpfs's place in the
         * view): its deepest existing ancestor decides. */
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof(tmp), "%s", path);
        char *slash;
        while ((slash = strrchr(tmp, '/')) && slash != tmp) {
            *slash = '\0';
            if (realpath(tmp, rp))
                return path_under(rp, rd) || path_under(rd, rp);
        }
        return false;
    }
    return path_under(rp, rd) || path_under(rd, rp);
}

/* SBX_EXEC_SYSTEM: nothing the child may write may also be executable. */
static int check_exec_system(const sbx_policy *policy)
{
    if (!policy->exec_system)
        return 0;
    struct {
        const char *path, *what;
    } w[policy->n_grants + 2 * policy->n_binds + policy->n_tmpfs + 2];
    size_t n = 0;
    for (size_t i = 0; i < policy->n_grants; i++)
        if (policy->grants[i].access & SBX__FS_WRITES)
            w[n].path = policy->grants[i].path, w[n++].what = "a write grant";
    for (size_t i = 0; i < policy->n_binds; i++)
        if (policy->binds[i].access & SBX__FS_WRITES) {
            w[n].path = policy->binds[i].src, w[n++].what = "the source of a writable bind";
            w[n].path = policy->binds[i].dest, w[n++].what = "a writable bind";
        }
    for (size_t i = 0; i < policy->n_tmpfs; i++)
        w[n].path = policy->tmpfs[i].path, w[n++].what = "a tmpfs";
    if (policy->workdir)
        w[n].path = policy->workdir, w[n++].what = "the working directory";
    if (policy->private_tmp && policy->tmp_parent)
        w[n].path = policy->tmp_parent, w[n++].what = "the temporary directories' parent";
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof(system_roots) / sizeof(system_roots[0]); k++)
            if (overlaps(w[i].path, system_roots[k]))
                return sbx__err_stage(
                    SBX_STAGE_COMPILE, -EINVAL,
                    "exec mode system: %s is %s, and overlaps the system directory %s, whose "
                    "programs the child may execute; nothing may be both writable and "
                    "executable: write elsewhere, or keep the exec allow-list",
                    w[i].path, w[i].what, system_roots[k]);
    return 0;
}

static uint64_t to_ll(uint64_t access)
{
    uint64_t r = 0;
    if (access & SBX_FS_READ)
        r |= LL_GROUP_READ;
    if (access & SBX_FS_WRITE)
        r |= LL_GROUP_WRITE;
    if (access & SBX_FS_WRITE_FILE)
        r |= LL_FS_WRITE_FILE;
    if (access & SBX_FS_TRUNCATE)
        r |= LL_FS_TRUNCATE;
    if (access & SBX_FS_CREATE)
        r |= LL_FS_MAKE_REG | LL_FS_MAKE_DIR;
    if (access & SBX_FS_REMOVE)
        r |= LL_FS_REMOVE_FILE | LL_FS_REMOVE_DIR;
    if (access & SBX_FS_MAKE_SYMLINK)
        r |= LL_FS_MAKE_SYM;
    if (access & SBX_FS_MAKE_SPECIAL)
        r |= LL_FS_MAKE_FIFO | LL_FS_MAKE_SOCK;
    if (access & SBX_FS_REFER)
        r |= LL_FS_REFER;
    if (access & SBX_FS_IOCTL_DEV)
        r |= LL_FS_IOCTL_DEV;
    if (access & SBX_FS_EXEC)
        r |= LL_GROUP_EXEC;
    return r;
}

static int add_rule_fd(struct sbx__landlock_plan *ll, int fd, uint64_t access)
{
    if (ll->n_rules == SBX__MAX_LL_RULES) {
        close(fd);
        return sbx__err_stage(SBX_STAGE_COMPILE, -E2BIG, "landlock: more than %d path grants",
                              SBX__MAX_LL_RULES);
    }
    ll->rules[ll->n_rules].fd = fd;
    ll->rules[ll->n_rules].access = access;
    ll->n_rules++;
    return 0;
}

/* Open a grant (never through a link a sandboxed child could have made:
 * pathwalk.c) and record it with the rights the ABI has, narrowed to file
 * rights when the path is not a directory. */
static int add_grant(struct sbx__landlock_plan *ll, const char *path, uint64_t access,
                     const struct sbx__write_dirs *writable)
{
    char why[PATH_MAX + 160];
    int fd = sbx__open_grant(path, writable, NULL, why, sizeof(why));
    if (fd == -ELOOP && why[0])
        return sbx__err_stage(SBX_STAGE_COMPILE, -ELOOP, "landlock: grant %s: %s", path, why);
    if (fd < 0) {
        if (access & SBX_FS_OPTIONAL && (fd == -ENOENT || fd == -ENOTDIR))
            return 0;
        return sbx__err_stage(SBX_STAGE_COMPILE, fd, "landlock: cannot open '%s'", path);
    }
    struct stat st;
    uint64_t rights = to_ll(access) & ll->handled_fs;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
        rights &= LL_FS_FILE_RIGHTS;
    return add_rule_fd(ll, fd, rights);
}

void sbx__landlock_plan_free(struct sbx__landlock_plan *ll)
{
    if (!ll)
        return;
    for (size_t i = 0; i < ll->n_rules; i++)
        close(ll->rules[i].fd);
    free(ll->listable);
    free(ll->rule_paths);
    free(ll->start_cwd);
    free(ll);
}

/* Name the first right this ABI lacks among those the policy needs. */
static const char *missing_right(const sbx_policy *policy, int abi)
{
    if (abi < 1)
        return "Landlock itself";
    if (abi < 3)
        return "LANDLOCK_ACCESS_FS_TRUNCATE (ABI 3, Linux 6.2)";
    if (abi < 4 && !policy->allow_network)
        return "LANDLOCK_ACCESS_NET_BIND_TCP/CONNECT_TCP (ABI 4, Linux 6.7)";
    if (abi < 5)
        return "LANDLOCK_ACCESS_FS_IOCTL_DEV (ABI 5, Linux 6.10)";
    if (abi < 6)
        return "LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET/SIGNAL (ABI 6, Linux 6.12)";
    return NULL;
}

int sbx__landlock_compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    int r = check_exec_system(policy);
    if (r < 0)
        return r;
    pthread_once(&abi_once, probe_abi);
    char observed[512];
    int abi = sbx__landlock_observed(observed, sizeof(observed));
    const char *missing = missing_right(policy, abi);
    if (missing && !(policy->best_effort & SBX_LAYER_LANDLOCK))
        return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                              "landlock: this kernel cannot enforce %s (%s); "
                              "mark SBX_LAYER_LANDLOCK best-effort to run without it",
                              missing, observed);
    if (abi < 1)
        return 0; /* best-effort, and nothing to enforce with */

    struct sbx__landlock_plan *ll = calloc(1, sizeof(*ll));
    if (!ll)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "landlock");
    ll->abi = abi;
    ll->handled_fs = fs_rights_for_abi(abi);
    ll->rights = SBX_LL_FS | SBX_LL_EXEC;
    if (abi >= 2)
        ll->rights |= SBX_LL_REFER;
    if (abi >= 3)
        ll->rights |= SBX_LL_TRUNCATE;
    if (abi >= 5)
        ll->rights |= SBX_LL_IOCTL_DEV;
    if (abi >= 4 && !policy->allow_network) {
        ll->handled_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        ll->rights |= SBX_LL_TCP;
    }
    if (abi >= 6) {
        ll->scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
        ll->rights |= SBX_LL_SCOPE;
    }
    ll->private_tmp = policy->private_tmp; /* where: sbx__tmp_compile() (tmpdir.c) */

    /* The directories this policy's children may write: links there are never followed. */
    const char *wpaths[policy->n_grants + policy->n_binds + 1];
    struct sbx__write_dirs writable = {wpaths, 0};
    for (size_t i = 0; i < policy->n_grants; i++)
        if (policy->grants[i].access & SBX__FS_WRITES)
            wpaths[writable.n++] = policy->grants[i].path;
    for (size_t i = 0; i < policy->n_binds; i++)
        if (policy->binds[i].access & SBX__FS_WRITES)
            wpaths[writable.n++] = policy->binds[i].src;
    if (policy->workdir)
        wpaths[writable.n++] = policy->workdir;
    for (size_t i = 0; r == 0 && i < sizeof(default_grants) / sizeof(default_grants[0]); i++)
        r = add_grant(ll, default_grants[i].path, default_grants[i].access | SBX_FS_OPTIONAL,
                      &writable);
    for (size_t i = 0;
         r == 0 && policy->exec_system && i < sizeof(system_roots) / sizeof(system_roots[0]); i++)
        r = add_grant(ll, system_roots[i], SBX_FS_READ | SBX_FS_EXEC | SBX_FS_OPTIONAL, &writable);
    if (r == 0 && policy->workdir)
        r = add_grant(ll, policy->workdir, SBX_FS_READ | SBX_FS_WRITE | SBX_FS_OPTIONAL, &writable);
    for (size_t i = 0; r == 0 && i < policy->n_grants; i++)
        r = add_grant(ll, policy->grants[i].path, policy->grants[i].access, &writable);
    /* sbx_bind(): the source's objects, whatever path shows them (carve.c) */
    for (size_t i = 0; r == 0 && i < policy->n_binds; i++)
        r = add_grant(ll, policy->binds[i].src, policy->binds[i].access, &writable);
    if (r < 0) {
        sbx__landlock_plan_free(ll);
        return r;
    }
    /* Ports are only rules while TCP is handled. */
    if (ll->handled_net) {
        for (size_t i = 0; i < policy->n_connect && ll->n_ports < SBX__MAX_LL_PORTS; i++)
            ll->ports[ll->n_ports++] =
                (struct sbx__ll_port){policy->connect_ports[i], LL_NET_CONNECT_TCP};
        for (size_t i = 0; i < policy->n_bind && ll->n_ports < SBX__MAX_LL_PORTS; i++)
            ll->ports[ll->n_ports++] =
                (struct sbx__ll_port){policy->bind_ports[i], LL_NET_BIND_TCP};
        if (policy->n_connect + policy->n_bind > SBX__MAX_LL_PORTS) {
            sbx__landlock_plan_free(ll);
            return sbx__err_stage(SBX_STAGE_COMPILE, -E2BIG, "landlock: more than %d port grants",
                                  SBX__MAX_LL_PORTS);
        }
    }
    plan->landlock = ll;
    plan->fs = (struct sbx__fs_rights){
        .read = to_ll(SBX_FS_READ) & ll->handled_fs,
        .write = to_ll(SBX_FS_WRITE) & ll->handled_fs,
        .exec = to_ll(SBX_FS_EXEC) & ll->handled_fs,
        .list = LL_FS_READ_DIR & ll->handled_fs,
        .tmp = ll->private_tmp ? to_ll(SBX_FS_READ | SBX_FS_WRITE) & ll->handled_fs : 0,
    };
    plan->layers |= SBX_LAYER_LANDLOCK;
    return 0;
}

/* ---- the starting directory --------------------------------------------------------- */

/* Whether the rules let the child list dir: as Landlock decides, the rights of
 * the rules on dir and on each directory above it (".." crosses mount points
 * as Landlock's walk does), matched by inode (`listable`: the directories of
 * rules with READ_DIR). System calls only: no allocation. */
struct listable_walk {
    const struct sbx__ll_inode *listable;
    size_t n;
};

static bool is_listable(const struct stat *st, void *arg)
{
    const struct listable_walk *w = arg;
    for (size_t i = 0; i < w->n; i++)
        if (w->listable[i].dev == st->st_dev && w->listable[i].ino == st->st_ino)
            return true;
    return false;
}

static bool dir_listable(const struct sbx__ll_inode *listable, size_t n, int dir)
{
    struct listable_walk w = {listable, n};
    return sbx__walk_up(dir, is_listable, &w);
}

/* Whether the child can use the host's current directory: list it, or reach
 * by a relative path something granted at or beneath it (a file, a writable
 * subdirectory); its path in buf (or "" when getcwd failed). */
static bool cwd_usable(const struct sbx__landlock_plan *ll, char *buf, size_t size)
{
    if (!getcwd(buf, size))
        buf[0] = '\0';
    for (size_t at = 0; buf[0] == '/' && at < ll->rule_paths_len;) {
        const char *p = ll->rule_paths + at;
        if (sbx__path_under(p, buf))
            return true;
        at += strlen(p) + 1;
    }
    int fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    bool ok = fd >= 0 && dir_listable(ll->listable, ll->n_listable, fd);
    if (fd >= 0)
        close(fd);
    return ok;
}

int sbx__landlock_check_start(const sbx_policy *policy, struct sbx__plan *plan)
{
    struct sbx__landlock_plan *ll = plan->landlock;
    if (!ll || !(ll->handled_fs & LL_FS_READ_DIR))
        return 0;
    struct stat st;
    if (!(ll->listable = calloc(ll->n_rules + 1, sizeof(*ll->listable))))
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "landlock");
    for (size_t i = 0; i < ll->n_rules; i++)
        if ((ll->rules[i].access & LL_FS_READ_DIR) && fstat(ll->rules[i].fd, &st) == 0)
            ll->listable[ll->n_listable++] = (struct sbx__ll_inode){st.st_dev, st.st_ino};
    if (!policy->workdir) {
        /* The host's current directory, where a child of this policy starts
         * unless the spawn names a directory: decided now for the directory
         * the host is in, again per spawn only if the host moved. */
        char cwd[PATH_MAX];
        size_t cap = 0;
        for (size_t i = 0; i < ll->n_rules; i++) { /* the rules' paths, NUL-separated */
            if (!(ll->rules[i].access & ll->handled_fs))
                continue; /* all taken away (a deny) */
            if (!sbx__fd_path(ll->rules[i].fd, cwd, sizeof(cwd)) || cwd[0] != '/')
                continue; /* no /proc: the directory alone decides */
            size_t n = strlen(cwd);
            if (ll->rule_paths_len + n + 1 > cap) {
                cap = (ll->rule_paths_len + n + 1) * 2;
                char *grown = realloc(ll->rule_paths, cap);
                if (!grown)
                    return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "landlock");
                ll->rule_paths = grown;
            }
            memcpy(ll->rule_paths + ll->rule_paths_len, cwd, n);
            ll->rule_paths[ll->rule_paths_len + n] = '\0';
            ll->rule_paths_len += n + 1;
        }
        ll->start_usable = cwd_usable(ll, cwd, sizeof(cwd));
        if (cwd[0] && !(ll->start_cwd = strdup(cwd)))
            return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "landlock");
        return 0;
    }
    /* a missing working directory, or a file: chdir's to report */
    if (plan->workdir_fd < 0 || fstat(plan->workdir_fd, &st) != 0 || !S_ISDIR(st.st_mode) ||
        dir_listable(ll->listable, ll->n_listable, plan->workdir_fd))
        return 0;
    /* It is granted read and write: a deny beneath a grant took that away. */
    return sbx__err_stage(SBX_STAGE_WORKDIR, -EACCES,
                          "the child would start in %s (the policy's working directory), which "
                          "the policy does not let it read: a deny covers it (sbx_deny_path(), "
                          "--deny-read); choose another working directory (sbx_set_workdir(), "
                          "--workdir DIR) or deny less",
                          policy->workdir);
}

/* A spawn that names no working directory starts in the host's current one
 * (the policy's would be checked when it was compiled, this spawn's is the
 * host's choice): when the rules neither let the child read it nor grant
 * anything beneath it, every relative path would fail there, so the child
 * starts in / instead (as in the mount view, which shows no directory the
 * policy does not grant), and its result says so. The common case costs a
 * getcwd and a path compare. */
static int choose_start(struct sbx__spawn *s)
{
    const struct sbx__landlock_plan *ll = s->plan->landlock;
    bool view = s->plan->ns && s->plan->ns->mount_view;
    if (s->opts->workdir && ll->listable && !view) {
        /* This spawn's own directory: refused as the policy's is when it is
         * compiled, when the rules do not let the child read it. (In the mount
         * view the path names the view's: its own /tmp, or nothing, which
         * chdir reports.) */
        int fd = open(s->opts->workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        bool readable = fd < 0 || dir_listable(ll->listable, ll->n_listable, fd);
        if (fd >= 0)
            close(fd);
        if (!readable) /* a missing one: chdir reports it */
            return sbx__err_stage(SBX_STAGE_WORKDIR, -EACCES,
                                  "the child would start in %s (this spawn's working directory, "
                                  "sbx_spawn_opts.workdir), which the policy does not let it "
                                  "read; grant it read (sbx_allow_path(p, DIR, SBX_FS_READ), "
                                  "--ro DIR) or choose another",
                                  s->opts->workdir);
    }
    if (s->opts->workdir || s->plan->workdir || !ll->listable)
        return 0;
    /* In s->cwd_buf: the mount view enters the directory decided for here
     * (namespace.c), and a sandbox prepared ahead is taken only while the
     * host is still there (its set-up runs on another thread, and the host
     * may move meanwhile). */
    char *cwd = s->cwd_buf;
    size_t size = sizeof(s->cwd_buf);
    bool ok;
    if (getcwd(cwd, size) && ll->start_cwd && strcmp(cwd, ll->start_cwd) == 0)
        ok = ll->start_usable;
    else
        ok = cwd_usable(ll, cwd, size);
    /* A program named relative to the host's directory ("./tool") is named
     * from there; one that cannot be (no path) keeps the child where it is. */
    const char *prog = s->prog.n ? s->prog.path[0] : NULL;
    if (ok || (prog && prog[0] != '/' &&
               (!cwd[0] || (size_t)snprintf(s->program_abs, sizeof(s->program_abs), "%s/%s", cwd,
                                            prog) >= sizeof(s->program_abs))))
        return 0;
    if (prog && prog[0] != '/')
        s->prog.path[0] = s->program_abs;
    const char *dir = cwd[0] ? cwd : "(getcwd failed)";
    if (asprintf(&s->child->start_note,
                 "the child started in / instead of the host's current directory %s, which the "
                 "policy does not let it read; set a working directory (sbx_set_workdir(), "
                 "--workdir DIR) or grant it read (sbx_allow_path(p, DIR, SBX_FS_READ), --ro DIR)",
                 dir) < 0) {
        s->child->start_note = NULL;
        return sbx__err_stage(SBX_STAGE_CLONE, -ENOMEM, "sbx_spawn");
    }
    s->start_root = true; /* the child enters / after the mount view, if any, is built */
    return 0;
}

/* ---- per spawn --------------------------------------------------------------------- */

static int add_path_rule(int ruleset, int fd, uint64_t access)
{
    struct ll_path_beneath pb = {.allowed_access = access, .parent_fd = fd};
    if (access == 0)
        return 0;
    return (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
}

struct exec_ctx {
    int ruleset;
    uint64_t handled;
    int err;
    char failed[PATH_MAX];
};

static int allow_exec(const char *path, void *arg)
{
    struct exec_ctx *x = arg;
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0 ||
        add_path_rule(x->ruleset, fd, (LL_FS_EXECUTE | LL_FS_READ_FILE) & x->handled) != 0) {
        x->err = -errno;
        snprintf(x->failed, sizeof(x->failed), "%s", path);
        if (fd >= 0)
            close(fd);
        return x->err;
    }
    close(fd);
    return 0;
}

/* A spawn: the child's ruleset, from the compiled rules, the program and what
 * starts it. Later layers add rules of their own (the private TMPDIR). */
static int prepare(struct sbx__spawn *s)
{
    const struct sbx__landlock_plan *ll = s->plan->landlock;
    const struct sbx__program *prog = &s->prog;
    if (!ll)
        return 0;
    struct ll_ruleset_attr attr = {ll->handled_fs, ll->handled_net, ll->scoped};
    size_t attr_size = ll->abi >= 6 ? sizeof(attr) : ll->abi >= 4 ? 16 : 8;
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
    if (rs < 0)
        return sbx__err_stage(SBX_STAGE_LANDLOCK, -errno, "landlock_create_ruleset");
    int r = 0;
    for (size_t i = 0; i < ll->n_rules; i++) {
        if (add_path_rule(rs, ll->rules[i].fd, ll->rules[i].access) != 0) {
            r = sbx__err_stage(SBX_STAGE_LANDLOCK, -errno, "landlock_add_rule(grant %zu)", i);
            goto fail;
        }
    }
    for (size_t i = 0; i < ll->n_ports; i++) {
        struct ll_net_port np = {ll->ports[i].access, ll->ports[i].port};
        if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0) != 0) {
            r = sbx__err_stage(SBX_STAGE_LANDLOCK, -errno, "landlock_add_rule(port %u)",
                               (unsigned)ll->ports[i].port);
            goto fail;
        }
    }
    /* The program itself, and the interpreters it needs to start. */
    struct exec_ctx x = {.ruleset = rs, .handled = ll->handled_fs};
    for (size_t i = 0; i < prog->n && !x.err; i++)
        allow_exec(prog->path[i], &x);
    if (!x.err && prog->err) {
        x.err = prog->err;
        snprintf(x.failed, sizeof(x.failed), "%s", prog->failed);
    }
    if (x.err) {
        /* The program or an interpreter it names is missing or unreadable:
         * execve would fail the same way, so report it as the program's fault. */
        const char *program = prog->n ? prog->path[0] : x.failed;
        r = x.err == -ELOOP
                ? sbx__err_stage(SBX_STAGE_PROGRAM, x.err,
                                 "execve(%s): more than %d files to start it (interpreters, "
                                 "loaders), the last %s",
                                 program, SBX__PROGRAM_MAX, x.failed)
            : strcmp(x.failed, program) == 0
                ? sbx__err_stage(SBX_STAGE_PROGRAM, x.err, "execve(%s)", program)
                : sbx__err_stage(SBX_STAGE_PROGRAM, x.err, "execve(%s): its interpreter %s",
                                 program, x.failed);
        goto fail;
    }
    if ((r = choose_start(s)) < 0)
        goto fail;
    s->ruleset = rs;
    return 0;
fail:
    close(rs);
    return r;
}

static void launched(struct sbx__spawn *s)
{
    if (s->ruleset >= 0)
        close(s->ruleset); /* the child restricted itself with it, or failed */
    s->ruleset = -1;
}

static void abort_spawn(struct sbx__spawn *s)
{
    launched(s); /* close the ruleset */
    free(s->child->start_note);
    s->child->start_note = NULL;
}

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    if (from->n_grants && !(to->grants = calloc(from->n_grants, sizeof(*to->grants))))
        return -ENOMEM;
    to->cap_grants = from->n_grants;
    for (size_t i = 0; i < from->n_grants; i++) {
        if (!(to->grants[i].path = strdup(from->grants[i].path)))
            return -ENOMEM;
        to->grants[i].access = from->grants[i].access;
        to->n_grants++;
    }
    if (from->n_connect) {
        if (!(to->connect_ports = malloc(from->n_connect * sizeof(*to->connect_ports))))
            return -ENOMEM;
        memcpy(to->connect_ports, from->connect_ports,
               from->n_connect * sizeof(*to->connect_ports));
        to->n_connect = from->n_connect;
    }
    if (from->n_bind) {
        if (!(to->bind_ports = malloc(from->n_bind * sizeof(*to->bind_ports))))
            return -ENOMEM;
        memcpy(to->bind_ports, from->bind_ports, from->n_bind * sizeof(*to->bind_ports));
        to->n_bind = from->n_bind;
    }
    to->allow_network = from->allow_network;
    to->exec_system = from->exec_system;
    if (!(to->unix_sockets = calloc(from->n_unix_sockets + 1, sizeof(char *))))
        return -ENOMEM;
    for (size_t i = 0; i < from->n_unix_sockets; i++) {
        if (!(to->unix_sockets[i] = strdup(from->unix_sockets[i])))
            return -ENOMEM;
        to->n_unix_sockets++;
    }
    return 0;
}

static void plan_free(struct sbx__plan *plan)
{
    sbx__landlock_plan_free(plan->landlock);
}

const struct sbx__layer sbx__layer_landlock = {
    .name = "landlock",
    .policy_free = sbx__grants_free,
    .policy_dup = policy_dup,
    .compile = sbx__landlock_compile,
    .plan_free = plan_free,
    .prepare = prepare,
    .launched = launched,
    .abort = abort_spawn,
};

/* In the child: async-signal-safe. */
