/**
 * @file agentsbx/policy_json.h
 * @brief Policy files (JSON) and built-in profiles.
 *
 * A policy file is a JSON object of schema version 1 that says everything the
 * builder calls can say (docs/policy-files.md documents every key with a
 * complete example). A document is applied on top of a policy: each key it
 * has calls the builder function of the same meaning, so that a file can
 * start from a profile (`"profile": "workspace"`) or from whatever the host
 * built, and add to it. sbx_policy_to_json() writes a policy back as such a
 * document: loading that into a new policy gives the same policy.
 *
 * Parsing uses json-c; no file or document is ever trusted: unknown keys,
 * wrong types and values out of range are rejected with -EINVAL and a message
 * that names the JSON path of the offending value, for instance
 * `$.limits.memory: expected a size, got -5`.
 *
 * Thread-safety: loading and applying a profile change the policy, and must
 * not run while another thread uses it; sbx_policy_to_json() only reads it
 * and may run while other threads spawn from it.
 */
#ifndef AGENTSBX_POLICY_JSON_H
#define AGENTSBX_POLICY_JSON_H

#include "common.h"
#include "policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The policy-file schema version this library reads and writes. @since 0.1 */
#define SBX_POLICY_JSON_VERSION 1

/**
 * @brief Apply a JSON policy document to a policy.
 *
 * The document must be an object with `"version": 1`. Its settings are
 * applied on top of @p policy in a fixed order, whatever the order of the
 * keys: `profile`, `workdir`, `env`, `limits`, `best_effort`,
 * `die_with_parent`, `prepare_ahead`, `private_tmp`, `tmp_parent`, `grants`, `tools` (after
 * `env`, so that a tool is searched in the child's PATH as the document sets
 * it), `network`, `seccomp`, `cgroup`, `namespaces`, `output`. Lists add to
 * what the policy has (grants, tools, ports, syscall rules, best-effort
 * layers, namespaces, cgroup parents, values to redact); single values
 * replace it.
 *
 * The change is all or nothing: on failure @p policy is left as it was.
 * A key given twice in one object counts once, with its last value.
 *
 * @param policy The policy.
 * @param json A NUL-terminated JSON text (UTF-8); copied as needed, not kept.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument; text that is not JSON (the message gives the
 *         line and column); a document that does not follow the schema: an unknown
 *         key, a wrong type, a value out of range, a missing or unsupported
 *         `version` (the message names the JSON path, e.g. `$.grants[1].access`);
 *         or a value a builder call rejects with -EINVAL.
 * @retval -ENOENT A granted path (not marked `optional`), a tool, a `tmp_parent` or
 *         a cgroup parent does not exist (the message names the JSON path and
 *         the file).
 * @retval -ENOMEM Out of memory.
 * @return Otherwise the negative errno of the builder call that failed (for
 *         instance -EACCES from sbx_allow_tool() or -ENOTDIR from
 *         sbx_set_tmp_parent()); the message names the JSON path.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_policy_load_json(sbx_policy *policy, const char *json);

/**
 * @brief Read a JSON policy file and apply it to a policy.
 *
 * As sbx_policy_load_json(), on the contents of @p path. Messages start with
 * the file's name.
 *
 * @param policy The policy.
 * @param path The file's path (relative paths are relative to the current
 *        directory); at most 1 MiB of JSON.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a file that holds a NUL byte, or any error
 *         of sbx_policy_load_json().
 * @retval -ENOENT The file does not exist, or as for sbx_policy_load_json().
 * @retval -EACCES The file cannot be read.
 * @retval -EISDIR @p path is a directory.
 * @retval -EFBIG The file is larger than 1 MiB.
 * @retval -ENOMEM Out of memory.
 * @return Otherwise the negative errno of open(2) or read(2), or of
 *         sbx_policy_load_json().
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_policy_load_file(sbx_policy *policy, const char *path);

/**
 * @brief Write a policy as a JSON document (schema version 1).
 *
 * The document is pretty-printed (two-space indent) and ends with a newline.
 * It has `version` and only the settings that differ from a new policy's
 * (sbx_policy_new()), so that the defaults are never written out; loading it
 * with sbx_policy_load_json() into a new policy gives a policy that writes out
 * the same document. What the builder keeps in resolved form is written in
 * that form: a tool (sbx_allow_tool()) as the read and execute grants of its
 * file and its interpreters, a variable passed from the host (sbx_pass_env())
 * with the value it had, in `env.set`; a violation callback, an output callback,
 * an audit descriptor or callback, and the values registered with
 * sbx_redact_value() (secrets) are never written.
 *
 * Like snprintf(3): at most @p size bytes are written, always NUL-terminated
 * when @p size is not 0, and the return value is the length of the whole
 * document (without the NUL); call with (NULL, 0) to learn the size needed.
 *
 * @param policy The policy.
 * @param buf Receives the document; may be NULL when @p size is 0.
 * @param size The size of @p buf in bytes.
 * @return The length of the document, not counting the NUL (if it is @p size
 *         or more, the output was truncated).
 * @retval -EINVAL @p policy is NULL, or @p buf is NULL with a non-zero @p size.
 * @retval -EILSEQ A string of the policy (a path, an environment variable) is not
 *         valid UTF-8, which JSON cannot hold (the message shows it, bytes as `\xNN`).
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_policy_to_json(const sbx_policy *policy, char *buf, size_t size);

/**
 * @brief Apply a built-in profile to a policy.
 *
 * Profiles (docs/policy-files.md) add to the policy like a policy file:
 * - `minimal`: compute only: no private TMPDIR, so nothing is writable but
 *   the device sinks (/dev/null, ...); no network; nothing executable but the
 *   program and its interpreters. It takes nothing away: a working directory
 *   the policy already has stays writable.
 * - `workspace`: the default read-only view of the system, plus the working
 *   directory read-write (the current directory of the calling process,
 *   made the policy's working directory, unless the policy has one) and a
 *   private TMPDIR; no network.
 * - `networked`: `workspace` plus outgoing TCP connections to ports 80 and 443
 *   (TCP only: UDP, and so DNS over UDP, stays denied).
 *
 * The change is all or nothing: on failure @p policy is left as it was.
 *
 * @param policy The policy.
 * @param name A profile name, as sbx_profile_name() lists them.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or an unknown name (the message lists the known ones).
 * @retval -ENOMEM Out of memory.
 * @return Otherwise the negative errno of getcwd(3) (`workspace`, `networked`).
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_policy_apply_profile(sbx_policy *policy, const char *name);

/**
 * @brief The name of a built-in profile, to list them.
 * @param index 0, 1, ...
 * @return A static string ("minimal", "workspace", "networked", ...), or NULL
 *         past the last one. Thread-safe.
 * @since 0.1
 */
SBX_API const char *sbx_profile_name(size_t index);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_POLICY_JSON_H */
