/* pb_json.c — see pb_json.h. */
#include "pb_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static cJSON *u64_json(uint64_t v)
{
    if (v < (1ULL << 53))
        return cJSON_CreateNumber((double)v);
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateString(buf);
}

static cJSON *i64_json(int64_t v)
{
    if (v < (1LL << 53) && v > -(1LL << 53))
        return cJSON_CreateNumber((double)v);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return cJSON_CreateString(buf);
}

static bool printable(const ProtobufCBinaryData *b)
{
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = b->data[i];
        if (c == 0 || (c < 0x20 && c != '\n' && c != '\t' && c != '\r'))
            return false;
    }
    return true;
}

static cJSON *bytes_json(const ProtobufCBinaryData *b)
{
    char *s = malloc(b->len + 1);
    if (s == NULL)
        return cJSON_CreateNull();
    if (b->len)
        memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

static cJSON *scalar_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return cJSON_CreateNumber(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return cJSON_CreateNumber(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return i64_json(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return u64_json(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return cJSON_CreateNumber(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return cJSON_CreateNumber(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return cJSON_CreateBool(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
        return v ? cJSON_CreateString(v->name) : cJSON_CreateNumber(*(const int *)p);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return cJSON_CreateString(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_json((const ProtobufCBinaryData *)p);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub ? oj_pb_to_json(sub) : cJSON_CreateNull();
    }
    }
    return cJSON_CreateNull();
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

cJSON *oj_pb_to_json(const ProtobufCMessage *m)
{
    cJSON *obj = cJSON_CreateObject();
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *arr = *(char *const *)(base + f->offset);
            cJSON *ja = cJSON_AddArrayToObject(obj, f->name);
            for (size_t k = 0; k < n; k++)
                cJSON_AddItemToArray(ja, scalar_json(f, arr + k * elem_size(f)));
            continue;
        }
        if (f->type == PROTOBUF_C_TYPE_BYTES && !printable((const ProtobufCBinaryData *)(base + f->offset))) {
            /* Rare: binary payloads. Keep them lossless without a base64 dependency. */
            const ProtobufCBinaryData *b = (const ProtobufCBinaryData *)(base + f->offset);
            cJSON *ja = cJSON_AddArrayToObject(obj, f->name);
            for (size_t k = 0; k < b->len; k++)
                cJSON_AddItemToArray(ja, cJSON_CreateNumber(b->data[k]));
            continue;
        }
        cJSON_AddItemToObject(obj, f->name, scalar_json(f, base + f->offset));
    }
    return obj;
}
