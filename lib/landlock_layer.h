/* The Landlock layer (landlock.c): its compiled plan. */
#ifndef SBX_LANDLOCK_LAYER_H
#define SBX_LANDLOCK_LAYER_H

#include "internal.h"

#define SBX__MAX_LL_RULES 1024 /* a deny without the view grants the entries around it */
#define SBX__MAX_LL_PORTS 64

struct sbx__ll_port {
    uint16_t port;
    uint64_t access;
};

struct sbx__ll_inode {
    dev_t dev;
    ino_t ino;
};

/* The compiled Landlock layer: what every ruleset of this policy contains. */
struct sbx__landlock_plan {
    int abi;
    uint64_t handled_fs, handled_net, scoped;
    uint32_t rights; /* SBX_LL_* that hold */
    bool private_tmp;
    char tmp_parent[SBX__TMP_PARENT_MAX + 1];
    struct {
        int fd; /* O_PATH, owned */
        uint64_t access;
    } rules[SBX__MAX_LL_RULES];
    size_t n_rules;
    struct sbx__ll_port ports[SBX__MAX_LL_PORTS];
    size_t n_ports;
    /* The starting directory (sbx__landlock_check_start): the directories of
     * the rules with READ_DIR, by inode (NULL: READ_DIR is not handled); without
     * a policy working directory, the paths of all the rules (NUL-separated),
     * the host's current directory when the plan was compiled (NULL: getcwd
     * failed) and whether the child can use it (list it, or reach a rule's
     * object at or beneath it). */
    struct sbx__ll_inode *listable;
    size_t n_listable;
    char *rule_paths;
    size_t rule_paths_len;
    char *start_cwd;
    bool start_usable;
};

SBX__HIDDEN void sbx__grants_free(sbx_policy *policy);
SBX__HIDDEN int sbx__landlock_compile(const sbx_policy *policy, struct sbx__plan *plan);
SBX__HIDDEN void sbx__landlock_plan_free(struct sbx__landlock_plan *ll);
/* The ABI the library uses (0: none), and what the probe observed, for
 * messages: "kernel Landlock ABI 7", or why there is none ("landlock_create_ruleset
 * returned ENOSYS: ..."). */
SBX__HIDDEN int sbx__landlock_observed(char *buf, size_t size);
/* After every layer has compiled (carve.c narrows the rules): -EACCES when
 * the policy's working directory is one the rules do not let the child read
 * (a deny covers it); without one, whether the host's current directory is
 * (a spawn naming no directory starts in / when it is not: landlock.c). */
SBX__HIDDEN int sbx__landlock_check_start(const sbx_policy *policy, struct sbx__plan *plan);

#endif
