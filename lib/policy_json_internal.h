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

/* Each section of a policy file (policy_json_sections.c): its reader applies
 * the section's JSON value to p; its writer puts what differs from a new
 * policy (def) into the document. */
struct sbx__json_ctx;
struct sbx__json_out;
struct json_object;
SBX__HIDDEN int sbx__policy_json_apply_env(struct sbx__json_ctx *c, sbx_policy *p,
                                           struct json_object *env);
SBX__HIDDEN int sbx__policy_json_apply_limits(struct sbx__json_ctx *c, sbx_policy *p,
                                              struct json_object *limits);
SBX__HIDDEN int sbx__policy_json_apply_grants(struct sbx__json_ctx *c, sbx_policy *p,
                                              struct json_object *grants);
SBX__HIDDEN int sbx__policy_json_apply_tools(struct sbx__json_ctx *c, sbx_policy *p,
                                             struct json_object *tools);
SBX__HIDDEN int sbx__policy_json_apply_network(struct sbx__json_ctx *c, sbx_policy *p,
                                               struct json_object *net);
SBX__HIDDEN int sbx__policy_json_apply_seccomp(struct sbx__json_ctx *c, sbx_policy *p,
                                               struct json_object *sc);
SBX__HIDDEN int sbx__policy_json_apply_cgroup(struct sbx__json_ctx *c, sbx_policy *p,
                                              struct json_object *cg);
SBX__HIDDEN int sbx__policy_json_apply_output(struct sbx__json_ctx *c, sbx_policy *p,
                                              struct json_object *out);
SBX__HIDDEN int sbx__policy_json_apply_unix_sockets(struct sbx__json_ctx *c, sbx_policy *p,
                                                    struct json_object *v);
SBX__HIDDEN int sbx__policy_json_apply_isolation(struct sbx__json_ctx *c, sbx_policy *p,
                                                 struct json_object *v);
SBX__HIDDEN int sbx__policy_json_apply_capabilities(struct sbx__json_ctx *c, sbx_policy *p,
                                                    struct json_object *caps);
SBX__HIDDEN void sbx__policy_json_write_env(struct sbx__json_out *o, struct json_object *doc,
                                            const sbx_policy *p, const sbx_policy *def);
SBX__HIDDEN void sbx__policy_json_write_limits(struct sbx__json_out *o, struct json_object *doc,
                                               const sbx_policy *p, const sbx_policy *def);
SBX__HIDDEN void sbx__policy_json_write_tool_rules(struct sbx__json_out *o, struct json_object *doc,
                                                   const sbx_policy *p);
SBX__HIDDEN void sbx__policy_json_write_grants(struct sbx__json_out *o, struct json_object *doc,
                                               const sbx_policy *p);
SBX__HIDDEN void sbx__policy_json_write_network(struct sbx__json_out *o, struct json_object *doc,
                                                const sbx_policy *p);
SBX__HIDDEN void sbx__policy_json_write_seccomp(struct sbx__json_out *o, struct json_object *doc,
                                                const sbx_policy *p);
SBX__HIDDEN void sbx__policy_json_write_cgroup(struct sbx__json_out *o, struct json_object *doc,
                                               const sbx_policy *p, const sbx_policy *def);
SBX__HIDDEN void sbx__policy_json_write_output(struct sbx__json_out *o, struct json_object *doc,
                                               const sbx_policy *p);
SBX__HIDDEN void sbx__policy_json_write_capabilities(struct sbx__json_out *o,
                                                     struct json_object *doc, const sbx_policy *p);

SBX__HIDDEN int sbx__policy_json_apply_deny(struct sbx__json_ctx *c, sbx_policy *p,
                                            struct json_object *denies);
SBX__HIDDEN int sbx__policy_json_apply_protected(struct sbx__json_ctx *c, sbx_policy *p,
                                                 struct json_object *names);
SBX__HIDDEN int sbx__policy_json_apply_binds(struct sbx__json_ctx *c, sbx_policy *p,
                                             struct json_object *binds);
SBX__HIDDEN int sbx__policy_json_apply_overlays(struct sbx__json_ctx *c, sbx_policy *p,
                                                struct json_object *list);
SBX__HIDDEN int sbx__policy_json_apply_tmpfs(struct sbx__json_ctx *c, sbx_policy *p,
                                             struct json_object *list);
SBX__HIDDEN void sbx__policy_json_write_deny(struct sbx__json_out *o, struct json_object *doc,
                                             const sbx_policy *p);
SBX__HIDDEN void sbx__policy_json_write_protected(struct sbx__json_out *o, struct json_object *doc,
                                                  const sbx_policy *p);
SBX__HIDDEN void sbx__policy_json_write_mounts(struct sbx__json_out *o, struct json_object *doc,
                                               const sbx_policy *p);

SBX__HIDDEN int sbx__policy_json_apply_tool_bundles(struct sbx__json_ctx *c, sbx_policy *p,
                                                    struct json_object *bundles);

/* Apply the named profile directly (no transaction: the caller has one). */
SBX__HIDDEN int sbx__profile_apply(sbx_policy *policy, const char *name);

#endif
