/* Private TMPDIRs (tmpdir.c). */
#ifndef SBX_TMPDIR_H
#define SBX_TMPDIR_H

#include "internal.h"

/* Compile, after the namespaces: where the private TMPDIR goes (ll->tmp_parent)
 * and what bounds its memory (plan->mechanism[SBX_LIMIT_TMP]); removes the
 * TMPDIRs that dead hosts left there, once per process. */
SBX__HIDDEN int sbx__tmp_compile(const sbx_policy *policy, struct sbx__plan *plan);
/* Parent, per spawn: make parent/agentsbx.<tag>.XXXXXX in out (SBX__TMPDIR_MAX
 * bytes); 0 or -errno (out empty). No allocation. */
SBX__HIDDEN int sbx__tmpdir_create(const char *parent, char *out);
/* Remove what dead hosts left in parent, once per process and parent (the
 * shims' directories of capchan.c live there too). */
SBX__HIDDEN void sbx__tmpdir_sweep_once(const char *parent);
/* Remove a private TMPDIR and everything in it, following no link; clears the string. */
SBX__HIDDEN void sbx__tmpdir_remove(char *tmpdir);

#endif
