/* probe_ns MODE [ARG]: what a child can see and do, for the namespace layer
 * (tests/live/test_namespace.c). Each mode tries one thing and prints one
 * line: a report ("pids=N self=P", "capeff=HEX", "hostname=NAME"), or "ok",
 * or "denied ENAME" with the errno name of the failing call.
 *
 *   pids            count the processes listed in /proc, and getpid()
 *   caps            the effective capabilities (CapEff of /proc/self/status)
 *   hostname        uname's node name
 *   udp PORT        send one datagram to 127.0.0.1:PORT
 *   shm KEY         shmget(KEY, 0, 0): a System V segment the host made
 *   stat PATH       stat(PATH)
 *   chmod PATH      chmod(PATH, 0640)
 *   chown PATH      chown(PATH) to its own uid and gid (a change of nothing)
 *   utimes PATH     utimes(PATH, NULL)
 *   setxattr PATH   setxattr(PATH, "user.agentsbx", "1")
 *   escape FD       double-fork: a grandchild in a new session, ignoring
 *                   SIGTERM and SIGHUP, writes "pid=N\n" to FD, keeps FD open
 *                   and sleeps; the main process then sleeps 60 s
 *   trap            exit 42 at SIGTERM; prints "ready" and waits
 *   fill DIR MIB    write a file in DIR 1 MiB at a time until a write fails or
 *                   MIB MiB are written; prints "filled_mib=N errno=NAME"
 *                   (NAME "none" when all were written); removes the file
 *
 * Exit 0 when the action succeeded, 1 when it failed, 2 on bad usage. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

static int denied(const char *what, int err)
{
    const char *name = strerrorname_np(err);
    printf("denied %s\n", name ? name : "E?");
    fprintf(stderr, "probe_ns: %s: %s\n", what, strerror(err));
    return 1;
}

static int ok(void)
{
    printf("ok\n");
    return 0;
}

static int pids(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return denied("opendir(/proc)", errno);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (isdigit((unsigned char)de->d_name[0]))
            n++;
    closedir(d);
    printf("pids=%d self=%d\n", n, (int)getpid());
    return 0;
}

static int caps(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return denied("fopen(/proc/self/status)", errno);
    char line[256];
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "CapEff:", 7) == 0) {
            printf("capeff=%s", line + 8 + strspn(line + 8, " \t"));
            fclose(f);
            return 0;
        }
    fclose(f);
    return denied("CapEff", ENOENT);
}

static void handle_term(int sig)
{
    (void)sig;
    _exit(42);
}

static int escape(int fd)
{
    pid_t mid = fork();
    if (mid < 0)
        return denied("fork", errno);
    if (mid == 0) {
        setsid();
        pid_t gc = fork();
        if (gc == 0) {
            signal(SIGTERM, SIG_IGN);
            signal(SIGHUP, SIG_IGN);
            dprintf(fd, "pid=%d\n", (int)getpid());
            for (;;)
                pause();
        }
        _exit(gc < 0);
    }
    close(fd);
    printf("started\n");
    fflush(stdout);
    sleep(60);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *mode = argv[1], *arg = argc > 2 ? argv[2] : NULL;
    if (strcmp(mode, "pids") == 0)
        return pids();
    if (strcmp(mode, "caps") == 0)
        return caps();
    if (strcmp(mode, "hostname") == 0) {
        struct utsname u;
        uname(&u);
        printf("hostname=%s\n", u.nodename);
        return 0;
    }
    if (strcmp(mode, "trap") == 0) {
        signal(SIGTERM, handle_term);
        printf("ready\n");
        fflush(stdout);
        for (;;)
            pause();
    }
    if (!arg)
        return 2;
    if (strcmp(mode, "udp") == 0) {
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            return denied("socket", errno);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg))};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (sendto(s, "ping", 4, 0, (struct sockaddr *)&sa, sizeof(sa)) != 4)
            return denied("sendto", errno);
        return ok();
    }
    if (strcmp(mode, "shm") == 0)
        return shmget((key_t)atol(arg), 0, 0) >= 0 ? ok() : denied("shmget", errno);
    if (strcmp(mode, "stat") == 0) {
        struct stat st;
        return stat(arg, &st) == 0 ? ok() : denied("stat", errno);
    }
    if (strcmp(mode, "chmod") == 0)
        return chmod(arg, 0640) == 0 ? ok() : denied("chmod", errno);
    if (strcmp(mode, "chown") == 0) {
        struct stat st;
        if (stat(arg, &st) != 0)
            return denied("stat", errno);
        return chown(arg, st.st_uid, st.st_gid) == 0 ? ok() : denied("chown", errno);
    }
    if (strcmp(mode, "utimes") == 0)
        return utimes(arg, NULL) == 0 ? ok() : denied("utimes", errno);
    if (strcmp(mode, "setxattr") == 0)
        return setxattr(arg, "user.agentsbx", "1", 1, 0) == 0 ? ok() : denied("setxattr", errno);
    if (strcmp(mode, "fill") == 0 && argc == 4) {
        static char chunk[1 << 20];
        char path[4096];
        snprintf(path, sizeof(path), "%s/probe_ns.fill", arg);
        FILE *f = fopen(path, "we");
        if (!f)
            return denied("fopen", errno);
        long want = atol(argv[3]), n = 0;
        int err = 0;
        memset(chunk, 'x', sizeof(chunk));
        int fd = fileno(f);
        for (; n < want; n++) {
            if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk)) {
                err = errno ? errno : ENOSPC;
                break;
            }
        }
        fclose(f);
        unlink(path);
        const char *name = err ? strerrorname_np(err) : "none";
        printf("filled_mib=%ld errno=%s\n", n, name ? name : "E?");
        return 0;
    }
    if (strcmp(mode, "escape") == 0)
        return escape(atoi(arg));
    return 2;
}
