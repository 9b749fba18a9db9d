/* The tool's own lifetime: SIGINT, SIGTERM and SIGHUP (and SIGWINCH, for the
 * pty) are noted on a self-pipe that the I/O loop of cli_output.c polls, so
 * that the child is killed and its end waited for (the library then removes
 * its TMPDIR and cgroups and writes the audit log's exit event) before the
 * tool ends as the signal would have ended it. The tool dies with its caller:
 * PR_SET_PDEATHSIG sends it SIGTERM, handled the same way. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int sig_pipe[2] = {-1, -1};

static void noted(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    ssize_t n = write(sig_pipe[1], &c, 1); /* full: the signal is noted already */
    (void)n;
    errno = saved;
}

int cli_signals_init(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
    pid_t parent = getppid();

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        fprintf(stderr, "%s: run: pipe: %s\n", cli_progname, strerror(errno));
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = noted;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0) {
            fprintf(stderr, "%s: run: sigaction: %s\n", cli_progname, strerror(errno));
            return -1;
        }
    /* Die with the caller; if it is gone already, the signal would never come. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
        fprintf(stderr, "%s: run: prctl(PR_SET_PDEATHSIG): %s\n", cli_progname, strerror(errno));
        return -1;
    }
    if (getppid() != parent) {
        fprintf(stderr, "%s: run: the caller is gone\n", cli_progname);
        return -1;
    }
    return 0;
}

int cli_signals_fd(void)
{
    return sig_pipe[0];
}

int cli_signals_take(void)
{
    unsigned char c;
    if (sig_pipe[0] < 0)
        return 0;
    for (;;) {
        ssize_t n = read(sig_pipe[0], &c, 1);
        if (n == 1)
            return c;
        if (n < 0 && errno == EINTR)
            continue;
        return 0;
    }
}

_Noreturn void cli_signals_reraise(int sig)
{
    sigset_t set;
    fflush(NULL);
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig); /* a signal whose default is not to end the process */
}
