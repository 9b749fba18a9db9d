/* agentsbx-init: pid 1 of a child's pid namespace, or the child subreaper of
 * a child without one.
 *
 * The library executes this program (embedded in the library and run from a
 * sealed memfd) in the child's first process, after that process has started
 * the sandboxed program as its child. It:
 *   - reaps every process that ends beneath it (orphans are reparented to it:
 *     it is pid 1 of the namespace, or a child subreaper);
 *   - passes the signals the host sends it on to the program;
 *   - when the program ends, writes its wait status (4 bytes) to descriptor 3
 *     and exits. In a pid namespace that makes the kernel kill everything left
 *     in it. As a subreaper ("reaper" mode) it first kills every process left
 *     beneath it itself, round after round (/proc/thread-self/children) until
 *     none is left: descendants that left the process group and the session
 *     (double fork, setsid) included.
 *   - in "reaper" mode, SIGRTMAX (the host's timeout or kill, and the parent
 *     death signal the library gives it) makes it kill the program and every
 *     process beneath it the same way, then report and exit.
 * It holds no other descriptor, cannot be traced (not dumpable), has no
 * capabilities and no_new_privs.
 *
 * Usage (by the library only): agentsbx-init PID-OF-THE-PROGRAM [reaper]
 *
 * On x86-64 it is freestanding (no libc: a few pages, fast to execute); on
 * other architectures it is linked statically against the C library.
 */
#include <linux/capability.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define STATUS_FD 3

#if defined(__x86_64__)
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define SYS(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

int init_main(long argc, char **argv);
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov (%rsp), %rdi\n"
        "  lea 8(%rsp), %rsi\n"
        "  and $-16, %rsp\n"
        "  call init_main\n"
        "  hlt\n");

/* The compiler may emit calls to these even without a C library. */
void *memset(void *d, int c, size_t n);
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}
#else
#include <errno.h>
#include <unistd.h>
static long sys_ret(long r)
{
    return r == -1 ? -errno : r;
}
#define SYS(n, a, b, c, d) sys_ret(syscall((n), (a), (b), (c), (d)))
int init_main(long argc, char **argv);
int main(int argc, char **argv)
{
    return init_main(argc, argv);
}
#endif

#define SIGRTMIN_KERNEL  32
#define SIG_TREE_KILL    64 /* SIGRTMAX: "kill everything beneath you" (reaper mode) */
#define O_RDONLY_CLOEXEC 02000000

/* In reaper mode: the program's wait status, once reaped, wherever it is reaped. */
static long program;
static int program_done, program_status;

static _Noreturn void die(int code)
{
    for (;;)
        SYS(SYS_exit_group, code, 0, 0, 0);
}

static long parse_pid(const char *s)
{
    long v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 1000000000)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* Signals passed on to the program; the others are consumed here. */
static int forwarded(int sig)
{
    switch (sig) {
    case SIGHUP:
    case SIGINT:
    case SIGQUIT:
    case SIGTERM:
    case SIGUSR1:
    case SIGUSR2:
    case SIGALRM:
    case SIGCONT:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGWINCH:
    case SIGPWR: return 1;
    default: return sig >= SIGRTMIN_KERNEL && sig <= 64;
    }
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* Reap what has ended, without waiting: 0 when no child is left at all, 1
 * when children remain, 2 when some were reaped and children remain. */
static int reap_ended(void)
{
    int reaped = 0;
    for (;;) {
        int status = 0;
        long pid = SYS(SYS_wait4, -1, &status, WNOHANG | __WALL, 0);
        if (pid == program && !program_done)
            program_done = 1, program_status = status;
        if (pid == -10 /* ECHILD */)
            return 0;
        if (pid <= 0)
            return reaped ? 2 : 1;
        reaped = 1;
    }
}

/* Kill every process beneath this one: the direct children (orphans come here,
 * since this is a subreaper), reaping them, and again for their children once
 * they are reparented here, until no child is left. Never a blocking wait: a
 * process reparented here after the scan (its parent died between the scan and
 * the reap) would not have been killed, and a wait for it could last forever
 * (it may be stopped in a call its host no longer answers). After a reap the
 * scan runs again at once; otherwise it waits for a SIGCHLD, 10 ms at most. */
static void kill_children(void)
{
    const uint64_t chld = 1ull << (SIGCHLD - 1);
    const struct {
        long sec, nsec;
    } tick = {0, 10 * 1000 * 1000};
    for (;;) {
        char buf[4096];
        long fd =
            SYS(SYS_openat, -100 /* AT_FDCWD */, "/proc/thread-self/children", O_RDONLY_CLOEXEC, 0);
        long n = fd >= 0 ? SYS(SYS_read, fd, buf, sizeof(buf) - 1, 0) : -1;
        if (fd >= 0)
            SYS(SYS_close, fd, 0, 0, 0);
        for (long i = 0; i < n;) {
            long pid = 0;
            while (i < n && (buf[i] < '0' || buf[i] > '9'))
                i++;
            while (i < n && buf[i] >= '0' && buf[i] <= '9')
                pid = pid * 10 + (buf[i++] - '0');
            if (pid > 1)
                SYS(SYS_kill, pid, SIGKILL, 0, 0);
        }
        int left = reap_ended();
        if (!left)
            return;
        if (left == 1) /* children remain, dying or just reparented */
            SYS(SYS_rt_sigtimedwait, &chld, 0, &tick, 8);
    }
}

static _Noreturn void report(int status)
{
    while (SYS(SYS_write, STATUS_FD, &status, sizeof(status), 0) == -4) /* EINTR */
        ;
    die(0); /* in a pid namespace, the kernel kills what is left in it */
}

int init_main(long argc, char **argv)
{
    program = (argc == 2 || argc == 3) ? parse_pid(argv[1]) : -1;
    int reaper = argc == 3 && streq(argv[2], "reaper");
    if (program <= 1 || (argc == 3 && !reaper))
        die(125);

    SYS(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0);
    SYS(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2] = {{0, 0, 0}, {0, 0, 0}};
    SYS(SYS_capset, &hdr, none, 0, 0);

    /* Every signal stays blocked (as the library started us) and is taken
     * synchronously: no handler, no race with the reaping below. */
    uint64_t all = ~0ull;
    for (;;) {
        int left = reap_ended();
        if (program_done) {
            if (reaper)
                kill_children();
            report(program_status);
        }
        if (!left)
            die(126); /* the program is gone without a status */
        struct {
            int signo, errno_, code, pad[29];
        } info;
        long sig = SYS(SYS_rt_sigtimedwait, &all, &info, 0, 8);
        if (reaper && sig == SIG_TREE_KILL) {
            SYS(SYS_kill, program, SIGKILL, 0, 0);
            kill_children();
            if (program_done)
                report(program_status);
            die(126);
        }
        if (sig > 0 && sig != SIGCHLD && forwarded((int)sig))
            SYS(SYS_kill, program, sig, 0, 0);
    }
}
