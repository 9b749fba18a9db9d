/* `agentsbx run --stdin`: what the child's standard input is, and the
 * terminal. When the tool's stdin and stdout are terminals (--stdin auto), the
 * child gets a pseudo-terminal of its own, as `docker run -t` and script(1)
 * do: the pty's slave is its stdin, stdout and stderr, the host terminal is
 * put in raw mode, the tool relays the host's keys to the master and the
 * master's output, through the output filter (escapes neutralised), to its
 * stdout, and passes window-size changes on (SIGWINCH). The host terminal's
 * mode is restored however the run ends. The child cannot drive the host
 * terminal (its escapes arrive as visible text) nor change its mode. It has
 * no controlling terminal (the sandbox denies TIOCSCTTY), so the interrupt and
 * quit keys are turned into SIGINT and SIGQUIT to it here. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved; /* the host terminal's mode, while it is raw */
static int saved_valid;
static int slave_fd = -1;

int cli_stdin_parse(const char *arg)
{
    static const char *const names[] = {"auto", "tty", "null", "pipe"};
    for (int i = 0; i < 4; i++)
        if (strcmp(arg, names[i]) == 0)
            return i;
    fprintf(stderr, "%s: run: --stdin: expected auto, tty, null or pipe, got '%s'\n", cli_progname,
            arg);
    return -1;
}

int cli_pty_key_signal(unsigned char c)
{
    /* The host terminal's keys, as its line discipline would have sent them
     * (the child has no controlling terminal for the pty's to do it). */
    if (!saved_valid || !(saved.c_lflag & ISIG))
        return 0;
    if (c == saved.c_cc[VINTR] && c != _POSIX_VDISABLE)
        return SIGINT;
    if (c == saved.c_cc[VQUIT] && c != _POSIX_VDISABLE)
        return SIGQUIT;
    return 0;
}

void cli_pty_winch(int master)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0)
        (void)ioctl(master, TIOCSWINSZ, &ws);
}

static int pty_error(const char *what, int master)
{
    fprintf(stderr, "%s: run: %s: %s\n", cli_progname, what, strerror(errno));
    if (master >= 0)
        close(master);
    return CLI_EXIT_SETUP;
}

/* A pty pair: the master (non-blocking) in w->pty_fd, the slave in slave_fd,
 * with the host terminal's settings and window size. */
static int open_pty(struct cli_wait *w)
{
    char name[128];
    struct termios tio;
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return pty_error("posix_openpt", -1);
    if (grantpt(master) < 0 || unlockpt(master) < 0)
        return pty_error("grantpt", master);
    if (ptsname_r(master, name, sizeof(name)) != 0)
        return pty_error("ptsname_r", master);
    slave_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave_fd < 0)
        return pty_error(name, master);
    if (tcgetattr(0, &tio) == 0)
        (void)tcsetattr(slave_fd, TCSANOW, &tio);
    if (fcntl(master, F_SETFL, O_NONBLOCK) < 0) {
        close(slave_fd);
        slave_fd = -1;
        return pty_error("fcntl", master);
    }
    cli_pty_winch(master);
    w->pty_fd = master;
    return 0;
}

int cli_stdin_wants_pty(int mode)
{
    return mode == CLI_STDIN_AUTO && isatty(0) && isatty(1);
}

int cli_stdin_prepare(int mode, sbx_io *io, struct cli_wait *w)
{
    switch (mode) {
    case CLI_STDIN_AUTO:
        if (!cli_stdin_wants_pty(mode))
            return 0; /* stdin is inherited, as it is */
        if (open_pty(w) != 0)
            return CLI_EXIT_SETUP;
        io->stdin_mode = io->stdout_mode = io->stderr_mode = SBX_STDIO_FD;
        io->stdin_fd = io->stdout_fd = io->stderr_fd = slave_fd;
        return 0;
    case CLI_STDIN_TTY: return 0;
    case CLI_STDIN_NULL: io->stdin_mode = SBX_STDIO_NULL; return 0;
    case CLI_STDIN_PIPE:
        io->stdin_mode = SBX_STDIO_PIPE;
        w->in_fd = 0;
        return 0;
    default: return CLI_EXIT_SETUP;
    }
}

void cli_stdin_started(struct cli_wait *w)
{
    if (slave_fd >= 0)
        close(slave_fd); /* the child holds its own */
    slave_fd = -1;
    if (w->pty_fd < 0)
        return;
    w->in_fd = 0;
    if (tcgetattr(0, &saved) == 0) {
        struct termios raw = saved;
        cfmakeraw(&raw);
        if (tcsetattr(0, TCSADRAIN, &raw) == 0)
            saved_valid = 1;
    }
}

void cli_stdin_restore(struct cli_wait *w)
{
    if (saved_valid)
        (void)tcsetattr(0, TCSADRAIN, &saved);
    saved_valid = 0;
    if (slave_fd >= 0)
        close(slave_fd);
    slave_fd = -1;
    if (w->pty_fd >= 0)
        close(w->pty_fd);
    w->pty_fd = -1;
}
