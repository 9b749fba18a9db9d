/**
 * @file agentsbx/policy.h
 * @brief The policy builder: what a child may do, and its limits.
 *
 * A policy starts deny-by-default and every call widens or bounds it. Setters
 * validate their input at once and copy it; their order does not matter. The
 * policy is compiled (tool paths resolved, environment block and limit table
 * built) the first time a child is spawned from it, and again only after it
 * changes.
 *
 * Thread-safety: any number of threads may spawn from one policy at once, but a
 * policy must not be changed (or freed) while another thread uses it.
 */
#ifndef AGENTSBX_POLICY_H
#define AGENTSBX_POLICY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A sandbox policy (opaque). @since 0.1 */
typedef struct sbx_policy sbx_policy;

/** @brief Passed to an `sbx_limit_*` call to remove that limit. @since 0.1 */
#define SBX_UNLIMITED UINT64_MAX

/**
 * @brief Create an empty policy.
 *
 * The new policy: a clean environment of `PATH=/usr/local/bin:/usr/bin:/bin`,
 * `LANG=C.UTF-8` and `HOME` (the working directory if one is set, else `/`);
 * the host's working directory; no resource limits other than core dumps off;
 * standard streams as the host passes them; the child dies with the thread
 * that spawned it; every layer strict.
 *
 * @param[out] ret Receives the policy; free it with sbx_policy_free().
 * @retval 0 Success.
 * @retval -EINVAL @p ret is NULL.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_policy_new(sbx_policy **ret);

/**
 * @brief Free a policy. Children already spawned from it are not affected.
 * @param policy The policy, or NULL (a no-op).
 * @since 0.1
 */
SBX_API void sbx_policy_free(sbx_policy *policy);

/**
 * @brief Copy a policy: every setting, grant, rule, registered secret,
 * callback and audit descriptor (the descriptor is not duplicated).
 *
 * The copy is independent: changing one changes nothing in the other. A host
 * keeps a base policy and derives one per task from it (as minijail's
 * minijail_copy_jail() does). Thread-safe with concurrent spawns from
 * @p policy, not with concurrent setters on it.
 * @param policy The policy to copy.
 * @param[out] ret Receives the copy, to free with sbx_policy_free().
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_policy_dup(const sbx_policy *policy, sbx_policy **ret);

/**
 * @brief Set the child's working directory.
 *
 * The directory is not checked here: if the child cannot enter it, the spawn
 * fails with the errno of chdir(2) and a message such as
 * `chdir(/nope): No such file or directory`. Without one, the child starts in
 * the host's current directory, or in `/` when the policy does not let it read
 * that directory (sbx_result_workdir_note() says so).
 *
 * @param policy The policy.
 * @param dir An absolute path, at most PATH_MAX bytes long.
 * @retval 0 Success.
 * @retval -EINVAL @p policy or @p dir is NULL, or @p dir is relative, empty or too long.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_workdir(sbx_policy *policy, const char *dir);

/**
 * @brief Set an environment variable in the child.
 *
 * Replaces any earlier setting of the same name, including a default one.
 *
 * @param policy The policy.
 * @param name A variable name: not empty, no `=`, no NUL, at most 255 bytes.
 * @param value The value (copied); any string without NUL.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument or an invalid name.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_env(sbx_policy *policy, const char *name, const char *value);

/**
 * @brief Pass a variable of the host's environment through to the child.
 *
 * The host's value is read now, by this call; if the host does not have the
 * variable, the child will not have it either (and an earlier setting of the
 * same name is removed).
 *
 * @param policy The policy.
 * @param name A variable name, as for sbx_set_env().
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument or an invalid name.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_pass_env(sbx_policy *policy, const char *name);

/**
 * @brief Remove a variable from the child's environment (also a default one).
 * @param policy The policy.
 * @param name A variable name, as for sbx_set_env(); removing an unset one is not an error.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument or an invalid name.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_unset_env(sbx_policy *policy, const char *name);

/**
 * @brief Limit the CPU time (user + system) of each process of the child.
 *
 * Enforced with RLIMIT_CPU: at @p seconds the process gets SIGXCPU, one second
 * later SIGKILL. A child that dies of either reports #SBX_STATUS_CPU_LIMIT.
 *
 * @param policy The policy.
 * @param seconds 1 to 31536000 (a year), or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_cpu_time(sbx_policy *policy, uint64_t seconds);

/**
 * @brief Limit the child's wall-clock time.
 *
 * When the time is up, the library kills the child's whole process group with
 * SIGKILL (it cannot be caught or ignored), reaps it, and reports
 * #SBX_STATUS_TIMED_OUT. The deadline is checked by sbx_child_wait() and
 * sbx_child_poll(); it needs no thread and no signal handler.
 *
 * @param policy The policy.
 * @param milliseconds 1 to 31536000000 (a year), or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_wall_time(sbx_policy *policy, uint64_t milliseconds);

/**
 * @brief Limit the memory each process of the child may allocate.
 *
 * Enforced with RLIMIT_DATA (heap and private writable mappings): allocations
 * beyond it fail with ENOMEM, while address space that is only reserved
 * (PROT_NONE, as language runtimes do) does not count.
 *
 * @param policy The policy.
 * @param bytes 1 MiB to 2^50, or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_memory(sbx_policy *policy, uint64_t bytes);

/**
 * @brief Limit the number of file descriptors each process of the child may open
 * (RLIMIT_NOFILE; opening beyond it fails with EMFILE).
 * @param policy The policy.
 * @param count 4 to 1048576, or #SBX_UNLIMITED (the host's own limit is kept).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_open_files(sbx_policy *policy, uint64_t count);

/**
 * @brief Limit the size of any file the child writes.
 *
 * Enforced with RLIMIT_FSIZE: a write past it raises SIGXFSZ (a child that
 * dies of it reports #SBX_STATUS_FILE_SIZE_LIMIT) or, if that signal is
 * ignored, fails with EFBIG.
 *
 * @param policy The policy.
 * @param bytes 0 to 2^62, or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_file_size(sbx_policy *policy, uint64_t bytes);

/**
 * @brief Limit the number of processes (and threads).
 *
 * Enforced with RLIMIT_NPROC, which counts every process of the child's real
 * user id, not only the child's own, and does not bind a process that has
 * CAP_SYS_ADMIN or CAP_SYS_RESOURCE (root): when the child would run with
 * either, sbx_spawn() fails with -EOPNOTSUPP unless #SBX_LAYER_RLIMITS was
 * marked best-effort, in which case the result does not report
 * #SBX_LAYER_RLIMITS as enforced.
 *
 * @param policy The policy.
 * @param count 1 to 4194304, or #SBX_UNLIMITED.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_processes(sbx_policy *policy, uint64_t count);

/**
 * @brief Limit how much of each output stream sbx_run() keeps.
 *
 * Output beyond the limit is read and discarded (the child never blocks on a
 * full pipe) and the result says it was truncated. The default is 4 MiB per
 * stream. The limit counts the bytes after the output filter (output.h), and
 * the output callback receives only what is kept.
 *
 * @param policy The policy.
 * @param bytes 0 to 1 GiB.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a value out of range.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_limit_output(sbx_policy *policy, uint64_t bytes);

/**
 * @brief Mark layers best-effort.
 *
 * A layer that was asked for and cannot be enforced on this host makes
 * sbx_spawn() fail with -EOPNOTSUPP, unless it is marked best-effort here: then
 * the child runs without it and sbx_result_layers() does not report it.
 *
 * @param policy The policy.
 * @param layers A set of #sbx_layer bits (replaces the earlier set; 0 makes every layer strict).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or a bit this version does not know.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_best_effort(sbx_policy *policy, uint32_t layers);

/**
 * @brief Choose whether the child is killed when its spawner goes away (default: on).
 *
 * With it on, the child gets SIGKILL when the host thread that called
 * sbx_spawn() exits (PR_SET_PDEATHSIG follows the thread, not the process):
 * spawn from a thread that outlives its children, or turn this off.
 *
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_die_with_parent(sbx_policy *policy, int on);

/**
 * @brief Keep a sandbox of this policy prepared for its next spawn (default:
 * #SBX_PREPARE_AHEAD_AUTO, once a program runs twice in a row).
 *
 * With it on, after each sbx_spawn() of the policy the library prepares the
 * next child: the layers' set-up, the clone into the namespaces, the mount
 * view, the init, and the program's process confined (rlimits,
 * capabilities, Landlock, the seccomp filter), waiting. It starts when the
 * child just spawned has ended, 100 ms after that spawn if the child runs
 * on, or when the next spawn asks for it, whichever comes first: it does not
 * take the CPUs from a program starting up, and never waits for a child.
 * The next sbx_spawn() that fits only hands it the program's arguments,
 * environment and standard streams, and the program executes: the spawn
 * costs about as much as a bare posix_spawn() (docs/performance.md).
 *
 * One sandbox per policy is kept, prepared for the spawn before. A spawn
 * takes it when it runs the same program (argv[0] resolved to the same
 * files), from the same working directory (when neither the policy nor
 * sbx_spawn_opts.workdir names one), in the same process, without kept
 * descriptors (sbx_io.keep_fds); from any thread. Its own
 * sbx_spawn_opts.workdir, environment, streams, input and wall-clock limit
 * are this spawn's, and sbx_run() fits too. A spawn that does not fit spawns
 * as usual, and the next sandbox is prepared for it. It is prepared for
 * policies with a pid and a mount namespace (the default, where the host
 * allows them), without the egress broker, the capability channel,
 * overlays, a seccomp policy of their own (sbx_deny_syscall(), an
 * allow-list, diagnose or learn mode) or an RLIMIT_NOFILE under 64; for
 * others this does nothing. sbx_result_prepared_ahead() tells which spawns
 * took one.
 *
 * What it changes for the host:
 * - A thread of the library's clones the sandbox, and waits while the
 *   sandbox waits (the waiting program runs on a part of its stack, as a
 *   spawn's child shares the spawning thread's memory). These threads are
 *   made when needed, reused, and never end. With sbx_set_die_with_parent() on, such a child gets
 * its parent-death signal when the process ends, not when the thread that called sbx_spawn() ends.
 * - Between spawns each such policy keeps two more processes (the sandbox's
 *   first process, a child of the library's thread with no exit signal:
 *   `waitpid(-1)` sees it only with `__WALL` or `__WCLONE`; and the waiting
 *   program), its namespaces, mount view and cgroups.
 * - The grants, the program's files and the host's working directory are
 *   opened and checked when it is prepared, not when it is used.
 * - sbx_policy_free(), changing the policy, or this call with 0 kill and
 *   reap it. If preparing fails once, the policy spawns as usual from then on.
 * - A host may change its credentials (setuid(), setgid(), setgroups(),
 *   capabilities) at any time. A sandbox prepared with the old ones is not
 *   taken: the next spawn ends it, and runs under a plan made for the new
 *   credentials (every policy's plan is made again after such a change).
 * - One sandbox per policy is prepared at a time: of spawns from many threads
 *   at once, the others spawn as usual.
 *
 * The default, #SBX_PREPARE_AHEAD_AUTO, prepares after a spawn that runs the
 * same program as the policy's spawn before it: a policy spawned once (the
 * CLI), or for another program each time, keeps nothing; one that runs the
 * same program again and again (an agent's tool, a code interpreter) has
 * its third spawn and those after it prepared. A prepared sandbox that does
 * not fit a spawn stays for the next that does. #SBX_PREPARE_AHEAD_ON
 * prepares after every spawn, #SBX_PREPARE_AHEAD_OFF never: a host that
 * must see no process of the library's between spawns (one that reaps
 * with `waitpid(-1, ..., __WALL)`, or counts its children or descriptors
 * while the policy lives) turns it off.
 *
 * @param policy The policy.
 * @param mode #SBX_PREPARE_AHEAD_OFF (0), #SBX_PREPARE_AHEAD_ON (1) or
 *        #SBX_PREPARE_AHEAD_AUTO (2).
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or another @p mode.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_prepare_ahead(sbx_policy *policy, int mode);

/** @brief sbx_prepare_ahead(): never prepare. @since 0.2 */
#define SBX_PREPARE_AHEAD_OFF  0
/** @brief sbx_prepare_ahead(): prepare after every spawn. @since 0.2 */
#define SBX_PREPARE_AHEAD_ON   1
/** @brief sbx_prepare_ahead(): prepare after a spawn of the same program as
 * the one before it (the default). @since 0.2 */
#define SBX_PREPARE_AHEAD_AUTO 2

/* ---- Filesystem and network grants (the Landlock layer) ------------------ */

/** @brief Read files and list directories (Landlock READ_FILE, READ_DIR). @since 0.1 */
#define SBX_FS_READ     (1ull << 0)
/**
 * @brief Write: modify, create, remove, rename, link, truncate, and make
 * directories, fifos, sockets and symbolic links beneath the path (Landlock
 * WRITE_FILE, REMOVE_DIR, REMOVE_FILE, MAKE_DIR, MAKE_REG, MAKE_SOCK, MAKE_FIFO,
 * MAKE_SYM; REFER from ABI 2, TRUNCATE from ABI 3, IOCTL_DEV from ABI 5).
 * Device nodes can never be created. @since 0.1
 */
#define SBX_FS_WRITE    (1ull << 1)
/** @brief Execute files (Landlock EXECUTE). @since 0.1 */
#define SBX_FS_EXEC     (1ull << 2)
/** @brief With sbx_allow_path(): a missing path is skipped instead of being an error. @since 0.1 */
#define SBX_FS_OPTIONAL (1ull << 63)

/**
 * @name Finer write rights
 * Parts of #SBX_FS_WRITE, for sbx_allow_path() (and sbx_bind()), where
 * Landlock tells them apart: a grant of some of them allows only those
 * (#SBX_FS_WRITE itself keeps its meaning: all of them). With the mount
 * namespace's view any of them makes the bind writable; Landlock holds the
 * difference. See docs/carve-outs.md.
 * @{
 */
/** @brief Write into existing files, without truncating them (Landlock WRITE_FILE). @since 0.2 */
#define SBX_FS_WRITE_FILE   (1ull << 3)
/** @brief Truncate files (truncate(2), O_TRUNC; Landlock TRUNCATE, ABI 3). @since 0.2 */
#define SBX_FS_TRUNCATE     (1ull << 4)
/** @brief Create regular files and directories (Landlock MAKE_REG, MAKE_DIR). @since 0.2 */
#define SBX_FS_CREATE       (1ull << 5)
/** @brief Remove files and directories (Landlock REMOVE_FILE, REMOVE_DIR). @since 0.2 */
#define SBX_FS_REMOVE       (1ull << 6)
/** @brief Make symbolic links (Landlock MAKE_SYM). @since 0.2 */
#define SBX_FS_MAKE_SYMLINK (1ull << 7)
/** @brief Make fifos and unix sockets (Landlock MAKE_FIFO, MAKE_SOCK). @since 0.2 */
#define SBX_FS_MAKE_SPECIAL (1ull << 8)
/** @brief Rename or link a file into another directory (Landlock REFER, ABI 2). @since 0.2 */
#define SBX_FS_REFER        (1ull << 9)
/** @brief Device ioctls on granted device files (Landlock IOCTL_DEV, ABI 5). @since 0.2 */
#define SBX_FS_IOCTL_DEV    (1ull << 10)
/** @} */

/**
 * @brief Grant access beneath a path.
 *
 * A policy starts with read access to /usr, /bin, /sbin, /lib*, /etc and the
 * device nodes /dev/null, zero, full, random, urandom and tty (the first three
 * and tty also writable); the working directory (sbx_set_workdir()) is read and
 * write; nothing else is visible, and nothing can be executed but the program
 * being spawned, the interpreters it needs, and granted tools. The path must
 * exist now (unless #SBX_FS_OPTIONAL); it is opened again when the policy is
 * compiled, so a grant follows the file system object, not the name.
 *
 * @param policy The policy.
 * @param path An absolute path, directory or file.
 * @param access #SBX_FS_READ, #SBX_FS_WRITE (or some of its parts: #SBX_FS_WRITE_FILE,
 * #SBX_FS_TRUNCATE, #SBX_FS_CREATE, #SBX_FS_REMOVE, #SBX_FS_MAKE_SYMLINK,
 * #SBX_FS_MAKE_SPECIAL, #SBX_FS_REFER, #SBX_FS_IOCTL_DEV), #SBX_FS_EXEC, combined,
 * optionally with #SBX_FS_OPTIONAL.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a relative path, or bad access bits.
 * @retval -ENOENT The path does not exist (and is not optional).
 * @retval -ENOMEM Out of memory.
 * @return Otherwise the errno of stat(2) on @p path.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_allow_path(sbx_policy *policy, const char *path, uint64_t access);

/**
 * @brief Allow the child to execute a tool.
 *
 * A bare name is looked up now in the PATH of the child's environment (as set
 * when this is called); the absolute path found is kept. The tool is granted
 * read and execute, and so are the interpreters it needs to start: the ELF
 * interpreter (the dynamic loader), the interpreter of a `#!` script, and for
 * `#!/usr/bin/env NAME` the program NAME resolves to.
 *
 * This stops execve(2) of anything else. It does not stop a process that can
 * already run code from mapping a readable file as code (running
 * `/lib64/ld-linux-x86-64.so.2 /usr/bin/anything` through a granted loader, or
 * an interpreter reading a script): see docs/security-model.md.
 *
 * @param policy The policy.
 * @param name_or_path A program name or an absolute path.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, an empty name, or a relative path with a '/'.
 * @retval -ENOENT Not found in PATH.
 * @retval -EACCES The file is not executable.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_allow_tool(sbx_policy *policy, const char *name_or_path);

/**
 * @brief What the child may execute (sbx_set_exec_mode()).
 * @since 0.2
 */
typedef enum sbx_exec_mode {
    /** The allow-list (the default): the program being spawned, the
     * interpreters it needs, granted tools and paths granted #SBX_FS_EXEC. */
    SBX_EXEC_ALLOWLIST = 0,
    /** The allow-list, and anything beneath the system directories /usr,
     * /bin, /sbin, /lib, /lib64, /lib32 and /libx32, which the child may
     * read but never write. Weaker than the allow-list. */
    SBX_EXEC_SYSTEM = 1,
} sbx_exec_mode;

/**
 * @brief Choose what the child may execute: #SBX_EXEC_ALLOWLIST (the default)
 * or #SBX_EXEC_SYSTEM.
 *
 * #SBX_EXEC_SYSTEM is for a user who does not want to list each tool: the
 * child may execute any program installed beneath the system directories
 * (/usr, /bin, /sbin, /lib, /lib64, /lib32, /libx32; not /opt, which is not
 * in the default view: grant it with sbx_allow_path() and #SBX_FS_EXEC), and
 * still nothing it could have written (its working directory, its TMPDIR,
 * write grants), so a program it downloads or builds cannot run. It is weaker
 * than the allow-list: every installed program (a compiler, a shell, curl,
 * an interpreter) is at the child's disposal. A write grant, writable bind or
 * tmpfs, working directory or temporary directory parent that overlaps a
 * system directory makes the policy fail to compile with -EINVAL: nothing may
 * be both writable and executable. See docs/landlock.md.
 *
 * @param policy The policy.
 * @param mode An #sbx_exec_mode value.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or an unknown mode.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_set_exec_mode(sbx_policy *policy, int mode);

/**
 * @brief The policy's exec mode.
 * @param policy The policy (NULL gives #SBX_EXEC_ALLOWLIST).
 * @return An #sbx_exec_mode value.
 * @since 0.2
 */
SBX_API int sbx_policy_exec_mode(const sbx_policy *policy);

/**
 * @brief The name of an exec mode: "allowlist", "system".
 * @param mode An #sbx_exec_mode value.
 * @return A static string; NULL for anything else.
 * @since 0.2
 */
SBX_API const char *sbx_exec_mode_name(int mode);

/**
 * @brief Allow outgoing TCP connections to a port (any address).
 *
 * Without a grant, TCP connect and bind are denied (Landlock ABI 4).
 * @param policy The policy.
 * @param port 1 to 65535.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy or a port out of range.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_allow_connect(sbx_policy *policy, int port);

/**
 * @brief Allow binding TCP sockets to a port (0: an ephemeral port chosen by the kernel).
 * @param policy The policy.
 * @param port 0 to 65535.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy or a port out of range.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_allow_bind(sbx_policy *policy, int port);

/**
 * @brief Let the child connect to one host unix socket.
 *
 * By default a child reaches no pathname unix socket of the host: in a mount
 * namespace (#SBX_NS_MOUNT) its view does not show them, and without one the
 * seccomp layer denies `socket(AF_UNIX, ...)` (`socketpair` stays allowed).
 * A granted socket is bound into the view at its path, so this grant needs
 * the mount namespace: without one (the host refuses it, or the policy does
 * not ask for it) the spawn fails with -EOPNOTSUPP, since the child could
 * then reach every socket its uid can. Sockets inside a directory granted
 * with sbx_allow_path() are visible in the view too.
 *
 * @param policy The policy.
 * @param path An absolute path to an existing unix socket, at most 107 bytes
 *        (sun_path); links a sandboxed child could have made are refused (see
 *        sbx_allow_path()).
 * @retval 0 Success.
 * @retval -EINVAL NULL argument, a relative or too long path.
 * @retval -ENOTSOCK @p path is not a socket.
 * @retval -ELOOP A link in @p path that a sandboxed child could have made.
 * @retval -ENOENT and other errnos of open(2): the path cannot be opened.
 * @retval -ENOMEM Out of memory.
 * @since 0.2
 */
SBX_API SBX_WUR int sbx_allow_unix_socket(sbx_policy *policy, const char *path);

/**
 * @brief Lift every network restriction of every layer (TCP ports, and socket
 * types other layers deny).
 * @param policy The policy.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_allow_network(sbx_policy *policy);

/**
 * @brief Give each child a private temporary directory (default: on).
 *
 * The directory is created (mode 0700) when the child is spawned, under
 * /dev/shm or /tmp (see sbx_set_tmp_parent()),
 * granted read and write, exported as TMPDIR, and removed with its contents
 * once the child has ended, however it ended. It applies while the Landlock
 * layer is in force. Under a memory limit it is bounded too: in the mount
 * namespace's tmpfs, by the cgroup, or on a disk (see #SBX_LIMIT_TMP); a
 * directory a killed host left behind is removed by a later process
 * (docs/landlock.md).
 * @param policy The policy.
 * @param on 1 or 0.
 * @retval 0 Success.
 * @retval -EINVAL NULL policy, or @p on neither 0 nor 1.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_private_tmp(sbx_policy *policy, int on);

/**
 * @brief Choose where private temporary directories are created.
 *
 * By default they go under /dev/shm when it is a tmpfs of at least 1 GiB that
 * the host can write (creating and removing a directory there costs
 * microseconds; on a journalled disk file system it can cost a hundred or more
 * on every spawn), and under /tmp otherwise. Files in a tmpfs use memory: a
 * host that lets children write large temporary files may prefer a disk.
 * Under a memory limit without a cgroup or a mount namespace, a parent in
 * memory is refused at spawn (-EOPNOTSUPP; see #SBX_LIMIT_TMP), and the
 * default parent becomes /var/tmp or /tmp, on a disk.
 *
 * @param policy The policy.
 * @param dir An existing directory: an absolute path of at most 100 bytes.
 * @retval 0 Success.
 * @retval -EINVAL A NULL argument, a relative path, or a path too long.
 * @retval -ENOENT @p dir does not exist.
 * @retval -ENOTDIR @p dir is not a directory.
 * @retval -ENOMEM Out of memory.
 * @since 0.1
 */
SBX_API SBX_WUR int sbx_set_tmp_parent(sbx_policy *policy, const char *dir);

/**
 * @brief The Landlock ABI version the library uses on this kernel.
 * @return 0 when Landlock is unavailable, else 1 to 7 (or more on newer kernels).
 *         Thread-safe; probed once.
 * @since 0.1
 */
SBX_API int sbx_landlock_abi(void);

#ifdef __cplusplus
}
#endif

#endif /* AGENTSBX_POLICY_H */
