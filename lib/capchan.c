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
#include <json-c/json.h>
#include <linux/sockios.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agentsbx/capchan.h"
#include "layer.h"

#define NAME_MAX_LEN    64
#define REPLY_MAX       (128u * 1024)
#define REQUEST_DEFAULT (64u * 1024)
#define REQUEST_MIN     64u
#define REQUEST_MAX     (16u * 1024 * 1024)
#define CALLS_DEFAULT   10000u
#define MESSAGE_MAX     1024
#define FRAMES_PER_STEP 8           /* other children of a supervisor get their turn */
#define BUF_KEEP        (8u * 1024) /* a larger buffer is freed after its call */

struct sbx__capop {
    char name[NAME_MAX_LEN + 1];
    sbx_capability_fn fn;
    void *userdata;
};

/* The policy's settings (owned by the policy), and the compiled table
 * (refcounted: the plan and each child). */
struct sbx__capchan_cfg {
    atomic_uint refs;
    struct sbx__capop *ops;
    size_t n_ops;
    uint64_t max_calls; /* 0: unlimited */
    uint64_t max_request;
};

/* One child's channel, in the host. */
struct sbx__capchan {
    struct sbx__capchan_cfg *cfg; /* a reference */
    int fd;                       /* the host's end; -1: closed */
    unsigned char *in;            /* the frame being read: 4 bytes of length, then the JSON */
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

static void cfg_unref(struct sbx__capchan_cfg *cfg)
{
    if (cfg && atomic_fetch_sub(&cfg->refs, 1) == 1) {
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
    return to;
}

static int policy_dup(const sbx_policy *from, sbx_policy *to)
{
    if (!from->capchan)
        return 0;
    return (to->capchan = cfg_copy(from->capchan)) ? 0 : -ENOMEM;
}

/* ---- the plan -------------------------------------------------------------------- */

static int compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    if (!policy->capchan || !policy->capchan->n_ops)
        return 0;
    plan->capchan = cfg_copy(policy->capchan);
    return plan->capchan ? 0
                         : sbx__err_stage(SBX_STAGE_COMPILE, -ENOMEM, "capabilities: compiling");
}

static void plan_free(struct sbx__plan *plan)
{
    cfg_unref(plan->capchan);
    plan->capchan = NULL;
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

static void close_channel(struct sbx__capchan *ch)
{
    if (ch->fd >= 0)
        close(ch->fd); /* which takes it out of every epoll set (sbx_child_fd()) */
    ch->fd = -1;
    free(ch->in);
    ch->in = NULL;
    ch->in_len = ch->in_cap = 0;
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
    return child->capchan ? child->capchan->fd : -1;
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
    json_object_put(req);
    return ok;
}

void sbx__capchan_service(sbx_child *child)
{
    struct sbx__capchan *ch = child->capchan;
    for (int frames = 0; ch && ch->fd >= 0 && frames < FRAMES_PER_STEP;) {
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
        ssize_t k = recv(ch->fd, ch->in + ch->in_len, want - ch->in_len, MSG_DONTWAIT);
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
                char msg[96];
                snprintf(msg, sizeof(msg), "a request of %u bytes (at most %llu): closing",
                         ch->frame_len, (unsigned long long)ch->cfg->max_request);
                refuse(child, "null", "", ch->frame_len, "too_large", msg, sbx__now_ns());
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

void sbx__capchan_result(const sbx_child *child, sbx_result *res)
{
    if (child->capchan) {
        res->capability_calls = child->capchan->calls;
        res->capability_refused = child->capchan->refused;
    }
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
