/* The egress broker (issue 17): its policy (egress.c) and its engine
 * (broker.c, broker_relay.c, broker_resolve.c), an allow-list HTTP and SOCKS5
 * proxy driven by the host's loop. Nothing here is exported.
 *
 * Wiring it into a spawn (the lead's side):
 *
 *     struct sbx__broker *b;
 *     int lfd = <a listening, SOCK_STREAM socket: TCP on loopback, or unix>;
 *     if (policy->egress && sbx__broker_new(policy->egress, lfd, &b) == 0) {
 *         sbx__broker_set_audit(b, fn, data);           // optional
 *         ... poll sbx__broker_fd(b) for POLLIN, with the timeout
 *             sbx__broker_timeout_ms(b); call sbx__broker_step(b) when it is
 *             readable or the timeout passed ...
 *         sbx__broker_stats(b, &st);                    // at any time
 *         sbx__broker_free(b);                          // when the child ends
 *     }
 *
 * The broker copies what it needs of the policy: the policy may change or be
 * freed while the broker runs. One broker is used by one thread at a time.
 */
#ifndef SBX_BROKER_H
#define SBX_BROKER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ---- limits ------------------------------------------------------------------ */

#define SBX__NAME_MAX           253     /* a host name, normalised, without the trailing dot */
#define SBX__LABEL_MAX          63      /* one label */
#define SBX__HEAD_MAX           16384   /* a request or response head, bytes */
#define SBX__PINS_MAX           16      /* pinned addresses per name */
#define SBX__DENIALS_KEPT       32      /* denied attempts kept in detail (all are counted) */
#define SBX__HEADER_TIMEOUT_MS  10000   /* the whole request must arrive within this */
#define SBX__CONNECT_TIMEOUT_MS 10000   /* one upstream connect attempt */
#define SBX__ADDR_TEXT_MAX      46      /* INET6_ADDRSTRLEN */
#define SBX__SPLICE_MAX         1048576 /* bytes one splice(2) into a relay's pipe asks for */

/* ---- the policy (egress.c) ------------------------------------------------------ */

/* One allow or deny pattern. */
struct sbx__egress_rule {
    char *name; /* owned: the normalised name (the suffix, for a wildcard); NULL for an address */
    bool wildcard;        /* "*.name": one or more labels below name */
    bool is_addr;         /* an IP literal */
    struct in6_addr addr; /* is_addr: the address (IPv4 as ::ffff:a.b.c.d) */
    uint16_t port;        /* 0: none given (allow: 80 and 443; deny: every port) */
    char *text;           /* owned: the pattern, normalised, for reports ("*.example.com:443") */
};

/* The pinned addresses of one name (sbx_broker_resolve()). */
struct sbx__egress_pin {
    char *name; /* owned, normalised */
    struct in6_addr addrs[SBX__PINS_MAX];
    size_t n;
};

/* What sbx_allow_host() and friends stored; policy->egress (NULL: none). */
struct sbx__egress_policy {
    struct sbx__egress_rule *allow, *deny;
    size_t n_allow, n_deny;
    struct sbx__egress_pin *pins;
    size_t n_pins;
    bool allow_private;
    uint64_t bytes_up, bytes_down; /* SBX_UNLIMITED: none */
    uint64_t rate;                 /* bytes/s per direction; SBX_UNLIMITED: none */
    uint64_t conn_total;           /* SBX_UNLIMITED: none */
    uint64_t conn_concurrent;      /* 1 to SBX_CONNECTIONS_MAX */
    /* Internal settings (not in the public API; tests and the lead may change
     * them on a copy): */
    uint32_t header_timeout_ms;  /* SBX__HEADER_TIMEOUT_MS */
    uint32_t connect_timeout_ms; /* SBX__CONNECT_TIMEOUT_MS */
    char *dns_servers;           /* owned; c-ares "ip[:port],..."; NULL: /etc/resolv.conf */
    bool no_splice;              /* relay through buffers only (tests of that path) */
};

/* A new policy with the defaults (no grant). */
SBX__HIDDEN int sbx__egress_new(struct sbx__egress_policy **ret);
/* A deep copy; *ret untouched on failure. */
SBX__HIDDEN int sbx__egress_copy(const struct sbx__egress_policy *from,
                                 struct sbx__egress_policy **ret);
SBX__HIDDEN void sbx__egress_free(struct sbx__egress_policy *cfg);
/* The policy's egress state, created with the defaults when it has none. */
SBX__HIDDEN int sbx__egress_get(sbx_policy *policy, struct sbx__egress_policy **ret);

/* Normalise the host name in[0..len) into out (SBX__NAME_MAX + 1 bytes): lower
 * case, one trailing dot removed, IDNA for non-ASCII names; labels of
 * [a-z0-9_-], not starting or ending with '-', 1 to 63 bytes; at most 253
 * bytes; the last label not numeric. 0, or -EINVAL with *why saying what is
 * wrong (a static string). Does not accept IP literals (see sbx__parse_addr). */
SBX__HIDDEN int sbx__host_normalize(const char *in, size_t len, char *out, const char **why);
/* Whether s[0..len) is a numeric IPv4 (dotted quad) or IPv6 address; *out
 * receives it (IPv4 as ::ffff:a.b.c.d). */
SBX__HIDDEN bool sbx__parse_addr(const char *s, size_t len, struct in6_addr *out);
/* The text of an address (IPv4-mapped ones as IPv4) in out (SBX__ADDR_TEXT_MAX). */
SBX__HIDDEN void sbx__addr_text(const struct in6_addr *a, char *out);

/* Address classes, in the order the broker's checks name them. */
enum sbx__addr_class {
    SBX__ADDR_PUBLIC,
    SBX__ADDR_PRIVATE,      /* 10/8, 172.16/12, 192.168/16, 100.64/10, fec0::/10 */
    SBX__ADDR_UNIQUE_LOCAL, /* fc00::/7 */
    SBX__ADDR_LOOPBACK,     /* 127/8, ::1 */
    SBX__ADDR_LINK_LOCAL,   /* 169.254/16, fe80::/10 */
    SBX__ADDR_UNSPECIFIED,  /* 0/8, :: */
    SBX__ADDR_MULTICAST,    /* 224/4, ff00::/8 */
    SBX__ADDR_RESERVED,     /* 240/4 (with 255.255.255.255), 100::/64 */
};
/* Classify an address; IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96),
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses by the IPv4 address
 * they embed. */
SBX__HIDDEN enum sbx__addr_class sbx__addr_classify(const struct in6_addr *a);
SBX__HIDDEN const char *sbx__addr_class_name(enum sbx__addr_class c);

/* Why the broker refuses or ends a connection. */
enum sbx__broker_reason {
    SBX__BR_OK,
    /* the policy */
    SBX__BR_NOT_ALLOWED, /* no grant names the host */
    SBX__BR_PORT,        /* a grant names the host, not the port */
    SBX__BR_DENIED,      /* a denial names the host (or the address) */
    SBX__BR_LITERAL,     /* an IP literal that is not granted */
    SBX__BR_ADDRESS,     /* resolved to a refused address class */
    SBX__BR_PEER,        /* the address connected to (getpeername) is refused */
    /* bad input */
    SBX__BR_MALFORMED,   /* not HTTP/1.x or SOCKS5, or broken */
    SBX__BR_BAD_NAME,    /* a host name that is not valid (or over 253 bytes) */
    SBX__BR_TOO_LARGE,   /* a request head over SBX__HEAD_MAX */
    SBX__BR_TIMEOUT,     /* the request did not arrive within the header deadline */
    SBX__BR_UNSUPPORTED, /* a valid request the broker does not serve */
    SBX__BR_AUTH,        /* SOCKS5 without the no-authentication method */
    /* limits */
    SBX__BR_CONCURRENT,  /* the concurrent-connection cap, nothing to evict */
    SBX__BR_EVICTED,     /* waited for its request while the cap was reached */
    SBX__BR_CONN_QUOTA,  /* the connection quota is spent */
    SBX__BR_BYTES_QUOTA, /* a byte quota is spent */
    SBX__BR_RESOURCES,   /* the broker is out of descriptors or memory */
    /* failures of allowed connections (counted apart from denials) */
    SBX__BR_RESOLVE,         /* the name does not resolve */
    SBX__BR_CONNECT,         /* no address accepted the connection */
    SBX__BR_CONNECT_TIMEOUT, /* connecting took too long */
    SBX__BR_BAD_RESPONSE,    /* the server's response head is not HTTP/1.x */
    SBX__BR_COUNT
};
#define SBX__BR_FIRST_FAILURE SBX__BR_RESOLVE
SBX__HIDDEN const char *sbx__broker_reason_name(enum sbx__broker_reason r);

/* Check a request's target against the policy: SBX__BR_OK (allowed by *rule),
 * or why not (*rule: the denial, or NULL). `name` is normalised (or the
 * literal's text); addr is the literal when is_addr. */
SBX__HIDDEN enum sbx__broker_reason sbx__egress_check(const struct sbx__egress_policy *cfg,
                                                      const char *name, bool is_addr,
                                                      const struct in6_addr *addr, uint16_t port,
                                                      const struct sbx__egress_rule **rule);
/* Check an address a granted name resolved to (trusted: pinned, or a granted
 * literal): SBX__BR_OK, SBX__BR_DENIED (a denied literal, *rule) or
 * SBX__BR_ADDRESS (*cls says which class). */
SBX__HIDDEN enum sbx__broker_reason sbx__egress_check_addr(const struct sbx__egress_policy *cfg,
                                                           const struct in6_addr *a, bool trusted,
                                                           uint16_t port,
                                                           const struct sbx__egress_rule **rule,
                                                           enum sbx__addr_class *cls);
/* The pinned addresses of a normalised name, or NULL. */
SBX__HIDDEN const struct sbx__egress_pin *sbx__egress_pin_find(const struct sbx__egress_policy *cfg,
                                                               const char *name);

/* ---- the engine (broker.c) ----------------------------------------------------- */

struct sbx__broker;

/* Which quota was hit, first. */
enum sbx__broker_quota {
    SBX__QUOTA_NONE,
    SBX__QUOTA_BYTES_UP,
    SBX__QUOTA_BYTES_DOWN,
    SBX__QUOTA_CONNECTIONS,
};
SBX__HIDDEN const char *sbx__broker_quota_name(enum sbx__broker_quota q);

/* A denied attempt, kept in detail (the first SBX__DENIALS_KEPT). */
struct sbx__broker_denial {
    char host[SBX__NAME_MAX +
              1]; /* as requested (normalised, or sanitised when not valid); "" before a request */
    char address[SBX__ADDR_TEXT_MAX]; /* the refused address, or "" */
    uint16_t port;                    /* 0: none known */
    enum sbx__broker_reason reason;
    const char *rule; /* the denial that matched (static while the broker lives), or "" */
    uint64_t time_ns; /* since the broker started */
};

struct sbx__broker_stats {
    uint64_t bytes_up, bytes_down; /* relayed, as the quotas count them */
    uint64_t connections;          /* connections the broker opened (or tried to) for the child */
    uint64_t denied;               /* denied attempts (reasons before SBX__BR_FIRST_FAILURE) */
    uint64_t failed;               /* allowed connections that failed (resolve, connect) */
    uint64_t by_reason[SBX__BR_COUNT];
    enum sbx__broker_quota quota_hit;
    uint64_t bytes_spliced; /* of those, moved by splice(2) rather than through buffers */
    size_t open;            /* connections open now */
    size_t peak_open;       /* the most open at once */
};

/* One connection's end, for the audit log. Strings valid during the call only. */
struct sbx__broker_event {
    const char
        *protocol;    /* "connect" (HTTP CONNECT), "http" (a plain request), "socks5", "unknown" */
    const char *host; /* as requested, normalised; "" when no request was read */
    const char *address; /* the address connected to, or ""; for ADDRESS/PEER: the refused one */
    uint16_t port;
    uint64_t bytes_up, bytes_down;
    uint64_t duration_ns; /* from accept to close */
    bool allowed;         /* the policy allowed it (it may still have failed: see reason) */
    enum sbx__broker_reason reason; /* SBX__BR_OK, why it was refused, or what ended it */
    const char *reason_text;        /* sbx__broker_reason_name(reason) */
    const char *rule;               /* the grant that allowed, or the denial that refused; "" */
};
typedef void (*sbx__broker_audit_fn)(const struct sbx__broker_event *ev, void *userdata);

/* A broker serving connections accepted on listen_fd (a listening
 * SOCK_STREAM socket; made non-blocking here). On success the broker owns
 * listen_fd and closes it when freed; on failure the caller keeps it.
 * -ENOMEM, -EINVAL (NULL cfg or a bad fd), or the errno of epoll or c-ares's
 * set-up, with a message. */
SBX__HIDDEN int sbx__broker_new(const struct sbx__egress_policy *cfg, int listen_fd,
                                struct sbx__broker **ret);
/* An epoll descriptor: readable when sbx__broker_step() has work. */
/* Listen on fd instead (the broker takes it; the old one is closed): a
 * listening socket made in the child's network namespace. 0 or -errno. */
SBX__HIDDEN int sbx__broker_replace_listen(struct sbx__broker *b, int fd);
SBX__HIDDEN int sbx__broker_fd(struct sbx__broker *b);
/* Do what is ready (a bounded amount of it) and what the timers say; never
 * blocks. 0, or a negative errno when epoll itself fails. */
SBX__HIDDEN int sbx__broker_step(struct sbx__broker *b);
/* Milliseconds until the next timer (0: due now), or -1: none. */
SBX__HIDDEN int64_t sbx__broker_timeout_ms(const struct sbx__broker *b);
/* Called for every connection as it ends (allowed or refused). */
SBX__HIDDEN void sbx__broker_set_audit(struct sbx__broker *b, sbx__broker_audit_fn fn,
                                       void *userdata);
SBX__HIDDEN void sbx__broker_stats(const struct sbx__broker *b, struct sbx__broker_stats *out);
/* The denied attempts kept in detail (*ret valid until the next step or the free). */
SBX__HIDDEN size_t sbx__broker_denials(const struct sbx__broker *b,
                                       const struct sbx__broker_denial **ret);
/* What a child's result keeps of its broker: the counters and the denials
 * kept in detail, with their own copies of the strings. */
struct sbx__net_report {
    struct sbx__broker_stats st;
    size_t n_denials;
    struct {
        char host[SBX__NAME_MAX + 1];
        char address[SBX__ADDR_TEXT_MAX];
        uint16_t port;
        enum sbx__broker_reason reason;
        char rule[SBX__NAME_MAX + 16];
        uint64_t time_ns;
    } denials[SBX__DENIALS_KEPT];
};
/* A new report of the broker now (-ENOMEM). */
SBX__HIDDEN int sbx__broker_report(const struct sbx__broker *b, struct sbx__net_report **ret);

/* Close every connection and the listening socket; audit events for the
 * connections still open (reason SBX__BR_OK). NULL: no-op. */
SBX__HIDDEN void sbx__broker_free(struct sbx__broker *b);

#endif /* SBX_BROKER_H */
