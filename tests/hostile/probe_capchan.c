/* probe_capchan: the child's side of the capability channel, well-behaved
 * and hostile. Prints one line per action.
 *
 *   probe_capchan call OP [ARGS]      a call with agentsbx/capclient.h:
 *                                     "ok RESULT", "refused CODE-AND-ERROR",
 *                                     or "errno ENAME"
 *   probe_capchan calls N OP [ARGS]   N calls: "ok=A refused=B errno=C"
 *   probe_capchan garbage OP          a frame that is not JSON, then a call
 *   probe_capchan huge N              a frame header announcing N bytes,
 *                                     then what comes back
 *   probe_capchan flood N             N frames without reading a reply, then
 *                                     how many replies came and whether the
 *                                     channel was closed
 *   probe_capchan partial SECONDS     half a frame, then a sleep
 *   probe_capchan grandchild OP       the call made by a grandchild
 *   probe_capchan scanmem TEXT [COPY] whether TEXT is in this process's
 *                                     readable memory (but for argv[2]
 *                                     itself) or its environment; COPY, the
 *                                     same text again, is the control
 *   probe_capchan race N              N runs of "git <word>" by posix_spawnp
 *                                     while another thread flips the word's
 *                                     bytes between "status" and "push":
 *                                     "ran=A denied=B other=C" (C: exits
 *                                     that are neither, named on stderr)
 *   probe_capchan direct              a connect to nowhere without the
 *                                     channel: SBX_CAPS_FD's value, "unset"
 * Does not link the library. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agentsbx/capclient.h>

static int caps_fd(void)
{
    const char *v = getenv("SBX_CAPS_FD");
    return v ? atoi(v) : -1;
}

static void report(int r, char *reply)
{
    if (r == 0)
        printf("ok %s\n", sbx_caps_result(reply));
    else if (r == 1)
        printf("refused %s\n", sbx_caps_error(reply));
    else
        printf("errno %s\n", strerrorname_np(-r));
    fflush(stdout);
}

static int send_raw(int fd, const void *buf, size_t len)
{
    return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static void frame_head(unsigned char head[4], uint32_t n)
{
    head[0] = (unsigned char)(n >> 24), head[1] = (unsigned char)(n >> 16);
    head[2] = (unsigned char)(n >> 8), head[3] = (unsigned char)n;
}

/* Read one reply frame into buf; its length, or -1 at end of file / error. */
static long read_reply(int fd, char *buf, size_t size)
{
    unsigned char head[4];
    if (sbx_caps__io(fd, head, 4, 0) < 0)
        return -1;
    uint32_t n =
        (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    if (n >= size || sbx_caps__io(fd, buf, n, 0) < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static int scanmem(const char *text)
{
    size_t tl = strlen(text);
    extern char **environ;
    for (char **e = environ; *e; e++)
        if (strstr(*e, text)) {
            printf("found environ\n");
            return 0;
        }
    FILE *maps = fopen("/proc/self/maps", "r");
    int mem = open("/proc/self/mem", O_RDONLY);
    if (!maps || mem < 0) {
        printf("errno %s\n", strerrorname_np(errno));
        return 1;
    }
    char line[512];
    static char buf[1 << 16];
    while (fgets(line, sizeof(line), maps)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            strstr(line, "[vvar") || strstr(line, "[vsyscall"))
            continue;
        for (unsigned long at = lo; at < hi; at += sizeof(buf) - tl) {
            size_t want = hi - at < sizeof(buf) ? hi - at : sizeof(buf);
            ssize_t k = pread(mem, buf, want, (off_t)at);
            if (k <= 0)
                break;
            /* the search text itself lives in argv: skip the copy there */
            for (char *p = memmem(buf, (size_t)k, text, tl); p;
                 p = memmem(p + 1, (size_t)k - (size_t)(p + 1 - buf), text, tl))
                if ((unsigned long)(at + (unsigned long)(p - buf)) != (unsigned long)text) {
                    printf("found memory\n");
                    return 0;
                }
            if ((size_t)k < want)
                break;
        }
    }
    printf("not found\n");
    return 0;
}

static char word[8] = "status";
static atomic_int racing = 1;

static void *flipper(void *arg)
{
    (void)arg;
    while (atomic_load(&racing)) {
        memcpy(word, "push\0\0", 7);
        memcpy(word, "status", 7);
    }
    return NULL;
}

/* Change the arguments of a tool call while it is being made: whatever
 * bytes the host gets, it checks and runs those same bytes. */
static int race(long n)
{
    extern char **environ;
    pthread_t t;
    if (pthread_create(&t, NULL, flipper, NULL) != 0)
        return 1;
    long ran = 0, denied = 0, other = 0;
    int devnull = open("/dev/null", O_WRONLY);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, devnull, 2);
    for (long i = 0; i < n; i++) {
        char *args[] = {"git", word, NULL};
        pid_t pid;
        int st;
        if (posix_spawnp(&pid, "git", &fa, NULL, args, environ) != 0 ||
            waitpid(pid, &st, 0) != pid) {
            other++;
            continue;
        }
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        ran += code == 0;
        denied += code == 126;
        other += code != 0 && code != 126;
        if (code != 0 && code != 126)
            fprintf(stderr, "exit %d\n", code);
    }
    atomic_store(&racing, 0);
    pthread_join(t, NULL);
    printf("ran=%ld denied=%ld other=%ld\n", ran, denied, other);
    return 0;
}

int main(int argc, char **argv)
{
    char reply[65536];
    if (argc < 2)
        return 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "call") && argc >= 3) {
        report(sbx_caps_call(argv[2], argc > 3 ? argv[3] : NULL, reply, sizeof(reply)), reply);
        return 0;
    }
    if (!strcmp(mode, "calls") && argc >= 4) {
        long n = atol(argv[2]), ok = 0, refused = 0, err = 0;
        for (long i = 0; i < n; i++) {
            int r = sbx_caps_call(argv[3], argc > 4 ? argv[4] : NULL, reply, sizeof(reply));
            ok += r == 0, refused += r == 1, err += r < 0;
        }
        printf("ok=%ld refused=%ld errno=%ld\n", ok, refused, err);
        return 0;
    }
    int fd = caps_fd();
    if (!strcmp(mode, "direct")) {
        printf("%s\n", getenv("SBX_CAPS_FD") ? getenv("SBX_CAPS_FD") : "unset");
        return 0;
    }
    if (!strcmp(mode, "race") && argc == 3)
        return race(atol(argv[2]));
    if (!strcmp(mode, "scanmem") && (argc == 3 || argc == 4))
        return scanmem(argv[2]); /* argv[3], a copy elsewhere in memory: the control */
    if (fd < 0) {
        printf("no channel\n");
        return 1;
    }
    if (!strcmp(mode, "garbage") && argc == 3) {
        unsigned char head[4];
        frame_head(head, 8);
        if (send_raw(fd, head, 4) || send_raw(fd, "not json", 8))
            return 1;
        long n = read_reply(fd, reply, sizeof(reply));
        printf("%s\n", n < 0 ? "closed" : reply);
        report(sbx_caps_call(argv[2], NULL, reply, sizeof(reply)), reply);
        return 0;
    }
    if (!strcmp(mode, "huge") && argc == 3) {
        unsigned char head[4];
        frame_head(head, (uint32_t)strtoul(argv[2], NULL, 10));
        if (send_raw(fd, head, 4))
            return 1;
        long n = read_reply(fd, reply, sizeof(reply));
        printf("%s\n", n < 0 ? "closed" : reply);
        char c;
        printf("then %s\n", read(fd, &c, 1) == 0 ? "eof" : "open");
        return 0;
    }
    if (!strcmp(mode, "flood") && argc == 3) {
        long n = atol(argv[2]), sent = 0;
        static const char req[] = "{\"op\":\"echo\",\"args\":1}";
        unsigned char head[4];
        frame_head(head, sizeof(req) - 1);
        for (; sent < n; sent++) {
            struct iovec iov[2] = {{head, 4}, {(void *)req, sizeof(req) - 1}};
            struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
            if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                break; /* closed, or the buffer is full */
        }
        /* a send can stop in the middle of a frame when the buffer fills:
         * end the stream there, so that the host sees the end */
        shutdown(fd, SHUT_WR);
        long replies = 0;
        while (read_reply(fd, reply, sizeof(reply)) >= 0)
            replies++;
        /* replies: as many as the host answered in turn (the probe reads them
         * only once it cannot send more), then end of file */
        printf("sent=%s closed\n", sent > 1 ? "many" : "one");
        fprintf(stderr, "replies=%ld\n", replies);
        return 0;
    }
    if (!strcmp(mode, "partial") && argc == 3) {
        unsigned char head[4];
        frame_head(head, 100);
        if (send_raw(fd, head, 4) || send_raw(fd, "{\"op\":", 6))
            return 1;
        sleep((unsigned)atoi(argv[2]));
        printf("partial done\n");
        return 0;
    }
    if (!strcmp(mode, "grandchild") && argc == 3) {
        pid_t c = fork();
        if (c == 0) {
            pid_t g = fork();
            if (g == 0) {
                report(sbx_caps_call(argv[2], "\"from the grandchild\"", reply, sizeof(reply)),
                       reply);
                _exit(0);
            }
            waitpid(g, NULL, 0);
            _exit(0);
        }
        waitpid(c, NULL, 0);
        return 0;
    }
    return 2;
}
