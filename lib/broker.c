/* The egress broker's engine (issue 17): an allow-list HTTP proxy (CONNECT
 * tunnels and plain http:// requests) and SOCKS5 server, driven by the
 * host's loop through one epoll descriptor (broker.h). No thread; every
 * descriptor non-blocking; every buffer bounded.
 *
 * A connection goes through: the request (HTTP head or SOCKS5 greeting and
 * request, within the header deadline), the policy check (egress.c),
 * resolution (a pinned name never reaches DNS; others through c-ares,
 * asynchronously), the address checks, the connect (one address after the
 * other, each within the connect deadline, the peer checked again with
 * getpeername), then the relay through two bounded buffers, counted against
 * the quotas and the rate cap as the bytes flow. */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker_proto.h"

#define RELAY_BUF       (SBX__HEAD_MAX + SBX__HTTP_REWRITE_EXTRA + 1024) /* per direction */
#define HEAD_START      1024 /* a head buffer's first size: doubled up to SBX__HEAD_MAX */
#define ADDRS_MAX       16   /* addresses tried per connection */
#define ACCEPTS_STEP    64   /* accepted per step */
#define EVENTS_STEP     128  /* epoll events handled per step */
#define ARES_FDS_MAX    16
#define RATE_SLICE_MS   10  /* the token bucket's refill period when it ran dry */
#define LISTEN_RETRY_MS 100 /* out of descriptors: accepting is tried again this often */
/* The relay of one event: at most this many read-and-write rounds (each up to a
 * buffer or a pipe's worth), so a fast connection cannot starve the others. */
#define RELAY_ROUNDS    16
/* A direction that read this much at once moves bulk data: from then on it is
 * spliced through a pipe of its own (socket to pipe to socket, no copy into the
 * host's memory). */
#define SPLICE_AFTER    8192

enum state {
    ST_HEAD,     /* reading an HTTP head (or the first byte, to tell SOCKS5) */
    ST_GREETING, /* SOCKS5: reading the greeting */
    ST_SOCKS,    /* SOCKS5: reading the request */
    ST_RESOLVE,  /* waiting for c-ares */
    ST_CONNECT,  /* connecting to addrs[next - 1] */
    ST_RELAY,
};

enum proto { P_UNKNOWN, P_CONNECT, P_HTTP, P_SOCKS5 };
static const char *const proto_names[] = {"unknown", "connect", "http", "socks5"};

enum ep_kind { EP_LISTEN, EP_CLIENT, EP_UP, EP_ARES };

struct ep {
    enum ep_kind kind;
    struct conn *c;
    int fd; /* EP_ARES */
};

/* One direction of the relay: a bounded buffer, and once the direction moves
 * bulk data (and the buffer is empty) a pipe that splice(2) fills from one
 * socket and empties into the other. */
struct pipe_buf {
    char *data;
    size_t len, off; /* bytes in data[off..len) wait to be written */
    bool eof;        /* the reading side ended */
    bool shut;       /* the writing side was shut down */
    bool bulk;       /* a read filled SPLICE_AFTER bytes: splice when the buffer is empty */
    bool nosplice;   /* no pipe could be made, or splice refused these sockets */
    bool pipe_full;  /* the last splice into the pipe found no room */
    bool cut;        /* the byte quota ended it: what is pending is written, then the close */
    int pr, pw;      /* the pipe, or -1 */
    size_t inpipe;   /* bytes in the pipe, waiting to be written */
};

struct conn {
    struct conn *prev, *next;
    struct sbx__broker *b;
    int cfd, ufd;
    struct ep ep_c, ep_u;
    uint32_t ev_c, ev_u; /* the epoll interest now registered (0: none) */
    enum state st;
    enum proto proto;
    uint64_t start_ns, deadline_ns; /* deadline: header or connect; 0: none */
    char *head;                     /* ST_HEAD..ST_SOCKS; then the response head (P_HTTP) */
    size_t head_len, head_searched;
    size_t head_cap; /* the head buffer's size */
    bool resp_done;  /* P_HTTP: the response head was rewritten */
    struct sbx__target t;
    struct in6_addr addrs[ADDRS_MAX];
    size_t n_addrs, next_addr;
    bool trusted;   /* pinned, or a granted literal */
    bool resolving; /* a c-ares query refers to this connection */
    bool dead;      /* closed while resolving: freed by the query's callback */
    bool counted;   /* counted in stats.connections */
    bool allowed;   /* the policy allowed the request */
    bool closed;    /* in the graveyard: freed at the end of the step */
    char address[SBX__ADDR_TEXT_MAX];
    const char *rule;
    struct pipe_buf up, down;
    uint64_t bytes_up, bytes_down;
    enum sbx__broker_reason end; /* why it ended */
};

struct sbx__broker {
    struct sbx__egress_policy *cfg; /* a copy */
    int epfd, lfd;
    struct ep ep_l;
    struct conn *conns;     /* newest first */
    struct conn *graveyard; /* closed during this step (events may still name them) */
    size_t n_conns;
    ares_channel ares;
    bool ares_ok;
    struct ep ares_eps[ARES_FDS_MAX];
    uint64_t t0;
    struct sbx__broker_stats st;
    struct sbx__broker_denial denials[SBX__DENIALS_KEPT];
    size_t n_denials;
    sbx__broker_audit_fn audit;
    void *audit_data;
    bool quota_spent; /* a byte quota is spent: nothing more is relayed */
    /* the rate cap: tokens per direction, refilled with time */
    uint64_t tok_up, tok_down, tok_ns;
    bool rate_wait;       /* a direction waits for tokens */
    bool sigpipe_blocked; /* SIGPIPE is blocked: splice may write (relay_event) */
    bool listen_paused;   /* out of descriptors: not accepting until a connection closes */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *sbx__broker_quota_name(enum sbx__broker_quota q)
{
    switch (q) {
    case SBX__QUOTA_NONE: return "none";
    case SBX__QUOTA_BYTES_UP: return "bytes_up";
    case SBX__QUOTA_BYTES_DOWN: return "bytes_down";
    case SBX__QUOTA_CONNECTIONS: return "connections";
    }
    return "?";
}

/* ---- epoll interest ------------------------------------------------------------------ */

static void set_interest(struct sbx__broker *b, int fd, struct ep *ep, uint32_t *cur, uint32_t want)
{
    if (fd < 0 || *cur == want)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = ep};
    int op = *cur == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (want == 0) {
        /* Registered with no event: kept registered (DEL and ADD cost more). */
        op = EPOLL_CTL_MOD;
        ev.events = 0;
    }
    if (*cur == 0 && want == 0)
        return;
    if (epoll_ctl(b->epfd, op, fd, &ev) == 0)
        *cur = want ? want : (uint32_t)1u << 31; /* registered, no event */
    if (want == 0)
        *cur = (uint32_t)1u << 31;
}

/* Remove a descriptor from the epoll set before closing it: a process that
 * forked meanwhile (the host's, or a spawn before its execve) may hold a copy,
 * and epoll keeps reporting an open file description while any copy lives. */
static void ep_close(struct sbx__broker *b, int *fd, uint32_t *cur)
{
    if (*fd < 0)
        return;
    if (*cur)
        epoll_ctl(b->epfd, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
    *cur = 0;
}

/* ---- reports -------------------------------------------------------------------------- */

static void record(struct sbx__broker *b, struct conn *c, enum sbx__broker_reason r)
{
    c->end = r;
    if (r == SBX__BR_OK)
        return;
    b->st.by_reason[r]++;
    if (r >= SBX__BR_FIRST_FAILURE) {
        b->st.failed++;
        return;
    }
    b->st.denied++;
    if (b->n_denials == SBX__DENIALS_KEPT)
        return;
    struct sbx__broker_denial *d = &b->denials[b->n_denials++];
    memset(d, 0, sizeof(*d));
    snprintf(d->host, sizeof(d->host), "%s", c->t.host);
    snprintf(d->address, sizeof(d->address), "%s", c->address);
    d->port = c->t.port;
    d->reason = r;
    d->rule = c->rule ? c->rule : "";
    d->time_ns = now_ns() - b->t0;
}

static void conn_close(struct conn *c);
static void pipe_close(struct pipe_buf *p);
static void listen_pause(struct sbx__broker *b, bool pause);

/* Refuse a connection: an HTTP error or a SOCKS5 reply (one write, as much as
 * the socket takes), the reason recorded, the connection closed. */
static void refuse(struct conn *c, enum sbx__broker_reason r, const char *why)
{
    struct sbx__broker *b = c->b;
    if (r < SBX__BR_FIRST_FAILURE)
        c->allowed = false;
    record(b, c, r);
    char msg[512];
    int n = 0;
    if (c->proto == P_SOCKS5) {
        if (c->st == ST_GREETING) {
            msg[0] = 5;
            msg[1] = (char)0xff; /* no acceptable method */
            n = 2;
        } else {
            uint8_t m[10] = {5, sbx__socks5_reply_code(r), 0, 1};
            memcpy(msg, m, sizeof(m));
            n = sizeof(m);
        }
    } else {
        const char *phrase;
        int status = sbx__http_status(r, &phrase);
        char body[300];
        int bl = snprintf(body, sizeof(body), "agentsbx egress broker: %s%s%s%s\n",
                          sbx__broker_reason_name(r), why && *why ? " (" : "", why ? why : "",
                          why && *why ? ")" : "");
        if (bl < 0 || (size_t)bl >= sizeof(body))
            bl = (int)strlen(body);
        n = snprintf(msg, sizeof(msg),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     "Connection: close\r\nX-Agentsbx-Reason: %s\r\n\r\n%s",
                     status, phrase, bl, sbx__broker_reason_name(r), body);
        if (n < 0 || (size_t)n >= sizeof(msg))
            n = (int)strlen(msg);
    }
    if (c->cfd >= 0 && n > 0)
        (void)!send(c->cfd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    conn_close(c);
}

/* ---- connections ------------------------------------------------------------------------ */

static void conn_unlink(struct conn *c)
{
    struct sbx__broker *b = c->b;
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    b->n_conns--;
}

static void conn_free(struct conn *c)
{
    free(c->head);
    free(c->up.data);
    free(c->down.data);
    free(c);
}

static void conn_close(struct conn *c)
{
    struct sbx__broker *b = c->b;
    if (c->dead)
        return;
    if (b->audit) {
        struct sbx__broker_event ev = {
            .protocol = proto_names[c->proto],
            .host = c->t.host,
            .address = c->address,
            .port = c->t.port,
            .bytes_up = c->bytes_up,
            .bytes_down = c->bytes_down,
            .duration_ns = now_ns() - c->start_ns,
            .allowed = c->allowed,
            .reason = c->end,
            .reason_text = sbx__broker_reason_name(c->end),
            .rule = c->rule ? c->rule : "",
        };
        b->audit(&ev, b->audit_data);
    }
    ep_close(b, &c->cfd, &c->ev_c);
    ep_close(b, &c->ufd, &c->ev_u);
    pipe_close(&c->up);
    pipe_close(&c->down);
    conn_unlink(c);
    if (b->listen_paused)
        listen_pause(b, false); /* descriptors were freed: accept again */
    b->st.open = b->n_conns;
    c->closed = true;
    if (c->resolving) {
        c->dead = true; /* the query's callback buries it */
        return;
    }
    c->next = b->graveyard;
    b->graveyard = c;
}

/* ---- the rate cap ----------------------------------------------------------------------- */

static void rate_refill(struct sbx__broker *b, uint64_t now)
{
    if (b->cfg->rate == SBX_UNLIMITED)
        return;
    uint64_t dt = now - b->tok_ns;
    if (dt < 1000000)
        return;
    uint64_t add = (uint64_t)((__uint128_t)b->cfg->rate * dt / 1000000000ull);
    b->tok_up = b->tok_up + add > b->cfg->rate ? b->cfg->rate : b->tok_up + add;
    b->tok_down = b->tok_down + add > b->cfg->rate ? b->cfg->rate : b->tok_down + add;
    b->tok_ns = now;
}

/* ---- the relay -------------------------------------------------------------------------- */

static void quota_hit(struct sbx__broker *b, enum sbx__broker_quota q)
{
    if (b->st.quota_hit == SBX__QUOTA_NONE)
        b->st.quota_hit = q;
    b->quota_spent = q != SBX__QUOTA_CONNECTIONS || b->quota_spent;
}

/* Bytes read in one direction and not yet written. */
static size_t pending(const struct pipe_buf *p)
{
    return p->len - p->off + p->inpipe;
}

/* Whether a direction can take no more until it is written. */
static bool dir_full(const struct pipe_buf *p)
{
    return p->pr >= 0 ? p->pipe_full : p->len >= RELAY_BUF;
}

static void pipe_close(struct pipe_buf *p)
{
    if (p->pr >= 0) {
        close(p->pr);
        close(p->pw);
    }
    p->pr = p->pw = -1;
}

static void update_relay_interest(struct conn *c)
{
    struct sbx__broker *b = c->b;
    uint32_t wc = 0, wu = 0;
    bool rate_up = b->cfg->rate == SBX_UNLIMITED || b->tok_up > 0;
    bool rate_down = b->cfg->rate == SBX_UNLIMITED || b->tok_down > 0;
    if (!c->up.eof && !dir_full(&c->up) && rate_up)
        wc |= EPOLLIN;
    if (!c->down.eof && !dir_full(&c->down) && rate_down)
        wu |= EPOLLIN;
    if (pending(&c->up))
        wu |= EPOLLOUT;
    if (pending(&c->down))
        wc |= EPOLLOUT;
    if ((!rate_up && !c->up.eof) || (!rate_down && !c->down.eof))
        b->rate_wait = true;
    set_interest(b, c->cfd, &c->ep_c, &c->ev_c, wc);
    set_interest(b, c->ufd, &c->ep_u, &c->ev_u, wu);
}

/* The head buffer full: double it, up to SBX__HEAD_MAX. False when it is at
 * that size already or out of memory (*oom set). */
static bool head_grow(struct conn *c, bool *oom)
{
    *oom = false;
    if (c->head_len < c->head_cap)
        return true;
    if (c->head_cap >= SBX__HEAD_MAX)
        return false;
    size_t cap = c->head_cap * 2 < SBX__HEAD_MAX ? c->head_cap * 2 : SBX__HEAD_MAX;
    char *grown = realloc(c->head, cap);
    if (!grown) {
        *oom = true;
        return false;
    }
    c->head = grown;
    c->head_cap = cap;
    return true;
}

/* A direction's buffer, allocated when first needed (an idle tunnel holds
 * none); false when out of memory. */
static bool buf_get(struct pipe_buf *p)
{
    if (!p->data)
        p->data = malloc(RELAY_BUF);
    return p->data != NULL;
}

/* Count bytes read in one direction: the quotas, the rate cap's tokens. */
static void count(struct conn *c, bool upward, size_t n)
{
    struct sbx__broker *b = c->b;
    if (b->cfg->rate != SBX_UNLIMITED) {
        if (upward)
            b->tok_up -= (uint64_t)n;
        else
            b->tok_down -= (uint64_t)n;
    }
    if (upward) {
        c->bytes_up += (uint64_t)n;
        b->st.bytes_up += (uint64_t)n;
    } else {
        c->bytes_down += (uint64_t)n;
        b->st.bytes_down += (uint64_t)n;
    }
}

/* A read went one byte past the byte quota: the direction reads no more; the
 * bytes within the quota are still written (the count is what the other side
 * gets), then the connection closes (relay_settle). */
static void quota_cut(struct conn *c, bool upward)
{
    struct pipe_buf *p = upward ? &c->up : &c->down;
    quota_hit(c->b, upward ? SBX__QUOTA_BYTES_UP : SBX__QUOTA_BYTES_DOWN);
    record(c->b, c, SBX__BR_BYTES_QUOTA);
    p->eof = true;
    p->cut = true;
}

/* Give a direction its pipe; without one (out of descriptors), it stays
 * with its buffer. */
static void pipe_open(struct pipe_buf *p)
{
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        p->nosplice = true;
        return;
    }
    p->pr = fds[0];
    p->pw = fds[1];
    /* A larger pipe: fewer splices per byte. Past the user's pipe pages
     * (fs.pipe-user-pages-soft) the kernel refuses: the default stays. */
    (void)fcntl(p->pw, F_SETPIPE_SZ, SBX__SPLICE_MAX);
}

static bool relay_read(struct conn *c, bool upward);

/* How much one read or splice in a direction may take: room, cut to one byte
 * more than the byte quota leaves (*left; the extra byte tells a spent quota)
 * and to the rate's tokens. 0: no tokens yet, wait. */
static size_t read_room(const struct conn *c, bool upward, size_t room, uint64_t *left)
{
    const struct sbx__broker *b = c->b;
    uint64_t quota = upward ? b->cfg->bytes_up : b->cfg->bytes_down;
    uint64_t used = upward ? b->st.bytes_up : b->st.bytes_down;
    *left = quota == SBX_UNLIMITED ? UINT64_MAX : quota - used;
    if (*left < UINT64_MAX && room > *left + 1)
        room = (size_t)*left + 1;
    if (b->cfg->rate != SBX_UNLIMITED) {
        uint64_t tok = upward ? b->tok_up : b->tok_down;
        if (room > tok)
            room = (size_t)tok;
    }
    return room;
}

/* Splice from one direction's socket into its pipe, counted as relay_read()
 * counts: false when the connection was closed. */
static bool splice_read(struct conn *c, bool upward)
{
    struct sbx__broker *b = c->b;
    struct pipe_buf *p = upward ? &c->up : &c->down;
    int fd = upward ? c->cfd : c->ufd;
    uint64_t left;
    size_t room = read_room(c, upward, SBX__SPLICE_MAX, &left);
    if (room == 0)
        return true;
    ssize_t n = splice(fd, NULL, p->pw, NULL, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
        if (errno == EINTR)
            return true;
        if (errno == EAGAIN) {
            /* No data, or no room in the pipe: wait for its write either way. */
            if (p->inpipe)
                p->pipe_full = true;
            return true;
        }
        if ((errno == EINVAL || errno == ENOSYS) && p->inpipe == 0) {
            pipe_close(p); /* sockets splice does not serve: the buffer again */
            p->nosplice = true;
            return relay_read(c, upward);
        }
        conn_close(c);
        return false;
    }
    if (n == 0) {
        p->eof = true;
        return true;
    }
    if ((uint64_t)n > left) {
        /* The byte past the quota stays in the pipe, never written. */
        quota_cut(c, upward);
        n = (ssize_t)left;
    }
    count(c, upward, (size_t)n);
    p->inpipe += (size_t)n;
    b->st.bytes_spliced += (uint64_t)n;
    return true;
}

/* Read into one direction's buffer (or its pipe): false when the connection
 * was closed. */
static bool relay_read(struct conn *c, bool upward)
{
    struct sbx__broker *b = c->b;
    struct pipe_buf *p = upward ? &c->up : &c->down;
    int fd = upward ? c->cfd : c->ufd;
    if (p->eof || dir_full(p))
        return true;
    if (p->off == p->len)
        p->off = p->len = 0;
    bool resp_head = !upward && c->proto == P_HTTP && !c->resp_done;
    if (p->pr < 0 && p->bulk && !p->nosplice && !b->cfg->no_splice && p->len == 0 && !resp_head &&
        b->sigpipe_blocked)
        pipe_open(p);
    if (p->pr >= 0)
        return splice_read(c, upward);
    uint64_t left;
    size_t room = read_room(c, upward, RELAY_BUF - p->len, &left);
    if (room == 0)
        return true;
    /* P_HTTP's response head: read into the head buffer until it ends. */
    bool oom = false;
    if (resp_head ? !head_grow(c, &oom) : !buf_get(p)) {
        if (resp_head && !oom)
            refuse(c, SBX__BR_BAD_RESPONSE, "no end of the response head within 16 KiB");
        else
            refuse(c, SBX__BR_RESOURCES, "out of memory");
        return false;
    }
    char *dst = resp_head ? c->head + c->head_len : p->data + p->len;
    if (resp_head && room > c->head_cap - c->head_len)
        room = c->head_cap - c->head_len;
    ssize_t n = read(fd, dst, room);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return true;
        conn_close(c); /* a reset: the relay ends */
        return false;
    }
    if (n == 0) {
        p->eof = true;
        if (resp_head) {
            refuse(c, SBX__BR_BAD_RESPONSE, "the server closed before its response head");
            return false;
        }
        return true;
    }
    if ((uint64_t)n > left) {
        if (resp_head) {
            quota_hit(b, upward ? SBX__QUOTA_BYTES_UP : SBX__QUOTA_BYTES_DOWN);
            record(b, c, SBX__BR_BYTES_QUOTA);
            conn_close(c); /* within a response head: nothing to pass on */
            return false;
        }
        quota_cut(c, upward); /* the byte past the quota is dropped */
        n = (ssize_t)left;
    }
    count(c, upward, (size_t)n);
    if (!resp_head) {
        p->len += (size_t)n;
        if ((size_t)n >= SPLICE_AFTER)
            p->bulk = true;
        return true;
    }
    c->head_len += (size_t)n;
    struct sbx__http_head h;
    const char *why;
    int r = sbx__http_parse_response(c->head, c->head_len, &h, &why);
    if (r < 0) {
        refuse(c, (enum sbx__broker_reason) - r, why);
        return false;
    }
    if (r == 0)
        return true;
    if (!buf_get(p)) {
        refuse(c, SBX__BR_RESOURCES, "out of memory");
        return false;
    }
    size_t w = sbx__http_rewrite_response(c->head, &h, p->data, RELAY_BUF);
    if (w == 0 || c->head_len - (size_t)r > RELAY_BUF - w) {
        refuse(c, SBX__BR_BAD_RESPONSE, "the response head does not fit");
        return false;
    }
    memcpy(p->data + w, c->head + r, c->head_len - (size_t)r);
    p->off = 0;
    p->len = w + c->head_len - (size_t)r;
    c->resp_done = true;
    free(c->head);
    c->head = NULL;
    return true;
}

/* Write from one direction's buffer: false when the connection was closed. */
static bool relay_write(struct conn *c, bool upward)
{
    struct pipe_buf *p = upward ? &c->up : &c->down;
    int fd = upward ? c->ufd : c->cfd;
    if (p->len > p->off) {
        ssize_t n = send(fd, p->data + p->off, p->len - p->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return true;
            conn_close(c);
            return false;
        }
        p->off += (size_t)n;
        if (p->off == p->len) {
            p->off = p->len = 0;
            if (p->pr >= 0 || !p->bulk) {
                /* Empty, and not a bulk transfer through it: given back. */
                free(p->data);
                p->data = NULL;
            }
        }
    }
    if (p->inpipe && p->len == p->off) {
        /* SIGPIPE is blocked around the relay (relay_event): splice has no
         * MSG_NOSIGNAL. */
        ssize_t n = splice(p->pr, NULL, fd, NULL, p->inpipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return true;
            conn_close(c);
            return false;
        }
        p->inpipe -= (size_t)n;
        if (n > 0)
            p->pipe_full = false;
    }
    return true;
}

/* After reads and writes: shut a direction down when it is done, close when
 * both are. False when closed. */
static bool relay_settle(struct conn *c)
{
    for (int i = 0; i < 2; i++) {
        struct pipe_buf *p = i == 0 ? &c->up : &c->down;
        if (p->cut && pending(p) == 0) {
            conn_close(c); /* the quota's cut: everything within it was written */
            return false;
        }
        if (p->eof && pending(p) == 0 && !p->shut) {
            shutdown(i == 0 ? c->ufd : c->cfd, SHUT_WR);
            p->shut = true;
        }
    }
    if (c->up.shut && c->down.shut) {
        conn_close(c);
        return false;
    }
    update_relay_interest(c);
    return true;
}

static bool relay_rounds(struct conn *c, bool client, uint32_t events)
{
    if (events & (EPOLLOUT | EPOLLERR))
        if (!relay_write(c, !client))
            return false;
    struct pipe_buf *p = client ? &c->up : &c->down;
    const uint64_t *count = client ? &c->bytes_up : &c->bytes_down;
    bool readable = events & (EPOLLIN | EPOLLHUP | EPOLLERR);
    for (int i = 0; i < RELAY_ROUNDS; i++) {
        uint64_t before = *count;
        if (readable && !relay_read(c, client))
            return false;
        /* What was just read can often be written at once. */
        if (!relay_write(c, client))
            return false;
        /* Again while reads fill and writes empty: fewer trips through the
         * host's loop for a bulk transfer. */
        if (!readable || *count == before || p->eof || pending(p))
            break;
    }
    return true;
}

static void relay_event(struct conn *c, bool client, uint32_t events)
{
    struct sbx__broker *b = c->b;
    bool splicing = c->up.pr >= 0 || c->down.pr >= 0 || c->up.bulk || c->down.bulk;
    sigset_t pipe_set, old, pending;
    bool was_pending = false;
    if (splicing) {
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
        b->sigpipe_blocked = true;
    }
    bool open = relay_rounds(c, client, events);
    if (splicing) {
        b->sigpipe_blocked = false;
        /* A splice that met a closed socket raised SIGPIPE, whether it failed
         * with EPIPE or returned what it moved before: the relay's, consumed,
         * not the host's. */
        if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
            const struct timespec zero = {0, 0};
            sigtimedwait(&pipe_set, NULL, &zero);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (open)
        relay_settle(c);
}

/* ---- connecting ------------------------------------------------------------------------- */

static void start_relay(struct conn *c)
{
    struct sbx__broker *b = c->b;
    c->st = ST_RELAY;
    c->deadline_ns = 0;
    /* The buffers of what is sent at once; the others when first needed. */
    struct sbx__http_head h;
    const char *why;
    int r = c->proto == P_SOCKS5 ? 0 : sbx__http_parse_request(c->head, c->head_len, &h, &why);
    bool early = c->proto == P_CONNECT && r > 0 && c->head_len > (size_t)r;
    if ((c->proto != P_HTTP && !buf_get(&c->down)) ||
        ((c->proto == P_HTTP || early) && !buf_get(&c->up))) {
        refuse(c, SBX__BR_RESOURCES, "out of memory");
        return;
    }
    if (c->proto == P_CONNECT) {
        static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        memcpy(c->down.data, ok, sizeof(ok) - 1);
        c->down.len = sizeof(ok) - 1;
        /* Bytes the client sent after its head (a TLS hello, early) go up. */
        if (early) {
            memcpy(c->up.data, c->head + r, c->head_len - (size_t)r);
            c->up.len = c->head_len - (size_t)r;
        }
        free(c->head);
        c->head = NULL;
    } else if (c->proto == P_SOCKS5) {
        uint8_t rep[10] = {5, 0, 0, 1};
        memcpy(c->down.data, rep, sizeof(rep));
        c->down.len = sizeof(rep);
        free(c->head);
        c->head = NULL;
    } else {
        size_t w = r > 0 ? sbx__http_rewrite_request(c->head, &h, c->up.data, RELAY_BUF) : 0;
        if (w == 0 || c->head_len - (size_t)r > RELAY_BUF - w) {
            refuse(c, SBX__BR_TOO_LARGE, "the rewritten request does not fit");
            return;
        }
        memcpy(c->up.data + w, c->head + r, c->head_len - (size_t)r);
        c->up.len = w + c->head_len - (size_t)r;
        /* The head buffer now gathers the response head. */
        c->head_len = 0;
        c->resp_done = false;
    }
    /* What goes up at once (a rewritten request head, early data) counts. */
    if (c->up.len) {
        uint64_t left =
            b->cfg->bytes_up == SBX_UNLIMITED ? UINT64_MAX : b->cfg->bytes_up - b->st.bytes_up;
        if (c->up.len > left) {
            quota_hit(b, SBX__QUOTA_BYTES_UP);
            refuse(c, SBX__BR_BYTES_QUOTA, "the byte quota is spent");
            return;
        }
        c->bytes_up += c->up.len;
        b->st.bytes_up += c->up.len;
    }
    update_relay_interest(c);
    relay_write(c, true);
}

/* Try the next address; refuse when none is left. */
static void connect_next(struct conn *c)
{
    struct sbx__broker *b = c->b;
    while (c->next_addr < c->n_addrs) {
        const struct in6_addr *a = &c->addrs[c->next_addr++];
        sbx__addr_text(a, c->address);
        ep_close(b, &c->ufd, &c->ev_u);
        struct sockaddr_storage ss;
        socklen_t sl;
        int family;
        memset(&ss, 0, sizeof(ss));
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            s4->sin_family = AF_INET;
            s4->sin_port = htons(c->t.port);
            memcpy(&s4->sin_addr, &a->s6_addr[12], 4);
            sl = sizeof(*s4);
            family = AF_INET;
        } else {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(c->t.port);
            s6->sin6_addr = *a;
            sl = sizeof(*s6);
            family = AF_INET6;
        }
        c->ufd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->ufd < 0) {
            refuse(c, SBX__BR_RESOURCES, "socket");
            return;
        }
        if (connect(c->ufd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
            continue;
        c->st = ST_CONNECT;
        c->deadline_ns = now_ns() + (uint64_t)b->cfg->connect_timeout_ms * 1000000ull;
        set_interest(b, c->cfd, &c->ep_c, &c->ev_c, 0);
        set_interest(b, c->ufd, &c->ep_u, &c->ev_u, EPOLLOUT);
        return;
    }
    refuse(c, c->end == SBX__BR_CONNECT_TIMEOUT ? SBX__BR_CONNECT_TIMEOUT : SBX__BR_CONNECT,
           "no address accepted the connection");
}

static void connected(struct conn *c)
{
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
        connect_next(c);
        return;
    }
    /* The address connected to, checked again. */
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct in6_addr a;
    if (getpeername(c->ufd, (struct sockaddr *)&ss, &sl) < 0) {
        connect_next(c);
        return;
    }
    if (ss.ss_family == AF_INET) {
        memset(&a, 0, sizeof(a));
        a.s6_addr[10] = a.s6_addr[11] = 0xff;
        memcpy(&a.s6_addr[12], &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else {
        a = ((struct sockaddr_in6 *)&ss)->sin6_addr;
    }
    bool listed = false;
    for (size_t i = 0; i < c->n_addrs; i++)
        listed |= memcmp(&c->addrs[i], &a, sizeof(a)) == 0;
    const struct sbx__egress_rule *rule;
    enum sbx__addr_class cls;
    sbx__addr_text(&a, c->address);
    if (!listed ||
        sbx__egress_check_addr(c->b->cfg, &a, c->trusted, c->t.port, &rule, &cls) != SBX__BR_OK) {
        refuse(c, SBX__BR_PEER, "the address connected to is refused");
        return;
    }
    int one = 1;
    setsockopt(c->ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    start_relay(c);
}

/* The addresses are known: check each, keep the allowed ones, connect. */
static void addresses_known(struct conn *c, const struct in6_addr *addrs, size_t n)
{
    struct sbx__broker *b = c->b;
    enum sbx__broker_reason refused = SBX__BR_OK;
    const struct sbx__egress_rule *deny_rule = NULL;
    c->n_addrs = 0;
    for (size_t i = 0; i < n && c->n_addrs < ADDRS_MAX; i++) {
        const struct sbx__egress_rule *rule;
        enum sbx__addr_class cls;
        enum sbx__broker_reason r =
            sbx__egress_check_addr(b->cfg, &addrs[i], c->trusted, c->t.port, &rule, &cls);
        if (r == SBX__BR_OK) {
            c->addrs[c->n_addrs++] = addrs[i];
        } else if (refused == SBX__BR_OK || r == SBX__BR_DENIED) {
            refused = r;
            deny_rule = rule;
            sbx__addr_text(&addrs[i], c->address);
        }
    }
    if (c->n_addrs == 0) {
        if (deny_rule)
            c->rule = deny_rule->text;
        refuse(c, refused == SBX__BR_OK ? SBX__BR_RESOLVE : refused,
               refused == SBX__BR_DENIED ? "a denied address"
                                         : "the name resolves to a refused address");
        return;
    }
    c->address[0] = '\0';
    if (b->cfg->conn_total != SBX_UNLIMITED && b->st.connections >= b->cfg->conn_total) {
        quota_hit(b, SBX__QUOTA_CONNECTIONS);
        refuse(c, SBX__BR_CONN_QUOTA, "the connection quota is spent");
        return;
    }
    b->st.connections++;
    c->counted = true;
    c->next_addr = 0;
    connect_next(c);
}

static void ares_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    struct conn *c = arg;
    c->resolving = false;
    if (c->dead) {
        if (res)
            ares_freeaddrinfo(res);
        c->next = c->b->graveyard;
        c->b->graveyard = c;
        return;
    }
    struct in6_addr addrs[ADDRS_MAX];
    size_t n = 0;
    if (status == ARES_SUCCESS && res)
        for (struct ares_addrinfo_node *a = res->nodes; a && n < ADDRS_MAX; a = a->ai_next) {
            if (a->ai_family == AF_INET) {
                memset(&addrs[n], 0, sizeof(addrs[n]));
                addrs[n].s6_addr[10] = addrs[n].s6_addr[11] = 0xff;
                memcpy(&addrs[n].s6_addr[12], &((struct sockaddr_in *)a->ai_addr)->sin_addr, 4);
                n++;
            } else if (a->ai_family == AF_INET6) {
                addrs[n++] = ((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
            }
        }
    if (res)
        ares_freeaddrinfo(res);
    if (status == ARES_EDESTRUCTION) {
        conn_close(c);
        return;
    }
    if (n == 0) {
        refuse(c, SBX__BR_RESOLVE, ares_strerror(status));
        return;
    }
    addresses_known(c, addrs, n);
}

/* The request is read: check it against the policy and go on. */
static void request_ready(struct conn *c)
{
    struct sbx__broker *b = c->b;
    const struct sbx__egress_rule *rule;
    c->deadline_ns = 0;
    set_interest(b, c->cfd, &c->ep_c, &c->ev_c, 0);
    if (b->quota_spent) {
        refuse(c, SBX__BR_BYTES_QUOTA, "a byte quota is spent");
        return;
    }
    enum sbx__broker_reason r =
        sbx__egress_check(b->cfg, c->t.host, c->t.is_addr, &c->t.addr, c->t.port, &rule);
    if (rule)
        c->rule = rule->text;
    c->allowed = r == SBX__BR_OK;
    if (r != SBX__BR_OK) {
        if (c->t.is_addr)
            sbx__addr_text(&c->t.addr, c->address);
        refuse(c, r, r == SBX__BR_DENIED ? "the host is denied" : "the host is not granted");
        return;
    }
    if (c->t.is_addr) {
        c->trusted = true;
        addresses_known(c, &c->t.addr, 1);
        return;
    }
    const struct sbx__egress_pin *pin = sbx__egress_pin_find(b->cfg, c->t.host);
    if (pin) {
        c->trusted = true;
        addresses_known(c, pin->addrs, pin->n);
        return;
    }
    if (!b->ares_ok) {
        refuse(c, SBX__BR_RESOLVE, "no resolver");
        return;
    }
    c->st = ST_RESOLVE;
    c->resolving = true;
    struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    ares_getaddrinfo(b->ares, c->t.host, NULL, &hints, ares_done, c);
}

/* ---- reading the request ------------------------------------------------------------------ */

static void request_event(struct conn *c)
{
    bool oom;
    if (!head_grow(c, &oom)) {
        if (oom)
            refuse(c, SBX__BR_RESOURCES, "out of memory");
        else
            refuse(c, SBX__BR_TOO_LARGE, "no end of the head within 16 KiB");
        return;
    }
    size_t room = c->head_cap - c->head_len;
    /* SOCKS5 reads exactly what it needs: what follows is the tunnel's. */
    ssize_t n = read(c->cfd, c->head + c->head_len, room);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        conn_close(c);
        return;
    }
    if (n == 0) {
        if (c->head_len > 0)
            record(c->b, c, SBX__BR_MALFORMED);
        conn_close(c);
        return;
    }
    c->head_len += (size_t)n;
    const char *why = "";
    if (c->st == ST_HEAD && c->head[0] == 5) {
        c->proto = P_SOCKS5;
        c->st = ST_GREETING;
    }
    if (c->st == ST_HEAD) {
        struct sbx__http_head h;
        int r = sbx__http_parse_request(c->head, c->head_len, &h, &why);
        if (r == 0)
            return;
        c->proto = r > 0 ? (h.connect ? P_CONNECT : P_HTTP) : P_UNKNOWN;
        c->t = h.target;
        if (r < 0) {
            refuse(c, (enum sbx__broker_reason) - r, why);
            return;
        }
        request_ready(c);
        return;
    }
    for (;;) {
        if (c->st == ST_GREETING) {
            bool noauth;
            int r =
                sbx__socks5_parse_greeting((const uint8_t *)c->head, c->head_len, &noauth, &why);
            if (r == 0)
                return;
            if (r < 0) {
                refuse(c, (enum sbx__broker_reason) - r, why);
                return;
            }
            if (!noauth) {
                refuse(c, SBX__BR_AUTH, "the client does not offer no-authentication");
                return;
            }
            static const uint8_t ok[2] = {5, 0};
            if (send(c->cfd, ok, 2, MSG_NOSIGNAL | MSG_DONTWAIT) != 2) {
                conn_close(c);
                return;
            }
            memmove(c->head, c->head + r, c->head_len - (size_t)r);
            c->head_len -= (size_t)r;
            c->st = ST_SOCKS;
            continue;
        }
        uint8_t reply;
        int r =
            sbx__socks5_parse_request((const uint8_t *)c->head, c->head_len, &c->t, &reply, &why);
        if (r == 0)
            return;
        if (r < 0) {
            refuse(c, (enum sbx__broker_reason) - r, why);
            return;
        }
        if (c->head_len > (size_t)r) {
            /* The client sent data before the reply: not SOCKS5 as written. */
            refuse(c, SBX__BR_MALFORMED, "data before the SOCKS5 reply");
            return;
        }
        request_ready(c);
        return;
    }
}

/* ---- accepting -------------------------------------------------------------------------- */

/* The oldest connection still sending its request, or NULL. */
static struct conn *oldest_waiting(struct sbx__broker *b)
{
    struct conn *found = NULL;
    for (struct conn *c = b->conns; c; c = c->next)
        if (c->st == ST_HEAD || c->st == ST_GREETING || c->st == ST_SOCKS)
            found = c;
    return found;
}

/* Stop or resume watching the listening socket. */
static void listen_pause(struct sbx__broker *b, bool pause)
{
    if (b->listen_paused == pause)
        return;
    struct epoll_event ev = {.events = pause ? 0 : EPOLLIN, .data.ptr = &b->ep_l};
    if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, b->lfd, &ev) == 0)
        b->listen_paused = pause;
}

static void accept_some(struct sbx__broker *b)
{
    for (int i = 0; i < ACCEPTS_STEP; i++) {
        int fd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                b->st.by_reason[SBX__BR_RESOURCES]++;
                b->st.denied++;
                /* Out of descriptors: make room as the concurrent cap does,
                 * or stop listening until a connection closes (the listening
                 * socket would stay readable: a busy loop). The waiting
                 * connections stay in the kernel's queue. */
                struct conn *old = oldest_waiting(b);
                if (old) {
                    refuse(old, SBX__BR_EVICTED, "evicted: the host is out of descriptors");
                    continue;
                }
                listen_pause(b, true);
            }
            return;
        }
        struct conn *c = calloc(1, sizeof(*c));
        char *head = c ? malloc(HEAD_START) : NULL;
        if (!head) {
            free(c);
            close(fd);
            b->st.by_reason[SBX__BR_RESOURCES]++;
            b->st.denied++;
            continue;
        }
        c->b = b;
        c->cfd = fd;
        c->ufd = -1;
        c->up.pr = c->up.pw = c->down.pr = c->down.pw = -1;
        c->head = head;
        c->head_cap = HEAD_START;
        c->ep_c = (struct ep){EP_CLIENT, c, -1};
        c->ep_u = (struct ep){EP_UP, c, -1};
        c->start_ns = now_ns();
        c->deadline_ns = c->start_ns + (uint64_t)b->cfg->header_timeout_ms * 1000000ull;
        c->st = ST_HEAD;
        c->next = b->conns;
        if (b->conns)
            b->conns->prev = c;
        b->conns = c;
        b->n_conns++;
        if (b->n_conns > b->st.peak_open)
            b->st.peak_open = b->n_conns;
        b->st.open = b->n_conns;
        /* The concurrent cap: make room by evicting the oldest connection
         * still sending its request (a slow client), or refuse this one. */
        if (b->n_conns > b->cfg->conn_concurrent) {
            struct conn *old = oldest_waiting(b);
            if (old && old != c) {
                refuse(old, SBX__BR_EVICTED, "evicted: the concurrent-connection cap");
            } else {
                refuse(c, SBX__BR_CONCURRENT, "the concurrent-connection cap");
                continue;
            }
        }
        set_interest(b, c->cfd, &c->ep_c, &c->ev_c, EPOLLIN);
    }
}

/* ---- c-ares ------------------------------------------------------------------------------ */

static void ares_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct sbx__broker *b = data;
    struct ep *slot = NULL, *free_slot = NULL;
    for (size_t i = 0; i < ARES_FDS_MAX; i++) {
        if (b->ares_eps[i].fd == fd)
            slot = &b->ares_eps[i];
        else if (b->ares_eps[i].fd < 0 && !free_slot)
            free_slot = &b->ares_eps[i];
    }
    if (!readable && !writable) {
        if (slot) {
            epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
            slot->fd = -1;
        }
        return;
    }
    struct epoll_event ev = {.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u)};
    if (slot) {
        ev.data.ptr = slot;
        epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev);
    } else if (free_slot) {
        /* Without a slot (more than ARES_FDS_MAX sockets) c-ares's timeouts
         * still drive the query. */
        free_slot->fd = fd;
        ev.data.ptr = free_slot;
        epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
}

/* ---- the interface ------------------------------------------------------------------------- */

int sbx__broker_replace_listen(struct sbx__broker *b, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    struct epoll_event ev = {.events = b->listen_paused ? 0 : EPOLLIN, .data.ptr = &b->ep_l};
    if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    epoll_ctl(b->epfd, EPOLL_CTL_DEL, b->lfd, NULL);
    close(b->lfd);
    b->lfd = fd;
    b->ep_l.fd = fd;
    return 0;
}

int sbx__broker_new(const struct sbx__egress_policy *cfg, int listen_fd, struct sbx__broker **ret)
{
    sbx__check(cfg != NULL, "sbx__broker_new: cfg is NULL");
    sbx__check(ret != NULL, "sbx__broker_new: ret is NULL");
    int type = 0;
    socklen_t tl = sizeof(type);
    if (listen_fd < 0 || getsockopt(listen_fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
        type != SOCK_STREAM)
        return sbx__err(-EINVAL, "egress broker: fd %d is not a stream socket", listen_fd);
    struct sbx__broker *b = calloc(1, sizeof(*b));
    if (!b)
        return sbx__errno(-ENOMEM, "egress broker");
    b->epfd = -1;
    b->lfd = -1;
    for (size_t i = 0; i < ARES_FDS_MAX; i++)
        b->ares_eps[i] = (struct ep){EP_ARES, NULL, -1};
    int rc = sbx__egress_copy(cfg, &b->cfg);
    if (rc < 0) {
        free(b);
        return sbx__errno(rc, "egress broker: the policy");
    }
    if (b->cfg->header_timeout_ms == 0)
        b->cfg->header_timeout_ms = SBX__HEADER_TIMEOUT_MS;
    if (b->cfg->connect_timeout_ms == 0)
        b->cfg->connect_timeout_ms = SBX__CONNECT_TIMEOUT_MS;
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b->epfd < 0) {
        rc = sbx__errno(-errno, "egress broker: epoll_create1");
        goto fail;
    }
    int fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        rc = sbx__errno(-errno, "egress broker: fcntl(listen fd)");
        goto fail;
    }
    b->ep_l = (struct ep){EP_LISTEN, NULL, listen_fd};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &b->ep_l};
    if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
        rc = sbx__errno(-errno, "egress broker: epoll_ctl(listen fd)");
        goto fail;
    }
    int ar = ares_library_init(ARES_LIB_INIT_ALL);
    if (ar != ARES_SUCCESS) {
        rc = sbx__err(-ENOMEM, "egress broker: ares_library_init: %s", ares_strerror(ar));
        goto fail;
    }
    struct ares_options opts = {
        .sock_state_cb = ares_sock_state, .sock_state_cb_data = b, .timeout = 2000, .tries = 2};
    ar = ares_init_options(&b->ares, &opts,
                           ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (ar != ARES_SUCCESS) {
        ares_library_cleanup();
        rc = sbx__err(ar == ARES_ENOMEM ? -ENOMEM : -EIO, "egress broker: ares_init_options: %s",
                      ares_strerror(ar));
        goto fail;
    }
    b->ares_ok = true;
    if (b->cfg->dns_servers) {
        ar = ares_set_servers_ports_csv(b->ares, b->cfg->dns_servers);
        if (ar != ARES_SUCCESS) {
            rc = sbx__err(-EINVAL, "egress broker: DNS servers '%s': %s", b->cfg->dns_servers,
                          ares_strerror(ar));
            goto fail;
        }
    }
    b->t0 = now_ns();
    b->tok_ns = b->t0;
    b->tok_up = b->tok_down = b->cfg->rate == SBX_UNLIMITED ? 0 : b->cfg->rate;
    b->lfd = listen_fd;
    *ret = b;
    return 0;
fail:
    if (b->ares_ok) {
        ares_destroy(b->ares);
        ares_library_cleanup();
    }
    if (b->epfd >= 0)
        close(b->epfd);
    sbx__egress_free(b->cfg);
    free(b);
    return rc;
}

int sbx__broker_fd(struct sbx__broker *b)
{
    return b->epfd;
}

static void bury(struct sbx__broker *b)
{
    while (b->graveyard) {
        struct conn *c = b->graveyard;
        b->graveyard = c->next;
        conn_free(c);
    }
}

static void timers(struct sbx__broker *b)
{
    uint64_t now = now_ns();
    struct conn *next;
    for (struct conn *c = b->conns; c; c = next) {
        next = c->next;
        if (c->deadline_ns == 0 || now < c->deadline_ns)
            continue;
        if (c->st == ST_CONNECT) {
            c->end = SBX__BR_CONNECT_TIMEOUT;
            connect_next(c);
        } else if (c->st == ST_HEAD || c->st == ST_GREETING || c->st == ST_SOCKS) {
            refuse(c, SBX__BR_TIMEOUT, "the request did not arrive in time");
        }
    }
    if (b->listen_paused)
        listen_pause(b, false); /* try again: paused again if still out of descriptors */
    if (b->cfg->rate != SBX_UNLIMITED) {
        rate_refill(b, now);
        if (b->rate_wait) {
            b->rate_wait = false;
            for (struct conn *c = b->conns; c; c = c->next)
                if (c->st == ST_RELAY)
                    update_relay_interest(c);
        }
    }
    if (b->ares_ok)
        ares_process_fd(b->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

int sbx__broker_step(struct sbx__broker *b)
{
    struct epoll_event evs[EVENTS_STEP];
    int n = epoll_wait(b->epfd, evs, EVENTS_STEP, 0);
    if (n < 0 && errno != EINTR)
        return sbx__errno(-errno, "egress broker: epoll_wait");
    if (b->cfg->rate != SBX_UNLIMITED)
        rate_refill(b, now_ns());
    for (int i = 0; i < n; i++) {
        struct ep *ep = evs[i].data.ptr;
        uint32_t e = evs[i].events;
        switch (ep->kind) {
        case EP_LISTEN: accept_some(b); break;
        case EP_ARES:
            if (ep->fd >= 0)
                ares_process_fd(b->ares,
                                e & (EPOLLIN | EPOLLERR | EPOLLHUP) ? ep->fd : ARES_SOCKET_BAD,
                                e & EPOLLOUT ? ep->fd : ARES_SOCKET_BAD);
            break;
        case EP_CLIENT:
        case EP_UP: {
            struct conn *c = ep->c;
            if (c->closed)
                break;
            if (c->st == ST_RELAY)
                relay_event(c, ep->kind == EP_CLIENT, e);
            else if (c->st == ST_CONNECT && ep->kind == EP_UP)
                connected(c);
            else if (ep->kind == EP_CLIENT &&
                     (c->st == ST_HEAD || c->st == ST_GREETING || c->st == ST_SOCKS))
                request_event(c);
            else if (e & (EPOLLHUP | EPOLLERR))
                conn_close(c); /* the client left while its name resolved: no busy loop */
            break;
        }
        }
    }
    timers(b);
    bury(b);
    return 0;
}

int64_t sbx__broker_timeout_ms(const struct sbx__broker *b)
{
    uint64_t now = now_ns(), first = UINT64_MAX;
    for (const struct conn *c = b->conns; c; c = c->next)
        if (c->deadline_ns && c->deadline_ns < first)
            first = c->deadline_ns;
    int64_t ms = -1;
    if (first != UINT64_MAX)
        ms = first <= now ? 0 : (int64_t)((first - now + 999999) / 1000000);
    if (b->rate_wait && (ms < 0 || ms > RATE_SLICE_MS))
        ms = RATE_SLICE_MS;
    if (b->listen_paused && (ms < 0 || ms > LISTEN_RETRY_MS))
        ms = LISTEN_RETRY_MS;
    if (b->ares_ok) {
        struct timeval tv, *tvp = ares_timeout(b->ares, NULL, &tv);
        if (tvp) {
            int64_t a = (int64_t)tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000;
            if (ms < 0 || a < ms)
                ms = a;
        }
    }
    return ms;
}

void sbx__broker_set_audit(struct sbx__broker *b, sbx__broker_audit_fn fn, void *userdata)
{
    b->audit = fn;
    b->audit_data = userdata;
}

void sbx__broker_stats(const struct sbx__broker *b, struct sbx__broker_stats *out)
{
    *out = b->st;
    out->open = b->n_conns;
}

size_t sbx__broker_denials(const struct sbx__broker *b, const struct sbx__broker_denial **ret)
{
    *ret = b->denials;
    return b->n_denials;
}

int sbx__broker_report(const struct sbx__broker *b, struct sbx__net_report **ret)
{
    struct sbx__net_report *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    sbx__broker_stats(b, &r->st);
    r->n_denials = b->n_denials;
    for (size_t i = 0; i < b->n_denials; i++) {
        const struct sbx__broker_denial *d = &b->denials[i];
        memcpy(r->denials[i].host, d->host, sizeof(d->host));
        memcpy(r->denials[i].address, d->address, sizeof(d->address));
        r->denials[i].port = d->port;
        r->denials[i].reason = d->reason;
        snprintf(r->denials[i].rule, sizeof(r->denials[i].rule), "%s", d->rule);
        r->denials[i].time_ns = d->time_ns;
    }
    *ret = r;
    return 0;
}

void sbx__broker_free(struct sbx__broker *b)
{
    if (!b)
        return;
    while (b->conns) {
        struct conn *c = b->conns;
        c->end = SBX__BR_OK;
        conn_close(c);
    }
    if (b->ares_ok) {
        ares_destroy(b->ares); /* the callbacks of the queries left bury their connections */
        ares_library_cleanup();
    }
    bury(b);
    close(b->lfd);
    close(b->epfd);
    sbx__egress_free(b->cfg);
    free(b);
}
