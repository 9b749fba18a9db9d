/**
 * @file agentsbx/supervisor.h
 * @brief Supervising many children from one thread: one descriptor for an event loop.
 *
 * A supervisor watches any number of children through one epoll descriptor,
 * sbx_supervisor_fd(), that a host puts into its own event loop (epoll, poll,
 * libuv's uv_poll_t, asyncio's loop.add_reader()). When that descriptor is
 * readable, the host calls sbx_supervisor_step(), which never waits: it reaps
 * the children that exited, kills the children whose wall-clock deadline
 * passed, and answers the violation monitor's notifications. Deadlines are
 * kept in a timerfd inside the same epoll set, so the descriptor also wakes up
 * at the nearest deadline: timeouts need no thread, no signal and no timeout
 * argument (sbx_supervisor_timeout_ms() is there for loops that want one).
 * Children that ended are queued, in the order they ended, and taken with
 * sbx_supervisor_next().
 *
 * @code
 * sbx_supervisor *sup;
 * if (sbx_supervisor_new(&sup) < 0) return -1;
 * for (int i = 0; i < n; i++)
 *     if (sbx_supervisor_spawn(sup, policy, argv, NULL, NULL) < 0) ...;
 * while (sbx_supervisor_running(sup) > 0 || sbx_supervisor_pending(sup) > 0) {
 *     struct pollfd pfd = {.fd = sbx_supervisor_fd(sup), .events = POLLIN};
 *     poll(&pfd, 1, -1);                      // or the host's own loop
 *     if (sbx_supervisor_step(sup) < 0) ...;
 *     sbx_child *c;
 *     sbx_result *r;
 *     while (sbx_supervisor_next(sup, &c, &r) == 0) {
 *         printf("%d: %s\n", sbx_child_pid(c), sbx_status_name(sbx_result_status(r)));
 *         sbx_result_free(r);
 *         sbx_child_free(c);
 *     }
 * }
 * sbx_supervisor_free(sup);
 * @endcode
 *
 * **Ownership.** sbx_supervisor_add() and sbx_supervisor_spawn() give the
 * child to the supervisor; sbx_supervisor_next() (for an ended child) and
 * sbx_supervisor_remove() (for a running one) give it back. While the
 * supervisor owns a child, the host may keep using its pointer for
 * sbx_child_pid(), sbx_child_stdio_fd(), sbx_child_close_stdio(),
 * sbx_child_signal(), sbx_child_kill() and sbx_child_timeout_ms(), but must not
 * call sbx_child_wait(), sbx_child_poll() or sbx_child_free() on it.
 *
 * **Output.** The supervisor does not read the children's pipes: a host that
 * connects a stream with #SBX_STDIO_PIPE reads the descriptor of
 * sbx_child_stdio_fd() from its own loop (it is non-blocking), until
 * end-of-file, which may come after the child is reported as ended. A child
 * whose pipe fills up blocks in write(2) until the host reads it, and its
 * deadline still applies.
 *
 * **Threads.** A supervisor may be used by one thread at a time (the host
 * serialises calls on it). Different supervisors are independent, and
 * sbx_spawn() may run in other threads at the same time.
 *
 * **Limits.** A supervised child costs the host its #sbx_child (about 3 KiB
 * with the violation monitor), some 40 bytes here, and two descriptors (its
 * pidfd, and the monitor's listener when there is one) plus those of its
 * pipes: raise RLIMIT_NOFILE for thousands of children.
 */
#ifndef AGENTSBX_SUPERVISOR_H
#define AGENTSBX_SUPERVISOR_H

#include "child.h"
#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A set of supervised children behind one pollable descriptor (opaque). @since 0.1 */
typedef struct sbx_supervisor sbx_supervisor;

/**
 * @brief Make an empty supervisor.
 * @param[out] ret Receives the supervisor; free it with sbx_supervisor_free().
 * @retval 0 Success.
 * @retval -EINVAL @p ret is NULL.
 * @retval -EMFILE The process has no descriptor left for the epoll set or the timerfd.
 * @retval -ENFILE The system has no descriptor left.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_supervisor_new(sbx_supervisor **ret);

/**
 * @brief Free a supervisor and every child it still owns.
 *
 * Running children are killed (whole process group, like sbx_child_kill()),
 * then reaped; ended children not yet taken with sbx_supervisor_next() are
 * freed with their results. Children given back by sbx_supervisor_next() or
 * sbx_supervisor_remove() are not touched.
 * @param sup The supervisor, or NULL (a no-op).
 * @since 0.1
 */
SBX_API void sbx_supervisor_free(sbx_supervisor *sup);

/**
 * @brief Give a running child to the supervisor.
 *
 * On success the supervisor owns the child (see the ownership rules of this
 * file) until sbx_supervisor_next() or sbx_supervisor_remove() gives it back.
 * On failure the caller still owns it. A child belongs to at most one
 * supervisor.
 * @param sup The supervisor.
 * @param child A child from sbx_spawn() whose result has not been taken.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -EALREADY The child has already ended and been reaped by sbx_child_wait() or
 *         sbx_child_poll().
 * @retval -EEXIST The child is already in this supervisor.
 * @retval -ENOMEM Out of memory.
 * @retval -ENOSPC The kernel's limit of epoll watches (fs.epoll.max_user_watches) is reached.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_supervisor_add(sbx_supervisor *sup, sbx_child *child);

/**
 * @brief sbx_spawn() a child and give it to the supervisor.
 * @param sup The supervisor.
 * @param policy As for sbx_spawn().
 * @param argv As for sbx_spawn().
 * @param io As for sbx_spawn(), or NULL.
 * @param[out] ret NULL, or receives the child: a borrowed pointer, valid until
 *                 sbx_supervisor_next() or sbx_supervisor_remove() hands the child
 *                 back, or the supervisor is freed.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument (other than @p io and @p ret), or as sbx_spawn().
 * @retval -ENOMEM Out of memory (the child, if it was started, is killed and reaped).
 * @retval -ENOSPC As sbx_supervisor_add() (the child is killed and reaped).
 * @return Otherwise the error of sbx_spawn().
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_supervisor_spawn(sbx_supervisor *sup, const sbx_policy *policy,
                                         const char *const *argv, const sbx_io *io,
                                         sbx_child **ret);

/**
 * @brief Take a running child back from the supervisor, which stops watching it.
 *
 * The child keeps running; the caller owns it again and ends it with
 * sbx_child_wait(), sbx_child_poll() or sbx_child_free(). This looks through
 * the supervisor's children: it costs time in proportion to their number.
 * @param sup The supervisor.
 * @param child The child.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -ENOENT The child is not in this supervisor.
 * @retval -EALREADY The child has already ended: take it with sbx_supervisor_next().
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_supervisor_remove(sbx_supervisor *sup, sbx_child *child);

/**
 * @brief The one descriptor to watch: readable when sbx_supervisor_step() has work.
 *
 * An epoll descriptor holding every child's pidfd, every violation monitor's
 * listener, and a timerfd armed at the nearest deadline. Poll it for POLLIN
 * (it may itself be added to another epoll set). It stays readable, level-
 * triggered, until sbx_supervisor_step() has handled what made it so.
 * @param sup The supervisor.
 * @return The descriptor (owned by the supervisor, close-on-exec; do not close
 *         it), or -EINVAL for a NULL supervisor.
 * @since 0.1
 */
SBX_API int sbx_supervisor_fd(const sbx_supervisor *sup);

/**
 * @brief Milliseconds until the nearest deadline of a supervised child.
 *
 * Not needed with sbx_supervisor_fd(), which wakes up at deadlines by itself;
 * for loops that prefer to pass a timeout.
 * @param sup The supervisor.
 * @return -1 when no running child has a deadline (or @p sup is NULL), 0 when
 *         one has passed, else the time left, rounded up.
 * @since 0.1
 */
SBX_API int64_t sbx_supervisor_timeout_ms(const sbx_supervisor *sup);

/**
 * @brief Do whatever is ready, without waiting.
 *
 * Kills (with their process group) the children whose deadline has passed,
 * answers pending seccomp notifications, reaps the children that ended (their
 * cgroups and private TMPDIRs are removed, which may wait briefly for their
 * last processes to die), and queues them for sbx_supervisor_next(). The
 * policies' violation callbacks (sbx_set_violation_callback()) run inside this
 * call: they must not call the sbx_supervisor_*() functions of this supervisor. It
 * handles a bounded batch of events so that a child flooding its monitor
 * cannot hold it: if the descriptor is still readable afterwards, the host's
 * loop simply calls it again.
 * @param sup The supervisor.
 * @return The number of children that ended during this call (0 or more).
 * @retval -EINVAL @p sup is NULL.
 * @return Otherwise the negative errno of epoll_wait(2).
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_supervisor_step(sbx_supervisor *sup);

/**
 * @brief Wait up to @p timeout_ms for the supervisor's descriptor, then sbx_supervisor_step().
 *
 * For hosts without an event loop of their own.
 * @param sup The supervisor.
 * @param timeout_ms Milliseconds; -1 waits until something happens, 0 does not wait.
 * @return As sbx_supervisor_step().
 * @retval -EINVAL @p sup is NULL or @p timeout_ms is below -1.
 * @retval -EINTR A signal interrupted the wait.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_supervisor_wait(sbx_supervisor *sup, int timeout_ms);

/**
 * @brief Take the next ended child and its result, in the order they ended.
 *
 * On success, and with -ECHILD, the caller owns the child again (free it with
 * sbx_child_free()). With -ENOMEM too: the child is reaped and its result can
 * be asked for again with sbx_child_poll().
 * @param sup The supervisor.
 * @param[out] ret_child Receives the child.
 * @param[out] ret_result Receives its result (free it with sbx_result_free());
 *                        NULL with -ECHILD and -ENOMEM.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -EAGAIN No ended child is waiting (the outputs are untouched).
 * @retval -ECHILD The host reaped the child itself (waitpid(-1)): its status is lost;
 *         @p ret_child is set.
 * @retval -ENOMEM The result could not be allocated; @p ret_child is set.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_supervisor_next(sbx_supervisor *sup, sbx_child **ret_child,
                                        sbx_result **ret_result);

/**
 * @brief The number of supervised children still running.
 * @param sup The supervisor.
 * @return The count; 0 for a NULL supervisor.
 * @since 0.1
 */
SBX_API size_t sbx_supervisor_running(const sbx_supervisor *sup);

/**
 * @brief The number of ended children waiting for sbx_supervisor_next().
 * @param sup The supervisor.
 * @return The count; 0 for a NULL supervisor.
 * @since 0.1
 */
SBX_API size_t sbx_supervisor_pending(const sbx_supervisor *sup);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_SUPERVISOR_H */
