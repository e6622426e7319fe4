/* pb_utf8.h — every proto3 `string` field of a message, checked and made
 * valid UTF-8 (utf8.h), found by walking the message's descriptors, so it
 * holds for every message type, nested and repeated fields included, without
 * per-message code. The daemon packs every reply and every published frame
 * through oj_pb_pack_utf8; tests check replies with oj_pb_utf8_valid. */
#ifndef OJ_PB_UTF8_H
#define OJ_PB_UTF8_H
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when every string field of `m` (recursively) is valid UTF-8; else
 * false with the first bad field's name in *bad_field (may be NULL). */
bool oj_pb_utf8_valid(const ProtobufCMessage *m, const char **bad_field);

/* Replaces, in each string field of `m` that is not valid UTF-8, the bytes
 * that are not by U+FFFD. `m` must own its strings the way an unpacked
 * message does (protobuf-c's default allocator). Returns the number of
 * fields changed, or -1 when out of memory. */
int oj_pb_utf8_repair(ProtobufCMessage *m);

/* Packs `m` into a new buffer (free() it), *len its size. Strings that are
 * not valid UTF-8 go out repaired (the caller's message is not touched).
 * NULL when out of memory. */
uint8_t *oj_pb_pack_utf8(const ProtobufCMessage *m, size_t *len);
#endif
