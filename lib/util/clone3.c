/* clone3(2) with a new stack, per architecture. A child of clone3 starts on
 * the new stack with the parent's registers and cannot return into C code:
 * this trampoline makes the system call and, in the child, calls fn(arg) on
 * the new stack and exits with its value; the parent gets the raw return value
 * (a pid or -errno). Architectures without one use clone(2) (spawn.c). */
#include "util.h"

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl sbx__clone3_call\n"
        ".hidden sbx__clone3_call\n"
        ".type sbx__clone3_call,@function\n"
        "sbx__clone3_call:\n"
        "  endbr64\n"
        "  mov %rcx, %r8\n" /* arg: rcx is clobbered by syscall */
        "  mov $435, %eax\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "  xor %ebp, %ebp\n" /* child: outermost frame */
        "  mov %r8, %rdi\n"
        "  call *%rdx\n"
        "  mov %eax, %edi\n"
        "  mov $60, %eax\n" /* exit */
        "  syscall\n"
        "  hlt\n"
        "1: ret\n"
        ".size sbx__clone3_call, .-sbx__clone3_call\n");
#endif
