/* The options that build a policy (environment, grants, limits, layers),
 * shared by every subcommand that needs a policy: each splices
 * CLI_POLICY_OPTIONS into its getopt_long() table, hands the options it does
 * not know to cli_policy_option(), and calls cli_policy_build(). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

/* "hygiene, rlimits, ..., monitor, or all", wrapped in the option column of the help. */
static void print_layer_names(FILE *out)
{
    const int indent = 27, width = 80;
    int col = indent;

    fprintf(out, "%*s", indent, "");
    for (uint32_t bit = 1;; bit <<= 1) {
        const char *name = (bit & SBX_LAYER_ALL) ? sbx_layer_name(bit) : "or all";
        int len = (int)strlen(name) + 1; /* with the ',' after it */
        if (col > indent && col + 1 + len > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            col += fprintf(out, " ");
        }
        if (!(bit & SBX_LAYER_ALL)) {
            fprintf(out, "%s\n", name);
            return;
        }
        col += fprintf(out, "%s,", name);
    }
}

void cli_policy_help(FILE *out)
{
    fprintf(out,
            "Policy files and profiles (applied first; the options below add to them):\n"
            "      --profile NAME|FILE  start from a built-in profile (minimal, workspace,\n"
            "                           networked) or, when the argument has a '/' or ends\n"
            "                           in .json, from a JSON policy file (repeatable; see\n"
            "                           docs/policy-files.md)\n"
            "      --policy FILE        start from a JSON policy file, whatever its name\n"
            "\n"
            "Environment (the child's is clean: PATH, LANG=C.UTF-8 and HOME only):\n"
            "      --env NAME=VALUE     set NAME in the child's environment (repeatable)\n"
            "      --pass-env NAME      pass the host's NAME through, if set (repeatable)\n"
            "      --workdir DIR        run in DIR, which the child may read and write\n"
            "                           (default: the current directory, not granted)\n"
            "\n"
            "Files and network (denied by default; the child may read /usr, /bin, /sbin,\n"
            "/lib*, /etc and a few /dev nodes, read and write its --workdir and a private\n"
            "TMPDIR, and execute PROGRAM and the interpreters it needs; all repeatable):\n"
            "      --ro PATH            read files and list directories beneath PATH\n"
            "      --rw PATH            read, write, create and remove beneath PATH\n"
            "      --rx PATH            read and execute beneath PATH\n"
            "      --tool NAME          execute NAME (a path, or a name searched in the\n"
            "                           child's PATH) and the interpreters it needs\n"
            "      --exec MODE          allowlist (the default: only PROGRAM, its\n"
            "                           interpreters, --tool and --rx) or system (also\n"
            "                           anything beneath /usr, /bin, /sbin, /lib*, and\n"
            "                           still nothing the child can write; weaker, see\n"
            "                           docs/landlock.md)\n"
            "      --connect PORT       open TCP connections to PORT\n"
            "      --allow-host HOST[:PORT]  reach HOST (a name, *.domain or an IP literal;\n"
            "                           ports 80 and 443 by default) through the egress\n"
            "                           broker, with HTTP_PROXY set; no other connection\n"
            "      --deny-host HOST[:PORT]  refuse HOST whatever --allow-host says\n"
            "      --resolve NAME:ADDR  the broker resolves NAME to ADDR, never asking DNS\n"
            "      --net-bytes SIZE|UP:DOWN  the most bytes the child sends and receives\n"
            "                           through the broker (status network_limit past it)\n"
            "      --net-rate SIZE      the broker's bandwidth per direction, bytes/s\n"
            "      --net-connections N[:CONCURRENT]  connections through the broker in\n"
            "                           all, and open at once\n"
            "      --bind PORT          bind TCP sockets to PORT (0: an ephemeral port)\n"
            "      --bind SRC:DEST[:ro|rw|rx]  show the host's SRC at DEST in the child's\n"
            "                           view (read-only unless rw or rx; needs the mount\n"
            "                           namespace's view)\n"
            "      --tmpfs PATH[:SIZE]  an empty writable tmpfs at PATH in the view\n"
            "      --overlay DIR[:UPPER]  show DIR writable, its changes kept in UPPER (empty\n"
            "                           or absent; default: a private directory, named in\n"
            "                           --json); DIR is untouched: see `overlay --help`\n"
            "      --unix-socket PATH   let the child connect to the host's unix socket PATH\n"
            "                           (repeatable; needs --unshare mount: by default no\n"
            "                           host unix socket is reachable)\n"
            "      --deny-read PATH     hide PATH (a file or directory, existing or not)\n"
            "                           whatever grant covers it, the default view and\n"
            "                           the workdir included (see docs/carve-outs.md)\n"
            "      --deny-write PATH    make PATH read-only whatever grant covers it\n"
            "      --protect NAME       add NAME (relative, such as .env) to the protected\n"
            "                           list: read-only inside every write grant and the\n"
            "                           workdir (default list: .bashrc, .git/config,\n"
            "                           .git/hooks, .vscode... see `policy show`)\n"
            "      --unprotect NAME     remove NAME from the protected list\n"
            "      --allow-network      lift every network restriction\n"
            "      --no-private-tmp     give the child no private TMPDIR\n"
            "\n"
            "Limits (SECONDS: 2.5, 500ms, 2m; SIZE: 64K, 512M, 1GiB, unlimited):\n"
            "      --timeout SECONDS    kill the child's process group after SECONDS of\n"
            "                           wall-clock time\n"
            "      --cpu SECONDS        CPU time of each process (RLIMIT_CPU); rounded up to\n"
            "                           whole seconds, the granularity of RLIMIT_CPU\n"
            "      --memory SIZE        memory each process may allocate (RLIMIT_DATA),\n"
            "                           at least 1M; with a cgroup, the memory of the whole\n"
            "                           child (memory.max), and RLIMIT_DATA is not set\n"
            "      --files N            open descriptors of each process (RLIMIT_NOFILE),\n"
            "                           at least 4\n"
            "      --fsize SIZE         largest file the child may write (RLIMIT_FSIZE)\n"
            "      --procs N            processes and threads of the child's user\n"
            "                           (RLIMIT_NPROC; root is not bound by it, so as root\n"
            "                           it needs --best-effort rlimits); with a cgroup,\n"
            "                           the child's processes (pids.max), root included\n"
            "      --cpu-rate CPUS      CPU bandwidth of the whole child, in CPUs (0.5:\n"
            "                           half a CPU, 2: two), at least 0.01; needs --cgroup\n"
            "                           or --cgroup-parent (cpu.max, cpu.cfs_quota_us)\n"
            "      --cgroup             put the child in cgroups of its own beneath this\n"
            "                           process's own cgroups (see docs/cgroups.md)\n"
            "      --cgroup-parent DIR  ... beneath DIR, a cgroup directory delegated to\n"
            "                           this process (repeatable: one per hierarchy)\n"
            "\n"
            "Capabilities (the child holds none, root or not; see docs/security-model.md):\n"
            "      --cap-keep NAME      keep capability NAME (CAP_NET_BIND_SERVICE or\n"
            "                           net_bind_service; repeatable); the host must hold it\n"
            "\n"
            "Namespaces (see docs/namespaces.md):\n"
            "      --isolation MODE     auto (the default: new user, pid, mount, ipc, uts\n"
            "                           and cgroup namespaces where this host allows them,\n"
            "                           else Landlock and seccomp alone, and the result\n"
            "                           says so), full (those and a network namespace\n"
            "                           unless network is granted; an error where they\n"
            "                           cannot be made), or minimal (no namespaces but\n"
            "                           --unshare ones)\n"
            "      --unshare LIST       run the child in new namespaces: a comma-separated\n"
            "                           list of user, pid, net, ipc, uts, mount, cgroup, or\n"
            "                           all;\n"
            "                           without root, user is added (the others need it).\n"
            "                           pid: an init as pid 1, and nothing the child\n"
            "                           starts outlives it; net: loopback only; mount:\n"
            "                           read-only and noexec except granted paths, and a\n"
            "                           private /tmp and /dev/shm\n"
            "SECONDS may have a fraction (1.5, 0.25, .5). SIZE is in bytes, or a number\n"
            "followed by K, M or G (powers of 1024).\n"
            "\n"
            "System calls (a seccomp filter denies ptrace, bpf, io_uring, mount, unshare,\n"
            "TIOCSTI and other kernel surface; see docs/seccomp.md; denied calls fail with\n"
            "EPERM and are reported):\n"
            "      --deny-syscall NAME[:ERRNO|kill]\n"
            "                           deny NAME, failing with ERRNO (a number or a name\n"
            "                           such as EACCES; default EPERM), or kill the process\n"
            "                           that makes it (repeatable; the last rule for a name\n"
            "                           wins)\n"
            "      --allow-syscall NAME allow NAME (in allow-list mode, or lifting a default\n"
            "                           denial; repeatable)\n"
            "      --syscall-allowlist  allow only a base set of system calls (enough for\n"
            "                           sh, python3, git and gcc) and --allow-syscall ones\n"
            "      --max-violations N   kill the child at its N-th denied system call\n"
            "      --violation-rate N   kill the child when it makes more than N denied\n"
            "                           calls within a second (default 1000; 0: no limit)\n"
            "\n"
            "Layers (every layer is strict: one this host cannot enforce is an error):\n"
            "      --best-effort LAYER  run even if LAYER cannot be enforced on this host\n"
            "                           (repeatable, or a comma-separated list); LAYER is\n");
    print_layer_names(out);
}

static int bad_value(const char *opt, const char *what, const char *arg)
{
    fprintf(stderr, "%s: --%s: invalid %s '%s'\n", cli_progname, opt, what, arg);
    return -1;
}

static void set_limit(struct cli_limit *l, uint64_t value, const char *text)
{
    l->set = 1;
    l->value = value;
    l->text = text;
}

int cli_policy_opts_init(struct cli_policy_opts *o, int argc)
{
    memset(o, 0, sizeof(*o));
    /* At most one operation per argument. */
    o->ops = calloc((size_t)argc + 1, sizeof(*o->ops));
    if (o->ops == NULL) {
        fprintf(stderr, "%s: %s\n", cli_progname, strerror(ENOMEM));
        return -1;
    }
    return 0;
}

void cli_policy_opts_free(struct cli_policy_opts *o)
{
    free(o->ops);
    o->ops = NULL;
}

/* --net-bytes SIZE|UP:DOWN, --net-connections N[:CONCURRENT]: one value, or
 * two; --net-bytes SIZE is both directions, --net-connections N leaves the
 * concurrent cap unlimited. */
static int net_pair(int c, const char *arg, uint64_t *a, uint64_t *b)
{
    int (*parse)(const char *, uint64_t *) =
        c == CLI_OPT_NET_BYTES ? cli_parse_size : cli_parse_count;
    const char *colon = strchr(arg, ':');
    if (!colon) {
        if (parse(arg, a) < 0)
            return -1;
        *b = c == CLI_OPT_NET_BYTES ? *a : SBX_UNLIMITED;
        return 0;
    }
    char first[64];
    size_t n = (size_t)(colon - arg);
    if (n == 0 || n >= sizeof(first))
        return -1;
    memcpy(first, arg, n);
    first[n] = '\0';
    return parse(first, a) < 0 || parse(colon + 1, b) < 0 ? -1 : 0;
}

int cli_policy_option(struct cli_policy_opts *o, int c, const char *name, const char *arg)
{
    uint64_t v;
    uint32_t layers;

    switch (c) {
    case CLI_OPT_WORKDIR: o->workdir = arg; return 1;
    case CLI_OPT_ENV:
        if (strchr(arg, '=') == NULL || arg[0] == '=') {
            fprintf(stderr, "%s: --env: expected NAME=VALUE, not '%s'\n", cli_progname, arg);
            return -1;
        }
        break;
    case CLI_OPT_ALLOW_BIND:
        if (strchr(arg, '/') != NULL) /* --bind SRC:DEST[:ro|rw|rx], checked when applied */
            break;
        /* fall through */
    case CLI_OPT_ALLOW_CONNECT:
        if (cli_parse_count(arg, &v) < 0 || v > 65535)
            return bad_value(name, "port", arg);
        break;
    case CLI_OPT_RESOLVE:
        if (!strchr(arg, ':') || arg[0] == ':') {
            fprintf(stderr, "%s: --resolve: expected NAME:ADDR, not '%s'\n", cli_progname, arg);
            return -1;
        }
        break;
    case CLI_OPT_NET_BYTES:
    case CLI_OPT_NET_CONNS: {
        /* N or A:B, each checked here and by the library when applied */
        uint64_t a, b;
        if (net_pair(c, arg, &a, &b) < 0)
            return bad_value(name, c == CLI_OPT_NET_BYTES ? "size or UP:DOWN" : "count or N:M",
                             arg);
        break;
    }
    case CLI_OPT_NET_RATE:
        if (cli_parse_size(arg, &v) < 0)
            return bad_value(name, "size", arg);
        break;

    case CLI_OPT_ALLOW_HOST:
    case CLI_OPT_DENY_HOST:
    case CLI_OPT_PASS_ENV:
    case CLI_OPT_ALLOW_READ:
    case CLI_OPT_ALLOW_WRITE:
    case CLI_OPT_ALLOW_EXEC:
    case CLI_OPT_ALLOW_TOOL:
    case CLI_OPT_UNIX_SOCKET:
    case CLI_OPT_DENY_READ:
    case CLI_OPT_DENY_WRITE:
    case CLI_OPT_PROTECT:
    case CLI_OPT_UNPROTECT:
    case CLI_OPT_TMPFS:
    case CLI_OPT_OVERLAY: break;
    case CLI_OPT_CAP_KEEP:
        if (sbx_capability_from_name(arg) < 0) {
            fprintf(stderr,
                    "%s: --cap-keep: unknown capability '%s' (a name of capabilities(7), "
                    "such as CAP_NET_BIND_SERVICE)\n",
                    cli_progname, arg);
            return -1;
        }
        break;
    case CLI_OPT_ALLOW_NETWORK: o->allow_network = 1; return 1;
    case CLI_OPT_NO_PRIVATE_TMP: o->no_private_tmp = 1; return 1;
    case CLI_OPT_TIMEOUT:
        if (cli_parse_duration(arg, &v) < 0)
            return bad_value(name, "duration", arg);
        /* To milliseconds, rounded up: 0.0001 must not become "no time at all". */
        set_limit(&o->timeout, v == SBX_UNLIMITED ? v : v / 1000000 + (v % 1000000 != 0), arg);
        return 1;
    case CLI_OPT_CPU:
        if (cli_parse_duration(arg, &v) < 0)
            return bad_value(name, "duration", arg);
        set_limit(&o->cpu, v == SBX_UNLIMITED ? v : v / 1000000000 + (v % 1000000000 != 0), arg);
        return 1;
    case CLI_OPT_MEMORY:
    case CLI_OPT_FSIZE:
        if (cli_parse_size(arg, &v) < 0)
            return bad_value(name, "size", arg);
        set_limit(c == CLI_OPT_MEMORY ? &o->memory : &o->fsize, v, arg);
        return 1;
    case CLI_OPT_CPU_RATE:
        /* A decimal number of CPUs, parsed as seconds are, to millicpus rounded up. */
        if (cli_parse_seconds(arg, &v) < 0)
            return bad_value(name, "number of CPUs", arg);
        set_limit(&o->cpu_rate, v / 1000000 + (v % 1000000 != 0), arg);
        return 1;
    case CLI_OPT_FILES:
    case CLI_OPT_PROCS:
        if (cli_parse_count(arg, &v) < 0)
            return bad_value(name, "count", arg);
        set_limit(c == CLI_OPT_FILES ? &o->files : &o->procs, v, arg);
        return 1;
    case CLI_OPT_DENY_SYSCALL: {
        size_t n;
        int error;
        if (cli_parse_syscall_rule(arg, &n, &error) < 0) {
            fprintf(stderr, "%s: --deny-syscall: expected NAME[:ERRNO|kill], not '%s'\n",
                    cli_progname, arg);
            return -1;
        }
        break;
    }
    case CLI_OPT_ALLOW_SYSCALL: break;
    case CLI_OPT_PROFILE:
    case CLI_OPT_POLICY_FILE: break;
    case CLI_OPT_SYSCALL_ALLOWLIST: o->syscall_allowlist = 1; return 1;
    case CLI_OPT_CGROUP: o->cgroup = 1; return 1;
    case CLI_OPT_CGROUP_PARENT:
        if (o->n_cgroup_parent == sizeof(o->cgroup_parent) / sizeof(o->cgroup_parent[0])) {
            fprintf(stderr, "%s: --cgroup-parent: at most 4\n", cli_progname);
            return -1;
        }
        o->cgroup_parent[o->n_cgroup_parent++] = arg;
        return 1;
    case CLI_OPT_ISOLATION:
        for (int iso = SBX_ISOLATION_AUTO; sbx_isolation_name(iso); iso++)
            if (strcmp(arg, sbx_isolation_name(iso)) == 0) {
                o->isolation = iso + 1;
                return 1;
            }
        fprintf(stderr, "%s: --isolation: expected auto, full or minimal, got '%s'\n", cli_progname,
                arg);
        return -1;
    case CLI_OPT_EXEC:
        for (int mode = SBX_EXEC_ALLOWLIST; sbx_exec_mode_name(mode); mode++)
            if (strcmp(arg, sbx_exec_mode_name(mode)) == 0) {
                o->exec_mode = mode + 1;
                return 1;
            }
        fprintf(stderr, "%s: --exec: expected allowlist or system, got '%s'\n", cli_progname, arg);
        return -1;
    case CLI_OPT_UNSHARE: {
        uint32_t set;
        if (sbx_parse_namespaces(arg, &set) < 0) {
            fprintf(stderr, "%s: --unshare: %s\n", cli_progname, sbx_last_error());
            return -1;
        }
        o->unshare |= set;
        o->unshare_text = arg;
        return 1;
    }
    case CLI_OPT_MAX_VIOLATIONS:
        if (cli_parse_count(arg, &v) < 0)
            return bad_value(name, "count", arg);
        set_limit(&o->max_violations, v, arg);
        return 1;
    case CLI_OPT_VIOLATION_RATE:
        if (cli_parse_count(arg, &v) < 0)
            return bad_value(name, "count", arg);
        set_limit(&o->violation_rate, v, arg);
        return 1;
    case CLI_OPT_BEST_EFFORT:
        if (cli_parse_layers(arg, &layers) < 0) {
            fprintf(stderr, "%s: --best-effort: unknown layer '%s'\n", cli_progname, arg);
            return -1;
        }
        o->best_effort |= layers;
        o->best_effort_text = arg;
        return 1;
    default: return 0;
    }
    /* An operation kept in command-line order. */
    o->ops[o->n_ops].opt = c;
    o->ops[o->n_ops].name = name;
    o->ops[o->n_ops].arg = arg;
    o->n_ops++;
    return 1;
}

/* Report a value that was refused: by the library (@p rc < 0, with its
 * message), or by this tool (@p rc > 0, a positive errno). A command-line
 * error: always printed. */
static void refused(int rc, const char *opt, const char *arg)
{
    const char *msg = rc > 0 ? strerror(rc) : sbx_last_error();

    fprintf(stderr, "%s: --%s '%s': %s\n", cli_progname, opt, arg,
            msg[0] != '\0' ? msg : sbx_strerror(rc));
}

/* @p path as an absolute path, in @p buf (PATH_MAX bytes). A relative one is
 * resolved against the current directory; if it cannot be (it does not exist,
 * say), it is only joined to it, and the library reports the error. Returns 0
 * or a positive errno (an error of this tool, not of the library). */
static int absolute_path(const char *path, char *buf)
{
    char cwd[PATH_MAX];

    if (path[0] == '/' || path[0] == '\0') {
        if (strlen(path) >= PATH_MAX)
            return ENAMETOOLONG;
        strcpy(buf, path); /* "" is left for the library to refuse */
        return 0;
    }
    if (realpath(path, buf) != NULL)
        return 0;
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return errno;
    if ((size_t)snprintf(buf, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
        return ENAMETOOLONG;
    return 0;
}

/* --deny-read and --deny-write: the path as given (it need not exist; the
 * library resolves it), made absolute against the current directory. */
static int apply_deny(const struct cli_op *op, sbx_policy *p)
{
    char path[PATH_MAX], cwd[PATH_MAX];
    const char *arg = op->arg;
    while (arg[0] == '.' && arg[1] == '/')
        arg += 2;
    if (arg[0] == '/' || arg[0] == '\0') {
        if (strlen(arg) >= PATH_MAX)
            return ENAMETOOLONG;
        strcpy(path, arg);
    } else {
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            return errno;
        if ((size_t)snprintf(path, PATH_MAX, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", arg) >=
            PATH_MAX)
            return ENAMETOOLONG;
    }
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
    return sbx_deny_path(p, path, op->opt == CLI_OPT_DENY_READ ? SBX_FS_READ : SBX_FS_WRITE);
}

/* --bind SRC:DEST[:ro|rw|rx] (SRC made absolute against the current directory). */
static int apply_mount_bind(const struct cli_op *op, sbx_policy *p)
{
    char spec[PATH_MAX * 2], src[PATH_MAX];
    if (strlen(op->arg) >= sizeof(spec))
        return ENAMETOOLONG;
    strcpy(spec, op->arg);
    uint64_t access = SBX_FS_READ;
    char *dest = strchr(spec, ':');
    if (dest == NULL) {
        fprintf(stderr, "%s: --bind: expected SRC:DEST[:ro|rw|rx] or a port, not '%s'\n",
                cli_progname, op->arg);
        return EINVAL;
    }
    *dest++ = '\0';
    char *mode = strchr(dest, ':');
    if (mode != NULL) {
        *mode++ = '\0';
        if (strcmp(mode, "rw") == 0)
            access |= SBX_FS_WRITE;
        else if (strcmp(mode, "rx") == 0)
            access |= SBX_FS_EXEC;
        else if (strcmp(mode, "ro") != 0) {
            fprintf(stderr, "%s: --bind: expected ro, rw or rx after DEST, not '%s'\n",
                    cli_progname, mode);
            return EINVAL;
        }
    }
    int rc = absolute_path(spec, src);
    return rc != 0 ? rc : sbx_bind(p, src, dest, access);
}

/* --tmpfs PATH[:SIZE] */
static int apply_tmpfs(const struct cli_op *op, sbx_policy *p)
{
    char path[PATH_MAX];
    if (strlen(op->arg) >= sizeof(path))
        return ENAMETOOLONG;
    strcpy(path, op->arg);
    uint64_t size = 0;
    char *colon = strchr(path, ':');
    if (colon != NULL) {
        *colon++ = '\0';
        if (sbx_parse_size(colon, &size) < 0) {
            fprintf(stderr, "%s: --tmpfs: '%s' is not a size (such as 64M)\n", cli_progname, colon);
            return EINVAL;
        }
    }
    return sbx_tmpfs(p, path, size);
}

/* Apply one operation: 0, a negative errno from the library, or a positive
 * errno from this tool. */
static int apply_env(const struct cli_op *op, sbx_policy *p)
{
    const char *arg = op->arg;
    size_t n;
    char *name;
    int rc;

    if (op->opt == CLI_OPT_PASS_ENV)
        return sbx_pass_env(p, arg);
    n = strcspn(arg, "=");
    name = strndup(arg, n);
    if (name == NULL)
        return ENOMEM;
    rc = sbx_set_env(p, name, arg + n + 1);
    free(name);
    return rc;
}

static int apply_grant(const struct cli_op *op, sbx_policy *p)
{
    char path[PATH_MAX];
    uint64_t access = SBX_FS_READ;
    int rc;

    switch (op->opt) {
    case CLI_OPT_DENY_READ:
    case CLI_OPT_DENY_WRITE: return apply_deny(op, p);
    case CLI_OPT_PROTECT: return sbx_protect_path(p, op->arg);
    case CLI_OPT_UNPROTECT: return sbx_unprotect(p, op->arg);
    case CLI_OPT_ALLOW_CONNECT: return sbx_allow_connect(p, atoi(op->arg));
    case CLI_OPT_ALLOW_HOST: return sbx_allow_host(p, op->arg);
    case CLI_OPT_DENY_HOST: return sbx_deny_host(p, op->arg);
    case CLI_OPT_RESOLVE: {
        size_t n = strcspn(op->arg, ":");
        char *name = strndup(op->arg, n);
        if (name == NULL)
            return ENOMEM;
        rc = sbx_broker_resolve(p, name, op->arg + n + 1);
        free(name);
        return rc;
    }
    case CLI_OPT_NET_BYTES:
    case CLI_OPT_NET_CONNS: {
        uint64_t a, b;
        if (net_pair(op->opt, op->arg, &a, &b) < 0)
            return EINVAL;
        return op->opt == CLI_OPT_NET_BYTES ? sbx_limit_network_bytes(p, a, b)
                                            : sbx_limit_connections(p, a, b);
    }
    case CLI_OPT_NET_RATE: {
        uint64_t v = 0;
        if (cli_parse_size(op->arg, &v) < 0)
            return EINVAL;
        return sbx_limit_network_rate(p, v);
    }
    case CLI_OPT_ALLOW_BIND:
        if (strchr(op->arg, '/') != NULL)
            return apply_mount_bind(op, p);
        return sbx_allow_bind(p, atoi(op->arg));
    case CLI_OPT_TMPFS: return apply_tmpfs(op, p);
    case CLI_OPT_OVERLAY: return cli_overlay_apply(op->arg, p);
    case CLI_OPT_CAP_KEEP: return sbx_keep_capability(p, op->arg);
    case CLI_OPT_ALLOW_TOOL:
        /* A bare name is the library's to search in the child's PATH. */
        if (strchr(op->arg, '/') == NULL)
            return sbx_allow_tool(p, op->arg);
        break;
    case CLI_OPT_ALLOW_WRITE: access |= SBX_FS_WRITE; break;
    case CLI_OPT_ALLOW_EXEC: access |= SBX_FS_EXEC; break;
    default: break;
    }
    rc = absolute_path(op->arg, path);
    if (rc != 0)
        return rc;
    if (op->opt == CLI_OPT_UNIX_SOCKET)
        return sbx_allow_unix_socket(p, path);
    if (op->opt == CLI_OPT_ALLOW_TOOL)
        return sbx_allow_tool(p, path);
    return sbx_allow_path(p, path, access);
}

static int is_env_op(int opt)
{
    return opt == CLI_OPT_ENV || opt == CLI_OPT_PASS_ENV;
}

/* --deny-syscall and --allow-syscall: 0, or a negative errno from the library. */
static int apply_syscall_rule(const struct cli_op *op, sbx_policy *p)
{
    size_t n;
    int error, rc;
    char *name;

    if (op->opt == CLI_OPT_ALLOW_SYSCALL)
        return sbx_allow_syscall(p, op->arg);
    if (cli_parse_syscall_rule(op->arg, &n, &error) < 0)
        return -EINVAL; /* checked when the option was read */
    name = strndup(op->arg, n);
    if (name == NULL)
        return ENOMEM;
    rc = sbx_deny_syscall(p, name, error);
    free(name);
    return rc;
}

static int is_syscall_op(int opt)
{
    return opt == CLI_OPT_DENY_SYSCALL || opt == CLI_OPT_ALLOW_SYSCALL;
}

static int is_profile_op(int opt)
{
    return opt == CLI_OPT_PROFILE || opt == CLI_OPT_POLICY_FILE;
}

/* --profile NAME|FILE and --policy FILE: a built-in profile, unless the
 * argument has a '/' or ends in ".json" (or came with --policy), which makes
 * it a file. 0, or a negative errno from the library. */
static int apply_profile(const struct cli_op *op, sbx_policy *p)
{
    size_t n = strlen(op->arg);

    if (op->opt == CLI_OPT_POLICY_FILE || strchr(op->arg, '/') != NULL ||
        (n >= 5 && strcmp(op->arg + n - 5, ".json") == 0))
        return sbx_policy_load_file(p, op->arg);
    return sbx_policy_apply_profile(p, op->arg);
}

/* Without --workdir the child starts in the current directory: granted
 * read-only, so that it can read what the command names relative to it (in
 * a mount namespace the directory is not there otherwise). Not "/" nor a
 * directory that holds the home directory ($HOME itself included): that would
 * grant the user's secrets (~/.ssh) to every command. */
int cli_grant_cwd(sbx_policy *p)
{
    char cwd[PATH_MAX];
    /* Not the root, and not /tmp or /dev/shm: in the view those are the
     * child's own (and a grant of them is refused there). */
    if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/") == 0 || strcmp(cwd, "/tmp") == 0 ||
        strcmp(cwd, "/dev/shm") == 0)
        return 0;
    const char *home = getenv("HOME");
    size_t n = strlen(cwd);
    if (home && strncmp(home, cwd, n) == 0 && (home[n] == '/' || home[n] == '\0'))
        return 0;
    int rc = sbx_allow_path(p, cwd, SBX_FS_READ);
    return rc == -ENOENT || rc == -EACCES || rc == -ELOOP ? 0
                                                          : rc; /* gone, or not ours: no grant */
}

int cli_policy_build(const struct cli_policy_opts *o, sbx_policy **ret)
{
    static const struct {
        const char *opt;
        size_t offset;
        int (*set)(sbx_policy *, uint64_t);
    } limits[] = {
        {"timeout", offsetof(struct cli_policy_opts, timeout), sbx_limit_wall_time},
        {"cpu", offsetof(struct cli_policy_opts, cpu), sbx_limit_cpu_time},
        {"memory", offsetof(struct cli_policy_opts, memory), sbx_limit_memory},
        {"files", offsetof(struct cli_policy_opts, files), sbx_limit_open_files},
        {"fsize", offsetof(struct cli_policy_opts, fsize), sbx_limit_file_size},
        {"procs", offsetof(struct cli_policy_opts, procs), sbx_limit_processes},
        {"cpu-rate", offsetof(struct cli_policy_opts, cpu_rate), sbx_limit_cpu_rate},
    };
    sbx_policy *p;
    int rc;

    rc = sbx_policy_new(&p);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", cli_progname, sbx_strerror(rc));
        return CLI_EXIT_SETUP;
    }
    /* Profiles and policy files first: everything else adds to them. */
    for (size_t i = 0; i < o->n_ops; i++) {
        if (is_profile_op(o->ops[i].opt) && (rc = apply_profile(&o->ops[i], p)) != 0) {
            refused(rc, o->ops[i].name, o->ops[i].arg);
            goto fail;
        }
    }
    /* The environment first, in command-line order (a later setting wins), so
     * that --tool searches the child's PATH as the options set it. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < o->n_ops; i++) {
            const struct cli_op *op = &o->ops[i];
            if (is_profile_op(op->opt) || is_env_op(op->opt) != (pass == 0))
                continue;
            rc = pass == 0                ? apply_env(op, p)
                 : is_syscall_op(op->opt) ? apply_syscall_rule(op, p)
                                          : apply_grant(op, p);
            if (rc != 0) {
                refused(rc, op->name, op->arg);
                goto fail;
            }
        }
    }
    if (o->allow_network && (rc = sbx_allow_network(p)) < 0) {
        refused(rc, "allow-network", "");
        goto fail;
    }
    if (o->no_private_tmp && (rc = sbx_set_private_tmp(p, 0)) < 0) {
        refused(rc, "no-private-tmp", "");
        goto fail;
    }
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        const struct cli_limit *l = (const struct cli_limit *)((const char *)o + limits[i].offset);
        if (l->set && (rc = limits[i].set(p, l->value)) < 0) {
            refused(rc, limits[i].opt, l->text);
            goto fail;
        }
    }
    if (o->workdir != NULL) {
        char dir[PATH_MAX];
        rc = absolute_path(o->workdir, dir);
        if (rc == 0)
            rc = sbx_set_workdir(p, dir);
        if (rc != 0) {
            refused(rc, "workdir", o->workdir);
            goto fail;
        }
    }
    if (o->syscall_allowlist && (rc = sbx_set_syscall_allowlist(p, 1)) < 0) {
        refused(rc, "syscall-allowlist", "");
        goto fail;
    }
    if (o->max_violations.set && (rc = sbx_set_violation_limit(p, o->max_violations.value)) < 0) {
        refused(rc, "max-violations", o->max_violations.text);
        goto fail;
    }
    if (o->violation_rate.set && (rc = sbx_set_violation_rate(p, o->violation_rate.value)) < 0) {
        refused(rc, "violation-rate", o->violation_rate.text);
        goto fail;
    }
    if (o->cgroup && (rc = sbx_use_cgroup(p, 1)) < 0) {
        refused(rc, "cgroup", "");
        goto fail;
    }
    for (size_t i = 0; i < o->n_cgroup_parent; i++) {
        char dir[PATH_MAX];
        rc = absolute_path(o->cgroup_parent[i], dir);
        if (rc == 0)
            rc = sbx_set_cgroup_parent(p, dir);
        if (rc != 0) {
            refused(rc, "cgroup-parent", o->cgroup_parent[i]);
            goto fail;
        }
    }
    /* Nothing outlives the run: the subreaper init where neither a pid
     * namespace nor a cgroup kills the tree. */
    if ((rc = sbx_set_subreaper(p, 1)) < 0) {
        refused(rc, "subreaper", "");
        goto fail;
    }
    if (o->isolation && (rc = sbx_set_isolation(p, o->isolation - 1)) < 0) {
        refused(rc, "isolation", sbx_isolation_name(o->isolation - 1));
        goto fail;
    }
    if (o->exec_mode && (rc = sbx_set_exec_mode(p, o->exec_mode - 1)) < 0) {
        refused(rc, "exec", sbx_exec_mode_name(o->exec_mode - 1));
        goto fail;
    }
    if (o->unshare && (rc = sbx_unshare(p, o->unshare)) < 0) {
        refused(rc, "unshare", o->unshare_text);
        goto fail;
    }
    if (o->best_effort != 0 && (rc = sbx_set_best_effort(p, o->best_effort)) < 0) {
        refused(rc, "best-effort", o->best_effort_text);
        goto fail;
    }
    *ret = p;
    return 0;

fail:
    sbx_policy_free(p);
    return CLI_EXIT_SETUP;
}
