/* pb_utf8.c — see pb_utf8.h. */
#include "pb_utf8.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Calls fn on the address of every string field of m, depth first; stops
 * at the first non-zero return and passes it up. */
typedef int (*string_fn)(char **s, const ProtobufCFieldDescriptor *f, void *arg);

static int walk(ProtobufCMessage *m, string_fn fn, void *arg)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        char *base = (char *)m;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, base + f->quantifier_offset, sizeof which);
            if (which != f->id)
                continue;
        }
        size_t n = 1;
        void **items = (void **)(base + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            memcpy(&n, base + f->quantifier_offset, sizeof n);
            memcpy(&items, base + f->offset, sizeof items);
        }
        for (size_t k = 0; k < n; k++) {
            if (items[k] == NULL)
                continue;
            int rc = f->type == PROTOBUF_C_TYPE_STRING ? fn((char **)&items[k], f, arg)
                                                       : walk(items[k], fn, arg);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static int check_one(char **s, const ProtobufCFieldDescriptor *f, void *arg)
{
    if (oj_utf8_valid(*s, strlen(*s)))
        return 0;
    *(const char **)arg = f->name;
    return 1;
}

bool oj_pb_utf8_valid(const ProtobufCMessage *m, const char **bad_field)
{
    const char *bad = NULL;
    bool ok = walk((ProtobufCMessage *)m, check_one, &bad) == 0; /* check_one never writes */
    if (bad_field)
        *bad_field = bad;
    return ok;
}

static int repair_one(char **s, const ProtobufCFieldDescriptor *f, void *arg)
{
    (void)f;
    size_t n = strlen(*s);
    if (oj_utf8_valid(*s, n))
        return 0;
    size_t need = oj_utf8_fixed_len(*s, n) + 1;
    char *fixed = malloc(need);
    if (fixed == NULL)
        return -1;
    oj_utf8_copy(fixed, need, *s, n);
    free(*s);
    *s = fixed;
    (*(int *)arg)++;
    return 0;
}

int oj_pb_utf8_repair(ProtobufCMessage *m)
{
    int changed = 0;
    return walk(m, repair_one, &changed) != 0 ? -1 : changed;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        protobuf_c_message_pack(m, buf);
    return buf;
}

uint8_t *oj_pb_pack_utf8(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *buf = pack(m, len);
    if (buf == NULL || oj_pb_utf8_valid(m, NULL))
        return buf;
    /* Rare: repair a copy the walk may free strings of, then pack that. */
    ProtobufCMessage *copy = protobuf_c_message_unpack(m->descriptor, NULL, *len, buf);
    free(buf);
    if (copy == NULL || oj_pb_utf8_repair(copy) < 0) {
        if (copy)
            protobuf_c_message_free_unpacked(copy, NULL);
        return NULL;
    }
    buf = pack(copy, len);
    protobuf_c_message_free_unpacked(copy, NULL);
    return buf;
}
