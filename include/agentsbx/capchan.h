/**
 * @file agentsbx/capchan.h
 * @brief Host operations the child may call: capability objects over one
 * descriptor, served by the host.
 *
 * Instead of raw access (a file, a network service, a credential), the host
 * registers named operations on a policy (sbx_allow_capability()); the child
 * gets one descriptor, its number in the environment variable `SBX_CAPS_FD`,
 * over which it calls them and gets replies. The handlers run in the host,
 * inside sbx_run(), sbx_child_wait(), sbx_child_process() or the supervisor
 * (the same event engine that captures output and answers the seccomp
 * monitor: no thread of the library's own), one call at a time per child.
 *
 * The wire, for clients of one's own (agentsbx/capclient.h is one, in C;
 * `agentsbx call` and the Python package's `agentsbx.capclient` are others):
 * a request is a 4-byte big-endian length followed by that many bytes of a
 * JSON object `{"op": NAME, "args": ANY, "id": ANY}` ("args" and "id"
 * optional); the reply has the same framing:
 * `{"id": ..., "ok": true, "result": ANY}` or
 * `{"id": ..., "ok": false, "code": CODE, "error": MESSAGE}`, CODE one of
 * "unknown_op", "malformed", "too_large", "budget", "failed". A client sends
 * the next request only after it has read the whole reply: a request that
 * arrives while a reply is unread, a request over the size limit, or a frame
 * that is not JSON closes the channel (the child sees end-of-file), the
 * rest are refused with a reply and the channel stays open. Several
 * processes of the child that share the descriptor must take turns (the
 * clients above hold flock(2) on it for a call).
 *
 * Every call is an audit event ("call": the operation, the size of its
 * arguments — never their content —, the outcome, the duration) and counted
 * in the result. See docs/capabilities.md for the threat model.
 */
#ifndef AGENTSBX_CAPCHAN_H
#define AGENTSBX_CAPCHAN_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief One call of an operation by the child, valid during its handler. @since 0.2 */
typedef struct sbx_call sbx_call;

/**
 * @brief A host operation's handler.
 *
 * Runs in the host, in the thread that serves the child, while the child
 * waits for the reply: keep it short (the child's wall-clock limit keeps
 * running, and other children of the same supervisor wait). Read the call
 * with sbx_call_name() and sbx_call_args() — the arguments are the child's,
 * so treat them as hostile — and answer with sbx_call_reply() or
 * sbx_call_fail().
 *
 * @param call The call; valid until the handler returns.
 * @param userdata As given to sbx_allow_capability().
 * @return 0: the call succeeded (its result is what sbx_call_reply() set, or
 *         JSON `null`); a negative errno: it failed (the child gets the
 *         message of sbx_call_fail(), or the errno's description).
 * @since 0.2
 */
typedef int (*sbx_capability_fn)(sbx_call *call, void *userdata);

/**
 * @brief Let the child call a named operation, served by a handler in the host.
 *
 * The first operation also gives the child its descriptor (`SBX_CAPS_FD`).
 * Policy copies (sbx_policy_dup()) share the handlers and their userdata.
 *
 * @param policy The policy.
 * @param name 1 to 64 characters of `A-Z a-z 0-9 _ . -`.
 * @param fn The handler.
 * @param userdata Passed to @p fn; the host keeps it alive while children of
 *        this policy (or its copies) may call.
 * @retval 0 Success.
 * @retval -EINVAL NULL argument or a bad name (the message names it).
 * @retval -EEXIST The policy has an operation of that name.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_allow_capability(sbx_policy *policy, const char *name, sbx_capability_fn fn,
                                         void *userdata);

/**
 * @brief How many calls each child may make (answered or refused); past it,
 * every call is refused with code "budget".
 *
 * @param policy The policy.
 * @param calls At least 1, or #SBX_UNLIMITED. The default is 10000.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy or 0.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_limit_capability_calls(sbx_policy *policy, uint64_t calls);

/**
 * @brief The largest request (the JSON text, without its length) a child may
 * send; a larger one is refused ("too_large") and the channel closed.
 *
 * @param policy The policy.
 * @param bytes 64 to 16 MiB. The default is 64 KiB.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p bytes out of range (the message says the range).
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_limit_capability_request(sbx_policy *policy, uint64_t bytes);

/**
 * @brief How many operations the policy lets the child call.
 * @param policy The policy.
 * @return The count; 0 for a NULL policy.
 * @since 0.2
 */
SBX_API size_t sbx_policy_capability_count(const sbx_policy *policy);

/**
 * @brief The operation's name.
 * @param call The call.
 * @return The name (valid during the handler); NULL for a NULL call.
 * @since 0.2
 */
SBX_API const char *sbx_call_name(const sbx_call *call);

/**
 * @brief The call's arguments: the JSON text of the request's "args" member
 * (`null` when absent), NUL-terminated, valid JSON.
 * @param call The call.
 * @param len Where to store its length, or NULL.
 * @return The arguments' text (valid during the handler); NULL for a NULL call.
 * @since 0.2
 */
SBX_API const char *sbx_call_args(const sbx_call *call, size_t *len);

/**
 * @brief Set the call's result.
 *
 * @param call The call.
 * @param json A JSON value (any type), copied.
 * @param len Its length (without a terminating NUL); at most 128 KiB.
 * @retval 0 Success.
 * @retval -EINVAL NULL argument, or @p json is not one JSON value (the message says where).
 * @retval -E2BIG Over 128 KiB.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_call_reply(sbx_call *call, const char *json, size_t len);

/**
 * @brief Set the message the child gets when the handler returns a negative errno.
 *
 * @param call The call.
 * @param message Text for the child (copied, at most 1024 bytes kept).
 * @retval 0 Success.
 * @retval -EINVAL NULL argument.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_call_fail(sbx_call *call, const char *message);

/**
 * @brief Let the child run a tool only with arguments that match rules: the
 * tool runs through the host, never directly.
 *
 * The child gets a link named after the tool, first on its PATH, to
 * `agentsbx-shim` (installed in the library's libexec directory); the real
 * tool is not executable by the child at all (a grant that would let it —
 * sbx_allow_tool(), `--tool`, an SBX_FS_EXEC grant above it — makes the spawn
 * fail). Run as `git ARGS`, the shim sends the arguments and its working
 * directory over the capability channel, with its standard streams attached;
 * the host checks the arguments on its own copy of them (no pointer into the
 * child's memory is read, so no other thread of the child can change them
 * after the check), then runs the real tool confined by this policy (with the
 * tool granted, and without the channel) in that directory on those streams,
 * and the shim exits as the tool did. A denied call exits 126 with a message
 * naming the tool and the argument, and is counted in the result
 * (sbx_result_tool_denial()). One tool at a time per child.
 *
 * The rules: the arguments (without the tool's name) must match one of
 * @p allow, and none may hit @p deny. A pattern is words separated by spaces,
 * each matched by fnmatch(3) against one argument; a last `*` matches all the
 * rest, none included: `"status"`, `"log *"`, `"commit -m *"`. A deny entry
 * starting with `-` hits an argument that is it, or it followed by `=`, or, for
 * a one-letter option, followed by anything (`-c` hits `-cfoo`, not `--cached`);
 * any other entry hits an argument that contains it, in any case
 * (`core.hooksPath` hits `-c core.hookspath=/x`).
 *
 * @param policy The policy.
 * @param tool A name, looked up in the policy's PATH, or an absolute path.
 * @param allow Patterns, NULL-terminated, at least one (each 1 to 1024 bytes).
 * @param deny Entries, NULL-terminated, or NULL.
 * @retval 0 Success.
 * @retval -EINVAL NULL argument, no pattern, or a bad name or pattern (the message says which).
 * @retval -ENOENT The tool, or the shim, was not found.
 * @retval -EEXIST The policy has rules for that tool already.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_allow_tool_args(sbx_policy *policy, const char *tool,
                                        const char *const *allow, const char *const *deny);

/**
 * @brief How many tool calls of the child the argument rules denied.
 * @param result The result.
 * @return The count; 0 for a NULL result.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_tool_denial_count(const sbx_result *result);

/**
 * @brief One of the first 16 denied tool calls: the tool, its arguments and
 * why ("git push origin: not allowed by the argument rules"), at most 199 bytes.
 * @param result The result.
 * @param index 0 up to the number kept (at most 16).
 * @return The text, valid as long as the result; NULL past the last one kept
 *         or for a NULL result.
 * @since 0.2
 */
SBX_API const char *sbx_result_tool_denial(const sbx_result *result, size_t index);

/**
 * @brief How many calls of the child were answered by a handler (successfully or not).
 * @param result The result.
 * @return The count; 0 for a NULL result.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_capability_calls(const sbx_result *result);

/**
 * @brief How many calls of the child were refused without a handler: unknown
 * operation, malformed, too large, over the budget, or out of turn.
 * @param result The result.
 * @return The count; 0 for a NULL result.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_capability_refused(const sbx_result *result);

#ifdef __cplusplus
}
#endif

#endif
