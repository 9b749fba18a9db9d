/**
 * @file agentsbx/capclient.h
 * @brief The child's side of the capability channel, header-only: call a
 * host operation granted with sbx_allow_capability().
 *
 * For programs that run inside the sandbox; needs nothing but libc (no
 * linking with libagentsbx). One call at a time per descriptor: the call
 * holds flock(2) on it, so processes sharing the descriptor take turns.
 *
 * @code
 * char reply[4096];
 * int r = sbx_caps_call("fetch_issue", "{\"number\":7}", reply, sizeof(reply));
 * if (r == 0)
 *     puts(sbx_caps_result(reply));  // the JSON result, as the host gave it
 * @endcode
 */
#ifndef AGENTSBX_CAPCLIENT_H
#define AGENTSBX_CAPCLIENT_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @cond internal */
static inline int sbx_caps__io(int fd, void *buf, size_t len, int writing)
{
    size_t done = 0;
    while (done < len) {
        ssize_t k = writing ? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL)
                            : read(fd, (char *)buf + done, len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -EPIPE; /* the host closed the channel */
        done += (size_t)k;
    }
    return 0;
}

static inline int sbx_caps__exchange(int fd, const char *op, const char *args, char *reply,
                                     size_t reply_size)
{
    size_t nop = strlen(op), nargs = strlen(args);
    size_t len = sizeof("{\"op\":\"\",\"args\":}") - 1 + nop + nargs;
    if (len > 0xffffffffu)
        return -E2BIG;
    unsigned char head[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                             (unsigned char)(len >> 8), (unsigned char)len};
    int r;
    if ((r = sbx_caps__io(fd, head, 4, 1)) < 0 || (r = sbx_caps__io(fd, "{\"op\":\"", 7, 1)) < 0 ||
        (r = sbx_caps__io(fd, (void *)op, nop, 1)) < 0 ||
        (r = sbx_caps__io(fd, "\",\"args\":", 9, 1)) < 0 ||
        (r = sbx_caps__io(fd, (void *)args, nargs, 1)) < 0 || (r = sbx_caps__io(fd, "}", 1, 1)) < 0)
        return r;
    if ((r = sbx_caps__io(fd, head, 4, 0)) < 0)
        return r;
    uint32_t n =
        (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    if (n >= reply_size) {
        /* read it all (the next call must start at a frame), keep nothing */
        char sink[512];
        while (n && (r = sbx_caps__io(fd, sink, n < sizeof(sink) ? n : sizeof(sink), 0)) == 0)
            n -= n < sizeof(sink) ? n : (uint32_t)sizeof(sink);
        return r < 0 ? r : -EMSGSIZE;
    }
    if ((r = sbx_caps__io(fd, reply, n, 0)) < 0)
        return r;
    reply[n] = '\0';
    return 0;
}
/** @endcond */

/**
 * @brief Call a host operation over a given descriptor.
 *
 * @param fd The channel (SBX_CAPS_FD's number).
 * @param op The operation's name (1 to 64 of `A-Z a-z 0-9 _ . -`).
 * @param args_json Its arguments, one JSON value, or NULL for `null`; sent as is.
 * @param reply Where the reply's JSON object goes, NUL-terminated.
 * @param reply_size Its size.
 * @retval 0 The operation succeeded: sbx_caps_result() gives its result.
 * @retval 1 The host refused or the operation failed: sbx_caps_error() says why.
 * @retval -EINVAL A bad name or NULL argument.
 * @retval -EMSGSIZE The reply did not fit (it was read and dropped).
 * @retval -EPIPE The host closed the channel (the child broke the protocol,
 *         or the host ended); other negative errnos: the system call's.
 */
static inline int sbx_caps_call_fd(int fd, const char *op, const char *args_json, char *reply,
                                   size_t reply_size)
{
    if (!op || !reply || reply_size < 2 || fd < 0)
        return -EINVAL;
    size_t n = 0;
    for (; op[n]; n++)
        if (n >= 64 ||
            !(op[n] == '_' || op[n] == '.' || op[n] == '-' || (op[n] >= '0' && op[n] <= '9') ||
              ((op[n] | 0x20) >= 'a' && (op[n] | 0x20) <= 'z')))
            return -EINVAL;
    if (!n)
        return -EINVAL;
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR)
            return -errno;
    int r = sbx_caps__exchange(fd, op, args_json ? args_json : "null", reply, reply_size);
    flock(fd, LOCK_UN);
    if (r < 0)
        return r;
    return strncmp(reply, "{\"id\":null,\"ok\":true,", 21) == 0 ? 0 : 1;
}

/**
 * @brief Call a host operation over the descriptor SBX_CAPS_FD names.
 * @retval -ENOTCONN SBX_CAPS_FD is not set or not a number (no operation is granted).
 * Otherwise as sbx_caps_call_fd().
 */
static inline int sbx_caps_call(const char *op, const char *args_json, char *reply,
                                size_t reply_size)
{
    const char *v = getenv("SBX_CAPS_FD");
    char *end = NULL;
    long fd = v && *v ? strtol(v, &end, 10) : -1;
    if (fd < 0 || fd > 0x7fffffff || !end || *end)
        return -ENOTCONN;
    return sbx_caps_call_fd((int)fd, op, args_json, reply, reply_size);
}

/**
 * @brief The result in a successful reply: the JSON text the host's handler
 * gave (the reply is changed in place: its closing brace is cut). NULL when
 * the reply is not a success.
 */
static inline const char *sbx_caps_result(char *reply)
{
    static const char prefix[] = "{\"id\":null,\"ok\":true,\"result\":";
    size_t n = strlen(reply);
    if (strncmp(reply, prefix, sizeof(prefix) - 1) != 0 || n < sizeof(prefix) ||
        reply[n - 1] != '}')
        return NULL;
    reply[n - 1] = '\0';
    return reply + sizeof(prefix) - 1;
}

/**
 * @brief The error part of a refusal or failure reply:
 * `"code":"...","error":"..."` (JSON members, as the host wrote them), or
 * NULL when the reply is not one.
 */
static inline const char *sbx_caps_error(const char *reply)
{
    static const char prefix[] = "{\"id\":null,\"ok\":false,";
    return strncmp(reply, prefix, sizeof(prefix) - 1) == 0 ? reply + sizeof(prefix) - 1 : NULL;
}

#ifdef __cplusplus
}
#endif

#endif
