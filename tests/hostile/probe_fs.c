/* probe_fs: try ONE file system action and report the outcome, so that a test
 * can run it confined (where the Landlock layer must deny it) and unconfined
 * with posix_spawn (where it must succeed: the control that proves the test
 * can fail). Used by tests/live/test_landlock.c.
 *
 *   probe_fs read PATH          open(O_RDONLY) and read a byte (a file), or list it (a directory)
 *   probe_fs write PATH         open an existing file O_WRONLY (no O_TRUNC) and write "x"
 *   probe_fs create PATH        open(O_WRONLY|O_CREAT|O_EXCL) a new file and write "x"
 *   probe_fs mkdir PATH         mkdir(PATH, 0700)
 *   probe_fs unlink PATH        unlink(PATH)
 *   probe_fs rename FROM TO     rename(FROM, TO)
 *   probe_fs link FROM TO       link(FROM, TO)
 *   probe_fs truncate PATH      truncate(PATH, 0)
 *   probe_fs symlink TARGET PATH   symlink(TARGET, PATH)
 *   probe_fs mmap PATH          open(O_RDONLY), mmap(PROT_READ) and read the first byte
 *   probe_fs procfd PATH        open(O_PATH), then reopen /proc/self/fd/N O_RDONLY and read
 *   probe_fs exec PATH [ARG..]  fork; the child execv(PATH, [PATH, ARG..]) with its stdout on
 *                               stderr; the outcome is that of execve (reported through a
 *                               close-on-exec pipe), not the program's exit status, which is
 *                               printed as "exit=N" after "ok"
 *   probe_fs tmpdir             print "TMPDIR=<value>", then create, write, read back and list a
 *                               file in it, and leave it there (for the removal check)
 *   probe_fs ioctl-tty TARGET   tcgetattr(3) and TIOCGWINSZ on a terminal: TARGET is "fd:N"
 *                               (an inherited descriptor) or a path opened O_RDWR|O_NOCTTY
 *   probe_fs ioctl-rnd PATH     open PATH O_RDONLY and ioctl(RNDGETENTCNT): a device ioctl
 *                               (Landlock IOCTL_DEV, ABI 5)
 *
 * Output, one line on stdout: "ok" (and any detail after it), or
 * "denied ENAME" with the errno name of the failing call. Exit code: 0 when
 * the action succeeded, 1 when it failed (any errno: the test asserts the
 * exact name), 2 on a usage error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int denied(const char *what, int err)
{
    const char *name = strerrorname_np(err);
    printf("denied %s\n", name ? name : "E?");
    fprintf(stderr, "probe_fs: %s: %s\n", what, strerror(err));
    return 1;
}

static int ok(void)
{
    printf("ok\n");
    return 0;
}

static int do_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return denied("open", errno);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return denied("fstat", errno);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = fdopendir(fd);
        if (!d)
            return denied("fdopendir", errno);
        errno = 0;
        while (readdir(d))
            ;
        if (errno)
            return denied("readdir", errno);
        closedir(d);
        return ok();
    }
    char c;
    if (read(fd, &c, 1) < 0)
        return denied("read", errno);
    close(fd);
    return ok();
}

static int do_write(const char *path, int flags)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0644);
    if (fd < 0)
        return denied("open", errno);
    if (write(fd, "x", 1) != 1)
        return denied("write", errno);
    close(fd);
    return ok();
}

static int do_exec(char **argv)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return denied("pipe2", errno);
    pid_t pid = fork();
    if (pid < 0)
        return denied("fork", errno);
    if (pid == 0) {
        dup2(2, 1); /* the program's output must not mix with the verdict */
        execv(argv[0], argv);
        int err = errno;
        if (write(pfd[1], &err, sizeof(err)) < 0)
            _exit(126);
        _exit(127);
    }
    close(pfd[1]);
    int err = 0;
    ssize_t n = read(pfd[0], &err, sizeof(err));
    close(pfd[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return denied("waitpid", errno);
    if (n == (ssize_t)sizeof(err))
        return denied("execv", err);
    printf("ok exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}

static int do_tmpdir(void)
{
    const char *dir = getenv("TMPDIR");
    printf("TMPDIR=%s\n", dir ? dir : "");
    fflush(stdout);
    if (!dir)
        return denied("getenv(TMPDIR)", ENOENT);
    char path[4096];
    snprintf(path, sizeof(path), "%s/probe-file", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return denied("open(TMPDIR/probe-file)", errno);
    char buf[8] = {0};
    if (write(fd, "hello", 5) != 5)
        return denied("write", errno);
    if (pread(fd, buf, 5, 0) != 5 || strcmp(buf, "hello") != 0)
        return denied("pread", errno ? errno : EIO);
    close(fd);
    snprintf(path, sizeof(path), "%s/probe-dir", dir);
    if (mkdir(path, 0700) != 0)
        return denied("mkdir(TMPDIR/probe-dir)", errno);
    snprintf(path, sizeof(path), "%s/probe-dir/nested", dir);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        return denied("open(TMPDIR/probe-dir/nested)", errno);
    close(fd);
    return do_read(dir);
}

static int do_ioctl_tty(const char *target)
{
    int fd;
    if (strncmp(target, "fd:", 3) == 0)
        fd = atoi(target + 3);
    else if ((fd = open(target, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return denied("open", errno);
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return denied("tcgetattr", errno);
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0)
        return denied("ioctl(TIOCGWINSZ)", errno);
    return ok();
}

static int do_ioctl_rnd(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return denied("open", errno);
    int count;
    if (ioctl(fd, RNDGETENTCNT, &count) != 0)
        return denied("ioctl(RNDGETENTCNT)", errno);
    close(fd);
    return ok();
}

static int do_mmap(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return denied("open", errno);
    void *m = mmap(NULL, 1, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return denied("mmap", errno);
    volatile char c = *(volatile char *)m;
    (void)c;
    munmap(m, 1);
    close(fd);
    return ok();
}

static int do_procfd(const char *path)
{
    int pfd = open(path, O_PATH | O_CLOEXEC);
    if (pfd < 0)
        return denied("open(O_PATH)", errno);
    char via[64];
    snprintf(via, sizeof(via), "/proc/self/fd/%d", pfd);
    int fd = open(via, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return denied("open(/proc/self/fd)", errno);
    char c;
    if (read(fd, &c, 1) < 0)
        return denied("read", errno);
    close(fd);
    close(pfd);
    return ok();
}

int main(int argc, char **argv)
{
    if (argc < 2)
        goto usage;
    const char *a = argv[1];
    if (strcmp(a, "tmpdir") == 0 && argc == 2)
        return do_tmpdir();
    if (argc < 3)
        goto usage;
    if (strcmp(a, "read") == 0 && argc == 3)
        return do_read(argv[2]);
    if (strcmp(a, "write") == 0 && argc == 3)
        return do_write(argv[2], 0);
    if (strcmp(a, "create") == 0 && argc == 3)
        return do_write(argv[2], O_CREAT | O_EXCL);
    if (strcmp(a, "mkdir") == 0 && argc == 3)
        return mkdir(argv[2], 0700) == 0 ? ok() : denied("mkdir", errno);
    if (strcmp(a, "unlink") == 0 && argc == 3)
        return unlink(argv[2]) == 0 ? ok() : denied("unlink", errno);
    if (strcmp(a, "truncate") == 0 && argc == 3)
        return truncate(argv[2], 0) == 0 ? ok() : denied("truncate", errno);
    if (strcmp(a, "rename") == 0 && argc == 4)
        return rename(argv[2], argv[3]) == 0 ? ok() : denied("rename", errno);
    if (strcmp(a, "link") == 0 && argc == 4)
        return link(argv[2], argv[3]) == 0 ? ok() : denied("link", errno);
    if (strcmp(a, "symlink") == 0 && argc == 4)
        return symlink(argv[2], argv[3]) == 0 ? ok() : denied("symlink", errno);
    if (strcmp(a, "mmap") == 0 && argc == 3)
        return do_mmap(argv[2]);
    if (strcmp(a, "procfd") == 0 && argc == 3)
        return do_procfd(argv[2]);
    if (strcmp(a, "exec") == 0)
        return do_exec(argv + 2);
    if (strcmp(a, "ioctl-tty") == 0 && argc == 3)
        return do_ioctl_tty(argv[2]);
    if (strcmp(a, "ioctl-rnd") == 0 && argc == 3)
        return do_ioctl_rnd(argv[2]);
usage:
    fprintf(stderr, "usage: probe_fs read|write|create|mkdir|unlink|truncate PATH\n"
                    "       probe_fs mmap|procfd PATH\n"
                    "       probe_fs rename|link|symlink FROM TO\n"
                    "       probe_fs exec PATH [ARG...]\n"
                    "       probe_fs tmpdir\n"
                    "       probe_fs ioctl-tty fd:N|PATH\n"
                    "       probe_fs ioctl-rnd PATH\n");
    return 2;
}
