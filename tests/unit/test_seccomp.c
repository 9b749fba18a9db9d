/* Unit tests of the seccomp layer, without spawning: the public API's
 * argument checks, and the filter builder (lib/seccomp_filter.c, compiled
 * into this test) whose programs are run through a classic-BPF interpreter
 * on made-up system calls: the architecture check (x32, i386), every deny
 * table row, the argument checks (the low 32 bits of ioctl requests, clone
 * flags, socket families and types, personality), allow-list mode (its
 * argument-checked calls must decide exactly as the deny list does), the
 * policy's own rules, and the cost of an allowed call as the filter grows.
 * Also checks that docs/seccomp.md mirrors the deny table. */
#include <asm/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <agentsbx/agentsbx.h>

#include "extra_syscalls.h"
#include "seccomp_filter.h"
#include "testutil.h"

#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* ---- a classic BPF interpreter for seccomp programs ------------------------- */

struct call {
    uint32_t arch;
    int nr;
    uint64_t args[6];
};

static uint32_t load_word(const struct call *c, uint32_t off)
{
    struct seccomp_data d = {.nr = c->nr, .arch = c->arch};
    memcpy(d.args, c->args, sizeof(d.args));
    assert_true(off % 4 == 0 && off + 4 <= sizeof(d));
    uint32_t w;
    memcpy(&w, (const char *)&d + off, 4);
    return w;
}

/* Run the program; returns its verdict, *steps the instructions executed. */
static uint32_t run_bpf(const struct sock_fprog *prog, const struct call *c, unsigned *steps)
{
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
    unsigned n = 0;
    for (unsigned pc = 0; pc < prog->len; pc++) {
        const struct sock_filter *f = &prog->filter[pc];
        n++;
        switch (BPF_CLASS(f->code)) {
        case BPF_LD:
            if (f->code == (BPF_LD | BPF_W | BPF_ABS))
                a = load_word(c, f->k);
            else if (f->code == (BPF_LD | BPF_IMM))
                a = f->k;
            else if (f->code == (BPF_LD | BPF_MEM))
                a = mem[f->k];
            else
                fail_msg("unsupported LD 0x%x", f->code);
            break;
        case BPF_LDX:
            if (f->code == (BPF_LDX | BPF_IMM))
                x = f->k;
            else if (f->code == (BPF_LDX | BPF_MEM))
                x = mem[f->k];
            else
                fail_msg("unsupported LDX 0x%x", f->code);
            break;
        case BPF_ST: mem[f->k] = a; break;
        case BPF_STX: mem[f->k] = x; break;
        case BPF_ALU: {
            uint32_t v = BPF_SRC(f->code) == BPF_X ? x : f->k;
            switch (BPF_OP(f->code)) {
            case BPF_AND: a &= v; break;
            case BPF_OR: a |= v; break;
            case BPF_ADD: a += v; break;
            case BPF_SUB: a -= v; break;
            case BPF_LSH: a <<= v; break;
            case BPF_RSH: a >>= v; break;
            case BPF_NEG: a = -a; break;
            default: fail_msg("unsupported ALU 0x%x", f->code);
            }
            break;
        }
        case BPF_JMP: {
            uint32_t v = BPF_SRC(f->code) == BPF_X ? x : f->k;
            bool t;
            switch (BPF_OP(f->code)) {
            case BPF_JA: pc += f->k; continue;
            case BPF_JEQ: t = a == v; break;
            case BPF_JGT: t = a > v; break;
            case BPF_JGE: t = a >= v; break;
            case BPF_JSET: t = (a & v) != 0; break;
            default: fail_msg("unsupported JMP 0x%x", f->code); return 0;
            }
            pc += t ? f->jt : f->jf;
            break;
        }
        case BPF_RET:
            if (steps)
                *steps = n;
            return BPF_RVAL(f->code) == BPF_A ? a : f->k;
        case BPF_MISC:
            if (BPF_MISCOP(f->code) == BPF_TAX)
                x = a;
            else
                a = x;
            break;
        default: fail_msg("unsupported instruction 0x%x", f->code);
        }
    }
    fail_msg("the program ran off its end");
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

#define ALLOW  SECCOMP_RET_ALLOW
#define NOTIFY SECCOMP_RET_USER_NOTIF
#define KILL   SECCOMP_RET_KILL_PROCESS
#define ERR(e) (SECCOMP_RET_ERRNO | (uint32_t)(e))

static int nr_of(const char *name)
{
    int nr = sbx__syscall_resolve(name);
    if (nr < 0)
        fail_msg("cannot resolve %s", name);
    return nr;
}

struct filter {
    struct sock_fprog prog;
};

static struct filter build_spec(const struct sbx__filter_spec *spec, bool notify)
{
    assert_int_equal(seccomp_api_set(6), 0);
    struct filter f = {{0, NULL}};
    int bad = -2;
    int r = sbx__filter_build(spec, notify, &f.prog, &bad);
    if (r != 0)
        fail_msg("sbx__filter_build: %d (rule for %d)", r, bad);
    assert_true(f.prog.len > 0 && f.prog.len <= BPF_MAXINSNS);
    return f;
}

static struct filter build(bool allowlist, bool network, bool notify,
                           const struct sbx__filter_rule *rules, size_t n_rules)
{
    /* The builder's output must not depend on what the running kernel (or
     * valgrind, which does not implement seccomp(2)) tells libseccomp: pin
     * its API level to 6, which has every action and flag the library uses. */
    assert_int_equal(seccomp_api_set(6), 0);
    struct sbx__filter_spec spec = {
        .allowlist = allowlist, .network = network, .rules = rules, .n_rules = n_rules};
    struct filter f = {{0, NULL}};
    int bad = -2;
    int r = sbx__filter_build(&spec, notify, &f.prog, &bad);
    if (r != 0)
        fail_msg("sbx__filter_build: %d (rule for %d)", r, bad);
    assert_true(f.prog.len > 0 && f.prog.len <= BPF_MAXINSNS);
    return f;
}

static void filter_free(struct filter *f)
{
    free(f->prog.filter);
}

static uint32_t verdict(const struct filter *f, const char *name, uint64_t a0, uint64_t a1,
                        uint64_t a2)
{
    struct call c = {AUDIT_ARCH_X86_64, nr_of(name), {a0, a1, a2, 0, 0, 0}};
    return run_bpf(&f->prog, &c, NULL);
}

#define expect(f, want, name, a0, a1, a2)                                                          \
    do {                                                                                           \
        uint32_t got_ = verdict((f), (name), (a0), (a1), (a2));                                    \
        if (got_ != (want))                                                                        \
            fail_msg("%s(0x%llx, 0x%llx, 0x%llx): verdict 0x%x, expected 0x%x", (name),            \
                     (unsigned long long)(a0), (unsigned long long)(a1), (unsigned long long)(a2), \
                     got_, (uint32_t)(want));                                                      \
    } while (0)

/* xorshift64*: a fixed sequence, so that failures reproduce. */
static uint64_t rnd(void)
{
    static uint64_t s = 0x9e3779b97f4a7c15ull;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
}

/* ---- issue 13: processes outside, anonymous executables, host sockets, terminals ---- */

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008u
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010u
#endif

/* Calls on another pid: denied without a pid namespace, allowed with one; the
 * allow-list mode lets through exactly what the deny-list mode does. */
static void test_seccomp__filter_other_processes(void **state)
{
    (void)state;
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        for (int pid_ns = 0; pid_ns < 2; pid_ns++) {
            struct sbx__filter_spec spec = {.allowlist = allowlist, .pid_ns = pid_ns};
            struct filter f = build_spec(&spec, false);
            uint32_t other = pid_ns ? ALLOW : SECCOMP_RET_ERRNO | EPERM;
            expect(&f, ALLOW, "prlimit64", 0, 0, 0);
            expect(&f, other, "prlimit64", 4242, 0, 0);
            expect(&f, other, "prlimit64", 1ull << 32, 0, 0); /* upper bits: denied too */
            expect(&f, ALLOW, "sched_setaffinity", 0, 128, 0);
            expect(&f, other, "sched_setaffinity", 1, 128, 0);
            expect(&f, ALLOW, "get_robust_list", 0, 0, 0);
            expect(&f, other, "get_robust_list", 7, 0, 0);
            expect(&f, ALLOW, "setpriority", 0 /* PRIO_PROCESS */, 0, 10);
            expect(&f, ALLOW, "setpriority", 1 /* PRIO_PGRP */, 0, 10);
            expect(&f, other, "setpriority", 2 /* PRIO_USER */, 0, 10);
            expect(&f, other, "setpriority", 0, 4242, 10);
            if (!allowlist) { /* not in the base set: the allow-list mode denies them anyway */
                expect(&f, ALLOW, "sched_setscheduler", 0, 0, 0);
                expect(&f, other, "sched_setscheduler", 9, 0, 0);
                expect(&f, other, "sched_setparam", 9, 0, 0);
                expect(&f, other, "sched_setattr", 9, 0, 0);
                expect(&f, other, "migrate_pages", 9, 0, 0);
                expect(&f, other, "move_pages", 9, 0, 0);
                expect(&f, ALLOW, "ioprio_set", 1 /* WHO_PROCESS */, 0, 0);
                expect(&f, ALLOW, "ioprio_set", 2 /* WHO_PGRP */, 0, 0);
                expect(&f, other, "ioprio_set", 3 /* WHO_USER */, 0, 0);
                expect(&f, other, "ioprio_set", 1, 9, 0);
            }
            filter_free(&f);
        }
    }
}

static void test_seccomp__filter_memfd_never_executable(void **state)
{
    (void)state;
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        struct sbx__filter_spec spec = {.allowlist = allowlist};
        struct filter n = build_spec(&spec, true), e = build_spec(&spec, false);
        expect(&n, ALLOW, "memfd_create", 0, MFD_NOEXEC_SEAL, 0);
        expect(&n, ALLOW, "memfd_create", 0, MFD_NOEXEC_SEAL | 1 /* CLOEXEC */, 0);
        expect(&n, NOTIFY, "memfd_create", 0, 0, 0); /* the monitor makes it, sealed */
        expect(&n, NOTIFY, "memfd_create", 0, 1, 0);
        expect(&n, NOTIFY, "memfd_create", 0, MFD_EXEC, 0); /* reported, EACCES */
        expect(&e, ALLOW, "memfd_create", 0, MFD_NOEXEC_SEAL, 0);
        expect(&e, SECCOMP_RET_ERRNO | EACCES, "memfd_create", 0, 1, 0);
        expect(&e, SECCOMP_RET_ERRNO | EACCES, "memfd_create", 0, MFD_EXEC, 0);
        filter_free(&n);
        filter_free(&e);
    }
}

static void test_seccomp__filter_unix_sockets(void **state)
{
    (void)state;
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        for (int view = 0; view < 2; view++) {
            struct sbx__filter_spec spec = {.allowlist = allowlist, .unix_sockets = view};
            struct filter f = build_spec(&spec, true);
            /* Not reported: glibc's nscd probe makes one in many programs. */
            expect(&f, view ? ALLOW : SECCOMP_RET_ERRNO | EPERM, "socket", AF_UNIX, SOCK_STREAM, 0);
            expect(&f, view ? ALLOW : SECCOMP_RET_ERRNO | EPERM, "socket", AF_UNIX, SOCK_DGRAM, 0);
            expect(&f, ALLOW, "socketpair", AF_UNIX, SOCK_STREAM, 0);
            expect(&f, ALLOW, "socket", AF_INET, SOCK_STREAM, 0);
            expect(&f, NOTIFY, "socket", AF_PACKET, SOCK_RAW, 0);
            filter_free(&f);
        }
    }
}

static void test_seccomp__filter_tiocsctty_and_modify_ldt(void **state)
{
    (void)state;
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        struct filter f = build(allowlist, false, false, NULL, 0);
        /* TIOCSCTTY: allowed (forkpty, login_tty, script); its steal needs
         * CAP_SYS_ADMIN, which the child does not keep here. */
        expect(&f, ALLOW, "ioctl", 0, TIOCSCTTY, 1);
        expect(&f, ALLOW, "ioctl", 0, TIOCSCTTY, 0);
        expect(&f, ALLOW, "ioctl", 0, 0xdead00000000ull | TIOCSCTTY, 0);
        expect(&f, SECCOMP_RET_ERRNO | EPERM, "ioctl", 0, TIOCSTI, 0);
        expect(&f, SECCOMP_RET_ERRNO | EPERM, "ioctl", 0, TIOCLINUX, 0);
        expect(&f, ALLOW, "ioctl", 0, TCGETS, 0);
        expect(&f, ALLOW, "ioctl", 0, TIOCGWINSZ, 0);
        expect(&f, ALLOW, "ioctl", 0, TIOCSCTTY ^ 0x10000, 0);
        /* Every request that differs from the three in the bits where they differ. */
        for (uint32_t low = 0; low < 0x20; low++) {
            uint32_t req = 0x5400 | low;
            bool denied = req == TIOCSTI || req == TIOCLINUX;
            expect(&f, denied ? SECCOMP_RET_ERRNO | EPERM : ALLOW, "ioctl", 0, req, 1);
            expect(&f, denied ? SECCOMP_RET_ERRNO | EPERM : ALLOW, "ioctl", 0, req, 0);
        }
        if (!allowlist)
            expect(&f, SECCOMP_RET_ERRNO | EPERM, "modify_ldt", 0, 0, 0);
        filter_free(&f);

        /* A policy that keeps CAP_SYS_ADMIN: the steal is denied, the rest not. */
        struct sbx__filter_spec spec = {.allowlist = allowlist, .sys_admin = true};
        struct filter g = {{0, NULL}};
        int bad = -2;
        assert_int_equal(sbx__filter_build(&spec, false, &g.prog, &bad), 0);
        expect(&g, SECCOMP_RET_ERRNO | EPERM, "ioctl", 0, TIOCSCTTY, 1);
        expect(&g, SECCOMP_RET_ERRNO | EPERM, "ioctl", 0, TIOCSCTTY, 0x100000000ull);
        expect(&g, SECCOMP_RET_ERRNO | EPERM, "ioctl", 0, 0xdead00000000ull | TIOCSCTTY, 1);
        expect(&g, ALLOW, "ioctl", 0, TIOCSCTTY, 0);
        expect(&g, SECCOMP_RET_ERRNO | EPERM, "ioctl", 0, TIOCSTI, 0);
        expect(&g, ALLOW, "ioctl", 0, TCGETS, 0);
        filter_free(&g);
    }
}

/* ---- the numbers of the tables (issue 13, item 8) ----------------------------------- */

/* The kernel's own numbers, as this system's headers (<asm/unistd_64.h>) have
 * them: every call they name. */
static const struct {
    const char *name;
    int nr;
} header_numbers[] = {
#include "kernel_syscalls_x86_64.h"
};

/* Calls newer than Debian 12's headers (Linux 6.1), copied from the kernel's
 * arch/x86/entry/syscalls/syscall_64.tbl (Linux 6.18). */
static const struct {
    const char *name;
    int nr;
} table_numbers[] = {
    {"uretprobe", 335},
    {"cachestat", 451},
    {"fchmodat2", 452},
    {"map_shadow_stack", 453},
    {"futex_wake", 454},
    {"futex_wait", 455},
    {"futex_requeue", 456},
    {"statmount", 457},
    {"listmount", 458},
    {"lsm_get_self_attr", 459},
    {"lsm_set_self_attr", 460},
    {"lsm_list_modules", 461},
    {"mseal", 462},
    {"setxattrat", 463},
    {"getxattrat", 464},
    {"listxattrat", 465},
    {"removexattrat", 466},
    {"open_tree_attr", 467},
    {"file_getattr", 468},
    {"file_setattr", 469},
};

/* The number the kernel's headers or syscall_64.tbl give a name, or -1. */
static int kernel_number(const char *name)
{
    for (size_t i = 0; i < sizeof(header_numbers) / sizeof(header_numbers[0]); i++)
        if (!strcmp(header_numbers[i].name, name))
            return header_numbers[i].nr;
    for (size_t i = 0; i < sizeof(table_numbers) / sizeof(table_numbers[0]); i++)
        if (!strcmp(table_numbers[i].name, name))
            return table_numbers[i].nr;
    return -1;
}

/* A name of one of the library's tables: the kernel knows it, and the
 * library and libseccomp (where it knows the call) give the kernel's number. */
static void check_table_name(const char *table, const char *name)
{
    int nr = kernel_number(name);
    if (nr < 0)
        fail_msg("%s: %s is neither in <asm/unistd_64.h> nor in the list from syscall_64.tbl",
                 table, name);
    int ours = sbx__syscall_resolve(name);
    int lib = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
    if (ours != nr)
        fail_msg("%s: %s resolves to %d, the kernel's number is %d", table, name, ours, nr);
    if (lib >= 0 && lib != nr)
        fail_msg("%s: libseccomp says %s is %d, the kernel %d", table, name, lib, nr);
}

static void test_seccomp__syscall_numbers(void **state)
{
    (void)state;
#if defined(__x86_64__)
    size_t checked = 0;
    /* Every call of the headers: the library and libseccomp agree with them. */
    for (size_t i = 0; i < sizeof(header_numbers) / sizeof(header_numbers[0]); i++) {
        const char *name = header_numbers[i].name;
        int ours = sbx__syscall_resolve(name);
        int lib = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
        if (lib >= 0 && lib != header_numbers[i].nr)
            fail_msg("%s: libseccomp says %d, the kernel's headers %d", name, lib,
                     header_numbers[i].nr);
        if (ours != header_numbers[i].nr)
            fail_msg("%s: the library resolves %d, the kernel's headers say %d", name, ours,
                     header_numbers[i].nr);
        char back[64];
        sbx__syscall_name(SCMP_ARCH_X86_64, ours, back, sizeof(back));
        assert_string_equal(back, name); /* and back */
        checked++;
    }
    /* Calls newer than the headers: the library's own names and numbers. */
    for (size_t i = 0; i < sizeof(table_numbers) / sizeof(table_numbers[0]); i++) {
        int ours = sbx__syscall_resolve(table_numbers[i].name);
        int lib = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, table_numbers[i].name);
        if (ours != table_numbers[i].nr)
            fail_msg("%s: the library resolves %d, syscall_64.tbl says %d", table_numbers[i].name,
                     ours, table_numbers[i].nr);
        if (lib >= 0 && lib != ours)
            fail_msg("%s: libseccomp says %d, the library %d", table_numbers[i].name, lib, ours);
        char name[64];
        sbx__syscall_name(SCMP_ARCH_X86_64, ours, name, sizeof(name));
        assert_string_equal(name, table_numbers[i].name); /* and back */
    }
    /* Every name of every table, and every fallback number. */
    for (size_t i = 0; i < sbx__deny_table_len; i++) {
        const struct sbx__deny_row *r = &sbx__deny_table[i];
        check_table_name("deny table", r->name);
        if (r->fallback_nr && r->fallback_nr != kernel_number(r->name))
            fail_msg("deny table: %s has the fallback number %d, the kernel's is %d", r->name,
                     r->fallback_nr, kernel_number(r->name));
    }
    for (size_t g = 0; g < sbx__base_set_len; g++)
        for (const char *const *n = sbx__base_set[g].names; *n; n++)
            check_table_name("base set", *n);
    for (size_t i = 0; sbx__undeniable[i]; i++)
        check_table_name("undeniable", sbx__undeniable[i]);
    assert_true(checked > 350);
    /* On this kernel, tell listmount from statmount by what they do: listing the
     * root's mounts returns a count, statmount of that pseudo id fails. */
    struct {
        uint32_t size, spare;
        uint64_t mnt_id, param;
    } req = {24, 0, ~0ull, 0};
    uint64_t ids[4];
    long n = syscall(sbx__syscall_resolve("listmount"), &req, ids, 4, 0);
    if (n < 0 && errno == ENOSYS)
        print_message("note: no listmount on this kernel (6.8): the live check is skipped\n");
    else if (n <= 0)
        fail_msg("syscall(listmount = %d) on the root did not list mounts: %ld (%s)",
                 sbx__syscall_resolve("listmount"), n, strerror(errno));
    /* lsm_list_modules with no room: E2BIG, and the room it needs. */
    uint32_t room = 0;
    n = syscall(sbx__syscall_resolve("lsm_list_modules"), NULL, &room, 0);
    if (n < 0 && errno == ENOSYS)
        print_message("note: no lsm_list_modules on this kernel (6.8)\n");
    else if (n != -1 || errno != E2BIG || room == 0 || room % 8 != 0)
        fail_msg("syscall(lsm_list_modules = %d): %ld (%s), room %u: not lsm_list_modules",
                 sbx__syscall_resolve("lsm_list_modules"), n, strerror(errno), room);
    /* mseal: a sealed mapping cannot be unmapped (EPERM); the page stays. */
    void *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(page != MAP_FAILED);
    n = syscall(sbx__syscall_resolve("mseal"), page, 4096, 0);
    if (n < 0 && (errno == ENOSYS || errno == EPERM)) /* 6.10, or sealing configured out */
        print_message("note: no mseal here (%s)\n", strerror(errno));
    else if (n != 0 || munmap(page, 4096) != -1 || errno != EPERM)
        fail_msg("syscall(mseal = %d) did not seal the page", sbx__syscall_resolve("mseal"));
    /* file_getattr of / succeeds (no other call takes these arguments). */
    struct { /* struct file_attr, FILE_ATTR_SIZE_VER0 */
        uint64_t xflags;
        uint32_t extsize, nextents, projid, cowextsize;
    } fa = {0};
    n = syscall(sbx__syscall_resolve("file_getattr"), AT_FDCWD, "/", &fa, sizeof(fa), 0);
    if (n < 0 && (errno == ENOSYS || errno == EOPNOTSUPP || errno == ENOTTY))
        print_message("note: no file_getattr here (%s)\n", strerror(errno));
    else if (n != 0)
        fail_msg("syscall(file_getattr = %d) on /: %s", sbx__syscall_resolve("file_getattr"),
                 strerror(errno));
#else
    SBX_SKIP("the numbers are checked on x86_64");
#endif
}

/* ---- the public API's checks ---------------------------------------------------- */

static sbx_policy *policy_new(void)
{
    sbx_policy *p = NULL;
    assert_sbx_ok(sbx_policy_new(&p));
    return p;
}

static void test_seccomp__api_deny_syscall_checks(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_error(sbx_deny_syscall(NULL, "ptrace", EPERM), -EINVAL, "policy");
    assert_sbx_error(sbx_deny_syscall(p, NULL, EPERM), -EINVAL, "name");
    assert_sbx_error(sbx_deny_syscall(p, "no_such_call", EPERM), -EINVAL,
                     "unknown system call 'no_such_call'");
    assert_sbx_error(sbx_deny_syscall(p, "", EPERM), -EINVAL, "unknown system call ''");
    assert_sbx_error(sbx_deny_syscall(p, "vm86", EPERM), -EINVAL, "'vm86'"); /* i386 only */
    assert_sbx_error(sbx_deny_syscall(p, "getppid", 0), -EINVAL, "out of range");
    assert_sbx_error(sbx_deny_syscall(p, "getppid", 4096), -EINVAL, "out of range");
    assert_sbx_error(sbx_deny_syscall(p, "getppid", -2), -EINVAL, "out of range");
    for (size_t i = 0; sbx__undeniable[i]; i++)
        assert_sbx_error(sbx_deny_syscall(p, sbx__undeniable[i], EPERM), -EINVAL,
                         "cannot be denied");
    assert_sbx_ok(sbx_deny_syscall(p, "getppid", EACCES));
    assert_sbx_ok(sbx_deny_syscall(p, "getppid", 4095));
    assert_sbx_ok(sbx_deny_syscall(p, "getppid", SBX_SYSCALL_KILL));
    assert_sbx_ok(sbx_deny_syscall(p, "open_tree_attr", EPERM)); /* newer than libseccomp */
    sbx_policy_free(p);
}

static void test_seccomp__api_allow_and_modes_checks(void **state)
{
    sbx_policy *p = policy_new();
    assert_sbx_error(sbx_allow_syscall(NULL, "read"), -EINVAL, "policy");
    assert_sbx_error(sbx_allow_syscall(p, NULL), -EINVAL, "name");
    assert_sbx_error(sbx_allow_syscall(p, "frobnicate"), -EINVAL,
                     "sbx_allow_syscall: unknown system call 'frobnicate'");
    assert_sbx_ok(sbx_allow_syscall(p, "ptrace"));
    assert_sbx_ok(sbx_allow_syscall(p, "mseal"));
    assert_sbx_error(sbx_set_syscall_allowlist(NULL, 1), -EINVAL, "policy");
    assert_sbx_error(sbx_set_syscall_allowlist(p, 2), -EINVAL, "0 or 1");
    assert_sbx_ok(sbx_set_syscall_allowlist(p, 1));
    assert_sbx_ok(sbx_set_syscall_allowlist(p, 0));
    assert_sbx_error(sbx_set_violation_monitor(NULL, 1), -EINVAL, "policy");
    assert_sbx_error(sbx_set_violation_monitor(p, -1), -EINVAL, "0 or 1");
    assert_sbx_ok(sbx_set_violation_monitor(p, 0));
    assert_sbx_error(sbx_set_violation_callback(NULL, NULL, NULL), -EINVAL, "policy");
    assert_sbx_ok(sbx_set_violation_callback(p, NULL, NULL));
    assert_sbx_error(sbx_set_violation_limit(NULL, 1), -EINVAL, "policy");
    assert_sbx_error(sbx_set_violation_limit(p, 0), -EINVAL, "out of range");
    assert_sbx_error(sbx_set_violation_limit(p, 1ull << 32), -EINVAL, "out of range");
    assert_sbx_ok(sbx_set_violation_limit(p, 1));
    assert_sbx_ok(sbx_set_violation_limit(p, UINT32_MAX));
    assert_sbx_ok(sbx_set_violation_limit(p, SBX_UNLIMITED));
    sbx_policy_free(p);
}

static void test_seccomp__api_result_accessors_on_null(void **state)
{
    assert_int_equal(sbx_result_violation_count(NULL), 0);
    assert_int_equal(sbx_result_violations_dropped(NULL), 0);
    sbx_violation v = {.size = sizeof(v)};
    assert_sbx_error(sbx_result_violation(NULL, 0, &v), -EINVAL, "result");
    assert_string_equal(sbx_status_name(SBX_STATUS_VIOLATION), "violation");
    assert_string_equal(sbx_stage_name(SBX_STAGE_SECCOMP), "seccomp");
}

/* ---- names and tables --------------------------------------------------------------- */

static void test_seccomp__names_resolve(void **state)
{
    assert_int_equal(sbx__syscall_resolve("read"), SYS_read);
    assert_int_equal(sbx__syscall_resolve("ptrace"), SYS_ptrace);
    assert_int_equal(sbx__syscall_resolve("open_tree_attr"), 467);
    assert_int_equal(sbx__syscall_resolve("nope"), -1);
    assert_int_equal(sbx__syscall_resolve("vm86"), -1);
    char buf[32];
    sbx__syscall_name(AUDIT_ARCH_X86_64, SYS_ptrace, buf, sizeof(buf));
    assert_string_equal(buf, "ptrace");
    sbx__syscall_name(AUDIT_ARCH_X86_64, 467, buf, sizeof(buf));
    assert_string_equal(buf, "open_tree_attr");
    sbx__syscall_name(AUDIT_ARCH_X86_64, 4000, buf, sizeof(buf));
    assert_string_equal(buf, "syscall_4000");
}

static void test_seccomp__tables_resolve(void **state)
{
    for (size_t i = 0; i < sbx__deny_table_len; i++) {
        const struct sbx__deny_row *row = &sbx__deny_table[i];
        if (sbx__syscall_resolve(row->name) < 0 && row->fallback_nr <= 0)
            fail_msg("deny table: %s does not resolve", row->name);
        assert_true(row->error > 0 && row->error < 4096);
        assert_true(strlen(row->reason) > 10);
        assert_true((row->cond == SBX__COND_ALWAYS) == (row->when[0] == '\0'));
        /* rows of one call are adjacent */
        for (size_t j = i + 2; j < sbx__deny_table_len; j++)
            if (!strcmp(sbx__deny_table[j].name, row->name))
                assert_string_equal(sbx__deny_table[j - 1].name, row->name);
    }
    for (size_t g = 0; g < sbx__base_set_len; g++)
        for (const char *const *n = sbx__base_set[g].names; *n; n++)
            if (sbx__syscall_resolve(*n) < 0)
                fail_msg("base set: %s does not resolve", *n);
    /* what the child does after attaching the filter is in the base set */
    for (size_t i = 0; sbx__undeniable[i]; i++) {
        bool found = false;
        for (size_t g = 0; g < sbx__base_set_len; g++)
            for (const char *const *n = sbx__base_set[g].names; *n; n++)
                found |= !strcmp(*n, sbx__undeniable[i]);
        if (!found)
            fail_msg("%s is not in the base set", sbx__undeniable[i]);
        assert_true(sbx__syscall_undeniable(nr_of(sbx__undeniable[i])));
    }
    assert_false(sbx__syscall_undeniable(SYS_getppid));
}

/* docs/seccomp.md carries the table: one line per row, exactly as printed here. */
static void test_seccomp__docs_mirror_the_tables(void **state)
{
    FILE *f = fopen(SBX_SOURCE_DIR "/docs/seccomp.md", "r");
    if (!f)
        fail_msg("cannot open docs/seccomp.md");
    static char doc[256 * 1024];
    size_t n = fread(doc, 1, sizeof(doc) - 1, f);
    doc[n] = '\0';
    fclose(f);
    for (size_t i = 0; i < sbx__deny_table_len; i++) {
        const struct sbx__deny_row *r = &sbx__deny_table[i];
        char line[1024];
        snprintf(line, sizeof(line), "| `%s` | %s%s | %s | %s |\n", r->name,
                 strerrorname_np(r->error), r->unreported ? ", unreported" : "",
                 r->when[0] ? r->when : "always", r->reason);
        if (!strstr(doc, line))
            fail_msg("docs/seccomp.md lacks the row:\n%s", line);
    }
    for (size_t g = 0; g < sbx__base_set_len; g++)
        for (const char *const *name = sbx__base_set[g].names; *name; name++) {
            char word[64];
            snprintf(word, sizeof(word), "`%s`", *name);
            if (!strstr(doc, word))
                fail_msg("docs/seccomp.md lacks base-set call %s", word);
        }
}

/* ---- the filter ---------------------------------------------------------------------- */

static void test_seccomp__filter_foreign_entry_points_killed(void **state)
{
    for (int mode = 0; mode < 4; mode++) {
        struct filter f = build(mode & 1, false, mode & 2, NULL, 0);
        struct call x32 = {AUDIT_ARCH_X86_64, 0x40000000 | SYS_getpid, {0}};
        struct call i386 = {AUDIT_ARCH_I386, 20 /* getpid */, {0}};
        struct call x32_ioctl = {AUDIT_ARCH_X86_64, 0x40000000 | 514 /* x32 ioctl */, {0}};
        struct call native = {AUDIT_ARCH_X86_64, SYS_getpid, {0}};
        assert_int_equal(run_bpf(&f.prog, &x32, NULL), KILL);
        assert_int_equal(run_bpf(&f.prog, &x32_ioctl, NULL), KILL);
        assert_int_equal(run_bpf(&f.prog, &i386, NULL), KILL);
        assert_int_equal(run_bpf(&f.prog, &native, NULL), ALLOW);
        filter_free(&f);
    }
}

static void test_seccomp__filter_deny_table_rows(void **state)
{
    for (int notify = 0; notify < 2; notify++) {
        struct filter f = build(false, false, notify, NULL, 0);
        for (size_t i = 0; i < sbx__deny_table_len; i++) {
            const struct sbx__deny_row *r = &sbx__deny_table[i];
            if (r->cond != SBX__COND_ALWAYS)
                continue;
            int nr = sbx__syscall_resolve(r->name);
            if (nr < 0)
                nr = r->fallback_nr;
            struct call c = {AUDIT_ARCH_X86_64, nr, {1, 2, 3, 4, 5, 6}};
            uint32_t want = notify && !r->unreported ? NOTIFY : ERR(r->error);
            if (run_bpf(&f.prog, &c, NULL) != want)
                fail_msg("%s: verdict 0x%x, expected 0x%x", r->name, run_bpf(&f.prog, &c, NULL),
                         want);
        }
        expect(&f, ERR(ENOSYS), "clone3", 0, 0, 0); /* never reported */
        static const char *const allowed[] = {"read",   "write",   "openat",  "mmap",  "getppid",
                                              "execve", "sendmsg", "close",   "futex", "wait4",
                                              "mkdir",  "rseq",    "connect", "statx", "seccomp"};
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
            expect(&f, ALLOW, allowed[i], 0, 0, 0);
        filter_free(&f);
    }
}

static void test_seccomp__filter_tty_ioctls_low_32_bits(void **state)
{
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        struct filter f = build(allowlist, false, true, NULL, 0);
        static const uint64_t denied[] = {TIOCSTI, TIOCLINUX};
        for (size_t i = 0; i < 2; i++) {
            expect(&f, NOTIFY, "ioctl", 0, denied[i], 0);
            expect(&f, NOTIFY, "ioctl", 0, denied[i] | (1ull << 32), 0);
            expect(&f, NOTIFY, "ioctl", 0, denied[i] | 0xffffffff00000000ull, 0);
            for (int k = 0; k < 1000; k++)
                expect(&f, NOTIFY, "ioctl", rnd(), denied[i] | (rnd() << 32), rnd());
        }
        static const uint64_t fine[] = {FIONREAD,
                                        TCGETS,
                                        TCSETS,
                                        TIOCGWINSZ,
                                        TIOCSWINSZ,
                                        FIONBIO,
                                        TIOCGPGRP,
                                        0,
                                        0xffffffff,
                                        TIOCSTI + 1,
                                        TIOCLINUX - 1,
                                        TIOCSTI ^ 0x10000,
                                        0x80045430 /* TIOCGPTN */,
                                        0xffffffff80045430ull /* sign-extended */};
        for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
            expect(&f, ALLOW, "ioctl", 3, fine[i], 0);
        for (int k = 0; k < 20000; k++) {
            uint64_t req = rnd();
            uint32_t low = (uint32_t)req;
            bool bad = low == TIOCSTI || low == TIOCLINUX || low == TIOCSCTTY;
            expect(&f, bad ? NOTIFY : ALLOW, "ioctl", rnd(), req, rnd());
        }
        filter_free(&f);
    }
}

static void test_seccomp__filter_clone_namespace_flags(void **state)
{
    static const uint64_t ns[] = {CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                  CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET};
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        struct filter f = build(allowlist, false, false, NULL, 0);
        expect(&f, ALLOW, "clone", SIGCHLD, 0, 0);
        expect(&f, ALLOW, "clone",
               CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                   CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
               0, 0);
        expect(&f, ALLOW, "clone", CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0);
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
            expect(&f, ERR(EPERM), "clone", ns[i] | SIGCHLD, 0, 0);
            expect(&f, ERR(EPERM), "clone", ns[i] | CLONE_VM | (1ull << 40), 0, 0);
        }
        expect(&f, ERR(ENOSYS), "clone3", 0, 0, 0);
        expect(&f, ERR(EPERM), "unshare", CLONE_FS, 0, 0);
        filter_free(&f);
    }
}

static void test_seccomp__filter_personality(void **state)
{
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        struct filter f = build(allowlist, false, true, NULL, 0);
        expect(&f, ALLOW, "personality", 0xffffffff, 0, 0);
        expect(&f, ALLOW, "personality", PER_LINUX, 0, 0);
        static const uint64_t bad[] = {PER_LINUX32,
                                       ADDR_NO_RANDOMIZE,
                                       READ_IMPLIES_EXEC,
                                       MMAP_PAGE_ZERO,
                                       PER_LINUX | ADDR_NO_RANDOMIZE,
                                       1,
                                       0x80000000,
                                       0x7fffffff,
                                       0xfffffffe,
                                       0xffff};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            expect(&f, NOTIFY, "personality", bad[i], 0, 0);
        for (int k = 0; k < 5000; k++) {
            uint64_t v = rnd();
            uint32_t low = (uint32_t)v;
            expect(&f, low == 0 || low == 0xffffffff ? ALLOW : NOTIFY, "personality", v, 0, 0);
        }
        filter_free(&f);
    }
}

static void test_seccomp__filter_socket_rules(void **state)
{
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        struct filter f = build(allowlist, false, true, NULL, 0);
        /* without the mount view (test_seccomp__filter_unix_sockets has both) */
        expect(&f, ERR(EPERM), "socket", AF_UNIX, SOCK_STREAM, 0);
        expect(&f, ERR(EPERM), "socket", AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        expect(&f, ALLOW, "socket", AF_INET, SOCK_STREAM, 0);
        expect(&f, ALLOW, "socket", AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        expect(&f, ALLOW, "socket", AF_INET6, SOCK_STREAM, IPPROTO_TCP);
        expect(&f, NOTIFY, "socket", AF_INET, SOCK_DGRAM, 0);
        expect(&f, NOTIFY, "socket", AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP);
        expect(&f, NOTIFY, "socket", AF_INET, SOCK_RAW, IPPROTO_ICMP);
        expect(&f, NOTIFY, "socket", AF_INET, SOCK_PACKET, 0);
        expect(&f, NOTIFY, "socket", AF_INET, SOCK_SEQPACKET, 0);
        expect(&f, NOTIFY, "socket", AF_INET, SOCK_STREAM, 132 /* SCTP */);
        expect(&f, NOTIFY, "socket", AF_INET, SOCK_STREAM, 262 /* MPTCP */);
        expect(&f, NOTIFY, "socket", AF_INET, SOCK_STREAM, (uint64_t)-1);
        expect(&f, NOTIFY, "socket", AF_NETLINK, SOCK_RAW, 0);
        expect(&f, NOTIFY, "socket", AF_PACKET, SOCK_RAW, 0);
        expect(&f, NOTIFY, "socket", 40 /* AF_VSOCK */, SOCK_STREAM, 0);
        expect(&f, NOTIFY, "socket", 38 /* AF_ALG */, SOCK_SEQPACKET, 0);
        expect(&f, NOTIFY, "socket", 0, SOCK_STREAM, 0);
        expect(&f, NOTIFY, "socket", AF_UNIX | (1ull << 32), SOCK_STREAM, 0);
        filter_free(&f);

        f = build(allowlist, true, true, NULL, 0); /* the network granted */
        expect(&f, ALLOW, "socket", AF_INET, SOCK_DGRAM, 0);
        expect(&f, ALLOW, "socket", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
        expect(&f, ALLOW, "socket", AF_INET, SOCK_STREAM, 132);
        expect(&f, ALLOW, "socket", AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */);
        expect(&f, NOTIFY, "socket", AF_NETLINK, SOCK_RAW, 4 /* NETLINK_SOCK_DIAG */);
        expect(&f, NOTIFY, "socket", AF_INET, SOCK_PACKET, 0);
        expect(&f, NOTIFY, "socket", AF_PACKET, SOCK_RAW, 0);
        filter_free(&f);
    }
}

/* Allow-list mode writes every argument check as its complement: for the
 * argument-checked calls it must decide exactly as the deny list does. */
static void test_seccomp__filter_allowlist_agrees_with_deny_list(void **state)
{
    static const char *const names[] = {
        "clone",        "ioctl",     "personality",       "socket",
        "memfd_create", "prlimit64", "sched_setaffinity", "get_robust_list",
        "setpriority"};
    static const uint64_t interesting[] = {0,
                                           1,
                                           2,
                                           3,
                                           5,
                                           6,
                                           10,
                                           16,
                                           17,
                                           38,
                                           40,
                                           132,
                                           262,
                                           SOCK_STREAM | SOCK_NONBLOCK,
                                           SOCK_DGRAM | SOCK_CLOEXEC,
                                           SOCK_PACKET,
                                           TIOCSTI,
                                           TIOCLINUX,
                                           FIONREAD,
                                           CLONE_NEWUSER,
                                           CLONE_NEWNS | SIGCHLD,
                                           0xffffffff,
                                           0xffffffffffffffffull,
                                           1ull << 32,
                                           (1ull << 32) | 1};
    const size_t n_int = sizeof(interesting) / sizeof(interesting[0]);
    for (int network = 0; network < 2; network++) {
        struct filter deny = build(false, network, false, NULL, 0);
        struct filter allow = build(true, network, false, NULL, 0);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            for (int k = 0; k < 30000; k++) {
                uint64_t a[3];
                for (int j = 0; j < 3; j++)
                    a[j] = (rnd() & 1) ? interesting[rnd() % n_int] : rnd() >> (rnd() % 64);
                uint32_t d = verdict(&deny, names[i], a[0], a[1], a[2]);
                uint32_t l = verdict(&allow, names[i], a[0], a[1], a[2]);
                if (d != l)
                    fail_msg("network %d: %s(0x%llx, 0x%llx, 0x%llx): deny list 0x%x, "
                             "allow list 0x%x",
                             network, names[i], (unsigned long long)a[0], (unsigned long long)a[1],
                             (unsigned long long)a[2], d, l);
            }
        }
        filter_free(&deny);
        filter_free(&allow);
    }
}

static void test_seccomp__filter_allowlist_defaults(void **state)
{
    struct filter f = build(true, false, true, NULL, 0);
    for (size_t g = 0; g < sbx__base_set_len; g++)
        for (const char *const *n = sbx__base_set[g].names; *n; n++)
            if (strcmp(*n, "socket") && strcmp(*n, "personality") && strcmp(*n, "memfd_create") &&
                strcmp(*n, "prlimit64") && strcmp(*n, "sched_setaffinity") &&
                strcmp(*n, "get_robust_list") && strcmp(*n, "setpriority"))
                expect(&f, ALLOW, *n, 3, FIONREAD, 0); /* those: argument-checked, above */
    expect(&f, NOTIFY, "mbind", 0, 0, 0);              /* not in the base set */
    expect(&f, NOTIFY, "ptrace", 0, 0, 0);             /* the table: errno EPERM from the host */
    expect(&f, ERR(ENOSYS), "clone3", 0, 0, 0);        /* unreported */
    struct call future = {AUDIT_ARCH_X86_64, 500, {0}};
    assert_int_equal(run_bpf(&f.prog, &future, NULL), NOTIFY);
    filter_free(&f);

    f = build(true, false, false, NULL, 0); /* without the monitor */
    expect(&f, ERR(ENOSYS), "mbind", 0, 0, 0);
    expect(&f, ERR(EPERM), "ptrace", 0, 0, 0);
    expect(&f, ERR(EPERM), "socket", AF_PACKET, SOCK_RAW, 0);
    expect(&f, ERR(EPERM), "ioctl", 0, TIOCSTI, 0);
    expect(&f, ALLOW, "ioctl", 0, FIONREAD, 0);
    filter_free(&f);
}

static void test_seccomp__filter_policy_rules(void **state)
{
    const struct sbx__filter_rule rules[] = {{SYS_getppid, EACCES},
                                             {SYS_getpid, -1 /* kill */},
                                             {SYS_ptrace, 0 /* allow */},
                                             {SYS_ioctl, 0},
                                             {SYS_mbind, 0},
                                             {SYS_socket, EAFNOSUPPORT},
                                             {SYS_clone3, EPERM}};
    const size_t n = sizeof(rules) / sizeof(rules[0]);
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        struct filter f = build(allowlist, false, false, rules, n);
        expect(&f, ERR(EACCES), "getppid", 0, 0, 0);
        expect(&f, KILL, "getpid", 0, 0, 0);
        expect(&f, ALLOW, "ptrace", 0, 0, 0);
        expect(&f, ALLOW, "ioctl", 0, TIOCSTI, 0); /* the table's check is lifted */
        expect(&f, ALLOW, "mbind", 0, 0, 0);
        expect(&f, ERR(EAFNOSUPPORT), "socket", AF_UNIX, SOCK_STREAM, 0); /* every family */
        expect(&f, ERR(EPERM), "clone3", 0, 0, 0);
        expect(&f, ERR(EPERM), "bpf", 0, 0, 0);
        filter_free(&f);
        f = build(allowlist, false, true, rules, n);
        expect(&f, NOTIFY, "getppid", 0, 0, 0);
        expect(&f, KILL, "getpid", 0, 0, 0);
        expect(&f, NOTIFY, "clone3", 0, 0, 0); /* the policy's own rules are reported */
        filter_free(&f);
    }

    struct sbx__filter_spec spec = {.rules = rules, .n_rules = n};
    struct sbx__filter_errno *v;
    size_t count;
    int def;
    assert_int_equal(sbx__filter_errnos(&spec, &v, &count, &def), 0);
    assert_int_equal(def, EPERM);
    int got_getppid = 0, got_ptrace = 0, got_bpf = 0;
    for (size_t i = 0; i < count; i++) {
        if (i)
            assert_true(v[i - 1].nr < v[i].nr);
        got_getppid |= v[i].nr == SYS_getppid && v[i].error == EACCES;
        got_ptrace |= v[i].nr == SYS_ptrace;
        got_bpf |= v[i].nr == SYS_bpf && v[i].error == EPERM;
    }
    assert_true(got_getppid && got_bpf && !got_ptrace);
    free(v);
}

/* An allowed call costs the same few instructions however many rules the
 * filter has (a binary tree of the numbers with rules). */
static void test_seccomp__filter_allowed_cost_independent_of_size(void **state)
{
    struct sbx__filter_rule many[120];
    size_t n = 0;
    const char *const *extra = sbx_extra_syscalls;
    for (size_t i = 0; extra[i]; i++)
        many[n++] = (struct sbx__filter_rule){nr_of(extra[i]), EPERM};
    static const char *const probes[] = {"getppid",    "read",   "write",           "futex",
                                         "epoll_wait", "openat", "clock_nanosleep", "sendmsg"};
    for (int allowlist = 0; allowlist < 2; allowlist++) {
        struct filter small = build(allowlist, false, true, NULL, 0);
        struct filter big = build(allowlist, false, true, many, n);
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            struct call c = {AUDIT_ARCH_X86_64, nr_of(probes[i]), {0}};
            unsigned s_small, s_big;
            assert_int_equal(run_bpf(&small.prog, &c, &s_small), ALLOW);
            assert_int_equal(run_bpf(&big.prog, &c, &s_big), ALLOW);
            print_message("%s %s: %u instructions (%u-instruction filter), %u (%u)\n",
                          allowlist ? "allow-list" : "deny-list", probes[i], s_small,
                          small.prog.len, s_big, big.prog.len);
            if (s_big > s_small + 4 || s_big > 24)
                fail_msg("%s: %u instructions with %zu more rules, %u without", probes[i], s_big, n,
                         s_small);
        }
        filter_free(&small);
        filter_free(&big);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_seccomp__api_deny_syscall_checks),
    cmocka_unit_test(test_seccomp__api_allow_and_modes_checks),
    cmocka_unit_test(test_seccomp__api_result_accessors_on_null),
    cmocka_unit_test(test_seccomp__names_resolve),
    cmocka_unit_test(test_seccomp__tables_resolve),
    cmocka_unit_test(test_seccomp__docs_mirror_the_tables),
    cmocka_unit_test(test_seccomp__filter_foreign_entry_points_killed),
    cmocka_unit_test(test_seccomp__syscall_numbers),
    cmocka_unit_test(test_seccomp__filter_other_processes),
    cmocka_unit_test(test_seccomp__filter_memfd_never_executable),
    cmocka_unit_test(test_seccomp__filter_unix_sockets),
    cmocka_unit_test(test_seccomp__filter_tiocsctty_and_modify_ldt),
    cmocka_unit_test(test_seccomp__filter_deny_table_rows),
    cmocka_unit_test(test_seccomp__filter_tty_ioctls_low_32_bits),
    cmocka_unit_test(test_seccomp__filter_clone_namespace_flags),
    cmocka_unit_test(test_seccomp__filter_personality),
    cmocka_unit_test(test_seccomp__filter_socket_rules),
    cmocka_unit_test(test_seccomp__filter_allowlist_agrees_with_deny_list),
    cmocka_unit_test(test_seccomp__filter_allowlist_defaults),
    cmocka_unit_test(test_seccomp__filter_policy_rules),
    cmocka_unit_test(test_seccomp__filter_allowed_cost_independent_of_size),
};

SBX_TEST_MAIN(tests)
