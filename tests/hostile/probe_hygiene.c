/* probe_hygiene: report the process hygiene a confined child should have,
 * one key=value per line:
 *   session_leader=1   getsid(0) == getpid()
 *   core=SOFT/HARD     RLIMIT_CORE (numbers, or "inf")
 *   no_new_privs=N     prctl(PR_GET_NO_NEW_PRIVS), as NoNewPrivs in /proc/self/status
 *   umask=0NNN         the umask
 * Only system calls, no file access, so it works under any grants.
 * Exit 0, or 1 on error. */
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_limit(const char *prefix, rlim_t v, const char *suffix)
{
    if (v == RLIM_INFINITY)
        printf("%sinf%s", prefix, suffix);
    else
        printf("%s%llu%s", prefix, (unsigned long long)v, suffix);
}

int main(void)
{
    printf("session_leader=%d\n", getsid(0) == getpid());

    struct rlimit core;
    if (getrlimit(RLIMIT_CORE, &core) != 0) {
        perror("probe_hygiene: getrlimit");
        return 1;
    }
    print_limit("core=", core.rlim_cur, "");
    print_limit("/", core.rlim_max, "\n");

    int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (nnp < 0) {
        perror("probe_hygiene: prctl(PR_GET_NO_NEW_PRIVS)");
        return 1;
    }
    printf("no_new_privs=%d\n", nnp);

    mode_t mask = umask(0);
    printf("umask=%04o\n", (unsigned)mask);
    return 0;
}
