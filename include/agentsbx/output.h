/**
 * @file agentsbx/output.h
 * @brief Output filtering (redaction, terminal-escape neutralising, streaming)
 * and the audit log.
 *
 * What a child writes on its standard output and error goes back to a model,
 * a log or a person. sbx_run() passes both streams through a filter before it
 * keeps them (up to sbx_limit_output()) or hands them to the output callback:
 *
 * - **Redaction.** Values the host registers with sbx_redact_value(), and,
 *   unless sbx_set_redact_patterns() turned them off, a fixed list of
 *   well-known credential shapes (cloud keys, bearer tokens, private-key
 *   blocks, ...; the exact list is in docs/output-and-audit.md), are replaced
 *   by #SBX_REDACTED. A secret split across reads is still found: the filter
 *   holds back a short tail until it can decide.
 * - **Terminal escapes** (sbx_set_output_escapes()). Off by default in the
 *   library; when on, control characters other than newline, tab and the
 *   carriage return of a CRLF (ESC, CSI, OSC, BEL, ...), the C1 controls
 *   U+0080 to U+009F, DEL and bytes that are not valid UTF-8 are written as
 *   visible text (`\x1b`, `\u009b`), so the output is valid UTF-8 with no
 *   control sequence.
 * - **Unicode classes** (sbx_set_output_unicode()): characters that carry
 *   text a reader does not see (prompt-injection carriers): Unicode tag
 *   characters, bidirectional overrides and isolates, invisible format
 *   characters, and invalid UTF-8. Each class is counted, and kept (the
 *   library's default), stripped, escaped as visible text (`\u{E0041}`) or
 *   replaced by U+FFFD. What tag characters spell is decoded into a bounded
 *   sample (sbx_result_unicode_tag_text()).
 *
 * The same filter is available on its own (#sbx_output_filter) for hosts that
 * read the pipes of sbx_spawn() themselves, as the `agentsbx` tool does.
 *
 * The audit log (sbx_set_audit_fd(), sbx_set_audit_callback()) records, as
 * JSON lines, each child's spawn, its violations, the limits it hit, its kill
 * and its end. Registered secrets and credential shapes are redacted from
 * every string in it.
 */
#ifndef AGENTSBX_OUTPUT_H
#define AGENTSBX_OUTPUT_H

#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The text that replaces each redacted secret. @since 0.1 */
#define SBX_REDACTED "[REDACTED]"

/** @brief The longest value sbx_redact_value() accepts, in bytes. @since 0.1 */
#define SBX_REDACT_VALUE_MAX 4096

/** @brief The shortest value sbx_redact_value() accepts, in bytes. @since 0.1 */
#define SBX_REDACT_VALUE_MIN 4

/** @brief What the output filter does with terminal control characters. @since 0.1 */
enum sbx_escapes {
    /** Pass every byte through unchanged (the library's default). */
    SBX_ESCAPES_KEEP = 0,
    /** Write control characters and invalid UTF-8 as visible text. */
    SBX_ESCAPES_NEUTRALISE = 1,
    /** As #SBX_ESCAPES_NEUTRALISE, but backspace and a lone carriage return
     *  are kept: for what a pseudo-terminal's master gives, whose line editing
     *  echoes them (a child can then overwrite the text of its current line).
     *  @since 0.2 */
    SBX_ESCAPES_NEUTRALISE_TERMINAL = 2,
};

/**
 * @brief A function that receives filtered output as it comes.
 *
 * With sbx_run(), it is called on the thread that runs sbx_run(), with the
 * bytes that the result keeps, in order: the concatenation of its calls for
 * a stream equals sbx_result_stdout() (or sbx_result_stderr()). It must not
 * call into the library with the same policy or child.
 *
 * @param stream 1 (stdout) or 2 (stderr).
 * @param data The filtered bytes (not NUL-terminated), valid during the call only.
 * @param len Number of bytes, never 0.
 * @param userdata The pointer given with the function.
 * @since 0.1
 */
typedef void (*sbx_output_fn)(int stream, const char *data, size_t len, void *userdata);

/**
 * @brief Set a function that sbx_run() calls with the filtered output as it comes.
 * @param policy The policy.
 * @param fn The function, or NULL to remove it.
 * @param userdata Passed to @p fn unchanged.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_output_callback(sbx_policy *policy, sbx_output_fn fn, void *userdata);

/**
 * @brief Register a secret value to redact from the output and the audit log.
 *
 * Every occurrence of the exact bytes of @p value is replaced by
 * #SBX_REDACTED. The policy keeps a copy, which is wiped (explicit_bzero) when
 * the policy and the children spawned from it are freed. Registering a value
 * twice is not an error. At most 256 values.
 *
 * @param policy The policy.
 * @param value A string of #SBX_REDACT_VALUE_MIN to #SBX_REDACT_VALUE_MAX bytes.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or a value too short or too long (the message
 *                 gives its length, never the value).
 * @retval -ENOSPC 256 values are registered already.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_redact_value(sbx_policy *policy, const char *value);

/**
 * @brief Choose whether well-known credential shapes are redacted (default: on).
 *
 * The shapes (AWS keys, GitHub, Slack, Google and OpenAI-style tokens,
 * Authorization headers and bearer tokens, PEM private-key blocks, JWTs,
 * password-like `key=value` pairs, passwords in URLs) are listed in
 * docs/output-and-audit.md. Values registered with sbx_redact_value() are
 * redacted either way.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_redact_patterns(sbx_policy *policy, int on);

/**
 * @brief Choose what the output filter does with terminal control characters.
 * @param policy The policy.
 * @param mode An #sbx_escapes value (default #SBX_ESCAPES_KEEP).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or an unknown mode.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_output_escapes(sbx_policy *policy, int mode);

/**
 * @brief How many secrets the output filter replaced in the child's output
 * (both streams, including what was past the output limit).
 * @param result The result (NULL gives 0).
 * @return The count.
 * @since 0.1
 */
SBX_API uint64_t sbx_result_redactions(const sbx_result *result);

/**
 * @brief How many control characters or invalid bytes the output filter
 * neutralised in the child's output (both streams).
 * @param result The result (NULL gives 0).
 * @return The count; 0 unless #SBX_ESCAPES_NEUTRALISE.
 * @since 0.1
 */
SBX_API uint64_t sbx_result_escapes(const sbx_result *result);

/* ---- Unicode classes -------------------------------------------------------- */

/**
 * @brief Classes of characters that hide text from a reader. Values are
 * append-only. The exact code points are listed in docs/output-and-audit.md.
 * @since 0.2
 */
enum sbx_unicode_class {
    /** Tag characters, U+E0000 to U+E007F: invisible, and U+E0020 to U+E007E
     *  spell ASCII ("ASCII smuggling"). */
    SBX_UNICODE_TAGS = 0,
    /** Bidirectional embeddings, overrides and isolates (U+202A to U+202E,
     *  U+2066 to U+2069) and marks (U+200E, U+200F, U+061C): text shown in
     *  another order than it is read ("Trojan Source"). */
    SBX_UNICODE_BIDI = 1,
    /** Invisible format characters: zero-width spaces and joiners
     *  (U+200B to U+200D), word joiner and invisible operators (U+2060 to
     *  U+2064), U+FEFF other than at the start of the stream, soft hyphen
     *  U+00AD, U+180E, and the other default-ignorable format characters. */
    SBX_UNICODE_INVISIBLE = 2,
    /** Bytes that are not valid UTF-8, counted once per maximal invalid
     *  sequence (as U+FFFD replacement does). */
    SBX_UNICODE_INVALID_UTF8 = 3,
};

/** @brief What the output filter does with the characters of a Unicode
 * class. Every member of a class is counted whatever the action. Values are
 * append-only. @since 0.2 */
enum sbx_unicode_action {
    /** Write them as they are (the library's default for every class). */
    SBX_UNICODE_KEEP = 0,
    /** Leave them out. */
    SBX_UNICODE_STRIP = 1,
    /** Write them as visible text: a code point as `\u{E0041}` (upper-case
     *  hexadecimal, at least four digits), an invalid byte as `\xHH`. */
    SBX_UNICODE_ESCAPE = 2,
    /** Write U+FFFD (the replacement character) instead, once per code point
     *  or per maximal invalid sequence. */
    SBX_UNICODE_REPLACE = 3,
};

/** @brief The longest sample of decoded tag text a result or filter gives
 * (sbx_result_unicode_tag_text()), in bytes. @since 0.2 */
#define SBX_UNICODE_TAG_TEXT_MAX 256

/**
 * @brief Choose what the output filter does with one class of characters.
 *
 * Redaction is decided on the text as it will be read: characters of the
 * classes that are stripped are left out first (so that "hun\u200Bter2" with
 * invisible characters stripped is still redacted when "hunter2" is a
 * registered value); the other actions apply to what is not redacted. With
 * #SBX_ESCAPES_NEUTRALISE, invalid UTF-8 that is
 * kept is written as `\xHH`, as before (neutralised output is valid UTF-8);
 * #SBX_UNICODE_STRIP and #SBX_UNICODE_REPLACE still apply.
 *
 * @param policy The policy.
 * @param cls An #sbx_unicode_class.
 * @param action An #sbx_unicode_action (default #SBX_UNICODE_KEEP).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or an unknown class or action.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_output_unicode(sbx_policy *policy, int cls, int action);

/**
 * @brief How many characters of a Unicode class the output filter saw in the
 * child's output (both streams, whatever the action; not counting what was
 * redacted, unless the class is stripped: stripping comes first).
 *
 * Counted by sbx_run() and by the capture of sbx_spawn_with(); 0 for a child
 * whose output the library did not read.
 *
 * @param result The result (NULL gives 0).
 * @param cls An #sbx_unicode_class (an unknown one gives 0).
 * @return The count.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_unicode(const sbx_result *result, int cls);

/**
 * @brief What the tag characters of the child's output spell, as a sample.
 *
 * Tag characters U+E0020 to U+E007E, decoded to the ASCII characters they
 * stand for (U+E0041 is "A"); separate runs of them are separated by a newline
 * (stdout's first, then stderr's). The text is redacted like the output
 * (registered values, credential shapes) and cut at
 * #SBX_UNICODE_TAG_TEXT_MAX bytes. The other tag characters (U+E0000 to
 * U+E001F, U+E007F) are counted, not decoded.
 *
 * @param result The result.
 * @return The text, NUL-terminated, owned by the result (valid until it is
 *         freed); "" when there was none; NULL for a NULL result, or when
 *         memory ran out while it was redacted (never the text unredacted).
 * @since 0.2
 */
SBX_API const char *sbx_result_unicode_tag_text(const sbx_result *result);

/* ---- The filter on its own ----------------------------------------------- */

/** @brief An output filter for one stream (opaque). @since 0.1 */
typedef struct sbx_output_filter sbx_output_filter;

/**
 * @brief Make a filter with the policy's output settings, as they are now.
 *
 * Later changes of the policy do not affect the filter, and the filter does
 * not refer to the policy (it may outlive it). Memory use is bounded: about
 * 23 KiB plus the longest registered value (twice that when a Unicode class
 * is stripped; and 2.3 KiB plus the longest value more once tag characters
 * are seen).
 *
 * @param policy The policy whose secrets, pattern and escape settings are used.
 * @param stream The stream number passed to @p fn (any value 0 to 2; usually 1 or 2).
 * @param fn Receives the filtered bytes (the policy's own output callback is not used).
 * @param userdata Passed to @p fn unchanged.
 * @param[out] ret Receives the filter; free it with sbx_output_filter_free().
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or a stream out of range.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_output_filter_new(const sbx_policy *policy, int stream, sbx_output_fn fn,
                                          void *userdata, sbx_output_filter **ret);

/**
 * @brief Pass bytes through the filter.
 *
 * Filtered bytes go to the filter's function, before this call returns, except
 * a tail that may be the start of a secret: that is held back until more
 * bytes or sbx_output_filter_finish() decide.
 *
 * @param filter The filter.
 * @param data The bytes.
 * @param len Number of bytes (0 is allowed).
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -EPIPE The filter was finished already.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_output_filter_write(sbx_output_filter *filter, const void *data,
                                            size_t len);

/**
 * @brief End of the stream: decide and pass on what is held back.
 * @param filter The filter.
 * @retval 0 Success (also when called again).
 * @retval -EINVAL NULL filter.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_output_filter_finish(sbx_output_filter *filter);

/**
 * @brief How many secrets the filter has replaced so far.
 * @param filter The filter (NULL gives 0).
 * @return The count.
 * @since 0.1
 */
SBX_API uint64_t sbx_output_filter_redactions(const sbx_output_filter *filter);

/**
 * @brief How many control characters or invalid bytes the filter has neutralised so far.
 * @param filter The filter (NULL gives 0).
 * @return The count.
 * @since 0.1
 */
SBX_API uint64_t sbx_output_filter_escapes(const sbx_output_filter *filter);

/**
 * @brief How many characters of a Unicode class the filter has seen so far
 * (whatever the action; not counting what was redacted, unless the class is
 * stripped).
 * @param filter The filter (NULL gives 0).
 * @param cls An #sbx_unicode_class (an unknown one gives 0).
 * @return The count.
 * @since 0.2
 */
SBX_API uint64_t sbx_output_filter_unicode(const sbx_output_filter *filter, int cls);

/**
 * @brief What the tag characters the filter has written so far spell, as
 * sbx_result_unicode_tag_text() gives it for a result.
 * @param filter The filter.
 * @return The text, NUL-terminated, owned by the filter: valid until the next
 *         call with the filter. NULL with sbx_last_error() set for a NULL
 *         filter or when out of memory.
 * @since 0.2
 */
SBX_API const char *sbx_output_filter_unicode_tag_text(sbx_output_filter *filter);

/**
 * @brief Free a filter, wiping what it held. Bytes still held back are dropped:
 * call sbx_output_filter_finish() first to have them.
 * @param filter The filter, or NULL (a no-op).
 * @since 0.1
 */
SBX_API void sbx_output_filter_free(sbx_output_filter *filter);

/* ---- The audit log --------------------------------------------------------- */

/**
 * @brief A function that receives each audit event.
 *
 * Called on the thread that spawns (the `spawn` event) or that waits for the
 * child (sbx_child_wait(), sbx_child_poll(), sbx_child_free(), sbx_run()):
 * possibly several threads at once, for different children. It must not call
 * into the library with the same child.
 *
 * @param line One JSON object, NUL-terminated, without a newline; valid during the call only.
 * @param len Its length.
 * @param userdata The pointer given to sbx_set_audit_callback().
 * @since 0.1
 */
typedef void (*sbx_audit_fn)(const char *line, size_t len, void *userdata);

/**
 * @brief Write audit events, one JSON object per line, to a descriptor.
 *
 * Each line is written with one write(2) (use O_APPEND to share a file
 * between processes). The descriptor is not duplicated: it must stay open as
 * long as children of this policy run. Write errors are ignored (the child is
 * not affected). The events and their fields are in docs/output-and-audit.md.
 *
 * @param policy The policy.
 * @param fd An open descriptor, or -1 to stop writing.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p fd below -1.
 * @retval -EBADF @p fd is not an open descriptor.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_audit_fd(sbx_policy *policy, int fd);

/** @brief Bytes of audit log a child may produce, unless the policy says
 *  otherwise (sbx_set_audit_limit()). @since 0.2 */
#define SBX_AUDIT_LIMIT_DEFAULT (1024u * 1024u)

/**
 * @brief Bound the audit log each child produces.
 *
 * Past @p bytes, the child's events (violations above all, which a child can
 * make by the thousand) are counted, not written; the exit event is always
 * written and says how many were dropped ("audit_dropped"). Independently,
 * only the first 8 violations of each kind (a system call and its errno) are
 * written as events; the exit event carries the count of each kind.
 *
 * @param policy The policy.
 * @param bytes 4096 or more, or #SBX_UNLIMITED (default #SBX_AUDIT_LIMIT_DEFAULT).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or fewer than 4096 bytes.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_audit_limit(sbx_policy *policy, uint64_t bytes);

/**
 * @brief How many of the child's audit events were not written.
 *
 * The violations of a kind past its first 8, and every event past the audit
 * budget (sbx_set_audit_limit()), are counted instead of written; this is that
 * count, the same as "audit_dropped" in the child's exit event and in the
 * result's JSON. 0 when the policy has no audit log.
 * @param result The result (NULL gives 0).
 * @return The count.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_audit_dropped(const sbx_result *result);

/**
 * @brief Pass audit events to a function (as well as to the descriptor, if one is set).
 * @param policy The policy.
 * @param fn The function, or NULL to remove it.
 * @param userdata Passed to @p fn unchanged.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_audit_callback(sbx_policy *policy, sbx_audit_fn fn, void *userdata);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_OUTPUT_H */
