/* 05-event-loop: supervise many children from one poll() loop.
 *
 * Twenty children are started at once: sixteen sleep briefly and exit, four
 * would sleep for ten seconds but their policy has a 200 ms wall-clock limit.
 * One thread waits on every child's descriptor (sbx_child_fd) and on the
 * nearest deadline (sbx_child_timeout_ms), and ends children with
 * sbx_child_poll(), which also enforces the timeouts. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>

#include <agentsbx/agentsbx.h>

#define N 20

int main(void)
{
    const char *quick[] = {"/bin/sleep", "0.05", NULL}, *slow[] = {"/bin/sleep", "10", NULL};
    sbx_policy *fast = NULL, *capped = NULL;
    sbx_child *kids[N] = {NULL};
    int left = 0, exited = 0, timed_out = 0, rc = 1;

    if (sbx_policy_new(&fast) < 0 || sbx_policy_new(&capped) < 0 ||
        sbx_limit_wall_time(fast, 5000) < 0 || sbx_limit_wall_time(capped, 200) < 0)
        goto fail;
    for (int i = 0; i < N; i++, left++)
        if (sbx_spawn(i % 5 == 4 ? capped : fast, i % 5 == 4 ? slow : quick, NULL, &kids[i]) < 0)
            goto fail;

    while (left > 0) {
        struct pollfd fds[N];
        int idx[N], n = 0, timeout = -1;
        for (int i = 0; i < N; i++) {
            if (kids[i] == NULL)
                continue;
            int64_t ms = sbx_child_timeout_ms(kids[i]);
            if (ms >= 0 && (timeout < 0 || ms < timeout))
                timeout = (int)ms;
            if ((fds[n].fd = sbx_child_fd(kids[i])) < 0)
                goto fail;
            fds[n].events = POLLIN;
            idx[n++] = i;
        }
        if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            perror("poll");
            goto out;
        }
        for (int k = 0; k < n; k++) { /* readable, or maybe past its deadline */
            sbx_result *r = NULL;
            int e = sbx_child_poll(kids[idx[k]], &r);
            if (e == -EAGAIN)
                continue;
            if (e < 0)
                goto fail;
            printf("child %2d: %s\n", idx[k], sbx_status_name(sbx_result_status(r)));
            exited += sbx_result_status(r) == SBX_STATUS_EXITED && sbx_result_exit_code(r) == 0;
            timed_out += sbx_result_status(r) == SBX_STATUS_TIMED_OUT;
            sbx_result_free(r);
            sbx_child_free(kids[idx[k]]);
            kids[idx[k]] = NULL;
            left--;
        }
    }
    printf("%d exited, %d timed out\n", exited, timed_out);
    rc = exited == N - N / 5 && timed_out == N / 5 ? 0 : 1;
    goto out;
fail:
    fprintf(stderr, "%s\n", sbx_last_error());
out:
    for (int i = 0; i < N; i++)
        sbx_child_free(kids[i]);
    sbx_policy_free(fast);
    sbx_policy_free(capped);
    return rc;
}
