/* fnv.c — see fnv.h. */
#include "fnv.h"

uint64_t oj_fnv1a64_add(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= OJ_FNV1A64_PRIME;
    }
    return h;
}

uint64_t oj_fnv1a64(const void *data, size_t len)
{
    return oj_fnv1a64_add(OJ_FNV1A64_BASIS, data, len);
}

uint64_t oj_fnv1a64_str(const char *s)
{
    uint64_t h = OJ_FNV1A64_BASIS;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= OJ_FNV1A64_PRIME;
    }
    return h;
}
