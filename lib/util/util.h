/* The utility layer: small, self-contained helpers that every other part of
 * the library may use and that use nothing of it (lib/util/ calls no function
 * outside lib/util/ and libc). See docs/architecture.md. */
#ifndef SBX_UTIL_H
#define SBX_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SBX__UTIL_HIDDEN __attribute__((visibility("hidden")))
#define SBX__HIDDEN      SBX__UTIL_HIDDEN

/* ---- errors (error.c) ---------------------------------------------------- */

/* Record a failure: `err` (negative errno), the stage, and a message built from
 * fmt. Returns err, so that callers can `return sbx__err(...)`. */
SBX__UTIL_HIDDEN int sbx__err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with ": <strerror(err)>" appended to the message. */
SBX__UTIL_HIDDEN int sbx__errno(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same as sbx__errno, recording the spawn stage too. */
SBX__UTIL_HIDDEN int sbx__err_stage(int stage, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The thread's last error, kept across work whose failure is not the caller's. */
struct sbx__err_saved {
    char message[1024];
    int stage;
};
SBX__UTIL_HIDDEN void sbx__err_save(struct sbx__err_saved *to);
SBX__UTIL_HIDDEN void sbx__err_restore(const struct sbx__err_saved *from);

/* Argument checks in the style of sd-bus' assert_return: fail with -EINVAL and a
 * message naming the function and the argument. */
#define sbx__check(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return sbx__err(-EINVAL, __VA_ARGS__);                                                 \
    } while (0)
#define sbx__check_arg(arg) sbx__check((arg) != NULL, "%s: %s is NULL", __func__, #arg)

/* ---- child stacks ------------------------------------------------------------- */

/* A CLONE_VM child runs on a buffer of the caller's memory and leaves it by
 * execve or _exit, so its frames never clear their AddressSanitizer redzones
 * there: the caller calls this once the child has left the buffer, or its own
 * later frames at those addresses read as overflows. Nothing in a normal
 * build. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define sbx__child_stack_released(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define sbx__child_stack_released(p, n) ((void)(p), (void)(n))
#endif

/* ---- time (time.c) ---------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
SBX__UTIL_HIDDEN uint64_t sbx__now_ns(void);

/* fdpass.c: send fd over a unix socket with one byte (async-signal-safe; 0 or
 * -1 and errno); receive one without waiting (the descriptor, close-on-exec,
 * or -errno; -EPROTO for a message without exactly one). */
SBX__UTIL_HIDDEN int sbx__send_fd(int sock, int fd);
SBX__UTIL_HIDDEN int sbx__recv_fd(int sock);
/* The path of what fd is open on, as /proc/self/fd/N names it, NUL-terminated
 * in buf; false without it (no /proc, or longer than buf). */
SBX__UTIL_HIDDEN bool sbx__fd_path(int fd, char *buf, size_t size);

/* ---- clone3 (clone3.c) -------------------------------------------------------------- */

#if defined(__x86_64__)
struct clone_args;
/* clone3(args, size) whose child runs fn(arg) on args->stack and exits with
 * its value; returns the pid or -errno in the parent. */
SBX__UTIL_HIDDEN long sbx__clone3_call(struct clone_args *args, size_t size, int (*fn)(void *),
                                       void *arg);
#define SBX__HAVE_CLONE3_CALL 1
#endif

/* ---- JSON strings (json.c) --------------------------------------------------------- */

/* s[0..len) as a quoted JSON string into buf (snprintf's contract: at most
 * size - 1 bytes and a NUL; returns the length the whole string needs): '"'
 * and '\\' escaped, \n \r \t as such, other control characters as \u00XX,
 * invalid UTF-8 as \ufffd. */
SBX__UTIL_HIDDEN size_t sbx__json_quote(char *buf, size_t size, const char *s, size_t len);
/* Append to buf[*off..size) as snprintf would, *off tracking the length the
 * whole text needs (a result's JSON is measured by a first call with size 0). */
SBX__UTIL_HIDDEN void sbx__json_append(char *buf, size_t size, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same for text as a quoted JSON string (sbx__json_quote). */
SBX__UTIL_HIDDEN void sbx__json_append_string(char *buf, size_t size, size_t *off,
                                              const char *text);

/* ---- UTF-8 (utf8.c): the one validator ------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s[0..n): 1 to 4 (1 for
 * ASCII, NUL included); 0 if s[0..] cannot start one (an overlong form, a
 * surrogate, a code point past U+10FFFF, a stray continuation byte); -1 if
 * s[0..n) is a valid beginning of one that needs more bytes than n. */
SBX__UTIL_HIDDEN int sbx__utf8_seq(const unsigned char *s, size_t n);
/* Whether s[0..n) is all well-formed UTF-8. */
SBX__UTIL_HIDDEN bool sbx__utf8_valid(const void *s, size_t n);

/* ---- the host (host.c) ------------------------------------------------------------ */

/* Whether RLIMIT_NPROC would bind a child of this process: the kernel exempts
 * the root user and holders of CAP_SYS_ADMIN or CAP_SYS_RESOURCE. */
SBX__UTIL_HIDDEN bool sbx__nproc_binds(void);
/* Whether this process holds capability `cap` in its effective set. */
SBX__UTIL_HIDDEN bool sbx__has_cap(int cap);

/* The credentials a child inherits and a policy's plan is made for: the user
 * and group ids, the supplementary groups (their number, and a digest of the
 * first SBX__CREDS_GROUPS), the capability sets. */
#define SBX__CREDS_GROUPS 256
struct sbx__creds {
    uid_t uid[3]; /* real, effective, saved */
    gid_t gid[3];
    int n_groups;
    uint64_t groups;
    uint64_t caps[3]; /* effective, permitted, inheritable */
};
/* This thread's (glibc keeps every thread's the same). Four system calls. */
SBX__UTIL_HIDDEN void sbx__creds_get(struct sbx__creds *c);
SBX__UTIL_HIDDEN bool sbx__creds_same(const struct sbx__creds *a, const struct sbx__creds *b);

/* ---- locks a fork must not inherit taken (forksafe.c) ------------------------------ */

/* Register lock (once per lock; repeats are no-ops): every fork(2) of the
 * process takes it first and releases it in both processes, so the copy never
 * inherits it taken by another thread (the library's helper, which prepares
 * sandboxes while the host runs on). Only for leaf locks, registered before
 * their first use and never while another registered lock is held. False when
 * the registry is full (a build error: it holds the library's few locks). */
SBX__UTIL_HIDDEN bool sbx__fork_safe(pthread_mutex_t *lock);

/* ---- owners (owner.c) ----------------------------------------------------------- */

#define SBX__OWNER_TAG_MAX 64

/* This process's owner tag, "<pid>.<start time>.<pid namespace inode>", for
 * the names of what it creates (TMPDIRs, cgroups); snprintf's return. */
SBX__UTIL_HIDDEN int sbx__owner_tag(char *buf, size_t size);
/* Whether a name's tag (the text after "agentsbx.") names an owner that is
 * dead: a pid of this pid namespace that is gone or started at another time.
 * False for anything else (a live owner, another namespace, another form). */
SBX__UTIL_HIDDEN bool sbx__owner_dead(const char *tag);
/* True the first time this process (a forked one anew) asks about dir: then
 * it sweeps what dead owners left there. Thread-safe. */
SBX__UTIL_HIDDEN bool sbx__first_sweep(const char *dir);
/* Their locks (fork-safe: sbx__fork_safe()); named for tests/unit/test_forksafe.c. */
SBX__UTIL_HIDDEN extern pthread_mutex_t sbx__owner_lock, sbx__sweep_lock;
/* ---- the program and its interpreters (program.c) --------------------------------- */

#define SBX__PROGRAM_MAX 8 /* files: the program, env's target, interpreters, loaders */

struct sbx__program {
    size_t n;                           /* files found, the program first */
    const char *path[SBX__PROGRAM_MAX]; /* in buf */
    int err;                            /* 0, or why the walk stopped (-ENOENT, -ELOOP...) */
    char failed[256];                   /* the file it stopped at, when err */
    size_t used;
    char buf[3072];
};

/* A tool and its helpers (program.c's table, documented in docs/landlock.md):
 * the names it is known by, blank-separated ("gcc g++ cc"), the programs it
 * executes (names found with the child's PATH), the directories of helpers it
 * executes (granted read and execute when they exist). */
struct sbx__tool_bundle {
    const char *tools;
    const char *programs;
    const char *dirs;
};
SBX__UTIL_HIDDEN extern const struct sbx__tool_bundle sbx__tool_bundles[];
SBX__UTIL_HIDDEN extern const size_t sbx__tool_bundles_len;
/* The bundle of a tool named by a name or path ("gcc", "/usr/bin/gcc-12",
 * "x86_64-linux-gnu-g++"), or NULL. */
SBX__UTIL_HIDDEN const struct sbx__tool_bundle *sbx__tool_bundle_of(const char *tool);

/* The file the kernel executes to start the program open at fd (readable):
 * its ELF loader (PT_INTERP) or its "#!" interpreter, as written. 1 and the
 * path in buf, 0 when there is none, or -errno. */
SBX__UTIL_HIDDEN int sbx__program_interpreter(int fd, char *buf, size_t size);
/* A program name as execvp finds it: a name with a slash as it is; a bare name
 * in each entry of path_env (an empty entry is the working directory), the
 * first regular file that may be executed. 0, -ENOENT, -EACCES (found, none
 * executable), -ENAMETOOLONG. */
SBX__UTIL_HIDDEN int sbx__program_find(const char *name, const char *path_env, char *buf,
                                       size_t size);
/* Find the program (as above) and walk what starts it. -errno when the program
 * itself is not found; else 0, with prog->err set when a file of the chain
 * could not be read (then prog holds the files before it). */
SBX__UTIL_HIDDEN int sbx__program_resolve(const char *name, const char *path_env,
                                          struct sbx__program *prog);

/* ---- Landlock's child-side calls (landlock_sys.c) ------------------------------------ */

/* Add a path rule (nothing when rights is 0). Async-signal-safe; -1 and errno. */
SBX__UTIL_HIDDEN int sbx__landlock_add_path(int ruleset, int fd, uint64_t rights);
/* Add a TCP port rule (Landlock ABI 4). -1 and errno. */
SBX__UTIL_HIDDEN int sbx__landlock_add_port(int ruleset, uint16_t port, uint64_t rights);
/* landlock_restrict_self(ruleset). Async-signal-safe; -1 and errno. */
SBX__UTIL_HIDDEN int sbx__landlock_apply(int ruleset);

/* ---- SHA-256 (sha256.c) ----------------------------------------------------------- */

SBX__UTIL_HIDDEN void sbx__sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- units (units.c) -------------------------------------------------------------- */

/* A size: digits, then nothing (bytes) or K, M, G, T, P (any case, powers of
 * 1024) with an optional "i", "B" or "iB"; or "unlimited" (UINT64_MAX). No
 * sign, space or fraction. 0, -EINVAL, or -ERANGE (2^63 or more). */
SBX__UTIL_HIDDEN int sbx__parse_size(const char *s, uint64_t *ret);
/* A duration in nanoseconds: digits with an optional fraction (at most 9
 * places, rounded up; ".5" too), then nothing or "s" (seconds), "ms", "us", "ns", "m",
 * "h"; or "unlimited" (UINT64_MAX). 0, -EINVAL, or -ERANGE. */
SBX__UTIL_HIDDEN int sbx__parse_duration(const char *s, uint64_t *ret_ns);

#endif
