/* The table of layers (layer.h), in the order the core calls them.
 *
 * Compile order is the order of decisions: the cgroup first (it decides which
 * limits the rlimits hold), the carve-outs (the denied paths, resolved, which
 * the view and Landlock read; carve.c), Landlock (its rights are read by the namespaces'
 * mount view), the namespaces (the view decides where the private TMPDIR
 * is), the carve-outs' Landlock part (after the namespaces: without a
 * mount view they rewrite Landlock's rules, or fail; carve.c), the TMPDIR (bounded by the memory
 * limit through the cgroup, the view or a disk), capabilities (after the user namespace), seccomp
 * (the filter depends on the namespaces and on the unix sockets granted), and the output filter and
 * audit log last. Per spawn the same order holds: Landlock's ruleset exists before the TMPDIR adds
 * its rule to it; the monitor's socket pair and the audit's spawn event come last. */
#include "layer.h"

const struct sbx__layer *const sbx__layers[] = {
    &sbx__layer_cgroup,
    &sbx__layer_rlimits,
    &sbx__layer_carve,
    &sbx__layer_landlock,
    &sbx__layer_namespaces,
    &sbx__layer_carve_landlock,
    &sbx__layer_overlay,
    &sbx__layer_tmp,
    &sbx__layer_egress,
    &sbx__layer_caps,
    &sbx__layer_seccomp,
    &sbx__layer_output,
    &sbx__layer_capchan,
    NULL,
};
