/* agentsbx-init: pid 1 of a child's pid namespace.
 *
 * The library executes this program (embedded in the library and run from a
 * sealed memfd) in the namespace's first process, after that process has
 * started the sandboxed program as pid 2. It:
 *   - reaps every process that ends in the namespace (orphans are reparented
 *     to it);
 *   - passes the signals the host sends it on to the program;
 *   - when the program ends, writes its wait status (4 bytes) to descriptor 3
 *     and exits, which makes the kernel kill everything left in the namespace.
 * It holds no other descriptor, cannot be traced (not dumpable), has no
 * capabilities and no_new_privs.
 *
 * Usage (by the library only): agentsbx-init PID-OF-THE-PROGRAM
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

#define SIGRTMIN_KERNEL 32

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

int init_main(long argc, char **argv)
{
    long program = argc == 2 ? parse_pid(argv[1]) : -1;
    if (program <= 1)
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
        for (;;) {
            int status = 0;
            long pid = SYS(SYS_wait4, -1, &status, WNOHANG | __WALL, 0);
            if (pid == program) {
                while (SYS(SYS_write, STATUS_FD, &status, sizeof(status), 0) == -4) /* EINTR */
                    ;
                die(0); /* the kernel kills what is left in the namespace */
            }
            if (pid == -10 /* ECHILD: the program is gone without a status */)
                die(126);
            if (pid <= 0)
                break;
        }
        struct {
            int signo, errno_, code, pad[29];
        } info;
        long sig = SYS(SYS_rt_sigtimedwait, &all, &info, 0, 8);
        if (sig > 0 && sig != SIGCHLD && forwarded((int)sig))
            SYS(SYS_kill, program, sig, 0, 0);
    }
}
