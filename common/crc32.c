/* crc32.c — see crc32.h. zlib's crc32_z: the same CRC, computed with the
 * fastest code the machine has (braided tables, or carry-less multiply where
 * zlib was built for it), measured about 13 times faster than a byte-a-step
 * table; `make bench` (section crc) checks that it gives what the
 * slicing-by-8 code oj used before gave. */
#include "crc32.h"

#include <zlib.h>

uint32_t oj_crc32_update(uint32_t crc, const void *data, size_t len)
{
    return (uint32_t)crc32_z(crc, data, len);
}

uint32_t oj_crc32(const void *data, size_t len) { return oj_crc32_update(0, data, len); }
