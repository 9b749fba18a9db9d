/* agentsbx-shim: a tool with argument rules, as the child sees it.
 *
 * sbx_allow_tool_args(p, "git", ...) puts a link named "git" to this program
 * first on the child's PATH, and does not let the child execute the real git.
 * Run as "git ARGS...", it sends the host, over the capability channel
 * (SBX_CAPS_FD), the tool's name, its arguments and its working directory,
 * with its standard streams attached (SCM_RIGHTS); the host checks the
 * arguments against the rules on its own copy of them, runs the real tool
 * confined by the same policy on those streams, and replies with how it
 * ended. This program exits the same way. No library: libc only.
 *
 * Exit status: the tool's; 126 and a message when the host denied the call
 * (the rules) or could not run it; 127 when there is no channel. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <agentsbx/capclient.h>

#define REQUEST_MAX (60 * 1024) /* under the host's default request limit */

static char req[REQUEST_MAX];
static size_t len;
static int too_long;

static void put(const char *s, size_t n)
{
    if (len + n >= sizeof(req)) {
        too_long = 1;
        return;
    }
    memcpy(req + len, s, n);
    len += n;
}

/* s as a JSON string: '"' and '\\' escaped, control bytes as \u00XX; other
 * bytes as they are (the host reads them back byte for byte). */
static void put_string(const char *s)
{
    put("\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[8];
            snprintf(e, sizeof(e), "\\u%04x", c);
            put(e, 6);
        } else {
            put((const char *)&c, 1);
        }
    }
    put("\"", 1);
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    const char *v = getenv("SBX_CAPS_FD");
    char *end = NULL;
    long fd = v && *v ? strtol(v, &end, 10) : -1;
    if (fd < 0 || !end || *end) {
        fprintf(stderr,
                "agentsbx: %s: no capability channel (SBX_CAPS_FD): this program runs only "
                "inside the sandbox that gave it argument rules\n",
                name);
        return 127;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd))) {
        fprintf(stderr, "agentsbx: %s: getcwd: %s\n", name, strerror(errno));
        return 126;
    }
    put("{\"op\":\"$tool\",\"args\":{\"tool\":", 29);
    put_string(name);
    put(",\"cwd\":", 7);
    put_string(cwd);
    put(",\"argv\":[", 9);
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            put(",", 1);
        put_string(argv[i]);
    }
    put("]}}", 3);
    if (too_long) {
        fprintf(stderr, "agentsbx: %s: the arguments are over %d bytes\n", name, REQUEST_MAX);
        return 126;
    }
    /* The frame, with the three standard streams attached to its first byte. */
    unsigned char head[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                             (unsigned char)(len >> 8), (unsigned char)len};
    int fds[3] = {0, 1, 2};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(fds))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct iovec iov = {head, 4};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(c), fds, sizeof(fds));
    signal(SIGPIPE, SIG_IGN);
    while (flock((int)fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            fprintf(stderr, "agentsbx: %s: the capability channel: %s\n", name, strerror(errno));
            return 126;
        }
    ssize_t k;
    while ((k = sendmsg((int)fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    static char reply[4096];
    int r = k == 4 ? sbx_caps__io((int)fd, req, len, 1) : -EPIPE;
    if (r == 0)
        r = sbx_caps__io((int)fd, head, 4, 0);
    uint32_t n =
        (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    if (r == 0 && n >= sizeof(reply))
        r = -EMSGSIZE;
    if (r == 0)
        r = sbx_caps__io((int)fd, reply, n, 0);
    flock((int)fd, LOCK_UN);
    if (r < 0) {
        fprintf(stderr, "agentsbx: %s: the capability channel failed: %s\n", name, strerror(-r));
        return 126;
    }
    reply[n] = '\0';
    /* {"id":null,"ok":true,"result":{"exit_code":N,"signal":S}} */
    const char *res = strstr(reply, "\"result\":{\"exit_code\":");
    if (strncmp(reply, "{\"id\":null,\"ok\":true,", 21) == 0 && res) {
        int code = 0, sig = 0;
        if (sscanf(res, "\"result\":{\"exit_code\":%d,\"signal\":%d", &code, &sig) == 2) {
            if (sig > 0) {
                signal(sig, SIG_DFL);
                raise(sig);
                return 128 + sig;
            }
            return code;
        }
    }
    /* {"id":null,"ok":false,"code":"...","error":"..."}: the error, unescaped */
    const char *err = strstr(reply, "\"error\":\"");
    if (!err) {
        fprintf(stderr, "agentsbx: %s: %s\n", name, reply);
        return 126;
    }
    char text[sizeof(reply)];
    size_t t = 0;
    for (const char *p = err + 9; *p && *p != '"' && t + 1 < sizeof(text); p++) {
        if (*p == '\\' && p[1]) {
            p++;
            if (*p == 'u' && strlen(p) >= 5) {
                unsigned u = 0;
                sscanf(p + 1, "%4x", &u);
                text[t++] = u < 0x80 ? (char)u : '?';
                p += 4;
                continue;
            }
            text[t++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            continue;
        }
        text[t++] = *p;
    }
    text[t] = '\0';
    fprintf(stderr, "agentsbx: %s: %s\n", name, text);
    return 126;
}
