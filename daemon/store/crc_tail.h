/* crc_tail.h — the checksum that WAL records and snapshots (format 2) end with:
 * the object's last member, `,"crc":"xxxxxxxx"}`, holds the CRC-32 (crc32.h) of
 * every byte before it, so one changed byte anywhere is caught. wal.c and
 * snapshot.c specify their formats; this is the part they share. */
#ifndef OJ_CRC_TAIL_H
#define OJ_CRC_TAIL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OJ_CRC_KEY ",\"crc\":\""
/* `,"crc":"` + 8 hex digits + `"}` */
#define OJ_CRC_TAIL_LEN (sizeof OJ_CRC_KEY - 1 + 8 + 2)

/* 8 lowercase hex digits at p into *v; false when they are not. */
bool oj_crc_hex8(const char *p, uint32_t *v);

/* Checks a JSON object (text[0..len), no newline) against its checksum tail.
 * Returns 1 when it has one and it matches, 0 when it has one that does not
 * match (*want: what the tail says, *got: what the bytes give), -1 when it has
 * no such tail (an older format). */
int oj_crc_tail_check(const char *text, size_t len, uint32_t *want, uint32_t *got);

/* Writes the tail for the object's first `len` bytes (everything but the
 * tail) and a newline into buf (at least OJ_CRC_TAIL_LEN + 2 bytes); returns
 * its length. crc: oj_crc32 of those bytes. */
size_t oj_crc_tail_format(char *buf, uint32_t crc);
#endif
