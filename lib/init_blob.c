/* The pid namespace's init (lib/init/sbx_init.c), embedded in the library: it
 * is run from a sealed memfd, so the library needs no file installed beside it. */
#include "internal.h"

#ifndef SBX_INIT_PATH
#error "SBX_INIT_PATH: the path of the built agentsbx-init"
#endif

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl sbx__init_blob\n"
        ".hidden sbx__init_blob\n"
        "sbx__init_blob:\n"
        ".incbin \"" SBX_INIT_PATH "\"\n"
        ".globl sbx__init_blob_end\n"
        ".hidden sbx__init_blob_end\n"
        "sbx__init_blob_end:\n"
        ".previous\n");
