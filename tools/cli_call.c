/* The capability channel from a shell (docs/capabilities.md):
 *
 * - `agentsbx call NAME [JSON]`, inside a sandbox: call a host operation over
 *   SBX_CAPS_FD and print its result;
 * - `agentsbx run --capability NAME=COMMAND`, in the host: serve operation
 *   NAME by running COMMAND (with /bin/sh, unconfined: it is the host's own
 *   code) with the call's arguments on its standard input; what it prints is
 *   the result. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>
#include <agentsbx/capclient.h>

#define REPLY_MAX     (128 * 1024)
#define CALL_LIMIT_MS 30000

extern char **environ;

void cli_call_help(FILE *out)
{
    fprintf(out,
            "Usage: %s call NAME [JSON|-]\n"
            "\n"
            "Inside a sandbox: call the host operation NAME (granted by the host with\n"
            "sbx_allow_capability() or `agentsbx run --capability NAME=COMMAND`) with JSON\n"
            "as its arguments (null when absent; '-': read them from standard input), and\n"
            "print its result, as JSON, on standard output.\n"
            "\n"
            "Exit status: 0 the operation succeeded; 1 the host refused the call or the\n"
            "operation failed (the reason on stderr); 2 no channel (SBX_CAPS_FD is not\n"
            "set), a bad command line, or the channel failed.\n",
            cli_progname);
}

/* All of stdin (at most `max` bytes), NUL-terminated, or NULL. */
static char *read_all(int fd, size_t max)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (ssize_t k; buf; len += (size_t)k) {
        if (len + 1 >= cap) {
            char *more = cap >= max ? NULL : realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                return NULL;
            }
            buf = more, cap *= 2;
        }
        while ((k = read(fd, buf + len, cap - len - 1)) < 0 && errno == EINTR)
            ;
        if (k <= 0) {
            buf[len] = '\0';
            return k < 0 ? (free(buf), NULL) : buf;
        }
    }
    return NULL;
}

int cli_call_main(int argc, char **argv)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        if (c == 'h') {
            cli_call_help(stdout);
            return 0;
        }
        cli_option_error("call", c, argv);
        fprintf(stderr, "Try '%s call --help'.\n", cli_progname);
        return 2;
    }
    if (optind >= argc || argc - optind > 2) {
        fprintf(stderr, "%s: call: expected NAME [JSON]\nTry '%s call --help'.\n", cli_progname,
                cli_progname);
        return 2;
    }
    const char *name = argv[optind];
    char *args = NULL;
    if (argc - optind == 2 && strcmp(argv[optind + 1], "-") == 0) {
        if (!(args = read_all(0, 16u << 20))) {
            fprintf(stderr, "%s: call: reading the arguments from standard input failed\n",
                    cli_progname);
            return 2;
        }
    }
    const char *json = args ? args : argc - optind == 2 ? argv[optind + 1] : NULL;
    char *reply = malloc(REPLY_MAX + 256);
    if (!reply) {
        free(args);
        return 2;
    }
    int r = sbx_caps_call(name, json, reply, REPLY_MAX + 256);
    free(args);
    int status = 0;
    if (r == 0) {
        printf("%s\n", sbx_caps_result(reply));
    } else if (r == 1) {
        fprintf(stderr, "%s: call: %s: {%s\n", cli_progname, name, sbx_caps_error(reply));
        status = 1;
    } else if (r == -ENOTCONN) {
        fprintf(stderr,
                "%s: call: no capability channel (SBX_CAPS_FD is not set: this sandbox grants "
                "no host operation)\n",
                cli_progname);
        status = 2;
    } else if (r == -EINVAL) {
        fprintf(stderr,
                "%s: call: \"%s\" is not an operation name (1 to 64 of A-Z a-z 0-9 _ . -)\n",
                cli_progname, name);
        status = 2;
    } else {
        fprintf(stderr, "%s: call: %s: the channel failed: %s\n", cli_progname, name,
                r == -EPIPE ? "the host closed it" : strerror(-r));
        status = 2;
    }
    free(reply);
    return status;
}

/* ---- the host's side: an operation served by a command ------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the command: the arguments on its stdin, its stdout the result, its
 * stderr's first line the message of a failure; 30 s at most. */
static int run_command(sbx_call *call, void *userdata)
{
    const char *command = userdata;
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -errno;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]), close(in[1]);
        return -errno;
    }
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        return -errno;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    char opvar[128];
    snprintf(opvar, sizeof(opvar), "SBX_CALL_OP=%s", sbx_call_name(call));
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **envp = calloc(n_env + 2, sizeof(*envp));
    pid_t pid = -1;
    int r = ENOMEM;
    if (envp) {
        memcpy(envp, environ, n_env * sizeof(*envp));
        envp[n_env] = opvar;
        char *const sh[] = {"/bin/sh", "-c", (char *)command, NULL};
        r = posix_spawn(&pid, "/bin/sh", &fa, NULL, sh, envp);
        free(envp);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]), close(out[1]), close(err[1]);
    if (r != 0) {
        close(in[1]), close(out[0]), close(err[0]);
        return -r;
    }
    size_t args_len;
    const char *args = sbx_call_args(call, &args_len);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    static char res[REPLY_MAX + 1];
    char msg[512] = "";
    size_t res_len = 0, msg_len = 0, sent = 0;
    bool too_big = false, timed_out = false;
    long long deadline = now_ms() + CALL_LIMIT_MS;
    int fds_open = 2;
    while (fds_open > 0) {
        struct pollfd pfd[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        if (poll(pfd, in[1] >= 0 ? 3 : 2, (int)left) < 0 && errno != EINTR)
            break;
        if (in[1] >= 0 && pfd[2].revents) {
            ssize_t k = write(in[1], args + sent, args_len - sent);
            if (k > 0)
                sent += (size_t)k;
            if (k < 0 || sent == args_len) {
                close(in[1]);
                in[1] = -1;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (!pfd[i].revents || pfd[i].fd < 0)
                continue;
            char tmp[4096];
            ssize_t k = read(pfd[i].fd, tmp, sizeof(tmp));
            if (k <= 0) {
                if (k == 0 || errno != EAGAIN) {
                    close(i ? err[0] : out[0]);
                    *(i ? &err[0] : &out[0]) = -1;
                    fds_open--;
                }
                continue;
            }
            if (i == 0) {
                size_t take = res_len + (size_t)k > REPLY_MAX ? REPLY_MAX - res_len : (size_t)k;
                too_big |= take < (size_t)k;
                memcpy(res + res_len, tmp, take);
                res_len += take;
            } else {
                size_t take =
                    msg_len + (size_t)k >= sizeof(msg) ? sizeof(msg) - 1 - msg_len : (size_t)k;
                memcpy(msg + msg_len, tmp, take);
                msg_len += take;
                msg[msg_len] = '\0';
            }
        }
    }
    if (timed_out)
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    const int left_open[] = {in[1], out[0], err[0]};
    for (size_t i = 0; i < 3; i++)
        if (left_open[i] >= 0)
            close(left_open[i]);
    msg[strcspn(msg, "\n")] = '\0';
    char why[600];
    if (timed_out) {
        snprintf(why, sizeof(why), "the operation's command did not finish within %d s",
                 CALL_LIMIT_MS / 1000);
    } else if (too_big) {
        snprintf(why, sizeof(why), "the operation's result is over %d bytes", REPLY_MAX);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, sizeof(why), "%s", msg[0] ? msg : "the operation's command failed");
    } else {
        while (res_len && (res[res_len - 1] == '\n' || res[res_len - 1] == ' '))
            res_len--;
        if (res_len == 0)
            return 0; /* null */
        if (sbx_call_reply(call, res, res_len) == 0)
            return 0;
        snprintf(why, sizeof(why), "the operation's command printed something that is not JSON");
    }
    return sbx_call_fail(call, why) == 0 ? -EIO : -EINVAL;
}

int cli_capability_add(sbx_policy *policy, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
        fprintf(stderr, "%s: --capability %s: expected NAME=COMMAND\n", cli_progname, spec);
        return -1;
    }
    char name[80];
    if ((size_t)(eq - spec) >= sizeof(name)) {
        fprintf(stderr, "%s: --capability: the name is over 64 characters\n", cli_progname);
        return -1;
    }
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    if (sbx_allow_capability(policy, name, run_command, (void *)(eq + 1)) != 0) {
        fprintf(stderr, "%s: --capability %s: %s\n", cli_progname, spec, sbx_last_error());
        return -1;
    }
    return 0;
}
