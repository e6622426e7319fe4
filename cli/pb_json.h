/* pb_json.h — any protobuf-c message as JSON, field names and enum names taken
 * from the generated descriptors. This is what every `--json` prints, so the
 * JSON field names are exactly the field names in proto/oj.proto.
 * 64-bit integers at or above 2^53 are written as strings (JSON readers keep
 * numbers as doubles); bytes are written as text when valid UTF-8-ish
 * printable, else as an array of byte values. */
#ifndef OJ_PB_JSON_H
#define OJ_PB_JSON_H
#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

cJSON *oj_pb_to_json(const ProtobufCMessage *m);
#endif
