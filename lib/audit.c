/* The audit log: one JSON object per line, to a descriptor and/or a callback,
 * for each child's spawn, violations, limits hit, kill and end. Every string
 * that comes from the host or the child goes through the redaction filter. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "outfilter.h"
#include "seccomp_layer.h"

/* ---- building lines ---------------------------------------------------------- */

struct line {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
    if (l->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = l->cap - l->len;
        int n = vsnprintf(l->buf ? l->buf + l->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            l->failed = true;
            return;
        }
        if ((size_t)n < room) {
            l->len += (size_t)n;
            return;
        }
        size_t cap = l->cap ? l->cap : 512;
        while (cap <= l->len + (size_t)n)
            cap *= 2;
        char *grown = realloc(l->buf, cap);
        if (!grown) {
            l->failed = true;
            return;
        }
        l->buf = grown;
        l->cap = cap;
    }
}

/* A JSON string (sbx__json_quote): control characters escaped, invalid UTF-8
 * as U+FFFD. */
static void add_json_string(struct line *l, const char *s)
{
    size_t len = strlen(s), need = sbx__json_quote(NULL, 0, s, len);
    add(l, "%*s", (int)need, ""); /* room, then the string over it */
    if (!l->failed)
        sbx__json_quote(l->buf + l->len - need, need + 1, s, len);
}

/* A string from the host or the child: redacted, then as JSON. */
static void add_redacted(struct line *l, const struct sbx__outcfg *cfg, const char *s)
{
    char *red;
    if (sbx__redact_string(cfg, s, &red) < 0) {
        l->failed = true;
        return;
    }
    add_json_string(l, red);
    explicit_bzero(red, strlen(red));
    free(red);
}

/* {"event":"NAME","time":"<RFC 3339 UTC, ms>","mono_ns":N,"pid":P */
static void start(struct line *l, const char *event, pid_t pid)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    add(l,
        "{\"event\":\"%s\",\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"mono_ns\":%llu,"
        "\"pid\":%d",
        event, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        ts.tv_nsec / 1000000, (unsigned long long)sbx__now_ns(), (int)pid);
}

/* Close the object and send it, within the child's budget unless `always`
 * (the exit event); frees the line. */
static void send_line(struct line *l, const struct sbx__outcfg *cfg, sbx_child *child, bool always)
{
    add(l, "}");
    if (!l->failed && child) {
        if (!always && child->audit_bytes + l->len + 1 > cfg->audit_limit) {
            child->audit_dropped++;
            l->failed = true; /* counted, not written */
        } else {
            child->audit_bytes += l->len + 1;
        }
    }
    if (!l->failed) {
        if (cfg->audit_fd >= 0) {
            struct iovec iov[2] = {{l->buf, l->len}, {(void *)"\n", 1}};
            size_t total = l->len + 1, done = 0;
            while (done < total) { /* one writev for the whole line, unless interrupted */
                ssize_t n = writev(cfg->audit_fd, iov, 2);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                done += (size_t)n;
                for (int i = 0; i < 2; i++) {
                    size_t used = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
                    iov[i].iov_base = (char *)iov[i].iov_base + used;
                    iov[i].iov_len -= used;
                    n -= (ssize_t)used;
                }
            }
        }
        if (cfg->audit_fn)
            cfg->audit_fn(l->buf, l->len, cfg->audit_ud);
    }
    free(l->buf);
}

static void finish(struct line *l, const struct sbx__outcfg *cfg, sbx_child *child)
{
    send_line(l, cfg, child, false);
}

/* ---- events -------------------------------------------------------------------- */

void sbx__audit_spawn(sbx_child *child, const struct sbx__plan *plan, const char *const *argv)
{
    struct sbx__outcfg *cfg = plan->output;
    if (!cfg || !sbx__outcfg_auditing(cfg))
        return;
    child->audit = sbx__outcfg_ref(cfg);
    struct line l = {0};
    start(&l, "spawn", child->pid);
    add(&l, ",\"policy_digest\":\"%s\",\"argv\":[", cfg->digest);
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            add(&l, ",");
        add_redacted(&l, cfg, argv[i]);
    }
    add(&l, "],\"layers\":[");
    size_t n = 0;
    for (uint32_t bit = 1; bit & SBX_LAYER_ALL; bit <<= 1)
        if (child->layers & bit)
            add(&l, "%s\"%s\"", n++ ? "," : "", sbx_layer_name(bit));
    add(&l, "],\"landlock_abi\":%d", child->landlock_abi);
    finish(&l, cfg, child);
}

/* Violations written per kind (a system call and its errno); the rest are
 * counted, and the exit event has the count of each kind. */
#define WRITTEN_PER_KIND 8

void sbx__audit_violation(sbx_child *child, const struct sbx__violation_rec *rec,
                          uint64_t kind_count)
{
    const struct sbx__outcfg *cfg = child->audit;
    if (!cfg)
        return;
    if (kind_count > WRITTEN_PER_KIND) {
        child->audit_dropped++;
        return;
    }
    const char *name = rec->name; /* resolved by the monitor */
    const char *ename = strerrorname_np(rec->error);
    struct line l = {0};
    start(&l, "violation", child->pid);
    add(&l, ",\"thread\":%d,\"syscall\":", (int)rec->pid);
    add_json_string(&l, name);
    add(&l, ",\"nr\":%d,\"errno\":\"%s\",\"time_ms\":%.3f", rec->nr, ename ? ename : "?",
        (double)rec->time_ns / 1e6);
    finish(&l, cfg, child);
}

/* A call of a host operation: which, how big its arguments were (never what
 * they were), how it ended, how long the host took. */
void sbx__audit_call(sbx_child *child, const char *op, size_t args_bytes, const char *outcome,
                     const char *code, uint64_t duration_ns)
{
    const struct sbx__outcfg *cfg = child->audit;
    if (!cfg)
        return;
    struct line l = {0};
    start(&l, "call", child->pid);
    add(&l, ",\"op\":");
    add_json_string(&l, op);
    add(&l, ",\"args_bytes\":%zu,\"outcome\":\"%s\"", args_bytes, outcome);
    if (code)
        add(&l, ",\"code\":\"%s\"", code);
    add(&l, ",\"duration_ms\":%.3f", (double)duration_ns / 1e6);
    finish(&l, cfg, child);
}

/* A limit hit and the library's kill, from how the child ended. */
static void limit_and_kill(sbx_child *child, const struct sbx__outcfg *cfg, int status)
{
    const char *limit = NULL, *kill_reason = NULL;
    switch (status) {
    case SBX_STATUS_TIMED_OUT: limit = "timeout", kill_reason = "timeout"; break;
    case SBX_STATUS_CPU_LIMIT: limit = "cpu"; break;
    case SBX_STATUS_FILE_SIZE_LIMIT: limit = "file_size"; break;
    case SBX_STATUS_MEMORY_LIMIT: limit = "memory"; break;
    case SBX_STATUS_VIOLATION: {
        const struct sbx__violations *v = child->violations;
        bool rate = v && v->rate_kill;
        limit = rate ? "violation_rate" : "violations";
        kill_reason = rate ? "violation_rate" : "violation_limit";
        break;
    }
    case SBX_STATUS_KILLED: kill_reason = "host"; break;
    case SBX_STATUS_NETWORK_LIMIT: limit = "network", kill_reason = "network_limit"; break;
    default: break;
    }
    if (limit) {
        struct line l = {0};
        start(&l, "limit", child->pid);
        add(&l, ",\"limit\":\"%s\"", limit);
        send_line(&l, cfg, child, true);
    }
    if (kill_reason) {
        struct line l = {0};
        start(&l, "kill", child->pid);
        add(&l, ",\"reason\":\"%s\",\"signal\":%d", kill_reason, SIGKILL);
        send_line(&l, cfg, child, true);
    }
}

void sbx__audit_end(sbx_child *child)
{
    struct sbx__outcfg *cfg = child->audit;
    if (!cfg)
        return;
    struct line l = {0};
    if (child->state == SBX__LOST) {
        start(&l, "exit", child->pid);
        add(&l, ",\"status\":\"lost\"");
    } else {
        int status = child->end_status; /* set by the core before the layers finish */
        limit_and_kill(child, cfg, status);
        start(&l, "exit", child->pid);
        add(&l, ",\"status\":\"%s\",\"exit_code\":%d,\"signal\":%d", sbx_status_name(status),
            WIFEXITED(child->wstatus) ? WEXITSTATUS(child->wstatus) : -1,
            WIFSIGNALED(child->wstatus) ? WTERMSIG(child->wstatus) : 0);
    }
    add(&l, ",\"wall_ms\":%.3f", (double)(child->end_ns - child->start_ns) / 1e6);
    const struct sbx__violations *v = child->violations;
    if (v && v->count) {
        add(&l, ",\"violations\":%llu,\"violation_kinds\":[", (unsigned long long)v->count);
        for (size_t i = 0; i < v->n_kinds; i++) {
            const char *ename = strerrorname_np(v->kinds[i].first.error);
            add(&l, "%s{\"syscall\":", i ? "," : "");
            add_json_string(&l, v->kinds[i].first.name);
            add(&l, ",\"errno\":\"%s\",\"count\":%llu}", ename ? ename : "?",
                (unsigned long long)v->kinds[i].count);
        }
        add(&l, "]");
    }
    if (child->unicode) { /* the captured output's Unicode classes (outfilter_engine.c) */
        char unicode[SBX__UNICODE_JSON_MAX];
        sbx__unicode_report_json(child->unicode, unicode, sizeof(unicode));
        add(&l, ",%s", unicode);
    }
    add(&l, ",\"audit_dropped\":%llu", (unsigned long long)child->audit_dropped);
    send_line(&l, cfg, child, true);
    child->audit = NULL; /* the end is the last event */
    sbx__outcfg_unref(cfg);
}

/* ---- settings ---------------------------------------------------------------------- */

int sbx_set_audit_fd(sbx_policy *policy, int fd)
{
    sbx__check_arg(policy);
    sbx__check(fd >= -1, "%s: %d is not a descriptor", __func__, fd);
    if (fd >= 0 && fcntl(fd, F_GETFD) < 0)
        return sbx__err(-EBADF, "%s: descriptor %d is not open", __func__, fd);
    struct sbx__output_policy *op = NULL;
    int r = sbx__output_policy_get(policy, __func__, &op);
    if (r < 0)
        return r;
    op->audit_fd = fd;
    sbx__policy_changed(policy);
    return 0;
}

uint64_t sbx_result_audit_dropped(const sbx_result *result)
{
    return result ? result->audit_dropped : 0;
}

int sbx_set_audit_limit(sbx_policy *policy, uint64_t bytes)
{
    sbx__check_arg(policy);
    sbx__check(bytes >= 4096, "%s: %llu bytes is less than 4096", __func__,
               (unsigned long long)bytes);
    struct sbx__output_policy *op = NULL;
    int r = sbx__output_policy_get(policy, __func__, &op);
    if (r < 0)
        return r;
    op->audit_limit = bytes;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_set_audit_callback(sbx_policy *policy, sbx_audit_fn fn, void *userdata)
{
    sbx__check_arg(policy);
    struct sbx__output_policy *op = NULL;
    int r = sbx__output_policy_get(policy, __func__, &op);
    if (r < 0)
        return r;
    op->audit_fn = fn;
    op->audit_ud = fn ? userdata : NULL;
    sbx__policy_changed(policy);
    return 0;
}

/* ---- the policy digest --------------------------------------------------------------- */

/* SHA-256 of the policy's JSON document (sbx_policy_to_json(), redacted with
 * cfg: an environment value may be a registered secret) and of the output
 * settings, which the document does not hold. */
void sbx__policy_digest(const char *doc, const struct sbx__outcfg *cfg, char out[72])
{
    snprintf(out, 72, "unknown");
    char *red = NULL;
    if (!doc || sbx__redact_string(cfg, doc, &red) < 0)
        return;
    struct line l = {0};
    add(&l, "%s\noutput patterns %d escapes %d values %zu\n", red, (int)cfg->patterns, cfg->escapes,
        cfg->n_values);
    explicit_bzero(red, strlen(red));
    free(red);
    if (!l.failed) {
        memcpy(out, "sha256:", 7);
        sbx__sha256_hex(l.buf, l.len, out + 7);
        explicit_bzero(l.buf, l.len);
    }
    free(l.buf);
}

void sbx__audit_connection(sbx_child *child, const struct sbx__broker_event *ev)
{
    const struct sbx__outcfg *cfg = child->audit;
    if (!cfg)
        return;
    struct line l = {0};
    start(&l, "connection", child->pid);
    add(&l, ",\"protocol\":\"%s\",\"host\":", ev->protocol);
    add_json_string(&l, ev->host);
    add(&l,
        ",\"address\":\"%s\",\"port\":%u,\"bytes_up\":%llu,\"bytes_down\":%llu,"
        "\"duration_ms\":%.3f,\"allowed\":%s,\"reason\":\"%s\",\"rule\":",
        ev->address, ev->port, (unsigned long long)ev->bytes_up, (unsigned long long)ev->bytes_down,
        (double)ev->duration_ns / 1e6, ev->allowed ? "true" : "false", ev->reason_text);
    add_json_string(&l, ev->rule);
    finish(&l, cfg, child);
}
