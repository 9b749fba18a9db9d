/* Unit tests of the egress broker's policy (issue 17): the setters of
 * network.h with good and bad input, name normalisation, pattern matching
 * (wildcards, ports, denials win) and address classification (lib/egress.c,
 * internal, reached through the static library). */
#include <arpa/inet.h>
#include <errno.h>

#include <agentsbx/agentsbx.h>

#include "broker.h"
#include "testutil.h"

static sbx_policy *policy_new(void)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    return p;
}

/* A string of `len` copies of `c` (static buffer). */
static const char *repeat(char c, size_t len)
{
    static char buf[2048];
    assert_true(len < sizeof(buf));
    memset(buf, c, len);
    buf[len] = '\0';
    return buf;
}

/* `full` labels of 63 bytes and one of `last` bytes, joined by dots. */
static void long_name(char *out, int full, size_t last)
{
    out[0] = '\0';
    for (int i = 0; i < full; i++) {
        strcat(out, repeat((char)('a' + i), 63));
        strcat(out, ".");
    }
    strcat(out, repeat('z', last));
}

static struct in6_addr addr(const char *text)
{
    struct in6_addr a;
    if (!sbx__parse_addr(text, strlen(text), &a))
        fail_msg("'%s' is not an address", text);
    return a;
}

/* ---- the setters ------------------------------------------------------------------ */

static void test_broker_policy__allow_host_good(void **state)
{
    sbx_policy *p = policy_new();
    assert_null(p->egress);
    assert_sbx_ok(sbx_allow_host(p, "PyPI.org."));
    assert_sbx_ok(sbx_allow_host(p, "*.githubusercontent.com"));
    assert_sbx_ok(sbx_allow_host(p, "api.example.com:8443"));
    assert_sbx_ok(sbx_allow_host(p, "10.0.0.5"));
    assert_sbx_ok(sbx_allow_host(p, "[2001:db8::5]:443"));
    assert_sbx_ok(sbx_allow_host(p, "2001:DB8::6"));
    assert_sbx_ok(sbx_allow_host(p, "bücher.example"));
    assert_sbx_ok(sbx_allow_host(p, "xn--bcher-kva.example")); /* the same, given as punycode */
    assert_sbx_ok(sbx_allow_host(p, "pypi.org"));              /* again: not an error */
    assert_non_null(p->egress);
    const struct sbx__egress_policy *e = p->egress;
    assert_int_equal(e->n_allow, 7);
    assert_string_equal(e->allow[0].text, "pypi.org");
    assert_string_equal(e->allow[1].text, "*.githubusercontent.com");
    assert_true(e->allow[1].wildcard);
    assert_string_equal(e->allow[1].name, "githubusercontent.com");
    assert_string_equal(e->allow[2].text, "api.example.com:8443");
    assert_int_equal(e->allow[2].port, 8443);
    assert_string_equal(e->allow[3].text, "10.0.0.5");
    assert_true(e->allow[3].is_addr);
    assert_string_equal(e->allow[4].text, "[2001:db8::5]:443");
    assert_string_equal(e->allow[5].text, "2001:db8::6");
    assert_string_equal(e->allow[6].text, "xn--bcher-kva.example");
    sbx_policy_free(p);
}

static void test_broker_policy__allow_host_bad(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_error(sbx_allow_host(NULL, "pypi.org"), -EINVAL, "sbx_allow_host: policy is NULL");
    assert_sbx_error(sbx_allow_host(p, NULL), -EINVAL, "sbx_allow_host: pattern is NULL");
    assert_sbx_error(sbx_allow_host(p, ""), -EINVAL, "sbx_allow_host: the pattern is empty");
    assert_sbx_error(sbx_allow_host(p, "*"), -EINVAL, "'*': a bare '*' would allow every host");
    assert_sbx_error(sbx_allow_host(p, "*:443"), -EINVAL, "a bare '*'");
    assert_sbx_error(sbx_allow_host(p, "foo*.example.com"), -EINVAL,
                     "'*' is allowed only as a whole first label");
    assert_sbx_error(sbx_allow_host(p, "a.*.example.com"), -EINVAL, "only as a whole first label");
    assert_sbx_error(sbx_allow_host(p, "*.10.0.0.5"), -EINVAL, "numeric host name");
    assert_sbx_error(sbx_allow_host(p, "pypi.org:0"), -EINVAL,
                     "'pypi.org:0': the port must be a number from 1 to 65535");
    assert_sbx_error(sbx_allow_host(p, "pypi.org:65536"), -EINVAL, "from 1 to 65535");
    assert_sbx_error(sbx_allow_host(p, "pypi.org:-1"), -EINVAL, "from 1 to 65535");
    assert_sbx_error(sbx_allow_host(p, "pypi.org:"), -EINVAL, "from 1 to 65535");
    assert_sbx_error(sbx_allow_host(p, "pypi.org:44x"), -EINVAL, "from 1 to 65535");
    assert_sbx_error(sbx_allow_host(p, ":443"), -EINVAL, "':443': no host");
    assert_sbx_error(sbx_allow_host(p, "[pypi.org]:443"), -EINVAL, "not an IPv6 address");
    assert_sbx_error(sbx_allow_host(p, "[::1"), -EINVAL, "'[' without ']'");
    assert_sbx_error(sbx_allow_host(p, "[::1]x"), -EINVAL, "text after ']'");
    assert_sbx_error(sbx_allow_host(p, "a..b"), -EINVAL, "'a..b': empty label");
    assert_sbx_error(sbx_allow_host(p, "."), -EINVAL, "empty label");
    assert_sbx_error(sbx_allow_host(p, "-a.example"), -EINVAL, "starting or ending with '-'");
    assert_sbx_error(sbx_allow_host(p, "a-.example"), -EINVAL, "starting or ending with '-'");
    assert_sbx_error(sbx_allow_host(p, "a b.example"), -EINVAL, "character not allowed");
    assert_sbx_error(sbx_allow_host(p, "a/b"), -EINVAL, "character not allowed");
    assert_sbx_error(sbx_allow_host(p, "127.1"), -EINVAL, "'127.1': numeric host name");
    assert_sbx_error(sbx_allow_host(p, "0x7f000001"), -EINVAL, "numeric host name");
    assert_sbx_error(sbx_allow_host(p, "2130706433"), -EINVAL, "numeric host name");
    assert_sbx_error(sbx_allow_host(p, "1.2.3.4.5"), -EINVAL, "numeric host name");
    char name[2100];
    snprintf(name, sizeof(name), "%s.example", repeat('a', 64));
    assert_sbx_error(sbx_allow_host(p, name), -EINVAL, "label longer than 63 bytes");
    /* 4 labels of 63 and the dots: 255 bytes */
    long_name(name, 3, 63);
    assert_int_equal(strlen(name), 255);
    assert_sbx_error(sbx_allow_host(p, name), -EINVAL, "longer than 253 bytes");
    assert_sbx_error(sbx_allow_host(p, repeat('a', 2000)), -EINVAL, "longer than 253 bytes");
    assert_sbx_error(sbx_allow_host(p, "\xff\xfe.example"), -EINVAL, "IDNA (libidn2) refuses");
    /* Nothing of the refused calls was stored. */
    assert_null(p->egress);
    sbx_policy_free(p);
}

static void test_broker_policy__name_of_253_bytes(void **state)
{
    sbx_policy *p = policy_new();
    char name[300];
    /* 3 labels of 63, one of 61, three dots: 253 bytes (254 with a trailing dot). */
    long_name(name, 3, 61);
    strcat(name, ".");
    assert_int_equal(strlen(name), 254);
    assert_sbx_ok(sbx_allow_host(p, name));
    assert_int_equal(strlen(p->egress->allow[0].name), 253);
    sbx_policy_free(p);
}

static void test_broker_policy__deny_host(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_deny_host(p, "internal.example.com"));
    assert_sbx_ok(sbx_deny_host(p, "169.254.169.254"));
    assert_int_equal(p->egress->n_deny, 2);
    assert_int_equal(p->egress->n_allow, 0);
    assert_sbx_error(sbx_deny_host(NULL, "x.example"), -EINVAL, "sbx_deny_host: policy is NULL");
    assert_sbx_error(sbx_deny_host(p, NULL), -EINVAL, "sbx_deny_host: pattern is NULL");
    assert_sbx_error(sbx_deny_host(p, "*"), -EINVAL, "sbx_deny_host: '*'");
    assert_sbx_error(sbx_deny_host(p, "x.example:99999"), -EINVAL,
                     "sbx_deny_host: 'x.example:99999'");
    sbx_policy_free(p);
}

static void test_broker_policy__resolve(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_broker_resolve(p, "Files.Example.", "127.0.0.1"));
    assert_sbx_ok(sbx_broker_resolve(p, "files.example", "::1"));
    assert_sbx_ok(sbx_broker_resolve(p, "files.example", "127.0.0.1")); /* again: no error */
    const struct sbx__egress_pin *pin = sbx__egress_pin_find(p->egress, "files.example");
    assert_non_null(pin);
    assert_int_equal(pin->n, 2);
    struct in6_addr lo4 = addr("127.0.0.1"), lo6 = addr("::1");
    assert_memory_equal(&pin->addrs[0], &lo4, sizeof(lo4));
    assert_memory_equal(&pin->addrs[1], &lo6, sizeof(lo6));
    assert_null(sbx__egress_pin_find(p->egress, "other.example"));

    assert_sbx_error(sbx_broker_resolve(NULL, "a.example", "127.0.0.1"), -EINVAL,
                     "sbx_broker_resolve: policy is NULL");
    assert_sbx_error(sbx_broker_resolve(p, NULL, "127.0.0.1"), -EINVAL, "name is NULL");
    assert_sbx_error(sbx_broker_resolve(p, "a.example", NULL), -EINVAL, "address is NULL");
    assert_sbx_error(sbx_broker_resolve(p, "a.example", "localhost"), -EINVAL,
                     "'localhost': the address must be a numeric IPv4");
    assert_sbx_error(sbx_broker_resolve(p, "a.example", "127.1"), -EINVAL, "'127.1'");
    assert_sbx_error(sbx_broker_resolve(p, "a.example", "[::1]"), -EINVAL, "'[::1]'");
    assert_sbx_error(sbx_broker_resolve(p, "*.example", "127.0.0.1"), -EINVAL,
                     "without wildcard or port");
    assert_sbx_error(sbx_broker_resolve(p, "a.example:80", "127.0.0.1"), -EINVAL,
                     "without wildcard or port");
    assert_sbx_error(sbx_broker_resolve(p, "10.0.0.1", "127.0.0.1"), -EINVAL,
                     "'10.0.0.1' is an address, not a name");
    assert_sbx_error(sbx_broker_resolve(p, "a..example", "127.0.0.1"), -EINVAL, "empty label");
    for (int i = 2; i < SBX__PINS_MAX; i++) {
        char a[32];
        snprintf(a, sizeof(a), "127.0.0.%d", i);
        assert_sbx_ok(sbx_broker_resolve(p, "files.example", a));
    }
    assert_sbx_error(sbx_broker_resolve(p, "files.example", "127.0.0.200"), -E2BIG,
                     "more than 16 addresses");
    sbx_policy_free(p);
}

static void test_broker_policy__private_and_limits(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_private_network(p, 1));
    assert_true(p->egress->allow_private);
    assert_sbx_ok(sbx_allow_private_network(p, 0));
    assert_false(p->egress->allow_private);
    assert_sbx_error(sbx_allow_private_network(NULL, 1), -EINVAL,
                     "sbx_allow_private_network: policy is NULL");
    assert_sbx_error(sbx_allow_private_network(p, 2), -EINVAL, "on must be 0 or 1, got 2");

    assert_sbx_ok(sbx_limit_network_bytes(p, 1000, SBX_UNLIMITED));
    assert_int_equal(p->egress->bytes_up, 1000);
    assert_true(p->egress->bytes_down == SBX_UNLIMITED);
    assert_sbx_error(sbx_limit_network_bytes(NULL, 1, 1), -EINVAL,
                     "sbx_limit_network_bytes: policy is NULL");
    assert_sbx_error(sbx_limit_network_bytes(p, 0, 5), -EINVAL,
                     "a quota of 0 bytes (up 0, down 5)");
    assert_sbx_error(sbx_limit_network_bytes(p, 5, 0), -EINVAL, "(up 5, down 0)");

    assert_sbx_ok(sbx_limit_network_rate(p, 1024));
    assert_int_equal(p->egress->rate, 1024);
    assert_sbx_ok(sbx_limit_network_rate(p, SBX_UNLIMITED));
    assert_sbx_error(sbx_limit_network_rate(NULL, 4096), -EINVAL,
                     "sbx_limit_network_rate: policy is NULL");
    assert_sbx_error(sbx_limit_network_rate(p, 1023), -EINVAL, "1023 bytes/s is out of range");
    assert_sbx_error(sbx_limit_network_rate(p, (1ull << 40) + 1), -EINVAL, "is out of range");

    assert_sbx_ok(sbx_limit_connections(p, 10, 3));
    assert_int_equal(p->egress->conn_total, 10);
    assert_int_equal(p->egress->conn_concurrent, 3);
    assert_sbx_ok(sbx_limit_connections(p, SBX_UNLIMITED, SBX_UNLIMITED));
    assert_int_equal(p->egress->conn_concurrent, SBX_CONNECTIONS_MAX);
    assert_sbx_error(sbx_limit_connections(NULL, 1, 1), -EINVAL,
                     "sbx_limit_connections: policy is NULL");
    assert_sbx_error(sbx_limit_connections(p, 0, 1), -EINVAL, "a total of 0 connections");
    assert_sbx_error(sbx_limit_connections(p, 5, 0), -EINVAL, "concurrent 0 is out of range");
    assert_sbx_error(sbx_limit_connections(p, 5, SBX_CONNECTIONS_MAX + 1), -EINVAL,
                     "concurrent 1025 is out of range (1 to 1024");
    sbx_policy_free(p);
}

static void test_broker_policy__dup_copies_everything(void **state)
{
    sbx_policy *p = policy_new(), *q = policy_new();
    assert_sbx_ok(sbx__egress_policy_dup(p, q)); /* nothing to copy */
    assert_null(q->egress);
    assert_sbx_ok(sbx_allow_host(p, "*.example.com:443"));
    assert_sbx_ok(sbx_deny_host(p, "bad.example.com"));
    assert_sbx_ok(sbx_broker_resolve(p, "a.example.com", "192.0.2.1"));
    assert_sbx_ok(sbx_limit_connections(p, 7, 2));
    assert_sbx_ok(sbx__egress_policy_dup(p, q));
    sbx_policy_free(p); /* the copy owns its strings */
    assert_non_null(q->egress);
    assert_int_equal(q->egress->n_allow, 1);
    assert_string_equal(q->egress->allow[0].text, "*.example.com:443");
    assert_string_equal(q->egress->deny[0].name, "bad.example.com");
    assert_non_null(sbx__egress_pin_find(q->egress, "a.example.com"));
    assert_int_equal(q->egress->conn_total, 7);
    assert_int_equal(q->egress->conn_concurrent, 2);
    sbx_policy_free(q);
}

/* ---- normalisation ----------------------------------------------------------------- */

static void test_broker_policy__normalize(void **state)
{
    static const struct {
        const char *in, *out;
    } good[] = {
        {"PyPI.ORG", "pypi.org"},
        {"pypi.org.", "pypi.org"},
        {"a_b.example", "a_b.example"},
        {"localhost", "localhost"},
        {"BÜCHER.example", "xn--bcher-kva.example"},
        {"xn--bcher-kva.example", "xn--bcher-kva.example"},
        {"faß.de", "xn--fa-hia.de"}, /* non-transitional: ß stays */
        {"a.0x", "a.0x"},            /* "0x" alone is no number */
        {"a.1x", "a.1x"},
        {"deadbeef", "deadbeef"},
    };
    char out[SBX__NAME_MAX + 1];
    const char *why = NULL;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int rc = sbx__host_normalize(good[i].in, strlen(good[i].in), out, &why);
        if (rc != 0)
            fail_msg("'%s': %d (%s)", good[i].in, rc, why);
        assert_string_equal(out, good[i].out);
    }
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"", "empty host name"},
        {"..", "empty label"},
        {"a..", "empty label"},
        {".a", "empty label"},
        {"a.-b", "'-'"},
        {"a\tb", "character not allowed"},
        {"a:b", "character not allowed"},
        {"10.0.0.1", "numeric host name"},
        {"0x0a.0", "numeric host name"},
        {"a.0xff", "numeric host name"},
        {"a.017", "numeric host name"},
        {"\xc3", "IDNA"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = sbx__host_normalize(bad[i].in, strlen(bad[i].in), out, &why);
        if (rc != -EINVAL || !strstr(why, bad[i].why))
            fail_msg("'%s': %d (%s), expected -EINVAL (%s)", bad[i].in, rc, rc ? why : out,
                     bad[i].why);
        assert_string_equal(out, "");
    }
    /* A NUL inside the span is refused, not truncated at. */
    assert_int_equal(sbx__host_normalize("a\0b", 3, out, &why), -EINVAL);
    assert_int_equal(sbx__host_normalize("\xc3\xbc\0b", 4, out, &why), -EINVAL);
}

static void test_broker_policy__parse_addr(void **state)
{
    struct in6_addr a;
    char text[SBX__ADDR_TEXT_MAX];
    assert_true(sbx__parse_addr("10.0.0.5", 8, &a));
    sbx__addr_text(&a, text);
    assert_string_equal(text, "10.0.0.5");
    assert_true(sbx__parse_addr("::ffff:10.0.0.5", 15, &a));
    sbx__addr_text(&a, text);
    assert_string_equal(text, "10.0.0.5");
    assert_true(sbx__parse_addr("2001:DB8::1", 11, &a));
    sbx__addr_text(&a, text);
    assert_string_equal(text, "2001:db8::1");
    assert_false(sbx__parse_addr("127.1", 5, &a));
    assert_false(sbx__parse_addr("0x7f.0.0.1", 10, &a));
    assert_false(sbx__parse_addr("fe80::1%eth0", 12, &a));
    assert_false(sbx__parse_addr("", 0, &a));
    assert_false(sbx__parse_addr("1.2.3.4\0", 8, &a));
}

/* ---- matching ---------------------------------------------------------------------- */

static enum sbx__broker_reason check(const struct sbx__egress_policy *e, const char *host,
                                     uint16_t port, const char **rule)
{
    struct in6_addr a;
    bool is_addr = sbx__parse_addr(host, strlen(host), &a);
    const struct sbx__egress_rule *r = NULL;
    enum sbx__broker_reason why = sbx__egress_check(e, host, is_addr, &a, port, &r);
    *rule = r ? r->text : "";
    return why;
}

static void test_broker_policy__match(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_allow_host(p, "pypi.org"));
    assert_sbx_ok(sbx_allow_host(p, "*.githubusercontent.com"));
    assert_sbx_ok(sbx_allow_host(p, "api.example.com:8443"));
    assert_sbx_ok(sbx_allow_host(p, "*.example.com"));
    assert_sbx_ok(sbx_deny_host(p, "internal.example.com"));
    assert_sbx_ok(sbx_deny_host(p, "*.corp.example.com:443"));
    assert_sbx_ok(sbx_allow_host(p, "10.0.0.5"));
    assert_sbx_ok(sbx_allow_host(p, "[2001:db8::5]:8080"));
    const struct sbx__egress_policy *e = p->egress;
    const char *rule;
    static const struct {
        const char *host;
        uint16_t port;
        enum sbx__broker_reason why;
        const char *rule;
    } cases[] = {
        {"pypi.org", 443, SBX__BR_OK, "pypi.org"},
        {"pypi.org", 80, SBX__BR_OK, "pypi.org"},
        {"pypi.org", 22, SBX__BR_PORT, ""},
        {"files.pypi.org", 443, SBX__BR_NOT_ALLOWED, ""}, /* no wildcard granted */
        {"raw.githubusercontent.com", 443, SBX__BR_OK, "*.githubusercontent.com"},
        {"a.b.githubusercontent.com", 443, SBX__BR_OK, "*.githubusercontent.com"},
        {"githubusercontent.com", 443, SBX__BR_NOT_ALLOWED, ""}, /* never the bare domain */
        {"xgithubusercontent.com", 443, SBX__BR_NOT_ALLOWED, ""},
        {"api.example.com", 8443, SBX__BR_OK, "api.example.com:8443"},
        {"api.example.com", 443, SBX__BR_OK, "*.example.com"},
        {"api.example.com", 8080, SBX__BR_PORT, ""},
        {"internal.example.com", 443, SBX__BR_DENIED, "internal.example.com"},
        {"internal.example.com", 8080, SBX__BR_DENIED, "internal.example.com"},
        {"x.corp.example.com", 443, SBX__BR_DENIED, "*.corp.example.com:443"},
        {"x.corp.example.com", 80, SBX__BR_OK, "*.example.com"}, /* the denial names port 443 */
        {"10.0.0.5", 443, SBX__BR_OK, "10.0.0.5"},
        {"::ffff:10.0.0.5", 80, SBX__BR_OK, "10.0.0.5"},
        {"10.0.0.6", 443, SBX__BR_LITERAL, ""},
        {"169.254.169.254", 80, SBX__BR_LITERAL, ""},
        {"2001:db8::5", 8080, SBX__BR_OK, "[2001:db8::5]:8080"},
        {"2001:db8::5", 443, SBX__BR_PORT, ""},
        {"example.org", 443, SBX__BR_NOT_ALLOWED, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum sbx__broker_reason why = check(e, cases[i].host, cases[i].port, &rule);
        if (why != cases[i].why || strcmp(rule, cases[i].rule) != 0)
            fail_msg("%s:%u: %s (%s), expected %s (%s)", cases[i].host, cases[i].port,
                     sbx__broker_reason_name(why), rule, sbx__broker_reason_name(cases[i].why),
                     cases[i].rule);
    }
    sbx_policy_free(p);
}

/* ---- addresses --------------------------------------------------------------------- */

static void test_broker_policy__classify(void **state)
{
    static const struct {
        const char *a;
        enum sbx__addr_class c;
    } cases[] = {
        {"0.0.0.0", SBX__ADDR_UNSPECIFIED},
        {"0.1.2.3", SBX__ADDR_UNSPECIFIED},
        {"127.0.0.1", SBX__ADDR_LOOPBACK},
        {"127.255.255.254", SBX__ADDR_LOOPBACK},
        {"10.0.0.1", SBX__ADDR_PRIVATE},
        {"10.255.255.255", SBX__ADDR_PRIVATE},
        {"172.15.255.255", SBX__ADDR_PUBLIC},
        {"172.16.0.0", SBX__ADDR_PRIVATE},
        {"172.31.255.255", SBX__ADDR_PRIVATE},
        {"172.32.0.0", SBX__ADDR_PUBLIC},
        {"192.168.1.1", SBX__ADDR_PRIVATE},
        {"192.169.0.1", SBX__ADDR_PUBLIC},
        {"100.63.255.255", SBX__ADDR_PUBLIC},
        {"100.64.0.1", SBX__ADDR_PRIVATE},
        {"100.100.100.200", SBX__ADDR_PRIVATE}, /* Alibaba's metadata service */
        {"100.127.255.255", SBX__ADDR_PRIVATE},
        {"100.128.0.0", SBX__ADDR_PUBLIC},
        {"169.254.169.254", SBX__ADDR_LINK_LOCAL},
        {"169.254.0.1", SBX__ADDR_LINK_LOCAL},
        {"169.253.255.255", SBX__ADDR_PUBLIC},
        {"224.0.0.1", SBX__ADDR_MULTICAST},
        {"239.255.255.255", SBX__ADDR_MULTICAST},
        {"240.0.0.1", SBX__ADDR_RESERVED},
        {"255.255.255.255", SBX__ADDR_RESERVED},
        {"8.8.8.8", SBX__ADDR_PUBLIC},
        {"::", SBX__ADDR_UNSPECIFIED},
        {"::1", SBX__ADDR_LOOPBACK},
        {"::ffff:127.0.0.1", SBX__ADDR_LOOPBACK},
        {"::ffff:169.254.169.254", SBX__ADDR_LINK_LOCAL},
        {"::ffff:10.1.2.3", SBX__ADDR_PRIVATE},
        {"::ffff:8.8.8.8", SBX__ADDR_PUBLIC},
        {"::127.0.0.1", SBX__ADDR_LOOPBACK},          /* IPv4-compatible */
        {"64:ff9b::a9fe:a9fe", SBX__ADDR_LINK_LOCAL}, /* NAT64 of 169.254.169.254 */
        {"64:ff9b::808:808", SBX__ADDR_PUBLIC},
        {"2002:7f00:1::", SBX__ADDR_LOOPBACK}, /* 6to4 of 127.0.0.1 */
        {"2002:808:808::1", SBX__ADDR_PUBLIC},
        {"fe80::1", SBX__ADDR_LINK_LOCAL},
        {"febf:ffff::1", SBX__ADDR_LINK_LOCAL},
        {"fec0::1", SBX__ADDR_PRIVATE},
        {"fc00::1", SBX__ADDR_UNIQUE_LOCAL},
        {"fdff:ffff::1", SBX__ADDR_UNIQUE_LOCAL},
        {"fe00::1", SBX__ADDR_PUBLIC},
        {"ff02::1", SBX__ADDR_MULTICAST},
        {"100::1", SBX__ADDR_RESERVED},
        {"2001:4860:4860::8888", SBX__ADDR_PUBLIC},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct in6_addr a = addr(cases[i].a);
        enum sbx__addr_class c = sbx__addr_classify(&a);
        if (c != cases[i].c)
            fail_msg("%s: %s, expected %s", cases[i].a, sbx__addr_class_name(c),
                     sbx__addr_class_name(cases[i].c));
    }
}

static void test_broker_policy__check_addr(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_ok(sbx_deny_host(p, "203.0.113.7"));
    const struct sbx__egress_policy *e = p->egress;
    const struct sbx__egress_rule *rule;
    enum sbx__addr_class cls;
    struct in6_addr a;
    a = addr("8.8.8.8");
    assert_int_equal(sbx__egress_check_addr(e, &a, false, 443, &rule, &cls), SBX__BR_OK);
    a = addr("10.1.1.1");
    assert_int_equal(sbx__egress_check_addr(e, &a, false, 443, &rule, &cls), SBX__BR_ADDRESS);
    assert_int_equal(cls, SBX__ADDR_PRIVATE);
    assert_int_equal(sbx__egress_check_addr(e, &a, true, 443, &rule, &cls), SBX__BR_OK);
    a = addr("fd00::1");
    assert_int_equal(sbx__egress_check_addr(e, &a, false, 443, &rule, &cls), SBX__BR_ADDRESS);
    a = addr("203.0.113.7"); /* a denied literal: refused even when trusted */
    assert_int_equal(sbx__egress_check_addr(e, &a, true, 443, &rule, &cls), SBX__BR_DENIED);
    assert_string_equal(rule->text, "203.0.113.7");

    assert_sbx_ok(sbx_allow_private_network(p, 1));
    e = p->egress;
    a = addr("10.1.1.1");
    assert_int_equal(sbx__egress_check_addr(e, &a, false, 443, &rule, &cls), SBX__BR_OK);
    a = addr("fd00::1");
    assert_int_equal(sbx__egress_check_addr(e, &a, false, 443, &rule, &cls), SBX__BR_OK);
    /* Private covers neither loopback nor link-local (the metadata service). */
    static const char *const never[] = {
        "127.0.0.1", "::1",       "169.254.169.254", "fe80::1",
        "0.0.0.0",   "224.0.0.1", "255.255.255.255", "::ffff:169.254.169.254"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        a = addr(never[i]);
        if (sbx__egress_check_addr(e, &a, false, 443, &rule, &cls) != SBX__BR_ADDRESS)
            fail_msg("%s is not refused", never[i]);
        assert_int_equal(sbx__egress_check_addr(e, &a, true, 443, &rule, &cls), SBX__BR_OK);
    }
    sbx_policy_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_broker_policy__allow_host_good),
    cmocka_unit_test(test_broker_policy__allow_host_bad),
    cmocka_unit_test(test_broker_policy__name_of_253_bytes),
    cmocka_unit_test(test_broker_policy__deny_host),
    cmocka_unit_test(test_broker_policy__resolve),
    cmocka_unit_test(test_broker_policy__private_and_limits),
    cmocka_unit_test(test_broker_policy__dup_copies_everything),
    cmocka_unit_test(test_broker_policy__normalize),
    cmocka_unit_test(test_broker_policy__parse_addr),
    cmocka_unit_test(test_broker_policy__match),
    cmocka_unit_test(test_broker_policy__classify),
    cmocka_unit_test(test_broker_policy__check_addr),
};
SBX_TEST_MAIN(tests)
