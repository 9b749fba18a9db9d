/* probe_net: try ONE network or inter-process action and report the outcome,
 * so that a test can run it confined (where the Landlock layer must deny it)
 * and unconfined with posix_spawn (where it must succeed: the control that
 * proves the test can fail). Used by tests/live/test_landlock.c.
 *
 *   probe_net connect PORT       TCP connect(2) to 127.0.0.1:PORT
 *   probe_net bind PORT          TCP bind(2) to 127.0.0.1:PORT (SO_REUSEADDR); 0 = ephemeral
 *   probe_net listen-unbound     TCP listen(2) on a socket that was never bound (the kernel
 *                                picks a port); prints "ok port=N"
 *   probe_net unix-connect NAME  connect(2) to the abstract unix socket "\0NAME" (SOCK_STREAM)
 *   probe_net unix-path PATH     connect(2) to the pathname unix socket PATH (SOCK_STREAM) and
 *                                send one byte
 *   probe_net signal PID [SIG]   kill(PID, SIG); SIG defaults to 0 (existence check)
 *
 * Output, one line on stdout: "ok" (and any detail after it), or
 * "denied ENAME" with the errno name of the failing call. Exit code: 0 when
 * the action succeeded, 1 when it failed (any errno: the test asserts the
 * exact name), 2 on a usage error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int denied(const char *what, int err)
{
    const char *name = strerrorname_np(err);
    printf("denied %s\n", name ? name : "E?");
    fprintf(stderr, "probe_net: %s: %s\n", what, strerror(err));
    return 1;
}

static int parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static struct sockaddr_in loopback(long port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

static int bound_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    return ntohs(sa.sin_port);
}

static int do_connect(long port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return denied("socket", errno);
    struct sockaddr_in sa = loopback(port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return denied("connect", errno);
    close(fd);
    printf("ok\n");
    return 0;
}

static int do_bind(long port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return denied("socket", errno);
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        return denied("setsockopt", errno);
    struct sockaddr_in sa = loopback(port);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return denied("bind", errno);
    printf("ok port=%d\n", bound_port(fd));
    close(fd);
    return 0;
}

static int do_listen_unbound(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return denied("socket", errno);
    if (listen(fd, 1) != 0)
        return denied("listen", errno);
    printf("ok port=%d\n", bound_port(fd));
    close(fd);
    return 0;
}

static int do_unix_connect(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    if (n + 1 > sizeof(sa.sun_path)) {
        fprintf(stderr, "probe_net: name too long\n");
        return 2;
    }
    memcpy(sa.sun_path + 1, name, n); /* sun_path[0] == '\0': abstract */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return denied("socket", errno);
    if (connect(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0)
        return denied("connect", errno);
    close(fd);
    printf("ok\n");
    return 0;
}

static int do_unix_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "probe_net: path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return denied("socket", errno);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return denied("connect", errno);
    if (write(fd, "x", 1) != 1)
        return denied("write", errno);
    close(fd);
    printf("ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    long v, sig = 0;
    if (argc == 3 && strcmp(argv[1], "connect") == 0 && parse_int(argv[2], 1, 65535, &v) == 0)
        return do_connect(v);
    if (argc == 3 && strcmp(argv[1], "bind") == 0 && parse_int(argv[2], 0, 65535, &v) == 0)
        return do_bind(v);
    if (argc == 2 && strcmp(argv[1], "listen-unbound") == 0)
        return do_listen_unbound();
    if (argc == 3 && strcmp(argv[1], "unix-connect") == 0)
        return do_unix_connect(argv[2]);
    if (argc == 3 && strcmp(argv[1], "unix-path") == 0)
        return do_unix_path(argv[2]);
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "signal") == 0 &&
        parse_int(argv[2], 1, 1 << 22, &v) == 0 &&
        (argc == 3 || parse_int(argv[3], 0, 64, &sig) == 0)) {
        if (kill((pid_t)v, (int)sig) != 0)
            return denied("kill", errno);
        printf("ok\n");
        return 0;
    }
    fprintf(stderr, "usage: probe_net connect PORT | bind PORT | listen-unbound |\n"
                    "                 unix-connect NAME | unix-path PATH | signal PID [SIG]\n");
    return 2;
}
