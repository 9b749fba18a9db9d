/* The egress broker's policy (issue 17): sbx_allow_host() and the other
 * setters of network.h, their validation and storage, and the checks the
 * engine makes with them: name normalisation, pattern matching, address
 * classification. */
#include <arpa/inet.h>
#include <errno.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "layer.h"

/* ---- names and addresses --------------------------------------------------------- */

static bool is_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Whether a label is numeric as inet_aton(3) reads numbers: decimal, octal
 * (leading 0) or hexadecimal with 0x. Such a last label makes a "name" that
 * resolvers take for an address (127.1, 0x7f000001, 2130706433). */
static bool numeric_label(const char *s, size_t len)
{
    if (len > 2 && s[0] == '0' && s[1] == 'x') {
        for (size_t i = 2; i < len; i++)
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                return false;
        return true;
    }
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int sbx__host_normalize(const char *in, size_t len, char *out, const char **why)
{
    char *idn = NULL;
    int rc = -EINVAL;
    out[0] = '\0';
    if (len == 0) {
        *why = "empty host name";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 0x80) {
            /* Non-ASCII: its IDNA form (libidn2, IDNA 2008 with the UTS #46
             * non-transitional mapping, which also folds case). A name that
             * long is refused before libidn2 sees it. */
            if (len > 4 * (SBX__NAME_MAX + 1)) {
                *why = "host name longer than 253 bytes";
                return -EINVAL;
            }
            char tmp[4 * (SBX__NAME_MAX + 1) + 1];
            memcpy(tmp, in, len);
            tmp[len] = '\0';
            if (memchr(tmp, '\0', len)) {
                *why = "NUL byte in host name";
                return -EINVAL;
            }
            int r = idn2_to_ascii_8z(tmp, &idn, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
            if (r != IDN2_OK) {
                *why = r == IDN2_TOO_BIG_DOMAIN || r == IDN2_TOO_BIG_LABEL
                           ? "host name longer than 253 bytes or label longer than 63"
                           : "non-ASCII host name that IDNA (libidn2) refuses";
                return -EINVAL;
            }
            in = idn;
            len = strlen(idn);
            break;
        }
    }
    if (len > 1 && in[len - 1] == '.')
        len--;
    if (len > SBX__NAME_MAX) {
        *why = "host name longer than 253 bytes";
        goto out;
    }
    size_t label = 0, label_start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || in[i] == '.') {
            if (label == 0) {
                *why = "empty label in host name";
                goto out;
            }
            if (label > SBX__LABEL_MAX) {
                *why = "label longer than 63 bytes in host name";
                goto out;
            }
            if (out[label_start] == '-' || out[i - 1] == '-') {
                *why = "label starting or ending with '-' in host name";
                goto out;
            }
            if (i == len) {
                if (numeric_label(out + label_start, label)) {
                    *why = "numeric host name that is no IP address (only dotted-quad IPv4 "
                           "and IPv6 literals are addresses)";
                    goto out;
                }
                break;
            }
            out[i] = '.';
            label = 0;
            label_start = i + 1;
            continue;
        }
        unsigned char c = (unsigned char)in[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (!is_label_char(c)) {
            *why = "character not allowed in a host name (letters, digits, '-', '_', '.')";
            goto out;
        }
        out[i] = (char)c;
        label++;
    }
    out[len] = '\0';
    rc = 0;
out:
    if (idn)
        idn2_free(idn);
    if (rc < 0)
        out[0] = '\0';
    return rc;
}

bool sbx__parse_addr(const char *s, size_t len, struct in6_addr *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(buf, '\0', len))
        return false;
    struct in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        memset(out, 0, sizeof(*out));
        out->s6_addr[10] = out->s6_addr[11] = 0xff;
        memcpy(&out->s6_addr[12], &v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out) == 1;
}

void sbx__addr_text(const struct in6_addr *a, char *out)
{
    if (IN6_IS_ADDR_V4MAPPED(a))
        inet_ntop(AF_INET, &a->s6_addr[12], out, SBX__ADDR_TEXT_MAX);
    else
        inet_ntop(AF_INET6, a, out, SBX__ADDR_TEXT_MAX);
}

static enum sbx__addr_class classify_v4(const uint8_t *b)
{
    uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
#define IN_NET(net, bits) ((a >> (32 - (bits))) == ((uint32_t)(net) >> (32 - (bits))))
    if (IN_NET(0x00000000, 8))
        return SBX__ADDR_UNSPECIFIED; /* 0.0.0.0/8, "this network" */
    if (IN_NET(0x7f000000, 8))
        return SBX__ADDR_LOOPBACK;
    if (IN_NET(0xa9fe0000, 16))
        return SBX__ADDR_LINK_LOCAL; /* 169.254/16: the cloud metadata service */
    if (IN_NET(0x0a000000, 8) || IN_NET(0xac100000, 12) || IN_NET(0xc0a80000, 16) ||
        IN_NET(0x64400000, 10))
        return SBX__ADDR_PRIVATE;
    if (IN_NET(0xe0000000, 4))
        return SBX__ADDR_MULTICAST;
    if (IN_NET(0xf0000000, 4))
        return SBX__ADDR_RESERVED; /* with the broadcast address */
#undef IN_NET
    return SBX__ADDR_PUBLIC;
}

enum sbx__addr_class sbx__addr_classify(const struct in6_addr *a)
{
    const uint8_t *b = a->s6_addr;
    static const uint8_t zero[16];
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (IN6_IS_ADDR_V4MAPPED(a) || memcmp(b, nat64, 12) == 0)
        return classify_v4(b + 12);
    if (memcmp(b, zero, 12) == 0) { /* ::/96: ::, ::1, and IPv4-compatible ::a.b.c.d */
        if (memcmp(b, zero, 15) == 0 && b[15] <= 1)
            return b[15] == 0 ? SBX__ADDR_UNSPECIFIED : SBX__ADDR_LOOPBACK;
        return classify_v4(b + 12);
    }
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: 2002:a.b.c.d::/48 */
        return classify_v4(b + 2);
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return SBX__ADDR_LINK_LOCAL; /* fe80::/10 */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return SBX__ADDR_PRIVATE; /* fec0::/10, site-local (deprecated) */
    if ((b[0] & 0xfe) == 0xfc)
        return SBX__ADDR_UNIQUE_LOCAL; /* fc00::/7 */
    if (b[0] == 0xff)
        return SBX__ADDR_MULTICAST;
    if (b[0] == 0x01 && b[1] == 0x00 && memcmp(b + 2, zero, 6) == 0)
        return SBX__ADDR_RESERVED; /* 100::/64, discard */
    return SBX__ADDR_PUBLIC;
}

const char *sbx__addr_class_name(enum sbx__addr_class c)
{
    static const char *const names[] = {
        [SBX__ADDR_PUBLIC] = "public",
        [SBX__ADDR_PRIVATE] = "private",
        [SBX__ADDR_UNIQUE_LOCAL] = "unique-local",
        [SBX__ADDR_LOOPBACK] = "loopback",
        [SBX__ADDR_LINK_LOCAL] = "link-local",
        [SBX__ADDR_UNSPECIFIED] = "unspecified",
        [SBX__ADDR_MULTICAST] = "multicast",
        [SBX__ADDR_RESERVED] = "reserved",
    };
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

const char *sbx__broker_reason_name(enum sbx__broker_reason r)
{
    static const char *const names[] = {
        [SBX__BR_OK] = "ok",
        [SBX__BR_NOT_ALLOWED] = "host not allowed",
        [SBX__BR_PORT] = "port not allowed",
        [SBX__BR_DENIED] = "host denied",
        [SBX__BR_LITERAL] = "IP address not granted",
        [SBX__BR_ADDRESS] = "address refused",
        [SBX__BR_PEER] = "connected address refused",
        [SBX__BR_MALFORMED] = "malformed request",
        [SBX__BR_BAD_NAME] = "invalid host name",
        [SBX__BR_TOO_LARGE] = "request header too large",
        [SBX__BR_TIMEOUT] = "request header timeout",
        [SBX__BR_UNSUPPORTED] = "unsupported request",
        [SBX__BR_AUTH] = "no acceptable SOCKS5 authentication",
        [SBX__BR_CONCURRENT] = "concurrent connection limit",
        [SBX__BR_EVICTED] = "evicted at the connection limit",
        [SBX__BR_CONN_QUOTA] = "connection quota exhausted",
        [SBX__BR_BYTES_QUOTA] = "byte quota exhausted",
        [SBX__BR_RESOURCES] = "out of resources",
        [SBX__BR_RESOLVE] = "cannot resolve",
        [SBX__BR_CONNECT] = "cannot connect",
        [SBX__BR_CONNECT_TIMEOUT] = "connect timeout",
        [SBX__BR_BAD_RESPONSE] = "bad response from server",
    };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "?";
}

/* ---- patterns ------------------------------------------------------------------- */

static void rule_clear(struct sbx__egress_rule *r)
{
    free(r->name);
    free(r->text);
    memset(r, 0, sizeof(*r));
}

/* Parse a pattern into *r (owned strings). 0, or -EINVAL/-ENOMEM with a message. */
static int parse_pattern(const char *func, const char *pattern, struct sbx__egress_rule *r)
{
    size_t len = strlen(pattern);
    const char *host = pattern, *port = NULL;
    size_t host_len = len;
    bool bracketed = false;
    memset(r, 0, sizeof(*r));
    if (len == 0)
        return sbx__err(-EINVAL, "%s: the pattern is empty", func);
    if (len > 4 * (SBX__NAME_MAX + 1) + 8)
        return sbx__err(-EINVAL, "%s: '%.64s...': host name longer than 253 bytes", func, pattern);
    if (pattern[0] == '[') {
        const char *close = strchr(pattern, ']');
        if (!close)
            return sbx__err(-EINVAL, "%s: '%s': '[' without ']'", func, pattern);
        host = pattern + 1;
        host_len = (size_t)(close - host);
        bracketed = true;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1] != '\0')
            return sbx__err(-EINVAL, "%s: '%s': text after ']' that is not ':PORT'", func, pattern);
    } else {
        const char *colon = strchr(pattern, ':');
        if (colon && !strchr(colon + 1, ':')) { /* one colon: NAME:PORT (two or more: IPv6) */
            host_len = (size_t)(colon - pattern);
            port = colon + 1;
        }
    }
    if (port) {
        char *end;
        errno = 0;
        unsigned long p = strtoul(port, &end, 10);
        if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno || p < 1 || p > 65535)
            return sbx__err(-EINVAL, "%s: '%s': the port must be a number from 1 to 65535", func,
                            pattern);
        r->port = (uint16_t)p;
    }
    if (host_len == 0)
        return sbx__err(-EINVAL, "%s: '%s': no host", func, pattern);
    if (sbx__parse_addr(host, host_len, &r->addr)) {
        r->is_addr = true;
    } else if (bracketed) {
        return sbx__err(-EINVAL, "%s: '%s': not an IPv6 address in brackets", func, pattern);
    } else if (host_len == 1 && host[0] == '*') {
        return sbx__err(-EINVAL,
                        "%s: '%s': a bare '*' would allow every host: name hosts, or use "
                        "sbx_allow_network()",
                        func, pattern);
    } else {
        if (host_len > 2 && host[0] == '*' && host[1] == '.') {
            r->wildcard = true;
            host += 2;
            host_len -= 2;
        }
        char name[SBX__NAME_MAX + 1];
        const char *why;
        if (memchr(host, '*', host_len))
            return sbx__err(-EINVAL,
                            "%s: '%s': '*' is allowed only as a whole first label ('*.%s')", func,
                            pattern, "example.com");
        if (sbx__host_normalize(host, host_len, name, &why) < 0)
            return sbx__err(-EINVAL, "%s: '%s': %s", func, pattern, why);
        if (r->wildcard && strlen(name) + 2 > SBX__NAME_MAX)
            return sbx__err(-EINVAL, "%s: '%s': host name longer than 253 bytes", func, pattern);
        r->name = strdup(name);
        if (!r->name)
            return sbx__errno(-ENOMEM, "%s", func);
    }
    char text[SBX__NAME_MAX + 16], addr[SBX__ADDR_TEXT_MAX], portbuf[8] = "";
    if (r->port)
        snprintf(portbuf, sizeof(portbuf), ":%u", r->port);
    if (r->is_addr) {
        sbx__addr_text(&r->addr, addr);
        bool v6 = !IN6_IS_ADDR_V4MAPPED(&r->addr);
        snprintf(text, sizeof(text), v6 && r->port ? "[%s]%s" : "%s%s", addr, portbuf);
    } else {
        snprintf(text, sizeof(text), "%s%s%s", r->wildcard ? "*." : "", r->name, portbuf);
    }
    r->text = strdup(text);
    if (!r->text) {
        rule_clear(r);
        return sbx__errno(-ENOMEM, "%s", func);
    }
    return 0;
}

static int rule_copy(const struct sbx__egress_rule *from, struct sbx__egress_rule *to)
{
    *to = *from;
    to->name = from->name ? strdup(from->name) : NULL;
    to->text = strdup(from->text);
    if ((from->name && !to->name) || !to->text) {
        rule_clear(to);
        return -ENOMEM;
    }
    return 0;
}

/* ---- storage -------------------------------------------------------------------- */

int sbx__egress_new(struct sbx__egress_policy **ret)
{
    struct sbx__egress_policy *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return -ENOMEM;
    cfg->bytes_up = cfg->bytes_down = cfg->rate = cfg->conn_total = SBX_UNLIMITED;
    cfg->conn_concurrent = SBX_CONNECTIONS_MAX;
    cfg->header_timeout_ms = SBX__HEADER_TIMEOUT_MS;
    cfg->connect_timeout_ms = SBX__CONNECT_TIMEOUT_MS;
    *ret = cfg;
    return 0;
}

void sbx__egress_free(struct sbx__egress_policy *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_allow; i++)
        rule_clear(&cfg->allow[i]);
    for (size_t i = 0; i < cfg->n_deny; i++)
        rule_clear(&cfg->deny[i]);
    for (size_t i = 0; i < cfg->n_pins; i++)
        free(cfg->pins[i].name);
    free(cfg->allow);
    free(cfg->deny);
    free(cfg->pins);
    free(cfg->dns_servers);
    free(cfg);
}

int sbx__egress_copy(const struct sbx__egress_policy *from, struct sbx__egress_policy **ret)
{
    struct sbx__egress_policy *to = calloc(1, sizeof(*to));
    if (!to)
        return -ENOMEM;
    *to = *from;
    to->allow = to->deny = NULL;
    to->pins = NULL;
    to->n_allow = to->n_deny = to->n_pins = 0;
    to->dns_servers = NULL;
    if ((from->n_allow && !(to->allow = calloc(from->n_allow, sizeof(*to->allow)))) ||
        (from->n_deny && !(to->deny = calloc(from->n_deny, sizeof(*to->deny)))) ||
        (from->n_pins && !(to->pins = calloc(from->n_pins, sizeof(*to->pins)))) ||
        (from->dns_servers && !(to->dns_servers = strdup(from->dns_servers))))
        goto fail;
    for (; to->n_allow < from->n_allow; to->n_allow++)
        if (rule_copy(&from->allow[to->n_allow], &to->allow[to->n_allow]) < 0)
            goto fail;
    for (; to->n_deny < from->n_deny; to->n_deny++)
        if (rule_copy(&from->deny[to->n_deny], &to->deny[to->n_deny]) < 0)
            goto fail;
    for (; to->n_pins < from->n_pins; to->n_pins++) {
        to->pins[to->n_pins] = from->pins[to->n_pins];
        if (!(to->pins[to->n_pins].name = strdup(from->pins[to->n_pins].name)))
            goto fail;
    }
    *ret = to;
    return 0;
fail:
    sbx__egress_free(to);
    return -ENOMEM;
}

int sbx__egress_get(sbx_policy *policy, struct sbx__egress_policy **ret)
{
    if (!policy->egress) {
        int rc = sbx__egress_new(&policy->egress);
        if (rc < 0)
            return rc;
    }
    *ret = policy->egress;
    return 0;
}

void sbx__egress_policy_free(sbx_policy *policy)
{
    sbx__egress_free(policy->egress);
    policy->egress = NULL;
}

int sbx__egress_policy_dup(const sbx_policy *from, sbx_policy *to)
{
    struct sbx__egress_policy *copy = NULL;
    if (from->egress) {
        int rc = sbx__egress_copy(from->egress, &copy);
        if (rc < 0)
            return sbx__errno(rc, "sbx_policy_dup: the network grants");
    }
    sbx__egress_free(to->egress);
    to->egress = copy;
    return 0;
}

static int add_rule(sbx_policy *policy, const char *func, const char *pattern, bool deny)
{
    sbx__check(policy != NULL, "%s: policy is NULL", func);
    sbx__check(pattern != NULL, "%s: pattern is NULL", func);
    struct sbx__egress_rule r;
    int rc = parse_pattern(func, pattern, &r);
    if (rc < 0)
        return rc;
    struct sbx__egress_policy *cfg;
    if (sbx__egress_get(policy, &cfg) < 0) {
        rule_clear(&r);
        return sbx__errno(-ENOMEM, "%s", func);
    }
    struct sbx__egress_rule **rules = deny ? &cfg->deny : &cfg->allow;
    size_t *n = deny ? &cfg->n_deny : &cfg->n_allow;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*rules)[i].text, r.text) == 0) {
            rule_clear(&r);
            return 0;
        }
    struct sbx__egress_rule *grown = realloc(*rules, (*n + 1) * sizeof(**rules));
    if (!grown) {
        rule_clear(&r);
        return sbx__errno(-ENOMEM, "%s", func);
    }
    *rules = grown;
    grown[(*n)++] = r;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_allow_host(sbx_policy *policy, const char *pattern)
{
    return add_rule(policy, "sbx_allow_host", pattern, false);
}

int sbx_deny_host(sbx_policy *policy, const char *pattern)
{
    return add_rule(policy, "sbx_deny_host", pattern, true);
}

int sbx_broker_resolve(sbx_policy *policy, const char *name, const char *address)
{
    sbx__check_arg(policy);
    sbx__check_arg(name);
    sbx__check_arg(address);
    char norm[SBX__NAME_MAX + 1];
    const char *why;
    struct in6_addr addr;
    if (strchr(name, '*') || strchr(name, ':'))
        return sbx__err(-EINVAL, "sbx_broker_resolve: '%s': a host name without wildcard or port",
                        name);
    if (sbx__parse_addr(name, strlen(name), &addr))
        return sbx__err(-EINVAL, "sbx_broker_resolve: '%s' is an address, not a name", name);
    if (sbx__host_normalize(name, strlen(name), norm, &why) < 0)
        return sbx__err(-EINVAL, "sbx_broker_resolve: '%s': %s", name, why);
    if (!sbx__parse_addr(address, strlen(address), &addr))
        return sbx__err(-EINVAL,
                        "sbx_broker_resolve: '%s': the address must be a numeric IPv4 (dotted "
                        "quad) or IPv6 address",
                        address);
    struct sbx__egress_policy *cfg;
    if (sbx__egress_get(policy, &cfg) < 0)
        return sbx__errno(-ENOMEM, "sbx_broker_resolve");
    struct sbx__egress_pin *pin = NULL;
    for (size_t i = 0; i < cfg->n_pins; i++)
        if (strcmp(cfg->pins[i].name, norm) == 0)
            pin = &cfg->pins[i];
    if (!pin) {
        char *copy = strdup(norm);
        struct sbx__egress_pin *grown =
            copy ? realloc(cfg->pins, (cfg->n_pins + 1) * sizeof(*grown)) : NULL;
        if (!grown) {
            free(copy);
            return sbx__errno(-ENOMEM, "sbx_broker_resolve");
        }
        cfg->pins = grown;
        pin = &cfg->pins[cfg->n_pins++];
        memset(pin, 0, sizeof(*pin));
        pin->name = copy;
    }
    for (size_t i = 0; i < pin->n; i++)
        if (memcmp(&pin->addrs[i], &addr, sizeof(addr)) == 0)
            return 0;
    if (pin->n == SBX__PINS_MAX)
        return sbx__err(-E2BIG, "sbx_broker_resolve: '%s': more than %d addresses", norm,
                        SBX__PINS_MAX);
    pin->addrs[pin->n++] = addr;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_allow_private_network(sbx_policy *policy, int on)
{
    sbx__check_arg(policy);
    sbx__check(on == 0 || on == 1, "sbx_allow_private_network: on must be 0 or 1, got %d", on);
    struct sbx__egress_policy *cfg;
    if (sbx__egress_get(policy, &cfg) < 0)
        return sbx__errno(-ENOMEM, "sbx_allow_private_network");
    cfg->allow_private = on;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_limit_network_bytes(sbx_policy *policy, uint64_t up, uint64_t down)
{
    sbx__check_arg(policy);
    sbx__check(up > 0 && down > 0,
               "sbx_limit_network_bytes: a quota of 0 bytes (up %llu, down %llu) allows nothing: "
               "grant no host instead",
               (unsigned long long)up, (unsigned long long)down);
    struct sbx__egress_policy *cfg;
    if (sbx__egress_get(policy, &cfg) < 0)
        return sbx__errno(-ENOMEM, "sbx_limit_network_bytes");
    cfg->bytes_up = up;
    cfg->bytes_down = down;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_limit_network_rate(sbx_policy *policy, uint64_t bytes_per_s)
{
    sbx__check_arg(policy);
    sbx__check(bytes_per_s == SBX_UNLIMITED || (bytes_per_s >= 1024 && bytes_per_s <= (1ull << 40)),
               "sbx_limit_network_rate: %llu bytes/s is out of range (1024 to 2^40, or "
               "SBX_UNLIMITED)",
               (unsigned long long)bytes_per_s);
    struct sbx__egress_policy *cfg;
    if (sbx__egress_get(policy, &cfg) < 0)
        return sbx__errno(-ENOMEM, "sbx_limit_network_rate");
    cfg->rate = bytes_per_s;
    sbx__policy_changed(policy);
    return 0;
}

int sbx_limit_connections(sbx_policy *policy, uint64_t total, uint64_t concurrent)
{
    sbx__check_arg(policy);
    sbx__check(total > 0, "sbx_limit_connections: a total of 0 connections allows nothing: "
                          "grant no host instead");
    sbx__check(concurrent == SBX_UNLIMITED ||
                   (concurrent >= 1 && concurrent <= SBX_CONNECTIONS_MAX),
               "sbx_limit_connections: concurrent %llu is out of range (1 to %d, or "
               "SBX_UNLIMITED)",
               (unsigned long long)concurrent, SBX_CONNECTIONS_MAX);
    struct sbx__egress_policy *cfg;
    if (sbx__egress_get(policy, &cfg) < 0)
        return sbx__errno(-ENOMEM, "sbx_limit_connections");
    cfg->conn_total = total;
    cfg->conn_concurrent = concurrent == SBX_UNLIMITED ? SBX_CONNECTIONS_MAX : concurrent;
    sbx__policy_changed(policy);
    return 0;
}

/* ---- checks --------------------------------------------------------------------- */

/* Whether a rule names this host (port aside). */
static bool rule_names(const struct sbx__egress_rule *r, const char *name, bool is_addr,
                       const struct in6_addr *addr)
{
    if (r->is_addr != is_addr)
        return false;
    if (is_addr)
        return memcmp(&r->addr, addr, sizeof(*addr)) == 0;
    if (!r->wildcard)
        return strcmp(r->name, name) == 0;
    size_t n = strlen(name), s = strlen(r->name);
    return n > s + 1 && name[n - s - 1] == '.' && strcmp(name + n - s, r->name) == 0;
}

enum sbx__broker_reason sbx__egress_check(const struct sbx__egress_policy *cfg, const char *name,
                                          bool is_addr, const struct in6_addr *addr, uint16_t port,
                                          const struct sbx__egress_rule **rule)
{
    *rule = NULL;
    for (size_t i = 0; i < cfg->n_deny; i++) {
        const struct sbx__egress_rule *r = &cfg->deny[i];
        if (rule_names(r, name, is_addr, addr) && (r->port == 0 || r->port == port)) {
            *rule = r;
            return SBX__BR_DENIED;
        }
    }
    bool named = false;
    for (size_t i = 0; i < cfg->n_allow; i++) {
        const struct sbx__egress_rule *r = &cfg->allow[i];
        if (!rule_names(r, name, is_addr, addr))
            continue;
        named = true;
        if (r->port == port || (r->port == 0 && (port == 80 || port == 443))) {
            *rule = r;
            return SBX__BR_OK;
        }
    }
    if (named)
        return SBX__BR_PORT;
    return is_addr ? SBX__BR_LITERAL : SBX__BR_NOT_ALLOWED;
}

enum sbx__broker_reason sbx__egress_check_addr(const struct sbx__egress_policy *cfg,
                                               const struct in6_addr *a, bool trusted,
                                               uint16_t port, const struct sbx__egress_rule **rule,
                                               enum sbx__addr_class *cls)
{
    *rule = NULL;
    *cls = sbx__addr_classify(a);
    for (size_t i = 0; i < cfg->n_deny; i++) {
        const struct sbx__egress_rule *r = &cfg->deny[i];
        if (r->is_addr && memcmp(&r->addr, a, sizeof(*a)) == 0 &&
            (r->port == 0 || r->port == port)) {
            *rule = r;
            return SBX__BR_DENIED;
        }
    }
    if (trusted || *cls == SBX__ADDR_PUBLIC)
        return SBX__BR_OK;
    if ((*cls == SBX__ADDR_PRIVATE || *cls == SBX__ADDR_UNIQUE_LOCAL) && cfg->allow_private)
        return SBX__BR_OK;
    return SBX__BR_ADDRESS;
}

const struct sbx__egress_pin *sbx__egress_pin_find(const struct sbx__egress_policy *cfg,
                                                   const char *name)
{
    for (size_t i = 0; i < cfg->n_pins; i++)
        if (strcmp(cfg->pins[i].name, name) == 0)
            return &cfg->pins[i];
    return NULL;
}

/* ---- the layer: a broker per child ---------------------------------------------------- */

#define LL_NET_CONNECT_TCP (1ull << 1)

bool sbx__egress_has_grants(const struct sbx__egress_policy *cfg)
{
    return cfg && cfg->n_allow > 0;
}

static int egress_compile(const sbx_policy *policy, struct sbx__plan *plan)
{
    if (!sbx__egress_has_grants(policy->egress))
        return 0;
    if (!policy->allow_network && !(plan->landlock && plan->landlock->handled_net))
        return sbx__err_stage(SBX_STAGE_COMPILE, -EOPNOTSUPP,
                              "egress broker: host grants need Landlock's TCP rules (ABI 4 or "
                              "later) to keep the child's connections to the broker");
    int rc = sbx__egress_copy(policy->egress, &plan->egress);
    if (rc < 0)
        return sbx__err_stage(SBX_STAGE_COMPILE, rc, "egress broker: the grants");
    return 0;
}

static void egress_plan_free(struct sbx__plan *plan)
{
    sbx__egress_free(plan->egress);
    plan->egress = NULL;
}

/* A listening socket on 127.0.0.1, an ephemeral port, and the broker on it;
 * the child's Landlock ruleset lets it connect to that port. */
static int egress_prepare(struct sbx__spawn *s)
{
    const struct sbx__plan *plan = s->plan;
    if (!plan->egress)
        return 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return sbx__err_stage(SBX_STAGE_CLONE, -errno, "egress broker: socket");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    /* A backlog of the concurrent cap: a burst of connections waits in the
     * kernel's queue for the next step, rather than its SYNs being dropped
     * (a second each, the client's retransmission). */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, SBX_CONNECTIONS_MAX) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        int e = -errno;
        close(fd);
        return sbx__err_stage(SBX_STAGE_CLONE, e, "egress broker: listening on 127.0.0.1");
    }
    uint16_t port = ntohs(sa.sin_port);
    if (s->ruleset >= 0 && plan->landlock && plan->landlock->handled_net &&
        sbx__landlock_add_port(s->ruleset, port, LL_NET_CONNECT_TCP) < 0) {
        int e = -errno;
        close(fd);
        return sbx__err_stage(SBX_STAGE_LANDLOCK, e, "egress broker: landlock_add_rule(port %u)",
                              port);
    }
    int rc = sbx__broker_new(plan->egress, fd, &s->broker);
    if (rc < 0) {
        close(fd);
        return sbx__err_stage(SBX_STAGE_CLONE, rc, "egress broker: %s", sbx_last_error());
    }
    s->proxy_port = port;
    /* In a network namespace the child makes the listening socket inside it,
     * at this port, and sends it over this pair (namespace.c); the broker then
     * accepts there and connects out from the host's namespace. */
    if (plan->ns && (plan->ns->set & SBX_NS_NET) &&
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->egress_sock) < 0) {
        rc = -errno;
        sbx__broker_free(s->broker);
        s->broker = NULL;
        return sbx__err_stage(SBX_STAGE_CLONE, rc, "egress broker: socketpair");
    }
    return 0;
}

static void close_pair(struct sbx__spawn *s)
{
    for (int i = 0; i < 2; i++)
        if (s->egress_sock[i] >= 0) {
            close(s->egress_sock[i]);
            s->egress_sock[i] = -1;
        }
}

static void egress_launched(struct sbx__spawn *s)
{
    if (s->egress_sock[1] >= 0) {
        close(s->egress_sock[1]);
        s->egress_sock[1] = -1;
    }
}

/* Each connection's end goes to the child's hook (the audit log's, which
 * the output layer sets), when there is one. */
static void egress_audit(const struct sbx__broker_event *ev, void *userdata)
{
    sbx_child *child = userdata;
    if (child->net_hook)
        child->net_hook(child, ev);
}

static int egress_adopt(struct sbx__spawn *s)
{
    if (s->egress_sock[0] >= 0) {
        /* Sent before the child went on: its namespace's listening socket. */
        int fd = sbx__recv_fd(s->egress_sock[0]);
        close_pair(s);
        int rc = fd < 0 ? fd : sbx__broker_replace_listen(s->broker, fd);
        if (rc < 0) {
            if (fd >= 0)
                close(fd);
            return sbx__err_stage(SBX_STAGE_NAMESPACES, rc,
                                  "egress broker: the listening socket of the child's network "
                                  "namespace");
        }
    }
    s->child->broker = s->broker;
    s->broker = NULL;
    if (s->child->broker)
        sbx__broker_set_audit(s->child->broker, egress_audit, s->child);
    return 0;
}

static void egress_abort(struct sbx__spawn *s)
{
    close_pair(s);
    sbx__broker_free(s->broker);
    s->broker = NULL;
}

/* The child was reaped: its report for the result, and the broker closed. */
static void egress_finish(sbx_child *child)
{
    if (!child->broker)
        return;
    sbx__net_report_free(child->net);
    child->net = NULL;
    if (sbx__broker_report(child->broker, &child->net) < 0)
        child->net = NULL; /* the result says nothing of the network, rather than fail */
    sbx__broker_free(child->broker);
    child->broker = NULL;
}

const struct sbx__layer sbx__layer_egress = {
    .name = "egress",
    .policy_free = sbx__egress_policy_free,
    .policy_dup = sbx__egress_policy_dup,
    .compile = egress_compile,
    .plan_free = egress_plan_free,
    .prepare = egress_prepare,
    .launched = egress_launched,
    .adopt = egress_adopt,
    .abort = egress_abort,
    .finish = egress_finish,
};

bool sbx__egress_child_step(sbx_child *child)
{
    if (!child->broker)
        return false;
    (void)sbx__broker_step(child->broker); /* an epoll failure: the next step tries again */
    struct sbx__broker_stats st;
    sbx__broker_stats(child->broker, &st);
    return st.quota_hit != SBX__QUOTA_NONE;
}

int64_t sbx__egress_child_timeout_ms(const sbx_child *child)
{
    return child->broker ? sbx__broker_timeout_ms(child->broker) : -1;
}

int sbx__egress_child_fd(const sbx_child *child)
{
    return child->broker ? sbx__broker_fd(child->broker) : -1;
}

void sbx__net_report_free(struct sbx__net_report *r)
{
    free(r);
}

/* ---- the result --------------------------------------------------------------------------- */

int sbx__net_report_json(const sbx_result *res, char *buf, size_t size)
{
    const struct sbx__net_report *r = res->net;
    size_t off = 0;
    if (!r)
        return 0;
    sbx__json_append(buf, size, &off,
                     ",\"network\":{\"bytes_up\":%llu,\"bytes_down\":%llu,\"connections\":%llu,"
                     "\"failed\":%llu,\"quota_hit\":\"%s\",\"denied_count\":%llu,\"denied\":[",
                     (unsigned long long)r->st.bytes_up, (unsigned long long)r->st.bytes_down,
                     (unsigned long long)r->st.connections, (unsigned long long)r->st.failed,
                     r->st.quota_hit == SBX__QUOTA_NONE ? ""
                                                        : sbx__broker_quota_name(r->st.quota_hit),
                     (unsigned long long)r->st.denied);
    for (size_t i = 0; i < r->n_denials; i++) {
        sbx__json_append(buf, size, &off, "%s{\"host\":", i ? "," : "");
        sbx__json_append_string(buf, size, &off, r->denials[i].host);
        sbx__json_append(
            buf, size, &off,
            ",\"port\":%u,\"address\":\"%s\",\"reason\":\"%s\",\"rule\":", r->denials[i].port,
            r->denials[i].address, sbx__broker_reason_name(r->denials[i].reason));
        sbx__json_append_string(buf, size, &off, r->denials[i].rule);
        sbx__json_append(buf, size, &off, ",\"time_ms\":%.3f}",
                         (double)r->denials[i].time_ns / 1e6);
    }
    sbx__json_append(buf, size, &off, "]}");
    return (int)off;
}

int sbx_result_network_bytes(const sbx_result *result, uint64_t *ret_up, uint64_t *ret_down)
{
    sbx__check_arg(result);
    sbx__check_arg(ret_up);
    sbx__check_arg(ret_down);
    *ret_up = result->net ? result->net->st.bytes_up : 0;
    *ret_down = result->net ? result->net->st.bytes_down : 0;
    return 0;
}

uint64_t sbx_result_network_connections(const sbx_result *result)
{
    return result && result->net ? result->net->st.connections : 0;
}

uint64_t sbx_result_network_denied(const sbx_result *result)
{
    return result && result->net ? result->net->st.denied : 0;
}

const char *sbx_result_network_quota(const sbx_result *result)
{
    if (!result || !result->net || result->net->st.quota_hit == SBX__QUOTA_NONE)
        return "";
    return sbx__broker_quota_name(result->net->st.quota_hit);
}

size_t sbx_result_network_denials(const sbx_result *result)
{
    return result && result->net ? result->net->n_denials : 0;
}

int sbx_result_network_denial(const sbx_result *result, size_t index, const char **ret_host,
                              int *ret_port, const char **ret_reason)
{
    sbx__check_arg(result);
    sbx__check_arg(ret_host);
    sbx__check_arg(ret_port);
    sbx__check_arg(ret_reason);
    size_t n = sbx_result_network_denials(result);
    if (index >= n)
        return sbx__err(-ERANGE, "%s: index %zu, but %zu denied attempts are kept", __func__, index,
                        n);
    *ret_host = result->net->denials[index].host;
    *ret_port = result->net->denials[index].port;
    *ret_reason = sbx__broker_reason_name(result->net->denials[index].reason);
    return 0;
}
