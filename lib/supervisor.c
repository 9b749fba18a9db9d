/* Supervising many children from one thread (supervisor.h).
 *
 * One epoll set holds, for every supervised child, its pidfd and its seccomp
 * listener (when the violation monitor runs), and one timerfd armed, as an
 * absolute CLOCK_MONOTONIC time, at the nearest deadline. Each epoll entry's
 * data names a slot and what the descriptor is; slots live in one array and
 * are recycled through a free list, and their generation number lets the
 * deadline heap drop stale entries lazily. Ended children are queued (FIFO,
 * linked through their slots) until sbx_supervisor_next() takes them.
 *
 * Nothing here waits: a child is only reaped (through sbx_child_poll()) once
 * its pidfd is readable, and a deadline only sends SIGKILL; the kill makes
 * the pidfd readable a moment later. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "internal.h"
#include "seccomp_layer.h"

#define BATCH    256        /* events per epoll_wait */
#define NO_SLOT  UINT32_MAX /* end of a list */
#define TAG_TIME UINT64_MAX /* epoll data of the timerfd */

enum slot_state { SLOT_FREE, SLOT_RUNNING, SLOT_DONE };
enum slot_kind { KIND_PIDFD = 0, KIND_EVENT = 1 };

struct slot {
    sbx_child *child;
    sbx_result *result; /* SLOT_DONE: the result, or NULL with `err` */
    uint32_t gen;       /* bumped on every reuse */
    uint32_t next;      /* free list or done queue */
    int err;            /* SLOT_DONE: 0, or the negative errno of sbx_child_poll() */
    uint8_t state;
    bool escalation; /* an entry for the escalation of a tree kill is in the heap */
};

struct deadline {
    uint64_t ns;
    uint32_t slot, gen;
};

struct sbx_supervisor {
    int epfd, tfd;
    struct slot *slots;
    uint32_t n_slots, cap_slots;
    uint32_t free_head;
    uint32_t done_head, done_tail;
    size_t running, pending;
    struct deadline *heap; /* min-heap on ns; entries of ended children linger until popped */
    size_t n_heap, cap_heap;
    uint64_t armed_ns; /* what the timerfd is armed at; 0: disarmed */
};

static uint64_t tag(uint32_t slot, enum slot_kind kind)
{
    return ((uint64_t)slot << 1) | (uint64_t)kind;
}

/* ---- the deadline heap --------------------------------------------------------- */

static void heap_swap(struct deadline *a, struct deadline *b)
{
    struct deadline t = *a;
    *a = *b;
    *b = t;
}

static int heap_push(sbx_supervisor *sup, struct deadline d)
{
    if (sup->n_heap == sup->cap_heap) {
        size_t cap = sup->cap_heap ? sup->cap_heap * 2 : 64;
        struct deadline *h = realloc(sup->heap, cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        sup->heap = h;
        sup->cap_heap = cap;
    }
    size_t i = sup->n_heap++;
    sup->heap[i] = d;
    while (i > 0 && sup->heap[(i - 1) / 2].ns > sup->heap[i].ns) {
        heap_swap(&sup->heap[(i - 1) / 2], &sup->heap[i]);
        i = (i - 1) / 2;
    }
    return 0;
}

static void heap_pop(sbx_supervisor *sup)
{
    sup->heap[0] = sup->heap[--sup->n_heap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < sup->n_heap && sup->heap[l].ns < sup->heap[m].ns)
            m = l;
        if (r < sup->n_heap && sup->heap[r].ns < sup->heap[m].ns)
            m = r;
        if (m == i)
            break;
        heap_swap(&sup->heap[i], &sup->heap[m]);
        i = m;
    }
}

static bool heap_entry_live(const sbx_supervisor *sup, const struct deadline *d)
{
    const struct slot *s = &sup->slots[d->slot];
    return s->gen == d->gen && s->state == SLOT_RUNNING;
}

/* Drop ended children's entries from the top; kill those whose deadline passed. */
static void expire_due(sbx_supervisor *sup)
{
    uint64_t now = 0;
    while (sup->n_heap) {
        struct deadline *top = &sup->heap[0];
        if (heap_entry_live(sup, top)) {
            if (!now)
                now = sbx__now_ns();
            if (top->ns > now)
                break;
            /* killed now, reaped once its pidfd says it is gone; a tree kill
             * the subreaper init has not finished in time is escalated */
            struct deadline d = *top;
            struct slot *sl = &sup->slots[d.slot];
            if (sl->child->tree_kill_sent_ns)
                sbx__child_kill_all(sl->child);
            else
                sbx__child_expire(sl->child);
            heap_pop(sup);
            uint64_t esc = sbx__child_escalate_ns(sl->child);
            sl->escalation = esc != 0;
            if (esc) /* cannot fail: one entry was just popped */
                (void)heap_push(sup, (struct deadline){esc, d.slot, d.gen});
            continue;
        }
        heap_pop(sup);
    }
}

/* Arm the timerfd at the nearest deadline (or disarm it). */
static void arm_timer(sbx_supervisor *sup)
{
    uint64_t at = sup->n_heap ? sup->heap[0].ns : 0;
    if (at == sup->armed_ns)
        return;
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(at / 1000000000u), .tv_nsec = (long)(at % 1000000000u)}};
    /* an absolute time in the past fires at once; all zero disarms */
    if (timerfd_settime(sup->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        sup->armed_ns = at;
}

/* ---- life cycle ------------------------------------------------------------------ */

int sbx_supervisor_new(sbx_supervisor **ret)
{
    sbx__check_arg(ret);
    sbx_supervisor *sup = calloc(1, sizeof(*sup));
    if (!sup)
        return sbx__errno(-ENOMEM, "sbx_supervisor_new");
    sup->free_head = sup->done_head = sup->done_tail = NO_SLOT;
    sup->tfd = -1;
    int err;
    const char *step = "epoll_create1";
    sup->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sup->epfd < 0)
        goto fail;
    step = "timerfd_create(CLOCK_MONOTONIC)";
    sup->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (sup->tfd < 0)
        goto fail;
    step = "epoll_ctl(EPOLL_CTL_ADD, timerfd)";
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_TIME};
    if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, sup->tfd, &ev) != 0)
        goto fail;
    *ret = sup;
    return 0;
fail:
    err = -errno;
    if (sup->tfd >= 0)
        close(sup->tfd);
    if (sup->epfd >= 0)
        close(sup->epfd);
    free(sup);
    return sbx__errno(err, "sbx_supervisor_new: %s", step);
}

void sbx_supervisor_free(sbx_supervisor *sup)
{
    if (!sup)
        return;
    /* Kill every running child first, so that they die together, then reap. */
    for (uint32_t i = 0; i < sup->n_slots; i++)
        if (sup->slots[i].state == SLOT_RUNNING)
            if (sbx_child_kill(sup->slots[i].child) < 0) /* cannot fail: not NULL */
                continue;
    for (uint32_t i = 0; i < sup->n_slots; i++) {
        struct slot *s = &sup->slots[i];
        if (s->state == SLOT_FREE)
            continue;
        sbx_result_free(s->result);
        sbx_child_free(s->child);
    }
    close(sup->tfd);
    close(sup->epfd);
    free(sup->slots);
    free(sup->heap);
    free(sup);
}

/* ---- adding and removing ------------------------------------------------------------ */

static int slot_alloc(sbx_supervisor *sup, uint32_t *ret)
{
    if (sup->free_head != NO_SLOT) {
        *ret = sup->free_head;
        sup->free_head = sup->slots[*ret].next;
        return 0;
    }
    if (sup->n_slots == sup->cap_slots) {
        if (sup->cap_slots >= NO_SLOT / 4)
            return -ENOMEM;
        uint32_t cap = sup->cap_slots ? sup->cap_slots * 2 : 64;
        struct slot *s = realloc(sup->slots, cap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        sup->slots = s;
        sup->cap_slots = cap;
    }
    *ret = sup->n_slots++;
    memset(&sup->slots[*ret], 0, sizeof(struct slot));
    return 0;
}

static void slot_release(sbx_supervisor *sup, uint32_t i)
{
    struct slot *s = &sup->slots[i];
    s->child = NULL;
    s->result = NULL;
    s->err = 0;
    s->state = SLOT_FREE;
    s->escalation = false;
    s->gen++;
    s->next = sup->free_head;
    sup->free_head = i;
}

/* Stop watching a child's descriptors. The listener may have been closed by
 * the monitor already (which removed it from the set): ask for the current one. */
static void unwatch(sbx_supervisor *sup, sbx_child *child)
{
    epoll_ctl(sup->epfd, EPOLL_CTL_DEL, child->pidfd, NULL);
    int fds[SBX__EVENT_FDS];
    int n = sbx__engine_event_fds(child, fds);
    for (int k = 0; k < n; k++)
        epoll_ctl(sup->epfd, EPOLL_CTL_DEL, fds[k], NULL);
}

int sbx_supervisor_add(sbx_supervisor *sup, sbx_child *child)
{
    sbx__check_arg(sup);
    sbx__check_arg(child);
    if (child->state != SBX__RUNNING)
        return sbx__err(-EALREADY, "%s: child %d has already ended and been reaped", __func__,
                        child->pid);
    uint32_t i;
    int r = slot_alloc(sup, &i);
    if (r < 0)
        return sbx__errno(r, "%s: child %d", __func__, child->pid);
    struct slot *s = &sup->slots[i];
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag(i, KIND_PIDFD)};
    if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, child->pidfd, &ev) != 0) {
        r = -errno;
        slot_release(sup, i);
        if (r == -EEXIST)
            return sbx__err(r, "%s: child %d is already in this supervisor", __func__, child->pid);
        return sbx__errno(r, "%s: epoll_ctl(EPOLL_CTL_ADD, pidfd of child %d)", __func__,
                          child->pid);
    }
    /* The engine's descriptors: the seccomp listener, captured output, fed input. */
    int fds[SBX__EVENT_FDS];
    int n_fds = sbx__engine_event_fds(child, fds);
    for (int k = 0; k < n_fds; k++) {
        struct epoll_event eev = {.events =
                                      sbx__engine_is_input(child, fds[k]) ? EPOLLOUT : EPOLLIN,
                                  .data.u64 = tag(i, KIND_EVENT)};
        if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, fds[k], &eev) != 0) {
            r = -errno;
            unwatch(sup, child);
            slot_release(sup, i);
            return sbx__errno(r, "%s: epoll_ctl(EPOLL_CTL_ADD, an event descriptor of child %d)",
                              __func__, child->pid);
        }
    }
    if (child->deadline_ns) {
        r = heap_push(sup, (struct deadline){child->deadline_ns, i, s->gen});
        if (r < 0) {
            unwatch(sup, child);
            slot_release(sup, i);
            return sbx__errno(r, "%s: child %d", __func__, child->pid);
        }
    }
    s->child = child;
    s->state = SLOT_RUNNING;
    sup->running++;
    if (child->deadline_ns && sup->heap[0].slot == i && sup->heap[0].gen == s->gen)
        arm_timer(sup);
    return 0;
}

int sbx_supervisor_spawn(sbx_supervisor *sup, const sbx_policy *policy, const char *const *argv,
                         const sbx_io *io, sbx_child **ret)
{
    sbx__check_arg(sup);
    sbx_child *child;
    int r = sbx_spawn(policy, argv, io, &child);
    if (r < 0)
        return r;
    r = sbx_supervisor_add(sup, child);
    if (r < 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", sbx_last_error());
        sbx_child_free(child); /* kills and reaps it */
        return sbx__err(r, "%s", msg);
    }
    if (ret)
        *ret = child;
    return 0;
}

int sbx_supervisor_remove(sbx_supervisor *sup, sbx_child *child)
{
    sbx__check_arg(sup);
    sbx__check_arg(child);
    for (uint32_t i = 0; i < sup->n_slots; i++) {
        struct slot *s = &sup->slots[i];
        if (s->state == SLOT_FREE || s->child != child)
            continue;
        if (s->state == SLOT_DONE)
            return sbx__err(-EALREADY, "%s: child %d has ended: take it with sbx_supervisor_next()",
                            __func__, child->pid);
        unwatch(sup, child);
        sup->running--;
        slot_release(sup, i); /* its heap entry, if any, is now stale */
        return 0;
    }
    return sbx__err(-ENOENT, "%s: child %d is not in this supervisor", __func__, child->pid);
}

/* ---- running ---------------------------------------------------------------------- */

int sbx_supervisor_fd(const sbx_supervisor *sup)
{
    sbx__check_arg(sup);
    return sup->epfd;
}

int64_t sbx_supervisor_timeout_ms(const sbx_supervisor *sup)
{
    if (!sup)
        return -1;
    /* The top may belong to a child that ended: skip to the nearest live one.
     * Ended children's entries are few at the top (they are popped by every step). */
    uint64_t at = 0;
    for (size_t i = 0; i < sup->n_heap; i++) {
        const struct deadline *d = &sup->heap[i];
        if (heap_entry_live(sup, d) && (!at || d->ns < at))
            at = d->ns;
        if (i == 0 && at) /* the top is live: it is the minimum */
            break;
    }
    if (!at)
        return -1;
    uint64_t now = sbx__now_ns();
    return now >= at ? 0 : (int64_t)((at - now + 999999) / 1000000);
}

static void finish(sbx_supervisor *sup, uint32_t i, int err, sbx_result *result)
{
    struct slot *s = &sup->slots[i];
    unwatch(sup, s->child);
    s->state = SLOT_DONE;
    s->err = err;
    s->result = result;
    s->next = NO_SLOT;
    if (sup->done_tail == NO_SLOT)
        sup->done_head = i;
    else
        sup->slots[sup->done_tail].next = i;
    sup->done_tail = i;
    sup->running--;
    sup->pending++;
}

int sbx_supervisor_step(sbx_supervisor *sup)
{
    sbx__check_arg(sup);
    struct epoll_event ev[BATCH];
    int ended = 0;
    expire_due(sup);
    /* Bounded: every child can be handled once, plus one pass for the rest. */
    size_t passes = sup->running / BATCH + 2;
    for (size_t pass = 0; pass < passes; pass++) {
        int n = epoll_wait(sup->epfd, ev, BATCH, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sbx__errno(-errno, "%s: epoll_wait", __func__);
        }
        for (int k = 0; k < n; k++) {
            if (ev[k].data.u64 == TAG_TIME) {
                uint64_t ticks;
                while (read(sup->tfd, &ticks, sizeof(ticks)) < 0 && errno == EINTR)
                    ;
                sup->armed_ns = 0; /* fired: re-armed below */
                expire_due(sup);
                continue;
            }
            uint32_t i = (uint32_t)(ev[k].data.u64 >> 1);
            if (i >= sup->n_slots || sup->slots[i].state != SLOT_RUNNING)
                continue; /* ended earlier in this batch */
            sbx_child *child = sup->slots[i].child;
            /* The engine's step (engine.c): answers the listener (closed, and so
             * dropped from the set, when no process uses the filter any more),
             * reads captured output, feeds input; reaps the child at its end. */
            sbx_result *result = NULL;
            int r = sbx_child_poll(child, &result);
            if (r == -EAGAIN) {
                /* killed (violation limit): wake for the escalation if the
                 * init does not end in time */
                uint64_t esc = sbx__child_escalate_ns(child);
                if (esc && !sup->slots[i].escalation &&
                    heap_push(sup, (struct deadline){esc, i, sup->slots[i].gen}) == 0)
                    sup->slots[i].escalation = true;
                continue;
            }
            finish(sup, i, r, result);
            ended++;
        }
        if (n < BATCH)
            break;
    }
    expire_due(sup); /* also drops the entries of children that ended above */
    arm_timer(sup);
    return ended;
}

int sbx_supervisor_wait(sbx_supervisor *sup, int timeout_ms)
{
    sbx__check_arg(sup);
    sbx__check(timeout_ms >= -1, "%s: timeout_ms is %d, below -1", __func__, timeout_ms);
    struct epoll_event ev;
    if (epoll_wait(sup->epfd, &ev, 1, timeout_ms) < 0)
        return sbx__errno(-errno, "%s: epoll_wait", __func__);
    return sbx_supervisor_step(sup);
}

int sbx_supervisor_next(sbx_supervisor *sup, sbx_child **ret_child, sbx_result **ret_result)
{
    sbx__check_arg(sup);
    sbx__check_arg(ret_child);
    sbx__check_arg(ret_result);
    uint32_t i = sup->done_head;
    if (i == NO_SLOT)
        return -EAGAIN;
    struct slot *s = &sup->slots[i];
    sup->done_head = s->next;
    if (sup->done_head == NO_SLOT)
        sup->done_tail = NO_SLOT;
    sup->pending--;
    sbx_child *child = s->child;
    sbx_result *result = s->result;
    int err = s->err;
    slot_release(sup, i);
    *ret_child = child;
    *ret_result = result;
    if (err == -ECHILD)
        return sbx__err(err,
                        "child %d was reaped outside the library (waitpid(-1) or a SIGCHLD "
                        "handler in the host, or SIGCHLD set to SIG_IGN): its exit status is lost",
                        child->pid);
    if (err < 0)
        return sbx__errno(err,
                          "%s: building the result of child %d (ask again with "
                          "sbx_child_poll())",
                          __func__, child->pid);
    return 0;
}

size_t sbx_supervisor_running(const sbx_supervisor *sup)
{
    return sup ? sup->running : 0;
}

size_t sbx_supervisor_pending(const sbx_supervisor *sup)
{
    return sup ? sup->pending : 0;
}
