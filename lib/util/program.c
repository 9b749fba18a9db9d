/* The program a spawn runs, and what the kernel will execute to start it: a
 * "#!" script's interpreter (and, for "#!/usr/bin/env NAME", NAME as found in
 * PATH), an ELF program's dynamic loader, transitively. Found once per spawn
 * (sbx_spawn) or grant (sbx_allow_tool), with one PATH rule, and read by each
 * layer that needs it: Landlock grants each file execute, the mount view binds
 * each one that its view does not show executable. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Read the interpreter a program needs: the ELF PT_INTERP, or the #! line.
 * Returns 1 and fills buf, 0 if there is none, -errno on error. The second
 * word of "#!/usr/bin/env NAME" is returned in arg (empty otherwise). */
static int read_interpreter(int fd, char *buf, size_t size, char *arg, size_t arg_size)
{
    unsigned char head[4096];
    ssize_t n = pread(fd, head, sizeof(head), 0);
    if (n < 0)
        return -errno;
    arg[0] = '\0';
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
        head[n < (ssize_t)sizeof(head) ? n : n - 1] = '\0';
        char *p = (char *)head + 2, *end;
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strcspn(p, " \t\n");
        if (end == p || (size_t)(end - p) >= size)
            return -ENOEXEC;
        memcpy(buf, p, (size_t)(end - p));
        buf[end - p] = '\0';
        char *a = end + strspn(end, " \t");
        size_t al = strcspn(a, " \t\n");
        if (al && al < arg_size && a[0] != '-') {
            memcpy(arg, a, al);
            arg[al] = '\0';
        }
        return 1;
    }
    if (n < (ssize_t)sizeof(Elf64_Ehdr) || memcmp(head, ELFMAG, SELFMAG) != 0 ||
        head[EI_CLASS] != ELFCLASS64)
        return 0;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)head;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        /* From the first read when it holds the header (it mostly does: the
         * program headers follow the ELF header), else read. */
        Elf64_Phdr ph;
        uint64_t at = eh->e_phoff + (uint64_t)i * eh->e_phentsize;
        if (at <= (uint64_t)n && sizeof(ph) <= (uint64_t)n - at)
            memcpy(&ph, head + at, sizeof(ph));
        else if (pread(fd, &ph, sizeof(ph), (off_t)at) != (ssize_t)sizeof(ph))
            return -ENOEXEC;
        if (ph.p_type != PT_INTERP)
            continue;
        if (ph.p_filesz == 0 || ph.p_filesz > size)
            return -ENOEXEC;
        if (ph.p_offset <= (uint64_t)n && ph.p_filesz <= (uint64_t)n - ph.p_offset)
            memcpy(buf, head + ph.p_offset, ph.p_filesz);
        else if (pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
            return -ENOEXEC;
        buf[ph.p_filesz - 1] = '\0';
        return 1;
    }
    return 0;
}

int sbx__program_interpreter(int fd, char *buf, size_t size)
{
    char arg[NAME_MAX + 1];
    return read_interpreter(fd, buf, size, arg, sizeof(arg));
}

int sbx__program_find(const char *name, const char *path_env, char *buf, size_t size)
{
    size_t nl = strlen(name);
    if (strchr(name, '/')) {
        if (nl >= size)
            return -ENAMETOOLONG;
        memcpy(buf, name, nl + 1);
        return 0;
    }
    int err = -ENOENT;
    for (const char *dir = path_env; dir && *dir;) {
        const char *end = strchrnul(dir, ':');
        size_t dl = (size_t)(end - dir);
        if (dl == 0) /* an empty entry means the working directory, as for execvp */
            dir = ".", dl = 1;
        if (dl + 1 + nl < size) {
            memcpy(buf, dir, dl);
            buf[dl] = '/';
            memcpy(buf + dl + 1, name, nl + 1);
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(buf, X_OK) == 0)
                    return 0;
                err = -EACCES; /* as execvp: remembered, the search goes on */
            }
        }
        dir = *end ? end + 1 : end;
    }
    return err;
}

/* Append a path to the chain; false when it is full (prog->err says why). */
static bool push(struct sbx__program *prog, const char *path)
{
    size_t len = strlen(path) + 1;
    if (prog->n == SBX__PROGRAM_MAX || prog->used + len > sizeof(prog->buf)) {
        prog->err = prog->n == SBX__PROGRAM_MAX ? -ELOOP : -ENAMETOOLONG;
        snprintf(prog->failed, sizeof(prog->failed), "%s", path);
        return false;
    }
    memcpy(prog->buf + prog->used, path, len);
    prog->path[prog->n++] = prog->buf + prog->used;
    prog->used += len;
    return true;
}

/* The file at path and what starts it, `levels` deep at most (the kernel
 * follows 4 levels of interpreters; a fifth is ELOOP there, and here). */
static void walk(struct sbx__program *prog, const char *path, const char *path_env, int levels)
{
    char interp[PATH_MAX], arg[NAME_MAX + 1];
    if (levels == 0) {
        prog->err = -ELOOP;
        snprintf(prog->failed, sizeof(prog->failed), "%s", path);
        return;
    }
    if (!push(prog, path))
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != EACCES) { /* missing: execve would fail the same way */
            prog->err = -errno;
            snprintf(prog->failed, sizeof(prog->failed), "%s", path);
        } /* execute-only: what starts it cannot be read (nor granted) */
        return;
    }
    int r = read_interpreter(fd, interp, sizeof(interp), arg, sizeof(arg));
    close(fd);
    if (r <= 0) /* none, or a malformed one: execve reports that */
        return;
    /* "#!/usr/bin/env NAME": env will execute NAME, found in the child's PATH. */
    const char *base = strrchr(interp, '/');
    char target[PATH_MAX];
    if (arg[0] && base && strcmp(base + 1, "env") == 0 &&
        sbx__program_find(arg, path_env, target, sizeof(target)) == 0 && target[0] == '/') {
        walk(prog, target, path_env, levels - 1);
        if (prog->err)
            return;
    }
    walk(prog, interp, path_env, levels - 1);
}

int sbx__program_resolve(const char *name, const char *path_env, struct sbx__program *prog)
{
    prog->n = 0;
    prog->used = 0;
    prog->err = 0;
    prog->failed[0] = '\0';
    char path[PATH_MAX];
    int r = sbx__program_find(name, path_env, path, sizeof(path));
    if (r < 0)
        return r;
    walk(prog, path, path_env, 6); /* the program, then scripts' interpreters (the kernel
                                    * follows 4 levels) and a loader */
    if (prog->n == 0)
        return prog->err; /* the program's own path did not fit */
    return 0;
}

/* ---- tools and their helpers -------------------------------------------------------- */

/* What a tool is known to execute besides itself (docs/landlock.md, "Tools and
 * their helpers"): programs found with the child's PATH, and directories of
 * helpers granted read and execute. Members that are not installed are
 * skipped: the tool would fail there the same way unconfined. */
const struct sbx__tool_bundle sbx__tool_bundles[] = {
    /* cc1, cc1plus, collect2, lto-wrapper live in gcc's libexec directory
     * (gcc -print-prog-name=cc1); as and ld are binutils'. */
    {"gcc g++ cc c++ cpp", "as ld", "/usr/lib/gcc /usr/libexec/gcc"},
    {"clang clang++", "as ld", ""},
    /* git runs its commands from git --exec-path, and hooks and aliases with sh. */
    {"git", "sh", "/usr/lib/git-core /usr/libexec/git-core"},
    {"make gmake", "sh", ""},
    {"npm npx", "sh node", ""},
    /* CMake probes the system with uname, runs its rules with sh, and archives
     * static libraries with ar and ranlib. */
    {"cmake", "sh uname ar ranlib", ""},
};
const size_t sbx__tool_bundles_len = sizeof(sbx__tool_bundles) / sizeof(sbx__tool_bundles[0]);

/* Whether the word list (blank-separated) holds word[0..len). */
static bool in_words(const char *words, const char *word, size_t len)
{
    for (const char *w = words; *w;) {
        w += strspn(w, " ");
        size_t wl = strcspn(w, " ");
        if (wl && wl == len && memcmp(w, word, len) == 0)
            return true;
        w += wl;
    }
    return false;
}

const struct sbx__tool_bundle *sbx__tool_bundle_of(const char *tool)
{
    const char *name = strrchr(tool, '/');
    name = name ? name + 1 : tool;
    const char *triplet = strstr(name, "-linux-gnu-"); /* x86_64-linux-gnu-gcc-12 */
    if (triplet)
        name = triplet + strlen("-linux-gnu-");
    size_t len = strlen(name);
    /* gcc-12, python3.11: without the version */
    size_t cut = len;
    while (cut > 0 && ((name[cut - 1] >= '0' && name[cut - 1] <= '9') || name[cut - 1] == '.'))
        cut--;
    if (cut > 0 && cut < len && name[cut - 1] == '-')
        len = cut - 1;
    for (size_t i = 0; i < sbx__tool_bundles_len; i++)
        if (in_words(sbx__tool_bundles[i].tools, name, len))
            return &sbx__tool_bundles[i];
    return NULL;
}
