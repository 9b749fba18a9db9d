/* probe_flood: a child that floods its egress broker (issue 17, bad input),
 * run confined by tests/live/test_broker.c.
 *
 *   probe_flood N HOST:PORT
 *
 * Opens N connections to the broker (the port of $HTTP_PROXY), each sending
 * half a request and holding it; prints "opened O failed F in MS" (connects that
 * succeeded and failed, and the milliseconds they took). Then one good request on a new connection,
 * "GET http://HOST:PORT/good", and prints "good STATUS MS" (the status line's
 * code, or 0, and the milliseconds it took). Then, of the N held connections,
 * "evicted E closed C" (those the broker answered with its eviction refusal,
 * and those it closed without). Exit 0, or 2 on a usage error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int to_broker(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *proxy = getenv("HTTP_PROXY");
    const char *colon = proxy ? strrchr(proxy, ':') : NULL;
    if (argc != 3 || !colon) {
        fprintf(stderr, "usage: HTTP_PROXY=http://127.0.0.1:PORT probe_flood N HOST:PORT\n");
        return 2;
    }
    uint16_t port = (uint16_t)atoi(colon + 1);
    int n = atoi(argv[1]);
    int *fds = calloc((size_t)n, sizeof(*fds));
    if (!fds)
        return 2;
    int opened = 0, failed = 0;
    struct timespec f0, f1;
    clock_gettime(CLOCK_MONOTONIC, &f0);
    for (int i = 0; i < n; i++) {
        fds[i] = to_broker(port);
        if (fds[i] < 0) {
            failed++;
            continue;
        }
        opened++;
        (void)!send(fds[i], "GET http://", 11, MSG_NOSIGNAL);
    }
    clock_gettime(CLOCK_MONOTONIC, &f1);
    printf("opened %d failed %d in %ld ms\n", opened, failed,
           (f1.tv_sec - f0.tv_sec) * 1000 + (f1.tv_nsec - f0.tv_nsec) / 1000000);
    fflush(stdout);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int code = 0;
    int fd = to_broker(port);
    if (fd >= 0) {
        char req[512], reply[4096];
        int len = snprintf(req, sizeof(req),
                           "GET http://%s/good HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                           argv[2], argv[2]);
        size_t got = 0;
        if (send(fd, req, (size_t)len, MSG_NOSIGNAL) == len)
            for (ssize_t r; got < sizeof(reply) - 1 &&
                            (r = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0;)
                got += (size_t)r;
        reply[got] = '\0';
        if (strncmp(reply, "HTTP/1.1 ", 9) == 0)
            code = atoi(reply + 9);
        close(fd);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("good %d %ld\n", code, ms);

    int evicted = 0, closed = 0;
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        char buf[1024];
        ssize_t r = recv(fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (r > 0) {
            buf[r] = '\0';
            if (strstr(buf, "X-Agentsbx-Reason: evicted at the connection limit\r\n"))
                evicted++;
        } else if (r == 0 || errno == ECONNRESET) {
            closed++;
        }
        close(fds[i]);
    }
    printf("evicted %d closed %d\n", evicted, closed);
    free(fds);
    return 0;
}
