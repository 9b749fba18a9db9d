/**
 * @file agentsbx/child.h
 * @brief Spawning confined children, supervising them, and the one-call sbx_run().
 *
 * A child is started by sbx_spawn() and ends in an #sbx_result obtained from
 * sbx_child_wait() or sbx_child_poll(). The library installs no signal handler
 * and does not use SIGCHLD: each child is watched through its pidfd, and only
 * that pid is ever waited for.
 *
 * The kernel still sends SIGCHLD to the host when a child ends, and a host that
 * reaps every child (waitpid(-1), or a SIGCHLD handler that does) takes the
 * exit status away: sbx_child_wait() then fails with -ECHILD and says so. A
 * process that ignores SIGCHLD (SIG_IGN or SA_NOCLDWAIT) would lose every status
 * at once, so sbx_spawn() refuses to run in one.
 */
#ifndef AGENTSBX_CHILD_H
#define AGENTSBX_CHILD_H

#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A running or ended child (opaque). @since 0.1 */
typedef struct sbx_child sbx_child;

/** @brief How one standard stream of the child is connected. @since 0.1 */
enum sbx_stdio {
    /** The child inherits the host's stream of the same number (the default). */
    SBX_STDIO_INHERIT = 0,
    /** The stream is /dev/null. */
    SBX_STDIO_NULL = 1,
    /** A pipe; the host's end is given by sbx_child_stdio_fd(). */
    SBX_STDIO_PIPE = 2,
    /** The host's descriptor in the matching `*_fd` field of #sbx_io. */
    SBX_STDIO_FD = 3,
};

/** @brief The largest number of descriptors #sbx_io can keep open in the child. @since 0.1 */
#define SBX_IO_MAX_KEEP_FDS 64

/**
 * @brief How the child's descriptors are set up.
 *
 * Every descriptor of the host is closed in the child except the three standard
 * streams, connected as this structure says, and those listed in `keep_fds`.
 * Initialise with #SBX_IO_INIT so that `size` is set; a zeroed structure
 * with `size` set means "inherit the three streams, keep nothing else".
 *
 * **Sized structures** (this one and #sbx_spawn_opts), as libbpf's: `size`
 * says which version of the structure the caller was built with. The library
 * accepts any size from the first released one up; fields a smaller (older)
 * structure lacks take their zero defaults; a larger (newer) structure is
 * accepted only if every byte the library does not know is zero, else the
 * call fails with -E2BIG: a sandbox never silently ignores a setting.
 * @since 0.1
 */
typedef struct sbx_io {
    size_t size;     /**< sizeof(sbx_io), for growth of this structure. */
    int stdin_mode;  /**< An #sbx_stdio value for descriptor 0. */
    int stdout_mode; /**< An #sbx_stdio value for descriptor 1. */
    int stderr_mode; /**< An #sbx_stdio value for descriptor 2. */
    int stdin_fd;    /**< With #SBX_STDIO_FD: the host descriptor for 0. */
    int stdout_fd;   /**< With #SBX_STDIO_FD: the host descriptor for 1. */
    int stderr_fd;   /**< With #SBX_STDIO_FD: the host descriptor for 2. */
    const int
        *keep_fds;     /**< Host descriptors (> 2) left open, at the same numbers, in the child. */
    size_t n_keep_fds; /**< Number of entries in `keep_fds`, at most #SBX_IO_MAX_KEEP_FDS. */
} sbx_io;

/** @brief Initialiser for #sbx_io: inherit the three streams, keep nothing else. @since 0.1 */
#define SBX_IO_INIT                                                                                \
    {                                                                                              \
        sizeof(sbx_io), 0, 0, 0, -1, -1, -1, NULL, 0                                               \
    }

/**
 * @brief Start a confined child.
 *
 * The program is `argv[0]`: a path containing `/` is used as it is; a bare
 * name is searched in the PATH of the child's environment (not the host's).
 * Every layer of the policy is set up in the child before execve(2); if any
 * step fails, the program is never executed and this call returns the step's
 * errno with a message naming the step and its object
 * (`chdir(/nope): No such file or directory`, `execve(/bin/nope): No such
 * file or directory`).
 *
 * Spawning does not copy the host's memory (the child shares it until execve,
 * as with vfork(2)), so its cost does not grow with the host's size.
 *
 * @param policy The policy; it may be shared by threads spawning at once.
 * @param argv NULL-terminated argument vector, at least argv[0].
 * @param io Descriptor set-up, or NULL for #SBX_IO_INIT.
 * @param[out] ret Receives the child; end it with sbx_child_wait() or
 *                 sbx_child_poll() and free it with sbx_child_free().
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, an empty argv, a bad #sbx_io (size, mode, descriptor).
 * @retval -ENOENT The program does not exist (or is not in PATH).
 * @retval -EACCES The program is not executable, or another step was refused.
 * @retval -EOPNOTSUPP A strict layer cannot be enforced on this host.
 * @retval -ECHILD SIGCHLD is ignored in this process, so no exit status could be read.
 * @retval -ENOMEM Out of memory.
 * @retval -E2BIG Arguments or an expanded path too long.
 * @return Otherwise the negative errno of the step that failed.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_spawn(const sbx_policy *policy, const char *const *argv, const sbx_io *io,
                              sbx_child **ret);

/**
 * @brief What one spawn may change of its policy, and what the library does for it.
 *
 * So that a host keeps one policy for many children and gives each its own
 * working directory, variables or time limit. A sized structure (see #sbx_io):
 * initialise with #SBX_SPAWN_OPTS_INIT, or in C99 with
 * `SBX_SPAWN_OPTS(name, .wall_ms = 2000)`.
 * @since 0.2
 */
typedef struct sbx_spawn_opts {
    size_t size;      /**< sizeof(sbx_spawn_opts). */
    const sbx_io *io; /**< Descriptor set-up, or NULL for #SBX_IO_INIT. */
    /** Where the child starts, instead of the policy's working directory (an
     *  absolute path, opened without following a link a child could have
     *  planted). It is granted nothing: grant it in the policy if the child
     *  must read or write there. One the policy does not let the child read
     *  fails the spawn at #SBX_STAGE_WORKDIR: -EACCES without the mount view,
     *  -ENOENT in it (the view shows only what is granted), each with a
     *  message that says so. NULL: the policy's. */
    const char *workdir;
    /** Changes to the policy's environment, NULL-terminated: "NAME=VALUE" sets
     *  (or replaces) a variable, "NAME" removes one. NULL: none. */
    const char *const *env;
    /** Wall-clock limit of this child in milliseconds: 0, the policy's;
     *  #SBX_UNLIMITED, none. */
    uint64_t wall_ms;
    /** 1: the library reads the child's stdout and stderr (io's modes for them
     *  are ignored) through the output filter into the result
     *  (sbx_result_stdout(), up to `output_limit`) and the output callback, as
     *  sbx_run() does; sbx_child_process() (and sbx_child_wait()) do the reading. */
    int capture;
    /** Bytes kept per captured stream: 0, the policy's (sbx_limit_output()). */
    uint64_t output_limit;
    /** Bytes the library writes to the child's stdin (io's mode for it is
     *  ignored), then end of file; NULL: io decides. */
    const void *input;
    size_t input_len; /**< Length of `input`. */
} sbx_spawn_opts;

/** @brief Initialiser for #sbx_spawn_opts: the policy's settings, nothing captured. @since 0.2 */
#define SBX_SPAWN_OPTS_INIT                                                                        \
    {                                                                                              \
        sizeof(sbx_spawn_opts), NULL, NULL, NULL, 0, 0, 0, NULL, 0                                 \
    }

/** @brief Declare and initialise an #sbx_spawn_opts with designated fields (C99):
 *  `SBX_SPAWN_OPTS(o, .wall_ms = 500, .capture = 1);`. @since 0.2 */
#define SBX_SPAWN_OPTS(name, ...)                                                                  \
    sbx_spawn_opts name = {.size = sizeof(sbx_spawn_opts), __VA_ARGS__}

/**
 * @brief Start a confined child, with per-spawn options.
 *
 * As sbx_spawn(), with @p opts applied on top of the policy for this child
 * only.
 * @param policy The policy.
 * @param argv NULL-terminated argument vector, at least argv[0].
 * @param opts The options, or NULL (then as sbx_spawn() with no #sbx_io).
 * @param[out] ret Receives the child.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a bad #sbx_io or option (a relative workdir,
 *         an environment entry that is empty or starts with '='), a size
 *         smaller than the first released one.
 * @retval -E2BIG A structure larger than this library knows, with a non-zero
 *         field it does not know.
 * @return Otherwise as sbx_spawn().
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_spawn_with(const sbx_policy *policy, const char *const *argv,
                                   const sbx_spawn_opts *opts, sbx_child **ret);

/**
 * @brief The child's process id (that of its process group and session too).
 * @param child The child.
 * @return The pid, or -EINVAL for a NULL child.
 * @since 0.1
 */
SBX_API pid_t sbx_child_pid(const sbx_child *child);

/**
 * @brief A descriptor that becomes readable when the child needs attention.
 *
 * Poll it for POLLIN in an event loop, then call sbx_child_process() (or
 * sbx_child_poll(), which also takes the result). Time-outs do not make it
 * readable: also wake up after sbx_child_timeout_ms(). When the child has more
 * than its end to watch (the violation monitor, captured output, fed input)
 * it is an epoll descriptor, made by the first call, that also becomes
 * readable for those: a denied system call waits until it is answered.
 * @param child The child (not const since 0.2: the first call makes the descriptor).
 * @return The descriptor (owned by the child; do not close it), -EINVAL, or
 *         -EMFILE or -ENOMEM when the epoll descriptor cannot be made.
 * @since 0.1
 */
SBX_API int sbx_child_fd(sbx_child *child);

/**
 * @brief Do what the child needs now, without blocking: the event engine's step.
 *
 * Answers its denied system calls (and kills it past its violation limit or
 * rate), reads its captured output and writes its fed input (bounded amounts
 * each call), kills its tree when its deadline has passed, and, when its main
 * process has ended, kills what is left, drains its output and reaps it.
 * Call it when sbx_child_fd() is readable or sbx_child_timeout_ms() has
 * passed; sbx_child_wait() and sbx_child_poll() call it themselves.
 * @param child The child.
 * @retval 0 It still runs.
 * @retval 1 It has ended and been reaped: take its result with sbx_child_poll().
 * @retval -EINVAL A NULL child.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_child_process(sbx_child *child);

/**
 * @brief Milliseconds until the child's wall-clock deadline.
 * @param child The child.
 * @return 0 if the deadline has passed, -1 if there is none (or the child ended), else the
 * remaining time rounded up.
 * @since 0.1
 */
SBX_API int64_t sbx_child_timeout_ms(const sbx_child *child);

/**
 * @brief The host's end of a standard stream connected with #SBX_STDIO_PIPE.
 * @param child The child.
 * @param stream 0, 1 or 2.
 * @return A non-blocking, close-on-exec descriptor owned by the child (closed by
 *         sbx_child_free(), or earlier by sbx_child_close_stdio()); -EBADF if
 *         that stream is not a pipe or was closed; -EINVAL for bad arguments.
 * @since 0.1
 */
SBX_API int sbx_child_stdio_fd(const sbx_child *child, int stream);

/**
 * @brief Close the host's end of a piped stream (for stdin: sends end-of-file).
 * @param child The child.
 * @param stream 0, 1 or 2.
 * @retval 0 Success.
 * @retval -EBADF That stream is not a pipe, or already closed.
 * @retval -EINVAL Bad arguments.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_child_close_stdio(sbx_child *child, int stream);

/**
 * @brief Send a signal to the child's main process (through its pidfd).
 * @param child The child.
 * @param sig A signal number.
 * @retval 0 Success, or the child has already ended.
 * @retval -EINVAL Bad arguments.
 * @return Otherwise the negative errno of pidfd_send_signal(2).
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_child_signal(sbx_child *child, int sig);

/**
 * @brief Kill the child's whole process group with SIGKILL.
 *
 * The child then ends with #SBX_STATUS_KILLED (unless it had already ended).
 * @param child The child.
 * @retval 0 Success, or the child has already ended.
 * @retval -EINVAL NULL child.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_child_kill(sbx_child *child);

/**
 * @brief Wait for the child to end, enforcing its wall-clock limit.
 *
 * When the child's main process ends, what remains of its process group is
 * killed. The child is reaped: no zombie remains.
 *
 * @param child The child.
 * @param[out] ret Receives the result; free it with sbx_result_free().
 * @retval 0 Success.
 * @retval -EINVAL NULL argument.
 * @retval -EALREADY The result was already taken.
 * @retval -ECHILD The host reaped the child itself (waitpid(-1)): its status is lost.
 * @retval -ENOMEM Out of memory (the child is still reaped).
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_child_wait(sbx_child *child, sbx_result **ret);

/**
 * @brief Non-blocking sbx_child_wait(): end the child if it has exited or its deadline passed.
 * @param child The child.
 * @param[out] ret Receives the result when the child has ended.
 * @retval 0 The child ended; @p ret is set.
 * @retval -EAGAIN The child is still running.
 * @retval -EINVAL NULL argument.
 * @retval -EALREADY The result was already taken.
 * @retval -ECHILD The host reaped the child itself (waitpid(-1)): its status is lost.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_child_poll(sbx_child *child, sbx_result **ret);

/**
 * @brief Free a child. A child still running is killed (whole process group) and reaped first.
 * @param child The child, or NULL (a no-op).
 * @since 0.1
 */
SBX_API void sbx_child_free(sbx_child *child);

/**
 * @brief Spawn, feed stdin, capture stdout and stderr, and wait: the common case.
 *
 * Standard input is the bytes of @p input (then end-of-file), or /dev/null when
 * @p input is NULL. Standard output and error pass through the policy's output
 * filter (output.h: registered values and credential shapes redacted by
 * default, terminal escapes neutralised if asked), go to the output callback
 * if one is set (sbx_set_output_callback()), and are captured up to the
 * policy's output limit (sbx_limit_output()); read them with
 * sbx_result_stdout() and sbx_result_stderr().
 *
 * @param policy The policy.
 * @param argv As for sbx_spawn().
 * @param input Bytes for standard input, or NULL.
 * @param input_len Number of bytes in @p input.
 * @param[out] ret Receives the result; free it with sbx_result_free().
 * @retval 0 The child ran; its status is in the result.
 * @return Otherwise as sbx_spawn().
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_run(const sbx_policy *policy, const char *const *argv, const void *input,
                            size_t input_len, sbx_result **ret);

/**
 * @brief sbx_run() with per-spawn options: run, capture both streams, wait.
 *
 * As sbx_run(), with @p opts applied to this child (its working directory,
 * environment changes, wall-clock limit, output limit and input; its `io` and
 * `capture` are ignored: the streams are captured, stdin is @p opts input
 * or /dev/null).
 * @param policy The policy.
 * @param argv NULL-terminated argument vector.
 * @param opts The options, or NULL.
 * @param[out] ret Receives the result.
 * @return As sbx_spawn_with().
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_run_with(const sbx_policy *policy, const char *const *argv,
                                 const sbx_spawn_opts *opts, sbx_result **ret);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_CHILD_H */
