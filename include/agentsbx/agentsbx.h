/**
 * @file agentsbx/agentsbx.h
 * @brief libagentsbx: run untrusted programs confined. Include this header only.
 *
 * @code
 * sbx_policy *p;
 * sbx_result *r;
 * const char *argv[] = {"echo", "hello", NULL};
 * if (sbx_policy_new(&p) == 0 && sbx_run(p, argv, NULL, 0, &r) == 0) {
 *     printf("%s", sbx_result_stdout(r, NULL));
 *     sbx_result_free(r);
 * }
 * sbx_policy_free(p);
 * @endcode
 */
#ifndef AGENTSBX_AGENTSBX_H
#define AGENTSBX_AGENTSBX_H

#include "capability.h"
#include "capchan.h"
#include "carve.h"
#include "cgroup.h"
#include "child.h"
#include "common.h"
#include "namespace.h"
#include "network.h"
#include "output.h"
#include "policy.h"
#include "policy_json.h"
#include "probe.h"
#include "result.h"
#include "seccomp.h"
#include "supervisor.h"
#include "units.h"
#include <agentsbx/version.h>

#endif /* AGENTSBX_AGENTSBX_H */
