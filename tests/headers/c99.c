/* test_headers__c99_pedantic: the umbrella header, and each public header on
 * its own, compile as strict C99 (-std=c99 -pedantic -Werror -Wall -Wextra),
 * and the program links against the library and runs. */
#include <agentsbx/agentsbx.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    sbx_io io = SBX_IO_INIT;
    sbx_violation v;
    uint32_t layers = SBX_LAYER_ALL;
    uint64_t access = SBX_FS_READ | SBX_FS_WRITE | SBX_FS_EXEC;

    memset(&v, 0, sizeof(v));
    v.size = sizeof(v);
    if (io.size != sizeof(io) || layers == 0 || access == 0 || v.size == 0)
        return 1;
    if (strcmp(sbx_version(), SBX_VERSION_STRING) != 0) {
        fprintf(stderr, "library %s, header %s\n", sbx_version(), SBX_VERSION_STRING);
        return 1;
    }
    printf("c99: agentsbx %s\n", sbx_version());
    return 0;
}
