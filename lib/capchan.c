/* The capability channel: host operations the child calls over one
 * descriptor (agentsbx/capchan.h, docs/capabilities.md).
 *
 * The policy keeps the operations (name, handler, userdata) and the limits;
 * compiling copies them into a refcounted table the plan and every child hold
 * (a child may outlive its policy and plan). A spawn makes a socketpair: the
 * child's end is inherited at its own number, exported as SBX_CAPS_FD; the
 * host's end is served by the event engine (engine.c calls
 * sbx__capchan_service() from each step).
 *
 * Strictly one call at a time: the host reads one frame, answers it with one
 * write, and takes the next frame only if the child has read the whole reply
 * (SIOCOUTQ is 0). A reply (at most 128 KiB, under the socket's send buffer)
 * therefore always fits, no write ever waits, and the engine needs only
 * readability: a child that sends out of turn, or over the size limit, loses
 * the channel. Everything else (unknown operation, bad JSON, over budget) is
 * refused with a reply. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/sockios.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agentsbx/capchan.h"
#include "layer.h"
#include "tmpdir.h"

#define NAME_MAX_LEN      64
#define REPLY_MAX         (128u * 1024)
#define REQUEST_DEFAULT   (64u * 1024)
#define REQUEST_MIN       64u
#define REQUEST_MAX       (16u * 1024 * 1024)
#define CALLS_DEFAULT     10000u
#define MESSAGE_MAX       1024
#define FRAMES_PER_STEP   8           /* other children of a supervisor get their turn */
#define BUF_KEEP          (8u * 1024) /* a larger buffer is freed after its call */
#define PATTERN_MAX       1024
#define TOOL_DENIALS_KEPT 16
#define TOOL_DENIAL_LEN   200
#define TOOL_OP           "$tool" /* the shim's call: not a name a host can register */

struct sbx__capop {
    char name[NAME_MAX_LEN + 1];
    sbx_capability_fn fn;
    void *userdata;
};

/* A tool the child runs through the host (sbx_allow_tool_args). */
struct sbx__argrule {
    char name[NAME_MAX_LEN + 1]; /* as the child calls it: the shim's link */
    char path[PATH_MAX];         /* the real tool */
    char **allow, **deny;        /* owned, NULL-terminated */
};

/* The directory of the shims' links, shared by a policy, its copies, their
 * plans and children; removed with the last of them. */
struct sbx__shimdir {
    atomic_uint refs;
    char path[SBX__TMPDIR_MAX];
};

/* The policy's settings (owned by the policy), and the compiled table
 * (refcounted: the plan and each child). */
struct sbx__capchan_cfg {
    atomic_uint refs;
    struct sbx__capop *ops;
    size_t n_ops;
    uint64_t max_calls; /* 0: unlimited */
    uint64_t max_request;
    struct sbx__argrule *rules;
    size_t n_rules;
    struct sbx__shimdir *shim; /* a reference, or NULL without rules */
    sbx_policy *tool_policy;   /* compiled table: what the real tools run under */
};

/* One child's channel, in the host. */
struct sbx__capchan {
    struct sbx__capchan_cfg *cfg; /* a reference */
    int fd;                       /* the host's end; -1: closed */
    int epfd;                     /* what the engine waits on: fd, and the running tool */
    int passed[3];                /* descriptors the child sent with the frame being read */
    size_t n_passed;
    sbx_child *tool; /* a tool run for the shim, whose end the shim awaits */
    char tool_name[NAME_MAX_LEN + 1];
    uint64_t tool_start_ns;
    size_t tool_args_bytes;
    uint64_t tool_denials;
    char denied[TOOL_DENIALS_KEPT][TOOL_DENIAL_LEN];
    size_t n_denied;
    unsigned char *in; /* the frame being read: 4 bytes of length, then the JSON */
    size_t in_len, in_cap;
    uint32_t frame_len;
    uint64_t calls, refused;
};

struct sbx_call {
    const char *name;
    const char *args;
    size_t args_len;
    char *reply; /* owned; NULL: null */
    size_t reply_len;
    char message[MESSAGE_MAX + 1];
};

/* ---- the policy ---------------------------------------------------------------- */

static struct sbx__capchan_cfg *cfg_of(sbx_policy *policy)
{
    if (!policy->capchan) {
        policy->capchan = calloc(1, sizeof(*policy->capchan));
        if (policy->capchan) {
            atomic_init(&policy->capchan->refs, 1);
            policy->capchan->max_calls = CALLS_DEFAULT;
            policy->capchan->max_request = REQUEST_DEFAULT;
        }
    }
    return policy->capchan;
}

static void shim_unref(struct sbx__shimdir *shim)
{
    if (shim && atomic_fetch_sub(&shim->refs, 1) == 1) {
        sbx__tmpdir_remove(shim->path);
        free(shim);
    }
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static char **strv_dup(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = calloc(n + 1, sizeof(*out));
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            strv_free(out);
            return NULL;
        }
    return out;
}

static void cfg_unref(struct sbx__capchan_cfg *cfg)
{
    if (cfg && atomic_fetch_sub(&cfg->refs, 1) == 1) {
        for (size_t i = 0; i < cfg->n_rules; i++) {
            strv_free(cfg->rules[i].allow);
            strv_free(cfg->rules[i].deny);
        }
        free(cfg->rules);
        shim_unref(cfg->shim);
        sbx_policy_free(cfg->tool_policy);
        free(cfg->ops);
        free(cfg);
    }
}

static bool name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if (n >= NAME_MAX_LEN || !(name[n] == '_' || name[n] == '.' || name[n] == '-' ||
                                   (name[n] >= '0' && name[n] <= '9') ||
                                   ((name[n] | 0x20) >= 'a' && (name[n] | 0x20) <= 'z')))
            return false;
    return n > 0;
}

int sbx_allow_capability(sbx_policy *policy, const char *name, sbx_capability_fn fn, void *userdata)
{
    sbx__check_arg(policy);
    sbx__check_arg(name);
    sbx__check_arg(fn);
    sbx__check(name_ok(name),
               "%s: operation name \"%.80s\" is not 1 to 64 characters of A-Z a-z 0-9 _ . -",
               __func__, name);
    struct sbx__capchan_cfg *cfg = cfg_of(policy);
    if (!cfg)
        return sbx__errno(-ENOMEM, "%s", __func__);
    for (size_t i = 0; i < cfg->n_ops; i++)
        if (strcmp(cfg->ops[i].name, name) == 0)
            return sbx__err(-EEXIST, "%s: the policy has an operation named \"%s\" already",
                            __func__, name);
    struct sbx__capop *ops = realloc(cfg->ops, (cfg->n_ops + 1) * sizeof(*ops));
    if (!ops)
        return sbx__errno(-ENOMEM, "%s", __func__);
    cfg->ops = ops;
    struct sbx__capop *op = &ops[cfg->n_ops++];
    memset(op, 0, sizeof(*op));
    memcpy(op->name, name, strlen(name));
    op->fn = fn;
    op->userdata = userdata;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_limit_capability_calls(sbx_policy *policy, uint64_t calls)
{
    sbx__check_arg(policy);
    sbx__check(calls > 0, "%s: calls is 0 (use SBX_UNLIMITED for no limit)", __func__);
    struct sbx__capchan_cfg *cfg = cfg_of(policy);
    if (!cfg)
        return sbx__errno(-ENOMEM, "%s", __func__);
    cfg->max_calls = calls == SBX_UNLIMITED ? 0 : calls;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_limit_capability_request(sbx_policy *policy, uint64_t bytes)
{
    sbx__check_arg(policy);
    sbx__check(bytes >= REQUEST_MIN && bytes <= REQUEST_MAX,
               "%s: %llu bytes is out of range (%u to %u)", __func__, (unsigned long long)bytes,
               REQUEST_MIN, REQUEST_MAX);
    struct sbx__capchan_cfg *cfg = cfg_of(policy);
    if (!cfg)
        return sbx__errno(-ENOMEM, "%s", __func__);
    cfg->max_request = bytes;
    sbx__policy_changed(policy);
    return 0;
}

/* The shim's executable: AGENTSBX_SHIM (for a build tree; ignored in a setuid
 * process), else the installed one, else the one of the build tree. */
static const char *shim_program(void)
{
    const char *env = secure_getenv("AGENTSBX_SHIM");
    if (env && env[0] == '/')
        return env;
#ifdef SBX_SHIM_INSTALL_PATH
    if (access(SBX_SHIM_INSTALL_PATH, X_OK) == 0)
        return SBX_SHIM_INSTALL_PATH;
#endif
#ifdef SBX_SHIM_BUILD_PATH
    if (access(SBX_SHIM_BUILD_PATH, X_OK) == 0)
        return SBX_SHIM_BUILD_PATH;
#endif
    return NULL;
}

static const char *policy_path_env(const sbx_policy *policy)
{
    const char *v = NULL;
    for (size_t i = 0; i < policy->n_env; i++)
        if (strcmp(policy->env[i].name, "PATH") == 0)
            v = policy->env[i].value;
    return v;
}

int sbx_allow_tool_args(sbx_policy *policy, const char *tool, const char *const *allow,
                        const char *const *deny)
{
    sbx__check_arg(policy);
    sbx__check_arg(tool);
    sbx__check_arg(allow);
    sbx__check(tool[0], "%s: the tool name is empty", __func__);
    sbx__check(allow[0],
               "%s(%s): allow has no pattern (a tool nothing may run is one not "
               "granted)",
               __func__, tool);
    for (size_t i = 0; allow[i]; i++)
        sbx__check(allow[i][0] && strlen(allow[i]) <= PATTERN_MAX,
                   "%s(%s): allow[%zu] is empty or over %d bytes", __func__, tool, i, PATTERN_MAX);
    for (size_t i = 0; deny && deny[i]; i++)
        sbx__check(deny[i][0] && strlen(deny[i]) <= PATTERN_MAX,
                   "%s(%s): deny[%zu] is empty or over %d bytes", __func__, tool, i, PATTERN_MAX);
    const char *base = strrchr(tool, '/') ? strrchr(tool, '/') + 1 : tool;
    sbx__check(name_ok(base) && base[0] != '.',
               "%s: \"%s\" is not a tool name (1 to 64 of A-Z a-z 0-9 _ . -)", __func__, base);
    sbx__check(!strchr(tool, '/') || tool[0] == '/',
               "%s: '%s' is neither a name nor an absolute path", __func__, tool);
    struct sbx__program prog;
    int r = sbx__program_resolve(tool, policy_path_env(policy), &prog);
    if (r < 0 || prog.err)
        return sbx__err(r < 0 ? r : prog.err, "%s(%s): not found in PATH=%s", __func__, tool,
                        policy_path_env(policy) ? policy_path_env(policy) : "");
    const char *shim = shim_program();
    if (!shim)
        return sbx__err(-ENOENT,
                        "%s(%s): the shim agentsbx-shim is not installed (set "
                        "AGENTSBX_SHIM to its path)",
                        __func__, tool);
    struct sbx__capchan_cfg *cfg = cfg_of(policy);
    if (!cfg)
        return sbx__errno(-ENOMEM, "%s", __func__);
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (strcmp(cfg->rules[i].name, base) == 0)
            return sbx__err(-EEXIST, "%s: the policy has argument rules for \"%s\" already",
                            __func__, base);
    if (!cfg->shim) {
        struct sbx__shimdir *sd = calloc(1, sizeof(*sd));
        if (!sd)
            return sbx__errno(-ENOMEM, "%s", __func__);
        atomic_init(&sd->refs, 1);
        sbx__tmpdir_sweep_once("/tmp"); /* what dead hosts left */
        if ((r = sbx__tmpdir_create("/tmp", sd->path)) < 0) {
            free(sd);
            return sbx__errno(r, "%s: making the shims' directory in /tmp", __func__);
        }
        chmod(sd->path, 0755);
        cfg->shim = sd;
        /* the child runs the shims, and only them, from there (the library's
         * grants: a policy file written from this policy leaves them out) */
        size_t before = policy->n_grants;
        if ((r = sbx_allow_path(policy, sd->path, SBX_FS_READ | SBX_FS_EXEC)) < 0 ||
            (r = sbx_allow_tool(policy, shim)) < 0)
            return r;
        for (size_t i = before; i < policy->n_grants; i++)
            policy->grants[i].internal = true;
    }
    char link[SBX__TMPDIR_MAX + NAME_MAX_LEN + 2];
    snprintf(link, sizeof(link), "%s/%s", cfg->shim->path, base);
    if (symlink(shim, link) != 0)
        return sbx__errno(-errno, "%s: the shim %s", __func__, link);
    struct sbx__argrule *rules = realloc(cfg->rules, (cfg->n_rules + 1) * sizeof(*rules));
    if (!rules) {
        unlink(link);
        return sbx__errno(-ENOMEM, "%s", __func__);
    }
    cfg->rules = rules;
    struct sbx__argrule *rule = &rules[cfg->n_rules];
    memset(rule, 0, sizeof(*rule));
    snprintf(rule->name, sizeof(rule->name), "%s", base);
    snprintf(rule->path, sizeof(rule->path), "%s", prog.path[0]);
    static const char *const none[] = {NULL};
    rule->allow = strv_dup(allow);
    rule->deny = strv_dup(deny ? deny : none);
    if (!rule->allow || !rule->deny) {
        strv_free(rule->allow);
        strv_free(rule->deny);
        unlink(link);
        return sbx__errno(-ENOMEM, "%s", __func__);
    }
    cfg->n_rules++;
    sbx__policy_changed(policy);
    return 0;
}

size_t sbx__capchan_tool_rules(const sbx_policy *policy, size_t i, const char **name,
                               const char *const **allow, const char *const **deny)
{
    const struct sbx__capchan_cfg *cfg = policy->capchan;
    if (!cfg || i >= cfg->n_rules)
        return cfg ? cfg->n_rules : 0;
    *name = cfg->rules[i].name;
    *allow = (const char *const *)cfg->rules[i].allow;
    *deny = (const char *const *)cfg->rules[i].deny;
    return cfg->n_rules;
}

size_t sbx_policy_capability_count(const sbx_policy *policy)
{
    return policy && policy->capchan ? policy->capchan->n_ops : 0;
}

static void policy_free(sbx_policy *policy)
{
    cfg_unref(policy->capchan);
    policy->capchan = NULL;
}

static struct sbx__capchan_cfg *cfg_copy(const struct sbx__capchan_cfg *from)
{
    struct sbx__capchan_cfg *to = calloc(1, sizeof(*to));
    if (!to)
        return NULL;
    atomic_init(&to->refs, 1);
    to->max_calls = from->max_calls;
    to->max_request = from->max_request;
    if (from->n_ops) {
        to->ops = malloc(from->n_ops * sizeof(*to->ops));
        if (!to->ops) {
            free(to);
            return NULL;
        }
        memcpy(to->ops, from->ops, from->n_ops * sizeof(*to->ops));
        to->n_ops = from->n_ops;
    }
    if (from->n_rules) {
        to->rules = calloc(from->n_rules, sizeof(*to->rules));
        if (!to->rules) {
            cfg_unref(to);
            return NULL;
        }
        for (size_t i = 0; i < from->n_rules; i++) {
            struct sbx__argrule *r = &to->rules[to->n_rules++];
            memcpy(r->name, from->rules[i].name, sizeof(r->name));
            memcpy(r->path, from->rules[i].path, sizeof(r->path));
            r->allow = strv_dup((const char *const *)from->rules[i].allow);
            r->deny = strv_dup((const char *const *)from->rules[i].deny);
            if (!r->allow || !r->deny) {
                cfg_unref(to);
                return NULL;
            }
        }
    }
    if ((to->shim = from->shim))
        atomic_fetch_add(&to->shim->refs, 1);
    return to;
}

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    if (!from->capchan)
        return 0;
    return (to->capchan = cfg_copy(from->capchan)) ? 0 : -ENOMEM;
}

/* ---- the plan -------------------------------------------------------------------- */

/* Whether a grant of the policy lets the child execute path itself. */
static const char *exec_granted_by(const sbx_policy *policy, const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        snprintf(real, sizeof(real), "%s", path);
    for (size_t i = 0; i < policy->n_grants; i++) {
        if (!(policy->grants[i].access & SBX_FS_EXEC))
            continue;
        char g[PATH_MAX];
        if (!realpath(policy->grants[i].path, g))
            continue;
        size_t n = strlen(g);
        if (strcmp(g, "/") == 0 || (strncmp(real, g, n) == 0 && (real[n] == '/' || !real[n])))
            return policy->grants[i].path;
    }
    /* the exec system mode (landlock.c): the system directories */
    static const char *const system_roots[] = {"/usr",   "/bin",   "/sbin",  "/lib",
                                               "/lib64", "/lib32", "/libx32"};
    for (size_t i = 0; policy->exec_system && i < sizeof(system_roots) / sizeof(*system_roots);
         i++) {
        size_t n = strlen(system_roots[i]);
        if (strncmp(real, system_roots[i], n) == 0 && real[n] == '/')
            return "the system directories (the exec system mode)";
    }
    return NULL;
}

static int compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    const struct sbx__capchan_cfg *pc = policy->capchan;
    if (!pc || (!pc->n_ops && !pc->n_rules))
        return 0;
    if (pc->n_rules && policy->n_overlays)
        /* the tool would run in a sandbox of its own: on the host's tree, not
         * the child's overlay (and a second overlay of the same upper is refused) */
        return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                              "sbx_allow_tool_args(%s) with sbx_overlay(%s): a tool with argument "
                              "rules runs outside the child's overlay; use one or the other",
                              pc->rules[0].name, policy->overlays[0].lower);
    for (size_t i = 0; i < pc->n_rules; i++) {
        const char *by = exec_granted_by(policy, pc->rules[i].path);
        if (by)
            return sbx__err_stage(SBX_STAGE_COMPILE, -EINVAL,
                                  "sbx_allow_tool_args(%s): the child could execute %s directly "
                                  "(the grant of %s with SBX_FS_EXEC), around its argument "
                                  "rules; do not grant it (sbx_allow_tool, --tool) too",
                                  pc->rules[i].name, pc->rules[i].path, by);
    }
    struct sbx__capchan_cfg *cfg = cfg_copy(pc);
    if (!cfg)
        return sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "capabilities: compiling");
    if (cfg->n_rules) {
        /* What the real tools run under: this policy, without the channel,
         * with the tools granted (compiled at the first call). */
        int r = sbx_policy_dup(policy, &cfg->tool_policy);
        if (r == 0) {
            cfg_unref(cfg->tool_policy->capchan);
            cfg->tool_policy->capchan = NULL;
        }
        for (size_t i = 0; r == 0 && i < cfg->n_rules; i++)
            r = sbx_allow_tool(cfg->tool_policy, cfg->rules[i].path);
        if (r < 0) {
            cfg_unref(cfg);
            return sbx__err_stage(SBX_STAGE_COMPILE, r, "sbx_allow_tool_args: %s",
                                  sbx_last_error());
        }
        plan->shim_dir = cfg->shim->path;
    }
    plan->capchan = cfg;
    return 0;
}

static void plan_free(struct sbx__plan *plan)
{
    cfg_unref(plan->capchan);
    plan->capchan = NULL;
    plan->shim_dir = NULL;
}

/* ---- a spawn ----------------------------------------------------------------------- */

static int prepare(struct sbx__spawn *s)
{
    if (!s->plan->capchan)
        return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s->capsock) != 0)
        return sbx__err_stage(SBX_STAGE_PROCESS, -errno, "capabilities: socketpair: %s",
                              strerror(errno));
    /* The child's end blocks (its clients wait for their replies). */
    int fl = fcntl(s->capsock[1], F_GETFL);
    if (fl < 0 || fcntl(s->capsock[1], F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int r = -errno;
        close(s->capsock[0]);
        close(s->capsock[1]);
        s->capsock[0] = s->capsock[1] = -1;
        return sbx__err_stage(SBX_STAGE_PROCESS, r, "capabilities: fcntl: %s", strerror(-r));
    }
    snprintf(s->caps_env, sizeof(s->caps_env), "SBX_CAPS_FD=%d", s->capsock[1]);
    return 0;
}

static void launched(struct sbx__spawn *s)
{
    if (s->capsock[1] >= 0)
        close(s->capsock[1]);
    s->capsock[1] = -1;
}

static int adopt(struct sbx__spawn *s)
{
    if (s->capsock[0] < 0)
        return 0;
    struct sbx__capchan *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return sbx__errno(-ENOMEM, "capabilities: the channel");
    struct epoll_event ev = {.events = EPOLLIN};
    ch->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ch->epfd < 0 || epoll_ctl(ch->epfd, EPOLL_CTL_ADD, s->capsock[0], &ev) != 0) {
        int r = -errno;
        if (ch->epfd >= 0)
            close(ch->epfd);
        free(ch);
        return sbx__errno(r, "capabilities: epoll for the channel");
    }
    ch->cfg = s->plan->capchan;
    atomic_fetch_add(&ch->cfg->refs, 1);
    ch->fd = s->capsock[0];
    s->capsock[0] = -1;
    s->child->capchan = ch;
    return 0;
}

static void abort_spawn(struct sbx__spawn *s)
{
    for (int i = 0; i < 2; i++)
        if (s->capsock[i] >= 0)
            close(s->capsock[i]);
    s->capsock[0] = s->capsock[1] = -1;
}

static void close_passed(struct sbx__capchan *ch)
{
    for (size_t i = 0; i < ch->n_passed; i++)
        close(ch->passed[i]);
    ch->n_passed = 0;
}

/* A tool still running for the shim: killed and reaped (its result dropped). */
static void end_tool(struct sbx__capchan *ch)
{
    if (ch->tool)
        sbx_child_free(ch->tool); /* kills, reaps; closes its descriptor, leaving epfd */
    ch->tool = NULL;
}

static void close_channel(struct sbx__capchan *ch)
{
    if (ch->fd >= 0)
        close(ch->fd); /* which takes it out of every epoll set */
    ch->fd = -1;
    free(ch->in);
    ch->in = NULL;
    ch->in_len = ch->in_cap = 0;
    close_passed(ch);
    end_tool(ch);
}

static void finish(sbx_child *child)
{
    if (child->capchan)
        close_channel(child->capchan);
}

void sbx__capchan_free(sbx_child *child)
{
    struct sbx__capchan *ch = child->capchan;
    if (!ch)
        return;
    close_channel(ch);
    if (ch->epfd >= 0)
        close(ch->epfd);
    cfg_unref(ch->cfg);
    free(ch);
    child->capchan = NULL;
}

const struct sbx__layer sbx__layer_capchan = {
    .name = "capchan",
    .policy_free = policy_free,
    .policy_dup = policy_dup,
    .compile = compile,
    .plan_free = plan_free,
    .prepare = prepare,
    .launched = launched,
    .adopt = adopt,
    .abort = abort_spawn,
    .finish = finish,
};

/* ---- serving ------------------------------------------------------------------------ */

int sbx__capchan_fd(const sbx_child *child)
{
    return child->capchan ? child->capchan->epfd : -1;
}

/* Write one reply frame; false when it could not go whole (the channel is closed). */
static bool send_frame(struct sbx__capchan *ch, const char *json, size_t len)
{
    unsigned char head[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                             (unsigned char)(len >> 8), (unsigned char)len};
    struct iovec iov[2] = {{head, 4}, {(void *)json, len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t k;
    while ((k = sendmsg(ch->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return k == (ssize_t)(len + 4);
}

/* The reply: {"id":ID,"ok":true,"result":R} or {"id":ID,"ok":false,"code":C,"error":E}. */
static bool reply(struct sbx__capchan *ch, const char *id, const char *result, size_t result_len,
                  const char *code, const char *error)
{
    char err[2 * MESSAGE_MAX + 64] = "";
    if (code)
        sbx__json_quote(err, sizeof(err), error, strlen(error));
    size_t cap = 64 + strlen(id) + (code ? strlen(code) + strlen(err) : result_len);
    char *buf = malloc(cap);
    if (!buf)
        return false;
    int n = code ? snprintf(buf, cap, "{\"id\":%s,\"ok\":false,\"code\":\"%s\",\"error\":%s}", id,
                            code, err)
                 : snprintf(buf, cap, "{\"id\":%s,\"ok\":true,\"result\":%.*s}", id,
                            (int)result_len, result);
    bool ok = n > 0 && (size_t)n < cap && send_frame(ch, buf, (size_t)n);
    free(buf);
    return ok;
}

static void audit(sbx_child *child, const char *op, size_t args_bytes, const char *outcome,
                  const char *code, uint64_t start_ns)
{
    if (child->call_hook)
        child->call_hook(child, op, args_bytes, outcome, code, sbx__now_ns() - start_ns);
}

/* Refuse a call without a handler; false when the channel is to be closed. */
static bool refuse(sbx_child *child, const char *id, const char *op, size_t args_bytes,
                   const char *code, const char *message, uint64_t start_ns)
{
    struct sbx__capchan *ch = child->capchan;
    ch->refused++;
    audit(child, op, args_bytes, "refused", code, start_ns);
    return reply(ch, id, NULL, 0, code, message);
}

/* Parse text[0..len) as exactly one JSON value (nesting at most 64 deep):
 * 0 and *ret (when ret is not NULL; the caller puts it), -EINVAL with `why`,
 * or -ENOMEM. A number at the very end is complete (json-c waits for more
 * digits otherwise). */
static int parse_one(const char *text, size_t len, struct json_object **ret, char *why,
                     size_t why_size)
{
    if (len > INT32_MAX - 2)
        return -EINVAL;
    struct json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return -ENOMEM;
    struct json_object *v = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (e == json_tokener_continue && end == len) {
        v = json_tokener_parse_ex(tok, " ", 1); /* the end of the input */
        e = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    /* v is NULL for JSON's null too */
    bool whole = e == json_tokener_success && end == len;
    if (e == json_tokener_success && !whole && why)
        snprintf(why, why_size, "more after the value, at byte %zu", end);
    else if (e != json_tokener_success && why)
        snprintf(why, why_size, "%s",
                 e == json_tokener_continue ? "incomplete" : json_tokener_error_desc(e));
    if (!whole || !ret) {
        json_object_put(v);
        return whole ? 0 : -EINVAL;
    }
    *ret = v;
    return 0;
}

/* ---- tools with argument rules -------------------------------------------------------- */

/* Whether argv[0..argc) matches a pattern: words separated by spaces, each
 * matched by fnmatch(3) against one argument, a last "*" against all the rest
 * (none included). */
static bool pattern_matches(const char *pattern, char *const *argv, size_t argc)
{
    char buf[PATTERN_MAX + 1];
    snprintf(buf, sizeof(buf), "%s", pattern);
    size_t i = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *next = save;
        bool last = true;
        for (char *p = next; p && *p; p++)
            if (*p != ' ') {
                last = false;
                break;
            }
        if (last && strcmp(w, "*") == 0)
            return true;
        if (i >= argc || fnmatch(w, argv[i], 0) != 0)
            return false;
        i++;
    }
    return i == argc;
}

/* The deny entry an argument hits, or NULL: "-x" an argument that is it, or
 * it followed by "=" (or, for a one-letter option, by anything: "-cX"); a
 * word not starting with '-' any argument that contains it, in any case. */
static const char *denied_by(char *const *deny, const char *arg)
{
    for (size_t i = 0; deny[i]; i++) {
        const char *d = deny[i];
        size_t n = strlen(d);
        if (d[0] == '-') {
            if (strncmp(arg, d, n) == 0 &&
                (arg[n] == '\0' || arg[n] == '=' || (n == 2 && d[1] != '-')))
                return d;
        } else if (strcasestr(arg, d)) {
            return d;
        }
    }
    return NULL;
}

static void keep_denial(struct sbx__capchan *ch, const char *tool, char *const *argv, size_t argc,
                        const char *why)
{
    ch->tool_denials++;
    if (ch->n_denied >= TOOL_DENIALS_KEPT)
        return;
    char *out = ch->denied[ch->n_denied++];
    size_t used = (size_t)snprintf(out, TOOL_DENIAL_LEN, "%s", tool);
    for (size_t i = 0; i < argc && used < TOOL_DENIAL_LEN; i++)
        used += (size_t)snprintf(out + used, TOOL_DENIAL_LEN - used, " %s", argv[i]);
    if (used < TOOL_DENIAL_LEN)
        snprintf(out + used, TOOL_DENIAL_LEN - used, ": %s", why);
}

/* The shim's call: check the arguments on this copy of them, then run the
 * real tool on the streams the shim sent; the reply waits for its end. */
static bool run_tool(sbx_child *child, const char *id, struct json_object *args, size_t args_len,
                     uint64_t start)
{
    struct sbx__capchan *ch = child->capchan;
    const struct sbx__capchan_cfg *cfg = ch->cfg;
    struct json_object *tv = NULL, *cv = NULL, *av = NULL;
    bool shaped =
        args && json_object_is_type(args, json_type_object) &&
        json_object_object_get_ex(args, "tool", &tv) && json_object_is_type(tv, json_type_string) &&
        json_object_object_get_ex(args, "cwd", &cv) && json_object_is_type(cv, json_type_string) &&
        json_object_object_get_ex(args, "argv", &av) && json_object_is_type(av, json_type_array) &&
        ch->n_passed == 3;
    size_t argc = shaped ? json_object_array_length(av) : 0;
    for (size_t i = 0; shaped && i < argc; i++)
        shaped = json_object_is_type(json_object_array_get_idx(av, i), json_type_string);
    if (!shaped || argc > 4096) {
        close_passed(ch);
        return refuse(child, id, TOOL_OP, args_len, "malformed",
                      "a tool call is {\"tool\", \"cwd\", \"argv\"} with the three standard "
                      "streams attached",
                      start);
    }
    const char *tool = json_object_get_string(tv), *cwd = json_object_get_string(cv);
    const struct sbx__argrule *rule = NULL;
    for (size_t i = 0; i < cfg->n_rules && !rule; i++)
        if (strcmp(cfg->rules[i].name, tool) == 0)
            rule = &cfg->rules[i];
    char *argv[4096 + 2];
    argv[0] = rule ? (char *)rule->path : NULL;
    for (size_t i = 0; i < argc; i++)
        argv[1 + i] = (char *)json_object_get_string(json_object_array_get_idx(av, i));
    argv[1 + argc] = NULL;
    char why[PATTERN_MAX + 64] = "";
    if (!rule) {
        snprintf(why, sizeof(why), "no argument rules for this tool");
    } else {
        for (size_t i = 0; i < argc && !why[0]; i++) {
            const char *d = denied_by(rule->deny, argv[1 + i]);
            if (d)
                snprintf(why, sizeof(why), "argument \"%.100s\" is denied (%s)", argv[1 + i], d);
        }
        bool allowed = false;
        for (size_t i = 0; !why[0] && rule->allow[i] && !allowed; i++)
            allowed = pattern_matches(rule->allow[i], argv + 1, argc);
        if (!why[0] && !allowed)
            snprintf(why, sizeof(why), "not allowed by the argument rules");
    }
    if (why[0]) {
        char shown[NAME_MAX_LEN + 1];
        snprintf(shown, sizeof(shown), "%s", tool);
        keep_denial(ch, shown, argv + 1, argc, why);
        close_passed(ch);
        ch->refused++;
        audit(child, shown, args_len, "denied", "denied", start);
        char msg[TOOL_DENIAL_LEN + 16];
        snprintf(msg, sizeof(msg), "denied: %s", ch->denied[ch->n_denied - 1]);
        return reply(ch, id, NULL, 0, "denied",
                     ch->n_denied <= TOOL_DENIALS_KEPT ? msg : "denied by the argument rules");
    }
    /* allowed: the real tool, confined as the policy says, on the shim's streams */
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = io.stdout_mode = io.stderr_mode = SBX_STDIO_FD;
    io.stdin_fd = ch->passed[0];
    io.stdout_fd = ch->passed[1];
    io.stderr_fd = ch->passed[2];
    SBX_SPAWN_OPTS(opts, .io = &io, .workdir = cwd[0] == '/' ? cwd : NULL);
    int r = sbx_spawn_with(cfg->tool_policy, (const char *const *)argv, &opts, &ch->tool);
    close_passed(ch);
    ch->calls++;
    if (r < 0) {
        ch->tool = NULL;
        audit(child, rule->name, args_len, "failed", "failed", start);
        return reply(ch, id, NULL, 0, "failed", sbx_last_error());
    }
    struct epoll_event ev = {.events = EPOLLIN};
    int fd = sbx_child_fd(ch->tool);
    if (fd < 0 || epoll_ctl(ch->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        end_tool(ch);
        audit(child, rule->name, args_len, "failed", "failed", start);
        return reply(ch, id, NULL, 0, "failed", "cannot watch the tool's end");
    }
    snprintf(ch->tool_name, sizeof(ch->tool_name), "%s", rule->name);
    ch->tool_start_ns = start;
    ch->tool_args_bytes = args_len;
    return true;
}

/* The tool run for the shim: still running (true), or ended and answered. */
static bool tool_pending(sbx_child *child)
{
    struct sbx__capchan *ch = child->capchan;
    if (!ch->tool)
        return false;
    sbx_result *res = NULL;
    int r = sbx_child_poll(ch->tool, &res);
    if (r == -EAGAIN)
        return true;
    char result[96];
    int n = snprintf(result, sizeof(result), "{\"exit_code\":%d,\"signal\":%d,\"status\":\"%s\"}",
                     res ? sbx_result_exit_code(res) : -1, res ? sbx_result_signal(res) : 0,
                     res ? sbx_status_name(sbx_result_status(res)) : "lost");
    sbx_result_free(res);
    end_tool(ch);
    audit(child, ch->tool_name, ch->tool_args_bytes, "ok", NULL, ch->tool_start_ns);
    if (ch->fd >= 0 && !reply(ch, "null", result, (size_t)n, NULL, NULL))
        close_channel(ch);
    return false;
}

/* One complete frame: parse, check, call, answer. False: close the channel. */
static bool handle(sbx_child *child, const char *text, size_t len)
{
    struct sbx__capchan *ch = child->capchan;
    uint64_t start = sbx__now_ns();
    const struct sbx__capchan_cfg *cfg = ch->cfg;
    struct json_object *req = NULL;
    bool whole = parse_one(text, len, &req, NULL, 0) == 0;
    struct json_object *op = NULL, *args = NULL, *idv = NULL;
    bool shaped = whole && json_object_is_type(req, json_type_object) &&
                  json_object_object_get_ex(req, "op", &op) &&
                  json_object_is_type(op, json_type_string);
    if (shaped)
        json_object_object_get_ex(req, "args", &args);
    if (whole && json_object_is_type(req, json_type_object))
        json_object_object_get_ex(req, "id", &idv);
    const char *id = idv ? json_object_to_json_string_ext(idv, JSON_C_TO_STRING_PLAIN) : "null";
    const char *name = shaped ? json_object_get_string(op) : "";
    const char *args_text =
        args ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "null";
    size_t args_len = strlen(args_text);
    char shown[NAME_MAX_LEN + 1];
    snprintf(shown, sizeof(shown), "%s", name);

    bool ok;
    const struct sbx__capop *found = NULL;
    for (size_t i = 0; shaped && i < cfg->n_ops && !found; i++)
        if (strcmp(cfg->ops[i].name, name) == 0)
            found = &cfg->ops[i];
    if (cfg->max_calls && ch->calls + ch->refused >= cfg->max_calls) {
        char msg[96];
        snprintf(msg, sizeof(msg), "the call budget (%llu calls) is spent",
                 (unsigned long long)cfg->max_calls);
        ok = refuse(child, id, shown, args_len, "budget", msg, start);
    } else if (shaped && cfg->n_rules && strcmp(name, TOOL_OP) == 0) {
        ok = run_tool(child, id, args, args_len, start);
    } else if (!shaped) {
        ok = refuse(child, id, shown, args_len, "malformed",
                    whole ? "a request is a JSON object with a string member \"op\""
                          : "the request is not one JSON value",
                    start);
    } else if (!found) {
        char msg[NAME_MAX_LEN * 6 + 64];
        char q[NAME_MAX_LEN * 6 + 3];
        sbx__json_quote(q, sizeof(q), name, strnlen(name, NAME_MAX_LEN));
        snprintf(msg, sizeof(msg), "no operation %s is granted", q);
        ok = refuse(child, id, shown, args_len, "unknown_op", msg, start);
    } else {
        struct sbx_call call = {.name = found->name, .args = args_text, .args_len = args_len};
        int r = found->fn(&call, found->userdata);
        ch->calls++;
        if (r == 0) {
            ok = reply(ch, id, call.reply ? call.reply : "null", call.reply ? call.reply_len : 4,
                       NULL, NULL);
            audit(child, found->name, args_len, "ok", NULL, start);
        } else {
            if (!call.message[0])
                snprintf(call.message, sizeof(call.message), "%s",
                         strerror(r < 0 && r > -4096 ? -r : EIO));
            ok = reply(ch, id, NULL, 0, "failed", call.message);
            audit(child, found->name, args_len, "failed", "failed", start);
        }
        free(call.reply);
    }
    close_passed(ch); /* descriptors come only with the shim's call */
    json_object_put(req);
    return ok;
}

void sbx__capchan_service(sbx_child *child)
{
    struct sbx__capchan *ch = child->capchan;
    if (ch && tool_pending(child))
        return; /* one call at a time: the shim waits for its tool */
    for (int frames = 0; ch && ch->fd >= 0 && !ch->tool && frames < FRAMES_PER_STEP;) {
        size_t want = ch->in_len < 4 ? 4 : 4 + (size_t)ch->frame_len;
        if (want > ch->in_cap) {
            unsigned char *in = realloc(ch->in, want);
            if (!in) {
                close_channel(ch);
                return;
            }
            ch->in = in;
            ch->in_cap = want;
        }
        /* descriptors may come with the first byte of a frame (the shim's) */
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(3 * sizeof(int))];
        } ctl;
        struct iovec iov = {ch->in + ch->in_len, want - ch->in_len};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = ctl.buf,
                             .msg_controllen = sizeof(ctl.buf)};
        ssize_t k = recvmsg(ch->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        for (struct cmsghdr *c = k > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int fds[3];
            memcpy(fds, CMSG_DATA(c), (n < 3 ? n : 3) * sizeof(int));
            for (size_t i = 0; i < n && i < 3; i++) {
                if (ch->in_len == 0 && ch->n_passed < 3)
                    ch->passed[ch->n_passed++] = fds[i];
                else
                    close(fds[i]); /* not at the start of a frame: not the shim's */
            }
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0) { /* end of file: every holder of the child's end is gone */
            close_channel(ch);
            return;
        }
        ch->in_len += (size_t)k;
        if (ch->in_len < 4)
            continue;
        if (ch->in_len == 4) {
            ch->frame_len = (uint32_t)ch->in[0] << 24 | (uint32_t)ch->in[1] << 16 |
                            (uint32_t)ch->in[2] << 8 | ch->in[3];
            if (ch->frame_len > ch->cfg->max_request || ch->frame_len == 0) {
                char why[96];
                snprintf(why, sizeof(why), "a request of %u bytes (at most %llu): closing",
                         ch->frame_len, (unsigned long long)ch->cfg->max_request);
                refuse(child, "null", "", ch->frame_len, "too_large", why, sbx__now_ns());
                close_channel(ch);
                return;
            }
            continue;
        }
        if (ch->in_len < 4 + (size_t)ch->frame_len)
            continue;
        frames++;
        int unread = 0;
        if (ioctl(ch->fd, SIOCOUTQ, &unread) != 0 || unread > 0) {
            /* a request before the last reply was read: out of turn */
            ch->refused++;
            audit(child, "", ch->frame_len, "refused", "out_of_turn", sbx__now_ns());
            close_channel(ch);
            return;
        }
        bool ok = handle(child, (const char *)ch->in + 4, ch->frame_len);
        ch->in_len = 0;
        if (ch->in_cap > BUF_KEEP) {
            free(ch->in);
            ch->in = NULL;
            ch->in_cap = 0;
        }
        if (!ok) {
            close_channel(ch);
            return;
        }
    }
}

int sbx__capchan_result(const sbx_child *child, sbx_result *res)
{
    const struct sbx__capchan *ch = child->capchan;
    if (!ch)
        return 0;
    res->capability_calls = ch->calls;
    res->capability_refused = ch->refused;
    res->tool_denials = ch->tool_denials;
    if (ch->n_denied) {
        res->tool_denied = malloc(ch->n_denied * sizeof(*res->tool_denied));
        if (!res->tool_denied)
            return -ENOMEM;
        memcpy(res->tool_denied, ch->denied, ch->n_denied * sizeof(*res->tool_denied));
        res->n_tool_denied = ch->n_denied;
    }
    return 0;
}

uint64_t sbx_result_tool_denial_count(const sbx_result *result)
{
    return result ? result->tool_denials : 0;
}

const char *sbx_result_tool_denial(const sbx_result *result, size_t index)
{
    return result && index < result->n_tool_denied ? result->tool_denied[index] : NULL;
}

/* ---- the handler's side ---------------------------------------------------------------- */

const char *sbx_call_name(const sbx_call *call)
{
    return call ? call->name : NULL;
}

const char *sbx_call_args(const sbx_call *call, size_t *len)
{
    if (!call)
        return NULL;
    if (len)
        *len = call->args_len;
    return call->args;
}

int sbx_call_reply(sbx_call *call, const char *json, size_t len)
{
    sbx__check_arg(call);
    sbx__check_arg(json);
    if (len > REPLY_MAX)
        return sbx__err(-E2BIG, "%s: a reply of %zu bytes (at most %u)", __func__, len, REPLY_MAX);
    char why[96];
    int r = parse_one(json, len, NULL, why, sizeof(why));
    if (r == -ENOMEM)
        return sbx__errno(r, "%s", __func__);
    if (r < 0)
        return sbx__err(-EINVAL, "%s: the reply is not one JSON value (%s)", __func__, why);
    char *copy = malloc(len + 1);
    if (!copy)
        return sbx__errno(-ENOMEM, "%s", __func__);
    memcpy(copy, json, len);
    copy[len] = '\0';
    free(call->reply);
    call->reply = copy;
    call->reply_len = len;
    return 0;
}

int sbx_call_fail(sbx_call *call, const char *message)
{
    sbx__check_arg(call);
    sbx__check_arg(message);
    snprintf(call->message, sizeof(call->message), "%s", message);
    return 0;
}

uint64_t sbx_result_capability_calls(const sbx_result *result)
{
    return result ? result->capability_calls : 0;
}

uint64_t sbx_result_capability_refused(const sbx_result *result)
{
    return result ? result->capability_refused : 0;
}
