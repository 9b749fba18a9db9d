/* Error reporting: the thread-local last error; the names of errnos, stages,
 * statuses and layers (tables every part of the library prints). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agentsbx/agentsbx.h"
#include "util.h"

static _Thread_local char last_error[1024];
static _Thread_local int last_stage;

/* The errno values the library documents or passes through, by name. */
#define SBX_ERRNO_TABLE(X)                                                                         \
    X(EPERM)                                                                                       \
    X(ENOENT)                                                                                      \
    X(ESRCH)                                                                                       \
    X(EINTR)                                                                                       \
    X(EIO)                                                                                         \
    X(ENXIO)                                                                                       \
    X(E2BIG) X(ENOEXEC) X(EBADF) X(ECHILD) X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY)        \
        X(EEXIST) X(EXDEV) X(ENODEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY)  \
            X(ETXTBSY) X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS) X(EMLINK) X(EPIPE) X(ERANGE)          \
                X(ENAMETOOLONG) X(ENOSYS) X(ELOOP) X(EOPNOTSUPP) X(EALREADY) X(ETIMEDOUT)          \
                    X(ECANCELED) X(EOVERFLOW)

const char *sbx_errname(int err)
{
    if (err < 0)
        err = -err;
#define SBX_ERRNO_CASE(e)                                                                          \
    if (err == e)                                                                                  \
        return #e;
    SBX_ERRNO_TABLE(SBX_ERRNO_CASE)
#undef SBX_ERRNO_CASE
    return "E?";
}

const char *sbx_strerror(int err)
{
    if (err < 0)
        err = -err;
    const char *s = strerrordesc_np(err);
    return s ? s : "Unknown error";
}

void sbx__err_save(struct sbx__err_saved *to)
{
    memcpy(to->message, last_error, sizeof(to->message));
    to->stage = last_stage;
}

void sbx__err_restore(const struct sbx__err_saved *from)
{
    memcpy(last_error, from->message, sizeof(last_error));
    last_stage = from->stage;
}

const char *sbx_last_error(void)
{
    return last_error;
}

int sbx_last_error_stage(void)
{
    return last_stage;
}

const char *sbx_stage_name(int stage)
{
    static const char *const names[] = {
        [SBX_STAGE_NONE] = "none",
        [SBX_STAGE_COMPILE] = "compile",
        [SBX_STAGE_PROGRAM] = "program",
        [SBX_STAGE_CLONE] = "clone",
        [SBX_STAGE_PROCESS] = "process",
        [SBX_STAGE_FDS] = "fds",
        [SBX_STAGE_RLIMITS] = "rlimits",
        [SBX_STAGE_WORKDIR] = "workdir",
        [SBX_STAGE_NO_NEW_PRIVS] = "no_new_privs",
        [SBX_STAGE_EXEC] = "exec",
        [SBX_STAGE_LANDLOCK] = "landlock",
        [SBX_STAGE_SECCOMP] = "seccomp",
        [SBX_STAGE_CGROUP] = "cgroup",
        [SBX_STAGE_NAMESPACES] = "namespaces",
        [SBX_STAGE_CAPABILITIES] = "capabilities",
    };
    if (stage < 0 || (size_t)stage >= sizeof(names) / sizeof(names[0]) || !names[stage])
        return "unknown";
    return names[stage];
}

const char *sbx_status_name(int status)
{
    switch (status) {
    case SBX_STATUS_EXITED: return "exited";
    case SBX_STATUS_SIGNALED: return "signaled";
    case SBX_STATUS_TIMED_OUT: return "timed_out";
    case SBX_STATUS_CPU_LIMIT: return "cpu_limit";
    case SBX_STATUS_FILE_SIZE_LIMIT: return "file_size_limit";
    case SBX_STATUS_MEMORY_LIMIT: return "memory_limit";
    case SBX_STATUS_KILLED: return "killed";
    case SBX_STATUS_VIOLATION: return "violation";
    case SBX_STATUS_NETWORK_LIMIT: return "network_limit";
    default: return "unknown";
    }
}

const char *sbx_layer_name(uint32_t layer)
{
    switch (layer) {
    case SBX_LAYER_HYGIENE: return "hygiene";
    case SBX_LAYER_RLIMITS: return "rlimits";
    case SBX_LAYER_NO_NEW_PRIVS: return "no_new_privs";
    case SBX_LAYER_LANDLOCK: return "landlock";
    case SBX_LAYER_SECCOMP: return "seccomp";
    case SBX_LAYER_NAMESPACES: return "namespaces";
    case SBX_LAYER_CGROUP: return "cgroup";
    case SBX_LAYER_MONITOR: return "monitor";
    case SBX_LAYER_TIMEOUT: return "timeout";
    default: return "unknown";
    }
}

const char *sbx_version(void)
{
    return SBX_VERSION_STRING;
}

static int record(int stage, int err, bool with_errno, const char *fmt, va_list ap)
{
    int n = vsnprintf(last_error, sizeof(last_error), fmt, ap);
    if (with_errno && n >= 0 && (size_t)n < sizeof(last_error))
        snprintf(last_error + n, sizeof(last_error) - (size_t)n, ": %s", sbx_strerror(err));
    last_stage = stage;
    return err;
}

int sbx__err(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(SBX_STAGE_NONE, err, false, fmt, ap);
    va_end(ap);
    return err;
}

int sbx__errno(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(SBX_STAGE_NONE, err, true, fmt, ap);
    va_end(ap);
    return err;
}

int sbx__err_stage(int stage, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(stage, err, true, fmt, ap);
    va_end(ap);
    return err;
}
