/* 06-violations: what a child tried and was refused.
 *
 * A Python child calls ptrace(2) and unshare(2), which the seccomp filter
 * denies, and opens a file outside its grants: the default isolation leaves
 * it out of the child's view of the file system (ENOENT), and where the host
 * allows no namespaces Landlock refuses it (EACCES). Each denied system call
 * is reported to the host (name, errno, arguments) and read back with
 * sbx_result_violation(); a refused open is not a system-call violation: the
 * child just gets the error, as its output shows. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

static const char code[] =
    "import ctypes, os, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "for name, args in (('ptrace', (0, 0, 0, 0)), ('unshare', (0x10000000,))):\n"
    "    rc = getattr(libc, name)(*args)\n"
    "    print(name, rc, os.strerror(ctypes.get_errno()))\n"
    "try:\n"
    "    open(sys.argv[1], 'rb')\n"
    "except OSError as e:\n"
    "    print('open', e.strerror)\n";

int main(void)
{
    char self[4096] = ""; /* a file that exists and is not granted: this program */
    const char *argv[] = {"/usr/bin/python3", "-c", code, self, NULL};
    sbx_policy *p = NULL;
    sbx_result *r = NULL;
    int rc = 1, saw_ptrace = 0;

    if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0) {
        perror("readlink");
        return 1;
    }
    if (sbx_policy_new(&p) < 0 || sbx_run(p, argv, NULL, 0, &r) < 0) {
        fprintf(stderr, "%s\n", sbx_last_error());
        goto out;
    }
    printf("child said:\n%s", sbx_result_stdout(r, NULL));
    uint64_t count = sbx_result_violation_count(r);
    printf("%llu denied system calls:\n", (unsigned long long)count);
    for (size_t i = 0; i < count && i < SBX_VIOLATIONS_KEPT; i++) {
        sbx_violation v = {.size = sizeof(v)};
        if (sbx_result_violation(r, i, &v) < 0) {
            fprintf(stderr, "sbx_result_violation: %s\n", sbx_last_error());
            goto out;
        }
        printf("  %s (nr %d) -> %s, arg0 %#llx, %.3f ms after spawn\n", v.syscall, v.nr,
               sbx_errname(v.error), (unsigned long long)v.args[0], v.time_ns / 1e6);
        saw_ptrace |= strcmp(v.syscall, "ptrace") == 0;
    }
    const char *said = sbx_result_stdout(r, NULL);
    rc = sbx_result_exit_code(r) == 0 && count >= 2 && saw_ptrace &&
                 (strstr(said, "open No such file or directory") ||
                  strstr(said, "open Permission denied"))
             ? 0
             : 1;
out:
    sbx_result_free(r);
    sbx_policy_free(p);
    return rc;
}
