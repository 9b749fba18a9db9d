/* probe_env: print this process's environment, one NAME=value per line,
 * sorted, so that a test can compare it exactly. Used to prove that the
 * host's variables do not leak into a confined child. Exit 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    qsort(environ, n, sizeof(environ[0]), cmp_str);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", environ[i]);
    return 0;
}
