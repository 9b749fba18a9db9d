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

/* Length of the valid UTF-8 sequence at s (0 if invalid). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef)
        need = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    for (size_t k = 1; k < need; k++) {
        unsigned char b = s[k]; /* a NUL ends the check: it is out of range */
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
            return 0;
    }
    return need;
}

/* A JSON string: control characters escaped, invalid UTF-8 as U+FFFD. */
static void add_json_string(struct line *l, const char *s)
{
    add(l, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t run = 0;
        while (p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run) {
            add(l, "%.*s", (int)run, (const char *)p);
            p += run;
            continue;
        }
        if (*p == '"' || *p == '\\') {
            add(l, "\\%c", *p);
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            add(l, "\\u%04x", *p);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n)
                add(l, "%.*s", (int)n, (const char *)p);
            else
                add(l, "\\ufffd");
            p += n ? n : 1;
        }
    }
    add(l, "\"");
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
    char name[32];
    if (rec->name[0])
        snprintf(name, sizeof(name), "%s", rec->name);
    else
        sbx__syscall_name(SCMP_ARCH_NATIVE, rec->nr, name, sizeof(name));
    const char *ename = strerrorname_np(rec->error);
    struct line l = {0};
    start(&l, "violation", child->pid);
    add(&l, ",\"thread\":%d,\"syscall\":", (int)rec->pid);
    add_json_string(&l, name);
    add(&l, ",\"nr\":%d,\"errno\":\"%s\",\"time_ms\":%.3f", rec->nr, ename ? ename : "?",
        (double)rec->time_ns / 1e6);
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
        const struct sbx__violations *v = sbx__monitor_violations(child);
        bool rate = v && v->rate_kill;
        limit = rate ? "violation_rate" : "violations";
        kill_reason = rate ? "violation_rate" : "violation_limit";
        break;
    }
    case SBX_STATUS_KILLED: kill_reason = "host"; break;
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
        int status = sbx__child_status(child);
        limit_and_kill(child, cfg, status);
        start(&l, "exit", child->pid);
        add(&l, ",\"status\":\"%s\",\"exit_code\":%d,\"signal\":%d", sbx_status_name(status),
            WIFEXITED(child->wstatus) ? WEXITSTATUS(child->wstatus) : -1,
            WIFSIGNALED(child->wstatus) ? WTERMSIG(child->wstatus) : 0);
    }
    add(&l, ",\"wall_ms\":%.3f", (double)(child->end_ns - child->start_ns) / 1e6);
    const struct sbx__violations *v = sbx__monitor_violations(child);
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
void sbx__policy_digest(const sbx_policy *policy, const struct sbx__outcfg *cfg, char out[72])
{
    snprintf(out, 72, "unknown");
    int n = sbx_policy_to_json(policy, NULL, 0);
    char *doc = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!doc || sbx_policy_to_json(policy, doc, (size_t)n + 1) != n) {
        free(doc);
        return;
    }
    char *red = NULL;
    int r = sbx__redact_string(cfg, doc, &red);
    explicit_bzero(doc, (size_t)n);
    free(doc);
    if (r < 0)
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

/* ---- SHA-256 (FIPS 180-4) ---------------------------------------------------------------- */

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void sbx__sha256_hex(const void *data, size_t len, char hex[65])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *p = data;
    size_t left = len;
    for (; left >= 64; p += 64, left -= 64)
        sha256_block(h, p);
    unsigned char last[128] = {0};
    memcpy(last, p, left);
    last[left] = 0x80;
    size_t blocks = left + 9 > 64 ? 2 : 1;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        last[blocks * 64 - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t b = 0; b < blocks; b++)
        sha256_block(h, last + 64 * b);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 8 * i, 9, "%08x", h[i]);
}
