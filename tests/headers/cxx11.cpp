// test_headers__cxx11_pedantic: the umbrella header compiles as C++11
// (-std=c++11 -pedantic -Werror -Wall -Wextra), its functions have C linkage
// (the program links against the library), and it runs.
#include <agentsbx/agentsbx.h>

#include <cstdio>
#include <cstring>

int main()
{
    sbx_io io = SBX_IO_INIT;
    sbx_policy *p = nullptr;
    if (io.size != sizeof(io))
        return 1;
    if (std::strcmp(sbx_version(), SBX_VERSION_STRING) != 0)
        return 1;
    if (sbx_policy_new(&p) != 0)
        return 1;
    int rc = sbx_limit_memory(p, 64ull << 20);
    sbx_policy_free(p);
    if (rc != 0 || sbx_set_best_effort(nullptr, SBX_LAYER_LANDLOCK) != -22)
        return 1;
    std::printf("c++11: agentsbx %s, last error: %s\n", sbx_version(), sbx_last_error());
    return 0;
}
