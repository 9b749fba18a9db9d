/* Results: how a child ended, what it used, which layers held. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "internal.h"
#include "outfilter.h"
#include "seccomp_layer.h"

static uint64_t tv_ns(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

static int classify(const sbx_child *child, const sbx_result *res)
{
    if (child->reason == SBX__END_TIMEOUT)
        return SBX_STATUS_TIMED_OUT;
    if (child->reason == SBX__END_KILLED)
        return SBX_STATUS_KILLED;
    if (child->reason == SBX__END_VIOLATION)
        return SBX_STATUS_VIOLATION;
    if (child->reason == SBX__END_NETWORK_LIMIT)
        return SBX_STATUS_NETWORK_LIMIT;
    if (WIFEXITED(child->wstatus))
        return SBX_STATUS_EXITED;
    int sig = WTERMSIG(child->wstatus);
    if (sig == SIGKILL && child->cg.oom) /* the cgroup's OOM killer */
        return SBX_STATUS_MEMORY_LIMIT;
    if (child->cpu_limit_s) {
        /* SIGXCPU at the soft limit; SIGKILL at the hard one (soft + 1 s). */
        uint64_t cpu_ns = res->user_ns + res->system_ns;
        if (sig == SIGXCPU || (sig == SIGKILL && cpu_ns >= child->cpu_limit_s * 1000000000ull))
            return SBX_STATUS_CPU_LIMIT;
    }
    if (child->fsize_limited && sig == SIGXFSZ)
        return SBX_STATUS_FILE_SIZE_LIMIT;
    return SBX_STATUS_SIGNALED;
}

int sbx__child_status(const sbx_child *child)
{
    sbx_result cpu = {.user_ns = tv_ns(child->usage.ru_utime),
                      .system_ns = tv_ns(child->usage.ru_stime)};
    return classify(child, &cpu);
}

int sbx__result_new(const sbx_child *child, sbx_result **ret)
{
    sbx_result *res = calloc(1, sizeof(*res));
    if (!res)
        return sbx__errno(-ENOMEM, "allocating the result");
    res->wall_ns = child->end_ns - child->start_ns;
    res->user_ns = tv_ns(child->usage.ru_utime);
    res->system_ns = tv_ns(child->usage.ru_stime);
    res->peak_rss = (uint64_t)child->usage.ru_maxrss * 1024u;
    res->peak_memory = child->cg.peak;
    res->limits_hit = (child->cg.mem_hit ? 1u << SBX_LIMIT_MEMORY : 0) |
                      (child->cg.pids_hit ? 1u << SBX_LIMIT_PROCESSES : 0);
    memcpy(res->mechanism, child->mechanism, sizeof(res->mechanism));
    res->namespaces = child->namespaces;
    memcpy(res->isolation_fallback, child->isolation_fallback, sizeof(res->isolation_fallback));
    res->tree_kill = child->tree_kill;
    res->prepared_ahead = child->prepared_ahead;
    memcpy(res->caps, child->caps, sizeof(res->caps));
    res->layers = child->layers;
    res->landlock_abi = child->landlock_abi;
    res->landlock_rights = child->landlock_rights;
    res->exit_code = WIFEXITED(child->wstatus) ? WEXITSTATUS(child->wstatus) : -1;
    res->signal = WIFSIGNALED(child->wstatus) ? WTERMSIG(child->wstatus) : 0;
    res->status = classify(child, res);
    res->audit_dropped = child->audit_dropped;
    res->net = child->net; /* the egress broker's report moves to the result */
    ((sbx_child *)child)->net = NULL;
    res->workdir_note = child->start_note; /* and why the child started in / */
    ((sbx_child *)child)->start_note = NULL;
    if (sbx__capchan_result(child, res) < 0) {
        sbx_result_free(res);
        return sbx__errno(-ENOMEM, "allocating the result");
    }
    if (sbx__monitor_result(child, res) < 0 || sbx__engine_take((sbx_child *)child, res) < 0 ||
        sbx__overlay_result(child, res) < 0) {
        sbx_result_free(res);
        return sbx__errno(-ENOMEM, "allocating the result");
    }
    *ret = res;
    return 0;
}

void sbx_result_free(sbx_result *result)
{
    if (!result)
        return;
    free(result->out[0]);
    free(result->out[1]);
    free(result->tool_denied);
    sbx__violations_free(result);
    sbx__unicode_report_free(result->unicode);
    sbx__net_report_free(result->net);
    sbx__overlay_result_free(result);
    free(result->workdir_note);
    free(result);
}

int sbx_result_status(const sbx_result *result)
{
    sbx__check_arg(result);
    return result->status;
}

const char *sbx_landlock_right_name(uint32_t right)
{
    switch (right) {
    case SBX_LL_FS: return "fs";
    case SBX_LL_EXEC: return "exec";
    case SBX_LL_REFER: return "refer";
    case SBX_LL_TRUNCATE: return "truncate";
    case SBX_LL_TCP: return "tcp";
    case SBX_LL_IOCTL_DEV: return "ioctl_dev";
    case SBX_LL_SCOPE: return "scope";
    default: return "unknown";
    }
}

int sbx_result_landlock_abi(const sbx_result *result)
{
    return result ? result->landlock_abi : 0;
}

uint32_t sbx_result_landlock_rights(const sbx_result *result)
{
    return result ? result->landlock_rights : 0;
}

int sbx_result_exit_code(const sbx_result *result)
{
    sbx__check_arg(result);
    return result->exit_code;
}

int sbx_result_signal(const sbx_result *result)
{
    sbx__check_arg(result);
    return result->signal;
}

uint64_t sbx_result_wall_ns(const sbx_result *result)
{
    return result ? result->wall_ns : 0;
}

uint64_t sbx_result_user_cpu_ns(const sbx_result *result)
{
    return result ? result->user_ns : 0;
}

uint64_t sbx_result_system_cpu_ns(const sbx_result *result)
{
    return result ? result->system_ns : 0;
}

uint64_t sbx_result_peak_rss_bytes(const sbx_result *result)
{
    return result ? result->peak_rss : 0;
}

int sbx_result_limit_hit(const sbx_result *result, int limit)
{
    if (!result || (limit != SBX_LIMIT_MEMORY && limit != SBX_LIMIT_PROCESSES))
        return 0;
    return (result->limits_hit >> limit) & 1;
}

uint64_t sbx_result_peak_memory_bytes(const sbx_result *result)
{
    return result ? result->peak_memory : 0;
}

int sbx_result_limit_mechanism(const sbx_result *result, int limit)
{
    if (!result || limit < SBX_LIMIT_MEMORY || limit > SBX_LIMIT_TMP)
        return SBX_MECHANISM_NONE;
    return result->mechanism[limit];
}

static const char *mechanism_name(int mechanism)
{
    return mechanism == SBX_MECHANISM_CGROUP   ? "cgroup"
           : mechanism == SBX_MECHANISM_RLIMIT ? "rlimit"
           : mechanism == SBX_MECHANISM_TMPFS  ? "tmpfs"
           : mechanism == SBX_MECHANISM_DISK   ? "disk"
                                               : "none";
}

uint32_t sbx_result_namespaces(const sbx_result *result)
{
    return result ? result->namespaces : 0;
}

const char *sbx_result_isolation_fallback(const sbx_result *result)
{
    return result && result->isolation_fallback[0] ? result->isolation_fallback : NULL;
}

const char *sbx_result_workdir_note(const sbx_result *result)
{
    return result ? result->workdir_note : NULL;
}

/* `,"isolation_fallback":"..."` (JSON-escaped), or "" when it did not fall back. */
static void fallback_json(const sbx_result *result, char *out, size_t size)
{
    out[0] = '\0';
    if (!result->isolation_fallback[0])
        return;
    size_t n = (size_t)snprintf(out, size, ",\"isolation_fallback\":");
    if (n < size)
        sbx__json_quote(out + n, size - n, result->isolation_fallback,
                        strlen(result->isolation_fallback));
}

int sbx_result_prepared_ahead(const sbx_result *result)
{
    return result ? result->prepared_ahead : 0;
}

int sbx_result_tree_kill(const sbx_result *result)
{
    return result ? result->tree_kill : 0;
}

uint32_t sbx_result_layers(const sbx_result *result)
{
    return result ? result->layers : 0;
}

static const char *output(const sbx_result *result, int i, size_t *len)
{
    const char *s = result && result->out[i] ? result->out[i] : "";
    if (len)
        *len = result && result->out[i] ? result->out_len[i] : 0;
    return s;
}

const char *sbx_result_stdout(const sbx_result *result, size_t *len)
{
    return output(result, 0, len);
}

const char *sbx_result_stderr(const sbx_result *result, size_t *len)
{
    return output(result, 1, len);
}

int sbx_result_truncated(const sbx_result *result, int stream)
{
    sbx__check_arg(result);
    sbx__check(stream == 1 || stream == 2, "%s: stream %d is not 1 or 2", __func__, stream);
    return result->truncated[stream - 1];
}

int sbx_result_to_json(const sbx_result *result, char *buf, size_t size)
{
    sbx__check_arg(result);
    sbx__check(buf != NULL || size == 0, "%s: buf is NULL", __func__);
    char layers[256] = "", rights[256] = "";
    size_t used = 0;
    for (uint32_t bit = 1; bit & SBX_LAYER_ALL; bit <<= 1)
        if (result->layers & bit)
            used += (size_t)snprintf(layers + used, sizeof(layers) - used, "%s\"%s\"",
                                     used ? "," : "", sbx_layer_name(bit));
    used = 0;
    for (uint32_t bit = 1; bit <= SBX_LL_SCOPE; bit <<= 1)
        if (result->landlock_rights & bit)
            used += (size_t)snprintf(rights + used, sizeof(rights) - used, "%s\"%s\"",
                                     used ? "," : "", sbx_landlock_right_name(bit));
    char ns[128] = "";
    used = 0;
    for (uint32_t bit = 1; bit & SBX_NS_ALL; bit <<= 1)
        if (result->namespaces & bit)
            used += (size_t)snprintf(ns + used, sizeof(ns) - used, "%s\"%s\"", used ? "," : "",
                                     sbx_namespace_name(bit));
    char fallback[sizeof(result->isolation_fallback) * 2 + 32];
    fallback_json(result, fallback, sizeof(fallback));
    static const char *const tree_kill[] = {"none", "pgroup", "cgroup", "pidns", "subreaper"};
    const char *hit = result->limits_hit == (1u << SBX_LIMIT_MEMORY)      ? "\"memory\""
                      : result->limits_hit == (1u << SBX_LIMIT_PROCESSES) ? "\"processes\""
                      : result->limits_hit ? "\"memory\",\"processes\""
                                           : "";
    /* Masks (bit N: capability N, as in /proc/PID/status): compact, and exact
     * for capabilities newer than this library's names. */
    char caps[256];
    snprintf(caps, sizeof(caps),
             "\"capabilities\":{\"effective\":\"0x%llx\",\"permitted\":\"0x%llx\","
             "\"inheritable\":\"0x%llx\",\"bounding\":\"0x%llx\",\"ambient\":\"0x%llx\"}",
             (unsigned long long)result->caps[SBX_CAPS_EFFECTIVE],
             (unsigned long long)result->caps[SBX_CAPS_PERMITTED],
             (unsigned long long)result->caps[SBX_CAPS_INHERITABLE],
             (unsigned long long)result->caps[SBX_CAPS_BOUNDING],
             (unsigned long long)result->caps[SBX_CAPS_AMBIENT]);
    /* each at most 200 bytes, 6 per byte quoted: the 16 kept always fit */
    char tools[16 * (6 * 200 + 3)] = "";
    for (size_t i = 0, at = 0; i < result->n_tool_denied && i < 16; i++) {
        if (i)
            tools[at++] = ',';
        const char *d = result->tool_denied[i];
        at += sbx__json_quote(tools + at, sizeof(tools) - at, d, strnlen(d, 200));
    }
    int n = snprintf(
        buf, size,
        "{\"status\":\"%s\",\"exit_code\":%d,\"signal\":%d,\"wall_ms\":%.3f,"
        "\"user_cpu_ms\":%.3f,\"system_cpu_ms\":%.3f,\"peak_rss_bytes\":%llu,"
        "\"peak_memory_bytes\":%llu,\"memory_limit\":\"%s\",\"process_limit\":\"%s\","
        "\"cpu_rate_limit\":\"%s\",\"tmp_limit\":\"%s\",\"limits_hit\":[%s],"
        "\"layers\":[%s],\"namespaces\":[%s]%s,\"tree_kill\":\"%s\",%s"
        "\"landlock\":{\"abi\":%d,\"rights\":[%s]},%s,"
        "\"stdout_truncated\":%s,\"stderr_truncated\":%s,"
        "\"redactions\":%llu,\"escapes\":%llu,\"audit_dropped\":%llu,"
        "\"capability_calls\":%llu,\"capability_refused\":%llu,"
        "\"tool_denial_count\":%llu,\"tool_denials\":[%s]",
        sbx_status_name(result->status), result->exit_code, result->signal,
        (double)result->wall_ns / 1e6, (double)result->user_ns / 1e6,
        (double)result->system_ns / 1e6, (unsigned long long)result->peak_rss,
        (unsigned long long)result->peak_memory,
        mechanism_name(result->mechanism[SBX_LIMIT_MEMORY]),
        mechanism_name(result->mechanism[SBX_LIMIT_PROCESSES]),
        mechanism_name(result->mechanism[SBX_LIMIT_CPU_RATE]),
        mechanism_name(result->mechanism[SBX_LIMIT_TMP]), hit, layers, ns, fallback,
        tree_kill[result->tree_kill <= SBX_TREE_KILL_SUBREAPER ? result->tree_kill : 0],
        result->prepared_ahead ? "\"prepared_ahead\":true," : "", result->landlock_abi, rights,
        caps, result->truncated[0] ? "true" : "false", result->truncated[1] ? "true" : "false",
        (unsigned long long)result->redactions, (unsigned long long)result->escapes,
        (unsigned long long)result->audit_dropped, (unsigned long long)result->capability_calls,
        (unsigned long long)result->capability_refused, (unsigned long long)result->tool_denials,
        tools);
    if (n < 0)
        return n;
    size_t off = (size_t)n; /* then the Unicode classes, the violations, and the closing brace */
    char unicode[SBX__UNICODE_JSON_MAX];
    sbx__unicode_report_json(result->unicode, unicode, sizeof(unicode));
    off += (size_t)snprintf(off < size ? buf + off : NULL, off < size ? size - off : 0, ",%s",
                            unicode);
    off += (size_t)sbx__violations_json(result, off < size ? buf + off : NULL,
                                        off < size ? size - off : 0);
    off += (size_t)sbx__net_report_json(result, off < size ? buf + off : NULL,
                                        off < size ? size - off : 0);
    if (result->workdir_note) {
        off += (size_t)snprintf(off < size ? buf + off : NULL, off < size ? size - off : 0,
                                ",\"workdir_note\":");
        off += sbx__json_quote(off < size ? buf + off : NULL, off < size ? size - off : 0,
                               result->workdir_note, strlen(result->workdir_note));
    }
    if (off + 1 < size) {
        buf[off] = '}';
        buf[off + 1] = '\0';
    }
    return (int)(off + 1);
}
