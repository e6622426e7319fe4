/* fnv.h — FNV-1a 64, exactly as published (Fowler, Noll, Vo; offset basis
 * 14695981039346656037 = 0xcbf29ce484222325, prime 1099511628211 =
 * 0x100000001b3), so anyone can recompute what oj derives from it: the
 * fallback socket names of docs/protocol.md, the request digests of the reply
 * cache. The one implementation in oj. Not a cryptographic hash. */
#ifndef OJ_FNV_H
#define OJ_FNV_H
#include <stddef.h>
#include <stdint.h>

#define OJ_FNV1A64_BASIS 0xcbf29ce484222325ULL
#define OJ_FNV1A64_PRIME 0x100000001b3ULL

/* Continues hash `h` (start with OJ_FNV1A64_BASIS) over `len` bytes. */
uint64_t oj_fnv1a64_add(uint64_t h, const void *data, size_t len);
/* FNV-1a 64 of `len` bytes. */
uint64_t oj_fnv1a64(const void *data, size_t len);
/* FNV-1a 64 of a NUL-terminated string (without the NUL). */
uint64_t oj_fnv1a64_str(const char *s);
#endif
