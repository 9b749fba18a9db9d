/**
 * @file agentsbx/network.h
 * @brief Network egress by name: the allow-list of the egress broker, its
 * pinned resolutions, and its quotas.
 *
 * A child that needs the network only to reach named services (a package
 * index, a git host, one API) reaches them through the egress broker: an HTTP
 * proxy (CONNECT tunnels and plain `http://` requests) and a SOCKS5 proxy
 * (CONNECT with remote name resolution) that the library runs for the child.
 * The broker, never the child, resolves names; it connects only to the hosts
 * and ports this allow-list grants, and refuses, after resolution, addresses
 * the child could use to reach the host's own services or its cloud's
 * (loopback, link-local including the metadata service 169.254.169.254,
 * private and unique-local ranges, unspecified, multicast, reserved, and the
 * IPv4-mapped and embedded forms of those) unless they were granted.
 *
 * **Names.** Every name, in a grant or in a request, is normalised before it
 * is compared: ASCII letters to lower case, one trailing dot removed, and a
 * name with non-ASCII characters converted to its IDNA (punycode) form with
 * libidn2 (IDNA 2008, UTS #46 non-transitional). A name is at most 253 bytes
 * once normalised, each label 1 to 63 bytes of letters, digits, `-` (not first
 * or last) and `_`. A name whose last label is numeric is refused: only
 * dotted-quad IPv4 and IPv6 literals are addresses, and `127.1` or
 * `0x7f000001` are neither names nor literals.
 *
 * **Patterns** (sbx_allow_host(), sbx_deny_host()): `NAME`, `*.NAME` (a
 * wildcard: one or more labels below NAME, never NAME itself; grant both to
 * have both), an IPv4 literal `10.0.0.5` or an IPv6 literal `2001:db8::5` or
 * `[2001:db8::5]`, each with an optional `:PORT` (IPv6 in brackets then).
 * Without a port, a grant allows ports 80 and 443, and a denial covers every
 * port.
 *
 * Grants only widen, a denial wins over every grant, and the order of the
 * calls does not matter. The broker itself is started by the spawn when the
 * policy has a grant (see docs/network.md).
 */
#ifndef AGENTSBX_NETWORK_H
#define AGENTSBX_NETWORK_H

#include "common.h"
#include "policy.h"
#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Allow the child to reach a host (and port) through the egress broker.
 *
 * @param policy The policy.
 * @param pattern A pattern as the file's description says: `pypi.org`,
 *        `*.githubusercontent.com`, `api.example.com:8443`, `10.0.0.5`,
 *        `[2001:db8::5]:443`. A granted IP literal is reached as given, even in a
 *        private or loopback range; a name is reached at the addresses it
 *        resolves to (or is pinned to, sbx_broker_resolve()).
 * @retval 0 Success (granting the same pattern twice is not an error).
 * @retval -EINVAL NULL argument, or a pattern that is not valid: empty, a bare
 *         `*`, a `*` other than a whole first label, a label longer than 63
 *         bytes, a name longer than 253 bytes, a character not allowed in a
 *         name, a numeric name that is no literal, a port out of 1 to 65535, a
 *         non-ASCII name libidn2 refuses. The message names the pattern and
 *         what is wrong with it.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_allow_host(sbx_policy *policy, const char *pattern);

/**
 * @brief Deny a host (and port) whatever the grants say.
 *
 * A denial wins over every grant: `sbx_allow_host(p, "*.example.com")` with
 * `sbx_deny_host(p, "internal.example.com")` reaches every name below
 * example.com but that one. Without a port the denial covers every port. A
 * denied IP literal is refused also when a granted name resolves to it.
 *
 * @param policy The policy.
 * @param pattern A pattern, as for sbx_allow_host().
 * @retval 0 Success.
 * @retval -EINVAL NULL argument, or a pattern that is not valid (as for
 *         sbx_allow_host()).
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_deny_host(sbx_policy *policy, const char *pattern);

/**
 * @brief Pin the broker's resolution of a name to an address (curl's `--resolve`).
 *
 * The broker never asks DNS about a pinned name: it connects to the pinned
 * addresses, in the order they were given (call again to add one), and trusts
 * them even in a private or loopback range, since the host chose them. This is
 * how a host gives a local server a name. Pinning does not grant: the name (or
 * a wildcard above it) must still be allowed with sbx_allow_host().
 *
 * @param policy The policy.
 * @param name A host name (no wildcard, no port), normalised as the file's
 *        description says.
 * @param address A numeric IPv4 (dotted quad) or IPv6 address, without brackets.
 * @retval 0 Success.
 * @retval -EINVAL NULL argument, a name that is not valid, or an address that
 *         is not a numeric IPv4 or IPv6 address; the message names which.
 * @retval -E2BIG More than 16 addresses for one name.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_broker_resolve(sbx_policy *policy, const char *name, const char *address);

/**
 * @brief Let granted names resolve to private addresses.
 *
 * By default the broker refuses a granted name that resolves into a private
 * range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, the shared 100.64.0.0/10,
 * the unique-local fc00::/7 and the deprecated site-local fec0::/10): a name
 * in public DNS that points there is the classic way to reach a host's
 * neighbours (DNS rebinding). Turn this on when the granted names are on a
 * private network. Loopback, link-local (and so the cloud metadata service),
 * unspecified, multicast and reserved addresses stay refused: reach them only
 * through a granted literal or a pinned name.
 *
 * @param policy The policy.
 * @param on 1 to allow private addresses, 0 to refuse them (the default).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_allow_private_network(sbx_policy *policy, int on);

/**
 * @brief Limit the bytes the child's connections move through the broker.
 *
 * Up counts what the child sends (for a plain HTTP request, the rewritten
 * request too), down what it receives (for a plain HTTP request, the rewritten
 * response head too); the broker's own replies (`200 Connection established`,
 * SOCKS replies, refusals) are not counted. The quota is enforced as bytes
 * flow: at most @p up and @p down bytes pass, and once a connection has more
 * to move in a direction whose quota is spent, every connection ends, later
 * requests are refused, and the result says which quota was hit.
 *
 * @param policy The policy.
 * @param up Bytes from the child, 1 or more, or #SBX_UNLIMITED (the default).
 * @param down Bytes to the child, 1 or more, or #SBX_UNLIMITED (the default).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a quota of 0 (to deny all traffic, grant no host).
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_limit_network_bytes(sbx_policy *policy, uint64_t up, uint64_t down);

/**
 * @brief Cap the broker's bandwidth for the child, in each direction.
 *
 * A token bucket per direction, shared by all of the child's connections, that
 * refills at @p bytes_per_s and holds at most a tenth of a second's worth
 * (at least 16 KiB): a transfer runs at the rate on average, in bursts of that
 * size.
 *
 * @param policy The policy.
 * @param bytes_per_s 1024 to 2^40, or #SBX_UNLIMITED (the default).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a rate out of range.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_limit_network_rate(sbx_policy *policy, uint64_t bytes_per_s);

/** @brief The broker's ceiling on a child's concurrent connections (sbx_limit_connections()).
 * @since 0.2 */
#define SBX_CONNECTIONS_MAX 1024

/**
 * @brief Limit the connections a child makes through the broker.
 *
 * @p total counts the connections the broker opens for the child (a CONNECT
 * tunnel, a plain HTTP request, a SOCKS5 CONNECT): past it, requests are
 * refused and the result says the connection quota was hit. @p concurrent
 * counts the child's open connections to the broker, in any phase; at the cap
 * a new connection evicts the oldest one still waiting for its request, or is
 * refused when none is waiting. Neither can exceed #SBX_CONNECTIONS_MAX
 * concurrent connections, the broker's own ceiling.
 *
 * @param policy The policy.
 * @param total 1 or more, or #SBX_UNLIMITED (the default).
 * @param concurrent 1 to #SBX_CONNECTIONS_MAX, or #SBX_UNLIMITED (the
 *        default, which means #SBX_CONNECTIONS_MAX).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_limit_connections(sbx_policy *policy, uint64_t total, uint64_t concurrent);

/**
 * @brief The bytes the child's connections moved through the broker.
 *
 * Counted as the quotas count them: what the broker relayed from the child
 * (up) and to it (down), request and response heads included.
 * @param result The result.
 * @param[out] ret_up Receives the bytes sent by the child (0 without host grants).
 * @param[out] ret_down Receives the bytes received by the child (0 without host grants).
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_result_network_bytes(const sbx_result *result, uint64_t *ret_up,
                                             uint64_t *ret_down);

/**
 * @brief The connections the broker opened (or tried to open) for the child.
 * @param result The result (NULL gives 0).
 * @return The count; 0 without host grants.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_network_connections(const sbx_result *result);

/**
 * @brief How many of the child's attempts the broker refused (all are counted).
 * @param result The result (NULL gives 0).
 * @return The count; 0 without host grants.
 * @since 0.2
 */
SBX_API uint64_t sbx_result_network_denied(const sbx_result *result);

/**
 * @brief Which quota of the broker the child spent first, if any.
 *
 * A child that spends a quota is killed, and its status is
 * #SBX_STATUS_NETWORK_LIMIT.
 * @param result The result (NULL gives "").
 * @return "bytes_up", "bytes_down", "connections", or "" when none was hit
 *         (a static string).
 * @since 0.2
 */
SBX_API const char *sbx_result_network_quota(const sbx_result *result);

/**
 * @brief How many refused attempts the result keeps in detail (the first 32).
 * @param result The result (NULL gives 0).
 * @return The number kept, at most 32.
 * @since 0.2
 */
SBX_API size_t sbx_result_network_denials(const sbx_result *result);

/**
 * @brief One of the refused attempts kept, in the order they happened.
 * @param result The result.
 * @param index 0 to sbx_result_network_denials() - 1.
 * @param[out] ret_host Receives the host as requested (normalised; a name that is
 *                      not valid made printable), owned by the result.
 * @param[out] ret_port Receives the port (0 when none was read).
 * @param[out] ret_reason Receives why, a static string ("host not allowed",
 *                        "IP address not granted", "address refused", ...).
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -ERANGE No refused attempt is kept at that index.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_result_network_denial(const sbx_result *result, size_t index,
                                              const char **ret_host, int *ret_port,
                                              const char **ret_reason);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_NETWORK_H */
