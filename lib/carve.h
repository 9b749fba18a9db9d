/* Carve-outs (carve.c): the compiled list of denied paths, which the mount
 * view (view.c) covers with mounts and, without a view, carve.c expresses
 * with Landlock rules. Nothing here is exported. */
#ifndef SBX_CARVE_H
#define SBX_CARVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sbx__carve_origin {
    SBX__CARVE_EXPLICIT,  /* sbx_deny_path() */
    SBX__CARVE_SYSTEM,    /* hidden in the default view (/etc/shadow...) */
    SBX__CARVE_PROTECTED, /* a name of the protected list in a write grant (read-only) */
};

/* One denied path, as the host has it when the policy is compiled. */
struct sbx__carve_entry {
    char *path;       /* owned: as named */
    char *real;       /* owned: without links; the existing part resolved, the rest appended */
    uint64_t access;  /* SBX_FS_READ (hidden) and/or SBX_FS_WRITE (read-only) */
    uint8_t origin;   /* enum sbx__carve_origin */
    const char *name; /* PROTECTED: the list's name (owned by the plan's names) */
    bool exists, is_dir;
    uint64_t dev, ino; /* when it exists */
};

struct sbx__carve_plan {
    size_t n;
    struct sbx__carve_entry *v;
};

#endif
