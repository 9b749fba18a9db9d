/* probe_exec: run a program that was not granted, through an anonymous file.
 *
 *   probe_exec ROUTE FLAGS
 *     copies /bin/echo into a memfd made with FLAGS ("plain": 0, "cloexec":
 *     MFD_CLOEXEC, "exec": MFD_EXEC), then executes it by ROUTE:
 *       fexecve    glibc's fexecve (execveat(fd, "", AT_EMPTY_PATH))
 *       execveat   execveat(fd, "", ..., AT_EMPTY_PATH) directly
 *       procfd     execve("/proc/self/fd/N")
 *     with the argument "EXECUTED": when the route works, echo prints it.
 *     Otherwise one line: "denied ENAME" (the step that failed on stderr).
 *   probe_exec jit FLAGS
 *     writes x86-64 code (mov eax, 42; ret) into a memfd made with FLAGS, maps
 *     it PROT_READ|PROT_EXEC and calls it: prints "jit 42", and the memfd's
 *     mode and seals: "mode=NNN exec_sealed=0|1".
 *   probe_exec name LEN
 *     memfd_create with a name of LEN letters; prints "name LEN" when the
 *     memfd carries that name (readlink of /proc/self/fd/N: /proc must be
 *     readable), "name other LABEL" when it carries another, or "denied ENAME".
 *   probe_exec name page-end
 *     the same with the name "pe" in the last bytes of a page whose next page
 *     is not mapped: prints "name pe" when the memfd carries it.
 * Exit 0, or 1 when a step failed (after printing), 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010u
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

extern char **environ;

static int denied(const char *step)
{
    int err = errno;
    printf("denied %s\n", strerrorname_np(err) ? strerrorname_np(err) : "E?");
    fprintf(stderr, "probe_exec: %s: %s\n", step, strerror(err));
    return 1;
}

static int parse_flags(const char *s, unsigned *flags)
{
    if (!strcmp(s, "plain"))
        *flags = 0;
    else if (!strcmp(s, "cloexec"))
        *flags = MFD_CLOEXEC;
    else if (!strcmp(s, "exec"))
        *flags = MFD_EXEC;
    else
        return -1;
    return 0;
}

static int copy(int to, const char *from)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(to, buf, (size_t)n) != n) {
            close(in);
            return -1;
        }
    close(in);
    return n == 0 ? 0 : -1;
}

static int jit(unsigned flags)
{
    int fd = (int)syscall(SYS_memfd_create, "jit", flags);
    if (fd < 0)
        return denied("memfd_create");
    static const unsigned char code[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
    if (ftruncate(fd, 4096) != 0 || pwrite(fd, code, sizeof(code), 0) != (ssize_t)sizeof(code))
        return denied("writing the code");
    void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return denied("mmap(PROT_EXEC)");
    int (*fn)(void) = (int (*)(void))p;
    struct stat st;
    fstat(fd, &st);
    int seals = fcntl(fd, F_GET_SEALS);
    printf("jit %d mode=%03o exec_sealed=%d\n", fn(), (unsigned)(st.st_mode & 0777),
           seals >= 0 && (seals & F_SEAL_EXEC) ? 1 : 0);
    return 0;
}

/* memfd_create(name) and the label it got ("memfd:NAME (deleted)"). */
static int named(const char *name, const char *expect)
{
    int fd = (int)syscall(SYS_memfd_create, name, 0);
    if (fd < 0)
        return denied("memfd_create");
    char path[64], link[512];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n < 0)
        return denied("readlink");
    link[n] = '\0';
    char *label = link + (strncmp(link, "/memfd:", 7) ? 0 : 7);
    char *tail = strstr(label, " (deleted)");
    if (tail)
        *tail = '\0';
    if (!strcmp(label, name))
        printf("name %s\n", expect);
    else
        printf("name other %s\n", label);
    return 0;
}

static int name_probe(const char *arg)
{
    if (!strcmp(arg, "page-end")) {
        long page = sysconf(_SC_PAGESIZE);
        char *p = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED || munmap(p + page, (size_t)page) != 0)
            return denied("mmap");
        char *name = p + page - 3;
        memcpy(name, "pe", 3);
        return named(name, "pe");
    }
    char *end;
    long len = strtol(arg, &end, 10);
    if (*end || len < 1 || len > 400) {
        fprintf(stderr, "probe_exec: bad length %s\n", arg);
        return 2;
    }
    char name[401];
    memset(name, 'n', (size_t)len);
    name[len] = '\0';
    return named(name, arg);
}

int main(int argc, char **argv)
{
    unsigned flags;
    if (argc == 3 && !strcmp(argv[1], "name"))
        return name_probe(argv[2]);
    if (argc != 3 || parse_flags(argv[2], &flags) != 0) {
        fprintf(stderr, "usage: probe_exec fexecve|execveat|procfd|jit plain|cloexec|exec\n"
                        "       probe_exec name LEN|page-end\n");
        return 2;
    }
    if (!strcmp(argv[1], "jit"))
        return jit(flags);
    int fd = (int)syscall(SYS_memfd_create, "payload", flags);
    if (fd < 0)
        return denied("memfd_create");
    if (copy(fd, "/bin/echo") != 0)
        return denied("copying /bin/echo");
    fchmod(fd, 0755); /* refused on a memfd sealed against exec: that is the point */
    char *const args[] = {"echo", "EXECUTED", NULL};
    fflush(stdout);
    if (!strcmp(argv[1], "fexecve")) {
        fexecve(fd, args, environ);
        return denied("fexecve");
    }
    if (!strcmp(argv[1], "execveat")) {
        syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
        return denied("execveat");
    }
    if (!strcmp(argv[1], "procfd")) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        execve(path, args, environ);
        return denied("execve(/proc/self/fd/N)");
    }
    fprintf(stderr, "probe_exec: unknown route %s\n", argv[1]);
    return 2;
}
