/* crc32.h — CRC-32 as used by zlib, gzip and PNG (IEEE 802.3 polynomial
 * 0xEDB88320 reflected, initial value and final xor 0xFFFFFFFF), so any tool
 * can check oj's WAL records and snapshots (Python: zlib.crc32). */
#ifndef OJ_CRC32_H
#define OJ_CRC32_H
#include <stddef.h>
#include <stdint.h>

uint32_t oj_crc32(const void *data, size_t len);
/* Continues a CRC over more bytes, like zlib's crc32(crc, buf, len):
 * oj_crc32_update(oj_crc32(a), b) == oj_crc32(a followed by b). */
uint32_t oj_crc32_update(uint32_t crc, const void *data, size_t len);
#endif
