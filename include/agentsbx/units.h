/**
 * @file agentsbx/units.h
 * @brief The one grammar of sizes and durations, shared by the C API's callers,
 * the `agentsbx` tool, policy files and the Python binding.
 */
#ifndef AGENTSBX_UNITS_H
#define AGENTSBX_UNITS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Parse a size: `"4096"`, `"64K"`, `"256M"`, `"256MiB"`, `"256MB"`, `"1g"`, or
 * `"unlimited"`.
 *
 * Digits, then nothing (bytes) or one of K, M, G, T, P in either case, optionally followed
 * by `i`, `B` or `iB`: every unit is a power of 1024 (`"1MB"` is 1048576). No sign, space,
 * fraction or exponent.
 * @param text The text.
 * @param[out] bytes Receives the size, or #SBX_UNLIMITED for `"unlimited"`.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or text not of that form (the message quotes it).
 * @retval -ERANGE 2^63 bytes or more.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_parse_size(const char *text, uint64_t *bytes);

/**
 * @brief Parse a duration: `"30"`, `"2.5"`, `"1500ms"`, `"30s"`, `"2m"`, `"1h"`, or
 * `"unlimited"`.
 *
 * Digits with an optional fraction of at most 9 places (`".5"` too), then nothing or `s` (seconds),
 * `ms`, `us`, `ns`, `m` (minutes) or `h`. A fraction of a nanosecond rounds up, so a limit
 * is never shortened.
 * @param text The text.
 * @param[out] ns Receives nanoseconds, or #SBX_UNLIMITED for `"unlimited"`.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, or text not of that form (the message quotes it).
 * @retval -ERANGE 2^63 nanoseconds (292 years) or more.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_parse_duration(const char *text, uint64_t *ns);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_UNITS_H */
