/* sbx_run: spawn with the output captured and the input fed by the event
 * engine (engine.c), and wait. */
#include <errno.h>

#include "internal.h"

int sbx_run_with(const sbx_policy *policy, const char *const *argv, const sbx_spawn_opts *opts,
                 sbx_result **ret)
{
    sbx__check_arg(policy);
    sbx__check_arg(argv);
    sbx__check_arg(ret);
    sbx_spawn_opts o = SBX_SPAWN_OPTS_INIT;
    if (opts) {
        int r = sbx__sized_copy(&o, sizeof(o), opts, opts->size, SBX__OPTS_SIZE_0_2, __func__,
                                "sbx_spawn_opts");
        if (r < 0)
            return r;
    }
    sbx_io io = SBX_IO_INIT;
    io.stdin_mode = SBX_STDIO_NULL; /* unless there is input: then the engine feeds it */
    o.io = &io;
    o.capture = 1;
    sbx_child *child;
    /* No survivor, in any configuration: the subreaper init when neither a
     * pid namespace nor a cgroup kills the tree. */
    int r = sbx__spawn(policy, argv, &o, SBX__SPAWN_SUBREAPER, &child);
    if (r < 0)
        return r;
    r = sbx_child_wait(child, ret);
    sbx_child_free(child);
    return r;
}

int sbx_run(const sbx_policy *policy, const char *const *argv, const void *input, size_t input_len,
            sbx_result **ret)
{
    sbx__check_arg(policy);
    sbx__check_arg(argv);
    sbx__check_arg(ret);
    sbx__check(input != NULL || input_len == 0, "sbx_run: input is NULL but input_len is %zu",
               input_len);
    sbx__check(argv[0] && argv[0][0], "sbx_run: argv[0] is missing or empty");
    sbx_spawn_opts o = SBX_SPAWN_OPTS_INIT;
    o.input = input;
    o.input_len = input_len;
    return sbx_run_with(policy, argv, &o, ret);
}
