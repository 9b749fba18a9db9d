/* probe_caps: what capabilities a child holds, and whether it can use them.
 *
 *   probe_caps sets                 one line: "eff=HEX prm=HEX inh=HEX bnd=HEX amb=HEX
 *                                   secbits=HEX" (capget(2) and prctl(2) only: no file access)
 *   probe_caps try ACTION [ARG]     one line: "ok" or "denied ENAME" for one privileged action:
 *     chown FILE      chown(FILE, 12345, 12345)                  (CAP_CHOWN)
 *     read FILE       open(FILE, O_RDONLY) of a file mode 000     (CAP_DAC_OVERRIDE)
 *     setuid          setresuid(12345, 12345, 12345)              (CAP_SETUID)
 *     bind PORT       bind a TCP socket to 127.0.0.1:PORT         (CAP_NET_BIND_SERVICE < 1024)
 *     nice            setpriority(PRIO_PROCESS, 0, -5)            (CAP_SYS_NICE)
 *     raise CAP       raise CAP (a number) into the ambient set    (needs it in perm and inh)
 * Exit 0 after printing, 2 on bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sets(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &hdr, d) != 0) {
        perror("probe_caps: capget");
        return 1;
    }
    uint64_t bnd = 0, amb = 0;
    for (int c = 0; c < 64; c++) {
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            bnd |= 1ull << c;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
            amb |= 1ull << c;
    }
    int secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    printf("eff=%llx prm=%llx inh=%llx bnd=%llx amb=%llx secbits=%x\n",
           (unsigned long long)(d[0].effective | (uint64_t)d[1].effective << 32),
           (unsigned long long)(d[0].permitted | (uint64_t)d[1].permitted << 32),
           (unsigned long long)(d[0].inheritable | (uint64_t)d[1].inheritable << 32),
           (unsigned long long)bnd, (unsigned long long)amb, (unsigned)secbits);
    return 0;
}

static int report(int r)
{
    if (r == 0)
        printf("ok\n");
    else
        printf("denied %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
    return 0;
}

static int try(const char *action, const char *arg)
{
    if (strcmp(action, "chown") == 0 && arg)
        return report(chown(arg, 12345, 12345));
    if (strcmp(action, "read") == 0 && arg) {
        int fd = open(arg, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            close(fd);
        return report(fd >= 0 ? 0 : -1);
    }
    if (strcmp(action, "setuid") == 0)
        return report(setresuid(12345, 12345, 12345));
    if (strcmp(action, "bind") == 0 && arg) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            return report(-1);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg))};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int r = bind(s, (struct sockaddr *)&a, sizeof(a));
        int saved = errno;
        close(s);
        errno = saved;
        return report(r);
    }
    if (strcmp(action, "nice") == 0)
        return report(setpriority(PRIO_PROCESS, 0, -5));
    if (strcmp(action, "raise") == 0 && arg)
        return report(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, atoi(arg), 0, 0));
    fprintf(stderr, "probe_caps: unknown action %s\n", action);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "sets") == 0)
        return sets();
    if (argc >= 3 && strcmp(argv[1], "try") == 0)
        return try(argv[2], argc > 3 ? argv[3] : NULL);
    fprintf(stderr, "usage: probe_caps sets | try ACTION [ARG]\n");
    return 2;
}
