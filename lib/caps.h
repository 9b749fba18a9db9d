/* Capabilities (caps.c): every child drops them before it executes, in every
 * configuration, keeping only the ones the policy names. Nothing here is
 * exported. */
#ifndef SBX_CAPS_H
#define SBX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#define SBX__CAPSETS 5 /* enum sbx_capset */

/* The compiled layer: decided once per policy. */
struct sbx__caps_plan {
    uint64_t keep;          /* capabilities the program keeps */
    uint64_t host_bounding; /* the host's bounding set: reported when the child cannot drop it */
    int last_cap;           /* the highest capability this kernel knows */
    bool nothing_to_drop;   /* the child starts with empty permitted and inheritable sets (an
                               unprivileged host without a user namespace): no system call */
};

/* The steps of the child's drop, for the message. */
enum sbx__caps_step {
    SBX__CAPS_READ = 1,
    SBX__CAPS_KEEP,     /* a kept capability is not in the permitted set */
    SBX__CAPS_AMBIENT,  /* clearing or raising the ambient set */
    SBX__CAPS_BOUNDING, /* dropping from the bounding set */
    SBX__CAPS_SECUREBITS,
    SBX__CAPS_SET,  /* capset */
    SBX__CAPS_LEFT, /* a capability it was not given is still held */
};

struct sbx_policy;
struct sbx__plan;

/* Compile the policy's capabilities into plan->caps; after the namespace
 * layer (a user namespace gives the child a full set to drop). */
int sbx__caps_compile(const struct sbx_policy *policy, struct sbx__plan *plan)
    __attribute__((visibility("hidden")));

/* Child, after no_new_privs and before Landlock: drop every capability but
 * the kept ones, lock the securebits, verify, and record the five sets the
 * program starts with in out[enum sbx_capset]. System calls only. Returns 0,
 * or -1 with errno, *step and *cap saying where (cap: -1 when none applies). */
int sbx__caps_apply(const struct sbx__caps_plan *cp, uint64_t out[SBX__CAPSETS], volatile int *step,
                    volatile int *cap) __attribute__((visibility("hidden")));

/* Parent: the error of a child that failed at the capability stage. */
int sbx__caps_report(int step, int cap, int err) __attribute__((visibility("hidden")));

#endif
