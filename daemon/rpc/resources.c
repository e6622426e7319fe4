/* resources.c — the daemon's own resource figures for `oj status --resources`. */
#include <stdio.h>
#include <unistd.h>

#include "daemon.h"
#include "resources.h"

uint64_t oj_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    if (f == NULL)
        return 0;
    unsigned long long size, resident;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}
