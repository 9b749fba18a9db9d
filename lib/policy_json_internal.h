/* Internal interface of policy files (policy_json.c) and built-in profiles
 * (profiles.c). Nothing here is exported. */
#ifndef SBX_POLICY_JSON_INTERNAL_H
#define SBX_POLICY_JSON_INTERNAL_H

#include "internal.h"

/* Run change(scratch, arg) on a scratch copy of every setting of `policy`
 * that a policy file can hold; if it returns 0, the policy takes the
 * scratch's settings, otherwise it is left as it was. Returns what change
 * returned (a negative errno, with the last error set). */
SBX__HIDDEN int sbx__policy_transact(sbx_policy *policy, int (*change)(sbx_policy *, void *),
                                     void *arg);

/* Apply the named profile directly (no transaction: the caller has one). */
SBX__HIDDEN int sbx__profile_apply(sbx_policy *policy, const char *name);

#endif
